/* The non-survival methods of `ioheme stats METHOD` (rows of stats_methods[] in cmd_stats.c):
 * each reads its options, computes with src/stats/ and returns a JSON object owned by the
 * caller; bad input is an error naming the option, row (CSV line) or column. */
#ifndef IOHEME_CLI_STATS_METHODS_H
#define IOHEME_CLI_STATS_METHODS_H

#include "cli/stats_cli.h"

/* One line (plus continuation lines) per method for `ioheme stats --help`. */
extern const char STATS_BINOM_HELP[], STATS_WILSON_HELP[], STATS_POISSON_HELP[],
    STATS_WILCOXON_HELP[], STATS_TTEST_HELP[], STATS_FISHER_HELP[], STATS_CHISQ_HELP[],
    STATS_QUANTILE_HELP[], STATS_SAMPLESIZE_HELP[];

/* binom.test: --x N --n N [--p --alternative --conf-level]. */
int stats_run_binom(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* prop.test, one sample (Wilson): --x N --n N [--p --alternative --conf-level --correct]. */
int stats_run_wilson(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* Exact Poisson interval of a rate: --events N --exposure T [--conf-level]. */
int stats_run_poisson(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* wilcox.test: --input with --x/--y (paired), --x (one sample) or --value/--group. */
int stats_run_wilcoxon(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* t.test: the same selectors as wilcoxon (two samples: Welch). */
int stats_run_ttest(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* fisher.test 2x2: --table a,b,c,d or --input --x COL --y COL. */
int stats_run_fisher(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* chisq.test: --table a,b,c,d (2x2) or --input --x COL --y COL (r x c). */
int stats_run_chisq(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* Descriptives: --input --value COL. */
int stats_run_quantile(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);
/* Sample size for one proportion (design, precision and precision-n modes). */
int stats_run_samplesize(const struct cli_args *a, struct arena *ar, json_t **out, struct err *e);

#endif
