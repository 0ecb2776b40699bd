/* The renderer behind every figure: picks the figure's check/size/draw functions, creates one
 * cairo surface for the requested format (SVG and PDF streamed into a strbuf, PNG rasterised
 * on an image surface), runs the single drawing code path on it and checks cairo's status.
 * Writing files is the only I/O in the module and happens here. */
#include "report/figure.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure_common.h"

/* A fixed creation date keeps PDFs byte-identical across runs (cairo would stamp "now"). */
#define FIG_PDF_DATE "2000-01-01T00:00:00Z"

const char *fig_format_ext(enum fig_format fmt)
{
    switch (fmt) {
    case FIG_SVG:
        return "svg";
    case FIG_PDF:
        return "pdf";
    case FIG_PNG:
        return "png";
    }
    return "?";
}

static int check_fig(const struct fig *f, struct err *e)
{
    if (!f)
        return err_set(e, ERR_INVALID, "figure: no figure given");
    switch (f->kind) {
    case FIG_KM:
        return fig_km_check(f->u.km, e);
    case FIG_FOREST:
        return fig_forest_check(f->u.forest, e);
    case FIG_FLOW:
        return fig_flow_check(f->u.flow, e);
    case FIG_LINES:
        return fig_lines_check(f->u.lines, e);
    case FIG_ENROL:
        return fig_enrol_check(f->u.enrol, e);
    }
    return err_set(e, ERR_INVALID, "figure: unknown figure kind %d", (int)f->kind);
}

/* The figure's size in points; text is measured on a scratch context set up like the real
 * one (unhinted metrics), so the layout does not depend on the output format. */
static int size_fig(const struct fig *f, double *w, double *h, struct err *e)
{
    struct fig_km_layout l;
    int rc = 0;
    switch (f->kind) {
    case FIG_KM:
        rc = fig_km_layout(f->u.km, &l, e);
        *w = l.width;
        *h = l.height;
        return rc;
    case FIG_FOREST: {
        struct fig_forest_layout *fl = malloc(sizeof *fl);
        if (!fl)
            return err_set(e, ERR_NOMEM, "figure: out of memory");
        rc = fig_forest_layout(f->u.forest, fl, e);
        *w = fl->width;
        *h = fl->height;
        free(fl);
        return rc;
    }
    case FIG_LINES:
        fig_lines_size(f->u.lines, w, h);
        return 0;
    case FIG_ENROL:
        fig_enrol_size(f->u.enrol, w, h);
        return 0;
    case FIG_FLOW:
        break;
    }
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(s);
    fig_text_setup(cr);
    rc = fig_flow_size(cr, f->u.flow, w, h, e);
    if (rc == 0 && cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = err_set(e, ERR_INTERNAL, "figure: measuring text: %s",
                     cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return rc;
}

static int draw_fig(cairo_t *cr, const struct fig *f, struct err *e)
{
    switch (f->kind) {
    case FIG_KM:
        return fig_km_draw(cr, f->u.km, e);
    case FIG_FOREST:
        return fig_forest_draw(cr, f->u.forest, e);
    case FIG_FLOW:
        return fig_flow_draw(cr, f->u.flow, e);
    case FIG_LINES:
        return fig_lines_draw(cr, f->u.lines, e);
    case FIG_ENROL:
        return fig_enrol_draw(cr, f->u.enrol, e);
    }
    return err_set(e, ERR_INTERNAL, "figure: unknown figure kind");
}

static cairo_status_t write_strbuf(void *closure, const unsigned char *data, unsigned int len)
{
    struct strbuf *sb = closure;
    strbuf_add(sb, data, len);
    return sb->failed ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

static const char *fig_title_of(const struct fig *f)
{
    switch (f->kind) {
    case FIG_KM:
        return f->u.km->title;
    case FIG_FOREST:
        return f->u.forest->title;
    case FIG_FLOW:
        return f->u.flow->title;
    case FIG_LINES:
        return f->u.lines->title;
    case FIG_ENROL:
        return f->u.enrol->title;
    }
    return NULL;
}

static cairo_surface_t *make_surface(const struct fig *f, enum fig_format fmt, double w, double h,
                                     struct strbuf *out)
{
    cairo_surface_t *s = NULL;
    const char *title = fig_title_of(f);
    switch (fmt) {
    case FIG_SVG:
        s = cairo_svg_surface_create_for_stream(write_strbuf, out, w, h);
        if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS)
            cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1);
        break;
    case FIG_PDF:
        s = cairo_pdf_surface_create_for_stream(write_strbuf, out, w, h);
        if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, FIG_PDF_DATE);
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "ioheme");
            if (title && *title)
                cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
        }
        break;
    case FIG_PNG:
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)ceil(w * FIG_PNG_SCALE),
                                       (int)ceil(h * FIG_PNG_SCALE));
        break;
    }
    return s;
}

/* cairo names the SVG's root group after its surface's serial number, which comes from a
 * process-wide counter, so the same figure rendered twice would differ there. The id is never
 * referenced (cairo only references ids of source surfaces, which we do not use); renaming it
 * to a fixed "figure" makes SVG output deterministic. The new name is never longer, so the
 * edit is in place. */
static void svg_fix_root_id(struct strbuf *out, size_t from)
{
    static const char key[] = "<g id=\"surface";
    static const char fixed[] = "<g id=\"figure\"";
    char *p = out->buf ? strstr(out->buf + from, key) : NULL;
    if (!p)
        return;
    char *q = p + strlen(key);
    while (*q >= '0' && *q <= '9')
        q++;
    if (*q != '"')
        return;
    q++;
    size_t old_len = (size_t)(q - p), new_len = strlen(fixed);
    memcpy(p, fixed, new_len);
    memmove(p + new_len, q, out->len - (size_t)(q - out->buf) + 1);
    out->len -= old_len - new_len;
}

int fig_render_buf(const struct fig *f, enum fig_format fmt, struct strbuf *out, struct err *e)
{
    double w = 0.0, h = 0.0;
    int rc;
    if (!out)
        return err_set(e, ERR_INVALID, "figure: no output buffer");
    if (fmt != FIG_SVG && fmt != FIG_PDF && fmt != FIG_PNG)
        return err_set(e, ERR_INVALID, "figure: unknown format %d", (int)fmt);
    if ((rc = check_fig(f, e)) != 0 || (rc = size_fig(f, &w, &h, e)) != 0)
        return rc;
    if (!(w > 0.0 && h > 0.0 && w < 5000.0 && h < 5000.0))
        return err_set(e, ERR_INVALID, "figure: size %.0f x %.0f pt is out of range", w, h);

    size_t start = out->len;
    cairo_surface_t *s = make_surface(f, fmt, w, h, out);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        rc = err_set(e, ERR_NOMEM, "figure: creating the %s surface: %s", fig_format_ext(fmt),
                     cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return rc;
    }
    cairo_t *cr = cairo_create(s);
    if (fmt == FIG_PNG)
        cairo_scale(cr, FIG_PNG_SCALE, FIG_PNG_SCALE);
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
    fig_text_setup(cr);
    rc = draw_fig(cr, f, e);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = err_set(e, ERR_INTERNAL, "figure: drawing: %s", cairo_status_to_string(st));
    if (rc == 0 && fmt == FIG_PNG) {
        st = cairo_surface_write_to_png_stream(s, write_strbuf, out);
        if (st != CAIRO_STATUS_SUCCESS)
            rc = err_set(e, out->failed ? ERR_NOMEM : ERR_INTERNAL, "figure: writing PNG: %s",
                         cairo_status_to_string(st));
    }
    cairo_surface_finish(s); /* flushes the SVG/PDF document into out */
    st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = err_set(e, out->failed ? ERR_NOMEM : ERR_INTERNAL, "figure: finishing %s: %s",
                     fig_format_ext(fmt), cairo_status_to_string(st));
    if (rc == 0 && out->failed)
        rc = err_set(e, ERR_NOMEM, "figure: out of memory");
    if (rc == 0 && fmt == FIG_SVG)
        svg_fix_root_id(out, start);
    return rc;
}

int fig_render_file(const struct fig *f, const char *path, enum fig_format fmt, struct err *e)
{
    struct strbuf sb = STRBUF_INIT;
    int rc;
    if (!path || !*path)
        return err_set(e, ERR_INVALID, "figure: no output path");
    if ((rc = fig_render_buf(f, fmt, &sb, e)) != 0) {
        strbuf_release(&sb);
        return rc;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        strbuf_release(&sb);
        return rc;
    }
    size_t wrote = fwrite(sb.buf, 1, sb.len, fp);
    int werr = wrote != sb.len ? errno : 0;
    if (fclose(fp) != 0 && werr == 0)
        werr = errno ? errno : EIO;
    if (wrote != sb.len || werr != 0)
        rc = err_set(e, ERR_IO, "%s: writing: %s", path, strerror(werr ? werr : EIO));
    strbuf_release(&sb);
    return rc;
}

void fig_release_caches(void)
{
    cairo_debug_reset_static_data();
}

int fig_render_all(const struct fig *f, const char *base, struct err *e)
{
    static const enum fig_format fmts[] = {FIG_SVG, FIG_PDF, FIG_PNG};
    struct strbuf path = STRBUF_INIT;
    int rc = 0;
    if (!base || !*base)
        return err_set(e, ERR_INVALID, "figure: no output base path");
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0] && rc == 0; i++) {
        strbuf_reset(&path);
        strbuf_addf(&path, "%s.%s", base, fig_format_ext(fmts[i]));
        if (path.failed)
            rc = err_set(e, ERR_NOMEM, "figure: out of memory");
        else
            rc = fig_render_file(f, strbuf_str(&path), fmts[i], e);
    }
    strbuf_release(&path);
    return rc;
}
