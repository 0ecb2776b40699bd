/* The visit schedule (schedule.h): the anchor of one record from its candidate values, and each
 * event's due time and window from the protocol's schedule. Calendar arithmetic is H. Hinnant's
 * days_from_civil / civil_from_days ("chrono-Compatible Low-Level Date Algorithms"): exact on
 * the proleptic Gregorian calendar, no time zone, no library call that reads the host's. */
#include "core/schedule.h"

#include <stdio.h>
#include <string.h>

#include "base/fmt.h"

#define SEC_PER_DAY 86400LL

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
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

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* n decimal digits at s, into *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int schedule_parse_wallclock(const char *s, long long *out_s)
{
    int y, mo, d, h, mi, sec = 0;
    size_t n = strlen(s);
    if ((n != 16 && n != 19) || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != ' ' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi))
        return -1;
    if (n == 19 && (s[16] != ':' || !digits(s + 17, 2, &sec)))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return -1;
    *out_s = days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600LL + mi * 60LL + sec;
    return 0;
}

void schedule_format_wallclock(long long t_s, char buf[SCHEDULE_WALLCLOCK_LEN])
{
    long long days = t_s >= 0 ? t_s / SEC_PER_DAY : -((-t_s + SEC_PER_DAY - 1) / SEC_PER_DAY);
    int secs = (int)(t_s - days * SEC_PER_DAY), m, d;
    long long y;
    civil_from_days(days, &y, &m, &d);
    fmt_exact(buf, SCHEDULE_WALLCLOCK_LEN, "%04lld-%02d-%02d %02d:%02d", y, m, d, secs / 3600,
              secs / 60 % 60);
}

/* Does (t, ev, instance) replace what p holds under rule? */
static bool better(const struct schedule_pick *p, enum dict_anchor_rule rule, long long t, int ev,
                   int instance)
{
    if (!p->is_set)
        return true;
    if (rule == DICT_ANCHOR_EARLIEST)
        return t < p->t_s;
    return instance < p->instance || (instance == p->instance && ev < p->event);
}

void schedule_anchors_offer(const struct dict *d, struct schedule_anchors *a, const char *field,
                            int ev, int instance, const char *value)
{
    const struct dict_anchor *rules[2] = {&d->study.anchor, &d->study.fallback};
    struct schedule_pick *picks[2] = {&a->anchor, &a->fallback};
    long long t;
    for (int i = 0; i < 2; i++) {
        const struct dict_field *f = rules[i]->field;
        if (!f || strcmp(f->name, field) != 0 || !value || schedule_parse_wallclock(value, &t))
            continue;
        if (better(picks[i], rules[i]->rule, t, ev, instance))
            *picks[i] = (struct schedule_pick){true, t, ev, instance};
    }
}

int schedule_due(const struct dict *d, const struct schedule_anchors *a, long long enrolled_s,
                 struct schedule_due *out, enum schedule_source *source)
{
    long long t0;
    enum schedule_source src;
    if (a && a->anchor.is_set) {
        t0 = a->anchor.t_s;
        src = SCHEDULE_FROM_ANCHOR;
    } else if (a && a->fallback.is_set) {
        t0 = a->fallback.t_s;
        src = SCHEDULE_FROM_FALLBACK;
    } else if (enrolled_s >= 0) {
        t0 = enrolled_s;
        src = SCHEDULE_FROM_ENROLMENT;
    } else {
        return -1;
    }
    for (size_t i = 0; i < d->nevents; i++) {
        const struct dict_event *ev = &d->events[i];
        long long due = t0 + ev->due_min * 60;
        out[i] = (struct schedule_due){due, due - ev->window_before_min * 60,
                                       due + ev->window_after_min * 60};
    }
    if (source)
        *source = src;
    return 0;
}
