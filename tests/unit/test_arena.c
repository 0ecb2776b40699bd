/* The one growth rule of arrays (array_grow, arena_grow): capacity doubles from a first size,
 * elements survive each growth, and a size that would overflow is refused, not wrapped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "base/arena.h"
#include "base/array.h"

static void test_capacity_doubles_from_first(void **state)
{
    (void)state;
    assert_int_equal(array_next_cap(0, 8, 16), 16);
    assert_int_equal(array_next_cap(16, 8, 16), 32);
    assert_int_equal(array_next_cap(SIZE_MAX / 2 + 1, 1, 16), 0); /* doubling wraps */
    assert_int_equal(array_next_cap(SIZE_MAX / 16, 16, 1), 0);    /* bytes would overflow */
}

static void test_malloc_array_keeps_its_elements(void **state)
{
    (void)state;
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        int *g = array_grow(v, n, &cap, sizeof *g, 4);
        assert_non_null(g);
        v = g;
        v[n++] = i * 3;
    }
    assert_int_equal(cap, 1024); /* 4, 8, …, 1024 */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i * 3);
    assert_ptr_equal(array_grow(v, 999, &cap, sizeof *v, 4), v); /* room left: no move */
    free(v);
}

static void test_arena_array_keeps_its_elements(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    long *v = NULL;
    size_t n = 0, cap = 0;
    for (long i = 0; i < 300; i++) {
        long *g = arena_grow(&ar, v, n, &cap, sizeof *g, 16);
        assert_non_null(g);
        v = g;
        v[n++] = -i;
    }
    assert_int_equal(cap, 512);
    for (long i = 0; i < 300; i++)
        assert_int_equal(v[i], -i);
    size_t huge = SIZE_MAX / 2 + 1;
    assert_null(arena_grow(&ar, v, huge, &huge, sizeof *v, 16));
    arena_free(&ar);
}

/* arena_reset: what comes after is usable and the memory is kept: after a round that took
 * several blocks and a big request, rounds that fit in one block start at the same address
 * (the kept block, from its start) instead of going back to malloc. */
static void test_arena_reset_reuses_a_block(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    for (int i = 0; i < 10000; i++) /* several blocks' worth */
        assert_non_null(arena_alloc(&ar, 40));
    assert_non_null(arena_alloc(&ar, 200000));
    arena_reset(&ar);
    char *first = NULL;
    for (int round = 0; round < 3; round++) {
        char *p = arena_strdup(&ar, "first of the round");
        assert_non_null(p);
        assert_non_null(arena_alloc(&ar, 1000));
        assert_string_equal(p, "first of the round");
        if (round == 0)
            first = p;
        else
            assert_ptr_equal(p, first);
        arena_reset(&ar);
    }
    arena_free(&ar);
    arena_reset(&ar); /* a freed arena stays empty */
    assert_null(ar.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_doubles_from_first),
        cmocka_unit_test(test_malloc_array_keeps_its_elements),
        cmocka_unit_test(test_arena_array_keeps_its_elements),
        cmocka_unit_test(test_arena_reset_reuses_a_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
