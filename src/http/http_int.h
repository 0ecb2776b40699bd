/* Shared inside src/http/ only: the request/response context every handler gets, the route
 * table's row, and the helpers handlers use to read a request and write a response.
 *
 * Lifetimes: a struct req lives from the first libmicrohttpd callback of a request to its
 * completion callback. Everything allocated in req->ar (strings, path parameters, the parsed
 * form body) is freed then, in one call. Handlers never free what they put there. */
#ifndef IOHEME_HTTP_HTTP_INT_H
#define IOHEME_HTTP_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "http/http.h"
#include "store/store.h"

enum http_method { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8 };

/* Route flags: what the router checks before the handler runs. */
enum route_flag {
    RT_PUBLIC = 1 << 0,      /* no sign-in needed (login, static files, health) */
    RT_CSRF = 1 << 1,        /* state-changing: needs the CSRF token (cookie sessions) */
    RT_RECORD_LOCK = 1 << 2, /* writes to record {id}: refused with 409 while it is locked */
    RT_HTML = 1 << 3,        /* a page: 401 redirects to /login, errors render as HTML */
    RT_NO_DB = 1 << 4,       /* needs no database connection (health, static files) */
    RT_REDCAP = 1 << 5,      /* REDCap's API: the router's own refusals in REDCap's shape */
    RT_CACHE = 1 << 6,       /* a GET of one record {id} whose answer is the database's state
                                for its session alone: kept by the read cache (readcache.h)
                                when its handler names the record in r->cache_record */
};

struct req;
typedef int (*route_handler)(struct req *r);

struct route {
    int method;          /* enum http_method */
    const char *pattern; /* "/api/v1/records/{id}"; {name} captures one path segment */
    route_handler handler;
    enum perm_action permission; /* core/perm.h action; PERM_NONE: any signed-in user */
    unsigned flags;              /* enum route_flag bits */
    unsigned max_body_kib;       /* request body cap; 0 = no body allowed */
};

/* The table (routes.c) and its length. */
extern const struct route http_routes[];
extern const size_t http_nroutes;

#define REQ_MAX_PARAMS 4
#define REQ_MAX_HEADERS 8

struct http_server; /* server.c: daemon, configuration, CSRF key */

/* What a request carries besides its path and body (request.c). */
enum req_input { REQ_HEADER, REQ_QUERY, REQ_COOKIE };
struct req_kv {
    enum req_input kind;
    const char *name;
    const char *value; /* NULL for a key without a value */
};

struct req {
    struct arena ar;
    struct http_server *srv;
    void *conn; /* the libmicrohttpd connection (server.c only) */
    int method; /* enum http_method, 0 when unsupported */
    const char *method_name;
    const char *path;          /* decoded path without the query string */
    const struct route *route; /* matched row, NULL when none */
    int allowed_methods;       /* for 405: methods the path has */
    const char *param_name[REQ_MAX_PARAMS];
    const char *param[REQ_MAX_PARAMS];
    size_t nparams;
    struct req_kv *inputs; /* headers, query arguments, cookies (req_add_input) */
    size_t ninputs, capinputs;
    struct strbuf body;
    bool body_too_big;
    bool is_tls;
    bool parked;     /* suspended until the read cache's barrier or its write's commit */
    bool write_done; /* its write has run and committed (writer.c): the answer is in r */
    long long t0_us;
    char id[17];         /* request id: 16 hex chars, in X-Request-Id and the logs */
    const char *failure; /* a 5xx's cause, for the error log (never sent out) */

    struct store *st;       /* this worker thread's connection */
    long long cache_record; /* an RT_CACHE answer's record (internal id), set by its handler */
    bool has_user;
    struct store_user user; /* the signed-in user when has_user */
    bool via_bearer;        /* authenticated by Authorization: Bearer */
    char session[65];       /* the session token (cookie or bearer) */
    char csrf[65];          /* CSRF token bound to the session */

    /* response */
    int status;
    const char *content_type;         /* static string */
    struct strbuf out;                /* body */
    const unsigned char *static_body; /* when set, sent instead of out (embedded assets) */
    size_t static_len;
    size_t sent_bytes; /* body length queued (for the access log) */
    const char *hdr_name[REQ_MAX_HEADERS];
    const char *hdr_value[REQ_MAX_HEADERS];
    size_t nhdrs;

    struct {
        const char *name, *value;
    } * form; /* parsed urlencoded or multipart/form-data body (req_form) */
    size_t nform;
    bool form_parsed;
    bool form_unreadable; /* a multipart/form-data body that could not be read */
};

/* ---- request.c: a request apart from the socket (server.c and in-process callers) ---- */

/* Starts r (zeroed by the caller) for srv: method ("GET", "HEAD", "POST", …; unsupported ones
 * get method 0) and the decoded path without the query string, both copied into r->ar; matches
 * the route (router_match), so the body cap is known. Returns 0 or ERR_NOMEM. */
int req_begin(struct req *r, struct http_server *srv, const char *method, const char *path);
/* Adds a header, a decoded query argument or a cookie (name and value copied into r->ar; value
 * NULL for a key without one). Returns 0 or ERR_NOMEM. */
int req_add_input(struct req *r, enum req_input kind, const char *name, const char *value);
/* The matched route's body cap in bytes (0 without a route or when it takes no body). */
size_t req_body_cap(const struct req *r);
/* Appends body bytes; past the cap nothing more is kept and r->body_too_big is set (413). */
void req_add_body(struct req *r, const char *data, size_t n);
/* Frees what r holds (body, response, arena); r itself is the caller's. */
void req_end(struct req *r);

/* A request header, or NULL. */
const char *req_header(struct req *r, const char *name);
/* A query-string argument (decoded), or NULL. */
const char *req_query(struct req *r, const char *name);
/* A cookie's value, or NULL. */
const char *req_cookie(struct req *r, const char *name);
/* True when every query-string name and value is valid UTF-8 (a %ff must be a 400, not a
 * JSON encoder's failure). */
bool req_query_is_utf8(const struct req *r);
/* The path parameter {name} of the matched route, or NULL (router.c). */
const char *req_param(const struct req *r, const char *name);

/* ---- server.c ---- */

/* This worker thread's store connection (opened on first use); NULL with e filled when it
 * cannot be opened. */
struct store *req_store(struct req *r, struct err *e);
/* The server without its socket: opens cfg->db_path (applying migrations), makes the CSRF key
 * and starts the writer thread. http_serve runs on it; in-process callers fill a struct req
 * (req_begin, …) for it and call router_dispatch. Caller frees with http_server_close. */
int http_server_open(const struct http_config *cfg, struct http_server **out, struct err *e);
/* Stops the writer (finishing queued writes), closes every connection, frees srv (may be NULL). */
void http_server_close(struct http_server *srv);
/* Seconds without a request after which a web session ends (--idle-timeout, default 1800). */
long long http_server_idle_s(const struct http_server *srv);
/* The server's group-commit writer (writer.h). */
struct http_writer *http_server_writer(const struct http_server *srv);
/* CLOCK_MONOTONIC in microseconds: a request's arrival (r->t0_us) and whatever is compared with
 * it (the read cache's barriers). */
long long http_now_us(void);
/* Suspends or resumes a request's connection (its libmicrohttpd connection, r->conn). */
typedef void (*http_park_fn)(void *conn);
/* The server's cache of read answers; NULL on SQLite or with --no-read-cache. */
struct http_readcache *http_server_readcache(const struct http_server *srv);
/* The server's 32-byte CSRF key (random per process). */
const unsigned char *http_server_csrf_key(const struct http_server *srv);

/* ---- response helpers (respond.c) ---- */

/* Adds a response header; name and value must live as long as the request (static or arena). */
void resp_header(struct req *r, const char *name, const char *value);
/* Sends v (a jansson value, reference stolen) with status. Returns 0. */
int resp_json(struct req *r, int status, json_t *v);
/* Sends {"error":{"code","message","field"}} with the status of e->code (err_info). Returns 0. */
int resp_err(struct req *r, const struct err *e);
/* For a 503 answer (code ERR_BUSY or ERR_OUTCOME_UNKNOWN): adds "Retry-After:
 * HTTP_RETRY_AFTER_S" and returns the message to show — nothing was saved (busy), or whether
 * it was is not known (the database went away during COMMIT: read it back first). */
#define HTTP_RETRY_AFTER_S "2"
const char *resp_busy(struct req *r, int code);
/* As resp_err, with issues (reference stolen; may be NULL) under "error"."issues" — a refused
 * write's hard problems (formats/json_out.h). */
int resp_err_issues(struct req *r, const struct err *e, json_t *issues);
/* As resp_err for a code and message made here. */
int resp_errf(struct req *r, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 303 See Other to location (copied into the arena). Returns 0. */
int resp_redirect(struct req *r, const char *location);
/* The request body parsed as a JSON object, or NULL after filling e (ERR_INVALID naming line
 * and column). The caller owns the value (json_decref). */
json_t *req_json(struct req *r, struct err *e);
/* A field of an application/x-www-form-urlencoded body (decoded, in the arena), or NULL. */
const char *req_form(struct req *r, const char *name);
/* req_form, NULL when empty too: an empty optional box means "not given". */
const char *req_form_opt(struct req *r, const char *name);
/* Percent-decodes s (with '+' as space when is_form) into the arena. */
char *http_url_decode(struct arena *a, const char *s, size_t n, bool is_form);
/* s percent-encoded for one segment of a URL's path or a query value (all but letters, digits
 * and "-._~"), in the arena ("" when out of memory): a record ID ("AMC Javelin") in a link or a
 * redirect. The result needs no HTML escaping. */
char *http_url_encode(struct arena *a, const char *s);
/* The store context for writes made by the signed-in user through the API/web. */
struct store_ctx req_who(const struct req *r);

/* ---- router.c ---- */

/* Finds the route for r->method and r->path: sets r->route and the path parameters, or leaves
 * r->route NULL and sets r->allowed_methods (non-zero: 405, zero: 404). */
void router_match(struct req *r);
/* Runs the router's checks in order (route found, body cap, authentication, CSRF, role
 * permission, record lock), then the handler, leaving the response in r. Or, for a read the
 * read cache may answer, sets r->parked when its connection (r->conn) was suspended until the
 * cache's barrier is back: no response yet; call again when it is resumed. */
void router_dispatch(struct req *r);
/* Counts a finished request against its route (calls, 4xx/5xx answers, microseconds). */
void router_count(const struct route *rt, int status, long long us);
/* Writes one line per route with its counters (at shutdown, to the access log). */
void router_log_stats(FILE *out);
/* "GET", "POST", … for a method bit. */
const char *http_method_name(int method);

/* ---- auth.c ---- */

/* Authenticates r from the Authorization: Bearer header or the session cookie; sets
 * r->has_user, r->user, r->session, r->csrf. Returns 0 (signed in), ERR_AUTH (no or bad
 * credentials; an expired session is audited as an idle logout), ERR_CONFLICT when may_write
 * is false and the check needs a write (sliding the expiry, ending an idle session), or
 * another error. */
int auth_identify(struct req *r, bool may_write, struct err *e);
/* The session token the request carries (Authorization: Bearer, else the session cookie), or
 * NULL; *bearer says which. What auth_identify checks. */
const char *auth_request_token(struct req *r, bool *bearer);
/* As auth_identify for a token the caller found elsewhere (the REDCap API's body "token="):
 * the same check, filling r->user. */
int auth_token(struct req *r, const char *token, bool may_write, struct err *e);
/* True when the request carries the CSRF token of its session (header X-CSRF-Token, or form
 * field "csrf"). Bearer-token requests carry no ambient credentials and pass. */
bool auth_csrf_ok(struct req *r);
/* Makes r's user (nobody when none is signed in) the reader of r->st: identifier fields as the
 * role may see them, records of the user's sites only (store_set_reader). */
int auth_set_reader(struct req *r, struct err *e);
/* False when the request says it comes from another site: Sec-Fetch-Site other than
 * same-origin/none, an Origin (else Referer) whose host[:port] is not this request's Host, or
 * Origin "null" without Sec-Fetch-Site. True when it carries none of them (an API client, not a
 * browser). The router refuses such state-changing requests before any handler — sign-in included,
 * which no session token can protect (login CSRF). */
bool auth_same_origin(struct req *r);
/* Session cookie name. */
#define AUTH_COOKIE "ioh_session"
/* Idle logout: by default sessions expire after this many seconds without a request. */
#define AUTH_IDLE_S 1800

#endif
