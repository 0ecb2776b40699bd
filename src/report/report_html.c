/* The HTML study report (see report_html.h). Each section below is one part of the SAP; the
 * helpers format numbers the same way everywhere (percentages to one decimal, p-values to three
 * decimals or "< 0.001", medians with [IQR]). */
#include "report/report_html.h"

#include "base/fmt.h"
#include "report/html_out.h"
#include "report/report_html_int.h"

#include <math.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char CSS[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:70rem;margin:2rem auto;"
    "padding:0 1rem;color:#111;line-height:1.45}"
    "h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #0072B2;"
    "padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.6rem}"
    "table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.92rem}"
    "th,td{border-bottom:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "caption{caption-side:top;text-align:left;font-weight:bold;padding:.3rem 0}"
    ".sap{font-size:.78rem;color:#555;background:#eef3f8;border-radius:3px;padding:0 .3rem;"
    "font-weight:normal;white-space:nowrap}"
    ".meta{color:#444;font-size:.9rem}.hash{font-family:monospace;word-break:break-all}"
    "figure{margin:1rem 0;break-inside:avoid;page-break-inside:avoid}figure "
    "img{width:100%;max-width:46rem;height:auto}"
    ".scroll{overflow-x:auto}table.wide{font-size:.8rem}table.wide td:first-child{min-width:9rem}"
    "figcaption{font-size:.9rem;color:#333}.key{font-size:1.05rem}"
    ".synthetic{border:3px solid #b00;padding:.5rem 1rem;color:#800;background:#fff4f4}"
    "@media print{body{max-width:none;margin:0;font-size:10pt}table.wide{font-size:7.5pt}"
    ".scroll{overflow:visible}"
    /* printed, a heading stays with what follows it (a figure, its first table) and a figure
     * with its caption; .keep holds a heading, its sentence and its figure together */
    "h2,h3{break-after:avoid;page-break-after:avoid}"
    "table,figure,.keep{break-inside:avoid;page-break-inside:avoid}a{color:inherit}"
    ".noprint{display:none}}";

/* ---- sections -----------------------------------------------------------------------------*/

static void s_header(struct strbuf *sb, const json_t *r)
{
    if (json_is_true(rh_jp(r, "study.synthetic")))
        strbuf_adds(sb, "<p class=\"synthetic\" role=\"note\"><strong>Synthetic data.</strong> "
                        "This report was made from a training/demo database: its patients were "
                        "made by <code>ioheme simulate</code>. These are not study results.</p>\n");
    strbuf_adds(sb, "<h1>");
    strbuf_add_html(sb, rh_js(r, "study.title"));
    strbuf_adds(sb, "</h1>\n<p class=\"meta\">Study report — ");
    strbuf_add_html(sb, rh_js(r, "study.design"));
    strbuf_adds(sb, "; analysis as specified in the statistical analysis plan (docs/sap.md).<br>"
                    "Data snapshot: ");
    strbuf_add_html(sb, rh_js(r, "study.snapshot_time"));
    strbuf_adds(sb, " UTC, from ");
    strbuf_add_html(sb, rh_js(r, "study.source"));
    strbuf_adds(sb, ".<br>Audit-chain head: ");
    if (json_is_string(rh_jp(r, "study.audit.head_hash"))) {
        strbuf_adds(sb, "<span class=\"hash\">");
        strbuf_add_html(sb, rh_js(r, "study.audit.head_hash"));
        strbuf_adds(sb, "</span> (");
        rh_num(sb, rh_jd(r, "study.audit.rows"), 0);
        strbuf_adds(sb, " audit rows)");
    } else {
        strbuf_adds(sb, "not available (report made from an exported dataset)");
    }
    const json_t *pv = rh_jp(r, "study.protocol_versions");
    if (json_is_array(pv) && json_array_size(pv)) {
        strbuf_adds(sb, ".<br>Protocol versions: ");
        for (size_t i = 0; i < json_array_size(pv); i++) {
            const json_t *v = json_array_get(pv, i);
            strbuf_addf(sb, "%sv%lld (", i ? "; " : "",
                        (long long)json_integer_value(json_object_get(v, "version")));
            strbuf_add_html(sb, json_string_value(json_object_get(v, "applied_at")));
            strbuf_adds(sb, ", dictionary <span class=\"hash\">");
            const char *sha = json_string_value(json_object_get(v, "sha256"));
            char h[13];
            fmt_exact(h, sizeof h, "%.12s", sha ? sha : "");
            strbuf_add_html(sb, h);
            strbuf_adds(sb, "</span>): ");
            strbuf_add_html(sb, json_string_value(json_object_get(v, "reason")));
        }
        strbuf_addf(sb, "; the data are analysed under v%lld",
                    (long long)json_integer_value(
                        json_object_get(json_array_get(pv, json_array_size(pv) - 1), "version")));
    }
    if (json_is_string(rh_jp(r, "study.lock.id"))) {
        strbuf_adds(sb, ".<br>Locked database: <span class=\"lock-id\">");
        strbuf_add_html(sb, rh_js(r, "study.lock.id"));
        strbuf_adds(sb, "</span> since ");
        strbuf_add_html(sb, rh_js(r, "study.lock.locked_at"));
        strbuf_adds(sb, " UTC; the snapshot and audit head are the lock's");
    }
    strbuf_adds(sb, ".</p>\n");
}

static void s_status(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                     const struct report_fig *f, size_t nf)
{
    const json_t *s = rh_jp(r, "status");
    /* the heading, its sentence and the flow diagram stay on one printed page */
    strbuf_adds(sb, "<div class=\"keep\">");
    rh_h2(sb, sec, "status", "Study status", "§2");
    strbuf_adds(sb, "<p class=\"key\">");
    rh_num(sb, rh_jd(s, "enrolled"), 0);
    strbuf_adds(sb, " of the target ");
    rh_num(sb, rh_jd(s, "target"), 0);
    strbuf_adds(sb, " patients enrolled (");
    rh_num(sb, rh_jd(s, "enrolled_pct_of_target"), 1);
    strbuf_addc(sb, '%');
    strbuf_adds(sb, "); ");
    rh_num(sb, rh_jd(s, "screened"), 0);
    strbuf_adds(sb, " screened, ");
    rh_num(sb, rh_jd(s, "eligible"), 0);
    strbuf_adds(sb, " eligible, ");
    rh_num(sb, rh_jd(s, "fas"), 0);
    strbuf_adds(sb, " in the full analysis set (FAS) and the safety set.");
    if (rh_jp(s, "enrolment")) {
        strbuf_adds(sb, " First enrolment ");
        strbuf_add_html(sb, rh_js(s, "enrolment.first_enrolment"));
        strbuf_adds(sb, ", last ");
        strbuf_add_html(sb, rh_js(s, "enrolment.last_enrolment"));
        strbuf_adds(sb, ".");
    }
    strbuf_adds(sb, "</p>\n");
    rh_figure(sb, f, nf, "flow");
    strbuf_adds(sb, "</div>\n");
    const json_t *by_site = rh_jp(s, "by_site"); /* a multi-centre study (docs/sites.md) */
    if (json_is_array(by_site)) {
        strbuf_adds(sb, "<table><caption>Enrolment by site");
        rh_sap(sb, "§2");
        strbuf_adds(sb, "</caption><tr><th>Site</th><th>Enrolled</th><th>FAS</th></tr>");
        for (size_t i = 0; i < json_array_size(by_site); i++) {
            const json_t *x = json_array_get(by_site, i);
            const char *code = rh_js(x, "site");
            strbuf_adds(sb, "<tr><td>");
            strbuf_add_html(sb, code && *code ? code : "(none)");
            strbuf_adds(sb, "</td><td>");
            rh_num(sb, rh_jd(x, "enrolled"), 0);
            strbuf_adds(sb, "</td><td>");
            rh_num(sb, rh_jd(x, "fas"), 0);
            strbuf_adds(sb, "</td></tr>");
        }
        strbuf_adds(sb, "</table>\n");
    }
    static const struct {
        const char *key, *label;
    } reasons[] = {{"age_out_of_range", "Age outside 18–65"},
                   {"no_hematologic_disease", "No hematologic disease"},
                   {"no_qualifying_category", "No qualifying category ①–⑤"},
                   {"contraindication", "Contraindication at the planned site"},
                   {"consent_refused", "Consent refused"},
                   {"screening_incomplete", "Screening incomplete"}};
    strbuf_adds(sb, "<table><caption>Reasons for not being eligible (a patient may have several)");
    rh_sap(sb, "§2");
    strbuf_adds(sb, "</caption><tr><th>Reason</th><th>Patients</th></tr>");
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        char path[64];
        fmt_exact(path, sizeof path, "reasons_any.%s", reasons[i].key);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, reasons[i].label);
        rh_td_int(sb, rh_jd(s, path));
        strbuf_adds(sb, "</tr>");
    }
    strbuf_adds(sb, "</table>\n");
    rh_figure(sb, f, nf, "enrolment");
}

static void s_baseline(struct strbuf *sb, struct rh_sections *sec, const json_t *r)
{
    rh_h2(sb, sec, "table1", "Baseline characteristics (Table 1)", "§2.1");
    strbuf_adds(sb, "<table><caption>Full analysis set; n (%) or median [IQR]");
    rh_sap(sb, "§2, §2.1");
    strbuf_adds(sb, "</caption><tr><th>Characteristic</th><th>n</th><th>Value</th></tr>");
    const json_t *rows = rh_jp(r, "baseline");
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        bool is_pct = strcmp(rh_js(row, "kind"), "n_pct") == 0;
        /* a level no patient has (a diagnosis, a site, a device) is left out */
        if (is_pct && rh_jd(row, "n") == 0 && *rh_js(row, "group"))
            continue;
        strbuf_adds(sb, "<tr><td>");
        strbuf_add_html(sb, rh_js(row, "label"));
        if (!is_pct && *rh_js(row, "unit")) {
            strbuf_adds(sb, " (");
            strbuf_add_html(sb, rh_js(row, "unit"));
            strbuf_adds(sb, ")");
        }
        strbuf_adds(sb, "</td>");
        rh_td_int(sb, is_pct ? rh_jd(row, "denominator") : rh_jd(row, "n"));
        strbuf_adds(sb, "<td class=\"n\">");
        if (is_pct) {
            rh_num(sb, rh_jd(row, "n"), 0);
            strbuf_adds(sb, " (");
            rh_num(sb, rh_jd(row, "pct"), 1);
            strbuf_adds(sb, "%)");
        } else {
            rh_miqr(sb, row, strcmp(rh_js(row, "label"), "ANC") == 0 ? 2 : 1);
        }
        strbuf_adds(sb, "</td></tr>");
    }
    strbuf_adds(sb, "</table>\n");
}

static void s_primary(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                      const struct report_fig *f, size_t nf)
{
    const json_t *fa = rh_jp(r, "primary.first_attempt_success");
    rh_h2(sb, sec, "primary", "Primary endpoints", "§4");
    rh_h3(sb, sec, "First-attempt puncture success", "§4.1");
    strbuf_adds(sb, "<p class=\"key\">First-attempt success: ");
    rh_num(sb, rh_jd(fa, "x"), 0);
    strbuf_adds(sb, "/");
    rh_num(sb, rh_jd(fa, "n"), 0);
    strbuf_adds(sb, " (");
    rh_pct(sb, rh_jd(fa, "estimate"));
    strbuf_adds(sb, "); Clopper–Pearson 95% CI ");
    rh_ci(sb, fa, "ci_exact", 100, 1, "%");
    strbuf_adds(sb, "; Wilson 95% CI (continuity-corrected) ");
    rh_ci(sb, fa, "ci_wilson", 100, 1, "%");
    strbuf_adds(sb, ". Denominator: the FAS (");
    rh_num(sb, rh_jd(fa, "fas"), 0);
    strbuf_adds(sb, " patients), ");
    rh_num(sb, rh_jd(fa, "missing"), 0);
    strbuf_adds(
        sb,
        " left out for a missing first-attempt outcome.</p>\n<table><caption>Insertion success");
    rh_sap(sb, "§4.1");
    strbuf_adds(sb,
                "</caption><tr><th>Measure</th><th>x/n</th><th>%</th><th>95% CI (exact)</th></tr>"
                "<tr><td>First attempt, first placement (per patient)</td>");
    rh_td_prop(sb, fa);
    strbuf_adds(sb, "</tr><tr><td>Per attempt (successful / all attempts)</td>");
    rh_td_prop(sb, rh_jp(fa, "per_attempt"));
    strbuf_adds(sb, "</tr><tr><td>Working IO access at any attempt (per patient)</td>");
    rh_td_prop(sb, rh_jp(fa, "any_success"));
    strbuf_adds(sb, "</tr></table>\n<p>Attempts per patient: median [IQR] ");
    rh_miqr(sb, rh_jp(fa, "attempts_per_patient"), 0);
    strbuf_adds(sb, " (n = ");
    rh_num(sb, rh_jd(fa, "attempts_per_patient.n"), 0);
    strbuf_adds(sb, ")");
    rh_sap(sb, "§4.1");
    strbuf_adds(sb, ".</p>\n");

    const json_t *ef = rh_jp(r, "primary.efficacy");
    rh_h3(sb, sec, "Therapeutic efficacy", "§4.2");
    strbuf_adds(sb, "<p class=\"key\">Effective: ");
    rh_num(sb, rh_jd(ef, "x"), 0);
    strbuf_adds(sb, "/");
    rh_num(sb, rh_jd(ef, "n"), 0);
    strbuf_adds(sb, " (");
    rh_pct(sb, rh_jd(ef, "estimate"));
    strbuf_adds(sb, "); Clopper–Pearson 95% CI ");
    rh_ci(sb, ef, "ci_exact", 100, 1, "%");
    strbuf_adds(sb, ".</p>\n<table><caption>Efficacy grades (FAS)");
    rh_sap(sb, "§4.2");
    strbuf_adds(sb, "</caption><tr><th>Grade</th><th>n</th><th>%</th></tr>");
    static const struct {
        const char *key, *label;
    } grades[] = {{"effective", "Effective"},
                  {"partially_effective", "Partially effective"},
                  {"ineffective", "Ineffective"},
                  {"not_assessable", "Not assessable (counted as not effective)"}};
    for (size_t i = 0; i < 4; i++) {
        char p1[64], p2[64];
        fmt_exact(p1, sizeof p1, "grades.%s.n", grades[i].key);
        fmt_exact(p2, sizeof p2, "grades.%s.pct", grades[i].key);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, grades[i].label);
        rh_td_int(sb, rh_jd(ef, p1));
        strbuf_adds(sb, "<td class=\"n\">");
        rh_num(sb, rh_jd(ef, p2), 1);
        strbuf_adds(sb, "%</td></tr>");
    }
    strbuf_adds(sb, "</table>\n");
    const json_t *na = rh_jp(ef, "not_assessable_subjects");
    if (json_array_size(na)) {
        strbuf_adds(sb, "<p>Not assessable (missing 6 h values or drug time): ");
        for (size_t i = 0; i < json_array_size(na); i++) {
            if (i)
                strbuf_adds(sb, ", ");
            strbuf_add_html(sb, json_string_value(json_array_get(na, i)));
        }
        strbuf_adds(sb, ".</p>\n");
    }

    const json_t *os = rh_jp(r, "primary.overall_survival");
    strbuf_adds(sb, "<div class=\"keep\">");
    rh_h3(sb, sec, "Overall survival", "§4.3");
    rh_figure(sb, f, nf, "km_overall");
    strbuf_adds(sb, "</div>\n");
    strbuf_adds(sb, "<table><caption>Kaplan–Meier estimates (Greenwood, log-transformed 95% CI)");
    rh_sap(sb, "§4.3");
    strbuf_adds(sb, "</caption><tr><th>Measure</th><th>Estimate</th><th>95% CI</th></tr>"
                    "<tr><td>Patients / deaths</td><td class=\"n\">");
    rh_num(sb, rh_jd(os, "n"), 0);
    strbuf_adds(sb, " / ");
    rh_num(sb, rh_jd(os, "events"), 0);
    strbuf_adds(sb, "</td><td></td></tr><tr><td>Median OS (days)</td><td class=\"n\">");
    rh_num(sb, rh_jd(os, "median"), 1);
    strbuf_adds(sb, "</td><td class=\"n\">");
    rh_num(sb, rh_jd(os, "median_lower"), 1);
    strbuf_adds(sb, "–");
    rh_num(sb, rh_jd(os, "median_upper"), 1);
    strbuf_adds(sb, "</td></tr>");
    static const char *const sv[] = {"surv_28", "surv_90"};
    static const char *const svl[] = {"Survival at day 28", "Survival at day 90"};
    for (int i = 0; i < 2; i++) {
        char a[32], b[32], c[32];
        fmt_exact(a, sizeof a, "%s.estimate", sv[i]);
        fmt_exact(b, sizeof b, "%s.lower", sv[i]);
        fmt_exact(c, sizeof c, "%s.upper", sv[i]);
        strbuf_adds(sb, "<tr>");
        rh_td_text(sb, svl[i]);
        strbuf_adds(sb, "<td class=\"n\">");
        rh_pct(sb, rh_jd(os, a));
        strbuf_adds(sb, "</td><td class=\"n\">");
        rh_num(sb, 100 * rh_jd(os, b), 1);
        strbuf_adds(sb, "–");
        rh_pct(sb, rh_jd(os, c));
        strbuf_adds(sb, "</td></tr>");
    }
    strbuf_adds(sb, "</table>\n<table><caption>Numbers at risk");
    rh_sap(sb, "§4.3");
    strbuf_adds(sb, "</caption><tr><th>Day</th>");
    const json_t *ar = rh_jp(os, "at_risk");
    for (size_t i = 0; i < json_array_size(ar); i++) {
        strbuf_adds(sb, "<th>");
        rh_num(sb, rh_jd(json_array_get(ar, i), "time"), 0);
        strbuf_adds(sb, "</th>");
    }
    strbuf_adds(sb, "</tr><tr><td>At risk</td>");
    for (size_t i = 0; i < json_array_size(ar); i++)
        rh_td_int(sb, rh_jd(json_array_get(ar, i), "n_risk"));
    strbuf_adds(sb, "</tr></table>\n");
    if (rh_jd(os, "excluded_no_t0") > 0) {
        strbuf_adds(sb, "<p>Left out of the survival analysis (no T0): ");
        rh_num(sb, rh_jd(os, "excluded_no_t0"), 0);
        strbuf_adds(sb, ".</p>\n");
    }
}

int report_html(const json_t *r, const struct report_fig *figs, size_t nfigs, struct strbuf *sb,
                struct err *e)
{
    strbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>Study report — ");
    strbuf_add_html(sb, rh_js(r, "study.title"));
    strbuf_addf(sb, "</title><style>%s</style></head><body>\n", CSS);
    struct rh_sections sec = {0};
    s_header(sb, r);
    s_status(sb, &sec, r, figs, nfigs);
    s_baseline(sb, &sec, r);
    s_primary(sb, &sec, r, figs, nfigs);
    report_html_secondary(sb, &sec, r, figs, nfigs);
    report_html_subgroups(sb, &sec, r, figs, nfigs);
    report_html_completeness(sb, &sec, r);
    rh_h2(sb, &sec, "software", "Software and reproducibility", "§9");
    strbuf_adds(sb, "<p>Computed by ioheme " IOHEME_VERSION
                    " (statistics engine reproducing R 4.2.2 and survival 3.5-3). Every number "
                    "above is in results.json beside this file; the analysis dataset is in "
                    "dataset/. Audit-chain head ");
    if (json_is_string(rh_jp(r, "study.audit.head_hash"))) {
        strbuf_adds(sb, "<span class=\"hash\">");
        strbuf_add_html(sb, rh_js(r, "study.audit.head_hash"));
        strbuf_adds(sb, "</span>");
    } else {
        strbuf_adds(sb, "not available");
    }
    strbuf_adds(sb, ", snapshot ");
    strbuf_add_html(sb, rh_js(r, "study.snapshot_time"));
    strbuf_adds(sb, " UTC.</p>\n</body></html>\n");
    if (sb->failed)
        return err_set(e, ERR_NOMEM, "out of memory writing the report");
    return 0;
}
