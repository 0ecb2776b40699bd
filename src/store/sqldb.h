/* The two backends behind one statement interface: SQLite (a study's file, the default) and
 * PostgreSQL (a multi-centre study's server, through libpq). The rest of store/ prepares, binds,
 * steps and reads columns through these functions only, in SQLite's vocabulary (SQLITE_ROW,
 * SQLITE_DONE, SQLITE_NULL, ...), and writes its SQL once, in the dialect both accept; what
 * differs is translated here when a statement is prepared on PostgreSQL:
 *
 *   ?N and ?       become $N (libpq's parameters); every parameter goes as text, typed by its
 *                  context, so SQL that compares a parameter with nothing casts it.
 *   rowid          becomes ctid (the one append-only table ordered by it, password_history).
 *   BEGIN          a read snapshot: REPEATABLE READ.
 *   BEGIN IMMEDIATE  READ COMMITTED plus a transaction-scoped advisory lock taken at once: one
 *                  writer at a time across every process, as SQLite's write lock gives, so
 *                  the audit chain's head is read and extended by one transaction at a time.
 *
 * Column values come back as text (libpq's text format); booleans read as 1 and 0, bytea is
 * decoded. Errors keep SQLite's codes: busy (a lock wait past lock_timeout, a serialization
 * failure, a deadlock) is SQLITE_BUSY; a constraint violation SQLITE_CONSTRAINT. A PostgreSQL
 * connection that was lost is re-established (libpq tries each host of the URL again, and
 * target_session_attrs=read-write finds the promoted standby) before the next transaction or
 * statement outside one; a statement inside the lost transaction fails. Only src/store/ includes
 * this file. */
#ifndef IOHEME_STORE_SQLDB_H
#define IOHEME_STORE_SQLDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct sqldb;
typedef struct sqldb_stmt sqldb_stmt;

/* Opens a SQLite file (flags as sqlite3_open_v2's) or connects to a PostgreSQL URL. On failure
 * *out may hold a handle whose store_sql_errmsg says why (close it). */
int store_sql_open_sqlite(const char *path, int flags, struct sqldb **out);
int store_sql_open_postgres(const char *url, struct sqldb **out);
void store_sql_close(struct sqldb *db);
bool store_sql_is_postgres(const struct sqldb *db);
/* The PostgreSQL connection (NULL on SQLite): a migration's COPY. */
struct pg_conn *store_sql_postgres(struct sqldb *db);
/* The SQLite connection (NULL on PostgreSQL): backup, checkpoints and the busy handler. */
sqlite3 *store_sql_sqlite(struct sqldb *db);

/* Prepares sql (see above for PostgreSQL); SQLITE_OK or an error code (store_sql_errmsg). */
int store_sql_prepare(struct sqldb *db, const char *sql, bool persistent, sqldb_stmt **out);
/* Marks s as reading a whole table: on PostgreSQL, inside a read snapshot, it runs as a cursor
 * fetched a few thousand rows at a time instead of one result held whole in memory (other
 * statements may run between its steps, as on SQLite). No effect on SQLite. */
void store_sql_set_streamed(sqldb_stmt *s);
int store_sql_step(sqldb_stmt *s);
void store_sql_reset(sqldb_stmt *s);
void store_sql_clear_bindings(sqldb_stmt *s);
void store_sql_finalize(sqldb_stmt *s);

/* Binds (1-based); is_static: v outlives the statement's next run (SQLite does not copy it). */
int store_sql_bind_text(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static);
int store_sql_bind_int64(sqldb_stmt *s, int i, long long v);
int store_sql_bind_double(sqldb_stmt *s, int i, double v);
int store_sql_bind_null(sqldb_stmt *s, int i);
int store_sql_bind_blob(sqldb_stmt *s, int i, const void *v, size_t n);

const unsigned char *store_sql_col_text(sqldb_stmt *s, int i);
int store_sql_col_int(sqldb_stmt *s, int i);
long long store_sql_col_int64(sqldb_stmt *s, int i);
double store_sql_col_double(sqldb_stmt *s, int i);
int store_sql_col_type(sqldb_stmt *s, int i);
int store_sql_col_bytes(sqldb_stmt *s, int i);
const void *store_sql_col_blob(sqldb_stmt *s, int i);
int store_sql_col_count(sqldb_stmt *s);

/* Runs SQL without parameters (several statements allowed); SQLITE_OK or an error code. */
int store_sql_exec(struct sqldb *db, const char *sql);
/* The last error's message and code (SQLite's primary codes: SQLITE_BUSY, SQLITE_CONSTRAINT,
 * SQLITE_NOMEM, SQLITE_ERROR, ...). */
const char *store_sql_errmsg(struct sqldb *db);
int store_sql_errcode(struct sqldb *db);
/* True when the last error is a COMMIT whose outcome is not known: the PostgreSQL session went
 * after COMMIT was sent and before its answer came (the change may or may not be stored). */
bool store_sql_outcome_unknown(struct sqldb *db);
/* Whether a transaction is open on the connection. */
bool store_sql_in_transaction(struct sqldb *db);
/* Rows the last INSERT, UPDATE or DELETE changed. */
long long store_sql_changes(struct sqldb *db);
/* Rows every INSERT, UPDATE or DELETE has changed since the connection opened (triggers'
 * included): SQLite's sqlite3_total_changes64. -1 on PostgreSQL, which does not count them. */
long long store_sql_total_changes(struct sqldb *db);
/* PostgreSQL: the value of the session setting ioheme.scope (the sites in_scope() lets
 * through), sent only when it changed since last sent on this session. */
int store_sql_set_scope(struct sqldb *db, const char *scope);
/* The statement's SQL (on PostgreSQL as translated). */
const char *store_sql_sql(const sqldb_stmt *s);
/* PostgreSQL: whether the statement calls in_scope() (its session needs the scope set). */
bool store_sql_uses_scope(const sqldb_stmt *s);
/* PostgreSQL: how long a writer waits for the write lock before SQLITE_BUSY. */
int store_sql_set_lock_timeout(struct sqldb *db, long long ms);
/* The lock timeout in force (PostgreSQL; what store_sql_set_lock_timeout set last). */
long long store_sql_lock_timeout(const struct sqldb *db);

#endif
