/* Restoring a backup (P11-20): the backup is checked read only (SQLite's integrity_check, every
 * table's row count and SHA-256), copied next to the destination with SQLite's backup API and
 * synced; the copy is checked the same way and must equal the backup table by table; it is
 * opened as a database of its own and its audit chain verified; who restores signs in against
 * it, the restore is audited in it, and it is renamed into place. A failed restore leaves the
 * destination as it was, and the backup is never written to. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/digest.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

/* SQLite's own check of the file's structure: ERR_INTEGRITY unless it answers "ok". */
static int integrity_check(sqlite3 *db, const char *path, struct err *e)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "%s: %s", path, sqlite3_errmsg(db));
    int step = sqlite3_step(s);
    const char *v = step == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    int rc = 0;
    if (!v || strcmp(v, "ok") != 0)
        rc = err_set(e, ERR_INTEGRITY, "%s: integrity_check: %s", path, v ? v : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return rc;
}

/* Hashes one column value with its type, so 1 and '1' and NULL differ. */
static void hash_value(struct digest *h, sqlite3_stmt *s, int i)
{
    unsigned char tag = (unsigned char)sqlite3_column_type(s, i);
    digest_add(h, &tag, 1);
    const void *p = tag == SQLITE_BLOB ? sqlite3_column_blob(s, i) : sqlite3_column_text(s, i);
    unsigned long long n = (unsigned long long)sqlite3_column_bytes(s, i);
    digest_add(h, &n, sizeof n);
    if (p && n)
        digest_add(h, p, n);
}

/* One table's row count and the SHA-256 of its rows in key order (a b-tree scan: the same for
 * any two files with the same content, whatever their page layout). */
static int table_summary(sqlite3 *db, const char *table, struct store_table_summary *t,
                         struct err *e)
{
    memset(t, 0, sizeof *t);
    fmt_exact(t->table, sizeof t->table, "%s", table);
    struct strbuf sql = STRBUF_INIT;
    strbuf_adds(&sql, "SELECT * FROM \"");
    for (const char *p = table; *p; p++) /* a name, not a value: quoted as an identifier */
        strbuf_add(&sql, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    strbuf_adds(&sql, "\"");
    sqlite3_stmt *s = NULL;
    int rc = sql.failed ? err_set(e, ERR_NOMEM, "out of memory")
             : sqlite3_prepare_v2(db, strbuf_str(&sql), -1, &s, NULL) != SQLITE_OK
                 ? err_set(e, ERR_IO, "reading %s: %s", table, sqlite3_errmsg(db))
                 : 0;
    strbuf_release(&sql);
    if (rc)
        return rc;
    struct digest h;
    digest_init(&h);
    int step, ncol = sqlite3_column_count(s);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        t->rows++;
        for (int i = 0; i < ncol; i++)
            hash_value(&h, s, i);
    }
    if (step != SQLITE_DONE)
        rc = err_set(e, ERR_IO, "reading %s: %s", table, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    digest_hex(&h, t->sha256);
    return rc;
}

/* Every table of db (sqlite_ internals left out), by name. */
static int content_summary(sqlite3 *db, struct store_table_summary **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' AND name "
                           "NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "listing tables: %s", sqlite3_errmsg(db));
    size_t cap = 0;
    int rc = 0;
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        struct store_table_summary *g = array_grow(*out, *n, &cap, sizeof **out, 16);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        *out = g;
        rc = table_summary(db, (const char *)sqlite3_column_text(s, 0), &g[*n], e);
        if (!rc)
            (*n)++;
    }
    sqlite3_finalize(s);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int store_content_summary(struct store *st, struct store_table_summary **out, size_t *n,
                          struct err *e)
{
    if (!store_sql_sqlite(st->db))
        return err_set(e, ERR_UNSUPPORTED, "a content summary reads a SQLite study");
    return content_summary(store_sql_sqlite(st->db), out, n, e);
}

/* "file:PATH?immutable=1": a file read as it is, with no lock, -wal or -shm made beside it (a
 * backup is not in use; a WAL it had would have been folded in when it was made). */
static void immutable_uri(struct strbuf *sb, const char *path)
{
    strbuf_adds(sb, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("/._-~", *p))
            strbuf_add(sb, (const char *)p, 1);
        else
            strbuf_addf(sb, "%%%02X", *p);
    }
    strbuf_adds(sb, "?immutable=1");
}

/* SQLite's integrity check and the content summary of the file at path, opened read only
 * (nothing in it changes: not even a schema migration). */
static int check_file(const char *path, struct store_table_summary **sum, size_t *nsum,
                      struct err *e)
{
    sqlite3 *db = NULL;
    struct strbuf uri = STRBUF_INIT;
    immutable_uri(&uri, path);
    int rc = uri.failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    if (!rc && sqlite3_open_v2(strbuf_str(&uri), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                               NULL) != SQLITE_OK)
        rc = err_set(e, ERR_IO, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
    strbuf_release(&uri);
    if (!rc)
        rc = integrity_check(db, path, e);
    if (!rc)
        rc = content_summary(db, sum, nsum, e);
    sqlite3_close(db);
    return rc;
}

/* Copies the database file src to the new file dest (created; its directory synced by the
 * caller's rename) with SQLite's backup API, and syncs it. */
static int copy_db(const char *src, const char *dest, struct err *e)
{
    sqlite3 *from = NULL, *to = NULL;
    int rc = 0;
    struct strbuf uri = STRBUF_INIT;
    immutable_uri(&uri, src);
    if (uri.failed ||
        sqlite3_open_v2(strbuf_str(&uri), &from, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
            SQLITE_OK ||
        sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = err_set(e, ERR_IO, "copying %s to %s: cannot open", src, dest);
    } else {
        sqlite3_exec(to, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
        sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
        int r = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(to);
        if (b)
            sqlite3_backup_finish(b);
        if (r != SQLITE_DONE)
            rc = err_set(e, ERR_IO, "copying %s to %s: %s", src, dest, sqlite3_errstr(r));
        /* the copy keeps rollback-journal mode: ioheme turns WAL on when it opens it */
    }
    strbuf_release(&uri);
    if (sqlite3_close(from) != SQLITE_OK && !rc)
        rc = err_set(e, ERR_IO, "closing %s failed", src);
    if (sqlite3_close(to) != SQLITE_OK && !rc)
        rc = err_set(e, ERR_IO, "closing %s failed", dest);
    if (!rc) {
        int fd = open(dest, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0)
            rc = err_set(e, ERR_IO, "syncing %s: %s", dest, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return rc;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Syncs the directory holding path, so a rename into it survives a power cut. */
static void sync_dir_of(const char *path)
{
    char dir[4096];
    fmt_exact(dir, sizeof dir, "%s", path); /* a destination kept_path accepted */
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        fmt_exact(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The staged copy's name: next to dest, so the final rename stays on one file system. */
static int staged_path(const char *dest, char out[4096], struct err *e)
{
    if ((size_t)snprintf(out, 4096, "%s.restoring", dest) >= 4096)
        return err_set(e, ERR_INVALID, "%s: path too long", dest);
    return 0;
}

static int kept_path(const char *dest, char out[4096], struct err *e)
{
    if (!fmt_fits(out, 4096, "%s.before-restore", dest))
        return err_set(e, ERR_INVALID, "%s: path too long", dest);
    return 0;
}

int store_restore_stage(const char *backup, const char *dest, bool force,
                        struct store_restore_result *res, struct store **staged, struct err *e)
{
    memset(res, 0, sizeof *res);
    *staged = NULL;
    char tmp[4096], moved[4096], wal[4200];
    int rc = staged_path(dest, tmp, e);
    if (!rc)
        rc = kept_path(dest, moved, e);
    if (rc)
        return rc;
    fmt_exact(wal, sizeof wal, "%s-wal", dest); /* dest fits kept_path's 4096 */
    if (file_exists(dest) && !force)
        return err_set_field(e, ERR_CONFLICT, "to",
                             "%s exists: restoring replaces it; give --force (it is kept as %s)",
                             dest, moved);
    if (file_exists(wal))
        return err_set(e, ERR_CONFLICT,
                       "%s is in use (%s exists): stop the server and every command using it "
                       "first",
                       dest, wal);
    if (force && file_exists(moved))
        return err_set(e, ERR_CONFLICT, "%s exists from an earlier restore: move it away first",
                       moved);
    /* 1. the backup, read only; 2. copied next to the destination; 3. the copy, read only,
     * equal to the backup table by table; then opened (migrated if older) and its chain
     * verified */
    struct store_table_summary *before = NULL, *after = NULL;
    size_t nbefore = 0, nafter = 0;
    rc = check_file(backup, &before, &nbefore, e);
    if (rc) {
        err_prefix(e, "the backup does not check");
        return rc;
    }
    unlink(tmp); /* a copy left by a restore that was interrupted */
    rc = copy_db(backup, tmp, e);
    if (!rc)
        rc = check_file(tmp, &after, &nafter, e);
    for (size_t i = 0; !rc && i < nbefore; i++)
        if (i >= nafter || strcmp(before[i].table, after[i].table) != 0 ||
            before[i].rows != after[i].rows || strcmp(before[i].sha256, after[i].sha256) != 0)
            rc = err_set(e, ERR_INTEGRITY, "the copy differs from the backup in table %s",
                         before[i].table);
    if (!rc && nafter != nbefore)
        rc = err_set(e, ERR_INTEGRITY, "the copy has %zu tables, the backup %zu", nafter, nbefore);
    free(after);
    if (!rc)
        rc = store_open(tmp, staged, e);
    if (!rc)
        rc = store_audit_verify(*staged, &res->verify, e);
    if (rc) {
        free(before);
        store_restore_abort(*staged, dest);
        *staged = NULL;
        return rc;
    }
    res->tables = before;
    res->ntables = nbefore;
    return 0;
}

void store_restore_abort(struct store *staged, const char *dest)
{
    store_close(staged);
    char tmp[4096];
    if (staged_path(dest, tmp, NULL) == 0)
        store_remove_db_files(tmp);
}

int store_restore_commit(struct store *staged, const struct store_ctx *who, const char *backup,
                         const char *dest, bool force, struct store_restore_result *res,
                         struct err *e)
{
    char tmp[4096], moved[4096];
    int rc = staged_path(dest, tmp, e);
    if (!rc)
        rc = kept_path(dest, moved, e);
    long long rows = 0;
    for (size_t i = 0; i < res->ntables; i++)
        rows += res->tables[i].rows;
    const char *slash = strrchr(backup, '/');
    struct strbuf detail = STRBUF_INIT;
    strbuf_addf(&detail, "restored from %s: %zu tables, %lld rows, counts and SHA-256 equal",
                slash ? slash + 1 : backup, res->ntables, rows);
    if (!rc)
        rc = detail.failed
                 ? err_set(e, ERR_NOMEM, "out of memory")
                 : store_audit_access(staged, who, "restore", "restore", strbuf_str(&detail), e);
    strbuf_release(&detail);
    if (rc) {
        store_restore_abort(staged, dest);
        return rc;
    }
    store_close(staged); /* its WAL folded into the file and gone */
    /* into place: the old file kept aside, then the copy renamed over the name */
    bool had_dest = file_exists(dest);
    if (had_dest && !force)
        rc = err_set(e, ERR_CONFLICT, "%s appeared during the restore", dest);
    else if (had_dest && rename(dest, moved) != 0)
        rc = err_set(e, ERR_IO, "keeping %s as %s: %s", dest, moved, strerror(errno));
    else if (rename(tmp, dest) != 0) {
        rc = err_set(e, ERR_IO, "moving the copy to %s: %s", dest, strerror(errno));
        if (had_dest)
            (void)rename(moved, dest); /* the old file back */
    }
    if (rc) {
        store_remove_db_files(tmp);
        return rc;
    }
    sync_dir_of(dest);
    res->kept_previous = had_dest;
    fmt_exact(res->previous, sizeof res->previous, "%s", had_dest ? moved : "");
    return 0;
}

void store_restore_result_free(struct store_restore_result *r)
{
    free(r->tables);
    r->tables = NULL;
    r->ntables = 0;
}
