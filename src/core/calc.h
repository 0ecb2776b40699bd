/* Calculated fields computed on demand: an expr_lookup_fn that answers a reference to a calc
 * field by evaluating the field's calculation (recursively, at the event it is referenced at)
 * and every other reference from the caller's own lookup. Eligibility uses it while a patient
 * is screened (stored calc values may be stale); the store can use it to compute calc fields
 * before saving; `ioheme protocol eval --protocol` uses it to debug calculations. */
#ifndef IOHEME_CORE_CALC_H
#define IOHEME_CORE_CALC_H

#include <stddef.h>

#include "core/dict.h"
#include "core/expr.h"

struct calc_lookup {
    const struct dict *d;
    expr_lookup_fn inner; /* entered values; gets event NULL for the current event */
    void *inner_ctx;
    long long now_ms;
    struct arena *ar;  /* strings made while evaluating */
    const char *event; /* event of the calc being computed; NULL = the current one */
    size_t depth;      /* calc fields being computed, nested */
};

/* Fills c; no allocation. d, inner_ctx and ar must outlive its use. */
void calc_lookup_init(struct calc_lookup *c, const struct dict *d, expr_lookup_fn inner,
                      void *inner_ctx, long long now_ms, struct arena *ar);

/* The expr_lookup_fn; ctx is a struct calc_lookup *. A reference inside a calc that was itself
 * referenced as [ev][calc] reads event ev. ERR_INVALID when calc fields nest more than 64 deep
 * (only a cycle through other events can do that: dict_load refuses same-event cycles). */
int calc_lookup_fn(void *ctx, const char *event, const char *field, const char *code, int instance,
                   struct expr_value *out, struct err *e);

/* Computes calc field f at event (NULL: the current event) into *out. */
int calc_field(struct calc_lookup *c, const struct dict_field *f, const char *event,
               struct expr_value *out, struct err *e);

/* ---- what each calc reads, for recomputation after a change ---- */

/* An event-qualified reference [event][field] of a calc. */
struct calc_ref {
    const char *event;
    const char *field;
};

/* A calc field with its event-qualified references (for cross-event recomputation) and the
 * name of every field it reads, qualified or not (write.c skips re-evaluating a calc none of
 * whose inputs changed since it was last evaluated in the same change set). */
struct calc_info {
    const struct dict_field *f;
    struct calc_ref *refs;
    size_t nrefs;
    const char **inputs; /* field names, each once */
    size_t ninputs;
};

/* Indexes every calc field of d that has a calculation, in dictionary order: its event-qualified
 * references and every field it reads. *out (n entries) and its strings are allocated in ar;
 * ERR_NOMEM otherwise. */
int calc_index(const struct dict *d, struct arena *ar, struct calc_info **out, size_t *n,
               struct err *e);

#endif
