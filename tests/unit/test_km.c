/* Kaplan–Meier (src/stats/km.c) against survival::survfit: every case of
 * tests/fixtures/survival/km.json (lung, veteran, ovarian, tied and degenerate synthetic data;
 * conf.type log, log-log, plain; summary(fit, times =)) to 1e-9 relative, plus the median
 * rule and input errors checked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/km.h"
#include "surv_fixture.h"

#define TOL 1e-9

static int check_case(const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *ct = json_string_value(json_object_get(c, "conf_type"));
    size_t n, ng, ntimes;
    double *time = fx_nums(c, "time", &n);
    double *status = fx_nums(c, "status", NULL);
    int *group = fx_ints(c, "group", NULL);
    ng = fx_len(c, "levels");
    double *times = fx_nums(c, "times", &ntimes);
    struct km_opts o = {.conf_type = strcmp(ct, "log") == 0       ? KM_CONF_LOG
                                     : strcmp(ct, "log-log") == 0 ? KM_CONF_LOGLOG
                                                                  : KM_CONF_PLAIN,
                        .conf_level = fx_num(c, "conf_level"),
                        .timefix = true,
                        .times = ntimes ? times : NULL,
                        .ntimes = ntimes};
    struct arena ar = ARENA_INIT;
    struct km_fit fit;
    struct err e;
    int rc = km_fit(time, status, group, ng, n, &o, &ar, &fit, &e);
    int bad = 0;
    if (rc != 0) {
        fprintf(stderr, "%s: km_fit failed: %s\n", name, e.msg);
        bad = 1;
    }
    const json_t *strata = json_object_get(json_object_get(c, "expected"), "strata");
    if (!bad && json_array_size(strata) != fit.ncurves) {
        fprintf(stderr, "%s: %zu curves, R has %zu\n", name, fit.ncurves, json_array_size(strata));
        bad = 1;
    }
    for (size_t g = 0; !bad && g < fit.ncurves; g++) {
        const struct km_curve *k = &fit.curves[g];
        const json_t *s = json_array_get(strata, g);
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s[%zu]", name, g);
        double nn = (double)k->n;
        bad += fx_check(ctx, "n", &nn, 1, s, 0);
        bad += fx_check(ctx, "time", k->time, k->nt, s, 0);
        bad += fx_check(ctx, "n_risk", k->n_risk, k->nt, s, 0);
        bad += fx_check(ctx, "n_event", k->n_event, k->nt, s, 0);
        bad += fx_check(ctx, "n_censor", k->n_censor, k->nt, s, 0);
        bad += fx_check(ctx, "surv", k->surv, k->nt, s, TOL);
        bad += fx_check(ctx, "std_err", k->std_err, k->nt, s, TOL);
        bad += fx_check(ctx, "cumhaz", k->cumhaz, k->nt, s, TOL);
        bad += fx_check(ctx, "lower", k->lower, k->nt, s, TOL);
        bad += fx_check(ctx, "upper", k->upper, k->nt, s, TOL);
        bad += fx_check(ctx, "median", &k->median, 1, s, TOL);
        bad += fx_check(ctx, "median_lower", &k->median_lower, 1, s, TOL);
        bad += fx_check(ctx, "median_upper", &k->median_upper, 1, s, TOL);
        const json_t *at = json_object_get(s, "at_times");
        if (at) {
            const struct km_at_times *a = &k->at;
            bad += fx_check(ctx, "time", a->time, a->n, at, 0);
            bad += fx_check(ctx, "n_risk", a->n_risk, a->n, at, 0);
            bad += fx_check(ctx, "n_event", a->n_event, a->n, at, 0);
            bad += fx_check(ctx, "n_censor", a->n_censor, a->n, at, 0);
            bad += fx_check(ctx, "surv", a->surv, a->n, at, TOL);
            bad += fx_check(ctx, "lower", a->lower, a->n, at, TOL);
            bad += fx_check(ctx, "upper", a->upper, a->n, at, TOL);
        }
    }
    arena_free(&ar);
    free(time);
    free(status);
    free(group);
    free(times);
    return bad;
}

static void test_km_matches_r_survfit_on_every_fixture(void **state)
{
    (void)state;
    assert_int_equal(fx_run_cases("km.json", check_case, 30), 0);
}

/* Hand calculation: times 1,2,3,4 with events at 1, 2, 4: S = 3/4, 1/2, 1/2, 0. S sits at
 * exactly 0.5 from t = 2 until the drop at t = 4, so print.survfit's median is (2 + 4)/2 = 3. */
static void test_km_median_is_midpoint_on_flat_half(void **state)
{
    (void)state;
    double t[] = {1, 2, 3, 4}, s[] = {0.75, 0.5, 0.5, 0};
    assert_true(km_median(t, s, 4) == 3);
    double s2[] = {0.75, 0.5}; /* ends at 0.5: the time it got there */
    assert_true(km_median(t, s2, 2) == 2);
    double s3[] = {0.9, NAN, 0.6, 0.55}; /* never reaches 0.5 */
    assert_true(isnan(km_median(t, s3, 4)));
}

/* Hand calculation: 3 subjects, events at 1 and 3, censored at 2.
 * S(1) = 2/3, S(3) = 2/3 * 0 = 0; Greenwood var(-log S) at 1 = 1/(3*2) -> se = sqrt(1/6);
 * at 3 one at risk dies: d/(n(n-d)) = 1/0 -> se = Inf. */
static void test_km_hand_calculation(void **state)
{
    (void)state;
    double time[] = {3, 1, 2}, status[] = {1, 1, 0};
    struct km_opts o = {KM_CONF_LOG, 0.95, true, NULL, 0};
    struct arena ar = ARENA_INIT;
    struct km_fit f;
    struct err e;
    assert_int_equal(km_fit(time, status, NULL, 1, 3, &o, &ar, &f, &e), 0);
    const struct km_curve *k = &f.curves[0];
    assert_int_equal(k->nt, 3);
    assert_true(k->surv[0] == 2.0 / 3.0);
    assert_true(fabs(k->std_err[0] - sqrt(1.0 / 6.0)) < 1e-15);
    assert_true(k->n_censor[1] == 1 && k->n_event[1] == 0 && k->n_risk[1] == 2);
    assert_true(k->surv[2] == 0 && isinf(k->std_err[2]));
    assert_true(isnan(k->lower[2]) && isnan(k->upper[2]));
    assert_true(k->median == 3);
    arena_free(&ar);
}

static void test_km_rejects_bad_status_and_empty_group(void **state)
{
    (void)state;
    double time[] = {1, 2}, status[] = {1, 2};
    struct km_opts o = {KM_CONF_LOG, 0.95, true, NULL, 0};
    struct arena ar = ARENA_INIT;
    struct km_fit f;
    struct err e;
    assert_int_equal(km_fit(time, status, NULL, 1, 2, &o, &ar, &f, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "observation 2"));
    double ok[] = {1, 0};
    int group[] = {0, 0};
    assert_int_equal(km_fit(time, ok, group, 2, 2, &o, &ar, &f, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "group 2"));
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_km_matches_r_survfit_on_every_fixture),
        cmocka_unit_test(test_km_median_is_midpoint_on_flat_half),
        cmocka_unit_test(test_km_hand_calculation),
        cmocka_unit_test(test_km_rejects_bad_status_and_empty_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
