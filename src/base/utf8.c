/* UTF-8 validation (RFC 3629), for text that came from outside before it reaches a JSON
 * encoder, a figure or a page. */
#include "base/utf8.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid sequence at p, 0 when none starts there (p not at the NUL); its code
 * point in *out. */
static size_t seq_cp(const unsigned char *p, unsigned *out)
{
    unsigned c = *p;
    size_t len;
    unsigned cp;
    *out = c;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *out = cp;
    return len;
}

static size_t seq_len(const unsigned char *p)
{
    unsigned cp;
    return seq_cp(p, &cp);
}

/* Whether XML 1.0 can carry code point cp (its Char production). */
static bool xml_char(unsigned cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF);
}

long utf8_not_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        size_t n = seq_cp(p, &cp);
        if (!n)
            return -2;
        if (!xml_char(cp))
            return (long)cp;
        p += n;
    }
    return -1;
}

bool utf8_is_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = seq_len(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* utf8_text, and with is_xml each character XML cannot carry as U+FFFD too. */
static const char *text_as(const char *s, char **tmp, bool is_xml)
{
    *tmp = NULL;
    if (!s || (is_xml ? utf8_not_text(s) == -1 : utf8_is_valid(s)))
        return s;
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1); /* each byte at most U+FFFD's three */
    if (!out)
        return NULL;
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        size_t k = seq_cp(p, &cp);
        if (k && is_xml && !xml_char(cp)) {
            memcpy(out + j, "\xEF\xBF\xBD", 3);
            j += 3;
            p += k;
        } else if (k) {
            memcpy(out + j, p, k);
            j += k;
            p += k;
        } else {
            memcpy(out + j, "\xEF\xBF\xBD", 3);
            j += 3;
            p++;
        }
    }
    out[j] = '\0';
    return *tmp = out;
}

const char *utf8_text(const char *s, char **tmp)
{
    return text_as(s, tmp, false);
}

const char *utf8_xml_text(const char *s, char **tmp)
{
    return text_as(s, tmp, true);
}
