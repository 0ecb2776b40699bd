/* The cohort model: a realistic synthetic patient of the IO study, as plain structs, drawn from
 * the parameters documented in docs/simulator.md (each with its source or marked as an
 * assumption). Pure: no I/O, no store. sim_write.c turns a patient into the protocol's fields.
 *
 * Patients are generated in screening order; screened patient k draws everything from its own
 * PRNG stream (seed, k), so the same seed gives the same cohort however the patients are later
 * written (one by one through the audited path, or in bulk batches). The only state carried
 * from one patient to the next is the calendar (arrival times) and the enrolment count.
 *
 * Times are whole seconds since the Unix epoch, UTC. */
#ifndef IOHEME_SIM_COHORT_H
#define IOHEME_SIM_COHORT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sim/prng.h"

#define SIM_MAX_PLACEMENTS 2
#define SIM_MAX_ATTEMPTS 3
#define SIM_MAX_INFUSIONS 6
#define SIM_MAX_COMPS 4
#define SIM_NTIMEPOINTS 6 /* T0, 15 min, 30 min, 60 min, 6 h, 24 h */
#define SIM_NFOLLOWUPS 3  /* day 7, 28, 90 */

/* Minutes after T0 of the haemodynamic time points. */
extern const int sim_timepoint_min[SIM_NTIMEPOINTS];
/* Days after T0 of the follow-up visits. */
extern const int sim_followup_day[SIM_NFOLLOWUPS];

/* Why a screened patient was not enrolled (0: enrolled). */
enum sim_screen_fail {
    SIM_SF_NONE = 0,
    SIM_SF_AGE,
    SIM_SF_NO_CATEGORY,
    SIM_SF_CONTRAINDICATION,
    SIM_SF_CONSENT
};

struct sim_attempt {
    int site, side; /* protocol codes (att_site, att_side) */
    int64_t start_s, end_s;
    bool is_success;
    int fail_reason; /* att_fail_reason code when failed */
};

struct sim_placement {
    int device, gauge, length_mm, site, side, operator_role, op_exp;
    bool op_trained, is_conscious, has_la;
    int64_t decision_s;
    int nattempts;
    struct sim_attempt att[SIM_MAX_ATTEMPTS];
    bool is_success;
    int64_t confirm_s, inf_start_s; /* when successful */
    int pain_nrs, pain_inf_nrs;     /* when conscious; -1 otherwise */
    int fail_next;                  /* iop_fail_next when failed */
    bool is_removed;                /* a removal form is written */
    int64_t removal_s;
    int removal_reason;
    /* flow through this needle (sim §5): the patient's factor on the site's mean pressurised
     * flow, the gravity/pressure ratio, and whether gravity gives no flow at all */
    double flow_factor, gravity_ratio;
    bool no_gravity_flow;
    bool aspirate;  /* blood / marrow aspirated (when successful) */
    int site_bleed; /* iop_site_bleed 0-3 */
};

struct sim_infusion {
    int placement;    /* 1-based */
    int type;         /* inf_type code */
    const char *drug; /* inf_drug when type 7, else NULL */
    double volume_ml;
    int64_t start_s, stop_s;
    int method;            /* 1 gravity, 2 pressure bag, 3 pump */
    double pump_rate_ml_h; /* method 3 */
    bool as_planned;
    bool haemolysis; /* blood products only */
    int stop_reason;
};

struct sim_vitals {
    int status; /* 1 done, 2 not done: died */
    int64_t t_s;
    int sbp, dbp, hr, rr, spo2;
    bool map_invasive;
    int map_meas;
    double lactate;
    bool on_vaso;
    double ne, epi; /* µg/kg/min */
    int fluid_ml;
};

struct sim_complication {
    int event;  /* 0 io_procedure, 1 t24h, 2 removal, 3 day7 */
    int assess; /* comp_assess code */
    int placement;
    int type; /* comp_type code */
    int grade;
    bool is_serious;
    int related, outcome;
    int64_t onset_s;
    int pain_nrs; /* type 10 */
};

struct sim_followup {
    bool is_done;
    int64_t date_s;
    int status; /* 1 alive, 2 dead, 3 unknown */
    int64_t last_alive_s;
    int64_t death_s;
    int cause, location;
};

struct sim_patient {
    long index; /* screening order, 0-based */
    enum sim_screen_fail screen_fail;
    bool is_enrolled;
    /* screening */
    int64_t screen_s;
    int scr_by, age, sex, heme_dx;
    bool has_heme;
    unsigned qual[5]; /* bit c set: option c of qual_catN ticked (bit 0: "none") */
    int site_plan;
    bool ci[7]; /* fracture, prosthesis, recent_io, skin, landmarks, osteoporosis, oi */
    bool rel_unsafe;
    int scr_consent;
    /* consent */
    int cons_type, cons_by;
    int64_t cons_s;
    /* baseline */
    int64_t baseline_s;
    int location, ecog, dis_status, hsct, height_cm, piv_attempts;
    double weight_kg;
    bool chemo_30d, abx, plt_tx, septic_shock, altered;
    bool plasma_tx; /* plasma, fibrinogen or cryoprecipitate before the puncture */
    int lab_source; /* bl_lab_source: 1 venous, 2 arterial, 3 capillary, 4 IO needle */
    int hb, plt, creat, pao2, fio2, gcs, sbp, dbp, hr, rr, spo2, resp;
    double wbc, anc, pt_prol, inr, fib, lactate, bili, temp, ne;
    int ddimer_cat;
    unsigned io_reason, io_therapy; /* checkbox bits */
    const char *first_drug;
    /* latent traits that drive the course */
    bool is_shock_t0, is_responder;
    /* procedure */
    int nplacements;
    struct sim_placement pl[SIM_MAX_PLACEMENTS];
    int ninfusions;
    struct sim_infusion inf[SIM_MAX_INFUSIONS];
    struct sim_vitals vit[SIM_NTIMEPOINTS];
    int ncomps;
    struct sim_complication comp[SIM_MAX_COMPS];
    /* efficacy */
    bool eff_delivered, eff_other_access;
    int eff_other_type;
    int64_t eff_access_s, eff_drug_s;
    int eff_grade_inv;
    bool eff_disagrees; /* investigator's grade differs from the CRF's algorithm */
    /* outcome */
    int64_t t0_s;
    bool has_death;
    int64_t death_s;
    bool is_lost; /* lost to follow-up */
    struct sim_followup fu[SIM_NFOLLOWUPS];
    int eos_status;
    int64_t eos_s;
};

/* The planned-site mix (sim §2): shares of proximal humerus, proximal tibia, distal tibia and
 * distal femur, in that order, summing to 1. */
#define SIM_NSITES 4
extern const char
    *const sim_site_names[SIM_NSITES]; /* "humerus", "tibia", "distal_tibia", "femur" */
extern const double *const sim_site_mix_default;
/* Parses "tibia=0.6,humerus=0.3,..." (names of sim_site_names, non-negative weights, at least
 * one positive; unnamed sites get 0) into out, normalised to sum 1. ERR_USAGE naming the part at
 * fault. */
int sim_site_mix_parse(const char *s, double out[SIM_NSITES], struct err *e);

/* The cohort generator's state between patients. */
struct sim_cohort {
    double site_mix[SIM_NSITES];
    uint64_t seed;
    long target; /* enrolled patients wanted */
    long nscreened, nenrolled;
    int64_t clock_s;     /* arrival time of the last screened patient */
    double mean_gap_s;   /* mean time between screened patients */
    double haz28, haz90; /* baseline daily hazards for days 0–28 and 28–90 */
};

/* Starts a cohort of `target` enrolled patients (target >= 1) for seed, with the planned-site
 * mix site_mix (NULL: sim_site_mix_default). */
void sim_cohort_init(struct sim_cohort *c, uint64_t seed, long target, const double *site_mix);

/* Draws the next screened patient into *p. Returns true, or false (p untouched) once `target`
 * patients are enrolled. */
bool sim_cohort_next(struct sim_cohort *c, struct sim_patient *p);

#endif
