/* What every hypothesis test of stats/ shares: the alternative hypothesis and R's warnings.
 *
 * Warnings are part of the contract (R's exact messages, in the order R gives them); they are
 * static strings, so a result owns nothing. */
#ifndef IOHEME_STATS_HTEST_H
#define IOHEME_STATS_HTEST_H

#include <stddef.h>

#include "base/err.h"

/* R's alternative = "two.sided" | "less" | "greater". */
enum stats_alt { STATS_ALT_LESS = -1, STATS_ALT_TWO_SIDED = 0, STATS_ALT_GREATER = 1 };

#define STATS_MAX_WARNINGS 6

struct stats_warnings {
    const char *msg[STATS_MAX_WARNINGS]; /* static strings, R's wording */
    size_t n;
};

/* Appends msg (a string literal) unless already present or the list is full. */
static inline void stats_warn(struct stats_warnings *w, const char *msg)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->msg[i] == msg)
            return;
    if (w->n < STATS_MAX_WARNINGS)
        w->msg[w->n++] = msg;
}

/* ERR_INVALID naming --conf-level unless 0 < conf_level < 1 (R's check). */
static inline int stats_check_conf_level(double conf_level, struct err *e)
{
    if (!(conf_level > 0 && conf_level < 1))
        return err_set_field(e, ERR_INVALID, "conf-level",
                             "conf.level must be strictly between 0 and 1 (got %g)", conf_level);
    return 0;
}

#endif
