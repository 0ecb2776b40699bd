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

/* -1 when s is valid UTF-8 text that XML 1.0 can carry (and so every export): no control
 * character but tab, line feed and carriage return, no U+FFFE or U+FFFF; -2 when it is not
 * valid UTF-8; else the first code point refused (U+000B, Word's line break, say). */
long utf8_not_text(const char *s);

/* As utf8_text, for XML: also each character utf8_not_text refuses as U+FFFD. For text stored
 * before values were held to it (a control character XML 1.0 has no way to write). */
const char *utf8_xml_text(const char *s, char **tmp);

#endif
