/* Electronic signatures: the password again (a failure counts toward the lockout), the role of
 * the meaning, the content hash bound to the record, invalidation by a later change (value or
 * form status) in the same transaction with its audit row, and the check that finds data
 * changed behind the store's back. Fixture: tests/fixtures/store/signatures.csv. */
#include "store_test_util.h"

#define D0 "day0_arm_1"
#define INV_PW "investigator-pw"

static const struct store_ctx INV = {"inv", "cli", NULL, NULL};
static const struct store_ctx NURSE = {"nurse", "cli", NULL, NULL};

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "signatures");
    char scr[16], id[16];
    screen(t, scr, "age", "40", "sex", "1", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "inv", "investigator", INV_PW, NULL), 0);
    assert_int_equal(store_user_set_full_name(t->st, &ADMIN, "inv", "Dr Ann Example", NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass-1", NULL),
                     0);
    struct store_change c = {D0, 0, "weight_kg", NULL, "70.5", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &c, 1, NULL, NULL, NULL), 0);
    *state = t;
    return 0;
}

/* Every form holding data marked complete: what a casebook signature needs. */
static int complete_forms(void **state)
{
    setup(state);
    struct tdb *t = *state;
    struct store_change c[] = {{"screening_arm_1", 0, "screening_complete", NULL, "2", NULL},
                               {"screening_arm_1", 0, "consent_complete", NULL, "2", NULL},
                               {D0, 0, "height_cm", NULL, "170", NULL},
                               {D0, 0, "baseline_complete", NULL, "2", NULL}};
    struct err e = {0};
    if (store_put_changes(t->st, &NURSE, "IOH-001", c, 4, NULL, NULL, &e))
        fail_msg("completing the forms: %s", e.msg);
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

static void test_sign_binds_content_and_a_change_invalidates(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    long long id = 0;
    /* the role of the meaning signs, with the password again */
    assert_int_equal(
        store_sign(t->st, &NURSE, "nurse-pass-1", "casebook_review", "IOH-001", &id, &e),
        ERR_FORBIDDEN);
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "nosuch", "IOH-001", &id, &e), ERR_INVALID);
    assert_string_equal(e.field, "meaning");
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", NULL, &id, &e),
                     ERR_INVALID); /* which record? */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "db_lock_approval", "IOH-001", &id, &e),
                     ERR_INVALID); /* a study meaning */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", "IOH-001", &id, &e), 0);
    struct store_signature *g = NULL;
    size_t n = 0;
    assert_int_equal(store_signatures(t->st, "IOH-001", &g, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_true(g[0].is_valid);
    assert_string_equal(g[0].printed_name, "Dr Ann Example");
    assert_string_equal(g[0].signer, "inv");
    char now[65];
    assert_int_equal(store_record_content_sha256(t->st, "IOH-001", now, NULL), 0);
    assert_string_equal(g[0].content_sha256, now);
    free(g);
    assert_int_equal(audit_count(t, "sign"), 1);
    size_t nv, ni, nb;
    assert_int_equal(store_signatures_verify(t->st, &nv, &ni, &nb, &e), 0);
    assert_int_equal(nv, 1);
    /* a refused change set invalidates nothing */
    struct store_change bad = {D0, 0, "weight_kg", NULL, "heavy", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &bad, 1, NULL, NULL, &e),
                     ERR_INVALID);
    assert_int_equal(audit_count(t, "signature_invalid"), 0);
    /* a form status is part of the casebook: changing it invalidates */
    struct store_change st = {D0, 0, "baseline_complete", NULL, "1", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &st, 1, "reopened", NULL, &e), 0);
    assert_int_equal(audit_count(t, "signature_invalid"), 1);
    assert_int_equal(store_signatures(t->st, "IOH-001", &g, &n, NULL), 0);
    assert_false(g[0].is_valid);
    assert_non_null(strstr(g[0].invalidated_reason, "baseline_complete"));
    free(g);
    /* a casebook with a form not complete is not signed (P11-15) */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", "IOH-001", &id, &e),
                     ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "baseline"));
    struct store_change done = {D0, 0, "baseline_complete", NULL, "2", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &done, 1, NULL, NULL, &e), 0);
    /* signed again: valid; a value change invalidates it too, once */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", "IOH-001", &id, &e), 0);
    struct store_change c = {D0, 0, "weight_kg", NULL, "71", NULL};
    assert_int_equal(store_put_changes(t->st, &NURSE, "IOH-001", &c, 1, "source", NULL, &e), 0);
    assert_int_equal(audit_count(t, "signature_invalid"), 2);
    assert_int_equal(store_signatures_verify(t->st, &nv, &ni, &nb, &e), 0);
    assert_int_equal(ni, 2);
    /* signed again, then the data changed behind the store's back: verify finds it */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", "IOH-001", &id, &e), 0);
    db_exec(t->path, "UPDATE value SET value = '99' WHERE field = 'weight_kg'");
    assert_int_equal(store_signatures_verify(t->st, &nv, &ni, &nb, &e), ERR_INTEGRITY);
    assert_int_equal(nb, 1);
}

static void test_wrong_password_counts_toward_lockout(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    long long id;
    for (int i = 0; i < STORE_MAX_FAILED_LOGINS; i++)
        assert_int_equal(
            store_sign(t->st, &INV, "not-my-password", "casebook_review", "IOH-001", &id, &e),
            ERR_AUTH);
    assert_int_equal(audit_count(t, "lockout"), 1);
    /* locked out: even the right password no longer signs */
    assert_int_equal(store_sign(t->st, &INV, INV_PW, "casebook_review", "IOH-001", &id, &e),
                     ERR_AUTH);
    assert_int_equal(audit_count(t, "sign"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sign_binds_content_and_a_change_invalidates,
                                        complete_forms, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_counts_toward_lockout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
