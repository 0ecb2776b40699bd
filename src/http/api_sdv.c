/* API: source data verification — marking values verified, a record's values with their
 * verification, and progress against the protocol's plan. The store decides scope, permission
 * and the plan's arithmetic (store.h, "source data verification"). */
#include "formats/json_out.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

int api_sdv_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_sdv_count *c = NULL;
    size_t n = 0;
    if (store_sdv_progress(r->st, req_query(r, "record"), &c, &n, &e))
        return resp_err(r, &e);
    json_t *o = json_out_sdv_progress(c, n);
    free(c);
    return resp_json(r, 200, o);
}

static int value_json(void *ctx, const struct store_sdv_value *v)
{
    json_t *o = json_out_sdv_value(v);
    if (o)
        json_array_append_new(ctx, o);
    return 0;
}

int api_record_sdv_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *arr = json_array();
    if (store_sdv_values(r->st, req_param(r, "id"), value_json, arr, &e)) {
        json_decref(arr);
        return resp_err(r, &e);
    }
    return resp_json(r, 200, json_pack("{s:s, s:o}", "record", req_param(r, "id"), "values", arr));
}

int api_record_sdv_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    int instance = 0;
    int rc = api_body_instance(body, &instance, &e);
    const char *event = json_string_value(json_object_get(body, "event"));
    const char *form = json_string_value(json_object_get(body, "form"));
    const char *field = json_string_value(json_object_get(body, "field"));
    if (!rc && !event)
        rc = err_set_field(&e, ERR_INVALID, "event", "event is required");
    size_t nnew = 0;
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_sdv_verify(r->st, &who, req_param(r, "id"), event, instance, form, field, &nnew,
                              &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return resp_json(
        r, 200,
        json_pack("{s:s, s:I}", "record", req_param(r, "id"), "verified", (json_int_t)nnew));
}
