/* Calc fields computed on demand through a lookup; see calc.h. */
#include "core/calc.h"

#include <string.h>

#define CALC_MAX_DEPTH 64

void calc_lookup_init(struct calc_lookup *c, const struct dict *d, expr_lookup_fn inner,
                      void *inner_ctx, long long now_ms, struct arena *ar)
{
    *c = (struct calc_lookup){d, inner, inner_ctx, now_ms, ar, NULL, 0};
}

int calc_field(struct calc_lookup *c, const struct dict_field *f, const char *event,
               struct expr_value *out, struct err *e)
{
    if (c->depth >= CALC_MAX_DEPTH)
        return err_set_field(e, ERR_INVALID, f->name,
                             "calc field '%s': calculations nested too deeply (a cycle through "
                             "events?)",
                             f->name);
    const char *saved = c->event;
    c->event = event ? event : c->event;
    c->depth++;
    int rc = expr_eval(f->calc, calc_lookup_fn, c, c->now_ms, c->ar, out, e);
    c->depth--;
    c->event = saved;
    return rc;
}

int calc_lookup_fn(void *ctx, const char *event, const char *field, const char *code, int instance,
                   struct expr_value *out, struct err *e)
{
    struct calc_lookup *c = ctx;
    /* a calc at another instance ([calc][2]) reads its stored value */
    const struct dict_field *f = code || instance ? NULL : dict_field(c->d, field);
    if (f && f->type == FT_CALC && f->calc)
        return calc_field(c, f, event, out, e);
    return c->inner(c->inner_ctx, event ? event : c->event, field, code, instance, out, e);
}

/* Collects the references of one calc: every field it reads, and the event-qualified ones (for
 * cross-event recomputation). */
struct ref_walk {
    struct arena *ar;
    struct calc_info *ci;
    size_t cap, icap;
};

static int collect_input(struct ref_walk *w, const char *field)
{
    struct calc_info *ci = w->ci;
    for (size_t i = 0; i < ci->ninputs; i++)
        if (strcmp(ci->inputs[i], field) == 0)
            return 0;
    const char **n = arena_grow(w->ar, (void *)ci->inputs, ci->ninputs, &w->icap, sizeof *n, 4);
    if (!n)
        return ERR_NOMEM;
    ci->inputs = n;
    if (!(ci->inputs[ci->ninputs] = arena_strdup(w->ar, field)))
        return ERR_NOMEM;
    ci->ninputs++;
    return 0;
}

static int collect_ref(void *ctx, const char *event, const char *field, const char *code,
                       size_t pos)
{
    (void)code;
    (void)pos;
    struct ref_walk *w = ctx;
    int rc = collect_input(w, field);
    if (rc || !event)
        return rc;
    struct calc_ref *n = arena_grow(w->ar, w->ci->refs, w->ci->nrefs, &w->cap, sizeof *n, 4);
    if (!n)
        return ERR_NOMEM;
    w->ci->refs = n;
    w->ci->refs[w->ci->nrefs].event = arena_strdup(w->ar, event);
    w->ci->refs[w->ci->nrefs].field = arena_strdup(w->ar, field);
    w->ci->nrefs++;
    return 0;
}

int calc_index(const struct dict *d, struct arena *ar, struct calc_info **out, size_t *nout,
               struct err *e)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nfields; i++)
        n += d->fields[i].type == FT_CALC && d->fields[i].calc;
    *nout = 0;
    *out = n ? arena_calloc(ar, n, sizeof **out) : NULL;
    if (n && !*out)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (f->type != FT_CALC || !f->calc)
            continue;
        struct calc_info *ci = &(*out)[(*nout)++];
        ci->f = f;
        struct ref_walk w = {ar, ci, 0, 0};
        if (expr_foreach_ref(f->calc, collect_ref, &w))
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}
