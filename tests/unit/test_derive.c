/* Endpoint derivations on hand-made records with answers worked out by hand (SAP §3–§5):
 * attempts and first-attempt success, a failed site then success elsewhere, flow rate, volume
 * in the first 30 min, access and dwell times, survival (death on day 27 vs censoring at day
 * 90), every branch of the efficacy grade, haemodynamic changes, complications. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/branch.h"
#include "core/derive.h"
#include "core/dict.h"

/* ---- building records ---------------------------------------------------------------------*/

static void put(struct vtab *v, const char *ev, int inst, const char *field, const char *val)
{
    assert_int_equal(vtab_add(v, ev, inst, field, NULL, val), 0);
}

#define PROC "io_procedure_arm_1"

/* An enrolled subject with one placement at the tibia, one successful attempt, T0
 * 2025-03-03 10:00:00, haemodynamics at T0 and 6 h, alive at day 90. */
static void base_subject(struct vtab *v, const char *id)
{
    vtab_reset(v);
    assert_int_equal(vtab_set_record(v, "SCR-001", id), 0);
    put(v, "screening_arm_1", 0, "scr_date", "2025-03-03");
    put(v, "screening_arm_1", 0, "age", "50");
    put(v, "screening_arm_1", 0, "sex", "1");
    put(v, "screening_arm_1", 0, "eligible", "1");
    put(v, "baseline_arm_1", 0, "bl_plt", "15");
    put(v, "baseline_arm_1", 0, "bl_anc", "0.7");
    put(v, "baseline_arm_1", 0, "bl_ddimer_cat", "3");
    put(v, "baseline_arm_1", 0, "bl_pt_prol", "3.5");
    put(v, "baseline_arm_1", 0, "bl_fib", "1.5");
    put(v, "baseline_arm_1", 0, "bl_hsct", "2");
    put(v, "baseline_arm_1", 0, "bl_septic_shock", "1");
    put(v, PROC, 1, "iop_number", "1");
    put(v, PROC, 1, "iop_site", "2");
    put(v, PROC, 1, "iop_device", "1");
    put(v, PROC, 1, "iop_decision_dt", "2025-03-03 09:59:20");
    put(v, PROC, 1, "iop_success", "1");
    put(v, PROC, 1, "iop_confirm_dt", "2025-03-03 10:00:25");
    put(v, PROC, 1, "att_placement", "1");
    put(v, PROC, 1, "att_number", "1");
    put(v, PROC, 1, "att_start_dt", "2025-03-03 10:00:00");
    put(v, PROC, 1, "att_end_dt", "2025-03-03 10:00:15");
    put(v, PROC, 1, "att_outcome", "1");
    put(v, "removal_arm_1", 1, "rem_placement", "1");
    put(v, "removal_arm_1", 1, "rem_insert_dt", "2025-03-03 10:01");
    put(v, "removal_arm_1", 1, "rem_dt", "2025-03-03 22:01");
    put(v, "day90_arm_1", 0, "fu_status", "1");
    put(v, "day90_arm_1", 0, "fu_last_alive", "2025-06-05");
}

/* Vitals at an event: SBP/DBP give MAP = round((s + 2d) / 3). */
static void vitals(struct vtab *v, const char *ev, const char *sbp, const char *dbp, const char *hr,
                   const char *lac, const char *ne)
{
    put(v, ev, 0, "hd_status", "1");
    put(v, ev, 0, "hd_dt", "2025-03-03 10:00");
    put(v, ev, 0, "hd_sbp", sbp);
    put(v, ev, 0, "hd_dbp", dbp);
    put(v, ev, 0, "hd_hr", hr);
    put(v, ev, 0, "hd_lactate", lac);
    put(v, ev, 0, "hd_vaso", ne ? "1" : "0");
    if (ne)
        put(v, ev, 0, "hd_ne", ne);
}

static void efficacy_form(struct vtab *v, const char *delivered, const char *other,
                          const char *drug_dt)
{
    put(v, "t24h_arm_1", 0, "eff_delivered", delivered);
    put(v, "t24h_arm_1", 0, "eff_other_access", other);
    if (drug_dt) {
        put(v, "t24h_arm_1", 0, "eff_access_dt", "2025-03-03 10:00:25");
        put(v, "t24h_arm_1", 0, "eff_drug_dt", drug_dt);
    }
}

struct fx {
    struct vtab v;
    struct adataset ds;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    vtab_init(&f->v);
    derive_init(&f->ds);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vtab_free(&f->v);
    derive_free(&f->ds);
    free(f);
    return 0;
}

static void derive_ok(struct fx *f)
{
    struct err e = {0};
    assert_int_equal(derive_record(&f->ds, &f->v, &e), 0);
}

/* The subject table's cell of the last subject. */
static const char *cell(struct fx *f, int table, size_t col)
{
    const struct atable *t = &f->ds.t[table];
    assert_true(t->nrows > 0);
    return atable_get(t, t->nrows - 1, col);
}

static double num(struct fx *f, int table, size_t col)
{
    const char *s = cell(f, table, col);
    assert_non_null(s);
    return strtod(s, NULL);
}

#define SUBJ(col) cell(f, ADS_SUBJECTS, col)
#define SUBJN(col) num(f, ADS_SUBJECTS, col)

/* ---- tests --------------------------------------------------------------------------------*/

static void test_single_successful_attempt_is_first_attempt_success(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-001");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_FIRST_ATTEMPT_SUCCESS), "1");
    assert_string_equal(SUBJ(SUB_N_ATTEMPTS), "1");
    assert_string_equal(SUBJ(SUB_IN_FAS), "1");
    assert_string_equal(SUBJ(SUB_T0), "2025-03-03 10:00:00");
    /* decision 09:59:20 -> confirmed 10:00:25 = 65 s; puncture 10:00:00 -> 25 s */
    assert_float_equal(SUBJN(SUB_ACCESS_S), 65, 1e-9);
    assert_float_equal(SUBJN(SUB_PUNCTURE_ACCESS_S), 25, 1e-9);
    /* inserted 10:01, removed 22:01: 12 h, no deviation */
    assert_float_equal(SUBJN(SUB_IO_HOURS), 12, 1e-9);
    assert_string_equal(SUBJ(SUB_DWELL_GT24), "0");
    /* screening row: enrolled and in the FAS */
    assert_string_equal(cell(f, ADS_SCREENING, SCR_ENROLLED), "1");
    assert_string_equal(cell(f, ADS_SCREENING, SCR_IN_FAS), "1");
}

static void test_two_attempts_first_failed(void **state)
{
    struct fx *f = *state;
    /* attempt 1 failed at 10:00:00; attempt 2 succeeded at 10:01:00 */
    struct vtab *v = &f->v;
    vtab_reset(v);
    assert_int_equal(vtab_set_record(v, "SCR-002", "IOH-002"), 0);
    put(v, PROC, 1, "iop_number", "1");
    put(v, PROC, 1, "iop_site", "2");
    put(v, PROC, 1, "iop_decision_dt", "2025-03-03 09:59:00");
    put(v, PROC, 1, "iop_success", "1");
    put(v, PROC, 1, "iop_confirm_dt", "2025-03-03 10:01:30");
    put(v, PROC, 1, "att_placement", "1");
    put(v, PROC, 1, "att_number", "1");
    put(v, PROC, 1, "att_start_dt", "2025-03-03 10:00:00");
    put(v, PROC, 1, "att_outcome", "2");
    put(v, PROC, 2, "att_placement", "1");
    put(v, PROC, 2, "att_number", "2");
    put(v, PROC, 2, "att_start_dt", "2025-03-03 10:01:00");
    put(v, PROC, 2, "att_outcome", "1");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_FIRST_ATTEMPT_SUCCESS), "0");
    assert_string_equal(SUBJ(SUB_N_ATTEMPTS), "2");
    assert_string_equal(SUBJ(SUB_N_ATTEMPTS_FIRST), "2");
    assert_string_equal(SUBJ(SUB_N_ATTEMPTS_SUCCESS), "1");
    assert_string_equal(SUBJ(SUB_ANY_SUCCESS), "1");
    /* T0 is the first puncture, not the successful one */
    assert_string_equal(SUBJ(SUB_T0), "2025-03-03 10:00:00");
    /* 09:59:00 -> 10:01:30 = 150 s; from the first puncture 90 s */
    assert_float_equal(SUBJN(SUB_ACCESS_S), 150, 1e-9);
    assert_float_equal(SUBJN(SUB_PUNCTURE_ACCESS_S), 90, 1e-9);
    assert_int_equal(f->ds.t[ADS_ATTEMPTS].nrows, 2);
}

static void test_failed_site_then_success_at_another_site(void **state)
{
    struct fx *f = *state;
    struct vtab *v = &f->v;
    vtab_reset(v);
    assert_int_equal(vtab_set_record(v, "SCR-003", "IOH-003"), 0);
    /* placement 1: humerus, one failed attempt; placement 2: tibia, success first time */
    put(v, PROC, 1, "iop_number", "1");
    put(v, PROC, 1, "iop_site", "1");
    put(v, PROC, 1, "iop_success", "0");
    put(v, PROC, 1, "iop_decision_dt", "2025-03-03 09:58:00");
    put(v, PROC, 2, "iop_number", "2");
    put(v, PROC, 2, "iop_site", "2");
    put(v, PROC, 2, "iop_success", "1");
    put(v, PROC, 2, "iop_decision_dt", "2025-03-03 10:02:00");
    put(v, PROC, 2, "iop_confirm_dt", "2025-03-03 10:03:00");
    put(v, PROC, 1, "att_placement", "1");
    put(v, PROC, 1, "att_number", "1");
    put(v, PROC, 1, "att_start_dt", "2025-03-03 09:59:00");
    put(v, PROC, 1, "att_outcome", "2");
    put(v, PROC, 2, "att_placement", "2");
    put(v, PROC, 2, "att_number", "1");
    put(v, PROC, 2, "att_start_dt", "2025-03-03 10:02:30");
    put(v, PROC, 2, "att_outcome", "1");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_FIRST_ATTEMPT_SUCCESS), "0");
    assert_string_equal(SUBJ(SUB_ANY_SUCCESS), "1");
    assert_string_equal(SUBJ(SUB_N_PLACEMENTS), "2");
    assert_string_equal(SUBJ(SUB_FIRST_SITE), "humerus");
    assert_string_equal(SUBJ(SUB_SG_HUMERUS), "1");
    assert_string_equal(SUBJ(SUB_T0), "2025-03-03 09:59:00");
    /* the first placement never worked: no time to access for it */
    assert_null(SUBJ(SUB_ACCESS_S));
    const struct atable *pl = &f->ds.t[ADS_PLACEMENTS];
    assert_int_equal(pl->nrows, 2);
    assert_string_equal(atable_get(pl, 1, PL_SITE), "tibia");
    assert_string_equal(atable_get(pl, 1, PL_ACCESS_S), "60");
}

static void test_flow_rate_and_volume_in_first_30_min(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-004");
    /* 500 mL from T0+5 min to T0+30 min: 25 min, 20 mL/min, all inside the window */
    put(&f->v, PROC, 1, "inf_placement", "1");
    put(&f->v, PROC, 1, "inf_volume", "500");
    put(&f->v, PROC, 1, "inf_start_dt", "2025-03-03 10:05:00");
    put(&f->v, PROC, 1, "inf_stop_dt", "2025-03-03 10:30:00");
    put(&f->v, PROC, 1, "inf_method", "2");
    /* 200 mL from T0+20 to T0+40 min: 10 mL/min, half inside the window = 100 mL */
    put(&f->v, PROC, 2, "inf_placement", "1");
    put(&f->v, PROC, 2, "inf_volume", "200");
    put(&f->v, PROC, 2, "inf_start_dt", "2025-03-03 10:20:00");
    put(&f->v, PROC, 2, "inf_stop_dt", "2025-03-03 10:40:00");
    put(&f->v, PROC, 2, "inf_method", "1");
    /* zero duration: no flow rate */
    put(&f->v, PROC, 3, "inf_placement", "1");
    put(&f->v, PROC, 3, "inf_volume", "10");
    put(&f->v, PROC, 3, "inf_start_dt", "2025-03-03 10:50:00");
    put(&f->v, PROC, 3, "inf_stop_dt", "2025-03-03 10:50:00");
    derive_ok(f);
    const struct atable *t = &f->ds.t[ADS_INFUSIONS];
    assert_int_equal(t->nrows, 3);
    assert_string_equal(atable_get(t, 0, INF_FLOW), "20");
    assert_string_equal(atable_get(t, 0, INF_DURATION_MIN), "25");
    assert_string_equal(atable_get(t, 0, INF_SITE), "tibia");
    assert_string_equal(atable_get(t, 0, INF_METHOD), "pressure_bag");
    assert_string_equal(atable_get(t, 1, INF_FLOW), "10");
    assert_string_equal(atable_get(t, 1, INF_METHOD), "gravity");
    assert_null(atable_get(t, 2, INF_FLOW));
    assert_float_equal(SUBJN(SUB_VOL_30MIN), 600, 1e-9);
}

static void test_death_on_day_27_is_an_event(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-005");
    /* replace the day-90 contact by a death reported at day 28: died 2025-03-30 (12:00) */
    struct vtab *v = &f->v;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].event, "day90_arm_1") == 0)
            v->v[i].value = "";
    put(v, "day28_arm_1", 0, "fu_status", "2");
    put(v, "day28_arm_1", 0, "fu_death_date", "2025-03-30");
    derive_ok(f);
    /* 2025-03-03 10:00 -> 2025-03-30 12:00 = 27 days + 2 h = 27.083333... days */
    assert_float_equal(SUBJN(SUB_OS_DAYS), 27 + 2.0 / 24, 1e-9);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "1");
}

/* docs/sap.md §4.3: a death without a date is an event at the midpoint between the date last
 * known alive and the contact that recorded it */
static void test_death_without_a_date_is_an_event_at_the_midpoint(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-011");
    struct vtab *v = &f->v;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].event, "day90_arm_1") == 0)
            v->v[i].value = "";
    put(v, "day7_arm_1", 0, "fu_status", "1");
    put(v, "day7_arm_1", 0, "fu_last_alive", "2025-03-10");
    put(v, "day28_arm_1", 0, "fu_status", "2");
    put(v, "day28_arm_1", 0, "fu_dt", "2025-03-30");
    derive_ok(f);
    /* alive 2025-03-10 12:00 (day 7 + 2 h), recorded dead 2025-03-30 12:00 (day 27 + 2 h):
     * midpoint day 17 + 2 h */
    assert_float_equal(SUBJN(SUB_OS_DAYS), 17 + 2.0 / 24, 1e-9);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "1");
}

static void test_death_without_any_date_is_at_the_midpoint_to_the_visit_day(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-013");
    struct vtab *v = &f->v;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].event, "day90_arm_1") == 0)
            v->v[i].value = "";
    put(v, "day7_arm_1", 0, "fu_status", "1");
    put(v, "day7_arm_1", 0, "fu_last_alive", "2025-03-10");
    put(v, "day28_arm_1", 0, "fu_status", "2");
    derive_ok(f);
    /* no date of the contact either: its nominal day 28 after T0 (2025-03-31 10:00), so the
     * midpoint of day 7 + 2 h and day 28 is day 17.5 + 1 h */
    assert_float_equal(SUBJN(SUB_OS_DAYS), 17.5 + 1.0 / 24, 1e-9);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "1");
}

static void test_venous_platelets_and_anc_count(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-012"); /* platelets 15, ANC 0.7, a full DIC score */
    put(&f->v, "baseline_arm_1", 0, "bl_lab_source", "1");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_PLT), "15");
    assert_string_equal(SUBJ(SUB_SG_PLT_LT20), "1");
    assert_string_equal(SUBJ(SUB_SG_ANC_LT05), "0");
    assert_non_null(SUBJ(SUB_DIC_SCORE));
}

/* docs/sap.md §7: platelets, ANC and coagulation drawn through the IO needle are left out */
static void test_io_drawn_platelets_and_anc_are_left_out(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-012");
    put(&f->v, "baseline_arm_1", 0, "bl_lab_source", "4");
    derive_ok(f);
    assert_null(SUBJ(SUB_PLT));
    assert_null(SUBJ(SUB_ANC));
    assert_null(SUBJ(SUB_SG_PLT_LT20));
    assert_null(SUBJ(SUB_SG_ANC_LT05));
    assert_null(SUBJ(SUB_DIC_SCORE));
}

static void test_alive_beyond_day_90_is_censored_at_90(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-006"); /* last known alive 2025-06-05, day 94 */
    derive_ok(f);
    assert_float_equal(SUBJN(SUB_OS_DAYS), 90, 1e-12);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "0");
}

static void test_lost_to_follow_up_censored_at_last_alive(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-007");
    struct vtab *v = &f->v;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].event, "day90_arm_1") == 0)
            v->v[i].value = "";
    put(v, "day7_arm_1", 0, "fu_status", "1");
    put(v, "day7_arm_1", 0, "fu_last_alive", "2025-03-10");
    put(v, "day28_arm_1", 0, "fu_status", "3");
    put(v, "day28_arm_1", 0, "fu_last_alive", "2025-03-10");
    derive_ok(f);
    /* 2025-03-03 10:00 -> 2025-03-10 12:00 = 7 days + 2 h */
    assert_float_equal(SUBJN(SUB_OS_DAYS), 7 + 2.0 / 24, 1e-9);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "0");
}

static void test_alive_at_contact_without_last_alive_date(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-009");
    struct vtab *v = &f->v;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].event, "day90_arm_1") == 0)
            v->v[i].value = "";
    put(v, "day28_arm_1", 0, "fu_status", "1");
    put(v, "day28_arm_1", 0, "fu_dt", "2025-03-31");
    derive_ok(f);
    /* 2025-03-03 10:00 -> 2025-03-31 12:00 = 28 days + 2 h, censored */
    assert_float_equal(SUBJN(SUB_OS_DAYS), 28 + 2.0 / 24, 1e-9);
    assert_string_equal(SUBJ(SUB_OS_STATUS), "0");
}

static void test_subgroup_flags(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-008");
    derive_ok(f);
    /* platelets 15 (< 20), ANC 0.7 (not < 0.5); DIC: plt < 50 -> 2, D-dimer strong 3,
     * PT +3.5 s -> 1, fibrinogen 1.5 -> 0: score 6, overt */
    assert_string_equal(SUBJ(SUB_SG_PLT_LT20), "1");
    assert_string_equal(SUBJ(SUB_SG_ANC_LT05), "0");
    assert_string_equal(SUBJ(SUB_DIC_SCORE), "6");
    assert_string_equal(SUBJ(SUB_SG_DIC), "1");
    assert_string_equal(SUBJ(SUB_SG_HSCT), "1");
    assert_string_equal(SUBJ(SUB_SG_SEPTIC_SHOCK), "1");
    assert_string_equal(SUBJ(SUB_SG_HUMERUS), "0");
}

/* Efficacy: shock at T0 (MAP 55 on NE 0.2); at 6 h MAP 70 with NE 0.1: effective. */
static void test_efficacy_shock_map_target_met_is_effective(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-010");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");   /* MAP round(165/3) = 55 */
    vitals(&f->v, "t6h_arm_1", "100", "55", "100", "4.8", "0.1"); /* MAP 70 */
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_SHOCK_T0), "1");
    assert_float_equal(SUBJN(SUB_MAP_T0), 55, 0);
    assert_float_equal(SUBJN(SUB_MAP_6H), 70, 0);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY), "1");
    /* lactate clearance (5.0 - 4.8) / 5.0 = 4% */
    assert_float_equal(SUBJN(SUB_LC_6H), 4, 1e-9);
    /* haemodynamics rows: six time points; the 6 h change in MAP is +15, HR -20 */
    const struct atable *h = &f->ds.t[ADS_HAEMO];
    assert_int_equal(h->nrows, 6);
    assert_string_equal(atable_get(h, 4, HD_TIMEPOINT), "6h");
    assert_string_equal(atable_get(h, 4, HD_MAP_CHANGE), "15");
    assert_string_equal(atable_get(h, 4, HD_HR_CHANGE), "-20");
    assert_string_equal(atable_get(h, 0, HD_SHOCK_INDEX), "1.41176470588"); /* 120/85 */
    assert_string_equal(atable_get(h, 1, HD_STATUS), "missing");
}

/* Shock, MAP at 6 h >= 65 but the vasopressor escalated, lactate clearance 20%: effective via
 * lactate. Then the same with clearance 5%: partially effective. */
static void test_efficacy_shock_escalation_and_lactate(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-011");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");
    vitals(&f->v, "t6h_arm_1", "100", "55", "100", "4.0", "0.3");
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_float_equal(SUBJN(SUB_LC_6H), 20, 1e-9);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");

    base_subject(&f->v, "IOH-012");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");
    vitals(&f->v, "t6h_arm_1", "100", "55", "100", "4.75", "0.3");
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_float_equal(SUBJN(SUB_LC_6H), 5, 1e-9);
    assert_string_equal(SUBJ(SUB_TARGET_MET), "0");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "2");
    assert_string_equal(SUBJ(SUB_EFFICACY), "0");
}

/* Not in shock (MAP 80, no vasopressor): first drug after 8 min effective, 12 min partial. */
static void test_efficacy_no_shock_drug_within_10_min(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-013");
    vitals(&f->v, "t0_arm_1", "120", "60", "90", "1.5", NULL);
    efficacy_form(&f->v, "1", "0", "2025-03-03 10:08:25");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_SHOCK_T0), "0");
    assert_float_equal(SUBJN(SUB_DRUG_MIN), 8, 1e-9);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");

    base_subject(&f->v, "IOH-014");
    vitals(&f->v, "t0_arm_1", "120", "60", "90", "1.5", NULL);
    efficacy_form(&f->v, "1", "0", "2025-03-03 10:12:25");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "2");
    assert_string_equal(SUBJ(SUB_EFFICACY), "0");
}

/* Delivery failed, or another access needed: ineffective. Shock without 6 h values: not
 * assessable, counted as not effective. */
static void test_efficacy_ineffective_and_not_assessable(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-015");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");
    efficacy_form(&f->v, "0", "1", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "3");
    assert_string_equal(SUBJ(SUB_EFFICACY), "0");

    base_subject(&f->v, "IOH-016");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");
    vitals(&f->v, "t6h_arm_1", "100", "55", "100", "4.0", "0.1");
    efficacy_form(&f->v, "1", "1", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "3");

    base_subject(&f->v, "IOH-017");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.2");
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_null(SUBJ(SUB_EFFICACY_GRADE));
    assert_string_equal(SUBJ(SUB_EFF_ASSESSABLE), "0");
    assert_string_equal(SUBJ(SUB_EFFICACY), "0");
}

/* Vitals with "on vasopressors" yes but no NE-equivalent dose (an inotrope, or doses not
 * recorded). */
static void vitals_on_vaso_no_dose(struct vtab *v, const char *ev, const char *sbp, const char *dbp,
                                   const char *lac)
{
    put(v, ev, 0, "hd_status", "1");
    put(v, ev, 0, "hd_dt", "2025-03-03 10:00");
    put(v, ev, 0, "hd_sbp", sbp);
    put(v, ev, 0, "hd_dbp", dbp);
    put(v, ev, 0, "hd_hr", "100");
    put(v, ev, 0, "hd_lactate", lac);
    put(v, ev, 0, "hd_vaso", "1");
}

/* The boundaries as SAP §4.2 and the CRF's calcs (eff_shock_t0, eff_lact_clear6) draw them:
 * lactate 3.0 -> 2.7 mmol/L is a clearance of exactly 10% (met, although (3.0 - 2.7) / 3.0 is
 * just below 0.1 in floating point); "on vasopressors" is the recorded status, so a patient with
 * MAP 80 on a drug outside the NE-equivalent list (NE-eq 0) is in shock at T0. */
static void test_efficacy_boundaries_as_the_crf(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-018");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "3.0", "0.2");  /* MAP 55 */
    vitals(&f->v, "t6h_arm_1", "85", "45", "110", "2.7", "0.2"); /* MAP 58: target via lactate */
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_float_equal(SUBJN(SUB_LC_6H), 10, 1e-9);
    assert_string_equal(SUBJ(SUB_TARGET_MET), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");

    /* MAP 80 on an inotrope (NE-eq 0), 6 h MAP 83 off vasopressors: shock, target met */
    base_subject(&f->v, "IOH-019");
    vitals_on_vaso_no_dose(&f->v, "t0_arm_1", "120", "60", "2.0");
    vitals(&f->v, "t6h_arm_1", "120", "65", "95", "2.0", NULL);
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_SHOCK_T0), "1");
    assert_string_equal(SUBJ(SUB_TARGET_MET), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");

    /* on vasopressors, T0 MAP not recorded: in shock; lactate clearance 25% meets the target */
    base_subject(&f->v, "IOH-020");
    put(&f->v, "t0_arm_1", 0, "hd_status", "1");
    put(&f->v, "t0_arm_1", 0, "hd_lactate", "4.0");
    put(&f->v, "t0_arm_1", 0, "hd_vaso", "1");
    vitals(&f->v, "t6h_arm_1", "120", "65", "95", "3.0", NULL);
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_SHOCK_T0), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");
}

/* NE-equivalents and minutes to the first drug as the CRF's calcs round them (hd_ne_eq to
 * 0.001 µg/kg/min, eff_drug_min to 0.1 min): NE 0.15 at T0 and NE 0.1 + dopamine 5 at 6 h are
 * the same dose (0.1 + 0.05 is 0.15000000000000002 in doubles), so no escalation; a first drug
 * 10 min 1 s after access is 10.0 min, within 10 min. */
static void test_efficacy_rounding_as_the_crf(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-021");
    vitals(&f->v, "t0_arm_1", "85", "40", "120", "5.0", "0.15");  /* MAP 55 */
    vitals(&f->v, "t6h_arm_1", "100", "55", "100", "5.0", "0.1"); /* MAP 70, no clearance */
    put(&f->v, "t6h_arm_1", 0, "hd_dopa", "5");
    efficacy_form(&f->v, "1", "0", NULL);
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_NE_6H), "0.15");
    assert_string_equal(SUBJ(SUB_TARGET_MET), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");

    base_subject(&f->v, "IOH-022");
    vitals(&f->v, "t0_arm_1", "120", "60", "90", "1.5", NULL);
    efficacy_form(&f->v, "1", "0", "2025-03-03 10:10:26"); /* access 10:00:25 */
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_SHOCK_T0), "0");
    assert_string_equal(SUBJ(SUB_TARGET_MET), "1");
    assert_string_equal(SUBJ(SUB_EFFICACY_GRADE), "1");
}

static void test_ne_equivalents(void **state)
{
    struct fx *f = *state;
    struct vtab *v = &f->v;
    vtab_reset(v);
    assert_int_equal(vtab_set_record(v, "SCR-020", "IOH-020"), 0);
    put(v, "t0_arm_1", 0, "hd_vaso", "1");
    put(v, "t0_arm_1", 0, "hd_ne", "0.1");
    put(v, "t0_arm_1", 0, "hd_dopa", "5");           /* /100 -> 0.05 */
    put(v, "t0_arm_1", 0, "hd_phenyl", "1");         /* /10 -> 0.1 */
    put(v, "t0_arm_1", 0, "hd_vasopressin", "0.04"); /* x2.5 -> 0.1 */
    double ne;
    assert_true(derive_ne_eq(v, "t0_arm_1", "hd_", &ne));
    assert_float_equal(ne, 0.35, 1e-12);
    put(v, "t6h_arm_1", 0, "hd_vaso", "0");
    assert_true(derive_ne_eq(v, "t6h_arm_1", "hd_", &ne));
    assert_float_equal(ne, 0, 0);
    assert_false(derive_ne_eq(v, "t24h_arm_1", "hd_", &ne));
}

static void test_complications_and_screen_failure(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-021");
    put(&f->v, PROC, 1, "comp_type", "5");
    put(&f->v, PROC, 1, "comp_grade", "1");
    put(&f->v, "removal_arm_1", 1, "comp_type", "8");
    put(&f->v, "removal_arm_1", 1, "comp_grade", "2");
    derive_ok(f);
    assert_string_equal(SUBJ(SUB_N_COMPLICATIONS), "2");
    const struct atable *c = &f->ds.t[ADS_COMPLICATIONS];
    assert_int_equal(c->nrows, 2);
    assert_string_equal(atable_get(c, 0, CMP_TYPE_LABEL), "Extravasation / infiltration");
    assert_string_equal(atable_get(c, 1, CMP_GRADE), "2");

    /* a screen failure: a screening row, no subject row */
    size_t nsub = f->ds.t[ADS_SUBJECTS].nrows;
    vtab_reset(&f->v);
    assert_int_equal(vtab_set_record(&f->v, "SCR-022", NULL), 0);
    put(&f->v, "screening_arm_1", 0, "inc_age", "0");
    put(&f->v, "screening_arm_1", 0, "eligible", "0");
    derive_ok(f);
    assert_int_equal(f->ds.t[ADS_SUBJECTS].nrows, nsub);
    assert_string_equal(cell(f, ADS_SCREENING, SCR_ENROLLED), "0");
    assert_string_equal(cell(f, ADS_SCREENING, SCR_INC_AGE), "0");
    assert_null(cell(f, ADS_SCREENING, SCR_SUBJECT_ID));
}

/* A number cell is what printf's %.12g makes of it (whole numbers take a faster path), "-0"
 * excepted; an integer cell what %lld makes. */
static void test_number_cells_as_printf(void **state)
{
    (void)state;
    static const struct acol cols[] = {{"x", ACOL_NUM, "", "", "", NULL}};
    struct atable t;
    atable_init(&t, "t", cols, 1);
    const double vs[] = {0,          1,
                         -1,         7,
                         10,         72,
                         -480,       86400,
                         1740996005, 1e11,
                         -1e11 - 1,  999999999999.0,
                         1e12,       -1e12,
                         1e15,       123456789012345.0,
                         0.5,        -2.25,
                         72.5,       1.0 / 3.0,
                         1e-7,       4503599627370497.0};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        size_t r;
        assert_int_equal(atable_add_row(&t, &r), 0);
        assert_int_equal(atable_set_num(&t, r, 0, vs[i]), 0);
        char want[64];
        snprintf(want, sizeof want, "%.12g", vs[i]);
        assert_string_equal(atable_get(&t, r, 0), want);
    }
    size_t r;
    assert_int_equal(atable_add_row(&t, &r), 0);
    assert_int_equal(atable_set_num(&t, r, 0, -0.0), 0);
    assert_string_equal(atable_get(&t, r, 0), "0");
    const long long ns[] = {0, 7, -7, 10, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) { /* and integers as %lld */
        assert_int_equal(atable_add_row(&t, &r), 0);
        assert_int_equal(atable_set_int(&t, r, 0, ns[i]), 0);
        char want[32];
        snprintf(want, sizeof want, "%lld", ns[i]);
        assert_string_equal(atable_get(&t, r, 0), want);
    }
    atable_free(&t);
}

static void test_parse_time(void **state)
{
    (void)state;
    double t;
    assert_true(derive_parse_time("1970-01-02", &t));
    assert_float_equal(t, 86400 + 12 * 3600, 0); /* a date counts at 12:00 */
    assert_true(derive_parse_time("2000-03-01 00:00", &t));
    assert_float_equal(t, 951868800, 0);
    assert_true(derive_parse_time("2025-03-03 10:00:05", &t));
    assert_float_equal(t, 1740996005, 0);
    assert_false(derive_parse_time("2025-13-01", &t));
    assert_false(derive_parse_time("2025-02-29", &t)); /* not a leap year */
    assert_true(derive_parse_time("2024-02-29", &t));
    assert_float_equal(t, 19782 * 86400.0 + 12 * 3600, 0); /* 2024-02-29 is day 19782 */
    assert_false(derive_parse_time("+024-01-01", &t)); /* digits only, as the validator stores */
    assert_false(derive_parse_time("2025-01-01 9:30", &t));
    assert_false(derive_parse_time("2025-01-01T09:30", &t));
    assert_false(derive_parse_time("yesterday", &t));
    assert_false(derive_parse_time(NULL, &t));
}

/* The study's protocol ($IOHEME_PROTOCOL, else the repository's). */
static void load_study_dict(struct dict *d)
{
    const char *dir = getenv("IOHEME_PROTOCOL");
    struct err e = {0};
    if (dict_load(dir ? dir : IOHEME_SOURCE_DIR "/protocols/io-heme", d, &e) != 0)
        fail_msg("%s", e.msg);
}

/* Completeness (SAP §7) on the study's own protocol: a required field is expected where its
 * form is collected and its branching logic shows it; repeating forms count per instance. */
static long cpl(struct fx *f, const char *field, bool expected)
{
    for (size_t i = 0; i < f->ds.ncpl; i++)
        if (strcmp(f->ds.cpl[i].field, field) == 0)
            return expected ? f->ds.cpl[i].expected : f->ds.cpl[i].present;
    fail_msg("no completeness counter for %s", field);
    return -1;
}

static void test_completeness_counts_required_shown_fields(void **state)
{
    struct fx *f = *state;
    struct dict d;
    struct err e = {0};
    load_study_dict(&d);
    struct vtab *v = &f->v;
    vtab_reset(v);
    assert_int_equal(vtab_set_record(v, "SCR-030", "IOH-030"), 0);
    put(v, "screening_arm_1", 0, "age", "40");      /* sex left empty */
    put(v, "screening_arm_1", 0, "cons_type", "3"); /* deferred consent: */
    put(v, "screening_arm_1", 0, "cons_enrol_dt", "2025-03-03 10:00");
    /* two attempt forms, the second without its outcome */
    put(v, PROC, 1, "att_number", "1");
    put(v, PROC, 1, "att_outcome", "1");
    put(v, PROC, 2, "att_number", "2");
    assert_int_equal(derive_completeness(&f->ds, &d, v, 0, &e), 0);
    assert_int_equal(cpl(f, "age", true), 1);
    assert_int_equal(cpl(f, "age", false), 1);
    assert_int_equal(cpl(f, "sex", true), 1);
    assert_int_equal(cpl(f, "sex", false), 0);
    /* cons_dt is shown only for written consent (types 1, 2): not expected here */
    assert_int_equal(cpl(f, "cons_dt", true), 0);
    assert_int_equal(cpl(f, "cons_enrol_dt", true), 1);
    assert_int_equal(cpl(f, "cons_enrol_dt", false), 1);
    assert_int_equal(cpl(f, "att_outcome", true), 2);
    assert_int_equal(cpl(f, "att_outcome", false), 1);
    /* the infusion form has no instance: nothing expected of it */
    assert_int_equal(cpl(f, "inf_volume", true), 0);
    assert_int_equal(derive_finish(&f->ds, &e), 0);
    assert_true(f->ds.t[ADS_COMPLETENESS].nrows > 0);
    dict_free(&d);
}

/* A value that branch_vtab_hide left in the table is of a field shown there, so completeness
 * counts it without deciding again; a value it blanked, and a table it has not seen (or has,
 * but a value was added since), are decided by the branching logic as before. cons_dt is shown
 * for written consent only (cons_type 1 or 2). */
static long cpl_of(const struct adataset *ds, const struct dict *d, const char *field,
                   bool expected)
{
    const struct dict_field *fd = dict_field(d, field);
    assert_non_null(fd);
    const struct derive_cpl *c = &ds->cpl[fd - d->fields];
    return expected ? c->expected : c->present;
}

static void test_completeness_after_hiding(void **state)
{
    (void)state;
    struct dict d;
    struct err e = {0};
    load_study_dict(&d);
    for (int round = 0; round < 4; round++) {
        /* 0: deferred consent, its date stored anyway, hidden first; 1: the same, never hidden;
         * 2: written consent, hidden first (nothing to hide); 3: the same, a value added after */
        struct vtab v;
        vtab_init(&v);
        vtab_set_dict(&v, &d);
        assert_int_equal(vtab_set_record(&v, "SCR-031", "IOH-031"), 0);
        put(&v, "screening_arm_1", 0, "age", "40");
        put(&v, "screening_arm_1", 0, "cons_type", round < 2 ? "3" : "1");
        put(&v, "screening_arm_1", 0, "cons_dt", "2025-03-03 10:00");
        assert_false(v.is_branching_applied);
        if (round != 1)
            assert_int_equal(branch_vtab_hide(&d, &v, 0, NULL, NULL, &e), 0);
        assert_int_equal(v.is_branching_applied, round != 1);
        if (round == 3) {
            put(&v, "screening_arm_1", 0, "cons_enrol_dt", "2025-03-03 10:00");
            assert_false(v.is_branching_applied);
        }
        struct adataset ds;
        derive_init(&ds);
        assert_int_equal(derive_completeness(&ds, &d, &v, 0, &e), 0);
        assert_int_equal(cpl_of(&ds, &d, "age", true), 1);
        assert_int_equal(cpl_of(&ds, &d, "age", false), 1);
        assert_int_equal(cpl_of(&ds, &d, "cons_dt", true), round < 2 ? 0 : 1);
        assert_int_equal(cpl_of(&ds, &d, "cons_dt", false), round < 2 ? 0 : 1);
        derive_free(&ds);
        vtab_free(&v);
    }
    dict_free(&d);
}

/* Writes text to dir/name. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
}

/* Completeness decides "shown" by the one branching rule (branch_is_shown over the table, as
 * branch_vtab_hide reads it): a required field of a form that does not repeat, shown when a
 * field of a repeating form is ticked, reads that field at instance 1 (the store's rule), not
 * at instance 0 where nothing is stored. */
static void test_completeness_reads_references_as_branching_does(void **state)
{
    (void)state;
    char dir[] = "/tmp/ioheme-cpl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    put_file(dir, "dictionary.csv",
             "field_name,form_name,section_header,field_type,field_label,"
             "select_choices_or_calculations,field_note,"
             "text_validation_type_or_show_slider_number,text_validation_min,"
             "text_validation_max,identifier,branching_logic,required_field,custom_alignment,"
             "question_number,matrix_group_name,matrix_ranking,field_annotation\n"
             "record_id,summary,,text,ID,,,,,,,,,,,,,\n"
             "s_note,summary,,text,Note,,,,,,,[v_done] = '1',y,,,,,\n"
             "v_done,visits,,yesno,Done,,,,,,,,,,,,,\n");
    put_file(dir, "repeating.csv", "form_name,custom_form_label\nvisits,\n");
    struct dict d;
    struct err e = {0};
    if (dict_load(dir, &d, &e) != 0)
        fail_msg("%s", e.msg);
    struct vtab v;
    vtab_init(&v);
    assert_int_equal(vtab_set_record(&v, "SCR-001", "ID-001"), 0);
    assert_int_equal(vtab_add(&v, "event_1", 1, "v_done", NULL, "1"), 0);
    struct adataset ds;
    derive_init(&ds);
    assert_int_equal(derive_completeness(&ds, &d, &v, 0, &e), 0);
    const struct dict_field *f = dict_field(&d, "s_note");
    assert_non_null(f);
    size_t i = (size_t)(f - d.fields);
    assert_int_equal(ds.cpl[i].expected, 1); /* shown: v_done is 1 at instance 1 */
    assert_int_equal(ds.cpl[i].present, 0);
    /* and branching hides nothing of it */
    assert_int_equal(vtab_add(&v, "event_1", 0, "s_note", NULL, "kept"), 0);
    assert_int_equal(branch_vtab_hide(&d, &v, 0, NULL, NULL, &e), 0);
    assert_string_equal(vtab_get(&v, "event_1", 0, "s_note", NULL), "kept");
    derive_free(&ds);
    vtab_free(&v);
    dict_free(&d);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A database written before instances were bounded may hold instance 2147483647 (an attack
 * did exactly that through the API). Derivations visit the instances that exist: a loop over
 * 1..INT_MAX would never finish, and i++ past INT_MAX is undefined behaviour. */
static void test_huge_stored_instance_is_visited_not_counted_up_to(void **state)
{
    struct fx *f = *state;
    base_subject(&f->v, "IOH-001");
    put(&f->v, PROC, 2147483647, "att_placement", "1");
    put(&f->v, PROC, 2147483647, "att_number", "2");
    put(&f->v, PROC, 2147483647, "att_outcome", "0");
    put(&f->v, PROC, 2147483647, "inf_volume", "100");
    put(&f->v, PROC, 2147483647, "comp_type", "1");
    put(&f->v, "removal_arm_1", 2147483647, "rem_placement", "9");
    derive_ok(f);
    /* the attempt at instance INT_MAX counts: 2 attempts, the first (number 1) succeeded */
    assert_string_equal(SUBJ(SUB_N_ATTEMPTS), "2");
    assert_string_equal(SUBJ(SUB_FIRST_ATTEMPT_SUCCESS), "1");
    assert_int_equal(f->ds.t[ADS_INFUSIONS].nrows, 1);
    assert_int_equal(f->ds.t[ADS_COMPLICATIONS].nrows, 1);

    struct dict d;
    struct err e = {0};
    load_study_dict(&d);
    assert_int_equal(derive_completeness(&f->ds, &d, &f->v, 0, &e), 0);
    /* attempt forms at instances 1 and INT_MAX: two expected outcomes, both present */
    assert_int_equal(cpl(f, "att_outcome", true), 2);
    assert_int_equal(cpl(f, "att_outcome", false), 2);
    dict_free(&d);

    assert_int_equal(vtab_next_instance(&f->v, PROC, "att_number", 1), 2147483647);
    assert_int_equal(vtab_next_instance(&f->v, PROC, "att_number", 2147483647), 0);
    static const char *const two[] = {"att_number", "iop_site"};
    assert_int_equal(vtab_next_instance_any(&f->v, PROC, two, 2, 0), 1);
    assert_int_equal(vtab_next_instance_any(&f->v, PROC, two, 2, 1), 2147483647);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_successful_attempt_is_first_attempt_success,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_attempts_first_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_site_then_success_at_another_site, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flow_rate_and_volume_in_first_30_min, setup, teardown),
        cmocka_unit_test_setup_teardown(test_death_on_day_27_is_an_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_death_without_a_date_is_an_event_at_the_midpoint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_death_without_any_date_is_at_the_midpoint_to_the_visit_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_venous_platelets_and_anc_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_drawn_platelets_and_anc_are_left_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alive_beyond_day_90_is_censored_at_90, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lost_to_follow_up_censored_at_last_alive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alive_at_contact_without_last_alive_date, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_subgroup_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_shock_map_target_met_is_effective, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_shock_escalation_and_lactate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_no_shock_drug_within_10_min, setup, teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_ineffective_and_not_assessable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_boundaries_as_the_crf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_efficacy_rounding_as_the_crf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ne_equivalents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complications_and_screen_failure, setup, teardown),
        cmocka_unit_test(test_completeness_reads_references_as_branching_does),
        cmocka_unit_test(test_completeness_after_hiding),
        cmocka_unit_test_setup_teardown(test_completeness_counts_required_shown_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_huge_stored_instance_is_visited_not_counted_up_to,
                                        setup, teardown),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_number_cells_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
