/* The study site's time zone: the one rule for time in ioheme.
 *
 *   - Data date-times (values of date-time fields) are the site's local wall-clock, as REDCap
 *     stores them: "YYYY-MM-DD HH:MM[:SS]", no zone, the time on the ward's clock.
 *   - Audit timestamps (and every other store timestamp) are UTC instants.
 *   - A browser's own zone never matters: the stopwatch sends instants (ms since the epoch) and
 *     the server converts them to the site's wall-clock here; pages show times in the site zone.
 *
 * The zone is an IANA name ("Europe/London") stored in the database (store_site_timezone). The
 * conversions use glibc (localtime_r with tm_gmtoff) on the process's zone, which
 * sitetime_use sets once (setenv TZ + tzset) before any thread starts: glibc reads TZ again in
 * mktime and tzset, and setenv is not safe while other threads run, so the zone is never
 * changed afterwards (one study, one zone per process; `ioheme serve` applies a changed zone
 * at its next start). localtime_r itself is thread-safe. */
#ifndef IOHEME_CORE_SITETIME_H
#define IOHEME_CORE_SITETIME_H

#include <stdbool.h>

#include "base/err.h"

#define SITETIME_NAME_MAX 64
/* Used when a database predates site time zones, or init was given none. */
#define SITETIME_DEFAULT "UTC"

/* Checks that name is an IANA zone name with a compiled zone file under /usr/share/zoneinfo
 * (Debian's tzdata): letters, digits and "_+-/", no "..", at most SITETIME_NAME_MAX - 1 bytes,
 * and the file starts with the TZif magic. ERR_INVALID naming the value otherwise (glibc would
 * silently use UTC for an unknown name). */
int sitetime_name_check(const char *name, struct err *e);

/* Makes name (checked as above) the process's zone for the conversions below. Call from the
 * main thread before starting threads; a later call with the same name changes nothing. */
int sitetime_use(const char *name, struct err *e);

/* The zone set by sitetime_use ("UTC" before). Static storage. */
const char *sitetime_zone(void);

/* An instant (UTC ms since the epoch) as site wall-clock seconds: the scale of
 * schedule_parse_wallclock (seconds since 1970-01-01 00:00 of the wall-clock calendar). */
long long sitetime_wall_from_ms(long long ms);

/* Site wall-clock seconds as an instant (UTC ms). A wall-clock time that occurs twice (the hour
 * repeated when clocks go back) is its first occurrence; one that does not occur (the hour
 * skipped when clocks go forward) is read with the offset before the change, i.e. an hour
 * later on the new clock, as a clock not yet put forward would show it. */
long long sitetime_ms_from_wall(long long wall_s);

/* An instant as site wall-clock text: "YYYY-MM-DD HH:MM:SS" with seconds, else
 * "YYYY-MM-DD HH:MM". buf holds SITETIME_TEXT_LEN bytes. */
#define SITETIME_TEXT_LEN 64
void sitetime_format_ms(long long ms, bool with_seconds, char buf[SITETIME_TEXT_LEN]);

#endif
