/* A simulated patient as store changes (see sim_write.h). One function per stage of the
 * patient's journey; the order of changes follows the forms' field order, which keeps the
 * audit trail readable. */
#include "sim/sim_write.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/fmt.h"

static const char *const EV_TP[SIM_NTIMEPOINTS] = {"t0_arm_1",     "t15min_arm_1", "t30min_arm_1",
                                                   "t60min_arm_1", "t6h_arm_1",    "t24h_arm_1"};
static const char *const EV_FU[SIM_NFOLLOWUPS] = {"day7_arm_1", "day28_arm_1", "day90_arm_1"};
static const char *const EV_COMP[4] = {"io_procedure_arm_1", "t24h_arm_1", "removal_arm_1",
                                       "day7_arm_1"};

static const char *fmt_time(long long t, char buf[32], const char *fmt)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, 32, fmt, &tm) == 0)
        buf[0] = '\0';
    return buf;
}

const char *sim_fmt_date(long long t, char buf[32])
{
    return fmt_time(t, buf, "%Y-%m-%d");
}

const char *sim_fmt_datetime(long long t, char buf[32])
{
    return fmt_time(t, buf, "%Y-%m-%d %H:%M");
}

const char *sim_fmt_datetime_s(long long t, char buf[32])
{
    return fmt_time(t, buf, "%Y-%m-%d %H:%M:%S");
}

/* ---- building the list --------------------------------------------------------------------*/

struct cw {
    struct sim_changes *out;
    const char *event;
    int instance;
};

static void add_code(struct cw *w, const char *field, const char *code, const char *value)
{
    struct sim_changes *c = w->out;
    if (c->failed)
        return;
    struct store_change *v = arena_grow(c->ar, c->v, c->n, &c->cap, sizeof *v, 64);
    if (!v) {
        c->failed = 1;
        return;
    }
    c->v = v;
    char *val = arena_strdup(c->ar, value);
    if (!val) {
        c->failed = 1;
        return;
    }
    c->v[c->n++] = (struct store_change){w->event, w->instance, field, code, val, NULL};
}

static void add(struct cw *w, const char *field, const char *value)
{
    add_code(w, field, NULL, value);
}

static void addi(struct cw *w, const char *field, long long v)
{
    char buf[32];
    fmt_exact(buf, sizeof buf, "%lld", v);
    add(w, field, buf);
}

/* Fixed decimals (number_1dp and friends). */
static void addd(struct cw *w, const char *field, double v, int dp)
{
    char buf[64];
    fmt_text(buf, sizeof buf, "%.*f", dp, v);
    add(w, field, buf);
}

/* A plain "number": up to dp decimals, trailing zeros dropped. */
static void addn(struct cw *w, const char *field, double v, int dp)
{
    char buf[64];
    fmt_text(buf, sizeof buf, "%.*f", dp, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    add(w, field, buf);
}

static void add_yn(struct cw *w, const char *field, bool v)
{
    add(w, field, v ? "1" : "0");
}

static void add_dt(struct cw *w, const char *field, long long t)
{
    char buf[32];
    add(w, field, sim_fmt_datetime(t, buf));
}

static void add_dts(struct cw *w, const char *field, long long t)
{
    char buf[32];
    add(w, field, sim_fmt_datetime_s(t, buf));
}

static void add_date(struct cw *w, const char *field, long long t)
{
    char buf[32];
    add(w, field, sim_fmt_date(t, buf));
}

/* Ticks checkbox options: bit c of bits is option code c. */
static void add_checks(struct cw *w, const char *field, unsigned bits)
{
    static const char *const codes[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};
    for (unsigned c = 0; c < 11; c++)
        if (bits & (1u << c))
            add_code(w, field, codes[c], "1");
}

static void complete(struct cw *w, const char *form)
{
    char *name = arena_printf(w->out->ar, "%s_complete", form);
    if (!name) {
        w->out->failed = 1;
        return;
    }
    add(w, name, "2");
}

static void begin(struct sim_changes *out, struct arena *ar)
{
    memset(out, 0, sizeof *out);
    out->ar = ar;
}

static int finish(struct sim_changes *out)
{
    return out->failed ? ERR_NOMEM : 0;
}

/* ---- screening and consent ----------------------------------------------------------------*/

int sim_changes_screening(const struct sim_patient *p, struct arena *ar, struct sim_changes *out)
{
    begin(out, ar);
    struct cw w = {out, "screening_arm_1", 0};
    add_date(&w, "scr_date", p->screen_s);
    addi(&w, "scr_by", p->scr_by);
    addi(&w, "age", p->age);
    addi(&w, "sex", p->sex);
    add_yn(&w, "heme_disease", p->has_heme);
    addi(&w, "heme_dx", p->heme_dx);
    if (p->heme_dx == 99)
        add(&w, "heme_dx_oth", "Other myeloid neoplasm");
    static const char *const cats[5] = {"qual_cat1", "qual_cat2", "qual_cat3", "qual_cat4",
                                        "qual_cat5"};
    for (int i = 0; i < 5; i++)
        add_checks(&w, cats[i], p->qual[i]);
    addi(&w, "scr_site_plan", p->site_plan);
    static const char *const ci[7] = {"ci_fracture",  "ci_prosthesis",   "ci_recent_io", "ci_skin",
                                      "ci_landmarks", "ci_osteoporosis", "ci_oi"};
    for (int i = 0; i < 7; i++)
        add_yn(&w, ci[i], p->ci[i]);
    if (p->ci[5] || p->ci[6])
        add_yn(&w, "ci_rel_unsafe", p->rel_unsafe);
    addi(&w, "scr_consent", p->scr_consent);
    if (!p->is_enrolled)
        add(&w, "scr_fail_note", "Not eligible at screening (simulated).");
    complete(&w, "screening");
    return finish(out);
}

int sim_changes_consent(const struct sim_patient *p, struct arena *ar, struct sim_changes *out)
{
    begin(out, ar);
    struct cw w = {out, "screening_arm_1", 0};
    addi(&w, "cons_type", p->cons_type);
    if (p->cons_type == 1 || p->cons_type == 2) {
        add_dt(&w, "cons_dt", p->cons_s);
        if (p->cons_type == 2)
            addi(&w, "cons_rep_rel", 1);
    } else {
        add_dt(&w, "cons_enrol_dt", p->cons_s);
        add_dt(&w, "cons_confirm_dt", p->cons_s + 2 * 86400);
        addi(&w, "cons_confirm_by", 2);
        addi(&w, "cons_rep_rel", 1);
    }
    add(&w, "cons_version", "2.0");
    addi(&w, "cons_obtained_by", p->cons_by);
    add_yn(&w, "cons_copy", true);
    add_yn(&w, "cons_withdrawn", false);
    complete(&w, "consent");
    return finish(out);
}

/* ---- the course after enrolment -----------------------------------------------------------*/

static void write_baseline(struct cw *w, const struct sim_patient *p)
{
    add_dt(w, "bl_dt", p->baseline_s);
    addi(w, "bl_location", p->location);
    if (p->location <= 2)
        add_dt(w, "bl_icu_dt", p->baseline_s - 3600 * 6);
    addd(w, "bl_weight", p->weight_kg, 1);
    addi(w, "bl_height", p->height_cm);
    addi(w, "bl_ecog", p->ecog);
    add_date(w, "bl_dx_date", p->screen_s - 86400LL * (30 + p->index % 300));
    addi(w, "bl_dis_status", p->dis_status);
    add_yn(w, "bl_chemo_30d", p->chemo_30d);
    addi(w, "bl_hsct", p->hsct);
    if (p->hsct) {
        add_date(w, "bl_hsct_date", p->screen_s - 86400LL * 40);
        if (p->hsct == 2)
            addi(w, "bl_gvhd", 0);
    }
    add_code(w, "bl_immuno", "0", "1");
    add_yn(w, "bl_abx", p->abx);
    add_yn(w, "bl_plt_tx", p->plt_tx);
    add_yn(w, "bl_plasma_tx", p->plasma_tx);
    add_dt(w, "bl_lab_dt", p->baseline_s - 1800);
    addi(w, "bl_lab_source", p->lab_source);
    addi(w, "bl_hb", p->hb);
    addi(w, "bl_plt", p->plt);
    addn(w, "bl_wbc", p->wbc, 1);
    addn(w, "bl_anc", p->anc, 2);
    addd(w, "bl_pt_prol", p->pt_prol, 1);
    addn(w, "bl_inr", p->inr, 2);
    addn(w, "bl_fib", p->fib, 2);
    addi(w, "bl_ddimer_cat", p->ddimer_cat);
    addd(w, "bl_lactate", p->lactate, 1);
    addi(w, "bl_creat", p->creat);
    add_yn(w, "bl_rrt", false);
    addd(w, "bl_bili", p->bili, 1);
    addi(w, "bl_pao2", p->pao2);
    addi(w, "bl_fio2", p->fio2);
    addi(w, "bl_gcs", p->gcs);
    add_yn(w, "bl_altered", p->altered);
    addi(w, "bl_sbp", p->sbp);
    addi(w, "bl_dbp", p->dbp);
    add_yn(w, "bl_map_inv", false);
    addi(w, "bl_hr", p->hr);
    addi(w, "bl_rr", p->rr);
    addd(w, "bl_temp", p->temp, 1);
    addi(w, "bl_spo2", p->spo2);
    addi(w, "bl_resp", p->resp);
    add_yn(w, "bl_septic_shock", p->septic_shock);
    add_yn(w, "bl_vaso", p->ne > 0);
    if (p->ne > 0) {
        add_code(w, "bl_vaso_drugs", "1", "1");
        addn(w, "bl_ne", p->ne, 3);
    }
    addi(w, "bl_piv_attempts", p->piv_attempts);
    add_checks(w, "bl_io_reason", p->io_reason);
    add_checks(w, "bl_io_therapy", p->io_therapy);
    add(w, "bl_first_drug", p->first_drug);
    complete(w, "baseline");
}

static void write_placement(struct cw *w, const struct sim_patient *p, int i)
{
    const struct sim_placement *pl = &p->pl[i];
    w->instance = i + 1;
    addi(w, "iop_number", i + 1);
    add_dts(w, "iop_decision_dt", pl->decision_s);
    addi(w, "iop_device", pl->device);
    addi(w, "iop_gauge", pl->gauge);
    addi(w, "iop_length", pl->length_mm);
    addi(w, "iop_site", pl->site);
    addi(w, "iop_side", pl->side);
    addi(w, "iop_operator", pl->operator_role);
    addi(w, "iop_op_exp", pl->op_exp);
    add_yn(w, "iop_op_trained", pl->op_trained);
    add_yn(w, "iop_conscious", pl->is_conscious);
    add_yn(w, "iop_la", pl->has_la);
    if (pl->has_la) {
        add_code(w, "iop_la_type", "2", "1");
        addi(w, "iop_la_dose", 40);
    }
    addi(w, "iop_n_attempts", pl->nattempts);
    addi(w, "iop_site_bleed", pl->site_bleed);
    add_yn(w, "iop_success", pl->is_success);
    if (pl->is_success) {
        add_dts(w, "iop_confirm_dt", pl->confirm_s);
        add_code(w, "iop_confirm", "1", "1");
        if (pl->aspirate)
            add_code(w, "iop_confirm", "2", "1");
        add_code(w, "iop_confirm", "3", "1");
        add_yn(w, "iop_aspirate", pl->aspirate);
        add_dts(w, "iop_inf_start_dt", pl->inf_start_s);
    } else {
        addi(w, "iop_fail_next", pl->fail_next);
    }
    if (pl->is_conscious) {
        addi(w, "iop_pain_nrs", pl->pain_nrs);
        addi(w, "iop_pain_inf_nrs", pl->pain_inf_nrs);
    }
    complete(w, "io_procedure");
}

static void write_procedure(struct cw *w, const struct sim_patient *p)
{
    w->event = "io_procedure_arm_1";
    for (int i = 0; i < p->nplacements; i++)
        write_placement(w, p, i);
    int inst = 0;
    for (int i = 0; i < p->nplacements; i++) {
        const struct sim_placement *pl = &p->pl[i];
        for (int a = 0; a < pl->nattempts; a++) {
            const struct sim_attempt *at = &pl->att[a];
            w->instance = ++inst;
            addi(w, "att_placement", i + 1);
            addi(w, "att_number", a + 1);
            addi(w, "att_site", at->site);
            addi(w, "att_side", at->side);
            add_dts(w, "att_start_dt", at->start_s);
            add_dts(w, "att_end_dt", at->end_s);
            addi(w, "att_outcome", at->is_success ? 1 : 2);
            if (!at->is_success)
                addi(w, "att_fail_reason", at->fail_reason);
            complete(w, "io_attempt");
        }
    }
    for (int k = 0; k < p->ninfusions; k++) {
        const struct sim_infusion *in = &p->inf[k];
        w->instance = k + 1;
        addi(w, "inf_placement", in->placement);
        addi(w, "inf_type", in->type);
        if (in->drug)
            add(w, "inf_drug", in->drug);
        addn(w, "inf_volume", in->volume_ml, 1);
        add_dts(w, "inf_start_dt", in->start_s);
        add_dts(w, "inf_stop_dt", in->stop_s);
        addi(w, "inf_method", in->method);
        if (in->method == 3)
            addn(w, "inf_pump_rate", in->pump_rate_ml_h, 0);
        if (in->type >= 3 && in->type <= 6)
            add_yn(w, "inf_haemolysis", in->haemolysis);
        add_yn(w, "inf_as_planned", in->as_planned);
        if (!in->as_planned)
            addi(w, "inf_stop_reason", in->stop_reason);
        complete(w, "infusion");
    }
}

static void write_complications(struct cw *w, const struct sim_patient *p)
{
    int inst[4] = {0, 0, 0, 0};
    for (int k = 0; k < p->ncomps; k++) {
        const struct sim_complication *c = &p->comp[k];
        w->event = EV_COMP[c->event];
        w->instance = ++inst[c->event];
        addi(w, "comp_assess", c->assess);
        addi(w, "comp_placement", c->placement);
        addi(w, "comp_type", c->type);
        if (c->type == 4)
            add_code(w, "comp_fe_basis", "1", "1");
        if (c->type == 10)
            addi(w, "comp_pain_nrs", c->pain_nrs);
        add_date(w, "comp_onset", c->onset_s);
        addi(w, "comp_grade", c->grade);
        add_yn(w, "comp_serious", c->is_serious);
        if (c->is_serious)
            add_code(w, "comp_sae_crit", "3", "1");
        addi(w, "comp_related", c->related);
        add_code(w, "comp_action", c->grade >= 2 ? "2" : "1", "1");
        addi(w, "comp_outcome", c->outcome);
        if (c->outcome == 1)
            add_date(w, "comp_resolved", c->onset_s + 3 * 86400);
        complete(w, "complication");
    }
}

static void write_vitals(struct cw *w, const struct sim_patient *p)
{
    w->instance = 0;
    for (int k = 0; k < SIM_NTIMEPOINTS; k++) {
        const struct sim_vitals *v = &p->vit[k];
        w->event = EV_TP[k];
        addi(w, "hd_status", v->status);
        if (v->status == 1) {
            add_dt(w, "hd_dt", v->t_s);
            addi(w, "hd_sbp", v->sbp);
            addi(w, "hd_dbp", v->dbp);
            add_yn(w, "hd_map_inv", v->map_invasive);
            if (v->map_invasive)
                addi(w, "hd_map_meas", v->map_meas);
            addi(w, "hd_hr", v->hr);
            addi(w, "hd_rr", v->rr);
            addi(w, "hd_spo2", v->spo2);
            addd(w, "hd_lactate", v->lactate, 1);
            add_yn(w, "hd_vaso", v->on_vaso);
            if (v->on_vaso) {
                add_code(w, "hd_vaso_drugs", "1", "1");
                addn(w, "hd_ne", v->ne, 3);
            }
            addi(w, "hd_fluid_since", v->fluid_ml);
        }
        complete(w, "haemodynamics");
    }
}

static void write_removals(struct cw *w, const struct sim_patient *p)
{
    w->event = "removal_arm_1";
    int inst = 0;
    for (int i = 0; i < p->nplacements; i++) {
        const struct sim_placement *pl = &p->pl[i];
        if (!pl->is_removed)
            continue;
        w->instance = ++inst;
        addi(w, "rem_placement", i + 1);
        add_dt(w, "rem_insert_dt", pl->confirm_s);
        add_dt(w, "rem_dt", pl->removal_s);
        addi(w, "rem_reason", pl->removal_reason);
        addi(w, "rem_hemostasis_min", 3 + p->index % 5);
        bool bleed = false;
        for (int k = 0; k < p->ncomps; k++)
            bleed |= p->comp[k].type == 8 && p->comp[k].placement == i + 1;
        add_code(w, "rem_site_find", bleed ? "6" : "1", "1");
        add_yn(w, "rem_tip_culture", false);
        complete(w, "io_removal");
    }
}

static void write_efficacy(struct cw *w, const struct sim_patient *p)
{
    w->event = "t24h_arm_1";
    w->instance = 0;
    add_yn(w, "eff_delivered", p->eff_delivered);
    add_yn(w, "eff_other_access", p->eff_other_access);
    if (p->eff_other_access)
        add_code(w, "eff_other_type", p->eff_other_type == 1 ? "1" : "2", "1");
    if (p->eff_delivered) {
        add_dts(w, "eff_access_dt", p->eff_access_s);
        add_dts(w, "eff_drug_dt", p->eff_drug_s);
    }
    addi(w, "eff_grade_inv", p->eff_grade_inv);
    if (p->eff_disagrees)
        add(w, "eff_disagree", "Investigator's judgement differs from the algorithm (simulated).");
    complete(w, "efficacy");
}

static void write_followup(struct cw *w, const struct sim_patient *p)
{
    w->instance = 0;
    for (int k = 0; k < SIM_NFOLLOWUPS; k++) {
        const struct sim_followup *f = &p->fu[k];
        if (!f->is_done)
            continue;
        w->event = EV_FU[k];
        add_date(w, "fu_dt", f->date_s);
        addi(w, "fu_method", f->status == 3 ? 3 : k == 0 ? 1 : 2);
        addi(w, "fu_status", f->status);
        if (f->status == 1 || f->status == 3)
            add_date(w, "fu_last_alive", f->last_alive_s);
        if (f->status == 1) {
            addi(w, "fu_location", f->location);
            add_yn(w, "fu_site_insp", k == 0);
            if (k == 0)
                add_code(w, "fu_site_find", "1", "1");
        }
        if (f->status == 2) {
            add_date(w, "fu_death_date", f->death_s);
            addi(w, "fu_death_cause", f->cause);
        }
        complete(w, "follow_up");
    }
    w->event = "end_of_study_arm_1";
    addi(w, "eos_status", p->eos_status);
    add_date(w, "eos_date", p->eos_s);
    bool deviation = false;
    for (int i = 0; i < p->nplacements; i++)
        deviation |= p->pl[i].is_removed && p->pl[i].removal_s - p->pl[i].confirm_s > 24 * 3600;
    add_yn(w, "eos_deviation", deviation);
    if (deviation)
        add(w, "eos_deviation_desc", "IO dwell time beyond 24 h.");
    complete(w, "end_of_study");
}

int sim_changes_course(const struct sim_patient *p, struct arena *ar, struct sim_changes *out)
{
    begin(out, ar);
    struct cw w = {out, "baseline_arm_1", 0};
    write_baseline(&w, p);
    write_procedure(&w, p);
    write_complications(&w, p);
    write_vitals(&w, p);
    write_removals(&w, p);
    write_efficacy(&w, p);
    write_followup(&w, p);
    return finish(out);
}
