/* Harrell's concordance for a Cox fit, counted as survival::concordancefit does for coxph
 * (reverse = TRUE, no weights, no strata): see cox.h for which pairs are comparable.
 *
 * Times are walked from the largest down. Subjects with a later time — and those censored at
 * the current time, who are still at risk — sit in a Fenwick tree indexed by the rank of their
 * predictor; each event queries how many of them have a smaller, equal and larger predictor.
 * Events at the same time are not comparable with each other (tied.y / tied.xy). O(n log n). */
#include "stats/cox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/surv_common.h"

static void bit_add(int64_t *bit, size_t m, size_t pos)
{
    for (size_t i = pos + 1; i <= m; i += i & (~i + 1))
        bit[i]++;
}

/* Number of inserted entries with rank < pos. */
static int64_t bit_below(const int64_t *bit, size_t pos)
{
    int64_t s = 0;
    for (size_t i = pos; i > 0; i -= i & (~i + 1))
        s += bit[i];
    return s;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int cox_concordance(const double *time, const double *status, const double *lp, size_t n,
                    struct arena *ar, struct cox_concordance *out)
{
    struct surv_sorted so;
    struct err e;
    double *lps = arena_calloc(ar, n ? n : 1, sizeof *lps);
    if (!lps || surv_sort(time, status, n, false, ar, &so, &e) != 0)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        lps[i] = lp[so.ord[i]];
    return cox_concordance_sorted(so.time, so.status, lps, n, ar, out);
}

int cox_concordance_sorted(const double *time, const double *status, const double *lp, size_t n,
                           struct arena *ar, struct cox_concordance *out)
{
    memset(out, 0, sizeof *out);
    size_t *ol = surv_order(lp, n, ar);
    size_t *rank = arena_calloc(ar, n ? n : 1, sizeof *rank);
    size_t *dead = arena_calloc(ar, n ? n : 1, sizeof *dead);
    int64_t *bit = arena_calloc(ar, n + 1, sizeof *bit);
    int64_t *eq = arena_calloc(ar, n ? n : 1, sizeof *eq); /* inserted per rank */
    if (!ol || !rank || !dead || !bit || !eq)
        return ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && lp[ol[i]] != lp[ol[i - 1]])
            m++;
        rank[ol[i]] = m;
    }
    m++;
    int64_t inserted = 0;
    double conc = 0, disc = 0, tx = 0, ty = 0, txy = 0;
    size_t i = n;
    while (i > 0) {
        size_t j = i;
        double t = time[i - 1];
        size_t nd = 0;
        for (; j > 0 && time[j - 1] == t; j--) {
            size_t q = j - 1;
            if (status[q] == 0) {
                bit_add(bit, m, rank[q]);
                eq[rank[q]]++;
                inserted++;
            } else {
                dead[nd++] = rank[q];
            }
        }
        for (size_t k = 0; k < nd; k++) {
            int64_t below = bit_below(bit, dead[k]);
            int64_t same = eq[dead[k]];
            conc += (double)below;
            tx += (double)same;
            disc += (double)(inserted - below - same);
        }
        if (nd > 1) { /* pairs of events at this time */
            qsort(dead, nd, sizeof *dead, cmp_size);
            double pairs = (double)nd * (double)(nd - 1) / 2, same = 0;
            for (size_t a = 0, b; a < nd; a = b) {
                for (b = a; b < nd && dead[b] == dead[a]; b++)
                    ;
                same += (double)(b - a) * (double)(b - a - 1) / 2;
            }
            txy += same;
            ty += pairs - same;
        }
        for (size_t k = 0; k < nd; k++) {
            bit_add(bit, m, dead[k]);
            eq[dead[k]]++;
            inserted++;
        }
        i = j;
    }
    out->concordant = conc;
    out->discordant = disc;
    out->tied_x = tx;
    out->tied_y = ty;
    out->tied_xy = txy;
    out->concordance = (conc + tx / 2) / (conc + disc + tx);
    return 0;
}
