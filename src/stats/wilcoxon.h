/* Wilcoxon tests as R's wilcox.test(conf.int = TRUE): the signed-rank test (one sample, or
 * paired as the test on x - y) and the rank-sum test of two samples, with R's choice between the
 * exact distribution and the normal approximation, the Hodges-Lehmann estimate and its interval
 * (exact order statistics, or the roots R finds with uniroot(tol = 1e-4), reproduced through the
 * literal zeroin port), R's degenerate cases and R's warnings.
 *
 * Rmath's psignrank/pwilcox keep a process-wide cache; calls to them are serialised with a
 * mutex here, so these functions may run on several threads. */
#ifndef IOHEME_STATS_WILCOXON_H
#define IOHEME_STATS_WILCOXON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "stats/htest.h"

struct wilcox_opts {
    double mu; /* location (shift) under H0; R's mu, default 0 */
    enum stats_alt alt;
    int exact;         /* -1: R's default (exact when n < 50 and no ties/zeros); 0; 1 */
    bool correct;      /* continuity correction of the normal approximation (default true) */
    double conf_level; /* default 0.95 */
};

/* R's defaults: mu 0, two-sided, exact NULL, correct TRUE, conf.level 0.95. */
struct wilcox_opts wilcox_default_opts(void);

struct wilcox_result {
    double statistic; /* V (signed rank) or W (rank sum) */
    double p_value;
    double estimate; /* (pseudo)median / difference in location; midrange in the tied case */
    double conf_int[2];
    double conf_level;  /* achieved level (R's attr(conf.int, "conf.level")); 0 when none */
    size_t n;           /* signed rank: non-zero differences used; rank sum: nx + ny */
    size_t n_x, n_y;    /* rank sum: sample sizes (signed rank: n_x = pairs given, n_y = 0) */
    bool is_exact;      /* exact distribution used */
    const char *method; /* R's METHOD string (static) */
    struct stats_warnings warnings; /* R's warnings, in R's order */
};

/* wilcox.test(x, mu = ..., conf.int = TRUE): signed-rank test of x[0..n) (n >= 1). x must be
 * finite. Scratch from ar; the result owns nothing. */
int wilcox_signed_rank(const double *x, size_t n, const struct wilcox_opts *o, struct arena *ar,
                       struct wilcox_result *r, struct err *e);
/* wilcox.test(x, y, paired = TRUE, conf.int = TRUE) over n complete pairs: the signed-rank test
 * of x - y. */
int wilcox_paired(const double *x, const double *y, size_t n, const struct wilcox_opts *o,
                  struct arena *ar, struct wilcox_result *r, struct err *e);
/* wilcox.test(x, y, conf.int = TRUE): rank-sum test (nx, ny >= 1). */
int wilcox_rank_sum(const double *x, size_t nx, const double *y, size_t ny,
                    const struct wilcox_opts *o, struct arena *ar, struct wilcox_result *r,
                    struct err *e);

#endif
