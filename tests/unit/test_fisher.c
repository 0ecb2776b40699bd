/* fisher.test on 2x2 tables against R (tests/fixtures/stats/fisher.csv): p-values for every
 * alternative, the conditional MLE and the exact CI (uniroot-based: reproduced only through the
 * literal zeroin port), tables with zeros and degenerate margins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/fisher.h"
#include "stats_fixture.h"

static void test_fisher_2x2_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "fisher.csv");
    assert_true(t.nrows >= 60);
    for (size_t i = 0; i < t.nrows; i++) {
        struct arena ar = ARENA_INIT;
        struct fisher_result r;
        struct err e;
        err_clear(&e);
        int rc = fisher_test_2x2((long)fx_num(&t, i, "a"), (long)fx_num(&t, i, "b"),
                                 (long)fx_num(&t, i, "c"), (long)fx_num(&t, i, "d"), fx_alt(&t, i),
                                 fx_num(&t, i, "conf_level"), &ar, &r, &e);
        if (rc)
            fail_msg("row %zu: %s", i + 1, e.msg);
        FX_CHECK(&t, i, "p_value", r.p_value);
        FX_CHECK(&t, i, "estimate", r.estimate);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        arena_free(&ar);
    }
    csv_table_free(&t);
}

static void test_fisher_rejects_negative_counts(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct fisher_result r;
    struct err e;
    assert_int_equal(fisher_test_2x2(1, -2, 3, 4, STATS_ALT_TWO_SIDED, 0.95, &ar, &r, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "table");
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fisher_2x2_matches_r),
        cmocka_unit_test(test_fisher_rejects_negative_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
