/* `ioheme sdv verify|status|list`: source data verification against the protocol's plan
 * (sdv.csv). The store decides permission, scope and the plan's arithmetic (store.h, "source
 * data verification"); this file parses and prints. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SDV_USAGE[] =
    "usage: ioheme sdv verify RECORD EVENT[:INSTANCE] (--form FORM | --field FIELD)\n"
    "       ioheme sdv status [--record RECORD] [--json]\n"
    "       ioheme sdv list RECORD [--json]\n"
    "\n"
    "Source data verification. `verify` marks the stored values of a form (or one field) at an\n"
    "event verified against the source documents (monitor or admin: sdv); each is audited, and\n"
    "a later change of a verified value clears its verification (audited too). `status` shows\n"
    "progress against the protocol's plan (sdv.csv: which forms and fields, for every record or\n"
    "a reproducible sample) per enrolled record and form, and whether the plan is met. `list`\n"
    "shows every stored value of a record: planned or not, verified by whom and when.\n"
    "\n"
    "  --form FORM       verify every stored value of FORM at EVENT[:INSTANCE]\n"
    "  --field FIELD     verify one field (a checkbox option as field___code)\n"
    "  --record RECORD   status of one record only\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

/* A multi-centre study's progress per site (records at no site as "-"), from the per-record
 * totals; nothing when no record has a site. */
static void by_site(const struct store_sdv_count *c, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || c[i].site[0];
    if (!any)
        return;
    printf("\n%-18s %7s %9s %9s %6s\n", "SITE", "RECORDS", "PLANNED", "VERIFIED", "DONE");
    for (size_t i = 0; i < n; i++) {
        if (c[i].form[0])
            continue;
        bool seen = false; /* each site once, at its first record's total */
        for (size_t k = 0; k < i && !seen; k++)
            seen = !c[k].form[0] && strcmp(c[k].site, c[i].site) == 0;
        if (seen)
            continue;
        size_t recs = 0, req = 0, ver = 0;
        for (size_t k = i; k < n; k++)
            if (!c[k].form[0] && strcmp(c[k].site, c[i].site) == 0) {
                recs++;
                req += c[k].required;
                ver += c[k].required_verified;
            }
        printf("%-18s %7zu %9zu %9zu %5.0f%%\n", c[i].site[0] ? c[i].site : "-", recs, req, ver,
               req ? 100.0 * (double)ver / (double)req : 100.0);
    }
    printf("\n");
}

static int sdv_status(struct store *st, const struct cli_args *a)
{
    struct err e = {0};
    struct store_sdv_count *c = NULL;
    size_t n = 0;
    if (store_sdv_progress(st, cli_get(a, "record"), &c, &n, &e))
        return cli_fail("sdv status", &e);
    bool met = store_sdv_plan_met(c, n);
    size_t req = 0, ver = 0;
    for (size_t i = 0; i < n; i++)
        if (!c[i].form[0]) {
            req += c[i].required;
            ver += c[i].required_verified;
        }
    if (cli_has(a, "json")) {
        cli_json_print(json_out_sdv_progress(c, n));
    } else {
        printf("%-9s %-16s %7s %9s %9s %7s\n", "RECORD", "FORM", "VALUES", "PLANNED", "VERIFIED",
               "EXTRA");
        for (size_t i = 0; i < n; i++)
            printf("%-9s %-16s %7zu %9zu %9zu %7zu\n", c[i].record,
                   c[i].form[0] ? c[i].form : "(all forms)", c[i].values, c[i].required,
                   c[i].required_verified, c[i].other_verified);
        by_site(c, n);
        printf("plan: %zu of %zu planned values verified (%.0f%%); %s\n", ver, req,
               req ? 100.0 * (double)ver / (double)req : 100.0, met ? "met" : "not met");
    }
    free(c);
    return 0;
}

struct list_ctx {
    json_t *arr;
};

static int list_one(void *ctx, const struct store_sdv_value *v)
{
    struct list_ctx *c = ctx;
    char key[300];
    if (!dict_key_format(v->field, v->code, key, sizeof key))
        return 0;
    if (c->arr) {
        json_t *o = json_out_sdv_value(v);
        if (o)
            json_array_append_new(c->arr, o);
        return 0;
    }
    printf("%-20s %3d %-28s %-8s %-10s %s\n", v->event, v->instance, key,
           v->is_required ? "planned" : "-", v->is_verified ? "verified" : "-",
           v->is_verified ? v->verified_by : "");
    return 0;
}

const struct cli_opt_spec cmd_sdv_opts[] = {STORE_CLI_COMMON_OPTS, {"site", true},   {"form", true},
                                            {"field", true},       {"record", true}, {NULL, false}};

const struct cli_sub cmd_sdv_subs[] = {
    {"verify", NULL, NULL, NULL},
    {"status", NULL, NULL, NULL},
    {"list", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

/* The arguments; reading needs data_read, verifying sdv (the store decides again). */
int cmd_sdv_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    if (strcmp(sub, "verify") == 0) {
        if (a->npos != 2 || (!cli_get(a, "form") && !cli_get(a, "field")))
            return cli_usage_error(ctx->name,
                                   "expects RECORD EVENT[:INSTANCE] and --form or --field");
        ctx->action = PERM_SDV;
    } else if (strcmp(sub, "status") == 0) {
        if (a->npos != 0)
            return cli_usage_error(ctx->name, "takes no arguments (--record RECORD for one)");
    } else if (a->npos != 1) {
        return cli_usage_error(ctx->name, "expects one RECORD");
    }
    return 0;
}

int cmd_sdv(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    struct store *st = ctx->st;
    struct err e = {0};
    if (strcmp(sub, "status") == 0)
        return sdv_status(st, a);
    if (strcmp(sub, "list") == 0) {
        struct list_ctx c = {.arr = cli_has(a, "json") ? json_array() : NULL};
        if (!c.arr)
            printf("%-20s %3s %-28s %-8s %-10s %s\n", "EVENT", "#", "FIELD", "PLAN", "SDV", "BY");
        if (store_sdv_values(st, a->pos[0], list_one, &c, &e)) {
            json_decref(c.arr);
            return cli_fail(ctx->name, &e);
        }
        if (c.arr)
            cli_json_print(c.arr);
        return 0;
    }
    const char *ev = NULL;
    int instance = 0;
    int rc = cli_parse_event_arg(store_dict(st), &ctx->ar, a->pos[1], &ev, &instance, &e);
    size_t nnew = 0;
    if (!rc)
        rc = store_sdv_verify(st, &ctx->who, a->pos[0], ev, instance, cli_get(a, "form"),
                              cli_get(a, "field"), &nnew, &e);
    if (rc)
        return cli_fail(ctx->name, &e);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:I}", "record", a->pos[0], "verified", (json_int_t)nnew));
    else
        printf("%s: %zu value(s) verified\n", a->pos[0], nnew);
    return 0;
}
