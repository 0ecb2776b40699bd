/* Growable arrays: the one growth rule (double, from a first capacity) for arrays on malloc and
 * in an arena (arena_grow, arena.h). */
#ifndef IOHEME_BASE_ARRAY_H
#define IOHEME_BASE_ARRAY_H

#include <stddef.h>

/* The capacity after cap when an array of elem-byte elements is full: twice it, or first when
 * empty; 0 when that would overflow. */
size_t array_next_cap(size_t cap, size_t elem, size_t first);

/* Room for one more element in the malloc'ed array old of n elements of elem bytes whose
 * capacity is *cap: returns old while n < *cap; else old realloc'ed to array_next_cap, *cap
 * updated; NULL when out of memory (old and *cap unchanged; the caller still frees old). */
void *array_grow(void *old, size_t n, size_t *cap, size_t elem, size_t first);

#endif
