/* `ioheme quality`: the data-quality list of the whole study, for the data manager. Each check
 * names the record, where, the field by its label and code, the value, and why it is listed.
 * Today's check: stored values that their field's branching logic hides (data entered before the
 * write path refused them, or by an older ioheme): the analysis dataset leaves them out
 * (report/dataset.h), and the list says which to clear or correct. */
#include <jansson.h>
#include <stdio.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "report/dataset.h"

const char CMD_QUALITY_USAGE[] =
    "usage: ioheme quality [--json] [--db FILE] [--user NAME]\n"
    "\n"
    "Lists the study's data-quality findings, record by record in screening order:\n"
    "  hidden_value  a stored value whose field's branching logic hides it (e.g. a reason for\n"
    "                failure on an attempt whose outcome is success). The analysis dataset and\n"
    "                the report leave such values out; clear the value, or correct the answer\n"
    "                that hides it ('ioheme set', with a reason on a complete form).\n"
    "Prints 'no findings' when there are none; the exit status is 0 either way.\n"
    "\n"
    "Needs a role with data_read (every role): --user NAME or $IOHEME_USER; password from\n"
    "$IOHEME_PASSWORD, else asked on the terminal.\n";

struct quality_out {
    json_t *list; /* --json: the findings; else NULL and they are printed */
    size_t n;
};

static int on_hidden(void *ctx, const struct dataset_hidden *h)
{
    struct quality_out *q = ctx;
    char key[300];
    if (!dict_key_format(h->f->name, h->code, key, sizeof key))
        fmt_text(key, sizeof key, "%s", h->f->name);
    q->n++;
    if (q->list)
        return json_array_append_new(
            q->list,
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "check", "hidden_value", "record",
                      h->record, "event", h->event, "instance", h->instance, "field", key, "label",
                      h->f->label, "value", h->value, "branching_logic", h->f->branching_raw));
    printf("%s  %s", h->record, h->event);
    if (h->instance)
        printf(" #%d", h->instance);
    printf("  '%s' (%s) = '%s': hidden by its branching logic %s [hidden_value]\n", h->f->label,
           key, h->value, h->f->branching_raw);
    return 0;
}

int cmd_quality_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos)
        return cli_usage_error("quality", "unexpected argument '%s'", ctx->args.pos[0]);
    return 0;
}

int cmd_quality(struct cmd_ctx *ctx)
{
    struct err e = {0};
    struct quality_out q = {cli_has(&ctx->args, "json") ? json_array() : NULL, 0};
    if (dataset_hidden_values(ctx->st, on_hidden, &q, &e)) {
        json_decref(q.list);
        return cli_fail("quality", &e);
    }
    if (q.list)
        cli_json_print(json_pack("{s:I, s:o}", "count", (json_int_t)q.n, "findings", q.list));
    else if (q.n == 0)
        printf("no findings\n");
    else
        printf("%zu finding(s)\n", q.n);
    return 0;
}
