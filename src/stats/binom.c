/* binom.test, one-sample prop.test and the poisson.test interval, written as R 4.2.2 computes
 * them (docs/r-algorithms.md §4-§5): the same Rmath calls in the same order, so results agree
 * with R to the last bits. */
#include "stats/binom.h"

#include <math.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

static int check_counts(long x, long n, struct err *e)
{
    if (n < 1)
        return err_set_field(e, ERR_INVALID, "n", "n must be at least 1 (got %ld)", n);
    if (x < 0 || x > n)
        return err_set_field(e, ERR_INVALID, "x", "x must be between 0 and n = %ld (got %ld)", n,
                             x);
    return 0;
}

/* The two-sided rule: outcomes no more likely than x, with R's relative fuzz 1 + 1e-7. */
static double binom_two_sided_p(double x, double n, double p)
{
    if (p == 0)
        return x == 0;
    if (p == 1)
        return x == n;
    const double relErr = 1 + 1e-07;
    double d = dbinom(x, n, p, 0);
    double m = n * p;
    if (x == m)
        return 1;
    if (x < m) {
        double y = 0;
        for (double i = ceil(m); i <= n; i++)
            y += dbinom(i, n, p, 0) <= d * relErr;
        return pbinom(x, n, p, 1, 0) + pbinom(n - y, n, p, 0, 0);
    }
    double y = 0;
    for (double i = 0; i <= floor(m); i++)
        y += dbinom(i, n, p, 0) <= d * relErr;
    return pbinom(y - 1, n, p, 1, 0) + pbinom(x - 1, n, p, 0, 0);
}

int binom_test(long x, long n, double p, enum stats_alt alt, double conf_level,
               struct binom_result *r, struct err *e)
{
    int rc = check_counts(x, n, e);
    if (rc)
        return rc;
    if (!(p >= 0 && p <= 1))
        return err_set_field(e, ERR_INVALID, "p", "p must be between 0 and 1 (got %g)", p);
    if ((rc = stats_check_conf_level(conf_level, e)))
        return rc;
    double dx = (double)x, dn = (double)n;
    r->estimate = dx / dn;
    r->statistic = dx;
    r->parameter = dn;
    double alpha = (1 - conf_level) / 2;
    switch (alt) {
    case STATS_ALT_LESS:
        r->p_value = pbinom(dx, dn, p, 1, 0);
        r->conf_int[0] = 0;
        r->conf_int[1] = x == n ? 1 : qbeta(1 - (1 - conf_level), dx + 1, dn - dx, 1, 0);
        break;
    case STATS_ALT_GREATER:
        r->p_value = pbinom(dx - 1, dn, p, 0, 0);
        r->conf_int[0] = x == 0 ? 0 : qbeta(1 - conf_level, dx, dn - dx + 1, 1, 0);
        r->conf_int[1] = 1;
        break;
    default:
        r->p_value = binom_two_sided_p(dx, dn, p);
        r->conf_int[0] = x == 0 ? 0 : qbeta(alpha, dx, dn - dx + 1, 1, 0);
        r->conf_int[1] = x == n ? 1 : qbeta(1 - alpha, dx + 1, dn - dx, 1, 0);
        break;
    }
    return 0;
}

int binom_prop_test_one(long x, long n, double p, enum stats_alt alt, double conf_level,
                        bool correct, struct prop_result *r, struct err *e)
{
    int rc = check_counts(x, n, e);
    if (rc)
        return rc;
    if (!(p > 0 && p < 1))
        return err_set_field(e, ERR_INVALID, "p", "p must be strictly between 0 and 1 (got %g)", p);
    if ((rc = stats_check_conf_level(conf_level, e)))
        return rc;
    double dx = (double)x, dn = (double)n;
    double est = dx / dn;
    double z = qnorm(alt == STATS_ALT_TWO_SIDED ? (1 + conf_level) / 2 : conf_level, 0, 1, 1, 0);
    double yates = correct ? 0.5 : 0;
    yates = fmin(yates, fabs(dx - dn * p));
    double z22n = z * z / (2 * dn);
    double pc = est + yates / dn;
    double pu =
        pc >= 1 ? 1 : (pc + z22n + z * sqrt(pc * (1 - pc) / dn + z22n / (2 * dn))) / (1 + 2 * z22n);
    pc = est - yates / dn;
    double pl =
        pc <= 0 ? 0 : (pc + z22n - z * sqrt(pc * (1 - pc) / dn + z22n / (2 * dn))) / (1 + 2 * z22n);
    r->estimate = est;
    r->conf_int[0] = alt == STATS_ALT_LESS ? 0 : fmax(pl, 0);
    r->conf_int[1] = alt == STATS_ALT_GREATER ? 1 : fmin(pu, 1);

    /* STATISTIC <- sum((abs(x - E) - YATES)^2/E) over the cells (x, n - x); R's sum() adds in
     * long double. */
    double e1 = dn * p, e2 = dn * (1 - p);
    double t1 = fabs(dx - e1) - yates, t2 = fabs((dn - dx) - e2) - yates;
    long double s = 0;
    s += t1 * t1 / e1;
    s += t2 * t2 / e2;
    r->statistic = (double)s;
    r->parameter = 1;
    r->approx_warning = e1 < 5 || e2 < 5;
    if (alt == STATS_ALT_TWO_SIDED) {
        r->p_value = pchisq(r->statistic, 1, 0, 0);
    } else {
        double sg = est > p ? 1 : (est < p ? -1 : 0);
        double zz = sg * sqrt(r->statistic);
        r->p_value = pnorm(zz, 0, 1, alt == STATS_ALT_LESS, 0);
    }
    return 0;
}

int binom_poisson_rate_ci(long events, double exposure, double conf_level, struct poisson_ci *r,
                          struct err *e)
{
    if (events < 0)
        return err_set_field(e, ERR_INVALID, "events", "events must be >= 0 (got %ld)", events);
    if (!(exposure > 0) || !isfinite(exposure))
        return err_set_field(e, ERR_INVALID, "exposure",
                             "exposure must be a positive finite number (got %g)", exposure);
    int rc = stats_check_conf_level(conf_level, e);
    if (rc)
        return rc;
    double x = (double)events;
    double alpha = (1 - conf_level) / 2;
    r->rate = x / exposure;
    r->conf_int[0] = (events == 0 ? 0 : qgamma(alpha, x, 1, 1, 0)) / exposure;
    r->conf_int[1] = qgamma(1 - alpha, x + 1, 1, 1, 0) / exposure;
    return 0;
}
