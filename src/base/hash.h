/* FNV-1a, the hash of the in-memory hash sets: the dictionary's field names (core/dict.c), a
 * record's value runs (core/vtab.c), the record IDs an import wrote (formats/redcap_import.c),
 * and the web assets' ETags (http/static.c). Fast on short names; not a defence against input
 * chosen to collide (that costs a linear probe, never a wrong answer).
 *
 *   uint64_t h = hash_str(HASH_INIT, name);
 *   h = hash_bytes(h, "", 1);                   a separator between two strings
 *   h = hash_str(h, event); */
#ifndef IOHEME_BASE_HASH_H
#define IOHEME_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INIT 14695981039346656037ULL

static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* h continued over the bytes of s (not its terminating NUL). */
static inline uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

#endif
