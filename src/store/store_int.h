/* The store's private parts, shared by its files (store.c, schema.c, audit.c, users.c,
 * records.c, write.c, read.c) and by nothing else: the struct behind the opaque handle, the
 * statement cache, transactions and the internal audit append. Only src/store/ includes
 * sqlite3.h. */
#ifndef IOHEME_STORE_STORE_INT_H
#define IOHEME_STORE_STORE_INT_H

#include "store/sqldb.h"

#include "base/arena.h"
#include "base/strbuf.h"
#include "core/calc.h"
#include "store/store.h"

/* Every statement the store runs, prepared once per connection on first use (store.c holds
 * the SQL text, in the same order). */
enum stmt_id {
    SQ_PROTO_GET,
    SQ_PROTO_PUT,
    SQ_AUDIT_HEAD_GET,
    SQ_AUDIT_HEAD_SET,
    SQ_AUDIT_INSERT,
    SQ_AUDIT_ALL,
    SQ_AUDIT_CHANGES,
    SQ_AUDIT_HASH_AT,
    SQ_AUDIT_HISTORY,
    SQ_AUDIT_LAST,
    SQ_USER_GET,
    SQ_USER_LIST,
    SQ_USER_ACCESS,     /* users.c: the user-access report */
    SQ_USER_CLI_RECENT, /* users.c: a CLI login row of the user since ?2 */
    SQ_USER_INSERT,
    SQ_USER_SET_DISABLED,
    SQ_USER_SET_ROLE,
    SQ_USER_SET_FAILED,
    SQ_USER_TRY_LOGIN,
    SQ_USER_LOCK_IF_SPENT,
    SQ_USER_SET_PW,
    SQ_USER_ACTIVE_ADMINS,
    SQ_SESSION_INSERT,
    SQ_SESSION_GET,
    SQ_SESSION_TOUCH,
    SQ_SESSION_DELETE,
    SQ_REC_GET,
    SQ_REC_GET_ID,
    SQ_REC_LIST,
    SQ_REC_INSERT,
    SQ_REC_NEXT_SCR,
    SQ_REC_NEXT_STUDY,
    SQ_REC_SET_ENROLLED,
    SQ_REC_SET_ELIG,
    SQ_REC_SET_WITHDRAWN,
    SQ_REC_SET_LOCK,
    SQ_FLOCK_INSERT,
    SQ_REDACT_IDS,
    SQ_REDACT_INSERT,
    SQ_PWHIST_INSERT,
    SQ_PWHIST_RECENT,
    SQ_FLOCK_DELETE,
    SQ_FLOCK_BY_RECORD,
    SQ_VAL_GET,
    SQ_VAL_UPSERT,
    SQ_VAL_DELETE,
    SQ_VAL_FORM_HAS_DATA,
    SQ_VAL_RECORD,
    SQ_VAL_STUDY,
    SQ_VAL_INSTANCES,
    SQ_VAL_FLAG,
    SQ_FS_GET,
    SQ_FS_UPSERT,
    SQ_FS_RECORD,
    SQ_FS_ALL,
    SQ_NEXT_INSTANCE,
    SQ_SESSION_AUTH, /* sessions.c: the session and its user, one statement per request */
    SQ_VAL_FORM,     /* snapshot.c: one form's values at one event and instance */
    SQ_SNAP_BEGIN,   /* snapshot.c: read snapshots, prepared once, not parsed per request */
    SQ_SNAP_COMMIT,
    SQ_AUDIT_RECORD, /* audit.c: one record's rows, through the audit_record_field index */
    /* read.c, for the dashboard: a few fields' values across the study (the schedule's anchor
     * candidates, the IO placements), by key or by a scan, and which forms hold values per
     * record and event */
    SQ_VAL_FIELDS_EVENTS,
    SQ_VAL_FIELDS_STUDY,
    SQ_VAL_FORMS_STUDY,
    /* queries.c */
    SQ_Q_INSERT,
    SQ_Q_MSG_INSERT,
    SQ_Q_SET_STATUS,
    SQ_Q_GET,
    SQ_Q_LIST,
    SQ_Q_MSGS,
    SQ_Q_LIVE_ON_RECORD,
    SQ_Q_LIVE_ON_KEY,
    /* write.c: a live query, a verified value, a valid signature on the record: one read */
    SQ_RECORD_MARKS,
    /* sdv.c */
    SQ_SDV_UPSERT,
    SQ_SDV_CLEAR,
    SQ_SDV_ANY_ON_RECORD,
    SQ_SDV_VALUES,
    SQ_META_GET, /* site.c: the study's settings kept in meta (the site time zone) */
    SQ_META_SET,
    /* dbstate.c */
    SQ_DB_INCOMPLETE_FORMS,
    /* signatures.c */
    SQ_SIG_INSERT,
    SQ_SIG_LIST,
    SQ_SIG_ANY_VALID,
    SQ_SIG_INVALIDATE,
    SQ_USER_FULL_NAME,
    SQ_USER_SET_FULL_NAME,
    SQ_AUDIT_HEAD_TS, /* audit.c: the trail's first time and its content head's */
    SQ_PROTO_VERSION, /* protocol.c: the newest protocol version stored */
    /* sites.c */
    SQ_SITE_SCOPE,
    SQ_SITE_GET,
    SQ_SITE_LIST,
    SQ_SITE_INSERT,
    SQ_SITE_SET_RECORD,
    SQ_SITE_OF_USER,
    SQ_SITE_USER_CLEAR,
    SQ_SITE_USER_ADD,
    SQ_SITE_USER_ALL,
    SQ_REC_ID_TAKEN,
    SQ_AUDIT_SCOPED,
    SQ_VAL_INST_BOUNDS,
    SQ__COUNT
};

/* A field reference [event][field] inside a calc, qualified by event. */
/* keys.c: one identifier key of the key file. */
#define STORE_MAX_KEYS 32
struct store_key {
    unsigned id;
    unsigned char k[32];
    bool is_recorded; /* the database's committed meta holds its check value (keys.c) */
};

/* sites.c: the sites whose records a user may see and change. */
struct store_scope {
    bool limited; /* false: every site, and records without one */
    size_t n;
    long long site[STORE_USER_SITES_MAX];
    char dag[STORE_SITE_CODE_MAX + 1]; /* the one site's code when n is 1, else "" */
};

struct store {
    struct sqldb *db; /* SQLite or PostgreSQL (sqldb.h) */
    /* sites (sites.c): the reader's scope (store_set_reader), the writing user's during a write
     * transaction (is_acting; set by store_user_active_role, dropped when the transaction
     * ends), and the site a report or export is limited to (0: none) */
    struct store_scope reader, acting;
    bool is_acting;
    long long site_filter;
    /* the signed-in user's sites as read with the session (sessions.c) inside read snapshot
     * number prefetch_snapshot: store_site_scope_load takes them from here for that user in
     * that snapshot instead of reading them again */
    struct store_scope prefetch;
    char prefetch_user[STORE_USERNAME_MAX + 1];
    unsigned prefetch_snapshot;
    unsigned snapshot_serial; /* counts read snapshots; the open one's number while is_snapshot */
    bool is_snapshot;
    char db_path[4096]; /* the SQLite file as opened; "" for PostgreSQL */
    /* identifier encryption (keys.c): the key file's keys, and who reads */
    char key_path[4096];
    struct store_key keys[STORE_MAX_KEYS];
    size_t nkeys;
    unsigned max_key_id; /* the highest key id the database has a check value for */
    long long key_file_size, key_file_mtime_ns; /* the key file as read (-1: none) */
    bool may_see_identifiers; /* the reader's role holds PERM_IDENTIFIERS (store_set_reader) */
    bool reveal_internal;     /* the store's own reads (signature content): clear text */
    struct dict dict;
    bool has_dict;
    int protocol_version;         /* the version dict is (protocol.c; 0 before one is stored) */
    struct retired_dict *retired; /* dicts replaced by an amendment, freed at store_close */
    /* store_protocol_version_at's cache: each version's protocol_amend audit row id (index
     * version - 1), loaded for protocol version pv_for */
    long long *pv_audit;
    size_t pv_n;
    int pv_for;
    sqldb_stmt *stmts[SQ__COUNT];
    store_clock_fn clock;
    void *clock_ctx;
    long long last_audit_ms; /* audit timestamps never go backwards */
    int tx_depth;            /* 0: no transaction; 1: BEGIN; >1: savepoints */
    bool in_batch;
    /* A batch kept or dropped whole (store_batch_begin_whole): on SQLite its change sets take
     * no SAVEPOINT (the page copies of one per change set were 15-20% of an import). Instead
     * sp_changes[depth] holds the connection's total changes at that point (-1 at a real
     * savepoint); a rollback to it is exact when nothing was written since, and otherwise
     * breaks the batch (is_batch_broken): it can then only be rolled back. */
    bool is_batch_whole, is_batch_broken;
    /* store_db_require found the database available in this write transaction, whose write
     * lock no other writer passes (dbstate.c); forgotten when it ends or meta is written */
    bool is_db_available;
    long long sp_changes[8];
    enum perm_action put_refused; /* the action a refused write needed (store_put_changes_locked);
                                     PERM_NONE otherwise; audited by the transaction's owner */
    struct calc_info *calcs;      /* every calc field, dictionary order */
    size_t ncalcs;
    const struct dict_field *eligible_field; /* the @ELIGIBLE calc, or NULL */
    struct arena ar;                         /* lifetime of the store: calc_info and friends */
    /* The audit head (last id, last hash) as this connection last read or wrote it. Trusted
     * only inside a transaction (the write lock keeps other connections out) and dropped at
     * every COMMIT and top-level ROLLBACK (audit.c, tx_*). Appends inside a transaction leave
     * the table audit_head to be written once, just before the COMMIT (is_head_dirty): one
     * row updated once per transaction, not once per audit row (PostgreSQL walks every
     * version a transaction made of a row it updates again, so that was quadratic there).
     * A savepoint keeps the head as it was (head_at_sp, by depth) for a ROLLBACK TO it. */
    bool is_head_known, is_head_dirty;
    long long head_id;
    char head_hash[65];
    struct head_state {
        bool is_known, is_dirty;
        long long id;
        char hash[65];
    } head_at_sp[8];
    struct strbuf canon;       /* audit canonical bytes, reused row after row */
    struct putcache *putcache; /* the write path's record cache (write_int.h), or NULL */
    long long busy_since_ms;   /* when the current wait for the lock began (busy_wait) */
    unsigned long rollbacks;   /* rollbacks so far (db.c): a cache of writes checks it */
    long long busy_wait_ms;    /* how long to wait at most (STORE_BUSY_WAIT_MS) */
    long long answering_query; /* the query whose answer is saving values (queries.c), or 0 */
    /* The first bind that failed since the statement was taken (store_bind_*): its SQLite
     * result code and parameter, which store_step returns instead of stepping and
     * store_db_fail reports. 0 when every bind succeeded. */
    int bind_rc;
    int bind_index;
};

/* The cached statement id, reset and with bindings cleared (and no failed bind recorded);
 * NULL after filling e (ERR_IO). */
sqldb_stmt *store_stmt_get(struct store *st, enum stmt_id id, struct err *e);
/* Prepares sql into *out as a statement outside the cache (the caller finalizes it), with no
 * failed bind recorded: 0, or the error (e names what) and *out NULL. */
int store_stmt_prepare(struct store *st, const char *sql, sqldb_stmt **out, const char *what,
                       struct err *e);
/* Steps s, which must finish without rows, and resets it: 0, or ERR_IO naming what. */
int store_stmt_run(struct store *st, sqldb_stmt *s, const char *what, struct err *e);
/* Steps s, an INSERT ... RETURNING id, and resets it: *id gets the new row's id; 0, or ERR_IO
 * naming what. */
int store_stmt_row_id(struct store *st, sqldb_stmt *s, long long *id, const char *what,
                      struct err *e);
/* Fills e with ERR_IO naming what failed and SQLite's message; returns ERR_IO. */
int store_db_fail(struct store *st, struct err *e, const char *what);
/* Runs SQL without parameters (schema, PRAGMAs, transaction control). */
int store_exec_sql(struct sqldb *db, const char *sql, struct err *e);

/* Nested transactions: the outermost is BEGIN IMMEDIATE, inner ones are savepoints, so a
 * function that opens one can be called inside a batch or another store function. */
int store_tx_begin(struct store *st, struct err *e);
int store_tx_commit(struct store *st, struct err *e);
/* Ends what store_tx_begin opened: rc 0 commits (its error returned), anything else rolls back
 * and is returned. */
int store_tx_finish(struct store *st, int rc, struct err *e);
void store_tx_rollback(struct store *st);
/* What holds only inside a transaction goes when it ends (COMMIT, ROLLBACK, a read snapshot's
 * end): the audit head as remembered, the acting writer's scope, a whole batch's state. */
void store_tx_ended(struct store *st);
/* How a session or API token is stored and looked up: the hex SHA-256 of the token, never the
 * token (sessions.c). */
void store_session_token_hash(const char *token, char out[65]);

/* Binding parameters. A bind can fail (an index out of range, a string too long, out of
 * memory); each helper records the first failure in st, and the statement's next store_step
 * returns that failure instead of running with a parameter left NULL, so no call site can
 * ignore it. Each returns the SQLite result code as well. */
/* Binds a string or NULL (copied). */
int store_bind_text(struct store *st, sqldb_stmt *s, int i, const char *v);
/* Binds a string or NULL without copying it (the hot inserts of the write path): v must stay
 * valid until s has been stepped and store_stmt_run_unbind (or store_stmt_get) has cleared the
 * bindings. */
int store_bind_text_static(struct store *st, sqldb_stmt *s, int i, const char *v);
/* Binds the n bytes at v as text without copying them (as store_bind_text_static). */
int store_bind_textn_static(struct store *st, sqldb_stmt *s, int i, const char *v, size_t n);
int store_bind_int64(struct store *st, sqldb_stmt *s, int i, long long v);
int store_bind_null(struct store *st, sqldb_stmt *s, int i);
int store_bind_double(struct store *st, sqldb_stmt *s, int i, double v);
int store_bind_blob(struct store *st, sqldb_stmt *s, int i, const void *v, size_t n);
/* store.c: a new database at path (refused when the file exists) with the schema and nothing
 * else — no protocol, no user: for store_migrate to fill. */
int store_create_empty(const char *path, struct store **out, struct err *e);
/* sqlite3_step, unless a bind of s failed: then that failure's code, without stepping. Every
 * statement with parameters steps through it (scripts/lint-includes keeps sqlite3_bind_* in
 * db.c). */
int store_step(struct store *st, sqldb_stmt *s);
/* store_stmt_run, then clears the bindings, so no pointer bound with store_bind_text_static
 * outlives its statement's run. */
int store_stmt_run_unbind(struct store *st, sqldb_stmt *s, const char *what, struct err *e);
/* Copies column i into buf (NUL-terminated, truncated), "" for NULL. */
void store_col_copy(sqldb_stmt *s, int i, char *buf, size_t len);

/* Steps s (bound by the caller) and collects one element of elem_size per row, filled by
 * fill, into a malloc'ed array (*out, *n; caller frees). On failure *out is NULL. */
typedef void (*row_fill_fn)(sqldb_stmt *s, void *elem);
int store_rows_to_array(struct store *st, sqldb_stmt *s, size_t elem_size, row_fill_fn fill,
                        void **out, size_t *n, const char *what, struct err *e);

/* Formats UTC ms as "YYYY-MM-DDThh:mm:ss.mmmZ" (needs 25 bytes). */
void store_ts_format(long long ms, char out[32]);
/* Parses that format back; -1 when malformed. */
long long store_ts_parse(const char *s);

/* keys.c: loads the key file of the database at db_path (after the meta table exists) and
 * checks each key against the database; encrypts a value with the newest key (making the first
 * one when there is none), decrypts one ("enc1:..."; anything else is returned as is). */
int store_keys_load(struct store *st, const char *db_path, struct err *e);
bool store_is_encrypted(const char *stored);
int store_encrypt(struct store *st, const char *plain, struct arena *ar, const char **out,
                  struct err *e);
int store_decrypt(struct store *st, const char *stored, struct arena *ar, const char **out,
                  struct err *e);
/* What a stored value shows its reader: clear text, STORE_MASKED for a reader without the
 * identifiers permission, STORE_UNREADABLE when its key is missing (in ar). */
const char *store_reveal(struct store *st, const struct dict_field *f, const char *stored,
                         struct arena *ar);
/* store_reveal in place, for a value copied into a fixed buffer. */
void store_reveal_into(struct store *st, char *buf, size_t size);

/* Removes a database file and its -wal and -shm (store.c). */
void store_remove_db_files(const char *path);

/* schema_pg.c: the tables of an ioheme SQLite database's schema, as PostgreSQL gets them. */
struct store_col {
    char *name;
    char type; /* 'i' integer, 'r' real, 'b' blob, 't' text */
    bool not_null;
    char *dflt; /* the DEFAULT's SQL, or NULL */
    int pk;     /* its place in the primary key (1, 2, ...), 0 when not in it */
};
struct store_table {
    char *name;
    struct store_col *cols;
    size_t ncols, capcols;
    char *pk;       /* the key's columns, quoted and comma-separated, or NULL */
    bool rowid_id;  /* an INTEGER PRIMARY KEY named id: SQLite numbers rows left without one */
    bool no_update; /* a trigger refuses UPDATE, DELETE */
    bool no_delete;
    long long rows; /* store_migrate's count */
};
struct store_tables {
    struct store_table *t;
    size_t n, cap;
    struct arena ar;
};
int store_schema_tables(sqlite3 *db, struct store_tables *ts, struct err *e);
void store_schema_tables_free(struct store_tables *ts);
/* Creates this binary's schema (SCHEMA_VERSION) in an empty PostgreSQL database, inside the
 * caller's transaction; *ts gets its tables (store_schema_tables_free). */
int store_schema_pg_create(struct sqldb *pg, struct store_tables *ts, struct err *e);
/* As store_schema_pg_create, the schema at version `version` (1..SCHEMA_VERSION): what an
 * older ioheme made, for the upgrade's tests. */
int store_schema_pg_create_at(struct sqldb *pg, int version, struct store_tables *ts,
                              struct err *e);
/* ERR_NOT_FOUND when the PostgreSQL database (url) holds no study, ERR_INVALID when one of a
 * newer schema version than this binary's. A study of an older version is upgraded in place,
 * in one transaction under the write lock (schema_pg.c: each migration's new tables, columns,
 * references, checks, indexes and triggers, then its data statements). */
int store_schema_pg_check(struct sqldb *pg, const char *url, struct err *e);
/* The PostgreSQL study's schema version, or -1 when it has none (store_schema_pg_check says
 * why). */
int store_schema_pg_version(struct sqldb *pg);

/* schema.c: creates or upgrades the schema to the current version; _to stops at version
 * target. */
int store_schema_migrate(struct sqldb *db, struct err *e);
int store_schema_migrate_to(struct sqldb *db, int target, struct err *e);
/* The SQLite file's schema version (its user_version: 0 for a new file). */
int store_schema_version(struct sqldb *db, int *v, struct err *e);
/* Applies migration m (1..SCHEMA_VERSION) to a SQLite database at version m - 1, inside the
 * caller's transaction: its statements one by one, each first shown to fn (may be NULL; a
 * non-zero return stops), then the user_version bump. The one way a migration is applied. */
typedef int (*store_schema_stmt_fn)(void *ctx, const char *sql, struct err *e);
int store_schema_apply(struct sqldb *db, int m, store_schema_stmt_fn fn, void *ctx, struct err *e);
#define SCHEMA_VERSION 9
/* 'IOHE': marks the file as an ioheme database (PRAGMA application_id). */
#define IOHEME_APPLICATION_ID 0x494F4845

/* audit.c: one audit row, appended inside the caller's transaction. instance < 0 is NULL. */
struct audit_entry {
    const char *action;
    const char *record;
    const char *event;
    long long instance;
    const char *field;
    const char *old_value;
    const char *new_value;
    const char *reason;
};
/* Writes the audit head this connection holds to audit_head if an append changed it since
 * (store_tx_commit calls it before COMMIT). 0 or ERR_IO. */
int store_audit_head_flush(struct store *st, struct err *e);
int store_audit_append(struct store *st, const struct store_ctx *who, const struct audit_entry *a,
                       struct err *e);
/* Free text a user gives that the trail keeps (a reason, a query's message): UTF-8, or
 * ERR_INVALID naming field (what the JSON API, the ODM export and every reader of the trail
 * need; the bytes are not echoed). NULL passes. */
int store_text_check(const char *field, const char *what, const char *s, struct err *e);
/* The reason for an action: required, what ("a redaction") "needs a reason"
 * (ERR_REASON_REQUIRED, field "reason") when missing; any reason given passes store_text_check. */
int store_reason_check(const char *reason, bool required, const char *what, struct err *e);
/* queries.c: the write path's hook after a value of field f (checkbox option code or NULL) at
 * (event, instance) of record r changed from old to value (soft flag or NULL), inside the
 * change set's transaction: adds a "value_change" message to every live query on the value,
 * marks an open system query answered when the value no longer carries a flag, and opens a
 * system query for a flagged value that has none. *has_live caches, per change set, whether the
 * record has live queries at all (-1: not known yet). */
int store_query_note_value(struct store *st, const struct store_ctx *who,
                           const struct store_record *r, int *has_live, const char *event,
                           int instance, const struct dict_field *f, const char *code,
                           const char *old, const char *value, const char *flag, const char *reason,
                           struct err *e);
/* sdv.c: the write path's hook after a value (field key afield, "field" or "field___code") at
 * (event, instance) of record r changed to value: a verification of the old value is deleted
 * and audited as "sdv_clear". *has_sdv caches whether the record has any (-1: not known). */
int store_sdv_note_value(struct store *st, const struct store_ctx *who,
                         const struct store_record *r, int *has_sdv, const char *event,
                         int instance, const char *afield, const char *value, struct err *e);
/* signatures.c: the write path's hook after what (a field key or a form's status field) at
 * event of record r changed: every valid signature of the record is invalidated, each with a
 * "signature_invalid" audit row. *has_sig caches whether there are any (-1: not known). */
int store_signature_note_change(struct store *st, const struct store_ctx *who,
                                const struct store_record *r, int *has_sig, const char *event,
                                const char *what, struct err *e);
/* audit.c: one item of the canonical encoding (docs/security.md): "-;" for NULL, else
 * "<byte length>:<bytes>;" (integers in decimal). Signatures hash a record's content with it. */
void store_canon_str(struct strbuf *sb, const char *v);
void store_canon_int(struct strbuf *sb, long long v, bool is_null);
/* dbstate.c: how many forms holding data on an enrolled record (record_id, or every record when
 * 0) are not marked complete, and the first as "IOH-001 event form" (len bytes). The rule both
 * the pre-lock checklist and a casebook signature apply. */
int store_incomplete_forms(struct store *st, long long record_id, long long *n, char *first,
                           size_t len, struct err *e);
/* site.c: the meta table (key, value), where the study's settings and states live. out gets
 * "" and *found (may be NULL) false when key has no row. */
int store_meta_get(struct store *st, const char *key, char *out, size_t len, bool *found,
                   struct err *e);
int store_meta_set(struct store *st, const char *key, const char *value, struct err *e);
/* Loads last_audit_ms from the last row. */
int store_audit_load_clock(struct store *st, struct err *e);

/* users.c: a user row (id, name, role, pwhash (unread), is_disabled, failed_logins,
 * is_locked_out, created_at as columns 0-7) into *u. */
void store_user_from_stmt(sqldb_stmt *s, struct store_user *u);
/* db.c: installs the bounded busy handler on st's connection (STORE_BUSY_WAIT_MS until
 * store_set_busy_wait says otherwise). */
void store_db_wait_when_busy(struct store *st);

/* users.c: ERR_AUTH unless name is an existing, active user ("system" always is). */
int store_user_require_active(struct store *st, const char *name, struct err *e);
/* users.c: as store_user_require_active, and *role gets the user's role (ROLE__COUNT for "system",
 * which every action is open to). */
int store_user_active_role(struct store *st, const char *name, enum role *role, struct err *e);
/* users.c: the "denied" audit row of who refused act, in its own transaction (a savepoint in
 * a batch). Called after the refused work was rolled back, so the row survives it. */
int store_user_refusal_audit(struct store *st, const struct store_ctx *who, enum perm_action act,
                             struct err *e);

/* sites.c: registers in_scope(site_id) on st's connection: whether the record of a site (NULL:
 * none) is one the connection's reader (or, in a write, its writer) may see. Every statement
 * that lists records or values across the study filters with it. */
int store_sites_register(struct store *st, struct err *e);
/* sites.c, PostgreSQL: sets the session's ioheme.scope, which the database's in_scope() reads,
 * to what store_site_visible decides now (sent only when it changed). A SQLite result code. */
int store_sites_scope_send(struct store *st);
/* sites.c: whether a record of site (0: none) is in scope (the one rule in_scope applies). */
bool store_site_visible(const struct store *st, long long site);
/* sites.c: ERR_FORBIDDEN (naming what) unless user works at every site: the actions on the
 * whole study (a database lock, a protocol amendment, a backup, a key rotation) would otherwise
 * act on, or copy, records the user may not see. */
int store_site_require_study_wide(struct store *st, const char *user, const char *what,
                                  struct err *e);
/* sites.c: whether reads are narrowed to some sites (a limited reader, or a site filter). */
bool store_site_reads_limited(const struct store *st);
/* sites.c: loads user's scope into *sc (a limited empty scope when anything fails). */
int store_site_scope_load(struct store *st, const char *user, struct store_scope *sc,
                          struct err *e);
/* sites.c: one row of (all_sites, site id, site code) at columns col.. of s into sc, as
 * SQ_SITE_SCOPE and SQ_SESSION_AUTH give them; *all set from it. store_scope_done ends sc after
 * the last row. */
void store_scope_row(sqldb_stmt *s, int col, struct store_scope *sc, bool *all);
void store_scope_done(struct store_scope *sc, bool all);
/* sites.c: keeps user's sites, read with the session, for store_site_scope_load in the open
 * read snapshot (nothing when none is open). */
void store_scope_prefetched(struct store *st, const char *user, const struct store_scope *sc);
/* sites.c: the site a record created now by who belongs to (0: none), by the rules of
 * store_ctx.site; *code gets its code ("" for none). */
int store_site_for_new_record(struct store *st, const struct store_ctx *who, long long *site,
                              char code[STORE_SITE_CODE_MAX + 1], struct err *e);

/* records.c: finds a record by either identifier (ERR_NOT_FOUND naming it). */
int store_record_find(struct store *st, const char *record, struct store_record *out,
                      struct err *e);
/* records.c: the internal id of record for a list filtered by record, or 0 for "every record"
 * when record is NULL or ""; ERR_NOT_FOUND naming an unknown one. */
int store_record_filter(struct store *st, const char *record, long long *id, struct err *e);
/* The screening event: where the @ELIGIBLE calc's form is first collected; NULL when the
 * protocol has no @ELIGIBLE field. Until enrolment, only this event takes data. */
const char *store_record_screening_event(const struct store *st);
/* Reads the stored @ELIGIBLE value and updates the record's eligibility/status. */
int store_record_refresh_eligibility(struct store *st, const struct store_record *r, struct err *e);

/* write.c: the write path on an already-found record, inside the caller's transaction. */
int store_put_changes_locked(struct store *st, const struct store_ctx *who,
                             const struct store_record *r, const struct store_change *changes,
                             size_t n, const char *reason, struct store_put_result *res,
                             struct err *e);

/* protocol.c: (re)loads the dictionary from protocol_file (the newest version), keeping a
 * replaced one until store_close (store_dict_retired_free); stores a new database's protocol
 * as version 1. */
int store_dict_reload(struct store *st, struct err *e);
/* Whether this binary's loader takes the stored protocol (read from protocol_file, as every
 * schema version has it), without installing it: asked before an upgrade changes the study for
 * good. */
int store_protocol_check_stored(struct store *st, struct err *e);
/* The protocol version in force when audit row audit_id was written: the newest whose
 * protocol_amend row is at or before it (1 before any amendment). Cached per version. */
int store_protocol_version_at(struct store *st, long long audit_id);
void store_dict_retired_free(struct store *st);
int store_protocol_put_first(struct store *st, const struct store_protocol_files *pf,
                             struct err *e);

/* write.c: recomputes, for record r inside the caller's transaction, the calc fields named in
 * calcs (a protocol amendment changed or added their definitions) wherever their form holds
 * data, then every calc that reads one of them; each value that changes is written and audited
 * as "calc" with reason. Refused like any write on a locked record or form. res may be NULL. */
int store_calcs_recompute_locked(struct store *st, const struct store_ctx *who,
                                 const struct store_record *r, const char *const *calcs,
                                 size_t ncalcs, const char *reason, struct store_put_result *res,
                                 struct err *e);

/* write.c: once the change set's fate is known (rc 0: committed; else refused and rolled back),
 * ends each soft issue's message with whether its value was saved. Called once per result by
 * whoever commits: store_put_changes, the screening and enrolment helpers. */
void store_put_result_settle(struct store_put_result *res, int rc);
/* write.c: after the caller rolled back a write that store_put_changes_locked refused for want of
 * a permission (rc ERR_FORBIDDEN), audits the refusal as "denied"; returns rc (or the audit's
 * error). Any other rc passes through. */
int store_put_refusal_audit(struct store *st, const struct store_ctx *who, int rc, struct err *e);

/* read.c: SQ_VAL_GET bound to one key (code NULL for non-checkbox fields), ready to step. */
sqldb_stmt *store_value_stmt(struct store *st, long long record_id, const char *event, int instance,
                             const char *field, const char *code, struct err *e);

/* read.c: the expression lookup over a record's stored values at (event, instance). */
struct value_lookup {
    struct store *st;
    long long record_id;
    const char *event;
    int instance;
    struct arena *ar;
    const char *record;     /* its name, for [record-name] */
    const char *record_dag; /* its site's code, for [record-dag-name] */
};
/* The lowest and highest instance of f's form holding data at event evi of the record being
 * read (0 when none), for [first-instance] / [last-instance]. */
typedef int (*store_bounds_fn)(void *ctx, int evi, const struct dict_field *f, int *first,
                               int *last, struct err *e);
/* Where a logic reference [event][field][which] reads, seen from (cur_event, cur_instance): the
 * field, its event (index) and the repeat instance by dict_ref_instance (bounds asked only when
 * which needs them); *inst -1 when no such instance exists (the reference reads blank). Errors
 * name an unknown field or event. Shared by the stored-value lookup and the write path's cached
 * lookup. */
int store_value_ref_resolve(const struct dict *d, const char *cur_event, int cur_instance,
                            const char *event, const char *field, int which, store_bounds_fn bounds,
                            void *bctx, const struct dict_field **f, const char **ev, int *evi,
                            int *inst, struct err *e);
int store_value_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                          int instance, struct expr_value *out, struct err *e);

#endif
