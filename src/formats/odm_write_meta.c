/* The ODM writer's metadata (odm_write.c writes the file): MetaDataVersion from the protocol
 * (events, forms, item groups, items with their types, ranges and code lists, units, branching
 * and calcs as methods and conditions) and AdminData (users, locations, signature meanings). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "formats/odm.h"
#include "formats/odm_int.h"

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
void odm_w_item_oid(struct odm_w *w, const char *attr, const char *key)
{
    odm_w_attrf(w, attr, "I.%s", key);
}

int odm_units_collect(const struct dict *d, struct odm_units *u)
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

static size_t unit_index(const struct odm_units *u, const char *un)
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

static void w_range_check(struct odm_w *w, const char *cmp, const char *value, bool hard,
                          const char *label, const char *what)
{
    odm_w_start(w, "RangeCheck");
    odm_w_attr(w, "Comparator", cmp);
    odm_w_attr(w, "SoftHard", hard ? "Hard" : "Soft");
    odm_w_text_elem(w, "CheckValue", value);
    char msg[512];
    fmt_text(msg, sizeof msg, "%s: %s %s", label, what, value);
    odm_w_translated(w, "ErrorMessage", msg);
    odm_w_end(w);
}

static void w_item_def(struct odm_w *w, const struct dict_field *f, const struct dict_choice *opt,
                       const struct odm_units *u)
{
    char key[DICT_KEY_NAME_MAX];
    dict_key_format(f->name, opt ? opt->code : NULL, key, sizeof key);
    odm_w_start(w, "ItemDef");
    odm_w_item_oid(w, "OID", key);
    odm_w_attr(w, "Name", key);
    const char *dt = data_type(f);
    odm_w_attr(w, "DataType", dt);
    int dp = decimals(f->vtype);
    int digits = opt ? 0 : range_digits(f);
    if (opt)
        odm_w_attr(w, "Length", "1");
    else if (strcmp(dt, "integer") == 0 && has_codelist(f)) {
        size_t len = 1;
        for (size_t i = 0; i < f->nchoices; i++)
            if (strlen(f->choices[i].code) > len)
                len = strlen(f->choices[i].code);
        odm_w_attrf(w, "Length", "%zu", len);
    } else if (strcmp(dt, "text") == 0 && has_codelist(f)) {
        size_t len = 1;
        for (size_t i = 0; i < f->nchoices; i++)
            if (strlen(f->choices[i].code) > len)
                len = strlen(f->choices[i].code);
        odm_w_attrf(w, "Length", "%zu", len);
    } else if (strcmp(dt, "integer") == 0 && digits)
        odm_w_attrf(w, "Length", "%d", digits);
    else if (dp > 0 && digits) {
        odm_w_attrf(w, "Length", "%d", digits + dp + 1);
        odm_w_attrf(w, "SignificantDigits", "%d", dp);
    } else if (dp > 0)
        odm_w_attrf(w, "SignificantDigits", "%d", dp);
    else if (strcmp(dt, "date") == 0)
        odm_w_attr(w, "Length", "10");
    else if (strcmp(dt, "partialDatetime") == 0)
        odm_w_attr(w, "Length", "16");
    else if (strcmp(dt, "datetime") == 0)
        odm_w_attr(w, "Length", "19");
    else if (strcmp(dt, "partialTime") == 0)
        odm_w_attr(w, "Length", "5");
    else if (strcmp(dt, "time") == 0)
        odm_w_attr(w, "Length", "8");
    if (f->is_identifier)
        odm_w_attr(w, "Comment", "Identifier");
    if (opt) {
        odm_w_translated3(w, "Question", f->label, ": ", opt->label);
    } else {
        odm_w_translated(w, "Question", f->label);
    }
    const char *un = opt ? NULL : unit_of(f);
    if (un) {
        odm_w_start(w, "MeasurementUnitRef");
        odm_w_attrf(w, "MeasurementUnitOID", "MU.%zu", unit_index(u, un) + 1);
        odm_w_end(w);
    }
    if (!opt && f->has_min)
        w_range_check(w, "GE", f->vmin, f->force_minmax, f->name, "at least");
    if (!opt && f->has_max)
        w_range_check(w, "LE", f->vmax, f->force_minmax, f->name, "at most");
    if (!opt && has_codelist(f)) {
        odm_w_start(w, "CodeListRef");
        odm_w_attrf(w, "CodeListOID", "CL.%s", f->name);
        odm_w_end(w);
    }
    odm_w_end(w);
}

static void w_code_list(struct odm_w *w, const char *oid, const char *name, const char *dt,
                        const struct dict_choice *c, size_t n)
{
    odm_w_start(w, "CodeList");
    odm_w_attr(w, "OID", oid);
    odm_w_attr(w, "Name", name);
    odm_w_attr(w, "DataType", dt);
    for (size_t i = 0; i < n; i++) {
        odm_w_start(w, "CodeListItem");
        odm_w_attr(w, "CodedValue", c[i].code);
        odm_w_translated(w, "Decode", c[i].label);
        odm_w_end(w);
    }
    odm_w_end(w);
}

static const struct dict_choice form_statuses[] = {
    {"0", "Incomplete"}, {"1", "Unverified"}, {"2", "Complete"}};
static const struct dict_choice query_statuses[] = {
    {"open", "Open"}, {"answered", "Answered"}, {"closed", "Closed"}};

void odm_w_metadata(struct odm_w *w, const struct dict *d, const struct odm_units *u)
{
    odm_w_start(w, "MetaDataVersion");
    odm_w_attr(w, "OID", MDV_OID);
    odm_w_attr(w, "Name", "ioheme protocol");
    odm_w_start(w, "Protocol");
    for (size_t ev = 0; ev < d->nevents; ev++) {
        odm_w_start(w, "StudyEventRef");
        odm_w_attrf(w, "StudyEventOID", "SE.%s", d->events[ev].name);
        odm_w_attrf(w, "OrderNumber", "%zu", ev + 1);
        odm_w_attr(w, "Mandatory", "No");
        odm_w_end(w);
    }
    odm_w_end(w);
    for (size_t ev = 0; ev < d->nevents; ev++) {
        odm_w_start(w, "StudyEventDef");
        odm_w_attrf(w, "OID", "SE.%s", d->events[ev].name);
        odm_w_attr(w, "Name", d->events[ev].label);
        odm_w_attr(w, "Repeating", "No");
        odm_w_attr(w, "Type", "Scheduled");
        size_t order = 0;
        for (size_t fi = 0; fi < d->nforms; fi++)
            if (d->form_at_event[ev * d->nforms + fi]) {
                odm_w_start(w, "FormRef");
                odm_w_attrf(w, "FormOID", "F.%s", d->forms[fi].name);
                odm_w_attrf(w, "OrderNumber", "%zu", ++order);
                odm_w_attr(w, "Mandatory", "No");
                odm_w_end(w);
            }
        odm_w_end(w);
    }
    for (size_t fi = 0; fi < d->nforms; fi++) {
        odm_w_start(w, "FormDef");
        odm_w_attrf(w, "OID", "F.%s", d->forms[fi].name);
        odm_w_attr(w, "Name", d->forms[fi].label);
        odm_w_attr(w, "Repeating", "No");
        odm_w_start(w, "ItemGroupRef");
        odm_w_attrf(w, "ItemGroupOID", "IG.%s", d->forms[fi].name);
        odm_w_attr(w, "Mandatory", "Yes");
        odm_w_end(w);
        odm_w_end(w);
    }
    char key[DICT_KEY_NAME_MAX];
    for (size_t fi = 0; fi < d->nforms; fi++) {
        const struct dict_form *fm = &d->forms[fi];
        odm_w_start(w, "ItemGroupDef");
        odm_w_attrf(w, "OID", "IG.%s", fm->name);
        odm_w_attr(w, "Name", fm->label);
        odm_w_attr(w, "Repeating", form_repeats_anywhere(d, fi) ? "Yes" : "No");
        size_t order = 0;
        for (size_t i = fm->first_field; i < fm->first_field + fm->nfields; i++) {
            const struct dict_field *f = &d->fields[i];
            if (!has_data(f))
                continue;
            size_t nopt = f->type == FT_CHECKBOX ? f->nchoices : 1;
            for (size_t o = 0; o < nopt; o++) {
                dict_key_format(f->name, f->type == FT_CHECKBOX ? f->choices[o].code : NULL, key,
                                sizeof key);
                odm_w_start(w, "ItemRef");
                odm_w_item_oid(w, "ItemOID", key);
                odm_w_attrf(w, "OrderNumber", "%zu", ++order);
                /* a required checkbox needs one option ticked, not each */
                odm_w_attr(w, "Mandatory", f->is_required && f->type != FT_CHECKBOX ? "Yes" : "No");
                if (i == 0)
                    odm_w_attr(w, "KeySequence", "1");
                if (f->calc)
                    odm_w_attrf(w, "MethodOID", "M.%s", f->name);
                if (f->branching)
                    odm_w_attrf(w, "CollectionExceptionConditionOID", "C.%s", f->name);
                odm_w_end(w);
            }
        }
        dict_complete_field(fm, key, sizeof key);
        odm_w_start(w, "ItemRef");
        odm_w_item_oid(w, "ItemOID", key);
        odm_w_attrf(w, "OrderNumber", "%zu", ++order);
        odm_w_attr(w, "Mandatory", "No");
        odm_w_end(w);
        odm_w_end(w);
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
        odm_w_start(w, "ItemDef");
        odm_w_item_oid(w, "OID", key);
        odm_w_attr(w, "Name", key);
        odm_w_attr(w, "DataType", "integer");
        odm_w_attr(w, "Length", "1");
        odm_w_translated3(w, "Question", d->forms[fi].label, ": form status", NULL);
        odm_w_start(w, "CodeListRef");
        odm_w_attr(w, "CodeListOID", "CL.FORM_STATUS");
        odm_w_end(w);
        odm_w_end(w);
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
        odm_w_start(w, "ConditionDef");
        odm_w_attrf(w, "OID", "C.%s", f->name);
        odm_w_attrf(w, "Name", "%s not collected", f->name);
        odm_w_translated(w, "Description",
                         "The item is not collected (hidden) when its REDCap branching logic is "
                         "false; the expression is that logic, negated.");
        odm_w_start(w, "FormalExpression");
        odm_w_attr(w, "Context", "REDCap");
        const char *parts[3] = {"not (", f->branching_raw, ")"};
        for (int k = 0; k < 3; k++)
            odm_w_string(w, parts[k]);
        odm_w_end(w);
        odm_w_end(w);
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (!f->calc)
            continue;
        odm_w_start(w, "MethodDef");
        odm_w_attrf(w, "OID", "M.%s", f->name);
        odm_w_attrf(w, "Name", "%s", f->name);
        odm_w_attr(w, "Type", "Computation");
        odm_w_translated(w, "Description", f->label);
        odm_w_start(w, "FormalExpression");
        odm_w_attr(w, "Context", "REDCap");
        odm_w_string(w, f->choices_raw);
        odm_w_end(w);
        odm_w_end(w);
    }
    odm_w_end(w); /* MetaDataVersion */
}

int odm_w_admin(struct odm_w *w, struct store *st, const struct dict *d, bool deidentified,
                const char *first_ts, struct err *e)
{
    struct store_user *users = NULL;
    size_t n = 0;
    int rc = store_user_list(st, &users, &n, e);
    if (rc)
        return rc;
    odm_w_start(w, "AdminData");
    odm_w_attr(w, "StudyOID", STUDY_OID);
    odm_w_start(w, "User");
    odm_w_attr(w, "OID", "U.system");
    odm_w_attr(w, "UserType", "Other");
    odm_w_text_elem(w, "LoginName", "system");
    odm_w_text_elem(w, "DisplayName", "ioheme (the system itself)");
    odm_w_end(w);
    for (size_t i = 0; i < n && !rc; i++) {
        odm_w_start(w, "User");
        odm_w_attrf(w, "OID", "U.%s", users[i].name);
        odm_w_attr(w, "UserType",
                   strcmp(users[i].role, "investigator") == 0 ? "Investigator" : "Other");
        odm_w_text_elem(w, "LoginName", users[i].name);
        odm_w_text_elem(w, "DisplayName", users[i].role);
        if (!deidentified) {
            char full[256];
            rc = store_user_full_name(st, users[i].name, full, sizeof full, e);
            if (!rc)
                odm_w_text_elem(w, "FullName", full);
        }
        odm_w_end(w);
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
    fmt_exact(day, sizeof day, "%.10s", odm_w_time(first_ts));
    for (size_t i = 0; i <= nsites; i++) {
        odm_w_start(w, "Location");
        if (i == 0) {
            odm_w_attr(w, "OID", SITE_OID);
            odm_w_attr(w, "Name", "Study site");
        } else {
            odm_w_attrf(w, "OID", "L.S.%s", sites[i - 1].code);
            odm_w_attr(w, "Name", sites[i - 1].name);
        }
        odm_w_attr(w, "LocationType", "Site");
        odm_w_start(w, "MetaDataVersionRef");
        odm_w_attr(w, "StudyOID", STUDY_OID);
        odm_w_attr(w, "MetaDataVersionOID", MDV_OID);
        odm_w_attr(w, "EffectiveDate", day);
        odm_w_end(w);
        odm_w_end(w);
    }
    free(sites);
    for (size_t i = 0; i < d->nsigs; i++) {
        odm_w_start(w, "SignatureDef");
        odm_w_attrf(w, "OID", "SD.%s", d->sigs[i].name);
        odm_w_attr(w, "Methodology", "Electronic");
        odm_w_text_elem(w, "Meaning", d->sigs[i].label);
        odm_w_text_elem(w, "LegalReason", d->sigs[i].attestation);
        odm_w_end(w);
    }
    odm_w_end(w);
    return 0;
}
