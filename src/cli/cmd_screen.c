/* `ioheme screen`: the screening log — a new screening entry, an update to one, or the list —
 * with every eligibility criterion of the protocol and the verdict. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SCREEN_USAGE[] =
    "usage: ioheme screen [field=value ...] [--file F.json] [--json]\n"
    "       ioheme screen --record SCR-001 field=value ... [--reason TEXT]\n"
    "       ioheme screen --list [--json]\n"
    "\n"
    "Adds a patient to the screening log (a new screening number SCR-001, SCR-002, ...) with the\n"
    "screening form's values, evaluates the protocol's eligibility criteria and prints each\n"
    "criterion (met / not met / unknown) and the verdict. Screen failures stay in the log.\n"
    "With --record, updates an existing screening entry. With --list, prints the log.\n"
    "\n"
    "  field=value       a value; checkboxes as field___code=1 or field(code)=1; field= clears\n"
    "  --file F.json     values as a JSON object {\"age\": 54, \"qual_cat1___1\": \"1\", ...}\n"
    "  --reason TEXT     reason for changes to a form already marked complete\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n"
    "\n"
    "Screening needs a role with screen (admin, investigator, coordinator); --list needs\n"
    "data_read (every role). Either way the acting user logs in: --user NAME or $IOHEME_USER,\n"
    "password from $IOHEME_PASSWORD, else asked on the terminal.\n";

static int print_log(struct store *st, bool json)
{
    struct store_record *rs = NULL;
    size_t n = 0;
    struct err e = {0};
    if (store_record_list(st, &rs, &n, &e))
        return cli_fail("screen --list", &e);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o =
                json_pack("{s:s, s:s, s:i, s:s, s:s}", "screening_no", rs[i].screening_no, "status",
                          store_record_status_name(rs[i].status), "eligible", rs[i].eligible,
                          "screened_at", rs[i].screened_at, "screened_by", rs[i].screened_by);
            json_object_set_new(o, "study_id",
                                rs[i].study_id[0] ? json_string(rs[i].study_id) : json_null());
            json_object_set_new(o, "site", rs[i].site[0] ? json_string(rs[i].site) : json_null());
            json_array_append_new(arr, o);
        }
        cli_json_print(arr);
    } else {
        /* a SITE column when any record has a site (a multi-centre study) */
        bool sites = false;
        for (size_t i = 0; i < n; i++)
            sites = sites || rs[i].site[0];
        printf("%-9s %-10s %-15s %-9s %-25s %s%s\n", "SCREENING", "STUDY ID", "STATUS", "ELIGIBLE",
               "SCREENED AT", sites ? "SITE     " : "", "BY");
        for (size_t i = 0; i < n; i++)
            printf("%-9s %-10s %-15s %-9s %-25s %-*s%s\n", rs[i].screening_no,
                   rs[i].study_id[0] ? rs[i].study_id : "-", store_record_status_name(rs[i].status),
                   rs[i].eligible == 1   ? "yes"
                   : rs[i].eligible == 0 ? "no"
                                         : "?",
                   rs[i].screened_at, sites ? 9 : 0,
                   sites ? (rs[i].site[0] ? rs[i].site : "-") : "", rs[i].screened_by);
    }
    free(rs);
    return 0;
}

/* Adds the values of a JSON object file to changes. */
static int file_changes(const struct dict *d, struct arena *ar, const char *path,
                        struct store_change *ch, size_t *n, size_t cap, struct err *e)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    int rc = 0;
    if (!json_is_object(root))
        rc = err_set(e, ERR_INVALID, "%s: expected a JSON object of field: value", path);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (rc)
            break;
        /* numbers as the text a form would hold; "key=value" parsed as an argument */
        char *arg = NULL;
        if (json_is_integer(v))
            arg = arena_printf(ar, "%s=%lld", key, (long long)json_integer_value(v));
        else if (json_is_real(v))
            arg = arena_printf(ar, "%s=%.15g", key, json_real_value(v));
        else if (json_is_null(v))
            arg = arena_printf(ar, "%s=", key);
        else if (json_is_string(v))
            arg = arena_printf(ar, "%s=%s", key, json_string_value(v));
        else {
            rc = err_set_field(e, ERR_INVALID, key, "%s: '%s' must be a string or number", path,
                               key);
            break;
        }
        if (*n == cap)
            rc = err_set(e, ERR_USAGE, "too many values");
        if (!rc && !arg)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        if (!rc)
            rc = cli_parse_assignment(d, ar, arg, NULL, 0, &ch[(*n)++], e);
    }
    json_decref(root);
    return rc;
}

static const char *crit_state(enum criterion_state s)
{
    return s == CRIT_MET ? "met" : s == CRIT_NOT_MET ? "not met" : "unknown";
}

static void print_eligibility(struct store *st, const char *record, bool json,
                              const struct store_put_result *res)
{
    struct arena ar = ARENA_INIT;
    struct elig_result er;
    struct err e = {0};
    struct store_record r;
    if (store_record_get(st, record, &r, &e) ||
        store_record_eligibility(st, record, &ar, &er, &e)) {
        cli_fail("screen", &e);
        arena_free(&ar);
        return;
    }
    const char *verdict = er.verdict == ELIG_ELIGIBLE     ? "eligible"
                          : er.verdict == ELIG_INELIGIBLE ? "not eligible (screen failure)"
                                                          : "incomplete";
    if (json) {
        json_t *crits = json_array();
        for (size_t i = 0; i < er.ncriteria; i++) {
            const struct elig_criterion *c = &er.criteria[i];
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:s}", "field", c->field->name, "label", c->field->label, "kind",
                c->is_exclusion ? "exclusion" : "inclusion", "state", crit_state(c->state));
            json_object_set_new(o, "passes",
                                c->state == CRIT_UNKNOWN ? json_null() : json_boolean(c->passes));
            json_array_append_new(crits, o);
        }
        json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o}", "screening_no", r.screening_no, "status",
                              store_record_status_name(r.status), "criteria", crits, "verdict",
                              er.verdict == ELIG_ELIGIBLE     ? "eligible"
                              : er.verdict == ELIG_INELIGIBLE ? "ineligible"
                                                              : "incomplete",
                              "warnings", json_out_issues(res));
        cli_json_print(o);
    } else {
        printf("%s  %s\n", r.screening_no, store_record_status_name(r.status));
        for (size_t i = 0; i < er.ncriteria; i++) {
            const struct elig_criterion *c = &er.criteria[i];
            printf("  %-4s %-9s %-7s %s\n",
                   c->state == CRIT_UNKNOWN ? "?"
                   : c->passes              ? "ok"
                                            : "FAIL",
                   c->is_exclusion ? "exclusion" : "inclusion", crit_state(c->state),
                   c->field->label);
        }
        printf("verdict: %s\n", verdict);
        if (res && res->nissues) {
            printf("flagged values (saved, to review):\n");
            cli_print_issues(stdout, res);
        }
    }
    arena_free(&ar);
}

const struct cli_opt_spec cmd_screen_opts[] = {
    STORE_CLI_COMMON_OPTS, {"site", true},   {"file", true}, {"record", true},
    {"list", false},       {"reason", true}, {NULL, false}};

/* The values to screen with, from the arguments and --file, read before the login. */
struct screen_plan {
    struct store_change ch[CLI_MAX_POS + 256];
    size_t n;
};

int cmd_screen_check(struct cmd_ctx *ctx)
{
    if (!cli_has(&ctx->args, "list"))
        return 0;
    /* the log lists every patient screened: a read of study data */
    ctx->action = PERM_DATA_READ;
    return cli_ctx_name(ctx, "--list");
}

int cmd_screen_prepare(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (cli_has(a, "list"))
        return 0;
    const struct dict *d = store_dict(ctx->st);
    struct err e = {0};
    struct screen_plan *p = arena_calloc(&ctx->ar, 1, sizeof *p);
    int rc = p ? 0 : err_set(&e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->npos && !rc; i++)
        rc = cli_parse_assignment(d, &ctx->ar, a->pos[i], NULL, 0, &p->ch[p->n++], &e);
    if (!rc && cli_get(a, "file"))
        rc = file_changes(d, &ctx->ar, cli_get(a, "file"), p->ch, &p->n,
                          sizeof p->ch / sizeof p->ch[0], &e);
    ctx->data = p;
    return rc ? cli_fail("screen", &e) : 0;
}

int cmd_screen(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    bool json = cli_has(a, "json");
    if (cli_has(a, "list"))
        return print_log(ctx->st, json);
    const struct screen_plan *p = ctx->data;
    struct err e = {0};
    struct store_put_result res;
    store_put_result_init(&res);
    char scr[16] = "";
    const char *record = cli_get(a, "record");
    int rc = record ? store_put_changes(ctx->st, &ctx->who, record, p->ch, p->n,
                                        cli_get(a, "reason"), &res, &e)
                    : store_screen_create(ctx->st, &ctx->who, p->ch, p->n, scr, &res, &e);
    int status = 0;
    if (rc)
        status = cli_fail_put("screen", &e, &res);
    else
        print_eligibility(ctx->st, record ? record : scr, json, &res);
    store_put_result_free(&res);
    return status;
}
