/* The protocol's study-level files: study.csv (the study ID format, target enrolment and the
 * other keys), schedule.csv and sdv.csv (the SDV plan), each checked against the dictionary and
 * each mistake reported as the exact "file:line:column: message" a coordinator will read. The
 * dictionary, events and repeating forms are test_dict.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/dict.h"
#include "redcap_header.h"

/* study.csv's study_id_format: how enrolment names records (IOH-{site}-{seq:3} -> IOH-02-014),
 * and each malformed format refused with its reason. */
static void load_study(const char *study, struct dict *d, struct strbuf *all, int want)
{
    char csv[512];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER, "record_id,f,,text,ID,,,,,,,,,,,,,\n");
    const char *files[DICT_NFILES] = {csv, NULL, NULL, NULL, study, NULL};
    struct err e;
    err_clear(&e);
    size_t n = 0;
    strbuf_reset(all);
    assert_int_equal(dict_load_files(files, d, all, &n, &e), want);
}

static void test_study_id_format(void **state)
{
    (void)state;
    struct dict d;
    struct strbuf all = STRBUF_INIT;
    char id[16];
    load_study("key,value\nstudy_id_format,IOH-{site}-{seq:3}\n", &d, &all, 0);
    assert_true(dict_study_id_has_site(&d.study));
    assert_true(dict_study_id_format(&d.study, "02", 14, id));
    assert_string_equal(id, "IOH-02-014");
    assert_true(dict_study_id_format(&d.study, "02", 1234, id)); /* past the padding */
    assert_string_equal(id, "IOH-02-1234");
    assert_false(dict_study_id_format(&d.study, "LONGSITECODE", 1, id)); /* 20 characters */
    dict_free(&d);
    load_study("key,value\ntarget_enrolment,10\n", &d, &all, 0); /* the default */
    assert_false(dict_study_id_has_site(&d.study));
    assert_true(dict_study_id_format(&d.study, "", 7, id));
    assert_string_equal(id, "IOH-007");
    dict_free(&d);
    static const struct {
        const char *fmt, *why;
    } bad[] = {
        {"IOH {seq}", "a character other than a letter, digit, '-', '_' or a placeholder"},
        {"IOH-{seq:9}", "an unknown placeholder (known: {seq}, {seq:N} with N 1-6, {site})"},
        {"{seq}-{seq}", "not exactly one {seq}"},
        {"{site}{site}{seq}", "{site} more than once"},
        {"IOH-{seq", "a '{' without its '}'"},
        {"STUDYNAME-{seq:6}", "study IDs longer than 15 characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char study[128], want[256];
        snprintf(study, sizeof study, "key,value\nstudy_id_format,%s\n", bad[i].fmt);
        snprintf(want, sizeof want, "study.csv:2:2: study_id_format '%s': %s\n", bad[i].fmt,
                 bad[i].why);
        load_study(study, &d, &all, ERR_INVALID);
        assert_string_equal(strbuf_str(&all), want);
    }
    /* title: as written; empty refused */
    load_study("key,value\ntitle,\"IO infusion, haematology\"\n", &d, &all, 0);
    assert_string_equal(d.study.title, "IO infusion, haematology");
    dict_free(&d);
    load_study("key,value\ntitle,\n", &d, &all, ERR_INVALID);
    assert_string_equal(strbuf_str(&all), "study.csv:2:2: title: empty\n");
    /* country: ISO 3166-1 alpha-3, three capitals, or the load says which cell */
    load_study("key,value\ncountry,CHN\n", &d, &all, 0);
    assert_string_equal(d.study.country, "CHN");
    dict_free(&d);
    load_study("key,value\ntarget_enrolment,10\n", &d, &all, 0);
    assert_string_equal(d.study.country, "");
    dict_free(&d);
    static const char *const bad_country[] = {"China", "cn", "chn", "CN", "CHNA", ""};
    for (size_t i = 0; i < sizeof bad_country / sizeof bad_country[0]; i++) {
        char study[128], want[256];
        snprintf(study, sizeof study, "key,value\ncountry,%s\n", bad_country[i]);
        snprintf(want, sizeof want,
                 "study.csv:2:2: country '%s' is not an ISO 3166-1 alpha-3 code (three capital "
                 "letters, e.g. CHN, FRA, USA)\n",
                 bad_country[i]);
        load_study(study, &d, &all, ERR_INVALID);
        assert_string_equal(strbuf_str(&all), want);
    }
    strbuf_release(&all);
}

/* study.csv and schedule.csv: every problem reported as file:line:col, after the other files */
static void test_study_and_schedule_errors_name_file_line_and_column(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,f,,text,ID,,,,,,,,,,,,,\n"
             "start_dt,f,,text,Start,,,datetime_ymd,,,,,,,,,,\n"
             "start_d,f,,text,Day,,,date_ymd,,,,,,,,,,\n");
    const char *files[DICT_NFILES] = {
        csv,
        "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,"
        "custom_event_label\n"
        "T30,1,0,0,0,t30_arm_1,\n"
        "Day 2,1,2,0,0,day2_arm_1,\n",
        NULL,
        NULL,
        "key,value\n"
        "target_enrolment,0\n"
        "anchor_field,start_d\n"
        "anchor_rule,latest\n"
        "fallback_rule,earliest\n"
        "anchor_field,start_dt\n"
        "colour,blue\n"
        "study_id_format,IOH-{site}\n"
        "study_id_format,IOH {seq}\n",
        "unique_event_name,due_min,window_before_min,window_after_min\n"
        "t30_arm_1,30,-5,60\n"
        "t30_arm_1,30,0,60\n"
        "nosuch_arm_1,0,0,0\n"
        "day2_arm_1,,0,1.5\n"};
    struct dict d;
    struct err e;
    struct strbuf all = STRBUF_INIT;
    size_t n = 0;
    err_clear(&e);
    assert_int_equal(dict_load_files(files, &d, &all, &n, &e), ERR_INVALID);
    assert_string_equal(
        strbuf_str(&all),
        "study.csv:2:2: target_enrolment '0' is not a whole number of at least 1\n"
        "study.csv:3:2: field 'start_d' is a text field (validation date_ymd); an anchor is a "
        "text field validated as datetime_ymd or datetime_seconds_ymd\n"
        "study.csv:4:2: anchor_rule 'latest' is not one of: earliest, first_instance\n"
        "study.csv:5:1: fallback_rule without fallback_field\n"
        "study.csv:6:1: key 'anchor_field' given twice (first on line 3)\n"
        "study.csv:7:1: unknown key 'colour' (known: target_enrolment, anchor_field, "
        "anchor_rule, fallback_field, fallback_rule, study_id_format, country, title)\n"
        "study.csv:8:2: study_id_format 'IOH-{site}': not exactly one {seq}\n"
        "study.csv:9:1: key 'study_id_format' given twice (first on line 8)\n"
        "schedule.csv:2:3: window_before_min '-5' is not a whole number of minutes, 0 or more\n"
        "schedule.csv:3:1: event 't30_arm_1' scheduled twice (first on line 2)\n"
        "schedule.csv:4:1: unknown event 'nosuch_arm_1'\n"
        "schedule.csv:5:2: due_min '' is not a whole number of minutes\n"
        "schedule.csv:5:4: window_after_min '1.5' is not a whole number of minutes, 0 or more\n");
    assert_int_equal(n, 13);
    strbuf_release(&all);

    /* an unknown anchor field, a fallback without an anchor, a missing column */
    files[4] = "key,value\nfallback_field,nosuch\n";
    files[5] = "unique_event_name,due_min,window_before_min\n";
    err_clear(&e);
    assert_int_equal(dict_load_files(files, &d, NULL, NULL, &e), ERR_INVALID);
    assert_string_equal(e.msg, "study.csv:2:1: fallback_field without anchor_field\n"
                               "study.csv:2:2: unknown field 'nosuch'\n"
                               "schedule.csv:1: missing column 'window_after_min'");
}

/* sdv.csv, the SDV plan: rows checked against the dictionary; a field's row overrides its
 * form's; the sample is fixed by the record's name (FNV-1a, worked out below by hand). */
static void test_sdv_plan_rates_and_sample(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,f,,text,ID,,,,,,,,,,,,,\n"
             "a,f,,text,A,,,,,,,,,,,,,\n"
             "b,f,,text,B,,,,,,,,,,,,,\n"
             "c,f,,calc,C,[a] + 1,,,,,,,,,,,,\n"
             "x,g,,text,X,,,,,,,,,,,,,\n");
    const char *files[DICT_NFILES] = {csv,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      "form,field,rate,why\n"
                                      "f,,0.25,a quarter\n"
                                      "f,b,1,every record\n"
                                      "h,,1,no such form\n"
                                      "g,a,1,wrong form\n"
                                      "f,c,1,a calc\n"
                                      "g,,2,too much\n"
                                      "f,,1,twice\n"};
    struct dict d;
    struct err e;
    struct strbuf all = STRBUF_INIT;
    err_clear(&e);
    assert_int_equal(dict_load_files(files, &d, &all, NULL, &e), ERR_INVALID);
    assert_string_equal(strbuf_str(&all),
                        "sdv.csv:4:1: unknown form 'h'\n"
                        "sdv.csv:5:2: field 'a' is not on form 'g'\n"
                        "sdv.csv:6:2: field 'c' is a calc field: nothing to verify against source\n"
                        "sdv.csv:7:3: rate '2' is not a share of records above 0 and at most 1 "
                        "(1: every record, 0.2: a fifth)\n"
                        "sdv.csv:8:1: form 'f' is planned twice\n");
    strbuf_release(&all);
    files[6] = "form,field,rate,why\nf,,0.25,a quarter\nf,b,1,every record\n";
    err_clear(&e);
    assert_int_equal(dict_load_files(files, &d, NULL, NULL, &e), 0);
    assert_int_equal(d.nsdv, 2);
    assert_true(dict_sdv_rate(&d, dict_field(&d, "a")) == 0.25);
    assert_true(dict_sdv_rate(&d, dict_field(&d, "b")) == 1); /* the field's row wins */
    assert_true(dict_sdv_rate(&d, dict_field(&d, "c")) == 0); /* calcs never */
    assert_true(dict_sdv_rate(&d, dict_field(&d, "x")) == 0); /* form g not planned */
    dict_free(&d);
    /* FNV-1a of "A": (2166136261 ^ 65) * 16777619 mod 2^32 = 3289118412; mod 10000 = 8412:
     * in a sample of 0.85 (8500), not in one of 0.84 (8400) */
    assert_true(dict_sdv_selected(0.85, "A"));
    assert_false(dict_sdv_selected(0.84, "A"));
    assert_true(dict_sdv_selected(1, "A"));
    assert_false(dict_sdv_selected(0, "A"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_id_format),
        cmocka_unit_test(test_study_and_schedule_errors_name_file_line_and_column),
        cmocka_unit_test(test_sdv_plan_rates_and_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
