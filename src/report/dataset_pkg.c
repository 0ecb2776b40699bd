/* The analysis dataset in each statistics package's own format (issue 14): Stata .dta, SPSS
 * .sav and SAS .sas7bdat written by ReadStat (the library behind R's haven and pyreadstat),
 * with every column's description as its variable label, typed dates and date-times, yes/no
 * labels on the boolean columns and coded columns as labelled numbers (Stata, SPSS); and for R (and
 * beside the CSVs) a loader script that reads the CSVs with their types and labels. Column names
 * are the CSV's (≤ 32 characters, what every one of these formats takes). The files carry a fixed
 * timestamp, so the same dataset gives the same bytes. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <readstat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/schedule.h"
#include "report/dataset.h"

/* 2000-01-01T00:00:00Z: what the files say they were written at, always (reproducible). */
#define PKG_TIMESTAMP 946684800

/* The stdio buffer of a file written. */
#define PKG_FILE_BUFFER (1 << 20)

/* Days between 1970-01-01 and each package's day 0. */
#define DAYS_1960 (-3653LL)   /* Stata and SAS: 1960-01-01 */
#define DAYS_1582 (-141428LL) /* SPSS: 1582-10-14 */

static ssize_t write_file(const void *data, size_t len, void *ctx)
{
    return fwrite(data, 1, len, ctx) == len ? (ssize_t)len : -1;
}

/* Seconds since 1970 of a date ("YYYY-MM-DD") or date-time cell; false when neither. */
static bool cell_time(const char *s, bool is_date, long long *out)
{
    char buf[24];
    if (is_date && strlen(s) == 10) {
        fmt_exact(buf, sizeof buf, "%s 00:00", s);
        s = buf;
    }
    return schedule_parse_wallclock(s, out) == 0;
}

struct pkg {
    enum dataset_format fmt;
    bool xport;           /* a SAS transport file, version 5 (the SDTM export) */
    long long epoch_days; /* the package's day 0, in days since 1970 */
    bool ms;              /* date-times in milliseconds (Stata %tc), else seconds */
    bool date_secs;       /* dates in seconds too (SPSS), else days */
    const char *fmt_date, *fmt_datetime;
    const char *fmt_whole; /* whole numbers (integers, codes, yes/no): SPSS shows F8.2 without */
};

static const struct pkg PKGS[] = {
    [DATASET_STATA] = {DATASET_STATA, false, DAYS_1960, true, false, "%td", "%tc", NULL},
    [DATASET_SPSS] = {DATASET_SPSS, false, DAYS_1582, false, true, "DATE11", "DATETIME20", "F8.0"},
    [DATASET_SAS] = {DATASET_SAS, false, DAYS_1960, false, false, "YYMMDD", "DATETIME", NULL},
};

static const char *const EXT[] = {
    [DATASET_STATA] = "dta", [DATASET_SPSS] = "sav", [DATASET_SAS] = "sas7bdat"};

/* The value of cell s of a numeric column of type ty in the package's units; false: missing. */
static bool pkg_number(const struct pkg *p, enum acol_type ty, const char *s, double *out)
{
    if (!s || !*s)
        return false;
    if (ty == ACOL_DATE || ty == ACOL_DATETIME) {
        long long t;
        if (!cell_time(s, ty == ACOL_DATE, &t))
            return false;
        t -= p->epoch_days * 86400LL;
        *out = ty == ACOL_DATE && !p->date_secs ? (double)(t / 86400)
               : ty == ACOL_DATETIME && p->ms   ? (double)t * 1000.0
                                                : (double)t;
        return true;
    }
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Stata and SPSS take a coded column (struct acol's levels) as numbers 1..n, in the order of its
 * levels, with the levels as value labels: what `encode` would make of the strings, and what
 * haven's as_factor and pandas' categoricals read back. SAS keeps value labels outside the
 * data file (a format catalog, not written), so there the column stays text. */
static bool pkg_coded(const struct pkg *p, const struct acol *col)
{
    return col->levels && !p->xport && (p->fmt == DATASET_STATA || p->fmt == DATASET_SPSS);
}

/* SAS transport files, version 5, as regulators take them: ReadStat writes version 8 unless
 * told (docs/exports.md). */
static const struct pkg XPT5 = {DATASET_SAS, true,    DAYS_1960,    false,
                                false,       "DATE9", "DATETIME20", NULL};

/* ReadStat formats a file's timestamp with localtime(), whose answer is one static buffer for
 * the whole process: files written at once (dataset_spools_each) write their headers under this
 * lock. */
static pthread_mutex_t readstat_header_lock = PTHREAD_MUTEX_INITIALIZER;

/* Writes t (spooled whole, read from its first row) to path in p's format; member is the SAS
 * member name of a transport file and label the file's label (else the table's name). */
static int table_write_as(const struct pkg *p, struct dataset_spool *t, const char *path,
                          const char *member, const char *label, struct err *e)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    /* ReadStat hands over a row (a transport file: 80-byte cards) at a time */
    char *fbuf = dataset_file_buffer(f, PKG_FILE_BUFFER);
    readstat_writer_t *w = readstat_writer_init();
    readstat_variable_t **vars = calloc(t->ncols ? t->ncols : 1, sizeof *vars);
    int rc = w && vars ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    readstat_label_set_t *yesno = NULL;
    if (!rc) {
        readstat_set_data_writer(w, write_file);
        readstat_writer_set_file_timestamp(w, PKG_TIMESTAMP);
        readstat_writer_set_file_label(w, label ? label : t->name);
        if (p->fmt == DATASET_STATA)
            readstat_writer_set_file_format_version(w, 118);
        if (p->xport) {
            readstat_writer_set_file_format_version(w, 5);
            readstat_writer_set_table_name(w, member);
        }
        yesno = readstat_add_label_set(w, READSTAT_TYPE_DOUBLE, "yesno");
        readstat_label_double_value(yesno, 0, "no");
        readstat_label_double_value(yesno, 1, "yes");
    }
    /* A transport file has no observation count: readers take trailing blanks of the last
     * 80-byte card as padding, so a record of 80 bytes or less that ends in blanks loses its
     * last row (pandas' read_sas did). Records are made longer than 80 bytes by widening the
     * last character variable. */
    size_t reclen = 0, last_text = SIZE_MAX;
    for (size_t c = 0; c < t->ncols; c++) {
        reclen += t->cols[c].type == ACOL_TEXT ? 0 : 8;
        if (t->cols[c].type == ACOL_TEXT)
            last_text = c;
    }
    /* each coded column's levels (pkg_coded), NULL for the others */
    const char *(*levels)[DERIVE_MAX_LEVELS + 1] = calloc(t->ncols ? t->ncols : 1, sizeof *levels);
    if (!levels && !rc)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    size_t *widths = calloc(t->ncols ? t->ncols : 1, sizeof *widths);
    if (!widths && !rc)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    for (size_t c = 0; !rc && c < t->ncols; c++) {
        widths[c] = t->widths[c];
        reclen += t->cols[c].type == ACOL_TEXT ? widths[c] : 0;
    }
    if (!rc && p->xport && reclen <= 80 && last_text != SIZE_MAX)
        widths[last_text] += 81 - reclen;
    for (size_t c = 0; !rc && c < t->ncols; c++) {
        const struct acol *col = &t->cols[c];
        if (pkg_coded(p, col)) {
            size_t n = derive_level_values(col->levels, true, levels[c]);
            readstat_label_set_t *ls = readstat_add_label_set(w, READSTAT_TYPE_DOUBLE, col->name);
            vars[c] = readstat_add_variable(w, col->name, READSTAT_TYPE_DOUBLE, 0);
            if (ls && vars[c]) {
                for (size_t k = 0; k < n; k++)
                    readstat_label_double_value(ls, (double)(k + 1), levels[c][k]);
                readstat_variable_set_label_set(vars[c], ls);
                if (p->fmt_whole)
                    readstat_variable_set_format(vars[c], p->fmt_whole);
            }
        } else if (col->type == ACOL_TEXT) {
            vars[c] = readstat_add_variable(w, col->name, READSTAT_TYPE_STRING, widths[c]);
        } else {
            vars[c] = readstat_add_variable(w, col->name, READSTAT_TYPE_DOUBLE, 0);
            if (col->type == ACOL_DATE)
                readstat_variable_set_format(vars[c], p->fmt_date);
            else if (col->type == ACOL_DATETIME)
                readstat_variable_set_format(vars[c], p->fmt_datetime);
            else if (col->type == ACOL_BOOL)
                readstat_variable_set_label_set(vars[c], yesno);
            if ((col->type == ACOL_INT || col->type == ACOL_BOOL) && p->fmt_whole)
                readstat_variable_set_format(vars[c], p->fmt_whole);
        }
        if (!vars[c])
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            readstat_variable_set_label(vars[c], col->desc);
    }
    readstat_error_t re = READSTAT_OK;
    if (!rc)
        rc = dataset_spool_rewind(t, e);
    if (!rc) {
        long n = (long)t->nrows;
        pthread_mutex_lock(&readstat_header_lock);
        re = p->xport                  ? readstat_begin_writing_xport(w, f, n)
             : p->fmt == DATASET_STATA ? readstat_begin_writing_dta(w, f, n)
             : p->fmt == DATASET_SPSS  ? readstat_begin_writing_sav(w, f, n)
                                       : readstat_begin_writing_sas7bdat(w, f, n);
        pthread_mutex_unlock(&readstat_header_lock);
    }
    const char *const *cells;
    for (size_t row = 0;
         !rc && re == READSTAT_OK && (rc = dataset_spool_next(t, &cells, e)) == 0 && cells; row++) {
        if (row == 0) /* the header goes out with the first row */
            pthread_mutex_lock(&readstat_header_lock);
        re = readstat_begin_row(w);
        if (row == 0)
            pthread_mutex_unlock(&readstat_header_lock);
        for (size_t c = 0; re == READSTAT_OK && c < t->ncols; c++) {
            const char *s = cells[c];
            double v;
            if (levels[c][0]) { /* coded: the level's place, 1 first */
                size_t k = 0;
                while (s && levels[c][k] && strcmp(levels[c][k], s) != 0)
                    k++;
                if (s && !levels[c][k])
                    rc = err_set(e, ERR_INTERNAL, "%s: column %s: '%s' is none of its levels", path,
                                 t->cols[c].name, s);
                else
                    re = s ? readstat_insert_double_value(w, vars[c], (double)(k + 1))
                           : readstat_insert_missing_value(w, vars[c]);
                if (rc)
                    break;
            } else if (t->cols[c].type == ACOL_TEXT)
                re = s ? readstat_insert_string_value(w, vars[c], s)
                       : readstat_insert_missing_value(w, vars[c]);
            else if (pkg_number(p, t->cols[c].type, s, &v))
                re = readstat_insert_double_value(w, vars[c], v);
            else
                re = readstat_insert_missing_value(w, vars[c]);
        }
        if (re == READSTAT_OK)
            re = readstat_end_row(w);
    }
    if (!rc && re == READSTAT_OK) { /* or, in a file of no rows, with its end */
        pthread_mutex_lock(&readstat_header_lock);
        re = readstat_end_writing(w);
        pthread_mutex_unlock(&readstat_header_lock);
    }
    if (!rc && re != READSTAT_OK)
        rc = err_set(e, ERR_IO, "%s: %s", path, readstat_error_message(re));
    readstat_writer_free(w);
    free(vars);
    free(widths);
    free(levels);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    free(fbuf); /* after the stream that used it */
    if (rc)
        (void)remove(path);
    return rc;
}

struct spools_each {
    size_t n, next; /* order[next] is the next job to start */
    size_t *order;
    int (*job)(void *ctx, size_t i, struct err *e);
    void *ctx;
    int *rc;
    struct err *errs;
    pthread_mutex_t mu;
};

static void *spools_each_main(void *arg)
{
    struct spools_each *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t k = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (k >= p->n)
            return NULL;
        size_t i = p->order[k];
        p->rc[i] = p->job(p->ctx, i, &p->errs[i]);
    }
}

/* A spool's bytes, about: its rows times the widths of their cells. */
static size_t spool_bytes(const struct dataset_spool *s)
{
    size_t w = 0;
    for (size_t c = 0; c < s->ncols; c++)
        w += s->widths ? s->widths[c] : 8;
    return s->nrows * w;
}

int dataset_spools_each(size_t n, struct dataset_spool *const *sp,
                        int (*job)(void *ctx, size_t i, struct err *e), void *ctx, struct err *e)
{
    struct spools_each p = {.n = n, .job = job, .ctx = ctx};
    p.order = calloc(n ? n : 1, sizeof *p.order);
    p.rc = calloc(n ? n : 1, sizeof *p.rc);
    p.errs = calloc(n ? n : 1, sizeof *p.errs);
    if (!p.order || !p.rc || !p.errs) {
        free(p.order);
        free(p.rc);
        free(p.errs);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) { /* by bytes, most first (an insertion sort: a dozen) */
        size_t k = i;
        for (; sp && k > 0 && spool_bytes(sp[p.order[k - 1]]) < spool_bytes(sp[i]); k--)
            p.order[k] = p.order[k - 1];
        p.order[k] = i;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_t th;
    bool two = n > 1 && pthread_create(&th, NULL, spools_each_main, &p) == 0;
    spools_each_main(&p);
    if (two)
        pthread_join(th, NULL);
    pthread_mutex_destroy(&p.mu);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if ((rc = p.rc[i]) != 0 && e)
            *e = p.errs[i];
    free(p.order);
    free(p.rc);
    free(p.errs);
    return rc;
}

int dataset_xpt_write(struct dataset_spool *t, const char *member, const char *label,
                      const char *path, struct err *e)
{
    return table_write_as(&XPT5, t, path, member, label, e);
}

/* R's type for a column, for read.csv's colClasses. */
static const char *r_class(enum acol_type t)
{
    switch (t) {
    case ACOL_INT:
        return "integer";
    case ACOL_NUM:
    case ACOL_BOOL:
        return "numeric";
    default:
        return "character";
    }
}

/* dataset.R: reads the CSVs of this folder into a list of data frames with R types, dates as
 * Date, date-times as POSIXct (the site's wall-clock, read as UTC), yes/no factors, coded
 * choices (struct acol's levels) as factors with the protocol's order of levels, and every
 * column's description as its "label" attribute (as haven does). */
bool dataset_format_has_package_files(enum dataset_format fmt)
{
    return fmt == DATASET_STATA || fmt == DATASET_SPSS || fmt == DATASET_SAS;
}

/* s as an R string literal: quotes and backslashes escaped. */
static void r_string(struct strbuf *sb, const char *s)
{
    strbuf_addc(sb, '"');
    for (const char *p = s; *p; p++)
        strbuf_addf(sb, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    strbuf_addc(sb, '"');
}

int dataset_write_r_loader(const struct adataset *ds, const char *dir, enum dataset_format fmt,
                           struct err *e)
{
    if (dataset_format_has_package_files(fmt))
        return 0;
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(
        &sb,
        "# Reads the ioheme analysis dataset in this folder into R: ds <- "
        "source(\"dataset.R\")$value\n"
        "# (or source it: the list `ioheme` is then defined). Types, dates, labels and\n"
        "# levels are those of dataset_dictionary.csv, written by the same export.\n"
        "local({\n"
        "  here <- if (!is.null(sys.frame(1)$ofile)) dirname(sys.frame(1)$ofile) else \".\"\n"
        "  read <- function(name, classes, labels, dates, datetimes, flags, levels) {\n"
        "    d <- utils::read.csv(file.path(here, paste0(name, \".csv\")), colClasses = classes,\n"
        "                         na.strings = \"\", check.names = FALSE)\n"
        "    for (c in dates) d[[c]] <- as.Date(d[[c]])\n"
        "    for (c in datetimes) d[[c]] <- as.POSIXct(d[[c]], tz = \"UTC\",\n"
        "        tryFormats = c(\"%Y-%m-%d %H:%M:%S\", \"%Y-%m-%d %H:%M\"))\n"
        "    for (c in flags) d[[c]] <- factor(d[[c]], levels = c(0, 1), labels = c(\"no\", "
        "\"yes\"))\n"
        "    for (c in names(levels)) d[[c]] <- factor(d[[c]], levels = levels[[c]])\n"
        "    for (c in names(labels)) attr(d[[c]], \"label\") <- labels[[c]]\n"
        "    d\n"
        "  }\n"
        "  ioheme <<- list(\n");
    for (int i = 0; i < ADS_NTABLES; i++) {
        const struct atable *t = &ds->t[i];
        struct strbuf cls = STRBUF_INIT, lab = STRBUF_INIT, dat = STRBUF_INIT, dtm = STRBUF_INIT,
                      flg = STRBUF_INIT, lev = STRBUF_INIT;
        for (size_t c = 0; c < t->ncols; c++) {
            const struct acol *col = &t->cols[c];
            const char *sep = c ? ", " : "";
            strbuf_addf(&cls, "%s`%s` = \"%s\"", sep, col->name, r_class(col->type));
            strbuf_addf(&lab, "%s`%s` = ", sep, col->name);
            r_string(&lab, col->desc);
            if (col->levels) {
                const char *v[DERIVE_MAX_LEVELS + 1];
                derive_level_values(col->levels, true, v);
                strbuf_addf(&lev, "%s`%s` = c(", lev.len ? ", " : "", col->name);
                for (size_t k = 0; v[k]; k++) {
                    strbuf_adds(&lev, k ? ", " : "");
                    r_string(&lev, v[k]);
                }
                strbuf_addc(&lev, ')');
            }
            struct strbuf *kind = col->type == ACOL_DATE       ? &dat
                                  : col->type == ACOL_DATETIME ? &dtm
                                  : col->type == ACOL_BOOL     ? &flg
                                                               : NULL;
            if (kind)
                strbuf_addf(kind, "%s\"%s\"", kind->len ? ", " : "", col->name);
        }
        strbuf_addf(&sb,
                    "    %s = read(\"%s\",\n      c(%s),\n      list(%s),\n      c(%s), c(%s), "
                    "c(%s),\n      list(%s))%s\n",
                    t->name, t->name, strbuf_str(&cls), strbuf_str(&lab), strbuf_str(&dat),
                    strbuf_str(&dtm), strbuf_str(&flg), strbuf_str(&lev),
                    i + 1 < ADS_NTABLES ? "," : "");
        strbuf_release(&cls);
        strbuf_release(&lab);
        strbuf_release(&dat);
        strbuf_release(&dtm);
        strbuf_release(&flg);
        strbuf_release(&lev);
    }
    strbuf_adds(&sb, "  )\n  invisible(ioheme)\n})\n");
    int rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : dataset_write_file(dir, DATASET_R_LOADER, strbuf_str(&sb), sb.len, e);
    strbuf_release(&sb);
    return rc;
}

int dataset_format_parse(const char *name, enum dataset_format *out)
{
    static const char *const names[] = {[DATASET_CSV] = "csv",
                                        [DATASET_STATA] = "stata",
                                        [DATASET_SPSS] = "spss",
                                        [DATASET_SAS] = "sas",
                                        [DATASET_R] = "r"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum dataset_format)i;
            return 0;
        }
    return -1;
}

int dataset_package_file(enum dataset_format fmt, const char *table, struct strbuf *name)
{
    bool has = dataset_format_has_package_files(fmt);
    if (table && has)
        strbuf_addf(name, "%s.%s", table, EXT[fmt]);
    else if (!table && !has) /* csv and r: the loader */
        strbuf_adds(name, DATASET_R_LOADER);
    else
        return 0;
    return name->failed ? ERR_NOMEM : 1;
}

int dataset_write_package_table(struct dataset_spool *t, const char *dir, enum dataset_format fmt,
                                struct err *e)
{
    if (!dataset_format_has_package_files(fmt))
        return 0;
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/", dir);
    dataset_package_file(fmt, t->name, &path);
    int rc = path.failed ? err_set(e, ERR_NOMEM, "out of memory")
                         : table_write_as(&PKGS[fmt], t, strbuf_str(&path), NULL, NULL, e);
    strbuf_release(&path);
    return rc;
}
