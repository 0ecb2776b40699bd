/* The notifying triggers and the listening connection (store/listen.h). */
#include "store/listen.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The study's tables that lack their trigger (the audit trail and its head notify nothing). */
#define UNTRIGGERED                                                                                \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "     \
    "n.nspname = current_schema() AND c.relname NOT IN ('audit', 'audit_head') AND NOT EXISTS "    \
    "(SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'ioheme_cache')"

/* Tables whose rows belong to one record notify that record (ioheme_cache_record, or _row for the
 * record table itself); every other table notifies "*" once per statement (ioheme_cache_all); a
 * session notifies "*" when it ends or is cut short, not when its expiry slides forward (that
 * changes no answer and happens on every minute of use). TRUNCATE, which row triggers do not
 * see, notifies "*" everywhere. Each trigger is created only where the table lacks it. */
static const char TRIGGERS_SQL[] =
    "DO $do$ DECLARE t record; BEGIN "
    "IF to_regprocedure('ioheme_cache_all()') IS NULL THEN "
    "CREATE FUNCTION ioheme_cache_all() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
    "PERFORM pg_notify('" STORE_LISTEN_CHANNEL "', '" STORE_LISTEN_ALL "'); RETURN NULL; END $f$; "
    "CREATE FUNCTION ioheme_cache_record() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('" STORE_LISTEN_CHANNEL "', OLD.record_id::text); "
    "END IF; "
    "IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('" STORE_LISTEN_CHANNEL "', NEW.record_id::text); "
    "END IF; RETURN NULL; END $f$; "
    "CREATE FUNCTION ioheme_cache_record_row() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('" STORE_LISTEN_CHANNEL "', OLD.id::text); "
    "END IF; "
    "IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('" STORE_LISTEN_CHANNEL "', NEW.id::text); "
    "END IF; RETURN NULL; END $f$; "
    "END IF; "
    "FOR t IN SELECT c.oid, c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = "
    "c.oid AND a.attname = 'record_id' AND NOT a.attisdropped) AS per_record " UNTRIGGERED " LOOP "
    "IF t.relname = 'session' THEN "
    "EXECUTE 'CREATE TRIGGER ioheme_cache AFTER DELETE ON session FOR EACH STATEMENT EXECUTE "
    "FUNCTION ioheme_cache_all()'; "
    "EXECUTE 'CREATE TRIGGER ioheme_cache_cut AFTER UPDATE ON session FOR EACH ROW WHEN "
    "(NEW.expires_ms < OLD.expires_ms OR NEW.user_id <> OLD.user_id OR NEW.ttl_s <> OLD.ttl_s OR "
    "NEW.token_hash <> OLD.token_hash) EXECUTE FUNCTION ioheme_cache_all()'; "
    "ELSIF t.relname = 'record' OR t.per_record THEN "
    "EXECUTE format('CREATE TRIGGER ioheme_cache AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH "
    "ROW EXECUTE FUNCTION %s()', t.relname, CASE WHEN t.per_record THEN 'ioheme_cache_record' "
    "ELSE 'ioheme_cache_record_row' END); "
    "ELSE "
    "EXECUTE format('CREATE TRIGGER ioheme_cache AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH "
    "STATEMENT EXECUTE FUNCTION ioheme_cache_all()', t.relname); "
    "END IF; "
    "EXECUTE format('CREATE TRIGGER ioheme_cache_truncate AFTER TRUNCATE ON %I FOR EACH "
    "STATEMENT EXECUTE FUNCTION ioheme_cache_all()', t.relname); "
    "END LOOP; END $do$";

/* How many tables lack their trigger (a read, no lock). */
static const char MISSING_SQL[] = "SELECT count(*) " UNTRIGGERED;

/* As long as a schema upgrade may wait for the write lock (schema_pg.c). */
#define TRIGGERS_WAIT_MS 120000

int store_listen_triggers(struct store *st, struct err *e)
{
    if (!store_sql_is_postgres(st->db))
        return 0;
    sqldb_stmt *s = NULL;
    long long missing = -1;
    if (store_sql_prepare(st->db, MISSING_SQL, false, &s) == SQLITE_OK &&
        store_sql_step(s) == SQLITE_ROW)
        missing = store_sql_col_int64(s, 0);
    store_sql_finalize(s);
    if (missing < 0)
        return err_set(e, ERR_IO, "PostgreSQL, looking for the read cache's triggers: %s",
                       store_sql_errmsg(st->db));
    if (missing == 0)
        return 0;
    long long was = store_sql_lock_timeout(st->db);
    (void)store_sql_set_lock_timeout(st->db, TRIGGERS_WAIT_MS);
    int rc = store_exec_sql(st->db, "BEGIN IMMEDIATE", e);
    if (!rc)
        rc = store_exec_sql(st->db, TRIGGERS_SQL, e);
    if (!rc)
        rc = store_exec_sql(st->db, "COMMIT", e);
    if (rc) {
        (void)store_sql_exec(st->db, "ROLLBACK");
        err_prefix(e, "PostgreSQL, creating the read cache's triggers");
    }
    (void)store_sql_set_lock_timeout(st->db, was);
    return rc;
}

struct store_listener {
    PGconn *pg;
    bool lost; /* since the last sync: reconnect, and say so */
};

static int listen_on(struct store_listener *l, struct err *e)
{
    PGresult *r = PQexec(l->pg, "LISTEN " STORE_LISTEN_CHANNEL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return err_set(e, ERR_IO, "PostgreSQL, listening for changes: %s", PQerrorMessage(l->pg));
    return 0;
}

int store_listener_open(const char *url, struct store_listener **out, struct err *e)
{
    *out = NULL;
    if (!store_is_postgres_url(url))
        return err_set(e, ERR_INVALID, "a listener needs a PostgreSQL study");
    struct store_listener *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, ERR_NOMEM, "out of memory");
    /* named, so that an administrator can tell it in pg_stat_activity */
    const char *const keys[] = {"dbname", "application_name", NULL};
    const char *const vals[] = {url, STORE_LISTEN_APP_NAME, NULL};
    l->pg = PQconnectdbParams(keys, vals, 1);
    if (!l->pg || PQstatus(l->pg) != CONNECTION_OK) {
        err_set(e, ERR_IO, "PostgreSQL, connecting to listen for changes: %s",
                l->pg ? PQerrorMessage(l->pg) : "out of memory");
        store_listener_close(l);
        return e->code;
    }
    int rc = listen_on(l, e);
    if (rc) {
        store_listener_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

int store_listener_sync(struct store_listener *l, store_listen_fn fn, void *ctx, bool *resumed,
                        struct err *e)
{
    *resumed = false;
    if (l->lost || PQstatus(l->pg) != CONNECTION_OK) {
        l->lost = true;
        PQreset(l->pg); /* libpq tries the URL's hosts again */
        if (PQstatus(l->pg) != CONNECTION_OK)
            return err_set(e, ERR_IO, "PostgreSQL, listening for changes: %s",
                           PQerrorMessage(l->pg));
        int rc = listen_on(l, e);
        if (rc)
            return rc;
        l->lost = false;
        *resumed = true;
    }
    /* an empty query: answered after everything this session was signalled before it */
    bool ok = PQsendQuery(l->pg, "") == 1;
    PGresult *r;
    while (ok && (r = PQgetResult(l->pg)) != NULL) {
        ok = PQresultStatus(r) == PGRES_EMPTY_QUERY;
        PQclear(r);
    }
    if (!ok) {
        l->lost = true;
        return err_set(e, ERR_IO, "PostgreSQL, listening for changes: %s", PQerrorMessage(l->pg));
    }
    PGnotify *n;
    while ((n = PQnotifies(l->pg)) != NULL) {
        fn(ctx, n->extra);
        PQfreemem(n);
    }
    return 0;
}

void store_listener_close(struct store_listener *l)
{
    if (!l)
        return;
    if (l->pg)
        PQfinish(l->pg);
    free(l);
}
