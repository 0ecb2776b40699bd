/* Trajectory chart: a measurement (MAP, HR, lactate, ...) at categorical time points (T0,
 * 15 min, ..., 24 h) as the median per series joined by a line, with IQR error bars, an
 * optional horizontal reference line (e.g. MAP 65 mmHg) and a y-axis label with units.
 * Series differ in colour, dash and marker shape, and are dodged sideways so their bars do
 * not overlap. */
#include "base/fmt.h"
#include "report/figure_common.h"

#include <math.h>
#include <stdio.h>

#define LN_WIDTH 504.0
#define LN_PLOT_H 240.0
#define LN_LEFT 66.0
#define LN_RIGHT 20.0
#define LN_MAX_POINTS 24
/* Beyond this a value is not a measurement (and would overflow the axis arithmetic). */
#define LN_MAX_ABS 1e12

int fig_lines_check(const struct fig_lines *ln, struct err *e)
{
    int rc;
    char what[64];
    if (!ln)
        return err_set(e, ERR_INVALID, "figure: no trajectory chart description");
    if ((rc = fig_check_str(ln->title, "title", false, e)) != 0 ||
        (rc = fig_check_str(ln->x_label, "x_label", false, e)) != 0 ||
        (rc = fig_check_str(ln->y_label, "y_label", false, e)) != 0 ||
        (rc = fig_check_str(ln->ref_label, "ref_label", false, e)) != 0)
        return rc;
    if (ln->n_points == 0 || !ln->x_labels)
        return err_set_field(e, ERR_INVALID, "x_labels",
                             "figure: trajectory chart has no time points");
    if (ln->n_points > LN_MAX_POINTS)
        return err_set_field(e, ERR_INVALID, "x_labels",
                             "figure: trajectory chart has %zu time points; at most %d",
                             ln->n_points, LN_MAX_POINTS);
    for (size_t k = 0; k < ln->n_points; k++) {
        fmt_exact(what, sizeof what, "x_labels[%zu]", k);
        if ((rc = fig_check_str(ln->x_labels[k], what, true, e)) != 0)
            return rc;
    }
    if (!ln->series || ln->n_series == 0 || ln->n_series > FIG_MAX_SERIES)
        return err_set_field(e, ERR_INVALID, "series",
                             "figure: trajectory chart needs 1 to %d series (got %zu)",
                             FIG_MAX_SERIES, ln->series ? ln->n_series : 0);
    if (ln->y_min < ln->y_max && !(fabs(ln->y_min) <= LN_MAX_ABS && fabs(ln->y_max) <= LN_MAX_ABS))
        return err_set_field(e, ERR_INVALID, "y_min", "figure: y range is not finite");
    if (ln->has_ref && !(fabs(ln->ref_y) <= LN_MAX_ABS))
        return err_set_field(e, ERR_INVALID, "ref_y", "figure: reference line is not finite");
    bool any = false;
    for (size_t s = 0; s < ln->n_series; s++) {
        const struct fig_lines_series *se = &ln->series[s];
        fmt_exact(what, sizeof what, "series[%zu]", s);
        if ((rc = fig_check_str(se->label, what, false, e)) != 0)
            return rc;
        if (!se->median)
            return err_set_field(e, ERR_INVALID, what, "figure: %s has no median[]", what);
        if ((se->q1 == NULL) != (se->q3 == NULL))
            return err_set_field(e, ERR_INVALID, what, "figure: %s has only one of q1[], q3[]",
                                 what);
        for (size_t k = 0; k < ln->n_points; k++) {
            double m = se->median[k], a = se->q1 ? se->q1[k] : NAN, b = se->q3 ? se->q3[k] : NAN;
            if (fabs(m) > LN_MAX_ABS || fabs(a) > LN_MAX_ABS || fabs(b) > LN_MAX_ABS)
                return err_set_field(e, ERR_INVALID, what,
                                     "figure: %s has an infinite or implausibly large value at %s",
                                     what, ln->x_labels[k]);
            if (a > b)
                return err_set_field(e, ERR_INVALID, what, "figure: %s at %s has Q1 %g > Q3 %g",
                                     what, ln->x_labels[k], a, b);
            any = any || !isnan(m);
        }
    }
    if (!any && !(ln->y_min < ln->y_max))
        return err_set_field(e, ERR_INVALID, "series",
                             "figure: trajectory chart has no values and no y range");
    return 0;
}

static bool has_legend(const struct fig_lines *ln)
{
    return ln->n_series > 1 || (ln->has_ref && ln->ref_label);
}

static double plot_top(const struct fig_lines *ln)
{
    return (ln->title && *ln->title ? 36.0 : 14.0) + (has_legend(ln) ? 22.0 : 0.0) + 6.0;
}

void fig_lines_size(const struct fig_lines *ln, double *w, double *h)
{
    *w = LN_WIDTH;
    *h = plot_top(ln) + LN_PLOT_H + 24.0 + (ln->x_label ? 20.0 : 0.0) + 8.0;
}

/* The data range padded by 5% and widened to whole tick steps. */
static void y_range(const struct fig_lines *ln, double *lo, double *hi, double *step)
{
    if (ln->y_min < ln->y_max) {
        *lo = ln->y_min;
        *hi = ln->y_max;
        *step = fig_nice_step(*hi - *lo, 5);
        return;
    }
    double mn = INFINITY, mx = -INFINITY;
    for (size_t s = 0; s < ln->n_series; s++) {
        const struct fig_lines_series *se = &ln->series[s];
        for (size_t k = 0; k < ln->n_points; k++) {
            double v[3] = {se->median[k], se->q1 ? se->q1[k] : NAN, se->q3 ? se->q3[k] : NAN};
            for (int j = 0; j < 3; j++) {
                if (!isnan(v[j]) && v[j] < mn)
                    mn = v[j];
                if (!isnan(v[j]) && v[j] > mx)
                    mx = v[j];
            }
        }
    }
    if (ln->has_ref) {
        mn = fmin(mn, ln->ref_y);
        mx = fmax(mx, ln->ref_y);
    }
    double pad = mx > mn ? (mx - mn) * 0.05 : (fabs(mx) > 0 ? fabs(mx) * 0.1 : 1.0);
    mn -= pad;
    mx += pad;
    *step = fig_nice_step(mx - mn, 5);
    *lo = floor(mn / *step) * *step;
    *hi = ceil(mx / *step) * *step;
}

int fig_lines_draw(cairo_t *cr, const struct fig_lines *ln, struct err *e)
{
    double lo, hi, step, ticks[LN_MAX_POINTS];
    const char *labels[FIG_MAX_SERIES];
    (void)e;
    y_range(ln, &lo, &hi, &step);
    double top = plot_top(ln);
    struct fig_frame f = {
        LN_LEFT, top,  LN_WIDTH - LN_RIGHT, top + LN_PLOT_H, 0.0, (double)ln->n_points, lo,
        hi,      false};
    double below_title = fig_title(cr, LN_WIDTH, ln->title);
    if (has_legend(ln)) {
        /* One series needs no legend entry of its own: the y label says what it is. */
        size_t n = ln->n_series > 1 ? ln->n_series : 0;
        for (size_t s = 0; s < n; s++)
            labels[s] = ln->series[s].label ? ln->series[s].label : "";
        fig_legend(cr, (f.x0 + f.x1) / 2.0, below_title + 8.0, labels, n, true,
                   ln->has_ref ? ln->ref_label : NULL);
    }
    fig_axis_y(cr, &f, lo, hi, step, false);
    for (size_t k = 0; k < ln->n_points; k++)
        ticks[k] = (double)k + 0.5;
    fig_axis_x(cr, &f, ticks, ln->n_points, ln->x_labels);
    fig_axis_titles(cr, &f, ln->x_label, 26.0, ln->y_label);

    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_clip(cr);
    if (ln->has_ref) {
        double y = fig_frame_y(&f, ln->ref_y);
        fig_set_ref_style(cr);
        cairo_move_to(cr, f.x0, y);
        cairo_line_to(cr, f.x1, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
    }
    double band = (f.x1 - f.x0) / (double)ln->n_points;
    double dodge = fmin(7.0, band * 0.6 / (double)ln->n_series);
    for (size_t s = 0; s < ln->n_series; s++) {
        const struct fig_lines_series *se = &ln->series[s];
        double off = ((double)s - (double)(ln->n_series - 1) / 2.0) * dodge;
        fig_set_series_colour(cr, s, 1.0);
        cairo_set_line_width(cr, 1.2);
        for (size_t k = 0; se->q1 && k < ln->n_points; k++) {
            if (isnan(se->q1[k]) || isnan(se->q3[k]))
                continue;
            double x = fig_frame_x(&f, ticks[k]) + off;
            double ya = fig_frame_y(&f, se->q1[k]), yb = fig_frame_y(&f, se->q3[k]);
            cairo_move_to(cr, x, ya);
            cairo_line_to(cr, x, yb);
            cairo_move_to(cr, x - 3.0, ya);
            cairo_line_to(cr, x + 3.0, ya);
            cairo_move_to(cr, x - 3.0, yb);
            cairo_line_to(cr, x + 3.0, yb);
        }
        cairo_stroke(cr);
        /* Medians joined across measured points; a missing point breaks the line. */
        bool pen = false;
        for (size_t k = 0; k < ln->n_points; k++) {
            if (isnan(se->median[k])) {
                pen = false;
                continue;
            }
            double x = fig_frame_x(&f, ticks[k]) + off, y = fig_frame_y(&f, se->median[k]);
            if (pen)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            pen = true;
        }
        fig_set_series_dash(cr, s);
        cairo_set_line_width(cr, 1.6);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        for (size_t k = 0; k < ln->n_points; k++)
            if (!isnan(se->median[k]))
                fig_marker(cr, s, fig_frame_x(&f, ticks[k]) + off, fig_frame_y(&f, se->median[k]),
                           3.4);
    }
    cairo_restore(cr);
    return 0;
}
