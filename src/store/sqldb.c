/* The two backends behind one statement interface (sqldb.h): SQLite here, in-process; for
 * PostgreSQL each call's libpq side here too, on the session mechanics of sqldb_pg.c. */
#include "store/sqldb.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/sqldb_int.h"

/* PostgreSQL's type oids the reader needs (pg_type.h is the server's header). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

void store_sql_err_set(struct sqldb *db, int code, const char *msg)
{
    db->errcode = code;
    db->is_outcome_unknown = false;
    fmt_text(db->errmsg, sizeof db->errmsg, "%s", msg ? msg : "");
    /* libpq's messages end in a newline */
    size_t n = strlen(db->errmsg);
    while (n && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
        db->errmsg[--n] = '\0';
}

int store_sql_open_sqlite(const char *path, int flags, struct sqldb **out)
{
    struct sqldb *db = calloc(1, sizeof *db);
    *out = db;
    if (!db)
        return SQLITE_NOMEM;
    int rc = sqlite3_open_v2(path, &db->lite, flags, NULL);
    if (rc != SQLITE_OK)
        store_sql_err_set(db, rc, db->lite ? sqlite3_errmsg(db->lite) : "cannot open");
    return rc;
}

int store_sql_open_postgres(const char *url, struct sqldb **out)
{
    struct sqldb *db = calloc(1, sizeof *db);
    *out = db;
    if (!db)
        return SQLITE_NOMEM;
    db->gen = 1;
    db->lock_timeout_ms = 5000;
    db->pg = PQconnectdb(url);
    if (!db->pg) {
        store_sql_err_set(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    return store_sql_pg_connected(db, "cannot connect to PostgreSQL", SQLITE_CANTOPEN);
}

void store_sql_close(struct sqldb *db)
{
    if (!db)
        return;
    if (db->lite)
        sqlite3_close(db->lite);
    if (db->pg)
        PQfinish(db->pg);
    free(db->scope_sent);
    free(db);
}

bool store_sql_is_postgres(const struct sqldb *db)
{
    return db && db->pg;
}

struct pg_conn *store_sql_postgres(struct sqldb *db)
{
    return db ? db->pg : NULL;
}

sqlite3 *store_sql_sqlite(struct sqldb *db)
{
    return db ? db->lite : NULL;
}

const char *store_sql_errmsg(struct sqldb *db)
{
    if (db->lite)
        return sqlite3_errmsg(db->lite);
    return db->errmsg;
}

bool store_sql_outcome_unknown(struct sqldb *db)
{
    return db->is_outcome_unknown;
}

int store_sql_errcode(struct sqldb *db)
{
    if (db->lite)
        return sqlite3_errcode(db->lite) & 0xff;
    return db->errcode & 0xff;
}

static bool starts_with_word(const char *sql, const char *w)
{
    size_t n = strlen(w);
    return strncmp(sql, w, n) == 0 && (sql[n] == '\0' || sql[n] == ' ' || sql[n] == ';');
}

int store_sql_exec(struct sqldb *db, const char *sql)
{
    if (db->lite) {
        char *msg = NULL;
        int rc = sqlite3_exec(db->lite, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK && msg) {
            /* keep SQLite's message where store_sql_errmsg finds it */
            store_sql_err_set(db, rc & 0xff, msg);
        }
        sqlite3_free(msg);
        return rc == SQLITE_OK ? SQLITE_OK : rc & 0xff;
    }
    bool begins = starts_with_word(sql, "BEGIN");
    bool ends = starts_with_word(sql, "COMMIT") || starts_with_word(sql, "ROLLBACK") ||
                starts_with_word(sql, "END");
    bool is_savepoint_undo = strncmp(sql, "ROLLBACK TO", 11) == 0;
    store_sql_pg_settle(db);
    if (db->begin_pending) {
        if (ends && !is_savepoint_undo) { /* the snapshot read nothing: nothing was sent */
            db->begin_pending = false;
            db->in_tx = false;
            return SQLITE_OK;
        }
        int rc = store_sql_pg_begin_now(db);
        if (rc)
            return rc;
    }
    if (ends && !is_savepoint_undo && PQstatus(db->pg) != CONNECTION_OK) {
        db->in_tx = false; /* the server ended it when the connection went */
        if (starts_with_word(sql, "ROLLBACK"))
            return SQLITE_OK;
        store_sql_err_set(db, SQLITE_BUSY, "the connection to PostgreSQL was lost before COMMIT");
        return SQLITE_BUSY;
    }
    if (!db->in_tx) {
        int rc = store_sql_pg_revive(db);
        if (rc)
            return rc;
        if (strcmp(sql, "BEGIN") == 0) { /* a read snapshot: sent with its first statement */
            db->in_tx = db->begin_pending = db->is_snapshot = true;
            db->tx_wrote = false;
            db->tx_serial++;
            return SQLITE_OK;
        }
    }
    if (strcmp(sql, "COMMIT") == 0 && db->in_tx && db->is_snapshot && !db->tx_wrote &&
        PQsendQuery(db->pg, "COMMIT") && PQflush(db->pg) == 0) {
        db->commit_pending = true; /* read before the session's next use (pg_settle) */
        db->in_tx = false;
        return SQLITE_OK;
    }
    const char *tx = store_sql_pg_tx_sql(sql);
    PGresult *r = PQexec(db->pg, tx ? tx : sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = SQLITE_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
        store_sql_pg_err(db, r);
        if (starts_with_word(sql, "COMMIT") && PQstatus(db->pg) != CONNECTION_OK) {
            store_sql_err_set(
                db, SQLITE_BUSY,
                "the connection to PostgreSQL was lost during COMMIT: whether the change "
                "was stored is not known (read it back before repeating it)");
            db->is_outcome_unknown = true;
        }
        rc = db->errcode;
    }
    PQclear(r);
    PGTransactionStatusType ts = PQtransactionStatus(db->pg);
    if (begins && rc == SQLITE_OK) {
        db->in_tx = true;
        db->tx_serial++;
        db->is_snapshot = strcmp(sql, "BEGIN") == 0;
        db->tx_wrote = false;
    } else if (ends && !is_savepoint_undo)
        db->in_tx = false;
    else if (!begins && !ends && !starts_with_word(sql, "SELECT"))
        db->tx_wrote = true; /* conservatively: anything but a read */
    if (ts == PQTRANS_IDLE)
        db->in_tx = false;
    if (begins && rc != SQLITE_OK && ts != PQTRANS_IDLE && ts != PQTRANS_UNKNOWN) {
        /* BEGIN went through and the lock wait failed: end it */
        PQclear(PQexec(db->pg, "ROLLBACK"));
        db->in_tx = false;
    }
    if (starts_with_word(sql, "ROLLBACK") || rc != SQLITE_OK) {
        /* a rolled-back SET is undone: send the scope again */
        free(db->scope_sent);
        db->scope_sent = NULL;
    }
    return rc;
}

bool store_sql_in_transaction(struct sqldb *db)
{
    if (db->lite)
        return !sqlite3_get_autocommit(db->lite);
    return db->in_tx;
}

long long store_sql_changes(struct sqldb *db)
{
    if (db->lite)
        return sqlite3_changes(db->lite);
    return db->changes;
}

long long store_sql_total_changes(struct sqldb *db)
{
    return db->lite ? (long long)sqlite3_total_changes64(db->lite) : -1;
}

int store_sql_set_scope(struct sqldb *db, const char *scope)
{
    if (!db->pg || (db->scope_sent && strcmp(db->scope_sent, scope) == 0))
        return SQLITE_OK;
    store_sql_pg_settle(db);
    if (!db->in_tx) {
        int rc = store_sql_pg_revive(db);
        if (rc)
            return rc;
    }
    const char *v[1] = {scope};
    PGresult *r = PQexecParams(db->pg, "SELECT set_config('ioheme.scope', $1, false)", 1, NULL, v,
                               NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? SQLITE_OK : SQLITE_ERROR;
    if (rc)
        store_sql_pg_err(db, r);
    PQclear(r);
    free(db->scope_sent);
    db->scope_sent = rc ? NULL : strdup(scope);
    return rc ? db->errcode : SQLITE_OK;
}

long long store_sql_lock_timeout(const struct sqldb *db)
{
    return db->lock_timeout_ms;
}

int store_sql_set_lock_timeout(struct sqldb *db, long long ms)
{
    if (!db->pg)
        return SQLITE_OK;
    db->lock_timeout_ms = ms;
    store_sql_pg_settle(db);
    if (PQstatus(db->pg) != CONNECTION_OK)
        return SQLITE_OK; /* set when the session is re-established */
    char sql[64];
    fmt_exact(sql, sizeof sql, "SET lock_timeout = %lld", ms);
    PGresult *r = PQexec(db->pg, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SQLITE_OK : SQLITE_ERROR;
    if (rc)
        store_sql_pg_err(db, r);
    PQclear(r);
    return rc;
}

int store_sql_prepare(struct sqldb *db, const char *sql, bool persistent, sqldb_stmt **out)
{
    *out = NULL;
    sqldb_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        store_sql_err_set(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    s->db = db;
    if (db->lite) {
        int rc = sqlite3_prepare_v3(db->lite, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                                    &s->lite, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s->lite);
            free(s);
            return rc & 0xff;
        }
        *out = s;
        return SQLITE_OK;
    }
    s->persistent = persistent;
    s->is_simple = strcmp(sql, "BEGIN") == 0 || strcmp(sql, "COMMIT") == 0 ||
                   strcmp(sql, "BEGIN IMMEDIATE") == 0 || strcmp(sql, "ROLLBACK") == 0;
    s->is_read = starts_with_word(sql, "SELECT");
    s->sql = s->is_simple ? strdup(sql) : store_sql_pg_translate(sql, &s->np);
    if (s->np > 0) {
        s->val = calloc((size_t)s->np, sizeof *s->val);
        s->own = calloc((size_t)s->np, sizeof *s->own);
        s->len = calloc((size_t)s->np, sizeof *s->len);
        s->fmt = calloc((size_t)s->np, sizeof *s->fmt);
    }
    if (!s->sql || (s->np > 0 && (!s->val || !s->own || !s->len || !s->fmt))) {
        store_sql_finalize(s);
        store_sql_err_set(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    fmt_exact(s->name, sizeof s->name, "ioheme_%u", ++db->nstmts);
    /* prepared now, so a statement the server refuses is refused here as SQLite would */
    if (!s->is_simple) {
        store_sql_pg_settle(db);
        if (!db->in_tx && store_sql_pg_revive(db) != SQLITE_OK) {
            store_sql_finalize(s);
            return db->errcode;
        }
        PGresult *r = PQprepare(db->pg, s->name, s->sql, s->np, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            store_sql_pg_err(db, r);
            PQclear(r);
            store_sql_finalize(s);
            return db->errcode;
        }
        PQclear(r);
        s->prepared_gen = db->gen;
    }
    *out = s;
    return SQLITE_OK;
}

void store_sql_set_streamed(sqldb_stmt *s)
{
    if (!s->lite)
        s->is_streamed = true;
}

int store_sql_step(sqldb_stmt *s)
{
    if (s->lite) {
        return sqlite3_step(s->lite); /* extended codes: SQLITE_CONSTRAINT_PRIMARYKEY, ... */
    }
    struct sqldb *db = s->db;
    if (s->ran) {
        if (++s->row < s->nrows)
            return SQLITE_ROW;
        if (s->in_cursor && s->has_more)
            return store_sql_pg_cursor_fetch(s);
        return SQLITE_DONE;
    }
    if (s->is_simple) {
        int rc = store_sql_exec(db, s->sql);
        s->ran = true;
        s->nrows = 0;
        return rc ? rc : SQLITE_DONE;
    }
    store_sql_pg_settle(db);
    if (!db->in_tx) {
        int rc = store_sql_pg_revive(db);
        if (rc)
            return rc;
    }
    if (db->in_tx && !s->is_read)
        db->tx_wrote = true;
    if (db->begin_pending && !s->is_streamed) {
        s->res = store_sql_pg_exec_after_begin(s);
        return store_sql_pg_step_result(s);
    }
    int brc = store_sql_pg_begin_now(db);
    if (brc)
        return brc;
    /* only in a read snapshot: a savepoint rolled back would close the cursor under the
     * statement, and CLOSE of a cursor that is gone aborts the whole transaction */
    if (s->is_streamed && db->is_snapshot && PQtransactionStatus(db->pg) == PQTRANS_INTRANS)
        return store_sql_pg_cursor_open(s);
    if (s->prepared_gen != db->gen) {
        PGresult *r = PQprepare(db->pg, s->name, s->sql, s->np, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            store_sql_pg_err(db, r);
        PQclear(r);
        if (!ok)
            return db->errcode;
        s->prepared_gen = db->gen;
    }
    s->res = PQexecPrepared(db->pg, s->name, s->np, (const char *const *)s->val, s->len, s->fmt, 0);
    return store_sql_pg_step_result(s);
}

void store_sql_reset(sqldb_stmt *s)
{
    if (!s)
        return;
    if (s->lite)
        sqlite3_reset(s->lite);
    else
        store_sql_pg_clear_result(s);
}

void store_sql_clear_bindings(sqldb_stmt *s)
{
    if (!s)
        return;
    if (s->lite) {
        sqlite3_clear_bindings(s->lite);
        return;
    }
    for (int i = 0; i < s->np; i++) {
        free(s->own[i]);
        s->own[i] = NULL;
        s->val[i] = NULL;
        s->len[i] = 0;
        s->fmt[i] = 0;
    }
}

void store_sql_finalize(sqldb_stmt *s)
{
    if (!s)
        return;
    if (s->lite) {
        sqlite3_finalize(s->lite);
    } else {
        store_sql_pg_settle(s->db);
        store_sql_pg_clear_result(s);
        if (s->own)
            store_sql_clear_bindings(s);
        /* an aborted transaction refuses even DEALLOCATE: the name then lives until the
         * session ends, unused */
        if (!s->persistent && s->prepared_gen && s->prepared_gen == s->db->gen &&
            PQstatus(s->db->pg) == CONNECTION_OK &&
            PQtransactionStatus(s->db->pg) != PQTRANS_INERROR) {
            char sql[48];
            fmt_exact(sql, sizeof sql, "DEALLOCATE %s", s->name);
            PQclear(PQexec(s->db->pg, sql));
        }
        free(s->val);
        free(s->own);
        free(s->len);
        free(s->fmt);
        free(s->sql);
    }
    free(s);
}

int store_sql_bind_text(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static)
{
    if (s->lite) {
        if (!v)
            return sqlite3_bind_null(s->lite, i);
        return sqlite3_bind_text64(s->lite, i, v, n, is_static ? SQLITE_STATIC : SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
    }
    return store_sql_pg_bind(s, i, v, v ? n : 0, is_static, 0);
}

int store_sql_bind_int64(sqldb_stmt *s, int i, long long v)
{
    if (s->lite)
        return sqlite3_bind_int64(s->lite, i, v);
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", v);
    return store_sql_pg_bind(s, i, buf, (size_t)n, false, 0);
}

int store_sql_bind_double(sqldb_stmt *s, int i, double v)
{
    if (s->lite)
        return sqlite3_bind_double(s->lite, i, v);
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    return store_sql_pg_bind(s, i, buf, (size_t)n, false, 0);
}

int store_sql_bind_null(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_bind_null(s->lite, i);
    return store_sql_pg_bind(s, i, NULL, 0, false, 0);
}

int store_sql_bind_blob(sqldb_stmt *s, int i, const void *v, size_t n)
{
    if (s->lite)
        return sqlite3_bind_blob64(s->lite, i, v ? v : "", n, SQLITE_TRANSIENT);
    return store_sql_pg_bind(s, i, v ? v : "", n, false, 1); /* binary: the bytes as they are */
}

const unsigned char *store_sql_col_text(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_text(s->lite, i);
    if (!store_sql_pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
        return NULL;
    const char *v = PQgetvalue(s->res, s->row, i);
    if (PQftype(s->res, i) == OID_BOOL)
        return (const unsigned char *)(v[0] == 't' ? "1" : "0");
    return (const unsigned char *)v;
}

long long store_sql_col_int64(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_int64(s->lite, i);
    const char *v = (const char *)store_sql_col_text(s, i);
    return v ? strtoll(v, NULL, 10) : 0;
}

int store_sql_col_int(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_int(s->lite, i);
    return (int)store_sql_col_int64(s, i);
}

double store_sql_col_double(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_double(s->lite, i);
    const char *v = (const char *)store_sql_col_text(s, i);
    return v ? strtod(v, NULL) : 0.0;
}

int store_sql_col_type(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_type(s->lite, i);
    if (!store_sql_pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
        return SQLITE_NULL;
    switch (PQftype(s->res, i)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return SQLITE_INTEGER;
    case OID_FLOAT4:
    case OID_FLOAT8:
        return SQLITE_FLOAT;
    case OID_NUMERIC:
        return strchr(PQgetvalue(s->res, s->row, i), '.') ? SQLITE_FLOAT : SQLITE_INTEGER;
    case OID_BYTEA:
        return SQLITE_BLOB;
    default:
        return SQLITE_TEXT;
    }
}

const void *store_sql_col_blob(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_blob(s->lite, i);
    if (!store_sql_pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
        return NULL;
    if (PQftype(s->res, i) != OID_BYTEA)
        return PQgetvalue(s->res, s->row, i);
    if (!s->blob || s->blob_col != i || s->blob_row != s->row) {
        free(s->blob);
        size_t n = 0;
        unsigned char *b =
            PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, i), &n);
        s->blob = b ? malloc(n + 1) : NULL;
        if (s->blob)
            memcpy(s->blob, b, n);
        PQfreemem(b);
        s->blob_len = s->blob ? n : 0;
        s->blob_col = i;
        s->blob_row = s->row;
    }
    return s->blob;
}

int store_sql_col_bytes(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_bytes(s->lite, i);
    if (!store_sql_pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
        return 0;
    if (PQftype(s->res, i) == OID_BYTEA) {
        store_sql_col_blob(s, i);
        return (int)s->blob_len;
    }
    return PQgetlength(s->res, s->row, i);
}

const char *store_sql_sql(const sqldb_stmt *s)
{
    return s->lite ? sqlite3_sql(s->lite) : s->sql;
}

bool store_sql_uses_scope(const sqldb_stmt *s)
{
    return s->sql && strstr(s->sql, "in_scope(") != NULL;
}

int store_sql_col_count(sqldb_stmt *s)
{
    if (s->lite)
        return sqlite3_column_count(s->lite);
    return s->res ? PQnfields(s->res) : 0;
}
