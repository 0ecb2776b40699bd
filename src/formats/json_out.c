/* What the store reports, as JSON (see json_out.h). */
#include "formats/json_out.h"

json_t *json_out_issues(const struct store_put_result *res)
{
    json_t *a = json_array();
    for (size_t i = 0; a && res && i < res->nissues; i++) {
        const struct store_issue *s = &res->issues[i];
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "level",
                                        s->level == STORE_ISSUE_HARD ? "error" : "warning", "event",
                                        s->event, "instance", s->instance, "field", s->field,
                                        "rule", s->rule, "value", s->value, "message", s->msg));
    }
    return a;
}

json_t *json_out_put_result(const struct store_put_result *res, json_t *o)
{
    if (!o)
        o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "changed", json_integer((json_int_t)res->nchanged));
    json_object_set_new(o, "calculated", json_integer((json_int_t)res->ncalc));
    json_object_set_new(o, "status_changed", json_integer((json_int_t)res->nstatus));
    json_object_set_new(o, "unchanged", json_integer((json_int_t)res->nunchanged));
    json_object_set_new(o, "warnings", json_out_issues(res));
    return o;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *json_out_audit_row(const struct store_audit_row *a)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)a->id, "time", str_or_null(a->ts), "user", str_or_null(a->user),
                     "action", str_or_null(a->action), "event", str_or_null(a->event), "instance",
                     a->instance < 0 ? json_null() : json_integer(a->instance), "field",
                     str_or_null(a->field), "old", str_or_null(a->old_value), "new",
                     str_or_null(a->new_value), "reason", str_or_null(a->reason), "source",
                     str_or_null(a->source));
}

/* "" as null: the query's empty place fields */
static json_t *nonempty_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *json_out_query(const struct store_query *q)
{
    return json_pack(
        "{s:I, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, "
        "s:i}",
        "id", (json_int_t)q->id, "record", q->record, "event", nonempty_or_null(q->event),
        "instance", q->event[0] ? json_integer(q->instance) : json_null(), "form",
        nonempty_or_null(q->form), "field", nonempty_or_null(q->field), "status",
        store_query_status_name(q->status), "origin", q->is_system ? "system" : "user", "rule",
        nonempty_or_null(q->rule), "raised_value", nonempty_or_null(q->raised_value), "assignee",
        nonempty_or_null(q->assignee), "opened_by", q->opened_by, "opened_at", q->opened_at,
        "updated_at", q->updated_at, "text", q->text, "messages", q->nmessages);
}

json_t *json_out_query_message(const struct store_query_message *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)m->id, "time", m->ts,
                     "user", m->user, "action", m->action, "text", m->text, "old",
                     m->has_values ? json_string(m->old_value) : json_null(), "new",
                     m->has_values ? json_string(m->new_value) : json_null());
}

json_t *json_out_sdv_progress(const struct store_sdv_count *c, size_t n)
{
    json_t *arr = json_array();
    size_t req = 0, ver = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].form[0]) {
            req += c[i].required;
            ver += c[i].required_verified;
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}", "record", c[i].record, "form",
                           c[i].form[0] ? json_string(c[i].form) : json_null(), "values",
                           (json_int_t)c[i].values, "required", (json_int_t)c[i].required,
                           "required_verified", (json_int_t)c[i].required_verified,
                           "other_verified", (json_int_t)c[i].other_verified));
    }
    return json_pack("{s:o, s:I, s:I, s:b}", "progress", arr, "required", (json_int_t)req,
                     "required_verified", (json_int_t)ver, "plan_met", store_sdv_plan_met(c, n));
}
