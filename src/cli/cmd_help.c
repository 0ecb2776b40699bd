/* `ioheme help` and `ioheme version`. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"

int cmd_help(int argc, char **argv)
{
    if (argc >= 1)
        return cli_print_help(argv[0]);
    printf("usage: ioheme COMMAND [ARGS]\n\n"
           "ioheme runs the study \"Application of Intraosseous Infusion in Hematologic\n"
           "Critical Patients\": data capture, audit trail, exports and analysis.\n\n"
           "Commands:\n");
    for (const struct cli_cmd *c = cli_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->summary);
    printf("\nCommon options: --db FILE (default $IOHEME_DB, else ./ioheme.db), --user NAME\n"
           "(default $IOHEME_USER; password from $IOHEME_PASSWORD or asked), --json.\n"
           "'ioheme COMMAND --help' shows a command's help.\n");
    return 0;
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ioheme %s\n", IOHEME_VERSION);
    return 0;
}
