/* REDCap's flat record format read into change sets (see redcap.h). Column names are read with
 * the dictionary's one reader of them (dict_key_parse); instance numbers with its range-checked
 * parser (dict_instance_parse); events as REDCap's users name them (dict_event_find). */
#include "formats/redcap.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "base/utf8.h"
#include "formats/csv.h"

/* One row as it came: column names and cells (borrowed from the parsed file). */
struct cells {
    const char *const *names;
    const char *const *values;
    size_t n;
    size_t line;
};

static const char *cell(const struct cells *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    return NULL;
}

/* Whether form fi is in a row at (event ev, instance): the form is collected there, and a
 * repeating form's row names it (or no instrument) with an instance. Its status column is data
 * of such a row only, and with overwrite its fields' blanks clear values there only. */
static bool form_in_row(const struct dict *d, int ev, int fi, int instance, const char *instrument)
{
    size_t k = (size_t)ev * d->nforms + (size_t)fi;
    if (!d->form_at_event[k])
        return false;
    if (!d->form_repeats[k])
        return instance == 0;
    return instance >= 1 &&
           (!instrument || !*instrument || strcmp(instrument, d->forms[fi].name) == 0);
}

bool redcap_is_survey_item(const struct dict *d, const char *name)
{
    if (strcmp(name, "redcap_survey_identifier") == 0)
        return true;
    size_t len = strlen(name);
    if (len <= 10 || strcmp(name + len - 10, "_timestamp") != 0 || dict_field(d, name))
        return false;
    char form[DICT_KEY_NAME_MAX]; /* a survey's completion time: no field holds it */
    return fmt_fits(form, sizeof form, "%.*s", (int)(len - 10), name) && dict_form(d, form);
}

int redcap_dates_parse(const char *s, enum redcap_dates *out)
{
    static const char *const names[] = {
        [REDCAP_DATES_YMD] = "YMD", [REDCAP_DATES_MDY] = "MDY", [REDCAP_DATES_DMY] = "DMY"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum redcap_dates)i;
            return 0;
        }
    return -1;
}

int redcap_delim_parse(const char *s, char *out)
{
    if (!s || !*s || strcmp(s, ",") == 0)
        *out = ',';
    else if (strcmp(s, "tab") == 0 || strcmp(s, "\t") == 0)
        *out = '\t';
    else if (strlen(s) == 1 && strchr(";|^", *s))
        *out = *s;
    else
        return -1;
    return 0;
}

/* One or two digits at *p, moved past: the number, or -1. */
static int small_number(const char **p)
{
    int n = 0, k = 0;
    while (k < 2 && **p >= '0' && **p <= '9')
        n = n * 10 + (*(*p)++ - '0'), k++;
    return k ? n : -1;
}

/* A date (or date-time) written M/D/YYYY or D/M/YYYY (dateFormat MDY, DMY), with " HH:MM[:SS]"
 * after it for a date-time, as YYYY-MM-DD[ …] into out (the time as written: the write path
 * judges it, and the day). False when v is not written so. */
static bool date_from(enum redcap_dates order, const char *v, char *out, size_t n)
{
    const char *p = v;
    int a = small_number(&p);
    if (a < 0 || *p++ != '/')
        return false;
    int b = small_number(&p);
    if (b < 0 || *p++ != '/')
        return false;
    for (int k = 0; k < 4; k++)
        if (p[k] < '0' || p[k] > '9')
            return false;
    if (p[4] != '\0' && p[4] != ' ')
        return false;
    int month = order == REDCAP_DATES_MDY ? a : b, day = order == REDCAP_DATES_MDY ? b : a;
    return fmt_fits(out, n, "%.4s-%02d-%02d%s", p, month, day, p + 4);
}

/* One row's cells into out; false (after telling reject) when the row cannot be placed. A cell
 * that cannot be read as opts say (a date not in the dateFormat) is told to reject and left
 * out of a row that is placed. */
static int read_row(const struct dict *d, const struct cells *c, const struct redcap_read_opts *o,
                    struct arena *ar, struct redcap_row *out, bool *is_placed,
                    redcap_reject_fn reject, void *ctx)
{
    *is_placed = false;
    const char *id_col = d->fields[0].name;
    const char *record = cell(c, id_col);
    if (!record || !*record) {
        /* a header of one column holding another delimiter: a CSV saved with ';' (Excel where
         * the decimal mark is a comma) read as ',' separated */
        const char *sep = !record && c->n == 1 ? strpbrk(c->names[0], ",;\t|^") : NULL;
        char hint[160] = "", what[8] = "a tab";
        if (sep && *sep != '\t')
            fmt_text(what, sizeof what, "'%c'", *sep);
        if (sep)
            fmt_text(hint, sizeof hint,
                     "; the header is one column holding %s: a file whose cells are separated by "
                     "it needs that CSV delimiter (--csv-delimiter, csvDelimiter)",
                     what);
        char msg[320];
        fmt_text(msg, sizeof msg, "no record ID%s%.100s%s%s", record ? "" : ": the row has no ",
                 record ? "" : id_col, record ? "" : ", the record ID field", hint);
        reject(ctx, c->line, "", id_col, "record", msg);
        return 0;
    }
    /* the record ID (and its group) name database rows: text, as every value is, checked here
     * so that both backends refuse it the same way (PostgreSQL would fail the lookup) */
    const char *dag = cell(c, "redcap_data_access_group");
    const char *not_text = utf8_not_text(record) != -1               ? id_col
                           : dag && *dag && utf8_not_text(dag) != -1 ? "redcap_data_access_group"
                                                                     : NULL;
    if (not_text) {
        char msg[200];
        fmt_text(msg, sizeof msg, "%s is not valid UTF-8 text (or holds a control character)",
                 not_text == id_col ? "the record ID" : "redcap_data_access_group");
        reject(ctx, c->line, record, not_text, "utf8", msg);
        return 0;
    }
    const char *evname = cell(c, "redcap_event_name");
    const char *event = evname && *evname ? dict_event_find(d, evname)
                        : d->nevents == 1 ? d->events[0].name
                                          : NULL;
    if (!event) {
        char msg[160];
        fmt_text(msg, sizeof msg, "%s '%.100s'",
                 evname && *evname ? "no such event" : "redcap_event_name is required",
                 evname ? evname : "");
        reject(ctx, c->line, record, "redcap_event_name", "unknown_event", msg);
        return 0;
    }
    const char *inst_s = cell(c, "redcap_repeat_instance");
    const char *instrument = cell(c, "redcap_repeat_instrument");
    int instance = 0;
    bool is_new = inst_s && strcasecmp(inst_s, "new") == 0;
    if (is_new && (!instrument || !dict_form(d, instrument))) {
        reject(ctx, c->line, record, "redcap_repeat_instance", "instance",
               "redcap_repeat_instance 'new' needs the repeating form in redcap_repeat_instrument");
        return 0;
    }
    if (is_new) {
        instance = 1; /* placed as a first instance would be; the number is decided on writing */
    } else if (inst_s && *inst_s) {
        /* REDCap writes a positive integer or nothing; atoi would read "x" as 0 and "2b" as 2.
         * The write path then holds it to the form's maximum. */
        struct err ie;
        err_clear(&ie);
        if (dict_instance_parse(inst_s, "redcap_repeat_instance", &instance, &ie) != 0 ||
            instance < 1) {
            reject(ctx, c->line, record, "redcap_repeat_instance", "instance",
                   ie.code ? ie.msg : "redcap_repeat_instance must be a positive integer or blank");
            return 0;
        }
    }
    int ev = dict_event_index(d, event);
    struct store_change *ch = arena_calloc(ar, c->n + 1, sizeof *ch);
    const char *rec = arena_strdup(ar, record);
    if (!ch || !rec)
        return ERR_NOMEM;
    /* the record's data access group: its site (redcap_import.c creates it there) */
    if (dag && *dag && !(dag = arena_strdup(ar, dag)))
        return ERR_NOMEM;
    size_t n = 0, nsurvey = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *name = c->names[i], *val = c->values[i];
        bool is_blank = !val || !*val;
        if ((is_blank && !o->overwrite) || strcmp(name, id_col) == 0)
            continue;
        if (redcap_is_survey_item(d, name)) {
            nsurvey += !is_blank;
            continue;
        }
        if (strncmp(name, "redcap_", 7) == 0)
            continue; /* event, instrument, instance, group: read above */
        struct dict_key k;
        enum dict_key_kind kind = dict_key_parse(d, name, &k);
        if (kind == DICT_KEY_FIELD && k.field->type == FT_CALC)
            continue; /* recomputed, not imported */
        if (kind == DICT_KEY_FIELD && k.field->type == FT_FILE && !is_blank &&
            strcmp(val, "[document]") == 0) {
            nsurvey++; /* a file REDCap holds: a flat export carries only this placeholder */
            continue;
        }
        if (kind == DICT_KEY_STATUS &&
            (is_blank || !form_in_row(d, ev, (int)(k.form - d->forms), instance, instrument)))
            continue; /* a status column of a form outside this row is not data */
        char iso[64];
        if (is_blank) {
            /* overwrite: a blank clears a field collected at this row's event and instance */
            if ((kind != DICT_KEY_FIELD && kind != DICT_KEY_OPTION) || k.field->type == FT_FILE ||
                k.field->type == FT_DESCRIPTIVE ||
                !form_in_row(d, ev, (int)k.field->form_index, instance, instrument))
                continue;
            val = "";
        } else if (o->dates != REDCAP_DATES_YMD && kind == DICT_KEY_FIELD &&
                   (dict_vtype_is_date(k.field->vtype) || dict_vtype_is_datetime(k.field->vtype))) {
            if (!date_from(o->dates, val, iso, sizeof iso)) {
                char msg[200];
                bool mdy = o->dates == REDCAP_DATES_MDY;
                fmt_text(msg, sizeof msg, "'%.60s' is not a date written %s (dateFormat=%s)%s", val,
                         mdy ? "M/D/YYYY" : "D/M/YYYY", mdy ? "MDY" : "DMY",
                         dict_vtype_is_datetime(k.field->vtype) ? " with HH:MM after it" : "");
                reject(ctx, c->line, record, name, "dateFormat", msg);
                continue;
            }
            val = iso;
        }
        struct store_change *x = &ch[n++];
        x->event = event;
        x->instance = is_new ? REDCAP_INSTANCE_NEW : instance;
        /* an unknown column goes to the write path as it is, which names it */
        x->field = kind == DICT_KEY_FIELD || kind == DICT_KEY_OPTION ? k.field->name
                                                                     : arena_strdup(ar, name);
        x->code = kind == DICT_KEY_OPTION && *k.code ? arena_strdup(ar, k.code) : NULL;
        x->value = arena_strdup(ar, val);
        if (!x->field || !x->value || (kind == DICT_KEY_OPTION && *k.code && !x->code))
            return ERR_NOMEM;
    }
    const char *form = instrument && *instrument ? arena_strdup(ar, instrument) : NULL;
    if (instrument && *instrument && !form)
        return ERR_NOMEM;
    *out = (struct redcap_row){.line = c->line,
                               .record = rec,
                               .event = event,
                               .instance = is_new ? REDCAP_INSTANCE_NEW : instance,
                               .instrument = form,
                               .dag = dag && *dag ? dag : NULL,
                               .changes = ch,
                               .n = n,
                               .nsurvey = nsurvey};
    *is_placed = true;
    return 0;
}

/* A JSON record's values as strings: numbers as written, null as blank. */
static int json_cells(const char *name, size_t i, json_t *o, struct arena *ar, struct cells *c,
                      struct err *e)
{
    if (!json_is_object(o))
        return err_set(e, ERR_INVALID, "%s: record %zu is not an object", name, i + 1);
    size_t n = json_object_size(o);
    const char **names = arena_calloc(ar, n + 1, sizeof *names);
    const char **values = arena_calloc(ar, n + 1, sizeof *values);
    if (!names || !values)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        const char *s = json_string_value(v);
        if (json_is_integer(v))
            s = arena_printf(ar, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            s = arena_printf(ar, "%.15g", json_real_value(v));
        else if (json_is_null(v))
            s = "";
        else if (!s)
            return err_set_field(e, ERR_INVALID, key,
                                 "%s: record %zu: '%s' is not a string or number", name, i + 1,
                                 key);
        if (!s)
            return err_set(e, ERR_NOMEM, "out of memory");
        names[k] = key;
        values[k++] = s;
    }
    *c = (struct cells){names, values, k, i + 1};
    return 0;
}

/* The columns of an EAV row (REDCap's type=eav) that are not the event and repeat columns. */
static bool is_eav_own(const char *name)
{
    return strcmp(name, "record") == 0 || strcmp(name, "field_name") == 0 ||
           strcmp(name, "value") == 0;
}

/* An EAV row — record, redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance,
 * field_name, value — as the flat row of its one cell: the record ID column, the event and
 * repeat columns as they are, and field_name = value, where a checkbox field's value is the
 * code of an option it ticks (field___code = 1, as REDCap's EAV export writes a ticked option).
 * False (after telling reject) when the row names no field. */
static int eav_cells(const struct dict *d, const struct cells *in, struct arena *ar,
                     struct cells *out, bool *is_row, redcap_reject_fn reject, void *ctx)
{
    const char *record = cell(in, "record"), *field = cell(in, "field_name"),
               *value = cell(in, "value");
    *is_row = false;
    if (!field || !*field) {
        reject(ctx, in->line, record ? record : "", "field_name", "field",
               "an EAV row names its field in field_name");
        return 0;
    }
    const char *inst = cell(in, "redcap_repeat_instance");
    if (inst && strcasecmp(inst, "new") == 0) { /* one value a row: which new instance? */
        reject(ctx, in->line, record ? record : "", "redcap_repeat_instance", "instance",
               "redcap_repeat_instance 'new' is for flat rows: an EAV row holds one value, so "
               "give the instance's number");
        return 0;
    }
    const char **names = arena_calloc(ar, in->n + 2, sizeof *names);
    const char **values = arena_calloc(ar, in->n + 2, sizeof *values);
    if (!names || !values)
        return ERR_NOMEM;
    size_t n = 0;
    names[n] = d->fields[0].name;
    values[n++] = record ? record : "";
    for (size_t i = 0; i < in->n; i++)
        if (!is_eav_own(in->names[i])) {
            names[n] = in->names[i];
            values[n++] = in->values[i];
        }
    const struct dict_field *f = dict_field(d, field);
    names[n] = field;
    values[n] = value ? value : "";
    if (f && f->type == FT_CHECKBOX && value && *value) {
        char buf[DICT_KEY_NAME_MAX];
        const char *key = dict_key_format(field, value, buf, sizeof buf);
        if (!key) { /* longer than any option's name: no code of the field */
            char msg[160];
            fmt_text(msg, sizeof msg, "'%.40s…' is not an option code of %s", value, field);
            reject(ctx, in->line, record ? record : "", field, "choice", msg);
            return 0;
        }
        if (!(names[n] = arena_strdup(ar, key)))
            return ERR_NOMEM;
        values[n] = "1";
    }
    *out = (struct cells){names, values, n + 1, in->line};
    *is_row = true;
    return 0;
}

/* What redcap_flat_each reads with: the row source's arena, reset after each row. */
struct flat_each {
    const struct dict *d;
    const struct redcap_read_opts *opts;
    bool is_eav;
    size_t nrows; /* data rows read, placed or not */
    struct arena ar;
    redcap_row_fn fn;
    void *fnctx;
    redcap_reject_fn reject;
    void *ctx;
};

static int each_cells(struct flat_each *x, const struct cells *c, struct err *e)
{
    struct redcap_row row;
    bool is_placed = false;
    x->nrows++;
    struct cells flat;
    int rc = 0;
    if (x->is_eav && (rc = eav_cells(x->d, c, &x->ar, &flat, &is_placed, x->reject, x->ctx)) == 0 &&
        is_placed)
        c = &flat;
    if (!rc && (!x->is_eav || is_placed))
        rc = read_row(x->d, c, x->opts, &x->ar, &row, &is_placed, x->reject, x->ctx);
    if (rc == ERR_NOMEM)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (!rc && is_placed)
        rc = x->fn(x->fnctx, &row, e);
    arena_reset(&x->ar);
    return rc;
}

static int each_csv_row(void *ctx, const char *const *header, const char *const *cells,
                        size_t ncols, size_t line, struct err *e)
{
    struct cells c = {header, cells, ncols, line};
    return each_cells(ctx, &c, e);
}

void redcap_xml_init(void)
{
    xmlInitParser();
}

/* XML's and JSON's whitespace from p on: past it. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

bool redcap_is_records_xml(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        p = skip_ws(p, end);
        if (end - p < 2 || *p != '<')
            return false;
        if (p[1] != '?' && p[1] != '!')
            break;                                             /* the root element */
        const char *close = memchr(p, '>', (size_t)(end - p)); /* <?xml …?>, <!-- -->, <!DOCTYPE> */
        if (!close)
            return false;
        p = close + 1;
    }
    return end - p > 8 && memcmp(p, "<records", 8) == 0 &&
           (p[8] == '>' || p[8] == '/' || p[8] == ' ' || p[8] == '\t' || p[8] == '\r' ||
            p[8] == '\n');
}

/* REDCap's XML records (<records><item><field>value</field>…</item>…</records>, what its
 * format=xml record export writes): each item's child elements as the row's cells. Parsed
 * without network access or entity substitution. */
static int each_xml_item(struct flat_each *x, const char *name, xmlNodePtr item, size_t i,
                         struct err *e)
{
    size_t n = 0;
    for (xmlNodePtr c = item->children; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE;
    const char **names = arena_calloc(&x->ar, n + 1, sizeof *names);
    const char **values = arena_calloc(&x->ar, n + 1, sizeof *values);
    if (!names || !values)
        return err_set(e, ERR_NOMEM, "out of memory");
    n = 0;
    for (xmlNodePtr c = item->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlNodeGetContent(c);
        names[n] = arena_strdup(&x->ar, (const char *)c->name);
        values[n] = arena_strdup(&x->ar, v ? (const char *)v : "");
        xmlFree(v);
        if (!names[n] || !values[n++])
            return err_set(e, ERR_NOMEM, "%s: out of memory", name);
    }
    struct cells c = {names, values, n, i};
    return each_cells(x, &c, e);
}

/* The reader's error, as each_xml reports it: the line and libxml2's message. */
static int xml_read_error(const struct redcap_flat *f, struct err *e)
{
    const xmlError *xe = xmlGetLastError();
    return err_set(e, ERR_INVALID, "%s:%d: not well-formed XML: %s", f->name, xe ? xe->line : 0,
                   xe && xe->message ? xe->message : "");
}

/* <records> read with libxml2's streaming reader, one <item> expanded at a time (and let go
 * as the reader moves past it), so that a file of any size is read in the memory of one row,
 * as the CSV and the JSON are. */
static int each_xml(struct flat_each *x, const struct redcap_flat *f, struct err *e)
{
    if (f->len > INT_MAX)
        return err_set(e, ERR_INVALID, "%s: too large for XML", f->name);
    /* nothing at all: libxml2's reader would call it "extra content at the end" */
    if (skip_ws(f->data, f->data + f->len) == f->data + f->len)
        return err_set(e, ERR_INVALID, "%s: expected <records> holding one <item> per record",
                       f->name);
    xmlResetLastError();
    xmlTextReaderPtr rd =
        xmlReaderForMemory(f->data, (int)f->len, f->name, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!rd)
        return err_set(e, ERR_NOMEM, "%s: out of memory", f->name);
    int rc = 0, r = xmlTextReaderRead(rd);
    while (r == 1 && xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT)
        r = xmlTextReaderRead(rd); /* to the root element */
    if (r == 0)                    /* no element at all */
        rc = err_set(e, ERR_INVALID, "%s: expected <records> holding one <item> per record",
                     f->name);
    else if (r == 1 && strcmp((const char *)xmlTextReaderConstName(rd), "records") != 0)
        rc = err_set(e, ERR_INVALID, "%s: expected <records> holding one <item> per record",
                     f->name);
    else if (r == 1 && !xmlTextReaderIsEmptyElement(rd))
        r = xmlTextReaderRead(rd);
    else if (r == 1)
        r = 0; /* <records/>: no record */
    size_t i = 0;
    while (!rc && r == 1 && xmlTextReaderDepth(rd) >= 1) {
        if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT) {
            r = xmlTextReaderRead(rd);
            continue;
        }
        if (strcmp((const char *)xmlTextReaderConstName(rd), "item") != 0) {
            rc = err_set(e, ERR_INVALID, "%s: <%.40s> in <records>: each record is an <item>",
                         f->name, (const char *)xmlTextReaderConstName(rd));
            break;
        }
        xmlNodePtr item = xmlTextReaderExpand(rd);
        if (!item)
            break; /* r stays 1: the error below */
        rc = each_xml_item(x, f->name, item, ++i, e);
        r = rc ? 1 : xmlTextReaderNext(rd);
    }
    while (!rc && r == 1) /* the rest must be well-formed too */
        r = xmlTextReaderRead(rd);
    if (!rc && r != 0)
        rc = xml_read_error(f, e);
    xmlFreeTextReader(rd);
    return rc;
}

/* The line of data's byte at p (1-based), for messages. */
static size_t line_at(const char *data, const char *p)
{
    size_t line = 1;
    for (const char *q = data; q < p; q++)
        line += *q == '\n';
    return line;
}

/* A JSON array of records read one element at a time — jansson stops after each object
 * (JSON_DISABLE_EOF_CHECK) and says how many bytes it read — so a file of any size is read in
 * the memory of one row, as the CSV is. */
static int each_json(struct flat_each *x, const struct redcap_flat *f, struct err *e)
{
    const char *end = f->data + f->len, *p = skip_ws(f->data, end);
    if (p == end || *p != '[')
        return err_set(e, ERR_INVALID, "%s: expected an array of records", f->name);
    p = skip_ws(p + 1, end);
    size_t i = 0;
    int rc = 0;
    while (!rc && !(p < end && *p == ']' && i == 0)) {
        json_error_t je;
        json_t *v =
            json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
        if (!v)
            return err_set(e, ERR_INVALID, "%s:%zu: record %zu: %s", f->name,
                           line_at(f->data, p + (je.position > 0 ? je.position : 0)), i + 1,
                           je.text);
        p += je.position;
        struct cells c;
        rc = json_cells(f->name, i++, v, &x->ar, &c, e);
        rc = rc ? rc : each_cells(x, &c, e);
        json_decref(v);
        p = skip_ws(p, end);
        if (!rc && p < end && *p == ',')
            p = skip_ws(p + 1, end);
        else if (!rc && p < end && *p == ']')
            break;
        else if (!rc)
            rc = err_set(e, ERR_INVALID, "%s:%zu: ',' or ']' expected after record %zu", f->name,
                         line_at(f->data, p), i);
    }
    if (!rc && skip_ws(p + 1, end) != end)
        rc = err_set(e, ERR_INVALID, "%s:%zu: text after the array of records", f->name,
                     line_at(f->data, skip_ws(p + 1, end)));
    return rc;
}

int redcap_flat_each(const struct dict *d, const struct redcap_flat *f, redcap_row_fn fn,
                     void *fnctx, redcap_reject_fn reject, void *ctx, size_t *nrows, struct err *e)
{
    static const struct redcap_read_opts defaults = {0};
    struct flat_each x = {
        d, f->opts ? f->opts : &defaults, f->is_eav, 0, ARENA_INIT, fn, fnctx, reject, ctx};
    int rc = 0;
    if (f->format == REDCAP_CSV) {
        rc = csv_each_row(f->data, f->len, f->name, f->opts ? f->opts->delim : ',', each_csv_row,
                          &x, e);
    } else if (f->format == REDCAP_XML) {
        rc = each_xml(&x, f, e);
    } else {
        rc = each_json(&x, f, e);
    }
    arena_free(&x.ar);
    if (nrows)
        *nrows = x.nrows;
    return rc;
}
