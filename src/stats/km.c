/* Kaplan–Meier per stratum, following survival 3.5-3's survfitkm.c and survfit_confint /
 * print.survfit / summary.survfit in operation order, so the results agree with R's to the
 * last bits (see km.h and docs/r-algorithms.md §1).
 *
 * Cost: one radix ordering of the times, one stable counting pass by group, then one forward
 * pass per stratum — O(n) beyond the sort. */
#include "stats/km.h"

#include <math.h>
#include <string.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/surv_common.h"

double km_median(const double *t, const double *y, size_t nt)
{
    size_t j = 0;
    while (j < nt && !(!isnan(y[j]) && y[j] < 0.5 + SURV_TOL))
        j++;
    if (j == nt)
        return NAN;
    if (fabs(y[j] - 0.5) < SURV_TOL) {
        for (size_t k = j + 1; k < nt; k++)
            if (!isnan(y[k]) && y[k] < 0.5 + SURV_TOL && y[k] < y[j])
                return (t[j] + t[k]) / 2;
    }
    return t[j];
}

/* survfit_confint(p, se, logse = TRUE, conf.type, conf.int) for one row. */
static void conf_limits(double p, double se, double zval, enum km_conf_type type, double *lo,
                        double *hi)
{
    switch (type) {
    case KM_CONF_PLAIN: {
        double se2 = se * p * zval;
        double l = p - se2, u = p + se2;
        *lo = isnan(l) ? NAN : (l > 0 ? l : 0); /* pmax keeps NaN, fmax would not */
        *hi = isnan(u) ? NAN : (u < 1 ? u : 1);
        break;
    }
    case KM_CONF_LOG: {
        if (p == 0) {
            *lo = *hi = NAN;
            break;
        }
        double se2 = zval * se;
        double u = exp(log(p) + se2);
        *lo = exp(log(p) - se2);
        *hi = isnan(u) ? NAN : (u < 1 ? u : 1);
        break;
    }
    case KM_CONF_LOGLOG: {
        if (p == 0 || p == 1) {
            *lo = *hi = NAN;
            break;
        }
        double se2 = zval * se / log(p);
        *lo = exp(-exp(log(-log(p)) - se2));
        *hi = exp(-exp(log(-log(p)) + se2));
        break;
    }
    }
}

/* Allocates the nt-row arrays of c. */
static int curve_alloc(struct km_curve *c, size_t nt, struct arena *ar)
{
    double **arr[] = {&c->time,    &c->n_risk, &c->n_event, &c->n_censor, &c->surv,
                      &c->std_err, &c->cumhaz, &c->lower,   &c->upper};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        if (!(*arr[i] = arena_calloc(ar, nt ? nt : 1, sizeof(double))))
            return ERR_NOMEM;
    c->nt = nt;
    return 0;
}

/* summary(fit, times = T) for one curve; T sorted ascending, finite. A time before the first
 * row reads survfit0's prepended row (start time, S = 1, limits 1). */
static int curve_at_times(struct km_curve *c, const double *T, size_t nT, struct arena *ar)
{
    struct km_at_times *a = &c->at;
    double **arr[] = {&a->time, &a->n_risk, &a->n_event, &a->n_censor,
                      &a->surv, &a->lower,  &a->upper};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        if (!(*arr[i] = arena_calloc(ar, nT ? nT : 1, sizeof(double))))
            return ERR_NOMEM;
    a->n = 0;
    double last = c->time[c->nt - 1];
    size_t r = 0;       /* rows with time <= t seen so far */
    size_t counted = 0; /* rows whose events/censorings were already reported */
    for (size_t k = 0; k < nT; k++) {
        double t = T[k];
        if (t > last) /* extend = FALSE */
            break;
        while (r < c->nt && c->time[r] <= t)
            r++;
        size_t m = a->n++;
        a->time[m] = t;
        if (r == 0) {
            a->surv[m] = 1;
            a->lower[m] = a->upper[m] = 1;
        } else {
            a->surv[m] = c->surv[r - 1];
            a->lower[m] = c->lower[r - 1];
            a->upper[m] = c->upper[r - 1];
        }
        /* n.risk: first row with time >= t */
        size_t f = r > 0 && c->time[r - 1] == t ? r - 1 : r;
        a->n_risk[m] = f < c->nt ? c->n_risk[f] : 0;
        double ev = 0, ce = 0;
        for (; counted < r; counted++) {
            ev += c->n_event[counted];
            ce += c->n_censor[counted];
        }
        a->n_event[m] = ev;
        a->n_censor[m] = ce;
    }
    return 0;
}

/* One stratum: time[0..m), status[0..m) in ascending time order. */
static int fit_curve(const double *time, const double *status, size_t m, double zval,
                     const struct km_opts *o, struct arena *ar, struct km_curve *c)
{
    size_t nt = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || time[i] != time[i - 1])
            nt++;
    if (curve_alloc(c, nt, ar) != 0)
        return ERR_NOMEM;
    c->n = m;
    double km = 1, varhaz = 0, chaz = 0;
    size_t row = 0;
    for (size_t i = 0; i < m;) {
        double t = time[i], d = 0, cens = 0;
        double nrisk = (double)(m - i);
        for (; i < m && time[i] == t; i++) {
            if (status[i] != 0)
                d += 1;
            else
                cens += 1;
        }
        if (d > 0) {
            km *= (nrisk - d) / nrisk;
            varhaz += d / (nrisk * (nrisk - d)); /* d/0 = Inf when all at risk die */
            chaz += d / nrisk;
        }
        c->time[row] = t;
        c->n_risk[row] = nrisk;
        c->n_event[row] = d;
        c->n_censor[row] = cens;
        c->surv[row] = km;
        c->std_err[row] = sqrt(varhaz);
        c->cumhaz[row] = chaz;
        conf_limits(km, c->std_err[row], zval, o->conf_type, &c->lower[row], &c->upper[row]);
        row++;
    }
    c->median = km_median(c->time, c->surv, nt);
    c->median_lower = km_median(c->time, c->lower, nt);
    c->median_upper = km_median(c->time, c->upper, nt);
    return 0;
}

int km_fit(const double *time_in, const double *status, const int *group, size_t ngroups, size_t n,
           const struct km_opts *o, struct arena *ar, struct km_fit *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int rc = surv_check(time_in, status, n, e);
    if (rc)
        return rc;
    if (!(o->conf_level > 0 && o->conf_level < 1))
        return err_set_field(e, ERR_INVALID, "conf-level", "conf.level %g is not in (0, 1)",
                             o->conf_level);
    if (!group)
        ngroups = 1;
    if (ngroups == 0)
        return err_set_field(e, ERR_INVALID, "group", "no groups");
    for (size_t i = 0; group && i < n; i++)
        if (group[i] < 0 || (size_t)group[i] >= ngroups)
            return err_set_field(e, ERR_INVALID, "group",
                                 "observation %zu: group code %d out of range", i + 1, group[i]);
    for (size_t k = 0; o->times && k < o->ntimes; k++)
        if (isnan(o->times[k]))
            return err_set_field(e, ERR_INVALID, "times", "times must not be NA");

    struct surv_sorted ss;
    if ((rc = surv_sort(time_in, status, n, o->timefix, ar, &ss, e)) != 0)
        return rc;
    /* stable counting pass by group: each stratum's rows contiguous, still in time order */
    double *gt = ss.time, *gs = ss.status;
    size_t *start = arena_calloc(ar, ngroups + 1, sizeof *start);
    out->curves = arena_calloc(ar, ngroups, sizeof *out->curves);
    if (!start || !out->curves)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (group) {
        gt = arena_calloc(ar, n, sizeof *gt);
        gs = arena_calloc(ar, n, sizeof *gs);
        size_t *pos = arena_calloc(ar, ngroups, sizeof *pos);
        if (!gt || !gs || !pos)
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            start[group[i] + 1]++;
        for (size_t g = 0; g < ngroups; g++) {
            start[g + 1] += start[g];
            pos[g] = start[g];
        }
        for (size_t i = 0; i < n; i++) {
            size_t q = pos[group[ss.ord[i]]]++;
            gt[q] = ss.time[i];
            gs[q] = ss.status[i];
        }
    } else {
        start[1] = n;
    }

    double *T = NULL;
    size_t nT = 0;
    if (o->times && o->ntimes) {
        T = arena_calloc(ar, o->ntimes, sizeof *T);
        if (!T)
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < o->ntimes; k++)
            if (isfinite(o->times[k]))
                T[nT++] = o->times[k];
        for (size_t a = 1; a < nT; a++) /* insertion sort: a handful of times */
            for (size_t b = a; b > 0 && T[b - 1] > T[b]; b--) {
                double tmp = T[b];
                T[b] = T[b - 1];
                T[b - 1] = tmp;
            }
    }

    double zval = qnorm(1 - (1 - o->conf_level) / 2, 0, 1, 1, 0);
    out->ncurves = ngroups;
    for (size_t g = 0; g < ngroups; g++) {
        size_t m = start[g + 1] - start[g];
        if (m == 0)
            return err_set_field(e, ERR_INVALID, "group", "group %zu has no observations", g + 1);
        if (fit_curve(gt + start[g], gs + start[g], m, zval, o, ar, &out->curves[g]) != 0)
            return err_set(e, ERR_NOMEM, "out of memory");
        if (T && curve_at_times(&out->curves[g], T, nT, ar) != 0)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}
