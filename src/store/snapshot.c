/* Read snapshots and the hot reads of the web server: see snapshot.h. The snapshot counts as the
 * store's open transaction (tx_depth 1), so reading functions that open their own snapshot (the
 * study's values, the audit trail) use this one instead. BEGIN and COMMIT are cached prepared
 * statements: sqlite3_exec would parse them again on every request. */
#include "store/snapshot.h"

#include "store/store_int.h"

/* Steps a cached statement that returns no rows: 0 or ERR_IO. */
static int run_cached(struct store *st, enum stmt_id id, const char *what, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, id, e);
    if (!s)
        return ERR_IO;
    return store_stmt_run(st, s, what, e);
}

int store_snapshot_begin(struct store *st, struct err *e)
{
    if (st->tx_depth || st->in_batch)
        return err_set(e, ERR_CONFLICT, "a transaction is already open");
    int rc = run_cached(st, SQ_SNAP_BEGIN, "starting a read snapshot", e);
    if (rc == 0) {
        st->tx_depth = 1;
        st->is_snapshot = true;
        if (++st->snapshot_serial == 0) /* 0 names no snapshot (store_scope_prefetched) */
            st->snapshot_serial = 1;
    }
    return rc;
}

void store_snapshot_end(struct store *st)
{
    if (st->tx_depth != 1 || st->in_batch)
        return;
    /* A read-only transaction: COMMIT only releases the snapshot (and should anything have
     * appended to the trail in it, audit_head is written first, as store_tx_commit does). */
    if (store_audit_head_flush(st, NULL) != 0 ||
        run_cached(st, SQ_SNAP_COMMIT, "ending a read snapshot", NULL) != 0)
        store_exec_sql(st->db, "ROLLBACK", NULL);
    st->tx_depth = 0;
    st->is_snapshot = false;
    store_tx_ended(st);
}

/* Binds (record id, event, form, instance) as ?1..?4. */
static void bind_form_key(struct store *st, sqldb_stmt *s, long long rid, const char *event,
                          const char *form, int instance)
{
    store_bind_int64(st, s, 1, rid);
    store_bind_text_static(st, s, 2, event);
    store_bind_text_static(st, s, 3, form);
    store_bind_int64(st, s, 4, instance);
}

int store_form_values(struct store *st, const char *record, const char *event, const char *form,
                      int instance, store_value_fn fn, void *ctx, int *status, long long *record_id,
                      struct err *e)
{
    *status = -1;
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    if (record_id)
        *record_id = r.id;
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_FORM, e);
    if (!s)
        return ERR_IO;
    bind_form_key(st, s, r.id, event, form, instance);
    const char *rname = store_record_name(&r);
    int q;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        if (store_sql_col_type(s, 0) == SQLITE_NULL) { /* the status row */
            *status = store_sql_col_int(s, 4);
            continue;
        }
        const char *code = (const char *)store_sql_col_text(s, 1);
        struct store_value v = {
            .record = rname,
            .record_id = r.id,
            .event = event,
            .instance = instance,
            .field = (const char *)store_sql_col_text(s, 0),
            .code = code && *code ? code : NULL,
            .value = (const char *)store_sql_col_text(s, 2),
            .flag = (const char *)store_sql_col_text(s, 3),
        };
        struct arena ar = ARENA_INIT; /* an identifier's clear text, for this callback */
        v.value = store_reveal(st, NULL, v.value, &ar);
        rc = fn(ctx, &v);
        arena_free(&ar);
        if (rc)
            break;
    }
    if (!rc && q != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading a form's values");
    store_sql_reset(s);
    return rc;
}
