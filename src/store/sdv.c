/* Source data verification: marking stored values verified, clearing a verification when its
 * value changes (the write path's hook), and every value with its place in the protocol's SDV
 * plan (store.h, "source data verification"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/array.h"
#include "base/fmt.h"
#include "store/store_int.h"

int store_sdv_note_value(struct store *st, const struct store_ctx *who,
                         const struct store_record *r, int *has_sdv, const char *event,
                         int instance, const char *afield, const char *value, struct err *e)
{
    if (*has_sdv < 0) { /* once per change set: most records have no verified value yet */
        sqldb_stmt *s = store_stmt_get(st, SQ_SDV_ANY_ON_RECORD, e);
        if (!s)
            return ERR_IO;
        store_bind_int64(st, s, 1, r->id);
        int step = store_step(st, s);
        store_sql_reset(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return store_db_fail(st, e, "looking for verified values");
        *has_sdv = step == SQLITE_ROW;
    }
    if (!*has_sdv)
        return 0;
    struct dict_key k;
    if (dict_key_parse(&st->dict, afield, &k) == DICT_KEY_UNKNOWN)
        return 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_SDV_CLEAR, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r->id);
    store_bind_text(st, s, 2, event);
    store_bind_int64(st, s, 3, instance);
    store_bind_text(st, s, 4, k.field ? k.field->name : k.name);
    store_bind_text(st, s, 5, k.code ? k.code : "");
    int step = store_step(st, s);
    char *verified = NULL;
    if (step == SQLITE_ROW) {
        const unsigned char *v = store_sql_col_text(s, 0);
        verified = strdup(v ? (const char *)v : "");
        while ((step = store_step(st, s)) == SQLITE_ROW)
            ;
    }
    store_sql_reset(s);
    if (step != SQLITE_DONE) {
        free(verified);
        return store_db_fail(st, e, "clearing a verification");
    }
    if (!verified)
        return 0;
    struct audit_entry a = {.action = "sdv_clear",
                            .record = store_record_name(r),
                            .event = event,
                            .instance = instance,
                            .field = afield,
                            .old_value = verified,
                            .new_value = *value ? value : NULL,
                            .reason = "the verified value changed"};
    int rc = store_audit_append(st, who, &a, e);
    free(verified);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------*/

static const char *col(sqldb_stmt *s, int i)
{
    return (const char *)store_sql_col_text(s, i);
}

/* Every stored value of record (NULL: all) with its verification; reveal: identifiers as their
 * reader may see them (store_reveal), else as stored (what a verification records). */
static int sdv_values(struct store *st, const char *record, store_sdv_fn fn, void *ctx, bool reveal,
                      struct err *e)
{
    long long rid;
    int rc = store_record_filter(st, record, &rid, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_SDV_VALUES, e);
    if (!s)
        return ERR_IO;
    if (rid)
        store_bind_int64(st, s, 1, rid);
    const struct dict *d = &st->dict;
    int step;
    while (!rc && (step = store_step(st, s)) == SQLITE_ROW) {
        const struct dict_field *f = dict_field(d, col(s, 4));
        if (!f || f->type == FT_CALC)
            continue;
        struct store_sdv_value v = {.record = col(s, 0),
                                    .site = col(s, 10),
                                    .is_enrolled = store_sql_col_int(s, 1) != 0,
                                    .event = col(s, 2),
                                    .instance = store_sql_col_int(s, 3),
                                    .form = f->form,
                                    .form_index = f->form_index,
                                    .field = f->name,
                                    .code = col(s, 5) && *col(s, 5) ? col(s, 5) : NULL,
                                    .value = col(s, 6),
                                    .rate = dict_sdv_rate(d, f),
                                    .verified_by = col(s, 8),
                                    .verified_at = col(s, 9)};
        v.is_required = v.rate > 0 && dict_sdv_selected(v.rate, v.record);
        /* verified means: this value, as it stands (the hook keeps them equal) */
        v.is_verified = col(s, 7) && v.value && strcmp(col(s, 7), v.value) == 0;
        if (!v.is_verified)
            v.verified_by = v.verified_at = NULL;
        struct arena ar = ARENA_INIT;
        if (reveal)
            v.value = store_reveal(st, f, v.value, &ar);
        rc = fn(ctx, &v);
        arena_free(&ar);
    }
    store_sql_reset(s);
    if (rc)
        return rc;
    return step == SQLITE_DONE || step == SQLITE_ROW
               ? 0
               : store_db_fail(st, e, "reading verifications");
}

int store_sdv_values(struct store *st, const char *record, store_sdv_fn fn, void *ctx,
                     struct err *e)
{
    return sdv_values(st, record, fn, ctx, true, e);
}

/* ---- verifying ----------------------------------------------------------------------------*/

/* The values a verification covers, collected before anything is written (the reading
 * statement is not stepped while its tables change). */
struct pending {
    const char *field, *code, *value; /* in the arena; code "" for none */
};

struct verify_ctx {
    const char *event, *form;
    int instance;
    const struct dict_key *only; /* one field (and option), or NULL */
    size_t nseen;
    struct pending *queue;
    size_t nqueue, cap;
    struct arena ar;
};

static int collect_one(void *ctx, const struct store_sdv_value *v)
{
    struct verify_ctx *c = ctx;
    if (strcmp(v->event, c->event) != 0 || v->instance != c->instance ||
        strcmp(v->form, c->form) != 0)
        return 0;
    if (c->only && (strcmp(v->field, c->only->field->name) != 0 ||
                    (c->only->code && (!v->code || strcmp(v->code, c->only->code) != 0))))
        return 0;
    c->nseen++;
    if (v->is_verified)
        return 0;
    struct pending *n = arena_grow(&c->ar, c->queue, c->nqueue, &c->cap, sizeof *n, 16);
    if (!n)
        return ERR_NOMEM;
    c->queue = n;
    struct pending *p = &c->queue[c->nqueue++];
    p->field = arena_strdup(&c->ar, v->field);
    p->code = arena_strdup(&c->ar, v->code ? v->code : "");
    p->value = arena_strdup(&c->ar, v->value);
    return p->field && p->code && p->value ? 0 : ERR_NOMEM;
}

static int verify_one(struct store *st, const struct store_ctx *who, const struct store_record *r,
                      const char *event, int instance, const struct pending *p, const char *ts,
                      struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_SDV_UPSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r->id);
    store_bind_text(st, s, 2, event);
    store_bind_int64(st, s, 3, instance);
    store_bind_text(st, s, 4, p->field);
    store_bind_text(st, s, 5, p->code);
    store_bind_text(st, s, 6, p->value);
    store_bind_text(st, s, 7, who->user);
    store_bind_text(st, s, 8, ts);
    int rc = store_stmt_run(st, s, "writing a verification", e);
    char afield[300];
    if (!rc && !dict_key_format(p->field, *p->code ? p->code : NULL, afield, sizeof afield))
        rc = err_set(e, ERR_INVALID, "checkbox code '%s' is too long", p->code);
    if (rc)
        return rc;
    struct audit_entry a = {.action = "sdv_verify",
                            .record = store_record_name(r),
                            .event = event,
                            .instance = instance,
                            .field = afield,
                            .new_value = p->value};
    return store_audit_append(st, who, &a, e);
}

int store_sdv_verify(struct store *st, const struct store_ctx *who, const char *record,
                     const char *event, int instance, const char *form, const char *field,
                     size_t *n, struct err *e)
{
    int rc = store_authorize(st, who, PERM_SDV, e);
    if (!rc)
        rc = store_db_require(st, true, e);
    if (rc)
        return rc;
    const struct dict *d = &st->dict;
    const char *ev = event ? dict_event_find(d, event) : NULL;
    if (!ev)
        return err_set_field(e, ERR_INVALID, "event", "no event '%s' in the protocol",
                             event ? event : "");
    struct dict_key k;
    const struct dict_key *only = NULL;
    const struct dict_form *fm = form && *form ? dict_form(d, form) : NULL;
    if (form && *form && !fm)
        return err_set_field(e, ERR_INVALID, "form", "no form '%s' in the protocol", form);
    if (field && *field) {
        enum dict_key_kind kind = dict_key_parse(d, field, &k);
        if (kind != DICT_KEY_FIELD && kind != DICT_KEY_OPTION)
            return err_set_field(e, ERR_INVALID, "field", "field '%s' is not in the dictionary",
                                 field);
        if (fm && fm != k.form)
            return err_set_field(e, ERR_INVALID, "field", "field '%s' is on form '%s', not '%s'",
                                 k.field->name, k.form->name, fm->name);
        if (k.field->type == FT_CALC)
            return err_set_field(e, ERR_INVALID, "field",
                                 "field '%s' is calculated: nothing to verify against source",
                                 k.field->name);
        fm = k.form;
        only = &k;
    }
    if (!fm)
        return err_set_field(e, ERR_INVALID, "form", "which form? give a form or a field");
    char msg[400];
    const char *rule = dict_place_check(d, (size_t)dict_event_index(d, ev), (size_t)(fm - d->forms),
                                        instance, "verification", msg, sizeof msg);
    if (rule)
        return err_set_field(e, ERR_INVALID, strcmp(rule, "instance") == 0 ? "instance" : "event",
                             "%s", msg);
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    struct store_record r;
    struct verify_ctx c = {
        .event = ev, .form = fm->name, .instance = instance, .only = only, .ar = ARENA_INIT};
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    rc = store_record_find(st, record, &r, e);
    if (!rc)
        rc = sdv_values(st, record, collect_one, &c, false, e);
    if (rc == ERR_NOMEM)
        err_set(e, ERR_NOMEM, "out of memory");
    if (!rc && c.nseen == 0)
        rc = err_set_field(e, ERR_INVALID, field && *field ? "field" : "form",
                           "%s has no stored value of %s at %s to verify", record,
                           field && *field ? field : fm->name, ev);
    for (size_t i = 0; i < c.nqueue && !rc; i++)
        rc = verify_one(st, who, &r, ev, instance, &c.queue[i], ts, e);
    size_t nnew = c.nqueue;
    arena_free(&c.ar);
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    if ((rc = store_tx_commit(st, e)) != 0)
        return rc;
    if (n)
        *n = nnew;
    return 0;
}

/* ---- progress -----------------------------------------------------------------------------*/

struct progress_ctx {
    struct store_sdv_count *c;
    size_t n, cap;
    /* the current record's counts (values come record by record): its first in c, and where
     * each form's count is, slot[nforms] the total's (SIZE_MAX: none yet) */
    size_t first;
    size_t *slot, nforms;
    bool nomem;
};

static struct store_sdv_count *count_for(struct progress_ctx *p, const struct store_sdv_value *v,
                                         size_t form)
{
    if (p->slot[form] != SIZE_MAX)
        return &p->c[p->slot[form]];
    struct store_sdv_count *g = array_grow(p->c, p->n, &p->cap, sizeof *g, 32);
    if (!g)
        return NULL;
    p->c = g;
    p->slot[form] = p->n;
    struct store_sdv_count *c = &p->c[p->n++];
    memset(c, 0, sizeof *c);
    fmt_exact(c->record, sizeof c->record, "%s", v->record);                   /* a name (<= 100) */
    fmt_exact(c->site, sizeof c->site, "%s", v->site ? v->site : "");          /* a code (<= 18) */
    fmt_exact(c->form, sizeof c->form, "%s", form < p->nforms ? v->form : ""); /* <= 100 */
    return c;
}

static int progress_one(void *ctx, const struct store_sdv_value *v)
{
    struct progress_ctx *p = ctx;
    if (!v->is_enrolled)
        return 0;
    if (p->first == p->n || strcmp(p->c[p->first].record, v->record) != 0) { /* a new record */
        p->first = p->n;
        for (size_t i = 0; i <= p->nforms; i++)
            p->slot[i] = SIZE_MAX;
    }
    const size_t forms[2] = {v->form_index, p->nforms};
    for (int k = 0; k < 2; k++) {
        struct store_sdv_count *c = count_for(p, v, forms[k]);
        if (!c) {
            p->nomem = true;
            return ERR_NOMEM;
        }
        c->values++;
        c->required += v->is_required;
        c->required_verified += v->is_required && v->is_verified;
        c->other_verified += !v->is_required && v->is_verified;
    }
    return 0;
}

static int by_record_then_form(const void *a, const void *b)
{
    const struct store_sdv_count *x = a, *y = b;
    int c = strcmp(x->record, y->record);
    if (c)
        return c;
    if (!x->form[0] || !y->form[0]) /* the total last */
        return !x->form[0] - !y->form[0];
    return strcmp(x->form, y->form);
}

int store_sdv_progress(struct store *st, const char *record, struct store_sdv_count **out,
                       size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    struct progress_ctx p = {.nforms = st->dict.nforms};
    p.slot = malloc((p.nforms + 1) * sizeof *p.slot);
    if (!p.slot)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = sdv_values(st, record, progress_one, &p, false, e);
    free(p.slot);
    if (rc) {
        free(p.c);
        return p.nomem ? err_set(e, ERR_NOMEM, "out of memory") : rc;
    }
    if (p.n)
        qsort(p.c, p.n, sizeof *p.c, by_record_then_form);
    *out = p.c;
    *n = p.n;
    return 0;
}

bool store_sdv_plan_met(const struct store_sdv_count *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].required_verified < c[i].required)
            return false;
    return true;
}
