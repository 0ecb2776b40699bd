/* The analysis dataset's data dictionary: every column of every table with its type, unit,
 * description and the SAP section that defines it. The order matches the enums of derive.h;
 * `ioheme dataset` writes these rows as dataset_dictionary.csv. */
#include <string.h>

#include "core/derive.h"

#define T ACOL_TEXT
#define I ACOL_INT
#define N ACOL_NUM
#define B ACOL_BOOL
#define D ACOL_DATE
#define DT ACOL_DATETIME

static const struct acol scr_cols[SCR_NCOLS] = {
    {"screening_no", T, "", "Screening-log number", "§2", NULL},
    {"subject_id", T, "", "Study ID when enrolled", "§2", NULL},
    {"scr_date", D, "", "Date of screening", "§2", NULL},
    {"age", I, "years", "Age at screening", "§2", NULL},
    {"inc_age", B, "", "Inclusion: age 18-65 (1 met, 0 not met)", "§2", NULL},
    {"inc_heme", B, "", "Inclusion: hematologic disease", "§2", NULL},
    {"inc_category", B, "", "Inclusion: at least one qualifying category 1-5", "§2", NULL},
    {"exc_contraindication", B, "", "Exclusion: any contraindication to IO at the planned site",
     "§2", NULL},
    {"exc_consent", B, "", "Exclusion: consent refused", "§2", NULL},
    {"eligible", B, "", "Eligible by the protocol's eligibility logic", "§2", NULL},
    {"enrolled", B, "", "Enrolled (eligible and consent recorded)", "§2", NULL},
    {"enrol_date", D, "", "Date of enrolment (screening date of enrolled patients)", "§2", NULL},
    {"in_fas", B, "", "In the full analysis set (enrolled with an IO attempt)", "§2", NULL},
};

static const struct acol subj_cols[SUB_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§2", NULL},
    {"screening_no", T, "", "Screening-log number", "§2", NULL},
    {"enrol_date", D, "", "Date of enrolment", "§2", NULL},
    {"in_fas", B, "", "In the full analysis set (at least one IO attempt)", "§2", NULL},
    {"age", I, "years", "Age at screening", "§6", NULL},
    {"sex", T, "", "male / female", "§6", derive_sexes},
    {"heme_dx", T, "", "Hematologic diagnosis", "§6", derive_diagnoses},
    {"bmi", N, "kg/m2", "Body-mass index at baseline", "§6", NULL},
    {"ecog", I, "", "ECOG performance status", "§6", NULL},
    {"sofa", I, "points", "SOFA total at baseline (CRF calc)", "§6", NULL},
    {"plt", N, "10^9/L", "Platelets at baseline", "§6", NULL},
    {"anc", N, "10^9/L", "Absolute neutrophil count at baseline", "§6", NULL},
    {"hb", N, "g/L", "Haemoglobin at baseline", "§6", NULL},
    {"lactate", N, "mmol/L", "Lactate at baseline", "§6", NULL},
    {"dic_score", I, "points", "ISTH overt-DIC score (platelets, D-dimer, PT, fibrinogen)", "§6",
     NULL},
    {"mech_vent", B, "", "Invasive mechanical ventilation at baseline", "§6", NULL},
    {"sg_plt_lt20", B, "", "Subgroup: platelets < 20 x10^9/L", "§6", NULL},
    {"sg_anc_lt05", B, "", "Subgroup: ANC < 0.5 x10^9/L", "§6", NULL},
    {"sg_dic", B, "", "Subgroup: ISTH overt DIC (score >= 5)", "§6", NULL},
    {"sg_humerus", B, "", "Subgroup: first site humerus (1) vs tibia (0); blank otherwise", "§6",
     NULL},
    {"sg_hsct", B, "", "Subgroup: HSCT (autologous or allogeneic)", "§6", NULL},
    {"sg_septic_shock", B, "", "Subgroup: septic shock at baseline", "§6", NULL},
    {"t0", DT, "", "T0: skin puncture of the first attempt (else decision time)", "§3", NULL},
    {"n_placements", I, "", "IO placements", "§4.1", NULL},
    {"first_site", T, "", "Site of the first placement", "§4.1", derive_sites},
    {"first_device", T, "", "Device of the first placement", "§4.1", derive_devices},
    {"first_operator", T, "", "Operator of the first placement", "§4.1", derive_operators},
    {"n_attempts_first", I, "", "Insertion attempts at the first placement", "§4.1", NULL},
    {"n_attempts", I, "", "Insertion attempts, all placements", "§4.1", NULL},
    {"n_attempts_success", I, "", "Successful insertion attempts, all placements", "§4.1", NULL},
    {"first_attempt_success", B, "", "PRIMARY: first attempt of the first placement succeeded",
     "§4.1", NULL},
    {"any_success", B, "", "Working IO access obtained at any attempt", "§4.1", NULL},
    {"access_s", N, "s", "Decision to confirmed placement, first placement", "§5.2", NULL},
    {"puncture_access_s", N, "s", "First skin puncture to confirmed placement, first placement",
     "§5.2", NULL},
    {"vol_30min_ml", N, "mL", "Volume infused through IO in the first 30 min after T0", "§5.1",
     NULL},
    {"shock_t0", B, "", "In shock at T0 (MAP < 65 mmHg or on vasopressors)", "§4.2", NULL},
    {"map_t0", N, "mmHg", "MAP at T0", "§5.3", NULL},
    {"map_6h", N, "mmHg", "MAP at 6 h", "§5.3", NULL},
    {"ne_eq_t0", N, "ug/kg/min", "Norepinephrine-equivalent dose at T0", "§5.3", NULL},
    {"ne_eq_6h", N, "ug/kg/min", "Norepinephrine-equivalent dose at 6 h", "§5.3", NULL},
    {"lactate_clearance_6h", N, "%", "(L0 - L6) / L0 x 100", "§5.3", NULL},
    {"drug_min", N, "min", "Working access to the first drug", "§4.2", NULL},
    {"delivered", B, "", "Intended therapy delivered through IO", "§4.2", NULL},
    {"other_access", B, "", "Another emergency access needed within 60 min", "§4.2", NULL},
    {"target_met", B, "", "Clinical target met (blank: not assessable)", "§4.2", NULL},
    {"efficacy_assessable", B, "", "Efficacy grade assessable", "§4.2", NULL},
    {"efficacy_grade", I, "",
     "1 effective, 2 partially effective, 3 ineffective; blank not assessable", "§4.2", NULL},
    {"efficacy", B, "", "PRIMARY: effective (not assessable counts as 0)", "§4.2", NULL},
    {"io_hours", N, "h", "Total IO dwell time, all placements", "§5.4", NULL},
    {"dwell_gt24", B, "", "Any placement dwelling beyond 24 h (protocol deviation)", "§5.4", NULL},
    {"n_complications", I, "", "Complications recorded", "§5.4", NULL},
    {"os_days", N, "days", "PRIMARY: overall survival time from T0, censored at day 90", "§4.3",
     NULL},
    {"os_status", I, "", "PRIMARY: 1 death, 0 censored", "§4.3", NULL},
    {"site", T, "", "Site (centre) of a multi-centre study; blank in a single-centre one", "§2",
     NULL},
};

static const struct acol pl_cols[PL_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§4.1", NULL},
    {"placement", I, "", "Placement number", "§4.1", NULL},
    {"device", T, "", "Device", "§4.1", derive_devices},
    {"gauge", I, "G", "Needle gauge", "§4.1", NULL},
    {"length_mm", I, "mm", "Needle length", "§4.1", NULL},
    {"site", T, "", "Site: humerus, tibia, distal_tibia, femur, sternum, other", "§5.1",
     derive_sites},
    {"side", T, "", "left / right / midline", "§4.1", derive_sides},
    {"operator", T, "", "Operator", "§4.1", derive_operators},
    {"n_attempts", I, "", "Insertion attempts", "§4.1", NULL},
    {"success", B, "", "Working access at this placement", "§4.1", NULL},
    {"decision_dt", DT, "", "Decision to use IO", "§5.2", NULL},
    {"confirm_dt", DT, "", "Confirmed placement", "§5.2", NULL},
    {"access_s", N, "s", "Decision to confirmed placement", "§5.2", NULL},
    {"puncture_access_s", N, "s", "First skin puncture to confirmed placement", "§5.2", NULL},
    {"removal_dt", DT, "", "Needle removal", "§5.4", NULL},
    {"dwell_h", N, "h", "Dwell time (removal - insertion)", "§5.4", NULL},
    {"dwell_to_last_obs", B, "", "No removal time: dwell counted to the last observation", "§5.4",
     NULL},
    {"dwell_gt24", B, "", "Dwell beyond 24 h (protocol deviation)", "§5.4", NULL},
};

static const struct acol att_cols[ATT_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§4.1", NULL},
    {"placement", I, "", "Placement number", "§4.1", NULL},
    {"attempt", I, "", "Attempt number within the placement", "§4.1", NULL},
    {"site", T, "", "Site", "§4.1", derive_sites},
    {"start_dt", DT, "", "Skin puncture", "§3", NULL},
    {"duration_s", N, "s", "Attempt duration", "§4.1", NULL},
    {"success", B, "", "Attempt succeeded", "§4.1", NULL},
};

static const struct acol inf_cols[INF_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.1", NULL},
    {"infusion", I, "", "Infusion episode (instance)", "§5.1", NULL},
    {"placement", I, "", "Placement it ran through", "§5.1", NULL},
    {"site", T, "", "humerus / tibia / other", "§5.1", derive_inf_sites},
    {"type", T, "", "What was infused", "§5.1", derive_inf_types},
    {"method", T, "", "gravity / pressure_bag / pump / push", "§5.1", derive_methods},
    {"volume_ml", N, "mL", "Volume infused", "§5.1", NULL},
    {"start_dt", DT, "", "Start", "§5.1", NULL},
    {"duration_min", N, "min", "Stop - start", "§5.1", NULL},
    {"flow_ml_min", N, "mL/min", "Volume / duration (blank when duration missing or <= 0)", "§5.1",
     NULL},
};

static const struct acol hd_cols[HD_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.3", NULL},
    {"timepoint", T, "", "T0, 15min, 30min, 60min, 6h, 24h", "§3", derive_timepoints},
    {"minutes", I, "min", "Minutes after T0 (nominal)", "§3", NULL},
    {"status", T, "", "done / died / not_done / missing", "§5.3", derive_hd_statuses},
    {"map", N, "mmHg", "Mean arterial pressure (invasive when measured)", "§5.3", NULL},
    {"hr", N, "/min", "Heart rate", "§5.3", NULL},
    {"sbp", N, "mmHg", "Systolic blood pressure", "§5.3", NULL},
    {"shock_index", N, "", "HR / SBP", "§5.3", NULL},
    {"lactate", N, "mmol/L", "Lactate", "§5.3", NULL},
    {"ne_eq", N, "ug/kg/min", "Norepinephrine equivalents", "§5.3", NULL},
    {"map_change", N, "mmHg", "MAP - MAP at T0", "§5.3", NULL},
    {"hr_change", N, "/min", "HR - HR at T0", "§5.3", NULL},
    {"lactate_clearance", N, "%", "(L0 - L) / L0 x 100", "§5.3", NULL},
};

static const struct acol cmp_cols[CMP_NCOLS] = {
    {"subject_id", T, "", "Study ID", "§5.4", NULL},
    {"event", T, "", "Event the complication was recorded at", "§5.4", NULL},
    {"instance", I, "", "Instance of the complication form", "§5.4", NULL},
    {"placement", I, "", "Placement concerned", "§5.4", NULL},
    {"type", I, "", "Complication type (comp_type code)", "§5.4", NULL},
    {"type_label", T, "", "Complication type", "§5.4", NULL},
    {"grade", I, "", "CTCAE v5.0 grade", "§5.4", NULL},
    {"serious", B, "", "Serious adverse event", "§5.4", NULL},
    {"related", I, "", "Relation to the IO device (1 definitely ... 5 not related)", "§5.4", NULL},
    {"onset", D, "", "Onset date", "§5.4", NULL},
};

static const struct acol cpl_cols[CPL_NCOLS] = {
    {"form", T, "", "Form", "§7", NULL},
    {"form_label", T, "", "Form, as the data-entry screens name it", "§7", NULL},
    {"field", T, "", "Required field", "§7", NULL},
    {"expected", I, "",
     "Values expected (enrolled subjects, events and instances where the form was collected and "
     "the field shown)",
     "§7", NULL},
    {"present", I, "", "Values present", "§7", NULL},
};

const struct acol *const derive_ads_cols[ADS_NTABLES] = {scr_cols, subj_cols, pl_cols,  att_cols,
                                                         inf_cols, hd_cols,   cmp_cols, cpl_cols};
const size_t derive_ads_ncols[ADS_NTABLES] = {SCR_NCOLS, SUB_NCOLS, PL_NCOLS,  ATT_NCOLS,
                                              INF_NCOLS, HD_NCOLS,  CMP_NCOLS, CPL_NCOLS};
const char *const derive_ads_names[ADS_NTABLES] = {"screening",     "subjects",    "placements",
                                                   "attempts",      "infusions",   "haemodynamics",
                                                   "complications", "completeness"};

/* ---- coded choices (derive.h, struct derive_level) ---------------------------------------*/

const char *derive_level_of(const char *code, const struct derive_level *m)
{
    if (!code)
        return NULL;
    for (; m->code; m++)
        if (strcmp(m->code, code) == 0)
            break;
    return m->value;
}

size_t derive_level_values(const struct derive_level *m, bool fallback, const char **out)
{
    size_t n = 0;
    for (; m->code && n < DERIVE_MAX_LEVELS; m++)
        out[n++] = m->value;
    if (fallback && !m->code && m->value && n < DERIVE_MAX_LEVELS)
        out[n++] = m->value;
    out[n] = NULL;
    return n;
}

const struct derive_level derive_sexes[] = {
    {"1", "male", "Male"}, {"2", "female", "Female"}, {NULL, NULL, NULL}};
/* The report's labels are the values (Table 1: "Diagnosis: AML"). */
const struct derive_level derive_diagnoses[] = {
    {"1", "AML", "AML"},
    {"2", "ALL", "ALL"},
    {"3", "APL", "APL"},
    {"4", "CML", "CML"},
    {"5", "CLL", "CLL"},
    {"6", "Hodgkin lymphoma", "Hodgkin lymphoma"},
    {"7", "Non-Hodgkin lymphoma", "Non-Hodgkin lymphoma"},
    {"8", "Myeloma", "Myeloma"},
    {"9", "MDS", "MDS"},
    {"10", "MPN", "MPN"},
    {"11", "Aplastic anaemia", "Aplastic anaemia"},
    {"12", "HLH", "HLH"},
    {"13", "TMA", "TMA"},
    {NULL, "other", "other"}};
const struct derive_level derive_sites[] = {
    {"1", "humerus", "Proximal humerus"},  {"2", "tibia", "Proximal tibia"},
    {"3", "distal_tibia", "Distal tibia"}, {"4", "femur", "Distal femur"},
    {"5", "sternum", "Sternum"},           {NULL, "other", "Other site"}};
const struct derive_level derive_devices[] = {{"1", "EZ-IO", "EZ-IO"},   {"2", "B.I.G.", "B.I.G."},
                                              {"3", "NIO", "NIO"},       {"4", "FAST", "FAST"},
                                              {"5", "manual", "Manual"}, {NULL, "other", "Other"}};
const struct derive_level derive_inf_sites[] = {{"1", "humerus", "Proximal humerus"},
                                                {"2", "tibia", "Proximal tibia"},
                                                {NULL, "other", "Other site"}};
const struct derive_level derive_operators[] = {{"1", "attending", "ICU attending physician"},
                                                {"2", "resident", "ICU resident / fellow"},
                                                {"3", "nurse", "ICU nurse"},
                                                {"4", "anaesthetist", "Anaesthetist"},
                                                {"5", "emergency_physician", "Emergency physician"},
                                                {NULL, "other", "Other"}};
const struct derive_level derive_sides[] = {{"1", "left", "Left"},
                                            {"2", "right", "Right"},
                                            {"3", "midline", "Midline"},
                                            {NULL, "other", "Other"}};
const struct derive_level derive_inf_types[] = {{"1", "crystalloid", "Crystalloid"},
                                                {"2", "colloid", "Colloid / albumin"},
                                                {"3", "red_cells", "Red blood cells"},
                                                {"4", "platelets", "Platelets"},
                                                {"5", "plasma", "Plasma"},
                                                {"6", "cryoprecipitate", "Cryoprecipitate"},
                                                {"7", "drug", "Drug"},
                                                {NULL, "other", "Other"}};
/* The report's labels of the methods (report_html_sec.c). */
const struct derive_level derive_methods[] = {{"1", "gravity", "Gravity"},
                                              {"2", "pressure_bag", "Pressure bag 300 mmHg"},
                                              {"3", "pump", "Infusion pump"},
                                              {"4", "push", "Manual syringe push"},
                                              {NULL, "other", "Other"}};
const struct derive_level derive_hd_statuses[] = {{"1", "done", "Done"},
                                                  {"2", "died", "Not done: patient died"},
                                                  {"3", "not_done", "Not done: other reason"},
                                                  {NULL, "missing", "No status"}};
const struct derive_level derive_timepoints[DERIVE_NTP + 1] = {{"t0_arm_1", "T0", "T0"},
                                                               {"t15min_arm_1", "15min", "15 min"},
                                                               {"t30min_arm_1", "30min", "30 min"},
                                                               {"t60min_arm_1", "60min", "60 min"},
                                                               {"t6h_arm_1", "6h", "6 h"},
                                                               {"t24h_arm_1", "24h", "24 h"},
                                                               {NULL, NULL, NULL}};
const int derive_tp_minutes[DERIVE_NTP] = {0, 15, 30, 60, 360, 1440};

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
