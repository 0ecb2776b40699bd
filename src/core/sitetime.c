/* The site's time zone (sitetime.h): checking an IANA name against the zone files, setting the
 * process's zone once, and converting between instants and the site's wall-clock. */
#include "core/sitetime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fmt.h"

#define ZONEINFO "/usr/share/zoneinfo/"

/* Written by sitetime_use before threads start; read-only afterwards. */
static char zone_in_use[SITETIME_NAME_MAX] = SITETIME_DEFAULT;
static bool is_applied;

int sitetime_name_check(const char *name, struct err *e)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n < SITETIME_NAME_MAX && name[0] != '/' && !strstr(name, "..");
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '+' || c == '-' || c == '/';
    }
    if (!ok)
        return err_set_field(e, ERR_INVALID, "timezone",
                             "time zone '%s' is not an IANA zone name such as Europe/London",
                             name ? name : "");
    char path[sizeof ZONEINFO + SITETIME_NAME_MAX];
    fmt_exact(path, sizeof path, "%s%s", ZONEINFO, name); /* name checked above */
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    bool is_tzif = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    if (f)
        (void)fclose(f);
    if (!is_tzif)
        return err_set_field(e, ERR_INVALID, "timezone",
                             "time zone '%s' is unknown: no zone file %s (an IANA name such as "
                             "Europe/London; Debian package tzdata)",
                             name, path);
    return 0;
}

int sitetime_use(const char *name, struct err *e)
{
    int rc = sitetime_name_check(name, e);
    if (rc || (is_applied && strcmp(name, zone_in_use) == 0))
        return rc; /* again the same zone: nothing to change (threads may be running) */
    char tz[SITETIME_NAME_MAX + 1];
    fmt_exact(tz, sizeof tz, ":%s", name); /* ":" : a file under the zoneinfo directory */
    if (setenv("TZ", tz, 1) != 0)
        return err_set(e, ERR_NOMEM, "out of memory");
    tzset();
    fmt_exact(zone_in_use, sizeof zone_in_use, "%s", name);
    is_applied = true;
    return 0;
}

const char *sitetime_zone(void)
{
    return zone_in_use;
}

/* The site's UTC offset in seconds at instant t_s. */
static long long offset_at(long long t_s)
{
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

static long long floor_div(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

long long sitetime_wall_from_ms(long long ms)
{
    long long t = floor_div(ms, 1000);
    return t + offset_at(t);
}

long long sitetime_ms_from_wall(long long wall_s)
{
    /* the offsets a day either side: a zone changes its offset at most once in between */
    long long before = offset_at(wall_s - 86400), after = offset_at(wall_s + 86400);
    long long best = 0;
    bool found = false;
    long long offs[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        long long t = wall_s - offs[i];
        if (offset_at(t) == offs[i] && (!found || t < best)) {
            best = t;
            found = true;
        }
    }
    if (!found) /* in the skipped hour */
        best = wall_s - before;
    return best * 1000;
}

void sitetime_format_ms(long long ms, bool with_seconds, char buf[SITETIME_TEXT_LEN])
{
    time_t w = (time_t)sitetime_wall_from_ms(ms);
    struct tm tm;
    if (!gmtime_r(&w, &tm) || !strftime(buf, SITETIME_TEXT_LEN,
                                        with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm))
        fmt_exact(buf, SITETIME_TEXT_LEN, "?");
}
