/* A subject's IO procedure as the stopwatch sees it: the placements (io_procedure instances)
 * and their attempts (io_attempt instances, linked by att_placement and att_number) at the
 * event collecting them, read from the store. Shared by the stopwatch API (which resumes and
 * continues the latest placement), the subject page and the dashboard's data-quality list
 * (which show empty placements: a decision without any attempt). */
#ifndef IOHEME_HTTP_IO_STATE_H
#define IOHEME_HTTP_IO_STATE_H

#include "http/http_int.h"

struct page_io_attempt {
    int instance, number, placement;                 /* placement: att_placement (0 when missing) */
    const char *site, *side, *start, *end, *outcome; /* stored values, NULL when blank */
};

struct page_io_placement {
    int instance;
    int number;       /* iop_number (the stopwatch writes the instance), else the instance */
    int status;       /* the form's status, -1 none */
    int crf_attempts; /* iop_n_attempts as entered, 0 when blank */
    const char *decision, *confirm, *infusion, *success; /* NULL when blank */
    int nattempts;                                       /* attempt forms naming it */
    bool is_open;  /* neither complete (status 2) nor finished (first infusion marked) */
    bool is_empty; /* a decision but no attempt (no attempt form, no iop_n_attempts): not a
                      procedure the analysis can use */
};

struct page_io_state {
    const char *event; /* the event collecting the attempt form, NULL when the protocol has none */
    struct page_io_placement *pl; /* ascending instance; in r->ar */
    size_t npl;
    struct page_io_attempt *att; /* ascending instance */
    size_t natt;
};

/* Loads record's placements and attempts into *out (allocated in r->ar). ERR_NOT_FOUND when
 * the protocol lacks the stopwatch's fields (iop_*, att_*). */
int page_io_load(struct req *r, const char *record, struct page_io_state *out, struct err *e);

/* The placements of every record of recs (n of them, as store_record_list gives them) into
 * out[n], reading only the fields that say which placements are empty (iop_number,
 * iop_decision_dt, iop_n_attempts, att_placement, att_number) across the study — not every
 * value: the dashboard's data-quality list. Only number, decision, crf_attempts, nattempts
 * and is_empty are filled. */
int page_io_load_study(struct req *r, const struct store_record *recs, size_t n,
                       struct page_io_state *out, struct err *e);

/* The rule for an empty placement, in words, for every page that shows one. */
#define PAGE_IO_EMPTY_TEXT                                                                         \
    "empty: a decision to use IO but no attempt — not a procedure; the analysis cannot use it "  \
    "(record its attempts, or clear its decision time)"

/* Links to placement p's form of record (escaped), with its number as text. */
void page_io_link(struct req *r, const char *record, const struct page_io_state *s,
                  const struct page_io_placement *p);

/* The latest placement (highest instance), or NULL. */
const struct page_io_placement *page_io_latest(const struct page_io_state *s);

#endif
