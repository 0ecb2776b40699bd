/* Growable string buffer; see strbuf.h. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool strbuf_grow(struct strbuf *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (sb->len + extra + 1 <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    char *p = realloc(sb->buf, cap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->buf = p;
    sb->cap = cap;
    return true;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    if (!strbuf_grow(sb, len))
        return;
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_addc(struct strbuf *sb, char c)
{
    strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !strbuf_grow(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void strbuf_add_html(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            strbuf_adds(sb, "&amp;");
            break;
        case '<':
            strbuf_adds(sb, "&lt;");
            break;
        case '>':
            strbuf_adds(sb, "&gt;");
            break;
        case '"':
            strbuf_adds(sb, "&quot;");
            break;
        case '\'':
            strbuf_adds(sb, "&#39;");
            break;
        default:
            strbuf_addc(sb, *s);
        }
    }
}

/* A plain decimal number ("-12", "-0.5", "1e-3"): a spreadsheet reads it as a number, never a
 * formula, so a leading minus stays (negative changes in the analysis data are numbers). */
static bool is_plain_number(const char *s)
{
    const char *p = s + (*s == '-');
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        digits += frac;
        p += 1 + frac;
    }
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '-' || p[1] == '+');
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return false;
        p += exp;
    }
    return *p == '\0';
}

static void add_csv(struct strbuf *sb, const char *s, bool guard, char delim)
{
    /* Formula injection (OWASP "CSV Injection"): a cell starting with = + - @ tab or CR is run
     * as a formula by spreadsheet programs. Such a cell, unless a plain number, is written
     * with a leading apostrophe inside quotes, so it reads as the text it is. */
    bool is_formula = guard && *s && strchr("=+-@\t\r", *s) && !is_plain_number(s);
    if (!is_formula && !strpbrk(s, "\"\r\n") && !strchr(s, delim)) {
        strbuf_adds(sb, s);
        return;
    }
    strbuf_addc(sb, '"');
    if (is_formula)
        strbuf_addc(sb, '\'');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_addc(sb, '"');
        strbuf_addc(sb, *s);
    }
    strbuf_addc(sb, '"');
}

void strbuf_add_csv(struct strbuf *sb, const char *s)
{
    add_csv(sb, s, true, ',');
}

void strbuf_add_csv_raw(struct strbuf *sb, const char *s)
{
    add_csv(sb, s, false, ',');
}

void strbuf_add_csv_delim(struct strbuf *sb, const char *s, char delim)
{
    add_csv(sb, s, false, delim);
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

const char *strbuf_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

char *strbuf_detach(struct strbuf *sb)
{
    char *p = sb->buf;
    if (!p && !sb->failed)
        p = calloc(1, 1);
    *sb = (struct strbuf)STRBUF_INIT;
    return p;
}

void strbuf_release(struct strbuf *sb)
{
    free(sb->buf);
    *sb = (struct strbuf)STRBUF_INIT;
}
