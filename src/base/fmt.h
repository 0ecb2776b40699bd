/* Formatting into a fixed-size buffer with the result checked: the three things a caller of
 * snprintf can mean, each with its own name, so no snprintf result goes unread (STYLE.md; the
 * ctest style_tidy runs clang-tidy's cert-err33-c over src/).
 *
 * fmt_text   text a person reads (an error message, a label, a log line): a result that does
 *            not fit is cut at a UTF-8 character boundary and ends in "...", so a cut shows.
 *            Returns false when it cut.
 * fmt_exact  a buffer sized for every value it can be given (numbers, SQL built from integers,
 *            identifiers of bounded length): a result that does not fit is a bug in ioheme, not
 *            bad input; it is reported on stderr and the process aborts, as git's xsnprintf.
 * fmt_fits   a buffer that outside data could overflow (a path, a name from a file): returns
 *            false, leaving "", when the result does not fit; the caller turns that into an
 *            error that names the value. Its result must be used.
 *
 * Anything longer or of unknown length belongs in a strbuf (base/strbuf.h). */
#ifndef IOHEME_BASE_FMT_H
#define IOHEME_BASE_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

bool fmt_text(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool fmt_vtext(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void fmt_exact(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool fmt_fits(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));

/* An instant (UTC ms since the epoch) as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" (milliseconds cut),
 * or "?" for one gmtime cannot break down. */
#define FMT_UTC_LEN 32
void fmt_utc_ms(long long ms, char buf[FMT_UTC_LEN]);

/* And the one way ioheme reads a whole number a person typed (an option's value, a page
 * number, an ID in a URL): true when s is decimal digits, after a '-' only when lo < 0, and
 * nothing else (no sign '+', space, "0x" or trailing text, which strtoll would take), with a
 * value from lo to hi; then *out holds it. NULL and "" are not numbers. */
bool fmt_parse_int(const char *s, long long lo, long long hi, long long *out);

#endif
