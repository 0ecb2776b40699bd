/* REDCap's instance references in calcs, through the one write path (issue 12: [field][N],
 * [first-instance], [last-instance]): a calc on the day-0 baseline form reads the repeating
 * attempt form's instances, and is recomputed as attempts are added and changed. The fixture
 * protocol (tests/fixtures/store/) with three calcs added to its baseline form; expected values
 * are the attempts' times written out below. */
#include "store_test_util.h"

#define D0 "day0_arm_1"

static char proto[256];

/* A copy of the fixture protocol with three calcs on the baseline form (after its bmi). */
static void make_protocol(void)
{
    snprintf(proto, sizeof proto, "store_test_instances_proto_%ld", (long)getpid());
    char cmd[2048], path[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", proto, fixture_dir(), proto);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/dictionary.csv", proto);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536], out[70000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    const char *bmi = strstr(text, "\nbmi,baseline,");
    assert_non_null(bmi);
    const char *after = strchr(bmi + 1, '\n') + 1;
    snprintf(out, sizeof out, "%.*s%s%s%s%s", (int)(after - text), text,
             "last_time,baseline,,calc,Last attempt time,\"[att_time_s][last-instance]\",s,,,,,,,,"
             ",,,\n",
             "first_time,baseline,,calc,First attempt time,"
             "\"[day0_arm_1][att_time_s][first-instance]\",s,,,,,,,,,,,\n",
             "second_time,baseline,,calc,Second attempt time,\"[att_time_s][2] + 0\",s,,,,,,,,,,,"
             "\n",
             after);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(out, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    make_protocol();
    struct tdb *t = calloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "store_test_instances_%ld.db", (long)getpid());
    tdb_remove(t->path);
    struct err e = {0};
    if (store_create(t->path, proto, "admin", ADMIN_PW, &t->st, &e) != 0)
        fail_msg("store_create: %s", e.msg);
    t->now = 1767254400000LL;
    store_set_clock(t->st, test_clock, t);
    char scr[16], id[16];
    screen(t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", proto);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(struct tdb *t, int instance, const char *field, const char *value)
{
    struct store_change c[] = {{D0, instance, field, NULL, value, NULL}};
    struct err e = {0};
    if (store_put_changes(t->st, &ADMIN, "SCR-001", c, 1, NULL, NULL, &e) != 0)
        fail_msg("put %s[%d]: %s", field, instance, e.msg);
}

static void expect(struct tdb *t, const char *field, const char *want)
{
    char *v = get(t, "SCR-001", D0, 0, field, NULL);
    if (want)
        assert_string_equal(v ? v : "(blank)", want);
    else
        assert_null(v);
    free(v);
}

static void test_last_first_and_nth_instance_follow_the_attempts(void **state)
{
    struct tdb *t = *state;
    put(t, 0, "weight_kg", "70"); /* the baseline form has data: its calcs are computed */
    expect(t, "last_time", NULL);
    put(t, 1, "att_time_s", "30");
    expect(t, "last_time", "30");
    expect(t, "first_time", "30");
    expect(t, "second_time", NULL); /* no second attempt: blank, and blank + 0 is blank */
    put(t, 2, "att_time_s", "40");
    put(t, 3, "att_time_s", "95");
    expect(t, "last_time", "95");
    expect(t, "first_time", "30");
    expect(t, "second_time", "40");
    put(t, 2, "att_time_s", "45"); /* a correction of the second attempt */
    expect(t, "second_time", "45");
    expect(t, "last_time", "95");
    put(t, 5, "att_time_s", "120"); /* instances need not be consecutive */
    expect(t, "last_time", "120");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_last_first_and_nth_instance_follow_the_attempts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
