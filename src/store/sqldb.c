/* The two backends behind one statement interface (sqldb.h). */
#include "store/sqldb.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"

/* PostgreSQL's type oids the reader needs (pg_type.h is the server's header). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* The advisory lock every PostgreSQL write transaction takes first ('IOHE'). */
#define WRITE_LOCK_KEY "1229932613"

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

static void set_err(struct sqldb *db, int code, const char *msg)
{
    db->errcode = code;
    db->is_outcome_unknown = false;
    fmt_text(db->errmsg, sizeof db->errmsg, "%s", msg ? msg : "");
    /* libpq's messages end in a newline */
    size_t n = strlen(db->errmsg);
    while (n && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
        db->errmsg[--n] = '\0';
}

/* SQLite's code for a PostgreSQL error (its SQLSTATE). */
static int pg_code(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!s)
        return SQLITE_IOERR; /* no server answer: the connection */
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0 ||
        strncmp(s, "57P", 3) == 0 || strncmp(s, "08", 2) == 0 || strcmp(s, "25006") == 0)
        return SQLITE_BUSY; /* serialization, deadlock, lock wait, shutdown, connection,
                               a read-only standby: try again */
    if (strcmp(s, "23505") == 0) {
        const char *c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
        size_t n = c ? strlen(c) : 0;
        return n > 5 && strcmp(c + n - 5, "_pkey") == 0 ? SQLITE_CONSTRAINT_PRIMARYKEY
                                                        : SQLITE_CONSTRAINT_UNIQUE;
    }
    if (strcmp(s, "23503") == 0)
        return SQLITE_CONSTRAINT_FOREIGNKEY;
    if (strcmp(s, "23502") == 0)
        return SQLITE_CONSTRAINT_NOTNULL;
    if (strncmp(s, "23", 2) == 0)
        return SQLITE_CONSTRAINT_CHECK;
    if (strcmp(s, "53200") == 0)
        return SQLITE_NOMEM;
    return SQLITE_ERROR;
}

static void pg_err(struct sqldb *db, const PGresult *r)
{
    int code = pg_code(r);
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = PQerrorMessage(db->pg);
    if (code == SQLITE_IOERR) {
        char buf[1024];
        fmt_text(buf, sizeof buf, "the connection to PostgreSQL was lost: %s", m);
        set_err(db, SQLITE_BUSY, buf); /* the next transaction reconnects: try again */
        return;
    }
    set_err(db, code, m);
}

/* A new session's settings: quiet notices, the writer's lock wait, UTC. */
static int pg_session_setup(struct sqldb *db)
{
    char sql[160];
    fmt_exact(sql, sizeof sql,
              "SET client_min_messages = warning; SET lock_timeout = %lld; "
              "SET TIME ZONE 'UTC'",
              db->lock_timeout_ms);
    PGresult *r = PQexec(db->pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_err(db, r);
    PQclear(r);
    return ok ? SQLITE_OK : db->errcode;
}

/* Re-establishes a lost PostgreSQL session between transactions (libpq tries the URL's hosts
 * again). 0, or SQLITE_BUSY with the reason. */
static int pg_revive(struct sqldb *db)
{
    /* a session the server closed (a restart, a failover) still says CONNECTION_OK until
     * something is read: read what is waiting, without blocking, so the next request is not
     * the one that finds out */
    if (PQstatus(db->pg) == CONNECTION_OK && !db->must_reset &&
        (db->in_tx || PQconsumeInput(db->pg)))
        return SQLITE_OK;
    if (db->in_tx) {
        set_err(db, SQLITE_BUSY, "the connection to PostgreSQL was lost mid-transaction");
        return SQLITE_BUSY;
    }
    PQreset(db->pg); /* a new session, out of pipeline mode */
    db->must_reset = false;
    db->gen++;
    free(db->scope_sent);
    db->scope_sent = NULL;
    if (PQstatus(db->pg) != CONNECTION_OK) {
        char buf[1024];
        fmt_text(buf, sizeof buf, "PostgreSQL is unreachable: %s", PQerrorMessage(db->pg));
        set_err(db, SQLITE_BUSY, buf);
        return SQLITE_BUSY;
    }
    return pg_session_setup(db);
}

/* Reads the answer to a snapshot's COMMIT sent without waiting (store_sql_exec): before
 * anything else uses the session. A read-only snapshot's COMMIT has nothing to report; a session
 * lost meanwhile is found by the next statement, as any lost session is. */
static void pg_settle(struct sqldb *db)
{
    if (!db->commit_pending)
        return;
    db->commit_pending = false;
    PGresult *r;
    while ((r = PQgetResult(db->pg)) != NULL)
        PQclear(r);
}

#define SNAPSHOT_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ"

/* Sends a deferred snapshot BEGIN on its own, for what cannot go in one pipeline with it. */
static int pg_begin_now(struct sqldb *db)
{
    if (!db->begin_pending)
        return SQLITE_OK;
    db->begin_pending = false;
    PGresult *r = PQexec(db->pg, SNAPSHOT_BEGIN);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        pg_err(db, r);
        db->in_tx = false;
    }
    PQclear(r);
    return ok ? SQLITE_OK : db->errcode;
}

int store_sql_open_sqlite(const char *path, int flags, struct sqldb **out)
{
    struct sqldb *db = calloc(1, sizeof *db);
    *out = db;
    if (!db)
        return SQLITE_NOMEM;
    int rc = sqlite3_open_v2(path, &db->lite, flags, NULL);
    if (rc != SQLITE_OK)
        set_err(db, rc, db->lite ? sqlite3_errmsg(db->lite) : "cannot open");
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
        set_err(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    if (PQstatus(db->pg) != CONNECTION_OK) {
        char buf[1024];
        fmt_text(buf, sizeof buf, "cannot connect to PostgreSQL: %s", PQerrorMessage(db->pg));
        set_err(db, SQLITE_CANTOPEN, buf);
        return SQLITE_CANTOPEN;
    }
    return pg_session_setup(db);
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

static bool is_ident_char(char c)
{
    return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* ?N -> $N, ? -> $k, rowid -> ctid, outside quotes; *np gets the highest parameter. */
static char *translate(const char *sql, int *np)
{
    struct strbuf sb = STRBUF_INIT;
    int maxp = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            strbuf_addc(&sb, *p);
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            strbuf_addc(&sb, *p);
        } else if (*p == '?') {
            int n = 0;
            while (p[1] >= '0' && p[1] <= '9')
                n = n * 10 + (*++p - '0');
            if (n == 0)
                n = maxp + 1;
            if (n > maxp)
                maxp = n;
            strbuf_addf(&sb, "$%d", n);
        } else if (strncmp(p, "rowid", 5) == 0 && (p == sql || !is_ident_char(p[-1])) &&
                   !is_ident_char(p[5])) {
            strbuf_adds(&sb, "ctid");
            p += 4;
        } else {
            strbuf_addc(&sb, *p);
        }
    }
    *np = maxp;
    if (sb.failed) {
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* Transaction control in SQLite's words, as PostgreSQL runs it (NULL: as given). */
static const char *pg_tx_sql(const char *sql)
{
    if (strcmp(sql, "BEGIN IMMEDIATE") == 0)
        return "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY
               ")";
    if (strcmp(sql, "BEGIN") == 0)
        return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    return NULL;
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
            set_err(db, rc & 0xff, msg);
        }
        sqlite3_free(msg);
        return rc == SQLITE_OK ? SQLITE_OK : rc & 0xff;
    }
    bool begins = starts_with_word(sql, "BEGIN");
    bool ends = starts_with_word(sql, "COMMIT") || starts_with_word(sql, "ROLLBACK") ||
                starts_with_word(sql, "END");
    bool is_savepoint_undo = strncmp(sql, "ROLLBACK TO", 11) == 0;
    pg_settle(db);
    if (db->begin_pending) {
        if (ends && !is_savepoint_undo) { /* the snapshot read nothing: nothing was sent */
            db->begin_pending = false;
            db->in_tx = false;
            return SQLITE_OK;
        }
        int rc = pg_begin_now(db);
        if (rc)
            return rc;
    }
    if (ends && !is_savepoint_undo && PQstatus(db->pg) != CONNECTION_OK) {
        db->in_tx = false; /* the server ended it when the connection went */
        if (starts_with_word(sql, "ROLLBACK"))
            return SQLITE_OK;
        set_err(db, SQLITE_BUSY, "the connection to PostgreSQL was lost before COMMIT");
        return SQLITE_BUSY;
    }
    if (!db->in_tx) {
        int rc = pg_revive(db);
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
    const char *tx = pg_tx_sql(sql);
    PGresult *r = PQexec(db->pg, tx ? tx : sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = SQLITE_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
        pg_err(db, r);
        if (starts_with_word(sql, "COMMIT") && PQstatus(db->pg) != CONNECTION_OK) {
            set_err(db, SQLITE_BUSY,
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
    pg_settle(db);
    if (!db->in_tx) {
        int rc = pg_revive(db);
        if (rc)
            return rc;
    }
    const char *v[1] = {scope};
    PGresult *r = PQexecParams(db->pg, "SELECT set_config('ioheme.scope', $1, false)", 1, NULL, v,
                               NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? SQLITE_OK : SQLITE_ERROR;
    if (rc)
        pg_err(db, r);
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
    pg_settle(db);
    if (PQstatus(db->pg) != CONNECTION_OK)
        return SQLITE_OK; /* set when the session is re-established */
    char sql[64];
    fmt_exact(sql, sizeof sql, "SET lock_timeout = %lld", ms);
    PGresult *r = PQexec(db->pg, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SQLITE_OK : SQLITE_ERROR;
    if (rc)
        pg_err(db, r);
    PQclear(r);
    return rc;
}

int store_sql_prepare(struct sqldb *db, const char *sql, bool persistent, sqldb_stmt **out)
{
    *out = NULL;
    sqldb_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        set_err(db, SQLITE_NOMEM, "out of memory");
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
    s->sql = s->is_simple ? strdup(sql) : translate(sql, &s->np);
    if (s->np > 0) {
        s->val = calloc((size_t)s->np, sizeof *s->val);
        s->own = calloc((size_t)s->np, sizeof *s->own);
        s->len = calloc((size_t)s->np, sizeof *s->len);
        s->fmt = calloc((size_t)s->np, sizeof *s->fmt);
    }
    if (!s->sql || (s->np > 0 && (!s->val || !s->own || !s->len || !s->fmt))) {
        store_sql_finalize(s);
        set_err(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    fmt_exact(s->name, sizeof s->name, "ioheme_%u", ++db->nstmts);
    /* prepared now, so a statement the server refuses is refused here as SQLite would */
    if (!s->is_simple) {
        pg_settle(db);
        if (!db->in_tx && pg_revive(db) != SQLITE_OK) {
            store_sql_finalize(s);
            return db->errcode;
        }
        PGresult *r = PQprepare(db->pg, s->name, s->sql, s->np, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            pg_err(db, r);
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

enum { STREAM_ROWS = 2000 };

void store_sql_set_streamed(sqldb_stmt *s)
{
    if (!s->lite)
        s->is_streamed = true;
}

/* The cursor of s, named after its statement. */
static void cursor_name(const sqldb_stmt *s, char out[32])
{
    fmt_exact(out, 32, "%s_c", s->name);
}

/* Ends s's cursor if the transaction it lives in is still open (COMMIT and ROLLBACK close it). */
static void pg_cursor_close(sqldb_stmt *s)
{
    if (!s->in_cursor)
        return;
    s->in_cursor = false;
    struct sqldb *db = s->db;
    if (s->cursor_tx != db->tx_serial || PQstatus(db->pg) != CONNECTION_OK ||
        PQtransactionStatus(db->pg) != PQTRANS_INTRANS)
        return;
    char cur[32], sql[48];
    cursor_name(s, cur);
    fmt_exact(sql, sizeof sql, "CLOSE %s", cur);
    PQclear(PQexec(db->pg, sql));
}

/* The next STREAM_ROWS rows of s's cursor into s->res. */
static int pg_cursor_fetch(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    PQclear(s->res);
    free(s->blob);
    s->blob = NULL;
    char cur[32], sql[64];
    cursor_name(s, cur);
    fmt_exact(sql, sizeof sql, "FETCH %d FROM %s", STREAM_ROWS, cur);
    s->res = PQexec(db->pg, sql);
    s->row = 0;
    s->nrows = 0;
    if (PQresultStatus(s->res) != PGRES_TUPLES_OK) {
        pg_err(db, s->res);
        return db->errcode;
    }
    s->nrows = PQntuples(s->res);
    s->has_more = s->nrows == STREAM_ROWS;
    return s->nrows > 0 ? SQLITE_ROW : SQLITE_DONE;
}

/* Runs s, a streamed statement inside a transaction, as a cursor; its first rows. */
static int pg_cursor_open(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    char cur[32];
    cursor_name(s, cur);
    struct strbuf sql = STRBUF_INIT;
    strbuf_addf(&sql, "DECLARE %s NO SCROLL CURSOR FOR %s", cur, s->sql);
    if (sql.failed) {
        set_err(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    PGresult *r = PQexecParams(db->pg, strbuf_str(&sql), s->np, NULL, (const char *const *)s->val,
                               s->len, s->fmt, 0);
    strbuf_release(&sql);
    s->ran = true;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_err(db, r);
        PQclear(r);
        return db->errcode;
    }
    PQclear(r);
    s->in_cursor = true;
    s->cursor_tx = db->tx_serial;
    return pg_cursor_fetch(s);
}

static void pg_clear_result(sqldb_stmt *s)
{
    pg_cursor_close(s);
    PQclear(s->res);
    s->res = NULL;
    s->ran = false;
    s->row = -1;
    s->nrows = 0;
    free(s->blob);
    s->blob = NULL;
}

/* A snapshot's first statement: its deferred BEGIN, the statement's PREPARE when this session
 * has not seen it, and the statement go out in one pipeline, one round trip instead of two or
 * three. The statement's result, or the first error (BEGIN's or PREPARE's) in its place. */
static PGresult *pg_exec_after_begin(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    PGconn *pg = db->pg;
    bool prepare = s->prepared_gen != db->gen;
    db->begin_pending = false;
    if (!PQenterPipelineMode(pg)) {
        db->begin_pending = true;
        if (pg_begin_now(db) != SQLITE_OK)
            return NULL;
        return PQexecPrepared(pg, s->name, s->np, (const char *const *)s->val, s->len, s->fmt, 0);
    }
    int nsent = 0;
    bool sent =
        PQsendQueryParams(pg, SNAPSHOT_BEGIN, 0, NULL, NULL, NULL, NULL, 0) && ++nsent &&
        (!prepare || (PQsendPrepare(pg, s->name, s->sql, s->np, NULL) && ++nsent)) &&
        PQsendQueryPrepared(pg, s->name, s->np, (const char *const *)s->val, s->len, s->fmt, 0) &&
        ++nsent;
    sent = PQpipelineSync(pg) && sent;
    /* one result per query, each followed by NULL, then the sync's */
    PGresult *got[3] = {NULL, NULL, NULL};
    int ngot = 0, nulls = 0;
    for (;;) {
        PGresult *r = PQgetResult(pg);
        if (!r) {
            if (PQstatus(pg) != CONNECTION_OK || ++nulls > nsent + 1)
                break;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (ngot < 3)
            got[ngot++] = r;
        else
            PQclear(r);
    }
    if (!PQexitPipelineMode(pg))
        db->must_reset = true; /* answers left unread: the session cannot be trusted */
    if (!sent || ngot != nsent || db->must_reset) {
        for (int i = 0; i < ngot; i++)
            PQclear(got[i]);
        return NULL; /* the caller reports the session's error */
    }
    if (prepare && PQresultStatus(got[1]) == PGRES_COMMAND_OK)
        s->prepared_gen = db->gen;
    PGresult *res = NULL; /* the first failure, else the statement's result */
    for (int i = 0; i < ngot; i++) {
        ExecStatusType st = PQresultStatus(got[i]);
        if (!res && (i == ngot - 1 || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)))
            res = got[i];
        else
            PQclear(got[i]);
    }
    return res;
}

/* What store_sql_step answers for s->res, the result of running s. */
static int pg_step_result(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    s->ran = true;
    s->row = 0;
    ExecStatusType st = PQresultStatus(s->res);
    if (st == PGRES_TUPLES_OK) {
        s->nrows = PQntuples(s->res);
        const char *ct = PQcmdTuples(s->res);
        db->changes = ct && *ct ? atoll(ct) : db->changes;
        return s->nrows > 0 ? SQLITE_ROW : SQLITE_DONE;
    }
    if (st == PGRES_COMMAND_OK) {
        const char *ct = PQcmdTuples(s->res);
        db->changes = ct && *ct ? atoll(ct) : 0;
        s->nrows = 0;
        return SQLITE_DONE;
    }
    pg_err(db, s->res);
    if (PQtransactionStatus(db->pg) == PQTRANS_IDLE)
        db->in_tx = false;
    return db->errcode;
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
            return pg_cursor_fetch(s);
        return SQLITE_DONE;
    }
    if (s->is_simple) {
        int rc = store_sql_exec(db, s->sql);
        s->ran = true;
        s->nrows = 0;
        return rc ? rc : SQLITE_DONE;
    }
    pg_settle(db);
    if (!db->in_tx) {
        int rc = pg_revive(db);
        if (rc)
            return rc;
    }
    if (db->in_tx && !s->is_read)
        db->tx_wrote = true;
    if (db->begin_pending && !s->is_streamed) {
        s->res = pg_exec_after_begin(s);
        return pg_step_result(s);
    }
    int brc = pg_begin_now(db);
    if (brc)
        return brc;
    /* only in a read snapshot: a savepoint rolled back would close the cursor under the
     * statement, and CLOSE of a cursor that is gone aborts the whole transaction */
    if (s->is_streamed && db->is_snapshot && PQtransactionStatus(db->pg) == PQTRANS_INTRANS)
        return pg_cursor_open(s);
    if (s->prepared_gen != db->gen) {
        PGresult *r = PQprepare(db->pg, s->name, s->sql, s->np, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            pg_err(db, r);
        PQclear(r);
        if (!ok)
            return db->errcode;
        s->prepared_gen = db->gen;
    }
    s->res = PQexecPrepared(db->pg, s->name, s->np, (const char *const *)s->val, s->len, s->fmt, 0);
    return pg_step_result(s);
}

void store_sql_reset(sqldb_stmt *s)
{
    if (!s)
        return;
    if (s->lite)
        sqlite3_reset(s->lite);
    else
        pg_clear_result(s);
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
        pg_settle(s->db);
        pg_clear_result(s);
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

/* Sets parameter i of a PostgreSQL statement to n bytes at v (copied unless is_static). */
static int pg_bind(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static, int format)
{
    if (i < 1 || i > s->np) {
        set_err(s->db, SQLITE_RANGE, "column index out of range");
        return SQLITE_RANGE;
    }
    if (n > 0x7fffffff) {
        set_err(s->db, SQLITE_TOOBIG, "string or blob too big");
        return SQLITE_TOOBIG;
    }
    i--;
    free(s->own[i]);
    s->own[i] = NULL;
    s->fmt[i] = format;
    s->len[i] = (int)n;
    if (!v) {
        s->val[i] = NULL;
        return SQLITE_OK;
    }
    if (is_static && format == 0 && v[n] == '\0') {
        s->val[i] = (char *)v;
        return SQLITE_OK;
    }
    s->own[i] = malloc(n + 1);
    if (!s->own[i]) {
        s->val[i] = NULL;
        set_err(s->db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    memcpy(s->own[i], v, n);
    s->own[i][n] = '\0';
    s->val[i] = s->own[i];
    return SQLITE_OK;
}

int store_sql_bind_text(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static)
{
    if (s->lite) {
        if (!v)
            return sqlite3_bind_null(s->lite, i);
        return sqlite3_bind_text64(s->lite, i, v, n, is_static ? SQLITE_STATIC : SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
    }
    return pg_bind(s, i, v, v ? n : 0, is_static, 0);
}

int store_sql_bind_int64(sqldb_stmt *s, int i, long long v)
{
    if (s->lite)
        return sqlite3_bind_int64(s->lite, i, v);
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", v);
    return pg_bind(s, i, buf, (size_t)n, false, 0);
}

int store_sql_bind_double(sqldb_stmt *s, int i, double v)
{
    if (s->lite)
        return sqlite3_bind_double(s->lite, i, v);
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    return pg_bind(s, i, buf, (size_t)n, false, 0);
}

int store_sql_bind_null(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_bind_null(s->lite, i);
    return pg_bind(s, i, NULL, 0, false, 0);
}

int store_sql_bind_blob(sqldb_stmt *s, int i, const void *v, size_t n)
{
    if (s->lite)
        return sqlite3_bind_blob64(s->lite, i, v ? v : "", n, SQLITE_TRANSIENT);
    return pg_bind(s, i, v ? v : "", n, false, 1); /* binary: the bytes as they are */
}

/* Whether row and column i of a PostgreSQL result are readable. */
static bool pg_cell(sqldb_stmt *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res);
}

const unsigned char *store_sql_col_text(sqldb_stmt *s, int i)
{
    if (s->lite)
        return sqlite3_column_text(s->lite, i);
    if (!pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
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
    if (!pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
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
    if (!pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
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
    if (!pg_cell(s, i) || PQgetisnull(s->res, s->row, i))
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
