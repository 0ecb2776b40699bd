/* The write path's checks of what a change set leaves behind (store_put_changes_locked, write.c,
 * calls them in its order): a min or max piped from another field, checked against that field
 * as the set leaves it (step 2b); a value left on a field its branching logic hides (4a); a form
 * marked complete without its required fields (4b). Each reports its refusals as the change
 * set's issues and returns ERR_INVALID (nothing is written: the caller rolls back). */
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "core/branch.h"
#include "core/validate.h"
#include "store/store_int.h"
#include "store/write_int.h"

/* Whether required field f is filled at (event, instance): a value, or for a checkbox any
 * option ticked. */
static int required_value(struct put_state *ps, const char *event, int instance,
                          const struct dict_field *f, const char **out, struct err *e)
{
    char *v = NULL;
    *out = NULL;
    if (f->type != FT_CHECKBOX) {
        int rc = store_putcache_value_read(ps, event, instance, f->name, NULL, &v, e);
        *out = v;
        return rc;
    }
    for (size_t k = 0; k < f->nchoices; k++) {
        int rc = store_putcache_value_read(ps, event, instance, f->name, f->choices[k].code, &v, e);
        if (rc)
            return rc;
        if (v && strcmp(v, "1") == 0) {
            *out = "1";
            break;
        }
    }
    return 0;
}

/* Step 4b: every form this change set touched that is now marked complete must have its
 * required fields filled, those its branching logic hides excepted (validate_required). Runs
 * after the writes and calcs, so a change set may fill the fields and mark the form complete
 * at once; a failure rolls the whole set back. */
int store_put_check_required(struct put_state *ps, const struct store_change *changes,
                             const struct plan *plans, size_t n, struct err *e)
{
    const struct dict *d = &ps->st->dict;
    size_t nhard = 0;
    for (size_t i = 0; i < n; i++) {
        const struct plan *p = &plans[i];
        int inst = changes[i].instance;
        bool seen = !p->is_changed;
        for (size_t j = 0; j < i && !seen; j++)
            seen = plans[j].is_changed && plans[j].ev == p->ev && plans[j].form == p->form &&
                   changes[j].instance == inst;
        if (seen)
            continue;
        const char *ev = d->events[p->ev].name;
        int status, rc = store_putcache_status_read(ps, ev, p->form->name, inst, &status, e);
        if (rc)
            return rc;
        if (status != 2)
            continue;
        for (size_t k = 0; k < p->form->nfields; k++) {
            const struct dict_field *f = &d->fields[p->form->first_field + k];
            if (!f->is_required)
                continue;
            struct cached_lookup lk = {ps, ev, inst};
            bool shown;
            if ((rc = branch_is_shown(f, store_putcache_lookup_fn, &lk, store_now_ms(ps->st),
                                      &ps->ar, &shown, e)))
                return rc;
            if (!shown)
                continue;
            const char *v;
            if ((rc = required_value(ps, ev, inst, f, &v, e)))
                return rc;
            struct validate_result vr;
            if (validate_required(f, v, &vr) != VALID_HARD)
                continue;
            char msg[sizeof vr.msg + 256];
            fmt_text(msg, sizeof msg, "%s: form '%s' at %s is marked complete", vr.msg,
                     p->form->name, ev);
            if (nhard++ == 0)
                err_set_field(e, ERR_INVALID, f->name, "%s (rule: required)", msg);
            struct store_change missing = {ev, inst, f->name, NULL, "", NULL};
            if (store_put_issue_add(ps->res, STORE_ISSUE_HARD, i, &missing, "required", msg))
                return err_set(e, ERR_NOMEM, "out of memory");
        }
    }
    if (nhard > 1 && e)
        fmt_text(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                 " (and %zu more required fields blank)", nhard - 1);
    return nhard ? ERR_INVALID : 0;
}

/* A stored value its field's branching logic hides once this change set is applied. */
struct hidden_value {
    int ev, instance;
    size_t fi;
    const char *code, *value;
};

static int hidden_cmp(const void *a, const void *b)
{
    const struct hidden_value *x = a, *y = b;
    if (x->ev != y->ev)
        return x->ev < y->ev ? -1 : 1;
    if (x->instance != y->instance)
        return x->instance < y->instance ? -1 : 1;
    if (x->fi != y->fi)
        return x->fi < y->fi ? -1 : 1;
    return strcmp(x->code, y->code);
}

struct ref_touch {
    const struct put_state *ps;
    const bool *touched_fi;
    int ev; /* the event of the value whose logic is read: [field] means this event */
};

/* expr_ref_fn: stops (1) at a reference to a field this change set touched at the event the
 * reference reads ([event][field], else the value's own event). */
static int ref_is_touched(void *ctx, const char *event, const char *field, const char *code,
                          size_t pos)
{
    (void)code, (void)pos;
    const struct ref_touch *rt = ctx;
    const struct put_state *ps = rt->ps;
    const struct dict *d = &ps->st->dict;
    const struct dict_field *f = dict_field(d, field);
    if (!f || !rt->touched_fi[f - d->fields])
        return 0;
    int ev = event ? dict_event_index(d, event) : rt->ev;
    for (size_t i = 0; i < ps->nt; i++)
        if (ps->t[i].f == f && (int)ps->t[i].ev == ev)
            return 1;
    return 0;
}

struct ref_name {
    const char *field, *event; /* a change's */
    const char *slot_event;    /* the event of the value whose logic is read */
};

/* expr_ref_fn: stops (1) at a reference to the change's field at the change's event. */
static int ref_names(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    (void)code, (void)pos;
    const struct ref_name *rn = ctx;
    return strcmp(field, rn->field) == 0 &&
           strcmp(event ? event : rn->slot_event, rn->event ? rn->event : "") == 0;
}

/* Whether the slot (ev, instance, field fi) was written by this change set. */
static bool slot_touched(const struct put_state *ps, int ev, int instance, size_t fi)
{
    const struct dict_field *f = &ps->st->dict.fields[fi];
    for (size_t i = 0; i < ps->nt; i++)
        if (ps->t[i].f == f && (int)ps->t[i].ev == ev && ps->t[i].instance == instance)
            return true;
    return false;
}

/* Step 4a: a change set may not leave a value on a field that branching logic hides (REDCap's
 * form asks to erase such a value; its data import would keep it, and the record would say a
 * first attempt succeeded and why it failed). Every stored value that this set wrote, or whose
 * field's logic reads a field this set touched, is checked with branch_is_shown after the
 * writes and calcs; each one hidden is a hard issue (rule "hidden") and the set is refused.
 * The answer is the same through every door: to change the answer, clear the value it hides
 * in the same change (the form asks first). Values hidden before, by answers this set does not
 * touch, are left alone here — the data-quality list names them, the dataset ignores them. */
int store_put_check_hidden(struct put_state *ps, const struct store_change *changes, size_t n,
                           struct err *e)
{
    const struct dict *d = &ps->st->dict;
    const struct putcache *pc = ps->pc;
    if (!ps->nt || !pc)
        return 0;
    bool *touched_fi = arena_calloc(&ps->ar, d->nfields, sizeof *touched_fi);
    if (!touched_fi)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ps->nt; i++)
        touched_fi[ps->t[i].f - d->fields] = true;
    struct ref_touch rt = {ps, touched_fi, 0};
    struct hidden_value *hv = NULL;
    size_t nhv = 0, hvcap = 0;
    for (size_t k = 0; k < pc->valcap; k++) {
        const struct cached_value *cv = &pc->vals[k];
        if (!cv->is_used || !cv->value)
            continue;
        const struct dict_field *f = &d->fields[cv->fi];
        if (!f->branching || f->type == FT_CALC)
            continue;
        rt.ev = cv->ev;
        if (!(touched_fi[cv->fi] && slot_touched(ps, cv->ev, cv->instance, cv->fi)) &&
            !expr_foreach_ref(f->branching, ref_is_touched, &rt))
            continue;
        struct cached_lookup lk = {ps, d->events[cv->ev].name, cv->instance};
        bool shown;
        int rc = branch_is_shown(f, store_putcache_lookup_fn, &lk, store_now_ms(ps->st), &ps->ar,
                                 &shown, e);
        if (rc)
            return rc;
        if (shown)
            continue;
        struct hidden_value *nh = arena_grow(&ps->ar, hv, nhv, &hvcap, sizeof *nh, 8);
        if (!nh)
            return err_set(e, ERR_NOMEM, "out of memory");
        hv = nh;
        hv[nhv++] = (struct hidden_value){cv->ev, cv->instance, cv->fi, cv->code, cv->value};
    }
    if (!nhv)
        return 0;
    qsort(hv, nhv, sizeof *hv, hidden_cmp);
    for (size_t h = 0; h < nhv; h++) {
        const struct dict_field *f = &d->fields[hv[h].fi];
        const char *code = *hv[h].code ? hv[h].code : NULL;
        const char *ev = d->events[hv[h].ev].name;
        /* the issue points at the change that set the value, else at the first one its
         * logic reads */
        size_t idx = 0;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            if (changes[i].field && strcmp(changes[i].field, f->name) == 0 &&
                changes[i].instance == hv[h].instance && strcmp(changes[i].event, ev) == 0)
                idx = i, found = true;
        for (size_t i = 0; i < n && !found; i++) {
            struct ref_name rn = {changes[i].field ? changes[i].field : "", changes[i].event, ev};
            if ((found = expr_foreach_ref(f->branching, ref_names, &rn) != 0))
                idx = i;
        }
        char key[300], where[160], msg[1024];
        if (!dict_key_format(f->name, code, key, sizeof key))
            fmt_text(key, sizeof key, "%s", f->name);
        if (hv[h].instance)
            fmt_text(where, sizeof where, "%s #%d", ev, hv[h].instance);
        else
            fmt_text(where, sizeof where, "%s", ev);
        if (slot_touched(ps, hv[h].ev, hv[h].instance, hv[h].fi))
            fmt_text(msg, sizeof msg,
                     "'%s' (%s) at %s: '%s' cannot be saved, its branching logic (%s) hides the "
                     "field",
                     f->label, key, where, hv[h].value, f->branching_raw);
        else
            fmt_text(msg, sizeof msg,
                     "'%s' (%s) at %s holds '%s', but its branching logic (%s) hides it after "
                     "this change: clear it in the same change (%s=) or keep the answer that "
                     "shows it",
                     f->label, key, where, hv[h].value, f->branching_raw, key);
        if (h == 0)
            err_set_field(e, ERR_INVALID, f->name, "%s (rule: hidden)", msg);
        struct store_change c = {ev, hv[h].instance, f->name, code, hv[h].value, NULL};
        if (store_put_issue_add(ps->res, STORE_ISSUE_HARD, idx, &c, "hidden", msg))
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    if (nhv > 1 && e)
        fmt_text(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                 " (and %zu more hidden values)", nhv - 1);
    return ERR_INVALID;
}

/* Step 2b: a min or max piped from another field ("[lmp]") is that field's value as this change
 * set leaves it, so every value it writes is put in the cache first (as writing would: nothing is
 * written yet, and a refused change set drops the cache); then each changed value with such a
 * bound is checked, flagged (p->flag, a soft issue) or, with @FORCE-MINMAX, refused with every
 * other value so refused. */
int store_put_check_piped_bounds(struct put_state *ps, const struct store_change *changes,
                                 struct plan *plans, size_t n, struct err *e)
{
    const struct dict *d = &ps->st->dict;
    bool any = false;
    for (size_t i = 0; i < n && !any; i++)
        any = plans[i].f && plans[i].is_changed && (plans[i].f->min_ref || plans[i].f->max_ref);
    if (!any)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const struct plan *p = &plans[i];
        if (p->f && p->is_changed &&
            store_putcache_slot_set(ps, p->ev, changes[i].instance, (size_t)(p->f - d->fields),
                                    changes[i].code ? changes[i].code : "",
                                    *p->value ? p->value : NULL))
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    size_t nhard = 0;
    for (size_t i = 0; i < n; i++) {
        struct plan *p = &plans[i];
        if (!p->f || !p->is_changed || !*p->value || !(p->f->min_ref || p->f->max_ref))
            continue;
        const char *ev = d->events[p->ev].name;
        char *bound[2] = {NULL, NULL}; /* the referenced fields' values now; "" when blank */
        const struct expr *ref[2] = {p->f->min_ref, p->f->max_ref};
        for (int k = 0; k < 2; k++) {
            int rc = ref[k] ? store_putcache_eval_text(ps, ref[k], p->f, ev, changes[i].instance,
                                                       &bound[k], e)
                            : 0;
            if (rc)
                return rc;
        }
        struct validate_result vr;
        enum validate_level lv = validate_piped_bounds(p->f, p->value, bound[0], bound[1], &vr);
        if (lv == VALID_HARD && nhard++ == 0)
            err_set_field(e, ERR_INVALID, p->f->name, "%s (rule: %s)", vr.msg, vr.rule);
        if (lv == VALID_SOFT && !p->flag)
            p->flag = vr.rule;
        if (lv != VALID_OK &&
            store_put_issue_add(ps->res, lv == VALID_HARD ? STORE_ISSUE_HARD : STORE_ISSUE_SOFT, i,
                                &changes[i], vr.rule, vr.msg))
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    store_put_more_refused(e, nhard);
    return nhard ? ERR_INVALID : 0;
}
