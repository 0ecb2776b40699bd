/* libFuzzer target for the importer: any bytes as a REDCap flat file (CSV; JSON when the
 * first non-blank byte is '[' or '{'; XML when it is '<': REDCap's <records> or else ODM), imported
 * with `ioheme import` through its public entry (its row of the command table, run by cli_run
 * exactly as the command line does) into a study database with an enrolled and a screened patient
 * (fuzz_study.h). Looks for crashes, leaks, undefined behaviour and for an import that half
 * happened: the importer saves all rows or none, so after a refused import the audit trail must not
 * have grown by any change row.
 *
 * Every run signs in as admin the way a script does, with an API token in $IOHEME_TOKEN
 * (cli_login's token sign-in: a SHA-256 look-up), created once per process: the password
 * sign-in (argon2id) held the target to about ten inputs a second. Either way cli_run takes the
 * same path after the sign-in (permission, reader, cmd_import), so nothing the command does with
 * the input is left out. Seeds: tests/fuzz/corpus/import/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "fuzz_study.h"
#include "store/sessions.h"
#include "store/store.h"

/* The command table lives in main.c, which the library leaves out: this is its import row, run
 * through the same driver (options, database, login). */
const struct cli_cmd cli_commands[] = {{.name = "import",
                                        .run = cmd_import,
                                        .summary = "import REDCap flat CSV/JSON",
                                        .usage = CMD_IMPORT_USAGE,
                                        .opts = cmd_import_opts,
                                        .flags = CLI_DB | CLI_LOGIN,
                                        .action = PERM_DATA_WRITE,
                                        .check = cmd_import_check,
                                        .prepare = cmd_import_prepare},
                                       {.name = NULL}};

static struct store *probe;

static void close_probe(void)
{
    store_close(probe);
}

/* The number of rows in the audit trail (aborts when it cannot be read). */
static long long audit_rows(void)
{
    long long n = 0;
    char hash[65];
    struct err e = {0};
    if (store_audit_head(probe, &n, hash, &e) != 0) {
        fprintf(stderr, "fuzz_import: audit head: %s\n", e.msg);
        abort();
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char csv[340], json[340], xml[340];
    const char *db = fuzz_study_db();
    if (!csv[0]) {
        snprintf(csv, sizeof csv, "%s.csv", db);
        snprintf(json, sizeof json, "%s.json", db);
        snprintf(xml, sizeof xml, "%s.xml", db);
        /* the admin's API token, as `ioheme token new` makes it; no IOHEME_PASSWORD, which
         * would win over the token */
        static char token[65];
        struct store_ctx who = {"admin", "cli", NULL, NULL};
        struct store *st = NULL;
        struct err e = {0};
        if (store_open(db, &st, &e) != 0 ||
            store_api_token_create(st, &who, "admin", false, token, &e) != 0) {
            fprintf(stderr, "fuzz_import: API token: %s\n", e.msg);
            exit(1);
        }
        probe = st; /* kept open: reads the audit trail's length around each import */
        atexit(close_probe);
        unsetenv("IOHEME_PASSWORD");
        setenv("IOHEME_TOKEN", token, 1);
    }
    size_t lead = 0;
    while (lead < size &&
           (data[lead] == ' ' || data[lead] == '\n' || data[lead] == '\r' || data[lead] == '\t'))
        lead++;
    const char *path = lead < size && (data[lead] == '[' || data[lead] == '{') ? json
                       : lead < size && data[lead] == '<'                      ? xml
                                                                               : csv;
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(path);
        abort();
    }
    char *argv[] = {(char *)path, "--db", (char *)db, "--user", "admin", "--json", NULL};
    long long before = audit_rows();
    int status = cli_run(&cli_commands[0], 6, argv);
    /* 0 imported; 3 invalid (rows refused, nothing saved); 4 a record that does not exist. Any
     * other status (internal error, out of memory, integrity) on a file's content is a bug. */
    if (status != 0 && status != 3 && status != 4) {
        fprintf(stderr, "fuzz_import: ioheme import exited %d\n", status);
        abort();
    }
    /* all rows or none: a refused import leaves the trail as it was (the token sign-in writes
     * no row) */
    long long after = audit_rows();
    if (status != 0 && after != before) {
        fprintf(stderr, "fuzz_import: a refused import (exit %d) wrote %lld audit row(s)\n", status,
                after - before);
        abort();
    }
    return 0;
}
