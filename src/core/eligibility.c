/* Eligibility from the protocol: each @INCLUSION / @EXCLUSION calc field is one criterion and
 * the @ELIGIBLE calc field is the verdict (see eligibility.h).
 *
 * Criteria are usually calc fields over other calc fields (age from date of birth, then
 * "age 18-65" from age), and stored calc values may be stale while a patient is being
 * screened, so every calc field is computed afresh from its calculation (core/calc.h); only
 * entered values come from the caller's lookup. */
#include "core/eligibility.h"

#include <string.h>

#include "core/calc.h"

static int eval_state(struct calc_lookup *c, const struct dict_field *f, enum criterion_state *st,
                      struct err *e)
{
    struct expr_value v;
    int rc = calc_field(c, f, NULL, &v, e);
    if (rc)
        return rc;
    bool blank = v.kind == EV_BLANK || (v.kind == EV_STR && !v.str[0]);
    *st = blank ? CRIT_UNKNOWN : expr_truthy(&v) ? CRIT_MET : CRIT_NOT_MET;
    return 0;
}

int elig_evaluate(const struct dict *d, expr_lookup_fn lookup, void *ctx, long long now_ms,
                  struct arena *ar, struct elig_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct calc_lookup c;
    calc_lookup_init(&c, d, lookup, ctx, now_ms, ar);
    size_t n = 0;
    const struct dict_field *verdict = NULL;
    for (size_t i = 0; i < d->nfields; i++) {
        n += d->fields[i].is_inclusion || d->fields[i].is_exclusion;
        if (d->fields[i].is_eligible)
            verdict = &d->fields[i];
    }
    out->criteria = arena_calloc(ar, n + 1, sizeof *out->criteria);
    if (!out->criteria)
        return err_set(e, ERR_NOMEM, "out of memory evaluating eligibility");
    bool any_fails = false, any_unknown = false;
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!(f->is_inclusion || f->is_exclusion))
            continue;
        struct elig_criterion *cr = &out->criteria[out->ncriteria++];
        cr->field = f;
        cr->is_exclusion = f->is_exclusion;
        int rc = eval_state(&c, f, &cr->state, e);
        if (rc)
            return rc;
        cr->passes = cr->state == (f->is_exclusion ? CRIT_NOT_MET : CRIT_MET);
        any_unknown |= cr->state == CRIT_UNKNOWN;
        any_fails |= cr->state != CRIT_UNKNOWN && !cr->passes;
    }
    if (verdict) {
        enum criterion_state st;
        int rc = eval_state(&c, verdict, &st, e);
        if (rc)
            return rc;
        out->verdict = st == CRIT_UNKNOWN ? ELIG_INCOMPLETE
                       : st == CRIT_MET   ? ELIG_ELIGIBLE
                                          : ELIG_INELIGIBLE;
    } else {
        /* no verdict field: one failed criterion excludes; otherwise all must be known */
        out->verdict = any_fails ? ELIG_INELIGIBLE : any_unknown ? ELIG_INCOMPLETE : ELIG_ELIGIBLE;
    }
    return 0;
}
