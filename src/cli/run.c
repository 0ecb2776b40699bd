/* The driver of every command: from the row of main.c's table, the one preamble (help,
 * subcommand, options, database, login) and the one cleanup, so no command writes them again.
 * The order is the one the commands kept by hand before: usage errors cost nothing, arguments
 * that need the protocol are read before the login, and the login is the last step before the
 * command's work. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/store_cli.h"

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_ctx_name(struct cmd_ctx *ctx, const char *suffix)
{
    strbuf_reset(&ctx->name_buf);
    strbuf_addf(&ctx->name_buf, "%s %s", ctx->cmd->name, suffix);
    if (ctx->name_buf.failed) {
        (void)fprintf(stderr, "ioheme: %s: out of memory\n", ctx->cmd->name);
        return err_info(ERR_NOMEM)->exit_status;
    }
    ctx->name = strbuf_str(&ctx->name_buf);
    return 0;
}

/* Picks the subcommand named by the first argument; prints the usage error otherwise. */
static int find_sub(struct cmd_ctx *ctx)
{
    const struct cli_cmd *c = ctx->cmd;
    if (ctx->argc < 1) {
        (void)fputs(c->usage, stderr);
        return 2;
    }
    for (const struct cli_sub *s = c->subs; s && s->name; s++)
        if (strcmp(s->name, ctx->argv[0]) == 0)
            ctx->sub = s;
    if (!ctx->sub) {
        struct strbuf names = STRBUF_INIT;
        for (const struct cli_sub *s = c->subs; s && s->name; s++)
            strbuf_addf(&names, "%s%s", s == c->subs ? "" : ", ", s->name);
        cli_usage_error(c->name, "unknown subcommand '%s' (%s)", ctx->argv[0], strbuf_str(&names));
        strbuf_release(&names);
        return 2;
    }
    ctx->argc--;
    ctx->argv++;
    return cli_ctx_name(ctx, ctx->sub->name);
}

/* Everything up to and including run; cli_run releases what it leaves in ctx. */
static int run_steps(struct cmd_ctx *ctx)
{
    const struct cli_cmd *c = ctx->cmd;
    int status;
    if (!(c->flags & CLI_OWN_HELP) && ctx->argc > 0 && is_help(ctx->argv[0]))
        return cli_print_help(c->name);
    if ((c->flags & CLI_SUBCOMMAND) && (status = find_sub(ctx)) != 0)
        return status;
    const struct cli_opt_spec *opts = ctx->sub && ctx->sub->opts ? ctx->sub->opts : c->opts;
    if (opts) {
        if (cli_parse(ctx->name, ctx->argc, ctx->argv, opts, &ctx->args) != 0)
            return 2;
        if (ctx->args.help && !(c->flags & CLI_OWN_HELP)) {
            if (!ctx->sub || !ctx->sub->usage)
                return cli_print_help(c->name);
            (void)fputs(ctx->sub->usage, stdout);
            return 0;
        }
    }
    if (c->check && (status = c->check(ctx)) != 0)
        return status;
    struct err e = {0};
    if (ctx->use_db && cli_store_open(&ctx->args, &ctx->st, &e) != 0)
        return cli_fail(ctx->name, &e);
    if (c->prepare && (status = c->prepare(ctx)) != 0)
        return status;
    if (ctx->use_db && (c->flags & CLI_LOGIN) &&
        cli_login(ctx->st, &ctx->args, ctx->action, ctx->is_password_renewal, &ctx->who, ctx->user,
                  &e) != 0)
        return cli_fail(ctx->name, &e);
    return ctx->sub && ctx->sub->run ? ctx->sub->run(ctx) : c->run(ctx);
}

int cli_run(const struct cli_cmd *c, int argc, char **argv)
{
    struct cmd_ctx ctx = {
        .cmd = c,
        .name = c->name,
        .argc = argc,
        .argv = argv,
        .use_db = (c->flags & CLI_DB) != 0,
        .action = c->action,
        .ar = ARENA_INIT,
    };
    int status = run_steps(&ctx);
    store_close(ctx.st);
    arena_free(&ctx.ar);
    strbuf_release(&ctx.name_buf);
    return status;
}
