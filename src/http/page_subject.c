/* A subject's pages: the record home page (eligibility criterion by criterion, enrolment with
 * consent, and the events × forms grid with status colours, as REDCap's record home page), the
 * printable casebook, and one field's history (who, when, old → new, reason). */
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/html.h"
#include "http/io_state.h"
#include "http/page.h"

static int load_record(struct req *r, struct store_record *rec)
{
    struct err e;
    err_clear(&e);
    if (store_record_get(r->st, req_param(r, "id"), rec, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return -1;
    }
    return 0;
}

static void eligibility_table(struct req *r, const struct store_record *rec)
{
    struct err e;
    err_clear(&e);
    struct elig_result el;
    if (store_record_eligibility(r->st, store_record_name(rec), &r->ar, &el, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
        return;
    }
    const char *verdict = el.verdict == ELIG_ELIGIBLE     ? "eligible"
                          : el.verdict == ELIG_INELIGIBLE ? "not eligible"
                                                          : "incomplete";
    html_raw(r, "<section class=\"card\"><h2>Eligibility: <span id=\"verdict\" class=\"v-");
    html_raw(r, el.verdict == ELIG_ELIGIBLE ? "yes" : el.verdict == ELIG_INELIGIBLE ? "no" : "unk");
    html_raw(r, "\">");
    html_raw(r, verdict);
    html_raw(r, "</span></h2><table class=\"list\" id=\"criteria\"><thead><tr><th>Criterion</th>"
                "<th>Kind</th><th>Finding</th><th>Result</th></tr></thead><tbody>");
    for (size_t i = 0; i < el.ncriteria; i++) {
        const struct elig_criterion *c = &el.criteria[i];
        bool unknown = c->state == CRIT_UNKNOWN;
        html_raw(r, unknown     ? "<tr class=\"unk\">"
                    : c->passes ? "<tr class=\"pass\">"
                                : "<tr class=\"fail\">");
        html_raw(r, "<td>");
        html_text(r, c->field->label);
        html_raw(r, "</td><td>");
        html_raw(r, c->is_exclusion ? "exclusion" : "inclusion");
        html_raw(r, "</td><td>");
        html_raw(r, unknown ? "not answered" : c->state == CRIT_MET ? "met" : "not met");
        html_raw(r, "</td><td>");
        html_raw(r, unknown ? "?" : c->passes ? "✓ passes" : "✗ fails");
        html_raw(r, "</td></tr>");
    }
    html_raw(r, "</tbody></table></section>");
}

/* The form carrying the @CONSENT annotation (store_enroll needs it), else the form named
 * "consent", or NULL. */
static const struct dict_form *consent_form(const struct dict *d)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].annotation && strstr(d->fields[i].annotation, "@CONSENT"))
            return &d->forms[d->fields[i].form_index];
    return dict_form(d, "consent");
}

static void enrol_section(struct req *r, const struct store_record *rec, bool from_post,
                          const struct store_put_result *res, const char *error)
{
    const struct dict *d = store_dict(r->st);
    const struct dict_form *fm = consent_form(d);
    html_raw(r, "<section class=\"card\" id=\"enrol\"><h2>Enrol</h2>");
    if (error)
        html_notice(r, "error", error);
    html_raw(r, "<form method=\"post\" class=\"crf\" novalidate action=\"/records/");
    html_text(r, store_record_name(rec));
    html_raw(r, "/enrol\" data-instance=\"0\" data-event=\"");
    html_text(r, d->nevents ? d->events[0].name : "");
    html_raw(r, "\">");
    html_csrf(r);
    if (fm) {
        struct page_values pv;
        struct err e;
        err_clear(&e);
        if (page_values_load(r, store_record_name(rec), &pv, &e) != 0)
            memset(&pv, 0, sizeof pv);
        struct form_source src = {.stored = &pv,
                                  .event = d->nevents ? d->events[0].name : "",
                                  .from_post = from_post,
                                  .res = res};
        form_render_fields(r, fm, &src);
    }
    html_raw(r, "<div class=\"savebar\"><button class=\"primary\" type=\"submit\" id=\"enrol-btn\">"
                "Enrol and assign a study ID</button></div></form>");
    if (fm) {
        html_raw(r, "<script type=\"application/json\" id=\"ioh-values\">{}</script>"
                    "<script src=\"/forms/");
        html_text(r, fm->name);
        html_raw(r, "/logic.js\"></script>");
    }
    html_raw(r, "</section>");
}

struct grid {
    const struct dict *d;
    int *status; /* [event][form] least complete status, -1 none */
    int *count;  /* [event][form] instances with a status */
};

static int grid_cb(void *ctx, const struct store_form_state *s)
{
    struct grid *g = ctx;
    int ev = dict_event_index(g->d, s->event), fm = dict_form_index(g->d, s->form);
    if (ev < 0 || fm < 0)
        return 0;
    size_t k = (size_t)ev * g->d->nforms + (size_t)fm;
    if (g->status[k] < 0 || s->status < g->status[k])
        g->status[k] = s->status;
    g->count[k]++;
    return 0;
}

static void subject_grid(struct req *r, const struct store_record *rec)
{
    const struct dict *d = store_dict(r->st);
    struct grid g = {.d = d};
    size_t cells = d->nevents * d->nforms;
    g.status = arena_calloc(&r->ar, cells ? cells : 1, sizeof *g.status);
    g.count = arena_calloc(&r->ar, cells ? cells : 1, sizeof *g.count);
    if (!g.status || !g.count)
        return;
    for (size_t i = 0; i < cells; i++)
        g.status[i] = -1;
    struct err e;
    err_clear(&e);
    if (store_form_states(r->st, store_record_name(rec), grid_cb, &g, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
        return;
    }
    /* As REDCap: a form with values but no status yet shows as incomplete. */
    struct page_values pv;
    if (page_values_load(r, store_record_name(rec), &pv, &e) == 0) {
        for (size_t i = 0; i < pv.n; i++) {
            const struct dict_field *f = dict_field(d, pv.v[i].field);
            int ev = dict_event_index(d, pv.v[i].event);
            if (!f || ev < 0 || !*pv.v[i].value || f->type == FT_CALC)
                continue;
            size_t k = (size_t)ev * d->nforms + f->form_index;
            if (g.status[k] < 0)
                g.status[k] = 0;
            if (d->form_repeats[k] && pv.v[i].instance > g.count[k])
                g.count[k] = pv.v[i].instance;
        }
    }
    html_raw(r, "<section><h2>Forms</h2><div class=\"grid-wrap\"><table class=\"grid\" "
                "id=\"grid\"><thead><tr><th scope=\"col\">Form</th>");
    for (size_t ev = 0; ev < d->nevents; ev++) {
        html_raw(r, "<th scope=\"col\">");
        html_text(r, d->events[ev].label);
        html_raw(r, "</th>");
    }
    html_raw(r, "</tr></thead><tbody>");
    for (size_t fm = 0; fm < d->nforms; fm++) {
        html_raw(r, "<tr><th scope=\"row\">");
        html_text(r, d->forms[fm].label);
        html_raw(r, "</th>");
        for (size_t ev = 0; ev < d->nevents; ev++) {
            size_t k = ev * d->nforms + fm;
            if (!d->form_at_event[k]) {
                html_raw(r, "<td></td>");
                continue;
            }
            int s = g.status[k];
            html_rawf(r, "<td><a class=\"dot st%d\" href=\"/records/", s);
            html_text(r, store_record_name(rec));
            html_raw(r, "/forms/");
            html_text(r, d->events[ev].name);
            html_raw(r, "/");
            html_text(r, d->forms[fm].name);
            html_raw(r, "\" title=\"");
            html_text(r, page_status_label(s));
            html_raw(r, "\"><span class=\"sr\">");
            html_text(r, d->forms[fm].label);
            html_raw(r, " at ");
            html_text(r, d->events[ev].label);
            html_raw(r, ": ");
            html_text(r, page_status_label(s));
            html_raw(r, "</span>");
            if (d->form_repeats[k] && g.count[k])
                html_rawf(r, "<span class=\"n\">%d</span>", g.count[k]);
            html_raw(r, "</a></td>");
        }
        html_raw(r, "</tr>");
    }
    html_raw(r, "</tbody></table></div><p class=\"legend\"><span class=\"dot st-1\"></span> no "
                "data <span class=\"dot st0\"></span> incomplete <span class=\"dot st1\"></span> "
                "unverified <span class=\"dot st2\"></span> complete</p></section>");
}

/* The IO placements at a glance, an empty one (decision, no attempt) said to be so. */
static void placements_section(struct req *r, const struct store_record *rec)
{
    struct err e;
    err_clear(&e);
    struct page_io_state s;
    if (rec->status != STORE_REC_ENROLLED && rec->status != STORE_REC_WITHDRAWN)
        return;
    if (page_io_load(r, store_record_name(rec), &s, &e) != 0 || !s.npl)
        return; /* a protocol without the IO forms, or no placement yet */
    html_raw(r, "<section><h2>IO placements</h2><ul class=\"placements\" id=\"placements\">");
    for (size_t i = 0; i < s.npl; i++) {
        const struct page_io_placement *p = &s.pl[i];
        html_raw(r, p->is_empty ? "<li class=\"empty\">" : "<li>");
        page_io_link(r, store_record_name(rec), &s, p);
        if (p->decision) {
            html_raw(r, ": decision ");
            html_text(r, p->decision);
        }
        if (p->is_empty) {
            html_raw(r, " — <strong>");
            html_text(r, PAGE_IO_EMPTY_TEXT);
            html_raw(r, "</strong>");
        } else {
            html_rawf(r, " — %d attempt(s)", p->nattempts ? p->nattempts : p->crf_attempts);
            html_raw(r, !p->success                    ? ""
                        : strcmp(p->success, "1") == 0 ? ", placed"
                                                       : ", not placed");
            html_raw(r, p->is_open ? " (in progress)" : "");
        }
        html_raw(r, "</li>");
    }
    html_raw(r, "</ul></section>");
}

static void subject_page(struct req *r, const struct store_record *rec, bool from_post,
                         const struct store_put_result *res, const char *error)
{
    html_begin(r, store_record_name(rec));
    page_record_heading(r, rec, NULL);
    page_queries_summary(r, store_record_name(rec));
    if (rec->status >= STORE_REC_ENROLLED)
        page_sdv_summary(r, store_record_name(rec));
    html_raw(r, "<p class=\"actions\">");
    if (rec->status == STORE_REC_ENROLLED && page_may(r, PERM_DATA_WRITE)) {
        html_raw(r, "<a class=\"button primary big\" href=\"/records/");
        html_text(r, store_record_name(rec));
        html_raw(r, "/stopwatch\">IO stopwatch</a> ");
    }
    html_raw(r, "<a class=\"button\" href=\"/records/");
    html_text(r, store_record_name(rec));
    html_raw(r, "/casebook\">Print casebook</a></p>");
    eligibility_table(r, rec);
    if (rec->status == STORE_REC_SCREENED && rec->eligible == 1 && page_may(r, PERM_ENROLL))
        enrol_section(r, rec, from_post, res, error);
    placements_section(r, rec);
    subject_grid(r, rec);
    static const char *const scripts[] = {"logic.js", "form.js", NULL};
    html_end(r, scripts);
}

int page_subject(struct req *r)
{
    struct store_record rec;
    if (load_record(r, &rec) != 0)
        return 0;
    subject_page(r, &rec, false, NULL, NULL);
    return 0;
}

int page_enrol_post(struct req *r)
{
    struct store_record rec;
    if (load_record(r, &rec) != 0)
        return 0;
    struct err e;
    err_clear(&e);
    const struct dict *d = store_dict(r->st);
    const struct dict_form *fm = consent_form(d);
    struct store_change *ch = NULL;
    size_t n = 0;
    int rc = fm ? form_changes_from_post(r, fm, d->nevents ? d->events[0].name : "event_1", 0, &ch,
                                         &n, &e)
                : 0;
    struct store_put_result res;
    store_put_result_init(&res);
    char id[16] = "";
    struct store_ctx who = req_who(r);
    if (rc == 0)
        rc = store_enroll(r->st, &who, store_record_name(&rec), ch, n, id, &res, &e);
    if (rc == 0) {
        store_put_result_free(&res);
        return resp_redirect(r, arena_printf(&r->ar, "/records/%s", id));
    }
    subject_page(r, &rec, true, &res,
                 arena_printf(&r->ar, "Not enrolled. %s", html_err_msg(r, &e)));
    r->status = err_info(e.code)->http_status;
    store_put_result_free(&res);
    return 0;
}

/* The shown text of a stored value: the choice label for coded fields. */
static const char *value_text(const struct dict_field *f, const char *code, const char *value)
{
    if (code)
        return strcmp(value, "1") == 0 ? dict_choice_label(f, code) : NULL;
    if (f->nchoices) {
        const char *l = dict_choice_label(f, value);
        if (l)
            return l;
    }
    return value;
}

/* The instances of form fi at event that hold a value, ascending, in r->ar: the instances that
 * exist, never a numeric range (a stored instance 2147483647 must not mean 2 billion turns).
 * pv is in (event, instance, field) order, so each event's instances come sorted. */
static const int *form_instances(struct req *r, const struct page_values *pv, const char *event,
                                 size_t fi, size_t *n)
{
    const struct dict *d = store_dict(r->st);
    int *out = arena_calloc(&r->ar, pv->n ? pv->n : 1, sizeof *out);
    *n = 0;
    for (size_t i = 0; out && i < pv->n; i++) {
        const struct dict_field *f = dict_field(d, pv->v[i].field);
        if (!f || f->form_index != fi || strcmp(pv->v[i].event, event) != 0)
            continue;
        if (*n == 0 || out[*n - 1] != pv->v[i].instance)
            out[(*n)++] = pv->v[i].instance;
    }
    return out;
}

int page_casebook(struct req *r)
{
    return page_casebook_render(r, NULL);
}

int page_casebook_render(struct req *r, const char *error)
{
    struct store_record rec;
    if (load_record(r, &rec) != 0)
        return 0;
    struct err e;
    err_clear(&e);
    struct page_values pv;
    if (page_values_load(r, store_record_name(&rec), &pv, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    const struct dict *d = store_dict(r->st);
    html_begin(r, arena_printf(&r->ar, "Casebook %s", store_record_name(&rec)));
    page_record_heading(r, &rec, "Casebook");
    html_raw(r, "<p class=\"noprint\"><button type=\"button\" id=\"print\">Print</button></p>");
    for (size_t ev = 0; ev < d->nevents; ev++) {
        bool header = false;
        for (size_t fm = 0; fm < d->nforms; fm++) {
            if (!d->form_at_event[ev * d->nforms + fm])
                continue;
            const struct dict_form *form = &d->forms[fm];
            size_t ninst = 0;
            const int *insts = form_instances(r, &pv, d->events[ev].name, fm, &ninst);
            for (size_t ii = 0; ii < ninst; ii++) {
                int inst = insts[ii];
                if (!header) {
                    html_raw(r, "<h2 class=\"event\">");
                    html_text(r, d->events[ev].label);
                    html_raw(r, "</h2>");
                    header = true;
                }
                html_raw(r, "<section class=\"cb-form\"><h3>");
                html_text(r, form->label);
                if (inst)
                    html_rawf(r, " #%d", inst);
                html_raw(r, "</h3><table class=\"cb\">");
                for (size_t k = 0; k < form->nfields; k++) {
                    const struct dict_field *f = &d->fields[form->first_field + k];
                    struct strbuf val = STRBUF_INIT;
                    for (size_t i = 0; i < pv.n; i++) {
                        const struct page_value *p = &pv.v[i];
                        if (p->instance != inst || strcmp(p->field, f->name) != 0 ||
                            strcmp(p->event, d->events[ev].name) != 0)
                            continue;
                        const char *t = value_text(f, p->code, p->value);
                        if (!t || !*t)
                            continue;
                        if (val.len)
                            strbuf_adds(&val, "; ");
                        strbuf_adds(&val, t);
                    }
                    if (val.len) {
                        html_raw(r, "<tr><th>");
                        html_text(r, f->label);
                        html_raw(r, "</th><td>");
                        html_text(r, strbuf_str(&val));
                        if (f->note && *f->note && !f->nchoices) {
                            html_raw(r, " <span class=\"muted\">");
                            html_text(r, f->note);
                            html_raw(r, "</span>");
                        }
                        html_raw(r, "</td></tr>");
                    }
                    strbuf_release(&val);
                }
                html_raw(r, "</table></section>");
            }
        }
    }
    long long nrows = 0;
    char head[65] = "";
    if (store_audit_head(r->st, &nrows, head, &e) == 0) {
        html_raw(r, "<p class=\"chain\">Audit chain head: ");
        html_text(r, head);
        html_rawf(r, " (%lld rows)</p>", nrows);
    }
    page_signatures_section(r, store_record_name(&rec), error);
    static const char *const scripts[] = {"form.js", NULL};
    html_end(r, scripts);
    return 0;
}

static int history_row(void *ctx, const struct store_audit_row *a)
{
    struct req *r = ctx;
    html_raw(r, "<tr><td>");
    html_site_time(r, a->ts, false); /* the trail keeps UTC; people read the site's time */
    html_raw(r, "</td>");
    html_td(r, a->user);
    html_td(r, a->action);
    /* the time point, linked to the form where the value lives */
    const struct dict *d = store_dict(r->st);
    const struct dict_field *f = a->field ? dict_field(d, req_param(r, "field")) : NULL;
    int ev = a->event ? dict_event_index(d, a->event) : -1;
    html_raw(r, "<td>");
    if (f && ev >= 0) {
        html_raw(r, "<a href=\"/records/");
        html_text(r, req_param(r, "id"));
        html_raw(r, "/forms/");
        html_text(r, a->event);
        html_raw(r, "/");
        html_text(r, f->form);
        if (a->instance > 0)
            html_rawf(r, "?instance=%lld", a->instance);
        html_raw(r, "\">");
        html_text(r, d->events[ev].label);
        html_raw(r, "</a>");
    } else {
        html_text(r, a->event);
    }
    if (a->instance > 0)
        html_rawf(r, " #%lld", a->instance);
    html_raw(r, "</td><td class=\"old\">");
    html_text(r, a->old_value);
    html_raw(r, "</td><td class=\"new\">");
    html_text(r, a->new_value);
    html_raw(r, "</td><td class=\"reason\">");
    html_text(r, a->reason);
    html_raw(r, "</td></tr>");
    return 0;
}

int page_history(struct req *r)
{
    struct store_record rec;
    if (load_record(r, &rec) != 0)
        return 0;
    const char *field = req_param(r, "field");
    const struct dict_field *f = dict_field(store_dict(r->st), field);
    if (!f) {
        html_error_page(r, 404, "no such field in the protocol");
        return 0;
    }
    html_begin(r, arena_printf(&r->ar, "History of %s", field));
    page_record_heading(r, &rec, arena_printf(&r->ar, "History: %s (%s)", f->label, field));
    html_raw(r,
             "<table class=\"list\" id=\"history\"><thead><tr><th>When (site time)</th><th>Who</th>"
             "<th>Action</th><th>Event</th><th>Old</th><th>New</th><th>Reason</th></tr>"
             "</thead><tbody>");
    struct err e;
    err_clear(&e);
    if (store_field_history(r->st, store_record_name(&rec), field, history_row, r, &e) != 0)
        html_notice(r, "error", html_err_msg(r, &e));
    html_raw(r, "</tbody></table>");
    html_end(r, NULL);
    return 0;
}
