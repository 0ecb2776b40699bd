/* Reading values and form status, and the value lookup the logic language evaluates
 * against. Reads never write and never audit. */
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "store/store_int.h"

sqldb_stmt *store_value_stmt(struct store *st, long long record_id, const char *event, int instance,
                             const char *field, const char *code, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_GET, e);
    if (!s)
        return NULL;
    store_bind_int64(st, s, 1, record_id);
    store_bind_text(st, s, 2, event);
    store_bind_int64(st, s, 3, instance);
    store_bind_text(st, s, 4, field);
    store_bind_text(st, s, 5, code ? code : "");
    return s;
}

int store_value_ref_resolve(const struct dict *d, const char *cur_event, int cur_instance,
                            const char *event, const char *field, int which, store_bounds_fn bounds,
                            void *bctx, const struct dict_field **f, const char **ev, int *evi,
                            int *inst, struct err *e)
{
    *f = dict_field(d, field);
    if (!*f)
        return err_set_field(e, ERR_NOT_FOUND, field, "no field '%s'", field);
    *ev = event ? event : cur_event;
    *evi = *ev ? dict_event_index(d, *ev) : -1;
    if (*evi < 0)
        return err_set(e, ERR_NOT_FOUND, "no event '%s'", *ev ? *ev : "");
    int first = 0, last = 0;
    if (dict_ref_needs_bounds(d, *evi, *f, which)) {
        int rc = bounds(bctx, *evi, *f, &first, &last, e);
        if (rc)
            return rc;
    }
    bool same = !event || (cur_event && strcmp(event, cur_event) == 0);
    *inst = dict_ref_instance(d, *evi, *f, same, cur_instance, which, first, last);
    return 0;
}

/* store_bounds_fn over the stored values of the record being read (struct value_lookup). */
static int stored_bounds(void *ctx, int evi, const struct dict_field *f, int *first, int *last,
                         struct err *e)
{
    struct value_lookup *lk = ctx;
    sqldb_stmt *s = store_stmt_get(lk->st, SQ_VAL_INST_BOUNDS, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(lk->st, s, 1, lk->record_id);
    store_bind_text(lk->st, s, 2, lk->st->dict.events[evi].name);
    store_bind_text(lk->st, s, 3, f->form);
    int q = store_step(lk->st, s);
    if (q == SQLITE_ROW) {
        *first = store_sql_col_int(s, 0);
        *last = store_sql_col_int(s, 1);
    }
    store_sql_reset(s);
    return q == SQLITE_ROW ? 0 : store_db_fail(lk->st, e, "reading a form's instances");
}

int store_value_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                          int instance, struct expr_value *out, struct err *e)
{
    struct value_lookup *lk = ctx;
    if (expr_is_smart(field)) {
        const struct dict_smart_who who = {lk->record, lk->record_dag, store_user_dag(lk->st)};
        dict_smart_value(&lk->st->dict, field, lk->event, lk->instance, &who, out);
        return 0;
    }
    const struct dict_field *f = NULL;
    const char *ev = NULL;
    int evi = -1, inst = -1;
    int rc = store_value_ref_resolve(&lk->st->dict, lk->event, lk->instance, event, field, instance,
                                     stored_bounds, lk, &f, &ev, &evi, &inst, e);
    if (rc)
        return rc;
    out->kind = EV_BLANK;
    out->num = 0;
    out->str = "";
    if (f->type == FT_CHECKBOX && !code)
        return 0;
    if (inst < 0) { /* no such instance: blank, an unticked option */
        if (f->type == FT_CHECKBOX)
            *out = (struct expr_value){EV_STR, 0, "0"};
        return 0;
    }
    sqldb_stmt *s = store_value_stmt(lk->st, lk->record_id, ev, inst, field,
                                     f->type == FT_CHECKBOX ? code : NULL, e);
    if (!s)
        return ERR_IO;
    int q = store_step(lk->st, s);
    if (q == SQLITE_ROW) {
        out->kind = EV_STR;
        const char *stored = (const char *)store_sql_col_text(s, 0);
        /* logic reads clear text, whoever is reading (store_decrypt, not store_reveal) */
        if (store_is_encrypted(stored) && store_decrypt(lk->st, stored, lk->ar, &stored, e) != 0) {
            store_sql_reset(s);
            return e ? e->code : ERR_INTEGRITY;
        }
        const char *copy = arena_strdup(lk->ar, stored);
        if (!copy) {
            store_sql_reset(s);
            return err_set(e, ERR_NOMEM, "out of memory");
        }
        validate_logic_value(f, copy, out);
    } else if (f->type == FT_CHECKBOX) {
        out->kind = EV_STR;
        out->str = "0";
    }
    store_sql_reset(s);
    if (q != SQLITE_ROW && q != SQLITE_DONE)
        return store_db_fail(lk->st, e, "reading a value");
    return 0;
}

int store_get_value(struct store *st, const char *record, const char *event, int instance,
                    const char *field, const char *code, char **out, struct err *e)
{
    *out = NULL;
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_value_stmt(st, r.id, event, instance, field, code, e);
    if (!s)
        return ERR_IO;
    int q = store_step(st, s);
    if (q == SQLITE_ROW) {
        *out = strdup((const char *)store_sql_col_text(s, 0));
        if (!*out)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    } else if (q != SQLITE_DONE) {
        rc = store_db_fail(st, e, "reading a value");
    }
    store_sql_reset(s);
    return rc;
}

/* Streams value rows of s. With recs (the records in scope, in id order), s reads SQ_VAL_STUDY
 * (record_id first): rows of other records are skipped and each row's record is named from
 * recs. Else s reads SQ_VAL_RECORD, every row of record rid, named rname. */
static int value_rows(struct store *st, sqldb_stmt *s, const struct store_record *recs,
                      size_t nrecs, const bool *want, const char *rname, long long rid,
                      store_value_fn fn, void *ctx, struct err *e)
{
    int q, rc = 0;
    int c0 = recs ? 1 : 0;
    size_t ri = 0;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        if (recs) {
            rid = store_sql_col_int64(s, 0);
            while (ri < nrecs && recs[ri].id < rid)
                ri++;
            if (ri == nrecs)
                break; /* no record in scope after this one */
            if (recs[ri].id != rid || (want && !want[ri]))
                continue;
            rname = store_record_name(&recs[ri]);
        }
        const char *code = (const char *)store_sql_col_text(s, c0 + 3);
        struct store_value v = {
            .record = rname,
            .record_id = rid,
            .event = (const char *)store_sql_col_text(s, c0),
            .instance = store_sql_col_int(s, c0 + 1),
            .field = (const char *)store_sql_col_text(s, c0 + 2),
            .code = code && *code ? code : NULL,
            .value = (const char *)store_sql_col_text(s, c0 + 4),
            .flag = (const char *)store_sql_col_text(s, c0 + 5),
            .version = store_sql_col_int(s, c0 + 6),
        };
        struct arena ar = ARENA_INIT; /* an identifier's clear text, for this callback */
        v.value = store_reveal(st, NULL, v.value, &ar);
        rc = fn(ctx, &v);
        arena_free(&ar);
        if (rc)
            break;
    }
    if (!rc && q != SQLITE_DONE && q != SQLITE_ROW)
        rc = store_db_fail(st, e, "reading values");
    store_sql_reset(s);
    return rc;
}

int store_record_values(struct store *st, const char *record, store_value_fn fn, void *ctx,
                        struct err *e)
{
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_RECORD, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r.id);
    return value_rows(st, s, NULL, 0, NULL, store_record_name(&r), r.id, fn, ctx, e);
}

/* The values of the records wanted: by key, record by record, when they are few (an export
 * whose cache holds the rest); else in one scan of the value table that skips the others. */
static int wanted_values(struct store *st, const struct store_record *recs, size_t nrecs,
                         const bool *want, store_value_fn fn, void *ctx, struct err *e)
{
    size_t nwant = 0;
    for (size_t i = 0; want && i < nrecs; i++)
        nwant += want[i];
    if (!want || nwant > nrecs / 16) {
        sqldb_stmt *s = store_stmt_get(st, SQ_VAL_STUDY, e);
        return s ? value_rows(st, s, recs, nrecs, want, NULL, 0, fn, ctx, e) : ERR_IO;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nrecs; i++) {
        if (!want[i])
            continue;
        sqldb_stmt *s = store_stmt_get(st, SQ_VAL_RECORD, e);
        if (!s)
            return ERR_IO;
        store_bind_int64(st, s, 1, recs[i].id);
        rc = value_rows(st, s, NULL, 0, NULL, store_record_name(&recs[i]), recs[i].id, fn, ctx, e);
    }
    return rc;
}

int store_study_records_values_some(struct store *st, struct store_record **recs, size_t *nrecs,
                                    store_study_select_fn select, void *sctx, store_value_fn fn,
                                    void *ctx, struct err *e)
{
    *recs = NULL;
    *nrecs = 0;
    /* Inside a batch the batch's own transaction already gives one snapshot. */
    bool own = st->tx_depth == 0;
    int rc = own ? store_exec_sql(st->db, "BEGIN", e) : 0;
    if (rc)
        return rc;
    bool *want = NULL;
    rc = store_record_list(st, recs, nrecs, e);
    if (rc == 0 && select) {
        if (!(want = malloc((*nrecs ? *nrecs : 1) * sizeof *want)))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < *nrecs; i++)
            want[i] = true;
        if (rc == 0)
            rc = select(sctx, *recs, *nrecs, want, e);
    }
    if (rc == 0)
        rc = wanted_values(st, *recs, *nrecs, want, fn, ctx, e);
    free(want);
    if (own)
        store_exec_sql(st->db, "COMMIT", NULL);
    return rc;
}

int store_study_records_values(struct store *st, struct store_record **recs, size_t *nrecs,
                               store_value_fn fn, void *ctx, struct err *e)
{
    return store_study_records_values_some(st, recs, nrecs, NULL, NULL, fn, ctx, e);
}

int store_study_values(struct store *st, store_value_fn fn, void *ctx, struct err *e)
{
    struct store_record *recs;
    size_t nrecs;
    int rc = store_study_records_values(st, &recs, &nrecs, fn, ctx, e);
    free(recs);
    return rc;
}

/* The events at which some field of fields[0..n) is collected, into ev[STORE_FIELDS_MAX]:
 * how many, or STORE_FIELDS_MAX + 1 when more (the caller then scans). */
static size_t fields_events(const struct dict *d, const struct dict_field *const *f, size_t n,
                            const char *ev[STORE_FIELDS_MAX])
{
    size_t nev = 0;
    for (size_t k = 0; k < d->nevents; k++) {
        bool at = false;
        for (size_t i = 0; i < n && !at; i++)
            at = d->form_at_event[k * d->nforms + f[i]->form_index];
        if (!at)
            continue;
        if (nev == STORE_FIELDS_MAX)
            return STORE_FIELDS_MAX + 1;
        ev[nev++] = d->events[k].name;
    }
    return nev;
}

int store_fields_values(struct store *st, const char *const *fields, size_t nfields,
                        store_value_fn fn, void *ctx, struct err *e)
{
    const struct dict *d = &st->dict;
    if (nfields > STORE_FIELDS_MAX)
        return err_set(e, ERR_INVALID, "at most %d fields at a time", STORE_FIELDS_MAX);
    const struct dict_field *f[STORE_FIELDS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < nfields; i++)
        if ((f[n] = dict_field(d, fields[i])) != NULL)
            n++;
    if (!n)
        return 0;
    /* Few events: each record's values at those events, by the value table's key (a few rows
     * a record). Else every value of the study, filtered here to the same events. */
    const char *ev[STORE_FIELDS_MAX];
    size_t nev = fields_events(d, f, n, ev);
    bool by_key = nev <= STORE_FIELDS_MAX;
    sqldb_stmt *s = store_stmt_get(st, by_key ? SQ_VAL_FIELDS_EVENTS : SQ_VAL_FIELDS_STUDY, e);
    if (!s)
        return ERR_IO;
    for (size_t i = 0; i < n; i++)
        store_bind_text(st, s, (int)i + 1, f[i]->name);
    for (size_t i = 0; by_key && i < nev; i++)
        store_bind_text(st, s, STORE_FIELDS_MAX + (int)i + 1, ev[i]);
    int q, rc = 0;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        const struct dict_field *vf = dict_field(d, (const char *)store_sql_col_text(s, 3));
        struct store_value v = {
            .record_id = store_sql_col_int64(s, 0),
            .event = (const char *)store_sql_col_text(s, 1),
            .instance = store_sql_col_int(s, 2),
            .value = (const char *)store_sql_col_text(s, 4),
        };
        int evi = v.event ? dict_event_index(d, v.event) : -1;
        if (!vf || evi < 0 || !d->form_at_event[(size_t)evi * d->nforms + vf->form_index])
            continue;
        v.field = vf->name;
        struct arena ar = ARENA_INIT;
        v.value = store_reveal(st, NULL, v.value, &ar);
        rc = fn(ctx, &v);
        arena_free(&ar);
        if (rc)
            break;
    }
    if (!rc && q != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading values");
    store_sql_reset(s);
    return rc;
}

int store_field_values(struct store *st, const char *field, store_value_fn fn, void *ctx,
                       struct err *e)
{
    return store_fields_values(st, &field, 1, fn, ctx, e);
}

int store_forms_with_data(struct store *st, store_form_data_fn fn, void *ctx, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_FORMS_STUDY, e);
    if (!s)
        return ERR_IO;
    /* every value's row, grouped by (record, event, form) in the value_form index's order (no
     * DISTINCT: its temporary B-tree over every value was most of the dashboard's time); a
     * group is reported at its first value that is not a calc, and its other rows pass by
     * with a comparison */
    long long last_id = 0;
    struct strbuf last_event = STRBUF_INIT, last_form = STRBUF_INIT;
    bool reported = false;
    int q, rc = 0;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        struct store_form_data fd = {
            .record_id = store_sql_col_int64(s, 0),
            .event = (const char *)store_sql_col_text(s, 1),
            .form = (const char *)store_sql_col_text(s, 2),
        };
        if (!fd.event || !fd.form)
            continue;
        bool same = fd.record_id == last_id && strcmp(fd.event, strbuf_str(&last_event)) == 0 &&
                    strcmp(fd.form, strbuf_str(&last_form)) == 0;
        if (same && reported)
            continue;
        if (!same) {
            last_id = fd.record_id;
            strbuf_reset(&last_event);
            strbuf_adds(&last_event, fd.event);
            strbuf_reset(&last_form);
            strbuf_adds(&last_form, fd.form);
            reported = false;
            if (last_event.failed || last_form.failed) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
        }
        const struct dict_field *f = dict_field(&st->dict, (const char *)store_sql_col_text(s, 3));
        if (!f || f->type == FT_CALC)
            continue;
        reported = true;
        if ((rc = fn(ctx, &fd)))
            break;
    }
    if (!rc && q != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading values");
    store_sql_reset(s);
    strbuf_release(&last_event);
    strbuf_release(&last_form);
    return rc;
}

int store_form_status(struct store *st, const char *record, const char *event, const char *form,
                      int instance, int *status, struct err *e)
{
    *status = -1;
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_FS_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r.id);
    store_bind_text(st, s, 2, event);
    store_bind_text(st, s, 3, form);
    store_bind_int64(st, s, 4, instance);
    int q = store_step(st, s);
    if (q == SQLITE_ROW)
        *status = store_sql_col_int(s, 0);
    store_sql_reset(s);
    return q == SQLITE_ROW || q == SQLITE_DONE ? 0 : store_db_fail(st, e, "reading form status");
}

int store_form_states(struct store *st, const char *record, store_form_state_fn fn, void *ctx,
                      struct err *e)
{
    struct store_record r;
    sqldb_stmt *s;
    if (record) {
        int rc = store_record_find(st, record, &r, e);
        if (rc)
            return rc;
        s = store_stmt_get(st, SQ_FS_RECORD, e);
        if (s)
            store_bind_int64(st, s, 1, r.id);
    } else {
        s = store_stmt_get(st, SQ_FS_ALL, e);
    }
    if (!s)
        return ERR_IO;
    int q, rc = 0;
    while ((q = store_step(st, s)) == SQLITE_ROW) {
        struct store_form_state fs = {
            .record = (const char *)store_sql_col_text(s, 0),
            .event = (const char *)store_sql_col_text(s, 1),
            .form = (const char *)store_sql_col_text(s, 2),
            .instance = store_sql_col_int(s, 3),
            .status = store_sql_col_int(s, 4),
            .record_id = store_sql_col_int64(s, 5),
        };
        if ((rc = fn(ctx, &fs)))
            break;
    }
    if (!rc && q != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading form status");
    store_sql_reset(s);
    return rc;
}

static void instance_fill(sqldb_stmt *s, void *elem)
{
    *(struct store_instance *)elem = (struct store_instance){
        store_sql_col_int(s, 0),
        store_sql_col_type(s, 1) == SQLITE_NULL ? -1 : store_sql_col_int(s, 1)};
}

int store_form_instances(struct store *st, const char *record, const char *event, const char *form,
                         struct store_instance **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_VAL_INSTANCES, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r.id);
    store_bind_text(st, s, 2, event);
    store_bind_text(st, s, 3, form);
    void *arr = NULL;
    rc = store_rows_to_array(st, s, sizeof **out, instance_fill, &arr, n, "listing instances", e);
    *out = arr;
    return rc;
}

int store_next_instance(struct store *st, const char *record, const char *event, const char *form,
                        int *out, struct err *e)
{
    *out = 1;
    const struct dict *d = &st->dict;
    int ev = dict_event_index(d, event), fi = dict_form_index(d, form);
    if (ev < 0 || fi < 0)
        return err_set(e, ERR_NOT_FOUND, "no form '%s' at event '%s' in the protocol", form, event);
    int max = dict_instance_max(d, (size_t)ev, (size_t)fi);
    if (max < 1)
        return err_set(e, ERR_INVALID, "form '%s' does not repeat at event '%s'", form, event);
    struct store_record r;
    int rc = store_record_find(st, record, &r, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_NEXT_INSTANCE, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, r.id);
    store_bind_text(st, s, 2, event);
    store_bind_text(st, s, 3, form);
    int q = store_step(st, s);
    /* 64-bit: a database written before instances were bounded may hold INT_MAX */
    long long last = 0;
    if (q == SQLITE_ROW && store_sql_col_type(s, 0) != SQLITE_NULL)
        last = store_sql_col_int64(s, 0);
    store_sql_reset(s);
    if (q != SQLITE_ROW && q != SQLITE_DONE)
        return store_db_fail(st, e, "numbering an instance");
    if (last >= max)
        return err_set_field(e, ERR_CONFLICT, "instance",
                             "form '%s' at event '%s' already has instance %lld; the protocol "
                             "allows at most %d",
                             form, event, last, max);
    *out = (int)last + 1;
    return 0;
}
