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

/* The eligibility verdict and each criterion with its finding. For a patient already enrolled
 * (or withdrawn) it is history: folded under its verdict, so the forms come first. */
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
    size_t npass = 0;
    for (size_t i = 0; i < el.ncriteria; i++)
        npass += el.criteria[i].state != CRIT_UNKNOWN && el.criteria[i].passes;
    bool is_past = rec->status == STORE_REC_ENROLLED || rec->status == STORE_REC_WITHDRAWN;
    html_raw(r, is_past ? "<details class=\"card elig\" id=\"eligibility\">"
                        : "<details class=\"card elig\" id=\"eligibility\" open>");
    html_raw(r, "<summary><h2>Eligibility: <span id=\"verdict\" class=\"v-");
    html_raw(r, el.verdict == ELIG_ELIGIBLE ? "yes" : el.verdict == ELIG_INELIGIBLE ? "no" : "unk");
    html_raw(r, "\">");
    html_raw(r, verdict);
    html_rawf(r,
              "</span> <span class=\"muted small\">(%zu of %zu criteria pass)</span></h2>"
              "</summary>",
              npass, el.ncriteria);
    static const char *const cols[] = {"Criterion", "Kind", "Finding", "Result"};
    struct html_table t;
    html_table_begin(r, &t, "criteria", cols, 4);
    for (size_t i = 0; i < el.ncriteria; i++) {
        const struct elig_criterion *c = &el.criteria[i];
        bool unknown = c->state == CRIT_UNKNOWN;
        html_table_row(r, &t, unknown ? "unk" : c->passes ? "pass" : "fail");
        html_cell(r, &t, c->field->label);
        html_cell(r, &t, c->is_exclusion ? "exclusion" : "inclusion");
        html_cell(r, &t, unknown ? "not answered" : c->state == CRIT_MET ? "met" : "not met");
        html_cell(r, &t, unknown ? "? unknown" : c->passes ? "✓ passes" : "✗ fails");
        html_table_row_end(r, &t);
    }
    html_table_end(r, &t, NULL);
    html_raw(r, "</details>");
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
    html_url(r, store_record_name(rec));
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

/* The events × forms grid; is_first: the page's first section (its heading for screen readers
 * only, the record heading above says whose forms these are). */
static void subject_grid(struct req *r, const struct store_record *rec, bool is_first)
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
    /* live queries (open or answered) per cell, and the form locks, marked on the cells */
    int *nq = arena_calloc(&r->ar, cells ? cells : 1, sizeof *nq);
    struct store_query_filter qf = {
        .record = store_record_name(rec), .status = -1, .is_live = true};
    struct store_query *qs = NULL;
    size_t nqs = 0;
    if (nq && store_query_list(r->st, &qf, &qs, &nqs, &e) == 0)
        for (size_t i = 0; i < nqs; i++) {
            int ev = dict_event_index(d, qs[i].event), fm = dict_form_index(d, qs[i].form);
            if (ev >= 0 && fm >= 0)
                nq[(size_t)ev * d->nforms + (size_t)fm]++;
        }
    free(qs);
    struct store_form_lock *fl = NULL;
    size_t nfl = 0;
    if (rec->nform_locks > 0 && store_form_locks(r->st, rec->id, &fl, &nfl, &e) != 0)
        nfl = 0;
    /* Rows are forms, columns events under their short names; on a phone app.css stacks each
     * form's cells into a row of marks, each with its event's name (.ev), so nothing scrolls
     * sideways. Each status shows a mark of its own besides its colour. */
    html_raw(r, is_first ? "<section class=\"forms\"><h2 class=\"sr\">Forms</h2>"
                         : "<section class=\"forms\"><h2>Forms</h2>");
    html_raw(r, "<table class=\"grid\" id=\"grid\"><thead><tr><th scope=\"col\">Form</th>");
    for (size_t ev = 0; ev < d->nevents; ev++) {
        html_raw(r, "<th scope=\"col\" title=\"");
        html_text(r, d->events[ev].label);
        html_raw(r, "\">");
        html_text(r, d->events[ev].short_label);
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
            html_raw(r, "<td><a class=\"cell\" href=\"/records/");
            html_url(r, store_record_name(rec));
            html_raw(r, "/forms/");
            html_text(r, d->events[ev].name);
            html_raw(r, "/");
            html_text(r, d->forms[fm].name);
            html_raw(r, "\" title=\"");
            html_text(r, page_status_label(s));
            html_rawf(r, "\"><span class=\"dot st%d\" aria-hidden=\"true\">", s);
            html_text(r, page_status_mark(s));
            if (d->form_repeats[k] && g.count[k])
                html_rawf(r, "<span class=\"n\">%d</span>", g.count[k]);
            bool is_locked =
                page_form_lock_find(fl, nfl, d->events[ev].name, d->forms[fm].name, -1) != NULL;
            int queries = nq ? nq[k] : 0;
            if (is_locked)
                html_raw(r, "<span class=\"lk\" title=\"locked\">&#128274;</span>");
            if (queries)
                html_rawf(r, "<span class=\"q\" title=\"live queries\">%d</span>", queries);
            html_raw(r, "</span><span class=\"ev\" aria-hidden=\"true\">");
            html_text(r, d->events[ev].short_label);
            html_raw(r, "</span><span class=\"sr\">");
            html_text(r, d->forms[fm].label);
            html_raw(r, " at ");
            html_text(r, d->events[ev].label);
            html_raw(r, ": ");
            html_text(r, page_status_label(s));
            if (d->form_repeats[k] && g.count[k])
                html_rawf(r, " (%d)", g.count[k]);
            if (is_locked)
                html_raw(r, ", locked");
            if (queries)
                html_rawf(r, ", %d live %s", queries, queries == 1 ? "query" : "queries");
            html_raw(r, "</span></a></td>");
        }
        html_raw(r, "</tr>");
    }
    free(fl);
    html_raw(r, "</tbody></table><p class=\"legend\">");
    for (int st = -1; st <= 2; st++) {
        html_rawf(r, "<span class=\"key\"><span class=\"dot st%d\" aria-hidden=\"true\">", st);
        html_text(r, page_status_mark(st));
        html_raw(r, "</span> ");
        html_text(r, page_status_label(st));
        html_raw(r, "</span>");
    }
    html_raw(r, "</p></section>");
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
    html_raw(r, "<div class=\"rec-top\">");
    page_record_heading(r, rec, NULL);
    html_raw(r, "<p class=\"actions\">");
    if (rec->status == STORE_REC_ENROLLED && page_may(r, PERM_DATA_WRITE)) {
        html_raw(r, "<a class=\"button primary big\" href=\"/records/");
        html_url(r, store_record_name(rec));
        html_raw(r, "/stopwatch\">IO stopwatch</a> ");
    }
    html_raw(r, "<a class=\"button\" href=\"/records/");
    html_url(r, store_record_name(rec));
    html_raw(r, "/casebook\">Print casebook</a></p></div>");
    /* An enrolled patient's page is for data entry: the forms first, on the first screen of a
     * tablet, and the eligibility that let the patient in folded below them. */
    if (rec->status == STORE_REC_ENROLLED || rec->status == STORE_REC_WITHDRAWN) {
        subject_grid(r, rec, true);
        /* then what the monitor and the data manager follow: queries, SDV, placements */
        page_queries_summary(r, store_record_name(rec));
        page_sdv_summary(r, store_record_name(rec));
        page_lock_section(r, rec, NULL, 0, NULL, NULL);
        placements_section(r, rec); /* the IO placements, empty ones marked */
        eligibility_table(r, rec);
    } else {
        eligibility_table(r, rec);
        if (rec->status == STORE_REC_SCREENED && rec->eligible == 1 && page_may(r, PERM_ENROLL))
            enrol_section(r, rec, from_post, res, error);
        subject_grid(r, rec, false);
        page_queries_summary(r, store_record_name(rec));
    }
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
    char id[STORE_RECORD_ID_MAX + 1] = "";
    struct store_ctx who = req_who(r);
    if (rc == 0)
        rc = store_enroll(r->st, &who, store_record_name(&rec), ch, n, id, &res, &e);
    if (rc == 0) {
        store_put_result_free(&res);
        return resp_redirect(r, arena_printf(&r->ar, "/records/%s", http_url_encode(&r->ar, id)));
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

static void casebook_trail(struct req *r, const struct store_record *rec);

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
                    int older = 0; /* a value entered under an earlier protocol version */
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
                        if (p->version < store_protocol_version(r->st))
                            older = p->version;
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
                        if (older)
                            html_rawf(r, " <span class=\"muted pver\">(protocol v%d)</span>",
                                      older);
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
    if (page_may(r, PERM_AUDIT_READ)) /* P11-18: the record's trail in its casebook */
        casebook_trail(r, &rec);
    static const char *const scripts[] = {"form.js", NULL};
    html_end(r, scripts);
    return 0;
}

struct history {
    struct req *r;
    struct html_table t;
    bool with_field; /* a column naming the field (a whole record's trail) */
};

/* A value of the history as a person reads it: the choice's label for a coded field (the
 * dictionary's, through value_text), and for a checkbox option whether it was ticked. */
static const char *history_value(const struct dict_field *f, const char *code, const char *value)
{
    if (!value || !*value)
        return "";
    if (code)
        return strcmp(value, "1") == 0 ? "ticked" : strcmp(value, "0") == 0 ? "not ticked" : value;
    const char *t = f ? value_text(f, NULL, value) : NULL;
    return t ? t : value;
}

static int history_row(void *ctx, const struct store_audit_row *a)
{
    struct history *h = ctx;
    struct req *r = h->r;
    struct html_table *t = &h->t;
    const struct dict *d = store_dict(r->st);
    struct dict_key k = {0};
    if (a->field)
        dict_key_parse(d, a->field, &k);
    const struct dict_field *f = a->field ? k.field : NULL;
    const char *code = k.kind == DICT_KEY_OPTION ? k.code : NULL;
    html_table_row(r, t, NULL);
    html_cell(r, t, html_time(r, a->ts, false));
    html_cell(r, t, a->user);
    html_cell(r, t, a->action);
    /* the time point, linked to the form where the value lives */
    int ev = a->event ? dict_event_index(d, a->event) : -1;
    html_cell_open(r, t, NULL);
    if (f && ev >= 0) {
        html_raw(r, "<a href=\"/records/");
        html_url(r, req_param(r, "id"));
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
    if (h->with_field) {
        html_raw(r, "</td>");
        html_cell_open(r, t, NULL);
        html_text(r, f ? f->label : a->field);
    }
    if (code) { /* which option of the checkbox */
        const char *opt = f ? dict_choice_label(f, code) : NULL;
        html_raw(r, "<span class=\"opt\">");
        html_text(r, opt ? opt : code);
        html_raw(r, "</span>");
    }
    html_raw(r, "</td>");
    html_cell_open(r, t, "old");
    html_text(r, history_value(f, code, a->old_value));
    html_raw(r, "</td>");
    html_cell_open(r, t, "new");
    html_text(r, history_value(f, code, a->new_value));
    html_raw(r, "</td>");
    html_cell_open(r, t, "reason");
    html_text(r, a->reason);
    html_raw(r, "</td>");
    html_table_row_end(r, t);
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
    const char *const cols[] = {arena_printf(&r->ar, "When (%s)", html_time_zone(r)),
                                "Who",
                                "Action",
                                "Event",
                                "Old",
                                "New",
                                "Reason"};
    struct history h = {.r = r};
    html_table_begin(r, &h.t, "history", cols, 7);
    struct err e;
    err_clear(&e);
    int rc = store_field_history(r->st, store_record_name(&rec), field, history_row, &h, &e);
    html_table_end(r, &h.t, "No change recorded yet.");
    if (rc != 0)
        html_notice(r, "error", html_err_msg(r, &e));
    html_end(r, NULL);
    return 0;
}

/* Every audit row about the record, oldest first: what was entered, changed, calculated,
 * signed, locked, by whom, when and why. */
static void casebook_trail(struct req *r, const struct store_record *rec)
{
    html_raw(r, "<section class=\"cb-trail\"><h2>Audit trail of this record</h2>");
    const char *const cols[] = {arena_printf(&r->ar, "When (%s)", html_time_zone(r)),
                                "Who",
                                "Action",
                                "Event",
                                "Field",
                                "Old",
                                "New",
                                "Reason"};
    struct history h = {.r = r, .with_field = true};
    html_table_begin(r, &h.t, "history", cols, 8);
    struct err e;
    err_clear(&e);
    int rc = store_record_audit(r->st, store_record_name(rec), NULL, history_row, &h, &e);
    html_table_end(r, &h.t, "No change recorded yet.");
    if (rc != 0)
        html_notice(r, "error", html_err_msg(r, &e));
    html_raw(r, "</section>");
}
