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
    "usage: ioheme lock RECORD [--reason TEXT]\n"
    "       ioheme unlock RECORD --reason TEXT\n"
    "\n"
    "Locks a record: every change to it is refused until it is unlocked (data manager or\n"
    "admin). Unlocking needs a reason. Both are audited.\n";

static int status_code(const char *s)
{
    static const char *const names[] = {"incomplete", "unverified", "complete"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && !s[1]))
            return i;
    return -1;
}

int cmd_set(int argc, char **argv)
{
    static const struct cli_opt_spec opts[] = {
        STORE_CLI_COMMON_OPTS, {"reason", true}, {"status", true}, {"form", true}, {NULL, false}};
    struct cli_args a;
    if (cli_parse("set", argc, argv, opts, &a))
        return 2;
    if (a.help)
        return cli_print_help("set");
    const char *status = cli_get(&a, "status");
    if (a.npos < 2 || (a.npos < 3 && !status))
        return cli_usage_error("set", "expects RECORD EVENT[:INSTANCE] field=value ...");
    int scode = status ? status_code(status) : -1;
    if (status && scode < 0)
        return cli_usage_error("set", "--status is incomplete, unverified or complete");
    struct err e = {0};
    struct store *st = NULL;
    if (cli_store_open(&a, &st, &e))
        return cli_fail("set", &e);
    const struct dict *d = store_dict(st);
    char evbuf[128];
    snprintf(evbuf, sizeof evbuf, "%s", a.pos[1]);
    int instance = 0;
    char *colon = strchr(evbuf, ':');
    if (colon) {
        *colon = '\0';
        if (dict_instance_parse(colon + 1, "instance", &instance, &e) != 0) {
            store_close(st);
            return cli_usage_error("set", "'%s' is not EVENT:INSTANCE: %s", a.pos[1], e.msg);
        }
    }
    const char *event = dict_event_find(d, evbuf);
    if (!event) {
        err_set(&e, ERR_INVALID, "no event '%s' in the protocol", evbuf);
        store_close(st);
        return cli_fail("set", &e);
    }
    struct arena ar = ARENA_INIT;
    struct store_change ch[CLI_MAX_POS + 1];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 2; i < a.npos && !rc; i++)
        rc = cli_parse_assignment(d, &ar, a.pos[i], event, instance, &ch[n++], &e);
    /* values need data_write, a status change form_status, a reason reason_change */
    bool has_values = n > 0;
    enum perm_action action = has_values ? PERM_DATA_WRITE : PERM_FORM_STATUS;
    if (!rc && status) {
        const char *form = cli_get(&a, "form");
        if (!form && n) {
            const struct dict_field *f = dict_field(d, ch[0].field);
            form = f ? d->forms[f->form_index].name : NULL;
        }
        if (!form || !dict_form(d, form)) {
            rc = err_set(&e, ERR_USAGE, "which form? give --form FORM");
        } else {
            char *field = arena_printf(&ar, "%s_complete", form);
            char *val = arena_printf(&ar, "%d", scode);
            ch[n++] = (struct store_change){event, instance, field, NULL, val};
        }
    }
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    if (!rc)
        rc = cli_login(st, &a, action, &who, me, &e);
    struct store_put_result res;
    store_put_result_init(&res);
    if (!rc)
        rc = store_put_changes(st, &who, a.pos[0], ch, n, cli_get(&a, "reason"), &res, &e);
    int exit_status = 0;
    if (rc) {
        exit_status = cli_fail_put("set", &e, &res);
    } else if (cli_has(&a, "json")) {
        cli_json_print(json_out_put_result(&res, json_pack("{s:s, s:s, s:i}", "record", a.pos[0],
                                                           "event", event, "instance", instance)));
    } else {
        printf("%s %s: %zu value(s) changed, %zu calculated, %zu status, %zu unchanged\n", a.pos[0],
               event, res.nchanged, res.ncalc, res.nstatus, res.nunchanged);
        cli_print_issues(stdout, &res);
    }
    store_put_result_free(&res);
    arena_free(&ar);
    store_close(st);
    return exit_status;
}

static int lock_cmd(const char *name, int argc, char **argv)
{
    static const struct cli_opt_spec opts[] = {
        STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};
    struct cli_args a;
    if (cli_parse(name, argc, argv, opts, &a))
        return 2;
    if (a.help)
        return cli_print_help(name);
    if (a.npos != 1)
        return cli_usage_error(name, "expects one RECORD");
    bool lock = strcmp(name, "lock") == 0;
    struct err e = {0};
    struct store *st = NULL;
    if (cli_store_open(&a, &st, &e))
        return cli_fail(name, &e);
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    int rc = cli_login(st, &a, lock ? PERM_LOCK : PERM_UNLOCK, &who, me, &e);
    if (!rc)
        rc = lock ? store_record_lock(st, &who, a.pos[0], cli_get(&a, "reason"), &e)
                  : store_record_unlock(st, &who, a.pos[0], cli_get(&a, "reason"), &e);
    if (!rc && cli_has(&a, "json"))
        cli_json_print(json_pack("{s:s, s:b}", "record", a.pos[0], "locked", lock));
    else if (!rc)
        printf("%s %s\n", a.pos[0], lock ? "locked" : "unlocked");
    store_close(st);
    return rc ? cli_fail(name, &e) : 0;
}

int cmd_lock(int argc, char **argv)
{
    return lock_cmd("lock", argc, argv);
}
int cmd_unlock(int argc, char **argv)
{
    return lock_cmd("unlock", argc, argv);
}
