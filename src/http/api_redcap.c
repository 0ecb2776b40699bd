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
 * `ioheme export redcap` writes them (report/redcap_export.c); record imports go through
 * `ioheme import`'s own loop (formats/redcap_import.c). Errors are REDCap's:
 * {"error": "…"} with 400, 401 (no token), 403 (wrong token or role). */
#include "base/digest.h"
#include "base/fmt.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/expr.h"
#include "core/perm.h"
#include "formats/csv.h"
#include "formats/redcap.h"
#include "report/dataset.h"

/* The REDCap version this API answers as (the clients compare it, e.g. PyCap's is_longitudinal
 * and redcapAPI's version checks). */
#define RC_VERSION "14.0.0"

/* The answer's format (format=json|csv|xml). */
enum rc_fmt { RC_JSON, RC_CSV, RC_XML };

/* s as XML character data, in CDATA as REDCap writes values ("]]>" split across sections). */
static void xml_cdata(struct strbuf *sb, const char *s)
{
    strbuf_adds(sb, "<![CDATA[");
    for (const char *p = s ? s : ""; *p; p++) {
        if (strncmp(p, "]]>", 3) == 0) {
            strbuf_adds(sb, "]]]]><![CDATA[>");
            p += 2;
        } else {
            strbuf_addc(sb, *p);
        }
    }
    strbuf_adds(sb, "]]>");
}

static int rc_text(struct req *r, const char *type, struct strbuf *sb);

/* An error as REDCap answers it, in returnFormat: json {"error": "…"} (also when returnFormat
 * is not given: REDCap's own default is xml, every client here asks), xml
 * <hash><error>…</error></hash>, csv "ERROR: …". */
static int rc_error(struct req *r, int status, const char *msg)
{
    const char *rf = req_form_opt(r, "returnFormat");
    if (rf && (strcmp(rf, "xml") == 0 || strcmp(rf, "csv") == 0)) {
        struct strbuf sb = STRBUF_INIT;
        bool xml = strcmp(rf, "xml") == 0;
        if (xml) {
            strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<hash><error>");
            xml_cdata(&sb, msg);
            strbuf_adds(&sb, "</error></hash>\n");
        } else {
            strbuf_addf(&sb, "ERROR: %s\n", msg);
        }
        rc_text(r, xml ? "text/xml; charset=utf-8" : "text/csv; charset=utf-8", &sb);
        r->status = status;
        strbuf_release(&sb);
        return 0;
    }
    return resp_json(r, status, json_pack("{s:s}", "error", msg));
}

static int rc_error_err(struct req *r, const struct err *e)
{
    int status = e->code == ERR_AUTH || e->code == ERR_FORBIDDEN                        ? 403
                 : e->code == ERR_NOMEM || e->code == ERR_IO || e->code == ERR_INTERNAL ? 500
                                                                                        : 400;
    return rc_error(r, status, e->msg);
}

static int rc_text(struct req *r, const char *type, struct strbuf *sb)
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
static const char **rc_list(struct req *r, const char *name)
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

static bool in_list(const char **list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* A table (header keys, rows of strings) as REDCap answers: JSON array of objects, or CSV. */
static int rc_table(struct req *r, enum rc_fmt fmt, const char *const *keys, size_t nkeys,
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
                    xml_cdata(&sb, rows[i][c]);
                    strbuf_addf(&sb, "</%s>", keys[c]);
                }
            strbuf_adds(&sb, "</item>\n");
        }
        strbuf_adds(&sb, "</records>\n");
        int rc = sb.failed ? rc_error(r, 500, "out of memory")
                           : rc_text(r, "text/xml; charset=utf-8", &sb);
        strbuf_release(&sb);
        return rc;
    }
    if (fmt == RC_CSV) {
        struct strbuf sb = STRBUF_INIT;
        bool first = true;
        for (size_t c = 0; c < nkeys; c++)
            if (!keep_col || keep_col[c]) {
                if (!first)
                    strbuf_addc(&sb, ',');
                strbuf_add_csv_raw(&sb, keys[c]);
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
                        strbuf_addc(&sb, ',');
                    strbuf_add_csv_raw(&sb, rows[i][c] ? rows[i][c] : "");
                    first = false;
                }
            strbuf_addc(&sb, '\n');
        }
        int rc = sb.failed ? rc_error(r, 500, "out of memory") : rc_text(r, "text/csv", &sb);
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
                json_object_set_new(o, keys[c], json_string(rows[i][c] ? rows[i][c] : ""));
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
        rc_error_err(r, &e);
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
        return rc_error(r, 500, "the stored dictionary is missing");
    }
    const char **fields = rc_list(r, "fields"), **forms = rc_list(r, "forms");
    char ***rows = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *rows);
    bool *keep = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *keep);
    if (!rows || !keep) {
        csv_table_free(&t);
        return rc_error(r, 500, "out of memory");
    }
    for (size_t i = 0; i < t.nrows; i++) {
        rows[i] = arena_alloc(&r->ar, DICT_API_NCOLS * sizeof **rows);
        if (!rows[i]) {
            csv_table_free(&t);
            return rc_error(r, 500, "out of memory");
        }
        for (size_t c = 0; c < DICT_API_NCOLS; c++)
            rows[i][c] = c < t.ncols ? t.rows[i][c] : "";
        keep[i] = (!fields || in_list(fields, rows[i][0])) &&
                  (!forms || in_list(forms, rows[i][1])) && *rows[i][0];
    }
    int rc = rc_table(r, fmt, dict_api_headers, DICT_API_NCOLS, rows, t.nrows, keep, NULL);
    csv_table_free(&t);
    return rc;
}

/* events.csv, form_events.csv, repeating.csv served as stored, with their own header; a
 * classic project (no such file) gets REDCap's answer. */
static int rc_stored_table(struct req *r, enum rc_fmt fmt, const char *file, const char *missing)
{
    struct csv_table t;
    bool has;
    if (stored_csv(r, file, &t, &has) != 0)
        return 0;
    if (!has)
        return missing ? rc_error(r, 400, missing) : resp_json(r, 200, json_array());
    int rc = rc_table(r, fmt, (const char *const *)t.header, t.ncols, t.rows, t.nrows, NULL, NULL);
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
        return rc_error(r, 400, "You cannot export arms for classic projects");
    int col = csv_col(&t, "arm_num");
    char ***rows = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; rows && i < t.nrows; i++) {
        const char *arm = col >= 0 && *t.rows[i][col] ? t.rows[i][col] : "1";
        bool seen = false;
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
    int rc =
        rows ? rc_table(r, fmt, keys, 2, rows, n, NULL, NULL) : rc_error(r, 500, "out of memory");
    csv_table_free(&t);
    return rc;
}

static int rc_field_names(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"original_field_name", "choice_value", "export_field_name"};
    const struct dict *d = store_dict(r->st);
    const char **only = rc_list(r, "field");
    size_t n = 0;
    for (size_t i = 0; i < d->nfields; i++)
        n += d->fields[i].type == FT_CHECKBOX ? d->fields[i].nchoices : 1;
    char ***rows = arena_alloc(&r->ar, (n + 1) * sizeof *rows);
    size_t k = 0;
    for (size_t i = 0; rows && i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        if (f->type == FT_DESCRIPTIVE || (only && !in_list(only, f->name)))
            continue;
        size_t m = f->type == FT_CHECKBOX ? f->nchoices : 1;
        for (size_t c = 0; c < m; c++) {
            char **row = arena_alloc(&r->ar, 3 * sizeof *row);
            if (!row)
                return rc_error(r, 500, "out of memory");
            row[0] = (char *)f->name;
            row[1] = f->type == FT_CHECKBOX ? (char *)f->choices[c].code : "";
            row[2] = f->type == FT_CHECKBOX
                         ? arena_printf(&r->ar, "%s___%s", f->name, f->choices[c].code)
                         : (char *)f->name;
            rows[k++] = row;
        }
    }
    if (!rows)
        return rc_error(r, 500, "out of memory");
    return rc_table(r, fmt, keys, 3, rows, k, NULL, NULL);
}

static int rc_instruments(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"instrument_name", "instrument_label"};
    const struct dict *d = store_dict(r->st);
    char ***rows = arena_alloc(&r->ar, (d->nforms + 1) * sizeof *rows);
    for (size_t i = 0; rows && i < d->nforms; i++) {
        rows[i] = arena_alloc(&r->ar, 2 * sizeof **rows);
        if (!rows[i])
            return rc_error(r, 500, "out of memory");
        rows[i][0] = (char *)d->forms[i].name;
        rows[i][1] = (char *)d->forms[i].label;
    }
    if (!rows)
        return rc_error(r, 500, "out of memory");
    return rc_table(r, fmt, keys, 2, rows, d->nforms, NULL, NULL);
}

static int rc_project(struct req *r, enum rc_fmt fmt)
{
    char *text = NULL;
    bool longitudinal = store_protocol_file(r->st, "events.csv", &text, NULL) == 0;
    free(text);
    text = NULL;
    bool repeating = store_protocol_file(r->st, "repeating.csv", &text, NULL) == 0;
    free(text);
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
                    "ioheme",
                    longitudinal ? "1" : "0",
                    repeating ? "1" : "0",
                    store_records_by_import(r->st) ? "1" : "0", /* forceAutoNumber numbers */
                    "",
                    "0",
                    "4",
                    "English"};
    char **rows[] = {vals};
    if (fmt == RC_CSV)
        return rc_table(r, RC_CSV, keys, 9, rows, 1, NULL, NULL);
    if (fmt == RC_XML) { /* REDCap: one <project> element, not a list of items */
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<project>");
        for (size_t c = 0; c < 9; c++) {
            strbuf_addf(&sb, "<%s>", keys[c]);
            xml_cdata(&sb, vals[c]);
            strbuf_addf(&sb, "</%s>", keys[c]);
        }
        strbuf_adds(&sb, "</project>\n");
        int rc = rc_text(r, "text/xml; charset=utf-8", &sb);
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
        return rc_error_err(r, &e);
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
        return rc_error(r, 500, "out of memory");
    return rc_table(r, fmt, keys, 3, rows, n, NULL, NULL);
}

/* REDCap's user export: one row per ioheme user, REDCap's rights as 0/1 from the user's role in
 * core/perm.c's table (data_export 1 = full data set). ioheme keeps no names, e-mail or DAGs. */
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
                                       "data_quality_resolution"};
    enum { NK = sizeof keys / sizeof keys[0] };
    struct err e;
    err_clear(&e);
    struct store_user *u = NULL;
    size_t n = 0;
    if (store_user_list(r->st, &u, &n, &e) != 0)
        return rc_error_err(r, &e);
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
                             MAY(PERM_QUERY_RAISE)};
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
        return rc_error(r, 500, "out of memory");
    return rc_table(r, fmt, keys, NK, rows, n, NULL, NULL);
}

/* REDCap's log export from the audit trail: timestamp ("YYYY-MM-DD HH:MM", UTC), username,
 * action, details, record; filtered by user, record, beginTime and endTime as REDCap does.
 * Values of identifier fields are not shown (the field is named). */
struct log_ctx {
    struct req *r;
    const char *user, *begin, *end;
    const char *record, *record2; /* the record asked for: its study ID and screening number */
    char ***rows;
    size_t n, cap;
    bool nomem;
};

static int log_row(void *vctx, const struct store_audit_row *a)
{
    struct log_ctx *c = vctx;
    struct req *r = c->r;
    char ts[17];
    fmt_exact(ts, sizeof ts, "%.10s %.5s", a->ts, strlen(a->ts) > 11 ? a->ts + 11 : "");
    if ((c->user && (!a->user || strcmp(c->user, a->user) != 0)) ||
        (c->record && (!a->record || (strcmp(c->record, a->record) != 0 &&
                                      (!c->record2 || strcmp(c->record2, a->record) != 0)))) ||
        (c->begin && strcmp(ts, c->begin) < 0) || (c->end && strcmp(ts, c->end) > 0))
        return 0;
    if (c->n + 1 >= c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char ***bigger = arena_alloc(&r->ar, cap * sizeof *bigger);
        if (!bigger) {
            c->nomem = true;
            return -1;
        }
        if (c->n)
            memcpy(bigger, c->rows, c->n * sizeof *bigger);
        c->rows = bigger;
        c->cap = cap;
    }
    const char *details = "";
    if (a->field) {
        struct dict_key k;
        dict_key_parse(store_dict(r->st), a->field, &k);
        details =
            k.field && k.field->is_identifier
                ? arena_printf(&r->ar, "%s (identifier)", a->field)
                : arena_printf(&r->ar, "%s = '%s'", a->field, a->new_value ? a->new_value : "");
    } else if (a->reason) {
        details = arena_strdup(&r->ar, a->reason);
    }
    char **row = arena_alloc(&r->ar, 5 * sizeof *row);
    if (!row) {
        c->nomem = true;
        return -1;
    }
    row[0] = arena_strdup(&r->ar, ts);
    row[1] = arena_strdup(&r->ar, a->user ? a->user : "");
    row[2] = a->record ? arena_printf(&r->ar, "%s %s", a->action, a->record)
                       : arena_strdup(&r->ar, a->action);
    row[3] = (char *)details;
    row[4] = arena_strdup(&r->ar, a->record ? a->record : "");
    c->rows[c->n++] = row;
    return 0;
}

static int rc_log(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"timestamp", "username", "action", "details", "record"};
    struct log_ctx c = {.r = r,
                        .user = req_form_opt(r, "user"),
                        .record = req_form_opt(r, "record"),
                        .begin = req_form_opt(r, "beginTime"),
                        .end = req_form_opt(r, "endTime")};
    struct err e;
    err_clear(&e);
    struct store_record rec;
    if (c.record && store_record_get(r->st, c.record, &rec, NULL) == 0) {
        /* a record's rows name it by its screening number until it is enrolled */
        c.record = arena_strdup(&r->ar, store_record_name(&rec));
        c.record2 = arena_strdup(&r->ar, rec.screening_no);
    }
    if (store_audit_foreach(r->st, log_row, &c, &e) != 0 || c.nomem)
        return c.nomem ? rc_error(r, 500, "out of memory") : rc_error_err(r, &e);
    return rc_table(r, fmt, keys, 5, c.rows, c.n, NULL, NULL);
}

/* filterLogic's values: the flat rows themselves. [field] is the row's own cell, [event][field]
 * the same record's row at that event (its non-repeating row); an unticked option is "0". */
struct row_lookup {
    const struct dict *d;
    const struct csv_table *t;
    struct dict_key *keys; /* each column's dict_key_parse */
    size_t row;
};

static int row_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                         int instance, struct expr_value *out, struct err *e)
{
    const struct row_lookup *rl = ctx;
    if (instance) /* a row is one instance: another one is not in it */
        return err_set(e, ERR_INVALID, "filterLogic: [%s] with an instance is not supported",
                       field);
    const struct csv_table *t = rl->t;
    char **row = t->rows[rl->row];
    out->kind = EV_BLANK;
    if (!dict_field(rl->d, field))
        return err_set(e, ERR_INVALID, "unknown field [%s]", field);
    if (event && strcmp(event, row[1]) != 0) {
        row = NULL;
        for (size_t i = 0; i < t->nrows && !row; i++)
            if (strcmp(t->rows[i][0], t->rows[rl->row][0]) == 0 &&
                strcmp(t->rows[i][1], event) == 0 && !*t->rows[i][3])
                row = t->rows[i];
    }
    for (size_t c = 0; row && c < t->ncols; c++) {
        const struct dict_key *k = &rl->keys[c];
        if (!k->field || strcmp(k->field->name, field) != 0 ||
            (code ? k->kind != DICT_KEY_OPTION || strcmp(k->code, code) != 0
                  : k->kind != DICT_KEY_FIELD))
            continue;
        if (*row[c]) {
            out->kind = EV_STR;
            out->str = row[c];
        }
    }
    if (code && out->kind == EV_BLANK) {
        out->kind = EV_STR;
        out->str = "0";
    }
    return 0;
}

/* rawOrLabel=label: choice codes as their labels, checkbox options as Checked / Unchecked,
 * form statuses as Incomplete / Unverified / Complete, as REDCap exports them. */
static void to_labels(struct req *r, const struct dict *d, struct csv_table *t)
{
    static const char *const statuses[] = {"Incomplete", "Unverified", "Complete"};
    for (size_t c = 4; c < t->ncols; c++) {
        struct dict_key k;
        enum dict_key_kind kind = dict_key_parse(d, t->header[c], &k);
        for (size_t i = 0; i < t->nrows; i++) {
            char **v = &t->rows[i][c];
            if (!**v)
                continue;
            if (kind == DICT_KEY_OPTION) {
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

/* The flat rows kept, as REDCap's EAV export: one row per non-empty cell (record,
 * redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, field_name, value); a
 * checked checkbox option is field_name = the field, value = the option's code. */
static int rc_eav(struct req *r, enum rc_fmt fmt, const struct dict *d, const struct csv_table *t,
                  const bool *keep_row, const bool *keep_col)
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
        for (size_t c = 4; rows && c < t->ncols; c++) {
            const char *v = t->rows[i][c], *col = t->header[c];
            if (!keep_col[c] || !*v)
                continue;
            const char *field = col;
            struct dict_key k;
            if (dict_key_parse(d, col, &k) == DICT_KEY_OPTION && k.field->type == FT_CHECKBOX) {
                if (strcmp(v, "1") != 0)
                    continue;
                field = k.field->name;
                v = k.code;
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
        return rc_error(r, 500, "out of memory");
    return rc_table(r, fmt, keys, 6, rows, n, NULL, NULL);
}

/* Flat records (REDCap's "record" export, type=flat) from the same rows as `ioheme export
 * redcap`'s data.csv, filtered by records, fields, forms and events. */
/* A boolean parameter as the clients send it: PyCap "True"/"False", the others "true"/"false";
 * REDCap reads true and 1 in any case. */
static bool rc_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* generateNextRecordName: the name the next record created with forceAutoNumber would get,
 * as plain text (REDCap answers text whatever the format). */
static int rc_next_name(struct req *r)
{
    char name[16];
    struct err e;
    err_clear(&e);
    struct store_ctx who = req_who(r);
    if (store_record_next_numbered(r->st, &who, name, &e) != 0)
        return rc_error_err(r, &e);
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, name);
    int rc = rc_text(r, "text/plain", &sb);
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
static int rc_import(struct req *r, enum rc_fmt fmt)
{
    const char *data = req_form_opt(r, "data");
    if (!data)
        return rc_error(r, 400, "The parameter 'data' is missing");
    const char *type = req_form_opt(r, "type");
    if (type && strcmp(type, "flat") != 0 && strcmp(type, "eav") != 0)
        return rc_error(r, 400, "type: 'flat' or 'eav'");
    struct redcap_read_opts opts = {0};
    const char *ow = req_form_opt(r, "overwriteBehavior");
    if (ow && strcmp(ow, "overwrite") == 0)
        opts.overwrite = true; /* blank cells erase values */
    else if (ow && strcmp(ow, "normal") != 0)
        return rc_error(r, 400, "overwriteBehavior must be normal or overwrite");
    const char *df = req_form_opt(r, "dateFormat");
    if (df && redcap_dates_parse(df, &opts.dates) != 0)
        return rc_error(r, 400, "dateFormat must be YMD, MDY or DMY");
    bool auto_number = rc_true(req_form_opt(r, "forceAutoNumber"));
    const char *ret = req_form_opt(r, "returnContent");
    if (!ret)
        ret = "count";
    if (strcmp(ret, "count") != 0 && strcmp(ret, "ids") != 0 && strcmp(ret, "auto_ids") != 0 &&
        strcmp(ret, "nothing") != 0)
        return rc_error(r, 400, "returnContent must be count, ids, auto_ids or nothing");
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
        return rc_error_err(r, &e);
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
        int out = rc_error(r, 400, strbuf_str(&sb));
        strbuf_release(&sb);
        return out;
    }
    if (rc)
        return rc_error_err(r, &e);
    struct strbuf sb = STRBUF_INIT;
    if (fmt == RC_XML &&
        strcmp(ret, "nothing") != 0) { /* <count>N</count>, <ids><id>…</id></ids> */
        strbuf_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        if (strcmp(ret, "count") == 0)
            strbuf_addf(&sb, "<count>%zu</count>\n", im.nids);
        else {
            strbuf_adds(&sb, "<ids>");
            for (size_t i = 0; i < im.nids; i++) {
                strbuf_adds(&sb, "<id>");
                xml_cdata(&sb, import_id(&r->ar, &im, i, ret));
                strbuf_adds(&sb, "</id>");
            }
            strbuf_adds(&sb, "</ids>\n");
        }
        rc = sb.failed ? rc_error(r, 500, "out of memory")
                       : rc_text(r, "text/xml; charset=utf-8", &sb);
    } else if (strcmp(ret, "ids") == 0 || strcmp(ret, "auto_ids") == 0) {
        if (fmt == RC_CSV) {
            strbuf_adds(&sb, "id\n");
            for (size_t i = 0; i < im.nids; i++) {
                strbuf_add_csv_raw(&sb, import_id(&r->ar, &im, i, ret));
                strbuf_addc(&sb, '\n');
            }
            rc = rc_text(r, "text/csv; charset=utf-8", &sb);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; i < im.nids; i++)
                json_array_append_new(a, json_string(import_id(&r->ar, &im, i, ret)));
            rc = resp_json(r, 200, a);
        }
    } else if (strcmp(ret, "count") == 0) {
        if (fmt == RC_CSV) {
            strbuf_addf(&sb, "count\n%zu\n", im.nids);
            rc = rc_text(r, "text/csv; charset=utf-8", &sb);
        } else {
            rc = resp_json(r, 200, json_pack("{s:I}", "count", (json_int_t)im.nids));
        }
    } else {
        rc = rc_text(r, "text/plain", &sb);
    }
    strbuf_release(&sb);
    return rc;
}

static int rc_records(struct req *r, enum rc_fmt fmt)
{
    struct store_ctx who = req_who(r);
    if (store_authorize(r->st, &who, PERM_EXPORT, NULL) != 0)
        return rc_error(r, 403, "You do not have permissions to use the API to export data");
    const char *type = req_form_opt(r, "type");
    if (type && strcmp(type, "flat") != 0 && strcmp(type, "eav") != 0)
        return rc_error(r, 400, "type: 'flat' or 'eav'");
    bool eav = type && strcmp(type, "eav") == 0;
    const char *logic = req_form_opt(r, "filterLogic");
    struct expr *filter = NULL;
    size_t err_col;
    struct err pe;
    err_clear(&pe);
    if (logic && expr_parse(logic, &r->ar, &filter, &err_col, &pe) != 0)
        return rc_error(r, 400, arena_printf(&r->ar, "filterLogic: %s", pe.msg));
    const char *rol = req_form_opt(r, "rawOrLabel");
    if (rol && strcmp(rol, "raw") != 0 && strcmp(rol, "label") != 0)
        return rc_error(r, 400, "rawOrLabel: 'raw' or 'label'");
    bool label = rol && strcmp(rol, "label") == 0;
    struct err e;
    err_clear(&e);
    struct strbuf sb = STRBUF_INIT;
    size_t nrec, nrows;
    /* the data access group column only when asked for, as REDCap does */
    bool with_dags = rc_true(req_form_opt(r, "exportDataAccessGroups"));
    if (dataset_redcap_flat(r->st, strbuf_add_csv_raw, with_dags, &sb, &nrec, &nrows, &e) != 0) {
        strbuf_release(&sb);
        return rc_error_err(r, &e);
    }
    struct csv_table t;
    int rc = csv_table_parse(strbuf_str(&sb), sb.len, "data.csv", &t, &e);
    strbuf_release(&sb);
    if (rc)
        return rc_error_err(r, &e);
    const char **records = rc_list(r, "records"), **fields = rc_list(r, "fields"),
               **forms = rc_list(r, "forms"), **events = rc_list(r, "events");
    const struct dict *d = store_dict(r->st);
    bool *keep_col = arena_alloc(&r->ar, (t.ncols + 1) * sizeof *keep_col);
    bool *keep_row = arena_alloc(&r->ar, (t.nrows + 1) * sizeof *keep_row);
    if (!keep_col || !keep_row) {
        csv_table_free(&t);
        return rc_error(r, 500, "out of memory");
    }
    for (size_t c = 0; c < t.ncols; c++) {
        const char *col = t.header[c];
        if (c < 4 || (!fields && !forms)) {
            keep_col[c] = true;
            continue;
        }
        struct dict_key k;
        dict_key_parse(d, col, &k);
        keep_col[c] = (fields && k.field && in_list(fields, k.field->name)) ||
                      (forms && k.form && in_list(forms, k.form->name));
    }
    for (size_t i = 0; i < t.nrows; i++)
        keep_row[i] = (!records || in_list(records, t.rows[i][0])) &&
                      (!events || in_list(events, t.rows[i][1]));
    struct row_lookup rl = {
        .d = d, .t = &t, .keys = arena_calloc(&r->ar, t.ncols + 1, sizeof *rl.keys)};
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
            return rl.keys ? rc_error(r, 400, arena_printf(&r->ar, "filterLogic: %s", e.msg))
                           : rc_error(r, 500, "out of memory");
        }
        keep_row[i] = expr_truthy(&v);
    }
    if (label)
        to_labels(r, d, &t);
    rc = eav ? rc_eav(r, fmt, d, &t, keep_row, keep_col)
             : rc_table(r, fmt, (const char *const *)t.header, t.ncols, t.rows, t.nrows, keep_row,
                        keep_col);
    csv_table_free(&t);
    return rc;
}

int api_redcap_post(struct req *r)
{
    const char *token = req_form_opt(r, "token");
    if (!token)
        return rc_error(r, 401, "You do not have permissions to use the API");
    struct err e;
    err_clear(&e);
    if (auth_token(r, token, true, &e) != 0)
        return rc_error(r, 403, "You do not have permissions to use the API");
    r->via_bearer = true;            /* a token in the body: no ambient credential, no CSRF */
    if (auth_set_reader(r, &e) != 0) /* identifiers as this role may see them, its sites */
        return rc_error(r, 500, "the user's sites could not be read");
    const char *content = req_form_opt(r, "content");
    const char *format = req_form_opt(r, "format");
    if (!format)
        format = "xml"; /* REDCap's default (PyCap's version call sends none: plain text) */
    enum rc_fmt fmt = strcmp(format, "csv") == 0   ? RC_CSV
                      : strcmp(format, "xml") == 0 ? RC_XML
                                                   : RC_JSON;
    if (fmt == RC_JSON && strcmp(format, "json") != 0)
        return rc_error(r, 400, "The format you specified is not supported: use json, csv or xml");
    if (!content)
        return rc_error(r, 400, "The parameter 'content' is missing");
    const char *action = req_form_opt(r, "action");
    /* a record import: REDCap's clients send data=… (and some action=import) */
    bool is_import = strcmp(content, "record") == 0 &&
                     (req_form_opt(r, "data") || (action && strcmp(action, "import") == 0));
    if (action && strcmp(action, "export") != 0 && !is_import)
        return rc_error(r, 400, "Only export, and import of records, are supported by this server");
    struct store_ctx who = req_who(r);
    enum perm_action need = is_import                        ? PERM_DATA_WRITE
                            : strcmp(content, "record") == 0 ? PERM_DATA_READ
                            : strcmp(content, "user") == 0   ? PERM_USER_MANAGE
                            : strcmp(content, "log") == 0    ? PERM_AUDIT_READ
                                                             : PERM_PROTOCOL_READ;
    if (strcmp(content, "version") != 0 && store_authorize(r->st, &who, need, &e) != 0)
        return rc_error(r, 403, e.msg);
    if (strcmp(content, "version") == 0) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_adds(&sb, RC_VERSION);
        int rc = rc_text(r, "text/plain", &sb);
        strbuf_release(&sb);
        return rc;
    }
    if (strcmp(content, "project") == 0)
        return rc_project(r, fmt);
    if (strcmp(content, "generateNextRecordName") == 0)
        return rc_next_name(r);
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
        return rc_import(r, fmt);
    if (strcmp(content, "record") == 0)
        return rc_records(r, fmt);
    if (strcmp(content, "user") == 0)
        return rc_users(r, fmt);
    if (strcmp(content, "dag") == 0)
        return rc_dags(r, fmt);
    if (strcmp(content, "log") == 0)
        return rc_log(r, fmt);
    return rc_error(r, 400, "The content you specified is not supported by this server");
}
