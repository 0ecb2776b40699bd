/* Shared survival helpers: input checks, timefix (survival::aeqSurv), radix ordering.
 * See surv_common.h. The ordering is what makes km/logrank/cox O(n) after one pass over the
 * bits of the times: a comparison sort of 1e7 doubles would dominate every method. */
#include "stats/surv_common.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int surv_check(const double *time, const double *status, size_t n, struct err *e)
{
    if (n == 0)
        return err_set(e, ERR_INVALID, "no observations");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(time[i]))
            return err_set_field(e, ERR_INVALID, "time", "observation %zu: time is not finite",
                                 i + 1);
        if (status[i] != 0 && status[i] != 1)
            return err_set_field(e, ERR_INVALID, "event",
                                 "observation %zu: status %g is not 0 or 1", i + 1, status[i]);
    }
    return 0;
}

/* Maps a double to an unsigned key with the same order (negative values flipped). */
static uint64_t key_of(double x)
{
    uint64_t u;
    if (x == 0)
        x = 0; /* -0.0 sorts with +0.0, as R's order does */
    memcpy(&u, &x, sizeof u);
    return (u & 0x8000000000000000u) ? ~u : (u | 0x8000000000000000u);
}

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6 /* 6 x 11 bits cover the 64-bit key */

size_t *surv_order(const double *x, size_t n, struct arena *ar)
{
    size_t m = n ? n : 1;
    uint64_t *k0 = arena_calloc_uninit(ar, m, sizeof *k0);
    uint64_t *k1 = arena_calloc_uninit(ar, m, sizeof *k1);
    size_t *i0 = arena_calloc_uninit(ar, m, sizeof *i0);
    size_t *i1 = arena_calloc_uninit(ar, m, sizeof *i1);
    size_t *cnt = arena_calloc(ar, (size_t)RADIX_PASSES * RADIX_SIZE, sizeof *cnt);
    if (!k0 || !k1 || !i0 || !i1 || !cnt)
        return NULL;
    /* one read pass fills every digit's histogram */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(x[i]);
        k0[i] = k;
        i0[i] = i;
        for (int d = 0; d < RADIX_PASSES; d++)
            cnt[(size_t)d * RADIX_SIZE + ((k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
    }
    for (int d = 0; d < RADIX_PASSES; d++) {
        size_t *c = cnt + (size_t)d * RADIX_SIZE;
        int shift = d * RADIX_BITS;
        /* a digit that is the same in every key does not reorder anything */
        if (n == 0 || c[(k0[0] >> shift) & (RADIX_SIZE - 1)] == n)
            continue;
        size_t sum = 0;
        for (size_t v = 0; v < RADIX_SIZE; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = c[(k0[i] >> shift) & (RADIX_SIZE - 1)]++;
            k1[pos] = k0[i];
            i1[pos] = i0[i];
        }
        uint64_t *tk = k0;
        k0 = k1;
        k1 = tk;
        size_t *ti = i0;
        i0 = i1;
        i1 = ti;
    }
    return i0;
}

/* aeqSurv on sorted times st[0..n): rewrites st in place; returns 1 if anything changed. */
static int timefix_sorted(double *st, size_t n)
{
    /* mean(abs(unique times)) as R computes it: long double sum, then one refinement pass */
    long double s = 0;
    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || st[i] != st[i - 1]) {
            s += fabs(st[i]);
            nu++;
        }
    if (nu < 2)
        return 0;
    long double m = s / (long double)nu, t = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || st[i] != st[i - 1])
            t += fabs(st[i]) - m;
    m += t / (long double)nu;
    double mean_abs = (double)m;
    int changed = 0;
    double prev_u = st[0], cut = st[0]; /* previous unique value and its cluster's value */
    for (size_t i = 1; i < n; i++) {
        double v = st[i];
        if (v != prev_u) {
            double dy = v - prev_u;
            int tied = dy <= SURV_TOL || dy / mean_abs <= SURV_TOL;
            prev_u = v;
            if (!tied)
                cut = v;
        }
        if (v != cut) {
            st[i] = cut;
            changed = 1;
        }
    }
    return changed;
}

int surv_sort(const double *time, const double *status, size_t n, bool timefix, struct arena *ar,
              struct surv_sorted *out, struct err *e)
{
    size_t m = n ? n : 1;
    out->ord = surv_order(time, n, ar);
    out->time = arena_calloc_uninit(ar, m, sizeof(double));
    out->status = arena_calloc_uninit(ar, m, sizeof(double));
    if (!out->ord || !out->time || !out->status)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        out->time[i] = time[out->ord[i]];
    if (timefix && timefix_sorted(out->time, n)) {
        /* merged clusters: R orders the merged ties by input position, so order again */
        double *fixed = arena_calloc_uninit(ar, m, sizeof *fixed);
        if (!fixed)
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            fixed[out->ord[i]] = out->time[i];
        if (!(out->ord = surv_order(fixed, n, ar)))
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            out->time[i] = fixed[out->ord[i]];
    }
    for (size_t i = 0; i < n; i++)
        out->status[i] = status[out->ord[i]];
    return 0;
}
