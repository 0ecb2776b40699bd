/* UTF-8 validation. */
#ifndef IOHEME_BASE_UTF8_H
#define IOHEME_BASE_UTF8_H

#include <stdbool.h>

/* True when the NUL-terminated s is valid UTF-8 by RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
bool utf8_is_valid(const char *s);

/* s as UTF-8 for a reader that takes nothing else (JSON, XML): s itself when valid; else a copy
 * in *tmp (malloc'd; the caller frees it; NULL when out of memory) with every byte that starts
 * no valid sequence replaced by U+FFFD, as browsers decode. Only a database written before
 * the store refused such text holds any (a CSV import of a Windows-1252 file). */
const char *utf8_text(const char *s, char **tmp);

#endif
