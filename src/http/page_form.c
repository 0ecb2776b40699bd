/* Data-entry form pages: GET shows a dictionary form of a record at an event (and instance, for
 * repeating forms), POST saves it through store_put_changes together with the form status and
 * the reason for change (required by the store once the form is complete). A refused save shows
 * the same form with what was typed and the server's message next to each field at fault; a
 * saved out-of-range value shows its soft warning. /forms/{form}/logic.js serves the form's
 * branching logic and calc fields as JavaScript emitted by expr_to_js, so the browser shows,
 * hides and computes exactly what the server will. */
#include "base/fmt.h"
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "formats/json_out.h"
#include "http/html.h"
#include "http/page.h"

struct form_ref {
    const struct dict *d;
    const struct dict_form *fm;
    const char *event;
    int ev_index;
    int instance;
    bool repeats;
};

static int resolve(struct req *r, struct form_ref *f, struct err *e)
{
    f->d = store_dict(r->st);
    f->event = req_param(r, "event");
    f->fm = dict_form(f->d, req_param(r, "form"));
    f->ev_index = dict_event_index(f->d, f->event);
    if (!f->fm || f->ev_index < 0)
        return err_set(e, ERR_NOT_FOUND, "no such form or event in the protocol");
    size_t fi = (size_t)dict_form_index(f->d, f->fm->name);
    if (!f->d->form_at_event[(size_t)f->ev_index * f->d->nforms + fi])
        return err_set(e, ERR_NOT_FOUND, "form '%s' is not collected at event '%s'", f->fm->name,
                       f->event);
    f->repeats = f->d->form_repeats[(size_t)f->ev_index * f->d->nforms + fi];
    f->instance = 0;
    const char *inst = req_query(r, "instance");
    if (f->repeats && inst) { /* no instance: not chosen yet (0) */
        int max = dict_instance_max(f->d, (size_t)f->ev_index, fi);
        if (dict_instance_parse(inst, "instance", &f->instance, e) != 0)
            return e->code;
        if (f->instance < 1 || f->instance > max)
            return err_set_field(e, ERR_INVALID, "instance",
                                 "instance %d is not allowed for form '%s' (1 to %d)", f->instance,
                                 f->fm->name, max);
    }
    return 0;
}

static void values_json(struct req *r, const struct dict *d, const struct page_values *pv)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < pv->n; i++) {
        const struct page_value *v = &pv->v[i];
        const char *key =
            v->code ? arena_printf(&r->ar, "%s|%d|%s|%s", v->event, v->instance, v->field, v->code)
                    : arena_printf(&r->ar, "%s|%d|%s", v->event, v->instance, v->field);
        /* what logic reads: a number written with a decimal comma is a number (the one rule,
         * validate_logic_value) */
        struct expr_value lv;
        validate_logic_value(v->code ? NULL : dict_field(d, v->field), v->value, &lv);
        if (key)
            json_object_set_new(o, key,
                                lv.kind == EV_NUM ? json_real(lv.num) : json_string(v->value));
    }
    char *s = o ? json_out_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    /* JSON inside <script type="application/json">: escape '<' so "</script>" cannot occur. */
    html_raw(r, "<script type=\"application/json\" id=\"ioh-values\">");
    for (const char *p = s ? s : "{}"; *p; p++) {
        if (*p == '<')
            html_raw(r, "\\u003c");
        else
            strbuf_addc(&r->out, *p);
    }
    html_raw(r, "</script>");
    free(s);
}

static void instance_list(struct req *r, const struct store_record *rec, const struct form_ref *f)
{
    struct err e;
    err_clear(&e);
    struct store_instance *in = NULL;
    size_t n = 0;
    if (store_form_instances(r->st, store_record_name(rec), f->event, f->fm->name, &in, &n, &e))
        html_notice(r, "error", e.msg);
    html_raw(r, "<ul class=\"instances\">");
    for (size_t i = 0; i < n; i++) {
        html_rawf(r, "<li><a class=\"st st%d\" href=\"?instance=%d\">#%d — ", in[i].status,
                  in[i].instance, in[i].instance);
        html_text(r, page_status_label(in[i].status));
        html_raw(r, "</a></li>");
    }
    free(in);
    int next = 1;
    if (store_next_instance(r->st, store_record_name(rec), f->event, f->fm->name, &next, &e)) {
        html_raw(r, "</ul>");
        html_notice(r, "error", e.msg);
        return;
    }
    html_rawf(r, "</ul><p><a class=\"button primary\" href=\"?instance=%d\">Add #%d</a></p>", next,
              next);
}

/* The label a person knows a field by: "Reason for failure", "Form status". */
static const char *field_label(const struct dict *d, const struct dict_form *fm, const char *key)
{
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(d, key, &k);
    if (kind == DICT_KEY_STATUS)
        return "Form status";
    const struct dict_field *f = kind == DICT_KEY_FIELD ? k.field : dict_field(d, k.name);
    return f && f->form_index == (size_t)(fm - d->forms) ? f->label : key;
}

/* A refused save: says nothing was saved and lists every reason, each field by its label and
 * linked to its input (every missing required field, every rejected value, every value the
 * answers hide), instead of the first with "(and N more)". */
static void refused_notice(struct req *r, const struct form_ref *f, const char *error,
                           const struct store_put_result *res)
{
    size_t nhard = 0;
    for (size_t i = 0; res && i < res->nissues; i++)
        nhard += res->issues[i].level == STORE_ISSUE_HARD;
    if (!nhard) {
        html_notice(r, "error", error);
        return;
    }
    html_rawf(r,
              "<div class=\"notice notice-error refused\" role=\"alert\"><p>Not saved: "
              "nothing on this form was saved. Correct %s and save again.</p><ul>",
              nhard == 1 ? "this" : "these");
    for (size_t i = 0; i < res->nissues; i++) {
        const struct store_issue *is = &res->issues[i];
        if (is->level != STORE_ISSUE_HARD)
            continue;
        struct dict_key k;
        dict_key_parse(f->d, is->field, &k);
        html_raw(r, "<li><a href=\"#f-");
        html_text(r, k.name);
        html_raw(r, "\">");
        html_text(r, field_label(f->d, f->fm, is->field));
        html_raw(r, "</a>: ");
        html_text(r, is->msg);
        html_raw(r, "</li>");
    }
    html_raw(r, "</ul></div>");
}

/* Whether the form holds any value or status at the page's event and instance. */
static bool form_has_data(struct req *r, const struct form_ref *f, const struct page_values *pv,
                          int status)
{
    if (status >= 0)
        return true;
    for (size_t i = 0; pv && i < pv->n; i++) {
        const struct page_value *v = &pv->v[i];
        const struct dict_field *df = dict_field(f->d, v->field);
        if (df && df->form_index == (size_t)(f->fm - f->d->forms) && v->instance == f->instance &&
            strcmp(v->event, f->event) == 0)
            return true;
    }
    (void)r;
    return false;
}

/* An empty form says where to start: the first question, and that the calculated values fill
 * in by themselves (form.js shows a calc box once it has a value). */
static void empty_form_lead(struct req *r, const struct form_ref *f)
{
    const struct dict_field *first = NULL;
    size_t ncalc = 0;
    for (size_t i = 0; i < f->fm->nfields; i++) {
        const struct dict_field *df = &f->d->fields[f->fm->first_field + i];
        if (f->fm->first_field + i == 0)
            continue;
        if (df->type == FT_CALC)
            ncalc++;
        else if (!first && df->type != FT_DESCRIPTIVE && !df->is_readonly)
            first = df;
    }
    if (!first)
        return;
    html_raw(r, "<p class=\"notice notice-ok lead\" id=\"form-lead\">Nothing has been entered "
                "on this form yet. Start with <strong>");
    html_text(r, first->label);
    html_raw(r, "</strong>: the questions that depend on it appear as you answer.");
    if (ncalc) {
        html_raw(r, " Calculated values (");
        size_t k = 0;
        for (size_t i = 0; i < f->fm->nfields; i++) {
            const struct dict_field *df = &f->d->fields[f->fm->first_field + i];
            if (df->type != FT_CALC)
                continue;
            if (k++)
                html_raw(r, ", ");
            html_text(r, df->label);
        }
        html_raw(r, ") fill in by themselves once their inputs are entered.");
    }
    html_raw(r, "</p>");
}

static int render(struct req *r, const struct store_record *rec, const struct form_ref *f,
                  const struct page_values *pv, bool from_post, const struct store_put_result *res,
                  const char *error, const char *notice)
{
    const struct dict_event *ev = &f->d->events[f->ev_index];
    char sub[300];
    if (f->repeats && f->instance)
        fmt_text(sub, sizeof sub, "%s · %s #%d", ev->label, f->fm->label, f->instance);
    else
        fmt_text(sub, sizeof sub, "%s · %s", ev->label, f->fm->label);
    html_begin(r, f->fm->label);
    page_record_heading(r, rec, sub);
    if (error)
        refused_notice(r, f, error, res);
    if (notice)
        html_notice(r, "ok", notice);
    if (f->repeats && f->instance == 0) {
        instance_list(r, rec, f);
        html_end(r, NULL);
        return 0;
    }
    int status = -1;
    struct err e;
    err_clear(&e);
    if (store_form_status(r->st, store_record_name(rec), f->event, f->fm->name, f->instance,
                          &status, &e) != 0)
        status = -1;
    /* the status as the page showed it (form_render.c, "what the page showed"); after a
     * refused save, the user's choice if they made one, else the status stored now */
    const char *posted_status = from_post ? req_form(r, "__status") : NULL;
    const char *orig_status = from_post ? req_form(r, "__orig.__status") : NULL;
    char status_now[16] = "";
    if (status >= 0)
        fmt_exact(status_now, sizeof status_now, "%d", status);
    char complete_field[160];
    dict_complete_field(f->fm, complete_field, sizeof complete_field);
    bool status_conflict = form_is_conflict(res, complete_field);
    if (posted_status && orig_status && strcmp(posted_status, orig_status) == 0)
        posted_status = NULL; /* left as shown */
    if (!posted_status || !orig_status || status_conflict)
        orig_status = status_now;
    bool has_data = from_post || form_has_data(r, f, pv, status);
    if (!has_data && page_may(r, PERM_DATA_WRITE))
        empty_form_lead(r, f);
    html_raw(r, "<form method=\"post\" class=\"crf\" novalidate");
    html_raw(r, " data-event=\"");
    html_text(r, f->event);
    html_rawf(r, "\" data-instance=\"%d\" data-was-complete=\"%d\"", f->instance, status == 2);
    /* the smart variables' values here, for the logic the browser evaluates (form.js) */
    json_t *smart = json_object();
    for (size_t i = 0; expr_smart_name(i); i++) {
        struct expr_value v;
        const struct dict_smart_who who = {store_record_name(rec), rec->site,
                                           store_user_dag(r->st)};
        dict_smart_value(f->d, expr_smart_name(i), f->event, f->instance, &who, &v);
        if (v.kind == EV_STR)
            json_object_set_new(smart, expr_smart_name(i), json_string(v.str));
        else if (v.kind == EV_NUM)
            json_object_set_new(smart, expr_smart_name(i), json_integer((json_int_t)v.num));
    }
    char *smart_json = json_dumps(smart, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(smart);
    html_raw(r, " data-smart=\"");
    html_text(r, smart_json ? smart_json : "{}");
    html_raw(r, "\"");
    free(smart_json);
    if (f->instance) {
        html_rawf(r, " action=\"?instance=%d\"", f->instance);
    }
    html_raw(r, ">");
    html_csrf(r);
    struct form_source src = {.stored = pv,
                              .event = f->event,
                              .instance = f->instance,
                              .from_post = from_post,
                              .res = res};
    /* Offer only what the signed-in role may do (the write path checks again): the status
     * selector needs form_status, the save bar and editable inputs data_write. */
    struct store_form_lock *fl = NULL, held;
    size_t nfl = 0;
    const struct store_form_lock *h = NULL;
    if (rec->nform_locks > 0 && store_form_locks(r->st, rec->id, &fl, &nfl, &e) == 0)
        h = page_form_lock_find(fl, nfl, f->event, f->fm->name, f->instance);
    bool is_form_locked = h != NULL;
    if (is_form_locked)
        held = *h;
    free(fl);
    /* shown read only; the write path refuses it anyway */
    bool locked = rec->is_locked || is_form_locked;
    bool may_write = page_may(r, PERM_DATA_WRITE) && !locked;
    bool may_status = page_may(r, PERM_FORM_STATUS) && !locked;
    if (!may_write)
        html_raw(r, "<fieldset class=\"readonly\" disabled>");
    form_render_fields(r, f->fm, &src);
    if (!may_write)
        html_raw(r, "</fieldset>");
    int show = posted_status ? atoi(posted_status) : (status < 0 ? 0 : status);
    if (!may_write) {
        html_raw(r, "<div class=\"savebar\"><p>Form status: ");
        html_text(r, page_status_label(status < 0 ? 0 : status));
        html_raw(
            r, locked ? " <span class=\"muted\">(locked)</span></p></div></form>"
                      : " <span class=\"muted\">(read only for your role)</span></p></div></form>");
    } else {
        html_raw(r, "<div class=\"savebar\">");
        if (may_status) {
            html_raw(r, "<input type=\"hidden\" name=\"__orig.__status\" value=\"");
            html_text(r, orig_status);
            html_raw(r, "\">");
            html_raw(r, "<label for=\"i-status\">Form status</label>"
                        "<select id=\"i-status\" name=\"__status\">");
            for (int s = 0; s <= 2; s++) {
                html_rawf(r, "<option value=\"%d\"%s>", s, s == show ? " selected" : "");
                html_text(r, page_status_label(s));
                html_raw(r, "</option>");
            }
            html_raw(r, "</select>");
        } else {
            html_raw(r, "<p>Form status: ");
            html_text(r, page_status_label(status < 0 ? 0 : status));
            html_raw(r, "</p>");
        }
        /* a reason is for changing what is there: an empty form has nothing to change */
        if (has_data) {
            html_raw(r, "<div class=\"reason");
            if (status == 2)
                html_raw(r, " required");
            if (res && e.code == 0 && error && strstr(error, "reason"))
                html_raw(r, " has-error");
            html_raw(r, "\"><label for=\"i-reason\">Reason for change");
            if (status == 2)
                html_raw(r, " <span class=\"req\">*</span> <span class=\"muted\">(this form is "
                            "complete)</span>");
            html_raw(r, "</label><textarea id=\"i-reason\" name=\"__reason\" rows=\"2\">");
            if (from_post)
                html_text(r, req_form(r, "__reason"));
            html_raw(r, "</textarea></div>");
        }
        html_raw(r, "<button class=\"primary\" type=\"submit\">Save</button></div></form>");
    }
    page_lock_section(r, rec, f->event, f->instance, f->fm, is_form_locked ? &held : NULL);
    page_queries_section(r, store_record_name(rec), f->event, f->instance, f->fm);
    page_sdv_section(r, store_record_name(rec), f->event, f->instance, f->fm);
    values_json(r, f->d, pv);
    html_raw(r, "<script src=\"/forms/");
    html_text(r, f->fm->name);
    html_raw(r, "/logic.js\"></script>");
    static const char *const scripts[] = {"logic.js", "form.js", NULL};
    html_end(r, scripts);
    return 0;
}

int page_form(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    struct form_ref f;
    struct page_values pv;
    if (store_record_get(r->st, req_param(r, "id"), &rec, &e) != 0 || resolve(r, &f, &e) != 0 ||
        page_values_load(r, req_param(r, "id"), &pv, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    return render(r, &rec, &f, &pv, false, NULL, NULL, req_query(r, "saved") ? "Saved." : NULL);
}

int page_form_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    struct form_ref f;
    struct page_values pv;
    if (store_record_get(r->st, req_param(r, "id"), &rec, &e) != 0 || resolve(r, &f, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    if (f.repeats && f.instance == 0) {
        html_error_page(r, 422, "choose an instance of this repeating form first");
        return 0;
    }
    struct store_change *ch = NULL;
    size_t n = 0;
    int rc = form_changes_from_post(r, f.fm, f.event, f.instance, &ch, &n, &e);
    const char *st = req_form(r, "__status"), *st_orig = req_form(r, "__orig.__status");
    char status_field[160];
    if (st && st_orig && strcmp(st, st_orig) == 0)
        st = NULL; /* left as the page showed it */
    if (rc == 0 && st && (!strcmp(st, "0") || !strcmp(st, "1") || !strcmp(st, "2"))) {
        struct store_change *all = arena_calloc(&r->ar, n + 1, sizeof *all);
        if (!all) {
            rc = err_set(&e, ERR_NOMEM, "out of memory");
        } else {
            if (n)
                memcpy(all, ch, n * sizeof *ch);
            all[n++] = (struct store_change){
                .event = f.event,
                .instance = f.instance,
                .field = arena_strdup(&r->ar,
                                      dict_complete_field(f.fm, status_field, sizeof status_field)),
                .value = st,
                .expect = st_orig};
            ch = all;
        }
    }
    const char *reason = req_form(r, "__reason");
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_ctx who = req_who(r);
    if (rc == 0)
        rc = store_put_changes(r->st, &who, req_param(r, "id"), ch, n,
                               reason && *reason ? reason : NULL, &res, &e);
    if (rc == 0) {
        store_put_result_free(&res);
        const char *loc = f.instance
                              ? arena_printf(&r->ar, "/records/%s/forms/%s/%s?instance=%d&saved=1",
                                             http_url_encode(&r->ar, store_record_name(&rec)),
                                             f.event, f.fm->name, f.instance)
                              : arena_printf(&r->ar, "/records/%s/forms/%s/%s?saved=1",
                                             http_url_encode(&r->ar, store_record_name(&rec)),
                                             f.event, f.fm->name);
        return resp_redirect(r, loc ? loc : "/");
    }
    memset(&pv, 0, sizeof pv);
    struct err e2;
    err_clear(&e2);
    if (page_values_load(r, req_param(r, "id"), &pv, &e2) != 0)
        memset(&pv, 0, sizeof pv);
    const char *msg = e.code == ERR_REASON_REQUIRED
                          ? "This form is complete: give a reason for the change."
                          : html_err_msg(r, &e);
    render(r, &rec, &f, &pv, true, &res, arena_printf(&r->ar, "Not saved. %s", msg), NULL);
    r->status = err_info(e.code)->http_status;
    store_put_result_free(&res);
    return 0;
}

int form_logic_js(struct req *r)
{
    const struct dict *d = store_dict(r->st);
    const struct dict_form *fm = dict_form(d, req_param(r, "form"));
    if (!fm)
        return resp_errf(r, ERR_NOT_FOUND, "form", "no such form");
    r->status = 200;
    r->content_type = "text/javascript; charset=utf-8";
    strbuf_adds(&r->out, "/* generated from the protocol by expr_to_js; read by form.js */\n"
                         "(window.IOHEME_FORM_DEFS = window.IOHEME_FORM_DEFS || []).push({\n");
    for (size_t i = 0; i < fm->nfields; i++) {
        const struct dict_field *f = &d->fields[fm->first_field + i];
        if (!f->branching && !f->calc)
            continue;
        struct strbuf js = STRBUF_INIT;
        struct err e;
        err_clear(&e);
        strbuf_addf(&js, "\"%s\":{", f->name); /* names are [a-z0-9_] (dict_load checks) */
        int rc = 0;
        if (f->branching) {
            strbuf_adds(&js, "show:function(L){return (");
            rc = expr_to_js(f->branching, &js, &e);
            strbuf_adds(&js, ");},");
        }
        if (rc == 0 && f->calc) {
            strbuf_adds(&js, "calc:function(L){return (");
            rc = expr_to_js(f->calc, &js, &e);
            strbuf_adds(&js, ");},");
        }
        strbuf_adds(&js, "},\n");
        if (rc == 0 && !js.failed)
            strbuf_adds(&r->out, strbuf_str(&js));
        strbuf_release(&js);
    }
    strbuf_adds(&r->out, "});\n");
    return 0;
}
