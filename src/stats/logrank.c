/* survdiff, following survival 3.5-3's survdiff2.c operation by operation: observations ordered
 * by (stratum, time); per stratum a forward pass builds the left-continuous pooled KM (only for
 * rho != 0), then a backward pass accumulates the at-risk counts per group and adds O, E and V
 * increments in that backward order. The test solves V_r x = u by Gaussian elimination with
 * partial pivoting, as R's solve() (LAPACK dgesv) does. O(n) beyond the one radix ordering. */
#include "stats/logrank.h"

#include <math.h>
#include <string.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/surv_common.h"

/* Solves a x = b in place (a: m x m row-major, destroyed; b becomes x). -1 if singular. */
static int solve_pivot(double *a, double *b, size_t m)
{
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < m; r++)
            if (fabs(a[r * m + c]) > fabs(a[piv * m + c]))
                piv = r;
        if (a[piv * m + c] == 0)
            return -1;
        if (piv != c) {
            for (size_t k = 0; k < m; k++) {
                double t = a[c * m + k];
                a[c * m + k] = a[piv * m + k];
                a[piv * m + k] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (size_t r = c + 1; r < m; r++) {
            double l = a[r * m + c] / a[c * m + c];
            for (size_t k = c; k < m; k++)
                a[r * m + k] -= l * a[c * m + k];
            b[r] -= l * b[c];
        }
    }
    for (size_t c = m; c-- > 0;) {
        double s = b[c];
        for (size_t k = c + 1; k < m; k++)
            s -= a[c * m + k] * b[k];
        b[c] = s / a[c * m + c];
    }
    return 0;
}

/* One stratum: time, status, group[0..m) in ascending time order. Adds into obs, exp (this
 * stratum's share) and var. risk and kaplan are scratch of ngroups and m entries. */
static void stratum_pass(const double *time, const double *status, const int *group, size_t m,
                         size_t G, double rho, double *kaplan, double *risk, double *obs,
                         double *exp, double *var)
{
    if (rho != 0) {
        double km = 1;
        for (size_t i = 0; i < m;) {
            double nrisk = (double)(m - i), deaths = 0;
            size_t j = i;
            for (; j < m && time[j] == time[i]; j++) {
                kaplan[j] = km;
                deaths += status[j];
            }
            km = km * (nrisk - deaths) / nrisk;
            i = j;
        }
    }
    memset(risk, 0, G * sizeof *risk);
    size_t i = m;
    while (i > 0) {
        double t = time[i - 1];
        double wt = rho == 0 ? 1 : pow(kaplan[i - 1], rho);
        double deaths = 0;
        size_t j = i;
        for (; j > 0 && time[j - 1] == t; j--) {
            size_t k = (size_t)group[j - 1];
            deaths += status[j - 1];
            risk[k] += 1;
            obs[k] += status[j - 1] * wt;
        }
        i = j;
        double nrisk = (double)(m - j);
        if (deaths == 0)
            continue;
        for (size_t k = 0; k < G; k++)
            exp[k] += wt * deaths * risk[k] / nrisk;
        if (nrisk == 1) /* one subject at risk: no variance */
            continue;
        double kt = wt * wt * deaths * (nrisk - deaths) / (nrisk * (nrisk - 1));
        for (size_t a = 0; a < G; a++) {
            double tmp = kt * risk[a];
            var[a * G + a] += tmp;
            for (size_t b = 0; b < G; b++)
                var[b * G + a] -= tmp * risk[b] / nrisk;
        }
    }
}

int logrank_test(const double *time_in, const double *status, const int *group, size_t G,
                 const int *strata, size_t nstrata, size_t n, double rho, bool timefix,
                 struct arena *ar, struct logrank_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int rc = surv_check(time_in, status, n, e);
    if (rc)
        return rc;
    if (G < 2)
        return err_set_field(e, ERR_INVALID, "group", "need at least 2 groups, have %zu", G);
    if (!isfinite(rho))
        return err_set_field(e, ERR_INVALID, "rho", "rho must be finite");
    if (!strata)
        nstrata = 1;
    out->n = arena_calloc(ar, G, sizeof(double));
    out->obs = arena_calloc(ar, G, sizeof(double));
    out->exp = arena_calloc(ar, G, sizeof(double));
    out->var = arena_calloc(ar, G * G, sizeof(double));
    double *risk = arena_calloc(ar, G, sizeof(double));
    double *o_s = arena_calloc(ar, G, sizeof(double));
    double *e_s = arena_calloc(ar, G, sizeof(double));
    size_t *start = arena_calloc(ar, nstrata + 1, sizeof(size_t));
    double *kaplan = rho != 0 ? arena_calloc(ar, n, sizeof(double)) : NULL;
    if (!out->n || !out->obs || !out->exp || !out->var || !risk || !o_s || !e_s || !start ||
        (rho != 0 && !kaplan))
        return err_set(e, ERR_NOMEM, "out of memory");
    out->ngroups = G;
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0 || (size_t)group[i] >= G)
            return err_set_field(e, ERR_INVALID, "group",
                                 "observation %zu: group code %d out of range", i + 1, group[i]);
        if (strata && (strata[i] < 0 || (size_t)strata[i] >= nstrata))
            return err_set_field(e, ERR_INVALID, "strata",
                                 "observation %zu: stratum code %d out of range", i + 1, strata[i]);
        out->n[group[i]] += 1;
        start[(strata ? strata[i] : 0) + 1]++;
    }
    for (size_t g = 0; g < G; g++)
        if (out->n[g] == 0)
            return err_set_field(e, ERR_INVALID, "group", "group %zu has no observations", g + 1);
    struct surv_sorted ss;
    if ((rc = surv_sort(time_in, status, n, timefix, ar, &ss, e)) != 0)
        return rc;
    /* stable counting pass by stratum: (stratum, time) order, group codes alongside */
    double *st = arena_calloc(ar, n, sizeof *st), *sst = arena_calloc(ar, n, sizeof *sst);
    int *sg = arena_calloc(ar, n, sizeof *sg);
    size_t *pos = arena_calloc(ar, nstrata, sizeof *pos);
    if (!st || !sst || !sg || !pos)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t s = 0; s < nstrata; s++) {
        start[s + 1] += start[s];
        pos[s] = start[s];
    }
    for (size_t i = 0; i < n; i++) {
        size_t q = ss.ord[i];
        size_t at = pos[strata ? strata[q] : 0]++;
        st[at] = ss.time[i];
        sst[at] = ss.status[i];
        sg[at] = group[q];
    }
    /* R keeps O and E per stratum (a G x S matrix) and sums the rows afterwards */
    for (size_t s = 0; s < nstrata; s++) {
        size_t m = start[s + 1] - start[s];
        if (m == 0)
            continue;
        memset(o_s, 0, G * sizeof *o_s);
        memset(e_s, 0, G * sizeof *e_s);
        stratum_pass(st + start[s], sst + start[s], sg + start[s], m, G, rho, kaplan, risk, o_s,
                     e_s, out->var);
        for (size_t g = 0; g < G; g++) {
            out->obs[g] += o_s[g];
            out->exp[g] += e_s[g];
        }
    }

    /* the test: groups with E > 0, without the first of them */
    size_t *keep = arena_calloc(ar, G, sizeof *keep);
    double *vv = arena_calloc(ar, G * G, sizeof *vv);
    double *u = arena_calloc(ar, G, sizeof *u);
    double *x = arena_calloc(ar, G, sizeof *x);
    if (!keep || !vv || !u || !x)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t nk = 0;
    for (size_t g = 0; g < G; g++)
        if (out->exp[g] > 0)
            keep[nk++] = g;
    out->df = (int)nk - 1;
    out->chisq = 0;
    if (nk >= 2) {
        size_t m = nk - 1;
        for (size_t a = 0; a < m; a++) {
            u[a] = out->obs[keep[a + 1]] - out->exp[keep[a + 1]];
            x[a] = u[a];
            for (size_t b = 0; b < m; b++)
                vv[a * m + b] = out->var[keep[a + 1] * G + keep[b + 1]];
        }
        if (solve_pivot(vv, x, m) != 0)
            return err_set(e, ERR_INVALID, "the variance matrix is singular");
        long double s = 0; /* R's sum() accumulates in long double */
        for (size_t a = 0; a < m; a++)
            s += (long double)(x[a] * u[a]);
        out->chisq = (double)s;
    }
    out->p_value = out->df > 0 ? pchisq(out->chisq, out->df, 0, 0) : NAN;
    return 0;
}
