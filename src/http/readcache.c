/* The cache of read answers (readcache.h).
 *
 * Every change heard gets the next sequence number: a record's changes stamp that record, a "*"
 * stamps everything. A lookup's ticket is the sequence number after its barrier; an answer read
 * under that ticket is good while neither its record nor everything has a later stamp. So a
 * change heard while the answer was being read (its transaction committed after the read's
 * snapshot began, or before it but heard late) keeps the answer from being kept, and one heard
 * afterwards retires it. */
#include "http/readcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "store/listen.h"

/* At most this many answers (or bytes of them) are kept; past it everything is forgotten and
 * the cache fills again with what is read now. */
#define MAX_ENTRIES 8192
#define MAX_BYTES (32u << 20)
#define NBUCKETS 4096 /* a power of two */
/* A lost listening connection is tried again at most this often. */
#define RETRY_MS 1000

struct entry {
    struct entry *next;
    uint64_t hash;
    char *key;
    size_t keylen;
    long long record_id;
    uint64_t seq; /* the changes heard when its read began (its ticket) */
    struct http_readcache_answer ans;
    char *body;
    size_t len;
};

/* A request put aside until a barrier sent after it arrived has completed. */
struct parked {
    void *conn;
    long long arrived_us;
};

/* A record's latest change heard: open addressing, id 0 is an empty slot (ids start at 1). */
struct stamp {
    long long id;
    uint64_t seq;
};

struct http_readcache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store_listener *l;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    bool live;
    long long retry_at_us; /* http_now_us */
    /* the barriers, run one after the other by their own thread while requests wait for one:
     * a request waits for one sent after it arrived, parked (its connection suspended, the
     * worker free for other connections) or, without a connection, blocked */
    pthread_t thread;
    bool started, stopping;
    pthread_cond_t work;    /* a request waits: the barrier thread wakes */
    long long done_sent_us; /* when the last barrier completed had left */
    long long wanted_us;    /* the latest arrival of a request waiting for a barrier */
    struct parked *parked;
    size_t nparked, capparked;
    http_park_fn suspend, resume;
    /* what has been heard */
    uint64_t seq, all_seq;
    struct stamp *stamps;
    size_t nstamps, capstamps;
    /* what is kept */
    struct entry *bucket[NBUCKETS];
    size_t nentries, bytes;
    /* counts for the log */
    unsigned long long hits, misses, fills, barriers, heard, forgets;
};

static size_t slot_of(long long id, size_t cap)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 16) & (cap - 1);
}

static uint64_t stamp_get(const struct http_readcache *c, long long id)
{
    if (!c->capstamps)
        return 0;
    for (size_t i = slot_of(id, c->capstamps);; i = (i + 1) & (c->capstamps - 1)) {
        if (c->stamps[i].id == id)
            return c->stamps[i].seq;
        if (c->stamps[i].id == 0)
            return 0;
    }
}

static void forget_all(struct http_readcache *c);

static void stamp_set(struct http_readcache *c, long long id, uint64_t seq)
{
    if ((c->nstamps + 1) * 2 > c->capstamps) {
        size_t cap = c->capstamps ? c->capstamps * 2 : 1024;
        struct stamp *s = calloc(cap, sizeof *s);
        if (!s) { /* cannot remember the stamp: forget every answer instead */
            forget_all(c);
            return;
        }
        for (size_t i = 0; i < c->capstamps; i++)
            if (c->stamps[i].id) {
                size_t j = slot_of(c->stamps[i].id, cap);
                while (s[j].id)
                    j = (j + 1) & (cap - 1);
                s[j] = c->stamps[i];
            }
        free(c->stamps);
        c->stamps = s;
        c->capstamps = cap;
    }
    size_t i = slot_of(id, c->capstamps);
    while (c->stamps[i].id && c->stamps[i].id != id)
        i = (i + 1) & (c->capstamps - 1);
    if (!c->stamps[i].id)
        c->nstamps++;
    c->stamps[i] = (struct stamp){id, seq};
}

static void entry_free(struct entry *en)
{
    free(en->key);
    free(en->body);
    free(en);
}

static void drop_entries(struct http_readcache *c)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        struct entry *en = c->bucket[b];
        while (en) {
            struct entry *next = en->next;
            entry_free(en);
            en = next;
        }
        c->bucket[b] = NULL;
    }
    c->nentries = c->bytes = 0;
}

/* A change to anything (or one that may have been missed): no answer kept so far is good. */
static void forget_all(struct http_readcache *c)
{
    c->all_seq = ++c->seq;
    drop_entries(c);
    c->nstamps = 0; /* older than all_seq: no longer needed */
    if (c->stamps)
        memset(c->stamps, 0, c->capstamps * sizeof *c->stamps);
    c->forgets++;
}

/* One notification: a record's id retires that record's answers; anything else retires all —
 * "*", and "" (a row whose record_id is NULL: pg_notify sends a NULL payload as ""). */
static void hear(void *ctx, const char *payload)
{
    struct http_readcache *c = ctx;
    c->heard++;
    char *end;
    long long id = strtoll(payload, &end, 10);
    if (strcmp(payload, STORE_LISTEN_ALL) == 0 || *end || end == payload || id <= 0) {
        forget_all(c);
        return;
    }
    stamp_set(c, id, ++c->seq);
}

static void *barrier_main(void *arg);

int http_readcache_open(const char *url, http_park_fn suspend, http_park_fn resume,
                        struct http_readcache **out, struct err *e)
{
    *out = NULL;
    struct http_readcache *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = store_listener_open(url, &c->l, e);
    if (rc) {
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_cond_init(&c->work, NULL);
    crypto_shorthash_keygen(c->hkey);
    c->live = true;
    c->suspend = suspend;
    c->resume = resume;
    if (pthread_create(&c->thread, NULL, barrier_main, c) != 0) {
        http_readcache_close(c);
        return err_set(e, ERR_INTERNAL, "cannot start the read cache's thread");
    }
    c->started = true;
    *out = c;
    return 0;
}

void http_readcache_stop(struct http_readcache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    c->live = false; /* no barrier from now on: nothing kept is handed out */
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->thread, NULL);
    c->started = false;
}

void http_readcache_close(struct http_readcache *c)
{
    if (!c)
        return;
    http_readcache_stop(c);
    drop_entries(c);
    free(c->stamps);
    free(c->parked);
    store_listener_close(c->l);
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The notifications a barrier brought, kept until the lock is taken again. */
struct heard {
    char **p;
    size_t n, cap;
    bool failed;
};

static void collect(void *ctx, const char *payload)
{
    struct heard *h = ctx;
    char **g = array_grow(h->p, h->n, &h->cap, sizeof *g, 16);
    char *s = g ? strdup(payload) : NULL;
    if (!s) {
        h->failed = true;
        return;
    }
    h->p = g;
    h->p[h->n++] = s;
}

/* With c->mu held: one barrier (the lock is let go while it is on its way), then what it heard
 * applied. A request received while a barrier is on its way cannot rely on that one (the change
 * it must see may have committed after the barrier left) and waits for the next; one received
 * before it left can. */
static void run_barrier(struct http_readcache *c)
{
    bool try = c->live || http_now_us() >= c->retry_at_us;
    struct heard h = {0};
    bool resumed = false;
    int rc = ERR_IO;
    long long sent_us = http_now_us(); /* taken before the query leaves */
    if (try) {
        pthread_mutex_unlock(&c->mu);
        struct err e;
        err_clear(&e);
        rc = store_listener_sync(c->l, collect, &h, &resumed, &e);
        pthread_mutex_lock(&c->mu);
        c->barriers++;
    }
    if (try && (rc || resumed || h.failed || !c->live))
        forget_all(c);
    for (size_t i = 0; i < h.n; i++) {
        if (!rc && !h.failed)
            hear(c, h.p[i]);
        free(h.p[i]);
    }
    free(h.p);
    if (try) {
        c->live = rc == 0 && !h.failed && !c->stopping;
        if (!c->live)
            c->retry_at_us = http_now_us() + RETRY_MS * 1000LL;
    }
    c->done_sent_us = sent_us;
}

/* The barrier thread: barriers back to back while a request waits for one sent after it arrived
 * (every request waiting when a barrier leaves is covered by it); after each, the parked requests
 * it covers are resumed and the blocked ones woken. At stop, every parked request is resumed (it
 * then reads the database). */
static void *barrier_main(void *arg)
{
    struct http_readcache *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stopping && c->wanted_us <= c->done_sent_us)
            pthread_cond_wait(&c->work, &c->mu);
        if (c->stopping)
            break;
        run_barrier(c);
        size_t kept = 0;
        for (size_t i = 0; i < c->nparked; i++) {
            if (c->parked[i].arrived_us <= c->done_sent_us)
                c->resume(c->parked[i].conn);
            else
                c->parked[kept++] = c->parked[i];
        }
        c->nparked = kept;
        pthread_cond_broadcast(&c->cv);
    }
    for (size_t i = 0; i < c->nparked; i++)
        c->resume(c->parked[i].conn);
    c->nparked = 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

bool http_readcache_ready(struct http_readcache *c, long long arrived_us, void *conn)
{
    if (arrived_us <= 0) /* not known: now */
        arrived_us = http_now_us();
    pthread_mutex_lock(&c->mu);
    if (c->stopping || c->done_sent_us >= arrived_us) {
        pthread_mutex_unlock(&c->mu);
        return true;
    }
    if (arrived_us > c->wanted_us)
        c->wanted_us = arrived_us;
    pthread_cond_signal(&c->work);
    struct parked *p =
        conn ? array_grow(c->parked, c->nparked, &c->capparked, sizeof *p, 64) : NULL;
    if (p) {
        c->parked = p;
        c->parked[c->nparked++] = (struct parked){conn, arrived_us};
        c->suspend(conn); /* under the lock: it cannot be resumed before it is suspended */
        pthread_mutex_unlock(&c->mu);
        return false;
    }
    while (!c->stopping && c->done_sent_us < arrived_us)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    return true;
}

static uint64_t key_hash(const struct http_readcache *c, const char *key, size_t keylen)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, keylen, c->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static bool is_good(const struct http_readcache *c, uint64_t seq, long long record_id)
{
    return c->all_seq <= seq && stamp_get(c, record_id) <= seq;
}

static struct entry **find(struct http_readcache *c, uint64_t h, const char *key, size_t keylen)
{
    struct entry **p = &c->bucket[h & (NBUCKETS - 1)];
    while (*p &&
           !((*p)->hash == h && (*p)->keylen == keylen && memcmp((*p)->key, key, keylen) == 0))
        p = &(*p)->next;
    return p;
}

enum http_readcache_result http_readcache_get(struct http_readcache *c, const char *key,
                                              size_t keylen, long long now_ms,
                                              struct http_readcache_answer *ans,
                                              struct strbuf *body, uint64_t *ticket)
{
    uint64_t h = key_hash(c, key, keylen);
    pthread_mutex_lock(&c->mu);
    if (!c->live) {
        c->misses++;
        pthread_mutex_unlock(&c->mu);
        return HTTP_READCACHE_OFF;
    }
    struct entry *en = *find(c, h, key, keylen);
    if (en && is_good(c, en->seq, en->record_id) && now_ms < en->ans.user.session_quiet_until_ms) {
        *ans = en->ans;
        strbuf_add(body, en->body, en->len);
        c->hits++;
        pthread_mutex_unlock(&c->mu);
        return body->failed ? HTTP_READCACHE_OFF : HTTP_READCACHE_HIT;
    }
    *ticket = c->seq;
    c->misses++;
    pthread_mutex_unlock(&c->mu);
    return HTTP_READCACHE_MISS;
}

void http_readcache_put(struct http_readcache *c, const char *key, size_t keylen, uint64_t ticket,
                        long long record_id, const struct http_readcache_answer *ans,
                        const char *body, size_t len)
{
    uint64_t h = key_hash(c, key, keylen);
    struct entry *en = calloc(1, sizeof *en);
    if (!en)
        return;
    en->key = malloc(keylen);
    en->body = malloc(len ? len : 1);
    if (!en->key || !en->body) {
        entry_free(en);
        return;
    }
    memcpy(en->key, key, keylen);
    memcpy(en->body, body, len);
    en->keylen = keylen;
    en->len = len;
    en->hash = h;
    en->record_id = record_id;
    en->seq = ticket;
    en->ans = *ans;
    pthread_mutex_lock(&c->mu);
    if (!c->live || !is_good(c, ticket, record_id)) {
        pthread_mutex_unlock(&c->mu);
        entry_free(en);
        return;
    }
    if (c->nentries >= MAX_ENTRIES || c->bytes + len + keylen > MAX_BYTES)
        drop_entries(c);
    struct entry **p = find(c, h, key, keylen);
    if (*p) { /* an older answer under the same key */
        struct entry *old = *p;
        *p = old->next;
        c->nentries--;
        c->bytes -= old->len + old->keylen;
        entry_free(old);
    }
    struct entry **b = &c->bucket[h & (NBUCKETS - 1)];
    en->next = *b;
    *b = en;
    c->nentries++;
    c->bytes += len + keylen;
    c->fills++;
    pthread_mutex_unlock(&c->mu);
}

void http_readcache_log_stats(struct http_readcache *c, FILE *out)
{
    pthread_mutex_lock(&c->mu);
    (void)fprintf(out,
                  "read-cache hits=%llu misses=%llu kept=%llu barriers=%llu changes_heard=%llu "
                  "forgotten=%llu entries=%zu\n",
                  c->hits, c->misses, c->fills, c->barriers, c->heard, c->forgets, c->nentries);
    pthread_mutex_unlock(&c->mu);
}
