/* A cache of read answers for a server on a PostgreSQL study, correct with several servers.
 *
 * On PostgreSQL every read is round trips to another process: the session, the user's sites, the
 * record, its values. The cache keeps the answer to a GET (route rows marked RT_CACHE) per
 * session and URL, and hands it out again while nothing it was read from has changed:
 *
 *   - what changed is heard from the database itself (store/listen.h): triggers on the study's
 *     tables notify the record a row belongs to, or "*" for anything else (users, sites,
 *     protocol, a session ended), whoever wrote it — this server, another one, the CLI, psql;
 *   - before each lookup a barrier (an empty query on the listening connection, sent after the
 *     request was received and shared by every lookup received before it left) makes sure
 *     every transaction committed before the request arrived has been heard: a save
 *     acknowledged by any server, a session revoked on any server, is seen by the next
 *     request everywhere. A thread of the cache's own runs the barriers back to back while
 *     requests wait; a waiting request's connection is suspended, so its worker serves other
 *     connections meanwhile;
 *   - an answer is kept only if nothing it depends on was heard of between the barrier before
 *     its read and its storing, and is handed out only while its session would pass a check
 *     that does not write (its expiry need not slide yet);
 *   - when the listening connection is lost, everything kept is forgotten and every request reads
 *     the database until it is back.
 *
 * Thread-safe: one per server, shared by its worker threads. */
#ifndef IOHEME_HTTP_READCACHE_H
#define IOHEME_HTTP_READCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "http/http_int.h"
#include "store/store.h"

struct http_readcache;

/* Opens the cache's listening connection to the PostgreSQL study at url and starts the thread
 * that runs the barriers. suspend and resume are called with the cache's lock held: suspend puts
 * a request's connection aside (from its handler), resume brings it back (from the barrier
 * thread; its handler then runs again). */
int http_readcache_open(const char *url, http_park_fn suspend, http_park_fn resume,
                        struct http_readcache **out, struct err *e);
/* Before the server stops taking requests: no barrier and no kept answer from now on, every
 * parked request resumed (each then reads the database). */
void http_readcache_stop(struct http_readcache *c);
void http_readcache_close(struct http_readcache *c);

/* Whether a barrier sent at or after arrived_us (CLOCK_MONOTONIC, µs: when the request was
 * received; 0: now) has completed. If not, with conn, the connection is suspended and false
 * returned: it is resumed once one has, and its handler asks again; without conn (a request
 * not from a socket), the call waits for it. */
bool http_readcache_ready(struct http_readcache *c, long long arrived_us, void *conn);

/* A kept answer, as handed out. */
struct http_readcache_answer {
    int status;
    const char *content_type; /* a static string, as struct req's */
    struct store_user user;   /* who it was read for */
};

enum http_readcache_result {
    HTTP_READCACHE_OFF,  /* the listener is down: read the database, keep nothing */
    HTTP_READCACHE_HIT,  /* *ans and body hold the answer */
    HTTP_READCACHE_MISS, /* read the database; *ticket for http_readcache_put */
};

/* Once ready: the answer kept under key (the session and the URL) if it is still good at now_ms
 * (store_now_ms); its body is appended to body. */
enum http_readcache_result http_readcache_get(struct http_readcache *c, const char *key,
                                              size_t keylen, long long now_ms,
                                              struct http_readcache_answer *ans,
                                              struct strbuf *body, uint64_t *ticket);

/* Keeps an answer read after the http_readcache_get that gave ticket, for record_id (the record the
 * answer is about), valid while its session's check needs no write (ans->user's
 * session_quiet_until_ms). Not kept when a change to that record, or anything else, has been
 * heard since the ticket. */
void http_readcache_put(struct http_readcache *c, const char *key, size_t keylen, uint64_t ticket,
                        long long record_id, const struct http_readcache_answer *ans,
                        const char *body, size_t len);

/* One log line: hits, misses, answers kept, barriers run, changes heard, times everything was
 * forgotten, answers held. */
void http_readcache_log_stats(struct http_readcache *c, FILE *out);

#endif
