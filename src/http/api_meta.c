/* API: the protocol's metadata (forms, fields, events, which form is collected when) and user
 * administration. Everything here reads the dictionary stored in the database, so the API
 * describes exactly the protocol the data were captured with. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

static json_t *field_json(const struct dict_field *f)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b}", "name", f->name, "form",
                          f->form, "type", dict_field_type_name(f->type), "label", f->label,
                          "required", f->is_required, "readonly", f->is_readonly, "hidden",
                          f->is_hidden, "identifier", f->is_identifier);
    if (!o)
        return NULL;
    if (f->note && *f->note)
        json_object_set_new(o, "note", json_string(f->note));
    if (f->vtype != VT_NONE)
        json_object_set_new(o, "validation", json_string(dict_val_type_name(f->vtype)));
    const char *lo = dict_field_bound(f, false), *hi = dict_field_bound(f, true);
    if (lo) /* as written: "today" / "now" are the site's clock when a value is entered */
        json_object_set_new(o, "min", json_string(lo));
    if (hi)
        json_object_set_new(o, "max", json_string(hi));
    if (f->force_minmax)
        json_object_set_new(o, "force_minmax", json_true());
    if (f->nchoices) {
        json_t *ch = json_array();
        for (size_t i = 0; i < f->nchoices; i++)
            json_array_append_new(ch, json_pack("{s:s, s:s}", "code", f->choices[i].code, "label",
                                                f->choices[i].label));
        json_object_set_new(o, "choices", ch);
    }
    if (f->branching_raw && *f->branching_raw)
        json_object_set_new(o, "branching_logic", json_string(f->branching_raw));
    if (f->type == FT_CALC && f->choices_raw && *f->choices_raw)
        json_object_set_new(o, "calculation", json_string(f->choices_raw));
    if (f->section_header && *f->section_header)
        json_object_set_new(o, "section_header", json_string(f->section_header));
    return o;
}

int api_protocol_get(struct req *r)
{
    const struct dict *d = store_dict(r->st);
    json_t *forms = json_array(), *events = json_array();
    for (size_t i = 0; i < d->nforms; i++) {
        const struct dict_form *fm = &d->forms[i];
        json_t *fields = json_array();
        for (size_t k = 0; k < fm->nfields; k++)
            json_array_append_new(fields, field_json(&d->fields[fm->first_field + k]));
        json_array_append_new(forms, json_pack("{s:s, s:s, s:o}", "name", fm->name, "label",
                                               fm->label, "fields", fields));
    }
    for (size_t ev = 0; ev < d->nevents; ev++) {
        json_t *on = json_array(), *rep = json_array();
        for (size_t i = 0; i < d->nforms; i++) {
            if (d->form_at_event[ev * d->nforms + i])
                json_array_append_new(on, json_string(d->forms[i].name));
            if (d->form_repeats[ev * d->nforms + i])
                json_array_append_new(rep, json_string(d->forms[i].name));
        }
        const struct dict_event *e = &d->events[ev];
        json_array_append_new(
            events, json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o}", "name", e->name, "label",
                              e->label, "day_offset", e->day_offset, "offset_min", e->offset_min,
                              "offset_max", e->offset_max, "forms", on, "repeating", rep));
    }
    return resp_json(r, 200, json_pack("{s:o, s:o}", "forms", forms, "events", events));
}

int api_users_get(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_user *users = NULL;
    size_t n = 0;
    if (store_user_list(r->st, &users, &n, &e) != 0)
        return resp_err(r, &e);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, auth_user_json(&users[i]));
    free(users);
    return resp_json(r, 200, json_pack("{s:o}", "users", a));
}

int api_users_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *name = json_string_value(json_object_get(body, "username"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    struct store_ctx who = req_who(r);
    int rc;
    if (!name)
        rc = err_set_field(&e, ERR_INVALID, "username", "username is required");
    else if (!role || !store_role_is_valid(role))
        rc = err_set_field(&e, ERR_INVALID, "role",
                           "role must be one of admin, investigator, coordinator, monitor, "
                           "data_manager, statistician");
    else if (!pw)
        rc = err_set_field(&e, ERR_INVALID, "password", "password is required");
    else
        rc = store_user_add(r->st, &who, name, role, pw, &e);
    struct store_user u;
    if (rc == 0)
        rc = store_user_get(r->st, name, &u, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    return resp_json(r, 201, json_pack("{s:o}", "user", auth_user_json(&u)));
}

static int user_action(struct req *r, int (*fn)(struct store *, const struct store_ctx *,
                                                const char *, struct err *))
{
    struct err e;
    err_clear(&e);
    const char *name = req_param(r, "name");
    struct store_ctx who = req_who(r);
    struct store_user u;
    if (fn(r->st, &who, name, &e) != 0 || store_user_get(r->st, name, &u, &e) != 0)
        return resp_err(r, &e);
    return resp_json(r, 200, json_pack("{s:o}", "user", auth_user_json(&u)));
}

int api_user_unlock_post(struct req *r)
{
    return user_action(r, store_user_unlock);
}

int api_user_disable_post(struct req *r)
{
    return user_action(r, store_user_disable);
}
