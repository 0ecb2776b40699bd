/* `ioheme redact`: personal data typed into a value taken out of the value and out of every
 * view and export of the audit trail (store_redact; P11-13). */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/store_cli.h"

const char CMD_REDACT_USAGE[] =
    "usage: ioheme redact RECORD EVENT[:INSTANCE] FIELD --reason TEXT [--value TEXT] [--json]\n"
    "\n"
    "For the exceptional case of personal data typed where it does not belong (a patient's\n"
    "name in a free-text note): FIELD's value at EVENT is replaced by --value (or cleared)\n"
    "through the usual checks, and every earlier value of it in the audit trail — and the\n"
    "replaced one — reads \"[redacted]\" in every view and export from then on (history, the\n"
    "casebook's trail, `audit export`, ODM). The redaction itself is audited (action redact:\n"
    "who, when, the field, how many values were masked, the reason). The trail's rows are never\n"
    "changed — `audit verify` still proves them — so the text stays only inside the database\n"
    "file and its backups (docs/security.md). Admin only (permission redact).\n"
    "\n"
    "  FIELD          the field (a checkbox option as field___code)\n"
    "  --value TEXT   what the value becomes (default: cleared)\n"
    "  --reason TEXT  why (required)\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

const struct cli_opt_spec cmd_redact_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {"value", true}, {NULL, false}};

int cmd_redact_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 3)
        return cli_usage_error("redact", "expects RECORD EVENT[:INSTANCE] FIELD");
    if (!cli_get(&ctx->args, "reason"))
        return cli_usage_error("redact", "--reason TEXT is required");
    return 0;
}

int cmd_redact(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    const char *ev = NULL;
    int inst = 0;
    size_t n = 0;
    struct store_put_result res;
    store_put_result_init(&res);
    int rc = cli_parse_event_arg(store_dict(ctx->st), &ctx->ar, a->pos[1], &ev, &inst, &e);
    if (!rc)
        rc = store_redact(ctx->st, &ctx->who, a->pos[0], ev, inst, a->pos[2], cli_get(a, "value"),
                          cli_get(a, "reason"), &n, &res, &e);
    if (rc) {
        cli_print_issues(stderr, &res);
        store_put_result_free(&res);
        return cli_fail("redact", &e);
    }
    store_put_result_free(&res);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:s, s:i, s:s, s:I}", "record", a->pos[0], "event", ev,
                                 "instance", inst, "field", a->pos[2], "masked", (json_int_t)n));
    else
        printf("%s %s: %s redacted; %zu audited value(s) now read \"%s\"\n", a->pos[0], ev,
               a->pos[2], n, STORE_REDACTED);
    return 0;
}
