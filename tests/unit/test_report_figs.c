/* Tests for report/report_figs: what the report's figures say, read from the strings they hand
 * to cairo (the build links this test with -Wl,--wrap=cairo_show_text, so every string drawn
 * is recorded in order before it is drawn). Titles carry no "SAP §" (the HTML caption cites the
 * plan); the Kaplan–Meier axis reaches the last follow-up time and its day-28 and day-90 lines
 * are labelled; each forest row says which side favours which group, the other way round for
 * the hazard ratio of death than for the odds ratio of success; the enrolment axis is labelled
 * with dates, not day numbers. The results document is written here by hand. */
/* cmocka needs these first, in this order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <cairo.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"
#include "report/report_figs.h"

/* fontconfig's configuration stays allocated for the process (see tests/unit/test_figure.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

#define MAX_DRAWN 2000
static char *drawn[MAX_DRAWN];
static size_t ndrawn;

void __real_cairo_show_text(cairo_t *cr, const char *utf8);
void __wrap_cairo_show_text(cairo_t *cr, const char *utf8);
void __wrap_cairo_show_text(cairo_t *cr, const char *utf8)
{
    if (ndrawn < MAX_DRAWN)
        drawn[ndrawn++] = strdup(utf8);
    __real_cairo_show_text(cr, utf8);
}

static void forget_drawn(void)
{
    for (size_t i = 0; i < ndrawn; i++)
        free(drawn[i]);
    ndrawn = 0;
}

/* The index of the first string drawn equal to s at or after from, or -1. */
static long find_drawn(const char *s, size_t from)
{
    for (size_t i = from; i < ndrawn; i++)
        if (drawn[i] && strcmp(drawn[i], s) == 0)
            return (long)i;
    return -1;
}

/* The index of the first string drawn that starts with prefix (a figure's title, whatever
 * follows it), or -1. */
static long find_title(const char *prefix)
{
    for (size_t i = 0; i < ndrawn; i++)
        if (drawn[i] && strncmp(drawn[i], prefix, strlen(prefix)) == 0)
            return (long)i;
    return -1;
}

/* A results document with every figure's data: a follow-up that runs to day 95.5 (past the
 * SAP's 90, so the axis must follow it), two subgroups and two years of enrolment. */
static json_t *results(void)
{
    json_t *r = json_pack(
        "{s:{s:i, s:i, s:i, s:i, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:i},"
        "    s:{s:s, s:[f, f, f, f, f, f]}},"
        " s:{s:{s:{s:[f, f, f, f], s:[f, f, f, f], s:[f, f, f, f], s:[f, f, f, f],"
        "           s:[i, i, i, i]},"
        "       s:[{s:i}, {s:i}, {s:i}, {s:i}, {s:i}, {s:i}, {s:i}]}},"
        " s:[{s:s, s:s, s:s, s:{s:{s:f, s:[f, f], s:f}}, s:{s:{s:f, s:[f, f], s:f}}},"
        "    {s:s, s:s, s:s, s:{s:{s:f, s:[f, f], s:f}}, s:{s:{s:f, s:[f, f], s:f}}}]}",
        "status", "screened", 10, "eligible", 8, "enrolled", 8, "fas", 8, "target", 52,
        "reasons_first", "inclusion_not_met", 1, "exclusion_met", 1, "consent_refused", 0,
        "screening_incomplete", 0, "consent_not_recorded", 0, "no_io_attempt", 0, "enrolment",
        "start_date", "2025-03-05", "days", 0.0, 7.0, 100.0, 300.0, 500.0, 650.0, "primary",
        "overall_survival", "curve", "time", 3.0, 20.0, 60.0, 95.5, "surv", 0.875, 0.75, 0.625,
        0.625, "lower", 0.6, 0.5, 0.4, 0.4, "upper", 1.0, 1.0, 0.9, 0.9, "n_censor", 0, 0, 0, 5,
        "at_risk", "n_risk", 8, "n_risk", 7, "n_risk", 6, "n_risk", 6, "n_risk", 6, "n_risk", 5,
        "n_risk", 5, "subgroups", "label", "Platelets", "level_1", "< 20", "level_0", "≥ 20",
        "first_attempt_success", "fisher", "odds_ratio", 0.5, "conf_int", 0.1, 2.5, "p_value", 0.4,
        "survival", "cox", "hr", 2.0, "conf_int", 0.8, 5.0, "p_value", 0.1, "label", "Septic shock",
        "level_1", "yes", "level_0", "no", "first_attempt_success", "fisher", "odds_ratio", 1.5,
        "conf_int", 0.3, 7.0, "p_value", 0.7, "survival", "cox", "hr", 0.7, "conf_int", 0.3, 1.6,
        "p_value", 0.4);
    assert_non_null(r);
    /* the trajectories: one time point with a MAP and a lactate */
    json_t *tp = json_pack("[{s:s, s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}}]", "timepoint", "T0",
                           "map", "median", 60.0, "q1", 55.0, "q3", 66.0, "lactate", "median", 3.0,
                           "q1", 2.0, "q3", 4.5);
    json_object_set_new(r, "secondary", json_pack("{s:{s:o}}", "haemodynamics", "timepoints", tp));
    return r;
}

static void draw_all(void)
{
    struct report_fig figs[REPORT_MAX_FIGS];
    size_t n = 0;
    struct err e = {0};
    json_t *r = results();
    forget_drawn();
    if (report_figs_make(r, NULL, figs, &n, &e) != 0)
        fail_msg("report_figs_make: %s", e.msg);
    assert_int_equal(n, 6);
    report_figs_free(figs, n);
    json_decref(r);
}

static void test_titles_do_not_cite_the_plan(void **state)
{
    (void)state;
    draw_all();
    static const char *const titles[] = {"Study flow",       "Enrolment",
                                         "Overall survival", "Mean arterial pressure",
                                         "Lactate",          "Subgroups"};
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (find_drawn(titles[i], 0) < 0)
            fail_msg("title \"%s\" not drawn", titles[i]);
    for (size_t i = 0; i < ndrawn; i++)
        if (strstr(drawn[i], "SAP") || strstr(drawn[i], "§"))
            fail_msg("figure text \"%s\" cites the plan; the caption does", drawn[i]);
}

static void test_km_axis_reaches_follow_up_and_guides_are_labelled(void **state)
{
    (void)state;
    draw_all();
    long km = find_title("Overall survival");
    assert_true(km >= 0);
    /* the labels of the day-28 and day-90 lines, and an axis label at day 96: the last
     * follow-up (95.5) rounded up, past the SAP's 90 */
    assert_true(find_drawn("Day 28", (size_t)km) > km);
    assert_true(find_drawn("Day 90", (size_t)km) > km);
    long end = find_drawn("96", (size_t)km);
    long risk = find_drawn("Number at risk", (size_t)km);
    assert_true(end > km && end < risk);
    assert_true(find_drawn("84", (size_t)km) < end); /* the last 14-day tick comes before it */
}

static void test_forest_rows_say_which_side_favours_whom(void **state)
{
    (void)state;
    draw_all();
    /* Odds ratio of success > 1: more successes in the first group, so the first group is on
     * the right; hazard ratio of death < 1: fewer deaths in the first group, on the left. */
    long h = find_title("Platelets: < 20 vs ≥ 20");
    assert_true(h >= 0);
    long or_row = find_drawn("First-attempt success, odds ratio", (size_t)h);
    long hr_row = find_drawn("Overall survival, hazard ratio", (size_t)h);
    assert_true(h < or_row && or_row < hr_row);
    long or_left = find_drawn("◂ favours ≥ 20", (size_t)or_row);
    long or_right = find_drawn("favours < 20 ▸", (size_t)or_row);
    assert_true(or_left > or_row && or_left < hr_row && or_right > or_row && or_right < hr_row);
    long hr_left = find_drawn("◂ favours < 20", (size_t)hr_row);
    long hr_right = find_drawn("favours ≥ 20 ▸", (size_t)hr_row);
    long next = find_drawn("Septic shock: yes vs no", (size_t)hr_row);
    assert_true(hr_left > hr_row && hr_left < next && hr_right > hr_row && hr_right < next);
    /* a yes/no subgroup names the condition */
    long s_or = find_drawn("First-attempt success, odds ratio", (size_t)next);
    assert_true(find_drawn("favours septic shock ▸", (size_t)s_or) > s_or);
    assert_true(find_drawn("◂ favours no septic shock", (size_t)s_or) > s_or);
}

static void test_enrolment_axis_is_labelled_with_dates(void **state)
{
    (void)state;
    draw_all();
    long from = find_title("Enrolment"), to = find_title("Overall survival");
    assert_true(from >= 0 && to > from);
    regex_t date, number;
    assert_int_equal(regcomp(&date, "^20[0-9]{2}-(0[1-9]|1[0-2])-01$", REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regcomp(&number, "^[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
    int dates = 0;
    for (long i = from; i < to; i++) {
        dates += regexec(&date, drawn[i], 0, NULL, 0) == 0;
        /* a bare number is a y-axis count (0–60 here), never a day number on the x axis */
        if (regexec(&number, drawn[i], 0, NULL, 0) == 0 && atoi(drawn[i]) > 60)
            fail_msg("enrolment figure draws \"%s\", a day number", drawn[i]);
    }
    /* 2025-03-05 to day 676 (day 650 and 4% more: 2027-01-10): quarters would give 8 ticks,
     * more than fit, so every six months from 2025-07-01 to 2027-01-01 */
    assert_int_equal(dates, 4);
    assert_true(find_drawn("2025-07-01", (size_t)from) < to);
    assert_true(find_drawn("2027-01-01", (size_t)from) < to);
    regfree(&date);
    regfree(&number);
}

static int teardown(void **state)
{
    (void)state;
    forget_drawn();
    fig_release_caches();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles_do_not_cite_the_plan),
        cmocka_unit_test(test_km_axis_reaches_follow_up_and_guides_are_labelled),
        cmocka_unit_test(test_forest_rows_say_which_side_favours_whom),
        cmocka_unit_test(test_enrolment_axis_is_labelled_with_dates),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
