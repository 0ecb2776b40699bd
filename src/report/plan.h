/* The statistical analysis plan runner: docs/sap.md §2–§7 computed on the analysis dataset with
 * src/stats/, into one JSON document (results.json). Everything the report shows — tables,
 * figures, sentences — is rendered from this document, so every number in report.html is in
 * results.json, and every object carries the SAP section ("sap": "§4.1") it comes from.
 *
 * The plan reads numbers from the dataset's text cells (core/atable.h), so a report made from
 * the database and one made from the exported CSV files are identical. */
#ifndef IOHEME_REPORT_PLAN_H
#define IOHEME_REPORT_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "core/derive.h"

/* Where the data came from, printed on the report. */
struct report_meta {
    const char *source;   /* "database FILE" or "dataset DIR" */
    const char *snapshot; /* UTC time the data were read, ISO 8601 */
    bool has_audit;       /* audit head known (from a database) */
    long long audit_rows;
    const char *audit_head;   /* 64 hex chars */
    const char *protocol_sha; /* unused when NULL */
    int target_n;          /* target enrolment from the protocol (study.csv); 0: REPORT_TARGET_N */
    bool is_synthetic;     /* a training/demo database's data: results.json study.synthetic, and
                              the report says so at its top */
    const char *lock_id;   /* a locked database's lock ("LOCK-1"), or NULL: results.json
                              study.lock, and the report says so at its top */
    const char *locked_at; /* UTC, with lock_id */
    /* the protocol versions in force, oldest first ([{version, applied_at, reason, sha256}];
     * results.json study.protocol_versions), or NULL (a report from an exported dataset) */
    const json_t *protocol_versions;
};

/* Runs the plan. *out is a new JSON object (caller json_decref's it). */
int report_plan_run(const struct adataset *ds, const struct report_meta *m, json_t **out,
                    struct err *e);

/* Target sample size of the study (SAP §8): the report's target when it reads a dataset
 * folder, which carries no protocol; from a database the protocol's study.csv says. */
#define REPORT_TARGET_N 52

#endif
