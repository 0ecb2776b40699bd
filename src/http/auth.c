/* Who is asking: session cookies, bearer tokens, CSRF tokens, and the sign-in / sign-out
 * endpoints of the API.
 *
 * A session id is 32 random bytes (libsodium) shown to the browser as 64 hex chars in an
 * HttpOnly, SameSite=Strict cookie (Secure under TLS); the store keeps only its SHA-256. The
 * CSRF token is a keyed BLAKE2b of the session id under the database's server key
 * (store_server_key: random, shared by every server process on the database): it needs no
 * storage per session, is different for every session, and cannot be derived from the cookie
 * without the key. API tokens (Authorization: Bearer) are long-lived sessions of the same table; a
 * bearer request carries no ambient credential, so it needs no CSRF token. Users list and revoke
 * their own tokens; admins (user_manage) anyone's. */
#include "base/fmt.h"
#include "http/http_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "formats/json_out.h"
#include "http/handlers.h"
#include "store/sessions.h"

/* 64 lower-case hex characters (a session or API token), or 32 upper-case ones (an API token in
 * REDCap's shape: store_api_token_create). */
static bool is_token_shape(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n != 64 && n != 32)
        return false;
    return strspn(t, n == 64 ? "0123456789abcdef" : "0123456789ABCDEF") == n;
}

static void make_csrf(struct req *r)
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)r->session, strlen(r->session),
                       http_server_csrf_key(r->srv), 32);
    sodium_bin2hex(r->csrf, sizeof r->csrf, h, sizeof h);
}

const char *auth_request_token(struct req *r, bool *bearer)
{
    const char *authz = req_header(r, "Authorization");
    *bearer = authz && strncmp(authz, "Bearer ", 7) == 0;
    return *bearer ? authz + 7 : req_cookie(r, AUTH_COOKIE);
}

int auth_identify(struct req *r, bool may_write, struct err *e)
{
    const char *token = auth_request_token(r, &r->via_bearer);
    if (!token)
        return err_set(e, ERR_AUTH, "not signed in");
    return auth_token(r, token, may_write, e);
}

int auth_token(struct req *r, const char *token, bool may_write, struct err *e)
{
    char upper[33];
    if (token && strlen(token) == 32) { /* a REDCap-shaped token matches in either case */
        for (size_t i = 0; i <= 32; i++)
            upper[i] = (char)toupper((unsigned char)token[i]);
        token = upper;
    }
    if (!is_token_shape(token))
        return err_set(e, ERR_AUTH, "malformed session token");
    int rc = store_session_verify(r->st, token, may_write, &r->user, e);
    if (rc)
        return rc;
    r->has_user = true;
    fmt_exact(r->session, sizeof r->session, "%s", token);
    make_csrf(r);
    return 0;
}

bool auth_csrf_ok(struct req *r)
{
    if (r->via_bearer)
        return true;
    const char *t = req_header(r, "X-CSRF-Token");
    if (!t)
        t = req_form(r, "csrf");
    if (!t || strlen(t) != 64)
        return false;
    return sodium_memcmp(t, r->csrf, 64) == 0;
}

/* The authority ("host[:port]") of an absolute http(s) URL, as a length into url; 0 when url is
 * not one. */
static size_t url_authority(const char *url, const char **start)
{
    const char *p = strstr(url, "://");
    if (!p || (strncmp(url, "http", 4) != 0))
        return 0;
    *start = p + 3;
    return strcspn(*start, "/?#");
}

bool auth_same_origin(struct req *r)
{
    /* Fetch metadata, when the browser sends it, is the most direct answer. "none" is a
     * request the user made themselves (typed address, bookmark). */
    const char *site = req_header(r, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return false;
    /* Browsers send Origin on every cross-origin POST (and Referer, unless suppressed); an
     * API client (curl, a script) sends neither and is no cross-site request. */
    const char *from = req_header(r, "Origin");
    if (!from)
        from = req_header(r, "Referer");
    if (!from)
        return true;
    /* "null": our own pages send it — Referrer-Policy: no-referrer makes a browser serialise
     * the Origin of a POST as null — and so can an attacker's page. Fetch metadata (checked
     * above) tells them apart; without it, refuse. */
    if (strcmp(from, "null") == 0)
        return site != NULL;
    const char *host = req_header(r, "Host"), *a = NULL;
    size_t n = url_authority(from, &a);
    return host && n > 0 && strlen(host) == n && strncasecmp(a, host, n) == 0;
}

/* Starts a cookie session for user and sets the cookie; fills r->session and r->csrf. */
int auth_start_session(struct req *r, const char *user, struct err *e)
{
    char tok[65];
    int rc = store_session_create(r->st, user, http_server_idle_s(r->srv), tok, e);
    if (rc)
        return rc;
    fmt_exact(r->session, sizeof r->session, "%s", tok);
    make_csrf(r);
    resp_header(r, "Set-Cookie",
                arena_printf(&r->ar, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", AUTH_COOKIE, tok,
                             r->is_tls ? "; Secure" : ""));
    sodium_memzero(tok, sizeof tok);
    return 0;
}

/* Ends the request's session (audited) and clears the cookie. */
int auth_end_session(struct req *r, struct err *e)
{
    int rc = store_session_end(r->st, r->session, r->via_bearer ? "token revoked" : "logout", e);
    if (rc)
        return rc;
    resp_header(r, "Set-Cookie",
                arena_printf(&r->ar, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                             AUTH_COOKIE, r->is_tls ? "; Secure" : ""));
    r->has_user = false;
    return 0;
}

int auth_password(struct req *r, const char *user, const char *password, const char *new_password,
                  struct err *e)
{
    struct store_ctx who = {.user = NULL, .source = "api"};
    if (!user || !password || !*user || !*password)
        return err_set(e, ERR_AUTH, "username and password are required");
    int rc = store_authenticate(r->st, &who, user, password, &r->user, e);
    if ((rc == 0 || rc == ERR_PASSWORD_EXPIRED) && new_password && *new_password) {
        who.user = r->user.name; /* the user changes their own password (the policy applies) */
        err_clear(e);
        rc = store_user_set_password(r->st, &who, r->user.name, new_password, e);
    }
    return rc;
}

static json_t *user_json(const struct store_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:b, s:b, s:i, s:s}", "id", (json_int_t)u->id, "username",
                     u->name, "role", u->role, "disabled", u->is_disabled, "locked_out",
                     u->is_locked_out, "failed_logins", u->failed_logins, "created_at",
                     u->created_at);
}

int api_login_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    json_t *body = req_json(r, &e);
    if (!body)
        return resp_err(r, &e);
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *npw = NULL;
    int rc = api_body_str(body, "new_password", &npw, &e);
    if (!rc)
        rc = auth_password(r, user, pw, npw, &e);
    if (rc == 0)
        rc = auth_start_session(r, r->user.name, &e);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    r->has_user = true;
    return resp_json(r, 200,
                     json_pack("{s:o, s:s, s:i}", "user", user_json(&r->user), "csrf_token",
                               r->csrf, "idle_timeout_s", (int)http_server_idle_s(r->srv)));
}

int api_logout_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    if (auth_end_session(r, &e) != 0)
        return resp_err(r, &e);
    return resp_json(r, 200, json_pack("{s:b}", "signed_out", 1));
}

int api_me_get(struct req *r)
{
    return resp_json(r, 200,
                     json_pack("{s:o, s:s}", "user", user_json(&r->user), "csrf_token", r->csrf));
}

int api_tokens_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    char tok[65];
    struct store_ctx who = req_who(r);
    /* {"format": "redcap"}: 32 upper-case hex characters, what REDCap's clients accept */
    json_t *body = r->body.len ? req_json(r, &e) : NULL;
    if (r->body.len && !body)
        return resp_err(r, &e);
    const char *fmt = NULL;
    int rc = body ? api_body_str(body, "format", &fmt, &e) : 0;
    bool redcap = fmt && strcmp(fmt, "redcap") == 0;
    if (!rc && fmt && !redcap)
        rc = err_set_field(&e, ERR_INVALID, "format", "format is \"redcap\" or absent, not '%s'",
                           fmt);
    json_decref(body);
    if (rc)
        return resp_err(r, &e);
    if (store_api_token_create(r->st, &who, r->user.name, redcap, tok, &e) != 0)
        return resp_err(r, &e);
    json_t *v = json_pack("{s:s, s:s, s:I}", "token", tok, "user", r->user.name, "idle_timeout_s",
                          (json_int_t)STORE_API_TOKEN_TTL_S);
    sodium_memzero(tok, sizeof tok);
    return resp_json(r, 201, v);
}

/* The unexpired API tokens of user, as {"user", "tokens": [...]}. */
static int tokens_reply(struct req *r, const char *user)
{
    struct err e;
    err_clear(&e);
    struct store_api_token *t = NULL;
    size_t n = 0;
    if (store_api_token_list(r->st, user, &t, &n, &e) != 0)
        return resp_err(r, &e);
    json_t *v = json_pack("{s:s, s:o}", "user", user, "tokens", json_out_api_tokens(t, n));
    free(t);
    return resp_json(r, 200, v);
}

/* Revokes user's token {token} (audited by the caller). */
static int revoke_reply(struct req *r, const char *user)
{
    struct err e;
    err_clear(&e);
    struct store_ctx who = req_who(r);
    const char *id = req_param(r, "token");
    if (store_api_token_revoke(r->st, &who, user, id, &e) != 0)
        return resp_err(r, &e);
    return resp_json(r, 200, json_pack("{s:s, s:s, s:b}", "user", user, "id", id, "revoked", 1));
}

int api_tokens_get(struct req *r)
{
    return tokens_reply(r, r->user.name);
}

int api_token_revoke_post(struct req *r)
{
    return revoke_reply(r, r->user.name);
}

int api_user_tokens_get(struct req *r)
{
    return tokens_reply(r, req_param(r, "name"));
}

int api_user_token_revoke_post(struct req *r)
{
    return revoke_reply(r, req_param(r, "name"));
}

json_t *auth_user_json(const struct store_user *u)
{
    return user_json(u);
}

int auth_set_reader(struct req *r, struct err *e)
{
    enum role role = ROLE__COUNT;
    if (r->has_user && role_from_name(r->user.role, &role) != 0)
        role = ROLE__COUNT;
    return store_set_reader(r->st, role, r->has_user ? r->user.name : NULL, e);
}
