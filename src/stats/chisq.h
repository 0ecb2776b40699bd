/* Pearson's chi-squared test of independence for an r x c table of counts, as R's chisq.test
 * (no simulation): Yates' continuity correction for 2x2 tables when asked (R's default). */
#ifndef IOHEME_STATS_CHISQ_H
#define IOHEME_STATS_CHISQ_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

struct chisq_result {
    double statistic; /* X-squared */
    double df;        /* (r - 1)(c - 1) */
    double p_value;
    double yates;        /* continuity correction used: min(0.5, |x - E|) for 2x2, else 0 */
    double *expected;    /* r*c expected counts, row-major; allocated in the caller's arena */
    bool approx_warning; /* R: "Chi-squared approximation may be incorrect" (some E < 5) */
};

/* chisq.test(matrix(counts, nrow, byrow = TRUE), correct = correct). counts is row-major with
 * nrow, ncol >= 2, non-negative finite values and a positive total (ERR_INVALID otherwise).
 * r->expected is allocated in ar. */
int chisq_test(const double *counts, size_t nrow, size_t ncol, bool correct, struct arena *ar,
               struct chisq_result *r, struct err *e);

#endif
