/* The analysis plan runner (see plan.h): study status (SAP §2), baseline characteristics
 * (Table 1) and the primary endpoints (§4), then the secondary sections of plan_secondary.c in
 * the SAP's order. The JSON and dataset helpers both use are in plan_out.c. */
#include "report/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "report/plan_int.h"
#include "report/plan_out.h"
#include "stats/binom.h"
#include "stats/describe.h"
#include "stats/km.h"

/* ---- study status (SAP §2) ----------------------------------------------------------------*/

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A multi-centre study's enrolment by site (subjects.site, docs/sites.md): status.by_site,
 * [{site, enrolled, fas}] in site order, enrolled subjects without a site as site "". Nothing
 * when no subject has a site. */
static void plan_by_site(struct plan_ctx *c, json_t *status)
{
    const struct atable *t = &c->ds->t[ADS_SUBJECTS];
    bool any = false;
    for (size_t r = 0; r < t->nrows && !any; r++)
        any = atable_get(t, r, SUB_SITE) != NULL;
    if (!any)
        return;
    const char **sites = arena_calloc(&c->ar, t->nrows + 1, sizeof *sites);
    size_t n = 0;
    for (size_t r = 0; sites && r < t->nrows; r++)
        sites[n++] = atable_get(t, r, SUB_SITE) ? atable_get(t, r, SUB_SITE) : "";
    if (!sites)
        return;
    qsort(sites, n, sizeof *sites, cmp_str);
    json_t *arr = json_array();
    for (size_t i = 0; i < n;) {
        size_t k = i;
        long enrolled = 0, fas = 0;
        for (; k < n && strcmp(sites[k], sites[i]) == 0; k++)
            ;
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = atable_get(t, r, SUB_SITE);
            double x;
            if (strcmp(s ? s : "", sites[i]) != 0)
                continue;
            enrolled++;
            fas += atable_num(t, r, SUB_IN_FAS, &x) && x == 1;
        }
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "site", sites[i], "enrolled",
                                             (json_int_t)enrolled, "fas", (json_int_t)fas));
        i = k;
    }
    plan_jset(c, status, "by_site", arr);
}

static json_t *plan_status(struct plan_ctx *c)
{
    const struct atable *t = &c->ds->t[ADS_SCREENING];
    long screened = (long)t->nrows, eligible = 0, enrolled = 0, fas = 0;
    /* every reason a patient has (several per patient possible) ... */
    long f_age = 0, f_heme = 0, f_cat = 0, f_contra = 0, f_consent = 0, f_incomplete = 0;
    /* ... and the first one, so the flow diagram's boxes add up */
    long p_incl = 0, p_excl = 0, p_refused = 0, p_incomplete = 0, no_consent = 0, no_io = 0;
    const char **dates = arena_calloc(&c->ar, t->nrows + 1, sizeof *dates);
    size_t ndates = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double x;
        bool elig = atable_num(t, r, SCR_ELIGIBLE, &x) && x == 1;
        bool enr = atable_num(t, r, SCR_ENROLLED, &x) && x == 1;
        bool in_fas = atable_num(t, r, SCR_IN_FAS, &x) && x == 1;
        bool age0 = atable_num(t, r, SCR_INC_AGE, &x) && x == 0;
        bool heme0 = atable_num(t, r, SCR_INC_HEME, &x) && x == 0;
        bool cat0 = atable_num(t, r, SCR_INC_CATEGORY, &x) && x == 0;
        bool contra = atable_num(t, r, SCR_EXC_CONTRAINDICATION, &x) && x == 1;
        bool refused = atable_num(t, r, SCR_EXC_CONSENT, &x) && x == 1;
        f_age += age0;
        f_heme += heme0;
        f_cat += cat0;
        f_contra += contra;
        f_consent += refused;
        if (elig) {
            eligible++;
            if (enr) {
                enrolled++;
                fas += in_fas;
                no_io += !in_fas;
                const char *d = atable_get(t, r, SCR_ENROL_DATE);
                if (d && dates)
                    dates[ndates++] = d;
            } else {
                no_consent++;
            }
        } else if (age0 || heme0 || cat0) {
            p_incl++;
        } else if (contra) {
            p_excl++;
        } else if (refused) {
            p_refused++;
        } else {
            p_incomplete++;
            f_incomplete++;
        }
    }
    json_t *o = json_object();
    plan_jset(c, o, "sap", json_string("§2"));
    plan_jset(c, o, "screened", json_integer(screened));
    plan_jset(c, o, "eligible", json_integer(eligible));
    plan_jset(c, o, "enrolled", json_integer(enrolled));
    plan_jset(c, o, "fas", json_integer(fas));
    plan_jset(c, o, "safety", json_integer(fas));
    plan_jset(c, o, "target", json_integer(c->target_n));
    plan_jset(c, o, "enrolled_pct_of_target", json_real(100.0 * (double)enrolled / c->target_n));
    json_t *why = json_object();
    plan_jset(c, why, "age_out_of_range", json_integer(f_age));
    plan_jset(c, why, "no_hematologic_disease", json_integer(f_heme));
    plan_jset(c, why, "no_qualifying_category", json_integer(f_cat));
    plan_jset(c, why, "contraindication", json_integer(f_contra));
    plan_jset(c, why, "consent_refused", json_integer(f_consent));
    plan_jset(c, why, "screening_incomplete", json_integer(f_incomplete));
    plan_jset(c, o, "reasons_any", why);
    json_t *flow = json_object();
    plan_jset(c, flow, "inclusion_not_met", json_integer(p_incl));
    plan_jset(c, flow, "exclusion_met", json_integer(p_excl));
    plan_jset(c, flow, "consent_refused", json_integer(p_refused));
    plan_jset(c, flow, "screening_incomplete", json_integer(p_incomplete));
    plan_jset(c, flow, "consent_not_recorded", json_integer(no_consent));
    plan_jset(c, flow, "no_io_attempt", json_integer(no_io));
    plan_jset(c, o, "reasons_first", flow);
    plan_by_site(c, o);
    /* Enrolment over time: cumulative count by enrolment date. */
    if (dates && ndates) {
        qsort(dates, ndates, sizeof *dates, cmp_str);
        double first;
        derive_parse_time(t->nrows ? atable_get(t, 0, SCR_DATE) : dates[0], &first);
        for (size_t r = 0; r < t->nrows; r++) {
            double d;
            if (derive_parse_time(atable_get(t, r, SCR_DATE), &d) && d < first)
                first = d;
        }
        json_t *days = json_array();
        for (size_t i = 0; i < ndates; i++) {
            double d;
            if (derive_parse_time(dates[i], &d))
                json_array_append_new(days, json_real(floor((d - first) / 86400.0 + 0.5)));
        }
        char start[11];
        const char *s0 = atable_get(t, 0, SCR_DATE);
        fmt_exact(start, sizeof start, "%.10s", s0 ? s0 : dates[0]);
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = atable_get(t, r, SCR_DATE);
            if (s && strcmp(s, start) < 0)
                fmt_exact(start, sizeof start, "%.10s", s);
        }
        json_t *en = json_object();
        plan_jset(c, en, "start_date", json_string(start));
        plan_jset(c, en, "first_enrolment", json_string(dates[0]));
        plan_jset(c, en, "last_enrolment", json_string(dates[ndates - 1]));
        plan_jset(c, en, "days", days);
        plan_jset(c, o, "enrolment", en);
    }
    return o;
}

/* ---- Table 1 (SAP §2.1 characteristics of the FAS) ----------------------------------------*/

static void t1_cont(struct plan_ctx *c, json_t *rows, const char *label, const char *unit, int col)
{
    double *x;
    size_t n = plan_nums(c, ADS_SUBJECTS, col, SUB_IN_FAS, "1", &x);
    json_t *o = plan_jdescribe(c, x, n, "§2.1");
    plan_jset(c, o, "label", json_string(label));
    plan_jset(c, o, "unit", json_string(unit));
    plan_jset(c, o, "kind", json_string("median_iqr"));
    json_array_append_new(rows, o);
}

/* group: rows that are levels of one characteristic (a diagnosis, a site), shown only when
 * some patient has them; NULL for a row of its own. */
static void t1_level(struct plan_ctx *c, json_t *rows, const char *label, int col, const char *v,
                     const char *group)
{
    const struct atable *t = &c->ds->t[ADS_SUBJECTS];
    long k = 0, n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *f = atable_get(t, r, SUB_IN_FAS), *s = atable_get(t, r, (size_t)col);
        if (!f || strcmp(f, "1") != 0 || !s)
            continue;
        n++;
        k += strcmp(s, v) == 0;
    }
    json_t *o = plan_jcount(k, n);
    plan_jset(c, o, "label", json_string(label));
    plan_jset(c, o, "denominator", json_integer(n));
    plan_jset(c, o, "kind", json_string("n_pct"));
    if (group)
        plan_jset(c, o, "group", json_string(group));
    plan_jset(c, o, "sap", json_string("§2.1"));
    json_array_append_new(rows, o);
}

/* A row for every level of a coded characteristic, in the CRF's order ("First site: Distal
 * tibia"), so Table 1 lists every site and device the data hold. */
static void t1_levels(struct plan_ctx *c, json_t *rows, const char *what, int col,
                      const struct derive_level *levels, const char *group)
{
    for (const struct derive_level *l = levels;; l++) {
        char label[96];
        fmt_text(label, sizeof label, "%s: %s", what, l->label);
        t1_level(c, rows, label, col, l->value, group);
        if (!l->code)
            break;
    }
}

static json_t *plan_baseline(struct plan_ctx *c)
{
    json_t *rows = json_array();
    t1_cont(c, rows, "Age", "years", SUB_AGE);
    t1_level(c, rows, "Male sex", SUB_SEX, derive_sexes[0].value, NULL);
    t1_levels(c, rows, "Diagnosis", SUB_HEME_DX, derive_diagnoses, "diagnosis");
    t1_cont(c, rows, "BMI", "kg/m²", SUB_BMI);
    t1_cont(c, rows, "SOFA score", "points", SUB_SOFA);
    t1_cont(c, rows, "Platelets", "×10⁹/L", SUB_PLT);
    t1_level(c, rows, "Platelets < 20 ×10⁹/L", SUB_SG_PLT_LT20, "1", NULL);
    t1_cont(c, rows, "ANC", "×10⁹/L", SUB_ANC);
    t1_level(c, rows, "ANC < 0.5 ×10⁹/L", SUB_SG_ANC_LT05, "1", NULL);
    t1_cont(c, rows, "Haemoglobin", "g/L", SUB_HB);
    t1_cont(c, rows, "Lactate", "mmol/L", SUB_LACTATE);
    t1_cont(c, rows, "ISTH DIC score", "points", SUB_DIC_SCORE);
    t1_level(c, rows, "ISTH overt DIC (score ≥ 5)", SUB_SG_DIC, "1", NULL);
    t1_level(c, rows, "Septic shock", SUB_SG_SEPTIC_SHOCK, "1", NULL);
    t1_level(c, rows, "In shock at T0", SUB_SHOCK_T0, "1", NULL);
    t1_level(c, rows, "Invasive mechanical ventilation", SUB_MECH_VENT, "1", NULL);
    t1_level(c, rows, "HSCT", SUB_SG_HSCT, "1", NULL);
    t1_levels(c, rows, "First site", SUB_FIRST_SITE, derive_sites, "first_site");
    t1_levels(c, rows, "Device", SUB_FIRST_DEVICE, derive_devices, "device");
    return rows;
}

/* ---- primary endpoints (SAP §4) -----------------------------------------------------------*/

static long count_fas(struct plan_ctx *c, int col, const char *v, long *n)
{
    const struct atable *t = &c->ds->t[ADS_SUBJECTS];
    long k = 0;
    *n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *f = atable_get(t, r, SUB_IN_FAS), *s = atable_get(t, r, (size_t)col);
        if (!f || strcmp(f, "1") != 0 || !s)
            continue;
        (*n)++;
        k += strcmp(s, v) == 0;
    }
    return k;
}

static json_t *plan_first_attempt(struct plan_ctx *c)
{
    long n, x = count_fas(c, SUB_FIRST_ATTEMPT_SUCCESS, "1", &n);
    json_t *o = plan_jprop(c, x, n, true, "§4.1");
    /* FAS subjects whose first attempt has no recorded outcome are left out (SAP §7) */
    long nfas = (long)plan_count(c, ADS_SUBJECTS, SUB_IN_FAS, "1");
    plan_jset(c, o, "fas", json_integer(nfas));
    plan_jset(c, o, "missing", json_integer(nfas - n));
    /* per attempt, any success, attempts per patient */
    long na = 0, sa = 0;
    double *v;
    size_t k = plan_nums(c, ADS_SUBJECTS, SUB_N_ATTEMPTS, SUB_IN_FAS, "1", &v);
    for (size_t i = 0; i < k; i++)
        na += plan_count_of(v[i]);
    k = plan_nums(c, ADS_SUBJECTS, SUB_N_ATTEMPTS_SUCCESS, SUB_IN_FAS, "1", &v);
    for (size_t i = 0; i < k; i++)
        sa += plan_count_of(v[i]);
    plan_jset(c, o, "per_attempt", plan_jprop(c, sa, na, false, "§4.1"));
    long nn, xa = count_fas(c, SUB_ANY_SUCCESS, "1", &nn);
    plan_jset(c, o, "any_success", plan_jprop(c, xa, nn, false, "§4.1"));
    k = plan_nums(c, ADS_SUBJECTS, SUB_N_ATTEMPTS, SUB_IN_FAS, "1", &v);
    plan_jset(c, o, "attempts_per_patient", plan_jdescribe(c, v, k, "§4.1"));
    return o;
}

static json_t *plan_efficacy(struct plan_ctx *c)
{
    long n, x = count_fas(c, SUB_EFFICACY, "1", &n);
    json_t *o = plan_jprop(c, x, n, false, "§4.2");
    long ng, g1 = count_fas(c, SUB_EFFICACY_GRADE, "1", &ng);
    long g2 = count_fas(c, SUB_EFFICACY_GRADE, "2", &ng);
    long g3 = count_fas(c, SUB_EFFICACY_GRADE, "3", &ng);
    long na, not_assessable = count_fas(c, SUB_EFF_ASSESSABLE, "0", &na);
    json_t *g = json_object();
    plan_jset(c, g, "effective", plan_jcount(g1, n));
    plan_jset(c, g, "partially_effective", plan_jcount(g2, n));
    plan_jset(c, g, "ineffective", plan_jcount(g3, n));
    plan_jset(c, g, "not_assessable", plan_jcount(not_assessable, n));
    plan_jset(c, o, "grades", g);
    /* the subjects counted as not effective because the grade could not be assessed (§4.2) */
    json_t *list = json_array();
    const struct atable *t = &c->ds->t[ADS_SUBJECTS];
    for (size_t r = 0; r < t->nrows; r++) {
        const char *f = atable_get(t, r, SUB_IN_FAS), *a = atable_get(t, r, SUB_EFF_ASSESSABLE);
        if (f && strcmp(f, "1") == 0 && a && strcmp(a, "0") == 0)
            json_array_append_new(list, json_string(atable_get(t, r, SUB_SUBJECT_ID)));
    }
    plan_jset(c, o, "not_assessable_subjects", list);
    return o;
}

static json_t *jarr(const double *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, plan_jnum(x[i]));
    return a;
}

static json_t *plan_survival(struct plan_ctx *c)
{
    /* the FAS with a survival time (SAP §2, §4.3) */
    const struct atable *st = &c->ds->t[ADS_SUBJECTS];
    double *t = arena_calloc(&c->ar, st->nrows + 1, sizeof *t);
    double *s = arena_calloc(&c->ar, st->nrows + 1, sizeof *s);
    size_t n = 0, nfas = 0;
    if (!t || !s) {
        c->rc = err_set(c->e, ERR_NOMEM, "out of memory");
        return json_object();
    }
    for (size_t r = 0; r < st->nrows; r++) {
        const char *f = atable_get(st, r, SUB_IN_FAS);
        if (!f || strcmp(f, "1") != 0)
            continue;
        nfas++;
        if (atable_num(st, r, SUB_OS_DAYS, &t[n]) && atable_num(st, r, SUB_OS_STATUS, &s[n]))
            n++;
    }
    json_t *o = json_object();
    plan_jset(c, o, "sap", json_string("§4.3"));
    plan_jset(c, o, "n", json_integer((json_int_t)n));
    long events = 0;
    for (size_t i = 0; i < n; i++)
        events += s[i] == 1;
    plan_jset(c, o, "events", json_integer(events));
    plan_jset(c, o, "excluded_no_t0", json_integer((json_int_t)(nfas - n)));
    if (n == 0 || c->rc)
        return o;
    static const double times[] = {28, 90};
    struct km_opts opts = {KM_CONF_LOG, 0.95, true, times, 2};
    struct km_fit fit;
    if (km_fit(t, s, NULL, 1, n, &opts, &c->ar, &fit, c->e) != 0) {
        c->rc = c->e->code ? c->e->code : ERR_INTERNAL;
        return o;
    }
    const struct km_curve *k = &fit.curves[0];
    plan_jset(c, o, "median", plan_jnum(k->median));
    plan_jset(c, o, "median_lower", plan_jnum(k->median_lower));
    plan_jset(c, o, "median_upper", plan_jnum(k->median_upper));
    static const char *const keys[] = {"surv_28", "surv_90"};
    for (size_t j = 0; j < 2; j++) {
        json_t *p = json_object();
        size_t i;
        for (i = 0; i < k->at.n && k->at.time[i] != times[j]; i++)
            ;
        plan_jset(c, p, "time", json_real(times[j]));
        if (i < k->at.n) {
            plan_jset(c, p, "estimate", plan_jnum(k->at.surv[i]));
            plan_jset(c, p, "lower", plan_jnum(k->at.lower[i]));
            plan_jset(c, p, "upper", plan_jnum(k->at.upper[i]));
            plan_jset(c, p, "n_risk", plan_jnum(k->at.n_risk[i]));
        } else {
            plan_jset(c, p, "estimate", json_null());
            plan_jset(c, p, "lower", json_null());
            plan_jset(c, p, "upper", json_null());
        }
        plan_jset(c, o, keys[j], p);
    }
    /* numbers at risk under the curve (SAP §4.3): subjects with time >= t */
    json_t *ar = json_array();
    for (int d = 0; d <= 84; d += 14) {
        long nr = 0;
        for (size_t i = 0; i < n; i++)
            nr += t[i] >= d;
        json_t *p = json_object();
        plan_jset(c, p, "time", json_integer(d));
        plan_jset(c, p, "n_risk", json_integer(nr));
        json_array_append_new(ar, p);
    }
    plan_jset(c, o, "at_risk", ar);
    json_t *cv = json_object();
    plan_jset(c, cv, "time", jarr(k->time, k->nt));
    plan_jset(c, cv, "surv", jarr(k->surv, k->nt));
    plan_jset(c, cv, "lower", jarr(k->lower, k->nt));
    plan_jset(c, cv, "upper", jarr(k->upper, k->nt));
    plan_jset(c, cv, "n_risk", jarr(k->n_risk, k->nt));
    plan_jset(c, cv, "n_event", jarr(k->n_event, k->nt));
    plan_jset(c, cv, "n_censor", jarr(k->n_censor, k->nt));
    plan_jset(c, o, "curve", cv);
    return o;
}

/* ---- the whole plan -----------------------------------------------------------------------*/

/* Adds one section's results and drops the scratch arrays it used (everything kept is in the
 * JSON, which copies what it holds), so memory at 100,000 patients stays near the dataset's. */
static void section(struct plan_ctx *c, json_t *parent, const char *key, json_t *v)
{
    plan_jset(c, parent, key, v);
    arena_free(&c->ar);
}

int report_plan_run(const struct adataset *ds, const struct report_meta *m, json_t **out,
                    struct err *e)
{
    struct plan_ctx c = {ds, ARENA_INIT, e, 0, m->target_n > 0 ? m->target_n : REPORT_TARGET_N};
    json_t *r = json_object();
    json_t *study = json_object();
    plan_jset(&c, study, "title",
              json_string("Application of Intraosseous Infusion in Hematologic "
                          "Critical Patients"));
    plan_jset(&c, study, "design", json_string("single-centre prospective observational study"));
    plan_jset(&c, study, "sap", json_string("docs/sap.md"));
    plan_jset(&c, study, "source", json_string(m->source ? m->source : ""));
    plan_jset(&c, study, "snapshot_time", json_string(m->snapshot ? m->snapshot : ""));
    plan_jset(&c, study, "synthetic", json_boolean(m->is_synthetic));
    json_t *audit = json_object();
    if (m->has_audit) {
        plan_jset(&c, audit, "rows", json_integer(m->audit_rows));
        plan_jset(&c, audit, "head_hash", json_string(m->audit_head ? m->audit_head : ""));
    } else {
        plan_jset(&c, audit, "rows", json_null());
        plan_jset(&c, audit, "head_hash", json_null());
    }
    plan_jset(&c, study, "audit", audit);
    /* a locked database: the lock and the trail up to it, not the clock (P11-19, P11-31) */
    plan_jset(&c, study, "lock",
              m->lock_id ? json_pack("{s:s, s:s, s:s}", "id", m->lock_id, "locked_at",
                                     m->locked_at ? m->locked_at : "", "audit_head",
                                     m->audit_head ? m->audit_head : "")
                         : json_null());
    plan_jset(&c, study, "protocol_versions",
              m->protocol_versions ? json_deep_copy(m->protocol_versions) : json_null());
    plan_jset(&c, r, "study", study);
    section(&c, r, "status", plan_status(&c));
    section(&c, r, "baseline", plan_baseline(&c));
    json_t *prim = json_object();
    section(&c, prim, "first_attempt_success", plan_first_attempt(&c));
    section(&c, prim, "efficacy", plan_efficacy(&c));
    section(&c, prim, "overall_survival", plan_survival(&c));
    plan_jset(&c, r, "primary", prim);
    json_t *sec = json_object();
    section(&c, sec, "infusion_speed", plan_infusion(&c));
    section(&c, sec, "time_to_access", plan_access(&c));
    section(&c, sec, "haemodynamics", plan_haemodynamics(&c));
    section(&c, sec, "complications", plan_complications(&c));
    plan_jset(&c, r, "secondary", sec);
    section(&c, r, "subgroups", plan_subgroups(&c));
    section(&c, r, "completeness", plan_completeness(&c));
    arena_free(&c.ar);
    if (c.rc) {
        json_decref(r);
        if (!e->msg[0])
            err_set(e, c.rc, "analysis plan failed");
        return c.rc < 0 ? c.rc : ERR_INTERNAL;
    }
    *out = r;
    return 0;
}
