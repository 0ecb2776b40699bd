/* Every command's hooks, options and help text, for main.c's table (cli.h says what each hook
 * does and when cli_run calls it). One group per file in cli/. */
#ifndef IOHEME_CLI_COMMANDS_H
#define IOHEME_CLI_COMMANDS_H

#include "cli/cli.h"

/* The options of the study commands that take only the common ones: --db, --user, --json
 * (store_cli.c). */
extern const struct cli_opt_spec cmd_common_opts[];

/* cmd_help.c */
int cmd_help(struct cmd_ctx *ctx);
int cmd_version(struct cmd_ctx *ctx);
#define CMD_HELP_USAGE                                                                             \
    "usage: ioheme help [COMMAND]\n\nLists the commands, or shows COMMAND's help (same as "        \
    "'ioheme COMMAND --help').\n"

/* cmd_stats.c */
int cmd_stats(struct cmd_ctx *ctx);
extern const char CMD_STATS_USAGE[];

/* cmd_protocol.c */
extern const char CMD_PROTOCOL_USAGE[];
extern const struct cli_sub cmd_protocol_subs[];

/* cmd_serve.c */
int cmd_serve(struct cmd_ctx *ctx);
extern const char CMD_SERVE_USAGE[];
extern const struct cli_opt_spec cmd_serve_opts[];

/* cmd_init.c */
int cmd_init(struct cmd_ctx *ctx);
extern const char CMD_INIT_USAGE[];
extern const struct cli_opt_spec cmd_init_opts[];

/* cmd_site.c */
int cmd_timezone(struct cmd_ctx *ctx);
int cmd_timezone_check(struct cmd_ctx *ctx);
extern const char CMD_TIMEZONE_USAGE[];
extern const struct cli_opt_spec cmd_timezone_opts[];

/* cmd_sites.c */
int cmd_site(struct cmd_ctx *ctx);
int cmd_site_check(struct cmd_ctx *ctx);
extern const char CMD_SITE_USAGE[];
extern const struct cli_opt_spec cmd_site_opts[];
extern const struct cli_sub cmd_site_subs[];

/* cmd_user.c */
int cmd_user(struct cmd_ctx *ctx);
int cmd_user_check(struct cmd_ctx *ctx);
extern const char CMD_USER_USAGE[];
extern const struct cli_opt_spec cmd_user_opts[];
extern const struct cli_sub cmd_user_subs[];

/* cmd_screen.c */
int cmd_screen(struct cmd_ctx *ctx);
int cmd_screen_check(struct cmd_ctx *ctx);
int cmd_screen_prepare(struct cmd_ctx *ctx);
extern const char CMD_SCREEN_USAGE[];
extern const struct cli_opt_spec cmd_screen_opts[];

/* cmd_enroll.c */
int cmd_enroll(struct cmd_ctx *ctx);
int cmd_enroll_check(struct cmd_ctx *ctx);
int cmd_enroll_prepare(struct cmd_ctx *ctx);
int cmd_withdraw(struct cmd_ctx *ctx);
int cmd_withdraw_check(struct cmd_ctx *ctx);
extern const char CMD_ENROLL_USAGE[];
extern const char CMD_WITHDRAW_USAGE[];
extern const struct cli_opt_spec cmd_withdraw_opts[];

/* cmd_set.c */
int cmd_set(struct cmd_ctx *ctx);
int cmd_set_check(struct cmd_ctx *ctx);
int cmd_set_prepare(struct cmd_ctx *ctx);
int cmd_lock(struct cmd_ctx *ctx);
int cmd_lock_check(struct cmd_ctx *ctx);
extern const char CMD_SET_USAGE[];
extern const char CMD_LOCK_USAGE[];
extern const struct cli_opt_spec cmd_set_opts[];
extern const struct cli_opt_spec cmd_lock_opts[];

/* cmd_import.c */
int cmd_import(struct cmd_ctx *ctx);
int cmd_import_check(struct cmd_ctx *ctx);
int cmd_import_prepare(struct cmd_ctx *ctx);
extern const char CMD_IMPORT_USAGE[];
extern const struct cli_opt_spec cmd_import_opts[];

/* cmd_show.c */
int cmd_show(struct cmd_ctx *ctx);
int cmd_show_check(struct cmd_ctx *ctx);
int cmd_history(struct cmd_ctx *ctx);
int cmd_history_check(struct cmd_ctx *ctx);
extern const char CMD_SHOW_USAGE[];
extern const char CMD_HISTORY_USAGE[];

/* cmd_audit.c */
int cmd_audit(struct cmd_ctx *ctx);
int cmd_audit_check(struct cmd_ctx *ctx);
int cmd_backup(struct cmd_ctx *ctx);
int cmd_backup_check(struct cmd_ctx *ctx);
extern const char CMD_KEY_USAGE[];
extern const struct cli_opt_spec cmd_key_opts[];
extern const struct cli_sub cmd_key_subs[];
int cmd_key(struct cmd_ctx *ctx);
int cmd_key_check(struct cmd_ctx *ctx);
extern const char CMD_TOKEN_USAGE[];
extern const struct cli_opt_spec cmd_token_opts[];
extern const struct cli_sub cmd_token_subs[];
int cmd_token(struct cmd_ctx *ctx);
int cmd_token_check(struct cmd_ctx *ctx);
extern const char CMD_REDACT_USAGE[];
extern const struct cli_opt_spec cmd_redact_opts[];
int cmd_redact(struct cmd_ctx *ctx);
int cmd_redact_check(struct cmd_ctx *ctx);
extern const char CMD_MIGRATE_USAGE[];
extern const struct cli_opt_spec cmd_migrate_opts[];
int cmd_migrate(struct cmd_ctx *ctx);
int cmd_migrate_check(struct cmd_ctx *ctx);
extern const char CMD_RESTORE_USAGE[];
extern const struct cli_opt_spec cmd_restore_opts[];
int cmd_restore(struct cmd_ctx *ctx);
int cmd_restore_check(struct cmd_ctx *ctx);
extern const char CMD_AUDIT_USAGE[];
extern const char CMD_BACKUP_USAGE[];
extern const struct cli_opt_spec cmd_audit_opts[];
extern const struct cli_sub cmd_audit_subs[];

/* cmd_analysis.c */
int cmd_simulate(struct cmd_ctx *ctx);
int cmd_simulate_check(struct cmd_ctx *ctx);
int cmd_dataset(struct cmd_ctx *ctx);
int cmd_dataset_check(struct cmd_ctx *ctx);
extern const char CMD_SIMULATE_USAGE[];
extern const char CMD_DATASET_USAGE[];
extern const struct cli_opt_spec cmd_simulate_opts[];
extern const struct cli_opt_spec cmd_dataset_opts[];

/* cmd_quality.c */
int cmd_quality(struct cmd_ctx *ctx);
int cmd_quality_check(struct cmd_ctx *ctx);
extern const char CMD_QUALITY_USAGE[];

/* cmd_report.c */
int cmd_report(struct cmd_ctx *ctx);
int cmd_report_check(struct cmd_ctx *ctx);
extern const char CMD_REPORT_USAGE[];
extern const struct cli_opt_spec cmd_report_opts[];

/* cmd_query.c */
int cmd_query(struct cmd_ctx *ctx);
int cmd_query_check(struct cmd_ctx *ctx);
int cmd_query_prepare(struct cmd_ctx *ctx);
extern const char CMD_QUERY_USAGE[];
extern const struct cli_opt_spec cmd_query_opts[];
extern const struct cli_sub cmd_query_subs[];

/* cmd_export.c: one subcommand per format (odm; a sibling such as xpt adds its row to
 * cmd_export_subs and its case to cmd_export_check) */
int cmd_export_check(struct cmd_ctx *ctx);
int cmd_export_odm(struct cmd_ctx *ctx);
extern const char CMD_EXPORT_USAGE[];
extern const char CMD_EXPORT_ODM_USAGE[];
extern const struct cli_opt_spec cmd_export_odm_opts[];
extern const struct cli_sub cmd_export_subs[];

/* cmd_sdv.c */
int cmd_sdv(struct cmd_ctx *ctx);
int cmd_sdv_check(struct cmd_ctx *ctx);
extern const char CMD_SDV_USAGE[];
extern const struct cli_opt_spec cmd_sdv_opts[];
extern const struct cli_sub cmd_sdv_subs[];

/* cmd_sign.c */
int cmd_sign(struct cmd_ctx *ctx);
int cmd_sign_check(struct cmd_ctx *ctx);
extern const char CMD_SIGN_USAGE[];
extern const struct cli_opt_spec cmd_sign_opts[];

/* cmd_db.c */
int cmd_db(struct cmd_ctx *ctx);
int cmd_db_check(struct cmd_ctx *ctx);
extern const char CMD_DB_USAGE[];
extern const struct cli_opt_spec cmd_db_opts[];
extern const struct cli_sub cmd_db_subs[];

#endif
