/* The one write path: store_put_changes and its batch.
 *
 * Every value that enters the database — typed at the bedside, posted to the API, imported
 * from a file, or produced by the simulation — comes through store_put_changes_locked, which
 *   1. checks each change against the protocol (field, event, instance, validation) and
 *      collects every hard error, refusing the whole set when there is one;
 *   2. requires a reason for changes to forms already marked complete;
 *   3. writes changed values and statuses with one audit row each (unchanged values write
 *      nothing);
 *      (before writing, a value outside a min or max piped from another field is flagged or,
 *      with @FORCE-MINMAX, refuses the set: write_check.c);
 *   4. recomputes calc fields with the logic language until nothing changes, auditing each
 *      changed calc as "calc"; then refuses a set that leaves a value on a field its branching
 *      logic hides or a complete form without its required fields (write_check.c);
 *   5. refreshes the record's eligibility status from the @ELIGIBLE calc.
 * The caller's transaction (or savepoint) makes it all or nothing. */
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "core/sitetime.h"
#include "core/validate.h"
#include "store/store_int.h"
#include "store/write_int.h"

void store_put_result_init(struct store_put_result *r)
{
    memset(r, 0, sizeof *r);
}

void store_put_result_free(struct store_put_result *r)
{
    if (!r)
        return;
    free(r->issues);
    memset(r, 0, sizeof *r);
}

void store_put_more_refused(struct err *e, size_t nhard)
{
    if (nhard > 1 && e)
        fmt_text(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                 " (and %zu more rejected values)", nhard - 1);
}

int store_put_issue_add(struct store_put_result *res, enum store_issue_level level, size_t idx,
                        const struct store_change *c, const char *rule, const char *msg)
{
    if (!res)
        return 0;
    struct store_issue *n = realloc(res->issues, (res->nissues + 1) * sizeof *n);
    if (!n)
        return ERR_NOMEM;
    res->issues = n;
    struct store_issue *is = &n[res->nissues++];
    memset(is, 0, sizeof *is);
    is->level = level;
    is->change_index = idx;
    fmt_text(is->event, sizeof is->event, "%s", c->event ? c->event : "");
    is->instance = c->instance;
    if (!dict_key_format(c->field ? c->field : "", c->code, is->field, sizeof is->field))
        is->field[0] = '\0'; /* longer than any name the dictionary has */
    fmt_text(is->rule, sizeof is->rule, "%s", rule);
    fmt_text(is->value, sizeof is->value, "%s", c->value ? c->value : "");
    fmt_text(is->msg, sizeof is->msg, "%s", msg);
    return 0;
}

static int touch(struct put_state *ps, size_t ev, int instance, const struct dict_field *f)
{
    struct touched *n = arena_grow(&ps->ar, ps->t, ps->nt, &ps->tcap, sizeof *n, 16);
    if (!n)
        return ERR_NOMEM;
    ps->t = n;
    ps->t[ps->nt++] = (struct touched){ps->st->dict.events[ev].name, instance, f->name, ev, f};
    return 0;
}

/* Whether form fi at (event, instance) is locked (store_form_lock): NULL when not, else the
 * rule "locked" with msg saying so. The one place the write path decides it: plan_change for
 * what a change names, value_write for what a change recomputes. */
static const char *form_lock_check(const struct put_state *ps, const char *event, size_t fi,
                                   int instance, const char *what, char *msg, size_t msglen)
{
    const char *form = ps->st->dict.forms[fi].name;
    for (size_t i = 0; i < ps->nflocks; i++) {
        const struct store_form_lock *l = &ps->flocks[i];
        if (l->instance == instance && strcmp(l->form, form) == 0 && strcmp(l->event, event) == 0) {
            fmt_text(msg, msglen, "%s: form '%s' at %s%s%.0d of %s is locked (by %s, %s)", what,
                     form, event, instance ? ":" : "", instance, ps->rname, l->locked_by,
                     l->locked_at);
            return "locked";
        }
    }
    return NULL;
}

/* The first time a change set updates a value of its record: whether the record has a live
 * query, a verified value or a valid signature (which an update must reopen, clear or
 * invalidate), in one read instead of one per hook; the hooks read their own when called
 * elsewhere. */
static int record_marks(struct put_state *ps, struct err *e)
{
    if (ps->has_live_queries >= 0 || ps->has_sdv >= 0 || ps->has_signature >= 0)
        return 0;
    sqldb_stmt *s = store_stmt_get(ps->st, SQ_RECORD_MARKS, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(ps->st, s, 1, ps->r->id);
    int step = store_step(ps->st, s);
    if (step == SQLITE_ROW) {
        ps->has_live_queries = store_sql_col_int(s, 0) != 0;
        ps->has_sdv = store_sql_col_int(s, 1) != 0;
        ps->has_signature = store_sql_col_int(s, 2) != 0;
    }
    store_sql_reset(s);
    if (step != SQLITE_ROW)
        return store_db_fail(ps->st, e, "looking for queries, verifications and signatures");
    return 0;
}

/* Writes (or deletes, when value is "") one value and its audit row. */
static int value_write(struct put_state *ps, const char *action, const char *event, int instance,
                       const struct dict_field *f, const char *code, const char *old,
                       const char *value, const char *flag, const char *reason, struct err *e)
{
    struct store *st = ps->st;
    bool del = !*value;
    if (ps->nflocks) { /* the message is built only when some form of the record is locked */
        char msg[300], what[160];
        fmt_text(what, sizeof what, "%s '%s'",
                 strcmp(action, "calc") == 0 ? "the change recomputes calc" : "field", f->name);
        if (form_lock_check(ps, event, f->form_index, instance, what, msg, sizeof msg))
            return err_set_field(e, ERR_CONFLICT, f->name, "%s", msg);
    }
    /* an identifier is stored, and audited, encrypted (keys.c); the cache keeps clear text */
    const char *stored = value, *aold = old, *anew = del ? NULL : value;
    if (f->is_identifier) {
        int rc = del ? 0 : store_encrypt(st, value, &ps->ar, &stored, e);
        if (!rc && !del)
            anew = stored;
        if (!rc && old && *old)
            rc = store_encrypt(st, old, &ps->ar, &aold, e);
        if (rc)
            return rc;
    }
    sqldb_stmt *s = store_stmt_get(st, del ? SQ_VAL_DELETE : SQ_VAL_UPSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, ps->r->id);
    store_bind_text_static(st, s, 2, event);
    store_bind_int64(st, s, 3, instance);
    store_bind_text_static(st, s, 4, f->name);
    store_bind_text_static(st, s, 5, code ? code : "");
    if (!del) {
        store_bind_text_static(st, s, 6, st->dict.forms[f->form_index].name);
        store_bind_text_static(st, s, 7, stored);
        store_bind_text_static(st, s, 8, flag);
        store_bind_int64(st, s, 9, st->protocol_version); /* the version it is entered under */
    }
    if (store_stmt_run_unbind(st, s, "writing a value", e))
        return ERR_IO;
    if (store_putcache_slot_set(ps, dict_event_index(&st->dict, event), instance,
                                (size_t)(f - st->dict.fields), code ? code : "",
                                del ? NULL : value))
        return err_set(e, ERR_NOMEM, "out of memory");
    char afield[300];
    if (!dict_key_format(f->name, code, afield, sizeof afield))
        return err_set_field(e, ERR_INVALID, f->name, "checkbox code '%s' is too long", code);
    struct audit_entry a = {.action = action,
                            .record = ps->rname,
                            .event = event,
                            .instance = instance,
                            .field = afield,
                            .old_value = aold,
                            .new_value = anew,
                            .reason = reason};
    int rc = store_audit_append(st, ps->who, &a, e);
    if (!rc && strcmp(action, "update") == 0)
        rc = record_marks(ps, e);
    if (!rc && strcmp(action, "update") == 0)
        rc = store_query_note_value(st, ps->who, ps->r, &ps->has_live_queries, event, instance, f,
                                    code, aold, del ? value : anew, flag, reason, e);
    if (!rc && strcmp(action, "update") == 0)
        rc = store_sdv_note_value(st, ps->who, ps->r, &ps->has_sdv, event, instance, afield,
                                  del ? value : anew, e);
    if (!rc && strcmp(action, "update") == 0)
        rc = store_signature_note_change(st, ps->who, ps->r, &ps->has_signature, event, afield, e);
    return rc;
}

static int status_write(struct put_state *ps, const char *event, const struct dict_form *form,
                        int instance, const char *old, const char *value, const char *reason,
                        struct err *e)
{
    sqldb_stmt *s = store_stmt_get(ps->st, SQ_FS_UPSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(ps->st, s, 1, ps->r->id);
    store_bind_text(ps->st, s, 2, event);
    store_bind_text(ps->st, s, 3, form->name);
    store_bind_int64(ps->st, s, 4, instance);
    store_bind_int64(ps->st, s, 5, atoi(value));
    if (store_stmt_run(ps->st, s, "writing form status", e))
        return ERR_IO;
    if (store_putcache_status_remember(ps, event, form->name, instance, atoi(value)))
        return err_set(e, ERR_NOMEM, "out of memory");
    char afield[160];
    dict_complete_field(form, afield, sizeof afield);
    struct audit_entry a = {.action = "form_status",
                            .record = ps->rname,
                            .event = event,
                            .instance = instance,
                            .field = afield,
                            .old_value = old,
                            .new_value = value,
                            .reason = reason};
    int rc = store_audit_append(ps->st, ps->who, &a, e);
    if (!rc) /* a form's status is part of what a casebook signature covers */
        rc = store_signature_note_change(ps->st, ps->who, ps->r, &ps->has_signature, event, afield,
                                         e);
    return rc;
}

/* Step 1: checks one change, filling p; returns the issue's rule on a hard error (msg set). */
static const char *plan_change(struct put_state *ps, const struct store_change *c, struct plan *p,
                               char *msg, size_t msglen)
{
    const struct dict *d = &ps->st->dict;
    memset(p, 0, sizeof *p);
    const char *field = c->field ? c->field : "";
    const char *value = c->value ? c->value : "";
    p->ev = c->event ? dict_event_index(d, c->event) : -1;
    if (p->ev < 0) {
        fmt_text(msg, msglen, "field '%s': no event '%s' in the protocol", field,
                 c->event ? c->event : "");
        return "unknown_event";
    }
    /* Enforced sequencing (21 CFR 11.10(f)): before enrolment, only screening data. */
    const char *scr_event = store_record_screening_event(ps->st);
    if (!ps->r->study_id[0] && scr_event && strcmp(c->event, scr_event) != 0) {
        fmt_text(msg, msglen,
                 "field '%s' at '%s': %s is not enrolled; only screening data "
                 "can be entered before enrolment",
                 field, c->event, ps->r->screening_no);
        return "not_enrolled";
    }
    struct dict_key key;
    enum dict_key_kind kind = c->code ? DICT_KEY_UNKNOWN : dict_key_parse(d, field, &key);
    const struct dict_field *f = kind == DICT_KEY_FIELD ? key.field : dict_field(d, field);
    if (kind == DICT_KEY_STATUS) {
        p->form = key.form;
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0 && strcmp(value, "2") != 0) {
            fmt_text(msg, msglen,
                     "field '%s': '%s' is not a form status (0 incomplete, "
                     "1 unverified, 2 complete)",
                     field, value);
            return "status";
        }
    } else if (f) {
        p->form = &d->forms[f->form_index];
    }
    if (!p->form) {
        fmt_text(msg, msglen, "field '%s' is not in the dictionary", field);
        return "unknown_field";
    }
    size_t fi = (size_t)(p->form - d->forms);
    char what[200];
    fmt_text(what, sizeof what, "field '%s'", field);
    const char *place = dict_place_check(d, (size_t)p->ev, fi, c->instance, what, msg, msglen);
    if (!place)
        place = form_lock_check(ps, d->events[p->ev].name, fi, c->instance, what, msg, msglen);
    if (place)
        return place;
    if (!f) { /* form status */
        p->value = value;
        return NULL;
    }
    p->f = f;
    if (f == &d->fields[0]) {
        fmt_text(msg, msglen, "field '%s' is the record ID, assigned by the system", field);
        return "record_id";
    }
    if (f->type == FT_CALC) {
        fmt_text(msg, msglen, "field '%s' is calculated and cannot be written ('%s')", field,
                 value);
        return "calc";
    }
    if ((f->type == FT_CHECKBOX) != (c->code != NULL)) {
        fmt_text(msg, msglen, "field '%s': %s", field,
                 c->code ? "only checkbox fields take an option code"
                         : "a checkbox needs an option code (field___code)");
        return "checkbox";
    }
    struct validate_result vr;
    enum validate_level lvl = validate_value(f, c->code, value, &vr);
    if (lvl == VALID_HARD) {
        fmt_text(msg, msglen, "%s", vr.msg);
        return vr.rule ? vr.rule : "invalid";
    }
    /* A checkbox option is a row when ticked, nothing when not. */
    const char *canon = vr.canonical;
    if (f->type == FT_CHECKBOX && strcmp(canon, "1") != 0)
        canon = "";
    p->value = arena_strdup(&ps->ar, canon);
    if (lvl == VALID_SOFT) {
        p->flag = vr.rule;
        fmt_text(msg, msglen, "%s", vr.msg);
    }
    if (p->value && (f->min_clock != DICT_BOUND_FIXED || f->max_clock != DICT_BOUND_FIXED)) {
        /* "today" / "now" as a bound: the site's clock as the value is entered */
        char wall[SITETIME_TEXT_LEN];
        sitetime_format_ms(store_now_ms(ps->st), true, wall);
        enum validate_level cl = validate_clock_bounds(f, p->value, wall, &vr);
        if (cl == VALID_HARD) {
            fmt_text(msg, msglen, "%s", vr.msg);
            return vr.rule;
        }
        if (cl == VALID_SOFT && !p->flag) {
            p->flag = vr.rule;
            fmt_text(msg, msglen, "%s", vr.msg);
        }
    }
    return NULL;
}

/* Evaluates calc ci at (event, instance) and writes it when it changed. */
static int calc_one(struct put_state *ps, const struct dict_field *f, const char *event,
                    int instance, bool *changed, struct err *e)
{
    char *nv, *old;
    int rc = store_putcache_eval_text(ps, f->calc, f, event, instance, &nv, e);
    if (!rc)
        rc = store_putcache_value_read(ps, event, instance, f->name, NULL, &old, e);
    if (rc)
        return rc;
    *changed = strcmp(old ? old : "", nv) != 0;
    if (!*changed)
        return 0;
    if (ps->res)
        ps->res->ncalc++;
    return value_write(ps, "calc", event, instance, f, NULL, old, nv, NULL, ps->calc_reason, e);
}

/* Should calc ci be evaluated at (ev, inst)? Yes when this change set changed its own form
 * there. When it changed another form on that event and instance, or a field that ci reaches
 * through an event-qualified reference [event][field], only if ci's form already has data
 * there: a calc is never the first value of a form nobody has filled (REDCap computes calcs
 * when their form is saved). */
static bool calc_target(struct put_state *ps, const struct calc_info *ci, size_t ev, int inst)
{
    bool is_near = false;
    for (size_t i = 0; i < ps->nt; i++) {
        const struct touched *t = &ps->t[i];
        if (t->ev != ev || (inst != 0 && t->instance != inst))
            continue;
        if (t->f->form_index == ci->f->form_index && t->instance == inst)
            return true;
        is_near = true;
    }
    for (size_t r = 0; r < ci->nrefs && !is_near; r++)
        for (size_t i = 0; i < ps->nt && !is_near; i++)
            is_near = strcmp(ps->t[i].field, ci->refs[r].field) == 0 &&
                      strcmp(ps->t[i].event, ci->refs[r].event) == 0;
    return is_near && store_putcache_form_has_data(ps, (int)ev, ci->f->form_index, inst);
}

/* The entry for calc c at (ev, inst) in ps->done, or NULL. */
static struct evaluated *evaluated_find(struct put_state *ps, size_t c, size_t ev, int inst)
{
    for (size_t i = 0; i < ps->ndone; i++)
        if (ps->done[i].c == c && ps->done[i].ev == ev && ps->done[i].instance == inst)
            return &ps->done[i];
    return NULL;
}

/* Records that calc c was evaluated at (ev, inst) with ps->nt touches made so far. */
static int evaluated_mark(struct put_state *ps, struct evaluated *seen, size_t c, size_t ev,
                          int inst)
{
    if (seen) {
        seen->nt = ps->nt;
        return 0;
    }
    struct evaluated *n = arena_grow(&ps->ar, ps->done, ps->ndone, &ps->donecap, sizeof *n, 32);
    if (!n)
        return ERR_NOMEM;
    ps->done = n;
    ps->done[ps->ndone++] = (struct evaluated){c, ev, ps->nt, inst};
    return 0;
}

/* Whether a touch made since seen->nt is to a field calc ci reads (at any event: a
 * conservative test). When none is, evaluating ci again would read exactly what it read last
 * time and find its stored value unchanged. */
static bool inputs_touched_since(const struct put_state *ps, const struct calc_info *ci,
                                 const struct evaluated *seen)
{
    for (size_t i = seen->nt; i < ps->nt; i++)
        for (size_t k = 0; k < ci->ninputs; k++)
            if (strcmp(ps->t[i].field, ci->inputs[k]) == 0)
                return true;
    return false;
}

/* Step 4: recompute calcs until a pass changes nothing. Calcs feed calcs (criteria feed the
 * @ELIGIBLE verdict), so passes repeat; a dictionary has no cycles, so ncalcs + 1 passes
 * suffice. */
static int recompute_calcs(struct put_state *ps, struct err *e)
{
    struct store *st = ps->st;
    const struct dict *d = &st->dict;
    for (size_t pass = 0; pass <= st->ncalcs && ps->nt; pass++) {
        size_t before = ps->nt;
        for (size_t c = 0; c < st->ncalcs; c++) {
            const struct calc_info *ci = &st->calcs[c];
            size_t fi = ci->f->form_index;
            for (size_t ev = 0; ev < d->nevents; ev++) {
                if (!d->form_at_event[ev * d->nforms + fi])
                    continue;
                bool repeats = d->form_repeats[ev * d->nforms + fi];
                /* instances to consider: 0, or each touched instance at this event */
                for (size_t k = 0; k <= (repeats ? before : 0); k++) {
                    int inst = 0;
                    if (repeats) {
                        if (k == before)
                            break;
                        if (ps->t[k].ev != ev || ps->t[k].instance < 1)
                            continue;
                        inst = ps->t[k].instance;
                    }
                    /* evaluated before in this change set, inputs unchanged since: the same
                     * result, already stored */
                    struct evaluated *seen = evaluated_find(ps, c, ev, inst);
                    if (seen && !inputs_touched_since(ps, ci, seen))
                        continue;
                    if (!calc_target(ps, ci, ev, inst))
                        continue;
                    bool changed = false;
                    int rc = evaluated_mark(ps, seen, c, ev, inst);
                    if (!rc)
                        rc = calc_one(ps, ci->f, d->events[ev].name, inst, &changed, e);
                    if (!rc && changed)
                        rc = touch(ps, ev, inst, ci->f);
                    if (rc)
                        return rc;
                }
            }
        }
        if (ps->nt == before)
            return 0;
    }
    return 0;
}

/* Whether change i sets the same value slot (event, instance, field, checkbox option) or the
 * same form status as an earlier change of the set. Change sets are one form's worth of fields,
 * so the quadratic scan is cheap. */
static bool is_repeated(const struct store_change *c, const struct plan *p, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (p[j].ev != p[i].ev || c[j].instance != c[i].instance || p[j].f != p[i].f)
            continue;
        if (!p[i].f ? p[j].form == p[i].form
                    : strcmp(c[j].code ? c[j].code : "", c[i].code ? c[i].code : "") == 0)
            return true;
    }
    return false;
}

void store_put_result_settle(struct store_put_result *res, int rc)
{
    for (size_t i = 0; res && i < res->nissues; i++) {
        struct store_issue *is = &res->issues[i];
        if (is->level != STORE_ISSUE_SOFT)
            continue;
        size_t len = strlen(is->msg);
        fmt_text(is->msg + len, sizeof is->msg - len, "%s",
                 rc ? "; not saved: the change was refused" : "; saved");
    }
}

/* "system" (ROLE__COUNT) may do everything; a user what the permission table gives the role. */
static bool role_allows(enum role role, enum perm_action act)
{
    return role == ROLE__COUNT || perm_allows(role, act);
}

/* The record's locked form instances into ps (in its arena), read only for the records that
 * have some. */
static int flocks_load(struct put_state *ps, struct err *e)
{
    if (ps->r->nform_locks <= 0)
        return 0;
    struct store_form_lock *fl = NULL;
    int rc = store_form_locks(ps->st, ps->r->id, &fl, &ps->nflocks, e);
    ps->flocks = rc ? NULL : arena_alloc(&ps->ar, ps->nflocks * sizeof *fl);
    if (ps->flocks)
        memcpy(ps->flocks, fl, ps->nflocks * sizeof *fl);
    free(fl);
    if (!ps->flocks)
        return rc ? rc : err_set(e, ERR_NOMEM, "out of memory");
    return 0;
}

/* The start of every change to record r, whatever asks for it (a change set, an amendment's
 * recomputation): the database and the record must take changes; ps is set up with the
 * record's locked forms (its arena freed on failure). */
static int put_begin(struct put_state *ps, struct store *st, const struct store_ctx *who,
                     const struct store_record *r, struct store_put_result *res, struct err *e)
{
    int rc = store_db_require(st, false, e); /* a frozen or locked database takes no data */
    if (rc)
        return rc;
    if (r->is_locked)
        return err_set_field(e, ERR_CONFLICT, "record", "%s is locked: no changes allowed",
                             store_record_name(r));
    *ps = (struct put_state){.st = st,
                             .who = who,
                             .r = r,
                             .rname = store_record_name(r),
                             .res = res,
                             .has_live_queries = -1,
                             .has_sdv = -1,
                             .has_signature = -1};
    rc = flocks_load(ps, e);
    if (rc)
        arena_free(&ps->ar);
    return rc;
}

int store_put_changes_locked(struct store *st, const struct store_ctx *who,
                             const struct store_record *r, const struct store_change *changes,
                             size_t n, const char *reason, struct store_put_result *res,
                             struct err *e)
{
    enum role role;
    int rc = store_reason_check(reason, false, "a change", e);
    if (!rc)
        rc = store_user_active_role(st, who->user, &role, e);
    if (rc)
        return rc;
    st->put_refused = PERM_NONE;
    struct put_state ps;
    rc = put_begin(&ps, st, who, r, res, e);
    if (rc)
        return rc;
    struct plan *plans = n ? arena_calloc(&ps.ar, n, sizeof *plans) : NULL;
    if (n && !plans) {
        arena_free(&ps.ar);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    /* 1. validate everything, collect every hard error */
    size_t nhard = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char msg[512] = "";
        const char *rule = plan_change(&ps, &changes[i], &plans[i], msg, sizeof msg);
        if (!rule && is_repeated(changes, plans, i)) {
            /* age=43 age=44 in one command is a typo, not two edits: refuse it rather than
             * audit a value nobody meant to save. */
            rule = "repeated";
            fmt_text(msg, sizeof msg, "field '%s' is given more than once in one change",
                     changes[i].field ? changes[i].field : plans[i].form->name);
        }
        if (rule) {
            if (nhard++ == 0)
                err_set_field(e, ERR_INVALID, changes[i].field ? changes[i].field : "",
                              "%s (rule: %s)", msg, rule);
            rc = store_put_issue_add(res, STORE_ISSUE_HARD, i, &changes[i], rule, msg);
        } else if (plans[i].flag) {
            rc = store_put_issue_add(res, STORE_ISSUE_SOFT, i, &changes[i], plans[i].flag, msg);
        }
    }
    if (rc) {
        arena_free(&ps.ar);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    if (nhard) {
        arena_free(&ps.ar);
        store_put_more_refused(e, nhard);
        return ERR_INVALID;
    }
    /* 2. what actually changes; the actions it needs beyond entering data — setting a form's
     * status, changing a complete form — are decided here, where the stored status is read,
     * for every door (HTTP, CLI, import) alike; then the reason rule for complete forms */
    const struct dict *d = &st->dict;
    rc = store_putcache_values_load(&ps, e);
    size_t nconflict = 0, conflict_at = 0;
    char conflict[320] = "";
    for (size_t i = 0; i < n && !rc; i++) {
        const struct store_change *c = &changes[i];
        struct plan *p = &plans[i];
        const char *ev = d->events[p->ev].name;
        int status;
        rc = store_putcache_status_read(&ps, ev, p->form->name, c->instance, &status, e);
        if (rc)
            break;
        if (p->f) {
            rc = store_putcache_value_read(&ps, ev, c->instance, p->f->name, c->code, &p->old, e);
            p->is_changed = !rc && strcmp(p->old ? p->old : "", p->value) != 0;
        } else {
            char cur[16] = "";
            if (status >= 0)
                fmt_exact(cur, sizeof cur, "%d", status);
            p->old = status >= 0 ? arena_strdup(&ps.ar, cur) : NULL;
            p->is_changed = strcmp(cur, p->value) != 0;
        }
        if (!rc && p->is_changed && c->expect && strcmp(p->old ? p->old : "", c->expect) != 0) {
            char msg[320];
            fmt_text(msg, sizeof msg,
                     "field '%s' was changed by another save since this form was opened: your "
                     "value was not saved; check the value stored now and save again",
                     c->field);
            if (nconflict++ == 0) {
                fmt_text(conflict, sizeof conflict, "%s", msg);
                conflict_at = i;
            }
            if (store_put_issue_add(res, STORE_ISSUE_HARD, i, c, "conflict", msg))
                rc = err_set(e, ERR_NOMEM, "out of memory");
            continue;
        }
        enum perm_action need = PERM_NONE;
        if (p->is_changed && !p->f && !role_allows(role, PERM_FORM_STATUS))
            need = PERM_FORM_STATUS;
        else if (p->is_changed && status == 2 && !role_allows(role, PERM_REASON_CHANGE))
            need = PERM_REASON_CHANGE;
        if (!rc && need != PERM_NONE) {
            st->put_refused = need;
            rc = err_set_field(e, ERR_FORBIDDEN, c->field,
                               "field '%s': user '%s' (%s) may not %s (%s)", c->field, who->user,
                               role_name(role), perm_action_label(need), perm_action_name(need));
            store_put_issue_add(res, STORE_ISSUE_HARD, i, c, "permission",
                                e ? e->msg : "forbidden");
            break;
        }
        if (!rc && p->is_changed && status == 2 && (!reason || !*reason))
            rc = err_set_field(e, ERR_REASON_REQUIRED, c->field,
                               "field '%s': form '%s' is complete; changing it needs a reason",
                               c->field, p->form->name);
        if (rc == ERR_REASON_REQUIRED)
            store_put_issue_add(res, STORE_ISSUE_HARD, i, c, "reason",
                                e ? e->msg : "reason required");
    }
    /* a conflict is what the writer must hear first (a reason would not help) */
    if (nconflict && (!rc || rc == ERR_REASON_REQUIRED)) {
        rc = err_set_field(e, ERR_CONFLICT, changes[conflict_at].field, "%s", conflict);
        store_put_more_refused(e, nconflict);
    }
    if (!rc)
        rc = store_put_check_piped_bounds(&ps, changes, plans, n, e);
    /* 3. write */
    for (size_t i = 0; i < n && !rc; i++) {
        const struct store_change *c = &changes[i];
        struct plan *p = &plans[i];
        const char *ev = d->events[p->ev].name;
        if (!p->is_changed) {
            if (res)
                res->nunchanged++;
            continue;
        }
        if (p->f) {
            rc = value_write(&ps, "update", ev, c->instance, p->f, c->code, p->old, p->value,
                             p->flag, reason, e);
            if (!rc)
                rc = touch(&ps, (size_t)p->ev, c->instance, p->f);
            if (!rc && res)
                res->nchanged++;
        } else {
            rc = status_write(&ps, ev, p->form, c->instance, p->old, p->value, reason, e);
            if (!rc && res)
                res->nstatus++;
        }
        /* a later change to the same key compares against this one */
        for (size_t j = i + 1; j < n && !rc; j++)
            if (plans[j].form == p->form && plans[j].f == p->f && plans[j].ev == p->ev &&
                changes[j].instance == c->instance &&
                ((!changes[j].code && !c->code) ||
                 (changes[j].code && c->code && strcmp(changes[j].code, c->code) == 0))) {
                plans[j].old = (char *)p->value;
                plans[j].is_changed = strcmp(p->value, plans[j].value) != 0;
            }
    }
    /* 4. calcs, 5. eligibility */
    if (!rc)
        rc = recompute_calcs(&ps, e);
    if (!rc)
        rc = store_put_check_hidden(&ps, changes, n, e);
    if (!rc)
        rc = store_put_check_required(&ps, changes, plans, n, e);
    if (!rc)
        rc = store_record_refresh_eligibility(st, r, e);
    arena_free(&ps.ar);
    if (rc || !st->in_batch)
        store_putcache_drop(st->putcache); /* kept only between change sets of a batch */
    return rc;
}

int store_put_refusal_audit(struct store *st, const struct store_ctx *who, int rc, struct err *e)
{
    /* a broken whole batch can only be rolled back, the refusal's audit row with it: the
     * refusal is reported as it is */
    if (st->is_batch_broken)
        st->put_refused = PERM_NONE;
    if (rc != ERR_FORBIDDEN || st->put_refused == PERM_NONE)
        return rc;
    enum perm_action act = st->put_refused;
    st->put_refused = PERM_NONE;
    struct err ae;
    err_clear(&ae);
    int arc = store_user_refusal_audit(st, who, act, &ae);
    if (arc && e)
        *e = ae; /* the refusal could not be recorded: that is the error to report */
    return arc ? arc : rc;
}

int store_calcs_recompute_locked(struct store *st, const struct store_ctx *who,
                                 const struct store_record *r, const char *const *calcs,
                                 size_t ncalcs, const char *reason, struct store_put_result *res,
                                 struct err *e)
{
    struct put_state ps;
    int rc = put_begin(&ps, st, who, r, res, e);
    if (rc)
        return rc;
    ps.calc_reason = reason;
    const struct dict *d = &st->dict;
    rc = store_putcache_values_load(&ps, e);
    /* every (event, instance) where a named calc's form holds data, from the cache's counts:
     * taken first, as writing a value may grow the table being read */
    const struct putcache *pc = ps.pc;
    struct form_count *at = NULL;
    size_t nat = 0, capat = 0;
    for (size_t k = 0; !rc && k < ncalcs; k++) {
        const struct dict_field *f = dict_field(d, calcs[k]);
        if (!f || f->type != FT_CALC || !f->calc)
            continue;
        for (size_t i = 0; !rc && i < pc->formcap; i++) {
            const struct form_count *fc = &pc->forms[i];
            if (!fc->is_used || fc->n <= 0 || fc->fi != f->form_index)
                continue;
            struct form_count *g = arena_grow(&ps.ar, at, nat, &capat, sizeof *g, 16);
            if (!g) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
            at = g;
            at[nat] = *fc;
            at[nat++].fi = (size_t)(f - d->fields); /* here: the calc field, not its form */
        }
    }
    for (size_t i = 0; !rc && i < nat; i++) {
        const struct dict_field *f = &d->fields[at[i].fi];
        bool changed = false;
        rc = calc_one(&ps, f, d->events[at[i].ev].name, at[i].instance, &changed, e);
        if (!rc && changed)
            rc = touch(&ps, (size_t)at[i].ev, at[i].instance, f);
    }
    /* then every calc that reads what changed */
    if (!rc)
        rc = recompute_calcs(&ps, e);
    if (!rc && ps.nt)
        rc = store_record_refresh_eligibility(st, r, e);
    arena_free(&ps.ar);
    if (rc || !st->in_batch)
        store_putcache_drop(st->putcache);
    return rc;
}

int store_put_changes(struct store *st, const struct store_ctx *who, const char *record,
                      const struct store_change *changes, size_t n, const char *reason,
                      struct store_put_result *res, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_record r;
    rc = store_record_find(st, record, &r, e);
    if (!rc)
        rc = store_put_changes_locked(st, who, &r, changes, n, reason, res, e);
    if (rc) {
        store_tx_rollback(st);
        store_put_result_settle(res, rc);
        return store_put_refusal_audit(st, who, rc, e);
    }
    rc = store_tx_commit(st, e);
    store_put_result_settle(res, rc);
    return rc;
}

int store_batch_begin(struct store *st, struct err *e)
{
    if (st->in_batch || st->tx_depth)
        return err_set(e, ERR_CONFLICT, "a batch or transaction is already open");
    int rc = store_tx_begin(st, e);
    if (!rc)
        st->in_batch = true;
    return rc;
}

int store_batch_begin_whole(struct store *st, struct err *e)
{
    int rc = store_batch_begin(st, e);
    if (!rc)
        st->is_batch_whole = true;
    return rc;
}

bool store_batch_broken(const struct store *st)
{
    return st->is_batch_broken;
}

int store_batch_commit(struct store *st, struct err *e)
{
    if (!st->in_batch || st->tx_depth != 1)
        return err_set(e, ERR_CONFLICT, "no batch is open");
    if (st->is_batch_broken) {
        store_batch_rollback(st);
        return err_set(e, ERR_CONFLICT,
                       "a change set of the batch was refused after it had begun writing: the "
                       "batch was rolled back whole");
    }
    st->in_batch = false;
    store_putcache_drop(st->putcache); /* once committed, other connections may write the record */
    return store_tx_commit(st, e);
}

void store_batch_rollback(struct store *st)
{
    if (!st->in_batch)
        return;
    st->in_batch = false;
    while (st->tx_depth > 0)
        store_tx_rollback(st);
}
