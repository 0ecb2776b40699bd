/* Student's t tests as R's t.test: one-sample, paired (the one-sample test on the differences)
 * and Welch's two-sample test. Means and variances accumulate in long double as R's mean() and
 * var() do (stats/describe.h). No allocation. */
#ifndef IOHEME_STATS_TTEST_H
#define IOHEME_STATS_TTEST_H

#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "stats/htest.h"

struct ttest_result {
    double statistic; /* t */
    double df;        /* n - 1, or Welch-Satterthwaite df */
    double p_value;
    double estimate;    /* mean of x (one-sample), mean difference (paired), mean x - mean y */
    double estimate_x;  /* R's estimate: mean of x (or of the differences) */
    double estimate_y;  /* mean of y for two samples; NaN otherwise */
    double conf_int[2]; /* -Inf/Inf on the open side of a one-sided test */
    double stderr_;     /* the standard error used */
};

/* t.test(x, mu, alternative, conf.level). n >= 2; ERR_INVALID "data are essentially constant"
 * when R stops with that error. */
int ttest_one(const double *x, size_t n, double mu, enum stats_alt alt, double conf_level,
              struct ttest_result *r, struct err *e);
/* t.test(x, y, paired = TRUE, ...): the one-sample test on d = x - y (complete pairs given).
 * Scratch for d comes from ar. */
int ttest_paired(const double *x, const double *y, size_t n, double mu, enum stats_alt alt,
                 double conf_level, struct arena *ar, struct ttest_result *r, struct err *e);
/* t.test(x, y) (Welch, var.equal = FALSE). nx, ny >= 2. */
int ttest_welch(const double *x, size_t nx, const double *y, size_t ny, double mu,
                enum stats_alt alt, double conf_level, struct ttest_result *r, struct err *e);

#endif
