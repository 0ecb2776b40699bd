/* The one-record value table (see vtab.h): an array sorted by (field, event, instance, code);
 * a hash index finds the run of one (field, event), searched by bisection on (instance, code). */
#include "core/vtab.h"
#include "base/array.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "core/dict.h"

void vtab_init(struct vtab *t)
{
    memset(t, 0, sizeof *t);
}

void vtab_reset(struct vtab *t)
{
    arena_reset(&t->arena);
    t->n = 0;
    t->screening_no = t->study_id = t->site = NULL;
    t->is_enrolled = false;
    t->is_sorted = false; /* the next lookup builds the (empty) index */
    t->is_branching_applied = false;
}

/* The dictionary's names ranks, made again for the next dictionary. */
static void drop_ranks(struct vtab *t)
{
    free(t->field_rank);
    free(t->event_rank);
    free(t->counts);
    t->field_rank = t->event_rank = t->counts = NULL;
    t->ncounts = 0;
}

void vtab_set_dict(struct vtab *t, const struct dict *d)
{
    drop_ranks(t); /* made again at the next sort: d may be a new dictionary at the old address */
    t->dict = d;
    t->event_hint = -1;
    t->is_sorted = false;
}

void vtab_free(struct vtab *t)
{
    arena_free(&t->arena);
    free(t->v);
    free(t->runs);
    free(t->slots);
    drop_ranks(t);
    free(t->spare);
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

/* The dictionary's index of event, -1 when it has none; the last one found is tried first
 * (a record's values come event by event). */
static int event_index(struct vtab *t, const char *event)
{
    const struct dict *d = t->dict;
    if (t->event_hint >= 0 && (size_t)t->event_hint < d->nevents &&
        strcmp(d->events[t->event_hint].name, event) == 0)
        return t->event_hint;
    return t->event_hint = dict_event_index(d, event);
}

int vtab_add(struct vtab *t, const char *event, int instance, const char *field, const char *code,
             const char *value)
{
    struct vtab_value *v = array_grow(t->v, t->n, &t->cap, sizeof *v, 256);
    if (!v)
        return ERR_NOMEM;
    t->v = v;
    struct vtab_value *x = &t->v[t->n];
    const struct dict_field *f = t->dict ? dict_field(t->dict, field) : NULL;
    int ev = t->dict && event ? event_index(t, event) : -1;
    x->event = ev >= 0 ? t->dict->events[ev].name : arena_strdup(&t->arena, event ? event : "");
    x->instance = instance;
    x->field = f ? f->name : arena_strdup(&t->arena, field);
    x->field_index = f ? (int)(f - t->dict->fields) : -1;
    x->event_index = ev;
    x->code = code ? arena_strdup(&t->arena, code) : NULL;
    x->value = arena_strdup(&t->arena, value ? value : "");
    if (!x->event || !x->field || !x->value || (code && !x->code))
        return ERR_NOMEM;
    t->n++;
    t->is_sorted = false;
    t->is_branching_applied = false;
    return 0;
}

/* strcmp, but equal at once when both are the same string (a dictionary's name, vtab_set_dict) */
static int name_cmp(const char *a, const char *b)
{
    return a == b ? 0 : strcmp(a, b);
}

/* Compares (instance, code) with a value of the same (field, event). */
static int cmp_in_run(int instance, const char *code, const struct vtab_value *b)
{
    if (instance != b->instance)
        return instance < b->instance ? -1 : 1;
    return strcmp(code ? code : "", b->code ? b->code : "");
}

static int cmp_value(const void *pa, const void *pb)
{
    const struct vtab_value *a = pa, *b = pb;
    int c = name_cmp(a->field, b->field);
    if (c)
        return c;
    if ((c = name_cmp(a->event, b->event)))
        return c;
    return cmp_in_run(a->instance, a->code, b);
}

static unsigned long long run_hash(const char *field, const char *event)
{
    return hash_str(hash_bytes(hash_str(HASH_INIT, field), "", 1), event);
}

/* The slot of (field, event): where its run is, or the empty slot where it would go. */
static size_t *run_slot(const struct vtab *t, const char *field, const char *event,
                        unsigned long long h)
{
    size_t mask = t->nslots - 1, i = (size_t)(h & mask);
    for (;; i = (i + 1) & mask) {
        size_t *s = &t->slots[i];
        if (!*s)
            return s;
        const struct vtab_run *r = &t->runs[*s - 1];
        if (r->hash == h && name_cmp(r->field, field) == 0 && name_cmp(r->event, event) == 0)
            return s;
    }
}

struct name_at {
    const char *name;
    unsigned i;
};

static int name_at_cmp(const void *pa, const void *pb)
{
    return strcmp(((const struct name_at *)pa)->name, ((const struct name_at *)pb)->name);
}

/* rank[i]: the place of at[i]'s name among the n names in byte order (at is sorted). */
static unsigned *rank_names(struct name_at *at, size_t n)
{
    unsigned *rank = malloc((n ? n : 1) * sizeof *rank);
    if (!rank)
        return NULL;
    qsort(at, n, sizeof *at, name_at_cmp);
    for (size_t k = 0; k < n; k++)
        rank[at[k].i] = (unsigned)k;
    return rank;
}

static bool make_ranks(struct vtab *t)
{
    const struct dict *d = t->dict;
    size_t n = d->nfields > d->nevents ? d->nfields : d->nevents;
    struct name_at *at = malloc((n ? n : 1) * sizeof *at);
    if (at) {
        for (size_t i = 0; i < d->nfields; i++)
            at[i] = (struct name_at){d->fields[i].name, (unsigned)i};
        t->field_rank = rank_names(at, d->nfields);
        for (size_t i = 0; i < d->nevents; i++)
            at[i] = (struct name_at){d->events[i].name, (unsigned)i};
        t->event_rank = rank_names(at, d->nevents);
        t->counts = calloc(n + 1, sizeof *t->counts);
        t->ncounts = n + 1;
        free(at);
    }
    if (!t->field_rank || !t->event_rank || !t->counts) {
        drop_ranks(t);
        return false;
    }
    return true;
}

/* One stable counting pass: src's n values into dst in the order of their field's (by_field)
 * or event's rank, of which there are k. */
static void count_pass(unsigned *counts, size_t k, const unsigned *rank, bool by_field,
                       const struct vtab_value *src, struct vtab_value *dst, size_t n)
{
    memset(counts, 0, (k + 1) * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        counts[rank[by_field ? src[i].field_index : src[i].event_index] + 1]++;
    for (size_t r = 1; r <= k; r++)
        counts[r] += counts[r - 1];
    for (size_t i = 0; i < n; i++)
        dst[counts[rank[by_field ? src[i].field_index : src[i].event_index]]++] = src[i];
}

/* Sorts as qsort with cmp_value would, without comparing a name: every value of the
 * dictionary's fields and events is put in (field, event) order by the names' ranks in two
 * stable counting passes, then each (field, event) in (instance, code) order by insertion,
 * which costs one comparison per value for values added in the store's key order (event,
 * instance, field, code). Sorting a record was a tenth of an export with qsort (its
 * comparisons and copies, not the names: integers in their place gained nothing). false,
 * and nothing moved, when a value is not of the dictionary or memory is short: qsort then. */
static bool bucket_sort(struct vtab *t)
{
    if (!t->dict || t->n < 16)
        return false;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].field_index < 0 || t->v[i].event_index < 0)
            return false;
    if (!t->counts && !make_ranks(t))
        return false;
    if (t->spare_cap < t->n) { /* as large as v */
        struct vtab_value *g = realloc(t->spare, t->cap * sizeof *g);
        if (!g)
            return false;
        t->spare = g;
        t->spare_cap = t->cap;
    }
    struct vtab_value *tmp = t->spare;
    const struct dict *d = t->dict;
    count_pass(t->counts, d->nevents, t->event_rank, false, t->v, tmp, t->n);
    count_pass(t->counts, d->nfields, t->field_rank, true, tmp, t->v, t->n);
    struct vtab_value *v = t->v;
    for (size_t i = 1; i < t->n; i++) {
        size_t j = i;
        while (j > 0 && v[j - 1].field_index == v[i].field_index &&
               v[j - 1].event_index == v[i].event_index &&
               cmp_in_run(v[i].instance, v[i].code, &v[j - 1]) < 0)
            j--;
        if (j < i) {
            struct vtab_value x = v[i];
            memmove(&v[j + 1], &v[j], (i - j) * sizeof *v);
            v[j] = x;
        }
    }
    return true;
}

/* Sorts the values and indexes their runs. Returns false when out of memory (lookups then
 * find nothing: the callers' "absent"; vtab_add has already reported memory trouble to a
 * caller that loads a whole record). */
static bool ensure_sorted(struct vtab *t)
{
    if (t->is_sorted)
        return true;
    if (t->n && !bucket_sort(t))
        qsort(t->v, t->n, sizeof *t->v, cmp_value);
    t->nruns = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct vtab_value *x = &t->v[i];
        if (t->nruns && name_cmp(t->runs[t->nruns - 1].field, x->field) == 0 &&
            name_cmp(t->runs[t->nruns - 1].event, x->event) == 0) {
            t->runs[t->nruns - 1].end = i + 1;
            continue;
        }
        struct vtab_run *g = array_grow(t->runs, t->nruns, &t->runs_cap, sizeof *g, 64);
        if (!g)
            return false;
        t->runs = g;
        g[t->nruns++] =
            (struct vtab_run){x->field, x->event, run_hash(x->field, x->event), i, i + 1};
    }
    size_t want = 16;
    while (want < 2 * t->nruns)
        want *= 2;
    if (want > t->nslots) {
        size_t *s = realloc(t->slots, want * sizeof *s);
        if (!s)
            return false;
        t->slots = s;
        t->nslots = want;
    }
    memset(t->slots, 0, t->nslots * sizeof *t->slots);
    for (size_t r = 0; r < t->nruns; r++)
        *run_slot(t, t->runs[r].field, t->runs[r].event, t->runs[r].hash) = r + 1;
    t->is_sorted = true;
    return true;
}

bool vtab_sort(struct vtab *t)
{
    return ensure_sorted(t);
}

/* The run of (field, event), NULL when it has no value. */
static const struct vtab_run *find_run(struct vtab *t, const char *event, const char *field)
{
    if (!ensure_sorted(t) || !t->nslots)
        return NULL;
    size_t s = *run_slot(t, field, event ? event : "", run_hash(field, event ? event : ""));
    return s ? &t->runs[s - 1] : NULL;
}

/* Index of the first value of run r not less than (instance, code). */
static size_t lower_bound(const struct vtab *t, const struct vtab_run *r, int instance,
                          const char *code)
{
    size_t lo = r->start, hi = r->end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_in_run(instance, code, &t->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *vtab_get(struct vtab *t, const char *event, int instance, const char *field,
                     const char *code)
{
    const struct vtab_run *r = find_run(t, event, field);
    if (!r)
        return NULL;
    size_t i = lower_bound(t, r, instance, code);
    if (i < r->end && cmp_in_run(instance, code, &t->v[i]) == 0)
        return t->v[i].value[0] ? t->v[i].value : NULL;
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

int vtab_next_instance(struct vtab *t, const char *event, const char *field, int after)
{
    if (after == INT_MAX)
        return 0;
    const struct vtab_run *r = find_run(t, event, field);
    if (!r)
        return 0;
    /* the run is in instance order */
    for (size_t i = lower_bound(t, r, after + 1, NULL); i < r->end; i++) {
        const struct vtab_value *x = &t->v[i];
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
