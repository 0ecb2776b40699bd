/* The web server's cache of read answers (src/http/readcache.h) against a real PostgreSQL study,
 * step by step where the end-to-end test (tests/e2e/two_servers.mjs) can only sample timing:
 * an answer is handed out again until a change to its record (or to everything) is heard; a
 * change committed while an answer was being read keeps that answer from being kept, whether it
 * is heard before the answer is stored or after; another record's change leaves it alone; a
 * session past its quiet time is not answered from the cache; a lost listening connection turns
 * the cache off, and it comes back, empty, a second later. Changes are made behind the store's
 * back with libpq, as psql would: the triggers, not ioheme's code, must tell of them.
 *
 * PostgreSQL only (IOHEME_TEST_PG, the ctest "pg" fixture): on SQLite there is no cache, and
 * each test skips. */
#include "store_test_util.h"

#include <time.h>

#include "http/readcache.h"
#include "store/listen.h"

static void no_park(void *conn)
{
    (void)conn;
    fail_msg("a request without a connection was parked");
}

struct rig {
    struct tdb t;
    struct http_readcache *c;
    PGconn *behind;
    long long rec1, rec2;
};

static long long record_id(struct rig *g, const char *scr)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM record WHERE screening_no = '%s'", scr);
    PGresult *r = db_pg_exec(g->behind, sql);
    long long id = PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    assert_true(id > 0);
    return id;
}

static bool rig_open(struct rig *g, const char *name)
{
    memset(g, 0, sizeof *g);
    if (!tdb_is_pg())
        return false;
    tdb_open(&g->t, name);
    char scr1[16], scr2[16];
    screen(&g->t, scr1, "age", "40", "sex", "1", NULL);
    screen(&g->t, scr2, "age", "50", "sex", "2", NULL);
    struct err e = {0};
    assert_int_equal(store_listen_triggers(g->t.st, &e), 0);
    assert_int_equal(http_readcache_open(g->t.path, no_park, no_park, &g->c, &e), 0);
    g->behind = db_pg(g->t.path);
    g->rec1 = record_id(g, scr1);
    g->rec2 = record_id(g, scr2);
    return true;
}

static void rig_close(struct rig *g)
{
    http_readcache_close(g->c);
    PQfinish(g->behind);
    tdb_close(&g->t);
}

/* A change committed behind the store's back, as psql makes it. */
static void behind(struct rig *g, const char *sql)
{
    PQclear(db_pg_exec(g->behind, sql));
}

static void change_record(struct rig *g, long long id)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE value SET value = value || 'x' WHERE record_id = %lld AND field = 'age'", id);
    behind(g, sql);
}

#define FAR 4102444800000LL /* 2100-01-01: a session that needs no slide */

/* readcache_ready (a barrier), then a lookup; the body found, if any, in *body. */
static enum http_readcache_result look(struct rig *g, const char *key, long long now,
                                       struct strbuf *body, uint64_t *ticket)
{
    strbuf_reset(body);
    assert_true(http_readcache_ready(g->c, 0, NULL));
    struct http_readcache_answer ans;
    return http_readcache_get(g->c, key, strlen(key), now, &ans, body, ticket);
}

static void keep(struct rig *g, const char *key, uint64_t ticket, long long rec, const char *body)
{
    struct http_readcache_answer ans = {.status = 200, .content_type = "application/json"};
    ans.user.session_quiet_until_ms = FAR;
    http_readcache_put(g->c, key, strlen(key), ticket, rec, &ans, body, strlen(body));
}

static void test_kept_until_its_record_changes(void **state)
{
    (void)state;
    struct rig g;
    if (!rig_open(&g, "rc_kept"))
        skip();
    struct strbuf body = STRBUF_INIT;
    uint64_t ticket = 0;
    const char *k1 = "session-a /api/v1/records/1", *k2 = "session-a /api/v1/records/2";
    assert_int_equal(look(&g, k1, 0, &body, &ticket), HTTP_READCACHE_MISS);
    keep(&g, k1, ticket, g.rec1, "{\"one\":1}");
    assert_int_equal(look(&g, k2, 0, &body, &ticket), HTTP_READCACHE_MISS);
    keep(&g, k2, ticket, g.rec2, "{\"two\":2}");
    assert_int_equal(look(&g, k1, 0, &body, &ticket), HTTP_READCACHE_HIT);
    assert_string_equal(body.buf, "{\"one\":1}");
    /* a change to record 2 leaves record 1's answer, and retires record 2's */
    change_record(&g, g.rec2);
    assert_int_equal(look(&g, k1, 0, &body, &ticket), HTTP_READCACHE_HIT);
    assert_int_equal(look(&g, k2, 0, &body, &ticket), HTTP_READCACHE_MISS);
    /* past the session's quiet time the answer is not handed out */
    assert_int_equal(look(&g, k1, FAR, &body, &ticket), HTTP_READCACHE_MISS);
    /* a change to a user retires everything */
    assert_int_equal(look(&g, k1, 0, &body, &ticket), HTTP_READCACHE_HIT);
    behind(&g, "UPDATE \"user\" SET full_name = 'Ada' WHERE name = 'admin'");
    assert_int_equal(look(&g, k1, 0, &body, &ticket), HTTP_READCACHE_MISS);
    strbuf_release(&body);
    rig_close(&g);
}

static void test_a_change_during_the_read_is_not_kept(void **state)
{
    (void)state;
    struct rig g;
    if (!rig_open(&g, "rc_during"))
        skip();
    struct strbuf body = STRBUF_INIT;
    uint64_t ticket = 0;
    const char *k = "session-b /api/v1/records/1/forms/screening";
    /* committed while the answer was read, heard before it is stored: not kept */
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_MISS);
    change_record(&g, g.rec1);
    assert_true(http_readcache_ready(g.c, 0, NULL)); /* another request's barrier hears it */
    keep(&g, k, ticket, g.rec1, "{\"stale\":1}");
    /* committed while it was read, heard only after it is stored: retired by the next barrier */
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_MISS);
    change_record(&g, g.rec1);
    keep(&g, k, ticket, g.rec1, "{\"stale\":2}");
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_MISS);
    /* nothing committed meanwhile: kept */
    keep(&g, k, ticket, g.rec1, "{\"fresh\":1}");
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_HIT);
    assert_string_equal(body.buf, "{\"fresh\":1}");
    strbuf_release(&body);
    rig_close(&g);
}

static void test_a_lost_listener_turns_the_cache_off_until_it_is_back(void **state)
{
    (void)state;
    struct rig g;
    if (!rig_open(&g, "rc_lost"))
        skip();
    struct strbuf body = STRBUF_INIT;
    uint64_t ticket = 0;
    const char *k = "session-c /api/v1/records/1";
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_MISS);
    keep(&g, k, ticket, g.rec1, "{\"one\":1}");
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_HIT);
    /* pg_terminate_backend only signals: wait until the listener's backend is gone */
    behind(&g, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
               "'" STORE_LISTEN_APP_NAME "'");
    for (int i = 0; i < 500; i++) {
        PGresult *r = db_pg_exec(g.behind, "SELECT count(*) FROM pg_stat_activity WHERE "
                                           "application_name = '" STORE_LISTEN_APP_NAME "'");
        bool gone = strcmp(PQgetvalue(r, 0, 0), "0") == 0;
        PQclear(r);
        if (gone)
            break;
        struct timespec tick = {0, 10000000};
        nanosleep(&tick, NULL);
    }
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_OFF);
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_OFF); /* not tried yet */
    struct timespec pause = {1, 100000000};
    nanosleep(&pause, NULL);
    /* back, and empty: what was kept before the loss is gone */
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_MISS);
    keep(&g, k, ticket, g.rec1, "{\"again\":1}");
    assert_int_equal(look(&g, k, 0, &body, &ticket), HTTP_READCACHE_HIT);
    assert_string_equal(body.buf, "{\"again\":1}");
    strbuf_release(&body);
    rig_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_until_its_record_changes),
        cmocka_unit_test(test_a_change_during_the_read_is_not_kept),
        cmocka_unit_test(test_a_lost_listener_turns_the_cache_off_until_it_is_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
