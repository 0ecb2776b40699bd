/* wilcox.test against R (tests/fixtures/stats/wilcoxon.csv): signed-rank (paired) and rank-sum,
 * one sample, exact and normal paths, n < 50 and >= 50, zeros and ties, forced exact/approximate,
 * all alternatives, the degenerate all-equal and single-difference cases, achieved conf.level, R's
 * method string and warnings. Also rank() itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stats/ranks.h"
#include "stats/wilcoxon.h"
#include "stats_fixture.h"

static void joined_warnings(const struct wilcox_result *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->warnings.n; i++) {
        if (i)
            strncat(buf, ";", cap - strlen(buf) - 1);
        strncat(buf, r->warnings.msg[i], cap - strlen(buf) - 1);
    }
}

static void test_wilcoxon_matches_r(void **state)
{
    (void)state;
    struct csv_table t;
    fx_load(&t, "wilcoxon.csv");
    assert_true(t.nrows >= 50);
    for (size_t i = 0; i < t.nrows; i++) {
        struct arena ar = ARENA_INIT;
        struct wilcox_opts o = wilcox_default_opts();
        o.mu = fx_num(&t, i, "mu");
        o.alt = fx_alt(&t, i);
        const char *ex = fx_str(&t, i, "exact");
        o.exact = strcmp(ex, "NA") == 0 ? -1 : strcmp(ex, "TRUE") == 0;
        o.correct = fx_bool(&t, i, "correct");
        o.conf_level = fx_num(&t, i, "conf_level");
        struct wilcox_result r;
        struct err e;
        err_clear(&e);
        int rc;
        if (strcmp(fx_str(&t, i, "kind"), "one") == 0) {
            double *x;
            size_t n;
            fx_data(fx_str(&t, i, "file"), "x", NULL, &ar, &x, NULL, &n);
            rc = wilcox_signed_rank(x, n, &o, &ar, &r, &e);
        } else if (strcmp(fx_str(&t, i, "kind"), "paired") == 0) {
            double *x, *y;
            size_t n;
            fx_data(fx_str(&t, i, "file"), "x", "y", &ar, &x, &y, &n);
            rc = wilcox_paired(x, y, n, &o, &ar, &r, &e);
        } else {
            double *x, *y;
            size_t nx, ny;
            fx_groups(fx_str(&t, i, "file"), &ar, &x, &nx, &y, &ny);
            rc = wilcox_rank_sum(x, nx, y, ny, &o, &ar, &r, &e);
        }
        if (rc)
            fail_msg("row %zu: %s", i + 1, e.msg);
        FX_CHECK(&t, i, "statistic", r.statistic);
        FX_CHECK(&t, i, "p_value", r.p_value);
        FX_CHECK(&t, i, "estimate", r.estimate);
        FX_CHECK(&t, i, "lo", r.conf_int[0]);
        FX_CHECK(&t, i, "hi", r.conf_int[1]);
        FX_CHECK(&t, i, "conf_level_out", r.conf_level);
        if (strcmp(r.method, fx_str(&t, i, "method")) != 0)
            fail_msg("row %zu method: got '%s', R says '%s'", i + 1, r.method,
                     fx_str(&t, i, "method"));
        char w[1024];
        joined_warnings(&r, w, sizeof w);
        const char *want = fx_str(&t, i, "warnings");
        if (strcmp(w, strcmp(want, "NA") == 0 ? "" : want) != 0)
            fail_msg("row %zu warnings: got '%s', R says '%s'", i + 1, w, want);
        arena_free(&ar);
    }
    csv_table_free(&t);
}

/* rank(c(10, 20, 10, 30, 20, 10)) = (2, 4.5, 2, 6, 4.5, 2); ties of sizes 3 and 2:
 * (27 - 3) + (8 - 2) = 30. */
static void test_rank_average_and_tie_term(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    double x[6] = {10, 20, 10, 30, 20, 10}, r[6];
    struct rank_ties t;
    struct err e;
    assert_int_equal(stats_rank_average(x, 6, &ar, r, &t, &e), 0);
    double want[6] = {2, 4.5, 2, 6, 4.5, 2};
    for (int i = 0; i < 6; i++)
        assert_true(r[i] == want[i]);
    assert_true(t.has_ties);
    assert_true(t.tie_term == 30);
    arena_free(&ar);
}

static void test_wilcoxon_rejects_empty_and_nonfinite(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct wilcox_opts o = wilcox_default_opts();
    struct wilcox_result r;
    struct err e;
    double x[2] = {1, INFINITY};
    assert_int_equal(wilcox_signed_rank(x, 0, &o, &ar, &r, &e), ERR_INVALID);
    assert_int_equal(wilcox_signed_rank(x, 2, &o, &ar, &r, &e), ERR_INVALID);
    assert_int_equal(wilcox_rank_sum(x, 1, x, 0, &o, &ar, &r, &e), ERR_INVALID);
    o.conf_level = 1;
    assert_int_equal(wilcox_signed_rank(x, 1, &o, &ar, &r, &e), ERR_INVALID);
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilcoxon_matches_r),
        cmocka_unit_test(test_rank_average_and_tie_term),
        cmocka_unit_test(test_wilcoxon_rejects_empty_and_nonfinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
