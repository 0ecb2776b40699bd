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

/* The consent values given with the enrolment, parsed before the login. */
struct enroll_plan {
    struct store_change ch[CLI_MAX_POS];
    size_t n;
};

int cmd_enroll_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos < 1)
        return cli_usage_error("enroll", "which screening number? (e.g. SCR-001)");
    return 0;
}

int cmd_enroll_prepare(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct enroll_plan *p = arena_calloc(&ctx->ar, 1, sizeof *p);
    struct err e = {0};
    int rc = p ? 0 : err_set(&e, ERR_NOMEM, "out of memory");
    for (size_t i = 1; !rc && i < a->npos; i++)
        rc = cli_parse_assignment(store_dict(ctx->st), &ctx->ar, a->pos[i], NULL, 0, &p->ch[p->n++],
                                  &e);
    ctx->data = p;
    return rc ? cli_fail("enroll", &e) : 0;
}

int cmd_enroll(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const struct enroll_plan *p = ctx->data;
    struct err e = {0};
    struct store_put_result res;
    store_put_result_init(&res);
    char id[STORE_RECORD_ID_MAX + 1] = "";
    int status = 0;
    if (store_enroll(ctx->st, &ctx->who, a->pos[0], p->ch, p->n, id, &res, &e)) {
        status = cli_fail_put("enroll", &e, &res);
    } else if (cli_has(a, "json")) {
        cli_json_print(json_out_put_result(
            &res, json_pack("{s:s, s:s}", "screening_no", a->pos[0], "study_id", id)));
    } else {
        printf("%s enrolled as %s\n", a->pos[0], id);
        cli_print_issues(stdout, &res);
    }
    store_put_result_free(&res);
    return status;
}

const struct cli_opt_spec cmd_withdraw_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true}, {NULL, false}};

int cmd_withdraw_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 1)
        return cli_usage_error("withdraw", "expects one RECORD");
    return 0;
}

int cmd_withdraw(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    int rc = store_withdraw(ctx->st, &ctx->who, a->pos[0], cli_get(a, "reason"), &e);
    if (!rc && cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:s}", "record", a->pos[0], "status", "withdrawn"));
    else if (!rc)
        printf("%s withdrawn\n", a->pos[0]);
    return rc ? cli_fail("withdraw", &e) : 0;
}
