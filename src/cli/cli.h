/* The command-line edge: the command table, the driver that runs a row of it, option parsing
 * and error reporting shared by every command. Commands live one group per file in cli/ and
 * are listed in main.c's table.
 *
 * Each hook of a row gets the command's context and returns the process exit status (0
 * success, otherwise err_info(code)->exit_status, 2 for usage errors); a check or prepare hook
 * that returns non-zero ends the command there, having printed why. */
#ifndef IOHEME_CLI_CLI_H
#define IOHEME_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "store/store.h"

struct cmd_ctx;
struct cli_opt_spec;

/* One subcommand of a CLI_SUBCOMMAND row ("user add", "protocol eval"). */
struct cli_sub {
    const char *name;
    const struct cli_opt_spec *opts; /* NULL: the row's */
    const char *usage;               /* for `CMD SUB --help`; NULL: the row's */
    int (*run)(struct cmd_ctx *ctx); /* NULL: the row's, which reads ctx->sub */
};

/* What a command's row asks of the driver (cli_run), as git's RUN_SETUP flags do. */
enum cli_cmd_flag {
    CLI_DB = 1 << 0,         /* open the study database (--db, $IOHEME_DB, ./ioheme.db) */
    CLI_LOGIN = 1 << 1,      /* log the acting user in for the row's action (with CLI_DB) */
    CLI_SUBCOMMAND = 1 << 2, /* the first argument names one of the row's subs */
    CLI_OWN_HELP = 1 << 3,   /* the command answers --help itself, wherever it is given */
};

struct cli_cmd {
    const char *name;
    int (*run)(struct cmd_ctx *ctx); /* NULL when each of its subs has a run */
    const char *summary;             /* one line for `ioheme help` */
    const char *usage;               /* full text for `ioheme CMD --help` */
    const struct cli_opt_spec *opts; /* parsed into ctx->args; NULL: run reads ctx->argv */
    unsigned flags;                  /* enum cli_cmd_flag */
    enum perm_action action;         /* what the login must allow (CLI_LOGIN) */
    const struct cli_sub *subs;      /* CLI_SUBCOMMAND: NULL-name terminated */
    /* Optional, before the database is opened: checks the arguments (usage errors), and may
     * choose another action or drop the database (ctx->use_db). */
    int (*check)(struct cmd_ctx *ctx);
    /* Optional, with the database open and before anyone logs in: reads what the arguments
     * need from the protocol (store_dict only), so a malformed argument costs no login. */
    int (*prepare)(struct cmd_ctx *ctx);
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

/* What one run of a command has: its arguments, and from the row's flags the open database
 * and the logged-in user. Filled by cli_run, which owns and releases all of it. */
struct cmd_ctx {
    const struct cli_cmd *cmd;
    const char *name;          /* for messages: "show", "user add", "screen --list" */
    const struct cli_sub *sub; /* CLI_SUBCOMMAND: the subcommand given */
    int argc;                  /* the arguments after the command's (and subcommand's) name */
    char **argv;
    struct cli_args args;     /* argv parsed against cmd->opts (zeroed when it has none) */
    bool use_db;              /* CLI_DB; check may drop it (report --dataset) */
    enum perm_action action;  /* the row's; check or prepare may choose another */
    bool is_password_renewal; /* check: the command changes the acting user's own password, so
                                 an expired password signs in for it (cli_login) */
    struct store *st;         /* open from prepare on when use_db, closed by cli_run */
    struct store_ctx who;     /* the logged-in user (source "cli") from run on, with CLI_LOGIN */
    char user[STORE_USERNAME_MAX + 1]; /* who.user's storage */
    struct arena ar;                   /* freed by cli_run: for what check/prepare hand run */
    void *data;                        /* the command's own state from check/prepare to run */
    struct strbuf name_buf;            /* name's storage when it is built */
};

/* Runs the command of row c on the arguments after its name, in the one order every command
 * keeps: --help, the subcommand, the options (cmd->opts), check, opening the database,
 * prepare, the login for ctx->action (nothing but the schema and protocol is read before it
 * succeeds; a wrong password counts toward the lockout, a refused role is audited as
 * "denied"), run; then closes the database. Failures before run are printed as
 * "ioheme: NAME: message". Returns the exit status. */
int cli_run(const struct cli_cmd *c, int argc, char **argv);

/* The row named name in cli_commands, or NULL. */
const struct cli_cmd *cli_cmd_find(const char *name);

/* Sets ctx->name to "<command> <suffix>" (e.g. "screen --list"); ERR_NOMEM status on failure. */
int cli_ctx_name(struct cmd_ctx *ctx, const char *suffix);

#endif
