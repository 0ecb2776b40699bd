/* The screening log, eligibility status, enrolment and study IDs; creating, opening and
 * migrating database files. */
#include "store_test_util.h"

#include <pthread.h>

#include "store/store_int.h" /* the store's own connection, for its PRAGMAs */

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "records");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

static void test_screening_numbers_in_order_and_screen_failures_stay(void **state)
{
    struct tdb *t = *state;
    char a[16], b[16], c[16];
    screen(t, a, "age", "40", "heme", "1", "cats___1", "1", NULL);
    screen(t, b, "age", "70", "heme", "1", "cats___1", "1", NULL); /* too old */
    screen(t, c, "age", "30", NULL);                               /* incomplete */
    assert_string_equal(a, "SCR-001");
    assert_string_equal(b, "SCR-002");
    assert_string_equal(c, "SCR-003");
    struct store_record *rs = NULL;
    size_t n = 0;
    assert_int_equal(store_record_list(t->st, &rs, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rs[0].status, STORE_REC_SCREENED);
    assert_int_equal(rs[0].eligible, 1);
    assert_int_equal(rs[1].status, STORE_REC_SCREEN_FAILURE);
    assert_int_equal(rs[1].eligible, 0);
    assert_string_equal(store_record_status_name(rs[1].status), "screen_failure");
    assert_int_equal(rs[2].eligible, -1);
    assert_string_equal(rs[0].screened_by, "admin");
    free(rs);
    assert_value(t, "SCR-002", "screening_arm_1", 0, "inc_age", NULL, "0");
    assert_int_equal(audit_count(t, "screen"), 3);
}

static void test_rejected_screening_creates_no_record(void **state)
{
    struct tdb *t = *state;
    struct store_change ch[] = {{"screening_arm_1", 0, "age", NULL, "forty", NULL}};
    char scr[16] = "";
    struct err e = {0};
    assert_int_equal(store_screen_create(t->st, &ADMIN, ch, 1, scr, NULL, &e), ERR_INVALID);
    struct store_record *rs = NULL;
    size_t n = 9;
    assert_int_equal(store_record_list(t->st, &rs, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(rs);
    assert_int_equal(audit_count(t, "screen"), 0);
}

static void test_eligibility_criteria_from_the_protocol(void **state)
{
    struct tdb *t = *state;
    char a[16];
    screen(t, a, "age", "70", "heme", "1", "cats___0", "1", NULL);
    struct arena ar = ARENA_INIT;
    struct elig_result er;
    assert_int_equal(store_record_eligibility(t->st, a, &ar, &er, NULL), 0);
    assert_int_equal(er.verdict, ELIG_INELIGIBLE);
    assert_int_equal(er.ncriteria, 3);
    assert_string_equal(er.criteria[0].field->name, "inc_age");
    assert_false(er.criteria[0].passes);
    assert_true(er.criteria[1].passes);
    assert_false(er.criteria[2].passes);
    arena_free(&ar);
}

static void test_enrol_needs_eligibility_and_consent(void **state)
{
    struct tdb *t = *state;
    char ok[16], old[16], id[16] = "";
    screen(t, ok, "age", "40", "heme", "1", "cats___2", "1", NULL);
    screen(t, old, "age", "70", "heme", "1", "cats___2", "1", NULL);
    struct err e = {0};
    assert_int_equal(store_enroll(t->st, &ADMIN, old, NULL, 0, id, NULL, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "not eligible"));
    assert_int_equal(store_enroll(t->st, &ADMIN, ok, NULL, 0, id, NULL, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "consent"));
    /* consent given with the enrolment itself */
    struct store_change cons[] = {{"screening_arm_1", 0, "cons_type", NULL, "1", NULL}};
    assert_int_equal(store_enroll(t->st, &ADMIN, old, cons, 1, id, NULL, &e), ERR_CONFLICT);
    /* ... which was rolled back with the refusal */
    assert_value(t, old, "screening_arm_1", 0, "cons_type", NULL, NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, ok, cons, 1, id, NULL, &e), 0);
    assert_string_equal(id, "IOH-001");
    struct store_record r;
    assert_int_equal(store_record_get(t->st, "IOH-001", &r, NULL), 0);
    assert_string_equal(r.screening_no, "SCR-001");
    assert_int_equal(r.status, STORE_REC_ENROLLED);
    assert_string_equal(store_record_name(&r), "IOH-001");
    assert_int_equal(store_record_get(t->st, "IOH-999", &r, NULL), ERR_NOT_FOUND);
    assert_string_equal(r.study_id, "IOH-001");
    assert_int_equal(store_enroll(t->st, &ADMIN, ok, NULL, 0, id, NULL, &e), ERR_CONFLICT);
    assert_int_equal(audit_count(t, "enroll"), 1);
}

static void test_only_screening_data_before_enrolment(void **state)
{
    struct tdb *t = *state;
    char s1[16], id[16];
    screen(t, s1, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    struct store_change c[] = {{"day0_arm_1", 0, "weight_kg", NULL, "70", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(store_put_changes(t->st, &ADMIN, s1, c, 1, NULL, &res, &e), ERR_INVALID);
    assert_string_equal(res.issues[0].rule, "not_enrolled");
    assert_non_null(strstr(e.msg, "not enrolled"));
    store_put_result_free(&res);
    assert_int_equal(store_enroll(t->st, &ADMIN, s1, NULL, 0, id, NULL, NULL), 0);
    assert_int_equal(store_put_changes(t->st, &ADMIN, id, c, 1, NULL, NULL, &e), 0);
}

static void test_study_ids_follow_enrolment_order(void **state)
{
    struct tdb *t = *state;
    char s1[16], s2[16], s3[16], id[16];
    screen(t, s1, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    screen(t, s2, "age", "50", "heme", "1", "cats___1", "1", "cons_type", "2", NULL);
    screen(t, s3, "age", "60", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    (void)s2;
    assert_int_equal(store_enroll(t->st, &ADMIN, s3, NULL, 0, id, NULL, NULL), 0);
    assert_string_equal(id, "IOH-001");
    assert_int_equal(store_enroll(t->st, &ADMIN, s1, NULL, 0, id, NULL, NULL), 0);
    assert_string_equal(id, "IOH-002");
}

struct collect {
    char buf[2048];
};

/* One line more in c (the callbacks below each print what they are given). */
__attribute__((format(printf, 2, 3))) static int collect_addf(void *ctx, const char *fmt, ...)
{
    struct collect *c = ctx;
    size_t n = strlen(c->buf);
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->buf + n, sizeof c->buf - n, fmt, ap);
    va_end(ap);
    return 0;
}

static int collect_value(void *ctx, const struct store_value *v)
{
    return collect_addf(ctx, "%s|%s|%d|%s%s%s=%s\n", v->record, v->event, v->instance, v->field,
                        v->code ? "___" : "", v->code ? v->code : "", v->value);
}

/* IOH-001 (enrolled, attempts 1 and 2, then changes c) and SCR-002 (screened out). */
static void two_records(struct tdb *t, const struct store_change *c, size_t n)
{
    char s1[16], s2[16], id[16];
    screen(t, s1, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    screen(t, s2, "age", "70", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, s1, NULL, 0, id, NULL, NULL), 0);
    struct store_change att[] = {{"day0_arm_1", 2, "att_ok", NULL, "1", NULL},
                                 {"day0_arm_1", 1, "att_ok", NULL, "0", NULL}};
    assert_int_equal(store_put_changes(t->st, &ADMIN, id, att, 2, NULL, NULL, NULL), 0);
    if (n)
        assert_int_equal(store_put_changes(t->st, &ADMIN, id, c, n, NULL, NULL, NULL), 0);
}

static void test_study_values_in_record_event_instance_field_order(void **state)
{
    struct tdb *t = *state;
    two_records(t, NULL, 0);
    struct collect col = {""};
    assert_int_equal(store_study_values(t->st, collect_value, &col, NULL), 0);
    assert_string_equal(col.buf, "IOH-001|day0_arm_1|1|att_ok=0\n"
                                 "IOH-001|day0_arm_1|2|att_ok=1\n"
                                 "IOH-001|screening_arm_1|0|age=40\n"
                                 "IOH-001|screening_arm_1|0|cats___1=1\n"
                                 "IOH-001|screening_arm_1|0|cons_type=1\n"
                                 "IOH-001|screening_arm_1|0|eligible=1\n"
                                 "IOH-001|screening_arm_1|0|heme=1\n"
                                 "IOH-001|screening_arm_1|0|inc_age=1\n"
                                 "IOH-001|screening_arm_1|0|inc_cat=1\n"
                                 "IOH-001|screening_arm_1|0|inc_heme=1\n"
                                 "SCR-002|screening_arm_1|0|age=70\n"
                                 "SCR-002|screening_arm_1|0|eligible=0\n"
                                 "SCR-002|screening_arm_1|0|inc_age=0\n");
}

static int collect_form(void *ctx, const struct store_form_data *fd)
{
    return collect_addf(ctx, "%lld|%s|%s\n", fd->record_id, fd->event, fd->form);
}

/* Each (record, event, form) holding a value that is not a calc, once, in record, event, form
 * order: many values and instances of one form are one line; a form holding only calc values
 * is none. */
static void test_forms_with_data_once_each_without_calc_only_forms(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{"day0_arm_1", 1, "att_time_s", NULL, "40", NULL},
                               {"day0_arm_1", 0, "weight_kg", NULL, "70", NULL},
                               {"day0_arm_1", 0, "height_cm", NULL, "175", NULL}};
    two_records(t, c, 3);
    /* a calc value alone on a form (vitals at day 1), as an older protocol could leave one */
    db_exec(t->path, "INSERT INTO value(record_id, event, instance, field, code, form, value) "
                     "VALUES (1, 'day1_arm_1', 0, 'vitals_done', '', 'vitals', '1')");
    struct collect col = {""};
    assert_int_equal(store_forms_with_data(t->st, collect_form, &col, NULL), 0);
    assert_string_equal(col.buf, "1|day0_arm_1|attempt\n"
                                 "1|day0_arm_1|baseline\n"
                                 "1|screening_arm_1|consent\n"
                                 "1|screening_arm_1|screening\n"
                                 "2|screening_arm_1|screening\n");
}

static int collect_field_value(void *ctx, const struct store_value *v)
{
    return collect_addf(ctx, "%lld|%s|%d|%s=%s\n", v->record_id, v->event, v->instance, v->field,
                        v->value);
}

/* The values of a few fields across the study (the dashboard's IO placements and schedule
 * anchors): at the events where the protocol collects each field's form, never a checkbox's
 * options, unknown names skipped, in record, event, instance, field order. extra: the value of
 * sbp at day 9, for a protocol that has that event. */
static void check_fields_values(struct tdb *t, bool day9)
{
    struct store_change c[] = {{"day0_arm_1", 0, "weight_kg", NULL, "70", NULL},
                               {"day0_arm_1", 0, "sbp", NULL, "120", NULL},
                               {"day1_arm_1", 0, "sbp", NULL, "110", NULL},
                               {"day9_arm_1", 0, "sbp", NULL, "95", NULL}};
    two_records(t, c, day9 ? 4 : 3);
    /* a vitals value where the protocol no longer collects the form, as an amendment can leave
     * one behind: not the protocol's data, as on the forms pages */
    db_exec(t->path, "INSERT INTO value(record_id, event, instance, field, code, form, value) "
                     "VALUES (1, 'screening_arm_1', 0, 'sbp', '', 'vitals', '300')");
    static const char *const fields[] = {"sbp", "age", "att_ok", "cats", "nosuch"};
    struct collect col = {""};
    assert_int_equal(store_fields_values(t->st, fields, 5, collect_field_value, &col, NULL), 0);
    char want[512];
    snprintf(want, sizeof want, "%s%s%s",
             "1|day0_arm_1|0|sbp=120\n"
             "1|day0_arm_1|1|att_ok=0\n"
             "1|day0_arm_1|2|att_ok=1\n"
             "1|day1_arm_1|0|sbp=110\n",
             day9 ? "1|day9_arm_1|0|sbp=95\n" : "",
             "1|screening_arm_1|0|age=40\n"
             "2|screening_arm_1|0|age=70\n");
    assert_string_equal(col.buf, want);
    col.buf[0] = '\0';
    assert_int_equal(store_field_values(t->st, "age", collect_field_value, &col, NULL), 0);
    assert_string_equal(col.buf, "1|screening_arm_1|0|age=40\n2|screening_arm_1|0|age=70\n");
    const char *many[STORE_FIELDS_MAX + 1] = {0};
    struct err e = {0};
    assert_int_equal(
        store_fields_values(t->st, many, STORE_FIELDS_MAX + 1, collect_field_value, &col, &e),
        ERR_INVALID);
}

/* The fixture protocol: these fields' forms are collected at three events, read by key. */
static void test_fields_values_at_the_protocols_events(void **state)
{
    check_fields_values(*state, false);
}

/* The same reading where the forms are collected at more events than a read by key takes
 * (vitals at day 0 to day 9): every value is scanned, with the same result. */
static void test_fields_values_at_many_events(void **state)
{
    (void)state;
    char proto[64], cmd[2048];
    snprintf(proto, sizeof proto, "store_test_records_events_%ld", (long)getpid());
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && cp -r %s %s && for d in 2 3 4 5 6 7 8 9; do "
             "echo \"Day $d,1,$d,0,0,day${d}_arm_1,Day $d\" >> %s/events.csv && "
             "echo \"1,day${d}_arm_1,vitals\" >> %s/form_events.csv; done",
             proto, fixture_dir(), proto, proto, proto);
    assert_int_equal(system(cmd), 0);
    struct tdb t;
    tdb_open_protocol(&t, "records_events", proto);
    check_fields_values(&t, true);
    tdb_close(&t);
    snprintf(cmd, sizeof cmd, "rm -rf %s", proto);
    assert_int_equal(system(cmd), 0);
}

static void test_withdraw_keeps_data(void **state)
{
    struct tdb *t = *state;
    char s1[16], id[16];
    screen(t, s1, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_withdraw(t->st, &ADMIN, s1, "x", NULL), ERR_CONFLICT);
    assert_int_equal(store_enroll(t->st, &ADMIN, s1, NULL, 0, id, NULL, NULL), 0);
    assert_int_equal(store_withdraw(t->st, &ADMIN, id, NULL, NULL), ERR_REASON_REQUIRED);
    assert_int_equal(store_withdraw(t->st, &ADMIN, id, "patient request", NULL), 0);
    struct store_record r;
    assert_int_equal(store_record_get(t->st, id, &r, NULL), 0);
    assert_int_equal(r.status, STORE_REC_WITHDRAWN);
    assert_value(t, id, "screening_arm_1", 0, "age", NULL, "40");
}

static void test_unknown_record(void **state)
{
    struct tdb *t = *state;
    struct store_record r;
    struct err e = {0};
    assert_int_equal(store_record_get(t->st, "IOH-999", &r, &e), ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "IOH-999"));
}

/* A parameter SQLite refuses to bind (here: longer than its length limit) fails the read with the
 * bind's reason; the statement used to run with the parameter left NULL and answer "no record". */
static void test_parameter_that_cannot_be_bound_fails_the_read(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    char name[3000];
    memset(name, 'S', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    sqlite3_limit(store_sql_sqlite(t->st->db), SQLITE_LIMIT_LENGTH, 2000);
    struct store_record r;
    struct err e = {0};
    int rc = store_record_get(t->st, name, &r, &e);
    sqlite3_limit(store_sql_sqlite(t->st->db), SQLITE_LIMIT_LENGTH, 1000000000);
    assert_int_equal(rc, ERR_IO);
    assert_non_null(strstr(e.msg, "binding parameter 1"));
    /* the next statement starts clean */
    assert_int_equal(store_record_get(t->st, "IOH-999", &r, NULL), ERR_NOT_FOUND);
}

static void test_create_refuses_existing_file_and_open_refuses_other_files(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    struct store *st = NULL;
    struct err e = {0};
    assert_int_equal(store_create(t->path, fixture_dir(), "admin", ADMIN_PW, &st, &e),
                     ERR_CONFLICT);
    const char *junk = "store_test_junk.db";
    unlink(junk);
    db_exec(junk, "CREATE TABLE x(a)");
    assert_int_equal(store_open(junk, &st, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "not an ioheme database"));
    unlink(junk);
    assert_int_equal(store_open("no/such/file.db", &st, &e), ERR_NOT_FOUND);
    /* a bad protocol leaves no file behind */
    const char *p = "store_test_badproto.db";
    unlink(p);
    assert_int_not_equal(store_create(p, "/nonexistent-protocol", "admin", ADMIN_PW, &st, &e), 0);
    assert_int_not_equal(access(p, F_OK), 0);
}

static int user_version(const char *path)
{
    return db_int(path, "PRAGMA user_version");
}

/* Issue 2's storage rules, read from the file and from the store's own connection: WAL, every
 * table STRICT, foreign keys enforced, and the triggers that guard the audit trail. */
static void test_schema_is_wal_strict_with_foreign_keys_enforced(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    char s1[16];
    screen(t, s1, "age", "40", NULL);
    /* journal_mode=WAL is persistent in the file: any connection sees it */
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_true(db_int(t->path, "SELECT count(*) FROM pragma_table_list WHERE schema = 'main' "
                                "AND type = 'table' AND name NOT LIKE 'sqlite_%'") >= 6);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM pragma_table_list WHERE schema = "
                                     "'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' "
                                     "AND strict = 0"),
                     0);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' "
                                     "AND name IN ('audit_no_update', 'audit_no_delete')"),
                     2);
    /* foreign keys are per connection: the store's must enforce them */
    assert_int_equal(
        sqlite3_prepare_v2(store_sql_sqlite(t->st->db), "PRAGMA foreign_keys", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_exec(store_sql_sqlite(t->st->db),
                                  "INSERT INTO value(record_id, event, instance, field, form, "
                                  "value) VALUES (999999, 'e', 0, 'f', 'x', '1')",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT_FOREIGNKEY);
    /* STRICT: a text where an INTEGER column is declared is refused, not stored as text */
    assert_int_equal(sqlite3_exec(store_sql_sqlite(t->st->db),
                                  "INSERT INTO form_status(record_id, event, form, instance, "
                                  "status) SELECT id, 'e', 'x', 'one', 1 FROM record LIMIT 1",
                                  NULL, NULL, NULL) &
                         0xff,
                     SQLITE_CONSTRAINT);
}

static void test_migrations_from_an_empty_file_and_reopen(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    /* store_create started from an empty file and migrated it to the current version */
    assert_int_equal(user_version(t->path), SCHEMA_VERSION);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM meta WHERE key IN ('created_at', "
                                     "'created_by_version', 'dictionary_sha256')"),
                     3);
    char s1[16];
    screen(t, s1, "age", "40", NULL);
    store_close(t->st);
    /* reopening applies nothing new, keeps data, loads the dict from the database itself */
    struct err e = {0};
    assert_int_equal(store_open(t->path, &t->st, &e), 0);
    assert_int_equal(user_version(t->path), SCHEMA_VERSION);
    assert_non_null(dict_field(store_dict(t->st), "bmi"));
    char *dict_csv = NULL;
    assert_int_equal(store_protocol_file(t->st, "dictionary.csv", &dict_csv, NULL), 0);
    assert_non_null(strstr(dict_csv, "sbp_change"));
    free(dict_csv);
    assert_value(t, "SCR-001", "screening_arm_1", 0, "age", NULL, "40");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
    /* a version-1 database (before queries, SDV, signatures and form locks) is upgraded on open,
     * its data kept */
    store_close(t->st);
    db_exec(t->path, "DROP INDEX record_site; ALTER TABLE record DROP COLUMN site_id; "
                     "ALTER TABLE user DROP COLUMN all_sites; DROP TABLE user_site; "
                     "DROP TABLE site; "
                     "DROP TABLE protocol_archive; DROP TABLE protocol_version; "
                     "ALTER TABLE value DROP COLUMN pver; "
                     "DROP TABLE redaction; DROP TABLE password_history; "
                     "ALTER TABLE user DROP COLUMN password_set_at; "
                     "DROP TABLE form_lock; DROP TABLE signature; "
                     "ALTER TABLE user DROP COLUMN full_name; "
                     "DROP TABLE sdv; DROP TABLE query_message; DROP TABLE query; "
                     "PRAGMA user_version = 1");
    if (store_open(t->path, &t->st, &e) != 0)
        fail_msg("reopening a version-1 database: %s", e.msg);
    assert_int_equal(user_version(t->path), SCHEMA_VERSION);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM query"), 0);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM sdv"), 0);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM form_lock"), 0);
    /* its protocol becomes version 1, archived, and every value was entered under it */
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM protocol_version WHERE version = 1 "
                                     "AND sha256 = (SELECT sha256 FROM protocol_file WHERE name = "
                                     "'dictionary.csv')"),
                     1);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM protocol_archive WHERE version = 1"),
                     db_int(t->path, "SELECT count(*) FROM protocol_file"));
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM value WHERE pver <> 1"), 0);
    assert_int_equal(store_protocol_version(t->st), 1);
    assert_value(t, "SCR-001", "screening_arm_1", 0, "age", NULL, "40");
    /* a database from a newer ioheme is refused */
    store_close(t->st);
    db_exec(t->path, "PRAGMA user_version = 99");
    assert_int_equal(store_open(t->path, &t->st, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "version 99"));
    char restore[64];
    snprintf(restore, sizeof restore, "PRAGMA user_version = %d", SCHEMA_VERSION);
    db_exec(t->path, restore);
    assert_int_equal(store_open(t->path, &t->st, &e), 0);
}

static void test_backup_is_a_consistent_copy(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    char s1[16];
    screen(t, s1, "age", "40", NULL);
    const char *dest = "store_test_backup.db";
    tdb_remove(dest);
    struct store_verify_result vr;
    assert_int_equal(store_backup(t->st, &ADMIN, dest, &vr, NULL), 0);
    assert_int_equal(store_backup(t->st, &ADMIN, dest, NULL, NULL), ERR_CONFLICT);
    struct store *b = NULL;
    struct err e = {0};
    assert_int_equal(store_open(dest, &b, &e), 0);
    struct store_verify_result v1, v2;
    assert_int_equal(store_audit_verify(t->st, &v1, NULL), 0);
    assert_int_equal(store_audit_verify(b, &v2, NULL), 0);
    /* the backup row was written first: it is the last row of both */
    assert_string_equal(v1.head_hash, v2.head_hash);
    assert_string_equal(vr.head_hash, v2.head_hash);
    assert_int_equal(audit_count(t, "backup"), 1);
    store_close(b);
    tdb_remove(dest);
}

/* A backup that cannot be audited is not made: no file is left behind. */
static void test_failed_backup_leaves_no_copy(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    const char *dest = "store_test_backup_fail.db";
    tdb_remove(dest);
    const struct store_ctx ghost = {"ghost", "cli", NULL, NULL};
    struct err e = {0};
    assert_int_equal(store_backup(t->st, &ghost, dest, NULL, &e), ERR_AUTH);
    assert_int_equal(access(dest, F_OK), -1);
    assert_int_equal(audit_count(t, "backup"), 0);
}

/* Backups while another connection writes ~1,000 times a second (the attack ran 12 backups under
 * write load; 6 failed on their audit row and left unaudited copies). Each backup either
 * succeeds with a copy whose last audit row is its own, or fails and leaves nothing. */
struct load {
    const char *path;
    volatile int stop;
    int writes;
};

static void *write_load(void *arg)
{
    struct load *l = arg;
    struct store *st = NULL;
    if (store_open(l->path, &st, NULL) != 0)
        return NULL;
    char v[16];
    while (!l->stop) {
        snprintf(v, sizeof v, "%d", 18 + l->writes % 60);
        struct store_change c[] = {{"screening_arm_1", 0, "age", NULL, v, NULL}};
        if (store_put_changes(st, &ADMIN, "SCR-001", c, 1, NULL, NULL, NULL) == 0)
            l->writes++;
        usleep(1000); /* ~1,000 saves a second (a ward's worth many times over) */
    }
    store_close(st);
    return NULL;
}

static void test_backups_under_write_load_are_audited_or_absent(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    char s1[16];
    screen(t, s1, "age", "40", NULL);
    struct load l = {t->path, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_load, &l), 0);
    int ok = 0;
    for (int i = 0; i < 6; i++) {
        char dest[64];
        snprintf(dest, sizeof dest, "store_test_backup_load_%d.db", i);
        tdb_remove(dest);
        struct store_verify_result vr;
        struct err e = {0};
        if (store_backup(t->st, &ADMIN, dest, &vr, &e) != 0) {
            print_message("backup %d failed: %s\n", i, e.msg);
            assert_int_equal(access(dest, F_OK), -1);
            continue;
        }
        ok++;
        struct store *b = NULL;
        assert_int_equal(store_open(dest, &b, NULL), 0);
        assert_int_equal(audit_count_in(b, "backup"), ok);
        store_close(b);
        tdb_remove(dest);
    }
    l.stop = 1;
    pthread_join(th, NULL);
    assert_true(l.writes > 0);
    assert_int_equal(audit_count(t, "backup"), ok);
    assert_int_equal(ok, 6); /* the store waits its turn for the row instead of failing */
}

/* A writer waits its turn for another connection's transaction and succeeds when it ends
 * within the wait; past the wait it fails as ERR_BUSY (HTTP 503, exit 14) — never ERR_IO — and
 * saves nothing. */
struct holder {
    const char *path;
    int hold_ms;
};

static void *hold_lock(void *arg)
{
    struct holder *h = arg;
    struct store *st = NULL;
    if (store_open(h->path, &st, NULL) != 0 || store_batch_begin(st, NULL) != 0)
        return NULL;
    struct store_change c[] = {{"screening_arm_1", 0, "age", NULL, "41", NULL}};
    store_put_changes(st, &ADMIN, "SCR-001", c, 1, NULL, NULL, NULL); /* takes the write lock */
    usleep((useconds_t)h->hold_ms * 1000);
    store_batch_commit(st, NULL);
    store_close(st);
    return NULL;
}

static void test_busy_database_waits_then_fails_as_busy(void **state)
{
    if (tdb_is_pg())
        skip(); /* SQLite files: PostgreSQL has its own tests */
    struct tdb *t = *state;
    char s1[16];
    screen(t, s1, "age", "40", NULL);
    struct store_change c[] = {{"screening_arm_1", 0, "age", NULL, "42", NULL}};
    /* released after 300 ms, waited for up to 3 s: succeeds */
    store_set_busy_wait(t->st, 3000);
    struct holder h = {t->path, 300};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hold_lock, &h), 0);
    usleep(100 * 1000);
    struct err e = {0};
    assert_int_equal(store_put_changes(t->st, &ADMIN, s1, c, 1, NULL, NULL, &e), 0);
    pthread_join(th, NULL);
    assert_value(t, s1, "screening_arm_1", 0, "age", NULL, "42");
    /* held for 1.5 s, waited for 200 ms: ERR_BUSY, nothing saved */
    store_set_busy_wait(t->st, 200);
    h.hold_ms = 1500;
    assert_int_equal(pthread_create(&th, NULL, hold_lock, &h), 0);
    usleep(100 * 1000);
    struct store_change d[] = {{"screening_arm_1", 0, "age", NULL, "43", NULL}};
    assert_int_equal(store_put_changes(t->st, &ADMIN, s1, d, 1, NULL, NULL, &e), ERR_BUSY);
    assert_non_null(strstr(e.msg, "try again"));
    assert_int_equal(err_info(ERR_BUSY)->http_status, 503);
    pthread_join(th, NULL);
    assert_value(t, s1, "screening_arm_1", 0, "age", NULL, "41"); /* the holder's, not 43 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_screening_numbers_in_order_and_screen_failures_stay),
        T(test_rejected_screening_creates_no_record),
        T(test_eligibility_criteria_from_the_protocol),
        T(test_enrol_needs_eligibility_and_consent),
        T(test_only_screening_data_before_enrolment),
        T(test_study_ids_follow_enrolment_order),
        T(test_study_values_in_record_event_instance_field_order),
        T(test_forms_with_data_once_each_without_calc_only_forms),
        T(test_fields_values_at_the_protocols_events),
        cmocka_unit_test(test_fields_values_at_many_events),
        T(test_withdraw_keeps_data),
        T(test_unknown_record),
        T(test_parameter_that_cannot_be_bound_fails_the_read),
        T(test_create_refuses_existing_file_and_open_refuses_other_files),
        T(test_migrations_from_an_empty_file_and_reopen),
        T(test_schema_is_wal_strict_with_foreign_keys_enforced),
        T(test_backup_is_a_consistent_copy),
        T(test_failed_backup_leaves_no_copy),
        T(test_backups_under_write_load_are_audited_or_absent),
        T(test_busy_database_waits_then_fails_as_busy),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
