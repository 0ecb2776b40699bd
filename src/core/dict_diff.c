/* What changes between two protocols (issue 13): events, forms, form-event mapping, fields and
 * their type, label, choices, validation, range, branching and calc — each change named, and
 * marked when it could orphan or reinterpret stored data (the caller counts the values). */
#include <string.h>

#include "core/dict.h"

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int add(struct arena *ar, struct dict_change **v, size_t *n, size_t *cap,
               struct dict_change c)
{
    struct dict_change *g = arena_grow(ar, *v, *n, cap, sizeof *g, 32);
    if (!g)
        return ERR_NOMEM;
    *v = g;
    /* names and codes point into the dictionaries: copied, so the changes outlive them */
    c.name = c.name ? arena_strdup(ar, c.name) : NULL;
    c.code = c.code ? arena_strdup(ar, c.code) : NULL;
    g[(*n)++] = c;
    return 0;
}

static int form_index_by_name(const struct dict *d, const char *name)
{
    for (size_t i = 0; i < d->nforms; i++)
        if (strcmp(d->forms[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A choice's code in f, or NULL. */
static const struct dict_choice *choice(const struct dict_field *f, const char *code)
{
    for (size_t i = 0; i < f->nchoices; i++)
        if (strcmp(f->choices[i].code, code) == 0)
            return &f->choices[i];
    return NULL;
}

static int field_changes(struct arena *ar, const struct dict_field *a, const struct dict_field *b,
                         struct dict_change **v, size_t *n, size_t *cap)
{
    int rc = 0;
#define ADD(kind_, what_, code_, detail_, risk_)                                                   \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc =                                                                                   \
                add(ar, v, n, cap,                                                                 \
                    (struct dict_change){(kind_), (what_), b->name, (code_), (detail_), (risk_)}); \
    } while (0)
    if (a->type != b->type)
        ADD(DICT_CHANGED, "type", NULL,
            arena_printf(ar, "%s -> %s", dict_field_type_name(a->type),
                         dict_field_type_name(b->type)),
            DICT_RISK_REINTERPRETS);
    if (!same(a->form, b->form))
        ADD(DICT_CHANGED, "form", NULL, arena_printf(ar, "%s -> %s", a->form, b->form),
            DICT_RISK_REINTERPRETS);
    if (!same(a->label, b->label))
        ADD(DICT_CHANGED, "label", NULL, arena_printf(ar, "'%s' -> '%s'", a->label, b->label),
            DICT_RISK_NONE);
    if (a->vtype != b->vtype)
        ADD(DICT_CHANGED, "validation", NULL,
            arena_printf(ar, "%s -> %s", dict_val_type_name(a->vtype),
                         dict_val_type_name(b->vtype)),
            DICT_RISK_REINTERPRETS);
    if (!same(a->vmin, b->vmin) || !same(a->vmax, b->vmax))
        ADD(DICT_CHANGED, "range", NULL,
            arena_printf(ar, "[%s, %s] -> [%s, %s]", a->vmin, a->vmax, b->vmin, b->vmax),
            DICT_RISK_NONE);
    if (!same(a->branching_raw, b->branching_raw))
        ADD(DICT_CHANGED, "branching", NULL,
            arena_printf(ar, "'%s' -> '%s'", a->branching_raw ? a->branching_raw : "",
                         b->branching_raw ? b->branching_raw : ""),
            DICT_RISK_HIDES);
    if (a->type == FT_CALC && b->type == FT_CALC && !same(a->choices_raw, b->choices_raw))
        ADD(DICT_CHANGED, "calc", NULL,
            arena_printf(ar, "'%s' -> '%s'", a->choices_raw, b->choices_raw), DICT_RISK_RECOMPUTES);
    if (a->type != FT_CALC && b->type != FT_CALC) {
        for (size_t i = 0; i < a->nchoices; i++) {
            const struct dict_choice *was = &a->choices[i], *now = choice(b, was->code);
            if (!now) {
                ADD(DICT_REMOVED, "choice", was->code, arena_printf(ar, "'%s'", was->label),
                    DICT_RISK_ORPHANS);
            } else if (!same(was->label, now->label)) {
                ADD(DICT_CHANGED, "choice", was->code,
                    arena_printf(ar, "'%s' -> '%s'", was->label, now->label),
                    DICT_RISK_REINTERPRETS);
            }
        }
        for (size_t i = 0; i < b->nchoices; i++)
            if (!choice(a, b->choices[i].code))
                ADD(DICT_ADDED, "choice", b->choices[i].code,
                    arena_printf(ar, "'%s'", b->choices[i].label), DICT_RISK_NONE);
    }
#undef ADD
    return rc;
}

int dict_diff(const struct dict *a, const struct dict *b, struct arena *ar,
              struct dict_change **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < a->nevents; i++)
        if (dict_event_index(b, a->events[i].name) < 0)
            rc = add(ar, out, n, &cap,
                     (struct dict_change){DICT_REMOVED, "event", a->events[i].name, NULL,
                                          a->events[i].label, DICT_RISK_ORPHANS});
    for (size_t i = 0; !rc && i < b->nevents; i++)
        if (dict_event_index(a, b->events[i].name) < 0)
            rc = add(ar, out, n, &cap,
                     (struct dict_change){DICT_ADDED, "event", b->events[i].name, NULL,
                                          b->events[i].label, DICT_RISK_NONE});
    for (size_t i = 0; !rc && i < a->nforms; i++)
        if (form_index_by_name(b, a->forms[i].name) < 0)
            rc = add(ar, out, n, &cap,
                     (struct dict_change){DICT_REMOVED, "form", a->forms[i].name, NULL,
                                          a->forms[i].label, DICT_RISK_ORPHANS});
    for (size_t i = 0; !rc && i < b->nforms; i++)
        if (form_index_by_name(a, b->forms[i].name) < 0)
            rc = add(ar, out, n, &cap,
                     (struct dict_change){DICT_ADDED, "form", b->forms[i].name, NULL,
                                          b->forms[i].label, DICT_RISK_NONE});
    /* the mapping: a form leaving an event orphans what it holds there */
    for (size_t e = 0; !rc && e < a->nevents; e++) {
        int eb = dict_event_index(b, a->events[e].name);
        for (size_t f = 0; !rc && f < a->nforms; f++) {
            int fb = form_index_by_name(b, a->forms[f].name);
            bool was = a->form_at_event[e * a->nforms + f];
            bool now = eb >= 0 && fb >= 0 && b->form_at_event[(size_t)eb * b->nforms + (size_t)fb];
            if (was && !now && eb >= 0 && fb >= 0)
                rc = add(ar, out, n, &cap,
                         (struct dict_change){DICT_REMOVED, "mapping", a->forms[f].name,
                                              a->events[e].name, NULL, DICT_RISK_ORPHANS});
        }
    }
    for (size_t e = 0; !rc && e < b->nevents; e++) {
        int ea = dict_event_index(a, b->events[e].name);
        for (size_t f = 0; !rc && f < b->nforms; f++) {
            int fa = form_index_by_name(a, b->forms[f].name);
            bool now = b->form_at_event[e * b->nforms + f];
            bool was = ea >= 0 && fa >= 0 && a->form_at_event[(size_t)ea * a->nforms + (size_t)fa];
            if (now && !was && ea >= 0 && fa >= 0)
                rc = add(ar, out, n, &cap,
                         (struct dict_change){DICT_ADDED, "mapping", b->forms[f].name,
                                              b->events[e].name, NULL, DICT_RISK_NONE});
        }
    }
    for (size_t i = 0; !rc && i < a->nfields; i++) {
        const struct dict_field *fa = &a->fields[i], *fb = dict_field(b, fa->name);
        if (!fb)
            rc = add(ar, out, n, &cap,
                     (struct dict_change){
                         DICT_REMOVED, "field", fa->name, NULL,
                         arena_printf(ar, "form %s, %s", fa->form, dict_field_type_name(fa->type)),
                         DICT_RISK_ORPHANS});
        else
            rc = field_changes(ar, fa, fb, out, n, &cap);
    }
    for (size_t i = 0; !rc && i < b->nfields; i++)
        if (!dict_field(a, b->fields[i].name))
            rc = add(ar, out, n, &cap,
                     (struct dict_change){DICT_ADDED, "field", b->fields[i].name, NULL,
                                          arena_printf(ar, "form %s, %s", b->fields[i].form,
                                                       dict_field_type_name(b->fields[i].type)),
                                          DICT_RISK_NONE});
    return rc ? ERR_NOMEM : 0;
}
