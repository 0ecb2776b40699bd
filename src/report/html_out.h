/* Formatting helpers of the HTML study report (report_html.c, report_html_sec.c). Paths are
 * "a.b.c" into a JSON object; missing or non-numeric values read as NaN and print as "NA".
 * Not a public interface. */
#ifndef IOHEME_REPORT_HTML_OUT_H
#define IOHEME_REPORT_HTML_OUT_H

#include <jansson.h>
#include <stddef.h>

#include "base/strbuf.h"
#include "report/report_figs.h"

const json_t *rh_jp(const json_t *o, const char *path);
double rh_jd(const json_t *o, const char *path);
const char *rh_js(const json_t *o, const char *path);
/* Element i of the array at path, as a number. */
double rh_jai(const json_t *o, const char *path, size_t i);
void rh_num(struct strbuf *sb, double x, int dp);
/* A proportion as a percentage with one decimal. */
void rh_pct(struct strbuf *sb, double p);
void rh_pval(struct strbuf *sb, double p);
/* "l–u" of the [l, u] array at path, times scale, dp decimals, then suffix. */
void rh_ci(struct strbuf *sb, const json_t *o, const char *path, double scale, int dp,
           const char *suffix);
/* "median [q1–q3]" of a describe object, or "—" when n is 0. */
void rh_miqr(struct strbuf *sb, const json_t *d, int dp);
/* The "SAP §x" badge. */
void rh_sap(struct strbuf *sb, const char *s);
/* The report's section numbers, counted as the headings are written so they run without gaps:
 * h2 is the current section, h3 its current subsection. Starts zeroed. */
struct rh_sections {
    int h2, h3;
};
/* "<h2 id=id>N. title <SAP sap></h2>", numbering the next section (id and sap may be NULL). */
void rh_h2(struct strbuf *sb, struct rh_sections *n, const char *id, const char *title,
           const char *sap);
/* "<h3>N.M title <SAP sap></h3>", numbering the next subsection of the current section. */
void rh_h3(struct strbuf *sb, struct rh_sections *n, const char *title, const char *sap);
void rh_td_text(struct strbuf *sb, const char *s);
void rh_td_int(struct strbuf *sb, double x);
void rh_td_miqr(struct strbuf *sb, const json_t *d, int dp);
/* Three cells: x/n, %, exact CI. */
void rh_td_prop(struct strbuf *sb, const json_t *p);
/* The figure called name as an <img> with a data: URI of its SVG, and its caption. */
void rh_figure(struct strbuf *sb, const struct report_fig *figs, size_t nfigs, const char *name);

#endif
