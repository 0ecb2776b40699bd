/* The page writers of http/html.c that need no server: html_time, the one place a stored
 * timestamp becomes what a person reads, and the list table whose cells carry their column's
 * heading (what a phone shows in front of each value). Whole pages are tested in a browser
 * (tests/browser/layout.mjs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/sitetime.h"
#include "http/html.h"

static void test_time_to_the_minute_or_second(void **state)
{
    (void)state;
    struct req r;
    memset(&r, 0, sizeof r);
    assert_int_equal(sitetime_use("UTC", NULL), 0); /* whatever the machine's zone */
    assert_string_equal(html_time(&r, "2026-11-27T02:45:12.345Z", false), "2026-11-27 02:45");
    assert_string_equal(html_time(&r, "2026-11-27T02:45:12.345Z", true), "2026-11-27 02:45:12");
    assert_string_equal(html_time(&r, "2026-11-27T23:59:59.000Z", false), "2026-11-27 23:59");
    /* anything else is shown as it is: a data value, a blank, a half timestamp */
    assert_string_equal(html_time(&r, "2026-11-20 10:00", false), "2026-11-20 10:00");
    assert_string_equal(html_time(&r, "2026-11-27T02:45", false), "2026-11-27T02:45");
    assert_string_equal(html_time(&r, "2026-11-27T02:45:12", false), "2026-11-27T02:45:12");
    assert_string_equal(html_time(&r, "", false), "");
    assert_string_equal(html_time(&r, NULL, false), "");
    assert_string_equal(html_time_zone(&r), "UTC");
    /* in the site's zone: Shanghai is UTC+8 all year, London UTC+1 in summer */
    assert_int_equal(sitetime_use("Asia/Shanghai", NULL), 0);
    assert_string_equal(html_time(&r, "2026-11-27T20:45:12.345Z", false), "2026-11-28 04:45");
    assert_string_equal(html_time_zone(&r), "Asia/Shanghai");
    assert_int_equal(sitetime_use("Europe/London", NULL), 0);
    assert_string_equal(html_time(&r, "2026-07-01T12:00:00.000Z", false), "2026-07-01 13:00");
    assert_int_equal(sitetime_use("UTC", NULL), 0);
    arena_free(&r.ar);
}

static void test_table_cells_carry_their_heading(void **state)
{
    (void)state;
    struct req r;
    memset(&r, 0, sizeof r);
    static const char *const cols[] = {"Who", "Old & new"};
    struct html_table t;
    html_table_begin(&r, &t, "t1", cols, 2);
    html_table_row(&r, &t, "pass");
    html_cell(&r, &t, "<b>nurse</b>");
    html_cell_open(&r, &t, "old");
    html_raw(&r, "x</td>");
    html_table_row_end(&r, &t);
    html_table_end(&r, &t, "None.");
    const char *html = strbuf_str(&r.out);
    assert_non_null(strstr(html, "<table class=\"list\" id=\"t1\"><thead><tr>"
                                 "<th scope=\"col\">Who</th><th scope=\"col\">Old &amp; new</th>"
                                 "</tr></thead><tbody>"));
    assert_non_null(strstr(html,
                           "<tr class=\"pass\"><td data-label=\"Who\">&lt;b&gt;nurse&lt;/b&gt;"
                           "</td><td data-label=\"Old &amp; new\" class=\"old\">x</td></tr>"
                           "</tbody></table>"));
    assert_null(strstr(html, "None.")); /* the table has a row */
    strbuf_release(&r.out);

    html_table_begin(&r, &t, "t2", cols, 2);
    html_table_end(&r, &t, "None.");
    assert_non_null(strstr(strbuf_str(&r.out), "<tr class=\"empty\"><td colspan=\"2\" "
                                               "class=\"muted\">None.</td></tr></tbody>"));
    strbuf_release(&r.out);
    arena_free(&r.ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_to_the_minute_or_second),
        cmocka_unit_test(test_table_cells_carry_their_heading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
