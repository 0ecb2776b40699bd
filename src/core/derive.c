/* Endpoint derivations, part 1 (see derive.h): the screening row, and per subject the IO
 * placements, attempts, infusions, subgroup flags and overall survival. Haemodynamics,
 * efficacy and complications are in derive_hd.c. Section numbers are those of docs/sap.md. */
#include "core/derive.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/derive_int.h"
#include "core/schedule.h"

#define DAY_S 86400.0

/* ---- small helpers ------------------------------------------------------------------------*/

bool derive_dv_num(struct vtab *v, const char *event, int instance, const char *field, double *out)
{
    return vtab_num(v, event, instance, field, out);
}

bool derive_dv_int(struct vtab *v, const char *event, int instance, const char *field, int *out)
{
    double x;
    if (!vtab_num(v, event, instance, field, &x) || x != floor(x) || fabs(x) > 1e6)
        return false;
    *out = (int)x;
    return true;
}

int derive_dv_bool(struct vtab *v, const char *event, int instance, const char *field)
{
    double x;
    if (!vtab_num(v, event, instance, field, &x))
        return -1;
    return x != 0;
}

bool derive_parse_time(const char *s, double *out)
{
    if (!s)
        return false;
    char buf[SCHEDULE_WALLCLOCK_LEN];
    size_t len = strlen(s);
    if (len == 10) { /* a date counts at 12:00 */
        memcpy(buf, s, 10);
        memcpy(buf + 10, " 12:00", sizeof " 12:00");
        s = buf;
    }
    long long t;
    if (schedule_parse_wallclock(s, &t) != 0)
        return false;
    *out = (double)t;
    return true;
}

bool derive_dv_time(struct vtab *v, const char *event, int instance, const char *field, double *out)
{
    return derive_parse_time(vtab_get(v, event, instance, field, NULL), out);
}

/* A coded choice's dataset value (derive_level_of) into a cell. */
static int set_level(struct atable *t, size_t row, size_t col, struct vtab *v, const char *event,
                     int instance, const char *field, const struct derive_level *m)
{
    return atable_set(t, row, col, derive_level_of(vtab_get(v, event, instance, field, NULL), m));
}

/* ---- screening (SAP §2) -------------------------------------------------------------------*/

/* 1 when any of the fields is 1, 0 when all are 0, -1 otherwise. */
static int any_of(struct vtab *v, const char *const *fields)
{
    int res = 0;
    for (; *fields; fields++) {
        int b = derive_dv_bool(v, EV_SCREEN, 0, *fields);
        if (b == 1)
            return 1;
        if (b < 0)
            res = -1;
    }
    return res;
}

static int set_bool(struct atable *t, size_t row, size_t col, int b)
{
    return b < 0 ? 0 : atable_set_int(t, row, col, b);
}

static int derive_screening_row(struct adataset *ds, struct vtab *v, bool in_fas)
{
    static const char *const contra[] = {"exc_fracture",
                                         "exc_prosthesis",
                                         "exc_recent_io",
                                         "exc_skin",
                                         "exc_landmarks",
                                         "exc_relative",
                                         NULL};
    struct atable *t = &ds->t[ADS_SCREENING];
    size_t r;
    int rc = atable_add_row(t, &r);
    if (rc)
        return rc;
    const char *date = vtab_get(v, EV_SCREEN, 0, "scr_date", NULL);
    rc |= atable_set(t, r, SCR_SCREENING_NO, v->screening_no);
    rc |= atable_set(t, r, SCR_SUBJECT_ID, v->study_id);
    rc |= atable_set(t, r, SCR_DATE, date);
    rc |= atable_set(t, r, SCR_AGE, vtab_get(v, EV_SCREEN, 0, "age", NULL));
    rc |= set_bool(t, r, SCR_INC_AGE, derive_dv_bool(v, EV_SCREEN, 0, "inc_age"));
    rc |= set_bool(t, r, SCR_INC_HEME, derive_dv_bool(v, EV_SCREEN, 0, "inc_heme"));
    rc |= set_bool(t, r, SCR_INC_CATEGORY, derive_dv_bool(v, EV_SCREEN, 0, "inc_category"));
    rc |= set_bool(t, r, SCR_EXC_CONTRAINDICATION, any_of(v, contra));
    rc |= set_bool(t, r, SCR_EXC_CONSENT, derive_dv_bool(v, EV_SCREEN, 0, "exc_consent"));
    rc |= set_bool(t, r, SCR_ELIGIBLE, derive_dv_bool(v, EV_SCREEN, 0, "eligible"));
    rc |= atable_set_int(t, r, SCR_ENROLLED, v->is_enrolled);
    if (v->is_enrolled)
        rc |= atable_set(t, r, SCR_ENROL_DATE, date);
    rc |= atable_set_int(t, r, SCR_IN_FAS, in_fas);
    return rc ? ERR_NOMEM : 0;
}

/* ---- IO placements and attempts (SAP §4.1, §5.2, §5.4) ------------------------------------*/

#define MAX_PL 16

struct placement {
    int number;
    int instance;
    const char *site_code;
    bool has_decision, has_confirm, has_first_start, success;
    double decision, confirm, first_start;
    int nattempts;        /* attempt forms for this placement */
    int first_attempt_no; /* lowest attempt number seen */
    int first_attempt_ok; /* outcome of that attempt: 1, 0, -1 unknown */
    int nsuccess;
};

static struct placement *find_pl(struct placement *pl, int n, int number)
{
    for (int i = 0; i < n; i++)
        if (pl[i].number == number)
            return &pl[i];
    return NULL;
}

static int cmp_pl(const void *a, const void *b)
{
    const struct placement *x = a, *y = b;
    return (x->number > y->number) - (x->number < y->number);
}

/* The last time anything was observed for the subject (haemodynamics), for dwell times
 * without a removal time (SAP §5.4). */
static bool last_observation(struct vtab *v, double *out)
{
    bool has = false;
    for (int k = 0; k < DERIVE_NTP; k++) {
        double t;
        if (derive_dv_time(v, derive_timepoints[k].code, 0, "hd_dt", &t) && (!has || t > *out)) {
            *out = t;
            has = true;
        }
    }
    return has;
}

struct subj_acc {
    int npl;
    struct placement pl[MAX_PL];
    int n_attempts, n_success;
    double io_hours;
    bool has_io_hours, dwell_gt24;
};

static int derive_placements(struct adataset *ds, struct vtab *v, struct subj_acc *a)
{
    int rc = 0;
    static const char *const pl_fields[] = {"iop_number", "iop_site"};
    for (int i = vtab_next_instance_any(v, EV_PROC, pl_fields, 2, 0); i && a->npl < MAX_PL;
         i = vtab_next_instance_any(v, EV_PROC, pl_fields, 2, i)) {
        int num;
        const char *site = vtab_get(v, EV_PROC, i, "iop_site", NULL);
        bool has_num = derive_dv_int(v, EV_PROC, i, "iop_number", &num);
        if (!has_num && !site)
            continue;
        struct placement *p = &a->pl[a->npl++];
        memset(p, 0, sizeof *p);
        p->number = has_num ? num : i;
        p->instance = i;
        p->site_code = site;
        p->has_decision = derive_dv_time(v, EV_PROC, i, "iop_decision_dt", &p->decision);
        p->success = derive_dv_bool(v, EV_PROC, i, "iop_success") == 1;
        p->has_confirm = p->success && derive_dv_time(v, EV_PROC, i, "iop_confirm_dt", &p->confirm);
        p->first_attempt_ok = -1;
    }
    qsort(a->pl, (size_t)a->npl, sizeof a->pl[0], cmp_pl);

    /* Attempts: each attempt form names its placement and its number. */
    struct atable *at = &ds->t[ADS_ATTEMPTS];
    for (int i = vtab_next_instance(v, EV_PROC, "att_number", 0); i;
         i = vtab_next_instance(v, EV_PROC, "att_number", i)) {
        int pn, an;
        if (!derive_dv_int(v, EV_PROC, i, "att_number", &an))
            continue;
        if (!derive_dv_int(v, EV_PROC, i, "att_placement", &pn))
            pn = 1;
        struct placement *p = find_pl(a->pl, a->npl, pn);
        int outcome = -1;
        double x;
        if (derive_dv_num(v, EV_PROC, i, "att_outcome", &x))
            outcome = x == 1;
        double start, end;
        bool has_start = derive_dv_time(v, EV_PROC, i, "att_start_dt", &start);
        bool has_end = derive_dv_time(v, EV_PROC, i, "att_end_dt", &end);
        a->n_attempts++;
        a->n_success += outcome == 1;
        if (p) {
            p->nattempts++;
            p->nsuccess += outcome == 1;
            if (p->first_attempt_no == 0 || an < p->first_attempt_no) {
                p->first_attempt_no = an;
                p->first_attempt_ok = outcome;
                p->has_first_start = has_start;
                p->first_start = start;
            }
        }
        size_t r;
        if ((rc = atable_add_row(at, &r)))
            return rc;
        const char *site = vtab_get(v, EV_PROC, i, "att_site", NULL);
        rc |= atable_set(at, r, ATT_SUBJECT_ID, v->study_id);
        rc |= atable_set_int(at, r, ATT_PLACEMENT, pn);
        rc |= atable_set_int(at, r, ATT_ATTEMPT, an);
        rc |= atable_set(at, r, ATT_SITE,
                         derive_level_of(site ? site
                                         : p  ? p->site_code
                                              : NULL,
                                         derive_sites));
        rc |= atable_set(at, r, ATT_START_DT, vtab_get(v, EV_PROC, i, "att_start_dt", NULL));
        rc |= atable_set_opt(at, r, ATT_DURATION_S, has_start && has_end, end - start);
        if (outcome >= 0)
            rc |= atable_set_int(at, r, ATT_SUCCESS, outcome);
    }

    /* Removal forms: dwell time per placement. */
    struct atable *pt = &ds->t[ADS_PLACEMENTS];
    static const char *const rem_fields[] = {"rem_dt", "rem_placement"};
    double last_obs = 0;
    bool has_last = last_observation(v, &last_obs);
    for (int k = 0; k < a->npl; k++) {
        struct placement *p = &a->pl[k];
        int i = p->instance;
        /* A placement recorded without attempt forms: take its attempt count from the CRF. */
        int n;
        if (p->nattempts == 0 && derive_dv_int(v, EV_PROC, i, "iop_n_attempts", &n) && n >= 1) {
            p->nattempts = n;
            p->first_attempt_no = 1;
            p->first_attempt_ok = n == 1 && p->success;
            a->n_attempts += n;
            a->n_success += p->success;
        }
        bool has_rem = false, has_ins = false;
        double rem = 0, ins = 0;
        const char *rem_s = NULL;
        for (int j = vtab_next_instance_any(v, EV_REMOVAL, rem_fields, 2, 0); j;
             j = vtab_next_instance_any(v, EV_REMOVAL, rem_fields, 2, j)) {
            int rp;
            if (!derive_dv_int(v, EV_REMOVAL, j, "rem_placement", &rp))
                rp = 1;
            if (rp != p->number)
                continue;
            rem_s = vtab_get(v, EV_REMOVAL, j, "rem_dt", NULL);
            has_rem = derive_parse_time(rem_s, &rem);
            has_ins = derive_dv_time(v, EV_REMOVAL, j, "rem_insert_dt", &ins);
        }
        if (!has_ins && p->has_confirm) {
            ins = p->confirm;
            has_ins = true;
        }
        bool to_last = false;
        if (p->success && has_ins && !has_rem && has_last && last_obs >= ins) {
            rem = last_obs;
            has_rem = to_last = true;
        }
        bool has_dwell = p->success && has_ins && has_rem && rem >= ins;
        double dwell_h = has_dwell ? (rem - ins) / 3600.0 : 0;
        if (has_dwell) {
            a->io_hours += dwell_h;
            a->has_io_hours = true;
            a->dwell_gt24 |= dwell_h > 24;
        }
        size_t r;
        if ((rc = atable_add_row(pt, &r)))
            return rc;
        rc |= atable_set(pt, r, PL_SUBJECT_ID, v->study_id);
        rc |= atable_set_int(pt, r, PL_PLACEMENT, p->number);
        rc |= set_level(pt, r, PL_DEVICE, v, EV_PROC, i, "iop_device", derive_devices);
        rc |= atable_set(pt, r, PL_GAUGE, vtab_get(v, EV_PROC, i, "iop_gauge", NULL));
        rc |= atable_set(pt, r, PL_LENGTH, vtab_get(v, EV_PROC, i, "iop_length", NULL));
        rc |= atable_set(pt, r, PL_SITE, derive_level_of(p->site_code, derive_sites));
        rc |= set_level(pt, r, PL_SIDE, v, EV_PROC, i, "iop_side", derive_sides);
        rc |= set_level(pt, r, PL_OPERATOR, v, EV_PROC, i, "iop_operator", derive_operators);
        rc |= atable_set_int(pt, r, PL_N_ATTEMPTS, p->nattempts);
        rc |= atable_set_int(pt, r, PL_SUCCESS, p->success);
        rc |= atable_set(pt, r, PL_DECISION_DT, vtab_get(v, EV_PROC, i, "iop_decision_dt", NULL));
        rc |= atable_set(pt, r, PL_CONFIRM_DT, vtab_get(v, EV_PROC, i, "iop_confirm_dt", NULL));
        rc |= atable_set_opt(pt, r, PL_ACCESS_S, p->has_confirm && p->has_decision,
                             p->confirm - p->decision);
        rc |= atable_set_opt(pt, r, PL_PUNCTURE_ACCESS_S, p->has_confirm && p->has_first_start,
                             p->confirm - p->first_start);
        if (has_dwell) {
            rc |= atable_set(pt, r, PL_REMOVAL_DT, to_last ? NULL : rem_s);
            rc |= atable_set_num(pt, r, PL_DWELL_H, dwell_h);
            rc |= atable_set_int(pt, r, PL_DWELL_FROM_LAST_OBS, to_last);
            rc |= atable_set_int(pt, r, PL_DWELL_GT24, dwell_h > 24);
        }
    }
    return rc ? ERR_NOMEM : 0;
}

/* ---- infusions (SAP §5.1) -----------------------------------------------------------------*/

static int derive_infusions(struct adataset *ds, struct vtab *v, const struct subj_acc *a,
                            const struct derive_subject *s, double *vol30, bool *has_vol30)
{
    struct atable *t = &ds->t[ADS_INFUSIONS];
    int rc = 0;
    *vol30 = 0;
    *has_vol30 = s->has_t0;
    for (int i = vtab_next_instance(v, EV_PROC, "inf_volume", 0); i;
         i = vtab_next_instance(v, EV_PROC, "inf_volume", i)) {
        double vol, start, stop;
        int pn;
        bool has_vol = derive_dv_num(v, EV_PROC, i, "inf_volume", &vol);
        bool has_start = derive_dv_time(v, EV_PROC, i, "inf_start_dt", &start);
        bool has_stop = derive_dv_time(v, EV_PROC, i, "inf_stop_dt", &stop);
        if (!derive_dv_int(v, EV_PROC, i, "inf_placement", &pn))
            pn = 1;
        const struct placement *p = find_pl((struct placement *)a->pl, a->npl, pn);
        const char *site = p ? derive_level_of(p->site_code, derive_inf_sites) : NULL;
        bool has_dur = has_start && has_stop;
        double dur = has_dur ? (stop - start) / 60.0 : 0;
        size_t r;
        if ((rc = atable_add_row(t, &r)))
            return rc;
        rc |= atable_set(t, r, INF_SUBJECT_ID, v->study_id);
        rc |= atable_set_int(t, r, INF_INFUSION, i);
        rc |= atable_set_int(t, r, INF_PLACEMENT, pn);
        rc |= atable_set(t, r, INF_SITE, site);
        rc |= set_level(t, r, INF_TYPE, v, EV_PROC, i, "inf_type", derive_inf_types);
        rc |= set_level(t, r, INF_METHOD, v, EV_PROC, i, "inf_method", derive_methods);
        rc |= atable_set_opt(t, r, INF_VOLUME, has_vol, vol);
        rc |= atable_set(t, r, INF_START_DT, vtab_get(v, EV_PROC, i, "inf_start_dt", NULL));
        rc |= atable_set_opt(t, r, INF_DURATION_MIN, has_dur, dur);
        rc |= atable_set_opt(t, r, INF_FLOW, has_vol && has_dur && dur > 0, vol / dur);
        /* Volume in [T0, T0 + 30 min], pro rata at the episode's mean rate. */
        if (s->has_t0 && has_vol && has_dur && dur > 0) {
            double lo = fmax(start, s->t0), hi = fmin(stop, s->t0 + 1800.0);
            if (hi > lo)
                *vol30 += vol * (hi - lo) / (stop - start);
        }
    }
    return rc ? ERR_NOMEM : 0;
}

/* ---- overall survival (SAP §4.3) ----------------------------------------------------------*/

static void derive_os(struct vtab *v, const struct derive_subject *s, bool *has, double *days,
                      int *status)
{
    static const char *const fu[] = {"day7_arm_1", "day28_arm_1", "day90_arm_1"};
    static const double fu_day[] = {7, 28, 90};
    *has = false;
    if (!s->has_t0)
        return;
    bool dead = false, has_alive = false;
    double death = 0, alive = s->t0, t;
    for (int k = 0; k < 3; k++) {
        double st;
        if (!derive_dv_num(v, fu[k], 0, "fu_status", &st))
            continue;
        if (st == 2 && derive_dv_time(v, fu[k], 0, "fu_death_date", &t)) {
            if (!dead || t < death)
                death = t;
            dead = true;
        } else if (st == 2) {
            /* a death recorded without a date (docs/sap.md §4.3): an event at the midpoint
             * between the date last known alive and the contact that recorded it (its date,
             * else the visit's nominal day after T0) */
            double seen;
            if (!derive_dv_time(v, fu[k], 0, "fu_dt", &seen))
                seen = s->t0 + fu_day[k] * 86400.0;
            t = seen > alive ? alive + (seen - alive) / 2 : alive;
            if (!dead || t < death)
                death = t;
            dead = true;
        } else if ((st == 1 || st == 3) &&
                   (derive_dv_time(v, fu[k], 0, "fu_last_alive", &t) ||
                    (st == 1 && derive_dv_time(v, fu[k], 0, "fu_dt", &t)))) {
            /* alive at the contact when "last known alive" was not filled in */
            if (t > alive)
                alive = t;
            has_alive = true;
        }
    }
    double eos;
    if (!dead && derive_dv_num(v, EV_EOS, 0, "eos_status", &eos) && eos == 2 &&
        derive_dv_time(v, EV_EOS, 0, "eos_date", &t)) {
        dead = true;
        death = t;
    }
    if (!dead && !has_alive) {
        /* No follow-up contact: censored at the last observation. */
        double last = 0;
        if (last_observation(v, &last) && last > alive)
            alive = last;
    }
    double d = ((dead ? death : alive) - s->t0) / DAY_S;
    if (d < 0)
        d = 0;
    *has = true;
    if (dead && d <= 90) {
        *days = d;
        *status = 1;
    } else {
        *days = d > 90 ? 90 : d;
        *status = 0;
    }
}

/* ---- the subject row ----------------------------------------------------------------------*/

static int set_from(struct atable *t, size_t r, size_t col, struct vtab *v, const char *ev,
                    const char *field)
{
    return atable_set(t, r, col, vtab_get(v, ev, 0, field, NULL));
}

static int derive_baseline(struct atable *t, size_t r, struct vtab *v)
{
    int rc = 0;
    double plt = 0, anc = 0, x, w, h;
    rc |= set_from(t, r, SUB_AGE, v, EV_SCREEN, "age");
    rc |= set_level(t, r, SUB_SEX, v, EV_SCREEN, 0, "sex", derive_sexes);
    rc |= set_level(t, r, SUB_HEME_DX, v, EV_SCREEN, 0, "heme_dx", derive_diagnoses);
    if (derive_dv_num(v, EV_BASE, 0, "bl_weight", &w) &&
        derive_dv_num(v, EV_BASE, 0, "bl_height", &h) && h > 0)
        rc |= atable_set_num(t, r, SUB_BMI, round(w / (h / 100 * h / 100) * 10) / 10);
    rc |= set_from(t, r, SUB_ECOG, v, EV_BASE, "bl_ecog");
    rc |= set_from(t, r, SUB_SOFA, v, EV_BASE, "sofa_total");
    rc |= set_from(t, r, SUB_HB, v, EV_BASE, "bl_hb");
    rc |= set_from(t, r, SUB_LACTATE, v, EV_BASE, "bl_lactate");
    /* platelets, ANC and coagulation from blood drawn through the IO needle are left out
     * (docs/sap.md §7): IO blood does not agree with venous blood and clots readily */
    double src;
    bool io_lab = derive_dv_num(v, EV_BASE, 0, "bl_lab_source", &src) && src == 4;
    bool has_plt = !io_lab && derive_dv_num(v, EV_BASE, 0, "bl_plt", &plt);
    bool has_anc = !io_lab && derive_dv_num(v, EV_BASE, 0, "bl_anc", &anc);
    rc |= atable_set_opt(t, r, SUB_PLT, has_plt, plt);
    rc |= atable_set_opt(t, r, SUB_ANC, has_anc, anc);
    rc |= atable_set_opt(t, r, SUB_SG_PLT_LT20, has_plt, plt < 20);
    rc |= atable_set_opt(t, r, SUB_SG_ANC_LT05, has_anc, anc < 0.5);
    /* ISTH overt DIC (docs/sap.md §6): platelets, D-dimer category, PT prolongation,
     * fibrinogen; all four needed. */
    double pt, fib;
    int dd;
    if (has_plt && derive_dv_int(v, EV_BASE, 0, "bl_ddimer_cat", &dd) &&
        derive_dv_num(v, EV_BASE, 0, "bl_pt_prol", &pt) &&
        derive_dv_num(v, EV_BASE, 0, "bl_fib", &fib)) {
        int score = (plt < 50    ? 2
                     : plt < 100 ? 1
                                 : 0) +
                    dd +
                    (pt > 6    ? 2
                     : pt >= 3 ? 1
                               : 0) +
                    (fib < 1 ? 1 : 0);
        rc |= atable_set_int(t, r, SUB_DIC_SCORE, score);
        rc |= atable_set_int(t, r, SUB_SG_DIC, score >= 5);
    }
    if (derive_dv_num(v, EV_BASE, 0, "bl_resp", &x))
        rc |= atable_set_int(t, r, SUB_MECH_VENT, x == 3);
    if (derive_dv_num(v, EV_BASE, 0, "bl_hsct", &x))
        rc |= atable_set_int(t, r, SUB_SG_HSCT, x == 1 || x == 2);
    rc |= set_bool(t, r, SUB_SG_SEPTIC_SHOCK, derive_dv_bool(v, EV_BASE, 0, "bl_septic_shock"));
    return rc;
}

static int derive_subject_row(struct adataset *ds, struct vtab *v)
{
    struct atable *t = &ds->t[ADS_SUBJECTS];
    struct subj_acc *a = calloc(1, sizeof *a);
    if (!a)
        return ERR_NOMEM;
    size_t r;
    int rc = atable_add_row(t, &r);
    if (rc)
        goto out;
    if ((rc = derive_placements(ds, v, a)))
        goto out;
    struct derive_subject s = {v->study_id, false, 0, r};
    const struct placement *first = a->npl ? &a->pl[0] : NULL;
    /* T0 (SAP §3): first puncture of the first placement, else its decision time. */
    if (first && first->has_first_start) {
        s.has_t0 = true;
        s.t0 = first->first_start;
    } else if (first && first->has_decision) {
        s.has_t0 = true;
        s.t0 = first->decision;
    }
    bool in_fas = a->n_attempts > 0;
    rc |= atable_set(t, r, SUB_SUBJECT_ID, v->study_id);
    rc |= atable_set(t, r, SUB_SCREENING_NO, v->screening_no);
    rc |= atable_set(t, r, SUB_SITE, v->site);
    rc |= atable_set(t, r, SUB_ENROL_DATE, vtab_get(v, EV_SCREEN, 0, "scr_date", NULL));
    rc |= atable_set_int(t, r, SUB_IN_FAS, in_fas);
    rc |= derive_baseline(t, r, v);
    if (s.has_t0) {
        char buf[32];
        time_t ts = (time_t)s.t0;
        struct tm tm;
        if (!gmtime_r(&ts, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
            buf[0] = '\0';
        rc |= atable_set(t, r, SUB_T0, buf);
    }
    rc |= atable_set_int(t, r, SUB_N_PLACEMENTS, a->npl);
    if (first) {
        int i = first->instance;
        rc |= atable_set(t, r, SUB_FIRST_SITE, derive_level_of(first->site_code, derive_sites));
        if (first->site_code &&
            (strcmp(first->site_code, "1") == 0 || strcmp(first->site_code, "2") == 0))
            rc |= atable_set_int(t, r, SUB_SG_HUMERUS, strcmp(first->site_code, "1") == 0);
        rc |= set_level(t, r, SUB_FIRST_DEVICE, v, EV_PROC, i, "iop_device", derive_devices);
        rc |= set_level(t, r, SUB_FIRST_OPERATOR, v, EV_PROC, i, "iop_operator", derive_operators);
        rc |= atable_set_int(t, r, SUB_N_ATTEMPTS_FIRST, first->nattempts);
        if (in_fas && first->first_attempt_ok >= 0)
            rc |= atable_set_int(t, r, SUB_FIRST_ATTEMPT_SUCCESS, first->first_attempt_ok == 1);
        rc |= atable_set_opt(t, r, SUB_ACCESS_S, first->has_confirm && first->has_decision,
                             first->confirm - first->decision);
        rc |= atable_set_opt(t, r, SUB_PUNCTURE_ACCESS_S,
                             first->has_confirm && first->has_first_start,
                             first->confirm - first->first_start);
    }
    rc |= atable_set_int(t, r, SUB_N_ATTEMPTS, a->n_attempts);
    rc |= atable_set_int(t, r, SUB_N_ATTEMPTS_SUCCESS, a->n_success);
    bool any = false;
    for (int k = 0; k < a->npl; k++)
        any |= a->pl[k].success;
    if (in_fas)
        rc |= atable_set_int(t, r, SUB_ANY_SUCCESS, any);
    double vol30;
    bool has_vol30;
    if ((rc |= derive_infusions(ds, v, a, &s, &vol30, &has_vol30)))
        goto out;
    rc |= atable_set_opt(t, r, SUB_VOL_30MIN, has_vol30 && in_fas, vol30);
    rc |= atable_set_opt(t, r, SUB_IO_HOURS, a->has_io_hours, a->io_hours);
    rc |= atable_set_int(t, r, SUB_DWELL_GT24, a->dwell_gt24);
    if ((rc |= derive_haemodynamics(ds, v, &s)))
        goto out;
    if ((rc |= derive_efficacy(ds, v, &s)))
        goto out;
    if ((rc |= derive_complications(ds, v, &s)))
        goto out;
    bool has_os;
    double os_days;
    int os_status;
    derive_os(v, &s, &has_os, &os_days, &os_status);
    if (has_os) {
        rc |= atable_set_num(t, r, SUB_OS_DAYS, os_days);
        rc |= atable_set_int(t, r, SUB_OS_STATUS, os_status);
    }
out:
    free(a);
    return rc ? ERR_NOMEM : 0;
}

/* ---- entry points -------------------------------------------------------------------------*/

void derive_init(struct adataset *ds)
{
    memset(ds, 0, sizeof *ds);
    for (int i = 0; i < ADS_NTABLES; i++)
        atable_init(&ds->t[i], derive_ads_names[i], derive_ads_cols[i], derive_ads_ncols[i]);
}

void derive_free(struct adataset *ds)
{
    for (int i = 0; i < ADS_NTABLES; i++)
        atable_free(&ds->t[i]);
    free(ds->cpl);
    arena_free(&ds->arena);
    ds->cpl = NULL;
    ds->ncpl = 0;
}

size_t derive_nrows(const struct adataset *ds, int i)
{
    return ds->ndropped[i] + ds->t[i].nrows;
}

void derive_drop_rows(struct adataset *ds)
{
    for (int i = 0; i < ADS_NTABLES; i++) {
        ds->ndropped[i] += ds->t[i].nrows;
        atable_clear(&ds->t[i]);
    }
}

int derive_record(struct adataset *ds, struct vtab *v, struct err *e)
{
    bool in_fas = false;
    int rc = 0;
    if (v->is_enrolled) {
        size_t before = ds->t[ADS_SUBJECTS].nrows;
        rc = derive_subject_row(ds, v);
        if (rc == 0 && ds->t[ADS_SUBJECTS].nrows > before) {
            double f;
            in_fas = atable_num(&ds->t[ADS_SUBJECTS], before, SUB_IN_FAS, &f) && f == 1;
        }
    }
    if (rc == 0)
        rc = derive_screening_row(ds, v, in_fas);
    if (rc)
        return err_set(e, rc, "deriving record %s: out of memory", v->screening_no);
    return 0;
}
