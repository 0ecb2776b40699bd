/* Pieces shared by the survival methods (km.c, logrank.c, cox.c): checking (time, status)
 * input, R's timefix (aeqSurv) and a stable O(n) radix ordering of doubles.
 *
 * Pure functions on arrays; memory comes from the arena the caller passes and belongs to it. */
#ifndef IOHEME_STATS_SURV_COMMON_H
#define IOHEME_STATS_SURV_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

/* sqrt(DBL_EPSILON): survival's timefix tolerance and print.survfit's median tolerance. */
#define SURV_TOL 1.4901161193847656e-08

/* Checks that every time is finite and every status is 0 or 1; the error names the 1-based
 * position. n == 0 is an error ("no observations"). */
int surv_check(const double *time, const double *status, size_t n, struct err *e);

/* Observations in R's time order: ord[i] is the input index of the i-th smallest time (stable:
 * ties keep input order, as R's order()); time[i], status[i] are that observation's values.
 * With timefix, times are first merged as R's aeqSurv() does: sorted unique times closer than
 * SURV_TOL (absolute, or relative to the mean of |unique times|) are chained into clusters and
 * each takes its cluster's smallest value. */
struct surv_sorted {
    size_t *ord;
    double *time, *status;
};

/* Fills out (arrays of n entries allocated in ar, owned by the arena). One radix ordering;
 * a second only when timefix merged something. Returns 0 or ERR_NOMEM (e filled). */
int surv_sort(const double *time, const double *status, size_t n, bool timefix, struct arena *ar,
              struct surv_sorted *out, struct err *e);

/* Stable ascending order of x[0..n) (ties keep input order), as R's order(). Returns an
 * index array of n entries allocated in ar (owned by the arena), or NULL on out-of-memory.
 * LSD radix sort on the IEEE bits: O(n). NaN must not occur. */
size_t *surv_order(const double *x, size_t n, struct arena *ar);

#endif
