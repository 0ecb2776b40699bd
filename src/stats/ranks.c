/* rank(ties.method = "average") as R's do_rank: sort the positions by value, give each run of
 * equal values the rank (i + j + 2)/2 (0-based run i..j). The tie term is accumulated over the
 * runs in increasing order, as R's table(r) orders them, in long double as R's sum() does. */
#include "stats/ranks.h"

#include <stdlib.h>

struct keyed {
    double v;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *u = a, *v = b;
    if (u->v < v->v)
        return -1;
    if (u->v > v->v)
        return 1;
    return (u->i > v->i) - (u->i < v->i);
}

int stats_rank_average(const double *x, size_t n, struct arena *ar, double *r, struct rank_ties *t,
                       struct err *e)
{
    struct keyed *k = arena_calloc(ar, n ? n : 1, sizeof *k);
    if (!k)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        k[i].v = x[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    long double term = 0;
    bool ties = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && k[j + 1].v == k[i].v)
            j++;
        double rank = (double)(i + j + 2) / 2.;
        for (size_t m = i; m <= j; m++)
            r[k[m].i] = rank;
        double cnt = (double)(j - i + 1);
        term += cnt * cnt * cnt - cnt;
        if (j > i)
            ties = true;
        i = j + 1;
    }
    if (t) {
        t->has_ties = ties;
        t->tie_term = (double)term;
    }
    return 0;
}
