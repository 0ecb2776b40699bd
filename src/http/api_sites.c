/* API: the sites of a multi-centre study (store.h, "sites"): listing them, adding one, moving a
 * record to another, and which sites a user works at. The store decides who sees what: a user
 * of some sites lists only theirs, and another site's record is 404 as if it did not exist. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "formats/json_out.h"

int api_sites_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_site *v = NULL;
    size_t n = 0;
    if (store_site_list(r->st, &v, &n, &e) != 0)
        return resp_err(r, &e);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_out_site(&v[i]));
    free(v);
    return resp_json(r, 200, json_pack("{s:o}", "sites", arr));
}

int api_sites_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *code = NULL, *name = NULL;
    int rc = api_body_str(body, "code", &code, &e);
    if (!rc)
        rc = api_body_str(body, "name", &name, &e);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_site_add(r->st, &who, code, name, &e);
    struct store_site s;
    if (!rc)
        rc = store_site_get(r->st, code, &s, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return resp_json(r, 201, json_pack("{s:o}", "site", json_out_site(&s)));
}

int api_record_site_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *code = NULL, *reason = NULL;
    int rc = json_object_get(body, "site") /* null: no site; absent: a mistake */
                 ? api_body_str(body, "site", &code, &e)
                 : err_set_field(&e, ERR_INVALID, "site",
                                 "give \"site\": a site's code, or null for no site");
    if (!rc)
        rc = api_body_str(body, "reason", &reason, &e);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_site_move(r->st, &who, req_param(r, "id"), code, reason, &e);
    struct store_record rec;
    if (!rc)
        rc = store_record_get(r->st, req_param(r, "id"), &rec, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return resp_json(r, 200, json_pack("{s:o}", "record", api_record_json(&rec)));
}

static int user_sites_reply(struct req *r, const char *name)
{
    struct err e;
    err_clear(&e);
    bool all = false;
    struct store_site *v = NULL;
    size_t n = 0;
    if (store_user_sites(r->st, name, &all, &v, &n, &e) != 0)
        return resp_err(r, &e);
    json_t *o = json_out_user_sites(name, all, v, n);
    free(v);
    return resp_json(r, 200, o);
}

int api_user_sites_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_user u;
    if (store_user_get(r->st, req_param(r, "name"), &u, &e) != 0)
        return resp_err(r, &e);
    return user_sites_reply(r, u.name);
}

/* {"all": true} or {"sites": ["A", "B"]}, with "reason". */
int api_user_sites_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *reason = NULL;
    int rc = api_body_str(body, "reason", &reason, &e);
    json_t *all = json_object_get(body, "all"), *list = json_object_get(body, "sites");
    const char *codes[STORE_USER_SITES_MAX];
    size_t n = 0;
    if (!rc && all && !json_is_boolean(all))
        rc = err_set_field(&e, ERR_INVALID, "all", "all must be true or false");
    else if (!rc && !json_is_true(all) && !json_is_array(list))
        rc = err_set_field(&e, ERR_INVALID, "sites",
                           "give sites (an array of site codes) or \"all\": true");
    else if (!rc && !json_is_true(all) && json_array_size(list) > STORE_USER_SITES_MAX)
        rc = err_set_field(&e, ERR_INVALID, "sites", "at most %d sites per user",
                           STORE_USER_SITES_MAX);
    for (size_t i = 0; !rc && !json_is_true(all) && i < json_array_size(list); i++) {
        codes[n] = json_string_value(json_array_get(list, i));
        if (!codes[n++])
            rc = err_set_field(&e, ERR_INVALID, "sites", "sites[%zu] is not a string", i);
    }
    struct store_ctx who = req_who(r);
    const char *name = req_param(r, "name");
    if (!rc)
        rc = store_user_set_sites(r->st, &who, name, json_is_true(all), codes, n, reason, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return user_sites_reply(r, name);
}
