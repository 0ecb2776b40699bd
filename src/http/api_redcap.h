/* REDCap's API (POST /api/) inside the http module: what api_redcap.c (the dispatch, the
 * project's metadata, users), api_redcap_log.c (the log) and api_redcap_records.c (record export
 * and import) share.
 * The answers are REDCap's shapes in the request's format; errors are REDCap's, in its
 * returnFormat (else its format, else xml). */
#ifndef IOHEME_HTTP_API_REDCAP_H
#define IOHEME_HTTP_API_REDCAP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strbuf.h"
#include "http/handlers.h"

/* The answer's format (format=json|csv|xml). */
enum rc_fmt { RC_JSON, RC_CSV, RC_XML };

/* s as XML character data, in CDATA as REDCap writes values. */
void api_rc_xml_cdata(struct strbuf *sb, const char *s);
/* The format of errors and of an import's answer: returnFormat, else format, else xml
 * (REDCap's rule). */
enum rc_fmt api_rc_return_fmt(struct req *r);
/* An error as REDCap answers it (api_rc_return_fmt's shape, the status given); returns 0. */
int api_rc_error(struct req *r, int status, const char *msg);
/* e's message with the status its code calls for: 403 refused, 400 the request's fault; a
 * server-side failure 500 (logged, not shown) and a busy database 503 with Retry-After. */
int api_rc_error_err(struct req *r, const struct err *e);
/* sb's text as the answer, with content type type; returns 0. */
int api_rc_text(struct req *r, const char *type, struct strbuf *sb);
/* An array parameter in every client's spelling (name[0]=…, name[]=…, name=a,b): a
 * NULL-terminated list in the request's arena, NULL when absent or empty. */
const char **api_rc_list(struct req *r, const char *name);
bool api_rc_in_list(const char **list, const char *s);
/* REDCap's 400 for the values of list parameter param ("fields": fields and form statuses,
 * "forms", "events": unique event names) the project does not have, naming them all; returns
 * 1 when it answered so, 0 when every value is known. */
int api_rc_check_names(struct req *r, const char *param, const char **list);
/* A time as REDCap's date ranges and log take it: "YYYY-MM-DD HH:MM:SS", without the seconds,
 * or a date alone (dateRangeBegin/End, beginTime/endTime). */
bool api_rc_is_time(const char *v);
/* A boolean parameter: true, True, 1 (REDCap reads true and 1 in any case). */
bool api_rc_true(const char *v);
/* csvDelimiter as REDCap takes it: ',' (the default), tab, ';', '|' or '^'; '\0' for another
 * value (refused before any content is served). */
char api_rc_delimiter(struct req *r);
/* A table (header keys, rows of strings; keep_row, keep_col may be NULL: all) in fmt. */
int api_rc_table(struct req *r, enum rc_fmt fmt, const char *const *keys, size_t nkeys,
                 char ***rows, size_t nrows, const bool *keep_row, const bool *keep_col);
/* The audit actions of REDCap's log type type, between spaces (NULL: no such type), and
 * whether action is one of them. */
const char *api_rc_log_actions(const char *type);
bool api_rc_action_in(const char *actions, const char *action);

/* api_redcap_log.c: content=log, the audit trail as REDCap's log. */
int api_rc_log(struct req *r, enum rc_fmt fmt);

/* api_redcap_records.c: content=record (export and import) and generateNextRecordName. */
int api_rc_records(struct req *r, enum rc_fmt fmt);
int api_rc_import(struct req *r, enum rc_fmt fmt);
int api_rc_next_name(struct req *r);

#endif
