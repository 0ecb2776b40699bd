/* `ioheme show` (a record's events × forms with status and values) and `ioheme history`
 * (every change of one field: who, when, old -> new, why). Both act as a logged-in user whose
 * role holds data_read (core/perm.h), as the web server's record pages do; viewing leaves no
 * audit row (docs/security.md, "Access control"). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SHOW_USAGE[] =
    "usage: ioheme show RECORD [--json] [--db FILE] [--user NAME]\n"
    "\n"
    "Shows a record (study ID or screening number): its status, then each event and form that\n"
    "has data, with the form's status and values in dictionary order. Values outside their\n"
    "expected range are marked [flag: min|max].\n"
    "\n"
    "Needs a role with data_read (every role): --user NAME or $IOHEME_USER; password from\n"
    "$IOHEME_PASSWORD, else asked on the terminal.\n";

const char CMD_HISTORY_USAGE[] =
    "usage: ioheme history RECORD FIELD [--json] [--db FILE] [--user NAME]\n"
    "\n"
    "Shows every change of FIELD in RECORD from the audit trail, oldest first: when (UTC),\n"
    "who, event and instance, old -> new value, and the reason given.\n"
    "\n"
    "Needs a role with data_read (every role): --user NAME or $IOHEME_USER; password from\n"
    "$IOHEME_PASSWORD, else asked on the terminal.\n";

struct val {
    const char *event, *field, *code, *value, *flag;
    int instance;
    int version; /* the protocol version it was entered under */
};

struct vals {
    struct val *v;
    size_t n, cap;
    struct arena *ar;
};

static int collect(void *ctx, const struct store_value *sv)
{
    struct vals *vs = ctx;
    struct val *nv = arena_grow(vs->ar, vs->v, vs->n, &vs->cap, sizeof *nv, 64);
    if (!nv)
        return ERR_NOMEM;
    vs->v = nv;
    struct val *v = &vs->v[vs->n++];
    v->event = arena_strdup(vs->ar, sv->event);
    v->field = arena_strdup(vs->ar, sv->field);
    v->code = sv->code ? arena_strdup(vs->ar, sv->code) : NULL;
    v->value = arena_strdup(vs->ar, sv->value);
    v->flag = sv->flag ? arena_strdup(vs->ar, sv->flag) : NULL;
    v->instance = sv->instance;
    v->version = sv->version;
    return 0;
}

struct states {
    struct store_form_state s[512];
    size_t n;
    struct arena *ar;
};

static int collect_state(void *ctx, const struct store_form_state *fs)
{
    struct states *ss = ctx;
    if (ss->n == sizeof ss->s / sizeof ss->s[0])
        return 0;
    struct store_form_state *s = &ss->s[ss->n++];
    *s = *fs;
    s->event = arena_strdup(ss->ar, fs->event);
    s->form = arena_strdup(ss->ar, fs->form);
    s->record = NULL;
    return 0;
}

static const char *status_name(int s)
{
    return s == 2 ? "complete" : s == 1 ? "unverified" : s == 0 ? "incomplete" : "no status";
}

static int form_status_of(const struct states *ss, const char *ev, const char *form, int inst)
{
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].instance == inst && strcmp(ss->s[i].event, ev) == 0 &&
            strcmp(ss->s[i].form, form) == 0)
            return ss->s[i].status;
    return -1;
}

static int int_order(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Instances of form at ev that have values or a status, ascending, each once, into out (room
 * for vs->n + ss->n: every instance there is). */
static size_t instances(const struct dict *d, const struct vals *vs, const struct states *ss,
                        const char *ev, const struct dict_form *form, int *out)
{
    size_t n = 0;
    for (size_t i = 0; i < vs->n; i++) {
        const struct dict_field *f = dict_field(d, vs->v[i].field);
        if (f && &d->forms[f->form_index] == form && strcmp(vs->v[i].event, ev) == 0)
            out[n++] = vs->v[i].instance;
    }
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->s[i].form, form->name) == 0 && strcmp(ss->s[i].event, ev) == 0)
            out[n++] = ss->s[i].instance;
    qsort(out, n, sizeof *out, int_order);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || out[m - 1] != out[i])
            out[m++] = out[i];
    return m;
}

static json_t *form_json(const struct dict *d, const struct vals *vs, const char *ev,
                         const struct dict_form *form, int inst, int status, int current)
{
    json_t *values = json_object();
    json_t *versions = current > 1 ? json_object() : NULL; /* once the protocol was amended */
    for (size_t fi = 0; fi < form->nfields; fi++) {
        const struct dict_field *f = &d->fields[form->first_field + fi];
        for (size_t i = 0; i < vs->n; i++) {
            const struct val *v = &vs->v[i];
            if (v->instance != inst || strcmp(v->field, f->name) || strcmp(v->event, ev))
                continue;
            if (v->code) {
                json_t *arr = json_object_get(values, f->name);
                if (!arr) {
                    arr = json_array();
                    json_object_set_new(values, f->name, arr);
                }
                json_array_append_new(arr, json_string(v->code));
            } else {
                json_object_set_new(values, f->name, json_out_text(v->value));
            }
            if (versions)
                json_object_set_new(versions, f->name, json_integer(v->version));
        }
    }
    json_t *o = json_pack("{s:s, s:i, s:s, s:o}", "form", form->name, "instance", inst, "status",
                          status_name(status), "values", values);
    if (versions)
        json_object_set_new(o, "protocol_versions", versions);
    return o;
}

static void form_text(const struct dict *d, const struct vals *vs, const char *ev,
                      const struct dict_form *form, int inst, int status, int current)
{
    if (inst)
        printf("  %s #%d  [%s]\n", form->name, inst, status_name(status));
    else
        printf("  %s  [%s]\n", form->name, status_name(status));
    for (size_t fi = 0; fi < form->nfields; fi++) {
        const struct dict_field *f = &d->fields[form->first_field + fi];
        bool first = true;
        for (size_t i = 0; i < vs->n; i++) {
            const struct val *v = &vs->v[i];
            if (v->instance != inst || strcmp(v->field, f->name) || strcmp(v->event, ev))
                continue;
            if (first)
                printf("    %-22s ", f->name);
            else
                printf(", ");
            if (v->code) {
                const char *lbl = dict_choice_label(f, v->code);
                printf("%s (%s)", v->code, lbl ? lbl : "?");
            } else {
                const char *lbl = f->nchoices ? dict_choice_label(f, v->value) : NULL;
                printf("%s", v->value);
                if (lbl)
                    printf(" (%s)", lbl);
                if (f->note && *f->note && !lbl && strlen(f->note) < 16)
                    printf(" %s", f->note);
                if (v->flag)
                    printf("  [flag: %s]", v->flag);
            }
            if (current > 1 && v->version != current) /* entered under an earlier protocol */
                printf("  [protocol v%d]", v->version);
            first = false;
        }
        if (!first)
            printf("\n");
    }
}

static int show(struct store *st, const char *record, bool json)
{
    struct err e = {0};
    struct store_record r;
    struct arena ar = ARENA_INIT;
    struct vals vs = {.ar = &ar};
    struct states *ss = calloc(1, sizeof *ss);
    struct store_form_lock *fl = NULL;
    size_t nfl = 0;
    int rc = ss ? store_record_get(st, record, &r, &e) : err_set(&e, ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_form_locks(st, r.id, &fl, &nfl, &e);
    if (!rc)
        rc = store_record_values(st, record, collect, &vs, &e);
    if (!rc) {
        ss->ar = &ar;
        rc = store_form_states(st, record, collect_state, ss, &e);
    }
    /* room for every instance the record has, for each form in turn */
    int *inst = rc ? NULL : arena_calloc_uninit(&ar, vs.n + ss->n + 1, sizeof *inst);
    if (!rc && !inst)
        rc = err_set(&e, ERR_NOMEM, "out of memory");
    if (rc) {
        free(ss);
        free(fl);
        arena_free(&ar);
        return cli_fail("show", &e);
    }
    const struct dict *d = store_dict(st);
    int current = store_protocol_version(st);
    json_t *events = json ? json_array() : NULL;
    if (!json)
        printf("%s  screening %s  study ID %s  %s%s%s%s\n", store_record_name(&r), r.screening_no,
               r.study_id[0] ? r.study_id : "-", store_record_status_name(r.status),
               r.site[0] ? "  site " : "", r.site, r.is_locked ? "  LOCKED" : "");
    for (size_t i = 0; i < nfl && !json; i++)
        printf("locked: form %s at %s%s%.0d (by %s, %s)\n", fl[i].form, fl[i].event,
               fl[i].instance ? ":" : "", fl[i].instance, fl[i].locked_by, fl[i].locked_at);
    for (size_t ev = 0; ev < d->nevents; ev++) {
        const char *evn = d->events[ev].name;
        json_t *forms = json ? json_array() : NULL;
        bool header = false;
        for (size_t fo = 0; fo < d->nforms; fo++) {
            if (!d->form_at_event[ev * d->nforms + fo])
                continue;
            size_t ni = instances(d, &vs, ss, evn, &d->forms[fo], inst);
            for (size_t k = 0; k < ni; k++) {
                int status = form_status_of(ss, evn, d->forms[fo].name, inst[k]);
                if (json) {
                    json_array_append_new(
                        forms, form_json(d, &vs, evn, &d->forms[fo], inst[k], status, current));
                    continue;
                }
                if (!header)
                    printf("%s (%s)\n", d->events[ev].label, evn);
                header = true;
                form_text(d, &vs, evn, &d->forms[fo], inst[k], status, current);
            }
        }
        if (json && json_array_size(forms))
            json_array_append_new(events, json_pack("{s:s, s:s, s:o}", "event", evn, "label",
                                                    d->events[ev].label, "forms", forms));
        else if (json)
            json_decref(forms);
    }
    /* values of fields an amendment retired: kept, out of use, with their version */
    json_t *retired = json ? json_array() : NULL;
    for (size_t i = 0; i < vs.n; i++) {
        const struct val *v = &vs.v[i];
        if (dict_field(d, v->field))
            continue;
        if (json)
            json_array_append_new(retired,
                                  json_pack("{s:s, s:i, s:s, s:s, s:i}", "event", v->event,
                                            "instance", v->instance, "field", v->field, "value",
                                            v->value, "protocol_version", v->version));
        else
            printf("retired: %s %s%s%.0d %s = %s  [protocol v%d]\n", v->field, v->event,
                   v->instance ? " #" : "", v->instance, v->code ? v->code : "", v->value,
                   v->version);
    }
    if (json) {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:b, s:o}", "record", store_record_name(&r), "screening_no",
                      r.screening_no, "status", store_record_status_name(r.status), "locked",
                      r.is_locked, "events", events);
        json_object_set_new(o, "study_id", r.study_id[0] ? json_string(r.study_id) : json_null());
        json_object_set_new(o, "site", r.site[0] ? json_string(r.site) : json_null());
        json_t *locks = json_array();
        for (size_t i = 0; i < nfl; i++)
            json_array_append_new(locks, json_out_form_lock(&fl[i]));
        json_object_set_new(o, "locked_forms", locks);
        json_object_set_new(o, "protocol_version", json_integer(current));
        if (json_array_size(retired))
            json_object_set_new(o, "retired_values", json_incref(retired));
        cli_json_print(o);
    }
    json_decref(retired);
    free(fl);
    free(ss);
    arena_free(&ar);
    return 0;
}

int cmd_show_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 1)
        return cli_usage_error("show", "expects one RECORD");
    return 0;
}

int cmd_show(struct cmd_ctx *ctx)
{
    return show(ctx->st, ctx->args.pos[0], cli_has(&ctx->args, "json"));
}

struct hist_ctx {
    bool json;
    json_t *arr;
    int n;
};

static int hist_row(void *ctx, const struct store_audit_row *r)
{
    struct hist_ctx *h = ctx;
    h->n++;
    if (h->json) {
        json_array_append_new(h->arr, json_out_audit_row(r));
        return 0;
    }
    struct strbuf where = STRBUF_INIT;
    strbuf_adds(&where, r->event ? r->event : "");
    if (r->instance > 0)
        strbuf_addf(&where, ":%lld", r->instance);
    printf("%s  %-12s %-6s %-22s %s: %s -> %s", r->ts, r->user, r->action, strbuf_str(&where),
           r->field ? r->field : "", r->old_value ? r->old_value : "(blank)",
           r->new_value ? r->new_value : "(blank)");
    strbuf_release(&where);
    if (r->reason)
        printf("  reason: %s", r->reason);
    if (r->protocol_version > 1) /* after an amendment: under which protocol */
        printf("  [protocol v%d]", r->protocol_version);
    printf("\n");
    return 0;
}

int cmd_history_check(struct cmd_ctx *ctx)
{
    if (ctx->args.npos != 2)
        return cli_usage_error("history", "expects RECORD FIELD");
    return 0;
}

int cmd_history(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    struct hist_ctx h = {cli_has(a, "json"), NULL, 0};
    if (h.json)
        h.arr = json_array();
    int rc = store_field_history(ctx->st, a->pos[0], a->pos[1], hist_row, &h, &e);
    if (!rc && h.json) {
        cli_json_print(h.arr);
        h.arr = NULL;
    } else if (!rc && h.n == 0) {
        printf("no changes of %s in %s\n", a->pos[1], a->pos[0]);
    }
    json_decref(h.arr);
    return rc ? cli_fail("history", &e) : 0;
}
