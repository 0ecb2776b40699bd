/* REDCap's record export and import through POST /api/ (api_redcap.h): content=record as
 * REDCap answers it — flat or EAV rows from the same rows as `ioheme export redcap`'s data.csv,
 * with REDCap's filters and options — and record imports through `ioheme import`'s own loop
 * (formats/redcap_import.c); generateNextRecordName. */
#include "http/api_redcap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/digest.h"
#include "base/fmt.h"
#include "core/expr.h"
#include "core/validate.h"
#include "formats/csv.h"
#include "formats/redcap.h"
#include "report/dataset.h"

/* filterLogic's values: the flat rows themselves. [field] is the row's own cell, [event][field]
 * the same record's row at that event (its non-repeating row); an unticked option is "0". */
struct row_lookup {
    const struct dict *d;
    const struct csv_table *t;
    struct dict_key *keys; /* each column's dict_key_parse */
    size_t row;
    int dag_col;          /* redcap_data_access_group's column, -1 none */
    const char *user_dag; /* [user-dag-name] */
};

static int row_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                         int instance, struct expr_value *out, struct err *e)
{
    const struct row_lookup *rl = ctx;
    const struct csv_table *t = rl->t;
    char **row = t->rows[rl->row];
    if (expr_is_smart(field)) { /* [record-dag-name], [event-name], … as for this row */
        const struct dict_smart_who who = {row[0], rl->dag_col >= 0 ? row[rl->dag_col] : NULL,
                                           rl->user_dag};
        dict_smart_value(rl->d, field, row[1], atoi(row[3]), &who, out);
        return 0;
    }
    if (instance) /* a row is one instance: another one is not in it */
        return err_set(e, ERR_INVALID, "filterLogic: [%s] with an instance is not supported",
                       field);
    out->kind = EV_BLANK;
    const struct dict_field *f = dict_field(rl->d, field);
    if (!f)
        return err_set(e, ERR_INVALID, "unknown field [%s]", field);
    /* [event][field] reads the record's row at that event; on a repeating form's row, a field
     * of another form reads the record's own row at the event (REDCap keeps the instances of
     * a record whose [sex] = '1') */
    bool other_event = event && strcmp(event, row[1]) != 0;
    if (other_event || (*row[2] && strcmp(row[2], f->form) != 0)) {
        const char *ev = other_event ? event : row[1];
        row = NULL;
        for (size_t i = 0; i < t->nrows && !row; i++)
            if (strcmp(t->rows[i][0], t->rows[rl->row][0]) == 0 && strcmp(t->rows[i][1], ev) == 0 &&
                !*t->rows[i][3])
                row = t->rows[i];
    }
    for (size_t c = 0; row && c < t->ncols; c++) {
        const struct dict_key *k = &rl->keys[c];
        if (!k->field || strcmp(k->field->name, field) != 0 ||
            (code ? k->kind != DICT_KEY_OPTION || strcmp(k->code, code) != 0
                  : k->kind != DICT_KEY_FIELD))
            continue;
        if (*row[c])
            validate_logic_value(f, row[c], out);
    }
    if (code && out->kind == EV_BLANK) {
        out->kind = EV_STR;
        out->str = "0";
    }
    return 0;
}

/* redcap_event_name and redcap_repeat_instrument as labels: the event's label and the form's,
 * as REDCap's labelled export names them. (REDCap adds "(Arm N: name)" to an event's label in
 * a project of several arms; ioheme keeps no arm names, and writes the label alone.) */
static void own_labels(const struct dict *d, struct csv_table *t)
{
    for (size_t i = 0; i < t->nrows; i++) {
        char **ev = &t->rows[i][1], **form = &t->rows[i][2];
        int e = d->is_longitudinal && **ev ? dict_event_index(d, *ev) : -1;
        if (e >= 0)
            *ev = (char *)d->events[e].label;
        const struct dict_form *f = **form ? dict_form(d, *form) : NULL;
        if (f)
            *form = (char *)f->label;
    }
}

/* rawOrLabel=label: choice codes as their labels, checkbox options as Checked / Unchecked
 * (with exportCheckboxLabel the option's label, or blank), form statuses as Incomplete /
 * Unverified / Complete, the event and repeating form by their labels (own_labels), as REDCap
 * exports them. */
static void to_labels(struct req *r, const struct dict *d, struct csv_table *t, bool box_labels)
{
    static const char *const statuses[] = {"Incomplete", "Unverified", "Complete"};
    own_labels(d, t);
    for (size_t c = 4; c < t->ncols; c++) {
        struct dict_key k;
        enum dict_key_kind kind = dict_key_parse(d, t->header[c], &k);
        for (size_t i = 0; i < t->nrows; i++) {
            char **v = &t->rows[i][c];
            if (!**v)
                continue;
            if (kind == DICT_KEY_OPTION && box_labels) {
                const char *l = dict_choice_label(k.field, k.code);
                *v = strcmp(*v, "1") != 0 ? "" : l ? arena_strdup(&r->ar, l) : "";
            } else if (kind == DICT_KEY_OPTION) {
                *v = strcmp(*v, "1") == 0 ? "Checked" : "Unchecked";
            } else if (kind == DICT_KEY_STATUS) {
                int s = atoi(*v);
                if (s >= 0 && s <= 2)
                    *v = (char *)statuses[s];
            } else if (kind == DICT_KEY_FIELD && k.field->nchoices && k.field->type != FT_CALC) {
                const char *l = dict_choice_label(k.field, *v);
                if (l)
                    *v = arena_strdup(&r->ar, l);
            }
        }
    }
}

/* decimalCharacter=, or . : the numbers of number-validated fields and calc fields written with
 * that decimal separator whatever the field's own (validate_decimal_sep), as REDCap forces
 * them. */
static void to_decimal(const struct dict *d, struct csv_table *t, char want)
{
    for (size_t c = 4; c < t->ncols; c++) {
        struct dict_key k;
        if (dict_key_parse(d, t->header[c], &k) != DICT_KEY_FIELD)
            continue;
        char sep = k.field->type == FT_CALC ? '.' : validate_decimal_sep(k.field->vtype);
        if (!sep || sep == want)
            continue;
        for (size_t i = 0; i < t->nrows; i++) {
            char *p = strchr(t->rows[i][c], sep); /* the table's own copy of the cell */
            if (p)
                *p = want;
        }
    }
}

/* rawOrLabelHeaders=label (flat CSV): each column headed by what REDCap writes there — the
 * field's label, "Label (choice=Option)" for a checkbox option, "Complete?" for a form status,
 * and REDCap's names of its own columns. */
static void label_headers(struct req *r, const struct dict *d, struct csv_table *t)
{
    static const char *const own[][2] = {{"redcap_event_name", "Event Name"},
                                         {"redcap_repeat_instrument", "Repeat Instrument"},
                                         {"redcap_repeat_instance", "Repeat Instance"},
                                         {"redcap_data_access_group", "Data Access Group"}};
    for (size_t c = 0; c < t->ncols; c++) {
        const char *h = t->header[c], *l = NULL;
        for (size_t k = 0; k < sizeof own / sizeof *own && !l; k++)
            if (strcmp(h, own[k][0]) == 0)
                l = own[k][1];
        struct dict_key k;
        enum dict_key_kind kind = l ? DICT_KEY_UNKNOWN : dict_key_parse(d, h, &k);
        if (kind == DICT_KEY_FIELD) {
            l = k.field->label;
        } else if (kind == DICT_KEY_OPTION) {
            const char *o = dict_choice_label(k.field, k.code);
            l = arena_printf(&r->ar, "%s (choice=%s)", k.field->label, o ? o : k.code);
        } else if (kind == DICT_KEY_STATUS) {
            l = "Complete?";
        }
        if (l)
            t->header[c] = (char *)l;
    }
}

/* The records whose data changed (REDCap: "created or modified") between begin and end, as the
 * audit trail logs it: names sorted for bsearch, under the name each row of the trail gave. */
struct range_ctx {
    const char *begin, *end;
    struct arena *ar;
    const char **names;
    size_t n, cap;
    bool nomem;
};

static int range_row(void *vctx, const struct store_audit_row *a)
{
    struct range_ctx *c = vctx;
    char ts[20];
    if (!a->record || !api_rc_action_in(api_rc_log_actions("record"), a->action))
        return 0;
    fmt_exact(ts, sizeof ts, "%.10s %.8s", a->ts, strlen(a->ts) > 11 ? a->ts + 11 : "");
    if ((c->begin && strcmp(ts, c->begin) < 0) || (c->end && strcmp(ts, c->end) > 0))
        return 0;
    const char **g = arena_grow(c->ar, c->names, c->n, &c->cap, sizeof *g, 64);
    if (!g || !(g[c->n] = arena_strdup(c->ar, a->record))) {
        c->nomem = true;
        return -1;
    }
    c->names = g;
    c->n++;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has_name(const struct range_ctx *c, const char *name)
{
    return c->n && bsearch(&name, c->names, c->n, sizeof *c->names, cmp_name);
}

/* keep_row[i] false for the rows of records that did not change in the range (a record is
 * found by its screening number too: the trail names it so until it is enrolled). */
static int date_range(struct req *r, const char *begin, const char *end, const struct csv_table *t,
                      bool *keep_row, struct err *e)
{
    struct range_ctx c = {
        .begin = begin && *begin ? begin : NULL, .end = end && *end ? end : NULL, .ar = &r->ar};
    if (!c.begin && !c.end)
        return 0;
    int rc = store_audit_foreach(r->st, range_row, &c, e);
    if (c.nomem) /* range_row stopped the reading */
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc)
        return rc;
    if (c.n)
        qsort(c.names, c.n, sizeof *c.names, cmp_name);
    struct store_record *recs = NULL;
    size_t nrecs = 0;
    rc = store_record_list(r->st, &recs, &nrecs, e);
    struct range_ctx in = {.ar = &r->ar}; /* the public names of the records that changed */
    for (size_t i = 0; !rc && i < nrecs; i++) {
        if (!has_name(&c, recs[i].screening_no) &&
            !(recs[i].study_id[0] && has_name(&c, recs[i].study_id)))
            continue;
        const char **g = arena_grow(&r->ar, in.names, in.n, &in.cap, sizeof *g, 64);
        if (!g || !(g[in.n] = arena_strdup(&r->ar, store_record_name(&recs[i]))))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            in.names = g, in.n++;
    }
    free(recs);
    if (rc)
        return rc;
    if (in.n)
        qsort(in.names, in.n, sizeof *in.names, cmp_name);
    for (size_t i = 0; i < t->nrows; i++)
        keep_row[i] = keep_row[i] && has_name(&in, t->rows[i][0]);
    return 0;
}

/* The flat rows kept, as REDCap's EAV export: one row per non-empty cell (record,
 * redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, field_name, value); a
 * checked checkbox option is field_name = the field, value = the option's code. */
static int rc_eav(struct req *r, enum rc_fmt fmt, const struct dict *d, const struct csv_table *t,
                  const bool *keep_row, const bool *keep_col, bool labels)
{
    static const char *const keys[] = {"record",
                                       "redcap_event_name",
                                       "redcap_repeat_instrument",
                                       "redcap_repeat_instance",
                                       "field_name",
                                       "value"};
    size_t cap = 64, n = 0;
    char ***rows = arena_alloc(&r->ar, cap * sizeof *rows);
    for (size_t i = 0; rows && i < t->nrows; i++) {
        if (!keep_row[i])
            continue;
        for (size_t c = 0; rows && c < t->ncols; c++) {
            const char *v = t->rows[i][c], *col = t->header[c];
            /* the record ID as a value of its own on each event's row, as REDCap's EAV has it
             * (REDCapR's redcap_read_oneshot_eav takes the record_id column from it) */
            if ((c > 0 && c < 4) || (c == 0 && *t->rows[i][2]) || !keep_col[c] || !*v)
                continue;
            const char *field = col;
            struct dict_key k;
            if (dict_key_parse(d, col, &k) == DICT_KEY_OPTION && k.field->type == FT_CHECKBOX) {
                /* raw: a ticked option is "1", its row's value the code; labels (to_labels
                 * with exportCheckboxLabel): the cell holds the option's label, "" unticked */
                if (!labels && strcmp(v, "1") != 0)
                    continue;
                field = k.field->name;
                v = labels ? v : k.code;
            }
            if (n + 1 >= cap) {
                char ***bigger = arena_alloc(&r->ar, 2 * cap * sizeof *rows);
                if (bigger)
                    memcpy(bigger, rows, n * sizeof *rows);
                rows = bigger;
                cap *= 2;
                if (!rows)
                    break;
            }
            char **row = arena_alloc(&r->ar, 6 * sizeof *row);
            if (!row) {
                rows = NULL;
                break;
            }
            for (size_t j = 0; j < 4; j++)
                row[j] = t->rows[i][j];
            row[4] = (char *)field;
            row[5] = (char *)v;
            rows[n++] = row;
        }
    }
    if (!rows)
        return api_rc_error(r, 500, "out of memory");
    /* REDCap's EAV columns: the event in a longitudinal project, the repeat pair where a form
     * repeats */
    bool rep = dict_has_repeating(d), cols[6] = {true, d->is_longitudinal, rep, rep, true, true};
    return api_rc_table(r, fmt, keys, 6, rows, n, NULL, cols);
}

/* generateNextRecordName: the name the next record created with forceAutoNumber would get,
 * as plain text (REDCap answers text whatever the format). */
int api_rc_next_name(struct req *r)
{
    char name[STORE_RECORD_ID_MAX + 1];
    struct err e;
    err_clear(&e);
    struct store_ctx who = req_who(r);
    if (store_record_next_numbered(r->st, &who, name, &e) != 0)
        return api_rc_error_err(r, &e);
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, name);
    int rc = api_rc_text(r, "text/plain", &sb);
    strbuf_release(&sb);
    return rc;
}

/* The i-th record an import answers with (returnContent): its name, or with auto_ids, as
 * REDCap pairs them, "new name,the file's name". */
static const char *import_id(struct arena *ar, const struct redcap_import *im, size_t i,
                             const char *ret)
{
    if (!im->auto_number)
        return im->ids[i];
    if (strcmp(ret, "auto_ids") != 0)
        return im->auto_ids[i];
    const char *pair = arena_printf(ar, "%s,%s", im->auto_ids[i], im->ids[i]);
    return pair ? pair : im->auto_ids[i];
}

/* Record import (content=record with data=…): REDCap's flat or EAV rows (type), JSON, CSV or
 * XML (format), through the same import as `ioheme import` (formats/redcap_import.c) — every row
 * through the write path in one batch, all or none, records created with their IDs where the
 * protocol allows, audited with source "import" and the SHA-256 of the data. overwriteBehavior
 * (normal: blank cells change nothing; overwrite: they clear) and dateFormat (YMD, MDY, DMY) as
 * REDCap reads them (struct redcap_read_opts); forceAutoNumber: every record of the data is a
 * new one, numbered as enrolment numbers (returnContent=auto_ids pairs "new,given"); a change to
 * a complete form needs ioheme's reason=… (REDCap has none). */
int api_rc_import(struct req *r, enum rc_fmt fmt)
{
    const char *data = req_form_opt(r, "data");
    if (!data)
        return api_rc_error(r, 400, "The parameter 'data' is missing");
    const char *type = req_form_opt(r, "type");
    if (type && strcmp(type, "flat") != 0 && strcmp(type, "eav") != 0)
        return api_rc_error(r, 400, "type: 'flat' or 'eav'");
    struct redcap_read_opts opts = {0};
    const char *ow = req_form_opt(r, "overwriteBehavior");
    if (ow && strcmp(ow, "overwrite") == 0)
        opts.overwrite = true; /* blank cells erase values */
    else if (ow && strcmp(ow, "normal") != 0)
        return api_rc_error(r, 400, "overwriteBehavior must be normal or overwrite");
    const char *df = req_form_opt(r, "dateFormat");
    if (df && redcap_dates_parse(df, &opts.dates) != 0)
        return api_rc_error(r, 400, "dateFormat must be YMD, MDY or DMY");
    opts.delim = api_rc_delimiter(r); /* csvDelimiter, checked before */
    bool auto_number = api_rc_true(req_form_opt(r, "forceAutoNumber"));
    const char *ret = req_form_opt(r, "returnContent");
    if (!ret)
        ret = "count";
    if (strcmp(ret, "count") != 0 && strcmp(ret, "ids") != 0 && strcmp(ret, "auto_ids") != 0 &&
        strcmp(ret, "nothing") != 0)
        return api_rc_error(r, 400, "returnContent must be count, ids, auto_ids or nothing");
    if (strcmp(ret, "auto_ids") == 0 && !auto_number)
        ret = "ids"; /* the file's names are the records' names: nothing to pair */
    struct err e;
    err_clear(&e);
    struct redcap_import im;
    redcap_import_init(&im, &r->ar, NULL);
    im.auto_number = auto_number;
    size_t len = strlen(data);
    struct redcap_flat flat = {
        "data", data,
        len,    fmt == RC_JSON ? REDCAP_JSON : fmt == RC_XML ? REDCAP_XML : REDCAP_CSV,
        &opts,  type && strcmp(type, "eav") == 0};
    int rc = redcap_import_read(store_dict(r->st), &flat, &im, &e);
    if (rc)
        return api_rc_error_err(r, &e);
    char sha[65];
    digest_sha256_hex(data, len, sha);
    struct store_ctx who = req_who(r);
    who.source = "import";
    who.source_sha256 = sha;
    rc = redcap_import_flat(r->st, &who, &flat, req_form_opt(r, "reason"), false, &im, &e);
    if (rc == ERR_INVALID && im.rejected) {
        /* REDCap lists each problem: record, field, and why */
        struct strbuf sb = STRBUF_INIT;
        strbuf_addf(&sb, "%zu value(s) rejected; nothing was imported:", im.rejected);
        for (const struct redcap_rejection *x = im.first; x; x = x->next)
            strbuf_addf(&sb, "\nrow %zu, record %s, field %s: %s [%s]", x->line,
                        x->record ? x->record : "", x->field ? x->field : "", x->msg ? x->msg : "",
                        x->rule ? x->rule : "");
        int out = api_rc_error(r, 400, strbuf_str(&sb));
        strbuf_release(&sb);
        return out;
    }
    if (rc)
        return api_rc_error_err(r, &e);
    /* the answer in returnFormat (else the data's format), as REDCap: PyCap imports CSV with
     * returnFormat=json and reads JSON */
    enum rc_fmt ans = api_rc_return_fmt(r);
    struct strbuf sb = STRBUF_INIT;
    if (ans == RC_XML &&
        strcmp(ret, "nothing") != 0) { /* <count>N</count>, <ids><id>…</id></ids> */
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        if (strcmp(ret, "count") == 0)
            strbuf_addf(&sb, "<count>%zu</count>\n", im.nids);
        else {
            strbuf_adds(&sb, "<ids>");
            for (size_t i = 0; i < im.nids; i++) {
                strbuf_adds(&sb, "<id>");
                api_rc_xml_cdata(&sb, import_id(&r->ar, &im, i, ret));
                strbuf_adds(&sb, "</id>");
            }
            strbuf_adds(&sb, "</ids>\n");
        }
        rc = sb.failed ? api_rc_error(r, 500, "out of memory")
                       : api_rc_text(r, "text/xml; charset=utf-8", &sb);
    } else if (strcmp(ret, "ids") == 0 || strcmp(ret, "auto_ids") == 0) {
        if (ans == RC_CSV) {
            strbuf_adds(&sb, "id\n");
            for (size_t i = 0; i < im.nids; i++) {
                strbuf_add_csv_raw(&sb, import_id(&r->ar, &im, i, ret));
                strbuf_addc(&sb, '\n');
            }
            rc = api_rc_text(r, "text/csv; charset=utf-8", &sb);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; i < im.nids; i++)
                json_array_append_new(a, json_string(import_id(&r->ar, &im, i, ret)));
            rc = resp_json(r, 200, a);
        }
    } else if (strcmp(ret, "count") == 0) {
        if (ans == RC_CSV) {
            strbuf_addf(&sb, "count\n%zu\n", im.nids);
            rc = api_rc_text(r, "text/csv; charset=utf-8", &sb);
        } else {
            rc = resp_json(r, 200, json_pack("{s:I}", "count", (json_int_t)im.nids));
        }
    } else {
        rc = api_rc_text(r, "text/plain", &sb);
    }
    strbuf_release(&sb);
    return rc;
}

/* Flat records (REDCap's "record" export, type=flat) from the same rows as `ioheme export
 * redcap`'s data.csv, filtered by records, fields, forms, events, filterLogic and dateRange;
 * rawOrLabel, rawOrLabelHeaders, exportCheckboxLabel, decimalCharacter and csvDelimiter as
 * REDCap applies them. exportBlankForGrayFormStatus=true is what ioheme writes anyway (a form
 * without data in a row has a blank status); exportSurveyFields adds nothing (no surveys). */
int api_rc_records(struct req *r, enum rc_fmt fmt)
{
    struct store_ctx who = req_who(r);
    struct err e;
    err_clear(&e);
    if (store_authorize(r->st, &who, PERM_EXPORT, &e) != 0)
        return e.code == ERR_FORBIDDEN
                   ? api_rc_error(r, 403,
                                  "You do not have permissions to use the API to export data")
                   : api_rc_error_err(r, &e);
    const char *type = req_form_opt(r, "type");
    if (type && strcmp(type, "flat") != 0 && strcmp(type, "eav") != 0)
        return api_rc_error(r, 400, "type: 'flat' or 'eav'");
    bool eav = type && strcmp(type, "eav") == 0;
    const char *logic = req_form_opt(r, "filterLogic");
    struct expr *filter = NULL;
    size_t err_col;
    struct err pe;
    err_clear(&pe);
    if (logic && expr_parse(logic, &r->ar, &filter, &err_col, &pe) != 0)
        return api_rc_error(r, 400, arena_printf(&r->ar, "filterLogic: %s", pe.msg));
    /* either case, as REDCap reads them (RAW, Label) */
    const char *rol = req_form_opt(r, "rawOrLabel");
    if (rol && *rol && strcasecmp(rol, "raw") != 0 && strcasecmp(rol, "label") != 0)
        return api_rc_error(r, 400, "rawOrLabel: 'raw' or 'label'");
    bool label = rol && strcasecmp(rol, "label") == 0;
    const char *rolh = req_form_opt(r, "rawOrLabelHeaders");
    if (rolh && *rolh && strcasecmp(rolh, "raw") != 0 && strcasecmp(rolh, "label") != 0)
        return api_rc_error(r, 400, "rawOrLabelHeaders: 'raw' or 'label'");
    const char *dec = req_form_opt(r, "decimalCharacter");
    if (dec && *dec && strcmp(dec, ",") != 0 && strcmp(dec, ".") != 0)
        return api_rc_error(r, 400, "decimalCharacter: ',' or '.'");
    const char *begin = req_form_opt(r, "dateRangeBegin"), *end = req_form_opt(r, "dateRangeEnd");
    if ((begin && *begin && !api_rc_is_time(begin)) || (end && *end && !api_rc_is_time(end)))
        return api_rc_error(r, 400,
                            "dateRangeBegin and dateRangeEnd are YYYY-MM-DD HH:MM:SS (UTC)");
    const char **records = api_rc_list(r, "records"), **fields = api_rc_list(r, "fields"),
               **forms = api_rc_list(r, "forms"), **events = api_rc_list(r, "events");
    const struct dict *d = store_dict(r->st);
    if (!d->is_longitudinal)
        events = NULL; /* a classic project has no events to choose from */
    if (api_rc_check_names(r, "fields", fields) || api_rc_check_names(r, "forms", forms) ||
        api_rc_check_names(r, "events", events))
        return 0;
    err_clear(&e);
    struct strbuf sb = STRBUF_INIT;
    size_t nrec, nrows;
    /* the data access group column only when asked for, as REDCap does */
    bool with_dags = api_rc_true(req_form_opt(r, "exportDataAccessGroups"));
    unsigned flags = DATASET_FLAT_ALL_COLUMNS | DATASET_FLAT_DAGS; /* filterLogic reads it */
    if (dataset_redcap_flat(r->st, strbuf_add_csv_raw, flags, &sb, &nrec, &nrows, &e) != 0) {
        strbuf_release(&sb);
        return api_rc_error_err(r, &e);
    }
    struct csv_table t;
    int rc = csv_table_parse(strbuf_str(&sb), sb.len, "data.csv", &t, &e);
    strbuf_release(&sb);
    if (rc)
        return api_rc_error_err(r, &e);
    bool *keep_col = arena_alloc(&r->ar, (t.ncols + 1) * sizeof *keep_col);
    bool *keep_row = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *keep_row);
    if (!keep_col || !keep_row) {
        csv_table_free(&t);
        return api_rc_error(r, 500, "out of memory");
    }
    /* the first four columns are always there (DATASET_FLAT_ALL_COLUMNS: the filters and
     * filterLogic read them); the answer has them as REDCap does: the event in a longitudinal
     * project, the repeat pair where a form repeats */
    bool cols4[4] = {true, d->is_longitudinal, dict_has_repeating(d), dict_has_repeating(d)};
    int dag_col = csv_col(&t, "redcap_data_access_group");
    for (size_t c = 0; c < t.ncols; c++) {
        const char *col = t.header[c];
        if ((int)c == dag_col) { /* when asked for, whatever fields and forms say */
            keep_col[c] = with_dags;
            continue;
        }
        if (c < 4 || (!fields && !forms)) {
            keep_col[c] = c >= 4 || cols4[c];
            continue;
        }
        struct dict_key k;
        dict_key_parse(d, col, &k);
        /* fields=… names a field (all its options) or a form's status (PyCap lists every
         * <form>_complete with the fields) */
        keep_col[c] = (fields && (k.field ? api_rc_in_list(fields, k.field->name)
                                          : api_rc_in_list(fields, col))) ||
                      (forms && k.form && api_rc_in_list(forms, k.form->name));
    }
    for (size_t i = 0; i < t.nrows; i++)
        keep_row[i] = (!records || api_rc_in_list(records, t.rows[i][0])) &&
                      (!events || api_rc_in_list(events, t.rows[i][1]));
    if (date_range(r, begin, end, &t, keep_row, &e) != 0) {
        csv_table_free(&t);
        return api_rc_error_err(r, &e);
    }
    struct row_lookup rl = {.d = d,
                            .t = &t,
                            .keys = arena_calloc(&r->ar, t.ncols + 1, sizeof *rl.keys),
                            .dag_col = dag_col,
                            .user_dag = store_user_dag(r->st)};
    for (size_t c = 0; rl.keys && c < t.ncols; c++)
        dict_key_parse(d, t.header[c], &rl.keys[c]);
    for (size_t i = 0; filter && i < t.nrows; i++) {
        if (!keep_row[i])
            continue;
        struct expr_value v;
        rl.row = i;
        if (!rl.keys ||
            expr_eval(filter, row_lookup_fn, &rl, store_now_ms(r->st), &r->ar, &v, &e) != 0) {
            csv_table_free(&t);
            return rl.keys ? api_rc_error(r, 400, arena_printf(&r->ar, "filterLogic: %s", e.msg))
                           : api_rc_error(r, 500, "out of memory");
        }
        keep_row[i] = expr_truthy(&v);
    }
    if (label) /* EAV: a ticked option's row carries its label, as REDCap's */
        to_labels(r, d, &t, eav || api_rc_true(req_form_opt(r, "exportCheckboxLabel")));
    if (dec && *dec)
        to_decimal(d, &t, *dec);
    if (!eav && fmt == RC_CSV && rolh && strcasecmp(rolh, "label") == 0)
        label_headers(r, d, &t);
    rc = eav ? rc_eav(r, fmt, d, &t, keep_row, keep_col, label)
             : api_rc_table(r, fmt, (const char *const *)t.header, t.ncols, t.rows, t.nrows,
                            keep_row, keep_col);
    csv_table_free(&t);
    return rc;
}
