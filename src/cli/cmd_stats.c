/* `ioheme stats METHOD --input FILE.csv [options]`: any single method of the statistics engine on
 * a CSV file, printed as JSON, so a statistician can hold every number against R. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/stats_cli.h"
#include "cli/stats_methods.h"
#include "cli/stats_surv.h"
#include "formats/json_out.h"

const char CMD_STATS_USAGE[] =
    "usage: ioheme stats METHOD [--input FILE.csv] [options]\n"
    "\n"
    "Runs one statistical method and prints its result as JSON. Methods follow R's definitions\n"
    "and defaults (see docs/sap.md); keys are R's names in snake_case. NA or an empty cell is a\n"
    "missing value: the row is left out (R's na.omit) and counted in \"n_omitted\".\n"
    "Non-finite numbers print as null (NA/NaN) or \"Inf\"/\"-Inf\".\n"
    "\n"
    "Options (which apply depends on the method; one that does not apply is an error):\n"
    "  --input FILE.csv       data, with a header row\n"
    "  --time COL --event COL survival time and status (1 event, 0 censored)\n"
    "  --group COL            grouping column; --strata COL stratification column (logrank)\n"
    "  --covariates a,b       Cox covariates (a text column is a factor; first sorted level is\n"
    "                         the reference)\n"
    "  --x COL --y COL        paired samples; --value COL --group COL two samples\n"
    "  --x N --n N            counts for binom/wilson;  --events N --exposure T for poisson\n"
    "  --table a,b,c,d        2x2 table [[a,b],[c,d]] for fisher/chisq\n"
    "  --conf-type log|log-log|plain   --times 28,90   --conf-level 0.95\n"
    "  --alternative two.sided|less|greater   --mu X   --p X   --exact true|false\n"
    "  --correct true|false   --rho 0|1   --ties efron|breslow\n"
    "\n"
    "Methods:\n";

static const struct cli_opt_spec stats_opts[] = {
    {"input", true},       {"time", true},       {"event", true},    {"group", true},
    {"strata", true},      {"covariates", true}, {"x", true},        {"y", true},
    {"value", true},       {"conf-type", true},  {"times", true},    {"conf-level", true},
    {"alternative", true}, {"mu", true},         {"p", true},        {"exact", true},
    {"correct", true},     {"rho", true},        {"ties", true},     {"n", true},
    {"table", true},       {"events", true},     {"exposure", true}, {"p0", true},
    {"p1", true},          {"alpha", true},      {"power", true},    {"half-width", true},
    {"dropout", true},     {"method", true},     {NULL, false},
};

#define SURV_OPTS "input time event "
#define SAMPLE_OPTS "input x y value group mu alternative conf-level "
const struct stats_method stats_methods[] = {
    {"km", stats_run_km, "Kaplan-Meier curves per group, median, CIs (survival::survfit)",
     SURV_OPTS "group conf-type conf-level times"},
    {"logrank", stats_run_logrank, "log-rank / Peto-Peto test, k groups, strata (survdiff)",
     SURV_OPTS "group strata rho"},
    {"cox", stats_run_cox, "Cox regression, Efron/Breslow ties (survival::coxph)",
     SURV_OPTS "covariates ties"},
    {"binom", stats_run_binom, STATS_BINOM_HELP, "x n p conf-level alternative"},
    {"wilson", stats_run_wilson, STATS_WILSON_HELP, "x n p conf-level correct alternative"},
    {"poisson", stats_run_poisson, STATS_POISSON_HELP, "events exposure conf-level"},
    {"wilcoxon", stats_run_wilcoxon, STATS_WILCOXON_HELP, SAMPLE_OPTS "exact correct"},
    {"ttest", stats_run_ttest, STATS_TTEST_HELP, SAMPLE_OPTS},
    {"fisher", stats_run_fisher, STATS_FISHER_HELP, "table input x y conf-level alternative"},
    {"chisq", stats_run_chisq, STATS_CHISQ_HELP, "table input x y correct"},
    {"quantile", stats_run_quantile, STATS_QUANTILE_HELP, "input value"},
    {"samplesize", stats_run_samplesize, STATS_SAMPLESIZE_HELP,
     "p0 p1 alpha power dropout method conf-level half-width n x"},
    {NULL, NULL, NULL, NULL},
};

/* Whether the space-separated list has the word name. */
static bool opt_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (w == len && strncmp(p, name, len) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

static void stats_print_methods(FILE *out)
{
    for (const struct stats_method *m = stats_methods; m->name; m++)
        (void)fprintf(out, "  %-10s %s\n", m->name, m->summary);
}

int cmd_stats(struct cmd_ctx *ctx)
{
    int argc = ctx->argc;
    char **argv = ctx->argv;
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        (void)fputs(CMD_STATS_USAGE, argc < 1 ? stderr : stdout);
        stats_print_methods(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const struct stats_method *m = stats_methods;
    while (m->name && strcmp(m->name, argv[0]) != 0)
        m++;
    if (!m->name)
        return cli_usage_error("stats", "unknown method '%s'", argv[0]);

    int st = cli_ctx_name(ctx, m->name); /* "stats km", for messages */
    if (st)
        return st;
    const char *cmdname = ctx->name;
    struct cli_args a;
    if (cli_parse(cmdname, argc - 1, argv + 1, stats_opts, &a) != 0)
        return 2;
    if (a.help) {
        (void)fputs(CMD_STATS_USAGE, stdout);
        stats_print_methods(stdout);
        return 0;
    }
    if (a.npos)
        return cli_usage_error(cmdname, "unexpected argument '%s'", a.pos[0]);
    for (size_t i = 0; i < a.nopts; i++)
        if (!opt_listed(m->options, a.opt_name[i]))
            return cli_usage_error(cmdname, "--%s does not apply to %s (its options: %s)",
                                   a.opt_name[i], m->name, m->options);

    struct arena ar = ARENA_INIT;
    struct err e;
    err_clear(&e);
    json_t *out = NULL;
    int rc = m->run(&a, &ar, &out, &e);
    if (rc == 0 && out) {
        char *s = json_out_dumps(out, JSON_INDENT(2));
        if (s) {
            puts(s);
            free(s);
        } else {
            rc = err_set(&e, ERR_NOMEM, "out of memory");
        }
    }
    json_decref(out);
    arena_free(&ar);
    return rc ? cli_fail(cmdname, &e) : 0;
}

/* ---- shared helpers for the methods ---- */

int stats_load_input(const struct cli_args *a, struct csv_table *t, struct err *e)
{
    const char *path = cli_get(a, "input");
    if (!path || !*path)
        return err_set_field(e, ERR_USAGE, "input", "--input FILE.csv is required");
    return csv_read_file(path, t, e);
}

static bool is_missing(const char *s)
{
    return s[0] == '\0' || strcmp(s, "NA") == 0;
}

static int parse_double(const char *s, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    /* "nan" would pass strtod and then fail far from its cell: refuse it here, with its cell */
    if (end == s || *end != '\0' || errno == ERANGE || isnan(v))
        return -1;
    *out = v;
    return 0;
}

int stats_frame_extract(const struct csv_table *t, struct stats_col *cols, size_t k,
                        struct arena *ar, struct stats_frame *f, struct err *e)
{
    int idx[32];
    if (k > 32)
        return err_set(e, ERR_USAGE, "too many columns");
    for (size_t j = 0; j < k; j++) {
        idx[j] = csv_col(t, cols[j].name);
        if (idx[j] < 0)
            return err_set_field(e, ERR_INVALID, cols[j].name, "no column '%s' in the input",
                                 cols[j].name);
        /* R's read.csv would rename the second one (a.1); taking either silently is a guess */
        for (size_t c = (size_t)idx[j] + 1; c < t->ncols; c++)
            if (strcmp(t->header[c], cols[j].name) == 0)
                return err_set_field(e, ERR_INVALID, cols[j].name,
                                     "column '%s' appears more than once in the header "
                                     "(columns %d and %zu)",
                                     cols[j].name, idx[j] + 1, c + 1);
        if (cols[j].is_numeric)
            cols[j].num = arena_calloc(ar, t->nrows + 1, sizeof(double));
        else
            cols[j].text = arena_calloc(ar, t->nrows + 1, sizeof(char *));
        if (cols[j].is_numeric ? !cols[j].num : !cols[j].text)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    f->line = arena_calloc(ar, t->nrows + 1, sizeof(size_t));
    if (!f->line)
        return err_set(e, ERR_NOMEM, "out of memory");
    f->n = f->n_omitted = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        bool missing = false;
        for (size_t j = 0; j < k; j++)
            if (is_missing(t->rows[r][idx[j]]))
                missing = true;
        if (missing) {
            f->n_omitted++;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            const char *s = t->rows[r][idx[j]];
            if (cols[j].is_numeric) {
                if (parse_double(s, &cols[j].num[f->n]) != 0)
                    return err_set_field(e, ERR_INVALID, cols[j].name,
                                         "line %zu, column '%s': '%s' is not a number", t->line[r],
                                         cols[j].name, s);
            } else {
                cols[j].text[f->n] = s;
            }
        }
        f->line[f->n++] = t->line[r];
    }
    return 0;
}

int stats_opt_double(const struct cli_args *a, const char *name, double def, double *out,
                     struct err *e)
{
    const char *v = cli_get(a, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (parse_double(v, out) != 0)
        return err_set_field(e, ERR_USAGE, name, "--%s: '%s' is not a number", name, v);
    return 0;
}

int stats_opt_bool(const struct cli_args *a, const char *name, bool def, bool *out, struct err *e)
{
    const char *v = cli_get(a, name);
    if (!v)
        *out = def;
    else if (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "FALSE") == 0)
        *out = false;
    else
        return err_set_field(e, ERR_USAGE, name, "--%s: expected true or false, got '%s'", name, v);
    return 0;
}

int stats_opt_doubles(const struct cli_args *a, const char *name, struct arena *ar, double **out,
                      size_t *n, struct err *e)
{
    const char *v = cli_get(a, name);
    *out = NULL;
    *n = 0;
    if (!v)
        return 0;
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == ',';
    double *x = arena_calloc(ar, cap, sizeof(double));
    char *copy = arena_strdup(ar, v);
    if (!x || !copy)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (char *tok = copy, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (parse_double(tok, &x[k]) != 0)
            return err_set_field(e, ERR_USAGE, name, "--%s: '%s' is not a number", name, tok);
        k++;
    }
    *out = x;
    *n = k;
    return 0;
}

int stats_opt_alternative(const struct cli_args *a, int *alt, struct err *e)
{
    const char *v = cli_get(a, "alternative");
    if (!v || strcmp(v, "two.sided") == 0)
        *alt = 0;
    else if (strcmp(v, "less") == 0)
        *alt = -1;
    else if (strcmp(v, "greater") == 0)
        *alt = 1;
    else
        return err_set_field(e, ERR_USAGE, "alternative",
                             "--alternative: expected two.sided, less or greater, got '%s'", v);
    return 0;
}

json_t *stats_json_num(double x)
{
    if (isnan(x))
        return json_null();
    if (isinf(x))
        return json_string(x > 0 ? "Inf" : "-Inf");
    return json_real(x);
}

json_t *stats_json_nums(const double *x, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, stats_json_num(x[i]));
    return arr;
}
