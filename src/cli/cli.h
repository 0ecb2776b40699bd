/* The command-line edge: the command table, option parsing and error reporting shared by every
 * command. Commands live one group per file in cli/ and are listed in main.c's table.
 *
 * A command's run() gets the arguments after its name and returns the process exit status
 * (0 success, otherwise err_info(code)->exit_status, 2 for usage errors). */
#ifndef IOHEME_CLI_CLI_H
#define IOHEME_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `ioheme help` */
    const char *usage;   /* full text for `ioheme CMD --help` */
};

/* The table in main.c, NULL-name terminated. */
extern const struct cli_cmd cli_commands[];

/* One option a command accepts: `--name VALUE` / `--name=VALUE`, or a flag `--name`. */
struct cli_opt_spec {
    const char *name; /* without the leading dashes */
    bool takes_value;
};

#define CLI_MAX_OPTS 48
#define CLI_MAX_POS 64

struct cli_args {
    const char *cmd; /* for messages: "stats km", "user add" */
    const char *opt_name[CLI_MAX_OPTS];
    const char *opt_value[CLI_MAX_OPTS]; /* "" for flags */
    size_t nopts;
    char *pos[CLI_MAX_POS]; /* positional arguments in order */
    size_t npos;
    bool help; /* --help or -h was given */
};

/* Parses argv against spec (NULL-name terminated). Unknown options, a missing value and too
 * many positionals are reported on stderr as "ioheme: CMD: ..." and return -1. `--` ends
 * options. */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt_spec *spec,
              struct cli_args *a);
/* The option's value (last one given wins), or NULL when absent. */
const char *cli_get(const struct cli_args *a, const char *name);
bool cli_has(const struct cli_args *a, const char *name);

/* Prints "ioheme: CMD: message" to stderr and returns the exit status for e->code. */
int cli_fail(const char *cmd, const struct err *e);
/* Prints "ioheme: CMD: <formatted>" and the usage hint, returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the command's full help text to stdout; returns 0. */
int cli_print_help(const char *cmd_name);

/* The database path: --db, else $IOHEME_DB, else ./ioheme.db. */
const char *cli_db_path(const struct cli_args *a);

#endif
