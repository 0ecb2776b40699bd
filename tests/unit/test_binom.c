/* binom.test, one-sample prop.test (Wilson) and the Poisson rate interval against R
 * (tests/fixtures/stats/{binom,wilson,poisson}.csv from make.R). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/binom.h"
#include "stats_fixture.h"

static void test_binom_test_matches_r_all_alternatives(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "binom.csv");
    assert_true(t.nrows >= 60);
    for (size_t i = 0; i < t.nrows; i++) {
        struct binom_result r;
        struct err e;
        assert_int_equal(binom_test((long)fx_num(&t, i, "x"), (long)fx_num(&t, i, "n"),
                                    fx_num(&t, i, "p"), fx_alt(&t, i), fx_num(&t, i, "conf_level"),
                                    &r, &e),
                         0);
        FX_CHECK(&t, i, "estimate", r.estimate);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        FX_CHECK(&t, i, "p_value", r.p_value);
        FX_CHECK(&t, i, "x", r.statistic);
        FX_CHECK(&t, i, "n", r.parameter);
    }
    csv_table_free(&t);
}

static void test_binom_test_rejects_x_above_n(void **state)
{
    (void)state;
    struct binom_result r;
    struct err e;
    err_clear(&e);
    assert_int_equal(binom_test(11, 10, 0.5, STATS_ALT_TWO_SIDED, 0.95, &r, &e), ERR_INVALID);
    assert_string_equal(e.field, "x");
    assert_int_equal(binom_test(0, 0, 0.5, STATS_ALT_TWO_SIDED, 0.95, &r, &e), ERR_INVALID);
    assert_int_equal(binom_test(1, 10, 1.5, STATS_ALT_TWO_SIDED, 0.95, &r, &e), ERR_INVALID);
    assert_int_equal(binom_test(1, 10, 0.5, STATS_ALT_TWO_SIDED, 1.0, &r, &e), ERR_INVALID);
}

static void test_prop_test_wilson_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "wilson.csv");
    assert_true(t.nrows >= 40);
    for (size_t i = 0; i < t.nrows; i++) {
        struct prop_result r;
        struct err e;
        assert_int_equal(binom_prop_test_one((long)fx_num(&t, i, "x"), (long)fx_num(&t, i, "n"),
                                             fx_num(&t, i, "p"), fx_alt(&t, i),
                                             fx_num(&t, i, "conf_level"), fx_bool(&t, i, "correct"),
                                             &r, &e),
                         0);
        FX_CHECK(&t, i, "estimate", r.estimate);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        FX_CHECK(&t, i, "statistic", r.statistic);
        FX_CHECK(&t, i, "p_value", r.p_value);
        assert_int_equal(r.approx_warning, fx_bool(&t, i, "approx_warning"));
    }
    csv_table_free(&t);
}

/* x = n p: Y = min(0.5, |x - np|) = 0, so the corrected interval is the uncorrected one. */
static void test_prop_test_correction_vanishes_at_x_equal_np(void **state)
{
    (void)state;
    struct prop_result a, b;
    struct err e;
    assert_int_equal(binom_prop_test_one(26, 52, 0.5, STATS_ALT_TWO_SIDED, 0.95, true, &a, &e), 0);
    assert_int_equal(binom_prop_test_one(26, 52, 0.5, STATS_ALT_TWO_SIDED, 0.95, false, &b, &e), 0);
    assert_true(a.conf_int[0] == b.conf_int[0] && a.conf_int[1] == b.conf_int[1]);
    assert_true(a.statistic == 0 && a.p_value == 1);
}

static void test_poisson_rate_ci_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "poisson.csv");
    for (size_t i = 0; i < t.nrows; i++) {
        struct poisson_ci r;
        struct err e;
        assert_int_equal(binom_poisson_rate_ci((long)fx_num(&t, i, "events"),
                                               fx_num(&t, i, "exposure"),
                                               fx_num(&t, i, "conf_level"), &r, &e),
                         0);
        FX_CHECK(&t, i, "rate", r.rate);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
    }
    csv_table_free(&t);
    struct poisson_ci r;
    struct err e;
    assert_int_equal(binom_poisson_rate_ci(3, 0, 0.95, &r, &e), ERR_INVALID);
    assert_string_equal(e.field, "exposure");
    assert_int_equal(binom_poisson_rate_ci(-1, 10, 0.95, &r, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binom_test_matches_r_all_alternatives),
        cmocka_unit_test(test_binom_test_rejects_x_above_n),
        cmocka_unit_test(test_prop_test_wilson_matches_r),
        cmocka_unit_test(test_prop_test_correction_vanishes_at_x_equal_np),
        cmocka_unit_test(test_poisson_rate_ci_matches_r),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
