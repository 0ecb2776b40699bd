/* Queries: raise / answer / close / reopen with their permissions, transitions and audit rows;
 * the write path's system queries on soft flags and value-change links. Fixture protocol:
 * tests/fixtures/store/ (sbp: integer 40..250, soft; weight_kg 30..250). */
#include "store_test_util.h"

#define D0 "day0_arm_1"
#define D1 "day1_arm_1"

static const struct store_ctx MON = {"mon", "cli", NULL, NULL};
static const struct store_ctx NURSE = {"nurse", "cli", NULL, NULL};

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "queries");
    char scr[16], id[16];
    screen(t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "mon", "monitor", "monitor-pass", NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass-1", NULL),
                     0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

static int put1(struct tdb *t, const struct store_ctx *who, const char *ev, const char *field,
                const char *value, const char *reason)
{
    struct store_change c = {ev, 0, field, NULL, value, NULL};
    struct err e = {0};
    return store_put_changes(t->st, who, "SCR-001", &c, 1, reason, NULL, &e);
}

static size_t list(struct tdb *t, const struct store_query_filter *f, struct store_query **qs)
{
    size_t n = 0;
    struct err e = {0};
    assert_int_equal(store_query_list(t->st, f, qs, &n, &e), 0);
    return n;
}

static void test_soft_flag_opens_one_system_query_and_correction_answers_it(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(put1(t, &NURSE, D0, "sbp", "300", NULL), 0); /* above 250: soft flag */
    struct store_query *qs = NULL;
    struct store_query_filter live = {.status = -1, .is_live = true};
    assert_int_equal(list(t, &live, &qs), 1);
    assert_true(qs[0].is_system);
    assert_string_equal(qs[0].rule, "max");
    assert_string_equal(qs[0].raised_value, "300");
    assert_string_equal(qs[0].field, "sbp");
    assert_string_equal(qs[0].event, D0);
    assert_string_equal(qs[0].form, "vitals");
    assert_int_equal(qs[0].status, STORE_QUERY_OPEN);
    long long id = qs[0].id;
    free(qs);
    /* a second out-of-range value on the same field adds to the thread, no second query */
    assert_int_equal(put1(t, &NURSE, D0, "sbp", "320", NULL), 0);
    assert_int_equal(list(t, &live, &qs), 1);
    assert_int_equal(qs[0].nmessages, 2);
    free(qs);
    /* an in-range correction: the system query is answered, waiting for the monitor */
    assert_int_equal(put1(t, &NURSE, D0, "sbp", "130", NULL), 0);
    struct store_query q;
    assert_int_equal(store_query_get(t->st, id, &q, NULL), 0);
    assert_int_equal(q.status, STORE_QUERY_ANSWERED);
    struct store_query_message *ms = NULL;
    size_t nm = 0;
    assert_int_equal(store_query_messages(t->st, id, &ms, &nm, NULL), 0);
    assert_int_equal(nm, 3);
    assert_string_equal(ms[2].action, "value_change");
    assert_true(ms[2].has_values);
    assert_string_equal(ms[2].old_value, "320");
    assert_string_equal(ms[2].new_value, "130");
    free(ms);
    assert_int_equal(audit_count(t, "query_open"), 1);
    assert_int_equal(audit_count(t, "query_answer"), 1);
    /* a value without a flag on another field opens nothing */
    assert_int_equal(put1(t, &NURSE, D1, "sbp", "120", NULL), 0);
    assert_int_equal(list(t, &live, &qs), 1);
    free(qs);
}

static void test_lifecycle_permissions_and_transitions(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(put1(t, &NURSE, D0, "weight_kg", "70.5", NULL), 0);
    struct store_query_new nq = {.record = "IOH-001",
                                 .event = "day0",
                                 .field = "weight_kg",
                                 .text = "weight 70.5 kg? the chart says 75"};
    long long id = 0;
    struct err e = {0};
    /* a coordinator may not raise; the refusal is audited */
    int denied = audit_count(t, "denied");
    assert_int_equal(store_query_open(t->st, &NURSE, &nq, &id, &e), ERR_FORBIDDEN);
    assert_int_equal(audit_count(t, "denied"), denied + 1);
    assert_int_equal(store_query_open(t->st, &MON, &nq, &id, &e), 0);
    struct store_query q;
    assert_int_equal(store_query_get(t->st, id, &q, NULL), 0);
    assert_string_equal(q.raised_value, "70.5");
    assert_string_equal(q.event, D0);
    assert_string_equal(q.form, "baseline");
    assert_false(q.is_system);
    /* waiting for the nurse (unassigned, her role may answer), not for the monitor */
    struct store_query *qs = NULL;
    struct store_query_filter mine = {.status = -1, .is_live = true, .waiting_for = "nurse"};
    assert_int_equal(list(t, &mine, &qs), 1);
    free(qs);
    mine.waiting_for = "mon";
    assert_int_equal(list(t, &mine, &qs), 0);
    free(qs);
    /* the monitor cannot answer, the nurse cannot close; nothing changes */
    assert_int_equal(store_query_answer(t->st, &MON, id, "x", NULL, 0, NULL, &e), ERR_FORBIDDEN);
    assert_int_equal(store_query_close(t->st, &NURSE, id, NULL, &e), ERR_FORBIDDEN);
    /* answering needs a message */
    assert_int_equal(store_query_answer(t->st, &NURSE, id, "", NULL, 0, NULL, &e), ERR_INVALID);
    /* answered by correcting the value: one transaction, reason links the change */
    struct store_change fix = {D0, 0, "weight_kg", NULL, "75", NULL};
    assert_int_equal(
        store_query_answer(t->st, &NURSE, id, "transcription error", &fix, 1, NULL, &e), 0);
    char *v = get(t, "IOH-001", D0, 0, "weight_kg", NULL);
    assert_string_equal(v, "75");
    free(v);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM audit WHERE action = 'update' AND "
                                     "field = 'weight_kg' AND reason LIKE 'query % transcription "
                                     "error' AND new_value = '75'"),
                     1);
    assert_int_equal(store_query_get(t->st, id, &q, NULL), 0);
    assert_int_equal(q.status, STORE_QUERY_ANSWERED);
    /* a bad correction refuses the whole answer: value and status unchanged */
    struct store_change bad = {D0, 0, "weight_kg", NULL, "heavy", NULL};
    assert_int_equal(store_query_answer(t->st, &NURSE, id, "again", &bad, 1, NULL, &e),
                     ERR_INVALID);
    assert_int_equal(store_query_get(t->st, id, &q, NULL), 0);
    assert_int_equal(q.nmessages, 3); /* open, value_change, answer */
    /* reopen only when closed; close; reopen */
    assert_int_equal(store_query_reopen(t->st, &MON, id, "why?", &e), ERR_CONFLICT);
    assert_int_equal(store_query_close(t->st, &MON, id, NULL, &e), 0);
    assert_int_equal(store_query_close(t->st, &MON, id, NULL, &e), ERR_CONFLICT);
    assert_int_equal(store_query_answer(t->st, &NURSE, id, "late", NULL, 0, NULL, &e),
                     ERR_CONFLICT);
    assert_int_equal(store_query_reopen(t->st, &MON, id, "the chart was for another patient", &e),
                     0);
    assert_int_equal(store_query_get(t->st, id, &q, NULL), 0);
    assert_int_equal(q.status, STORE_QUERY_OPEN);
    assert_int_equal(audit_count(t, "query_close"), 1);
    assert_int_equal(audit_count(t, "query_reopen"), 1);
    /* every action above is in the chain */
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, &e), 0);
}

static void test_open_checks_place_and_assignee(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    long long id;
    struct store_query_new q = {
        .record = "IOH-001", .event = "day0", .field = "nosuch", .text = "?"};
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_INVALID);
    assert_string_equal(e.field, "field");
    q = (struct store_query_new){
        .record = "IOH-001", .event = "day1", .field = "weight_kg", .text = "?"};
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_INVALID); /* not on day 1 */
    assert_string_equal(e.field, "event");
    q = (struct store_query_new){
        .record = "IOH-001", .event = "day0", .form = "attempt", .instance = 0, .text = "?"};
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_INVALID); /* repeats: >= 1 */
    assert_string_equal(e.field, "instance");
    q.instance = 2;
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), 0); /* a form query */
    q = (struct store_query_new){
        .record = "IOH-001", .text = "consent copy missing", .assignee = "role:monitor"};
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_INVALID); /* cannot answer */
    q.assignee = "nurse";
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), 0); /* a record query */
    struct store_query sq;
    assert_int_equal(store_query_get(t->st, id, &sq, NULL), 0);
    assert_string_equal(sq.event, "");
    assert_string_equal(sq.assignee, "nurse");
    q.record = "IOH-404";
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_NOT_FOUND);
    char big[STORE_QUERY_TEXT_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    q.record = "IOH-001";
    q.text = big;
    assert_int_equal(store_query_open(t->st, &MON, &q, &id, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_soft_flag_opens_one_system_query_and_correction_answers_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_permissions_and_transitions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_checks_place_and_assignee, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
