/* The study's endpoint derivations (docs/sap.md §2–§5): from one record's stored values to the
 * rows of the analysis dataset. Pure: the input is a value table (core/vtab.h) filled from the
 * store or by hand; the output is the analysis tables (core/atable.h). No I/O.
 *
 * These are the IO study's own derivations, in C by design (DESIGN.md): they name the
 * protocol's fields (protocols/io-heme/dictionary.csv) directly.
 *
 * Tables (one row per ...):
 *   screening      screened patient: eligibility criteria, enrolment, analysis sets (§2)
 *   subjects       enrolled subject: primary endpoints, subgroup flags, summaries (§3–§6)
 *   placements     IO placement: device, site, access times, dwell (§4.1, §5.2, §5.4)
 *   attempts       insertion attempt (§4.1)
 *   infusions      infusion episode: flow rate (§5.1)
 *   haemodynamics  subject × time point: MAP, HR, shock index, lactate, NE-eq, changes (§5.3)
 *   complications  complication (§5.4)
 *   completeness   form × field: required values present / expected (§7)
 * Usage: derive_init; for every record in screening order derive_record (and, with the
 * dictionary, derive_completeness); derive_finish once; then read ds->t[]; derive_free. */
#ifndef IOHEME_CORE_DERIVE_H
#define IOHEME_CORE_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/atable.h"
#include "core/vtab.h"

enum ads_table {
    ADS_SCREENING,
    ADS_SUBJECTS,
    ADS_PLACEMENTS,
    ADS_ATTEMPTS,
    ADS_INFUSIONS,
    ADS_HAEMO,
    ADS_COMPLICATIONS,
    ADS_COMPLETENESS,
    ADS_NTABLES
};

enum scr_col {
    SCR_SCREENING_NO,
    SCR_SUBJECT_ID,
    SCR_DATE,
    SCR_AGE,
    SCR_INC_AGE,
    SCR_INC_HEME,
    SCR_INC_CATEGORY,
    SCR_EXC_CONTRAINDICATION,
    SCR_EXC_CONSENT,
    SCR_ELIGIBLE,
    SCR_ENROLLED,
    SCR_ENROL_DATE,
    SCR_IN_FAS,
    SCR_NCOLS
};

enum subj_col {
    SUB_SUBJECT_ID,
    SUB_SCREENING_NO,
    SUB_ENROL_DATE,
    SUB_IN_FAS,
    SUB_AGE,
    SUB_SEX,
    SUB_HEME_DX,
    SUB_BMI,
    SUB_ECOG,
    SUB_SOFA,
    SUB_PLT,
    SUB_ANC,
    SUB_HB,
    SUB_LACTATE,
    SUB_DIC_SCORE,
    SUB_MECH_VENT,
    SUB_SG_PLT_LT20,
    SUB_SG_ANC_LT05,
    SUB_SG_DIC,
    SUB_SG_HUMERUS,
    SUB_SG_HSCT,
    SUB_SG_SEPTIC_SHOCK,
    SUB_T0,
    SUB_N_PLACEMENTS,
    SUB_FIRST_SITE,
    SUB_FIRST_DEVICE,
    SUB_FIRST_OPERATOR,
    SUB_N_ATTEMPTS_FIRST,
    SUB_N_ATTEMPTS,
    SUB_N_ATTEMPTS_SUCCESS,
    SUB_FIRST_ATTEMPT_SUCCESS,
    SUB_ANY_SUCCESS,
    SUB_ACCESS_S,
    SUB_PUNCTURE_ACCESS_S,
    SUB_VOL_30MIN,
    SUB_SHOCK_T0,
    SUB_MAP_T0,
    SUB_MAP_6H,
    SUB_NE_T0,
    SUB_NE_6H,
    SUB_LC_6H,
    SUB_DRUG_MIN,
    SUB_DELIVERED,
    SUB_OTHER_ACCESS,
    SUB_TARGET_MET,
    SUB_EFF_ASSESSABLE,
    SUB_EFFICACY_GRADE,
    SUB_EFFICACY,
    SUB_IO_HOURS,
    SUB_DWELL_GT24,
    SUB_N_COMPLICATIONS,
    SUB_OS_DAYS,
    SUB_OS_STATUS,
    SUB_SITE, /* a multi-centre study's site (docs/sites.md); blank in a single-centre one */
    SUB_NCOLS
};

enum pl_col {
    PL_SUBJECT_ID,
    PL_PLACEMENT,
    PL_DEVICE,
    PL_GAUGE,
    PL_LENGTH,
    PL_SITE,
    PL_SIDE,
    PL_OPERATOR,
    PL_N_ATTEMPTS,
    PL_SUCCESS,
    PL_DECISION_DT,
    PL_CONFIRM_DT,
    PL_ACCESS_S,
    PL_PUNCTURE_ACCESS_S,
    PL_REMOVAL_DT,
    PL_DWELL_H,
    PL_DWELL_FROM_LAST_OBS,
    PL_DWELL_GT24,
    PL_NCOLS
};

enum att_col {
    ATT_SUBJECT_ID,
    ATT_PLACEMENT,
    ATT_ATTEMPT,
    ATT_SITE,
    ATT_START_DT,
    ATT_DURATION_S,
    ATT_SUCCESS,
    ATT_NCOLS
};

enum inf_col {
    INF_SUBJECT_ID,
    INF_INFUSION,
    INF_PLACEMENT,
    INF_SITE,
    INF_TYPE,
    INF_METHOD,
    INF_VOLUME,
    INF_START_DT,
    INF_DURATION_MIN,
    INF_FLOW,
    INF_NCOLS
};

enum hd_col {
    HD_SUBJECT_ID,
    HD_TIMEPOINT,
    HD_MINUTES,
    HD_STATUS,
    HD_MAP,
    HD_HR,
    HD_SBP,
    HD_SHOCK_INDEX,
    HD_LACTATE,
    HD_NE_EQ,
    HD_MAP_CHANGE,
    HD_HR_CHANGE,
    HD_LC,
    HD_NCOLS
};

enum comp_col {
    CMP_SUBJECT_ID,
    CMP_EVENT,
    CMP_INSTANCE,
    CMP_PLACEMENT,
    CMP_TYPE,
    CMP_TYPE_LABEL,
    CMP_GRADE,
    CMP_SERIOUS,
    CMP_RELATED,
    CMP_ONSET,
    CMP_NCOLS
};

enum cpl_col { CPL_FORM, CPL_FORM_LABEL, CPL_FIELD, CPL_EXPECTED, CPL_PRESENT, CPL_NCOLS };

/* Column specs of each table (static). */
extern const struct acol *const derive_ads_cols[ADS_NTABLES];
extern const size_t derive_ads_ncols[ADS_NTABLES];
extern const char *const derive_ads_names[ADS_NTABLES];

/* A coded choice as the dataset writes it: the CRF's code, the dataset's value, a reader's
 * label. A list ends with {NULL, value, label}: the value every other code falls into (NULL:
 * none, the cell stays missing). A categorical column's levels (struct acol) are the list's
 * values in order, the last one included. */
struct derive_level {
    const char *code, *value, *label;
};
/* The value of code in m (derive_level above); NULL for no code. */
const char *derive_level_of(const char *code, const struct derive_level *m);
/* m's values in order into out, NULL after them (at most DERIVE_MAX_LEVELS, out holds one
 * more); with fallback the value every other code falls into as well (a column's levels);
 * returns how many. */
#define DERIVE_MAX_LEVELS 24
size_t derive_level_values(const struct derive_level *m, bool fallback, const char **out);

/* Haemodynamic time points: event names (as codes), labels (as values), minutes after T0. */
#define DERIVE_NTP 6
extern const struct derive_level derive_timepoints[DERIVE_NTP + 1];
extern const int derive_tp_minutes[DERIVE_NTP];

/* Complication types of the protocol (comp_type codes) and their labels, in report order. */
#define DERIVE_NCOMP_TYPES 11
extern const int derive_comp_code[DERIVE_NCOMP_TYPES];
extern const char *const derive_comp_label[DERIVE_NCOMP_TYPES];

/* The coded choices of the dataset, in the CRF's code order: sex; haematological diagnosis;
 * IO sites (first_site, a placement's and an attempt's site) and devices (first_device,
 * device); the sites an infusion is grouped by (humerus, tibia, other); operators; sides;
 * infusion types and methods; a time point's status (no status: "missing"). */
extern const struct derive_level derive_sexes[];
extern const struct derive_level derive_diagnoses[];
extern const struct derive_level derive_sites[];
extern const struct derive_level derive_devices[];
extern const struct derive_level derive_inf_sites[];
extern const struct derive_level derive_operators[];
extern const struct derive_level derive_sides[];
extern const struct derive_level derive_inf_types[];
extern const struct derive_level derive_methods[];
extern const struct derive_level derive_hd_statuses[];

/* A completeness counter for one required field of one form (filled by derive_complete.c). */
struct derive_cpl {
    const char *form, *form_label, *field;
    long expected, present;
};

struct adataset {
    struct atable t[ADS_NTABLES];
    bool is_synthetic;      /* from a training/demo database (store_is_synthetic) */
    size_t nhidden_ignored; /* stored values left out: hidden by branching logic (branch.h) */
    /* completeness counters, turned into the completeness table by derive_finish */
    struct derive_cpl *cpl;
    size_t ncpl;
    struct arena arena;
    size_t ndropped[ADS_NTABLES]; /* rows handed on and dropped (derive_drop_rows) */
};

/* Prepares empty tables. */
void derive_init(struct adataset *ds);
/* Frees every table. */
void derive_free(struct adataset *ds);

/* The rows table i has had: those it holds and those dropped. */
size_t derive_nrows(const struct adataset *ds, int i);
/* Drops every table's rows (counted by derive_nrows), keeping their memory for the next
 * record's: what a streamed export does after writing a record's rows. */
void derive_drop_rows(struct adataset *ds);

/* Derives one record: a screening row for every record; for enrolled records also the
 * subject, placement, attempt, infusion, haemodynamic and complication rows. Returns 0 or
 * ERR_NOMEM. */
int derive_record(struct adataset *ds, struct vtab *v, struct err *e);

struct dict;
/* Counts the required values a record's forms should hold and how many it holds (SAP §7);
 * enrolled records only. Called after derive_record for the same value table; now_ms is what
 * "today" and "now" are in branching logic (as for branch_vtab_hide). */
int derive_completeness(struct adataset *ds, const struct dict *d, struct vtab *v, long long now_ms,
                        struct err *e);
/* Makes the completeness counters (one per field of d, all 0) when ds has none yet: what
 * derive_completeness starts with, and what an export adds counts kept from before to. */
int derive_completeness_start(struct adataset *ds, const struct dict *d, struct err *e);
/* Turns the completeness counts into the completeness table (fields with nothing expected are
 * left out). Call once, after the last record. */
int derive_finish(struct adataset *ds, struct err *e);

/* Seconds since the epoch (UTC) of "YYYY-MM-DD[ HH:MM[:SS]]"; a date without a time counts at
 * 12:00 (SAP §4.3). false when s is NULL or malformed: read by schedule_parse_wallclock (digits
 * only, a real calendar date). */
bool derive_parse_time(const char *s, double *out);
/* Norepinephrine equivalents (µg/kg/min) at one haemodynamic event (SAP §5.3): 0 when no
 * vasopressor, false when unknown. prefix is "hd_" or "bl_". */
bool derive_ne_eq(struct vtab *v, const char *event, const char *prefix, double *out);
/* Mean arterial pressure at an event (SAP §5.3), whole mmHg as the CRF's calc. */
bool derive_map(struct vtab *v, const char *event, const char *prefix, double *out);

#endif
