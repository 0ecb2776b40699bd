/* Reading RFC 4180 CSV (via libcsv) into a table of strings with a header row.
 *
 * The table owns every string (in its arena); csv_table_free releases them. Rows shorter than
 * the header are an error naming the line; a UTF-8 BOM is skipped. */
#ifndef IOHEME_FORMATS_CSV_H
#define IOHEME_FORMATS_CSV_H

#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

struct csv_table {
    size_t ncols, nrows;
    char **header; /* ncols names */
    char ***rows;  /* rows[r][c], r < nrows, c < ncols */
    size_t *line;  /* line[r]: 1-based line number in the file where row r starts */
    struct arena arena;
};

/* Parses len bytes of CSV. name is used in error messages ("file:line: ..."). */
int csv_table_parse(const char *data, size_t len, const char *name, struct csv_table *t,
                    struct err *e);
/* The same reading, one data row at a time, for files too large to hold parsed: fn gets the
 * header, the row's ncols cells and the line where the row starts; the cells live until fn
 * returns. A non-zero return from fn stops the reading and is returned as it is (e as fn set
 * it); otherwise as csv_table_parse. delim separates the cells (',' or '\0': a comma; REDCap's
 * csvDelimiter takes tab, ';', '|' and '^' too). */
typedef int (*csv_row_fn)(void *ctx, const char *const *header, const char *const *cells,
                          size_t ncols, size_t line, struct err *e);
int csv_each_row(const char *data, size_t len, const char *name, char delim, csv_row_fn fn,
                 void *ctx, struct err *e);
/* Reads and parses a file; "-" reads standard input. */
int csv_read_file(const char *path, struct csv_table *t, struct err *e);
/* Index of the column with this header, or -1. */
int csv_col(const struct csv_table *t, const char *name);
void csv_table_free(struct csv_table *t);

/* Reads a whole file into memory (caller frees *out). "-" reads stdin. */
int csv_file_read_all(const char *path, char **out, size_t *len, struct err *e);
/* As csv_file_read_all, into ar: a regular file straight into one block of its size (a file
 * imported is held once, not once more while it is copied), anything else as it comes. */
int csv_file_read_arena(const char *path, struct arena *ar, char **out, size_t *len, struct err *e);

#endif
