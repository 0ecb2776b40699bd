/* Every command's entry point and help text, for main.c's table. One group per file in cli/. */
#ifndef IOHEME_CLI_COMMANDS_H
#define IOHEME_CLI_COMMANDS_H

/* cmd_help.c */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
#define CMD_HELP_USAGE                                                                             \
    "usage: ioheme help [COMMAND]\n\nLists the commands, or shows COMMAND's help (same as "        \
    "'ioheme COMMAND --help').\n"

/* cmd_stats.c */
int cmd_stats(int argc, char **argv);
extern const char CMD_STATS_USAGE[];

/* cmd_protocol.c */
int cmd_protocol(int argc, char **argv);
extern const char CMD_PROTOCOL_USAGE[];
/* cmd_serve.c */
int cmd_serve(int argc, char **argv);
extern const char CMD_SERVE_USAGE[];

/* cmd_init.c */
int cmd_init(int argc, char **argv);
extern const char CMD_INIT_USAGE[];

/* cmd_user.c */
int cmd_user(int argc, char **argv);
extern const char CMD_USER_USAGE[];

/* cmd_screen.c */
int cmd_screen(int argc, char **argv);
extern const char CMD_SCREEN_USAGE[];

/* cmd_enroll.c */
int cmd_enroll(int argc, char **argv);
int cmd_withdraw(int argc, char **argv);
extern const char CMD_ENROLL_USAGE[];
extern const char CMD_WITHDRAW_USAGE[];

/* cmd_set.c */
int cmd_set(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
extern const char CMD_SET_USAGE[];
extern const char CMD_LOCK_USAGE[];

/* cmd_import.c */
int cmd_import(int argc, char **argv);
extern const char CMD_IMPORT_USAGE[];

/* cmd_show.c */
int cmd_show(int argc, char **argv);
int cmd_history(int argc, char **argv);
extern const char CMD_SHOW_USAGE[];
extern const char CMD_HISTORY_USAGE[];

/* cmd_audit.c */
int cmd_audit(int argc, char **argv);
int cmd_backup(int argc, char **argv);
extern const char CMD_AUDIT_USAGE[];
extern const char CMD_BACKUP_USAGE[];

/* cmd_analysis.c */
int cmd_simulate(int argc, char **argv);
int cmd_dataset(int argc, char **argv);
extern const char CMD_SIMULATE_USAGE[];
extern const char CMD_DATASET_USAGE[];

/* cmd_quality.c */
int cmd_quality(int argc, char **argv);
extern const char CMD_QUALITY_USAGE[];

/* cmd_report.c */
int cmd_report(int argc, char **argv);
extern const char CMD_REPORT_USAGE[];

#endif
