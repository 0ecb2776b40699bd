/* Every command's entry point and help text, for main.c's table. One group per file in cli/. */
#ifndef IOHEME_CLI_COMMANDS_H
#define IOHEME_CLI_COMMANDS_H

/* cmd_help.c */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
#define CMD_HELP_USAGE "usage: ioheme help [COMMAND]\n\nLists the commands, or shows COMMAND's help (same as 'ioheme COMMAND --help').\n"

/* cmd_stats.c */
int cmd_stats(int argc, char **argv);
extern const char CMD_STATS_USAGE[];

/* cmd_protocol.c */
int cmd_protocol(int argc, char **argv);
extern const char CMD_PROTOCOL_USAGE[];
/* cmd_serve.c */
int cmd_serve(int argc, char **argv);
extern const char CMD_SERVE_USAGE[];

#endif
