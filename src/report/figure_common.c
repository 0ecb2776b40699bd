/* The drawing vocabulary the report's figures share: Okabe–Ito palette and dash patterns (so
 * series stay distinct in colour and in a grey print), fonts and anchored text, word wrap,
 * nice tick steps, axes, titles, legends, arrowheads and input checks. */
#include "report/figure_common.h"

#include "base/fmt.h"
#include "base/utf8.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Okabe & Ito (2008), in an order that keeps the first colours dark enough for thin lines on
 * white: blue, vermillion, bluish green, reddish purple, orange, sky blue, black. */
static const double palette[FIG_MAX_SERIES][3] = {
    {0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0},
    {0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0},
    {0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0},
    {0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0},
    {0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0},
    {0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0},
    {0.0, 0.0, 0.0},
};

void fig_series_rgb(size_t i, double rgb[3])
{
    memcpy(rgb, palette[i % FIG_MAX_SERIES], sizeof palette[0]);
}

void fig_set_series_colour(cairo_t *cr, size_t i, double alpha)
{
    const double *c = palette[i % FIG_MAX_SERIES];
    cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

void fig_set_series_dash(cairo_t *cr, size_t i)
{
    static const double dash1[] = {6.0, 3.0};
    static const double dash2[] = {1.5, 2.5};
    static const double dash3[] = {7.0, 2.5, 1.5, 2.5};
    static const double dash4[] = {11.0, 3.5};
    static const double dash5[] = {3.0, 2.0};
    static const double dash6[] = {7.0, 2.0, 1.5, 2.0, 1.5, 2.0};
    static const struct {
        const double *d;
        int n;
    } dashes[FIG_MAX_SERIES] = {{NULL, 0},  {dash1, 2}, {dash2, 2}, {dash3, 4},
                                {dash4, 2}, {dash5, 2}, {dash6, 6}};
    size_t k = i % FIG_MAX_SERIES;
    cairo_set_dash(cr, dashes[k].d, dashes[k].n, 0.0);
}

void fig_marker(cairo_t *cr, size_t i, double x, double y, double r)
{
    cairo_new_sub_path(cr);
    switch (i % 4) {
    case 0:
        cairo_arc(cr, x, y, r, 0.0, 2.0 * M_PI);
        break;
    case 1:
        cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
        break;
    case 2:
        cairo_move_to(cr, x, y - r * 1.15);
        cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
        cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
        cairo_close_path(cr);
        break;
    default:
        cairo_move_to(cr, x, y - r * 1.25);
        cairo_line_to(cr, x + r * 1.05, y);
        cairo_line_to(cr, x, y + r * 1.25);
        cairo_line_to(cr, x - r * 1.05, y);
        cairo_close_path(cr);
        break;
    }
    cairo_fill(cr);
}

void fig_text_setup(cairo_t *cr)
{
    cairo_font_options_t *fo = cairo_font_options_create();
    /* Unhinted metrics: glyph advances are the same on raster and vector surfaces, so text
     * measured for layout fits identically in SVG, PDF and PNG. */
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    fig_font(cr, FIG_FONT_LABEL, false);
}

void fig_font(cairo_t *cr, double size, bool bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double fig_text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

double fig_measure_max_width(const char *const *s, size_t n, double size, bool bold)
{
    double w = 0.0;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(surf);
    fig_text_setup(cr);
    fig_font(cr, size, bold);
    for (size_t i = 0; i < n; i++) {
        if (s[i]) {
            double wi = fig_text_width(cr, s[i]);
            if (wi > w)
                w = wi;
        }
    }
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        w = 0.0;
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return w;
}

double fig_text(cairo_t *cr, double x, double y, const char *s, enum fig_halign h,
                enum fig_valign v)
{
    cairo_font_extents_t fe;
    double w = fig_text_width(cr, s);
    cairo_font_extents(cr, &fe);
    /* Cap-height-ish centring from the font's ascent, not the string's ink, so a row of
     * labels shares one baseline whatever letters they hold. */
    double asc = fe.ascent * 0.78;
    if (h == FIG_CENTER)
        x -= w / 2.0;
    else if (h == FIG_RIGHT)
        x -= w;
    if (v == FIG_TOP)
        y += asc;
    else if (v == FIG_MIDDLE)
        y += asc / 2.0;
    else if (v == FIG_BOTTOM)
        y -= fe.descent;
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    return w;
}

void fig_text_vertical(cairo_t *cr, double x, double y, const char *s)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -M_PI / 2.0);
    fig_text(cr, 0.0, 0.0, s, FIG_CENTER, FIG_MIDDLE);
    cairo_restore(cr);
}

size_t fig_wrap(cairo_t *cr, const char *s, double width, char *buf, size_t buf_len,
                const char **lines, size_t max_lines)
{
    size_t n_lines = 0, used = 0;
    const char *p = s;
    if (strlen(s) + 1 > buf_len)
        return 0;
    while (*p && n_lines < max_lines) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        /* Take words while the line fits; a first word always goes, even if too wide. */
        char *line = buf + used;
        size_t len = 0;
        const char *q = p;
        while (*q) {
            const char *word_end = q;
            while (*word_end && *word_end != ' ')
                word_end++;
            size_t add = (size_t)(word_end - q);
            size_t sep = len > 0 ? 1 : 0;
            memcpy(line + len + sep, q, add);
            if (sep)
                line[len] = ' ';
            line[len + sep + add] = '\0';
            if (len > 0 && fig_text_width(cr, line) > width) {
                line[len] = '\0';
                break;
            }
            len += sep + add;
            q = word_end;
            while (*q == ' ')
                q++;
        }
        lines[n_lines++] = line;
        used += len + 1;
        p = q;
    }
    return n_lines;
}

double fig_nice_step(double range, int target)
{
    if (!(range > 0.0) || target < 1)
        return 1.0;
    double raw = range / target;
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    double m = r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 2.5 ? 2.5 : r <= 5.0 ? 5.0 : 10.0;
    return m * mag;
}

void fig_fmt_tick(char *buf, size_t len, double v, double step)
{
    int dec = 0;
    /* Enough decimals that step is shown exactly (0.25 → 2, 2.5 → 1, 10 → 0). */
    while (dec < 6 && fabs(step * pow(10.0, dec) - round(step * pow(10.0, dec))) > 1e-9)
        dec++;
    if (fabs(v) < step * 1e-9)
        v = 0.0;
    fmt_text(buf, len, "%.*f", dec, v);
}

double fig_frame_x(const struct fig_frame *f, double v)
{
    double a = f->dx0, b = f->dx1;
    if (f->log_x) {
        a = log(a);
        b = log(b);
        v = log(v);
    }
    return f->x0 + (v - a) / (b - a) * (f->x1 - f->x0);
}

double fig_frame_y(const struct fig_frame *f, double v)
{
    return f->y1 - (v - f->dy0) / (f->dy1 - f->dy0) * (f->y1 - f->y0);
}

void fig_axis_y(cairo_t *cr, const struct fig_frame *f, double lo, double hi, double step,
                bool label_pct)
{
    char buf[64];
    int n = (int)floor((hi - lo) / step + 1e-9);
    cairo_save(cr);
    fig_font(cr, FIG_FONT_TICK, false);
    for (int k = 0; k <= n; k++) {
        double v = lo + k * step;
        double y = fig_frame_y(f, v);
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_set_line_width(cr, 0.5);
        cairo_move_to(cr, f->x0, y);
        cairo_line_to(cr, f->x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_set_line_width(cr, 0.8);
        cairo_move_to(cr, f->x0 - 4.0, y);
        cairo_line_to(cr, f->x0, y);
        cairo_stroke(cr);
        fig_fmt_tick(buf, sizeof buf, label_pct ? v * 100.0 : v, label_pct ? step * 100 : step);
        fig_text(cr, f->x0 - 7.0, y, buf, FIG_RIGHT, FIG_MIDDLE);
    }
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, f->x0, f->y0);
    cairo_line_to(cr, f->x0, f->y1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void fig_axis_x(cairo_t *cr, const struct fig_frame *f, const double *ticks, size_t n,
                const char *const *labels)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, f->x0, f->y1);
    cairo_line_to(cr, f->x1, f->y1);
    cairo_stroke(cr);
    fig_font(cr, FIG_FONT_TICK, false);
    for (size_t k = 0; k < n; k++) {
        double x = fig_frame_x(f, ticks[k]);
        cairo_move_to(cr, x, f->y1);
        cairo_line_to(cr, x, f->y1 + 4.0);
        cairo_stroke(cr);
        if (labels)
            fig_text(cr, x, f->y1 + 7.0, labels[k], FIG_CENTER, FIG_TOP);
    }
    cairo_restore(cr);
}

void fig_axis_titles(cairo_t *cr, const struct fig_frame *f, const char *x_label, double dy,
                     const char *y_label)
{
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_font(cr, FIG_FONT_LABEL, false);
    if (y_label)
        fig_text_vertical(cr, f->x0 - 46.0, (f->y0 + f->y1) / 2.0, y_label);
    if (x_label)
        fig_text(cr, (f->x0 + f->x1) / 2.0, f->y1 + dy, x_label, FIG_CENTER, FIG_TOP);
}

double fig_title(cairo_t *cr, double width, const char *title)
{
    if (!title || !*title)
        return 14.0;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_font(cr, FIG_FONT_TITLE, true);
    fig_text(cr, width / 2.0, 12.0, title, FIG_CENTER, FIG_TOP);
    cairo_restore(cr);
    return 36.0;
}

void fig_set_ref_style(cairo_t *cr)
{
    static const double dash[] = {5.0, 3.0};
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, dash, 2, 0.0);
}

void fig_legend(cairo_t *cr, double cx, double y, const char *const *labels, size_t n,
                bool with_marker, const char *ref_label)
{
    const double sample = 26.0, gap = 6.0, between = 18.0;
    double total = 0.0;
    cairo_save(cr);
    fig_font(cr, FIG_FONT_LABEL, false);
    for (size_t i = 0; i < n; i++)
        total += sample + gap + fig_text_width(cr, labels[i]) + (i + 1 < n ? between : 0.0);
    if (ref_label)
        total += between + sample + gap + fig_text_width(cr, ref_label);
    double x = cx - total / 2.0;
    for (size_t i = 0; i < n; i++) {
        fig_set_series_colour(cr, i, 1.0);
        fig_set_series_dash(cr, i);
        cairo_set_line_width(cr, 2.0);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + sample, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        if (with_marker)
            fig_marker(cr, i, x + sample / 2.0, y, 3.2);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        x += sample + gap;
        x += fig_text(cr, x, y, labels[i], FIG_LEFT, FIG_MIDDLE) + between;
    }
    if (ref_label) {
        fig_set_ref_style(cr);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + sample, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0.0);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        fig_text(cr, x + sample + gap, y, ref_label, FIG_LEFT, FIG_MIDDLE);
    }
    cairo_restore(cr);
}

void fig_arrowhead(cairo_t *cr, double x, double y, double dx, double dy, double size)
{
    /* Perpendicular (−dy, dx); the head is a narrow triangle behind the tip. */
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x - dx * size - dy * size * 0.5, y - dy * size + dx * size * 0.5);
    cairo_line_to(cr, x - dx * size + dy * size * 0.5, y - dy * size - dx * size * 0.5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

int fig_check_str(const char *s, const char *what, bool required, struct err *e)
{
    if (!s) {
        if (required)
            return err_set_field(e, ERR_INVALID, what, "figure: %s is missing", what);
        return 0;
    }
    if (!utf8_is_valid(s))
        return err_set_field(e, ERR_INVALID, what, "figure: %s is not valid UTF-8", what);
    if (strlen(s) > 400)
        return err_set_field(e, ERR_INVALID, what, "figure: %s is longer than 400 bytes", what);
    return 0;
}

int fig_check_array(const double *a, size_t n, const char *what, struct err *e)
{
    if (n > 0 && !a)
        return err_set_field(e, ERR_INVALID, what, "figure: %s is NULL but %zu values expected",
                             what, n);
    return 0;
}
