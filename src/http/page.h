/* Shared by the page handlers: a record's values loaded once per request, and the form
 * renderer that turns a dictionary form into HTML inputs (form_render.c). */
#ifndef IOHEME_HTTP_PAGE_H
#define IOHEME_HTTP_PAGE_H

#include "core/perm.h"
#include "http/http_int.h"

struct page_value {
    const char *event;
    int instance;
    const char *field;
    const char *code; /* NULL unless a checkbox option */
    const char *value;
    const char *flag; /* soft rule that flagged it, or NULL */
    int version;      /* the protocol version it was entered under */
};

/* Every stored value of a record, in r->ar. */
struct page_values {
    struct page_value *v;
    size_t n, cap;
};

/* Loads record's values into pv (allocated in r->ar). */
int page_values_load(struct req *r, const char *record, struct page_values *pv, struct err *e);
/* The value (borrowed), or NULL. */
const struct page_value *page_values_get(const struct page_values *pv, const char *event,
                                         int instance, const char *field, const char *code);

/* Where the values shown in a form come from. */
struct form_source {
    const struct page_values *stored; /* stored values (may be NULL) */
    const char *event;
    int instance;
    bool from_post;                     /* show what the request posted instead */
    const struct store_put_result *res; /* issues to show next to their fields, or NULL */
};

/* Writes the inputs of form fm (labels, notes/units, choices, data- attributes for branching
 * logic, calc and validation read by form.js) into the page. */
void form_render_fields(struct req *r, const struct dict_form *fm, const struct form_source *src);
/* The changes a posted form asks for: every data field of fm at (event, instance) the user
 * altered, checkbox options as field___code, each expecting the value the page showed
 * (store_change.expect, from its hidden __orig input; a post without them: every field, as
 * before); allocated in r->ar. */
int form_changes_from_post(struct req *r, const struct dict_form *fm, const char *event,
                           int instance, struct store_change **out, size_t *n, struct err *e);
/* Whether the save that gave res refused key (a field, field___code or FORM_complete) as a
 * conflict (store_change.expect). */
bool form_is_conflict(const struct store_put_result *res, const char *key);
/* "Incomplete" / "Unverified" / "Complete" / "No data" for a status 0/1/2/-1. */
const char *page_status_label(int status);
/* A mark for a status 0/1/2/-1 that tells it apart without colour: "…" incomplete, "?"
 * unverified, "✓" complete, "–" no data. */
const char *page_status_mark(int status);
/* A record's status as a person reads it: "Screened", "Screen failure", "Enrolled",
 * "Withdrawn" (store_record_status_name gives the stored names). */
const char *page_record_status_label(enum store_record_status s);
/* True when the signed-in user's role holds act: pages offer only what the role may do (the
 * router and the write path check again). */
bool page_may(const struct req *r, enum perm_action act);
/* page_queries.c: the queries on form fm of record at (event, instance), and a "raise a query"
 * form for roles that may; placed under a data-entry form. */
void page_queries_section(struct req *r, const char *record, const char *event, int instance,
                          const struct dict_form *fm);
/* One line with the live query counts of record (open, answered), or, for NULL, of the study
 * and those waiting for the signed-in user; linked to the query list. */
void page_queries_summary(struct req *r, const char *record);
/* page_sdv.c: what is verified against source on form fm of record at (event, instance), with
 * a "mark verified" button for roles that may; and one line of SDV progress against the plan
 * for record, or for the study when record is NULL. */
void page_sdv_section(struct req *r, const char *record, const char *event, int instance,
                      const struct dict_form *fm);
void page_sdv_summary(struct req *r, const char *record);
/* page_signatures.c: a casebook's signature block (error, may be NULL, shown above it) with
 * the sign forms for the signed-in role; for record NULL the study's signatures and study
 * meanings (the /study page); page_subject.c: the casebook page itself. */
void page_signatures_section(struct req *r, const char *record, const char *error);
int page_casebook_render(struct req *r, const char *error);
/* page_lock.c: the lock state of the record (fm NULL) or of form fm at (event, instance) —
 * held is that form's lock, or NULL — with a lock or unlock button for roles that may. */
void page_lock_section(struct req *r, const struct store_record *rec, const char *event,
                       int instance, const struct dict_form *fm,
                       const struct store_form_lock *held);
/* The lock of form at (event, instance) among the record's form locks fl (instance -1: any
 * instance), or NULL. */
const struct store_form_lock *page_form_lock_find(const struct store_form_lock *fl, size_t n,
                                                  const char *event, const char *form,
                                                  int instance);
/* The record's name and status line as a page heading. */
void page_record_heading(struct req *r, const struct store_record *rec, const char *subtitle);

#endif
