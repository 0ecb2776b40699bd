/* CSV reader on libcsv: collects fields into rows, checks the shape, keeps line numbers. */
#include "formats/csv.h"
#include "base/array.h"
#include "base/fmt.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct csv_build {
    struct csv_table *t; /* the header (and, for csv_table_parse, every row) */
    struct arena *cells; /* where a data row's fields go: t's arena, or reset per row */
    csv_row_fn fn;       /* each data row; NULL: kept in t */
    void *ctx;
    struct err *e; /* fn's error */
    char **cur;    /* fields of the row being read */
    size_t ncur, capcur;
    size_t caprows;
    size_t line, row_line;
    int failed; /* an error code, or fn's non-zero return */
    char failmsg[256];
    char delim; /* '\0': a comma */
};

static void on_field(void *s, size_t len, void *p)
{
    struct csv_build *b = p;
    if (b->failed)
        return;
    char **n = array_grow(b->cur, b->ncur, &b->capcur, sizeof *n, 32);
    if (!n) {
        b->failed = ERR_NOMEM;
        return;
    }
    b->cur = n;
    char *f = arena_strndup(b->t->header ? b->cells : &b->t->arena, s ? s : "", s ? len : 0);
    if (!f) {
        b->failed = ERR_NOMEM;
        return;
    }
    b->cur[b->ncur++] = f;
}

/* A data row into the table. */
static int keep_row(struct csv_build *b)
{
    struct csv_table *t = b->t;
    if (t->nrows == b->caprows) {
        size_t cap = b->caprows ? 2 * b->caprows : 64;
        char ***r = realloc(t->rows, cap * sizeof *r);
        size_t *l = realloc(t->line, cap * sizeof *l);
        if (r)
            t->rows = r;
        if (l)
            t->line = l;
        if (!r || !l)
            return ERR_NOMEM;
        b->caprows = cap;
    }
    char **row = arena_calloc(&t->arena, t->ncols, sizeof(char *));
    if (!row)
        return ERR_NOMEM;
    memcpy(row, b->cur, t->ncols * sizeof(char *));
    t->rows[t->nrows] = row;
    t->line[t->nrows] = b->row_line;
    t->nrows++;
    return 0;
}

static void on_row(int c, void *p)
{
    (void)c;
    struct csv_build *b = p;
    struct csv_table *t = b->t;
    if (b->failed)
        return;
    if (b->ncur == 1 && b->cur[0][0] == '\0') { /* blank line */
        b->ncur = 0;
        return;
    }
    if (!t->header) {
        t->ncols = b->ncur;
        t->header = arena_calloc(&t->arena, b->ncur, sizeof(char *));
        if (!t->header) {
            b->failed = ERR_NOMEM;
            return;
        }
        memcpy(t->header, b->cur, b->ncur * sizeof(char *));
        b->ncur = 0;
        return;
    }
    if (b->ncur != t->ncols) {
        b->failed = ERR_INVALID;
        fmt_exact(b->failmsg, sizeof b->failmsg, "line %zu: %zu fields, the header has %zu",
                  b->row_line, b->ncur, t->ncols);
        return;
    }
    if (!b->fn) {
        b->failed = keep_row(b);
    } else {
        b->failed = b->fn(b->ctx, (const char *const *)t->header, (const char *const *)b->cur,
                          t->ncols, b->row_line, b->e);
        arena_reset(b->cells);
    }
    b->ncur = 0;
}

/* Feeds data to libcsv line by line (so rows carry the line they start on) into b. */
static int parse_into(const char *data, size_t len, const char *name, struct csv_build *b,
                      struct err *e)
{
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return err_set(e, ERR_NOMEM, "%s: cannot initialise CSV parser", name);
    if (b->delim)
        csv_set_delim(&p, (unsigned char)b->delim);
    b->line = b->row_line = 1;
    size_t i = 0;
    while (i < len && !b->failed) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
        if (csv_parse(&p, data + i, n, on_field, on_row, b) != n) {
            b->failed = ERR_INVALID;
            fmt_text(b->failmsg, sizeof b->failmsg, "line %zu: %s", b->line,
                     csv_strerror(csv_error(&p)));
            break;
        }
        i += n;
        b->line++;
        if (b->ncur == 0)
            b->row_line = b->line;
    }
    if (!b->failed && csv_fini(&p, on_field, on_row, b) != 0) {
        b->failed = ERR_INVALID;
        fmt_text(b->failmsg, sizeof b->failmsg, "line %zu: %s", b->line,
                 csv_strerror(csv_error(&p)));
    }
    csv_free(&p);
    free(b->cur);
    if (!b->failed && !b->t->header) {
        b->failed = ERR_INVALID;
        fmt_exact(b->failmsg, sizeof b->failmsg, "empty file: no header row");
    }
    if (!b->failed)
        return 0;
    if (b->fn && b->failmsg[0] == '\0' && b->failed != ERR_NOMEM)
        return b->failed; /* fn's own: e is set as fn set it */
    int code = b->failed == ERR_NOMEM ? ERR_NOMEM : ERR_INVALID;
    return err_set(e, code, "%s: %s", name, b->failed == ERR_NOMEM ? "out of memory" : b->failmsg);
}

int csv_table_parse(const char *data, size_t len, const char *name, struct csv_table *t,
                    struct err *e)
{
    memset(t, 0, sizeof *t);
    struct csv_build b = {.t = t, .cells = &t->arena};
    int rc = parse_into(data, len, name, &b, e);
    if (rc)
        csv_table_free(t);
    return rc;
}

int csv_each_row(const char *data, size_t len, const char *name, char delim, csv_row_fn fn,
                 void *ctx, struct err *e)
{
    struct csv_table t = {0}; /* the header only */
    struct arena cells = ARENA_INIT;
    struct csv_build b = {.t = &t, .cells = &cells, .fn = fn, .ctx = ctx, .e = e, .delim = delim};
    int rc = parse_into(data, len, name, &b, e);
    arena_free(&cells);
    csv_table_free(&t);
    return rc;
}

int csv_file_read_all(const char *path, char **out, size_t *len, struct err *e)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    int bad = ferror(f);
    if (f != stdin)
        (void)fclose(f);
    if (!buf)
        return err_set(e, ERR_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return err_set(e, ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int csv_file_read_arena(const char *path, struct arena *ar, char **out, size_t *len, struct err *e)
{
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uintmax_t)sb.st_size >= SIZE_MAX) {
        if (f)
            (void)fclose(f);
        /* standard input, a pipe, or a file that will not open (csv_file_read_all says why) */
        char *data = NULL;
        int rc = csv_file_read_all(path, &data, len, e);
        if (rc)
            return rc;
        *out = arena_strndup(ar, data, *len);
        free(data);
        return *out ? 0 : err_set(e, ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = arena_calloc_uninit(ar, n + 1, 1);
    size_t got = buf ? fread(buf, 1, n, f) : 0;
    int more = buf && got == n ? fgetc(f) : EOF;
    bool bad = ferror(f);
    (void)fclose(f);
    if (!buf)
        return err_set(e, ERR_NOMEM, "%s: out of memory", path);
    if (bad)
        return err_set(e, ERR_IO, "%s: read error", path);
    if (got != n || more != EOF)
        return err_set(e, ERR_IO, "%s: the file changed size while it was read", path);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int csv_read_file(const char *path, struct csv_table *t, struct err *e)
{
    char *data;
    size_t len;
    memset(t, 0, sizeof *t);
    int rc = csv_file_read_all(path, &data, &len, e);
    if (rc)
        return rc;
    rc = csv_table_parse(data, len, path, t, e);
    free(data);
    return rc;
}

int csv_col(const struct csv_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    return -1;
}

void csv_table_free(struct csv_table *t)
{
    free(t->rows);
    free(t->line);
    arena_free(&t->arena);
    memset(t, 0, sizeof *t);
}
