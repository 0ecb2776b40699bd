/* The web server's public face for the command line: start `ioheme serve`, and list the route
 * table as JSON (for the authorisation-matrix tests and docs/api.md).
 *
 * Everything else about HTTP — libmicrohttpd, the router, handlers, pages — is private to
 * src/http/. */
#ifndef IOHEME_HTTP_HTTP_H
#define IOHEME_HTTP_HTTP_H

#include <stdio.h>

#include "base/err.h"
#include "base/strbuf.h"

struct http_config {
    const char *db_path;       /* the study database (must exist; created by `ioheme init`) */
    const char *listen;        /* "127.0.0.1:8080" or "[::1]:8080" (numeric) */
    const char *tls_cert;      /* PEM file, or NULL for plain HTTP */
    const char *tls_key;       /* PEM file, or NULL */
    unsigned threads;          /* worker threads (0: number of CPUs) */
    FILE *access_log;          /* one line per request; NULL: stderr */
    long long idle_s;          /* idle logout after this many seconds (0: 1800) */
    unsigned max_conns_per_ip; /* open connections one client address may hold (0: 64) */
    long long busy_wait_ms;    /* a request's wait for another writer before 503 (0: 15000) */
    bool route_stats;          /* at stop, one counter line per route in the access log */
    bool no_read_cache;        /* PostgreSQL: no cache of read answers (http/readcache.h) */
};

/* Connection limits (docs/operations.md, "Limits"): a slow or idle client cannot starve the
 * others. At most HTTP_MAX_CONNECTIONS connections in all, max_conns_per_ip from one address,
 * and a connection silent for HTTP_IDLE_CONNECTION_S seconds is closed. */
#define HTTP_MAX_CONNECTIONS 1000
#define HTTP_MAX_CONNS_PER_IP 64
#define HTTP_IDLE_CONNECTION_S 15

/* Serves until SIGTERM or SIGINT, then stops accepting, finishes requests in flight, closes
 * every per-thread database connection and returns 0. Returns a negative err code (e filled)
 * when the server cannot start: bad --listen, unreadable TLS files, database not openable,
 * port in use. */
int http_serve(const struct http_config *cfg, struct err *e);

/* Appends the route table as a JSON array to out: one object per route with "method",
 * "pattern", "permission" (null when any signed-in user may), "public", "csrf", "max_body",
 * "record_lock". */
void http_routes_json(struct strbuf *out);

#endif
