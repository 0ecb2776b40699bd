/* The error-code table and the helpers that fill struct err. */
#include "base/err.h"

#include <stdio.h>
#include <string.h>

#include "base/fmt.h"

static const struct err_info err_table[ERR__COUNT] = {
    {ERR_OK, "ok", 200, 0},
    {ERR_USAGE, "usage", 400, 2},
    {ERR_INVALID, "invalid", 422, 3},
    {ERR_NOT_FOUND, "not_found", 404, 4},
    {ERR_AUTH, "unauthenticated", 401, 5},
    {ERR_FORBIDDEN, "forbidden", 403, 6},
    {ERR_CONFLICT, "conflict", 409, 7},
    {ERR_IO, "io_error", 500, 8},
    {ERR_NOMEM, "out_of_memory", 500, 9},
    {ERR_INTEGRITY, "integrity", 500, 10},
    {ERR_INTERNAL, "internal", 500, 11},
    {ERR_REASON_REQUIRED, "reason_required", 422, 12},
    {ERR_UNSUPPORTED, "unsupported", 400, 13},
    {ERR_BUSY, "busy", 503, 14},
    {ERR_PASSWORD_EXPIRED, "password_expired", 403, 15},
    {ERR_OUTCOME_UNKNOWN, "outcome_unknown", 503, 16},
};

const struct err_info *err_info(int code)
{
    int i = -code;
    if (i < 0 || i >= ERR__COUNT)
        i = -ERR_INTERNAL;
    return &err_table[i];
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

static int err_vset(struct err *e, int code, const char *field, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    e->code = code;
    fmt_text(e->field, sizeof e->field, "%s", field ? field : "");
    fmt_vtext(e->msg, sizeof e->msg, fmt, ap);
    return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, field, fmt, ap);
    va_end(ap);
    return code;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char pre[512];
    va_list ap;
    va_start(ap, fmt);
    fmt_vtext(pre, sizeof pre, fmt, ap);
    va_end(ap);
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(pre);
    if (n > sizeof e->msg - 3)
        n = sizeof e->msg - 3;
    memcpy(e->msg, pre, n);
    memcpy(e->msg + n, ": ", 2);
    size_t rest = sizeof e->msg - n - 3;
    size_t olen = strnlen(old, rest);
    memcpy(e->msg + n + 2, old, olen);
    e->msg[n + 2 + olen] = '\0';
}
