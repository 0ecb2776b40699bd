/* All of the libmicrohttpd glue: starting the daemon (thread pool, optional TLS), turning each
 * connection's callbacks into one struct req, queueing the response with the security headers
 * every response carries, the access log, per-thread database connections, and a graceful stop
 * on SIGTERM/SIGINT.
 *
 * Request flow: the first access callback creates the struct req and matches the route (so the
 * body cap is known before any body byte is read; a Content-Length over the cap is answered
 * 413 at once); later callbacks append body bytes; the final one runs router_dispatch and
 * queues the response — unless the request was parked (its connection suspended) until its
 * write has committed (writer.c) or the read cache's barrier is back (readcache.c): then the
 * final callback comes again when it is resumed. The
 * completion callback writes the access-log line and frees the request's arena, even when the
 * client went away. */
#include "base/array.h"
#include "http/http.h"
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/sitetime.h"
#include "formats/redcap.h"
#include "http/checkpointer.h"
#include "http/readcache.h"
#include "http/writer.h"
#include "store/listen.h"

struct http_server {
    struct MHD_Daemon *daemon;
    const struct http_config *cfg;
    struct store *first; /* opened first (migrations); the writer's connection */
    FILE *log;
    bool is_tls;
    unsigned long generation; /* tells this server's thread-local stores from others */
    unsigned char csrf_key[32];
    pthread_mutex_t stores_mu;      /* guards stores[] */
    struct http_writer *writer;     /* group commit of every write (writer.c) */
    struct http_checkpointer *ckpt; /* WAL checkpoints, outside every commit */
    struct http_readcache *cache;   /* PostgreSQL: answers kept (readcache.h) */
    struct store **stores;          /* every per-thread connection, closed at stop */
    size_t nstores, capstores;
    _Atomic long ninflight; /* requests begun and not yet completed (answered or cut off) */
};

/* One connection per worker thread (a struct store is single-threaded). */
static _Thread_local struct store *tl_store;
static _Thread_local unsigned long tl_generation;
static unsigned long server_generation;
static pthread_mutex_t generation_mu = PTHREAD_MUTEX_INITIALIZER;

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'";

long long http_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

struct http_writer *http_server_writer(const struct http_server *srv)
{
    return srv->writer;
}

struct http_readcache *http_server_readcache(const struct http_server *srv)
{
    return srv->cache;
}

long long http_server_idle_s(const struct http_server *srv)
{
    return srv->cfg->idle_s > 0 ? srv->cfg->idle_s : AUTH_IDLE_S;
}

const unsigned char *http_server_csrf_key(const struct http_server *srv)
{
    return srv->csrf_key;
}

/* What every connection of the server gets: how long a request waits for another writer (an
 * import, a second server) before it answers 503 with Retry-After; and, while the checkpointer
 * runs (ioheme serve), no checkpoint inside its own commits. */
static int server_store_setup(const struct http_server *srv, struct store *st, struct err *e)
{
    store_set_busy_wait(st,
                        srv->cfg->busy_wait_ms > 0 ? srv->cfg->busy_wait_ms : STORE_BUSY_WAIT_MS);
    return srv->ckpt ? store_set_autocheckpoint(st, false, e) : 0;
}

struct store *req_store(struct req *r, struct err *e)
{
    if (r->st)
        return r->st;
    if (tl_store && tl_generation == r->srv->generation) {
        /* a protocol amended meanwhile (`ioheme protocol amend`) is in force from this
         * request on, without a restart (a GET looks inside its read snapshot: router.c) */
        if (r->method != HTTP_GET && store_protocol_sync(tl_store, e) != 0)
            return NULL;
        r->st = tl_store;
        return r->st;
    }
    struct store *st = NULL;
    if (store_open(r->srv->cfg->db_path, &st, e) != 0)
        return NULL;
    if (server_store_setup(r->srv, st, e) != 0) {
        store_close(st);
        return NULL;
    }
    pthread_mutex_lock(&r->srv->stores_mu);
    struct store **p =
        array_grow(r->srv->stores, r->srv->nstores, &r->srv->capstores, sizeof *p, 16);
    if (!p) {
        pthread_mutex_unlock(&r->srv->stores_mu);
        store_close(st);
        err_set(e, ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->srv->stores = p;
    r->srv->stores[r->srv->nstores++] = st;
    pthread_mutex_unlock(&r->srv->stores_mu);
    tl_store = st;
    tl_generation = r->srv->generation;
    r->st = st;
    return st;
}

/* MHD_get_connection_values' callback: copies each header, query argument and cookie (as
 * libmicrohttpd parsed and decoded them) into the request (request.c). */
static enum MHD_Result add_input(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct req *r = cls;
    enum req_input k = kind == MHD_HEADER_KIND         ? REQ_HEADER
                       : kind == MHD_GET_ARGUMENT_KIND ? REQ_QUERY
                                                       : REQ_COOKIE;
    return req_add_input(r, k, key, value) == 0 ? MHD_YES : MHD_NO;
}

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    /* MHD refuses headers with CR/LF; our values never hold any, a refusal is a bug. */
    if (MHD_add_response_header(resp, name, value) != MHD_YES)
        (void)fprintf(stderr, "ioheme serve: could not add header %s\n", name);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct req *r)
{
    struct MHD_Response *resp;
    r->sent_bytes = r->static_body ? r->static_len : r->out.len;
    if (r->static_body) {
        resp = MHD_create_response_from_buffer(r->static_len, (void *)r->static_body,
                                               MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = r->out.len;
        char *body = strbuf_detach(&r->out);
        if (!body) {
            len = 0;
            body = NULL;
        }
        resp = MHD_create_response_from_buffer(
            len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!resp)
            free(body);
    }
    if (!resp)
        return MHD_NO;
    add_header(resp, "Content-Type",
               r->content_type ? r->content_type : "text/plain; charset=utf-8");
    add_header(resp, "Content-Security-Policy", CSP);
    add_header(resp, "X-Content-Type-Options", "nosniff");
    add_header(resp, "Referrer-Policy", "no-referrer");
    add_header(resp, "X-Frame-Options", "DENY");
    add_header(resp, "X-Request-Id", r->id);
    if (r->is_tls)
        add_header(resp, "Strict-Transport-Security", "max-age=31536000");
    bool has_cache = false;
    for (size_t i = 0; i < r->nhdrs; i++) {
        add_header(resp, r->hdr_name[i], r->hdr_value[i]);
        if (strcmp(r->hdr_name[i], "Cache-Control") == 0)
            has_cache = true;
    }
    if (!has_cache)
        add_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- multipart/form-data bodies ----
 * httr's POST sends its body as multipart/form-data unless told otherwise, and redcapAPI sends
 * every REDCap API call that way; libmicrohttpd's post processor reads the parts into r->form,
 * which req_form then reads as it reads an urlencoded body. A part's value arrives in pieces
 * (off > 0: the same part continued). */
struct mp_part {
    const char *name;
    struct strbuf value;
};

struct mp_ctx {
    struct req *r;
    struct mp_part *parts;
    size_t n, cap;
    bool nomem;
};

static enum MHD_Result mp_part_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    struct mp_ctx *m = cls;
    if (off == 0 || !m->n) {
        struct mp_part *g = array_grow(m->parts, m->n, &m->cap, sizeof *g, 16);
        const char *name = g ? arena_strdup(&m->r->ar, key ? key : "") : NULL;
        if (!g || !name) {
            if (g)
                m->parts = g;
            m->nomem = true;
            return MHD_NO;
        }
        m->parts = g;
        m->parts[m->n].name = name;
        m->parts[m->n].value = (struct strbuf)STRBUF_INIT;
        m->n++;
    }
    strbuf_add(&m->parts[m->n - 1].value, data, size);
    return MHD_YES;
}

/* Reads r's multipart/form-data body into r->form; r->form_unreadable when it is not one. */
static void read_multipart(struct MHD_Connection *c, struct req *r)
{
    struct mp_ctx m = {.r = r};
    struct MHD_PostProcessor *pp = MHD_create_post_processor(c, 1024, mp_part_data, &m);
    bool ok = pp != NULL;
    if (pp) {
        ok = MHD_post_process(pp, r->body.buf ? r->body.buf : "", r->body.len) == MHD_YES;
        ok = MHD_destroy_post_processor(pp) == MHD_YES && ok;
    }
    r->form_parsed = true;
    r->form = arena_calloc(&r->ar, m.n ? m.n : 1, sizeof *r->form);
    for (size_t i = 0; i < m.n; i++) {
        struct strbuf *v = &m.parts[i].value;
        const char *value = v->failed ? NULL : arena_strndup(&r->ar, strbuf_str(v), v->len);
        if (r->form && value) {
            r->form[r->nform].name = m.parts[i].name;
            r->form[r->nform].value = value;
            r->nform++;
        } else {
            ok = false;
        }
        strbuf_release(v);
    }
    free(m.parts);
    r->form_unreadable = !ok || m.nomem;
}

static bool is_multipart(struct req *r)
{
    const char *ct = req_header(r, "Content-Type");
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct http_server *srv = cls;
    struct req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *req_cls = r;
        srv->ninflight++; /* until on_completed */
        r->conn = c;
        r->t0_us = http_now_us();
        r->is_tls = srv->is_tls;
        int kinds = MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND | MHD_COOKIE_KIND;
        if (req_begin(r, srv, method, url) != 0 ||
            MHD_get_connection_values(c, kinds, add_input, r) != (int)r->ninputs)
            return MHD_NO; /* out of memory */
        const char *cl = req_header(r, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            size_t cap = req_body_cap(r);
            if (errno || *end || n > cap) {
                if (r->route)
                    r->body_too_big = true;
                /* Answer now: no reason to read a body we will refuse. */
                if (r->route || n > 0) {
                    router_dispatch(r);
                    return queue(c, r);
                }
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        req_add_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!r->body_too_big && !r->parked && is_multipart(r))
        read_multipart(c, r);
    r->parked = false;
    router_dispatch(r);
    if (r->parked) /* suspended: this handler runs again when it is resumed */
        return MHD_YES;
    return queue(c, r);
}

/* A request waiting for the read cache's barrier (readcache.h) or its write's commit
 * (writer.c) is parked: its connection suspended, then resumed and its handler run again. */
static void park(void *conn)
{
    MHD_suspend_connection(conn);
}

static void unpark(void *conn)
{
    MHD_resume_connection(conn);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    struct http_server *srv = cls;
    struct req *r = *req_cls;
    if (!r)
        return;
    *req_cls = NULL;
    srv->ninflight--;
    long long dur = http_now_us() - r->t0_us;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    /* No patient data: the route's pattern, never the raw path with record IDs. */
    const char *pattern = r->route ? r->route->pattern : "-";
    size_t bytes = r->sent_bytes;
    if (r->route)
        router_count(r->route, r->status, dur);
    (void)fprintf(srv->log,
                  "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ rid=%s method=%s route=%s status=%d "
                  "bytes=%zu us=%lld user=%lld%s\n",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  ts.tv_nsec / 1000000, r->id, r->method_name ? r->method_name : "-", pattern,
                  r->status, bytes, dur, r->has_user ? r->user.id : 0LL,
                  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    /* Every 5xx reaches the operator with its request id (the client has the same id in
     * X-Request-Id) and its cause; like the access log, it names the route, not the path. */
    if (r->status >= 500)
        (void)fprintf(stderr, "ioheme serve: rid=%s %s %s: %d %s\n", r->id,
                      r->method_name ? r->method_name : "-", pattern, r->status,
                      r->failure ? r->failure : "(no cause recorded)");
    req_end(r);
    free(r);
}

/* --listen: "A.B.C.D:PORT" or "[IPv6]:PORT" (brackets required, as in a URL, so the port is
 * never mistaken for part of the address). A numeric address only: no name lookup at start. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, struct err *e)
{
    static const char want[] = "expected IPV4:PORT (127.0.0.1:8080) or [IPV6]:PORT ([::1]:8080)";
    memset(ss, 0, sizeof *ss);
    const char *host = s, *host_end, *colon;
    if (*s == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            return err_set_field(e, ERR_USAGE, "listen", "--listen '%s': %s", s, want);
        colon = host_end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon)
            return err_set_field(e, ERR_USAGE, "listen", "--listen '%s': %s", s, want);
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host);
    char addr[INET6_ADDRSTRLEN + 1];
    if (hlen == 0 || hlen >= sizeof addr)
        return err_set_field(e, ERR_USAGE, "listen", "--listen '%s': %s", s, want);
    memcpy(addr, host, hlen);
    addr[hlen] = '\0';
    const char *ps = colon + 1;
    long long port = 0;
    if (!fmt_parse_int(ps, 1, 65535, &port))
        return err_set_field(e, ERR_USAGE, "listen", "--listen '%s': the port must be 1..65535", s);
    if (*s == '[') {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &sa->sin6_addr) != 1)
            return err_set_field(e, ERR_USAGE, "listen",
                                 "--listen '%s': '%s' is not an IPv6 address", s, addr);
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
            return err_set_field(e, ERR_USAGE, "listen",
                                 "--listen '%s': '%s' is not an IPv4 address (IPv6 goes in "
                                 "brackets: [::1]:8080)",
                                 s, addr);
    }
    return 0;
}

static char *read_file(const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_add(&sb, buf, n);
    int bad = ferror(f);
    (void)fclose(f);
    if (bad || sb.failed) {
        strbuf_release(&sb);
        err_set(e, ERR_IO, "%s: cannot read", path);
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* On PostgreSQL, unless --no-read-cache: the triggers that tell every server of a change, then
 * the cache's listening connection (readcache.h). */
static int read_cache_start(struct http_server *srv, struct err *e)
{
    if (!store_is_postgres_url(srv->cfg->db_path) || srv->cfg->no_read_cache)
        return 0;
    if (store_listen_triggers(srv->first, e) != 0 ||
        http_readcache_open(srv->cfg->db_path, park, unpark, &srv->cache, e) != 0) {
        err_prefix(e, "the read cache (to serve without it: --no-read-cache)");
        return e->code;
    }
    return 0;
}

int http_server_open(const struct http_config *cfg, struct http_server **out, struct err *e)
{
    *out = NULL;
    if (sodium_init() < 0)
        return err_set(e, ERR_INTERNAL, "libsodium failed to initialise");
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return err_set(e, ERR_NOMEM, "out of memory");
    srv->cfg = cfg;
    srv->log = cfg->access_log ? cfg->access_log : stderr;
    pthread_mutex_init(&srv->stores_mu, NULL);
    pthread_mutex_lock(&generation_mu);
    srv->generation = ++server_generation;
    pthread_mutex_unlock(&generation_mu);
    /* Open once up front: fails early on a missing database and applies migrations before
     * workers open their own connections. This connection becomes the writer's (group commit).
     * The CSRF key is the database's, shared by every server on it (store_server_key). */
    char zone[STORE_TZ_LEN];
    if (store_open(cfg->db_path, &srv->first, e) != 0 ||
        server_store_setup(srv, srv->first, e) != 0 ||
        store_server_key(srv->first, srv->csrf_key, e) != 0 ||
        /* the site's zone for every conversion, set before the first thread starts
         * (core/sitetime.h); a zone changed later applies at the next start */
        store_site_timezone(srv->first, zone, NULL, e) != 0 || sitetime_use(zone, e) != 0 ||
        /* on PostgreSQL, the triggers that tell every server of a change, then the listener */
        read_cache_start(srv, e) != 0 ||
        http_writer_start(srv->first, park, unpark, &srv->writer, e) != 0) {
        int rc = e->code;
        http_server_close(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void http_server_close(struct http_server *srv)
{
    if (!srv)
        return;
    http_writer_stop(srv->writer, NULL, NULL);
    http_checkpointer_stop(srv->ckpt, NULL);
    for (size_t i = 0; i < srv->nstores; i++)
        store_close(srv->stores[i]);
    free(srv->stores);
    pthread_mutex_destroy(&srv->stores_mu);
    store_close(srv->first);
    http_readcache_close(srv->cache);
    free(srv);
}

int http_serve(const struct http_config *cfg, struct err *e)
{
    struct sockaddr_storage sa;
    if (parse_listen(cfg->listen, &sa, e) != 0)
        return e->code;
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return err_set(e, ERR_USAGE, "--tls-cert and --tls-key go together");

    struct http_server *srv = NULL;
    if (http_server_open(cfg, &srv, e) != 0)
        return e->code;
    (void)setvbuf(srv->log, NULL, _IOLBF, 0);

    char *cert = NULL, *key = NULL;
    int rc = 0;
    if (cfg->tls_cert) {
        cert = read_file(cfg->tls_cert, e);
        key = cert ? read_file(cfg->tls_key, e) : NULL;
        if (!cert || !key) {
            rc = e->code;
            goto out;
        }
        srv->is_tls = true;
    }

    /* The writer's commits never checkpoint, nor do the workers' (sign-ins, session touches):
     * the checkpointer thread does, on its own connection (checkpointer.c). Workers open their
     * connections later, with the same settings (server_store_setup). */
    /* PostgreSQL checkpoints on its own: no thread, no connection for it. */
    if (!store_is_postgres_url(cfg->db_path) &&
        (http_checkpointer_start(cfg->db_path, NULL, srv->log, &srv->ckpt, e) != 0 ||
         store_set_autocheckpoint(srv->first, false, e) != 0)) {
        rc = e->code;
        goto out;
    }

    /* Workers inherit this mask, so SIGINT/SIGTERM reach only sigwait below. */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    (void)signal(SIGPIPE, SIG_IGN);

    /* HTTP_MAX_CONNECTIONS sockets plus a database connection per thread and the log need more
     * descriptors than the usual soft limit of 1024: raise it toward the hard limit. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 4096) {
        nofile.rlim_cur = nofile.rlim_max < 4096 ? nofile.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &nofile); /* best effort: the limits still hold below it */
    }

    redcap_xml_init(); /* before the workers: libxml2's set-up must not be raced */
    /* Two workers per CPU (at least 4): a worker waiting for a group commit holds no CPU, and
     * more writers waiting means more writes share each commit. */
    unsigned threads = cfg->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 2 ? 2 * (unsigned)n : 4;
    }
    /* suspend/resume: a request waiting for its write's commit or the read cache's barrier
     * holds no worker (park) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC; /* ITC: quiescing */
    if (srv->is_tls)
        flags |= MHD_USE_TLS;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_CONNECTION_S, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT,
         cfg->max_conns_per_ip ? cfg->max_conns_per_ip : HTTP_MAX_CONNS_PER_IP, NULL},
        {srv->is_tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {srv->is_tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                                   MHD_OPTION_END);
    if (!srv->daemon) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        rc = err_set_field(e, ERR_IO, "listen", "cannot listen on %s (in use, or bad TLS files?)",
                           cfg->listen);
        goto out;
    }
    (void)fprintf(srv->log, "ioheme serve: listening on %s://%s (%u threads)\n",
                  srv->is_tls ? "https" : "http", cfg->listen, threads);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    (void)fprintf(srv->log, "ioheme serve: signal %d, stopping\n", sig);
    /* Stops accepting connections. Requests parked for the read cache's barrier go on (reading
     * the database), parked writes commit, later ones wait on their workers; then every request
     * begun is answered before the daemon stops. */
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon); /* accepts no more connections */
    http_readcache_stop(srv->cache);
    http_writer_quiesce(srv->writer);
    /* Every request begun is answered by the daemon's threads (a parked one once resumed):
     * stopping the daemon before would cut them off — a save committed, its client told
     * nothing. A client that reads no answer is given up on after a few seconds. */
    for (int i = 0; srv->ninflight > 0 && i < 5000; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    MHD_stop_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    unsigned long batches = 0, writes = 0;
    http_writer_stop(srv->writer, &batches, &writes);
    srv->writer = NULL;
    struct http_ckpt_stats ck = {0};
    bool had_ckpt = srv->ckpt != NULL; /* none on PostgreSQL */
    http_checkpointer_stop(srv->ckpt, &ck);
    srv->ckpt = NULL;
    if (cfg->route_stats)
        router_log_stats(srv->log);
    if (srv->cache)
        http_readcache_log_stats(srv->cache, srv->log);
    if (had_ckpt)
        (void)fprintf(
            srv->log,
            "ioheme serve: WAL checkpoints: %lu passive, %lu restart, %lu truncate (%lu gave up "
            "waiting); largest WAL %lld frames\n",
            ck.passive, ck.restart, ck.truncate, ck.restart_gave_up, ck.max_wal_frames);
    (void)fprintf(srv->log, "ioheme serve: stopped (%lu writes in %lu commits)\n", writes, batches);

out:
    http_server_close(srv);
    if (key)
        sodium_memzero(key, strlen(key));
    free(key);
    free(cert);
    return rc;
}
