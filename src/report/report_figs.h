/* The report's figures, built from results.json (report/plan.h) and drawn with
 * report/figure.h: the CONSORT flow (SAP §2), enrolment against the target (§2), the
 * Kaplan–Meier curve of overall survival with numbers at risk (§4.3), the MAP and lactate
 * trajectories (§5.3) and the subgroup forest plot (§6). */
#ifndef IOHEME_REPORT_REPORT_FIGS_H
#define IOHEME_REPORT_REPORT_FIGS_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

#define REPORT_MAX_FIGS 8

struct report_fig {
    const char *name;    /* file base name, e.g. "km_overall" (static) */
    const char *caption; /* static */
    const char *sap;     /* "§4.3" (static) */
    struct strbuf svg;   /* the SVG document (owned; report_figs_free releases it) */
};

/* Draws every figure; when dir is not NULL also writes dir/<name>.svg, .pdf and .png. Figures
 * whose data are missing (e.g. no survival data) are left out. */
int report_figs_make(const json_t *results, const char *dir, struct report_fig *figs, size_t *nfigs,
                     struct err *e);
void report_figs_free(struct report_fig *figs, size_t nfigs);

#endif
