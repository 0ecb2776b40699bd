/* API and pages: the database's state from data entry to the final analysis (store.h, "database
 * freeze and lock"). GET /api/v1/db and the /study page show the state and the pre-lock
 * checklist; the four transitions are POSTs whose permission the route table holds. The store
 * decides the transitions and the checklist; this file only reads bodies and renders. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

static json_t *opt_str(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* Each check with whether it passed and what it found (new reference). */
static json_t *checks_json(const struct store_checklist *cl)
{
    json_t *items = json_array();
    for (int i = 0; items && i < STORE_NCHECKS; i++)
        if (cl->item[i].name)
            json_array_append_new(items,
                                  json_pack("{s:s, s:b, s:s}", "check", cl->item[i].name, "passed",
                                            cl->item[i].passed, "detail", cl->item[i].detail));
    return items;
}

static json_t *checklist_json(const struct store_checklist *cl)
{
    return json_pack("{s:b, s:o}", "passed", cl->passed, "checks", checks_json(cl));
}

/* The state as JSON, with the checklist when cl is given (new reference). */
static json_t *state_json(const struct store_db_status *s, const struct store_checklist *cl)
{
    json_t *o =
        json_pack("{s:s, s:o, s:o, s:o, s:o}", "state", store_db_state_name(s->state), "frozen_at",
                  opt_str(s->frozen_at), "lock_id", opt_str(s->lock_id), "locked_at",
                  opt_str(s->locked_at), "lock_audit_head", opt_str(s->lock_head));
    if (o && cl)
        json_object_set_new(o, "checklist", checklist_json(cl));
    return o;
}

static int reply_state(struct req *r, const struct store_checklist *cl)
{
    struct err e;
    err_clear(&e);
    struct store_db_status s;
    if (store_db_status(r->st, &s, &e))
        return resp_err(r, &e);
    return resp_json(r, 200, state_json(&s, cl));
}

int api_db_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_checklist cl;
    if (store_db_checklist(r->st, &cl, &e))
        return resp_err(r, &e);
    return reply_state(r, &cl);
}

enum db_step { DB_FREEZE, DB_UNFREEZE, DB_LOCK, DB_UNLOCK };

/* One transition with what the request gave (reason, override, password); the store checks
 * them. A failed checklist leaves *cl filled. */
static int db_transition(struct req *r, enum db_step step, const char *reason, const char *override,
                         const char *password, struct store_checklist *cl, struct err *e)
{
    struct store_ctx who = req_who(r);
    switch (step) {
    case DB_FREEZE:
        return store_db_freeze(r->st, &who, reason, e);
    case DB_UNFREEZE:
        return store_db_unfreeze(r->st, &who, reason, e);
    case DB_LOCK:
        return store_db_lock(r->st, &who, override, cl, e);
    case DB_UNLOCK:
        if (!password || !*password)
            return err_set_field(e, ERR_INVALID, "password",
                                 "password is required to unlock the database");
        return store_db_unlock(r->st, &who, password, reason, e);
    }
    return err_set(e, ERR_INTERNAL, "unknown database step");
}

static int api_db_post(struct req *r, enum db_step step)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *reason = NULL, *override = NULL, *password = NULL;
    struct store_checklist cl;
    memset(&cl, 0, sizeof cl);
    int rc = api_body_str(body, "reason", &reason, &e);
    if (!rc)
        rc = api_body_str(body, "override", &override, &e);
    if (!rc)
        rc = api_body_str(body, "password", &password, &e);
    if (!rc)
        rc = db_transition(r, step, reason, override, password, &cl, &e);
    json_decref(body);
    if (rc) {
        if (e.code == ERR_AUTH) /* a wrong password refuses the unlock; the session stays */
            e.code = ERR_FORBIDDEN;
        if (step == DB_LOCK && cl.item[0].name)
            return resp_err_issues(r, &e, checks_json(&cl));
        return resp_err(r, &e);
    }
    return reply_state(r, step == DB_LOCK ? &cl : NULL);
}

int api_db_freeze_post(struct req *r)
{
    return api_db_post(r, DB_FREEZE);
}

int api_db_unfreeze_post(struct req *r)
{
    return api_db_post(r, DB_UNFREEZE);
}

int api_db_lock_post(struct req *r)
{
    return api_db_post(r, DB_LOCK);
}

int api_db_unlock_post(struct req *r)
{
    return api_db_post(r, DB_UNLOCK);
}
