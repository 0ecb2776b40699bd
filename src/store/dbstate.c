/* Database freeze and lock (store.h, "database freeze and lock"): the state kept in the meta
 * table, the checks every other path calls (store_db_require), the pre-lock checklist and the
 * four transitions with their audit rows. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

static const char *const state_names[] = {"available", "frozen", "locked"};

const char *store_db_state_name(enum store_db_state s)
{
    return (unsigned)s < 3 ? state_names[s] : "?";
}

int store_db_status(struct store *st, struct store_db_status *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    char state[16];
    int rc = store_meta_get(st, "db_state", state, sizeof state, NULL, e);
    for (int i = 0; !rc && i < 3; i++)
        if (strcmp(state, state_names[i]) == 0)
            out->state = (enum store_db_state)i;
    if (!rc && out->state != STORE_DB_AVAILABLE)
        rc = store_meta_get(st, "db_frozen_at", out->frozen_at, sizeof out->frozen_at, NULL, e);
    if (!rc && out->state == STORE_DB_LOCKED) {
        rc = store_meta_get(st, "db_lock_id", out->lock_id, sizeof out->lock_id, NULL, e);
        if (!rc)
            rc = store_meta_get(st, "db_locked_at", out->locked_at, sizeof out->locked_at, NULL, e);
        if (!rc)
            rc = store_meta_get(st, "db_lock_head", out->lock_head, sizeof out->lock_head, NULL, e);
        char rows[24];
        if (!rc)
            rc = store_meta_get(st, "db_lock_rows", rows, sizeof rows, NULL, e);
        if (!rc)
            out->lock_rows = atoll(rows);
    }
    return rc;
}

int store_db_require(struct store *st, bool allow_frozen, struct err *e)
{
    /* Inside a write transaction the state seen once stands until the transaction ends: no
     * other connection writes meanwhile, and this one's own change (store_meta_set) forgets
     * it. Every change set of a group commit asks. */
    if (st->is_db_available)
        return 0;
    struct store_db_status s;
    int rc = store_db_status(st, &s, e);
    if (rc)
        return rc;
    if (s.state == STORE_DB_AVAILABLE && st->tx_depth > 0 && !st->is_snapshot)
        st->is_db_available = true;
    if (s.state == STORE_DB_AVAILABLE || (allow_frozen && s.state == STORE_DB_FROZEN))
        return 0;
    if (s.state == STORE_DB_LOCKED)
        return err_set_field(e, ERR_CONFLICT, "database",
                             "the database is locked (%s since %s): nothing can change until an "
                             "admin or data manager unlocks it",
                             s.lock_id, s.locked_at);
    return err_set_field(e, ERR_CONFLICT, "database",
                         "the database is frozen since %s: no data entry (queries, SDV and "
                         "signatures go on; 'ioheme db status')",
                         s.frozen_at);
}

/* ---- the checklist ------------------------------------------------------------------------*/

int store_incomplete_forms(struct store *st, long long record_id, long long *n, char *first,
                           size_t len, struct err *e)
{
    *n = 0;
    first[0] = '\0';
    sqldb_stmt *s = store_stmt_get(st, SQ_DB_INCOMPLETE_FORMS, e);
    if (!s)
        return ERR_IO;
    if (record_id)
        store_bind_int64(st, s, 1, record_id);
    int step = store_step(st, s);
    if (step == SQLITE_ROW) {
        *n = store_sql_col_int64(s, 0);
        store_col_copy(s, 1, first, len);
    }
    store_sql_reset(s);
    return step == SQLITE_ROW ? 0 : store_db_fail(st, e, "checking form statuses");
}

static void check(struct store_check *c, const char *name, bool passed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check(struct store_check *c, const char *name, bool passed, const char *fmt, ...)
{
    c->name = name;
    c->passed = passed;
    va_list ap;
    va_start(ap, fmt);
    fmt_vtext(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

/* Every enrolled record has a valid signature of each record meaning; a valid
 * db_lock_approval study signature exists since the freeze (when defined). */
static int check_signatures(struct store *st, const char *frozen_at, struct store_check *c,
                            struct err *e)
{
    const struct dict *d = &st->dict;
    struct store_record *recs = NULL;
    size_t nrec = 0;
    struct store_signature *g = NULL;
    size_t ng = 0;
    int rc = store_record_list(st, &recs, &nrec, e);
    if (!rc)
        rc = store_signatures(st, NULL, &g, &ng, e);
    size_t missing = 0;
    char first[96] = "";
    for (size_t m = 0; !rc && m < d->nsigs; m++) {
        const struct dict_sig_meaning *sm = &d->sigs[m];
        if (sm->scope == DICT_SIG_RECORD) {
            for (size_t i = 0; i < nrec; i++) {
                if (!recs[i].study_id[0])
                    continue;
                bool ok = store_signature_valid_since(g, ng, sm->name, recs[i].study_id, "") != 0;
                if (!ok && !missing++)
                    fmt_text(first, sizeof first, "%s of %s", sm->name, recs[i].study_id);
            }
        } else if (strcmp(sm->name, "db_lock_approval") == 0) {
            bool ok = store_signature_valid_since(g, ng, sm->name, "", frozen_at) != 0;
            if (!ok && !missing++)
                fmt_text(first, sizeof first, "%s since the freeze", sm->name);
        }
    }
    free(recs);
    free(g);
    if (!rc)
        check(c, "signatures", missing == 0,
              missing ? "%zu signature(s) missing or invalid, first: %s" : "every signature valid",
              missing, first);
    return rc;
}

int store_db_checklist(struct store *st, struct store_checklist *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct store_db_status ds;
    int rc = store_db_status(st, &ds, e);
    /* 1. no live query */
    struct store_query *qs = NULL;
    size_t nq = 0;
    struct store_query_filter f = {.status = -1, .is_live = true};
    if (!rc)
        rc = store_query_list(st, &f, &qs, &nq, e);
    if (!rc)
        check(&out->item[0], "open_queries", nq == 0,
              nq ? "%zu query(ies) open or answered, first #%lld on %s" : "no open query", nq,
              nq ? qs[0].id : 0LL, nq ? qs[0].record : "");
    free(qs);
    /* 2. every form with data complete */
    if (!rc) {
        long long n = 0;
        char first[160];
        rc = store_incomplete_forms(st, 0, &n, first, sizeof first, e);
        if (!rc)
            check(&out->item[1], "forms_complete", n == 0,
                  n ? "%lld form(s) with data not marked complete, first: %s"
                    : "every form with data is complete",
                  n, first);
    }
    /* 3. the SDV plan */
    struct store_sdv_count *c = NULL;
    size_t nc = 0;
    if (!rc)
        rc = store_sdv_progress(st, NULL, &c, &nc, e);
    if (!rc) {
        size_t req = 0, ver = 0;
        for (size_t i = 0; i < nc; i++)
            if (!c[i].form[0]) {
                req += c[i].required;
                ver += c[i].required_verified;
            }
        check(&out->item[2], "sdv_plan", store_sdv_plan_met(c, nc),
              "%zu of %zu planned values verified", ver, req);
    }
    free(c);
    /* 4. signatures */
    if (!rc)
        rc = check_signatures(st, ds.frozen_at, &out->item[3], e);
    if (rc)
        return rc;
    out->passed = true;
    for (int i = 0; i < STORE_NCHECKS; i++)
        out->passed &= out->item[i].passed;
    return 0;
}

/* ---- transitions ---------------------------------------------------------------------------*/

static int transition(struct store *st, const struct store_ctx *who, enum store_db_state from,
                      enum store_db_state to, const char *action, const char *reason, struct err *e)
{
    int rc = store_reason_check(reason, false, action, e);
    if (!rc)
        rc = store_site_require_study_wide(st, who->user, "changing the database state", e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_db_status s;
    rc = store_db_status(st, &s, e);
    if (!rc && s.state != from)
        rc = err_set_field(e, ERR_CONFLICT, "database", "the database is %s, not %s",
                           store_db_state_name(s.state), store_db_state_name(from));
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    if (!rc)
        rc = store_meta_set(st, "db_state", store_db_state_name(to), e);
    if (!rc && from == STORE_DB_AVAILABLE)
        rc = store_meta_set(st, "db_frozen_at", ts, e);
    char lock_id[32] = "";
    if (!rc && to == STORE_DB_LOCKED) {
        char n[24];
        rc = store_meta_get(st, "db_lock_count", n, sizeof n, NULL, e);
        long count = atol(n) + 1;
        fmt_exact(n, sizeof n, "%ld", count);
        fmt_exact(lock_id, sizeof lock_id, "LOCK-%ld", count);
        if (!rc)
            rc = store_meta_set(st, "db_lock_count", n, e);
        if (!rc)
            rc = store_meta_set(st, "db_lock_id", lock_id, e);
        if (!rc)
            rc = store_meta_set(st, "db_locked_at", ts, e);
    }
    if (!rc) {
        struct audit_entry a = {.action = action,
                                .instance = -1,
                                .field = "database",
                                .old_value = store_db_state_name(from),
                                .new_value = lock_id[0] ? lock_id : store_db_state_name(to),
                                .reason = reason && *reason ? reason : NULL};
        rc = store_audit_append(st, who, &a, e);
    }
    if (!rc && to == STORE_DB_LOCKED) { /* the lock's identity: the trail up to its own row */
        long long nrows;
        char head[65];
        rc = store_audit_head(st, &nrows, head, e);
        if (!rc)
            rc = store_meta_set(st, "db_lock_head", head, e);
        char rows[24];
        fmt_exact(rows, sizeof rows, "%lld", nrows);
        if (!rc)
            rc = store_meta_set(st, "db_lock_rows", rows, e);
    }
    return store_tx_finish(st, rc, e);
}

static int need_reason(const char *reason, const char *what, struct err *e)
{
    return store_reason_check(reason, true, what, e);
}

int store_db_freeze(struct store *st, const struct store_ctx *who, const char *reason,
                    struct err *e)
{
    int rc = store_authorize(st, who, PERM_LOCK, e);
    return rc ? rc
              : transition(st, who, STORE_DB_AVAILABLE, STORE_DB_FROZEN, "db_freeze", reason, e);
}

int store_db_unfreeze(struct store *st, const struct store_ctx *who, const char *reason,
                      struct err *e)
{
    int rc = store_authorize(st, who, PERM_UNLOCK, e);
    if (!rc)
        rc = need_reason(reason, "unfreezing the database", e);
    return rc ? rc
              : transition(st, who, STORE_DB_FROZEN, STORE_DB_AVAILABLE, "db_unfreeze", reason, e);
}

int store_db_lock(struct store *st, const struct store_ctx *who, const char *override,
                  struct store_checklist *cl, struct err *e)
{
    int rc = store_authorize(st, who, PERM_LOCK, e);
    if (rc)
        return rc;
    struct store_checklist mine;
    if (!cl)
        cl = &mine;
    struct store_db_status s;
    rc = store_db_status(st, &s, e);
    if (!rc && s.state != STORE_DB_FROZEN)
        return err_set_field(e, ERR_CONFLICT, "database",
                             "the database is %s: freeze it first (the checklist runs on a frozen "
                             "database)",
                             store_db_state_name(s.state));
    if (!rc)
        rc = store_db_checklist(st, cl, e);
    if (rc)
        return rc;
    struct strbuf failed = STRBUF_INIT;
    for (int i = 0; i < STORE_NCHECKS; i++)
        if (!cl->item[i].passed)
            strbuf_addf(&failed, "%s%s: %s", failed.len ? "; " : "", cl->item[i].name,
                        cl->item[i].detail);
    if (!cl->passed && (!override || !*override)) {
        rc = err_set_field(e, ERR_CONFLICT, "checklist",
                           "the pre-lock checklist fails (%s); lock with an override reason to "
                           "accept it",
                           failed.buf ? failed.buf : "");
        strbuf_release(&failed);
        return rc;
    }
    struct strbuf reason = STRBUF_INIT;
    if (cl->passed)
        strbuf_adds(&reason, "pre-lock checklist passed");
    else
        strbuf_addf(&reason, "pre-lock checklist overridden (%s): %s", override,
                    failed.buf ? failed.buf : "");
    strbuf_release(&failed);
    rc = reason.failed
             ? err_set(e, ERR_NOMEM, "out of memory")
             : transition(st, who, STORE_DB_FROZEN, STORE_DB_LOCKED, "db_lock", reason.buf, e);
    strbuf_release(&reason);
    return rc;
}

int store_db_unlock(struct store *st, const struct store_ctx *who, const char *password,
                    const char *reason, struct err *e)
{
    int rc = store_authorize(st, who, PERM_UNLOCK, e);
    if (!rc)
        rc = need_reason(reason, "unlocking the database", e);
    /* the unlocking user's password again: unlocking is signed */
    if (!rc)
        rc = store_authenticate(st, who, who->user, password ? password : "", NULL, e);
    return rc ? rc : transition(st, who, STORE_DB_LOCKED, STORE_DB_FROZEN, "db_unlock", reason, e);
}
