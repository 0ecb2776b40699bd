/* The analysis dataset as files and from the database: `ioheme dataset` and the first step of
 * `ioheme report`.
 *
 *   dataset_from_store  reads every value of the study in one snapshot, record by record, and
 *                       runs the derivations (core/derive.h) on each;
 *   dataset_write       writes DIR/<table>.csv for every table and DIR/dataset_dictionary.csv
 *                       (table, column, type, unit, description, SAP section);
 *   dataset_read        reads such a directory back (for `ioheme report --dataset DIR`).
 * Values hidden by branching logic are left out (the data-quality check lists them); a dataset
 * from a training/demo database says so in every output (DATASET_SYNTHETIC_FILE, the report).
 * The tables are owned by ds (derive_free releases them). */
#ifndef IOHEME_REPORT_DATASET_H
#define IOHEME_REPORT_DATASET_H

#include "base/err.h"
#include "base/strbuf.h"
#include "core/derive.h"
#include "store/store.h"

int dataset_from_store(struct store *st, struct adataset *ds, struct err *e);

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
};
int dataset_sdtm_write(struct store *st, const char *dir, struct dataset_sdtm_stats *stats,
                       struct err *e);

/* One table as a SAS transport file, version 5 (dataset_pkg.c, through ReadStat): member the SAS
 * member name (<= 8 characters), label the dataset label (<= 40); text columns as character
 * variables as wide as their longest value, the rest numeric; column descriptions as labels. */
int dataset_xpt_write(const struct atable *t, const char *member, const char *label,
                      const char *path, struct err *e);
/* "csv", "stata", "spss", "sas", "r": 0, else -1. */
int dataset_format_parse(const char *name, enum dataset_format *out);
/* Writes the package files of fmt into dir (where dataset_write put the CSVs). */
int dataset_write_package(const struct adataset *ds, const char *dir, enum dataset_format fmt,
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
/* dags: a redcap_data_access_group column (each record's site) when the study has sites, as
 * REDCap's data import takes it and its API exports it on exportDataAccessGroups=true. */
int dataset_redcap_flat(struct store *st, dataset_csv_cell_fn cell, bool dags, struct strbuf *sb,
                        size_t *nrecords, size_t *nrows, struct err *e);

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
 * byte-identical manifest), and every file dataset_write wrote with its size and SHA-256. */
#define DATASET_MANIFEST_FILE "manifest.json"
int dataset_write_manifest(const struct adataset *ds, const char *dir, const char *lock_id,
                           const char *locked_at, const char *audit_head, struct err *e);

/* As dataset_write_manifest for every regular file under dir, subfolders included, listed by
 * their path relative to dir in byte order (the report's folder: report.html, results.json,
 * dataset/, figures/). lock_id NULL (an unlocked database): the lock members are null. */
int dataset_write_tree_manifest(const char *dir, const char *lock_id, const char *locked_at,
                                const char *audit_head, struct err *e);

/* The SHA-256 (64 hex characters and NUL into hex) and the size in bytes (*bytes, may be NULL)
 * of the file at path: what a manifest lists and an export's audit row records. */
int dataset_file_sha256(const char *path, char hex[65], long long *bytes, struct err *e);

/* Creates directory path if it does not exist (mode 0777 & umask). */
int dataset_mkdir(const char *path, struct err *e);
/* Writes len bytes to dir/name. */
int dataset_write_file(const char *dir, const char *name, const char *data, size_t len,
                       struct err *e);

#endif
