/* Whether a field is shown: its branching logic, evaluated on a record's values. This is the one
 * place C decides it — the write path (a save may not leave a value on a field it hides), the
 * analysis dataset (a hidden value is never used) and the data-quality list (which names the
 * hidden values already stored) all call it; the browser runs the same expressions through
 * expr_to_js and src/web/logic.js. */
#ifndef IOHEME_CORE_BRANCH_H
#define IOHEME_CORE_BRANCH_H

#include <stdbool.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/dict.h"
#include "core/expr.h"
#include "core/vtab.h"

/* *shown: true when f has no branching logic or its logic is true at the lookup's current event
 * and instance (a blank result hides, as in REDCap). Strings made while evaluating go to ar.
 * An evaluation error is returned (e names the field and what failed). */
int branch_is_shown(const struct dict_field *f, expr_lookup_fn lookup, void *ctx, long long now_ms,
                    struct arena *ar, bool *shown, struct err *e);

/* Called for a value that its field's branching logic hides; return non-zero to stop (that
 * value is returned). v is valid only during the call. */
/* The lowest and highest instance at which any field of f's form holds a value in t at event
 * (0 when none): [first-instance] / [last-instance] over a value table. */
void branch_vtab_bounds(const struct dict *d, struct vtab *t, const char *event,
                        const struct dict_field *f, int *first, int *last);
typedef int (*branch_hidden_fn)(void *ctx, const struct vtab_value *v, const struct dict_field *f);

/* Where logic is evaluated in a value table: the record's table t, the current event and
 * instance. */
struct branch_vtab_at {
    const struct dict *d;
    struct vtab *t;
    const char *event;
    int instance;
};
/* The expr_lookup_fn that reads references in a value table as the store reads them (see
 * branch_vtab_hide); ctx is a struct branch_vtab_at. */
int branch_vtab_lookup(void *ctx, const char *event, const char *field, const char *code,
                       int instance, struct expr_value *out, struct err *e);

/* Blanks in t every value (not of a calc field) that its field's branching logic hides at the
 * value's event and instance, calling fn (may be NULL) for each first, in t's order. Repeats
 * until nothing more is hidden, since a blanked value can hide others. References read as the
 * store reads them: the current event and instance, a non-repeating form at instance 0, a
 * repeating form of another event at instance 1; an unticked checkbox option is "0". */
int branch_vtab_hide(const struct dict *d, struct vtab *t, long long now_ms, branch_hidden_fn fn,
                     void *ctx, struct err *e);

#endif
