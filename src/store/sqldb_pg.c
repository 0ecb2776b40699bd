/* The PostgreSQL session behind the statement interface (sqldb.c): errors as SQLite's codes,
 * the session revived after a failover, the read snapshot's pipeline (its BEGIN sent with its
 * first statement, its COMMIT not waited for), SQLite's SQL in PostgreSQL's dialect, cursors for
 * whole-table reads, and parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/sqldb_int.h"

/* The advisory lock every PostgreSQL write transaction takes first ('IOHE'). */
#define WRITE_LOCK_KEY "1229932613"

#define SNAPSHOT_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ"

enum { STREAM_ROWS = 2000 };

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

void store_sql_pg_err(struct sqldb *db, const PGresult *r)
{
    int code = pg_code(r);
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = PQerrorMessage(db->pg);
    if (code == SQLITE_IOERR) {
        char buf[1024];
        fmt_text(buf, sizeof buf, "the connection to PostgreSQL was lost: %s", m);
        store_sql_err_set(db, SQLITE_BUSY, buf); /* the next transaction reconnects: try again */
        return;
    }
    store_sql_err_set(db, code, m);
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
        store_sql_pg_err(db, r);
    PQclear(r);
    return ok ? SQLITE_OK : db->errcode;
}

int store_sql_pg_connected(struct sqldb *db, const char *what, int code)
{
    if (PQstatus(db->pg) != CONNECTION_OK) {
        char buf[1024];
        fmt_text(buf, sizeof buf, "%s: %s", what, PQerrorMessage(db->pg));
        store_sql_err_set(db, code, buf);
        return code;
    }
    return pg_session_setup(db);
}

/* Re-establishes a lost PostgreSQL session between transactions (libpq tries the URL's hosts
 * again). 0, or SQLITE_BUSY with the reason. */
int store_sql_pg_revive(struct sqldb *db)
{
    /* a session the server closed (a restart, a failover) still says CONNECTION_OK until
     * something is read: read what is waiting, without blocking, so the next request is not
     * the one that finds out */
    if (PQstatus(db->pg) == CONNECTION_OK && !db->must_reset &&
        (db->in_tx || PQconsumeInput(db->pg)))
        return SQLITE_OK;
    if (db->in_tx) {
        store_sql_err_set(db, SQLITE_BUSY, "the connection to PostgreSQL was lost mid-transaction");
        return SQLITE_BUSY;
    }
    PQreset(db->pg); /* a new session, out of pipeline mode */
    db->must_reset = false;
    db->gen++;
    free(db->scope_sent);
    db->scope_sent = NULL;
    return store_sql_pg_connected(db, "PostgreSQL is unreachable", SQLITE_BUSY);
}

/* Reads the answer to a snapshot's COMMIT sent without waiting (store_sql_exec): before
 * anything else uses the session. A read-only snapshot's COMMIT has nothing to report; a session
 * lost meanwhile is found by the next statement, as any lost session is. */
void store_sql_pg_settle(struct sqldb *db)
{
    if (!db->commit_pending)
        return;
    db->commit_pending = false;
    PGresult *r;
    while ((r = PQgetResult(db->pg)) != NULL)
        PQclear(r);
}

/* Sends a deferred snapshot BEGIN on its own, for what cannot go in one pipeline with it. */
int store_sql_pg_begin_now(struct sqldb *db)
{
    if (!db->begin_pending)
        return SQLITE_OK;
    db->begin_pending = false;
    PGresult *r = PQexec(db->pg, SNAPSHOT_BEGIN);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        store_sql_pg_err(db, r);
        db->in_tx = false;
    }
    PQclear(r);
    return ok ? SQLITE_OK : db->errcode;
}

static bool is_ident_char(char c)
{
    return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* ?N -> $N, ? -> $k, rowid -> ctid, outside quotes; *np gets the highest parameter. */
char *store_sql_pg_translate(const char *sql, int *np)
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
const char *store_sql_pg_tx_sql(const char *sql)
{
    if (strcmp(sql, "BEGIN IMMEDIATE") == 0)
        return "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY
               ")";
    if (strcmp(sql, "BEGIN") == 0)
        return SNAPSHOT_BEGIN;
    return NULL;
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
int store_sql_pg_cursor_fetch(sqldb_stmt *s)
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
        store_sql_pg_err(db, s->res);
        return db->errcode;
    }
    s->nrows = PQntuples(s->res);
    s->has_more = s->nrows == STREAM_ROWS;
    return s->nrows > 0 ? SQLITE_ROW : SQLITE_DONE;
}

/* Runs s, a streamed statement inside a transaction, as a cursor; its first rows. */
int store_sql_pg_cursor_open(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    char cur[32];
    cursor_name(s, cur);
    struct strbuf sql = STRBUF_INIT;
    strbuf_addf(&sql, "DECLARE %s NO SCROLL CURSOR FOR %s", cur, s->sql);
    if (sql.failed) {
        store_sql_err_set(db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    PGresult *r = PQexecParams(db->pg, strbuf_str(&sql), s->np, NULL, (const char *const *)s->val,
                               s->len, s->fmt, 0);
    strbuf_release(&sql);
    s->ran = true;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        store_sql_pg_err(db, r);
        PQclear(r);
        return db->errcode;
    }
    PQclear(r);
    s->in_cursor = true;
    s->cursor_tx = db->tx_serial;
    return store_sql_pg_cursor_fetch(s);
}

void store_sql_pg_clear_result(sqldb_stmt *s)
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
PGresult *store_sql_pg_exec_after_begin(sqldb_stmt *s)
{
    struct sqldb *db = s->db;
    PGconn *pg = db->pg;
    bool prepare = s->prepared_gen != db->gen;
    db->begin_pending = false;
    if (!PQenterPipelineMode(pg)) {
        db->begin_pending = true;
        if (store_sql_pg_begin_now(db) != SQLITE_OK)
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
int store_sql_pg_step_result(sqldb_stmt *s)
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
    store_sql_pg_err(db, s->res);
    if (PQtransactionStatus(db->pg) == PQTRANS_IDLE)
        db->in_tx = false;
    return db->errcode;
}

/* Sets parameter i of a PostgreSQL statement to n bytes at v (copied unless is_static). */
int store_sql_pg_bind(sqldb_stmt *s, int i, const char *v, size_t n, bool is_static, int format)
{
    if (i < 1 || i > s->np) {
        store_sql_err_set(s->db, SQLITE_RANGE, "column index out of range");
        return SQLITE_RANGE;
    }
    if (n > 0x7fffffff) {
        store_sql_err_set(s->db, SQLITE_TOOBIG, "string or blob too big");
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
        store_sql_err_set(s->db, SQLITE_NOMEM, "out of memory");
        return SQLITE_NOMEM;
    }
    memcpy(s->own[i], v, n);
    s->own[i][n] = '\0';
    s->val[i] = s->own[i];
    return SQLITE_OK;
}

/* Whether row and column i of a PostgreSQL result are readable. */
bool store_sql_pg_cell(sqldb_stmt *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res);
}
