/* ioheme: one binary, git-style subcommands dispatched from one table.
 *
 * Adding a command is adding a row here and a function in cli/. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

const struct cli_cmd cli_commands[] = {
    {"help", cmd_help, "list the commands, or show one command's help", CMD_HELP_USAGE},
    {"version", cmd_version, "print the version", "usage: ioheme version\n"},
    {"stats", cmd_stats, "run one statistical method on a CSV file and print JSON",
     CMD_STATS_USAGE},
    {"protocol", cmd_protocol, "check or show the protocol; evaluate logic (eval, js)",
     CMD_PROTOCOL_USAGE},
    {"init", cmd_init, "create a study database with its protocol and first admin", CMD_INIT_USAGE},
    {"user", cmd_user, "add, list, disable, unlock users; change passwords", CMD_USER_USAGE},
    {"screen", cmd_screen, "add a patient to the screening log and check eligibility",
     CMD_SCREEN_USAGE},
    {"enroll", cmd_enroll, "enrol an eligible, consented patient (assigns the study ID)",
     CMD_ENROLL_USAGE},
    {"withdraw", cmd_withdraw, "mark an enrolled patient withdrawn", CMD_WITHDRAW_USAGE},
    {"set", cmd_set, "save values and form status of a record (validated, audited)", CMD_SET_USAGE},
    {"import", cmd_import, "import REDCap flat CSV/JSON: all rows or none", CMD_IMPORT_USAGE},
    {"show", cmd_show, "show a record's forms, statuses and values", CMD_SHOW_USAGE},
    {"history", cmd_history, "show every change of one field of a record", CMD_HISTORY_USAGE},
    {"audit", cmd_audit, "verify the audit trail's hash chain, or export it as CSV",
     CMD_AUDIT_USAGE},
    {"lock", cmd_lock, "lock a record against changes", CMD_LOCK_USAGE},
    {"unlock", cmd_unlock, "unlock a record (needs a reason)", CMD_LOCK_USAGE},
    {"backup", cmd_backup, "copy the database safely while in use (online backup)",
     CMD_BACKUP_USAGE},
    {"serve", cmd_serve, "serve the web application and JSON API", CMD_SERVE_USAGE},
    {"simulate", cmd_simulate, "fill the study with a synthetic cohort (docs/simulator.md)",
     CMD_SIMULATE_USAGE},
    {"dataset", cmd_dataset, "write the analysis dataset (CSV + data dictionary)",
     CMD_DATASET_USAGE},
    {"report", cmd_report, "run the analysis plan: report.html, results.json, figures",
     CMD_REPORT_USAGE},
    {"quality", cmd_quality, "list data-quality findings (values hidden by branching logic)",
     CMD_QUALITY_USAGE},
    {NULL, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return cmd_help(0, NULL) == 0 ? 2 : 2;
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(0, NULL);
    if (strcmp(name, "--version") == 0)
        return cmd_version(0, NULL);
    for (const struct cli_cmd *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            /* stats prints its method list with its help, so it handles --help itself */
            bool own_help = strcmp(c->name, "stats") == 0;
            for (int i = 2; i < argc && !own_help; i++) {
                if (strcmp(argv[i], "--") == 0)
                    break;
                /* `ioheme CMD --help` for commands without subcommands; commands with
                 * subcommands handle --help themselves to show the subcommand's help. */
                if ((strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) && i == 2)
                    return cli_print_help(c->name);
            }
            return c->run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "ioheme: '%s' is not a command. See 'ioheme help'.\n", name);
    return 2;
}
