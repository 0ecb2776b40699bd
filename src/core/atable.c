/* Analysis tables (see atable.h). */
#include "core/atable.h"
#include "base/array.h"
#include "base/fmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

const char *atable_col_type_name(enum acol_type t)
{
    switch (t) {
    case ACOL_TEXT:
        return "text";
    case ACOL_INT:
        return "integer";
    case ACOL_NUM:
        return "number";
    case ACOL_BOOL:
        return "boolean";
    case ACOL_DATE:
        return "date";
    case ACOL_DATETIME:
        return "datetime";
    }
    return "text";
}

void atable_init(struct atable *t, const char *name, const struct acol *cols, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->cols = cols;
    t->ncols = ncols;
}

void atable_free(struct atable *t)
{
    free(t->cells);
    arena_free(&t->arena);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void atable_clear(struct atable *t)
{
    arena_reset(&t->arena);
    t->nrows = 0;
}

int atable_add_row(struct atable *t, size_t *row)
{
    /* a row is ncols cells: the array grows a row at a time */
    char **c = array_grow(t->cells, t->nrows, &t->cap, t->ncols * sizeof *c, 64);
    if (!c)
        return ERR_NOMEM;
    t->cells = c;
    memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof *t->cells);
    *row = t->nrows++;
    return 0;
}

int atable_set(struct atable *t, size_t row, size_t col, const char *s)
{
    if (row >= t->nrows || col >= t->ncols)
        return ERR_INTERNAL;
    if (!s || !*s) {
        t->cells[row * t->ncols + col] = NULL;
        return 0;
    }
    char *c = arena_strdup(&t->arena, s);
    if (!c)
        return ERR_NOMEM;
    t->cells[row * t->ncols + col] = c;
    return 0;
}

/* n in decimal (what %lld prints), written backwards from the end of buf; returns its start. */
static char *whole_text(long long n, char buf[24])
{
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    char *p = buf + 24;
    *--p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (n < 0)
        *--p = '-';
    return p;
}

int atable_set_int(struct atable *t, size_t row, size_t col, long long v)
{
    char buf[24];
    return atable_set(t, row, col, whole_text(v, buf));
}

int atable_set_num(struct atable *t, size_t row, size_t col, double v)
{
    if (!isfinite(v))
        return atable_set(t, row, col, NULL);
    char buf[64];
    if (v == 0)
        v = 0;                           /* no "-0" */
    if (v == trunc(v) && fabs(v) < 1e12) /* what %.12g prints of a whole number, faster */
        return atable_set(t, row, col, whole_text((long long)v, buf));
    fmt_exact(buf, sizeof buf, "%.12g", v);
    return atable_set(t, row, col, buf);
}

int atable_set_opt(struct atable *t, size_t row, size_t col, bool has, double v)
{
    return has ? atable_set_num(t, row, col, v) : 0;
}

const char *atable_get(const struct atable *t, size_t row, size_t col)
{
    if (row >= t->nrows || col >= t->ncols)
        return NULL;
    return t->cells[row * t->ncols + col];
}

bool atable_num(const struct atable *t, size_t row, size_t col, double *out)
{
    const char *s = atable_get(t, row, col);
    if (!s)
        return false;
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x))
        return false;
    *out = x;
    return true;
}

int atable_col(const struct atable *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}
