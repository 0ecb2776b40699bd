/* The dashboard (enrolment against the target, forms due, incomplete forms) and the screening
 * log with its "screen a new patient" form. */
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "core/schedule.h"
#include "core/sitetime.h"
#include "http/html.h"
#include "http/io_state.h"
#include "http/page.h"
#include "store/timestamp.h"

/* Every record (caller frees *recs), or an error page and -1. */
static int load_records(struct req *r, struct store_record **recs, size_t *n)
{
    struct err e;
    err_clear(&e);
    if (store_record_list(r->st, recs, n, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return -1;
    }
    return 0;
}

struct states {
    const struct dict *d;
    int *status; /* [record idx][event][form]: max status seen, -1 none */
    const struct store_record *recs;
    size_t nrecs;
    struct schedule_anchors *anchors; /* [record idx]: candidates for the schedule's anchor */
};

/* The index in st->recs of the record with this id, or st->nrecs. */
static size_t rec_index(const struct states *st, long long record_id)
{
    size_t i = (size_t)(record_id - 1); /* ids are given in screening order, as recs is */
    if (i < st->nrecs && st->recs[i].id == record_id)
        return i;
    for (i = 0; i < st->nrecs && st->recs[i].id != record_id; i++)
        ;
    return i;
}

static int state_cb(void *ctx, const struct store_form_state *s)
{
    struct states *st = ctx;
    int ev = dict_event_index(st->d, s->event), fm = dict_form_index(st->d, s->form);
    size_t i = rec_index(st, s->record_id);
    if (ev < 0 || fm < 0 || i == st->nrecs)
        return 0;
    int *slot = &st->status[(i * st->d->nevents + (size_t)ev) * st->d->nforms + (size_t)fm];
    if (*slot < 0 || s->status < *slot)
        *slot = s->status; /* a repeating form counts as its least complete instance */
    return 0;
}

/* As REDCap: a form with values but no status yet counts as incomplete. */
static int data_cb(void *ctx, const struct store_form_data *fd)
{
    struct states *st = ctx;
    int ev = dict_event_index(st->d, fd->event), fm = dict_form_index(st->d, fd->form);
    size_t i = rec_index(st, fd->record_id);
    if (ev < 0 || fm < 0 || i == st->nrecs)
        return 0;
    int *slot = &st->status[(i * st->d->nevents + (size_t)ev) * st->d->nforms + (size_t)fm];
    if (*slot < 0)
        *slot = 0;
    return 0;
}

static int anchor_cb(void *ctx, const struct store_value *v)
{
    struct states *st = ctx;
    size_t i = rec_index(st, v->record_id);
    int ev = dict_event_index(st->d, v->event);
    if (i < st->nrecs && ev >= 0)
        schedule_anchors_offer(st->d, &st->anchors[i], v->field, ev, v->instance, v->value);
    return 0;
}

/* Form states, forms holding data and the schedule's anchor candidates into st: only what
 * the dashboard shows, never every value of the study. */
static int load_states(struct store *store, struct states *st, struct err *e)
{
    const struct dict_study *study = &st->d->study;
    int rc = store_form_states(store, NULL, state_cb, st, e);
    if (!rc)
        rc = store_forms_with_data(store, data_cb, st, e);
    const char *anchors[2];
    size_t n = 0;
    if (study->anchor.field)
        anchors[n++] = study->anchor.field->name;
    if (study->fallback.field && study->fallback.field != study->anchor.field)
        anchors[n++] = study->fallback.field->name;
    if (!rc && n)
        rc = store_fields_values(store, anchors, n, anchor_cb, st, e);
    return rc;
}

static void rec_link(struct req *r, const char *name, const char *event, const char *form)
{
    html_raw(r, "<a href=\"/records/");
    html_url(r, name);
    if (event) {
        html_raw(r, "/forms/");
        html_text(r, event);
        html_raw(r, "/");
        html_text(r, form);
    }
    html_raw(r, "\">");
}

/* The subject, time point and form cells of a dashboard row. */
static void row_cells(struct req *r, struct html_table *t, const char *rec,
                      const struct dict_event *ev, const struct dict_form *fm)
{
    html_cell_open(r, t, NULL);
    rec_link(r, rec, NULL, NULL);
    html_text(r, rec);
    html_raw(r, "</a></td>");
    html_cell(r, t, ev->label);
    html_cell_open(r, t, NULL);
    rec_link(r, rec, ev->name, fm->name);
    html_text(r, fm->label);
    html_raw(r, "</a></td>");
}

/* The status cell, in words (the colour only repeats them), and the row's end. */
static void status_cell(struct req *r, struct html_table *t, int s)
{
    html_cell_open(r, t, arena_printf(&r->ar, "st st%d", s));
    html_text(r, page_status_label(s));
    html_raw(r, "</td>");
    html_table_row_end(r, t);
}

/* The site time zone the pages and the schedule use (core/sitetime.h), and what to do when
 * none is set or an admin changed it since the server started. */
static void site_zone_card(struct req *r)
{
    struct err e;
    err_clear(&e);
    char stored[STORE_TZ_LEN];
    bool is_set = false;
    html_raw(r, "<div class=\"card\" id=\"site-tz\"><h2>Site time zone</h2><p class=\"big\">");
    html_text(r, sitetime_zone());
    html_raw(r, "</p><p class=\"muted\">Data times are the site's local time; the audit trail "
                "keeps UTC.</p>");
    if (store_site_timezone(r->st, stored, &is_set, &e) != 0)
        html_notice(r, "error", html_err_msg(r, &e));
    else if (!is_set)
        html_notice(r, "warning",
                    "No site time zone is set for this study, so it runs on UTC (the default). "
                    "An admin sets it with 'ioheme timezone ZONE'.");
    else if (strcmp(stored, sitetime_zone()) != 0)
        html_notice(r, "warning",
                    arena_printf(&r->ar,
                                 "The site time zone was changed to %s; restart the server to "
                                 "use it (times shown are %s).",
                                 stored, sitetime_zone()));
    html_raw(r, "</div>");
}

/* A multi-centre study's recruitment per site (the sites the user works at; docs/sites.md),
 * each linked to the screening log narrowed to it. Nothing in a single-centre study. */
static void sites_card(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_site *v = NULL;
    size_t n = 0;
    if (store_site_list(r->st, &v, &n, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
        return;
    }
    if (n) {
        html_raw(r, "<div class=\"card\" id=\"sites\"><h2>Sites</h2><table><thead><tr>"
                    "<th scope=\"col\">Site</th><th scope=\"col\">Screened</th>"
                    "<th scope=\"col\">Enrolled</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            html_raw(r, "<tr><td><a href=\"/screening?site=");
            html_text(r, v[i].code);
            html_raw(r, "\">");
            html_text(r, v[i].code);
            html_raw(r, "</a> ");
            html_text(r, v[i].name);
            html_rawf(r, "</td><td>%lld</td><td>%lld</td></tr>", v[i].nrecords, v[i].nenrolled);
        }
        html_raw(r, "</tbody></table></div>");
    }
    free(v);
}

/* Data quality: what the analysis cannot use as it stands — empty IO placements (a decision
 * but no attempt), never counted silently. */
static void quality_list(struct req *r, const struct store_record *recs, size_t n)
{
    html_raw(r, "<section><h2>Data quality</h2><table class=\"list\" id=\"quality\"><thead><tr>"
                "<th>Subject</th><th>Where</th><th>Problem</th></tr></thead><tbody>");
    size_t nq = 0;
    struct err e;
    err_clear(&e);
    struct page_io_state *io = arena_calloc(&r->ar, n ? n : 1, sizeof *io);
    /* ERR_NOT_FOUND: a protocol without the IO forms, nothing to check */
    int rc = io ? page_io_load_study(r, recs, n, io, &e) : err_set(&e, ERR_NOMEM, "out of memory");
    if (rc && rc != ERR_NOT_FOUND)
        html_notice(r, "error", html_err_msg(r, &e));
    for (size_t i = 0; i < n && !rc; i++) {
        if (recs[i].status != STORE_REC_ENROLLED && recs[i].status != STORE_REC_WITHDRAWN)
            continue;
        const struct page_io_state s = io[i];
        const char *name = store_record_name(&recs[i]);
        for (size_t k = 0; k < s.npl; k++) {
            if (!s.pl[k].is_empty)
                continue;
            html_raw(r, "<tr><td>");
            rec_link(r, name, NULL, NULL);
            html_text(r, name);
            html_raw(r, "</a></td><td>");
            page_io_link(r, name, &s, &s.pl[k]);
            html_raw(r, "</td><td>");
            html_text(r, PAGE_IO_EMPTY_TEXT);
            html_raw(r, "</td></tr>");
            nq++;
        }
    }
    if (!nq)
        html_raw(r, "<tr><td colspan=\"3\" class=\"muted\">No problem found.</td></tr>");
    html_raw(r, "</tbody></table></section>");
}

int page_dashboard(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record *recs = NULL;
    size_t n = 0;
    if (load_records(r, &recs, &n) != 0)
        return 0;
    const struct dict *d = store_dict(r->st);
    size_t enrolled = 0, failures = 0;
    for (size_t i = 0; i < n; i++) {
        enrolled += recs[i].status == STORE_REC_ENROLLED || recs[i].status == STORE_REC_WITHDRAWN;
        failures += recs[i].status == STORE_REC_SCREEN_FAILURE;
    }
    struct states st = {.d = d, .recs = recs, .nrecs = n};
    size_t cells = (n ? n : 1) * d->nevents * d->nforms;
    st.status = arena_calloc(&r->ar, cells, sizeof *st.status);
    if (!st.status) {
        free(recs);
        html_error_page(r, 500, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < cells; i++)
        st.status[i] = -1;
    size_t nr = n ? n : 1;
    st.anchors = arena_calloc(&r->ar, nr, sizeof *st.anchors); /* zeroed: nothing picked */
    struct schedule_due *due = arena_calloc(&r->ar, d->nevents ? d->nevents : 1, sizeof *due);
    if (!st.anchors || !due) {
        free(recs);
        html_error_page(r, 500, "out of memory");
        return 0;
    }
    if (load_states(r->st, &st, &e) != 0) {
        free(recs);
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }

    html_begin(r, "Dashboard");
    html_raw(r, "<h1>Dashboard</h1>");
    page_queries_summary(r, NULL);
    page_sdv_summary(r, NULL);
    html_raw(r, "<section class=\"cards\"><div class=\"card\"><h2>Enrolment</h2>");
    int target = d->study.target_enrolment;
    if (target > 0)
        html_rawf(r,
                  "<p class=\"big\"><span id=\"enrolled\">%zu</span> / %d</p>"
                  "<progress max=\"%d\" value=\"%zu\" aria-label=\"enrolment\"></progress>",
                  enrolled, target, target, enrolled);
    else /* the protocol states no target (study.csv without target_enrolment) */
        html_rawf(r, "<p class=\"big\"><span id=\"enrolled\">%zu</span> enrolled</p>", enrolled);
    html_rawf(r, "<p class=\"muted\">%zu screened · %zu screen failures</p></div>", n, failures);
    html_raw(r, "<div class=\"card\"><h2>Actions</h2>");
    if (page_may(r, PERM_SCREEN))
        html_raw(r, "<p><a class=\"button primary\" href=\"/screening/new\">Screen a new "
                    "patient</a></p>");
    html_raw(r, "<p><a class=\"button\" href=\"/screening\">Screening log</a></p></div>");
    site_zone_card(r);
    sites_card(r);
    html_raw(r, "</section>");

    /* Due times are wall-clock, as the data they come from: compare them with the site's
     * wall-clock now (core/sitetime.h), never with UTC or the browser's clock. */
    long long now = sitetime_wall_from_ms(store_now_ms(r->st));
    static const char *const due_cols[] = {"Subject", "Time point", "Form", "Due (site time)",
                                           "Status"};
    struct html_table t;
    html_raw(r, "<section><h2>Forms due</h2>");
    html_table_begin(r, &t, "due", due_cols, 5);
    for (size_t i = 0; i < n; i++) {
        if (recs[i].status != STORE_REC_ENROLLED)
            continue;
        long long enrolled_ms = store_timestamp_ms(recs[i].enrolled_at);
        if (schedule_due(d, &st.anchors[i],
                         enrolled_ms >= 0 ? sitetime_wall_from_ms(enrolled_ms) : -1, due,
                         NULL) != 0)
            continue;
        /* the first event is screening, before enrolment: never due */
        for (size_t ev = 1; ev < d->nevents; ev++) {
            if (due[ev].due_s > now)
                continue;
            for (size_t fm = 0; fm < d->nforms; fm++) {
                if (!d->form_at_event[ev * d->nforms + fm] || d->form_repeats[ev * d->nforms + fm])
                    continue;
                int s = st.status[(i * d->nevents + ev) * d->nforms + fm];
                if (s == 2)
                    continue;
                bool late = now > due[ev].window_end_s;
                html_table_row(r, &t, late ? "overdue" : NULL);
                row_cells(r, &t, store_record_name(&recs[i]), &d->events[ev], &d->forms[fm]);
                char when[SCHEDULE_WALLCLOCK_LEN];
                schedule_format_wallclock(due[ev].due_s, when);
                html_cell_open(r, &t, NULL);
                html_text(r, when);
                html_raw(r, late ? " (overdue)</td>" : "</td>");
                status_cell(r, &t, s);
            }
        }
    }
    html_table_end(r, &t, "Nothing due.");
    html_raw(r, "</section>");

    quality_list(r, recs, n);

    static const char *const inc_cols[] = {"Subject", "Time point", "Form", "Status"};
    html_raw(r, "<section><h2>Incomplete forms</h2>");
    html_table_begin(r, &t, "incomplete", inc_cols, 4);
    for (size_t i = 0; i < n; i++)
        for (size_t ev = 0; recs[i].status == STORE_REC_ENROLLED && ev < d->nevents; ev++)
            for (size_t fm = 0; fm < d->nforms; fm++) {
                int s = st.status[(i * d->nevents + ev) * d->nforms + fm];
                if (s != 0 && s != 1)
                    continue;
                html_table_row(r, &t, NULL);
                row_cells(r, &t, store_record_name(&recs[i]), &d->events[ev], &d->forms[fm]);
                status_cell(r, &t, s);
            }
    html_table_end(r, &t, "None.");
    html_raw(r, "</section>");
    free(recs);
    html_end(r, NULL);
    return 0;
}

/* For a screen failure: the criteria that failed, criterion by criterion. */
static void why_not_eligible(struct req *r, const struct store_record *rec)
{
    if (rec->eligible != 0)
        return;
    struct err e;
    err_clear(&e);
    struct elig_result el;
    if (store_record_eligibility(r->st, store_record_name(rec), &r->ar, &el, &e) != 0)
        return;
    html_raw(r, "<ul class=\"why\">");
    for (size_t i = 0; i < el.ncriteria; i++) {
        if (el.criteria[i].passes || el.criteria[i].state == CRIT_UNKNOWN)
            continue;
        html_raw(r, "<li>");
        html_text(r, el.criteria[i].field->label);
        html_raw(r, "</li>");
    }
    html_raw(r, "</ul>");
}

/* The screening form: the form holding the @ELIGIBLE calc, at the first event collecting it. */
static int screening_form(const struct dict *d, const struct dict_form **fm, const char **event)
{
    for (size_t i = 0; i < d->nfields; i++) {
        if (!d->fields[i].is_eligible)
            continue;
        *fm = &d->forms[d->fields[i].form_index];
        for (size_t ev = 0; ev < d->nevents; ev++)
            if (d->form_at_event[ev * d->nforms + d->fields[i].form_index]) {
                *event = d->events[ev].name;
                return 0;
            }
    }
    *fm = d->nforms ? &d->forms[0] : NULL;
    *event = d->nevents ? d->events[0].name : "event_1";
    return *fm ? 0 : ERR_NOT_FOUND;
}

/* The screening date: the screening form's first date field (scr_date in io-heme), or NULL. */
static const struct dict_field *screening_date_field(const struct dict *d)
{
    const struct dict_form *fm;
    const char *event;
    if (screening_form(d, &fm, &event) != 0)
        return NULL;
    for (size_t i = 0; i < fm->nfields; i++)
        if (d->fields[fm->first_field + i].vtype == VT_DATE_YMD)
            return &d->fields[fm->first_field + i];
    return NULL;
}

struct screening_dates {
    struct req *r;
    struct states st;  /* only recs and nrecs: rec_index */
    const char **date; /* [record idx]: the screening date, or NULL */
};

static int screening_date_cb(void *ctx, const struct store_value *v)
{
    struct screening_dates *sd = ctx;
    size_t i = rec_index(&sd->st, v->record_id);
    if (i < sd->st.nrecs && !sd->date[i] && v->value && *v->value)
        sd->date[i] = arena_strdup(&sd->r->ar, v->value);
    return 0;
}

/* The screening log's lines per page: a study of thousands is not one page of megabytes. */
#define SCREENING_PAGE 250

/* "First · Previous · lines a–b of n · Next · Last" above and below the log, when it has
 * pages; the links keep a ?site= narrowing. */
static void screening_pager(struct req *r, size_t page, size_t npages, size_t n)
{
    const char *site = req_query(r, "site");
    const char *base =
        site && *site
            ? arena_printf(&r->ar, "/screening?site=%s&amp;page=", http_url_encode(&r->ar, site))
            : "/screening?page=";
    size_t first = (page - 1) * SCREENING_PAGE + 1, last = page * SCREENING_PAGE;
    html_raw(r, "<nav class=\"pager\" aria-label=\"screening log pages\"><p>");
    if (page > 1)
        html_rawf(r,
                  "<a href=\"%s1\">« First</a> · <a href=\"%s%zu\" rel=\"prev\">‹ Previous</a> · ",
                  base, base, page - 1);
    html_rawf(r, "lines %zu–%zu of %zu (page %zu of %zu)", first, last < n ? last : n, n, page,
              npages);
    if (page < npages)
        html_rawf(r, " · <a href=\"%s%zu\" rel=\"next\">Next ›</a> · <a href=\"%s%zu\">Last »</a>",
                  base, page + 1, base, npages);
    html_raw(r, "</p></nav>");
}

int page_screening(struct req *r)
{
    struct store_record *recs = NULL;
    size_t n = 0;
    if (load_records(r, &recs, &n) != 0)
        return 0;
    size_t npages = n ? (n + SCREENING_PAGE - 1) / SCREENING_PAGE : 1, page = 1;
    const char *arg = req_query(r, "page");
    if (arg) {
        long long v;
        if (!fmt_parse_int(arg, 1, (long long)npages, &v)) {
            free(recs);
            html_error_page(r, 400,
                            arena_printf(&r->ar,
                                         "page must be a whole number from 1 to %zu, not '%s'",
                                         npages, arg));
            return 0;
        }
        page = (size_t)v;
    }
    /* Each patient's screening date as the form says it (when the patient was screened), not
     * when the line was typed in; that time only where the form has no date. */
    struct screening_dates sd = {.r = r, .st = {.recs = recs, .nrecs = n}};
    sd.date = arena_calloc(&r->ar, n ? n : 1, sizeof *sd.date);
    const struct dict_field *date_f = screening_date_field(store_dict(r->st));
    struct err e;
    err_clear(&e);
    if (!sd.date ||
        (date_f && store_field_values(r->st, date_f->name, screening_date_cb, &sd, &e) != 0)) {
        free(recs);
        if (!sd.date)
            err_set(&e, ERR_NOMEM, "out of memory");
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    html_begin(r, "Screening log");
    html_raw(r, "<h1>Screening log</h1>");
    if (page_may(r, PERM_SCREEN))
        html_raw(r, "<p><a class=\"button primary\" href=\"/screening/new\">Screen a new "
                    "patient</a></p>");
    static const char *const cols[] = {"Screening no.", "Study ID", "Screened", "By",
                                       "Eligible",      "Status",   "Site"};
    /* a Site column in a multi-centre study (a record has a site) */
    bool sites = false;
    for (size_t i = 0; i < n; i++)
        sites = sites || recs[i].site[0];
    if (npages > 1)
        screening_pager(r, page, npages, n);
    struct html_table t;
    html_table_begin(r, &t, "screening-log", cols, sites ? 7 : 6);
    size_t from = (page - 1) * SCREENING_PAGE,
           to = from + SCREENING_PAGE < n ? from + SCREENING_PAGE : n;
    for (size_t i = from; i < to; i++) {
        const struct store_record *rec = &recs[i];
        html_table_row(r, &t, NULL);
        html_cell_open(r, &t, NULL);
        rec_link(r, store_record_name(rec), NULL, NULL);
        html_text(r, rec->screening_no);
        html_raw(r, "</a></td>");
        html_cell(r, &t, rec->study_id);
        html_cell(r, &t, sd.date[i] ? sd.date[i] : html_time(r, rec->screened_at, false));
        html_cell(r, &t, rec->screened_by);
        html_cell_open(r, &t, NULL);
        html_raw(r, rec->eligible == 1 ? "yes" : rec->eligible == 0 ? "no" : "incomplete");
        why_not_eligible(r, rec);
        html_raw(r, "</td>");
        html_cell_open(r, &t, NULL);
        html_raw(r, "<span class=\"badge st-");
        html_text(r, store_record_status_name(rec->status));
        html_raw(r, "\">");
        html_text(r, page_record_status_label(rec->status));
        html_raw(r, "</span></td>");
        if (sites)
            html_cell(r, &t, rec->site);
        html_table_row_end(r, &t);
    }
    html_table_end(r, &t, "No patient screened yet.");
    if (npages > 1)
        screening_pager(r, page, npages, n);
    free(recs);
    html_end(r, NULL);
    return 0;
}

/* In a multi-centre study, which site the new record belongs to: a choice among the sites the
 * user works at when there is one to make (several, or a study-wide user); "_site" cannot be
 * a field's name (REDCap names begin with a letter). One site: the store puts it there. */
static void site_choice(struct req *r, bool from_post)
{
    struct store_site *v = NULL;
    size_t n = 0;
    struct err e;
    err_clear(&e);
    bool all = false;
    struct store_site *mine = NULL;
    size_t nmine = 0;
    if (store_site_list(r->st, &v, &n, &e) != 0 ||
        store_user_sites(r->st, r->user.name, &all, &mine, &nmine, &e) != 0 || n == 0 ||
        (!all && n < 2)) {
        free(v);
        free(mine);
        return;
    }
    free(mine);
    const char *chosen = from_post ? req_form_opt(r, "_site") : NULL;
    html_raw(r, "<div class=\"field\"><label for=\"_site\">Site</label><select id=\"_site\" "
                "name=\"_site\">");
    if (all)
        html_raw(r, "<option value=\"\">(none)</option>");
    for (size_t i = 0; i < n; i++) {
        html_raw(r, "<option value=\"");
        html_text(r, v[i].code);
        html_raw(r, chosen && strcmp(chosen, v[i].code) == 0 ? "\" selected>" : "\">");
        html_text(r, v[i].code);
        html_raw(r, " \xe2\x80\x94 ");
        html_text(r, v[i].name);
        html_raw(r, "</option>");
    }
    html_raw(r, "</select></div>");
    free(v);
}

static void screening_page(struct req *r, const struct dict_form *fm, const char *event,
                           bool from_post, const struct store_put_result *res, const char *error)
{
    html_begin(r, "Screen a new patient");
    html_raw(r, "<h1>Screen a new patient</h1>");
    if (error)
        html_notice(r, "error", error);
    html_raw(r, "<form method=\"post\" action=\"/screening/new\" class=\"crf\" novalidate "
                "data-instance=\"0\" data-event=\"");
    html_text(r, event);
    html_raw(r, "\">");
    html_csrf(r);
    site_choice(r, from_post);
    struct form_source src = {.event = event, .from_post = from_post, .res = res};
    form_render_fields(r, fm, &src);
    html_raw(r, "<div class=\"savebar\"><button class=\"primary\" type=\"submit\">Save screening"
                "</button></div></form><script type=\"application/json\" id=\"ioh-values\">{}"
                "</script><script src=\"/forms/");
    html_text(r, fm->name);
    html_raw(r, "/logic.js\"></script>");
    static const char *const scripts[] = {"logic.js", "form.js", NULL};
    html_end(r, scripts);
}

int page_screening_new(struct req *r)
{
    const struct dict_form *fm;
    const char *event;
    if (screening_form(store_dict(r->st), &fm, &event) != 0) {
        html_error_page(r, 404, "the protocol has no screening form");
        return 0;
    }
    screening_page(r, fm, event, false, NULL, NULL);
    return 0;
}

int page_screening_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    const struct dict_form *fm;
    const char *event;
    if (screening_form(store_dict(r->st), &fm, &event) != 0) {
        html_error_page(r, 404, "the protocol has no screening form");
        return 0;
    }
    struct store_change *ch = NULL;
    size_t n = 0;
    struct store_put_result res;
    store_put_result_init(&res);
    char scr[16] = "";
    struct store_ctx who = req_who(r);
    const char *site = req_form_opt(r, "_site"); /* site_choice's */
    who.site = site && *site ? site : NULL;
    int rc = form_changes_from_post(r, fm, event, 0, &ch, &n, &e);
    if (rc == 0)
        rc = store_screen_create(r->st, &who, ch, n, scr, &res, &e);
    if (rc == 0) {
        store_put_result_free(&res);
        return resp_redirect(r, arena_printf(&r->ar, "/records/%s", http_url_encode(&r->ar, scr)));
    }
    screening_page(r, fm, event, true, &res,
                   arena_printf(&r->ar, "Not saved. %s", html_err_msg(r, &e)));
    r->status = err_info(e.code)->http_status;
    store_put_result_free(&res);
    return 0;
}
