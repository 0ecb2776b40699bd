/* Shared between the two halves of the protocol loader: dict.c (the data dictionary's rows,
 * lookups) and dict_load.c (error collection, events, form-events, repeating forms, logic
 * references, the whole load). Private to core/. */
#ifndef IOHEME_CORE_DICT_INT_H
#define IOHEME_CORE_DICT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/dict.h"
#include "formats/csv.h"

#define DICT_NAME_MAX 100

/* The dictionary's 18 columns, 0-based; +1 gives the CSV column number in messages. */
enum {
    C_NAME,
    C_FORM,
    C_SECTION,
    C_TYPE,
    C_LABEL,
    C_CHOICES,
    C_NOTE,
    C_VTYPE,
    C_VMIN,
    C_VMAX,
    C_IDENT,
    C_BRANCH,
    C_REQUIRED,
    C_ALIGN,
    C_QNUM,
    C_MATRIX,
    C_MRANK,
    C_ANNOT
};

struct dict_error {
    int file_rank;    /* dictionary, events, form_events, repeating: the order they print in */
    size_t line, col; /* col 0: the whole line */
    size_t seq;       /* order of finding, to keep sorting stable */
    char *msg;        /* the whole "file:line:col: message" (malloc'd) */
};

struct loader {
    struct dict *d;
    struct dict_error *errs;
    size_t nerrs, cap;
    struct dict_error *warns; /* as errs; copied into d->warnings once the load succeeds */
    size_t nwarns, wcap;
    bool nomem;
};

/* Records an error at file:line:col (col 0: none). file is one of the four file names. */
void dict_add_error(struct loader *L, const char *file, size_t line, size_t col, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
/* Records a warning at file:line:col: what loads but does not behave as in REDCap. The
 * protocol still loads; dict.warnings lists them. */
void dict_add_warning(struct loader *L, const char *file, size_t line, size_t col, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/* Copies into the dict's arena (trimmed: dict_dup_trim); NULL and L->nomem on failure. */
char *dict_dup(struct loader *L, const char *s);
char *dict_dup_trim(struct loader *L, const char *s, size_t n);
/* REDCap's rule for field, form and event names; dict_name_problem says what is wrong. */
bool dict_valid_name(const char *s);
const char *dict_name_problem(const char *s);

/* dict.c: the dictionary table into L->d (fields, forms, the name index). */
void dict_load_dictionary(struct loader *L, const struct csv_table *t);

/* An integer cell; blank gives dflt. false when it is not an integer (REDCap's "2.0" is 2). */
bool dict_cell_int(const char *s, int dflt, int *out);
/* Finds the named columns of t into cols; reports each missing one at file:1. */
bool dict_need_cols(struct loader *L, const struct csv_table *t, const char *file,
                    const char *const *names, int *cols, size_t n);

/* dict_study.c, after the dictionary and events are loaded: study.csv into L->d->study and
 * schedule.csv into each event's due_min and window (t NULL: the file is absent, the
 * defaults of dict.h apply). */
void dict_load_study(struct loader *L, const struct csv_table *t);
void dict_load_schedule(struct loader *L, const struct csv_table *t);
/* dict_study.c: sdv.csv (the SDV plan). */
void dict_load_sdv(struct loader *L, const struct csv_table *t);
/* dict_study.c: signatures.csv (the signature meanings). */
void dict_load_signatures(struct loader *L, const struct csv_table *t);

#endif
