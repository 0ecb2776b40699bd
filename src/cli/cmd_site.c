/* `ioheme timezone`: show or change the site's time zone (core/sitetime.h), an audited admin
 * action. */
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "core/sitetime.h"

const char CMD_TIMEZONE_USAGE[] =
    "usage: ioheme timezone [ZONE --reason TEXT] [--db FILE] [--user NAME] [--json]\n"
    "\n"
    "Without ZONE, prints the study's site time zone. With ZONE (an IANA name such as\n"
    "Europe/London, a file under /usr/share/zoneinfo), makes it the site time zone: admin only\n"
    "(permission 'settings'), audited as site_timezone with the old and new zone and the reason.\n"
    "Data date-times are the site's wall-clock and are not rewritten: give the reason (required\n"
    "once a zone is set). A running 'ioheme serve' keeps its zone until it is restarted.\n"
    "A database created before site time zones reads as UTC until one is set.\n";

const struct cli_opt_spec cmd_timezone_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};

/* Showing the zone needs only a login; changing it needs settings. */
int cmd_timezone_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos > 1)
        return cli_usage_error("timezone", "expects at most one ZONE");
    ctx->action = ctx->args.npos ? PERM_SETTINGS : PERM_NONE;
    return 0;
}

int cmd_timezone(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *zone = a->npos ? a->pos[0] : NULL;
    struct store *st = ctx->st;
    struct err e = {0};
    char old[STORE_TZ_LEN];
    bool was_set = false;
    int rc = store_site_timezone(st, old, &was_set, &e);
    const char *reason = cli_get(a, "reason");
    if (!rc && zone && was_set && (!reason || !*reason))
        rc = err_set_field(&e, ERR_REASON_REQUIRED, "reason",
                           "changing the site time zone from %s needs --reason", old);
    if (!rc && zone)
        rc = store_set_site_timezone(st, &ctx->who, zone, reason, &e);
    if (rc)
        return cli_fail("timezone", &e);
    const char *now = zone ? zone : old;
    bool is_default = !zone && !was_set;
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:b, s:b}", "timezone", now, "is_default", is_default,
                                 "changed", zone != NULL));
    else if (zone)
        printf("site time zone: %s (was %s%s)\n", zone, old, was_set ? "" : ", the default");
    else
        printf("site time zone: %s%s\n", now,
               is_default ? " (the default: this database has none set)" : "");
    return 0;
}
