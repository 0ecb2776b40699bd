/* A value table: the stored values of ONE record, in memory, indexed for lookup by
 * (event, field, instance, code). It is the derivations' input, filled from the store's
 * study-value callback one record at a time (so memory stays flat for 100,000 patients) or by
 * hand in tests.
 *
 * The table owns copies of every string (in its arena); vtab_reset empties it for the next
 * record, vtab_free releases everything. */
#ifndef IOHEME_CORE_VTAB_H
#define IOHEME_CORE_VTAB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"

struct dict;

struct vtab_value {
    const char *event;
    const char *field;
    const char *code; /* checkbox option, or NULL */
    const char *value;
    int instance;    /* 0 for non-repeating forms */
    int field_index; /* the field's in the table's dictionary (vtab_set_dict), -1 when none */
    int event_index; /* the event's likewise */
};

/* The values of one (field, event): v[start, end), in (instance, code) order. */
struct vtab_run {
    const char *field, *event;
    unsigned long long hash;
    size_t start, end;
};

struct vtab {
    const char *screening_no; /* "SCR-001" */
    const char *study_id;     /* "IOH-001", or NULL when not enrolled */
    const char *site;         /* its site's code (docs/sites.md), NULL when none */
    bool is_enrolled;
    struct vtab_value *v;
    size_t n, cap;
    bool is_sorted; /* v sorted and runs/slots built from it (vtab.c ensure_sorted) */
    /* branch_vtab_hide has blanked what branching logic hides (with "now" at
     * branching_now_ms), and nothing was added since: every value left is of a field shown
     * where it is stored */
    bool is_branching_applied;
    long long branching_now_ms;
    /* a hash index of the runs: slots[] holds a run's index + 1, 0 when empty; nslots is a
     * power of two, at least twice nruns. A lookup hashes (field, event) once instead of
     * comparing strings at every step of a bisection over the whole record (those strcmp
     * calls were a fifth of `ioheme dataset`). */
    struct vtab_run *runs;
    size_t nruns, runs_cap;
    size_t *slots;
    size_t nslots;
    const struct dict *dict; /* vtab_set_dict, NULL when none */
    int event_hint;          /* the event of the last value added (its index in dict), or -1 */
    /* Sorting by the dictionary (vtab.c bucket_sort): each field's and event's place among the
     * dictionary's names in byte order, made at the first sort after vtab_set_dict; a count per
     * place; the values between the two passes. */
    unsigned *field_rank, *event_rank, *counts;
    size_t ncounts;
    struct vtab_value *spare;
    size_t spare_cap;
    struct arena arena;
};

void vtab_init(struct vtab *t);
/* Forgets the record (keeps the allocation of the value array). */
void vtab_reset(struct vtab *t);
void vtab_free(struct vtab *t);

/* The dictionary the values belong to, set on an empty table (kept by vtab_reset; it must
 * outlive the table, and stay as it is while the table is used with it: call this again after
 * it changes). A value
 * of one of its fields or events then points at the dictionary's own name instead of a copy
 * and carries its field's index, and lookups given the dictionary's names (d->fields[i].name,
 * d->events[k].name, as the derivations pass them) compare pointers where they would compare
 * strings. */
void vtab_set_dict(struct vtab *t, const struct dict *d);

/* Sets the record's identity (strings copied). study_id NULL when not enrolled. */
int vtab_set_record(struct vtab *t, const char *screening_no, const char *study_id);
/* Sets the record's site (copied; NULL or "": none), after vtab_set_record. */
int vtab_set_site(struct vtab *t, const char *site);
/* Adds one value (strings copied). Returns 0, or ERR_NOMEM. Empty values are kept (they read
 * as missing). */
int vtab_add(struct vtab *t, const char *event, int instance, const char *field, const char *code,
             const char *value);

/* Puts v[] in (field, event, instance, code) order (byte order; instances as numbers), for a
 * caller that walks it; lookups sort by themselves. false: out of memory. */
bool vtab_sort(struct vtab *t);

/* The value, or NULL when absent or empty. For a checkbox pass the option code. The table is
 * sorted on the first lookup after an add. */
const char *vtab_get(struct vtab *t, const char *event, int instance, const char *field,
                     const char *code);
/* As vtab_get, parsed as a number: true and *out set when present, numeric and finite. */
bool vtab_num(struct vtab *t, const char *event, int instance, const char *field, double *out);
/* The smallest instance above `after` at which field holds a value at event, 0 when there is
 * none. Loops visit the instances that exist —
 *     for (int i = vtab_next_instance(t, ev, f, 0); i; i = vtab_next_instance(t, ev, f, i))
 * — never a range 1..max, which a stored instance 2147483647 would make endless. */
int vtab_next_instance(struct vtab *t, const char *event, const char *field, int after);
/* As vtab_next_instance, over any of the n fields: the smallest instance above `after` where
 * one of them holds a value, 0 when none does. */
int vtab_next_instance_any(struct vtab *t, const char *event, const char *const *fields, size_t n,
                           int after);
/* True when any value is stored at event (any instance). */
bool vtab_has_event(struct vtab *t, const char *event);

#endif
