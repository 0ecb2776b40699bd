/* The HTML page frame and escaping writers (see html.h). */
#include "http/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "core/perm.h"
#include "core/sitetime.h"
#include "store/timestamp.h"

void html_text(struct req *r, const char *s)
{
    strbuf_add_html(&r->out, s ? s : "");
}

void html_url(struct req *r, const char *s)
{
    strbuf_adds(&r->out, http_url_encode(&r->ar, s ? s : ""));
}

const char *html_time(struct req *r, const char *ts, bool with_seconds)
{
    if (!ts)
        return "";
    long long ms = store_timestamp_ms(ts);
    if (ms < 0)
        return ts; /* not a store timestamp: as it is */
    char buf[SITETIME_TEXT_LEN];
    sitetime_format_ms(ms, with_seconds, buf);
    char *out = arena_strdup(&r->ar, buf);
    return out ? out : ts;
}

const char *html_time_utc(struct req *r, const char *ts)
{
    if (!ts || store_timestamp_ms(ts) < 0)
        return ts ? ts : "";
    char *out = arena_printf(&r->ar, "%.10s %.8s UTC", ts, ts + 11);
    return out ? out : ts;
}

const char *html_time_zone(struct req *r)
{
    (void)r;
    return sitetime_zone();
}

void html_td(struct req *r, const char *text)
{
    html_raw(r, "<td>");
    html_text(r, text);
    html_raw(r, "</td>");
}

void html_table_begin(struct req *r, struct html_table *t, const char *id, const char *const *cols,
                      size_t ncols)
{
    *t = (struct html_table){.cols = cols, .ncols = ncols};
    html_raw(r, "<table class=\"list\" id=\"");
    html_text(r, id);
    html_raw(r, "\"><thead><tr>");
    for (size_t i = 0; i < ncols; i++) {
        html_raw(r, "<th scope=\"col\">");
        html_text(r, cols[i]);
        html_raw(r, "</th>");
    }
    html_raw(r, "</tr></thead><tbody>");
}

void html_table_row(struct req *r, struct html_table *t, const char *cls)
{
    t->col = 0;
    t->nrows++;
    if (cls) {
        html_raw(r, "<tr class=\"");
        html_text(r, cls);
        html_raw(r, "\">");
    } else {
        html_raw(r, "<tr>");
    }
}

void html_cell_open(struct req *r, struct html_table *t, const char *cls)
{
    html_raw(r, "<td data-label=\"");
    html_text(r, t->col < t->ncols ? t->cols[t->col] : "");
    t->col++;
    if (cls) {
        html_raw(r, "\" class=\"");
        html_text(r, cls);
    }
    html_raw(r, "\">");
}

void html_cell(struct req *r, struct html_table *t, const char *text)
{
    html_cell_open(r, t, NULL);
    html_text(r, text);
    html_raw(r, "</td>");
}

void html_table_row_end(struct req *r, struct html_table *t)
{
    (void)t;
    html_raw(r, "</tr>");
}

void html_table_end(struct req *r, struct html_table *t, const char *empty)
{
    if (!t->nrows && empty) {
        html_rawf(r, "<tr class=\"empty\"><td colspan=\"%zu\" class=\"muted\">", t->ncols);
        html_text(r, empty);
        html_raw(r, "</td></tr>");
    }
    html_raw(r, "</tbody></table>");
}

void html_raw(struct req *r, const char *s)
{
    strbuf_adds(&r->out, s);
}

void html_rawf(struct req *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        strbuf_add(&r->out, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void html_csrf(struct req *r)
{
    html_raw(r, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html_text(r, r->csrf);
    html_raw(r, "\">");
}

void html_notice(struct req *r, const char *kind, const char *msg)
{
    html_raw(r, "<p class=\"notice notice-");
    html_text(r, kind);
    html_raw(r, "\" role=\"");
    html_raw(r, kind[0] == 'e' ? "alert" : "status");
    html_raw(r, "\">");
    html_text(r, msg);
    html_raw(r, "</p>");
}

/* Every page says when the database is frozen or locked, so nobody enters data that will be
 * refused or reads a locked dataset as open. */
static void db_state_banner(struct req *r)
{
    struct store_db_status s;
    struct err e;
    err_clear(&e);
    if (!r->st || !r->has_user || store_db_status(r->st, &s, &e) != 0 ||
        s.state == STORE_DB_AVAILABLE)
        return;
    html_raw(r, "<p class=\"db-banner\" id=\"db-banner\" role=\"note\"><strong>Database ");
    if (s.state == STORE_DB_LOCKED) {
        html_raw(r, "locked</strong> (");
        html_text(r, s.lock_id);
        html_raw(r, " since ");
        html_text(r, s.locked_at);
        html_raw(r, " UTC) — nothing can change.");
    } else {
        html_raw(r, "frozen</strong> since ");
        html_text(r, s.frozen_at);
        html_raw(r, " UTC — no data entry; queries, SDV and signatures go on.");
    }
    html_raw(r, " <a href=\"/study\">Study database</a></p>\n");
}

void html_begin(struct req *r, const char *title)
{
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    strbuf_reset(&r->out);
    html_raw(r, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>");
    html_text(r, title);
    html_raw(r, " · ioheme</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
                "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                "</head><body data-site-tz=\"");
    html_text(r, sitetime_zone()); /* form.js and stopwatch.js show and fill site times */
    html_raw(r, "\">\n<header class=\"topbar\"><a class=\"brand\" href=\"/\">ioheme</a>");
    if (r->has_user) {
        html_raw(r, "<nav aria-label=\"main\"><a href=\"/\">Dashboard</a>"
                    "<a href=\"/screening\">Screening</a><a href=\"/queries\">Queries</a>"
                    "<a href=\"/study\">Study</a>");
        enum role role;
        if (role_from_name(r->user.role, &role) == 0 && perm_allows(role, PERM_USER_MANAGE))
            html_raw(r, "<a href=\"/users\">Users</a>");
        html_raw(r, "</nav><form class=\"signout\" method=\"post\" action=\"/logout\">");
        html_csrf(r);
        html_raw(r, "<span class=\"who\">");
        html_text(r, r->user.name);
        html_raw(r, " (");
        html_text(r, r->user.role);
        html_raw(r, ")</span><button type=\"submit\">Sign out</button></form>");
        html_raw(r, "<span class=\"site-tz\" title=\"times are the site's local time\">");
        html_text(r, sitetime_zone());
        html_raw(r, " time</span>");
    }
    html_raw(r, "</header>\n");
    bool is_synthetic = false;
    if (r->st && store_is_synthetic(r->st, &is_synthetic, NULL) == 0 && is_synthetic)
        html_raw(r, "<p class=\"synthetic-banner\" role=\"note\"><strong>Training database"
                    "</strong> — synthetic patients made by <code>ioheme simulate</code>, not "
                    "study data.</p>\n");
    db_state_banner(r);
    html_raw(r, "<main id=\"main\">\n");
}

void html_end(struct req *r, const char *const *scripts)
{
    html_raw(r, "\n</main>\n");
    for (size_t i = 0; scripts && scripts[i]; i++) {
        html_raw(r, "<script src=\"/static/");
        html_text(r, scripts[i]);
        html_raw(r, "\"></script>");
    }
    html_raw(r, "</body></html>\n");
}

/* What a person sees of a server-side failure: that it happened, and the id that finds its
 * log line. */
static const char *internal_msg(struct req *r)
{
    return arena_printf(&r->ar, "Internal error; the server log has the details (request %s).",
                        r->id);
}

const char *html_err_msg(struct req *r, const struct err *e)
{
    if (err_info(e->code)->http_status < 500)
        return e->msg;
    r->failure = arena_strdup(&r->ar, e->msg); /* logged with the request id (server.c) */
    if (err_info(e->code)->http_status == 503)
        return resp_busy(r, e->code);
    return internal_msg(r);
}

void html_error_page(struct req *r, int status, const char *msg)
{
    /* As resp_err: a server-side failure is logged for the operator, never shown (no SQL, no
     * paths). */
    if (status >= 500 && status != 503) { /* 503: busy, a message for the person (resp_busy) */
        if (!r->failure)                  /* html_err_msg may have recorded the cause already */
            r->failure = arena_strdup(&r->ar, msg); /* logged with the request id (server.c) */
        msg = internal_msg(r);
    }
    char title[32];
    fmt_exact(title, sizeof title, "Error %d", status);
    html_begin(r, title);
    r->status = status;
    html_raw(r, "<h1>");
    html_text(r, title);
    html_raw(r, "</h1>");
    html_notice(r, "error", msg);
    html_raw(r, "<p><a href=\"/\">Back to the dashboard</a></p>");
    html_end(r, NULL);
}
