/* CONSORT-style flow diagram: a column of boxes (screened → eligible → enrolled → analysed),
 * each with its n, joined by arrows; where patients leave between two stages a side box lists
 * the reasons with counts. Text wraps inside the boxes, and box heights follow the wrapped
 * text. The counts must add up (a stage's n minus its exclusions is the next stage's n), as
 * CONSORT asks. */
#include "base/fmt.h"
#include "report/figure_common.h"

#include <stdio.h>
#include <string.h>

#define FL_WIDTH 520.0
#define FL_MAIN_X 20.0
#define FL_MAIN_W 230.0
#define FL_SIDE_X 290.0
#define FL_SIDE_W 215.0
#define FL_PAD 8.0
#define FL_LINE_H 13.5
#define FL_MAX_STAGES 12
#define FL_MAX_EXCL 20
#define FL_MAX_LINES 40 /* a 400-byte label wraps to about 12 lines; room to spare */
#define FL_TEXT_MAX 512
/* U+00A0: fig_wrap breaks only at ASCII spaces, so "(n = 4)" never splits. */
#define NBSP "\xC2\xA0"

struct fl_layout {
    double height;
    double box_y[FL_MAX_STAGES], box_h[FL_MAX_STAGES];
    double side_y[FL_MAX_STAGES], side_h[FL_MAX_STAGES];
};

int fig_flow_check(const struct fig_flow *fl, struct err *e)
{
    int rc;
    char what[64];
    if (!fl)
        return err_set(e, ERR_INVALID, "figure: no flow diagram description");
    if ((rc = fig_check_str(fl->title, "title", false, e)) != 0)
        return rc;
    if (!fl->stages || fl->n_stages == 0)
        return err_set_field(e, ERR_INVALID, "stages", "figure: flow diagram has no stages");
    if (fl->n_stages > FL_MAX_STAGES)
        return err_set_field(e, ERR_INVALID, "stages",
                             "figure: flow diagram has %zu stages; at most %d", fl->n_stages,
                             FL_MAX_STAGES);
    for (size_t i = 0; i < fl->n_stages; i++) {
        const struct fig_flow_stage *s = &fl->stages[i];
        long left = s->n;
        fmt_exact(what, sizeof what, "stages[%zu]", i);
        if ((rc = fig_check_str(s->label, what, true, e)) != 0 ||
            (rc = fig_check_str(s->excl_label, what, false, e)) != 0)
            return rc;
        if (s->n < 0)
            return err_set_field(e, ERR_INVALID, what, "figure: flow %s (%s) has n = %ld < 0", what,
                                 s->label, s->n);
        if (s->n_excl > FL_MAX_EXCL)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: flow %s has %zu exclusion reasons; at most %d", what,
                                 s->n_excl, FL_MAX_EXCL);
        if (s->n_excl > 0 && !s->excl)
            return err_set_field(e, ERR_INVALID, what, "figure: flow %s excl is NULL", what);
        if (s->n_excl > 0 && i + 1 == fl->n_stages)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: flow %s is the last stage; its exclusions lead nowhere",
                                 what);
        for (size_t k = 0; k < s->n_excl; k++) {
            if ((rc = fig_check_str(s->excl[k].reason, what, true, e)) != 0)
                return rc;
            if (s->excl[k].n < 0)
                return err_set_field(e, ERR_INVALID, what,
                                     "figure: flow %s exclusion \"%s\" has n = %ld < 0", what,
                                     s->excl[k].reason, s->excl[k].n);
            left -= s->excl[k].n;
        }
        if (i + 1 < fl->n_stages && left != fl->stages[i + 1].n)
            return err_set_field(e, ERR_INVALID, what,
                                 "figure: flow counts do not add up: %s (n = %ld) minus %ld "
                                 "excluded is %ld, but %s has n = %ld",
                                 s->label, s->n, s->n - left, left, fl->stages[i + 1].label,
                                 fl->stages[i + 1].n);
    }
    return 0;
}

static long excluded(const struct fig_flow_stage *s)
{
    long sum = 0;
    for (size_t k = 0; k < s->n_excl; k++)
        sum += s->excl[k].n;
    return sum;
}

/* Draws (when draw) or only counts the lines of s wrapped to width, starting at baseline y
 * with the first line at x and later lines at x + indent; returns the number of lines. */
static size_t text_block(cairo_t *cr, const char *s, double x, double y, double width,
                         double indent, bool centred, bool draw)
{
    char buf[FL_TEXT_MAX];
    const char *lines[FL_MAX_LINES];
    size_t n = fig_wrap(cr, s, width - indent, buf, sizeof buf, lines, FL_MAX_LINES);
    for (size_t i = 0; draw && i < n; i++) {
        if (centred)
            fig_text(cr, x + width / 2.0, y + (double)i * FL_LINE_H, lines[i], FIG_CENTER,
                     FIG_BASELINE);
        else
            fig_text(cr, x + (i > 0 ? indent : 0.0), y + (double)i * FL_LINE_H, lines[i], FIG_LEFT,
                     FIG_BASELINE);
    }
    return n;
}

/* The main box's text, e.g. "Enrolled (n = 52)". */
static void stage_text(char *buf, size_t len, const struct fig_flow_stage *s)
{
    fmt_text(buf, len, "%s (n" NBSP "=" NBSP "%ld)", s->label, s->n);
}

static double main_box(cairo_t *cr, const struct fig_flow_stage *s, double y, bool draw)
{
    char text[FL_TEXT_MAX];
    stage_text(text, sizeof text, s);
    fig_font(cr, FIG_FONT_LABEL, false);
    size_t n = text_block(cr, text, FL_MAIN_X + FL_PAD, y + FL_PAD + 10.0, FL_MAIN_W - 2.0 * FL_PAD,
                          0.0, true, draw);
    return (double)n * FL_LINE_H + 2.0 * FL_PAD;
}

static double side_box(cairo_t *cr, const struct fig_flow_stage *s, double y, bool draw)
{
    char text[FL_TEXT_MAX];
    double inner = FL_SIDE_W - 2.0 * FL_PAD;
    double yy = y + FL_PAD + 10.0;
    fmt_text(text, sizeof text, "%s (n" NBSP "=" NBSP "%ld)",
             s->excl_label ? s->excl_label : "Excluded", excluded(s));
    fig_font(cr, FIG_FONT_LABEL, true);
    yy += (double)text_block(cr, text, FL_SIDE_X + FL_PAD, yy, inner, 0.0, false, draw) * FL_LINE_H;
    fig_font(cr, FIG_FONT_TICK, false);
    for (size_t k = 0; k < s->n_excl; k++) {
        fmt_text(text, sizeof text, "• %s (n" NBSP "=" NBSP "%ld)", s->excl[k].reason,
                 s->excl[k].n);
        yy += (double)text_block(cr, text, FL_SIDE_X + FL_PAD, yy, inner, 9.0, false, draw) *
              FL_LINE_H;
    }
    return yy - FL_LINE_H + 3.0 + FL_PAD - y; /* last baseline, descent, padding */
}

static void layout(cairo_t *cr, const struct fig_flow *fl, struct fl_layout *l)
{
    double y = (fl->title && *fl->title ? 36.0 : 14.0) + 4.0;
    *l = (struct fl_layout){0};
    for (size_t i = 0; i < fl->n_stages; i++) {
        const struct fig_flow_stage *s = &fl->stages[i];
        l->box_y[i] = y;
        l->box_h[i] = main_box(cr, s, y, false);
        y += l->box_h[i];
        if (i + 1 == fl->n_stages)
            break;
        double gap = 34.0;
        if (s->n_excl > 0) {
            l->side_h[i] = side_box(cr, s, 0.0, false);
            if (l->side_h[i] + 24.0 > gap)
                gap = l->side_h[i] + 24.0;
            l->side_y[i] = y + (gap - l->side_h[i]) / 2.0;
        }
        y += gap;
    }
    l->height = y + 14.0;
}

int fig_flow_size(cairo_t *measure, const struct fig_flow *fl, double *w, double *h, struct err *e)
{
    struct fl_layout l;
    (void)e;
    layout(measure, fl, &l);
    *w = FL_WIDTH;
    *h = l.height;
    return 0;
}

static void box(cairo_t *cr, double x, double y, double w, double h)
{
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
}

int fig_flow_draw(cairo_t *cr, const struct fig_flow *fl, struct err *e)
{
    struct fl_layout l;
    const double cx = FL_MAIN_X + FL_MAIN_W / 2.0;
    (void)e;
    layout(cr, fl, &l);
    fig_title(cr, FL_WIDTH, fl->title);
    for (size_t i = 0; i < fl->n_stages; i++) {
        const struct fig_flow_stage *s = &fl->stages[i];
        box(cr, FL_MAIN_X, l.box_y[i], FL_MAIN_W, l.box_h[i]);
        main_box(cr, s, l.box_y[i], true);
        if (i + 1 == fl->n_stages)
            break;
        double y0 = l.box_y[i] + l.box_h[i], y1 = l.box_y[i + 1];
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, cx, y0);
        cairo_line_to(cr, cx, y1 - 5.0);
        cairo_stroke(cr);
        fig_arrowhead(cr, cx, y1, 0.0, 1.0, 6.0);
        if (s->n_excl > 0) {
            double ym = l.side_y[i] + l.side_h[i] / 2.0;
            cairo_move_to(cr, cx, ym);
            cairo_line_to(cr, FL_SIDE_X - 5.0, ym);
            cairo_stroke(cr);
            fig_arrowhead(cr, FL_SIDE_X, ym, 1.0, 0.0, 6.0);
            box(cr, FL_SIDE_X, l.side_y[i], FL_SIDE_W, l.side_h[i]);
            side_box(cr, s, l.side_y[i], true);
        }
    }
    return 0;
}
