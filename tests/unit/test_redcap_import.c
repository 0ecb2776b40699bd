/* The REDCap importer's list of the record IDs it wrote (what the API's record import answers
 * with returnContent=ids and count): each ID once, in the order the rows first name it, however
 * many records — the list is kept with a hash set, which grows as IDs come. And the rejections
 * it lists when a row is refused after it began writing (which breaks the import's whole batch,
 * store_batch_begin_whole): exactly those an import with a savepoint per row lists. */
#include "store_test_util.h"

#include "formats/redcap.h"

enum { NREC = 150 }; /* the set starts with 64 slots, half full at most: it grows twice */

static void test_ids_once_each_in_order_of_first_row(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "rcimport");
    static char names[NREC][16];
    for (int i = 0; i < NREC; i++) {
        char scr[16];
        screen(&t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
        assert_int_equal(store_enroll(t.st, &ADMIN, scr, NULL, 0, names[i], NULL, NULL), 0);
    }
    /* every record twice: forwards with one weight, then backwards with another */
    static struct store_change ch[2 * NREC];
    static struct redcap_row rows[2 * NREC];
    static char w[2 * NREC][16];
    for (int k = 0; k < 2 * NREC; k++) {
        int i = k < NREC ? k : 2 * NREC - 1 - k;
        snprintf(w[k], sizeof w[k], "%d.5", k < NREC ? 60 : 70);
        ch[k] = (struct store_change){"day0_arm_1", 0, "weight_kg", NULL, w[k]};
        rows[k] = (struct redcap_row){.line = (size_t)k + 2,
                                      .record = names[i],
                                      .event = "day0_arm_1",
                                      .changes = &ch[k],
                                      .n = 1};
    }
    struct arena ar = ARENA_INIT;
    struct redcap_import im;
    redcap_import_init(&im, &ar, NULL);
    struct err e = {0};
    if (redcap_import_rows(t.st, &ADMIN, rows, 2 * NREC, "test", false, &im, &e))
        fail_msg("import: %s", e.msg);
    assert_int_equal(im.rejected, 0);
    assert_int_equal(im.nids, NREC);
    for (int i = 0; i < NREC; i++)
        assert_string_equal(im.ids[i], names[i]);
    char *v = get(&t, names[0], "day0_arm_1", 0, "weight_kg", NULL);
    assert_string_equal(v, "70.5"); /* the second row of a record wrote too */
    free(v);
    arena_free(&ar);
    tdb_close(&t);
}

/* Row 2 marks the baseline complete without the required height: refused after its values
 * and the form status were written (the required check runs last), which breaks the batch.
 * Row 3 changes the weight without a reason: right only if row 2 left nothing (on a complete
 * form it would need one). Row 4 has a height that is not an integer. The import lists rows 2
 * and 4, not 3, and saves nothing. */
static void test_rejections_after_a_row_refused_mid_write_are_exact(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "rcbroken");
    char scr[16], id[16];
    screen(&t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t.st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    char before[65], after[65];
    db_digest(t.path, before);
    struct store_change r2[] = {{"day0_arm_1", 0, "weight_kg", NULL, "99"},
                                {"day0_arm_1", 0, "baseline_complete", NULL, "2"}};
    struct store_change r3[] = {{"day0_arm_1", 0, "weight_kg", NULL, "80"}};
    struct store_change r4[] = {{"day0_arm_1", 0, "height_cm", NULL, "tall"}};
    struct redcap_row rows[] = {
        {.line = 2, .record = id, .event = "day0_arm_1", .changes = r2, .n = 2},
        {.line = 3, .record = id, .event = "day0_arm_1", .changes = r3, .n = 1},
        {.line = 4, .record = id, .event = "day0_arm_1", .changes = r4, .n = 1},
    };
    struct arena ar = ARENA_INIT;
    struct redcap_import im;
    redcap_import_init(&im, &ar, NULL);
    struct err e = {0};
    assert_int_equal(redcap_import_rows(t.st, &ADMIN, rows, 3, NULL, false, &im, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "2 value(s) rejected"));
    assert_int_equal(im.rejected, 2);
    const struct redcap_rejection *j = im.first;
    assert_non_null(j);
    assert_int_equal(j->line, 2);
    assert_string_equal(j->field, "height_cm");
    assert_string_equal(j->rule, "required");
    j = j->next;
    assert_non_null(j);
    assert_int_equal(j->line, 4);
    assert_string_equal(j->field, "height_cm");
    assert_null(j->next);
    db_digest(t.path, after);
    assert_string_equal(before, after);
    /* the store is usable after: the same rows without row 2 import */
    redcap_import_init(&im, &ar, NULL);
    assert_int_equal(redcap_import_rows(t.st, &ADMIN, &rows[1], 1, NULL, false, &im, &e), 0);
    char *v = get(&t, id, "day0_arm_1", 0, "weight_kg", NULL);
    assert_string_equal(v, "80");
    free(v);
    struct store_verify_result vr;
    assert_int_equal(store_audit_verify(t.st, &vr, NULL), 0);
    arena_free(&ar);
    tdb_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_once_each_in_order_of_first_row),
        cmocka_unit_test(test_rejections_after_a_row_refused_mid_write_are_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
