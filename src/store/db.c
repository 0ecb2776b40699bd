/* The store's lowest layer: every SQL statement the store runs (prepared once per connection
 * and cached), binding and stepping them, nested transactions (BEGIN IMMEDIATE, then
 * savepoints), SQLite's errors as the store's (busy or locked -> ERR_BUSY, the rest ERR_IO)
 * and the bounded busy handler. It calls nothing above it: the rest of store/ is built on it.
 * A rollback only counts itself (st->rollbacks); whoever caches what a transaction wrote
 * checks that count (write_cache.c). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/array.h"
#include "base/fmt.h"
#include "store/store_int.h"

static int busy_wait(void *ctx, int attempt);

/* What a change to a record (?1) must act on, each rule once: a live (open or answered) query,
 * a verified value, a valid signature. */
#define LIVE_QUERY_ON_RECORD "SELECT 1 FROM query WHERE record_id = ?1 AND status < 2"
#define SDV_ON_RECORD "SELECT 1 FROM sdv WHERE record_id = ?1"
/* Audit actions that record an access, not a change of what the study holds: what an export's
 * content time looks past (with restore and migrate), and what leaves the export cache valid. */
#define AUDIT_ACCESS_ACTIONS                                                                       \
    "'login', 'login_failed', 'lockout', 'logout', 'denied', 'export', 'backup', 'api_token', "    \
    "'password_change'"
/* Audit actions that change who may sign in and what they may do, nothing a record's export
 * derives (the reader's identifier permission is in the export cache's key): with the accesses,
 * what leaves the export cache valid. Adding a site is not one: the SDTM export's SITEID of a
 * record without a site depends on whether the study has sites. */
#define AUDIT_ACCOUNT_ACTIONS                                                                      \
    "'user_add', 'user_role', 'user_name', 'user_disable', 'unlock_user', 'user_sites', "          \
    "'password_policy'"
#define VALID_SIGNATURE_ON_RECORD                                                                  \
    "SELECT 1 FROM signature WHERE record_id = ?1 AND invalidated_at IS NULL"

static const char *const stmt_sql[SQ__COUNT] = {
    [SQ_PROTO_GET] = "SELECT content FROM protocol_file WHERE name = ?1",
    [SQ_PROTO_PUT] = "INSERT INTO protocol_file(name, content, sha256) VALUES (?1, ?2, ?3)",
    [SQ_AUDIT_HEAD_GET] = "SELECT last_id, hash FROM audit_head WHERE one = 1",
    [SQ_AUDIT_HEAD_SET] = "INSERT INTO audit_head(one, last_id, hash) VALUES (1, ?1, ?2) "
                          "ON CONFLICT(one) DO UPDATE SET last_id = excluded.last_id, "
                          "hash = excluded.hash",
    [SQ_AUDIT_INSERT] = "INSERT INTO audit(id, ts, \"user\", action, record, event, instance, "
                        "field, old_value, new_value, reason, source, source_sha256, "
                        "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                        "?11, ?12, ?13, ?14, ?15)",
    [SQ_AUDIT_ALL] = "SELECT id, ts, \"user\", action, record, event, instance, field, old_value, "
                     "new_value, reason, source, source_sha256, prev_hash, hash FROM audit "
                     "ORDER BY id",
    /* the export cache's view of what changed since it was written (report/dataset_cache.c) */
    [SQ_AUDIT_CHANGES] = "SELECT id, CASE WHEN action IN (" AUDIT_ACCESS_ACTIONS
                         ", " AUDIT_ACCOUNT_ACTIONS ") THEN 1 ELSE 0 END, record FROM audit "
                         "WHERE id > ?1 ORDER BY id",
    [SQ_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE id = ?1",
    /* the rows about records the reader sees (sites.c): a limited reader's or one site's */
    [SQ_AUDIT_SCOPED] =
        "SELECT id, ts, \"user\", action, record, event, instance, field, old_value, "
        "new_value, reason, source, source_sha256, prev_hash, hash FROM audit a "
        "WHERE a.record IS NOT NULL AND EXISTS (SELECT 1 FROM record r WHERE "
        "(r.screening_no = a.record OR r.study_id = a.record) AND "
        "in_scope(r.site_id)) ORDER BY id",
    [SQ_AUDIT_HISTORY] = "SELECT id, ts, \"user\", action, record, event, instance, field, "
                         "old_value, new_value, reason, source, source_sha256, prev_hash, hash "
                         "FROM audit WHERE record IN (?1, ?2) AND (field = ?3 OR "
                         "substr(field, 1, length(?3) + 3) = ?3 || '___') AND "
                         "substr(action, 1, 6) <> 'query_' AND substr(action, 1, 4) <> 'sdv_' "
                         "ORDER BY id",
    [SQ_AUDIT_LAST] = "SELECT ts FROM audit ORDER BY id DESC LIMIT 1",
    [SQ_USER_GET] =
        "SELECT id, name, role, pwhash, is_disabled, failed_logins, is_locked_out, "
        "created_at, coalesce(password_set_at, created_at) FROM \"user\" WHERE name = ?1",
    [SQ_USER_LIST] = "SELECT id, name, role, pwhash, is_disabled, failed_logins, "
                     "is_locked_out, created_at FROM \"user\" ORDER BY id",
    /* the audit rows about users are those with no record and field 'user' (audit_record_field
     * index): sign-ins, failures, lockouts, user changes */
    [SQ_USER_ACCESS] =
        "SELECT u.id, u.name, u.role, NULL, u.is_disabled, u.failed_logins, u.is_locked_out, "
        "u.created_at, max(CASE WHEN a.action = 'login' THEN a.ts END), "
        "count(CASE WHEN a.action = 'login' THEN 1 END), "
        "max(CASE WHEN a.action = 'login_failed' THEN a.ts END), "
        "count(CASE WHEN a.action = 'login_failed' THEN 1 END) "
        "FROM \"user\" u LEFT JOIN audit a ON a.record IS NULL AND a.field = 'user' AND a.\"user\" "
        "= "
        "u.name "
        "AND a.action IN ('login', 'login_failed') GROUP BY u.id ORDER BY u.id",
    [SQ_USER_CLI_RECENT] = "SELECT 1 FROM audit WHERE record IS NULL AND field = 'user' "
                           "AND action = 'login' AND source = 'cli' AND \"user\" = ?1 AND ts >= ?2 "
                           "LIMIT 1",
    [SQ_USER_INSERT] = "INSERT INTO \"user\"(name, role, pwhash, created_at, password_set_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?4)",
    [SQ_USER_SET_DISABLED] = "UPDATE \"user\" SET is_disabled = ?2 WHERE name = ?1",
    [SQ_USER_SET_ROLE] = "UPDATE \"user\" SET role = ?2 WHERE name = ?1",
    [SQ_USER_SET_FAILED] = "UPDATE \"user\" SET failed_logins = ?2, is_locked_out = ?3 "
                           "WHERE name = ?1",
    [SQ_USER_TRY_LOGIN] = "UPDATE \"user\" SET failed_logins = failed_logins + 1 WHERE name = ?1 "
                          "AND is_disabled = 0 AND is_locked_out = 0 AND failed_logins < ?2 "
                          "RETURNING failed_logins",
    [SQ_USER_LOCK_IF_SPENT] = "UPDATE \"user\" SET is_locked_out = 1 WHERE name = ?1 AND "
                              "is_locked_out = 0 AND failed_logins >= ?2 RETURNING 1",
    [SQ_USER_SET_PW] = "UPDATE \"user\" SET pwhash = ?2, password_set_at = ?3 WHERE name = ?1",
    [SQ_PWHIST_INSERT] = "INSERT INTO password_history(user_id, pwhash, replaced_at) "
                         "VALUES (?1, ?2, ?3)",
    [SQ_PWHIST_RECENT] = "SELECT pwhash FROM password_history WHERE user_id = ?1 "
                         "ORDER BY replaced_at DESC, rowid DESC LIMIT ?2",
    [SQ_USER_ACTIVE_ADMINS] = "SELECT count(*) FROM \"user\" WHERE role = 'admin' AND "
                              "is_disabled = 0 AND name <> ?1",
    [SQ_SESSION_INSERT] = "INSERT INTO session(token_hash, user_id, expires_ms, ttl_s, "
                          "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_SESSION_GET] = "SELECT u.name, s.expires_ms, s.ttl_s FROM session s JOIN \"user\" u "
                       "ON u.id = s.user_id WHERE s.token_hash = ?1",
    [SQ_SESSION_TOUCH] = "UPDATE session SET expires_ms = ?2 WHERE token_hash = ?1",
    [SQ_SESSION_DELETE] = "DELETE FROM session WHERE token_hash = ?1",
/* a record's columns (records.c, record_from_stmt); records outside the reader's sites are
 * not found (sites.c) */
#define REC_COLS                                                                                   \
    "SELECT id, screening_no, study_id, status, eligible, is_locked, screened_at, screened_by, "   \
    "enrolled_at, withdrawn_at, (SELECT count(*) FROM form_lock f WHERE f.record_id = "            \
    "record.id), (SELECT code FROM site WHERE site.id = record.site_id), site_id FROM record "
    [SQ_REC_GET] = REC_COLS "WHERE (screening_no = ?1 OR study_id = ?1) AND in_scope(site_id)",
    [SQ_REC_GET_ID] = REC_COLS "WHERE id = ?1 AND in_scope(site_id)",
    [SQ_REC_LIST] = REC_COLS "WHERE in_scope(site_id) ORDER BY id",
    [SQ_REC_INSERT] = "INSERT INTO record(id, screening_no, screened_at, screened_by, site_id) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_REC_NEXT_SCR] = "SELECT coalesce(max(id), 0) + 1 FROM record",
    /* the next study ID's number: one more than the enrolled records (of site ?1, when the
     * study IDs carry the site: each site counts its own) */
    [SQ_REC_NEXT_STUDY] = "SELECT count(*) + 1 FROM record WHERE study_id IS NOT NULL AND "
                          "(CAST(?1 AS BIGINT) IS NULL OR site_id IS NOT DISTINCT FROM ?1)",
    [SQ_REC_ID_TAKEN] = "SELECT 1 FROM record WHERE study_id = ?1 OR screening_no = ?1",
    [SQ_REC_SET_ENROLLED] = "UPDATE record SET study_id = ?2, status = 2, enrolled_at = ?3 "
                            "WHERE id = ?1",
    [SQ_REC_SET_ELIG] = "UPDATE record SET eligible = ?2, status = ?3 WHERE id = ?1",
    [SQ_REC_SET_WITHDRAWN] = "UPDATE record SET status = 3, withdrawn_at = ?2 WHERE id = ?1",
    [SQ_REC_SET_LOCK] = "UPDATE record SET is_locked = ?2 WHERE id = ?1",
    [SQ_REDACT_IDS] = "SELECT audit_id, cols FROM redaction ORDER BY audit_id",
    [SQ_REDACT_INSERT] =
        "INSERT INTO redaction(audit_id, cols, redact_id) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(audit_id) DO UPDATE SET cols = redaction.cols | excluded.cols",
    [SQ_FLOCK_INSERT] = "INSERT INTO form_lock(record_id, event, form, instance, locked_by, "
                        "locked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_FLOCK_DELETE] = "DELETE FROM form_lock WHERE record_id = ?1 AND event = ?2 AND form = ?3 "
                        "AND instance = ?4",
    [SQ_FLOCK_BY_RECORD] = "SELECT event, form, instance, locked_by, locked_at FROM form_lock "
                           "WHERE record_id = ?1 ORDER BY event, form, instance",
    [SQ_VAL_GET] = "SELECT value FROM value WHERE record_id = ?1 AND event = ?2 AND "
                   "instance = ?3 AND field = ?4 AND code = ?5",
    [SQ_VAL_UPSERT] =
        "INSERT INTO value(record_id, event, instance, field, code, form, value, "
        "flag, pver) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(record_id, "
        "event, instance, field, code) DO UPDATE SET value = excluded.value, flag = excluded.flag, "
        "pver = excluded.pver",
    [SQ_VAL_DELETE] = "DELETE FROM value WHERE record_id = ?1 AND event = ?2 AND "
                      "instance = ?3 AND field = ?4 AND code = ?5",
    [SQ_VAL_FORM_HAS_DATA] = "SELECT 1 FROM value WHERE record_id = ?1 AND event = ?2 AND "
                             "form = ?3 AND instance = ?4 LIMIT 1",
    [SQ_VAL_RECORD] = "SELECT event, instance, field, code, value, flag, pver FROM value "
                      "WHERE record_id = ?1 ORDER BY event, instance, field, code",
    /* no join: store_study_values names the records and keeps the site rule from
     * SQ_REC_LIST, read in the same snapshot (a join read the record row once per value) */
    [SQ_VAL_STUDY] = "SELECT record_id, event, instance, field, code, value, flag, pver FROM value "
                     "ORDER BY record_id, event, instance, field, code",
    [SQ_VAL_INSTANCES] = "SELECT i.instance, f.status FROM (SELECT instance FROM value WHERE "
                         "record_id = ?1 AND event = ?2 AND form = ?3 UNION SELECT instance "
                         "FROM form_status WHERE record_id = ?1 AND event = ?2 AND form = ?3) "
                         "i LEFT JOIN form_status f ON f.record_id = ?1 AND f.event = ?2 AND "
                         "f.form = ?3 AND f.instance = i.instance ORDER BY i.instance",
    [SQ_VAL_FLAG] = "SELECT flag FROM value WHERE record_id = ?1 AND event = ?2 AND "
                    "instance = ?3 AND field = ?4 AND code = ?5",
    [SQ_FS_GET] = "SELECT status FROM form_status WHERE record_id = ?1 AND event = ?2 AND "
                  "form = ?3 AND instance = ?4",
    [SQ_FS_UPSERT] = "INSERT INTO form_status(record_id, event, form, instance, status) "
                     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(record_id, event, form, instance) DO "
                     "UPDATE SET status = excluded.status",
    [SQ_FS_RECORD] = "SELECT coalesce(r.study_id, r.screening_no), f.event, f.form, "
                     "f.instance, f.status, f.record_id FROM form_status f JOIN record r ON r.id = "
                     "f.record_id WHERE f.record_id = ?1 ORDER BY f.event, f.form, f.instance",
    /* the lowest and highest instance of a form holding data at an event (0, 0: none) */
    [SQ_VAL_INST_BOUNDS] = "SELECT coalesce(min(instance), 0), coalesce(max(instance), 0) FROM "
                           "value WHERE record_id = ?1 AND event = ?2 AND form = ?3",
    /* a few fields (?1..?8) at a few events (?9..?16; NULL: unused) across the study: the
     * records outside (CROSS JOIN: SQLite keeps that order), each one's values by key */
    [SQ_VAL_FIELDS_EVENTS] =
        "SELECT v.record_id, v.event, v.instance, v.field, v.value FROM record r CROSS JOIN "
        "value v WHERE v.record_id = r.id AND v.event IN (?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "AND v.field IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) AND v.code = '' AND in_scope(r.site_id) "
        "ORDER BY v.record_id, v.event, v.instance, v.field",
    /* the same fields at any event: a scan of every value */
    [SQ_VAL_FIELDS_STUDY] =
        "SELECT v.record_id, v.event, v.instance, v.field, v.value FROM value v "
        "JOIN record r ON r.id = v.record_id WHERE v.field IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "AND v.code = '' AND in_scope(r.site_id) ORDER BY v.record_id, v.event, v.instance, "
        "v.field",
    [SQ_VAL_FORMS_STUDY] = "SELECT v.record_id, v.event, v.form, v.field FROM value v "
                           "JOIN record r ON r.id = v.record_id WHERE in_scope(r.site_id) "
                           "ORDER BY v.record_id, v.event, v.form",
#define Q_COLS                                                                                     \
    "SELECT q.id, coalesce(r.study_id, r.screening_no), q.event, q.instance, q.form, q.field, "    \
    "q.code, q.status, q.origin, q.rule, q.raised_value, q.assignee, q.opened_by, q.opened_at, "   \
    "q.updated_at, (SELECT m.text FROM query_message m WHERE m.query_id = q.id ORDER BY m.id "     \
    "LIMIT 1), (SELECT count(*) FROM query_message m WHERE m.query_id = q.id) FROM query q JOIN "  \
    "record r ON r.id = q.record_id "
    [SQ_Q_INSERT] =
        "INSERT INTO query(record_id, event, instance, form, field, code, status, "
        "origin, rule, raised_value, assignee, opened_by, opened_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?12) RETURNING id",
    [SQ_Q_MSG_INSERT] = "INSERT INTO query_message(query_id, ts, \"user\", action, text, "
                        "old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_Q_SET_STATUS] = "UPDATE query SET status = ?2, updated_at = ?3 WHERE id = ?1",
    [SQ_Q_GET] = Q_COLS "WHERE q.id = ?1 AND in_scope(r.site_id)",
    /* ?1 record id or NULL, ?2 form or NULL, ?3 status or -1 for any, ?4 -1 or 1 for "not
     * closed"; the "waiting for me" filter is applied by the caller (queries.c) */
    [SQ_Q_LIST] = Q_COLS "WHERE (CAST(?1 AS BIGINT) IS NULL OR q.record_id = ?1) AND "
                         "(CAST(?2 AS TEXT) IS NULL OR q.form = ?2) "
                         "AND (?3 < 0 OR q.status = ?3) AND (?4 < 0 OR q.status < 2) "
                         "AND in_scope(r.site_id) ORDER BY q.record_id, q.id",
    [SQ_Q_MSGS] = "SELECT id, ts, \"user\", action, text, old_value, new_value FROM query_message "
                  "WHERE query_id = ?1 ORDER BY id",
    [SQ_SDV_UPSERT] = "INSERT INTO sdv(record_id, event, instance, field, code, value, "
                      "verified_by, verified_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                      "ON CONFLICT(record_id, event, instance, field, code) DO UPDATE SET value = "
                      "excluded.value, "
                      "verified_by = excluded.verified_by, verified_at = excluded.verified_at",
    [SQ_SDV_CLEAR] = "DELETE FROM sdv WHERE record_id = ?1 AND event = ?2 AND instance = ?3 AND "
                     "field = ?4 AND code = ?5 RETURNING value",
    [SQ_SDV_ANY_ON_RECORD] = SDV_ON_RECORD " LIMIT 1",
    /* every stored value (of one record, ?1, or all) with its verification, if any */
    [SQ_SDV_VALUES] =
        /* records outside (one record: its values by key, not a scan of every value; the
         * site and the scope once per record, not per value) */
    "SELECT coalesce(r.study_id, r.screening_no), r.study_id IS NOT NULL, "
    "v.event, v.instance, v.field, v.code, v.value, s.value, s.verified_by, "
    "s.verified_at, st.code "
    "FROM record r LEFT JOIN site st ON st.id = r.site_id "
    "JOIN value v ON v.record_id = r.id "
    "LEFT JOIN sdv s ON s.record_id = v.record_id AND s.event = v.event AND "
    "s.instance = v.instance AND s.field = v.field AND s.code = v.code "
    "WHERE (CAST(?1 AS BIGINT) IS NULL OR r.id = ?1) AND in_scope(r.site_id) "
    "ORDER BY r.id, v.event, v.instance, v.field, v.code",
    [SQ_SIG_INSERT] = "INSERT INTO signature(meaning, record_id, signer, printed_name, signed_at, "
                      "content_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    /* ?1: a record id, or NULL for every signature */
    [SQ_SIG_LIST] = "SELECT s.id, s.meaning, coalesce(r.study_id, r.screening_no, ''), s.signer, "
                    "s.printed_name, s.signed_at, s.content_sha256, s.invalidated_at, "
                    "s.invalidated_reason FROM signature s LEFT JOIN record r ON r.id = "
                    "s.record_id WHERE (CAST(?1 AS BIGINT) IS NULL OR s.record_id = ?1) AND "
                    "(s.record_id IS NULL OR in_scope(r.site_id)) ORDER BY s.id",
    [SQ_SIG_ANY_VALID] = VALID_SIGNATURE_ON_RECORD " LIMIT 1",
    [SQ_SIG_INVALIDATE] = "UPDATE signature SET invalidated_at = ?2, invalidated_reason = ?3 "
                          "WHERE record_id = ?1 AND invalidated_at IS NULL RETURNING id, meaning",
    [SQ_USER_FULL_NAME] = "SELECT coalesce(full_name, name) FROM \"user\" WHERE name = ?1",
    [SQ_USER_SET_FULL_NAME] = "UPDATE \"user\" SET full_name = ?2 WHERE name = ?1",
    [SQ_PROTO_VERSION] = "SELECT coalesce(max(version), 0) FROM protocol_version",
    [SQ_AUDIT_HEAD_TS] = "SELECT (SELECT ts FROM audit ORDER BY id LIMIT 1), (SELECT ts FROM "
                         "audit WHERE action NOT IN (" AUDIT_ACCESS_ACTIONS ", 'restore', "
                         "'migrate') ORDER BY id DESC LIMIT 1)",
    [SQ_Q_LIVE_ON_RECORD] = LIVE_QUERY_ON_RECORD " LIMIT 1",
    [SQ_RECORD_MARKS] = "SELECT EXISTS(" LIVE_QUERY_ON_RECORD "), EXISTS(" SDV_ON_RECORD
                        "), EXISTS(" VALID_SIGNATURE_ON_RECORD ")",
    [SQ_Q_LIVE_ON_KEY] = "SELECT id, status, origin FROM query WHERE record_id = ?1 AND "
                         "event = ?2 AND instance = ?3 AND field = ?4 AND code = ?5 AND "
                         "status < 2 ORDER BY id",
    /* forms holding data on an enrolled record (?1, or any when NULL) that are not marked
     * complete: how many, and the first as "IOH-001 event form" */
    [SQ_DB_INCOMPLETE_FORMS] =
        "SELECT count(*), min(coalesce(r.study_id, '') || ' ' || d.event || ' ' || d.form) FROM "
        "(SELECT DISTINCT record_id, event, form, instance FROM value) d JOIN record r ON "
        "r.id = d.record_id AND r.study_id IS NOT NULL AND in_scope(r.site_id) "
        "LEFT JOIN form_status f ON "
        "f.record_id = d.record_id AND f.event = d.event AND f.form = d.form AND "
        "f.instance = d.instance WHERE coalesce(f.status, 0) <> 2 AND "
        "(CAST(?1 AS BIGINT) IS NULL OR d.record_id = ?1)",
    [SQ_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [SQ_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [SQ_FS_ALL] = "SELECT coalesce(r.study_id, r.screening_no), f.event, f.form, f.instance, "
                  "f.status, f.record_id FROM form_status f JOIN record r ON r.id = f.record_id "
                  "WHERE in_scope(r.site_id) ORDER BY f.record_id, f.event, f.form, f.instance",
    [SQ_NEXT_INSTANCE] = "SELECT max(m) FROM (SELECT max(instance) AS m FROM value WHERE "
                         "record_id = ?1 AND event = ?2 AND form = ?3 UNION ALL SELECT "
                         "max(instance) FROM form_status WHERE record_id = ?1 AND event = ?2 "
                         "AND form = ?3) AS i",
    /* the session, its user and (one row each, as SQ_SITE_SCOPE) the user's sites */
    [SQ_SESSION_AUTH] = "SELECT u.id, u.name, u.role, NULL, u.is_disabled, u.failed_logins, "
                        "u.is_locked_out, u.created_at, s.expires_ms, s.ttl_s, u.all_sites, "
                        "us.site_id, si.code FROM session s JOIN \"user\" u ON u.id = s.user_id "
                        "LEFT JOIN user_site us ON us.user_id = u.id LEFT JOIN site si ON si.id = "
                        "us.site_id WHERE s.token_hash = ?1 ORDER BY us.site_id",
    /* one form's values in field order and, in a row of its own (field NULL), its status:
     * one statement, so one round trip on PostgreSQL */
    [SQ_VAL_FORM] = "SELECT field, code, value, flag, NULL FROM value WHERE record_id = ?1 AND "
                    "event = ?2 AND form = ?3 AND instance = ?4 UNION ALL "
                    "SELECT NULL, NULL, NULL, NULL, status FROM form_status WHERE record_id = ?1 "
                    "AND event = ?2 AND form = ?3 AND instance = ?4 ORDER BY 1, 2",
    [SQ_SNAP_BEGIN] = "BEGIN",
    [SQ_SNAP_COMMIT] = "COMMIT",
    /* sites.c */
    [SQ_SITE_SCOPE] =
        "SELECT u.all_sites, us.site_id, s.code FROM \"user\" u LEFT JOIN user_site us "
        "ON us.user_id = u.id LEFT JOIN site s ON s.id = us.site_id WHERE "
        "u.name = ?1 ORDER BY us.site_id",
#define SITE_COLS                                                                                  \
    "SELECT s.id, s.code, s.name, s.created_at, s.created_by, (SELECT count(*) FROM record r "     \
    "WHERE r.site_id = s.id), (SELECT count(*) FROM record r WHERE r.site_id = s.id AND "          \
    "r.study_id IS NOT NULL) FROM site s "
    [SQ_SITE_GET] = SITE_COLS "WHERE lower(s.code) = lower(?1)",
    [SQ_SITE_LIST] = SITE_COLS "WHERE in_scope(s.id) ORDER BY lower(s.code)",
    [SQ_SITE_INSERT] = "INSERT INTO site(code, name, created_at, created_by) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [SQ_SITE_SET_RECORD] = "UPDATE record SET site_id = ?2 WHERE id = ?1",
    [SQ_SITE_OF_USER] = SITE_COLS "JOIN user_site us ON us.site_id = s.id JOIN \"user\" u ON "
                                  "u.id = us.user_id WHERE u.name = ?1 ORDER BY lower(s.code)",
    [SQ_SITE_USER_CLEAR] = "DELETE FROM user_site WHERE user_id = (SELECT id FROM \"user\" WHERE "
                           "name = ?1)",
    [SQ_SITE_USER_ADD] = "INSERT INTO user_site(user_id, site_id) SELECT u.id, CAST(?2 AS BIGINT) "
                         "FROM \"user\" u WHERE u.name = ?1 ON CONFLICT DO NOTHING",
    [SQ_SITE_USER_ALL] = "UPDATE \"user\" SET all_sites = ?2 WHERE name = ?1",
    [SQ_AUDIT_RECORD] = "SELECT id, ts, \"user\", action, record, event, instance, field, "
                        "old_value, new_value, reason, source, source_sha256, prev_hash, hash "
                        "FROM audit WHERE record IN (?1, ?2) ORDER BY id",
};

void store_db_wait_when_busy(struct store *st)
{
    st->busy_wait_ms = STORE_BUSY_WAIT_MS;
    if (store_sql_sqlite(st->db))
        sqlite3_busy_handler(store_sql_sqlite(st->db), busy_wait, st);
    else
        store_sql_set_lock_timeout(st->db, st->busy_wait_ms);
}

void store_set_busy_wait(struct store *st, long long ms)
{
    st->busy_wait_ms = ms < 0 ? 0 : ms;
    /* PostgreSQL's lock_timeout 0 is "wait for ever": 1 ms is "do not wait" */
    store_sql_set_lock_timeout(st->db, st->busy_wait_ms > 0 ? st->busy_wait_ms : 1);
}

/* ERR_BUSY when db's last error is "busy" or "locked" (another connection held the database
 * past the busy handler's bound; on PostgreSQL also a lost connection), ERR_OUTCOME_UNKNOWN when
 * PostgreSQL went away during COMMIT, else ERR_IO. */
static int db_error_code(struct sqldb *db)
{
    if (store_sql_outcome_unknown(db))
        return ERR_OUTCOME_UNKNOWN;
    int c = store_sql_errcode(db);
    return c == SQLITE_BUSY || c == SQLITE_LOCKED ? ERR_BUSY : ERR_IO;
}

/* What a busy error adds to its message: another writer holds the lock, unless the message
 * already says what happened (a PostgreSQL connection lost or a server unreachable). */
static const char *busy_hint(struct sqldb *db, int code)
{
    if (code != ERR_BUSY)
        return "";
    return strstr(store_sql_errmsg(db), "PostgreSQL")
               ? " (try again)"
               : " (another writer holds the database; try again)";
}

int store_exec_sql(struct sqldb *db, const char *sql, struct err *e)
{
    if (store_sql_exec(db, sql) != SQLITE_OK) {
        int code = db_error_code(db);
        err_set(e, code, "%s%s", store_sql_errmsg(db), busy_hint(db, code));
        return code;
    }
    return 0;
}

int store_db_fail(struct store *st, struct err *e, const char *what)
{
    if (st->bind_rc) {
        /* the message SQLite gave may be a later call's: name the bind's own result */
        int rc = st->bind_rc;
        st->bind_rc = 0;
        return err_set(e, (rc & 0xff) == SQLITE_NOMEM ? ERR_NOMEM : ERR_IO,
                       "%s: binding parameter %d: %s", what, st->bind_index, sqlite3_errstr(rc));
    }
    int code = db_error_code(st->db);
    return err_set(e, code, "%s: %s%s", what, store_sql_errmsg(st->db), busy_hint(st->db, code));
}

/* The busy handler: another connection holds the lock. Retry with growing, jittered sleeps
 * (1 ms doubling to 32 ms, plus up to half again at random, so waiting writers do not retry in
 * step) until the connection's busy_wait_ms have passed; then SQLite reports SQLITE_BUSY
 * (ERR_BUSY). */
static int busy_wait(void *ctx, int attempt)
{
    struct store *st = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (attempt == 0)
        st->busy_since_ms = now_ms;
    if (now_ms - st->busy_since_ms >= st->busy_wait_ms)
        return 0;
    long sleep_us = 1000L << (attempt < 5 ? attempt : 5);
    sleep_us += (long)randombytes_uniform((uint32_t)(sleep_us / 2 + 1));
    struct timespec ts = {sleep_us / 1000000, (sleep_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

int store_step(struct store *st, sqldb_stmt *s)
{
    if (st->bind_rc)
        return st->bind_rc;
    if (store_sql_is_postgres(st->db) && store_sql_uses_scope(s)) {
        int rc = store_sites_scope_send(st);
        if (rc)
            return rc;
    }
    return store_sql_step(s);
}

int store_stmt_run(struct store *st, sqldb_stmt *s, const char *what, struct err *e)
{
    int r = store_step(st, s);
    int rc = r == SQLITE_DONE ? 0 : store_db_fail(st, e, what);
    store_sql_reset(s);
    return rc;
}

int store_stmt_row_id(struct store *st, sqldb_stmt *s, long long *id, const char *what,
                      struct err *e)
{
    *id = 0;
    int r = store_step(st, s);
    if (r == SQLITE_ROW) {
        *id = store_sql_col_int64(s, 0);
        r = store_step(st, s);
    }
    int rc = r == SQLITE_DONE && *id ? 0 : store_db_fail(st, e, what);
    store_sql_reset(s);
    return rc;
}

sqldb_stmt *store_stmt_get(struct store *st, enum stmt_id id, struct err *e)
{
    sqldb_stmt *s = st->stmts[id];
    st->bind_rc = 0;
    if (!s) {
        if (store_sql_prepare(st->db, stmt_sql[id], true, &s) != SQLITE_OK) {
            store_db_fail(st, e, "preparing a statement");
            return NULL;
        }
        /* the statements that read a whole table, not a record's rows */
        if (id == SQ_AUDIT_ALL || id == SQ_AUDIT_CHANGES || id == SQ_AUDIT_SCOPED ||
            id == SQ_VAL_STUDY || id == SQ_VAL_FIELDS_EVENTS || id == SQ_VAL_FIELDS_STUDY ||
            id == SQ_VAL_FORMS_STUDY || id == SQ_FS_ALL || id == SQ_SDV_VALUES)
            store_sql_set_streamed(s);
        st->stmts[id] = s;
    }
    store_sql_reset(s);
    store_sql_clear_bindings(s);
    return s;
}

int store_stmt_prepare(struct store *st, const char *sql, sqldb_stmt **out, const char *what,
                       struct err *e)
{
    *out = NULL;
    st->bind_rc = 0;
    if (store_sql_prepare(st->db, sql, false, out) == SQLITE_OK)
        return 0;
    *out = NULL;
    return store_db_fail(st, e, what);
}

/* Records the first failed bind of the statement (store_step returns it). */
static int bound(struct store *st, int i, int rc)
{
    if (rc != SQLITE_OK && !st->bind_rc) {
        st->bind_rc = rc;
        st->bind_index = i;
    }
    return rc;
}

int store_bind_text(struct store *st, sqldb_stmt *s, int i, const char *v)
{
    return bound(st, i, store_sql_bind_text(s, i, v, v ? strlen(v) : 0, false));
}

int store_bind_text_static(struct store *st, sqldb_stmt *s, int i, const char *v)
{
    return bound(st, i, store_sql_bind_text(s, i, v, v ? strlen(v) : 0, true));
}

int store_bind_textn_static(struct store *st, sqldb_stmt *s, int i, const char *v, size_t n)
{
    return bound(st, i, store_sql_bind_text(s, i, v, n, true));
}

int store_bind_int64(struct store *st, sqldb_stmt *s, int i, long long v)
{
    return bound(st, i, store_sql_bind_int64(s, i, v));
}

int store_bind_null(struct store *st, sqldb_stmt *s, int i)
{
    return bound(st, i, store_sql_bind_null(s, i));
}

int store_bind_double(struct store *st, sqldb_stmt *s, int i, double v)
{
    return bound(st, i, store_sql_bind_double(s, i, v));
}

int store_bind_blob(struct store *st, sqldb_stmt *s, int i, const void *v, size_t n)
{
    return bound(st, i, store_sql_bind_blob(s, i, v, n));
}

int store_stmt_run_unbind(struct store *st, sqldb_stmt *s, const char *what, struct err *e)
{
    int rc = store_stmt_run(st, s, what, e);
    store_sql_clear_bindings(s);
    return rc;
}

void store_col_copy(sqldb_stmt *s, int i, char *buf, size_t len)
{
    const char *v = (const char *)store_sql_col_text(s, i);
    /* each caller's buffer holds the longest value store/ writes to its column; anything
     * longer (a file edited by hand) is cut visibly, never silently */
    fmt_text(buf, len, "%s", v ? v : "");
}

enum {
    HEAD_SAVED = sizeof((struct store *)0)->head_at_sp / sizeof((struct store *)0)->head_at_sp[0]
};

/* Whether depth d (the savepoint sp<d>) is one a whole batch does without (store_int.h). */
static bool sp_is_virtual(const struct store *st, int d)
{
    return d > 0 && d < HEAD_SAVED && st->sp_changes[d] >= 0;
}

void store_tx_ended(struct store *st)
{
    st->is_head_known = false;
    st->is_head_dirty = false;
    st->is_acting = false; /* reads are the reader's again (sites.c) */
    st->is_batch_whole = false;
    st->is_batch_broken = false;
    st->is_db_available = false;
}

int store_tx_begin(struct store *st, struct err *e)
{
    char sql[48];
    int d = st->tx_depth, rc = 0;
    bool is_virtual = false;
    if (d == 0) {
        st->is_head_known = false; /* another connection may have appended since */
        st->is_head_dirty = false;
        fmt_exact(sql, sizeof sql, "BEGIN IMMEDIATE");
    } else {
        if (st->is_batch_broken)
            return err_set(e, ERR_CONFLICT,
                           "an earlier change set of this batch was refused after it had begun "
                           "writing: the batch can only be rolled back");
        fmt_exact(sql, sizeof sql, "SAVEPOINT sp%d", d);
        /* the head as it is now, for a ROLLBACK TO this savepoint: kept here, or (nested too
         * deep) written to audit_head before the savepoint, where the rollback leaves it */
        if (d < HEAD_SAVED) {
            struct head_state *h = &st->head_at_sp[d];
            h->is_known = st->is_head_known;
            h->is_dirty = st->is_head_dirty;
            h->id = st->head_id;
            memcpy(h->hash, st->head_hash, sizeof h->hash);
            st->sp_changes[d] = st->is_batch_whole ? store_sql_total_changes(st->db) : -1;
            is_virtual = st->sp_changes[d] >= 0;
        } else {
            rc = store_audit_head_flush(st, e);
        }
    }
    if (!rc && !is_virtual)
        rc = store_exec_sql(st->db, sql, e);
    if (!rc)
        st->tx_depth++;
    /* holding the write lock now: a protocol amended by another connection is in force */
    if (!rc && st->tx_depth == 1 && (rc = store_protocol_sync(st, e)) != 0)
        store_tx_rollback(st);
    return rc;
}

int store_tx_commit(struct store *st, struct err *e)
{
    char sql[48];
    if (st->tx_depth == 1)
        fmt_exact(sql, sizeof sql, "COMMIT");
    else
        fmt_exact(sql, sizeof sql, "RELEASE sp%d", st->tx_depth - 1);
    /* every committed state has audit_head naming the trail's last row */
    int rc = st->tx_depth == 1 ? store_audit_head_flush(st, e) : 0;
    if (!rc && !sp_is_virtual(st, st->tx_depth - 1))
        rc = store_exec_sql(st->db, sql, e);
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    st->tx_depth--;
    if (st->tx_depth == 0)
        store_tx_ended(st);
    return 0;
}

int store_tx_finish(struct store *st, int rc, struct err *e)
{
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    return store_tx_commit(st, e);
}

void store_tx_rollback(struct store *st)
{
    st->rollbacks++;          /* what was cached of the undone writes (write_cache.c) is stale */
    int d = st->tx_depth - 1; /* the savepoint rolled back to, sp<d>, when d > 0 */
    /* a savepoint a whole batch did without: exact when nothing was written since it, and
     * otherwise the batch is broken, the head staying what the rows written make it */
    bool is_virtual = sp_is_virtual(st, d);
    if (is_virtual && store_sql_total_changes(st->db) != st->sp_changes[d]) {
        st->is_batch_broken = true;
    } else if (d > 0 && d < HEAD_SAVED) {
        const struct head_state *h = &st->head_at_sp[d];
        st->is_head_known = h->is_known;
        st->is_head_dirty = h->is_dirty;
        st->head_id = h->id;
        memcpy(st->head_hash, h->hash, sizeof st->head_hash);
    } else {
        st->is_head_known = false; /* read again: audit_head as the rollback left it */
        st->is_head_dirty = false;
    }
    if (st->tx_depth <= 0)
        return;
    char sql[64];
    if (st->tx_depth == 1) {
        /* COMMIT may already have ended the transaction when it failed. */
        if (store_sql_in_transaction(st->db))
            store_exec_sql(st->db, "ROLLBACK", NULL);
    } else if (!is_virtual) {
        fmt_exact(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d", st->tx_depth - 1,
                  st->tx_depth - 1);
        store_exec_sql(st->db, sql, NULL);
    }
    st->tx_depth--;
    if (st->tx_depth == 0)
        store_tx_ended(st);
}

int store_rows_to_array(struct store *st, sqldb_stmt *s, size_t elem_size, row_fill_fn fill,
                        void **out, size_t *n, const char *what, struct err *e)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int r;
    while ((r = store_step(st, s)) == SQLITE_ROW) {
        void *grown = array_grow(*out, *n, &cap, elem_size, 16);
        if (!grown) {
            r = SQLITE_NOMEM;
            break;
        }
        *out = grown;
        fill(s, (char *)*out + (*n)++ * elem_size);
    }
    store_sql_reset(s);
    if (r == SQLITE_DONE)
        return 0;
    free(*out);
    *out = NULL;
    *n = 0;
    return r == SQLITE_NOMEM ? err_set(e, ERR_NOMEM, "out of memory") : store_db_fail(st, e, what);
}
