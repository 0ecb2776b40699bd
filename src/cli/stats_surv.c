/* `ioheme stats km | logrank | cox`: survival analysis of a CSV file, printed as JSON with R's
 * names in snake_case (see stats_surv.h and cmd_stats.c's usage text).
 *
 * This file turns CSV columns into what src/stats/ takes: time and 0/1 status checked row by
 * row (errors name the CSV line and column), grouping columns coded in R's factor-level order,
 * and factor covariates expanded to treatment dummies. Level order: numeric order when every
 * value of the column is a number (labels printed as R's as.character, 15 significant digits),
 * otherwise plain strcmp byte order of the strings — R's sort() uses the locale's collation,
 * which agrees with byte order for ASCII letters of one case and digits, not in general. */
#include "cli/stats_surv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/stats_cli.h"
#include "stats/cox.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/surv_common.h"

/* A factor: per-row codes in [0, nlev) and the level labels. */
struct factor {
    int *code;
    const char **label;
    size_t nlev;
};

static int parse_num(const char *s, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Codes text[0..n) as an R factor (see the file comment for the level order). */
static int factor_make(const char **text, size_t n, const char *col, struct arena *ar,
                       struct factor *f, struct err *e)
{
    f->code = arena_calloc(ar, n ? n : 1, sizeof *f->code);
    double *num = arena_calloc(ar, n ? n : 1, sizeof *num);
    size_t *ord = NULL;
    if (!f->code || !num)
        return err_set(e, ERR_NOMEM, "out of memory");
    bool numeric = true;
    for (size_t i = 0; i < n && numeric; i++)
        numeric = parse_num(text[i], &num[i]) == 0 && !isnan(num[i]);
    if (numeric) {
        if (!(ord = surv_order(num, n, ar)))
            return err_set(e, ERR_NOMEM, "out of memory");
    } else {
        const char ***ptr = arena_calloc(ar, n ? n : 1, sizeof *ptr);
        ord = arena_calloc(ar, n ? n : 1, sizeof *ord);
        if (!ptr || !ord)
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            ptr[i] = &text[i];
        qsort(ptr, n, sizeof *ptr, cmp_str_ptr);
        for (size_t i = 0; i < n; i++)
            ord[i] = (size_t)(ptr[i] - text);
    }
    size_t nlev = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_new = i == 0 || (numeric ? num[ord[i]] != num[ord[i - 1]]
                                         : strcmp(text[ord[i]], text[ord[i - 1]]) != 0);
        if (is_new)
            nlev++;
        f->code[ord[i]] = (int)nlev - 1;
    }
    f->label = arena_calloc(ar, nlev ? nlev : 1, sizeof *f->label);
    if (!f->label)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)f->code[ord[i]];
        if (f->label[c])
            continue;
        f->label[c] = numeric ? arena_printf(ar, "%.15g", num[ord[i]]) : text[ord[i]];
        if (!f->label[c])
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    f->nlev = nlev;
    if (nlev == 0)
        return err_set_field(e, ERR_INVALID, col, "column '%s' has no values", col);
    return 0;
}

/* Checks time >= 0 and event in {0, 1}, naming the CSV line and column. */
static int check_surv_rows(const double *time, const double *event, const struct stats_frame *f,
                           const char *tcol, const char *ecol, struct err *e)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!isfinite(time[i]) || time[i] < 0)
            return err_set_field(e, ERR_INVALID, tcol,
                                 "line %zu, column '%s': time %g is negative or not finite",
                                 f->line[i], tcol, time[i]);
        if (event[i] != 0 && event[i] != 1)
            return err_set_field(e, ERR_INVALID, ecol,
                                 "line %zu, column '%s': event %g is not 0 or 1", f->line[i], ecol,
                                 event[i]);
    }
    if (f->n == 0)
        return err_set(e, ERR_INVALID, "no complete rows in the input");
    return 0;
}

static const char *required(const struct cli_args *a, const char *name, struct err *e)
{
    const char *v = cli_get(a, name);
    if (!v || !*v)
        err_set_field(e, ERR_USAGE, name, "--%s COL is required", name);
    return v && *v ? v : NULL;
}

/* Loads --input and extracts the columns; time and event are numeric. */
static int load_frame(const struct cli_args *a, struct csv_table *t, struct stats_col *cols,
                      size_t k, struct arena *ar, struct stats_frame *f, struct err *e)
{
    int rc = stats_load_input(a, t, e);
    if (rc)
        return rc;
    rc = stats_frame_extract(t, cols, k, ar, f, e);
    if (rc)
        return rc;
    return check_surv_rows(cols[0].num, cols[1].num, f, cols[0].name, cols[1].name, e);
}

#define JSET(obj, key, val)                                                                        \
    do {                                                                                           \
        if (json_object_set_new((obj), (key), (val)) != 0)                                         \
            return err_set(e, ERR_NOMEM, "out of memory");                                         \
    } while (0)

static json_t *json_count(double x)
{
    return json_integer((json_int_t)x);
}

static json_t *json_counts(const double *x, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_count(x[i]));
    return arr;
}

static json_t *json_strs(const char **s, size_t n, const char *prefix)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        size_t len = strlen(prefix) + strlen(s[i]) + 2;
        char *buf = malloc(len);
        if (!buf) {
            json_decref(arr);
            return NULL;
        }
        fmt_exact(buf, len, "%s%s%s", prefix, *prefix ? "=" : "", s[i]);
        json_array_append_new(arr, json_string(buf));
        free(buf);
    }
    return arr;
}

/* ---- km ---- */

static int km_curve_json(const struct km_curve *c, const char *name, bool with_at, json_t *o,
                         struct err *e)
{
    JSET(o, "name", json_string(name));
    JSET(o, "n", json_integer((json_int_t)c->n));
    JSET(o, "time", stats_json_nums(c->time, c->nt));
    JSET(o, "n_risk", json_counts(c->n_risk, c->nt));
    JSET(o, "n_event", json_counts(c->n_event, c->nt));
    JSET(o, "n_censor", json_counts(c->n_censor, c->nt));
    JSET(o, "surv", stats_json_nums(c->surv, c->nt));
    JSET(o, "std_err", stats_json_nums(c->std_err, c->nt));
    JSET(o, "lower", stats_json_nums(c->lower, c->nt));
    JSET(o, "upper", stats_json_nums(c->upper, c->nt));
    JSET(o, "median", stats_json_num(c->median));
    JSET(o, "median_lower", stats_json_num(c->median_lower));
    JSET(o, "median_upper", stats_json_num(c->median_upper));
    if (with_at) {
        json_t *at = json_object();
        if (!at)
            return err_set(e, ERR_NOMEM, "out of memory");
        JSET(o, "at_times", at);
        const struct km_at_times *t = &c->at;
        JSET(at, "time", stats_json_nums(t->time, t->n));
        JSET(at, "n_risk", json_counts(t->n_risk, t->n));
        JSET(at, "n_event", json_counts(t->n_event, t->n));
        JSET(at, "n_censor", json_counts(t->n_censor, t->n));
        JSET(at, "surv", stats_json_nums(t->surv, t->n));
        JSET(at, "lower", stats_json_nums(t->lower, t->n));
        JSET(at, "upper", stats_json_nums(t->upper, t->n));
    }
    return 0;
}

static int km_run(const struct cli_args *a, struct csv_table *t, struct arena *ar, json_t *out,
                  struct err *e)
{
    const char *tcol = required(a, "time", e), *ecol = tcol ? required(a, "event", e) : NULL;
    if (!tcol || !ecol)
        return e->code;
    const char *gcol = cli_get(a, "group");
    struct km_opts o = {KM_CONF_LOG, 0.95, true, NULL, 0};
    const char *ct = cli_get(a, "conf-type");
    if (ct && strcmp(ct, "log") != 0) {
        if (strcmp(ct, "log-log") == 0)
            o.conf_type = KM_CONF_LOGLOG;
        else if (strcmp(ct, "plain") == 0)
            o.conf_type = KM_CONF_PLAIN;
        else
            return err_set_field(e, ERR_USAGE, "conf-type",
                                 "--conf-type: expected log, log-log or plain, got '%s'", ct);
    }
    double *times = NULL;
    int rc = stats_opt_double(a, "conf-level", 0.95, &o.conf_level, e);
    if (!rc)
        rc = stats_opt_doubles(a, "times", ar, &times, &o.ntimes, e);
    if (rc)
        return rc;
    o.times = times;
    if (!(o.conf_level > 0 && o.conf_level < 1))
        return err_set_field(e, ERR_USAGE, "conf-level", "--conf-level must be in (0, 1)");
    struct stats_col cols[3] = {
        {tcol, true, NULL, NULL}, {ecol, true, NULL, NULL}, {gcol, false, NULL, NULL}};
    struct stats_frame f;
    if ((rc = load_frame(a, t, cols, gcol ? 3 : 2, ar, &f, e)) != 0)
        return rc;
    struct factor g = {NULL, NULL, 1};
    if (gcol && (rc = factor_make(cols[2].text, f.n, gcol, ar, &g, e)) != 0)
        return rc;
    struct km_fit fit;
    if ((rc = km_fit(cols[0].num, cols[1].num, g.code, g.nlev, f.n, &o, ar, &fit, e)) != 0)
        return rc;
    json_t *strata = json_array();
    if (!strata)
        return err_set(e, ERR_NOMEM, "out of memory");
    JSET(out, "strata", strata);
    for (size_t k = 0; k < fit.ncurves; k++) {
        json_t *c = json_object();
        const char *name = gcol ? arena_printf(ar, "%s=%s", gcol, g.label[k]) : "all";
        if (!c || !name || json_array_append_new(strata, c) != 0)
            return err_set(e, ERR_NOMEM, "out of memory");
        if ((rc = km_curve_json(&fit.curves[k], name, o.ntimes > 0, c, e)) != 0)
            return rc;
    }
    JSET(out, "n_omitted", json_integer((json_int_t)f.n_omitted));
    return 0;
}

/* Runs body(a, t, ar, out, e) with the CSV table and JSON object set up and torn down. */
static int run_with_table(int (*body)(const struct cli_args *, struct csv_table *, struct arena *,
                                      json_t *, struct err *),
                          const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    struct csv_table t;
    memset(&t, 0, sizeof t);
    *out = json_object();
    if (!*out)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = body(a, &t, ar, *out, e);
    csv_table_free(&t);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int stats_run_km(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    return run_with_table(km_run, a, ar, out, e);
}

/* ---- logrank ---- */

static int logrank_run(const struct cli_args *a, struct csv_table *t, struct arena *ar, json_t *out,
                       struct err *e)
{
    const char *tcol = required(a, "time", e), *ecol = tcol ? required(a, "event", e) : NULL;
    const char *gcol = ecol ? required(a, "group", e) : NULL;
    if (!gcol)
        return e->code;
    const char *scol = cli_get(a, "strata");
    double rho;
    int rc = stats_opt_double(a, "rho", 0, &rho, e);
    if (rc)
        return rc;
    if (!isfinite(rho))
        return err_set_field(e, ERR_USAGE, "rho", "--rho must be a finite number");
    struct stats_col cols[4] = {{tcol, true, NULL, NULL},
                                {ecol, true, NULL, NULL},
                                {gcol, false, NULL, NULL},
                                {scol, false, NULL, NULL}};
    struct stats_frame f;
    if ((rc = load_frame(a, t, cols, scol ? 4 : 3, ar, &f, e)) != 0)
        return rc;
    struct factor g, s = {NULL, NULL, 1};
    if ((rc = factor_make(cols[2].text, f.n, gcol, ar, &g, e)) != 0)
        return rc;
    if (g.nlev < 2)
        return err_set_field(e, ERR_INVALID, gcol, "column '%s': need at least 2 groups, found %zu",
                             gcol, g.nlev);
    if (scol && (rc = factor_make(cols[3].text, f.n, scol, ar, &s, e)) != 0)
        return rc;
    struct logrank_result r;
    if ((rc = logrank_test(cols[0].num, cols[1].num, g.code, g.nlev, s.code, s.nlev, f.n, rho, true,
                           ar, &r, e)) != 0)
        return rc;
    size_t G = r.ngroups;
    json_t *var = json_array();
    if (!var)
        return err_set(e, ERR_NOMEM, "out of memory");
    JSET(out, "n", json_counts(r.n, G));
    JSET(out, "obs", stats_json_nums(r.obs, G));
    JSET(out, "exp", stats_json_nums(r.exp, G));
    JSET(out, "var", var);
    for (size_t i = 0; i < G; i++)
        if (json_array_append_new(var, stats_json_nums(r.var + i * G, G)) != 0)
            return err_set(e, ERR_NOMEM, "out of memory");
    JSET(out, "chisq", stats_json_num(r.chisq));
    JSET(out, "df", json_integer(r.df));
    JSET(out, "p_value", stats_json_num(r.p_value));
    JSET(out, "groups", json_strs(g.label, G, gcol));
    JSET(out, "n_omitted", json_integer((json_int_t)f.n_omitted));
    return 0;
}

int stats_run_logrank(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    return run_with_table(logrank_run, a, ar, out, e);
}

/* ---- cox ---- */

#define COX_MAX_COVS 29 /* stats_frame_extract takes 32 columns: time, event and these */

static int cox_run(const struct cli_args *a, struct csv_table *t, struct arena *ar, json_t *out,
                   struct err *e)
{
    const char *tcol = required(a, "time", e), *ecol = tcol ? required(a, "event", e) : NULL;
    const char *clist = ecol ? required(a, "covariates", e) : NULL;
    if (!clist)
        return e->code;
    struct cox_opts o = cox_default_opts();
    const char *ties = cli_get(a, "ties");
    if (ties && strcmp(ties, "efron") != 0) {
        if (strcmp(ties, "breslow") != 0)
            return err_set_field(e, ERR_USAGE, "ties",
                                 "--ties: expected efron or breslow, got '%s'", ties);
        o.ties = COX_BRESLOW;
    }
    struct stats_col cols[2 + COX_MAX_COVS] = {{tcol, true, NULL, NULL}, {ecol, true, NULL, NULL}};
    size_t k = 2;
    char *copy = arena_strdup(ar, clist);
    if (!copy)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (char *tok = copy, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (!*tok)
            return err_set_field(e, ERR_USAGE, "covariates", "--covariates: empty name");
        if (k == 2 + COX_MAX_COVS)
            return err_set_field(e, ERR_USAGE, "covariates", "--covariates: too many");
        cols[k++] = (struct stats_col){tok, false, NULL, NULL};
    }
    struct stats_frame f;
    int rc = load_frame(a, t, cols, k, ar, &f, e);
    if (rc)
        return rc;
    size_t n = f.n, p = 0;
    /* columns of the model matrix: a numeric covariate is one, a factor L - 1 dummies */
    struct factor *fac = arena_calloc(ar, k, sizeof *fac);
    if (!fac)
        return err_set(e, ERR_NOMEM, "out of memory");
    double **num = arena_calloc(ar, k, sizeof *num);
    if (!num)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t j = 2; j < k; j++) {
        if (!(num[j] = arena_calloc(ar, n, sizeof **num)))
            return err_set(e, ERR_NOMEM, "out of memory");
        bool numeric = true;
        for (size_t i = 0; i < n && numeric; i++)
            numeric = parse_num(cols[j].text[i], &num[j][i]) == 0 && isfinite(num[j][i]);
        if (numeric) {
            fac[j].nlev = 0; /* marks a numeric column */
            p++;
        } else {
            if ((rc = factor_make(cols[j].text, n, cols[j].name, ar, &fac[j], e)) != 0)
                return rc;
            if (fac[j].nlev < 2)
                return err_set_field(e, ERR_INVALID, cols[j].name,
                                     "column '%s': a factor needs at least 2 levels", cols[j].name);
            p += fac[j].nlev - 1;
        }
    }
    double *x = arena_calloc(ar, n * p, sizeof *x);
    const char **terms = arena_calloc(ar, p, sizeof *terms);
    if (!x || !terms)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t c = 0;
    for (size_t j = 2; j < k; j++) {
        if (fac[j].nlev == 0) {
            memcpy(x + c * n, num[j], n * sizeof *x);
            terms[c++] = cols[j].name;
            continue;
        }
        for (size_t l = 1; l < fac[j].nlev; l++, c++) {
            for (size_t i = 0; i < n; i++)
                x[c * n + i] = fac[j].code[i] == (int)l;
            terms[c] = arena_printf(ar, "%s%s", cols[j].name, fac[j].label[l]);
            if (!terms[c])
                return err_set(e, ERR_NOMEM, "out of memory");
        }
    }
    struct cox_result r;
    if ((rc = cox_fit(cols[0].num, cols[1].num, x, n, p, &o, ar, &r, e)) != 0)
        return rc;
    json_t *lrt = json_object(), *wald = json_object(), *score = json_object();
    if (!lrt || !wald || !score) {
        json_decref(lrt);
        json_decref(wald);
        json_decref(score);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    JSET(out, "lrt", lrt);
    JSET(out, "wald", wald);
    JSET(out, "score", score);
    JSET(out, "coef", stats_json_nums(r.coef, p));
    JSET(out, "se", stats_json_nums(r.se, p));
    JSET(out, "hr", stats_json_nums(r.hr, p));
    JSET(out, "hr_lower", stats_json_nums(r.hr_lower, p));
    JSET(out, "hr_upper", stats_json_nums(r.hr_upper, p));
    JSET(out, "z", stats_json_nums(r.z, p));
    JSET(out, "p", stats_json_nums(r.p_value, p));
    JSET(out, "terms", json_strs(terms, p, ""));
    JSET(out, "loglik_null", stats_json_num(r.loglik_null));
    JSET(out, "loglik", stats_json_num(r.loglik));
    JSET(lrt, "stat", stats_json_num(r.lrt_stat));
    JSET(lrt, "df", json_integer(r.df));
    JSET(lrt, "p", stats_json_num(r.lrt_p));
    JSET(wald, "stat", stats_json_num(r.wald_stat));
    JSET(wald, "df", json_integer(r.df));
    JSET(wald, "p", stats_json_num(r.wald_p));
    JSET(score, "stat", stats_json_num(r.score_stat));
    JSET(score, "df", json_integer(r.df));
    JSET(score, "p", stats_json_num(r.score_p));
    JSET(out, "n", json_integer((json_int_t)r.n));
    JSET(out, "nevent", json_integer((json_int_t)r.nevent));
    JSET(out, "concordance", stats_json_num(r.conc.concordance));
    JSET(out, "iter", json_integer(r.iter));
    JSET(out, "converged", json_boolean(r.converged));
    json_t *warn = json_array();
    if (!warn)
        return err_set(e, ERR_NOMEM, "out of memory");
    JSET(out, "warnings", warn);
    if (!r.converged)
        json_array_append_new(warn, json_string("Ran out of iterations and did not converge"));
    for (size_t j = 0; j < p; j++) {
        if (!r.maybe_infinite[j])
            continue;
        json_array_append_new(
            warn,
            json_sprintf("Loglik converged before variable  %zu ; coefficient may be infinite. ",
                         j + 1));
    }
    JSET(out, "n_omitted", json_integer((json_int_t)f.n_omitted));
    return 0;
}

int stats_run_cox(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    return run_with_table(cox_run, a, ar, out, e);
}
