/* The R_zeroin2 port against R's uniroot() (tests/fixtures/stats/zeroin.csv): root, iteration
 * count and estimated precision must be R's, including an end point that is a root, a step
 * function (like Wilcoxon's W) and a slow triple root; plus uniroot's argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/zeroin.h"
#include "stats_fixture.h"

/* The functions of make.R, written as R evaluates them (x^2 is x*x; (x-0.3)^3 is pow). */
static double f_sq(double x, void *info)
{
    (void)info;
    return x * x - 2;
}
static double f_cosx(double x, void *info)
{
    (void)info;
    return cos(x) - x;
}
static double f_expx(double x, void *info)
{
    (void)info;
    return exp(x) - 5;
}
static double f_lin(double x, void *info)
{
    (void)info;
    return x - 1;
}
static double f_step(double x, void *info)
{
    (void)info;
    return floor(x * 3) - 1.5;
}
static double f_cube(double x, void *info)
{
    (void)info;
    return pow(x - 0.3, 3);
}

static zeroin_fn fn_named(const char *name)
{
    static const struct {
        const char *name;
        zeroin_fn f;
    } fns[] = {{"sq", f_sq},   {"cosx", f_cosx}, {"expx", f_expx},
               {"lin", f_lin}, {"step", f_step}, {"cube", f_cube}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(fns[i].name, name) == 0)
            return fns[i].f;
    fail_msg("no test function '%s'", name);
    return NULL;
}

static void test_zeroin_matches_r_uniroot(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "zeroin.csv");
    assert_true(t.nrows >= 7);
    for (size_t i = 0; i < t.nrows; i++) {
        zeroin_fn f = fn_named(fx_str(&t, i, "fn"));
        double lo = fx_num(&t, i, "lower"), hi = fx_num(&t, i, "upper");
        struct zeroin_result z;
        assert_int_equal(zeroin_uniroot(f, NULL, lo, hi, f(lo, NULL), f(hi, NULL),
                                        fx_num(&t, i, "tol"), 1000, &z),
                         0);
        FX_CHECK(&t, i, "root", z.root);
        FX_CHECK(&t, i, "iter", (double)z.iter);
        FX_CHECK(&t, i, "estim_prec", z.estim_prec);
    }
    csv_table_free(&t);
}

/* uniroot stops when f.lower, f.upper have the same sign or one is NA. */
static void test_zeroin_rejects_no_sign_change(void **state)
{
    (void)state;
    struct zeroin_result z;
    assert_int_equal(zeroin_uniroot(f_sq, NULL, 2, 3, f_sq(2, NULL), f_sq(3, NULL), 1e-4, 1000, &z),
                     -1);
    assert_int_equal(zeroin_uniroot(f_sq, NULL, 0, 2, NAN, 2, 1e-4, 1000, &z), -1);
}

/* Infinite end values are truncated to +-DBL_MAX, as uniroot's truncate() does. */
static void test_zeroin_accepts_infinite_end_values(void **state)
{
    (void)state;
    struct zeroin_result z;
    assert_int_equal(zeroin_uniroot(f_sq, NULL, 0, 2, -INFINITY, f_sq(2, NULL), 1e-6, 1000, &z), 0);
    assert_true(fabs(z.root - sqrt(2)) < 1e-5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeroin_matches_r_uniroot),
        cmocka_unit_test(test_zeroin_rejects_no_sign_change),
        cmocka_unit_test(test_zeroin_accepts_infinite_end_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
