/* t.test.default of R 4.2.2 (docs/r-algorithms.md §7), statement for statement: the same order of
 * operations (e.g. `cint <- tstat + c(-q, q); mu + cint * stderr`) so that every digit agrees. */
#include "stats/ttest.h"

#include <float.h>
#include <math.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/describe.h"

/* The common tail of t.test: p-value and CI from tstat, df, stderr. */
static void t_finish(double tstat, double df, double se, double mu, enum stats_alt alt,
                     double conf_level, struct ttest_result *r)
{
    double cint[2];
    if (alt == STATS_ALT_LESS) {
        r->p_value = pt(tstat, df, 1, 0);
        cint[0] = -INFINITY;
        cint[1] = tstat + qt(conf_level, df, 1, 0);
    } else if (alt == STATS_ALT_GREATER) {
        r->p_value = pt(tstat, df, 0, 0);
        cint[0] = tstat - qt(conf_level, df, 1, 0);
        cint[1] = INFINITY;
    } else {
        r->p_value = 2 * pt(-fabs(tstat), df, 1, 0);
        double alpha = 1 - conf_level;
        double q = qt(1 - alpha / 2, df, 1, 0);
        cint[0] = tstat + -q;
        cint[1] = tstat + q;
    }
    r->conf_int[0] = mu + cint[0] * se;
    r->conf_int[1] = mu + cint[1] * se;
    r->statistic = tstat;
    r->df = df;
    r->stderr_ = se;
}

int ttest_one(const double *x, size_t n, double mu, enum stats_alt alt, double conf_level,
              struct ttest_result *r, struct err *e)
{
    int rc = stats_check_conf_level(conf_level, e);
    if (rc)
        return rc;
    if (!isfinite(mu))
        return err_set_field(e, ERR_INVALID, "mu", "mu must be a finite number");
    if (n < 2)
        return err_set(e, ERR_INVALID, "not enough 'x' observations (need 2, have %zu)", n);
    double nx = (double)n;
    double mx = stats_mean(x, n);
    double vx = stats_var(x, n);
    double df = nx - 1;
    double se = sqrt(vx / nx);
    if (se < 10 * DBL_EPSILON * fabs(mx))
        return err_set(e, ERR_INVALID, "data are essentially constant");
    double tstat = (mx - mu) / se;
    r->estimate = r->estimate_x = mx;
    r->estimate_y = NAN;
    t_finish(tstat, df, se, mu, alt, conf_level, r);
    return 0;
}

int ttest_paired(const double *x, const double *y, size_t n, double mu, enum stats_alt alt,
                 double conf_level, struct arena *ar, struct ttest_result *r, struct err *e)
{
    double *d = arena_calloc(ar, n ? n : 1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        d[i] = x[i] - y[i];
    return ttest_one(d, n, mu, alt, conf_level, r, e);
}

int ttest_welch(const double *x, size_t nx_, const double *y, size_t ny_, double mu,
                enum stats_alt alt, double conf_level, struct ttest_result *r, struct err *e)
{
    int rc = stats_check_conf_level(conf_level, e);
    if (rc)
        return rc;
    if (!isfinite(mu))
        return err_set_field(e, ERR_INVALID, "mu", "mu must be a finite number");
    if (nx_ < 2)
        return err_set(e, ERR_INVALID, "not enough 'x' observations (need 2, have %zu)", nx_);
    if (ny_ < 2)
        return err_set(e, ERR_INVALID, "not enough 'y' observations (need 2, have %zu)", ny_);
    double nx = (double)nx_, ny = (double)ny_;
    double mx = stats_mean(x, nx_), vx = stats_var(x, nx_);
    double my = stats_mean(y, ny_), vy = stats_var(y, ny_);
    double sx = sqrt(vx / nx);
    double sy = sqrt(vy / ny);
    double se = sqrt(sx * sx + sy * sy);
    double df = R_pow(se, 4.0) / (R_pow(sx, 4.0) / (nx - 1) + R_pow(sy, 4.0) / (ny - 1));
    if (se < 10 * DBL_EPSILON * fmax(fabs(mx), fabs(my)))
        return err_set(e, ERR_INVALID, "data are essentially constant");
    double tstat = (mx - my - mu) / se;
    r->estimate = mx - my;
    r->estimate_x = mx;
    r->estimate_y = my;
    t_finish(tstat, df, se, mu, alt, conf_level, r);
    return 0;
}
