/* `ioheme export xpt`: the study as SDTM-like domains in SAS transport files, version 5
 * (docs/exports.md), with a Define-XML 2.0 describing them.
 *
 * The domains are built from the analysis dataset (report/dataset.h: the same derivations the
 * report uses, values hidden by branching left out) and, where the dataset keeps no column, from
 * the stored values read once (labs with their specimen source, consent, disposition, death):
 *
 *   DM  one row per enrolled subject; SUPPDM the diagnosis, ECOG and the analysis set
 *   DS  informed consent, and the end of study (completed, death, withdrawal, lost, other)
 *   PR  each IO insertion attempt (PRGRPID the placement); SUPPPR whether it succeeded
 *   EC  each infusion through the IO line; SUPPEC the method and the flow rate
 *   VS  MAP, heart rate and systolic pressure at each time point after T0
 *   LB  the baseline panel with its specimen source, and lactate at each time point;
 *       SUPPLB marks values the SAP leaves out (blood drawn through the IO needle, §7)
 *   AE  complications with their CTCAE grade, seriousness and relation
 *
 * Names are at most 8 characters, labels 40, character values 200; dates and times are ISO
 * 8601 (--DTC). The same database gives the same bytes: no clock is read (the files carry
 * ReadStat's fixed timestamp, define.xml the audit trail's last change). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "core/derive.h"
#include "core/schedule.h"
#include "report/dataset.h"
#include "report/sdtm_int.h"

#define MAX_TEXT 200

#define C_TEXT ACOL_TEXT
#define C_NUM ACOL_NUM

/* A domain: its table, and for define.xml what each variable is and where it comes from. */

#define COL(n, ty, l)                                                                              \
    {                                                                                              \
        n, ty, "", l, "", NULL                                                                     \
    }

static const struct acol DM_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("SUBJID", C_TEXT, "Subject Identifier for the Study"),
    COL("RFSTDTC", C_TEXT, "Subject Reference Start Date/Time"),
    COL("RFICDTC", C_TEXT, "Date/Time of Informed Consent"),
    COL("SITEID", C_TEXT, "Study Site Identifier"),
    COL("AGE", C_NUM, "Age"),
    COL("AGEU", C_TEXT, "Age Units"),
    COL("SEX", C_TEXT, "Sex"),
    COL("ARMCD", C_TEXT, "Planned Arm Code"),
    COL("ARM", C_TEXT, "Description of Planned Arm"),
    COL("ACTARMCD", C_TEXT, "Actual Arm Code"),
    COL("ACTARM", C_TEXT, "Description of Actual Arm"),
    COL("COUNTRY", C_TEXT, "Country"),
    COL("DTHFL", C_TEXT, "Subject Death Flag"),
    COL("DTHDTC", C_TEXT, "Date/Time of Death"),
};
static const struct acol SUPP_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("RDOMAIN", C_TEXT, "Related Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("IDVAR", C_TEXT, "Identifying Variable"),
    COL("IDVARVAL", C_TEXT, "Identifying Variable Value"),
    COL("QNAM", C_TEXT, "Qualifier Variable Name"),
    COL("QLABEL", C_TEXT, "Qualifier Variable Label"),
    COL("QVAL", C_TEXT, "Data Value"),
    COL("QORIG", C_TEXT, "Origin"),
};
static const struct acol DS_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("DSSEQ", C_NUM, "Sequence Number"),
    COL("DSTERM", C_TEXT, "Reported Term for the Disposition Event"),
    COL("DSDECOD", C_TEXT, "Standardized Disposition Term"),
    COL("DSCAT", C_TEXT, "Category for Disposition Event"),
    COL("DSSTDTC", C_TEXT, "Start Date/Time of Disposition Event"),
};
static const struct acol PR_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("PRSEQ", C_NUM, "Sequence Number"),
    COL("PRGRPID", C_TEXT, "Group ID"),
    COL("PRSPID", C_TEXT, "Sponsor-Defined Identifier"),
    COL("PRTRT", C_TEXT, "Reported Name of Procedure"),
    COL("PRCAT", C_TEXT, "Category"),
    COL("PRLOC", C_TEXT, "Location of Procedure"),
    COL("PRSTDTC", C_TEXT, "Start Date/Time of Procedure"),
    COL("PRDUR", C_TEXT, "Duration of Procedure"),
};
static const struct acol EC_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("ECSEQ", C_NUM, "Sequence Number"),
    COL("ECSPID", C_TEXT, "Sponsor-Defined Identifier"),
    COL("ECTRT", C_TEXT, "Name of Treatment"),
    COL("ECCAT", C_TEXT, "Category of Treatment"),
    COL("ECDOSE", C_NUM, "Dose"),
    COL("ECDOSU", C_TEXT, "Dose Units"),
    COL("ECROUTE", C_TEXT, "Route of Administration"),
    COL("ECSTDTC", C_TEXT, "Start Date/Time of Treatment"),
    COL("ECENDTC", C_TEXT, "End Date/Time of Treatment"),
};
static const struct acol FIND_COLS_VS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("VSSEQ", C_NUM, "Sequence Number"),
    COL("VSTESTCD", C_TEXT, "Vital Signs Test Short Name"),
    COL("VSTEST", C_TEXT, "Vital Signs Test Name"),
    COL("VSORRES", C_TEXT, "Result or Finding in Original Units"),
    COL("VSORRESU", C_TEXT, "Original Units"),
    COL("VSSTRESC", C_TEXT, "Character Result/Finding in Std Format"),
    COL("VSSTRESN", C_NUM, "Numeric Result/Finding in Standard Units"),
    COL("VSSTRESU", C_TEXT, "Standard Units"),
    COL("VISITNUM", C_NUM, "Visit Number"),
    COL("VISIT", C_TEXT, "Visit Name"),
    COL("VSTPT", C_TEXT, "Planned Time Point Name"),
    COL("VSTPTNUM", C_NUM, "Planned Time Point Number"),
    COL("VSELTM", C_TEXT, "Planned Elapsed Time from Time Point Ref"),
    COL("VSTPTREF", C_TEXT, "Time Point Reference"),
    COL("VSDTC", C_TEXT, "Date/Time of Measurements"),
};
static const struct acol FIND_COLS_LB[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("LBSEQ", C_NUM, "Sequence Number"),
    COL("LBTESTCD", C_TEXT, "Lab Test or Examination Short Name"),
    COL("LBTEST", C_TEXT, "Lab Test or Examination Name"),
    COL("LBORRES", C_TEXT, "Result or Finding in Original Units"),
    COL("LBORRESU", C_TEXT, "Original Units"),
    COL("LBSTRESC", C_TEXT, "Character Result/Finding in Std Format"),
    COL("LBSTRESN", C_NUM, "Numeric Result/Finding in Standard Units"),
    COL("LBSTRESU", C_TEXT, "Standard Units"),
    COL("LBSPEC", C_TEXT, "Specimen Type"),
    COL("LBDTC", C_TEXT, "Date/Time of Specimen Collection"),
    COL("VISIT", C_TEXT, "Visit Name"),
    COL("LBTPT", C_TEXT, "Planned Time Point Name"),
};
static const struct acol AE_COLS[] = {
    COL("STUDYID", C_TEXT, "Study Identifier"),
    COL("DOMAIN", C_TEXT, "Domain Abbreviation"),
    COL("USUBJID", C_TEXT, "Unique Subject Identifier"),
    COL("AESEQ", C_NUM, "Sequence Number"),
    COL("AESPID", C_TEXT, "Sponsor-Defined Identifier"),
    COL("AETERM", C_TEXT, "Reported Term for the Adverse Event"),
    COL("AEDECOD", C_TEXT, "Dictionary-Derived Term"),
    COL("AECAT", C_TEXT, "Category for Adverse Event"),
    COL("AETOXGR", C_TEXT, "Standard Toxicity Grade"),
    COL("AESER", C_TEXT, "Serious Event"),
    COL("AEREL", C_TEXT, "Causality"),
    COL("AESDTH", C_TEXT, "Results in Death"),
    COL("AESLIFE", C_TEXT, "Is Life Threatening"),
    COL("AESHOSP", C_TEXT, "Requires or Prolongs Hospitalization"),
    COL("AESDISAB", C_TEXT, "Persist or Signif Disability/Incapacity"),
    COL("AESMIE", C_TEXT, "Other Medically Important Serious Event"),
    COL("AEACNOTH", C_TEXT, "Other Action Taken"),
    COL("AEOUT", C_TEXT, "Outcome of Adverse Event"),
    COL("AESTDTC", C_TEXT, "Start Date/Time of Adverse Event"),
    COL("AEENDTC", C_TEXT, "End Date/Time of Adverse Event"),
};

enum dom_id {
    D_DM,
    D_SUPPDM,
    D_DS,
    D_PR,
    D_SUPPPR,
    D_EC,
    D_SUPPEC,
    D_VS,
    D_LB,
    D_SUPPLB,
    D_AE,
    D_N
};

/* Per subject: the stored values the dataset keeps no column for. */
struct raw {
    const char *subject; /* study ID */
    const char *site;    /* the record's site code, NULL when none */
    const char *consent, *eos_status, *eos_date, *death;
    const char *lab_dt, *lab_source;
    const char *lab[12];
};

static const struct {
    const char *field, *testcd, *test, *unit;
    bool io_excluded; /* left out of the analysis when drawn through the IO needle (SAP §7) */
} LABS[] = {
    {"bl_hb", "HGB", "Hemoglobin", "g/L", false},
    {"bl_plt", "PLAT", "Platelets", "10^9/L", true},
    {"bl_wbc", "WBC", "Leukocytes", "10^9/L", false},
    {"bl_anc", "NEUT", "Neutrophils", "10^9/L", true},
    {"bl_pt_prol", "PTDIFF", "Prothrombin Time Prolongation", "sec", true},
    {"bl_inr", "INR", "Prothrombin Intl. Normalized Ratio", "", true},
    {"bl_fib", "FIBRINO", "Fibrinogen", "g/L", true},
    {"bl_ddimer", "DDIMER", "Fibrin D-Dimer", "mg/L FEU", true},
    {"bl_lactate", "LACTICAC", "Lactic Acid", "mmol/L", false},
    {"bl_creat", "CREAT", "Creatinine", "umol/L", false},
    {"bl_bili", "BILI", "Bilirubin", "umol/L", false},
};
_Static_assert(N(LABS) <= 12, "struct raw's lab[] holds every lab");

struct raws {
    struct raw *r;
    size_t n, cap;
    struct arena *ar;
    bool has_sites; /* the study has sites (docs/sites.md): a record without one has no SITEID */
    /* by the dictionary's field index (made at the first record; malloc'ed): which of
     * RAW_FIELDS (k) or LABS (N(RAW_FIELDS) + k) the field is, -1 none */
    short *keep_of;
};

/* The fields raw_from keeps besides the labs, and where: the last value stored, or the first
 * (the death date). */
static const struct {
    const char *field;
    size_t at; /* offsetof(struct raw, ...) */
    bool first;
} RAW_FIELDS[] = {
    {"cons_dt", offsetof(struct raw, consent), false},
    {"eos_status", offsetof(struct raw, eos_status), false},
    {"eos_date", offsetof(struct raw, eos_date), false},
    {"fu_death_date", offsetof(struct raw, death), true},
    {"bl_lab_dt", offsetof(struct raw, lab_dt), false},
    {"bl_lab_source", offsetof(struct raw, lab_source), false},
};

/* Which of RAW_FIELDS (k) or LABS (N(RAW_FIELDS) + k) the field named f is, -1 none. */
static int keep_by_name(const char *f)
{
    for (size_t k = 0; k < N(RAW_FIELDS); k++)
        if (strcmp(f, RAW_FIELDS[k].field) == 0)
            return (int)k;
    for (size_t k = 0; k < N(LABS); k++)
        if (strcmp(f, LABS[k].field) == 0)
            return (int)(N(RAW_FIELDS) + k);
    return -1;
}

/* The record's stored values (v, as the derivation saw them: what branching logic hides is
 * blank, so left out here too) that the dataset keeps no column for, into rs. For a field stored
 * at several events the last value counts, except the death date: the first (v is in field,
 * event, instance order). */
static int raw_from(struct raws *rs, const char *subject, struct vtab *v)
{
    if (!vtab_sort(v))
        return ERR_NOMEM;
    struct raw *g = arena_grow(rs->ar, rs->r, rs->n, &rs->cap, sizeof *g, 1);
    if (!g)
        return ERR_NOMEM;
    rs->r = g;
    struct raw *r = &g[rs->n];
    memset(r, 0, sizeof *r);
    r->subject = subject;
    r->site = v->site;
    rs->n++;
    const struct dict *d = v->dict;
    if (d && !rs->keep_of) {
        if (!(rs->keep_of = malloc((d->nfields ? d->nfields : 1) * sizeof *rs->keep_of)))
            return ERR_NOMEM;
        for (size_t i = 0; i < d->nfields; i++)
            rs->keep_of[i] = (short)keep_by_name(d->fields[i].name);
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct vtab_value *x = &v->v[i];
        const char *f = x->field, **slot = NULL;
        if (!x->value[0] || x->code)
            continue;
        /* a value of a field the dictionary lacks (left by an amendment) by its name */
        int k = x->field_index >= 0 && d ? rs->keep_of[x->field_index] : keep_by_name(f);
        bool keep_first = false;
        if (k >= 0 && (size_t)k < N(RAW_FIELDS)) {
            slot = (const char **)((char *)r + RAW_FIELDS[k].at);
            keep_first = RAW_FIELDS[k].first;
        } else if (k >= 0)
            slot = &r->lab[(size_t)k - N(RAW_FIELDS)];
        if (slot && !(keep_first && *slot))
            *slot = x->value; /* v outlives the record's build */
    }
    return 0;
}

/* The stored values of subject: the raws and the subjects table are both in screening order,
 * so a cursor walks them together (records screened but never enrolled are passed over). */
static const struct raw *raw_next(const struct raws *rs, size_t *at, const char *subject)
{
    for (size_t i = *at; subject && i < rs->n; i++)
        if (strcmp(rs->r[i].subject, subject) == 0) {
            *at = i + 1;
            return &rs->r[i];
        }
    return NULL;
}

/* "YYYY-MM-DD HH:MM[:SS]" as ISO 8601 ("T" between), in buf; a date stays a date. */
static const char *iso(const char *s, char buf[32])
{
    if (!s)
        return NULL;
    if (!fmt_fits(buf, 32, "%s", s))
        return NULL;
    if (strlen(buf) > 10 && buf[10] == ' ')
        buf[10] = 'T';
    return buf;
}

/* A date-time plus seconds, as ISO 8601 to the minute (or second when s has them). */
static const char *iso_plus(const char *s, double secs, char buf[32])
{
    long long t;
    if (!s || schedule_parse_wallclock(s, &t) != 0)
        return NULL;
    char w[SCHEDULE_WALLCLOCK_LEN];
    schedule_format_wallclock(t + (long long)(secs + 0.5), w);
    return iso(w, buf);
}

struct bld {
    struct dom *d;
    int rc;
    size_t row;
};

static struct bld row(struct dom *d, const char *subject)
{
    struct bld b = {d, 0, 0};
    b.rc = atable_add_row(&d->t, &b.row);
    char usub[sizeof STUDYID + 1 + STORE_RECORD_ID_MAX]; /* STUDYID-subject, never cut */
    fmt_text(usub, sizeof usub, "%s-%s", STUDYID, subject);
    bool supp = strncmp(d->member, "SUPP", 4) == 0;
    b.rc |= atable_set(&d->t, b.row, 0, STUDYID);
    b.rc |= atable_set(&d->t, b.row, 1, supp ? d->member + 4 : d->member);
    b.rc |= atable_set(&d->t, b.row, 2, usub);
    return b;
}

/* The column named col, looked for from where the last one was found. */
static int col_of(struct dom *d, const char *col)
{
    size_t n = d->t.ncols;
    for (size_t k = 0; k < n; k++) {
        size_t i = (d->next_col + k) % n;
        if (strcmp(d->t.cols[i].name, col) == 0) {
            d->next_col = i + 1;
            return (int)i;
        }
    }
    return -1;
}

static void set(struct bld *b, const char *col, const char *v)
{
    int c = col_of(b->d, col);
    if (c < 0) {
        b->rc = ERR_INTERNAL;
        return;
    }
    char cut[MAX_TEXT + 1];
    if (v && strlen(v) > MAX_TEXT) /* SDTM's limit for character values in v5 */
        v = (fmt_text(cut, sizeof cut, "%s", v), cut);
    b->rc |= atable_set(&b->d->t, b->row, (size_t)c, v);
}

static void setn(struct bld *b, const char *col, long long v)
{
    char s[32];
    fmt_exact(s, sizeof s, "%lld", v);
    set(b, col, s);
}

/* SUPP-- row: the parent row's sequence (IDVAR/IDVARVAL) or none (DM). */
static int supp(struct dom *d, const char *subject, const char *idvar, long long seq,
                const char *qnam, const char *qlabel, const char *qval, const char *qorig)
{
    if (!qval || !*qval)
        return 0;
    struct bld b = row(d, subject);
    set(&b, "IDVAR", idvar);
    if (idvar) {
        char s[32];
        fmt_exact(s, sizeof s, "%lld", seq);
        set(&b, "IDVARVAL", s);
    }
    set(&b, "QNAM", qnam);
    set(&b, "QLABEL", qlabel);
    set(&b, "QVAL", qval);
    set(&b, "QORIG", qorig);
    return b.rc;
}

static const char *yn(const char *bool01)
{
    return !bool01 ? NULL : strcmp(bool01, "1") == 0 ? "Y" : "N";
}

static const char *upper(const char *s, char buf[MAX_TEXT + 1])
{
    if (!s)
        return NULL;
    size_t i = 0;
    for (; s[i] && i < MAX_TEXT; i++)
        buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i] == '_' ? ' ' : s[i]);
    buf[i] = '\0';
    return buf;
}

/* One LB row: a result in its original units, which are the standard ones here. */
static int lb_row(struct dom *d, const char *sid, long long seq, const char *testcd,
                  const char *test, const char *value, const char *unit, const char *spec,
                  const char *dtc, const char *visit, const char *tpt)
{
    struct bld l = row(d, sid);
    setn(&l, "LBSEQ", seq);
    set(&l, "LBTESTCD", testcd);
    set(&l, "LBTEST", test);
    set(&l, "LBORRES", value);
    set(&l, "LBORRESU", unit);
    set(&l, "LBSTRESC", value);
    set(&l, "LBSTRESN", value);
    set(&l, "LBSTRESU", unit);
    set(&l, "LBSPEC", spec);
    set(&l, "LBDTC", dtc);
    set(&l, "VISIT", visit);
    set(&l, "LBTPT", tpt);
    return l.rc;
}

/* The event of the haemodynamics table's time point tp ("T0", "15min", ...), or NULL. */
static const char *tp_event(const char *tp)
{
    for (size_t k = 0; tp && derive_timepoints[k].code; k++)
        if (strcmp(derive_timepoints[k].value, tp) == 0)
            return derive_timepoints[k].code;
    return NULL;
}

/* The time point's date-time of measurement (hd_dt at its event) as ISO 8601, or NULL. */
static const char *tp_dtc(struct vtab *v, const char *tp, char buf[32])
{
    const char *ev = tp_event(tp);
    return v && ev ? iso(vtab_get(v, ev, 0, "hd_dt", NULL), buf) : NULL;
}

/* AE's seriousness flags from comp_sae_crit's options (1 death ... 5 other medically important)
 * and its other actions from comp_action's (2 needle removed ... 5 other treatment; 1 none). */
static const struct {
    const char *var, *code;
} AE_SERIOUS[] = {
    {"AESDTH", "1"}, {"AESLIFE", "2"}, {"AESHOSP", "3"}, {"AESDISAB", "4"}, {"AESMIE", "5"}};
static const struct {
    const char *code, *term;
} AE_ACTIONS[] = {{"2", "IO NEEDLE REMOVED"},
                  {"3", "ANTIBIOTICS"},
                  {"4", "SURGICAL INTERVENTION"},
                  {"5", "OTHER TREATMENT"}};
/* AEOUT's controlled terms (CDISC OUT) for comp_outcome 1 ... 6. */
static const char *const AE_OUTCOMES[] = {NULL,
                                          "RECOVERED/RESOLVED",
                                          "RECOVERING/RESOLVING",
                                          "NOT RECOVERED/NOT RESOLVED",
                                          "RECOVERED/RESOLVED WITH SEQUELAE",
                                          "FATAL",
                                          "UNKNOWN"};

/* What the complication form holds beyond the analysis table (v: the record's values, NULL at
 * the end of the study): the reported term of an "Other", seriousness criteria, other actions,
 * outcome and end date. */
static void ae_details(struct bld *b, struct vtab *v, const char *ev, int inst, bool serious,
                       char end[32])
{
    const char *o = v ? vtab_get(v, ev, inst, "comp_outcome", NULL) : NULL;
    set(b, "AEOUT", o && o[0] >= '1' && o[0] <= '6' && !o[1] ? AE_OUTCOMES[o[0] - '0'] : NULL);
    set(b, "AEENDTC", iso(v ? vtab_get(v, ev, inst, "comp_resolved", NULL) : NULL, end));
    for (size_t k = 0; k < N(AE_SERIOUS); k++) {
        const char *x = v ? vtab_get(v, ev, inst, "comp_sae_crit", AE_SERIOUS[k].code) : NULL;
        set(b, AE_SERIOUS[k].var, x && strcmp(x, "1") == 0 ? "Y" : serious ? "N" : NULL);
    }
    char acts[128] = "";
    for (size_t k = 0; v && k < N(AE_ACTIONS); k++) {
        const char *x = vtab_get(v, ev, inst, "comp_action", AE_ACTIONS[k].code);
        if (x && strcmp(x, "1") == 0)
            (void)fmt_text(acts + strlen(acts), sizeof acts - strlen(acts), "%s%s",
                           acts[0] ? "; " : "", AE_ACTIONS[k].term);
    }
    set(b, "AEACNOTH", acts[0] ? acts : NULL);
}

static int build(const struct adataset *ds, const struct raws *rs, struct dom *D, struct vtab *v)
{
    const struct atable *sub = &ds->t[ADS_SUBJECTS];
    int rc = 0;
    char b1[32], b2[32], up[MAX_TEXT + 1];
    const struct atable *hd = &ds->t[ADS_HAEMO];
    size_t raw_at = 0, hd_at = 0; /* cursors: every table is in the subjects' order */
    for (size_t r = 0; !rc && r < sub->nrows; r++) {
        const char *sid = atable_get(sub, r, SUB_SUBJECT_ID);
        const struct raw *raw = raw_next(rs, &raw_at, sid);
        struct bld b = row(&D[D_DM], sid);
        set(&b, "SUBJID", sid);
        set(&b, "RFSTDTC", iso(atable_get(sub, r, SUB_T0), b1));
        set(&b, "RFICDTC", raw ? iso(raw->consent, b2) : NULL);
        /* 01 in a single-centre study; in a multi-centre one a record at no site has none,
         * rather than a code a site may have */
        set(&b, "SITEID", raw && raw->site ? raw->site : rs->has_sites ? NULL : "01");
        set(&b, "AGE", atable_get(sub, r, SUB_AGE));
        set(&b, "AGEU", "YEARS");
        const char *sex = atable_get(sub, r, SUB_SEX);
        set(&b, "SEX", !sex ? "U" : strcmp(sex, derive_sexes[0].value) == 0 ? "M" : "F");
        bool fas =
            atable_get(sub, r, SUB_IN_FAS) && strcmp(atable_get(sub, r, SUB_IN_FAS), "1") == 0;
        set(&b, "ARMCD", "IO");
        set(&b, "ARM", "Intraosseous access");
        set(&b, "ACTARMCD", fas ? "IO" : "NOTTRT");
        set(&b, "ACTARM", fas ? "Intraosseous access" : "Not Treated");
        /* study.csv's country (ISO 3166-1 alpha-3), empty when the protocol gives none */
        set(&b, "COUNTRY",
            v && v->dict && v->dict->study.country[0] ? v->dict->study.country : NULL);
        const char *os = atable_get(sub, r, SUB_OS_STATUS);
        bool dead = os && strcmp(os, "1") == 0;
        set(&b, "DTHFL", dead ? "Y" : NULL);
        const char *dth = raw && raw->death ? raw->death
                          : raw && raw->eos_status && strcmp(raw->eos_status, "2") == 0
                              ? raw->eos_date
                              : NULL;
        set(&b, "DTHDTC", dead ? dth : NULL);
        rc = b.rc;
        if (!rc)
            rc = supp(&D[D_SUPPDM], sid, NULL, 0, "HEMEDX", "Hematologic Diagnosis",
                      atable_get(sub, r, SUB_HEME_DX), "CRF");
        if (!rc)
            rc = supp(&D[D_SUPPDM], sid, NULL, 0, "ECOG", "ECOG Performance Status",
                      atable_get(sub, r, SUB_ECOG), "CRF");
        if (!rc)
            rc = supp(&D[D_SUPPDM], sid, NULL, 0, "FASFL", "Full Analysis Set Flag",
                      fas ? "Y" : "N", "DERIVED");
        /* DS: consent, then the end of study */
        long long seq = 0;
        if (!rc) {
            struct bld d = row(&D[D_DS], sid);
            setn(&d, "DSSEQ", ++seq);
            set(&d, "DSTERM", "INFORMED CONSENT OBTAINED");
            set(&d, "DSDECOD", "INFORMED CONSENT OBTAINED");
            set(&d, "DSCAT", "PROTOCOL MILESTONE");
            set(&d, "DSSTDTC",
                raw && raw->consent ? iso(raw->consent, b1) : atable_get(sub, r, SUB_ENROL_DATE));
            rc = d.rc;
        }
        if (!rc && raw && raw->eos_status) {
            static const char *const eos[] = {"", "COMPLETED", "DEATH", "WITHDRAWAL BY SUBJECT",
                                              "LOST TO FOLLOW-UP"};
            int k = raw->eos_status[0] - '0';
            const char *dec = k >= 1 && k <= 4 && !raw->eos_status[1] ? eos[k] : "OTHER";
            struct bld d = row(&D[D_DS], sid);
            setn(&d, "DSSEQ", ++seq);
            set(&d, "DSTERM", dec);
            set(&d, "DSDECOD", dec);
            set(&d, "DSCAT", "DISPOSITION EVENT");
            set(&d, "DSSTDTC", raw->eos_date);
            rc = d.rc;
        }
        /* LB: the baseline panel */
        static const char *const specimen[] = {"", "VENOUS BLOOD", "ARTERIAL BLOOD",
                                               "CAPILLARY BLOOD", "INTRAOSSEOUS BLOOD"};
        const char *spec = NULL;
        bool io_drawn = false;
        if (raw && raw->lab_source && raw->lab_source[0] >= '1' && raw->lab_source[0] <= '4' &&
            !raw->lab_source[1]) {
            spec = specimen[raw->lab_source[0] - '0'];
            io_drawn = raw->lab_source[0] == '4';
        }
        seq = 0;
        for (size_t i = 0; !rc && raw && i < N(LABS); i++) {
            if (!raw->lab[i])
                continue;
            rc = lb_row(&D[D_LB], sid, ++seq, LABS[i].testcd, LABS[i].test, raw->lab[i],
                        LABS[i].unit, spec, iso(raw->lab_dt, b1), "BASELINE", NULL);
            if (!rc && io_drawn && LABS[i].io_excluded)
                rc = supp(&D[D_SUPPLB], sid, "LBSEQ", seq, "LBEXCL", "Excluded From Analysis",
                          "Drawn through the IO needle (SAP 7)", "ASSIGNED");
        }
        /* LB: lactate at each time point after T0 (this subject's rows, next in the table) */
        for (; !rc && hd_at < hd->nrows && strcmp(atable_get(hd, hd_at, HD_SUBJECT_ID), sid) == 0;
             hd_at++) {
            size_t h = hd_at;
            const char *lac = atable_get(hd, h, HD_LACTATE);
            if (!lac)
                continue;
            const char *tp = atable_get(hd, h, HD_TIMEPOINT);
            rc = lb_row(&D[D_LB], sid, ++seq, "LACTICAC", "Lactic Acid", lac, "mmol/L", "BLOOD",
                        tp_dtc(v, tp, b2), NULL, tp);
        }
    }
    /* PR: each attempt */
    const struct atable *att = &ds->t[ADS_ATTEMPTS];
    const char *prev = "";
    long long seq = 0;
    for (size_t r = 0; !rc && r < att->nrows; r++) {
        const char *sid = atable_get(att, r, ATT_SUBJECT_ID);
        seq = strcmp(prev, sid) == 0 ? seq + 1 : 1;
        prev = sid;
        struct bld b = row(&D[D_PR], sid);
        char grp[48], spid[48], dur[48];
        fmt_text(grp, sizeof grp, "PLACEMENT %s", atable_get(att, r, ATT_PLACEMENT));
        fmt_text(spid, sizeof spid, "P%s-A%s", atable_get(att, r, ATT_PLACEMENT),
                 atable_get(att, r, ATT_ATTEMPT));
        setn(&b, "PRSEQ", seq);
        set(&b, "PRGRPID", grp);
        set(&b, "PRSPID", spid);
        set(&b, "PRTRT", "INTRAOSSEOUS NEEDLE INSERTION");
        set(&b, "PRCAT", "INTRAOSSEOUS ACCESS");
        set(&b, "PRLOC", upper(atable_get(att, r, ATT_SITE), up));
        set(&b, "PRSTDTC", iso(atable_get(att, r, ATT_START_DT), b1));
        double d;
        if (atable_num(att, r, ATT_DURATION_S, &d) && d >= 0) {
            fmt_exact(dur, sizeof dur, "PT%.0fS", d);
            set(&b, "PRDUR", dur);
        }
        rc = b.rc;
        if (!rc)
            rc = supp(&D[D_SUPPPR], sid, "PRSEQ", seq, "PRSUCC", "Attempt Successful",
                      yn(atable_get(att, r, ATT_SUCCESS)), "CRF");
    }
    /* EC: each infusion */
    const struct atable *inf = &ds->t[ADS_INFUSIONS];
    prev = "";
    for (size_t r = 0; !rc && r < inf->nrows; r++) {
        const char *sid = atable_get(inf, r, INF_SUBJECT_ID);
        seq = strcmp(prev, sid) == 0 ? seq + 1 : 1;
        prev = sid;
        struct bld b = row(&D[D_EC], sid);
        char spid[48];
        fmt_text(spid, sizeof spid, "INFUSION %s", atable_get(inf, r, INF_INFUSION));
        setn(&b, "ECSEQ", seq);
        set(&b, "ECSPID", spid);
        set(&b, "ECTRT", upper(atable_get(inf, r, INF_TYPE), up));
        set(&b, "ECCAT", "INFUSION THROUGH THE IO LINE");
        set(&b, "ECDOSE", atable_get(inf, r, INF_VOLUME));
        set(&b, "ECDOSU", "mL");
        set(&b, "ECROUTE", "INTRAOSSEOUS");
        const char *start = atable_get(inf, r, INF_START_DT);
        set(&b, "ECSTDTC", iso(start, b1));
        double m;
        if (atable_num(inf, r, INF_DURATION_MIN, &m))
            set(&b, "ECENDTC", iso_plus(start, m * 60, b2));
        rc = b.rc;
        if (!rc)
            rc = supp(&D[D_SUPPEC], sid, "ECSEQ", seq, "ECMETHOD", "Infusion Method",
                      upper(atable_get(inf, r, INF_METHOD), up), "CRF");
        if (!rc)
            rc = supp(&D[D_SUPPEC], sid, "ECSEQ", seq, "ECFLOW", "Flow Rate (mL/min)",
                      atable_get(inf, r, INF_FLOW), "DERIVED");
    }
    /* VS: each time point done */
    static const struct {
        int col;
        const char *cd, *test, *unit;
    } VS[] = {{HD_MAP, "MAP", "Mean Arterial Pressure", "mmHg"},
              {HD_HR, "HR", "Heart Rate", "beats/min"},
              {HD_SBP, "SYSBP", "Systolic Blood Pressure", "mmHg"}};
    prev = "";
    for (size_t r = 0; !rc && r < hd->nrows; r++) {
        const char *sid = atable_get(hd, r, HD_SUBJECT_ID);
        if (strcmp(prev, sid) != 0)
            seq = 0;
        prev = sid;
        const char *dtc = tp_dtc(v, atable_get(hd, r, HD_TIMEPOINT), b2);
        /* the time point's event: its place in events.csv and its label */
        const struct dict *dd = v ? v->dict : NULL;
        const char *tpev = tp_event(atable_get(hd, r, HD_TIMEPOINT));
        int evi = dd && tpev ? dict_event_index(dd, tpev) : -1;
        for (size_t k = 0; !rc && k < N(VS); k++) {
            const char *val = atable_get(hd, r, (size_t)VS[k].col);
            if (!val)
                continue;
            struct bld b = row(&D[D_VS], sid);
            char eltm[32];
            const char *min = atable_get(hd, r, HD_MINUTES);
            fmt_text(eltm, sizeof eltm, "PT%sM", min ? min : "0");
            setn(&b, "VSSEQ", ++seq);
            set(&b, "VSTESTCD", VS[k].cd);
            set(&b, "VSTEST", VS[k].test);
            set(&b, "VSORRES", val);
            set(&b, "VSORRESU", VS[k].unit);
            set(&b, "VSSTRESC", val);
            set(&b, "VSSTRESN", val);
            set(&b, "VSSTRESU", VS[k].unit);
            if (evi >= 0) {
                setn(&b, "VISITNUM", evi + 1);
                set(&b, "VISIT", dd->events[evi].label);
            }
            set(&b, "VSTPT", atable_get(hd, r, HD_TIMEPOINT));
            set(&b, "VSTPTNUM", min);
            set(&b, "VSELTM", eltm);
            set(&b, "VSTPTREF", "T0 (FIRST SKIN PUNCTURE)");
            set(&b, "VSDTC", dtc);
            rc = b.rc;
        }
    }
    /* AE: each complication */
    const struct atable *cmp = &ds->t[ADS_COMPLICATIONS];
    static const char *const rel[] = {"",
                                      "DEFINITELY RELATED",
                                      "PROBABLY RELATED",
                                      "POSSIBLY RELATED",
                                      "UNLIKELY RELATED",
                                      "NOT RELATED"};
    prev = "";
    for (size_t r = 0; !rc && r < cmp->nrows; r++) {
        const char *sid = atable_get(cmp, r, CMP_SUBJECT_ID);
        seq = strcmp(prev, sid) == 0 ? seq + 1 : 1;
        prev = sid;
        struct bld b = row(&D[D_AE], sid);
        char spid[96];
        fmt_text(spid, sizeof spid, "%s #%s", atable_get(cmp, r, CMP_EVENT),
                 atable_get(cmp, r, CMP_INSTANCE));
        setn(&b, "AESEQ", seq);
        set(&b, "AESPID", spid);
        /* an "Other" is reported as the words the form gives it */
        const char *ev = atable_get(cmp, r, CMP_EVENT), *in = atable_get(cmp, r, CMP_INSTANCE);
        int inst = in ? atoi(in) : 0;
        const char *type = atable_get(cmp, r, CMP_TYPE);
        const char *oth = v && type && strcmp(type, "99") == 0
                              ? vtab_get(v, ev, inst, "comp_type_oth", NULL)
                              : NULL;
        set(&b, "AETERM", oth ? oth : atable_get(cmp, r, CMP_TYPE_LABEL));
        set(&b, "AEDECOD", upper(atable_get(cmp, r, CMP_TYPE_LABEL), up));
        set(&b, "AECAT", "IO SITE OR IO USE");
        set(&b, "AETOXGR", atable_get(cmp, r, CMP_GRADE));
        set(&b, "AESER", yn(atable_get(cmp, r, CMP_SERIOUS)));
        const char *re = atable_get(cmp, r, CMP_RELATED);
        set(&b, "AEREL", re && re[0] >= '1' && re[0] <= '5' && !re[1] ? rel[re[0] - '0'] : NULL);
        set(&b, "AESTDTC", atable_get(cmp, r, CMP_ONSET));
        const char *ser = atable_get(cmp, r, CMP_SERIOUS);
        char end[32];
        ae_details(&b, v, ev, inst, ser && strcmp(ser, "1") == 0, end);
        rc = b.rc;
    }
    return rc ? (rc == ERR_INTERNAL ? ERR_INTERNAL : ERR_NOMEM) : 0;
}

/* ---- streaming: one record at a time ------------------------------------------------------*/

/* dataset_sdtm_write's state: the domains of the record being built (D, emptied after each
 * record), that record's stored values (rs, in ar), and every domain's rows so far (sp). */
struct sdtm_out {
    struct dom *D;
    struct raws rs;
    struct arena ar;
    struct dataset_spool sp[D_N];
};

/* A record's analysis rows: its domain rows as the spools' bytes (stream i: domain i); then
 * the next record starts afresh. */
static int sdtm_rows(void *ctx, const struct adataset *ds, struct vtab *v, struct dataset_out *out,
                     struct err *e)
{
    struct sdtm_out *o = ctx;
    int rc = 0;
    if (v && v->study_id && (rc = raw_from(&o->rs, v->study_id, v)) != 0)
        return err_set(e, rc, "out of memory");
    rc = build(ds, &o->rs, o->D, v);
    if (rc)
        err_set(e, rc, rc == ERR_NOMEM ? "out of memory" : "building the SDTM domains");
    for (int i = 0; !rc && i < D_N; i++)
        rc = dataset_spool_format(&o->D[i].t, &out->bytes[i], &out->nrows[i], e);
    for (int i = 0; i < D_N; i++)
        atable_clear(&o->D[i].t);
    o->rs.r = NULL;
    o->rs.n = o->rs.cap = 0; /* has_sites stays */
    arena_reset(&o->ar);
    return rc;
}

/* dataset_stream's write: domain i's spool. */
static int sdtm_write(void *ctx, size_t i, const char *bytes, size_t n, size_t nrows, struct err *e)
{
    struct sdtm_out *o = ctx;
    return dataset_spool_add_bytes(&o->sp[i], bytes, n, nrows, e);
}

struct xpt_files {
    const struct dom *D;
    struct dataset_spool *sp;
    const char *dir;
};

/* dataset_spools_each's job: domain i's transport file, dir/<member in lower case>.xpt. */
static int xpt_file(void *ctx, size_t i, struct err *e)
{
    const struct xpt_files *x = ctx;
    char name[16], path[4096];
    fmt_exact(name, sizeof name, "%s", x->D[i].member);
    for (char *p = name; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (!fmt_fits(path, sizeof path, "%s/%s.xpt", x->dir, name))
        return err_set_field(e, ERR_INVALID, "out", "%s: path too long", x->dir);
    return dataset_xpt_write(&x->sp[i], x->D[i].member, x->D[i].label, path, e);
}

int dataset_sdtm_write(struct store *st, const char *dir, struct dataset_sdtm_stats *stats,
                       struct err *e)
{
    memset(stats, 0, sizeof *stats);
    struct dom D[D_N] = {
        [D_DM] = {"DM", "Demographics", "One record per subject", "AAAADCAADCAAAAADC", {0}, 0},
        [D_SUPPDM] = {"SUPPDM",
                      "Supplemental Qualifiers for DM",
                      "One record per supplemental qualifier per subject",
                      "AAAAAAAAA",
                      {0},
                      0},
        [D_DS] = {"DS",
                  "Disposition",
                  "One record per disposition status per subject",
                  "AAADCCAC",
                  {0},
                  0},
        [D_PR] = {"PR",
                  "Procedures",
                  "One record per insertion attempt per subject",
                  "AAADCCAACCD",
                  {0},
                  0},
        [D_SUPPPR] = {"SUPPPR",
                      "Supplemental Qualifiers for PR",
                      "One record per supplemental qualifier per attempt",
                      "AAAAAAAAA",
                      {0},
                      0},
        [D_EC] = {"EC",
                  "Exposure as Collected",
                  "One record per infusion per subject",
                  "AAADCCACAACD",
                  {0},
                  0},
        [D_SUPPEC] = {"SUPPEC",
                      "Supplemental Qualifiers for EC",
                      "One record per supplemental qualifier per infusion",
                      "AAAAAAAAA",
                      {0},
                      0},
        [D_VS] = {"VS",
                  "Vital Signs",
                  "One record per test per time point per subject",
                  "AAADAACACDAAACDDAC",
                  {0},
                  0},
        [D_LB] = {"LB",
                  "Laboratory Test Results",
                  "One record per test per time point per subject",
                  "AAADAACACDACCAC",
                  {0},
                  0},
        [D_SUPPLB] = {"SUPPLB",
                      "Supplemental Qualifiers for LB",
                      "One record per supplemental qualifier per result",
                      "AAAAAAAAA",
                      {0},
                      0},
        [D_AE] = {"AE",
                  "Adverse Events",
                  "One record per complication per subject",
                  "AAADCCACCCCCCCCCCCCC",
                  {0},
                  0},
    };
    static const struct {
        const struct acol *cols;
        size_t n;
    } COLS[D_N] = {[D_DM] = {DM_COLS, N(DM_COLS)},
                   [D_SUPPDM] = {SUPP_COLS, N(SUPP_COLS)},
                   [D_DS] = {DS_COLS, N(DS_COLS)},
                   [D_PR] = {PR_COLS, N(PR_COLS)},
                   [D_SUPPPR] = {SUPP_COLS, N(SUPP_COLS)},
                   [D_EC] = {EC_COLS, N(EC_COLS)},
                   [D_SUPPEC] = {SUPP_COLS, N(SUPP_COLS)},
                   [D_VS] = {FIND_COLS_VS, N(FIND_COLS_VS)},
                   [D_LB] = {FIND_COLS_LB, N(FIND_COLS_LB)},
                   [D_SUPPLB] = {SUPP_COLS, N(SUPP_COLS)},
                   [D_AE] = {AE_COLS, N(AE_COLS)}};
    for (int i = 0; i < D_N; i++) {
        atable_init(&D[i].t, D[i].member, COLS[i].cols, COLS[i].n);
        if (strlen(D[i].origins) != COLS[i].n) /* one origin per variable, or a bug here */
            return err_set(e, ERR_INTERNAL, "SDTM %s: origins do not match its variables",
                           D[i].member);
    }
    struct sdtm_out o = {.D = D, .rs = {.ar = &o.ar}, .ar = ARENA_INIT};
    /* no completeness domain; the layout names whether the study has sites (DM's SITEID) */
    struct dataset_stream stream = {.on_rows = sdtm_rows,
                                    .write = sdtm_write,
                                    .ctx = &o,
                                    .nout = D_N,
                                    .no_completeness = true,
                                    .cache_kind = "sdtm"};
    struct adataset ds;
    bool has_ds = false;
    char first[32] = "", last[32] = "";
    int rc = 0;
    if (mkdir(dir, 0755) != 0) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            rc = err_set_field(e, ERR_IO, "out", "%s: cannot create the folder", dir);
    }
    struct store_site *sites = NULL;
    size_t nsites = 0;
    if (!rc)
        rc = store_site_list(st, &sites, &nsites, e);
    free(sites);
    o.rs.has_sites = nsites > 0;
    stream.cache_layout = o.rs.has_sites ? "spool rows, sites" : "spool rows";
    stream.cache_stats = &stats->cache;
    for (int i = 0; !rc && i < D_N; i++)
        rc = dataset_spool_open(&o.sp[i], dir, D[i].member, D[i].t.cols, D[i].t.ncols, e);
    if (!rc)
        rc = dataset_stream_store(st, &ds, &stream, e);
    has_ds = rc == 0;
    if (!rc)
        rc = store_audit_content_time(st, first, last, e);
    if (!rc) { /* the transport files, two at a time */
        struct dataset_spool *sp[D_N];
        for (int i = 0; i < D_N; i++) {
            sp[i] = &o.sp[i];
            stats->rows += o.sp[i].nrows;
            stats->datasets++;
        }
        struct xpt_files x = {D, o.sp, dir};
        rc = dataset_spools_each(D_N, sp, xpt_file, &x, e);
    }
    if (!rc) {
        struct strbuf sb = STRBUF_INIT;
        dataset_sdtm_define_xml(D, o.sp, D_N, last, store_dict(st)->study.title, &sb);
        rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : dataset_write_file(dir, "define.xml", strbuf_str(&sb), sb.len, e);
        strbuf_release(&sb);
    }
    if (!rc)
        stats->subjects = o.sp[D_DM].nrows;
    for (int i = 0; i < D_N; i++) {
        atable_free(&D[i].t);
        if (o.sp[i].f)
            dataset_spool_close(&o.sp[i]);
    }
    if (has_ds)
        derive_free(&ds);
    arena_free(&o.ar);
    free(o.rs.keep_of);
    return rc;
}
