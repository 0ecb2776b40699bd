/* The SDTM export's pieces shared by its files (sdtm.c builds the domains and writes the
 * transport files, sdtm_define.c the define.xml describing them). */
#ifndef IOHEME_REPORT_SDTM_INT_H
#define IOHEME_REPORT_SDTM_INT_H

#include <stddef.h>

#include "base/strbuf.h"
#include "core/atable.h"
#include "report/dataset.h"

#define STUDYID "IO-HEME"
#define N(a) (sizeof a / sizeof a[0])

/* One domain: its member name, label and structure as define.xml gives them, each column's
 * origin, and the rows of the record being built. */
struct dom {
    const char *member; /* "DM" */
    const char *label;
    const char *structure;
    const char *origins; /* one letter per column: C CRF, D derived, A assigned */
    struct atable t;
    size_t next_col; /* where set() looks first: a row's columns are mostly set in order */
};

/* define.xml (Define-XML 2.0) into sb for the n domains D, whose rows sp[i] spooled (their
 * widths are the variables' lengths): one ItemGroupDef per dataset, one ItemDef per variable
 * with its origin, Mandatory as SDTMIG 3.2 requires, the study described by title (study.csv's;
 * NULL or "": the study ID), when the audit trail's last change. */
void dataset_sdtm_define_xml(const struct dom *D, const struct dataset_spool *sp, size_t n,
                             const char *when, const char *title, struct strbuf *sb);

#endif
