/* Group commit: one writer thread owns one database connection and runs every state-changing
 * request's handler. Whatever requests arrive while a commit is being flushed to disk are run
 * together as one store batch — each handler's store calls still validate and are atomic on
 * their own (savepoints inside the batch) — and made durable by one COMMIT, one fsync. A
 * request's response is released only after that commit has returned, so "saved" still means
 * on disk; if the commit fails, every request of the batch answers 500 and nothing of it is
 * kept.
 *
 * With synchronous=FULL a commit is one fsync, which dominates a write's cost; sharing it is
 * what lets the server write faster than a loop that commits each insert on its own.
 *
 * Checkpoints: SQLite's default runs one inside the COMMIT that takes the WAL past 1000 pages,
 * and that commit (with every request of its batch) then waits for the database file to be
 * written and fsynced — tens of milliseconds on a slow disk, the write latency's tail. Here the
 * writer's connection never checkpoints; a checkpointer thread on its own connection runs a
 * PASSIVE checkpoint every CKPT_EVERY_MS, which blocks neither the writer nor the readers. */
#include "http/writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/snapshot.h"
#include "store/store.h"

#define CKPT_EVERY_MS 250

struct job {
    struct req *r;
    void (*fn)(struct req *r);
    void (*fail)(struct req *r, const struct err *e);
    bool done;
    struct job *next;
};

struct http_writer {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t has_work;   /* signalled when a job is queued or stop is set */
    pthread_cond_t has_done;   /* broadcast when a batch has committed */
    struct job *head, *tail;
    bool stop;
    unsigned long batches, jobs; /* for the record: how much committing was shared */
    struct store *ckpt;          /* the checkpointer's connection */
    pthread_t ckpt_thread;
    atomic_bool ckpt_stop;
    bool ckpt_thread_started;
};

static void *checkpointer_main(void *arg)
{
    struct http_writer *w = arg;
    struct timespec nap = {.tv_sec = 0, .tv_nsec = CKPT_EVERY_MS * 1000000L};
    bool warned = false;
    while (!atomic_load(&w->ckpt_stop)) {
        nanosleep(&nap, NULL);
        struct err e;
        err_clear(&e);
        if (store_wal_checkpoint(w->ckpt, &e) != 0 && !warned) {
            /* not fatal: the WAL grows until a checkpoint succeeds (at the latest at close) */
            fprintf(stderr, "ioheme serve: checkpoint: %s\n", e.msg);
            warned = true;
        }
    }
    return NULL;
}

static void run_batch(struct http_writer *w, struct job *batch)
{
    struct err e;
    err_clear(&e);
    if (store_batch_begin(w->st, &e) != 0) {
        for (struct job *j = batch; j; j = j->next)
            j->fail(j->r, &e);
        return;
    }
    for (struct job *j = batch; j; j = j->next) {
        struct store *own = j->r->st;
        j->r->st = w->st;
        j->fn(j->r);
        j->r->st = own;
    }
    if (store_batch_commit(w->st, &e) != 0) {
        store_batch_rollback(w->st);
        for (struct job *j = batch; j; j = j->next)
            j->fail(j->r, &e);
    }
}

static void *writer_main(void *arg)
{
    struct http_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->has_work, &w->mu);
        if (!w->head && w->stop)
            break;
        struct job *batch = w->head;
        w->head = w->tail = NULL;
        pthread_mutex_unlock(&w->mu);

        run_batch(w, batch);

        pthread_mutex_lock(&w->mu);
        w->batches++;
        for (struct job *j = batch; j; j = j->next) {
            j->done = true;
            w->jobs++;
        }
        pthread_cond_broadcast(&w->has_done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int http_writer_start(struct store *st, struct store *ckpt, struct http_writer **out,
                      struct err *e)
{
    if (store_wal_autocheckpoint(st, 0, e) != 0)
        return e->code;
    struct http_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, ERR_NOMEM, "out of memory");
    w->st = st;
    w->ckpt = ckpt;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->has_work, NULL);
    pthread_cond_init(&w->has_done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->has_done);
        pthread_cond_destroy(&w->has_work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return err_set(e, ERR_INTERNAL, "cannot start the writer thread");
    }
    w->ckpt_thread_started = pthread_create(&w->ckpt_thread, NULL, checkpointer_main, w) == 0;
    if (!w->ckpt_thread_started) {
        http_writer_stop(w, NULL, NULL);
        return err_set(e, ERR_INTERNAL, "cannot start the checkpointer thread");
    }
    *out = w;
    return 0;
}

void http_writer_run(struct http_writer *w, struct req *r, void (*fn)(struct req *r),
                     void (*fail)(struct req *r, const struct err *e))
{
    struct job j = {.r = r, .fn = fn, .fail = fail};
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = &j;
    else
        w->head = &j;
    w->tail = &j;
    pthread_cond_signal(&w->has_work);
    while (!j.done)
        pthread_cond_wait(&w->has_done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void http_writer_stop(struct http_writer *w, unsigned long *batches, unsigned long *jobs)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->has_work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    atomic_store(&w->ckpt_stop, true);
    if (w->ckpt_thread_started)
        pthread_join(w->ckpt_thread, NULL);
    if (batches)
        *batches = w->batches;
    if (jobs)
        *jobs = w->jobs;
    pthread_cond_destroy(&w->has_done);
    pthread_cond_destroy(&w->has_work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
