/* ODM 1.3.2 writer (odm.h): metadata from the protocol, AdminData from the users and the
 * protocol's signature meanings, ClinicalData streamed record by record from the store. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "formats/odm.h"
#include "store/snapshot.h"

#define ODM_NS "http://www.cdisc.org/ns/odm/v1.3"
#define STUDY_OID "S.IOHEME"
#define MDV_OID "MDV.1"
#define SITE_OID "L.SITE"

/* The writer and its first failure: every call after one is a no-op. */
struct w {
    xmlTextWriterPtr x;
    bool failed;
};

static void w_check(struct w *w, int r)
{
    if (r < 0)
        w->failed = true;
}
static void w_start(struct w *w, const char *name)
{
    if (!w->failed)
        w_check(w, xmlTextWriterStartElement(w->x, BAD_CAST name));
}
static void w_end(struct w *w)
{
    if (!w->failed)
        w_check(w, xmlTextWriterEndElement(w->x));
}
static void w_attr(struct w *w, const char *name, const char *value)
{
    if (!w->failed)
        w_check(w, xmlTextWriterWriteAttribute(w->x, BAD_CAST name, BAD_CAST value));
}
static void w_attrf(struct w *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void w_attrf(struct w *w, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        w->failed = true;
    else
        w_attr(w, name, buf);
}
static void w_text_elem(struct w *w, const char *name, const char *text)
{
    if (!w->failed)
        w_check(w, xmlTextWriterWriteElement(w->x, BAD_CAST name, BAD_CAST text));
}
/* <name><TranslatedText xml:lang="en">text</TranslatedText></name> */
static void w_translated(struct w *w, const char *name, const char *text)
{
    w_start(w, name);
    w_start(w, "TranslatedText");
    w_attr(w, "xml:lang", "en");
    if (!w->failed)
        w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST text));
    w_end(w);
    w_end(w);
}

/* As w_translated, the text being a, b and c one after the other (b, c may be NULL). */
static void w_translated3(struct w *w, const char *name, const char *a, const char *b,
                          const char *c)
{
    w_start(w, name);
    w_start(w, "TranslatedText");
    w_attr(w, "xml:lang", "en");
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (parts[i] && !w->failed)
            w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST parts[i]));
    w_end(w);
    w_end(w);
}

/* ODM's xs:dateTime from the store's "YYYY-MM-DDTHH:MM:SS.mmmZ" (already UTC, kept as is). */
static const char *odm_time(const char *ts)
{
    return ts && ts[0] ? ts : "1970-01-01T00:00:00Z";
}

/* ---- metadata -----------------------------------------------------------------------------*/

static int decimals(enum val_type v)
{
    switch (v) {
    case VT_NUMBER_1DP:
        return 1;
    case VT_NUMBER_2DP:
        return 2;
    case VT_NUMBER_3DP:
        return 3;
    case VT_NUMBER_4DP:
        return 4;
    default:
        return -1;
    }
}

static bool codes_are_integers(const struct dict_field *f)
{
    for (size_t i = 0; i < f->nchoices; i++) {
        const char *c = f->choices[i].code;
        if (*c == '-')
            c++;
        if (!*c || strspn(c, "0123456789") != strlen(c) || strlen(c) > 9)
            return false;
    }
    return f->nchoices > 0;
}

static bool has_codelist(const struct dict_field *f)
{
    return f->type == FT_DROPDOWN || f->type == FT_RADIO || f->type == FT_YESNO ||
           f->type == FT_TRUEFALSE;
}

/* The ODM DataType of a field's values (of one option for a checkbox). */
static const char *data_type(const struct dict_field *f)
{
    if (f->type == FT_CHECKBOX)
        return "boolean";
    if (has_codelist(f))
        return codes_are_integers(f) ? "integer" : "text";
    if (f->type == FT_CALC)
        return "float";
    if (f->type == FT_SLIDER)
        return "integer";
    switch (f->vtype) {
    case VT_INTEGER:
        return "integer";
    case VT_NUMBER:
    case VT_NUMBER_1DP:
    case VT_NUMBER_2DP:
    case VT_NUMBER_3DP:
    case VT_NUMBER_4DP:
        return "float";
    case VT_DATE_YMD:
    case VT_DATE_MDY:
    case VT_DATE_DMY:
        return "date";
    case VT_DATETIME_YMD:
    case VT_DATETIME_MDY:
    case VT_DATETIME_DMY:
        return "partialDatetime";
    case VT_DATETIME_SECONDS_YMD:
    case VT_DATETIME_SECONDS_MDY:
    case VT_DATETIME_SECONDS_DMY:
        return "datetime";
    case VT_TIME:
        return "partialTime";
    case VT_TIME_HH_MM_SS:
        return "time";
    default:
        return "text";
    }
}

/* Digits of the wider bound of an integer or decimal field, 0 when unknown. */
static int range_digits(const struct dict_field *f)
{
    if (!f->has_min || !f->has_max)
        return 0;
    double m = f->max_num > -f->min_num ? f->max_num : -f->min_num;
    int n = 1;
    for (double p = 10; p <= m && n < 15; p *= 10)
        n++;
    return n + (f->min_num < 0 ? 1 : 0);
}

/* A unit in the field note: a numeric field's note that is one short word ("mmHg",
 * "mL/min"). */
static const char *unit_of(const struct dict_field *f)
{
    bool numeric = f->vtype == VT_INTEGER || f->vtype == VT_NUMBER || decimals(f->vtype) > 0 ||
                   f->type == FT_CALC;
    if (!numeric || !f->note || !f->note[0] || strlen(f->note) > 16 || strpbrk(f->note, " \t,;"))
        return NULL;
    return f->note;
}

/* OIDs made of names: the names are REDCap's ([a-z0-9_]) and units are short words, so the
 * OID is the name behind a prefix. Units may hold '/', which an OID keeps. */
static void w_item_oid(struct w *w, const char *attr, const char *key)
{
    w_attrf(w, attr, "I.%s", key);
}

struct units {
    const char **names;
    size_t n, cap;
};

static int units_collect(const struct dict *d, struct units *u)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const char *un = unit_of(&d->fields[i]);
        bool seen = false;
        for (size_t j = 0; un && j < u->n && !seen; j++)
            seen = strcmp(u->names[j], un) == 0;
        if (!un || seen)
            continue;
        const char **g = array_grow(u->names, u->n, &u->cap, sizeof *g, 16);
        if (!g)
            return ERR_NOMEM;
        u->names = g;
        u->names[u->n++] = un;
    }
    return 0;
}

static size_t unit_index(const struct units *u, const char *un)
{
    for (size_t j = 0; j < u->n; j++)
        if (strcmp(u->names[j], un) == 0)
            return j;
    return 0;
}

static bool form_repeats_anywhere(const struct dict *d, size_t fi)
{
    for (size_t ev = 0; ev < d->nevents; ev++)
        if (d->form_repeats[ev * d->nforms + fi])
            return true;
    return false;
}

static bool has_data(const struct dict_field *f)
{
    return f->type != FT_DESCRIPTIVE;
}

static void w_range_check(struct w *w, const char *cmp, const char *value, bool hard,
                          const char *label, const char *what)
{
    w_start(w, "RangeCheck");
    w_attr(w, "Comparator", cmp);
    w_attr(w, "SoftHard", hard ? "Hard" : "Soft");
    w_text_elem(w, "CheckValue", value);
    char msg[512];
    fmt_text(msg, sizeof msg, "%s: %s %s", label, what, value);
    w_translated(w, "ErrorMessage", msg);
    w_end(w);
}

static void w_item_def(struct w *w, const struct dict_field *f, const struct dict_choice *opt,
                       const struct units *u)
{
    char key[DICT_KEY_NAME_MAX];
    dict_key_format(f->name, opt ? opt->code : NULL, key, sizeof key);
    w_start(w, "ItemDef");
    w_item_oid(w, "OID", key);
    w_attr(w, "Name", key);
    const char *dt = data_type(f);
    w_attr(w, "DataType", dt);
    int dp = decimals(f->vtype);
    int digits = opt ? 0 : range_digits(f);
    if (opt)
        w_attr(w, "Length", "1");
    else if (strcmp(dt, "integer") == 0 && has_codelist(f)) {
        size_t len = 1;
        for (size_t i = 0; i < f->nchoices; i++)
            if (strlen(f->choices[i].code) > len)
                len = strlen(f->choices[i].code);
        w_attrf(w, "Length", "%zu", len);
    } else if (strcmp(dt, "text") == 0 && has_codelist(f)) {
        size_t len = 1;
        for (size_t i = 0; i < f->nchoices; i++)
            if (strlen(f->choices[i].code) > len)
                len = strlen(f->choices[i].code);
        w_attrf(w, "Length", "%zu", len);
    } else if (strcmp(dt, "integer") == 0 && digits)
        w_attrf(w, "Length", "%d", digits);
    else if (dp > 0 && digits) {
        w_attrf(w, "Length", "%d", digits + dp + 1);
        w_attrf(w, "SignificantDigits", "%d", dp);
    } else if (dp > 0)
        w_attrf(w, "SignificantDigits", "%d", dp);
    else if (strcmp(dt, "date") == 0)
        w_attr(w, "Length", "10");
    else if (strcmp(dt, "partialDatetime") == 0)
        w_attr(w, "Length", "16");
    else if (strcmp(dt, "datetime") == 0)
        w_attr(w, "Length", "19");
    else if (strcmp(dt, "partialTime") == 0)
        w_attr(w, "Length", "5");
    else if (strcmp(dt, "time") == 0)
        w_attr(w, "Length", "8");
    if (f->is_identifier)
        w_attr(w, "Comment", "Identifier");
    if (opt) {
        w_translated3(w, "Question", f->label, ": ", opt->label);
    } else {
        w_translated(w, "Question", f->label);
    }
    const char *un = opt ? NULL : unit_of(f);
    if (un) {
        w_start(w, "MeasurementUnitRef");
        w_attrf(w, "MeasurementUnitOID", "MU.%zu", unit_index(u, un) + 1);
        w_end(w);
    }
    if (!opt && f->has_min)
        w_range_check(w, "GE", f->vmin, f->force_minmax, f->name, "at least");
    if (!opt && f->has_max)
        w_range_check(w, "LE", f->vmax, f->force_minmax, f->name, "at most");
    if (!opt && has_codelist(f)) {
        w_start(w, "CodeListRef");
        w_attrf(w, "CodeListOID", "CL.%s", f->name);
        w_end(w);
    }
    w_end(w);
}

static void w_code_list(struct w *w, const char *oid, const char *name, const char *dt,
                        const struct dict_choice *c, size_t n)
{
    w_start(w, "CodeList");
    w_attr(w, "OID", oid);
    w_attr(w, "Name", name);
    w_attr(w, "DataType", dt);
    for (size_t i = 0; i < n; i++) {
        w_start(w, "CodeListItem");
        w_attr(w, "CodedValue", c[i].code);
        w_translated(w, "Decode", c[i].label);
        w_end(w);
    }
    w_end(w);
}

static const struct dict_choice form_statuses[] = {
    {"0", "Incomplete"}, {"1", "Unverified"}, {"2", "Complete"}};
static const struct dict_choice query_statuses[] = {
    {"open", "Open"}, {"answered", "Answered"}, {"closed", "Closed"}};

static void w_metadata(struct w *w, const struct dict *d, const struct units *u)
{
    w_start(w, "MetaDataVersion");
    w_attr(w, "OID", MDV_OID);
    w_attr(w, "Name", "ioheme protocol");
    w_start(w, "Protocol");
    for (size_t ev = 0; ev < d->nevents; ev++) {
        w_start(w, "StudyEventRef");
        w_attrf(w, "StudyEventOID", "SE.%s", d->events[ev].name);
        w_attrf(w, "OrderNumber", "%zu", ev + 1);
        w_attr(w, "Mandatory", "No");
        w_end(w);
    }
    w_end(w);
    for (size_t ev = 0; ev < d->nevents; ev++) {
        w_start(w, "StudyEventDef");
        w_attrf(w, "OID", "SE.%s", d->events[ev].name);
        w_attr(w, "Name", d->events[ev].label);
        w_attr(w, "Repeating", "No");
        w_attr(w, "Type", "Scheduled");
        size_t order = 0;
        for (size_t fi = 0; fi < d->nforms; fi++)
            if (d->form_at_event[ev * d->nforms + fi]) {
                w_start(w, "FormRef");
                w_attrf(w, "FormOID", "F.%s", d->forms[fi].name);
                w_attrf(w, "OrderNumber", "%zu", ++order);
                w_attr(w, "Mandatory", "No");
                w_end(w);
            }
        w_end(w);
    }
    for (size_t fi = 0; fi < d->nforms; fi++) {
        w_start(w, "FormDef");
        w_attrf(w, "OID", "F.%s", d->forms[fi].name);
        w_attr(w, "Name", d->forms[fi].label);
        w_attr(w, "Repeating", "No");
        w_start(w, "ItemGroupRef");
        w_attrf(w, "ItemGroupOID", "IG.%s", d->forms[fi].name);
        w_attr(w, "Mandatory", "Yes");
        w_end(w);
        w_end(w);
    }
    char key[DICT_KEY_NAME_MAX];
    for (size_t fi = 0; fi < d->nforms; fi++) {
        const struct dict_form *fm = &d->forms[fi];
        w_start(w, "ItemGroupDef");
        w_attrf(w, "OID", "IG.%s", fm->name);
        w_attr(w, "Name", fm->label);
        w_attr(w, "Repeating", form_repeats_anywhere(d, fi) ? "Yes" : "No");
        size_t order = 0;
        for (size_t i = fm->first_field; i < fm->first_field + fm->nfields; i++) {
            const struct dict_field *f = &d->fields[i];
            if (!has_data(f))
                continue;
            size_t nopt = f->type == FT_CHECKBOX ? f->nchoices : 1;
            for (size_t o = 0; o < nopt; o++) {
                dict_key_format(f->name, f->type == FT_CHECKBOX ? f->choices[o].code : NULL, key,
                                sizeof key);
                w_start(w, "ItemRef");
                w_item_oid(w, "ItemOID", key);
                w_attrf(w, "OrderNumber", "%zu", ++order);
                /* a required checkbox needs one option ticked, not each */
                w_attr(w, "Mandatory", f->is_required && f->type != FT_CHECKBOX ? "Yes" : "No");
                if (i == 0)
                    w_attr(w, "KeySequence", "1");
                if (f->calc)
                    w_attrf(w, "MethodOID", "M.%s", f->name);
                if (f->branching)
                    w_attrf(w, "CollectionExceptionConditionOID", "C.%s", f->name);
                w_end(w);
            }
        }
        dict_complete_field(fm, key, sizeof key);
        w_start(w, "ItemRef");
        w_item_oid(w, "ItemOID", key);
        w_attrf(w, "OrderNumber", "%zu", ++order);
        w_attr(w, "Mandatory", "No");
        w_end(w);
        w_end(w);
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!has_data(f))
            continue;
        if (f->type == FT_CHECKBOX)
            for (size_t o = 0; o < f->nchoices; o++)
                w_item_def(w, f, &f->choices[o], u);
        else
            w_item_def(w, f, NULL, u);
    }
    for (size_t fi = 0; fi < d->nforms; fi++) {
        dict_complete_field(&d->forms[fi], key, sizeof key);
        w_start(w, "ItemDef");
        w_item_oid(w, "OID", key);
        w_attr(w, "Name", key);
        w_attr(w, "DataType", "integer");
        w_attr(w, "Length", "1");
        w_translated3(w, "Question", d->forms[fi].label, ": form status", NULL);
        w_start(w, "CodeListRef");
        w_attr(w, "CodeListOID", "CL.FORM_STATUS");
        w_end(w);
        w_end(w);
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (has_codelist(f)) {
            char oid[200];
            fmt_exact(oid, sizeof oid, "CL.%s", f->name); /* names <= 100 */
            w_code_list(w, oid, f->name, data_type(f), f->choices, f->nchoices);
        }
    }
    w_code_list(w, "CL.FORM_STATUS", "form status", "integer", form_statuses, 3);
    w_code_list(w, "CL.QUERY_STATUS", "query status", "text", query_statuses, 3);
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!f->branching || !has_data(f))
            continue;
        w_start(w, "ConditionDef");
        w_attrf(w, "OID", "C.%s", f->name);
        w_attrf(w, "Name", "%s not collected", f->name);
        w_translated(w, "Description",
                     "The item is not collected (hidden) when its REDCap branching logic is "
                     "false; the expression is that logic, negated.");
        w_start(w, "FormalExpression");
        w_attr(w, "Context", "REDCap");
        const char *parts[3] = {"not (", f->branching_raw, ")"};
        for (int k = 0; k < 3; k++)
            if (!w->failed)
                w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST parts[k]));
        w_end(w);
        w_end(w);
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!f->calc)
            continue;
        w_start(w, "MethodDef");
        w_attrf(w, "OID", "M.%s", f->name);
        w_attrf(w, "Name", "%s", f->name);
        w_attr(w, "Type", "Computation");
        w_translated(w, "Description", f->label);
        w_start(w, "FormalExpression");
        w_attr(w, "Context", "REDCap");
        if (!w->failed)
            w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST f->choices_raw));
        w_end(w);
        w_end(w);
    }
    w_end(w); /* MetaDataVersion */
}

static int w_admin(struct w *w, struct store *st, const struct dict *d, bool deidentified,
                   const char *first_ts, struct err *e)
{
    struct store_user *users = NULL;
    size_t n = 0;
    int rc = store_user_list(st, &users, &n, e);
    if (rc)
        return rc;
    w_start(w, "AdminData");
    w_attr(w, "StudyOID", STUDY_OID);
    w_start(w, "User");
    w_attr(w, "OID", "U.system");
    w_attr(w, "UserType", "Other");
    w_text_elem(w, "LoginName", "system");
    w_text_elem(w, "DisplayName", "ioheme (the system itself)");
    w_end(w);
    for (size_t i = 0; i < n && !rc; i++) {
        w_start(w, "User");
        w_attrf(w, "OID", "U.%s", users[i].name);
        w_attr(w, "UserType",
               strcmp(users[i].role, "investigator") == 0 ? "Investigator" : "Other");
        w_text_elem(w, "LoginName", users[i].name);
        w_text_elem(w, "DisplayName", users[i].role);
        if (!deidentified) {
            char full[256];
            rc = store_user_full_name(st, users[i].name, full, sizeof full, e);
            if (!rc)
                w_text_elem(w, "FullName", full);
        }
        w_end(w);
    }
    free(users);
    if (rc)
        return rc;
    /* the study's own location (where changes are made from), then each site (docs/sites.md)
     * as the Location its records' SiteRef names */
    struct store_site *sites = NULL;
    size_t nsites = 0;
    rc = store_site_list(st, &sites, &nsites, e);
    if (rc)
        return rc;
    char day[11];
    fmt_exact(day, sizeof day, "%.10s", odm_time(first_ts));
    for (size_t i = 0; i <= nsites; i++) {
        w_start(w, "Location");
        if (i == 0) {
            w_attr(w, "OID", SITE_OID);
            w_attr(w, "Name", "Study site");
        } else {
            w_attrf(w, "OID", "L.S.%s", sites[i - 1].code);
            w_attr(w, "Name", sites[i - 1].name);
        }
        w_attr(w, "LocationType", "Site");
        w_start(w, "MetaDataVersionRef");
        w_attr(w, "StudyOID", STUDY_OID);
        w_attr(w, "MetaDataVersionOID", MDV_OID);
        w_attr(w, "EffectiveDate", day);
        w_end(w);
        w_end(w);
    }
    free(sites);
    for (size_t i = 0; i < d->nsigs; i++) {
        w_start(w, "SignatureDef");
        w_attrf(w, "OID", "SD.%s", d->sigs[i].name);
        w_attr(w, "Methodology", "Electronic");
        w_text_elem(w, "Meaning", d->sigs[i].label);
        w_text_elem(w, "LegalReason", d->sigs[i].attestation);
        w_end(w);
    }
    w_end(w);
    return 0;
}

/* ---- clinical data ------------------------------------------------------------------------*/

/* One ItemData to write: where (event, form, instance), which item (its order in the form),
 * and in audit order; with audit, the change. Strings in the record's arena. */
struct entry {
    size_t ev, form, field, opt; /* opt: 0 a field, 1 + option index, field = SIZE_MAX: status */
    int instance;
    long long seq; /* the audit row's id (0: a snapshot's value) */
    int pver;      /* the protocol version it was written under (audit), else 0 */
    const char *key, *value, *old, *user, *ts, *reason, *source, *source_sha256;
    bool is_identifier;
};

struct rec {
    const struct dict *d;
    struct arena ar;
    struct entry *v;
    size_t n, cap;
    bool deidentified;
    size_t withheld;
    int rc;
};

static struct entry *rec_add(struct rec *r, const char *event, int instance, const char *key)
{
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(r->d, key, &k);
    int ev = event ? dict_event_index(r->d, event) : -1;
    if (ev < 0 || kind == DICT_KEY_UNKNOWN)
        return NULL; /* not an item of the protocol (cannot happen with the stored protocol) */
    struct entry x = {.ev = (size_t)ev, .instance = instance};
    if (kind == DICT_KEY_STATUS) {
        x.form = (size_t)(k.form - r->d->forms);
        x.field = SIZE_MAX;
    } else {
        x.form = k.field->form_index;
        x.field = (size_t)(k.field - r->d->fields);
        x.is_identifier = k.field->is_identifier;
        if (kind == DICT_KEY_OPTION) {
            x.opt = SIZE_MAX;
            for (size_t i = 0; i < k.field->nchoices; i++)
                if (strcmp(k.field->choices[i].code, k.code) == 0)
                    x.opt = i + 1;
            if (x.opt == SIZE_MAX)
                return NULL;
        }
    }
    if (r->deidentified && x.is_identifier) {
        r->withheld++;
        return NULL;
    }
    struct entry *g = array_grow(r->v, r->n, &r->cap, sizeof *g, 256);
    if (!g) {
        r->rc = ERR_NOMEM;
        return NULL;
    }
    r->v = g;
    x.key = arena_strdup(&r->ar, key);
    if (!x.key) {
        r->rc = ERR_NOMEM;
        return NULL;
    }
    r->v[r->n] = x;
    return &r->v[r->n++];
}

static const char *dup(struct rec *r, const char *s)
{
    if (!s)
        return NULL;
    char *c = arena_strdup(&r->ar, s);
    if (!c)
        r->rc = ERR_NOMEM;
    return c;
}

static int on_audit(void *ctx, const struct store_audit_row *a)
{
    struct rec *r = ctx;
    if (!a->field || !a->event ||
        (strcmp(a->action, "update") != 0 && strcmp(a->action, "calc") != 0 &&
         strcmp(a->action, "form_status") != 0))
        return 0;
    struct entry *x = rec_add(r, a->event, a->instance < 0 ? 0 : (int)a->instance, a->field);
    if (!x)
        return r->rc;
    x->seq = a->id;
    x->pver = a->protocol_version;
    x->value = dup(r, a->new_value);
    x->old = dup(r, a->old_value);
    x->user = dup(r, a->user);
    x->ts = dup(r, a->ts);
    x->reason = dup(r, a->reason);
    x->source = dup(r, a->source);
    x->source_sha256 = dup(r, a->source_sha256);
    return r->rc;
}

static int on_value(void *ctx, const struct store_value *v)
{
    struct rec *r = ctx;
    char key[DICT_KEY_NAME_MAX];
    if (!dict_key_format(v->field, v->code, key, sizeof key))
        return 0;
    struct entry *x = rec_add(r, v->event, v->instance, key);
    if (x)
        x->value = dup(r, v->value);
    return r->rc;
}

static int on_state(void *ctx, const struct store_form_state *s)
{
    struct rec *r = ctx;
    const struct dict_form *fm = dict_form(r->d, s->form);
    char key[DICT_KEY_NAME_MAX], val[16];
    if (!fm)
        return 0;
    dict_complete_field(fm, key, sizeof key);
    struct entry *x = rec_add(r, s->event, s->instance, key);
    fmt_exact(val, sizeof val, "%d", s->status);
    if (x)
        x->value = dup(r, val);
    return r->rc;
}

static int cmp_size(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = cmp_size(a->ev, b->ev);
    if (!c)
        c = cmp_size(a->form, b->form);
    if (!c)
        c = a->instance < b->instance ? -1 : a->instance > b->instance;
    if (!c)
        c = cmp_size(a->field, b->field);
    if (!c)
        c = cmp_size(a->opt, b->opt);
    if (!c)
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return c;
}

/* The value as ODM writes it: a date-time's space becomes ISO 8601's 'T'. */
static const char *odm_value(const struct dict *d, const struct entry *x, char *buf, size_t len)
{
    const char *v = x->value ? x->value : "";
    if (x->field != SIZE_MAX && dict_vtype_is_datetime(d->fields[x->field].vtype) &&
        strlen(v) > 10 && v[10] == ' ') {
        if (!fmt_fits(buf, len, "%s", v))
            return v; /* longer than any date-time: written as stored */
        buf[10] = 'T';
        return buf;
    }
    return v;
}

struct queries {
    struct store_query *q;
    size_t n;
    bool *done;
    bool *on_subject; /* its value, form or event has nothing written: on the SubjectData */
};

static void w_annotation(struct w *w, struct store *st, const struct store_query *q, size_t seq,
                         struct err *e)
{
    struct store_query_message *m = NULL;
    size_t nm = 0;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "Query %lld (%s%s)", q->id, q->is_system ? "system, rule " : "raised by ",
                q->is_system ? q->rule : q->opened_by);
    if (store_query_messages(st, q->id, &m, &nm, e) == 0)
        for (size_t i = 0; i < nm; i++) {
            strbuf_addf(&sb, "\n%s %s %s: %s", m[i].ts, m[i].user, m[i].action, m[i].text);
            if (m[i].has_values)
                strbuf_addf(&sb, " [value %s -> %s]", m[i].old_value, m[i].new_value);
        }
    free(m);
    w_start(w, "Annotation");
    w_attrf(w, "SeqNum", "%zu", seq);
    w_attrf(w, "ID", "Q.%lld", q->id);
    w_start(w, "Comment");
    w_attr(w, "SponsorOrSite", "Sponsor"); /* a query is the sponsor's question to the site */
    if (!w->failed)
        w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST(sb.failed ? "" : sb.buf)));
    w_end(w);
    w_start(w, "Flag");
    w_start(w, "FlagValue");
    w_attr(w, "CodeListOID", "CL.QUERY_STATUS");
    if (!w->failed)
        w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST store_query_status_name(q->status)));
    w_end(w);
    w_end(w);
    w_end(w);
    if (sb.failed)
        w->failed = true;
    strbuf_release(&sb);
}

/* Annotations for the queries on (event, instance, form, key) — form NULL: record queries;
 * key NULL: form queries — not written yet. */
static size_t w_queries(struct w *w, struct store *st, struct queries *qs, const char *event,
                        int instance, const char *form, const char *key, struct err *e)
{
    size_t n = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const struct store_query *q = &qs->q[i];
        if (qs->done[i])
            continue;
        bool match = !form ? !q->event[0] || qs->on_subject[i]
                           : strcmp(q->event, event) == 0 && q->instance == instance &&
                                 strcmp(q->form, form) == 0 &&
                                 (key ? strcmp(q->field, key) == 0 : !q->field[0]);
        if (!match)
            continue;
        qs->done[i] = true;
        w_annotation(w, st, q, ++n, e);
    }
    return n;
}

static void w_audit_record(struct w *w, const struct entry *x)
{
    w_start(w, "AuditRecord");
    w_attr(w, "EditPoint", "DataManagement");
    w_attrf(w, "ID", "AR.%lld", x->seq);
    w_start(w, "UserRef");
    w_attrf(w, "UserOID", "U.%s", x->user ? x->user : "system");
    w_end(w);
    w_start(w, "LocationRef");
    w_attr(w, "LocationOID", SITE_OID);
    w_end(w);
    w_text_elem(w, "DateTimeStamp", odm_time(x->ts));
    if (x->reason && x->reason[0])
        w_text_elem(w, "ReasonForChange", x->reason);
    char src[200];
    char pv[32] = "";
    if (x->pver > 1) /* after an amendment: the protocol version it was written under */
        fmt_exact(pv, sizeof pv, ", protocol v%d", x->pver);
    fmt_text(src, sizeof src, "ioheme audit row %lld, source %s%s%s%s", x->seq,
             x->source ? x->source : "?", x->source_sha256 ? ", file sha256 " : "",
             x->source_sha256 ? x->source_sha256 : "", pv);
    w_text_elem(w, "SourceID", src);
    w_end(w);
}

static void w_signature(struct w *w, const struct store_signature *s, bool with_id)
{
    w_start(w, "Signature");
    if (with_id)
        w_attrf(w, "ID", "SIG.%lld", s->id);
    w_start(w, "UserRef");
    w_attrf(w, "UserOID", "U.%s", s->signer);
    w_end(w);
    w_start(w, "LocationRef");
    w_attr(w, "LocationOID", SITE_OID);
    w_end(w);
    w_start(w, "SignatureRef");
    w_attrf(w, "SignatureOID", "SD.%s", s->meaning);
    w_end(w);
    w_text_elem(w, "DateTimeStamp", odm_time(s->signed_at));
    char m[300];
    fmt_exact(m, sizeof m, "sha256:%s%s%s", s->content_sha256, s->is_valid ? "" : "; invalidated ",
              s->is_valid ? "" : s->invalidated_at);
    w_text_elem(w, "CryptoBindingManifest", m);
    w_end(w);
}

static int w_subject(struct w *w, struct store *st, const struct store_record *rec,
                     const struct odm_write_opts *o, struct odm_write_stats *stats, struct err *e)
{
    const struct dict *d = store_dict(st);
    const char *name = store_record_name(rec);
    struct rec r = {.d = d, .deidentified = o->is_deidentified};
    int rc;
    if (o->has_audit) {
        rc = store_record_audit(st, name, NULL, on_audit, &r, e);
    } else {
        rc = store_record_values(st, name, on_value, &r, e);
        if (!rc)
            rc = store_form_states(st, name, on_state, &r, e);
    }
    if (!rc && r.rc)
        rc = err_set(e, r.rc, "out of memory");
    struct store_signature *sigs = NULL;
    size_t nsigs = 0;
    struct queries qs = {0};
    if (!rc)
        rc = store_signatures(st, name, &sigs, &nsigs, e);
    struct store_query_filter qf = {.record = name, .status = -1};
    if (!rc)
        rc = store_query_list(st, &qf, &qs.q, &qs.n, e);
    if (!rc && qs.n) {
        qs.done = calloc(qs.n, sizeof *qs.done);
        qs.on_subject = calloc(qs.n, sizeof *qs.on_subject);
        if (!qs.done || !qs.on_subject)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    /* a query on a value or form the file does not hold is the subject's */
    for (size_t i = 0; !rc && i < qs.n; i++) {
        const struct store_query *q = &qs.q[i];
        bool placed = !q->event[0];
        for (size_t k = 0; k < r.n && !placed; k++)
            placed = strcmp(d->events[r.v[k].ev].name, q->event) == 0 &&
                     r.v[k].instance == q->instance &&
                     strcmp(d->forms[r.v[k].form].name, q->form) == 0 &&
                     (!q->field[0] || strcmp(r.v[k].key, q->field) == 0);
        qs.on_subject[i] = !placed;
    }
    /* de-identified: no queries on identifier fields (their threads quote the values) */
    for (size_t i = 0; !rc && o->is_deidentified && i < qs.n; i++) {
        struct dict_key k;
        if (qs.q[i].field[0] && dict_key_parse(d, qs.q[i].field, &k) != DICT_KEY_UNKNOWN &&
            k.field && k.field->is_identifier)
            qs.done[i] = true;
    }
    if (rc)
        goto done;
    qsort(r.v, r.n, sizeof *r.v, entry_cmp);
    const char *ctx_tt = o->has_audit ? "Context" : NULL;
    w_start(w, "SubjectData");
    w_attr(w, "SubjectKey", name);
    if (ctx_tt)
        w_attr(w, "TransactionType", ctx_tt);
    const struct store_signature *last_valid = NULL;
    for (size_t i = 0; i < nsigs; i++)
        if (sigs[i].is_valid)
            last_valid = &sigs[i];
    if (last_valid) {
        w_signature(w, last_valid, false);
        stats->signatures++;
    }
    w_start(w, "SiteRef"); /* the record's site (w_admin's Location), else the study's */
    if (rec->site[0])
        w_attrf(w, "LocationOID", "L.S.%s", rec->site);
    else
        w_attr(w, "LocationOID", SITE_OID);
    w_end(w);
    stats->annotations += w_queries(w, st, &qs, NULL, 0, NULL, NULL, e);
    char vbuf[64];
    for (size_t i = 0; i < r.n;) {
        size_t ev = r.v[i].ev;
        const char *event = d->events[ev].name;
        w_start(w, "StudyEventData");
        w_attrf(w, "StudyEventOID", "SE.%s", event);
        if (ctx_tt)
            w_attr(w, "TransactionType", ctx_tt);
        while (i < r.n && r.v[i].ev == ev) {
            size_t fi = r.v[i].form;
            const char *form = d->forms[fi].name;
            w_start(w, "FormData");
            w_attrf(w, "FormOID", "F.%s", form);
            if (ctx_tt)
                w_attr(w, "TransactionType", ctx_tt);
            while (i < r.n && r.v[i].ev == ev && r.v[i].form == fi) {
                int inst = r.v[i].instance;
                /* form queries belong to the first instance group written of the form */
                w_start(w, "ItemGroupData");
                w_attrf(w, "ItemGroupOID", "IG.%s", form);
                if (d->form_repeats[ev * d->nforms + fi])
                    w_attrf(w, "ItemGroupRepeatKey", "%d", inst);
                if (ctx_tt)
                    w_attr(w, "TransactionType", ctx_tt);
                stats->annotations += w_queries(w, st, &qs, event, inst, form, NULL, e);
                while (i < r.n && r.v[i].ev == ev && r.v[i].form == fi && r.v[i].instance == inst) {
                    size_t j = i;
                    while (j + 1 < r.n && r.v[j + 1].ev == ev && r.v[j + 1].form == fi &&
                           r.v[j + 1].instance == inst && r.v[j + 1].field == r.v[i].field &&
                           r.v[j + 1].opt == r.v[i].opt)
                        j++;
                    for (size_t k = i; k <= j; k++) {
                        const struct entry *x = &r.v[k];
                        bool is_remove = !x->value || !x->value[0];
                        w_start(w, "ItemData");
                        w_item_oid(w, "ItemOID", x->key);
                        if (!is_remove || !o->has_audit)
                            w_attr(w, "Value", odm_value(d, x, vbuf, sizeof vbuf));
                        if (o->has_audit)
                            w_attr(w, "TransactionType",
                                   is_remove                           ? "Remove"
                                   : k == i && (!x->old || !x->old[0]) ? "Insert"
                                                                       : "Update");
                        if (o->has_audit)
                            w_audit_record(w, x);
                        if (k == j)
                            stats->annotations +=
                                w_queries(w, st, &qs, event, inst, form, x->key, e);
                        w_end(w);
                        stats->items++;
                    }
                    i = j + 1;
                }
                w_end(w);
            }
            w_end(w);
        }
        w_end(w);
    }
    w_end(w); /* SubjectData */
    stats->subjects++;
done:
    stats->withheld += r.withheld;
    free(r.v);
    arena_free(&r.ar);
    free(sigs);
    free(qs.q);
    free(qs.done);
    free(qs.on_subject);
    return rc;
}

static int w_clinical(struct w *w, struct store *st, const struct odm_write_opts *o,
                      struct odm_write_stats *stats, struct err *e)
{
    struct store_record *recs = NULL;
    size_t n = 0;
    int rc = store_record_list(st, &recs, &n, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < o->nrecords && !rc; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(o->records[i], recs[j].screening_no) == 0 ||
                    (recs[j].study_id[0] && strcmp(o->records[i], recs[j].study_id) == 0);
        if (!found)
            rc = err_set_field(e, ERR_NOT_FOUND, "record", "no record '%s'", o->records[i]);
    }
    if (rc || o->is_metadata_only) {
        free(recs);
        return rc;
    }
    w_start(w, "ClinicalData");
    w_attr(w, "StudyOID", STUDY_OID);
    w_attr(w, "MetaDataVersionOID", MDV_OID);
    for (size_t j = 0; j < n && !rc && !w->failed; j++) {
        bool wanted = o->nrecords == 0;
        for (size_t i = 0; i < o->nrecords && !wanted; i++)
            wanted = strcmp(o->records[i], recs[j].screening_no) == 0 ||
                     (recs[j].study_id[0] && strcmp(o->records[i], recs[j].study_id) == 0);
        if (wanted)
            rc = w_subject(w, st, &recs[j], o, stats, e);
    }
    /* every signature, the invalidated and the study's included, in the container */
    struct store_signature *sigs = NULL;
    size_t nsigs = 0;
    if (!rc)
        rc = store_signatures(st, NULL, &sigs, &nsigs, e);
    bool any = false;
    for (size_t i = 0; !rc && i < nsigs; i++) {
        bool wanted = o->nrecords == 0;
        for (size_t k = 0; k < o->nrecords && !wanted; k++)
            wanted = strcmp(o->records[k], sigs[i].record) == 0;
        if (!wanted)
            continue;
        if (!any)
            w_start(w, "Signatures");
        any = true;
        w_signature(w, &sigs[i], true);
        stats->signatures++;
    }
    if (any)
        w_end(w);
    free(sigs);
    w_end(w);
    free(recs);
    return rc;
}

static int odm_write_snapshot(struct store *st, const char *path, const struct odm_write_opts *o,
                              struct odm_write_stats *stats, struct err *e)
{
    struct odm_write_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    const struct dict *d = store_dict(st);
    char first[32], last[32];
    int rc = store_audit_content_time(st, first, last, e);
    if (rc)
        return rc;
    /* an unknown record is refused before the file exists */
    if (o->nrecords) {
        for (size_t i = 0; i < o->nrecords && !rc; i++) {
            struct store_record r;
            rc = store_record_get(st, o->records[i], &r, e);
        }
        if (rc)
            return rc;
    }
    struct units u = {0};
    if (units_collect(d, &u)) {
        free(u.names);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    struct w w = {.x = xmlNewTextWriterFilename(path, 0)};
    if (!w.x) {
        free(u.names);
        return err_set(e, ERR_IO, "%s: cannot write", path);
    }
    w_check(&w, xmlTextWriterSetIndent(w.x, 1));
    w_check(&w, xmlTextWriterSetIndentString(w.x, BAD_CAST " "));
    w_check(&w, xmlTextWriterStartDocument(w.x, "1.0", "UTF-8", NULL));
    w_start(&w, "ODM");
    w_attr(&w, "xmlns", ODM_NS);
    w_attr(&w, "ODMVersion", "1.3.2");
    w_attr(&w, "FileType", o->has_audit && !o->is_metadata_only ? "Transactional" : "Snapshot");
    if (o->is_metadata_only || !o->nrecords) /* a subset of subjects has no granularity name */
        w_attr(&w, "Granularity", o->is_metadata_only ? "Metadata" : "All");
    if (o->has_audit && !o->is_metadata_only)
        w_attr(&w, "Archival", "Yes");
    char fileoid[64];
    fmt_exact(fileoid, sizeof fileoid, "IOHEME.%s", odm_time(last));
    for (char *p = fileoid; *p; p++)
        if (*p == ':')
            *p = '.';
    w_attr(&w, "FileOID", fileoid);
    w_attr(&w, "CreationDateTime", odm_time(last));
    w_attr(&w, "AsOfDateTime", odm_time(last));
    w_attr(&w, "Originator", "ioheme");
    w_attr(&w, "SourceSystem", "ioheme");
    w_attr(&w, "SourceSystemVersion", IOHEME_VERSION);
    w_start(&w, "Study");
    w_attr(&w, "OID", STUDY_OID);
    w_start(&w, "GlobalVariables");
    w_text_elem(&w, "StudyName", "ioheme");
    w_text_elem(&w, "StudyDescription",
                "A study captured with ioheme; the protocol is a REDCap data dictionary");
    w_text_elem(&w, "ProtocolName", "ioheme protocol");
    w_end(&w);
    if (u.n) {
        w_start(&w, "BasicDefinitions");
        for (size_t i = 0; i < u.n; i++) {
            w_start(&w, "MeasurementUnit");
            w_attrf(&w, "OID", "MU.%zu", i + 1);
            w_attr(&w, "Name", u.names[i]);
            w_translated(&w, "Symbol", u.names[i]);
            w_end(&w);
        }
        w_end(&w);
    }
    w_metadata(&w, d, &u);
    w_end(&w); /* Study */
    free(u.names);
    rc = w_admin(&w, st, d, o->is_deidentified, first, e);
    if (!rc)
        rc = w_clinical(&w, st, o, stats, e);
    if (!rc && !w.failed)
        w_check(&w, xmlTextWriterEndDocument(w.x));
    if (!rc && !w.failed)
        w_check(&w, xmlTextWriterFlush(w.x));
    xmlFreeTextWriter(w.x);
    if (!rc && w.failed)
        rc = err_set(e, ERR_IO, "%s: write failed", path);
    return rc;
}

int odm_write(struct store *st, const char *path, const struct odm_write_opts *o,
              struct odm_write_stats *stats, struct err *e)
{
    /* one consistent state of the database, however long the file takes to write */
    int rc = store_snapshot_begin(st, e);
    if (rc)
        return rc;
    rc = odm_write_snapshot(st, path, o, stats, e);
    store_snapshot_end(st);
    return rc;
}
