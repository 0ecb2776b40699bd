/* Training and demo databases: a database marked synthetic at its creation is the only kind the
 * simulator may fill (`ioheme init --synthetic`), and everything that shows or exports its data
 * says so. The mark is a row of the meta table ("synthetic" = "1") and an audit row; it can be
 * set only while the database holds no record, so a study with patients never becomes one. */
#include <string.h>

#include "store/store_int.h"

/* Runs a one-row, one-column integer query (no parameters) into *out. */
static int query_int(struct store *st, const char *sql, int *out, struct err *e)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return store_db_fail(st, e, "preparing a query");
    int r = sqlite3_step(s);
    *out = r == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : store_db_fail(st, e, "reading the database");
}

int store_is_synthetic(struct store *st, bool *out, struct err *e)
{
    int v = 0;
    int rc = query_int(st, "SELECT value = '1' FROM meta WHERE key = 'synthetic'", &v, e);
    *out = rc == 0 && v == 1;
    return rc;
}

int store_mark_synthetic(struct store *st, const struct store_ctx *who, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    int nrec = 0;
    bool is_syn = false;
    rc = query_int(st, "SELECT count(*) FROM record", &nrec, e);
    if (!rc)
        rc = store_is_synthetic(st, &is_syn, e);
    if (!rc && (nrec > 0 || is_syn))
        rc = err_set(e, ERR_CONFLICT,
                     is_syn ? "the database is already a synthetic (training/demo) database"
                            : "the database holds %d record(s): only a new, empty database can "
                              "become a synthetic (training/demo) database",
                     nrec);
    if (!rc) {
        sqlite3_stmt *s = store_stmt_get(st, SQ_META_PUT, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_text(st, s, 1, "synthetic");
            store_bind_text(st, s, 2, "1");
            rc = store_stmt_run(st, s, "marking the database synthetic", e) ? ERR_IO : 0;
        }
    }
    struct audit_entry a = {.action = "synthetic",
                            .instance = -1,
                            .new_value = "training/demo database: synthetic patients only, "
                                         "not study data"};
    if (!rc)
        rc = store_audit_append(st, who, &a, e);
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    return store_tx_commit(st, e);
}
