/* The HTML report, part 2 (see report_html.h): secondary endpoints (SAP §5), subgroups (§6)
 * and data completeness (§7). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "core/derive.h"
#include "report/html_out.h"
#include "report/report_html_int.h"

/* The label of value s in the coded choice m (core/derive.h), NULL when it has none. */
static const char *level_label(const struct derive_level *m, const char *s)
{
    for (;; m++) {
        if (m->value && strcmp(s, m->value) == 0)
            return m->label;
        if (!m->code)
            return NULL;
    }
}

/* A site's label (derive_sites) or a pressure method's (derive_methods). */
static const char *site_label(const char *s)
{
    const char *l = level_label(derive_sites, s);
    if (!l)
        l = level_label(derive_methods, s);
    return l ? l : s;
}

static void desc_rows(struct strbuf *sb, const json_t *arr, const char *key)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *d = json_array_get(arr, i);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, site_label(rh_js(d, key)));
        rh_td_int(sb, rh_jd(d, "n"));
        rh_td_miqr(sb, d, 1);
        strbuf_adds(sb, "</tr>");
    }
}

static void s_infusion(struct strbuf *sb, struct rh_sections *sec, const json_t *r)
{
    const json_t *in = rh_jp(r, "secondary.infusion_speed");
    rh_h3(sb, sec, "Infusion speed", "§5.1");
    strbuf_adds(sb, "<p>");
    rh_num(sb, rh_jd(in, "episodes"), 0);
    strbuf_adds(sb, " infusion episodes; ");
    rh_num(sb, rh_jd(in, "excluded_no_duration"), 0);
    strbuf_adds(sb, " without a usable duration left out. All episodes: ");
    rh_miqr(sb, rh_jp(in, "all"), 1);
    strbuf_adds(sb, " mL/min.</p>\n<table><caption>Flow rate (mL/min), median [IQR]");
    rh_sap(sb, "§5.1");
    strbuf_adds(sb, "</caption><tr><th>By site</th><th>Episodes</th><th>mL/min</th></tr>");
    desc_rows(sb, rh_jp(in, "by_site"), "level");
    strbuf_adds(sb, "<tr><th>By pressure method</th><th></th><th></th></tr>");
    desc_rows(sb, rh_jp(in, "by_method"), "level");
    strbuf_adds(sb, "<tr><th>Site × method</th><th></th><th></th></tr>");
    const json_t *x = rh_jp(in, "by_site_method");
    for (size_t i = 0; i < json_array_size(x); i++) {
        const json_t *d = json_array_get(x, i);
        char label[96];
        fmt_text(label, sizeof label, "%s, %s", site_label(rh_js(d, "site")),
                 site_label(rh_js(d, "method")));
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, label);
        rh_td_int(sb, rh_jd(d, "n"));
        rh_td_miqr(sb, d, 1);
        strbuf_adds(sb, "</tr>");
    }
    strbuf_adds(sb, "</table>\n<p>Volume infused in the first 30 min after T0: ");
    rh_miqr(sb, rh_jp(in, "volume_first_30min_ml"), 0);
    strbuf_adds(sb, " mL (n = ");
    rh_num(sb, rh_jd(in, "volume_first_30min_ml.n"), 0);
    strbuf_adds(sb, ")");
    rh_sap(sb, "§5.1");
    strbuf_adds(sb, ".</p>\n");
}

static void s_access(struct strbuf *sb, struct rh_sections *sec, const json_t *r)
{
    const json_t *a = rh_jp(r, "secondary.time_to_access");
    rh_h3(sb, sec, "Time to access", "§5.2");
    strbuf_adds(sb, "<table><caption>Seconds to confirmed placement, first placement");
    rh_sap(sb, "§5.2");
    strbuf_adds(sb, "</caption><tr><th>From</th><th>n</th><th>Median [IQR] (s)</th></tr>"
                    "<tr><td>Decision to use IO</td>");
    rh_td_int(sb, rh_jd(a, "decision_to_access_s.n"));
    rh_td_miqr(sb, rh_jp(a, "decision_to_access_s"), 0);
    strbuf_adds(sb, "</tr><tr><td>First skin puncture</td>");
    rh_td_int(sb, rh_jd(a, "puncture_to_access_s.n"));
    rh_td_miqr(sb, rh_jp(a, "puncture_to_access_s"), 0);
    strbuf_adds(sb, "</tr></table>\n<p>FAS: ");
    rh_num(sb, rh_jd(a, "fas"), 0);
    strbuf_adds(sb, " patients; patients without a confirmed first placement have no time to "
                    "access and are left out.</p>\n");
}

static void s_haemo(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                    const struct report_fig *f, size_t nf)
{
    const json_t *h = rh_jp(r, "secondary.haemodynamics");
    const json_t *vars = rh_jp(h, "variables"), *tps = rh_jp(h, "timepoints");
    rh_h3(sb, sec, "Haemodynamic improvement", "§5.3");
    strbuf_adds(sb, "<div class=\"scroll\"><table class=\"wide\"><caption>Median [IQR] "
                    "(n) at each time point");
    rh_sap(sb, "§5.3");
    strbuf_adds(sb, "</caption><tr><th>Time point</th>");
    for (size_t v = 0; v < json_array_size(vars); v++) {
        const json_t *var = json_array_get(vars, v);
        strbuf_adds(sb, "<th>");
        strbuf_add_html(sb, rh_js(var, "label"));
        if (*rh_js(var, "unit")) {
            strbuf_adds(sb, " (");
            strbuf_add_html(sb, rh_js(var, "unit"));
            strbuf_adds(sb, ")");
        }
        strbuf_adds(sb, "</th>");
    }
    strbuf_adds(sb, "</tr>");
    for (size_t k = 0; k < json_array_size(tps); k++) {
        const json_t *tp = json_array_get(tps, k);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, rh_js(tp, "timepoint"));
        for (size_t v = 0; v < json_array_size(vars); v++) {
            const char *key = rh_js(json_array_get(vars, v), "variable");
            int dp = strcmp(key, "ne_eq") == 0         ? 3
                     : strcmp(key, "shock_index") == 0 ? 2
                     : strcmp(key, "lactate") == 0     ? 1
                                                       : 0;
            const json_t *d = json_object_get(tp, key);
            strbuf_adds(sb, "<td class=\"n\">");
            rh_miqr(sb, d, dp);
            strbuf_adds(sb, " (");
            rh_num(sb, rh_jd(d, "n"), 0);
            strbuf_adds(sb, ")</td>");
        }
        strbuf_adds(sb, "</tr>");
    }
    strbuf_adds(sb, "</table></div>\n");
    rh_figure(sb, f, nf, "trajectory_map");
    rh_figure(sb, f, nf, "trajectory_lactate");
    strbuf_adds(sb, "<div class=\"scroll\"><table class=\"wide\"><caption>Change from T0, complete "
                    "pairs: Wilcoxon signed-rank "
                    "(primary; Hodges–Lehmann estimate and CI) and paired t-test (sensitivity)");
    rh_sap(sb, "§5.3");
    strbuf_adds(sb, "</caption><tr><th>Variable</th><th>To</th><th>Pairs</th>"
                    "<th>Median change [IQR]</th><th>HL estimate (95% CI)</th><th>Wilcoxon p</th>"
                    "<th>Mean change (95% CI)</th><th>t-test p</th></tr>");
    const json_t *ch = rh_jp(h, "changes");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        const json_t *c = json_array_get(ch, i);
        const char *key = rh_js(c, "variable");
        int dp = strcmp(key, "ne_eq") == 0 ? 3 : strcmp(key, "shock_index") == 0 ? 2 : 1;
        const char *label = key;
        for (size_t v = 0; v < json_array_size(vars); v++)
            if (strcmp(rh_js(json_array_get(vars, v), "variable"), key) == 0)
                label = rh_js(json_array_get(vars, v), "label");
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, label);
        rh_td_text(sb, rh_js(c, "to"));
        rh_td_int(sb, rh_jd(c, "n"));
        rh_td_miqr(sb, rh_jp(c, "change"), dp);
        strbuf_adds(sb, "<td class=\"n\">");
        if (rh_jp(c, "wilcoxon.error")) {
            strbuf_add_html(sb, rh_js(c, "wilcoxon.error"));
            strbuf_adds(sb, "</td><td class=\"n\">NA");
        } else {
            rh_num(sb, rh_jd(c, "wilcoxon.estimate"), dp);
            strbuf_adds(sb, " (");
            rh_ci(sb, c, "wilcoxon.conf_int", 1, dp, ")");
            strbuf_adds(sb, "</td><td class=\"n\">");
            rh_pval(sb, rh_jd(c, "wilcoxon.p_value"));
        }
        strbuf_adds(sb, "</td><td class=\"n\">");
        if (rh_jp(c, "ttest.error")) {
            strbuf_add_html(sb, rh_js(c, "ttest.error"));
            strbuf_adds(sb, "</td><td class=\"n\">NA");
        } else {
            rh_num(sb, rh_jd(c, "ttest.estimate"), dp);
            strbuf_adds(sb, " (");
            rh_ci(sb, c, "ttest.conf_int", 1, dp, ")");
            strbuf_adds(sb, "</td><td class=\"n\">");
            rh_pval(sb, rh_jd(c, "ttest.p_value"));
        }
        strbuf_adds(sb, "</td></tr>");
    }
    strbuf_adds(sb, "</table></div>\n<p>Lactate clearance at 6 h: ");
    rh_miqr(sb, rh_jp(h, "lactate_clearance_6h"), 1);
    strbuf_adds(sb, " % (n = ");
    rh_num(sb, rh_jd(h, "lactate_clearance_6h.n"), 0);
    strbuf_adds(sb, "). MAP ≥ 65 mmHg at 6 h among those below 65 at T0: ");
    rh_num(sb, rh_jd(h, "map65_at_6h.x"), 0);
    strbuf_adds(sb, "/");
    rh_num(sb, rh_jd(h, "map65_at_6h.n"), 0);
    strbuf_adds(sb, " (");
    rh_pct(sb, rh_jd(h, "map65_at_6h.estimate"));
    strbuf_adds(sb, "; exact 95% CI ");
    rh_ci(sb, h, "map65_at_6h.ci_exact", 100, 1, "%");
    strbuf_adds(sb, ")");
    rh_sap(sb, "§5.3");
    strbuf_adds(sb, ".</p>\n");
}

static void s_complications(struct strbuf *sb, struct rh_sections *sec, const json_t *r)
{
    const json_t *c = rh_jp(r, "secondary.complications");
    rh_h3(sb, sec, "Complications", "§5.4");
    strbuf_adds(sb, "<p>Safety set: ");
    rh_num(sb, rh_jd(c, "safety_n"), 0);
    strbuf_adds(sb, " patients, ");
    rh_num(sb, rh_jd(c, "io_hours"), 1);
    strbuf_adds(sb, " IO-hours. Dwell time per placement: ");
    rh_miqr(sb, rh_jp(c, "dwell_h"), 1);
    strbuf_adds(sb, " h (n = ");
    rh_num(sb, rh_jd(c, "dwell_h.n"), 0);
    strbuf_adds(sb,
                ").</p>\n<div class=\"scroll\"><table class=\"wide\"><caption>Complications by "
                "type and CTCAE grade: patients "
                "with ≥ 1 event (Clopper–Pearson CI), events per 1000 IO-hours (exact "
                "Poisson CI); serious and device-related (definitely, probably, possibly) events");
    rh_sap(sb, "§5.4");
    strbuf_adds(sb, "</caption><tr><th>Type</th><th>Patients</th><th>%</th><th>95% CI</th>"
                    "<th>Events</th><th>G1</th><th>G2</th><th>G3</th><th>G4</th><th>G5</th>"
                    "<th>Serious</th><th>Device-related</th>"
                    "<th>Per 1000 IO-h (95% CI)</th></tr>");
    const json_t *types = rh_jp(c, "types");
    for (size_t i = 0; i < json_array_size(types); i++) {
        const json_t *t = json_array_get(types, i);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, rh_js(t, "type"));
        rh_td_prop(sb, t);
        rh_td_int(sb, rh_jd(t, "events"));
        for (size_t g = 0; g < 5; g++)
            rh_td_int(sb, rh_jai(t, "grades", g));
        rh_td_int(sb, rh_jd(t, "serious_events"));
        rh_td_int(sb, rh_jd(t, "related_events"));
        strbuf_adds(sb, "<td class=\"n\">");
        rh_num(sb, rh_jd(t, "rate_per_1000h"), 2);
        strbuf_adds(sb, " (");
        rh_ci(sb, t, "rate_ci", 1, 2, ")");
        strbuf_adds(sb, "</td></tr>");
    }
    strbuf_adds(sb, "</table></div>\n");
    static const struct {
        const char *key, *label;
    } lists[] = {{"dwell_gt24", "Protocol deviations, dwell beyond 24 h"},
                 {"dwell_to_last_observation", "Placements without removal time (dwell counted "
                                               "to the last observation)"}};
    for (size_t l = 0; l < 2; l++) {
        const json_t *a = rh_jp(c, lists[l].key);
        strbuf_adds(sb, "<p>");
        strbuf_add_html(sb, lists[l].label);
        strbuf_addf(sb, " (%zu)", json_array_size(a));
        rh_sap(sb, "§5.4");
        strbuf_adds(sb, json_array_size(a) ? ": " : ".");
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (i)
                strbuf_adds(sb, ", ");
            strbuf_add_html(sb, json_string_value(json_array_get(a, i)));
        }
        strbuf_adds(sb, "</p>\n");
    }
}

void report_html_secondary(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                           const struct report_fig *f, size_t nf)
{
    rh_h2(sb, sec, "secondary", "Secondary endpoints", "§5");
    s_infusion(sb, sec, r);
    s_access(sb, sec, r);
    s_haemo(sb, sec, r, f, nf);
    s_complications(sb, sec, r);
}

void report_html_subgroups(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                           const struct report_fig *f, size_t nf)
{
    rh_h2(sb, sec, "subgroups", "Subgroups (exploratory)", "§6");
    strbuf_adds(sb, "<div class=\"scroll\"><table class=\"wide\"><caption>First-attempt "
                    "success (Fisher's exact test, "
                    "conditional MLE odds ratio) and overall survival (log-rank, Cox hazard "
                    "ratio), first level vs second");
    rh_sap(sb, "§6");
    strbuf_adds(sb, "</caption><tr><th>Subgroup</th><th>Success, first level</th>"
                    "<th>Success, second level</th><th>Risk difference</th><th>OR (95% CI)</th>"
                    "<th>Fisher p</th><th>Deaths / n</th><th>Log-rank p</th>"
                    "<th>HR (95% CI)</th><th>Cox p</th></tr>");
    const json_t *sg = rh_jp(r, "subgroups");
    for (size_t i = 0; i < json_array_size(sg); i++) {
        const json_t *g = json_array_get(sg, i);
        strbuf_adds(sb, "<tr><td><b>");
        strbuf_add_html(sb, rh_js(g, "label"));
        strbuf_adds(sb, "</b><br>");
        strbuf_add_html(sb, rh_js(g, "level_1"));
        strbuf_adds(sb, " vs ");
        strbuf_add_html(sb, rh_js(g, "level_0"));
        strbuf_adds(sb, "</td>");
        static const char *const lv[] = {"first_attempt_success.level_1",
                                         "first_attempt_success.level_0"};
        for (int k = 0; k < 2; k++) {
            const json_t *p = rh_jp(g, lv[k]);
            strbuf_adds(sb, "<td class=\"n\">");
            rh_num(sb, rh_jd(p, "x"), 0);
            strbuf_adds(sb, "/");
            rh_num(sb, rh_jd(p, "n"), 0);
            strbuf_adds(sb, " (");
            rh_pct(sb, rh_jd(p, "estimate"));
            strbuf_adds(sb, ")</td>");
        }
        strbuf_adds(sb, "<td class=\"n\">");
        rh_pct(sb, rh_jd(g, "first_attempt_success.risk_difference"));
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_num(sb, rh_jd(g, "first_attempt_success.fisher.odds_ratio"), 2);
        strbuf_adds(sb, " (");
        rh_ci(sb, g, "first_attempt_success.fisher.conf_int", 1, 2, ")");
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_pval(sb, rh_jd(g, "first_attempt_success.fisher.p_value"));
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_num(sb, rh_jd(g, "survival.events_1"), 0);
        strbuf_adds(sb, "/");
        rh_num(sb, rh_jd(g, "survival.n_1"), 0);
        strbuf_adds(sb, " vs ");
        rh_num(sb, rh_jd(g, "survival.events_0"), 0);
        strbuf_adds(sb, "/");
        rh_num(sb, rh_jd(g, "survival.n_0"), 0);
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_pval(sb, rh_jd(g, "survival.logrank.p_value"));
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_num(sb, rh_jd(g, "survival.cox.hr"), 2);
        strbuf_adds(sb, " (");
        rh_ci(sb, g, "survival.cox.conf_int", 1, 2, ")");
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_pval(sb, rh_jd(g, "survival.cox.p_value"));
        strbuf_adds(sb, "</td></tr>");
    }
    strbuf_adds(sb, "</table></div>\n");
    rh_figure(sb, f, nf, "forest_subgroups");
}

void report_html_completeness(struct strbuf *sb, struct rh_sections *sec, const json_t *r)
{
    const json_t *c = rh_jp(r, "completeness");
    rh_h2(sb, sec, "completeness", "Data completeness", "§7");
    strbuf_adds(sb, "<table><caption>Required values present / expected, per form "
                    "(enrolled subjects; events and instances where the form is collected; "
                    "fields hidden by branching logic not expected)");
    rh_sap(sb, "§7");
    strbuf_adds(sb, "</caption><tr><th>Form</th><th>Present</th><th>Expected</th><th>%</th></tr>");
    const json_t *forms = rh_jp(c, "forms");
    for (size_t i = 0; i < json_array_size(forms); i++) {
        const json_t *fm = json_array_get(forms, i);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, rh_js(fm, "form_label"));
        rh_td_int(sb, rh_jd(fm, "present"));
        rh_td_int(sb, rh_jd(fm, "expected"));
        strbuf_adds(sb, "<td class=\"n\">");
        rh_num(sb, rh_jd(fm, "pct"), 1);
        strbuf_adds(sb, "%</td></tr>");
    }
    strbuf_adds(sb, "</table>\n<table><caption>Fields below 100% complete");
    rh_sap(sb, "§7");
    strbuf_adds(sb, "</caption><tr><th>Form</th><th>Field</th><th>Present</th><th>Expected</th>"
                    "<th>%</th></tr>");
    const json_t *fields = rh_jp(c, "fields");
    size_t shown = 0;
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const json_t *fd = json_array_get(fields, i);
        if (!(rh_jd(fd, "present") < rh_jd(fd, "expected")))
            continue;
        shown++;
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, rh_js(fd, "form_label"));
        rh_td_text(sb, rh_js(fd, "field"));
        rh_td_int(sb, rh_jd(fd, "present"));
        rh_td_int(sb, rh_jd(fd, "expected"));
        strbuf_adds(sb, "<td class=\"n\">");
        rh_num(sb, rh_jd(fd, "pct"), 1);
        strbuf_adds(sb, "%</td></tr>");
    }
    if (!shown)
        strbuf_adds(sb, "<tr><td colspan=\"5\">Every required field is complete.</td></tr>");
    strbuf_adds(sb, "</table>\n");
}
