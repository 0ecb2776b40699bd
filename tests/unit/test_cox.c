/* Cox regression (src/stats/cox.c, cox_concord.c) against survival::coxph: every case of
 * tests/fixtures/survival/cox.json (lung, veteran, ovarian, tied synthetic data and a timefix
 * case; Efron and Breslow; numeric and factor-dummy covariates, 1 to 5 columns). Coefficients,
 * SEs, tests and log-likelihoods to 1e-9 relative (coxfit6 is reproduced step by step),
 * iteration counts, concordance counts and the warnings (non-convergence, infinite coefficient)
 * exactly; plus hand-checked small cases and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/cox.h"
#include "surv_fixture.h"

#define TOL 1e-9

/* R's warnings: "Ran out of iterations ..." iff not converged; "Loglik converged before
 * variable  j ; ..." names exactly the flagged coefficients. */
static int check_warnings(const char *name, const struct cox_result *r, const json_t *warn)
{
    int want_noconv = 0, bad = 0;
    char flagged[256] = "";
    size_t i;
    const json_t *m;
    json_array_foreach(warn, i, m)
    {
        const char *s = json_string_value(m);
        if (strstr(s, "did not converge"))
            want_noconv = 1;
        const char *v = strstr(s, "variable  ");
        if (v)
            snprintf(flagged, sizeof flagged, "%s", v + strlen("variable  "));
    }
    if (want_noconv != !r->converged) {
        fprintf(stderr, "%s: converged %d, R warned %d\n", name, r->converged, want_noconv);
        bad++;
    }
    for (size_t j = 0; j < r->p; j++) {
        char num[32];
        snprintf(num, sizeof num, "%zu ", j + 1);
        int want = flagged[0] && strstr(flagged, num) == flagged; /* one flagged variable */
        if (want != r->maybe_infinite[j]) {
            fprintf(stderr, "%s: coefficient %zu flagged %d, R %d\n", name, j + 1,
                    r->maybe_infinite[j], want);
            bad++;
        }
    }
    return bad;
}

static int check_case(const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *ties = json_string_value(json_object_get(c, "ties"));
    size_t n, nx;
    double *time = fx_nums(c, "time", &n);
    double *status = fx_nums(c, "status", NULL);
    double *x = fx_nums(c, "x", &nx);
    size_t p = (size_t)fx_num(c, "p");
    struct cox_opts o = cox_default_opts();
    o.ties = strcmp(ties, "breslow") == 0 ? COX_BRESLOW : COX_EFRON;
    struct arena ar = ARENA_INIT;
    struct cox_result r;
    struct err e;
    int bad = 0;
    if (nx != n * p || cox_fit(time, status, x, n, p, &o, &ar, &r, &e) != 0) {
        fprintf(stderr, "%s: %s\n", name, nx != n * p ? "bad fixture" : e.msg);
        bad = 1;
    } else {
        const json_t *w = json_object_get(c, "expected");
        double it = r.iter, nn = (double)r.n, ne = (double)r.nevent;
        bad += fx_check(name, "coef", r.coef, p, w, TOL);
        bad += fx_check(name, "se", r.se, p, w, TOL);
        bad += fx_check(name, "hr", r.hr, p, w, TOL);
        bad += fx_check(name, "hr_lower", r.hr_lower, p, w, TOL);
        bad += fx_check(name, "hr_upper", r.hr_upper, p, w, TOL);
        bad += fx_check(name, "z", r.z, p, w, TOL);
        bad += fx_check(name, "p", r.p_value, p, w, TOL);
        bad += fx_check(name, "loglik_null", &r.loglik_null, 1, w, TOL);
        bad += fx_check(name, "loglik", &r.loglik, 1, w, TOL);
        bad += fx_check(name, "iter", &it, 1, w, 0);
        bad += fx_check(name, "n", &nn, 1, w, 0);
        bad += fx_check(name, "nevent", &ne, 1, w, 0);
        const json_t *lrt = json_object_get(w, "lrt"), *wald = json_object_get(w, "wald"),
                     *score = json_object_get(w, "score");
        double df = r.df;
        bad += fx_check(name, "df", &df, 1, lrt, 0);
        bad += fx_check(name, "df", &df, 1, wald, 0);
        bad += fx_check(name, "df", &df, 1, score, 0);
        bad += fx_check(name, "stat", &r.lrt_stat, 1, lrt, TOL);
        bad += fx_check(name, "p", &r.lrt_p, 1, lrt, TOL);
        bad += fx_check(name, "stat", &r.wald_stat, 1, wald, TOL);
        bad += fx_check(name, "p", &r.wald_p, 1, wald, TOL);
        bad += fx_check(name, "stat", &r.score_stat, 1, score, TOL);
        bad += fx_check(name, "p", &r.score_p, 1, score, TOL);
        bad += fx_check(name, "concordant", &r.conc.concordant, 1, w, 0);
        bad += fx_check(name, "discordant", &r.conc.discordant, 1, w, 0);
        bad += fx_check(name, "tied_x", &r.conc.tied_x, 1, w, 0);
        bad += fx_check(name, "tied_y", &r.conc.tied_y, 1, w, 0);
        bad += fx_check(name, "concordance", &r.conc.concordance, 1, w, 1e-12);
        bad += check_warnings(name, &r, json_object_get(w, "warnings"));
    }
    arena_free(&ar);
    free(time);
    free(status);
    free(x);
    return bad;
}

static void test_cox_matches_r_coxph_on_every_fixture(void **state)
{
    (void)state;
    assert_int_equal(fx_run_cases("cox.json", check_case, 10), 0);
}

/* Hand calculation, one binary covariate, no ties: times 1..4 all events, x = 1, 0, 1, 0.
 * At b = 0 the risk sets are {1,2,3,4}, {2,3,4}, {3,4}, {4} with means of x 1/2, 1/3, 1/2, 0:
 * U(0) = (1 - 1/2) + (0 - 1/3) + (1 - 1/2) + (0 - 0) = 2/3;
 * I(0) = 1/4 + 2/9 + 1/4 + 0 = 13/18; score test = U^2/I = (4/9)/(13/18) = 8/13;
 * loglik(0) = -log 4 - log 3 - log 2 - log 1 = -log 24. */
static void test_cox_score_test_and_null_loglik_by_hand(void **state)
{
    (void)state;
    double time[] = {1, 2, 3, 4}, status[] = {1, 1, 1, 1}, x[] = {1, 0, 1, 0};
    struct cox_opts o = cox_default_opts();
    struct arena ar = ARENA_INIT;
    struct cox_result r;
    struct err e;
    assert_int_equal(cox_fit(time, status, x, 4, 1, &o, &ar, &r, &e), 0);
    assert_true(fabs(r.score_stat - 8.0 / 13.0) < 1e-14);
    assert_true(fabs(r.loglik_null + log(24.0)) < 1e-14);
    assert_true(r.converged);
    arena_free(&ar);
}

/* Hand count: lp = 3, 2, 1 dying at 1, 2, 3 is perfectly concordant (3 pairs); adding a
 * subject censored at 1 with lp 5 makes one discordant pair with the death at 1 and one tie
 * in neither; deaths at one time are not comparable with each other. */
static void test_cox_concordance_counts_by_hand(void **state)
{
    (void)state;
    double time[] = {1, 2, 3, 1, 3}, status[] = {1, 1, 1, 0, 1}, lp[] = {3, 2, 1, 5, 1};
    struct arena ar = ARENA_INIT;
    struct cox_concordance c;
    assert_int_equal(cox_concordance(time, status, lp, 5, &ar, &c), 0);
    /* death@1 (3): at risk later/censored-at-1: 2,1,5,1 -> conc 3 (2,1,1), disc 1 (5)
     * death@2 (2): at risk 1,1 -> conc 2; deaths@3: nothing later; tied pair at 3, equal lp */
    assert_true(c.concordant == 5 && c.discordant == 1 && c.tied_x == 0);
    assert_true(c.tied_y == 0 && c.tied_xy == 1);
    assert_true(fabs(c.concordance - 5.0 / 6.0) < 1e-15);
    arena_free(&ar);
}

/* Concordance counted by definition, pair by pair (O(n^2)), on data large enough, with few
 * predictor values and many ties in time, that cox_concordance takes its prefix-sum path;
 * and with many predictor values (Fenwick tree path). */
static void brute_concordance(const double *t, const double *s, const double *lp, size_t n,
                              double *c, double *d, double *tx, double *ty)
{
    *c = *d = *tx = *ty = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j || s[i] == 0)
                continue;
            if (t[j] > t[i] || (t[j] == t[i] && s[j] == 0)) { /* comparable: i died first */
                if (lp[i] > lp[j])
                    *c += 1;
                else if (lp[i] < lp[j])
                    *d += 1;
                else
                    *tx += 1;
            } else if (t[j] == t[i] && s[j] != 0 && i < j && lp[i] != lp[j]) {
                *ty += 1;
            }
        }
}

static void test_cox_concordance_matches_pairwise_count(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double t[N], s[N], lp[N];
    unsigned long long x = 12345;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < N; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            t[i] = (double)(1 + (x >> 33) % (pass == 0 ? 12 : 1000));
            s[i] = (double)((x >> 20) % 3 != 0);
            lp[i] = pass == 0 ? (double)((x >> 40) % 4) : (double)((x >> 24) % 100000) / 7;
        }
        double c, d, tx, ty;
        brute_concordance(t, s, lp, N, &c, &d, &tx, &ty);
        struct arena ar = ARENA_INIT;
        struct cox_concordance r;
        assert_int_equal(cox_concordance(t, s, lp, N, &ar, &r), 0);
        assert_true(r.concordant == c && r.discordant == d);
        assert_true(r.tied_x == tx && r.tied_y == ty);
        arena_free(&ar);
    }
}

static void test_cox_rejects_no_events(void **state)
{
    (void)state;
    double time[] = {1, 2}, status[] = {0, 0}, x[] = {1, 2};
    struct cox_opts o = cox_default_opts();
    struct arena ar = ARENA_INIT;
    struct cox_result r;
    struct err e;
    assert_int_equal(cox_fit(time, status, x, 2, 1, &o, &ar, &r, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "no events"));
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cox_matches_r_coxph_on_every_fixture),
        cmocka_unit_test(test_cox_score_test_and_null_loglik_by_hand),
        cmocka_unit_test(test_cox_concordance_counts_by_hand),
        cmocka_unit_test(test_cox_concordance_matches_pairwise_count),
        cmocka_unit_test(test_cox_rejects_no_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
