/* Checked formatting into fixed-size buffers (base/fmt.h). */
#include "base/fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ellipsis[] = "...";

bool fmt_vtext(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (size == 0)
        return false;
    int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0) { /* an encoding error: nothing sensible was written */
        buf[0] = '\0';
        return false;
    }
    if ((size_t)n < size)
        return true;
    /* cut: keep what fits before "...", backing off to the start of a UTF-8 character */
    if (size <= sizeof ellipsis) {
        buf[0] = '\0';
        return false;
    }
    size_t keep = size - sizeof ellipsis;
    while (keep > 0 && ((unsigned char)buf[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(buf + keep, ellipsis, sizeof ellipsis);
    return false;
}

bool fmt_text(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = fmt_vtext(buf, size, fmt, ap);
    va_end(ap);
    return ok;
}

void fmt_exact(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        /* its result is not read: the process aborts next either way */
        (void)fprintf(stderr, "ioheme: BUG: '%s' needs %d bytes in a buffer of %zu\n", fmt, n + 1,
                      size);
        abort();
    }
}

bool fmt_fits(char *buf, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

void fmt_utc_ms(long long ms, char buf[FMT_UTC_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, FMT_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        fmt_exact(buf, FMT_UTC_LEN, "?");
}

bool fmt_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s)
        return false;
    const char *digits = s + (*s == '-' && lo < 0);
    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
