/* Output helpers of the analysis plan runner (plan.c, plan_secondary.c): the run's context,
 * JSON numbers and objects in results.json's shapes, and the analysis dataset's cells read as
 * numbers. Not a public interface. */
#ifndef IOHEME_REPORT_PLAN_OUT_H
#define IOHEME_REPORT_PLAN_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/derive.h"

struct plan_ctx {
    const struct adataset *ds;
    struct arena ar; /* scratch for the whole run */
    struct err *e;
    int rc;       /* first error; later steps are skipped */
    int target_n; /* target enrolment (report_meta) */
};

/* A JSON number, or null when not finite (R's NA). */
json_t *plan_jnum(double x);
/* [a, b] */
json_t *plan_jpair(double a, double b);
/* Sets key on o (steals v); on allocation failure records ERR_NOMEM in c. */
void plan_jset(struct plan_ctx *c, json_t *o, const char *key, json_t *v);

/* The numeric cells of column col of table t, keeping rows where filter_col (>= 0) equals
 * filter (NULL: only rows where filter_col is present). Missing cells are skipped. The array is
 * in c->ar. Returns the count. */
size_t plan_nums(struct plan_ctx *c, int t, int col, int filter_col, const char *filter,
                 double **out);
/* As plan_nums but for two columns, keeping rows where both are present (pairs). */
size_t plan_pairs(struct plan_ctx *c, int t, int col_x, int col_y, double **x, double **y);
/* Rows of table t where col equals v. */
size_t plan_count(struct plan_ctx *c, int t, int col, const char *v);

/* {n, median, q1, q3, iqr, mean, sd, min, max, sap}; {n: 0, sap} when empty. */
json_t *plan_jdescribe(struct plan_ctx *c, const double *x, size_t n, const char *sap);
/* {x, n, estimate, ci_exact: [l, u], ci_wilson: [l, u], sap} (Wilson only when wilson). */
json_t *plan_jprop(struct plan_ctx *c, long x, long n, bool wilson, const char *sap);
/* A count read from a cell: x when it is a whole number in [0, 1e12], else 0 (a dataset read
 * from files is outside input). */
long plan_count_of(double x);
/* {n, pct} */
json_t *plan_jcount(long k, long n);

#endif
