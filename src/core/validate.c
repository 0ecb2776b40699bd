/* Value validation: one submitted value against its dictionary field, with REDCap's rules for
 * each validation type, choice lists, checkboxes and min/max (soft unless @FORCE-MINMAX).
 * Pure: no I/O, no state; the store calls it for every value of a change set. */
#include "core/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "base/utf8.h"
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
    fmt_vtext(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    return level;
}

/* An empty, valid result. Not a memset: the struct holds a 64 KiB value buffer, and clearing
 * it for every value was 6% of an import's time (bench/redcap); only the strings' first bytes
 * need to be empty. */
static void result_init(struct validate_result *r)
{
    r->level = VALID_OK;
    r->rule = "";
    r->canonical[0] = '\0';
    r->msg[0] = '\0';
}

/* [-+]digits, with a decimal part after sep when sep is not '\0'; *ndp gets the decimals
 * written. */
static bool is_decimal(const char *s, char sep, int *ndp)
{
    if (*s == '-' || *s == '+')
        s++;
    size_t before = 0, after = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        before++;
    }
    if (sep && *s == sep) {
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

/* A number in scientific notation as REDCap's number type takes it: a decimal, then e or E, an
 * optional sign and digits ("3.14e-2", "1E3"). */
static bool is_scientific(const char *s)
{
    const char *e = strpbrk(s, "eE");
    if (!e || e == s)
        return false;
    char mant[64];
    size_t n = (size_t)(e - s);
    if (n >= sizeof mant)
        return false;
    memcpy(mant, s, n);
    mant[n] = '\0';
    e++;
    e += *e == '-' || *e == '+';
    size_t nd = strspn(e, "0123456789");
    return is_decimal(mant, '.', NULL) && nd > 0 && !e[nd];
}

/* REDCap's time and date-time types take an hour of one digit ("9:30", "2026-03-01 9:30"):
 * stored as two ("09:30"), the shape every reader of a stored time expects. v has room for one
 * more character (validate_result.canonical). */
static void pad_hour(enum val_type t, char *v)
{
    if (strlen(v) > 24) /* longer than any time or date-time: not one, and no room is sure */
        return;
    char *h = t == VT_TIME || t == VT_TIME_HH_MM_SS ? v : NULL;
    if (!h && dict_vtype_is_datetime(t) && (h = strchr(v, ' ')) != NULL)
        h++;
    if (h && isdigit((unsigned char)h[0]) && h[1] == ':')
        memmove(h + 1, h, strlen(h) + 1), h[0] = '0';
}

/* Whether s has exactly the shape: 'd' a digit, 'A' a letter, anything else itself. */
static bool shaped(const char *s, const char *shape)
{
    for (; *shape; s++, shape++) {
        if (*shape == 'd'   ? !isdigit((unsigned char)*s)
            : *shape == 'A' ? !isalpha((unsigned char)*s)
                            : *s != *shape)
            return false;
    }
    return !*s;
}

/* The order a date type is entered in ("ymd", "mdy", "dmy") and its length (10 date, 16
 * date-time, 19 with seconds); NULL for other types. */
static const char *date_order(enum val_type t, size_t *len)
{
    static const struct {
        enum val_type t;
        const char *order;
        size_t len;
    } dates[] = {
        {VT_DATE_YMD, "ymd", 10},
        {VT_DATE_MDY, "mdy", 10},
        {VT_DATE_DMY, "dmy", 10},
        {VT_DATETIME_YMD, "ymd", 16},
        {VT_DATETIME_MDY, "mdy", 16},
        {VT_DATETIME_DMY, "dmy", 16},
        {VT_DATETIME_SECONDS_YMD, "ymd", 19},
        {VT_DATETIME_SECONDS_MDY, "mdy", 19},
        {VT_DATETIME_SECONDS_DMY, "dmy", 19},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        if (dates[i].t == t) {
            *len = dates[i].len;
            return dates[i].order;
        }
    return NULL;
}

/* A value of date type t, as YYYY-MM-DD[ HH:MM[:SS]] (always accepted) or in the type's own
 * order, MM-DD-YYYY / DD-MM-YYYY with '-' or '/' (REDCap's entry formats): the ISO form into
 * iso (as long as s) and the seconds since 1970-01-01 into *secs. */
static bool date_value(enum val_type t, const char *s, double *secs, char iso[20])
{
    size_t len;
    const char *order = date_order(t, &len);
    static const char time_shape[] = " dd:dd:dd";
    char shape[24];
    if (!order || strlen(s) != len)
        return false;
    fmt_exact(shape, sizeof shape, "dddd-dd-dd%.*s", (int)(len - 10), time_shape);
    if (shaped(s, shape)) {
        memcpy(iso, s, len + 1);
    } else {
        if (strcmp(order, "ymd") == 0 || !(s[2] == '-' || s[2] == '/') || s[5] != s[2])
            return false;
        fmt_exact(shape, sizeof shape, "dd%cdd%cdddd%.*s", s[2], s[2], (int)(len - 10), time_shape);
        if (!shaped(s, shape))
            return false;
        const char *mm = order[0] == 'm' ? s : s + 3, *dd = order[0] == 'm' ? s + 3 : s;
        fmt_exact(iso, 20, "%.4s-%.2s-%.2s%s", s + 6, mm, dd, s + 10); /* s is shaped */
    }
    return expr_parse_date(iso, "ymd", secs);
}

/* HH:MM (max_first 23), MM:SS (59) or, with seconds, HH:MM:SS, as seconds. */
static bool clock_shaped(const char *s, unsigned max_first, bool with_seconds, double *secs)
{
    if (!shaped(s, with_seconds ? "dd:dd:dd" : "dd:dd"))
        return false;
    unsigned a = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    unsigned b = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    unsigned c = with_seconds ? (unsigned)(s[6] - '0') * 10 + (unsigned)(s[7] - '0') : 0;
    if (a > max_first || b > 59 || c > 59)
        return false;
    *secs = max_first == 23 ? a * 3600.0 + b * 60.0 + c : a * 60.0 + b;
    return true;
}

/* The decimal separator of a number type ('.' or ','), '\0' for integer; and the most
 * decimals it allows (0: any). -1 when t is no number type. */
static int number_rule(enum val_type t, char *sep)
{
    switch (t) {
    case VT_INTEGER:
        *sep = '\0';
        return 0;
    case VT_NUMBER:
    case VT_NUMBER_COMMA:
        *sep = t == VT_NUMBER ? '.' : ',';
        return 0;
    case VT_NUMBER_1DP:
    case VT_NUMBER_2DP:
    case VT_NUMBER_3DP:
    case VT_NUMBER_4DP:
        *sep = '.';
        return (int)(t - VT_NUMBER_1DP) + 1;
    case VT_NUMBER_1DP_COMMA:
    case VT_NUMBER_2DP_COMMA:
    case VT_NUMBER_3DP_COMMA:
    case VT_NUMBER_4DP_COMMA:
        *sep = ',';
        return (int)(t - VT_NUMBER_1DP_COMMA) + 1;
    default:
        return -1;
    }
}

char validate_decimal_sep(enum val_type t)
{
    char sep = '\0';
    return number_rule(t, &sep) < 0 ? '\0' : sep;
}

void validate_logic_value(const struct dict_field *f, const char *stored, struct expr_value *out)
{
    double x;
    if (f && validate_decimal_sep(f->vtype) == ',' && strchr(stored, ',') &&
        validate_parse_ordered(f->vtype, stored, &x)) {
        *out = (struct expr_value){EV_NUM, x, ""};
        return;
    }
    *out = (struct expr_value){EV_STR, 0, stored};
}

bool validate_type_is_ordered(enum val_type t)
{
    char sep;
    size_t len;
    return number_rule(t, &sep) >= 0 || date_order(t, &len) || t == VT_TIME || t == VT_TIME_MM_SS ||
           t == VT_TIME_HH_MM_SS;
}

bool validate_parse_ordered(enum val_type t, const char *s, double *out)
{
    char sep, iso[20];
    size_t len;
    if (number_rule(t, &sep) >= 0) {
        if (!is_decimal(s, sep, NULL) && !(t == VT_NUMBER && is_scientific(s)))
            return false;
        char num[64];
        size_t n = strlen(s);
        if (n >= sizeof num)
            return false;
        memcpy(num, s, n + 1);
        char *comma = strchr(num, ',');
        if (comma)
            *comma = '.';
        *out = strtod(num, NULL);
        return true;
    }
    if (date_order(t, &len)) {
        if (!date_value(t, s, out, iso))
            return false;
        if (len == 10)
            *out /= 86400.0;
        return true;
    }
    switch (t) {
    case VT_TIME:
        return clock_shaped(s, 23, false, out);
    case VT_TIME_HH_MM_SS:
        return clock_shaped(s, 23, true, out);
    case VT_TIME_MM_SS:
        return clock_shaped(s, 59, false, out);
    default:
        return false;
    }
}

const char *validate_entry_shape(enum val_type t)
{
    static const char *const shapes[][3] = {
        {"YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS"},
        {"MM-DD-YYYY", "MM-DD-YYYY HH:MM", "MM-DD-YYYY HH:MM:SS"},
        {"DD-MM-YYYY", "DD-MM-YYYY HH:MM", "DD-MM-YYYY HH:MM:SS"},
    };
    size_t len;
    const char *order = date_order(t, &len);
    if (order)
        return shapes[order[0] == 'y'   ? 0
                      : order[0] == 'm' ? 1
                                        : 2][len == 10   ? 0
                                             : len == 16 ? 1
                                                         : 2];
    switch (t) {
    case VT_TIME:
        return "HH:MM";
    case VT_TIME_HH_MM_SS:
        return "HH:MM:SS";
    case VT_TIME_MM_SS:
        return "MM:SS";
    default:
        return NULL;
    }
}

bool validate_display(enum val_type t, const char *stored, char *out, size_t n)
{
    size_t len;
    const char *order = date_order(t, &len);
    double secs;
    char iso[20];
    if (!order || order[0] == 'y' || strlen(stored) != len || stored[4] != '-' ||
        !date_value(t, stored, &secs, iso))
        return false;
    const char *first = order[0] == 'm' ? stored + 5 : stored + 8;
    const char *second = order[0] == 'm' ? stored + 8 : stored + 5;
    return fmt_fits(out, n, "%.2s-%.2s-%.4s%s", first, second, stored, stored + 10);
}

bool validate_clock_text(enum val_type t, bool now, const char *wall, char *out, size_t n)
{
    size_t len;
    if (strlen(wall) < 19)
        return false;
    if (date_order(t, &len)) {
        if (len == 10 || now)
            fmt_text(out, n, "%.*s", (int)len, wall);
        else /* today on a datetime field: its first minute */
            fmt_text(out, n, "%.10s %s", wall, len == 16 ? "00:00" : "00:00:00");
        return true;
    }
    if (now && (t == VT_TIME || t == VT_TIME_HH_MM_SS)) {
        fmt_text(out, n, "%.*s", t == VT_TIME ? 5 : 8, wall + 11);
        return true;
    }
    return false;
}

/* Checks value against the bounds bound[0] (min) and bound[1] (max), texts in the field's
 * stored form (NULL: none), each named name[k] in the message. */
static enum validate_level outside_bounds(const struct dict_field *f, const char *value,
                                          const char *const bound[2], const char *const name[2],
                                          struct validate_result *r)
{
    double x;
    if (!*value || !validate_parse_ordered(f->vtype, value, &x))
        return VALID_OK;
    enum validate_level lv = f->force_minmax ? VALID_HARD : VALID_SOFT;
    const char *how = f->force_minmax ? "" : " (flagged for review)";
    for (int k = 0; k < 2; k++) {
        double y;
        if (!bound[k] || !validate_parse_ordered(f->vtype, bound[k], &y))
            continue;
        if (k == 0 && x < y)
            return set(r, lv, "min", "field '%s': %s is below the minimum %s (%s)%s", f->name,
                       value, name[k], bound[k], how);
        if (k == 1 && x > y)
            return set(r, lv, "max", "field '%s': %s is above the maximum %s (%s)%s", f->name,
                       value, name[k], bound[k], how);
    }
    return VALID_OK;
}

enum validate_level validate_clock_bounds(const struct dict_field *f, const char *value,
                                          const char *wall, struct validate_result *r)
{
    result_init(r);
    char text[2][32];
    const char *bound[2] = {NULL, NULL}, *name[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        enum dict_clock_bound b = k ? f->max_clock : f->min_clock;
        if (b != DICT_BOUND_FIXED &&
            validate_clock_text(f->vtype, b == DICT_BOUND_NOW, wall, text[k], sizeof text[k])) {
            bound[k] = text[k];
            name[k] = b == DICT_BOUND_NOW ? "now" : "today";
        }
    }
    return outside_bounds(f, value, bound, name, r);
}

bool validate_bound_fit(enum val_type t, const char *text, char *out, size_t n)
{
    static const char midnight[] = "0000-00-00 00:00:00"; /* a time's is its last 8 */
    size_t len, have = strlen(text);
    const char *pad = NULL;
    if (date_order(t, &len)) {
        if (have == 10 || have == 16 || have == 19)
            pad = midnight;
    } else if (t == VT_TIME || t == VT_TIME_HH_MM_SS) {
        len = t == VT_TIME ? 5 : 8;
        if (have == 5 || have == 8)
            pad = midnight + 11;
    }
    if (!pad || have == len)
        return fmt_fits(out, n, "%s", text);
    if (have > len) /* a datetime read as its date, a time with seconds as its minute */
        return fmt_fits(out, n, "%.*s", (int)len, text);
    return fmt_fits(out, n, "%s%.*s", text, (int)(len - have), pad + have); /* its start */
}

enum validate_level validate_piped_bounds(const struct dict_field *f, const char *value,
                                          const char *min, const char *max,
                                          struct validate_result *r)
{
    result_init(r);
    char text[2][64];
    const char *in[2] = {min, max}, *bound[2] = {NULL, NULL};
    const char *name[2] = {f->vmin, f->vmax};
    for (int k = 0; k < 2; k++)
        if (in[k] && *in[k] && validate_bound_fit(f->vtype, in[k], text[k], sizeof text[k]))
            bound[k] = text[k];
    return outside_bounds(f, value, bound, name, r);
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

/* Digits with the separators " -.()" between them (and a leading '+' when plus is true); the
 * digits, without separators, into digits (at most n - 1 of them). False for other
 * characters or too many digits. */
static bool phone_digits(const char *s, bool plus, char *digits, size_t n)
{
    size_t nd = 0;
    if (plus && *s == '+')
        s++;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s)) {
            if (nd + 1 >= n)
                return false;
            digits[nd++] = *s;
        } else if (!strchr(" -.()", *s)) {
            return false;
        }
    }
    digits[nd] = '\0';
    return true;
}

/* phone: international numbers, an optional leading + and 7 to 15 digits; phone_australia:
 * 10 digits starting 0 and an area or mobile prefix (02, 03, 04, 05, 07, 08), or 8 digits
 * without the area code. */
static bool is_phone(const char *s, bool australia)
{
    char d[32];
    if (!phone_digits(s, !australia, d, sizeof d))
        return false;
    size_t nd = strlen(d);
    if (!australia)
        return nd >= 7 && nd <= 15;
    return nd == 8 || (nd == 10 && d[0] == '0' && strchr("234578", d[1]));
}

static bool is_alpha(const char *s)
{
    for (; *s; s++)
        if (!isalpha((unsigned char)*s))
            return false;
    return true;
}

/* REDCap's MRN types: mrn_generic letters, digits and - _; vmrn 4 to 9 digits; mrn_10d 10. */
static bool is_mrn(const char *s, size_t min_digits, size_t max_digits)
{
    size_t n = strlen(s);
    if (min_digits == 0) {
        for (const char *p = s; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
                return false;
        return n > 0;
    }
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return n >= min_digits && n <= max_digits;
}

/* A UK postcode: an outward code (A9, A99, AA9, AA99, A9A, AA9A), an optional space, and an
 * inward code (9AA); letters of either case; and GIR 0AA. */
static bool is_postal_uk(const char *s)
{
    static const char *const outward[] = {"Ad", "Add", "AAd", "AAdd", "AdA", "AAdA"};
    char buf[16];
    size_t n = strlen(s);
    if (n < 5 || n > 8)
        return false;
    const char *in = s + n - 3; /* the inward code is always 9AA */
    if (!shaped(in, "dAA"))
        return false;
    size_t out = (size_t)(in - s);
    if (out && s[out - 1] == ' ')
        out--;
    memcpy(buf, s, out);
    buf[out] = '\0';
    if (strcasecmp(buf, "GIR") == 0)
        return strcasecmp(in, "0AA") == 0;
    for (size_t i = 0; i < sizeof outward / sizeof outward[0]; i++)
        if (shaped(buf, outward[i]))
            return true;
    return false;
}

/* A national number with its country's prefix: a leading 0 and ndigits - 1 more, or +cc (the 0
 * dropped) and the same; the separators of phone_digits between. */
static bool is_phone_national(const char *s, const char *cc, size_t ndigits)
{
    char d[32];
    if (!phone_digits(s, true, d, sizeof d))
        return false;
    size_t nd = strlen(d), ncc = strlen(cc);
    if (*s == '+')
        return nd == ncc + ndigits - 1 && strncmp(d, cc, ncc) == 0 && d[ncc] != '0';
    return nd == ndigits && d[0] == '0' && d[1] != '0';
}

/* A Canadian postal code, "K1A 0B1" (the space optional, letters of either case). */
static bool is_postal_canada(const char *s)
{
    return shaped(s, "AdA dAd") || shaped(s, "AdAdAd");
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
    [VT_DATE_MDY] = "a date (MM-DD-YYYY or YYYY-MM-DD)",
    [VT_DATE_DMY] = "a date (DD-MM-YYYY or YYYY-MM-DD)",
    [VT_DATETIME_MDY] = "a date-time (MM-DD-YYYY HH:MM or YYYY-MM-DD HH:MM)",
    [VT_DATETIME_DMY] = "a date-time (DD-MM-YYYY HH:MM or YYYY-MM-DD HH:MM)",
    [VT_DATETIME_SECONDS_MDY] = "a date-time (MM-DD-YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS)",
    [VT_DATETIME_SECONDS_DMY] = "a date-time (DD-MM-YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS)",
    [VT_TIME_HH_MM_SS] = "a time (HH:MM:SS)",
    [VT_NUMBER_COMMA] = "a number with a decimal comma",
    [VT_NUMBER_1DP_COMMA] = "a number with a decimal comma",
    [VT_NUMBER_2DP_COMMA] = "a number with a decimal comma",
    [VT_NUMBER_3DP_COMMA] = "a number with a decimal comma",
    [VT_NUMBER_4DP_COMMA] = "a number with a decimal comma",
    [VT_SSN] = "a social security number (999-99-9999)",
    [VT_PHONE_AUSTRALIA] = "an Australian phone number",
    [VT_POSTALCODE_AUSTRALIA] = "an Australian postcode (4 digits)",
    [VT_POSTALCODE_CANADA] = "a Canadian postal code (A9A 9A9)",
    [VT_POSTALCODE_FRENCH] = "a French postal code (5 digits, or 4 without the leading 0)",
    [VT_POSTALCODE_GERMANY] = "a German postal code (5 digits)",
    [VT_POSTALCODE_UK] = "a UK postcode (SW1A 1AA)",
    [VT_PHONE_UK] = "a UK phone number (0 and 10 digits, or +44 and 10)",
    [VT_PHONE_FRANCE] = "a French phone number (0 and 9 digits, or +33 and 9)",
    [VT_MRN_10D] = "a medical record number of 10 digits",
    [VT_MRN_GENERIC] = "a medical record number (letters, digits, - and _)",
    [VT_VMRN] = "a medical record number of 4 to 9 digits",
    [VT_SIGNATURE] = "a signature",
    [VT_AUTOCOMPLETE] = "one of its choices",
};

static enum validate_level check_text(const struct dict_field *f, char *v,
                                      struct validate_result *r)
{
    enum val_type t = f->vtype;
    double x = 0;
    bool ok;
    char iso[20];
    size_t len;
    pad_hour(t, v);
    switch (t) {
    case VT_NONE:
    case VT_SIGNATURE:
    case VT_AUTOCOMPLETE:
        return VALID_OK;
    case VT_EMAIL:
        ok = is_email(v);
        break;
    case VT_PHONE:
    case VT_PHONE_AUSTRALIA:
        ok = is_phone(v, t == VT_PHONE_AUSTRALIA);
        break;
    case VT_ALPHA_ONLY:
        ok = is_alpha(v);
        break;
    case VT_ZIPCODE:
        ok = shaped(v, "ddddd") || shaped(v, "ddddd-dddd");
        break;
    case VT_SSN:
        ok = shaped(v, "ddd-dd-dddd");
        break;
    case VT_POSTALCODE_AUSTRALIA:
        ok = shaped(v, "dddd");
        break;
    case VT_POSTALCODE_CANADA:
        ok = is_postal_canada(v);
        break;
    case VT_POSTALCODE_UK:
        ok = is_postal_uk(v);
        break;
    case VT_PHONE_UK: /* 01632 960983, 020 7946 0958, +44 20 7946 0958 */
        ok = is_phone_national(v, "44", 11);
        break;
    case VT_PHONE_FRANCE: /* 01 23 45 67 89, +33 1 23 45 67 89 */
        ok = is_phone_national(v, "33", 10);
        break;
    case VT_POSTALCODE_FRENCH: /* REDCap's ^((0?[1-9])|([1-8][0-9])|(9[0-8]))[0-9]{3}$: a
                                  département 01-98 (its 0 may be left out) and 3 digits */
        ok = (shaped(v, "ddddd") && !(v[0] == '0' && v[1] == '0') &&
              !(v[0] == '9' && v[1] == '9')) ||
             (shaped(v, "dddd") && v[0] != '0');
        break;
    case VT_POSTALCODE_GERMANY:
        ok = shaped(v, "ddddd");
        break;
    case VT_MRN_10D:
        ok = is_mrn(v, 10, 10);
        break;
    case VT_MRN_GENERIC:
        ok = is_mrn(v, 0, 0);
        break;
    case VT_VMRN:
        ok = is_mrn(v, 4, 9);
        break;
    default:
        ok = validate_parse_ordered(t, v, &x);
        break;
    }
    const char *rule = dict_val_type_name(t);
    if (!ok)
        return set(r, VALID_HARD, rule, "field '%s': '%s' is not %s", f->name, v, type_describe[t]);
    if (date_order(t, &len) && date_value(t, v, &x, iso)) {
        memcpy(v, iso, len + 1); /* stored as YYYY-MM-DD whatever the entry format */
        if (len == 10)
            x /= 86400.0;
    }
    char sep;
    int max_dp = number_rule(t, &sep);
    if (max_dp > 0) {
        int ndp;
        is_decimal(v, sep, &ndp);
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
    result_init(r);
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
    char *cv = r->canonical;
    v = cv;
    /* every value is text its readers can take (JSON, XML, the trail's exports); the bytes are
     * not echoed in the message, which goes out as JSON too */
    long bad = utf8_not_text(cv);
    if (bad == -2)
        return set(r, VALID_HARD, "utf8", "field '%s': the value is not valid UTF-8 text", f->name);
    if (bad >= 0)
        return set(r, VALID_HARD, "utf8",
                   "field '%s': the value holds the control character U+%04lX, which no export "
                   "can carry (a line break pasted from Word?): remove it",
                   f->name, (unsigned long)bad);
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
        /* the slider's ends: Text Validation Min / Max, else REDCap's 0 and 100 */
        double lo = f->has_min ? f->min_num : 0, hi = f->has_max ? f->max_num : 100;
        if (x < lo || x > hi)
            return set(r, VALID_HARD, x < lo ? "min" : "max",
                       "field '%s': slider value %s is outside %g to %g", f->name, v, lo, hi);
        return VALID_OK;
    }
    case FT_TEXT:
        return check_text(f, cv, r);
    default:
        return VALID_OK;
    }
}

enum validate_level validate_required(const struct dict_field *f, const char *value,
                                      struct validate_result *r)
{
    result_init(r);
    const char *v = value ? value : "";
    while (isspace((unsigned char)*v))
        v++;
    if (f->is_required && !*v)
        return set(r, VALID_HARD, "required", "field '%s' is required", f->name);
    if (!fmt_fits(r->canonical, sizeof r->canonical, "%s", v))
        return set(r, VALID_HARD, "length", "field '%s': value is %zu characters, the limit is %zu",
                   f->name, strlen(v), sizeof r->canonical - 1);
    return VALID_OK;
}
