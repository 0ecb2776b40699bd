/* Writing HTML pages: the page frame (head, navigation, footer with the page's scripts), the
 * error page, and escaping writers. Every piece of text from a user, the database or the
 * dictionary goes through html_text / html_attr, which escape; html_raw takes only literals of
 * our own. No inline script or style anywhere: the CSP forbids both, so behaviour lives in
 * src/web/ scripts and data reaches it through data- attributes or JSON in <script
 * type="application/json"> blocks (which the CSP does not execute). */
#ifndef IOHEME_HTTP_HTML_H
#define IOHEME_HTTP_HTML_H

#include "http/http_int.h"

/* Starts a 200 text/html page titled title (escaped) with the navigation bar. */
void html_begin(struct req *r, const char *title);
/* Ends the page, loading the named scripts from /static/ (NULL-terminated list, may be NULL). */
void html_end(struct req *r, const char *const *scripts);
/* The message of e fit to show a user: e->msg for a 4xx error; for a server-side failure it is
 * logged to standard error and a generic text is returned (no SQL or paths on a page). */
const char *html_err_msg(struct req *r, const struct err *e);
/* A whole error page with status and msg (escaped); 5xx messages are logged, not shown. */
void html_error_page(struct req *r, int status, const char *msg);
/* Escaped text (also safe inside a double-quoted attribute). */
void html_text(struct req *r, const char *s);
/* s as one segment of a link's path or a query value: percent-encoded (http_url_encode). */
void html_url(struct req *r, const char *s);
/* One table cell holding text (escaped). */
void html_td(struct req *r, const char *text);
/* The one place a stored timestamp ("2026-11-27T02:45:12.345Z", UTC, as the store writes them)
 * becomes what a person reads: the site's local time (core/sitetime.h), "2026-11-27 02:45", or
 * "2026-11-27 02:45:12" with_seconds. A string that is not such a timestamp comes back as it is;
 * NULL gives "". In r->ar (or a static ""). */
const char *html_time(struct req *r, const char *ts, bool with_seconds);
/* The zone html_time shows times in (the site's), for headings such as "When (Europe/London)".
 * A static string. */
const char *html_time_zone(struct req *r);
/* A store timestamp in UTC to the second, "2026-11-27 02:45:12 UTC": where a rule asks for UTC
 * (a signature's time, P11-23). ts as given when it is not a timestamp. In r->ar. */
const char *html_time_utc(struct req *r, const char *ts);

/* A list table (class "list") with its header row. Each cell written through html_cell* carries
 * its column's heading as data-label, which app.css shows in front of the value when a phone
 * stacks each row into lines instead of scrolling sideways: the headings are written once, in
 * cols, and a cell cannot lose its heading. */
struct html_table {
    const char *const *cols; /* ncols headings (our own literals) */
    size_t ncols;
    size_t col;   /* the next cell's column in the open row */
    size_t nrows; /* rows written so far */
};
/* Opens table id with headings cols[0..ncols). */
void html_table_begin(struct req *r, struct html_table *t, const char *id, const char *const *cols,
                      size_t ncols);
/* Opens a row; cls (our own literal) may be NULL. */
void html_table_row(struct req *r, struct html_table *t, const char *cls);
/* Opens the row's next cell, <td data-label="heading"> with class cls (may be NULL); the caller
 * writes its content and closes it with html_raw(r, "</td>"). */
void html_cell_open(struct req *r, struct html_table *t, const char *cls);
/* The row's next cell holding text (escaped). */
void html_cell(struct req *r, struct html_table *t, const char *text);
/* Closes the row. */
void html_table_row_end(struct req *r, struct html_table *t);
/* Closes the table; when it has no row, one row saying empty (our own literal) first. */
void html_table_end(struct req *r, struct html_table *t, const char *empty);
/* A literal of our own: never pass data here. */
void html_raw(struct req *r, const char *s);
/* printf into the page; only for numbers and our own literals (no %s of data). */
void html_rawf(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The hidden CSRF field for a form of this session. */
void html_csrf(struct req *r);
/* A notice box; kind is "ok", "warn" or "error"; msg escaped. */
void html_notice(struct req *r, const char *kind, const char *msg);

#endif
