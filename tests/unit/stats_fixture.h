/* Test helpers shared by the tests of src/stats/: reading the R-generated fixtures under
 * $IOHEME_FIXTURES/stats/ (CSV files written by tests/fixtures/stats/make.R with %.17g numbers
 * and NA/NaN/Inf spelled out) and comparing with R to a relative tolerance.
 *
 * Include after <cmocka.h>'s prerequisites; everything here is static, one copy per test. */
#ifndef IOHEME_TESTS_STATS_FIXTURE_H
#define IOHEME_TESTS_STATS_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "formats/csv.h"

/* Agreement with R demanded of every fixture value (most agree to the last bit). */
#define FX_REL 1e-9

/* Reads $IOHEME_FIXTURES/stats/<name> into t; fails the test when absent. */
__attribute__((unused)) static void fx_load(struct csv_table *t, const char *name)
{
    const char *dir = getenv("IOHEME_FIXTURES");
    assert_non_null(dir);
    char path[1024];
    int k = snprintf(path, sizeof path, "%s/stats/%s", dir, name);
    assert_true(k > 0 && (size_t)k < sizeof path);
    struct err e;
    err_clear(&e);
    if (csv_read_file(path, t, &e) != 0)
        fail_msg("cannot read fixture %s: %s", path, e.msg);
}

static const char *fx_str(const struct csv_table *t, size_t row, const char *col)
{
    int c = csv_col(t, col);
    if (c < 0)
        fail_msg("fixture has no column '%s'", col);
    return t->rows[row][c];
}

/* A fixture number: "NA"/"NaN" -> NaN, "Inf"/"-Inf" -> infinities, else strtod. */
__attribute__((unused)) static double fx_num(const struct csv_table *t, size_t row, const char *col)
{
    const char *s = fx_str(t, row, col);
    if (strcmp(s, "NA") == 0 || strcmp(s, "NaN") == 0)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end)
        fail_msg("fixture value '%s' in column '%s' is not a number", s, col);
    return v;
}

__attribute__((unused)) static int fx_bool(const struct csv_table *t, size_t row, const char *col)
{
    return strcmp(fx_str(t, row, col), "TRUE") == 0;
}

__attribute__((unused)) static int fx_alt(const struct csv_table *t, size_t row)
{
    const char *s = fx_str(t, row, "alternative");
    return strcmp(s, "less") == 0 ? -1 : strcmp(s, "greater") == 0 ? 1 : 0;
}

/* Equal as R sees it: both NaN, the same infinity, or within FX_REL relative (exactly equal
 * when R's value is 0). */
__attribute__((unused)) static int fx_close(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    if (want == 0)
        return got == 0;
    return fabs(got - want) <= FX_REL * fabs(want);
}

#define FX_CHECK(t, row, col, got)                                                                 \
    do {                                                                                           \
        double w_ = fx_num((t), (row), (col)), g_ = (got);                                         \
        if (!fx_close(g_, w_))                                                                     \
            fail_msg("fixture row %zu, %s: got %.17g, R gives %.17g", (size_t)(row) + 1, (col),    \
                     g_, w_);                                                                      \
    } while (0)

/* Loads data/<name>.csv and extracts numeric columns c1 (and c2 if not NULL), leaving out rows
 * where either is NA (R's complete cases). Arrays are allocated in ar. */
__attribute__((unused)) static void fx_data(const char *name, const char *c1, const char *c2,
                                            struct arena *ar, double **x, double **y, size_t *n)
{
    char file[256];
    snprintf(file, sizeof file, "data/%s.csv", name);
    struct csv_table t;
    fx_load(&t, file);
    *x = arena_calloc(ar, t.nrows + 1, sizeof(double));
    if (y)
        *y = arena_calloc(ar, t.nrows + 1, sizeof(double));
    *n = 0;
    for (size_t i = 0; i < t.nrows; i++) {
        double a = fx_num(&t, i, c1), b = c2 ? fx_num(&t, i, c2) : 0;
        if (isnan(a) || isnan(b))
            continue;
        (*x)[*n] = a;
        if (y)
            (*y)[*n] = b;
        (*n)++;
    }
    csv_table_free(&t);
}

/* Loads data/<name>.csv with a numeric value column and a text group column of exactly two
 * levels (rows with NA in either left out); x gets the first level in byte order, y the other,
 * as R's sort(unique(group)) does for ASCII labels. */
__attribute__((unused)) static void fx_groups(const char *name, struct arena *ar, double **x,
                                              size_t *nx, double **y, size_t *ny)
{
    char file[256];
    snprintf(file, sizeof file, "data/%s.csv", name);
    struct csv_table t;
    fx_load(&t, file);
    const char *first = NULL;
    for (size_t i = 0; i < t.nrows; i++) {
        const char *g = fx_str(&t, i, "group");
        if (strcmp(g, "NA") != 0 && (!first || strcmp(g, first) < 0))
            first = g;
    }
    *x = arena_calloc(ar, t.nrows + 1, sizeof(double));
    *y = arena_calloc(ar, t.nrows + 1, sizeof(double));
    *nx = *ny = 0;
    for (size_t i = 0; i < t.nrows; i++) {
        const char *g = fx_str(&t, i, "group");
        double v = fx_num(&t, i, "value");
        if (strcmp(g, "NA") == 0 || isnan(v))
            continue;
        if (strcmp(g, first) == 0)
            (*x)[(*nx)++] = v;
        else
            (*y)[(*ny)++] = v;
    }
    csv_table_free(&t);
}

#endif
