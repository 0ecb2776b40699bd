/* Tests for report/figure: every figure renders as well-formed SVG (xmllint), a complete PDF
 * and a PNG of the expected size; the KM curve's pixels sit where the data put them; the
 * numbers-at-risk cells match counts worked out by hand; bad input is refused with a message
 * naming the fault; output is deterministic. Rendered files are kept in
 * <build>/tests/artifacts/figures/ for a human to look at. */
/* cmocka needs these first, in this order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/figure.h"

#define ART_DIR "tests/artifacts/figures"

/* fontconfig loads its configuration once per process (FcInitLoadConfigAndFonts) and frees it
 * only in FcFini, which needs -lfontconfig that the build does not link. fig_release_caches()
 * frees everything cairo holds; this tells LeakSanitizer (when built with it) about the one
 * process-lifetime allocation that remains. fontconfig is stripped, so the allocation's
 * frames name only the library: the suppression covers allocations made inside
 * libfontconfig, not cairo's or ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

/* ---- sample figures ---------------------------------------------------------------------- */

/* Stratum A: S = 1 until day 5, 0.75 on [5,10), 0.5 on [10,20), 0.25 from day 20 (to 30). */
static const double a_time[] = {5, 10, 20, 30};
static const double a_surv[] = {0.75, 0.5, 0.25, 0.25};
static const double a_lo[] = {0.5, 0.3, 0.1, 0.1};
static const double a_up[] = {0.9, 0.7, 0.45, 0.45};
static const double a_nrisk[] = {8, 6, 4, 1};
static const double a_cens[] = {30};
/* Stratum B: caller-supplied at-risk counts, one per tick (0, 7, ..., 84). */
static const double b_time[] = {2, 12, 40, 60};
static const double b_surv[] = {0.9, 0.8, 0.6, 0.45};
static const double b_atrisk[] = {10, 9, 8, 8, 8, 8, 7, 6, 6, 4, 4, 3, 2};
static const double b_cens[] = {25, 50, 70, 84};
static const double ref_days[] = {28, 90};

static struct fig_km_stratum km_strata[2];
static struct fig_km km_fig;

static void make_km(void)
{
    km_strata[0] = (struct fig_km_stratum){.label = "Platelets <20 ×10⁹/L",
                                           .n = 4,
                                           .time = a_time,
                                           .surv = a_surv,
                                           .lower = a_lo,
                                           .upper = a_up,
                                           .n_risk = a_nrisk,
                                           .n_censor = 1,
                                           .censor_time = a_cens};
    km_strata[1] = (struct fig_km_stratum){.label = "Platelets ≥20 ×10⁹/L",
                                           .n = 4,
                                           .time = b_time,
                                           .surv = b_surv,
                                           .at_risk = b_atrisk,
                                           .n_censor = 4,
                                           .censor_time = b_cens};
    km_fig = (struct fig_km){.title = "Overall survival by platelet count",
                             .x_label = "Days since first IO puncture",
                             .y_label = "Overall survival (%)",
                             .x_max = 90,
                             .tick_step = 7,
                             .strata = km_strata,
                             .n_strata = 2,
                             .ref_time = ref_days,
                             .n_ref = 2};
}

static struct fig_forest_row forest_rows[9];
static struct fig_forest forest_fig;

static void make_forest(void)
{
    int i = 0;
    forest_rows[i++] = (struct fig_forest_row){.label = "All patients",
                                               .est = 0.84,
                                               .lower = 0.60,
                                               .upper = 1.20,
                                               .weight = 52,
                                               .n_text = "44/52"};
    forest_rows[i++] = (struct fig_forest_row){.label = "Platelets", .is_heading = true};
    forest_rows[i++] = (struct fig_forest_row){.label = "<20 ×10⁹/L",
                                               .est = 0.62,
                                               .lower = 0.31,
                                               .upper = 1.24,
                                               .weight = 20,
                                               .n_text = "16/20",
                                               .p_text = "0.18"};
    forest_rows[i++] = (struct fig_forest_row){.label = "≥20 ×10⁹/L",
                                               .est = 1.10,
                                               .lower = 0.55,
                                               .upper = 2.20,
                                               .weight = 32,
                                               .n_text = "28/32"};
    forest_rows[i++] = (struct fig_forest_row){.label = "Site", .is_heading = true};
    forest_rows[i++] = (struct fig_forest_row){.label = "Humerus",
                                               .est = 2.5,
                                               .lower = 0.4,
                                               .upper = 15.6,
                                               .weight = 30,
                                               .n_text = "27/30",
                                               .p_text = "0.41"};
    /* Zero cell: OR 0 with an upper bound; and OR ∞; and nothing at all. */
    forest_rows[i++] = (struct fig_forest_row){
        .label = "Tibia", .est = 0.0, .lower = 0.0, .upper = 5.2, .weight = 0, .n_text = "17/22"};
    forest_rows[i++] = (struct fig_forest_row){
        .label = "Septic shock", .est = INFINITY, .lower = 0.3, .upper = INFINITY, .n_text = "9/9"};
    forest_rows[i++] = (struct fig_forest_row){
        .label = "HSCT", .est = NAN, .lower = NAN, .upper = NAN, .n_text = "0/0"};
    forest_fig = (struct fig_forest){.title = "First-attempt success by subgroup",
                                     .x_label = "Odds ratio (log scale)",
                                     .est_header = "OR (95% CI)",
                                     .n_header = "x/n",
                                     .favours_left = "← lower success",
                                     .favours_right = "higher success →",
                                     .log_scale = true,
                                     .ref = 1.0,
                                     .x_min = 0.1,
                                     .x_max = 10.0,
                                     .rows = forest_rows,
                                     .n_rows = (size_t)i};
}

static const struct fig_flow_exclusion screen_excl[] = {
    {"Age over 65 years", 4}, {"No qualifying condition", 3}, {"Peripheral access obtained", 2}};
static const struct fig_flow_exclusion consent_excl[] = {
    {"Consent refused by legal representative", 1}, {"Deferred consent not confirmed", 1}};
static const struct fig_flow_exclusion fas_excl[] = {{"No IO insertion attempted", 2}};
static struct fig_flow_stage flow_stages[4];
static struct fig_flow flow_fig;

static void make_flow(void)
{
    flow_stages[0] = (struct fig_flow_stage){
        .label = "Assessed for eligibility", .n = 65, .excl = screen_excl, .n_excl = 3};
    flow_stages[1] = (struct fig_flow_stage){.label = "Eligible",
                                             .n = 56,
                                             .excl_label = "Not enrolled",
                                             .excl = consent_excl,
                                             .n_excl = 2};
    flow_stages[2] =
        (struct fig_flow_stage){.label = "Enrolled", .n = 54, .excl = fas_excl, .n_excl = 1};
    flow_stages[3] = (struct fig_flow_stage){.label = "Analysed (full analysis set)", .n = 52};
    flow_fig = (struct fig_flow){.title = "Patient flow", .stages = flow_stages, .n_stages = 4};
}

static const char *const tp_labels[] = {"T0", "15 min", "30 min", "60 min", "6 h", "24 h"};
static const double map_med[] = {58, 63, 66, 69, 72, 75};
static const double map_q1[] = {50, 56, 60, 62, 66, 68};
static const double map_q3[] = {64, 70, 73, 76, 80, 83};
static const double hr_med[] = {122, 118, 112, NAN, 104, 98};
static const double hr_q1[] = {108, 104, 100, NAN, 92, 88};
static const double hr_q3[] = {136, 130, 124, NAN, 116, 110};
static struct fig_lines_series lines_series[2];
static struct fig_lines lines_fig;

static void make_lines(void)
{
    lines_series[0] = (struct fig_lines_series){"MAP (mmHg)", map_med, map_q1, map_q3};
    lines_series[1] = (struct fig_lines_series){"HR (beats/min)", hr_med, hr_q1, hr_q3};
    lines_fig = (struct fig_lines){.title = "Haemodynamics after IO access",
                                   .x_label = "Time since T0",
                                   .y_label = "mmHg / beats per min",
                                   .x_labels = tp_labels,
                                   .n_points = 6,
                                   .series = lines_series,
                                   .n_series = 2,
                                   .has_ref = true,
                                   .ref_y = 65,
                                   .ref_label = "MAP 65 mmHg"};
}

static double enrol_days[52];
static struct fig_enrol enrol_fig;

static void make_enrol(void)
{
    for (int i = 0; i < 52; i++)
        enrol_days[i] = floor(i * 7.3 + (i % 5) * 1.5);
    enrol_fig = (struct fig_enrol){.title = "Enrolment",
                                   .x_label = "Days since study start",
                                   .y_label = "Patients enrolled",
                                   .start_date = "2024-03-01",
                                   .day = enrol_days,
                                   .n = 52,
                                   .target = 52,
                                   .planned_days = 365};
}

static int setup(void **state)
{
    (void)state;
    make_km();
    make_forest();
    make_flow();
    make_lines();
    make_enrol();
    mkdir("tests", 0777);
    mkdir("tests/artifacts", 0777);
    mkdir(ART_DIR, 0777);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------- */

struct png_reader {
    const unsigned char *p;
    size_t left;
};

static cairo_status_t read_mem(void *closure, unsigned char *data, unsigned int len)
{
    struct png_reader *r = closure;
    if (len > r->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p, len);
    r->p += len;
    r->left -= len;
    return CAIRO_STATUS_SUCCESS;
}

/* Decodes PNG bytes with cairo; the caller destroys the surface. */
static cairo_surface_t *png_decode(const struct strbuf *sb)
{
    struct png_reader r = {(const unsigned char *)sb->buf, sb->len};
    cairo_surface_t *s = cairo_image_surface_create_from_png_stream(read_mem, &r);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    return s;
}

static void pixel_rgb(cairo_surface_t *s, double x_pt, double y_pt, int rgb[3])
{
    int x = (int)floor(x_pt * FIG_PNG_SCALE), y = (int)floor(y_pt * FIG_PNG_SCALE);
    assert_true(x >= 0 && x < cairo_image_surface_get_width(s));
    assert_true(y >= 0 && y < cairo_image_surface_get_height(s));
    cairo_surface_flush(s);
    const unsigned char *row =
        cairo_image_surface_get_data(s) + (size_t)y * (size_t)cairo_image_surface_get_stride(s);
    uint32_t px;
    memcpy(&px, row + 4 * (size_t)x, sizeof px);
    rgb[0] = (int)((px >> 16) & 0xFF);
    rgb[1] = (int)((px >> 8) & 0xFF);
    rgb[2] = (int)(px & 0xFF);
}

static void write_artifact(const struct strbuf *sb, const char *name)
{
    FILE *fp = fopen(name, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(sb->buf, 1, sb->len, fp), sb->len);
    assert_int_equal(fclose(fp), 0);
}

static void render_ok(const struct fig *f, enum fig_format fmt, struct strbuf *sb)
{
    struct err e = {0};
    int rc = fig_render_buf(f, fmt, sb, &e);
    if (rc != 0)
        fail_msg("render %s failed: %s", fig_format_ext(fmt), e.msg);
    assert_false(sb->failed);
    assert_true(sb->len > 100);
}

/* Renders f in all three formats under ART_DIR/name.* and checks each file's format;
 * returns the PNG's size in pixels. */
static void check_all_formats(const struct fig *f, const char *name, int *png_w, int *png_h)
{
    char path[256], cmd[512];
    struct strbuf sb = STRBUF_INIT;

    render_ok(f, FIG_SVG, &sb);
    snprintf(path, sizeof path, "%s/%s.svg", ART_DIR, name);
    write_artifact(&sb, path);
    assert_non_null(strstr(sb.buf, "<svg"));
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    assert_int_equal(system(cmd), 0);
    strbuf_release(&sb);

    render_ok(f, FIG_PDF, &sb);
    snprintf(path, sizeof path, "%s/%s.pdf", ART_DIR, name);
    write_artifact(&sb, path);
    assert_memory_equal(sb.buf, "%PDF-", 5);
    size_t end = sb.len;
    while (end > 0 && (sb.buf[end - 1] == '\n' || sb.buf[end - 1] == '\r'))
        end--;
    assert_true(end >= 5);
    assert_memory_equal(sb.buf + end - 5, "%%EOF", 5);
    strbuf_release(&sb);

    render_ok(f, FIG_PNG, &sb);
    snprintf(path, sizeof path, "%s/%s.png", ART_DIR, name);
    write_artifact(&sb, path);
    assert_memory_equal(sb.buf, "\x89PNG\r\n\x1a\n", 8);
    cairo_surface_t *img = png_decode(&sb);
    *png_w = cairo_image_surface_get_width(img);
    *png_h = cairo_image_surface_get_height(img);
    cairo_surface_destroy(img);
    strbuf_release(&sb);
}

static void expect_invalid(const struct fig *f, const char *needle)
{
    struct err e = {0};
    struct strbuf sb = STRBUF_INIT;
    int rc = fig_render_buf(f, FIG_SVG, &sb, &e);
    strbuf_release(&sb);
    assert_int_equal(rc, ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
}

/* ---- all formats ------------------------------------------------------------------------- */

static void test_km_renders_svg_pdf_png_of_layout_size(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_KM, .u.km = &km_fig};
    struct fig_km_layout l;
    struct err e = {0};
    int w, h;
    assert_int_equal(fig_km_layout(&km_fig, &l, &e), 0);
    check_all_formats(&f, "km", &w, &h);
    assert_int_equal(w, (int)ceil(l.width * FIG_PNG_SCALE));
    assert_int_equal(h, (int)ceil(l.height * FIG_PNG_SCALE));
}

static void test_forest_renders_with_non_estimable_rows(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_FOREST, .u.forest = &forest_fig};
    int w, h;
    check_all_formats(&f, "forest", &w, &h);
    assert_true(w > 400 * FIG_PNG_SCALE && h > 9 * 19 * FIG_PNG_SCALE);
    /* Linear scale around 0 (risk differences) too. */
    struct fig_forest lin = forest_fig;
    lin.log_scale = false;
    lin.ref = 0.0;
    lin.x_min = -1.0;
    lin.x_max = 3.0;
    lin.x_label = "Risk difference";
    f.u.forest = &lin;
    check_all_formats(&f, "forest_linear", &w, &h);
}

static void test_flow_renders_and_wraps_long_text(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_FLOW, .u.flow = &flow_fig};
    int w, h, w2, h2;
    check_all_formats(&f, "flow", &w, &h);
    /* The same diagram with a reason far wider than its box must grow taller (it wraps). */
    static const struct fig_flow_exclusion long_excl[] = {
        {"Age over 65 years at screening according to the identity document on file", 4},
        {"No qualifying condition among the five categories of the protocol", 3},
        {"Peripheral access obtained", 2}};
    struct fig_flow_stage st[4];
    memcpy(st, flow_stages, sizeof st);
    st[0].excl = long_excl;
    struct fig_flow longer = {.title = "Patient flow", .stages = st, .n_stages = 4};
    f.u.flow = &longer;
    check_all_formats(&f, "flow_wrapped", &w2, &h2);
    assert_int_equal(w2, w);
    assert_true(h2 >= h + (int)(2 * 13 * FIG_PNG_SCALE));
}

static void test_lines_renders_with_missing_point(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_LINES, .u.lines = &lines_fig};
    int w, h;
    check_all_formats(&f, "trajectory", &w, &h);
    assert_int_equal(w, (int)ceil(504 * FIG_PNG_SCALE));
}

static void test_enrol_renders(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_ENROL, .u.enrol = &enrol_fig};
    int w, h;
    check_all_formats(&f, "enrolment", &w, &h);
    assert_int_equal(w, (int)ceil(504 * FIG_PNG_SCALE));
}

/* ---- KM geometry and numbers at risk ----------------------------------------------------- */

static int dist_to(const int rgb[3], int r, int g, int b)
{
    return abs(rgb[0] - r) + abs(rgb[1] - g) + abs(rgb[2] - b);
}

static void test_km_curve_pixels_where_the_data_put_them(void **state)
{
    (void)state;
    struct fig_km one = km_fig;
    one.n_strata = 1; /* stratum A alone: blue #0072B2, CI band from a_lo/a_up */
    one.ref_time = NULL;
    one.n_ref = 0;
    struct fig f = {.kind = FIG_KM, .u.km = &one};
    struct fig_km_layout l;
    struct err e = {0};
    struct strbuf sb = STRBUF_INIT;
    int px[3];
    assert_int_equal(fig_km_layout(&one, &l, &e), 0);
    render_ok(&f, FIG_PNG, &sb);
    cairo_surface_t *img = png_decode(&sb);

    /* Day 15: S = 0.5 (the step at day 10), so the curve is at y(0.5) ... */
    pixel_rgb(img, fig_km_x(&l, 15), fig_km_y(&l, 0.5), px);
    assert_true(dist_to(px, 0x00, 0x72, 0xB2) < 40);
    /* ... inside the band [0.3, 0.7] it is tinted, not white, and bluish ... */
    pixel_rgb(img, fig_km_x(&l, 15), fig_km_y(&l, 0.65), px);
    assert_true(px[0] < 235 && px[2] > px[0] + 10);
    /* ... and above the band (S = 0.9) and at S = 0.25 there is paper. */
    pixel_rgb(img, fig_km_x(&l, 15), fig_km_y(&l, 0.9), px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    pixel_rgb(img, fig_km_x(&l, 15), fig_km_y(&l, 0.25), px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    /* Day 25: the curve has stepped down to 0.25; the old level 0.5 is paper again. */
    pixel_rgb(img, fig_km_x(&l, 25), fig_km_y(&l, 0.25), px);
    assert_true(dist_to(px, 0x00, 0x72, 0xB2) < 40);
    pixel_rgb(img, fig_km_x(&l, 25), fig_km_y(&l, 0.5), px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    /* Day 2: before the first step the curve is at 100%. */
    pixel_rgb(img, fig_km_x(&l, 2), fig_km_y(&l, 1.0), px);
    assert_true(dist_to(px, 0x00, 0x72, 0xB2) < 40);
    /* The curve ends at its last observation (day 30): nothing at day 40. */
    pixel_rgb(img, fig_km_x(&l, 40), fig_km_y(&l, 0.25), px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    cairo_surface_destroy(img);
    strbuf_release(&sb);
}

static void test_km_layout_maps_axes_onto_plot_area(void **state)
{
    (void)state;
    struct fig_km_layout l;
    struct err e = {0};
    assert_int_equal(fig_km_layout(&km_fig, &l, &e), 0);
    assert_true(fabs(fig_km_x(&l, 0) - l.plot_x0) < 1e-9);
    assert_true(fabs(fig_km_x(&l, 90) - l.plot_x1) < 1e-9);
    assert_true(fabs(fig_km_y(&l, 1) - l.plot_y0) < 1e-9);
    assert_true(fabs(fig_km_y(&l, 0) - l.plot_y1) < 1e-9);
    assert_true(l.plot_x0 > 0 && l.plot_x1 < l.width && l.plot_y0 > 0 && l.plot_y1 < l.height);
    /* Ticks every 7 days from 0 to 84 (90 is not a multiple of 7). */
    assert_int_equal(l.n_ticks, 13);
    for (size_t i = 0; i < l.n_ticks; i++)
        assert_true(fabs(l.tick_time[i] - 7.0 * (double)i) < 1e-9);
    /* The at-risk rows sit under the plot, in order, inside the figure. */
    assert_true(l.at_risk_y[0] > l.plot_y1 + 30 && l.at_risk_y[1] > l.at_risk_y[0]);
    assert_true(l.at_risk_y[1] < l.height);
}

static void test_km_at_risk_cells_from_n_risk_and_given(void **state)
{
    (void)state;
    struct fig_km_layout l;
    struct err e = {0};
    assert_int_equal(fig_km_layout(&km_fig, &l, &e), 0);
    /* Stratum A by hand: n_risk is "at risk just before time[i]" (8 at day 5, 6 at 10, 4 at
     * 20, 1 at 30). Tick 0 → first time ≥ 0 is 5 → 8; 7 → 10 → 6; 14 → 20 → 4; 21 and 28 →
     * 30 → 1; 35 and later → past the last time → 0. */
    static const double want_a[13] = {8, 6, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_true(l.has_at_risk[0] && l.has_at_risk[1]);
    for (size_t i = 0; i < 13; i++) {
        if (l.at_risk[0][i] != want_a[i])
            fail_msg("stratum A tick %zu: %g at risk, want %g", i, l.at_risk[0][i], want_a[i]);
        assert_true(l.at_risk[1][i] == b_atrisk[i]);
    }
    /* A stratum with neither gets no row. */
    struct fig_km_stratum st[2];
    memcpy(st, km_strata, sizeof st);
    st[1].at_risk = NULL;
    struct fig_km k2 = km_fig;
    k2.strata = st;
    assert_int_equal(fig_km_layout(&k2, &l, &e), 0);
    assert_true(l.has_at_risk[0] && !l.has_at_risk[1]);
}

static void test_forest_layout_texts_and_pixels(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_FOREST, .u.forest = &forest_fig};
    struct err e = {0};
    struct strbuf sb = STRBUF_INIT;
    int px[3];
    struct fig_forest_layout *l = malloc(sizeof *l);
    assert_non_null(l);
    assert_int_equal(fig_forest_layout(&forest_fig, l, &e), 0);
    assert_string_equal(l->est_text[0], "0.84 (0.60–1.20)");
    assert_string_equal(l->est_text[1], ""); /* heading */
    assert_string_equal(l->est_text[5], "2.50 (0.40–15.60)");
    assert_string_equal(l->est_text[6], "not estimable"); /* OR 0 */
    assert_string_equal(l->est_text[7], "not estimable"); /* OR ∞ */
    assert_string_equal(l->est_text[8], "not estimable"); /* NaN */
    assert_true(l->has_n && l->has_p);
    /* Log axis: 1 sits halfway between 0.1 and 10. */
    assert_true(fabs(fig_forest_x(l, 1.0) - (l->plot_x0 + l->plot_x1) / 2.0) < 1e-9);

    render_ok(&f, FIG_PNG, &sb);
    cairo_surface_t *img = png_decode(&sb);
    /* All patients: the square at 0.84 is blue. */
    pixel_rgb(img, fig_forest_x(l, 0.84), l->row_y[0], px);
    assert_true(dist_to(px, 0x00, 0x72, 0xB2) < 40);
    /* Humerus (0.40–15.60): whisker at 5, arrowhead just inside the right edge. */
    pixel_rgb(img, fig_forest_x(l, 5.0), l->row_y[5], px);
    assert_true(dist_to(px, 0, 0, 0) < 60);
    pixel_rgb(img, l->plot_x1 - 2.0, l->row_y[5], px);
    assert_true(dist_to(px, 0, 0, 0) < 60);
    /* Tibia (OR 0, CI 0–5.2): whisker from the left edge to 5.2 and an arrow at the left;
     * nothing past 5.2, no square. */
    pixel_rgb(img, l->plot_x0 + 2.0, l->row_y[6], px);
    assert_true(dist_to(px, 0, 0, 0) < 60);
    pixel_rgb(img, fig_forest_x(l, 0.2), l->row_y[6], px);
    assert_true(dist_to(px, 0, 0, 0) < 60);
    pixel_rgb(img, fig_forest_x(l, 7.0), l->row_y[6], px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    /* Septic shock (OR ∞, CI 0.3–∞): nothing left of 0.3, whisker to the right edge. */
    pixel_rgb(img, fig_forest_x(l, 0.2), l->row_y[7], px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    pixel_rgb(img, fig_forest_x(l, 5.0), l->row_y[7], px);
    assert_true(dist_to(px, 0, 0, 0) < 60);
    /* HSCT (all NaN): nothing drawn. */
    pixel_rgb(img, fig_forest_x(l, 0.5), l->row_y[8], px);
    assert_true(dist_to(px, 255, 255, 255) < 6);
    cairo_surface_destroy(img);
    strbuf_release(&sb);
    free(l);
}

/* Corner cases a real analysis produces: survival reaching 0 with the CI undefined there (R
 * gives NA), a step at time 0, a time far past the axis, no labels and no at-risk data; a
 * forest of headings only and estimates far off the axis; a one-stage flow; a series with
 * no values at all; an enrolment curve with neither target nor plan. */
static void test_corner_cases_render(void **state)
{
    (void)state;
    static const double t[] = {0, 3, 1e9};
    static const double s[] = {0.9, 0.0, 0.0};
    static const double lo[] = {0.7, NAN, NAN};
    static const double up[] = {1.0, NAN, NAN};
    struct fig_km_stratum st = {.n = 3, .time = t, .surv = s, .lower = lo, .upper = up};
    struct fig_km km = {.x_max = 28, .tick_step = 7, .strata = &st, .n_strata = 1};

    struct fig_forest_row rows[3] = {
        {.label = "Only a heading", .is_heading = true},
        {.label = "Far right", .est = 1e6, .lower = 1e5, .upper = 1e7},
        {.label = "Far left", .est = -1e300, .lower = -INFINITY, .upper = -1e299}};
    struct fig_forest fp = {.rows = rows, .n_rows = 3, .ref = 0, .x_min = -1, .x_max = 1};

    struct fig_flow_stage one = {.label = "Screened", .n = 0};
    struct fig_flow fl = {.stages = &one, .n_stages = 1};

    static const double nan6[] = {NAN, NAN, NAN, NAN, NAN, NAN};
    struct fig_lines_series se[2] = {{"MAP", map_med, NULL, NULL}, {"Lactate", nan6, NULL, NULL}};
    struct fig_lines ln = {.x_labels = tp_labels, .n_points = 6, .series = se, .n_series = 2};

    static const double d[] = {0, 0, 0};
    struct fig_enrol en = {.start_date = "2024-02-29", .day = d, .n = 3};

    struct fig figs[] = {{.kind = FIG_KM, .u.km = &km},
                         {.kind = FIG_FOREST, .u.forest = &fp},
                         {.kind = FIG_FLOW, .u.flow = &fl},
                         {.kind = FIG_LINES, .u.lines = &ln},
                         {.kind = FIG_ENROL, .u.enrol = &en}};
    static const char *const names[] = {"corner_km", "corner_forest", "corner_flow", "corner_lines",
                                        "corner_enrol"};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        int w, h;
        check_all_formats(&figs[i], names[i], &w, &h);
        assert_true(w > 0 && h > 0);
    }
    /* Forest on a log axis with only headings: nothing to draw but the axis. */
    rows[1].is_heading = rows[2].is_heading = true;
    fp.log_scale = true;
    fp.ref = 1;
    fp.x_min = 0.5;
    fp.x_max = 2;
    int w, h;
    check_all_formats(&figs[1], "corner_forest_headings", &w, &h);
}

/* Counts pixels darker than 100 in every channel inside a box given in points. */
static int dark_pixels(cairo_surface_t *img, double x0, double y0, double x1, double y1)
{
    int n = 0, px[3];
    for (double y = y0; y <= y1; y += 1.0 / FIG_PNG_SCALE)
        for (double x = x0; x <= x1; x += 1.0 / FIG_PNG_SCALE) {
            pixel_rgb(img, x, y, px);
            n += px[0] < 100 && px[1] < 100 && px[2] < 100;
        }
    return n;
}

static void test_km_at_risk_text_drawn_and_second_stratum_dashed(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_KM, .u.km = &km_fig};
    struct fig_km_layout l;
    struct err e = {0};
    struct strbuf sb = STRBUF_INIT;
    int px[3];
    assert_int_equal(fig_km_layout(&km_fig, &l, &e), 0);
    render_ok(&f, FIG_PNG, &sb);
    cairo_surface_t *img = png_decode(&sb);
    /* Each at-risk cell has ink (black digits) centred on its tick; halfway between two ticks
     * the row is blank. */
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < l.n_ticks; i++) {
            double x = fig_km_x(&l, l.tick_time[i]), y = l.at_risk_y[k];
            if (dark_pixels(img, x - 4, y - 7, x + 4, y) == 0)
                fail_msg("no at-risk digits at stratum %zu tick %zu", k, i);
            double mid = fig_km_x(&l, l.tick_time[i] + 3.5);
            if (i + 1 < l.n_ticks)
                assert_int_equal(dark_pixels(img, mid - 1, y - 7, mid + 1, y), 0);
        }
    /* Stratum B is dashed, so a grey print tells it from A: along its level at 80% (days 12
     * to 40, on the 80% grid line) some pixels are orange and some are not. */
    int on = 0, off = 0;
    for (double x = fig_km_x(&l, 14); x < fig_km_x(&l, 38); x += 1.0 / FIG_PNG_SCALE) {
        pixel_rgb(img, x, fig_km_y(&l, 0.8), px);
        on += dist_to(px, 0xD5, 0x5E, 0x00) < 60;
        off += px[0] > 200 && px[1] > 200 && px[2] > 200; /* paper or the grid line */
    }
    assert_true(on > 20 && off > 10);
    cairo_surface_destroy(img);
    strbuf_release(&sb);
}

/* ---- determinism ------------------------------------------------------------------------- */

static void test_same_data_gives_same_bytes(void **state)
{
    (void)state;
    struct fig figs[] = {{.kind = FIG_KM, .u.km = &km_fig},
                         {.kind = FIG_FOREST, .u.forest = &forest_fig},
                         {.kind = FIG_FLOW, .u.flow = &flow_fig}};
    static const enum fig_format fmts[] = {FIG_PDF, FIG_PNG, FIG_SVG};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        for (size_t k = 0; k < 3; k++) {
            struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
            render_ok(&figs[i], fmts[k], &a);
            render_ok(&figs[i], fmts[k], &b);
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.buf, b.buf, a.len);
            strbuf_release(&a);
            strbuf_release(&b);
        }
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_render_all_writes_three_files(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_KM, .u.km = &km_fig};
    struct err e = {0};
    struct stat st;
    static const char *const ext[] = {"svg", "pdf", "png"};
    char path[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/all_km.%s", ART_DIR, ext[i]);
        remove(path);
    }
    assert_int_equal(fig_render_all(&f, ART_DIR "/all_km", &e), 0);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/all_km.%s", ART_DIR, ext[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 100);
    }
    assert_int_equal(fig_render_file(&f, "/nonexistent-dir/km.svg", FIG_SVG, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/km.svg"));
}

/* ---- bad input --------------------------------------------------------------------------- */

static void test_km_bad_input_is_refused(void **state)
{
    (void)state;
    struct fig f = {.kind = FIG_KM};
    struct fig_km k = km_fig;
    struct fig_km_stratum st = km_strata[0];
    f.u.km = &k;
    k.n_strata = 0;
    expect_invalid(&f, "no strata");
    k.n_strata = 1;
    k.strata = &st;
    static const double bad_time[] = {5, 3, 20, 30};
    st.time = bad_time;
    expect_invalid(&f, "not strictly ascending");
    st.time = a_time;
    static const double bad_surv[] = {0.75, 1.2, 0.25, 0.25};
    st.surv = bad_surv;
    expect_invalid(&f, "outside [0, 1]");
    st.surv = a_surv;
    st.upper = NULL;
    expect_invalid(&f, "only one of lower[] and upper[]");
    st.upper = a_up;
    st.n = 0;
    expect_invalid(&f, "no steps");
    st.n = 4;
    k.tick_step = 0.5;
    expect_invalid(&f, "tick_step");
    k.tick_step = 7;
    st.label = "bad \xC3\x28 label";
    expect_invalid(&f, "not valid UTF-8");
    struct err e = {0};
    struct fig_km_layout l;
    assert_int_equal(fig_km_layout(&k, &l, &e), ERR_INVALID);
}

static void test_other_bad_input_is_refused(void **state)
{
    (void)state;
    struct fig f;
    struct fig_forest fp = forest_fig;
    f = (struct fig){.kind = FIG_FOREST, .u.forest = &fp};
    fp.n_rows = 0;
    expect_invalid(&f, "no rows");
    fp.n_rows = forest_fig.n_rows;
    fp.x_min = 0.0;
    expect_invalid(&f, "x_min > 0");
    fp.x_min = 0.1;
    struct fig_forest_row rows[1] = {{.label = "x", .est = 1, .lower = 2, .upper = 0.5}};
    fp.rows = rows;
    fp.n_rows = 1;
    expect_invalid(&f, "lower 2 > upper 0.5");

    struct fig_flow_stage st[4];
    memcpy(st, flow_stages, sizeof st);
    struct fig_flow fl = {.stages = st, .n_stages = 4};
    f = (struct fig){.kind = FIG_FLOW, .u.flow = &fl};
    st[1].n = 57;
    expect_invalid(&f, "do not add up");
    st[1].n = 56;
    st[3].excl = fas_excl;
    st[3].n_excl = 1;
    expect_invalid(&f, "last stage");
    fl.n_stages = 0;
    expect_invalid(&f, "no stages");

    struct fig_lines ln = lines_fig;
    struct fig_lines_series se[2];
    memcpy(se, lines_series, sizeof se);
    ln.series = se;
    f = (struct fig){.kind = FIG_LINES, .u.lines = &ln};
    se[1].q3 = NULL;
    expect_invalid(&f, "only one of q1[], q3[]");
    se[1].q3 = hr_q3;
    ln.n_points = 0;
    expect_invalid(&f, "no time points");

    struct fig_enrol en = enrol_fig;
    f = (struct fig){.kind = FIG_ENROL, .u.enrol = &en};
    en.start_date = "2023-02-30";
    expect_invalid(&f, "start_date");
    en.start_date = "2024-03-01";
    static const double back[] = {3, 1};
    en.day = back;
    en.n = 2;
    expect_invalid(&f, "not ascending");

    struct err e = {0};
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(fig_render_buf(NULL, FIG_PNG, &sb, &e), ERR_INVALID);
    f = (struct fig){.kind = FIG_ENROL, .u.enrol = &enrol_fig};
    assert_int_equal(fig_render_buf(&f, (enum fig_format)7, &sb, &e), ERR_INVALID);
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_km_renders_svg_pdf_png_of_layout_size),
        cmocka_unit_test(test_forest_renders_with_non_estimable_rows),
        cmocka_unit_test(test_flow_renders_and_wraps_long_text),
        cmocka_unit_test(test_lines_renders_with_missing_point),
        cmocka_unit_test(test_enrol_renders),
        cmocka_unit_test(test_km_curve_pixels_where_the_data_put_them),
        cmocka_unit_test(test_km_layout_maps_axes_onto_plot_area),
        cmocka_unit_test(test_km_at_risk_cells_from_n_risk_and_given),
        cmocka_unit_test(test_km_at_risk_text_drawn_and_second_stratum_dashed),
        cmocka_unit_test(test_forest_layout_texts_and_pixels),
        cmocka_unit_test(test_corner_cases_render),
        cmocka_unit_test(test_same_data_gives_same_bytes),
        cmocka_unit_test(test_render_all_writes_three_files),
        cmocka_unit_test(test_km_bad_input_is_refused),
        cmocka_unit_test(test_other_bad_input_is_refused),
    };
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    fig_release_caches();
    return failed;
}
