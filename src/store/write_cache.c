#include "base/array.h"
/* The write path's cache of one record (write_int.h, struct putcache): its stored values,
#include "base/array.h"
 * kept in step with every write and, inside a batch, across the change sets of that record;
#include "base/array.h"
 * and the form statuses one change set reads or writes. Validation, calc recomputation and the
#include "base/array.h"
 * required-field check cost a hash lookup instead of a query. */
#include "base/array.h"
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "store/write_int.h"

#include "base/array.h"
static size_t putcache_slot_hash(int ev, int instance, size_t fi, const char *code)
#include "base/array.h"
{
#include "base/array.h"
    size_t h = (size_t)fi * 0x9E3779B1u ^ (size_t)ev * 0x85EBCA77u ^ (size_t)instance * 0xC2B2AE3Du;
#include "base/array.h"
    for (; *code; code++)
#include "base/array.h"
        h = (h ^ (unsigned char)*code) * 0x01000193u;
#include "base/array.h"
    return h;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* The cache entry for a slot: the entry itself, or the free entry where it would go. */
#include "base/array.h"
struct cached_value *store_putcache_slot_find(struct put_state *ps, int ev, int instance, size_t fi,
#include "base/array.h"
                                              const char *code)
#include "base/array.h"
{
#include "base/array.h"
    struct putcache *pc = ps->pc;
#include "base/array.h"
    size_t mask = pc->valcap - 1;
#include "base/array.h"
    for (size_t i = putcache_slot_hash(ev, instance, fi, code) & mask;; i = (i + 1) & mask) {
#include "base/array.h"
        struct cached_value *cv = &pc->vals[i];
#include "base/array.h"
        if (!cv->is_used || (cv->ev == ev && cv->instance == instance && cv->fi == fi &&
#include "base/array.h"
                             strcmp(cv->code, code) == 0))
#include "base/array.h"
            return cv;
#include "base/array.h"
    }
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static struct form_count *form_count_find(const struct putcache *pc, int ev, int instance,
#include "base/array.h"
                                          size_t fi)
#include "base/array.h"
{
#include "base/array.h"
    size_t mask = pc->formcap - 1;
#include "base/array.h"
    for (size_t i = putcache_slot_hash(ev, instance, fi, "") & mask;; i = (i + 1) & mask) {
#include "base/array.h"
        struct form_count *fc = &pc->forms[i];
#include "base/array.h"
        if (!fc->is_used || (fc->ev == ev && fc->instance == instance && fc->fi == fi))
#include "base/array.h"
            return fc;
#include "base/array.h"
    }
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* Adds delta to form fi's count of values at (ev, instance). */
#include "base/array.h"
static int form_count_add(struct putcache *pc, int ev, int instance, size_t fi, long delta)
#include "base/array.h"
{
#include "base/array.h"
    if ((pc->nforms + 1) * 2 > pc->formcap) {
#include "base/array.h"
        size_t ocap = pc->formcap, ncap = array_next_cap(ocap, sizeof *pc->forms, 64);
#include "base/array.h"
        struct form_count *old = pc->forms,
                          *n = ncap ? arena_calloc(&pc->ar, ncap, sizeof *n) : NULL;
#include "base/array.h"
        if (!n)
#include "base/array.h"
            return ERR_NOMEM;
#include "base/array.h"
        pc->forms = n;
#include "base/array.h"
        pc->formcap = ncap;
#include "base/array.h"
        for (size_t i = 0; i < ocap; i++)
#include "base/array.h"
            if (old[i].is_used)
#include "base/array.h"
                *form_count_find(pc, old[i].ev, old[i].instance, old[i].fi) = old[i];
#include "base/array.h"
    }
#include "base/array.h"
    struct form_count *fc = form_count_find(pc, ev, instance, fi);
#include "base/array.h"
    if (!fc->is_used) {
#include "base/array.h"
        *fc = (struct form_count){true, ev, instance, fi, 0};
#include "base/array.h"
        pc->nforms++;
#include "base/array.h"
    }
#include "base/array.h"
    fc->n += delta;
#include "base/array.h"
    return 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
bool store_putcache_form_has_data(const struct put_state *ps, int ev, size_t fi, int instance)
#include "base/array.h"
{
#include "base/array.h"
    const struct putcache *pc = ps->pc;
#include "base/array.h"
    if (!pc->formcap)
#include "base/array.h"
        return false;
#include "base/array.h"
    const struct form_count *fc = form_count_find(pc, ev, instance, fi);
#include "base/array.h"
    return fc->is_used && fc->n > 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
int store_putcache_slot_set(struct put_state *ps, int ev, int instance, size_t fi, const char *code,
#include "base/array.h"
                            const char *value)
#include "base/array.h"
{
#include "base/array.h"
    struct putcache *pc = ps->pc;
#include "base/array.h"
    if ((pc->nvals + 1) * 2 > pc->valcap) {
#include "base/array.h"
        size_t ncap = array_next_cap(pc->valcap, sizeof *pc->vals, 64);
#include "base/array.h"
        struct cached_value *old = pc->vals,
                            *n = ncap ? arena_calloc(&pc->ar, ncap, sizeof *n) : NULL;
#include "base/array.h"
        if (!n)
#include "base/array.h"
            return ERR_NOMEM;
#include "base/array.h"
        size_t ocap = pc->valcap;
#include "base/array.h"
        pc->vals = n;
#include "base/array.h"
        pc->valcap = ncap;
#include "base/array.h"
        for (size_t i = 0; i < ocap; i++)
#include "base/array.h"
            if (old[i].is_used)
#include "base/array.h"
                *store_putcache_slot_find(ps, old[i].ev, old[i].instance, old[i].fi, old[i].code) =
#include "base/array.h"
                    old[i];
#include "base/array.h"
    }
#include "base/array.h"
    struct cached_value *cv = store_putcache_slot_find(ps, ev, instance, fi, code);
#include "base/array.h"
    if (!cv->is_used) {
#include "base/array.h"
        const char *c = *code ? arena_strdup(&pc->ar, code) : "";
#include "base/array.h"
        if (!c)
#include "base/array.h"
            return ERR_NOMEM;
#include "base/array.h"
        *cv = (struct cached_value){true, ev, instance, fi, c, NULL};
#include "base/array.h"
        pc->nvals++;
#include "base/array.h"
    }
#include "base/array.h"
    const char *v = value ? arena_strdup(&pc->ar, value) : NULL;
#include "base/array.h"
    if (value && !v)
#include "base/array.h"
        return ERR_NOMEM;
#include "base/array.h"
    long delta = (v != NULL) - (cv->value != NULL);
#include "base/array.h"
    cv->value = v;
#include "base/array.h"
    const struct dict *d = &ps->st->dict;
#include "base/array.h"
    return delta ? form_count_add(pc, ev, instance, d->fields[fi].form_index, delta) : 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
void store_putcache_drop(struct putcache *pc)
#include "base/array.h"
{
#include "base/array.h"
    if (!pc)
#include "base/array.h"
        return;
#include "base/array.h"
    arena_free(&pc->ar);
#include "base/array.h"
    memset(pc, 0, sizeof *pc);
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
int store_putcache_values_load(struct put_state *ps, struct err *e)
#include "base/array.h"
{
#include "base/array.h"
    struct store *st = ps->st;
#include "base/array.h"
    if (!st->putcache && !(st->putcache = calloc(1, sizeof *st->putcache)))
#include "base/array.h"
        return err_set(e, ERR_NOMEM, "out of memory");
#include "base/array.h"
    struct putcache *pc = ps->pc = st->putcache;
#include "base/array.h"
    if (st->in_batch && pc->record_id == ps->r->id && pc->valcap && pc->rollbacks == st->rollbacks)
#include "base/array.h"
        return 0; /* kept from the batch's last change set of this record, nothing undone since */
#include "base/array.h"
    store_putcache_drop(pc);
#include "base/array.h"
    const struct dict *d = &st->dict;
#include "base/array.h"
    pc->valcap = 256; /* a power of two; store_putcache_slot_set doubles it past half full */
#include "base/array.h"
    if (!(pc->vals = arena_calloc(&pc->ar, pc->valcap, sizeof *pc->vals)))
#include "base/array.h"
        return err_set(e, ERR_NOMEM, "out of memory");
#include "base/array.h"
    sqlite3_stmt *s = store_stmt_get(st, SQ_VAL_RECORD, e);
#include "base/array.h"
    if (!s)
#include "base/array.h"
        return ERR_IO;
#include "base/array.h"
    store_bind_int64(st, s, 1, ps->r->id);
#include "base/array.h"
    int q;
#include "base/array.h"
    while ((q = store_step(st, s)) == SQLITE_ROW) {
#include "base/array.h"
        int ev = dict_event_index(d, (const char *)sqlite3_column_text(s, 0));
#include "base/array.h"
        const struct dict_field *f = dict_field(d, (const char *)sqlite3_column_text(s, 2));
#include "base/array.h"
        if (ev < 0 || !f)
#include "base/array.h"
            continue; /* not in the protocol: nothing in the write path can ask for it */
#include "base/array.h"
            /* the write path works on clear text: an identifier is decrypted here, encrypted again
    #include "base/array.h"
             * by value_write */
#include "base/array.h"
        const char *v = (const char *)sqlite3_column_text(s, 4);
#include "base/array.h"
        int drc = store_is_encrypted(v) ? store_decrypt(st, v, &ps->ar, &v, e) : 0;
#include "base/array.h"
        if (drc) {
#include "base/array.h"
            sqlite3_reset(s);
#include "base/array.h"
            store_putcache_drop(pc);
#include "base/array.h"
            return drc;
#include "base/array.h"
        }
#include "base/array.h"
        if (store_putcache_slot_set(ps, ev, sqlite3_column_int(s, 1), (size_t)(f - d->fields),
#include "base/array.h"
                                    (const char *)sqlite3_column_text(s, 3), v)) {
#include "base/array.h"
            sqlite3_reset(s);
#include "base/array.h"
            store_putcache_drop(pc);
#include "base/array.h"
            return err_set(e, ERR_NOMEM, "out of memory");
#include "base/array.h"
        }
#include "base/array.h"
    }
#include "base/array.h"
    sqlite3_reset(s);
#include "base/array.h"
    if (q != SQLITE_DONE) {
#include "base/array.h"
        store_putcache_drop(pc);
#include "base/array.h"
        return store_db_fail(st, e, "reading the record's values");
#include "base/array.h"
    }
#include "base/array.h"
    pc->record_id = ps->r->id;
#include "base/array.h"
    pc->rollbacks = st->rollbacks;
#include "base/array.h"
    return 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* The stored value at a key (NULL when none); points into the arena. */
#include "base/array.h"
int store_putcache_value_read(struct put_state *ps, const char *event, int instance,
#include "base/array.h"
                              const char *field, const char *code, char **out, struct err *e)
#include "base/array.h"
{
#include "base/array.h"
    const struct dict *d = &ps->st->dict;
#include "base/array.h"
    int ev = dict_event_index(d, event);
#include "base/array.h"
    const struct dict_field *f = dict_field(d, field);
#include "base/array.h"
    if (ev < 0 || !f)
#include "base/array.h"
        return err_set(e, ERR_INTERNAL, "reading '%s' at '%s': not in the protocol", field, event);
#include "base/array.h"
    struct cached_value *cv =
#include "base/array.h"
        store_putcache_slot_find(ps, ev, instance, (size_t)(f - d->fields), code ? code : "");
#include "base/array.h"
    *out = cv->is_used ? (char *)cv->value : NULL; /* NULL too once deleted */
#include "base/array.h"
    return 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
int store_putcache_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
#include "base/array.h"
                             struct expr_value *out, struct err *e)
#include "base/array.h"
{
#include "base/array.h"
    struct cached_lookup *lk = ctx;
#include "base/array.h"
    const struct dict *d = &lk->ps->st->dict;
#include "base/array.h"
    if (expr_is_smart(field)) {
#include "base/array.h"
        dict_smart_value(d, field, lk->event, lk->instance, lk->ps->rname, out);
#include "base/array.h"
        return 0;
#include "base/array.h"
    }
#include "base/array.h"
    const struct dict_field *f;
#include "base/array.h"
    const char *ev;
#include "base/array.h"
    int evi, inst;
#include "base/array.h"
    int rc =
#include "base/array.h"
        store_value_ref_resolve(d, lk->event, lk->instance, event, field, &f, &ev, &evi, &inst, e);
#include "base/array.h"
    if (rc)
#include "base/array.h"
        return rc;
#include "base/array.h"
    out->kind = EV_BLANK;
#include "base/array.h"
    out->num = 0;
#include "base/array.h"
    out->str = "";
#include "base/array.h"
    if (f->type == FT_CHECKBOX && !code)
#include "base/array.h"
        return 0;
#include "base/array.h"
    struct cached_value *cv = store_putcache_slot_find(lk->ps, evi, inst, (size_t)(f - d->fields),
#include "base/array.h"
                                                       f->type == FT_CHECKBOX ? code : "");
#include "base/array.h"
    if (cv->is_used && cv->value) {
#include "base/array.h"
        out->kind = EV_STR;
#include "base/array.h"
        out->str = cv->value;
#include "base/array.h"
    } else if (f->type == FT_CHECKBOX) {
#include "base/array.h"
        out->kind = EV_STR;
#include "base/array.h"
        out->str = "0";
#include "base/array.h"
    }
#include "base/array.h"
    return 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static struct cached_status *putcache_status_find(struct put_state *ps, const char *event,
#include "base/array.h"
                                                  const char *form, int instance)
#include "base/array.h"
{
#include "base/array.h"
    for (size_t i = 0; i < ps->nsts; i++) {
#include "base/array.h"
        struct cached_status *cs = &ps->sts[i];
#include "base/array.h"
        if (cs->instance == instance && (cs->form == form || strcmp(cs->form, form) == 0) &&
#include "base/array.h"
            (cs->event == event || strcmp(cs->event, event) == 0))
#include "base/array.h"
            return cs;
#include "base/array.h"
    }
#include "base/array.h"
    return NULL;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* Remembers a status read or written (event and form must outlive the change set). */
#include "base/array.h"
int store_putcache_status_remember(struct put_state *ps, const char *event, const char *form,
#include "base/array.h"
                                   int instance, int status)
#include "base/array.h"
{
#include "base/array.h"
    struct cached_status *cs = putcache_status_find(ps, event, form, instance);
#include "base/array.h"
    if (!cs) {
#include "base/array.h"
        struct cached_status *n =
#include "base/array.h"
            arena_grow(&ps->ar, ps->sts, ps->nsts, &ps->stscap, sizeof *n, 16);
#include "base/array.h"
        if (!n)
#include "base/array.h"
            return ERR_NOMEM;
#include "base/array.h"
        ps->sts = n;
#include "base/array.h"
        cs = &ps->sts[ps->nsts++];
#include "base/array.h"
        *cs = (struct cached_status){event, form, instance, status};
#include "base/array.h"
    }
#include "base/array.h"
    cs->status = status;
#include "base/array.h"
    return 0;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* The form status at (event, form, instance), -1 when none; event and form are the
#include "base/array.h"
 * dictionary's strings. Read once per change set, then from memory. */
#include "base/array.h"
int store_putcache_status_read(struct put_state *ps, const char *event, const char *form,
#include "base/array.h"
                               int instance, int *out, struct err *e)
#include "base/array.h"
{
#include "base/array.h"
    const struct cached_status *cs = putcache_status_find(ps, event, form, instance);
#include "base/array.h"
    if (cs) {
#include "base/array.h"
        *out = cs->status;
#include "base/array.h"
        return 0;
#include "base/array.h"
    }
#include "base/array.h"
    sqlite3_stmt *s = store_stmt_get(ps->st, SQ_FS_GET, e);
#include "base/array.h"
    if (!s)
#include "base/array.h"
        return ERR_IO;
#include "base/array.h"
    store_bind_int64(ps->st, s, 1, ps->r->id);
#include "base/array.h"
    store_bind_text(ps->st, s, 2, event);
#include "base/array.h"
    store_bind_text(ps->st, s, 3, form);
#include "base/array.h"
    store_bind_int64(ps->st, s, 4, instance);
#include "base/array.h"
    int q = store_step(ps->st, s);
#include "base/array.h"
    *out = q == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
#include "base/array.h"
    sqlite3_reset(s);
#include "base/array.h"
    if (q != SQLITE_ROW && q != SQLITE_DONE)
#include "base/array.h"
        return store_db_fail(ps->st, e, "reading form status");
#include "base/array.h"
    return store_putcache_status_remember(ps, event, form, instance, *out)
#include "base/array.h"
               ? err_set(e, ERR_NOMEM, "out of memory")
#include "base/array.h"
               : 0;
#include "base/array.h"
}
