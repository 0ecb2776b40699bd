/* The report's figures: Kaplan–Meier curves with numbers at risk, forest plots, CONSORT flow
 * diagrams, trajectory (median/IQR) charts and enrolment curves.
 *
 * Every figure is described by plain data (arrays and strings the caller owns; nothing here
 * knows the study or stats/ types) and drawn by one cairo code path onto an SVG, PDF or PNG
 * surface, so the three formats show the same picture. Sizes are in PostScript points (1/72
 * inch); PNG is rasterised at FIG_PNG_SCALE pixels per point. Text uses cairo's toy text API
 * with the "sans-serif" face (DejaVu Sans on Debian), which covers labels such as "×10⁹/L" and
 * "≥"; strings must be valid UTF-8. Colours are the Okabe–Ito colour-blind-safe palette, and
 * series also differ by dash pattern (and marker shape) so a grey print still tells them apart.
 *
 * Output is deterministic: the same data gives the same bytes in every format (the PDF's
 * creation date is fixed, the SVG's root id is normalised).
 *
 * Errors: bad input (no rows, non-monotone times, survival outside [0,1], mismatched or
 * missing arrays, invalid UTF-8) returns a negative enum err_code and fills struct err; cairo's
 * status is checked after drawing. Nothing here prints, exits or aborts. The only I/O is in
 * fig_render_file and fig_render_all. */
#ifndef IOHEME_REPORT_FIGURE_H
#define IOHEME_REPORT_FIGURE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

enum fig_format { FIG_SVG, FIG_PDF, FIG_PNG };

/* PNG pixels per point: 3 gives 216 dpi, sharp in print at the figures' physical size. */
#define FIG_PNG_SCALE 3.0
/* Most strata / series / forest columns one figure draws (the palette has this many). */
#define FIG_MAX_SERIES 7
/* Most x-axis ticks on a Kaplan–Meier plot (each one is a numbers-at-risk column). */
#define FIG_KM_MAX_TICKS 32

/* ---- Kaplan–Meier ------------------------------------------------------------------------ */

/* One stratum's survival step function, as survfit() returns it: surv[i] is S(t) on
 * [time[i], time[i+1]); before time[0] the curve is at 1. All arrays have n elements. */
struct fig_km_stratum {
    const char *label;   /* legend and at-risk row label */
    size_t n;            /* number of steps, >= 1 */
    const double *time;  /* strictly ascending, >= 0 */
    const double *surv;  /* in [0, 1], non-increasing */
    const double *lower; /* CI band, or NULL (both or neither); NaN = no band there */
    const double *upper;
    /* Numbers at risk, one of (or neither):
     * - at_risk: the caller's counts, one per x tick (ticks at 0, tick_step, 2·tick_step, ...
     *   up to x_max), drawn as given;
     * - n_risk: survfit's n.risk, the number at risk just before time[i]; the count at tick t
     *   is then n_risk at the first time[i] >= t, and 0 past the last time. This is exact
     *   when time[] holds every time someone leaves the risk set (survfit's default, which
     *   lists censoring times too).
     * With neither, no at-risk row is drawn for this stratum. */
    const double *at_risk;
    const double *n_risk;
    size_t n_censor; /* censor marks: a tick on the curve at each censoring time */
    const double *censor_time;
};

struct fig_km {
    const char *title;   /* NULL: none */
    const char *x_label; /* e.g. "Days since first IO puncture" */
    const char *y_label; /* e.g. "Overall survival (%)"; the axis runs 0–100 % */
    double x_max;        /* axis from 0 to x_max, > 0 */
    double tick_step;    /* x tick spacing, e.g. 7 or 14; x_max/tick_step < MAX_TICKS */
    const struct fig_km_stratum *strata;
    size_t n_strata;        /* 1 .. FIG_MAX_SERIES */
    const double *ref_time; /* vertical dotted reference lines (e.g. 28, 90), or NULL */
    size_t n_ref;
    /* n_ref labels ("Day 28"), written above the plot at each line, or NULL: none */
    const char *const *ref_label;
};

/* Where things are on a KM figure, in points from the top-left corner. */
struct fig_km_layout {
    double width, height;    /* the whole figure */
    double plot_x0, plot_y0; /* plot area's top-left */
    double plot_x1, plot_y1; /* plot area's bottom-right */
    double x_max;
    size_t n_ticks;
    double tick_time[FIG_KM_MAX_TICKS];
    /* the end of the axis has a tick and label of its own (x_max is not a tick_step multiple
     * and lies far enough past the last tick for its label), so the axis visibly reaches it;
     * it has no at-risk column */
    bool has_end_tick;
    size_t n_strata;
    bool has_at_risk[FIG_MAX_SERIES];                 /* this stratum has an at-risk row */
    double at_risk[FIG_MAX_SERIES][FIG_KM_MAX_TICKS]; /* n at risk, stratum × tick */
    double at_risk_y[FIG_MAX_SERIES];                 /* baseline of each at-risk row */
};

/* Validates km and computes its layout and numbers-at-risk cells into *out. Returns 0 or a
 * negative err_code. No allocation. */
int fig_km_layout(const struct fig_km *km, struct fig_km_layout *out, struct err *e);
/* The x (points) of time t / the y (points) of survival s in [0,1] on the plot area. */
double fig_km_x(const struct fig_km_layout *l, double t);
double fig_km_y(const struct fig_km_layout *l, double s);

/* ---- Forest plot ------------------------------------------------------------------------- */

struct fig_forest_row {
    const char *label;
    bool is_heading;          /* a subgroup heading: label only, in bold */
    double est, lower, upper; /* NaN/±Inf (or <= 0 on a log axis) = not estimable there */
    double weight;            /* > 0 scales the square (area ∝ weight); 0 = default size */
    const char *n_text;       /* e.g. "18/22", or NULL */
    const char *p_text;       /* e.g. "0.31", or NULL */
    /* what each side of the reference line means for this row ("favours tibia"), written
     * small under its interval either side of the line; NULL: none */
    const char *favours_left, *favours_right;
};

struct fig_forest {
    const char *title;      /* NULL: none */
    const char *x_label;    /* e.g. "Hazard ratio (95% CI)" */
    const char *est_header; /* column heading of the estimate text, e.g. "HR (95% CI)" */
    const char *n_header;   /* NULL: "n" */
    const char *favours_left, *favours_right; /* under the axis, or NULL */
    bool log_scale;                           /* ratios: log axis; differences: linear */
    double ref;          /* vertical reference line: 1 (ratios) or 0 (differences) */
    double x_min, x_max; /* axis range; > 0 on a log axis; CIs beyond get an arrow */
    const struct fig_forest_row *rows;
    size_t n_rows; /* 1 .. FIG_FOREST_MAX_ROWS */
};

/* Most rows of a forest plot. */
#define FIG_FOREST_MAX_ROWS 200

/* Where things are on a forest plot, in points from the top-left corner. */
struct fig_forest_layout {
    double width, height;
    double x_label, x_n, x_est, x_p;   /* label and p columns' left edges; n, estimate centres */
    double plot_x0, plot_x1;           /* x_min maps to plot_x0, x_max to plot_x1 */
    double y_head, y_row0, y_axis;     /* header line, top of the first row, the x axis */
    double row_y[FIG_FOREST_MAX_ROWS]; /* each row's centre line */
    double row_h;                      /* a row's height (taller when rows say what they favour) */
    char est_text[FIG_FOREST_MAX_ROWS][64]; /* "0.84 (0.60–1.20)", "not estimable", "" */
    bool has_n, has_p;                      /* the n / p columns are shown */
    double x_min, x_max;
    bool log_scale;
};

/* Validates fp and computes its layout and estimate texts into *out (about 15 KB: the caller
 * may want it off the stack). Returns 0 or a negative err_code. */
int fig_forest_layout(const struct fig_forest *fp, struct fig_forest_layout *out, struct err *e);
/* The x (points) of value v on the forest plot's axis (log or linear). */
double fig_forest_x(const struct fig_forest_layout *l, double v);

/* ---- Flow diagram (CONSORT) -------------------------------------------------------------- */

struct fig_flow_exclusion {
    const char *reason;
    long n;
};

/* One box of the main column. Its exclusions go in a side box on the arrow to the next
 * stage, so n of the next stage must equal n minus the exclusions (checked). */
struct fig_flow_stage {
    const char *label; /* e.g. "Assessed for eligibility" */
    long n;
    const char *excl_label; /* side-box heading, e.g. "Excluded"; NULL: "Excluded" */
    const struct fig_flow_exclusion *excl;
    size_t n_excl; /* 0: no side box; must be 0 on the last stage */
};

struct fig_flow {
    const char *title;
    const struct fig_flow_stage *stages;
    size_t n_stages; /* >= 1 */
};

/* ---- Trajectory chart (median and IQR at categorical time points) ------------------------ */

struct fig_lines_series {
    const char *label;
    const double *median;  /* n_points each; NaN = not measured at that point */
    const double *q1, *q3; /* IQR bars, or NULL (both or neither) */
};

struct fig_lines {
    const char *title, *x_label, *y_label; /* y_label with units, e.g. "mmHg" */
    const char *const *x_labels;           /* n_points labels: "T0", "15 min", ... */
    size_t n_points;                       /* >= 1 */
    const struct fig_lines_series *series;
    size_t n_series; /* 1 .. FIG_MAX_SERIES */
    bool has_ref;    /* horizontal reference line at ref_y */
    double ref_y;
    const char *ref_label; /* e.g. "MAP 65 mmHg", or NULL */
    double y_min, y_max;   /* y_min >= y_max: range from the data */
};

/* ---- Enrolment curve --------------------------------------------------------------------- */

/* The x axis is calendar time: ticks on the first of a month (every 1, 2, 3, 6, 12... months),
 * or every few days over a short span, each labelled with its date "YYYY-MM-DD". */
struct fig_enrol {
    const char *title, *x_label, *y_label;
    const char *start_date; /* "YYYY-MM-DD" of day 0 */
    const double *day;      /* each patient's enrolment day since start, ascending */
    size_t n;
    double target;       /* horizontal target line (e.g. 52); <= 0: none */
    double planned_days; /* > 0: planned linear accrual from (0,0) to (days, target) */
    double x_max;        /* <= 0: from the data */
};

/* ---- Rendering --------------------------------------------------------------------------- */

enum fig_kind { FIG_KM, FIG_FOREST, FIG_FLOW, FIG_LINES, FIG_ENROL };

/* A figure to render: the kind and a borrowed pointer to its description. */
struct fig {
    enum fig_kind kind;
    union {
        const struct fig_km *km;
        const struct fig_forest *forest;
        const struct fig_flow *flow;
        const struct fig_lines *lines;
        const struct fig_enrol *enrol;
    } u;
};

/* Renders f in fmt and appends the bytes to out (which the caller owns and releases). On
 * error out may hold a partial document. Identical input gives identical bytes in every
 * format (for one cairo/fontconfig installation: another cairo version or font changes
 * glyph outlines and so the bytes). */
int fig_render_buf(const struct fig *f, enum fig_format fmt, struct strbuf *out, struct err *e);
/* Renders f in fmt to the file at path (created or truncated). Returns 0 or ERR_IO/... */
int fig_render_file(const struct fig *f, const char *path, enum fig_format fmt, struct err *e);
/* Writes base.svg, base.pdf and base.png (base is a path without extension). */
int fig_render_all(const struct fig *f, const char *base, struct err *e);
/* Frees cairo's process-wide font caches (font faces, scaled fonts, fontconfig patterns) so
 * a leak checker stays quiet at exit; fontconfig's own configuration, loaded once per process
 * by FcInitLoadConfigAndFonts, stays (LeakSanitizer needs a suppression for it). Call at most once,
 * at program exit, when no figure is being rendered on any thread; rendering after it is not
 * supported. */
void fig_release_caches(void);
/* The file extension of fmt without the dot: "svg", "pdf" or "png". */
const char *fig_format_ext(enum fig_format fmt);

#endif
