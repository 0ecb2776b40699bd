/* The survival methods of `ioheme stats`: km (survfit), logrank (survdiff) and cox (coxph)
 * on a CSV file. Each reads its options from a cli_args, computes with src/stats/ and returns
 * a JSON object (*out, owned by the caller, json_decref it). Errors name the CSV line and
 * column; arena memory lives in ar. */
#ifndef IOHEME_CLI_STATS_SURV_H
#define IOHEME_CLI_STATS_SURV_H

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "cli/cli.h"

/* km --input F --time COL --event COL [--group COL] [--conf-type log|log-log|plain]
 *    [--conf-level 0.95] [--times 28,90] */
int stats_run_km(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* logrank --input F --time COL --event COL --group COL [--strata COL] [--rho 0|1] */
int stats_run_logrank(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* cox --input F --time COL --event COL --covariates a,b [--ties efron|breslow] */
int stats_run_cox(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);

#endif
