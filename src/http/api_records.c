/* API: the screening log, eligibility criterion by criterion, enrolment, and reading records.
 * Screening and enrolment write through the store's screening/enrolment functions, which use
 * the one write path (store_put_changes): a rejected value creates nothing. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "formats/json_out.h"

json_t *api_record_json(const struct store_record *rec)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "record", store_record_name(rec),
                          "screening_no", rec->screening_no, "study_id", rec->study_id, "status",
                          store_record_status_name(rec->status), "locked", rec->is_locked,
                          "screened_at", rec->screened_at, "screened_by", rec->screened_by);
    if (!o)
        return NULL;
    json_object_set_new(o, "eligible",
                        rec->eligible < 0 ? json_null() : json_boolean(rec->eligible));
    json_object_set_new(o, "enrolled_at",
                        rec->enrolled_at[0] ? json_string(rec->enrolled_at) : json_null());
    json_object_set_new(o, "site", rec->site[0] ? json_string(rec->site) : json_null());
    return o;
}

static int list_records(struct req *r, const char *key)
{
    struct err e;
    err_clear(&e);
    struct store_record *recs = NULL;
    size_t n = 0;
    if (store_record_list(r->st, &recs, &n, &e) != 0)
        return resp_err(r, &e);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, api_record_json(&recs[i]));
    free(recs);
    return resp_json(r, 200, json_pack("{s:o}", key, a));
}

int api_screening_get(struct req *r)
{
    return list_records(r, "screening_log");
}

int api_records_get(struct req *r)
{
    return list_records(r, "records");
}

/* The event a body names, else the protocol's first (screening) event. */
static const char *body_event(struct req *r, json_t *body)
{
    const char *ev = json_string_value(json_object_get(body, "event"));
    if (ev)
        return ev;
    const struct dict *d = store_dict(r->st);
    return d->nevents ? d->events[0].name : "event_1";
}

/* Screening and enrolment: {"event"?, "values": {...}} in, the record out. */
enum record_op { OP_SCREEN, OP_ENROL };

static int record_write(struct req *r, enum record_op op)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    struct store_change *ch = NULL;
    size_t n = 0;
    int rc = api_changes_from_json(r, json_object_get(body, "values"), body_event(r, body), 0, &ch,
                                   &n, &e);
    struct store_put_result res;
    store_put_result_init(&res);
    char name[STORE_RECORD_ID_MAX + 1] = "";
    struct store_ctx who = req_who(r);
    /* screening: "site", the site the new record belongs to (store_ctx.site) */
    if (rc == 0 && op == OP_SCREEN)
        rc = api_body_str(body, "site", &who.site, &e);
    if (rc == 0 && op == OP_SCREEN)
        rc = store_screen_create(r->st, &who, ch, n, name, &res, &e);
    else if (rc == 0)
        rc = store_enroll(r->st, &who, req_param(r, "id"), ch, n, name, &res, &e);
    struct store_record rec;
    if (rc == 0)
        rc = store_record_get(r->st, name, &rec, &e);
    json_decref(body);
    rc = api_put_reply(r, rc, op == OP_SCREEN ? 201 : 200, &e, &res,
                       rc == 0 ? api_record_json(&rec) : NULL);
    store_put_result_free(&res);
    return rc;
}

int api_screening_post(struct req *r)
{
    return record_write(r, OP_SCREEN);
}

static const char *state_name(enum criterion_state s)
{
    return s == CRIT_MET ? "met" : s == CRIT_NOT_MET ? "not_met" : "unknown";
}

int api_eligibility_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct elig_result el;
    if (store_record_eligibility(r->st, req_param(r, "id"), &r->ar, &el, &e) != 0)
        return resp_err(r, &e);
    json_t *crit = json_array();
    for (size_t i = 0; i < el.ncriteria; i++) {
        const struct elig_criterion *c = &el.criteria[i];
        json_array_append_new(crit, json_pack("{s:s, s:s, s:s, s:s, s:b}", "field", c->field->name,
                                              "label", c->field->label, "kind",
                                              c->is_exclusion ? "exclusion" : "inclusion", "state",
                                              state_name(c->state), "passes", c->passes));
    }
    const char *verdict = el.verdict == ELIG_ELIGIBLE     ? "eligible"
                          : el.verdict == ELIG_INELIGIBLE ? "ineligible"
                                                          : "incomplete";
    return resp_json(r, 200,
                     json_pack("{s:s, s:s, s:o}", "record", req_param(r, "id"), "verdict", verdict,
                               "criteria", crit));
}

int api_enrol_post(struct req *r)
{
    return record_write(r, OP_ENROL);
}

struct values_ctx {
    json_t *values;
};

static int value_cb(void *ctx, const struct store_value *v)
{
    struct values_ctx *c = ctx;
    json_t *o = json_pack("{s:s, s:i, s:s, s:o}", "event", v->event, "instance", v->instance,
                          "field", v->field, "value", json_out_text(v->value ? v->value : ""));
    if (!o)
        return ERR_NOMEM;
    if (v->code)
        json_object_set_new(o, "code", json_string(v->code));
    if (v->flag)
        json_object_set_new(o, "flag", json_string(v->flag));
    json_object_set_new(o, "protocol_version", json_integer(v->version));
    json_array_append_new(c->values, o);
    return 0;
}

static int state_cb(void *ctx, const struct store_form_state *s)
{
    json_t *a = ctx;
    return json_array_append_new(a,
                                 json_pack("{s:s, s:s, s:i, s:i}", "event", s->event, "form",
                                           s->form, "instance", s->instance, "status", s->status));
}

int api_record_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    const char *id = req_param(r, "id");
    if (store_record_get(r->st, id, &rec, &e) != 0)
        return resp_err(r, &e);
    struct values_ctx vc = {.values = json_array()};
    json_t *states = json_array();
    if (store_record_values(r->st, id, value_cb, &vc, &e) != 0 ||
        store_form_states(r->st, id, state_cb, states, &e) != 0) {
        json_decref(vc.values);
        json_decref(states);
        return resp_err(r, &e);
    }
    struct store_form_lock *fl = NULL;
    size_t nfl = 0;
    if (store_form_locks(r->st, rec.id, &fl, &nfl, &e) != 0) {
        json_decref(vc.values);
        json_decref(states);
        return resp_err(r, &e);
    }
    json_t *locks = json_array();
    for (size_t i = 0; i < nfl; i++)
        json_array_append_new(locks, json_out_form_lock(&fl[i]));
    free(fl);
    json_t *o = api_record_json(&rec);
    json_object_set_new(o, "values", vc.values);
    json_object_set_new(o, "forms", states);
    json_object_set_new(o, "locked_forms", locks);
    r->cache_record = rec.id; /* what this answer is about (RT_CACHE) */
    return resp_json(r, 200, o);
}

/* POST /api/v1/records/{id}/lock and /unlock: {"reason"?, "event"?, "form"?, "instance"?} —
 * with a form, that form instance; without, the whole record (store_form_lock,
 * store_record_lock). */
static int lock_post(struct req *r, bool lock)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *id = req_param(r, "id"), *reason, *event = NULL, *form = NULL;
    int instance = 0;
    int rc = api_body_str(body, "reason", &reason, &e);
    if (!rc)
        rc = api_body_str(body, "event", &event, &e);
    if (!rc)
        rc = api_body_str(body, "form", &form, &e);
    if (!rc)
        rc = api_body_instance(body, &instance, &e);
    if (!rc && !form && event)
        rc = err_set_field(&e, ERR_INVALID, "form",
                           "an event without a form: give the form to "
                           "lock, or neither to lock the record");
    struct store_ctx who = req_who(r);
    if (!rc && form)
        rc = store_form_lock(r->st, &who, id, event, form, instance, lock, reason, &e);
    else if (!rc)
        rc = lock ? store_record_lock(r->st, &who, id, reason, &e)
                  : store_record_unlock(r->st, &who, id, reason, &e);
    json_t *out = NULL;
    if (!rc && form)
        out = json_pack("{s:s, s:s, s:s, s:i, s:b}", "record", id, "event", event, "form", form,
                        "instance", instance, "locked", lock);
    else if (!rc)
        out = json_pack("{s:s, s:b}", "record", id, "locked", lock);
    json_decref(body);
    return rc ? resp_err(r, &e) : resp_json(r, 200, out);
}

int api_record_lock_post(struct req *r)
{
    return lock_post(r, true);
}

int api_record_unlock_post(struct req *r)
{
    return lock_post(r, false);
}
