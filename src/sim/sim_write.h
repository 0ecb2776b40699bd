/* The cohort model's patients as the protocol's fields: turns a struct sim_patient into the
 * store_change lists that `ioheme simulate` sends through the store's one write path.
 *
 * Field and event names are those of protocols/io-heme/dictionary.csv; a value is written only
 * where the protocol's branching logic shows the field. Every string (values and the change
 * array itself) is allocated in the arena given, and lives until that arena is freed. */
#ifndef IOHEME_SIM_SIM_WRITE_H
#define IOHEME_SIM_SIM_WRITE_H

#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "sim/cohort.h"
#include "store/store.h"

struct sim_changes {
    struct store_change *v; /* in the arena */
    size_t n, cap;
    struct arena *ar;
    int failed; /* an allocation failed: the list is incomplete */
};

/* The screening form (for store_screen_create). */
int sim_changes_screening(const struct sim_patient *p, struct arena *ar, struct sim_changes *out);
/* The consent form (for store_enroll). */
int sim_changes_consent(const struct sim_patient *p, struct arena *ar, struct sim_changes *out);
/* Everything after enrolment: baseline, IO placements, attempts, infusions, complications,
 * haemodynamics, removal, efficacy, follow-up and end of study, with each form's status set
 * to complete. */
int sim_changes_course(const struct sim_patient *p, struct arena *ar, struct sim_changes *out);

/* Formats t (seconds since the epoch, UTC) as REDCap stores a date ("YYYY-MM-DD"), a
 * datetime ("YYYY-MM-DD HH:MM") or a datetime with seconds. Returns buf. */
const char *sim_fmt_date(long long t, char buf[32]);
const char *sim_fmt_datetime(long long t, char buf[32]);
const char *sim_fmt_datetime_s(long long t, char buf[32]);

#endif
