/* The analysis dataset's data dictionary: every column of every table with its type, unit,
 * description and the SAP section that defines it. The order matches the enums of derive.h;
 * `ioheme dataset` writes these rows as dataset_dictionary.csv. */
#include "core/derive.h"

#define T ACOL_TEXT
#define I ACOL_INT
#define N ACOL_NUM
#define B ACOL_BOOL
#define D ACOL_DATE
#define DT ACOL_DATETIME

static const struct acol scr_cols[SCR_NCOLS] = {
    {"screening_no", T, "", "Screening-log number", "§2"},
    {"subject_id", T, "", "Study ID when enrolled", "§2"},
    {"scr_date", D, "", "Date of screening", "§2"},
    {"age", I, "years", "Age at screening", "§2"},
    {"inc_age", B, "", "Inclusion: age 18-65 (1 met, 0 not met)", "§2"},
    {"inc_heme", B, "", "Inclusion: hematologic disease", "§2"},
    {"inc_category", B, "", "Inclusion: at least one qualifying category 1-5", "§2"},
    {"exc_contraindication", B, "", "Exclusion: any contraindication to IO at the planned site",
     "§2"},
    {"exc_consent", B, "", "Exclusion: consent refused", "§2"},
    {"eligible", B, "", "Eligible by the protocol's eligibility logic", "§2"},
    {"enrolled", B, "", "Enrolled (eligible and consent recorded)", "§2"},
    {"enrol_date", D, "", "Date of enrolment (screening date of enrolled patients)", "§2"},
    {"in_fas", B, "", "In the full analysis set (enrolled with an IO attempt)", "§2"},
};

static const struct acol subj_cols[SUB_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§2"},
    {"screening_no", T, "", "Screening-log number", "§2"},
    {"enrol_date", D, "", "Date of enrolment", "§2"},
    {"in_fas", B, "", "In the full analysis set (at least one IO attempt)", "§2"},
    {"age", I, "years", "Age at screening", "§6"},
    {"sex", T, "", "male / female", "§6"},
    {"heme_dx", T, "", "Hematologic diagnosis", "§6"},
    {"bmi", N, "kg/m2", "Body-mass index at baseline", "§6"},
    {"ecog", I, "", "ECOG performance status", "§6"},
    {"sofa", I, "points", "SOFA total at baseline (CRF calc)", "§6"},
    {"plt", N, "10^9/L", "Platelets at baseline", "§6"},
    {"anc", N, "10^9/L", "Absolute neutrophil count at baseline", "§6"},
    {"hb", N, "g/L", "Haemoglobin at baseline", "§6"},
    {"lactate", N, "mmol/L", "Lactate at baseline", "§6"},
    {"dic_score", I, "points", "ISTH overt-DIC score (platelets, D-dimer, PT, fibrinogen)", "§6"},
    {"mech_vent", B, "", "Invasive mechanical ventilation at baseline", "§6"},
    {"sg_plt_lt20", B, "", "Subgroup: platelets < 20 x10^9/L", "§6"},
    {"sg_anc_lt05", B, "", "Subgroup: ANC < 0.5 x10^9/L", "§6"},
    {"sg_dic", B, "", "Subgroup: ISTH overt DIC (score >= 5)", "§6"},
    {"sg_humerus", B, "", "Subgroup: first site humerus (1) vs tibia (0); blank otherwise", "§6"},
    {"sg_hsct", B, "", "Subgroup: HSCT (autologous or allogeneic)", "§6"},
    {"sg_septic_shock", B, "", "Subgroup: septic shock at baseline", "§6"},
    {"t0", DT, "", "T0: skin puncture of the first attempt (else decision time)", "§3"},
    {"n_placements", I, "", "IO placements", "§4.1"},
    {"first_site", T, "", "Site of the first placement", "§4.1"},
    {"first_device", T, "", "Device of the first placement", "§4.1"},
    {"first_operator", T, "", "Operator of the first placement", "§4.1"},
    {"n_attempts_first", I, "", "Insertion attempts at the first placement", "§4.1"},
    {"n_attempts", I, "", "Insertion attempts, all placements", "§4.1"},
    {"n_attempts_success", I, "", "Successful insertion attempts, all placements", "§4.1"},
    {"first_attempt_success", B, "", "PRIMARY: first attempt of the first placement succeeded",
     "§4.1"},
    {"any_success", B, "", "Working IO access obtained at any attempt", "§4.1"},
    {"access_s", N, "s", "Decision to confirmed placement, first placement", "§5.2"},
    {"puncture_access_s", N, "s", "First skin puncture to confirmed placement, first placement",
     "§5.2"},
    {"vol_30min_ml", N, "mL", "Volume infused through IO in the first 30 min after T0", "§5.1"},
    {"shock_t0", B, "", "In shock at T0 (MAP < 65 mmHg or on vasopressors)", "§4.2"},
    {"map_t0", N, "mmHg", "MAP at T0", "§5.3"},
    {"map_6h", N, "mmHg", "MAP at 6 h", "§5.3"},
    {"ne_eq_t0", N, "ug/kg/min", "Norepinephrine-equivalent dose at T0", "§5.3"},
    {"ne_eq_6h", N, "ug/kg/min", "Norepinephrine-equivalent dose at 6 h", "§5.3"},
    {"lactate_clearance_6h", N, "%", "(L0 - L6) / L0 x 100", "§5.3"},
    {"drug_min", N, "min", "Working access to the first drug", "§4.2"},
    {"delivered", B, "", "Intended therapy delivered through IO", "§4.2"},
    {"other_access", B, "", "Another emergency access needed within 60 min", "§4.2"},
    {"target_met", B, "", "Clinical target met (blank: not assessable)", "§4.2"},
    {"efficacy_assessable", B, "", "Efficacy grade assessable", "§4.2"},
    {"efficacy_grade", I, "",
     "1 effective, 2 partially effective, 3 ineffective; blank not assessable", "§4.2"},
    {"efficacy", B, "", "PRIMARY: effective (not assessable counts as 0)", "§4.2"},
    {"io_hours", N, "h", "Total IO dwell time, all placements", "§5.4"},
    {"dwell_gt24", B, "", "Any placement dwelling beyond 24 h (protocol deviation)", "§5.4"},
    {"n_complications", I, "", "Complications recorded", "§5.4"},
    {"os_days", N, "days", "PRIMARY: overall survival time from T0, censored at day 90", "§4.3"},
    {"os_status", I, "", "PRIMARY: 1 death, 0 censored", "§4.3"},
    {"site", T, "", "Site (centre) of a multi-centre study; blank in a single-centre one", "§2"},
};

static const struct acol pl_cols[PL_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§4.1"},
    {"placement", I, "", "Placement number", "§4.1"},
    {"device", T, "", "Device", "§4.1"},
    {"gauge", I, "G", "Needle gauge", "§4.1"},
    {"length_mm", I, "mm", "Needle length", "§4.1"},
    {"site", T, "", "Site: humerus, tibia, distal_tibia, femur, sternum, other", "§5.1"},
    {"side", T, "", "left / right / midline", "§4.1"},
    {"operator", T, "", "Operator", "§4.1"},
    {"n_attempts", I, "", "Insertion attempts", "§4.1"},
    {"success", B, "", "Working access at this placement", "§4.1"},
    {"decision_dt", DT, "", "Decision to use IO", "§5.2"},
    {"confirm_dt", DT, "", "Confirmed placement", "§5.2"},
    {"access_s", N, "s", "Decision to confirmed placement", "§5.2"},
    {"puncture_access_s", N, "s", "First skin puncture to confirmed placement", "§5.2"},
    {"removal_dt", DT, "", "Needle removal", "§5.4"},
    {"dwell_h", N, "h", "Dwell time (removal - insertion)", "§5.4"},
    {"dwell_to_last_obs", B, "", "No removal time: dwell counted to the last observation", "§5.4"},
    {"dwell_gt24", B, "", "Dwell beyond 24 h (protocol deviation)", "§5.4"},
};

static const struct acol att_cols[ATT_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§4.1"},
    {"placement", I, "", "Placement number", "§4.1"},
    {"attempt", I, "", "Attempt number within the placement", "§4.1"},
    {"site", T, "", "Site", "§4.1"},
    {"start_dt", DT, "", "Skin puncture", "§3"},
    {"duration_s", N, "s", "Attempt duration", "§4.1"},
    {"success", B, "", "Attempt succeeded", "§4.1"},
};

static const struct acol inf_cols[INF_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.1"},
    {"infusion", I, "", "Infusion episode (instance)", "§5.1"},
    {"placement", I, "", "Placement it ran through", "§5.1"},
    {"site", T, "", "humerus / tibia / other", "§5.1"},
    {"type", T, "", "What was infused", "§5.1"},
    {"method", T, "", "gravity / pressure_bag / pump / push", "§5.1"},
    {"volume_ml", N, "mL", "Volume infused", "§5.1"},
    {"start_dt", DT, "", "Start", "§5.1"},
    {"duration_min", N, "min", "Stop - start", "§5.1"},
    {"flow_ml_min", N, "mL/min", "Volume / duration (blank when duration missing or <= 0)", "§5.1"},
};

static const struct acol hd_cols[HD_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.3"},
    {"timepoint", T, "", "T0, 15min, 30min, 60min, 6h, 24h", "§3"},
    {"minutes", I, "min", "Minutes after T0 (nominal)", "§3"},
    {"status", T, "", "done / died / not_done / missing", "§5.3"},
    {"map", N, "mmHg", "Mean arterial pressure (invasive when measured)", "§5.3"},
    {"hr", N, "/min", "Heart rate", "§5.3"},
    {"sbp", N, "mmHg", "Systolic blood pressure", "§5.3"},
    {"shock_index", N, "", "HR / SBP", "§5.3"},
    {"lactate", N, "mmol/L", "Lactate", "§5.3"},
    {"ne_eq", N, "ug/kg/min", "Norepinephrine equivalents", "§5.3"},
    {"map_change", N, "mmHg", "MAP - MAP at T0", "§5.3"},
    {"hr_change", N, "/min", "HR - HR at T0", "§5.3"},
    {"lactate_clearance", N, "%", "(L0 - L) / L0 x 100", "§5.3"},
};

static const struct acol cmp_cols[CMP_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.4"},
    {"event", T, "", "Event the complication was recorded at", "§5.4"},
    {"instance", I, "", "Instance of the complication form", "§5.4"},
    {"placement", I, "", "Placement concerned", "§5.4"},
    {"type", I, "", "Complication type (comp_type code)", "§5.4"},
    {"type_label", T, "", "Complication type", "§5.4"},
    {"grade", I, "", "CTCAE v5.0 grade", "§5.4"},
    {"serious", B, "", "Serious adverse event", "§5.4"},
    {"related", I, "", "Relation to the IO device (1 definitely ... 5 not related)", "§5.4"},
    {"onset", D, "", "Onset date", "§5.4"},
};

static const struct acol cpl_cols[CPL_NCOLS] = {
    {"form", T, "", "Form", "§7"},
    {"form_label", T, "", "Form, as the data-entry screens name it", "§7"},
    {"field", T, "", "Required field", "§7"},
    {"expected", I, "",
     "Values expected (enrolled subjects, events and instances where the form was collected and "
     "the field shown)",
     "§7"},
    {"present", I, "", "Values present", "§7"},
};

const struct acol *const derive_ads_cols[ADS_NTABLES] = {scr_cols, subj_cols, pl_cols,  att_cols,
                                                         inf_cols, hd_cols,   cmp_cols, cpl_cols};
const size_t derive_ads_ncols[ADS_NTABLES] = {SCR_NCOLS, SUB_NCOLS, PL_NCOLS,  ATT_NCOLS,
                                              INF_NCOLS, HD_NCOLS,  CMP_NCOLS, CPL_NCOLS};
const char *const derive_ads_names[ADS_NTABLES] = {"screening",     "subjects",    "placements",
                                                   "attempts",      "infusions",   "haemodynamics",
                                                   "complications", "completeness"};

const char *const derive_tp_event[DERIVE_NTP] = {"t0_arm_1",     "t15min_arm_1", "t30min_arm_1",
                                                 "t60min_arm_1", "t6h_arm_1",    "t24h_arm_1"};
const char *const derive_tp_label[DERIVE_NTP] = {"T0", "15min", "30min", "60min", "6h", "24h"};
const int derive_tp_minutes[DERIVE_NTP] = {0, 15, 30, 60, 360, 1440};

const struct derive_level derive_sites[] = {
    {"1", "humerus", "Proximal humerus"},  {"2", "tibia", "Proximal tibia"},
    {"3", "distal_tibia", "Distal tibia"}, {"4", "femur", "Distal femur"},
    {"5", "sternum", "Sternum"},           {NULL, "other", "Other site"}};
const struct derive_level derive_devices[] = {{"1", "EZ-IO", "EZ-IO"},   {"2", "B.I.G.", "B.I.G."},
                                              {"3", "NIO", "NIO"},       {"4", "FAST", "FAST"},
                                              {"5", "manual", "Manual"}, {NULL, "other", "Other"}};

const int derive_comp_code[DERIVE_NCOMP_TYPES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99};
const char *const derive_comp_label[DERIVE_NCOMP_TYPES] = {"Local infection / cellulitis",
                                                           "Abscess",
                                                           "Osteomyelitis",
                                                           "Fat embolism",
                                                           "Extravasation / infiltration",
                                                           "Compartment syndrome",
                                                           "Dislodgement",
                                                           "Bleeding / haematoma at the site",
                                                           "Fracture",
                                                           "Severe pain (NRS ≥ 7)",
                                                           "Other"};
