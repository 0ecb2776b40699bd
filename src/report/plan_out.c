/* The plan runner's output helpers (see plan_out.h): JSON numbers and objects, and cells of
 * the analysis dataset read as numbers. */
#include "report/plan_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/binom.h"
#include "stats/describe.h"

json_t *plan_jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *plan_jpair(double a, double b)
{
    json_t *p = json_array();
    if (p) {
        json_array_append_new(p, plan_jnum(a));
        json_array_append_new(p, plan_jnum(b));
    }
    return p;
}

void plan_jset(struct plan_ctx *c, json_t *o, const char *key, json_t *v)
{
    if (!o || !v || json_object_set_new(o, key, v) != 0) {
        if (c->rc == 0)
            c->rc = err_set(c->e, ERR_NOMEM, "out of memory building results (%s)", key);
    }
}

static bool row_matches(const struct atable *t, size_t r, int filter_col, const char *filter)
{
    if (filter_col < 0)
        return true;
    const char *s = atable_get(t, r, (size_t)filter_col);
    if (!s)
        return false;
    return !filter || strcmp(s, filter) == 0;
}

size_t plan_nums(struct plan_ctx *c, int ti, int col, int filter_col, const char *filter,
                 double **out)
{
    const struct atable *t = &c->ds->t[ti];
    double *x = arena_calloc(&c->ar, t->nrows + 1, sizeof *x);
    size_t n = 0;
    if (!x) {
        c->rc = err_set(c->e, ERR_NOMEM, "out of memory");
        *out = NULL;
        return 0;
    }
    for (size_t r = 0; r < t->nrows; r++)
        if (row_matches(t, r, filter_col, filter) && atable_num(t, r, (size_t)col, &x[n]))
            n++;
    *out = x;
    return n;
}

size_t plan_pairs(struct plan_ctx *c, int ti, int col_x, int col_y, double **xo, double **yo)
{
    const struct atable *t = &c->ds->t[ti];
    double *x = arena_calloc(&c->ar, t->nrows + 1, sizeof *x);
    double *y = arena_calloc(&c->ar, t->nrows + 1, sizeof *y);
    size_t n = 0;
    if (!x || !y) {
        c->rc = err_set(c->e, ERR_NOMEM, "out of memory");
        *xo = *yo = NULL;
        return 0;
    }
    for (size_t r = 0; r < t->nrows; r++)
        if (atable_num(t, r, (size_t)col_x, &x[n]) && atable_num(t, r, (size_t)col_y, &y[n]))
            n++;
    *xo = x;
    *yo = y;
    return n;
}

size_t plan_count(struct plan_ctx *c, int ti, int col, const char *v)
{
    const struct atable *t = &c->ds->t[ti];
    size_t n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *s = atable_get(t, r, (size_t)col);
        n += s && strcmp(s, v) == 0;
    }
    return n;
}

json_t *plan_jdescribe(struct plan_ctx *c, const double *x, size_t n, const char *sap)
{
    json_t *o = json_object();
    plan_jset(c, o, "n", json_integer((json_int_t)n));
    if (n > 0 && c->rc == 0) {
        struct describe_result d;
        if (describe(x, n, &c->ar, &d, c->e) != 0) {
            c->rc = c->e->code ? c->e->code : ERR_INTERNAL;
        } else {
            plan_jset(c, o, "median", plan_jnum(d.median));
            plan_jset(c, o, "q1", plan_jnum(d.q1));
            plan_jset(c, o, "q3", plan_jnum(d.q3));
            plan_jset(c, o, "mean", plan_jnum(d.mean));
            plan_jset(c, o, "sd", plan_jnum(d.sd));
            plan_jset(c, o, "min", plan_jnum(d.min));
            plan_jset(c, o, "max", plan_jnum(d.max));
        }
    }
    plan_jset(c, o, "sap", json_string(sap));
    return o;
}

json_t *plan_jprop(struct plan_ctx *c, long x, long n, bool wilson, const char *sap)
{
    json_t *o = json_object();
    plan_jset(c, o, "x", json_integer(x));
    plan_jset(c, o, "n", json_integer(n));
    if (n > 0 && c->rc == 0) {
        struct binom_result b;
        if (binom_test(x, n, 0.5, STATS_ALT_TWO_SIDED, 0.95, &b, c->e) != 0) {
            c->rc = ERR_INTERNAL;
            return o;
        }
        plan_jset(c, o, "estimate", plan_jnum(b.estimate));
        plan_jset(c, o, "ci_exact", plan_jpair(b.conf_int[0], b.conf_int[1]));
        if (wilson) {
            struct prop_result p;
            if (binom_prop_test_one(x, n, 0.5, STATS_ALT_TWO_SIDED, 0.95, true, &p, c->e) != 0) {
                c->rc = ERR_INTERNAL;
                return o;
            }
            plan_jset(c, o, "ci_wilson", plan_jpair(p.conf_int[0], p.conf_int[1]));
        }
    } else {
        plan_jset(c, o, "estimate", json_null());
    }
    plan_jset(c, o, "sap", json_string(sap));
    return o;
}

long plan_count_of(double x)
{
    return x >= 0 && x <= 1e12 && x == floor(x) ? (long)x : 0;
}

json_t *plan_jcount(long k, long n)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer(k));
    json_object_set_new(o, "pct", n > 0 ? json_real(100.0 * (double)k / (double)n) : json_null());
    return o;
}
