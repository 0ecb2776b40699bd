/* Session checks for the web server, session endings and API tokens: see sessions.h. Uses the
 * store's cached session statements (store.c), so a request costs no statement preparation, and
 * checks a session and its user with one statement. */
#include "store/sessions.h"

#include <stdio.h>
#include <string.h>

#include "base/digest.h"
#include "base/fmt.h"
#include "store/store_int.h"

/* A session's expiry is pushed forward at most once a minute: sliding it on every request
 * would make every read a durable write (an fsync per request under synchronous=FULL). */
#define TOUCH_EVERY_MS 60000LL

void store_session_token_hash(const char *token, char out[65])
{
    digest_sha256_hex(token, strlen(token), out);
}

/* Looks the session up: *found, its user's name, expiry and idle ttl. */
static int session_row(struct store *st, const char *th, bool *found, char user[65],
                       long long *expires_ms, long long *ttl_s, struct err *e)
{
    *found = false;
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, th);
    int r = store_step(st, s);
    if (r == SQLITE_ROW) {
        *found = true;
        store_col_copy(s, 0, user, 65);
        *expires_ms = store_sql_col_int64(s, 1);
        *ttl_s = store_sql_col_int64(s, 2);
    }
    store_sql_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return store_db_fail(st, e, "reading a session");
    return 0;
}

/* Appends the audit row that ends the caller's transaction and commits it, or rolls it back. */
static int audit_commit(struct store *st, const struct store_ctx *who, const struct audit_entry *a,
                        struct err *e)
{
    int rc = store_audit_append(st, who, a, e);
    return store_tx_finish(st, rc, e);
}

/* Deletes the session and audits its end, in one transaction. */
static int end_session(struct store *st, const char *th, const char *user, const char *why,
                       struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_DELETE, e);
    if (!s) {
        rc = ERR_IO;
        goto fail;
    }
    store_bind_text(st, s, 1, th);
    int r = store_step(st, s);
    store_sql_reset(s);
    if (r != SQLITE_DONE) {
        rc = store_db_fail(st, e, "ending a session");
        goto fail;
    }
    struct store_ctx who = {.user = user, .source = "api"};
    struct audit_entry a = {.action = "logout", .instance = -1, .reason = why};
    return audit_commit(st, &who, &a, e);
fail:
    store_tx_rollback(st);
    return rc;
}

/* The session, its user and the user's sites in one statement (SQ_SESSION_AUTH): *found, the
 * user, the session's expiry and idle ttl; the sites are kept for the reader's scope
 * (store_scope_prefetched), one query less for every request. */
static int session_auth_row(struct store *st, const char *th, bool *found, struct store_user *u,
                            long long *expires_ms, long long *ttl_s, struct err *e)
{
    *found = false;
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_AUTH, e);
    if (!s)
        return ERR_IO;
    store_bind_text_static(st, s, 1, th);
    struct store_scope sc = {.limited = true};
    bool all = false;
    int r;
    while ((r = store_step(st, s)) == SQLITE_ROW) {
        if (!*found) {
            *found = true;
            store_user_from_stmt(s, u);
            *expires_ms = store_sql_col_int64(s, 8);
            *ttl_s = store_sql_col_int64(s, 9);
        }
        store_scope_row(s, 10, &sc, &all);
    }
    store_sql_reset(s);
    if (r != SQLITE_DONE) {
        *found = false;
        return store_db_fail(st, e, "reading a session");
    }
    if (*found) {
        store_scope_done(&sc, all);
        store_scope_prefetched(st, u->name, &sc);
    }
    return 0;
}

int store_session_verify(struct store *st, const char *token, bool may_write,
                         struct store_user *out, struct err *e)
{
    char th[65];
    bool found;
    long long expires_ms = 0, ttl_s = 0;
    struct store_user u;
    store_session_token_hash(token, th);
    int rc = session_auth_row(st, th, &found, &u, &expires_ms, &ttl_s, e);
    if (rc)
        return rc;
    if (!found)
        return err_set(e, ERR_AUTH, "no such session");
    long long now = store_now_ms(st);
    long long slid = now + ttl_s * 1000;
    bool expired = now >= expires_ms;
    bool touch = slid - expires_ms >= TOUCH_EVERY_MS || ttl_s * 1000 <= TOUCH_EVERY_MS;
    if (!may_write && (expired || touch))
        return err_set(e, ERR_CONFLICT, "the session check needs a write");
    if (expired) {
        char why[64];
        fmt_exact(why, sizeof why, "idle timeout after %lld s", ttl_s);
        rc = end_session(st, th, u.name, why, e);
        if (rc)
            return rc;
        return err_set(e, ERR_AUTH, "signed out after %lld minutes without activity", ttl_s / 60);
    }
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' cannot sign in", u.name);
    if (touch) {
        sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_TOUCH, e);
        if (!s)
            return ERR_IO;
        store_bind_text(st, s, 1, th);
        store_bind_int64(st, s, 2, slid);
        int r = store_step(st, s);
        store_sql_reset(s);
        if (r != SQLITE_DONE)
            return store_db_fail(st, e, "extending a session");
    }
    if (out) {
        *out = u;
        long long until = (touch ? slid : expires_ms) - ttl_s * 1000 + TOUCH_EVERY_MS;
        out->session_quiet_until_ms = ttl_s * 1000 <= TOUCH_EVERY_MS ? 0 : until;
    }
    return 0;
}

int store_session_end(struct store *st, const char *token, const char *why, struct err *e)
{
    char th[65], user[65];
    bool found;
    long long expires_ms = 0, ttl_s = 0;
    store_session_token_hash(token, th);
    int rc = session_row(st, th, &found, user, &expires_ms, &ttl_s, e);
    if (rc || !found)
        return rc;
    return end_session(st, th, user, why, e);
}

int store_api_token_create(struct store *st, const struct store_ctx *who, const char *user,
                           bool redcap, char token[65], struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = redcap ? store_session_create_redcap(st, user, STORE_API_TOKEN_TTL_S, token, e)
                : store_session_create(st, user, STORE_API_TOKEN_TTL_S, token, e);
    if (rc)
        goto fail;
    struct audit_entry a = {
        .action = "api_token", .instance = -1, .new_value = user, .reason = "API token issued"};
    return audit_commit(st, who, &a, e);
fail:
    store_tx_rollback(st);
    return rc;
}

/* Token listing and revocation are rare admin actions, not a hot path: their statements are
 * prepared per call rather than cached with the session statements. API tokens are the
 * sessions whose idle time-out is STORE_API_TOKEN_TTL_S. */
static const char TOKEN_LIST_SQL[] =
    "SELECT substr(s.token_hash, 1, 16), u.name, s.created_at, s.expires_ms FROM session s "
    "JOIN \"user\" u ON u.id = s.user_id WHERE s.ttl_s = ?1 AND s.expires_ms > ?2 "
    "AND (CAST(?3 AS TEXT) IS NULL OR u.name = ?3) ORDER BY s.created_at, s.token_hash";
static const char TOKEN_DELETE_SQL[] =
    "DELETE FROM session WHERE ttl_s = ?1 AND substr(token_hash, 1, 16) = ?2 "
    "AND user_id = (SELECT id FROM \"user\" WHERE name = ?3)";

static void token_fill(sqldb_stmt *s, void *elem)
{
    struct store_api_token *t = elem;
    store_col_copy(s, 0, t->id, sizeof t->id);
    store_col_copy(s, 1, t->user, sizeof t->user);
    store_col_copy(s, 2, t->created_at, sizeof t->created_at);
    t->expires_ms = store_sql_col_int64(s, 3);
}

int store_api_token_list(struct store *st, const char *user, struct store_api_token **out,
                         size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    if (user) {
        struct store_user u;
        int rc = store_user_get(st, user, &u, e);
        if (rc)
            return rc;
    }
    sqldb_stmt *s;
    int rc = store_stmt_prepare(st, TOKEN_LIST_SQL, &s, "listing API tokens", e);
    if (rc)
        return rc;
    store_bind_int64(st, s, 1, STORE_API_TOKEN_TTL_S);
    store_bind_int64(st, s, 2, store_now_ms(st));
    store_bind_text(st, s, 3, user);
    void *arr = NULL;
    rc = store_rows_to_array(st, s, sizeof **out, token_fill, &arr, n, "listing API tokens", e);
    store_sql_finalize(s);
    *out = arr;
    return rc;
}

static bool is_token_id(const char *id)
{
    if (!id || strlen(id) != 16)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int store_api_token_revoke(struct store *st, const struct store_ctx *who, const char *user,
                           const char *id, struct err *e)
{
    struct store_user u;
    int rc = store_user_get(st, user, &u, e);
    if (rc)
        return rc;
    if (!is_token_id(id))
        return err_set_field(e, ERR_NOT_FOUND, "token", "user '%s' has no API token '%s'", user,
                             id ? id : "");
    rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    sqldb_stmt *s;
    rc = store_stmt_prepare(st, TOKEN_DELETE_SQL, &s, "revoking an API token", e);
    if (rc)
        goto fail;
    store_bind_int64(st, s, 1, STORE_API_TOKEN_TTL_S);
    store_bind_text(st, s, 2, id);
    store_bind_text(st, s, 3, user);
    int r = store_step(st, s);
    store_sql_finalize(s);
    if (r != SQLITE_DONE) {
        rc = store_db_fail(st, e, "revoking an API token");
        goto fail;
    }
    if (store_sql_changes(st->db) == 0) {
        rc = err_set_field(e, ERR_NOT_FOUND, "token", "user '%s' has no API token '%s'", user, id);
        goto fail;
    }
    char why[64];
    fmt_text(why, sizeof why, "API token %s revoked", id);
    struct audit_entry a = {
        .action = "api_token", .instance = -1, .old_value = user, .reason = why};
    return audit_commit(st, who, &a, e);
fail:
    store_tx_rollback(st);
    return rc;
}
