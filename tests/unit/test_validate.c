/* Value validation: every validation type good and bad, choices, checkboxes, calc and
 * descriptive fields, min/max soft and hard (dates compared as dates), canonical values,
 * and the required check. Fields are built by hand so each rule is seen alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/validate.h"

static struct dict_choice yn_choices[] = {{"1", "Yes"}, {"0", "No"}};
static struct dict_choice sex_choices[] = {{"1", "Male"}, {"2", "Female"}};
static struct dict_choice dx_choices[] = {{"1", "AML"}, {"2", "ALL"}, {"99", "Other"}};

static struct dict_field text(const char *name, enum val_type vt)
{
    struct dict_field f = {0};
    f.name = name;
    f.type = FT_TEXT;
    f.vtype = vt;
    f.vmin = f.vmax = "";
    return f;
}

static struct dict_field typed(enum field_type t, struct dict_choice *ch, size_t n)
{
    struct dict_field f = text("f", VT_NONE);
    f.type = t;
    f.choices = ch;
    f.nchoices = n;
    return f;
}

/* value must be accepted as VALID_OK */
static void ok(const struct dict_field *f, const char *code, const char *value)
{
    struct validate_result r;
    enum validate_level lv = validate_value(f, code, value, &r);
    if (lv != VALID_OK)
        fail_msg("'%s' rejected: %s", value, r.msg);
}

/* value must give level with rule; returns the result for further checks */
static struct validate_result bad(const struct dict_field *f, const char *code, const char *value,
                                  enum validate_level level, const char *rule)
{
    struct validate_result r;
    enum validate_level lv = validate_value(f, code, value, &r);
    if (lv != level || r.level != level || strcmp(r.rule, rule) != 0)
        fail_msg("'%s': got level %d rule '%s' (%s), want level %d rule '%s'", value, lv, r.rule,
                 r.msg, level, rule);
    return r;
}

static void stored_as(const struct dict_field *f, const char *value, const char *want);

static void test_integer_and_numbers(void **state)
{
    (void)state;
    struct dict_field f = text("n", VT_INTEGER);
    ok(&f, NULL, "42");
    ok(&f, NULL, "-7");
    ok(&f, NULL, "");
    struct validate_result r = bad(&f, NULL, "4.2", VALID_HARD, "integer");
    assert_string_equal(r.msg, "field 'n': '4.2' is not an integer");
    bad(&f, NULL, "abc", VALID_HARD, "integer");
    bad(&f, NULL, "1e3", VALID_HARD, "integer");

    f = text("x", VT_NUMBER);
    ok(&f, NULL, "3.14");
    ok(&f, NULL, ".5");
    ok(&f, NULL, "-0.25");
    /* REDCap's number takes scientific notation: ^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ */
    ok(&f, NULL, "1e3");
    ok(&f, NULL, "3.14e-2");
    ok(&f, NULL, "-2.5E+4");
    double x;
    assert_true(validate_parse_ordered(VT_NUMBER, "3.14e-2", &x) && x == 0.0314);
    bad(&f, NULL, "1e", VALID_HARD, "number");
    bad(&f, NULL, "e3", VALID_HARD, "number");
    bad(&f, NULL, "1e3.5", VALID_HARD, "number");
    bad(&f, NULL, "1,5", VALID_HARD, "number");
    bad(&f, NULL, "-", VALID_HARD, "number");

    f = text("w", VT_NUMBER_1DP);
    bad(&f, NULL, "3e1", VALID_HARD, "number_1dp"); /* the _dp types take no exponent */
    ok(&f, NULL, "3.1");
    ok(&f, NULL, "3");
    r = bad(&f, NULL, "3.14", VALID_HARD, "decimals");
    assert_string_equal(r.msg, "field 'w': '3.14' has 2 decimal places, number_1dp allows 1");
    f = text("w", VT_NUMBER_2DP);
    ok(&f, NULL, "3.14");
    bad(&f, NULL, "3.145", VALID_HARD, "decimals");
    f = text("w", VT_NUMBER_4DP);
    ok(&f, NULL, "0.1234");
    bad(&f, NULL, "0.12345", VALID_HARD, "decimals");
}

static void test_dates_times(void **state)
{
    (void)state;
    struct dict_field f = text("d", VT_DATE_YMD);
    ok(&f, NULL, "2024-02-29"); /* leap year */
    ok(&f, NULL, "2000-02-29"); /* divisible by 400 */
    struct validate_result r = bad(&f, NULL, "2023-02-29", VALID_HARD, "date_ymd");
    assert_string_equal(r.msg, "field 'd': '2023-02-29' is not a date (YYYY-MM-DD)");
    bad(&f, NULL, "1900-02-29", VALID_HARD, "date_ymd"); /* 1900 not leap */
    bad(&f, NULL, "2024-04-31", VALID_HARD, "date_ymd");
    bad(&f, NULL, "2024-2-1", VALID_HARD, "date_ymd");
    bad(&f, NULL, "01-02-2024", VALID_HARD, "date_ymd");
    bad(&f, NULL, "2024-01-01 10:00", VALID_HARD, "date_ymd");

    f = text("t", VT_DATETIME_YMD);
    ok(&f, NULL, "2024-02-29 23:59");
    bad(&f, NULL, "2024-02-29 24:00", VALID_HARD, "datetime_ymd");
    bad(&f, NULL, "2024-02-29", VALID_HARD, "datetime_ymd");
    bad(&f, NULL, "2024-02-29 12:00:00", VALID_HARD, "datetime_ymd");

    f = text("t", VT_DATETIME_SECONDS_YMD);
    ok(&f, NULL, "2024-02-29 12:00:59");
    bad(&f, NULL, "2024-02-29 12:00", VALID_HARD, "datetime_seconds_ymd");
    bad(&f, NULL, "2024-02-29 12:00:60", VALID_HARD, "datetime_seconds_ymd");

    f = text("h", VT_TIME);
    ok(&f, NULL, "00:00");
    ok(&f, NULL, "23:59");
    bad(&f, NULL, "24:00", VALID_HARD, "time");
    /* REDCap takes an hour of one digit (^([0-9]|[0-1][0-9]|[2][0-3]):([0-5][0-9])$): stored
     * with two */
    stored_as(&f, "7:30", "07:30");
    bad(&f, NULL, "7:3", VALID_HARD, "time");
    bad(&f, NULL, ":30", VALID_HARD, "time");
    bad(&f, NULL, "07:60", VALID_HARD, "time");
    f = text("h", VT_TIME_HH_MM_SS);
    stored_as(&f, "9:05:07", "09:05:07");
    f = text("t", VT_DATETIME_YMD);
    stored_as(&f, "2024-02-29 9:30", "2024-02-29 09:30");
    f = text("t", VT_DATETIME_DMY);
    stored_as(&f, "29-02-2024 9:30", "2024-02-29 09:30");
    f = text("h", VT_TIME);
    f = text("h", VT_TIME_MM_SS);
    ok(&f, NULL, "59:59");
    bad(&f, NULL, "60:00", VALID_HARD, "time_mm_ss");
}

/* value must be accepted as VALID_OK and stored as want */
static void stored_as(const struct dict_field *f, const char *value, const char *want)
{
    struct validate_result r;
    if (validate_value(f, NULL, value, &r) != VALID_OK)
        fail_msg("'%s' rejected: %s", value, r.msg);
    if (strcmp(r.canonical, want) != 0)
        fail_msg("'%s' stored as '%s', want '%s'", value, r.canonical, want);
}

/* REDCap's M-D-Y and D-M-Y types: entered in the field's order (with - or /) or as ISO,
 * stored as ISO, compared as dates against a min/max written either way. */
static void test_mdy_dmy_dates_are_stored_as_iso(void **state)
{
    (void)state;
    struct validate_result r;
    struct dict_field f = text("d", VT_DATE_MDY);
    stored_as(&f, "02-29-2024", "2024-02-29");
    stored_as(&f, "12/31/1999", "1999-12-31");
    stored_as(&f, "2024-02-29", "2024-02-29");
    r = bad(&f, NULL, "29-02-2024", VALID_HARD, "date_mdy"); /* month 29 */
    assert_string_equal(r.msg, "field 'd': '29-02-2024' is not a date (MM-DD-YYYY or YYYY-MM-DD)");
    bad(&f, NULL, "02-29-2023", VALID_HARD, "date_mdy"); /* not a leap year */
    bad(&f, NULL, "02-29/2024", VALID_HARD, "date_mdy"); /* mixed separators */
    bad(&f, NULL, "2-9-2024", VALID_HARD, "date_mdy");

    f = text("d", VT_DATE_DMY);
    stored_as(&f, "29-02-2024", "2024-02-29");
    bad(&f, NULL, "02-29-2024", VALID_HARD, "date_dmy");

    f = text("t", VT_DATETIME_DMY);
    stored_as(&f, "31-01-2024 23:05", "2024-01-31 23:05");
    bad(&f, NULL, "31-01-2024", VALID_HARD, "datetime_dmy");
    f = text("t", VT_DATETIME_MDY);
    stored_as(&f, "01-31-2024 07:00", "2024-01-31 07:00");
    f = text("t", VT_DATETIME_SECONDS_MDY);
    stored_as(&f, "01-31-2024 07:00:09", "2024-01-31 07:00:09");
    bad(&f, NULL, "01-31-2024 07:00", VALID_HARD, "datetime_seconds_mdy");
    f = text("t", VT_DATETIME_SECONDS_DMY);
    stored_as(&f, "2024-01-31 07:00:09", "2024-01-31 07:00:09");

    /* min/max as REDCap's dictionary writes them (ISO) or in the field's order */
    double v;
    assert_true(validate_parse_ordered(VT_DATE_DMY, "1900-01-01", &v));
    assert_true(validate_parse_ordered(VT_DATE_DMY, "01-01-1900", &v));
    f = text("d", VT_DATE_DMY);
    f.vmin = "2000-01-01";
    f.has_min = validate_parse_ordered(VT_DATE_DMY, f.vmin, &f.min_num);
    f.force_minmax = true;
    bad(&f, NULL, "31-12-1999", VALID_HARD, "min");
    ok(&f, NULL, "01-01-2000");
}

/* The form shows a stored ISO date of a _mdy / _dmy field in the field's order, and entering
 * what it shows stores the same ISO date again; other types, and text not in the stored form
 * (what a refused save sends back), are shown as they are. */
static void test_mdy_dmy_dates_are_shown_in_their_order(void **state)
{
    (void)state;
    char out[32];
    static const struct {
        enum val_type t;
        const char *stored, *shown;
    } cases[] = {
        {VT_DATE_MDY, "2024-02-29", "02-29-2024"},
        {VT_DATE_DMY, "2024-02-29", "29-02-2024"},
        {VT_DATETIME_MDY, "2024-01-31 07:05", "01-31-2024 07:05"},
        {VT_DATETIME_DMY, "2024-01-31 23:05", "31-01-2024 23:05"},
        {VT_DATETIME_SECONDS_MDY, "2024-01-31 07:00:09", "01-31-2024 07:00:09"},
        {VT_DATETIME_SECONDS_DMY, "1999-12-31 23:59:59", "31-12-1999 23:59:59"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(validate_display(cases[i].t, cases[i].stored, out, sizeof out));
        assert_string_equal(out, cases[i].shown);
        struct dict_field f = text("d", cases[i].t);
        stored_as(&f, out, cases[i].stored); /* what is shown goes back unchanged */
    }
    assert_false(validate_display(VT_DATE_YMD, "2024-02-29", out, sizeof out));
    assert_false(validate_display(VT_NONE, "2024-02-29", out, sizeof out));
    assert_false(validate_display(VT_DATE_MDY, "02-29-2024", out, sizeof out)); /* as typed */
    assert_false(validate_display(VT_DATE_MDY, "2023-02-29", out, sizeof out)); /* no such day */
    assert_false(validate_display(VT_DATETIME_MDY, "2024-01-31", out, sizeof out));
    assert_false(validate_display(VT_DATE_DMY, "2024-02-29", out, 10)); /* no room */

    assert_string_equal(validate_entry_shape(VT_DATE_YMD), "YYYY-MM-DD");
    assert_string_equal(validate_entry_shape(VT_DATE_MDY), "MM-DD-YYYY");
    assert_string_equal(validate_entry_shape(VT_DATETIME_DMY), "DD-MM-YYYY HH:MM");
    assert_string_equal(validate_entry_shape(VT_DATETIME_SECONDS_MDY), "MM-DD-YYYY HH:MM:SS");
    assert_string_equal(validate_entry_shape(VT_DATETIME_SECONDS_YMD), "YYYY-MM-DD HH:MM:SS");
    assert_string_equal(validate_entry_shape(VT_TIME), "HH:MM");
    assert_string_equal(validate_entry_shape(VT_TIME_MM_SS), "MM:SS");
    assert_null(validate_entry_shape(VT_INTEGER));
}

static void test_comma_decimals_and_hh_mm_ss(void **state)
{
    (void)state;
    struct validate_result r;
    struct dict_field f = text("h", VT_NUMBER_COMMA);
    stored_as(&f, "1,54", "1,54"); /* stored as written, as REDCap does */
    ok(&f, NULL, "-3");
    r = bad(&f, NULL, "1.54", VALID_HARD, "number_comma_decimal");
    assert_string_equal(r.msg, "field 'h': '1.54' is not a number with a decimal comma");
    f.vmax = "3";
    f.has_max = validate_parse_ordered(VT_NUMBER_COMMA, f.vmax, &f.max_num);
    bad(&f, NULL, "3,01", VALID_SOFT, "max");
    ok(&f, NULL, "2,99");

    f = text("w", VT_NUMBER_2DP_COMMA);
    ok(&f, NULL, "52,31");
    r = bad(&f, NULL, "52,312", VALID_HARD, "decimals");
    assert_string_equal(r.msg, "field 'w': '52,312' has 3 decimal places, number_2dp_comma_decimal "
                               "allows 2");

    f = text("s", VT_TIME_HH_MM_SS);
    ok(&f, NULL, "23:59:59");
    bad(&f, NULL, "23:59", VALID_HARD, "time_hh_mm_ss");
    bad(&f, NULL, "24:00:00", VALID_HARD, "time_hh_mm_ss");
    double v;
    assert_true(validate_parse_ordered(VT_TIME_HH_MM_SS, "01:02:03", &v));
    assert_true(v == 3723.0);

    /* logic reads a comma-decimal number as the number (REDCap's calcs do), other text as it is */
    struct expr_value x;
    f = text("w", VT_NUMBER_2DP_COMMA);
    validate_logic_value(&f, "52,31", &x);
    assert_int_equal(x.kind, EV_NUM);
    assert_true(x.num == 52.31);
    validate_logic_value(&f, "52", &x); /* no comma: the text, which logic reads as 52 */
    assert_int_equal(x.kind, EV_STR);
    assert_string_equal(x.str, "52");
    f = text("t", VT_NONE);
    validate_logic_value(&f, "1,5", &x); /* a text field's comma is text */
    assert_int_equal(x.kind, EV_STR);
    assert_string_equal(x.str, "1,5");
    validate_logic_value(NULL, "2,5", &x);
    assert_int_equal(x.kind, EV_STR);
}

/* The identifier types of REDCap's built-in list; the shapes are REDCap's documented ones. */
static void test_identifier_and_postal_types(void **state)
{
    (void)state;
    struct {
        enum val_type t;
        const char *good, *bad;
    } cases[] = {
        {VT_SSN, "123-45-6789", "123456789"},
        {VT_POSTALCODE_AUSTRALIA, "2000", "20000"},
        {VT_POSTALCODE_CANADA, "K1A 0B1", "K1A 0B"},
        {VT_POSTALCODE_FRENCH, "75001", "750"},
        {VT_POSTALCODE_FRENCH, "1234", "99999"}, /* 01234 without its 0; no département 99 */
        {VT_POSTALCODE_FRENCH, "01234", "00123"},
        {VT_POSTALCODE_GERMANY, "10115", "1011A"},
        {VT_PHONE_AUSTRALIA, "(02) 9876 5432", "+61 2 9876 5432"},
        {VT_PHONE_AUSTRALIA, "0412 345 678", "0112 345 678"},
        {VT_MRN_10D, "0123456789", "012345678"},
        {VT_MRN_GENERIC, "AB-12_3", "AB 12"},
        {VT_VMRN, "1234", "123"},
        {VT_VMRN, "123456789", "1234567890"},
        /* UK postcodes of each outward shape (Royal Mail's examples), GIR 0AA, case either */
        {VT_POSTALCODE_UK, "M1 1AA", "M1 1A"},
        {VT_POSTALCODE_UK, "m60 1nw", "M60 11W"},
        {VT_POSTALCODE_UK, "CR2 6XH", "CR2 6X1"},
        {VT_POSTALCODE_UK, "DN55 1PT", "DN555 1PT"},
        {VT_POSTALCODE_UK, "W1A 1HQ", "1WA 1HQ"},
        {VT_POSTALCODE_UK, "EC1A1BB", "EC1A 1BBB"},
        {VT_POSTALCODE_UK, "GIR 0AA", "GIR 1AA"},
        /* 0 and 10 digits, or +44 and 10 (the 0 dropped); Ofcom's drama numbers */
        {VT_PHONE_UK, "020 7946 0958", "020 7946 095"},
        {VT_PHONE_UK, "+44 20 7946 0958", "+44 020 7946 0958"},
        {VT_PHONE_UK, "(01632) 960983", "+33 1632 960983"},
        /* 0 and 9 digits, or +33 and 9 */
        {VT_PHONE_FRANCE, "01 23 45 67 89", "01 23 45 67 8"},
        {VT_PHONE_FRANCE, "+33 1 23 45 67 89", "+33 01 23 45 67 89"},
        {VT_PHONE_FRANCE, "06.12.34.56.78", "00 12 34 56 78"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dict_field f = text("x", cases[i].t);
        ok(&f, NULL, cases[i].good);
        bad(&f, NULL, cases[i].bad, VALID_HARD, dict_val_type_name(cases[i].t));
    }
}

static void test_slider_ends_come_from_min_and_max(void **state)
{
    (void)state;
    struct dict_field f = typed(FT_SLIDER, NULL, 0);
    ok(&f, NULL, "100");
    bad(&f, NULL, "101", VALID_HARD, "max");
    f.has_min = f.has_max = true;
    f.min_num = -1;
    f.max_num = 101;
    ok(&f, NULL, "-1");
    ok(&f, NULL, "101");
    struct validate_result r = bad(&f, NULL, "102", VALID_HARD, "max");
    assert_string_equal(r.msg, "field 'f': slider value 102 is outside -1 to 101");
}

static void test_email_phone_alpha_zip(void **state)
{
    (void)state;
    struct dict_field f = text("e", VT_EMAIL);
    ok(&f, NULL, "a.b@example.org");
    struct validate_result r = bad(&f, NULL, "ab@example", VALID_HARD, "email");
    assert_string_equal(r.msg, "field 'e': 'ab@example' is not an e-mail address");
    bad(&f, NULL, "a b@example.org", VALID_HARD, "email");
    bad(&f, NULL, "@example.org", VALID_HARD, "email");
    bad(&f, NULL, "a@@example.org", VALID_HARD, "email");
    f = text("p", VT_PHONE);
    ok(&f, NULL, "+86 10 1234 5678");
    ok(&f, NULL, "(615) 555-0100");
    bad(&f, NULL, "123", VALID_HARD, "phone");
    bad(&f, NULL, "12ab3456789", VALID_HARD, "phone");
    f = text("a", VT_ALPHA_ONLY);
    ok(&f, NULL, "Abc");
    bad(&f, NULL, "ab1", VALID_HARD, "alpha_only");
    bad(&f, NULL, "a b", VALID_HARD, "alpha_only");
    f = text("z", VT_ZIPCODE);
    ok(&f, NULL, "12345");
    ok(&f, NULL, "12345-6789");
    bad(&f, NULL, "1234", VALID_HARD, "zipcode");
}

static void test_choices_and_checkboxes(void **state)
{
    (void)state;
    struct dict_field f = typed(FT_RADIO, sex_choices, 2);
    ok(&f, NULL, "2");
    struct validate_result r = bad(&f, NULL, "3", VALID_HARD, "choice");
    assert_string_equal(r.msg, "field 'f': '3' is not one of its choices");
    bad(&f, "1", "1", VALID_HARD, "checkbox"); /* an option code on a radio */
    f = typed(FT_YESNO, yn_choices, 2);
    ok(&f, NULL, "1");
    ok(&f, NULL, "0");
    bad(&f, NULL, "2", VALID_HARD, "choice");
    bad(&f, NULL, "yes", VALID_HARD, "choice");
    f = typed(FT_DROPDOWN, sex_choices, 2);
    ok(&f, NULL, " 1 ");

    f = typed(FT_CHECKBOX, dx_choices, 3);
    ok(&f, "99", "1");
    ok(&f, "1", "0");
    ok(&f, "2", "");
    r = bad(&f, "1", "2", VALID_HARD, "checkbox");
    assert_string_equal(r.msg, "field 'f': option '1' takes 0 or 1, not '2'");
    r = bad(&f, "9", "1", VALID_HARD, "choice");
    assert_string_equal(r.msg, "field 'f': checkbox has no option '9'");
    bad(&f, NULL, "1", VALID_HARD, "choice");
}

static void test_calc_and_descriptive_refuse_values(void **state)
{
    (void)state;
    struct dict_field f = typed(FT_CALC, NULL, 0);
    struct validate_result r = bad(&f, NULL, "5", VALID_HARD, "calc");
    assert_string_equal(r.msg, "field 'f': a calc field takes no value ('5' given)");
    ok(&f, NULL, "");
    f = typed(FT_DESCRIPTIVE, NULL, 0);
    bad(&f, NULL, "x", VALID_HARD, "calc");
    f = typed(FT_SLIDER, NULL, 0);
    ok(&f, NULL, "50");
    bad(&f, NULL, "101", VALID_HARD, "max");
    bad(&f, NULL, "5.5", VALID_HARD, "integer");
}

static void test_minmax_soft_and_hard(void **state)
{
    (void)state;
    struct dict_field f = text("weight_kg", VT_NUMBER_1DP);
    f.vmin = "30";
    f.vmax = "250";
    f.has_min = f.has_max = true;
    f.min_num = 30;
    f.max_num = 250;
    ok(&f, NULL, "30"); /* bounds are inclusive */
    ok(&f, NULL, "250");
    struct validate_result r = bad(&f, NULL, "25.5", VALID_SOFT, "min");
    assert_string_equal(r.msg, "field 'weight_kg': 25.5 is below the minimum 30 "
                               "(flagged for review)");
    assert_string_equal(r.canonical, "25.5"); /* soft: still saved */
    bad(&f, NULL, "250.1", VALID_SOFT, "max");

    struct dict_field sbp = text("sbp", VT_INTEGER);
    sbp.vmin = "40";
    sbp.vmax = "250";
    sbp.has_min = sbp.has_max = true;
    sbp.min_num = 40;
    sbp.max_num = 250;
    sbp.force_minmax = true;
    r = bad(&sbp, NULL, "300", VALID_HARD, "max");
    assert_string_equal(r.msg, "field 'sbp': 300 is above the maximum 250");
    bad(&sbp, NULL, "39", VALID_HARD, "min");
}

static void test_date_range_compared_as_dates(void **state)
{
    (void)state;
    struct dict_field f = text("scr_date", VT_DATE_YMD);
    f.vmin = "2024-01-01";
    f.vmax = "2030-12-31";
    f.has_min = f.has_max = true;
    f.min_num = 19723; /* 2024-01-01: 54*365 + 13 leap days since 1970-01-01 */
    f.max_num = 22279; /* 2030-12-31: 61*365 + 15 - 1 */
    ok(&f, NULL, "2024-01-01");
    ok(&f, NULL, "2030-12-31");
    bad(&f, NULL, "2023-12-31", VALID_SOFT, "min");
    bad(&f, NULL, "2031-01-01", VALID_SOFT, "max");
    double v;
    assert_true(validate_parse_ordered(VT_DATE_YMD, "2024-01-01", &v));
    assert_true(v == 19723);
    assert_true(validate_parse_ordered(VT_DATETIME_YMD, "1970-01-02 01:00", &v));
    assert_true(v == 90000); /* 86400 + 3600 */
    assert_true(validate_parse_ordered(VT_TIME, "01:30", &v));
    assert_true(v == 5400);
    assert_false(validate_parse_ordered(VT_EMAIL, "a@b.c", &v));
    assert_true(validate_type_is_ordered(VT_NUMBER_3DP));
    assert_false(validate_type_is_ordered(VT_PHONE));
}

/* A bound piped from another field: its value (as that field stores it) fitted to this field's
 * shape, then compared as the fixed bounds are. */
static void test_piped_bounds(void **state)
{
    (void)state;
    char out[32];
    /* a datetime's date for a date field; a date's midnight for a datetime field; a time's
     * seconds cut or added; anything else as it is */
    assert_true(validate_bound_fit(VT_DATE_MDY, "2026-01-05 10:30", out, sizeof out));
    assert_string_equal(out, "2026-01-05");
    assert_true(validate_bound_fit(VT_DATETIME_DMY, "2026-01-05", out, sizeof out));
    assert_string_equal(out, "2026-01-05 00:00");
    assert_true(validate_bound_fit(VT_DATETIME_SECONDS_YMD, "2026-01-05 10:30", out, sizeof out));
    assert_string_equal(out, "2026-01-05 10:30:00");
    assert_true(validate_bound_fit(VT_TIME, "10:30:59", out, sizeof out));
    assert_string_equal(out, "10:30");
    assert_true(validate_bound_fit(VT_TIME_HH_MM_SS, "10:30", out, sizeof out));
    assert_string_equal(out, "10:30:00");
    assert_true(validate_bound_fit(VT_INTEGER, "12.5", out, sizeof out));
    assert_string_equal(out, "12.5");
    assert_true(validate_bound_fit(VT_DATE_YMD, "2026", out, sizeof out));
    assert_string_equal(out, "2026"); /* no date: left as it is, and not a bound below */
    assert_false(validate_bound_fit(VT_DATE_YMD, "2026-01-05", out, 5));

    struct dict_field onset = text("onset", VT_DATE_MDY);
    onset.vmin = "[lmp]";
    onset.vmax = "[visit_dt]";
    struct validate_result r;
    assert_int_equal(validate_piped_bounds(&onset, "2026-01-05", "2026-01-05", "2026-02-01", &r),
                     VALID_OK); /* inclusive */
    assert_int_equal(validate_piped_bounds(&onset, "2026-01-04", "2026-01-05", NULL, &r),
                     VALID_SOFT);
    assert_string_equal(r.rule, "min");
    assert_string_equal(r.msg, "field 'onset': 2026-01-04 is below the minimum [lmp] (2026-01-05) "
                               "(flagged for review)");
    /* a datetime bound on a date field reads as its date: the same day is inside */
    assert_int_equal(validate_piped_bounds(&onset, "2026-02-01", NULL, "2026-02-01 08:00", &r),
                     VALID_OK);
    assert_int_equal(validate_piped_bounds(&onset, "2026-02-02", NULL, "2026-02-01 08:00", &r),
                     VALID_SOFT);
    assert_string_equal(r.msg, "field 'onset': 2026-02-02 is above the maximum [visit_dt] "
                               "(2026-02-01) (flagged for review)");
    /* blank bounds, a bound that is no date, a blank value: nothing to check */
    assert_int_equal(validate_piped_bounds(&onset, "1900-01-01", "", NULL, &r), VALID_OK);
    assert_int_equal(validate_piped_bounds(&onset, "1900-01-01", "soon", NULL, &r), VALID_OK);
    assert_int_equal(validate_piped_bounds(&onset, "", "2026-01-05", NULL, &r), VALID_OK);
    /* numbers; @FORCE-MINMAX refuses */
    struct dict_field dose = text("dose2", VT_NUMBER);
    dose.vmax = "[dose1]";
    dose.force_minmax = true;
    assert_int_equal(validate_piped_bounds(&dose, "10.5", NULL, "10", &r), VALID_HARD);
    assert_string_equal(r.msg, "field 'dose2': 10.5 is above the maximum [dose1] (10)");
    assert_int_equal(validate_piped_bounds(&dose, "9", NULL, "10", &r), VALID_OK);
    /* a date bound on a datetime field is its first minute */
    struct dict_field seen = text("seen", VT_DATETIME_YMD);
    seen.vmin = "[visit_dt]";
    assert_int_equal(validate_piped_bounds(&seen, "2026-02-01 00:00", "2026-02-01", NULL, &r),
                     VALID_OK);
    assert_int_equal(validate_piped_bounds(&seen, "2026-01-31 23:59", "2026-02-01", NULL, &r),
                     VALID_SOFT);
}

static void test_canonical_is_trimmed_and_length_limited(void **state)
{
    (void)state;
    struct dict_field f = text("n", VT_INTEGER);
    struct validate_result r;
    stored_as(&f, "  42 ", "42");
    f = text("notes", VT_NONE);
    f.type = FT_NOTES;
    /* REDCap's limit, 65,535 characters, is taken whole; one more is refused */
    static char big[VALIDATE_VALUE_MAX + 2];
    memset(big, 'a', VALIDATE_VALUE_MAX);
    big[VALIDATE_VALUE_MAX] = '\0';
    assert_int_equal(validate_value(&f, NULL, big, &r), VALID_OK);
    assert_int_equal(strlen(r.canonical), VALIDATE_VALUE_MAX);
    big[VALIDATE_VALUE_MAX] = 'a';
    big[VALIDATE_VALUE_MAX + 1] = '\0';
    bad(&f, NULL, big, VALID_HARD, "length");
    assert_int_equal(validate_value(&f, NULL, NULL, &r), VALID_OK);
    assert_string_equal(r.canonical, "");
    /* text that is not UTF-8 (a stray byte, a lone continuation byte, an overlong '/') is
     * refused whatever the field, and the message does not carry the bytes */
    static const char *const not_utf8[] = {"a\xff"
                                           "b",
                                           "\x80", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof not_utf8 / sizeof *not_utf8; i++) {
        r = bad(&f, NULL, not_utf8[i], VALID_HARD, "utf8");
        assert_non_null(strstr(r.msg, "notes"));
        assert_null(strchr(r.msg, '\xff'));
    }
    f = text("dose", VT_NUMBER);
    bad(&f, NULL, "1\xff", VALID_HARD, "utf8");
    /* nor a control character no export can carry (Word's line break, U+000B), named */
    f = text("notes", VT_NONE);
    r = bad(&f, NULL, "line one\x0bline two", VALID_HARD, "utf8");
    assert_non_null(strstr(r.msg, "U+000B"));
    assert_int_equal(validate_value(&f, NULL, "line one\r\nline two\tend", &r), VALID_OK);
    f = text("name", VT_NONE);
    assert_int_equal(validate_value(&f, NULL, "J\xc3\xbcrgen", &r), VALID_OK);
}

static void test_required(void **state)
{
    (void)state;
    struct dict_field f = text("consent_date", VT_DATE_YMD);
    struct validate_result r;
    assert_int_equal(validate_required(&f, "", &r), VALID_OK); /* not required */
    f.is_required = true;
    assert_int_equal(validate_required(&f, " ", &r), VALID_HARD);
    assert_string_equal(r.rule, "required");
    assert_string_equal(r.msg, "field 'consent_date' is required");
    assert_int_equal(validate_required(&f, NULL, &r), VALID_HARD);
    assert_int_equal(validate_required(&f, "2024-01-01", &r), VALID_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_and_numbers),
        cmocka_unit_test(test_dates_times),
        cmocka_unit_test(test_email_phone_alpha_zip),
        cmocka_unit_test(test_choices_and_checkboxes),
        cmocka_unit_test(test_calc_and_descriptive_refuse_values),
        cmocka_unit_test(test_minmax_soft_and_hard),
        cmocka_unit_test(test_date_range_compared_as_dates),
        cmocka_unit_test(test_canonical_is_trimmed_and_length_limited),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_mdy_dmy_dates_are_stored_as_iso),
        cmocka_unit_test(test_mdy_dmy_dates_are_shown_in_their_order),
        cmocka_unit_test(test_comma_decimals_and_hh_mm_ss),
        cmocka_unit_test(test_identifier_and_postal_types),
        cmocka_unit_test(test_slider_ends_come_from_min_and_max),
        cmocka_unit_test(test_piped_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
