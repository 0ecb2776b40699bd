/* `ioheme token new|list|revoke`: API tokens from the command line (store/sessions.h), the
 * same tokens as POST /api/v1/tokens makes. A token signs a script's commands in
 * ($IOHEME_TOKEN, cli_login) without a password in its environment, and without an argon2id
 * check per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"
#include "store/sessions.h"

const char CMD_TOKEN_USAGE[] =
    "usage: ioheme token new [--redcap] [--json]\n"
    "       ioheme token list [--for NAME] [--json]\n"
    "       ioheme token revoke ID [--for NAME] [--json]\n"
    "\n"
    "API tokens, the same as POST /api/v1/tokens makes (docs/api.md). A token is a secret\n"
    "that signs its user in: on the API as `Authorization: Bearer TOKEN`\n"
    "(or REDCap's token=), and for the commands as $IOHEME_TOKEN, so a script or a nightly\n"
    "export needs no password in its environment and pays no password check per command.\n"
    "It expires after 90 days without use; each use moves that on. Only its SHA-256 is kept.\n"
    "  new       prints a new token for the acting user on standard output, once (audited as\n"
    "            api_token); --redcap makes it 32 upper-case hex characters, the shape\n"
    "            REDCap's client libraries check\n"
    "  list      the acting user's unexpired tokens: ID (the start of its hash, not the token),\n"
    "            creation and expiry; --for NAME another user's (admin: user_manage)\n"
    "  revoke    ends the token ID at once (audited); --for NAME another user's (admin)\n"
    "With $IOHEME_TOKEN set, a command signs in as the token's user (a --user or $IOHEME_USER\n"
    "naming someone else is refused); $IOHEME_PASSWORD, when set, wins over it. A token use\n"
    "writes no login row (as on the API): what each command changes still names the user.\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

const struct cli_opt_spec cmd_token_opts[] = {
    STORE_CLI_COMMON_OPTS, {"redcap", false}, {"for", true}, {NULL, false}};

const struct cli_sub cmd_token_subs[] = {
    {"new", NULL, NULL, NULL},
    {"list", NULL, NULL, NULL},
    {"revoke", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

int cmd_token_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    bool is_revoke = strcmp(ctx->sub->name, "revoke") == 0;
    if (is_revoke && a->npos != 1)
        return cli_usage_error(ctx->name, "expects one token ID (see 'token list')");
    if (!is_revoke && a->npos)
        return cli_usage_error(ctx->name, "unexpected argument '%s'", a->pos[0]);
    if (strcmp(ctx->sub->name, "new") == 0 && cli_get(a, "for"))
        return cli_usage_error(ctx->name, "makes a token for the acting user only (no --for)");
    if (strcmp(ctx->sub->name, "new") != 0 && cli_has(a, "redcap"))
        return cli_usage_error(ctx->name, "--redcap is for 'token new'");
    /* one's own tokens need a sign-in only; another user's, user management */
    ctx->action = cli_get(a, "for") ? PERM_USER_MANAGE : PERM_NONE;
    return 0;
}

int cmd_token(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    const char *user = cli_get(a, "for") ? cli_get(a, "for") : ctx->who.user;
    bool json = cli_has(a, "json");
    struct err e = {0};
    if (strcmp(sub, "new") == 0) {
        char tok[65];
        if (store_api_token_create(ctx->st, &ctx->who, user, cli_has(a, "redcap"), tok, &e) != 0)
            return cli_fail(ctx->name, &e);
        if (json)
            cli_json_print(json_pack("{s:s, s:s, s:I}", "token", tok, "user", user,
                                     "idle_timeout_s", (json_int_t)STORE_API_TOKEN_TTL_S));
        else
            printf("%s\n", tok);
        sodium_memzero(tok, sizeof tok);
        return 0;
    }
    if (strcmp(sub, "revoke") == 0) {
        if (store_api_token_revoke(ctx->st, &ctx->who, user, a->pos[0], &e) != 0)
            return cli_fail(ctx->name, &e);
        if (json)
            cli_json_print(
                json_pack("{s:s, s:s, s:b}", "user", user, "id", a->pos[0], "revoked", 1));
        else
            printf("token %s of %s revoked\n", a->pos[0], user);
        return 0;
    }
    struct store_api_token *t = NULL;
    size_t n = 0;
    if (store_api_token_list(ctx->st, user, &t, &n, &e) != 0)
        return cli_fail(ctx->name, &e);
    if (json) {
        cli_json_print(json_pack("{s:s, s:o}", "user", user, "tokens", json_out_api_tokens(t, n)));
    } else {
        printf("%-16s  %-24s  %s\n", "ID", "CREATED", "EXPIRES (UTC, unless used)");
        for (size_t i = 0; i < n; i++) {
            char exp[FMT_UTC_LEN];
            fmt_utc_ms(t[i].expires_ms, exp);
            printf("%-16s  %-24s  %s\n", t[i].id, t[i].created_at, exp);
        }
        if (!n)
            printf("(%s has no API token)\n", user);
    }
    free(t);
    return 0;
}
