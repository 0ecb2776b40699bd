/* API of the IO stopwatch: the latest placement with its taps (GET), and one tap (POST).
 *
 * The stopwatch in any browser sends taps as instants (ms since the epoch); the server turns
 * them into the site's wall-clock (core/sitetime.h) and writes the placement (io_procedure) and
 * attempt (io_attempt) forms through store_put_changes, with the placement's summary fields
 * (number of attempts, success, site and side of the placed needle) recomputed from its
 * attempts in the same change set. Each tap writes only its own fields, so two devices on one
 * procedure converge: the last write of each tap wins, and an attempt is found by (placement,
 * attempt number) before a new instance is taken. Writes run on the server's one writer thread
 * (writer.c), so reading the state and writing the tap cannot interleave with another write.
 * A "decision" without a placement while the latest placement is still open is refused (409)
 * unless the client confirms a new placement with "new_placement": true. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "core/schedule.h"
#include "core/sitetime.h"
#include "formats/json_out.h"
#include "http/handlers.h"
#include "http/io_state.h"

/* A stored wall-clock value as {"wall": "...", "ms": instant} for the clocks, or null. */
static json_t *when(const char *wall)
{
    long long w;
    if (!wall)
        return json_null();
    if (schedule_parse_wallclock(wall, &w) != 0)
        return json_pack("{s:s, s:n}", "wall", wall, "ms");
    return json_pack("{s:s, s:I}", "wall", wall, "ms", (json_int_t)sitetime_ms_from_wall(w));
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *api_stopwatch_state(struct req *r, const char *record, const struct page_io_state *s)
{
    const struct page_io_placement *p = page_io_latest(s);
    json_t *pl = json_null();
    if (p) {
        json_t *atts = json_array();
        for (size_t i = 0; i < s->natt; i++) {
            const struct page_io_attempt *a = &s->att[i];
            if (a->placement != p->number)
                continue;
            json_array_append_new(
                atts, json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "instance", a->instance,
                                "number", a->number, "site", str_or_null(a->site), "side",
                                str_or_null(a->side), "start", when(a->start), "end", when(a->end),
                                "outcome", str_or_null(a->outcome)));
        }
        pl = json_pack("{s:i, s:i, s:i, s:b, s:b, s:o, s:o, s:o, s:o, s:o}", "instance",
                       p->instance, "number", p->number, "status", p->status, "open", p->is_open,
                       "empty", p->is_empty, "decision", when(p->decision), "confirmed",
                       when(p->confirm), "infusion", when(p->infusion), "success",
                       str_or_null(p->success), "attempts", atts);
    }
    return json_pack("{s:s, s:s, s:s, s:I, s:i, s:o}", "record", record, "event", s->event,
                     "time_zone", sitetime_zone(), "server_ms", (json_int_t)store_now_ms(r->st),
                     "placements", (int)s->npl, "placement", pl ? pl : json_null());
}

int api_stopwatch_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    if (store_record_get(r->st, req_param(r, "id"), &rec, &e) != 0)
        return resp_err(r, &e);
    struct page_io_state s;
    if (page_io_load(r, store_record_name(&rec), &s, &e) != 0)
        return resp_err(r, &e);
    return resp_json(r, 200, api_stopwatch_state(r, store_record_name(&rec), &s));
}

/* The changes of one tap, collected in r->ar. */
struct tapset {
    struct req *r;
    const char *event;
    struct store_change ch[24];
    size_t n;
    int pinst, pnumber; /* the placement the tap belongs to: instance, iop_number */
};

static void put(struct tapset *t, int instance, const char *field, const char *value)
{
    if (t->n < sizeof t->ch / sizeof t->ch[0])
        t->ch[t->n++] = (struct store_change){
            .event = t->event, .instance = instance, .field = field, .value = value ? value : ""};
}

static const char *itoa_ar(struct req *r, int v)
{
    return arena_printf(&r->ar, "%d", v);
}

/* Integer member name of body in [lo, hi], or 0 when absent; -1 after filling e. */
static int member_int(json_t *body, const char *name, int lo, int hi, int *out, struct err *e)
{
    json_t *v = json_object_get(body, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return err_set_field(e, ERR_INVALID, name, "%s must be a whole number from %d to %d", name,
                             lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static const char *const taps[] = {"decision", "start",     "success",
                                   "failure",  "confirmed", "infusion"};

static int tap_changes(struct req *r, json_t *body, struct page_io_state *s, struct tapset *t,
                       struct err *e)
{
    const char *tap = json_string_value(json_object_get(body, "tap"));
    bool is_tap = false;
    for (size_t i = 0; tap && i < sizeof taps / sizeof taps[0]; i++)
        is_tap |= strcmp(tap, taps[i]) == 0;
    if (!is_tap)
        return err_set_field(e, ERR_INVALID, "tap",
                             "tap '%s' is not one of decision, start, success, failure, "
                             "confirmed, infusion",
                             tap ? tap : "");
    bool undo = json_is_true(json_object_get(body, "undo"));
    json_t *at = json_object_get(body, "at_ms");
    if (!undo && (!json_is_integer(at) || json_integer_value(at) <= 0))
        return err_set_field(e, ERR_INVALID, "at_ms",
                             "at_ms must be the tap's instant in milliseconds since 1970 (UTC)");
    const char *wall = NULL;
    if (!undo) {
        char buf[SITETIME_TEXT_LEN];
        sitetime_format_ms((long long)json_integer_value(at), true, buf);
        wall = arena_strdup(&r->ar, buf);
    }
    int pinst = 0, anum = 0;
    if (member_int(body, "placement", 1, 999, &pinst, e) ||
        member_int(body, "attempt", 1, 10, &anum, e))
        return e->code;
    struct page_io_placement *p = NULL;
    for (size_t i = 0; pinst && i < s->npl; i++)
        if (s->pl[i].instance == pinst)
            p = &s->pl[i];
    if (pinst && !p)
        return err_set_field(e, ERR_NOT_FOUND, "placement", "there is no IO placement #%d", pinst);
    const struct page_io_placement *latest = page_io_latest(s);
    if (strcmp(tap, "decision") == 0 && !p) {
        if (undo)
            return err_set_field(e, ERR_INVALID, "placement", "undo needs the placement");
        if (latest && latest->is_open && !json_is_true(json_object_get(body, "new_placement")))
            return err_set_field(e, ERR_CONFLICT, "placement",
                                 "IO placement #%d is still open (decision %s): continue it, or "
                                 "confirm a new placement",
                                 latest->instance, latest->decision ? latest->decision : "blank");
        int next = 1;
        int rc = store_next_instance(r->st, req_param(r, "id"), s->event,
                                     dict_field(store_dict(r->st), "iop_number")->form, &next, e);
        if (rc)
            return rc;
        t->pinst = t->pnumber = next;
        put(t, next, "iop_number", itoa_ar(r, next));
        put(t, next, "iop_decision_dt", wall);
        return 0;
    }
    if (!p)
        return err_set_field(e, ERR_INVALID, "placement", "tap '%s' needs the placement", tap);
    t->pinst = p->instance;
    t->pnumber = p->number;
    if (strcmp(tap, "decision") == 0) {
        put(t, p->instance, "iop_decision_dt", wall);
        return 0;
    }
    if (strcmp(tap, "confirmed") == 0 || strcmp(tap, "infusion") == 0) {
        put(t, p->instance, tap[0] == 'c' ? "iop_confirm_dt" : "iop_inf_start_dt", wall);
        return 0;
    }
    /* an attempt's tap: start, success, failure */
    if (!anum)
        return err_set_field(e, ERR_INVALID, "attempt", "tap '%s' needs the attempt number", tap);
    struct page_io_attempt *a = NULL;
    for (size_t i = 0; i < s->natt; i++)
        if (s->att[i].placement == p->number && s->att[i].number == anum)
            a = &s->att[i];
    bool is_start = strcmp(tap, "start") == 0;
    if (!a && (!is_start || undo))
        return err_set_field(e, ERR_NOT_FOUND, "attempt",
                             "placement #%d has no attempt %d; tap its skin puncture first",
                             p->instance, anum);
    int inst = a ? a->instance : 0;
    if (!a) {
        int rc = store_next_instance(r->st, req_param(r, "id"), s->event,
                                     dict_field(store_dict(r->st), "att_number")->form, &inst, e);
        if (rc)
            return rc;
    }
    if (is_start) {
        const char *site = json_string_value(json_object_get(body, "site"));
        const char *side = json_string_value(json_object_get(body, "side"));
        put(t, inst, "att_placement", undo ? NULL : itoa_ar(r, p->number));
        put(t, inst, "att_number", undo ? NULL : itoa_ar(r, anum));
        put(t, inst, "att_site", undo ? NULL : site);
        put(t, inst, "att_side", undo ? NULL : side);
        put(t, inst, "att_start_dt", wall);
        if (undo) {
            put(t, inst, "att_end_dt", NULL);
            put(t, inst, "att_outcome", NULL);
        }
    } else {
        put(t, inst, "att_end_dt", wall);
        put(t, inst, "att_outcome", undo ? NULL : tap[1] == 'u' ? "1" : "2");
    }
    return 0;
}

/* Whether the change set writes (instance, field); *value gets what it writes (NULL: clears). */
static bool changed(const struct tapset *t, int instance, const char *field, const char **value)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ch[i].instance == instance && strcmp(t->ch[i].field, field) == 0) {
            *value = *t->ch[i].value ? t->ch[i].value : NULL;
            return true;
        }
    return false;
}

/* (instance, field) of an attempt as it will be after the change set; a is the stored attempt
 * (NULL for one the tap creates), stored its value of field. */
static const char *after(const struct tapset *t, int instance, const char *field,
                         const char *stored)
{
    const char *v;
    return changed(t, instance, field, &v) ? v : stored;
}

/* One attempt of the placement, as it will be, into the summary. */
struct tally {
    int n, last;
    bool any_success, all_ended;
    const char *site, *side;
};

static void count(struct tally *c, const struct tapset *t, int inst,
                  const struct page_io_attempt *a, int pnumber)
{
    char buf[16];
    fmt_exact(buf, sizeof buf, "%d", a ? a->placement : 0);
    const char *pl = after(t, inst, "att_placement", a ? buf : NULL);
    if (!pl || atoi(pl) != pnumber || !after(t, inst, "att_start_dt", a ? a->start : NULL))
        return;
    fmt_exact(buf, sizeof buf, "%d", a ? a->number : 0);
    const char *num = after(t, inst, "att_number", buf);
    int number = num ? atoi(num) : 0;
    const char *outcome = after(t, inst, "att_outcome", a ? a->outcome : NULL);
    const char *site = after(t, inst, "att_site", a ? a->site : NULL);
    const char *side = after(t, inst, "att_side", a ? a->side : NULL);
    c->n++;
    if (!outcome)
        c->all_ended = false;
    if (outcome && strcmp(outcome, "1") == 0 && !c->any_success) {
        c->any_success = true;
        c->site = site;
        c->side = side;
    } else if (!c->any_success && number >= c->last) {
        c->last = number;
        c->site = site;
        c->side = side;
    }
}

/* The placement's summary from its attempts as they will be: iop_n_attempts, iop_success (1
 * when an attempt succeeded, 0 when every attempt ended in failure, blank while one runs or
 * before the first), and the site and side of the successful attempt, else of the last one. */
static void summary(struct req *r, struct tapset *t, const struct page_io_state *s)
{
    struct tally c = {.all_ended = true};
    for (size_t i = 0; i < s->natt; i++)
        count(&c, t, s->att[i].instance, &s->att[i], t->pnumber);
    const char *v;
    for (size_t i = 0; i < t->n; i++) { /* an attempt the tap creates */
        bool is_new = strcmp(t->ch[i].field, "att_placement") == 0;
        for (size_t k = 0; is_new && k < s->natt; k++)
            is_new = s->att[k].instance != t->ch[i].instance;
        if (is_new && changed(t, t->ch[i].instance, "att_placement", &v))
            count(&c, t, t->ch[i].instance, NULL, t->pnumber);
    }
    put(t, t->pinst, "iop_n_attempts", c.n ? itoa_ar(r, c.n) : NULL);
    put(t, t->pinst, "iop_success", c.any_success ? "1" : c.n && c.all_ended ? "0" : NULL);
    put(t, t->pinst, "iop_site", c.site);
    put(t, t->pinst, "iop_side", c.side);
}

int api_stopwatch_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    struct store_record rec;
    struct page_io_state s = {0};
    struct tapset t = {.r = r};
    int rc = store_record_get(r->st, req_param(r, "id"), &rec, &e);
    if (!rc && rec.status != STORE_REC_ENROLLED)
        rc = err_set(&e, ERR_CONFLICT, "the stopwatch is for enrolled subjects");
    if (!rc)
        rc = page_io_load(r, store_record_name(&rec), &s, &e);
    t.event = s.event;
    if (!rc)
        rc = tap_changes(r, body, &s, &t, &e);
    if (!rc)
        summary(r, &t, &s);
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_put_changes(r->st, &who, store_record_name(&rec), t.ch, t.n, NULL, &res, &e);
    if (!rc)
        rc = page_io_load(r, store_record_name(&rec), &s, &e);
    json_decref(body);
    if (rc) {
        rc = resp_err_issues(r, &e, res.nissues ? json_out_issues(&res) : NULL);
        store_put_result_free(&res);
        return rc;
    }
    store_put_result_free(&res);
    return resp_json(r, 200, api_stopwatch_state(r, store_record_name(&rec), &s));
}
