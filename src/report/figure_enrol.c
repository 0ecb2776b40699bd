/* Enrolment curve: cumulative patients enrolled (a step line rising by one at each
 * enrolment day) against the target sample size and, optionally, the planned linear accrual.
 * The x axis is days since the study start, each tick also labelled with its calendar date. */
#include "base/civil.h"
#include "base/fmt.h"
#include "report/figure_common.h"

#include <math.h>
#include <stdio.h>

#define EN_WIDTH 504.0
#define EN_PLOT_H 230.0
#define EN_LEFT 62.0
#define EN_RIGHT 24.0
#define EN_MAX_DAYS 36600.0 /* a century of accrual is surely a typo */

/* Parses "YYYY-MM-DD" strictly (a real calendar date); returns false otherwise. */
static bool parse_date(const char *s, long *days)
{
    int y, m, d, used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 || s[10])
        return false;
    if (m < 1 || m > 12 || d < 1 || d > civil_days_in_month(y, m))
        return false; /* rejects 2023-02-30 */
    *days = (long)civil_days(y, m, d);
    return true;
}

int fig_enrol_check(const struct fig_enrol *en, struct err *e)
{
    int rc;
    long start;
    if (!en)
        return err_set(e, ERR_INVALID, "figure: no enrolment curve description");
    if ((rc = fig_check_str(en->title, "title", false, e)) != 0 ||
        (rc = fig_check_str(en->x_label, "x_label", false, e)) != 0 ||
        (rc = fig_check_str(en->y_label, "y_label", false, e)) != 0)
        return rc;
    if (!parse_date(en->start_date, &start))
        return err_set_field(e, ERR_INVALID, "start_date",
                             "figure: enrolment start_date \"%s\" is not a YYYY-MM-DD date",
                             en->start_date ? en->start_date : "");
    if (en->n == 0 || !en->day)
        return err_set_field(e, ERR_INVALID, "day", "figure: enrolment curve has no patients");
    for (size_t i = 0; i < en->n; i++) {
        if (!(en->day[i] >= 0.0 && en->day[i] <= EN_MAX_DAYS))
            return err_set_field(e, ERR_INVALID, "day",
                                 "figure: enrolment day[%zu] = %g is not within 0..%.0f", i,
                                 en->day[i], EN_MAX_DAYS);
        if (i > 0 && en->day[i] < en->day[i - 1])
            return err_set_field(e, ERR_INVALID, "day",
                                 "figure: enrolment day[] is not ascending at [%zu] (%g after %g)",
                                 i, en->day[i], en->day[i - 1]);
    }
    if (!isfinite(en->target) || !isfinite(en->planned_days) || !isfinite(en->x_max) ||
        en->planned_days > EN_MAX_DAYS || en->x_max > EN_MAX_DAYS || en->target > 1e7)
        return err_set_field(
            e, ERR_INVALID, "target",
            "figure: enrolment target, planned_days or x_max is not a sensible finite number");
    if (en->planned_days > 0.0 && !(en->target > 0.0))
        return err_set_field(e, ERR_INVALID, "planned_days",
                             "figure: planned accrual needs a target > 0");
    return 0;
}

static double plot_top(const struct fig_enrol *en)
{
    return (en->title && *en->title ? 36.0 : 14.0) + 22.0 + 6.0;
}

void fig_enrol_size(const struct fig_enrol *en, double *w, double *h)
{
    *w = EN_WIDTH;
    *h = plot_top(en) + EN_PLOT_H + 34.0 + (en->x_label ? 20.0 : 0.0) + 8.0;
}

#define EN_MAX_TICKS 7 /* a date label is ~55 pt wide; the plot is ~420 pt */

/* Calendar ticks over days 0..x_max after start (days since 1970): the first of every
 * `months`-th month, the fewest months from 1, 2, 3, 6, 12, 24, 60, 120 giving at most
 * EN_MAX_TICKS; a span too short for two month ticks gets ticks every 1, 2, 7 or 14 days from
 * day 0. Writes the day offsets and their "YYYY-MM-DD" labels; returns the count. */
static size_t date_ticks(long start, double x_max, double *ticks, char (*labels)[16])
{
    static const long months[] = {1, 2, 3, 6, 12, 24, 60, 120};
    static const long days[] = {1, 2, 7, 14};
    long long y0, y;
    int m0, d0, m, d;
    size_t n = 0;
    civil_date(start, &y0, &m0, &d0);
    for (size_t k = 0; k < sizeof months / sizeof months[0]; k++) {
        n = 0;
        /* month index from year 0; the first month start on or after day 0, on a multiple of
         * the step so ticks fall on January, April, July... */
        long mi = (long)(y0 * 12 + (m0 - 1) + (d0 > 1 ? 1 : 0));
        mi = (mi + months[k] - 1) / months[k] * months[k];
        for (;; mi += months[k]) {
            double t = (double)(civil_days(mi / 12, (int)(mi % 12 + 1), 1) - start);
            if (t > x_max + 1e-9)
                break;
            if (n == EN_MAX_TICKS) {
                n++;
                break;
            }
            ticks[n++] = t;
        }
        if (n <= EN_MAX_TICKS)
            break;
    }
    if (n > EN_MAX_TICKS) /* ten-year steps still too many: bounded by EN_MAX_DAYS, not met */
        n = EN_MAX_TICKS;
    if (n < 2) {
        long step = days[sizeof days / sizeof days[0] - 1];
        for (size_t k = 0; k < sizeof days / sizeof days[0]; k++)
            if (x_max / (double)days[k] < EN_MAX_TICKS) {
                step = days[k];
                break;
            }
        n = 0;
        for (long t = 0; (double)t <= x_max + 1e-9 && n < EN_MAX_TICKS; t += step)
            ticks[n++] = (double)t;
    }
    for (size_t k = 0; k < n; k++) {
        civil_date(start + (long)ticks[k], &y, &m, &d);
        fmt_text(labels[k], 16, "%04lld-%02d-%02d", y, m, d);
    }
    return n;
}

int fig_enrol_draw(cairo_t *cr, const struct fig_enrol *en, struct err *e)
{
    long start;
    double ticks[EN_MAX_TICKS + 1];
    char date_buf[EN_MAX_TICKS + 1][16];
    const char *tick_labels[EN_MAX_TICKS + 1];
    static const char *const legend_with_plan[] = {"Enrolled", "Planned accrual"};
    (void)e;
    parse_date(en->start_date, &start); /* checked by fig_enrol_check */
    double last = en->day[en->n - 1];
    double x_max = en->x_max > 0.0 ? en->x_max : fmax(last, en->planned_days) * 1.04;
    if (!(x_max > 0.0))
        x_max = 1.0;
    double y_top = fmax((double)en->n, en->target) * 1.08;
    double y_step = fig_nice_step(y_top, 5);
    y_top = ceil(y_top / y_step) * y_step;
    double top = plot_top(en);
    struct fig_frame f = {EN_LEFT, top,  EN_WIDTH - EN_RIGHT, top + EN_PLOT_H, 0.0, x_max, 0.0,
                          y_top,   false};

    double below_title = fig_title(cr, EN_WIDTH, en->title);
    fig_legend(cr, (f.x0 + f.x1) / 2.0, below_title + 8.0, legend_with_plan,
               en->planned_days > 0.0 ? 2 : 1, false, NULL);
    fig_axis_y(cr, &f, 0.0, y_top, y_step, false);
    size_t n_ticks = date_ticks(start, x_max, ticks, date_buf);
    for (size_t k = 0; k < n_ticks; k++)
        tick_labels[k] = date_buf[k];
    fig_axis_x(cr, &f, ticks, n_ticks, tick_labels);
    fig_axis_titles(cr, &f, en->x_label, 30.0, en->y_label);

    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0 - 2.0, f.x1 - f.x0, f.y1 - f.y0 + 4.0);
    cairo_clip(cr);
    if (en->target > 0.0) {
        char buf[64];
        static const double dash[] = {4.0, 3.0};
        double yt = fig_frame_y(&f, en->target);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_set_line_width(cr, 1.0);
        cairo_set_dash(cr, dash, 2, 0.0);
        cairo_move_to(cr, f.x0, yt);
        cairo_line_to(cr, f.x1, yt);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        fmt_text(buf, sizeof buf, "Target n = %.0f", en->target);
        fig_font(cr, FIG_FONT_SMALL, false);
        fig_text(cr, f.x0 + 6.0, yt - 3.0, buf, FIG_LEFT, FIG_BOTTOM);
    }
    if (en->planned_days > 0.0) {
        fig_set_series_colour(cr, 1, 1.0);
        fig_set_series_dash(cr, 1);
        cairo_set_line_width(cr, 1.4);
        cairo_move_to(cr, fig_frame_x(&f, 0.0), fig_frame_y(&f, 0.0));
        cairo_line_to(cr, fig_frame_x(&f, en->planned_days), fig_frame_y(&f, en->target));
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
    }
    /* Cumulative count: 0 until the first enrolment, +1 at each day[i]. */
    cairo_move_to(cr, fig_frame_x(&f, 0.0), fig_frame_y(&f, 0.0));
    for (size_t i = 0; i < en->n; i++) {
        double x = fig_frame_x(&f, en->day[i]);
        cairo_line_to(cr, x, fig_frame_y(&f, (double)i));
        cairo_line_to(cr, x, fig_frame_y(&f, (double)i + 1.0));
    }
    cairo_line_to(cr, fig_frame_x(&f, last), fig_frame_y(&f, (double)en->n));
    fig_set_series_colour(cr, 0, 1.0);
    cairo_set_line_width(cr, 1.8);
    cairo_stroke(cr);
    cairo_restore(cr);
    return 0;
}
