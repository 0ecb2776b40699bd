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

/* One rejected value, kept for --json's list (in the command's arena: the list outlives a
 * failed login, which a JSON array would leak). */
struct rejection {
    size_t line;
    const char *record, *field, *rule, *msg;
    struct rejection *next;
};

struct report {
    size_t rows, changed, calc, status, unchanged, rejected;
    struct rejection *first, **last;
    struct arena *ar;
    bool json;
};

static const char *dup_or_null(struct arena *ar, const char *s)
{
    return s ? arena_strdup(ar, s) : NULL;
}

static void reject(void *ctx, size_t line, const char *record, const char *field, const char *rule,
                   const char *msg)
{
    struct report *rep = ctx;
    rep->rejected++;
    if (!rep->json) {
        fprintf(stderr, "  row %zu, %s, %s: %s [%s]\n", line, record, field, msg, rule);
        return;
    }
    struct rejection *r = arena_alloc(rep->ar, sizeof *r);
    if (!r)
        return; /* as a JSON value that could not be made: left out of the list */
    *r = (struct rejection){line,
                            dup_or_null(rep->ar, record),
                            dup_or_null(rep->ar, field),
                            dup_or_null(rep->ar, rule),
                            dup_or_null(rep->ar, msg),
                            NULL};
    *rep->last = r;
    rep->last = &r->next;
}

static json_t *rejections_json(const struct report *rep)
{
    json_t *arr = json_array();
    for (const struct rejection *r = rep->first; arr && r; r = r->next)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s}", "row",
                                             (json_int_t)r->line, "record", r->record, "field",
                                             r->field, "rule", r->rule, "message", r->msg));
    return arr;
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

const struct cli_opt_spec cmd_import_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};

/* The file, read before the database is opened, and its rows, read against the protocol
 * before the login. */
struct import_plan {
    const char *path;
    char *data; /* in the command's arena */
    size_t len;
    char sha[65];
    bool is_json;
    struct redcap_row *rows;
    size_t nrows;
    struct report rep;
};

int cmd_import_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos != 1)
        return cli_usage_error("import", "expects one FILE.csv or FILE.json");
    struct err e = {0};
    struct import_plan *p = arena_calloc(&ctx->ar, 1, sizeof *p);
    if (!p) {
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail("import", &e);
    }
    ctx->data = p;
    p->path = a->pos[0];
    char *data = NULL;
    if (csv_file_read_all(p->path, &data, &p->len, &e))
        return cli_fail("import", &e);
    p->data = arena_alloc(&ctx->ar, p->len + 1);
    if (p->data)
        memcpy(p->data, data, p->len + 1);
    free(data);
    if (!p->data) {
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail("import", &e);
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)p->data, p->len);
    sodium_bin2hex(p->sha, sizeof p->sha, h, sizeof h);
    size_t plen = strlen(p->path);
    p->is_json = plen > 5 && strcmp(p->path + plen - 5, ".json") == 0;
    p->rep.json = cli_has(a, "json");
    p->rep.ar = &ctx->ar;
    p->rep.last = &p->rep.first;
    return 0;
}

/* Prints the outcome (JSON with --json, every row's rejection included) and returns the exit
 * status. */
static int import_done(struct import_plan *p, int rc, const struct err *e)
{
    struct report *rep = &p->rep;
    if (rep->json) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "file", p->path,
                              "sha256", p->sha, "imported", rc == 0, "rows", (json_int_t)rep->rows,
                              "changed", (json_int_t)rep->changed, "calc", (json_int_t)rep->calc,
                              "status", (json_int_t)rep->status, "unchanged",
                              (json_int_t)rep->unchanged, "rejected", rejections_json(rep));
        cli_json_print(o);
    }
    int status = 0;
    if (rc)
        status = cli_fail("import", e);
    else if (!rep->json)
        printf("imported %s (sha256 %.16s…): %zu rows, %zu values changed, %zu calculated, "
               "%zu statuses, %zu unchanged\n",
               p->path, p->sha, rep->rows, rep->changed, rep->calc, rep->status, rep->unchanged);
    return status;
}

int cmd_import_prepare(struct cmd_ctx *ctx)
{
    struct import_plan *p = ctx->data;
    struct err e = {0};
    int rc = redcap_flat_read(store_dict(ctx->st), p->path, p->data, p->len, p->is_json, &ctx->ar,
                              &p->rows, &p->nrows, reject, &p->rep, &e);
    p->rep.rows = p->nrows + p->rep.rejected; /* rows the reader could not place count too */
    return rc ? import_done(p, rc, &e) : 0;
}

int cmd_import(struct cmd_ctx *ctx)
{
    struct import_plan *p = ctx->data;
    struct store *st = ctx->st;
    struct err e = {0};
    struct store_ctx who = ctx->who;
    who.source = "import";
    who.source_sha256 = p->sha;
    int rc = store_batch_begin(st, &e);
    for (size_t i = 0; !rc && i < p->nrows; i++) {
        rc = import_row(st, &who, &p->rows[i], cli_get(&ctx->args, "reason"), &p->rep);
        if (rc)
            err_set(&e, rc, "import stopped at row %zu", p->rows[i].line);
    }
    if (!rc && p->rep.rejected) {
        store_batch_rollback(st);
        rc = err_set(&e, ERR_INVALID, "%s: %zu value(s) rejected; nothing was imported", p->path,
                     p->rep.rejected);
    } else if (!rc) {
        rc = store_batch_commit(st, &e);
    } else {
        store_batch_rollback(st);
    }
    return import_done(p, rc, &e);
}
