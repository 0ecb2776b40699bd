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
 * A request from a socket does not hold its worker while it waits: its connection is suspended
 * (parked) when its job is queued and resumed once the batch holding it has committed, so the
 * worker serves its other connections — reads above all — meanwhile. */
#include "http/writer.h"

#include <pthread.h>
#include <stdlib.h>

#include "store/store.h"

struct job {
    struct req *r;
    void (*fn)(struct req *r);
    void (*fail)(struct req *r, const struct err *e);
    void *conn; /* parked: resumed (and the job freed) after its commit */
    bool done;
    struct job *next;
};

struct http_writer {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t has_work; /* signalled when a job is queued or stop is set */
    pthread_cond_t has_done; /* broadcast when a batch has committed */
    struct job *head, *tail;
    bool stop;
    http_park_fn park, unpark; /* NULL: every job waits on its worker */
    bool quiesced;             /* no more parking (the server is stopping) */
    size_t nparked;
    unsigned long batches, jobs; /* for the record: how much committing was shared */
};

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
        /* the writer's connection reads as this request's user (its sites) */
        if (auth_set_reader(j->r, &e) == 0)
            j->fn(j->r);
        else
            j->fail(j->r, &e);
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
        for (struct job *j = batch, *next; j; j = next) {
            next = j->next;
            w->jobs++;
            if (j->conn) { /* its handler runs again and answers (router.c) */
                j->r->write_done = true;
                w->unpark(j->conn);
                w->nparked--;
                free(j);
            } else {
                j->done = true;
            }
        }
        pthread_cond_broadcast(&w->has_done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int http_writer_start(struct store *st, http_park_fn park, http_park_fn unpark,
                      struct http_writer **out, struct err *e)
{
    struct http_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, ERR_NOMEM, "out of memory");
    w->st = st;
    w->park = park;
    w->unpark = unpark;
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
    *out = w;
    return 0;
}

static void enqueue(struct http_writer *w, struct job *j)
{
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->has_work);
}

void http_writer_run(struct http_writer *w, struct req *r, void (*fn)(struct req *r),
                     void (*fail)(struct req *r, const struct err *e))
{
    pthread_mutex_lock(&w->mu);
    struct job *pj = r->conn && w->park && !w->quiesced ? calloc(1, sizeof *pj) : NULL;
    if (pj) {
        *pj = (struct job){.r = r, .fn = fn, .fail = fail, .conn = r->conn};
        r->parked = true;
        w->park(r->conn); /* under the lock: the writer cannot resume it first */
        w->nparked++;
        enqueue(w, pj);
        pthread_mutex_unlock(&w->mu);
        return;
    }
    struct job j = {.r = r, .fn = fn, .fail = fail};
    enqueue(w, &j);
    while (!j.done)
        pthread_cond_wait(&w->has_done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void http_writer_quiesce(struct http_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quiesced = true;
    while (w->nparked)
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
    if (batches)
        *batches = w->batches;
    if (jobs)
        *jobs = w->jobs;
    pthread_cond_destroy(&w->has_done);
    pthread_cond_destroy(&w->has_work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
