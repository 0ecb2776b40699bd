/* Branching logic: shown or hidden (see branch.h). */
#include "core/branch.h"

#include <string.h>

#include "core/validate.h"

int branch_is_shown(const struct dict_field *f, expr_lookup_fn lookup, void *ctx, long long now_ms,
                    struct arena *ar, bool *shown, struct err *e)
{
    *shown = true;
    if (!f->branching)
        return 0;
    struct expr_value v;
    struct err ee;
    err_clear(&ee);
    if (expr_eval(f->branching, lookup, ctx, now_ms, ar, &v, &ee))
        return err_set_field(e, ee.code ? ee.code : ERR_INVALID, f->name,
                             "branching logic of '%s' (%s): %s", f->name, f->branching_raw, ee.msg);
    *shown = expr_truthy(&v);
    return 0;
}

void branch_vtab_bounds(const struct dict *d, struct vtab *t, const char *event,
                        const struct dict_field *f, int *first, int *last)
{
    *first = *last = 0;
    const struct dict_form *fm = &d->forms[f->form_index];
    for (size_t k = 0; k < fm->nfields; k++) {
        const char *name = d->fields[fm->first_field + k].name;
        /* the instances that exist, never a range */
        for (int i = vtab_next_instance(t, event, name, 0); i;
             i = vtab_next_instance(t, event, name, i)) {
            if (!*first || i < *first)
                *first = i;
            if (i > *last)
                *last = i;
        }
    }
}

/* The store's reading rule (store_value_ref_resolve) over a value table. */
int branch_vtab_lookup(void *ctx, const char *event, const char *field, const char *code,
                       int instance, struct expr_value *out, struct err *e)
{
    struct branch_vtab_at *lk = ctx;
    if (expr_is_smart(field)) { /* the value table has no record name: [record-name] is blank */
        dict_smart_value(lk->d, field, lk->event, lk->instance, NULL, out);
        return 0;
    }
    const struct dict_field *f = dict_field(lk->d, field);
    if (!f)
        return err_set_field(e, ERR_NOT_FOUND, field, "no field '%s'", field);
    const char *ev = event ? event : lk->event;
    int evi = dict_event_index(lk->d, ev);
    int first = 0, last = 0;
    if (dict_ref_needs_bounds(lk->d, evi, f, instance))
        branch_vtab_bounds(lk->d, lk->t, ev, f, &first, &last);
    int inst = dict_ref_instance(lk->d, evi, f, ev == lk->event || strcmp(ev, lk->event) == 0,
                                 lk->instance, instance, first, last);
    out->kind = EV_BLANK;
    out->num = 0;
    out->str = "";
    if (f->type == FT_CHECKBOX && !code)
        return 0;
    const char *s =
        inst < 0 ? NULL : vtab_get(lk->t, ev, inst, field, f->type == FT_CHECKBOX ? code : NULL);
    if (s || f->type == FT_CHECKBOX)
        validate_logic_value(f, s ? s : "0", out);
    return 0;
}

int branch_vtab_hide(const struct dict *d, struct vtab *t, long long now_ms, branch_hidden_fn fn,
                     void *ctx, struct err *e)
{
    struct arena ar = ARENA_INIT;
    int rc = 0;
    if (!vtab_sort(t)) /* now, so the loop below sees a fixed order */
        return err_set(e, ERR_NOMEM, "out of memory");
    for (bool again = true; again && !rc;) {
        again = false;
        for (size_t i = 0; i < t->n && !rc; i++) {
            struct vtab_value *v = &t->v[i];
            if (!*v->value)
                continue;
            const struct dict_field *f = v->field_index >= 0 && t->dict == d
                                             ? &d->fields[v->field_index]
                                             : dict_field(d, v->field);
            if (!f || !f->branching || f->type == FT_CALC)
                continue;
            struct branch_vtab_at lk = {d, t, v->event, v->instance};
            bool shown;
            rc = branch_is_shown(f, branch_vtab_lookup, &lk, now_ms, &ar, &shown, e);
            if (rc || shown)
                continue;
            if (fn && (rc = fn(ctx, v, f)) != 0)
                break;
            v->value = "";
            again = true;
        }
    }
    arena_free(&ar);
    t->is_branching_applied = rc == 0 && t->dict == d;
    t->branching_now_ms = now_ms;
    return rc;
}
