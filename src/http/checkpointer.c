/* The web server's WAL checkpointer. The server's connections never checkpoint inside a COMMIT
 * (store_set_autocheckpoint off): a checkpoint copies pages into the database file and fsyncs
 * it, and inside a commit that is tens of milliseconds added to one unlucky save. This thread
 * does it instead, on its own connection:
 *
 *   every tick   PASSIVE: copies what it can without waiting for anyone. When everything is
 *                copied and no reader still uses the WAL, the writer's next commit starts the
 *                WAL from its beginning again, so under ordinary load it stays small.
 *   past bound   RESTART: readers that keep the WAL in use (a steady stream of overlapping
 *                reads) would let it grow without end. RESTART waits (at most wait_ms, new
 *                commits held off meanwhile) until they are done, so the next commit restarts
 *                the WAL.
 *   idle         TRUNCATE after idle_ticks without a commit: the -wal file goes back to zero
 *                bytes between bursts of work.
 *
 * Durability does not depend on any of this: every COMMIT is already fsynced in the WAL
 * (synchronous=FULL); a checkpoint only moves committed pages. */
#include "http/checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

struct http_checkpointer {
    struct store *st;
    struct http_ckpt_policy policy;
    FILE *log;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* signalled by stop */
    bool stop;
    struct http_ckpt_stats stats;
};

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Runs one checkpoint; counts it; reports the first failure of a run of failures. */
static int checkpoint(struct http_checkpointer *c, enum store_checkpoint_mode mode,
                      struct store_checkpoint_result *res, bool *is_failing)
{
    struct err e;
    err_clear(&e);
    int rc = store_checkpoint(c->st, mode, c->policy.wait_ms, res, &e);
    if (rc && !*is_failing)
        (void)fprintf(c->log, "ioheme serve: WAL checkpoint failed: %s\n", e.msg);
    *is_failing = rc != 0;
    pthread_mutex_lock(&c->mu);
    if (!rc) {
        unsigned long *n = mode == STORE_CKPT_PASSIVE   ? &c->stats.passive
                           : mode == STORE_CKPT_RESTART ? &c->stats.restart
                                                        : &c->stats.truncate;
        (*n)++;
        if (mode != STORE_CKPT_PASSIVE && !res->is_complete)
            c->stats.restart_gave_up++;
        if (res->wal_frames > c->stats.max_wal_frames)
            c->stats.max_wal_frames = res->wal_frames;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void *checkpointer_main(void *arg)
{
    struct http_checkpointer *c = arg;
    const struct http_ckpt_policy *p = &c->policy;
    long long last_frames = -1; /* WAL frames at the previous tick */
    int idle = 0;               /* ticks in a row without a commit */
    bool is_failing = false;
    bool is_restarted = false; /* a complete RESTART since the last commit: no need for more */
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec until;
        deadline_after(&until, p->tick_ms);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->mu, &until) != ETIMEDOUT)
            ;
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->mu);

        struct store_checkpoint_result res;
        if (checkpoint(c, STORE_CKPT_PASSIVE, &res, &is_failing) == 0) {
            /* The frame count moves only when the writer commits (or restarts the WAL). */
            if (res.wal_frames != last_frames) {
                idle = 0;
                is_restarted = false;
            } else {
                idle++;
            }
            last_frames = res.wal_frames;
            if (idle >= p->idle_ticks && res.wal_frames > 0) {
                if (checkpoint(c, STORE_CKPT_TRUNCATE, &res, &is_failing) == 0)
                    last_frames = res.wal_frames;
            } else if (res.wal_frames > p->bound_frames && !is_restarted) {
                if (checkpoint(c, STORE_CKPT_RESTART, &res, &is_failing) == 0)
                    is_restarted = res.is_complete;
            }
        }
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int http_checkpointer_start(const char *db_path, const struct http_ckpt_policy *policy, FILE *log,
                            struct http_checkpointer **out, struct err *e)
{
    *out = NULL;
    struct http_checkpointer *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (policy)
        c->policy = *policy;
    if (c->policy.tick_ms <= 0)
        c->policy.tick_ms = 250;
    if (c->policy.idle_ticks <= 0)
        c->policy.idle_ticks = 4;
    if (c->policy.bound_frames <= 0)
        c->policy.bound_frames = 4096;
    if (c->policy.wait_ms <= 0)
        c->policy.wait_ms = 50;
    c->log = log ? log : stderr;
    int rc = store_open(db_path, &c->st, e);
    if (!rc)
        rc = store_set_autocheckpoint(c->st, false, e);
    if (rc) {
        store_close(c->st);
        free(c);
        return rc;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->mu, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->wake);
        store_close(c->st);
        free(c);
        return err_set(e, ERR_INTERNAL, "cannot start the checkpointer thread");
    }
    *out = c;
    return 0;
}

void http_checkpointer_stats(struct http_checkpointer *c, struct http_ckpt_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}

void http_checkpointer_stop(struct http_checkpointer *c, struct http_ckpt_stats *stats)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    if (stats)
        *stats = c->stats;
    store_close(c->st);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
