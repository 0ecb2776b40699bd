/* The REDCap importer's list of the record IDs it wrote (what the API's record import answers
 * with returnContent=ids and count): each ID once, in the order the rows first name it, however
 * many records — the list is kept with a hash set, which grows as IDs come. And the rejections
 * it lists when a row is refused after it began writing (which breaks the import's whole batch,
 * store_batch_begin_whole): exactly those an import with a savepoint per row lists. And the
 * file import that reads one row at a time (redcap_import_read, then redcap_import_flat, which
 * reads the file again for each pass). */
#include "store_test_util.h"

#include "formats/csv.h"
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
        ch[k] = (struct store_change){"day0_arm_1", 0, "weight_kg", NULL, w[k], NULL};
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
    struct store_change r2[] = {{"day0_arm_1", 0, "weight_kg", NULL, "99", NULL},
                                {"day0_arm_1", 0, "baseline_complete", NULL, "2", NULL}};
    struct store_change r3[] = {{"day0_arm_1", 0, "weight_kg", NULL, "80", NULL}};
    struct store_change r4[] = {{"day0_arm_1", 0, "height_cm", NULL, "tall", NULL}};
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

/* The same three rows as a file, with a row before them the reader cannot place (no such
 * event): the reader's rejection comes first, the write path's two after, and the import is
 * refused as an import — not taken for a database changed between the passes, which counting
 * the reader's rejection among the first pass's would make it. */
static void test_file_import_with_a_row_the_reader_refuses_and_a_broken_batch(void **state)
{
    (void)state;
    struct tdb t;
    tdb_open(&t, "rcfile");
    char scr[16], id[16];
    screen(&t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    assert_int_equal(store_enroll(t.st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    char before[65], after[65];
    db_digest(t.path, before);
    char csv[512];
    snprintf(csv, sizeof csv,
             "record_id,redcap_event_name,weight_kg,height_cm,baseline_complete\n"
             "%s,no_such_event,70,,\n"
             "%s,day0_arm_1,99,,2\n"
             "%s,day0_arm_1,80,,\n"
             "%s,day0_arm_1,,tall,\n",
             id, id, id, id);
    struct arena ar = ARENA_INIT;
    struct redcap_import im;
    redcap_import_init(&im, &ar, NULL);
    struct err e = {0};
    assert_int_equal(redcap_import_read(store_dict(t.st),
                                        &(struct redcap_flat){"data.csv", csv, strlen(csv),
                                                              REDCAP_CSV, NULL, false},
                                        &im, &e),
                     0);
    assert_int_equal(im.rows, 4);
    assert_int_equal(im.rejected, 1);
    int rc = redcap_import_flat(
        t.st, &ADMIN, &(struct redcap_flat){"data.csv", csv, strlen(csv), REDCAP_CSV, NULL, false},
        NULL, false, &im, &e);
    if (rc != ERR_INVALID)
        fail_msg("import: %d %s", rc, e.msg);
    assert_non_null(strstr(e.msg, "3 value(s) rejected"));
    const struct redcap_rejection *j = im.first;
    size_t lines[] = {2, 3, 5};
    const char *fields[] = {"redcap_event_name", "height_cm", "height_cm"};
    for (size_t k = 0; k < 3; k++, j = j->next) {
        assert_non_null(j);
        assert_int_equal(j->line, lines[k]);
        assert_string_equal(j->field, fields[k]);
    }
    assert_null(j);
    db_digest(t.path, after);
    assert_string_equal(before, after);
    /* without the two bad rows it imports, and row 4's weight is there */
    snprintf(csv, sizeof csv,
             "record_id,redcap_event_name,weight_kg\n"
             "%s,day0_arm_1,80\n",
             id);
    redcap_import_init(&im, &ar, NULL);
    assert_int_equal(redcap_import_read(store_dict(t.st),
                                        &(struct redcap_flat){"data.csv", csv, strlen(csv),
                                                              REDCAP_CSV, NULL, false},
                                        &im, &e),
                     0);
    assert_int_equal(redcap_import_flat(t.st, &ADMIN,
                                        &(struct redcap_flat){"data.csv", csv, strlen(csv),
                                                              REDCAP_CSV, NULL, false},
                                        NULL, false, &im, &e),
                     0);
    assert_value(&t, id, "day0_arm_1", 0, "weight_kg", NULL, "80");
    arena_free(&ar);
    tdb_close(&t);
}

/* dateFormat MDY: each date and date-time cell of a date field as YYYY-MM-DD (the time as
 * written), a cell not written M/D/YYYY rejected naming its column and rule and left out of its
 * row (whose other cells still come); other fields' values untouched. */
struct got_cells {
    char v[8][40];
    size_t n, nrejected;
    char rejected[8][40];
};

static int got_row(void *ctx, const struct redcap_row *r, struct err *e)
{
    (void)e;
    struct got_cells *g = ctx;
    for (size_t i = 0; i < r->n && g->n < 8; i++)
        snprintf(g->v[g->n++], sizeof g->v[0], "%s=%s", r->changes[i].field, r->changes[i].value);
    return 0;
}

/* The io-heme protocol ($IOHEME_PROTOCOL, else the source tree's) into *d. */
static void load_ioheme(struct dict *d)
{
    struct err e = {0};
    const char *dir = getenv("IOHEME_PROTOCOL");
    if (dict_load(dir ? dir : IOHEME_SOURCE_DIR "/protocols/io-heme", d, &e) != 0)
        fail_msg("io-heme protocol: %s", e.msg);
}

static void got_reject(void *ctx, size_t line, const char *record, const char *column,
                       const char *rule, const char *msg)
{
    (void)line, (void)record, (void)msg;
    struct got_cells *g = ctx;
    snprintf(g->rejected[g->nrejected++ % 8], sizeof g->rejected[0], "%s:%s", column, rule);
}

static void test_dates_read_in_the_files_order(void **state)
{
    (void)state;
    struct dict dict;
    struct err e = {0};
    load_ioheme(&dict);
    const char *csv = "record_id,redcap_event_name,bl_dx_date,bl_dt,bl_hr\n"
                      "IOH-001,baseline_arm_1,3/7/2024,12/31/2024 14:05:09,70\n"
                      "IOH-001,baseline_arm_1,3/7/24,2024-03-07 10:00,71\n"
                      "IOH-001,baseline_arm_1,03/07/2024x,3/7/2024T10:00,72\n";
    struct redcap_read_opts mdy = {.dates = REDCAP_DATES_MDY};
    struct redcap_flat f = {"d.csv", csv, strlen(csv), REDCAP_CSV, &mdy, false};
    struct got_cells g = {0};
    size_t nrows = 0;
    assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, &nrows, &e), 0);
    assert_int_equal(nrows, 3);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.v[0], "bl_dx_date=2024-03-07");
    assert_string_equal(g.v[1], "bl_dt=2024-12-31 14:05:09");
    assert_string_equal(g.v[2], "bl_hr=70");
    assert_string_equal(g.v[3], "bl_hr=71"); /* row 2's dates refused, its rate still read */
    assert_string_equal(g.v[4], "bl_hr=72");
    assert_int_equal(g.nrejected, 4);
    assert_string_equal(g.rejected[0], "bl_dx_date:dateFormat");
    assert_string_equal(g.rejected[1], "bl_dt:dateFormat");
    /* DMY swaps day and month; YMD (the default) reads nothing but passes values on */
    struct redcap_read_opts dmy = {.dates = REDCAP_DATES_DMY};
    const char *one = "record_id,redcap_event_name,bl_dx_date\nIOH-001,baseline_arm_1,3/7/2024\n";
    f = (struct redcap_flat){"d.csv", one, strlen(one), REDCAP_CSV, &dmy, false};
    g = (struct got_cells){0};
    assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, NULL, &e), 0);
    assert_string_equal(g.v[0], "bl_dx_date=2024-07-03");
    f.opts = NULL;
    g = (struct got_cells){0};
    assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, NULL, &e), 0);
    assert_string_equal(g.v[0], "bl_dx_date=3/7/2024"); /* the write path judges it */
    enum redcap_dates d;
    assert_int_equal(redcap_dates_parse("mdy", &d), 0);
    assert_int_equal(d, REDCAP_DATES_MDY);
    assert_int_equal(redcap_dates_parse("YDM", &d), -1);
    dict_free(&dict);
}

/* A reader's case: data in format, read whole; then each of bad refused with a message that
 * starts with its own (bad[i][1]) — the readers' messages name the file, line and record. */
struct reader_case {
    enum redcap_format format;
    const char *data, *empty;  /* two records (bl_hr each), and no record at all */
    const char *want0, *want1; /* what the two rows hand on */
    const char *const (*bad)[2];
    size_t nbad;
};

static void check_reader(const struct reader_case *c)
{
    struct dict dict;
    struct err e = {0};
    load_ioheme(&dict);
    struct redcap_flat f = {"d", c->data, strlen(c->data), c->format, NULL, false};
    struct got_cells g = {0};
    size_t nrows = 0;
    assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, &nrows, &e), 0);
    assert_int_equal(nrows, 2);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.v[0], c->want0);
    assert_string_equal(g.v[1], c->want1);
    f = (struct redcap_flat){"e", c->empty, strlen(c->empty), c->format, NULL, false};
    nrows = 9;
    assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, &nrows, &e), 0);
    assert_int_equal(nrows, 0);
    for (size_t i = 0; i < c->nbad; i++) {
        f = (struct redcap_flat){"b", c->bad[i][0], strlen(c->bad[i][0]), c->format, NULL, false};
        e = (struct err){0};
        assert_int_equal(redcap_flat_each(&dict, &f, got_row, &g, got_reject, &g, NULL, &e),
                         ERR_INVALID);
        if (strncmp(e.msg, c->bad[i][1], strlen(c->bad[i][1])) != 0)
            fail_msg("case %zu: '%s', not '%s…'", i, e.msg, c->bad[i][1]);
    }
    dict_free(&dict);
}

/* JSON records read one object at a time: whatever the whitespace between them, brackets
 * inside a string the value's; an empty array; and each way the array can be broken. */
static void test_json_records_one_at_a_time(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"record_id\": \"IOH-001\"}", "b: expected an array of records"},
        {"[{\"record_id\": \"IOH-001\"},\n]", "b:2: record 2: '[' or '{' expected near ']'"},
        {"[{\"record_id\": \"IOH-001\"}\n{\"record_id\": \"IOH-002\"}]",
         "b:2: ',' or ']' expected after record 1"},
        {"[{\"record_id\": \"IOH-001\"}] x", "b:1: text after the array of records"},
        {"[\n\n{\"record_id\": ", "b:3: record 1: unexpected token near end of file"},
        {"[3]", "b:1: record 1: '[' or '{' expected near '3'"},
    };
    const struct reader_case c = {
        REDCAP_JSON,
        " \n[ {\"record_id\": \"IOH-001\", \"redcap_event_name\": \"baseline_arm_1\", "
        "\"bl_hr\": 70},\n\t{\"record_id\": \"IOH-001\", \"redcap_event_name\": "
        "\"baseline_arm_1\", \"bl_hr\": \"]},{\"}\r\n]\n",
        " [ ] ",
        "bl_hr=70",
        "bl_hr=]},{",
        bad,
        sizeof bad / sizeof bad[0]};
    check_reader(&c);
}

/* XML records read one <item> at a time by libxml2's streaming reader: CDATA and a comment
 * between items; an empty <records/>; and what is not REDCap's records. */
static void test_xml_records_one_at_a_time(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"<odm><item/></odm>", "b: expected <records> holding one <item> per record"},
        {"", "b: expected <records> holding one <item> per record"},
        {"<records><row/></records>", "b: <row> in <records>: each record is an <item>"},
        {"<records>\n<item><bl_hr>70</item></records>", "b:2: not well-formed XML: "},
        {"<records></records>\n<x/>", "b:2: not well-formed XML: "},
    };
    const struct reader_case c = {
        REDCAP_XML,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<records>\n<item><record_id>IOH-001"
        "</record_id><redcap_event_name>baseline_arm_1</redcap_event_name><bl_hr>70</bl_hr>"
        "</item>\n<!-- a comment -->\n<item><record_id><![CDATA[IOH-001]]></record_id>"
        "<redcap_event_name>baseline_arm_1</redcap_event_name><bl_hr><![CDATA[<71>]]></bl_hr>"
        "</item>\n</records>\n",
        "<records/>",
        "bl_hr=70",
        "bl_hr=<71>",
        bad,
        sizeof bad / sizeof bad[0]};
    check_reader(&c);
}

/* What a row-at-a-time reader hands on: each row with the line it starts on (a quoted cell
 * may span lines), its cells gone after the call (so the reader holds one row), and a stop
 * asked for by the callback returned as it is. */
struct seen {
    size_t n, lines[8], stop_after;
    char cells[8][32];
};

static int see_row(void *ctx, const char *const *header, const char *const *cells, size_t ncols,
                   size_t line, struct err *e)
{
    (void)e;
    struct seen *s = ctx;
    assert_int_equal(ncols, 2);
    assert_string_equal(header[1], "b");
    s->lines[s->n] = line;
    snprintf(s->cells[s->n], sizeof s->cells[s->n], "%s|%s", cells[0], cells[1]);
    return ++s->n == s->stop_after ? 7 : 0;
}

static void test_csv_rows_one_at_a_time(void **state)
{
    (void)state;
    const char *csv = "\xEF\xBB\xBF"
                      "a,b\n1,\"x\ny\"\n\n2,z\n3,w\n";
    struct seen s = {0};
    struct err e = {0};
    assert_int_equal(csv_each_row(csv, strlen(csv), "t.csv", ',', see_row, &s, &e), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.lines[0], 2);
    assert_int_equal(s.lines[1], 5); /* the blank line 4 is no row */
    assert_int_equal(s.lines[2], 6);
    assert_string_equal(s.cells[0], "1|x\ny");
    assert_string_equal(s.cells[2], "3|w");
    /* the callback's stop ends the reading there */
    s = (struct seen){.stop_after = 2};
    assert_int_equal(csv_each_row(csv, strlen(csv), "t.csv", ',', see_row, &s, &e), 7);
    assert_int_equal(s.n, 2);
    /* a short row is an error naming the file and its line, after the rows before it */
    const char *bad = "a,b\n1,2\n3\n";
    s = (struct seen){0};
    assert_int_equal(csv_each_row(bad, strlen(bad), "t.csv", ',', see_row, &s, &e), ERR_INVALID);
    assert_int_equal(s.n, 1);
    assert_string_equal(e.msg, "t.csv: line 3: 1 fields, the header has 2");
    /* the table reader, on the same parsing, agrees */
    struct csv_table tab;
    assert_int_equal(csv_table_parse(csv, strlen(csv), "t.csv", &tab, &e), 0);
    assert_int_equal(tab.nrows, 3);
    assert_int_equal(tab.line[1], 5);
    assert_string_equal(tab.rows[0][1], "x\ny");
    csv_table_free(&tab);
    assert_int_equal(csv_table_parse(bad, strlen(bad), "t.csv", &tab, &e), ERR_INVALID);
    assert_string_equal(e.msg, "t.csv: line 3: 1 fields, the header has 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_once_each_in_order_of_first_row),
        cmocka_unit_test(test_rejections_after_a_row_refused_mid_write_are_exact),
        cmocka_unit_test(test_file_import_with_a_row_the_reader_refuses_and_a_broken_batch),
        cmocka_unit_test(test_csv_rows_one_at_a_time),
        cmocka_unit_test(test_json_records_one_at_a_time),
        cmocka_unit_test(test_xml_records_one_at_a_time),
        cmocka_unit_test(test_dates_read_in_the_files_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
