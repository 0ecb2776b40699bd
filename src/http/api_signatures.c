/* API: electronic signatures of a record (store.h, "electronic signatures"). */
#include "formats/json_out.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

int api_record_signatures_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_signature *g = NULL;
    size_t n = 0;
    if (store_signatures(r->st, req_param(r, "id"), &g, &n, &e))
        return resp_err(r, &e);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_out_signature(&g[i]));
    free(g);
    return resp_json(r, 200,
                     json_pack("{s:s, s:o}", "record", req_param(r, "id"), "signatures", a));
}

int api_record_signatures_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *meaning = json_string_value(json_object_get(body, "meaning"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    long long id = 0;
    struct store_ctx who = req_who(r);
    int rc = store_sign(r->st, &who, pw, meaning, req_param(r, "id"), &id, &e);
    json_decref(body);
    if (rc) {
        /* a wrong password refuses the signature; the session stays signed in */
        if (e.code == ERR_AUTH)
            e.code = ERR_FORBIDDEN;
        return resp_err(r, &e);
    }
    struct store_signature *g = NULL;
    size_t n = 0;
    if (store_signatures(r->st, req_param(r, "id"), &g, &n, &e))
        return resp_err(r, &e);
    json_t *o = NULL;
    for (size_t i = 0; i < n; i++)
        if (g[i].id == id)
            o = json_out_signature(&g[i]);
    free(g);
    return resp_json(r, 201, o ? o : json_pack("{s:I}", "id", (json_int_t)id));
}
