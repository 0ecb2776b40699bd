/* Queries (discrepancy notes): raise, answer, close, reopen, list; and the write path's hook
 * that turns soft validation flags into system queries and records value changes in the
 * threads of live queries (store.h, "queries", for the rules). Every action is one transaction
 * with its audit row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

static const char *const status_names[] = {"open", "answered", "closed"};

const char *store_query_status_name(enum store_query_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "?";
}

int store_query_status_from_name(const char *name, enum store_query_status *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(status_names[i], name) == 0) {
            *out = (enum store_query_status)i;
            return 0;
        }
    return ERR_NOT_FOUND;
}

static void query_fill(sqldb_stmt *s, void *elem)
{
    struct store_query *q = elem;
    memset(q, 0, sizeof *q);
    q->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, q->record, sizeof q->record);
    store_col_copy(s, 2, q->event, sizeof q->event);
    q->instance = store_sql_col_int(s, 3);
    store_col_copy(s, 4, q->form, sizeof q->form);
    char field[128], code[32];
    store_col_copy(s, 5, field, sizeof field);
    store_col_copy(s, 6, code, sizeof code);
    if (!dict_key_format(field, code[0] ? code : NULL, q->field, sizeof q->field))
        store_col_copy(s, 5, q->field, sizeof q->field);
    q->status = (enum store_query_status)store_sql_col_int(s, 7);
    q->is_system =
        store_sql_col_text(s, 8) && strcmp((const char *)store_sql_col_text(s, 8), "system") == 0;
    store_col_copy(s, 9, q->rule, sizeof q->rule);
    store_col_copy(s, 10, q->raised_value, sizeof q->raised_value);
    store_col_copy(s, 11, q->assignee, sizeof q->assignee);
    store_col_copy(s, 12, q->opened_by, sizeof q->opened_by);
    store_col_copy(s, 13, q->opened_at, sizeof q->opened_at);
    store_col_copy(s, 14, q->updated_at, sizeof q->updated_at);
    store_col_copy(s, 15, q->text, sizeof q->text);
    q->nmessages = store_sql_col_int(s, 16);
}

static void message_fill(sqldb_stmt *s, void *elem)
{
    struct store_query_message *m = elem;
    memset(m, 0, sizeof *m);
    m->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, m->ts, sizeof m->ts);
    store_col_copy(s, 2, m->user, sizeof m->user);
    store_col_copy(s, 3, m->action, sizeof m->action);
    store_col_copy(s, 4, m->text, sizeof m->text);
    m->has_values =
        store_sql_col_type(s, 5) != SQLITE_NULL || store_sql_col_type(s, 6) != SQLITE_NULL;
    store_col_copy(s, 5, m->old_value, sizeof m->old_value);
    store_col_copy(s, 6, m->new_value, sizeof m->new_value);
}

int store_query_get(struct store *st, long long id, struct store_query *out, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, id);
    int rc = store_step(st, s);
    if (rc == SQLITE_ROW) {
        query_fill(s, out);
        store_sql_reset(s);
        store_reveal_into(st, out->raised_value, sizeof out->raised_value);
        return 0;
    }
    store_sql_reset(s);
    if (rc != SQLITE_DONE)
        return store_db_fail(st, e, "reading a query");
    return err_set_field(e, ERR_NOT_FOUND, "query", "no query %lld", id);
}

int store_query_messages(struct store *st, long long id, struct store_query_message **out,
                         size_t *n, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_MSGS, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, id);
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, message_fill, &arr, n,
                                 "reading a query's messages", e);
    *out = arr;
    for (size_t i = 0; !rc && i < *n; i++) {
        store_reveal_into(st, (*out)[i].old_value, sizeof(*out)[i].old_value);
        store_reveal_into(st, (*out)[i].new_value, sizeof(*out)[i].new_value);
    }
    return rc;
}

/* Whether the query waits for user (role): open and the role may answer, assigned to the user,
 * the role or nobody; or answered and the role may close it. */
static bool waits_for(const struct store_query *q, const char *user, enum role role)
{
    if (q->status == STORE_QUERY_ANSWERED)
        return perm_allows(role, PERM_QUERY_CLOSE);
    if (q->status != STORE_QUERY_OPEN || !perm_allows(role, PERM_QUERY_ANSWER))
        return false;
    if (!q->assignee[0] || strcmp(q->assignee, user) == 0)
        return true;
    return strncmp(q->assignee, "role:", 5) == 0 && strcmp(q->assignee + 5, role_name(role)) == 0;
}

int store_query_list(struct store *st, const struct store_query_filter *f, struct store_query **out,
                     size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    long long rid;
    enum role role = ROLE__COUNT;
    int rc = store_record_filter(st, f->record, &rid, e);
    if (!rc && f->waiting_for)
        rc = store_user_active_role(st, f->waiting_for, &role, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_LIST, e);
    if (!s)
        return ERR_IO;
    if (rid)
        store_bind_int64(st, s, 1, rid);
    store_bind_text(st, s, 2, f->form && *f->form ? f->form : NULL);
    store_bind_int64(st, s, 3, f->status);
    store_bind_int64(st, s, 4, f->is_live ? 1 : -1);
    void *arr = NULL;
    rc = store_rows_to_array(st, s, sizeof **out, query_fill, &arr, n, "listing queries", e);
    if (rc)
        return rc;
    struct store_query *q = arr;
    for (size_t i = 0; i < *n; i++)
        store_reveal_into(st, q[i].raised_value, sizeof q[i].raised_value);
    if (f->waiting_for) {
        size_t k = 0;
        for (size_t i = 0; i < *n; i++)
            if (waits_for(&q[i], f->waiting_for, role))
                q[k++] = q[i];
        *n = k;
    }
    *out = q;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------*/

static int message_add(struct store *st, long long qid, const char *ts, const char *user,
                       const char *action, const char *text, const char *old_value,
                       const char *new_value, bool has_values, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_MSG_INSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, qid);
    store_bind_text(st, s, 2, ts);
    store_bind_text(st, s, 3, user);
    store_bind_text(st, s, 4, action);
    store_bind_text(st, s, 5, text);
    if (has_values) {
        store_bind_text(st, s, 6, old_value ? old_value : "");
        store_bind_text(st, s, 7, new_value ? new_value : "");
    }
    return store_stmt_run(st, s, "writing a query message", e);
}

static int status_set(struct store *st, long long qid, enum store_query_status to, const char *ts,
                      struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_SET_STATUS, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, qid);
    store_bind_int64(st, s, 2, (int)to);
    store_bind_text(st, s, 3, ts);
    return store_stmt_run(st, s, "changing a query's status", e);
}

/* The audit row of a query action on q: status from -> to, reason "query N: text". */
static int query_audit(struct store *st, const struct store_ctx *who, const struct store_query *q,
                       const char *action, int from, int to, const char *text, struct err *e)
{
    struct strbuf reason = STRBUF_INIT;

    strbuf_addf(&reason, "query %lld", q->id);
    if (text && *text)
        strbuf_addf(&reason, ": %s", text);
    if (reason.failed) {
        strbuf_release(&reason);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    struct audit_entry a = {.action = action,
                            .record = q->record,
                            .event = q->event[0] ? q->event : NULL,
                            .instance = q->event[0] ? q->instance : -1,
                            .field = q->field[0] ? q->field : (q->form[0] ? q->form : NULL),
                            .old_value = from >= 0 ? store_query_status_name(from) : NULL,
                            .new_value = store_query_status_name(to),
                            .reason = reason.buf};
    int rc = store_audit_append(st, who, &a, e);
    strbuf_release(&reason);
    return rc;
}

static int text_check(const char *text, bool required, struct err *e)
{
    if (required && (!text || !*text))
        return err_set_field(e, ERR_INVALID, "message", "a query action needs a message");
    if (store_text_check("message", "the message", text, e))
        return ERR_INVALID;
    if (text && strlen(text) > STORE_QUERY_TEXT_MAX)
        return err_set_field(e, ERR_INVALID, "message",
                             "the message has %zu bytes; at most %d are kept", strlen(text),
                             STORE_QUERY_TEXT_MAX);
    return 0;
}

/* An assignee must be an existing user or "role:" + a role that may answer queries. */
static int assignee_check(struct store *st, const char *assignee, struct err *e)
{
    if (!assignee || !*assignee)
        return 0;
    if (strncmp(assignee, "role:", 5) == 0) {
        enum role r;
        if (role_from_name(assignee + 5, &r) != 0)
            return err_set_field(e, ERR_INVALID, "assignee", "no role '%s'", assignee + 5);
        if (!perm_allows(r, PERM_QUERY_ANSWER))
            return err_set_field(e, ERR_INVALID, "assignee", "role '%s' may not %s", assignee + 5,
                                 perm_action_label(PERM_QUERY_ANSWER));
        return 0;
    }
    enum role r;
    if (store_user_active_role(st, assignee, &r, NULL) != 0 || r == ROLE__COUNT)
        return err_set_field(e, ERR_INVALID, "assignee", "no active user '%s'", assignee);
    if (!perm_allows(r, PERM_QUERY_ANSWER))
        return err_set_field(e, ERR_INVALID, "assignee", "user '%s' (%s) may not %s", assignee,
                             role_name(r), perm_action_label(PERM_QUERY_ANSWER));
    return 0;
}

/* Where a new query sits: fills event/form/field/code (dictionary strings or "") after checking
 * them against the protocol. */
struct qplace {
    const char *event, *form, *field, *code;
    int instance;
};

static int place_resolve(struct store *st, const struct store_query_new *q, struct qplace *p,
                         struct err *e)
{
    const struct dict *d = &st->dict;
    *p = (struct qplace){"", "", "", "", 0};
    bool has_event = q->event && *q->event, has_field = q->field && *q->field;
    bool has_form = q->form && *q->form;
    if (!has_event) {
        if (has_field || has_form || q->instance)
            return err_set_field(e, ERR_INVALID, "event",
                                 "a query on a form or field needs its event");
        return 0;
    }
    p->event = dict_event_find(d, q->event);
    if (!p->event)
        return err_set_field(e, ERR_INVALID, "event", "no event '%s' in the protocol", q->event);
    const struct dict_form *form = has_form ? dict_form(d, q->form) : NULL;
    if (has_form && !form)
        return err_set_field(e, ERR_INVALID, "form", "no form '%s' in the protocol", q->form);
    if (has_field) {
        struct dict_key k;
        enum dict_key_kind kind = dict_key_parse(d, q->field, &k);
        if (kind != DICT_KEY_FIELD && kind != DICT_KEY_OPTION)
            return err_set_field(e, ERR_INVALID, "field", "field '%s' is not in the dictionary",
                                 q->field);
        if (kind == DICT_KEY_OPTION &&
            (k.field->type != FT_CHECKBOX || !dict_choice_label(k.field, k.code)))
            return err_set_field(e, ERR_INVALID, "field", "'%s' is not a checkbox option",
                                 q->field);
        if (form && form != k.form)
            return err_set_field(e, ERR_INVALID, "form", "field '%s' is on form '%s', not '%s'",
                                 k.field->name, k.form->name, form->name);
        form = k.form;
        p->field = k.field->name;
        p->code = kind == DICT_KEY_OPTION ? k.code : "";
    }
    if (!form)
        return err_set_field(e, ERR_INVALID, "form", "a query at an event needs a form or field");
    p->form = form->name;
    p->instance = q->instance;
    char msg[400];
    const char *rule =
        dict_place_check(d, (size_t)dict_event_index(d, p->event), (size_t)(form - d->forms),
                         q->instance, "query", msg, sizeof msg);
    if (rule)
        return err_set_field(e, ERR_INVALID, strcmp(rule, "instance") == 0 ? "instance" : "event",
                             "%s", msg);
    return 0;
}

/* Inserts the query row and its first message; q gets its number. */
static int query_insert(struct store *st, const struct store_record *r, const struct qplace *p,
                        const char *origin, const char *rule, const char *raised,
                        const char *assignee, const char *by, const char *ts, const char *text,
                        long long *id, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_Q_INSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r->id);
    store_bind_text(st, s, 2, p->event);
    store_bind_int64(st, s, 3, p->instance);
    store_bind_text(st, s, 4, p->form);
    store_bind_text(st, s, 5, p->field);
    store_bind_text(st, s, 6, p->code);
    store_bind_text(st, s, 7, origin);
    store_bind_text(st, s, 8, rule);
    store_bind_text(st, s, 9, raised);
    store_bind_text(st, s, 10, assignee && *assignee ? assignee : NULL);
    store_bind_text(st, s, 11, by);
    store_bind_text(st, s, 12, ts);
    int rc = store_stmt_row_id(st, s, id, "writing a query", e);
    if (rc)
        return rc;
    return message_add(st, *id, ts, by, "open", text, NULL, NULL, false, e);
}

int store_query_open(struct store *st, const struct store_ctx *who, const struct store_query_new *q,
                     long long *id_out, struct err *e)
{
    int rc = store_authorize(st, who, PERM_QUERY_RAISE, e);
    if (!rc)
        rc = store_db_require(st, true, e);
    if (rc)
        return rc;
    if ((rc = text_check(q->text, true, e)) != 0)
        return rc;
    struct qplace p;
    if ((rc = place_resolve(st, q, &p, e)) != 0)
        return rc;
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    struct store_record r;
    char ts[32], *raised = NULL;
    store_ts_format(store_now_ms(st), ts);
    long long id = 0;
    rc = store_record_find(st, q->record, &r, e);
    if (!rc)
        rc = assignee_check(st, q->assignee, e);
    if (!rc && p.field[0]) /* the value as it stands, kept with the query */
        rc = store_get_value(st, q->record, p.event, p.instance, p.field, p.code[0] ? p.code : NULL,
                             &raised, e);
    if (!rc)
        rc = query_insert(st, &r, &p, "user", NULL, raised, q->assignee, who->user, ts, q->text,
                          &id, e);
    free(raised);
    struct store_query sq;
    if (!rc)
        rc = store_query_get(st, id, &sq, e);
    if (!rc)
        rc = query_audit(st, who, &sq, "query_open", -1, STORE_QUERY_OPEN, q->text, e);
    if (rc) {
        store_tx_rollback(st);
        return rc;
    }
    if ((rc = store_tx_commit(st, e)) != 0)
        return rc;
    if (id_out)
        *id_out = id;
    return 0;
}

/* Moves query id from one of the allowed statuses to `to`, in the caller's transaction. */
static int transition(struct store *st, const struct store_ctx *who, long long id,
                      unsigned allowed_from, enum store_query_status to, const char *action,
                      const char *audit_action, const char *text, struct err *e)
{
    struct store_query q;
    int rc = store_query_get(st, id, &q, e);
    if (rc)
        return rc;
    if (!(allowed_from & (1u << q.status)))
        return err_set_field(e, ERR_CONFLICT, "query", "query %lld is %s: it cannot be %s", id,
                             store_query_status_name(q.status),
                             to == STORE_QUERY_OPEN     ? "reopened"
                             : to == STORE_QUERY_CLOSED ? "closed"
                                                        : "answered");
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    rc = message_add(st, id, ts, who->user, action, text ? text : "", NULL, NULL, false, e);
    if (!rc && q.status != to)
        rc = status_set(st, id, to, ts, e);
    if (!rc)
        rc = query_audit(st, who, &q, audit_action, (int)q.status, (int)to, text, e);
    return rc;
}

#define FROM(s) (1u << (s))

int store_query_answer(struct store *st, const struct store_ctx *who, long long id,
                       const char *text, const struct store_change *changes, size_t n,
                       struct store_put_result *res, struct err *e)
{
    int rc = store_authorize(st, who, PERM_QUERY_ANSWER, e);
    if (!rc)
        rc = store_db_require(st, true, e);
    if (!rc && n)
        rc = store_authorize(st, who, PERM_DATA_WRITE, e);
    if (!rc)
        rc = text_check(text, true, e);
    if (rc)
        return rc;
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    struct store_query q;
    rc = store_query_get(st, id, &q, e);
    if (!rc && q.status == STORE_QUERY_CLOSED)
        rc = err_set_field(e, ERR_CONFLICT, "query", "query %lld is closed: reopen it first", id);
    if (!rc && n) {
        struct strbuf reason = STRBUF_INIT;

        strbuf_addf(&reason, "query %lld: %s", id, text);
        struct store_record r;
        rc = reason.failed ? err_set(e, ERR_NOMEM, "out of memory")
                           : store_record_find(st, q.record, &r, e);
        st->answering_query = id; /* its own answer follows: no automatic one */
        if (!rc)
            rc = store_put_changes_locked(st, who, &r, changes, n, reason.buf, res, e);
        st->answering_query = 0;
        strbuf_release(&reason);
    }
    if (!rc)
        rc = transition(st, who, id, FROM(STORE_QUERY_OPEN) | FROM(STORE_QUERY_ANSWERED),
                        STORE_QUERY_ANSWERED, "answer", "query_answer", text, e);
    if (rc) {
        store_tx_rollback(st);
        return store_put_refusal_audit(st, who, rc, e);
    }
    return store_tx_commit(st, e);
}

int store_query_close(struct store *st, const struct store_ctx *who, long long id, const char *text,
                      struct err *e)
{
    int rc = store_authorize(st, who, PERM_QUERY_CLOSE, e);
    if (!rc)
        rc = store_db_require(st, true, e);
    if (!rc)
        rc = text_check(text, false, e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = transition(st, who, id, FROM(STORE_QUERY_OPEN) | FROM(STORE_QUERY_ANSWERED),
                    STORE_QUERY_CLOSED, "close", "query_close", text, e);
    return store_tx_finish(st, rc, e);
}

int store_query_reopen(struct store *st, const struct store_ctx *who, long long id,
                       const char *text, struct err *e)
{
    int rc = store_authorize(st, who, PERM_QUERY_CLOSE, e);
    if (!rc)
        rc = store_db_require(st, true, e);
    if (!rc)
        rc = text_check(text, true, e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = transition(st, who, id, FROM(STORE_QUERY_CLOSED), STORE_QUERY_OPEN, "reopen",
                    "query_reopen", text, e);
    return store_tx_finish(st, rc, e);
}

/* ---- the write path's hook ----------------------------------------------------------------*/

int store_query_note_value(struct store *st, const struct store_ctx *who,
                           const struct store_record *r, int *has_live, const char *event,
                           int instance, const struct dict_field *f, const char *code,
                           const char *old, const char *value, const char *flag, const char *reason,
                           struct err *e)
{
    if (*has_live < 0) { /* once per change set: most records have no live query */
        sqldb_stmt *s = store_stmt_get(st, SQ_Q_LIVE_ON_RECORD, e);
        if (!s)
            return ERR_IO;
        store_bind_int64(st, s, 1, r->id);
        int step = store_step(st, s);
        store_sql_reset(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return store_db_fail(st, e, "looking for queries");
        *has_live = step == SQLITE_ROW;
    }
    const char *cd = code ? code : "";
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    bool has_system = false;
    if (*has_live) {
        sqldb_stmt *s = store_stmt_get(st, SQ_Q_LIVE_ON_KEY, e);
        if (!s)
            return ERR_IO;
        store_bind_int64(st, s, 1, r->id);
        store_bind_text(st, s, 2, event);
        store_bind_int64(st, s, 3, instance);
        store_bind_text(st, s, 4, f->name);
        store_bind_text(st, s, 5, cd);
        struct live {
            long long id;
            int status;
            bool is_system;
        } live[16];
        size_t nlive = 0;
        int step;
        while ((step = store_step(st, s)) == SQLITE_ROW && nlive < 16) {
            const unsigned char *o = store_sql_col_text(s, 2);
            live[nlive++] = (struct live){store_sql_col_int64(s, 0), store_sql_col_int(s, 1),
                                          o && strcmp((const char *)o, "system") == 0};
        }
        store_sql_reset(s);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return store_db_fail(st, e, "looking for queries");
        for (size_t i = 0; i < nlive; i++) {
            int rc = message_add(st, live[i].id, ts, who->user, "value_change",
                                 reason ? reason : "", old, value, true, e);
            if (rc)
                return rc;
            has_system |= live[i].is_system;
            /* the flagged value was corrected: the system query waits for its close */
            if (live[i].is_system && live[i].status == STORE_QUERY_OPEN && !flag &&
                live[i].id != st->answering_query) {
                struct store_query q;
                rc = store_query_get(st, live[i].id, &q, e);
                if (!rc)
                    rc = status_set(st, live[i].id, STORE_QUERY_ANSWERED, ts, e);
                if (!rc)
                    rc = query_audit(st, who, &q, "query_answer", STORE_QUERY_OPEN,
                                     STORE_QUERY_ANSWERED, "value changed", e);
                if (rc)
                    return rc;
            }
        }
    }
    if (!flag || has_system)
        return 0;
    /* a soft flag: a system query on the value, the site's to answer */
    struct qplace p = {event, st->dict.forms[f->form_index].name, f->name, cd, instance};
    char text[400];
    const char *lo = dict_field_bound(f, false), *hi = dict_field_bound(f, true);
    fmt_text(text, sizeof text,
             "value %s is outside the expected range (%s%s%s%s%s); please check "
             "it against the source",
             value, lo ? "min " : "", lo ? lo : "", lo && hi ? ", " : "", hi ? "max " : "",
             hi ? hi : "");
    long long id;
    int rc = query_insert(st, r, &p, "system", flag, value, NULL, "system", ts, text, &id, e);
    struct store_query q;
    if (!rc)
        rc = store_query_get(st, id, &q, e);
    if (!rc)
        rc = query_audit(st, who, &q, "query_open", -1, STORE_QUERY_OPEN, text, e);
    if (!rc)
        *has_live = 1;
    return rc;
}
