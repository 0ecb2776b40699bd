/* mean/sd/quantile type 7/median/IQR against R (tests/fixtures/stats/describe.csv), including
 * n = 1, ties, a constant sample and NA omission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/describe.h"
#include "stats_fixture.h"

static void test_describe_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "describe.csv");
    assert_int_equal(t.nrows, 5);
    for (size_t i = 0; i < t.nrows; i++) {
        struct arena ar = ARENA_INIT;
        double *x;
        size_t n;
        fx_data(fx_str(&t, i, "file"), "v", NULL, &ar, &x, NULL, &n);
        struct describe_result r;
        struct err e;
        assert_int_equal(describe(x, n, &ar, &r, &e), 0);
        FX_CHECK(&t, i, "n", (double)r.n);
        FX_CHECK(&t, i, "mean", r.mean);
        FX_CHECK(&t, i, "sd", r.sd);
        FX_CHECK(&t, i, "min", r.min);
        FX_CHECK(&t, i, "max", r.max);
        FX_CHECK(&t, i, "median", r.median);
        FX_CHECK(&t, i, "q1", r.q1);
        FX_CHECK(&t, i, "q3", r.q3);
        FX_CHECK(&t, i, "iqr", r.iqr);
        double *s = arena_calloc(&ar, n, sizeof *s);
        memcpy(s, x, n * sizeof *s);
        stats_sort(s, n);
        FX_CHECK(&t, i, "q10", stats_quantile7_sorted(s, n, 0.1));
        FX_CHECK(&t, i, "q90", stats_quantile7_sorted(s, n, 0.9));
        arena_free(&ar);
    }
    csv_table_free(&t);
}

/* §9: (1 - h) x_lo + h x_hi, not x_lo + h (x_hi - x_lo). With x = (0.1, 0.7) and p = 0.3,
 * h = 0.3: 0.7*0.1 + 0.3*0.7 = 0.28 in exact arithmetic; the two forms round differently. */
static void test_quantile7_uses_r_formula_form(void **state)
{
    (void)state;
    double x[2] = {0.1, 0.7};
    double h = (1 + 1 * 0.3) - 1;
    double want = (1 - h) * 0.1 + h * 0.7;
    assert_true(stats_quantile7_sorted(x, 2, 0.3) == want);
}

static void test_describe_rejects_empty_and_nan(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct describe_result r;
    struct err e;
    double x[2] = {1, NAN};
    assert_int_equal(describe(x, 0, &ar, &r, &e), ERR_INVALID);
    assert_int_equal(describe(x, 2, &ar, &r, &e), ERR_INVALID);
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_matches_r),
        cmocka_unit_test(test_quantile7_uses_r_formula_form),
        cmocka_unit_test(test_describe_rejects_empty_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
