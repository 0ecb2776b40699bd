/* Training and demo databases: a database marked synthetic at its creation is the only kind the
 * simulator may fill (`ioheme init --synthetic`), and everything that shows or exports its data
 * says so. The mark is a row of the meta table ("synthetic" = "1") and an audit row; it can be
 * set only while the database holds no record, so a study with patients never becomes one. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int store_is_synthetic(struct store *st, bool *out, struct err *e)
{
    char v[8];
    int rc = store_meta_get(st, "synthetic", v, sizeof v, NULL, e);
    *out = rc == 0 && strcmp(v, "1") == 0;
    return rc;
}

int store_mark_synthetic(struct store *st, const struct store_ctx *who, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_record *recs = NULL;
    size_t nrec = 0;
    bool is_syn = false;
    rc = store_record_list(st, &recs, &nrec, e);
    free(recs);
    if (!rc)
        rc = store_is_synthetic(st, &is_syn, e);
    if (!rc && (nrec > 0 || is_syn))
        rc = err_set(e, ERR_CONFLICT,
                     is_syn ? "the database is already a synthetic (training/demo) database"
                            : "the database holds %zu record(s): only a new, empty database can "
                              "become a synthetic (training/demo) database",
                     nrec);
    if (!rc)
        rc = store_meta_set(st, "synthetic", "1", e);
    struct audit_entry a = {.action = "synthetic",
                            .instance = -1,
                            .new_value = "training/demo database: synthetic patients only, "
                                         "not study data"};
    if (!rc)
        rc = store_audit_append(st, who, &a, e);
    return store_tx_finish(st, rc, e);
}
