/* Endpoint derivations, part 2 (see derive.h): haemodynamics at the six time points and their
 * changes (SAP §5.3), therapeutic efficacy (§4.2) and complications (§5.4). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "core/derive_int.h"

bool derive_map(struct vtab *v, const char *event, const char *prefix, double *out)
{
    char f_inv[32], f_meas[32], f_sbp[32], f_dbp[32];
    fmt_exact(f_inv, sizeof f_inv, "%smap_inv", prefix);
    fmt_exact(f_meas, sizeof f_meas, "%smap_meas", prefix);
    fmt_exact(f_sbp, sizeof f_sbp, "%ssbp", prefix);
    fmt_exact(f_dbp, sizeof f_dbp, "%sdbp", prefix);
    double s, d;
    if (derive_dv_bool(v, event, 0, f_inv) == 1 && derive_dv_num(v, event, 0, f_meas, out))
        return true;
    if (!derive_dv_num(v, event, 0, f_sbp, &s) || !derive_dv_num(v, event, 0, f_dbp, &d))
        return false;
    /* Whole mmHg, rounded half away from zero, as the CRF's calc (REDCap round()). */
    *out = round((s + 2 * d) / 3);
    return true;
}

bool derive_ne_eq(struct vtab *v, const char *event, const char *prefix, double *out)
{
    static const struct {
        const char *suffix;
        double factor;
    } drugs[] = {{"ne", 1}, {"epi", 1}, {"dopa", 0.01}, {"phenyl", 0.1}, {"vasopressin", 2.5}};
    char f[32];
    fmt_exact(f, sizeof f, "%svaso", prefix);
    int on = derive_dv_bool(v, event, 0, f);
    if (on < 0)
        return false;
    double sum = 0;
    if (on == 1)
        for (size_t i = 0; i < sizeof drugs / sizeof drugs[0]; i++) {
            double x;
            fmt_exact(f, sizeof f, "%s%s", prefix, drugs[i].suffix);
            if (derive_dv_num(v, event, 0, f, &x))
                sum += x * drugs[i].factor;
        }
    /* rounded to 0.001 µg/kg/min as the CRF's hd_ne_eq, so equal doses compare equal
     * (0.1 + 0.05 is 0.15000000000000002 in doubles) */
    *out = round(sum * 1000) / 1000;
    return true;
}

struct tp {
    bool has_map, has_hr, has_sbp, has_lac, has_ne;
    double map, hr, sbp, lac, ne;
};

static void read_tp(struct vtab *v, const char *ev, struct tp *p)
{
    memset(p, 0, sizeof *p);
    p->has_map = derive_map(v, ev, "hd_", &p->map);
    p->has_hr = derive_dv_num(v, ev, 0, "hd_hr", &p->hr);
    p->has_sbp = derive_dv_num(v, ev, 0, "hd_sbp", &p->sbp) && p->sbp > 0;
    p->has_lac = derive_dv_num(v, ev, 0, "hd_lactate", &p->lac);
    p->has_ne = derive_ne_eq(v, ev, "hd_", &p->ne);
}

int derive_haemodynamics(struct adataset *ds, struct vtab *v, const struct derive_subject *s)
{
    struct atable *t = &ds->t[ADS_HAEMO];
    struct tp base;
    read_tp(v, derive_timepoints[0].code, &base);
    int rc = 0;
    for (int k = 0; k < DERIVE_NTP; k++) {
        const char *ev = derive_timepoints[k].code;
        struct tp p;
        read_tp(v, ev, &p);
        /* no status (and a code the protocol does not have) falls into "missing" */
        const char *st = vtab_get(v, ev, 0, "hd_status", NULL);
        const char *status = derive_level_of(st ? st : "", derive_hd_statuses);
        size_t r;
        if ((rc = atable_add_row(t, &r)))
            return rc;
        rc |= atable_set(t, r, HD_SUBJECT_ID, s->id);
        rc |= atable_set(t, r, HD_TIMEPOINT, derive_timepoints[k].value);
        rc |= atable_set_int(t, r, HD_MINUTES, derive_tp_minutes[k]);
        rc |= atable_set(t, r, HD_STATUS, status);
        rc |= atable_set_opt(t, r, HD_MAP, p.has_map, p.map);
        rc |= atable_set_opt(t, r, HD_HR, p.has_hr, p.hr);
        rc |= atable_set_opt(t, r, HD_SBP, p.has_sbp, p.sbp);
        rc |= atable_set_opt(t, r, HD_SHOCK_INDEX, p.has_hr && p.has_sbp, p.hr / p.sbp);
        rc |= atable_set_opt(t, r, HD_LACTATE, p.has_lac, p.lac);
        rc |= atable_set_opt(t, r, HD_NE_EQ, p.has_ne, p.ne);
        rc |= atable_set_opt(t, r, HD_MAP_CHANGE, p.has_map && base.has_map, p.map - base.map);
        rc |= atable_set_opt(t, r, HD_HR_CHANGE, p.has_hr && base.has_hr, p.hr - base.hr);
        rc |= atable_set_opt(t, r, HD_LC, p.has_lac && base.has_lac && base.lac > 0,
                             (base.lac - p.lac) / base.lac * 100);
    }
    return rc ? ERR_NOMEM : 0;
}

/* Therapeutic efficacy (SAP §4.2):
 *   ineffective (3)  delivery failed, or another emergency access was needed within 60 min;
 *   effective (1)    delivered, no other access, and the clinical target met;
 *   partial (2)      delivered, no other access, target assessed and not met;
 *   not assessable   target (or delivery) unknown — counts as not effective, grade blank.
 * Target: in shock at T0 (MAP < 65 or on vasopressors): MAP >= 65 at 6 h with NE-eq at 6 h not
 * above T0, or lactate clearance >= 10% at 6 h; not in shock: first drug within 10 min of
 * working access. */
int derive_efficacy(struct adataset *ds, struct vtab *v, const struct derive_subject *s)
{
    struct atable *t = &ds->t[ADS_SUBJECTS];
    size_t r = s->row;
    int rc = 0;
    struct tp p0, p6;
    read_tp(v, derive_timepoints[0].code, &p0);
    read_tp(v, derive_timepoints[4].code, &p6);
    /* In shock: MAP < 65 or on vasopressors (the recorded status, as the CRF's eff_shock_t0:
     * an inotrope outside the NE-equivalent list, or doses not recorded, still count). Not in
     * shock needs a T0 MAP or a recorded "no vasopressors". */
    int vaso0 = derive_dv_bool(v, derive_timepoints[0].code, 0, "hd_vaso");
    int shock = -1;
    if ((p0.has_map && p0.map < 65) || vaso0 == 1 || (p0.has_ne && p0.ne > 0))
        shock = 1;
    else if (p0.has_map || vaso0 == 0)
        shock = 0;
    bool has_lc = p0.has_lac && p6.has_lac && p0.lac > 0;
    double lc = has_lc ? (p0.lac - p6.lac) / p0.lac * 100 : 0;
    /* The >= 10% comparison is on the clearance rounded to 0.1% (half away from zero), as the
     * CRF's eff_lact_clear6: 3.0 -> 2.7 mmol/L is 10%, not 9.999999999999993%. */
    double lc_r = round(lc * 10) / 10;
    double acc, drug;
    bool has_drug = derive_dv_time(v, EV_EFF, 0, "eff_access_dt", &acc) &&
                    derive_dv_time(v, EV_EFF, 0, "eff_drug_dt", &drug);
    double drug_min = has_drug ? (drug - acc) / 60.0 : 0;
    int target = -1;
    if (shock == 1) {
        bool map_ok = p6.has_map && p6.map >= 65 && p0.has_ne && p6.has_ne && p6.ne <= p0.ne;
        if (map_ok || (has_lc && lc_r >= 10))
            target = 1;
        else if (p6.has_map || has_lc)
            target = 0;
    } else if (shock == 0 && has_drug) {
        target = round(drug_min * 10) / 10 <= 10; /* 0.1 min, as the CRF's eff_drug_min */
    }
    int delivered = derive_dv_bool(v, EV_EFF, 0, "eff_delivered");
    int other = derive_dv_bool(v, EV_EFF, 0, "eff_other_access");
    int grade = -1;
    if (delivered == 0 || other == 1)
        grade = 3;
    else if (delivered == 1 && other == 0 && target >= 0)
        grade = target == 1 ? 1 : 2;
    if (shock >= 0)
        rc |= atable_set_int(t, r, SUB_SHOCK_T0, shock);
    rc |= atable_set_opt(t, r, SUB_MAP_T0, p0.has_map, p0.map);
    rc |= atable_set_opt(t, r, SUB_MAP_6H, p6.has_map, p6.map);
    rc |= atable_set_opt(t, r, SUB_NE_T0, p0.has_ne, p0.ne);
    rc |= atable_set_opt(t, r, SUB_NE_6H, p6.has_ne, p6.ne);
    rc |= atable_set_opt(t, r, SUB_LC_6H, has_lc, lc);
    rc |= atable_set_opt(t, r, SUB_DRUG_MIN, has_drug, drug_min);
    if (delivered >= 0)
        rc |= atable_set_int(t, r, SUB_DELIVERED, delivered);
    if (other >= 0)
        rc |= atable_set_int(t, r, SUB_OTHER_ACCESS, other);
    if (target >= 0)
        rc |= atable_set_int(t, r, SUB_TARGET_MET, target);
    rc |= atable_set_int(t, r, SUB_EFF_ASSESSABLE, grade > 0);
    if (grade > 0)
        rc |= atable_set_int(t, r, SUB_EFFICACY_GRADE, grade);
    rc |= atable_set_int(t, r, SUB_EFFICACY, grade == 1);
    return rc ? ERR_NOMEM : 0;
}

int derive_complications(struct adataset *ds, struct vtab *v, const struct derive_subject *s)
{
    static const char *const events[] = {"io_procedure_arm_1", "t24h_arm_1", "removal_arm_1",
                                         "day7_arm_1"};
    struct atable *t = &ds->t[ADS_COMPLICATIONS];
    int rc = 0, n = 0;
    for (int e = 0; e < 4; e++) {
        for (int i = vtab_next_instance(v, events[e], "comp_type", 0); i;
             i = vtab_next_instance(v, events[e], "comp_type", i)) {
            int type;
            if (!derive_dv_int(v, events[e], i, "comp_type", &type))
                continue;
            const char *label = "Other";
            for (int k = 0; k < DERIVE_NCOMP_TYPES; k++)
                if (derive_comp_code[k] == type)
                    label = derive_comp_label[k];
            size_t r;
            if ((rc = atable_add_row(t, &r)))
                return rc;
            n++;
            rc |= atable_set(t, r, CMP_SUBJECT_ID, s->id);
            rc |= atable_set(t, r, CMP_EVENT, events[e]);
            rc |= atable_set_int(t, r, CMP_INSTANCE, i);
            rc |=
                atable_set(t, r, CMP_PLACEMENT, vtab_get(v, events[e], i, "comp_placement", NULL));
            rc |= atable_set_int(t, r, CMP_TYPE, type);
            rc |= atable_set(t, r, CMP_TYPE_LABEL, label);
            rc |= atable_set(t, r, CMP_GRADE, vtab_get(v, events[e], i, "comp_grade", NULL));
            rc |= atable_set(t, r, CMP_SERIOUS, vtab_get(v, events[e], i, "comp_serious", NULL));
            rc |= atable_set(t, r, CMP_RELATED, vtab_get(v, events[e], i, "comp_related", NULL));
            rc |= atable_set(t, r, CMP_ONSET, vtab_get(v, events[e], i, "comp_onset", NULL));
        }
    }
    rc |= atable_set_int(&ds->t[ADS_SUBJECTS], s->row, SUB_N_COMPLICATIONS, n);
    return rc ? ERR_NOMEM : 0;
}
