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
/* One table cell holding text (escaped). */
void html_td(struct req *r, const char *text);
/* A store timestamp (UTC, "2026-11-27T02:45:12.345Z") as the site's local time to the minute
 * (or second), "2026-11-27 02:45"; ts as given when it is not a timestamp. The page says once
 * that times are the site's (the header names the zone). */
void html_site_time(struct req *r, const char *ts, bool with_seconds);
/* A literal of our own: never pass data here. */
void html_raw(struct req *r, const char *s);
/* printf into the page; only for numbers and our own literals (no %s of data). */
void html_rawf(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The hidden CSRF field for a form of this session. */
void html_csrf(struct req *r);
/* A notice box; kind is "ok", "warn" or "error"; msg escaped. */
void html_notice(struct req *r, const char *kind, const char *msg);

#endif
