/* The analysis plan runner, part 2 (see plan.h): secondary endpoints (SAP §5), subgroups (§6)
 * and data completeness (§7). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "report/plan_int.h"
#include "stats/binom.h"
#include "stats/cox.h"
#include "stats/fisher.h"
#include "stats/logrank.h"
#include "stats/ttest.h"
#include "stats/wilcoxon.h"

/* A statistics routine refused the data (e.g. all differences zero): the report shows why,
 * the run goes on. */
static json_t *jerror(struct plan_ctx *c, const char *what)
{
    json_t *o = json_object();
    plan_jset(c, o, "error", json_string(c->e->msg[0] ? c->e->msg : what));
    err_clear(c->e);
    return o;
}

/* ---- §5.1 infusion speed ------------------------------------------------------------------*/

static json_t *flow_by(struct plan_ctx *c, int col, const char *const *levels)
{
    json_t *a = json_array();
    for (; *levels; levels++) {
        double *x;
        const struct atable *t = &c->ds->t[ADS_INFUSIONS];
        size_t n = 0;
        x = arena_calloc(&c->ar, t->nrows + 1, sizeof *x);
        if (!x) {
            c->rc = ERR_NOMEM;
            break;
        }
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = atable_get(t, r, (size_t)col);
            if (s && strcmp(s, *levels) == 0 && atable_num(t, r, INF_FLOW, &x[n]))
                n++;
        }
        json_t *o = plan_jdescribe(c, x, n, "§5.1");
        plan_jset(c, o, "level", json_string(*levels));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *plan_infusion(struct plan_ctx *c)
{
    /* sites: humerus, tibia, other; methods: the protocol's four, without "other" */
    const char *sites[DERIVE_MAX_LEVELS + 1], *methods[DERIVE_MAX_LEVELS + 1];
    derive_level_values(derive_inf_sites, true, sites);
    derive_level_values(derive_methods, false, methods);
    const struct atable *t = &c->ds->t[ADS_INFUSIONS];
    json_t *o = json_object();
    plan_jset(c, o, "sap", json_string("§5.1"));
    double *x;
    size_t n = plan_nums(c, ADS_INFUSIONS, INF_FLOW, -1, NULL, &x);
    plan_jset(c, o, "episodes", json_integer((json_int_t)t->nrows));
    plan_jset(c, o, "excluded_no_duration", json_integer((json_int_t)(t->nrows - n)));
    plan_jset(c, o, "all", plan_jdescribe(c, x, n, "§5.1"));
    plan_jset(c, o, "by_site", flow_by(c, INF_SITE, sites));
    plan_jset(c, o, "by_method", flow_by(c, INF_METHOD, methods));
    /* site x method */
    json_t *cross = json_array();
    for (const char *const *s = sites; *s; s++)
        for (const char *const *m = methods; *m; m++) {
            double *v = arena_calloc(&c->ar, t->nrows + 1, sizeof *v);
            size_t k = 0;
            for (size_t r = 0; v && r < t->nrows; r++) {
                const char *a = atable_get(t, r, INF_SITE), *b = atable_get(t, r, INF_METHOD);
                if (a && b && strcmp(a, *s) == 0 && strcmp(b, *m) == 0 &&
                    atable_num(t, r, INF_FLOW, &v[k]))
                    k++;
            }
            if (k == 0)
                continue;
            json_t *d = plan_jdescribe(c, v, k, "§5.1");
            plan_jset(c, d, "site", json_string(*s));
            plan_jset(c, d, "method", json_string(*m));
            json_array_append_new(cross, d);
        }
    plan_jset(c, o, "by_site_method", cross);
    n = plan_nums(c, ADS_SUBJECTS, SUB_VOL_30MIN, SUB_IN_FAS, "1", &x);
    plan_jset(c, o, "volume_first_30min_ml", plan_jdescribe(c, x, n, "§5.1"));
    return o;
}

/* ---- §5.2 time to access ------------------------------------------------------------------*/

json_t *plan_access(struct plan_ctx *c)
{
    json_t *o = json_object();
    plan_jset(c, o, "fas", json_integer((json_int_t)plan_count(c, ADS_SUBJECTS, SUB_IN_FAS, "1")));
    double *x;
    size_t n = plan_nums(c, ADS_SUBJECTS, SUB_ACCESS_S, SUB_IN_FAS, "1", &x);
    plan_jset(c, o, "decision_to_access_s", plan_jdescribe(c, x, n, "§5.2"));
    n = plan_nums(c, ADS_SUBJECTS, SUB_PUNCTURE_ACCESS_S, SUB_IN_FAS, "1", &x);
    plan_jset(c, o, "puncture_to_access_s", plan_jdescribe(c, x, n, "§5.2"));
    plan_jset(c, o, "sap", json_string("§5.2"));
    return o;
}

/* ---- §5.3 haemodynamics -------------------------------------------------------------------*/

static const struct {
    const char *key, *label, *unit;
    int col;
} HD_VARS[] = {
    {"map", "MAP", "mmHg", HD_MAP},
    {"hr", "Heart rate", "/min", HD_HR},
    {"shock_index", "Shock index", "", HD_SHOCK_INDEX},
    {"lactate", "Lactate", "mmol/L", HD_LACTATE},
    {"ne_eq", "Norepinephrine equivalents", "µg/kg/min", HD_NE_EQ},
};
#define N_HD_VARS (sizeof HD_VARS / sizeof HD_VARS[0])

/* Complete pairs (T0, time point k) of column col: for each subject, the row of time point k
 * and the subject's T0 row (rows are grouped by subject). */
static size_t hd_pairs(struct plan_ctx *c, int col, const char *tp, double **x0, double **xk)
{
    const struct atable *t = &c->ds->t[ADS_HAEMO];
    double *a = arena_calloc(&c->ar, t->nrows + 1, sizeof *a);
    double *b = arena_calloc(&c->ar, t->nrows + 1, sizeof *b);
    size_t n = 0;
    if (!a || !b) {
        c->rc = ERR_NOMEM;
        return 0;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        const char *lab = atable_get(t, r, HD_TIMEPOINT), *id = atable_get(t, r, HD_SUBJECT_ID);
        if (!lab || !id || strcmp(lab, tp) != 0)
            continue;
        for (size_t q = r + 1; q-- > 0 && r - q < 12;) {
            const char *l0 = atable_get(t, q, HD_TIMEPOINT), *i0 = atable_get(t, q, HD_SUBJECT_ID);
            if (!l0 || !i0 || strcmp(i0, id) != 0)
                break;
            if (strcmp(l0, "T0") == 0) {
                if (atable_num(t, q, (size_t)col, &a[n]) && atable_num(t, r, (size_t)col, &b[n]))
                    n++;
                break;
            }
        }
    }
    *x0 = a;
    *xk = b;
    return n;
}

static json_t *paired_tests(struct plan_ctx *c, const double *x0, const double *xk, size_t n)
{
    json_t *o = json_object();
    plan_jset(c, o, "n", json_integer((json_int_t)n));
    double *d = arena_calloc(&c->ar, n + 1, sizeof *d);
    for (size_t i = 0; d && i < n; i++)
        d[i] = xk[i] - x0[i];
    plan_jset(c, o, "change", plan_jdescribe(c, d, n, "§5.3"));
    if (n == 0 || c->rc)
        return o;
    struct wilcox_opts wo = wilcox_default_opts();
    struct wilcox_result w;
    if (wilcox_paired(xk, x0, n, &wo, &c->ar, &w, c->e) == 0) {
        json_t *j = json_object();
        plan_jset(c, j, "statistic", plan_jnum(w.statistic));
        plan_jset(c, j, "p_value", plan_jnum(w.p_value));
        plan_jset(c, j, "estimate", plan_jnum(w.estimate));
        plan_jset(c, j, "conf_int", plan_jpair(w.conf_int[0], w.conf_int[1]));
        plan_jset(c, j, "exact", json_boolean(w.is_exact));
        plan_jset(c, j, "method", json_string(w.method ? w.method : ""));
        plan_jset(c, o, "wilcoxon", j);
    } else {
        plan_jset(c, o, "wilcoxon", jerror(c, "Wilcoxon test not computable"));
    }
    struct ttest_result t;
    if (n >= 2 && ttest_paired(xk, x0, n, 0, STATS_ALT_TWO_SIDED, 0.95, &c->ar, &t, c->e) == 0) {
        json_t *j = json_object();
        plan_jset(c, j, "statistic", plan_jnum(t.statistic));
        plan_jset(c, j, "df", plan_jnum(t.df));
        plan_jset(c, j, "p_value", plan_jnum(t.p_value));
        plan_jset(c, j, "estimate", plan_jnum(t.estimate));
        plan_jset(c, j, "conf_int", plan_jpair(t.conf_int[0], t.conf_int[1]));
        plan_jset(c, o, "ttest", j);
    } else {
        plan_jset(c, o, "ttest", jerror(c, "paired t-test not computable"));
    }
    return o;
}

json_t *plan_haemodynamics(struct plan_ctx *c)
{
    json_t *o = json_object();
    plan_jset(c, o, "sap", json_string("§5.3"));
    json_t *tps = json_array();
    for (int k = 0; k < DERIVE_NTP; k++) {
        json_t *p = json_object();
        plan_jset(c, p, "timepoint", json_string(derive_timepoints[k].value));
        plan_jset(c, p, "minutes", json_integer(derive_tp_minutes[k]));
        for (size_t v = 0; v < N_HD_VARS; v++) {
            double *x;
            size_t n = plan_nums(c, ADS_HAEMO, HD_VARS[v].col, HD_TIMEPOINT,
                                 derive_timepoints[k].value, &x);
            plan_jset(c, p, HD_VARS[v].key, plan_jdescribe(c, x, n, "§5.3"));
            arena_free(&c->ar); /* scratch only: the JSON holds copies */
        }
        json_array_append_new(tps, p);
    }
    plan_jset(c, o, "timepoints", tps);
    json_t *vars = json_array();
    for (size_t v = 0; v < N_HD_VARS; v++) {
        json_t *p = json_object();
        plan_jset(c, p, "variable", json_string(HD_VARS[v].key));
        plan_jset(c, p, "label", json_string(HD_VARS[v].label));
        plan_jset(c, p, "unit", json_string(HD_VARS[v].unit));
        json_array_append_new(vars, p);
    }
    plan_jset(c, o, "variables", vars);
    json_t *ch = json_array();
    static const char *const to[] = {"60min", "6h"};
    for (size_t v = 0; v < N_HD_VARS; v++)
        for (int j = 0; j < 2; j++) {
            double *x0, *xk;
            size_t n = hd_pairs(c, HD_VARS[v].col, to[j], &x0, &xk);
            json_t *p = paired_tests(c, x0, xk, n);
            plan_jset(c, p, "variable", json_string(HD_VARS[v].key));
            plan_jset(c, p, "from", json_string("T0"));
            plan_jset(c, p, "to", json_string(to[j]));
            plan_jset(c, p, "sap", json_string("§5.3"));
            json_array_append_new(ch, p);
            arena_free(&c->ar);
        }
    plan_jset(c, o, "changes", ch);
    double *x;
    size_t n = plan_nums(c, ADS_SUBJECTS, SUB_LC_6H, SUB_IN_FAS, "1", &x);
    plan_jset(c, o, "lactate_clearance_6h", plan_jdescribe(c, x, n, "§5.3"));
    /* MAP >= 65 at 6 h among those below 65 at T0 */
    double *m0, *m6;
    size_t np = plan_pairs(c, ADS_SUBJECTS, SUB_MAP_T0, SUB_MAP_6H, &m0, &m6);
    long below = 0, reached = 0;
    for (size_t i = 0; i < np; i++)
        if (m0[i] < 65) {
            below++;
            reached += m6[i] >= 65;
        }
    plan_jset(c, o, "map65_at_6h", plan_jprop(c, reached, below, false, "§5.3"));
    return o;
}

/* ---- §5.4 complications -------------------------------------------------------------------*/

json_t *plan_complications(struct plan_ctx *c)
{
    const struct atable *s = &c->ds->t[ADS_SUBJECTS], *t = &c->ds->t[ADS_COMPLICATIONS];
    json_t *o = json_object();
    plan_jset(c, o, "sap", json_string("§5.4"));
    long safety = 0;
    double hours = 0;
    for (size_t r = 0; r < s->nrows; r++) {
        double h;
        const char *f = atable_get(s, r, SUB_IN_FAS);
        if (!f || strcmp(f, "1") != 0)
            continue;
        safety++;
        if (atable_num(s, r, SUB_IO_HOURS, &h))
            hours += h;
    }
    plan_jset(c, o, "safety_n", json_integer(safety));
    plan_jset(c, o, "io_hours", json_real(hours));
    json_t *types = json_array();
    for (int k = -1; k < DERIVE_NCOMP_TYPES && c->rc == 0; k++) {
        /* k = -1: any complication */
        long events = 0, patients = 0, grades[6] = {0}, serious = 0, related = 0;
        const char *last = NULL;
        for (size_t r = 0; r < t->nrows; r++) {
            double ty, g;
            if (!atable_num(t, r, CMP_TYPE, &ty) || (k >= 0 && ty != derive_comp_code[k]))
                continue;
            events++;
            if (atable_num(t, r, CMP_GRADE, &g) && g >= 1 && g <= 5)
                grades[(int)g]++;
            double x;
            serious += atable_num(t, r, CMP_SERIOUS, &x) && x == 1;
            /* definitely, probably or possibly related to the device (codes 1-3) */
            related += atable_num(t, r, CMP_RELATED, &x) && x >= 1 && x <= 3;
            /* rows are grouped by subject: a subject counts once per type */
            const char *id = atable_get(t, r, CMP_SUBJECT_ID);
            if (!last || !id || strcmp(last, id) != 0)
                patients++;
            last = id;
        }
        if (k >= 0 && events == 0 && derive_comp_code[k] == 99)
            continue;
        json_t *p = plan_jprop(c, patients, safety, false, "§5.4");
        plan_jset(c, p, "type", json_string(k < 0 ? "Any complication" : derive_comp_label[k]));
        plan_jset(c, p, "code", k < 0 ? json_null() : json_integer(derive_comp_code[k]));
        plan_jset(c, p, "events", json_integer(events));
        json_t *g = json_array();
        for (int i = 1; i <= 5; i++)
            json_array_append_new(g, json_integer(grades[i]));
        plan_jset(c, p, "grades", g);
        plan_jset(c, p, "serious_events", json_integer(serious));
        plan_jset(c, p, "related_events", json_integer(related));
        if (hours > 0) {
            struct poisson_ci pc;
            if (binom_poisson_rate_ci(events, hours / 1000.0, 0.95, &pc, c->e) == 0) {
                plan_jset(c, p, "rate_per_1000h", plan_jnum(pc.rate));
                plan_jset(c, p, "rate_ci", plan_jpair(pc.conf_int[0], pc.conf_int[1]));
            } else {
                c->rc = ERR_INTERNAL;
            }
        }
        json_array_append_new(types, p);
    }
    plan_jset(c, o, "types", types);
    double *x;
    size_t n = plan_nums(c, ADS_PLACEMENTS, PL_DWELL_H, -1, NULL, &x);
    plan_jset(c, o, "dwell_h", plan_jdescribe(c, x, n, "§5.4"));
    json_t *dev = json_array(), *lastobs = json_array();
    const struct atable *pl = &c->ds->t[ADS_PLACEMENTS];
    for (size_t r = 0; r < pl->nrows; r++) {
        const char *g = atable_get(pl, r, PL_DWELL_GT24),
                   *l = atable_get(pl, r, PL_DWELL_FROM_LAST_OBS);
        char buf[64];
        fmt_text(buf, sizeof buf, "%s #%s", atable_get(pl, r, PL_SUBJECT_ID),
                 atable_get(pl, r, PL_PLACEMENT) ? atable_get(pl, r, PL_PLACEMENT) : "?");
        if (g && strcmp(g, "1") == 0)
            json_array_append_new(dev, json_string(buf));
        if (l && strcmp(l, "1") == 0)
            json_array_append_new(lastobs, json_string(buf));
    }
    plan_jset(c, o, "dwell_gt24", dev);
    plan_jset(c, o, "dwell_to_last_observation", lastobs);
    return o;
}

/* ---- §6 subgroups -------------------------------------------------------------------------*/

static const struct {
    const char *key, *label, *yes, *no;
    int col;
} SUBGROUPS[] = {
    {"plt_lt20", "Platelets", "< 20 ×10⁹/L", "≥ 20 ×10⁹/L", SUB_SG_PLT_LT20},
    {"anc_lt05", "ANC", "< 0.5 ×10⁹/L", "≥ 0.5 ×10⁹/L", SUB_SG_ANC_LT05},
    {"dic", "ISTH overt DIC", "yes", "no", SUB_SG_DIC},
    {"site", "First site", "humerus", "tibia", SUB_SG_HUMERUS},
    {"hsct", "HSCT", "yes", "no", SUB_SG_HSCT},
    {"septic_shock", "Septic shock", "yes", "no", SUB_SG_SEPTIC_SHOCK},
};

static json_t *subgroup(struct plan_ctx *c, size_t k)
{
    const struct atable *t = &c->ds->t[ADS_SUBJECTS];
    json_t *o = json_object();
    plan_jset(c, o, "key", json_string(SUBGROUPS[k].key));
    plan_jset(c, o, "label", json_string(SUBGROUPS[k].label));
    plan_jset(c, o, "level_1", json_string(SUBGROUPS[k].yes));
    plan_jset(c, o, "level_0", json_string(SUBGROUPS[k].no));
    plan_jset(c, o, "sap", json_string("§6"));
    long a = 0, b = 0, cc = 0, d = 0;
    double *tm = arena_calloc(&c->ar, t->nrows + 1, sizeof *tm);
    double *st = arena_calloc(&c->ar, t->nrows + 1, sizeof *st);
    double *x = arena_calloc(&c->ar, t->nrows + 1, sizeof *x);
    int *grp = arena_calloc(&c->ar, t->nrows + 1, sizeof *grp);
    if (!tm || !st || !x || !grp) {
        c->rc = ERR_NOMEM;
        return o;
    }
    size_t ns = 0;
    long n1 = 0, n0 = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double g, f, os, ev;
        const char *in = atable_get(t, r, SUB_IN_FAS);
        if (!in || strcmp(in, "1") != 0 || !atable_num(t, r, (size_t)SUBGROUPS[k].col, &g))
            continue;
        if (atable_num(t, r, SUB_FIRST_ATTEMPT_SUCCESS, &f)) {
            if (g == 1)
                f == 1 ? a++ : b++;
            else
                f == 1 ? cc++ : d++;
        }
        if (atable_num(t, r, SUB_OS_DAYS, &os) && atable_num(t, r, SUB_OS_STATUS, &ev)) {
            tm[ns] = os;
            st[ns] = ev;
            x[ns] = g;
            grp[ns] = g == 1 ? 1 : 0;
            n1 += g == 1;
            n0 += g != 1;
            ns++;
        }
    }
    json_t *fa = json_object();
    plan_jset(c, fa, "table", json_pack("[[i,i],[i,i]]", a, b, cc, d));
    plan_jset(c, fa, "level_1", plan_jprop(c, a, a + b, false, "§6"));
    plan_jset(c, fa, "level_0", plan_jprop(c, cc, cc + d, false, "§6"));
    if (a + b > 0 && cc + d > 0) {
        double p1 = (double)a / (double)(a + b), p0 = (double)cc / (double)(cc + d);
        plan_jset(c, fa, "risk_difference", plan_jnum(p1 - p0));
        struct fisher_result fr;
        if (fisher_test_2x2(a, b, cc, d, STATS_ALT_TWO_SIDED, 0.95, &c->ar, &fr, c->e) == 0) {
            json_t *j = json_object();
            plan_jset(c, j, "p_value", plan_jnum(fr.p_value));
            plan_jset(c, j, "odds_ratio", plan_jnum(fr.estimate));
            plan_jset(c, j, "conf_int", plan_jpair(fr.conf_int[0], fr.conf_int[1]));
            plan_jset(c, fa, "fisher", j);
        } else {
            plan_jset(c, fa, "fisher", jerror(c, "Fisher's test not computable"));
        }
    }
    plan_jset(c, o, "first_attempt_success", fa);
    json_t *sv = json_object();
    plan_jset(c, sv, "n_1", json_integer(n1));
    plan_jset(c, sv, "n_0", json_integer(n0));
    long e1 = 0, e0 = 0;
    for (size_t i = 0; i < ns; i++) {
        e1 += grp[i] == 1 && st[i] == 1;
        e0 += grp[i] == 0 && st[i] == 1;
    }
    plan_jset(c, sv, "events_1", json_integer(e1));
    plan_jset(c, sv, "events_0", json_integer(e0));
    if (n1 > 0 && n0 > 0 && e1 + e0 > 0) {
        struct logrank_result lr;
        if (logrank_test(tm, st, grp, 2, NULL, 0, ns, 0, true, &c->ar, &lr, c->e) == 0) {
            json_t *j = json_object();
            plan_jset(c, j, "chisq", plan_jnum(lr.chisq));
            plan_jset(c, j, "df", json_integer(lr.df));
            plan_jset(c, j, "p_value", plan_jnum(lr.p_value));
            plan_jset(c, sv, "logrank", j);
        } else {
            plan_jset(c, sv, "logrank", jerror(c, "log-rank test not computable"));
        }
        struct cox_opts co = cox_default_opts();
        struct cox_result cr;
        if (cox_fit(tm, st, x, ns, 1, &co, &c->ar, &cr, c->e) == 0) {
            json_t *j = json_object();
            plan_jset(c, j, "coef", plan_jnum(cr.coef[0]));
            plan_jset(c, j, "hr", plan_jnum(cr.hr[0]));
            plan_jset(c, j, "conf_int", plan_jpair(cr.hr_lower[0], cr.hr_upper[0]));
            plan_jset(c, j, "p_value", plan_jnum(cr.p_value[0]));
            plan_jset(c, j, "converged", json_boolean(cr.converged && !cr.maybe_infinite[0]));
            plan_jset(c, sv, "cox", j);
        } else {
            plan_jset(c, sv, "cox", jerror(c, "Cox model not computable"));
        }
    }
    plan_jset(c, o, "survival", sv);
    return o;
}

json_t *plan_subgroups(struct plan_ctx *c)
{
    json_t *a = json_array();
    for (size_t k = 0; k < sizeof SUBGROUPS / sizeof SUBGROUPS[0]; k++)
        json_array_append_new(a, subgroup(c, k));
    return a;
}

/* ---- §7 completeness ----------------------------------------------------------------------*/

json_t *plan_completeness(struct plan_ctx *c)
{
    const struct atable *t = &c->ds->t[ADS_COMPLETENESS];
    json_t *o = json_object(), *forms = json_array(), *fields = json_array();
    plan_jset(c, o, "sap", json_string("§7"));
    const char *cur = NULL, *cur_label = NULL;
    long fe = 0, fp = 0;
    for (size_t r = 0; r <= t->nrows; r++) {
        const char *form = r < t->nrows ? atable_get(t, r, CPL_FORM) : NULL;
        if (cur && (!form || strcmp(form, cur) != 0)) {
            json_t *p = json_object();
            plan_jset(c, p, "form", json_string(cur));
            plan_jset(c, p, "form_label", json_string(cur_label ? cur_label : cur));
            plan_jset(c, p, "expected", json_integer(fe));
            plan_jset(c, p, "present", json_integer(fp));
            plan_jset(c, p, "pct", fe ? json_real(100.0 * (double)fp / (double)fe) : json_null());
            json_array_append_new(forms, p);
            fe = fp = 0;
        }
        if (!form)
            break;
        cur = form;
        cur_label = atable_get(t, r, CPL_FORM_LABEL);
        double ex = 0, pr = 0;
        atable_num(t, r, CPL_EXPECTED, &ex);
        atable_num(t, r, CPL_PRESENT, &pr);
        fe += plan_count_of(ex);
        fp += plan_count_of(pr);
        json_t *p = json_object();
        plan_jset(c, p, "form", json_string(form));
        plan_jset(c, p, "form_label", json_string(cur_label ? cur_label : form));
        plan_jset(c, p, "field", json_string(atable_get(t, r, CPL_FIELD)));
        plan_jset(c, p, "expected", json_integer(plan_count_of(ex)));
        plan_jset(c, p, "present", json_integer(plan_count_of(pr)));
        plan_jset(c, p, "pct", ex > 0 ? json_real(100.0 * pr / ex) : json_null());
        json_array_append_new(fields, p);
    }
    plan_jset(c, o, "forms", forms);
    plan_jset(c, o, "fields", fields);
    return o;
}
