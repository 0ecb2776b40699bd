/* Hearing about other connections' commits (PostgreSQL): what lets a web server keep answers to
 * reads in memory when several servers share one study (http/readcache.c).
 *
 * Triggers on the study's tables (store_listen_triggers) notify the channel "ioheme_cache" in the
 * writing transaction: the record's id (decimal) for a row of a record's tables (record, value,
 * form_status, form_lock, query, sdv, signature), "*" for any change elsewhere (users, sites,
 * the protocol, a session ended or cut short, …). The audit trail and its head notify nothing:
 * every change they record is a change of a table that does. PostgreSQL delivers a notification
 * only once its transaction has committed, and at most once per payload per transaction.
 *
 * A listener is a connection of its own that LISTENs on that channel. store_listener_sync is a
 * barrier: PostgreSQL signals the listening sessions while it commits, before the committing
 * client hears "COMMIT", and a session sends what it was signalled before it answers its next
 * query; so an empty query answered means every transaction committed before the call has been
 * heard (docs/performance.md, "A cache of reads"). */
#ifndef IOHEME_STORE_LISTEN_H
#define IOHEME_STORE_LISTEN_H

#include <stdbool.h>

#include "base/err.h"
#include "store/store.h"

#define STORE_LISTEN_CHANNEL "ioheme_cache"
/* The listening connection's application_name (pg_stat_activity). */
#define STORE_LISTEN_APP_NAME "ioheme read cache"
/* The payload of a change that is not one record's. */
#define STORE_LISTEN_ALL "*"

/* Creates the notifying triggers where one is missing (PostgreSQL; nothing on SQLite), under the
 * write lock, in one transaction; present triggers are left alone, so several servers starting
 * at once create them once. A table a later schema adds gets its trigger the next time. */
int store_listen_triggers(struct store *st, struct err *e);

struct store_listener;

/* Opens a listening connection to the PostgreSQL study at url. ERR_INVALID for a SQLite path,
 * ERR_IO when it cannot connect. */
int store_listener_open(const char *url, struct store_listener **out, struct err *e);

/* Called with each notification's payload (a record id in decimal, or STORE_LISTEN_ALL). */
typedef void (*store_listen_fn)(void *ctx, const char *payload);

/* The barrier: returns 0 once fn has been given every notification of every transaction that
 * committed before the call. *resumed is set when the connection had been lost and was made
 * again (notifications may have been missed meanwhile: the caller forgets all it kept). ERR_IO
 * when the connection is lost (or cannot be made again): nothing can be said about what others
 * committed, and the next call tries to reconnect. */
int store_listener_sync(struct store_listener *l, store_listen_fn fn, void *ctx, bool *resumed,
                        struct err *e);

void store_listener_close(struct store_listener *l);

#endif
