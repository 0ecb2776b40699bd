/* Ranks as R's rank(x, ties.method = "average") and the tie statistics the rank tests need.
 * Scratch memory comes from the caller's arena. */
#ifndef IOHEME_STATS_RANKS_H
#define IOHEME_STATS_RANKS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

struct rank_ties {
    bool has_ties;   /* R: length(r) != length(unique(r)) */
    double tie_term; /* R: sum(NTIES^3 - NTIES) over the groups of equal ranks (table(r)) */
};

/* Writes the average ranks of x[0..n) into r[0..n) (caller-owned, n elements) and the tie
 * statistics into t (may be NULL). x must hold no NaN. Scratch from ar; ERR_NOMEM on failure. */
int stats_rank_average(const double *x, size_t n, struct arena *ar, double *r, struct rank_ties *t,
                       struct err *e);

#endif
