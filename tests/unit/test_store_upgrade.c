/* A PostgreSQL study made by an older ioheme is upgraded in place when this one opens it
 * (schema_pg.c, store_schema_pg_check): for every older schema version, the upgraded database
 * has exactly the schema (columns with types, nullability, defaults and collations,
 * constraints, indexes, triggers) of one this binary creates new, read from PostgreSQL's own
 * catalog; a migration's data statements run too (migration 8 records the protocol in force as
 * version 1); a study of a newer version is refused. On SQLite, where `store_open` has always
 * migrated, the same: a file at every older version opens at this one with the same schema. */
#include "store_test_util.h"

#include "store/sqldb.h"
#include "store/store_int.h"

/* Every column, constraint, index and trigger of the connection's schema, one per line. */
static const char CATALOG[] =
    "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
    " SELECT 'column ' || table_name || '.' || column_name || ' #' || ordinal_position::text || ' "
    "' ||"
    "  data_type || ' null:' || is_nullable || ' default:' || coalesce(column_default, '') ||"
    "  ' collate:' || coalesce(collation_name, '') AS x FROM information_schema.columns"
    "  WHERE table_schema = current_schema()"
    " UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || contype::text || ' ' ||"
    "  pg_get_constraintdef(oid) || ' deferrable:' || condeferrable::text FROM pg_constraint"
    "  WHERE connamespace = current_schema()::regnamespace"
    " UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    " UNION ALL SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname || ' ' ||"
    "  pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
    " UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc"
    "  WHERE pronamespace = current_schema()::regnamespace) d";

static char *pg_text(const char *url, const char *sql)
{
    PGconn *c = db_pg(url);
    PGresult *r = db_pg_exec(c, sql);
    char *out = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    assert_non_null(out);
    return out;
}

/* A fresh PostgreSQL database holding the bare schema at version v, as that ioheme made it. */
static void pg_at(const char *name, int v, char *url, size_t len)
{
    tdb_pg_create(name, url, len);
    struct sqldb *pg = NULL;
    assert_int_equal(store_sql_open_postgres(url, &pg), SQLITE_OK);
    struct err e = {0};
    struct store_tables ts = {.ar = ARENA_INIT};
    assert_int_equal(store_exec_sql(pg, "BEGIN IMMEDIATE", &e), 0);
    if (store_schema_pg_create_at(pg, v, &ts, &e))
        fail_msg("schema at version %d: %s", v, e.msg);
    assert_int_equal(store_exec_sql(pg, "COMMIT", &e), 0);
    store_schema_tables_free(&ts);
    store_sql_close(pg);
}

static int check(const char *url, struct err *e)
{
    struct sqldb *pg = NULL;
    assert_int_equal(store_sql_open_postgres(url, &pg), SQLITE_OK);
    int rc = store_schema_pg_check(pg, url, e);
    store_sql_close(pg);
    return rc;
}

static void test_pg_study_of_every_older_version_upgrades(void **state)
{
    (void)state;
    if (!tdb_is_pg())
        skip();
    char fresh[512], url[512];
    pg_at("upnew", SCHEMA_VERSION, fresh, sizeof fresh);
    char *want = pg_text(fresh, CATALOG);
    assert_non_null(strstr(want, "trigger audit audit_no_update"));
    for (int v = 1; v < SCHEMA_VERSION; v++) {
        char name[32];
        snprintf(name, sizeof name, "up%d", v);
        pg_at(name, v, url, sizeof url);
        char *before = pg_text(url, CATALOG);
        assert_true(strcmp(before, want) != 0); /* an older schema is another schema */
        free(before);
        if (v == 7) { /* a protocol in force, which migration 8 must make version 1 */
            char *r = pg_text(url, "INSERT INTO protocol_file(name, content, sha256) VALUES "
                                   "('dictionary.csv', 'x', 'abc'); INSERT INTO meta(key, value) "
                                   "VALUES ('created_at', '2026-01-01T08:00:00.000Z'); SELECT ''");
            free(r);
        }
        struct err e = {0};
        if (check(url, &e))
            fail_msg("upgrading from version %d: %s", v, e.msg);
        char *got = pg_text(url, CATALOG);
        if (strcmp(got, want) != 0) {
            /* the first line that differs, for the message */
            const char *g = got, *w = want;
            while (*g && *g == *w)
                g++, w++;
            while (g > got && g[-1] != '\n')
                g--;
            fail_msg("from version %d the upgraded schema differs from a new one at: %.200s", v, g);
        }
        free(got);
        char *ver = pg_text(url, "SELECT version::text FROM ioheme_schema");
        assert_int_equal(atoi(ver), SCHEMA_VERSION);
        free(ver);
        if (v == 7) {
            char *pv =
                pg_text(url, "SELECT version || ' ' || \"user\" || ' ' || applied_at || ' ' || "
                             "sha256 FROM protocol_version");
            assert_string_equal(pv, "1 system 2026-01-01T08:00:00.000Z abc");
            free(pv);
            char *pa = pg_text(url, "SELECT version || ' ' || name || ' ' || content FROM "
                                    "protocol_archive");
            assert_string_equal(pa, "1 dictionary.csv x");
            free(pa);
        }
        assert_int_equal(check(url, &e), 0); /* at this version now: nothing to do */
    }
    /* a study of a newer version than this binary's is refused, and left as it is */
    char *r = pg_text(url, "UPDATE ioheme_schema SET version = version + 1; SELECT ''");
    free(r);
    struct err e = {0};
    assert_int_equal(check(url, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "upgrade ioheme"));
    free(want);
}

/* An upgrade that fails part-way leaves the study as it was: a version-7 study with a table
 * in the way of migration 9's (site) is refused with PostgreSQL's reason, and migration 8,
 * applied before it in the same transaction — its tables and its data statements — is rolled
 * back with it: the catalog, the version and the data are those of before. With the obstacle
 * gone the same study upgrades. */
static void test_pg_upgrade_failing_part_way_changes_nothing(void **state)
{
    (void)state;
    if (!tdb_is_pg())
        skip();
    char fresh[512], url[512];
    pg_at("uprbnew", SCHEMA_VERSION, fresh, sizeof fresh);
    char *want = pg_text(fresh, CATALOG);
    pg_at("uprb", 7, url, sizeof url);
    char *r = pg_text(url, "INSERT INTO protocol_file(name, content, sha256) VALUES "
                           "('dictionary.csv', 'x', 'abc'); CREATE TABLE site(in_the_way int); "
                           "SELECT ''");
    free(r);
    char *before = pg_text(url, CATALOG);
    struct err e = {0};
    int rc = check(url, &e);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(e.msg, "site"));
    char *after = pg_text(url, CATALOG);
    assert_string_equal(after, before);
    free(after);
    char *ver = pg_text(url, "SELECT version::text FROM ioheme_schema");
    assert_string_equal(ver, "7");
    free(ver);
    char *has8 = pg_text(url, "SELECT count(*)::text FROM information_schema.tables WHERE "
                              "table_schema = current_schema() AND table_name = "
                              "'protocol_version'");
    assert_string_equal(has8, "0");
    free(has8);
    char *files = pg_text(url, "SELECT count(*)::text FROM protocol_file");
    assert_string_equal(files, "1");
    free(files);
    r = pg_text(url, "DROP TABLE site; SELECT ''");
    free(r);
    e = (struct err){0};
    if (check(url, &e))
        fail_msg("upgrading once the way is clear: %s", e.msg);
    char *got = pg_text(url, CATALOG);
    assert_string_equal(got, want);
    free(got);
    free(before);
    free(want);
}

/* The schema of a SQLite file, one object per line (sqlite_schema's own SQL, in name order). */
static char *lite_schema(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(type || ' ' || name || ' ' || "
                                        "coalesce(sql, ''), char(10)) FROM (SELECT * FROM "
                                        "sqlite_schema ORDER BY type, name)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char *out = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

static void test_sqlite_file_of_every_older_version_migrates(void **state)
{
    (void)state;
    if (tdb_is_pg())
        skip();
    struct sqldb *db = NULL;
    struct err e = {0};
    const char *fresh = "store_test_upgrade_new.db";
    tdb_remove(fresh);
    assert_int_equal(store_sql_open_sqlite(fresh, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db),
                     SQLITE_OK);
    assert_int_equal(store_schema_migrate(db, &e), 0);
    store_sql_close(db);
    char *want = lite_schema(fresh);
    for (int v = 1; v < SCHEMA_VERSION; v++) {
        const char *path = "store_test_upgrade_old.db";
        tdb_remove(path);
        assert_int_equal(
            store_sql_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db),
            SQLITE_OK);
        assert_int_equal(store_schema_migrate_to(db, v, &e), 0);
        char *before = lite_schema(path);
        assert_true(strcmp(before, want) != 0);
        free(before);
        assert_int_equal(store_schema_migrate(db, &e), 0);
        store_sql_close(db);
        char *got = lite_schema(path);
        assert_string_equal(got, want);
        free(got);
        tdb_remove(path);
    }
    free(want);
    tdb_remove(fresh);
}

/* The dictionary of a study of an older version that this ioheme's loader refuses (five of a
 * REDCap dictionary's columns, and a field type no REDCap knows): such a study is not
 * upgraded, and store_open says why. */
static const char REFUSED_DICT[] =
    "Variable / Field Name,Form Name,Section Header,Field Type,Field Label\n"
    "record_id,f,,text,Record ID\n"
    "x,f,,hologram,X\n";

/* A study of schema version 8 whose stored protocol this binary refuses is left at version 8,
 * its schema untouched (the ioheme that made it still opens it), and the refusal names the
 * version and the protocol's fault; on either backend. */
static void test_study_whose_protocol_is_refused_is_not_upgraded(void **state)
{
    (void)state;
    char url[512];
    const char *path = "store_test_upgrade_refused.db";
    char *before = NULL;
    if (tdb_is_pg()) {
        pg_at("uprefused", 8, url, sizeof url);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO protocol_file(name, content, sha256) VALUES ('dictionary.csv', "
                 "'%s', 'abc'); SELECT ''",
                 REFUSED_DICT);
        free(pg_text(url, sql));
        before = pg_text(url, CATALOG);
        path = url;
    } else {
        tdb_remove(path);
        struct sqldb *db = NULL;
        struct err e = {0};
        assert_int_equal(
            store_sql_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db),
            SQLITE_OK);
        assert_int_equal(store_schema_migrate_to(db, 8, &e), 0);
        store_sql_close(db);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "PRAGMA application_id = %d; INSERT INTO protocol_file(name, content, sha256) "
                 "VALUES ('dictionary.csv', '%s', 'abc')",
                 IOHEME_APPLICATION_ID, REFUSED_DICT);
        db_exec(path, sql);
        before = lite_schema(path);
    }
    struct store *st = NULL;
    struct err e = {0};
    assert_int_equal(store_open(path, &st, &e), ERR_INVALID);
    assert_null(st);
    assert_non_null(strstr(e.msg, "not upgraded from schema version 8"));
    if (!strstr(e.msg, "this ioheme refuses: the protocol stored in the database: dictionary.csv:"))
        fail_msg("%s", e.msg);
    char *after = tdb_is_pg() ? pg_text(url, CATALOG) : lite_schema(path);
    assert_string_equal(after, before);
    free(after);
    free(before);
    if (tdb_is_pg()) {
        char *ver = pg_text(url, "SELECT version::text FROM ioheme_schema");
        assert_string_equal(ver, "8");
        free(ver);
    } else {
        assert_int_equal(db_int(path, "PRAGMA user_version"), 8);
        tdb_remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_study_of_every_older_version_upgrades),
        cmocka_unit_test(test_pg_upgrade_failing_part_way_changes_nothing),
        cmocka_unit_test(test_sqlite_file_of_every_older_version_migrates),
        cmocka_unit_test(test_study_whose_protocol_is_refused_is_not_upgraded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
