/* The one write path: validation, atomicity, reasons on complete forms, calc recomputation,
 * instance rules, audit rows per change, batches. Fixture protocol: tests/fixtures/store/. */
#include "store_test_util.h"

#define D0 "day0_arm_1"
#define D1 "day1_arm_1"

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "write");
    char scr[16];
    screen(t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_string_equal(scr, "SCR-001");
    char id[16];
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

static int put(struct tdb *t, const struct store_change *c, size_t n, const char *reason,
               struct store_put_result *res, struct err *e)
{
    return store_put_changes(t->st, &ADMIN, "SCR-001", c, n, reason, res, e);
}

/* The schema's CHECK constraints hold on both backends (PostgreSQL gets them from the SQLite
 * schema): what the write path never does is refused by the database too. */
static void test_schema_checks_hold_on_the_database(void **state)
{
    struct tdb *t = *state;
    /* SQLite says "CHECK constraint failed: ...", PostgreSQL "... violates check constraint" */
    const char *check = strstr(t->path, "://") ? "violates check constraint" : "CHECK constraint";
    db_exec_refused(t->path, "UPDATE value SET instance = -1", check);
    db_exec_refused(t->path, "UPDATE record SET status = 9", check);
    db_exec_refused(t->path, "UPDATE record SET eligible = 2", check);
    db_exec_refused(t->path, "UPDATE \"user\" SET is_disabled = 2", check);
    db_exec_refused(t->path, "INSERT INTO audit_head(one, last_id, hash) VALUES (2, 0, '')", check);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM value WHERE instance < 0"), 0);
}

static void test_valid_values_are_saved_and_audited(void **state)
{
    struct tdb *t = *state;
    int before = audit_count(t, "update");
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70.5", NULL},
                               {D0, 0, "height_cm", NULL, "175", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(put(t, c, 2, NULL, &res, &e), 0);
    assert_int_equal(res.nchanged, 2);
    assert_int_equal(res.nissues, 0);
    assert_int_equal(audit_count(t, "update"), before + 2);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "70.5");
    store_put_result_free(&res);
}

static void test_hard_error_blocks_whole_set_and_names_field_rule_value(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70.5", NULL},
                               {D0, 0, "height_cm", NULL, "tall", NULL},
                               {D0, 0, "height_cm", NULL, "300", NULL} /* @FORCE-MINMAX: hard */};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(put(t, c, 3, NULL, &res, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "height_cm"));
    assert_non_null(strstr(e.msg, "tall"));
    assert_non_null(strstr(e.msg, "rule: integer"));
    assert_string_equal(e.field, "height_cm");
    /* every hard error is reported, each with its rule */
    assert_int_equal(res.nissues, 2);
    assert_int_equal(res.issues[0].level, STORE_ISSUE_HARD);
    assert_string_equal(res.issues[0].rule, "integer");
    assert_int_equal(res.issues[0].change_index, 1);
    assert_string_equal(res.issues[1].rule, "max");
    assert_string_equal(res.issues[1].value, "300");
    /* the valid weight in the same set was not saved */
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, NULL);
    store_put_result_free(&res);
}

static void test_rejected_change_set_leaves_db_unchanged(void **state)
{
    struct tdb *t = *state;
    struct store_change ok[] = {{D0, 0, "weight_kg", NULL, "80", NULL}};
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    char before[65], after[65];
    db_digest(t->path, before);
    struct store_change bad[] = {{D0, 0, "weight_kg", NULL, "81", NULL},
                                 {D0, 0, "height_cm", NULL, "180", NULL},
                                 {D0, 1, "att_ok", NULL, "1", NULL},
                                 {D0, 0, "no_such_field", NULL, "1", NULL}};
    struct err e = {0};
    assert_int_equal(put(t, bad, 4, NULL, NULL, &e), ERR_INVALID);
    db_digest(t->path, after);
    assert_string_equal(before, after);
}

static void test_soft_out_of_range_is_saved_and_flagged(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "260", NULL}}; /* max 250, soft */
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, c, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nissues, 1);
    assert_int_equal(res.issues[0].level, STORE_ISSUE_SOFT);
    assert_string_equal(res.issues[0].rule, "max");
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "260");
    store_put_result_free(&res);
}

/* A change that makes branching logic hide a field holding a value is refused, naming the field
 * by its label and saying how to proceed; clearing the value in the same change is accepted and
 * audited; a value on a field hidden already is refused; the answer cascades (clearing the
 * reason hides "other reason"). */
static void test_value_hidden_by_branching_is_refused_unless_cleared(void **state)
{
    struct tdb *t = *state;
    struct store_change fail[] = {{D0, 1, "att_ok", NULL, "0", NULL},
                                  {D0, 1, "att_fail_reason", NULL, "2", NULL},
                                  {D0, 1, "att_fail_oth", NULL, "bent needle", NULL}};
    assert_int_equal(put(t, fail, 3, NULL, NULL, NULL), 0);
    char before[65], after[65];
    db_digest(t->path, before);
    struct store_change success[] = {{D0, 1, "att_ok", NULL, "1", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(put(t, success, 1, NULL, &res, &e), ERR_INVALID);
    assert_string_equal(e.field, "att_fail_reason");
    assert_non_null(strstr(e.msg, "'Reason for failure' (att_fail_reason)"));
    assert_non_null(strstr(e.msg, "holds '2'"));
    assert_non_null(strstr(e.msg, "att_fail_reason="));
    assert_non_null(strstr(e.msg, "rule: hidden"));
    assert_int_equal(res.nissues, 1);
    assert_string_equal(res.issues[0].rule, "hidden");
    assert_string_equal(res.issues[0].field, "att_fail_reason");
    assert_string_equal(res.issues[0].value, "2");
    assert_int_equal(res.issues[0].change_index, 0);
    store_put_result_free(&res);
    db_digest(t->path, after);
    assert_string_equal(before, after); /* nothing saved, no audit row */
    /* clearing only the reason hides "other reason", which holds a value: refused too */
    struct store_change half[] = {{D0, 1, "att_ok", NULL, "1", NULL},
                                  {D0, 1, "att_fail_reason", NULL, "", NULL}};
    store_put_result_init(&res);
    assert_int_equal(put(t, half, 2, NULL, &res, &e), ERR_INVALID);
    assert_int_equal(res.nissues, 1);
    assert_string_equal(res.issues[0].field, "att_fail_oth");
    store_put_result_free(&res);
    db_digest(t->path, after);
    assert_string_equal(before, after);
    /* the new answer with every value it hides cleared: saved, each clearing audited */
    int updates = audit_count(t, "update");
    struct store_change all[] = {{D0, 1, "att_ok", NULL, "1", NULL},
                                 {D0, 1, "att_fail_reason", NULL, "", NULL},
                                 {D0, 1, "att_fail_oth", NULL, "", NULL}};
    assert_int_equal(put(t, all, 3, "source: procedure note", NULL, &e), 0);
    assert_int_equal(audit_count(t, "update"), updates + 3);
    assert_value(t, "SCR-001", D0, 1, "att_fail_reason", NULL, NULL);
    assert_value(t, "SCR-001", D0, 1, "att_fail_oth", NULL, NULL);
    /* a value on a field its logic hides is refused */
    struct store_change onhidden[] = {{D0, 1, "att_fail_reason", NULL, "1", NULL}};
    assert_int_equal(put(t, onhidden, 1, NULL, NULL, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "cannot be saved"));
    assert_value(t, "SCR-001", D0, 1, "att_fail_reason", NULL, NULL);
    /* and an answer and the value it shows, in one change, are fine */
    struct store_change both[] = {{D0, 1, "att_ok", NULL, "0", NULL},
                                  {D0, 1, "att_fail_reason", NULL, "1", NULL}};
    assert_int_equal(put(t, both, 2, NULL, NULL, &e), 0);
}

/* A hidden value stored before the rule (an older ioheme, a raw import) does not block saves
 * that do not touch what hides it; a change to what hides it must clear it. */
static void test_legacy_hidden_value_blocks_only_changes_to_its_logic(void **state)
{
    struct tdb *t = *state;
    struct store_change ok[] = {{D0, 1, "att_ok", NULL, "1", NULL}};
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    db_exec(t->path, "INSERT INTO value(record_id, event, instance, field, code, form, value) "
                     "VALUES (1, 'day0_arm_1', 1, 'att_fail_reason', '', 'attempt', '1')");
    struct store_change other[] = {{D0, 1, "att_time_s", NULL, "45", NULL}};
    struct err e = {0};
    assert_int_equal(put(t, other, 1, NULL, NULL, &e), 0);
    struct store_change again[] = {{D0, 1, "att_ok", NULL, "", NULL}};
    assert_int_equal(put(t, again, 1, NULL, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "att_fail_reason");
}

/* A soft (range) issue says whether its value was saved: a refused set saved nothing. */
static void test_soft_issue_of_a_refused_set_says_not_saved(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "260", NULL}, /* soft: max 250 */
                               {D0, 0, "height_cm", NULL, "tall", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, c, 2, NULL, &res, NULL), ERR_INVALID);
    assert_int_equal(res.nissues, 2);
    assert_int_equal(res.issues[0].level, STORE_ISSUE_SOFT);
    assert_non_null(strstr(res.issues[0].msg, "not saved"));
    assert_null(strstr(res.issues[0].msg, "; saved"));
    store_put_result_free(&res);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, NULL);
    store_put_result_init(&res);
    assert_int_equal(put(t, c, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nissues, 1);
    assert_non_null(strstr(res.issues[0].msg, "(flagged for review); saved"));
    store_put_result_free(&res);
}

static int find_flag(void *ctx, const struct store_value *v)
{
    if (strcmp(v->field, "weight_kg") == 0)
        snprintf(ctx, 16, "%s", v->flag ? v->flag : "");
    return 0;
}

static void test_soft_flag_is_stored_for_review(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "20", NULL}};
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    char flag[16] = "?";
    assert_int_equal(store_record_values(t->st, "SCR-001", find_flag, flag, NULL), 0);
    assert_string_equal(flag, "min");
}

static void test_calc_is_recomputed_and_audited_as_calc(void **state)
{
    struct tdb *t = *state;
    int before = audit_count(t, "calc");
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "72", NULL},
                               {D0, 0, "height_cm", NULL, "180", NULL}};
    assert_int_equal(put(t, c, 2, NULL, NULL, NULL), 0);
    /* 72 / 1.8^2 = 22.22… -> 22.2 */
    assert_value(t, "SCR-001", D0, 0, "bmi", NULL, "22.2");
    assert_int_equal(audit_count(t, "calc"), before + 1);
    struct store_change c2[] = {{D0, 0, "weight_kg", NULL, "", NULL}};
    assert_int_equal(put(t, c2, 1, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "bmi", NULL, NULL); /* blank input -> blank calc */
}

static void test_calc_is_not_the_first_value_of_an_empty_form(void **state)
{
    struct tdb *t = *state;
    /* vitals_done is 0 when sbp is blank: it must not appear on vitals forms nobody filled */
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL},
                               {D0, 1, "att_ok", NULL, "1", NULL}};
    assert_int_equal(put(t, c, 2, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "vitals_done", NULL, NULL);
    struct store_change v[] = {{D0, 0, "sbp", NULL, "110", NULL}};
    assert_int_equal(put(t, v, 1, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "vitals_done", NULL, "1");
    assert_value(t, "SCR-001", D1, 0, "vitals_done", NULL, NULL);
    struct store_change clear[] = {{D0, 0, "sbp", NULL, "", NULL}};
    assert_int_equal(put(t, clear, 1, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "vitals_done", NULL, "0");
}

static void test_calc_cannot_be_written(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "bmi", NULL, "25", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, c, 1, NULL, &res, NULL), ERR_INVALID);
    assert_string_equal(res.issues[0].rule, "calc");
    store_put_result_free(&res);
}

static void test_cross_event_calc_follows_its_reference(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "sbp", NULL, "100", NULL},
                               {D1, 0, "sbp", NULL, "130", NULL}};
    assert_int_equal(put(t, c, 2, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D1, 0, "sbp_change", NULL, "30");
    /* changing day 0 only recomputes day 1's calc */
    struct store_change c2[] = {{D0, 0, "sbp", NULL, "90", NULL}};
    assert_int_equal(put(t, c2, 1, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D1, 0, "sbp_change", NULL, "40");
}

static void test_unchanged_value_writes_no_audit_row(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL}};
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    int before = audit_count(t, NULL);
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, c, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nchanged, 0);
    assert_int_equal(res.nunchanged, 1);
    assert_int_equal(audit_count(t, NULL), before);
    store_put_result_free(&res);
}

static void test_reason_required_on_complete_form(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL},
                               {D0, 0, "height_cm", NULL, "170", NULL},
                               {D0, 0, "baseline_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, c, 3, NULL, NULL, NULL), 0);
    int st = -2;
    assert_int_equal(store_form_status(t->st, "SCR-001", D0, "baseline", 0, &st, NULL), 0);
    assert_int_equal(st, 2);
    struct store_change fix[] = {{D0, 0, "weight_kg", NULL, "71", NULL}};
    struct err e = {0};
    assert_int_equal(put(t, fix, 1, NULL, NULL, &e), ERR_REASON_REQUIRED);
    assert_string_equal(e.field, "weight_kg");
    assert_int_equal(put(t, fix, 1, "", NULL, &e), ERR_REASON_REQUIRED);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "70");
    assert_int_equal(put(t, fix, 1, "transcription error", NULL, &e), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "71");
    /* an unchanged value on a complete form needs no reason */
    assert_int_equal(put(t, fix, 1, NULL, NULL, &e), 0);
}

/* store_change.expect: a change made on what the writer saw. When another save changed the value
 * meanwhile, the change set is refused whole (ERR_CONFLICT, a "conflict" issue per value) and
 * nothing is written; a change that leaves the stored value as it is, or that saw it right, goes
 * through. A conflict is reported before a missing reason (a reason would not help). */
static void test_expected_value_refuses_a_lost_update(void **state)
{
    struct tdb *t = *state;
    struct store_change first[] = {{D0, 0, "weight_kg", NULL, "70", ""}}; /* none stored yet */
    assert_int_equal(put(t, first, 1, NULL, NULL, NULL), 0);
    struct store_change other[] = {{D0, 0, "weight_kg", NULL, "71", "70"}}; /* saw 70: right */
    assert_int_equal(put(t, other, 1, NULL, NULL, NULL), 0);
    int before = audit_count(t, NULL);
    /* a form opened when it said 70: its 72, and its height, are not saved */
    struct store_change stale[] = {{D0, 0, "height_cm", NULL, "170", ""},
                                   {D0, 0, "weight_kg", NULL, "72", "70"}};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(put(t, stale, 2, NULL, &res, &e), ERR_CONFLICT);
    assert_string_equal(e.field, "weight_kg");
    assert_non_null(strstr(e.msg, "changed by another save since this form was opened"));
    assert_int_equal(res.nissues, 1);
    assert_string_equal(res.issues[0].rule, "conflict");
    assert_string_equal(res.issues[0].field, "weight_kg");
    store_put_result_free(&res);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "71");
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM value WHERE field = 'height_cm'"), 0);
    assert_int_equal(audit_count(t, NULL), before);
    /* the same value as the other save's: nothing to overwrite, no conflict */
    struct store_change same[] = {{D0, 0, "weight_kg", NULL, "71", "70"}};
    assert_int_equal(put(t, same, 1, NULL, NULL, NULL), 0);
    /* a form status is judged the same way */
    struct store_change box[] = {{D0, 0, "baseline_complete", NULL, "2", "1"}};
    assert_int_equal(put(t, box, 1, NULL, NULL, &e), ERR_CONFLICT);
    assert_string_equal(e.field, "baseline_complete");
    /* on a complete form, the conflict is what is said, not the missing reason */
    struct store_change done[] = {{D0, 0, "height_cm", NULL, "170", NULL},
                                  {D0, 0, "baseline_complete", NULL, "2", ""}};
    assert_int_equal(put(t, done, 2, NULL, NULL, NULL), 0);
    store_put_result_init(&res);
    assert_int_equal(put(t, stale, 2, NULL, &res, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "weight_kg"));
    store_put_result_free(&res);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "71");
}

/* The actions a save needs beyond entering data are decided in the write path, where the
 * stored status is read, for every door alike: setting a form's status needs form_status,
 * changing a complete form needs reason_change (core/perm.h: monitor and statistician hold
 * neither; the clinical roles both). A refusal saves nothing, is a typed ERR_FORBIDDEN with a
 * "permission" issue naming the action in words, and is audited as "denied". */
static void test_status_and_complete_form_changes_need_their_permission(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_user_add(t->st, &ADMIN, "mon", "monitor", "monitor-pw", NULL), 0);
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass", NULL), 0);
    const struct store_ctx mon = {"mon", "cli", NULL, NULL}, nurse = {"nurse", "cli", NULL, NULL};
    struct store_change status[] = {{D0, 0, "weight_kg", NULL, "70", NULL},
                                    {D0, 0, "height_cm", NULL, "170", NULL},
                                    {D0, 0, "baseline_complete", NULL, "2", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    struct err e = {0};
    assert_int_equal(store_put_changes(t->st, &mon, "SCR-001", status, 3, NULL, &res, &e),
                     ERR_FORBIDDEN);
    assert_string_equal(e.field, "baseline_complete");
    assert_non_null(strstr(e.msg, "may not mark forms complete or incomplete (form_status)"));
    assert_int_equal(res.nissues, 1);
    assert_string_equal(res.issues[0].rule, "permission");
    store_put_result_free(&res);
    assert_int_equal(audit_count(t, "denied"), 1);
    /* nothing of the set was saved (the denied row aside) */
    assert_null(get(t, "SCR-001", D0, 0, "weight_kg", NULL));

    assert_int_equal(store_put_changes(t->st, &nurse, "SCR-001", status, 3, NULL, NULL, &e), 0);
    /* the form is complete: a monitor's correction needs reason_change, even with a reason */
    struct store_change fix[] = {{D0, 0, "weight_kg", NULL, "71", NULL}};
    assert_int_equal(store_put_changes(t->st, &mon, "SCR-001", fix, 1, "source says 71", NULL, &e),
                     ERR_FORBIDDEN);
    assert_non_null(strstr(e.msg, "may not change data on a complete form (reason_change)"));
    assert_int_equal(audit_count(t, "denied"), 2);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "70");
    /* the coordinator may, with the reason; an unchanged value needs no permission at all */
    assert_int_equal(
        store_put_changes(t->st, &nurse, "SCR-001", fix, 1, "source says 71", NULL, &e), 0);
    assert_int_equal(store_put_changes(t->st, &mon, "SCR-001", fix, 1, NULL, NULL, &e), 0);
    /* inside a batch (the server's group commit) the denied row survives the refusal */
    assert_int_equal(store_batch_begin(t->st, &e), 0);
    struct store_change reopen[] = {{D0, 0, "baseline_complete", NULL, "0", NULL}};
    assert_int_equal(store_put_changes(t->st, &mon, "SCR-001", reopen, 1, "x", NULL, &e),
                     ERR_FORBIDDEN);
    assert_int_equal(store_batch_commit(t->st, &e), 0);
    assert_int_equal(audit_count(t, "denied"), 3);
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
}

/* validate_required on the write path: a form left complete must have its required fields. */
static void test_complete_form_needs_its_required_fields(void **state)
{
    struct tdb *t = *state;
    char before[65], after[65];
    db_digest(t->path, before);
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL},
                               {D0, 0, "baseline_complete", NULL, "2", NULL}};
    struct store_put_result res = {0};
    struct err e = {0};
    assert_int_equal(put(t, c, 2, NULL, &res, &e), ERR_INVALID);
    assert_string_equal(e.field, "height_cm");
    assert_non_null(strstr(e.msg, "field 'height_cm' is required"));
    assert_non_null(strstr(e.msg, "rule: required"));
    assert_int_equal(res.nissues, 1);
    assert_string_equal(res.issues[0].rule, "required");
    assert_string_equal(res.issues[0].field, "height_cm");
    store_put_result_free(&res);
    db_digest(t->path, after);
    assert_string_equal(before, after); /* the weight was not saved either */
    /* incomplete is fine with blanks; complete once the field is there */
    c[1].value = "0";
    assert_int_equal(put(t, c, 2, NULL, NULL, NULL), 0);
    struct store_change done[] = {{D0, 0, "height_cm", NULL, "170", NULL},
                                  {D0, 0, "baseline_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, done, 2, NULL, NULL, NULL), 0);
    /* clearing a required value of a complete form is refused, with a reason too */
    struct store_change clear[] = {{D0, 0, "height_cm", NULL, "", NULL}};
    assert_int_equal(put(t, clear, 1, "not measured", NULL, &e), ERR_INVALID);
    assert_value(t, "SCR-001", D0, 0, "height_cm", NULL, "170");
    /* a checkbox counts as filled when any option is ticked */
    struct store_change scr[] = {{"screening_arm_1", 0, "sex", NULL, "1", NULL},
                                 {"screening_arm_1", 0, "screening_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, scr, 2, NULL, NULL, &e), 0); /* cats(1) ticked at screening */
    struct store_change untick[] = {{"screening_arm_1", 0, "cats", "1", "0", NULL}};
    assert_int_equal(put(t, untick, 1, "wrong box", NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "cats");
    struct store_change swap[] = {{"screening_arm_1", 0, "cats", "1", "0", NULL},
                                  {"screening_arm_1", 0, "cats", "0", "1", NULL}};
    assert_int_equal(put(t, swap, 2, "wrong box", NULL, &e), 0);
}

struct hist {
    int n;
    char last_reason[64], last_old[16], last_new[16];
};
static int hist_row(void *ctx, const struct store_audit_row *r)
{
    struct hist *h = ctx;
    h->n++;
    snprintf(h->last_reason, sizeof h->last_reason, "%s", r->reason ? r->reason : "");
    snprintf(h->last_old, sizeof h->last_old, "%s", r->old_value ? r->old_value : "(null)");
    snprintf(h->last_new, sizeof h->last_new, "%s", r->new_value ? r->new_value : "(null)");
    return 0;
}

static void test_history_keeps_every_value(void **state)
{
    struct tdb *t = *state;
    const char *vals[] = {"60", "65", ""};
    for (int i = 0; i < 3; i++) {
        struct store_change c[] = {{D0, 0, "weight_kg", NULL, vals[i], NULL}};
        assert_int_equal(put(t, c, 1, "why", NULL, NULL), 0);
    }
    struct hist h = {0};
    assert_int_equal(store_field_history(t->st, "SCR-001", "weight_kg", hist_row, &h, NULL), 0);
    assert_int_equal(h.n, 3);
    assert_string_equal(h.last_old, "65");
    assert_string_equal(h.last_new, "(null)"); /* blank = deleted */
    assert_string_equal(h.last_reason, "why");
}

static void test_instance_rules(void **state)
{
    struct tdb *t = *state;
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_change rep0[] = {{D0, 0, "att_ok", NULL, "1", NULL}}; /* repeating needs >= 1 */
    assert_int_equal(put(t, rep0, 1, NULL, &res, NULL), ERR_INVALID);
    assert_string_equal(res.issues[0].rule, "instance");
    store_put_result_free(&res);
    struct store_change nonrep[] = {{D0, 2, "weight_kg", NULL, "70", NULL}};
    store_put_result_init(&res);
    assert_int_equal(put(t, nonrep, 1, NULL, &res, NULL), ERR_INVALID);
    assert_string_equal(res.issues[0].rule, "instance");
    store_put_result_free(&res);
    int next = 0;
    assert_int_equal(store_next_instance(t->st, "SCR-001", D0, "attempt", &next, NULL), 0);
    assert_int_equal(next, 1);
    struct store_change a[] = {{D0, 1, "att_ok", NULL, "0", NULL},
                               {D0, 2, "att_ok", NULL, "1", NULL}};
    assert_int_equal(put(t, a, 2, NULL, NULL, NULL), 0);
    assert_int_equal(store_next_instance(t->st, "SCR-001", D0, "attempt", &next, NULL), 0);
    assert_int_equal(next, 3);
}

/* Repeat instances are bounded by the protocol (default 999): an instance past it is refused
 * with rule "instance" naming the maximum, and nothing of the set is saved. */
static void test_instance_past_the_protocol_maximum_is_refused(void **state)
{
    struct tdb *t = *state;
    char before[65], after[65];
    db_digest(t->path, before);
    const int bad[] = {1000, 2147483647};
    for (size_t k = 0; k < 2; k++) {
        struct store_put_result res;
        store_put_result_init(&res);
        struct err e = {0};
        struct store_change c[] = {{D0, 1, "att_ok", NULL, "1", NULL},
                                   {D0, bad[k], "att_ok", NULL, "0", NULL}};
        assert_int_equal(put(t, c, 2, NULL, &res, &e), ERR_INVALID);
        assert_int_equal(res.nissues, 1);
        assert_string_equal(res.issues[0].rule, "instance");
        assert_non_null(strstr(res.issues[0].msg, "1 to 999"));
        store_put_result_free(&res);
    }
    db_digest(t->path, after);
    assert_string_equal(before, after);
    struct store_change last[] = {{D0, 999, "att_ok", NULL, "1", NULL}};
    assert_int_equal(put(t, last, 1, NULL, NULL, NULL), 0);
    /* the form is full: no next instance, and no wrap-around */
    int next = -7;
    struct err e = {0};
    assert_int_equal(store_next_instance(t->st, "SCR-001", D0, "attempt", &next, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "at most 999"));
}

/* A database written before the bound may hold instance INT_MAX: numbering the next one must
 * neither overflow (UBSan aborts on it) nor wrap to a small number that overwrites data, and
 * listing instances names the ones that exist. */
static void test_legacy_int_max_instance_neither_overflows_nor_wraps(void **state)
{
    struct tdb *t = *state;
    struct store_change a[] = {{D0, 1, "att_ok", NULL, "1", NULL}};
    assert_int_equal(put(t, a, 1, NULL, NULL, NULL), 0);
    db_exec(t->path, "INSERT INTO value(record_id, event, instance, field, code, form, value) "
                     "VALUES (1, 'day0_arm_1', 2147483647, 'att_ok', '', 'attempt', '0')");
    int next = -7;
    struct err e = {0};
    assert_int_equal(store_next_instance(t->st, "SCR-001", D0, "attempt", &next, &e), ERR_CONFLICT);
    assert_int_equal(next, 1); /* untouched default, never INT_MIN */
    struct store_instance *in = NULL;
    size_t n = 0;
    assert_int_equal(store_form_instances(t->st, "SCR-001", D0, "attempt", &in, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(in[0].instance, 1);
    assert_int_equal(in[1].instance, 2147483647);
    free(in);
}

static void test_form_not_on_event_is_refused(void **state)
{
    struct tdb *t = *state;
    struct store_put_result res;
    store_put_result_init(&res);
    struct store_change c[] = {{D1, 0, "weight_kg", NULL, "70", NULL}};
    assert_int_equal(put(t, c, 1, NULL, &res, NULL), ERR_INVALID);
    assert_string_equal(res.issues[0].rule, "not_on_event");
    store_put_result_free(&res);
}

static void test_checkbox_options(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{"screening_arm_1", 0, "cats", "2", "1", NULL},
                               {"screening_arm_1", 0, "cats", "1", "0", NULL}};
    assert_int_equal(put(t, c, 2, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", "screening_arm_1", 0, "cats", "2", "1");
    assert_value(t, "SCR-001", "screening_arm_1", 0, "cats", "1", NULL);
    struct store_change bad[] = {{"screening_arm_1", 0, "cats", "7", "1", NULL}};
    assert_int_equal(put(t, bad, 1, NULL, NULL, NULL), ERR_INVALID);
    struct store_change nocode[] = {{"screening_arm_1", 0, "cats", NULL, "1", NULL}};
    assert_int_equal(put(t, nocode, 1, NULL, NULL, NULL), ERR_INVALID);
}

static void test_field_repeated_in_one_change_is_refused(void **state)
{
    struct tdb *t = *state;
    char before[65], after[65];
    db_digest(t->path, before);
    struct store_change twice[] = {{D0, 0, "weight_kg", NULL, "80", NULL},
                                   {D0, 0, "weight_kg", NULL, "81", NULL}};
    struct store_put_result res = {0};
    struct err e = {0};
    assert_int_equal(put(t, twice, 2, NULL, &res, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "weight_kg"));
    assert_non_null(strstr(e.msg, "repeated"));
    store_put_result_free(&res);
    struct store_change option_twice[] = {{"screening_arm_1", 0, "cats", "2", "1", NULL},
                                          {"screening_arm_1", 0, "cats", "2", "0", NULL}};
    assert_int_equal(put(t, option_twice, 2, NULL, NULL, NULL), ERR_INVALID);
    db_digest(t->path, after);
    assert_string_equal(before, after);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, NULL);
}

static void test_locked_record_refuses_writes(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_record_lock(t->st, &ADMIN, "SCR-001", NULL, NULL), 0);
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL}};
    struct err e = {0};
    assert_int_equal(put(t, c, 1, NULL, NULL, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "locked"));
    assert_int_equal(store_record_unlock(t->st, &ADMIN, "SCR-001", NULL, NULL),
                     ERR_REASON_REQUIRED);
    assert_int_equal(store_record_unlock(t->st, &ADMIN, "SCR-001", "query answered", NULL), 0);
    assert_int_equal(put(t, c, 1, NULL, NULL, &e), 0);
}

static void test_batch_commit_and_rollback(void **state)
{
    struct tdb *t = *state;
    char before[65], after[65];
    db_digest(t->path, before);
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "90", NULL}};
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    /* a rejected set inside a batch undoes only itself */
    struct store_change bad[] = {{D0, 0, "height_cm", NULL, "x", NULL}};
    assert_int_equal(put(t, bad, 1, NULL, NULL, NULL), ERR_INVALID);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "90");
    store_batch_rollback(t->st);
    db_digest(t->path, after);
    assert_string_equal(before, after);
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    assert_int_equal(store_batch_begin(t->st, NULL), ERR_CONFLICT);
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "90");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
}

/* Inside a batch the record's value cache is kept from one change set to the next (an import
 * of many rows for one record stays linear). What a later change set sees must still be
 * exactly what is stored: the previous set's writes, not the writes of a set that was refused
 * after it wrote them (the required-field check runs last), and after the batch, what another
 * connection wrote. */
static void test_batch_cache_sees_what_is_stored(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    struct store_change a[] = {{D0, 1, "att_ok", NULL, "1", NULL},
                               {D0, 0, "weight_kg", NULL, "80", NULL}};
    assert_int_equal(put(t, a, 2, NULL, NULL, NULL), 0);
    struct store_change b[] = {{D0, 0, "weight_kg", NULL, "81", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, b, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nchanged, 1); /* 80 -> 81, compared against the first set's write */
    store_put_result_free(&res);
    /* refused after writing: complete without the required height */
    struct store_change refused[] = {{D0, 0, "weight_kg", NULL, "99", NULL},
                                     {D0, 0, "baseline_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, refused, 2, NULL, NULL, NULL), ERR_INVALID);
    /* the next set sees 81 stored, not the refused 99: saving 81 again changes nothing */
    store_put_result_init(&res);
    assert_int_equal(put(t, b, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nchanged, 0);
    assert_int_equal(res.nunchanged, 1);
    store_put_result_free(&res);
    /* another record in between: the cache follows it, then reads SCR-001 anew */
    char scr[16];
    struct store_change other_rec[] = {{"screening_arm_1", 0, "age", NULL, "40", NULL}};
    assert_int_equal(store_screen_create(t->st, &ADMIN, other_rec, 1, scr, NULL, NULL), 0);
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "82", NULL}};
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "82");
    assert_value(t, "SCR-001", D0, 1, "att_ok", NULL, "1");
    /* another connection changes the record between batches: the next batch reads it anew */
    struct store *other = NULL;
    assert_int_equal(store_open(t->path, &other, NULL), 0);
    struct store_change o[] = {{D0, 0, "weight_kg", NULL, "83", NULL}};
    assert_int_equal(store_put_changes(other, &ADMIN, "SCR-001", o, 1, NULL, NULL, NULL), 0);
    store_close(other);
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    store_put_result_init(&res);
    struct store_change same[] = {{D0, 0, "weight_kg", NULL, "83", NULL}};
    assert_int_equal(put(t, same, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nunchanged, 1);
    store_put_result_free(&res);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
}

/* A change set rolled back inside a batch after it wrote values and audit rows (the
 * required-field check runs last) takes its audit rows with it; the audit head the store
 * remembers within the transaction must go too, or the next row would chain to a row that no
 * longer exists. */
static void test_rolled_back_set_in_batch_keeps_the_chain(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    struct store_change ok[] = {{D0, 0, "weight_kg", NULL, "90", NULL}};
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    struct store_change bad[] = {{D0, 0, "weight_kg", NULL, "91", NULL},
                                 {D0, 0, "baseline_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, bad, 2, NULL, NULL, NULL), ERR_INVALID);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "90");
    struct store_change ok2[] = {{D0, 0, "weight_kg", NULL, "92", NULL}};
    assert_int_equal(put(t, ok2, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "90");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
}

/* A whole batch (an import, a simulation batch): on SQLite no savepoint per change set. A set
 * refused before it wrote anything (validation) leaves nothing, as a savepoint would, and the
 * batch goes on; a set refused after it began writing (the required-field check runs last)
 * breaks the batch: later sets are refused and the commit rolls all of it back. PostgreSQL
 * keeps real savepoints, so there the late refusal undoes itself and the batch goes on. */
static void test_whole_batch_without_savepoints(void **state)
{
    struct tdb *t = *state;
    bool pg = strstr(t->path, "://") != NULL;
    int updates = audit_count(t, "update");
    assert_int_equal(store_batch_begin_whole(t->st, NULL), 0);
    struct store_change ok[] = {{D0, 0, "weight_kg", NULL, "90", NULL}};
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    struct store_change bad[] = {{D0, 0, "height_cm", NULL, "x", NULL}};
    assert_int_equal(put(t, bad, 1, NULL, NULL, NULL), ERR_INVALID);
    assert_false(store_batch_broken(t->st));
    struct store_change ok2[] = {{D0, 0, "weight_kg", NULL, "91", NULL}};
    struct store_put_result res;
    store_put_result_init(&res);
    assert_int_equal(put(t, ok2, 1, NULL, &res, NULL), 0);
    assert_int_equal(res.nchanged, 1);
    store_put_result_free(&res);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "91");
    assert_int_equal(audit_count(t, "update"), updates + 2); /* nothing of the refused set */

    assert_int_equal(store_batch_begin_whole(t->st, NULL), 0);
    assert_int_equal(put(t, ok, 1, NULL, NULL, NULL), 0);
    struct store_change late[] = {{D0, 0, "weight_kg", NULL, "99", NULL},
                                  {D0, 0, "baseline_complete", NULL, "2", NULL}};
    assert_int_equal(put(t, late, 2, NULL, NULL, NULL), ERR_INVALID);
    struct err e = {0};
    if (pg) {
        assert_false(store_batch_broken(t->st));
        assert_int_equal(store_batch_commit(t->st, &e), 0);
        assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "90");
    } else {
        assert_true(store_batch_broken(t->st));
        assert_int_equal(put(t, ok2, 1, NULL, NULL, &e), ERR_CONFLICT);
        assert_non_null(strstr(e.msg, "can only be rolled back"));
        assert_int_equal(store_batch_commit(t->st, &e), ERR_CONFLICT);
        assert_non_null(strstr(e.msg, "rolled back whole"));
        assert_false(store_batch_broken(t->st));
        assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "91");
    }
    /* ordinary writes go on, with their savepoints, on a chain that verifies */
    struct store_change ok3[] = {{D0, 0, "weight_kg", NULL, "92", NULL}};
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    assert_int_equal(put(t, late, 2, NULL, NULL, NULL), ERR_INVALID);
    assert_false(store_batch_broken(t->st));
    assert_int_equal(put(t, ok3, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "92");
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t->st, &vr, NULL), 0);
}

/* Every change set checks that the database takes data; inside one group commit the first
 * check's answer is remembered. A freeze committed by a change set of the same batch must still
 * stop the change sets after it, and the answer must not outlive the batch. */
static void test_freeze_inside_a_batch_stops_the_change_sets_after_it(void **state)
{
    struct tdb *t = *state;
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "71", NULL}};
    struct store_change c2[] = {{D0, 0, "weight_kg", NULL, "72", NULL}};
    struct err e = {0};
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    assert_int_equal(put(t, c, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_db_freeze(t->st, &ADMIN, "interim analysis", NULL), 0);
    assert_int_equal(put(t, c2, 1, NULL, NULL, &e), ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "frozen"));
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "71");
    /* each batch reads the state again: another connection unfreezes, then freezes */
    struct store *other = NULL;
    assert_int_equal(store_open(t->path, &other, NULL), 0);
    assert_int_equal(store_db_unfreeze(other, &ADMIN, "analysis done", NULL), 0);
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    assert_int_equal(put(t, c2, 1, NULL, NULL, NULL), 0);
    assert_int_equal(store_batch_commit(t->st, NULL), 0);
    assert_int_equal(store_db_freeze(other, &ADMIN, "again", NULL), 0);
    store_close(other);
    assert_int_equal(store_batch_begin(t->st, NULL), 0);
    assert_int_equal(put(t, c, 1, NULL, NULL, &e), ERR_CONFLICT);
    store_batch_rollback(t->st);
    assert_value(t, "SCR-001", D0, 0, "weight_kg", NULL, "72");
}

static void test_disabled_user_cannot_write(void **state)
{
    struct tdb *t = *state;
    assert_int_equal(store_user_add(t->st, &ADMIN, "nurse", "coordinator", "nurse-pass", NULL), 0);
    assert_int_equal(store_user_disable(t->st, &ADMIN, "nurse", NULL), 0);
    struct store_ctx nurse = {"nurse", "cli", NULL, NULL};
    struct store_change c[] = {{D0, 0, "weight_kg", NULL, "70", NULL}};
    assert_int_equal(store_put_changes(t->st, &nurse, "SCR-001", c, 1, NULL, NULL, NULL), ERR_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_schema_checks_hold_on_the_database),
        T(test_valid_values_are_saved_and_audited),
        T(test_hard_error_blocks_whole_set_and_names_field_rule_value),
        T(test_rejected_change_set_leaves_db_unchanged),
        T(test_soft_out_of_range_is_saved_and_flagged),
        T(test_value_hidden_by_branching_is_refused_unless_cleared),
        T(test_legacy_hidden_value_blocks_only_changes_to_its_logic),
        T(test_soft_issue_of_a_refused_set_says_not_saved),
        T(test_soft_flag_is_stored_for_review),
        T(test_calc_is_recomputed_and_audited_as_calc),
        T(test_calc_is_not_the_first_value_of_an_empty_form),
        T(test_calc_cannot_be_written),
        T(test_rolled_back_set_in_batch_keeps_the_chain),
        T(test_whole_batch_without_savepoints),
        T(test_cross_event_calc_follows_its_reference),
        T(test_unchanged_value_writes_no_audit_row),
        T(test_expected_value_refuses_a_lost_update),
        T(test_reason_required_on_complete_form),
        T(test_history_keeps_every_value),
        T(test_instance_rules),
        T(test_status_and_complete_form_changes_need_their_permission),
        T(test_instance_past_the_protocol_maximum_is_refused),
        T(test_legacy_int_max_instance_neither_overflows_nor_wraps),
        T(test_form_not_on_event_is_refused),
        T(test_checkbox_options),
        T(test_field_repeated_in_one_change_is_refused),
        T(test_complete_form_needs_its_required_fields),
        T(test_locked_record_refuses_writes),
        T(test_batch_commit_and_rollback),
        T(test_batch_cache_sees_what_is_stored),
        T(test_disabled_user_cannot_write),
        T(test_freeze_inside_a_batch_stops_the_change_sets_after_it),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
