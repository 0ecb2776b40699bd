/* libFuzzer target for `ioheme protocol from-redcap project.xml DIR`: any bytes as REDCap's
 * project XML, read by redcap_project_xml_protocol (formats/redcap_xml.c) into a protocol folder
 * in a temporary directory, which is then loaded back with dict_load_full, as `ioheme protocol
 * check DIR` does.
 *
 * What it checks, beyond crashes, leaks and undefined behaviour:
 *
 *   - the reader answers 0 or ERR_INVALID with a message (ERR_IO, ERR_NOMEM, ERR_INTERNAL on a
 *     file's content is a bug: the folder is writable and inputs are small);
 *   - what it wrote reads back as the CSV it meant: every file parses, dictionary.csv has the
 *     18 columns of REDCap's Data Dictionary and one row per field it counted, events.csv
 *     one row per event, repeating.csv one per repeating instrument or event;
 *   - the loader either loads it — then with those fields, in that order — or refuses it with
 *     ERR_INVALID and at least one diagnostic (dict_load_full's contract).
 *
 * The loader refusing what the reader wrote is not in itself a defect: the reader transcribes
 * what the project file says (a type, a validation, a form name REDCap may have and ioheme not)
 * and leaves the judgement to `protocol check`, which the command tells the user to run next.
 * IOHEME_FUZZ_VERBOSE=1 prints each input's outcome and the loader's first diagnostics, to read
 * which refusals the writer itself causes. Seeds: tests/fuzz/corpus/redcap_xml/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "core/dict.h"
#include "formats/csv.h"
#include "formats/redcap.h"

static const char *const files[] = {"dictionary.csv", "events.csv", "form_events.csv",
                                    "repeating.csv"};
enum { NFILES = sizeof files / sizeof *files };

static char dir[256];

static void remove_files(void)
{
    char p[300];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
}

static void remove_dir(void)
{
    remove_files();
    rmdir(dir);
}

static _Noreturn void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_redcap_xml: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Parses dir/name, which the reader wrote: it must be CSV of ncols columns (0: any) and nrows
 * data rows (SIZE_MAX: any). t is the caller's to free when this returns 1 (the file exists). */
static int written(const char *name, size_t ncols, size_t nrows, struct csv_table *t)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (access(p, F_OK) != 0)
        return 0;
    struct err e;
    err_clear(&e);
    if (csv_read_file(p, t, &e) != 0)
        fail("a written file does not read back as CSV", e.msg);
    if (ncols && t->ncols != ncols)
        fail(name, "written with another number of columns");
    if (nrows != SIZE_MAX && t->nrows != nrows) {
        fprintf(stderr, "%s: %zu rows read, %zu written\n", name, t->nrows, nrows);
        fail(name, "the rows written do not read back");
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/ioheme-fuzz-xml-XXXXXX", base);
        if (!mkdtemp(dir)) {
            perror(dir);
            exit(1);
        }
        atexit(remove_dir);
        redcap_xml_init();
    }
    remove_files(); /* the previous input's: an events.csv must not outlive its project */
    bool verbose = getenv("IOHEME_FUZZ_VERBOSE") != NULL;
    struct redcap_xml_stats st;
    struct err e;
    err_clear(&e);
    int rc = redcap_project_xml_protocol("project.xml", (const char *)data, size, dir, &st, &e);
    if (rc) {
        if (rc != ERR_INVALID)
            fail("the reader failed on a file's content, not with ERR_INVALID", e.msg);
        if (!e.msg[0])
            fail("the reader refused a file without saying why", NULL);
        if (verbose)
            fprintf(stderr, "fuzz_redcap_xml: refused: %s\n", e.msg);
        return 0;
    }
    struct csv_table dict_csv, t;
    if (!written("dictionary.csv", DICT_API_NCOLS, st.nfields, &dict_csv))
        fail("the reader succeeded without writing dictionary.csv", NULL);
    if (written("events.csv", 7, st.nevents, &t))
        csv_table_free(&t);
    if (written("form_events.csv", 3, SIZE_MAX, &t))
        csv_table_free(&t);
    if (written("repeating.csv", st.nevents ? 3 : 2, st.nrepeating, &t))
        csv_table_free(&t);

    struct dict d;
    struct strbuf errors = STRBUF_INIT;
    size_t nerrors = 0;
    err_clear(&e);
    rc = dict_load_full(dir, &d, &errors, &nerrors, &e);
    if (verbose)
        fprintf(stderr,
                "fuzz_redcap_xml: wrote %zu fields, %zu forms, %zu events; load: %d %.300s\n",
                st.nfields, st.nforms, st.nevents, rc, rc ? strbuf_str(&errors) : "");
    if (rc == 0) {
        if (d.nfields != st.nfields)
            fail("the protocol loaded with another number of fields than written", NULL);
        for (size_t i = 0; i < d.nfields; i++)
            if (strcmp(d.fields[i].name, dict_csv.rows[i][0]) != 0)
                fail("a field loaded under another name than written", d.fields[i].name);
        dict_free(&d);
    } else if (rc != ERR_INVALID || nerrors == 0 || !e.msg[0]) {
        fail("the written protocol was refused without a diagnostic, or not as invalid", e.msg);
    }
    csv_table_free(&dict_csv);
    strbuf_release(&errors);
    return 0;
}
