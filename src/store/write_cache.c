/* The write path's cache of one record (write_int.h, struct putcache): its stored values,
 * kept in step with every write and, inside a batch, across the change sets of that record;
 * and the form statuses one change set reads or writes. Validation, calc recomputation and the
 * required-field check cost a hash lookup instead of a query. */
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/strbuf.h"
#include "core/validate.h"
#include "store/write_int.h"

static size_t putcache_slot_hash(int ev, int instance, size_t fi, const char *code)
{
    size_t h = (size_t)fi * 0x9E3779B1u ^ (size_t)ev * 0x85EBCA77u ^ (size_t)instance * 0xC2B2AE3Du;
    for (; *code; code++)
        h = (h ^ (unsigned char)*code) * 0x01000193u;
    return h;
}

/* The cache entry for a slot: the entry itself, or the free entry where it would go. */
struct cached_value *store_putcache_slot_find(struct put_state *ps, int ev, int instance, size_t fi,
                                              const char *code)
{
    struct putcache *pc = ps->pc;
    size_t mask = pc->valcap - 1;
    for (size_t i = putcache_slot_hash(ev, instance, fi, code) & mask;; i = (i + 1) & mask) {
        struct cached_value *cv = &pc->vals[i];
        if (!cv->is_used || (cv->ev == ev && cv->instance == instance && cv->fi == fi &&
                             strcmp(cv->code, code) == 0))
            return cv;
    }
}

static struct form_count *form_count_find(const struct putcache *pc, int ev, int instance,
                                          size_t fi)
{
    size_t mask = pc->formcap - 1;
    for (size_t i = putcache_slot_hash(ev, instance, fi, "") & mask;; i = (i + 1) & mask) {
        struct form_count *fc = &pc->forms[i];
        if (!fc->is_used || (fc->ev == ev && fc->instance == instance && fc->fi == fi))
            return fc;
    }
}

/* Adds delta to form fi's count of values at (ev, instance). */
static int form_count_add(struct putcache *pc, int ev, int instance, size_t fi, long delta)
{
    if ((pc->nforms + 1) * 2 > pc->formcap) {
        size_t ocap = pc->formcap, ncap = array_next_cap(ocap, sizeof *pc->forms, 64);
        struct form_count *old = pc->forms,
                          *n = ncap ? arena_calloc(&pc->ar, ncap, sizeof *n) : NULL;
        if (!n)
            return ERR_NOMEM;
        pc->forms = n;
        pc->formcap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].is_used)
                *form_count_find(pc, old[i].ev, old[i].instance, old[i].fi) = old[i];
    }
    struct form_count *fc = form_count_find(pc, ev, instance, fi);
    if (!fc->is_used) {
        *fc = (struct form_count){true, ev, instance, fi, 0};
        pc->nforms++;
    }
    fc->n += delta;
    return 0;
}

bool store_putcache_form_has_data(const struct put_state *ps, int ev, size_t fi, int instance)
{
    const struct putcache *pc = ps->pc;
    if (!pc->formcap)
        return false;
    const struct form_count *fc = form_count_find(pc, ev, instance, fi);
    return fc->is_used && fc->n > 0;
}

int store_putcache_slot_set(struct put_state *ps, int ev, int instance, size_t fi, const char *code,
                            const char *value)
{
    struct putcache *pc = ps->pc;
    if ((pc->nvals + 1) * 2 > pc->valcap) {
        size_t ncap = array_next_cap(pc->valcap, sizeof *pc->vals, 64);
        struct cached_value *old = pc->vals,
                            *n = ncap ? arena_calloc(&pc->ar, ncap, sizeof *n) : NULL;
        if (!n)
            return ERR_NOMEM;
        size_t ocap = pc->valcap;
        pc->vals = n;
        pc->valcap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].is_used)
                *store_putcache_slot_find(ps, old[i].ev, old[i].instance, old[i].fi, old[i].code) =
                    old[i];
    }
    struct cached_value *cv = store_putcache_slot_find(ps, ev, instance, fi, code);
    if (!cv->is_used) {
        const char *c = *code ? arena_strdup(&pc->ar, code) : "";
        if (!c)
            return ERR_NOMEM;
        *cv = (struct cached_value){true, ev, instance, fi, c, NULL};
        pc->nvals++;
    }
    const char *v = value ? arena_strdup(&pc->ar, value) : NULL;
    if (value && !v)
        return ERR_NOMEM;
    long delta = (v != NULL) - (cv->value != NULL);
    cv->value = v;
    const struct dict *d = &ps->st->dict;
    return delta ? form_count_add(pc, ev, instance, d->fields[fi].form_index, delta) : 0;
}

void store_putcache_drop(struct putcache *pc)
{
    if (!pc)
        return;
    arena_free(&pc->ar);
    memset(pc, 0, sizeof *pc);
}

int store_putcache_values_load(struct put_state *ps, struct err *e)
{
    struct store *st = ps->st;
    if (!st->putcache && !(st->putcache = calloc(1, sizeof *st->putcache)))
        return err_set(e, ERR_NOMEM, "out of memory");
    struct putcache *pc = ps->pc = st->putcache;
    if (st->in_batch && pc->record_id == ps->r->id && pc->valcap && pc->rollbacks == st->rollbacks)
        return 0; /* kept from the batch's last change set of this record, nothing undone since */
    store_putcache_drop(pc);
    const struct dict *d = &st->dict;
    pc->valcap = 256; /* a power of two; store_putcache_slot_set doubles it past half full */
    if (!(pc->vals = arena_calloc(&pc->ar, pc->valcap, sizeof *pc->vals)))
        return err_set(e, ERR_NOMEM, "out of memory");
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_RECORD, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, ps->r->id);
    int q;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        int ev = dict_event_index(d, (const char *)store_sql_col_text(s, 0));
        const struct dict_field *f = dict_field(d, (const char *)store_sql_col_text(s, 2));
        if (ev < 0 || !f)
            continue; /* not in the protocol: nothing in the write path can ask for it */
        /* the write path works on clear text: an identifier is decrypted here, encrypted again
         * by value_write */
        const char *v = (const char *)store_sql_col_text(s, 4);
        int drc = store_is_encrypted(v) ? store_decrypt(st, v, &ps->ar, &v, e) : 0;
        if (drc) {
            store_sql_reset(s);
            store_putcache_drop(pc);
            return drc;
        }
        if (store_putcache_slot_set(ps, ev, store_sql_col_int(s, 1), (size_t)(f - d->fields),
                                    (const char *)store_sql_col_text(s, 3), v)) {
            store_sql_reset(s);
            store_putcache_drop(pc);
            return err_set(e, ERR_NOMEM, "out of memory");
        }
    }
    store_sql_reset(s);
    if (q != SQLITE_DONE) {
        store_putcache_drop(pc);
        return store_db_fail(st, e, "reading the record's values");
    }
    pc->record_id = ps->r->id;
    pc->rollbacks = st->rollbacks;
    return 0;
}

/* The stored value at a key (NULL when none); points into the arena. */
int store_putcache_value_read(struct put_state *ps, const char *event, int instance,
                              const char *field, const char *code, char **out, struct err *e)
{
    const struct dict *d = &ps->st->dict;
    int ev = dict_event_index(d, event);
    const struct dict_field *f = dict_field(d, field);
    if (ev < 0 || !f)
        return err_set(e, ERR_INTERNAL, "reading '%s' at '%s': not in the protocol", field, event);
    struct cached_value *cv =
        store_putcache_slot_find(ps, ev, instance, (size_t)(f - d->fields), code ? code : "");
    *out = cv->is_used ? (char *)cv->value : NULL; /* NULL too once deleted */
    return 0;
}

/* store_bounds_fn over the cache: the form counts of the record's (event, instance, form). */
static int cached_bounds(void *ctx, int evi, const struct dict_field *f, int *first, int *last,
                         struct err *e)
{
    (void)e;
    const struct putcache *pc = ((const struct cached_lookup *)ctx)->ps->pc;
    for (size_t i = 0; i < pc->formcap; i++) {
        const struct form_count *fc = &pc->forms[i];
        if (!fc->is_used || fc->n <= 0 || fc->ev != evi || fc->fi != f->form_index ||
            fc->instance < 1)
            continue;
        if (!*first || fc->instance < *first)
            *first = fc->instance;
        if (fc->instance > *last)
            *last = fc->instance;
    }
    return 0;
}

int store_putcache_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                             int instance, struct expr_value *out, struct err *e)
{
    struct cached_lookup *lk = ctx;
    const struct dict *d = &lk->ps->st->dict;
    if (expr_is_smart(field)) {
        const struct dict_smart_who who = {lk->ps->rname, lk->ps->r->site,
                                           store_user_dag(lk->ps->st)};
        dict_smart_value(d, field, lk->event, lk->instance, &who, out);
        return 0;
    }
    const struct dict_field *f;
    const char *ev;
    int evi, inst;
    int rc = store_value_ref_resolve(d, lk->event, lk->instance, event, field, instance,
                                     cached_bounds, lk, &f, &ev, &evi, &inst, e);
    if (rc)
        return rc;
    out->kind = EV_BLANK;
    out->num = 0;
    out->str = "";
    if (f->type == FT_CHECKBOX && !code)
        return 0;
    if (inst < 0) { /* no such instance: blank, an unticked option */
        if (f->type == FT_CHECKBOX)
            *out = (struct expr_value){EV_STR, 0, "0"};
        return 0;
    }
    struct cached_value *cv = store_putcache_slot_find(lk->ps, evi, inst, (size_t)(f - d->fields),
                                                       f->type == FT_CHECKBOX ? code : "");
    if (cv->is_used && cv->value) {
        validate_logic_value(f, cv->value, out);
    } else if (f->type == FT_CHECKBOX) {
        out->kind = EV_STR;
        out->str = "0";
    }
    return 0;
}

int store_putcache_eval_text(struct put_state *ps, const struct expr *x, const struct dict_field *f,
                             const char *event, int instance, char **out, struct err *e)
{
    struct cached_lookup lk = {ps, event, instance};
    struct expr_value v;
    struct err ee;
    err_clear(&ee);
    if (expr_eval(x, store_putcache_lookup_fn, &lk, store_now_ms(ps->st), &ps->ar, &v, &ee))
        return err_set_field(e, ERR_INTERNAL, f->name, "field '%s' at %s: %s", f->name, event,
                             ee.msg);
    struct strbuf sb = STRBUF_INIT;
    expr_value_format(&v, &sb);
    *out = arena_strdup(&ps->ar, strbuf_str(&sb));
    strbuf_release(&sb);
    return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

static struct cached_status *putcache_status_find(struct put_state *ps, const char *event,
                                                  const char *form, int instance)
{
    for (size_t i = 0; i < ps->nsts; i++) {
        struct cached_status *cs = &ps->sts[i];
        if (cs->instance == instance && (cs->form == form || strcmp(cs->form, form) == 0) &&
            (cs->event == event || strcmp(cs->event, event) == 0))
            return cs;
    }
    return NULL;
}

/* Remembers a status read or written (event and form must outlive the change set). */
int store_putcache_status_remember(struct put_state *ps, const char *event, const char *form,
                                   int instance, int status)
{
    struct cached_status *cs = putcache_status_find(ps, event, form, instance);
    if (!cs) {
        struct cached_status *n =
            arena_grow(&ps->ar, ps->sts, ps->nsts, &ps->stscap, sizeof *n, 16);
        if (!n)
            return ERR_NOMEM;
        ps->sts = n;
        cs = &ps->sts[ps->nsts++];
        *cs = (struct cached_status){event, form, instance, status};
    }
    cs->status = status;
    return 0;
}

/* The form status at (event, form, instance), -1 when none; event and form are the
 * dictionary's strings. Read once per change set, then from memory. */
int store_putcache_status_read(struct put_state *ps, const char *event, const char *form,
                               int instance, int *out, struct err *e)
{
    const struct cached_status *cs = putcache_status_find(ps, event, form, instance);
    if (cs) {
        *out = cs->status;
        return 0;
    }
    sqldb_stmt *s = store_stmt_get(ps->st, SQ_FS_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(ps->st, s, 1, ps->r->id);
    store_bind_text(ps->st, s, 2, event);
    store_bind_text(ps->st, s, 3, form);
    store_bind_int64(ps->st, s, 4, instance);
    int q = store_step(ps->st, s);
    *out = q == SQLITE_ROW ? store_sql_col_int(s, 0) : -1;
    store_sql_reset(s);
    if (q != SQLITE_ROW && q != SQLITE_DONE)
        return store_db_fail(ps->st, e, "reading form status");
    return store_putcache_status_remember(ps, event, form, instance, *out)
               ? err_set(e, ERR_NOMEM, "out of memory")
               : 0;
}
