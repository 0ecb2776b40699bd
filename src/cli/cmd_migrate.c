/* `ioheme migrate --from SOURCE --to DEST`: a study between a SQLite file and PostgreSQL
 * (store_migrate), by an admin of the study: signed in on the SQLite source before anything is
 * copied, or on the new SQLite copy before it is kept. The move is audited in the SQLite
 * database involved. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"

const char CMD_MIGRATE_USAGE[] =
    "usage: ioheme migrate --from SOURCE --to DEST [--user NAME] [--json]\n"
    "\n"
    "Moves a study between a SQLite database file and PostgreSQL (postgres://user@host/db or\n"
    "postgresql://...; one of SOURCE and DEST each): into an empty PostgreSQL database, or\n"
    "back into a new SQLite file for an archive copy. Every table is copied row for row in one\n"
    "transaction, the audit trail with its hashes; tables that are append-only in SQLite (the\n"
    "trail, signatures, protocol versions) refuse UPDATE and DELETE in PostgreSQL too. At the\n"
    "end every table's row count is compared and the copy's audit trail is verified link by\n"
    "link; anything amiss fails the command (a new SQLite file is removed). The identifier key\n"
    "file stays beside the SQLite database (the copy holds the ciphertext).\n"
    "\n"
    "Needs an admin of the study (settings): signed in on the SQLite side (--user NAME or\n"
    "$IOHEME_USER; password from $IOHEME_PASSWORD). docs/operations.md, \"Moving a study to\n"
    "PostgreSQL\".\n";

const struct cli_opt_spec cmd_migrate_opts[] = {
    {"from", true}, {"to", true}, {"user", true}, {"json", false}, {NULL, false}};

int cmd_migrate_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error("migrate", "unexpected argument '%s'", a->pos[0]);
    const char *from = cli_get(a, "from"), *to = cli_get(a, "to");
    if (!from || !*from || !to || !*to)
        return cli_usage_error("migrate", "give --from SOURCE and --to DEST");
    if (store_is_postgres_url(from) == store_is_postgres_url(to))
        return cli_usage_error("migrate", "one of --from and --to must be a SQLite file and the "
                                          "other postgres://...");
    return 0;
}

/* Signs the user in on the SQLite database at path as an admin; audits what. */
static int sign_in(struct cmd_ctx *ctx, const char *path, const char *what, const char *detail,
                   struct err *e)
{
    struct cli_args a = ctx->args;
    struct store *st = NULL;
    int rc = store_open(path, &st, e);
    if (!rc)
        rc = cli_login(st, &a, PERM_SETTINGS, false, &ctx->who, ctx->user, e);
    if (!rc && detail)
        rc = store_audit_access(st, &ctx->who, "migrate", what, detail, e);
    store_close(st);
    return rc;
}

int cmd_migrate(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *from = cli_get(a, "from"), *to = cli_get(a, "to");
    bool to_pg = store_is_postgres_url(to);
    struct err e = {0};
    struct store_migrate_result res;
    memset(&res, 0, sizeof res);
    int rc = 0;
    /* the URL may carry a password: the trail names only the direction */
    if (to_pg)
        rc = sign_in(ctx, from, NULL, NULL, &e);
    if (!rc)
        rc = store_migrate(from, to, &res, &e);
    /* the source records the copy once it is made and verified (not each attempt) */
    if (!rc && to_pg)
        rc = sign_in(ctx, from, "migrate to postgresql", "copied to a PostgreSQL database", &e);
    if (!rc && !to_pg) {
        rc = sign_in(ctx, to, "migrate from postgresql", "made from a PostgreSQL copy of the study",
                     &e);
        if (rc)
            store_remove_files(to); /* not signed in: the copy is not kept */
    }
    if (rc)
        return cli_fail("migrate", &e);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:I, s:I, s:I, s:s}", "to", to_pg ? "postgresql" : to,
                                 "tables", (json_int_t)res.tables, "rows", (json_int_t)res.rows,
                                 "audit_rows", (json_int_t)res.audit_rows, "audit_head",
                                 res.head_hash));
    else
        printf("migrated %zu tables, %lld rows; the copy's audit trail verified: %lld rows, head "
               "%.16s…\n",
               res.tables, res.rows, res.audit_rows, res.head_hash);
    return 0;
}
