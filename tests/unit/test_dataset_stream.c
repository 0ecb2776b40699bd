/* Exports written record by record (issue 14: memory that does not grow with the number of
 * patients): the spool that holds a table's rows on disk gives back exactly what was put in;
 * the streamed derivation hands on one record's rows at a time; and `ioheme dataset`'s streamed
 * files are byte for byte those written from the whole dataset in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <readstat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/csv.h"
#include "report/dataset.h"
#include "sim/simulate.h"

static char tmpdir[256];

static const struct acol COLS[] = {
    {"id", ACOL_INT, "", "Row", "§1", NULL},
    {"text", ACOL_TEXT, "", "Text", "§1", NULL},
    {"note", ACOL_TEXT, "", "Note", "§1", NULL},
};

/* Rows with missing cells, an empty one (missing, as atable keeps it), and values longer than
 * the reader's first buffer come back cell for cell, twice (a rewind), with each column's
 * widest value. */
static void test_spool_gives_back_what_was_put_in(void **state)
{
    (void)state;
    struct atable t;
    atable_init(&t, "t", COLS, 3);
    char *big = malloc(5001);
    assert_non_null(big);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    const char *const rows[][3] = {
        {"1", "alpha", NULL}, {"2", "", "b,c\n\"d\""}, {"3", big, "z"}, {NULL, NULL, NULL}};
    size_t r;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(atable_add_row(&t, &r), 0);
        for (size_t c = 0; c < 3; c++)
            assert_int_equal(atable_set(&t, r, c, rows[i][c]), 0);
    }
    struct dataset_spool s;
    struct err e = {0};
    assert_int_equal(dataset_spool_open(&s, tmpdir, "t", COLS, 3, &e), 0);
    assert_int_equal(dataset_spool_add(&s, &t, &e), 0); /* in two rounds, as records come */
    atable_clear(&t);
    assert_int_equal(atable_add_row(&t, &r), 0);
    assert_int_equal(atable_set(&t, r, 1, "last"), 0);
    assert_int_equal(dataset_spool_add(&s, &t, &e), 0);
    assert_int_equal(s.nrows, 5);
    assert_int_equal(s.widths[0], 1);
    assert_int_equal(s.widths[1], 5000);
    assert_int_equal(s.widths[2], strlen("b,c\n\"d\""));
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(dataset_spool_rewind(&s, &e), 0);
        const char *const *cells;
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(dataset_spool_next(&s, &cells, &e), 0);
            assert_non_null(cells);
            for (size_t c = 0; c < 3; c++) {
                const char *want = i < 4 ? rows[i][c] : c == 1 ? "last" : NULL;
                if (want && !*want)
                    want = NULL;
                if (!want)
                    assert_null(cells[c]);
                else
                    assert_string_equal(cells[c], want);
            }
        }
        assert_int_equal(dataset_spool_next(&s, &cells, &e), 0);
        assert_null(cells);
    }
    dataset_spool_close(&s);
    /* the working file was unlinked at once: nothing is left in the folder */
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        assert_true(strncmp(de->d_name, ".ioheme-", 8) != 0);
    closedir(d);
    atable_free(&t);
    free(big);
}

/* A record's rows spooled in two steps — formatted to bytes (what the export cache keeps), then
 * added — give the spool the same rows and widths as dataset_spool_add; bytes that end within a
 * row, or run past the rows said, are refused and add nothing. */
static void test_spool_bytes_as_rows(void **state)
{
    (void)state;
    struct atable t;
    atable_init(&t, "t", COLS, 3);
    const char *const rows[][3] = {{"1", "alpha", NULL}, {"22", NULL, "wide value"}};
    size_t r;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(atable_add_row(&t, &r), 0);
        for (size_t c = 0; c < 3; c++)
            assert_int_equal(atable_set(&t, r, c, rows[i][c]), 0);
    }
    struct err e = {0};
    struct strbuf b = STRBUF_INIT;
    size_t nrows = 0;
    assert_int_equal(dataset_spool_format(&t, &b, &nrows, &e), 0);
    assert_int_equal(nrows, 2);
    /* 4-byte length per cell, then its bytes; a missing cell is a length alone */
    assert_int_equal(b.len, 6 * 4 + strlen("1alpha22wide value"));
    struct dataset_spool direct, twostep;
    assert_int_equal(dataset_spool_open(&direct, tmpdir, "d", COLS, 3, &e), 0);
    assert_int_equal(dataset_spool_open(&twostep, tmpdir, "b", COLS, 3, &e), 0);
    assert_int_equal(dataset_spool_add(&direct, &t, &e), 0);
    assert_int_equal(dataset_spool_add_bytes(&twostep, b.buf, b.len, nrows, &e), 0);
    assert_int_equal(twostep.nrows, direct.nrows);
    for (size_t c = 0; c < 3; c++)
        assert_int_equal(twostep.widths[c], direct.widths[c]);
    assert_int_equal(twostep.widths[2], strlen("wide value"));
    /* cut within the last cell, or one row said more than there is: refused, nothing added */
    assert_int_equal(dataset_spool_add_bytes(&twostep, b.buf, b.len - 3, nrows, &e), ERR_INTERNAL);
    assert_int_equal(dataset_spool_add_bytes(&twostep, b.buf, b.len, nrows + 1, &e), ERR_INTERNAL);
    assert_int_equal(dataset_spool_add_bytes(&twostep, b.buf, b.len, nrows - 1, &e), ERR_INTERNAL);
    assert_int_equal(twostep.nrows, 2);
    assert_int_equal(dataset_spool_rewind(&twostep, &e), 0);
    const char *const *cells;
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(dataset_spool_next(&twostep, &cells, &e), 0);
        for (size_t c = 0; c < 3; c++) {
            if (rows[i][c])
                assert_string_equal(cells[c], rows[i][c]);
            else
                assert_null(cells[c]);
        }
    }
    assert_int_equal(dataset_spool_next(&twostep, &cells, &e), 0);
    assert_null(cells);
    dataset_spool_close(&direct);
    dataset_spool_close(&twostep);
    strbuf_release(&b);
    atable_free(&t);
}

static struct store *study(const char *name, long patients)
{
    char db[512];
    snprintf(db, sizeof db, "%s/%s.db", tmpdir, name);
    struct err e = {0};
    struct store *st = NULL;
    const char *p = getenv("IOHEME_PROTOCOL");
    if (store_create(db, p ? p : IOHEME_SOURCE_DIR "/protocols/io-heme", "admin", "correct-horse",
                     &st, &e))
        fail_msg("store_create: %s", e.msg);
    struct store_ctx who = {"admin", "cli", NULL, NULL};
    struct sim_summary s;
    if (store_mark_synthetic(st, &who, &e) || sim_run(st, &who, 7, patients, 0, NULL, &s, &e))
        fail_msg("simulate: %s", e.msg);
    return st;
}

struct watch {
    size_t calls, most_subjects, most_screening;
    char seen[256][16]; /* the screening numbers of the records, in the order they came */
    size_t fail_at;     /* the call that fails (ERR_IO), 0 none */
};

static int watch_rows(void *ctx, const struct adataset *ds, struct vtab *v, struct dataset_out *out,
                      struct err *e)
{
    (void)out; /* no streams */
    struct watch *w = ctx;
    w->calls++;
    if (w->fail_at && w->calls == w->fail_at)
        return err_set(e, ERR_IO, "disk full at call %zu", w->calls);
    if (v && w->calls <= 256)
        snprintf(w->seen[w->calls - 1], sizeof w->seen[0], "%s", v->screening_no);
    if (ds->t[ADS_SUBJECTS].nrows > w->most_subjects)
        w->most_subjects = ds->t[ADS_SUBJECTS].nrows;
    if (ds->t[ADS_SCREENING].nrows > w->most_screening)
        w->most_screening = ds->t[ADS_SCREENING].nrows;
    return 0;
}

static char *slurp(const char *dir, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", tmpdir, dir, file);
    char *data = NULL;
    size_t len = 0;
    struct err e = {0};
    if (csv_file_read_all(path, &data, &len, &e))
        fail_msg("%s", e.msg);
    return data;
}

/* The streamed CSV of table i, read back by the CSV reader, equals the whole dataset's table
 * cell for cell (a check of the writer that does not go through it). */
static void same_cells(const char *dir, const struct atable *t)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.csv", dir, t->name);
    struct csv_table ct;
    struct err e = {0};
    if (csv_read_file(path, &ct, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(ct.ncols, t->ncols);
    assert_int_equal(ct.nrows, t->nrows);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *want = atable_get(t, r, c);
            if (strcmp(ct.rows[r][c], want ? want : "") != 0)
                fail_msg("%s row %zu column %s: '%s', the dataset has '%s'", t->name, r + 1,
                         t->cols[c].name, ct.rows[r][c], want ? want : "");
        }
    csv_table_free(&ct);
}

static int count_rows(readstat_metadata_t *m, void *ctx)
{
    *(long *)ctx = readstat_get_row_count(m);
    return READSTAT_HANDLER_OK;
}

/* dm.xpt's SITEID column: how many rows, how many of them "01". */
struct sites {
    int col;
    long rows, ones;
};

static int site_var(int index, readstat_variable_t *v, const char *labels, void *ctx)
{
    (void)labels;
    struct sites *sc = ctx;
    if (strcmp(readstat_variable_get_name(v), "SITEID") == 0)
        sc->col = index + 1;
    return READSTAT_HANDLER_OK;
}

static int site_value(int row, readstat_variable_t *v, readstat_value_t value, void *ctx)
{
    struct sites *sc = ctx;
    if (readstat_variable_get_index(v) + 1 != sc->col)
        return READSTAT_HANDLER_OK;
    sc->rows = row + 1;
    const char *s = readstat_string_value(value);
    if (s && strcmp(s, "01") == 0)
        sc->ones++;
    return READSTAT_HANDLER_OK;
}

/* The streamed derivation holds one record at a time (one screening row per call, at most one
 * subject) and counts every row; `ioheme dataset` written as it streams equals, byte for byte,
 * the dataset derived whole and written from memory; the Stata files have every row. */
static void test_streamed_dataset_equals_the_whole(void **state)
{
    (void)state;
    struct store *st = study("s", 30);
    struct err e = {0};
    struct adataset whole, streamed, watched;
    assert_int_equal(dataset_from_store(st, &whole, &e), 0);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/whole", tmpdir);
    assert_int_equal(dataset_write(&whole, dir, &e), 0);

    static struct watch w; /* static: its list of names is large */
    struct dataset_stream s = {.on_rows = watch_rows, .ctx = &w}; /* no streams, no cache */
    assert_int_equal(dataset_stream_store(st, &watched, &s, &e), 0);
    size_t screened = whole.t[ADS_SCREENING].nrows;
    assert_true(screened > 30 && screened < 256);
    assert_int_equal(w.calls, screened + 1); /* each record, then the completeness rows */
    assert_int_equal(w.most_screening, 1);
    assert_int_equal(w.most_subjects, 1);
    for (int i = 0; i < ADS_NTABLES; i++) {
        assert_int_equal(derive_nrows(&watched, i), whole.t[i].nrows);
        assert_int_equal(watched.t[i].nrows, 0); /* nothing kept */
    }
    derive_free(&watched);
    /* the records came one call each, in screening order (each derived on the second thread
     * while the store was read on this one) */
    struct store_record *recs;
    size_t nrecs;
    assert_int_equal(store_record_list(st, &recs, &nrecs, &e), 0);
    assert_int_equal(nrecs, screened);
    for (size_t i = 0; i < nrecs; i++)
        assert_string_equal(w.seen[i], recs[i].screening_no);
    free(recs);

    /* without the completeness table: every other table as before, that one empty */
    memset(&w, 0, sizeof w);
    s.no_completeness = true;
    assert_int_equal(dataset_stream_store(st, &watched, &s, &e), 0);
    assert_int_equal(w.calls, screened + 1);
    for (int i = 0; i < ADS_NTABLES; i++)
        assert_int_equal(derive_nrows(&watched, i), i == ADS_COMPLETENESS ? 0 : whole.t[i].nrows);
    derive_free(&watched);

    /* a consumer that fails on the fifth record: its error comes back, whole, and no record is
     * handed to it after that (the reader stops; what it had handed over is dropped) */
    for (size_t at = 1; at <= 6; at += 5) {
        memset(&w, 0, sizeof w);
        w.fail_at = at;
        s.no_completeness = false;
        memset(&e, 0, sizeof e);
        assert_int_equal(dataset_stream_store(st, &watched, &s, &e), ERR_IO);
        char want[64];
        snprintf(want, sizeof want, "disk full at call %zu", at);
        assert_string_equal(e.msg, want);
        assert_int_equal(w.calls, at);
    }
    memset(&e, 0, sizeof e);

    snprintf(dir, sizeof dir, "%s/streamed", tmpdir);
    struct dataset_cache_stats cs;
    assert_int_equal(dataset_export(st, dir, DATASET_STATA, &streamed, &cs, &e), 0);
    assert_true(streamed.is_synthetic);
    /* the first export found no cache and derived every record; the next, with nothing
     * changed, takes every one from it */
    assert_true(cs.used && cs.kept == 0 && cs.derived == whole.t[ADS_SCREENING].nrows);
    struct adataset again;
    snprintf(dir, sizeof dir, "%s/again", tmpdir);
    assert_int_equal(dataset_export(st, dir, DATASET_STATA, &again, &cs, &e), 0);
    assert_true(cs.used && cs.kept == whole.t[ADS_SCREENING].nrows && cs.derived == 0);
    derive_free(&again);
    snprintf(dir, sizeof dir, "%s/streamed", tmpdir);
    static const char *const extra[] = {"dataset_dictionary.csv", DATASET_SYNTHETIC_FILE};
    for (int i = 0; i < ADS_NTABLES + 2; i++) {
        char name[64];
        if (i < ADS_NTABLES)
            snprintf(name, sizeof name, "%s.csv", derive_ads_names[i]);
        else
            snprintf(name, sizeof name, "%s", extra[i - ADS_NTABLES]);
        char *x = slurp("whole", name), *y = slurp("streamed", name);
        if (strcmp(x, y) != 0)
            fail_msg("%s: the streamed file differs from the whole dataset's", name);
        free(x);
        free(y);
        if (i < ADS_NTABLES) {
            same_cells(dir, &whole.t[i]);
            assert_int_equal(derive_nrows(&streamed, i), whole.t[i].nrows);
            char path[600];
            snprintf(path, sizeof path, "%s/%s.dta", dir, derive_ads_names[i]);
            readstat_parser_t *p = readstat_parser_init();
            long n = -1;
            readstat_set_metadata_handler(p, count_rows);
            assert_int_equal(readstat_parse_dta(p, path, &n), READSTAT_OK);
            readstat_parser_free(p);
            assert_int_equal(n, (long)whole.t[i].nrows);
        }
    }
    size_t subjects = whole.t[ADS_SUBJECTS].nrows;
    derive_free(&streamed);
    derive_free(&whole);

    /* the SDTM export of a study without sites: every subject's SITEID is 01 */
    snprintf(dir, sizeof dir, "%s/sdtm", tmpdir);
    struct dataset_sdtm_stats ss;
    assert_int_equal(dataset_sdtm_write(st, dir, &ss, &e), 0);
    assert_int_equal(ss.subjects, subjects);
    char path[600];
    snprintf(path, sizeof path, "%s/dm.xpt", dir);
    struct sites sc = {0};
    readstat_parser_t *p = readstat_parser_init();
    readstat_set_variable_handler(p, site_var);
    readstat_set_value_handler(p, site_value);
    assert_int_equal(readstat_parse_xport(p, path, &sc), READSTAT_OK);
    readstat_parser_free(p);
    assert_int_equal(sc.rows, ss.subjects);
    assert_int_equal(sc.ones, ss.subjects);

    /* a folder that cannot be made is said before the study is read, and nothing is written */
    snprintf(dir, sizeof dir, "%s/s.db/out", tmpdir);
    assert_int_equal(dataset_export(st, dir, DATASET_CSV, &streamed, NULL, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "s.db/out"));
    derive_free(&streamed);
    store_close(st);
}

struct jobs {
    int ran[12];
};

static int job(void *ctx, size_t i, struct err *e)
{
    struct jobs *j = ctx;
    __atomic_add_fetch(&j->ran[i], 1, __ATOMIC_RELAXED);
    if (i == 2 || i == 5 || i == 9)
        return err_set(e, i == 5 ? ERR_NOMEM : ERR_IO, "job %zu failed", i);
    return 0;
}

/* The files at an export's end, written two at a time: every job runs once, even after one
 * failed, and the error told is the first failing job's in index order (not in the order the
 * jobs ran: the largest spool, job 9's, starts first). */
static void test_each_job_runs_and_the_first_error_is_told(void **state)
{
    (void)state;
    struct dataset_spool sp[12];
    struct dataset_spool *p[12];
    memset(sp, 0, sizeof sp);
    for (size_t i = 0; i < 12; i++) {
        sp[i].nrows = i == 9 ? 1000 : i;
        p[i] = &sp[i];
    }
    for (int round = 0; round < 20; round++) {
        struct jobs j = {{0}};
        struct err e = {0};
        assert_int_equal(dataset_spools_each(12, p, job, &j, &e), ERR_IO);
        assert_string_equal(e.msg, "job 2 failed");
        for (size_t i = 0; i < 12; i++)
            assert_int_equal(j.ran[i], 1);
    }
    struct jobs j = {{0}};
    struct err e = {0};
    assert_int_equal(dataset_spools_each(2, p, job, &j, &e), 0);
    assert_int_equal(dataset_spools_each(0, NULL, job, &j, &e), 0);
    assert_int_equal(j.ran[0] + j.ran[1], 2);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ioheme-stream-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spool_gives_back_what_was_put_in),
        cmocka_unit_test(test_spool_bytes_as_rows),
        cmocka_unit_test(test_streamed_dataset_equals_the_whole),
        cmocka_unit_test(test_each_job_runs_and_the_first_error_is_told),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
