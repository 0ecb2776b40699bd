/* `ioheme audit verify|export` and `ioheme backup`: checking and copying what the store keeps.
 * Each acts as a logged-in user with the permission docs/security.md gives it; what leaves the
 * store (an export, a backup) is audited with the user's name, the output's name and row counts.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"

const char CMD_AUDIT_USAGE[] =
    "usage: ioheme audit verify [--json]\n"
    "       ioheme audit export [--out FILE.csv]\n"
    "\n"
    "verify recomputes the audit trail's hash chain (docs/security.md) and reports the first\n"
    "edited, inserted or deleted row; exits 10 when the trail is broken. It prints the chain\n"
    "head (row count and last hash): write it down or print it on reports to anchor the trail.\n"
    "export writes the whole trail as CSV (to standard output without --out) and records the\n"
    "export in the trail (action export: who, the file's name, the number of rows).\n"
    "\n"
    "verify needs a role with audit_verify (admin, data_manager); export needs audit_read\n"
    "(admin, investigator, monitor, data_manager).\n"
    "  --db FILE     database (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --user NAME   acting user (default $IOHEME_USER); password from $IOHEME_PASSWORD,\n"
    "                else asked on the terminal\n";

const char CMD_BACKUP_USAGE[] =
    "usage: ioheme backup DEST.db [--db FILE] [--user NAME] [--json]\n"
    "\n"
    "Copies the database to DEST.db with SQLite's online backup: safe while ioheme is in use\n"
    "(a plain cp of a database in WAL mode is not). Refuses to overwrite DEST.db. Then verifies\n"
    "the copy's audit trail and prints its head. The backup is recorded in the trail before the\n"
    "copy is made (action backup: who, DEST's file name), so the copy's last row is its own\n"
    "record; a backup that fails leaves no file behind.\n"
    "\n"
    "A backup is a full copy — identifiers, users' password hashes, the trail — so it needs a\n"
    "role with both export and audit_verify: admin or data_manager.\n"
    "  --db FILE     database (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --user NAME   acting user (default $IOHEME_USER); password from $IOHEME_PASSWORD,\n"
    "                else asked on the terminal\n";

static int verify(struct store *st, bool json)
{
    struct store_verify_result r;
    struct err e = {0};
    int rc = store_audit_verify(st, &r, &e);
    if (rc && rc != ERR_INTEGRITY)
        return cli_fail("audit verify", &e);
    /* then every valid signature against the data it signed */
    size_t nvalid = 0, ninvalid = 0, nbad = 0;
    struct err se = {0};
    int src = store_signatures_verify(st, &nvalid, &ninvalid, &nbad, &se);
    if (src && src != ERR_INTEGRITY)
        return cli_fail("audit verify", &se);
    if (json) {
        json_t *o = json_pack("{s:b, s:I, s:{s:I, s:I, s:I}}", "intact", !rc && !src, "rows",
                              (json_int_t)r.nrows, "signatures", "valid", (json_int_t)nvalid,
                              "invalidated", (json_int_t)ninvalid, "mismatched", (json_int_t)nbad);
        if (rc) {
            json_object_set_new(o, "first_bad_id", json_integer(r.first_bad_id));
            json_object_set_new(o, "reason", json_string(r.reason));
        } else {
            json_object_set_new(o, "head", json_string(r.head_hash));
        }
        cli_json_print(o);
    } else if (!rc) {
        printf("audit trail intact: %lld rows, head %s\n", r.nrows, r.head_hash);
        printf("signatures: %zu valid, %zu invalidated by later changes, %zu not matching their "
               "data\n",
               nvalid, ninvalid, nbad);
    }
    if (rc)
        return cli_fail("audit verify", &e);
    return src ? cli_fail("audit verify", &se) : 0;
}

/* Writes the trail as CSV to --out or stdout, then audits the export (the export's own row is
 * not in the file it describes). */
static int export(struct store *st, const struct store_ctx *who, const struct cli_args *a)
{
    const char *cmd = "audit export";
    struct err e = {0};
    const char *out = cli_get(a, "out");
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        err_set(&e, ERR_IO, "%s: cannot write", out);
        return cli_fail(cmd, &e);
    }
    long long nrows = 0;
    int rc = store_audit_export_csv(st, f, &nrows, &e);
    if (out && fclose(f) != 0 && !rc)
        rc = err_set(&e, ERR_IO, "%s: write failed", out);
    else if (!out && fflush(stdout) != 0 && !rc)
        rc = err_set(&e, ERR_IO, "standard output: write failed");
    struct strbuf detail = STRBUF_INIT;
    if (out)
        cli_add_basename(&detail, out);
    else
        strbuf_adds(&detail, "(standard output)");
    strbuf_addf(&detail, ": %lld rows", nrows);
    if (!rc && detail.failed)
        rc = err_set(&e, ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_audit_access(st, who, "export", cmd, strbuf_str(&detail), &e);
    strbuf_release(&detail);
    return rc ? cli_fail(cmd, &e) : 0;
}

const struct cli_opt_spec cmd_audit_opts[] = {
    STORE_CLI_COMMON_OPTS, {"site", true}, {"out", true}, {NULL, false}};
const struct cli_sub cmd_audit_subs[] = {
    {"verify", NULL, NULL, NULL}, {"export", NULL, NULL, NULL}, {NULL, NULL, NULL, NULL}};

int cmd_audit_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos)
        return cli_usage_error(ctx->name, "unexpected argument '%s'", ctx->args.pos[0]);
    if (strcmp(ctx->sub->name, "verify") == 0)
        ctx->action = PERM_AUDIT_VERIFY;
    return 0;
}

int cmd_audit(struct cmd_ctx *ctx)
{
    if (strcmp(ctx->sub->name, "verify") == 0)
        return verify(ctx->st, cli_has(&ctx->args, "json"));
    return export(ctx->st, &ctx->who, &ctx->args);
}

int cmd_backup_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 1)
        return cli_usage_error("backup", "expects DEST.db");
    return 0;
}

int cmd_backup(struct cmd_ctx *ctx)
{
    const char *dest = ctx->args.pos[0];
    struct err e = {0};
    /* export for the copy leaving the store (the row's action), audit_verify for the whole trail
     * it carries: the table gives both only to admin and data_manager (a statistician exports
     * de-identified analysis data, not password hashes and identifiers) */
    int rc = store_authorize(ctx->st, &ctx->who, PERM_AUDIT_VERIFY, &e);
    struct store_verify_result r = {0};
    if (!rc)
        rc = store_backup(ctx->st, &ctx->who, dest, &r, &e);
    if (rc)
        return cli_fail("backup", &e);
    if (cli_has(&ctx->args, "json"))
        cli_json_print(json_pack("{s:s, s:b, s:I, s:s}", "backup", dest, "intact", 1, "rows",
                                 (json_int_t)r.nrows, "head", r.head_hash));
    else
        printf("backed up to %s: audit trail intact, %lld rows, head %s\n", dest, r.nrows,
               r.head_hash);
    return 0;
}

const char CMD_RESTORE_USAGE[] =
    "usage: ioheme restore BACKUP.db --db FILE [--force] [--user NAME] [--json]\n"
    "\n"
    "Puts a backup (made by `ioheme backup`) back as the database FILE, and proves it: the\n"
    "backup is checked read only (SQLite's integrity_check, every table's row count and\n"
    "SHA-256), copied to FILE.restoring and synced, the copy checked the same way and compared\n"
    "with the backup table by table, opened (an older backup is upgraded) and its audit chain\n"
    "verified. Then you sign in as an admin of the backup, the restore is recorded in the\n"
    "restored trail (action restore, naming the backup), and the copy is renamed to FILE. The\n"
    "backup file is never written to; a restore that fails leaves FILE as it was.\n"
    "\n"
    "Stop `ioheme serve` and every command using FILE first (a FILE in use is refused).\n"
    "  --db FILE     the database to restore (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --force       replace an existing FILE, keeping it as FILE.before-restore\n"
    "  --user NAME   acting user (default $IOHEME_USER): an admin of the backup; password from\n"
    "                $IOHEME_PASSWORD, else asked\n"
    "  --json        the result as JSON\n";

const struct cli_opt_spec cmd_restore_opts[] = {
    STORE_CLI_COMMON_OPTS, {"force", false}, {NULL, false}};

int cmd_restore_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 1)
        return cli_usage_error("restore", "expects BACKUP.db");
    return 0;
}

int cmd_restore(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *backup = a->pos[0];
    const char *dest = cli_db_path(a);
    bool force = cli_has(a, "force");
    struct err e = {0};
    struct store_restore_result res;
    struct store *staged = NULL;
    int rc = store_restore_stage(backup, dest, force, &res, &staged, &e);
    /* the sign-in goes to the staged copy: the backup itself never changes */
    if (!rc && cli_login(staged, a, PERM_SETTINGS, false, &ctx->who, ctx->user, &e) != 0) {
        store_restore_abort(staged, dest);
        rc = e.code;
    } else if (!rc) {
        rc = store_restore_commit(staged, &ctx->who, backup, dest, force, &res, &e);
    }
    if (rc) {
        store_restore_result_free(&res);
        return cli_fail("restore", &e);
    }
    long long rows = 0;
    for (size_t i = 0; i < res.ntables; i++)
        rows += res.tables[i].rows;
    if (cli_has(a, "json")) {
        json_t *tables = json_array();
        for (size_t i = 0; i < res.ntables; i++)
            json_array_append_new(tables, json_pack("{s:s, s:I, s:s}", "table", res.tables[i].table,
                                                    "rows", (json_int_t)res.tables[i].rows,
                                                    "sha256", res.tables[i].sha256));
        json_t *o =
            json_pack("{s:s, s:s, s:b, s:I, s:o}", "restored", dest, "from", backup, "intact", 1,
                      "audit_rows", (json_int_t)res.verify.nrows, "tables", tables);
        json_object_set_new(o, "previous",
                            res.kept_previous ? json_string(res.previous) : json_null());
        cli_json_print(o);
    } else {
        printf("restored %s from %s: %zu tables, %lld rows, each table's count and SHA-256 equal "
               "to the backup's; audit trail intact (%lld rows)\n",
               dest, backup, res.ntables, rows, res.verify.nrows);
        if (res.kept_previous)
            printf("the database it replaced is kept as %s\n", res.previous);
    }
    store_restore_result_free(&res);
    return 0;
}
