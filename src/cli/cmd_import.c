/* `ioheme import FILE.json|FILE.csv`: REDCap's flat record format, all rows or none.
 *
 * Columns: record_id (the dictionary's first field: a study ID or screening number that
 * exists), redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, then fields;
 * checkbox options as field___code, form status as form_complete. Blank cells are left alone
 * (REDCap's "do not overwrite with blanks"); calc fields are skipped (they are recomputed).
 * Every row goes through the one write path inside one batch; every rejected value is
 * reported with its row, and then nothing is saved. Audit rows carry source "import" and the
 * file's SHA-256. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/csv.h"

const char CMD_IMPORT_USAGE[] =
    "usage: ioheme import FILE.csv|FILE.json [--reason TEXT] [--json]\n"
    "\n"
    "Imports values in REDCap's flat format (as exported by REDCap: record_id,\n"
    "redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, fields; checkboxes as\n"
    "field___code; form status as form_complete). Records must exist (screened). All rows are\n"
    "saved or none: every rejected value is listed with its row and the rule it breaks. Blank\n"
    "cells change nothing; calculated fields are recomputed, not imported. The audit trail\n"
    "records source 'import' and the file's SHA-256.\n"
    "  --reason TEXT   reason for changes to forms already marked complete\n";

/* One row as column name/value pairs (pointers into the parsed file). */
struct row {
    const char **names, **values;
    size_t n;
    size_t line;
};

struct report {
    size_t rows, changed, calc, status, unchanged, rejected;
    json_t *errors;
};

static const char *row_get(const struct row *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

static void reject(struct report *rep, const struct row *r, const char *record, const char *field,
                   const char *rule, const char *msg, bool json)
{
    rep->rejected++;
    if (json)
        json_array_append_new(rep->errors, json_pack("{s:I, s:s, s:s, s:s, s:s}", "row",
                                                     (json_int_t)r->line, "record", record, "field",
                                                     field, "rule", rule, "message", msg));
    else
        fprintf(stderr, "  row %zu, %s, %s: %s [%s]\n", r->line, record, field, msg, rule);
}

static int import_row(struct store *st, const struct store_ctx *who, const struct row *r,
                      const char *reason, struct report *rep, bool json, struct arena *ar)
{
    const struct dict *d = store_dict(st);
    const char *record = row_get(r, d->fields[0].name);
    if (!record || !*record) {
        reject(rep, r, "", d->fields[0].name, "record", "no record ID", json);
        return 0;
    }
    const char *evname = row_get(r, "redcap_event_name");
    const char *event = evname && *evname ? cli_event(d, evname)
                        : d->nevents == 1 ? d->events[0].name
                                          : NULL;
    if (!event) {
        reject(rep, r, record, "redcap_event_name", "unknown_event",
               evname && *evname ? "no such event" : "redcap_event_name is required", json);
        return 0;
    }
    const char *inst_s = row_get(r, "redcap_repeat_instance");
    const char *instrument = row_get(r, "redcap_repeat_instrument");
    int instance = 0;
    if (inst_s && *inst_s) {
        /* REDCap writes a positive integer or nothing; atoi would read "x" as 0 and "2b" as 2.
         * The write path then holds it to the form's maximum. */
        struct err ie = {0};
        if (dict_instance_parse(inst_s, "redcap_repeat_instance", &instance, &ie) != 0 ||
            instance < 1) {
            reject(rep, r, record, "redcap_repeat_instance", "instance",
                   ie.code ? ie.msg : "redcap_repeat_instance must be a positive integer or blank",
                   json);
            return 0;
        }
    }
    int evi = dict_event_index(d, event);
    struct store_change *ch = arena_calloc(ar, r->n + 1, sizeof *ch);
    if (!ch)
        return ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *name = r->names[i], *val = r->values[i];
        if (!val || !*val || strcmp(name, d->fields[0].name) == 0 ||
            strncmp(name, "redcap_", 7) == 0)
            continue;
        const struct dict_field *f = dict_field(d, name);
        if (f && f->type == FT_CALC)
            continue;
        size_t len = strlen(name);
        if (!f && len > 9 && strcmp(name + len - 9, "_complete") == 0) {
            /* a status column of a form outside this row's event/instance is not data */
            char form[128];
            snprintf(form, sizeof form, "%.*s", (int)(len - 9), name);
            int fi = dict_form_index(d, form);
            if (fi >= 0 && evi >= 0) {
                size_t k = (size_t)evi * d->nforms + (size_t)fi;
                bool fits = d->form_at_event[k] &&
                            (d->form_repeats[k] ? instance >= 1 && (!instrument || !*instrument ||
                                                                    strcmp(instrument, form) == 0)
                                                : instance == 0);
                if (!fits)
                    continue;
            }
        }
        char *arg = arena_printf(ar, "%s=%s", name, val);
        struct err e = {0};
        if (!arg)
            return ERR_NOMEM;
        if (cli_parse_assignment(d, ar, arg, event, instance, &ch[n], &e) == 0)
            n++;
        else
            reject(rep, r, record, name, "syntax", e.msg, json);
    }
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    int rc = store_put_changes(st, who, record, ch, n, reason, &res, &e);
    if (rc == ERR_INVALID && res.nissues) {
        for (size_t i = 0; i < res.nissues; i++)
            if (res.issues[i].level == STORE_ISSUE_HARD)
                reject(rep, r, record, res.issues[i].field, res.issues[i].rule, res.issues[i].msg,
                       json);
    } else if (rc == ERR_NOMEM || rc == ERR_IO || rc == ERR_INTERNAL) {
        store_put_result_free(&res);
        return rc;
    } else if (rc) {
        reject(rep, r, record, e.field[0] ? e.field : "-", err_info(rc)->name, e.msg, json);
    } else {
        rep->changed += res.nchanged;
        rep->calc += res.ncalc;
        rep->status += res.nstatus;
        rep->unchanged += res.nunchanged;
    }
    store_put_result_free(&res);
    return 0;
}

/* Parses the file into rows (allocated in ar; strings point into the parsed data). */
static int parse_rows(const char *path, const char *data, size_t len, struct arena *ar,
                      struct csv_table *t, json_t **jroot, struct row **rows, size_t *nrows,
                      struct err *e)
{
    size_t plen = strlen(path);
    if (plen > 5 && strcmp(path + plen - 5, ".json") == 0) {
        json_error_t je;
        *jroot = json_loadb(data, len, 0, &je);
        if (!*jroot)
            return err_set(e, ERR_INVALID, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        if (!json_is_array(*jroot))
            return err_set(e, ERR_INVALID, "%s: expected an array of records", path);
        *nrows = json_array_size(*jroot);
        *rows = arena_calloc(ar, *nrows + 1, sizeof **rows);
        for (size_t i = 0; *rows && i < *nrows; i++) {
            json_t *o = json_array_get(*jroot, i);
            if (!json_is_object(o))
                return err_set(e, ERR_INVALID, "%s: record %zu is not an object", path, i + 1);
            struct row *r = &(*rows)[i];
            r->line = i + 1;
            r->names = arena_calloc(ar, json_object_size(o) + 1, sizeof *r->names);
            r->values = arena_calloc(ar, json_object_size(o) + 1, sizeof *r->values);
            if (!r->names || !r->values)
                return err_set(e, ERR_NOMEM, "out of memory");
            const char *k;
            json_t *v;
            json_object_foreach(o, k, v)
            {
                const char *s = json_string_value(v);
                if (json_is_integer(v))
                    s = arena_printf(ar, "%lld", (long long)json_integer_value(v));
                else if (json_is_real(v))
                    s = arena_printf(ar, "%.15g", json_real_value(v));
                else if (json_is_null(v))
                    s = "";
                if (!s)
                    return err_set(e, ERR_INVALID,
                                   "%s: record %zu: '%s' is not a string or "
                                   "number",
                                   path, i + 1, k);
                r->names[r->n] = k;
                r->values[r->n++] = s;
            }
        }
        return *rows ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    }
    int rc = csv_table_parse(data, len, path, t, e);
    if (rc)
        return rc;
    *nrows = t->nrows;
    *rows = arena_calloc(ar, t->nrows + 1, sizeof **rows);
    if (!*rows)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->nrows; i++) {
        (*rows)[i] =
            (struct row){(const char **)t->header, (const char **)t->rows[i], t->ncols, t->line[i]};
    }
    return 0;
}

int cmd_import(int argc, char **argv)
{
    static const struct cli_opt_spec opts[] = {
        STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};
    struct cli_args a;
    if (cli_parse("import", argc, argv, opts, &a))
        return 2;
    if (a.help)
        return cli_print_help("import");
    if (a.npos != 1)
        return cli_usage_error("import", "expects one FILE.csv or FILE.json");
    const char *path = a.pos[0];
    bool json = cli_has(&a, "json");
    struct err e = {0};
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len, &e))
        return cli_fail("import", &e);
    unsigned char h[crypto_hash_sha256_BYTES];
    char sha[65];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(sha, sizeof sha, h, sizeof h);
    struct store *st = NULL;
    struct arena ar = ARENA_INIT;
    struct csv_table t = {0};
    json_t *jroot = NULL;
    struct row *rows = NULL;
    size_t nrows = 0;
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    struct report rep = {0};
    rep.errors = json_array();
    int rc = cli_store_open(&a, &st, &e);
    if (!rc)
        rc = parse_rows(path, data, len, &ar, &t, &jroot, &rows, &nrows, &e);
    if (!rc)
        rc = cli_login(st, &a, PERM_DATA_WRITE, &who, me, &e);
    who.source = "import";
    who.source_sha256 = sha;
    if (!rc)
        rc = store_batch_begin(st, &e);
    for (size_t i = 0; !rc && i < nrows; i++) {
        rep.rows++;
        rc = import_row(st, &who, &rows[i], cli_get(&a, "reason"), &rep, json, &ar);
        if (rc)
            err_set(&e, rc, "import stopped at row %zu", rows[i].line);
    }
    if (!rc && rep.rejected) {
        store_batch_rollback(st);
        rc = err_set(&e, ERR_INVALID, "%s: %zu value(s) rejected; nothing was imported", path,
                     rep.rejected);
    } else if (!rc) {
        rc = store_batch_commit(st, &e);
    } else if (st) {
        store_batch_rollback(st);
    }
    int status = 0;
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:O}", "file", path,
                              "sha256", sha, "imported", rc == 0, "rows", (json_int_t)rep.rows,
                              "changed", (json_int_t)rep.changed, "calc", (json_int_t)rep.calc,
                              "status", (json_int_t)rep.status, "unchanged",
                              (json_int_t)rep.unchanged, "rejected", rep.errors);
        cli_json_print(o);
    }
    if (rc)
        status = cli_fail("import", &e);
    else if (!json)
        printf("imported %s (sha256 %.16s…): %zu rows, %zu values changed, %zu calculated, "
               "%zu statuses, %zu unchanged\n",
               path, sha, rep.rows, rep.changed, rep.calc, rep.status, rep.unchanged);
    json_decref(rep.errors);
    json_decref(jroot);
    csv_table_free(&t);
    arena_free(&ar);
    free(data);
    store_close(st);
    return status;
}
