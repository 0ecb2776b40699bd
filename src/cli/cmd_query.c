/* `ioheme query open|answer|close|reopen|list|show`: queries (discrepancy notes). The store
 * decides every permission and transition (store.h, "queries"); this file parses and prints. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_QUERY_USAGE[] =
    "usage: ioheme query open RECORD [EVENT[:INSTANCE]] [--field F | --form F] --message TEXT\n"
    "                         [--assign USER|role:ROLE]\n"
    "       ioheme query answer ID --message TEXT [field=value ...]\n"
    "       ioheme query close ID [--message TEXT]\n"
    "       ioheme query reopen ID --message TEXT\n"
    "       ioheme query list [--record R] [--form F] [--status open|answered|closed|live|all]\n"
    "                         [--mine] [--json]\n"
    "       ioheme query show ID [--json]\n"
    "\n"
    "Queries question data: a value (RECORD EVENT[:INSTANCE] --field F), a form (--form F) or a\n"
    "whole record (RECORD alone). Each has a thread of messages and a status: open, answered,\n"
    "closed (and reopened). A monitor or data manager raises and closes (query_raise,\n"
    "query_close); the site answers (query_answer), with the corrected value when the data\n"
    "were wrong: `query answer 12 --message \"typo\" hd_sbp=120` saves the value through the\n"
    "write path with reason \"query 12: typo\" and links the change to the query. A value\n"
    "saved outside its expected range opens a system query by itself. Every action is audited.\n"
    "\n"
    "  --message TEXT    the message (up to 2000 bytes)\n"
    "  --assign WHO      a user, or role:ROLE, expected to answer (default: the site team)\n"
    "  --status S        list only open, answered or closed queries; live = open and answered\n"
    "                    (the default); all = every query\n"
    "  --mine            list only queries waiting for me: open ones I may answer (assigned to\n"
    "                    me, my role or nobody), answered ones I may close\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

static int parse_id(const char *s, long long *id)
{
    return fmt_parse_int(s, 1, LLONG_MAX, id) ? 0 : -1;
}

static void print_query_line(const struct store_query *q)
{
    char where[256];
    if (!q->event[0])
        fmt_exact(where, sizeof where, "(record)");
    else if (q->instance)
        fmt_text(where, sizeof where, "%s:%d %s", q->event, q->instance,
                 q->field[0] ? q->field : q->form);
    else
        fmt_text(where, sizeof where, "%s %s", q->event, q->field[0] ? q->field : q->form);
    printf("%-5lld %-9s %-9s %-40s %-8s %s\n", q->id, store_query_status_name(q->status), q->record,
           where, q->is_system ? "system" : q->opened_by, q->text);
}

static int query_list(struct store *st, const struct cli_args *a, const char *me)
{
    struct store_query_filter f = {.record = cli_get(a, "record"),
                                   .form = cli_get(a, "form"),
                                   .status = -1,
                                   .is_live = true,
                                   .waiting_for = cli_has(a, "mine") ? me : NULL};
    const char *status = cli_get(a, "status");
    if (status && strcmp(status, "all") == 0) {
        f.is_live = false;
    } else if (status && strcmp(status, "live") != 0) {
        enum store_query_status s;
        if (store_query_status_from_name(status, &s) != 0)
            return cli_usage_error(
                "query list", "--status is open, answered, closed, live or all, not '%s'", status);
        f.status = (int)s;
        f.is_live = false;
    }
    struct err e = {0};
    struct store_query *qs = NULL;
    size_t n = 0;
    if (store_query_list(st, &f, &qs, &n, &e))
        return cli_fail("query list", &e);
    if (cli_has(a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_out_query(&qs[i]));
        cli_json_print(arr);
    } else {
        printf("%-5s %-9s %-9s %-40s %-8s %s\n", "ID", "STATUS", "RECORD", "WHERE", "BY",
               "MESSAGE");
        for (size_t i = 0; i < n; i++)
            print_query_line(&qs[i]);
        printf("%zu quer%s\n", n, n == 1 ? "y" : "ies");
    }
    free(qs);
    return 0;
}

static int query_show(struct store *st, const struct cli_args *a, long long id)
{
    struct err e = {0};
    struct store_query q;
    struct store_query_message *ms = NULL;
    size_t n = 0;
    if (store_query_get(st, id, &q, &e) || store_query_messages(st, id, &ms, &n, &e))
        return cli_fail("query show", &e);
    if (cli_has(a, "json")) {
        json_t *o = json_out_query(&q), *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_out_query_message(&ms[i]));
        json_object_set_new(o, "thread", arr);
        cli_json_print(o);
    } else {
        print_query_line(&q);
        if (q.raised_value[0])
            printf("      raised on the value: %s\n", q.raised_value);
        if (q.assignee[0])
            printf("      assigned to: %s\n", q.assignee);
        for (size_t i = 0; i < n; i++) {
            printf("  %s  %-8s %-12s %s", ms[i].ts, ms[i].user, ms[i].action, ms[i].text);
            if (ms[i].has_values)
                printf("  [%s -> %s]", ms[i].old_value[0] ? ms[i].old_value : "(blank)",
                       ms[i].new_value[0] ? ms[i].new_value : "(blank)");
            printf("\n");
        }
    }
    free(ms);
    return 0;
}

const struct cli_opt_spec cmd_query_opts[] = {
    STORE_CLI_COMMON_OPTS, {"site", true},   {"message", true}, {"field", true}, {"form", true},
    {"assign", true},      {"record", true}, {"status", true},  {"mine", false}, {NULL, false}};

const struct cli_sub cmd_query_subs[] = {
    {"open", NULL, NULL, NULL},   {"answer", NULL, NULL, NULL}, {"close", NULL, NULL, NULL},
    {"reopen", NULL, NULL, NULL}, {"list", NULL, NULL, NULL},   {"show", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

/* The arguments, before anything is opened; and what the login must allow: reading for list
 * and show, the action's own permission otherwise (the store decides again). */
int cmd_query_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    long long id;
    if (strcmp(sub, "list") == 0) {
        if (a->npos != 0)
            return cli_usage_error(ctx->name, "takes no arguments");
        ctx->action = PERM_DATA_READ;
    } else if (strcmp(sub, "show") == 0) {
        if (a->npos != 1 || parse_id(a->pos[0], &id))
            return cli_usage_error(ctx->name, "expects one query number");
        ctx->action = PERM_DATA_READ;
    } else if (strcmp(sub, "open") == 0) {
        if (a->npos < 1 || a->npos > 2)
            return cli_usage_error(ctx->name, "expects RECORD [EVENT[:INSTANCE]]");
        ctx->action = PERM_QUERY_RAISE;
    } else if (strcmp(sub, "answer") == 0) {
        if (a->npos < 1 || parse_id(a->pos[0], &id))
            return cli_usage_error(ctx->name, "expects a query number, then field=value ...");
        ctx->action = PERM_QUERY_ANSWER;
    } else {
        if (a->npos != 1 || parse_id(a->pos[0], &id))
            return cli_usage_error(ctx->name, "expects one query number");
        ctx->action = PERM_QUERY_CLOSE;
    }
    return 0;
}

/* open: RECORD [EVENT[:INSTANCE]] against the protocol, before the login. */
int cmd_query_prepare(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (strcmp(ctx->sub->name, "open") != 0)
        return 0;
    struct store_query_new *q = arena_calloc(&ctx->ar, 1, sizeof *q);
    struct err e = {0};
    if (!q) {
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail(ctx->name, &e);
    }
    ctx->data = q;
    q->record = a->pos[0];
    q->form = cli_get(a, "form");
    q->field = cli_get(a, "field");
    q->assignee = cli_get(a, "assign");
    q->text = cli_get(a, "message");
    if (a->npos < 2)
        return 0;
    /* an unknown event: the store names it */
    if (cli_parse_event_arg(store_dict(ctx->st), &ctx->ar, a->pos[1], &q->event, &q->instance, &e))
        return e.code == ERR_USAGE ? cli_usage_error(ctx->name, "%s", e.msg)
                                   : cli_fail(ctx->name, &e);
    return 0;
}

int cmd_query(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    struct store *st = ctx->st;
    const struct store_ctx *who = &ctx->who;
    const char *msg = cli_get(a, "message");
    long long id = 0;
    if (strcmp(sub, "list") == 0)
        return query_list(st, a, ctx->user);
    parse_id(a->pos[0], &id);
    if (strcmp(sub, "show") == 0)
        return query_show(st, a, id);
    struct err e = {0};
    if (strcmp(sub, "open") == 0) {
        const struct store_query_new *q = ctx->data;
        if (store_query_open(st, who, q, &id, &e))
            return cli_fail(ctx->name, &e);
        if (cli_has(a, "json"))
            cli_json_print(json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "open"));
        else
            printf("query %lld opened on %s\n", id, q->record);
        return 0;
    }
    if (strcmp(sub, "answer") == 0) {
        struct store_query q;
        struct store_change ch[CLI_MAX_POS];
        size_t n = 0;
        int rc = store_query_get(st, id, &q, &e);
        for (size_t i = 1; i < a->npos && !rc; i++)
            rc = cli_parse_assignment(store_dict(st), &ctx->ar, a->pos[i],
                                      q.event[0] ? q.event : NULL, q.instance, &ch[n++], &e);
        struct store_put_result res;
        store_put_result_init(&res);
        if (!rc)
            rc = store_query_answer(st, who, id, msg, ch, n, &res, &e);
        int exit_status = 0;
        if (rc)
            exit_status = cli_fail_put(ctx->name, &e, &res);
        else if (cli_has(a, "json"))
            cli_json_print(json_out_put_result(
                &res, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "answered")));
        else
            printf("query %lld answered%s\n", id, n ? " (value saved)" : "");
        store_put_result_free(&res);
        return exit_status;
    }
    bool is_close = strcmp(sub, "close") == 0;
    int rc = is_close ? store_query_close(st, who, id, msg, &e)
                      : store_query_reopen(st, who, id, msg, &e);
    if (rc)
        return cli_fail(ctx->name, &e);
    if (cli_has(a, "json"))
        cli_json_print(
            json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", is_close ? "closed" : "open"));
    else
        printf("query %lld %s\n", id, is_close ? "closed" : "reopened");
    return 0;
}
