/* Importing REDCap flat rows through the write path (formats/redcap.h): the one import loop of
 * `ioheme import` and of the REDCap API's record import. */
#include <stdint.h>
#include <string.h>

#include "base/hash.h"
#include "formats/json_out.h"
#include "formats/redcap.h"

void redcap_import_init(struct redcap_import *im, struct arena *ar, FILE *print)
{
    memset(im, 0, sizeof *im);
    im->ar = ar;
    im->print = print;
    im->last = &im->first;
}

static const char *dup_or_null(struct arena *ar, const char *s)
{
    return s ? arena_strdup(ar, s) : NULL;
}

void redcap_import_reject(void *ctx, size_t line, const char *record, const char *column,
                          const char *rule, const char *msg)
{
    struct redcap_import *im = ctx;
    im->rejected++;
    if (im->print) {
        if (line)
            (void)fprintf(im->print, "  row %zu, %s, %s: %s [%s]\n", line, record, column, msg,
                          rule);
        else /* ODM: the subject and the OID name the place */
            (void)fprintf(im->print, "  subject %s, %s: %s [%s]\n", record, column, msg, rule);
        return;
    }
    struct redcap_rejection *r = arena_alloc(im->ar, sizeof *r);
    if (!r)
        return; /* as a JSON value that could not be made: left out of the list */
    *r = (struct redcap_rejection){line,
                                   dup_or_null(im->ar, record),
                                   dup_or_null(im->ar, column),
                                   dup_or_null(im->ar, rule),
                                   dup_or_null(im->ar, msg),
                                   NULL};
    *im->last = r;
    im->last = &r->next;
}

json_t *redcap_import_rejections_json(const struct redcap_import *im)
{
    json_t *arr = json_array();
    for (const struct redcap_rejection *r = im->first; arr && r; r = r->next)
        /* record IDs and columns are the file's, in whatever bytes it held */
        json_array_append_new(
            arr, json_pack("{s:I, s:o, s:o, s:o, s:o}", "row", (json_int_t)r->line, "record",
                           json_out_text(r->record), "field", json_out_text(r->field), "rule",
                           json_out_text(r->rule), "message", json_out_text(r->msg)));
    return arr;
}

int redcap_import_outcome(int rc, const struct err *e, struct store_put_result *res, size_t line,
                          const char *record, struct redcap_import *im)
{
    if (rc == ERR_INVALID && res->nissues) {
        for (size_t i = 0; i < res->nissues; i++)
            if (res->issues[i].level == STORE_ISSUE_HARD)
                redcap_import_reject(im, line, record, res->issues[i].field, res->issues[i].rule,
                                     res->issues[i].msg);
    } else if (rc == ERR_NOMEM || rc == ERR_IO || rc == ERR_INTERNAL || rc == ERR_BUSY) {
        store_put_result_free(res);
        return rc;
    } else if (rc) {
        redcap_import_reject(im, line, record, e->field[0] ? e->field : "-", err_info(rc)->name,
                             e->msg);
    } else {
        im->changed += res->nchanged;
        im->calc += res->ncalc;
        im->status += res->nstatus;
        im->unchanged += res->nunchanged;
    }
    store_put_result_free(res);
    return 0;
}

/* The slot of id in im's set: where it is, or the empty slot where it would go. */
static size_t *id_slot(const struct redcap_import *im, const char *id)
{
    size_t mask = im->nid_slots - 1, i = (size_t)(hash_str(HASH_INIT, id) & mask);
    while (im->id_slots[i] && strcmp(im->ids[im->id_slots[i] - 1], id) != 0)
        i = (i + 1) & mask;
    return &im->id_slots[i];
}

/* Remembers a record ID the import wrote, once, in order of first appearance: a hash set, so
 * that 100,000 rows cost 100,000 lookups, not 5 billion comparisons. With auto_number, id is
 * the file's name and given the one it was created under. */
static int note_id(struct redcap_import *im, const char *id, const char *given)
{
    if (2 * (im->nids + 1) > im->nid_slots) { /* at most half full */
        size_t n = im->nid_slots ? 2 * im->nid_slots : 64;
        size_t *slots = arena_calloc(im->ar, n, sizeof *slots);
        if (!slots)
            return ERR_NOMEM;
        im->id_slots = slots;
        im->nid_slots = n;
        for (size_t k = 0; k < im->nids; k++)
            *id_slot(im, im->ids[k]) = k + 1;
    }
    size_t *slot = id_slot(im, id);
    if (*slot)
        return 0;
    size_t cap = im->capids;
    const char **g = arena_grow(im->ar, im->ids, im->nids, &cap, sizeof *g, 16);
    if (!g)
        return ERR_NOMEM;
    im->ids = g;
    g[im->nids] = arena_strdup(im->ar, id);
    if (!g[im->nids])
        return ERR_NOMEM;
    if (im->auto_number) { /* grown alongside ids, to the same capacity */
        size_t capa = im->capids;
        const char **a = arena_grow(im->ar, im->auto_ids, im->nids, &capa, sizeof *a, 16);
        if (!a || !(a[im->nids] = arena_strdup(im->ar, given ? given : "")))
            return ERR_NOMEM;
        im->auto_ids = a;
    }
    im->capids = cap;
    *slot = ++im->nids;
    return 0;
}

/* The name the record the file calls id was created under by this import (auto_number), or
 * NULL when it has not been yet. */
static const char *auto_name(const struct redcap_import *im, const char *id)
{
    if (!im->nid_slots)
        return NULL;
    size_t k = *id_slot(im, id);
    return k ? im->auto_ids[k - 1] : NULL;
}

/* A row's record under auto_number: the one created for its name earlier in the import, or a
 * new numbered record (at the row's data access group); *name the record to write to. */
static int auto_record(struct store *st, const struct store_ctx *who, const struct store_ctx *at,
                       const char *record, struct redcap_import *im, const char **name,
                       struct err *e)
{
    *name = auto_name(im, record);
    if (*name)
        return 0;
    char made[STORE_RECORD_ID_MAX + 1];
    int rc = store_authorize(st, who, PERM_SCREEN, e);
    if (!rc)
        rc = store_authorize(st, who, PERM_ENROLL, e);
    if (!rc)
        rc = store_record_create_numbered(st, at, made, e);
    if (!rc) {
        im->created++;
        rc = note_id(im, record, made);
        if (rc)
            return err_set(e, rc, "out of memory");
        *name = auto_name(im, record);
    }
    return rc;
}

/* A row whose redcap_repeat_instance is "new": its changes go to the next instance of its
 * instrument for the record at its event (store_next_instance: one past the highest stored,
 * this import's earlier rows included, as they are written in the same transaction). */
static int place_new(struct store *st, const char *record, const struct redcap_row *r,
                     struct err *e)
{
    if (r->instance != REDCAP_INSTANCE_NEW)
        return 0;
    int inst;
    int rc = store_next_instance(st, record, r->event, r->instrument, &inst, e);
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        r->changes[i].instance = inst;
    return rc;
}

/* One row through the write path; a record the database does not have is created first. */
static int import_row(struct store *st, const struct store_ctx *who, const struct redcap_row *r,
                      const char *reason, struct redcap_import *im)
{
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    struct store_record existing;
    int rc = 0;
    struct store_ctx at = *who;
    if (r->dag) /* the row's data access group: the site a new record is created at */
        at.site = r->dag;
    if (im->auto_number) {
        const char *name = NULL;
        rc = auto_record(st, who, &at, r->record, im, &name, &e);
        if (!rc)
            rc = place_new(st, name, r, &e);
        if (!rc)
            rc = store_put_changes(st, who, name, r->changes, r->n, reason, &res, &e);
        return redcap_import_outcome(rc, &e, &res, r->line, r->record, im);
    }
    int found = store_record_get(st, r->record, &existing, NULL);
    if (found == 0 && r->dag && strcasecmp(existing.site, r->dag) != 0) {
        err_set_field(&e, ERR_CONFLICT, "redcap_data_access_group",
                      "%s is at site '%s', the file says '%s': an import does not move records "
                      "(ioheme site move)",
                      r->record, existing.site[0] ? existing.site : "(none)", r->dag);
        return redcap_import_outcome(ERR_CONFLICT, &e, &res, r->line, r->record, im);
    }
    if (found == ERR_NOT_FOUND) {
        rc = store_authorize(st, who, PERM_SCREEN, &e);
        if (!rc)
            rc = store_authorize(st, who, PERM_ENROLL, &e);
        if (!rc)
            rc = store_record_create_named(st, &at, r->record, &e);
        if (rc == 0)
            im->created++;
        else if (rc != ERR_NOMEM && rc != ERR_IO && rc != ERR_BUSY)
            return redcap_import_outcome(rc, &e, &res, r->line, r->record, im);
    }
    if (!rc)
        rc = place_new(st, r->record, r, &e);
    if (!rc)
        rc = store_put_changes(st, who, r->record, r->changes, r->n, reason, &res, &e);
    size_t before = im->rejected;
    int orc = redcap_import_outcome(rc, &e, &res, r->line, r->record, im);
    if (!orc && im->rejected == before)
        orc = note_id(im, r->record, NULL);
    return orc;
}

/* Where an import's rows come from, read from the first for each pass: an array, or a flat
 * file read again (redcap_flat_each). */
struct row_source {
    int (*each)(const struct row_source *src, redcap_row_fn fn, void *ctx, struct err *e);
    const struct redcap_row *rows; /* an array */
    size_t nrows;
    const struct dict *d; /* a file */
    const struct redcap_flat *f;
};

static int array_each(const struct row_source *src, redcap_row_fn fn, void *ctx, struct err *e)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < src->nrows; i++)
        rc = fn(ctx, &src->rows[i], e);
    return rc;
}

/* The reader's rejections were taken by redcap_import_read: a pass does not count them again. */
static void reject_again(void *ctx, size_t line, const char *record, const char *column,
                         const char *rule, const char *msg)
{
    (void)ctx, (void)line, (void)record, (void)column, (void)rule, (void)msg;
}

static int file_each(const struct row_source *src, redcap_row_fn fn, void *ctx, struct err *e)
{
    return redcap_flat_each(src->d, src->f, fn, ctx, reject_again, NULL, NULL, e);
}

/* One pass: the source's rows from..to-1 (counted from 0) into im, stopping after a row that
 * broke a whole batch (store_batch_begin_whole); next is then the row after the last written. */
struct pass {
    struct store *st;
    const struct store_ctx *who;
    const char *reason;
    struct redcap_import *im;
    size_t from, to, at, next;
};

enum { PASS_STOP = 1 }; /* a pass_row return: the pass is over, not failed */

static int pass_row(void *ctx, const struct redcap_row *r, struct err *e)
{
    struct pass *p = ctx;
    size_t k = p->at++;
    if (k < p->from)
        return 0;
    if (k >= p->to || store_batch_broken(p->st))
        return PASS_STOP;
    int rc = import_row(p->st, p->who, r, p->reason, p->im);
    p->next = k + 1;
    if (rc)
        err_set(e, rc, "import stopped at row %zu", r->line);
    return rc;
}

static int run_pass(const struct row_source *src, struct pass *p, struct err *e)
{
    p->at = 0;
    p->next = p->from;
    int rc = src->each(src, pass_row, p, e);
    return rc == PASS_STOP ? 0 : rc;
}

static int import_source(struct store *st, const struct store_ctx *who,
                         const struct row_source *src, const char *reason, bool dry_run,
                         struct redcap_import *im, struct err *e)
{
    /* All rows or none, so the batch is a whole one: no savepoint per row (store.h). A row
     * refused after it began writing (a required field blank on a form marked complete, a
     * value its branching hides) breaks it; every row up to it is then reported as it would be
     * with savepoints, and the rows are played again with savepoints — rows up to the broken
     * one into a scratch report (they are reported already), the rest into im — so the
     * rejections listed are exact. The import is refused either way. */
    size_t rejected0 = im->rejected, changed0 = im->changed; /* the reader's are in already */
    struct pass p = {st, who, reason, im, 0, SIZE_MAX, 0, 0};
    int rc = store_batch_begin_whole(st, e);
    if (!rc)
        rc = run_pass(src, &p, e);
    if (!rc && store_batch_broken(st)) {
        store_batch_rollback(st);
        struct redcap_import again;
        redcap_import_init(&again, im->ar, NULL);
        again.auto_number = im->auto_number;
        struct pass q = {st, who, reason, &again, 0, p.next, 0, 0};
        rc = store_batch_begin(st, e);
        if (!rc)
            rc = run_pass(src, &q, e);
        /* the lock was let go between the passes: what another connection wrote meanwhile
         * could change what the rows up to the broken one give */
        if (!rc &&
            (again.rejected != im->rejected - rejected0 || again.changed != im->changed - changed0))
            rc = err_set(e, ERR_CONFLICT,
                         "the database changed while the import was being checked; nothing "
                         "was imported: run it again");
        p.from = p.next;
        if (!rc)
            rc = run_pass(src, &p, e);
    }
    if (rc) {
        store_batch_rollback(st);
        return rc;
    }
    if (im->rejected) {
        store_batch_rollback(st);
        return err_set(e, ERR_INVALID, "%zu value(s) rejected; nothing was imported", im->rejected);
    }
    if (dry_run) {
        store_batch_rollback(st);
        return 0;
    }
    return store_batch_commit(st, e);
}

int redcap_import_rows(struct store *st, const struct store_ctx *who, const struct redcap_row *rows,
                       size_t nrows, const char *reason, bool dry_run, struct redcap_import *im,
                       struct err *e)
{
    struct row_source src = {.each = array_each, .rows = rows, .nrows = nrows};
    return import_source(st, who, &src, reason, dry_run, im, e);
}

static int count_row(void *ctx, const struct redcap_row *r, struct err *e)
{
    (void)e;
    struct redcap_import *im = ctx;
    im->nsurvey += r->nsurvey;
    return 0;
}

int redcap_import_read(const struct dict *d, const struct redcap_flat *f, struct redcap_import *im,
                       struct err *e)
{
    size_t n = 0;
    int rc = redcap_flat_each(d, f, count_row, im, redcap_import_reject, im, &n, e);
    im->rows += n;
    return rc;
}

int redcap_import_flat(struct store *st, const struct store_ctx *who, const struct redcap_flat *f,
                       const char *reason, bool dry_run, struct redcap_import *im, struct err *e)
{
    struct row_source src = {.each = file_each, .d = store_dict(st), .f = f};
    return import_source(st, who, &src, reason, dry_run, im, e);
}
