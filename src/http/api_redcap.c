/* REDCap's API: POST /api/ with an application/x-www-form-urlencoded body
 * token=…&content=…&format=json|csv|xml&…, as REDCap documents it, so that REDCap's client
 * libraries (PyCap, REDCapR, redcapAPI, PHPCap) work unchanged (docs/api.md, "REDCap API").
 *
 * The route is public at the router: the credential is the body's token= (an ioheme API
 * token), checked here by auth_token — the same check as a bearer token — and each content's
 * permission by store_authorize (core/perm.c's table; a refusal is audited as "denied"). CSRF
 * does not apply: the token travels in the body, never as an ambient credential (no cookie),
 * so another site cannot make a browser send it.
 *
 * Everything served here is read from what the store holds: the protocol folder's files as
 * stored (dictionary.csv, events.csv, form_events.csv, repeating.csv) and the flat records as
 * `ioheme export redcap` writes them (report/redcap_export.c); record exports and imports
 * (`ioheme import`'s own loop, formats/redcap_import.c) are in api_redcap_records.c, the rest
 * here. Errors are REDCap's: {"error": "…"} (or its csv and xml shapes, api_rc_error) with 400,
 * 401 (no token), 403 (wrong token or role). */
#include "http/api_redcap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"
#include "core/perm.h"
#include "formats/csv.h"
#include "formats/json_out.h"
#include "formats/redcap.h"

/* The REDCap version this API answers as (the clients compare it, e.g. PyCap's is_longitudinal
 * and redcapAPI's version checks). */
#define RC_VERSION "14.0.0"

/* s as XML character data, in CDATA as REDCap writes values ("]]>" split across sections);
 * bytes that are not UTF-8 and characters XML cannot carry (an old study's, utf8_xml_text) as
 * U+FFFD. */
void api_rc_xml_cdata(struct strbuf *sb, const char *s)
{
    char *tmp;
    const char *t = utf8_xml_text(s, &tmp);
    if (s && !t)
        sb->failed = true;
    strbuf_adds(sb, "<![CDATA[");
    for (const char *p = t ? t : ""; *p; p++) {
        if (strncmp(p, "]]>", 3) == 0) {
            strbuf_adds(sb, "]]]]><![CDATA[>");
            p += 2;
        } else {
            strbuf_addc(sb, *p);
        }
    }
    strbuf_adds(sb, "]]>");
    free(tmp);
}

/* A format parameter's value (json, csv, xml); false for another value or none. */
static bool fmt_parse(const char *v, enum rc_fmt *out)
{
    if (!v)
        return false;
    *out = strcmp(v, "json") == 0 ? RC_JSON : strcmp(v, "csv") == 0 ? RC_CSV : RC_XML;
    return *out != RC_XML || strcmp(v, "xml") == 0;
}

/* REDCap's rule for the format of errors and of an import's answer: returnFormat, else the
 * request's format, else xml ("If you do not pass in this flag, it will select the default
 * format for you passed based on the 'format' flag you passed in or if no format flag was
 * passed in, it will default to 'xml'"). PyCap sends no returnFormat on exports and reads an
 * error by its body in the export's format; it sends format=csv and returnFormat=json when it
 * imports CSV (or a DataFrame) and reads the answer as JSON. */
enum rc_fmt api_rc_return_fmt(struct req *r)
{
    enum rc_fmt f;
    if (fmt_parse(req_form_opt(r, "returnFormat"), &f) || fmt_parse(req_form_opt(r, "format"), &f))
        return f;
    return RC_XML;
}

/* An error as REDCap answers it, in api_rc_return_fmt's format: json {"error": "…"}, xml
 * <hash><error>…</error></hash>, csv "ERROR: …". */
int api_rc_error(struct req *r, int status, const char *msg)
{
    enum rc_fmt f = api_rc_return_fmt(r);
    if (f == RC_JSON)
        return resp_json(r, status, json_pack("{s:o}", "error", json_out_text(msg)));
    struct strbuf sb = STRBUF_INIT;
    if (f == RC_XML) {
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<hash><error>");
        api_rc_xml_cdata(&sb, msg);
        strbuf_adds(&sb, "</error></hash>\n");
    } else {
        strbuf_addf(&sb, "ERROR: %s", msg); /* no newline: REDCapR compares the text whole */
    }
    api_rc_text(r, f == RC_XML ? "text/xml; charset=utf-8" : "text/csv; charset=utf-8", &sb);
    r->status = status;
    strbuf_release(&sb);
    return 0;
}

int api_rc_error_err(struct req *r, const struct err *e)
{
    const struct err_info *info = err_info(e->code ? e->code : ERR_INTERNAL);
    if (e->code == ERR_AUTH || e->code == ERR_FORBIDDEN)
        return api_rc_error(r, 403, e->msg);
    if (info->http_status < 500)
        return api_rc_error(r, 400, e->msg);
    /* as resp_err: a server-side failure is logged, never shown; a busy database is 503 with
     * Retry-After (redcapAPI retries 503) */
    r->failure = arena_strdup(&r->ar, e->msg);
    if (info->http_status == 503)
        return api_rc_error(r, 503, resp_busy(r, e->code));
    return api_rc_error(
        r, 500, arena_printf(&r->ar, "internal error; see the server log (request %s)", r->id));
}

int api_rc_text(struct req *r, const char *type, struct strbuf *sb)
{
    r->status = 200;
    r->content_type = type;
    strbuf_reset(&r->out);
    strbuf_add(&r->out, strbuf_str(sb), sb->len);
    return 0;
}

/* The values of an array parameter as the clients send it: fields[0]=a&fields[1]=b (PyCap,
 * PHPCap, redcapAPI), fields[]=a, or fields=a,b (REDCapR). NULL-terminated, in r->ar; NULL
 * when absent. */
const char **api_rc_list(struct req *r, const char *name)
{
    (void)req_form(r, name); /* parses the body */
    size_t nl = strlen(name), n = 0, cap = 8;
    const char **out = arena_alloc(&r->ar, cap * sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < r->nform; i++) {
        const char *k = r->form[i].name, *v = r->form[i].value;
        if (strncmp(k, name, nl) != 0 || (k[nl] != 0 && k[nl] != '['))
            continue;
        /* a comma-separated list (REDCapR), one value per item otherwise */
        const char *p = v;
        while (*p) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            while (len && (*p == ' ')) {
                p++;
                len--;
            }
            while (len && p[len - 1] == ' ')
                len--;
            if (len) {
                if (n + 2 > cap) {
                    const char **bigger = arena_alloc(&r->ar, 2 * cap * sizeof *out);
                    if (!bigger)
                        return NULL;
                    memcpy(bigger, out, n * sizeof *out);
                    out = bigger;
                    cap *= 2;
                }
                out[n++] = arena_strndup(&r->ar, p, len);
            }
            if (!c)
                break;
            p = c + 1;
        }
    }
    if (!n)
        return NULL;
    out[n] = NULL;
    return out;
}

bool api_rc_in_list(const char **list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Whether name is one this project has for list parameter param: fields (a field or a
 * <form>_complete, REDCap's field names), forms, events (unique event names). */
static bool name_known(const struct dict *d, const char *param, const char *name)
{
    struct dict_key k;
    if (strcmp(param, "fields") == 0)
        return dict_key_parse(d, name, &k) == DICT_KEY_FIELD || k.kind == DICT_KEY_STATUS;
    if (strcmp(param, "forms") == 0)
        return dict_form(d, name) != NULL;
    return dict_event_index(d, name) >= 0;
}

int api_rc_check_names(struct req *r, const char *param, const char **list)
{
    const struct dict *d = store_dict(r->st);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; list && list[i]; i++)
        if (!name_known(d, param, list[i]))
            strbuf_addf(&sb, "%s'%s'", sb.len ? ", " : "", list[i]);
    if (!sb.len)
        return 0;
    const char *msg = sb.failed ? NULL
                                : arena_printf(&r->ar,
                                               "The following values in the parameter \"%s\" "
                                               "are not valid: %s",
                                               param, strbuf_str(&sb));
    strbuf_release(&sb);
    api_rc_error(r, msg ? 400 : 500, msg ? msg : "out of memory");
    return 1;
}

bool api_rc_is_time(const char *v)
{
    static const char pat[] = "dddd-dd-dd dd:dd:dd";
    size_t n = strlen(v);
    if (n != 10 && n != 16 && n != 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == 'd' ? v[i] < '0' || v[i] > '9' : v[i] != pat[i])
            return false;
    return true;
}

/* A boolean parameter as the clients send it: PyCap "True"/"False", the others "true"/"false";
 * REDCap reads true and 1 in any case. */
bool api_rc_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* csvDelimiter (redcap_delim_parse); '\0' for a value REDCap does not take, refused in
 * api_redcap_post before any work. */
char api_rc_delimiter(struct req *r)
{
    char d;
    return redcap_delim_parse(req_form_opt(r, "csvDelimiter"), &d) == 0 ? d : '\0';
}

/* A table (header keys, rows of strings) as REDCap answers: JSON array of objects, or CSV
 * (with the request's csvDelimiter). */
int api_rc_table(struct req *r, enum rc_fmt fmt, const char *const *keys, size_t nkeys,
                 char ***rows, size_t nrows, const bool *keep_row, const bool *keep_col)
{
    if (fmt == RC_XML) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<records>\n");
        for (size_t i = 0; i < nrows; i++) {
            if (keep_row && !keep_row[i])
                continue;
            strbuf_adds(&sb, "<item>");
            for (size_t c = 0; c < nkeys; c++)
                if (!keep_col || keep_col[c]) {
                    strbuf_addf(&sb, "<%s>", keys[c]);
                    api_rc_xml_cdata(&sb, rows[i][c]);
                    strbuf_addf(&sb, "</%s>", keys[c]);
                }
            strbuf_adds(&sb, "</item>\n");
        }
        strbuf_adds(&sb, "</records>\n");
        int rc = sb.failed ? api_rc_error(r, 500, "out of memory")
                           : api_rc_text(r, "text/xml; charset=utf-8", &sb);
        strbuf_release(&sb);
        return rc;
    }
    if (fmt == RC_CSV) {
        struct strbuf sb = STRBUF_INIT;
        char delim = api_rc_delimiter(r);
        bool first = true;
        for (size_t c = 0; c < nkeys; c++)
            if (!keep_col || keep_col[c]) {
                if (!first)
                    strbuf_addc(&sb, delim);
                strbuf_add_csv_delim(&sb, keys[c], delim);
                first = false;
            }
        strbuf_addc(&sb, '\n');
        for (size_t i = 0; i < nrows; i++) {
            if (keep_row && !keep_row[i])
                continue;
            first = true;
            for (size_t c = 0; c < nkeys; c++)
                if (!keep_col || keep_col[c]) {
                    if (!first)
                        strbuf_addc(&sb, delim);
                    strbuf_add_csv_delim(&sb, rows[i][c] ? rows[i][c] : "", delim);
                    first = false;
                }
            strbuf_addc(&sb, '\n');
        }
        int rc =
            sb.failed ? api_rc_error(r, 500, "out of memory") : api_rc_text(r, "text/csv", &sb);
        strbuf_release(&sb);
        return rc;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < nrows; i++) {
        if (keep_row && !keep_row[i])
            continue;
        json_t *o = json_object();
        for (size_t c = 0; o && c < nkeys; c++)
            if (!keep_col || keep_col[c])
                json_object_set_new(o, keys[c], json_out_text(rows[i][c] ? rows[i][c] : ""));
        json_array_append_new(a, o);
    }
    return resp_json(r, 200, a);
}

/* Parses the stored protocol file name; *t empty (0 rows) when the project has none. */
static int stored_csv(struct req *r, const char *name, struct csv_table *t, bool *has)
{
    struct err e;
    err_clear(&e);
    char *text = NULL;
    memset(t, 0, sizeof *t);
    *has = store_protocol_file(r->st, name, &text, NULL) == 0;
    if (!*has)
        return 0;
    int rc = csv_table_parse(text, strlen(text), name, t, &e);
    free(text);
    if (rc)
        api_rc_error_err(r, &e);
    return rc;
}

static int rc_metadata(struct req *r, enum rc_fmt fmt)
{
    struct csv_table t;
    bool has;
    if (stored_csv(r, "dictionary.csv", &t, &has) != 0)
        return 0;
    if (!has || t.ncols < 8) {
        csv_table_free(&t);
        return api_rc_error(r, 500, "the stored dictionary is missing");
    }
    const char **fields = api_rc_list(r, "fields"), **forms = api_rc_list(r, "forms");
    if (api_rc_check_names(r, "fields", fields) || api_rc_check_names(r, "forms", forms)) {
        csv_table_free(&t);
        return 0;
    }
    char ***rows = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *rows);
    bool *keep = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *keep);
    if (!rows || !keep) {
        csv_table_free(&t);
        return api_rc_error(r, 500, "out of memory");
    }
    for (size_t i = 0; i < t.nrows; i++) {
        rows[i] = arena_alloc(&r->ar, DICT_API_NCOLS * sizeof **rows);
        if (!rows[i]) {
            csv_table_free(&t);
            return api_rc_error(r, 500, "out of memory");
        }
        for (size_t c = 0; c < DICT_API_NCOLS; c++)
            rows[i][c] = c < t.ncols ? t.rows[i][c] : "";
        /* fields and forms together: the union, as REDCap (a form's fields whether listed in
         * fields or not) and as this API's record export */
        keep[i] =
            *rows[i][0] && ((!fields && !forms) || (fields && api_rc_in_list(fields, rows[i][0])) ||
                            (forms && api_rc_in_list(forms, rows[i][1])));
    }
    int rc = api_rc_table(r, fmt, dict_api_headers, DICT_API_NCOLS, rows, t.nrows, keep, NULL);
    csv_table_free(&t);
    return rc;
}

/* events.csv, form_events.csv, repeating.csv served as stored, with their own header; a
 * classic project (no such file) gets REDCap's answer. */
/* Whether the arm of a row (its arm_num cell, blank: arm 1) is one of arms=… (all without). */
static bool arm_kept(const char **arms, const char *arm_num)
{
    return !arms || api_rc_in_list(arms, arm_num && *arm_num ? arm_num : "1");
}

static int rc_stored_table(struct req *r, enum rc_fmt fmt, const char *file, const char *missing)
{
    struct csv_table t;
    bool has;
    if (stored_csv(r, file, &t, &has) != 0)
        return 0;
    if (!has && missing)
        return api_rc_error(r, 400, missing);
    if (!has) { /* repeatingFormsEvents without repeating forms: no rows, REDCap's columns */
        static const char *const keys[] = {"event_name", "form_name", "custom_form_label"};
        bool lon = store_dict(r->st)->is_longitudinal;
        return api_rc_table(r, fmt, lon ? keys : keys + 1, lon ? 3 : 2, NULL, 0, NULL, NULL);
    }
    const char **arms = api_rc_list(r, "arms"); /* events and mappings: those of these arms */
    int col = csv_col(&t, "arm_num");
    bool *keep = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *keep);
    for (size_t i = 0; keep && i < t.nrows; i++)
        keep[i] = col < 0 || arm_kept(arms, t.rows[i][col]);
    const char **header = (const char **)t.header;
    char ***rows = t.rows;
    size_t ncols = t.ncols;
    if (strcmp(file, "events.csv") == 0 && csv_col(&t, "event_id") < 0) {
        /* REDCap's events carry its event_id (REDCapR parses it): the event's place in
         * events.csv, 1, 2, …, stable while the protocol keeps its events */
        header = arena_alloc(&r->ar, (ncols + 1) * sizeof *header);
        rows = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *rows);
        for (size_t c = 0; header && c < ncols; c++)
            header[c] = t.header[c];
        if (header)
            header[ncols] = "event_id";
        for (size_t i = 0; rows && i < t.nrows; i++) {
            char **row = arena_alloc(&r->ar, (ncols + 1) * sizeof *row);
            if (!row) {
                rows = NULL;
                break;
            }
            memcpy(row, t.rows[i], ncols * sizeof *row);
            row[ncols] = arena_printf(&r->ar, "%zu", i + 1);
            rows[i] = row;
        }
        ncols++;
    }
    int rc = keep && header && rows ? api_rc_table(r, fmt, header, ncols, rows, t.nrows, keep, NULL)
                                    : api_rc_error(r, 500, "out of memory");
    csv_table_free(&t);
    return rc;
}

/* REDCap's arms (arm_num, name) from the events' arm_num column: ioheme keeps no arm names,
 * so an arm is named as REDCap names a new one, "Arm N". */
static int rc_arms(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"arm_num", "name"};
    struct csv_table t;
    bool has;
    if (stored_csv(r, "events.csv", &t, &has) != 0)
        return 0;
    if (!has)
        return api_rc_error(r, 400, "You cannot export arms for classic projects");
    int col = csv_col(&t, "arm_num");
    const char **arms = api_rc_list(r, "arms");
    char ***rows = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; rows && i < t.nrows; i++) {
        const char *arm = col >= 0 && *t.rows[i][col] ? t.rows[i][col] : "1";
        bool seen = !arm_kept(arms, arm);
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(rows[k][0], arm) == 0;
        if (seen)
            continue;
        rows[n] = arena_alloc(&r->ar, 2 * sizeof **rows);
        if (!rows[n])
            break;
        rows[n][0] = arena_strdup(&r->ar, arm);
        rows[n][1] = arena_printf(&r->ar, "Arm %s", arm);
        n++;
    }
    int rc = rows ? api_rc_table(r, fmt, keys, 2, rows, n, NULL, NULL)
                  : api_rc_error(r, 500, "out of memory");
    csv_table_free(&t);
    return rc;
}

/* REDCap's export field names: one row per field (per option of a checkbox) and each form's
 * <form>_complete after its last field; calc, file and descriptive fields are left out, as
 * REDCap leaves them out ("they cannot be utilized during the data import process"). field=…
 * names one field (or form status); an unknown one is a 400 as in REDCap. */
static int rc_field_names(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"original_field_name", "choice_value", "export_field_name"};
    const struct dict *d = store_dict(r->st);
    const char *only = req_form_opt(r, "field");
    struct dict_key ok;
    if (only && dict_key_parse(d, only, &ok) != DICT_KEY_FIELD && ok.kind != DICT_KEY_STATUS)
        return api_rc_error(
            r, 400, arena_printf(&r->ar, "The field '%s' does not exist in this project", only));
    size_t n = d->nfields; /* a status row at most after each field */
    for (size_t i = 0; i < d->nfields; i++)
        n += d->fields[i].type == FT_CHECKBOX ? d->fields[i].nchoices : 1;
    char ***rows = arena_alloc(&r->ar, (n + 1) * sizeof *rows);
    size_t k = 0;
    for (size_t i = 0; rows && i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        enum field_type ty = f->type;
        bool listed = ty != FT_DESCRIPTIVE && ty != FT_CALC && ty != FT_FILE &&
                      (!only || strcmp(only, f->name) == 0);
        size_t m = !listed ? 0 : ty == FT_CHECKBOX ? f->nchoices : 1;
        for (size_t c = 0; c < m; c++) {
            char **row = arena_alloc(&r->ar, 3 * sizeof *row);
            if (!row)
                return api_rc_error(r, 500, "out of memory");
            row[0] = (char *)f->name;
            row[1] = ty == FT_CHECKBOX ? (char *)f->choices[c].code : "";
            char col[DICT_KEY_NAME_MAX * 2];
            const char *opt = ty == FT_CHECKBOX
                                  ? dict_redcap_column(f->name, f->choices[c].code, col, sizeof col)
                                  : NULL;
            row[2] = ty != FT_CHECKBOX ? (char *)f->name
                     : opt             ? arena_strdup(&r->ar, opt)
                           : arena_printf(&r->ar, "%s___%s", f->name, f->choices[c].code);
            rows[k++] = row;
        }
        if (i + 1 < d->nfields && d->fields[i + 1].form_index == f->form_index)
            continue; /* the form's status after its last field */
        char buf[DICT_KEY_NAME_MAX];
        const char *st = dict_complete_field(&d->forms[f->form_index], buf, sizeof buf);
        if (!st || (only && strcmp(only, st) != 0))
            continue;
        char **row = arena_alloc(&r->ar, 3 * sizeof *row);
        if (!row)
            return api_rc_error(r, 500, "out of memory");
        row[0] = row[2] = arena_strdup(&r->ar, st);
        row[1] = "";
        rows[k++] = row;
    }
    if (!rows)
        return api_rc_error(r, 500, "out of memory");
    return api_rc_table(r, fmt, keys, 3, rows, k, NULL, NULL);
}

static int rc_instruments(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"instrument_name", "instrument_label"};
    const struct dict *d = store_dict(r->st);
    char ***rows = arena_alloc(&r->ar, (d->nforms + 1) * sizeof *rows);
    for (size_t i = 0; rows && i < d->nforms; i++) {
        rows[i] = arena_alloc(&r->ar, 2 * sizeof **rows);
        if (!rows[i])
            return api_rc_error(r, 500, "out of memory");
        rows[i][0] = (char *)d->forms[i].name;
        rows[i][1] = (char *)d->forms[i].label;
    }
    if (!rows)
        return api_rc_error(r, 500, "out of memory");
    return api_rc_table(r, fmt, keys, 2, rows, d->nforms, NULL, NULL);
}

static int rc_project(struct req *r, enum rc_fmt fmt)
{
    const struct dict *d = store_dict(r->st);
    bool longitudinal = d->is_longitudinal, repeating = dict_has_repeating(d);
    static const char *const keys[] = {"project_id",
                                       "project_title",
                                       "is_longitudinal",
                                       "has_repeating_instruments_or_events",
                                       "record_autonumbering_enabled",
                                       "secondary_unique_field",
                                       "surveys_enabled",
                                       "purpose",
                                       "project_language"};
    char *vals[] = {"1",
                    (char *)(d->study.title[0] ? d->study.title : "ioheme"), /* study.csv's */
                    longitudinal ? "1" : "0",
                    repeating ? "1" : "0",
                    store_records_by_import(r->st) ? "1" : "0", /* forceAutoNumber numbers */
                    "",
                    "0",
                    "4",
                    "English"};
    char **rows[] = {vals};
    if (fmt == RC_CSV)
        return api_rc_table(r, RC_CSV, keys, 9, rows, 1, NULL, NULL);
    if (fmt == RC_XML) { /* REDCap: one <project> element, not a list of items */
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<project>");
        for (size_t c = 0; c < 9; c++) {
            strbuf_addf(&sb, "<%s>", keys[c]);
            api_rc_xml_cdata(&sb, vals[c]);
            strbuf_addf(&sb, "</%s>", keys[c]);
        }
        strbuf_adds(&sb, "</project>\n");
        int rc = api_rc_text(r, "text/xml; charset=utf-8", &sb);
        strbuf_release(&sb);
        return rc;
    }
    json_t *o = json_object();
    for (size_t c = 0; o && c < 9; c++)
        json_object_set_new(o, keys[c],
                            c == 1 || c == 5 || c == 8 ? json_string(vals[c])
                                                       : json_integer(atoi(vals[c])));
    return resp_json(r, 200, o);
}

/* Data access groups: the study's sites (store.h, "sites") the user works at, the code as
 * REDCap's unique group name; an empty list for a single-centre study, as REDCap answers for a
 * project without groups (REDCapR asks on connect). */
static int rc_dags(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"data_access_group_name", "unique_group_name",
                                       "data_access_group_id"};
    struct err e;
    err_clear(&e);
    struct store_site *v = NULL;
    size_t n = 0;
    if (store_site_list(r->st, &v, &n, &e) != 0)
        return api_rc_error_err(r, &e);
    char ***rows = arena_calloc(&r->ar, n ? n : 1, sizeof *rows);
    for (size_t i = 0; rows && i < n; i++) {
        rows[i] = arena_calloc(&r->ar, 3, sizeof **rows);
        if (!rows[i]) {
            rows = NULL;
            break;
        }
        rows[i][0] = arena_strdup(&r->ar, v[i].name);
        rows[i][1] = arena_strdup(&r->ar, v[i].code);
        rows[i][2] = arena_printf(&r->ar, "%lld", v[i].id);
    }
    free(v);
    if (!rows)
        return api_rc_error(r, 500, "out of memory");
    return api_rc_table(r, fmt, keys, 3, rows, n, NULL, NULL);
}

/* REDCap's per-form rights, "form:right,…" over every form (REDCapR's user export reads the
 * forms column): the role's right is the same on every form. */
static const char *form_rights(struct req *r, const char *right)
{
    const struct dict *d = store_dict(r->st);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < d->nforms; i++)
        strbuf_addf(&sb, "%s%s:%s", i ? "," : "", d->forms[i].name, right);
    const char *out = sb.failed ? "" : arena_strdup(&r->ar, strbuf_str(&sb));
    strbuf_release(&sb);
    return out ? out : "";
}

/* REDCap's user export: one row per ioheme user, REDCap's rights as 0/1 from the user's role in
 * core/perm.c's table (data_export 1 = full data set); forms "form:1" (view and edit) where the
 * role writes data, "form:2" (read only) where it reads, forms_export "form:1" where it exports.
 * ioheme keeps no names, e-mail or DAGs. */
static int rc_users(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"username",
                                       "email",
                                       "firstname",
                                       "lastname",
                                       "expiration",
                                       "data_access_group",
                                       "data_access_group_id",
                                       "unique_role_name",
                                       "suspended",
                                       "design",
                                       "user_rights",
                                       "data_export",
                                       "api_export",
                                       "api_import",
                                       "record_create",
                                       "record_delete",
                                       "lock_records",
                                       "data_quality_resolution",
                                       "forms",
                                       "forms_export"};
    enum { NK = sizeof keys / sizeof keys[0] };
    struct err e;
    err_clear(&e);
    struct store_user *u = NULL;
    size_t n = 0;
    if (store_user_list(r->st, &u, &n, &e) != 0)
        return api_rc_error_err(r, &e);
    char ***rows = arena_alloc(&r->ar, (n + 1) * sizeof *rows);
    for (size_t i = 0; rows && i < n; i++) {
        enum role role;
        bool known = role_from_name(u[i].role, &role) == 0;
        /* REDCap's user is in one data access group or none: a user of exactly one site */
        bool all = true;
        struct store_site *sites = NULL;
        size_t nsites = 0;
        const char *dag = "", *dag_id = "";
        if (store_user_sites(r->st, u[i].name, &all, &sites, &nsites, NULL) == 0 && !all &&
            nsites == 1) {
            dag = arena_strdup(&r->ar, sites[0].code);
            dag_id = arena_printf(&r->ar, "%lld", sites[0].id);
        }
        free(sites);
#define MAY(p) (known && perm_allows(role, (p)) ? "1" : "0")
        const char *v[NK] = {arena_strdup(&r->ar, u[i].name),
                             "",
                             "",
                             "",
                             "",
                             dag ? dag : "",
                             dag_id ? dag_id : "",
                             arena_strdup(&r->ar, u[i].role),
                             u[i].is_disabled ? "1" : "0",
                             MAY(PERM_USER_MANAGE),
                             MAY(PERM_USER_MANAGE),
                             MAY(PERM_EXPORT),
                             MAY(PERM_DATA_READ),
                             MAY(PERM_DATA_WRITE),
                             MAY(PERM_ENROLL),
                             "0",
                             MAY(PERM_LOCK),
                             MAY(PERM_QUERY_RAISE),
                             form_rights(r, MAY(PERM_DATA_WRITE)[0] == '1'  ? "1"
                                            : MAY(PERM_DATA_READ)[0] == '1' ? "2"
                                                                            : "0"),
                             form_rights(r, MAY(PERM_EXPORT))};
#undef MAY
        rows[i] = arena_alloc(&r->ar, NK * sizeof **rows);
        if (!rows[i]) {
            rows = NULL;
            break;
        }
        memcpy(rows[i], v, sizeof v);
    }
    free(u);
    if (!rows)
        return api_rc_error(r, 500, "out of memory");
    if (fmt != RC_JSON)
        return api_rc_table(r, fmt, keys, NK, rows, n, NULL, NULL);
    /* JSON: as REDCap's, forms and forms_export are objects ({"consent": "1", …}), the other
     * rights strings; CSV and XML keep REDCap's "form:right,…" text */
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_object();
        for (size_t c = 0; o && c < NK; c++) {
            json_t *v;
            if (strcmp(keys[c], "forms") == 0 || strcmp(keys[c], "forms_export") == 0) {
                v = json_object();
                char *list = arena_strdup(&r->ar, rows[i][c]), *save = NULL;
                for (char *p = list ? strtok_r(list, ",", &save) : NULL; v && p;
                     p = strtok_r(NULL, ",", &save)) {
                    char *colon = strrchr(p, ':');
                    if (colon) {
                        *colon = '\0';
                        json_object_set_new(v, p, json_string(colon + 1));
                    }
                }
            } else
                v = json_string(rows[i][c]);
            json_object_set_new(o, keys[c], v);
        }
        json_array_append_new(arr, o);
    }
    return arr ? resp_json(r, 200, arr) : api_rc_error(r, 500, "out of memory");
}

int api_redcap_post(struct req *r)
{
    const char *token = req_form_opt(r, "token");
    if (r->form_unreadable) /* server.c: a multipart/form-data body that is not one */
        return api_rc_error(r, 400,
                            "The request body is not valid multipart/form-data: send the "
                            "parameters urlencoded or as well-formed multipart/form-data");
    if (!token)
        return api_rc_error(r, 401, "You do not have permissions to use the API");
    struct err e;
    err_clear(&e);
    if (auth_token(r, token, true, &e) != 0)
        return api_rc_error(r, 403, "You do not have permissions to use the API");
    r->via_bearer = true;            /* a token in the body: no ambient credential, no CSRF */
    if (auth_set_reader(r, &e) != 0) /* identifiers as this role may see them, its sites */
        return api_rc_error(r, 500, "the user's sites could not be read");
    const char *content = req_form_opt(r, "content");
    const char *format = req_form_opt(r, "format");
    if (!format)
        format = "xml"; /* REDCap's default (PyCap's version call sends none: plain text) */
    enum rc_fmt fmt = strcmp(format, "csv") == 0   ? RC_CSV
                      : strcmp(format, "xml") == 0 ? RC_XML
                                                   : RC_JSON;
    if (fmt == RC_JSON && strcmp(format, "json") != 0)
        return api_rc_error(r, 400,
                            "The format you specified is not supported: use json, csv or xml");
    if (!content)
        return api_rc_error(r, 400, "The parameter 'content' is missing");
    if (!api_rc_delimiter(r))
        return api_rc_error(r, 400, "csvDelimiter must be ',', 'tab', ';', '|' or '^'");
    const char *action = req_form_opt(r, "action");
    /* a record import: REDCap's clients send data=… (and some action=import) */
    bool is_import = strcmp(content, "record") == 0 &&
                     (req_form_opt(r, "data") || (action && strcmp(action, "import") == 0));
    /* an import of anything else (metadata, users, events, …: data=… without action=import,
     * as PyCap's import_metadata sends it) is refused, never answered as an export */
    if (!is_import && ((action && strcmp(action, "export") != 0) || req_form(r, "data")))
        return api_rc_error(
            r, 400,
            arena_printf(&r->ar,
                         "Only export, and import of records, are supported by this server: "
                         "content=%s cannot be imported or changed",
                         content));
    struct store_ctx who = req_who(r);
    enum perm_action need = is_import                        ? PERM_DATA_WRITE
                            : strcmp(content, "record") == 0 ? PERM_DATA_READ
                            : strcmp(content, "user") == 0   ? PERM_USER_MANAGE
                            : strcmp(content, "log") == 0    ? PERM_AUDIT_READ
                                                             : PERM_PROTOCOL_READ;
    /* a refusal is 403; the refusal's audit row held up by another writer is 503, not 403 */
    if (strcmp(content, "version") != 0 && store_authorize(r->st, &who, need, &e) != 0)
        return api_rc_error_err(r, &e);
    if (strcmp(content, "version") == 0) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, RC_VERSION);
        int rc = api_rc_text(r, "text/plain", &sb);
        strbuf_release(&sb);
        return rc;
    }
    if (strcmp(content, "project") == 0)
        return rc_project(r, fmt);
    if (strcmp(content, "generateNextRecordName") == 0)
        return api_rc_next_name(r);
    if (strcmp(content, "metadata") == 0)
        return rc_metadata(r, fmt);
    if (strcmp(content, "exportFieldNames") == 0)
        return rc_field_names(r, fmt);
    if (strcmp(content, "instrument") == 0)
        return rc_instruments(r, fmt);
    if (strcmp(content, "event") == 0)
        return rc_stored_table(r, fmt, "events.csv",
                               "You cannot export events for classic projects");
    if (strcmp(content, "arm") == 0)
        return rc_arms(r, fmt);
    if (strcmp(content, "formEventMapping") == 0)
        return rc_stored_table(r, fmt, "form_events.csv",
                               "You cannot export form/event mappings for classic projects");
    if (strcmp(content, "repeatingFormsEvents") == 0)
        return rc_stored_table(r, fmt, "repeating.csv", NULL);
    if (is_import)
        return api_rc_import(r, fmt);
    if (strcmp(content, "record") == 0)
        return api_rc_records(r, fmt);
    if (strcmp(content, "user") == 0)
        return rc_users(r, fmt);
    if (strcmp(content, "dag") == 0)
        return rc_dags(r, fmt);
    if (strcmp(content, "log") == 0)
        return api_rc_log(r, fmt);
    return api_rc_error(r, 400, "The content you specified is not supported by this server");
}
