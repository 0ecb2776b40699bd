/* Tables spooled to a file while they are derived (dataset.h, struct dataset_spool): how an
 * export's memory stays that of one record whatever the number of patients.
 *
 * The file is made in the export's own folder (mkstemp, so on the disk that will hold the
 * output anyway, not a small /tmp) and unlinked at once: nothing is left behind, whatever
 * happens to the process. A row is its cells in column order, each a 4-byte length (little
 * or big endian: the file is read back by the process that wrote it) and that many bytes;
 * a missing cell has length SPOOL_MISSING. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/strbuf.h"
#include "report/dataset.h"

#define SPOOL_MISSING UINT32_MAX
#define SPOOL_BUFFER (256 * 1024)

int dataset_spool_open(struct dataset_spool *s, const char *dir, const char *name,
                       const struct acol *cols, size_t ncols, struct err *e)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->cols = cols;
    s->ncols = ncols;
    s->widths = calloc(ncols ? ncols : 1, sizeof *s->widths);
    s->cells = calloc(ncols ? ncols : 1, sizeof *s->cells);
    s->ends = calloc(ncols ? ncols : 1, sizeof *s->ends);
    if (!s->widths || !s->cells || !s->ends) {
        dataset_spool_close(s);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (size_t c = 0; c < ncols; c++)
        s->widths[c] = 1; /* the narrowest a character variable can be */
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/.ioheme-%s-XXXXXX", dir, name);
    int fd = path.failed ? -1 : mkstemp(path.buf);
    int rc = 0;
    if (fd < 0)
        rc = err_set(e, ERR_IO, "%s: cannot make a working file for %s: %s", dir, name,
                     path.failed ? "out of memory" : strerror(errno));
    else {
        (void)unlink(path.buf); /* gone with the descriptor, however the process ends */
        s->f = fdopen(fd, "w+b");
        if (!s->f) {
            rc = err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
            close(fd);
        } else
            s->wbuf = dataset_file_buffer(s->f, SPOOL_BUFFER);
    }
    strbuf_release(&path);
    if (rc)
        dataset_spool_close(s);
    return rc;
}

int dataset_spool_format(const struct atable *t, struct strbuf *out, size_t *nrows, struct err *e)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *v = atable_get(t, r, c);
            size_t n = v ? strlen(v) : 0;
            uint32_t len = v ? (uint32_t)n : SPOOL_MISSING;
            if (n >= SPOOL_MISSING)
                return err_set(e, ERR_INVALID, "%s: a value of %zu bytes", t->name, n);
            strbuf_add(out, &len, sizeof len);
            if (n)
                strbuf_add(out, v, n);
        }
    }
    *nrows += t->nrows;
    return out->failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

int dataset_spool_add_bytes(struct dataset_spool *s, const char *bytes, size_t n, size_t nrows,
                            struct err *e)
{
    /* each column's widest value, from the cells' lengths */
    size_t at = 0;
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < s->ncols; c++) {
            uint32_t len;
            if (n - at < sizeof len)
                return err_set(e, ERR_INTERNAL, "%s: %zu rows that end early", s->name, nrows);
            memcpy(&len, bytes + at, sizeof len);
            at += sizeof len;
            if (len == SPOOL_MISSING)
                continue;
            if (n - at < len)
                return err_set(e, ERR_INTERNAL, "%s: %zu rows that end early", s->name, nrows);
            at += len;
            if (len > s->widths[c])
                s->widths[c] = len;
        }
    if (at != n)
        return err_set(e, ERR_INTERNAL, "%s: %zu bytes after %zu rows", s->name, n - at, nrows);
    /* unlocked: one thread at a time writes a spool */
    if (n && fwrite_unlocked(bytes, 1, n, s->f) != n)
        return err_set(e, ERR_IO, "%s: writing the working file: %s", s->name, strerror(errno));
    s->nrows += nrows;
    return 0;
}

int dataset_spool_add(struct dataset_spool *s, const struct atable *t, struct err *e)
{
    if (t->ncols != s->ncols)
        return err_set(e, ERR_INTERNAL, "%s: a table of %zu columns spooled as %zu", s->name,
                       t->ncols, s->ncols);
    struct strbuf sb = STRBUF_INIT;
    size_t nrows = 0;
    int rc = dataset_spool_format(t, &sb, &nrows, e);
    if (rc == 0)
        rc = dataset_spool_add_bytes(s, sb.buf, sb.len, nrows, e);
    strbuf_release(&sb);
    return rc;
}

int dataset_spool_rewind(struct dataset_spool *s, struct err *e)
{
    if (fflush(s->f) != 0 || fseek(s->f, 0, SEEK_SET) != 0)
        return err_set(e, ERR_IO, "%s: the working file: %s", s->name, strerror(errno));
    if (!s->rbuf && !(s->rbuf = malloc(SPOOL_BUFFER)))
        return err_set(e, ERR_NOMEM, "out of memory");
    s->read = s->rpos = s->rlen = 0;
    return 0;
}

/* The next n bytes of the working file into dst, from a block read whole (a call into stdio
 * per cell, and its lock, was half the time of writing a transport file); false at its end. */
static bool spool_take(struct dataset_spool *s, void *dst, size_t n)
{
    char *out = dst;
    while (n) {
        if (s->rpos == s->rlen) {
            s->rlen = fread_unlocked(s->rbuf, 1, SPOOL_BUFFER, s->f);
            s->rpos = 0;
            if (!s->rlen)
                return false;
        }
        size_t k = s->rlen - s->rpos < n ? s->rlen - s->rpos : n;
        memcpy(out, s->rbuf + s->rpos, k);
        s->rpos += k;
        out += k;
        n -= k;
    }
    return true;
}

int dataset_spool_next(struct dataset_spool *s, const char *const **cells, struct err *e)
{
    if (s->read >= s->nrows) {
        *cells = NULL;
        return 0;
    }
    if (!s->rbuf)
        return err_set(e, ERR_INTERNAL, "%s: read before dataset_spool_rewind", s->name);
    size_t used = 0;
    for (size_t c = 0; c < s->ncols; c++) {
        uint32_t len;
        if (!spool_take(s, &len, sizeof len))
            return err_set(e, ERR_IO, "%s: the working file ends early", s->name);
        if (len == SPOOL_MISSING) {
            s->ends[c] = SIZE_MAX;
            continue;
        }
        if (used + len + 1 > s->rowcap) {
            size_t cap = s->rowcap ? s->rowcap : 256;
            while (cap < used + len + 1)
                cap *= 2;
            char *g = realloc(s->row, cap);
            if (!g)
                return err_set(e, ERR_NOMEM, "out of memory");
            s->row = g;
            s->rowcap = cap;
        }
        if (len && !spool_take(s, s->row + used, len))
            return err_set(e, ERR_IO, "%s: the working file ends early", s->name);
        s->row[used + len] = '\0';
        s->ends[c] = used; /* an offset: the buffer may move while the row is read */
        used += len + 1;
    }
    for (size_t c = 0; c < s->ncols; c++)
        s->cells[c] = s->ends[c] == SIZE_MAX ? NULL : s->row + s->ends[c];
    s->read++;
    *cells = s->cells;
    return 0;
}

void dataset_spool_close(struct dataset_spool *s)
{
    if (s->f)
        (void)fclose(s->f);
    free(s->wbuf); /* after the stream that used it */
    free(s->widths);
    free(s->cells);
    free(s->ends);
    free(s->row);
    free(s->rbuf);
    memset(s, 0, sizeof *s);
}
