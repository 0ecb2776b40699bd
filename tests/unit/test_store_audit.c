/* The audit trail: canonical bytes, the hash chain, and tampering done the way an attacker
 * with the sqlite3 shell would (drop the triggers first) — each edit, deletion and insertion
 * must make store_audit_verify name the row. */
#include "store_test_util.h"

#include "base/strbuf.h"
#include "store/store_int.h" /* the connection, to lower SQLite's length limit */

static int setup(void **state)
{
    struct tdb *t = calloc(1, sizeof *t);
    tdb_open(t, "audit");
    char scr[16];
    screen(t, scr, "age", "40", "heme", "1", "cats___1", "1", "cons_type", "1", NULL);
    char id[16];
    assert_int_equal(store_enroll(t->st, &ADMIN, scr, NULL, 0, id, NULL, NULL), 0);
    struct store_change c[] = {{"day0_arm_1", 0, "weight_kg", NULL, "70", NULL},
                               {"day0_arm_1", 0, "height_cm", NULL, "170", NULL}};
    assert_int_equal(store_put_changes(t->st, &ADMIN, scr, c, 2, NULL, NULL, NULL), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tdb_close(*state);
    free(*state);
    return 0;
}

static void test_canonical_bytes_are_length_prefixed_and_null_distinct(void **state)
{
    (void)state;
    struct store_audit_row r = {.id = 17,
                                .ts = "2026-01-01T08:00:01.000Z",
                                .user = "ann",
                                .action = "update",
                                .record = "IOH-001",
                                .event = "t0_arm_1",
                                .instance = -1,
                                .field = "sbp",
                                .old_value = NULL,
                                .new_value = "",
                                .reason = NULL,
                                .source = "cli",
                                .source_sha256 = NULL};
    struct strbuf sb = STRBUF_INIT;
    store_audit_canonical(&r, &sb);
    /* written out by hand from the definition in docs/security.md */
    assert_string_equal(strbuf_str(&sb), "2:17;24:2026-01-01T08:00:01.000Z;3:ann;6:update;"
                                         "7:IOH-001;8:t0_arm_1;-;3:sbp;-;0:;-;3:cli;-;");
    strbuf_release(&sb);
}

struct first_hash {
    char prev[65], hash[65], canon[512];
};
static int grab_first(void *ctx, const struct store_audit_row *r)
{
    struct first_hash *f = ctx;
    snprintf(f->prev, sizeof f->prev, "%s", r->prev_hash);
    snprintf(f->hash, sizeof f->hash, "%s", r->hash);
    struct strbuf sb = STRBUF_INIT;
    store_audit_canonical(r, &sb);
    snprintf(f->canon, sizeof f->canon, "%s", strbuf_str(&sb));
    strbuf_release(&sb);
    return 1; /* stop after the first row */
}

static void test_first_row_hash_is_sha256_of_zeros_and_canonical_bytes(void **state)
{
    struct tdb *t = *state;
    struct first_hash f;
    assert_int_equal(store_audit_foreach(t->st, grab_first, &f, NULL), 1);
    assert_string_equal(f.prev, "0000000000000000000000000000000000000000000000000000000000000000");
    /* recompute independently with libsodium */
    char buf[700];
    snprintf(buf, sizeof buf, "%s%s", f.prev, f.canon);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    assert_string_equal(hex, f.hash);
}

static void test_intact_chain_verifies(void **state)
{
    struct tdb *t = *state;
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, NULL), 0);
    assert_int_equal(r.first_bad_id, 0);
    long long n;
    char head[65];
    assert_int_equal(store_audit_head(t->st, &n, head, NULL), 0);
    assert_int_equal(n, r.nrows);
    assert_true(n >= 5);
    assert_string_equal(head, r.head_hash);
}

struct id_run {
    long long next, bad;
};
static int count_in_order(void *ctx, const struct store_audit_row *r)
{
    struct id_run *c = ctx;
    if (r->id != c->next && !c->bad)
        c->bad = r->id;
    c->next++;
    return 0;
}

/* A trail longer than one fetch of PostgreSQL's cursors (sqldb.c: STREAM_ROWS, 2000 rows): the
 * export and the chain check read every row, once, in order, on both backends. */
static void test_long_trail_is_read_whole(void **state)
{
    struct tdb *t = *state;
    for (int i = 1; i <= 2100; i++) { /* a weight (and its BMI when that changes) */
        char v[16];
        snprintf(v, sizeof v, "%d.%d", 40 + i / 10, i % 10);
        struct store_change c = {"day0_arm_1", 0, "weight_kg", NULL, v, NULL};
        assert_int_equal(store_put_changes(t->st, &ADMIN, "IOH-001", &c, 1, NULL, NULL, NULL), 0);
    }
    long long n = db_int(t->path, "SELECT count(*) FROM audit");
    assert_true(n > 2100);
    struct id_run c = {.next = 1};
    assert_int_equal(store_audit_foreach(t->st, count_in_order, &c, NULL), 0);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.next - 1, n);
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, NULL), 0);
    assert_int_equal(r.first_bad_id, 0);
    assert_int_equal(r.nrows, n);
}

static void put_weight(struct tdb *t, const char *v)
{
    struct store_change c = {"day0_arm_1", 0, "weight_kg", NULL, v, NULL};
    struct err e = {0};
    if (store_put_changes(t->st, &ADMIN, "IOH-001", &c, 1, NULL, NULL, &e))
        fail_msg("put %s: %s", v, e.msg);
}

/* audit_head is written once per transaction, before COMMIT; a savepoint rolled back must give
 * the head back as it was there — kept in memory at shallow depths, written to audit_head
 * before the savepoint when nested deeper — or the next row would chain to a row that is gone.
 * Ten levels deep, rows at every level, the innermost four rolled back, one more row: the
 * chain verifies and audit_head names its last row. */
static void test_head_survives_savepoint_rollbacks(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    char v[16];
    int depth = 10;
    for (int d = 0; d < depth; d++) {
        assert_int_equal(store_tx_begin(t->st, &e), 0);
        snprintf(v, sizeof v, "%d.5", 60 + d);
        put_weight(t, v);
    }
    for (int d = 0; d < 4; d++)
        store_tx_rollback(t->st);
    put_weight(t, "99.9");
    for (int d = 0; d < depth - 4; d++)
        assert_int_equal(store_tx_commit(t->st, &e), 0);
    char *w = get(t, "IOH-001", "day0_arm_1", 0, "weight_kg", NULL);
    assert_string_equal(w, "99.9");
    free(w);
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
    if (r.first_bad_id)
        fail_msg("chain broken at %lld: %s", r.first_bad_id, r.reason);
    assert_int_equal(db_int(t->path, "SELECT last_id FROM audit_head"),
                     db_int(t->path, "SELECT max(id) FROM audit"));
    /* and a rollback at the top leaves the committed head */
    assert_int_equal(store_tx_begin(t->st, &e), 0);
    put_weight(t, "88.8");
    store_tx_rollback(t->st);
    put_weight(t, "77.7");
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
    assert_int_equal(r.first_bad_id, 0);
}

/* A whole-trail read inside a write transaction, in a savepoint that is rolled back, then the
 * same read again and more writes: the transaction stays usable and commits. (On PostgreSQL
 * whole-table reads run as cursors only in read snapshots, which take no savepoints: a cursor
 * closed by a ROLLBACK TO under its statement could not be closed again without aborting the
 * transaction.) */
static void test_trail_read_in_a_rolled_back_savepoint(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    struct store_verify_result r;
    assert_int_equal(store_tx_begin(t->st, &e), 0);
    assert_int_equal(store_tx_begin(t->st, &e), 0);
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
    put_weight(t, "81.5");
    store_tx_rollback(t->st);
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
    assert_int_equal(r.first_bad_id, 0);
    put_weight(t, "82.5");
    if (store_tx_commit(t->st, &e))
        fail_msg("commit: %s", e.msg);
    char *w = get(t, "IOH-001", "day0_arm_1", 0, "weight_kg", NULL);
    assert_string_equal(w, "82.5");
    free(w);
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
    assert_int_equal(r.first_bad_id, 0);
}

static void test_audit_rows_cannot_be_updated_or_deleted(void **state)
{
    struct tdb *t = *state;
    db_exec_refused(t->path, "UPDATE audit SET \"user\" = 'x' WHERE id = 3", "cannot be changed");
    db_exec_refused(t->path, "DELETE FROM audit WHERE id = 3", NULL);
}

static void expect_broken_at(struct tdb *t, long long id, const char *why)
{
    struct store_verify_result r;
    struct err e = {0};
    assert_int_equal(store_audit_verify(t->st, &r, &e), ERR_INTEGRITY);
    assert_int_equal(r.first_bad_id, id);
    if (!strstr(r.reason, why))
        fail_msg("reason '%s' does not mention '%s'", r.reason, why);
    char idtxt[32];
    snprintf(idtxt, sizeof idtxt, "row %lld", id);
    assert_non_null(strstr(e.msg, idtxt));
}

static void test_edited_row_is_named(void **state)
{
    struct tdb *t = *state;
    db_exec(t->path, "DROP TRIGGER audit_no_update;"
                     "UPDATE audit SET new_value = '75' WHERE id = 4");
    expect_broken_at(t, 4, "edited");
}

static void test_deleted_row_is_named(void **state)
{
    struct tdb *t = *state;
    db_exec(t->path, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 3");
    expect_broken_at(t, 4, "missing");
}

static void test_deleted_last_rows_are_detected_by_the_head(void **state)
{
    struct tdb *t = *state;
    long long n;
    char head[65];
    assert_int_equal(store_audit_head(t->st, &n, head, NULL), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id >= %lld",
             n - 1);
    db_exec(t->path, sql);
    expect_broken_at(t, n - 1, "head");
}

static void test_inserted_row_is_named(void **state)
{
    struct tdb *t = *state;
    /* a forged row in the middle: shift later ids up to make room, as an attacker must */
    db_exec(t->path, "DROP TRIGGER audit_no_update;"
                     "UPDATE audit SET id = id + 1000 WHERE id >= 3;"
                     "UPDATE audit SET id = id - 999 WHERE id >= 1003;"
                     "INSERT INTO audit(id, ts, \"user\", action, source, prev_hash, hash) VALUES "
                     "(3, '2026-01-01T08:00:00.000Z', 'mallory', 'update', 'cli', "
                     "(SELECT hash FROM audit WHERE id = 2), 'forged')");
    expect_broken_at(t, 3, "edited");
}

static void test_rehashed_insertion_breaks_the_next_row(void **state)
{
    struct tdb *t = *state;
    /* Even with a correct hash for the forged row, the following row's prev_hash no longer
     * matches. Compute the forged row's hash with the published definition. */
    struct first_hash f;
    assert_int_equal(store_audit_foreach(t->st, grab_first, &f, NULL), 1);
    struct store_audit_row forged = {.id = 2,
                                     .ts = "2026-01-01T08:00:00.500Z",
                                     .user = "mallory",
                                     .action = "update",
                                     .instance = -1,
                                     .source = "cli"};
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, f.hash);
    store_audit_canonical(&forged, &sb);
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)strbuf_str(&sb), sb.len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    strbuf_release(&sb);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "DROP TRIGGER audit_no_update;"
             "UPDATE audit SET id = id + 1000 WHERE id >= 2;"
             "UPDATE audit SET id = id - 999 WHERE id >= 1002;"
             "INSERT INTO audit(id, ts, \"user\", action, source, prev_hash, hash) VALUES "
             "(2, '2026-01-01T08:00:00.500Z', 'mallory', 'update', 'cli', '%s', '%s')",
             f.hash, hex);
    db_exec(t->path, sql);
    expect_broken_at(t, 3, "prev_hash");
}

static void test_export_csv_has_header_and_every_row(void **state)
{
    struct tdb *t = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    long long nrows = -1;
    assert_int_equal(store_audit_export_csv(t->st, f, &nrows, NULL), 0);
    fclose(f);
    assert_int_equal(nrows, audit_count(t, NULL));
    assert_true(strncmp(buf, "id,ts,user,action,record,", 25) == 0);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, audit_count(t, NULL) + 1);
    assert_non_null(strstr(buf, "create_db"));
    free(buf);
}

static void test_access_row_names_user_command_and_detail_and_chains(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    int before = audit_count(t, NULL);
    assert_int_equal(
        store_audit_access(t->st, &ADMIN, "export", "dataset", "ds: screening 1, subjects 1", &e),
        0);
    assert_int_equal(
        store_audit_access(t->st, &ADMIN, "backup", "backup", "copy.db: 9 audit rows", &e), 0);
    assert_int_equal(audit_count(t, NULL), before + 2);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM audit WHERE action = 'export' AND "
                                     "\"user\" = 'admin' AND field = 'dataset' AND new_value = "
                                     "'ds: screening 1, subjects 1' AND record IS NULL AND "
                                     "source = 'cli'"),
                     1);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM audit WHERE action = 'backup' AND "
                                     "new_value = 'copy.db: 9 audit rows'"),
                     1);
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, &e), 0);
}

static void test_access_row_refuses_other_actions_and_unknown_users(void **state)
{
    struct tdb *t = *state;
    struct err e = {0};
    int before = audit_count(t, NULL);
    /* only what leaves the store is recorded here; an "update" must come from the write path */
    assert_int_equal(store_audit_access(t->st, &ADMIN, "update", "x", "y", &e), ERR_INTERNAL);
    const struct store_ctx ghost = {"ghost", "cli", NULL, NULL};
    assert_int_equal(store_audit_access(t->st, &ghost, "export", "dataset", "ds", &e), ERR_AUTH);
    assert_int_equal(audit_count(t, NULL), before);
}

static long long backwards_clock(void *ctx)
{
    (void)ctx;
    return 1000; /* 1970: earlier than every row already written */
}

static void test_audit_time_never_goes_backwards(void **state)
{
    struct tdb *t = *state;
    store_set_clock(t->st, backwards_clock, NULL);
    struct store_change c[] = {{"day0_arm_1", 0, "weight_kg", NULL, "71", NULL}};
    assert_int_equal(store_put_changes(t->st, &ADMIN, "SCR-001", c, 1, NULL, NULL, NULL), 0);
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, NULL), 0);
    assert_int_equal(db_int(t->path, "SELECT count(*) FROM audit a JOIN audit b ON "
                                     "b.id = a.id + 1 WHERE b.ts < a.ts"),
                     0);
}

/* A value SQLite refuses to bind (here: longer than its length limit) must fail the change set;
 * it used to be stored as NULL in an audit row whose hash covers the real text, so the save
 * "succeeded" and the next verify found the trail broken. */
static void test_audit_row_that_cannot_be_bound_fails_the_save(void **state)
{
    struct tdb *t = *state;
    if (tdb_is_pg())
        skip(); /* SQLite's length limit */
    char before[65], after[65];
    db_digest(t->path, before);
    char reason[3000];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    sqlite3_limit(store_sql_sqlite(t->st->db), SQLITE_LIMIT_LENGTH, 2000);
    struct store_change c[] = {{"day0_arm_1", 0, "weight_kg", NULL, "72", NULL}};
    struct err e = {0};
    assert_int_not_equal(store_put_changes(t->st, &ADMIN, "SCR-001", c, 1, reason, NULL, &e), 0);
    assert_non_null(strstr(e.msg, "audit"));
    sqlite3_limit(store_sql_sqlite(t->st->db), SQLITE_LIMIT_LENGTH, 1000000000);
    db_digest(t->path, after);
    assert_string_equal(before, after);
    struct store_verify_result r;
    assert_int_equal(store_audit_verify(t->st, &r, NULL), 0);
    assert_int_equal(r.first_bad_id, 0);
}

struct id_list {
    long long ids[64];
    size_t n;
    const char *name_a, *name_b; /* collect_if_record: the record's two names */
};

static int collect_id(void *ctx, const struct store_audit_row *r)
{
    struct id_list *l = ctx;
    assert_true(l->n < 64);
    l->ids[l->n++] = r->id;
    return 0;
}

static int collect_if_record(void *ctx, const struct store_audit_row *r)
{
    struct id_list *l = ctx;
    if (r->record && (strcmp(r->record, l->name_a) == 0 || strcmp(r->record, l->name_b) == 0))
        return collect_id(ctx, r);
    return 0;
}

static void assert_same_ids(const struct id_list *a, const struct id_list *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_int_equal(a->ids[i], b->ids[i]);
}

static void test_record_audit_is_exactly_the_records_rows_through_its_index(void **state)
{
    struct tdb *t = *state;
    char scr2[16];
    screen(t, scr2, "age", "50", NULL);
    /* Rows of the two records interleave in id order. */
    struct store_change c = {"day0_arm_1", 0, "weight_kg", NULL, "71", NULL};
    assert_int_equal(store_put_changes(t->st, &ADMIN, "IOH-001", &c, 1, NULL, NULL, NULL), 0);

    /* Expected: a full walk of the trail, filtered here in C by both names of the record. */
    struct id_list want = {.name_a = "SCR-001", .name_b = "IOH-001"};
    assert_int_equal(store_audit_foreach(t->st, collect_if_record, &want, NULL), 0);
    assert_true(want.n >= 5); /* screen, enrol, values under both names */
    struct id_list got = {0}, by_scr = {0};
    assert_int_equal(store_record_audit(t->st, "IOH-001", NULL, collect_id, &got, NULL), 0);
    assert_same_ids(&got, &want);
    assert_int_equal(store_record_audit(t->st, "SCR-001", NULL, collect_id, &by_scr, NULL), 0);
    assert_same_ids(&by_scr, &want);

    struct id_list want2 = {.name_a = scr2, .name_b = scr2}, got2 = {0};
    assert_int_equal(store_audit_foreach(t->st, collect_if_record, &want2, NULL), 0);
    assert_true(want2.n >= 1);
    assert_int_equal(store_record_audit(t->st, scr2, NULL, collect_id, &got2, NULL), 0);
    assert_same_ids(&got2, &want2);

    /* With a field: that field's rows only (written 70, then 71). */
    struct id_list w = {0};
    assert_int_equal(store_record_audit(t->st, "IOH-001", "weight_kg", collect_id, &w, NULL), 0);
    assert_int_equal(w.n, 2);
    struct err e = {0};
    assert_int_equal(store_record_audit(t->st, "IOH-404", NULL, collect_id, &w, &e), ERR_NOT_FOUND);

    /* The plan SQLite chose for the statement just run: the record index, no table scan. */
    if (tdb_is_pg())
        return;
    const char *sql = store_sql_sql(t->st->stmts[SQ_AUDIT_RECORD]);
    assert_non_null(sql);
    char eqp[1024];
    snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(store_sql_sqlite(t->st->db), eqp, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, "SCR-001", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, "IOH-001", -1, SQLITE_STATIC);
    char plan[1024] = "";
    while (sqlite3_step(q) == SQLITE_ROW) {
        strncat(plan, (const char *)sqlite3_column_text(q, 3), sizeof plan - strlen(plan) - 2);
        strcat(plan, ";");
    }
    sqlite3_finalize(q);
    if (!strstr(plan, "SEARCH audit USING INDEX audit_record_field (record=?)") ||
        strstr(plan, "SCAN audit"))
        fail_msg("plan: %s", plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_canonical_bytes_are_length_prefixed_and_null_distinct),
        T(test_first_row_hash_is_sha256_of_zeros_and_canonical_bytes),
        T(test_intact_chain_verifies),
        T(test_long_trail_is_read_whole),
        T(test_head_survives_savepoint_rollbacks),
        T(test_trail_read_in_a_rolled_back_savepoint),
        T(test_audit_rows_cannot_be_updated_or_deleted),
        T(test_edited_row_is_named),
        T(test_deleted_row_is_named),
        T(test_deleted_last_rows_are_detected_by_the_head),
        T(test_inserted_row_is_named),
        T(test_rehashed_insertion_breaks_the_next_row),
        T(test_export_csv_has_header_and_every_row),
        T(test_access_row_names_user_command_and_detail_and_chains),
        T(test_access_row_refuses_other_actions_and_unknown_users),
        T(test_audit_time_never_goes_backwards),
        T(test_audit_row_that_cannot_be_bound_fails_the_save),
        T(test_record_audit_is_exactly_the_records_rows_through_its_index),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
