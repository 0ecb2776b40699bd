/* Sample size for one proportion against R (tests/fixtures/stats/samplesize.csv, precision*.csv),
 * including the study's design figures (endpoints.md): H0 p = 0.70 vs 0.87, alpha 0.05
 * two-sided, power 80% -> 49 (normal approximation), 49/0.95 -> 52, and 44/52 -> exact 95% CI
 * 71.9%-93.1%, half-width ~0.106. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/samplesize.h"
#include "stats_fixture.h"

static void test_samplesize_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "samplesize.csv");
    for (size_t i = 0; i < t.nrows; i++) {
        double p0 = fx_num(&t, i, "p0"), p1 = fx_num(&t, i, "p1");
        double a = fx_num(&t, i, "alpha"), pw = fx_num(&t, i, "power");
        double raw;
        long n;
        struct samplesize_exact x;
        struct err e;
        assert_int_equal(samplesize_prop_normal(p0, p1, a, pw, &raw, &n, &e), 0);
        FX_CHECK(&t, i, "n_normal_raw", raw);
        FX_CHECK(&t, i, "n_normal", (double)n);
        FX_CHECK(&t, i, "n_with_dropout", (double)samplesize_inflate(n, fx_num(&t, i, "dropout")));
        assert_int_equal(samplesize_prop_exact(p0, p1, a, pw, &x, &e), 0);
        FX_CHECK(&t, i, "n_exact", (double)x.n);
        FX_CHECK(&t, i, "critical_value", (double)x.critical_value);
        FX_CHECK(&t, i, "alpha_exact", x.alpha_exact);
        FX_CHECK(&t, i, "power_exact", x.power_exact);
        FX_CHECK(&t, i, "n_exact_with_dropout",
                 (double)samplesize_inflate(x.n, fx_num(&t, i, "dropout")));
    }
    csv_table_free(&t);
}

/* The protocol's figures, by hand from endpoints.md: 49, then 49/0.95 = 51.58 -> 52. */
static void test_samplesize_study_design_figures(void **state)
{
    (void)state;
    double raw;
    long n;
    struct err e;
    assert_int_equal(samplesize_prop_normal(0.70, 0.87, 0.05, 0.80, &raw, &n, &e), 0);
    assert_int_equal(n, 49);
    assert_int_equal(samplesize_inflate(49, 0.05), 52);
    struct precision_result p;
    assert_int_equal(samplesize_precision_exact_ci(44, 52, 0.95, &p, &e), 0);
    assert_true(fabs(p.conf_int[0] - 0.719) < 0.0005 && fabs(p.conf_int[1] - 0.931) < 0.0005);
    assert_true(fabs(p.half_width - 0.106) < 0.0005);
}

static void test_precision_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "precision.csv");
    for (size_t i = 0; i < t.nrows; i++) {
        struct precision_result r;
        struct err e;
        assert_int_equal(samplesize_precision_exact_ci(fx_num(&t, i, "x"), fx_num(&t, i, "n"),
                                                       fx_num(&t, i, "conf_level"), &r, &e),
                         0);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        FX_CHECK(&t, i, "half_width", r.half_width);
    }
    csv_table_free(&t);
    fx_load(&t, "precision_n.csv");
    for (size_t i = 0; i < t.nrows; i++) {
        long n;
        double got;
        struct err e;
        assert_int_equal(samplesize_precision(fx_num(&t, i, "p1"), fx_num(&t, i, "half_width"),
                                              fx_num(&t, i, "conf_level"), &n, &got, &e),
                         0);
        FX_CHECK(&t, i, "n_precision", (double)n);
        FX_CHECK(&t, i, "achieved", got);
    }
    csv_table_free(&t);
}

static void test_samplesize_rejects_bad_design(void **state)
{
    (void)state;
    double raw;
    long n;
    struct err e;
    assert_int_equal(samplesize_prop_normal(0.7, 0.7, 0.05, 0.8, &raw, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "p1");
    assert_int_equal(samplesize_prop_normal(0, 0.7, 0.05, 0.8, &raw, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "p0");
    assert_int_equal(samplesize_prop_normal(0.5, 0.7, 0.05, 1, &raw, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "power");
    assert_int_equal(samplesize_inflate(49, 1), -1);
    struct precision_result p;
    assert_int_equal(samplesize_precision_exact_ci(53, 52, 0.95, &p, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samplesize_matches_r),
        cmocka_unit_test(test_samplesize_study_design_figures),
        cmocka_unit_test(test_precision_matches_r),
        cmocka_unit_test(test_samplesize_rejects_bad_design),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
