/* Shared by the fuzz targets that need a study database (fuzz_http.c, fuzz_import.c): a fresh
 * database on the io-heme protocol in a temporary folder (on /dev/shm when there is one, so the
 * commits' fsyncs cost nothing), with admin "admin" and two screened patients of whom the first
 * is enrolled (SCR-001 = IOH-001, SCR-002). The folder is removed at exit, with the files
 * "<db>.csv", "<db>.json" and "<db>.xml" a target may write beside the database. */
#ifndef IOHEME_TESTS_FUZZ_STUDY_H
#define IOHEME_TESTS_FUZZ_STUDY_H

#define FUZZ_ADMIN_PW "fuzz-admin-pass-1"

/* Creates the database once per process and returns its path (static storage); exits with a
 * message when it cannot (a fuzz run without its fixture is worthless). */
const char *fuzz_study_db(void);

#endif
