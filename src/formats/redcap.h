/* REDCap's flat record format — what REDCap's "Export data" (CSV, or JSON "flat") and its API's
 * record export write: one row per record, event and repeat instance, columns record ID,
 * redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, then fields, checkbox
 * options as field___code and form statuses as form_complete — read against a dictionary into
 * change sets for the store's write path, one per row.
 *
 * The reader decides only what REDCap's columns mean; every value is judged by the write path
 * (validation, instance bounds, permissions). Blank cells change nothing (REDCap's "do not
 * overwrite with blanks"), calc columns are skipped (they are recomputed), and a form-status
 * column of a form outside the row's event or instance is not data. */
#ifndef IOHEME_FORMATS_REDCAP_H
#define IOHEME_FORMATS_REDCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/dict.h"
#include "store/store.h"

/* redcap_repeat_instance "new" (REDCap 13.1+): the next instance of the row's instrument for
 * its record and event, decided as the row is written (redcap_import.c). */
#define REDCAP_INSTANCE_NEW (-1)

/* One row: whose, where, and the changes it asks for (in the caller's arena). */
struct redcap_row {
    size_t line;        /* CSV line, or JSON record number (1-based) */
    const char *record; /* the row's record ID as written */
    const char *event;  /* the dictionary's unique event name */
    int instance;       /* 0, redcap_repeat_instance, or REDCAP_INSTANCE_NEW (as its changes') */
    const char *instrument; /* redcap_repeat_instrument (a form's name), NULL when blank */
    const char *dag; /* redcap_data_access_group: the record's site's code, NULL when blank */
    struct store_change *changes;
    size_t n;
    size_t nsurvey; /* cells left out, and counted aloud: survey metadata (<form>_timestamp,
                       redcap_survey_identifier; ioheme has no surveys) and [document], the
                       placeholder of a file REDCap holds (a flat export has no file in it) */
};

/* A problem with one row or cell: the row's line, its record ID ("" when none), the column at
 * fault, a rule name and a message naming the value. */
typedef void (*redcap_reject_fn)(void *ctx, size_t line, const char *record, const char *column,
                                 const char *rule, const char *msg);

/* Whether a column or item name is REDCap's survey metadata, which ioheme (no surveys) leaves
 * out and counts: redcap_survey_identifier, or <form>_timestamp of a form of d that no field
 * of that name shadows. */
bool redcap_is_survey_item(const struct dict *d, const char *name);

/* How a flat file's cells are read: REDCap's import options (the API's overwriteBehavior and
 * dateFormat; the Data Import Tool's "allow blank values to overwrite" and date format). Zeroed:
 * REDCap's defaults. */
enum redcap_dates { REDCAP_DATES_YMD, REDCAP_DATES_MDY, REDCAP_DATES_DMY };
struct redcap_read_opts {
    /* overwriteBehavior=overwrite: a blank cell of a field (or checkbox option) collected at the
     * row's event and instance clears its value there; otherwise blanks change nothing. Calc
     * and file fields and form statuses are never cleared by a blank. */
    bool overwrite;
    /* dateFormat: how values of date and date-time fields are written in the file — YYYY-MM-DD
     * (YMD, the default), M/D/YYYY (MDY) or D/M/YYYY (DMY), a date-time with " HH:MM[:SS]"
     * after it; stored as YYYY-MM-DD[ HH:MM[:SS]] whatever the field's own order. A value not
     * written so is a rejection (rule "dateFormat") naming it. */
    enum redcap_dates dates;
    /* csvDelimiter: what separates a CSV file's cells ('\0': a comma) */
    char delim;
};
/* "YMD", "MDY" or "DMY" (any case) into *out: 0, else -1. */
int redcap_dates_parse(const char *s, enum redcap_dates *out);
/* REDCap's csvDelimiter — ',' (also blank or NULL), "tab", ';', '|' or '^' — into *out: 0,
 * else -1. */
int redcap_delim_parse(const char *s, char *out);

/* A flat file to read: its name (for messages), its bytes in one of REDCap's record formats
 * (CSV; JSON, an array of objects; XML, <records> of <item>s), its rows flat (one per record,
 * event and instance) or EAV (REDCap's type=eav: record, redcap_event_name,
 * redcap_repeat_instrument, redcap_repeat_instance, field_name, value — one value a row, a
 * checkbox's value the code of an option it ticks), and how its cells read (NULL: the
 * defaults). */
enum redcap_format { REDCAP_CSV, REDCAP_JSON, REDCAP_XML };
struct redcap_flat {
    const char *name;
    const char *data;
    size_t len;
    enum redcap_format format;
    const struct redcap_read_opts *opts;
    bool is_eav;
};

/* libxml2's one-time set-up, which is not safe to race: a program that reads XML from several
 * threads (the server: record imports in format=xml) calls this once before they start. */
void redcap_xml_init(void);

/* Whether data is REDCap's XML records format: its root element (after any declaration,
 * comments and doctype) is <records>. */
bool redcap_is_records_xml(const char *data, size_t len);

/* A row as it is read; its strings live until the call returns. A non-zero return stops the
 * reading and is what redcap_flat_each returns. */
typedef int (*redcap_row_fn)(void *ctx, const struct redcap_row *row, struct err *e);

/* Reads f one row at a time, in file order, handing each to fn: a file of any number of rows is
 * read in the memory of one (and, for CSV, the file itself; JSON is parsed whole). A row whose
 * record, event or instance cannot be read is reported to reject and left out; a cell that
 * cannot be read as f->opts say is reported and left out of its row. The others go to fn even
 * when some were rejected (the caller decides: an import saves all rows or none). *nrows (may
 * be NULL) counts the data rows read, placed or not. Returns ERR_INVALID (e naming file, line
 * and column) when the file itself does not parse, ERR_NOMEM, or what fn returned. */
int redcap_flat_each(const struct dict *d, const struct redcap_flat *f, redcap_row_fn fn,
                     void *fnctx, redcap_reject_fn reject, void *ctx, size_t *nrows, struct err *e);

/* ---- importing rows (redcap_import.c): the CLI's `ioheme import` and the API's record import --*/

/* One rejected value. */
struct redcap_rejection {
    size_t line;
    const char *record, *field, *rule, *msg;
    struct redcap_rejection *next;
};

/* What an import did, and every rejection (strings in ar). With print set, each rejection is
 * written there as it comes (the CLI's stderr) instead of kept. */
struct redcap_import {
    size_t rows, created, changed, calc, status, unchanged, rejected;
    size_t nsurvey; /* cells left out as survey metadata or [document] (redcap_import_read) */
    struct redcap_rejection *first, **last;
    struct arena *ar;
    FILE *print;
    const char **ids; /* the record IDs imported, once each, in order (redcap_import_rows) */
    size_t nids, capids;
    /* REDCap's forceAutoNumber, set by the caller: every record named in the rows is a new
     * one, numbered as enrolment numbers (store_record_create_numbered); auto_ids[i] is the
     * name ids[i] (the file's) was given */
    bool auto_number;
    const char **auto_ids;
    size_t *id_slots; /* a hash set over ids: index + 1, 0 empty; nid_slots a power of two */
    size_t nid_slots;
};

void redcap_import_init(struct redcap_import *im, struct arena *ar, FILE *print);
/* A redcap_reject_fn: counts and keeps (or prints) the rejection. */
void redcap_import_reject(void *ctx, size_t line, const char *record, const char *column,
                          const char *rule, const char *msg);
/* The rejections as a JSON array of {row, record, field, rule, message}. */
json_t *redcap_import_rejections_json(const struct redcap_import *im);
/* The outcome of one write of an import (its result res, freed here): a refused value is a
 * rejection, counted; a failure of the store (I/O, memory, busy) is returned and stops the
 * import. */
int redcap_import_outcome(int rc, const struct err *e, struct store_put_result *res, size_t line,
                          const char *record, struct redcap_import *im);
/* Imports rows through the write path in one batch, all or none: a record the database lacks
 * is created with the row's record ID when the protocol allows (store_record_create_named), by
 * a user who may screen and enrol; with im->auto_number every record of the rows is created,
 * numbered (store_record_create_numbered), and the rows naming it alike go to it. With a rejection
 * nothing is saved (ERR_INVALID naming how many); with dry_run every row is checked and nothing
 * saved. who carries the source and its SHA-256; reason is for changes to complete forms. */
int redcap_import_rows(struct store *st, const struct store_ctx *who, const struct redcap_row *rows,
                       size_t nrows, const char *reason, bool dry_run, struct redcap_import *im,
                       struct err *e);
/* A flat file's import in two steps, so that a file of any size is imported in the memory of
 * one row (redcap_flat_each). First redcap_import_read: every row the reader cannot place is a
 * rejection in im, and im->rows and im->nsurvey count the file's rows and left-out cells; an
 * error when the file does not parse. Then redcap_import_flat writes the placed rows as
 * redcap_import_rows does, reading the file again (and again, should a row break the batch). */
int redcap_import_read(const struct dict *d, const struct redcap_flat *f, struct redcap_import *im,
                       struct err *e);
int redcap_import_flat(struct store *st, const struct store_ctx *who, const struct redcap_flat *f,
                       const char *reason, bool dry_run, struct redcap_import *im, struct err *e);

/* ---- REDCap's project XML as a protocol folder (redcap_xml.c) ----------------------------*/

struct redcap_xml_stats {
    size_t nfields, nforms, nevents, nrepeating;
    size_t nskipped; /* survey metadata items, not fields */
};
/* Writes dir/dictionary.csv (and events.csv, form_events.csv, repeating.csv where the project
 * has them) from the project XML in data (name for messages); creates dir when missing,
 * overwrites those files in it. ERR_INVALID when the file is not a REDCap project XML. */
int redcap_project_xml_protocol(const char *name, const char *data, size_t len, const char *dir,
                                struct redcap_xml_stats *stats, struct err *e);

#endif
