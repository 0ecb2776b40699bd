/* `ioheme site list|add|move`: a multi-centre study's sites (store.h, "sites"); who works at
 * which is `ioheme user sites`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SITE_USAGE[] =
    "usage: ioheme site list [--json]\n"
    "       ioheme site add CODE --name NAME\n"
    "       ioheme site move RECORD CODE --reason TEXT\n"
    "\n"
    "The sites of a multi-centre study (REDCap's data access groups). A record belongs to one\n"
    "site or none; a user works at every site (the default) or at the sites `ioheme user sites`\n"
    "gives them, and then sees, lists, exports and changes only those sites' records. A record\n"
    "is created at the site given with --site (screen, import), else at its creator's site when\n"
    "they work at exactly one. When study.csv's study_id_format carries {site}\n"
    "(IOH-{site}-{seq:3}), every record needs a site and each site numbers its own study IDs.\n"
    "\n"
    "  list    the sites you work at, with their records and enrolled patients\n"
    "  add     a new site: CODE is 1-18 letters, digits or underscores (unique whatever the\n"
    "          case), NAME up to 100 characters (admin: site_manage; audited site_add)\n"
    "  move    puts RECORD at site CODE ('-' for none), with a reason (admin: site_manage;\n"
    "          audited record_site). An enrolled record whose study ID names its site stays.\n"
    "  --db FILE   database (default $IOHEME_DB, else ./ioheme.db)\n";

const struct cli_opt_spec cmd_site_opts[] = {
    STORE_CLI_COMMON_OPTS, {"name", true}, {"reason", true}, {NULL, false}};

const struct cli_sub cmd_site_subs[] = {
    {"list", NULL, "usage: ioheme site list [--db FILE] [--user NAME] [--json]\n", NULL},
    {"add", NULL, "usage: ioheme site add CODE --name NAME [--db FILE] [--user ADMIN] [--json]\n",
     NULL},
    {"move", NULL,
     "usage: ioheme site move RECORD CODE --reason TEXT [--db FILE] [--user ADMIN] [--json]\n"
     "CODE '-' takes the record out of any site.\n",
     NULL},
    {NULL, NULL, NULL, NULL},
};

int cmd_site_check(struct cmd_ctx *ctx)
{
    const char *sub = ctx->sub->name;
    size_t want = strcmp(sub, "list") == 0 ? 0 : strcmp(sub, "add") == 0 ? 1 : 2;
    if (ctx->args.npos != want)
        return cli_usage_error(ctx->name, "%s",
                               want == 0   ? "takes no arguments"
                               : want == 1 ? "expects one CODE"
                                           : "expects RECORD CODE");
    ctx->action = want == 0 ? PERM_NONE : PERM_SITE_MANAGE;
    return 0;
}

static int list_sites(struct cmd_ctx *ctx)
{
    struct store_site *v = NULL;
    size_t n = 0;
    struct err e = {0};
    if (store_site_list(ctx->st, &v, &n, &e))
        return cli_fail(ctx->name, &e);
    if (cli_has(&ctx->args, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, json_out_site(&v[i]));
        cli_json_print(arr);
    } else if (n == 0) {
        printf("no sites: a single-centre study (add one with 'ioheme site add CODE --name "
               "NAME')\n");
    } else {
        printf("%-18s %8s %8s  %s\n", "CODE", "RECORDS", "ENROLLED", "NAME");
        for (size_t i = 0; i < n; i++)
            printf("%-18s %8lld %8lld  %s\n", v[i].code, v[i].nrecords, v[i].nenrolled, v[i].name);
    }
    free(v);
    return 0;
}

int cmd_site(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    struct err e = {0};
    if (strcmp(sub, "list") == 0)
        return list_sites(ctx);
    int rc;
    if (strcmp(sub, "add") == 0) {
        rc = store_site_add(ctx->st, &ctx->who, a->pos[0], cli_get(a, "name"), &e);
        if (!rc && cli_has(a, "json"))
            cli_json_print(json_pack("{s:s, s:s}", "site", a->pos[0], "done", "added"));
        else if (!rc)
            printf("added site %s (%s)\n", a->pos[0], cli_get(a, "name"));
    } else {
        const char *code = strcmp(a->pos[1], "-") == 0 ? NULL : a->pos[1];
        rc = store_site_move(ctx->st, &ctx->who, a->pos[0], code, cli_get(a, "reason"), &e);
        if (!rc && cli_has(a, "json"))
            cli_json_print(json_pack("{s:s, s:o}", "record", a->pos[0], "site",
                                     code ? json_string(code) : json_null()));
        else if (!rc)
            printf("%s is now at %s%s\n", a->pos[0], code ? "site " : "no site", code ? code : "");
    }
    return rc ? cli_fail(ctx->name, &e) : 0;
}
