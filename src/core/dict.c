/* The protocol's data dictionary: the rows of dictionary.csv checked and turned into fields and
 * forms (names, types, choices, validation and ranges, logic, action tags), the name index,
 * and the lookups of dict.h. The rest of the load (events, form-events, repeating forms,
 * references in logic, collecting errors) is dict_load.c.
 *
 * Every problem found is recorded, not just the first, as "dictionary.csv:line:column: ..."
 * with column the CSV column (for logic also the character within the cell). */
#include "core/dict.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/hash.h"
#include "core/dict_int.h"
#include "core/expr_int.h"
#include "core/sitetime.h"
#include "core/validate.h"

static const char *const dict_headers[18] = {
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
};

/* The same columns as REDCap's API (content=metadata) names them; REDCap's own CSV exports
 * of some versions and tools built on the API write this header. */
const char *const dict_api_headers[DICT_API_NCOLS] = {
    "field_name",          "form_name",
    "section_header",      "field_type",
    "field_label",         "select_choices_or_calculations",
    "field_note",          "text_validation_type_or_show_slider_number",
    "text_validation_min", "text_validation_max",
    "identifier",          "branching_logic",
    "required_field",      "custom_alignment",
    "question_number",     "matrix_group_name",
    "matrix_ranking",      "field_annotation",
};

static const char *const ftype_names[] = {
    [FT_TEXT] = "text",           [FT_NOTES] = "notes",       [FT_DROPDOWN] = "dropdown",
    [FT_RADIO] = "radio",         [FT_CHECKBOX] = "checkbox", [FT_YESNO] = "yesno",
    [FT_TRUEFALSE] = "truefalse", [FT_CALC] = "calc",         [FT_DESCRIPTIVE] = "descriptive",
    [FT_FILE] = "file",           [FT_SLIDER] = "slider",     [FT_SQL] = "sql",
};
static const char *const vtype_names[] = {
    [VT_NONE] = "",
    [VT_INTEGER] = "integer",
    [VT_NUMBER] = "number",
    [VT_NUMBER_1DP] = "number_1dp",
    [VT_NUMBER_2DP] = "number_2dp",
    [VT_NUMBER_3DP] = "number_3dp",
    [VT_NUMBER_4DP] = "number_4dp",
    [VT_DATE_YMD] = "date_ymd",
    [VT_DATETIME_YMD] = "datetime_ymd",
    [VT_DATETIME_SECONDS_YMD] = "datetime_seconds_ymd",
    [VT_TIME] = "time",
    [VT_TIME_MM_SS] = "time_mm_ss",
    [VT_EMAIL] = "email",
    [VT_PHONE] = "phone",
    [VT_ALPHA_ONLY] = "alpha_only",
    [VT_ZIPCODE] = "zipcode",
    [VT_DATE_MDY] = "date_mdy",
    [VT_DATE_DMY] = "date_dmy",
    [VT_DATETIME_MDY] = "datetime_mdy",
    [VT_DATETIME_DMY] = "datetime_dmy",
    [VT_DATETIME_SECONDS_MDY] = "datetime_seconds_mdy",
    [VT_DATETIME_SECONDS_DMY] = "datetime_seconds_dmy",
    [VT_TIME_HH_MM_SS] = "time_hh_mm_ss",
    [VT_NUMBER_COMMA] = "number_comma_decimal",
    [VT_NUMBER_1DP_COMMA] = "number_1dp_comma_decimal",
    [VT_NUMBER_2DP_COMMA] = "number_2dp_comma_decimal",
    [VT_NUMBER_3DP_COMMA] = "number_3dp_comma_decimal",
    [VT_NUMBER_4DP_COMMA] = "number_4dp_comma_decimal",
    [VT_SSN] = "ssn",
    [VT_PHONE_AUSTRALIA] = "phone_australia",
    [VT_POSTALCODE_AUSTRALIA] = "postalcode_australia",
    [VT_POSTALCODE_CANADA] = "postalcode_canada",
    [VT_POSTALCODE_FRENCH] = "postalcode_french",
    [VT_POSTALCODE_GERMANY] = "postalcode_germany",
    [VT_POSTALCODE_UK] = "postalcode_uk",
    [VT_PHONE_UK] = "phone_uk",
    [VT_PHONE_FRANCE] = "phone_france",
    [VT_MRN_10D] = "mrn_10d",
    [VT_MRN_GENERIC] = "mrn_generic",
    [VT_VMRN] = "vmrn",
    [VT_SIGNATURE] = "signature",
    [VT_AUTOCOMPLETE] = "autocomplete",
};

bool dict_has_repeating(const struct dict *d)
{
    for (size_t i = 0; d->form_repeats && i < d->nevents * d->nforms; i++)
        if (d->form_repeats[i])
            return true;
    return false;
}

bool dict_vtype_is_date(enum val_type t)
{
    return t == VT_DATE_YMD || t == VT_DATE_MDY || t == VT_DATE_DMY;
}

bool dict_vtype_is_datetime(enum val_type t)
{
    return t == VT_DATETIME_YMD || t == VT_DATETIME_MDY || t == VT_DATETIME_DMY ||
           t == VT_DATETIME_SECONDS_YMD || t == VT_DATETIME_SECONDS_MDY ||
           t == VT_DATETIME_SECONDS_DMY;
}

const char *dict_field_type_name(enum field_type t)
{
    return (unsigned)t < sizeof ftype_names / sizeof ftype_names[0] ? ftype_names[t] : "?";
}

const char *dict_val_type_name(enum val_type t)
{
    return (unsigned)t < sizeof vtype_names / sizeof vtype_names[0] ? vtype_names[t] : "?";
}

/* ---- the name index ---- */

static size_t hash_name(const char *s)
{
    return (size_t)hash_str(HASH_INIT, s);
}

static long index_find(const struct dict *d, const char *name)
{
    if (!d->nslots)
        return -1;
    for (size_t i = hash_name(name) & (d->nslots - 1);; i = (i + 1) & (d->nslots - 1)) {
        size_t v = d->field_slots[i];
        if (!v)
            return -1;
        if (strcmp(d->fields[v - 1].name, name) == 0)
            return (long)(v - 1);
    }
}

static void index_put(struct dict *d, size_t field)
{
    size_t i = hash_name(d->fields[field].name) & (d->nslots - 1);
    while (d->field_slots[i])
        i = (i + 1) & (d->nslots - 1);
    d->field_slots[i] = field + 1;
}

const struct dict_field *dict_field(const struct dict *d, const char *name)
{
    long i = index_find(d, name);
    return i < 0 ? NULL : &d->fields[i];
}

int dict_form_index(const struct dict *d, const char *form)
{
    for (size_t i = 0; i < d->nforms; i++)
        if (strcmp(d->forms[i].name, form) == 0)
            return (int)i;
    return -1;
}

const struct dict_form *dict_form(const struct dict *d, const char *name)
{
    int i = dict_form_index(d, name);
    return i < 0 ? NULL : &d->forms[i];
}

int dict_event_index(const struct dict *d, const char *event)
{
    for (size_t i = 0; i < d->nevents; i++) /* the dictionary's own name, as most callers pass */
        if (d->events[i].name == event)
            return (int)i;
    for (size_t i = 0; i < d->nevents; i++)
        if (strcmp(d->events[i].name, event) == 0)
            return (int)i;
    return -1;
}

const char *dict_choice_label(const struct dict_field *f, const char *code)
{
    for (size_t i = 0; i < f->nchoices; i++)
        if (strcmp(f->choices[i].code, code) == 0)
            return f->choices[i].label;
    return NULL;
}

const char *dict_field_bound(const struct dict_field *f, bool max)
{
    if (max)
        return f->has_max || f->max_clock != DICT_BOUND_FIXED || f->max_ref ? f->vmax : NULL;
    return f->has_min || f->min_clock != DICT_BOUND_FIXED || f->min_ref ? f->vmin : NULL;
}

const char *dict_complete_field(const struct dict_form *form, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s_complete", form->name);
    if (n < 0 || (size_t)n >= len)
        return NULL;
    return buf;
}

/* A checkbox code's character as REDCap's column suffix writes it: letters in lower case,
 * digits as they are, anything else '_' (code "ABC" as field___abc, "-1" as field____1). */
static char column_char(char ch)
{
    unsigned char x = (unsigned char)ch;
    return isalnum(x) ? (char)tolower(x) : '_';
}

const char *dict_redcap_column(const char *field, const char *code, char *buf, size_t len)
{
    size_t nf = strlen(field), nc = strlen(code);
    if (nf + 3 + nc + 1 > len)
        return NULL;
    memcpy(buf, field, nf);
    memcpy(buf + nf, "___", 3);
    for (size_t i = 0; i < nc; i++)
        buf[nf + 3 + i] = column_char(code[i]);
    buf[nf + 3 + nc] = '\0';
    return buf;
}

/* The choice of checkbox f that REDCap's column suffix names (column_char): the dictionary's
 * own code when one matches so, else the suffix as written. */
static const char *option_code(const struct dict_field *f, const char *suffix)
{
    for (size_t i = 0; i < f->nchoices; i++) {
        const char *c = f->choices[i].code, *s = suffix;
        while (*c && *s) {
            char want = column_char(*c);
            if (*s != want && *s != *c)
                break;
            c++, s++;
        }
        if (!*c && !*s)
            return f->choices[i].code;
    }
    return suffix;
}

enum dict_key_kind dict_key_parse(const struct dict *d, const char *key, struct dict_key *out)
{
    memset(out, 0, sizeof *out);
    const struct dict_field *f = dict_field(d, key);
    const char *sep = f ? NULL : strstr(key, "___");
    size_t n = sep ? (size_t)(sep - key) : strlen(key);
    if (n >= sizeof out->name)
        return out->kind;      /* longer than any name: unknown */
    memcpy(out->name, key, n); /* NUL-terminated by the memset */
    if (sep) {
        out->code = sep + 3;
        f = dict_field(d, out->name);
    }
    if (f) {
        out->kind = sep ? DICT_KEY_OPTION : DICT_KEY_FIELD;
        out->field = f;
        out->form = &d->forms[f->form_index];
        if (sep && f->nchoices && !dict_choice_label(f, out->code))
            out->code = option_code(f, out->code);
        return out->kind;
    }
    static const char suffix[] = "_complete";
    size_t k = sizeof suffix - 1;
    if (!sep && n > k && strcmp(key + n - k, suffix) == 0) {
        out->name[n - k] = '\0';
        out->form = dict_form(d, out->name);
        if (out->form)
            return out->kind = DICT_KEY_STATUS;
        memcpy(out->name + n - k, suffix, k + 1); /* not a form: the name as it was */
    }
    return out->kind;
}

const char *dict_key_format(const char *field, const char *code, char *buf, size_t len)
{
    int n = code ? snprintf(buf, len, "%s___%s", field, code) : snprintf(buf, len, "%s", field);
    return n < 0 || (size_t)n >= len ? NULL : buf;
}

const char *dict_event_find(const struct dict *d, const char *name)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < d->nevents; i++) {
        const char *ev = d->events[i].name;
        if (strcmp(ev, name) == 0)
            return ev;
        if (strncmp(ev, name, n) == 0 && strncmp(ev + n, "_arm_", 5) == 0) {
            if (found)
                return NULL; /* ambiguous between arms */
            found = ev;
        }
    }
    return found;
}

int dict_instance_max(const struct dict *d, size_t ev, size_t fi)
{
    return d->form_max_instance ? d->form_max_instance[ev * d->nforms + fi] : 0;
}

const char *dict_place_check(const struct dict *d, size_t ev, size_t fi, int instance,
                             const char *what, char *msg, size_t msglen)
{
    const char *event = d->events[ev].name, *form = d->forms[fi].name;
    if (!d->form_at_event[ev * d->nforms + fi]) {
        fmt_text(msg, msglen, "%s: form '%s' is not collected at event '%s'", what, form, event);
        return "not_on_event";
    }
    bool repeats = d->form_repeats[ev * d->nforms + fi];
    int max = dict_instance_max(d, ev, fi);
    if (repeats ? instance < 1 || instance > max : instance != 0) {
        if (repeats)
            fmt_text(msg, msglen,
                     "%s: form '%s' repeats at '%s': instance %d is not allowed "
                     "(1 to %d, the protocol's maximum)",
                     what, form, event, instance, max);
        else
            fmt_text(msg, msglen,
                     "%s: form '%s' does not repeat at '%s': instance %d is not "
                     "allowed (use 0)",
                     what, form, event, instance);
        return "instance";
    }
    return NULL;
}

int dict_instance_check(long long v, const char *what, int *out, struct err *e)
{
    if (v < 0 || v > DICT_INSTANCE_CEILING)
        return err_set_field(e, ERR_INVALID, what, "%s %lld is out of range (0 to %d)", what, v,
                             DICT_INSTANCE_CEILING);
    *out = (int)v;
    return 0;
}

int dict_instance_parse(const char *s, const char *what, int *out, struct err *e)
{
    /* digits only: strtoll would take "+1", " 1" and "0x1" */
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || s[n] != '\0')
        return err_set_field(e, ERR_INVALID, what, "%s '%.40s' is not a whole number", what, s);
    if (n > 9) /* more digits than any allowed instance; also keeps strtoll from overflowing */
        return err_set_field(e, ERR_INVALID, what, "%s %.40s is out of range (0 to %d)", what, s,
                             DICT_INSTANCE_CEILING);
    return dict_instance_check(strtoll(s, NULL, 10), what, out, e);
}

/* ---- one dictionary row ---- */

static bool is_code(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

/* "code, label | code, label" */
static void parse_choices(struct loader *L, struct dict_field *f, const char *raw, size_t line)
{
    size_t n = 1;
    for (const char *p = raw; *p; p++)
        n += *p == '|';
    f->choices = arena_calloc(&L->d->arena, n, sizeof *f->choices);
    if (!f->choices) {
        L->nomem = true;
        return;
    }
    f->nchoices = 0;
    const char *p = raw;
    for (size_t k = 1;; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        const char *comma = memchr(p, ',', len);
        if (!comma) {
            char *item = dict_dup_trim(L, p, len);
            if (item)
                dict_add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                               "choice %zu '%s' of field '%s' has no comma: write 'code, label'", k,
                               item, f->name);
        } else {
            char *code = dict_dup_trim(L, p, (size_t)(comma - p));
            char *label = dict_dup_trim(L, comma + 1, len - (size_t)(comma + 1 - p));
            if (code && label) {
                if (!is_code(code))
                    dict_add_error(
                        L, "dictionary.csv", line, C_CHOICES + 1,
                        "choice %zu of field '%s': code '%s' must be letters, digits, _, "
                        "., -",
                        k, f->name, code);
                else if (dict_choice_label(f, code))
                    dict_add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                                   "field '%s': duplicate choice code '%s'", f->name, code);
                else /* an empty label is REDCap's too ("1, | 2, Often") */
                    f->choices[f->nchoices++] = (struct dict_choice){code, label};
            }
        }
        if (!bar)
            break;
        p = bar + 1;
    }
}

static int lookup_vtype(const char *s)
{
    for (size_t i = 1; i < sizeof vtype_names / sizeof vtype_names[0]; i++)
        if (strcmp(vtype_names[i], s) == 0)
            return (int)i;
    return -1;
}

/* The field type a validation type belongs on: REDCap's signature pad is a file field, its
 * searchable list a dropdown, every other validation a text field's. */
static enum field_type vtype_field_type(int v)
{
    return v == VT_SIGNATURE ? FT_FILE : v == VT_AUTOCOMPLETE ? FT_DROPDOWN : FT_TEXT;
}

/* A min or max that is a field piped in ("[visit_date]", "[screening_arm_1][setup_lmp]"),
 * which REDCap reads when the value is entered: what the logic parser reads as one field
 * reference, or NULL. */
static struct expr *bound_ref(struct loader *L, const char *s)
{
    struct expr *x = NULL;
    size_t at = 0;
    struct err e;
    err_clear(&e);
    int rc = expr_parse(s, &L->d->arena, &x, &at, &e);
    if (rc == ERR_NOMEM)
        L->nomem = true;
    return rc == 0 && x && x->op == EX_REF ? x : NULL;
}

static void parse_bounds(struct loader *L, struct dict_field *f, size_t line)
{
    const char *raw[2] = {f->vmin, f->vmax};
    /* a slider's min and max are its ends (REDCap's default 0 and 100) */
    enum val_type vt = f->type == FT_SLIDER ? VT_NUMBER : f->vtype;
    for (int k = 0; k < 2; k++) {
        if (!*raw[k])
            continue;
        double v;
        struct expr *ref;
        char probe[SITETIME_TEXT_LEN];
        bool is_clock = strcmp(raw[k], "today") == 0 || strcmp(raw[k], "now") == 0;
        if (is_clock && validate_clock_text(vt, strcmp(raw[k], "now") == 0, "2000-01-01 00:00:00",
                                            probe, sizeof probe)) {
            *(k ? &f->max_clock : &f->min_clock) =
                raw[k][0] == 'n' ? DICT_BOUND_NOW : DICT_BOUND_TODAY;
        } else if (is_clock) {
            dict_add_error(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                           "field '%s': %s '%s' needs a date, datetime or time validation, not "
                           "'%s'",
                           f->name, k ? "max" : "min", raw[k],
                           f->vtype == VT_NONE ? "(none)" : dict_val_type_name(f->vtype));
        } else if (raw[k][0] == '[' && validate_type_is_ordered(vt) &&
                   (ref = bound_ref(L, raw[k]))) {
            if (!expr_is_smart(ref->field)) /* checked once every field is read: dict_load.c */
                *(k ? &f->max_ref : &f->min_ref) = ref;
            else
                dict_add_warning(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                                 "field '%s': %s '%s' is a smart variable, not a value of the "
                                 "field's type; ioheme keeps it but does not check it",
                                 f->name, k ? "max" : "min", raw[k]);
        } else if (!validate_type_is_ordered(vt)) {
            dict_add_error(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                           "field '%s': a %s needs a number, date or time validation type, not "
                           "'%s'",
                           f->name, k ? "max" : "min",
                           f->vtype == VT_NONE ? "(none)" : dict_val_type_name(f->vtype));
        } else if (!validate_parse_ordered(vt, raw[k], &v)) {
            dict_add_error(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                           "field '%s': %s '%s' is not a valid %s", f->name, k ? "max" : "min",
                           raw[k], f->type == FT_SLIDER ? "slider end" : dict_val_type_name(vt));
        } else if (k == 0) {
            f->has_min = true;
            f->min_num = v;
        } else {
            f->has_max = true;
            f->max_num = v;
        }
    }
    if (f->has_min && f->has_max && f->min_num > f->max_num)
        dict_add_error(L, "dictionary.csv", line, C_VMAX + 1,
                       "field '%s': min '%s' is greater than max '%s'", f->name, f->vmin, f->vmax);
}

/* Action tags are case-sensitive, as in REDCap; unknown tags are left to other tools. */
static void parse_tags(struct loader *L, struct dict_field *f, size_t line)
{
    const char *s = f->annotation;
    for (const char *p = strchr(s, '@'); p; p = strchr(p + 1, '@')) {
        if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue; /* an e-mail address, not a tag */
        size_t n = 1;
        while (isupper((unsigned char)p[n]) || p[n] == '-' || p[n] == '_')
            n++;
        char tag[40];
        fmt_exact(tag, sizeof tag, "%.*s", (int)(n < 39 ? n : 39), p);
        if (isalnum((unsigned char)p[n]))
            continue;
        if (!strcmp(tag, "@FORCE-MINMAX"))
            f->force_minmax = true;
        else if (!strcmp(tag, "@READONLY"))
            f->is_readonly = true;
        else if (!strcmp(tag, "@HIDEBUTTON"))
            f->hide_button = true;
        else if (!strcmp(tag, "@HIDDEN") || !strcmp(tag, "@HIDDEN-FORM"))
            f->is_hidden = true; /* -SURVEY, -APP, -PDF: where ioheme shows no form */
        else if (!strcmp(tag, "@INCLUSION"))
            f->is_inclusion = true;
        else if (!strcmp(tag, "@EXCLUSION"))
            f->is_exclusion = true;
        else if (!strcmp(tag, "@ELIGIBLE"))
            f->is_eligible = true;
        else if (!strcmp(tag, "@NOW") || !strcmp(tag, "@TODAY"))
            f->default_value = tag[1] == 'N' ? "now" : "today";
        else if (!strcmp(tag, "@DEFAULT")) {
            const char *q = p + n;
            while (*q == ' ')
                q++;
            if (*q == '=') /* REDCap allows spaces around '=': @DEFAULT = 'x' */
                for (q++; *q == ' ';)
                    q++;
            else
                q = "";
            char quote = *q;
            const char *end = (quote == '\'' || quote == '"') ? strchr(q + 1, quote) : NULL;
            if (!end)
                dict_add_error(L, "dictionary.csv", line, C_ANNOT + 1,
                               "field '%s': @DEFAULT needs a quoted value, @DEFAULT='x'", f->name);
            else
                f->default_value = dict_dup_trim(L, q + 1, (size_t)(end - (q + 1)));
        }
    }
    int ntags = f->is_inclusion + f->is_exclusion + f->is_eligible;
    if (ntags && f->type != FT_CALC)
        dict_add_error(
            L, "dictionary.csv", line, C_ANNOT + 1,
            "field '%s': @INCLUSION, @EXCLUSION and @ELIGIBLE belong on calc fields, not "
            "%s",
            f->name, dict_field_type_name(f->type));
    else if (ntags > 1)
        dict_add_error(L, "dictionary.csv", line, C_ANNOT + 1,
                       "field '%s': only one of @INCLUSION, @EXCLUSION, @ELIGIBLE per field",
                       f->name);
}

/* A calc field whose calculation is JavaScript (jQuery, "$('#x-tr select')…"): REDCap's page
 * runs it in the browser as a side effect, it computes no value. ioheme runs no JavaScript:
 * the field loads with a warning, keeps the text (choices_raw) and computes blank. */
static struct expr *calc_javascript(struct loader *L, struct dict_field *f, size_t line)
{
    dict_add_warning(L, "dictionary.csv", line, C_CHOICES + 1,
                     "field '%s': its calculation is JavaScript, which REDCap runs in the "
                     "browser; ioheme runs none: the field stays blank",
                     f->name);
    struct expr *x = NULL;
    size_t at = 0;
    struct err e;
    err_clear(&e);
    if (expr_parse("''", &L->d->arena, &x, &at, &e) == ERR_NOMEM)
        L->nomem = true;
    return x;
}

/* Parses logic in column col; errors say where inside the cell. */
static struct expr *parse_logic(struct loader *L, const char *src, size_t line, size_t col,
                                const char *what)
{
    struct expr *x = NULL;
    size_t at = 0;
    struct err e;
    err_clear(&e);
    int rc = expr_parse(src, &L->d->arena, &x, &at, &e);
    if (rc == ERR_NOMEM) {
        L->nomem = true;
        return NULL;
    }
    if (rc) {
        const char *m = strstr(e.msg, ": ");
        dict_add_error(L, "dictionary.csv", line, col, "(%s, char %zu): %s", what, at,
                       m ? m + 2 : e.msg);
        return NULL;
    }
    return x;
}

static void load_row(struct loader *L, char **cell, size_t line, size_t fi, long *form_line)
{
    struct dict *d = L->d;
    struct dict_field *f = &d->fields[fi];
    f->line = line;
    f->name = dict_dup(L, cell[C_NAME]);
    f->form = dict_dup(L, cell[C_FORM]);
    f->section_header = dict_dup(L, cell[C_SECTION]);
    f->label = dict_dup(L, cell[C_LABEL]);
    f->choices_raw = dict_dup(L, cell[C_CHOICES]);
    f->note = dict_dup(L, cell[C_NOTE]);
    f->vmin = dict_dup_trim(L, cell[C_VMIN], strlen(cell[C_VMIN]));
    f->vmax = dict_dup_trim(L, cell[C_VMAX], strlen(cell[C_VMAX]));
    f->branching_raw = dict_dup(L, cell[C_BRANCH]);
    f->annotation = dict_dup(L, cell[C_ANNOT]);
    if (L->nomem)
        return;

    if (!dict_valid_name(f->name))
        dict_add_error(L, "dictionary.csv", line, C_NAME + 1, "field name '%s' %s", f->name,
                       dict_name_problem(f->name));
    else if (index_find(d, f->name) >= 0)
        dict_add_error(L, "dictionary.csv", line, C_NAME + 1,
                       "duplicate field name '%s' (first defined at line %zu)", f->name,
                       dict_field(d, f->name)->line);
    else
        index_put(d, fi);

    /* forms: in order of first appearance, fields of one form together */
    if (!dict_valid_name(f->form)) {
        dict_add_error(L, "dictionary.csv", line, C_FORM + 1, "form name '%s' %s", f->form,
                       dict_name_problem(f->form));
    } else if (!d->nforms || strcmp(d->forms[d->nforms - 1].name, f->form) != 0) {
        int prev = dict_form_index(d, f->form);
        if (prev >= 0) {
            dict_add_error(L, "dictionary.csv", line, C_FORM + 1,
                           "fields of form '%s' are not together (the form starts at line %ld)",
                           f->form, form_line[prev]);
        } else {
            struct dict_form *fm = &d->forms[d->nforms];
            fm->name = f->form;
            fm->first_field = fi;
            form_line[d->nforms] = (long)line;
            d->nforms++;
        }
    }
    if (d->nforms)
        f->form_index = d->nforms - 1;
    if (d->nforms && strcmp(d->forms[d->nforms - 1].name, f->form) == 0)
        d->forms[d->nforms - 1].nfields = fi + 1 - d->forms[d->nforms - 1].first_field;

    int t = -1;
    for (size_t i = 0; i < sizeof ftype_names / sizeof ftype_names[0]; i++)
        if (strcmp(ftype_names[i], cell[C_TYPE]) == 0)
            t = (int)i;
    if (t < 0) {
        dict_add_error(L, "dictionary.csv", line, C_TYPE + 1, "field '%s': unknown field type '%s'",
                       f->name, cell[C_TYPE]);
        t = FT_TEXT;
    }
    f->type = (enum field_type)t;
    if (fi == 0 && f->type != FT_TEXT)
        dict_add_error(L, "dictionary.csv", line, C_TYPE + 1,
                       "the first field '%s' is the record ID and must be a text field", f->name);

    const char *raw = f->choices_raw;
    switch (f->type) {
    case FT_DROPDOWN:
    case FT_RADIO:
    case FT_CHECKBOX:
        if (!raw[0])
            dict_add_error(L, "dictionary.csv", line, C_CHOICES + 1, "%s field '%s' has no choices",
                           dict_field_type_name(f->type), f->name);
        else
            parse_choices(L, f, raw, line);
        break;
    case FT_YESNO:
    case FT_TRUEFALSE:
        f->choices = arena_calloc(&d->arena, 2, sizeof *f->choices);
        if (!f->choices) {
            L->nomem = true;
            return;
        }
        f->choices[0] = (struct dict_choice){"1", f->type == FT_YESNO ? "Yes" : "True"};
        f->choices[1] = (struct dict_choice){"0", f->type == FT_YESNO ? "No" : "False"};
        f->nchoices = 2;
        break;
    case FT_CALC:
        if (!raw[0])
            dict_add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                           "calc field '%s' has no calculation", f->name);
        else if (raw[0] == '$' || strstr(raw, "document.") || strstr(raw, "function("))
            f->calc = calc_javascript(L, f, line);
        else
            f->calc = parse_logic(L, raw, line, C_CHOICES + 1, "Calculation");
        break;
    case FT_SLIDER:
        break;
    case FT_SQL:
        dict_add_warning(L, "dictionary.csv", line, C_TYPE + 1,
                         "field '%s': sql field: its choices come from a query on REDCap's own "
                         "database, which ioheme cannot run; it takes free text",
                         f->name);
        break;
    default:
        if (f->type == FT_TEXT && strncmp(raw, "BIOPORTAL:", 10) == 0)
            dict_add_warning(L, "dictionary.csv", line, C_CHOICES + 1,
                             "field '%s': '%s' looks its values up in BioPortal's ontology, "
                             "which ioheme cannot reach; it takes free text",
                             f->name, raw);
        else if (raw[0])
            dict_add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                           "field '%s': choices or a calculation on a %s field (only dropdown, "
                           "radio, checkbox, calc and slider have them)",
                           f->name, dict_field_type_name(f->type));
        break;
    }

    const char *vt = cell[C_VTYPE];
    if (vt[0]) {
        int v = lookup_vtype(vt);
        if (f->type == FT_SLIDER && strcmp(vt, "number") == 0)
            v = VT_NONE; /* "show the slider's number" */
        else if (v < 0)
            dict_add_error(L, "dictionary.csv", line, C_VTYPE + 1,
                           "field '%s': unknown or unsupported validation type '%s'", f->name, vt);
        else if (f->type != vtype_field_type(v))
            dict_add_error(L, "dictionary.csv", line, C_VTYPE + 1,
                           "field '%s': validation '%s' on a %s field (it belongs on %s fields)",
                           f->name, vt, dict_field_type_name(f->type),
                           dict_field_type_name(vtype_field_type(v)));
        f->vtype = v < 0 ? VT_NONE : (enum val_type)v;
    }
    parse_bounds(L, f, line);

    const char *ident = cell[C_IDENT], *req = cell[C_REQUIRED];
    if (ident[0] && strcmp(ident, "y") != 0)
        dict_add_error(L, "dictionary.csv", line, C_IDENT + 1,
                       "field '%s': Identifier? must be 'y' or empty, not '%s'", f->name, ident);
    if (req[0] && strcmp(req, "y") != 0)
        dict_add_error(L, "dictionary.csv", line, C_REQUIRED + 1,
                       "field '%s': Required Field? must be 'y' or empty, not '%s'", f->name, req);
    f->is_identifier = strcmp(ident, "y") == 0;
    f->is_required = strcmp(req, "y") == 0;
    const char *al = cell[C_ALIGN];
    if (al[0] && strcmp(al, "RV") && strcmp(al, "RH") && strcmp(al, "LV") && strcmp(al, "LH"))
        dict_add_error(L, "dictionary.csv", line, C_ALIGN + 1,
                       "field '%s': Custom Alignment must be RV, RH, LV or LH, not '%s'", f->name,
                       al);

    if (f->branching_raw[0])
        f->branching = parse_logic(L, f->branching_raw, line, C_BRANCH + 1, "Branching Logic");
    parse_tags(L, f, line);
}

static const char *form_label(struct loader *L, const char *name)
{
    char *s = dict_dup(L, name);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '_')
            *p = ' ';
    size_t first = strcspn(s, " ");
    if (first <= 2)
        for (size_t i = 0; i < first; i++)
            s[i] = (char)toupper((unsigned char)s[i]);
    else
        s[0] = (char)toupper((unsigned char)s[0]);
    return s;
}

static bool row_is_blank(char *const *row, size_t ncols)
{
    for (size_t c = 0; c < ncols; c++)
        for (const char *p = row[c]; *p; p++)
            if (!isspace((unsigned char)*p))
                return false;
    return true;
}

void dict_load_dictionary(struct loader *L, const struct csv_table *t)
{
    struct dict *d = L->d;
    /* 18 columns, or 17 without Field Annotation (REDCap before 6.5 had no such column), under
     * the export's header or the API's */
    bool header_ok = t->ncols == 18 || t->ncols == 17;
    if (!header_ok)
        dict_add_error(L, "dictionary.csv", 1, 1,
                       "%zu columns; a REDCap data dictionary has 18 (17 without Field "
                       "Annotation)",
                       t->ncols);
    const char *const *want = t->ncols && strcmp(t->header[0], dict_api_headers[0]) == 0
                                  ? dict_api_headers
                                  : dict_headers;
    for (size_t c = 0; c < 18 && c < t->ncols; c++)
        if (strcmp(t->header[c], want[c]) != 0) {
            dict_add_error(L, "dictionary.csv", 1, c + 1, "header '%s' should be '%s'",
                           t->header[c], want[c]);
            header_ok = false;
        }
    if (!header_ok)
        return;
    d->fields = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->fields);
    d->forms = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->forms);
    for (d->nslots = 16; d->nslots <= 2 * t->nrows; d->nslots *= 2)
        ;
    d->field_slots = arena_calloc(&d->arena, d->nslots, sizeof *d->field_slots);
    long *form_line = calloc(t->nrows ? t->nrows : 1, sizeof *form_line);
    if (!d->fields || !d->forms || !d->field_slots || !form_line) {
        free(form_line);
        L->nomem = true;
        return;
    }
    for (size_t r = 0; r < t->nrows && !L->nomem; r++) {
        if (row_is_blank(t->rows[r], t->ncols))
            continue; /* REDCap skips rows with nothing in them */
        char *cells[18];
        for (size_t c = 0; c < 18; c++)
            cells[c] = c < t->ncols ? t->rows[r][c] : (char *)"";
        load_row(L, cells, t->line[r], d->nfields, form_line);
        d->nfields++;
    }
    free(form_line);
    if (!d->nfields) {
        dict_add_error(L, "dictionary.csv", 1, 0, "no fields");
        return;
    }
    int neligible = 0;
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].is_eligible && ++neligible == 2)
            dict_add_error(L, "dictionary.csv", d->fields[i].line, C_ANNOT + 1,
                           "a second @ELIGIBLE field ('%s'); the verdict is one field",
                           d->fields[i].name);
    for (size_t i = 0; i < d->nforms && !L->nomem; i++)
        d->forms[i].label = form_label(L, d->forms[i].name);
}

bool dict_ref_needs_bounds(const struct dict *d, int evi, const struct dict_field *f, int which)
{
    return (which == EXPR_INST_FIRST || which == EXPR_INST_LAST) && evi >= 0 &&
           d->form_repeats[(size_t)evi * d->nforms + f->form_index];
}

int dict_ref_instance(const struct dict *d, int evi, const struct dict_field *f, bool same_event,
                      int cur_instance, int which, int first, int last)
{
    if (evi < 0 || !d->form_repeats[(size_t)evi * d->nforms + f->form_index])
        return 0;
    int cur = same_event && cur_instance > 0 ? cur_instance : 0;
    switch (which) {
    case 0:
        return cur ? cur : 1;
    case EXPR_INST_CURRENT:
        return cur_instance > 0 ? cur_instance : 1;
    case EXPR_INST_PREVIOUS:
        return cur_instance > 1 ? cur_instance - 1 : -1;
    case EXPR_INST_NEXT:
        return cur_instance > 0 ? cur_instance + 1 : -1;
    case EXPR_INST_FIRST:
        return first > 0 ? first : -1;
    case EXPR_INST_LAST:
        return last > 0 ? last : -1;
    default:
        return which > 0 ? which : -1;
    }
}

void dict_smart_value(const struct dict *d, const char *name, const char *event, int instance,
                      const struct dict_smart_who *who, struct expr_value *out)
{
    *out = (struct expr_value){EV_BLANK, 0, ""};
    int ev = event ? dict_event_index(d, event) : -1;
    const char *s = NULL;
    if (strcmp(name, "event-name") == 0)
        s = ev >= 0 ? d->events[ev].name : NULL;
    else if (strcmp(name, "event-label") == 0)
        s = ev >= 0 ? d->events[ev].label : NULL;
    else if (strcmp(name, "previous-event-name") == 0)
        s = ev > 0 ? d->events[ev - 1].name : NULL;
    else if (strcmp(name, "next-event-name") == 0)
        s = ev >= 0 && (size_t)ev + 1 < d->nevents ? d->events[ev + 1].name : NULL;
    else if (strcmp(name, "first-event-name") == 0)
        s = d->nevents ? d->events[0].name : NULL;
    else if (strcmp(name, "last-event-name") == 0)
        s = d->nevents ? d->events[d->nevents - 1].name : NULL;
    else if (strcmp(name, "record-name") == 0)
        s = who ? who->record : NULL;
    else if (strcmp(name, "record-dag-name") == 0)
        s = who ? who->record_dag : NULL;
    else if (strcmp(name, "user-dag-name") == 0)
        s = who ? who->user_dag : NULL;
    else if (strcmp(name, "current-instance") == 0 && instance > 0) {
        out->kind = EV_NUM;
        out->num = instance;
        return;
    }
    if (s && *s) {
        out->kind = EV_STR;
        out->str = s;
    }
}
