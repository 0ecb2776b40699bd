/* The router: matches a request to its row in the route table and enforces, centrally and in
 * this order, everything the row asks for before the handler runs:
 *
 *   1. a route exists for the path (404) and the method (405 with Allow);
 *   2. the body fits the row's cap (413); path parameters and query are UTF-8 (400); a
 *      state-changing request does not come from another site (403: Sec-Fetch-Site, Origin,
 *      Referer — sign-in too, against login CSRF);
 *   3. the caller is signed in — session cookie or bearer token — unless the row is public
 *      (401; pages redirect to /login);
 *   4. a state-changing row carries its session's CSRF token (403);
 *   5. the user's role may perform the row's permission (403, audited as "denied");
 *   6. a record-writing row's record exists (404) and is not locked (409).
 *
 * Handlers never check any of these themselves; the authorisation-matrix test loops over the
 * same table to prove it. */
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "core/perm.h"
#include "http/api_redcap.h"
#include "http/html.h"
#include "http/readcache.h"
#include "http/writer.h"
#include "store/snapshot.h"

/* Per-route counters (as Redis keeps per command), indexed like http_routes[]. */
#define MAX_ROUTES 128
static _Atomic unsigned long route_calls[MAX_ROUTES], route_failures[MAX_ROUTES];
static _Atomic unsigned long long route_us[MAX_ROUTES];

void router_count(const struct route *rt, int status, long long us)
{
    size_t i = (size_t)(rt - http_routes);
    if (i >= MAX_ROUTES || i >= http_nroutes)
        return;
    route_calls[i]++;
    if (status >= 400)
        route_failures[i]++;
    route_us[i] += us > 0 ? (unsigned long long)us : 0;
}

void router_log_stats(FILE *out)
{
    for (size_t i = 0; i < http_nroutes && i < MAX_ROUTES; i++) {
        unsigned long calls = route_calls[i];
        (void)fprintf(out, "route-stats method=%s route=%s calls=%lu failures=%lu mean_us=%llu\n",
                      http_method_name(http_routes[i].method), http_routes[i].pattern, calls,
                      (unsigned long)route_failures[i], calls ? route_us[i] / calls : 0ULL);
    }
}

const char *http_method_name(int method)
{
    switch (method) {
    case HTTP_GET:
        return "GET";
    case HTTP_POST:
        return "POST";
    case HTTP_PUT:
        return "PUT";
    case HTTP_DELETE:
        return "DELETE";
    default:
        return "?";
    }
}

/* Matches path against pattern, capturing {name} segments into r (arena copies). */
static bool match_pattern(struct req *r, const char *pattern, const char *path, bool capture)
{
    const char *p = pattern, *s = path;
    size_t n = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                return false;
            const char *seg_end = strchr(s, '/');
            size_t seg_len = seg_end ? (size_t)(seg_end - s) : strlen(s);
            if (seg_len == 0 || n >= REQ_MAX_PARAMS)
                return false;
            if (capture) {
                r->param_name[n] = arena_strndup(&r->ar, p + 1, (size_t)(close - p - 1));
                r->param[n] = arena_strndup(&r->ar, s, seg_len);
            }
            n++;
            p = close + 1;
            s += seg_len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    if (capture)
        r->nparams = n;
    return true;
}

void router_match(struct req *r)
{
    r->route = NULL;
    r->allowed_methods = 0;
    for (size_t i = 0; i < http_nroutes; i++) {
        const struct route *rt = &http_routes[i];
        if (!match_pattern(r, rt->pattern, r->path, false))
            continue;
        if (rt->method == r->method) {
            match_pattern(r, rt->pattern, r->path, true);
            r->route = rt;
            return;
        }
        r->allowed_methods |= rt->method;
    }
}

const char *req_param(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (r->param_name[i] && strcmp(r->param_name[i], name) == 0)
            return r->param[i];
    return NULL;
}

static bool wants_html(const struct req *r)
{
    if (r->route)
        return (r->route->flags & RT_HTML) != 0;
    return strncmp(r->path, "/api/", 5) != 0;
}

/* REDCap's API (RT_REDCAP): its clients read REDCap's error shapes, not ioheme's. */
static bool is_redcap(const struct req *r)
{
    return r->route && (r->route->flags & RT_REDCAP);
}

/* An error in the form the caller reads: REDCap's for REDCap's API, JSON for the API, a page
 * for the browser. */
static void fail(struct req *r, int status, const char *code, const char *msg)
{
    if (is_redcap(r)) { /* REDCap's clients read {"error": "…"} (or its csv, xml shapes) */
        api_rc_error(r, status, msg);
        return;
    }
    if (wants_html(r)) {
        html_error_page(r, status, msg);
        return;
    }
    json_t *err = json_pack("{s:s, s:s, s:n}", "code", code, "message", msg, "field");
    resp_json(r, status, json_pack("{s:o}", "error", err));
}

static void fail_err(struct req *r, const struct err *e)
{
    if (is_redcap(r)) {
        api_rc_error_err(r, e);
        return;
    }
    if (wants_html(r)) {
        html_error_page(r, err_info(e->code)->http_status, html_err_msg(r, e));
        return;
    }
    resp_err(r, e);
}

/* The role × action table (core/perm.h) for the signed-in user's role. */
static bool role_may(const char *role_name_s, enum perm_action action)
{
    enum role role;
    return action == PERM_NONE ||
           (role_from_name(role_name_s, &role) == 0 && perm_allows(role, action));
}

static void run_handler(struct req *r)
{
    r->route->handler(r);
}

/* The batch holding this write could not commit: nothing of it is kept, say so. */
static void write_failed(struct req *r, const struct err *e)
{
    r->nhdrs = 0; /* no redirect or cookie from a save that did not happen */
    fail_err(r, e);
}

static void checks_and_handler(struct req *r, bool *snapshot);

/* The read cache's key for r: its session token and its URL (path and query arguments). False
 * (key empty) without a session token. */
static bool cache_key(struct req *r, struct strbuf *key)
{
    bool bearer;
    const char *token = auth_request_token(r, &bearer);
    if (!token)
        return false;
    strbuf_addc(key, bearer ? 'b' : 'c');
    strbuf_adds(key, token);
    strbuf_add(key, "", 1);
    strbuf_adds(key, r->path);
    for (size_t i = 0; i < r->ninputs; i++)
        if (r->inputs[i].kind == REQ_QUERY) {
            strbuf_add(key, "", 1);
            strbuf_adds(key, r->inputs[i].name);
            if (r->inputs[i].value) {
                strbuf_addc(key, '=');
                strbuf_adds(key, r->inputs[i].value);
            }
        }
    if (key->failed)
        strbuf_release(key);
    return key->len > 0;
}

/* Answers r from the read cache when it holds a good answer under key; else sets *ticket for
 * keep_answer, or empties key when the answer must not be kept. */
static bool cached_answer(struct req *r, struct http_readcache *cache, struct strbuf *key,
                          uint64_t *ticket)
{
    struct http_readcache_answer ans;
    switch (
        http_readcache_get(cache, key->buf, key->len, store_now_ms(r->st), &ans, &r->out, ticket)) {
    case HTTP_READCACHE_HIT:
        r->status = ans.status;
        r->content_type = ans.content_type;
        r->user = ans.user;
        r->has_user = true;
        resp_header(r, "X-Cache", "hit");
        return true;
    case HTTP_READCACHE_MISS:
        return false;
    case HTTP_READCACHE_OFF:
    default:
        strbuf_reset(key);
        return false;
    }
}

/* Keeps r's answer in the read cache: a 200 read for a signed-in user, in the one snapshot
 * begun after the lookup, about the record its handler named. */
static void keep_answer(struct req *r, struct http_readcache *cache, struct strbuf *key,
                        uint64_t ticket)
{
    if (r->status != 200 || !r->has_user || r->cache_record <= 0 || r->nhdrs || r->static_body ||
        r->out.failed)
        return;
    struct http_readcache_answer ans = {r->status, r->content_type, r->user};
    http_readcache_put(cache, key->buf, key->len, ticket, r->cache_record, &ans, r->out.buf,
                       r->out.len);
    resp_header(r, "X-Cache", "miss");
}

/* A handler that left no response. */
static void check_answered(struct req *r)
{
    if (r->status == 0) {
        r->failure = "the handler produced no response";
        fail(r, 500, "internal", "the handler produced no response");
    }
}

void router_dispatch(struct req *r)
{
    struct err e;
    err_clear(&e);
    if (r->write_done) { /* resumed after its write's commit: the answer is in r */
        check_answered(r);
        return;
    }
    const struct route *rt = r->route;
    if (!rt) {
        if (r->allowed_methods) {
            struct strbuf allow = STRBUF_INIT;
            for (int m = 1; m <= HTTP_DELETE; m <<= 1)
                if (r->allowed_methods & m) {
                    if (allow.len)
                        strbuf_adds(&allow, ", ");
                    strbuf_adds(&allow, http_method_name(m));
                }
            resp_header(r, "Allow", arena_strdup(&r->ar, strbuf_str(&allow)));
            strbuf_release(&allow);
            fail(r, 405, "method_not_allowed", "this path does not take that method");
        } else {
            fail(r, 404, "not_found", "no such page or API route");
        }
        return;
    }
    if (r->body_too_big) {
        fail(r, 413, "too_large", "the request body is larger than this route accepts");
        return;
    }
    for (size_t i = 0; i < r->nparams; i++)
        if (r->param[i] && !utf8_is_valid(r->param[i])) {
            fail(r, 400, "bad_request",
                 arena_printf(&r->ar, "path parameter {%s} is not valid UTF-8",
                              r->param_name[i] ? r->param_name[i] : "?"));
            return;
        }
    if (!req_query_is_utf8(r)) {
        fail(r, 400, "bad_request", "the query string is not valid UTF-8");
        return;
    }
    if (rt->method != HTTP_GET && !auth_same_origin(r)) {
        fail(r, 403, "cross_origin", "a request from another site is refused");
        return;
    }
    if (!(rt->flags & RT_NO_DB) && !req_store(r, &e)) {
        fail_err(r, &e);
        return;
    }
    /* An answer the read cache kept, still good (readcache.h), is the whole reply. */
    struct http_readcache *cache = (rt->flags & RT_CACHE) && rt->method == HTTP_GET && r->st
                                       ? http_server_readcache(r->srv)
                                       : NULL;
    struct strbuf key = STRBUF_INIT;
    uint64_t ticket = 0;
    if (cache && !cache_key(r, &key)) /* no session: nothing kept for it */
        cache = NULL;
    if (cache && !http_readcache_ready(cache, r->t0_us, r->conn)) {
        strbuf_release(&key);
        r->parked = true; /* its handler runs again once the barrier is back (server.c) */
        return;
    }
    if (cache && cached_answer(r, cache, &key, &ticket)) {
        strbuf_release(&key);
        return;
    }
    /* A read answers from one snapshot (and one read transaction), authentication included,
     * and under the protocol version in force in it (on PostgreSQL that check goes out with
     * the snapshot's BEGIN: one round trip). */
    bool snapshot = rt->method == HTTP_GET && r->st;
    if (snapshot && store_snapshot_begin(r->st, &e) != 0) {
        fail_err(r, &e);
        return;
    }
    if (snapshot && store_protocol_sync(r->st, &e) != 0) {
        store_snapshot_end(r->st);
        fail_err(r, &e);
        return;
    }
    checks_and_handler(r, &snapshot);
    if (key.len && snapshot)
        keep_answer(r, cache, &key, ticket);
    strbuf_release(&key);
    if (snapshot)
        store_snapshot_end(r->st);
    if (r->parked) /* its write waits for its commit: resumed after it */
        return;
    check_answered(r);
}

/* The router's checks after the body cap, then the handler. *snapshot says whether a read
 * snapshot is open; it is closed (and set false) before anything that writes. */
static void checks_and_handler(struct req *r, bool *snapshot)
{
    struct err e;
    err_clear(&e);
    const struct route *rt = r->route;
    /* nobody yet: identifiers masked (keys.c); cannot fail without a user to read */
    (void)store_set_reader(r->st, ROLE__COUNT, NULL, NULL);
    if (!(rt->flags & RT_PUBLIC) || (rt->flags & RT_HTML)) {
        int rc = auth_identify(r, !*snapshot, &e);
        if (rc == ERR_CONFLICT && *snapshot) {
            /* the session check must write (once a minute): outside the snapshot */
            store_snapshot_end(r->st);
            err_clear(&e);
            rc = auth_identify(r, true, &e);
            *snapshot = rc == 0 && store_snapshot_begin(r->st, &e) == 0;
            if (rc == 0 && !*snapshot) {
                fail_err(r, &e);
                return;
            }
        }
        if (rc != 0 && rc != ERR_AUTH) {
            fail_err(r, &e);
            return;
        }
        if (rc == ERR_AUTH && !(rt->flags & RT_PUBLIC)) {
            if (rt->flags & RT_HTML) {
                resp_redirect(r, "/login");
                return;
            }
            fail(r, 401, "unauthenticated",
                 "sign in first (POST /api/v1/login) or send a bearer token");
            return;
        }
    }
    /* this request's reader: identifier fields, the user's sites; ?site=CODE narrows a read
     * to one site (lists, exports and counts by site) */
    const char *site = r->method == HTTP_GET ? req_query(r, "site") : NULL;
    if (r->has_user && (auth_set_reader(r, &e) != 0 ||
                        (site && *site && store_set_site_filter(r->st, site, &e) != 0))) {
        fail_err(r, &e);
        return;
    }
    if ((rt->flags & RT_CSRF) && r->has_user && !auth_csrf_ok(r)) {
        fail(r, 403, "csrf", "missing or wrong CSRF token (header X-CSRF-Token)");
        return;
    }
    if (r->has_user && !role_may(r->user.role, rt->permission)) {
        /* store_authorize decides again, writes the "denied" audit row and names the refusal */
        if (*snapshot) {
            store_snapshot_end(r->st);
            *snapshot = false;
        }
        struct store_ctx who = req_who(r);
        if (store_authorize(r->st, &who, rt->permission, &e) == 0)
            err_set(&e, ERR_FORBIDDEN, "'%s' may not %s", r->user.role,
                    perm_action_label(rt->permission));
        if (e.code == ERR_FORBIDDEN && wants_html(r)) { /* a person reads it: words only */
            html_error_page(r, 403,
                            arena_printf(&r->ar,
                                         "You are signed in as %s, with the role %s, which may "
                                         "not %s. An administrator can give you a role that may.",
                                         r->user.name, r->user.role,
                                         perm_action_label(rt->permission)));
            return;
        }
        fail_err(r, &e);
        return;
    }
    if (rt->flags & RT_RECORD_LOCK) {
        const char *id = req_param(r, "id");
        struct store_record rec;
        if (!id || store_record_get(r->st, id, &rec, &e) != 0) {
            if (!id)
                err_set(&e, ERR_NOT_FOUND, "no record in the path");
            fail_err(r, &e);
            return;
        }
        if (rec.is_locked) {
            fail(r, 409, "locked",
                 "the record is locked; an unlock (with a reason) must come first");
            return;
        }
    }
    /* Writes run on the writer thread, group-committed (writer.c). Sign-in (public) stays on
     * this thread: it spends ~0.1 s in argon2id and must not hold up the nurses' saves. */
    if (rt->method != HTTP_GET && !(rt->flags & RT_PUBLIC)) {
        http_writer_run(http_server_writer(r->srv), r, run_handler, write_failed);
    } else {
        rt->handler(r);
    }
}
