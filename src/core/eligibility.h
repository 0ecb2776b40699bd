/* Eligibility computed from the protocol: every calc field tagged @INCLUSION or @EXCLUSION is
 * one criterion, evaluated with the logic language on the screening values; the field tagged
 * @ELIGIBLE gives the verdict. Used by `ioheme screen`, the enrolment check and the web UI. */
#ifndef IOHEME_CORE_ELIGIBILITY_H
#define IOHEME_CORE_ELIGIBILITY_H

#include <stddef.h>

#include "core/dict.h"
#include "core/expr.h"

enum criterion_state { CRIT_UNKNOWN = -1, CRIT_NOT_MET = 0, CRIT_MET = 1 };

struct elig_criterion {
    const struct dict_field *field; /* the @INCLUSION/@EXCLUSION calc field */
    bool is_exclusion;
    enum criterion_state state; /* value of the calc (1 met, 0 not met, blank unknown) */
    bool passes;                /* inclusion met, or exclusion not met */
};

enum elig_verdict { ELIG_INELIGIBLE = 0, ELIG_ELIGIBLE = 1, ELIG_INCOMPLETE = 2 };

struct elig_result {
    struct elig_criterion *criteria; /* in dictionary order, allocated in the arena given */
    size_t ncriteria;
    enum elig_verdict verdict; /* from the @ELIGIBLE field; INCOMPLETE when blank */
};

/* Evaluates every criterion with lookup (values of the screening event). References to calc
 * fields are computed from their calculations (core/calc.h), not looked up. With no
 * @ELIGIBLE field the verdict is INELIGIBLE when a criterion fails, INCOMPLETE when one is
 * unknown, else ELIGIBLE. out->criteria is allocated in ar. lookup's errors are passed on. */
int elig_evaluate(const struct dict *d, expr_lookup_fn lookup, void *ctx, long long now_ms,
                  struct arena *ar, struct elig_result *out, struct err *e);

#endif
