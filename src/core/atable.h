/* Analysis tables: typed columns (name, type, unit, description, SAP section) and rows of
 * cells held as text exactly as they are written to CSV. The analysis always reads numbers
 * back from that text, so a report computed from the database and one computed from the
 * exported CSV files see the same values, to the last bit.
 *
 * A table owns its cells (in its arena); atable_free releases them. The column specs are
 * static and only pointed to. */
#ifndef IOHEME_CORE_ATABLE_H
#define IOHEME_CORE_ATABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

enum acol_type { ACOL_TEXT, ACOL_INT, ACOL_NUM, ACOL_BOOL, ACOL_DATE, ACOL_DATETIME };

struct derive_level;

struct acol {
    const char *name;
    enum acol_type type;
    const char *unit; /* "" when none */
    const char *desc;
    const char *sap; /* SAP section, e.g. "§4.1" */
    /* A categorical text column: every value it can hold, in the protocol's order (core/derive.h,
     * struct derive_level); NULL for the others. R's loader makes such a column a factor. */
    const struct derive_level *levels;
};

struct atable {
    const char *name; /* file name without ".csv", e.g. "subjects" */
    const struct acol *cols;
    size_t ncols;
    size_t nrows, cap;
    char **cells; /* nrows * ncols; NULL = missing */
    struct arena arena;
};

/* "text", "integer", "number", "boolean", "date", "datetime". */
const char *atable_col_type_name(enum acol_type t);

void atable_init(struct atable *t, const char *name, const struct acol *cols, size_t ncols);
void atable_free(struct atable *t);
/* Drops every row and cell, keeping the memory for the rows that come next. */
void atable_clear(struct atable *t);
/* Appends a row of missing cells; its index goes to *row. ERR_NOMEM on failure. */
int atable_add_row(struct atable *t, size_t *row);
/* Sets a cell (s copied; NULL or "" = missing). */
int atable_set(struct atable *t, size_t row, size_t col, const char *s);
/* Integer and number cells; a non-finite number is stored as missing. Numbers are written
 * with 12 significant digits (R's write.csv writes 15; 12 keeps CSVs readable and is far
 * beyond the precision of any measured value here). */
int atable_set_int(struct atable *t, size_t row, size_t col, long long v);
int atable_set_num(struct atable *t, size_t row, size_t col, double v);
/* Sets col to v when has is true, else leaves it missing. */
int atable_set_opt(struct atable *t, size_t row, size_t col, bool has, double v);

/* The cell, or NULL when missing. */
const char *atable_get(const struct atable *t, size_t row, size_t col);
/* The cell as a number: true when present, numeric and finite. */
bool atable_num(const struct atable *t, size_t row, size_t col, double *out);
/* Column index by name, or -1. */
int atable_col(const struct atable *t, const char *name);

#endif
