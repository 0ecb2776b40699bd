/* Eligibility from @INCLUSION / @EXCLUSION / @ELIGIBLE calc fields, on the good fixture's
 * screening form: inclusion age 18-65 (age = rounddown(datediff(dob, scr_date, "y"))), in ICU;
 * exclusion pregnancy. Ages are counted by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/eligibility.h"
#include "redcap_header.h"

struct kv {
    const char *field, *value;
};

static int lookup(void *ctx, const char *event, const char *field, const char *code, int instance,
                  struct expr_value *out, struct err *e)
{
    (void)instance;
    (void)e;
    out->kind = EV_BLANK;
    if (event || code)
        return 0;
    for (const struct kv *k = ctx; k->field; k++)
        if (strcmp(k->field, field) == 0) {
            out->kind = EV_STR;
            out->str = k->value;
        }
    return 0;
}

static struct dict d;

static int load(void **state)
{
    (void)state;
    char path[1024];
    const char *root = getenv("IOHEME_FIXTURES");
    snprintf(path, sizeof path, "%s/dict/good", root ? root : "tests/fixtures");
    struct err e;
    return dict_load(path, &d, &e);
}

static int unload(void **state)
{
    (void)state;
    dict_free(&d);
    return 0;
}

static enum elig_verdict run(const struct kv *kv, struct elig_result *r, struct arena *ar)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(elig_evaluate(&d, lookup, (void *)kv, 0, ar, r, &e), 0);
    return r->verdict;
}

static const struct elig_criterion *crit(const struct elig_result *r, const char *name)
{
    for (size_t i = 0; i < r->ncriteria; i++)
        if (strcmp(r->criteria[i].field->name, name) == 0)
            return &r->criteria[i];
    fail_msg("no criterion %s", name);
    return NULL;
}

static void test_age_70_is_ineligible_on_age(void **state)
{
    (void)state;
    /* 1954-01-10 .. 2024-03-01: past the 70th birthday (2024-01-10), before the 71st */
    const struct kv kv[] = {{"scr_date", "2024-03-01"},
                            {"dob", "1954-01-10"},
                            {"icu", "1"},
                            {"sex", "1"},
                            {NULL, NULL}};
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    assert_int_equal(run(kv, &r, &ar), ELIG_INELIGIBLE);
    assert_int_equal(r.ncriteria, 3);
    assert_string_equal(r.criteria[0].field->name, "inc_age"); /* dictionary order */
    assert_int_equal(crit(&r, "inc_age")->state, CRIT_NOT_MET);
    assert_false(crit(&r, "inc_age")->passes);
    assert_int_equal(crit(&r, "inc_icu")->state, CRIT_MET);
    assert_true(crit(&r, "inc_icu")->passes);
    assert_true(crit(&r, "exc_preg")->is_exclusion);
    assert_int_equal(crit(&r, "exc_preg")->state, CRIT_NOT_MET); /* male: not pregnant */
    assert_true(crit(&r, "exc_preg")->passes);
    arena_free(&ar);
}

static void test_complete_eligible_patient(void **state)
{
    (void)state;
    /* 1980-06-15 .. 2024-03-01: 43 years */
    const struct kv kv[] = {
        {"scr_date", "2024-03-01"}, {"dob", "1980-06-15"}, {"icu", "1"}, {"sex", "2"},
        {"pregnant", "0"},          {NULL, NULL}};
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    assert_int_equal(run(kv, &r, &ar), ELIG_ELIGIBLE);
    for (size_t i = 0; i < r.ncriteria; i++)
        assert_true(r.criteria[i].passes);
    arena_free(&ar);
}

static void test_missing_value_gives_incomplete(void **state)
{
    (void)state;
    const struct kv kv[] = {{"scr_date", "2024-03-01"},
                            {"dob", "1980-06-15"},
                            {"sex", "1"},
                            {NULL, NULL}}; /* icu not answered */
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    assert_int_equal(run(kv, &r, &ar), ELIG_INCOMPLETE);
    assert_int_equal(crit(&r, "inc_icu")->state, CRIT_UNKNOWN);
    assert_false(crit(&r, "inc_icu")->passes);
    assert_int_equal(crit(&r, "inc_age")->state, CRIT_MET);
    arena_free(&ar);
}

static void test_met_exclusion_makes_ineligible(void **state)
{
    (void)state;
    const struct kv kv[] = {
        {"scr_date", "2024-03-01"}, {"dob", "1990-01-01"}, {"icu", "1"}, {"sex", "2"},
        {"pregnant", "1"},          {NULL, NULL}};
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    assert_int_equal(run(kv, &r, &ar), ELIG_INELIGIBLE);
    assert_int_equal(crit(&r, "exc_preg")->state, CRIT_MET);
    assert_false(crit(&r, "exc_preg")->passes);
    arena_free(&ar);
}

static void test_age_boundary_on_18th_birthday(void **state)
{
    (void)state;
    /* 2006-03-01 .. 2024-03-01: 18*365 + 5 leap days (2008, 12, 16, 20, 24) = 6575 days,
     * 6575 / 365.2425 = 18.0019 -> 18: included. One day later born: 6574 d = 17.9992 -> 17. */
    struct kv kv[] = {{"scr_date", "2024-03-01"},
                      {"dob", "2006-03-01"},
                      {"icu", "1"},
                      {"sex", "1"},
                      {NULL, NULL}};
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    assert_int_equal(run(kv, &r, &ar), ELIG_ELIGIBLE);
    kv[1].value = "2006-03-02";
    assert_int_equal(run(kv, &r, &ar), ELIG_INELIGIBLE);
    assert_int_equal(crit(&r, "inc_age")->state, CRIT_NOT_MET);
    arena_free(&ar);
}

static void test_without_eligible_field_verdict_comes_from_criteria(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,s,,text,ID,,,,,,,,,,,,,\n"
             "plt,s,,text,Platelets,,,integer,,,,,,,,,,\n"
             "inc_plt,s,,calc,Platelets < 20,\"if([plt] = '', '', [plt] < 20)\",,,,,,,,,,,,"
             "@INCLUSION\n"
             "exc_x,s,,calc,Never,0,,,,,,,,,,,,@EXCLUSION\n");
    struct dict dd;
    struct err e;
    err_clear(&e);
    if (dict_load_mem(csv, NULL, NULL, NULL, &dd, &e))
        fail_msg("%s", e.msg);
    struct arena ar = ARENA_INIT;
    struct elig_result r;
    const struct kv low[] = {{"plt", "15"}, {NULL, NULL}};
    const struct kv high[] = {{"plt", "150"}, {NULL, NULL}};
    const struct kv none[] = {{NULL, NULL}};
    assert_int_equal(elig_evaluate(&dd, lookup, (void *)low, 0, &ar, &r, &e), 0);
    assert_int_equal(r.verdict, ELIG_ELIGIBLE);
    assert_int_equal(elig_evaluate(&dd, lookup, (void *)high, 0, &ar, &r, &e), 0);
    assert_int_equal(r.verdict, ELIG_INELIGIBLE);
    assert_int_equal(elig_evaluate(&dd, lookup, (void *)none, 0, &ar, &r, &e), 0);
    assert_int_equal(r.verdict, ELIG_INCOMPLETE);
    arena_free(&ar);
    dict_free(&dd);
}

static void test_calc_cycle_is_refused_when_loading(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,s,,text,ID,,,,,,,,,,,,,\n"
             "a,s,,calc,A,[b] + 1,,,,,,,,,,,,@INCLUSION\n"
             "b,s,,calc,B,[c] * 2,,,,,,,,,,,,\n"
             "c,s,,calc,C,[a] - 1,,,,,,,,,,,,\n"
             "d,s,,calc,D,[d],,,,,,,,,,,,\n");
    struct dict dd;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(csv, NULL, NULL, NULL, &dd, &e), ERR_INVALID);
    assert_string_equal(e.msg, "dictionary.csv:3:6: calc field 'a' depends on itself: "
                               "a -> b -> c -> a\n"
                               "dictionary.csv:6:6: calc field 'd' depends on itself: d -> d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_70_is_ineligible_on_age),
        cmocka_unit_test(test_complete_eligible_patient),
        cmocka_unit_test(test_missing_value_gives_incomplete),
        cmocka_unit_test(test_met_exclusion_makes_ineligible),
        cmocka_unit_test(test_age_boundary_on_18th_birthday),
        cmocka_unit_test(test_without_eligible_field_verdict_comes_from_criteria),
        cmocka_unit_test(test_calc_cycle_is_refused_when_loading),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
