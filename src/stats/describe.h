/* Descriptive statistics as R computes them: mean() and var()/sd() with long-double accumulation
 * and R's second refining pass, quantile(type = 7) in R's exact formula form, median(), IQR().
 * Pure functions on arrays; scratch memory comes from the caller's arena. */
#ifndef IOHEME_STATS_DESCRIBE_H
#define IOHEME_STATS_DESCRIBE_H

#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

/* R's mean(x): long-double sum / n, refined by the mean of the residuals. n >= 1; NaN for n = 0. */
double stats_mean(const double *x, size_t n);
/* R's var(x): sum((x - mean)^2)/(n - 1), deviations and sum in long double (cov.c); NaN for n < 2.
 */
double stats_var(const double *x, size_t n);
/* Sorts x[0..n) ascending in place (no NaN allowed in x). */
void stats_sort(double *x, size_t n);
/* quantile(x, p, type = 7) for sorted x (n >= 1) and 0 <= p <= 1. */
double stats_quantile7_sorted(const double *sorted, size_t n, double p);
/* R's median() of sorted x: middle value, or mean() of the two middle values. NaN for n = 0. */
double stats_median_sorted(const double *sorted, size_t n);

struct describe_result {
    size_t n;
    double mean, sd, min, max;
    double median, q1, q3, iqr; /* q1/q3: quantile type 7 at 0.25/0.75; iqr = q3 - q1 */
};

/* All of the above for x[0..n) (n >= 1, all values finite or +-Inf, no NaN: ERR_INVALID
 * otherwise). x is not modified; a sorted copy is made in ar. sd is NaN when n = 1. */
int describe(const double *x, size_t n, struct arena *ar, struct describe_result *r, struct err *e);

#endif
