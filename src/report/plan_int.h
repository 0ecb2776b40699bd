/* The secondary sections of the plan (plan_secondary.c), called by the runner in plan.c; not a
 * public interface. */
#ifndef IOHEME_REPORT_PLAN_INT_H
#define IOHEME_REPORT_PLAN_INT_H

#include <jansson.h>

#include "report/plan_out.h"

/* plan_secondary.c */
json_t *plan_infusion(struct plan_ctx *c);
json_t *plan_access(struct plan_ctx *c);
json_t *plan_haemodynamics(struct plan_ctx *c);
json_t *plan_complications(struct plan_ctx *c);
json_t *plan_subgroups(struct plan_ctx *c);
json_t *plan_completeness(struct plan_ctx *c);

#endif
