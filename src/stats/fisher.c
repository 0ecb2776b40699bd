/* fisher.test's 2x2 branch (R 4.2.2; docs/r-algorithms.md §8). dnhyper/mnhyper/pnhyper are
 * R's closures with their sums in long double (R's sum()); the MLE and the interval ends are
 * uniroot() calls with R's brackets and default tol = DBL_EPSILON^0.25, so the literal zeroin
 * port reproduces R's digits. */
#include "stats/fisher.h"

#include <float.h>
#include <math.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

#include "stats/zeroin.h"

struct nhyper {
    double m, n, k, x; /* column 1 total, column 2 total, row 1 total, the (1,1) cell */
    double lo, hi;
    size_t len;    /* hi - lo + 1 */
    double *logdc; /* dhyper(support, m, n, k, log = TRUE) */
    double *d;     /* scratch: dnhyper */
    double target; /* what the root function subtracts: x or alpha */
    int upper;     /* pnhyper's upper.tail */
    int invert;    /* evaluate at 1/t */
};

/* dnhyper(ncp) into h->d. */
static void dnhyper(struct nhyper *h, double ncp)
{
    double lncp = log(ncp);
    double mx = -INFINITY; /* callers never pass ncp 0 or Inf, so no NaN arises here */
    for (size_t i = 0; i < h->len; i++) {
        h->d[i] = h->logdc[i] + lncp * (h->lo + (double)i);
        if (h->d[i] > mx)
            mx = h->d[i];
    }
    long double s = 0;
    for (size_t i = 0; i < h->len; i++) {
        h->d[i] = exp(h->d[i] - mx);
        s += h->d[i];
    }
    for (size_t i = 0; i < h->len; i++)
        h->d[i] = h->d[i] / (double)s;
}

static double mnhyper(struct nhyper *h, double ncp)
{
    if (ncp == 0)
        return h->lo;
    if (ncp == INFINITY)
        return h->hi;
    dnhyper(h, ncp);
    long double s = 0;
    for (size_t i = 0; i < h->len; i++)
        s += (h->lo + (double)i) * h->d[i];
    return (double)s;
}

static double pnhyper(struct nhyper *h, double q, double ncp, int upper)
{
    if (ncp == 1)
        return upper ? phyper(h->x - 1, h->m, h->n, h->k, 0, 0)
                     : phyper(h->x, h->m, h->n, h->k, 1, 0);
    if (ncp == 0)
        return upper ? (q <= h->lo) : (q >= h->lo);
    if (ncp == INFINITY)
        return upper ? (q <= h->hi) : (q >= h->hi);
    dnhyper(h, ncp);
    long double s = 0;
    for (size_t i = 0; i < h->len; i++) {
        double sup = h->lo + (double)i;
        if (upper ? sup >= q : sup <= q)
            s += h->d[i];
    }
    return (double)s;
}

/* function(t) mnhyper(t) - x, or mnhyper(1/t) - x. */
static double f_mean(double t, void *info)
{
    struct nhyper *h = info;
    return mnhyper(h, h->invert ? 1 / t : t) - h->target;
}

/* function(t) pnhyper(x, t, upper) - alpha, or at 1/t. */
static double f_tail(double t, void *info)
{
    struct nhyper *h = info;
    return pnhyper(h, h->x, h->invert ? 1 / t : t, h->upper) - h->target;
}

/* uniroot(f, c(lo, hi))$root with f.lower/f.upper evaluated as R does; tol = eps^0.25. */
static int root(struct nhyper *h, double (*f)(double, void *), double lo, double hi, double *out,
                struct err *e)
{
    struct zeroin_result z;
    double fl = f(lo, h), fu = f(hi, h);
    if (zeroin_uniroot(f, h, lo, hi, fl, fu, pow(DBL_EPSILON, 0.25), 1000, &z) != 0)
        return err_set(e, ERR_INTERNAL, "fisher: f() values at end points not of opposite sign");
    *out = z.root;
    return 0;
}

static int mle(struct nhyper *h, double *out, struct err *e)
{
    double x = h->x;
    if (x == h->lo) {
        *out = 0;
        return 0;
    }
    if (x == h->hi) {
        *out = INFINITY;
        return 0;
    }
    double mu = mnhyper(h, 1);
    h->target = x;
    if (mu > x) {
        h->invert = 0;
        return root(h, f_mean, 0, 1, out, e);
    }
    if (mu < x) {
        h->invert = 1;
        double t = NAN;
        int rc = root(h, f_mean, DBL_EPSILON, 1, &t, e);
        *out = 1 / t;
        return rc;
    }
    *out = 1;
    return 0;
}

/* ncp.U (upper = 0) or ncp.L (upper = 1) of R's fisher.test. */
static int ncp_limit(struct nhyper *h, int upper, double alpha, double *out, struct err *e)
{
    if (!upper && h->x == h->hi) {
        *out = INFINITY;
        return 0;
    }
    if (upper && h->x == h->lo) {
        *out = 0;
        return 0;
    }
    double p = pnhyper(h, h->x, 1, upper);
    h->target = alpha;
    h->upper = upper;
    /* ncp.U: p < alpha -> root on (0,1); ncp.L: p > alpha -> root on (0,1). */
    int direct = upper ? p > alpha : p < alpha;
    int inverse = upper ? p < alpha : p > alpha;
    if (direct) {
        h->invert = 0;
        return root(h, f_tail, 0, 1, out, e);
    }
    if (inverse) {
        h->invert = 1;
        double t = NAN;
        int rc = root(h, f_tail, DBL_EPSILON, 1, &t, e);
        *out = 1 / t;
        return rc;
    }
    *out = 1;
    return 0;
}

int fisher_test_2x2(long a, long b, long c, long d, enum stats_alt alt, double conf_level,
                    struct arena *ar, struct fisher_result *r, struct err *e)
{
    if (a < 0 || b < 0 || c < 0 || d < 0)
        return err_set_field(e, ERR_INVALID, "table",
                             "all entries of the table must be non-negative counts");
    int rc = stats_check_conf_level(conf_level, e);
    if (rc)
        return rc;
    struct nhyper h = {0};
    h.m = (double)(a + c);
    h.n = (double)(b + d);
    h.k = (double)(a + b);
    h.x = (double)a;
    h.lo = fmax(0, h.k - h.n);
    h.hi = fmin(h.k, h.m);
    h.len = (size_t)(h.hi - h.lo) + 1;
    h.logdc = arena_calloc(ar, h.len, sizeof(double));
    h.d = arena_calloc(ar, h.len, sizeof(double));
    if (!h.logdc || !h.d)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h.len; i++)
        h.logdc[i] = dhyper(h.lo + (double)i, h.m, h.n, h.k, 1);

    /* p-value at the null odds ratio 1. */
    if (alt == STATS_ALT_LESS) {
        r->p_value = pnhyper(&h, h.x, 1, 0);
    } else if (alt == STATS_ALT_GREATER) {
        r->p_value = pnhyper(&h, h.x, 1, 1);
    } else {
        const double relErr = 1 + 1e-07;
        dnhyper(&h, 1);
        double dx = h.d[(size_t)(h.x - h.lo)] * relErr;
        long double s = 0;
        for (size_t i = 0; i < h.len; i++)
            if (h.d[i] <= dx)
                s += h.d[i];
        r->p_value = (double)s;
    }

    rc = mle(&h, &r->estimate, e);
    if (rc)
        return rc;
    if (alt == STATS_ALT_LESS) {
        r->conf_int[0] = 0;
        rc = ncp_limit(&h, 0, 1 - conf_level, &r->conf_int[1], e);
    } else if (alt == STATS_ALT_GREATER) {
        r->conf_int[1] = INFINITY;
        rc = ncp_limit(&h, 1, 1 - conf_level, &r->conf_int[0], e);
    } else {
        double alpha = (1 - conf_level) / 2;
        rc = ncp_limit(&h, 1, alpha, &r->conf_int[0], e);
        if (rc == 0)
            rc = ncp_limit(&h, 0, alpha, &r->conf_int[1], e);
    }
    return rc;
}
