/* The visit schedule (core/schedule.h): wall-clock parsing and printing, the anchor picked by
 * each rule, due times and windows from schedule.csv and from events.csv's days, and the
 * defaults of a protocol without study.csv / schedule.csv. Every expected time is worked out by
 * hand in the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/schedule.h"
#include "redcap_header.h"

static const char FIELDS[] = "record_id,proc,,text,ID,,,,,,,,,,,,,\n"
                             "decision_dt,proc,,text,Decision,,,datetime_seconds_ymd,,,,,,,,,,\n"
                             "start_dt,proc,,text,Puncture,,,datetime_ymd,,,,,,,,,,\n"
                             "start_d,proc,,text,Day,,,date_ymd,,,,,,,,,,\n"
                             "sbp,vitals,,text,SBP,,,integer,,,,,,,,,,\n";

static const char EVENTS[] =
    "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,custom_event_label\n"
    "Screening,1,0,0,0,screening_arm_1,\n"
    "Procedure,1,0,0,0,proc_arm_1,\n"
    "30 min,1,0,0,0,t30min_arm_1,\n"
    "Day 2,1,2,1,1,day2_arm_1,\n";

static const char STUDY[] = "key,value\n"
                            "target_enrolment,10\n"
                            "anchor_field,start_dt\n"
                            "anchor_rule,earliest\n"
                            "fallback_field,decision_dt\n"
                            "fallback_rule,first_instance\n";

static const char SCHEDULE[] = "unique_event_name,due_min,window_before_min,window_after_min\n"
                               "t30min_arm_1,30,5,60\n";

/* Loads the test protocol with the given study.csv and schedule.csv (NULL: absent). */
static void load(struct dict *d, const char *events, const char *study, const char *schedule)
{
    char dictionary[2048];
    snprintf(dictionary, sizeof dictionary, "%s%s", REDCAP_HEADER, FIELDS);
    const char *files[DICT_NFILES] = {dictionary, events, NULL, NULL, study, schedule};
    struct err e;
    err_clear(&e);
    if (dict_load_files(files, d, NULL, NULL, &e))
        fail_msg("%s", e.msg);
}

static long long wc(const char *s)
{
    long long t = -1;
    if (schedule_parse_wallclock(s, &t))
        fail_msg("'%s' did not parse", s);
    return t;
}

static void assert_wallclock(long long t_s, const char *want)
{
    char buf[SCHEDULE_WALLCLOCK_LEN];
    schedule_format_wallclock(t_s, buf);
    assert_string_equal(buf, want);
}

/* One event's due time and window, each as a wall-clock string worked out in the test. */
static void assert_due(const struct schedule_due *due, const char *start, const char *at,
                       const char *end)
{
    assert_int_equal(due->window_start_s, wc(start));
    assert_int_equal(due->due_s, wc(at));
    assert_int_equal(due->window_end_s, wc(end));
}

static void test_wallclock_reads_calendar_dates_without_a_time_zone(void **state)
{
    (void)state;
    /* 1970-01-01 .. 2024-01-01: 54 years, 13 of them leap (1972 .. 2020) = 19723 days; Feb 29
     * is 31 + 28 days later = day 19782; 19782 * 86400 = 1709164800, + 23:59:30 = 86370 s */
    assert_int_equal(wc("2024-02-29 23:59:30"), 1709251170LL);
    assert_int_equal(wc("2024-02-29 23:59"), 1709251140LL);
    assert_int_equal(wc("1970-01-01 00:00"), 0);
    long long t = 7;
    const char *bad[] = {"2023-02-29 10:00",    "2024-01-01",
                         "2024-01-01 24:00",    "2024-01-01T10:00",
                         "2024-1-01 10:00",     "2024-04-31 10:00",
                         "2024-01-01 10:60",    "2024-01-01 10:00:5",
                         "2024-01-01 10:00 ",   "",
                         "2024-01-01 10:00:60", "2024-13-01 10:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(schedule_parse_wallclock(bad[i], &t), -1);
        assert_int_equal(t, 7);
    }
    assert_wallclock(1709251170LL, "2024-02-29 23:59");
    assert_wallclock(1709251200LL, "2024-03-01 00:00"); /* 30 s later, the next day */
    assert_wallclock(-60, "1969-12-31 23:59");
}

static void test_earliest_anchor_gives_due_times_and_windows(void **state)
{
    (void)state;
    struct dict d;
    load(&d, EVENTS, STUDY, SCHEDULE);
    assert_int_equal(d.study.target_enrolment, 10);
    struct schedule_anchors a = {0};
    /* attempts in any order; the earliest puncture (instance 2, 08:40) anchors, the
     * unreadable value and other fields are ignored */
    schedule_anchors_offer(&d, &a, "start_dt", 1, 1, "2024-03-10 08:55");
    schedule_anchors_offer(&d, &a, "start_dt", 1, 2, "2024-03-10 08:40");
    schedule_anchors_offer(&d, &a, "start_dt", 1, 3, "soon");
    schedule_anchors_offer(&d, &a, "sbp", 1, 0, "2024-03-01 00:00");
    schedule_anchors_offer(&d, &a, "decision_dt", 1, 1, "2024-03-10 08:00:00");
    struct schedule_due due[4];
    enum schedule_source src = SCHEDULE_FROM_ENROLMENT;
    assert_int_equal(schedule_due(&d, &a, wc("2024-03-09 12:00"), due, &src), 0);
    assert_int_equal(src, SCHEDULE_FROM_ANCHOR);
    assert_int_equal(a.anchor.instance, 2);
    /* Procedure: events.csv day 0, window 0 before, (0 + 1) days after */
    assert_due(&due[1], "2024-03-10 08:40", "2024-03-10 08:40", "2024-03-11 08:40");
    /* 30 min: schedule.csv 30 min, window 5 before and 60 after: 09:05 .. 09:10 .. 10:10 */
    assert_due(&due[2], "2024-03-10 09:05", "2024-03-10 09:10", "2024-03-10 10:10");
    /* Day 2: day 2 (1 day before, 1 + 1 days after): 03-11 08:40 .. 03-12 08:40 .. 03-14 */
    assert_due(&due[3], "2024-03-11 08:40", "2024-03-12 08:40", "2024-03-14 08:40");
    dict_free(&d);
}

static void test_fallback_first_instance_then_enrolment(void **state)
{
    (void)state;
    struct dict d;
    load(&d, EVENTS, STUDY, SCHEDULE);
    struct schedule_anchors a = {0};
    /* no puncture yet: the decision of instance 1 (07:30:15) anchors, though instance 2's is
     * earlier */
    schedule_anchors_offer(&d, &a, "decision_dt", 1, 2, "2024-03-10 07:00:00");
    schedule_anchors_offer(&d, &a, "decision_dt", 1, 1, "2024-03-10 07:30:15");
    struct schedule_due due[4];
    enum schedule_source src = SCHEDULE_FROM_ANCHOR;
    assert_int_equal(schedule_due(&d, &a, wc("2024-03-09 12:00"), due, &src), 0);
    assert_int_equal(src, SCHEDULE_FROM_FALLBACK);
    assert_int_equal(due[2].due_s, wc("2024-03-10 08:00:15")); /* 07:30:15 + 30 min */
    assert_wallclock(due[2].due_s, "2024-03-10 08:00");

    /* nothing recorded: the enrolment time; not enrolled either: no schedule */
    struct schedule_anchors none = {0};
    assert_int_equal(schedule_due(&d, &none, wc("2024-03-09 12:00"), due, &src), 0);
    assert_int_equal(src, SCHEDULE_FROM_ENROLMENT);
    assert_int_equal(due[2].due_s, wc("2024-03-09 12:30"));
    assert_int_equal(due[3].due_s, wc("2024-03-11 12:00"));
    due[2].due_s = 42;
    assert_int_equal(schedule_due(&d, &none, -1, due, NULL), -1);
    assert_int_equal(due[2].due_s, 42);
    dict_free(&d);
}

/* A second study is a new folder: another anchor, target and offsets, no C change. */
static void test_other_protocol_files_change_the_schedule(void **state)
{
    (void)state;
    struct dict d;
    load(&d, EVENTS, "key,value\ntarget_enrolment,120\nanchor_field,decision_dt\n",
         "unique_event_name,due_min,window_before_min,window_after_min\n"
         "t30min_arm_1,45,0,15\n"
         "day2_arm_1,-90,0,0\n");
    assert_int_equal(d.study.target_enrolment, 120);
    assert_null(d.study.fallback.field);
    struct schedule_anchors a = {0};
    schedule_anchors_offer(&d, &a, "start_dt", 1, 1, "2024-03-10 08:40");
    schedule_anchors_offer(&d, &a, "decision_dt", 1, 2, "2024-03-10 07:00:00");
    schedule_anchors_offer(&d, &a, "decision_dt", 1, 1, "2024-03-10 07:30:15");
    struct schedule_due due[4];
    assert_int_equal(schedule_due(&d, &a, -1, due, NULL), 0);
    /* earliest decision 07:00:00; + 45 min = 07:45, window to 08:00 */
    assert_due(&due[2], "2024-03-10 07:45", "2024-03-10 07:45", "2024-03-10 08:00");
    /* 90 min before the anchor, no window */
    assert_due(&due[3], "2024-03-10 05:30", "2024-03-10 05:30", "2024-03-10 05:30");
    dict_free(&d);
}

/* Databases created before study.csv and schedule.csv: the facts the engine had built in. */
static void test_without_the_files_the_old_defaults_hold(void **state)
{
    (void)state;
    static const char fields[] =
        "record_id,proc,,text,ID,,,,,,,,,,,,,\n"
        "iop_decision_dt,proc,,text,Decision,,,datetime_seconds_ymd,,,,,,,,,,\n"
        "att_start_dt,proc,,text,Puncture,,,datetime_seconds_ymd,,,,,,,,,,\n";
    static const char events[] =
        "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,custom_event_label\n"
        "15 min,1,0,0,0,t15min_arm_1,\n"
        "6 h,1,0,0,0,t6h_arm_1,\n"
        "Day 7,1,7,1,1,day7_arm_1,\n";
    char dictionary[1024];
    snprintf(dictionary, sizeof dictionary, "%s%s", REDCAP_HEADER, fields);
    struct dict d;
    struct err e;
    err_clear(&e);
    assert_int_equal(dict_load_mem(dictionary, events, NULL, NULL, &d, &e), 0);
    assert_false(d.study.has_file);
    assert_int_equal(d.study.target_enrolment, 52);
    assert_string_equal(d.study.anchor.field->name, "att_start_dt");
    assert_int_equal(d.study.anchor.rule, DICT_ANCHOR_EARLIEST);
    assert_string_equal(d.study.fallback.field->name, "iop_decision_dt");
    assert_int_equal(d.study.fallback.rule, DICT_ANCHOR_FIRST_INSTANCE);
    /* 15 min; 6 h = 360 min; day 7 = 7 * 1440 = 10080 min, after (1 + 1) * 1440 = 2880 */
    assert_int_equal(d.events[0].due_min, 15);
    assert_int_equal(d.events[0].window_after_min, 1440);
    assert_int_equal(d.events[1].due_min, 360);
    assert_int_equal(d.events[2].due_min, 10080);
    assert_int_equal(d.events[2].window_before_min, 1440);
    assert_int_equal(d.events[2].window_after_min, 2880);
    dict_free(&d);

    /* the same events with a schedule.csv: names mean nothing, events.csv's days hold */
    load(&d, events, NULL, "unique_event_name,due_min,window_before_min,window_after_min\n");
    assert_int_equal(d.events[0].due_min, 0);
    assert_int_equal(d.events[1].due_min, 0);
    assert_int_equal(d.events[2].due_min, 10080);
    /* and FIELDS has no att_start_dt / iop_decision_dt: no anchor, enrolment time */
    assert_null(d.study.anchor.field);
    assert_null(d.study.fallback.field);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallclock_reads_calendar_dates_without_a_time_zone),
        cmocka_unit_test(test_earliest_anchor_gives_due_times_and_windows),
        cmocka_unit_test(test_fallback_first_instance_then_enrolment),
        cmocka_unit_test(test_other_protocol_files_change_the_schedule),
        cmocka_unit_test(test_without_the_files_the_old_defaults_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
