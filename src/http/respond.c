/* Writing responses and reading request bodies: JSON replies and JSON errors, redirects, extra
 * headers, the JSON body and the urlencoded form body of a request.
 *
 * Every error a client sees has the shape {"error":{"code","message","field"}} and the HTTP
 * status of its err_info() row; messages come from struct err, which names the field, rule and
 * value but never SQL, file paths of the server or stack text. */
#include "base/fmt.h"
#include "http/http_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/json_out.h"

void resp_header(struct req *r, const char *name, const char *value)
{
    if (r->nhdrs < REQ_MAX_HEADERS) {
        r->hdr_name[r->nhdrs] = name;
        r->hdr_value[r->nhdrs] = value;
        r->nhdrs++;
    }
}

/* json_dump_callback's sink: appends to the response body (no intermediate string). */
static int dump_to_strbuf(const char *buf, size_t size, void *data)
{
    struct strbuf *sb = data;
    strbuf_add(sb, buf, size);
    return sb->failed ? -1 : 0;
}

int resp_json(struct req *r, int status, json_t *v)
{
    r->status = status;
    r->content_type = "application/json";
    strbuf_reset(&r->out);
    int rc = v ? json_out_dump_callback(v, dump_to_strbuf, &r->out, JSON_COMPACT) : -1;
    json_decref(v);
    if (rc != 0 || r->out.failed) {
        r->status = 500;
        r->failure = "out of memory writing the JSON response";
        strbuf_release(&r->out);
        strbuf_adds(&r->out, "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\","
                             "\"field\":null}}");
        return 0;
    }
    strbuf_addc(&r->out, '\n');
    return 0;
}

const char *resp_busy(struct req *r, int code)
{
    resp_header(r, "Retry-After", HTTP_RETRY_AFTER_S);
    if (code == ERR_OUTCOME_UNKNOWN)
        return "the connection to the database was lost while the change was being committed: "
               "whether it was saved is not known — read it back before entering it again";
    return "the database is busy with another writer (an import or a backup); nothing was "
           "saved — try again in a few seconds";
}

int resp_err(struct req *r, const struct err *e)
{
    return resp_err_issues(r, e, NULL);
}

int resp_err_issues(struct req *r, const struct err *e, json_t *issues)
{
    const struct err_info *info = err_info(e->code ? e->code : ERR_INTERNAL);
    const char *msg = e->msg[0] ? e->msg : info->name;
    /* Internal failures are logged for the operator and shown to the client only by name. A
     * busy database is no failure of ours: the client is told to come back (Retry-After),
     * and the line is logged like every 5xx. */
    if (info->http_status >= 500) {
        r->failure = arena_strdup(&r->ar, msg); /* logged with the request id (server.c) */
        msg = info->http_status == 503
                  ? resp_busy(r, e->code)
                  : arena_printf(&r->ar, "internal error; see the server log (request %s)", r->id);
    }
    /* the message and field may echo what the client sent (or be cut inside a character):
     * bytes that are not UTF-8 go out as U+FFFD rather than losing the whole answer */
    json_t *err = json_pack("{s:s, s:o, s:o}", "code", info->name, "message", json_out_text(msg),
                            "field", e->field[0] ? json_out_text(e->field) : json_null());
    if (err && issues)
        json_object_set_new(err, "issues", issues);
    else
        json_decref(issues);
    return resp_json(r, info->http_status, json_pack("{s:o}", "error", err));
}

int resp_errf(struct req *r, int code, const char *field, const char *fmt, ...)
{
    struct err e;
    err_clear(&e);
    e.code = code;
    if (field)
        fmt_text(e.field, sizeof e.field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    fmt_vtext(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return resp_err(r, &e);
}

int resp_redirect(struct req *r, const char *location)
{
    r->status = 303;
    r->content_type = "text/plain; charset=utf-8";
    resp_header(r, "Location", arena_strdup(&r->ar, location));
    strbuf_reset(&r->out);
    return 0;
}

json_t *req_json(struct req *r, struct err *e)
{
    json_error_t je;
    if (r->body.len == 0) {
        err_set(e, ERR_INVALID, "the request needs a JSON object body");
        return NULL;
    }
    json_t *v = json_loadb(r->body.buf, r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        err_set(e, ERR_INVALID, "body is not valid JSON: line %d column %d: %s", je.line, je.column,
                je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        err_set(e, ERR_INVALID, "body must be a JSON object");
        return NULL;
    }
    return v;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *http_url_encode(struct arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, 3 * n + 1);
    if (!out)
        return "";
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}

char *http_url_decode(struct arena *a, const char *s, size_t n, bool is_form)
{
    char *out = arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+' && is_form) {
            out[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
                   hexval((unsigned char)s[i + 2]) >= 0) {
            out[j++] =
                (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

static void parse_form(struct req *r)
{
    r->form_parsed = true;
    const char *s = r->body.buf ? r->body.buf : "";
    size_t n = r->body.len, count = 1;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '&';
    r->form = arena_calloc(&r->ar, count, sizeof *r->form);
    if (!r->form)
        return;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        size_t k = i;
        while (k < j && s[k] != '=')
            k++;
        if (k > i) {
            const char *name = http_url_decode(&r->ar, s + i, k - i, true);
            const char *value = k < j ? http_url_decode(&r->ar, s + k + 1, j - k - 1, true)
                                      : arena_strdup(&r->ar, "");
            if (name && value) {
                r->form[r->nform].name = name;
                r->form[r->nform].value = value;
                r->nform++;
            }
        }
        i = j + 1;
    }
}

const char *req_form(struct req *r, const char *name)
{
    if (!r->form_parsed)
        parse_form(r);
    for (size_t i = 0; i < r->nform; i++)
        if (strcmp(r->form[i].name, name) == 0)
            return r->form[i].value;
    return NULL;
}

const char *req_form_opt(struct req *r, const char *name)
{
    const char *v = req_form(r, name);
    return v && *v ? v : NULL;
}

struct store_ctx req_who(const struct req *r)
{
    struct store_ctx who = {.user = r->has_user ? r->user.name : NULL, .source = "api"};
    return who;
}
