/* The outcome of a write as JSON (see put_json.h). */
#include "formats/put_json.h"

json_t *put_issues_json(const struct store_put_result *res)
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

json_t *put_result_json(const struct store_put_result *res, json_t *o)
{
    if (!o)
        o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "changed", json_integer((json_int_t)res->nchanged));
    json_object_set_new(o, "calculated", json_integer((json_int_t)res->ncalc));
    json_object_set_new(o, "status_changed", json_integer((json_int_t)res->nstatus));
    json_object_set_new(o, "unchanged", json_integer((json_int_t)res->nunchanged));
    json_object_set_new(o, "warnings", put_issues_json(res));
    return o;
}
