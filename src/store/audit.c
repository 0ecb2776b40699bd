/* The audit trail: an append-only, hash-chained log of every change and every security event.
 *
 * Canonical bytes of a row (what its hash covers, besides the previous hash). The columns in
 * this fixed order:
 *     id, ts, user, action, record, event, instance, field, old_value, new_value, reason,
 *     source, source_sha256
 * each encoded as
 *     NULL      ->  "-;"
 *     a value   ->  <byte length in decimal> ":" <the bytes> ";"
 * with id and instance written as decimal integers (e.g. "2:17;"). The length prefix makes the
 * encoding unambiguous (no separator can be forged inside a value) and NULL distinct from "".
 *
 *     hash = lowercase hex of SHA-256( prev_hash || canonical bytes )
 *
 * where prev_hash is the previous row's hash as 64 ASCII hex characters, and 64 '0's for the
 * first row. audit_head (last id, last hash) is written in the transaction that appends rows,
 * once, before its COMMIT (store_tx_commit), so every committed state names the trail's last
 * row and deleting the last rows — which leaves a valid shorter chain — is detected too.
 * docs/security.md gives the same definition for independent verifiers. */
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/digest.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "store/snapshot.h"
#include "store/store_int.h"

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Appends "<len>:" for a length or integer, without printf: this runs for every column of
 * every audit row. */
static void canon_len(struct strbuf *sb, size_t n)
{
    char buf[24];
    size_t i = sizeof buf;
    buf[--i] = ':';
    do
        buf[--i] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    strbuf_add(sb, buf + i, sizeof buf - i);
}

void store_canon_str(struct strbuf *sb, const char *v)
{
    if (!v) {
        strbuf_adds(sb, "-;");
        return;
    }
    size_t n = strlen(v);
    canon_len(sb, n);
    strbuf_add(sb, v, n);
    strbuf_addc(sb, ';');
}

void store_canon_int(struct strbuf *sb, long long v, bool is_null)
{
    if (is_null) {
        strbuf_adds(sb, "-;");
        return;
    }
    char buf[24];
    size_t i = sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        buf[--i] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (v < 0)
        buf[--i] = '-';
    canon_len(sb, sizeof buf - i);
    strbuf_add(sb, buf + i, sizeof buf - i);
    strbuf_addc(sb, ';');
}

void store_audit_canonical(const struct store_audit_row *r, struct strbuf *sb)
{
    store_canon_int(sb, r->id, false);
    store_canon_str(sb, r->ts);
    store_canon_str(sb, r->user);
    store_canon_str(sb, r->action);
    store_canon_str(sb, r->record);
    store_canon_str(sb, r->event);
    store_canon_int(sb, r->instance, r->instance < 0);
    store_canon_str(sb, r->field);
    store_canon_str(sb, r->old_value);
    store_canon_str(sb, r->new_value);
    store_canon_str(sb, r->reason);
    store_canon_str(sb, r->source);
    store_canon_str(sb, r->source_sha256);
}

/* hash of r given prev (64 hex chars), into out (65 bytes). */
static int row_hash_in(struct strbuf *sb, const struct store_audit_row *r, const char *prev,
                       char out[65]);

static int row_hash(const struct store_audit_row *r, const char *prev, char out[65])
{
    struct strbuf sb = STRBUF_INIT;
    int rc = row_hash_in(&sb, r, prev, out);
    strbuf_release(&sb);
    return rc;
}

/* row_hash with a caller's buffer for the canonical bytes (reset first, left allocated). */
static int row_hash_in(struct strbuf *sb, const struct store_audit_row *r, const char *prev,
                       char out[65])
{
    strbuf_reset(sb);
    store_audit_canonical(r, sb);
    if (sb->failed) {
        strbuf_release(sb);
        return ERR_NOMEM;
    }
    struct digest h;
    digest_init(&h);
    digest_add(&h, prev, strlen(prev));
    digest_add(&h, strbuf_str(sb), sb->len);
    digest_hex(&h, out);
    return 0;
}

static int head_get(struct store *st, long long *last_id, char hash[65], struct err *e)
{
    if (st->is_head_known && st->tx_depth > 0) {
        *last_id = st->head_id;
        memcpy(hash, st->head_hash, 65);
        return 0;
    }
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_HEAD_GET, e);
    if (!s)
        return ERR_IO;
    int r = store_step(st, s);
    if (r == SQLITE_ROW) {
        *last_id = store_sql_col_int64(s, 0);
        store_col_copy(s, 1, hash, 65);
    } else if (r == SQLITE_DONE) {
        *last_id = 0;
        memcpy(hash, zero_hash, 65);
    } else {
        return store_db_fail(st, e, "reading the audit head");
    }
    store_sql_reset(s);
    return 0;
}

int store_audit_load_clock(struct store *st, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_LAST, e);
    if (!s)
        return ERR_IO;
    int r = store_step(st, s);
    if (r == SQLITE_ROW)
        st->last_audit_ms = store_ts_parse((const char *)store_sql_col_text(s, 0));
    else if (r != SQLITE_DONE)
        return store_db_fail(st, e, "reading the audit trail");
    store_sql_reset(s);
    return 0;
}

int store_text_check(const char *field, const char *what, const char *s, struct err *e)
{
    long bad = s ? utf8_not_text(s) : -1;
    if (bad == -2)
        return err_set_field(e, ERR_INVALID, field, "%s is not valid UTF-8 text", what);
    if (bad >= 0)
        return err_set_field(e, ERR_INVALID, field,
                             "%s holds the control character U+%04lX, which no export can carry",
                             what, (unsigned long)bad);
    return 0;
}

int store_reason_check(const char *reason, bool required, const char *what, struct err *e)
{
    if (required && (!reason || !*reason))
        return err_set_field(e, ERR_REASON_REQUIRED, "reason", "%s needs a reason", what);
    return store_text_check("reason", "the reason", reason, e);
}

int store_audit_append(struct store *st, const struct store_ctx *who, const struct audit_entry *a,
                       struct err *e)
{
    long long last_id;
    char prev[65], hash[65], ts[32];
    int rc = head_get(st, &last_id, prev, e);
    if (rc)
        return rc;
    long long now = store_now_ms(st);
    if (now < st->last_audit_ms)
        now = st->last_audit_ms;
    store_ts_format(now, ts);
    struct store_audit_row row = {
        .id = last_id + 1,
        .ts = ts,
        .user = who->user,
        .action = a->action,
        .record = a->record,
        .event = a->event,
        .instance = a->instance,
        .field = a->field,
        .old_value = a->old_value,
        .new_value = a->new_value,
        .reason = a->reason,
        .source = who->source ? who->source : "system",
        .source_sha256 = who->source_sha256,
    };
    if (row_hash_in(&st->canon, &row, prev, hash))
        return err_set(e, ERR_NOMEM, "out of memory");
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_INSERT, e);
    if (!s)
        return ERR_IO;
    /* A bind that fails (out of memory, a value over SQLite's length limit) would leave its
     * column NULL: the row would be stored unlike the bytes its hash covers. The bind helpers
     * record it and the run fails with it, aborting the change set with its audit rows. */
    store_bind_int64(st, s, 1, row.id);
    store_bind_text_static(st, s, 2, row.ts);
    store_bind_text_static(st, s, 3, row.user);
    store_bind_text_static(st, s, 4, row.action);
    store_bind_text_static(st, s, 5, row.record);
    store_bind_text_static(st, s, 6, row.event);
    if (row.instance < 0)
        store_bind_null(st, s, 7);
    else
        store_bind_int64(st, s, 7, row.instance);
    store_bind_text_static(st, s, 8, row.field);
    store_bind_text_static(st, s, 9, row.old_value);
    store_bind_text_static(st, s, 10, row.new_value);
    store_bind_text_static(st, s, 11, row.reason);
    store_bind_text_static(st, s, 12, row.source);
    store_bind_text_static(st, s, 13, row.source_sha256);
    store_bind_text_static(st, s, 14, prev);
    store_bind_text_static(st, s, 15, hash);
    /* the strings bound above are not copied (store_bind_text_static): store_stmt_run_unbind clears
     * them before this function's buffers go */
    if (store_stmt_run_unbind(st, s, "appending to the audit trail", e))
        return ERR_IO;
    st->last_audit_ms = now;
    st->head_id = row.id;
    memcpy(st->head_hash, hash, 65);
    st->is_head_known = st->tx_depth > 0;
    st->is_head_dirty = true;
    /* inside a transaction, audit_head is written before its COMMIT (store_tx_commit) */
    return st->tx_depth > 0 ? 0 : store_audit_head_flush(st, e);
}

int store_audit_head_flush(struct store *st, struct err *e)
{
    if (!st->is_head_dirty)
        return 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_HEAD_SET, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, st->head_id);
    store_bind_text(st, s, 2, st->head_hash);
    if (store_stmt_run(st, s, "updating the audit head", e))
        return ERR_IO;
    st->is_head_dirty = false;
    return 0;
}

static void row_from_stmt(sqldb_stmt *s, struct store_audit_row *r)
{
#define TXT(i) ((const char *)store_sql_col_text(s, i))
    r->id = store_sql_col_int64(s, 0);
    r->ts = TXT(1);
    r->user = TXT(2);
    r->action = TXT(3);
    r->record = TXT(4);
    r->event = TXT(5);
    r->instance = store_sql_col_type(s, 6) == SQLITE_NULL ? -1 : store_sql_col_int64(s, 6);
    r->field = TXT(7);
    r->old_value = TXT(8);
    r->new_value = TXT(9);
    r->reason = TXT(10);
    r->source = TXT(11);
    r->source_sha256 = TXT(12);
    r->prev_hash = TXT(13);
    r->hash = TXT(14);
#undef TXT
}

/* A redacted audit row: which of its values are masked (1 old, 2 new, 3 both). */
struct redacted {
    long long id;
    int cols;
};

/* The redacted audit rows, by id (*out malloc'ed, NULL when none). */
static int redacted_rows(struct store *st, struct redacted **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_REDACT_IDS, e);
    if (!s)
        return ERR_IO;
    size_t cap = 0;
    int r, rc = 0;
    while ((r = store_step(st, s)) == SQLITE_ROW) {
        struct redacted *g = array_grow(*out, *n, &cap, sizeof **out, 16);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        *out = g;
        g[*n].id = store_sql_col_int64(s, 0);
        g[(*n)++].cols = store_sql_col_int(s, 1);
    }
    if (!rc && r != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading redactions");
    store_sql_reset(s);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    long long x = ((const struct redacted *)a)->id, y = ((const struct redacted *)b)->id;
    return (x > y) - (x < y);
}

/* Steps s (bound by the caller) and calls fn per row; with mask, the old and new values of a
 * redacted row read "[redacted]" (every view and export; the chain's check reads them as they
 * are). */
static int audit_rows(struct store *st, sqldb_stmt *s, store_audit_fn fn, void *ctx, bool mask,
                      struct err *e)
{
    struct redacted *ids = NULL;
    size_t nids = 0;
    if (mask && redacted_rows(st, &ids, &nids, e)) {
        store_sql_reset(s);
        return e ? e->code : ERR_IO;
    }
    int r, rc = 0;
    while ((r = store_step(st, s)) == SQLITE_ROW) {
        struct store_audit_row row;
        row_from_stmt(s, &row);
        row.protocol_version = store_protocol_version_at(st, row.id);
        struct redacted key = {row.id, 0};
        const struct redacted *m = nids ? bsearch(&key, ids, nids, sizeof *ids, cmp_id) : NULL;
        if (m && (m->cols & 1) && row.old_value)
            row.old_value = STORE_REDACTED;
        if (m && (m->cols & 2) && row.new_value)
            row.new_value = STORE_REDACTED;
        struct arena ar = ARENA_INIT; /* an identifier's clear text, for this callback */
        if (mask) {
            row.old_value = store_reveal(st, NULL, row.old_value, &ar);
            row.new_value = store_reveal(st, NULL, row.new_value, &ar);
        }
        rc = fn(ctx, &row);
        arena_free(&ar);
        if (rc)
            break;
    }
    if (!rc && r != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading the audit trail");
    store_sql_reset(s);
    free(ids);
    return rc;
}

int store_audit_foreach(struct store *st, store_audit_fn fn, void *ctx, struct err *e)
{
    /* a reader of some sites reads the rows about their records, not the study's own */
    sqldb_stmt *s =
        store_stmt_get(st, store_site_reads_limited(st) ? SQ_AUDIT_SCOPED : SQ_AUDIT_ALL, e);
    if (!s)
        return ERR_IO;
    /* one read snapshot: the trail as of one moment (and, on PostgreSQL, read as a cursor) */
    bool own = st->tx_depth == 0 && !st->in_batch;
    int rc = own ? store_snapshot_begin(st, e) : 0;
    if (!rc)
        rc = audit_rows(st, s, fn, ctx, true, e);
    if (own)
        store_snapshot_end(st);
    return rc;
}

/* Runs statement id (the record's two names as ?1 and ?2, field as ?3 when given) and calls fn
 * per row. */
static int record_rows(struct store *st, const char *record, enum stmt_id id, const char *field,
                       store_audit_fn fn, void *ctx, struct err *e)
{
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    struct dict_key k;
    enum dict_key_kind kind = field ? dict_key_parse(&st->dict, field, &k) : DICT_KEY_FIELD;
    if (kind != DICT_KEY_FIELD && kind != DICT_KEY_STATUS)
        return err_set_field(e, ERR_NOT_FOUND, field, "no field '%s' in the dictionary", field);
    sqldb_stmt *s = store_stmt_get(st, id, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, r.screening_no);
    store_bind_text(st, s, 2, r.study_id[0] ? r.study_id : r.screening_no);
    if (field)
        store_bind_text(st, s, 3, field);
    return audit_rows(st, s, fn, ctx, true, e);
}

int store_field_history(struct store *st, const char *record, const char *field, store_audit_fn fn,
                        void *ctx, struct err *e)
{
    return record_rows(st, record, SQ_AUDIT_HISTORY, field, fn, ctx, e);
}

int store_record_audit(struct store *st, const char *record, const char *field, store_audit_fn fn,
                       void *ctx, struct err *e)
{
    return record_rows(st, record, field ? SQ_AUDIT_HISTORY : SQ_AUDIT_RECORD, field, fn, ctx, e);
}

void store_audit_chain_init(struct store_audit_chain *c)
{
    memset(c, 0, sizeof *c);
    c->expect_id = 1;
    memcpy(c->prev, zero_hash, 65);
}

int store_audit_chain_next(struct store_audit_chain *c, const struct store_audit_row *row)
{
    c->nrows++;
    const char *why = NULL;
    char calc[65];
    if (row->id != c->expect_id)
        why = row->id > c->expect_id ? "rows before it are missing (gap in ids)"
                                     : "id out of sequence";
    else if (!row->prev_hash || strcmp(row->prev_hash, c->prev) != 0)
        why = "prev_hash does not match the previous row's hash (a row was removed or "
              "inserted before it)";
    else if (row_hash(row, c->prev, calc) != 0)
        why = "out of memory";
    else if (!row->hash || strcmp(calc, row->hash) != 0)
        why = "its content does not match its hash (the row was edited, or inserted without "
              "a valid hash)";
    if (why) {
        c->first_bad_id = row->id;
        fmt_text(c->reason, sizeof c->reason, "%s", why);
        return 1;
    }
    fmt_exact(c->prev, sizeof c->prev, "%s", row->hash);
    c->expect_id = row->id + 1;
    return 0;
}

struct verify_state {
    struct store_verify_result *r;
    struct store_audit_chain c;
    int failed;
};

static int verify_row(void *ctx, const struct store_audit_row *row)
{
    struct verify_state *v = ctx;
    int bad = store_audit_chain_next(&v->c, row);
    v->r->nrows = v->c.nrows;
    if (bad) {
        v->r->first_bad_id = v->c.first_bad_id;
        fmt_text(v->r->reason, sizeof v->r->reason, "%s", v->c.reason);
        v->failed = 1;
    }
    return bad;
}

int store_audit_verify(struct store *st, struct store_verify_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    struct verify_state v = {.r = r};
    store_audit_chain_init(&v.c);
    /* One read transaction: the chain and the head are checked as of one moment (inside a
     * batch, the batch's transaction already is one). */
    bool own = st->tx_depth == 0;
    int rc = own ? store_exec_sql(st->db, "BEGIN", e) : 0;
    if (rc)
        return rc;
    sqldb_stmt *all = store_stmt_get(st, SQ_AUDIT_ALL, e);
    rc = all ? audit_rows(st, all, verify_row, &v, false, e) : ERR_IO; /* the bytes as stored */
    long long head_id = 0;
    char head_hash[65] = "";
    if (rc == 0 || v.failed)
        rc = v.failed ? 0 : head_get(st, &head_id, head_hash, e);
    if (own)
        store_exec_sql(st->db, "COMMIT", NULL);
    if (rc)
        return rc;
    if (!v.failed) {
        long long last = v.c.expect_id - 1;
        if (head_id != last || strcmp(head_hash, last ? v.c.prev : zero_hash) != 0) {
            r->first_bad_id = head_id > last ? last + 1 : head_id;
            if (r->first_bad_id == 0)
                r->first_bad_id = 1;
            fmt_text(r->reason, sizeof r->reason,
                     "the audit head says %lld rows ending in %.16s…, the trail has %lld "
                     "(rows at the end were deleted, or the head was altered)",
                     head_id, head_hash, last);
            v.failed = 1;
        } else {
            fmt_exact(r->head_hash, sizeof r->head_hash, "%s", last ? v.c.prev : "");
        }
    }
    if (v.failed)
        return err_set(e, ERR_INTEGRITY, "audit trail broken at row %lld: %s", r->first_bad_id,
                       r->reason);
    return 0;
}

int store_audit_head(struct store *st, long long *nrows, char hash[65], struct err *e)
{
    int rc = head_get(st, nrows, hash, e);
    if (!rc && *nrows == 0)
        hash[0] = '\0';
    return rc;
}

int store_audit_content_time(struct store *st, char first[32], char last[32], struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_HEAD_TS, e);
    if (!s)
        return ERR_IO;
    first[0] = last[0] = '\0';
    int r = store_step(st, s);
    if (r == SQLITE_ROW) {
        store_col_copy(s, 0, first, 32);
        store_col_copy(s, 1, last, 32);
    }
    store_sql_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return store_db_fail(st, e, "reading the audit head's time");
    return 0;
}

int store_audit_access(struct store *st, const struct store_ctx *who, const char *action,
                       const char *what, const char *detail, struct err *e)
{
    if (!action || (strcmp(action, "export") != 0 && strcmp(action, "backup") != 0 &&
                    strcmp(action, "restore") != 0 && strcmp(action, "migrate") != 0))
        return err_set(e, ERR_INTERNAL,
                       "'%s' is not an access action (export, backup, restore, migrate)",
                       action ? action : "");
    /* an export of some sites' records says which (read before the write: its scope is the
     * reader's) */
    struct strbuf full = STRBUF_INIT, sites = STRBUF_INIT;
    int rc = store_reads_sites(st, &sites, e);
    strbuf_addf(&full, "%s", detail ? detail : "");
    if (sites.len)
        strbuf_addf(&full, " [%s only]", strbuf_str(&sites));
    strbuf_release(&sites);
    if (!rc && full.failed)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc) {
        strbuf_release(&full);
        return rc;
    }
    rc = store_user_require_active(st, who ? who->user : NULL, e);
    if (!rc) {
        struct audit_entry a = {
            .action = action, .instance = -1, .field = what, .new_value = strbuf_str(&full)};
        rc = store_audit_append(st, who, &a, e);
    }
    strbuf_release(&full);
    return store_tx_finish(st, rc, e);
}

struct csv_state {
    FILE *out;
    long long nrows;
};

static int csv_row(void *ctx, const struct store_audit_row *r)
{
    struct csv_state *cs = ctx;
    FILE *out = cs->out;
    struct strbuf sb = STRBUF_INIT;
    char num[32];
    fmt_exact(num, sizeof num, "%lld", r->id);
    const char *cells[15] = {num,       r->ts,     r->user,          r->action,    r->record,
                             r->event,  NULL,      r->field,         r->old_value, r->new_value,
                             r->reason, r->source, r->source_sha256, r->prev_hash, r->hash};
    char inst[32] = "";
    if (r->instance >= 0)
        fmt_exact(inst, sizeof inst, "%lld", r->instance);
    cells[6] = inst;
    for (int i = 0; i < 15; i++) {
        if (i)
            strbuf_addc(&sb, ',');
        strbuf_add_csv(&sb, cells[i] ? cells[i] : "");
    }
    strbuf_addc(&sb, '\n');
    int rc = sb.failed ? ERR_NOMEM : 0;
    if (!rc && fwrite(sb.buf, 1, sb.len, out) != sb.len)
        rc = ERR_IO;
    if (!rc)
        cs->nrows++;
    strbuf_release(&sb);
    return rc;
}

int store_audit_export_csv(struct store *st, FILE *out, long long *nrows, struct err *e)
{
    struct csv_state cs = {out, 0};
    if (fputs("id,ts,user,action,record,event,instance,field,old_value,new_value,reason,"
              "source,source_sha256,prev_hash,hash\n",
              out) == EOF)
        return err_set(e, ERR_IO, "writing the audit export failed");
    int rc = store_audit_foreach(st, csv_row, &cs, e);
    if (nrows)
        *nrows = cs.nrows;
    if (rc == ERR_IO && e && e->code == 0)
        err_set(e, ERR_IO, "writing the audit export failed");
    else if (rc == ERR_NOMEM)
        err_set(e, ERR_NOMEM, "out of memory");
    return rc;
}

/* ---- redaction ----------------------------------------------------------------------------*/

struct redact_walk {
    const char *event;
    long long instance;
    long long *ids;
    size_t n, cap;
    int failed;
};

static int redact_collect(void *ctx, const struct store_audit_row *row)
{
    struct redact_walk *w = ctx;
    if (!row->event || strcmp(row->event, w->event) != 0 || row->instance != w->instance ||
        (!row->old_value && !row->new_value))
        return 0;
    long long *g = array_grow(w->ids, w->n, &w->cap, sizeof *g, 8);
    if (!g)
        return w->failed = ERR_NOMEM;
    w->ids = g;
    g[w->n++] = row->id;
    return 0;
}

int store_redact(struct store *st, const struct store_ctx *who, const char *record,
                 const char *event, int instance, const char *key, const char *replacement,
                 const char *reason, size_t *nmasked, struct store_put_result *res, struct err *e)
{
    *nmasked = 0;
    int rc0 = store_reason_check(reason, true, "a redaction", e);
    if (rc0)
        return rc0;
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(&st->dict, key ? key : "", &k);
    if (kind != DICT_KEY_FIELD && kind != DICT_KEY_OPTION)
        return err_set_field(e, ERR_INVALID, "field", "'%s' is not a field of the protocol",
                             key ? key : "");
    if (k.field->type == FT_CALC)
        return err_set_field(e, ERR_INVALID, "field",
                             "'%s' is calculated: it holds nothing anyone typed", key);
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_change c = {event,
                             instance,
                             k.field->name,
                             kind == DICT_KEY_OPTION ? k.code : NULL,
                             replacement ? replacement : "",
                             NULL};
    rc = store_put_changes(st, who, record, &c, 1, reason, res, e);
    struct redact_walk w = {.event = event, .instance = instance};
    sqldb_stmt *s = NULL;
    if (!rc) {
        struct store_record r;
        rc = store_record_find(st, record, &r, e);
        s = rc ? NULL : store_stmt_get(st, SQ_AUDIT_HISTORY, e);
        if (!rc && !s)
            rc = ERR_IO;
        if (!rc) {
            store_bind_text(st, s, 1, r.screening_no);
            store_bind_text(st, s, 2, r.study_id[0] ? r.study_id : r.screening_no);
            store_bind_text(st, s, 3, key);
            rc = audit_rows(st, s, redact_collect, &w, false, e);
            if (!rc && w.failed)
                rc = err_set(e, ERR_NOMEM, "out of memory");
        }
        if (!rc) {
            char detail[96];
            fmt_exact(detail, sizeof detail, "%zu audited value(s) masked", w.n);
            struct audit_entry a = {.action = "redact",
                                    .record = store_record_name(&r),
                                    .event = event,
                                    .instance = instance,
                                    .field = key,
                                    .new_value = detail,
                                    .reason = reason};
            rc = store_audit_append(st, who, &a, e);
        }
    }
    long long redact_id = st->head_id;
    s = rc ? NULL : store_stmt_get(st, SQ_REDACT_INSERT, e);
    if (!rc && !s)
        rc = ERR_IO;
    /* the row that set the value the field now holds keeps its new value (the replacement)
     * readable: the change just made, or, when the replacement is the value already there (a
     * name typed, then corrected, then the history redacted), the row that set it */
    long long replacing = w.n ? w.ids[w.n - 1] : 0;
    for (size_t i = 0; !rc && i < w.n; i++) {
        store_bind_int64(st, s, 1, w.ids[i]);
        store_bind_int64(st, s, 2, w.ids[i] == replacing ? 1 : 3);
        store_bind_int64(st, s, 3, redact_id);
        rc = store_stmt_run(st, s, "recording a redaction", e);
    }
    free(w.ids);
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    *nmasked = w.n;
    return store_tx_commit(st, e);
}

int store_audit_changes(struct store *st, long long after_id, store_audit_change_fn fn, void *ctx,
                        struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_CHANGES, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, after_id);
    int q, rc = 0;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        rc = fn(ctx, store_sql_col_int64(s, 0), store_sql_col_int(s, 1) != 0,
                (const char *)store_sql_col_text(s, 2));
        if (rc)
            break;
    }
    if (!rc && q != SQLITE_DONE && q != SQLITE_ROW)
        rc = store_db_fail(st, e, "reading the audit trail");
    store_sql_reset(s);
    return rc;
}

int store_audit_hash_at(struct store *st, long long id, char hash[65], struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_AUDIT_HASH_AT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, id);
    int q = store_step(st, s), rc = 0;
    if (q == SQLITE_ROW)
        store_col_copy(s, 0, hash, 65);
    else if (q == SQLITE_DONE)
        rc = err_set(e, ERR_NOT_FOUND, "no audit row %lld", id);
    else
        rc = store_db_fail(st, e, "reading the audit trail");
    store_sql_reset(s);
    return rc;
}
