/* Inside the statement interface (sqldb.c, sqldb_pg.c): the connection and statement as both
 * files see them, and the PostgreSQL session's mechanics sqldb.c calls on. Nothing outside
 * those two files includes it. */
#ifndef IOHEME_STORE_SQLDB_INT_H
#define IOHEME_STORE_SQLDB_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/sqldb.h"

struct sqldb {
    sqlite3 *lite;
    PGconn *pg;
    char errmsg[1024];
    int errcode;
    long long changes;
    unsigned gen;       /* bumped when the connection is re-established: statements re-prepare */
    unsigned nstmts;    /* names the next prepared statement */
    bool in_tx;         /* a transaction this side opened and has not ended */
    unsigned tx_serial; /* counts the transactions begun: a cursor lives in one */
    bool is_snapshot;   /* the open transaction is a read snapshot (BEGIN): no savepoints */
    bool is_outcome_unknown; /* the last error: the session went during COMMIT */
    /* A read snapshot costs no round trips of its own: its BEGIN is sent in one pipeline with
     * its first statement (begin_pending until then), and its COMMIT, when the snapshot wrote
     * nothing, is sent without waiting for the answer, which is read before the session is used
     * again (commit_pending). A snapshot that wrote (tx_wrote) commits and waits, as any
     * transaction does. */
    bool begin_pending, commit_pending, tx_wrote;
    bool must_reset;  /* the session is in a state no statement can use: reconnect */
    char *scope_sent; /* ioheme.scope as last set on this session (NULL: unknown) */
    long long lock_timeout_ms;
};

struct sqldb_stmt {
    struct sqldb *db;
    sqlite3_stmt *lite;
    /* PostgreSQL */
    char *sql;       /* translated */
    bool is_simple;  /* transaction control: run as store_sql_exec */
    bool is_read;    /* a SELECT: running it in a snapshot leaves the snapshot read-only */
    bool persistent; /* the store's cached statements: they live as long as the session */
    char name[24];
    unsigned prepared_gen; /* 0: not prepared on the session of db->gen */
    int np;
    char **val;
    int *len, *fmt;
    char **own; /* the copies val points into (NULL where static or none) */
    PGresult *res;
    int row, nrows;
    bool ran;
    /* a statement that reads a whole table (store_sql_set_streamed): inside a read snapshot it
     * runs as a cursor fetched STREAM_ROWS rows at a time, so memory does not grow with it */
    bool is_streamed, in_cursor, has_more;
    unsigned cursor_tx;
    unsigned char *blob;
    size_t blob_len;
    int blob_col, blob_row;
};

/* Sets db's error (code, message without libpq's trailing newline). */
void store_sql_err_set(struct sqldb *db, int code, const char *msg);

/* PostgreSQL (sqldb_pg.c). */
/* db's error from r (or the connection's when r says nothing): a lost connection as SQLITE_BUSY. */
void store_sql_pg_err(struct sqldb *db, const PGresult *r);
/* A session just (re)connected: its settings (quiet notices, the writer's lock wait, UTC), or
 * when it did not connect, code with "what: libpq's reason" as db's error. */
int store_sql_pg_connected(struct sqldb *db, const char *what, int code);
/* Re-establishes a lost session between transactions: 0, or SQLITE_BUSY with the reason. */
int store_sql_pg_revive(struct sqldb *db);
/* Reads the answer to a snapshot's COMMIT sent without waiting, before the session's next use. */
void store_sql_pg_settle(struct sqldb *db);
/* Sends a deferred snapshot BEGIN on its own. */
int store_sql_pg_begin_now(struct sqldb *db);
/* The PostgreSQL statement for SQLite transaction control sql (BEGIN IMMEDIATE takes the write
 * lock), or NULL when sql is run as it is. */
const char *store_sql_pg_tx_sql(const char *sql);
/* SQLite's statement sql in PostgreSQL's dialect (?N and ? as $N, rowid as ctid, outside
 * quotes); its highest parameter into *np. Allocated (free it); NULL when out of memory. */
char *store_sql_pg_translate(const char *sql, int *np);
/* A streamed statement's cursor: opened in the snapshot, fetched STREAM_ROWS rows at a time. */
int store_sql_pg_cursor_open(sqldb_stmt *s);
int store_sql_pg_cursor_fetch(sqldb_stmt *s);
/* Drops s's result and its cursor state. */
void store_sql_pg_clear_result(sqldb_stmt *s);
/* Runs s with a deferred snapshot BEGIN in one pipeline: s's result. */
PGresult *store_sql_pg_exec_after_begin(sqldb_stmt *s);
/* SQLITE_ROW / SQLITE_DONE / an error for s's next row of its result. */
int store_sql_pg_step_result(sqldb_stmt *s);
/* Sets parameter i (1-based) of s to n bytes at v (copied unless is_static); format 0 text,
 * 1 binary. */
int store_sql_pg_bind(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static, int format);
/* Whether the current row and column i of s's result are readable. */
bool store_sql_pg_cell(sqldb_stmt *s, int i);

#endif
