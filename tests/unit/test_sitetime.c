/* The site time zone (core/sitetime.h): zone names checked against the zone files, instants to
 * the site's wall-clock and back across daylight-saving changes (the hour repeated and the
 * hour skipped), and the text the pages show. Expected instants come from glibc's timegm (UTC,
 * no zone involved) and the UK's published clock changes of 2026 (last Sunday of March and of
 * October, 01:00 UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/sitetime.h"

/* UTC date and time as seconds since the epoch, by glibc. */
static long long utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (long long)timegm(&tm);
}

static void test_zone_names_are_checked_against_the_zone_files(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(sitetime_name_check("Europe/London", &e), 0);
    assert_int_equal(sitetime_name_check("UTC", &e), 0);
    assert_int_equal(sitetime_name_check("Europe/Londn", &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "Europe/Londn"));
    assert_string_equal(e.field, "timezone");
    assert_int_equal(sitetime_name_check("Europe", &e), ERR_INVALID); /* a directory */
    assert_int_equal(sitetime_name_check("../../etc/passwd", &e), ERR_INVALID);
    assert_int_equal(sitetime_name_check("/etc/localtime", &e), ERR_INVALID);
    assert_int_equal(sitetime_name_check("", &e), ERR_INVALID);
    assert_int_equal(sitetime_name_check("Europe/London; rm", &e), ERR_INVALID);
    assert_int_equal(sitetime_use("Mars/Olympus", &e), ERR_INVALID);
}

static void test_instants_become_london_wall_clock_in_summer_and_winter(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(sitetime_use("Europe/London", &e), 0);
    assert_string_equal(sitetime_zone(), "Europe/London");
    /* July: BST, UTC+1 */
    long long t = utc(2026, 7, 1, 12, 0, 0);
    assert_true(sitetime_wall_from_ms(t * 1000 + 999) == utc(2026, 7, 1, 13, 0, 0));
    assert_true(sitetime_ms_from_wall(utc(2026, 7, 1, 13, 0, 0)) == t * 1000);
    /* December: GMT */
    t = utc(2026, 12, 4, 21, 49, 28);
    assert_true(sitetime_wall_from_ms(t * 1000) == t);
    char buf[SITETIME_TEXT_LEN];
    sitetime_format_ms(utc(2026, 7, 1, 12, 5, 9) * 1000, true, buf);
    assert_string_equal(buf, "2026-07-01 13:05:09");
    sitetime_format_ms(utc(2026, 7, 1, 12, 5, 9) * 1000, false, buf);
    assert_string_equal(buf, "2026-07-01 13:05");
}

static void
test_the_repeated_hour_is_its_first_occurrence_and_the_skipped_hour_reads_as_before(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(sitetime_use("Europe/London", &e), 0);
    /* 25 Oct 2026: 01:30 London happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT) */
    assert_true(sitetime_ms_from_wall(utc(2026, 10, 25, 1, 30, 0)) ==
                utc(2026, 10, 25, 0, 30, 0) * 1000);
    assert_true(sitetime_wall_from_ms(utc(2026, 10, 25, 1, 30, 0) * 1000) ==
                utc(2026, 10, 25, 1, 30, 0));
    /* 29 Mar 2026: clocks go from 01:00 to 02:00; 01:30 is read with GMT, i.e. 01:30 UTC */
    assert_true(sitetime_ms_from_wall(utc(2026, 3, 29, 1, 30, 0)) ==
                utc(2026, 3, 29, 1, 30, 0) * 1000);
    assert_true(sitetime_wall_from_ms(utc(2026, 3, 29, 1, 30, 0) * 1000) ==
                utc(2026, 3, 29, 2, 30, 0));
}

static void test_shanghai_is_eight_hours_ahead_all_year(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(sitetime_use("Asia/Shanghai", &e), 0);
    long long t = utc(2026, 12, 4, 21, 49, 28);
    assert_true(sitetime_wall_from_ms(t * 1000) == t + 8 * 3600);
    assert_true(sitetime_ms_from_wall(t + 8 * 3600) == t * 1000);
    assert_true(sitetime_wall_from_ms(-1) == -1 + 8 * 3600); /* ms before 1970 round down */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_names_are_checked_against_the_zone_files),
        cmocka_unit_test(test_instants_become_london_wall_clock_in_summer_and_winter),
        cmocka_unit_test(
            test_the_repeated_hour_is_its_first_occurrence_and_the_skipped_hour_reads_as_before),
        cmocka_unit_test(test_shanghai_is_eight_hours_ahead_all_year),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
