/* The report's figures from results.json (see report_figs.h). Arrays handed to the figure code
 * live in an arena for the duration of the drawing. */
#include "report/report_figs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/fmt.h"
#include "report/figure.h"

static double jd(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static long jl(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static double *jarr(struct arena *ar, const json_t *a, size_t *n)
{
    *n = json_array_size(a);
    double *x = arena_calloc(ar, *n + 1, sizeof *x);
    for (size_t i = 0; x && i < *n; i++) {
        const json_t *v = json_array_get(a, i);
        x[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return x;
}

static int add(struct report_fig *figs, size_t *n, const struct fig *f, const char *name,
               const char *caption, const char *sap, const char *dir, struct err *e)
{
    struct report_fig *r = &figs[*n];
    memset(r, 0, sizeof *r);
    r->name = name;
    r->caption = caption;
    r->sap = sap;
    int rc = fig_render_buf(f, FIG_SVG, &r->svg, e);
    if (rc == 0 && dir) {
        char base[4096];
        rc = fmt_fits(base, sizeof base, "%s/%s", dir, name)
                 ? fig_render_all(f, base, e)
                 : err_set_field(e, ERR_INVALID, "out", "%s: path too long", dir);
    }
    if (rc) {
        strbuf_release(&r->svg);
        err_prefix(e, "figure %s", name);
        return rc;
    }
    (*n)++;
    return 0;
}

static int fig_flow(const json_t *res, struct report_fig *figs, size_t *n, const char *dir,
                    struct err *e)
{
    const json_t *st = json_object_get(res, "status"), *rf = json_object_get(st, "reasons_first");
    struct fig_flow_exclusion ex0[] = {
        {"Inclusion criterion not met", jl(rf, "inclusion_not_met")},
        {"Exclusion criterion met", jl(rf, "exclusion_met")},
        {"Consent refused", jl(rf, "consent_refused")},
        {"Screening incomplete", jl(rf, "screening_incomplete")},
    };
    struct fig_flow_exclusion ex1[] = {{"Consent not recorded", jl(rf, "consent_not_recorded")}};
    struct fig_flow_exclusion ex2[] = {{"No IO insertion attempt", jl(rf, "no_io_attempt")}};
    struct fig_flow_stage stages[] = {
        {"Screened", jl(st, "screened"), "Not eligible", ex0, 4},
        {"Eligible", jl(st, "eligible"), "Not enrolled", ex1, 1},
        {"Enrolled", jl(st, "enrolled"), "Not analysed", ex2, 1},
        {"Full analysis set", jl(st, "fas"), NULL, NULL, 0},
    };
    struct fig_flow flow = {"Study flow", stages, 4};
    struct fig f = {FIG_FLOW, {.flow = &flow}};
    return add(figs, n, &f, "flow", "Flow of patients from screening to analysis", "§2", dir, e);
}

static int fig_enrolment(struct arena *ar, const json_t *res, struct report_fig *figs, size_t *n,
                         const char *dir, struct err *e)
{
    const json_t *st = json_object_get(res, "status"), *en = json_object_get(st, "enrolment");
    if (!en)
        return 0;
    size_t k;
    double *days = jarr(ar, json_object_get(en, "days"), &k);
    if (!days || k == 0)
        return 0;
    struct fig_enrol fe = {"Enrolment",
                           "Date",
                           "Patients enrolled",
                           json_string_value(json_object_get(en, "start_date")),
                           days,
                           k,
                           (double)jl(st, "target"),
                           0,
                           0};
    struct fig f = {FIG_ENROL, {.enrol = &fe}};
    return add(figs, n, &f, "enrolment", "Cumulative enrolment against the protocol's target", "§2",
               dir, e);
}

static int fig_km(struct arena *ar, const json_t *res, struct report_fig *figs, size_t *n,
                  const char *dir, struct err *e)
{
    const json_t *os = json_object_get(json_object_get(res, "primary"), "overall_survival");
    const json_t *cv = json_object_get(os, "curve");
    if (!cv)
        return 0;
    size_t nt, k;
    double *time = jarr(ar, json_object_get(cv, "time"), &nt);
    double *surv = jarr(ar, json_object_get(cv, "surv"), &k);
    double *lower = jarr(ar, json_object_get(cv, "lower"), &k);
    double *upper = jarr(ar, json_object_get(cv, "upper"), &k);
    double *ncens = jarr(ar, json_object_get(cv, "n_censor"), &k);
    const json_t *risk = json_object_get(os, "at_risk");
    double *at_risk = arena_calloc(ar, json_array_size(risk) + 1, sizeof *at_risk);
    double *ctimes = arena_calloc(ar, nt + 1, sizeof *ctimes);
    if (!time || !surv || !lower || !upper || !ncens || !at_risk || !ctimes || nt == 0)
        return nt == 0 ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(risk); i++)
        at_risk[i] = jd(json_array_get(risk, i), "n_risk");
    size_t nc = 0;
    for (size_t i = 0; i < nt; i++)
        if (ncens[i] > 0)
            ctimes[nc++] = time[i];
    struct fig_km_stratum s = {"All patients", nt,      time, surv, lower,
                               upper,          at_risk, NULL, nc,   ctimes};
    static const double refs[] = {28, 90};
    static const char *const ref_labels[] = {"Day 28", "Day 90"};
    /* The axis runs to day 90 (SAP §4.3: censored at 90 days) or to the last follow-up time,
     * whichever is later, so the curve is never cut off before the end of follow-up. */
    double end = 90.0;
    for (size_t i = 0; i < nt; i++)
        if (isfinite(time[i]) && time[i] > end)
            end = ceil(time[i]);
    struct fig_km km = {"Overall survival",
                        "Days since the first IO puncture (T0)",
                        "Overall survival (%)",
                        end,
                        14,
                        &s,
                        1,
                        refs,
                        2,
                        ref_labels};
    struct fig f = {FIG_KM, {.km = &km}};
    return add(figs, n, &f, "km_overall",
               "Kaplan–Meier estimate of overall survival with 95% CI and numbers at risk", "§4.3",
               dir, e);
}

static int fig_traj(struct arena *ar, const json_t *res, const char *var, const char *title,
                    const char *ylab, bool ref65, const char *name, const char *caption,
                    struct report_fig *figs, size_t *n, const char *dir, struct err *e)
{
    const json_t *tps = json_object_get(
        json_object_get(json_object_get(res, "secondary"), "haemodynamics"), "timepoints");
    size_t np = json_array_size(tps);
    if (np == 0)
        return 0;
    double *med = arena_calloc(ar, np, sizeof *med), *q1 = arena_calloc(ar, np, sizeof *q1),
           *q3 = arena_calloc(ar, np, sizeof *q3);
    const char **labels = arena_calloc(ar, np, sizeof *labels);
    if (!med || !q1 || !q3 || !labels)
        return err_set(e, ERR_NOMEM, "out of memory");
    bool any = false;
    for (size_t i = 0; i < np; i++) {
        const json_t *tp = json_array_get(tps, i), *d = json_object_get(tp, var);
        labels[i] = json_string_value(json_object_get(tp, "timepoint"));
        med[i] = jd(d, "median");
        q1[i] = jd(d, "q1");
        q3[i] = jd(d, "q3");
        any |= isfinite(med[i]);
    }
    if (!any)
        return 0;
    struct fig_lines_series s = {"Median and IQR", med, q1, q3};
    struct fig_lines fl = {
        title, "Time point", ylab, labels, np, &s, 1, ref65, 65, ref65 ? "MAP 65 mmHg" : NULL, 0,
        0};
    struct fig f = {FIG_LINES, {.lines = &fl}};
    return add(figs, n, &f, name, caption, "§5.3", dir, e);
}

/* "favours humerus", or for a yes/no subgroup "favours HSCT" / "favours no HSCT". */
static const char *favours(struct arena *ar, const char *label, const char *level)
{
    if (!label || !level)
        return NULL;
    bool yes = strcmp(level, "yes") == 0;
    if (!yes && strcmp(level, "no") != 0)
        return arena_printf(ar, "favours %s", level);
    /* "Septic shock" reads "septic shock" in a sentence; an acronym ("HSCT", "ISTH") stays */
    bool lower = label[0] >= 'A' && label[0] <= 'Z' && label[1] >= 'a' && label[1] <= 'z';
    return arena_printf(ar, "favours %s%c%s", yes ? "" : "no ",
                        lower ? label[0] - 'A' + 'a' : label[0], label + 1);
}

static int fig_forest(struct arena *ar, const json_t *res, struct report_fig *figs, size_t *n,
                      const char *dir, struct err *e)
{
    const json_t *sg = json_object_get(res, "subgroups");
    size_t ns = json_array_size(sg);
    if (ns == 0)
        return 0;
    struct fig_forest_row *rows = arena_calloc(ar, ns * 3, sizeof *rows);
    if (!rows)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t nr = 0;
    for (size_t i = 0; i < ns; i++) {
        const json_t *g = json_array_get(sg, i);
        const json_t *fa = json_object_get(g, "first_attempt_success");
        const json_t *fi = json_object_get(fa, "fisher"), *sv = json_object_get(g, "survival");
        const json_t *cx = json_object_get(sv, "cox");
        const char *label = json_string_value(json_object_get(g, "label"));
        const char *first = json_string_value(json_object_get(g, "level_1"));
        const char *second = json_string_value(json_object_get(g, "level_0"));
        rows[nr].label = arena_printf(ar, "%s: %s vs %s", label, first, second);
        rows[nr++].is_heading = true;
        const char *fav1 = favours(ar, label, first), *fav2 = favours(ar, label, second);
        const json_t *ci = json_object_get(fi, "conf_int");
        rows[nr].label = "First-attempt success, odds ratio";
        rows[nr].est = jd(fi, "odds_ratio");
        rows[nr].lower =
            json_is_number(json_array_get(ci, 0)) ? json_number_value(json_array_get(ci, 0)) : NAN;
        rows[nr].upper =
            json_is_number(json_array_get(ci, 1)) ? json_number_value(json_array_get(ci, 1)) : NAN;
        rows[nr].p_text =
            isfinite(jd(fi, "p_value")) ? arena_printf(ar, "%.3f", jd(fi, "p_value")) : NULL;
        /* an odds ratio of success above 1: more successes in the first group */
        rows[nr].favours_left = fav2;
        rows[nr].favours_right = fav1;
        nr++;
        ci = json_object_get(cx, "conf_int");
        rows[nr].label = "Overall survival, hazard ratio";
        rows[nr].est = jd(cx, "hr");
        rows[nr].lower =
            json_is_number(json_array_get(ci, 0)) ? json_number_value(json_array_get(ci, 0)) : NAN;
        rows[nr].upper =
            json_is_number(json_array_get(ci, 1)) ? json_number_value(json_array_get(ci, 1)) : NAN;
        rows[nr].p_text =
            isfinite(jd(cx, "p_value")) ? arena_printf(ar, "%.3f", jd(cx, "p_value")) : NULL;
        /* a hazard ratio of death below 1: fewer deaths in the first group */
        rows[nr].favours_left = fav1;
        rows[nr].favours_right = fav2;
        nr++;
    }
    struct fig_forest fp = {"Subgroups",
                            "Odds ratio / hazard ratio (95% CI), log scale",
                            "Estimate (95% CI)",
                            NULL,
                            NULL,
                            NULL,
                            true,
                            1,
                            0.05,
                            20,
                            rows,
                            nr};
    struct fig f = {FIG_FOREST, {.forest = &fp}};
    return add(figs, n, &f, "forest_subgroups",
               "Subgroups: odds ratio of first-attempt success (Fisher) and hazard ratio of "
               "death (Cox), first level vs second",
               "§6", dir, e);
}

int report_figs_make(const json_t *results, const char *dir, struct report_fig *figs, size_t *nfigs,
                     struct err *e)
{
    struct arena ar = ARENA_INIT;
    *nfigs = 0;
    int rc = fig_flow(results, figs, nfigs, dir, e);
    if (rc == 0)
        rc = fig_enrolment(&ar, results, figs, nfigs, dir, e);
    if (rc == 0)
        rc = fig_km(&ar, results, figs, nfigs, dir, e);
    if (rc == 0)
        rc = fig_traj(&ar, results, "map", "Mean arterial pressure", "MAP (mmHg)", true,
                      "trajectory_map", "MAP at each time point: median and IQR", figs, nfigs, dir,
                      e);
    if (rc == 0)
        rc = fig_traj(&ar, results, "lactate", "Lactate", "Lactate (mmol/L)", false,
                      "trajectory_lactate", "Lactate at each time point: median and IQR", figs,
                      nfigs, dir, e);
    if (rc == 0)
        rc = fig_forest(&ar, results, figs, nfigs, dir, e);
    arena_free(&ar);
    if (rc) {
        report_figs_free(figs, *nfigs);
        *nfigs = 0;
    }
    return rc;
}

void report_figs_free(struct report_fig *figs, size_t nfigs)
{
    for (size_t i = 0; i < nfigs; i++)
        strbuf_release(&figs[i].svg);
}
