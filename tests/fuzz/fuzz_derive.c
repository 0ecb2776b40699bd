/* libFuzzer target for the endpoint derivations: any bytes as a record's stored values, then
 * derive_record. The store validates what it keeps, but the derivations must also survive
 * values that a future protocol, an import or a hand-edited database could hold (huge or
 * fractional counts, "nan", malformed dates, instances pointing nowhere). Looks for crashes,
 * overflows, leaks and undefined behaviour; see README.md here for how to run it.
 *
 * Input: records of 3 bytes + value, separated by '\n': byte 0 picks the event, byte 1 the
 * field (from the fields the derivations read), byte 2 the instance (0-7), the rest of the line
 * is the value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/derive.h"

static const char *const EVENTS[] = {
    "screening_arm_1", "baseline_arm_1", "io_procedure_arm_1", "t0_arm_1",          "t15min_arm_1",
    "t30min_arm_1",    "t60min_arm_1",   "t6h_arm_1",          "t24h_arm_1",        "removal_arm_1",
    "day7_arm_1",      "day28_arm_1",    "day90_arm_1",        "end_of_study_arm_1"};

static const char *const FIELDS[] = {"age",
                                     "att_end_dt",
                                     "att_number",
                                     "att_outcome",
                                     "att_placement",
                                     "att_site",
                                     "att_start_dt",
                                     "bl_anc",
                                     "bl_ddimer_cat",
                                     "bl_ecog",
                                     "bl_fib",
                                     "bl_hb",
                                     "bl_height",
                                     "bl_hsct",
                                     "bl_lactate",
                                     "bl_plt",
                                     "bl_pt_prol",
                                     "bl_resp",
                                     "bl_septic_shock",
                                     "bl_weight",
                                     "comp_grade",
                                     "comp_onset",
                                     "comp_placement",
                                     "comp_related",
                                     "comp_serious",
                                     "comp_type",
                                     "eff_access_dt",
                                     "eff_delivered",
                                     "eff_drug_dt",
                                     "eff_other_access",
                                     "eligible",
                                     "eos_date",
                                     "eos_status",
                                     "exc_consent",
                                     "exc_fracture",
                                     "exc_relative",
                                     "fu_death_date",
                                     "fu_last_alive",
                                     "fu_status",
                                     "hd_dt",
                                     "hd_hr",
                                     "hd_lactate",
                                     "hd_sbp",
                                     "hd_dbp",
                                     "hd_map_inv",
                                     "hd_map_meas",
                                     "hd_status",
                                     "hd_vaso",
                                     "hd_ne",
                                     "hd_epi",
                                     "hd_dopa",
                                     "hd_phenyl",
                                     "hd_vasopressin",
                                     "heme_dx",
                                     "inc_age",
                                     "inc_category",
                                     "inc_heme",
                                     "inf_method",
                                     "inf_placement",
                                     "inf_start_dt",
                                     "inf_stop_dt",
                                     "inf_type",
                                     "inf_volume",
                                     "iop_confirm_dt",
                                     "iop_decision_dt",
                                     "iop_device",
                                     "iop_n_attempts",
                                     "iop_number",
                                     "iop_operator",
                                     "iop_side",
                                     "iop_site",
                                     "iop_success",
                                     "rem_dt",
                                     "rem_insert_dt",
                                     "rem_placement",
                                     "scr_date",
                                     "sex",
                                     "sofa_total"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vtab v;
    struct adataset ds;
    struct err e = {0};
    char value[256];
    vtab_init(&v);
    derive_init(&ds);
    vtab_set_record(&v, "SCR-001", size % 2 ? "IOH-001" : NULL);
    size_t pos = 0;
    while (pos + 3 <= size) {
        const uint8_t *line = data + pos;
        const uint8_t *nl = memchr(line + 3, '\n', size - pos - 3);
        size_t len = (nl ? (size_t)(nl - line) : size - pos) - 3;
        if (len >= sizeof value)
            len = sizeof value - 1;
        memcpy(value, line + 3, len);
        value[len] = '\0';
        vtab_add(&v, EVENTS[line[0] % N(EVENTS)], line[2] % 8, FIELDS[line[1] % N(FIELDS)], NULL,
                 value);
        pos = nl ? (size_t)(nl - data) + 1 : size;
    }
    derive_record(&ds, &v, &e);
    derive_free(&ds);
    vtab_free(&v);
    return 0;
}
