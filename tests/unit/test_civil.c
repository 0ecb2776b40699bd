/* base/civil.h: day counts of dates and dates of day counts, against glibc's timegm/gmtime_r
 * (an implementation nobody here wrote) on every day from 1600-01-01 to 2400-12-31, and dates
 * worked out by hand: 1970-01-01 is day 0; 2000-03-01 is 30 years (7 leap days: 72, 76, 80, 84,
 * 88, 92, 96) and 31 + 29 days of 2000 on: 30 * 365 + 7 + 60 = 11,017. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "base/civil.h"

static void test_hand_worked(void **state)
{
    (void)state;
    assert_int_equal(civil_days(1970, 1, 1), 0);
    assert_int_equal(civil_days(1969, 12, 31), -1);
    assert_int_equal(civil_days(2000, 3, 1), 30 * 365 + 7 + 31 + 29);
    assert_int_equal(civil_days(2000, 2, 29) + 1, civil_days(2000, 3, 1));
    assert_int_equal(civil_days(1900, 2, 28) + 1, civil_days(1900, 3, 1)); /* 1900: no 29th */
    assert_int_equal(civil_days_in_month(2000, 2), 29);
    assert_int_equal(civil_days_in_month(1900, 2), 28);
    assert_int_equal(civil_days_in_month(2024, 2), 29);
    assert_int_equal(civil_days_in_month(2026, 2), 28);
    assert_int_equal(civil_days_in_month(2026, 12), 31);
    assert_int_equal(civil_days_in_month(2026, 11), 30);
    long long y;
    int m, d;
    civil_date(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    /* before year 0 of the proleptic calendar: 1 BC is year 0, a leap year */
    civil_date(civil_days(0, 2, 29), &y, &m, &d);
    assert_true(y == 0 && m == 2 && d == 29);
    civil_date(civil_days(-401, 7, 4), &y, &m, &d);
    assert_true(y == -401 && m == 7 && d == 4);
}

static void test_against_gmtime(void **state)
{
    (void)state;
    struct tm tm = {.tm_year = 1600 - 1900, .tm_mon = 0, .tm_mday = 1};
    long long z = timegm(&tm) / 86400;
    assert_int_equal(z, civil_days(1600, 1, 1));
    size_t days = 0, months = 0;
    for (; z <= civil_days(2400, 12, 31); z++, days++) {
        time_t t = (time_t)(z * 86400);
        struct tm g;
        assert_non_null(gmtime_r(&t, &g));
        long long y;
        int m, d;
        civil_date(z, &y, &m, &d);
        assert_true(y == g.tm_year + 1900LL && m == g.tm_mon + 1 && d == g.tm_mday);
        assert_int_equal(civil_days(y, m, d), z);
        if (d == 1) { /* the month's length: the day before the next month's first */
            struct tm next = {.tm_year = g.tm_year, .tm_mon = g.tm_mon + 1, .tm_mday = 0};
            assert_int_equal(civil_days_in_month(y, m), timegm(&next) / 86400 - z + 1);
            months++;
        }
    }
    assert_int_equal(days, 146097 * 2 + 366); /* two 400-year cycles and 2400, a leap year */
    assert_int_equal(months, 801 * 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_worked),
        cmocka_unit_test(test_against_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
