/* The yardsticks of bench/redcap/run. Reads a REDCap flat CSV (header record_id,field...; one
 * row per record, no quoting: the bench writes it so) and inserts every non-blank value, with
 * prepared statements in one transaction, in ioheme's database settings (journal_mode=WAL,
 * synchronous=FULL: the COMMIT is fsynced). Two modes:
 *   raw    the "raw SQLite insert rate" of issue 12: one row (record, event, instance, field,
 *          value) per value in a plain table `raw` (no key, no index), one INSERT
 *   rows   the rows an import stores, by ioheme's own statements (src/store/db.c), into DB, a
 *          fresh study (ioheme init), with its pragmas (foreign_keys=ON, cache_size=64 MiB):
 *          per row of the file the record (insert, enrolment update, its audit row), then the
 *          row's values (per value the value upsert and the audit row), and audit_head once
 *          before the COMMIT, as src/store does (an import is a whole batch: no savepoint per
 *          change set, store_batch_begin_whole), with a fixed time, user, file SHA-256 and
 *          hashes. SQLite's share of an import alone: no validation, reads, hashing or logic
 * Prints "VALUES values MS ms SQLITE_VERSION" (MS: from BEGIN IMMEDIATE to the end of
 * COMMIT). The bench times the whole process too, as it times `ioheme import`.
 * usage: rawinsert raw|rows DB CSV EVENT */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static sqlite3 *db;

static void die(const char *what)
{
    fprintf(stderr, "rawinsert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
    exit(1);
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        die(sql);
    return s;
}

static void step(sqlite3_stmt *s)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        die(sqlite3_sql(s));
    sqlite3_reset(s);
}

static void exec(const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(sql);
}

/* splits line (no newline) on commas in place; returns the number of cells */
static size_t split(char *line, char ***cells, size_t *cap)
{
    size_t n = 0;
    for (char *s = line;; s++) {
        if (n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            if (!(*cells = realloc(*cells, *cap * sizeof **cells)))
                die("out of memory");
        }
        (*cells)[n++] = s;
        s += strcspn(s, ",");
        if (!*s)
            return n;
        *s = '\0';
    }
}

int main(int argc, char **argv)
{
    int rows = argc == 5 && strcmp(argv[1], "rows") == 0;
    if (argc != 5 || (!rows && strcmp(argv[1], "raw") != 0)) {
        fprintf(stderr, "usage: rawinsert raw|rows DB CSV EVENT\n");
        return 2;
    }
    const char *event = argv[4];
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    if (sqlite3_open(argv[2], &db) != SQLITE_OK)
        die(argv[2]);
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", NULL, NULL,
                     NULL) != SQLITE_OK ||
        (rows && sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536", NULL,
                              NULL, NULL) != SQLITE_OK))
        die("PRAGMA");
    if (!rows && sqlite3_exec(db,
                              "CREATE TABLE raw(record TEXT NOT NULL, event TEXT NOT NULL,"
                              " instance INTEGER NOT NULL, field TEXT NOT NULL,"
                              " value TEXT NOT NULL)",
                              NULL, NULL, NULL) != SQLITE_OK)
        die("CREATE TABLE raw");
    sqlite3_stmt *ins = NULL, *val = NULL, *aud = NULL, *head = NULL, *rec = NULL, *enrol = NULL;
    if (rows) { /* SQ_REC_INSERT, _SET_ENROLLED, SQ_VAL_UPSERT, SQ_AUDIT_INSERT, _HEAD_SET */
        rec = prepare("INSERT INTO record(id, screening_no, screened_at, screened_by, site_id) "
                      "VALUES (?1, 'SCR-' || ?1, '2026-12-05T17:00:00.000Z', 'admin', NULL)");
        enrol = prepare("UPDATE record SET study_id = ?2, status = 2, "
                        "enrolled_at = '2026-12-05T17:00:00.000Z' WHERE id = ?1");
        val = prepare("INSERT INTO value(record_id, event, instance, field, code, form, value, "
                      "flag, pver) VALUES (?1, ?2, 0, ?3, '', 'baseline', ?4, NULL, 1) "
                      "ON CONFLICT(record_id, event, instance, field, code) DO UPDATE SET "
                      "value = excluded.value, flag = excluded.flag, pver = excluded.pver");
        aud = prepare("INSERT INTO audit(id, ts, \"user\", action, record, event, instance, "
                      "field, old_value, new_value, reason, source, source_sha256, prev_hash, "
                      "hash) VALUES (?1, '2026-12-05T17:00:00.000Z', 'admin', 'update', ?2, ?3, "
                      "0, ?4, NULL, ?5, NULL, ?6, "
                      "'c2640140f3b6bc40211e67d872f80db7976d83a8f6de20150f894bc2d061f60d', "
                      "'c31a748e2199a337db8a242181e11d0b02af6c08e37e4082dc99a1f75fdb1e30', "
                      "'aeec53e7694b7283aa4ff8623ed320405fd1477b960b98cc5ffae53e11e3b61e')");
        head = prepare("INSERT INTO audit_head(one, last_id, hash) VALUES (1, ?1, "
                       "'aeec53e7694b7283aa4ff8623ed320405fd1477b960b98cc5ffae53e11e3b61e') "
                       "ON CONFLICT(one) DO UPDATE SET last_id = excluded.last_id, "
                       "hash = excluded.hash");
        sqlite3_bind_text(val, 2, event, -1, SQLITE_STATIC);
        sqlite3_bind_text(aud, 3, event, -1, SQLITE_STATIC);
        sqlite3_bind_text(aud, 6, "import", -1, SQLITE_STATIC);
    } else {
        ins = prepare("INSERT INTO raw VALUES (?1, ?2, 0, ?3, ?4)");
        sqlite3_bind_text(ins, 2, event, -1, SQLITE_STATIC);
    }
    char *line = NULL, *header = NULL, **cells = NULL, **names = NULL;
    size_t len = 0, cap = 0, ncap = 0, nnames = 0, nvalues = 0;
    long long record = 0, audit_id = 1000000000; /* above the study's own audit rows */
    if (getline(&line, &len, f) < 0)
        die("empty CSV");
    line[strcspn(line, "\r\n")] = '\0';
    header = strdup(line);
    nnames = split(header, &names, &ncap);
    double t0 = now_ms();
    exec("BEGIN IMMEDIATE");
    while (getline(&line, &len, f) >= 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strchr(line, '"'))
            die("quoted cell: this reader splits on commas only");
        size_t n = split(line, &cells, &cap);
        if (n != nnames)
            die("a row's cells do not match the header");
        record++;
        if (rows) { /* the record, created and enrolled with the file's ID, and its audit row */
            sqlite3_bind_int64(rec, 1, record);
            step(rec);
            sqlite3_bind_int64(enrol, 1, record);
            sqlite3_bind_text(enrol, 2, cells[0], -1, SQLITE_STATIC);
            step(enrol);
            sqlite3_bind_int64(aud, 1, ++audit_id);
            sqlite3_bind_text(aud, 2, cells[0], -1, SQLITE_STATIC);
            sqlite3_bind_null(aud, 4);
            sqlite3_bind_text(aud, 5, cells[0], -1, SQLITE_STATIC);
            step(aud);
        }
        for (size_t i = 1; i < n; i++) {
            if (!*cells[i])
                continue;
            if (rows) {
                sqlite3_bind_int64(val, 1, record);
                sqlite3_bind_text(val, 3, names[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(val, 4, cells[i], -1, SQLITE_STATIC);
                step(val);
                sqlite3_bind_int64(aud, 1, ++audit_id);
                sqlite3_bind_text(aud, 2, cells[0], -1, SQLITE_STATIC);
                sqlite3_bind_text(aud, 4, names[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(aud, 5, cells[i], -1, SQLITE_STATIC);
                step(aud);
            } else {
                sqlite3_bind_text(ins, 1, cells[0], -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 3, names[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 4, cells[i], -1, SQLITE_STATIC);
                step(ins);
            }
            nvalues++;
        }
    }
    if (rows) { /* the head, once per transaction (store_audit_head_flush) */
        sqlite3_bind_int64(head, 1, audit_id);
        step(head);
    }
    exec("COMMIT");
    double t = now_ms() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(val);
    sqlite3_finalize(aud);
    sqlite3_finalize(head);
    sqlite3_finalize(rec);
    sqlite3_finalize(enrol);
    if (sqlite3_close(db) != SQLITE_OK)
        die("close");
    printf("%zu values %.1f ms %s\n", nvalues, t, sqlite3_libversion());
    free(line);
    free(header);
    free(cells);
    free(names);
    fclose(f);
    return 0;
}
