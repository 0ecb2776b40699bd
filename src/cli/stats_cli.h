/* Shared plumbing for `ioheme stats METHOD`: the method table's row type, reading the input CSV
 * into numeric/text columns with R's na.omit rule, and JSON output of numbers.
 *
 * Each method is a function that reads its options from a cli_args, computes with src/stats/
 * and returns a JSON object (owned by the caller). Errors name the row (file line) and column. */
#ifndef IOHEME_CLI_STATS_CLI_H
#define IOHEME_CLI_STATS_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "cli/cli.h"
#include "formats/csv.h"

struct stats_method {
    const char *name;
    int (*run)(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
    const char *summary;
    /* The options the method reads, space-separated, without dashes. Any other option is a
     * usage error: a statistician who asks for --strata on cox must not get an unstratified
     * fit without being told. */
    const char *options;
};

/* The methods, NULL-name terminated (cmd_stats.c). */
extern const struct stats_method stats_methods[];

/* One requested column of the frame. */
struct stats_col {
    const char *name;  /* CSV header; the column must exist */
    bool is_numeric;   /* numeric: parsed as double; else kept as text */
    double *num;       /* filled: n values (numeric columns) */
    const char **text; /* filled: n values (text columns) */
};

/* The complete-case rows of the requested columns. */
struct stats_frame {
    size_t n;         /* rows kept */
    size_t n_omitted; /* rows dropped because a requested column was NA or empty */
    size_t *line;     /* line[i]: the CSV line of kept row i (for error messages) */
};

/* Reads --input (required) into t; a missing option or unreadable file is an error. */
int stats_load_input(const struct cli_args *a, struct csv_table *t, struct err *e);
/* Extracts cols[0..k) from t, dropping rows where any is "NA" or empty (R's na.omit).
 * A non-numeric value in a numeric column is an error naming line and column. Arrays are
 * allocated in ar. */
int stats_frame_extract(const struct csv_table *t, struct stats_col *cols, size_t k,
                        struct arena *ar, struct stats_frame *f, struct err *e);

/* Parses a number option (NULL value -> def). Errors name the option. */
int stats_opt_double(const struct cli_args *a, const char *name, double def, double *out,
                     struct err *e);
/* Parses "true"/"false" (NULL -> def). */
int stats_opt_bool(const struct cli_args *a, const char *name, bool def, bool *out, struct err *e);
/* Parses a comma-separated list of numbers ("28,90") into ar; *n = count. */
int stats_opt_doubles(const struct cli_args *a, const char *name, struct arena *ar, double **out,
                      size_t *n, struct err *e);
/* --alternative: two.sided (0), less (-1), greater (1). */
int stats_opt_alternative(const struct cli_args *a, int *alt, struct err *e);

/* A JSON number; NaN/NA -> null, +Inf -> "Inf", -Inf -> "-Inf" (JSON has no infinities). */
json_t *stats_json_num(double x);
/* A JSON array of n numbers by the same rule. */
json_t *stats_json_nums(const double *x, size_t n);

#endif
