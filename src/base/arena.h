/* A region allocator for per-command and per-request work: many allocations, one free.
 *
 * Memory returned by arena_* belongs to the arena and lives until arena_free. Returns NULL on
 * out-of-memory (never aborts). */
#ifndef IOHEME_BASE_ARENA_H
#define IOHEME_BASE_ARENA_H

#include <stddef.h>

struct arena_block;
struct arena {
    struct arena_block *head;
};

#define ARENA_INIT                                                                                 \
    {                                                                                              \
        0                                                                                          \
    }

/* n bytes aligned for any type, zero-filled. */
void *arena_alloc(struct arena *a, size_t n);
/* n elements of size sz, zero-filled, with overflow check. */
void *arena_calloc(struct arena *a, size_t n, size_t sz);
/* As arena_calloc but not zero-filled: for large arrays the caller writes in full before it
 * reads them (zeroing 8 MB costs as much as a pass of real work over it). */
void *arena_calloc_uninit(struct arena *a, size_t n, size_t sz);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);
/* Releases everything allocated so far, as arena_free, but keeps one ordinary block for what
 * comes next: for work done in rounds (one record at a time) that should neither grow nor go
 * back to malloc for every round. */
void arena_reset(struct arena *a);

/* Room for one more element in an array of n elements of elem bytes allocated in a, whose
 * capacity is *cap: returns old while n < *cap; else a copy with twice the capacity (first when
 * *cap is 0), *cap updated; NULL when out of memory (old and *cap unchanged). The one growth
 * rule of the arena's arrays:
 *     struct x *g = arena_grow(ar, v, n, &cap, sizeof *g, 16);
 *     if (!g) return ERR_NOMEM;
 *     v = g; v[n++] = … */
void *arena_grow(struct arena *a, void *old, size_t n, size_t *cap, size_t elem, size_t first);

#endif
