/* UTF-8 validation. */
#ifndef IOHEME_BASE_UTF8_H
#define IOHEME_BASE_UTF8_H

#include <stdbool.h>

/* True when the NUL-terminated s is valid UTF-8 by RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
bool utf8_is_valid(const char *s);

#endif
