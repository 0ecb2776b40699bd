/* Sample size for a single proportion. The normal formula is the usual one for a one-sample
 * test of p0 vs p1 (e.g. Chow, Shao & Wang, Sample Size Calculations in Clinical Research,
 * §4.1); the exact search and the precision view use Rmath's binomial and beta functions, so
 * every figure agrees with the same computation in R (tests/fixtures/stats/make.R). */
#include "stats/samplesize.h"

#include <math.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/htest.h"

static int check_design(double p0, double p1, double alpha, double power, struct err *e)
{
    if (!(p0 > 0 && p0 < 1))
        return err_set_field(e, ERR_INVALID, "p0", "p0 must be strictly between 0 and 1 (got %g)",
                             p0);
    if (!(p1 > 0 && p1 < 1))
        return err_set_field(e, ERR_INVALID, "p1", "p1 must be strictly between 0 and 1 (got %g)",
                             p1);
    if (p0 == p1)
        return err_set_field(e, ERR_INVALID, "p1", "p1 must differ from p0 (both %g)", p0);
    if (!(alpha > 0 && alpha < 1))
        return err_set_field(e, ERR_INVALID, "alpha",
                             "alpha must be strictly between 0 and 1 (got %g)", alpha);
    if (!(power > 0 && power < 1))
        return err_set_field(e, ERR_INVALID, "power",
                             "power must be strictly between 0 and 1 (got %g)", power);
    return 0;
}

int samplesize_prop_normal(double p0, double p1, double alpha, double power, double *n_raw, long *n,
                           struct err *e)
{
    int rc = check_design(p0, p1, alpha, power, e);
    if (rc)
        return rc;
    double q = (qnorm(1 - alpha / 2, 0, 1, 1, 0) * sqrt(p0 * (1 - p0)) +
                qnorm(power, 0, 1, 1, 0) * sqrt(p1 * (1 - p1))) /
               (p1 - p0);
    *n_raw = q * q;
    *n = (long)ceil(*n_raw);
    return 0;
}

/* P(X >= k) for X ~ Bin(n, p). */
static double upper_tail(double k, double n, double p)
{
    return pbinom(k - 1, n, p, 0, 0);
}

/* Critical value, size and power of the exact test at sample size n. */
static void exact_at(double n, double p0, double p1, double alpha, struct samplesize_exact *r)
{
    double half = alpha / 2;
    if (p1 > p0) {
        /* smallest k with P(X >= k | p0) <= alpha/2; k = n + 1 never rejects */
        double k = qbinom(1 - half, n, p0, 1, 0) + 1;
        if (k > n + 1)
            k = n + 1;
        while (k > 0 && upper_tail(k - 1, n, p0) <= half)
            k--;
        while (k <= n && upper_tail(k, n, p0) > half)
            k++;
        r->critical_value = (long)k;
        r->alpha_exact = upper_tail(k, n, p0);
        r->power_exact = upper_tail(k, n, p1);
    } else {
        /* largest k with P(X <= k | p0) <= alpha/2; k = -1 never rejects */
        double k = qbinom(half, n, p0, 1, 0);
        while (k >= 0 && pbinom(k, n, p0, 1, 0) > half)
            k--;
        while (k < n && pbinom(k + 1, n, p0, 1, 0) <= half)
            k++;
        r->critical_value = (long)k;
        r->alpha_exact = k < 0 ? 0 : pbinom(k, n, p0, 1, 0);
        r->power_exact = k < 0 ? 0 : pbinom(k, n, p1, 1, 0);
    }
}

int samplesize_prop_exact(double p0, double p1, double alpha, double power,
                          struct samplesize_exact *r, struct err *e)
{
    int rc = check_design(p0, p1, alpha, power, e);
    if (rc)
        return rc;
    for (long n = 1; n <= SAMPLESIZE_N_MAX; n++) {
        exact_at((double)n, p0, p1, alpha, r);
        if (r->power_exact >= power) {
            r->n = n;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, "the exact test does not reach power %g with n <= %ld", power,
                   SAMPLESIZE_N_MAX);
}

long samplesize_inflate(long n, double dropout)
{
    if (!(dropout >= 0 && dropout < 1))
        return -1;
    return (long)ceil((double)n / (1 - dropout));
}

int samplesize_precision_exact_ci(double x, double n, double conf_level, struct precision_result *r,
                                  struct err *e)
{
    if (!(n > 0) || !isfinite(n))
        return err_set_field(e, ERR_INVALID, "n", "n must be positive (got %g)", n);
    if (!(x >= 0 && x <= n))
        return err_set_field(e, ERR_INVALID, "x", "x must be between 0 and n = %g (got %g)", n, x);
    int rc = stats_check_conf_level(conf_level, e);
    if (rc)
        return rc;
    double alpha = (1 - conf_level) / 2;
    r->conf_int[0] = x == 0 ? 0 : qbeta(alpha, x, n - x + 1, 1, 0);
    r->conf_int[1] = x == n ? 1 : qbeta(1 - alpha, x + 1, n - x, 1, 0);
    r->half_width = (r->conf_int[1] - r->conf_int[0]) / 2;
    return 0;
}

int samplesize_precision(double p, double half_width, double conf_level, long *n, double *achieved,
                         struct err *e)
{
    if (!(p > 0 && p < 1))
        return err_set_field(e, ERR_INVALID, "p1", "p1 must be strictly between 0 and 1 (got %g)",
                             p);
    if (!(half_width > 0))
        return err_set_field(e, ERR_INVALID, "half-width", "half-width must be positive (got %g)",
                             half_width);
    for (long m = 1; m <= SAMPLESIZE_N_MAX; m++) {
        struct precision_result r = {0};
        int rc = samplesize_precision_exact_ci(p * (double)m, (double)m, conf_level, &r, e);
        if (rc)
            return rc;
        if (r.half_width <= half_width) {
            *n = m;
            *achieved = r.half_width;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, "half-width %g not reached with n <= %ld", half_width,
                   SAMPLESIZE_N_MAX);
}
