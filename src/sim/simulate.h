/* `ioheme simulate`: fills a study with the cohort model's patients through the store's one
 * write path — store_screen_create, store_enroll, store_put_changes — so every simulated value
 * is validated, calc fields are computed and every change is audited, exactly as if a
 * coordinator had typed it.
 *
 * Two ways, same data: per patient one transaction per store call (small studies), or the bulk
 * path (batch_size > 0) that wraps batch_size patients in one store batch (one transaction with
 * cached statements; each call still validated and atomic on its own). */
#ifndef IOHEME_SIM_SIMULATE_H
#define IOHEME_SIM_SIMULATE_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct sim_summary {
    long screened, enrolled, screen_failures;
    long changes;    /* values sent through the write path */
    long soft_flags; /* values saved with a soft (range) flag */
};

/* Writes `patients` enrolled patients (plus their screen failures) for seed, into a database
 * marked synthetic (store_mark_synthetic) only: any other is refused with ERR_CONFLICT before
 * anything is written, so synthetic patients never sit next to real ones. batch_size 0 uses
 * no batch; otherwise batch_size patients per batch. On a rejected change returns its error
 * (e names the patient, field, rule and value); patients written before stay (in bulk mode,
 * the failing batch is rolled back). site_mix: the planned-site mix (cohort.h), NULL for the
 * default. */
int sim_run(struct store *st, const struct store_ctx *who, uint64_t seed, long patients,
            long batch_size, const double *site_mix, struct sim_summary *out, struct err *e);

#endif
