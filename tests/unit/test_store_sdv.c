/* Source data verification: verifying a form or one field (permission sdv, audited), a change
 * clearing the verification in the same transaction (audited), and progress against the plan
 * (tests/fixtures/store/sdv.csv: baseline for every record, vitals' sbp for a sample of half). */
#include "store_test_util.h"

#define D0 "day0_arm_1"

static const struct store_ctx MON = {"mon", "cli", NULL, NULL};
static const struct store_ctx NURSE = {"nurse", "cli", NULL, NULL};

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "sdv");
    char scr[16], id[16];
    screen(t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "mon", "monitor", "monitor-pass", NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass-1", NULL),
                     0);
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70.5", NULL},
                               {D0, 0, "height_cm", NULL, "175", NULL},
                               {D0, 0, "sbp", NULL, "120", NULL}};
    struct err e = {0};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", c, 3, NULL, NULL, &e), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

/* The record's total row of the progress. */
static struct store_sdv_count total(struct tdb *t)
{
    struct store_sdv_count *c = NULL, out = {0};
    size_t n = 0;
    assert_int_equal(store_sdv_progress(t->st, "IOH-001", &c, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (!c[i].form[0])
            out = c[i];
    free(c);
    return out;
}

static void test_verify_clear_and_progress(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    size_t n = 0;
    /* planned: weight and height (baseline, every record; bmi is a calc), sbp only when
     * IOH-001 is in the half sample */
    bool sbp_planned = dict_sdv_selected(0.5, "IOH-001");
    struct store_sdv_count c0 = total(t);
    assert_int_equal(c0.required, 2 + sbp_planned);
    assert_int_equal(c0.required_verified, 0);
    /* a coordinator may not verify: refused and audited */
    int denied = audit_count(t, "denied");
    assert_int_equal(store_sdv_verify(t->st, &NURSE, "IOH-001", D0, 0, "baseline", NULL, &n, &e),
                     ERR_FORBIDDEN);
    assert_int_equal(audit_count(t, "denied"), denied + 1);
    /* the monitor verifies the baseline form: two values (the calc is not verified) */
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", "day0", 0, "baseline", NULL, &n, &e),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(audit_count(t, "sdv_verify"), 2);
    /* again: nothing new, nothing audited */
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", D0, 0, "baseline", NULL, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(audit_count(t, "sdv_verify"), 2);
    struct store_sdv_count c1 = total(t);
    assert_int_equal(c1.required_verified, 2);
    /* one field: sbp */
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", D0, 0, NULL, "sbp", &n, &e), 0);
    assert_int_equal(n, 1);
    struct store_sdv_count c2 = total(t);
    assert_int_equal(c2.required_verified, 2 + sbp_planned);
    assert_int_equal(c2.other_verified, !sbp_planned);
    /* a change of a verified value clears it in the same transaction, audited */
    struct store_change ch = {D0, 0, "weight_kg", NULL, "71", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &ch, 1, NULL, NULL, &e), 0);
    assert_int_equal(audit_count(t, "sdv_clear"), 1);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM audit WHERE action = 'sdv_clear' AND "
                                     "field = 'weight_kg' AND old_value = '70.5' AND "
                                     "new_value = '71'"),
                     1);
    struct store_sdv_count c3 = total(t);
    assert_int_equal(c3.required_verified, 1 + sbp_planned);
    /* a refused change set clears nothing */
    struct store_change bad[] = {{D0, 0, "height_cm", NULL, "176", NULL},
                                 {D0, 0, "weight_kg", NULL, "heavy", NULL}};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", bad, 2, NULL, NULL, &e),
                     ERR_INVALID);
    assert_int_equal(audit_count(t, "sdv_clear"), 1);
    /* nothing to verify, unknown names, wrong place */
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", "day1", 0, "vitals", NULL, &n, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "form");
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", D0, 0, NULL, "bmi", &n, &e),
                     ERR_INVALID);
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", "day1", 0, "baseline", NULL, &n, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "event");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, &e), 0);
}

static void test_plan_met_only_when_every_required_value_is_verified(void **state)
{
    struct tdb *t = *state;
    struct store_sdv_count *c = NULL;
    size_t n = 0;
    assert_int_equal(store_sdv_progress(t->st, NULL, &c, &n, NULL), 0);
    assert_false(store_sdv_plan_met(c, n));
    free(c);
    size_t k;
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", D0, 0, "baseline", NULL, &k, NULL),
                     0);
    assert_int_equal(store_sdv_verify(t->st, &MON, "IOH-001", D0, 0, "vitals", NULL, &k, NULL), 0);
    assert_int_equal(store_sdv_progress(t->st, NULL, &c, &n, NULL), 0);
    assert_true(store_sdv_plan_met(c, n));
    /* a record not enrolled is not counted */
    for (size_t i = 0; i < n; i++)
        assert_string_equal(c[i].record, "IOH-001");
    free(c);
}

/* Progress over the study: one count per enrolled record and form holding values, forms in
 * name order and the record's total after them, records in name order; calcs and records not
 * enrolled not counted. Counted by hand from the values written: IOH-001 (setup) has screening
 * age, heme and one checkbox option, consent's type, baseline's weight and height and day 0's
 * sbp; IOH-002 the same screening and consent, weight alone and sbp at day 1. */
static void test_progress_per_record_and_form(void **state)
{
    struct tdb *t = *state;
    char s2[16], s3[16], id[16];
    screen(t, s2, "age", "70", NULL); /* a screen failure */
    screen(t, s3, "age", "50", "heme", "1", "cats___2", "1", "cons_type", "2", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, s3, NULL, 0, id, NULL, NULL), 0);
    assert_string_equal(id, "IOH-002");
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "80", NULL},
                               {"day1_arm_1", 0, "sbp", NULL, "101", NULL}};
    assert_int_equal(store_put_changes(t->st, &NURSE, id, c, 2, NULL, NULL, NULL), 0);
    size_t k;
    assert_int_equal(store_sdv_verify(t->st, &MON, id, D0, 0, "baseline", NULL, &k, NULL), 0);
    assert_int_equal(k, 1);
    struct store_sdv_count *cs = NULL;
    size_t n = 0;
    assert_int_equal(store_sdv_progress(t->st, NULL, &cs, &n, NULL), 0);
    char got[1024] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(got);
        snprintf(got + l, sizeof got - l, "%s|%s|%zu|%zu|%zu|%zu\n", cs[i].record, cs[i].form,
                 cs[i].values, cs[i].required, cs[i].required_verified, cs[i].other_verified);
    }
    free(cs);
    int a = dict_sdv_selected(0.5, "IOH-001"), b = dict_sdv_selected(0.5, "IOH-002");
    char want[1024];
    snprintf(want, sizeof want,
             "IOH-001|baseline|2|2|0|0\n"
             "IOH-001|consent|1|0|0|0\n"
             "IOH-001|screening|3|0|0|0\n"
             "IOH-001|vitals|1|%d|0|0\n"
             "IOH-001||7|%d|0|0\n"
             "IOH-002|baseline|1|1|1|0\n"
             "IOH-002|consent|1|0|0|0\n"
             "IOH-002|screening|3|0|0|0\n"
             "IOH-002|vitals|1|%d|0|0\n"
             "IOH-002||6|%d|1|0\n",
             a, 2 + a, b, 1 + b);
    assert_string_equal(got, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_clear_and_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_met_only_when_every_required_value_is_verified,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_per_record_and_form, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
