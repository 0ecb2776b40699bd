/* The write path's private state (write.c) and its per-change-set cache of the record's values
 * and form statuses (write_cache.c). Internal to src/store/. */
#ifndef IOHEME_STORE_WRITE_INT_H
#define IOHEME_STORE_WRITE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "core/expr.h"
#include "store/store_int.h"

/* One value slot of the record: (event, instance, field, checkbox code). value is NULL once
 * deleted. Strings live in the cache's arena. */
struct cached_value {
    bool is_used;
    int ev, instance;
    size_t fi;        /* index in dict.fields */
    const char *code; /* "" when not a checkbox option */
    const char *value;
};

/* How many values form fi holds at (event ev, instance): whether the form "has data" there is
 * one lookup, not a scan of the record. */
struct form_count {
    bool is_used;
    int ev, instance;
    size_t fi;
    long n;
};

/* The record's stored values, read once and kept in step with every write (value_write), so
 * the reads of validation, calcs and the required-field check cost a hash lookup instead of a
 * query. Owned by the store (one per connection). Inside a batch it is kept across change sets
 * of the same record — the batch's transaction holds the write lock, so nothing else can change
 * the record meanwhile — which keeps an import of many rows for one record linear; it is
 * dropped after a refused change set (whose writes were rolled back), when the record changes,
 * and at the end of every transaction outside a batch and of the batch itself. */
struct putcache {
    long long record_id;     /* whose values are loaded; 0: none */
    unsigned long rollbacks; /* st->rollbacks when loaded: any rollback since makes it stale */
    struct arena ar;
    struct cached_value *vals;
    size_t nvals, valcap; /* valcap: a power of two */
    struct form_count *forms;
    size_t nforms, formcap;
};

/* Forgets what pc holds (keeps nothing allocated). */
void store_putcache_drop(struct putcache *pc);

/* A form's status at (event, form, instance) as stored: 0-2, or -1 when there is none. */
struct cached_status {
    const char *event, *form; /* the dictionary's strings */
    int instance, status;
};

/* What one change will do, worked out before anything is written. */
struct plan {
    int ev;
    const struct dict_form *form;
    const struct dict_field *f; /* NULL for a form-status change */
    const char *value;          /* canonical; "" deletes */
    const char *flag;           /* soft rule, or NULL */
    char *old;                  /* stored value (arena), NULL when none */
    bool is_changed;
};

/* (event, instance, field) that changed, for calc recomputation. */
struct touched {
    const char *event; /* the dictionary's string for event ev */
    int instance;
    const char *field; /* f->name */
    size_t ev;
    const struct dict_field *f;
};

/* A calc evaluated during this change set: calc c at (event ev, instance), when ps->nt was
 * nt. Its stored value is the result of that evaluation; only a touch made after it to one of
 * the calc's inputs can make a re-evaluation differ. */
struct evaluated {
    size_t c, ev, nt;
    int instance;
};

struct put_state {
    struct store *st;
    const struct store_ctx *who;
    const struct store_record *r;
    const char *calc_reason; /* the reason audited with recomputed calcs (an amendment), or NULL */
    const char *rname;
    struct store_put_result *res;
    struct arena ar;
    struct touched *t;
    size_t nt, tcap;
    struct evaluated *done;
    size_t ndone, donecap;
    struct putcache *pc; /* the record's values (st->putcache; store_putcache_values_load) */
    /* Form statuses read or written by this change set (status_read, status_write). */
    struct cached_status *sts;
    size_t nsts, stscap;
    int has_live_queries; /* -1 not looked up yet; else whether the record has open/answered
                             queries (store_query_note_value) */
    int has_sdv;          /* likewise: whether it has verified values (store_sdv_note_value) */
    int has_signature;    /* likewise: valid signatures (store_signature_note_change) */
    struct store_form_lock *flocks; /* the record's locked form instances (in ar) */
    size_t nflocks;
};

/* The expr_lookup_fn of the write path: store_value_lookup_fn's rules (read.c), answered from the
 * cache. */
struct cached_lookup {
    struct put_state *ps;
    const char *event;
    int instance;
};

/* The cache slot for (event index, instance, field index, checkbox code or ""): the used entry,
 * or the free entry where it would go. */
struct cached_value *store_putcache_slot_find(struct put_state *ps, int ev, int instance, size_t fi,
                                              const char *code);
/* Sets (value NULL: deletes) a slot; the value is copied into the cache. Returns 0 or
 * ERR_NOMEM. */
int store_putcache_slot_set(struct put_state *ps, int ev, int instance, size_t fi, const char *code,
                            const char *value);
/* Makes the cache hold the record ps->r: kept as it is when it already does inside a batch,
 * else read from the database. */
int store_putcache_values_load(struct put_state *ps, struct err *e);
/* Whether form fi holds any value at (event ev, instance). */
bool store_putcache_form_has_data(const struct put_state *ps, int ev, size_t fi, int instance);
/* The stored value at a key into *out (NULL when none); points into the cache. */
int store_putcache_value_read(struct put_state *ps, const char *event, int instance,
                              const char *field, const char *code, char **out, struct err *e);
/* expr_lookup_fn over the cache; ctx is a struct cached_lookup. */
int store_putcache_lookup_fn(void *ctx, const char *event, const char *field, const char *code,
                             int instance, struct expr_value *out, struct err *e);
/* Evaluates x (field f's calc, or a bound piped into it) at (event, instance) over the cache,
 * formatted as REDCap stores it ("" when blank), into *out (ps's arena). */
int store_putcache_eval_text(struct put_state *ps, const struct expr *x, const struct dict_field *f,
                             const char *event, int instance, char **out, struct err *e);
/* Remembers a form status read or written by this change set. */
int store_putcache_status_remember(struct put_state *ps, const char *event, const char *form,
                                   int instance, int status);
/* The form status at (event, form, instance): 0-2, or -1 when none (read once, then cached). */
int store_putcache_status_read(struct put_state *ps, const char *event, const char *form,
                               int instance, int *status, struct err *e);

/* Adds an issue (level, rule, msg) about change idx (c) to res (none when res is NULL):
 * ERR_NOMEM or 0. */
int store_put_issue_add(struct store_put_result *res, enum store_issue_level level, size_t idx,
                        const struct store_change *c, const char *rule, const char *msg);
/* Closes e's message on the first of nhard refused values with how many more there were. */
void store_put_more_refused(struct err *e, size_t nhard);

/* The checks of what a change set leaves behind (write_check.c), in the order
 * store_put_changes_locked calls them: bounds piped from another field (before writing; sets a
 * plan's soft flag), values left on fields their branching hides, complete forms without their
 * required fields (after writing and the calcs). Each returns ERR_INVALID with e and the issues
 * set when it refuses the set. */
int store_put_check_piped_bounds(struct put_state *ps, const struct store_change *changes,
                                 struct plan *plans, size_t n, struct err *e);
int store_put_check_hidden(struct put_state *ps, const struct store_change *changes, size_t n,
                           struct err *e);
int store_put_check_required(struct put_state *ps, const struct store_change *changes,
                             const struct plan *plans, size_t n, struct err *e);

#endif
