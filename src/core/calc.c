/* Calc fields computed on demand through a lookup; see calc.h. */
#include "core/calc.h"

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

int calc_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                   struct expr_value *out, struct err *e)
{
    struct calc_lookup *c = ctx;
    const struct dict_field *f = code ? NULL : dict_field(c->d, field);
    if (f && f->type == FT_CALC && f->calc)
        return calc_field(c, f, event, out, e);
    return c->inner(c->inner_ctx, event ? event : c->event, field, code, out, e);
}
