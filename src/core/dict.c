/* The protocol loader: reads the REDCap data dictionary and the event, form-event and
 * repeating-form tables (see dict.h), checks everything, and builds struct dict.
 *
 * Checking does not stop at the first problem: every error is collected as
 * "file:line:column: message" (column = the CSV column; for logic, the message also says which
 * column and the character within the cell), so a coordinator fixes a dictionary in one pass.
 * Strings are copied into the dict's arena; the CSV tables are freed before returning. */
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

#include "core/expr_int.h"
#include "core/validate.h"
#include "formats/csv.h"

#define NAME_MAX_LEN 100

static const char *const dict_headers[18] = {
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min",
    "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)",
    "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
};
enum { C_NAME, C_FORM, C_SECTION, C_TYPE, C_LABEL, C_CHOICES, C_NOTE, C_VTYPE, C_VMIN, C_VMAX,
       C_IDENT, C_BRANCH, C_REQUIRED, C_ALIGN, C_QNUM, C_MATRIX, C_MRANK, C_ANNOT };

static const char *const ftype_names[] = {
    [FT_TEXT] = "text", [FT_NOTES] = "notes", [FT_DROPDOWN] = "dropdown", [FT_RADIO] = "radio",
    [FT_CHECKBOX] = "checkbox", [FT_YESNO] = "yesno", [FT_TRUEFALSE] = "truefalse",
    [FT_CALC] = "calc", [FT_DESCRIPTIVE] = "descriptive", [FT_FILE] = "file",
    [FT_SLIDER] = "slider",
};
static const char *const vtype_names[] = {
    [VT_NONE] = "", [VT_INTEGER] = "integer", [VT_NUMBER] = "number",
    [VT_NUMBER_1DP] = "number_1dp", [VT_NUMBER_2DP] = "number_2dp",
    [VT_NUMBER_3DP] = "number_3dp", [VT_NUMBER_4DP] = "number_4dp", [VT_DATE_YMD] = "date_ymd",
    [VT_DATETIME_YMD] = "datetime_ymd", [VT_DATETIME_SECONDS_YMD] = "datetime_seconds_ymd",
    [VT_TIME] = "time", [VT_TIME_MM_SS] = "time_mm_ss", [VT_EMAIL] = "email",
    [VT_PHONE] = "phone", [VT_ALPHA_ONLY] = "alpha_only", [VT_ZIPCODE] = "zipcode",
};

const char *field_type_name(enum field_type t)
{
    return (unsigned)t < sizeof ftype_names / sizeof ftype_names[0] ? ftype_names[t] : "?";
}

const char *val_type_name(enum val_type t)
{
    return (unsigned)t < sizeof vtype_names / sizeof vtype_names[0] ? vtype_names[t] : "?";
}

struct loader {
    struct dict *d;
    struct strbuf *errs;
    size_t nerrs;
    bool nomem;
};

static void add_error(struct loader *L, const char *file, size_t line, size_t col,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_error(struct loader *L, const char *file, size_t line, size_t col,
                      const char *fmt, ...)
{
    L->nerrs++;
    if (col)
        strbuf_addf(L->errs, "%s:%zu:%zu: ", file, line, col);
    else
        strbuf_addf(L->errs, "%s:%zu: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strbuf_adds(L->errs, msg);
    strbuf_addc(L->errs, '\n');
}

static char *adup(struct loader *L, const char *s)
{
    char *r = arena_strdup(&L->d->arena, s ? s : "");
    if (!r)
        L->nomem = true;
    return r;
}

/* Trimmed copy in the dict's arena. */
static char *dup_trim(struct loader *L, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *r = arena_strndup(&L->d->arena, s, n);
    if (!r)
        L->nomem = true;
    return r;
}

static bool valid_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return n <= NAME_MAX_LEN;
}

static const char *name_problem(const char *s)
{
    if (!*s)
        return "is empty";
    if (strlen(s) > NAME_MAX_LEN)
        return "is longer than 100 characters";
    return "must start with a lowercase letter and hold only a-z, 0-9 and _";
}

/* ---- the name index ---- */

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603ULL & SIZE_MAX;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * (1099511628211ULL & SIZE_MAX);
    return h;
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

const char *dict_complete_field(const struct dict_form *form, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s_complete", form->name);
    if (n < 0 || (size_t)n >= len)
        return NULL;
    return buf;
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
            char *item = dup_trim(L, p, len);
            if (item)
                add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                          "choice %zu '%s' of field '%s' has no comma: write 'code, label'", k,
                          item, f->name);
        } else {
            char *code = dup_trim(L, p, (size_t)(comma - p));
            char *label = dup_trim(L, comma + 1, len - (size_t)(comma + 1 - p));
            if (code && label) {
                if (!is_code(code))
                    add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                              "choice %zu of field '%s': code '%s' must be letters, digits, _, "
                              "., -", k, f->name, code);
                else if (dict_choice_label(f, code))
                    add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                              "field '%s': duplicate choice code '%s'", f->name, code);
                else if (!*label)
                    add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                              "field '%s': choice '%s' has no label", f->name, code);
                else
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

static void parse_bounds(struct loader *L, struct dict_field *f, size_t line)
{
    const char *raw[2] = {f->vmin, f->vmax};
    for (int k = 0; k < 2; k++) {
        if (!*raw[k])
            continue;
        double v;
        if (!val_type_is_ordered(f->vtype)) {
            add_error(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                      "field '%s': a %s needs a number, date or time validation type, not "
                      "'%s'", f->name, k ? "max" : "min",
                      f->vtype == VT_NONE ? "(none)" : val_type_name(f->vtype));
        } else if (!validate_parse_ordered(f->vtype, raw[k], &v)) {
            add_error(L, "dictionary.csv", line, (size_t)(C_VMIN + 1 + k),
                      "field '%s': %s '%s' is not a valid %s", f->name, k ? "max" : "min",
                      raw[k], val_type_name(f->vtype));
        } else if (k == 0) {
            f->has_min = true;
            f->min_num = v;
        } else {
            f->has_max = true;
            f->max_num = v;
        }
    }
    if (f->has_min && f->has_max && f->min_num > f->max_num)
        add_error(L, "dictionary.csv", line, C_VMAX + 1,
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
        snprintf(tag, sizeof tag, "%.*s", (int)(n < 39 ? n : 39), p);
        if (isalnum((unsigned char)p[n]))
            continue;
        if (!strcmp(tag, "@FORCE-MINMAX"))
            f->force_minmax = true;
        else if (!strcmp(tag, "@READONLY"))
            f->is_readonly = true;
        else if (!strncmp(tag, "@HIDDEN", 7))
            f->is_hidden = true;
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
            char quote = q[0] == '=' ? q[1] : '\0';
            const char *end = (quote == '\'' || quote == '"') ? strchr(q + 2, quote) : NULL;
            if (!end)
                add_error(L, "dictionary.csv", line, C_ANNOT + 1,
                          "field '%s': @DEFAULT needs a quoted value, @DEFAULT='x'", f->name);
            else
                f->default_value = dup_trim(L, q + 2, (size_t)(end - (q + 2)));
        }
    }
    int ntags = f->is_inclusion + f->is_exclusion + f->is_eligible;
    if (ntags && f->type != FT_CALC)
        add_error(L, "dictionary.csv", line, C_ANNOT + 1,
                  "field '%s': @INCLUSION, @EXCLUSION and @ELIGIBLE belong on calc fields, not "
                  "%s", f->name, field_type_name(f->type));
    else if (ntags > 1)
        add_error(L, "dictionary.csv", line, C_ANNOT + 1,
                  "field '%s': only one of @INCLUSION, @EXCLUSION, @ELIGIBLE per field",
                  f->name);
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
        add_error(L, "dictionary.csv", line, col, "(%s, char %zu): %s", what, at,
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
    f->name = adup(L, cell[C_NAME]);
    f->form = adup(L, cell[C_FORM]);
    f->section_header = adup(L, cell[C_SECTION]);
    f->label = adup(L, cell[C_LABEL]);
    f->choices_raw = adup(L, cell[C_CHOICES]);
    f->note = adup(L, cell[C_NOTE]);
    f->vmin = dup_trim(L, cell[C_VMIN], strlen(cell[C_VMIN]));
    f->vmax = dup_trim(L, cell[C_VMAX], strlen(cell[C_VMAX]));
    f->branching_raw = adup(L, cell[C_BRANCH]);
    f->annotation = adup(L, cell[C_ANNOT]);
    if (L->nomem)
        return;

    if (!valid_name(f->name))
        add_error(L, "dictionary.csv", line, C_NAME + 1, "field name '%s' %s", f->name,
                  name_problem(f->name));
    else if (index_find(d, f->name) >= 0)
        add_error(L, "dictionary.csv", line, C_NAME + 1,
                  "duplicate field name '%s' (first defined at line %zu)", f->name,
                  dict_field(d, f->name)->line);
    else
        index_put(d, fi);

    /* forms: in order of first appearance, fields of one form together */
    if (!valid_name(f->form)) {
        add_error(L, "dictionary.csv", line, C_FORM + 1, "form name '%s' %s", f->form,
                  name_problem(f->form));
    } else if (!d->nforms || strcmp(d->forms[d->nforms - 1].name, f->form) != 0) {
        int prev = dict_form_index(d, f->form);
        if (prev >= 0) {
            add_error(L, "dictionary.csv", line, C_FORM + 1,
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
        add_error(L, "dictionary.csv", line, C_TYPE + 1, "field '%s': unknown field type '%s'",
                  f->name, cell[C_TYPE]);
        t = FT_TEXT;
    }
    f->type = (enum field_type)t;
    if (fi == 0 && f->type != FT_TEXT)
        add_error(L, "dictionary.csv", line, C_TYPE + 1,
                  "the first field '%s' is the record ID and must be a text field", f->name);

    const char *raw = f->choices_raw;
    switch (f->type) {
    case FT_DROPDOWN:
    case FT_RADIO:
    case FT_CHECKBOX:
        if (!raw[0])
            add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                      "%s field '%s' has no choices", field_type_name(f->type), f->name);
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
            add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                      "calc field '%s' has no calculation", f->name);
        else
            f->calc = parse_logic(L, raw, line, C_CHOICES + 1, "Calculation");
        break;
    case FT_SLIDER:
        break;
    default:
        if (raw[0])
            add_error(L, "dictionary.csv", line, C_CHOICES + 1,
                      "field '%s': choices or a calculation on a %s field (only dropdown, "
                      "radio, checkbox, calc and slider have them)", f->name,
                      field_type_name(f->type));
        break;
    }

    const char *vt = cell[C_VTYPE];
    if (vt[0]) {
        int v = lookup_vtype(vt);
        if (f->type == FT_SLIDER && strcmp(vt, "number") == 0)
            v = VT_NONE; /* "show the slider's number" */
        else if (v < 0)
            add_error(L, "dictionary.csv", line, C_VTYPE + 1,
                      "field '%s': unknown or unsupported validation type '%s'", f->name, vt);
        else if (f->type != FT_TEXT)
            add_error(L, "dictionary.csv", line, C_VTYPE + 1,
                      "field '%s': validation '%s' on a %s field (only text fields have one)",
                      f->name, vt, field_type_name(f->type));
        f->vtype = v < 0 ? VT_NONE : (enum val_type)v;
    }
    parse_bounds(L, f, line);

    const char *ident = cell[C_IDENT], *req = cell[C_REQUIRED];
    if (ident[0] && strcmp(ident, "y") != 0)
        add_error(L, "dictionary.csv", line, C_IDENT + 1,
                  "field '%s': Identifier? must be 'y' or empty, not '%s'", f->name, ident);
    if (req[0] && strcmp(req, "y") != 0)
        add_error(L, "dictionary.csv", line, C_REQUIRED + 1,
                  "field '%s': Required Field? must be 'y' or empty, not '%s'", f->name, req);
    f->is_identifier = strcmp(ident, "y") == 0;
    f->is_required = strcmp(req, "y") == 0;
    const char *al = cell[C_ALIGN];
    if (al[0] && strcmp(al, "RV") && strcmp(al, "RH") && strcmp(al, "LV") && strcmp(al, "LH"))
        add_error(L, "dictionary.csv", line, C_ALIGN + 1,
                  "field '%s': Custom Alignment must be RV, RH, LV or LH, not '%s'", f->name,
                  al);

    if (f->branching_raw[0])
        f->branching = parse_logic(L, f->branching_raw, line, C_BRANCH + 1, "Branching Logic");
    parse_tags(L, f, line);
}

/* ---- references in logic ---- */

struct refctx {
    struct loader *L;
    const struct dict_field *f;
    size_t col;
    const char *what;
};

static int check_ref(void *ctx, const char *event, const char *field, const char *code,
                     size_t pos)
{
    struct refctx *r = ctx;
    struct loader *L = r->L;
    const struct dict *d = L->d;
    size_t line = r->f->line;
#define REF_ERR(...)                                                                          \
    do {                                                                                      \
        char m_[600];                                                                         \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                 \
        add_error(L, "dictionary.csv", line, r->col, "(%s, char %zu): %s", r->what, pos, m_); \
    } while (0)
    if (event && dict_event_index(d, event) < 0)
        REF_ERR("unknown event [%s] in [%s][%s]", event, event, field);
    const struct dict_field *t = dict_field(d, field);
    if (!t) {
        size_t n = strlen(field);
        bool is_complete = false;
        if (n > 9 && strcmp(field + n - 9, "_complete") == 0) {
            char form[NAME_MAX_LEN + 1];
            snprintf(form, sizeof form, "%.*s", (int)(n - 9), field);
            is_complete = dict_form_index(d, form) >= 0;
        }
        if (!is_complete)
            REF_ERR("unknown field [%s]", field);
        else if (code)
            REF_ERR("[%s(%s)]: a form status field has no options", field, code);
        return 0;
    }
    if (code && t->type != FT_CHECKBOX)
        REF_ERR("[%s(%s)]: '%s' is a %s field, not a checkbox", field, code, field,
                field_type_name(t->type));
    else if (code && !dict_choice_label(t, code))
        REF_ERR("[%s(%s)]: checkbox '%s' has no option '%s'", field, code, field, code);
    else if (!code && t->type == FT_CHECKBOX)
        REF_ERR("[%s]: a checkbox is referenced by option, e.g. [%s(%s)]", field, field,
                t->nchoices ? t->choices[0].code : "1");
#undef REF_ERR
    return 0;
}

static void check_refs(struct loader *L)
{
    for (size_t i = 0; i < L->d->nfields; i++) {
        const struct dict_field *f = &L->d->fields[i];
        struct refctx rb = {L, f, C_BRANCH + 1, "Branching Logic"};
        struct refctx rc = {L, f, C_CHOICES + 1, "Calculation"};
        expr_foreach_ref(f->branching, check_ref, &rb);
        expr_foreach_ref(f->calc, check_ref, &rc);
    }
}

/* ---- events, form-events, repeating forms ---- */

/* Parses an integer cell; blank gives dflt. */
static bool cell_int(const char *s, int dflt, int *out)
{
    if (!*s) {
        *out = dflt;
        return true;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end == '.') /* REDCap writes offsets as "0.0" at times; allow an integral decimal */
        while (*++end == '0')
            ;
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* Finds named columns; reports the missing ones. */
static bool need_cols(struct loader *L, const struct csv_table *t, const char *file,
                      const char *const *names, int *cols, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        cols[i] = csv_col(t, names[i]);
        if (cols[i] < 0) {
            add_error(L, file, 1, 0, "missing column '%s'", names[i]);
            ok = false;
        }
    }
    return ok;
}

static void load_events(struct loader *L, const struct csv_table *t)
{
    static const char *const names[] = {"event_name", "arm_num", "day_offset", "offset_min",
                                        "offset_max", "unique_event_name",
                                        "custom_event_label"};
    int c[7];
    struct dict *d = L->d;
    d->events = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->events);
    if (!d->events) {
        L->nomem = true;
        return;
    }
    if (!need_cols(L, t, "events.csv", names, c, 7))
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        size_t line = t->line[r];
        struct dict_event *ev = &d->events[d->nevents];
        ev->name = adup(L, row[c[5]]);
        const char *label = row[c[6]][0] ? row[c[6]] : row[c[0]];
        ev->label = adup(L, label);
        if (L->nomem)
            return;
        int arm;
        bool ok = true;
        if (!valid_name(ev->name)) {
            add_error(L, "events.csv", line, (size_t)c[5] + 1, "event name '%s' %s", ev->name,
                      name_problem(ev->name));
            ok = false;
        } else if (dict_event_index(d, ev->name) >= 0) {
            add_error(L, "events.csv", line, (size_t)c[5] + 1, "duplicate event '%s'",
                      ev->name);
            ok = false;
        }
        struct { int col; int *out; } ints[] = {
            {c[1], &arm}, {c[2], &ev->day_offset}, {c[3], &ev->offset_min},
            {c[4], &ev->offset_max}};
        for (size_t k = 0; k < 4; k++)
            if (!cell_int(row[ints[k].col], k == 0 ? 1 : 0, ints[k].out)) {
                add_error(L, "events.csv", line, (size_t)ints[k].col + 1,
                          "%s '%s' is not an integer", names[k + 1], row[ints[k].col]);
                ok = false;
            }
        if (ok)
            d->nevents++;
    }
    if (!t->nrows)
        add_error(L, "events.csv", 1, 0, "no events");
}

static void load_form_events(struct loader *L, const struct csv_table *t)
{
    static const char *const names[] = {"arm_num", "unique_event_name", "form"};
    int c[3];
    struct dict *d = L->d;
    if (!need_cols(L, t, "form_events.csv", names, c, 3))
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        int ev = dict_event_index(d, row[c[1]]);
        int fm = dict_form_index(d, row[c[2]]);
        if (ev < 0)
            add_error(L, "form_events.csv", t->line[r], (size_t)c[1] + 1, "unknown event '%s'",
                      row[c[1]]);
        if (fm < 0)
            add_error(L, "form_events.csv", t->line[r], (size_t)c[2] + 1, "unknown form '%s'",
                      row[c[2]]);
        if (ev < 0 || fm < 0)
            continue;
        bool *cell = &d->form_at_event[(size_t)ev * d->nforms + (size_t)fm];
        if (*cell)
            add_error(L, "form_events.csv", t->line[r], 0, "form '%s' listed twice at event '%s'",
                      row[c[2]], row[c[1]]);
        *cell = true;
    }
}

static void load_repeating(struct loader *L, const struct csv_table *t, bool implicit_event)
{
    static const char *const names[] = {"event_name", "form_name", "custom_form_label"};
    int c[3];
    struct dict *d = L->d;
    if (!need_cols(L, t, "repeating.csv", names, c, 3))
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        const char *evname = row[c[0]];
        int ev = implicit_event && !evname[0] ? 0 : dict_event_index(d, evname);
        int fm = dict_form_index(d, row[c[1]]);
        if (ev < 0)
            add_error(L, "repeating.csv", t->line[r], (size_t)c[0] + 1, "unknown event '%s'",
                      evname);
        if (fm < 0)
            add_error(L, "repeating.csv", t->line[r], (size_t)c[1] + 1, "unknown form '%s'",
                      row[c[1]]);
        if (ev < 0 || fm < 0)
            continue;
        size_t k = (size_t)ev * d->nforms + (size_t)fm;
        if (!d->form_at_event[k])
            add_error(L, "repeating.csv", t->line[r], (size_t)c[1] + 1,
                      "form '%s' repeats at event '%s' but is not collected there "
                      "(form_events.csv)", row[c[1]], evname);
        d->form_repeats[k] = true;
    }
}

/* "io_procedure" -> "IO procedure": underscores to spaces, a first word of two letters or
 * fewer read as an abbreviation, otherwise the first letter capitalised. */
static const char *form_label(struct loader *L, const char *name)
{
    char *s = adup(L, name);
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

/* ---- the whole load ---- */

static bool parse_table(struct loader *L, const char *data, const char *file,
                        struct csv_table *t)
{
    struct err e;
    err_clear(&e);
    if (csv_table_parse(data, strlen(data), file, t, &e) == 0)
        return true;
    if (e.code == ERR_NOMEM)
        L->nomem = true;
    else {
        L->nerrs++;
        strbuf_adds(L->errs, e.msg);
        strbuf_addc(L->errs, '\n');
    }
    return false;
}

static void load_dictionary(struct loader *L, const struct csv_table *t)
{
    struct dict *d = L->d;
    bool header_ok = t->ncols == 18;
    if (!header_ok)
        add_error(L, "dictionary.csv", 1, 1, "%zu columns; a REDCap data dictionary has 18",
                  t->ncols);
    for (size_t c = 0; c < 18 && c < t->ncols; c++)
        if (strcmp(t->header[c], dict_headers[c]) != 0) {
            add_error(L, "dictionary.csv", 1, c + 1, "header '%s' should be '%s'",
                      t->header[c], dict_headers[c]);
            header_ok = false;
        }
    if (!header_ok)
        return;
    if (!t->nrows) {
        add_error(L, "dictionary.csv", 1, 0, "no fields");
        return;
    }
    d->fields = arena_calloc(&d->arena, t->nrows, sizeof *d->fields);
    d->forms = arena_calloc(&d->arena, t->nrows, sizeof *d->forms);
    for (d->nslots = 16; d->nslots <= 2 * t->nrows; d->nslots *= 2)
        ;
    d->field_slots = arena_calloc(&d->arena, d->nslots, sizeof *d->field_slots);
    long *form_line = calloc(t->nrows, sizeof *form_line);
    if (!d->fields || !d->forms || !d->field_slots || !form_line) {
        free(form_line);
        L->nomem = true;
        return;
    }
    for (size_t r = 0; r < t->nrows && !L->nomem; r++) {
        load_row(L, t->rows[r], t->line[r], r, form_line);
        d->nfields = r + 1;
    }
    free(form_line);
    int neligible = 0;
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].is_eligible && ++neligible == 2)
            add_error(L, "dictionary.csv", d->fields[i].line, C_ANNOT + 1,
                      "a second @ELIGIBLE field ('%s'); the verdict is one field",
                      d->fields[i].name);
    for (size_t i = 0; i < d->nforms && !L->nomem; i++)
        d->forms[i].label = form_label(L, d->forms[i].name);
}

int dict_load_mem_full(const char *dictionary_csv, const char *events_csv,
                       const char *form_events_csv, const char *repeating_csv, struct dict *d,
                       struct strbuf *errors, size_t *nerrors, struct err *e)
{
    memset(d, 0, sizeof *d);
    struct strbuf own = STRBUF_INIT;
    struct loader L = {.d = d, .errs = &own};
    struct csv_table td, te, tf, tr;
    bool has_d = parse_table(&L, dictionary_csv ? dictionary_csv : "", "dictionary.csv", &td);
    bool has_e = events_csv && parse_table(&L, events_csv, "events.csv", &te);
    bool has_f = form_events_csv && parse_table(&L, form_events_csv, "form_events.csv", &tf);
    bool has_r = repeating_csv && parse_table(&L, repeating_csv, "repeating.csv", &tr);
    if (has_d)
        load_dictionary(&L, &td);
    if (has_e) {
        load_events(&L, &te);
    } else if (!L.nomem) {
        d->events = arena_calloc(&d->arena, 1, sizeof *d->events);
        if (d->events) {
            d->events[0] = (struct dict_event){"event_1", "Event 1", 0, 0, 0};
            d->nevents = 1;
        } else {
            L.nomem = true;
        }
    }
    if (!L.nomem && d->nfields) {
        size_t cells = (d->nevents ? d->nevents : 1) * (d->nforms ? d->nforms : 1);
        d->form_at_event = arena_calloc(&d->arena, cells, sizeof(bool));
        d->form_repeats = arena_calloc(&d->arena, cells, sizeof(bool));
        if (!d->form_at_event || !d->form_repeats)
            L.nomem = true;
        else if (has_f)
            load_form_events(&L, &tf);
        else /* no form-event table: every form at every event */
            memset(d->form_at_event, 1, d->nevents * d->nforms * sizeof(bool));
        if (!L.nomem && has_r)
            load_repeating(&L, &tr, !has_e);
        if (!L.nomem)
            check_refs(&L);
    }
    if (has_d)
        csv_table_free(&td);
    if (has_e)
        csv_table_free(&te);
    if (has_f)
        csv_table_free(&tf);
    if (has_r)
        csv_table_free(&tr);
    if (own.failed)
        L.nomem = true;
    if (errors)
        strbuf_adds(errors, strbuf_str(&own));
    if (nerrors)
        *nerrors = L.nerrs;
    int rc = 0;
    if (L.nomem) {
        rc = err_set(e, ERR_NOMEM, "out of memory loading the protocol");
    } else if (L.nerrs) {
        /* as many whole lines as fit in e->msg, then a count of the rest */
        const char *all = strbuf_str(&own);
        size_t keep = 0, lines = 0, room = sizeof e->msg - 64;
        for (const char *nl; (nl = strchr(all + keep, '\n')) && (size_t)(nl - all) < room;
             lines++)
            keep = (size_t)(nl - all) + 1;
        if (keep)
            keep--; /* no final newline */
        if (lines < L.nerrs)
            rc = err_set(e, ERR_INVALID, "%.*s\n(and %zu more errors)", (int)keep, all,
                         L.nerrs - lines);
        else
            rc = err_set(e, ERR_INVALID, "%.*s", (int)keep, all);
    }
    strbuf_release(&own);
    if (rc)
        dict_free(d);
    return rc;
}

int dict_load_mem(const char *dictionary_csv, const char *events_csv,
                  const char *form_events_csv, const char *repeating_csv, struct dict *d,
                  struct err *e)
{
    return dict_load_mem_full(dictionary_csv, events_csv, form_events_csv, repeating_csv, d,
                              NULL, NULL, e);
}

/* Reads dir/name; a missing optional file gives *out = NULL and 0. */
static int read_member(const char *dir, const char *name, bool required, char **out,
                       struct err *e)
{
    *out = NULL;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return err_set(e, ERR_IO, "%s: path too long", dir);
    if (!required && access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    size_t len;
    return file_read_all(path, out, &len, e);
}

int dict_load_full(const char *dir, struct dict *d, struct strbuf *errors, size_t *nerrors,
                   struct err *e)
{
    static const char *const files[4] = {"dictionary.csv", "events.csv", "form_events.csv",
                                         "repeating.csv"};
    char *data[4] = {0};
    memset(d, 0, sizeof *d);
    if (nerrors)
        *nerrors = 0;
    int rc = 0;
    for (int i = 0; i < 4 && !rc; i++)
        rc = read_member(dir, files[i], i == 0, &data[i], e);
    if (!rc)
        rc = dict_load_mem_full(data[0], data[1], data[2], data[3], d, errors, nerrors, e);
    for (int i = 0; i < 4; i++)
        free(data[i]);
    return rc;
}

int dict_load(const char *dir, struct dict *d, struct err *e)
{
    return dict_load_full(dir, d, NULL, NULL, e);
}

void dict_free(struct dict *d)
{
    arena_free(&d->arena);
    memset(d, 0, sizeof *d);
}
