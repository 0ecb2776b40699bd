/* `ioheme help` and `ioheme version`. */
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/commands.h"

int cmd_help(struct cmd_ctx *ctx)
{
    if (ctx->argc >= 1)
        return cli_print_help(ctx->argv[0]);
    printf("usage: ioheme COMMAND [ARGS]\n\n"
           "ioheme runs the study \"Application of Intraosseous Infusion in Hematologic\n"
           "Critical Patients\": data capture, audit trail, exports and analysis.\n\n"
           "Commands:\n");
    for (const struct cli_cmd *c = cli_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->summary);
    printf("\nCommon options: --db FILE (default $IOHEME_DB, else ./ioheme.db), --user NAME\n"
           "(default $IOHEME_USER; password from $IOHEME_PASSWORD or asked), --json.\n"
           "FILE may be a PostgreSQL URL (postgresql://user@host/db; several hosts and\n"
           "target_session_attrs=read-write for a standby that takes over), with the identifier\n"
           "key in $IOHEME_KEY_FILE (docs/operations.md, 'Running a study on PostgreSQL').\n"
           "'ioheme COMMAND --help' shows a command's help.\n\n"
           "Errors go to standard error as 'ioheme: COMMAND: message'. Exit status\n"
           "(docs/operations.md):");
    /* From the error table itself, so the list cannot drift from what commands return. */
    for (int code = 0; code > -ERR__COUNT; code--) {
        const struct err_info *in = err_info(code);
        printf("%s %d %s", code == 0 || code % 5 ? "" : "\n ", in->exit_status, in->name);
        printf(code == 1 - ERR__COUNT ? ".\n" : ",");
    }
    return 0;
}

int cmd_version(struct cmd_ctx *ctx)
{
    (void)ctx;
    printf("ioheme %s\n", IOHEME_VERSION);
    return 0;
}
