/* The G-rho family of k-sample tests as survival::survdiff computes it (rho = 0: log-rank;
 * rho = 1: Peto–Peto with the pooled left-continuous Kaplan–Meier S(t-) as weight), with
 * optional strata (docs/r-algorithms.md §2).
 *
 * Pure; result arrays are allocated in the caller's arena. */
#ifndef IOHEME_STATS_LOGRANK_H
#define IOHEME_STATS_LOGRANK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

struct logrank_result {
    size_t ngroups;
    double *n;      /* subjects per group */
    double *obs;    /* weighted observed events per group, summed over strata */
    double *exp;    /* weighted expected events per group, summed over strata */
    double *var;    /* ngroups x ngroups, row-major, summed over strata */
    double chisq;   /* u' V^-1 u without the first group with exp > 0; 0 if < 2 such groups */
    int df;         /* groups with exp > 0, minus 1 */
    double p_value; /* pchisq(chisq, df, lower.tail = FALSE) */
};

/* survdiff(Surv(time, status) ~ group [+ strata(s)], rho). group: codes in [0, ngroups);
 * strata: codes in [0, nstrata) or NULL. Needs ngroups >= 2 and every group non-empty.
 * timefix: apply aeqSurv first (R's default). out's arrays are allocated in ar. Returns 0 or
 * a negative err_code with e filled. */
int logrank_test(const double *time, const double *status, const int *group, size_t ngroups,
                 const int *strata, size_t nstrata, size_t n, double rho, bool timefix,
                 struct arena *ar, struct logrank_result *out, struct err *e);

#endif
