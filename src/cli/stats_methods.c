/* `ioheme stats binom|wilson|poisson|wilcoxon|ttest|fisher|chisq|quantile|samplesize`: the
 * non-survival methods. Each parses its options, reads the CSV through stats_cli.h's na.omit
 * extraction where it takes one, calls src/stats/ and builds a JSON object whose keys are R's
 * names in snake_case. Numbers go through stats_json_num (NaN -> null, +-Inf -> "Inf"/"-Inf"). */
#include "cli/stats_methods.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/binom.h"
#include "stats/chisq.h"
#include "stats/describe.h"
#include "stats/fisher.h"
#include "stats/samplesize.h"
#include "stats/ttest.h"
#include "stats/wilcoxon.h"

const char STATS_BINOM_HELP[] =
    "exact binomial test: --x N --n N [--p 0.5 --alternative --conf-level]\n"
    "             -> estimate, conf_int (Clopper-Pearson), p_value, statistic (x), parameter (n)";
const char STATS_WILSON_HELP[] =
    "one-sample proportion test, Wilson CI: --x N --n N [--p 0.5 --correct true|false\n"
    "             --alternative --conf-level] -> estimate, conf_int, statistic, parameter, p_value";
const char STATS_POISSON_HELP[] =
    "exact CI of a rate: --events N --exposure T [--conf-level] -> rate, conf_int";
const char STATS_WILCOXON_HELP[] =
    "Wilcoxon test: --input F with --x COL --y COL (paired), --x COL (one sample) or\n"
    "             --value COL --group COL (rank sum) [--mu --alternative --exact --correct\n"
    "             --conf-level] -> statistic, p_value, estimate, conf_int, conf_level, method, n\n"
    "             (rows used), n_nonzero (signed rank), n_x, n_y, groups, warnings";
const char STATS_TTEST_HELP[] =
    "t test (paired, one sample, Welch): selectors as wilcoxon [--mu --alternative\n"
    "             --conf-level] -> statistic, df, p_value, estimate (mean, mean difference or\n"
    "             mean x - mean y), estimates (two samples), conf_int, stderr, method, n";
const char STATS_FISHER_HELP[] =
    "Fisher's exact test, 2x2: --table a,b,c,d ([[a,b],[c,d]]) or --input F --x COL --y COL\n"
    "             [--alternative --conf-level] -> p_value, estimate (conditional MLE odds\n"
    "             ratio), conf_int, table";
const char STATS_CHISQ_HELP[] =
    "chi-squared test: --table a,b,c,d (2x2) or --input F --x COL --y COL (r x c)\n"
    "             [--correct true|false] -> statistic, df, p_value, expected, method, warnings";
const char STATS_QUANTILE_HELP[] =
    "descriptives: --input F --value COL -> n, median, q1, q3, iqr (quantile type 7),\n"
    "             mean, sd, min, max";
const char STATS_SAMPLESIZE_HELP[] =
    "one proportion vs a benchmark: --p0 0.70 --p1 0.87 [--alpha 0.05 --power 0.80\n"
    "             --dropout 0 --method normal|exact] -> n_normal, n_normal_raw, n_exact,\n"
    "             critical_value, alpha_exact, power_exact, n (of --method), n_with_dropout;\n"
    "             precision: --x N --n N (or --p1 P --n N) [--conf-level] -> conf_int,\n"
    "             half_width; --p1 P --half-width W -> n_precision, half_width_achieved";

/* ---- JSON building: one failure flag instead of a check per call ---- */

struct jb {
    json_t *o;
    bool failed;
};

static void jb_init(struct jb *b)
{
    b->o = json_object();
    b->failed = b->o == NULL;
}

static void jb_set(struct jb *b, const char *key, json_t *v)
{
    if (!v || !b->o || json_object_set_new(b->o, key, v) != 0)
        b->failed = true;
}

static void jb_num(struct jb *b, const char *key, double v)
{
    jb_set(b, key, stats_json_num(v));
}
static void jb_int(struct jb *b, const char *key, long v)
{
    jb_set(b, key, json_integer(v));
}
static void jb_str(struct jb *b, const char *key, const char *v)
{
    jb_set(b, key, json_string(v));
}

static void jb_ci(struct jb *b, const double ci[2])
{
    jb_set(b, "conf_int", stats_json_nums(ci, 2));
}

static const char *alt_name(int alt)
{
    return alt < 0 ? "less" : alt > 0 ? "greater" : "two.sided";
}

/* Hands the object to *out, or reports out of memory. */
static int jb_finish(struct jb *b, json_t **out, struct err *e)
{
    if (b->failed) {
        json_decref(b->o);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    *out = b->o;
    return 0;
}

/* ---- options ---- */

/* A whole, non-negative number option (a count). */
static int opt_count(const struct cli_args *a, const char *name, bool required, long def, long *out,
                     struct err *e)
{
    const char *v = cli_get(a, name);
    if (!v) {
        if (required)
            return err_set_field(e, ERR_USAGE, name, "--%s N is required", name);
        *out = def;
        return 0;
    }
    double d;
    int rc = stats_opt_double(a, name, 0, &d, e);
    if (rc)
        return rc;
    if (!(d >= 0) || d != floor(d) || d > (double)(LONG_MAX / 4))
        return err_set_field(e, ERR_INVALID, name,
                             "--%s: expected a non-negative whole number, got '%s'", name, v);
    *out = (long)d;
    return 0;
}

static int opt_required_double(const struct cli_args *a, const char *name, double *out,
                               struct err *e)
{
    if (!cli_get(a, name))
        return err_set_field(e, ERR_USAGE, name, "--%s is required", name);
    return stats_opt_double(a, name, 0, out, e);
}

/* --table a,b,c,d: four non-negative whole counts. */
static int opt_table4(const struct cli_args *a, struct arena *ar, double t[4], struct err *e)
{
    double *v;
    size_t n;
    int rc = stats_opt_doubles(a, "table", ar, &v, &n, e);
    if (rc)
        return rc;
    if (n != 4)
        return err_set_field(e, ERR_INVALID, "table",
                             "--table: expected 4 counts a,b,c,d (a 2x2 table), got %zu", n);
    for (size_t i = 0; i < 4; i++) {
        if (!(v[i] >= 0) || v[i] != floor(v[i]) || v[i] > (double)(LONG_MAX / 4))
            return err_set_field(e, ERR_INVALID, "table",
                                 "--table: entry %zu (%g) is not a non-negative whole count", i + 1,
                                 v[i]);
        t[i] = v[i];
    }
    return 0;
}

/* ---- data from the CSV ---- */

enum sample_kind { SAMPLE_ONE, SAMPLE_PAIRED, SAMPLE_TWO };

struct samples {
    enum sample_kind kind;
    double *x, *y;
    size_t nx, ny; /* paired: nx = ny = pairs */
    size_t n_omitted;
    const char *groups[2];
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_num_str(const void *a, const void *b)
{
    double u = strtod(*(const char *const *)a, NULL), v = strtod(*(const char *const *)b, NULL);
    return u < v ? -1 : u > v ? 1 : strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_number(const char *s)
{
    char *end;
    (void)strtod(s, &end); /* only where the number ends is wanted */
    return end != s && *end == '\0';
}

/* The sorted distinct values of text[0..n), copied into ar: in numeric order when every value
 * is a number (R's factor levels of a numeric vector), else in byte order (R in the C locale). */
static int levels_of(const char **text, size_t n, struct arena *ar, const char ***lev, size_t *nlev,
                     struct err *e)
{
    const char **s = arena_calloc(ar, n ? n : 1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory");
    memcpy(s, text, n * sizeof *s);
    bool numeric = true;
    for (size_t i = 0; i < n && numeric; i++)
        numeric = is_number(s[i]);
    qsort(s, n, sizeof *s, numeric ? cmp_num_str : cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(s[k - 1], s[i]) != 0)
            s[k++] = s[i];
    for (size_t i = 0; i < k; i++)
        if (!(s[i] = arena_strdup(ar, s[i])))
            return err_set(e, ERR_NOMEM, "out of memory");
    *lev = s;
    *nlev = k;
    return 0;
}

static size_t level_index(const char **lev, size_t nlev, const char *v)
{
    for (size_t i = 0; i < nlev; i++)
        if (strcmp(lev[i], v) == 0)
            return i;
    return nlev;
}

static int extract_samples(const struct cli_args *a, const struct csv_table *t, struct arena *ar,
                           struct samples *s, struct err *e)
{
    const char *value = cli_get(a, "value"), *group = cli_get(a, "group");
    const char *x = cli_get(a, "x"), *y = cli_get(a, "y");
    struct stats_frame f;
    int rc;
    if (value || group) {
        if (!value || !group)
            return err_set_field(e, ERR_USAGE, value ? "group" : "value",
                                 "--value COL and --group COL go together");
        struct stats_col cols[2] = {{.name = value, .is_numeric = true},
                                    {.name = group, .is_numeric = false}};
        if ((rc = stats_frame_extract(t, cols, 2, ar, &f, e)))
            return rc;
        const char **lev;
        size_t nlev;
        if ((rc = levels_of(cols[1].text, f.n, ar, &lev, &nlev, e)))
            return rc;
        if (nlev != 2)
            return err_set_field(e, ERR_INVALID, group,
                                 "column '%s' must hold exactly 2 groups (non-missing), found %zu",
                                 group, nlev);
        s->kind = SAMPLE_TWO;
        s->groups[0] = lev[0];
        s->groups[1] = lev[1];
        s->x = arena_calloc(ar, f.n, sizeof(double));
        s->y = arena_calloc(ar, f.n, sizeof(double));
        if (!s->x || !s->y)
            return err_set(e, ERR_NOMEM, "out of memory");
        s->nx = s->ny = 0;
        for (size_t i = 0; i < f.n; i++) {
            if (strcmp(cols[1].text[i], lev[0]) == 0)
                s->x[s->nx++] = cols[0].num[i];
            else
                s->y[s->ny++] = cols[0].num[i];
        }
    } else if (x) {
        struct stats_col cols[2] = {{.name = x, .is_numeric = true},
                                    {.name = y, .is_numeric = true}};
        if ((rc = stats_frame_extract(t, cols, y ? 2 : 1, ar, &f, e)))
            return rc;
        s->kind = y ? SAMPLE_PAIRED : SAMPLE_ONE;
        s->x = cols[0].num;
        s->y = y ? cols[1].num : NULL;
        s->nx = s->ny = f.n;
        if (f.n == 0)
            return err_set_field(e, ERR_INVALID, x, "no complete rows in column%s '%s'%s%s",
                                 y ? "s" : "", x, y ? " and " : "", y ? y : "");
    } else {
        return err_set_field(e, ERR_USAGE, "x",
                             "give --x COL --y COL (paired), --x COL (one sample) or "
                             "--value COL --group COL (two samples)");
    }
    s->n_omitted = f.n_omitted;
    return 0;
}

/* Reads --input and the columns the selectors name. */
static int load_samples(const struct cli_args *a, struct arena *ar, struct samples *s,
                        struct err *e)
{
    struct csv_table t;
    memset(&t, 0, sizeof t);
    int rc = stats_load_input(a, &t, e);
    if (rc == 0)
        rc = extract_samples(a, &t, ar, s, e);
    csv_table_free(&t);
    return rc;
}

/* The contingency table of two text columns (--x rows, --y columns), levels sorted. */
struct xtab {
    const char **rows, **cols;
    size_t nr, nc;
    double *counts; /* row-major */
    size_t n_omitted;
};

static int load_xtab(const struct cli_args *a, struct arena *ar, struct xtab *x, struct err *e)
{
    const char *cx = cli_get(a, "x"), *cy = cli_get(a, "y");
    if (!cx || !cy)
        return err_set_field(e, ERR_USAGE, cx ? "y" : "x",
                             "give --table a,b,c,d or --input FILE --x COL --y COL");
    struct csv_table t;
    memset(&t, 0, sizeof t);
    int rc = stats_load_input(a, &t, e);
    struct stats_col cols[2] = {{.name = cx, .is_numeric = false},
                                {.name = cy, .is_numeric = false}};
    struct stats_frame f;
    if (rc == 0)
        rc = stats_frame_extract(&t, cols, 2, ar, &f, e);
    if (rc == 0)
        rc = levels_of(cols[0].text, f.n, ar, &x->rows, &x->nr, e);
    if (rc == 0)
        rc = levels_of(cols[1].text, f.n, ar, &x->cols, &x->nc, e);
    if (rc == 0 && (x->nr < 2 || x->nc < 2))
        rc = err_set_field(e, ERR_INVALID, x->nr < 2 ? cx : cy,
                           "column '%s' must have at least 2 levels (non-missing)",
                           x->nr < 2 ? cx : cy);
    if (rc == 0 && !(x->counts = arena_calloc(ar, x->nr * x->nc, sizeof(double))))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0) {
        for (size_t i = 0; i < f.n; i++)
            x->counts[level_index(x->rows, x->nr, cols[0].text[i]) * x->nc +
                      level_index(x->cols, x->nc, cols[1].text[i])] += 1;
        x->n_omitted = f.n_omitted;
    }
    csv_table_free(&t);
    return rc;
}

static json_t *str_array(const char *const *s, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, json_string(s[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

/* A row-major r x c matrix as an array of row arrays. */
static json_t *matrix_json(const double *m, size_t nr, size_t nc)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < nr; i++)
        if (json_array_append_new(arr, stats_json_nums(m + i * nc, nc)) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

/* ---- methods ---- */

/* The keys binom and wilson share (R's htest fields for one proportion). */
static void jb_proportion(struct jb *b, int alt, double statistic, double parameter, double p_value,
                          double estimate, const double ci[2], double cl, double null_value)
{
    jb_str(b, "alternative", alt_name(alt));
    jb_num(b, "statistic", statistic);
    jb_num(b, "parameter", parameter);
    jb_num(b, "p_value", p_value);
    jb_num(b, "estimate", estimate);
    jb_ci(b, ci);
    jb_num(b, "conf_level", cl);
    jb_num(b, "null_value", null_value);
}

int stats_run_binom(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    (void)ar;
    long x = 0, n = 0;
    double p, cl;
    int alt, rc;
    if ((rc = opt_count(a, "x", true, 0, &x, e)) || (rc = opt_count(a, "n", true, 0, &n, e)) ||
        (rc = stats_opt_double(a, "p", 0.5, &p, e)) ||
        (rc = stats_opt_double(a, "conf-level", 0.95, &cl, e)) ||
        (rc = stats_opt_alternative(a, &alt, e)))
        return rc;
    struct binom_result r;
    if ((rc = binom_test(x, n, p, alt, cl, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method", "Exact binomial test");
    jb_proportion(&b, alt, r.statistic, r.parameter, r.p_value, r.estimate, r.conf_int, cl, p);
    return jb_finish(&b, out, e);
}

int stats_run_wilson(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    (void)ar;
    long x = 0, n = 0;
    double p, cl;
    bool correct;
    int alt, rc;
    if ((rc = opt_count(a, "x", true, 0, &x, e)) || (rc = opt_count(a, "n", true, 0, &n, e)) ||
        (rc = stats_opt_double(a, "p", 0.5, &p, e)) ||
        (rc = stats_opt_double(a, "conf-level", 0.95, &cl, e)) ||
        (rc = stats_opt_bool(a, "correct", true, &correct, e)) ||
        (rc = stats_opt_alternative(a, &alt, e)))
        return rc;
    struct prop_result r;
    if ((rc = binom_prop_test_one(x, n, p, alt, cl, correct, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method",
           correct ? "1-sample proportions test with continuity correction"
                   : "1-sample proportions test without continuity correction");
    jb_proportion(&b, alt, r.statistic, r.parameter, r.p_value, r.estimate, r.conf_int, cl, p);
    const char *w = "Chi-squared approximation may be incorrect";
    jb_set(&b, "warnings", str_array(&w, r.approx_warning ? 1 : 0));
    return jb_finish(&b, out, e);
}

int stats_run_poisson(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    (void)ar;
    long events = 0;
    double exposure, cl;
    int rc;
    if ((rc = opt_count(a, "events", true, 0, &events, e)) ||
        (rc = opt_required_double(a, "exposure", &exposure, e)) ||
        (rc = stats_opt_double(a, "conf-level", 0.95, &cl, e)))
        return rc;
    struct poisson_ci r;
    if ((rc = binom_poisson_rate_ci(events, exposure, cl, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_int(&b, "events", events);
    jb_num(&b, "exposure", exposure);
    jb_num(&b, "rate", r.rate);
    jb_ci(&b, r.conf_int);
    jb_num(&b, "conf_level", cl);
    return jb_finish(&b, out, e);
}

/* Options shared by the location tests. */
static int location_opts(const struct cli_args *a, double *mu, int *alt, double *cl, struct err *e)
{
    int rc;
    if ((rc = stats_opt_double(a, "mu", 0, mu, e)) || (rc = stats_opt_alternative(a, alt, e)) ||
        (rc = stats_opt_double(a, "conf-level", 0.95, cl, e)))
        return rc;
    return 0;
}

static void samples_json(struct jb *b, const struct samples *s)
{
    jb_int(b, "n", (long)(s->kind == SAMPLE_TWO ? s->nx + s->ny : s->nx));
    if (s->kind == SAMPLE_TWO) {
        jb_int(b, "n_x", (long)s->nx);
        jb_int(b, "n_y", (long)s->ny);
        jb_set(b, "groups", str_array(s->groups, 2));
    }
    jb_int(b, "n_omitted", (long)s->n_omitted);
}

int stats_run_wilcoxon(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    struct wilcox_opts o = wilcox_default_opts();
    int alt, rc;
    bool exact_set = cli_get(a, "exact") != NULL, exact;
    if ((rc = location_opts(a, &o.mu, &alt, &o.conf_level, e)) ||
        (rc = stats_opt_bool(a, "exact", false, &exact, e)) ||
        (rc = stats_opt_bool(a, "correct", true, &o.correct, e)))
        return rc;
    o.alt = alt;
    o.exact = exact_set ? exact : -1;
    struct samples s;
    if ((rc = load_samples(a, ar, &s, e)))
        return rc;
    struct wilcox_result r;
    if (s.kind == SAMPLE_TWO)
        rc = wilcox_rank_sum(s.x, s.nx, s.y, s.ny, &o, ar, &r, e);
    else if (s.kind == SAMPLE_PAIRED)
        rc = wilcox_paired(s.x, s.y, s.nx, &o, ar, &r, e);
    else
        rc = wilcox_signed_rank(s.x, s.nx, &o, ar, &r, e);
    if (rc)
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method", r.method);
    jb_str(&b, "alternative", alt_name(alt));
    jb_num(&b, "statistic", r.statistic);
    jb_num(&b, "p_value", r.p_value);
    jb_num(&b, "estimate", r.estimate);
    jb_ci(&b, r.conf_int);
    jb_num(&b, "conf_level", r.conf_level);
    jb_num(&b, "null_value", o.mu);
    jb_set(&b, "exact", json_boolean(r.is_exact));
    samples_json(&b, &s);
    if (s.kind != SAMPLE_TWO)
        jb_int(&b, "n_nonzero", (long)r.n);
    jb_set(&b, "warnings", str_array(r.warnings.msg, r.warnings.n));
    return jb_finish(&b, out, e);
}

int stats_run_ttest(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    double mu, cl;
    int alt, rc;
    if ((rc = location_opts(a, &mu, &alt, &cl, e)))
        return rc;
    struct samples s;
    if ((rc = load_samples(a, ar, &s, e)))
        return rc;
    struct ttest_result r;
    const char *method;
    if (s.kind == SAMPLE_TWO) {
        rc = ttest_welch(s.x, s.nx, s.y, s.ny, mu, alt, cl, &r, e);
        method = "Welch Two Sample t-test";
    } else if (s.kind == SAMPLE_PAIRED) {
        rc = ttest_paired(s.x, s.y, s.nx, mu, alt, cl, ar, &r, e);
        method = "Paired t-test";
    } else {
        rc = ttest_one(s.x, s.nx, mu, alt, cl, &r, e);
        method = "One Sample t-test";
    }
    if (rc)
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method", method);
    jb_str(&b, "alternative", alt_name(alt));
    jb_num(&b, "statistic", r.statistic);
    jb_num(&b, "df", r.df);
    jb_num(&b, "p_value", r.p_value);
    jb_num(&b, "estimate", r.estimate);
    if (s.kind == SAMPLE_TWO) {
        double est[2] = {r.estimate_x, r.estimate_y};
        jb_set(&b, "estimates", stats_json_nums(est, 2));
    }
    jb_ci(&b, r.conf_int);
    jb_num(&b, "conf_level", cl);
    jb_num(&b, "stderr", r.stderr_);
    jb_num(&b, "null_value", mu);
    samples_json(&b, &s);
    return jb_finish(&b, out, e);
}

int stats_run_fisher(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    double cl;
    int alt, rc;
    if ((rc = stats_opt_double(a, "conf-level", 0.95, &cl, e)) ||
        (rc = stats_opt_alternative(a, &alt, e)))
        return rc;
    double t[4];
    struct xtab x = {0};
    bool from_input = !cli_get(a, "table");
    if (!from_input) {
        rc = opt_table4(a, ar, t, e);
    } else {
        rc = load_xtab(a, ar, &x, e);
        if (rc == 0 && (x.nr != 2 || x.nc != 2))
            rc = err_set_field(e, ERR_UNSUPPORTED, x.nr != 2 ? cli_get(a, "x") : cli_get(a, "y"),
                               "fisher handles 2x2 tables only; the table of '%s' by '%s' is "
                               "%zu x %zu",
                               cli_get(a, "x"), cli_get(a, "y"), x.nr, x.nc);
        if (rc == 0)
            memcpy(t, x.counts, sizeof t);
    }
    if (rc)
        return rc;
    struct fisher_result r;
    if ((rc = fisher_test_2x2((long)t[0], (long)t[1], (long)t[2], (long)t[3], alt, cl, ar, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method", "Fisher's Exact Test for Count Data");
    jb_str(&b, "alternative", alt_name(alt));
    jb_num(&b, "p_value", r.p_value);
    jb_num(&b, "estimate", r.estimate);
    jb_ci(&b, r.conf_int);
    jb_num(&b, "conf_level", cl);
    jb_set(&b, "table", matrix_json(t, 2, 2));
    if (from_input) {
        jb_set(&b, "rows", str_array(x.rows, 2));
        jb_set(&b, "cols", str_array(x.cols, 2));
        jb_int(&b, "n_omitted", (long)x.n_omitted);
    }
    return jb_finish(&b, out, e);
}

int stats_run_chisq(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    bool correct;
    int rc;
    if ((rc = stats_opt_bool(a, "correct", true, &correct, e)))
        return rc;
    double t4[4];
    struct xtab x = {0};
    bool from_input = !cli_get(a, "table");
    if (!from_input) {
        if ((rc = opt_table4(a, ar, t4, e)))
            return rc;
        x.counts = t4;
        x.nr = x.nc = 2;
    } else if ((rc = load_xtab(a, ar, &x, e))) {
        return rc;
    }
    struct chisq_result r;
    if ((rc = chisq_test(x.counts, x.nr, x.nc, correct, ar, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_str(&b, "method",
           r.yates > 0 ? "Pearson's Chi-squared test with Yates' continuity correction"
                       : "Pearson's Chi-squared test");
    jb_num(&b, "statistic", r.statistic);
    jb_num(&b, "df", r.df);
    jb_num(&b, "p_value", r.p_value);
    jb_set(&b, "observed", matrix_json(x.counts, x.nr, x.nc));
    jb_set(&b, "expected", matrix_json(r.expected, x.nr, x.nc));
    if (from_input) {
        jb_set(&b, "rows", str_array(x.rows, x.nr));
        jb_set(&b, "cols", str_array(x.cols, x.nc));
        jb_int(&b, "n_omitted", (long)x.n_omitted);
    }
    const char *w = "Chi-squared approximation may be incorrect";
    jb_set(&b, "warnings", str_array(&w, r.approx_warning ? 1 : 0));
    return jb_finish(&b, out, e);
}

int stats_run_quantile(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    const char *col = cli_get(a, "value");
    if (!col)
        return err_set_field(e, ERR_USAGE, "value", "--value COL is required");
    struct csv_table t;
    memset(&t, 0, sizeof t);
    struct stats_col c = {.name = col, .is_numeric = true};
    struct stats_frame f;
    int rc = stats_load_input(a, &t, e);
    if (rc == 0)
        rc = stats_frame_extract(&t, &c, 1, ar, &f, e);
    csv_table_free(&t);
    if (rc)
        return rc;
    if (f.n == 0)
        return err_set_field(e, ERR_INVALID, col, "column '%s' has no non-missing values", col);
    struct describe_result r;
    if ((rc = describe(c.num, f.n, ar, &r, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    jb_int(&b, "n", (long)r.n);
    jb_int(&b, "n_omitted", (long)f.n_omitted);
    jb_num(&b, "median", r.median);
    jb_num(&b, "q1", r.q1);
    jb_num(&b, "q3", r.q3);
    jb_num(&b, "iqr", r.iqr);
    jb_num(&b, "mean", r.mean);
    jb_num(&b, "sd", r.sd);
    jb_num(&b, "min", r.min);
    jb_num(&b, "max", r.max);
    return jb_finish(&b, out, e);
}

/* samplesize --p0 ... : the design figures. */
static int samplesize_design(const struct cli_args *a, struct jb *b, struct err *e)
{
    double p0, p1, alpha, power, dropout, raw;
    int rc;
    if ((rc = opt_required_double(a, "p0", &p0, e)) ||
        (rc = opt_required_double(a, "p1", &p1, e)) ||
        (rc = stats_opt_double(a, "alpha", 0.05, &alpha, e)) ||
        (rc = stats_opt_double(a, "power", 0.80, &power, e)) ||
        (rc = stats_opt_double(a, "dropout", 0, &dropout, e)))
        return rc;
    const char *method = cli_get(a, "method") ? cli_get(a, "method") : "normal";
    if (strcmp(method, "normal") != 0 && strcmp(method, "exact") != 0)
        return err_set_field(e, ERR_USAGE, "method", "--method: expected normal or exact, got '%s'",
                             method);
    if (!(dropout >= 0 && dropout < 1))
        return err_set_field(e, ERR_INVALID, "dropout", "--dropout must be in [0, 1) (got %g)",
                             dropout);
    long n_normal;
    struct samplesize_exact x;
    if ((rc = samplesize_prop_normal(p0, p1, alpha, power, &raw, &n_normal, e)) ||
        (rc = samplesize_prop_exact(p0, p1, alpha, power, &x, e)))
        return rc;
    long n = strcmp(method, "exact") == 0 ? x.n : n_normal;
    jb_num(b, "p0", p0);
    jb_num(b, "p1", p1);
    jb_num(b, "alpha", alpha);
    jb_num(b, "power", power);
    jb_num(b, "n_normal_raw", raw);
    jb_int(b, "n_normal", n_normal);
    jb_int(b, "n_exact", x.n);
    jb_int(b, "critical_value", x.critical_value);
    jb_num(b, "alpha_exact", x.alpha_exact);
    jb_num(b, "power_exact", x.power_exact);
    jb_str(b, "method", method);
    jb_int(b, "n", n);
    jb_num(b, "dropout", dropout);
    jb_int(b, "n_with_dropout", samplesize_inflate(n, dropout));
    return 0;
}

/* samplesize --n N with --x N or --p1 P: the exact CI's half-width. */
static int samplesize_precision_ci(const struct cli_args *a, struct jb *b, double cl, struct err *e)
{
    long n;
    double x, p1;
    int rc;
    if ((rc = opt_count(a, "n", true, 0, &n, e)))
        return rc;
    if (cli_get(a, "x")) {
        long xi;
        if ((rc = opt_count(a, "x", true, 0, &xi, e)))
            return rc;
        x = (double)xi;
    } else {
        if ((rc = opt_required_double(a, "p1", &p1, e)))
            return rc;
        if (!(p1 >= 0 && p1 <= 1))
            return err_set_field(e, ERR_INVALID, "p1", "--p1 must be in [0, 1] (got %g)", p1);
        x = p1 * (double)n;
    }
    struct precision_result r;
    if ((rc = samplesize_precision_exact_ci(x, (double)n, cl, &r, e)))
        return rc;
    jb_num(b, "x", x);
    jb_int(b, "n", n);
    jb_num(b, "estimate", x / (double)n);
    jb_ci(b, r.conf_int);
    jb_num(b, "conf_level", cl);
    jb_num(b, "half_width", r.half_width);
    return 0;
}

int stats_run_samplesize(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e)
{
    (void)ar;
    double cl;
    int rc;
    if ((rc = stats_opt_double(a, "conf-level", 0.95, &cl, e)))
        return rc;
    struct jb b;
    jb_init(&b);
    if (cli_get(a, "p0")) {
        rc = samplesize_design(a, &b, e);
    } else if (cli_get(a, "half-width")) {
        double p1, hw, achieved;
        long n;
        if ((rc = opt_required_double(a, "p1", &p1, e)) == 0 &&
            (rc = stats_opt_double(a, "half-width", 0, &hw, e)) == 0 &&
            (rc = samplesize_precision(p1, hw, cl, &n, &achieved, e)) == 0) {
            jb_num(&b, "p1", p1);
            jb_num(&b, "half_width", hw);
            jb_num(&b, "conf_level", cl);
            jb_int(&b, "n_precision", n);
            jb_num(&b, "half_width_achieved", achieved);
        }
    } else if (cli_get(a, "n")) {
        rc = samplesize_precision_ci(a, &b, cl, e);
    } else {
        rc = err_set_field(e, ERR_USAGE, "p0",
                           "give --p0 P --p1 P (design), --x N --n N or --p1 P --n N "
                           "(precision), or --p1 P --half-width W");
    }
    if (rc) {
        json_decref(b.o);
        return rc;
    }
    return jb_finish(&b, out, e);
}
