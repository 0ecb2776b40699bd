/* Option parsing and error reporting shared by every command. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec *spec_find(const struct cli_opt_spec *spec, const char *name,
                                            size_t len)
{
    for (; spec && spec->name; spec++)
        if (strlen(spec->name) == len && strncmp(spec->name, name, len) == 0)
            return spec;
    return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt_spec *spec,
              struct cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            a->help = true;
            continue;
        }
        if (!options_done && strncmp(arg, "--", 2) == 0 && arg[2]) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct cli_opt_spec *s = spec_find(spec, name, len);
            if (!s) {
                cli_usage_error(cmd, "unknown option --%.*s", (int)len, name);
                return -1;
            }
            const char *value = "";
            if (s->takes_value) {
                if (eq) {
                    value = eq + 1;
                } else if (i + 1 < argc) {
                    value = argv[++i];
                } else {
                    cli_usage_error(cmd, "option --%s needs a value", s->name);
                    return -1;
                }
            } else if (eq) {
                cli_usage_error(cmd, "option --%s takes no value", s->name);
                return -1;
            }
            if (a->nopts == CLI_MAX_OPTS) {
                cli_usage_error(cmd, "too many options");
                return -1;
            }
            a->opt_name[a->nopts] = s->name;
            a->opt_value[a->nopts++] = value;
            continue;
        }
        if (a->npos == CLI_MAX_POS) {
            cli_usage_error(cmd, "too many arguments");
            return -1;
        }
        a->pos[a->npos++] = arg;
    }
    return 0;
}

const char *cli_get(const struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_name[i], name) == 0)
            v = a->opt_value[i];
    return v;
}

bool cli_has(const struct cli_args *a, const char *name)
{
    return cli_get(a, name) != NULL;
}

int cli_fail(const char *cmd, const struct err *e)
{
    (void)fprintf(stderr, "ioheme: %s: %s\n", cmd, e->msg[0] ? e->msg : err_info(e->code)->name);
    int st = err_info(e->code)->exit_status;
    return st ? st : 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    (void)fprintf(stderr, "ioheme: %s: ", cmd);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* the group name is the first word of cmd */
    size_t n = strcspn(cmd, " ");
    (void)fprintf(stderr, "\n(see 'ioheme %.*s --help')\n", (int)n, cmd);
    return 2;
}

const struct cli_cmd *cli_cmd_find(const char *name)
{
    for (const struct cli_cmd *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cli_print_help(const char *cmd_name)
{
    const struct cli_cmd *c = cli_cmd_find(cmd_name);
    if (!c) {
        (void)fprintf(stderr, "ioheme: help: no command '%s'\n", cmd_name);
        return 2;
    }
    (void)fputs(c->usage, stdout);
    return 0;
}

const char *cli_db_path(const struct cli_args *a)
{
    const char *db = cli_get(a, "db");
    if (db && *db)
        return db;
    db = getenv("IOHEME_DB");
    if (db && *db)
        return db;
    return "ioheme.db";
}
