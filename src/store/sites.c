/* Sites: a multi-centre study's hospitals (REDCap's data access groups), who works at which,
 * and the one rule deciding which records a connection may see (store.h, "sites").
 *
 * The rule lives in store_site_visible and reaches SQL as in_scope(site_id), a function on the
 * connection: every statement that finds, lists or reads records and values across the study
 * filters with it (db.c), so a view, export or report cannot forget it. Whose scope applies:
 * inside a write transaction the writing user's (loaded by store_user_active_role, which every
 * write begins with), otherwise the reader's (store_set_reader, per CLI sign-in and per web
 * request); a report or export may narrow reads to one site (store_set_site_filter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/utf8.h"
#include "core/perm.h"
#include "store/store_int.h"

bool store_site_visible(const struct store *st, long long site)
{
    if (st->site_filter && !st->is_acting && site != st->site_filter)
        return false;
    const struct store_scope *sc = st->is_acting ? &st->acting : &st->reader;
    if (!sc->limited)
        return true;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->site[i] == site)
            return true;
    return false; /* a limited user sees no record without a site */
}

bool store_site_reads_limited(const struct store *st)
{
    return !st->is_acting && (st->site_filter || st->reader.limited);
}

static void in_scope_fn(sqlite3_context *c, int argc, sqlite3_value **v)
{
    (void)argc;
    const struct store *st = sqlite3_user_data(c);
    long long site = sqlite3_value_type(v[0]) == SQLITE_NULL ? 0 : sqlite3_value_int64(v[0]);
    sqlite3_result_int(c, store_site_visible(st, site));
}

int store_sites_scope_send(struct store *st)
{
    /* "" lets every record through; else the visible site ids between commas (",-1," when
     * none is: a record without a site is visible only when reads are not limited at all) */
    const struct store_scope *sc = st->is_acting ? &st->acting : &st->reader;
    bool filtered = st->site_filter && !st->is_acting;
    char scope[24 * (STORE_USER_SITES_MAX + 2)] = "";
    size_t len = 0;
    if (filtered || sc->limited) {
        len = (size_t)snprintf(scope, sizeof scope, ",");
        for (size_t i = 0; i < (filtered ? 1 : sc->n); i++) {
            long long site = filtered ? st->site_filter : sc->site[i];
            if (store_site_visible(st, site))
                len += (size_t)snprintf(scope + len, sizeof scope - len, "%lld,", site);
        }
        if (len == 1)
            fmt_exact(scope, sizeof scope, ",-1,");
    }
    return store_sql_set_scope(st->db, scope);
}

int store_sites_register(struct store *st, struct err *e)
{
    if (store_sql_is_postgres(st->db))
        return 0; /* the database's in_scope() reads the session's ioheme.scope */
    /* DIRECTONLY: not callable from a trigger or view a database file could bring along */
    if (sqlite3_create_function_v2(store_sql_sqlite(st->db), "in_scope", 1,
                                   SQLITE_UTF8 | SQLITE_DIRECTONLY, st, in_scope_fn, NULL, NULL,
                                   NULL) != SQLITE_OK)
        return store_db_fail(st, e, "registering in_scope");
    return 0;
}

void store_scope_row(sqldb_stmt *s, int col, struct store_scope *sc, bool *all)
{
    *all = store_sql_col_int(s, col) != 0;
    if (store_sql_col_type(s, col + 1) != SQLITE_NULL && sc->n < STORE_USER_SITES_MAX) {
        if (sc->n == 0)
            store_col_copy(s, col + 2, sc->dag, sizeof sc->dag);
        sc->site[sc->n++] = store_sql_col_int64(s, col + 1);
    }
}

void store_scope_done(struct store_scope *sc, bool all)
{
    if (all) /* an unknown user (no row) stays limited to nothing */
        *sc = (struct store_scope){.limited = false};
    if (sc->n != 1)
        sc->dag[0] = '\0';
}

void store_scope_prefetched(struct store *st, const char *user, const struct store_scope *sc)
{
    st->prefetch_snapshot = 0;
    if (!st->is_snapshot || !fmt_fits(st->prefetch_user, sizeof st->prefetch_user, "%s", user))
        return;
    st->prefetch = *sc;
    st->prefetch_snapshot = st->snapshot_serial;
}

int store_site_scope_load(struct store *st, const char *user, struct store_scope *sc, struct err *e)
{
    *sc = (struct store_scope){.limited = true}; /* until read: nothing */
    if (!user || strcmp(user, "system") == 0) {
        sc->limited = false; /* nobody signed in yet, or the store's own work */
        return 0;
    }
    /* read with the session in this same snapshot: the same rows */
    if (st->is_snapshot && st->prefetch_snapshot == st->snapshot_serial &&
        strcmp(st->prefetch_user, user) == 0) {
        *sc = st->prefetch;
        return 0;
    }
    sqldb_stmt *s = store_stmt_get(st, SQ_SITE_SCOPE, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, user);
    int r;
    bool all = false;
    while ((r = store_step(st, s)) == SQLITE_ROW)
        store_scope_row(s, 0, sc, &all);
    store_sql_reset(s);
    if (r != SQLITE_DONE) {
        sc->n = 0;
        return store_db_fail(st, e, "reading the user's sites");
    }
    store_scope_done(sc, all);
    return 0;
}

const char *store_user_dag(const struct store *st)
{
    return st->is_acting ? st->acting.dag : st->reader.dag;
}

int store_set_reader(struct store *st, enum role role, const char *user, struct err *e)
{
    if (!st) /* a request that needs no database has none */
        return 0;
    st->may_see_identifiers = perm_allows(role, PERM_IDENTIFIERS); /* keys.c */
    st->is_acting = false; /* a write batch's previous writer is not this reader */
    st->site_filter = 0;
    return store_site_scope_load(st, user, &st->reader, e);
}

int store_site_require_study_wide(struct store *st, const char *user, const char *what,
                                  struct err *e)
{
    struct store_scope sc;
    int rc = store_user_require_active(st, user, e);
    if (!rc)
        rc = store_site_scope_load(st, user, &sc, e);
    if (!rc && sc.limited)
        rc = err_set_field(e, ERR_FORBIDDEN, "site",
                           "%s is an action on the whole study: it needs a user who works at "
                           "every site, and %s works at some only",
                           what, user);
    return rc;
}

/* ERR_INVALID (field "site") unless code is a valid site code. */
static int site_code_check(const char *code, struct err *e)
{
    size_t n = code ? strlen(code) : 0;
    bool ok = n >= 1 && n <= STORE_SITE_CODE_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = code[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (!ok)
        return err_set_field(e, ERR_INVALID, "site",
                             "site code '%s' is not 1-%d letters, digits or underscores",
                             code ? code : "", STORE_SITE_CODE_MAX);
    return 0;
}

static void site_from_stmt(sqldb_stmt *s, void *elem)
{
    struct store_site *x = elem;
    memset(x, 0, sizeof *x);
    x->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, x->code, sizeof x->code);
    store_col_copy(s, 2, x->name, sizeof x->name);
    store_col_copy(s, 3, x->created_at, sizeof x->created_at);
    store_col_copy(s, 4, x->created_by, sizeof x->created_by);
    x->nrecords = store_sql_col_int64(s, 5);
    x->nenrolled = store_sql_col_int64(s, 6);
}

static int sites_query(struct store *st, enum stmt_id id, const char *arg, struct store_site **out,
                       size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, id, e);
    if (!s)
        return ERR_IO;
    if (arg)
        store_bind_text(st, s, 1, arg);
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, site_from_stmt, &arr, n, "listing sites", e);
    *out = arr;
    return rc;
}

int store_site_list(struct store *st, struct store_site **out, size_t *n, struct err *e)
{
    return sites_query(st, SQ_SITE_LIST, NULL, out, n, e);
}

/* "A, B, C" (at most len bytes): the codes of the sites the reader sees, for messages. */
static void known_codes(struct store *st, char *buf, size_t len)
{
    struct store_site *v = NULL;
    size_t n = 0;
    struct err ignored;
    err_clear(&ignored);
    buf[0] = '\0';
    if (store_site_list(st, &v, &n, &ignored) == 0) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < n; i++)
            strbuf_addf(&sb, "%s%s", i ? ", " : "", v[i].code);
        fmt_text(buf, len, "%s", n ? strbuf_str(&sb) : "none yet");
        strbuf_release(&sb);
    }
    free(v);
}

int store_site_get(struct store *st, const char *code, struct store_site *out, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_SITE_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, code ? code : "");
    int r = store_step(st, s);
    if (r == SQLITE_ROW)
        site_from_stmt(s, out);
    store_sql_reset(s);
    if (r == SQLITE_DONE) {
        char known[256];
        known_codes(st, known, sizeof known);
        return err_set_field(e, ERR_NOT_FOUND, "site", "no site '%s' (sites: %s)", code ? code : "",
                             known);
    }
    return r == SQLITE_ROW ? 0 : store_db_fail(st, e, "reading a site");
}

/* Whether the study IDs the protocol's format gives with this site code fit in 15 characters
 * up to the 9,999th patient (as study.csv's check assumes; records.c refuses past it). */
static int code_fits_study_ids(struct store *st, const char *code, struct err *e)
{
    char id[16];
    if (!dict_study_id_format(&st->dict.study, code, 9999, id))
        return err_set_field(e, ERR_INVALID, "site",
                             "site code '%s' makes study IDs (%s) longer than 15 characters", code,
                             st->dict.study.id_format);
    return 0;
}

int store_site_add(struct store *st, const struct store_ctx *who, const char *code,
                   const char *name, struct err *e)
{
    int rc = site_code_check(code, e);
    if (rc)
        return rc;
    size_t nchars = 0;
    for (const char *p = name ? name : ""; *p; p++)
        nchars += ((unsigned char)*p & 0xC0) != 0x80;
    if (nchars == 0 || nchars > STORE_SITE_NAME_MAX || !utf8_is_valid(name))
        return err_set_field(e, ERR_INVALID, "name", "a site's name is 1-%d characters",
                             STORE_SITE_NAME_MAX);
    if ((rc = code_fits_study_ids(st, code, e)) != 0)
        return rc;
    if ((rc = store_tx_begin(st, e)) != 0)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    struct store_site old;
    struct err probe;
    err_clear(&probe);
    if (!rc && store_site_get(st, code, &old, &probe) == 0)
        rc = err_set_field(e, ERR_CONFLICT, "site", "site '%s' exists (%s)", old.code, old.name);
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, SQ_SITE_INSERT, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_text(st, s, 1, code);
            store_bind_text(st, s, 2, name);
            store_bind_text(st, s, 3, ts);
            store_bind_text(st, s, 4, who->user);
            rc = store_stmt_run(st, s, "adding a site", e);
        }
    }
    if (!rc) {
        struct audit_entry a = {.action = "site_add",
                                .instance = -1,
                                .field = "site",
                                .new_value = code,
                                .reason = name};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_site_for_new_record(struct store *st, const struct store_ctx *who, long long *site,
                              char code[STORE_SITE_CODE_MAX + 1], struct err *e)
{
    *site = 0;
    code[0] = '\0';
    const struct store_scope *sc = st->is_acting ? &st->acting : &st->reader;
    struct store_site x;
    if (who->site && *who->site) {
        int rc = store_site_get(st, who->site, &x, e);
        if (rc)
            return rc;
        if (!store_site_visible(st, x.id) && sc->limited)
            return err_set_field(e, ERR_FORBIDDEN, "site", "you do not work at site '%s'", x.code);
    } else if (sc->limited && sc->n == 1) {
        int rc = store_site_get(st, sc->dag, &x, e); /* the user's one site */
        if (rc)
            return rc;
    } else if (sc->limited) {
        char known[256];
        known_codes(st, known, sizeof known);
        return err_set_field(e, sc->n ? ERR_INVALID : ERR_FORBIDDEN, "site",
                             sc->n ? "say which site the record belongs to (yours: %s)"
                                   : "you work at no site yet (%s): an admin assigns one",
                             known);
    } else if (dict_study_id_has_site(&st->dict.study)) {
        char known[256];
        known_codes(st, known, sizeof known);
        return err_set_field(e, ERR_INVALID, "site",
                             "say which site the record belongs to: the study IDs (%s) carry "
                             "the site's code (sites: %s)",
                             st->dict.study.id_format, known);
    } else {
        return 0; /* a study-wide user, no site given: a record without one */
    }
    *site = x.id;
    fmt_exact(code, STORE_SITE_CODE_MAX + 1, "%s", x.code);
    return 0;
}

int store_site_move(struct store *st, const struct store_ctx *who, const char *record,
                    const char *code, const char *reason, struct err *e)
{
    int rc0 = store_reason_check(reason, true, "moving a record to another site", e);
    if (rc0)
        return rc0;
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    if (!rc)
        rc = store_db_require(st, false, e);
    struct store_record r;
    if (!rc)
        rc = store_record_find(st, record, &r, e);
    struct store_site x = {0};
    if (!rc && code && *code)
        rc = store_site_get(st, code, &x, e);
    if (!rc && r.is_locked)
        rc = err_set_field(e, ERR_CONFLICT, "record", "%s is locked", store_record_name(&r));
    if (!rc && r.study_id[0] && dict_study_id_has_site(&st->dict.study))
        rc = err_set_field(e, ERR_CONFLICT, "site",
                           "%s is enrolled and its study ID names its site: it cannot move",
                           r.study_id);
    if (!rc && strcmp(r.site, x.code) == 0)
        rc = err_set_field(e, ERR_CONFLICT, "site", "%s is at site '%s' already",
                           store_record_name(&r), x.code[0] ? x.code : "(none)");
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, SQ_SITE_SET_RECORD, e);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_int64(st, s, 1, r.id);
            if (x.id)
                store_bind_int64(st, s, 2, x.id);
            rc = store_stmt_run(st, s, "moving a record", e);
        }
    }
    if (!rc) {
        struct audit_entry a = {.action = "record_site",
                                .record = store_record_name(&r),
                                .instance = -1,
                                .field = "site",
                                .old_value = r.site[0] ? r.site : NULL,
                                .new_value = x.id ? x.code : NULL,
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_user_sites(struct store *st, const char *user, bool *all, struct store_site **out,
                     size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    struct store_scope sc;
    int rc = store_site_scope_load(st, user, &sc, e);
    if (rc)
        return rc;
    *all = !sc.limited;
    return sc.limited ? sites_query(st, SQ_SITE_OF_USER, user, out, n, e) : 0;
}

int store_user_sites_text(struct store *st, const char *user, struct strbuf *out, struct err *e)
{
    bool all;
    struct store_site *v = NULL;
    size_t n = 0;
    int rc = store_user_sites(st, user, &all, &v, &n, e);
    if (!rc)
        strbuf_adds(out, all ? "all" : n ? "" : "(none)");
    for (size_t i = 0; !rc && !all && i < n; i++)
        strbuf_addf(out, "%s%s", i ? ", " : "", v[i].code);
    free(v);
    return rc;
}

int store_user_set_sites(struct store *st, const struct store_ctx *who, const char *user, bool all,
                         const char *const *codes, size_t n, const char *reason, struct err *e)
{
    int rc0 = store_reason_check(reason, true, "changing where a user works", e);
    if (rc0)
        return rc0;
    if (n > STORE_USER_SITES_MAX)
        return err_set_field(e, ERR_INVALID, "site", "at most %d sites per user",
                             STORE_USER_SITES_MAX);
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    struct store_user u;
    if (!rc)
        rc = store_user_get(st, user, &u, e);
    struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
    if (!rc)
        rc = store_user_sites_text(st, user, &before, e);
    sqldb_stmt *s = NULL;
    if (!rc && !(s = store_stmt_get(st, SQ_SITE_USER_CLEAR, e)))
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, user);
        rc = store_stmt_run(st, s, "changing a user's sites", e);
    }
    for (size_t i = 0; !rc && !all && i < n; i++) {
        struct store_site x;
        rc = store_site_get(st, codes[i], &x, e);
        if (!rc && !(s = store_stmt_get(st, SQ_SITE_USER_ADD, e)))
            rc = ERR_IO;
        if (!rc) {
            store_bind_text(st, s, 1, user);
            store_bind_int64(st, s, 2, x.id);
            rc = store_stmt_run(st, s, "changing a user's sites", e);
        }
    }
    if (!rc && !(s = store_stmt_get(st, SQ_SITE_USER_ALL, e)))
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, user);
        store_bind_int64(st, s, 2, all ? 1 : 0);
        rc = store_stmt_run(st, s, "changing a user's sites", e);
    }
    if (!rc)
        rc = store_user_sites_text(st, user, &after, e);
    if (!rc && strcmp(strbuf_str(&before), strbuf_str(&after)) == 0)
        rc = err_set_field(e, ERR_CONFLICT, "site", "%s works at %s already", user,
                           strbuf_str(&after));
    if (!rc) {
        /* "name: sites", as user_role's rows name the user changed */
        struct strbuf ov = STRBUF_INIT, nv = STRBUF_INIT;
        strbuf_addf(&ov, "%s: %s", user, strbuf_str(&before));
        strbuf_addf(&nv, "%s: %s", user, strbuf_str(&after));
        struct audit_entry a = {.action = "user_sites",
                                .instance = -1,
                                .field = "user",
                                .old_value = strbuf_str(&ov),
                                .new_value = strbuf_str(&nv),
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
        strbuf_release(&ov);
        strbuf_release(&nv);
    }
    strbuf_release(&before);
    strbuf_release(&after);
    return store_tx_finish(st, rc, e);
}

int store_reads_sites(struct store *st, struct strbuf *out, struct err *e)
{
    if (!store_site_reads_limited(st))
        return 0;
    struct store_site *v = NULL;
    size_t n = 0;
    int rc = store_site_list(st, &v, &n, e); /* the sites in scope, filter included */
    if (!rc && st->site_filter && n == 1)
        strbuf_addf(out, "site %s (%s)", v[0].code, v[0].name);
    else if (!rc)
        strbuf_addf(out, "%s", n == 1 ? "site " : n ? "sites " : "no site");
    for (size_t i = 0; !rc && !st->site_filter && i < n; i++)
        strbuf_addf(out, "%s%s", i ? ", " : "", v[i].code);
    free(v);
    return rc;
}

int store_set_site_filter(struct store *st, const char *code, struct err *e)
{
    st->site_filter = 0;
    if (!code || !*code)
        return 0;
    struct store_site x;
    int rc = store_site_get(st, code, &x, e);
    if (rc)
        return rc;
    if (!store_site_visible(st, x.id))
        return err_set_field(e, ERR_NOT_FOUND, "site", "no site '%s' you work at", code);
    st->site_filter = x.id;
    return 0;
}
