/* The cohort model (see cohort.h and docs/simulator.md, whose section numbers the comments
 * below cite as "sim §N"). Every probability and distribution here is a documented parameter;
 * changing one means changing docs/simulator.md too. */
#include "sim/cohort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const int sim_timepoint_min[SIM_NTIMEPOINTS] = {0, 15, 30, 60, 360, 1440};
const int sim_followup_day[SIM_NFOLLOWUPS] = {7, 28, 90};

/* Study calendar (sim §1): the first patient is screened on 2025-03-03 08:00 UTC; the
 * accrual period is 540 days whatever the cohort size. */
#define SIM_START_S 1740988800LL
#define SIM_ACCRUAL_DAYS 540.0
#define DAY_S 86400

/* Site codes of the protocol. */
enum { SITE_HUMERUS = 1, SITE_TIBIA = 2, SITE_DISTAL_TIBIA = 3, SITE_FEMUR = 4 };

static int clampi(double x, int lo, int hi)
{
    long v = lround(x);
    return v < lo ? lo : v > hi ? hi : (int)v;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static double round1(double x)
{
    return round(x * 10.0) / 10.0;
}

/* ---- the parameter table ------------------------------------------------------------------
 * Every figure the model draws from, in one place. Each comment names the row of
 * io-reference.md (the project's verified IO reference; sources in io-literature.md) it comes
 * from, with that row's mark: ✓ read in a source, ~ partly read / secondary, ? not confirmed
 * (an assumption); "A" marks an assumption with no row at all. docs/simulator.md lists the same
 * parameters with the same rows; tests/e2e/simulate_rates.sh reads the scalar ones from this
 * table and checks the rates a 5,000-patient cohort realises. Changing a value here changes
 * every seed's cohort. Baseline details that io-reference does not cover (location, ECOG, the
 * SOFA inputs, heart rate, and the like) stay in draw_baseline, all "A" (docs §3). */
struct sim_params {
    double screened_per_enrolled, screen_fail_w[4];
    double age_mean, age_sd, p_male, dx_w[12];
    double site_mix_default[SIM_NSITES];
    double plt_median, plt_sigma, anc_median, anc_sigma, p_dic, p_shock, shock_map_mean,
        shock_map_sd, p_responder;
    double first_attempt_tibia, first_attempt_humerus, first_attempt_other, obese_factor,
        further_attempt;
    double access_median_s, access_sigma, further_attempt_median_s, further_attempt_sigma;
    double method_w[3];
    double flow_humerus, flow_tibia, flow_distal, flow_cv, flow_max, flow_within_lo, flow_within_hi,
        gravity_lo, gravity_hi, p_no_gravity, pump_factor;
    double map_resp[SIM_NTIMEPOINTS], map_non[SIM_NTIMEPOINTS], map_calm[SIM_NTIMEPOINTS];
    double lac_resp[SIM_NTIMEPOINTS], lac_non[SIM_NTIMEPOINTS], lac_calm[SIM_NTIMEPOINTS];
    double p_extravasation, p_dislodge_humerus, p_dislodge_other, p_bleed, p_bleed_low_plt,
        p_infection, p_infection_neutropenic, p_osteomyelitis, p_compartment, p_fat_embolism,
        p_severe_pain;
    double dwell_median_h, dwell_sigma;
    double surv28, surv90, hr_shock, hr_dic, p_lost;
    double p_other_access, drug_median_min, drug_sigma, p_grade_disagrees;
    double lab_source_w[4], p_plasma_tx, p_aspirate, p_haemolysis;
};

static const struct sim_params SP = {
    /* "screened per enrolled ~1.4" ?; the reasons' split A */
    .screened_per_enrolled = 1.4,
    .screen_fail_w = {0.08, 0.10, 0.06, 0.0457},
    /* "age 18-65, median ~48" ?; "sex 58% male" ?; "diagnosis" ? (split of lymphoma and other
     * A): AML, ALL, NHL, Hodgkin, myeloma, MDS, aplastic, APL, CML, HLH, TMA, other */
    .age_mean = 47,
    .age_sd = 11,
    .p_male = 0.58,
    .dx_w = {35, 10, 16, 4, 10, 8, 5, 3, 2, 3, 2, 2},
    /* "Observed site mix" ✓ (PARAMEDIC-3 73.5% tibia / 17.1% humerus; US ED 88% tibia; BC 57/43),
     * replacing the simulator row "site" (? contradicted by practice data); humerus, tibia,
     * distal tibia, distal femur; the split of the rest A */
    .site_mix_default = {0.25, 0.70, 0.03, 0.02},
    /* "platelets: log-normal, median 25, 40% < 20" ? -> sigma ln(25/20)/z(0.60);
     * "ANC: median 0.6, 45% < 0.5" ? -> sigma ln(0.6/0.5)/z(0.55); "ISTH overt DIC ~20%" ?;
     * "septic shock at T0 ~55%; MAP ~58 ± 10" ?; "MAP change ... responders (~65%)" ? */
    .plt_median = 25,
    .plt_sigma = 0.881,
    .anc_median = 0.6,
    .anc_sigma = 1.450,
    .p_dic = 0.20,
    .p_shock = 0.55,
    .shock_map_mean = 58,
    .shock_map_sd = 10,
    .p_responder = 0.65,
    /* "first-attempt success: tibia 0.90, humerus 0.83, other 0.80 ... lower with obesity" ?
     * (within the published ranges ✓: tibia 0.89-0.98, humerus 0.60-0.97, sternal 0.73-0.95);
     * the obesity factor A; "further attempts succeed with p 0.8" ? (IVIO 92% within two ✓) */
    .first_attempt_tibia = 0.90,
    .first_attempt_humerus = 0.83,
    .first_attempt_other = 0.80,
    .obese_factor = 0.9,
    .further_attempt = 0.8,
    /* "time to access: log-normal, median ~60, IQR ~40-100" ? (ED median 52 s ✓); a further
     * attempt's time A */
    .access_median_s = 60,
    .access_sigma = 0.68,
    .further_attempt_median_s = 45,
    .further_attempt_sigma = 0.4,
    /* infusion method gravity, pressure bag, pump: A */
    .method_w = {0.15, 0.55, 0.30},
    /* "flow, patients (ED)" ✓ (Ong 2009: humerus 84 -> 153, tibia 73 -> 165 mL/min under a
     * pressure bag); the distal sites A (lower, as "flow, cadavers" ✓); "flow noise" ~
     * (SD 50-75% of the mean): a log-normal needle factor of SD 0.9, which the plausibility
     * limit ("flow 0-250 mL/min", a proposal) trims to 55-70%; within a needle ±10% A;
     * "gravity/pressure ratio 0.27-0.55" ✓; "flow noise" ~: no gravity flow in 3/20 + 5/22
     * insertions; the pump at 0.6 of the bag's flow A (no cap: each site keeps its median) */
    .flow_humerus = 153,
    .flow_tibia = 165,
    .flow_distal = 100,
    .flow_cv = 0.9,
    .flow_max = 250,
    .flow_within_lo = 0.9,
    .flow_within_hi = 1.1,
    .gravity_lo = 0.30,
    .gravity_hi = 0.55,
    .p_no_gravity = 8.0 / 42.0,
    .pump_factor = 0.6,
    /* "MAP change: +6 mmHg at 60 min, +10 at 6 h in responders" ? (the other points A);
     * "lactate clearance at 6 h: responders ~25%, non-responders ~0%" ? (other points A) */
    .map_resp = {0, 2, 4, 6, 10, 12},
    .map_non = {0, 0, 0, 0, 0, -2},
    .map_calm = {0, 1, 2, 2, 3, 3},
    .lac_resp = {1, .97, .93, .88, .75, .6},
    .lac_non = {1, 1, 1, 1, 1, 1.05},
    .lac_calm = {1, .98, .95, .92, .85, .8},
    /* "complications per patient" (per working placement): extravasation 4% (✓ 3.7-3.8%);
     * "dislodgement 2-9%" ✓, humerus higher ✓ (33% in one early series): the split by site A
     * (overall ~4.6% with the default mix); bleeding 4% / 8% with platelets < 20 ?; local
     * infection 1% / 2% with ANC < 0.5 ?; "osteomyelitis" ✓ (< 0.1% registry, 0.4% survey):
     * 0.3%; compartment syndrome 0.2% (✓ < 0.1-0.6%); fat embolism 0.2% ?; severe pain A */
    .p_extravasation = 0.04,
    .p_dislodge_humerus = 0.08,
    .p_dislodge_other = 0.035,
    .p_bleed = 0.04,
    .p_bleed_low_plt = 0.08,
    .p_infection = 0.01,
    .p_infection_neutropenic = 0.02,
    .p_osteomyelitis = 0.003,
    .p_compartment = 0.002,
    .p_fat_embolism = 0.002,
    .p_severe_pain = 0.03,
    /* "dwell time: median 12, 10% beyond 24 h" ? (limit 24 h ✓): sigma ln 2 / z(0.90) */
    .dwell_median_h = 12,
    .dwell_sigma = 0.541,
    /* "mortality: 28-day ~35%, 90-day ~45%; HR ~1.8 septic shock, ~1.5 DIC" ? (28-day within
     * the published 23-59% ✓); lost to follow-up A */
    .surv28 = 0.65,
    .surv90 = 0.55,
    .hr_shock = 1.8,
    .hr_dic = 1.5,
    .p_lost = 0.03,
    /* efficacy: other access within 60 min, first drug's delay, the investigator's grade A */
    .p_other_access = 0.04,
    .drug_median_min = 4,
    .drug_sigma = 0.6,
    .p_grade_disagrees = 0.05,
    /* specimen source venous, arterial, capillary, IO needle A (IO blood disagrees with venous
     * ✓, how often it is drawn is not published); plasma before the puncture A; aspirate in
     * 75% (dry taps frequent in marrow infiltration ✓, the share A); haemolysis A */
    .lab_source_w = {0.60, 0.35, 0.02, 0.03},
    .p_plasma_tx = 0.15,
    .p_aspirate = 0.75,
    .p_haemolysis = 0.02,
};

/* Survival (sim §9): piecewise-constant hazard, day 0–28 and day 28–90, multiplied by the
 * hazard ratios of septic shock (1.8) and overt DIC (1.5). The two baseline hazards are solved
 * so that the cohort's average survival is 65% at day 28 and 55% at day 90. */
static double mix_survival(double cum_hazard)
{
    double s = 0;
    for (int sh = 0; sh < 2; sh++)
        for (int dic = 0; dic < 2; dic++) {
            double w = (sh ? SP.p_shock : 1 - SP.p_shock) * (dic ? SP.p_dic : 1 - SP.p_dic);
            double hr = (sh ? SP.hr_shock : 1) * (dic ? SP.hr_dic : 1);
            s += w * exp(-cum_hazard * hr);
        }
    return s;
}

/* The cumulative baseline hazard H with mix_survival(H) = target, by bisection. */
static double solve_cumhaz(double target)
{
    double lo = 0, hi = 10;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (mix_survival(mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

const char *const sim_site_names[SIM_NSITES] = {"humerus", "tibia", "distal_tibia", "femur"};
/* Practice is tibia-heavy: PARAMEDIC-3's IO arm 73.5% tibia, 17.1% humerus; a US ED cohort 88%
 * tibia; the BC registry 57% / 43% (io-reference.md, "Observed site mix"). The default keeps
 * some distal tibia and, rarely in adults, distal femur (assumption). */
const double *const sim_site_mix_default = SP.site_mix_default;

int sim_site_mix_parse(const char *s, double out[SIM_NSITES], struct err *e)
{
    double w[SIM_NSITES] = {0}, sum = 0;
    const char *p = s ? s : "";
    while (*p) {
        const char *eq = strchr(p, '='), *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end)
            return err_set_field(e, ERR_USAGE, "site-mix",
                                 "--site-mix: '%.*s' is not SITE=WEIGHT (sites: humerus, tibia, "
                                 "distal_tibia, femur)",
                                 (int)(end - p), p);
        int k = -1;
        for (int i = 0; i < SIM_NSITES; i++)
            if (strlen(sim_site_names[i]) == (size_t)(eq - p) &&
                strncmp(p, sim_site_names[i], (size_t)(eq - p)) == 0)
                k = i;
        char num[32];
        char *stop = NULL;
        double v = -1;
        if ((size_t)(end - eq - 1) < sizeof num) {
            memcpy(num, eq + 1, (size_t)(end - eq - 1));
            num[end - eq - 1] = '\0';
            v = strtod(num, &stop);
        }
        if (k < 0)
            return err_set_field(e, ERR_USAGE, "site-mix",
                                 "--site-mix: no site '%.*s' (humerus, tibia, distal_tibia, "
                                 "femur)",
                                 (int)(eq - p), p);
        if (!stop || stop == num || *stop || !(v >= 0) || v > 1e6)
            return err_set_field(e, ERR_USAGE, "site-mix",
                                 "--site-mix: the weight of %s must be a number >= 0, not '%.*s'",
                                 sim_site_names[k], (int)(end - eq - 1), eq + 1);
        w[k] = v;
        p = *end ? end + 1 : end;
    }
    for (int i = 0; i < SIM_NSITES; i++)
        sum += w[i];
    if (!(sum > 0))
        return err_set_field(e, ERR_USAGE, "site-mix",
                             "--site-mix: give at least one site a positive weight, e.g. "
                             "tibia=0.7,humerus=0.3");
    for (int i = 0; i < SIM_NSITES; i++)
        out[i] = w[i] / sum;
    return 0;
}

void sim_cohort_init(struct sim_cohort *c, uint64_t seed, long target, const double *site_mix)
{
    memset(c, 0, sizeof *c);
    memcpy(c->site_mix, site_mix ? site_mix : sim_site_mix_default, sizeof c->site_mix);
    c->seed = seed;
    c->target = target < 1 ? 1 : target;
    c->clock_s = SIM_START_S;
    c->mean_gap_s = SIM_ACCRUAL_DAYS * DAY_S / (SP.screened_per_enrolled * (double)c->target);
    double h28 = solve_cumhaz(SP.surv28), h90 = solve_cumhaz(SP.surv90);
    c->haz28 = h28 / 28.0;
    c->haz90 = (h90 - h28) / 62.0;
}

/* ---- screening (sim §2) -------------------------------------------------------------------*/

static void draw_screening(struct prng *r, const struct sim_cohort *c, struct sim_patient *p)
{
    const double w_fail[] = {1.0 / SP.screened_per_enrolled, SP.screen_fail_w[0],
                             SP.screen_fail_w[1], SP.screen_fail_w[2], SP.screen_fail_w[3]};
    p->screen_fail = (enum sim_screen_fail)prng_choice(r, w_fail, 5);
    p->scr_by = (int)prng_choice(r, (const double[]){0, 0.6, 0.2, 0.2}, 4);
    if (p->screen_fail == SIM_SF_AGE)
        p->age = prng_bernoulli(r, 0.2) ? (int)prng_int(r, 16, 17) : (int)prng_int(r, 66, 82);
    else
        p->age = clampi(prng_gauss(r, SP.age_mean, SP.age_sd), 18, 65);
    p->sex = prng_bernoulli(r, SP.p_male) ? 1 : 2;
    p->has_heme = true;
    /* Diagnosis mix (sim §2): AML 35, ALL 10, lymphoma 20 (NHL 16, Hodgkin 4), myeloma 10,
     * MDS 8, aplastic anaemia 5, other 12 (APL 3, CML 2, HLH 3, TMA 2, other 2). */
    static const int dx_code[] = {1, 2, 7, 6, 8, 9, 11, 3, 4, 12, 13, 99};
    p->heme_dx = dx_code[prng_choice(r, SP.dx_w, 12)];
    /* Planned site (sim §2): the cohort's mix, tibia-heavy by default. */
    static const int sites[SIM_NSITES] = {SITE_HUMERUS, SITE_TIBIA, SITE_DISTAL_TIBIA, SITE_FEMUR};
    p->site_plan = sites[prng_choice(r, c->site_mix, SIM_NSITES)];
    p->scr_consent = (int)prng_choice(r, (const double[]){0, 0.25, 0.45, 0.30}, 4);
    if (p->screen_fail == SIM_SF_CONSENT)
        p->scr_consent = 4;
    if (p->screen_fail == SIM_SF_CONTRAINDICATION)
        p->ci[prng_choice(r, (const double[]){0.3, 0.2, 0.2, 0.2, 0.1}, 5)] = true;
    p->ci[5] = prng_bernoulli(r, 0.05);
    p->rel_unsafe = false;
}

/* ---- baseline (sim §3) --------------------------------------------------------------------*/

static void draw_baseline(struct prng *r, struct sim_patient *p)
{
    p->baseline_s = p->screen_s + prng_int(r, 5 * 60, 20 * 60);
    p->location = (int)prng_choice(r, (const double[]){0, 0.6, 0.25, 0.1, 0.05}, 5);
    p->ecog = (int)prng_choice(r, (const double[]){0.05, 0.2, 0.3, 0.3, 0.15}, 5);
    p->dis_status = 1 + (int)prng_choice(r, (const double[]){0.2, 0.3, 0.1, 0.1, 0.25, 0.05}, 6);
    p->hsct = prng_bernoulli(r, 0.15) ? (prng_bernoulli(r, 0.6) ? 2 : 1) : 0;
    p->chemo_30d = prng_bernoulli(r, 0.6);
    p->weight_kg = round1(clampd(prng_gauss(r, 68, 13), 40, 140));
    p->height_cm = clampi(prng_gauss(r, p->sex == 1 ? 172 : 161, 7), 140, 200);
    p->abx = prng_bernoulli(r, 0.85);
    p->plt_tx = prng_bernoulli(r, 0.5);
    /* plasma before the puncture 15%; the panel mostly venous or arterial, 3% drawn through
     * the IO needle (assumptions) */
    p->plasma_tx = prng_bernoulli(r, SP.p_plasma_tx);
    p->lab_source = 1 + (int)prng_choice(r, SP.lab_source_w, 4);
    /* Platelets log-normal, median 25, 40% < 20: sigma = ln(25/20) / z(0.60) = 0.881. */
    p->plt = clampi(prng_lognormal(r, SP.plt_median, SP.plt_sigma), 1, 600);
    /* ANC log-normal, median 0.6, 45% < 0.5: sigma = ln(0.6/0.5) / z(0.55) = 1.450. */
    p->anc = round(clampd(prng_lognormal(r, SP.anc_median, SP.anc_sigma), 0.01, 60) * 100) / 100;
    p->wbc = round1(p->anc * prng_range(r, 1.2, 2.5) + 0.1);
    p->hb = clampi(prng_gauss(r, 72, 12), 35, 150);
    /* Overt DIC in ~20% (sim §3): strong D-dimer rise, prolonged PT, low fibrinogen. */
    bool dic = prng_bernoulli(r, SP.p_dic);
    if (dic) {
        p->ddimer_cat = 3;
        p->pt_prol = round1(prng_range(r, 3.0, 9.0));
        p->fib = round(prng_range(r, 0.5, 1.6) * 100) / 100;
        if (p->plt >= 50) /* the score needs the platelet points too */
            p->plt = (int)prng_int(r, 15, 49);
    } else {
        p->ddimer_cat = prng_bernoulli(r, 0.6) ? 2 : 0;
        p->pt_prol = round1(prng_range(r, 0.0, 2.9));
        p->fib = round(prng_range(r, 1.2, 4.5) * 100) / 100;
    }
    p->inr = round(clampd(1.0 + p->pt_prol * 0.12 + prng_gauss(r, 0, 0.05), 0.8, 5) * 100) / 100;
    p->septic_shock = prng_bernoulli(r, SP.p_shock);
    p->lactate = round1(clampd(prng_lognormal(r, p->septic_shock ? 4.5 : 1.8, 0.45), 0.4, 20));
    p->creat = clampi(prng_lognormal(r, 110, 0.5), 30, 900);
    p->bili = round1(clampd(prng_lognormal(r, 18, 0.7), 3, 400));
    p->resp = (int)prng_choice(r, (const double[]){0.35, 0.2, 0.15, 0.3}, 4);
    p->fio2 = p->resp == 0 ? 21 + 4 * (int)prng_int(r, 0, 5) : (int)prng_int(r, 30, 90);
    p->pao2 = clampi(prng_gauss(r, 85, 20), 45, 300);
    p->gcs = clampi(prng_gauss(r, 13, 2.5), 3, 15);
    p->altered = p->gcs < 15;
    p->temp = round1(clampd(prng_gauss(r, 38.2, 0.9), 35, 41.5));
    p->rr = clampi(prng_gauss(r, 24, 5), 10, 45);
    p->spo2 = clampi(prng_gauss(r, 94, 3), 80, 100);
    /* MAP at T0 (sim §6): septic shock ~58 ± 10 on norepinephrine; others: 20% hypotensive
     * without vasopressors (~60 ± 6), the rest ~76 ± 9. */
    double map;
    if (p->septic_shock) {
        map = prng_gauss(r, SP.shock_map_mean, SP.shock_map_sd);
        p->ne = round(clampd(prng_lognormal(r, 0.15, 0.6), 0.02, 1.5) * 1000) / 1000;
    } else {
        map = prng_bernoulli(r, 0.2) ? prng_gauss(r, 60, 6) : prng_gauss(r, 76, 9);
        p->ne = 0;
    }
    map = clampd(map, 35, 120);
    double pp = clampd(prng_gauss(r, 42, 8), 20, 70);
    p->sbp = clampi(map + 2.0 * pp / 3.0, 50, 220);
    p->dbp = clampi(map - pp / 3.0, 20, 130);
    p->hr = clampi(prng_gauss(r, p->septic_shock ? 116 : 102, 15), 50, 180);
    double map_calc = round((p->sbp + 2.0 * p->dbp) / 3.0);
    p->is_shock_t0 = map_calc < 65 || p->ne > 0;
    p->is_responder = prng_bernoulli(r, SP.p_responder);
    p->piv_attempts = (int)prng_int(r, 0, 4);
    p->io_reason = (1u << 1) | (prng_bernoulli(r, 0.5) ? 1u << 3 : 0) |
                   (p->is_shock_t0 ? 1u << 5 : 0) | (prng_bernoulli(r, 0.3) ? 1u << 2 : 0);
    p->io_therapy = (1u << 1) | (prng_bernoulli(r, 0.4) ? 1u << 3 : 0) |
                    (prng_bernoulli(r, 0.4) ? 1u << 4 : 0) | (p->ne > 0 ? 1u << 7 : 0) | (1u << 8);
    p->first_drug = p->ne > 0 ? "norepinephrine" : "piperacillin-tazobactam";
    /* Qualifying categories: every enrolled patient meets at least one. */
    p->qual[0] = (p->anc < 0.5 ? 1u << 1 : 0) | (p->plt < 20 ? 1u << 2 : 0) |
                 (p->hb < 60 ? 1u << 3 : 0) | (p->dis_status == 5 ? 1u << 4 : 0);
    p->qual[1] = (p->septic_shock ? 1u << 1 : 0) | (dic ? 1u << 3 : 0) |
                 (!p->septic_shock && prng_bernoulli(r, 0.3) ? 1u << 2 : 0);
    p->qual[2] = p->resp == 3 ? 1u << 3 : 0;
    p->qual[3] = p->hsct ? 1u << 1 : 0;
    p->qual[4] = 0;
    if (p->screen_fail == SIM_SF_NO_CATEGORY) {
        for (int i = 0; i < 5; i++)
            p->qual[i] = 0;
    } else if (!(p->qual[0] | p->qual[1] | p->qual[2] | p->qual[3])) {
        p->qual[4] = 1u << 4; /* needs life support and 24-hour monitoring */
    }
    for (int i = 0; i < 5; i++)
        if (!p->qual[i])
            p->qual[i] = 1u; /* "none of these" */
}

/* ---- IO procedure (sim §4) ----------------------------------------------------------------*/

static double first_attempt_p(int site, double bmi)
{
    double p = site == SITE_TIBIA     ? SP.first_attempt_tibia
               : site == SITE_HUMERUS ? SP.first_attempt_humerus
                                      : SP.first_attempt_other;
    return bmi >= 30 ? p * SP.obese_factor : p;
}

static void draw_placement(struct prng *r, struct sim_patient *p, struct sim_placement *pl,
                           int site, int64_t decision_s)
{
    double bmi = p->weight_kg / ((p->height_cm / 100.0) * (p->height_cm / 100.0));
    pl->site = site;
    pl->side = prng_bernoulli(r, 0.5) ? 1 : 2;
    static const int devices[] = {1, 3, 2, 5};
    pl->device = devices[prng_choice(r, (const double[]){0.85, 0.07, 0.05, 0.03}, 4)];
    pl->gauge = 15;
    pl->length_mm = site == SITE_HUMERUS || site == SITE_FEMUR || bmi >= 30 ? 45 : 25;
    static const int ops[] = {1, 2, 3, 4};
    pl->operator_role = ops[prng_choice(r, (const double[]){0.40, 0.25, 0.25, 0.10}, 4)];
    pl->op_exp = 1 + (int)prng_choice(r, (const double[]){0.3, 0.45, 0.25}, 3);
    pl->op_trained = prng_bernoulli(r, 0.9);
    pl->is_conscious = p->gcs >= 13 && p->resp != 3;
    pl->has_la = pl->is_conscious && prng_bernoulli(r, 0.85);
    pl->decision_s = decision_s;
    /* Time to access (sim §4): log-normal, median 60 s, IQR ~40–100 s (sigma 0.68), split into
     * preparation 40%, the attempt 30%, confirmation 30%; every further attempt adds a
     * log-normal median 45 s. */
    double access = prng_lognormal(r, SP.access_median_s, SP.access_sigma);
    /* The three parts add up to the drawn time (at least 1 s each), so decision -> confirmed
     * placement on a first-attempt success is the log-normal itself (median 60 s). */
    int64_t prep_s = llround(access * 0.4), ins_s = llround(access * 0.3);
    prep_s = prep_s < 1 ? 1 : prep_s;
    ins_s = ins_s < 1 ? 1 : ins_s;
    int64_t conf_s = llround(access) - prep_s - ins_s;
    conf_s = conf_s < 1 ? 1 : conf_s;
    int64_t t = decision_s + prep_s;
    pl->is_success = false;
    for (int a = 0; a < SIM_MAX_ATTEMPTS; a++) {
        struct sim_attempt *at = &pl->att[a];
        at->site = site;
        at->side = pl->side;
        at->start_s = t;
        at->end_s = t + ins_s;
        double ps = a == 0 ? first_attempt_p(site, bmi) : SP.further_attempt;
        at->is_success = prng_bernoulli(r, ps);
        pl->nattempts = a + 1;
        if (at->is_success) {
            pl->is_success = true;
            pl->confirm_s = at->end_s + conf_s;
            pl->inf_start_s = pl->confirm_s + prng_int(r, 10, 90);
            break;
        }
        static const int reasons[] = {1, 5, 4, 3, 7};
        at->fail_reason = reasons[prng_choice(r, (const double[]){0.3, 0.3, 0.15, 0.1, 0.15}, 5)];
        t = at->end_s + (int64_t)lround(prng_lognormal(r, SP.further_attempt_median_s,
                                                       SP.further_attempt_sigma));
    }
    pl->pain_nrs = pl->is_conscious ? clampi(prng_gauss(r, pl->has_la ? 3 : 5, 1.8), 0, 10) : -1;
    pl->pain_inf_nrs = pl->is_conscious ? clampi(prng_gauss(r, pl->has_la ? 2 : 6, 2), 0, 10) : -1;
    /* a dry tap in 25% of working needles (frequent in marrow infiltration, io-reference
     * "confirmation"; share an assumption); bleeding at the site more often with platelets
     * < 20 (assumption) */
    pl->aspirate = pl->is_success && prng_bernoulli(r, SP.p_aspirate);
    pl->site_bleed = (int)prng_choice(r,
                                      p->plt < 20 ? (const double[]){0.75, 0.17, 0.06, 0.02}
                                                  : (const double[]){0.87, 0.10, 0.025, 0.005},
                                      4);
}

/* Flow (sim §5). Pressurised (bag ~300 mmHg) mean by site from patients (Ong 2009, ED:
 * humerus 153, proximal tibia 165 mL/min; io-reference.md "flow, patients"); distal tibia and
 * femur 100 (assumption: below the proximal sites, as in cadavers). Between patients (needles)
 * a log-normal factor of mean 1 and SD 0.9, which after the 250 mL/min limit below leaves an SD
 * of 55-70% of the mean (io-reference: "SD 50-75% of the mean") and means of 130-140 mL/min at
 * the proximal sites ("of the order of 150"; medians 115-120, the proposal's ~100); gravity
 * 0.30-0.55 of the pressurised flow (io-reference: "0.27-0.55"), none at all for 19% of
 * needles (io-reference: 3/20 and 5/22 insertions); a pump at 60% of the pressurised flow
 * (assumption), with no cap below the plausibility limit, so each site keeps its own flow;
 * within a needle ±10%. */
static void draw_needle_flow(struct prng *r, struct sim_placement *pl)
{
    double s2 = log(1 + SP.flow_cv * SP.flow_cv);
    pl->flow_factor = exp(prng_gauss(r, -s2 / 2, sqrt(s2)));
    pl->gravity_ratio = prng_range(r, SP.gravity_lo, SP.gravity_hi);
    pl->no_gravity_flow = prng_bernoulli(r, SP.p_no_gravity);
}

static double draw_flow(struct prng *r, const struct sim_placement *pl, int method)
{
    double base = pl->site == SITE_HUMERUS ? SP.flow_humerus
                  : pl->site == SITE_TIBIA ? SP.flow_tibia
                                           : SP.flow_distal;
    /* at most 250 mL/min, the plausibility limit of io-reference.md (the log-normal's tail
     * only: medians stay the sites' own) */
    double f = fmin(base * pl->flow_factor * prng_range(r, SP.flow_within_lo, SP.flow_within_hi),
                    SP.flow_max);
    if (method == 1)
        return pl->no_gravity_flow ? 0 : f * pl->gravity_ratio;
    return method == 3 ? f * SP.pump_factor : f;
}

static void draw_infusions(struct prng *r, struct sim_patient *p, int placement_no)
{
    struct sim_placement *pl = &p->pl[placement_no - 1];
    draw_needle_flow(r, pl);
    bool gravity_failed = false;
    int n = (int)prng_int(r, 1, 4);
    int64_t t = pl->inf_start_s;
    for (int i = 0; i < n && p->ninfusions < SIM_MAX_INFUSIONS; i++) {
        struct sim_infusion *in = &p->inf[p->ninfusions++];
        in->placement = placement_no;
        if (i == 0) {
            in->type = 1;
            in->volume_ml = prng_bernoulli(r, 0.6) ? 500 : 1000;
        } else {
            static const int types[] = {1, 3, 4, 5, 7};
            in->type = types[prng_choice(r, (const double[]){0.3, 0.25, 0.2, 0.1, 0.15}, 5)];
            in->volume_ml = in->type == 1   ? 500
                            : in->type == 3 ? 300
                            : in->type == 4 ? 250
                            : in->type == 5 ? 250
                                            : 50;
        }
        if (in->type == 7)
            in->drug = p->ne > 0 ? "norepinephrine" : "meropenem";
        in->method = 1 + (int)prng_choice(r, SP.method_w, 3);
        if (in->method == 1 && gravity_failed)
            in->method = 2; /* once gravity gave nothing, the next bag goes under pressure */
        double flow = draw_flow(r, pl, in->method);
        in->start_s = t;
        if (flow <= 0) {
            /* no flow by gravity: stopped after a few minutes, nothing infused, recorded as
             * occlusion / no flow; the same product then runs under a pressure bag */
            gravity_failed = true;
            double want = in->volume_ml;
            in->volume_ml = 0;
            in->stop_s = t + prng_int(r, 3, 10) * 60;
            in->as_planned = false;
            in->stop_reason = 2;
            t = in->stop_s + prng_int(r, 60, 300);
            if (p->ninfusions >= SIM_MAX_INFUSIONS)
                break;
            struct sim_infusion *again = &p->inf[p->ninfusions++];
            *again = *in;
            in = again;
            in->volume_ml = want;
            in->method = 2;
            flow = draw_flow(r, pl, 2);
            in->start_s = t;
        }
        double minutes = in->volume_ml / flow;
        in->stop_s = in->start_s + (int64_t)lround(minutes * 60);
        if (in->method == 3)
            in->pump_rate_ml_h = round(flow * 60);
        in->as_planned = prng_bernoulli(r, 0.95);
        in->haemolysis = in->type >= 3 && in->type <= 6 && prng_bernoulli(r, SP.p_haemolysis);
        in->stop_reason = 0;
        if (!in->as_planned)
            in->stop_reason = 1 + (int)prng_choice(r, (const double[]){0.4, 0.3, 0.2, 0.1}, 4);
        t = in->stop_s + prng_int(r, 60, 1800);
    }
}

/* ---- haemodynamics (sim §6) ---------------------------------------------------------------*/

static void draw_vitals(struct prng *r, struct sim_patient *p)
{
    static const double ne_resp[] = {1, 1, 1, .9, .7, .4}, ne_non[] = {1, 1.05, 1.1, 1.2, 1.3, 1.3};
    static const double hr_resp[] = {0, -2, -4, -6, -10, -14}, hr_non[] = {0, 0, 1, 2, 2, 3};
    bool shock = p->is_shock_t0, resp = p->is_responder;
    const double *dmap = !shock ? SP.map_calm : resp ? SP.map_resp : SP.map_non;
    const double *lac = !shock ? SP.lac_calm : resp ? SP.lac_resp : SP.lac_non;
    const double *nef = resp ? ne_resp : ne_non;
    const double *dhr = resp || !shock ? hr_resp : hr_non;
    double map0 = (p->sbp + 2.0 * p->dbp) / 3.0, pp = p->sbp - p->dbp;
    bool art_line = prng_bernoulli(r, 0.3);
    int64_t fluid = 0;
    for (int k = 0; k < SIM_NTIMEPOINTS; k++) {
        struct sim_vitals *v = &p->vit[k];
        v->t_s = p->t0_s + sim_timepoint_min[k] * 60;
        if (p->has_death && p->death_s <= v->t_s) {
            v->status = 2;
            continue;
        }
        v->status = 1;
        double map = k == 0 ? map0 : map0 + dmap[k] + prng_gauss(r, 0, 4);
        map = clampd(map, 30, 140);
        v->sbp = clampi(map + 2.0 * pp / 3.0, 45, 230);
        v->dbp = clampi(map - pp / 3.0, 20, 140);
        v->map_invasive = art_line;
        v->map_meas = art_line ? clampi(map + prng_gauss(r, 0, 2), 25, 170) : 0;
        v->hr = k == 0 ? p->hr : clampi(p->hr + dhr[k] + prng_gauss(r, 0, 6), 40, 190);
        v->rr = clampi(p->rr + prng_gauss(r, 0, 2), 8, 50);
        v->spo2 = clampi(p->spo2 + prng_gauss(r, 0, 1.5), 75, 100);
        v->lactate =
            k == 0 ? p->lactate
                   : round1(clampd(p->lactate * lac[k] * prng_lognormal(r, 1, 0.08), 0.3, 25));
        v->on_vaso = p->ne > 0 && !(resp && k == 5 && prng_bernoulli(r, 0.5));
        v->ne = v->on_vaso ? round((k == 0 ? p->ne : p->ne * nef[k]) * 1000) / 1000 : 0;
        if (v->on_vaso && v->ne <= 0)
            v->ne = 0.01;
        v->epi = 0;
        fluid += k == 0 ? 0 : (int64_t)prng_int(r, 100, 600);
        v->fluid_ml = (int)fluid;
    }
}

/* ---- complications (sim §7) ---------------------------------------------------------------*/

static void add_comp(struct prng *r, struct sim_patient *p, int type, int placement)
{
    if (p->ncomps >= SIM_MAX_COMPS)
        return;
    struct sim_complication *c = &p->comp[p->ncomps++];
    const struct sim_placement *pl = &p->pl[placement - 1];
    c->type = type;
    c->placement = placement;
    c->related = 1 + (int)prng_choice(r, (const double[]){0.5, 0.3, 0.2}, 3);
    c->outcome = 1;
    switch (type) {
    case 5:
    case 7:
    case 10: /* extravasation, dislodgement, severe pain: during use */
        c->event = 0;
        c->assess = 0;
        c->onset_s = pl->inf_start_s + prng_int(r, 60, 3600);
        c->grade = prng_bernoulli(r, 0.7) ? 1 : 2;
        break;
    case 8: /* bleeding / haematoma: seen at removal */
        c->event = 2;
        c->assess = 1;
        c->onset_s = pl->removal_s;
        c->grade = prng_bernoulli(r, 0.95) ? (prng_bernoulli(r, 0.7) ? 1 : 2) : 3;
        break;
    case 1: /* local infection: 48–72 h or day 7 */
        c->event = 3;
        c->assess = prng_bernoulli(r, 0.5) ? 3 : 4;
        c->onset_s = p->t0_s + prng_int(r, 2, 6) * DAY_S;
        c->grade = prng_bernoulli(r, 0.7) ? 2 : 3;
        break;
    case 3: /* osteomyelitis: day 7 */
        c->event = 3;
        c->assess = 4;
        c->onset_s = p->t0_s + prng_int(r, 4, 7) * DAY_S;
        c->grade = 3;
        c->outcome = 2;
        break;
    default: /* 4 fat embolism, 6 compartment syndrome: within 24 h */
        c->event = 1;
        c->assess = 2;
        c->onset_s = p->t0_s + prng_int(r, 1, 20) * 3600;
        c->grade = prng_bernoulli(r, 0.7) ? 3 : 4;
        c->outcome = 2;
        break;
    }
    c->is_serious = c->grade >= 3;
    c->pain_nrs = type == 10 ? (int)prng_int(r, 7, 10) : -1;
}

static void draw_complications(struct prng *r, struct sim_patient *p, int placement)
{
    /* per working placement; the rows behind each probability are in the table (SP) */
    if (prng_bernoulli(r, SP.p_extravasation))
        add_comp(r, p, 5, placement);
    if (prng_bernoulli(r, p->pl[placement - 1].site == SITE_HUMERUS ? SP.p_dislodge_humerus
                                                                    : SP.p_dislodge_other))
        add_comp(r, p, 7, placement);
    if (prng_bernoulli(r, p->plt < 20 ? SP.p_bleed_low_plt : SP.p_bleed))
        add_comp(r, p, 8, placement);
    if (prng_bernoulli(r, p->anc < 0.5 ? SP.p_infection_neutropenic : SP.p_infection))
        add_comp(r, p, 1, placement);
    if (prng_bernoulli(r, SP.p_osteomyelitis))
        add_comp(r, p, 3, placement);
    if (prng_bernoulli(r, SP.p_compartment))
        add_comp(r, p, 6, placement);
    if (prng_bernoulli(r, SP.p_fat_embolism))
        add_comp(r, p, 4, placement);
    if (p->pl[placement - 1].pain_inf_nrs >= 0 && prng_bernoulli(r, SP.p_severe_pain))
        add_comp(r, p, 10, placement);
}

/* ---- survival and follow-up (sim §9) ------------------------------------------------------*/

static void draw_outcome(struct prng *r, const struct sim_cohort *c, struct sim_patient *p)
{
    bool dic_overt = (p->plt < 50    ? 2
                      : p->plt < 100 ? 1
                                     : 0) +
                         p->ddimer_cat +
                         (p->pt_prol > 6    ? 2
                          : p->pt_prol >= 3 ? 1
                                            : 0) +
                         (p->fib < 1 ? 1 : 0) >=
                     5;
    double hr = (p->septic_shock ? SP.hr_shock : 1) * (dic_overt ? SP.hr_dic : 1);
    double e = prng_exponential(r, 1.0); /* unit exponential: death at cumulative hazard e */
    double h1 = c->haz28 * hr * 28;
    double days;
    if (e < h1)
        days = e / (c->haz28 * hr);
    else
        days = 28 + (e - h1) / (c->haz90 * hr);
    p->has_death = days <= 90;
    /* Deaths in the first hours are counted from T0; keep at least 30 minutes. */
    if (days < 1.0 / 48)
        days = 1.0 / 48;
    p->death_s = p->t0_s + (int64_t)llround(days * DAY_S);
    /* 3% lost to follow-up between day 7 and day 90 (assumption). */
    p->is_lost = prng_bernoulli(r, SP.p_lost);
    int lost_after = p->is_lost ? (int)prng_int(r, 0, 1) : SIM_NFOLLOWUPS;
    for (int k = 0; k < SIM_NFOLLOWUPS; k++) {
        struct sim_followup *f = &p->fu[k];
        int64_t visit = p->t0_s + (int64_t)sim_followup_day[k] * DAY_S + prng_int(r, 0, 2) * DAY_S;
        f->is_done = true;
        f->date_s = visit;
        f->cause = 0;
        if (p->has_death && p->death_s <= visit) {
            f->status = 2;
            f->death_s = p->death_s;
            f->cause = p->septic_shock
                           ? 2
                           : 1 + (int)prng_choice(r, (const double[]){0.4, 0.2, 0.2, 0.1, 0.1}, 5);
            if (f->cause == 2 && !p->septic_shock)
                f->cause = 5;
        } else if (k > lost_after) {
            f->status = 3;
            f->last_alive_s = p->fu[lost_after].is_done ? p->fu[lost_after].date_s : p->t0_s;
        } else {
            f->status = 1;
            f->last_alive_s = visit;
            f->location = k == 0 ? 1 : 2 + (int)prng_int(r, 0, 1);
        }
    }
    if (p->has_death) {
        p->eos_status = 2;
        p->eos_s = p->death_s;
    } else if (p->is_lost) {
        p->eos_status = 4;
        p->eos_s = p->fu[SIM_NFOLLOWUPS - 1].date_s;
    } else {
        p->eos_status = 1;
        p->eos_s = p->fu[SIM_NFOLLOWUPS - 1].date_s;
    }
}

/* ---- the CRF's efficacy algorithm (sim §6) ------------------------------------------------*/

/* MAP at a time point exactly as the CRF's hd_map calc gives it from the values written. */
static double crf_map(const struct sim_vitals *v)
{
    return v->map_invasive ? v->map_meas : round((v->sbp + 2.0 * v->dbp) / 3.0);
}

/* eff_grade_calc of the protocol (eff_shock_t0, eff_map6_ok, eff_no_escal, eff_lact_clear6,
 * eff_target), evaluated on the values this patient's forms will hold: 1, 2, 3, or 0 when the
 * calc is blank. The investigator's grade must agree with it or come with a note
 * (eff_disagree is then required). */
static int crf_efficacy_grade(const struct sim_patient *p)
{
    if (!p->eff_delivered || p->eff_other_access)
        return 3;
    const struct sim_vitals *v0 = &p->vit[0], *v6 = &p->vit[4];
    int target;
    if (v0->status != 1)
        return 0;
    bool shock = crf_map(v0) < 65 || v0->on_vaso;
    if (shock) {
        bool has6 = v6->status == 1;
        bool map_ok = has6 && crf_map(v6) >= 65;
        bool no_escal = has6 && v6->ne <= v0->ne;
        bool lc_ok = has6 && v0->lactate > 0 &&
                     round((v0->lactate - v6->lactate) / v0->lactate * 100 * 10) / 10 >= 10;
        if ((map_ok && no_escal) || lc_ok)
            target = 1;
        else if (!has6)
            return 0;
        else
            target = 0;
    } else {
        double drug_min = round((double)(p->eff_drug_s - p->eff_access_s) / 60 * 10) / 10;
        target = drug_min <= 10;
    }
    return target ? 1 : 2;
}

/* ---- one patient --------------------------------------------------------------------------*/

static void draw_course(struct prng *r, const struct sim_cohort *c, struct sim_patient *p)
{
    /* Consent (sim §2): by type of the screening answer; deferred consent is confirmed later. */
    p->cons_type = p->scr_consent == 3 ? 3 : p->scr_consent;
    p->cons_by = 1 + (int)prng_choice(r, (const double[]){0.3, 0.4, 0.3}, 3);
    p->cons_s = p->screen_s + prng_int(r, 2 * 60, 10 * 60);
    draw_baseline(r, p);
    /* Placement 1 at the planned site; when it fails, placement 2 at the other bone. */
    int64_t decision = p->baseline_s + prng_int(r, 60, 900);
    draw_placement(r, p, &p->pl[0], p->site_plan, decision);
    p->nplacements = 1;
    if (!p->pl[0].is_success) {
        p->pl[0].fail_next = 1;
        /* the second try goes to another bone: humerus after a failed tibia or other site,
         * else proximal tibia */
        int other = p->site_plan == SITE_HUMERUS ? SITE_TIBIA : SITE_HUMERUS;
        int64_t last_end = p->pl[0].att[p->pl[0].nattempts - 1].end_s;
        draw_placement(r, p, &p->pl[1], other, last_end + prng_int(r, 30, 120));
        p->nplacements = 2;
        if (!p->pl[1].is_success)
            p->pl[1].fail_next = prng_bernoulli(r, 0.5) ? 2 : 3;
    }
    p->t0_s = p->pl[0].att[0].start_s;
    draw_outcome(r, c, p);
    int ok = p->pl[0].is_success ? 1 : p->nplacements > 1 && p->pl[1].is_success ? 2 : 0;
    for (int i = 0; i < p->nplacements; i++) {
        struct sim_placement *pl = &p->pl[i];
        if (!pl->is_success)
            continue;
        /* Dwell (sim §8): log-normal median 12 h, 10% beyond 24 h (sigma 0.541). */
        double dwell_h = prng_lognormal(r, SP.dwell_median_h, SP.dwell_sigma);
        pl->is_removed = true;
        pl->removal_s = pl->confirm_s + (int64_t)llround(dwell_h * 3600);
        pl->removal_reason = dwell_h > 24 ? 3 : prng_bernoulli(r, 0.6) ? 1 : 2;
        if (p->has_death && p->death_s < pl->removal_s) {
            pl->removal_s = p->death_s;
            pl->removal_reason = 7;
        }
        draw_infusions(r, p, i + 1);
        draw_complications(r, p, i + 1);
    }
    draw_vitals(r, p);
    /* Efficacy (sim §6): delivered when an IO works; another emergency access within 60 min in
     * 4% of the delivered (assumption); the first drug within a log-normal median 4 min. */
    p->eff_delivered = ok != 0;
    p->eff_other_access = !ok || prng_bernoulli(r, SP.p_other_access);
    p->eff_other_type = ok ? 1 : p->pl[p->nplacements - 1].fail_next == 2 ? 1 : 2;
    if (ok) {
        p->eff_access_s = p->pl[ok - 1].confirm_s;
        p->eff_drug_s = p->eff_access_s +
                        (int64_t)llround(prng_lognormal(r, SP.drug_median_min, SP.drug_sigma) * 60);
    }
    /* The investigator grades efficacy: agreeing with the CRF's algorithm (eff_grade_calc) in
     * 95% (assumption), else one grade off, with a note; when the algorithm gives no grade,
     * by the patient's course. */
    int calc = crf_efficacy_grade(p);
    p->eff_grade_inv = calc ? calc : !ok ? 3 : p->is_responder || !p->is_shock_t0 ? 1 : 2;
    p->eff_disagrees = calc && prng_bernoulli(r, SP.p_grade_disagrees);
    if (p->eff_disagrees)
        p->eff_grade_inv = calc == 1 ? 2 : calc - 1;
}

bool sim_cohort_next(struct sim_cohort *c, struct sim_patient *p)
{
    if (c->nenrolled >= c->target)
        return false;
    struct prng r;
    prng_seed(&r, c->seed, (uint64_t)c->nscreened);
    memset(p, 0, sizeof *p);
    p->index = c->nscreened++;
    c->clock_s += (int64_t)llround(prng_exponential(&r, 1.0 / c->mean_gap_s));
    p->screen_s = c->clock_s;
    draw_screening(&r, c, p);
    p->is_enrolled = p->screen_fail == SIM_SF_NONE;
    /* The course is drawn for screen failures too (then discarded), so a patient's stream
     * position never depends on the screening outcome of anyone else. */
    draw_course(&r, c, p);
    if (p->is_enrolled)
        c->nenrolled++;
    return true;
}
