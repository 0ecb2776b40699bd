/* Log-rank and Peto–Peto tests (src/stats/logrank.c) against survival::survdiff: every case of
 * tests/fixtures/survival/logrank.json (2 to 4 groups, rho 0 and 1, with and without strata)
 * to 1e-9 relative, plus a two-group hand calculation and input errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/logrank.h"
#include "surv_fixture.h"

#define TOL 1e-9

static int check_case(const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    size_t n;
    double *time = fx_nums(c, "time", &n);
    double *status = fx_nums(c, "status", NULL);
    int *group = fx_ints(c, "group", NULL);
    int *strata = fx_ints(c, "strata", NULL);
    size_t G = fx_len(c, "groups");
    size_t S = (size_t)fx_num(c, "nstrata");
    struct arena ar = ARENA_INIT;
    struct logrank_result r;
    struct err e;
    int bad = 0;
    if (logrank_test(time, status, group, G, S > 1 ? strata : NULL, S, n, fx_num(c, "rho"), true,
                     &ar, &r, &e) != 0) {
        fprintf(stderr, "%s: %s\n", name, e.msg);
        bad = 1;
    } else {
        const json_t *x = json_object_get(c, "expected");
        double df = r.df;
        bad += fx_check(name, "n", r.n, G, x, 0);
        bad += fx_check(name, "obs", r.obs, G, x, TOL);
        bad += fx_check(name, "exp", r.exp, G, x, TOL);
        bad += fx_check(name, "var", r.var, G * G, x, TOL);
        bad += fx_check(name, "chisq", &r.chisq, 1, x, TOL);
        bad += fx_check(name, "df", &df, 1, x, 0);
        bad += fx_check(name, "p_value", &r.p_value, 1, x, TOL);
    }
    arena_free(&ar);
    free(time);
    free(status);
    free(group);
    free(strata);
    return bad;
}

static void test_logrank_matches_r_survdiff_on_every_fixture(void **state)
{
    (void)state;
    assert_int_equal(fx_run_cases("logrank.json", check_case, 10), 0);
}

/* Hand calculation. Group A: events at 1 and 3; group B: event at 2, censored at 4.
 * t=1: n=4 (2 A), d=1: E_A += 2/4, V += 1*3/(4*3) * 2 * (1 - 2/4) = 1/4
 * t=2: n=3 (1 A), d=1: E_A += 1/3, V += 2/(3*2) * 1 * (1 - 1/3) = 2/9
 * t=3: n=2 (1 A), d=1: E_A += 1/2, V += 1/(2*1) * 1 * (1 - 1/2) = 1/4
 * O_A = 2, E_A = 4/3, V_AA = 13/18; chisq = (O_B - E_B)^2/V_BB = (1 - 5/3)^2/(13/18) = 8/13 */
static void test_logrank_hand_calculation(void **state)
{
    (void)state;
    double time[] = {1, 3, 2, 4}, status[] = {1, 1, 1, 0};
    int group[] = {0, 0, 1, 1};
    struct arena ar = ARENA_INIT;
    struct logrank_result r;
    struct err e;
    assert_int_equal(logrank_test(time, status, group, 2, NULL, 1, 4, 0, true, &ar, &r, &e), 0);
    assert_true(fabs(r.exp[0] - 4.0 / 3.0) < 1e-15);
    assert_true(r.obs[0] == 2 && r.obs[1] == 1);
    assert_true(fabs(r.var[0] - 13.0 / 18.0) < 1e-15);
    assert_true(fabs(r.var[1] + 13.0 / 18.0) < 1e-15);
    assert_true(fabs(r.chisq - 8.0 / 13.0) < 1e-14);
    assert_int_equal(r.df, 1);
    arena_free(&ar);
}

static void test_logrank_rejects_one_group_and_empty_group(void **state)
{
    (void)state;
    double time[] = {1, 2}, status[] = {1, 0};
    int group[] = {0, 0};
    struct arena ar = ARENA_INIT;
    struct logrank_result r;
    struct err e;
    assert_int_equal(logrank_test(time, status, group, 1, NULL, 1, 2, 0, true, &ar, &r, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "at least 2 groups"));
    assert_int_equal(logrank_test(time, status, group, 2, NULL, 1, 2, 0, true, &ar, &r, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "group 2"));
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logrank_matches_r_survdiff_on_every_fixture),
        cmocka_unit_test(test_logrank_hand_calculation),
        cmocka_unit_test(test_logrank_rejects_one_group_and_empty_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
