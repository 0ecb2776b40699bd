/* The secondary sections of the HTML report (report_html_sec.c), written by report_html.c in
 * the SAP's order; not a public interface. */
#ifndef IOHEME_REPORT_REPORT_HTML_INT_H
#define IOHEME_REPORT_REPORT_HTML_INT_H

#include <jansson.h>
#include <stddef.h>

#include "base/strbuf.h"
#include "report/html_out.h"
#include "report/report_figs.h"

/* report_html_sec.c */
void report_html_secondary(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                           const struct report_fig *f, size_t nf);
void report_html_subgroups(struct strbuf *sb, struct rh_sections *sec, const json_t *r,
                           const struct report_fig *f, size_t nf);
void report_html_completeness(struct strbuf *sb, struct rh_sections *sec, const json_t *r);

#endif
