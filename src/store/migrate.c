/* Moving a study between backends (store.h, store_migrate): a SQLite database into an empty
 * PostgreSQL database and back, every table row for row, the audit trail with its hashes.
 *
 * To PostgreSQL: each table of the schema is created with the same columns and primary key
 * (INTEGER as bigint, REAL as double precision, BLOB as bytea, the rest text), filled by COPY,
 * and the tables SQLite keeps append-only (a trigger refusing UPDATE or DELETE) get a trigger
 * that refuses them there too; the schema version goes in ioheme_schema. Back to SQLite: a new
 * file gets this binary's schema (the same version) and every row, by prepared INSERTs with
 * each column's declared type. Either way, in one transaction on the receiving side, and at the
 * end the row count of every table is compared and the audit trail read back from the copy is
 * checked link by link with the one chain rule (store_audit_chain_next) and against its head.
 * A database of another schema version is refused (migrate to this binary's first). The
 * identifier key file stays beside the SQLite database: the copy holds the ciphertext. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

bool store_is_postgres_url(const char *s)
{
    return s && (strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0);
}

struct col {
    char *name;
    char type; /* 'i' integer, 'r' real, 'b' blob, 't' text */
};

struct table {
    char *name;
    struct col *cols;
    size_t ncols, capcols;
    char *pk; /* "a, b" */
    bool append_only;
    long long rows;
};

struct tables {
    struct table *t;
    size_t n, cap;
    struct arena ar;
};

static char type_of(const char *decl)
{
    return strcmp(decl, "INTEGER") == 0 ? 'i'
           : strcmp(decl, "REAL") == 0  ? 'r'
           : strcmp(decl, "BLOB") == 0  ? 'b'
                                        : 't';
}

/* The tables of an ioheme SQLite database (its schema, read from db): columns, key, and
 * whether a trigger keeps them append-only. */
static int schema_tables(sqlite3 *db, struct tables *ts, struct err *e)
{
    sqlite3_stmt *s = NULL, *ti = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, (SELECT count(*) FROM sqlite_schema g WHERE g.type = "
                           "'trigger' AND g.tbl_name = t.name AND g.sql LIKE '%BEFORE UPDATE%' "
                           "AND g.sql LIKE '%RAISE(ABORT%') FROM sqlite_schema t WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "reading the schema: %s", sqlite3_errmsg(db));
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        struct table *g = array_grow(ts->t, ts->n, &ts->cap, sizeof *g, 16);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        ts->t = g;
        struct table *t = &ts->t[ts->n++];
        memset(t, 0, sizeof *t);
        t->name = arena_strdup(&ts->ar, (const char *)sqlite3_column_text(s, 0));
        t->append_only = sqlite3_column_int(s, 1) > 0;
        char sql[256];
        if (!t->name || !fmt_fits(sql, sizeof sql, "PRAGMA table_info(\"%s\")", t->name)) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        if (sqlite3_prepare_v2(db, sql, -1, &ti, NULL) != SQLITE_OK) {
            rc = err_set(e, ERR_IO, "reading table %s: %s", t->name, sqlite3_errmsg(db));
            break;
        }
        struct strbuf pk = STRBUF_INIT;
        int maxpk = 0;
        while (sqlite3_step(ti) == SQLITE_ROW) {
            struct col *c = array_grow(t->cols, t->ncols, &t->capcols, sizeof *c, 8);
            if (!c) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
            t->cols = c;
            c[t->ncols].name = arena_strdup(&ts->ar, (const char *)sqlite3_column_text(ti, 1));
            c[t->ncols].type = type_of((const char *)sqlite3_column_text(ti, 2));
            if (sqlite3_column_int(ti, 5) > maxpk)
                maxpk = sqlite3_column_int(ti, 5);
            t->ncols++;
        }
        sqlite3_finalize(ti);
        ti = NULL;
        /* the key in its declared order (table_info's pk column: 1, 2, ...) */
        for (int k = 1; !rc && k <= maxpk; k++) {
            if (sqlite3_prepare_v2(db, sql, -1, &ti, NULL) != SQLITE_OK)
                break;
            while (sqlite3_step(ti) == SQLITE_ROW)
                if (sqlite3_column_int(ti, 5) == k)
                    strbuf_addf(&pk, "%s\"%s\"", pk.len ? ", " : "",
                                (const char *)sqlite3_column_text(ti, 1));
            sqlite3_finalize(ti);
            ti = NULL;
        }
        t->pk = pk.len ? arena_strdup(&ts->ar, strbuf_str(&pk)) : NULL;
        strbuf_release(&pk);
    }
    sqlite3_finalize(s);
    for (size_t i = 0; !rc && i < ts->n; i++)
        for (size_t c = 0; c < ts->t[i].ncols; c++)
            if (!ts->t[i].cols[c].name)
                rc = err_set(e, ERR_NOMEM, "out of memory");
    return rc;
}

static void tables_free(struct tables *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        free(ts->t[i].cols);
    free(ts->t);
    arena_free(&ts->ar);
}

static int pg_fail(PGconn *pg, struct err *e, const char *what)
{
    return err_set(e, ERR_IO, "PostgreSQL, %s: %s", what, PQerrorMessage(pg));
}

/* Runs sql; 0, or ERR_IO naming what. */
static int pg_exec(PGconn *pg, const char *sql, const char *what, struct err *e)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_fail(pg, e, what);
}

static int pg_connect(const char *url, PGconn **out, struct err *e)
{
    *out = PQconnectdb(url);
    if (!*out || PQstatus(*out) != CONNECTION_OK) {
        int rc = err_set(e, ERR_IO, "cannot connect to PostgreSQL: %s",
                         *out ? PQerrorMessage(*out) : "out of memory");
        PQfinish(*out);
        *out = NULL;
        return rc;
    }
    PGresult *r = PQexec(*out, "SET client_min_messages = warning");
    PQclear(r);
    return 0;
}

/* A value in COPY's text format: \\N for NULL; backslash, tab, newline and CR escaped; a blob
 * as bytea hex. */
static void copy_value(struct strbuf *sb, sqlite3_stmt *s, int i, char type)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        strbuf_adds(sb, "\\N");
        return;
    }
    if (type == 'b') {
        const unsigned char *b = sqlite3_column_blob(s, i);
        int n = sqlite3_column_bytes(s, i);
        strbuf_adds(sb, "\\\\x");
        for (int k = 0; k < n; k++)
            strbuf_addf(sb, "%02x", b[k]);
        return;
    }
    for (const char *p = (const char *)sqlite3_column_text(s, i); p && *p; p++) {
        if (*p == '\\')
            strbuf_adds(sb, "\\\\");
        else if (*p == '\t')
            strbuf_adds(sb, "\\t");
        else if (*p == '\n')
            strbuf_adds(sb, "\\n");
        else if (*p == '\r')
            strbuf_adds(sb, "\\r");
        else
            strbuf_addc(sb, *p);
    }
}

static int copy_table_to_pg(sqlite3 *db, PGconn *pg, struct table *t, struct err *e)
{
    struct strbuf sql = STRBUF_INIT;
    strbuf_addf(&sql, "CREATE TABLE \"%s\" (", t->name);
    for (size_t c = 0; c < t->ncols; c++)
        strbuf_addf(&sql, "%s\"%s\" %s", c ? ", " : "", t->cols[c].name,
                    t->cols[c].type == 'i'   ? "bigint"
                    : t->cols[c].type == 'r' ? "double precision"
                    : t->cols[c].type == 'b' ? "bytea"
                                             : "text");
    if (t->pk)
        strbuf_addf(&sql, ", PRIMARY KEY (%s)", t->pk);
    strbuf_adds(&sql, ")");
    int rc = sql.failed ? err_set(e, ERR_NOMEM, "out of memory")
                        : pg_exec(pg, strbuf_str(&sql), "creating a table", e);
    strbuf_reset(&sql);
    strbuf_addf(&sql, "COPY \"%s\" FROM STDIN", t->name);
    PGresult *r = rc ? NULL : PQexec(pg, strbuf_str(&sql));
    if (!rc && PQresultStatus(r) != PGRES_COPY_IN)
        rc = pg_fail(pg, e, "starting COPY");
    PQclear(r);
    sqlite3_stmt *s = NULL;
    strbuf_reset(&sql);
    strbuf_addf(&sql, "SELECT * FROM \"%s\"", t->name);
    if (!rc && sqlite3_prepare_v2(db, strbuf_str(&sql), -1, &s, NULL) != SQLITE_OK)
        rc = err_set(e, ERR_IO, "reading %s: %s", t->name, sqlite3_errmsg(db));
    struct strbuf line = STRBUF_INIT;
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        strbuf_reset(&line);
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                strbuf_addc(&line, '\t');
            copy_value(&line, s, (int)c, t->cols[c].type);
        }
        strbuf_addc(&line, '\n');
        if (line.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (PQputCopyData(pg, line.buf, (int)line.len) != 1)
            rc = pg_fail(pg, e, "copying rows");
        t->rows++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = err_set(e, ERR_IO, "reading %s: %s", t->name, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    strbuf_release(&line);
    if (PQputCopyEnd(pg, rc ? "aborted" : NULL) != 1 && !rc)
        rc = pg_fail(pg, e, "ending COPY");
    while ((r = PQgetResult(pg)) != NULL) {
        if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(pg, e, "copying rows");
        PQclear(r);
    }
    if (!rc && t->append_only) {
        strbuf_reset(&sql);
        strbuf_addf(&sql,
                    "CREATE TRIGGER \"%s_append_only\" BEFORE UPDATE OR DELETE ON \"%s\" FOR "
                    "EACH ROW EXECUTE FUNCTION ioheme_append_only()",
                    t->name, t->name);
        rc = pg_exec(pg, strbuf_str(&sql), "creating the append-only trigger", e);
    }
    strbuf_release(&sql);
    return rc;
}

/* The number of rows of each table in the PostgreSQL copy equals t->rows. */
static int pg_counts(PGconn *pg, const struct tables *ts, struct err *e)
{
    for (size_t i = 0; i < ts->n; i++) {
        char sql[256];
        fmt_exact(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", ts->t[i].name);
        PGresult *r = PQexec(pg, sql);
        long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
        if (n != ts->t[i].rows)
            return err_set(e, ERR_INTEGRITY, "table %s: %lld rows in PostgreSQL, %lld in SQLite",
                           ts->t[i].name, n, ts->t[i].rows);
    }
    return 0;
}

/* The audit trail as PostgreSQL holds it, checked link by link and against audit_head. */
static int pg_verify_chain(PGconn *pg, struct store_migrate_result *res, struct err *e)
{
    PGresult *r = PQexec(pg, "SELECT id, ts, \"user\", action, record, event, instance, field, "
                             "old_value, new_value, reason, source, source_sha256, prev_hash, "
                             "hash FROM audit ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return pg_fail(pg, e, "reading the audit trail");
    }
    struct store_audit_chain c;
    store_audit_chain_init(&c);
    int rc = 0;
    for (int i = 0; !rc && i < PQntuples(r); i++) {
#define V(k) (PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k))
        struct store_audit_row row = {atoll(PQgetvalue(r, i, 0)),
                                      V(1),
                                      V(2),
                                      V(3),
                                      V(4),
                                      V(5),
                                      PQgetisnull(r, i, 6) ? -1 : atoll(PQgetvalue(r, i, 6)),
                                      V(7),
                                      V(8),
                                      V(9),
                                      V(10),
                                      V(11),
                                      V(12),
                                      V(13),
                                      V(14),
                                      0};
#undef V
        if (store_audit_chain_next(&c, &row))
            rc = err_set(e, ERR_INTEGRITY,
                         "the PostgreSQL copy's audit trail is broken at row "
                         "%lld: %s",
                         c.first_bad_id, c.reason);
    }
    PQclear(r);
    if (rc)
        return rc;
    r = PQexec(pg, "SELECT last_id, hash FROM audit_head");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK &&
              (PQntuples(r) == 0 ? c.nrows == 0
                                 : atoll(PQgetvalue(r, 0, 0)) == c.expect_id - 1 &&
                                       strcmp(PQgetvalue(r, 0, 1), c.prev) == 0);
    PQclear(r);
    if (!ok)
        return err_set(e, ERR_INTEGRITY,
                       "the PostgreSQL copy's audit head does not match its "
                       "last row");
    res->audit_rows = c.nrows;
    fmt_exact(res->head_hash, sizeof res->head_hash, "%s", c.nrows ? c.prev : "");
    return 0;
}

static int to_postgres(const char *from, const char *to, struct store_migrate_result *res,
                       struct err *e)
{
    struct store *st = NULL;
    int rc = store_open(from, &st, e); /* brings it to this binary's schema first */
    PGconn *pg = NULL;
    if (!rc)
        rc = pg_connect(to, &pg, e);
    if (!rc) {
        PGresult *r = PQexec(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                 "current_schema() AND tablename IN ('audit', 'ioheme_schema')");
        bool empty = PQresultStatus(r) == PGRES_TUPLES_OK && atoll(PQgetvalue(r, 0, 0)) == 0;
        PQclear(r);
        if (!empty)
            rc = err_set_field(e, ERR_CONFLICT, "to",
                               "the PostgreSQL database already holds a study: migrate into "
                               "an empty one");
    }
    struct tables ts = {.ar = ARENA_INIT};
    if (!rc)
        rc = schema_tables(st->db, &ts, e);
    /* one read transaction on SQLite (a consistent snapshot), one write transaction here */
    if (!rc)
        rc = store_exec_sql(st->db, "BEGIN", e);
    if (!rc)
        rc = pg_exec(pg, "BEGIN ISOLATION LEVEL SERIALIZABLE", "beginning", e);
    if (!rc)
        rc = pg_exec(pg,
                     "CREATE FUNCTION ioheme_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION '% rows cannot be changed or deleted', "
                     "TG_TABLE_NAME; END $$",
                     "creating the append-only function", e);
    for (size_t i = 0; !rc && i < ts.n; i++)
        rc = copy_table_to_pg(st->db, pg, &ts.t[i], e);
    if (!rc) {
        char sql[96];
        fmt_exact(sql, sizeof sql,
                  "CREATE TABLE ioheme_schema (version integer NOT NULL); INSERT INTO "
                  "ioheme_schema VALUES (%d)",
                  SCHEMA_VERSION);
        rc = pg_exec(pg, sql, "recording the schema version", e);
    }
    if (!rc)
        rc = pg_counts(pg, &ts, e);
    if (!rc)
        rc = pg_verify_chain(pg, res, e);
    if (!rc)
        rc = pg_exec(pg, "COMMIT", "committing", e);
    else if (pg)
        (void)pg_exec(pg, "ROLLBACK", "rolling back", NULL);
    if (st && st->db)
        (void)store_exec_sql(st->db, "COMMIT", NULL);
    for (size_t i = 0; i < ts.n; i++)
        res->rows += ts.t[i].rows;
    res->tables = ts.n;
    tables_free(&ts);
    PQfinish(pg);
    store_close(st);
    return rc;
}

static int from_postgres(const char *from, const char *to, struct store_migrate_result *res,
                         struct err *e)
{
    if (access(to, F_OK) == 0)
        return err_set_field(e, ERR_CONFLICT, "to", "%s exists: migrate into a new file", to);
    PGconn *pg = NULL;
    int rc = pg_connect(from, &pg, e);
    if (!rc) {
        PGresult *r = PQexec(pg, "SELECT version FROM ioheme_schema");
        int v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                    ? atoi(PQgetvalue(r, 0, 0))
                    : -1;
        PQclear(r);
        if (v != SCHEMA_VERSION)
            rc = err_set_field(e, ERR_INVALID, "from",
                               v < 0 ? "not an ioheme study in PostgreSQL (no ioheme_schema)"
                                     : "the PostgreSQL copy has schema version %d, this ioheme "
                                       "%d: use the matching ioheme",
                               v, SCHEMA_VERSION);
    }
    struct store *dst = NULL;
    if (!rc)
        rc = store_create_empty(to, &dst, e); /* the same schema, version SCHEMA_VERSION */
    bool created = !rc;
    struct tables ts = {.ar = ARENA_INIT};
    if (!rc)
        rc = schema_tables(dst->db, &ts, e);
    /* tables arrive in name order, before what they reference: keys are checked at the end */
    if (!rc)
        rc = store_exec_sql(dst->db, "PRAGMA foreign_keys = OFF; BEGIN", e);
    if (!rc)
        rc = pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning", e);
    for (size_t i = 0; !rc && i < ts.n; i++) {
        struct table *t = &ts.t[i];
        struct strbuf q = STRBUF_INIT, ins = STRBUF_INIT;
        strbuf_adds(&q, "SELECT ");
        strbuf_addf(&ins, "INSERT INTO \"%s\" VALUES (", t->name);
        for (size_t c = 0; c < t->ncols; c++) {
            strbuf_addf(&q, "%s\"%s\"", c ? ", " : "", t->cols[c].name);
            strbuf_addf(&ins, "%s?", c ? ", " : "");
        }
        strbuf_addf(&q, " FROM \"%s\"%s%s", t->name, t->pk ? " ORDER BY " : "", t->pk ? t->pk : "");
        strbuf_adds(&ins, ")");
        PGresult *r = q.failed ? NULL : PQexec(pg, strbuf_str(&q));
        sqlite3_stmt *s = NULL;
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = pg_fail(pg, e, "reading a table");
        else if (ins.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            rc = store_stmt_prepare(dst, strbuf_str(&ins), &s, t->name, e);
        for (int k = 0; !rc && k < PQntuples(r); k++) {
            for (size_t c = 0; c < t->ncols; c++) {
                int col = (int)c + 1;
                const char *v = PQgetvalue(r, k, (int)c);
                if (PQgetisnull(r, k, (int)c)) {
                    store_bind_null(dst, s, col);
                } else if (t->cols[c].type == 'i') {
                    store_bind_int64(dst, s, col, atoll(v));
                } else if (t->cols[c].type == 'r') {
                    store_bind_double(dst, s, col, strtod(v, NULL));
                } else if (t->cols[c].type == 'b') {
                    size_t n = 0;
                    unsigned char *b = PQunescapeBytea((const unsigned char *)v, &n);
                    store_bind_blob(dst, s, col, b, b ? n : 0);
                    PQfreemem(b);
                } else {
                    store_bind_text(dst, s, col, v);
                }
            }
            rc = store_stmt_run(dst, s, t->name, e);
            t->rows++;
        }
        sqlite3_finalize(s);
        PQclear(r);
        strbuf_release(&q);
        strbuf_release(&ins);
    }
    if (!rc) { /* every reference resolves, as it did in the source */
        sqlite3_stmt *fk = NULL;
        rc = store_stmt_prepare(dst, "PRAGMA foreign_key_check", &fk, "checking references", e);
        if (!rc && store_step(dst, fk) == SQLITE_ROW)
            rc = err_set(e, ERR_INTEGRITY,
                         "the copy has a row whose reference does not resolve "
                         "(table %s)",
                         (const char *)sqlite3_column_text(fk, 0));
        sqlite3_finalize(fk);
    }
    if (!rc)
        rc = store_exec_sql(dst->db, "COMMIT", e);
    else if (dst)
        (void)store_exec_sql(dst->db, "ROLLBACK", NULL);
    if (pg)
        (void)pg_exec(pg, "COMMIT", "ending", NULL);
    store_close(dst);
    /* checked as any database is: opened by the store, its chain verified, counts compared */
    struct store *st = NULL;
    if (!rc)
        rc = store_open(to, &st, e);
    struct store_verify_result vr;
    if (!rc)
        rc = store_audit_verify(st, &vr, e);
    if (!rc) {
        res->audit_rows = vr.nrows;
        fmt_exact(res->head_hash, sizeof res->head_hash, "%s", vr.head_hash);
    }
    if (!rc)
        rc = pg_counts(pg, &ts, e);
    store_close(st);
    for (size_t i = 0; i < ts.n; i++)
        res->rows += ts.t[i].rows;
    res->tables = ts.n;
    tables_free(&ts);
    PQfinish(pg);
    if (rc && created)
        store_remove_db_files(to);
    return rc;
}

void store_remove_files(const char *path)
{
    store_remove_db_files(path);
}

int store_migrate(const char *from, const char *to, struct store_migrate_result *res, struct err *e)
{
    memset(res, 0, sizeof *res);
    bool from_pg = store_is_postgres_url(from), to_pg = store_is_postgres_url(to);
    if (from_pg == to_pg)
        return err_set_field(e, ERR_USAGE, "to",
                             "migrate moves a study between a SQLite file and PostgreSQL "
                             "(postgres://…): one of --from and --to must be each");
    return to_pg ? to_postgres(from, to, res, e) : from_postgres(from, to, res, e);
}
