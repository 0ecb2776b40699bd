/* Electronic signatures (store.h, "electronic signatures"): signing with the password again,
 * the content hash a signature binds, the write path's hook that invalidates the signatures of
 * a changed record, and the check `audit verify` runs over every valid signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

/* ---- content ------------------------------------------------------------------------------*/

static int content_value(void *ctx, const struct store_value *v)
{
    struct strbuf *sb = ctx;
    strbuf_addc(sb, 'v');
    store_canon_str(sb, v->event);
    store_canon_int(sb, v->instance, false);
    store_canon_str(sb, v->field);
    store_canon_str(sb, v->code);
    store_canon_str(sb, v->value);
    return 0;
}

static int content_status(void *ctx, const struct store_form_state *s)
{
    struct strbuf *sb = ctx;
    strbuf_addc(sb, 's');
    store_canon_str(sb, s->event);
    store_canon_str(sb, s->form);
    store_canon_int(sb, s->instance, false);
    store_canon_int(sb, s->status, false);
    return 0;
}

int store_record_content_sha256(struct store *st, const char *record, char out[65], struct err *e)
{
    struct strbuf sb = STRBUF_INIT;
    /* what is signed is the clear text, whoever asks (and whatever key encrypts it) */
    bool was = st->reveal_internal;
    st->reveal_internal = true;
    int rc = store_record_values(st, record, content_value, &sb, e);
    st->reveal_internal = was;
    if (!rc)
        rc = store_form_states(st, record, content_status, &sb, e);
    if (!rc && sb.failed)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (!rc) {
        digest_sha256_hex(sb.buf ? sb.buf : "", sb.len, out);
    }
    strbuf_release(&sb);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------*/

static void sig_fill(sqldb_stmt *s, void *elem)
{
    struct store_signature *g = elem;
    memset(g, 0, sizeof *g);
    g->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, g->meaning, sizeof g->meaning);
    store_col_copy(s, 2, g->record, sizeof g->record);
    store_col_copy(s, 3, g->signer, sizeof g->signer);
    store_col_copy(s, 4, g->printed_name, sizeof g->printed_name);
    store_col_copy(s, 5, g->signed_at, sizeof g->signed_at);
    store_col_copy(s, 6, g->content_sha256, sizeof g->content_sha256);
    g->is_valid = store_sql_col_type(s, 7) == SQLITE_NULL;
    store_col_copy(s, 7, g->invalidated_at, sizeof g->invalidated_at);
    store_col_copy(s, 8, g->invalidated_reason, sizeof g->invalidated_reason);
}

int store_signatures(struct store *st, const char *record, struct store_signature **out, size_t *n,
                     struct err *e)
{
    *out = NULL;
    *n = 0;
    long long rid;
    int rc = store_record_filter(st, record, &rid, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_SIG_LIST, e);
    if (!s)
        return ERR_IO;
    if (rid && store_bind_int64(st, s, 1, rid))
        return store_db_fail(st, e, "listing signatures");
    void *arr = NULL;
    rc = store_rows_to_array(st, s, sizeof **out, sig_fill, &arr, n, "listing signatures", e);
    *out = arr;
    return rc;
}

int store_signatures_verify(struct store *st, size_t *nvalid, size_t *ninvalid, size_t *nbad,
                            struct err *e)
{
    *nvalid = *ninvalid = *nbad = 0;
    struct store_signature *g = NULL;
    size_t n = 0;
    int rc = store_signatures(st, NULL, &g, &n, e);
    char first[160] = "";
    for (size_t i = 0; !rc && i < n; i++) {
        if (!g[i].is_valid) {
            (*ninvalid)++;
            continue;
        }
        if (!g[i].record[0]) { /* a study signature: an approval at a point in time */
            (*nvalid)++;
            continue;
        }
        char now[65];
        rc = store_record_content_sha256(st, g[i].record, now, e);
        if (rc)
            break;
        if (strcmp(now, g[i].content_sha256) == 0) {
            (*nvalid)++;
        } else {
            if (!(*nbad)++)
                fmt_text(first, sizeof first, "signature %lld (%s, %s)", g[i].id, g[i].record,
                         g[i].meaning);
        }
    }
    free(g);
    if (!rc && *nbad)
        rc = err_set(e, ERR_INTEGRITY,
                     "%zu valid signature(s) do not match the data they signed, first %s: the "
                     "data changed outside ioheme",
                     *nbad, first);
    return rc;
}

/* ---- signing ------------------------------------------------------------------------------*/

int store_user_full_name(struct store *st, const char *user, char *out, size_t len, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_FULL_NAME, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, user);
    int step = store_step(st, s);
    if (step == SQLITE_ROW)
        store_col_copy(s, 0, out, len);
    store_sql_reset(s);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? err_set(e, ERR_AUTH, "unknown user '%s'", user)
                                   : store_db_fail(st, e, "reading a user's name");
    return 0;
}

int store_sign(struct store *st, const struct store_ctx *who, const char *password,
               const char *meaning, const char *record, long long *id, struct err *e)
{
    const struct dict_sig_meaning *m = dict_sig_meaning(&st->dict, meaning);
    if (!m)
        return err_set_field(e, ERR_INVALID, "meaning",
                             "no signature meaning '%s' in the protocol (signatures.csv)",
                             meaning ? meaning : "");
    bool is_study = m->scope == DICT_SIG_STUDY;
    if (is_study && record && *record)
        return err_set_field(e, ERR_INVALID, "record", "'%s' is signed for the study, not a record",
                             m->name);
    if (!is_study && (!record || !*record))
        return err_set_field(e, ERR_INVALID, "record", "'%s' is signed on a record: which one?",
                             m->name);
    int rc = store_db_require(st, true, e);
    if (rc)
        return rc;
    /* the password again: two components at every signing (P11-22); a failure counts toward
     * the lockout and is audited as a failed sign-in */
    struct store_user u;
    rc = store_authenticate(st, who, who->user, password ? password : "", &u, e);
    if (rc)
        return rc;
    rc = store_authorize(st, who, PERM_SIGN, e);
    if (rc)
        return rc;
    if (strcmp(u.role, m->role) != 0)
        return err_set_field(e, ERR_FORBIDDEN, "meaning",
                             "'%s' is signed by the %s, not by %s (%s)", m->label, m->role, u.name,
                             u.role);
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    char hash[65] = "", name[128] = "", ts[32];
    struct store_record r = {0};
    if (is_study) {
        long long nrows;
        rc = store_audit_head(st, &nrows, hash, e);
    } else {
        rc = store_record_find(st, record, &r, e);
        long long nopen = 0;
        char first[160];
        /* a casebook is signed once its forms are complete (P11-15) */
        if (!rc)
            rc = store_incomplete_forms(st, r.id, &nopen, first, sizeof first, e);
        if (!rc && nopen)
            rc = err_set_field(e, ERR_CONFLICT, "record",
                               "%lld form(s) of %s hold data but are not marked complete (first: "
                               "%s): a casebook is signed when its forms are complete",
                               nopen, record, first);
        if (!rc)
            rc = store_record_content_sha256(st, record, hash, e);
    }
    if (!rc)
        rc = store_user_full_name(st, who->user, name, sizeof name, e);
    store_ts_format(store_now_ms(st), ts);
    long long sid = 0;
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, SQ_SIG_INSERT, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, m->name);
        if (!is_study)
            store_bind_int64(st, s, 2, r.id);
        store_bind_text(st, s, 3, who->user);
        store_bind_text(st, s, 4, name);
        store_bind_text(st, s, 5, ts);
        store_bind_text(st, s, 6, hash);
        rc = store_stmt_row_id(st, s, &sid, "writing a signature", e);
    }
    if (!rc) {
        struct strbuf why = STRBUF_INIT;
        strbuf_addf(&why, "signature %lld by %s: %s; content sha256 %s", sid, name, m->label, hash);
        struct audit_entry a = {.action = "sign",
                                .record = is_study ? NULL : store_record_name(&r),
                                .instance = -1,
                                .new_value = m->name,
                                .reason = why.buf};
        rc = why.failed ? err_set(e, ERR_NOMEM, "out of memory")
                        : store_audit_append(st, who, &a, e);
        strbuf_release(&why);
    }
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    if ((rc = store_tx_commit(st, e)) != 0)
        return rc;
    if (id)
        *id = sid;
    return 0;
}

/* ---- invalidation (the write path's hook) ---------------------------------------------------*/

int store_signature_note_change(struct store *st, const struct store_ctx *who,
                                const struct store_record *r, int *has_sig, const char *event,
                                const char *what, struct err *e)
{
    if (*has_sig < 0) {
        sqldb_stmt *s = store_stmt_get(st, SQ_SIG_ANY_VALID, e);
        if (!s)
            return ERR_IO;
        store_bind_int64(st, s, 1, r->id);
        int step = store_step(st, s);
        store_sql_reset(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return store_db_fail(st, e, "looking for signatures");
        *has_sig = step == SQLITE_ROW;
    }
    if (!*has_sig)
        return 0;
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    struct strbuf why = STRBUF_INIT;
    strbuf_addf(&why, "%s at %s changed after signing", what, event);
    sqldb_stmt *s = store_stmt_get(st, SQ_SIG_INVALIDATE, e);
    if (!s) {
        strbuf_release(&why);
        return ERR_IO;
    }
    store_bind_int64(st, s, 1, r->id);
    store_bind_text(st, s, 2, ts);
    store_bind_text(st, s, 3, why.buf);
    struct {
        long long id;
        char meaning[64];
    } gone[16];
    size_t ngone = 0;
    int step;
    while ((step = store_step(st, s)) == SQLITE_ROW)
        if (ngone < 16) {
            gone[ngone].id = store_sql_col_int64(s, 0);
            store_col_copy(s, 1, gone[ngone].meaning, sizeof gone[ngone].meaning);
            ngone++;
        }
    store_sql_reset(s);
    int rc = step == SQLITE_DONE ? 0 : store_db_fail(st, e, "invalidating signatures");
    for (size_t i = 0; !rc && i < ngone; i++) {
        struct strbuf reason = STRBUF_INIT;
        strbuf_addf(&reason, "signature %lld: %s", gone[i].id, why.buf ? why.buf : "");
        struct audit_entry a = {.action = "signature_invalid",
                                .record = store_record_name(r),
                                .event = event,
                                .instance = -1,
                                .field = what,
                                .old_value = gone[i].meaning,
                                .reason = reason.buf};
        rc = store_audit_append(st, who, &a, e);
        strbuf_release(&reason);
    }
    strbuf_release(&why);
    *has_sig = 0; /* every valid one is invalid now */
    return rc;
}

/* ---- printed names -------------------------------------------------------------------------*/

int store_user_set_full_name(struct store *st, const struct store_ctx *who, const char *name,
                             const char *full_name, struct err *e)
{
    int rc = store_authorize(st, who, PERM_USER_MANAGE, e);
    if (rc)
        return rc;
    if ((rc = store_text_check("full_name", "the printed name", full_name, e)) != 0)
        return rc;
    size_t len = full_name ? strlen(full_name) : 0;
    if (len < 2 || len > 120)
        return err_set_field(e, ERR_INVALID, "full_name",
                             "a printed name has 2 to 120 characters ('%s' has %zu)",
                             full_name ? full_name : "", len);
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    char old[128] = "";
    rc = store_user_full_name(st, name, old, sizeof old, e);
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, SQ_USER_SET_FULL_NAME, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, name);
        store_bind_text(st, s, 2, full_name);
        rc = store_stmt_run(st, s, "setting a printed name", e);
    }
    if (!rc) {
        struct audit_entry a = {.action = "user_name",
                                .instance = -1,
                                .field = "user",
                                .old_value = old,
                                .new_value = full_name,
                                .reason = name};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

long long store_signature_valid_since(const struct store_signature *g, size_t n,
                                      const char *meaning, const char *record, const char *since)
{
    long long id = 0;
    for (size_t k = 0; k < n; k++)
        if (g[k].is_valid && strcmp(g[k].meaning, meaning) == 0 &&
            strcmp(g[k].record, record) == 0 && strcmp(g[k].signed_at, since) >= 0)
            id = g[k].id;
    return id;
}
