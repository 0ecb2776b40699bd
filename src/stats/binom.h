/* One proportion and one rate: exact binomial test with the Clopper-Pearson interval (R's
 * binom.test), the one-sample score test with Wilson's interval (R's prop.test with one group),
 * and the exact Poisson interval for an event rate (R's poisson.test). No allocation. */
#ifndef IOHEME_STATS_BINOM_H
#define IOHEME_STATS_BINOM_H

#include <stdbool.h>

#include "base/err.h"
#include "stats/htest.h"

struct binom_result {
    double estimate;    /* x/n */
    double conf_int[2]; /* Clopper-Pearson; [0, u] for less, [l, 1] for greater */
    double p_value;
    double statistic; /* x */
    double parameter; /* n */
};

/* binom.test(x, n, p, alternative, conf.level). Needs 0 <= x <= n, n >= 1, 0 <= p <= 1,
 * 0 < conf_level < 1; otherwise ERR_INVALID naming the argument. */
int binom_test(long x, long n, double p, enum stats_alt alt, double conf_level,
               struct binom_result *r, struct err *e);

struct prop_result {
    double estimate;    /* x/n */
    double conf_int[2]; /* Wilson score interval, continuity-corrected when asked */
    double statistic;   /* X-squared */
    double parameter;   /* df = 1 */
    double p_value;
    bool approx_warning; /* R: "Chi-squared approximation may be incorrect" (np or n(1-p) < 5) */
};

/* prop.test(x, n, p, alternative, conf.level, correct) for one sample. Needs 0 <= x <= n,
 * n >= 1, 0 < p < 1, 0 < conf_level < 1. */
int binom_prop_test_one(long x, long n, double p, enum stats_alt alt, double conf_level,
                        bool correct, struct prop_result *r, struct err *e);

struct poisson_ci {
    double rate;        /* events / exposure */
    double conf_int[2]; /* exact (gamma) interval for the rate */
};

/* poisson.test(events, exposure, conf.level = c)$conf.int, two-sided: lower qgamma(a/2, x)
 * (0 when x = 0), upper qgamma(1 - a/2, x + 1), both divided by exposure. Needs events >= 0,
 * exposure > 0 and finite. */
int binom_poisson_rate_ci(long events, double exposure, double conf_level, struct poisson_ci *r,
                          struct err *e);

#endif
