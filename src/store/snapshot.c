/* Read snapshots for the web server: see snapshot.h. The snapshot counts as the store's open
 * transaction (tx_depth 1), so reading functions that open their own snapshot (the study's
 * values, the audit trail) use this one instead. */
#include "store/snapshot.h"

#include "store/store_int.h"

int store_snapshot_begin(struct store *st, struct err *e)
{
    if (st->tx_depth || st->in_batch)
        return err_set(e, ERR_CONFLICT, "a transaction is already open");
    int rc = exec_sql(st->db, "BEGIN", e);
    if (rc == 0)
        st->tx_depth = 1;
    return rc;
}

void store_snapshot_end(struct store *st)
{
    if (st->tx_depth != 1 || st->in_batch)
        return;
    /* A read-only transaction: COMMIT only releases the snapshot. */
    exec_sql(st->db, "COMMIT", NULL);
    st->tx_depth = 0;
}
