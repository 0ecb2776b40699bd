/* The screening log and the study records: screening numbers, eligibility status, enrolment
 * with pseudonymous study IDs, withdrawal and record locks.
 *
 * A patient enters the store by screening (SCR-001, SCR-002, … in order, never reused: a
 * screen failure stays in the log, as CONSORT needs). Enrolment needs the protocol's @ELIGIBLE
 * calc to be 1 and consent recorded, and hands out the next study ID (IOH-001, …). Every state
 * change is one transaction with its audit row. */
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "store/store_int.h"

const char *store_record_status_name(enum store_record_status s)
{
    switch (s) {
    case STORE_REC_SCREENED:
        return "screened";
    case STORE_REC_SCREEN_FAILURE:
        return "screen_failure";
    case STORE_REC_ENROLLED:
        return "enrolled";
    case STORE_REC_WITHDRAWN:
        return "withdrawn";
    }
    return "unknown";
}

const char *store_record_name(const struct store_record *r)
{
    return r->study_id[0] ? r->study_id : r->screening_no;
}

static void record_from_stmt(sqldb_stmt *s, struct store_record *r)
{
    memset(r, 0, sizeof *r);
    r->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, r->screening_no, sizeof r->screening_no);
    store_col_copy(s, 2, r->study_id, sizeof r->study_id);
    r->status = (enum store_record_status)store_sql_col_int(s, 3);
    r->eligible = store_sql_col_int(s, 4);
    r->is_locked = store_sql_col_int(s, 5) != 0;
    store_col_copy(s, 6, r->screened_at, sizeof r->screened_at);
    store_col_copy(s, 7, r->screened_by, sizeof r->screened_by);
    store_col_copy(s, 8, r->enrolled_at, sizeof r->enrolled_at);
    store_col_copy(s, 9, r->withdrawn_at, sizeof r->withdrawn_at);
    r->nform_locks = store_sql_col_int(s, 10);
    store_col_copy(s, 11, r->site, sizeof r->site);
    r->site_id = store_sql_col_int64(s, 12); /* 0 when NULL */
}

int store_record_filter(struct store *st, const char *record, long long *id, struct err *e)
{
    *id = 0;
    if (!record || !*record)
        return 0;
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (!rc)
        *id = r.id;
    return rc;
}

int store_record_find(struct store *st, const char *record, struct store_record *out, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_REC_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, record ? record : "");
    int r = store_step(st, s);
    if (r == SQLITE_ROW)
        record_from_stmt(s, out);
    store_sql_reset(s);
    if (r == SQLITE_DONE)
        return err_set_field(e, ERR_NOT_FOUND, "record", "no record '%s'", record ? record : "");
    return r == SQLITE_ROW ? 0 : store_db_fail(st, e, "reading a record");
}

int store_record_get(struct store *st, const char *record, struct store_record *out, struct err *e)
{
    return store_record_find(st, record, out, e);
}

static void record_fill(sqldb_stmt *s, void *elem)
{
    record_from_stmt(s, elem);
}

int store_record_list(struct store *st, struct store_record **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_REC_LIST, e);
    if (!s)
        return ERR_IO;
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, record_fill, &arr, n, "listing records", e);
    *out = arr;
    return rc;
}

const char *store_record_screening_event(const struct store *st)
{
    const struct dict *d = &st->dict;
    if (!st->eligible_field)
        return NULL;
    for (size_t ev = 0; ev < d->nevents; ev++)
        if (d->form_at_event[ev * d->nforms + st->eligible_field->form_index])
            return d->events[ev].name;
    return NULL;
}

int store_record_refresh_eligibility(struct store *st, const struct store_record *r, struct err *e)
{
    const char *ev = store_record_screening_event(st);
    if (!ev)
        return 0;
    char *v = NULL;
    int rc = store_get_value(st, r->screening_no, ev, 0, st->eligible_field->name, NULL, &v, e);
    if (rc)
        return rc;
    int elig = !v || !*v ? -1 : atof(v) != 0 ? 1 : 0;
    free(v);
    int status = (int)r->status;
    if (r->status == STORE_REC_SCREENED || r->status == STORE_REC_SCREEN_FAILURE)
        status = elig == 0 ? STORE_REC_SCREEN_FAILURE : STORE_REC_SCREENED;
    if (elig == r->eligible && status == (int)r->status)
        return 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_REC_SET_ELIG, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r->id);
    store_bind_int64(st, s, 2, elig);
    store_bind_int64(st, s, 3, status);
    return store_stmt_run(st, s, "updating eligibility", e);
}

int store_record_eligibility(struct store *st, const char *record, struct arena *ar,
                             struct elig_result *out, struct err *e)
{
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    const char *ev = store_record_screening_event(st);
    if (!ev && st->dict.nevents)
        ev = st->dict.events[0].name;
    struct value_lookup lk = {st, r.id, ev, 0, ar, store_record_name(&r), r.site};
    return elig_evaluate(&st->dict, store_value_lookup_fn, &lk, store_now_ms(st), ar, out, e);
}

static int next_number(struct store *st, enum stmt_id id, long long *out, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, id, e);
    if (!s)
        return ERR_IO;
    int r = store_step(st, s);
    if (r == SQLITE_ROW)
        *out = store_sql_col_int64(s, 0);
    store_sql_reset(s);
    return r == SQLITE_ROW ? 0 : store_db_fail(st, e, "numbering a record");
}

/* The "record_site" row of a record created at a site (none when code is ""), as
 * store_site_move writes when a record moves. */
static int audit_new_site(struct store *st, const struct store_ctx *who, const char *record,
                          const char *code, struct err *e)
{
    if (!code[0])
        return 0;
    struct audit_entry a = {.action = "record_site",
                            .record = record,
                            .instance = -1,
                            .field = "site",
                            .new_value = code};
    return store_audit_append(st, who, &a, e);
}

int store_screen_create(struct store *st, const struct store_ctx *who,
                        const struct store_change *changes, size_t n, char scr_out[16],
                        struct store_put_result *res, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    long long id = 0, site = 0;
    char site_code[STORE_SITE_CODE_MAX + 1];
    if (!rc)
        rc = store_site_for_new_record(st, who, &site, site_code, e);
    if (!rc)
        rc = next_number(st, SQ_REC_NEXT_SCR, &id, e);
    char scr[16], ts[32];
    fmt_exact(scr, sizeof scr, "SCR-%03lld", id);
    store_ts_format(store_now_ms(st), ts);
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, SQ_REC_INSERT, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_int64(st, s, 1, id);
            store_bind_text(st, s, 2, scr);
            store_bind_text(st, s, 3, ts);
            store_bind_text(st, s, 4, who->user);
            if (site)
                store_bind_int64(st, s, 5, site);
            rc = store_stmt_run(st, s, "creating a screening record", e);
        }
    }
    if (!rc) {
        struct audit_entry a = {
            .action = "screen", .record = scr, .instance = -1, .new_value = scr};
        rc = store_audit_append(st, who, &a, e);
        if (!rc)
            rc = audit_new_site(st, who, scr, site_code, e);
    }
    struct store_record r;
    if (!rc)
        rc = store_record_find(st, scr, &r, e);
    if (!rc && n)
        rc = store_put_changes_locked(st, who, &r, changes, n, NULL, res, e);
    if (rc) {
        store_tx_rollback(st);
        store_put_result_settle(res, rc);
        return store_put_refusal_audit(st, who, rc, e);
    }
    rc = store_tx_commit(st, e);
    store_put_result_settle(res, rc);
    if (!rc)
        fmt_exact(scr_out, 16, "%s", scr);
    return rc;
}

/* Consent is recorded when a field tagged @CONSENT (or, when no field is tagged, the first
 * field of the form named "consent") has a value other than blank and "0". */
static int consent_recorded(struct store *st, const struct store_record *r, bool *yes,
                            struct err *e)
{
    const struct dict *d = &st->dict;
    const struct dict_field *tagged[16];
    size_t nt = 0;
    for (size_t i = 0; i < d->nfields && nt < 16; i++)
        if (d->fields[i].annotation && strstr(d->fields[i].annotation, "@CONSENT"))
            tagged[nt++] = &d->fields[i];
    if (nt == 0) {
        const struct dict_form *cf = dict_form(d, "consent");
        for (size_t i = 0; cf && i < cf->nfields; i++) {
            const struct dict_field *f = &d->fields[cf->first_field + i];
            if (f->type != FT_DESCRIPTIVE && f->type != FT_CALC) {
                tagged[nt++] = f;
                break;
            }
        }
    }
    if (nt == 0) { /* a protocol without a consent field (a REDCap project): none to require */
        *yes = true;
        return 0;
    }
    *yes = false;
    for (size_t i = 0; i < nt && !*yes; i++) {
        for (size_t ev = 0; ev < d->nevents && !*yes; ev++) {
            if (!d->form_at_event[ev * d->nforms + tagged[i]->form_index])
                continue;
            char *v = NULL;
            int rc = store_get_value(st, r->screening_no, d->events[ev].name, 0, tagged[i]->name,
                                     NULL, &v, e);
            if (rc)
                return rc;
            *yes = v && *v && strcmp(v, "0") != 0;
            free(v);
        }
    }
    return 0;
}

/* Whether name is a record's screening number or study ID, whichever site it belongs to. */
static int id_taken(struct store *st, const char *name, bool *taken, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_REC_ID_TAKEN, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, name);
    int r = store_step(st, s);
    *taken = r == SQLITE_ROW;
    store_sql_reset(s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : store_db_fail(st, e, "reading record IDs");
}

/* The study ID record r gets at enrolment: the protocol's format (dict_study_id_format) with
 * the next number, counted per site when the IDs carry the site, past any ID already taken
 * (a format changed by an amendment can meet old ones). */
static int next_study_id(struct store *st, const struct store_record *r, char sid[16],
                         struct err *e)
{
    const struct dict_study *ds = &st->dict.study;
    bool per_site = dict_study_id_has_site(ds);
    if (per_site && !r->site[0])
        return err_set_field(e, ERR_CONFLICT, "site",
                             "%s has no site and the study IDs (%s) carry the site's code: "
                             "move it to a site first (ioheme site move)",
                             r->screening_no, ds->id_format);
    sqldb_stmt *s = store_stmt_get(st, SQ_REC_NEXT_STUDY, e);
    if (!s)
        return ERR_IO;
    if (per_site) /* else ?1 stays NULL: one numbering for the study */
        store_bind_int64(st, s, 1, r->site_id);
    long long num = 0;
    int step = store_step(st, s);
    if (step == SQLITE_ROW)
        num = store_sql_col_int64(s, 0);
    store_sql_reset(s);
    if (step != SQLITE_ROW)
        return store_db_fail(st, e, "numbering a record");
    for (int tries = 0; tries < 1000000; tries++, num++) {
        if (!dict_study_id_format(ds, r->site, num, sid))
            return err_set_field(e, ERR_CONFLICT, "study_id",
                                 "the next study ID (%s, number %lld) would be longer than 15 "
                                 "characters",
                                 ds->id_format, num);
        bool taken;
        int rc = id_taken(st, sid, &taken, e);
        if (rc || !taken)
            return rc;
    }
    return err_set(e, ERR_INTERNAL, "no free study ID");
}

int store_enroll(struct store *st, const struct store_ctx *who, const char *record,
                 const struct store_change *changes, size_t n, char id_out[16],
                 struct store_put_result *res, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_record r;
    rc = store_record_find(st, record, &r, e);
    if (!rc && r.is_locked)
        rc = err_set_field(e, ERR_CONFLICT, "record", "%s is locked", r.screening_no);
    if (!rc && r.study_id[0])
        rc = err_set_field(e, ERR_CONFLICT, "record", "%s is already enrolled as %s",
                           r.screening_no, r.study_id);
    if (!rc && n)
        rc = store_put_changes_locked(st, who, &r, changes, n, NULL, res, e);
    if (!rc)
        rc = store_record_find(st, record, &r, e);
    /* a protocol without eligibility criteria (no @ELIGIBLE calc; a REDCap project) enrols
     * without a verdict */
    if (!rc && st->eligible_field && r.eligible != 1)
        rc = err_set_field(e, ERR_CONFLICT, st->eligible_field ? st->eligible_field->name : "",
                           "%s is not eligible (%s): cannot enrol", r.screening_no,
                           r.eligible == 0 ? "screen failure" : "screening incomplete");
    bool consent = false;
    if (!rc)
        rc = consent_recorded(st, &r, &consent, e);
    if (!rc && !consent)
        rc = err_set_field(e, ERR_CONFLICT, "consent", "%s: no consent recorded: cannot enrol",
                           r.screening_no);
    char sid[16], ts[32];
    if (!rc)
        rc = next_study_id(st, &r, sid, e);
    store_ts_format(store_now_ms(st), ts);
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, SQ_REC_SET_ENROLLED, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_int64(st, s, 1, r.id);
            store_bind_text(st, s, 2, sid);
            store_bind_text(st, s, 3, ts);
            rc = store_stmt_run(st, s, "enrolling", e);
        }
    }
    if (!rc) {
        struct audit_entry a = {.action = "enroll",
                                .record = sid,
                                .instance = -1,
                                .old_value = r.screening_no,
                                .new_value = sid};
        rc = store_audit_append(st, who, &a, e);
    }
    if (rc) {
        store_tx_rollback(st);
        store_put_result_settle(res, rc);
        return store_put_refusal_audit(st, who, rc, e);
    }
    rc = store_tx_commit(st, e);
    store_put_result_settle(res, rc);
    if (!rc)
        fmt_exact(id_out, 16, "%s", sid);
    return rc;
}

/* What every record action (withdraw, record and form lock) starts with: the database is not
 * locked (a frozen one still takes these), a transaction is open, the user is active and the
 * record exists (*r). On failure nothing is left open. */
static int record_action_begin(struct store *st, const struct store_ctx *who, const char *record,
                               struct store_record *r, struct err *e)
{
    int rc = store_db_require(st, true, e); /* a locked database: no record changes either */
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    if (!rc)
        rc = store_record_find(st, record, r, e);
    if (rc)
        store_tx_rollback(st);
    return rc;
}

/* Shared shape of withdraw / lock / unlock: one record update plus its audit row. */
static int record_action(struct store *st, const struct store_ctx *who, const char *record,
                         const char *action, const char *reason, struct err *e)
{
    bool need_reason = strcmp(action, "lock") != 0;
    int rc0 = store_reason_check(reason, need_reason, action, e);
    if (rc0)
        return rc0;
    struct store_record r;
    int rc = record_action_begin(st, who, record, &r, e);
    if (rc)
        return rc;
    enum stmt_id sid = SQ_REC_SET_LOCK;
    const char *oldv = NULL, *newv = NULL;
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    if (!rc && strcmp(action, "withdraw") == 0) {
        if (r.status != STORE_REC_ENROLLED)
            rc = err_set(e, ERR_CONFLICT, "%s is %s, not enrolled: cannot withdraw", record,
                         store_record_status_name(r.status));
        sid = SQ_REC_SET_WITHDRAWN;
        oldv = "enrolled";
        newv = "withdrawn";
    } else if (!rc) {
        bool lock = strcmp(action, "lock") == 0;
        if (r.is_locked == lock)
            rc = err_set(e, ERR_CONFLICT, "%s is already %s", record, lock ? "locked" : "unlocked");
        oldv = lock ? "unlocked" : "locked";
        newv = lock ? "locked" : "unlocked";
    }
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, sid, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_int64(st, s, 1, r.id);
            if (sid == SQ_REC_SET_LOCK)
                store_bind_int64(st, s, 2, strcmp(action, "lock") == 0);
            else
                store_bind_text(st, s, 2, ts);
            rc = store_stmt_run(st, s, action, e);
        }
    }
    if (!rc) {
        struct audit_entry a = {.action = action,
                                .record = store_record_name(&r),
                                .instance = -1,
                                .old_value = oldv,
                                .new_value = newv,
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_withdraw(struct store *st, const struct store_ctx *who, const char *record,
                   const char *reason, struct err *e)
{
    return record_action(st, who, record, "withdraw", reason, e);
}

int store_record_lock(struct store *st, const struct store_ctx *who, const char *record,
                      const char *reason, struct err *e)
{
    return record_action(st, who, record, "lock", reason, e);
}

int store_record_unlock(struct store *st, const struct store_ctx *who, const char *record,
                        const char *reason, struct err *e)
{
    return record_action(st, who, record, "unlock", reason, e);
}

static void flock_fill(sqldb_stmt *s, void *elem)
{
    struct store_form_lock *l = elem;
    memset(l, 0, sizeof *l);
    store_col_copy(s, 0, l->event, sizeof l->event);
    store_col_copy(s, 1, l->form, sizeof l->form);
    l->instance = store_sql_col_int(s, 2);
    store_col_copy(s, 3, l->locked_by, sizeof l->locked_by);
    store_col_copy(s, 4, l->locked_at, sizeof l->locked_at);
}

int store_form_locks(struct store *st, long long record_id, struct store_form_lock **out, size_t *n,
                     struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_FLOCK_BY_RECORD, e);
    if (!s)
        return ERR_IO;
    if (store_bind_int64(st, s, 1, record_id))
        return store_db_fail(st, e, "reading form locks");
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, flock_fill, &arr, n, "reading form locks", e);
    *out = arr;
    return rc;
}

int store_form_lock(struct store *st, const struct store_ctx *who, const char *record,
                    const char *event, const char *form, int instance, bool lock,
                    const char *reason, struct err *e)
{
    const char *action = lock ? "form_lock" : "form_unlock";
    int rc0 = store_reason_check(reason, !lock, "unlocking a form", e);
    if (rc0)
        return rc0;
    const struct dict *d = &st->dict;
    int ev = event ? dict_event_index(d, event) : -1;
    const struct dict_form *f = form ? dict_form(d, form) : NULL;
    if (ev < 0)
        return err_set_field(e, ERR_INVALID, "event", "no event '%s' in the protocol",
                             event ? event : "");
    if (!f)
        return err_set_field(e, ERR_INVALID, "form", "no form '%s' in the protocol",
                             form ? form : "");
    char msg[256], what[96];
    fmt_text(what, sizeof what, "form '%s'", f->name);
    if (dict_place_check(d, (size_t)ev, (size_t)(f - d->forms), instance, what, msg, sizeof msg))
        return err_set_field(e, ERR_INVALID, "instance", "%s", msg);
    struct store_record r;
    int rc = record_action_begin(st, who, record, &r, e);
    if (rc)
        return rc;
    if (r.is_locked)
        rc = err_set_field(e, ERR_CONFLICT, "record", "%s is locked as a whole",
                           store_record_name(&r));
    const char *ev_name = d->events[ev].name;
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, lock ? SQ_FLOCK_INSERT : SQ_FLOCK_DELETE, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_int64(st, s, 1, r.id);
        store_bind_text(st, s, 2, ev_name);
        store_bind_text(st, s, 3, f->name);
        store_bind_int64(st, s, 4, instance);
        if (lock) {
            store_bind_text(st, s, 5, who->user);
            store_bind_text(st, s, 6, ts);
        }
        int step = store_step(st, s);
        store_sql_reset(s);
        if (lock && step == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = err_set(e, ERR_CONFLICT, "form '%s' at %s%s%.0d of %s is already locked", f->name,
                         ev_name, instance ? ":" : "", instance, record);
        else if (step != SQLITE_DONE)
            rc = store_db_fail(st, e, action);
        else if (!lock && store_sql_changes(st->db) == 0)
            rc = err_set(e, ERR_CONFLICT, "form '%s' at %s%s%.0d of %s is not locked", f->name,
                         ev_name, instance ? ":" : "", instance, record);
    }
    if (!rc) {
        struct audit_entry a = {.action = action,
                                .record = store_record_name(&r),
                                .event = ev_name,
                                .instance = instance,
                                .field = f->name,
                                .old_value = lock ? "unlocked" : "locked",
                                .new_value = lock ? "locked" : "unlocked",
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

bool store_record_id_ok(const char *name)
{
    size_t len = strlen(name);
    bool ok = len > 0 && len <= STORE_RECORD_ID_MAX && name[0] != ' ' && name[len - 1] != ' ';
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)name[i] >= ' ' && (unsigned char)name[i] < 0x7f && name[i] != ',' &&
             name[i] != '/';
    return ok;
}

/* A record created enrolled, named name, or (name NULL) by the study's ID format as enrolment
 * names one (next_study_id): store_record_create_named and store_record_create_numbered. */
static int create_enrolled(struct store *st, const struct store_ctx *who, const char *name,
                           char id_out[16], struct err *e)
{
    if (!store_records_by_import(st))
        return err_set_field(e, ERR_CONFLICT, "record",
                             "%s%s%s: this protocol's records are created by screening "
                             "(eligibility decides who enrols), not by an import",
                             name ? "no record '" : "no new record", name ? name : "",
                             name ? "'" : "");
    if (name && !store_record_id_ok(name))
        return err_set_field(e, ERR_INVALID, "record",
                             "'%s' cannot be a record ID: 1 to %d printable characters, no "
                             "comma or '/', no space at either end",
                             name, STORE_RECORD_ID_MAX);
    int rc = store_db_require(st, false, e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    bool taken = false;
    if (!rc && name)
        rc = id_taken(st, name, &taken, e);
    if (!rc && taken)
        rc = err_set_field(e, ERR_CONFLICT, "record", "record '%s' exists", name);
    long long id = 0, site = 0;
    char site_code[STORE_SITE_CODE_MAX + 1];
    if (!rc)
        rc = store_site_for_new_record(st, who, &site, site_code, e);
    if (!rc)
        rc = next_number(st, SQ_REC_NEXT_SCR, &id, e);
    char scr[16], ts[32];
    fmt_exact(scr, sizeof scr, "SCR-%03lld", id);
    store_ts_format(store_now_ms(st), ts);
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, SQ_REC_INSERT, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_int64(st, s, 1, id);
        store_bind_text(st, s, 2, scr);
        store_bind_text(st, s, 3, ts);
        store_bind_text(st, s, 4, who->user);
        if (site)
            store_bind_int64(st, s, 5, site);
        rc = store_stmt_run(st, s, "creating a record", e);
    }
    char sid[16];
    if (!rc && !name) { /* numbered as enrolment numbers: per site when the IDs carry it */
        struct store_record r = {.id = id, .site_id = site};
        fmt_exact(r.site, sizeof r.site, "%s", site_code);
        fmt_exact(r.screening_no, sizeof r.screening_no, "%s", scr);
        rc = next_study_id(st, &r, sid, e);
        name = sid;
    }
    s = rc ? NULL : store_stmt_get(st, SQ_REC_SET_ENROLLED, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_int64(st, s, 1, id);
        store_bind_text(st, s, 2, name);
        store_bind_text(st, s, 3, ts);
        rc = store_stmt_run(st, s, "naming a record", e);
    }
    if (!rc) {
        struct audit_entry a = {.action = "record_create",
                                .record = name,
                                .instance = -1,
                                .old_value = scr,
                                .new_value = name};
        rc = store_audit_append(st, who, &a, e);
        if (!rc)
            rc = audit_new_site(st, who, name, site_code, e);
    }
    rc = store_tx_finish(st, rc, e);
    if (!rc && id_out)
        fmt_exact(id_out, 16, "%s", name);
    return rc;
}

int store_record_create_named(struct store *st, const struct store_ctx *who, const char *name,
                              struct err *e)
{
    if (!name)
        name = ""; /* refused as no record ID */
    return create_enrolled(st, who, name, NULL, e);
}

int store_record_create_numbered(struct store *st, const struct store_ctx *who, char id_out[16],
                                 struct err *e)
{
    return create_enrolled(st, who, NULL, id_out, e);
}

bool store_records_by_import(const struct store *st)
{
    return !st->eligible_field;
}

int store_record_next_numbered(struct store *st, const struct store_ctx *who, char out[16],
                               struct err *e)
{
    if (!store_records_by_import(st))
        return err_set_field(e, ERR_CONFLICT, "record",
                             "this protocol's records are created by screening and named at "
                             "enrolment");
    struct store_record r = {0};
    int rc = store_site_for_new_record(st, who, &r.site_id, r.site, e);
    if (!rc)
        rc = next_study_id(st, &r, out, e);
    return rc;
}
