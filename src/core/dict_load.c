/* The protocol loader, second half: collecting errors, events.csv, form_events.csv,
 * repeating.csv, the references inside logic (fields, events, checkbox codes), and the whole
 * load of dict.h (dict.c reads the dictionary's rows).
 *
 * Checking does not stop at the first problem: every error is kept, then sorted by file
 * (dictionary, events, form-events, repeating), line and column, so a coordinator can fix a
 * protocol in one pass. The CSV tables are freed before returning. */
#include "base/array.h"
#include "base/fmt.h"
#include "base/utf8.h"
#include "core/dict.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dict_int.h"

/* ---- errors ---- */

const char *const dict_protocol_files[DICT_NFILES] = {
    "dictionary.csv", "events.csv",   "form_events.csv", "repeating.csv",
    "study.csv",      "schedule.csv", "sdv.csv",         "signatures.csv"};

static int file_rank(const char *file)
{
    for (int i = 0; i < DICT_NFILES; i++)
        if (strcmp(dict_protocol_files[i], file) == 0)
            return i;
    return DICT_NFILES;
}

/* Appends a finished message to the errors, or to the warnings. */
static void push_message(struct loader *L, bool is_warning, const char *file, size_t line,
                         size_t col, char *msg)
{
    if (!msg) {
        L->nomem = true;
        return;
    }
    struct dict_error **list = is_warning ? &L->warns : &L->errs;
    size_t *n = is_warning ? &L->nwarns : &L->nerrs, *cap = is_warning ? &L->wcap : &L->cap;
    struct dict_error *grown = array_grow(*list, *n, cap, sizeof *grown, 16);
    if (!grown) {
        free(msg);
        L->nomem = true;
        return;
    }
    *list = grown;
    grown[*n] = (struct dict_error){file_rank(file), line, col, *n, msg};
    (*n)++;
}

static void push_error(struct loader *L, const char *file, size_t line, size_t col, char *msg)
{
    push_message(L, false, file, line, col, msg);
}

/* A message that already names its place (the CSV reader's); sorts first in its file. */
static void add_raw(struct loader *L, const char *file, const char *msg)
{
    push_error(L, file, 0, 0, strdup(msg));
}

/* "file:line:col: ", kind ("" or "warning: ") and the message, malloc'd; NULL when out of memory.
 */
static char *format_at(const char *file, size_t line, size_t col, const char *kind, const char *fmt,
                       va_list ap)
{
    char msg[1024];
    fmt_vtext(msg, sizeof msg, fmt, ap);
    char where[300];
    if (col)
        fmt_text(where, sizeof where, "%s:%zu:%zu: %s", file, line, col, kind);
    else
        fmt_text(where, sizeof where, "%s:%zu: %s", file, line, kind);
    size_t nw = strlen(where), nm = strlen(msg);
    char *all = malloc(nw + nm + 1);
    if (all) {
        memcpy(all, where, nw);
        memcpy(all + nw, msg, nm + 1);
    }
    return all;
}

static void add_message(struct loader *L, bool is_warning, const char *file, size_t line,
                        size_t col, const char *fmt, va_list ap)
{
    char *all = format_at(file, line, col, is_warning ? "warning: " : "", fmt, ap);
    push_message(L, is_warning, file, line, col, all);
}

void dict_add_error(struct loader *L, const char *file, size_t line, size_t col, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_message(L, false, file, line, col, fmt, ap);
    va_end(ap);
}

void dict_add_warning(struct loader *L, const char *file, size_t line, size_t col, const char *fmt,
                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_message(L, true, file, line, col, fmt, ap);
    va_end(ap);
}

static int cmp_error(const void *pa, const void *pb)
{
    const struct dict_error *a = pa, *b = pb;
    if (a->file_rank != b->file_rank)
        return a->file_rank < b->file_rank ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sorts the errors, appends them all to errors (when given), and puts as many whole lines as
 * fit in e->msg, then a count of the rest. */
static int report_errors(struct loader *L, struct strbuf *errors, struct err *e)
{
    qsort(L->errs, L->nerrs, sizeof *L->errs, cmp_error);
    struct strbuf msg = STRBUF_INIT;
    size_t shown = 0, room = sizeof e->msg - 64;
    for (size_t i = 0; i < L->nerrs; i++) {
        if (errors) {
            strbuf_adds(errors, L->errs[i].msg);
            strbuf_addc(errors, '\n');
        }
        if (shown == i && msg.len + strlen(L->errs[i].msg) + 1 < room) {
            if (i)
                strbuf_addc(&msg, '\n');
            strbuf_adds(&msg, L->errs[i].msg);
            shown++;
        }
    }
    if (shown < L->nerrs)
        err_set(e, ERR_INVALID, "%s\n(and %zu more errors)", strbuf_str(&msg), L->nerrs - shown);
    else
        err_set(e, ERR_INVALID, "%s", strbuf_str(&msg));
    strbuf_release(&msg);
    return ERR_INVALID;
}

/* The warnings, sorted as errors are, into the dict's arena. */
static void keep_warnings(struct loader *L)
{
    qsort(L->warns, L->nwarns, sizeof *L->warns, cmp_error);
    struct dict *d = L->d;
    d->warnings = arena_calloc(&d->arena, L->nwarns, sizeof *d->warnings);
    if (!d->warnings) {
        L->nomem = true;
        return;
    }
    for (size_t i = 0; i < L->nwarns && !L->nomem; i++)
        d->warnings[d->nwarnings++] = dict_dup(L, L->warns[i].msg);
}

char *dict_dup(struct loader *L, const char *s)
{
    char *r = arena_strdup(&L->d->arena, s ? s : "");
    if (!r)
        L->nomem = true;
    return r;
}

char *dict_dup_trim(struct loader *L, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    char *r = arena_strndup(&L->d->arena, s, n);
    if (!r)
        L->nomem = true;
    return r;
}

bool dict_valid_name(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return n <= DICT_NAME_MAX;
}

const char *dict_name_problem(const char *s)
{
    if (!*s)
        return "is empty";
    if (strlen(s) > DICT_NAME_MAX)
        return "is longer than 100 characters";
    return "must start with a lowercase letter and hold only a-z, 0-9 and _";
}

/* ---- references in logic ---- */

struct refctx {
    struct loader *L;
    const struct dict_field *f;
    size_t col;
    const char *what;
};

static int check_ref(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    struct refctx *r = ctx;
    struct loader *L = r->L;
    const struct dict *d = L->d;
    size_t line = r->f->line;
#define REF_ERR(...)                                                                               \
    do {                                                                                           \
        char m_[600];                                                                              \
        fmt_text(m_, sizeof m_, __VA_ARGS__);                                                      \
        dict_add_error(L, "dictionary.csv", line, r->col, "(%s, char %zu): %s", r->what, pos, m_); \
    } while (0)
    if (event && dict_event_index(d, event) < 0)
        REF_ERR("unknown event [%s] in [%s][%s]", event, event, field);
    const struct dict_field *t = dict_field(d, field);
    if (!t) {
        struct dict_key k;
        bool is_complete = dict_key_parse(d, field, &k) == DICT_KEY_STATUS;
        if (!is_complete)
            REF_ERR("unknown field [%s]", field);
        else if (code)
            REF_ERR("[%s(%s)]: a form status field has no options", field, code);
        return 0;
    }
    if (code && t->type != FT_CHECKBOX)
        REF_ERR("[%s(%s)]: '%s' is a %s field, not a checkbox", field, code, field,
                dict_field_type_name(t->type));
    else if (code && !dict_choice_label(t, code))
        REF_ERR("[%s(%s)]: checkbox '%s' has no option '%s'", field, code, field, code);
    else if (!code && t->type == FT_CHECKBOX)
        REF_ERR("[%s]: a checkbox is referenced by option, e.g. [%s(%s)]", field, field,
                t->nchoices ? t->choices[0].code : "1");
#undef REF_ERR
    return 0;
}

/* A bound piped from a field the protocol does not have (or an event it does not have, a
 * checkbox, a form status): REDCap reads it as blank, so it never bounds anything. Kept as
 * written, not checked, with a warning rather than a refusal. */
static int bound_ref_known(void *ctx, const char *event, const char *field, const char *code,
                           size_t pos)
{
    (void)pos;
    struct refctx *r = ctx;
    const struct dict_field *t = dict_field(r->L->d, field);
    if ((event && dict_event_index(r->L->d, event) < 0) || !t || code || t->type == FT_CHECKBOX)
        return 1;
    return 0;
}

static void check_bound_refs(struct loader *L, struct dict_field *f)
{
    for (int k = 0; k < 2; k++) {
        struct expr **ref = k ? &f->max_ref : &f->min_ref;
        struct refctx r = {L, f, (size_t)(C_VMIN + 1 + k), k ? "max" : "min"};
        if (!*ref || !expr_foreach_ref(*ref, bound_ref_known, &r))
            continue;
        dict_add_warning(L, "dictionary.csv", f->line, r.col,
                         "field '%s': %s '%s' names no value this protocol holds (an unknown "
                         "field or event, a checkbox, a form status); ioheme keeps it but does "
                         "not check it",
                         f->name, r.what, k ? f->vmax : f->vmin);
        *ref = NULL;
    }
}

static void check_refs(struct loader *L)
{
    for (size_t i = 0; i < L->d->nfields; i++) {
        struct dict_field *f = &L->d->fields[i];
        struct refctx rb = {L, f, C_BRANCH + 1, "Branching Logic"};
        struct refctx rc = {L, f, C_CHOICES + 1, "Calculation"};
        expr_foreach_ref(f->branching, check_ref, &rb);
        expr_foreach_ref(f->calc, check_ref, &rc);
        check_bound_refs(L, f);
    }
}

/* Calc fields that use each other in a circle can never be computed: depth-first search over
 * same-event references between calc fields, reporting each circle once. */
struct cycle_walk {
    struct loader *L;
    unsigned char *color; /* 0 unseen, 1 on the current path, 2 done */
    size_t *path;
    size_t depth;
};

static int visit_calc(struct cycle_walk *w, size_t i);

static int cycle_ref(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    (void)pos;
    struct cycle_walk *w = ctx;
    const struct dict_field *t = event || code ? NULL : dict_field(w->L->d, field);
    if (!t || t->type != FT_CALC || !t->calc)
        return 0;
    return visit_calc(w, (size_t)(t - w->L->d->fields));
}

static int visit_calc(struct cycle_walk *w, size_t i)
{
    const struct dict_field *fields = w->L->d->fields;
    if (w->color[i] == 2)
        return 0;
    if (w->color[i] == 1) {
        struct strbuf chain = STRBUF_INIT;
        size_t k = w->depth;
        while (k > 0 && w->path[k - 1] != i)
            k--;
        for (k = k ? k - 1 : 0; k < w->depth; k++)
            strbuf_addf(&chain, "%s -> ", fields[w->path[k]].name);
        strbuf_adds(&chain, fields[i].name);
        dict_add_error(w->L, "dictionary.csv", fields[i].line, C_CHOICES + 1,
                       "calc field '%s' depends on itself: %s", fields[i].name, strbuf_str(&chain));
        strbuf_release(&chain);
        return 1;
    }
    w->color[i] = 1;
    w->path[w->depth++] = i;
    int rc = expr_foreach_ref(fields[i].calc, cycle_ref, w);
    w->depth--;
    w->color[i] = 2;
    return rc;
}

static void check_calc_cycles(struct loader *L)
{
    size_t n = L->d->nfields;
    struct cycle_walk w = {L, calloc(n + 1, 1), calloc(n + 1, sizeof(size_t)), 0};
    if (!w.color || !w.path) {
        L->nomem = true;
    } else {
        for (size_t i = 0; i < n; i++)
            if (L->d->fields[i].calc && !w.color[i])
                visit_calc(&w, i);
    }
    free(w.color);
    free(w.path);
}

/* ---- events, form-events, repeating forms ---- */

bool dict_cell_int(const char *s, int dflt, int *out)
{
    if (!*s) {
        *out = dflt;
        return true;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end == '.') /* REDCap writes offsets as "0.0" at times; allow an integral decimal */
        while (*++end == '0')
            ;
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}

bool dict_need_cols(struct loader *L, const struct csv_table *t, const char *file,
                    const char *const *names, int *cols, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        cols[i] = csv_col(t, names[i]);
        if (cols[i] < 0) {
            dict_add_error(L, file, 1, 0, "missing column '%s'", names[i]);
            ok = false;
        }
    }
    return ok;
}

/* events.csv as REDCap exports it: event_name, arm_num, unique_event_name, and optionally
 * custom_event_label and the day_offset / offset_min / offset_max of a scheduled project
 * (REDCap leaves them out when scheduling is off; they read as 0). Other columns (event_id)
 * are REDCap's own and ignored. */
static void load_events(struct loader *L, const struct csv_table *t)
{
    enum { E_NAME, E_ARM, E_UNIQUE, E_LABEL, E_DAY, E_MIN, E_MAX, E__N };
    static const char *const names[E__N] = {"event_name",         "arm_num",    "unique_event_name",
                                            "custom_event_label", "day_offset", "offset_min",
                                            "offset_max"};
    int c[E__N];
    struct dict *d = L->d;
    d->events = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->events);
    if (!d->events) {
        L->nomem = true;
        return;
    }
    if (!dict_need_cols(L, t, "events.csv", names, c, E_LABEL))
        return;
    for (size_t k = E_LABEL; k < E__N; k++)
        c[k] = csv_col(t, names[k]);
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        size_t line = t->line[r];
        struct dict_event *ev = &d->events[d->nevents];
        ev->name = dict_dup(L, row[c[E_UNIQUE]]);
        const char *label =
            c[E_LABEL] >= 0 && row[c[E_LABEL]][0] ? row[c[E_LABEL]] : row[c[E_NAME]];
        ev->label = dict_dup(L, label);
        ev->short_label = dict_dup(L, row[c[0]][0] ? row[c[0]] : label);
        if (L->nomem)
            return;
        int arm;
        bool ok = true;
        if (!dict_valid_name(ev->name)) {
            dict_add_error(L, "events.csv", line, (size_t)c[E_UNIQUE] + 1, "event name '%s' %s",
                           ev->name, dict_name_problem(ev->name));
            ok = false;
        } else if (dict_event_index(d, ev->name) >= 0) {
            dict_add_error(L, "events.csv", line, (size_t)c[E_UNIQUE] + 1, "duplicate event '%s'",
                           ev->name);
            ok = false;
        }
        struct {
            int k;
            int *out;
        } ints[] = {{E_ARM, &arm},
                    {E_DAY, &ev->day_offset},
                    {E_MIN, &ev->offset_min},
                    {E_MAX, &ev->offset_max}};
        for (size_t i = 0; i < 4; i++) {
            int col = c[ints[i].k];
            const char *cell = col >= 0 ? row[col] : "";
            if (!dict_cell_int(cell, i == 0 ? 1 : 0, ints[i].out)) {
                dict_add_error(L, "events.csv", line, (size_t)col + 1, "%s '%s' is not an integer",
                               names[ints[i].k], cell);
                ok = false;
            }
        }
        if (ok)
            d->nevents++;
    }
    if (!t->nrows)
        dict_add_error(L, "events.csv", 1, 0, "no events");
}

static void load_form_events(struct loader *L, const struct csv_table *t)
{
    static const char *const names[] = {"arm_num", "unique_event_name", "form"};
    int c[3];
    struct dict *d = L->d;
    if (!dict_need_cols(L, t, "form_events.csv", names, c, 3))
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        int ev = dict_event_index(d, row[c[1]]);
        int fm = dict_form_index(d, row[c[2]]);
        if (ev < 0)
            dict_add_error(L, "form_events.csv", t->line[r], (size_t)c[1] + 1, "unknown event '%s'",
                           row[c[1]]);
        if (fm < 0)
            dict_add_error(L, "form_events.csv", t->line[r], (size_t)c[2] + 1, "unknown form '%s'",
                           row[c[2]]);
        if (ev < 0 || fm < 0)
            continue;
        bool *cell = &d->form_at_event[(size_t)ev * d->nforms + (size_t)fm];
        if (*cell)
            dict_add_error(L, "form_events.csv", t->line[r], 0,
                           "form '%s' listed twice at event '%s'", row[c[2]], row[c[1]]);
        *cell = true;
    }
}

/* Row r's max_instances (column cmax, -1: none): the default when blank or absent. */
static int row_max_instances(struct loader *L, const struct csv_table *t, size_t r, int cmax)
{
    int max = DICT_INSTANCE_MAX_DEFAULT;
    const char *cell = cmax >= 0 ? t->rows[r][cmax] : NULL;
    if (cell && (!dict_cell_int(cell, DICT_INSTANCE_MAX_DEFAULT, &max) || max < 1 ||
                 max > DICT_INSTANCE_CEILING)) {
        dict_add_error(L, "repeating.csv", t->line[r], (size_t)cmax + 1,
                       "max_instances '%s' is not a whole number from 1 to %d", cell,
                       DICT_INSTANCE_CEILING);
        max = DICT_INSTANCE_MAX_DEFAULT;
    }
    return max;
}

/* repeating.csv as REDCap exports it: event_name,form_name,custom_form_label (form_name blank:
 * the whole event repeats), or for a project without events (a classic project)
 * form_name,custom_form_label. */
static void load_repeating(struct loader *L, const struct csv_table *t, bool implicit_event)
{
    static const char *const names[] = {"event_name", "form_name", "custom_form_label"};
    int c[3] = {-1, -1, -1};
    struct dict *d = L->d;
    bool classic = implicit_event && csv_col(t, names[0]) < 0;
    if (classic ? !dict_need_cols(L, t, "repeating.csv", names + 1, c + 1, 2)
                : !dict_need_cols(L, t, "repeating.csv", names, c, 3))
        return;
    int cmax = csv_col(t, "max_instances"); /* ioheme's optional column */
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        const char *evname = classic ? "" : row[c[0]];
        int ev = implicit_event && !evname[0] ? 0 : dict_event_index(d, evname);
        if (!classic && !row[c[1]][0] && ev >= 0 && !implicit_event) {
            int max = row_max_instances(L, t, r, cmax);
            /* REDCap's repeating event (form_name blank): every form collected at the event
             * repeats there, an instance's forms sharing its number — what the flat file's rows
             * with a blank redcap_repeat_instrument fill (redcap.c, form_in_row) */
            size_t nforms = 0;
            for (size_t f = 0; f < d->nforms; f++) {
                size_t k = (size_t)ev * d->nforms + f;
                if (!d->form_at_event[k])
                    continue;
                nforms++;
                d->form_repeats[k] = true;
                d->form_max_instance[k] = max;
            }
            if (!nforms)
                dict_add_error(L, "repeating.csv", t->line[r], (size_t)c[0] + 1,
                               "event '%s' repeats but collects no form (form_events.csv)", evname);
            d->event_repeats[ev] = true;
            continue;
        }
        int fm = dict_form_index(d, row[c[1]]);
        if (ev < 0)
            dict_add_error(L, "repeating.csv", t->line[r], (size_t)c[0] + 1, "unknown event '%s'",
                           evname);
        if (fm < 0)
            dict_add_error(L, "repeating.csv", t->line[r], (size_t)c[1] + 1, "unknown form '%s'",
                           row[c[1]]);
        if (ev < 0 || fm < 0)
            continue;
        size_t k = (size_t)ev * d->nforms + (size_t)fm;
        if (!d->form_at_event[k])
            dict_add_error(L, "repeating.csv", t->line[r], (size_t)c[1] + 1,
                           "form '%s' repeats at event '%s' but is not collected there "
                           "(form_events.csv)",
                           row[c[1]], evname);
        d->form_repeats[k] = true;
        d->form_max_instance[k] = row_max_instances(L, t, r, cmax);
    }
}

/* ---- the whole load ---- */

/* Every cell is UTF-8 text (labels and choices go out as HTML, JSON and XML): a file saved in
 * another encoding — Excel's "CSV" is Windows-1252 — is refused with the cells named (the first
 * few) and what to do. */
static bool table_is_utf8(struct loader *L, const struct csv_table *t, const char *file)
{
    enum { SHOWN = 5 };
    size_t bad = 0, more_line = 0;
    for (size_t r = 0; r <= t->nrows; r++) /* the header first, as row 0 */
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r ? t->rows[r - 1][c] : t->header[c];
            size_t line = r ? t->line[r - 1] : 1;
            if (!s || utf8_is_valid(s))
                continue;
            if (bad++ < SHOWN)
                dict_add_error(L, file, line, c + 1,
                               "not valid UTF-8 text: the file was saved in another encoding "
                               "(Windows-1252 or Latin-1?); save it as \"CSV UTF-8\"");
            else if (!more_line)
                more_line = line;
        }
    if (bad > SHOWN)
        dict_add_error(L, file, more_line, 0,
                       "and %zu more cells from here on are not valid UTF-8 text", bad - SHOWN);
    return bad == 0;
}

static bool parse_table(struct loader *L, const char *data, const char *file, struct csv_table *t)
{
    struct err e;
    err_clear(&e);
    if (csv_table_parse(data, strlen(data), file, t, &e) == 0) {
        if (table_is_utf8(L, t, file))
            return true;
        csv_table_free(t);
        return false;
    }
    if (e.code == ERR_NOMEM)
        L->nomem = true;
    else
        add_raw(L, file, e.msg);
    return false;
}

int dict_load_files(const char *const files[DICT_NFILES], struct dict *d, struct strbuf *errors,
                    size_t *nerrors, struct err *e)
{
    memset(d, 0, sizeof *d);
    struct loader L = {.d = d};
    struct csv_table t[DICT_NFILES];
    bool has[DICT_NFILES];
    for (int i = 0; i < DICT_NFILES; i++) {
        const char *data = files[i] ? files[i] : i == 0 ? "" : NULL;
        has[i] = data && parse_table(&L, data, dict_protocol_files[i], &t[i]);
    }
    if (has[0])
        dict_load_dictionary(&L, &t[0]);
    if (has[1]) {
        d->is_longitudinal = true;
        load_events(&L, &t[1]);
    } else if (!L.nomem) {
        d->events = arena_calloc(&d->arena, 1, sizeof *d->events);
        if (d->events) {
            d->events[0] = (struct dict_event){
                .name = "event_1", .label = "Event 1", .short_label = "Event 1"};
            d->nevents = 1;
        } else {
            L.nomem = true;
        }
    }
    if (!L.nomem && d->nfields) {
        size_t cells = (d->nevents ? d->nevents : 1) * (d->nforms ? d->nforms : 1);
        d->form_at_event = arena_calloc(&d->arena, cells, sizeof(bool));
        d->form_repeats = arena_calloc(&d->arena, cells, sizeof(bool));
        d->form_max_instance = arena_calloc(&d->arena, cells, sizeof(int));
        d->event_repeats = arena_calloc(&d->arena, d->nevents ? d->nevents : 1, sizeof(bool));
        if (!d->form_at_event || !d->form_repeats || !d->form_max_instance || !d->event_repeats)
            L.nomem = true;
        else if (has[2])
            load_form_events(&L, &t[2]);
        else /* no form-event table: every form at every event */
            memset(d->form_at_event, 1, d->nevents * d->nforms * sizeof(bool));
        if (!L.nomem && has[3])
            load_repeating(&L, &t[3], !has[1]);
        if (!L.nomem)
            check_refs(&L);
        if (!L.nomem)
            check_calc_cycles(&L);
        if (!L.nomem)
            dict_load_study(&L, has[4] ? &t[4] : NULL);
        if (!L.nomem)
            dict_load_schedule(&L, has[5] ? &t[5] : NULL);
        if (!L.nomem && has[6])
            dict_load_sdv(&L, &t[6]);
        if (!L.nomem && has[7])
            dict_load_signatures(&L, &t[7]);
    }
    for (int i = 0; i < DICT_NFILES; i++)
        if (has[i])
            csv_table_free(&t[i]);
    if (nerrors)
        *nerrors = L.nerrs;
    int rc = 0;
    if (!L.nomem && !L.nerrs && L.nwarns)
        keep_warnings(&L);
    if (L.nomem)
        rc = err_set(e, ERR_NOMEM, "out of memory loading the protocol");
    else if (L.nerrs)
        rc = report_errors(&L, errors, e);
    for (size_t i = 0; i < L.nerrs; i++)
        free(L.errs[i].msg);
    free(L.errs);
    for (size_t i = 0; i < L.nwarns; i++)
        free(L.warns[i].msg);
    free(L.warns);
    if (rc)
        dict_free(d);
    return rc;
}

int dict_load_mem_full(const char *dictionary_csv, const char *events_csv,
                       const char *form_events_csv, const char *repeating_csv, struct dict *d,
                       struct strbuf *errors, size_t *nerrors, struct err *e)
{
    const char *files[DICT_NFILES] = {dictionary_csv, events_csv, form_events_csv, repeating_csv};
    return dict_load_files(files, d, errors, nerrors, e);
}

int dict_load_mem(const char *dictionary_csv, const char *events_csv, const char *form_events_csv,
                  const char *repeating_csv, struct dict *d, struct err *e)
{
    return dict_load_mem_full(dictionary_csv, events_csv, form_events_csv, repeating_csv, d, NULL,
                              NULL, e);
}

/* Reads dir/name; a missing optional file gives *out = NULL and 0. */
static int read_member(const char *dir, const char *name, bool required, char **out, struct err *e)
{
    *out = NULL;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return err_set(e, ERR_IO, "%s: path too long", dir);
    if (!required && access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    size_t len;
    return csv_file_read_all(path, out, &len, e);
}

int dict_load_full(const char *dir, struct dict *d, struct strbuf *errors, size_t *nerrors,
                   struct err *e)
{
    char *data[DICT_NFILES] = {0};
    memset(d, 0, sizeof *d);
    if (nerrors)
        *nerrors = 0;
    int rc = 0;
    for (int i = 0; i < DICT_NFILES && !rc; i++)
        rc = read_member(dir, dict_protocol_files[i], i == 0, &data[i], e);
    if (!rc)
        rc = dict_load_files((const char *const *)data, d, errors, nerrors, e);
    for (int i = 0; i < DICT_NFILES; i++)
        free(data[i]);
    return rc;
}

int dict_load(const char *dir, struct dict *d, struct err *e)
{
    return dict_load_full(dir, d, NULL, NULL, e);
}

void dict_free(struct dict *d)
{
    arena_free(&d->arena);
    memset(d, 0, sizeof *d);
}
