/* The simulator against a real store: it writes through the one write path without a single
 * rejected value, the same seed gives the same analysis dataset (per-call and bulk paths
 * byte-identical), a different seed a different one, and ~1.4 patients are screened per
 * enrolled. Also the PRNG's reference values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/csv.h"
#include "report/dataset.h"
#include "sim/cohort.h"
#include "sim/prng.h"
#include "sim/simulate.h"

static char tmpdir[256];

static const char *protocol_dir(void)
{
    const char *p = getenv("IOHEME_PROTOCOL");
    return p ? p : IOHEME_SOURCE_DIR "/protocols/io-heme";
}

/* Creates db NAME, simulates, writes the dataset to NAME.d; returns the store's summary. */
static struct sim_summary simulate(const char *name, uint64_t seed, long n, long batch)
{
    char db[512], out[512];
    snprintf(db, sizeof db, "%s/%s.db", tmpdir, name);
    snprintf(out, sizeof out, "%s/%s.d", tmpdir, name);
    struct err e = {0};
    struct store *st = NULL;
    int rc = store_create(db, protocol_dir(), "admin", "correct-horse", &st, &e);
    if (rc)
        fail_msg("store_create: %s", e.msg);
    struct store_ctx who = {"admin", "cli", NULL, NULL};
    if (store_mark_synthetic(st, &who, &e))
        fail_msg("store_mark_synthetic: %s", e.msg);
    struct sim_summary s;
    rc = sim_run(st, &who, seed, n, batch, NULL, &s, &e);
    if (rc)
        fail_msg("sim_run: %s", e.msg);
    struct adataset ds;
    rc = dataset_from_store(st, &ds, &e);
    if (rc)
        fail_msg("dataset: %s", e.msg);
    rc = dataset_write(&ds, out, &e);
    if (rc)
        fail_msg("dataset_write: %s", e.msg);
    derive_free(&ds);
    store_close(st);
    return s;
}

static char *slurp(const char *name, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.d/%s", tmpdir, name, file);
    char *data = NULL;
    size_t len = 0;
    struct err e = {0};
    if (csv_file_read_all(path, &data, &len, &e))
        fail_msg("%s", e.msg);
    return data;
}

static const char *const FILES[] = {"screening.csv",          "subjects.csv",
                                    "placements.csv",         "attempts.csv",
                                    "infusions.csv",          "haemodynamics.csv",
                                    "complications.csv",      "completeness.csv",
                                    "dataset_dictionary.csv", NULL};

static void test_same_seed_same_dataset_per_call_and_bulk(void **state)
{
    (void)state;
    struct sim_summary a = simulate("a", 2026, 24, 0);
    struct sim_summary b = simulate("b", 2026, 24, 7);
    simulate("c", 2027, 24, 0);
    assert_int_equal(a.enrolled, 24);
    assert_int_equal(b.enrolled, 24);
    assert_int_equal(a.screened, b.screened);
    assert_int_equal(a.changes, b.changes);
    for (const char *const *f = FILES; *f; f++) {
        char *x = slurp("a", *f), *y = slurp("b", *f);
        if (strcmp(x, y) != 0)
            fail_msg("%s differs between the per-call and the bulk path", *f);
        free(x);
        free(y);
    }
    char *x = slurp("a", "subjects.csv"), *z = slurp("c", "subjects.csv");
    assert_true(strcmp(x, z) != 0);
    free(x);
    free(z);
}

static void test_every_enrolled_subject_is_in_the_dataset(void **state)
{
    (void)state;
    struct sim_summary s = simulate("d", 99, 40, 0);
    assert_int_equal(s.enrolled, 40);
    assert_int_equal(s.screened, s.enrolled + s.screen_failures);
    char path[512];
    snprintf(path, sizeof path, "%s/d.d/subjects.csv", tmpdir);
    struct csv_table t;
    struct err e = {0};
    assert_int_equal(csv_read_file(path, &t, &e), 0);
    assert_int_equal(t.nrows, 40);
    int os = csv_col(&t, "os_days"), fas = csv_col(&t, "first_attempt_success");
    for (size_t r = 0; r < t.nrows; r++) {
        assert_true(t.rows[r][os][0] != '\0');  /* every subject has a survival time */
        assert_true(t.rows[r][fas][0] != '\0'); /* and a first-attempt outcome */
    }
    csv_table_free(&t);
}

/* A study database (not created synthetic) is refused before anything is written; a database
 * holding a record cannot be made a synthetic one afterwards. */
static void test_simulate_refuses_a_study_database(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof db, "%s/study.db", tmpdir);
    struct err e = {0};
    struct store *st = NULL;
    if (store_create(db, protocol_dir(), "admin", "correct-horse", &st, &e))
        fail_msg("store_create: %s", e.msg);
    struct store_ctx who = {"admin", "cli", NULL, NULL};
    bool is_syn = true;
    assert_int_equal(store_is_synthetic(st, &is_syn, &e), 0);
    assert_false(is_syn);
    struct sim_summary s;
    assert_int_equal(sim_run(st, &who, 1, 3, 0, NULL, &s, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "init --synthetic"));
    assert_int_equal(s.screened, 0);
    struct store_record *recs = NULL;
    size_t n = 9;
    assert_int_equal(store_record_list(st, &recs, &n, &e), 0);
    assert_int_equal(n, 0); /* nothing written */
    free(recs);
    /* a screened patient: the database can no longer become a training one */
    char scr[16];
    struct store_change c = {"screening_arm_1", 0, "age", NULL, "40", NULL};
    assert_int_equal(store_screen_create(st, &who, &c, 1, scr, NULL, &e), 0);
    assert_int_equal(store_mark_synthetic(st, &who, &e), ERR_CONFLICT);
    assert_int_equal(store_is_synthetic(st, &is_syn, &e), 0);
    assert_false(is_syn);
    store_close(st);
}

/* The cohort model on its own, over many patients: the documented rates come out. */
static void test_cohort_rates_match_the_parameters(void **state)
{
    (void)state;
    struct sim_cohort c;
    struct sim_patient *p = malloc(sizeof *p);
    sim_cohort_init(&c, 12345, 20000, NULL);
    long fas = 0, first_ok = 0, dead28 = 0, dead90 = 0, shock = 0;
    long nacc = 0, acc_le60 = 0, acc_le40 = 0, acc_le100 = 0;
    while (sim_cohort_next(&c, p)) {
        if (!p->is_enrolled)
            continue;
        fas++;
        if (p->pl[0].att[0].is_success) {
            /* time to access (sim §4): log-normal, median 60 s, IQR ~40-100 s */
            int64_t acc = p->pl[0].confirm_s - p->pl[0].decision_s;
            nacc++;
            acc_le40 += acc <= 38;
            acc_le60 += acc <= 60;
            acc_le100 += acc <= 95;
        }
        first_ok += p->pl[0].att[0].is_success;
        shock += p->septic_shock;
        dead28 += p->has_death && p->death_s - p->t0_s <= 28 * 86400;
        dead90 += p->has_death;
    }
    free(p);
    double ratio = (double)c.nscreened / (double)c.nenrolled;
    /* 1.4 screened per enrolled; first attempt ~0.865 (half tibia 0.90, half humerus 0.83,
     * less with obesity); mortality 35% at day 28 and 45% at day 90; septic shock 55%. With
     * 20,000 patients the binomial standard errors are < 0.004, so +-0.02 is wide. */
    assert_true(ratio > 1.37 && ratio < 1.43);
    assert_true((double)first_ok / fas > 0.83 && (double)first_ok / fas < 0.88);
    assert_true((double)dead28 / fas > 0.33 && (double)dead28 / fas < 0.37);
    assert_true((double)dead90 / fas > 0.43 && (double)dead90 / fas < 0.47);
    assert_true((double)shock / fas > 0.53 && (double)shock / fas < 0.57);
    /* median 60 s (sigma 0.68: quartiles 38 and 95 s): half at or below 60 s, a quarter at or
     * below 38 s, three quarters at or below 95 s */
    assert_true((double)acc_le60 / nacc > 0.48 && (double)acc_le60 / nacc < 0.53);
    assert_true((double)acc_le40 / nacc > 0.22 && (double)acc_le40 / nacc < 0.28);
    assert_true((double)acc_le100 / nacc > 0.72 && (double)acc_le100 / nacc < 0.78);
}

/* xoshiro256** with the state {1, 2, 3, 4} gives 11520, 0, 1509978240, 1215971899390074240
 * (computed independently with a ten-line Python transcription of the published reference
 * code; the first by hand: rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520). */
static void test_xoshiro_reference_outputs(void **state)
{
    (void)state;
    struct prng r = {{1, 2, 3, 4}};
    assert_true(prng_next(&r) == 11520ULL);
    assert_true(prng_next(&r) == 0ULL);
    assert_true(prng_next(&r) == 1509978240ULL);
    assert_true(prng_next(&r) == 1215971899390074240ULL);
    struct prng a, b;
    prng_seed(&a, 1, 0);
    prng_seed(&b, 1, 0);
    for (int i = 0; i < 100; i++)
        assert_true(prng_next(&a) == prng_next(&b));
    prng_seed(&b, 1, 1);
    assert_true(prng_next(&a) != prng_next(&b));
    for (int i = 0; i < 1000; i++) {
        double u = prng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        long k = prng_int(&a, 3, 5);
        assert_true(k >= 3 && k <= 5);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ioheme-sim-XXXXXX");
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
        cmocka_unit_test(test_xoshiro_reference_outputs),
        cmocka_unit_test(test_simulate_refuses_a_study_database),
        cmocka_unit_test(test_cohort_rates_match_the_parameters),
        cmocka_unit_test(test_same_seed_same_dataset_per_call_and_bulk),
        cmocka_unit_test(test_every_enrolled_subject_is_in_the_dataset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
