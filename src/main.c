/* ioheme: one binary, git-style subcommands dispatched from one table.
 *
 * Adding a command is adding a row here and its hooks in cli/. A row says what the command
 * needs (cli.h): its options, the database, a login and for which action, subcommands, its
 * own help; cli_run does those steps, in one order, for every command. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/commands.h"

/* A row's name, run hook, line for `ioheme help` and full help; then what it needs. */
#define CMD(name_, run_, summary_, usage_)                                                         \
    .name = (name_), .run = (run_), .summary = (summary_), .usage = (usage_)
/* the study commands: the database, and a user allowed to do action */
#define STUDY(act) .flags = CLI_DB | CLI_LOGIN, .action = (act)

const struct cli_cmd cli_commands[] = {
    {CMD("help", cmd_help, "list the commands, or show one command's help", CMD_HELP_USAGE)},
    {CMD("version", cmd_version, "print the version", "usage: ioheme version\n")},
    /* its help lists the methods, whatever the method given */
    {CMD("stats", cmd_stats, "run one statistical method on a CSV file and print JSON",
         CMD_STATS_USAGE),
     .flags = CLI_OWN_HELP},
    {CMD("protocol", NULL, "check, show or diff the protocol; evaluate logic (eval, js)",
         CMD_PROTOCOL_USAGE),
     .flags = CLI_SUBCOMMAND, .subs = cmd_protocol_subs},
    /* no database to open: it creates one */
    {CMD("init", cmd_init, "create a study database with its protocol and first admin",
         CMD_INIT_USAGE),
     .opts = cmd_init_opts},
    /* showing needs a login only; changing needs settings (the check hook) */
    {CMD("timezone", cmd_timezone, "show or change the site time zone (admin; audited)",
         CMD_TIMEZONE_USAGE),
     .opts = cmd_timezone_opts, STUDY(PERM_NONE), .check = cmd_timezone_check},
    /* list needs a login; add and move site_manage (the check hook) */
    {CMD("site", cmd_site, "the sites of a multi-centre study: list, add, move a record",
         CMD_SITE_USAGE),
     .opts = cmd_site_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND,
     .action = PERM_SITE_MANAGE, .subs = cmd_site_subs, .check = cmd_site_check},
    /* passwd of oneself needs only a login (the check hook) */
    {CMD("user", cmd_user,
         "users: add, list, disable, unlock, passwords, roles, sites, policy; access report",
         CMD_USER_USAGE),
     .opts = cmd_user_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND,
     .action = PERM_USER_MANAGE, .subs = cmd_user_subs, .check = cmd_user_check},
    /* one's own tokens need a login only; another user's user_manage (the check hook) */
    {CMD("token", cmd_token, "API tokens: new, list, revoke ($IOHEME_TOKEN signs commands in)",
         CMD_TOKEN_USAGE),
     .opts = cmd_token_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_NONE,
     .subs = cmd_token_subs, .check = cmd_token_check},
    /* --list needs data_read (the check hook) */
    {CMD("screen", cmd_screen, "add a patient to the screening log and check eligibility",
         CMD_SCREEN_USAGE),
     .opts = cmd_screen_opts, STUDY(PERM_SCREEN), .check = cmd_screen_check,
     .prepare = cmd_screen_prepare},
    {CMD("enroll", cmd_enroll, "enrol an eligible, consented patient (assigns the study ID)",
         CMD_ENROLL_USAGE),
     .opts = cmd_common_opts, STUDY(PERM_ENROLL), .check = cmd_enroll_check,
     .prepare = cmd_enroll_prepare},
    {CMD("withdraw", cmd_withdraw, "mark an enrolled patient withdrawn", CMD_WITHDRAW_USAGE),
     .opts = cmd_withdraw_opts, STUDY(PERM_DATA_WRITE), .check = cmd_withdraw_check},
    /* only a status change needs form_status instead (the prepare hook) */
    {CMD("set", cmd_set, "save values and form status of a record (validated, audited)",
         CMD_SET_USAGE),
     .opts = cmd_set_opts, STUDY(PERM_DATA_WRITE), .check = cmd_set_check,
     .prepare = cmd_set_prepare},
    {CMD("import", cmd_import, "import REDCap records (CSV, JSON, XML) or ODM: all rows or none",
         CMD_IMPORT_USAGE),
     .opts = cmd_import_opts, STUDY(PERM_DATA_WRITE), .check = cmd_import_check,
     .prepare = cmd_import_prepare},
    {CMD("show", cmd_show, "show a record's forms, statuses and values", CMD_SHOW_USAGE),
     .opts = cmd_common_opts, STUDY(PERM_DATA_READ), .check = cmd_show_check},
    {CMD("history", cmd_history, "show every change of one field of a record", CMD_HISTORY_USAGE),
     .opts = cmd_common_opts, STUDY(PERM_DATA_READ), .check = cmd_history_check},
    /* verify needs audit_verify instead (the check hook) */
    {CMD("audit", cmd_audit, "verify the audit trail's hash chain, or export it as CSV",
         CMD_AUDIT_USAGE),
     .opts = cmd_audit_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND,
     .action = PERM_AUDIT_READ, .subs = cmd_audit_subs, .check = cmd_audit_check},
    /* each subcommand's action is chosen by the check hook; the store decides again */
    {CMD("query", cmd_query, "raise, answer, close, reopen and list queries on the data",
         CMD_QUERY_USAGE),
     .opts = cmd_query_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_DATA_READ,
     .subs = cmd_query_subs, .check = cmd_query_check, .prepare = cmd_query_prepare},
    {CMD("sdv", cmd_sdv, "verify values against source documents; SDV progress against the plan",
         CMD_SDV_USAGE),
     .opts = cmd_sdv_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_DATA_READ,
     .subs = cmd_sdv_subs, .check = cmd_sdv_check},
    /* sign, or data_read for --list (the check hook); the store checks the password again */
    {CMD("sign", cmd_sign, "sign a casebook or the study electronically; list signatures",
         CMD_SIGN_USAGE),
     .opts = cmd_sign_opts, STUDY(PERM_SIGN), .check = cmd_sign_check},
    /* status and checklist need a login; each change its own action (the check hook) */
    {CMD("db", cmd_db, "database state: status, checklist, freeze, lock, unlock", CMD_DB_USAGE),
     .opts = cmd_db_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_DATA_READ,
     .subs = cmd_db_subs, .check = cmd_db_check},
    {CMD("lock", cmd_lock, "lock a record, or one form of it, against changes", CMD_LOCK_USAGE),
     .opts = cmd_lock_opts, STUDY(PERM_LOCK), .check = cmd_lock_check},
    {CMD("key", cmd_key, "the key file that encrypts identifier fields: status, rotate",
         CMD_KEY_USAGE),
     .opts = cmd_key_opts, .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_SETTINGS,
     .subs = cmd_key_subs, .check = cmd_key_check},
    {CMD("redact", cmd_redact,
         "redact personal data typed into a value, in every view of the trail", CMD_REDACT_USAGE),
     .opts = cmd_redact_opts, STUDY(PERM_REDACT), .check = cmd_redact_check},
    {CMD("unlock", cmd_lock, "unlock a record or a form (needs a reason)", CMD_LOCK_USAGE),
     .opts = cmd_lock_opts, STUDY(PERM_UNLOCK), .check = cmd_lock_check},
    /* export and, in the command, audit_verify: the copy carries the whole trail */
    {CMD("backup", cmd_backup, "copy the database safely while in use (online backup)",
         CMD_BACKUP_USAGE),
     .opts = cmd_common_opts, STUDY(PERM_EXPORT), .check = cmd_backup_check},
    /* no CLI_DB: the database may not exist; it signs in against the staged copy itself */
    {CMD("restore", cmd_restore, "put a backup back as the database, verified table by table",
         CMD_RESTORE_USAGE),
     .opts = cmd_restore_opts, .check = cmd_restore_check},
    /* no CLI_DB: two databases, one of them PostgreSQL; it signs in on the SQLite side */
    {CMD("migrate", cmd_migrate, "move a study between SQLite and PostgreSQL, verified",
         CMD_MIGRATE_USAGE),
     .opts = cmd_migrate_opts, .check = cmd_migrate_check},
    /* the web server opens the database once per worker thread and logs users in itself */
    {CMD("serve", cmd_serve, "serve the web application and JSON API", CMD_SERVE_USAGE),
     .opts = cmd_serve_opts},
    /* data_write and, in the command, screen and enroll */
    {CMD("simulate", cmd_simulate, "fill the study with a synthetic cohort (docs/simulator.md)",
         CMD_SIMULATE_USAGE),
     .opts = cmd_simulate_opts, STUDY(PERM_DATA_WRITE), .check = cmd_simulate_check},
    {CMD("dataset", cmd_dataset,
         "write the analysis dataset (CSV + dictionary; Stata, SPSS, SAS, R)", CMD_DATASET_USAGE),
     .opts = cmd_dataset_opts, STUDY(PERM_EXPORT), .check = cmd_dataset_check},
    /* standard formats, one subcommand each (odm, redcap, xpt) */
    {CMD("export", NULL, "export the study: CDISC ODM (odm), REDCap (redcap), SDTM XPT (xpt)",
         CMD_EXPORT_USAGE),
     .flags = CLI_DB | CLI_LOGIN | CLI_SUBCOMMAND, .action = PERM_EXPORT, .subs = cmd_export_subs,
     .check = cmd_export_check},
    /* analyse and, in the command, export; with --dataset no database (the check hook) */
    {CMD("report", cmd_report, "run the analysis plan: report.html, results.json, figures",
         CMD_REPORT_USAGE),
     .opts = cmd_report_opts, STUDY(PERM_ANALYSE), .check = cmd_report_check},
    {CMD("quality", cmd_quality, "list data-quality findings (values hidden by branching logic)",
         CMD_QUALITY_USAGE),
     .opts = cmd_common_opts, STUDY(PERM_DATA_READ), .check = cmd_quality_check},
    {.name = NULL},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_run(cli_cmd_find("help"), 0, NULL);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cli_run(cli_cmd_find("help"), 0, NULL);
    if (strcmp(name, "--version") == 0)
        return cli_run(cli_cmd_find("version"), 0, NULL);
    const struct cli_cmd *c = cli_cmd_find(name);
    if (!c) {
        (void)fprintf(stderr, "ioheme: '%s' is not a command. See 'ioheme help'.\n", name);
        return 2;
    }
    int rc = cli_run(c, argc - 2, argv + 2);
    /* Output to stdout is written with unchecked printf/fputs calls (their results are cast
     * away); a failure there (a full disk under `ioheme export > file`, a closed pipe) is
     * caught here, once, as git's run_builtin does: the command then fails. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        (void)fprintf(stderr, "ioheme: %s: writing the output failed: %s\n", name, strerror(errno));
        return rc ? rc : err_info(ERR_IO)->exit_status;
    }
    return rc;
}
