/* Query pages: the list (waiting for me, live, by status), one query with its thread and the
 * actions the role may take (answer, with the corrected value for a field query; close;
 * reopen), raising a query from a form page, and the counts the dashboard and subject page
 * show. The store decides every transition and permission (store.h, "queries"); pages offer
 * only what the role may do. */
#include "http/handlers.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "http/html.h"
#include "http/page.h"
#include "store/timestamp.h"

/* "open" -> "Open" and a shape, so the status does not rest on colour alone. */
static void status_badge(struct req *r, enum store_query_status s)
{
    static const char *const label[] = {"◯ Open", "◐ Answered", "● Closed"};
    static const char *const cls[] = {"q-open", "q-answered", "q-closed"};
    html_rawf(r, "<span class=\"qstatus %s\">%s</span>", cls[s % 3], label[s % 3]);
}

/* Where the query sits, in words: "Baseline · Haemodynamics #2 · Systolic BP (hd_sbp)". */
static void place_text(struct req *r, const struct store_query *q, bool link)
{
    const struct dict *d = store_dict(r->st);
    if (!q->event[0]) {
        html_raw(r, "whole record");
        return;
    }
    int ev = dict_event_index(d, q->event);
    const struct dict_form *fm = dict_form(d, q->form);
    if (link && fm) {
        html_raw(r, "<a href=\"/records/");
        html_url(r, q->record);
        html_raw(r, "/forms/");
        html_text(r, q->event);
        html_raw(r, "/");
        html_text(r, q->form);
        if (q->instance > 0)
            html_rawf(r, "?instance=%d", q->instance);
        html_raw(r, "\">");
    }
    html_text(r, ev >= 0 ? d->events[ev].label : q->event);
    html_raw(r, " · ");
    html_text(r, fm ? fm->label : q->form);
    if (q->instance > 0)
        html_rawf(r, " #%d", q->instance);
    if (link && fm)
        html_raw(r, "</a>");
    if (q->field[0]) {
        struct dict_key k;
        const struct dict_field *f =
            dict_key_parse(d, q->field, &k) != DICT_KEY_UNKNOWN ? k.field : NULL;
        html_raw(r, " · ");
        html_text(r, f ? f->label : q->field);
        if (f && k.code) {
            html_raw(r, ": ");
            html_text(r, dict_choice_label(f, k.code));
        }
    }
}

/* Whole days since an ISO timestamp. */
static long days_open(struct req *r, const char *since)
{
    long long t = store_timestamp_ms(since);
    return t < 0 ? 0 : (long)((store_now_ms(r->st) - t) / 86400000LL);
}

static void query_rows(struct req *r, const struct store_query *qs, size_t n, bool show_record)
{
    html_raw(r, "<table class=\"list queries\"><thead><tr><th>#</th><th>Status</th>");
    if (show_record)
        html_raw(r, "<th>Record</th>");
    html_raw(r, "<th>Where</th><th>Question</th><th>Raised by</th><th>Open for</th></tr>"
                "</thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct store_query *q = &qs[i];
        html_rawf(r, "<tr><td><a href=\"/queries/%lld\">%lld</a></td><td>", q->id, q->id);
        status_badge(r, q->status);
        html_raw(r, "</td>");
        if (show_record) {
            html_raw(r, "<td><a href=\"/records/");
            html_url(r, q->record);
            html_raw(r, "\">");
            html_text(r, q->record);
            html_raw(r, "</a></td>");
        }
        html_raw(r, "<td>");
        place_text(r, q, false);
        html_raw(r, "</td><td><a href=\"/queries/");
        html_rawf(r, "%lld\">", q->id);
        html_text(r, q->text);
        html_raw(r, "</a></td>");
        html_td(r, q->is_system ? "system (range check)" : q->opened_by);
        long days = days_open(r, q->opened_at);
        html_rawf(r, "<td>%ld day%s</td></tr>", days, days == 1 ? "" : "s");
    }
    html_raw(r, "</tbody></table>");
}

int page_queries(struct req *r)
{
    const char *status = req_query(r, "status"), *mine = req_query(r, "mine");
    const char *record = req_query(r, "record");
    struct store_query_filter f = {.record = record, .status = -1, .is_live = true};
    const char *title = "Live queries (open and answered)";
    if (mine && strcmp(mine, "1") == 0) {
        f.waiting_for = r->user.name;
        title = "Queries waiting for me";
    } else if (status && strcmp(status, "all") == 0) {
        f.is_live = false;
        title = "All queries";
    } else if (status && *status && strcmp(status, "live") != 0) {
        enum store_query_status s;
        if (store_query_status_from_name(status, &s) != 0) {
            html_error_page(r, 400, "status is open, answered, closed, live or all");
            return 0;
        }
        f.status = (int)s;
        f.is_live = false;
        title = s == STORE_QUERY_OPEN       ? "Open queries"
                : s == STORE_QUERY_ANSWERED ? "Answered queries"
                                            : "Closed queries";
    }
    struct err e;
    err_clear(&e);
    struct store_query *qs = NULL;
    size_t n = 0;
    html_begin(r, "Queries");
    html_raw(r, "<h1>Queries</h1><nav class=\"filters\" aria-label=\"query filters\">"
                "<a href=\"/queries?mine=1\">Waiting for me</a>"
                "<a href=\"/queries\">Live</a><a href=\"/queries?status=open\">Open</a>"
                "<a href=\"/queries?status=answered\">Answered</a>"
                "<a href=\"/queries?status=closed\">Closed</a>"
                "<a href=\"/queries?status=all\">All</a></nav><h2>");
    html_text(r, title);
    if (record && *record) {
        html_raw(r, " · ");
        html_text(r, record);
    }
    html_raw(r, "</h2>");
    if (store_query_list(r->st, &f, &qs, &n, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
    } else if (n == 0) {
        html_raw(r, "<p class=\"muted\">No queries here.</p>");
    } else {
        query_rows(r, qs, n, true);
    }
    free(qs);
    html_end(r, NULL);
    return 0;
}

static const char *action_label(const char *action)
{
    if (strcmp(action, "open") == 0)
        return "raised";
    if (strcmp(action, "answer") == 0)
        return "answered";
    if (strcmp(action, "close") == 0)
        return "closed";
    if (strcmp(action, "reopen") == 0)
        return "reopened";
    if (strcmp(action, "value_change") == 0)
        return "value changed";
    return action;
}

/* One query page; error/notice shown above it (may be NULL). */
static int query_page(struct req *r, long long id, const char *error, const char *notice)
{
    struct err e;
    err_clear(&e);
    struct store_query q;
    struct store_query_message *ms = NULL;
    size_t n = 0;
    if (store_query_get(r->st, id, &q, &e) != 0 || store_query_messages(r->st, id, &ms, &n, &e)) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    html_begin(r, arena_printf(&r->ar, "Query %lld", id));
    html_rawf(r, "<h1>Query %lld ", id);
    status_badge(r, q.status);
    html_raw(r, "</h1>");
    if (error)
        html_notice(r, "error", error);
    if (notice)
        html_notice(r, "ok", notice);
    html_raw(r, "<dl class=\"facts\"><dt>Record</dt><dd><a href=\"/records/");
    html_url(r, q.record);
    html_raw(r, "\">");
    html_text(r, q.record);
    html_raw(r, "</a></dd><dt>On</dt><dd>");
    place_text(r, &q, true);
    html_raw(r, "</dd>");
    /* the field's value now, which a corrected value is saved against (store_change.expect:
     * a value changed since this page was made is not overwritten unseen); NULL for a query on
     * a whole record or form, or a value the reader may not see */
    const char *now = NULL;
    if (q.field[0]) {
        html_raw(r, "<dt>Value when raised</dt><dd>");
        html_text(r, q.raised_value[0] ? q.raised_value : "(blank)");
        html_raw(r, "</dd>");
        struct dict_key k;
        struct page_values pv;
        if (dict_key_parse(store_dict(r->st), q.field, &k) != DICT_KEY_UNKNOWN &&
            page_values_load(r, q.record, &pv, &e) == 0) {
            const struct page_value *v =
                page_values_get(&pv, q.event, q.instance, k.field->name, k.code);
            now = v ? v->value : "";
            html_raw(r, "<dt>Value now</dt><dd>");
            html_text(r, *now ? now : "(blank)");
            html_raw(r, "</dd>");
            if (strcmp(now, STORE_MASKED) == 0)
                now = NULL;
        }
        err_clear(&e);
    }
    html_raw(r, "<dt>Raised by</dt><dd>");
    html_text(r, q.is_system ? "the range check (system)" : q.opened_by);
    html_raw(r, "</dd><dt>For</dt><dd>");
    if (!q.assignee[0])
        html_raw(r, "the site team");
    else if (strncmp(q.assignee, "role:", 5) == 0)
        html_text(r, arena_printf(&r->ar, "every %s", q.assignee + 5));
    else
        html_text(r, q.assignee);
    html_raw(r, "</dd></dl><table class=\"list thread\"><thead><tr><th>When (");
    html_text(r, html_time_zone(r));
    html_raw(r, ")</th>"
                "<th>Who</th><th>What</th><th>Message</th><th>Change</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        html_raw(r, "<tr>");
        html_td(r, html_time(r, ms[i].ts, false));
        html_td(r, ms[i].user);
        html_td(r, action_label(ms[i].action));
        html_td(r, ms[i].text);
        html_raw(r, "<td>");
        if (ms[i].has_values) {
            html_text(r, ms[i].old_value[0] ? ms[i].old_value : "(blank)");
            html_raw(r, " → ");
            html_text(r, ms[i].new_value[0] ? ms[i].new_value : "(blank)");
        }
        html_raw(r, "</td></tr>");
    }
    html_raw(r, "</tbody></table>");
    free(ms);
    bool may_answer = page_may(r, PERM_QUERY_ANSWER), may_close = page_may(r, PERM_QUERY_CLOSE);
    if (q.status != STORE_QUERY_CLOSED && may_answer) {
        html_rawf(r,
                  "<form method=\"post\" class=\"qaction\" action=\"/queries/%lld/answer\">"
                  "<h2>Answer</h2>",
                  id);
        html_csrf(r);
        /* after a refused answer, what the user typed is still there */
        const char *typed = error ? req_form(r, "message") : NULL;
        const char *typed_value = error ? req_form(r, "value") : NULL;
        html_raw(r, "<label for=\"i-answer\">Answer <span class=\"req\">*</span></label>"
                    "<textarea id=\"i-answer\" name=\"message\" rows=\"3\" required>");
        html_text(r, typed ? typed : "");
        html_raw(r, "</textarea>");
        if (q.field[0] && page_may(r, PERM_DATA_WRITE)) {
            html_raw(r, "<label for=\"i-value\">Corrected value <span class=\"muted\">(leave "
                        "empty when the value is right; saved with the answer)</span></label>"
                        "<input type=\"text\" id=\"i-value\" name=\"value\" value=\"");
            html_text(r, typed_value ? typed_value : "");
            html_raw(r, "\">");
            if (now) {
                html_raw(r, "<input type=\"hidden\" name=\"orig\" value=\"");
                html_text(r, now);
                html_raw(r, "\">");
            }
        }
        html_raw(r, "<button class=\"primary\" type=\"submit\">Answer</button></form>");
    }
    if (q.status != STORE_QUERY_CLOSED && may_close) {
        html_rawf(r,
                  "<form method=\"post\" class=\"qaction\" action=\"/queries/%lld/close\">"
                  "<h2>Close</h2>",
                  id);
        html_csrf(r);
        html_raw(r, "<label for=\"i-close\">Note <span class=\"muted\">(optional)</span></label>"
                    "<textarea id=\"i-close\" name=\"message\" rows=\"2\"></textarea>"
                    "<button type=\"submit\">Close the query</button></form>");
    }
    if (q.status == STORE_QUERY_CLOSED && may_close) {
        html_rawf(r,
                  "<form method=\"post\" class=\"qaction\" action=\"/queries/%lld/reopen\">"
                  "<h2>Reopen</h2>",
                  id);
        html_csrf(r);
        html_raw(r, "<label for=\"i-reopen\">Why <span class=\"req\">*</span></label>"
                    "<textarea id=\"i-reopen\" name=\"message\" rows=\"2\" required></textarea>"
                    "<button type=\"submit\">Reopen</button></form>");
    }
    html_end(r, NULL);
    return 0;
}

static long long qid_param(struct req *r)
{
    long long v;
    return fmt_parse_int(req_param(r, "qid"), 1, LLONG_MAX, &v) ? v : 0;
}

int page_query(struct req *r)
{
    long long id = qid_param(r);
    if (!id) {
        html_error_page(r, 404, "no such query");
        return 0;
    }
    return query_page(r, id, NULL, NULL);
}

/* After an action: the query page again, with the outcome (303 to it on success). */
static int action_done(struct req *r, long long id, int rc, const struct err *e)
{
    if (rc == 0)
        return resp_redirect(r, arena_printf(&r->ar, "/queries/%lld", id));
    query_page(r, id, html_err_msg(r, e), NULL);
    r->status = err_info(e->code)->http_status;
    return 0;
}

int page_query_answer_post(struct req *r)
{
    long long id = qid_param(r);
    if (!id) {
        html_error_page(r, 404, "no such query");
        return 0;
    }
    struct err e;
    err_clear(&e);
    struct store_query q;
    int rc = store_query_get(r->st, id, &q, &e);
    const char *value = req_form(r, "value");
    struct store_change ch = {0};
    size_t n = 0;
    if (!rc && value && *value && q.field[0]) {
        struct dict_key k;
        if (dict_key_parse(store_dict(r->st), q.field, &k) != DICT_KEY_UNKNOWN) {
            /* against the value the page showed (its hidden "orig"; absent: not checked) */
            ch = (struct store_change){q.event, q.instance, k.field->name,
                                       k.code,  value,      req_form(r, "orig")};
            n = 1;
        }
    }
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_query_answer(r->st, &who, id, req_form(r, "message"), &ch, n, &res, &e);
    store_put_result_free(&res);
    return action_done(r, id, rc, &e);
}

static int transition_post(struct req *r, bool is_close)
{
    long long id = qid_param(r);
    if (!id) {
        html_error_page(r, 404, "no such query");
        return 0;
    }
    struct err e;
    err_clear(&e);
    struct store_ctx who = req_who(r);
    const char *msg = req_form(r, "message");
    int rc = is_close ? store_query_close(r->st, &who, id, msg, &e)
                      : store_query_reopen(r->st, &who, id, msg, &e);
    return action_done(r, id, rc, &e);
}

int page_query_close_post(struct req *r)
{
    return transition_post(r, true);
}

int page_query_reopen_post(struct req *r)
{
    return transition_post(r, false);
}

/* POST /queries: raise a query from a form page (record, event, instance, form, field,
 * assignee, message); back to the form with the outcome. */
int page_queries_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_query_new q = {.record = req_form(r, "record"),
                                .event = req_form(r, "event"),
                                .form = req_form(r, "form"),
                                .field = req_form(r, "field"),
                                .assignee = req_form(r, "assignee"),
                                .text = req_form(r, "message")};
    int rc = 0;
    const char *inst = req_form(r, "instance");
    if (inst && *inst)
        rc = dict_instance_parse(inst, "instance", &q.instance, &e);
    if (!rc && !q.record)
        rc = err_set_field(&e, ERR_INVALID, "record", "record is required");
    long long id = 0;
    struct store_ctx who = req_who(r);
    if (!rc)
        rc = store_query_open(r->st, &who, &q, &id, &e);
    if (rc) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    return resp_redirect(r, arena_printf(&r->ar, "/queries/%lld", id));
}

void page_queries_section(struct req *r, const char *record, const char *event, int instance,
                          const struct dict_form *fm)
{
    struct err e;
    err_clear(&e);
    struct store_query_filter f = {.record = record, .form = fm->name, .status = -1};
    struct store_query *qs = NULL;
    size_t n = 0, k = 0;
    if (store_query_list(r->st, &f, &qs, &n, &e) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) /* this event and instance only */
        if (strcmp(qs[i].event, event) == 0 && qs[i].instance == instance)
            qs[k++] = qs[i];
    html_raw(r, "<section class=\"form-queries\" id=\"queries\"><h2>Queries on this form</h2>");
    if (k)
        query_rows(r, qs, k, false);
    else
        html_raw(r, "<p class=\"muted\">None.</p>");
    free(qs);
    if (page_may(r, PERM_QUERY_RAISE)) {
        html_raw(r, "<form method=\"post\" action=\"/queries\" class=\"qaction\">"
                    "<h3>Raise a query</h3>");
        html_csrf(r);
        html_raw(r, "<input type=\"hidden\" name=\"record\" value=\"");
        html_text(r, record);
        html_raw(r, "\"><input type=\"hidden\" name=\"event\" value=\"");
        html_text(r, event);
        html_rawf(r, "\"><input type=\"hidden\" name=\"instance\" value=\"%d\">", instance);
        html_raw(r, "<input type=\"hidden\" name=\"form\" value=\"");
        html_text(r, fm->name);
        html_raw(r, "\"><label for=\"q-field\">On</label><select id=\"q-field\" name=\"field\">"
                    "<option value=\"\">the whole form</option>");
        const struct dict *d = store_dict(r->st);
        for (size_t i = 0; i < d->nfields; i++) {
            const struct dict_field *fd = &d->fields[i];
            if (fd->form_index != (size_t)(fm - d->forms) || fd->type == FT_DESCRIPTIVE)
                continue;
            html_raw(r, "<option value=\"");
            html_text(r, fd->name);
            html_raw(r, "\">");
            html_text(r, fd->label);
            html_raw(r, "</option>");
        }
        html_raw(r, "</select><label for=\"q-assignee\">For</label>"
                    "<select id=\"q-assignee\" name=\"assignee\">"
                    "<option value=\"\">the site team</option>");
        for (int role = 0; role < ROLE__COUNT; role++)
            if (perm_allows((enum role)role, PERM_QUERY_ANSWER))
                html_rawf(r, "<option value=\"role:%s\">every %s</option>",
                          role_name((enum role)role), role_name((enum role)role));
        html_raw(r, "</select><label for=\"q-message\">Question <span class=\"req\">*</span>"
                    "</label><textarea id=\"q-message\" name=\"message\" rows=\"2\" required>"
                    "</textarea><button type=\"submit\">Raise the query</button></form>");
    }
    html_raw(r, "</section>");
}

void page_queries_summary(struct req *r, const char *record)
{
    struct err e;
    err_clear(&e);
    struct store_query_filter f = {.record = record, .status = -1, .is_live = true};
    struct store_query *qs = NULL;
    size_t n = 0, nopen = 0;
    if (store_query_list(r->st, &f, &qs, &n, &e) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++)
        nopen += qs[i].status == STORE_QUERY_OPEN;
    free(qs);
    html_raw(r, "<p class=\"query-summary\"><a href=\"/queries");
    if (record) {
        html_raw(r, "?record=");
        html_url(r, record);
    } else {
        html_raw(r, "?mine=1");
    }
    html_raw(r, "\">");
    if (record)
        html_rawf(r, "Queries: %zu open, %zu answered", nopen, n - nopen);
    else
        html_rawf(r, "Queries: %zu live in the study", n);
    html_raw(r, "</a>");
    if (!record) {
        f.waiting_for = r->user.name;
        size_t nmine = 0;
        if (store_query_list(r->st, &f, &qs, &nmine, &e) == 0) {
            html_raw(r, " · <a href=\"/queries?mine=1\">");
            html_rawf(r, "%zu waiting for you", nmine);
            html_raw(r, "</a>");
        }
        free(qs);
    }
    html_raw(r, "</p>");
}
