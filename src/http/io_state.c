/* Reading a subject's IO placements and attempts (io_state.h). */
#include "http/io_state.h"

#include <string.h>

#include "http/html.h"
#include "http/page.h"

/* The stopwatch's fields: the page and the API refuse to run without them. */
static const char *const needed[] = {
    "iop_number",  "iop_decision_dt", "iop_site",         "iop_side",      "iop_n_attempts",
    "iop_success", "iop_confirm_dt",  "iop_inf_start_dt", "att_placement", "att_number",
    "att_site",    "att_side",        "att_start_dt",     "att_end_dt",    "att_outcome",
};

struct loader {
    struct req *r;
    struct page_io_state *s;
    const char *proc_form;
    size_t cap_pl, cap_att;
    bool failed;
};

/* The element for instance in *arr, an ascending array of *n elem-byte structs whose first
 * member is int instance (capacity *cap, in ar): found, or inserted zeroed in its place. NULL
 * when out of memory. */
static void *find_or_add(struct arena *ar, void **arr, size_t *n, size_t *cap, size_t elem,
                         int instance)
{
    char *a = *arr;
    size_t at = *n;
    int k;
    for (size_t i = 0; i < *n; i++) {
        memcpy(&k, a + i * elem, sizeof k);
        if (k == instance)
            return a + i * elem;
        if (k > instance && at == *n)
            at = i;
    }
    a = arena_grow(ar, a, *n, cap, elem, 8);
    if (!a)
        return NULL;
    memmove(a + (at + 1) * elem, a + at * elem, (*n - at) * elem);
    memset(a + at * elem, 0, elem);
    memcpy(a + at * elem, &instance, sizeof instance);
    *arr = a;
    (*n)++;
    return a + at * elem;
}

static struct page_io_placement *placement(struct loader *l, int instance)
{
    void *arr = l->s->pl;
    size_t before = l->s->npl;
    struct page_io_placement *p =
        find_or_add(&l->r->ar, &arr, &l->s->npl, &l->cap_pl, sizeof *p, instance);
    l->s->pl = arr;
    if (p && l->s->npl > before)
        p->status = -1; /* no status stored (yet) */
    return p;
}

static struct page_io_attempt *attempt(struct loader *l, int instance)
{
    void *arr = l->s->att;
    struct page_io_attempt *a =
        find_or_add(&l->r->ar, &arr, &l->s->natt, &l->cap_att, sizeof *a, instance);
    l->s->att = arr;
    return a;
}

static int small_int(const char *v)
{
    int n = 0;
    for (; v && *v >= '0' && *v <= '9' && n < 100000; v++)
        n = n * 10 + (*v - '0');
    return v && *v ? 0 : n;
}

static int value_cb(void *ctx, const struct store_value *v)
{
    struct loader *l = ctx;
    if (strcmp(v->event, l->s->event) != 0 || !v->value || !*v->value || v->instance < 1)
        return 0;
    const char *f = v->field;
    if (strncmp(f, "iop_", 4) == 0) {
        struct page_io_placement *p = placement(l, v->instance);
        const char **slot = !p                                   ? NULL
                            : strcmp(f, "iop_decision_dt") == 0  ? &p->decision
                            : strcmp(f, "iop_confirm_dt") == 0   ? &p->confirm
                            : strcmp(f, "iop_inf_start_dt") == 0 ? &p->infusion
                            : strcmp(f, "iop_success") == 0      ? &p->success
                                                                 : NULL;
        if (p && strcmp(f, "iop_number") == 0)
            p->number = small_int(v->value);
        if (p && strcmp(f, "iop_n_attempts") == 0)
            p->crf_attempts = small_int(v->value);
        if (!p)
            l->failed = true;
        else if (slot && !(*slot = arena_strdup(&l->r->ar, v->value)))
            l->failed = true;
    } else if (strncmp(f, "att_", 4) == 0) {
        struct page_io_attempt *a = attempt(l, v->instance);
        if (!a) {
            l->failed = true;
            return 0;
        }
        if (strcmp(f, "att_number") == 0)
            a->number = small_int(v->value);
        else if (strcmp(f, "att_placement") == 0)
            a->placement = small_int(v->value);
        const char **slot = strcmp(f, "att_site") == 0       ? &a->site
                            : strcmp(f, "att_side") == 0     ? &a->side
                            : strcmp(f, "att_start_dt") == 0 ? &a->start
                            : strcmp(f, "att_end_dt") == 0   ? &a->end
                            : strcmp(f, "att_outcome") == 0  ? &a->outcome
                                                             : NULL;
        if (slot && !(*slot = arena_strdup(&l->r->ar, v->value)))
            l->failed = true;
    }
    return 0;
}

static int status_cb(void *ctx, const struct store_form_state *fs)
{
    struct loader *l = ctx;
    if (strcmp(fs->event, l->s->event) != 0 || strcmp(fs->form, l->proc_form) != 0)
        return 0;
    struct page_io_placement *p = placement(l, fs->instance);
    if (!p)
        l->failed = true;
    else
        p->status = fs->status;
    return 0;
}

/* The event collecting the attempt form into out->event; ERR_NOT_FOUND without the IO forms. */
static int io_event(struct req *r, struct page_io_state *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    const struct dict *d = store_dict(r->st);
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!dict_field(d, needed[i]))
            return err_set(e, ERR_NOT_FOUND, "this protocol has no IO procedure/attempt forms");
    int fatt = dict_form_index(d, dict_field(d, "att_number")->form);
    for (size_t ev = 0; ev < d->nevents && !out->event; ev++)
        if (d->form_at_event[ev * d->nforms + (size_t)fatt])
            out->event = d->events[ev].name;
    if (!out->event)
        return err_set(e, ERR_NOT_FOUND, "no event collects the IO attempt form");
    return 0;
}

/* What the loaded values say of each placement: its attempts, open, empty. */
static void io_finish(struct page_io_state *out)
{
    for (size_t i = 0; i < out->npl; i++) {
        struct page_io_placement *p = &out->pl[i];
        if (!p->number)
            p->number = p->instance;
        for (size_t k = 0; k < out->natt; k++)
            p->nattempts += out->att[k].placement == p->number;
        p->is_open = p->status != 2 && !p->infusion;
        p->is_empty = p->decision && p->nattempts == 0 && p->crf_attempts == 0;
    }
}

int page_io_load(struct req *r, const char *record, struct page_io_state *out, struct err *e)
{
    int rc = io_event(r, out, e);
    if (rc)
        return rc;
    struct loader l = {
        .r = r, .s = out, .proc_form = dict_field(store_dict(r->st), "iop_number")->form};
    rc = store_record_values(r->st, record, value_cb, &l, e);
    if (!rc)
        rc = store_form_states(r->st, record, status_cb, &l, e);
    if (!rc && l.failed)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (!rc)
        io_finish(out);
    return rc;
}

struct study_loader {
    const struct store_record *recs;
    struct loader *l; /* [nrecs] */
    size_t nrecs;
};

static int study_cb(void *ctx, const struct store_value *v)
{
    struct study_loader *sl = ctx;
    size_t i = (size_t)(v->record_id - 1); /* ids are given in screening order, as recs is */
    if (i >= sl->nrecs || sl->recs[i].id != v->record_id)
        for (i = 0; i < sl->nrecs && sl->recs[i].id != v->record_id; i++)
            ;
    return i < sl->nrecs ? value_cb(&sl->l[i], v) : 0;
}

int page_io_load_study(struct req *r, const struct store_record *recs, size_t n,
                       struct page_io_state *out, struct err *e)
{
    static const char *const fields[] = {"iop_number", "iop_decision_dt", "iop_n_attempts",
                                         "att_placement", "att_number"};
    struct study_loader sl = {.recs = recs, .nrecs = n};
    sl.l = arena_calloc(&r->ar, n ? n : 1, sizeof *sl.l);
    if (!sl.l)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = io_event(r, &out[i], e);
        sl.l[i] = (struct loader){.r = r, .s = &out[i]};
    }
    if (!rc)
        rc = store_fields_values(r->st, fields, sizeof fields / sizeof fields[0], study_cb, &sl, e);
    for (size_t i = 0; i < n && !rc; i++)
        if (sl.l[i].failed)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++)
        io_finish(&out[i]);
    return rc;
}

const struct page_io_placement *page_io_latest(const struct page_io_state *s)
{
    return s->npl ? &s->pl[s->npl - 1] : NULL;
}

void page_io_link(struct req *r, const char *record, const struct page_io_state *s,
                  const struct page_io_placement *p)
{
    const struct dict *d = store_dict(r->st);
    html_raw(r, "<a href=\"/records/");
    html_url(r, record);
    html_raw(r, "/forms/");
    html_text(r, s->event);
    html_raw(r, "/");
    html_text(r, dict_field(d, "iop_number")->form);
    html_rawf(r, "?instance=%d\">IO placement #%d</a>", p->instance, p->number);
}
