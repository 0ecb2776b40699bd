/* The web server's hot reads, and one read snapshot for a web request's reads: the page or API
 * answer is built from one consistent state of the database, and SQLite starts one read transaction
 * instead of one per query (each start takes shared-memory locks of the WAL index).
 *
 * Between store_snapshot_begin and store_snapshot_end only reading functions may be called: a
 * writing store function would try to upgrade the snapshot and fail. */
#ifndef IOHEME_STORE_SNAPSHOT_H
#define IOHEME_STORE_SNAPSHOT_H

#include "base/err.h"
#include "store/store.h"

/* Opens the snapshot; ERR_CONFLICT when a transaction or batch is already open on st. */
int store_snapshot_begin(struct store *st, struct err *e);
/* Ends it (st may have none open: then nothing happens). */
void store_snapshot_end(struct store *st);

/* One form of record at (event, instance): its values streamed to fn in field order (only that
 * form's rows, read through the value_form index — not the record's every value), then its
 * status into *status (-1: none), and the record's internal id into *record_id (may be NULL).
 * ERR_NOT_FOUND when the record does not exist. The strings passed to fn live until fn
 * returns. */
int store_form_values(struct store *st, const char *record, const char *event, const char *form,
                      int instance, store_value_fn fn, void *ctx, int *status, long long *record_id,
                      struct err *e);

#endif
