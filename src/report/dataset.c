/* The analysis dataset to CSV files and back (see dataset.h); from the store: dataset_stream.c. */
#include "report/dataset.h"
#include "base/digest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "formats/csv.h"
#include "formats/json_out.h"

/* ---- files --------------------------------------------------------------------------------*/

int dataset_mkdir(const char *path, struct err *e)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return err_set(e, ERR_IO, "%s: not a directory", path);
    return 0;
}

int dataset_write_file(const char *dir, const char *name, const char *data, size_t len,
                       struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/%s", dir, name);
    FILE *f = path.failed ? NULL : fopen(path.buf, "wb");
    int rc = 0;
    if (!f)
        rc = err_set(e, ERR_IO, "%s: cannot write: %s", strbuf_str(&path), strerror(errno));
    else {
        if (fwrite(data, 1, len, f) != len)
            rc = err_set(e, ERR_IO, "%s: write failed: %s", path.buf, strerror(errno));
        if (fclose(f) != 0 && rc == 0)
            rc = err_set(e, ERR_IO, "%s: write failed: %s", path.buf, strerror(errno));
    }
    strbuf_release(&path);
    return rc;
}

/* The CSVs of a dataset, written as its rows come (whole, or a record at a time). */
struct csv_out {
    const char *dir;
    FILE *f[ADS_NTABLES];
    char *fbuf[ADS_NTABLES]; /* f's buffers (glibc takes a size only with a buffer) */
    struct strbuf sb;
};

#define CSV_FILE_BUFFER (256 * 1024)

/* dir/table.csv, or while it is being written dir/.table.csv.partial: a failed export leaves
 * the files of the last good one as they were. */
static int csv_path(const char *dir, const char *table, bool partial, struct strbuf *path)
{
    strbuf_reset(path);
    strbuf_addf(path, partial ? "%s/.%s.csv.partial" : "%s/%s.csv", dir, table);
    return path->failed ? ERR_NOMEM : 0;
}

static int csv_flush(struct csv_out *o, int i, struct err *e)
{
    struct strbuf *sb = &o->sb;
    if (sb->failed)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (sb->len && fwrite(sb->buf, 1, sb->len, o->f[i]) != sb->len)
        return err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->dir, derive_ads_names[i],
                       strerror(errno));
    strbuf_reset(sb);
    return 0;
}

/* Creates dir and each table's file with its header row. */
static int csv_open(struct csv_out *o, const struct adataset *ds, const char *dir, struct err *e)
{
    memset(o, 0, sizeof *o);
    o->dir = dir;
    o->sb = (struct strbuf)STRBUF_INIT;
    struct strbuf path = STRBUF_INIT;
    int rc = dataset_mkdir(dir, e);
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        const struct atable *t = &ds->t[i];
        if (csv_path(dir, t->name, true, &path))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (!(o->f[i] = fopen(path.buf, "wb")))
            rc = err_set(e, ERR_IO, "%s: cannot write: %s", path.buf, strerror(errno));
        else
            o->fbuf[i] = dataset_file_buffer(o->f[i], CSV_FILE_BUFFER); /* a write(2) per 256 KiB */
        for (size_t c = 0; rc == 0 && c < t->ncols; c++) {
            if (c)
                strbuf_addc(&o->sb, ',');
            strbuf_add_csv(&o->sb, t->cols[c].name);
        }
        strbuf_addc(&o->sb, '\n');
        if (rc == 0)
            rc = csv_flush(o, i, e);
    }
    strbuf_release(&path);
    return rc;
}

/* Appends every row of t as CSV lines to sb. */
static void csv_format(const struct atable *t, struct strbuf *sb)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                strbuf_addc(sb, ',');
            const char *s = atable_get(t, r, c);
            if (s)
                strbuf_add_csv(sb, s);
        }
        strbuf_addc(sb, '\n');
    }
}

/* Appends every row ds's tables hold. */
static int csv_add(struct csv_out *o, const struct adataset *ds, struct err *e)
{
    int rc = 0;
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        csv_format(&ds->t[i], &o->sb);
        rc = csv_flush(o, i, e);
    }
    return rc;
}

/* Closes the tables' files (rc: the writing so far) and, when all went well, writes the
 * dictionary and the synthetic mark. */
static int csv_close(struct csv_out *o, const struct adataset *ds, int rc, struct err *e)
{
    for (int i = 0; i < ADS_NTABLES; i++) {
        if (o->f[i] && fclose(o->f[i]) != 0 && rc == 0)
            rc = err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->dir, derive_ads_names[i],
                         strerror(errno));
        free(o->fbuf[i]);
        o->fbuf[i] = NULL;
    }
    strbuf_release(&o->sb);
    struct strbuf path = STRBUF_INIT, done = STRBUF_INIT;
    for (int i = 0; i < ADS_NTABLES; i++) {
        if (!o->f[i] || csv_path(o->dir, derive_ads_names[i], true, &path) ||
            csv_path(o->dir, derive_ads_names[i], false, &done))
            continue;
        if (rc) /* no half-written dataset left to be taken for a whole one */
            (void)remove(path.buf);
        else if (rename(path.buf, done.buf) != 0)
            rc = err_set(e, ERR_IO, "%s: %s", done.buf, strerror(errno));
    }
    if (!rc && (path.failed || done.failed))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    strbuf_release(&path);
    strbuf_release(&done);
    if (rc)
        return rc;
    struct strbuf dict = STRBUF_INIT;
    strbuf_adds(&dict, "table,column,type,unit,description,sap_section,levels\n");
    for (int i = 0; i < ADS_NTABLES; i++) {
        const struct atable *t = &ds->t[i];
        for (size_t c = 0; c < t->ncols; c++) {
            const struct acol *col = &t->cols[c];
            strbuf_addf(&dict, "%s,%s,%s,", t->name, col->name, atable_col_type_name(col->type));
            strbuf_add_csv(&dict, col->unit);
            strbuf_addc(&dict, ',');
            strbuf_add_csv(&dict, col->desc);
            strbuf_addf(&dict, ",SAP %s,", col->sap);
            if (col->levels) { /* a coded choice's values in order, '|' between them */
                const char *v[DERIVE_MAX_LEVELS + 1];
                derive_level_values(col->levels, true, v);
                struct strbuf lv = STRBUF_INIT;
                for (size_t k = 0; v[k]; k++)
                    strbuf_addf(&lv, "%s%s", k ? "|" : "", v[k]);
                strbuf_add_csv(&dict, strbuf_str(&lv));
                dict.failed |= lv.failed;
                strbuf_release(&lv);
            }
            strbuf_addc(&dict, '\n');
        }
    }
    rc = dict.failed
             ? err_set(e, ERR_NOMEM, "out of memory")
             : dataset_write_file(o->dir, "dataset_dictionary.csv", strbuf_str(&dict), dict.len, e);
    if (rc == 0 && ds->is_synthetic)
        rc = dataset_write_file(o->dir, DATASET_SYNTHETIC_FILE, DATASET_SYNTHETIC_TEXT,
                                strlen(DATASET_SYNTHETIC_TEXT), e);
    strbuf_release(&dict);
    return rc;
}

int dataset_write(const struct adataset *ds, const char *dir, struct err *e)
{
    struct csv_out o;
    int rc = csv_open(&o, ds, dir, e);
    if (rc == 0)
        rc = csv_add(&o, ds, e);
    return csv_close(&o, ds, rc, e);
}

/* dataset_export's writer: the CSVs, and each table spooled for a package's files. */
struct export_out {
    struct csv_out csv;
    bool spooled;
    struct dataset_spool spool[ADS_NTABLES];
};

/* dataset_stream's on_rows: the record's rows as CSV lines (stream i: table i's file) and,
 * for a package, spooled (stream ADS_NTABLES + i: table i's spool). */
static int export_rows(void *ctx, const struct adataset *ds, struct vtab *v,
                       struct dataset_out *out, struct err *e)
{
    (void)v;
    struct export_out *o = ctx;
    int rc = 0;
    for (int i = 0; i < ADS_NTABLES; i++) {
        csv_format(&ds->t[i], &out->bytes[i]);
        out->nrows[i] = ds->t[i].nrows;
    }
    for (int i = 0; rc == 0 && o->spooled && i < ADS_NTABLES; i++)
        rc = dataset_spool_format(&ds->t[i], &out->bytes[ADS_NTABLES + i],
                                  &out->nrows[ADS_NTABLES + i], e);
    return rc;
}

/* dataset_stream's write. */
static int export_write(void *ctx, size_t i, const char *bytes, size_t n, size_t nrows,
                        struct err *e)
{
    struct export_out *o = ctx;
    if (i >= ADS_NTABLES)
        return dataset_spool_add_bytes(&o->spool[i - ADS_NTABLES], bytes, n, nrows, e);
    if (fwrite(bytes, 1, n, o->csv.f[i]) != n)
        return err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->csv.dir, derive_ads_names[i],
                       strerror(errno));
    return 0;
}

struct pkg_files {
    struct dataset_spool *sp;
    const char *dir;
    enum dataset_format fmt;
};

/* dataset_spools_each's job: table i's file of the package. */
static int pkg_file(void *ctx, size_t i, struct err *e)
{
    const struct pkg_files *x = ctx;
    return dataset_write_package_table(&x->sp[i], x->dir, x->fmt, e);
}

int dataset_export(struct store *st, const char *dir, enum dataset_format fmt, struct adataset *ds,
                   struct dataset_cache_stats *cache, struct err *e)
{
    struct export_out o = {.spooled = dataset_format_has_package_files(fmt)};
    /* the CSVs' lines (and the spools' rows) of each record, kept by the export cache: one
     * kind for the CSVs alone, one with the spools (a package's files) */
    struct dataset_stream s = {.on_rows = export_rows,
                               .write = export_write,
                               .ctx = &o,
                               .nout = o.spooled ? 2 * ADS_NTABLES : ADS_NTABLES,
                               .cache_kind = o.spooled ? "dataset-spooled" : "dataset",
                               .cache_layout = o.spooled ? "csv lines, spool rows" : "csv lines",
                               .cache_stats = cache};
    /* the files are made before the derivation starts: a folder that cannot be written is
     * said at once, not after the whole study has been read */
    derive_init(ds);
    int rc = csv_open(&o.csv, ds, dir, e);
    for (int i = 0; rc == 0 && o.spooled && i < ADS_NTABLES; i++)
        rc = dataset_spool_open(&o.spool[i], dir, ds->t[i].name, ds->t[i].cols, ds->t[i].ncols, e);
    if (rc == 0)
        rc = dataset_stream_store(st, ds, &s, e);
    rc = csv_close(&o.csv, ds, rc, e);
    if (rc == 0 && o.spooled) { /* the package's files, two at a time */
        struct dataset_spool *sp[ADS_NTABLES];
        for (int i = 0; i < ADS_NTABLES; i++)
            sp[i] = &o.spool[i];
        struct pkg_files x = {o.spool, dir, fmt};
        rc = dataset_spools_each(ADS_NTABLES, sp, pkg_file, &x, e);
    }
    if (rc == 0)
        rc = dataset_write_r_loader(ds, dir, fmt, e);
    for (int i = 0; i < ADS_NTABLES; i++)
        if (o.spool[i].f)
            dataset_spool_close(&o.spool[i]);
    return rc;
}

int dataset_read(const char *dir, struct adataset *ds, struct err *e)
{
    derive_init(ds);
    int rc = 0;
    struct strbuf mark = STRBUF_INIT;
    strbuf_addf(&mark, "%s/%s", dir, DATASET_SYNTHETIC_FILE);
    struct stat sb;
    ds->is_synthetic = !mark.failed && stat(strbuf_str(&mark), &sb) == 0;
    strbuf_release(&mark);
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        struct atable *t = &ds->t[i];
        struct strbuf path = STRBUF_INIT;
        strbuf_addf(&path, "%s/%s.csv", dir, t->name);
        struct csv_table ct;
        rc = csv_read_file(strbuf_str(&path), &ct, e);
        strbuf_release(&path);
        if (rc)
            break;
        int map[64];
        for (size_t c = 0; c < t->ncols && rc == 0; c++) {
            map[c] = csv_col(&ct, t->cols[c].name);
            if (map[c] < 0)
                rc = err_set_field(e, ERR_INVALID, t->cols[c].name, "%s/%s.csv: no column '%s'",
                                   dir, t->name, t->cols[c].name);
        }
        for (size_t r = 0; r < ct.nrows && rc == 0; r++) {
            size_t row;
            rc = atable_add_row(t, &row);
            for (size_t c = 0; c < t->ncols && rc == 0; c++)
                rc = atable_set(t, row, c, ct.rows[r][map[c]]);
        }
        csv_table_free(&ct);
    }
    if (rc)
        derive_free(ds);
    return rc;
}

int dataset_file_sha256(const char *path, char hex[65], long long *bytes, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    struct digest h;
    digest_init(&h);
    unsigned char buf[65536];
    size_t n;
    long long total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        digest_add(&h, buf, n);
        total += (long long)n;
    }
    int rc = ferror(f) ? err_set(e, ERR_IO, "%s: read failed", path) : 0;
    (void)fclose(f);
    if (rc)
        return rc;
    digest_hex(&h, hex);
    if (bytes)
        *bytes = total;
    return 0;
}

char *dataset_file_buffer(FILE *f, size_t size)
{
    char *buf = malloc(size);
    if (buf)
        (void)setvbuf(f, buf, _IOFBF, size);
    return buf;
}

/* The file's size and SHA-256 (hex) into the manifest's list. */
static int manifest_file(json_t *files, const char *dir, const char *name, struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/%s", dir, name);
    char hex[65];
    long long total = 0;
    int rc = path.failed ? err_set(e, ERR_NOMEM, "out of memory")
                         : dataset_file_sha256(path.buf, hex, &total, e);
    strbuf_release(&path);
    if (rc)
        return rc;
    return json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "file", name, "bytes",
                                                  (json_int_t)total, "sha256", hex));
}

/* Writes dir/manifest.json: the lock (null members when lock_id is NULL) and files (stolen). */
static int manifest_save(const char *dir, const char *lock_id, const char *locked_at,
                         const char *audit_head, json_t *files, struct err *e)
{
    json_t *m =
        json_pack("{s:o, s:o, s:o, s:o}", "lock_id", lock_id ? json_string(lock_id) : json_null(),
                  "locked_at", lock_id ? json_string(locked_at) : json_null(), "audit_head",
                  lock_id ? json_string(audit_head) : json_null(), "files", files);
    char *text = m ? json_out_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    int rc = text ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, text);
        strbuf_addc(&sb, '\n');
        rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : dataset_write_file(dir, DATASET_MANIFEST_FILE, sb.buf, sb.len, e);
        strbuf_release(&sb);
    }
    free(text);
    json_decref(m);
    return rc;
}

/* Lists dir/<fmt's file for table> when fmt has one (dataset_package_file). */
static int manifest_package_file(json_t *files, const char *dir, enum dataset_format fmt,
                                 const char *table, struct err *e)
{
    struct strbuf name = STRBUF_INIT;
    int has = dataset_package_file(fmt, table, &name);
    int rc = has < 0 ? err_set(e, ERR_NOMEM, "out of memory")
             : has   ? manifest_file(files, dir, strbuf_str(&name), e)
                     : 0;
    strbuf_release(&name);
    return rc;
}

int dataset_export_files(const struct adataset *ds, enum dataset_format fmt, const char *dir,
                         json_t **out, struct err *e)
{
    json_t *files = json_array();
    *out = NULL;
    int rc = files ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        char name[64];
        fmt_exact(name, sizeof name, "%s.csv", ds->t[i].name);
        rc = manifest_file(files, dir, name, e);
        if (rc == 0)
            rc = manifest_package_file(files, dir, fmt, ds->t[i].name, e);
    }
    if (rc == 0)
        rc = manifest_file(files, dir, "dataset_dictionary.csv", e);
    if (rc == 0 && ds->is_synthetic)
        rc = manifest_file(files, dir, DATASET_SYNTHETIC_FILE, e);
    if (rc == 0)
        rc = manifest_package_file(files, dir, fmt, NULL, e);
    if (rc)
        json_decref(files);
    else
        *out = files;
    return rc;
}

int dataset_write_manifest(const struct adataset *ds, enum dataset_format fmt, const char *dir,
                           const char *lock_id, const char *locked_at, const char *audit_head,
                           struct err *e)
{
    json_t *files;
    int rc = dataset_export_files(ds, fmt, dir, &files, e);
    return rc ? rc : manifest_save(dir, lock_id, locked_at, audit_head, files, e);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every regular file under root/rel (rel "" for root itself) to files, in byte order
 * of the path (not the directory's order, nor the locale's), skipping the top manifest. */
static int manifest_tree(json_t *files, const char *root, const char *rel, struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, rel[0] ? "%s/%s" : "%s", root, rel);
    DIR *d = path.failed ? NULL : opendir(path.buf);
    if (!d) {
        int rc = err_set(e, ERR_IO, "%s: cannot list: %s", strbuf_str(&path), strerror(errno));
        strbuf_release(&path);
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (!rel[0] && strcmp(de->d_name, DATASET_MANIFEST_FILE) == 0))
            continue;
        char **g = array_grow(names, n, &cap, sizeof *g, 32);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        names = g;
        names[n] = strdup(de->d_name);
        rc = names[n++] ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    }
    closedir(d);
    if (rc == 0)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct strbuf sub = STRBUF_INIT;
        strbuf_addf(&sub, rel[0] ? "%s/%s" : "%s%s", rel, names[i]);
        struct strbuf full = STRBUF_INIT;
        strbuf_addf(&full, "%s/%s", root, strbuf_str(&sub));
        struct stat sb;
        if (sub.failed || full.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (stat(full.buf, &sb) != 0)
            rc = err_set(e, ERR_IO, "%s: %s", full.buf, strerror(errno));
        else if (S_ISDIR(sb.st_mode))
            rc = manifest_tree(files, root, sub.buf, e);
        else if (S_ISREG(sb.st_mode))
            rc = manifest_file(files, root, sub.buf, e);
        strbuf_release(&sub);
        strbuf_release(&full);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    strbuf_release(&path);
    return rc;
}

int dataset_write_tree_manifest(const char *dir, const char *lock_id, const char *locked_at,
                                const char *audit_head, struct err *e)
{
    json_t *files = json_array();
    int rc = files ? manifest_tree(files, dir, "", e) : err_set(e, ERR_NOMEM, "out of memory");
    if (rc) {
        json_decref(files);
        return rc;
    }
    return manifest_save(dir, lock_id, locked_at, audit_head, files, e);
}
