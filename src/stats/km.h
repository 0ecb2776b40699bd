/* Kaplan–Meier estimation as survival::survfit(Surv(time, status) ~ group) computes it
 * (R 4.2.2, survival 3.5-3; docs: docs/r-algorithms.md §0–1): the per-stratum
 * table (every distinct time), Greenwood standard error on the log scale, Nelson–Aalen
 * cumulative hazard, confidence limits for conf.type log / log-log / plain with R's NA rules,
 * the median and its limits exactly as print.survfit, and summary(fit, times =).
 *
 * Pure: arrays in, arrays out; every array of a result is allocated in the caller's arena and
 * lives as long as it. NA is returned as NaN. */
#ifndef IOHEME_STATS_KM_H
#define IOHEME_STATS_KM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

enum km_conf_type { KM_CONF_LOG = 0, KM_CONF_LOGLOG, KM_CONF_PLAIN };

struct km_opts {
    enum km_conf_type conf_type; /* R default: log */
    double conf_level;           /* (0, 1); R default 0.95 */
    bool timefix;                /* apply aeqSurv first (R default: true) */
    const double *times;         /* summary(fit, times =) points, or NULL */
    size_t ntimes;
};

/* summary(fit, times = T, extend = FALSE) for one curve; time is the requested time. */
struct km_at_times {
    size_t n;
    double *time, *n_risk, *n_event, *n_censor, *surv, *lower, *upper;
};

/* One stratum's curve. Rows: every distinct time, ascending. */
struct km_curve {
    size_t n;  /* subjects in the stratum */
    size_t nt; /* rows */
    double *time, *n_risk, *n_event, *n_censor;
    double *surv;    /* running product of (n - d)/n */
    double *std_err; /* SE of -log S (Greenwood); Inf once everyone left has died */
    double *cumhaz;  /* Nelson–Aalen */
    double *lower, *upper;
    double median, median_lower, median_upper; /* print.survfit rule; NaN when not reached */
    struct km_at_times at;                     /* filled only when opts->times was given */
};

struct km_fit {
    size_t ncurves;          /* = ngroups */
    struct km_curve *curves; /* in group-code order (the caller's factor-level order) */
};

/* Fits one curve per group. time/status: n observations (status 0 censored, 1 event);
 * group: codes in [0, ngroups), or NULL for a single curve (ngroups is then 1). A group with no
 * observations is an error. out's arrays are allocated in ar. Returns 0 or a negative
 * err_code with e filled. */
int km_fit(const double *time, const double *status, const int *group, size_t ngroups, size_t n,
           const struct km_opts *opts, struct arena *ar, struct km_fit *out, struct err *e);

/* print.survfit's median of a step curve y on times t (nt rows; NaN entries skipped): the first
 * time y < 0.5 + tol, or the midpoint to the next drop when y sits at 0.5 exactly. NaN when
 * never reached. Used for the median (y = surv) and its limits (y = lower / upper). */
double km_median(const double *t, const double *y, size_t nt);

#endif
