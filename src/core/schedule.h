/* The visit schedule: when each event of the protocol falls due for one record, and its window.
 *
 * A record's schedule hangs on its anchor (study.csv, struct dict_study): the anchor field's
 * time by its rule (the earliest value, or the value of the lowest instance), else the fallback
 * field's, else the record's enrolment time. Each event then falls due at anchor + due_min with
 * the window [due - window_before_min, due + window_after_min] (struct dict_event).
 *
 * Times are wall-clock seconds: seconds since 1970-01-01 00:00 on the proleptic Gregorian
 * calendar of the "YYYY-MM-DD HH:MM[:SS]" strings REDCap stores, with no time zone applied (the
 * host's is never consulted). Pure functions: no I/O, no allocation. */
#ifndef IOHEME_CORE_SCHEDULE_H
#define IOHEME_CORE_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/dict.h"

/* Reads "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (a real calendar date, hours 00-23) into
 * *out_s. Returns 0, or -1 (and leaves *out_s) when s is not such a value. */
int schedule_parse_wallclock(const char *s, long long *out_s);

/* Writes t_s as "YYYY-MM-DD HH:MM" (seconds dropped) into buf. */
#define SCHEDULE_WALLCLOCK_LEN 64
void schedule_format_wallclock(long long t_s, char buf[SCHEDULE_WALLCLOCK_LEN]);

/* One anchor field's choice so far among a record's values, under the field's rule. */
struct schedule_pick {
    bool is_set;
    long long t_s;
    int event, instance; /* where t_s came from */
};

/* A record's anchor candidates: start from a zeroed struct (nothing picked), fill with
 * schedule_anchors_offer, one stored value at a time, in any order. */
struct schedule_anchors {
    struct schedule_pick anchor, fallback;
};

/* Offers the value stored for field at event index ev, instance. Values of other fields, blank
 * values and values that are not wall-clock date-times are ignored. Rule earliest keeps the
 * earliest time; rule first_instance keeps the lowest instance, on a tie the first event in
 * events.csv order. */
void schedule_anchors_offer(const struct dict *d, struct schedule_anchors *a, const char *field,
                            int ev, int instance, const char *value);

/* Where a record's anchor came from. */
enum schedule_source { SCHEDULE_FROM_ANCHOR, SCHEDULE_FROM_FALLBACK, SCHEDULE_FROM_ENROLMENT };

/* One event's due time and window for one record, in wall-clock seconds. */
struct schedule_due {
    long long due_s;
    long long window_start_s, window_end_s; /* due - window_before, due + window_after */
};

/* The schedule of one record: out[i] for each d->events[i] (the caller's array of d->nevents),
 * from the record's anchors a and its enrolment time enrolled_s (-1 when not enrolled).
 * *source (may be NULL) says which time anchored it. Returns 0, or -1 when there is no anchor
 * at all (out is left alone). */
int schedule_due(const struct dict *d, const struct schedule_anchors *a, long long enrolled_s,
                 struct schedule_due *out, enum schedule_source *source);

#endif
