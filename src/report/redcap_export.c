/* A study written back out in REDCap's own formats (issue 12 §2): the protocol's files as the
 * database holds them (dictionary.csv is REDCap's data dictionary; events.csv, form_events.csv
 * and repeating.csv are REDCap's event, instrument-designation and repeating-instrument exports)
 * and data.csv, the flat records export REDCap's Data Import Tool takes: one row per record
 * and event for the forms that do not repeat, one per instance of a repeating form (with
 * redcap_repeat_instrument and redcap_repeat_instance) or of a repeating event (the instrument
 * blank, the event's forms together; those two columns only where something repeats,
 * and redcap_event_name only in a longitudinal project, as REDCap exports), every field in
 * dictionary order with checkbox options as field___code (1 ticked, 0 not) and each form's
 * <form>_complete after its fields. Identifier fields hold the clear text only for readers allowed
 * to see it (blank otherwise, never a mask). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "report/dataset.h"

struct rec_vals {
    struct arena ar;
    const struct store_value *v; /* copies, in ar */
    size_t n, cap;
    struct store_form_state *s;
    size_t ns, scap;
};

static int keep_value(void *ctx, const struct store_value *v)
{
    struct rec_vals *rv = ctx;
    struct store_value *g = arena_grow(&rv->ar, (void *)rv->v, rv->n, &rv->cap, sizeof *g, 64);
    if (!g)
        return ERR_NOMEM;
    rv->v = g;
    bool masked = v->value && strcmp(v->value, STORE_MASKED) == 0;
    g[rv->n++] = (struct store_value){NULL,
                                      0,
                                      arena_strdup(&rv->ar, v->event),
                                      v->instance,
                                      arena_strdup(&rv->ar, v->field),
                                      v->code ? arena_strdup(&rv->ar, v->code) : NULL,
                                      arena_strdup(&rv->ar, masked ? "" : v->value),
                                      NULL,
                                      v->version};
    return 0;
}

static int keep_state(void *ctx, const struct store_form_state *s)
{
    struct rec_vals *rv = ctx;
    struct store_form_state *g = arena_grow(&rv->ar, rv->s, rv->ns, &rv->scap, sizeof *g, 16);
    if (!g)
        return ERR_NOMEM;
    rv->s = g;
    g[rv->ns++] = (struct store_form_state){NULL,
                                            arena_strdup(&rv->ar, s->event),
                                            arena_strdup(&rv->ar, s->form),
                                            s->instance,
                                            s->status,
                                            s->record_id};
    return 0;
}

static const char *value_at(const struct rec_vals *rv, const char *ev, int inst, const char *field,
                            const char *code)
{
    for (size_t i = 0; i < rv->n; i++) {
        const struct store_value *v = &rv->v[i];
        if (v->instance == inst && strcmp(v->field, field) == 0 && strcmp(v->event, ev) == 0 &&
            (code ? v->code && strcmp(v->code, code) == 0 : !v->code))
            return v->value;
    }
    return NULL;
}

static int status_at(const struct rec_vals *rv, const char *ev, int inst, const char *form)
{
    for (size_t i = 0; i < rv->ns; i++)
        if (rv->s[i].instance == inst && strcmp(rv->s[i].form, form) == 0 &&
            strcmp(rv->s[i].event, ev) == 0)
            return rv->s[i].status;
    return -1;
}

/* Whether form fm has a value or a status at (ev, inst). */
static bool form_has(const struct dict *d, const struct rec_vals *rv, const char *ev, int inst,
                     const struct dict_form *fm)
{
    if (status_at(rv, ev, inst, fm->name) >= 0)
        return true;
    for (size_t i = 0; i < rv->n; i++) {
        const struct dict_field *f = dict_field(d, rv->v[i].field);
        if (f && rv->v[i].instance == inst && strcmp(f->form, fm->name) == 0 &&
            strcmp(rv->v[i].event, ev) == 0)
            return true;
    }
    return false;
}

/* Which of REDCap's own columns data.csv has: redcap_event_name in a longitudinal project, the
 * redcap_repeat_* pair where a form repeats (as REDCap exports a project), or all of them
 * always (DATASET_FLAT_ALL_COLUMNS). */
struct flat_shape {
    bool event, repeat;
};

static void header(const struct dict *d, const struct flat_shape *sh, bool dag, struct strbuf *sb)
{
    strbuf_add_csv(sb, d->fields[0].name);
    if (sh->event)
        strbuf_adds(sb, ",redcap_event_name");
    if (sh->repeat)
        strbuf_adds(sb, ",redcap_repeat_instrument,redcap_repeat_instance");
    if (dag) /* a multi-centre study: each record's site, as REDCap's data access group */
        strbuf_adds(sb, ",redcap_data_access_group");
    for (size_t fm = 0; fm < d->nforms; fm++) {
        const struct dict_form *form = &d->forms[fm];
        for (size_t k = 0; k < form->nfields; k++) {
            const struct dict_field *f = &d->fields[form->first_field + k];
            if (f == &d->fields[0] || f->type == FT_DESCRIPTIVE)
                continue;
            if (f->type == FT_CHECKBOX) {
                for (size_t c = 0; c < f->nchoices; c++) {
                    char col[DICT_KEY_NAME_MAX * 2];
                    const char *name =
                        dict_redcap_column(f->name, f->choices[c].code, col, sizeof col);
                    strbuf_addc(sb, ',');
                    if (name)
                        strbuf_add_csv(sb, name);
                    else /* longer than any REDCap name: as ioheme names the option */
                        strbuf_addf(sb, "%s___%s", f->name, f->choices[c].code);
                }
            } else {
                strbuf_addc(sb, ',');
                strbuf_add_csv(sb, f->name);
            }
        }
        strbuf_addf(sb, ",%s_complete", form->name);
    }
    strbuf_addc(sb, '\n');
}

/* One row: record at (ev, inst); forms[fm] says which forms' columns it fills; dag the
 * record's site (NULL: no such column). */
static void row(dataset_csv_cell_fn cell, const struct dict *d, const struct flat_shape *sh,
                const struct rec_vals *rv, const char *record, const char *dag, const char *ev,
                int inst, const char *instrument, const bool *forms, struct strbuf *sb)
{
    cell(sb, record);
    if (sh->event) {
        strbuf_addc(sb, ',');
        cell(sb, ev);
    }
    if (sh->repeat) {
        strbuf_addc(sb, ',');
        cell(sb, instrument ? instrument : "");
        if (inst)
            strbuf_addf(sb, ",%d", inst);
        else
            strbuf_addc(sb, ',');
    }
    if (dag) {
        strbuf_addc(sb, ',');
        cell(sb, dag);
    }
    for (size_t fm = 0; fm < d->nforms; fm++) {
        const struct dict_form *form = &d->forms[fm];
        for (size_t k = 0; k < form->nfields; k++) {
            const struct dict_field *f = &d->fields[form->first_field + k];
            if (f == &d->fields[0] || f->type == FT_DESCRIPTIVE)
                continue;
            if (f->type == FT_CHECKBOX) {
                for (size_t c = 0; c < f->nchoices; c++) {
                    const char *v =
                        forms[fm] ? value_at(rv, ev, inst, f->name, f->choices[c].code) : NULL;
                    strbuf_adds(sb, !forms[fm] ? "," : v && strcmp(v, "1") == 0 ? ",1" : ",0");
                }
                continue;
            }
            const char *v = forms[fm] ? value_at(rv, ev, inst, f->name, NULL) : NULL;
            strbuf_addc(sb, ',');
            cell(sb, v ? v : "");
        }
        int st = forms[fm] ? status_at(rv, ev, inst, form->name) : -1;
        if (st >= 0)
            strbuf_addf(sb, ",%d", st);
        else
            strbuf_addc(sb, ',');
    }
    strbuf_addc(sb, '\n');
}

/* The lowest instance >= from of form fm (every form at the event when fm is SIZE_MAX) with a
 * value or a status at event evn; 0 when none: the instances that exist, found by scanning the
 * record, never a range loop past what is stored. */
static int next_instance(const struct dict *d, const struct rec_vals *rv, const char *evn,
                         size_t fm, int from)
{
    int next = 0;
    for (size_t i = 0; i < rv->n; i++) {
        const struct dict_field *f = dict_field(d, rv->v[i].field);
        if (f && (fm == SIZE_MAX || f->form_index == fm) && strcmp(rv->v[i].event, evn) == 0 &&
            rv->v[i].instance >= from && (!next || rv->v[i].instance < next))
            next = rv->v[i].instance;
    }
    for (size_t i = 0; i < rv->ns; i++)
        if ((fm == SIZE_MAX || strcmp(rv->s[i].form, d->forms[fm].name) == 0) &&
            strcmp(rv->s[i].event, evn) == 0 && rv->s[i].instance >= from &&
            (!next || rv->s[i].instance < next))
            next = rv->s[i].instance;
    return next;
}

/* Every row of one record, event by event: the forms that do not repeat together, then each
 * instance of each repeating form, or at a repeating event each instance of the event with
 * its forms together and the instrument blank (REDCap's shape: its Data Import Tool refuses a
 * repeating event's row that names a form). */
static size_t record_rows(dataset_csv_cell_fn cell, const struct dict *d,
                          const struct flat_shape *sh, const struct rec_vals *rv,
                          const char *record, const char *dag, bool *forms, struct strbuf *sb)
{
    size_t nrows = 0;
    for (size_t ev = 0; ev < d->nevents; ev++) {
        const char *evn = d->events[ev].name;
        if (d->event_repeats[ev]) {
            for (int inst = next_instance(d, rv, evn, SIZE_MAX, 1); inst > 0;
                 inst = next_instance(d, rv, evn, SIZE_MAX, inst + 1)) {
                for (size_t fm = 0; fm < d->nforms; fm++)
                    forms[fm] = d->form_at_event[ev * d->nforms + fm] &&
                                form_has(d, rv, evn, inst, &d->forms[fm]);
                row(cell, d, sh, rv, record, dag, evn, inst, NULL, forms, sb);
                nrows++;
            }
            continue;
        }
        bool any = false;
        for (size_t fm = 0; fm < d->nforms; fm++) {
            size_t k = ev * d->nforms + fm;
            forms[fm] = d->form_at_event[k] && !d->form_repeats[k] &&
                        form_has(d, rv, evn, 0, &d->forms[fm]);
            any |= forms[fm];
        }
        if (any) {
            row(cell, d, sh, rv, record, dag, evn, 0, NULL, forms, sb);
            nrows++;
        }
        for (size_t fm = 0; fm < d->nforms; fm++) {
            size_t k = ev * d->nforms + fm;
            if (!d->form_at_event[k] || !d->form_repeats[k])
                continue;
            for (int inst = next_instance(d, rv, evn, fm, 1); inst > 0;
                 inst = next_instance(d, rv, evn, fm, inst + 1)) {
                memset(forms, 0, d->nforms * sizeof *forms);
                forms[fm] = true;
                row(cell, d, sh, rv, record, dag, evn, inst, d->forms[fm].name, forms, sb);
                nrows++;
            }
        }
    }
    return nrows;
}

int dataset_redcap_flat(struct store *st, dataset_csv_cell_fn cell, unsigned flags,
                        struct strbuf *sb, size_t *nrecords, size_t *nrows, struct err *e)
{
    *nrecords = *nrows = 0;
    const struct dict *d = store_dict(st);
    bool all = flags & DATASET_FLAT_ALL_COLUMNS, dags = flags & DATASET_FLAT_DAGS;
    struct flat_shape sh = {all || d->is_longitudinal, all || dict_has_repeating(d)};
    struct store_record *recs = NULL;
    size_t n = 0;
    /* an identifier whose key is missing is refused, not written as its placeholder */
    int rc = store_identifiers_readable(st, e);
    if (!rc)
        rc = store_record_list(st, &recs, &n, e);
    bool *forms = calloc(d->nforms ? d->nforms : 1, sizeof *forms);
    if (!rc && !forms)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    /* the data access group column when the study has sites */
    struct store_site *sites = NULL;
    size_t nsites = 0;
    if (!rc && dags)
        rc = store_site_list(st, &sites, &nsites, e);
    free(sites);
    if (!rc)
        header(d, &sh, nsites > 0, sb);
    for (size_t r = 0; !rc && r < n; r++) {
        struct rec_vals rv = {.ar = ARENA_INIT};
        const char *name = store_record_name(&recs[r]);
        rc = store_record_values(st, name, keep_value, &rv, e);
        if (!rc)
            rc = store_form_states(st, name, keep_state, &rv, e);
        if (rc == ERR_NOMEM && e && !e->code)
            err_set(e, ERR_NOMEM, "out of memory");
        if (!rc) {
            *nrows += record_rows(cell, d, &sh, &rv, name, nsites ? recs[r].site : NULL, forms, sb);
            ++*nrecords;
        }
        arena_free(&rv.ar);
    }
    if (!rc && sb->failed)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    free(forms);
    free(recs);
    return rc;
}

int dataset_redcap_export(struct store *st, const char *dir, size_t *nrecords, size_t *nrows,
                          struct err *e)
{
    *nrecords = *nrows = 0;
    /* the data first: an export refused (an identifier's key missing) writes no file */
    struct strbuf sb = STRBUF_INIT;
    int rc = dataset_redcap_flat(st, strbuf_add_csv, DATASET_FLAT_DAGS, &sb, nrecords, nrows, e);
    if (!rc)
        rc = dataset_mkdir(dir, e);
    static const char *const files[] = {"dictionary.csv", "events.csv", "form_events.csv",
                                        "repeating.csv"};
    for (size_t i = 0; !rc && i < sizeof files / sizeof files[0]; i++) {
        char *text = NULL;
        if (store_protocol_file(st, files[i], &text, NULL) != 0)
            continue; /* a project without events or repeating forms has no such file */
        rc = dataset_write_file(dir, files[i], text, strlen(text), e);
        free(text);
    }
    if (!rc)
        rc = dataset_write_file(dir, "data.csv", strbuf_str(&sb), sb.len, e);
    strbuf_release(&sb);
    return rc;
}
