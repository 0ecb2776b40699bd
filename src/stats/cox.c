/* coxph's Newton–Raphson, reproduced from survival 3.5-3's coxfit6: the same centring and
 * scaling of covariates, the same backward accumulation of risk-set sums in time order (one pass
 * per iteration, ties handled as a block), the same LDL' Cholesky (cholesky2 / chsolve2 /
 * chinv2), the same step-halving and stopping rule — so coefficients agree with R's to ~1e-12,
 * not just to the convergence tolerance. Then the R-level summary: Wald test through the
 * Cholesky of var, LRT, score test, normal limits.
 *
 * Speed without changing a bit (docs/performance.md): the subjects are laid out once in an
 * order that keeps every sum's order (struct cox_work), exp(x'b) is computed once per distinct
 * covariate row when rows repeat, and for p <= 3 the sums stay in registers. */
#include "stats/cox.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/surv_common.h"

/* coxph.control()'s toler.chol = .Machine$double.eps^0.75 (not eps^0.75: with 1e-9^0.75 a
 * diverging coefficient's pivot is dropped early and the fit stops short of R's). */
#define COX_TOLER_CHOL 1.8189894035458565e-12

struct cox_opts cox_default_opts(void)
{
    struct cox_opts o = {COX_EFRON, true, 20, 1e-9, 0.95};
    return o;
}

/* ---- LDL' on a symmetric p x p matrix (row-major, lower triangle used), as cholesky2 ---- */

/* Factors m in place; returns the rank (negated if not non-negative definite). Pivots below
 * toler * max diagonal are zeroed (the column is treated as redundant). */
static int chol_ldl(double *m, size_t p, double toler)
{
    double eps = 0;
    int nonneg = 1, rank = 0;
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] > eps)
            eps = m[i * p + i];
        for (size_t j = i + 1; j < p; j++)
            m[j * p + i] = m[i * p + j];
    }
    eps = eps == 0 ? toler : eps * toler;
    for (size_t i = 0; i < p; i++) {
        double pivot = m[i * p + i];
        if (!isfinite(pivot) || pivot < eps) {
            m[i * p + i] = 0;
            if (pivot < -8 * eps)
                nonneg = -1;
            continue;
        }
        rank++;
        for (size_t j = i + 1; j < p; j++) {
            double t = m[j * p + i] / pivot;
            m[j * p + i] = t;
            m[j * p + j] -= t * t * pivot;
            for (size_t k = j + 1; k < p; k++)
                m[k * p + j] -= t * m[k * p + i];
        }
    }
    return rank * nonneg;
}

/* Solves (LDL') x = y in place, as chsolve2. */
static void chol_solve(const double *m, size_t p, double *y)
{
    for (size_t i = 0; i < p; i++) {
        double t = y[i];
        for (size_t j = 0; j < i; j++)
            t -= y[j] * m[i * p + j];
        y[i] = t;
    }
    for (size_t i = p; i-- > 0;) {
        if (m[i * p + i] == 0) {
            y[i] = 0;
            continue;
        }
        double t = y[i] / m[i * p + i];
        for (size_t j = i + 1; j < p; j++)
            t -= y[j] * m[j * p + i];
        y[i] = t;
    }
}

/* Turns the LDL' factor into the inverse of the original matrix (full symmetric), as chinv2. */
static void chol_inverse(double *m, size_t p)
{
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] > 0) {
            m[i * p + i] = 1 / m[i * p + i];
            for (size_t j = i + 1; j < p; j++) {
                m[j * p + i] = -m[j * p + i];
                for (size_t k = 0; k < i; k++)
                    m[j * p + k] += m[j * p + i] * m[i * p + k];
            }
        }
    }
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] == 0) {
            for (size_t j = 0; j < i; j++)
                m[j * p + i] = 0;
            for (size_t j = i; j < p; j++)
                m[i * p + j] = 0;
            continue;
        }
        for (size_t j = i + 1; j < p; j++) {
            double t = m[j * p + i] * m[j * p + j];
            m[i * p + j] = t;
            for (size_t k = i; k < j; k++)
                m[i * p + k] += t * m[j * p + k];
        }
    }
    for (size_t i = 0; i < p; i++) /* mirror the upper triangle */
        for (size_t j = 0; j < i; j++)
            m[i * p + j] = m[j * p + i];
}

/* ---- one evaluation of loglik, score and information ---- */

/* Subjects are visited in "eval order": ascending time (R's stable order(time)) except that
 * within one time the censored come first and the deaths after, each in their time order.
 * coxfit6 walks the time-ordered subjects backwards; within one time a censored subject only
 * adds to (denom, a, cmat) and a death only to (denom2, a2, cmat2, u, loglik), so splitting
 * the two kinds changes no sum's order — same bits — and removes the unpredictable branch on
 * the status from the loop.
 *
 * exp(x'b) depends on the subject only through its covariate row. When the rows take few
 * distinct values (factors, rounded or integer covariates: the usual clinical data), x'b and
 * its exp() are computed once per distinct row and looked up — the same operations on the
 * same values, so the same bits. Otherwise exp() is computed for a chunk of whole tie groups
 * before they are accumulated: the calls are independent, so a tight loop over them overlaps
 * well, and the chunk stays in L1. */
struct cox_work {
    size_t n, p;
    size_t ngroups; /* distinct times */
    size_t *gstart; /* ngroups + 1: time g is positions [gstart[g], gstart[g+1]) */
    size_t *gdeath; /* ngroups: its censored are [gstart[g], gdeath[g]), its deaths after */
    size_t *pos;    /* n: eval-order position of the i-th subject in time order */
    double *x;      /* x[k*p + j]: covariate j of position k, centred and scaled; row-major so
                     * one subject's values share a cache line */
    double *xraw;   /* the same, as given (for the linear predictor) */
    /* distinct rows of xraw (NULL rowid: too many, chunk mode): position k has row rowid[k],
     * whose values are urow[rowid[k]*p ...] (centred and scaled: equal raw rows give equal
     * scaled rows) and urow_raw[...] (as given) */
    uint32_t *rowid;
    size_t nrow;
    double *urow, *urow_raw;
    double *risk, *zbeta; /* exp(x'b), x'b: per distinct row, or one chunk of positions */
    int efron;
    double *u, *imat; /* p, p x p (imat[j*p+i], j <= i filled, as coxfit6's imat[j][i]) */
    double *a, *a2, *cmat, *cmat2;
};

#define COX_CHUNK 1024
/* up to this many covariates the pass keeps its sums in local arrays */
#define COX_PLOCAL 3
/* how many subjects ahead the gather into time order prefetches */
#define COX_PREFETCH 48

/* The running sums of one evaluation that are not arrays. */
struct cox_sums {
    double loglik, denom;
};

/* coxfit6's backward pass over the tie groups [glo, ghi) (ghi-1 first). Position k's covariates
 * are xs + id(k)*p and its x'b, exp(x'b) zs[id(k)], rs[id(k)], with id(k) = rowid[k], or
 * k - base when rowid is NULL (chunk mode). */
static inline __attribute__((always_inline)) void
cox_groups(struct cox_work *w, size_t p, size_t glo, size_t ghi, const uint32_t *restrict rowid,
           size_t base, const double *restrict xs, const double *restrict rs,
           const double *restrict zs, struct cox_sums *sum)
{
    const size_t *restrict gstart = w->gstart, *restrict gdeath = w->gdeath;
    /* For small p the sums live in local arrays for the pass: their address does not escape,
     * so the compiler keeps them in registers across the log() calls. */
    double u_l[COX_PLOCAL], a_l[COX_PLOCAL], a2_l[COX_PLOCAL];
    double imat_l[COX_PLOCAL * COX_PLOCAL], cmat_l[COX_PLOCAL * COX_PLOCAL],
        cmat2_l[COX_PLOCAL * COX_PLOCAL];
    const int is_local = p <= COX_PLOCAL;
    double *restrict u = is_local ? u_l : w->u, *restrict a = is_local ? a_l : w->a;
    double *restrict a2 = is_local ? a2_l : w->a2;
    double *restrict imat = is_local ? imat_l : w->imat;
    double *restrict cmat = is_local ? cmat_l : w->cmat;
    double *restrict cmat2 = is_local ? cmat2_l : w->cmat2;
    if (is_local) {
        memcpy(u, w->u, p * sizeof *u);
        memcpy(a, w->a, p * sizeof *a);
        memcpy(imat, w->imat, p * p * sizeof *imat);
        memcpy(cmat, w->cmat, p * p * sizeof *cmat);
    }
    double loglik = sum->loglik, denom = sum->denom;
    for (size_t g = ghi; g > glo; g--) {
        const size_t s = gstart[g - 1], m = gdeath[g - 1], e = gstart[g];
        for (size_t k = m; k-- > s;) { /* censored: still at risk */
            const size_t id = rowid ? rowid[k] : k - base;
            const double *xk = xs + id * p, r = rs[id];
            denom += r;
#pragma GCC unroll 4
            for (size_t i = 0; i < p; i++) {
                a[i] += r * xk[i];
#pragma GCC unroll 4
                for (size_t j = 0; j <= i; j++)
                    cmat[i * p + j] += r * xk[i] * xk[j];
            }
        }
        if (m == e)
            continue;
        double ndead = 0, deadwt = 0, denom2 = 0;
        memset(a2, 0, p * sizeof *a2);
        memset(cmat2, 0, p * p * sizeof *cmat2);
        for (size_t k = e; k-- > m;) { /* deaths at this time */
            const size_t id = rowid ? rowid[k] : k - base;
            const double *xk = xs + id * p, r = rs[id];
            ndead++;
            deadwt += 1;
            denom2 += r;
            loglik += zs[id];
#pragma GCC unroll 4
            for (size_t i = 0; i < p; i++) {
                u[i] += xk[i];
                a2[i] += r * xk[i];
#pragma GCC unroll 4
                for (size_t j = 0; j <= i; j++)
                    cmat2[i * p + j] += r * xk[i] * xk[j];
            }
        }
        if (!w->efron || ndead == 1) { /* Breslow */
            denom += denom2;
            loglik -= deadwt * log(denom);
#pragma GCC unroll 4
            for (size_t i = 0; i < p; i++) {
                a[i] += a2[i];
                double mean = a[i] / denom;
                u[i] -= deadwt * mean;
#pragma GCC unroll 4
                for (size_t j = 0; j <= i; j++) {
                    cmat[i * p + j] += cmat2[i * p + j];
                    imat[j * p + i] += deadwt * (cmat[i * p + j] - mean * a[j]) / denom;
                }
            }
        } else { /* Efron: add 1/d of the deaths' sums d times */
            double wtave = deadwt / ndead;
            /* the d increments are all the same: divide once (identical values) */
            double denom2_d = denom2 / ndead;
#pragma GCC unroll 4
            for (size_t i = 0; i < p; i++) {
                a2[i] /= ndead;
#pragma GCC unroll 4
                for (size_t j = 0; j <= i; j++)
                    cmat2[i * p + j] /= ndead;
            }
            for (double k = 0; k < ndead; k++) {
                denom += denom2_d;
                loglik -= wtave * log(denom);
#pragma GCC unroll 4
                for (size_t i = 0; i < p; i++) {
                    a[i] += a2[i];
                    double mean = a[i] / denom;
                    u[i] -= wtave * mean;
#pragma GCC unroll 4
                    for (size_t j = 0; j <= i; j++) {
                        cmat[i * p + j] += cmat2[i * p + j];
                        imat[j * p + i] += wtave * (cmat[i * p + j] - mean * a[j]) / denom;
                    }
                }
            }
        }
    }
    if (is_local) {
        memcpy(w->u, u, p * sizeof *u);
        memcpy(w->a, a, p * sizeof *a);
        memcpy(w->imat, imat, p * p * sizeof *imat);
        memcpy(w->cmat, cmat, p * p * sizeof *cmat);
    }
    sum->loglik = loglik;
    sum->denom = denom;
}

/* x'b summed as coxfit6 does (zbeta = 0; zbeta += b[i] * x[i]), then its exp(). */
static inline __attribute__((always_inline)) void cox_risk(const double *restrict beta, size_t p,
                                                           const double *restrict xs, size_t m,
                                                           double *restrict zs, double *restrict rs)
{
    for (size_t k = 0; k < m; k++) {
        const double *xk = xs + k * p;
        double zb = 0;
#pragma GCC unroll 4
        for (size_t i = 0; i < p; i++)
            zb += beta[i] * xk[i];
        zs[k] = zb;
        rs[k] = exp(zb);
    }
}

/* coxfit6_iter: returns the log partial likelihood at beta; fills w->u and w->imat.
 * Always inlined into cox_eval with p a constant for small p, so the loops over covariates
 * unroll; the arithmetic and its order are coxfit6's whatever p is. */
static inline __attribute__((always_inline)) double cox_eval_p(struct cox_work *w,
                                                               const double *beta, size_t p)
{
    struct cox_sums sum = {0, 0};
    memset(w->u, 0, p * sizeof *w->u);
    memset(w->a, 0, p * sizeof *w->a);
    memset(w->imat, 0, p * p * sizeof *w->imat);
    memset(w->cmat, 0, p * p * sizeof *w->cmat);
    if (w->rowid) {
        cox_risk(beta, p, w->urow, w->nrow, w->zbeta, w->risk);
        cox_groups(w, p, 0, w->ngroups, w->rowid, 0, w->urow, w->risk, w->zbeta, &sum);
        return sum.loglik;
    }
    size_t g = w->ngroups;
    while (g > 0) {
        /* the next chunk: whole groups [glo, g), at most COX_CHUNK subjects or one group */
        size_t hi = w->gstart[g], glo = g - 1;
        while (glo > 0 && hi - w->gstart[glo - 1] <= COX_CHUNK)
            glo--;
        const size_t base = w->gstart[glo];
        const double *xs = w->x + base * w->p;
        cox_risk(beta, p, xs, hi - base, w->zbeta, w->risk);
        cox_groups(w, p, glo, g, NULL, base, xs, w->risk, w->zbeta, &sum);
        g = glo;
    }
    return sum.loglik;
}

static double cox_eval(struct cox_work *w, const double *beta)
{
    switch (w->p) {
    case 1:
        return cox_eval_p(w, beta, 1);
    case 2:
        return cox_eval_p(w, beta, 2);
    case 3:
        return cox_eval_p(w, beta, 3);
    default:
        return cox_eval_p(w, beta, w->p);
    }
}

/* Rows are looked up for p <= COX_ROW_MAX (more covariates: chunk mode). */
#define COX_ROW_MAX 16

static inline __attribute__((always_inline)) uint64_t cox_row_hash(const uint64_t *bits, size_t p)
{
    uint64_t h = 0;
    for (size_t i = 0; i < p; i++)
        h = (h ^ bits[i]) * 0x9E3779B97F4A7C15u;
    h ^= h >> 33; /* murmur3's finaliser: every bit of the row reaches the low bits */
    h *= 0xFF51AFD7ED558CCDu;
    h ^= h >> 33;
    return h;
}

/* Finds the distinct rows of w->xraw (by their bits) and fills rowid, nrow, urow, urow_raw,
 * risk, zbeta;
 * leaves rowid NULL when they are more than n / 8 (then a lookup saves too little). The
 * probes only touch the table and urow, which stay in cache. */
static inline __attribute__((always_inline)) int cox_distinct_rows_p(struct cox_work *w,
                                                                     struct arena *ar, size_t p)
{
    const size_t n = w->n, limit = n / 8;
    const double *X = w->xraw;
    w->rowid = NULL;
    if (n > UINT32_MAX || limit < 16 || p > COX_ROW_MAX)
        return 0;
    uint32_t *rowid = arena_calloc_uninit(ar, n, sizeof *rowid);
    uint64_t *urow = arena_calloc_uninit(ar, limit * p, sizeof *urow); /* the rows' bits */
    uint32_t *first = arena_calloc_uninit(ar, limit, sizeof *first);   /* a position each */
    size_t cap = 1024, nd = 0;
    uint32_t *slot = arena_calloc(ar, cap, sizeof *slot); /* row + 1, 0 = empty */
    if (!rowid || !urow || !first || !slot)
        return ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        uint64_t xk[COX_ROW_MAX];
        memcpy(xk, X + k * p, p * sizeof *xk);
        size_t mask = cap - 1, at = (size_t)cox_row_hash(xk, p) & mask;
        for (;;) {
            if (!slot[at])
                break;
            const uint64_t *ur = urow + (size_t)(slot[at] - 1) * p;
            size_t i = 0;
            while (i < p && ur[i] == xk[i])
                i++;
            if (i == p)
                break;
            at = (at + 1) & mask;
        }
        if (slot[at]) {
            rowid[k] = slot[at] - 1;
            continue;
        }
        if (nd == limit)
            return 0; /* too many distinct rows */
        memcpy(urow + nd * p, xk, p * sizeof *xk);
        first[nd] = (uint32_t)k;
        rowid[k] = (uint32_t)nd;
        slot[at] = (uint32_t)++nd;
        if (2 * nd > cap) { /* keep the table at most half full: grow and rehash */
            uint32_t *bigger = arena_calloc(ar, 4 * cap, sizeof *bigger);
            if (!bigger)
                return ERR_NOMEM;
            for (size_t r = 0; r < nd; r++) {
                size_t to = (size_t)cox_row_hash(urow + r * p, p) & (4 * cap - 1);
                while (bigger[to])
                    to = (to + 1) & (4 * cap - 1);
                bigger[to] = (uint32_t)(r + 1);
            }
            slot = bigger;
            cap *= 4;
        }
    }
    w->risk = arena_calloc_uninit(ar, nd, sizeof *w->risk);
    w->zbeta = arena_calloc_uninit(ar, nd, sizeof *w->zbeta);
    w->urow = arena_calloc_uninit(ar, nd * p, sizeof *w->urow);
    w->urow_raw = arena_calloc_uninit(ar, nd * p, sizeof *w->urow_raw);
    if (!w->risk || !w->zbeta || !w->urow || !w->urow_raw)
        return ERR_NOMEM;
    memcpy(w->urow_raw, urow, nd * p * sizeof *w->urow_raw);
    for (size_t r = 0; r < nd; r++)
        memcpy(w->urow + r * p, w->x + (size_t)first[r] * p, p * sizeof *w->urow);
    w->rowid = rowid;
    w->nrow = nd;
    return 0;
}

static int cox_distinct_rows(struct cox_work *w, struct arena *ar)
{
    switch (w->p) {
    case 1:
        return cox_distinct_rows_p(w, ar, 1);
    case 2:
        return cox_distinct_rows_p(w, ar, 2);
    case 3:
        return cox_distinct_rows_p(w, ar, 3);
    default:
        return cox_distinct_rows_p(w, ar, w->p);
    }
}

/* imat holds the j <= i entries at imat[j*p+i]; return them as a full matrix for chol_ldl,
 * which reads the upper triangle m[i*p+j], j > i. */
static void imat_full(const double *imat, size_t p, double *m)
{
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++)
            m[i * p + j] = i <= j ? imat[i * p + j] : imat[j * p + i];
}

/* Lays the subjects out in eval order (see struct cox_work) with the covariates centred and
 * scaled as coxfit6 does — mean and scale summed in time order, as R's sorted x — and fills w.
 * scale: p entries. */
static int cox_setup(const struct surv_sorted *so, const double *x, size_t n, size_t p,
                     struct arena *ar, struct cox_work *w, double *scale)
{
    const size_t *ord = so->ord;
    const double *time = so->time, *status = so->status;
    size_t ng = 0, maxtie = 1;
    /* sized for n distinct times; only the first ng + 1 entries are written */
    w->gstart = arena_calloc_uninit(ar, n + 1, sizeof *w->gstart);
    w->gdeath = arena_calloc_uninit(ar, n, sizeof *w->gdeath);
    w->pos = arena_calloc_uninit(ar, n, sizeof *w->pos);
    w->x = arena_calloc_uninit(ar, n * p, sizeof *w->x);
    w->xraw = arena_calloc_uninit(ar, n * p, sizeof *w->xraw);
    if (!w->gstart || !w->gdeath || !w->pos || !w->x || !w->xraw)
        return ERR_NOMEM;
    size_t *restrict pos = w->pos;
    for (size_t s = 0, e; s < n; s = e, ng++) {
        size_t ncens = 0;
        for (e = s; e < n && time[e] == time[s]; e++)
            ncens += status[e] == 0;
        size_t c = s, d = s + ncens;
        for (size_t i = s; i < e; i++) { /* no branch on the status */
            size_t dead = status[i] != 0;
            pos[i] = dead ? d : c;
            d += dead;
            c += 1 - dead;
        }
        w->gstart[ng] = s;
        w->gdeath[ng] = s + ncens;
        if (e - s > maxtie)
            maxtie = e - s;
    }
    w->gstart[ng] = n;
    w->ngroups = ng;
    double *restrict X = w->x, *restrict XR = w->xraw;
    /* the one random access: each subject's row, prefetched a few subjects ahead */
    for (size_t i = 0; i < n; i++) {
        if (i + COX_PREFETCH < n)
            for (size_t j = 0; j < p; j++)
                __builtin_prefetch(x + j * n + ord[i + COX_PREFETCH]);
        for (size_t j = 0; j < p; j++)
            XR[pos[i] * p + j] = x[j * n + ord[i]];
    }
    for (size_t j = 0; j < p; j++) {
        int zero_one = 1; /* R's nocenter = c(-1, 0, 1): such columns are left untouched */
        for (size_t k = 0; k < n; k++) {
            double v = XR[k * p + j];
            zero_one &= v == 0 || v == 1 || v == -1;
        }
        scale[j] = 1;
        if (zero_one) {
            for (size_t k = 0; k < n; k++)
                X[k * p + j] = XR[k * p + j];
            continue;
        }
        /* mean and sum |x - mean| in time order, as coxfit6 over R's sorted x */
        double mean = 0;
        for (size_t i = 0; i < n; i++)
            mean += XR[pos[i] * p + j];
        mean /= (double)n;
        double sabs = 0;
        for (size_t i = 0; i < n; i++)
            sabs += fabs(XR[pos[i] * p + j] - mean);
        double sc = sabs > 0 ? (double)n / sabs : 1.0;
        scale[j] = sc;
        for (size_t k = 0; k < n; k++)
            X[k * p + j] = (XR[k * p + j] - mean) * sc;
    }
    size_t nbuf = maxtie > COX_CHUNK ? maxtie : COX_CHUNK;
    w->n = n;
    w->p = p;
    int rc = cox_distinct_rows(w, ar);
    if (rc)
        return rc;
    if (!w->rowid) {
        w->risk = arena_calloc_uninit(ar, nbuf, sizeof(double));
        w->zbeta = arena_calloc_uninit(ar, nbuf, sizeof(double));
    }
    w->u = arena_calloc(ar, p, sizeof(double));
    w->a = arena_calloc(ar, p, sizeof(double));
    w->a2 = arena_calloc(ar, p, sizeof(double));
    w->imat = arena_calloc(ar, p * p, sizeof(double));
    w->cmat = arena_calloc(ar, p * p, sizeof(double));
    w->cmat2 = arena_calloc(ar, p * p, sizeof(double));
    return w->risk && w->zbeta && w->u && w->a && w->a2 && w->imat && w->cmat && w->cmat2
               ? 0
               : ERR_NOMEM;
}

/* The coxfit6 loop. On return beta (scaled back), var (p x p inverse information, scaled
 * back), loglik[2], score test, iter, converged. */
static void cox_newton(struct cox_work *w, const struct cox_opts *o, const double *scale,
                       double *beta, double *var, double *newbeta, double *tmp, double *loglik,
                       double *sctest, int *iter, bool *converged)
{
    size_t p = w->p;
    double toler = COX_TOLER_CHOL;
    memset(beta, 0, p * sizeof *beta);
    loglik[0] = cox_eval(w, beta);
    loglik[1] = loglik[0];
    imat_full(w->imat, p, var);
    chol_ldl(var, p, toler);
    memcpy(tmp, w->u, p * sizeof *tmp);
    chol_solve(var, p, tmp);
    double sc = 0;
    for (size_t i = 0; i < p; i++)
        sc += w->u[i] * tmp[i];
    *sctest = sc;
    for (size_t i = 0; i < p; i++)
        newbeta[i] = beta[i] + tmp[i];
    double halving = 0;
    *converged = false;
    for (*iter = 1; *iter <= o->iter_max; (*iter)++) {
        double newlk = cox_eval(w, newbeta);
        imat_full(w->imat, p, var);
        chol_ldl(var, p, toler);
        int notfinite = !isfinite(newlk);
        for (size_t i = 0; i < p; i++) {
            notfinite |= !isfinite(w->u[i]);
            for (size_t j = 0; j < p; j++)
                notfinite |= !isfinite(var[i * p + j]);
        }
        if (!notfinite && fabs(1 - (loglik[1] / newlk)) <= o->eps) {
            loglik[1] = newlk;
            memcpy(beta, newbeta, p * sizeof *beta);
            *converged = true;
            break;
        }
        if (notfinite || newlk < loglik[1]) {
            halving++;
            for (size_t i = 0; i < p; i++)
                newbeta[i] = (newbeta[i] + halving * beta[i]) / (halving + 1.0);
        } else {
            halving = 0;
            loglik[1] = newlk;
            memcpy(tmp, w->u, p * sizeof *tmp);
            chol_solve(var, p, tmp);
            for (size_t i = 0; i < p; i++) {
                beta[i] = newbeta[i];
                newbeta[i] = newbeta[i] + tmp[i];
            }
        }
    }
    if (!*converged) {
        *iter = o->iter_max + 1; /* coxfit6's loop counter after the last pass, as R reports */
        if (o->iter_max > 1)
            loglik[1] = cox_eval(w, beta);
        imat_full(w->imat, p, var);
        chol_ldl(var, p, toler);
    }
    chol_inverse(var, p);
    for (size_t i = 0; i < p; i++) {
        beta[i] *= scale[i];
        for (size_t j = 0; j < p; j++)
            var[i * p + j] *= scale[i] * scale[j];
    }
}

/* Concordance of the linear predictor on the original columns, x'coef (coef 0 for redundant
 * columns). With distinct rows it is computed and ranked once per row. */
static int cox_fit_concordance(const struct cox_work *w, const struct surv_sorted *so,
                               const double *coef_lp, struct arena *ar,
                               struct cox_concordance *conc)
{
    const size_t n = w->n, p = w->p;
    if (!w->rowid) {
        double *lp = arena_calloc_uninit(ar, n, sizeof *lp); /* in time order */
        if (!lp)
            return ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < p; j++)
                s += w->xraw[w->pos[i] * p + j] * coef_lp[j];
            lp[i] = s;
        }
        return cox_concordance_sorted(so->time, so->status, lp, n, ar, conc);
    }
    const size_t nr = w->nrow;
    double *lpr = arena_calloc_uninit(ar, nr, sizeof *lpr);
    size_t *rrank = arena_calloc_uninit(ar, nr, sizeof *rrank);
    size_t *rank = arena_calloc_uninit(ar, n, sizeof *rank);
    if (!lpr || !rrank || !rank)
        return ERR_NOMEM;
    for (size_t r = 0; r < nr; r++) {
        double s = 0;
        for (size_t j = 0; j < p; j++)
            s += w->urow_raw[r * p + j] * coef_lp[j];
        lpr[r] = s;
    }
    size_t *ord = surv_order(lpr, nr, ar), m = 0;
    if (!ord)
        return ERR_NOMEM;
    for (size_t t = 0; t < nr; t++) { /* dense ranks: equal values (-0 == 0) share one */
        if (t > 0 && lpr[ord[t]] != lpr[ord[t - 1]])
            m++;
        rrank[ord[t]] = m;
    }
    for (size_t i = 0; i < n; i++)
        rank[i] = rrank[w->rowid[w->pos[i]]];
    return cox_concordance_ranks(so->time, so->status, rank, m + 1, n, ar, conc);
}

int cox_fit(const double *time_in, const double *status, const double *x, size_t n, size_t p,
            const struct cox_opts *o, struct arena *ar, struct cox_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int rc = surv_check(time_in, status, n, e);
    if (rc)
        return rc;
    if (p == 0)
        return err_set_field(e, ERR_INVALID, "covariates", "no covariates");
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return err_set_field(e, ERR_INVALID, "covariates",
                                     "observation %zu: covariate %zu is not finite", i + 1, j + 1);
    size_t nevent = 0;
    for (size_t i = 0; i < n; i++)
        nevent += status[i] != 0;
    if (nevent == 0)
        return err_set_field(e, ERR_INVALID, "event", "no events: the model cannot be fitted");
    if (o->iter_max < 1 || !(o->eps > 0) || !(o->conf_level > 0 && o->conf_level < 1))
        return err_set(e, ERR_INVALID, "bad iter_max, eps or conf_level");

    struct surv_sorted so;
    if ((rc = surv_sort(time_in, status, n, o->timefix, ar, &so, e)) != 0)
        return rc;

    struct cox_work w = {.efron = o->ties == COX_EFRON};
    double *scale = arena_calloc(ar, p, sizeof *scale);
    double *newbeta = arena_calloc(ar, p, sizeof *newbeta);
    double *tmp = arena_calloc(ar, p, sizeof *tmp);
    double *vchol = arena_calloc(ar, p * p, sizeof *vchol);
    double *fields[7];
    for (size_t k = 0; k < 7; k++)
        fields[k] = arena_calloc(ar, p, sizeof(double));
    out->var = arena_calloc(ar, p * p, sizeof(double));
    if (!scale || !newbeta || !tmp || !vchol || !out->var || !fields[0] || !fields[1] ||
        !fields[2] || !fields[3] || !fields[4] || !fields[5] || !fields[6] ||
        cox_setup(&so, x, n, p, ar, &w, scale) != 0)
        return err_set(e, ERR_NOMEM, "out of memory");
    out->coef = fields[0];
    out->se = fields[1];
    out->hr = fields[2];
    out->hr_lower = fields[3];
    out->hr_upper = fields[4];
    out->z = fields[5];
    out->p_value = fields[6];

    double loglik[2];
    cox_newton(&w, o, scale, out->coef, out->var, newbeta, tmp, loglik, &out->score_stat,
               &out->iter, &out->converged);
    out->p = p;
    out->n = n;
    out->nevent = nevent;
    out->loglik_null = loglik[0];
    out->loglik = loglik[1];
    /* coxph.fit's check: infs = |u' var| with u the score at the estimate (original scale) */
    out->maybe_infinite = arena_calloc(ar, p, sizeof *out->maybe_infinite);
    bool *sing = arena_calloc(ar, p, sizeof *sing);
    size_t *keep = arena_calloc(ar, p, sizeof *keep);
    double *coef_lp = arena_calloc(ar, p, sizeof *coef_lp);
    if (!out->maybe_infinite || !sing || !keep || !coef_lp)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t j = 0; out->converged && o->iter_max > 1 && j < p; j++) {
        double inf = 0;
        for (size_t i = 0; i < p; i++)
            inf += w.u[i] / scale[i] * out->var[i * p + j];
        inf = fabs(inf);
        out->maybe_infinite[j] =
            !isfinite(inf) || (inf > o->eps && inf > sqrt(o->eps) * fabs(out->coef[j]));
    }
    /* A column the Cholesky found redundant (collinear, constant) has a zero row in var: R
     * reports its coefficient as NA and leaves it out of the tests' degrees of freedom. */
    size_t nk = 0;
    for (size_t j = 0; j < p; j++) {
        sing[j] = out->var[j * p + j] == 0;
        coef_lp[j] = sing[j] ? 0 : out->coef[j];
        if (!sing[j])
            keep[nk++] = j;
    }
    out->df = (int)nk;

    double zq = qnorm((1 + o->conf_level) / 2, 0, 1, 1, 0);
    for (size_t j = 0; j < p; j++) {
        double b = sing[j] ? NAN : out->coef[j], se = sqrt(out->var[j * p + j]);
        out->coef[j] = b;
        out->se[j] = se;
        out->hr[j] = exp(b);
        out->hr_lower[j] = exp(b - zq * se);
        out->hr_upper[j] = exp(b + zq * se);
        out->z[j] = b / se;
        out->p_value[j] = pchisq((b / se) * (b / se), 1, 0, 0);
    }
    out->lrt_stat = -2 * (loglik[0] - loglik[1]);
    out->lrt_p = pchisq(out->lrt_stat, nk, 0, 0);
    /* coxph.wtest on the non-NA coefficients: b' var^-1 b through the Cholesky of var */
    for (size_t a = 0; a < nk; a++) {
        tmp[a] = out->coef[keep[a]];
        for (size_t b = 0; b < nk; b++)
            vchol[a * nk + b] = out->var[keep[a] * p + keep[b]];
    }
    chol_ldl(vchol, nk, COX_TOLER_CHOL);
    chol_solve(vchol, nk, tmp);
    double wald = 0;
    for (size_t a = 0; a < nk; a++)
        wald += out->coef[keep[a]] * tmp[a];
    out->wald_stat = wald;
    out->wald_p = pchisq(wald, nk, 0, 0);
    out->score_p = pchisq(out->score_stat, nk, 0, 0);

    if (cox_fit_concordance(&w, &so, coef_lp, ar, &out->conc) != 0)
        return err_set(e, ERR_NOMEM, "out of memory");
    return 0;
}
