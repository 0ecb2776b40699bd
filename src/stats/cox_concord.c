/* Harrell's concordance for a Cox fit, counted as survival::concordancefit does for coxph
 * (reverse = TRUE, no weights, no strata): see cox.h for which pairs are comparable.
 *
 * Times are walked from the largest down. Subjects with a later time — and those censored at
 * the current time, who are still at risk — are counted by the rank of their predictor (in a
 * count per rank plus block counts per power-of-two level (see rank_levels), or a prefix sum
 * rebuilt per event time when the predictor takes few values);
 * each event asks how many of them have a smaller, equal and larger predictor.
 * Events at the same time are not comparable with each other (tied.y / tied.xy). O(n log n). */
#include "stats/cox.h"

#include <stdint.h>
#include <string.h>

#include "stats/surv_common.h"

/* How many inserted entries have a rank below r. eq[r] (kept by the caller) counts each rank;
 * cnt holds, for each level k >= 3, the count of every aligned block of 2^k ranks. A query adds
 * the < 8 ranks before r in its own 8-rank block (one cache line of eq) and, for each set bit
 * k >= 3 of r, one block count of level k. The levels together hold m/4 counts, the higher
 * ones small enough to stay in cache; a Fenwick tree over 1e6 ranks takes a cache miss at
 * nearly every step. Same counts, so the same result. */
struct rank_levels {
    int64_t *cnt;
    size_t off[64]; /* level 3 + l starts at cnt + off[l] */
    int nlev;
};

static int levels_init(struct rank_levels *lv, size_t m, struct arena *ar)
{
    size_t total = 0;
    int l = 0;
    for (; (m >> (l + 3)) > 0; l++) {
        lv->off[l] = total;
        total += (m >> (l + 3)) + 1;
    }
    lv->nlev = l;
    lv->cnt = arena_calloc(ar, total ? total : 1, sizeof *lv->cnt);
    return lv->cnt ? 0 : ERR_NOMEM;
}

static void levels_add(struct rank_levels *lv, size_t r)
{
    for (int l = 0; l < lv->nlev; l++)
        lv->cnt[lv->off[l] + (r >> (l + 3))]++;
}

static int64_t levels_below(const struct rank_levels *lv, const int64_t *eq, size_t r)
{
    int64_t s = 0;
    for (size_t i = r & ~(size_t)7; i < r; i++)
        s += eq[i];
    for (int l = 0; l < lv->nlev; l++) {
        size_t b = r >> (l + 3);
        if (b & 1)
            s += lv->cnt[lv->off[l] + b - 1];
    }
    return s;
}

/* Dense ranks (0 = smallest) of lp[0..n) into rank; *m = number of distinct values.
 * A linear predictor usually takes few distinct values (factors, rounded covariates), so the
 * distinct values are collected in a hash table and only they are sorted; when they turn out
 * to be many, a radix ordering of all n values is cheaper. */
static int lp_ranks(const double *lp, size_t n, struct arena *ar, size_t *rank, size_t *m)
{
    size_t cap = 4096, limit = n / 8 > 4096 ? n / 8 : 4096;
    for (;;) {
        size_t nd = 0, mask = cap - 1;
        uint64_t *key = arena_calloc(ar, cap, sizeof *key);
        size_t *slot = arena_calloc(ar, cap, sizeof *slot); /* distinct index + 1 */
        double *val = arena_calloc(ar, cap / 2, sizeof *val);
        if (!key || !slot || !val)
            return ERR_NOMEM;
        size_t i = 0;
        for (; i < n; i++) {
            double v = lp[i] == 0 ? 0 : lp[i]; /* -0.0 and 0.0 are one value */
            uint64_t k;
            memcpy(&k, &v, sizeof k);
            size_t h = (size_t)((k * 0x9E3779B97F4A7C15u) >> 20) & mask;
            while (slot[h] && key[h] != k)
                h = (h + 1) & mask;
            if (!slot[h]) {
                if (nd == cap / 2)
                    break; /* table half full: grow */
                key[h] = k;
                val[nd] = v;
                slot[h] = ++nd;
            }
            rank[i] = slot[h] - 1;
        }
        if (i < n) {
            if (cap >= limit)
                break;
            cap *= 4;
            continue;
        }
        size_t *ord = surv_order(val, nd, ar), *dense = arena_calloc(ar, nd, sizeof *dense);
        if (!ord || !dense)
            return ERR_NOMEM;
        for (size_t r = 0; r < nd; r++)
            dense[ord[r]] = r;
        for (size_t q = 0; q < n; q++)
            rank[q] = dense[rank[q]];
        *m = nd;
        return 0;
    }
    size_t *ol = surv_order(lp, n, ar);
    if (!ol)
        return ERR_NOMEM;
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && lp[ol[i]] != lp[ol[i - 1]])
            r++;
        rank[ol[i]] = r;
    }
    *m = n ? r + 1 : 0;
    return 0;
}

int cox_concordance(const double *time, const double *status, const double *lp, size_t n,
                    struct arena *ar, struct cox_concordance *out)
{
    struct surv_sorted so;
    struct err e;
    double *lps = arena_calloc_uninit(ar, n ? n : 1, sizeof *lps);
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
    size_t *rank = arena_calloc_uninit(ar, n ? n : 1, sizeof *rank);
    size_t m;
    if (!rank || lp_ranks(lp, n, ar, rank, &m) != 0)
        return ERR_NOMEM;
    return cox_concordance_ranks(time, status, rank, m, n, ar, out);
}

int cox_concordance_ranks(const double *time, const double *status, const size_t *rank, size_t m,
                          size_t n, struct arena *ar, struct cox_concordance *out)
{
    memset(out, 0, sizeof *out);
    /* arena memory is zero-filled, so size every array by what it holds: the BIT and the
     * per-rank counts by the number of distinct predictor values, the events of one time by
     * the largest tie */
    size_t maxtie = 1, ndtimes = 0;
    for (size_t i = 0, j; i < n; i = j) {
        int has_event = 0;
        for (j = i; j < n && time[j] == time[i]; j++)
            has_event |= status[j] != 0;
        if (j - i > maxtie)
            maxtie = j - i;
        ndtimes += (size_t)has_event;
    }
    /* Few distinct predictor values (factors, rounded covariates): a prefix sum over the ranks
     * rebuilt at each event time (ndtimes * m additions) beats the rank levels (n log m). */
    size_t logm = 1;
    while (((size_t)1 << logm) < m + 1)
        logm++;
    int use_prefix = (double)ndtimes * (double)m <= (double)n * (double)logm;
    size_t *dead = arena_calloc(ar, maxtie, sizeof *dead);
    int64_t *bit = arena_calloc(ar, use_prefix ? m : 1, sizeof *bit); /* the prefix */
    struct rank_levels lv = {0};
    if (!use_prefix && levels_init(&lv, m, ar) != 0)
        return ERR_NOMEM;
    int64_t *eq = arena_calloc(ar, m ? m : 1, sizeof *eq);   /* inserted per rank */
    int64_t *deq = arena_calloc(ar, m ? m : 1, sizeof *deq); /* this time's events per rank */
    if (!dead || !bit || !eq || !deq)
        return ERR_NOMEM;
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
                if (!use_prefix)
                    levels_add(&lv, rank[q]);
                eq[rank[q]]++;
                inserted++;
            } else {
                dead[nd++] = rank[q];
            }
        }
        if (use_prefix && nd > 0) { /* bit[r] = number inserted with rank < r */
            int64_t run = 0;
            for (size_t r = 0; r < m; r++) {
                bit[r] = run;
                run += eq[r];
            }
        }
        for (size_t k = 0; k < nd; k++) {
            int64_t below = use_prefix ? bit[dead[k]] : levels_below(&lv, eq, dead[k]);
            int64_t same = eq[dead[k]];
            conc += (double)below;
            tx += (double)same;
            disc += (double)(inserted - below - same);
        }
        if (nd > 1) { /* pairs of events at this time: tied on y, and on x too or not */
            double pairs = (double)nd * (double)(nd - 1) / 2, same = 0;
            for (size_t k = 0; k < nd; k++)
                same += (double)deq[dead[k]]++;
            for (size_t k = 0; k < nd; k++)
                deq[dead[k]] = 0;
            txy += same;
            ty += pairs - same;
        }
        for (size_t k = 0; k < nd; k++) {
            if (!use_prefix)
                levels_add(&lv, dead[k]);
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
