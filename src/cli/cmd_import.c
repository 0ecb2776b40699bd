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
#include "formats/redcap.h"

const char CMD_IMPORT_USAGE[] =
    "usage: ioheme import FILE.csv|FILE.json [--reason TEXT] [--json]\n"
    "\n"
    "Imports values in REDCap's flat format (as exported by REDCap: record_id,\n"
    "redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, fields; checkboxes as\n"
    "field___code; form status as form_complete). Records must exist (screened). All rows are\n"
    "saved or none: every rejected value is listed with its row and the rule it breaks. Blank\n"
    "cells change nothing (so a row whose answer hides a stored value is refused: clear the\n"
    "value with 'ioheme set' first); calculated fields are recomputed, not imported. The\n"
    "audit trail records source 'import' and the file's SHA-256.\n"
    "  --reason TEXT   reason for changes to forms already marked complete\n";

struct report {
    size_t rows, changed, calc, status, unchanged, rejected;
    json_t *errors;
    bool json;
};

static void reject(void *ctx, size_t line, const char *record, const char *field, const char *rule,
                   const char *msg)
{
    struct report *rep = ctx;
    rep->rejected++;
    if (rep->json)
        json_array_append_new(rep->errors, json_pack("{s:I, s:s, s:s, s:s, s:s}", "row",
                                                     (json_int_t)line, "record", record, "field",
                                                     field, "rule", rule, "message", msg));
    else
        fprintf(stderr, "  row %zu, %s, %s: %s [%s]\n", line, record, field, msg, rule);
}

/* One row through the write path; a refused value is a rejection of the row, a failure of the
 * store (I/O, memory) stops the import. */
static int import_row(struct store *st, const struct store_ctx *who, const struct redcap_row *r,
                      const char *reason, struct report *rep)
{
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    int rc = store_put_changes(st, who, r->record, r->changes, r->n, reason, &res, &e);
    if (rc == ERR_INVALID && res.nissues) {
        for (size_t i = 0; i < res.nissues; i++)
            if (res.issues[i].level == STORE_ISSUE_HARD)
                reject(rep, r->line, r->record, res.issues[i].field, res.issues[i].rule,
                       res.issues[i].msg);
    } else if (rc == ERR_NOMEM || rc == ERR_IO || rc == ERR_INTERNAL || rc == ERR_BUSY) {
        store_put_result_free(&res);
        return rc;
    } else if (rc) {
        reject(rep, r->line, r->record, e.field[0] ? e.field : "-", err_info(rc)->name, e.msg);
    } else {
        rep->changed += res.nchanged;
        rep->calc += res.ncalc;
        rep->status += res.nstatus;
        rep->unchanged += res.nunchanged;
    }
    store_put_result_free(&res);
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
    if (csv_file_read_all(path, &data, &len, &e))
        return cli_fail("import", &e);
    unsigned char h[crypto_hash_sha256_BYTES];
    char sha[65];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(sha, sizeof sha, h, sizeof h);
    struct store *st = NULL;
    struct arena ar = ARENA_INIT;
    struct redcap_row *rows = NULL;
    size_t nrows = 0;
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    struct report rep = {.errors = json_array(), .json = json};
    size_t plen = strlen(path);
    bool is_json = plen > 5 && strcmp(path + plen - 5, ".json") == 0;
    int rc = cli_store_open(&a, &st, &e);
    if (!rc)
        rc = redcap_flat_read(store_dict(st), path, data, len, is_json, &ar, &rows, &nrows, reject,
                              &rep, &e);
    if (!rc)
        rc = cli_login(st, &a, PERM_DATA_WRITE, &who, me, &e);
    who.source = "import";
    who.source_sha256 = sha;
    if (!rc)
        rc = store_batch_begin(st, &e);
    rep.rows = nrows + rep.rejected; /* rows the reader could not place count too */
    for (size_t i = 0; !rc && i < nrows; i++) {
        rc = import_row(st, &who, &rows[i], cli_get(&a, "reason"), &rep);
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
    arena_free(&ar);
    free(data);
    store_close(st);
    return status;
}
