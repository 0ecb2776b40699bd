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

size_t *surv_order(const double *x, size_t n, struct arena *ar)
{
    uint64_t *k0 = arena_calloc(ar, n ? n : 1, sizeof *k0);
    uint64_t *k1 = arena_calloc(ar, n ? n : 1, sizeof *k1);
    size_t *i0 = arena_calloc(ar, n ? n : 1, sizeof *i0);
    size_t *i1 = arena_calloc(ar, n ? n : 1, sizeof *i1);
    size_t *cnt = arena_calloc(ar, 65536, sizeof *cnt);
    if (!k0 || !k1 || !i0 || !i1 || !cnt)
        return NULL;
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        k0[i] = key_of(x[i]);
        i0[i] = i;
        all_or |= k0[i];
        all_and &= k0[i];
    }
    for (int shift = 0; shift < 64; shift += 16) {
        /* a digit that is the same in every key does not reorder anything */
        if ((((all_or ^ all_and) >> shift) & 0xffff) == 0)
            continue;
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(k0[i] >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = cnt[(k0[i] >> shift) & 0xffff]++;
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

int surv_order_by_code(const size_t *idx, size_t n, const int *code, size_t ncodes, size_t *out,
                       struct arena *ar)
{
    size_t *cnt = arena_calloc(ar, ncodes + 1, sizeof *cnt);
    if (!cnt)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        cnt[code[idx[i]] + 1]++;
    for (size_t c = 0; c < ncodes; c++)
        cnt[c + 1] += cnt[c];
    for (size_t i = 0; i < n; i++)
        out[cnt[code[idx[i]]]++] = idx[i];
    return 0;
}

int surv_timefix(double *time, size_t n, struct arena *ar, struct err *e)
{
    if (n < 2)
        return 0;
    size_t *ord = surv_order(time, n, ar);
    double *u = arena_calloc(ar, n, sizeof *u);
    if (!ord || !u)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (nu == 0 || time[ord[i]] != u[nu - 1])
            u[nu++] = time[ord[i]];
    if (nu < 2)
        return 0;
    /* mean(abs(y)) as R computes it: long double sum, then one refinement pass */
    long double s = 0;
    for (size_t i = 0; i < nu; i++)
        s += fabs(u[i]);
    long double m = s / (long double)nu;
    long double t = 0;
    for (size_t i = 0; i < nu; i++)
        t += fabs(u[i]) - m;
    m += t / (long double)nu;
    double mean_abs = (double)m;
    /* cut[j]: the value every member of u[j]'s cluster maps to */
    double *cut = arena_calloc(ar, nu, sizeof *cut);
    if (!cut)
        return err_set(e, ERR_NOMEM, "out of memory");
    int any = 0;
    cut[0] = u[0];
    for (size_t j = 1; j < nu; j++) {
        double dy = u[j] - u[j - 1];
        int tied = dy <= SURV_TOL || dy / mean_abs <= SURV_TOL;
        cut[j] = tied ? cut[j - 1] : u[j];
        any |= tied;
    }
    if (!any)
        return 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        double v = time[ord[i]];
        while (u[j] != v)
            j++;
        time[ord[i]] = cut[j];
    }
    return 0;
}
