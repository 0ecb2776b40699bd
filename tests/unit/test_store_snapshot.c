/* Read snapshots (store/snapshot.c, and on PostgreSQL sqldb.c, which sends a snapshot's BEGIN
 * with its first statement and its COMMIT without waiting for the answer): one form's values
 * and status in one read; a snapshot that reads nothing, or whose reads fail, leaves the
 * connection usable; a write made elsewhere is seen by the next snapshot; a session the server
 * dropped between snapshots is replaced; the signed-in user's sites, read with the session, are
 * the reader's scope in that snapshot and only there. Runs on both backends. */
#include "store_test_util.h"

#include "store/sessions.h"
#include "store/snapshot.h"

#define D0 "day0_arm_1"

struct form_read {
    char seen[256];
};

static int collect(void *ctx, const struct store_value *v)
{
    struct form_read *f = ctx;
    char one[64];
    snprintf(one, sizeof one, "%s=%s;", v->field, v->value ? v->value : "");
    strncat(f->seen, one, sizeof f->seen - strlen(f->seen) - 1);
    return 0;
}

/* IOH-001 enrolled, with weight and height on its baseline form (and the BMI they give). */
static void enrolled(struct tdb *t)
{
    char scr[16];
    screen(t, scr, "age", "40", "sex", "1", "heme", "1", "cats___1", "1", NULL);
    struct err e = {0};
    char sid[16];
    struct store_change cons = {"screening_arm_1", 0, "cons_type", NULL, "1", NULL};
    if (store_enroll(t->st, &ADMIN, scr, &cons, 1, sid, NULL, &e) != 0)
        fail_msg("enrol: %s", e.msg);
    struct store_change v[] = {{D0, 0, "weight_kg", NULL, "70.0", NULL},
                               {D0, 0, "height_cm", NULL, "175", NULL}};
    if (store_put_changes(t->st, &ADMIN, sid, v, 2, NULL, NULL, &e) != 0)
        fail_msg("put: %s", e.msg);
}

static int form_read(struct store *st, const char *form, struct form_read *f, int *status)
{
    memset(f, 0, sizeof *f);
    struct err e = {0};
    assert_int_equal(store_snapshot_begin(st, &e), 0);
    int rc = store_form_values(st, "IOH-001", D0, form, 0, collect, f, status, NULL, &e);
    store_snapshot_end(st);
    return rc;
}

/* Values in field order and the form's status, from one statement: with and without a status,
 * and a status with no values left. */
static void test_a_forms_values_and_status_in_one_read(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "snap_form");
    enrolled(&t);
    struct form_read f;
    int status = 99;
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
    assert_string_equal(f.seen, "bmi=22.9;height_cm=175;weight_kg=70.0;");
    assert_int_equal(status, -1); /* never set */
    struct err e = {0};
    struct store_change done = {D0, 0, "baseline_complete", NULL, "2", NULL};
    assert_int_equal(store_put_changes(t.st, &ADMIN, "IOH-001", &done, 1, NULL, NULL, &e), 0);
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
    assert_string_equal(f.seen, "bmi=22.9;height_cm=175;weight_kg=70.0;");
    assert_int_equal(status, 2);
    /* another form of the same event: neither its values nor its status */
    assert_int_equal(form_read(t.st, "vitals", &f, &status), 0);
    assert_string_equal(f.seen, "");
    assert_int_equal(status, -1);
    /* the form reopened and its values emptied: a status and no values */
    struct store_change none[] = {{D0, 0, "baseline_complete", NULL, "0", NULL},
                                  {D0, 0, "weight_kg", NULL, "", NULL},
                                  {D0, 0, "height_cm", NULL, "", NULL}};
    if (store_put_changes(t.st, &ADMIN, "IOH-001", none, 3, "entered on the wrong patient", NULL,
                          &e) != 0)
        fail_msg("emptying: %s (%s)", e.msg, e.field);
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
    assert_string_equal(f.seen, "");
    assert_int_equal(status, 0);
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0); /* a second time: the same */
    assert_int_equal(status, 0);
    tdb_close(&t);
}

/* A snapshot that reads nothing, one whose read is refused (no such record), and then writes
 * and reads on the same connection: each sees the state before it. */
static void test_empty_and_failed_snapshots_leave_the_connection_usable(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "snap_empty");
    enrolled(&t);
    struct err e = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_snapshot_begin(t.st, &e), 0);
        store_snapshot_end(t.st);
    }
    int status = 0;
    assert_int_equal(store_snapshot_begin(t.st, &e), 0);
    struct form_read f = {0};
    assert_int_equal(
        store_form_values(t.st, "IOH-999", D0, "baseline", 0, collect, &f, &status, NULL, &e),
        ERR_NOT_FOUND);
    store_snapshot_end(t.st);
    struct store_change v = {D0, 0, "weight_kg", NULL, "71.5", NULL};
    assert_int_equal(store_put_changes(t.st, &ADMIN, "IOH-001", &v, 1, NULL, NULL, &e), 0);
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
    assert_non_null(strstr(f.seen, "weight_kg=71.5;"));
    char *w = get(&t, "IOH-001", D0, 0, "weight_kg", NULL);
    assert_string_equal(w, "71.5");
    free(w);
    tdb_close(&t);
}

/* Two connections (two server processes): what one writes between the other's snapshots is in
 * the other's next snapshot — the snapshot before it ended, whether or not its COMMIT's answer
 * was waited for. */
static void test_a_write_elsewhere_is_in_the_next_snapshot(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "snap_two");
    enrolled(&t);
    struct store *other = NULL;
    struct err e = {0};
    assert_int_equal(store_open(t.path, &other, &e), 0);
    struct form_read f;
    int status;
    char want[32];
    for (int i = 0; i < 5; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d.0", 60 + i);
        struct store_change c = {D0, 0, "weight_kg", NULL, v, NULL};
        assert_int_equal(store_put_changes(other, &ADMIN, "IOH-001", &c, 1, NULL, NULL, &e), 0);
        assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
        snprintf(want, sizeof want, "weight_kg=%s;", v);
        assert_non_null(strstr(f.seen, want));
    }
    store_close(other);
    tdb_close(&t);
}

/* PostgreSQL: the server ends the store's session between two snapshots (a restart, an admin's
 * pg_terminate_backend): the next snapshot reads on a new session. */
static void test_a_session_dropped_between_snapshots_is_replaced(void **state)
{
    (void)state;
    if (!tdb_is_pg())
        skip();
    struct tdb t;
    tdb_open(&t, "snap_drop");
    enrolled(&t);
    struct form_read f;
    int status;
    assert_int_equal(form_read(t.st, "baseline", &f, &status), 0);
    PGconn *c = db_pg(t.path);
    PQclear(db_pg_exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND pid <> pg_backend_pid()"));
    PQfinish(c);
    usleep(100 * 1000);
    int rc = form_read(t.st, "baseline", &f, &status);
    if (rc != 0) /* the loss found by this read: answered busy, the next one reconnects */
        rc = form_read(t.st, "baseline", &f, &status);
    assert_int_equal(rc, 0);
    assert_string_equal(f.seen, "bmi=22.9;height_cm=175;weight_kg=70.0;");
    tdb_close(&t);
}

/* In a snapshot: the session checked, then the reader set (as the web server does). */
static int records_seen_by(struct tdb *t, const char *token, enum role role, const char *as)
{
    struct err e = {0};
    struct store_user u;
    assert_int_equal(store_snapshot_begin(t->st, &e), 0);
    assert_int_equal(store_session_verify(t->st, token, false, &u, &e), 0);
    assert_int_equal(store_set_reader(t->st, role, as ? as : u.name, &e), 0);
    int n = count_records(t->st);
    store_snapshot_end(t->st);
    return n;
}

/* The sites read with the session are the reader's scope in that snapshot: a change of the
 * user's sites is in force at the next request; another reader in the same snapshot reads its
 * own sites; outside a snapshot they are read as before. */
static void test_the_sessions_sites_are_the_readers_scope_in_that_snapshot(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "snap_sites");
    struct err e = {0};
    assert_int_equal(store_site_add(t.st, &ADMIN, "A", "Hospital A", &e), 0);
    assert_int_equal(store_site_add(t.st, &ADMIN, "B", "Hospital B", &e), 0);
    assert_int_equal(store_user_add(t.st, &ADMIN, "nurse", "coordinator", "nurse-pass-1", &e), 0);
    const char *a[] = {"A"}, *b[] = {"B"}, *ab[] = {"A", "B"};
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, a, 1, "works at A", &e), 0);
    struct store_change ch[] = {{"screening_arm_1", 0, "age", NULL, "40", NULL}};
    const char *where[] = {"A", "B", "B", NULL};
    for (int i = 0; i < 4; i++) {
        struct store_ctx who = ADMIN;
        who.site = where[i];
        char scr[16];
        if (store_screen_create(t.st, &who, ch, 1, scr, NULL, &e) != 0)
            fail_msg("screen: %s", e.msg);
    }
    char tok[65];
    assert_int_equal(store_session_create(t.st, "nurse", 3600, tok, &e), 0);
    assert_int_equal(records_seen_by(&t, tok, ROLE_COORDINATOR, NULL), 1);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, b, 1, "moved to B", &e), 0);
    assert_int_equal(records_seen_by(&t, tok, ROLE_COORDINATOR, NULL), 2);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, ab, 2, "both", &e), 0);
    assert_int_equal(records_seen_by(&t, tok, ROLE_COORDINATOR, NULL), 3);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", true, NULL, 0, "every site", &e),
                     0);
    assert_int_equal(records_seen_by(&t, tok, ROLE_COORDINATOR, NULL), 4);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, NULL, 0, "none", &e), 0);
    assert_int_equal(records_seen_by(&t, tok, ROLE_COORDINATOR, NULL), 0);
    /* the nurse's session, another reader: that reader's own sites (admin: every site) */
    assert_int_equal(records_seen_by(&t, tok, ROLE_ADMIN, "admin"), 4);
    /* outside a snapshot, the sites are read for the reader */
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, a, 1, "back to A", &e), 0);
    assert_int_equal(store_set_reader(t.st, ROLE_COORDINATOR, "nurse", &e), 0);
    assert_int_equal(count_records(t.st), 1);
    tdb_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_forms_values_and_status_in_one_read),
        cmocka_unit_test(test_empty_and_failed_snapshots_leave_the_connection_usable),
        cmocka_unit_test(test_a_write_elsewhere_is_in_the_next_snapshot),
        cmocka_unit_test(test_a_session_dropped_between_snapshots_is_replaced),
        cmocka_unit_test(test_the_sessions_sites_are_the_readers_scope_in_that_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
