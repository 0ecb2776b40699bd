/* API: queries (discrepancy notes). The store decides transitions and permissions (store.h,
 * "queries"); the route table's permission is the same table's answer, checked first. JSON
 * shapes: formats/json_out.h (json_out_query, json_out_query_message); docs/api.md. */
#include "formats/json_out.h"
#include "http/handlers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"

/* {qid}: a positive decimal number; otherwise the 404 naming it is sent and -1 returned. */
static int query_id(struct req *r, long long *id)
{
    const char *s = req_param(r, "qid");
    if (!fmt_parse_int(s, 1, LLONG_MAX, id)) {
        resp_errf(r, ERR_NOT_FOUND, "query", "no query '%s'", s ? s : "");
        return -1;
    }
    return 0;
}

/* The query and its thread, as GET /api/v1/queries/{qid} answers. */
static int query_reply(struct req *r, int status, long long id)
{
    struct err e;
    err_clear(&e);
    struct store_query q;
    struct store_query_message *ms = NULL;
    size_t n = 0;
    if (store_query_get(r->st, id, &q, &e) || store_query_messages(r->st, id, &ms, &n, &e))
        return resp_err(r, &e);
    json_t *o = json_out_query(&q), *thread = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(thread, json_out_query_message(&ms[i]));
    free(ms);
    json_object_set_new(o, "thread", thread);
    return resp_json(r, status, o);
}

int api_queries_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_query_filter f = {.record = req_query(r, "record"),
                                   .form = req_query(r, "form"),
                                   .status = -1,
                                   .is_live = true};
    const char *status = req_query(r, "status"), *mine = req_query(r, "mine");
    if (status && strcmp(status, "all") == 0) {
        f.is_live = false;
    } else if (status && *status && strcmp(status, "live") != 0) {
        enum store_query_status s;
        if (store_query_status_from_name(status, &s) != 0)
            return resp_errf(r, ERR_INVALID, "status",
                             "status is open, answered, closed, live or all, not '%s'", status);
        f.status = (int)s;
        f.is_live = false;
    }
    if (mine && strcmp(mine, "1") == 0)
        f.waiting_for = r->user.name;
    struct store_query *qs = NULL;
    size_t n = 0;
    if (store_query_list(r->st, &f, &qs, &n, &e))
        return resp_err(r, &e);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_out_query(&qs[i]));
    free(qs);
    return resp_json(r, 200, json_pack("{s:o}", "queries", a));
}

int api_query_get(struct req *r)
{
    long long id;
    if (query_id(r, &id))
        return 0;
    return query_reply(r, 200, id);
}

int api_queries_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    struct store_query_new q = {0};
    int rc = api_body_str(body, "record", &q.record, &e);
    if (!rc)
        rc = api_body_str(body, "event", &q.event, &e);
    if (!rc)
        rc = api_body_str(body, "form", &q.form, &e);
    if (!rc)
        rc = api_body_str(body, "field", &q.field, &e);
    if (!rc)
        rc = api_body_str(body, "assignee", &q.assignee, &e);
    if (!rc)
        rc = api_body_str(body, "message", &q.text, &e);
    if (!rc)
        rc = api_body_instance(body, &q.instance, &e);
    if (!rc && !q.record)
        rc = err_set_field(&e, ERR_INVALID, "record", "record is required");
    long long id = 0;
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_query_open(r->st, &who, &q, &id, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return query_reply(r, 201, id);
}

int api_query_answer_post(struct req *r)
{
    long long id;
    if (query_id(r, &id))
        return 0;
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *text = NULL;
    int rc = api_body_str(body, "message", &text, &e);
    struct store_query q;
    struct store_change *ch = NULL;
    size_t n = 0;
    json_t *values = json_object_get(body, "values");
    if (!rc && !values && json_object_get(body, "expect"))
        rc = err_set_field(&e, ERR_INVALID, "expect",
                           "expect names values read before changing them: give values too");
    if (!rc && values) {
        /* the corrected values sit where the query sits */
        rc = store_query_get(r->st, id, &q, &e);
        if (!rc && !q.event[0])
            rc = err_set_field(&e, ERR_INVALID, "values",
                               "query %lld is on a whole record: correct the data on its form, "
                               "then answer without values",
                               id);
        if (!rc)
            rc = api_changes_from_json(r, values, q.event, q.instance, &ch, &n, &e);
        if (!rc)
            rc = api_expected_values(r, json_object_get(body, "expect"), q.event, q.instance, ch, n,
                                     &e);
    }
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_query_answer(r->st, &who, id, text, ch, n, &res, &e);
    json_decref(body);
    if (rc) {
        rc = api_put_reply(r, rc, 200, &e, &res, NULL);
        store_put_result_free(&res);
        return rc;
    }
    store_put_result_free(&res);
    return query_reply(r, 200, id);
}

static int transition_post(struct req *r, bool is_close)
{
    long long id;
    if (query_id(r, &id))
        return 0;
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *text = NULL;
    int rc = api_body_str(body, "message", &text, &e);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = is_close ? store_query_close(r->st, &who, id, text, &e)
                      : store_query_reopen(r->st, &who, id, text, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return query_reply(r, 200, id);
}

int api_query_close_post(struct req *r)
{
    return transition_post(r, true);
}

int api_query_reopen_post(struct req *r)
{
    return transition_post(r, false);
}
