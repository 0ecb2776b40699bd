/* WAL checkpoints on demand, for a server that keeps them out of its commits (store.h).
 *
 * In WAL mode every COMMIT appends pages to the -wal file; a checkpoint copies them back into
 * the database file so the WAL can start over. By default SQLite runs one inside the COMMIT
 * that takes the WAL past 1000 pages, and that commit then pays for copying and fsyncing the
 * database file. The server turns that off (store_set_autocheckpoint) and calls
 * store_checkpoint from its own thread and connection instead. */
#include "store/store_int.h"

int store_set_autocheckpoint(struct store *st, bool is_on, struct err *e)
{
    /* 1000 is SQLite's default (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT); 0 turns it off. */
    if (store_sql_is_postgres(st->db))
        return 0; /* PostgreSQL checkpoints on its own */
    return store_exec_sql(
        st->db, is_on ? "PRAGMA wal_autocheckpoint = 1000" : "PRAGMA wal_autocheckpoint = 0", e);
}

int store_checkpoint(struct store *st, enum store_checkpoint_mode mode, int wait_ms,
                     struct store_checkpoint_result *out, struct err *e)
{
    static const int sqlite_mode[] = {
        [STORE_CKPT_PASSIVE] = SQLITE_CHECKPOINT_PASSIVE,
        [STORE_CKPT_RESTART] = SQLITE_CHECKPOINT_RESTART,
        [STORE_CKPT_TRUNCATE] = SQLITE_CHECKPOINT_TRUNCATE,
    };
    out->wal_frames = out->copied_frames = 0;
    out->is_complete = false;
    if ((unsigned)mode >= sizeof sqlite_mode / sizeof sqlite_mode[0])
        return err_set(e, ERR_INTERNAL, "unknown checkpoint mode %d", (int)mode);
    sqlite3 *db = store_sql_sqlite(st->db);
    if (!db) { /* PostgreSQL: nothing to copy back */
        out->is_complete = true;
        return 0;
    }
    if (mode != STORE_CKPT_PASSIVE)
        sqlite3_busy_timeout(db, wait_ms > 0 ? wait_ms : 0);
    int nlog = 0, nckpt = 0;
    int r = sqlite3_wal_checkpoint_v2(db, "main", sqlite_mode[mode], &nlog, &nckpt);
    if (r != SQLITE_OK && (r & 0xff) != SQLITE_BUSY && (r & 0xff) != SQLITE_LOCKED)
        return store_db_fail(st, e, "checkpointing the WAL");
    out->wal_frames = nlog > 0 ? nlog : 0;
    out->copied_frames = nckpt > 0 ? nckpt : 0;
    out->is_complete = r == SQLITE_OK && nlog >= 0 && nckpt == nlog;
    return 0;
}
