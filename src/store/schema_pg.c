/* The schema on PostgreSQL, made from the one schema (schema.c) rather than written twice: this
 * binary's migrations run on an in-memory SQLite database, and what they built is read back
 * table by table (columns with their types, NOT NULL and defaults, keys, unique constraints,
 * references, indexes, the triggers that keep tables append-only) and created in PostgreSQL:
 *
 *   INTEGER -> bigint, REAL -> double precision, BLOB -> bytea, TEXT -> text COLLATE "C" (so
 *   ordering and comparison are byte order, as SQLite's BINARY: the same rows in the same
 *   order on both backends);
 *   an INTEGER PRIMARY KEY named id is given max(id) + 1 by a trigger when an INSERT leaves it
 *   out, as SQLite's rowid does (writers are serialised, so two cannot take the same);
 *   references are DEFERRABLE INITIALLY DEFERRED (checked at COMMIT, so a migration may copy
 *   tables in any order);
 *   a table with a BEFORE UPDATE / BEFORE DELETE trigger raising an error gets one refusing
 *   the same in PostgreSQL (the audit trail, query messages, signatures, protocol versions);
 *   in_scope(site) reads the session setting ioheme.scope (sites.c, store_sites_scope_send);
 *   ioheme_schema holds the schema version (PostgreSQL has no user_version).
 *
 *   the CHECK constraints of the tables' SQL, each as it is written there (the schema's checks
 *   are ranges and lists both dialects read alike: "status IN (0,1,2)", "instance >= 0"). */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

static char type_of(const char *decl)
{
    return strcmp(decl, "INTEGER") == 0 ? 'i'
           : strcmp(decl, "REAL") == 0  ? 'r'
           : strcmp(decl, "BLOB") == 0  ? 'b'
                                        : 't';
}

/* The number of triggers on table t whose SQL says when (BEFORE UPDATE / BEFORE DELETE) and
 * raises an error. */
static int refusing_triggers(sqlite3 *db, const char *t, const char *when)
{
    sqlite3_stmt *s = NULL;
    int n = 0;
    /* no parameters: t and when are the schema's own names, quoted by %Q */
    char *sql = sqlite3_mprintf("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND "
                                "tbl_name = %Q AND instr(sql, %Q) > 0 AND instr(sql, "
                                "'RAISE(ABORT') > 0",
                                t, when);
    if (sql && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_free(sql);
    return n;
}

int store_schema_tables(sqlite3 *db, struct store_tables *ts, struct err *e)
{
    sqlite3_stmt *s = NULL, *ti = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite_%' ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "reading the schema: %s", sqlite3_errmsg(db));
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        struct store_table *g = array_grow(ts->t, ts->n, &ts->cap, sizeof *g, 16);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        ts->t = g;
        struct store_table *t = &ts->t[ts->n++];
        memset(t, 0, sizeof *t);
        t->name = arena_strdup(&ts->ar, (const char *)sqlite3_column_text(s, 0));
        if (!t->name) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        t->no_update = refusing_triggers(db, t->name, "BEFORE UPDATE") > 0;
        t->no_delete = refusing_triggers(db, t->name, "BEFORE DELETE") > 0;
        char sql[256];
        if (!fmt_fits(sql, sizeof sql, "PRAGMA table_info(\"%s\")", t->name)) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        if (sqlite3_prepare_v2(db, sql, -1, &ti, NULL) != SQLITE_OK) {
            rc = err_set(e, ERR_IO, "reading table %s: %s", t->name, sqlite3_errmsg(db));
            break;
        }
        int maxpk = 0;
        while (sqlite3_step(ti) == SQLITE_ROW) {
            struct store_col *c = array_grow(t->cols, t->ncols, &t->capcols, sizeof *c, 8);
            if (!c) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
            t->cols = c;
            const char *dflt = (const char *)sqlite3_column_text(ti, 4);
            c[t->ncols] = (struct store_col){
                .name = arena_strdup(&ts->ar, (const char *)sqlite3_column_text(ti, 1)),
                .type = type_of((const char *)sqlite3_column_text(ti, 2)),
                .not_null = sqlite3_column_int(ti, 3) != 0,
                .dflt = dflt ? arena_strdup(&ts->ar, dflt) : NULL,
                .pk = sqlite3_column_int(ti, 5)};
            if (!c[t->ncols].name || (dflt && !c[t->ncols].dflt))
                rc = err_set(e, ERR_NOMEM, "out of memory");
            if (c[t->ncols].pk > maxpk)
                maxpk = c[t->ncols].pk;
            t->ncols++;
        }
        sqlite3_finalize(ti);
        ti = NULL;
        /* the key in its declared order (table_info's pk column: 1, 2, ...) */
        struct strbuf pk = STRBUF_INIT;
        for (int k = 1; k <= maxpk; k++)
            for (size_t c = 0; c < t->ncols; c++)
                if (t->cols[c].pk == k)
                    strbuf_addf(&pk, "%s\"%s\"", pk.len ? ", " : "", t->cols[c].name);
        t->pk = pk.len ? arena_strdup(&ts->ar, strbuf_str(&pk)) : NULL;
        t->rowid_id = maxpk == 1 && t->ncols && strcmp(t->pk, "\"id\"") == 0;
        for (size_t c = 0; c < t->ncols && t->rowid_id; c++)
            if (t->cols[c].pk == 1 && t->cols[c].type != 'i')
                t->rowid_id = false;
        strbuf_release(&pk);
    }
    sqlite3_finalize(s);
    return rc;
}

void store_schema_tables_free(struct store_tables *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        free(ts->t[i].cols);
    free(ts->t);
    arena_free(&ts->ar);
}

/* Appends the columns of index idx (PRAGMA index_info) as "a", "b" to sb. */
static void index_cols(sqlite3 *db, const char *idx, struct strbuf *sb)
{
    sqlite3_stmt *s = NULL;
    struct strbuf q = STRBUF_INIT;
    strbuf_addf(&q, "PRAGMA index_info(\"%s\")", idx);
    if (!q.failed && sqlite3_prepare_v2(db, strbuf_str(&q), -1, &s, NULL) == SQLITE_OK)
        for (int n = 0; sqlite3_step(s) == SQLITE_ROW; n++)
            strbuf_addf(sb, "%s\"%s\"", n ? ", " : "", (const char *)sqlite3_column_text(s, 2));
    sqlite3_finalize(s);
    strbuf_release(&q);
}

/* A column's definition: its name, type, NOT NULL and DEFAULT. */
static void col_sql(const struct store_col *col, struct strbuf *sql)
{
    strbuf_addf(sql, "\"%s\" %s", col->name,
                col->type == 'i'   ? "bigint"
                : col->type == 'r' ? "double precision"
                : col->type == 'b' ? "bytea"
                                   : "text COLLATE \"C\"");
    if (col->not_null || col->pk)
        strbuf_adds(sql, " NOT NULL");
    if (col->dflt)
        strbuf_addf(sql, " DEFAULT %s", col->dflt);
}

/* The CREATE TABLE of t in PostgreSQL, with its unique constraints (lite: the schema's
 * database). */
static void create_table_sql(sqlite3 *db, const struct store_table *t, struct strbuf *sql)
{
    strbuf_addf(sql, "CREATE TABLE \"%s\" (", t->name);
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            strbuf_adds(sql, ", ");
        col_sql(&t->cols[c], sql);
    }
    if (t->pk)
        strbuf_addf(sql, ", PRIMARY KEY (%s)", t->pk);
    sqlite3_stmt *s = NULL;
    struct strbuf q = STRBUF_INIT;
    strbuf_addf(&q, "PRAGMA index_list(\"%s\")", t->name);
    if (!q.failed && sqlite3_prepare_v2(db, strbuf_str(&q), -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW) /* seq, name, unique, origin, partial */
            if (sqlite3_column_int(s, 2) &&
                strcmp((const char *)sqlite3_column_text(s, 3), "u") == 0) {
                strbuf_adds(sql, ", UNIQUE (");
                index_cols(db, (const char *)sqlite3_column_text(s, 1), sql);
                strbuf_adds(sql, ")");
            }
    sqlite3_finalize(s);
    strbuf_release(&q);
    strbuf_adds(sql, ")");
}

/* Appends "ALTER TABLE t ADD CHECK (expr);" to ddl for each CHECK constraint in create, a
 * table's CREATE TABLE statement (a column's or the table's; SQL text in quotes is skipped). */
/* At a quote (a literal or a quoted name: text, not SQL), its closing quote, or NULL when it
 * has none; elsewhere p itself. */
static const char *past_quoted(const char *p)
{
    return *p == '\'' || *p == '"' ? strchr(p + 1, *p) : p;
}

static void check_constraints(const char *t, const char *create, struct strbuf *ddl)
{
    for (const char *p = create; p && *p; p++) {
        if ((p = past_quoted(p)) == NULL)
            return;
        bool word = strncasecmp(p, "CHECK", 5) == 0 &&
                    (p == create || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'));
        const char *q = p + 5;
        while (word && (*q == ' ' || *q == '\n' || *q == '\t'))
            q++;
        if (!word || *q != '(')
            continue;
        const char *from = q + 1;
        int depth = 1;
        for (q = from; *q && depth; q++) {
            if ((q = past_quoted(q)) == NULL)
                return;
            depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
        }
        if (depth)
            return;
        strbuf_addf(ddl, "ALTER TABLE \"%s\" ADD CHECK (%.*s);\n", t, (int)(q - 1 - from), from);
        p = q - 1;
    }
}

/* Runs sql on PostgreSQL; 0, or ERR_IO naming what. */
static int pg_run(struct sqldb *pg, const char *sql, const char *what, struct err *e)
{
    if (store_sql_exec(pg, sql) == SQLITE_OK)
        return 0;
    return err_set(e, ERR_IO, "PostgreSQL, %s: %s", what, store_sql_errmsg(pg));
}

/* Everything after the table itself (references, checks, indexes, triggers) as statements
 * appended to ddl, each ending in ";\n" (the schema's SQL has no newline of its own, so an
 * upgrade can compare two versions' statements line by line). */
static void table_ddl(sqlite3 *db, const struct store_table *t, struct strbuf *ddl)
{
    struct strbuf sql = STRBUF_INIT;
    sqlite3_stmt *s = NULL;
    strbuf_addf(&sql, "PRAGMA foreign_key_list(\"%s\")", t->name);
    if (!sql.failed && sqlite3_prepare_v2(db, strbuf_str(&sql), -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW) /* id, seq, table, from, to */
            strbuf_addf(ddl,
                        "ALTER TABLE \"%s\" ADD FOREIGN KEY (\"%s\") REFERENCES \"%s\"(\"%s\") "
                        "DEFERRABLE INITIALLY DEFERRED;\n",
                        t->name, (const char *)sqlite3_column_text(s, 3),
                        (const char *)sqlite3_column_text(s, 2),
                        sqlite3_column_type(s, 4) == SQLITE_NULL
                            ? "id"
                            : (const char *)sqlite3_column_text(s, 4));
    sqlite3_finalize(s);
    s = NULL;
    char *create = sqlite3_mprintf(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = %Q", t->name);
    if (create && sqlite3_prepare_v2(db, create, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        check_constraints(t->name, (const char *)sqlite3_column_text(s, 0), ddl);
    sqlite3_finalize(s);
    sqlite3_free(create);
    s = NULL;
    /* the schema's own indexes, whose SQL both dialects read alike */
    char *q = sqlite3_mprintf("SELECT sql FROM sqlite_schema WHERE type = 'index' AND "
                              "tbl_name = %Q AND sql IS NOT NULL ORDER BY name",
                              t->name);
    if (q && sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW)
            strbuf_addf(ddl, "%s;\n", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_free(q);
    if (t->rowid_id)
        strbuf_addf(ddl,
                    "CREATE TRIGGER \"%s_next_id\" BEFORE INSERT ON \"%s\" FOR EACH ROW WHEN "
                    "(NEW.id IS NULL) EXECUTE FUNCTION ioheme_next_id();\n",
                    t->name, t->name);
    if (t->no_update)
        strbuf_addf(ddl,
                    "CREATE TRIGGER \"%s_no_update\" BEFORE UPDATE ON \"%s\" FOR EACH ROW "
                    "EXECUTE FUNCTION ioheme_append_only();\n",
                    t->name, t->name);
    if (t->no_delete)
        strbuf_addf(ddl,
                    "CREATE TRIGGER \"%s_no_delete\" BEFORE DELETE ON \"%s\" FOR EACH ROW "
                    "EXECUTE FUNCTION ioheme_append_only();\n",
                    t->name, t->name);
    strbuf_release(&sql);
}

/* The table's references, checks, indexes and triggers, created. */
static int finish_table(sqlite3 *db, struct sqldb *pg, const struct store_table *t, struct err *e)
{
    struct strbuf ddl = STRBUF_INIT;
    table_ddl(db, t, &ddl);
    int rc = 0;
    if (ddl.failed)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    else if (ddl.len)
        rc = pg_run(pg, strbuf_str(&ddl), "creating checks, references, indexes and triggers", e);
    strbuf_release(&ddl);
    return rc;
}

/* An in-memory SQLite database with the schema at version v: what the PostgreSQL schema is
 * read from. */
static int schema_at(int v, struct sqldb **mem, struct err *e)
{
    *mem = NULL;
    if (store_sql_open_sqlite(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, mem) !=
        SQLITE_OK)
        return err_set(e, ERR_NOMEM, "building the schema: %s",
                       *mem ? store_sql_errmsg(*mem) : "out of memory");
    return store_schema_migrate_to(*mem, v, e);
}

int store_schema_pg_create(struct sqldb *pg, struct store_tables *ts, struct err *e)
{
    return store_schema_pg_create_at(pg, SCHEMA_VERSION, ts, e);
}

int store_schema_pg_create_at(struct sqldb *pg, int version, struct store_tables *ts, struct err *e)
{
    struct sqldb *mem = NULL;
    int rc = schema_at(version, &mem, e);
    if (!rc)
        rc = store_schema_tables(store_sql_sqlite(mem), ts, e);
    if (!rc)
        rc = pg_run(
            pg,
            "CREATE FUNCTION ioheme_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% rows cannot be changed or deleted (%)', TG_TABLE_NAME, TG_OP; "
            "END $$;"
            "CREATE FUNCTION ioheme_next_id() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "EXECUTE format('SELECT coalesce(max(id), 0) + 1 FROM %I.%I', TG_TABLE_SCHEMA, "
            "TG_TABLE_NAME) INTO NEW.id; RETURN NEW; END $$;"
            "CREATE FUNCTION in_scope(site bigint) RETURNS boolean LANGUAGE sql STABLE AS $$ "
            "SELECT coalesce(current_setting('ioheme.scope', true), '') = '' OR "
            "strpos(current_setting('ioheme.scope', true), ',' || coalesce(site, 0) || ',') > 0 "
            "$$",
            "creating the schema's functions", e);
    for (size_t i = 0; !rc && i < ts->n; i++) {
        struct strbuf sql = STRBUF_INIT;
        create_table_sql(store_sql_sqlite(mem), &ts->t[i], &sql);
        rc = sql.failed ? err_set(e, ERR_NOMEM, "out of memory")
                        : pg_run(pg, strbuf_str(&sql), "creating a table", e);
        strbuf_release(&sql);
    }
    for (size_t i = 0; !rc && i < ts->n; i++)
        rc = finish_table(store_sql_sqlite(mem), pg, &ts->t[i], e);
    if (!rc) {
        char sql[96];
        fmt_exact(sql, sizeof sql,
                  "CREATE TABLE ioheme_schema (version integer NOT NULL); INSERT INTO "
                  "ioheme_schema VALUES (%d)",
                  version);
        rc = pg_run(pg, sql, "recording the schema version", e);
    }
    store_sql_close(mem);
    return rc;
}

/* ---- upgrading a study in place -----------------------------------------------------------*/

static const struct store_table *table_named(const struct store_tables *ts, const char *name)
{
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->t[i].name, name) == 0)
            return &ts->t[i];
    return NULL;
}

static const struct store_col *col_named(const struct store_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c].name, name) == 0)
            return &t->cols[c];
    return NULL;
}

static bool same_col(const struct store_col *a, const struct store_col *b)
{
    return a->type == b->type && a->not_null == b->not_null && a->pk == b->pk &&
           (a->dflt && b->dflt ? strcmp(a->dflt, b->dflt) == 0 : a->dflt == b->dflt);
}

/* The line at p (up to and with its '\n') is one of the lines of text. */
static bool has_line(const char *text, const char *p, size_t n)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t k = nl ? (size_t)(nl - text) + 1 : strlen(text);
        if (k == n && memcmp(text, p, n) == 0)
            return true;
        text += k;
    }
    return false;
}

/* Appends the lines of b that a lacks to out; *lost is set when a has a line b lacks. */
static void new_lines(const char *a, const char *b, struct strbuf *out, bool *lost)
{
    for (const char *p = b; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!has_line(a, p, n))
            strbuf_add(out, p, n);
        p += n;
    }
    for (const char *p = a; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!has_line(b, p, n))
            *lost = true;
        p += n;
    }
}

/* What only rebuilding the study could do: said, with the way that works. */
static int not_in_place(int m, const char *what, const char *name, struct err *e)
{
    return err_set(e, ERR_UNSUPPORTED,
                   "migration %d %s %s, which a PostgreSQL study cannot take in place: migrate "
                   "the study to SQLite with an ioheme of its version ('ioheme migrate'), open "
                   "it with this one, and migrate it back (docs/operations.md)",
                   m, what, name);
}

/* The statements that take PostgreSQL from old's schema to cur's (in-memory SQLite databases
 * at versions m - 1 and m; their tables in to and tn) into ddl: new tables, new columns, and
 * each reference, check, index and trigger cur has that old has not. */
static int upgrade_ddl(sqlite3 *old, const struct store_tables *to, sqlite3 *cur,
                       const struct store_tables *tn, int m, struct strbuf *ddl, struct err *e)
{
    for (size_t i = 0; i < to->n; i++) {
        const struct store_table *ot = &to->t[i], *nt = table_named(tn, ot->name);
        if (!nt)
            return not_in_place(m, "drops table", ot->name, e);
        for (size_t c = 0; c < ot->ncols; c++) {
            const struct store_col *nc = col_named(nt, ot->cols[c].name);
            if (!nc || !same_col(&ot->cols[c], nc))
                return not_in_place(m, nc ? "changes column" : "drops column", ot->cols[c].name, e);
        }
    }
    /* the tables and columns first: a new reference may name a table made further on */
    for (size_t i = 0; i < tn->n; i++) {
        const struct store_table *nt = &tn->t[i], *ot = table_named(to, nt->name);
        if (!ot) {
            create_table_sql(cur, nt, ddl);
            strbuf_adds(ddl, ";\n");
            continue;
        }
        for (size_t c = 0; c < nt->ncols; c++)
            if (!col_named(ot, nt->cols[c].name)) {
                strbuf_addf(ddl, "ALTER TABLE \"%s\" ADD COLUMN ", nt->name);
                col_sql(&nt->cols[c], ddl);
                strbuf_adds(ddl, ";\n");
            }
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < tn->n; i++) {
        const struct store_table *nt = &tn->t[i], *ot = table_named(to, nt->name);
        struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        if (ot)
            table_ddl(old, ot, &a);
        table_ddl(cur, nt, &b);
        bool lost = false;
        new_lines(strbuf_str(&a), strbuf_str(&b), ddl, &lost);
        if (a.failed || b.failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (lost)
            rc =
                not_in_place(m, "drops a reference, check, index or trigger of table", nt->name, e);
        strbuf_release(&a);
        strbuf_release(&b);
    }
    return rc;
}

/* The first word of a statement past blanks and comments, and its length. */
static const char *first_word(const char *p, size_t *n)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-')
            p += strcspn(p, "\n");
        else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else
            break;
    }
    for (*n = 0; isalpha((unsigned char)p[*n]);)
        ++*n;
    return p;
}

static bool is_word(const char *w, size_t n, const char *kw)
{
    return n == strlen(kw) && strncasecmp(w, kw, n) == 0;
}

/* A migration's statements as an upgrade sees them (store_schema_stmt_fn): the schema's
 * (CREATE, ALTER, DROP, PRAGMA) come from comparing the schemas; a data statement (INSERT,
 * UPDATE, DELETE) is kept in data, to run on PostgreSQL as written; anything else, or SQLite's
 * own INSERT OR ..., is said, not skipped. */
struct upgrade_stmts {
    int m;
    struct strbuf *data;
};

static int upgrade_stmt(void *ctx, const char *sql, struct err *e)
{
    struct upgrade_stmts *u = ctx;
    size_t n;
    const char *w = first_word(sql, &n);
    if (is_word(w, n, "CREATE") || is_word(w, n, "ALTER") || is_word(w, n, "DROP") ||
        is_word(w, n, "PRAGMA"))
        return 0;
    if (is_word(w, n, "INSERT") || is_word(w, n, "UPDATE") || is_word(w, n, "DELETE")) {
        size_t k;
        const char *next = first_word(w + n, &k);
        if (is_word(next, k, "OR"))
            return not_in_place(u->m, "has SQLite's own", "INSERT/UPDATE OR ...", e);
        strbuf_addf(u->data, "%s;\n", w);
        return 0;
    }
    char what[40];
    fmt_text(what, sizeof what, "%.*s", (int)(n ? n : 1), n ? w : "?");
    return not_in_place(u->m, "has a statement the upgrade cannot place:", what, e);
}

/* Applies migration m to mem, keeping its data statements in data when data is not NULL. */
static int run_migration(struct sqldb *mem, int m, struct strbuf *data, struct err *e)
{
    struct upgrade_stmts u = {m, data};
    return store_schema_apply(mem, m, data ? upgrade_stmt : NULL, &u, e);
}

/* Brings the study from schema version `from` to this binary's, inside the caller's
 * transaction: each migration in turn, its schema changes then its data statements. */
static int pg_upgrade(struct sqldb *pg, int from, struct err *e)
{
    struct sqldb *old = NULL, *cur = NULL;
    int rc = schema_at(from, &old, e);
    if (!rc)
        rc = schema_at(from, &cur, e);
    for (int m = from + 1; !rc && m <= SCHEMA_VERSION; m++) {
        struct store_tables to = {.ar = ARENA_INIT}, tn = {.ar = ARENA_INIT};
        struct strbuf ddl = STRBUF_INIT, data = STRBUF_INIT;
        rc = run_migration(cur, m, &data, e);
        if (!rc)
            rc = store_schema_tables(store_sql_sqlite(old), &to, e);
        if (!rc)
            rc = store_schema_tables(store_sql_sqlite(cur), &tn, e);
        if (!rc)
            rc = upgrade_ddl(store_sql_sqlite(old), &to, store_sql_sqlite(cur), &tn, m, &ddl, e);
        if (!rc && (ddl.failed || data.failed))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        if (!rc && ddl.len)
            rc = pg_run(pg, strbuf_str(&ddl), "changing the schema", e);
        if (!rc && data.len)
            rc = pg_run(pg, strbuf_str(&data), "moving the data", e);
        if (!rc)
            rc = run_migration(old, m, NULL, e);
        if (rc)
            err_prefix(e, "migration %d", m);
        store_schema_tables_free(&to);
        store_schema_tables_free(&tn);
        strbuf_release(&ddl);
        strbuf_release(&data);
    }
    if (!rc) {
        char sql[64];
        fmt_exact(sql, sizeof sql, "UPDATE ioheme_schema SET version = %d", SCHEMA_VERSION);
        rc = pg_run(pg, sql, "recording the schema version", e);
    }
    store_sql_close(old);
    store_sql_close(cur);
    return rc;
}

#define UPGRADE_WAIT_MS 120000

int store_schema_pg_version(struct sqldb *pg)
{
    sqldb_stmt *s = NULL;
    int v = -1;
    if (store_sql_prepare(pg, "SELECT version FROM ioheme_schema", false, &s) == SQLITE_OK &&
        store_sql_step(s) == SQLITE_ROW)
        v = store_sql_col_int(s, 0);
    store_sql_finalize(s);
    return v;
}

int store_schema_pg_check(struct sqldb *pg, const char *url, struct err *e)
{
    int v = store_schema_pg_version(pg);
    if (v < 0) {
        /* the failed statement aborted nothing (no transaction): say what is there */
        return err_set(e, ERR_NOT_FOUND,
                       "%s: no ioheme study in this PostgreSQL database (create one with "
                       "'ioheme init', or copy one in with 'ioheme migrate')",
                       url);
    }
    if (v > SCHEMA_VERSION)
        return err_set(e, ERR_INVALID,
                       "%s: the study has schema version %d and this ioheme knows up to %d: "
                       "upgrade ioheme",
                       url, v, SCHEMA_VERSION);
    if (v == SCHEMA_VERSION)
        return 0;
    /* under the write lock, in one transaction: another server opening the study at the same
     * moment waits (up to UPGRADE_WAIT_MS, not the usual few seconds: the upgrade, or a writer
     * of the old version still running, may hold the lock that long), then finds it upgraded;
     * a failure leaves the study as it was */
    long long was = store_sql_lock_timeout(pg);
    (void)store_sql_set_lock_timeout(pg, UPGRADE_WAIT_MS);
    int rc = store_exec_sql(pg, "BEGIN IMMEDIATE", e);
    if (rc) {
        (void)store_sql_set_lock_timeout(pg, was);
        return rc;
    }
    v = store_schema_pg_version(pg);
    if (v < 0)
        rc = err_set(e, ERR_IO, "%s: reading the schema version: %s", url, store_sql_errmsg(pg));
    else if (v < SCHEMA_VERSION)
        rc = pg_upgrade(pg, v, e);
    if (!rc)
        rc = store_exec_sql(pg, "COMMIT", e);
    if (rc) {
        (void)store_sql_exec(pg, "ROLLBACK");
        err_prefix(e, "%s: upgrading the study from schema version %d", url, v);
    }
    (void)store_sql_set_lock_timeout(pg, was);
    return rc;
}
