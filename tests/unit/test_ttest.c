/* t.test (one-sample, paired, Welch) against R (tests/fixtures/stats/ttest.csv), all
 * alternatives, NA pairs left out, and R's "data are essentially constant" error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/ttest.h"
#include "stats_fixture.h"

static void test_ttest_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "ttest.csv");
    assert_true(t.nrows >= 27);
    for (size_t i = 0; i < t.nrows; i++) {
        struct arena ar = ARENA_INIT;
        const char *kind = fx_str(&t, i, "kind");
        double mu = fx_num(&t, i, "mu"), cl = fx_num(&t, i, "conf_level");
        int alt = fx_alt(&t, i);
        struct ttest_result r;
        struct err e;
        int rc;
        if (strcmp(kind, "two") == 0) {
            double *x, *y;
            size_t nx, ny;
            fx_groups(fx_str(&t, i, "file"), &ar, &x, &nx, &y, &ny);
            rc = ttest_welch(x, nx, y, ny, mu, alt, cl, &r, &e);
            FX_CHECK(&t, i, "estimate_y", r.estimate_y);
        } else {
            double *x, *y;
            size_t n;
            fx_data(fx_str(&t, i, "file"), "x", "y", &ar, &x, &y, &n);
            if (strcmp(kind, "paired") == 0) {
                rc = ttest_paired(x, y, n, mu, alt, cl, &ar, &r, &e);
            } else {
                fx_data(fx_str(&t, i, "file"), "x", NULL, &ar, &x, NULL, &n);
                rc = ttest_one(x, n, mu, alt, cl, &r, &e);
            }
        }
        assert_int_equal(rc, 0);
        FX_CHECK(&t, i, "statistic", r.statistic);
        FX_CHECK(&t, i, "df", r.df);
        FX_CHECK(&t, i, "p_value", r.p_value);
        FX_CHECK(&t, i, "estimate", r.estimate);
        FX_CHECK(&t, i, "estimate_x", r.estimate_x);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        arena_free(&ar);
    }
    csv_table_free(&t);
}

/* R: t.test(c(3,5,9,4), c(1,3,7,2), paired = TRUE) stops: all differences are 2, se = 0. */
static void test_ttest_constant_differences_are_an_error(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    double x[4] = {3, 5, 9, 4}, y[4] = {1, 3, 7, 2};
    struct ttest_result r;
    struct err e;
    assert_int_equal(ttest_paired(x, y, 4, 0, STATS_ALT_TWO_SIDED, 0.95, &ar, &r, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "essentially constant"));
    assert_int_equal(ttest_one(x, 1, 0, STATS_ALT_TWO_SIDED, 0.95, &r, &e), ERR_INVALID);
    assert_int_equal(ttest_welch(x, 4, y, 1, 0, STATS_ALT_TWO_SIDED, 0.95, &r, &e), ERR_INVALID);
    arena_free(&ar);
}

/* All differences 0: se = 0 is not < 0, so R computes t = 0/0 = NaN and a NaN interval. */
static void test_ttest_all_zero_differences_give_nan(void **state)
{
    (void)state;
    double d[3] = {0, 0, 0};
    struct ttest_result r;
    struct err e;
    assert_int_equal(ttest_one(d, 3, 0, STATS_ALT_TWO_SIDED, 0.95, &r, &e), 0);
    assert_true(isnan(r.statistic) && isnan(r.p_value));
    assert_true(r.df == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttest_matches_r),
        cmocka_unit_test(test_ttest_constant_differences_are_an_error),
        cmocka_unit_test(test_ttest_all_zero_differences_give_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
