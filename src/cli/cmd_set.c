/* `ioheme set`: values and form status of one record at one event, through the one write
 * path; and `ioheme lock` / `ioheme unlock` of a record. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SET_USAGE[] =
    "usage: ioheme set RECORD EVENT[:INSTANCE] field=value ... [--reason TEXT]\n"
    "                  [--status incomplete|unverified|complete [--form FORM]] [--json]\n"
    "\n"
    "Saves values of RECORD (study ID or screening number) at EVENT (unique event name, the\n"
    "'_arm_1' may be left out), instance INSTANCE of a repeating form (e.g. io_procedure:2;\n"
    "0 or nothing for other forms). All values are saved or none: a value that breaks a hard\n"
    "rule rejects the whole command and names field, rule and value. Out-of-range values are\n"
    "saved and flagged. A form is marked complete only when its required fields (those its\n"
    "branching logic shows) have values. Changing a form already marked complete needs\n"
    "--reason. An answer that makes branching logic hide a field holding a value is refused\n"
    "unless the same command clears it (e.g. att_outcome=1 att_fail_reason=).\n"
    "\n"
    "  field=value        checkboxes as field___code=1 or field(code)=1; field= clears a value\n"
    "  --status S         set the form's status (with --form, or inferred from the fields)\n"
    "  --reason TEXT      reason for change, stored in the audit trail\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

const char CMD_LOCK_USAGE[] =
    "usage: ioheme lock RECORD [EVENT[:INSTANCE] --form FORM] [--reason TEXT]\n"
    "       ioheme unlock RECORD [EVENT[:INSTANCE] --form FORM] --reason TEXT\n"
    "\n"
    "Locks a record, or one form of it at one event (instance INSTANCE of a repeating form):\n"
    "every change to what is locked is refused, on every path (web, API, CLI, import), a\n"
    "calculated value the change would recompute included, until it is unlocked (data manager\n"
    "or admin). Queries, SDV and signatures go on. Unlocking needs a reason. Both are audited.\n"
    "`ioheme show RECORD` lists what of a record is locked.\n"
    "\n"
    "  --form FORM      lock or unlock one form at EVENT[:INSTANCE] instead of the record\n"
    "  --reason TEXT    why (required to unlock)\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

static int status_code(const char *s)
{
    static const char *const names[] = {"incomplete", "unverified", "complete"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && !s[1]))
            return i;
    return -1;
}

const struct cli_opt_spec cmd_set_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {"status", true}, {"form", true}, {NULL, false}};

/* What the arguments ask, read against the protocol before the login. */
struct set_plan {
    const char *event;
    int instance;
    struct store_change ch[CLI_MAX_POS + 1];
    size_t n;
};

int cmd_set_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *status = cli_get(a, "status");
    if (a->npos < 2 || (a->npos < 3 && !status))
        return cli_usage_error("set", "expects RECORD EVENT[:INSTANCE] field=value ...");
    if (status && status_code(status) < 0)
        return cli_usage_error("set", "--status is incomplete, unverified or complete");
    return 0;
}

int cmd_set_prepare(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *status = cli_get(a, "status");
    int scode = status ? status_code(status) : -1;
    struct err e = {0};
    const struct dict *d = store_dict(ctx->st);
    struct set_plan *p = arena_calloc(&ctx->ar, 1, sizeof *p);
    if (!p) {
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail("set", &e);
    }
    ctx->data = p;
    if (cli_parse_event_arg(d, &ctx->ar, a->pos[1], &p->event, &p->instance, &e))
        return e.code == ERR_USAGE ? cli_usage_error("set", "%s", e.msg) : cli_fail("set", &e);
    if (!dict_event_find(d, p->event)) {
        err_set(&e, ERR_INVALID, "no event '%s' in the protocol", p->event);
        return cli_fail("set", &e);
    }
    int rc = 0;
    for (size_t i = 2; i < a->npos && !rc; i++)
        rc =
            cli_parse_assignment(d, &ctx->ar, a->pos[i], p->event, p->instance, &p->ch[p->n++], &e);
    /* values need data_write, a status change form_status, a reason reason_change */
    bool has_values = p->n > 0;
    ctx->action = has_values ? PERM_DATA_WRITE : PERM_FORM_STATUS;
    if (!rc && status) {
        const char *form = cli_get(a, "form");
        if (!form && p->n) {
            const struct dict_field *f = dict_field(d, p->ch[0].field);
            form = f ? d->forms[f->form_index].name : NULL;
        }
        if (!form || !dict_form(d, form)) {
            rc = err_set(&e, ERR_USAGE, "which form? give --form FORM");
        } else {
            char *field = arena_printf(&ctx->ar, "%s_complete", form);
            char *val = arena_printf(&ctx->ar, "%d", scode);
            p->ch[p->n++] = (struct store_change){p->event, p->instance, field, NULL, val, NULL};
        }
    }
    return rc ? cli_fail("set", &e) : 0;
}

int cmd_set(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const struct set_plan *p = ctx->data;
    struct err e = {0};
    struct store_put_result res;
    store_put_result_init(&res);
    int exit_status = 0;
    if (store_put_changes(ctx->st, &ctx->who, a->pos[0], p->ch, p->n, cli_get(a, "reason"), &res,
                          &e)) {
        exit_status = cli_fail_put("set", &e, &res);
    } else if (cli_has(a, "json")) {
        cli_json_print(
            json_out_put_result(&res, json_pack("{s:s, s:s, s:i}", "record", a->pos[0], "event",
                                                p->event, "instance", p->instance)));
    } else {
        printf("%s %s: %zu value(s) changed, %zu calculated, %zu status, %zu unchanged\n",
               a->pos[0], p->event, res.nchanged, res.ncalc, res.nstatus, res.nunchanged);
        cli_print_issues(stdout, &res);
    }
    store_put_result_free(&res);
    return exit_status;
}

const struct cli_opt_spec cmd_lock_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {"form", true}, {NULL, false}};

/* lock and unlock: the row's name and action tell which */
int cmd_lock_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos == 1 && !cli_has(a, "form"))
        return 0;
    if (a->npos != 2 || !cli_has(a, "form"))
        return cli_usage_error(ctx->name, "expects RECORD, or RECORD EVENT[:INSTANCE] --form FORM");
    return 0;
}

int cmd_lock(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    bool lock = ctx->cmd->action == PERM_LOCK;
    const char *reason = cli_get(a, "reason");
    struct err e = {0};
    int rc;
    if (a->npos == 2) {
        const char *ev = NULL;
        int inst = 0;
        const char *form = cli_get(a, "form");
        rc = cli_parse_event_arg(store_dict(ctx->st), &ctx->ar, a->pos[1], &ev, &inst, &e);
        if (!rc)
            rc = store_form_lock(ctx->st, &ctx->who, a->pos[0], ev, form, inst, lock, reason, &e);
        if (!rc && cli_has(a, "json"))
            cli_json_print(json_pack("{s:s, s:s, s:s, s:i, s:b}", "record", a->pos[0], "event", ev,
                                     "form", form, "instance", inst, "locked", lock));
        else if (!rc)
            printf("%s %s%s%.0d form %s %s\n", a->pos[0], ev, inst ? ":" : "", inst, form,
                   lock ? "locked" : "unlocked");
        return rc ? cli_fail(ctx->name, &e) : 0;
    }
    rc = lock ? store_record_lock(ctx->st, &ctx->who, a->pos[0], reason, &e)
              : store_record_unlock(ctx->st, &ctx->who, a->pos[0], reason, &e);
    if (!rc && cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:b}", "record", a->pos[0], "locked", lock));
    else if (!rc)
        printf("%s %s\n", a->pos[0], lock ? "locked" : "unlocked");
    return rc ? cli_fail(ctx->name, &e) : 0;
}
