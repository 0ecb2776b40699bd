/* REDCap's log export (content=log) from the audit trail, through POST /api/ (api_redcap.h):
 * REDCap's log types mapped onto the trail's actions, and its filters (logtype, user, record,
 * dag, beginTime, endTime). */
#include "http/api_redcap.h"

#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"

/* A time api_rc_is_time takes as "YYYY-MM-DD HH:MM:SS" into out (20 bytes): what it leaves out
 * is the start of the day or minute for a beginning, its end for an end ("24:00", REDCapR's end
 * of a day, stays past every time of that day). */
static void full_time(const char *v, bool end, char out[20])
{
    size_t n = strlen(v);
    fmt_exact(out, 20, "%s%s", v,
              n == 10   ? (end ? " 23:59:59" : " 00:00:00")
              : n == 16 ? (end ? ":59" : ":00")
                        : "");
}

/* REDCap's log types (logtype=…) as the audit trail's actions, each list between spaces. */
static const struct {
    const char *type, *actions;
} LOG_TYPES[] = {
    {"export", " export "},
    {"manage", " create_db protocol_amend site_add site_timezone password_policy key_rotate "
               "backup restore migrate synthetic "},
    {"user", " user_add user_role user_name user_sites user_disable unlock_user password_change "
             "api_token lockout "},
    {"record", " screen record_create enroll update calc form_status withdraw redact "
               "record_site "},
    {"record_add", " screen record_create "},
    {"record_edit", " enroll update calc form_status withdraw redact record_site "},
    {"record_delete", " "}, /* ioheme deletes no record */
    {"lock_record", " lock unlock sign "},
    {"page_view", " "}, /* nor logs page views */
};

/* The actions of log type type (NULL when REDCap has no such type). */
const char *api_rc_log_actions(const char *type)
{
    for (size_t i = 0; i < sizeof LOG_TYPES / sizeof *LOG_TYPES; i++)
        if (strcmp(LOG_TYPES[i].type, type) == 0)
            return LOG_TYPES[i].actions;
    return NULL;
}

bool api_rc_action_in(const char *actions, const char *action)
{
    size_t n = strlen(action);
    for (const char *p = n ? strstr(actions, action) : NULL; p; p = strstr(p + 1, action))
        if (p[-1] == ' ' && p[n] == ' ')
            return true;
    return false;
}

/* REDCap's log export from the audit trail: timestamp ("YYYY-MM-DD HH:MM", UTC), username,
 * action, details, record; filtered by logtype, user, record, beginTime and endTime as REDCap
 * does. Values of identifier fields are not shown (the field is named). */
struct log_ctx {
    struct req *r;
    const char *user;
    char begin[20], end[20];      /* beginTime, endTime as "YYYY-MM-DD HH:MM:SS"; "" none */
    const char *actions;          /* logtype's (api_rc_log_actions), NULL: all */
    const char *record, *record2; /* the record asked for: its study ID and screening number */
    const char **dag_names;       /* dag=…: the names of that site's records, sorted; NULL all */
    size_t ndag_names;
    char ***rows;
    size_t n, cap;
    bool nomem;
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* dag=…: the names (study ID and screening number) of the records of the site whose code it
 * is, sorted, into c; 1 when it answered an error. */
static int log_dag(struct req *r, const char *dag, struct log_ctx *c)
{
    struct err e;
    err_clear(&e);
    struct store_site *sites = NULL;
    size_t nsites = 0;
    bool known = false;
    if (store_site_list(r->st, &sites, &nsites, &e) != 0) {
        api_rc_error_err(r, &e);
        return 1;
    }
    for (size_t i = 0; i < nsites; i++)
        known = known || strcmp(sites[i].code, dag) == 0;
    free(sites);
    if (!known)
        return api_rc_error(
                   r, 400,
                   arena_printf(&r->ar, "dag: '%s' is no data access group of this project", dag)),
               1;
    struct store_record *recs = NULL;
    size_t nrecs = 0;
    if (store_record_list(r->st, &recs, &nrecs, &e) != 0) {
        api_rc_error_err(r, &e);
        return 1;
    }
    c->dag_names = arena_calloc(&r->ar, 2 * nrecs + 1, sizeof *c->dag_names);
    for (size_t i = 0; c->dag_names && i < nrecs; i++) {
        if (strcmp(recs[i].site, dag) != 0)
            continue;
        c->dag_names[c->ndag_names++] = arena_strdup(&r->ar, recs[i].screening_no);
        if (*recs[i].study_id)
            c->dag_names[c->ndag_names++] = arena_strdup(&r->ar, recs[i].study_id);
    }
    free(recs);
    if (!c->dag_names) {
        api_rc_error(r, 500, "out of memory");
        return 1;
    }
    qsort(c->dag_names, c->ndag_names, sizeof *c->dag_names, name_cmp);
    return 0;
}

static int log_row(void *vctx, const struct store_audit_row *a)
{
    struct log_ctx *c = vctx;
    struct req *r = c->r;
    char ts[17], sec[20]; /* shown to the minute, as REDCap; compared to the second */
    const char *tod = strlen(a->ts) > 11 ? a->ts + 11 : "";
    fmt_exact(ts, sizeof ts, "%.10s %.5s", a->ts, tod);
    fmt_exact(sec, sizeof sec, "%.10s %.8s", a->ts, tod);
    if ((c->user && (!a->user || strcmp(c->user, a->user) != 0)) ||
        (c->record && (!a->record || (strcmp(c->record, a->record) != 0 &&
                                      (!c->record2 || strcmp(c->record2, a->record) != 0)))) ||
        (*c->begin && strcmp(sec, c->begin) < 0) || (*c->end && strcmp(sec, c->end) > 0) ||
        (c->actions && !api_rc_action_in(c->actions, a->action)) ||
        (c->dag_names && (!a->record || !bsearch(&a->record, c->dag_names, c->ndag_names,
                                                 sizeof *c->dag_names, name_cmp))))
        return 0;
    if (c->n + 1 >= c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char ***bigger = arena_alloc(&r->ar, cap * sizeof *bigger);
        if (!bigger) {
            c->nomem = true;
            return -1;
        }
        if (c->n)
            memcpy(bigger, c->rows, c->n * sizeof *bigger);
        c->rows = bigger;
        c->cap = cap;
    }
    const char *details = "";
    if (a->field) {
        struct dict_key k;
        dict_key_parse(store_dict(r->st), a->field, &k);
        details =
            k.field && k.field->is_identifier
                ? arena_printf(&r->ar, "%s (identifier)", a->field)
                : arena_printf(&r->ar, "%s = '%s'", a->field, a->new_value ? a->new_value : "");
    } else if (a->reason) {
        details = arena_strdup(&r->ar, a->reason);
    }
    char **row = arena_alloc(&r->ar, 5 * sizeof *row);
    if (!row) {
        c->nomem = true;
        return -1;
    }
    row[0] = arena_strdup(&r->ar, ts);
    row[1] = arena_strdup(&r->ar, a->user ? a->user : "");
    row[2] = a->record ? arena_printf(&r->ar, "%s %s", a->action, a->record)
                       : arena_strdup(&r->ar, a->action);
    row[3] = (char *)details;
    row[4] = arena_strdup(&r->ar, a->record ? a->record : "");
    c->rows[c->n++] = row;
    return 0;
}

int api_rc_log(struct req *r, enum rc_fmt fmt)
{
    static const char *const keys[] = {"timestamp", "username", "action", "details", "record"};
    struct log_ctx c = {
        .r = r, .user = req_form_opt(r, "user"), .record = req_form_opt(r, "record")};
    const char *begin = req_form_opt(r, "beginTime"), *end = req_form_opt(r, "endTime");
    if ((begin && !api_rc_is_time(begin)) || (end && !api_rc_is_time(end)))
        return api_rc_error(r, 400, "beginTime and endTime are YYYY-MM-DD HH:MM (UTC)");
    if (begin)
        full_time(begin, false, c.begin);
    if (end)
        full_time(end, true, c.end);
    const char *type = req_form_opt(r, "logtype");
    if (type && *type && !(c.actions = api_rc_log_actions(type)))
        return api_rc_error(
            r, 400,
            "logtype must be export, manage, user, record, record_add, record_edit, "
            "record_delete, lock_record or page_view");
    const char *dag = req_form_opt(r, "dag");
    if (dag && log_dag(r, dag, &c))
        return 0;
    struct err e;
    err_clear(&e);
    struct store_record rec;
    if (c.record && store_record_get(r->st, c.record, &rec, NULL) == 0) {
        /* a record's rows name it by its screening number until it is enrolled */
        c.record = arena_strdup(&r->ar, store_record_name(&rec));
        c.record2 = arena_strdup(&r->ar, rec.screening_no);
    }
    if (store_audit_foreach(r->st, log_row, &c, &e) != 0 || c.nomem)
        return c.nomem ? api_rc_error(r, 500, "out of memory") : api_rc_error_err(r, &e);
    return api_rc_table(r, fmt, keys, 5, c.rows, c.n, NULL, NULL);
}
