/* report.html: the study report as one self-contained HTML page — no external assets, figures
 * inline as data: URIs of their SVG, a print stylesheet — rendered from results.json
 * (report/plan.h) and the figures (report/report_figs.h). Every number on the page is read
 * from results.json and sits under a heading or caption naming its SAP section. */
#ifndef IOHEME_REPORT_REPORT_HTML_H
#define IOHEME_REPORT_REPORT_HTML_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "report/report_figs.h"

/* Appends the whole page to out (caller owns out). */
int report_html(const json_t *results, const struct report_fig *figs, size_t nfigs,
                struct strbuf *out, struct err *e);

#endif
