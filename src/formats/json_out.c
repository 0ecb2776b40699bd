/* What the store reports, as JSON, and the one JSON writer (see json_out.h). */
#include "formats/json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "store/sessions.h"

json_t *json_out_issues(const struct store_put_result *res)
{
    json_t *a = json_array();
    for (size_t i = 0; a && res && i < res->nissues; i++) {
        const struct store_issue *s = &res->issues[i];
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "level",
                                        s->level == STORE_ISSUE_HARD ? "error" : "warning", "event",
                                        s->event, "instance", s->instance, "field", s->field,
                                        "rule", s->rule, "value", s->value, "message", s->msg));
    }
    return a;
}

json_t *json_out_put_result(const struct store_put_result *res, json_t *o)
{
    if (!o)
        o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "changed", json_integer((json_int_t)res->nchanged));
    json_object_set_new(o, "calculated", json_integer((json_int_t)res->ncalc));
    json_object_set_new(o, "status_changed", json_integer((json_int_t)res->nstatus));
    json_object_set_new(o, "unchanged", json_integer((json_int_t)res->nunchanged));
    json_object_set_new(o, "warnings", json_out_issues(res));
    return o;
}

json_t *json_out_text(const char *s)
{
    char *tmp;
    const char *t = utf8_text(s, &tmp);
    json_t *j = !s ? json_null() : t ? json_string(t) : NULL;
    free(tmp);
    return j;
}

json_t *json_out_audit_row(const struct store_audit_row *a)
{
    return json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id,
        "time", json_out_text(a->ts), "user", json_out_text(a->user), "action",
        json_out_text(a->action), "event", json_out_text(a->event), "instance",
        a->instance < 0 ? json_null() : json_integer(a->instance), "field", json_out_text(a->field),
        "old", json_out_text(a->old_value), "new", json_out_text(a->new_value), "reason",
        json_out_text(a->reason), "source", json_out_text(a->source), "protocol_version",
        a->protocol_version > 0 ? json_integer(a->protocol_version) : json_null());
}

/* "" as null: the query's empty place fields */
static json_t *nonempty_or_null(const char *s)
{
    return s && *s ? json_out_text(s) : json_null();
}

json_t *json_out_query(const struct store_query *q)
{
    return json_pack(
        "{s:I, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:o, "
        "s:i}",
        "id", (json_int_t)q->id, "record", q->record, "event", nonempty_or_null(q->event),
        "instance", q->event[0] ? json_integer(q->instance) : json_null(), "form",
        nonempty_or_null(q->form), "field", nonempty_or_null(q->field), "status",
        store_query_status_name(q->status), "origin", q->is_system ? "system" : "user", "rule",
        nonempty_or_null(q->rule), "raised_value", nonempty_or_null(q->raised_value), "assignee",
        nonempty_or_null(q->assignee), "opened_by", q->opened_by, "opened_at", q->opened_at,
        "updated_at", q->updated_at, "text", json_out_text(q->text), "messages", q->nmessages);
}

json_t *json_out_query_message(const struct store_query_message *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)m->id, "time", m->ts,
                     "user", m->user, "action", m->action, "text", json_out_text(m->text), "old",
                     m->has_values ? json_out_text(m->old_value) : json_null(), "new",
                     m->has_values ? json_out_text(m->new_value) : json_null());
}

json_t *json_out_sdv_progress(const struct store_sdv_count *c, size_t n)
{
    json_t *arr = json_array();
    size_t req = 0, ver = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].form[0]) {
            req += c[i].required;
            ver += c[i].required_verified;
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "record", c[i].record, "site",
                           c[i].site[0] ? json_string(c[i].site) : json_null(), "form",
                           c[i].form[0] ? json_string(c[i].form) : json_null(), "values",
                           (json_int_t)c[i].values, "required", (json_int_t)c[i].required,
                           "required_verified", (json_int_t)c[i].required_verified,
                           "other_verified", (json_int_t)c[i].other_verified));
    }
    return json_pack("{s:o, s:I, s:I, s:b}", "progress", arr, "required", (json_int_t)req,
                     "required_verified", (json_int_t)ver, "plan_met", store_sdv_plan_met(c, n));
}

json_t *json_out_signature(const struct store_signature *g)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:b, s:o, s:o}", "id", (json_int_t)g->id,
                     "meaning", g->meaning, "record", nonempty_or_null(g->record), "signer",
                     g->signer, "printed_name", json_out_text(g->printed_name), "signed_at",
                     g->signed_at, "content_sha256", g->content_sha256, "valid", g->is_valid,
                     "invalidated_at", g->is_valid ? json_null() : json_string(g->invalidated_at),
                     "invalidated_reason",
                     g->is_valid ? json_null() : json_out_text(g->invalidated_reason));
}

json_t *json_out_form_lock(const struct store_form_lock *l)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "event", l->event, "form", l->form, "instance",
                     l->instance, "locked_by", l->locked_by, "locked_at", l->locked_at);
}

json_t *json_out_sdv_value(const struct store_sdv_value *v)
{
    char key[300];
    if (!dict_key_format(v->field, v->code, key, sizeof key))
        return NULL;
    return json_pack("{s:s, s:i, s:s, s:s, s:o, s:b, s:b, s:o, s:o}", "event", v->event, "instance",
                     v->instance, "form", v->form, "field", key, "value", json_out_text(v->value),
                     "planned", v->is_required, "verified", v->is_verified, "verified_by",
                     json_out_text(v->verified_by), "verified_at", json_out_text(v->verified_at));
}

/* ---- writing JSON -------------------------------------------------------------------------*/

int json_out_shortest(double x, char buf[JSON_OUT_REAL_MAX])
{
    if (!isfinite(x))
        return -1;
    /* Every decimal of at most 15 significant digits survives a trip through a double
     * (DBL_DIG), so %.15g is exact for such values; 17 always reads back (DBL_DECIMAL_DIG). */
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, JSON_OUT_REAL_MAX, "%.*g", prec, x);
        if (len < 0 || len >= JSON_OUT_REAL_MAX)
            return -1;
        if (strtod(buf, NULL) == x)
            break;
    }
    return len;
}

/* A real as jansson spells it (its jsonp_dtostr): ".0" when the text has neither '.' nor 'e',
 * so it reads back as a real, and no '+' or leading zeros in the exponent ("1e20"). */
static int real_text(double x, char buf[JSON_OUT_REAL_MAX])
{
    int len = json_out_shortest(x, buf);
    if (len < 0)
        return -1;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        if (len + 3 > JSON_OUT_REAL_MAX)
            return -1;
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    char *exp = strchr(buf, 'e');
    if (exp) {
        char *from = exp + 1, *to = exp + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            from = ++to;
        while (*from == '0' && from[1])
            from++;
        memmove(to, from, strlen(from) + 1);
        len = (int)strlen(buf);
    }
    return len;
}

#define JSON_OUT_MAX_DEPTH 2048
#define INDENT_OF(flags) ((flags)&0x1F) /* jansson's JSON_INDENT(n) bits */

struct dumper {
    json_dump_callback_t cb;
    void *data;
    size_t flags;
};

static int put(struct dumper *d, const char *s, size_t len)
{
    return d->cb(s, len, d->data);
}

/* jansson's layout: with JSON_INDENT(n) a newline and depth·n spaces; otherwise one space
 * after a separator unless JSON_COMPACT. */
static int indent(struct dumper *d, int depth, bool after_comma)
{
    size_t n = INDENT_OF(d->flags);
    if (n > 0) {
        static const char spaces[] = "                                ";
        if (put(d, "\n", 1))
            return -1;
        for (size_t left = n * (size_t)depth; left > 0;) {
            size_t k = left < sizeof spaces - 1 ? left : sizeof spaces - 1;
            if (put(d, spaces, k))
                return -1;
            left -= k;
        }
        return 0;
    }
    return after_comma && !(d->flags & JSON_COMPACT) ? put(d, " ", 1) : 0;
}

/* Strings, integers, true/false/null: jansson's encoder, escapes and all. */
static int scalar(struct dumper *d, const json_t *v)
{
    return json_dump_callback(v, d->cb, d->data,
                              (d->flags & ~(size_t)JSON_INDENT(31)) | JSON_ENCODE_ANY);
}

static int key_text(struct dumper *d, const char *key, size_t len)
{
    json_t *k = json_stringn_nocheck(key, len);
    int rc = k ? scalar(d, k) : -1;
    json_decref(k);
    return rc;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int value(struct dumper *d, const json_t *v, int depth);

static int member(struct dumper *d, const char *key, size_t klen, const json_t *v, int depth)
{
    if (key_text(d, key, klen))
        return -1;
    if (put(d, ":", 1) || (!(d->flags & JSON_COMPACT) && put(d, " ", 1)))
        return -1;
    return value(d, v, depth + 1);
}

static int object(struct dumper *d, const json_t *v, int depth)
{
    size_t n = json_object_size(v), i = 0;
    if (put(d, "{", 1))
        return -1;
    if (n == 0)
        return put(d, "}", 1);
    if (indent(d, depth + 1, false))
        return -1;
    const char **keys = NULL;
    if (d->flags & JSON_SORT_KEYS) {
        keys = malloc(n * sizeof *keys);
        if (!keys)
            return -1;
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)v, k, val)
        {
            (void)val;
            keys[i++] = k;
        }
        qsort(keys, n, sizeof *keys, cmp_keys);
    }
    int rc = 0;
    void *it = keys ? NULL : json_object_iter((json_t *)v);
    for (i = 0; rc == 0 && i < n; i++) {
        if (keys) {
            rc = member(d, keys[i], strlen(keys[i]), json_object_get(v, keys[i]), depth);
        } else {
            rc = member(d, json_object_iter_key(it), json_object_iter_key_len(it),
                        json_object_iter_value(it), depth);
            it = json_object_iter_next((json_t *)v, it);
        }
        if (rc == 0)
            rc = i + 1 < n ? (put(d, ",", 1) || indent(d, depth + 1, true))
                           : indent(d, depth, false);
    }
    free(keys);
    return rc ? -1 : put(d, "}", 1);
}

static int value(struct dumper *d, const json_t *v, int depth)
{
    if (!v || depth > JSON_OUT_MAX_DEPTH)
        return -1;
    if (json_is_real(v)) {
        char buf[JSON_OUT_REAL_MAX];
        int len = real_text(json_real_value(v), buf);
        return len < 0 ? -1 : put(d, buf, (size_t)len);
    }
    if (json_is_object(v))
        return object(d, v, depth);
    if (!json_is_array(v))
        return scalar(d, v);
    size_t n = json_array_size(v);
    if (put(d, "[", 1))
        return -1;
    if (n == 0)
        return put(d, "]", 1);
    if (indent(d, depth + 1, false))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (value(d, json_array_get(v, i), depth + 1))
            return -1;
        if (i + 1 < n ? (put(d, ",", 1) || indent(d, depth + 1, true)) : indent(d, depth, false))
            return -1;
    }
    return put(d, "]", 1);
}

int json_out_dump_callback(const json_t *v, json_dump_callback_t cb, void *data, size_t flags)
{
    if (!v || (!(flags & JSON_ENCODE_ANY) && !json_is_array(v) && !json_is_object(v)))
        return -1;
    struct dumper d = {cb, data, flags};
    return value(&d, v, 0);
}

static int to_strbuf(const char *buf, size_t size, void *data)
{
    struct strbuf *sb = data;
    strbuf_add(sb, buf, size);
    return sb->failed ? -1 : 0;
}

char *json_out_dumps(const json_t *v, size_t flags)
{
    struct strbuf sb = STRBUF_INIT;
    if (json_out_dump_callback(v, to_strbuf, &sb, flags) != 0 || sb.failed) {
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

json_t *json_out_site(const struct store_site *s)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "code", s->code, "name", s->name, "records",
                     (json_int_t)s->nrecords, "enrolled", (json_int_t)s->nenrolled, "created_at",
                     s->created_at, "created_by", s->created_by);
}

json_t *json_out_user_sites(const char *user, bool all, const struct store_site *v, size_t n)
{
    json_t *codes = all ? json_null() : json_array();
    for (size_t i = 0; !all && codes && i < n; i++)
        json_array_append_new(codes, json_string(v[i].code));
    return json_pack("{s:s, s:b, s:o}", "user", user, "all_sites", all, "sites", codes);
}

json_t *json_out_api_tokens(const struct store_api_token *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char exp[FMT_UTC_LEN];
        fmt_utc_ms(t[i].expires_ms, exp);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "id", t[i].id, "user", t[i].user,
                                           "created_at", t[i].created_at, "expires_at", exp));
    }
    return a;
}
