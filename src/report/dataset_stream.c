/* The analysis dataset from the store (see dataset.h): every record read in one snapshot and
 * derived on a second thread, whole (dataset_from_store) or handed on record by record to an
 * export (dataset_stream_store), with the export cache (dataset_cache.h) giving the records
 * that did not change. */
#include "report/dataset.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/branch.h"
#include "report/dataset_cache.h"

/* ---- from the store -----------------------------------------------------------------------*/

/* One record on its way to the derivation: its values, or its entry in the export cache. */
struct rec_slot {
    struct vtab v;
    long long id;
    bool had_values; /* read with values (else derived after them, as the screening log's) */
    const unsigned char *cached; /* the export cache's entry (dataset_cache.h), NULL: derive v */
    size_t cached_len;
};

/* Deriving on a second thread while this one reads the next records from the store (the read
 * is a third of an export's time, the derivation the rest): the reader fills a ring of value
 * tables and hands each whole record over; the deriver takes them in record order. */
enum { PIPE_SLOTS = 16 };

struct pipe {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pipe_slot { /* each on cache lines of its own: the two threads write neighbours */
        _Alignas(128) struct rec_slot r;
    } slot[PIPE_SLOTS];
    size_t head, count; /* handed over: slot[(head + k) % PIPE_SLOTS] for k < count */
    bool done;          /* the reader has handed over its last record */
    bool failed;        /* the deriver stopped on werr; the reader stops at its next record */
    struct err werr;
};

struct load_ctx {
    struct adataset *ds; /* NULL: only list hidden values (dataset_hidden_values) */
    dataset_hidden_fn hidden_fn;
    void *hidden_ctx;
    long long now_ms;
    const struct dict *d;
    struct store_record *recs;
    size_t nrecs, next;                  /* recs[next] is the next record expected */
    bool *seen;                          /* seen[i]: recs[i] has been derived */
    long long cur_id;                    /* record being collected, -1 none */
    struct rec_slot one;                 /* the record being collected without a pipe */
    struct rec_slot *cur;                /* the record being collected: &one, or a pipe's slot */
    struct pipe *pipe;                   /* NULL: read and derive on this thread */
    const struct dataset_stream *stream; /* NULL: the tables keep every record's rows */
    struct err *e;
    int rc;
    /* the export cache (stream->cache_kind): entries of recs[i] still valid, in id order; the
     * next one not yet handed on; on the deriving thread, what a record's entry is built in */
    struct dataset_cache *cache;
    size_t cnext;
    struct dataset_out out;
    struct strbuf entry;
    long *cpl_before; /* the completeness counters before the record: expected, present */
};

static const struct store_record *find_rec(struct load_ctx *c, long long id)
{
    /* Records arrive in screening order, so a forward scan is amortised O(1). */
    while (c->next < c->nrecs && c->recs[c->next].id < id)
        c->next++;
    if (c->next < c->nrecs && c->recs[c->next].id == id)
        return &c->recs[c->next];
    for (size_t i = 0; i < c->nrecs; i++)
        if (c->recs[i].id == id)
            return &c->recs[i];
    return NULL;
}

struct hidden_ctx {
    struct load_ctx *c;
    const struct vtab *v;
};

/* branch_hidden_fn: counts a hidden value and passes it on to the caller's callback. */
static int on_hidden(void *ctx, const struct vtab_value *v, const struct dict_field *f)
{
    struct hidden_ctx *h = ctx;
    struct load_ctx *c = h->c;
    if (c->ds)
        c->ds->nhidden_ignored++;
    if (!c->hidden_fn)
        return 0;
    struct dataset_hidden x = {h->v->study_id ? h->v->study_id : h->v->screening_no,
                               v->event,
                               v->instance,
                               f,
                               v->code,
                               v->value};
    return c->hidden_fn(c->hidden_ctx, &x);
}

/* ---- a record's output, and the export cache's entry of it ----------------------------------
 * An entry: had_values (1 byte); the hidden values left out; the completeness counters the
 * record added to (their count, then for each the distance of its index from the one after the
 * previous counter's, and what it added to expected and to present); the rows of each analysis
 * table (ADS_NTABLES numbers); each of the consumer's streams' rows and bytes, and its bytes.
 * Every number is unsigned LEB128 (7 bits a byte, low first, the high bit set on all but the
 * last): most are below 128, one byte, where a fixed u32 took four (the counters were most of
 * an entry of the CSVs). */

#define UV_MAX_BYTES 10 /* a 64-bit number: ceil(64 / 7) */

static void put_uv(struct strbuf *sb, size_t v)
{
    unsigned char b[UV_MAX_BYTES];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        b[n++] |= v ? 0x80 : 0;
    } while (v);
    strbuf_add(sb, b, n);
}

/* One number at *p (not past end), *p moved past it; false when it runs past end or is longer
 * than a size_t holds. */
static bool get_uv(const unsigned char **p, const unsigned char *end, size_t *v)
{
    size_t x = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        if (shift == 63 && b > 1)
            return false; /* beyond 64 bits */
        x |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Hands each of the record's streams to the consumer. */
static int write_out(struct load_ctx *c, const struct dataset_out *o, struct err *e)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < o->n; i++) {
        if (o->bytes[i].failed)
            return err_set(e, ERR_NOMEM, "out of memory");
        if (o->bytes[i].len)
            rc = c->stream->write(c->stream->ctx, i, o->bytes[i].buf, o->bytes[i].len, o->nrows[i],
                                  e);
    }
    return rc;
}

static int out_init(struct dataset_out *o, size_t n)
{
    o->n = n;
    o->bytes = calloc(n ? n : 1, sizeof *o->bytes);
    o->nrows = calloc(n ? n : 1, sizeof *o->nrows);
    return o->bytes && o->nrows ? 0 : ERR_NOMEM;
}

static void out_reset(struct dataset_out *o)
{
    for (size_t i = 0; o->bytes && i < o->n; i++)
        strbuf_reset(&o->bytes[i]);
    for (size_t i = 0; o->nrows && i < o->n; i++)
        o->nrows[i] = 0;
}

static void out_free(struct dataset_out *o)
{
    for (size_t i = 0; o->bytes && i < o->n; i++)
        strbuf_release(&o->bytes[i]);
    free(o->bytes);
    free(o->nrows);
    memset(o, 0, sizeof *o);
}

/* The entry of a record just derived (its output in c->out), from what it added to ds. */
static int cache_entry(struct load_ctx *c, const struct rec_slot *r, size_t nhidden, struct err *e)
{
    struct strbuf *sb = &c->entry;
    struct adataset *ds = c->ds;
    strbuf_reset(sb);
    strbuf_addc(sb, r->had_values ? 1 : 0);
    put_uv(sb, nhidden);
    if (ds->cpl && !c->cpl_before && !(c->cpl_before = calloc(2 * ds->ncpl, sizeof(long))))
        return err_set(e, ERR_NOMEM, "out of memory");
    /* the counters the record moved (they only grow while a record is derived), counted first
     * and then written: the count leads */
    size_t n = 0;
    for (size_t k = 0; ds->cpl && k < ds->ncpl; k++)
        n += ds->cpl[k].expected != c->cpl_before[2 * k] ||
             ds->cpl[k].present != c->cpl_before[2 * k + 1];
    put_uv(sb, n);
    for (size_t k = 0, next = 0; n && k < ds->ncpl; k++) {
        long *b = &c->cpl_before[2 * k];
        if (ds->cpl[k].expected == b[0] && ds->cpl[k].present == b[1])
            continue;
        put_uv(sb, k - next);
        put_uv(sb, (size_t)(ds->cpl[k].expected - b[0]));
        put_uv(sb, (size_t)(ds->cpl[k].present - b[1]));
        b[0] = ds->cpl[k].expected;
        b[1] = ds->cpl[k].present;
        next = k + 1;
    }
    for (int i = 0; i < ADS_NTABLES; i++)
        put_uv(sb, ds->t[i].nrows);
    for (size_t i = 0; i < c->out.n; i++) {
        put_uv(sb, c->out.nrows[i]);
        put_uv(sb, c->out.bytes[i].len);
        if (c->out.bytes[i].len) /* an empty stream has no buffer */
            strbuf_add(sb, c->out.bytes[i].buf, c->out.bytes[i].len);
    }
    if (sb->failed)
        return err_set(e, ERR_NOMEM, "out of memory");
    dataset_cache_put(c->cache, r->id, sb->buf, sb->len, false);
    return 0;
}

/* A record from its cache entry: what it added to ds, and its streams to the consumer. */
static int replay(struct load_ctx *c, const struct rec_slot *r, struct err *e)
{
    struct adataset *ds = c->ds;
    const unsigned char *p = r->cached + 1, *end = r->cached + r->cached_len;
    size_t nhidden, ncpl, rows, nrows, len;
    bool ok = r->cached_len >= 1 && get_uv(&p, end, &nhidden) && get_uv(&p, end, &ncpl);
    if (ok && ncpl && !ds->cpl) {
        int rc = derive_completeness_start(ds, c->d, e);
        if (rc)
            return rc;
    }
    for (size_t i = 0, next = 0; ok && i < ncpl; i++) {
        size_t k, dx, dp;
        ok = get_uv(&p, end, &k) && get_uv(&p, end, &dx) && get_uv(&p, end, &dp) &&
             k < ds->ncpl - next;
        k += next;
        next = k + 1;
        if (ok && !c->cpl_before && !(c->cpl_before = calloc(2 * ds->ncpl, sizeof(long))))
            return err_set(e, ERR_NOMEM, "out of memory");
        if (ok) { /* the counters before the next record derived afresh move on too */
            ds->cpl[k].expected += (long)dx;
            ds->cpl[k].present += (long)dp;
            c->cpl_before[2 * k] += (long)dx;
            c->cpl_before[2 * k + 1] += (long)dp;
        }
    }
    for (int i = 0; ok && i < ADS_NTABLES; i++)
        if ((ok = get_uv(&p, end, &rows)))
            ds->ndropped[i] += rows;
    int rc = 0;
    for (size_t i = 0; ok && rc == 0 && i < c->out.n; i++) {
        ok = get_uv(&p, end, &nrows) && get_uv(&p, end, &len) && (size_t)(end - p) >= len;
        if (ok && len)
            rc = c->stream->write(c->stream->ctx, i, (const char *)p, len, nrows, e);
        p += ok ? len : 0;
    }
    if (rc)
        return rc;
    if (!ok || p != end)
        return err_set(e, ERR_IO,
                       "the export cache's entry of record %lld is damaged: remove "
                       "the folder <database>.cache and export again",
                       r->id);
    ds->nhidden_ignored += nhidden;
    dataset_cache_put(c->cache, r->id, r->cached, r->cached_len, true);
    dataset_cache_done(c->cache, r->cached);
    return 0;
}

/* Derives one whole record and empties its table (on the deriving thread, when there is one). */
static int derive_one(struct load_ctx *c, struct rec_slot *r, struct err *e)
{
    if (r->cached) {
        int rc = replay(c, r, e);
        r->cached = NULL;
        return rc;
    }
    struct vtab *v = &r->v;
    size_t hidden_before = c->ds ? c->ds->nhidden_ignored : 0;
    /* a value its field's branching logic hides is no data: the derivations never see it */
    struct hidden_ctx h = {c, v};
    int rc = branch_vtab_hide(c->d, v, c->now_ms, on_hidden, &h, e);
    if (rc == 0 && c->ds)
        rc = derive_record(c->ds, v, e);
    if (rc == 0 && c->ds && (!c->stream || !c->stream->no_completeness))
        rc = derive_completeness(c->ds, c->d, v, c->now_ms, e);
    if (rc == 0 && c->ds && c->stream) {
        out_reset(&c->out);
        rc = c->stream->on_rows(c->stream->ctx, c->ds, v, &c->out, e);
        if (rc == 0)
            rc = write_out(c, &c->out, e);
        if (rc == 0 && c->cache)
            rc = cache_entry(c, r, c->ds->nhidden_ignored - hidden_before, e);
        derive_drop_rows(c->ds);
    }
    vtab_reset(v);
    return rc;
}

static void *pipe_main(void *arg)
{
    struct load_ctx *c = arg;
    struct pipe *p = c->pipe;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->done)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->count == 0)
            break;
        struct rec_slot *r = &p->slot[p->head].r;
        pthread_mutex_unlock(&p->mu);
        int rc = p->failed ? 0 : derive_one(c, r, &p->werr);
        if (p->failed) {
            vtab_reset(&r->v);
            r->cached = NULL;
        }
        pthread_mutex_lock(&p->mu);
        if (rc)
            p->failed = true;
        p->head = (p->head + 1) % PIPE_SLOTS;
        p->count--;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void slot_init(struct rec_slot *r, const struct dict *d)
{
    memset(r, 0, sizeof *r);
    vtab_init(&r->v);
    vtab_set_dict(&r->v, d);
}

/* The pipe's slots, lock and memory; records are collected on this thread again. */
static void pipe_free(struct load_ctx *c)
{
    struct pipe *p = c->pipe;
    for (int i = 0; i < PIPE_SLOTS; i++)
        vtab_free(&p->slot[i].r.v);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    c->pipe = NULL;
    c->cur = &c->one;
}

/* Starts the deriving thread; false (and nothing started) when it cannot. */
static bool pipe_start(struct load_ctx *c)
{
    /* its slots' alignment is more than malloc's */
    size_t size = (sizeof(struct pipe) + _Alignof(struct pipe) - 1) / _Alignof(struct pipe) *
                  _Alignof(struct pipe);
    struct pipe *p = aligned_alloc(_Alignof(struct pipe), size);
    if (!p)
        return false;
    memset(p, 0, sizeof *p);
    for (int i = 0; i < PIPE_SLOTS; i++)
        slot_init(&p->slot[i].r, c->d);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    c->pipe = p;
    if (pthread_create(&p->th, NULL, pipe_main, c) != 0) {
        pipe_free(c);
        return false;
    }
    c->cur = &p->slot[0].r;
    return true;
}

/* Waits for the deriving thread to finish what it was handed; its error, if any, in c->e. */
static int pipe_stop(struct load_ctx *c)
{
    struct pipe *p = c->pipe;
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    int rc = p->failed ? p->werr.code ? p->werr.code : ERR_INTERNAL : 0;
    if (rc)
        *c->e = p->werr;
    pipe_free(c);
    return rc;
}

/* Hands the record in c->cur on: derives it here, or passes it to the deriving thread and
 * moves c->cur to the next free slot (waiting for one). */
static int hand_on(struct load_ctx *c)
{
    struct pipe *p = c->pipe;
    if (!p)
        return derive_one(c, c->cur, c->e);
    /* the deriving thread sorts the record (its first lookup does): this thread, reading the
     * store, is the busier of the two */
    pthread_mutex_lock(&p->mu);
    p->count++;
    pthread_cond_broadcast(&p->cv);
    while (p->count == PIPE_SLOTS && !p->failed)
        pthread_cond_wait(&p->cv, &p->mu);
    bool failed = p->failed;
    c->cur = &p->slot[(p->head + p->count) % PIPE_SLOTS].r;
    pthread_mutex_unlock(&p->mu);
    return failed ? ERR_INTERNAL : 0; /* pipe_stop reports the deriver's error */
}

/* The record collected in c->cur is whole: hands it on. */
static int flush_record(struct load_ctx *c)
{
    if (c->cur_id < 0)
        return 0;
    c->cur_id = -1;
    return hand_on(c);
}

/* Hands on, in their place, the records before id (all: LLONG_MAX) whose cache entries hold
 * values: records come in id order, those without values after them (load_study). */
static int cached_before(struct load_ctx *c, long long id)
{
    int rc = 0;
    for (; rc == 0 && c->cnext < c->nrecs && c->recs[c->cnext].id < id; c->cnext++) {
        size_t len;
        const unsigned char *at = dataset_cache_get(c->cache, c->recs[c->cnext].id, &len);
        if (!at || !len || !at[0])
            continue;
        c->seen[c->cnext] = true;
        c->cur->id = c->recs[c->cnext].id;
        c->cur->cached = at;
        c->cur->cached_len = len;
        rc = hand_on(c);
    }
    return rc;
}

static int start_record(struct load_ctx *c, long long id, bool had_values)
{
    /* c->recs is set before the first value arrives (store_study_records_values) */
    if (!c->seen && !(c->seen = calloc(c->nrecs + 1, sizeof *c->seen)))
        return err_set(c->e, ERR_NOMEM, "out of memory");
    int rc = c->cache && had_values ? cached_before(c, id) : 0;
    if (rc)
        return rc;
    const struct store_record *r = find_rec(c, id);
    c->cur_id = id;
    if (!r)
        return err_set(c->e, ERR_INTERNAL, "value of unknown record id %lld", id);
    c->seen[r - c->recs] = true;
    c->cur->id = id;
    c->cur->had_values = had_values;
    c->cur->cached = NULL;
    size_t len;
    const unsigned char *at = had_values ? NULL : dataset_cache_get(c->cache, id, &len);
    if (at) { /* a record without values, kept: its entry as it was */
        c->cur->cached = at;
        c->cur->cached_len = len;
        return 0;
    }
    bool enrolled = r->status == STORE_REC_ENROLLED || r->status == STORE_REC_WITHDRAWN;
    if (vtab_set_record(&c->cur->v, r->screening_no, enrolled ? r->study_id : NULL) ||
        vtab_set_site(&c->cur->v, r->site))
        return err_set(c->e, ERR_NOMEM, "out of memory");
    return 0;
}

static int on_value(void *ctx, const struct store_value *sv)
{
    struct load_ctx *c = ctx;
    int rc;
    if (sv->record_id != c->cur_id) {
        if ((rc = flush_record(c)) || (rc = start_record(c, sv->record_id, true)))
            return c->rc = rc;
    }
    if (vtab_add(&c->cur->v, sv->event, sv->instance, sv->field, sv->code, sv->value))
        return c->rc = err_set(c->e, ERR_NOMEM, "out of memory");
    return 0;
}

/* Reads the study record by record, hides what branching logic hides, and derives (when c->ds
 * is set; on a second thread unless a caller's callback sees the hidden values). */
static int load_study(struct store *st, struct load_ctx *c, struct err *e)
{
    c->d = store_dict(st);
    c->cur_id = -1;
    c->e = e;
    c->now_ms = store_now_ms(st);
    slot_init(&c->one, c->d);
    c->cur = &c->one;
    if (c->ds && !c->hidden_fn)
        pipe_start(c); /* else (no thread to be had) all on this one */
    /* the records and their values in one snapshot: a record screened meanwhile is in both
     * or neither; with the export cache, the values of the records it holds are not read */
    int rc = store_study_records_values_some(
        st, &c->recs, &c->nrecs, c->cache ? dataset_cache_select : NULL, c->cache, on_value, c, e);
    if (c->rc)
        rc = c->rc;
    if (rc == 0 && !c->seen && !(c->seen = calloc(c->nrecs + 1, sizeof *c->seen)))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0)
        rc = flush_record(c);
    if (rc == 0 && c->cache)
        rc = cached_before(c, LLONG_MAX);
    /* Records without any stored value still belong in the screening log. */
    for (size_t i = 0; rc == 0 && i < c->nrecs; i++)
        if (!c->seen[i] && (rc = start_record(c, c->recs[i].id, false)) == 0)
            rc = flush_record(c);
    int prc = pipe_stop(c); /* the deriver's error is the one to tell */
    if (prc)
        rc = prc;
    vtab_free(&c->one.v);
    free(c->seen);
    free(c->recs);
    return rc;
}

static int derive_study(struct store *st, struct adataset *ds, const struct dataset_stream *s,
                        struct err *e)
{
    struct load_ctx c = {0};
    derive_init(ds);
    c.ds = ds;
    c.stream = s;
    c.entry = (struct strbuf)STRBUF_INIT;
    int rc = store_is_synthetic(st, &ds->is_synthetic, e);
    if (rc == 0 && s && out_init(&c.out, s->nout))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0 && s && s->cache_kind)
        rc = dataset_cache_open(st, s->cache_kind, s->cache_layout, &c.cache, e);
    if (rc == 0)
        rc = load_study(st, &c, e);
    if (rc == 0)
        rc = derive_finish(ds, e);
    if (rc == 0 && s) { /* the completeness rows */
        out_reset(&c.out);
        rc = s->on_rows(s->ctx, ds, NULL, &c.out, e);
        if (rc == 0)
            rc = write_out(&c, &c.out, e);
        derive_drop_rows(ds);
    }
    dataset_cache_close(c.cache, rc == 0, s ? s->cache_stats : NULL);
    out_free(&c.out);
    strbuf_release(&c.entry);
    free(c.cpl_before);
    if (rc)
        derive_free(ds);
    return rc;
}

int dataset_from_store(struct store *st, struct adataset *ds, struct err *e)
{
    return derive_study(st, ds, NULL, e);
}

int dataset_stream_store(struct store *st, struct adataset *ds, const struct dataset_stream *s,
                         struct err *e)
{
    return derive_study(st, ds, s, e);
}

int dataset_hidden_values(struct store *st, dataset_hidden_fn fn, void *ctx, struct err *e)
{
    struct load_ctx c = {0};
    c.hidden_fn = fn;
    c.hidden_ctx = ctx;
    return load_study(st, &c, e);
}
