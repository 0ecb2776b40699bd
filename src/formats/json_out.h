/* What the store reports, as JSON: one vocabulary for the JSON API and the CLI's --json (both
 * documented in docs/api.md, "Conventions"), built with jansson so every string is escaped.
 *
 * A write's outcome:
 *   {"changed": n, "calculated": n, "status_changed": n, "unchanged": n,
 *    "warnings": [issue, ...]}
 *   issue = {"level": "error"|"warning", "event", "instance", "field", "rule", "value",
 *            "message"}
 *
 * A refused write lists its hard problems in the same issue shape under "issues". */
#ifndef IOHEME_FORMATS_JSON_OUT_H
#define IOHEME_FORMATS_JSON_OUT_H

#include <jansson.h>

#include "store/store.h"

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

/* SDV progress (store_sdv_progress's counts): {"progress": [{"record", "form" (null for the
 * record's total), "values", "required", "required_verified", "other_verified"}, ...],
 * "required", "required_verified" (over every record), "plan_met"}. */
json_t *json_out_sdv_progress(const struct store_sdv_count *c, size_t n);

#endif
