/* API: reading a form's values, writing values (with an optional reason; the store demands one
 * on a complete form), setting a form's status, and the history and audit trail of a record.
 *
 * Every write goes through store_put_changes: it validates against the dictionary, writes the
 * values, recomputes calc fields and appends the audit rows in one transaction, or refuses the
 * whole change set. A refusal is answered 422 with every hard issue (field, rule, value), and
 * nothing has been saved. */
#include "formats/json_out.h"
#include "http/handlers.h"

#include "store/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_changes_from_json(struct req *r, json_t *values, const char *event, int instance,
                          struct store_change **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    if (!values)
        return 0;
    if (!json_is_object(values))
        return err_set_field(e, ERR_INVALID, "values", "values must be an object of field: value");
    size_t count = json_object_size(values);
    struct store_change *ch = arena_calloc(&r->ar, count ? count : 1, sizeof *ch);
    if (!ch)
        return err_set(e, ERR_NOMEM, "out of memory");
    const struct dict *d = store_dict(r->st);
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(values, key, v)
    {
        struct store_change *c = &ch[i++];
        c->event = event;
        c->instance = instance;
        c->field = key;
        /* REDCap's export name for a checkbox option: field___code */
        struct dict_key k;
        if (dict_key_parse(d, key, &k) != DICT_KEY_FIELD && k.code) {
            c->field = arena_strdup(&r->ar, k.name);
            c->code = k.code;
        }
        if (json_is_string(v)) {
            c->value = json_string_value(v);
        } else if (json_is_null(v)) {
            c->value = "";
        } else if (json_is_integer(v)) {
            c->value = arena_printf(&r->ar, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            /* the shortest text that is the same double: 3.3, not 3.2999999999999998 */
            char num[JSON_OUT_REAL_MAX];
            c->value =
                json_out_shortest(json_real_value(v), num) < 0 ? NULL : arena_strdup(&r->ar, num);
        } else {
            return err_set_field(e, ERR_INVALID, key,
                                 "field '%s': value must be a string, a number or null", key);
        }
        if (!c->field || !c->value)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    *out = ch;
    *n = count;
    return 0;
}

int api_put_reply(struct req *r, int rc, int status, const struct err *e,
                  const struct store_put_result *res, json_t *extra)
{
    if (rc) {
        json_decref(extra);
        return resp_err_issues(r, e, res && res->nissues ? json_out_issues(res) : NULL);
    }
    return resp_json(r, status, json_out_put_result(res, extra));
}

/* event and instance from the query (GET) or the body (POST); instance defaults to 0. */
static int parse_instance(const char *s, int *out, struct err *e)
{
    if (!s || !*s) {
        *out = 0;
        return 0;
    }
    return dict_instance_parse(s, "instance", out, e);
}

struct form_ctx {
    json_t *values;
};

static int form_value_cb(void *ctx, const struct store_value *v)
{
    struct form_ctx *c = ctx;
    char key[300];
    if (dict_key_format(v->field, v->code, key, sizeof key))
        json_object_set_new(c->values, key, json_out_text(v->value ? v->value : ""));
    return 0;
}

int api_form_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    const struct dict *d = store_dict(r->st);
    const char *id = req_param(r, "id"), *form = req_param(r, "form");
    const char *event = req_query(r, "event");
    const struct dict_form *fm = dict_form(d, form);
    if (!fm)
        return resp_errf(r, ERR_NOT_FOUND, "form", "no form '%s' in the protocol", form);
    if (!event)
        event = d->nevents ? d->events[0].name : "event_1";
    int instance = 0, status = -1;
    if (parse_instance(req_query(r, "instance"), &instance, &e) != 0)
        return resp_err(r, &e);
    struct form_ctx c = {.values = json_object()};
    int rc = store_form_values(r->st, id, event, fm->name, instance, form_value_cb, &c, &status,
                               &r->cache_record, &e);
    if (rc != 0) {
        json_decref(c.values);
        return resp_err(r, &e);
    }
    return resp_json(r, 200,
                     json_pack("{s:s, s:s, s:s, s:i, s:i, s:o}", "record", id, "event", event,
                               "form", form, "instance", instance, "status", status, "values",
                               c.values));
}

int api_body_instance(json_t *body, int *out, struct err *e)
{
    json_t *v = json_object_get(body, "instance");
    if (!v || json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v))
        return err_set_field(e, ERR_INVALID, "instance", "instance must be a whole number");
    return dict_instance_check(json_integer_value(v), "instance", out, e);
}

int api_body_str(json_t *body, const char *key, const char **out, struct err *e)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set_field(e, ERR_INVALID, key, "%s must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int api_expected_values(struct req *r, json_t *expect, const char *event, int instance,
                        struct store_change *ch, size_t n, struct err *e)
{
    if (!expect)
        return 0;
    if (!json_is_object(expect))
        return err_set_field(e, ERR_INVALID, "expect",
                             "expect must be an object of field: the value read before");
    struct store_change *ex;
    size_t nex;
    int rc = api_changes_from_json(r, expect, event, instance, &ex, &nex, e);
    for (size_t j = 0; !rc && j < nex; j++) {
        size_t i = 0;
        while (i < n && !(strcmp(ch[i].field, ex[j].field) == 0 &&
                          (ch[i].code && ex[j].code ? strcmp(ch[i].code, ex[j].code) == 0
                                                    : ch[i].code == ex[j].code)))
            i++;
        if (i == n)
            rc = err_set_field(e, ERR_INVALID, "expect",
                               "expect names '%s%s%s', which values does not change", ex[j].field,
                               ex[j].code ? "___" : "", ex[j].code ? ex[j].code : "");
        else
            ch[i].expect = ex[j].value;
    }
    return rc;
}

int api_values_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *event = json_string_value(json_object_get(body, "event"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    int instance = 0, rc = 0;
    struct store_change *ch = NULL;
    size_t n = 0;
    if (!event)
        rc = err_set_field(&e, ERR_INVALID, "event", "event is required");
    if (rc == 0)
        rc = api_body_instance(body, &instance, &e);
    if (rc == 0 && !json_is_object(json_object_get(body, "values")))
        rc = err_set_field(&e, ERR_INVALID, "values", "values must be an object of field: value");
    if (rc == 0)
        rc =
            api_changes_from_json(r, json_object_get(body, "values"), event, instance, &ch, &n, &e);
    if (rc == 0)
        rc = api_expected_values(r, json_object_get(body, "expect"), event, instance, ch, n, &e);
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_ctx who = req_who(r);
    if (rc == 0)
        rc = store_put_changes(r->st, &who, req_param(r, "id"), ch, n,
                               reason && *reason ? reason : NULL, &res, &e);
    rc = api_put_reply(r, rc, 200, &e, &res, json_pack("{s:s}", "record", req_param(r, "id")));
    store_put_result_free(&res);
    json_decref(body);
    return rc;
}

int api_form_status_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const struct dict *d = store_dict(r->st);
    const char *form = req_param(r, "form");
    const struct dict_form *fm = dict_form(d, form);
    const char *event = json_string_value(json_object_get(body, "event"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    json_t *sv = json_object_get(body, "status");
    int instance = 0, rc = 0;
    char field[160];
    if (!fm)
        rc = err_set_field(&e, ERR_NOT_FOUND, "form", "no form '%s' in the protocol", form);
    else if (!event)
        rc = err_set_field(&e, ERR_INVALID, "event", "event is required");
    else if (!json_is_integer(sv) || json_integer_value(sv) < 0 || json_integer_value(sv) > 2)
        rc = err_set_field(&e, ERR_INVALID, "status",
                           "status must be 0 (incomplete), 1 (unverified) or 2 (complete)");
    if (rc == 0)
        rc = api_body_instance(body, &instance, &e);
    struct store_put_result res;
    store_put_result_init(&res);
    if (rc == 0) {
        struct store_change c = {.event = event,
                                 .instance = instance,
                                 .field = dict_complete_field(fm, field, sizeof field),
                                 .value = json_integer_value(sv) == 2   ? "2"
                                          : json_integer_value(sv) == 1 ? "1"
                                                                        : "0"};
        struct store_ctx who = req_who(r);
        rc = store_put_changes(r->st, &who, req_param(r, "id"), &c, 1,
                               reason && *reason ? reason : NULL, &res, &e);
    }
    rc = api_put_reply(r, rc, 200, &e, &res, json_pack("{s:s}", "record", req_param(r, "id")));
    store_put_result_free(&res);
    json_decref(body);
    return rc;
}

static int history_cb(void *ctx, const struct store_audit_row *a)
{
    return json_array_append_new(ctx, json_out_audit_row(a));
}

int api_field_history_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    const char *id = req_param(r, "id"), *field = req_param(r, "field");
    if (store_record_get(r->st, id, &rec, &e) != 0)
        return resp_err(r, &e);
    if (!dict_field(store_dict(r->st), field))
        return resp_errf(r, ERR_NOT_FOUND, "field", "no field '%s' in the protocol", field);
    json_t *a = json_array();
    if (store_field_history(r->st, id, field, history_cb, a, &e) != 0) {
        json_decref(a);
        return resp_err(r, &e);
    }
    return resp_json(r, 200,
                     json_pack("{s:s, s:s, s:o}", "record", store_record_name(&rec), "field", field,
                               "history", a));
}

int api_record_audit_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    if (store_record_get(r->st, req_param(r, "id"), &rec, &e) != 0)
        return resp_err(r, &e);
    const char *field = req_query(r, "field");
    if (field && *field && !dict_field(store_dict(r->st), field)) {
        err_set_field(&e, ERR_NOT_FOUND, "field", "no field '%s' in the protocol", field);
        return resp_err(r, &e);
    }
    json_t *rows = json_array();
    if (store_record_audit(r->st, req_param(r, "id"), field && *field ? field : NULL, history_cb,
                           rows, &e) != 0) {
        json_decref(rows);
        return resp_err(r, &e);
    }
    return resp_json(r, 200,
                     json_pack("{s:s, s:o}", "record", store_record_name(&rec), "audit", rows));
}
