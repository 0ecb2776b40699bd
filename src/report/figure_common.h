/* Private to src/report/figure_*.c: the drawing vocabulary every figure shares (palette, dash
 * patterns, fonts, aligned text, word wrap, axes, nice ticks, input checks) and each figure's
 * entry points for the renderer in figure.c. Not part of the module's public face. */
#ifndef IOHEME_REPORT_FIGURE_COMMON_H
#define IOHEME_REPORT_FIGURE_COMMON_H

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "report/figure.h"

/* Font sizes in points. */
#define FIG_FONT_TITLE 13.0
#define FIG_FONT_LABEL 10.5
#define FIG_FONT_TICK 9.5
#define FIG_FONT_SMALL 8.5

enum fig_halign { FIG_LEFT, FIG_CENTER, FIG_RIGHT };
enum fig_valign { FIG_TOP, FIG_MIDDLE, FIG_BASELINE, FIG_BOTTOM };

/* Okabe–Ito colour of series i (cycles); rgb in 0..1. */
void fig_series_rgb(size_t i, double rgb[3]);
void fig_set_series_colour(cairo_t *cr, size_t i, double alpha);
/* Dash pattern of series i (0 = solid). */
void fig_set_series_dash(cairo_t *cr, size_t i);
/* A marker of series i's shape (circle, square, triangle, diamond, ...) centred at x,y, filled
 * with the current source. */
void fig_marker(cairo_t *cr, size_t i, double x, double y, double r);

/* Sets up cr for text: sans-serif, hinting off so layout is identical on every surface. */
void fig_text_setup(cairo_t *cr);
void fig_font(cairo_t *cr, double size, bool bold);
/* Draws s with the given anchor at x,y; returns the text's advance width. */
double fig_text(cairo_t *cr, double x, double y, const char *s, enum fig_halign h,
                enum fig_valign v);
double fig_text_width(cairo_t *cr, const char *s);
/* The widest of n strings (NULLs skipped) at the given font, measured on a scratch context
 * set up like a real one; 0 when cairo cannot measure. For layouts computed before a
 * surface exists. */
double fig_measure_max_width(const char *const *s, size_t n, double size, bool bold);
/* Draws s rotated 90° anticlockwise, centred at x,y (a y-axis label). */
void fig_text_vertical(cairo_t *cr, double x, double y, const char *s);
/* Greedy word wrap of s into lines no wider than width (a single long word overflows). Lines
 * are written into buf (NUL-separated) and pointers into lines[]; returns the line count
 * (at most max_lines: the rest is dropped), or 0 when buf is too small. */
size_t fig_wrap(cairo_t *cr, const char *s, double width, char *buf, size_t buf_len,
                const char **lines, size_t max_lines);

/* Chooses a "nice" tick step (1, 2, 2.5 or 5 × 10^k) so that range has about `target` ticks. */
double fig_nice_step(double range, int target);
/* Formats v for a tick label with as many decimals as step needs. */
void fig_fmt_tick(char *buf, size_t len, double v, double step);

/* A plot area: data ranges and the rectangle they map onto (y grows downwards). */
struct fig_frame {
    double x0, y0, x1, y1;     /* rectangle in points */
    double dx0, dx1, dy0, dy1; /* data ranges: dx0 at x0, dy0 at y1 (bottom) */
    bool log_x;
};
double fig_frame_x(const struct fig_frame *f, double v);
double fig_frame_y(const struct fig_frame *f, double v);
/* Light horizontal grid lines and the y axis with tick labels (values lo..hi by step;
 * label_pct multiplies labels by 100). */
void fig_axis_y(cairo_t *cr, const struct fig_frame *f, double lo, double hi, double step,
                bool label_pct);
/* The bottom axis line and tick marks at ticks[]; labels drawn when labels != NULL. */
void fig_axis_x(cairo_t *cr, const struct fig_frame *f, const double *ticks, size_t n,
                const char *const *labels);
/* The axis titles: x_label centred dy below the plot, y_label rotated, 46 pt left of it
 * (clear of the tick labels). Either may be NULL. */
void fig_axis_titles(cairo_t *cr, const struct fig_frame *f, const char *x_label, double dy,
                     const char *y_label);
/* A title centred at the top; returns the y below it (top margin when title is NULL). */
double fig_title(cairo_t *cr, double width, const char *title);
/* A one-row legend of line samples (dash + marker when with_marker) centred at y; ref_label,
 * when not NULL, adds a last entry for a grey dashed reference line. */
void fig_legend(cairo_t *cr, double cx, double y, const char *const *labels, size_t n,
                bool with_marker, const char *ref_label);
/* Starts the path of a grey dashed reference line's style (source, width, dash). */
void fig_set_ref_style(cairo_t *cr);
/* A filled arrowhead with its tip at x,y pointing along dx,dy (unit vector). */
void fig_arrowhead(cairo_t *cr, double x, double y, double dx, double dy, double size);

/* Input checks: each returns 0 or sets e (naming what) and returns ERR_INVALID. */
int fig_check_str(const char *s, const char *what, bool required, struct err *e);
int fig_check_array(const double *a, size_t n, const char *what, struct err *e);

/* Each figure: validate, size (text measured on `measure`), draw. */
int fig_km_check(const struct fig_km *km, struct err *e);
int fig_km_draw(cairo_t *cr, const struct fig_km *km, struct err *e);
int fig_forest_check(const struct fig_forest *fp, struct err *e);
int fig_forest_draw(cairo_t *cr, const struct fig_forest *fp, struct err *e);
int fig_flow_check(const struct fig_flow *fl, struct err *e);
int fig_flow_size(cairo_t *measure, const struct fig_flow *fl, double *w, double *h, struct err *e);
int fig_flow_draw(cairo_t *cr, const struct fig_flow *fl, struct err *e);
int fig_lines_check(const struct fig_lines *ln, struct err *e);
void fig_lines_size(const struct fig_lines *ln, double *w, double *h);
int fig_lines_draw(cairo_t *cr, const struct fig_lines *ln, struct err *e);
int fig_enrol_check(const struct fig_enrol *en, struct err *e);
void fig_enrol_size(const struct fig_enrol *en, double *w, double *h);
int fig_enrol_draw(cairo_t *cr, const struct fig_enrol *en, struct err *e);

#endif
