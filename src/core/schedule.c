/* The visit schedule (schedule.h): the anchor of one record from its candidate values, and each
 * event's due time and window from the protocol's schedule. Calendar arithmetic is H. Hinnant's
 * days_from_civil / civil_from_days (base/civil.h): exact on the proleptic Gregorian calendar,
 * no time zone, no library call that reads the host's. */
#include "core/schedule.h"

#include <stdio.h>
#include <string.h>

#include "base/civil.h"
#include "base/fmt.h"

#define SEC_PER_DAY 86400LL

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
    if (mo < 1 || mo > 12 || d < 1 || d > civil_days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return -1;
    *out_s = civil_days(y, mo, d) * SEC_PER_DAY + h * 3600LL + mi * 60LL + sec;
    return 0;
}

void schedule_format_wallclock(long long t_s, char buf[SCHEDULE_WALLCLOCK_LEN])
{
    long long days = t_s >= 0 ? t_s / SEC_PER_DAY : -((-t_s + SEC_PER_DAY - 1) / SEC_PER_DAY);
    int secs = (int)(t_s - days * SEC_PER_DAY), m, d;
    long long y;
    civil_date(days, &y, &m, &d);
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
