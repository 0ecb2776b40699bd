/* WAL checkpoints: with autocheckpoint off (the web server's connections) a COMMIT never copies
 * pages into the database file, while the default (the CLI's) does once the WAL passes 1000
 * pages; store_checkpoint copies, restarts and truncates the WAL; synchronous=FULL stays.
 *
 * The commits here write a scratch table straight on the store's connection: what is under
 * test is that connection's configuration, and ~50 pages per commit reach SQLite's 1000-page
 * threshold in a few dozen fsyncs. */
#include <sys/stat.h>

#include "store_test_util.h"

#include "store/store_int.h" /* the connection: scratch writes and PRAGMA reads */

#define PAGES_PER_COMMIT 50
#define COMMITS 30 /* 1500 pages: past the 1000-page default threshold */

/* A row of just under a page: the database's page size (16 KiB for a new one) less room for
 * the page and cell headers. */
static long long row_bytes;

static int pragma_int(struct store *st, const char *sql);

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "checkpoint");
    assert_int_equal(
        sqlite3_exec(store_sql_sqlite(t->st->db), "CREATE TABLE pad(x BLOB)", NULL, NULL, NULL),
        SQLITE_OK);
    row_bytes = pragma_int(t->st, "PRAGMA page_size") - 196;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

/* Each commit inserts PAGES_PER_COMMIT rows of just under a page each. */
static void commit_pages(struct store *st, int commits)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
             "i < %d) INSERT INTO pad SELECT randomblob(%lld) FROM n; COMMIT",
             PAGES_PER_COMMIT, row_bytes);
    for (int i = 0; i < commits; i++)
        assert_int_equal(sqlite3_exec(store_sql_sqlite(st->db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static long long file_size(const char *path, const char *suffix)
{
    char p[600];
    snprintf(p, sizeof p, "%s%s", path, suffix);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static int pragma_int(struct store *st, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(store_sql_sqlite(st->db), sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static struct store *open_other(const struct tdb *t)
{
    struct store *st = NULL;
    struct err e = {0};
    if (store_open(t->path, &st, &e) != 0)
        fail_msg("store_open: %s", e.msg);
    return st;
}

static struct store_checkpoint_result checkpoint(struct store *st, enum store_checkpoint_mode m,
                                                 int wait_ms)
{
    struct store_checkpoint_result r;
    struct err e = {0};
    if (store_checkpoint(st, m, wait_ms, &r, &e) != 0)
        fail_msg("store_checkpoint: %s", e.msg);
    return r;
}

static void test_default_connection_checkpoints_inside_its_commits(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(pragma_int(t->st, "PRAGMA wal_autocheckpoint"), 1000);
    /* the WAL starts empty, so the creation's own pages do not count toward the 1000 */
    assert_true(checkpoint(t->st, STORE_CKPT_TRUNCATE, 100).is_complete);
    long long db_before = file_size(t->path, "");
    commit_pages(t->st, COMMITS);
    /* A commit past 1000 pages copied them into the database file, and the next one started
     * the WAL over. */
    assert_true(file_size(t->path, "") > db_before + 1000 * row_bytes);
    struct store *other = open_other(t);
    struct store_checkpoint_result r = checkpoint(other, STORE_CKPT_PASSIVE, 0);
    assert_true(r.wal_frames < 1000);
    store_close(other);
}

static void test_server_connection_commits_never_checkpoint(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_set_autocheckpoint(t->st, false, NULL), 0);
    assert_int_equal(pragma_int(t->st, "PRAGMA wal_autocheckpoint"), 0);
    /* Durability unchanged: every COMMIT still fsyncs the WAL. */
    assert_int_equal(pragma_int(t->st, "PRAGMA synchronous"), 2 /* FULL */);
    long long db_before = file_size(t->path, "");
    commit_pages(t->st, COMMITS);
    /* Every page is still only in the WAL: no commit copied any into the database file. */
    assert_int_equal(file_size(t->path, ""), db_before);
    assert_true(file_size(t->path, "-wal") >= COMMITS * PAGES_PER_COMMIT * 4096LL);

    /* The checkpointer's connection then copies them all. */
    struct store *other = open_other(t);
    assert_int_equal(store_set_autocheckpoint(other, false, NULL), 0);
    struct store_checkpoint_result r = checkpoint(other, STORE_CKPT_PASSIVE, 0);
    assert_true(r.wal_frames >= COMMITS * PAGES_PER_COMMIT);
    assert_int_equal(r.copied_frames, r.wal_frames);
    assert_true(r.is_complete);
    assert_true(file_size(t->path, "") > db_before + COMMITS * PAGES_PER_COMMIT * row_bytes);

    /* Idle: TRUNCATE empties the -wal file; nothing committed is lost. */
    r = checkpoint(other, STORE_CKPT_TRUNCATE, 100);
    assert_true(r.is_complete);
    assert_int_equal(r.wal_frames, 0);
    assert_int_equal(file_size(t->path, "-wal"), 0);
    assert_int_equal(pragma_int(other, "SELECT count(*) FROM pad"), COMMITS * PAGES_PER_COMMIT);
    store_close(other);
}

static void test_restart_waits_for_readers_then_bounds_the_wal(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_set_autocheckpoint(t->st, false, NULL), 0);
    struct store *ckpt = open_other(t), *reader = open_other(t);
    commit_pages(t->st, 2);
    /* A reader whose snapshot is in the WAL keeps the WAL in use. */
    assert_int_equal(sqlite3_exec(store_sql_sqlite(reader->db), "BEGIN; SELECT count(*) FROM pad",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    commit_pages(t->st, 4);
    struct store_checkpoint_result r = checkpoint(ckpt, STORE_CKPT_RESTART, 20);
    assert_false(r.is_complete); /* gave up waiting for the reader: not an error */
    assert_true(r.wal_frames >= 6 * PAGES_PER_COMMIT);
    commit_pages(t->st, 1); /* the writer was only held off for the wait */

    assert_int_equal(sqlite3_exec(store_sql_sqlite(reader->db), "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    r = checkpoint(ckpt, STORE_CKPT_RESTART, 20);
    assert_true(r.is_complete);
    assert_true(r.wal_frames >= 7 * PAGES_PER_COMMIT);
    /* The next commit writes the WAL from its start. */
    commit_pages(t->st, 1);
    r = checkpoint(ckpt, STORE_CKPT_PASSIVE, 0);
    assert_true(r.wal_frames <= PAGES_PER_COMMIT + 10);
    store_close(reader);
    store_close(ckpt);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_default_connection_checkpoints_inside_its_commits),
        T(test_server_connection_commits_never_checkpoint),
        T(test_restart_waits_for_readers_then_bounds_the_wal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
