/* The study database the fuzz targets run against (fuzz_study.h). */
#include "fuzz_study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[256], db[320];

static void remove_study(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal", ".csv", ".json", ".xml"};
    char p[340];
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void die(const char *what, const struct err *e)
{
    fprintf(stderr, "fuzz_study: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

/* The screening values of an eligible patient (as tests/e2e/http_lib.mjs's ELIGIBLE):
 * field, checkbox code or NULL, value. */
static const char *const ELIGIBLE[][3] = {{"scr_date", NULL, "2026-11-20"},
                                          {"scr_by", NULL, "3"},
                                          {"age", NULL, "45"},
                                          {"sex", NULL, "2"},
                                          {"heme_disease", NULL, "1"},
                                          {"heme_dx", NULL, "1"},
                                          {"qual_cat1", "1", "1"},
                                          {"qual_cat2", "0", "1"},
                                          {"qual_cat3", "0", "1"},
                                          {"qual_cat4", "0", "1"},
                                          {"qual_cat5", "0", "1"},
                                          {"scr_site_plan", NULL, "2"},
                                          {"ci_fracture", NULL, "0"},
                                          {"ci_prosthesis", NULL, "0"},
                                          {"ci_recent_io", NULL, "0"},
                                          {"ci_skin", NULL, "0"},
                                          {"ci_landmarks", NULL, "0"},
                                          {"ci_osteoporosis", NULL, "0"},
                                          {"ci_oi", NULL, "0"},
                                          {"scr_consent", NULL, "1"}};
static const char *const CONSENT[][3] = {{"cons_type", NULL, "1"},
                                         {"cons_dt", NULL, "2026-11-20 10:00"}};

static void changes_of(const char *const (*v)[3], size_t n, struct store_change *ch)
{
    for (size_t i = 0; i < n; i++)
        ch[i] = (struct store_change){"screening_arm_1", 0, v[i][0], v[i][1], v[i][2], NULL};
}

const char *fuzz_study_db(void)
{
    if (db[0])
        return db;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/ioheme-fuzz-XXXXXX", base);
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(db, sizeof db, "%s/study.db", dir);
    atexit(remove_study);

    struct err e = {0};
    struct store *st = NULL;
    if (store_create(db, IOHEME_SOURCE_DIR "/protocols/io-heme", "admin", FUZZ_ADMIN_PW, &st, &e) !=
        0)
        die("store_create", &e);
    struct store_ctx who = {"admin", "cli", NULL, NULL};
    enum { NE = sizeof ELIGIBLE / sizeof *ELIGIBLE };
    struct store_change ch[NE];
    changes_of(ELIGIBLE, NE, ch);
    char scr[16], id[16];
    for (int i = 0; i < 2; i++) {
        struct store_put_result res = {0};
        int rc = store_screen_create(st, &who, ch, NE, scr, &res, &e);
        free(res.issues);
        if (rc != 0)
            die("store_screen_create", &e);
    }
    struct store_change cons[2];
    changes_of(CONSENT, 2, cons);
    struct store_put_result res = {0};
    int rc = store_enroll(st, &who, "SCR-001", cons, 2, id, &res, &e);
    free(res.issues);
    if (rc != 0)
        die("store_enroll", &e);
    store_close(st);
    return db;
}
