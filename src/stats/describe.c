/* R's mean/var/quantile/median (docs/r-algorithms.md §7, §9). The accumulation order and the long
 * double intermediates are R's (summary.c real_mean, cov.c MEAN and cov_complete1), so results
 * agree with R to the last bit on x86-64. */
#include "stats/describe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double stats_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    long double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    s /= (long double)n;
    if (isfinite((double)s)) {
        long double t = 0.0;
        for (size_t i = 0; i < n; i++)
            t += (x[i] - s);
        s += t / (long double)n;
    }
    return (double)s;
}

double stats_var(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    /* cov.c keeps the mean in a long double variable (xxm = xm[i]), so each deviation and
     * product is formed in long double. */
    long double xxm = stats_mean(x, n);
    long double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += (x[k] - xxm) * (x[k] - xxm);
    return (double)(sum / (long double)(n - 1));
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

void stats_sort(double *x, size_t n)
{
    if (n > 1)
        qsort(x, n, sizeof *x, cmp_double);
}

double stats_quantile7_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double index = 1 + (double)(n - 1) * p;
    double lo = floor(index), hi = ceil(index);
    double qs = sorted[(size_t)lo - 1];
    double xhi = sorted[(size_t)hi - 1];
    if (index > lo && xhi != qs) {
        double h = index - lo;
        qs = (1 - h) * qs + h * xhi;
    }
    return qs;
}

double stats_median_sorted(const double *sorted, size_t n)
{
    if (n == 0)
        return NAN;
    size_t half = (n + 1) / 2;
    if (n % 2 == 1)
        return sorted[half - 1];
    return stats_mean(sorted + half - 1, 2);
}

int describe(const double *x, size_t n, struct arena *ar, struct describe_result *r, struct err *e)
{
    if (n == 0)
        return err_set(e, ERR_INVALID, "no (non-missing) observations");
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return err_set(e, ERR_INVALID, "value %zu is NaN", i + 1);
    double *s = arena_calloc(ar, n, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory");
    memcpy(s, x, n * sizeof *s);
    stats_sort(s, n);
    r->n = n;
    r->mean = stats_mean(x, n);
    r->sd = sqrt(stats_var(x, n));
    r->min = s[0];
    r->max = s[n - 1];
    r->median = stats_median_sorted(s, n);
    r->q1 = stats_quantile7_sorted(s, n, 0.25);
    r->q3 = stats_quantile7_sorted(s, n, 0.75);
    r->iqr = r->q3 - r->q1;
    return 0;
}
