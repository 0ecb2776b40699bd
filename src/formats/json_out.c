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
