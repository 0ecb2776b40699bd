/* Shared by the store's unit tests: a fresh database on the small fixture protocol
 * (tests/fixtures/store/), a stepping clock, and a content digest of every table read
 * directly with SQLite (independent of the store's own reading code). Included by one test
 * file per executable, so everything here is static. */
#ifndef IOHEME_TESTS_STORE_TEST_UTIL_H
#define IOHEME_TESTS_STORE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store/store.h"

#define ADMIN_PW "admin-pass-1"

/* Password hashes at libsodium's minimum cost. The store hashes with argon2id at the
 * interactive cost (64 MiB, about 0.2 s, and as long again for every sign-in against the
 * hash), and these tests add and sign in users hundreds of times. CMakeLists.txt links every
 * test that includes this file with -Wl,--wrap for crypto_pwhash_str and
 * crypto_pwhash_str_verify, so the store's calls land here. The hash checks that the store
 * asked for the interactive cost, then hashes at the minimum; the hash records its own cost,
 * so the store verifies it as cheaply. A sign-in to an unknown, locked or disabled account
 * checks the password against the store's dummy hash, at the interactive cost, which no
 * password matches: the wrapped crypto_pwhash_str_verify fails a hash at any cost but the
 * minimum at once. A test that times sign-ins sets test_pwhash_full_cost while it runs: then
 * both calls are the real ones. */
bool test_pwhash_full_cost;
int __real_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *const passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit);
int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *const passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit);
int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *const passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit)
{
    if (opslimit != crypto_pwhash_OPSLIMIT_INTERACTIVE ||
        memlimit != crypto_pwhash_MEMLIMIT_INTERACTIVE) {
        fprintf(stderr,
                "store_test_util: the store hashed a password at %llu/%zu, not the "
                "interactive cost\n",
                opslimit, memlimit);
        abort();
    }
    if (!test_pwhash_full_cost) {
        opslimit = crypto_pwhash_OPSLIMIT_MIN;
        memlimit = crypto_pwhash_MEMLIMIT_MIN;
    }
    return __real_crypto_pwhash_str(out, passwd, passwdlen, opslimit, memlimit);
}
int __real_crypto_pwhash_str_verify(const char *str, const char *const passwd,
                                    unsigned long long passwdlen);
int __wrap_crypto_pwhash_str_verify(const char *str, const char *const passwd,
                                    unsigned long long passwdlen);
int __wrap_crypto_pwhash_str_verify(const char *str, const char *const passwd,
                                    unsigned long long passwdlen)
{
    static const char cheap[] = "$argon2id$v=19$m=8,t=1,p=1$";
    if (!test_pwhash_full_cost && strncmp(str, cheap, sizeof cheap - 1) != 0) {
        if (strncmp(str, "$argon2id$v=19$m=65536,t=2,p=1$", 31) != 0) {
            fprintf(stderr, "store_test_util: a password checked against '%.40s'\n", str);
            abort();
        }
        return -1; /* the dummy hash, or a real one when nobody asked for the cost */
    }
    return __real_crypto_pwhash_str_verify(str, passwd, passwdlen);
}

struct tdb {
    char path[512];
    struct store *st;
    long long now;
};

/* 2026-01-01T08:00:00.000Z, stepping 1 s per call. */
static inline long long test_clock(void *ctx)
{
    struct tdb *t = ctx;
    t->now += 1000;
    return t->now;
}

static inline const char *fixture_dir(void)
{
    static char buf[512];
    const char *f = getenv("IOHEME_FIXTURES");
    snprintf(buf, sizeof buf, "%s/store", f ? f : IOHEME_SOURCE_DIR "/tests/fixtures");
    return buf;
}

static inline void tdb_remove(const char *path)
{
    char p[600];
    if (strstr(path, "://"))
        return; /* a PostgreSQL database: the cluster goes at the end */
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* IOHEME_TEST_PG: the directory of a throwaway PostgreSQL cluster (tests/pg/cluster.sh, the
 * ctest "pg" fixture): each test database is then a fresh PostgreSQL database there, the same
 * test on the other backend. */
static inline bool tdb_is_pg(void)
{
    const char *pg = getenv("IOHEME_TEST_PG");
    return pg && *pg;
}

/* A fresh PostgreSQL database named after name: its URL in url. */
static inline void tdb_pg_create(const char *name, char *url, size_t len)
{
    char cmd[1024], key[600];
    snprintf(cmd, sizeof cmd, "'%s/tests/pg/cluster.sh' createdb '%s' 'st_%s_%ld'",
             IOHEME_SOURCE_DIR, getenv("IOHEME_TEST_PG"), name, (long)getpid());
    FILE *f = popen(cmd, "r");
    if (!f || !fgets(url, (int)len, f))
        fail_msg("cluster.sh createdb failed: %s", cmd);
    pclose(f);
    url[strcspn(url, "\n")] = '\0';
    /* the study's identifier key beside the test's other files */
    snprintf(key, sizeof key, "store_test_%s_%ld.key", name, (long)getpid());
    unlink(key);
    setenv("IOHEME_KEY_FILE", key, 1);
}

/* A fresh study of the protocol in folder proto, named after name (a file, or a PostgreSQL
 * database under IOHEME_TEST_PG). */
static inline void tdb_open_protocol(struct tdb *t, const char *name, const char *proto)
{
    memset(t, 0, sizeof *t);
    if (tdb_is_pg())
        tdb_pg_create(name, t->path, sizeof t->path);
    else
        snprintf(t->path, sizeof t->path, "store_test_%s_%ld.db", name, (long)getpid());
    tdb_remove(t->path);
    struct err e = {0};
    int rc = store_create(t->path, proto, "admin", ADMIN_PW, &t->st, &e);
    if (rc)
        fail_msg("store_create: %s", e.msg);
    t->now = 1767254400000LL; /* 2026-01-01T08:00:00Z */
    store_set_clock(t->st, test_clock, t);
}

/* A fresh study of the fixture protocol (tests/fixtures/store/). */
static inline void tdb_open(struct tdb *t, const char *name)
{
    tdb_open_protocol(t, name, fixture_dir());
}

static inline void tdb_close(struct tdb *t)
{
    store_close(t->st);
    t->st = NULL;
    if (tdb_is_pg() && getenv("IOHEME_KEY_FILE"))
        unlink(getenv("IOHEME_KEY_FILE"));
    tdb_remove(t->path);
}

static const struct store_ctx ADMIN = {"admin", "cli", NULL, NULL};

/* A PostgreSQL database's connection, for the helpers below (they read and write behind the
 * store's back there as sqlite3 does on a file). */
static inline PGconn *db_pg(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", url, PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

/* PQexec, failing the test unless it succeeds. */
static inline PGresult *db_pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    return r;
}

static inline void db_digest_pg(const char *url, char out[65])
{
    PGconn *c = db_pg(url);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    PGresult *t = db_pg_exec(c, "SELECT tablename FROM pg_tables WHERE schemaname = "
                                "current_schema() ORDER BY tablename COLLATE \"C\"");
    for (int i = 0; i < PQntuples(t); i++) {
        char sql[256];
        const char *name = PQgetvalue(t, i, 0);
        int ncol = PQntuples(t) ? 4 : 0;
        PGresult *n = NULL;
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM information_schema.columns WHERE "
                 "table_schema = current_schema() AND table_name = '%s'",
                 name);
        n = db_pg_exec(c, sql);
        ncol = atoi(PQgetvalue(n, 0, 0));
        PQclear(n);
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY %s", name,
                 ncol >= 4   ? "1, 2, 3, 4"
                 : ncol == 3 ? "1, 2, 3"
                 : ncol == 2 ? "1, 2"
                             : "1");
        PGresult *r = db_pg_exec(c, sql);
        crypto_hash_sha256_update(&h, (const unsigned char *)name, strlen(name) + 1);
        for (int k = 0; k < PQntuples(r); k++)
            for (int col = 0; col < PQnfields(r); col++) {
                const char *v = PQgetisnull(r, k, col) ? NULL : PQgetvalue(r, k, col);
                crypto_hash_sha256_update(
                    &h, v ? (const unsigned char *)v : (const unsigned char *)"\x01NULL",
                    v ? strlen(v) + 1 : 6);
            }
        PQclear(r);
    }
    PQclear(t);
    PQfinish(c);
    unsigned char bin[32];
    crypto_hash_sha256_final(&h, bin);
    sodium_bin2hex(out, 65, bin, sizeof bin);
}

/* SHA-256 (hex) over every row of every table, read straight from the file (or the
 * PostgreSQL database). */
static inline void db_digest(const char *path, char out[65])
{
    if (strstr(path, "://")) {
        db_digest_pg(path, out);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    sqlite3_stmt *t;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_schema WHERE type = "
                                        "'table' ORDER BY name",
                                        -1, &t, NULL),
                     SQLITE_OK);
    while (sqlite3_step(t) == SQLITE_ROW) {
        char sql[256];
        const char *name = (const char *)sqlite3_column_text(t, 0);
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1, 2, 3, 4", name);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
            snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", name);
            assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        }
        crypto_hash_sha256_update(&h, (const unsigned char *)name, strlen(name) + 1);
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                const unsigned char *v = sqlite3_column_text(s, c);
                crypto_hash_sha256_update(&h, v ? v : (const unsigned char *)"\x01NULL",
                                          v ? strlen((const char *)v) + 1 : 6);
            }
        }
        sqlite3_finalize(s);
    }
    sqlite3_finalize(t);
    sqlite3_close(db);
    unsigned char bin[32];
    crypto_hash_sha256_final(&h, bin);
    sodium_bin2hex(out, 65, bin, sizeof bin);
}

/* Runs SQL on the file behind the store's back (the attacker's sqlite3 shell). */
static inline void db_exec(const char *path, const char *sql)
{
    if (strstr(path, "://")) {
        /* the same attack in PostgreSQL's words: a trigger is disabled rather than dropped (the
         * schema names them alike), and user is quoted */
        char pg[4096] = "";
        for (const char *p = sql; *p;) {
            const char *end;
            if (strncmp(p, "DROP TRIGGER ", 13) == 0 && (end = strstr(p + 13, "_no_")) != NULL) {
                const char *semi = strchr(p, ';');
                snprintf(pg + strlen(pg), sizeof pg - strlen(pg),
                         "ALTER TABLE \"%.*s\" DISABLE TRIGGER %.*s", (int)(end - p - 13), p + 13,
                         (int)(semi - p - 13), p + 13);
                p = semi;
            } else if (strncmp(p, "UPDATE user ", 12) == 0) {
                snprintf(pg + strlen(pg), sizeof pg - strlen(pg), "UPDATE \"user\" ");
                p += 12;
            } else {
                size_t n = strlen(pg);
                if (n + 1 < sizeof pg) {
                    pg[n] = *p;
                    pg[n + 1] = '\0';
                }
                p++;
            }
        }
        PGconn *c = db_pg(path);
        PQclear(db_pg_exec(c, pg));
        PQfinish(c);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* Runs SQL behind the store's back that the database must refuse, with a message holding want. */
static inline void db_exec_refused(const char *path, const char *sql, const char *want)
{
    if (strstr(path, "://")) {
        PGconn *c = db_pg(path);
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        if (want && !strstr(PQresultErrorMessage(r), want))
            fail_msg("%s: refused with %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    if (want && !strstr(sqlite3_errmsg(db), want))
        fail_msg("%s: refused with %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The one integer a query returns, read straight from the file. */
static inline int db_int(const char *path, const char *sql)
{
    if (strstr(path, "://")) {
        PGconn *c = db_pg(path);
        PGresult *r = db_pg_exec(c, sql);
        assert_true(PQntuples(r) > 0);
        int v = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The records the store's current reader sees. */
static inline int count_records(struct store *st)
{
    struct store_record *rs = NULL;
    size_t n = 0;
    assert_int_equal(store_record_list(st, &rs, &n, NULL), 0);
    free(rs);
    return (int)n;
}

/* Screens a patient with the given screening values (NULL-terminated field/value pairs). */
static inline void screen(struct tdb *t, char scr[16], ...)
{
    struct store_change ch[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, scr);
    const char *f;
    while ((f = va_arg(ap, const char *)) != NULL && n < 16) {
        const char *v = va_arg(ap, const char *);
        const char *code = NULL;
        static char fbuf[16][64];
        const char *sep = strstr(f, "___");
        if (sep) {
            snprintf(fbuf[n], sizeof fbuf[n], "%.*s", (int)(sep - f), f);
            code = sep + 3;
            f = fbuf[n];
        }
        ch[n++] = (struct store_change){"screening_arm_1", 0, f, code, v, NULL};
    }
    va_end(ap);
    struct err e = {0};
    int rc = store_screen_create(t->st, &ADMIN, ch, n, scr, NULL, &e);
    if (rc)
        fail_msg("screen: %s", e.msg);
}

/* Counts audit rows with this action. */
struct count_ctx {
    const char *action;
    int n;
};
static inline int count_action(void *ctx, const struct store_audit_row *r)
{
    struct count_ctx *c = ctx;
    if (!c->action || strcmp(r->action, c->action) == 0)
        c->n++;
    return 0;
}
static inline int audit_count_in(struct store *st, const char *action)
{
    struct count_ctx c = {action, 0};
    assert_int_equal(store_audit_foreach(st, count_action, &c, NULL), 0);
    return c.n;
}

static inline int audit_count(struct tdb *t, const char *action)
{
    return audit_count_in(t->st, action);
}

static inline char *get(struct tdb *t, const char *rec, const char *ev, int inst, const char *f,
                        const char *code)
{
    char *v = NULL;
    struct err e = {0};
    if (store_get_value(t->st, rec, ev, inst, f, code, &v, &e))
        fail_msg("get %s: %s", f, e.msg);
    return v;
}

#define assert_value(t, rec, ev, inst, f, code, expect)                                            \
    do {                                                                                           \
        char *v_ = get(t, rec, ev, inst, f, code);                                                 \
        if ((expect) == NULL)                                                                      \
            assert_null(v_);                                                                       \
        else                                                                                       \
            assert_string_equal(v_ ? v_ : "(null)", (expect));                                     \
        free(v_);                                                                                  \
    } while (0)

#endif
