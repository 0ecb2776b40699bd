/* Data completeness (SAP §7): for every enrolled subject, every event where a form is collected
 * (each existing instance of a repeating form) and every required field the form shows there
 * (branching logic evaluated with the logic language on the subject's values), one value is
 * expected; it is present when stored and not empty. Counts are kept per field and written as
 * the completeness table by derive_finish. */
#include <stdlib.h>
#include <string.h>

#include "core/branch.h"
#include "core/derive.h"
#include "core/dict.h"

static bool field_present(struct vtab *v, const struct dict_field *f, const char *ev, int inst)
{
    if (f->type != FT_CHECKBOX)
        return vtab_get(v, ev, inst, f->name, NULL) != NULL;
    for (size_t k = 0; k < f->nchoices; k++) {
        const char *s = vtab_get(v, ev, inst, f->name, f->choices[k].code);
        if (s && strcmp(s, "1") == 0)
            return true;
    }
    return false;
}

static bool form_has_instance(struct vtab *v, const struct dict *d, const struct dict_form *fm,
                              const char *ev, int inst)
{
    for (size_t i = fm->first_field; i < fm->first_field + fm->nfields; i++)
        if (vtab_get(v, ev, inst, d->fields[i].name, NULL))
            return true;
    return false;
}

/* The smallest instance above `after` at which any field of form fm holds a value at ev, 0
 * when none: the instances that exist, never a numeric range. */
static int next_form_instance(struct vtab *v, const struct dict *d, const struct dict_form *fm,
                              const char *ev, int after)
{
    int best = 0;
    for (size_t i = fm->first_field; i < fm->first_field + fm->nfields; i++) {
        int k = vtab_next_instance(v, ev, d->fields[i].name, after);
        if (k && (!best || k < best))
            best = k;
    }
    return best;
}

/* Counts the required fields that form fm shows at (ev, inst) — branching logic decided as
 * everywhere else (branch_is_shown, reading the table as branch_vtab_hide does) — and how many
 * hold a value. A value that branch_vtab_hide left in the table is of a field shown there (it
 * decided so on this very table): only the fields without one are decided here, which halves
 * the cost of completeness. */
static void count_form(struct adataset *ds, const struct dict *d, struct vtab *v,
                       const struct dict_form *fm, const char *ev, int inst, long long now_ms,
                       struct arena *ar)
{
    struct branch_vtab_at at = {d, v, ev, inst};
    for (size_t i = fm->first_field; i < fm->first_field + fm->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!f->is_required || f->type == FT_CALC || f->type == FT_DESCRIPTIVE)
            continue;
        bool present = field_present(v, f, ev, inst), shown = true;
        struct err ee = {0};
        if (!(present && v->is_branching_applied && v->dict == d &&
              v->branching_now_ms == now_ms) &&
            (branch_is_shown(f, branch_vtab_lookup, &at, now_ms, ar, &shown, &ee) != 0 || !shown))
            continue; /* an evaluation error hides, as a blank result does */
        ds->cpl[i].expected++;
        ds->cpl[i].present += present;
    }
}

int derive_completeness_start(struct adataset *ds, const struct dict *d, struct err *e)
{
    if (ds->cpl)
        return 0;
    ds->cpl = calloc(d->nfields ? d->nfields : 1, sizeof *ds->cpl);
    if (!ds->cpl)
        return err_set(e, ERR_NOMEM, "out of memory");
    ds->ncpl = d->nfields;
    for (size_t i = 0; i < d->nfields; i++) {
        ds->cpl[i].form = d->fields[i].form;
        ds->cpl[i].form_label = d->forms[d->fields[i].form_index].label;
        ds->cpl[i].field = d->fields[i].name;
    }
    return 0;
}

int derive_completeness(struct adataset *ds, const struct dict *d, struct vtab *v, long long now_ms,
                        struct err *e)
{
    if (!v->is_enrolled)
        return 0;
    int rc = derive_completeness_start(ds, d, e);
    if (rc)
        return rc;
    struct arena ar = ARENA_INIT;
    for (size_t ev = 0; ev < d->nevents; ev++) {
        const char *evname = d->events[ev].name;
        for (size_t fi = 0; fi < d->nforms; fi++) {
            if (!d->form_at_event[ev * d->nforms + fi])
                continue;
            const struct dict_form *fm = &d->forms[fi];
            if (!d->form_repeats[ev * d->nforms + fi]) {
                count_form(ds, d, v, fm, evname, 0, now_ms, &ar);
                continue;
            }
            for (int inst = next_form_instance(v, d, fm, evname, 0); inst;
                 inst = next_form_instance(v, d, fm, evname, inst))
                if (form_has_instance(v, d, fm, evname, inst))
                    count_form(ds, d, v, fm, evname, inst, now_ms, &ar);
        }
    }
    arena_free(&ar);
    return 0;
}

int derive_finish(struct adataset *ds, struct err *e)
{
    struct atable *t = &ds->t[ADS_COMPLETENESS];
    for (size_t i = 0; i < ds->ncpl; i++) {
        const struct derive_cpl *c = &ds->cpl[i];
        if (c->expected == 0)
            continue;
        size_t r;
        int rc = atable_add_row(t, &r);
        rc |= atable_set(t, r, CPL_FORM, c->form);
        rc |= atable_set(t, r, CPL_FORM_LABEL, c->form_label);
        rc |= atable_set(t, r, CPL_FIELD, c->field);
        rc |= atable_set_int(t, r, CPL_EXPECTED, c->expected);
        rc |= atable_set_int(t, r, CPL_PRESENT, c->present);
        if (rc)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}
