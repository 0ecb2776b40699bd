/* chisq.test on r x c tables against R (tests/fixtures/stats/chisq.csv): with and without
 * Yates' correction (which only 2x2 tables get), zeros, expected counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/chisq.h"
#include "stats_fixture.h"

/* Splits "a;b;c" into at most max numbers. */
static size_t split_nums(const char *s, double *out, size_t max)
{
    size_t k = 0;
    while (*s && k < max) {
        char *end;
        out[k++] = strtod(s, &end);
        s = *end == ';' ? end + 1 : end;
    }
    return k;
}

static void test_chisq_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "chisq.csv");
    assert_true(t.nrows >= 12);
    for (size_t i = 0; i < t.nrows; i++) {
        struct arena ar = ARENA_INIT;
        size_t nr = (size_t)fx_num(&t, i, "nrow"), nc = (size_t)fx_num(&t, i, "ncol");
        double cells[64], want_e[64];
        assert_int_equal(split_nums(fx_str(&t, i, "cells"), cells, 64), nr * nc);
        assert_int_equal(split_nums(fx_str(&t, i, "expected"), want_e, 64), nr * nc);
        struct chisq_result r;
        struct err e;
        assert_int_equal(chisq_test(cells, nr, nc, fx_bool(&t, i, "correct"), &ar, &r, &e), 0);
        FX_CHECK(&t, i, "statistic", r.statistic);
        FX_CHECK(&t, i, "df", r.df);
        FX_CHECK(&t, i, "p_value", r.p_value);
        for (size_t k = 0; k < nr * nc; k++)
            if (!fx_close(r.expected[k], want_e[k]))
                fail_msg("row %zu expected[%zu]: got %.17g, R gives %.17g", i + 1, k, r.expected[k],
                         want_e[k]);
        arena_free(&ar);
    }
    csv_table_free(&t);
}

static void test_chisq_rejects_bad_tables(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct chisq_result r;
    struct err e;
    double one_row[3] = {1, 2, 3}, neg[4] = {1, -1, 2, 3}, zero[4] = {0, 0, 0, 0};
    assert_int_equal(chisq_test(one_row, 1, 3, true, &ar, &r, &e), ERR_INVALID);
    assert_int_equal(chisq_test(neg, 2, 2, true, &ar, &r, &e), ERR_INVALID);
    assert_int_equal(chisq_test(zero, 2, 2, true, &ar, &r, &e), ERR_INVALID);
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chisq_matches_r),
        cmocka_unit_test(test_chisq_rejects_bad_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
