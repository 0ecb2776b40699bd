/* wilcox.test.default of R 4.2.2 with conf.int = TRUE (docs/r-algorithms.md §6 for the signed-rank
 * test; the rank-sum branch read off the installed R). Every expression keeps R's order of
 * operations; the normal-approximation interval and estimate are uniroot() calls with R's
 * brackets, end values and tol.root = 1e-4, run through the literal zeroin port. */
#include "stats/wilcoxon.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/describe.h"
#include "stats/ranks.h"
#include "stats/zeroin.h"

#define TOL_ROOT 1e-4

/* R's warnings (stats_warn compares addresses, so each message is one object). */
static const char W_TIES_P[] = "cannot compute exact p-value with ties";
static const char W_TIES_CI_SR[] = "cannot compute exact confidence interval with ties";
static const char W_TIES_CI_RS[] = "cannot compute exact confidence intervals with ties";
static const char W_ZEROES_P[] = "cannot compute exact p-value with zeroes";
static const char W_ZEROES_CI[] = "cannot compute exact confidence interval with zeroes";
static const char W_LEVEL_SR[] = "requested conf.level not achievable";
static const char W_LEVEL_RS[] = "Requested conf.level not achievable";
static const char W_CI_TIED_SR[] =
    "cannot compute confidence interval when all observations are zero or tied";
static const char W_CI_TIED_RS[] =
    "cannot compute confidence interval when all observations are tied";

/* psignrank/pwilcox cache their distribution in process-wide statics. */
static pthread_mutex_t rmath_lock = PTHREAD_MUTEX_INITIALIZER;

struct wilcox_opts wilcox_default_opts(void)
{
    struct wilcox_opts o = {0, STATS_ALT_TWO_SIDED, -1, true, 0.95};
    return o;
}

static double sign_of(double v)
{
    return v > 0 ? 1 : (v < 0 ? -1 : (v == 0 ? 0 : v));
}

/* CORRECTION of R's code for a centred statistic z. */
static double correction(bool correct, enum stats_alt alt, double z)
{
    if (!correct)
        return 0;
    if (alt == STATS_ALT_TWO_SIDED)
        return sign_of(z) * 0.5;
    return alt == STATS_ALT_GREATER ? 0.5 : -0.5;
}

/* PVAL of the normal approximation; R's min() propagates NaN. */
static double normal_p(double z, enum stats_alt alt)
{
    if (alt == STATS_ALT_LESS)
        return pnorm(z, 0, 1, 1, 0);
    if (alt == STATS_ALT_GREATER)
        return pnorm(z, 0, 1, 0, 0);
    double lo = pnorm(z, 0, 1, 1, 0), up = pnorm(z, 0, 1, 0, 0);
    if (isnan(lo) || isnan(up))
        return 2 * (lo + up);
    return 2 * (lo < up ? lo : up);
}

static double median_of(const double *x, size_t n, struct arena *ar)
{
    double *s = arena_calloc(ar, n ? n : 1, sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, x, n * sizeof *s);
    stats_sort(s, n);
    return stats_median_sorted(s, n);
}

/* Context of R's W(d) closure for either test. */
struct wctx {
    const double *x, *y; /* signed rank: the non-zero differences (+ mu); rank sum: x, y */
    size_t nx, ny;
    double *buf, *ranks; /* scratch, nx + ny */
    struct arena *ar;
    bool correct;
    enum stats_alt alt;
    struct stats_warnings *w;
    int failed; /* out of memory inside W */
};

/* Signed rank: W(d) = (sum(rank(|x - d|)[x - d > 0]) - m(m+1)/4 - CORRECTION)/SIGMA over the
 * m non-zero x - d. */
static double sr_W(double d, void *info)
{
    struct wctx *c = info;
    size_t m = 0;
    for (size_t i = 0; i < c->nx; i++) {
        double v = c->x[i] - d;
        if (v != 0)
            c->buf[m++] = v;
    }
    double *absd = c->buf + c->nx;
    for (size_t i = 0; i < m; i++)
        absd[i] = fabs(c->buf[i]);
    struct rank_ties t;
    struct err e;
    if (stats_rank_average(absd, m, c->ar, c->ranks, &t, &e) != 0) {
        c->failed = 1;
        return NAN;
    }
    long double s = 0;
    for (size_t i = 0; i < m; i++)
        if (c->buf[i] > 0)
            s += c->ranks[i];
    double nx = (double)m;
    double zd = (double)s - nx * (nx + 1) / 4;
    double sigma = sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - t.tie_term / 48);
    if (sigma == 0)
        stats_warn(c->w, W_CI_TIED_SR);
    return (zd - correction(c->correct, c->alt, zd)) / sigma;
}

/* Rank sum: W(d) from the ranks of c(x - d, y). */
static double rs_W(double d, void *info)
{
    struct wctx *c = info;
    size_t n = c->nx + c->ny;
    for (size_t i = 0; i < c->nx; i++)
        c->buf[i] = c->x[i] - d;
    memcpy(c->buf + c->nx, c->y, c->ny * sizeof(double));
    struct rank_ties t;
    struct err e;
    if (stats_rank_average(c->buf, n, c->ar, c->ranks, &t, &e) != 0) {
        c->failed = 1;
        return NAN;
    }
    long double s = 0;
    for (size_t i = 0; i < c->nx; i++)
        s += c->ranks[i];
    double nx = (double)c->nx, ny = (double)c->ny;
    double dz = (double)s - nx * (nx + 1) / 2 - nx * ny / 2;
    double corr = correction(c->correct, c->alt, dz);
    double sigma =
        sqrt((nx * ny / 12) * ((nx + ny + 1) - t.tie_term / ((nx + ny) * (nx + ny - 1))));
    if (sigma == 0)
        stats_warn(c->w, W_CI_TIED_RS);
    return (dz - corr) / sigma;
}

struct wdiff {
    struct wctx *c;
    double (*W)(double, void *);
    double zq;
};

static double wdiff_fn(double d, void *info)
{
    struct wdiff *w = info;
    return w->W(d, w->c) - w->zq;
}

/* uniroot(wdiff, lower, upper, f.lower, f.upper, tol = 1e-4, zq = zq)$root. */
static int root_at(struct wctx *c, double (*W)(double, void *), double zq, double lo, double hi,
                   double flo, double fhi, double *out, struct err *e)
{
    struct wdiff w = {c, W, zq};
    struct zeroin_result z;
    if (zeroin_uniroot(wdiff_fn, &w, lo, hi, flo, fhi, TOL_ROOT, 1000, &z) != 0)
        return err_set(e, ERR_INVALID,
                       "wilcoxon: f() values at end points not of opposite sign (uniroot)");
    if (c->failed)
        return err_set(e, ERR_NOMEM, "out of memory");
    *out = z.root;
    return 0;
}

/* The estimate: uniroot(W, lower, upper, tol) with correct = FALSE. */
static int estimate_root(struct wctx *c, double (*W)(double, void *), double lo, double hi,
                         double *out, struct err *e)
{
    c->correct = false;
    double flo = W(lo, c), fhi = W(hi, c);
    return root_at(c, W, 0, lo, hi, flo, fhi, out, e);
}

static int check_common(const struct wilcox_opts *o, struct err *e)
{
    if (!isfinite(o->mu))
        return err_set_field(e, ERR_INVALID, "mu", "'mu' must be a single finite number");
    return stats_check_conf_level(o->conf_level, e);
}

static int check_finite(const double *x, size_t n, const char *what, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return err_set(e, ERR_INVALID, "%s value %zu is not finite", what, i + 1);
    return 0;
}

/* The exact signed-rank path: p-value, Walsh-average interval, pseudo-median. */
static int sr_exact(const double *d, size_t nn, double V, const struct wilcox_opts *o,
                    struct arena *ar, struct wilcox_result *r, struct err *e)
{
    double n = (double)nn;
    size_t nw = nn * (nn + 1) / 2;
    double *xs = arena_calloc(ar, nn, sizeof *xs);
    double *w = arena_calloc(ar, nw, sizeof *w);
    if (!xs || !w)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nn; i++)
        xs[i] = d[i] + o->mu;
    size_t k = 0;
    for (size_t j = 0; j < nn; j++)
        for (size_t i = 0; i <= j; i++)
            w[k++] = xs[i] + xs[j];
    stats_sort(w, nw);
    for (size_t i = 0; i < nw; i++)
        w[i] = w[i] / 2;
    double alpha = 1 - o->conf_level, achieved, qu, ql;
    pthread_mutex_lock(&rmath_lock);
    if (o->alt == STATS_ALT_TWO_SIDED) {
        double p = V > (n * (n + 1) / 4) ? psignrank(V - 1, n, 0, 0) : psignrank(V, n, 1, 0);
        r->p_value = fmin(2 * p, 1);
        qu = qsignrank(alpha / 2, n, 1, 0);
        if (qu == 0)
            qu = 1;
        ql = n * (n + 1) / 2 - qu;
        achieved = 2 * psignrank(trunc(qu) - 1, n, 1, 0);
        r->conf_int[0] = w[(size_t)qu - 1];
        r->conf_int[1] = w[(size_t)ql];
    } else {
        r->p_value =
            o->alt == STATS_ALT_GREATER ? psignrank(V - 1, n, 0, 0) : psignrank(V, n, 1, 0);
        qu = qsignrank(alpha, n, 1, 0);
        if (qu == 0)
            qu = 1;
        ql = n * (n + 1) / 2 - qu;
        achieved = psignrank(trunc(qu) - 1, n, 1, 0);
        r->conf_int[0] = o->alt == STATS_ALT_GREATER ? w[(size_t)qu - 1] : -INFINITY;
        r->conf_int[1] = o->alt == STATS_ALT_GREATER ? INFINITY : w[(size_t)ql];
    }
    signrank_free();
    pthread_mutex_unlock(&rmath_lock);
    r->conf_level = o->conf_level;
    if (achieved - alpha > alpha / 2) {
        stats_warn(&r->warnings, W_LEVEL_SR);
        r->conf_level = 1 - fprec(achieved, 2);
    }
    r->estimate = stats_median_sorted(w, nw);
    r->is_exact = true;
    r->method = "Wilcoxon signed rank exact test";
    return 0;
}

/* The normal-approximation interval of the signed-rank test (R's alpha-doubling loops). */
static int sr_normal_ci(struct wctx *c, const struct wilcox_opts *o, struct wilcox_result *r,
                        struct err *e)
{
    size_t n = c->nx;
    double mumin = 0, mumax = 0, Wmin = NAN, Wmax = NAN;
    if (n > 0) {
        mumin = mumax = c->x[0];
        for (size_t i = 1; i < n; i++) {
            mumin = fmin(mumin, c->x[i]);
            mumax = fmax(mumax, c->x[i]);
        }
        Wmin = sr_W(mumin, c);
        Wmax = isfinite(Wmin) ? sr_W(mumax, c) : NAN;
    }
    if (n == 0 || !isfinite(Wmax)) {
        r->conf_int[0] = o->alt == STATS_ALT_LESS ? -INFINITY : NAN;
        r->conf_int[1] = o->alt == STATS_ALT_GREATER ? INFINITY : NAN;
        r->conf_level = 0;
        r->estimate = n > 0 ? (mumin + mumax) / 2 : NAN;
        return 0;
    }
    double alpha = 1 - o->conf_level, cl = o->conf_level;
    int rc = 0;
    if (o->alt == STATS_ALT_TWO_SIDED) {
        while (Wmin - qnorm(alpha / 2, 0, 1, 0, 0) < 0 || Wmax - qnorm(alpha / 2, 0, 1, 1, 0) > 0)
            alpha = alpha * 2;
    } else if (o->alt == STATS_ALT_GREATER) {
        while (Wmin - qnorm(alpha, 0, 1, 0, 0) < 0)
            alpha = alpha * 2;
    } else {
        while (Wmax - qnorm(alpha / 2, 0, 1, 1, 0) > 0)
            alpha = alpha * 2;
    }
    if (alpha >= 1 || 1 - o->conf_level < alpha * 0.75) {
        cl = 1 - fmin(1, alpha);
        stats_warn(&r->warnings, W_LEVEL_SR);
    }
    double med = alpha < 1 ? 0 : median_of(c->x, n, c->ar);
    if (o->alt == STATS_ALT_TWO_SIDED) {
        if (alpha < 1) {
            double zl = qnorm(alpha / 2, 0, 1, 0, 0), zu = qnorm(alpha / 2, 0, 1, 1, 0);
            rc = root_at(c, sr_W, zl, mumin, mumax, Wmin - zl, Wmax - zl, &r->conf_int[0], e);
            if (rc == 0)
                rc = root_at(c, sr_W, zu, mumin, mumax, Wmin - zu, Wmax - zu, &r->conf_int[1], e);
        } else {
            r->conf_int[0] = r->conf_int[1] = med;
        }
    } else if (o->alt == STATS_ALT_GREATER) {
        double zq = qnorm(alpha, 0, 1, 0, 0);
        r->conf_int[1] = INFINITY;
        if (alpha < 1)
            rc = root_at(c, sr_W, zq, mumin, mumax, Wmin - zq, Wmax - zq, &r->conf_int[0], e);
        else
            r->conf_int[0] = med;
    } else {
        double zq = qnorm(alpha, 0, 1, 1, 0);
        r->conf_int[0] = -INFINITY;
        if (alpha < 1)
            rc = root_at(c, sr_W, zq, mumin, mumax, Wmin - zq, Wmax - zq, &r->conf_int[1], e);
        else
            r->conf_int[1] = med;
    }
    if (rc)
        return rc;
    r->conf_level = cl;
    return estimate_root(c, sr_W, mumin, mumax, &r->estimate, e);
}

int wilcox_signed_rank(const double *x, size_t n_in, const struct wilcox_opts *o, struct arena *ar,
                       struct wilcox_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    int rc = check_common(o, e);
    if (rc)
        return rc;
    if (n_in < 1)
        return err_set(e, ERR_INVALID, "not enough (non-missing) 'x' observations");
    if ((rc = check_finite(x, n_in, "x", e)))
        return rc;
    double *d = arena_calloc(ar, n_in, sizeof *d);
    double *buf = arena_calloc(ar, 2 * n_in, sizeof *buf);
    double *ranks = arena_calloc(ar, n_in, sizeof *ranks);
    if (!d || !buf || !ranks)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t nn = 0;
    bool zeroes = false;
    for (size_t i = 0; i < n_in; i++) {
        double v = x[i] - o->mu;
        if (v == 0)
            zeroes = true;
        else
            d[nn++] = v;
    }
    r->n = nn;
    r->n_x = n_in;
    double n = (double)nn;
    bool exact = o->exact < 0 ? n < 50 : o->exact != 0;
    for (size_t i = 0; i < nn; i++)
        buf[i] = fabs(d[i]);
    struct rank_ties t;
    if ((rc = stats_rank_average(buf, nn, ar, ranks, &t, e)))
        return rc;
    long double s = 0;
    for (size_t i = 0; i < nn; i++)
        if (d[i] > 0)
            s += ranks[i];
    double V = (double)s;
    r->statistic = V;
    if (exact && !t.has_ties && !zeroes)
        return sr_exact(d, nn, V, o, ar, r, e);

    double z = V - n * (n + 1) / 4;
    double sigma = sqrt(n * (n + 1) * (2 * n + 1) / 24 - t.tie_term / 48);
    z = (z - correction(o->correct, o->alt, z)) / sigma;
    r->p_value = normal_p(z, o->alt);
    r->method = o->correct ? "Wilcoxon signed rank test with continuity correction"
                           : "Wilcoxon signed rank test";
    for (size_t i = 0; i < nn; i++)
        d[i] = d[i] + o->mu;
    struct wctx c = {d, NULL, nn, 0, buf, ranks, ar, o->correct, o->alt, &r->warnings, 0};
    if ((rc = sr_normal_ci(&c, o, r, e)))
        return rc;
    if (exact && t.has_ties) {
        stats_warn(&r->warnings, W_TIES_P);
        stats_warn(&r->warnings, W_TIES_CI_SR);
    }
    if (exact && zeroes) {
        stats_warn(&r->warnings, W_ZEROES_P);
        stats_warn(&r->warnings, W_ZEROES_CI);
    }
    return 0;
}

int wilcox_paired(const double *x, const double *y, size_t n, const struct wilcox_opts *o,
                  struct arena *ar, struct wilcox_result *r, struct err *e)
{
    double *d = arena_calloc(ar, n ? n : 1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        d[i] = x[i] - y[i];
    return wilcox_signed_rank(d, n, o, ar, r, e);
}

/* The exact rank-sum path: pwilcox p-value, order statistics of x_i - y_j. */
static int rs_exact(const double *x, size_t nx_, const double *y, size_t ny_, double W,
                    const struct wilcox_opts *o, struct arena *ar, struct wilcox_result *r,
                    struct err *e)
{
    double nx = (double)nx_, ny = (double)ny_;
    size_t nd = nx_ * ny_;
    double *diffs = arena_calloc(ar, nd, sizeof *diffs);
    if (!diffs)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < ny_; j++)
        for (size_t i = 0; i < nx_; i++)
            diffs[j * nx_ + i] = x[i] - y[j];
    stats_sort(diffs, nd);
    double alpha = 1 - o->conf_level, achieved, qu, ql;
    pthread_mutex_lock(&rmath_lock);
    if (o->alt == STATS_ALT_TWO_SIDED) {
        double p = W > (nx * ny / 2) ? pwilcox(W - 1, nx, ny, 0, 0) : pwilcox(W, nx, ny, 1, 0);
        r->p_value = fmin(2 * p, 1);
        qu = qwilcox(alpha / 2, nx, ny, 1, 0);
        if (qu == 0)
            qu = 1;
        ql = nx * ny - qu;
        achieved = 2 * pwilcox(trunc(qu) - 1, nx, ny, 1, 0);
        r->conf_int[0] = diffs[(size_t)qu - 1];
        r->conf_int[1] = diffs[(size_t)ql];
    } else {
        r->p_value =
            o->alt == STATS_ALT_GREATER ? pwilcox(W - 1, nx, ny, 0, 0) : pwilcox(W, nx, ny, 1, 0);
        qu = qwilcox(alpha, nx, ny, 1, 0);
        if (qu == 0)
            qu = 1;
        ql = nx * ny - qu;
        achieved = pwilcox(trunc(qu) - 1, nx, ny, 1, 0);
        r->conf_int[0] = o->alt == STATS_ALT_GREATER ? diffs[(size_t)qu - 1] : -INFINITY;
        r->conf_int[1] = o->alt == STATS_ALT_GREATER ? INFINITY : diffs[(size_t)ql];
    }
    wilcox_free();
    pthread_mutex_unlock(&rmath_lock);
    r->conf_level = o->conf_level;
    if (achieved - alpha > alpha / 2) {
        stats_warn(&r->warnings, W_LEVEL_RS);
        r->conf_level = 1 - achieved;
    }
    r->estimate = stats_median_sorted(diffs, nd);
    r->is_exact = true;
    r->method = "Wilcoxon rank sum exact test";
    return 0;
}

/* root() of R's rank-sum branch: the end point itself when f does not change sign. */
static int rs_root(struct wctx *c, double zq, double mumin, double mumax, double Wmin, double Wmax,
                   double *out, struct err *e)
{
    double flo = Wmin - zq;
    if (isnan(flo))
        return err_set(e, ERR_INVALID, "%s", W_CI_TIED_RS);
    if (flo <= 0) {
        *out = mumin;
        return 0;
    }
    double fhi = Wmax - zq;
    if (isnan(fhi))
        return err_set(e, ERR_INVALID, "%s", W_CI_TIED_RS);
    if (fhi >= 0) {
        *out = mumax;
        return 0;
    }
    return root_at(c, rs_W, zq, mumin, mumax, flo, fhi, out, e);
}

int wilcox_rank_sum(const double *x, size_t nx_, const double *y, size_t ny_,
                    const struct wilcox_opts *o, struct arena *ar, struct wilcox_result *r,
                    struct err *e)
{
    memset(r, 0, sizeof *r);
    int rc = check_common(o, e);
    if (rc)
        return rc;
    if (nx_ < 1)
        return err_set(e, ERR_INVALID, "not enough (non-missing) 'x' observations");
    if (ny_ < 1)
        return err_set(e, ERR_INVALID, "not enough 'y' observations");
    if ((rc = check_finite(x, nx_, "x", e)) || (rc = check_finite(y, ny_, "y", e)))
        return rc;
    size_t n = nx_ + ny_;
    double *buf = arena_calloc(ar, n, sizeof *buf);
    double *ranks = arena_calloc(ar, n, sizeof *ranks);
    if (!buf || !ranks)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nx_; i++)
        buf[i] = x[i] - o->mu;
    memcpy(buf + nx_, y, ny_ * sizeof *y);
    struct rank_ties t;
    if ((rc = stats_rank_average(buf, n, ar, ranks, &t, e)))
        return rc;
    double nx = (double)nx_, ny = (double)ny_;
    bool exact = o->exact < 0 ? (nx < 50) && (ny < 50) : o->exact != 0;
    long double s = 0;
    for (size_t i = 0; i < nx_; i++)
        s += ranks[i];
    double W = (double)s - nx * (nx + 1) / 2;
    r->statistic = W;
    r->n = n;
    r->n_x = nx_;
    r->n_y = ny_;
    if (exact && !t.has_ties)
        return rs_exact(x, nx_, y, ny_, W, o, ar, r, e);

    double z = W - nx * ny / 2;
    double sigma =
        sqrt((nx * ny / 12) * ((nx + ny + 1) - t.tie_term / ((nx + ny) * (nx + ny - 1))));
    z = (z - correction(o->correct, o->alt, z)) / sigma;
    r->p_value = normal_p(z, o->alt);
    r->method =
        o->correct ? "Wilcoxon rank sum test with continuity correction" : "Wilcoxon rank sum test";

    double alpha = 1 - o->conf_level;
    double xmin = x[0], xmax = x[0], ymin = y[0], ymax = y[0];
    for (size_t i = 1; i < nx_; i++) {
        xmin = fmin(xmin, x[i]);
        xmax = fmax(xmax, x[i]);
    }
    for (size_t j = 1; j < ny_; j++) {
        ymin = fmin(ymin, y[j]);
        ymax = fmax(ymax, y[j]);
    }
    double mumin = xmin - ymax, mumax = xmax - ymin;
    struct wctx c = {x, y, nx_, ny_, buf, ranks, ar, o->correct, o->alt, &r->warnings, 0};
    double Wmin = rs_W(mumin, &c), Wmax = rs_W(mumax, &c);
    if (o->alt == STATS_ALT_TWO_SIDED) {
        rc =
            rs_root(&c, qnorm(alpha / 2, 0, 1, 0, 0), mumin, mumax, Wmin, Wmax, &r->conf_int[0], e);
        if (rc == 0)
            rc = rs_root(&c, qnorm(alpha / 2, 0, 1, 1, 0), mumin, mumax, Wmin, Wmax,
                         &r->conf_int[1], e);
    } else if (o->alt == STATS_ALT_GREATER) {
        r->conf_int[1] = INFINITY;
        rc = rs_root(&c, qnorm(alpha, 0, 1, 0, 0), mumin, mumax, Wmin, Wmax, &r->conf_int[0], e);
    } else {
        r->conf_int[0] = -INFINITY;
        rc = rs_root(&c, qnorm(alpha, 0, 1, 1, 0), mumin, mumax, Wmin, Wmax, &r->conf_int[1], e);
    }
    if (rc)
        return rc;
    r->conf_level = o->conf_level;
    if ((rc = estimate_root(&c, rs_W, mumin, mumax, &r->estimate, e)))
        return rc;
    if (exact && t.has_ties) {
        stats_warn(&r->warnings, W_TIES_P);
        stats_warn(&r->warnings, W_TIES_CI_RS);
    }
    return 0;
}
