/* Kaplan–Meier figure: survival step curves per stratum with an optional shaded confidence
 * band, censor ticks, dotted reference days, a legend, and the numbers-at-risk table under
 * the x axis with one column per x tick. The layout (plot rectangle, coordinate mapping,
 * at-risk cells) is computed by fig_km_layout so tests and callers can see exactly where
 * things are drawn. */
#include "base/fmt.h"
#include "report/figure_common.h"

#include <math.h>
#include <stdio.h>

#define KM_WIDTH 504.0 /* 7 inches */
#define KM_PLOT_HEIGHT 270.0
#define KM_RIGHT 26.0
#define KM_ROW_H 15.0
#define KM_MAX_COUNT 1e9 /* at-risk counts print in a 32-byte cell */

static int check_stratum(const struct fig_km_stratum *st, size_t k, size_t n_ticks, struct err *e)
{
    char what[64];
    int rc;
    fmt_exact(what, sizeof what, "strata[%zu]", k);
    if ((rc = fig_check_str(st->label, what, false, e)) != 0)
        return rc;
    if (st->n == 0)
        return err_set_field(e, ERR_INVALID, what, "figure: KM %s has no steps", what);
    if (!st->time || !st->surv)
        return err_set_field(e, ERR_INVALID, what, "figure: KM %s lacks time[] or surv[]", what);
    if ((st->lower == NULL) != (st->upper == NULL))
        return err_set_field(e, ERR_INVALID, what,
                             "figure: KM %s has only one of lower[] and upper[]", what);
    if (st->at_risk && st->n_risk)
        return err_set_field(e, ERR_INVALID, what,
                             "figure: KM %s gives both at_risk[] and n_risk[]; give one", what);
    if ((rc = fig_check_array(st->censor_time, st->n_censor, what, e)) != 0)
        return rc;
    for (size_t i = 0; i < st->n; i++) {
        double t = st->time[i], s = st->surv[i];
        if (!isfinite(t) || t < 0.0)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s time[%zu] = %g is not a finite time >= 0", what, i,
                                 t);
        if (i > 0 && !(t > st->time[i - 1]))
            return err_set_field(
                e, ERR_INVALID, what,
                "figure: KM %s time[] is not strictly ascending at [%zu] (%g after %g)", what, i, t,
                st->time[i - 1]);
        if (!(s >= 0.0 && s <= 1.0))
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s surv[%zu] = %g is outside [0, 1]", what, i, s);
        if (i > 0 && s > st->surv[i - 1] + 1e-12)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s surv[] increases at [%zu] (%g after %g)", what, i,
                                 s, st->surv[i - 1]);
        if (st->lower) {
            double lo = st->lower[i], up = st->upper[i];
            if ((!isnan(lo) && !(lo >= 0.0 && lo <= 1.0)) ||
                (!isnan(up) && !(up >= 0.0 && up <= 1.0)) || (lo > up))
                return err_set_field(
                    e, ERR_INVALID, what,
                    "figure: KM %s CI [%g, %g] at [%zu] is not within [0, 1] or lower > upper",
                    what, lo, up, i);
        }
        if (st->n_risk && !(st->n_risk[i] >= 0.0 && st->n_risk[i] <= KM_MAX_COUNT))
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s n_risk[%zu] = %g is not a count", what, i,
                                 st->n_risk[i]);
    }
    for (size_t i = 0; st->at_risk && i < n_ticks; i++)
        if (!(st->at_risk[i] >= 0.0 && st->at_risk[i] <= KM_MAX_COUNT))
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s at_risk[%zu] = %g is not a count", what, i,
                                 st->at_risk[i]);
    for (size_t i = 0; i < st->n_censor; i++)
        if (!isfinite(st->censor_time[i]) || st->censor_time[i] < 0.0)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: KM %s censor_time[%zu] = %g is not a finite time >= 0",
                                 what, i, st->censor_time[i]);
    return 0;
}

static size_t tick_count(const struct fig_km *km)
{
    return (size_t)floor(km->x_max / km->tick_step + 1e-9) + 1;
}

int fig_km_check(const struct fig_km *km, struct err *e)
{
    int rc;
    if (!km)
        return err_set(e, ERR_INVALID, "figure: no KM description");
    if ((rc = fig_check_str(km->title, "title", false, e)) != 0 ||
        (rc = fig_check_str(km->x_label, "x_label", false, e)) != 0 ||
        (rc = fig_check_str(km->y_label, "y_label", false, e)) != 0)
        return rc;
    if (!km->strata || km->n_strata == 0)
        return err_set_field(e, ERR_INVALID, "strata", "figure: KM has no strata");
    if (km->n_strata > FIG_MAX_SERIES)
        return err_set_field(e, ERR_INVALID, "strata", "figure: KM has %zu strata; at most %d",
                             km->n_strata, FIG_MAX_SERIES);
    if (!(isfinite(km->x_max) && km->x_max > 0.0))
        return err_set_field(e, ERR_INVALID, "x_max", "figure: KM x_max = %g must be > 0",
                             km->x_max);
    if (!(isfinite(km->tick_step) && km->tick_step > 0.0) ||
        km->x_max / km->tick_step >= FIG_KM_MAX_TICKS - 1)
        return err_set_field(e, ERR_INVALID, "tick_step",
                             "figure: KM tick_step = %g gives more than %d ticks over 0..%g",
                             km->tick_step, FIG_KM_MAX_TICKS, km->x_max);
    if ((rc = fig_check_array(km->ref_time, km->n_ref, "ref_time", e)) != 0)
        return rc;
    for (size_t i = 0; i < km->n_ref; i++) {
        if (!isfinite(km->ref_time[i]))
            return err_set_field(e, ERR_INVALID, "ref_time",
                                 "figure: KM ref_time[%zu] is not finite", i);
        if (km->ref_label && (rc = fig_check_str(km->ref_label[i], "ref_label", false, e)) != 0)
            return rc;
    }
    for (size_t k = 0; k < km->n_strata; k++)
        if ((rc = check_stratum(&km->strata[k], k, tick_count(km), e)) != 0)
            return rc;
    return 0;
}

/* survfit's n.risk is the number at risk just before time[i], so at tick t the count is
 * n_risk at the first time[i] >= t; past the last time nobody is left. */
static double at_risk_from_steps(const struct fig_km_stratum *st, double t)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->time[i] >= t)
            return st->n_risk[i];
    return 0.0;
}

static bool has_legend(const struct fig_km *km)
{
    for (size_t k = 0; k < km->n_strata; k++)
        if (km->strata[k].label && *km->strata[k].label)
            return true;
    return false;
}

int fig_km_layout(const struct fig_km *km, struct fig_km_layout *out, struct err *e)
{
    const char *labels[FIG_MAX_SERIES] = {0};
    int rc;
    *out = (struct fig_km_layout){0};
    if ((rc = fig_km_check(km, e)) != 0)
        return rc;
    size_t rows = 0;
    for (size_t k = 0; k < km->n_strata; k++) {
        const struct fig_km_stratum *st = &km->strata[k];
        out->has_at_risk[k] = st->at_risk || st->n_risk;
        rows += out->has_at_risk[k];
        labels[k] = out->has_at_risk[k] ? st->label : NULL;
    }
    /* The left margin holds the y tick labels and y label, and the at-risk row labels. */
    double lab_w = fig_measure_max_width(labels, km->n_strata, FIG_FONT_TICK, false);
    double left = lab_w + 30.0 > 64.0 ? lab_w + 30.0 : 64.0;
    double top = km->title && *km->title ? 36.0 : 14.0;
    if (has_legend(km))
        top += 22.0;
    if (km->ref_label && km->n_ref > 0)
        top += 12.0; /* the reference lines' labels, above the plot */
    out->width = KM_WIDTH;
    out->plot_x0 = left;
    out->plot_x1 = KM_WIDTH - KM_RIGHT;
    out->plot_y0 = top + 6.0;
    out->plot_y1 = out->plot_y0 + KM_PLOT_HEIGHT;
    out->x_max = km->x_max;
    out->n_strata = km->n_strata;
    out->n_ticks = tick_count(km);
    for (size_t i = 0; i < out->n_ticks; i++)
        out->tick_time[i] = (double)i * km->tick_step;
    out->has_end_tick = km->x_max - out->tick_time[out->n_ticks - 1] >= 0.25 * km->tick_step;

    double y = out->plot_y1 + 20.0; /* below the tick labels */
    if (km->x_label && *km->x_label)
        y += 18.0;
    if (rows > 0)
        y += 20.0; /* "Number at risk" heading */
    for (size_t k = 0; k < km->n_strata; k++) {
        const struct fig_km_stratum *st = &km->strata[k];
        if (!out->has_at_risk[k])
            continue;
        y += KM_ROW_H;
        out->at_risk_y[k] = y;
        for (size_t i = 0; i < out->n_ticks; i++)
            out->at_risk[k][i] =
                st->at_risk ? st->at_risk[i] : at_risk_from_steps(st, out->tick_time[i]);
    }
    out->height = y + 14.0;
    return 0;
}

double fig_km_x(const struct fig_km_layout *l, double t)
{
    return l->plot_x0 + t / l->x_max * (l->plot_x1 - l->plot_x0);
}

double fig_km_y(const struct fig_km_layout *l, double s)
{
    return l->plot_y1 - s * (l->plot_y1 - l->plot_y0);
}

/* fig_km_x for data-driven coordinates: times far past the axis are pulled in to just past
 * it (the plot is clipped there), so cairo never sees coordinates it cannot represent. */
static double kx(const struct fig_km_layout *l, double t)
{
    return fig_km_x(l, fmax(-l->x_max, fmin(t, 2.0 * l->x_max)));
}

/* Where the stratum's curve stops: its last step or its last censoring, whichever is later. */
static double curve_end(const struct fig_km_stratum *st)
{
    double end = st->time[st->n - 1];
    for (size_t i = 0; i < st->n_censor; i++)
        if (st->censor_time[i] > end)
            end = st->censor_time[i];
    return end;
}

/* S(t), right-continuous: the value of the last step at or before t. */
static double surv_at(const struct fig_km_stratum *st, double t)
{
    double s = 1.0;
    for (size_t i = 0; i < st->n && st->time[i] <= t; i++)
        s = st->surv[i];
    return s;
}

/* The CI band as filled step polygons, one per run of intervals where both limits exist.
 * Interval i is [time[i], time[i+1]) (the last ends at the curve's end). */
static void draw_band(cairo_t *cr, const struct fig_km_layout *l, const struct fig_km_stratum *st,
                      size_t k)
{
    double end = curve_end(st);
    size_t i = 0;
    fig_set_series_colour(cr, k, 0.16);
    while (i < st->n) {
        if (isnan(st->lower[i]) || isnan(st->upper[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < st->n && !isnan(st->lower[j + 1]) && !isnan(st->upper[j + 1]))
            j++;
        /* Upper edge left to right, lower edge back. */
        cairo_move_to(cr, kx(l, st->time[i]), fig_km_y(l, st->upper[i]));
        for (size_t m = i; m <= j; m++) {
            double t1 = m + 1 < st->n ? st->time[m + 1] : end;
            cairo_line_to(cr, kx(l, st->time[m]), fig_km_y(l, st->upper[m]));
            cairo_line_to(cr, kx(l, t1), fig_km_y(l, st->upper[m]));
        }
        for (size_t m = j + 1; m-- > i;) {
            double t1 = m + 1 < st->n ? st->time[m + 1] : end;
            cairo_line_to(cr, kx(l, t1), fig_km_y(l, st->lower[m]));
            cairo_line_to(cr, kx(l, st->time[m]), fig_km_y(l, st->lower[m]));
        }
        cairo_close_path(cr);
        cairo_fill(cr);
        i = j + 1;
    }
}

static void draw_curve(cairo_t *cr, const struct fig_km_layout *l, const struct fig_km_stratum *st,
                       size_t k)
{
    double s = 1.0;
    cairo_move_to(cr, kx(l, 0.0), fig_km_y(l, 1.0));
    for (size_t i = 0; i < st->n; i++) {
        cairo_line_to(cr, kx(l, st->time[i]), fig_km_y(l, s));
        s = st->surv[i];
        cairo_line_to(cr, kx(l, st->time[i]), fig_km_y(l, s));
    }
    cairo_line_to(cr, kx(l, curve_end(st)), fig_km_y(l, s));
    fig_set_series_colour(cr, k, 1.0);
    fig_set_series_dash(cr, k);
    cairo_set_line_width(cr, 1.8);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    cairo_set_line_width(cr, 1.2);
    for (size_t i = 0; i < st->n_censor; i++) {
        double x = kx(l, st->censor_time[i]);
        double y = fig_km_y(l, surv_at(st, st->censor_time[i]));
        cairo_move_to(cr, x, y - 4.0);
        cairo_line_to(cr, x, y + 4.0);
    }
    cairo_stroke(cr);
}

static void draw_at_risk(cairo_t *cr, const struct fig_km *km, const struct fig_km_layout *l)
{
    char buf[32];
    bool any = false;
    for (size_t k = 0; k < l->n_strata; k++)
        any = any || l->has_at_risk[k];
    if (!any)
        return;
    double first_y = 0.0;
    for (size_t k = 0; k < l->n_strata; k++)
        if (l->has_at_risk[k] && first_y == 0.0)
            first_y = l->at_risk_y[k];
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_font(cr, FIG_FONT_LABEL, true);
    fig_text(cr, 8.0, first_y - KM_ROW_H - 2.0, "Number at risk", FIG_LEFT, FIG_BASELINE);
    for (size_t k = 0; k < l->n_strata; k++) {
        if (!l->has_at_risk[k])
            continue;
        const char *label = km->strata[k].label ? km->strata[k].label : "";
        fig_font(cr, FIG_FONT_TICK, false);
        fig_set_series_colour(cr, k, 1.0);
        fig_text(cr, 8.0, l->at_risk_y[k], label, FIG_LEFT, FIG_BASELINE);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        for (size_t i = 0; i < l->n_ticks; i++) {
            fmt_text(buf, sizeof buf, "%.0f", l->at_risk[k][i]);
            fig_text(cr, fig_km_x(l, l->tick_time[i]), l->at_risk_y[k], buf, FIG_CENTER,
                     FIG_BASELINE);
        }
    }
}

int fig_km_draw(cairo_t *cr, const struct fig_km *km, struct err *e)
{
    struct fig_km_layout l;
    const char *labels[FIG_MAX_SERIES];
    char tick_buf[FIG_KM_MAX_TICKS + 1][24];
    const char *tick_labels[FIG_KM_MAX_TICKS + 1];
    double ticks[FIG_KM_MAX_TICKS + 1];
    int rc = fig_km_layout(km, &l, e);
    if (rc != 0)
        return rc;
    struct fig_frame fr = {l.plot_x0, l.plot_y0, l.plot_x1, l.plot_y1, 0.0,
                           l.x_max,   0.0,       1.0,       false};

    double below_title = fig_title(cr, l.width, km->title);
    if (has_legend(km)) {
        for (size_t k = 0; k < km->n_strata; k++)
            labels[k] = km->strata[k].label ? km->strata[k].label : "";
        fig_legend(cr, (l.plot_x0 + l.plot_x1) / 2.0, below_title + 8.0, labels, km->n_strata,
                   false, NULL);
    }
    fig_axis_y(cr, &fr, 0.0, 1.0, 0.2, true);
    size_t n_ticks = l.n_ticks;
    for (size_t i = 0; i < n_ticks; i++)
        ticks[i] = l.tick_time[i];
    if (l.has_end_tick)
        ticks[n_ticks++] = l.x_max;
    for (size_t i = 0; i < n_ticks; i++) {
        fig_fmt_tick(tick_buf[i], sizeof tick_buf[i], ticks[i], km->tick_step);
        tick_labels[i] = tick_buf[i];
    }
    fig_axis_x(cr, &fr, ticks, n_ticks, tick_labels);
    /* each reference line's label above the plot, centred on it (right-aligned at the axis's
     * end, so it stays inside the figure) */
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    fig_font(cr, FIG_FONT_SMALL, false);
    for (size_t i = 0; km->ref_label && i < km->n_ref; i++) {
        double t = km->ref_time[i];
        if (!km->ref_label[i] || t < 0.0 || t > l.x_max)
            continue;
        bool at_end = fig_km_x(&l, t) + 20.0 > l.width;
        fig_text(cr, fig_km_x(&l, t), l.plot_y0 - 5.0, km->ref_label[i],
                 at_end ? FIG_RIGHT : FIG_CENTER, FIG_BASELINE);
    }
    fig_axis_titles(cr, &fr, km->x_label, 24.0, km->y_label);

    /* Everything data-driven is clipped to the plot (a little above S = 1 so the line there
     * keeps its full width). */
    cairo_save(cr);
    cairo_rectangle(cr, l.plot_x0, l.plot_y0 - 3.0, l.plot_x1 - l.plot_x0,
                    l.plot_y1 - l.plot_y0 + 6.0);
    cairo_clip(cr);
    static const double dots[] = {1.0, 3.0};
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
    cairo_set_line_width(cr, 0.9);
    cairo_set_dash(cr, dots, 2, 0.0);
    for (size_t i = 0; i < km->n_ref; i++) {
        cairo_move_to(cr, kx(&l, km->ref_time[i]), l.plot_y0);
        cairo_line_to(cr, kx(&l, km->ref_time[i]), l.plot_y1);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    for (size_t k = 0; k < km->n_strata; k++)
        if (km->strata[k].lower)
            draw_band(cr, &l, &km->strata[k], k);
    for (size_t k = 0; k < km->n_strata; k++)
        draw_curve(cr, &l, &km->strata[k], k);
    cairo_restore(cr);

    draw_at_risk(cr, km, &l);
    return 0;
}
