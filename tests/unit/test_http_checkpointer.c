/* The web server's checkpointer thread (src/http/checkpointer.c): while the writer commits with
 * autocheckpoint off, the thread keeps the WAL bounded (RESTART once it passes the bound, after
 * readers let go) and truncates it when writes stop; it stops promptly. */
#include <sys/stat.h>
#include <time.h>

#include "store_test_util.h"

#include "http/checkpointer.h"
#include "store/store_int.h" /* the connection: scratch writes, a pinned reader */

static const struct http_ckpt_policy FAST = {
    .tick_ms = 5, .idle_ticks = 4, .bound_frames = 100, .wait_ms = 10};

static void commit_pages(struct store *st, int commits)
{
    for (int i = 0; i < commits; i++)
        assert_int_equal(sqlite3_exec(store_sql_sqlite(st->db),
                                      "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
                                      "i + 1 FROM n WHERE i < 20) INSERT INTO pad SELECT "
                                      "randomblob(3900) FROM n; COMMIT",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
}

static long long wal_size(const struct tdb *t)
{
    char p[600];
    snprintf(p, sizeof p, "%s-wal", t->path);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls for up to 10 s (a loaded machine, sanitizers) until the WAL file is empty. */
static bool wal_becomes_empty(const struct tdb *t)
{
    for (int i = 0; i < 1000; i++, sleep_ms(10))
        if (wal_size(t) == 0)
            return true;
    return false;
}

/* A fresh database whose connection commits as the server's writer does (no autocheckpoint),
 * with a scratch table to fill. */
static void open_as_server(struct tdb *t, const char *name)
{
    tdb_open(t, name);
    assert_int_equal(store_set_autocheckpoint(t->st, false, NULL), 0);
    assert_int_equal(
        sqlite3_exec(store_sql_sqlite(t->st->db), "CREATE TABLE pad(x BLOB)", NULL, NULL, NULL),
        SQLITE_OK);
}

static void test_checkpointer_truncates_the_wal_when_writes_stop(void **state)
{
    (void)state;
    struct tdb t;
    open_as_server(&t, "ckpt_idle");
    struct http_checkpointer *c = NULL;
    struct err e = {0};
    assert_int_equal(http_checkpointer_start(t.path, &FAST, stderr, &c, &e), 0);
    commit_pages(t.st, 10);
    assert_true(wal_becomes_empty(&t));
    struct http_ckpt_stats s;
    http_checkpointer_stop(c, &s);
    assert_true(s.passive >= 1);
    assert_true(s.truncate >= 1);
    assert_int_equal(db_int(t.path, "SELECT count(*) FROM pad"), 200);
    tdb_close(&t);
}

static void test_checkpointer_restarts_a_wal_past_its_bound(void **state)
{
    (void)state;
    struct tdb t;
    open_as_server(&t, "ckpt_bound");
    commit_pages(t.st, 1);
    /* A reader keeps its snapshot in the WAL while the writer goes past the bound. */
    struct store *reader = NULL;
    struct err e = {0};
    assert_int_equal(store_open(t.path, &reader, &e), 0);
    assert_int_equal(sqlite3_exec(store_sql_sqlite(reader->db), "BEGIN; SELECT count(*) FROM pad",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct http_checkpointer *c = NULL;
    assert_int_equal(http_checkpointer_start(t.path, &FAST, stderr, &c, &e), 0);
    struct http_ckpt_stats s = {0};
    for (int i = 0; i < 1000 && s.restart == 0; i++) {
        commit_pages(t.st, 1);
        http_checkpointer_stats(c, &s);
    }
    /* RESTART tried, waited wait_ms for the reader and gave up; the writer went on. */
    assert_true(s.restart >= 1);
    assert_true(s.restart_gave_up >= 1);
    assert_true(s.max_wal_frames > FAST.bound_frames);
    assert_int_equal(sqlite3_exec(store_sql_sqlite(reader->db), "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    store_close(reader);
    assert_true(wal_becomes_empty(&t));
    http_checkpointer_stop(c, &s);
    tdb_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpointer_truncates_the_wal_when_writes_stop),
        cmocka_unit_test(test_checkpointer_restarts_a_wal_past_its_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
