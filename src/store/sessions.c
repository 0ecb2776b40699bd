/* Session checks for the web server, session endings and API tokens: see sessions.h. Uses the
 * store's cached session statements (store.c), so a request costs no statement preparation. */
#include "store/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* A session's expiry is pushed forward at most once a minute: sliding it on every request
 * would make every read a durable write (an fsync per request under synchronous=FULL). */
#define TOUCH_EVERY_MS 60000LL

static void hash_token(const char *token, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Looks the session up: *found, its user's name, expiry and idle ttl. */
static int session_row(struct store *st, const char *th, bool *found, char user[65],
                       long long *expires_ms, long long *ttl_s, struct err *e)
{
    *found = false;
    sqlite3_stmt *s = stmt_get(st, SQ_SESSION_GET, e);
    if (!s)
        return ERR_IO;
    bind_text(s, 1, th);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *found = true;
        col_copy(s, 0, user, 65);
        *expires_ms = sqlite3_column_int64(s, 1);
        *ttl_s = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return db_fail(st, e, "reading a session");
    return 0;
}

/* Deletes the session and audits its end, in one transaction. */
static int end_session(struct store *st, const char *th, const char *user, const char *why,
                       struct err *e)
{
    int rc = tx_begin(st, e);
    if (rc)
        return rc;
    sqlite3_stmt *s = stmt_get(st, SQ_SESSION_DELETE, e);
    if (!s) {
        rc = ERR_IO;
        goto fail;
    }
    bind_text(s, 1, th);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE) {
        rc = db_fail(st, e, "ending a session");
        goto fail;
    }
    struct store_ctx who = {.user = user, .source = "api"};
    struct audit_entry a = {.action = "logout", .instance = -1, .reason = why};
    rc = audit_append(st, &who, &a, e);
    if (rc)
        goto fail;
    return tx_commit(st, e);
fail:
    tx_rollback(st);
    return rc;
}

int store_session_verify(struct store *st, const char *token, bool may_write,
                         struct store_user *out, struct err *e)
{
    char th[65], name[65];
    bool found;
    long long expires_ms = 0, ttl_s = 0;
    hash_token(token, th);
    int rc = session_row(st, th, &found, name, &expires_ms, &ttl_s, e);
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
        snprintf(why, sizeof why, "idle timeout after %lld s", ttl_s);
        rc = end_session(st, th, name, why, e);
        if (rc)
            return rc;
        return err_set(e, ERR_AUTH, "signed out after %lld minutes without activity",
                       ttl_s / 60);
    }
    struct store_user u;
    rc = store_user_get(st, name, &u, e);
    if (rc)
        return rc == ERR_NOT_FOUND ? err_set(e, ERR_AUTH, "no such session") : rc;
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' cannot sign in", name);
    if (touch) {
        sqlite3_stmt *s = stmt_get(st, SQ_SESSION_TOUCH, e);
        if (!s)
            return ERR_IO;
        bind_text(s, 1, th);
        sqlite3_bind_int64(s, 2, slid);
        int r = sqlite3_step(s);
        sqlite3_reset(s);
        if (r != SQLITE_DONE)
            return db_fail(st, e, "extending a session");
    }
    if (out)
        *out = u;
    return 0;
}

int store_session_end(struct store *st, const char *token, const char *why, struct err *e)
{
    char th[65], user[65];
    bool found;
    long long expires_ms = 0, ttl_s = 0;
    hash_token(token, th);
    int rc = session_row(st, th, &found, user, &expires_ms, &ttl_s, e);
    if (rc || !found)
        return rc;
    return end_session(st, th, user, why, e);
}

int store_api_token_create(struct store *st, const struct store_ctx *who, const char *user,
                           char token[65], struct err *e)
{
    int rc = tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_session_create(st, user, STORE_API_TOKEN_TTL_S, token, e);
    if (rc)
        goto fail;
    struct audit_entry a = {.action = "api_token", .instance = -1, .new_value = user,
                            .reason = "API token issued"};
    rc = audit_append(st, who, &a, e);
    if (rc)
        goto fail;
    return tx_commit(st, e);
fail:
    tx_rollback(st);
    return rc;
}
