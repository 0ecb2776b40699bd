/* Source data verification on the pages: under a data-entry form, what is verified there and a
 * "mark verified" button for the roles that may; one line of progress on the subject page and
 * the dashboard. The store decides scope and permission (store.h, "source data
 * verification"). */
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/html.h"
#include "http/page.h"

struct form_sdv {
    const char *event, *form;
    int instance;
    size_t values, verified, planned, planned_verified;
    struct req *r;
    char *pending_labels;
};

static int form_sdv_one(void *ctx, const struct store_sdv_value *v)
{
    struct form_sdv *c = ctx;
    if (strcmp(v->event, c->event) != 0 || v->instance != c->instance ||
        strcmp(v->form, c->form) != 0)
        return 0;
    c->values++;
    c->verified += v->is_verified;
    c->planned += v->is_required;
    c->planned_verified += v->is_required && v->is_verified;
    if (v->is_required && !v->is_verified) {
        const struct dict_field *f = dict_field(store_dict(c->r->st), v->field);
        c->pending_labels =
            arena_printf(&c->r->ar, "%s%s%s", c->pending_labels ? c->pending_labels : "",
                         c->pending_labels ? "; " : "", f ? f->label : v->field);
    }
    return 0;
}

void page_sdv_section(struct req *r, const char *record, const char *event, int instance,
                      const struct dict_form *fm)
{
    struct err e;
    err_clear(&e);
    struct form_sdv c = {.event = event, .form = fm->name, .instance = instance, .r = r};
    if (store_sdv_values(r->st, record, form_sdv_one, &c, &e) != 0)
        return;
    html_raw(r, "<section class=\"form-sdv\" id=\"sdv\"><h2>Source data verification</h2><p>");
    if (!c.values) {
        html_raw(r, "No values stored here yet.</p></section>");
        return;
    }
    html_rawf(r, "<span id=\"sdv-count\">%zu of %zu</span> stored values verified", c.verified,
              c.values);
    if (c.planned)
        html_rawf(r, " · the plan asks for %zu, %zu done", c.planned, c.planned_verified);
    else
        html_raw(r, " · not in the SDV plan for this record");
    html_raw(r, ".</p>");
    if (c.pending_labels) {
        html_raw(r, "<p class=\"muted\">Still to verify: ");
        html_text(r, c.pending_labels);
        html_raw(r, "</p>");
    }
    if (page_may(r, PERM_SDV) && c.verified < c.values) {
        html_raw(r, "<form method=\"post\" action=\"/records/");
        html_url(r, record);
        html_raw(r, "/forms/");
        html_text(r, event);
        html_raw(r, "/");
        html_text(r, fm->name);
        html_raw(r, "/sdv");
        if (instance)
            html_rawf(r, "?instance=%d", instance);
        html_raw(r, "\">");
        html_csrf(r);
        html_raw(r, "<button type=\"submit\">Mark every value here verified against "
                    "source</button></form>");
    }
    html_raw(r, "</section>");
}

int page_form_sdv_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    const char *record = req_param(r, "id"), *event = req_param(r, "event");
    const char *form = req_param(r, "form");
    int instance = 0;
    const char *inst = req_query(r, "instance");
    int rc = inst ? dict_instance_parse(inst, "instance", &instance, &e) : 0;
    size_t n = 0;
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_sdv_verify(r->st, &who, record, event, instance, form, NULL, &n, &e);
    if (rc) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    char *back = arena_printf(&r->ar, "/records/%s/forms/%s/%s", http_url_encode(&r->ar, record),
                              event, form);
    if (instance)
        back = arena_printf(&r->ar, "%s?instance=%d", back, instance);
    return resp_redirect(r, back);
}

void page_sdv_summary(struct req *r, const char *record)
{
    struct err e;
    err_clear(&e);
    struct store_sdv_count *c = NULL;
    size_t n = 0;
    if (store_sdv_progress(r->st, record, &c, &n, &e) != 0)
        return;
    size_t req = 0, ver = 0;
    for (size_t i = 0; i < n; i++)
        if (!c[i].form[0]) {
            req += c[i].required;
            ver += c[i].required_verified;
        }
    bool met = store_sdv_plan_met(c, n);
    free(c);
    html_rawf(r, "<p class=\"sdv-summary\">SDV: %zu of %zu planned values verified (%s)</p>", ver,
              req, met ? "plan met" : "plan not met yet");
}
