/* Calendar arithmetic on the proleptic Gregorian calendar, no time zone and no library call that
 * reads the host's: Howard Hinnant's days_from_civil / civil_from_days ("chrono-Compatible
 * Low-Level Date Algorithms"), exact for every year a long long holds a day count of. The one
 * place the visit schedule (core/schedule.c), the logic's date functions (core/expr_eval.c) and
 * the accrual figure (report/figure_enrol.c) count days.
 *
 *   long long z = civil_days(2026, 12, 8);      days since 1970-01-01: 20795
 *   civil_date(z, &y, &m, &d);                  back: 2026, 12, 8
 *   civil_days_in_month(2024, 2)                29 */
#ifndef IOHEME_BASE_CIVIL_H
#define IOHEME_BASE_CIVIL_H

#include <stdbool.h>

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31; not checked against the month:
 * 2023-02-30 is 2023-03-02, as the algorithm counts). */
static inline long long civil_days(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of day z since 1970-01-01. */
static inline void civil_date(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static inline bool civil_is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1-12) of year y. */
static inline int civil_days_in_month(long long y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && civil_is_leap(y) ? 29 : dim[m - 1];
}

#endif
