/* The analysis dataset as files and from the database: `ioheme dataset` and the first step of
 * `ioheme report`.
 *
 *   dataset_from_store  reads every value of the study in one snapshot, record by record, and
 *                       runs the derivations (core/derive.h) on each;
 *   dataset_write       writes DIR/<table>.csv for every table and DIR/dataset_dictionary.csv
 *                       (table, column, type, unit, description, SAP section);
 *   dataset_read        reads such a directory back (for `ioheme report --dataset DIR`).
 * The tables are owned by ds (derive_free releases them). */
#ifndef IOHEME_REPORT_DATASET_H
#define IOHEME_REPORT_DATASET_H

#include "base/err.h"
#include "core/derive.h"
#include "store/store.h"

int dataset_from_store(struct store *st, struct adataset *ds, struct err *e);
/* Creates dir when missing (its parent must exist). */
int dataset_write(const struct adataset *ds, const char *dir, struct err *e);
/* ds must be fresh (derive_init is called here). Every table's CSV must exist with every
 * column of the data dictionary (extra columns are ignored). */
int dataset_read(const char *dir, struct adataset *ds, struct err *e);

/* Creates directory path if it does not exist (mode 0777 & umask). */
int dataset_mkdir(const char *path, struct err *e);
/* Writes len bytes to dir/name. */
int dataset_write_file(const char *dir, const char *name, const char *data, size_t len,
                       struct err *e);

#endif
