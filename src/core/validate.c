/* Value validation: one submitted value against its dictionary field, with REDCap's rules for
 * each validation type, choice lists, checkboxes and min/max (soft unless @FORCE-MINMAX).
 * Pure: no I/O, no state; the store calls it for every value of a change set. */
#include "core/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr_int.h"

static enum validate_level set(struct validate_result *r, enum validate_level level,
                               const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum validate_level set(struct validate_result *r, enum validate_level level,
                               const char *rule, const char *fmt, ...)
{
    r->level = level;
    r->rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return level;
}

/* [-+]digits, or with dp_max >= 0 also a decimal part; *ndp gets the decimals written. */
static bool is_decimal(const char *s, bool allow_dot, int *ndp)
{
    if (*s == '-' || *s == '+')
        s++;
    size_t before = 0, after = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        before++;
    }
    if (allow_dot && *s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
            after++;
        }
    }
    if (ndp)
        *ndp = (int)after;
    return !*s && (before || after);
}

/* Exactly n characters of the shape, then expr_parse_date for the calendar. */
static bool date_shaped(const char *s, size_t n, double *secs)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return expr_parse_date(s, "ymd", secs);
}

static bool clock_shaped(const char *s, unsigned max_first, double *secs)
{
    if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return false;
    unsigned a = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    unsigned b = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    if (a > max_first || b > 59)
        return false;
    *secs = max_first == 23 ? a * 3600.0 + b * 60.0 : a * 60.0 + b;
    return true;
}

bool validate_type_is_ordered(enum val_type t)
{
    switch (t) {
    case VT_INTEGER:
    case VT_NUMBER:
    case VT_NUMBER_1DP:
    case VT_NUMBER_2DP:
    case VT_NUMBER_3DP:
    case VT_NUMBER_4DP:
    case VT_DATE_YMD:
    case VT_DATETIME_YMD:
    case VT_DATETIME_SECONDS_YMD:
    case VT_TIME:
    case VT_TIME_MM_SS:
        return true;
    default:
        return false;
    }
}

bool validate_parse_ordered(enum val_type t, const char *s, double *out)
{
    int ndp;
    switch (t) {
    case VT_INTEGER:
        if (!is_decimal(s, false, NULL))
            return false;
        *out = strtod(s, NULL);
        return true;
    case VT_NUMBER:
    case VT_NUMBER_1DP:
    case VT_NUMBER_2DP:
    case VT_NUMBER_3DP:
    case VT_NUMBER_4DP:
        if (!is_decimal(s, true, &ndp))
            return false;
        *out = strtod(s, NULL);
        return true;
    case VT_DATE_YMD:
        if (!date_shaped(s, 10, out))
            return false;
        *out /= 86400.0;
        return true;
    case VT_DATETIME_YMD:
        return date_shaped(s, 16, out);
    case VT_DATETIME_SECONDS_YMD:
        return date_shaped(s, 19, out);
    case VT_TIME:
        return clock_shaped(s, 23, out);
    case VT_TIME_MM_SS:
        return clock_shaped(s, 59, out);
    default:
        return false;
    }
}

static bool is_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || *p == ',' || *p == ';' || *p == '<' || *p == '>')
            return false;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] && dot[-1] != '.';
}

/* International numbers: optional leading +, digits with spaces - . ( ), 7 to 15 digits. */
static bool is_phone(const char *s)
{
    size_t nd = 0;
    if (*s == '+')
        s++;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s))
            nd++;
        else if (!strchr(" -.()", *s))
            return false;
    }
    return nd >= 7 && nd <= 15;
}

static bool is_alpha(const char *s)
{
    for (; *s; s++)
        if (!isalpha((unsigned char)*s))
            return false;
    return true;
}

static bool is_zip(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (i == 5 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    return n == 5 || n == 10;
}

static const char *const type_describe[] = {
    [VT_INTEGER] = "an integer",
    [VT_NUMBER] = "a number",
    [VT_NUMBER_1DP] = "a number",
    [VT_NUMBER_2DP] = "a number",
    [VT_NUMBER_3DP] = "a number",
    [VT_NUMBER_4DP] = "a number",
    [VT_DATE_YMD] = "a date (YYYY-MM-DD)",
    [VT_DATETIME_YMD] = "a date-time (YYYY-MM-DD HH:MM)",
    [VT_DATETIME_SECONDS_YMD] = "a date-time (YYYY-MM-DD HH:MM:SS)",
    [VT_TIME] = "a time (HH:MM)",
    [VT_TIME_MM_SS] = "a duration (MM:SS)",
    [VT_EMAIL] = "an e-mail address",
    [VT_PHONE] = "a phone number",
    [VT_ALPHA_ONLY] = "letters only",
    [VT_ZIPCODE] = "a ZIP code",
};

static enum validate_level check_text(const struct dict_field *f, const char *v,
                                      struct validate_result *r)
{
    enum val_type t = f->vtype;
    double x = 0;
    bool ok;
    switch (t) {
    case VT_NONE:
        return VALID_OK;
    case VT_EMAIL:
        ok = is_email(v);
        break;
    case VT_PHONE:
        ok = is_phone(v);
        break;
    case VT_ALPHA_ONLY:
        ok = is_alpha(v);
        break;
    case VT_ZIPCODE:
        ok = is_zip(v);
        break;
    default:
        ok = validate_parse_ordered(t, v, &x);
        break;
    }
    const char *rule = dict_val_type_name(t);
    if (!ok)
        return set(r, VALID_HARD, rule, "field '%s': '%s' is not %s", f->name, v, type_describe[t]);
    if (t >= VT_NUMBER_1DP && t <= VT_NUMBER_4DP) {
        int ndp, max_dp = (int)(t - VT_NUMBER_1DP) + 1;
        is_decimal(v, true, &ndp);
        if (ndp > max_dp)
            return set(r, VALID_HARD, "decimals",
                       "field '%s': '%s' has %d decimal places, %s allows %d", f->name, v, ndp,
                       rule, max_dp);
    }
    if (!validate_type_is_ordered(t))
        return VALID_OK;
    enum validate_level lv = f->force_minmax ? VALID_HARD : VALID_SOFT;
    /* A soft value is flagged for review; whether it was saved only the caller knows (the
     * store says so on each issue once the change set is committed or refused). */
    const char *how = f->force_minmax ? "" : " (flagged for review)";
    if (f->has_min && x < f->min_num)
        return set(r, lv, "min", "field '%s': %s is below the minimum %s%s", f->name, v, f->vmin,
                   how);
    if (f->has_max && x > f->max_num)
        return set(r, lv, "max", "field '%s': %s is above the maximum %s%s", f->name, v, f->vmax,
                   how);
    return VALID_OK;
}

enum validate_level validate_value(const struct dict_field *f, const char *code, const char *value,
                                   struct validate_result *r)
{
    memset(r, 0, sizeof *r);
    r->level = VALID_OK;
    r->rule = "";
    const char *v = value ? value : "";
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (n >= sizeof r->canonical)
        return set(r, VALID_HARD, "length",
                   "field '%s': value is %zu characters, the limit is "
                   "%zu",
                   f->name, n, sizeof r->canonical - 1);
    memcpy(r->canonical, v, n);
    r->canonical[n] = '\0';
    v = r->canonical;
    if (code && f->type != FT_CHECKBOX)
        return set(r, VALID_HARD, "checkbox",
                   "field '%s': option '%s' given, but it is a %s "
                   "field, not a checkbox",
                   f->name, code, dict_field_type_name(f->type));
    if (f->type == FT_CHECKBOX) {
        if (!code || !dict_choice_label(f, code))
            return set(r, VALID_HARD, "choice", "field '%s': checkbox has no option '%s'", f->name,
                       code ? code : "(none given)");
        if (n && strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
            return set(r, VALID_HARD, "checkbox", "field '%s': option '%s' takes 0 or 1, not '%s'",
                       f->name, code, v);
        return VALID_OK;
    }
    if (!n)
        return VALID_OK; /* clears the field */
    switch (f->type) {
    case FT_CALC:
    case FT_DESCRIPTIVE:
        return set(r, VALID_HARD, "calc", "field '%s': a %s field takes no value ('%s' given)",
                   f->name, dict_field_type_name(f->type), v);
    case FT_DROPDOWN:
    case FT_RADIO:
    case FT_YESNO:
    case FT_TRUEFALSE:
        if (!dict_choice_label(f, v))
            return set(r, VALID_HARD, "choice", "field '%s': '%s' is not one of its choices",
                       f->name, v);
        return VALID_OK;
    case FT_SLIDER: {
        double x;
        if (!validate_parse_ordered(VT_INTEGER, v, &x))
            return set(r, VALID_HARD, "integer", "field '%s': '%s' is not an integer", f->name, v);
        if (x < 0 || x > 100)
            return set(r, VALID_HARD, x < 0 ? "min" : "max",
                       "field '%s': slider value %s is outside 0 to 100", f->name, v);
        return VALID_OK;
    }
    case FT_TEXT:
        return check_text(f, v, r);
    default:
        return VALID_OK;
    }
}

enum validate_level validate_required(const struct dict_field *f, const char *value,
                                      struct validate_result *r)
{
    memset(r, 0, sizeof *r);
    r->rule = "";
    const char *v = value ? value : "";
    while (isspace((unsigned char)*v))
        v++;
    if (f->is_required && !*v)
        return set(r, VALID_HARD, "required", "field '%s' is required", f->name);
    snprintf(r->canonical, sizeof r->canonical, "%s", v);
    return VALID_OK;
}
