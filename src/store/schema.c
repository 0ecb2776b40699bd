/* The one schema, and its migrations.
 *
 * Migrations are numbered by PRAGMA user_version: migration N brings a database from version
 * N-1 to N, and each runs in its own transaction together with the user_version bump, so a
 * crash leaves the database at a whole version. A new migration is appended to the table
 * below; existing entries are never edited once released (databases in the field were built
 * with them), except to write an identifier so that PostgreSQL reads it alike (a data statement
 * of a migration runs there too when a study is upgraded in place: migration 8 quotes "user",
 * which PostgreSQL takes for current_user; SQLite reads both the same).
 *
 * Tables are STRICT (a value of the wrong type is an error, not a silent conversion). The audit
 * table refuses UPDATE and DELETE through triggers; audit_head holds the last id and hash,
 * updated in the same transaction as every append, so losing the last rows is detected. */
#include <stdio.h>

#include "base/fmt.h"
#include "store/store_int.h"

static const char *const migrations[] = {
    /* 1: the first schema. meta: created_at, created_by_version, dictionary_sha256. */
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL) STRICT;"

    /* The protocol files as given at creation: the database is self-contained. */
    "CREATE TABLE protocol_file("
    "  name TEXT PRIMARY KEY,"
    "  content TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL) STRICT;"

    "CREATE TABLE user("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL,"
    "  pwhash TEXT NOT NULL,"
    "  is_disabled INTEGER NOT NULL DEFAULT 0 CHECK(is_disabled IN (0,1)),"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  is_locked_out INTEGER NOT NULL DEFAULT 0 CHECK(is_locked_out IN (0,1)),"
    "  created_at TEXT NOT NULL) STRICT;"

    /* Only the SHA-256 of a session token is kept: a copy of the database opens no session. */
    "CREATE TABLE session("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES user(id),"
    "  expires_ms INTEGER NOT NULL,"
    "  ttl_s INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL) STRICT;"

    /* The screening log; study_id is given at enrolment. status: 0 screened, 1 screen
     * failure, 2 enrolled, 3 withdrawn. eligible: the @ELIGIBLE calc (1, 0, -1 blank). */
    "CREATE TABLE record("
    "  id INTEGER PRIMARY KEY,"
    "  screening_no TEXT NOT NULL UNIQUE,"
    "  study_id TEXT UNIQUE,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK(status BETWEEN 0 AND 3),"
    "  eligible INTEGER NOT NULL DEFAULT -1 CHECK(eligible BETWEEN -1 AND 1),"
    "  is_locked INTEGER NOT NULL DEFAULT 0 CHECK(is_locked IN (0,1)),"
    "  screened_at TEXT NOT NULL,"
    "  screened_by TEXT NOT NULL,"
    "  enrolled_at TEXT,"
    "  withdrawn_at TEXT) STRICT;"

    /* Values, REDCap's EAV shape. code is the checkbox option ('' otherwise); a blank value is
     * no row. form is the field's form (for "does this form have data here"). flag is the
     * soft validation rule the value broke ("min"/"max"), kept for review. */
    "CREATE TABLE value("
    "  record_id INTEGER NOT NULL REFERENCES record(id),"
    "  event TEXT NOT NULL,"
    "  instance INTEGER NOT NULL CHECK(instance >= 0),"
    "  field TEXT NOT NULL,"
    "  code TEXT NOT NULL DEFAULT '',"
    "  form TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  flag TEXT,"
    "  PRIMARY KEY(record_id, event, instance, field, code)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX value_form ON value(record_id, event, form, instance);"

    "CREATE TABLE form_status("
    "  record_id INTEGER NOT NULL REFERENCES record(id),"
    "  event TEXT NOT NULL,"
    "  form TEXT NOT NULL,"
    "  instance INTEGER NOT NULL CHECK(instance >= 0),"
    "  status INTEGER NOT NULL CHECK(status IN (0,1,2)),"
    "  PRIMARY KEY(record_id, event, form, instance)) STRICT, WITHOUT ROWID;"

    /* The audit trail: see audit.c and docs/security.md for the hash chain. ids are assigned
     * by the store as head+1 (no AUTOINCREMENT needed: rows are never deleted). */
    "CREATE TABLE audit("
    "  id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  record TEXT,"
    "  event TEXT,"
    "  instance INTEGER,"
    "  field TEXT,"
    "  old_value TEXT,"
    "  new_value TEXT,"
    "  reason TEXT,"
    "  source TEXT NOT NULL,"
    "  source_sha256 TEXT,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL) STRICT;"
    "CREATE INDEX audit_record_field ON audit(record, field);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows cannot be deleted'); END;"

    "CREATE TABLE audit_head("
    "  one INTEGER PRIMARY KEY CHECK(one = 1),"
    "  last_id INTEGER NOT NULL,"
    "  hash TEXT NOT NULL) STRICT;"
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
    "  BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;",

    /* 2: queries (discrepancy notes, queries.c). A query is raised on a field value (event,
     * instance, field, code), on a form (field ''), or on a record (event '' and form ''). status:
     * 0 open, 1 answered, 2 closed. raised_value is the value when it was raised; assignee a
     * user name, "role:NAME", or NULL for whoever may answer. origin 'system' for the queries the
     * write path opens on soft validation flags (rule: the flag). Its thread is query_message,
     * append-only like the audit trail (which also has a row for every action). */
    "CREATE TABLE query("
    "  id INTEGER PRIMARY KEY,"
    "  record_id INTEGER NOT NULL REFERENCES record(id),"
    "  event TEXT NOT NULL DEFAULT '',"
    "  instance INTEGER NOT NULL DEFAULT 0 CHECK(instance >= 0),"
    "  form TEXT NOT NULL DEFAULT '',"
    "  field TEXT NOT NULL DEFAULT '',"
    "  code TEXT NOT NULL DEFAULT '',"
    "  status INTEGER NOT NULL CHECK(status IN (0,1,2)),"
    "  origin TEXT NOT NULL CHECK(origin IN ('user','system')),"
    "  rule TEXT,"
    "  raised_value TEXT,"
    "  assignee TEXT,"
    "  opened_by TEXT NOT NULL,"
    "  opened_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL) STRICT;"
    "CREATE INDEX query_key ON query(record_id, event, instance, field, code);"
    "CREATE INDEX query_status ON query(status, record_id);"
    "CREATE TABLE query_message("
    "  id INTEGER PRIMARY KEY,"
    "  query_id INTEGER NOT NULL REFERENCES query(id),"
    "  ts TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  old_value TEXT,"
    "  new_value TEXT) STRICT;"
    "CREATE INDEX query_message_query ON query_message(query_id, id);"
    "CREATE TRIGGER query_message_no_update BEFORE UPDATE ON query_message"
    "  BEGIN SELECT RAISE(ABORT, 'query messages cannot be changed'); END;"
    "CREATE TRIGGER query_message_no_delete BEFORE DELETE ON query_message"
    "  BEGIN SELECT RAISE(ABORT, 'query messages cannot be deleted'); END;",

    /* 3: source data verification (sdv.c): which values a monitor verified against source
     * documents, the value verified, who and when. A change of the value deletes its row (the
     * audit trail keeps both the verification and its clearing). */
    "CREATE TABLE sdv("
    "  record_id INTEGER NOT NULL REFERENCES record(id),"
    "  event TEXT NOT NULL,"
    "  instance INTEGER NOT NULL CHECK(instance >= 0),"
    "  field TEXT NOT NULL,"
    "  code TEXT NOT NULL DEFAULT '',"
    "  value TEXT NOT NULL,"
    "  verified_by TEXT NOT NULL,"
    "  verified_at TEXT NOT NULL,"
    "  PRIMARY KEY(record_id, event, instance, field, code)) STRICT, WITHOUT ROWID;",

    /* 4: electronic signatures (signatures.c) and the printed name a signature shows. A
     * signature binds the SHA-256 of the canonical bytes of what was signed (a record's values
     * and form statuses; for the study, the audit head); a later change of signed data sets
     * invalidated_at (rows are never deleted). */
    "ALTER TABLE user ADD COLUMN full_name TEXT;"
    "CREATE TABLE signature("
    "  id INTEGER PRIMARY KEY,"
    "  meaning TEXT NOT NULL,"
    "  record_id INTEGER REFERENCES record(id),"
    "  signer TEXT NOT NULL,"
    "  printed_name TEXT NOT NULL,"
    "  signed_at TEXT NOT NULL,"
    "  content_sha256 TEXT NOT NULL,"
    "  invalidated_at TEXT,"
    "  invalidated_reason TEXT) STRICT;"
    "CREATE INDEX signature_record ON signature(record_id);"
    "CREATE TRIGGER signature_no_delete BEFORE DELETE ON signature"
    "  BEGIN SELECT RAISE(ABORT, 'signatures cannot be deleted'); END;",

    /* 5: form locks (records.c, store_form_lock): one row per locked form instance of a
     * record; while it exists the write path refuses every change to that form instance. An
     * unlock deletes the row (the audit trail keeps both). */
    "CREATE TABLE form_lock("
    "  record_id INTEGER NOT NULL REFERENCES record(id),"
    "  event TEXT NOT NULL,"
    "  form TEXT NOT NULL,"
    "  instance INTEGER NOT NULL CHECK(instance >= 0),"
    "  locked_by TEXT NOT NULL,"
    "  locked_at TEXT NOT NULL,"
    "  PRIMARY KEY(record_id, event, form, instance)) STRICT, WITHOUT ROWID;",

    /* 6: the password policy (users.c): when each password was set (NULL: at the account's
     * creation) for the maximum age, and the hashes it replaced, so the last N are not reused. */
    "ALTER TABLE user ADD COLUMN password_set_at TEXT;"
    "CREATE TABLE password_history("
    "  user_id INTEGER NOT NULL REFERENCES user(id),"
    "  pwhash TEXT NOT NULL,"
    "  replaced_at TEXT NOT NULL) STRICT;"
    "CREATE INDEX password_history_user ON password_history(user_id, replaced_at);",

    /* 7: redactions (audit.c, store_redact): audit rows whose old (cols 1), new (2) or both (3)
     * values every view and export shows as "[redacted]" — personal data typed into a value —
     * each with the "redact" row that justifies it. The rows themselves never change (the chain
     * needs their bytes). */
    "CREATE TABLE redaction("
    "  audit_id INTEGER PRIMARY KEY REFERENCES audit(id),"
    "  cols INTEGER NOT NULL CHECK(cols IN (1, 2, 3)),"
    "  redact_id INTEGER NOT NULL REFERENCES audit(id)) STRICT;",

    /* 8: protocol versions (protocol.c, store_protocol_amend). protocol_file stays the protocol
     * in force; every version's files are kept in protocol_archive; protocol_version says who
     * applied which version, when, why, with the SHA-256 of its dictionary.csv and the audit row
     * that records it. Neither table is ever changed. Each value remembers the version it was
     * entered under (pver); a database older than this migration has version 1, its protocol at
     * creation, for every value. */
    "CREATE TABLE protocol_version("
    "  version INTEGER PRIMARY KEY,"
    "  applied_at TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  audit_id INTEGER) STRICT;"
    "CREATE TABLE protocol_archive("
    "  version INTEGER NOT NULL REFERENCES protocol_version(version),"
    "  name TEXT NOT NULL,"
    "  content TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  PRIMARY KEY(version, name)) STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER protocol_version_no_update BEFORE UPDATE ON protocol_version"
    "  BEGIN SELECT RAISE(ABORT, 'protocol versions cannot be changed'); END;"
    "CREATE TRIGGER protocol_version_no_delete BEFORE DELETE ON protocol_version"
    "  BEGIN SELECT RAISE(ABORT, 'protocol versions cannot be deleted'); END;"
    "CREATE TRIGGER protocol_archive_no_update BEFORE UPDATE ON protocol_archive"
    "  BEGIN SELECT RAISE(ABORT, 'archived protocol files cannot be changed'); END;"
    "CREATE TRIGGER protocol_archive_no_delete BEFORE DELETE ON protocol_archive"
    "  BEGIN SELECT RAISE(ABORT, 'archived protocol files cannot be deleted'); END;"
    "INSERT INTO protocol_version(version, applied_at, \"user\", reason, sha256, audit_id)"
    "  SELECT 1, coalesce((SELECT value FROM meta WHERE key = 'created_at'), ''), 'system',"
    "         'the protocol at creation', sha256, (SELECT min(id) FROM audit)"
    "  FROM protocol_file WHERE name = 'dictionary.csv';"
    "INSERT INTO protocol_archive(version, name, content, sha256)"
    "  SELECT 1, name, content, sha256 FROM protocol_file"
    "  WHERE EXISTS (SELECT 1 FROM protocol_version);"
    "ALTER TABLE value ADD COLUMN pver INTEGER NOT NULL DEFAULT 1;",

    /* 9: sites (a multi-centre study's hospitals; REDCap's data access groups). A record
     * belongs to at most one site (NULL: none, a single-centre study). A user works at every
     * site (all_sites 1, as before sites existed) or only at the sites user_site lists: such a
     * user sees and changes those sites' records alone (sites.c). Codes are compared without
     * regard to case, so "A" and "a" cannot both exist. */
    "CREATE TABLE site("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  created_by TEXT NOT NULL) STRICT;"
    "CREATE UNIQUE INDEX site_code_nocase ON site(lower(code));"
    "CREATE TABLE user_site("
    "  user_id INTEGER NOT NULL REFERENCES user(id),"
    "  site_id INTEGER NOT NULL REFERENCES site(id),"
    "  PRIMARY KEY(user_id, site_id)) STRICT, WITHOUT ROWID;"
    "ALTER TABLE user ADD COLUMN all_sites INTEGER NOT NULL DEFAULT 1 CHECK(all_sites IN (0,1));"
    "ALTER TABLE record ADD COLUMN site_id INTEGER REFERENCES site(id);"
    "CREATE INDEX record_site ON record(site_id);",
};

#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])
_Static_assert(NMIGRATIONS == SCHEMA_VERSION, "SCHEMA_VERSION is the number of migrations");

int store_schema_version(struct sqldb *db, int *v, struct err *e)
{
    sqldb_stmt *s = NULL;
    /* no parameters to bind */
    if (store_sql_prepare(db, "PRAGMA user_version", false, &s) != SQLITE_OK ||
        store_sql_step(s) != SQLITE_ROW) {
        err_set(e, ERR_IO, "reading the schema version: %s", store_sql_errmsg(db));
        store_sql_finalize(s);
        return ERR_IO;
    }
    *v = store_sql_col_int(s, 0);
    store_sql_finalize(s);
    return 0;
}

int store_schema_apply(struct sqldb *db, int m, store_schema_stmt_fn fn, void *ctx, struct err *e)
{
    if (m < 1 || m > (int)NMIGRATIONS)
        return err_set(e, ERR_INTERNAL, "no migration %d", m);
    sqlite3 *lite = store_sql_sqlite(db);
    const char *sql = migrations[m - 1];
    int rc = 0;
    while (!rc && sql && *sql) {
        sqlite3_stmt *s = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(lite, sql, -1, &s, &tail) != SQLITE_OK)
            return err_set(e, ERR_IO, "%s", sqlite3_errmsg(lite));
        if (!s)
            break; /* only blanks left */
        if (fn)
            rc = fn(ctx, sqlite3_sql(s), e);
        int r = SQLITE_DONE;
        while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW)
            ;
        sqlite3_finalize(s);
        if (!rc && r != SQLITE_DONE)
            rc = err_set(e, ERR_IO, "%s", sqlite3_errmsg(lite));
        sql = tail;
    }
    char bump[64];
    fmt_exact(bump, sizeof bump, "PRAGMA user_version = %d", m);
    return rc ? rc : store_exec_sql(db, bump, e);
}

int store_schema_migrate(struct sqldb *db, struct err *e)
{
    return store_schema_migrate_to(db, (int)NMIGRATIONS, e);
}

int store_schema_migrate_to(struct sqldb *db, int target, struct err *e)
{
    int v;
    int rc = store_schema_version(db, &v, e);
    if (rc)
        return rc;
    if (v > (int)NMIGRATIONS)
        return err_set(e, ERR_INVALID,
                       "the database has schema version %d; this ioheme knows up to %d "
                       "(upgrade ioheme)",
                       v, (int)NMIGRATIONS);
    for (int m = v; m < target && m < (int)NMIGRATIONS; m++) {
        rc = store_exec_sql(db, "BEGIN IMMEDIATE", e);
        if (rc)
            return rc;
        rc = store_schema_apply(db, m + 1, NULL, NULL, e);
        if (!rc)
            rc = store_exec_sql(db, "COMMIT", e);
        if (rc) {
            store_exec_sql(db, "ROLLBACK", NULL);
            err_prefix(e, "migration %d", m + 1);
            return rc;
        }
    }
    return 0;
}
