/* The analysis dataset: from the store, to CSV files, and back (see dataset.h). */
#include "report/dataset.h"
#include "base/digest.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/branch.h"
#include "formats/csv.h"
#include "formats/json_out.h"
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
 * An entry: had_values (1 byte); the hidden values left out (u32); the completeness counters
 * the record added to (u32 count, then field index, expected, present: u32 each); the rows of
 * each analysis table (ADS_NTABLES u32); each of the consumer's streams' rows and bytes (u32
 * each) and its bytes. */

static void put_u32(struct strbuf *sb, size_t v)
{
    uint32_t x = (uint32_t)v;
    strbuf_add(sb, &x, sizeof x);
}

static bool get_u32(const unsigned char **p, const unsigned char *end, size_t *v)
{
    uint32_t x;
    if ((size_t)(end - *p) < sizeof x)
        return false;
    memcpy(&x, *p, sizeof x);
    *p += sizeof x;
    *v = x;
    return true;
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
    put_u32(sb, nhidden);
    if (ds->cpl && !c->cpl_before && !(c->cpl_before = calloc(2 * ds->ncpl, sizeof(long))))
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t at = sb->len, n = 0;
    put_u32(sb, 0);
    for (size_t k = 0; ds->cpl && k < ds->ncpl; k++) {
        long *b = &c->cpl_before[2 * k];
        if (ds->cpl[k].expected == b[0] && ds->cpl[k].present == b[1])
            continue;
        put_u32(sb, k);
        put_u32(sb, (size_t)(ds->cpl[k].expected - b[0]));
        put_u32(sb, (size_t)(ds->cpl[k].present - b[1]));
        b[0] = ds->cpl[k].expected;
        b[1] = ds->cpl[k].present;
        n++;
    }
    if (!sb->failed) {
        uint32_t x = (uint32_t)n;
        memcpy(sb->buf + at, &x, sizeof x);
    }
    for (int i = 0; i < ADS_NTABLES; i++)
        put_u32(sb, ds->t[i].nrows);
    for (size_t i = 0; i < c->out.n; i++) {
        put_u32(sb, c->out.nrows[i]);
        put_u32(sb, c->out.bytes[i].len);
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
    bool ok = r->cached_len >= 1 && get_u32(&p, end, &nhidden) && get_u32(&p, end, &ncpl);
    if (ok && ncpl && !ds->cpl) {
        int rc = derive_completeness_start(ds, c->d, e);
        if (rc)
            return rc;
    }
    for (size_t i = 0; ok && i < ncpl; i++) {
        size_t k, dx, dp;
        ok = get_u32(&p, end, &k) && get_u32(&p, end, &dx) && get_u32(&p, end, &dp) && k < ds->ncpl;
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
        if ((ok = get_u32(&p, end, &rows)))
            ds->ndropped[i] += rows;
    int rc = 0;
    for (size_t i = 0; ok && rc == 0 && i < c->out.n; i++) {
        ok = get_u32(&p, end, &nrows) && get_u32(&p, end, &len) && (size_t)(end - p) >= len;
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
        for (int i = 0; i < PIPE_SLOTS; i++)
            vtab_free(&p->slot[i].r.v);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        c->pipe = NULL;
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
    for (int i = 0; i < PIPE_SLOTS; i++)
        vtab_free(&p->slot[i].r.v);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    c->pipe = NULL;
    c->cur = &c->one;
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
    dataset_cache_close(c.cache, rc == 0);
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

/* ---- files --------------------------------------------------------------------------------*/

int dataset_mkdir(const char *path, struct err *e)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return err_set(e, ERR_IO, "%s: not a directory", path);
    return 0;
}

int dataset_write_file(const char *dir, const char *name, const char *data, size_t len,
                       struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/%s", dir, name);
    FILE *f = path.failed ? NULL : fopen(path.buf, "wb");
    int rc = 0;
    if (!f)
        rc = err_set(e, ERR_IO, "%s: cannot write: %s", strbuf_str(&path), strerror(errno));
    else {
        if (fwrite(data, 1, len, f) != len)
            rc = err_set(e, ERR_IO, "%s: write failed: %s", path.buf, strerror(errno));
        if (fclose(f) != 0 && rc == 0)
            rc = err_set(e, ERR_IO, "%s: write failed: %s", path.buf, strerror(errno));
    }
    strbuf_release(&path);
    return rc;
}

/* The CSVs of a dataset, written as its rows come (whole, or a record at a time). */
struct csv_out {
    const char *dir;
    FILE *f[ADS_NTABLES];
    char *fbuf[ADS_NTABLES]; /* f's buffers (glibc takes a size only with a buffer) */
    struct strbuf sb;
};

#define CSV_FILE_BUFFER (256 * 1024)

/* dir/table.csv, or while it is being written dir/.table.csv.partial: a failed export leaves
 * the files of the last good one as they were. */
static int csv_path(const char *dir, const char *table, bool partial, struct strbuf *path)
{
    strbuf_reset(path);
    strbuf_addf(path, partial ? "%s/.%s.csv.partial" : "%s/%s.csv", dir, table);
    return path->failed ? ERR_NOMEM : 0;
}

static int csv_flush(struct csv_out *o, int i, struct err *e)
{
    struct strbuf *sb = &o->sb;
    if (sb->failed)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (sb->len && fwrite(sb->buf, 1, sb->len, o->f[i]) != sb->len)
        return err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->dir, derive_ads_names[i],
                       strerror(errno));
    strbuf_reset(sb);
    return 0;
}

/* Creates dir and each table's file with its header row. */
static int csv_open(struct csv_out *o, const struct adataset *ds, const char *dir, struct err *e)
{
    memset(o, 0, sizeof *o);
    o->dir = dir;
    o->sb = (struct strbuf)STRBUF_INIT;
    struct strbuf path = STRBUF_INIT;
    int rc = dataset_mkdir(dir, e);
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        const struct atable *t = &ds->t[i];
        if (csv_path(dir, t->name, true, &path))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (!(o->f[i] = fopen(path.buf, "wb")))
            rc = err_set(e, ERR_IO, "%s: cannot write: %s", path.buf, strerror(errno));
        else if ((o->fbuf[i] = malloc(CSV_FILE_BUFFER)) != NULL) /* a write(2) per 256 KiB */
            (void)setvbuf(o->f[i], o->fbuf[i], _IOFBF, CSV_FILE_BUFFER);
        for (size_t c = 0; rc == 0 && c < t->ncols; c++) {
            if (c)
                strbuf_addc(&o->sb, ',');
            strbuf_add_csv(&o->sb, t->cols[c].name);
        }
        strbuf_addc(&o->sb, '\n');
        if (rc == 0)
            rc = csv_flush(o, i, e);
    }
    strbuf_release(&path);
    return rc;
}

/* Appends every row of t as CSV lines to sb. */
static void csv_format(const struct atable *t, struct strbuf *sb)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                strbuf_addc(sb, ',');
            const char *s = atable_get(t, r, c);
            if (s)
                strbuf_add_csv(sb, s);
        }
        strbuf_addc(sb, '\n');
    }
}

/* Appends every row ds's tables hold. */
static int csv_add(struct csv_out *o, const struct adataset *ds, struct err *e)
{
    int rc = 0;
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        csv_format(&ds->t[i], &o->sb);
        rc = csv_flush(o, i, e);
    }
    return rc;
}

/* Closes the tables' files (rc: the writing so far) and, when all went well, writes the
 * dictionary and the synthetic mark. */
static int csv_close(struct csv_out *o, const struct adataset *ds, int rc, struct err *e)
{
    for (int i = 0; i < ADS_NTABLES; i++) {
        if (o->f[i] && fclose(o->f[i]) != 0 && rc == 0)
            rc = err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->dir, derive_ads_names[i],
                         strerror(errno));
        free(o->fbuf[i]);
        o->fbuf[i] = NULL;
    }
    strbuf_release(&o->sb);
    struct strbuf path = STRBUF_INIT, done = STRBUF_INIT;
    for (int i = 0; i < ADS_NTABLES; i++) {
        if (!o->f[i] || csv_path(o->dir, derive_ads_names[i], true, &path) ||
            csv_path(o->dir, derive_ads_names[i], false, &done))
            continue;
        if (rc) /* no half-written dataset left to be taken for a whole one */
            (void)remove(path.buf);
        else if (rename(path.buf, done.buf) != 0)
            rc = err_set(e, ERR_IO, "%s: %s", done.buf, strerror(errno));
    }
    if (!rc && (path.failed || done.failed))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    strbuf_release(&path);
    strbuf_release(&done);
    if (rc)
        return rc;
    struct strbuf dict = STRBUF_INIT;
    strbuf_adds(&dict, "table,column,type,unit,description,sap_section,levels\n");
    for (int i = 0; i < ADS_NTABLES; i++) {
        const struct atable *t = &ds->t[i];
        for (size_t c = 0; c < t->ncols; c++) {
            const struct acol *col = &t->cols[c];
            strbuf_addf(&dict, "%s,%s,%s,", t->name, col->name, atable_col_type_name(col->type));
            strbuf_add_csv(&dict, col->unit);
            strbuf_addc(&dict, ',');
            strbuf_add_csv(&dict, col->desc);
            strbuf_addf(&dict, ",SAP %s,", col->sap);
            if (col->levels) { /* a coded choice's values in order, '|' between them */
                const char *v[DERIVE_MAX_LEVELS + 1];
                derive_level_values(col->levels, true, v);
                struct strbuf lv = STRBUF_INIT;
                for (size_t k = 0; v[k]; k++)
                    strbuf_addf(&lv, "%s%s", k ? "|" : "", v[k]);
                strbuf_add_csv(&dict, strbuf_str(&lv));
                dict.failed |= lv.failed;
                strbuf_release(&lv);
            }
            strbuf_addc(&dict, '\n');
        }
    }
    rc = dict.failed
             ? err_set(e, ERR_NOMEM, "out of memory")
             : dataset_write_file(o->dir, "dataset_dictionary.csv", strbuf_str(&dict), dict.len, e);
    if (rc == 0 && ds->is_synthetic)
        rc = dataset_write_file(o->dir, DATASET_SYNTHETIC_FILE, DATASET_SYNTHETIC_TEXT,
                                strlen(DATASET_SYNTHETIC_TEXT), e);
    strbuf_release(&dict);
    return rc;
}

int dataset_write(const struct adataset *ds, const char *dir, struct err *e)
{
    struct csv_out o;
    int rc = csv_open(&o, ds, dir, e);
    if (rc == 0)
        rc = csv_add(&o, ds, e);
    return csv_close(&o, ds, rc, e);
}

/* dataset_export's writer: the CSVs, and each table spooled for a package's files. */
struct export_out {
    struct csv_out csv;
    bool spooled;
    struct dataset_spool spool[ADS_NTABLES];
};

/* dataset_stream's on_rows: the record's rows as CSV lines (stream i: table i's file) and,
 * for a package, spooled (stream ADS_NTABLES + i: table i's spool). */
static int export_rows(void *ctx, const struct adataset *ds, struct vtab *v,
                       struct dataset_out *out, struct err *e)
{
    (void)v;
    struct export_out *o = ctx;
    int rc = 0;
    for (int i = 0; i < ADS_NTABLES; i++) {
        csv_format(&ds->t[i], &out->bytes[i]);
        out->nrows[i] = ds->t[i].nrows;
    }
    for (int i = 0; rc == 0 && o->spooled && i < ADS_NTABLES; i++)
        rc = dataset_spool_format(&ds->t[i], &out->bytes[ADS_NTABLES + i],
                                  &out->nrows[ADS_NTABLES + i], e);
    return rc;
}

/* dataset_stream's write. */
static int export_write(void *ctx, size_t i, const char *bytes, size_t n, size_t nrows,
                        struct err *e)
{
    struct export_out *o = ctx;
    if (i >= ADS_NTABLES)
        return dataset_spool_add_bytes(&o->spool[i - ADS_NTABLES], bytes, n, nrows, e);
    if (fwrite(bytes, 1, n, o->csv.f[i]) != n)
        return err_set(e, ERR_IO, "%s/%s.csv: write failed: %s", o->csv.dir, derive_ads_names[i],
                       strerror(errno));
    return 0;
}

struct pkg_files {
    struct dataset_spool *sp;
    const char *dir;
    enum dataset_format fmt;
};

/* dataset_spools_each's job: table i's file of the package. */
static int pkg_file(void *ctx, size_t i, struct err *e)
{
    const struct pkg_files *x = ctx;
    return dataset_write_package_table(&x->sp[i], x->dir, x->fmt, e);
}

int dataset_export(struct store *st, const char *dir, enum dataset_format fmt, struct adataset *ds,
                   struct err *e)
{
    struct export_out o = {.spooled = dataset_format_has_package_files(fmt)};
    /* the CSVs' lines (and the spools' rows) of each record, kept by the export cache: one
     * kind for the CSVs alone, one with the spools (a package's files) */
    struct dataset_stream s = {.on_rows = export_rows,
                               .write = export_write,
                               .ctx = &o,
                               .nout = o.spooled ? 2 * ADS_NTABLES : ADS_NTABLES,
                               .cache_kind = o.spooled ? "dataset-spooled" : "dataset",
                               .cache_layout = o.spooled ? "csv lines, spool rows" : "csv lines"};
    /* the files are made before the derivation starts: a folder that cannot be written is
     * said at once, not after the whole study has been read */
    derive_init(ds);
    int rc = csv_open(&o.csv, ds, dir, e);
    for (int i = 0; rc == 0 && o.spooled && i < ADS_NTABLES; i++)
        rc = dataset_spool_open(&o.spool[i], dir, ds->t[i].name, ds->t[i].cols, ds->t[i].ncols, e);
    if (rc == 0)
        rc = dataset_stream_store(st, ds, &s, e);
    rc = csv_close(&o.csv, ds, rc, e);
    if (rc == 0 && o.spooled) { /* the package's files, two at a time */
        struct dataset_spool *sp[ADS_NTABLES];
        for (int i = 0; i < ADS_NTABLES; i++)
            sp[i] = &o.spool[i];
        struct pkg_files x = {o.spool, dir, fmt};
        rc = dataset_spools_each(ADS_NTABLES, sp, pkg_file, &x, e);
    }
    if (rc == 0)
        rc = dataset_write_r_loader(ds, dir, fmt, e);
    for (int i = 0; i < ADS_NTABLES; i++)
        if (o.spool[i].f)
            dataset_spool_close(&o.spool[i]);
    return rc;
}

int dataset_read(const char *dir, struct adataset *ds, struct err *e)
{
    derive_init(ds);
    int rc = 0;
    struct strbuf mark = STRBUF_INIT;
    strbuf_addf(&mark, "%s/%s", dir, DATASET_SYNTHETIC_FILE);
    struct stat sb;
    ds->is_synthetic = !mark.failed && stat(strbuf_str(&mark), &sb) == 0;
    strbuf_release(&mark);
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        struct atable *t = &ds->t[i];
        struct strbuf path = STRBUF_INIT;
        strbuf_addf(&path, "%s/%s.csv", dir, t->name);
        struct csv_table ct;
        rc = csv_read_file(strbuf_str(&path), &ct, e);
        strbuf_release(&path);
        if (rc)
            break;
        int map[64];
        for (size_t c = 0; c < t->ncols && rc == 0; c++) {
            map[c] = csv_col(&ct, t->cols[c].name);
            if (map[c] < 0)
                rc = err_set_field(e, ERR_INVALID, t->cols[c].name, "%s/%s.csv: no column '%s'",
                                   dir, t->name, t->cols[c].name);
        }
        for (size_t r = 0; r < ct.nrows && rc == 0; r++) {
            size_t row;
            rc = atable_add_row(t, &row);
            for (size_t c = 0; c < t->ncols && rc == 0; c++)
                rc = atable_set(t, row, c, ct.rows[r][map[c]]);
        }
        csv_table_free(&ct);
    }
    if (rc)
        derive_free(ds);
    return rc;
}

int dataset_file_sha256(const char *path, char hex[65], long long *bytes, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    struct digest h;
    digest_init(&h);
    unsigned char buf[65536];
    size_t n;
    long long total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        digest_add(&h, buf, n);
        total += (long long)n;
    }
    int rc = ferror(f) ? err_set(e, ERR_IO, "%s: read failed", path) : 0;
    (void)fclose(f);
    if (rc)
        return rc;
    digest_hex(&h, hex);
    if (bytes)
        *bytes = total;
    return 0;
}

/* The file's size and SHA-256 (hex) into the manifest's list. */
static int manifest_file(json_t *files, const char *dir, const char *name, struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, "%s/%s", dir, name);
    char hex[65];
    long long total = 0;
    int rc = path.failed ? err_set(e, ERR_NOMEM, "out of memory")
                         : dataset_file_sha256(path.buf, hex, &total, e);
    strbuf_release(&path);
    if (rc)
        return rc;
    return json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "file", name, "bytes",
                                                  (json_int_t)total, "sha256", hex));
}

/* Writes dir/manifest.json: the lock (null members when lock_id is NULL) and files (stolen). */
static int manifest_save(const char *dir, const char *lock_id, const char *locked_at,
                         const char *audit_head, json_t *files, struct err *e)
{
    json_t *m =
        json_pack("{s:o, s:o, s:o, s:o}", "lock_id", lock_id ? json_string(lock_id) : json_null(),
                  "locked_at", lock_id ? json_string(locked_at) : json_null(), "audit_head",
                  lock_id ? json_string(audit_head) : json_null(), "files", files);
    char *text = m ? json_out_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    int rc = text ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, text);
        strbuf_addc(&sb, '\n');
        rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : dataset_write_file(dir, DATASET_MANIFEST_FILE, sb.buf, sb.len, e);
        strbuf_release(&sb);
    }
    free(text);
    json_decref(m);
    return rc;
}

/* Lists dir/<fmt's file for table> when fmt has one (dataset_package_file). */
static int manifest_package_file(json_t *files, const char *dir, enum dataset_format fmt,
                                 const char *table, struct err *e)
{
    struct strbuf name = STRBUF_INIT;
    int has = dataset_package_file(fmt, table, &name);
    int rc = has < 0 ? err_set(e, ERR_NOMEM, "out of memory")
             : has   ? manifest_file(files, dir, strbuf_str(&name), e)
                     : 0;
    strbuf_release(&name);
    return rc;
}

int dataset_write_manifest(const struct adataset *ds, enum dataset_format fmt, const char *dir,
                           const char *lock_id, const char *locked_at, const char *audit_head,
                           struct err *e)
{
    json_t *files = json_array();
    int rc = files ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    for (int i = 0; i < ADS_NTABLES && rc == 0; i++) {
        char name[64];
        fmt_exact(name, sizeof name, "%s.csv", ds->t[i].name);
        rc = manifest_file(files, dir, name, e);
        if (rc == 0)
            rc = manifest_package_file(files, dir, fmt, ds->t[i].name, e);
    }
    if (rc == 0)
        rc = manifest_file(files, dir, "dataset_dictionary.csv", e);
    if (rc == 0 && ds->is_synthetic)
        rc = manifest_file(files, dir, DATASET_SYNTHETIC_FILE, e);
    if (rc == 0)
        rc = manifest_package_file(files, dir, fmt, NULL, e);
    if (rc) {
        json_decref(files);
        return rc;
    }
    return manifest_save(dir, lock_id, locked_at, audit_head, files, e);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every regular file under root/rel (rel "" for root itself) to files, in byte order
 * of the path (not the directory's order, nor the locale's), skipping the top manifest. */
static int manifest_tree(json_t *files, const char *root, const char *rel, struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    strbuf_addf(&path, rel[0] ? "%s/%s" : "%s", root, rel);
    DIR *d = path.failed ? NULL : opendir(path.buf);
    if (!d) {
        int rc = err_set(e, ERR_IO, "%s: cannot list: %s", strbuf_str(&path), strerror(errno));
        strbuf_release(&path);
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (!rel[0] && strcmp(de->d_name, DATASET_MANIFEST_FILE) == 0))
            continue;
        char **g = array_grow(names, n, &cap, sizeof *g, 32);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        names = g;
        names[n] = strdup(de->d_name);
        rc = names[n++] ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    }
    closedir(d);
    if (rc == 0)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct strbuf sub = STRBUF_INIT;
        strbuf_addf(&sub, rel[0] ? "%s/%s" : "%s%s", rel, names[i]);
        struct strbuf full = STRBUF_INIT;
        strbuf_addf(&full, "%s/%s", root, strbuf_str(&sub));
        struct stat sb;
        if (sub.failed || full.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (stat(full.buf, &sb) != 0)
            rc = err_set(e, ERR_IO, "%s: %s", full.buf, strerror(errno));
        else if (S_ISDIR(sb.st_mode))
            rc = manifest_tree(files, root, sub.buf, e);
        else if (S_ISREG(sb.st_mode))
            rc = manifest_file(files, root, sub.buf, e);
        strbuf_release(&sub);
        strbuf_release(&full);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    strbuf_release(&path);
    return rc;
}

int dataset_write_tree_manifest(const char *dir, const char *lock_id, const char *locked_at,
                                const char *audit_head, struct err *e)
{
    json_t *files = json_array();
    int rc = files ? manifest_tree(files, dir, "", e) : err_set(e, ERR_NOMEM, "out of memory");
    if (rc) {
        json_decref(files);
        return rc;
    }
    return manifest_save(dir, lock_id, locked_at, audit_head, files, e);
}
