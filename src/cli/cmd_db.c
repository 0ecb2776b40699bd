/* `ioheme db status|checklist|freeze|unfreeze|lock|unlock`: the database's state from data entry
 * to the final analysis (store.h, "database freeze and lock"). The store decides permissions,
 * transitions and the checklist; this file parses and prints. */
#include <sodium.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"

const char CMD_DB_USAGE[] =
    "usage: ioheme db status [--json]\n"
    "       ioheme db checklist [--json]\n"
    "       ioheme db freeze [--reason TEXT]\n"
    "       ioheme db unfreeze --reason TEXT\n"
    "       ioheme db lock [--override TEXT] [--json]\n"
    "       ioheme db unlock --reason TEXT\n"
    "\n"
    "The database goes available -> frozen -> locked. Frozen: no data entry by any role or\n"
    "path (forms, API, import, CLI); queries, SDV and signatures go on. Locked: nothing about\n"
    "the study data changes. lock runs the pre-lock checklist on a frozen database and prints\n"
    "it: no open or answered query, every form holding data complete, the SDV plan met, every\n"
    "casebook signed (valid) and the PI's db_lock_approval signed since the freeze; a failed\n"
    "check refuses the lock unless --override gives the reason, which is audited with what\n"
    "failed. unlock needs a reason and the password again. freeze and lock: admin or data\n"
    "manager (lock); unfreeze and unlock: unlock. Every transition is audited; a locked\n"
    "database stamps `ioheme dataset` and `ioheme report` output with its lock\n"
    "(docs/data-management.md). The web page /study and GET /api/v1/db show the same.\n"
    "\n"
    "  --reason TEXT     why (required to unfreeze and unlock)\n"
    "  --override TEXT   lock although the checklist fails, for this reason\n"
    "  --db FILE --user NAME --json   as for every command\n";

const struct cli_opt_spec cmd_db_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {"override", true}, {NULL, false}};

const struct cli_sub cmd_db_subs[] = {
    {"status", NULL, NULL, NULL},   {"checklist", NULL, NULL, NULL}, {"freeze", NULL, NULL, NULL},
    {"unfreeze", NULL, NULL, NULL}, {"lock", NULL, NULL, NULL},      {"unlock", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

int cmd_db_check(struct cmd_ctx *ctx)
{
    const char *sub = ctx->sub->name;
    if (ctx->args.npos)
        return cli_usage_error(ctx->name, "unexpected argument '%s'", ctx->args.pos[0]);
    if (strcmp(sub, "freeze") == 0 || strcmp(sub, "lock") == 0)
        ctx->action = PERM_LOCK;
    else if (strcmp(sub, "unfreeze") == 0 || strcmp(sub, "unlock") == 0)
        ctx->action = PERM_UNLOCK;
    return 0;
}

static void print_checklist(const struct store_checklist *cl, bool json)
{
    if (json) {
        json_t *items = json_array();
        for (int i = 0; i < STORE_NCHECKS; i++)
            json_array_append_new(items,
                                  json_pack("{s:s, s:b, s:s}", "check", cl->item[i].name, "passed",
                                            cl->item[i].passed, "detail", cl->item[i].detail));
        cli_json_print(json_pack("{s:b, s:o}", "passed", cl->passed, "checks", items));
        return;
    }
    for (int i = 0; i < STORE_NCHECKS; i++)
        printf("  %-4s %-15s %s\n", cl->item[i].passed ? "ok" : "FAIL", cl->item[i].name,
               cl->item[i].detail);
    printf("checklist: %s\n", cl->passed ? "passed" : "not passed");
}

int cmd_db(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    struct store *st = ctx->st;
    bool json = cli_has(a, "json");
    struct err e = {0};
    int rc = 0;
    if (strcmp(sub, "status") == 0) {
        struct store_db_status s;
        if (store_db_status(st, &s, &e))
            return cli_fail(ctx->name, &e);
        if (json)
            cli_json_print(json_pack(
                "{s:s, s:o, s:o, s:o, s:o}", "state", store_db_state_name(s.state), "frozen_at",
                s.frozen_at[0] ? json_string(s.frozen_at) : json_null(), "lock_id",
                s.lock_id[0] ? json_string(s.lock_id) : json_null(), "locked_at",
                s.locked_at[0] ? json_string(s.locked_at) : json_null(), "lock_audit_head",
                s.lock_head[0] ? json_string(s.lock_head) : json_null()));
        else if (s.state == STORE_DB_LOCKED)
            printf("database: locked (%s since %s; audit head %s)\n", s.lock_id, s.locked_at,
                   s.lock_head);
        else if (s.state == STORE_DB_FROZEN)
            printf("database: frozen since %s (no data entry)\n", s.frozen_at);
        else
            printf("database: available (data entry open)\n");
        return 0;
    }
    if (strcmp(sub, "checklist") == 0 || strcmp(sub, "lock") == 0) {
        struct store_checklist cl;
        if (strcmp(sub, "checklist") == 0) {
            if (store_db_checklist(st, &cl, &e))
                return cli_fail(ctx->name, &e);
            print_checklist(&cl, json);
            return 0;
        }
        memset(&cl, 0, sizeof cl);
        rc = store_db_lock(st, &ctx->who, cli_get(a, "override"), &cl, &e);
        if (cl.item[0].name && !json)
            print_checklist(&cl, false);
        if (rc)
            return cli_fail(ctx->name, &e);
        struct store_db_status s;
        if (store_db_status(st, &s, &e))
            return cli_fail(ctx->name, &e);
        if (json)
            cli_json_print(json_pack("{s:s, s:s, s:s, s:b}", "state", "locked", "lock_id",
                                     s.lock_id, "lock_audit_head", s.lock_head, "checklist_passed",
                                     cl.passed));
        else
            printf("database locked: %s (audit head %s)\n", s.lock_id, s.lock_head);
        return 0;
    }
    const char *reason = cli_get(a, "reason");
    if (strcmp(sub, "freeze") == 0) {
        rc = store_db_freeze(st, &ctx->who, reason, &e);
    } else if (strcmp(sub, "unfreeze") == 0) {
        rc = store_db_unfreeze(st, &ctx->who, reason, &e);
    } else {
        char pw[256];
        rc = cli_read_password("Password to unlock as ", ctx->who.user, true, false, pw, sizeof pw,
                               &e);
        if (!rc)
            rc = store_db_unlock(st, &ctx->who, pw, reason, &e);
        sodium_memzero(pw, sizeof pw);
    }
    if (rc)
        return cli_fail(ctx->name, &e);
    const char *now =
        strcmp(sub, "freeze") == 0 || strcmp(sub, "unlock") == 0 ? "frozen" : "available";
    if (json)
        cli_json_print(json_pack("{s:s}", "state", now));
    else
        printf("database: %s\n", now);
    return 0;
}
