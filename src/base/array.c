/* Growable arrays (see array.h). */
#include "base/array.h"

#include <stdint.h>
#include <stdlib.h>

size_t array_next_cap(size_t cap, size_t elem, size_t first)
{
    size_t ncap = cap ? cap * 2 : first;
    return ncap < cap || ncap > SIZE_MAX / (elem ? elem : 1) ? 0 : ncap;
}

void *array_grow(void *old, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return old;
    size_t ncap = array_next_cap(*cap, elem, first);
    void *p = ncap ? realloc(old, ncap * elem) : NULL;
    if (!p)
        return NULL;
    *cap = ncap;
    return p;
}
