/* Opening, creating and closing the database; the clock and audit timestamps; the protocol
 * stored inside the database; online backup. The statements, transactions and SQLite's errors
 * are db.c's, below this file.
 *
 * Connection settings, for every connection:
 *   page_size=16384    for a new database only (SQLite ignores it once the file has pages):
 *                      a 100,000-row import stores ~2 GB in one transaction, and 16 KiB pages
 *                      write it with a quarter of the system calls and B-tree pages of 4 KiB
 *                      (SQLite alone storing an import's rows: 35 s -> 29 s, bench/redcap).
 *   journal_mode=WAL   readers do not block the writer (the web server reads while a nurse
 *                      saves); a crash mid-save leaves the last committed state.
 *   synchronous=FULL   every COMMIT is fsynced (the WAL too) before it returns: a save the
 *                      user was told succeeded survives a power cut. Costs a few ms per
 *                      transaction; batches amortise it.
 *   foreign_keys=ON    values and statuses cannot point at a record that does not exist.
 *   busy handler       a second writer waits its turn — jittered retries for up to
 *                      STORE_BUSY_WAIT_MS (store.h) — and only then fails, with ERR_BUSY
 *                      (HTTP 503 + Retry-After, exit 14), never as an I/O error.
 *   SQLITE_OPEN_NOMUTEX  a struct store is used by one thread at a time (store.h), so the
 *                      connection skips SQLite's per-call mutex.
 *   cache_size=64 MiB  a simulate batch's dirty pages stay in memory until COMMIT instead of
 *                      spilling to the WAL mid-transaction and being read back (the default
 *                      2 MiB spills after a few hundred patients); memory grows only as pages
 *                      are used. Durability is unchanged: COMMIT still fsyncs. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "formats/csv.h"
#include "store/store_int.h"
#include "store/write_int.h"

/* Writes v as exactly width decimal digits (v < 10^width) at p. */
static void put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

void store_ts_format(long long ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    /* By hand rather than snprintf: every audit row formats one. The modulos bound every
     * field's width; real values already fit. */
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_digits(out, (unsigned)(tm.tm_year + 1900) % 10000u, 4);
    put_digits(out + 5, (unsigned)(tm.tm_mon + 1) % 100u, 2);
    put_digits(out + 8, (unsigned)tm.tm_mday % 100u, 2);
    put_digits(out + 11, (unsigned)tm.tm_hour % 100u, 2);
    put_digits(out + 14, (unsigned)tm.tm_min % 100u, 2);
    put_digits(out + 17, (unsigned)tm.tm_sec % 100u, 2);
    put_digits(out + 20, (unsigned)(ms % 1000) % 1000u, 3);
}

long long store_ts_parse(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

static long long system_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_set_clock(struct store *st, store_clock_fn fn, void *ctx)
{
    st->clock = fn ? fn : system_clock;
    st->clock_ctx = ctx;
}

long long store_now_ms(struct store *st)
{
    return st->clock(st->clock_ctx);
}

const struct dict *store_dict(const struct store *st)
{
    return &st->dict;
}

/* path without a password a postgres:// URL may carry (error messages name the database) */
static void display_name(const char *path, char *out, size_t len)
{
    const char *at = store_is_postgres_url(path) ? strchr(path, '@') : NULL;
    const char *scheme_end = strstr(path, "://");
    const char *colon =
        at && scheme_end ? memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3)) : NULL;
    if (colon)
        fmt_text(out, len, "%.*s:***%s", (int)(colon - path), path, at);
    else
        fmt_text(out, len, "%s", path);
}

static int db_connect(const char *path, int flags, struct store **out, struct err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_INTERNAL, "libsodium could not be initialised");
    struct store *st = calloc(1, sizeof *st);
    if (!st)
        return err_set(e, ERR_NOMEM, "out of memory");
    st->clock = system_clock;
    bool pg = store_is_postgres_url(path);
    char name[512];
    display_name(path, name, sizeof name);
    int r = pg ? store_sql_open_postgres(path, &st->db)
               : store_sql_open_sqlite(path, flags | SQLITE_OPEN_NOMUTEX, &st->db);
    if (r != SQLITE_OK) {
        err_set(e, r == SQLITE_NOMEM ? ERR_NOMEM : ERR_IO, "%s: %s", name,
                st->db ? store_sql_errmsg(st->db) : "cannot open");
        store_close(st);
        return r == SQLITE_NOMEM ? ERR_NOMEM : ERR_IO;
    }
    if (!pg) {
        sqlite3_extended_result_codes(store_sql_sqlite(st->db), 1);
        if (snprintf(st->db_path, sizeof st->db_path, "%s", path) >= (int)sizeof st->db_path)
            st->db_path[0] = '\0'; /* no export cache (report/dataset_cache.c) beside it */
    }
    store_db_wait_when_busy(st);
    if (store_sites_register(st, e) != 0) {
        store_close(st);
        return ERR_IO;
    }
    int rc = pg ? 0
                : store_exec_sql(st->db,
                                 "PRAGMA page_size = 16384; "
                                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                                 "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536",
                                 e);
    if (rc) {
        err_prefix(e, "%s", name);
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int application_id(struct store *st, int *id, struct err *e)
{
    const char *what = "reading the application id";
    sqldb_stmt *s;
    int rc = store_stmt_prepare(st, "PRAGMA application_id", &s, what, e);
    if (rc)
        return rc;
    if (store_step(st, s) != SQLITE_ROW) {
        store_sql_finalize(s);
        return store_db_fail(st, e, what);
    }
    *id = store_sql_col_int(s, 0);
    store_sql_finalize(s);
    return 0;
}

int store_open(const char *path, struct store **out, struct err *e)
{
    *out = NULL;
    bool pg = store_is_postgres_url(path);
    struct stat sb;
    if (!pg && stat(path, &sb) != 0)
        return err_set(e, ERR_NOT_FOUND, "%s: no such database (create one with 'ioheme init')",
                       path);
    struct store *st;
    int rc = db_connect(path, SQLITE_OPEN_READWRITE, &st, e);
    if (rc)
        return rc;
    char name[512];
    display_name(path, name, sizeof name);
    int v = SCHEMA_VERSION;
    if (pg) {
        v = store_schema_pg_version(st->db);
    } else {
        int id = 0;
        rc = application_id(st, &id, e);
        if (!rc && id != IOHEME_APPLICATION_ID)
            rc = err_set(e, ERR_INVALID, "%s: not an ioheme database", path);
        if (!rc)
            rc = store_schema_version(st->db, &v, e);
    }
    /* an upgrade is for good (the ioheme before refuses a newer schema): a study whose stored
     * protocol this binary's loader refuses is left as it was, for the ioheme that made it */
    if (!rc && v >= 1 && v < SCHEMA_VERSION) {
        rc = store_protocol_check_stored(st, e);
        if (rc)
            err_prefix(e,
                       "%s: not upgraded from schema version %d (left unchanged: the ioheme "
                       "that made it still opens it; amend the protocol there, then upgrade): "
                       "this ioheme refuses",
                       name, v);
    }
    if (!rc)
        rc = pg ? store_schema_pg_check(st->db, name, e) : store_schema_migrate(st->db, e);
    if (!rc)
        rc = store_dict_reload(st, e);
    if (!rc)
        rc = store_audit_load_clock(st, e);
    if (!rc)
        rc = store_keys_load(st, path, e);
    if (rc) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int put_protocol(struct store *st, const char *dir, char dict_sha[65], struct err *e)
{
    struct store_protocol_files pf;
    int rc = store_protocol_files_read(dir, &pf, e);
    if (rc)
        return rc;
    struct dict d;
    memset(&d, 0, sizeof d);
    rc = dict_load_files((const char *const *)pf.content, &d, NULL, NULL, e);
    if (rc)
        err_prefix(e, "%s", dir);
    else
        dict_free(&d);
    if (!rc) {
        memcpy(dict_sha, pf.sha256, 65);
        rc = store_protocol_put_first(st, &pf, e);
    }
    store_protocol_files_free(&pf);
    return rc;
}

/* Facts about the database's birth, for whoever inspects the file (sqlite3 FILE "SELECT * FROM
 * meta"): when, by which ioheme, with which dictionary. */
static int put_meta(struct store *st, const char *dict_sha, struct err *e)
{
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    const char *rows[][2] = {{"created_at", ts},
                             {"created_by_version", IOHEME_VERSION},
                             {"dictionary_sha256", dict_sha}};
    int rc = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && !rc; i++)
        rc = store_meta_set(st, rows[i][0], rows[i][1], e);
    return rc;
}

/* Creates path, empty, mode 0600, refusing an existing file (ERR_CONFLICT) with no window for a
 * race (O_EXCL). */
static int claim_new_file(const char *path, struct err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return err_set(e, errno == EEXIST ? ERR_CONFLICT : ERR_IO, "%s: %s", path,
                       errno == EEXIST ? "already exists (refusing to overwrite)"
                                       : strerror(errno));
    close(fd);
    return 0;
}

void store_remove_db_files(const char *path)
{
    unlink(path);
    /* a path too long to name its -wal and -shm (out of memory) leaves them: SQLite made
     * none for it either */
    for (int i = 0; i < 2; i++) {
        struct strbuf p = STRBUF_INIT;
        strbuf_addf(&p, "%s-%s", path, i ? "shm" : "wal");
        if (!p.failed)
            unlink(strbuf_str(&p));
        strbuf_release(&p);
    }
}

int store_create_empty(const char *path, struct store **out, struct err *e)
{
    *out = NULL;
    int rc = claim_new_file(path, e);
    if (rc)
        return rc;
    struct store *st = NULL;
    rc = db_connect(path, SQLITE_OPEN_READWRITE, &st, e);
    char sql[64];
    fmt_exact(sql, sizeof sql, "PRAGMA application_id = %d", IOHEME_APPLICATION_ID);
    if (!rc)
        rc = store_exec_sql(st->db, sql, e);
    if (!rc)
        rc = store_schema_migrate(st->db, e);
    if (rc) {
        store_close(st);
        store_remove_db_files(path);
        return rc;
    }
    *out = st;
    return 0;
}

/* ERR_CONFLICT when the PostgreSQL database already holds a study (or any ioheme table). */
static int pg_claim_empty(struct store *st, const char *path, struct err *e)
{
    sqldb_stmt *s = NULL;
    long long n = -1;
    if (store_sql_prepare(st->db,
                          "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
                          "tablename IN ('audit', 'ioheme_schema', 'record', 'value')",
                          false, &s) == SQLITE_OK &&
        store_sql_step(s) == SQLITE_ROW)
        n = store_sql_col_int64(s, 0);
    store_sql_finalize(s);
    char name[512];
    display_name(path, name, sizeof name);
    if (n < 0)
        return err_set(e, ERR_IO, "%s: %s", name, store_sql_errmsg(st->db));
    if (n > 0)
        return err_set(e, ERR_CONFLICT,
                       "%s already holds a study (refusing to overwrite): create it in an empty "
                       "database",
                       name);
    return 0;
}

int store_create(const char *path, const char *protocol_dir, const char *admin_user,
                 const char *admin_password, struct store **out, struct err *e)
{
    *out = NULL;
    bool pg = store_is_postgres_url(path);
    if (!store_username_is_valid(admin_user))
        return err_set_field(e, ERR_INVALID, "admin",
                             "'%s' is not a valid user name "
                             "([a-z0-9_.-], 2 to 32 characters)",
                             admin_user);
    if (strlen(admin_password) < STORE_PASSWORD_MIN)
        return err_set(e, ERR_INVALID, "the password must have at least %d characters",
                       STORE_PASSWORD_MIN);
    int rc = pg ? 0 : claim_new_file(path, e);
    if (rc)
        return rc;
    struct store *st;
    rc = db_connect(path, SQLITE_OPEN_READWRITE, &st, e);
    if (rc) {
        if (!pg)
            store_remove_db_files(path);
        return rc;
    }
    if (pg) {
        /* one transaction from the schema to the first user: a failure leaves nothing */
        rc = pg_claim_empty(st, path, e);
        if (!rc)
            rc = store_exec_sql(st->db, "BEGIN IMMEDIATE", e);
        if (!rc) {
            st->tx_depth = 1;
            struct store_tables ts = {.ar = ARENA_INIT};
            rc = store_schema_pg_create(st->db, &ts, e);
            store_schema_tables_free(&ts);
        }
    } else {
        char sql[64];
        fmt_exact(sql, sizeof sql, "PRAGMA application_id = %d", IOHEME_APPLICATION_ID);
        rc = store_exec_sql(st->db, sql, e);
        if (!rc)
            rc = store_schema_migrate(st->db, e);
        if (!rc)
            rc = store_tx_begin(st, e);
    }
    char dict_sha[65] = "";
    if (!rc) {
        rc = put_protocol(st, protocol_dir, dict_sha, e);
        if (!rc)
            rc = store_dict_reload(st, e);
        if (!rc)
            rc = put_meta(st, dict_sha, e);
        if (!rc)
            rc = store_keys_load(st, path, e);
        struct store_ctx sys = {"system", "system", dict_sha, NULL};
        struct audit_entry a = {.action = "create_db", .instance = -1, .new_value = protocol_dir};
        if (!rc)
            rc = store_audit_append(st, &sys, &a, e);
        struct store_ctx who = {"system", "system", NULL, NULL};
        if (!rc)
            rc = store_user_add(st, &who, admin_user, "admin", admin_password, e);
        if (rc)
            store_tx_rollback(st);
        else
            rc = store_tx_commit(st, e);
    }
    if (rc) {
        store_close(st);
        if (!pg)
            store_remove_db_files(path);
        return rc;
    }
    *out = st;
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    while (st->tx_depth > 0)
        store_tx_rollback(st);
    for (size_t i = 0; i < SQ__COUNT; i++)
        store_sql_finalize(st->stmts[i]);
    store_sql_close(st->db);
    if (st->has_dict)
        dict_free(&st->dict);
    store_dict_retired_free(st);
    arena_free(&st->ar);
    strbuf_release(&st->canon);
    store_putcache_drop(st->putcache);
    free(st->putcache);
    free(st);
}

int store_protocol_file(struct store *st, const char *name, char **out, struct err *e)
{
    *out = NULL;
    sqldb_stmt *s = store_stmt_get(st, SQ_PROTO_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, name);
    int r = store_step(st, s);
    if (r == SQLITE_DONE) {
        store_sql_reset(s);
        return err_set(e, ERR_NOT_FOUND, "protocol file %s is not in the database", name);
    }
    if (r != SQLITE_ROW)
        return store_db_fail(st, e, "reading the protocol");
    /* A protocol stored before the loader refused text that is not UTF-8 (2026-12-07) may hold
     * such bytes: it is read with each as U+FFFD, so the study still opens (the loader would
     * refuse it) and its labels go out as valid HTML, JSON and XML. The stored bytes and their
     * SHA-256 stay as they were; a protocol amendment replaces them. */
    const char *v = (const char *)store_sql_col_text(s, 0);
    char *fixed = NULL;
    v = utf8_text(v ? v : "", &fixed);
    *out = fixed ? fixed : v ? strdup(v) : NULL;
    store_sql_reset(s);
    return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* The page copy itself (SQLite's online backup: one read transaction on st, so writers go on). */
static int backup_copy(struct store *st, const char *dest, struct err *e)
{
    sqlite3 *to = NULL;
    int rc = 0;
    if (sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = err_set(e, ERR_IO, "%s: %s", dest, to ? sqlite3_errmsg(to) : "cannot open");
    } else {
        sqlite3_backup *b = sqlite3_backup_init(to, "main", store_sql_sqlite(st->db), "main");
        if (!b) {
            rc = err_set(e, ERR_IO, "%s: %s", dest, sqlite3_errmsg(to));
        } else {
            int r = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            if (r != SQLITE_DONE)
                rc = err_set(e, ERR_IO, "%s: backup failed: %s", dest, sqlite3_errstr(r));
        }
    }
    if (sqlite3_close(to) != SQLITE_OK && !rc)
        rc = err_set(e, ERR_IO, "%s: closing the copy failed", dest);
    return rc;
}

/* Opens the copy as a database of its own and recomputes its audit chain. */
static int backup_verify(const char *dest, struct store_verify_result *vr, struct err *e)
{
    struct store *copy = NULL;
    int rc = store_open(dest, &copy, e);
    if (!rc)
        rc = store_audit_verify(copy, vr, e);
    store_close(copy);
    if (rc)
        err_prefix(e, "%s: the copy does not verify", dest);
    return rc;
}

int store_backup(struct store *st, const struct store_ctx *who, const char *dest,
                 struct store_verify_result *vr, struct err *e)
{
    struct store_verify_result local;
    if (!vr)
        vr = &local;
    memset(vr, 0, sizeof *vr);
    /* a backup copies every site's records */
    int rc = store_site_require_study_wide(st, who->user, "a backup", e);
    if (!rc && store_sql_is_postgres(st->db))
        rc = err_set(e, ERR_UNSUPPORTED,
                     "a study on PostgreSQL is copied with 'ioheme migrate --from URL --to "
                     "FILE.db' (a verified SQLite copy) or PostgreSQL's own backups "
                     "(docs/operations.md)");
    if (!rc)
        rc = claim_new_file(dest, e); /* a copy never lands on someone else's file */
    if (rc)
        return rc;
    /* The audit row comes before the copy: a copy exists only once a row names it, and the
     * copy carries that row as its last (its head). */
    const char *slash = strrchr(dest, '/');
    struct strbuf detail = STRBUF_INIT;
    strbuf_addf(&detail, "%s: full copy of the database, this row its last",
                slash ? slash + 1 : dest);
    rc = detail.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : store_audit_access(st, who, "backup", "backup", strbuf_str(&detail), e);
    strbuf_release(&detail);
    if (!rc)
        rc = backup_copy(st, dest, e);
    if (!rc)
        rc = backup_verify(dest, vr, e);
    if (rc)
        store_remove_db_files(dest); /* never a failure with a copy left behind */
    return rc;
}

void store_cache_key(const struct store *st, struct store_cache_key *k)
{
    k->db_path = st->db_path[0] ? st->db_path : NULL;
    k->protocol_version = st->protocol_version;
    k->may_see_identifiers = st->may_see_identifiers;
}
