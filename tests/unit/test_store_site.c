/* The site time zone in the store (store_site_timezone, store_set_site_timezone): a database
 * without one reads as UTC and says it has none; setting one writes it and its audit row in one
 * transaction; an unknown zone, an inactive user or the same zone again change nothing. */
#include "store_test_util.h"

struct audit_seen {
    int nrows;
    char action[32], old_value[64], new_value[64], reason[64], user[32];
};

static int last_row(void *ctx, const struct store_audit_row *a)
{
    struct audit_seen *s = ctx;
    s->nrows++;
    snprintf(s->action, sizeof s->action, "%s", a->action);
    snprintf(s->old_value, sizeof s->old_value, "%s", a->old_value ? a->old_value : "(null)");
    snprintf(s->new_value, sizeof s->new_value, "%s", a->new_value ? a->new_value : "(null)");
    snprintf(s->reason, sizeof s->reason, "%s", a->reason ? a->reason : "(null)");
    snprintf(s->user, sizeof s->user, "%s", a->user);
    return 0;
}

static void test_a_database_without_a_zone_reads_as_utc_and_says_so(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "site_default");
    char zone[STORE_TZ_LEN];
    bool is_set = true;
    assert_int_equal(store_site_timezone(t.st, zone, &is_set, NULL), 0);
    assert_string_equal(zone, "UTC");
    assert_false(is_set);
    tdb_close(&t);
}

static void test_setting_the_zone_is_written_and_audited_together(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "site_set");
    struct err e = {0};
    assert_int_equal(store_set_site_timezone(t.st, &ADMIN, "Europe/London", NULL, &e), 0);
    char zone[STORE_TZ_LEN];
    bool is_set = false;
    assert_int_equal(store_site_timezone(t.st, zone, &is_set, NULL), 0);
    assert_string_equal(zone, "Europe/London");
    assert_true(is_set);
    struct audit_seen s = {0};
    assert_int_equal(store_audit_foreach(t.st, last_row, &s, NULL), 0);
    assert_string_equal(s.action, "site_timezone");
    assert_string_equal(s.old_value, "(null)");
    assert_string_equal(s.new_value, "Europe/London");
    assert_string_equal(s.user, "admin");

    assert_int_equal(
        store_set_site_timezone(t.st, &ADMIN, "Asia/Shanghai", "wrong zone at init", &e), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_audit_foreach(t.st, last_row, &s, NULL), 0);
    assert_string_equal(s.old_value, "Europe/London");
    assert_string_equal(s.new_value, "Asia/Shanghai");
    assert_string_equal(s.reason, "wrong zone at init");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t.st, &vr, NULL), 0);
    tdb_close(&t);
}

static void test_a_refused_zone_change_leaves_the_database_unchanged(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "site_refused");
    struct err e = {0};
    assert_int_equal(store_set_site_timezone(t.st, &ADMIN, "Europe/London", NULL, &e), 0);
    char before[65], after[65];
    db_digest(t.path, before);
    assert_int_equal(store_set_site_timezone(t.st, &ADMIN, "Europe/Londn", "typo", &e),
                     ERR_INVALID);
    assert_int_equal(store_set_site_timezone(t.st, &ADMIN, "Europe/London", "again", &e),
                     ERR_CONFLICT);
    const struct store_ctx ghost = {"ghost", "cli", NULL, NULL};
    assert_int_equal(store_set_site_timezone(t.st, &ghost, "Asia/Shanghai", "x", &e), ERR_AUTH);
    db_digest(t.path, after);
    assert_string_equal(before, after);
    tdb_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_database_without_a_zone_reads_as_utc_and_says_so),
        cmocka_unit_test(test_setting_the_zone_is_written_and_audited_together),
        cmocka_unit_test(test_a_refused_zone_change_leaves_the_database_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
