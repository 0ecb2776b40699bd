/* What the store reports, as JSON: one vocabulary for the JSON API and the CLI's --json (both
 * documented in docs/api.md, "Conventions"), built with jansson so every string is escaped.
 *
 * A write's outcome:
 *   {"changed": n, "calculated": n, "status_changed": n, "unchanged": n,
 *    "warnings": [issue, ...]}
 *   issue = {"level": "error"|"warning", "event", "instance", "field", "rule", "value",
 *            "message"}
 *
 * A refused write lists its hard problems in the same issue shape under "issues".
 *
 * Every JSON document ioheme prints — the HTTP API, the CLI's --json, `ioheme stats`,
 * results.json, JSON inside HTML pages — is written by json_out_dumps or
 * json_out_dump_callback, so a number prints one way everywhere: a real as the shortest of
 * %.15g, %.16g and %.17g that reads back (strtod) as the same double — 0.95, not jansson's
 * 0.94999999999999996 — and, as jansson writes it, with ".0" on an integral value so it parses
 * back as a real. Strings, integers and layout are jansson's own encoding. */
#ifndef IOHEME_FORMATS_JSON_OUT_H
#define IOHEME_FORMATS_JSON_OUT_H

#include <jansson.h>

#include "store/store.h"

/* s as a JSON string, NULL as null; bytes that are not UTF-8 (only a database written before
 * the store refused them holds any) as U+FFFD (utf8_text) rather than no string at all. */
json_t *json_out_text(const char *s);

/* The longest text json_out_real writes, with its NUL. */
#define JSON_OUT_REAL_MAX 32

/* Writes x as the shortest of %.15g / %.16g / %.17g that strtod reads back as x, into buf.
 * Returns the length, or -1 when x is not finite (JSON has no NaN or infinity). This is the
 * text of a number without JSON's ".0" (e.g. a value typed as a JSON number, kept as text). */
int json_out_shortest(double x, char buf[JSON_OUT_REAL_MAX]);

/* Writes v as JSON through cb (jansson's callback type), reals as above. flags are jansson's
 * dump flags (JSON_INDENT(n), JSON_COMPACT, JSON_ENSURE_ASCII, JSON_SORT_KEYS, JSON_ESCAPE_SLASH,
 * JSON_ENCODE_ANY; JSON_REAL_PRECISION is ignored, JSON_PRESERVE_ORDER is jansson 2.14's
 * default). Returns 0, or -1 when cb fails, v is NULL, nests deeper than 2048 levels, or is not
 * an array or object without JSON_ENCODE_ANY. */
int json_out_dump_callback(const json_t *v, json_dump_callback_t cb, void *data, size_t flags);

/* v as a JSON string, as json_out_dump_callback writes it. Returns a new string the caller
 * frees with free(), or NULL on the errors above or out of memory. */
char *json_out_dumps(const json_t *v, size_t flags);

/* Every issue of res (may be NULL: an empty array) as a new JSON array (caller owns). */
json_t *json_out_issues(const struct store_put_result *res);

/* Adds the counts and "warnings" of res to o, or to a new object when o is NULL; returns o
 * (caller owns), NULL when out of memory. */
json_t *json_out_put_result(const struct store_put_result *res, json_t *o);

/* One audit row (a field's history, a record's trail):
 *   {"id", "time", "user", "action", "event", "instance", "field", "old", "new", "reason",
 *    "source"} — null where the row has none. A new object (caller owns). */
json_t *json_out_audit_row(const struct store_audit_row *a);

/* One query (a list entry):
 *   {"id", "record", "event", "instance", "form", "field", "status", "origin" ("user" |
 *    "system"), "rule", "raised_value", "assignee", "opened_by", "opened_at", "updated_at",
 *    "text" (the first message), "messages" (how many)} — null where the query has none (a
 *    form query has no field, a record query no event, form or field). */
json_t *json_out_query(const struct store_query *q);
/* One message of a query's thread: {"id", "time", "user", "action", "text", "old", "new"}; old
 * and new only for a value change (null otherwise). */
json_t *json_out_query_message(const struct store_query_message *m);

/* One signature: {"id", "meaning", "record" (null for the study), "signer", "printed_name",
 * "signed_at", "content_sha256", "valid", "invalidated_at", "invalidated_reason"}. */
json_t *json_out_signature(const struct store_signature *g);

/* {"event", "form", "instance", "locked_by", "locked_at"}: a locked form instance. */
json_t *json_out_form_lock(const struct store_form_lock *l);
/* One stored value with its SDV state: {"event", "instance", "form", "field" (field___code for
 * a checkbox option), "value", "planned", "verified", "verified_by", "verified_at"}; NULL when
 * the key does not fit. */
json_t *json_out_sdv_value(const struct store_sdv_value *v);
/* SDV progress (store_sdv_progress's counts): {"progress": [{"record", "form" (null for the
 * record's total), "values", "required", "required_verified", "other_verified"}, ...],
 * "required", "required_verified" (over every record), "plan_met"}. */
json_t *json_out_sdv_progress(const struct store_sdv_count *c, size_t n);
/* A site (store.h, "sites"): {code, name, records, enrolled, created_at, created_by}. */
json_t *json_out_site(const struct store_site *s);
/* Where a user works (store_user_sites): {user, all_sites, sites: [codes] or null for all}. */
json_t *json_out_user_sites(const char *user, bool all, const struct store_site *v, size_t n);
/* API tokens as listed (store/sessions.h): [{id, user, created_at, expires_at}], expires_at
 * UTC "YYYY-MM-DDTHH:MM:SSZ". Never the token. */
struct store_api_token;
json_t *json_out_api_tokens(const struct store_api_token *t, size_t n);

#endif
