/* `ioheme simulate` and `ioheme dataset`: a synthetic cohort into the study database, and the
 * analysis dataset out of it (docs/simulator.md, docs/sap.md). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "report/dataset.h"
#include "sim/cohort.h"
#include "sim/simulate.h"
#include "store/store.h"

const char CMD_SIMULATE_USAGE[] =
    "usage: ioheme simulate [--db FILE] --patients N --seed S [--batch K] [--site-mix MIX]\n"
    "                       [--user NAME]\n"
    "\n"
    "Fills a training/demo database (made by 'ioheme init --synthetic'; any other database is\n"
    "refused, so synthetic patients never sit next to real ones) with a synthetic cohort of N\n"
    "enrolled patients and their screen failures (~1.4 screened per enrolled), drawn from the\n"
    "parameters of docs/simulator.md. Every value goes through the store's write path as the\n"
    "acting user: validated, calc fields computed, audited with source 'simulate'. The same\n"
    "seed gives the same data.\n"
    "\n"
    "  --db FILE      the study database (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --patients N   enrolled patients to simulate (1 to 10,000,000)\n"
    "  --seed S       PRNG seed (unsigned 64-bit integer)\n"
    "  --batch K      bulk path: K patients per transaction (default: 500 when N > 1000,\n"
    "                 else one transaction per store call); 0 forces the per-call path\n"
    "  --site-mix MIX planned IO sites, e.g. tibia=0.7,humerus=0.25,distal_tibia=0.03,\n"
    "                 femur=0.02 (the default; weights are normalised; sites not named: 0)\n"
    "  --user NAME    acting user (default $IOHEME_USER); password from $IOHEME_PASSWORD,\n"
    "                 else asked on the terminal\n";

const char CMD_DATASET_USAGE[] =
    "usage: ioheme dataset [--db FILE] --out DIR [--format csv|stata|spss|sas|r] [--user NAME]\n"
    "\n"
    "Derives the analysis dataset (docs/sap.md §2-§7) from the study database and writes one\n"
    "CSV per table into DIR (created if missing): screening, subjects, placements, attempts,\n"
    "infusions, haemodynamics, complications, completeness; and DIR/dataset_dictionary.csv\n"
    "(table, column, type, unit, description, SAP section, and for a coded column its\n"
    "values in order, '|' between them). The export is recorded in the audit trail (action\n"
    "export: who, DIR's name, each table's row count).\n"
    "\n"
    "  --format F     also, for a statistics package: stata (.dta), spss (.sav) or sas\n"
    "                 (.sas7bdat) per table, written by ReadStat with each column's description\n"
    "                 as its label, dates and date-times typed, yes/no labels on flags,\n"
    "                 coded columns as numbers with value labels (Stata, SPSS); csv\n"
    "                 (the default) and r add dataset.R, which reads the CSVs into R with the\n"
    "                 same types and labels (docs/exports.md)\n"
    "\n"
    "Records unchanged since the last dataset of the same format are not derived again: their\n"
    "rows come from the export cache beside the database (FILE.cache/, docs/exports.md),\n"
    "valid while the audit trail names no change to them; IOHEME_EXPORT_CACHE=off derives\n"
    "every record afresh. The files are the same either way.\n"
    "\n"
    "Needs a role with export (admin, data_manager, statistician).\n"
    "  --user NAME    acting user (default $IOHEME_USER); password from $IOHEME_PASSWORD,\n"
    "                 else asked on the terminal\n";

static int parse_long(const char *s, long lo, long hi, long *out)
{
    long long v;
    if (!fmt_parse_int(s, lo, hi, &v))
        return -1;
    *out = (long)v;
    return 0;
}

const struct cli_opt_spec cmd_simulate_opts[] = {
    {"db", true},   {"patients", true}, {"seed", true}, {"batch", true},
    {"user", true}, {"site-mix", true}, {"site", true}, {NULL, false}};

/* The cohort the arguments ask for. */
struct sim_plan {
    long n, batch;
    unsigned long long seed;
    bool has_site_mix;
    double site_mix[SIM_NSITES];
};

int cmd_simulate_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error("simulate", "unexpected argument '%s'", a->pos[0]);
    long n, batch = -1;
    if (parse_long(cli_get(a, "patients"), 1, 10000000, &n))
        return cli_usage_error("simulate", "--patients N (1 to 10000000) is required");
    const char *seed_s = cli_get(a, "seed");
    char *end;
    errno = 0;
    unsigned long long seed = seed_s && *seed_s ? strtoull(seed_s, &end, 10) : 0;
    if (!seed_s || !*seed_s || errno || *end || *seed_s == '-')
        return cli_usage_error("simulate", "--seed S (unsigned integer) is required");
    if (cli_get(a, "batch") && parse_long(cli_get(a, "batch"), 0, 10000000, &batch))
        return cli_usage_error("simulate", "--batch K must be a non-negative integer");
    if (batch < 0)
        batch = n > 1000 ? 500 : 0;
    struct sim_plan *p = arena_alloc(&ctx->ar, sizeof *p);
    if (!p) {
        struct err e;
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail("simulate", &e);
    }
    *p = (struct sim_plan){n, batch, seed, false, {0}};
    if (cli_get(a, "site-mix")) {
        struct err e = {0};
        if (sim_site_mix_parse(cli_get(a, "site-mix"), p->site_mix, &e))
            return cli_usage_error("simulate", "%s", e.msg);
        p->has_site_mix = true;
    }
    ctx->data = p;
    return 0;
}

int cmd_simulate(struct cmd_ctx *ctx)
{
    const struct sim_plan *p = ctx->data;
    struct err e = {0};
    /* the simulator screens, enrols and enters data: it needs all three permissions (the row
     * asks data_write) */
    int rc = store_authorize(ctx->st, &ctx->who, PERM_SCREEN, &e);
    if (rc == 0)
        rc = store_authorize(ctx->st, &ctx->who, PERM_ENROLL, &e);
    struct sim_summary s;
    ctx->who.source = "simulate"; /* the trail tells synthetic rows from typed ones */
    if (rc == 0)
        rc = sim_run(ctx->st, &ctx->who, (uint64_t)p->seed, p->n, p->batch,
                     p->has_site_mix ? p->site_mix : NULL, &s, &e);
    if (rc)
        return cli_fail("simulate", &e);
    printf("simulated %ld screened, %ld enrolled, %ld screen failures; %ld values written "
           "(%ld soft range flags)\n",
           s.screened, s.enrolled, s.screen_failures, s.changes, s.soft_flags);
    return 0;
}

const struct cli_opt_spec cmd_dataset_opts[] = {{"db", true},     {"out", true},  {"user", true},
                                                {"format", true}, {"site", true}, {NULL, false}};

int cmd_dataset_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error("dataset", "unexpected argument '%s'", a->pos[0]);
    const char *out = cli_get(a, "out");
    if (!out || !*out)
        return cli_usage_error("dataset", "--out DIR is required");
    enum dataset_format fmt;
    const char *f = cli_get(a, "format");
    if (f && dataset_format_parse(f, &fmt) != 0)
        return cli_usage_error("dataset", "--format is csv, stata, spss, sas or r, not '%s'", f);
    return 0;
}

int cmd_dataset(struct cmd_ctx *ctx)
{
    const char *out = cli_get(&ctx->args, "out");
    struct err e = {0};
    struct adataset ds;
    enum dataset_format fmt = DATASET_CSV;
    if (cli_get(&ctx->args, "format"))
        dataset_format_parse(cli_get(&ctx->args, "format"),
                             &fmt); /* checked by cmd_dataset_check */
    /* written record by record as derived: memory does not grow with the study */
    struct dataset_cache_stats cache;
    int rc = dataset_export(ctx->st, out, fmt, &ds, &cache, &e);
    /* a locked database's output is stamped with its lock (P11-19, P11-31) */
    struct store_db_status dbs;
    if (rc == 0)
        rc = store_db_status(ctx->st, &dbs, &e);
    if (rc == 0 && dbs.state == STORE_DB_LOCKED)
        rc = dataset_write_manifest(&ds, fmt, out, dbs.lock_id, dbs.locked_at, dbs.lock_head, &e);
    /* the audit row names every file written with its SHA-256 (P11-18) */
    json_t *files = NULL;
    if (rc == 0)
        rc = dataset_export_files(&ds, fmt, out, &files, &e);
    if (rc == 0)
        rc = cli_audit_dataset_export(ctx->st, &ctx->who, "dataset", out, &ds, files, &e);
    json_decref(files);
    if (rc == 0 && dbs.state == STORE_DB_LOCKED)
        printf("locked database %s: %s/%s lists every file with its SHA-256\n", dbs.lock_id, out,
               DATASET_MANIFEST_FILE);
    if (rc == 0) {
        cli_print_dataset_written(out, &ds);
        cli_note_export_cache(&cache);
        cli_note_sites(ctx->st);
    }
    derive_free(&ds);
    return rc ? cli_fail("dataset", &e) : 0;
}
