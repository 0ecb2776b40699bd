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
 * A database of another schema version is refused (open it with this binary first, which
 * upgrades it). The identifier key file stays beside the SQLite database: the copy holds the
 * ciphertext. */
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

/* Copies every row of t from the SQLite database db into the PostgreSQL table of the same
 * name (made by store_schema_pg_create), by COPY. */
static int copy_table_to_pg(sqlite3 *db, PGconn *pg, struct store_table *t, struct err *e)
{
    struct strbuf cols = STRBUF_INIT, sql = STRBUF_INIT;
    for (size_t c = 0; c < t->ncols; c++)
        strbuf_addf(&cols, "%s\"%s\"", c ? ", " : "", t->cols[c].name);
    strbuf_addf(&sql, "COPY \"%s\" (%s) FROM STDIN", t->name, strbuf_str(&cols));
    int rc = sql.failed || cols.failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    PGresult *r = rc ? NULL : PQexec(pg, strbuf_str(&sql));
    if (!rc && PQresultStatus(r) != PGRES_COPY_IN)
        rc = pg_fail(pg, e, "starting COPY");
    PQclear(r);
    sqlite3_stmt *s = NULL;
    strbuf_reset(&sql);
    strbuf_addf(&sql, "SELECT %s FROM \"%s\"", strbuf_str(&cols), t->name);
    if (!rc && sqlite3_prepare_v2(db, strbuf_str(&sql), -1, &s, NULL) != SQLITE_OK)
        rc = err_set(e, ERR_IO, "reading %s: %s", t->name, sqlite3_errmsg(db));
    struct strbuf line = STRBUF_INIT;
    int step = SQLITE_DONE;
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
    strbuf_release(&cols);
    strbuf_release(&sql);
    if (PQputCopyEnd(pg, rc ? "aborted" : NULL) != 1 && !rc)
        rc = pg_fail(pg, e, "ending COPY");
    while ((r = PQgetResult(pg)) != NULL) {
        if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pg_fail(pg, e, "copying rows");
        PQclear(r);
    }
    return rc;
}

/* The number of rows of each table in the PostgreSQL copy equals t->rows. */
static int pg_counts(PGconn *pg, const struct store_tables *ts, struct err *e)
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
    struct sqldb *pgdb = NULL;
    if (!rc && store_sql_open_postgres(to, &pgdb) != SQLITE_OK)
        rc = err_set(e, ERR_IO, "%s", pgdb ? store_sql_errmsg(pgdb) : "out of memory");
    PGconn *pg = rc ? NULL : store_sql_postgres(pgdb);
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
    struct store_tables ts = {.ar = ARENA_INIT};
    /* one read transaction on SQLite (a consistent snapshot), one write transaction here */
    if (!rc)
        rc = store_exec_sql(st->db, "BEGIN", e);
    if (!rc)
        rc = pg_exec(pg, "BEGIN ISOLATION LEVEL SERIALIZABLE", "beginning", e);
    if (!rc)
        rc = store_schema_pg_create(pgdb, &ts, e);
    for (size_t i = 0; !rc && i < ts.n; i++)
        rc = copy_table_to_pg(store_sql_sqlite(st->db), pg, &ts.t[i], e);
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
    store_schema_tables_free(&ts);
    store_sql_close(pgdb);
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
        if (v < 0)
            rc = err_set_field(e, ERR_INVALID, "from",
                               "not an ioheme study in PostgreSQL (no ioheme_schema)");
        else if (v < SCHEMA_VERSION)
            rc = err_set_field(e, ERR_INVALID, "from",
                               "the PostgreSQL study has schema version %d, this ioheme %d: "
                               "open it once with this ioheme (e.g. 'ioheme audit verify --db "
                               "URL'), which upgrades it in place, then migrate it",
                               v, SCHEMA_VERSION);
        else if (v > SCHEMA_VERSION)
            rc = err_set_field(e, ERR_INVALID, "from",
                               "the PostgreSQL study has schema version %d and this ioheme "
                               "knows up to %d: use the matching ioheme",
                               v, SCHEMA_VERSION);
    }
    struct store *dst = NULL;
    if (!rc)
        rc = store_create_empty(to, &dst, e); /* the same schema, version SCHEMA_VERSION */
    bool created = !rc;
    struct store_tables ts = {.ar = ARENA_INIT};
    if (!rc)
        rc = store_schema_tables(store_sql_sqlite(dst->db), &ts, e);
    /* tables arrive in name order, before what they reference: keys are checked at the end */
    if (!rc)
        rc = store_exec_sql(dst->db, "PRAGMA foreign_keys = OFF; BEGIN", e);
    if (!rc)
        rc = pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning", e);
    for (size_t i = 0; !rc && i < ts.n; i++) {
        struct store_table *t = &ts.t[i];
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
        sqldb_stmt *s = NULL;
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
        store_sql_finalize(s);
        PQclear(r);
        strbuf_release(&q);
        strbuf_release(&ins);
    }
    if (!rc) { /* every reference resolves, as it did in the source */
        sqldb_stmt *fk = NULL;
        rc = store_stmt_prepare(dst, "PRAGMA foreign_key_check", &fk, "checking references", e);
        if (!rc && store_step(dst, fk) == SQLITE_ROW)
            rc = err_set(e, ERR_INTEGRITY,
                         "the copy has a row whose reference does not resolve "
                         "(table %s)",
                         (const char *)store_sql_col_text(fk, 0));
        store_sql_finalize(fk);
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
    store_schema_tables_free(&ts);
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
