/* Fisher's exact test for a 2x2 table as R's fisher.test: the two-sided p-value by the
 * renormalised-density rule, the conditional maximum-likelihood odds ratio and its exact
 * confidence interval, both found with R's uniroot (stats/zeroin.h) on R's brackets. */
#ifndef IOHEME_STATS_FISHER_H
#define IOHEME_STATS_FISHER_H

#include "base/arena.h"
#include "base/err.h"
#include "stats/htest.h"

struct fisher_result {
    double p_value;
    double estimate;    /* conditional MLE of the odds ratio; 0 or Inf at the support's ends */
    double conf_int[2]; /* [0, u] for less, [l, Inf] for greater */
};

/* fisher.test(matrix(c(a, b, c, d), 2, byrow = TRUE), alternative, conf.level) for the table
 * [[a, b], [c, d]] of non-negative counts. Scratch (the support's densities) comes from ar. */
int fisher_test_2x2(long a, long b, long c, long d, enum stats_alt alt, double conf_level,
                    struct arena *ar, struct fisher_result *r, struct err *e);

#endif
