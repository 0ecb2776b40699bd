/* The export cache: what an export wrote for each record, kept beside the database so that the
 * next export of the same kind derives again only the records that changed (dataset.c uses it;
 * docs/performance.md and docs/security.md say why and what it holds).
 *
 * One file per kind of export and class of reader, <database>.cache/<kind>-<id|noid>.bin (0600,
 * in a 0700 folder), written whole by each export into a working file and renamed over the old
 * one at its end; what a record's entry holds is up to the export (dataset.c). The file is
 * valid as of an audit row, named by id and hash. An entry is used only when
 *   - the file's key matches: this binary (its SHA-256), the kind and the layout of its entries,
 *     the protocol version, whether the reader sees identifiers;
 *   - the audit trail still holds that row with that hash (the same history: not a database
 *     put back from an older backup, nor another database);
 *   - no audit row since is a study-level change (anything but an access — a sign-in, an export,
 *     a backup — or a change of user accounts: store_audit_changes) and none names the record
 *     (by either of its names);
 *   - no branching logic reads the clock ("today", "now": then what a record derives to
 *     changes with the day, and nothing is cached).
 * A file that cannot be read or written is no cache: the export derives everything, and says
 * nothing. A PostgreSQL study has no folder beside it: no cache. */
#ifndef IOHEME_REPORT_DATASET_CACHE_H
#define IOHEME_REPORT_DATASET_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "report/dataset.h"
#include "store/store.h"

struct dataset_cache;

/* The cache of kind ("dataset", "sdtm") for st's reader, layout naming what an entry holds
 * (an entry written by another layout is never read). *out NULL when there is no cache to be
 * had (PostgreSQL, clock in the logic, IOHEME_EXPORT_CACHE=off); 0, or ERR_NOMEM. */
int dataset_cache_open(struct store *st, const char *kind, const char *layout,
                       struct dataset_cache **out, struct err *e);
/* store_study_select_fn, called in the snapshot the export reads: finds the entries still valid
 * (the audit trail since the file's row) and clears want[i] for each record that has one. */
int dataset_cache_select(void *cache, const struct store_record *recs, size_t nrecs, bool *want,
                         struct err *e);
/* Record id's valid entry (after dataset_cache_select), *len its bytes; NULL when none. */
const unsigned char *dataset_cache_get(const struct dataset_cache *c, long long id, size_t *len);
/* Appends record id's entry to the file being written (any order; each record once): kept when
 * it is the entry dataset_cache_get gave (counted in the stats). A failure to write drops the new
 * file, not the export. */
void dataset_cache_put(struct dataset_cache *c, long long id, const void *entry, size_t len,
                       bool kept);
/* The entry at `at` (from dataset_cache_get) has been used: the file's pages before it are given
 * back (an entry read again later is read from the file again), so that memory does not grow with
 * the number of records. */
void dataset_cache_done(struct dataset_cache *c, const unsigned char *at);
/* Ends the cache: with ok, the new file replaces the old one; else it is dropped. When select
 * found every record's entry valid and no other in the file, no new file was written and the
 * old one stays. Frees c. What it did goes to *stats (when not NULL; all zero when c is NULL). */
void dataset_cache_close(struct dataset_cache *c, bool ok, struct dataset_cache_stats *stats);

#endif
