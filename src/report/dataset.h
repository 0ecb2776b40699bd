/* The analysis dataset as files and from the database: `ioheme dataset` and the first step of
 * `ioheme report`.
 *
 *   dataset_from_store  reads every value of the study in one snapshot, record by record, and
 *                       runs the derivations (core/derive.h) on each;
 *   dataset_write       writes DIR/<table>.csv for every table and DIR/dataset_dictionary.csv
 *                       (table, column, type, unit, description, SAP section, levels);
 *   dataset_read        reads such a directory back (for `ioheme report --dataset DIR`).
 * Values hidden by branching logic are left out (the data-quality check lists them); a dataset
 * from a training/demo database says so in every output (DATASET_SYNTHETIC_FILE, the report).
 * The tables are owned by ds (derive_free releases them). */
#ifndef IOHEME_REPORT_DATASET_H
#define IOHEME_REPORT_DATASET_H

#include <stdio.h>

#include <jansson.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "core/derive.h"
#include "store/store.h"

int dataset_from_store(struct store *st, struct adataset *ds, struct err *e);

/* One record's output, stream by stream (a CSV file, a spooled table): bytes[i] holds what is
 * appended to stream i, nrows[i] how many rows that is. */
struct dataset_out {
    size_t n;
    struct strbuf *bytes;
    size_t *nrows;
};

/* The same derivation handed on record by record, for exports whose memory must not grow with
 * the number of patients: on_rows is called after each record with ds's tables holding that
 * record's rows and nothing else (dropped after the call; derive_nrows counts them) and v its
 * stored values as the derivation saw them (what branching logic hides blanked), and once
 * more at the end with the completeness rows and v NULL; it formats them into out's nout
 * streams (each empty), and write then appends each stream's bytes where they go. Records come
 * in dataset_from_store's order, so the rows do too. ds is initialised here and holds only the
 * counts on return (derive_free it). on_rows and write run on a thread of their own while the
 * store is read (they must not use the store; they are called in record order, one call at a
 * time). With no_completeness the completeness table stays empty: a consumer with no use for
 * it is spared a tenth of the time.
 *
 * With cache_kind, the export cache (dataset_cache.h) keeps each record's streams: a record that
 * has not changed since the last export of that kind is not read nor derived again, and write gets
 * its streams as kept (on_rows is not called for it). cache_layout names the streams and their
 * formats: change it whenever what on_rows writes changes shape. What the cache did goes to
 * *cache_stats (when not NULL). */
/* What an export's cache did (used false: there was none): the records whose entries were kept,
 * and those derived afresh. */
struct dataset_cache_stats {
    bool used;
    size_t kept, derived;
};
struct dataset_stream {
    int (*on_rows)(void *ctx, const struct adataset *ds, struct vtab *v, struct dataset_out *out,
                   struct err *e);
    int (*write)(void *ctx, size_t i, const char *bytes, size_t n, size_t nrows, struct err *e);
    void *ctx;
    size_t nout;
    bool no_completeness;
    const char *cache_kind, *cache_layout;
    struct dataset_cache_stats *cache_stats;
};
int dataset_stream_store(struct store *st, struct adataset *ds, const struct dataset_stream *s,
                         struct err *e);

/* A table spooled to a working file (spool.c) as an export derives it, and read back row by
 * row when the file that needs it whole is written (a transport file's character widths,
 * every ReadStat format's row count up front). The working file is made in dir and unlinked
 * at once. */
struct dataset_spool {
    const char *name; /* the table's, or the SAS member's */
    const struct acol *cols;
    size_t ncols, nrows;
    size_t *widths; /* each column's longest value, in bytes; 1 at least */
    FILE *f;
    size_t read; /* rows read since the rewind */
    char *row;   /* the row read last: its cells, NUL-terminated */
    size_t rowcap;
    size_t *ends;       /* each cell's offset in row, SIZE_MAX when missing */
    const char **cells; /* pointers into row, NULL when missing */
    char *wbuf;         /* f's buffer */
    char *rbuf;         /* read back a block at a time: rbuf[rpos, rlen) not yet taken */
    size_t rpos, rlen;
};
int dataset_spool_open(struct dataset_spool *s, const char *dir, const char *name,
                       const struct acol *cols, size_t ncols, struct err *e);
/* Appends every row of t, whose columns are the spool's. */
int dataset_spool_add(struct dataset_spool *s, const struct atable *t, struct err *e);
/* The same in two steps: every row of t as the spool's bytes appended to out (*nrows added to);
 * then such bytes, nrows rows of them (made now or kept by the export cache), appended. */
int dataset_spool_format(const struct atable *t, struct strbuf *out, size_t *nrows, struct err *e);
int dataset_spool_add_bytes(struct dataset_spool *s, const char *bytes, size_t n, size_t nrows,
                            struct err *e);
/* Back to the first row: before the first dataset_spool_next. */
int dataset_spool_rewind(struct dataset_spool *s, struct err *e);
/* The next row's ncols cells (NULL = missing) into *cells, valid until the next call; *cells
 * NULL after the last row. */
int dataset_spool_next(struct dataset_spool *s, const char *const **cells, struct err *e);
void dataset_spool_close(struct dataset_spool *s);

/* A stored value that its field's branching logic hides (core/branch.h): the dataset leaves it
 * out; the data-quality check lists it. Strings are valid during the callback only. */
struct dataset_hidden {
    const char *record; /* study ID, else screening number */
    const char *event;
    int instance;
    const struct dict_field *f;
    const char *code; /* checkbox option, or NULL */
    const char *value;
};
typedef int (*dataset_hidden_fn)(void *ctx, const struct dataset_hidden *h);

/* Calls fn for every stored value that branching logic hides, record by record in screening
 * order, exactly the values dataset_from_store leaves out (ds->nhidden_ignored counts them). */
int dataset_hidden_values(struct store *st, dataset_hidden_fn fn, void *ctx, struct err *e);

/* The statistics package a dataset is written for (dataset_pkg.c): the CSVs always, plus for
 * stata / spss / sas one .dta / .sav / .sas7bdat per table (ReadStat: variable labels, typed
 * dates and date-times, yes/no value labels), for csv and r the loader script dataset.R. */
enum dataset_format { DATASET_CSV, DATASET_STATA, DATASET_SPSS, DATASET_SAS, DATASET_R };
/* `ioheme export xpt` (sdtm.c): SDTM-like domains (DM, DS, PR, EC, VS, LB, AE and their
 * SUPP-- datasets) as SAS transport files, version 5, and define.xml (Define-XML 2.0), in dir
 * (created when missing). The same database gives the same bytes. */
struct dataset_sdtm_stats {
    size_t datasets, subjects, rows;
    struct dataset_cache_stats cache;
};
int dataset_sdtm_write(struct store *st, const char *dir, struct dataset_sdtm_stats *stats,
                       struct err *e);

/* Runs job(ctx, i, e) for i in [0, n) on two threads (this one and one more; this one alone
 * when no thread can be had), the spools with the most bytes first (sp[i], NULL: in index
 * order): the files an export writes at its end are independent of each other. Every job runs;
 * the error returned is the first failing job's in index order, whole. */
int dataset_spools_each(size_t n, struct dataset_spool *const *sp,
                        int (*job)(void *ctx, size_t i, struct err *e), void *ctx, struct err *e);

/* One table as a SAS transport file, version 5 (dataset_pkg.c, through ReadStat): member the SAS
 * member name (<= 8 characters), label the dataset label (<= 40); text columns as character
 * variables as wide as their longest value, the rest numeric; column descriptions as labels. */
int dataset_xpt_write(struct dataset_spool *t, const char *member, const char *label,
                      const char *path, struct err *e);
/* "csv", "stata", "spss", "sas", "r": 0, else -1. */
int dataset_format_parse(const char *name, enum dataset_format *out);
/* `ioheme dataset`: the study derived record by record (dataset_stream_store) into dir, each
 * record's rows written as they come: the CSVs, dataset_dictionary.csv and the synthetic mark
 * (what dataset_write writes, byte for byte), and the package files of fmt. Memory does not
 * grow with the number of patients. ds holds the row counts on return (derive_nrows; derive_free
 * it); *cache (when not NULL) what the export cache did. */
int dataset_export(struct store *st, const char *dir, enum dataset_format fmt, struct adataset *ds,
                   struct dataset_cache_stats *cache, struct err *e);
/* stata, spss and sas have files of their own beside the CSVs; csv and r a loader script. */
bool dataset_format_has_package_files(enum dataset_format fmt);
/* The package files of fmt for one table spooled whole (dataset_pkg.c): dir/<name>.<ext> for
 * stata, spss and sas; nothing for csv and r. */
int dataset_write_package_table(struct dataset_spool *t, const char *dir, enum dataset_format fmt,
                                struct err *e);
/* The name (in dir) of a file of fmt besides the CSVs, appended to name: with table, that
 * table's package file (<table>.dta, .sav, .sas7bdat); with table NULL, the loader script for
 * csv and r. Returns 1 when fmt has such a file, 0 when not, ERR_NOMEM. */
#define DATASET_R_LOADER "dataset.R"
int dataset_package_file(enum dataset_format fmt, const char *table, struct strbuf *name);
/* dataset.R, for csv and r (nothing for the other formats). */
int dataset_write_r_loader(const struct adataset *ds, const char *dir, enum dataset_format fmt,
                           struct err *e);

/* redcap_export.c: the study in REDCap's formats into dir — the protocol's files as stored
 * (dictionary.csv, events.csv, form_events.csv, repeating.csv) and data.csv, the flat records
 * REDCap's Data Import Tool takes (one row per record and event, one per repeating instance;
 * checkbox options as field___code; <form>_complete after each form). Identifier fields carry
 * clear text only for a reader allowed to see it, else nothing. Counts go to *nrecords and
 * *nrows. */
int dataset_redcap_export(struct store *st, const char *dir, size_t *nrecords, size_t *nrows,
                          struct err *e);
/* data.csv's text alone, appended to sb, each cell written by cell: strbuf_add_csv for the
 * file, strbuf_add_csv_raw for the REDCap API's record export (http/api_redcap.c), whose
 * clients read values exactly as stored. */
typedef void (*dataset_csv_cell_fn)(struct strbuf *sb, const char *s);
/* flags: DATASET_FLAT_DAGS, a redcap_data_access_group column (each record's site) when the
 * study has sites, as REDCap's data import takes it and its API exports it on
 * exportDataAccessGroups=true; DATASET_FLAT_ALL_COLUMNS, redcap_event_name,
 * redcap_repeat_instrument and redcap_repeat_instance always, as the first four columns (the
 * API selects from them; without it a classic project's rows name no event and a project
 * without repeating forms has no repeat columns, as REDCap exports them). */
enum { DATASET_FLAT_DAGS = 1, DATASET_FLAT_ALL_COLUMNS = 2 };
int dataset_redcap_flat(struct store *st, dataset_csv_cell_fn cell, unsigned flags,
                        struct strbuf *sb, size_t *nrecords, size_t *nrows, struct err *e);

/* A dataset from a training/demo database carries this file, and dataset_read sets
 * is_synthetic when it finds it: the mark travels with the files. */
#define DATASET_SYNTHETIC_FILE "SYNTHETIC-DATA.txt"
#define DATASET_SYNTHETIC_TEXT                                                                     \
    "SYNTHETIC DATA. These files come from a training/demo database (ioheme init --synthetic):\n"  \
    "its patients were made by 'ioheme simulate' and are not study data.\n"
/* Creates dir when missing (its parent must exist). */
int dataset_write(const struct adataset *ds, const char *dir, struct err *e);
/* ds must be fresh (derive_init is called here). Every table's CSV must exist with every
 * column of the data dictionary (extra columns are ignored). */
int dataset_read(const char *dir, struct adataset *ds, struct err *e);

/* A dataset from a locked database (P11-19, P11-31) carries DIR/manifest.json: the lock's
 * identifier, time and audit head (not the clock: the same locked database gives a
 * byte-identical manifest), and every file the export of fmt wrote (dataset_export: the CSVs,
 * the dictionary, the synthetic mark, the package files or the loader) with its size and
 * SHA-256. */
#define DATASET_MANIFEST_FILE "manifest.json"
/* Every file the export of fmt wrote into dir, in the manifest's order, as a new JSON array of
 * {"file", "bytes", "sha256"} (*out; the caller json_decref's it): what the manifest lists and
 * `ioheme dataset`'s audit row records. */
int dataset_export_files(const struct adataset *ds, enum dataset_format fmt, const char *dir,
                         json_t **out, struct err *e);
int dataset_write_manifest(const struct adataset *ds, enum dataset_format fmt, const char *dir,
                           const char *lock_id, const char *locked_at, const char *audit_head,
                           struct err *e);

/* As dataset_write_manifest for every regular file under dir, subfolders included, listed by
 * their path relative to dir in byte order (the report's folder: report.html, results.json,
 * dataset/, figures/). lock_id NULL (an unlocked database): the lock members are null. */
int dataset_write_tree_manifest(const char *dir, const char *lock_id, const char *locked_at,
                                const char *audit_head, struct err *e);

/* The SHA-256 (64 hex characters and NUL into hex) and the size in bytes (*bytes, may be NULL)
 * of the file at path: what a manifest lists and an export's audit row records. */
int dataset_file_sha256(const char *path, char hex[65], long long *bytes, struct err *e);

/* Gives f a buffer of size bytes, so that it writes (or reads) size bytes per system call
 * instead of stdio's 4 KiB (glibc takes a size only with a buffer). Returns the buffer, for the
 * caller to free after fclose(f); NULL (out of memory) leaves f with stdio's own. */
char *dataset_file_buffer(FILE *f, size_t size);

/* Creates directory path if it does not exist (mode 0777 & umask). */
int dataset_mkdir(const char *path, struct err *e);
/* Writes len bytes to dir/name. */
int dataset_write_file(const char *dir, const char *name, const char *data, size_t len,
                       struct err *e);

#endif
