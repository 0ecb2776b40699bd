/* libFuzzer target for the HTTP request path: any bytes as one request, run in process through
 * the same code the server runs for a parsed request (src/http/request.c, router_dispatch: route
 * match, body cap, authentication, CSRF, permission, record lock, handler, group-commit writer)
 * against a study database with an enrolled and a screened patient (fuzz_study.h). libmicrohttpd
 * itself is not under test: the harness does its part (split the request line, decode the path
 * and query, read headers and cookies) the way it does.
 *
 * Input, as a raw HTTP/1.1 request without the version:
 *
 *     POST /api/v1/records/IOH-001/values?x=1
 *     Authorization: Bearer $TOKEN
 *     Content-Type: application/json
 *
 *     {"event":"t6h_arm_1","values":{"hd_sbp":"120"}}
 *
 * "$TOKEN" in a header or the body is replaced by a signed-in admin session's token and "$CSRF" by
 * its CSRF token, so inputs reach the handlers behind the sign-in (a session cookie works too:
 * "Cookie: ioh_session=$TOKEN" with "X-CSRF-Token: $CSRF"). "$APITOKEN" becomes an API token of
 * the admin's in REDCap's shape (32 upper-case hex characters), for REDCap's API, whose
 * credential is the form body's token= (POST /api/ with "token=$APITOKEN&content=record&…").
 *
 * Beyond crashes, leaks and undefined behaviour it checks what every answer must be: a status
 * the router sets (never 0, never 500: an internal error on a client's input is a bug), and on
 * /api/ paths a body that is JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz_study.h"
#include "http/http_int.h"
#include "store/sessions.h"
#include "store/store.h"

static struct http_config cfg;
static struct http_server *srv;
static char token[65], csrf[65], apitoken[65];

static void close_server(void)
{
    http_server_close(srv);
}

/* The placeholders an input may hold and what they become (setup fills them). "$APITOKEN" is
 * looked for before "$TOKEN" only for clarity: neither is a substring of the other. */
static const struct {
    const char *name;
    const char *value;
} placeholders[] = {{"$APITOKEN", apitoken}, {"$TOKEN", token}, {"$CSRF", csrf}};

/* Replaces the placeholders in s (an arena copy when there is one). */
static const char *expand(struct arena *a, const char *s)
{
    const char *at = NULL;
    size_t which = 0;
    for (size_t i = 0; i < sizeof placeholders / sizeof *placeholders; i++) {
        const char *p = strstr(s, placeholders[i].name);
        if (p && (!at || p < at)) {
            at = p;
            which = i;
        }
    }
    if (!at)
        return s;
    char *rest = arena_printf(a, "%.*s%s", (int)(at - s), s, placeholders[which].value);
    const char *tail = expand(a, at + strlen(placeholders[which].name));
    return rest && tail ? arena_printf(a, "%s%s", rest, tail) : NULL;
}

/* name[=value] pairs separated by sep into inputs of kind (query: decoded as a form). */
static void add_pairs(struct req *r, enum req_input kind, const char *s, size_t n, char sep)
{
    const char *end = s + n;
    while (s < end) {
        const char *next = memchr(s, sep, (size_t)(end - s));
        const char *stop = next ? next : end;
        while (kind == REQ_COOKIE && s < stop && *s == ' ')
            s++;
        size_t len = (size_t)(stop - s);
        const char *eq = len ? memchr(s, '=', len) : NULL;
        const char *name_end = eq ? eq : stop;
        char *name = kind == REQ_QUERY ? http_url_decode(&r->ar, s, (size_t)(name_end - s), true)
                                       : arena_strndup(&r->ar, s, (size_t)(name_end - s));
        char *value = NULL;
        if (eq)
            value = kind == REQ_QUERY
                        ? http_url_decode(&r->ar, eq + 1, (size_t)(stop - eq - 1), true)
                        : arena_strndup(&r->ar, eq + 1, (size_t)(stop - eq - 1));
        if (name && *name)
            req_add_input(r, kind, name, value);
        s = next ? next + 1 : end;
    }
}

/* One line of data at *pos (without CR LF), copied into the arena; NULL at the end. */
static char *next_line(struct arena *a, const char *data, size_t size, size_t *pos)
{
    if (*pos >= size)
        return NULL;
    const char *s = data + *pos;
    const char *nl = memchr(s, '\n', size - *pos);
    size_t len = nl ? (size_t)(nl - s) : size - *pos;
    *pos += len + (nl ? 1 : 0);
    if (len && s[len - 1] == '\r')
        len--;
    return arena_strndup(a, s, len);
}

/* Parses one input (request line, headers, blank line, body) into r and dispatches it; r holds
 * the answer (r->path stays NULL when the input made no request). */
static void run_request(struct req *r, const char *data, size_t size)
{
    size_t pos = 0;
    struct arena *a = &r->ar;
    char *line = next_line(a, data, size, &pos);
    if (!line)
        line = "";
    char *sp = strchr(line, ' ');
    const char *url = sp ? sp + 1 : "/";
    if (sp)
        *sp = '\0';
    const char *q = strchr(url, '?');
    size_t path_len = q ? (size_t)(q - url) : strlen(url);
    const char *path = http_url_decode(a, url, path_len, false);
    if (!path || req_begin(r, srv, *line ? line : "GET", path) != 0)
        return;
    if (q)
        add_pairs(r, REQ_QUERY, q + 1, strlen(q + 1), '&');
    while ((line = next_line(a, data, size, &pos)) && *line) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *value = expand(a, colon + 1 + strspn(colon + 1, " \t"));
        if (!value)
            return;
        req_add_input(r, REQ_HEADER, line, value);
        if (strcasecmp(line, "Cookie") == 0)
            add_pairs(r, REQ_COOKIE, value, strlen(value), ';');
    }
    if (pos < size && !memchr(data + pos, '\0', size - pos)) {
        const char *body = expand(a, arena_strndup(a, data + pos, size - pos));
        if (body)
            req_add_body(r, body, strlen(body));
    } else if (pos < size) {
        req_add_body(r, data + pos, size - pos);
    }
    router_dispatch(r);
}

static void setup(void)
{
    cfg.db_path = fuzz_study_db();
    cfg.access_log = stderr;
    struct err e = {0};
    if (http_server_open(&cfg, &srv, &e) != 0) {
        fprintf(stderr, "fuzz_http: %s\n", e.msg);
        exit(1);
    }
    atexit(close_server);
    struct store *st = NULL;
    /* the REDCap API's credential (POST /api/, token=…): an API token in REDCap's shape, as
     * `ioheme token new --redcap` makes it */
    struct store_ctx who = {"admin", "cli", NULL, NULL};
    if (store_open(cfg.db_path, &st, &e) != 0 ||
        store_session_create(st, "admin", 3600, token, &e) != 0 ||
        store_api_token_create(st, &who, "admin", true, apitoken, &e) != 0) {
        fprintf(stderr, "fuzz_http: session: %s\n", e.msg);
        exit(1);
    }
    store_close(st);
    /* The session's CSRF token, as the API hands it out. */
    static const char me[] = "GET /api/v1/me\nCookie: ioh_session=$TOKEN\n\n";
    struct req r = {0};
    run_request(&r, me, sizeof me - 1);
    json_t *o = json_loadb(r.out.buf, r.out.len, 0, NULL);
    const char *c = json_string_value(json_object_get(o, "csrf_token"));
    if (r.status != 200 || !c || strlen(c) != 64) {
        fprintf(stderr, "fuzz_http: GET /api/v1/me: %d\n", r.status);
        exit(1);
    }
    memcpy(csrf, c, 65);
    json_decref(o);
    req_end(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        setup();
    struct req r = {0};
    run_request(&r, (const char *)data, size);
    if (r.path && getenv("IOHEME_FUZZ_VERBOSE")) /* for writing seeds: what each one reached */
        fprintf(stderr, "fuzz_http: %s %s -> %d %.*s\n", r.method_name, r.path, r.status,
                (int)(r.out.len < 160 ? r.out.len : 160), r.out.buf ? r.out.buf : "");
    if (r.path) {
        if (r.status < 100 || r.status > 599 || r.status == 500) {
            fprintf(stderr, "fuzz_http: %s %s answered %d: %.*s\n", r.method_name, r.path, r.status,
                    (int)(r.out.len < 400 ? r.out.len : 400), r.out.buf ? r.out.buf : "");
            abort();
        }
        if (r.content_type && strcmp(r.content_type, "application/json") == 0) {
            json_error_t je;
            json_t *v = json_loadb(r.out.buf ? r.out.buf : "", r.out.len, 0, &je);
            if (!v) {
                fprintf(stderr, "fuzz_http: %s %s: response is not JSON: %s\n", r.method_name,
                        r.path, je.text);
                abort();
            }
            json_decref(v);
        }
    }
    req_end(&r);
    return 0;
}
