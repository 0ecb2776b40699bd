/* A request as the router sees it, apart from the socket: method, path, the headers, query
 * arguments and cookies (copied into the request's arena), and the body under its route's cap.
 *
 * server.c fills a struct req from libmicrohttpd's callbacks through these functions; the
 * in-process users (the HTTP fuzz target in tests/fuzz/) fill it the same way and run the same
 * router_dispatch, so what they exercise is what the server runs. */
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "base/utf8.h"

static int method_from_name(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return HTTP_GET;
    if (strcmp(m, "POST") == 0)
        return HTTP_POST;
    if (strcmp(m, "PUT") == 0)
        return HTTP_PUT;
    if (strcmp(m, "DELETE") == 0)
        return HTTP_DELETE;
    return 0;
}

int req_begin(struct req *r, struct http_server *srv, const char *method, const char *path)
{
    r->srv = srv;
    unsigned char rid[8]; /* the request id of X-Request-Id and the logs */
    randombytes_buf(rid, sizeof rid);
    sodium_bin2hex(r->id, sizeof r->id, rid, sizeof rid);
    r->method = method_from_name(method);
    r->method_name = arena_strdup(&r->ar, method);
    r->path = arena_strdup(&r->ar, path);
    if (!r->method_name || !r->path)
        return ERR_NOMEM;
    router_match(r);
    return 0;
}

int req_add_input(struct req *r, enum req_input kind, const char *name, const char *value)
{
    struct req_kv *p = arena_grow(&r->ar, r->inputs, r->ninputs, &r->capinputs, sizeof *p, 16);
    if (!p)
        return ERR_NOMEM;
    r->inputs = p;
    struct req_kv *kv = &r->inputs[r->ninputs];
    kv->kind = kind;
    kv->name = arena_strdup(&r->ar, name ? name : "");
    kv->value = value ? arena_strdup(&r->ar, value) : NULL;
    if (!kv->name || (value && !kv->value))
        return ERR_NOMEM;
    r->ninputs++;
    return 0;
}

size_t req_body_cap(const struct req *r)
{
    return r->route ? (size_t)r->route->max_body_kib * 1024 : 0;
}

void req_add_body(struct req *r, const char *data, size_t n)
{
    if (!r->body_too_big && r->body.len + n <= req_body_cap(r))
        strbuf_add(&r->body, data, n);
    else
        r->body_too_big = true;
}

void req_end(struct req *r)
{
    strbuf_release(&r->body);
    strbuf_release(&r->out);
    arena_free(&r->ar);
}

/* The value of the first input of kind named name (names compare without case, as
 * libmicrohttpd's lookups do), or NULL: also for a key given without "=value". */
static const char *lookup(const struct req *r, enum req_input kind, const char *name)
{
    for (size_t i = 0; i < r->ninputs; i++)
        if (r->inputs[i].kind == kind && strcasecmp(r->inputs[i].name, name) == 0)
            return r->inputs[i].value;
    return NULL;
}

const char *req_header(struct req *r, const char *name)
{
    return lookup(r, REQ_HEADER, name);
}

const char *req_query(struct req *r, const char *name)
{
    return lookup(r, REQ_QUERY, name);
}

bool req_query_is_utf8(const struct req *r)
{
    for (size_t i = 0; i < r->ninputs; i++)
        if (r->inputs[i].kind == REQ_QUERY &&
            (!utf8_is_valid(r->inputs[i].name) ||
             (r->inputs[i].value && !utf8_is_valid(r->inputs[i].value))))
            return false;
    return true;
}

const char *req_cookie(struct req *r, const char *name)
{
    return lookup(r, REQ_COOKIE, name);
}
