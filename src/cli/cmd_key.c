/* `ioheme key status|rotate`: the key file that encrypts identifier fields (store keys.c). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"

const char CMD_KEY_USAGE[] =
    "usage: ioheme key status [--json]\n"
    "       ioheme key rotate --reason TEXT [--json]\n"
    "\n"
    "Identifier fields (the protocol's `Identifier? = y`, e.g. the hospital number) are stored\n"
    "encrypted, in the values and in the audit trail, with keys kept outside the database: the\n"
    "key file $IOHEME_KEY_FILE, else DATABASE.key (mode 0600; the first key is made when the\n"
    "first identifier is saved). `status` names the key file. `rotate` adds a key to it,\n"
    "re-encrypts every stored identifier value with the new key in one transaction, and keeps\n"
    "the old keys (the trail's rows, which never change, still need them); audited as\n"
    "key_rotate. Back the key file up apart from the database: without it the identifiers\n"
    "cannot be read (docs/operations.md). Admin only (settings).\n"
    "  --reason TEXT   why (required for rotate)\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

const struct cli_opt_spec cmd_key_opts[] = {STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};

const struct cli_sub cmd_key_subs[] = {
    {"status", NULL, NULL, NULL},
    {"rotate", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

int cmd_key_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos)
        return cli_usage_error(ctx->name, "unexpected argument '%s'", ctx->args.pos[0]);
    if (strcmp(ctx->sub->name, "rotate") == 0 && !cli_get(&ctx->args, "reason"))
        return cli_usage_error(ctx->name, "--reason TEXT is required");
    return 0;
}

int cmd_key(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    size_t n = 0;
    if (strcmp(ctx->sub->name, "rotate") == 0 &&
        store_key_rotate(ctx->st, &ctx->who, cli_get(a, "reason"), &n, &e) != 0)
        return cli_fail(ctx->name, &e);
    const char *path = store_key_file_path(ctx->st);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:I}", "key_file", path, "reencrypted", (json_int_t)n));
    else if (strcmp(ctx->sub->name, "rotate") == 0)
        printf("new key added to %s; %zu identifier value(s) re-encrypted with it\n", path, n);
    else
        printf("key file: %s\n", path);
    return 0;
}
