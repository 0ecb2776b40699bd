/* `ioheme protocol check|show|eval|js`: the protocol folder as a coordinator sees it.
 *
 * check validates a protocol folder and prints every error (exit 3 when invalid); show prints
 * forms, events, the form-by-event matrix and every field (text, or JSON with --json); eval
 * and js run one logic expression through the C evaluator or the JavaScript emitter, so a
 * coordinator can debug branching logic and calculations without a database. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "core/calc.h"
#include "core/dict.h"
#include "core/expr.h"
#include "core/sitetime.h"
#include "core/validate.h"
#include "formats/csv.h"
#include "formats/json_out.h"
#include "formats/redcap.h"

const char CMD_PROTOCOL_USAGE[] =
    "usage: ioheme protocol check [DIR]\n"
    "       ioheme protocol show [DIR] [--json]\n"
    "       ioheme protocol eval EXPR [NAME=VALUE ...] [--now 'YYYY-MM-DD HH:MM'] [--json]\n"
    "                               [--protocol DIR [--event EVENT]]\n"
    "       ioheme protocol js EXPR\n"
    "       ioheme protocol diff DIR [--db FILE] [--user NAME] [--json]\n"
    "       ioheme protocol amend DIR --reason TEXT [--retire NAME] [--accept NAME]\n"
    "                             [--recode FIELD:OLD=NEW] [--dry-run] [--db FILE] [--json]\n"
    "       ioheme protocol versions [--db FILE] [--json]\n"
    "       ioheme protocol from-redcap project.xml DIR [--json]\n"
    "\n"
    "DIR is a protocol folder (dictionary.csv in REDCap's data dictionary format, events.csv,\n"
    "form_events.csv, repeating.csv, and ioheme's study.csv, schedule.csv, sdv.csv and\n"
    "signatures.csv: target enrolment, study ID format, title and country, visit schedule, SDV\n"
    "plan, signature meanings; protocols/io-heme/README.md lists the keys); default\n"
    "$IOHEME_PROTOCOL, else protocols/io-heme.\n"
    "\n"
    "  diff    compares DIR with the protocol the database holds: every added, changed and\n"
    "          removed event, form, form-event mapping, field, type, label, choice, validation,\n"
    "          range, branching and calc, each with the stored values it touches and a verdict:\n"
    "          UNSAFE when it would orphan or reinterpret stored data (a removed field, choice,\n"
    "          form, event or mapping that holds values; a changed type, validation or choice\n"
    "          label over stored values), 'review' when new branching would hide stored values,\n"
    "          'recomputed' for a changed calc, else safe. Any user who may read the data\n"
    "  amend   applies DIR to the live database as the next protocol version (admin; see\n"
    "          'ioheme protocol amend --help')\n"
    "  from-redcap  writes REDCap's project XML as a protocol folder (see 'ioheme protocol\n"
    "          from-redcap --help')\n"
    "  versions  every protocol version: number, when, who, dictionary SHA-256, reason\n"
    "  check   validates the folder and prints every error as file:line:column (for logic,\n"
    "          also the character within the cell), and every warning (what loads but cannot\n"
    "          behave as in REDCap, e.g. an sql field) the same way; exit 0 and 'ok: N fields,\n"
    "          N forms, N events' when valid, exit 3 when not (docs/redcap.md)\n"
    "  show    forms, events, which form is collected at which event, and every field with\n"
    "          its type, validation, range, choices and logic; --json for a machine\n"
    "  eval    evaluates a REDCap logic expression with the C evaluator the server uses.\n"
    "          NAME=VALUE gives [NAME]; 'event/NAME=VALUE' gives [event][NAME]; 'NAME(CODE)=1'\n"
    "          ticks a checkbox option. Unset fields are blank. --now fixes 'today'/'now' as\n"
    "          a wall-clock time (default the clock; 'today' and 'now' are the site's wall\n"
    "          clock, here the zone of $TZ). Prints the value (blank prints an empty line);\n"
    "          --json prints null, a number or a string. With --protocol DIR, calc fields\n"
    "          are computed from their calculations and the expression is checked against\n"
    "          the dictionary; --event names the event plain NAME=VALUE and [NAME] mean\n"
    "          e.g.  ioheme protocol eval 'datediff([dob], \"2024-05-01\", \"y\")' dob=1990-05-01\n"
    "  js      prints the JavaScript the web form runs for EXPR (helpers of src/web/logic.js)\n";

static const char PROTOCOL_AMEND_USAGE[] =
    "usage: ioheme protocol amend DIR --reason TEXT [--retire NAME] [--accept NAME]\n"
    "                             [--recode FIELD:OLD=NEW] [--dry-run] [--db FILE] [--json]\n"
    "\n"
    "Applies the protocol folder DIR to the live database as the next protocol version, in one\n"
    "transaction (admin): the files are kept, the version recorded (number, time, user,\n"
    "reason, SHA-256) and audited; calcs whose definition changed or that are new are\n"
    "recomputed wherever their form holds data (audited as \"calc\", reason \"protocol\n"
    "amendment N: ...\"); values entered from then on carry version N. Check first with\n"
    "'ioheme protocol diff DIR'. An UNSAFE change is refused unless the amendment says what\n"
    "becomes of its values:\n"
    "  --retire NAME          a removed field (a field's removed choices, a form or event):\n"
    "                         the values stay stored, out of use\n"
    "  --recode FIELD:OLD=NEW stored code OLD becomes NEW through the write path, audited\n"
    "  --accept NAME          a changed type, validation or choice label keeps the stored\n"
    "                         values' meaning\n"
    "Each may be repeated or comma-separated. When the protocol defines the study signature\n"
    "protocol_amendment, an investigator signs first (ioheme sign --study --meaning\n"
    "protocol_amendment) and the amendment records that signature. --dry-run checks and\n"
    "lists, changing nothing. A running server picks the new version up without a restart\n"
    "(docs/operations.md, \"Amending the protocol\").\n";

static const char PROTOCOL_FROM_REDCAP_USAGE[] =
    "usage: ioheme protocol from-redcap project.xml DIR [--json]\n"
    "\n"
    "Writes REDCap's project XML (\"Download the project as XML\": CDISC ODM with REDCap's\n"
    "extensions) as the protocol folder DIR: dictionary.csv in REDCap's Data Dictionary\n"
    "format, and events.csv, form_events.csv and repeating.csv where the project has them\n"
    "(docs/redcap.md). Survey metadata is left out and counted. Then\n"
    "  ioheme protocol check DIR\n"
    "  ioheme init --protocol DIR ...\n"
    "  ioheme import odm project.xml\n"
    "bring the project's records in with their IDs.\n";

static const char *protocol_dir(const struct cli_args *a, size_t first_pos)
{
    if (a->npos > first_pos)
        return a->pos[first_pos];
    const char *env = getenv("IOHEME_PROTOCOL");
    return env && *env ? env : "protocols/io-heme";
}

static const struct cli_opt_spec check_opts[] = {{NULL, false}};

static int protocol_check(struct cmd_ctx *ctx)
{
    const struct cli_args *ap = &ctx->args;
    if (ap->npos > 1)
        return cli_usage_error("protocol check", "unexpected argument '%s'", ap->pos[1]);
    const char *dir = protocol_dir(ap, 0);
    struct dict d;
    struct err e;
    struct strbuf errors = STRBUF_INIT;
    size_t nerrors = 0;
    err_clear(&e);
    int rc = dict_load_full(dir, &d, &errors, &nerrors, &e);
    if (rc == ERR_INVALID && nerrors) {
        /* one diagnostic per line, with the folder, as compilers print them */
        const char *s = strbuf_str(&errors);
        while (*s) {
            size_t n = strcspn(s, "\n");
            (void)fprintf(stderr, "%s/%.*s\n", dir, (int)n, s);
            s += n + (s[n] == '\n');
        }
        (void)fprintf(stderr, "ioheme: protocol check: %zu error%s in %s\n", nerrors,
                      nerrors == 1 ? "" : "s", dir);
        strbuf_release(&errors);
        return err_info(ERR_INVALID)->exit_status;
    }
    strbuf_release(&errors);
    if (rc)
        return cli_fail("protocol check", &e);
    for (size_t i = 0; i < d.nwarnings; i++)
        (void)fprintf(stderr, "%s/%s\n", dir, d.warnings[i]);
    printf("ok: %zu fields, %zu forms, %zu events%s\n", d.nfields, d.nforms, d.nevents,
           d.nwarnings ? " (with warnings)" : "");
    dict_free(&d);
    return 0;
}

/* Drops the spaces that padding leaves at the ends of lines. */
static const char *rtrim_lines(struct strbuf *sb)
{
    if (!sb->buf)
        return "";
    char *w = sb->buf;
    for (const char *r = sb->buf; *r; r++) {
        if (*r == '\n')
            while (w > sb->buf && w[-1] == ' ')
                w--;
        *w++ = *r;
    }
    while (w > sb->buf && w[-1] == ' ')
        w--;
    *w = '\0';
    sb->len = (size_t)(w - sb->buf);
    return sb->buf;
}

/* " [min, max]" (" hard" after it with @FORCE-MINMAX): the bounds a value is checked against,
 * fixed, today / now or piped from a field; nothing when there are none. */
static void range_text(const struct dict_field *f, struct strbuf *sb)
{
    const char *lo = dict_field_bound(f, false), *hi = dict_field_bound(f, true);
    if (lo || hi)
        strbuf_addf(sb, " [%s, %s]%s", lo ? lo : "", hi ? hi : "", f->force_minmax ? " hard" : "");
}

static void choices_text(const struct dict_field *f, struct strbuf *sb)
{
    for (size_t i = 0; i < f->nchoices; i++)
        strbuf_addf(sb, "%s%s=%s", i ? " | " : "", f->choices[i].code, f->choices[i].label);
}

static void show_text(const char *dir, const struct dict *d)
{
    printf("Protocol %s: %zu fields, %zu forms, %zu events\n\nForms:\n", dir, d->nfields, d->nforms,
           d->nevents);
    for (size_t i = 0; i < d->nforms; i++)
        printf("  %-24s %-28s %zu fields\n", d->forms[i].name, d->forms[i].label,
               d->forms[i].nfields);
    printf("\nEvents:\n");
    for (size_t i = 0; i < d->nevents; i++)
        printf("  %-24s %-28s day %d (-%d/+%d)\n", d->events[i].name, d->events[i].label,
               d->events[i].day_offset, d->events[i].offset_min, d->events[i].offset_max);
    printf("\nForms by event (x collected, R repeating):\n  %-24s", "");
    for (size_t j = 0; j < d->nevents; j++)
        printf(" %2zu", j + 1);
    printf("   (event numbers as listed above)\n");
    for (size_t i = 0; i < d->nforms; i++) {
        printf("  %-24s", d->forms[i].name);
        for (size_t j = 0; j < d->nevents; j++) {
            size_t k = j * d->nforms + i;
            printf("  %c", d->form_repeats[k] ? 'R' : d->form_at_event[k] ? 'x' : '.');
        }
        printf("\n");
    }
    printf("\nFields:\n");
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        strbuf_reset(&sb);
        strbuf_addf(&sb, "  %-24s %-16s %-11s", f->name, f->form, dict_field_type_name(f->type));
        if (f->vtype != VT_NONE)
            strbuf_addf(&sb, " %s", dict_val_type_name(f->vtype));
        range_text(f, &sb);
        if (f->note[0])
            strbuf_addf(&sb, " (%s)", f->note);
        if (f->is_required)
            strbuf_adds(&sb, " required");
        if (f->is_identifier)
            strbuf_adds(&sb, " identifier");
        if (f->nchoices && f->type != FT_YESNO && f->type != FT_TRUEFALSE) {
            strbuf_adds(&sb, "\n      choices: ");
            choices_text(f, &sb);
        }
        if (f->calc)
            strbuf_addf(&sb, "\n      calc: %s", f->choices_raw);
        if (f->branching)
            strbuf_addf(&sb, "\n      shown if: %s", f->branching_raw);
        if (f->annotation[0])
            strbuf_addf(&sb, "\n      tags: %s", f->annotation);
        puts(rtrim_lines(&sb));
    }
    strbuf_release(&sb);
}

static json_t *jstr(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *show_json(const struct dict *d)
{
    json_t *root = json_object(), *forms = json_array(), *events = json_array(),
           *fields = json_array();
    if (!root || !forms || !events || !fields) {
        json_decref(root);
        json_decref(forms);
        json_decref(events);
        json_decref(fields);
        return NULL;
    }
    json_object_set_new(root, "forms", forms);
    json_object_set_new(root, "events", events);
    json_object_set_new(root, "fields", fields);
    for (size_t i = 0; i < d->nforms; i++) {
        json_t *at = json_array(), *rep = json_array();
        for (size_t j = 0; j < d->nevents; j++) {
            size_t k = j * d->nforms + i;
            if (d->form_at_event[k])
                json_array_append_new(at, jstr(d->events[j].name));
            if (d->form_repeats[k])
                json_array_append_new(rep, jstr(d->events[j].name));
        }
        json_array_append_new(forms, json_pack("{s:s,s:s,s:I,s:o,s:o}", "name", d->forms[i].name,
                                               "label", d->forms[i].label, "nfields",
                                               (json_int_t)d->forms[i].nfields, "events", at,
                                               "repeats_at", rep));
    }
    for (size_t j = 0; j < d->nevents; j++)
        json_array_append_new(events,
                              json_pack("{s:s,s:s,s:i,s:i,s:i}", "name", d->events[j].name, "label",
                                        d->events[j].label, "day_offset", d->events[j].day_offset,
                                        "offset_min", d->events[j].offset_min, "offset_max",
                                        d->events[j].offset_max));
    for (size_t i = 0; i < d->nfields; i++) {
        const struct dict_field *f = &d->fields[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "name", f->name, "form", f->form,
                              "type", dict_field_type_name(f->type), "label", f->label,
                              "validation", dict_val_type_name(f->vtype), "note", f->note,
                              "required", f->is_required, "identifier", f->is_identifier);
        if (!o)
            continue;
        /* as written, checked or not (one naming no field is kept and not checked);
         * minmax_hard when a bound is checked */
        if (*f->vmin)
            json_object_set_new(o, "min", jstr(f->vmin));
        if (*f->vmax)
            json_object_set_new(o, "max", jstr(f->vmax));
        if (dict_field_bound(f, false) || dict_field_bound(f, true))
            json_object_set_new(o, "minmax_hard", json_boolean(f->force_minmax));
        if (f->nchoices) {
            json_t *ch = json_array();
            for (size_t c = 0; c < f->nchoices; c++)
                json_array_append_new(ch, json_pack("{s:s,s:s}", "code", f->choices[c].code,
                                                    "label", f->choices[c].label));
            json_object_set_new(o, "choices", ch);
        }
        if (f->calc)
            json_object_set_new(o, "calc", jstr(f->choices_raw));
        if (f->branching)
            json_object_set_new(o, "branching", jstr(f->branching_raw));
        if (f->annotation[0])
            json_object_set_new(o, "annotation", jstr(f->annotation));
        json_array_append_new(fields, o);
    }
    return root;
}

static const struct cli_opt_spec show_opts[] = {{"json", false}, {NULL, false}};

static int protocol_show(struct cmd_ctx *ctx)
{
    const struct cli_args *ap = &ctx->args;
    if (ap->npos > 1)
        return cli_usage_error("protocol show", "unexpected argument '%s'", ap->pos[1]);
    const char *dir = protocol_dir(ap, 0);
    struct dict d;
    struct err e;
    err_clear(&e);
    if (dict_load(dir, &d, &e))
        return cli_fail("protocol show", &e);
    int rc = 0;
    if (cli_has(ap, "json")) {
        json_t *j = show_json(&d);
        char *s = j ? json_out_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (!s) {
            err_set(&e, ERR_NOMEM, "out of memory");
            rc = cli_fail("protocol show", &e);
        } else {
            puts(s);
            free(s);
        }
    } else {
        show_text(dir, &d);
    }
    dict_free(&d);
    return rc;
}

/* NAME=VALUE pairs from the command line, for eval's lookup. */
struct kv {
    const char *event, *field, *code, *value;
};
struct kv_set {
    struct kv *v;
    size_t n;
    const char *event; /* what a reference without an event means (--event), or NULL */
    const struct dict *d;
};

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int kv_lookup(void *ctx, const char *event, const char *field, const char *code,
                     int instance, struct expr_value *out, struct err *e)
{
    (void)e;
    (void)instance; /* the values given hold one instance: every qualifier reads it */
    const struct kv_set *s = ctx;
    out->kind = EV_BLANK;
    for (size_t i = 0; i < s->n; i++) {
        const struct kv *k = &s->v[i];
        if (strcmp(k->field, field) ||
            !same(k->event ? k->event : s->event, event ? event : s->event) || !same(k->code, code))
            continue;
        validate_logic_value(s->d ? dict_field(s->d, field) : NULL, k->value, out);
    }
    if (code && out->kind == EV_BLANK) { /* an unticked checkbox option is "0" */
        out->kind = EV_STR;
        out->str = "0";
    }
    return 0;
}

/* "event/name(code)=value" -> kv, splitting in place. */
static bool kv_parse(char *arg, struct kv *k)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = '\0';
    k->value = eq + 1;
    char *slash = strchr(arg, '/');
    k->event = NULL;
    if (slash) {
        *slash = '\0';
        k->event = arg;
        arg = slash + 1;
    }
    k->field = arg;
    k->code = NULL;
    char *lp = strchr(arg, '(');
    if (lp) {
        char *rp = strchr(lp, ')');
        if (!rp || rp[1])
            return false;
        *lp = *rp = '\0';
        k->code = lp + 1;
    }
    return *k->field != '\0';
}

static int parse_expr_arg(const char *cmd, const char *src, struct arena *ar, struct expr **x)
{
    struct err e;
    size_t col;
    err_clear(&e);
    if (expr_parse(src, ar, x, &col, &e) == 0)
        return 0;
    (void)fprintf(stderr, "ioheme: %s: %s\n  %s\n  %*s^\n", cmd, e.msg, src,
                  (int)(col ? col - 1 : 0), "");
    return err_info(e.code)->exit_status;
}

/* With --protocol: the fields and events the expression names must exist. */
struct ref_check {
    const struct dict *d;
    struct err *e;
};

static int check_ref(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    struct ref_check *c = ctx;
    const struct dict_field *f = dict_field(c->d, field);
    if (event && dict_event_index(c->d, event) < 0)
        return err_set(c->e, ERR_INVALID, "column %zu: unknown event [%s]", pos, event);
    struct dict_key k;
    if (!f && dict_key_parse(c->d, field, &k) != DICT_KEY_STATUS)
        return err_set(c->e, ERR_INVALID, "column %zu: unknown field [%s]", pos, field);
    if (code && f && !dict_choice_label(f, code))
        return err_set(c->e, ERR_INVALID, "column %zu: [%s] has no option '%s'", pos, field, code);
    return 0;
}

static void check_expr_refs(const struct dict *d, const struct expr *x, const char *event,
                            struct err *e)
{
    if (event && dict_event_index(d, event) < 0) {
        err_set(e, ERR_INVALID, "--event: unknown event '%s'", event);
        return;
    }
    struct ref_check c = {d, e};
    expr_foreach_ref(x, check_ref, &c);
}

static const struct cli_opt_spec eval_opts[] = {
    {"now", true}, {"json", false}, {"protocol", true}, {"event", true}, {NULL, false}};

static int protocol_eval(struct cmd_ctx *ctx)
{
    const struct cli_args *ap = &ctx->args;
    if (ap->npos < 1)
        return cli_usage_error("protocol eval", "give the expression to evaluate");
    long long now_ms = (long long)time(NULL) * 1000;
    const char *now = cli_get(ap, "now");
    if (now) {
        double secs;
        if (!validate_parse_ordered(VT_DATETIME_SECONDS_YMD, now, &secs) &&
            !validate_parse_ordered(VT_DATETIME_YMD, now, &secs) &&
            !(validate_parse_ordered(VT_DATE_YMD, now, &secs) && (secs *= 86400.0, true)))
            return cli_usage_error("protocol eval", "--now '%s' is not YYYY-MM-DD[ HH:MM[:SS]]",
                                   now);
        now_ms = sitetime_ms_from_wall((long long)secs); /* a wall-clock time: the instant */
    }
    struct kv kvs[CLI_MAX_POS];
    struct kv_set set = {kvs, 0, cli_get(ap, "event"), NULL};
    for (size_t i = 1; i < ap->npos; i++)
        if (!kv_parse(ap->pos[i], &kvs[set.n++]))
            return cli_usage_error("protocol eval", "'%s' is not NAME=VALUE", ap->pos[i]);
    struct arena ar = ARENA_INIT;
    struct expr *x;
    int rc = parse_expr_arg("protocol eval", ap->pos[0], &ar, &x);
    if (rc) {
        arena_free(&ar);
        return rc;
    }
    struct expr_value v;
    struct err e;
    err_clear(&e);
    struct dict d = {0};
    const char *dir = cli_get(ap, "protocol");
    if (dir && dict_load(dir, &d, &e) == 0) {
        check_expr_refs(&d, x, set.event, &e);
        set.d = &d; /* values read as the server's logic reads them (validate_logic_value) */
    }
    if (e.code) {
        dict_free(&d);
        arena_free(&ar);
        return cli_fail("protocol eval", &e);
    }
    struct calc_lookup calc;
    calc_lookup_init(&calc, &d, kv_lookup, &set, now_ms, &ar);
    rc = dir ? expr_eval(x, calc_lookup_fn, &calc, now_ms, &ar, &v, &e)
             : expr_eval(x, kv_lookup, &set, now_ms, &ar, &v, &e);
    dict_free(&d);
    if (rc) {
        arena_free(&ar);
        return cli_fail("protocol eval", &e);
    }
    struct strbuf sb = STRBUF_INIT;
    expr_value_format(&v, &sb);
    if (!cli_has(ap, "json")) {
        puts(strbuf_str(&sb));
    } else if (v.kind == EV_BLANK) {
        puts("null");
    } else if (v.kind == EV_NUM) {
        puts(strbuf_str(&sb));
    } else {
        json_t *j = json_string(v.str);
        char *s = j ? json_out_dumps(j, JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (!s) {
            strbuf_release(&sb);
            arena_free(&ar);
            err_set(&e, ERR_NOMEM, "out of memory (or the text is not UTF-8)");
            return cli_fail("protocol eval", &e);
        }
        puts(s);
        free(s);
    }
    strbuf_release(&sb);
    arena_free(&ar);
    return 0;
}

/* ---- diff, amend, versions ----------------------------------------------------------------*/

static void change_print(const struct store_protocol_change *pc)
{
    const struct dict_change *c = &pc->c;
    printf("%c %-9s %s%s%s", "+-~"[c->kind], c -> what, c -> name, c -> code ? " " : "",
           c->code ? c->code : "");
    if (c->detail)
        printf(": %s", c->detail);
    if (pc->stored)
        printf(" (%lld stored value%s)", pc->stored, pc->stored == 1 ? "" : "s");
    printf("  [%s]\n", store_verdict_name(pc->verdict));
}

static json_t *changes_json(const struct store_protocol_change *pc, size_t n)
{
    static const char *const kinds[] = {"added", "removed", "changed"};
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct dict_change *c = &pc[i].c;
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "change", kinds[c->kind], "what",
                              c->what, "name", c->name, "stored_values", (json_int_t)pc[i].stored,
                              "verdict", store_verdict_name(pc[i].verdict));
        json_object_set_new(o, "code", c->code ? json_string(c->code) : json_null());
        json_object_set_new(o, "detail", c->detail ? json_string(c->detail) : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

static size_t unsafe_count(const struct store_protocol_change *pc, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += pc[i].verdict == STORE_VERDICT_UNSAFE;
    return k;
}

static const struct cli_opt_spec diff_opts[] = {STORE_CLI_COMMON_OPTS, {NULL, false}};

static int protocol_diff(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos != 1)
        return cli_usage_error("protocol diff", "expects the protocol folder DIR");
    struct err e = {0};
    struct store *st = NULL;
    struct dict nd;
    memset(&nd, 0, sizeof nd);
    struct arena ar = ARENA_INIT;
    struct store_protocol_change *c = NULL;
    size_t n = 0;
    int rc = cli_store_open(a, &st, &e);
    if (!rc)
        rc = cli_login(st, a, PERM_DATA_READ, false, &ctx->who, ctx->user, &e);
    bool loaded = false;
    if (!rc)
        loaded = (rc = dict_load(a->pos[0], &nd, &e)) == 0;
    if (!rc)
        rc = store_protocol_diff(st, &nd, &ar, &c, &n, &e);
    size_t unsafe = rc ? 0 : unsafe_count(c, n);
    if (!rc && cli_has(a, "json")) {
        cli_json_print(json_pack("{s:s, s:i, s:o, s:b, s:I}", "protocol", a->pos[0],
                                 "current_version", store_protocol_version(st), "changes",
                                 changes_json(c, n), "safe", unsafe == 0, "unsafe",
                                 (json_int_t)unsafe));
    } else if (!rc) {
        for (size_t i = 0; i < n; i++)
            change_print(&c[i]);
        printf("%zu change(s), %zu unsafe%s\n", n, unsafe,
               unsafe ? ": they would orphan or reinterpret stored data" : "");
    }
    if (loaded)
        dict_free(&nd);
    arena_free(&ar);
    store_close(st);
    return rc ? cli_fail("protocol diff", &e) : 0;
}

static const struct cli_opt_spec amend_opts[] = {
    STORE_CLI_COMMON_OPTS, {"reason", true},   {"retire", true}, {"accept", true},
    {"recode", true},      {"dry-run", false}, {NULL, false}};

/* Every value of a repeatable option, each also split at commas, into out (in ar). */
static int opt_list(const struct cli_args *a, const char *name, struct arena *ar, const char ***out,
                    size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], name) != 0)
            continue;
        char *v = arena_strdup(ar, a->opt_value[i]);
        if (!v)
            return ERR_NOMEM;
        for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            const char **g = arena_grow(ar, *out, *n, &cap, sizeof *g, 4);
            if (!g)
                return ERR_NOMEM;
            *out = g;
            g[(*n)++] = tok;
        }
    }
    return 0;
}

static int protocol_amend(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos != 1)
        return cli_usage_error("protocol amend", "expects the protocol folder DIR");
    const char *reason = cli_get(a, "reason");
    if (!reason || !*reason)
        return cli_usage_error("protocol amend", "give the amendment's --reason");
    struct arena ar = ARENA_INIT;
    struct store_amend am = {.reason = reason, .dry_run = cli_has(a, "dry-run")};
    const char **recodes = NULL;
    size_t nrecodes = 0;
    struct err e = {0};
    int rc = 0;
    if (opt_list(a, "retire", &ar, (const char ***)&am.retire, &am.nretire) ||
        opt_list(a, "accept", &ar, (const char ***)&am.accept, &am.naccept) ||
        opt_list(a, "recode", &ar, &recodes, &nrecodes))
        rc = err_set(&e, ERR_NOMEM, "out of memory");
    struct store_recode *rv = nrecodes ? arena_calloc(&ar, nrecodes, sizeof *rv) : NULL;
    for (size_t i = 0; !rc && i < nrecodes; i++) {
        /* FIELD:OLD=NEW */
        char *v = arena_strdup(&ar, recodes[i]);
        char *colon = v ? strchr(v, ':') : NULL;
        char *eq = colon ? strchr(colon + 1, '=') : NULL;
        if (!colon || !eq || colon == v || eq == colon + 1 || !eq[1]) {
            arena_free(&ar);
            return cli_usage_error("protocol amend", "--recode '%s': expected FIELD:OLD=NEW",
                                   recodes[i]);
        }
        *colon = *eq = '\0';
        rv[i] = (struct store_recode){v, colon + 1, eq + 1};
    }
    am.recode = rv;
    am.nrecode = nrecodes;
    struct store *st = NULL;
    if (!rc)
        rc = cli_store_open(a, &st, &e);
    if (!rc)
        rc = cli_login(st, a, PERM_PROTOCOL_AMEND, false, &ctx->who, ctx->user, &e);
    struct store_amend_result res;
    memset(&res, 0, sizeof res);
    if (!rc)
        rc = store_protocol_amend(st, &ctx->who, a->pos[0], &am, &ar, &res, &e);
    bool refused = rc == ERR_CONFLICT && res.nchanges > 0;
    if ((!rc || refused) && cli_has(a, "json")) {
        cli_json_print(json_pack(
            "{s:s, s:i, s:s, s:b, s:b, s:o, s:I, s:I, s:I, s:I, s:o}", "protocol", a->pos[0],
            "version", res.version, "sha256", res.sha256, "applied", !rc && !am.dry_run, "dry_run",
            am.dry_run, "changes", changes_json(res.changes, res.nchanges), "refused",
            (json_int_t)res.nrefused, "records", (json_int_t)res.nrecords, "recoded",
            (json_int_t)res.nrecoded, "recomputed", (json_int_t)res.nrecomputed, "signature",
            res.signature_id ? json_integer(res.signature_id) : json_null()));
    } else if (!rc || refused) {
        for (size_t i = 0; i < res.nchanges; i++)
            change_print(&res.changes[i]);
        if (!rc && am.dry_run)
            printf("dry run: version %d would apply %zu change(s); nothing changed\n", res.version,
                   res.nchanges);
        else if (!rc)
            printf("protocol version %d in force: %zu change(s), %lld value(s) recoded, %lld calc "
                   "value(s) recomputed over %zu record(s)%s%.0lld\n",
                   res.version, res.nchanges, res.nrecoded, res.nrecomputed, res.nrecords,
                   res.signature_id ? "; approved by signature " : "", res.signature_id);
    }
    store_close(st);
    arena_free(&ar);
    return rc ? cli_fail("protocol amend", &e) : 0;
}

static const struct cli_opt_spec versions_opts[] = {STORE_CLI_COMMON_OPTS, {NULL, false}};

static int protocol_versions(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos != 0)
        return cli_usage_error("protocol versions", "takes no arguments");
    struct err e = {0};
    struct store *st = NULL;
    struct store_protocol_version *v = NULL;
    size_t n = 0;
    int rc = cli_store_open(a, &st, &e);
    if (!rc)
        rc = cli_login(st, a, PERM_PROTOCOL_READ, false, &ctx->who, ctx->user, &e);
    if (!rc)
        rc = store_protocol_versions(st, &v, &n, &e);
    if (!rc && cli_has(a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr,
                                  json_pack("{s:i, s:s, s:s, s:s, s:s, s:I}", "version",
                                            v[i].version, "applied_at", v[i].applied_at, "user",
                                            v[i].user, "reason", v[i].reason, "sha256", v[i].sha256,
                                            "audit_id", (json_int_t)v[i].audit_id));
        cli_json_print(
            json_pack("{s:i, s:o}", "current", store_protocol_version(st), "versions", arr));
    } else if (!rc) {
        for (size_t i = 0; i < n; i++)
            printf("%d  %s  %-12s %.16s  %s\n", v[i].version, v[i].applied_at, v[i].user,
                   v[i].sha256, v[i].reason);
    }
    free(v);
    store_close(st);
    return rc ? cli_fail("protocol versions", &e) : 0;
}

static const struct cli_opt_spec from_redcap_opts[] = {{"json", false}, {NULL, false}};

static int protocol_from_redcap(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos != 2)
        return cli_usage_error("protocol from-redcap", "expects project.xml and the folder DIR");
    struct err e = {0};
    char *data = NULL;
    size_t len = 0;
    struct redcap_xml_stats stats;
    int rc = csv_file_read_all(a->pos[0], &data, &len, &e);
    if (!rc)
        rc = redcap_project_xml_protocol(a->pos[0], data, len, a->pos[1], &stats, &e);
    free(data);
    if (rc)
        return cli_fail("protocol from-redcap", &e);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "file", a->pos[0], "dir",
                                 a->pos[1], "fields", (json_int_t)stats.nfields, "forms",
                                 (json_int_t)stats.nforms, "events", (json_int_t)stats.nevents,
                                 "repeating", (json_int_t)stats.nrepeating, "survey_items_left_out",
                                 (json_int_t)stats.nskipped));
    else
        printf("wrote %s: %zu fields, %zu forms, %zu events, %zu repeating; %zu survey item(s) "
               "left out (ioheme has no surveys). Check it with: ioheme protocol check %s\n",
               a->pos[1], stats.nfields, stats.nforms, stats.nevents, stats.nrepeating,
               stats.nskipped, a->pos[1]);
    return 0;
}

static const struct cli_opt_spec js_opts[] = {{NULL, false}};

static int protocol_js(struct cmd_ctx *ctx)
{
    const struct cli_args *ap = &ctx->args;
    if (ap->npos != 1)
        return cli_usage_error("protocol js", "give exactly one expression");
    struct arena ar = ARENA_INIT;
    struct expr *x;
    int rc = parse_expr_arg("protocol js", ap->pos[0], &ar, &x);
    if (!rc) {
        struct strbuf sb = STRBUF_INIT;
        struct err e;
        err_clear(&e);
        if (expr_to_js(x, &sb, &e))
            rc = cli_fail("protocol js", &e);
        else
            puts(strbuf_str(&sb));
        strbuf_release(&sb);
    }
    arena_free(&ar);
    return rc;
}

const struct cli_sub cmd_protocol_subs[] = {
    {"check", check_opts, NULL, protocol_check},
    {"show", show_opts, NULL, protocol_show},
    {"eval", eval_opts, NULL, protocol_eval},
    {"js", js_opts, NULL, protocol_js},
    {"diff", diff_opts, NULL, protocol_diff},
    {"amend", amend_opts, PROTOCOL_AMEND_USAGE, protocol_amend},
    {"versions", versions_opts, NULL, protocol_versions},
    {"from-redcap", from_redcap_opts, PROTOCOL_FROM_REDCAP_USAGE, protocol_from_redcap},
    {NULL, NULL, NULL, NULL},
};
