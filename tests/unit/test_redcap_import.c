/* The REDCap importer's list of the record IDs it wrote (what the API's record import answers
 * with returnContent=ids and count): each ID once, in the order the rows first name it, however
 * many records — the list is kept with a hash set, which grows as IDs come. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_once_each_in_order_of_first_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
