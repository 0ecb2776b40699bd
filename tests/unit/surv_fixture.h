/* Reading the R oracle fixtures of tests/fixtures/survival/ (km, logrank, cox .json) in the
 * survival unit tests (test_km.c, test_logrank.c, test_cox.c) and comparing numbers with a relative
 * tolerance.
 *
 * The fixtures are written by tests/fixtures/survival/make.R: numbers with 17 significant
 * digits, NA as null, infinities as "Inf"/"-Inf"; a length-1 R vector may be a scalar. */
#ifndef IOHEME_TESTS_SURV_FIXTURE_H
#define IOHEME_TESTS_SURV_FIXTURE_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads $IOHEME_FIXTURES/survival/<name>; aborts the test program when missing. Caller
 * json_decref()s. */
static inline json_t *fx_load(const char *name)
{
    const char *dir = getenv("IOHEME_FIXTURES");
    char path[4096];
    snprintf(path, sizeof path, "%s/survival/%s", dir ? dir : "tests/fixtures", name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, je.text, je.line);
        exit(1);
    }
    return j;
}

/* One JSON value as a double: null -> NaN, "Inf"/"-Inf" -> +-Inf. */
static inline double fx_val(const json_t *v)
{
    if (!v || json_is_null(v))
        return NAN;
    if (json_is_string(v))
        return strcmp(json_string_value(v), "-Inf") == 0 ? -INFINITY : INFINITY;
    return json_number_value(v);
}

/* Length of key's value: array size, 1 for a scalar, 0 when absent. */
static inline size_t fx_len(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return !v ? 0 : json_is_array(v) ? json_array_size(v) : 1;
}

/* key's value as a malloc'd array of doubles (caller frees); *n = length. */
static inline double *fx_nums(const json_t *o, const char *key, size_t *n)
{
    const json_t *v = json_object_get(o, key);
    size_t len = fx_len(o, key);
    double *x = calloc(len ? len : 1, sizeof *x);
    for (size_t i = 0; i < len; i++)
        x[i] = fx_val(json_is_array(v) ? json_array_get(v, i) : v);
    if (n)
        *n = len;
    return x;
}

/* key's value as a malloc'd array of ints (caller frees). */
static inline int *fx_ints(const json_t *o, const char *key, size_t *n)
{
    size_t len;
    double *d = fx_nums(o, key, &len);
    int *x = calloc(len ? len : 1, sizeof *x);
    for (size_t i = 0; i < len; i++)
        x[i] = (int)d[i];
    free(d);
    if (n)
        *n = len;
    return x;
}

static inline double fx_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return fx_val(json_is_array(v) ? json_array_get(v, 0) : v);
}

/* True when got matches want: both NaN, equal infinities, or relative difference <= tol
 * (absolute when want == 0). */
static inline int fx_close(double got, double want, double tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double d = fabs(got - want);
    return want == 0 ? d <= tol : d / fabs(want) <= tol;
}

/* Counts mismatches between got[0..n) and the fixture array key, printing each. */
static inline int fx_check(const char *ctx, const char *key, const double *got, size_t n,
                           const json_t *o, double tol)
{
    size_t m;
    double *want = fx_nums(o, key, &m);
    int bad = 0;
    if (m != n) {
        fprintf(stderr, "%s %s: length %zu, R has %zu\n", ctx, key, n, m);
        bad = 1;
    } else {
        for (size_t i = 0; i < n; i++)
            if (!fx_close(got[i], want[i], tol)) {
                fprintf(stderr, "%s %s[%zu]: got %.17g, R %.17g\n", ctx, key, i, got[i], want[i]);
                bad++;
            }
    }
    free(want);
    return bad;
}

/* Runs check(case) on every case of fixture file name; returns the number of failing cases, or
 * -1 when the file holds fewer than min_cases (a truncated fixture must not pass). */
static inline int fx_run_cases(const char *name, int (*check)(const json_t *), size_t min_cases)
{
    json_t *all = fx_load(name);
    size_t i;
    int failed = 0;
    json_t *c;
    json_array_foreach(all, i, c) failed += check(c) != 0;
    size_t ncases = json_array_size(all);
    json_decref(all);
    if (ncases < min_cases) {
        fprintf(stderr, "%s: only %zu cases\n", name, ncases);
        return -1;
    }
    return failed;
}

#endif
