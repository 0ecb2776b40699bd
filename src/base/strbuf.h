/* A growable NUL-terminated byte buffer, as git's strbuf.
 *
 * A zeroed struct strbuf (STRBUF_INIT) is an empty buffer. The buffer owns buf; strbuf_release
 * frees it, strbuf_detach hands it to the caller. On allocation failure the buffer records it
 * in `failed` and further appends are ignored, so a sequence of appends needs one check. */
#ifndef IOHEME_BASE_STRBUF_H
#define IOHEME_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *buf; /* NUL-terminated, or NULL when nothing was ever appended */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; contents are truncated */
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        0                                                                                          \
    }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with HTML's five special characters escaped. */
void strbuf_add_html(struct strbuf *sb, const char *s);
/* Appends s as a CSV cell (RFC 4180: quoted when it holds , " CR or LF). The one CSV cell
 * writer of every export: a cell that a spreadsheet would run as a formula (starting with =,
 * +, -, @, tab or CR, and not a plain number such as -1.5) is written as "'..." (OWASP). */
void strbuf_add_csv(struct strbuf *sb, const char *s);
/* As strbuf_add_csv without the formula guard: RFC 4180 quoting only, the cell exactly as
 * stored — for CSV that programs read, never a spreadsheet (the REDCap API, whose clients
 * would otherwise receive "'@TODAY" for @TODAY). */
void strbuf_add_csv_raw(struct strbuf *sb, const char *s);
/* As strbuf_add_csv_raw with another delimiter than ',' (quoted when s holds delim): REDCap's
 * csvDelimiter (tab, ';', '|', '^'). */
void strbuf_add_csv_delim(struct strbuf *sb, const char *s, char delim);
void strbuf_reset(struct strbuf *sb);
/* Contents as a string: "" when empty (never NULL). Owned by sb. */
const char *strbuf_str(const struct strbuf *sb);
/* Returns the buffer (caller frees) and resets sb. Never NULL unless allocation failed. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

#endif
