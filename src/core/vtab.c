/* The one-record value table (see vtab.h): an array sorted by (field, event, instance, code),
 * searched by bisection. */
#include "core/vtab.h"
#include "base/array.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void vtab_init(struct vtab *t)
{
    memset(t, 0, sizeof *t);
}

void vtab_reset(struct vtab *t)
{
    arena_free(&t->arena);
    t->n = 0;
    t->screening_no = t->study_id = t->site = NULL;
    t->is_enrolled = false;
    t->is_sorted = true;
}

void vtab_free(struct vtab *t)
{
    arena_free(&t->arena);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int vtab_set_record(struct vtab *t, const char *screening_no, const char *study_id)
{
    t->screening_no = arena_strdup(&t->arena, screening_no ? screening_no : "");
    t->study_id = study_id && *study_id ? arena_strdup(&t->arena, study_id) : NULL;
    t->is_enrolled = t->study_id != NULL;
    t->site = NULL;
    if (!t->screening_no || (study_id && *study_id && !t->study_id))
        return ERR_NOMEM;
    return 0;
}

int vtab_set_site(struct vtab *t, const char *site)
{
    t->site = site && *site ? arena_strdup(&t->arena, site) : NULL;
    return site && *site && !t->site ? ERR_NOMEM : 0;
}

int vtab_add(struct vtab *t, const char *event, int instance, const char *field, const char *code,
             const char *value)
{
    struct vtab_value *v = array_grow(t->v, t->n, &t->cap, sizeof *v, 256);
    if (!v)
        return ERR_NOMEM;
    t->v = v;
    struct vtab_value *x = &t->v[t->n];
    x->event = arena_strdup(&t->arena, event ? event : "");
    x->instance = instance;
    x->field = arena_strdup(&t->arena, field);
    x->code = code ? arena_strdup(&t->arena, code) : NULL;
    x->value = arena_strdup(&t->arena, value ? value : "");
    if (!x->event || !x->field || !x->value || (code && !x->code))
        return ERR_NOMEM;
    t->n++;
    t->is_sorted = false;
    return 0;
}

static int cmp_key(const char *field, const char *event, int instance, const char *code,
                   const struct vtab_value *b)
{
    int c = strcmp(field, b->field);
    if (c)
        return c;
    if ((c = strcmp(event, b->event)))
        return c;
    if (instance != b->instance)
        return instance < b->instance ? -1 : 1;
    return strcmp(code ? code : "", b->code ? b->code : "");
}

static int cmp_value(const void *pa, const void *pb)
{
    const struct vtab_value *a = pa;
    return cmp_key(a->field, a->event, a->instance, a->code, pb);
}

static void ensure_sorted(struct vtab *t)
{
    if (!t->is_sorted) {
        if (t->n)
            qsort(t->v, t->n, sizeof *t->v, cmp_value);
        t->is_sorted = true;
    }
}

const char *vtab_get(struct vtab *t, const char *event, int instance, const char *field,
                     const char *code)
{
    ensure_sorted(t);
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(field, event, instance, code, &t->v[mid]);
        if (c == 0)
            return t->v[mid].value[0] ? t->v[mid].value : NULL;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool vtab_num(struct vtab *t, const char *event, int instance, const char *field, double *out)
{
    const char *s = vtab_get(t, event, instance, field, NULL);
    if (!s)
        return false;
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(x)) /* "nan", "inf" are not measurements */
        return false;
    *out = x;
    return true;
}

/* Index of the first value not less than (field, event, instance, code). */
static size_t lower_bound(const struct vtab *t, const char *event, int instance, const char *field,
                          const char *code)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(field, event, instance, code, &t->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int vtab_next_instance(struct vtab *t, const char *event, const char *field, int after)
{
    ensure_sorted(t);
    if (after == INT_MAX)
        return 0;
    /* values of (field, event) are contiguous, in instance order */
    for (size_t i = lower_bound(t, event, after + 1, field, NULL); i < t->n; i++) {
        const struct vtab_value *x = &t->v[i];
        if (strcmp(x->field, field) != 0 || strcmp(x->event, event) != 0)
            break;
        if (x->value[0] && x->instance > 0)
            return x->instance;
    }
    return 0;
}

int vtab_next_instance_any(struct vtab *t, const char *event, const char *const *fields, size_t n,
                           int after)
{
    int best = 0;
    for (size_t k = 0; k < n; k++) {
        int i = vtab_next_instance(t, event, fields[k], after);
        if (i && (!best || i < best))
            best = i;
    }
    return best;
}

bool vtab_has_event(struct vtab *t, const char *event)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].event, event) == 0 && t->v[i].value[0])
            return true;
    return false;
}
