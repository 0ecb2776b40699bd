/* `ioheme enroll` and `ioheme withdraw`: a screened patient becomes a study subject with a
 * pseudonymous study ID, or leaves the study (their data stay). */
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_ENROLL_USAGE[] =
    "usage: ioheme enroll SCR-001 [field=value ...] [--json]\n"
    "\n"
    "Enrols a screened patient: refuses unless the protocol's eligibility verdict is eligible\n"
    "and consent is recorded. Consent values may be given here (e.g. cons_type=1\n"
    "cons_dt=\"2026-03-01 10:30\"); they are saved only if the enrolment succeeds. Prints the\n"
    "new study ID (IOH-001, IOH-002, ... in order of enrolment).\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

const char CMD_WITHDRAW_USAGE[] =
    "usage: ioheme withdraw RECORD --reason TEXT\n"
    "\n"
    "Marks an enrolled patient withdrawn. Their data stay in the database and the analysis.\n";

int cmd_enroll(int argc, char **argv)
{
    static const struct cli_opt_spec opts[] = {STORE_CLI_COMMON_OPTS, {NULL, false}};
    struct cli_args a;
    if (cli_parse("enroll", argc, argv, opts, &a))
        return 2;
    if (a.help)
        return cli_print_help("enroll");
    if (a.npos < 1)
        return cli_usage_error("enroll", "which screening number? (e.g. SCR-001)");
    struct err e = {0};
    struct store *st = NULL;
    if (cli_store_open(&a, &st, &e))
        return cli_fail("enroll", &e);
    struct arena ar = ARENA_INIT;
    struct store_change ch[CLI_MAX_POS];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 1; i < a.npos && !rc; i++)
        rc = cli_parse_assignment(store_dict(st), &ar, a.pos[i], NULL, 0, &ch[n++], &e);
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    if (!rc)
        rc = cli_login(st, &a, PERM_ENROLL, &who, me, &e);
    struct store_put_result res;
    store_put_result_init(&res);
    char id[16] = "";
    if (!rc)
        rc = store_enroll(st, &who, a.pos[0], ch, n, id, &res, &e);
    int status = 0;
    if (rc) {
        status = cli_fail_put("enroll", &e, &res);
    } else if (cli_has(&a, "json")) {
        cli_json_print(json_out_put_result(
            &res, json_pack("{s:s, s:s}", "screening_no", a.pos[0], "study_id", id)));
    } else {
        printf("%s enrolled as %s\n", a.pos[0], id);
        cli_print_issues(stdout, &res);
    }
    store_put_result_free(&res);
    arena_free(&ar);
    store_close(st);
    return status;
}

int cmd_withdraw(int argc, char **argv)
{
    static const struct cli_opt_spec opts[] = {
        STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};
    struct cli_args a;
    if (cli_parse("withdraw", argc, argv, opts, &a))
        return 2;
    if (a.help)
        return cli_print_help("withdraw");
    if (a.npos != 1)
        return cli_usage_error("withdraw", "expects one RECORD");
    struct err e = {0};
    struct store *st = NULL;
    if (cli_store_open(&a, &st, &e))
        return cli_fail("withdraw", &e);
    struct store_ctx who;
    char me[STORE_USERNAME_MAX + 1];
    int rc = cli_login(st, &a, PERM_DATA_WRITE, &who, me, &e);
    if (!rc)
        rc = store_withdraw(st, &who, a.pos[0], cli_get(&a, "reason"), &e);
    if (!rc && cli_has(&a, "json"))
        cli_json_print(json_pack("{s:s, s:s}", "record", a.pos[0], "status", "withdrawn"));
    else if (!rc)
        printf("%s withdrawn\n", a.pos[0]);
    store_close(st);
    return rc ? cli_fail("withdraw", &e) : 0;
}
