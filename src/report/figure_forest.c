/* Forest plot: one row per subgroup with its label, n (or "x/n"), a square sized by weight on
 * its confidence interval, the estimate as text and an optional p value, over a linear or log
 * axis with a reference line. Intervals leaving the axis end in an arrow at the edge; rows
 * whose estimate is not estimable (NaN, ±Inf, or <= 0 on a log axis, e.g. an odds ratio of 0
 * or ∞ from a zero cell) draw what of the interval exists and say "not estimable". */
#include "base/fmt.h"
#include "report/figure_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FP_ROW_H 19.0
#define FP_PLOT_W 230.0
#define FP_GAP 16.0
#define FP_FAVOURS_H 11.0 /* the "favours" line under a row */
#define FP_MAX_ROWS FIG_FOREST_MAX_ROWS
/* Axis ranges beyond these are typos, and would make tick loops run away. */
#define FP_MAX_ABS 1e12
#define FP_MAX_LOG_SPAN 1e8

static bool on_axis(const struct fig_forest *fp, double v)
{
    return isfinite(v) && (!fp->log_scale || v > 0.0);
}

/* A number for the estimate column: two decimals, or 3 significant digits when that would
 * be long; "NE" for NaN and "∞" for infinities. Never more than 15 bytes. */
static void fmt_num(char buf[16], double v)
{
    if (isnan(v))
        fmt_exact(buf, 16, "NE");
    else if (isinf(v))
        fmt_text(buf, 16, "%s∞", v < 0 ? "-" : "");
    else if (fabs(v) < 1e5)
        fmt_text(buf, 16, "%.2f", v);
    else
        fmt_text(buf, 16, "%.3g", v);
}

/* "0.52 (0.21–1.30)", "-0.10 (-0.30 to 0.12)", or "not estimable". */
static void fmt_estimate(char buf[64], const struct fig_forest *fp, const struct fig_forest_row *r)
{
    char est[16], lo[16], up[16];
    if (!on_axis(fp, r->est)) {
        fmt_exact(buf, 64, "not estimable");
        return;
    }
    fmt_num(est, r->est);
    fmt_num(lo, r->lower);
    fmt_num(up, r->upper);
    /* An en dash between two numbers reads as a minus when a bound is negative. */
    bool neg = r->lower < 0.0 || r->upper < 0.0;
    fmt_text(buf, 64, neg ? "%s (%s to %s)" : "%s (%s–%s)", est, lo, up);
}

int fig_forest_check(const struct fig_forest *fp, struct err *e)
{
    int rc;
    char what[64];
    if (!fp)
        return err_set(e, ERR_INVALID, "figure: no forest plot description");
    if ((rc = fig_check_str(fp->title, "title", false, e)) != 0 ||
        (rc = fig_check_str(fp->x_label, "x_label", false, e)) != 0 ||
        (rc = fig_check_str(fp->est_header, "est_header", false, e)) != 0 ||
        (rc = fig_check_str(fp->n_header, "n_header", false, e)) != 0 ||
        (rc = fig_check_str(fp->favours_left, "favours_left", false, e)) != 0 ||
        (rc = fig_check_str(fp->favours_right, "favours_right", false, e)) != 0)
        return rc;
    if (!fp->rows || fp->n_rows == 0)
        return err_set_field(e, ERR_INVALID, "rows", "figure: forest plot has no rows");
    if (fp->n_rows > FP_MAX_ROWS)
        return err_set_field(e, ERR_INVALID, "rows", "figure: forest plot has %zu rows; at most %d",
                             fp->n_rows, FP_MAX_ROWS);
    if (!(isfinite(fp->x_min) && isfinite(fp->x_max) && fp->x_min < fp->x_max))
        return err_set_field(e, ERR_INVALID, "x_min",
                             "figure: forest axis range [%g, %g] is empty or not finite", fp->x_min,
                             fp->x_max);
    if (fp->log_scale && !(fp->x_min > 0.0))
        return err_set_field(e, ERR_INVALID, "x_min",
                             "figure: forest log axis needs x_min > 0 (got %g)", fp->x_min);
    if (fabs(fp->x_min) > FP_MAX_ABS || fabs(fp->x_max) > FP_MAX_ABS ||
        (fp->log_scale && fp->x_max / fp->x_min > FP_MAX_LOG_SPAN))
        return err_set_field(e, ERR_INVALID, "x_min",
                             "figure: forest axis range [%g, %g] is implausibly wide", fp->x_min,
                             fp->x_max);
    if (!on_axis(fp, fp->ref))
        return err_set_field(e, ERR_INVALID, "ref",
                             "figure: forest reference line %g cannot be drawn on this axis",
                             fp->ref);
    for (size_t i = 0; i < fp->n_rows; i++) {
        const struct fig_forest_row *r = &fp->rows[i];
        fmt_exact(what, sizeof what, "rows[%zu]", i);
        if ((rc = fig_check_str(r->label, what, true, e)) != 0 ||
            (rc = fig_check_str(r->n_text, what, false, e)) != 0 ||
            (rc = fig_check_str(r->p_text, what, false, e)) != 0 ||
            (rc = fig_check_str(r->favours_left, what, false, e)) != 0 ||
            (rc = fig_check_str(r->favours_right, what, false, e)) != 0)
            return rc;
        if (r->is_heading)
            continue;
        if (r->lower > r->upper)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: forest %s (%s) has lower %g > upper %g", what, r->label,
                                 r->lower, r->upper);
        if (r->weight < 0.0 || isinf(r->weight))
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: forest %s weight %g is not a finite weight >= 0", what,
                                 r->weight);
    }
    return 0;
}

int fig_forest_layout(const struct fig_forest *fp, struct fig_forest_layout *l, struct err *e)
{
    const char *heads[FP_MAX_ROWS], *plain[FP_MAX_ROWS], *ns[FP_MAX_ROWS + 1], *ps[FP_MAX_ROWS + 1],
        *ests[FP_MAX_ROWS + 1];
    int rc = fig_forest_check(fp, e);
    if (rc != 0)
        return rc;
    *l = (struct fig_forest_layout){0};
    l->row_h = FP_ROW_H;
    for (size_t i = 0; i < fp->n_rows; i++) {
        const struct fig_forest_row *r = &fp->rows[i];
        bool h = r->is_heading;
        heads[i] = h ? r->label : NULL;
        plain[i] = h ? NULL : r->label;
        ns[i] = h ? NULL : r->n_text;
        ps[i] = h ? NULL : r->p_text;
        if (!h)
            fmt_estimate(l->est_text[i], fp, r);
        ests[i] = l->est_text[i];
        l->has_n = l->has_n || (!h && r->n_text);
        l->has_p = l->has_p || (!h && r->p_text);
        if (!h && (r->favours_left || r->favours_right))
            l->row_h = FP_ROW_H + FP_FAVOURS_H;
    }
    ests[fp->n_rows] = fp->est_header;
    ns[fp->n_rows] = fp->n_header ? fp->n_header : "n";
    ps[fp->n_rows] = "p";
    double lab_w = fig_measure_max_width(heads, fp->n_rows, FIG_FONT_LABEL, true);
    double plain_w = fig_measure_max_width(plain, fp->n_rows, FIG_FONT_LABEL, false) + 10.0;
    if (plain_w > lab_w)
        lab_w = plain_w;
    double n_w = l->has_n ? fig_measure_max_width(ns, fp->n_rows + 1, FIG_FONT_LABEL, true) : 0;
    double est_w = fig_measure_max_width(ests, fp->n_rows + 1, FIG_FONT_LABEL, true);
    double p_w = l->has_p ? fig_measure_max_width(ps, fp->n_rows + 1, FIG_FONT_LABEL, true) : 0;

    l->x_label = 12.0;
    l->x_n = l->x_label + lab_w + FP_GAP + n_w / 2.0;
    l->plot_x0 = l->x_label + lab_w + FP_GAP + (l->has_n ? n_w + FP_GAP : 0.0);
    l->plot_x1 = l->plot_x0 + FP_PLOT_W;
    l->x_est = l->plot_x1 + FP_GAP + est_w / 2.0;
    l->x_p = l->plot_x1 + FP_GAP + est_w + FP_GAP;
    l->width = l->x_p + (l->has_p ? p_w + FP_GAP : 0.0) + 4.0;
    l->y_head = (fp->title && *fp->title ? 36.0 : 14.0) + 8.0;
    l->y_row0 = l->y_head + 20.0;
    /* A heading takes FP_ROW_H; a row takes row_h, its interval in the top FP_ROW_H and what
     * it favours under it. */
    double y = l->y_row0;
    for (size_t i = 0; i < fp->n_rows; i++) {
        l->row_y[i] = y + FP_ROW_H / 2.0;
        y += fp->rows[i].is_heading ? FP_ROW_H : l->row_h;
    }
    l->y_axis = y;
    l->height = l->y_axis + 30.0 + (fp->x_label ? 18.0 : 0.0) +
                (fp->favours_left || fp->favours_right ? 16.0 : 0.0) + 8.0;
    l->x_min = fp->x_min;
    l->x_max = fp->x_max;
    l->log_scale = fp->log_scale;
    return 0;
}

double fig_forest_x(const struct fig_forest_layout *l, double v)
{
    struct fig_frame f = {l->plot_x0, 0.0, l->plot_x1, 1.0,         l->x_min,
                          l->x_max,   0.0, 1.0,        l->log_scale};
    return fig_frame_x(&f, v);
}

/* Tick values on the axis: 1-2-5 decades on a log axis (decades only when crowded), a nice
 * linear step otherwise; the axis ends when fewer than two would show. */
static size_t forest_ticks(const struct fig_forest *fp, double *ticks, size_t max)
{
    size_t n = 0;
    if (fp->log_scale) {
        static const double mult[] = {1.0, 2.0, 5.0};
        for (int pass = 0; pass < 2; pass++) {
            n = 0;
            for (int d = (int)floor(log10(fp->x_min)); d <= (int)ceil(log10(fp->x_max)); d++)
                for (size_t m = 0; m < (pass == 0 ? 3u : 1u); m++) {
                    double v = mult[m] * pow(10.0, d);
                    if (v >= fp->x_min * (1 - 1e-9) && v <= fp->x_max * (1 + 1e-9) && n < max)
                        ticks[n++] = v;
                }
            if (n <= 8)
                break;
        }
    } else {
        double step = fig_nice_step(fp->x_max - fp->x_min, 5);
        for (double v = ceil(fp->x_min / step - 1e-9) * step;
             v <= fp->x_max + step * 1e-9 && n < max; v += step)
            ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    }
    if (n < 2) {
        ticks[0] = fp->x_min;
        ticks[1] = fp->x_max;
        n = 2;
    }
    return n;
}

/* One interval end as an axis position: -1 = off the left (arrow), +1 = off the right. */
static double clamp_end(const struct fig_forest *fp, double v, int *off)
{
    *off = 0;
    if (v == -INFINITY || (fp->log_scale && v <= 0.0) || v < fp->x_min) {
        *off = -1;
        return fp->x_min;
    }
    if (v == INFINITY || v > fp->x_max) {
        *off = 1;
        return fp->x_max;
    }
    return v;
}

static void draw_row_interval(cairo_t *cr, const struct fig_forest *fp, const struct fig_frame *f,
                              const struct fig_forest_row *r, double y, double max_w)
{
    double lo = !isnan(r->lower) ? r->lower : r->est;
    double up = !isnan(r->upper) ? r->upper : r->est;
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_set_line_width(cr, 1.1);
    if (!isnan(lo) && !isnan(up)) {
        int off_lo, off_up;
        double a = fig_frame_x(f, clamp_end(fp, lo, &off_lo));
        double b = fig_frame_x(f, clamp_end(fp, up, &off_up));
        cairo_move_to(cr, a, y);
        cairo_line_to(cr, b, y);
        cairo_stroke(cr);
        if (off_lo)
            fig_arrowhead(cr, a, y, off_lo < 0 ? -1.0 : 1.0, 0.0, 6.0);
        if (off_up && (off_up != off_lo || !off_lo))
            fig_arrowhead(cr, b, y, off_up > 0 ? 1.0 : -1.0, 0.0, 6.0);
    }
    if (on_axis(fp, r->est) && r->est >= fp->x_min && r->est <= fp->x_max) {
        double side = 7.0;
        if (r->weight > 0.0 && max_w > 0.0)
            side = 3.5 + 9.0 * sqrt(r->weight / max_w); /* area ∝ weight, above a floor */
        fig_set_series_colour(cr, 0, 1.0);
        cairo_rectangle(cr, fig_frame_x(f, r->est) - side / 2.0, y - side / 2.0, side, side);
        cairo_fill(cr);
    }
}

/* The x of the reference line, or of the axis end it lies beyond. */
static double ref_x(const struct fig_forest *fp, const struct fig_frame *f)
{
    return fig_frame_x(f, fp->ref < fp->x_min   ? fp->x_min
                          : fp->ref > fp->x_max ? fp->x_max
                                                : fp->ref);
}

/* "◂ favours A" left of the reference line and "favours B ▸" right of it, small and grey,
 * under the row's interval. */
static void draw_row_favours(cairo_t *cr, const struct fig_forest *fp, const struct fig_frame *f,
                             const struct fig_forest_row *r, double y)
{
    char buf[416]; /* fig_check_str allows 400 bytes; the arrow and space add 4 */
    double xr = ref_x(fp, f);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    fig_font(cr, FIG_FONT_SMALL, false);
    if (r->favours_left) {
        fmt_text(buf, sizeof buf, "◂ %s", r->favours_left);
        fig_text(cr, xr - 4.0, y + 7.0, buf, FIG_RIGHT, FIG_TOP);
    }
    if (r->favours_right) {
        fmt_text(buf, sizeof buf, "%s ▸", r->favours_right);
        fig_text(cr, xr + 4.0, y + 7.0, buf, FIG_LEFT, FIG_TOP);
    }
}

int fig_forest_draw(cairo_t *cr, const struct fig_forest *fp, struct err *e)
{
    double ticks[64], max_w = 0.0;
    const char *tick_labels[64];
    char tick_buf[64][24];
    struct fig_forest_layout *lp = malloc(sizeof *lp);
    if (!lp)
        return err_set(e, ERR_NOMEM, "figure: out of memory");
    int rc = fig_forest_layout(fp, lp, e);
    if (rc != 0) {
        free(lp);
        return rc;
    }
    const struct fig_forest_layout l = *lp;
    free(lp);
    struct fig_frame f = {l.plot_x0, l.y_row0 - 4.0, l.plot_x1, l.y_axis, fp->x_min, fp->x_max, 0.0,
                          1.0,       fp->log_scale};
    for (size_t i = 0; i < fp->n_rows; i++)
        if (!fp->rows[i].is_heading && fp->rows[i].weight > max_w)
            max_w = fp->rows[i].weight;

    fig_title(cr, l.width, fp->title);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_font(cr, FIG_FONT_LABEL, true);
    fig_text(cr, l.x_label, l.y_head, "Subgroup", FIG_LEFT, FIG_MIDDLE);
    if (l.has_n)
        fig_text(cr, l.x_n, l.y_head, fp->n_header ? fp->n_header : "n", FIG_CENTER, FIG_MIDDLE);
    if (fp->est_header)
        fig_text(cr, l.x_est, l.y_head, fp->est_header, FIG_CENTER, FIG_MIDDLE);
    if (l.has_p)
        fig_text(cr, l.x_p, l.y_head, "p", FIG_LEFT, FIG_MIDDLE);
    cairo_set_line_width(cr, 0.6);
    cairo_move_to(cr, l.x_label, l.y_head + 9.0);
    cairo_line_to(cr, l.width - 4.0, l.y_head + 9.0);
    cairo_stroke(cr);

    /* Reference line first, so squares and whiskers sit on top of it. */
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 0.9);
    if (fp->ref >= fp->x_min && fp->ref <= fp->x_max) {
        cairo_move_to(cr, fig_frame_x(&f, fp->ref), f.y0);
        cairo_line_to(cr, fig_frame_x(&f, fp->ref), f.y1);
        cairo_stroke(cr);
    }
    for (size_t i = 0; i < fp->n_rows; i++) {
        const struct fig_forest_row *r = &fp->rows[i];
        double y = l.row_y[i];
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        fig_font(cr, FIG_FONT_LABEL, r->is_heading);
        fig_text(cr, l.x_label + (r->is_heading ? 0.0 : 10.0), y, r->label, FIG_LEFT, FIG_MIDDLE);
        if (r->is_heading)
            continue;
        if (r->n_text)
            fig_text(cr, l.x_n, y, r->n_text, FIG_CENTER, FIG_MIDDLE);
        if (!on_axis(fp, r->est))
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        fig_text(cr, l.x_est, y, l.est_text[i], FIG_CENTER, FIG_MIDDLE);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        if (r->p_text)
            fig_text(cr, l.x_p, y, r->p_text, FIG_LEFT, FIG_MIDDLE);
        draw_row_interval(cr, fp, &f, r, y, max_w);
        draw_row_favours(cr, fp, &f, r, y);
    }

    size_t n_ticks = forest_ticks(fp, ticks, 64);
    for (size_t k = 0; k < n_ticks; k++) {
        fmt_text(tick_buf[k], sizeof tick_buf[k], "%g", ticks[k]);
        tick_labels[k] = tick_buf[k];
    }
    fig_axis_x(cr, &f, ticks, n_ticks, tick_labels);
    double y = l.y_axis + 26.0;
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_font(cr, FIG_FONT_LABEL, false);
    if (fp->x_label) {
        fig_text(cr, (f.x0 + f.x1) / 2.0, y, fp->x_label, FIG_CENTER, FIG_TOP);
        y += 18.0;
    }
    fig_font(cr, FIG_FONT_SMALL, false);
    double xr = ref_x(fp, &f);
    if (fp->favours_left)
        fig_text(cr, xr - 6.0, y, fp->favours_left, FIG_RIGHT, FIG_TOP);
    if (fp->favours_right)
        fig_text(cr, xr + 6.0, y, fp->favours_right, FIG_LEFT, FIG_TOP);
    return 0;
}
