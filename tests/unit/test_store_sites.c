/* Sites (store/sites.c): codes unique and checked; a user limited to some sites reads, lists,
 * exports and changes only their records, whichever connection state the write arrives on; a
 * site filter narrows reads; study IDs that carry the site are numbered per site; every change
 * audited with its reason. */
#include "store_test_util.h"

static const struct store_ctx NURSE = {"nurse", "cli", NULL, NULL};

/* A store with sites A and B, a coordinator "nurse" working at A only, and three screened
 * records: SCR-001 at A, SCR-002 at B, SCR-003 at none. */
static void setup(struct tdb *t, const char *name)
{
    tdb_open(t, name);
    struct err e = {0};
    assert_int_equal(store_site_add(t->st, &ADMIN, "A", "Hospital A", &e), 0);
    assert_int_equal(store_site_add(t->st, &ADMIN, "B", "Hospital B", &e), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass-1", &e), 0);
    const char *a[] = {"A"};
    assert_int_equal(store_user_set_sites(t->st, &ADMIN, "nurse", false, a, 1, "works at A", &e),
                     0);
    struct store_change ch[] = {{"screening_arm_1", 0, "age", NULL, "40", NULL}};
    const char *where[] = {"A", "B", NULL};
    for (int i = 0; i < 3; i++) {
        struct store_ctx who = ADMIN;
        who.site = where[i];
        char scr[16];
        if (store_screen_create(t->st, &who, ch, 1, scr, NULL, &e) != 0)
            fail_msg("screen at %s: %s", where[i] ? where[i] : "(none)", e.msg);
    }
}

static int collect_records(void *ctx, const struct store_value *v)
{
    char *seen = ctx;
    if (!strstr(seen, v->record)) {
        strcat(seen, v->record);
        strcat(seen, " ");
    }
    return 0;
}

static int collect_audit_records(void *ctx, const struct store_audit_row *a)
{
    char *seen = ctx;
    const char *rec = a->record ? a->record : "-";
    if (strlen(seen) < 200 && !strstr(seen, rec)) {
        strcat(seen, rec);
        strcat(seen, " ");
    }
    return 0;
}

static void test_codes_are_unique_whatever_the_case_and_checked(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "sites_codes");
    struct err e = {0};
    assert_int_equal(store_site_add(t.st, &ADMIN, "A", "Hospital A", &e), 0);
    assert_int_equal(store_site_add(t.st, &ADMIN, "a", "Another", &e), ERR_CONFLICT);
    assert_string_equal(e.field, "site");
    assert_int_equal(store_site_add(t.st, &ADMIN, "bad-code", "x", &e), ERR_INVALID);
    assert_int_equal(store_site_add(t.st, &ADMIN, "abcdefghijklmnopqrs", "19 chars", &e),
                     ERR_INVALID);
    assert_int_equal(store_site_add(t.st, &ADMIN, "C", "", &e), ERR_INVALID);
    assert_string_equal(e.field, "name");
    struct store_site *v = NULL;
    size_t n = 0;
    assert_int_equal(store_site_list(t.st, &v, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].code, "A");
    assert_string_equal(v[0].name, "Hospital A");
    free(v);
    struct store_site s;
    assert_int_equal(store_site_get(t.st, "a", &s, &e), 0); /* found whatever the case */
    assert_string_equal(s.code, "A");
    assert_int_equal(audit_count(&t, "site_add"), 1);
    tdb_close(&t);
}

struct listed {
    struct store_record *recs;
    size_t n, values;
};

/* store_value_fn: each value's record is in the list already handed over. */
static int value_listed(void *ctx, const struct store_value *v)
{
    struct listed *ls = ctx;
    bool found = false;
    for (size_t i = 0; ls->recs && i < ls->n; i++)
        found |= ls->recs[i].id == v->record_id;
    assert_true(found);
    ls->values++;
    return 0;
}

/* The records whose values the nurse reads (store_study_values) once placed at sites[n], in seen;
 * the nurse is the reader afterwards. */
static const char *values_of_nurse_at(struct tdb *t, const char **sites, size_t n, char *seen)
{
    struct err e = {0};
    assert_int_equal(store_set_reader(t->st, ROLE_ADMIN, "admin", &e), 0);
    assert_int_equal(store_user_set_sites(t->st, &ADMIN, "nurse", false, sites, n, "moved", &e), 0);
    assert_int_equal(store_set_reader(t->st, ROLE_COORDINATOR, "nurse", &e), 0);
    seen[0] = '\0';
    assert_int_equal(store_study_values(t->st, collect_records, seen, &e), 0);
    return seen;
}

static void test_a_user_of_one_site_reads_only_its_records(void **state)
{
    (void)state;
    struct tdb t;
    setup(&t, "sites_read");
    struct err e = {0};
    assert_int_equal(count_records(t.st), 3); /* admin: every record, with or without a site */
    const char *a[] = {"A"};

    assert_int_equal(store_set_reader(t.st, ROLE_COORDINATOR, "nurse", &e), 0);
    assert_int_equal(count_records(t.st), 1);
    struct store_record r;
    assert_int_equal(store_record_get(t.st, "SCR-001", &r, &e), 0);
    assert_string_equal(r.site, "A");
    assert_int_equal(store_record_get(t.st, "SCR-002", &r, &e), ERR_NOT_FOUND);
    assert_int_equal(store_record_get(t.st, "SCR-003", &r, &e), ERR_NOT_FOUND);
    char seen[256] = "";
    assert_int_equal(store_study_values(t.st, collect_records, seen, &e), 0);
    assert_string_equal(seen, "SCR-001 ");
    /* at B only: the values of the records before and after SCR-002 are passed over; at A and
     * B: both, the record without a site still not */
    const char *b[] = {"B"}, *ab[] = {"A", "B"};
    assert_string_equal(values_of_nurse_at(&t, b, 1, seen), "SCR-002 ");
    assert_string_equal(values_of_nurse_at(&t, ab, 2, seen), "SCR-001 SCR-002 ");
    assert_string_equal(values_of_nurse_at(&t, a, 1, seen), "SCR-001 ");
    /* with the records from the same snapshot: the list is there before the first value, and
     * holds the reader's records only */
    struct listed ls = {0};
    assert_int_equal(store_study_records_values(t.st, &ls.recs, &ls.n, value_listed, &ls, &e), 0);
    assert_int_equal(ls.n, 1);
    assert_string_equal(ls.recs[0].screening_no, "SCR-001");
    assert_true(ls.values > 0);
    free(ls.recs);
    /* the audit trail: the rows about site A's records, not the study's own rows */
    char rows[256] = "";
    assert_int_equal(store_audit_foreach(t.st, collect_audit_records, rows, &e), 0);
    assert_string_equal(rows, "SCR-001 ");
    struct store_site *v = NULL;
    size_t n = 0;
    assert_int_equal(store_site_list(t.st, &v, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].code, "A");
    free(v);
    tdb_close(&t);
}

static void test_a_query_on_another_sites_record_is_not_found(void **state)
{
    (void)state;
    struct tdb t;
    setup(&t, "sites_query");
    struct err e = {0};
    assert_int_equal(store_user_add(t.st, &ADMIN, "mon", "monitor", "mon-pass-1", &e), 0);
    const struct store_ctx mon = {"mon", "cli", NULL, NULL};
    long long qa = 0, qb = 0;
    struct store_query_new q = {.record = "SCR-001", .text = "check"};
    assert_int_equal(store_query_open(t.st, &mon, &q, &qa, &e), 0);
    q.record = "SCR-002";
    assert_int_equal(store_query_open(t.st, &mon, &q, &qb, &e), 0);
    assert_int_equal(store_set_reader(t.st, ROLE_COORDINATOR, "nurse", &e), 0);
    struct store_query got;
    assert_int_equal(store_query_get(t.st, qa, &got, &e), 0);
    assert_int_equal(store_query_get(t.st, qb, &got, &e), ERR_NOT_FOUND);
    assert_int_equal(store_query_answer(t.st, &NURSE, qb, "done", NULL, 0, NULL, &e),
                     ERR_NOT_FOUND);
    struct store_query *list = NULL;
    size_t n = 0;
    struct store_query_filter f = {.status = -1};
    assert_int_equal(store_query_list(t.st, &f, &list, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].record, "SCR-001");
    free(list);
    tdb_close(&t);
}

static void test_a_user_of_one_site_changes_only_its_records(void **state)
{
    (void)state;
    struct tdb t;
    setup(&t, "sites_write");
    struct err e = {0};
    /* the connection reads as admin (every site): the write still goes by its writer */
    assert_int_equal(store_set_reader(t.st, ROLE_ADMIN, "admin", &e), 0);
    struct store_change ch[] = {{"screening_arm_1", 0, "age", NULL, "41", NULL}};
    assert_int_equal(store_put_changes(t.st, &NURSE, "SCR-002", ch, 1, NULL, NULL, &e),
                     ERR_NOT_FOUND);
    assert_int_equal(store_put_changes(t.st, &NURSE, "SCR-003", ch, 1, NULL, NULL, &e),
                     ERR_NOT_FOUND);
    assert_int_equal(store_record_lock(t.st, &NURSE, "SCR-002", NULL, &e), ERR_NOT_FOUND);
    char *age = get(&t, "SCR-002", "screening_arm_1", 0, "age", NULL);
    assert_string_equal(age, "40");
    free(age);
    assert_int_equal(store_put_changes(t.st, &NURSE, "SCR-001", ch, 1, NULL, NULL, &e), 0);

    /* a new record goes to the nurse's one site; another site's is refused */
    char scr[16];
    assert_int_equal(store_screen_create(t.st, &NURSE, ch, 1, scr, NULL, &e), 0);
    struct store_record r;
    assert_int_equal(store_record_get(t.st, scr, &r, &e), 0);
    assert_string_equal(r.site, "A");
    struct store_ctx elsewhere = NURSE;
    elsewhere.site = "B";
    assert_int_equal(store_screen_create(t.st, &elsewhere, ch, 1, scr, NULL, &e), ERR_FORBIDDEN);
    assert_string_equal(e.field, "site");
    elsewhere.site = "Z";
    assert_int_equal(store_screen_create(t.st, &elsewhere, ch, 1, scr, NULL, &e), ERR_NOT_FOUND);
    assert_int_equal(count_records(t.st), 4);
    /* a user of no site creates nothing */
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, NULL, 0, "left", &e), 0);
    assert_int_equal(store_screen_create(t.st, &NURSE, ch, 1, scr, NULL, &e), ERR_FORBIDDEN);
    assert_int_equal(count_records(t.st), 4);
    tdb_close(&t);
}

static void test_a_site_filter_narrows_reads(void **state)
{
    (void)state;
    struct tdb t;
    setup(&t, "sites_filter");
    struct err e = {0};
    assert_int_equal(store_set_site_filter(t.st, "b", &e), 0);
    assert_int_equal(count_records(t.st), 1);
    struct store_record r;
    assert_int_equal(store_record_get(t.st, "SCR-002", &r, &e), 0);
    assert_int_equal(store_record_get(t.st, "SCR-001", &r, &e), ERR_NOT_FOUND);
    assert_int_equal(store_set_site_filter(t.st, "nowhere", &e), ERR_NOT_FOUND);
    assert_int_equal(store_set_site_filter(t.st, NULL, &e), 0);
    assert_int_equal(count_records(t.st), 3);
    /* a user of A cannot filter to B */
    assert_int_equal(store_set_reader(t.st, ROLE_COORDINATOR, "nurse", &e), 0);
    assert_int_equal(store_set_site_filter(t.st, "B", &e), ERR_NOT_FOUND);
    tdb_close(&t);
}

static void test_user_sites_and_moves_are_audited_with_a_reason(void **state)
{
    (void)state;
    struct tdb t;
    setup(&t, "sites_audit");
    struct err e = {0};
    const char *b[] = {"B", "A"};
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, b, 2, NULL, &e),
                     ERR_REASON_REQUIRED);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, b, 2, "covers B", &e), 0);
    assert_int_equal(store_user_set_sites(t.st, &ADMIN, "nurse", false, b, 2, "again", &e),
                     ERR_CONFLICT);
    bool all = true;
    struct store_site *v = NULL;
    size_t n = 0;
    assert_int_equal(store_user_sites(t.st, "nurse", &all, &v, &n, &e), 0);
    assert_false(all);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].code, "A");
    assert_string_equal(v[1].code, "B");
    free(v);
    assert_int_equal(audit_count(&t, "user_sites"), 2);

    assert_int_equal(store_site_move(t.st, &ADMIN, "SCR-003", "B", NULL, &e), ERR_REASON_REQUIRED);
    assert_int_equal(store_site_move(t.st, &ADMIN, "SCR-003", "B", "referred from B", &e), 0);
    assert_int_equal(store_site_move(t.st, &ADMIN, "SCR-003", "B", "again", &e), ERR_CONFLICT);
    struct store_record r;
    assert_int_equal(store_record_get(t.st, "SCR-003", &r, &e), 0);
    assert_string_equal(r.site, "B");
    /* screening at a site writes record_site too: two creations plus this move */
    assert_int_equal(audit_count(&t, "record_site"), 3);
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t.st, &vr, &e), 0);
    tdb_close(&t);
}

/* A copy of the fixture protocol whose study IDs carry the site. */
static void site_protocol(char dir[256])
{
    snprintf(dir, 256, "store_test_sites_proto_%ld", (long)getpid());
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && cp -r %s %s && printf 'key,value\\n"
             "study_id_format,IOH-{site}-{seq:3}\\n' > %s/study.csv",
             dir, fixture_dir(), dir, dir);
    assert_int_equal(system(cmd), 0);
}

static void test_study_ids_carry_the_site_and_count_per_site(void **state)
{
    (void)state;
    char dir[256];
    site_protocol(dir);
    struct tdb t;
    memset(&t, 0, sizeof t);
    snprintf(t.path, sizeof t.path, "store_test_sites_ids_%ld.db", (long)getpid());
    tdb_remove(t.path);
    struct err e = {0};
    if (store_create(t.path, dir, "admin", ADMIN_PW, &t.st, &e) != 0)
        fail_msg("store_create: %s", e.msg);
    assert_int_equal(store_site_add(t.st, &ADMIN, "02", "Hospital 2", &e), 0);
    assert_int_equal(store_site_add(t.st, &ADMIN, "07", "Hospital 7", &e), 0);
    /* a code that would make a study ID over 15 characters */
    assert_int_equal(store_site_add(t.st, &ADMIN, "LONGSITECODE", "x", &e), ERR_INVALID);
    struct store_change ch[] = {{"screening_arm_1", 0, "age", NULL, "40", NULL},
                                {"screening_arm_1", 0, "heme", NULL, "1", NULL},
                                {"screening_arm_1", 0, "cats", "1", "1", NULL},
                                {"screening_arm_1", 0, "cons_type", NULL, "1", NULL}};
    char scr[16];
    /* the IDs carry the site: a record without one is refused */
    assert_int_equal(store_screen_create(t.st, &ADMIN, ch, 3, scr, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "site");
    const char *where[] = {"02", "07", "02"};
    const char *want[] = {"IOH-02-001", "IOH-07-001", "IOH-02-002"};
    for (int i = 0; i < 3; i++) {
        struct store_ctx who = ADMIN;
        who.site = where[i];
        assert_int_equal(store_screen_create(t.st, &who, ch, 3, scr, NULL, &e), 0);
        char id[16];
        if (store_enroll(t.st, &ADMIN, scr, ch + 3, 1, id, NULL, &e) != 0)
            fail_msg("enrol: %s", e.msg);
        assert_string_equal(id, want[i]);
    }
    /* an enrolled record's ID names its site: it does not move */
    assert_int_equal(store_site_move(t.st, &ADMIN, "IOH-07-001", "02", "wrong site", &e),
                     ERR_CONFLICT);
    tdb_close(&t);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_are_unique_whatever_the_case_and_checked),
        cmocka_unit_test(test_a_user_of_one_site_reads_only_its_records),
        cmocka_unit_test(test_a_user_of_one_site_changes_only_its_records),
        cmocka_unit_test(test_a_query_on_another_sites_record_is_not_found),
        cmocka_unit_test(test_a_site_filter_narrows_reads),
        cmocka_unit_test(test_user_sites_and_moves_are_audited_with_a_reason),
        cmocka_unit_test(test_study_ids_carry_the_site_and_count_per_site),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
