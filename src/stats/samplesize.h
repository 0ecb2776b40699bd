/* Sample size for one proportion against a benchmark (H0: p = p0, the study's design p1):
 * the normal-approximation formula, the exact binomial search, inflation for dropout, and the
 * precision view (Clopper-Pearson half-width at n, and the n reaching a target half-width).
 * No allocation. */
#ifndef IOHEME_STATS_SAMPLESIZE_H
#define IOHEME_STATS_SAMPLESIZE_H

#include "base/err.h"

/* Searches stop here with ERR_INVALID ("not reached"). */
#define SAMPLESIZE_N_MAX 1000000L

/* n = ((qnorm(1 - alpha/2) sqrt(p0 (1 - p0)) + qnorm(power) sqrt(p1 (1 - p1))) / (p1 - p0))^2;
 * *n_raw gets it unrounded, *n its ceiling. Needs 0 < p0, p1 < 1, p0 != p1,
 * 0 < alpha < 1, 0 < power < 1. */
int samplesize_prop_normal(double p0, double p1, double alpha, double power, double *n_raw, long *n,
                           struct err *e);

struct samplesize_exact {
    long n;              /* smallest n whose exact test reaches the power */
    long critical_value; /* reject H0 when x >= k (p1 > p0) or x <= k (p1 < p0); -1: never */
    double alpha_exact;  /* attained size under p0 (<= alpha/2, the test's tail) */
    double power_exact;  /* attained power under p1 */
};

/* The exact binomial search: for n = 1, 2, ... the equal-tailed exact test of H0 at level alpha
 * rejects on the side of p1 when the binomial tail under p0 beyond the critical value is
 * <= alpha/2 (critical value from the binomial distribution); the first n whose power under p1
 * reaches `power` is returned. Same preconditions as samplesize_prop_normal. */
int samplesize_prop_exact(double p0, double p1, double alpha, double power,
                          struct samplesize_exact *r, struct err *e);

/* ceil(n / (1 - dropout)), 0 <= dropout < 1; the inflated n, or -1 on a bad dropout. */
long samplesize_inflate(long n, double dropout);

struct precision_result {
    double conf_int[2]; /* Clopper-Pearson interval for x/n */
    double half_width;  /* (upper - lower)/2 */
};

/* The exact (Clopper-Pearson) interval of x successes in n and its half-width; x may be an
 * expected count p n (not an integer). Needs n > 0, 0 <= x <= n, 0 < conf_level < 1. */
int samplesize_precision_exact_ci(double x, double n, double conf_level, struct precision_result *r,
                                  struct err *e);

/* The smallest n whose exact interval at the expected count x = p n has half-width <=
 * half_width; *achieved gets that half-width. Needs 0 < p < 1, half_width > 0. */
int samplesize_precision(double p, double half_width, double conf_level, long *n, double *achieved,
                         struct err *e);

#endif
