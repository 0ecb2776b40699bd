/* `ioheme report`: one command from the study database (or an exported analysis dataset) to
 * the study report: OUT/report.html (self-contained), OUT/results.json (every number),
 * OUT/dataset/ (the analysis dataset, as `ioheme dataset`) and OUT/figures/ (each figure as
 * SVG, PDF and PNG), and OUT/manifest.json with every file's SHA-256; on a locked database
 * stamped with the lock instead of the clock, so that two runs are byte-identical. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"
#include "report/dataset.h"
#include "report/figure.h"
#include "report/plan.h"
#include "report/report_figs.h"
#include "report/report_html.h"
#include "store/store.h"

const char CMD_REPORT_USAGE[] =
    "usage: ioheme report (--db FILE | --dataset DIR) --out DIR [--user NAME]\n"
    "\n"
    "Runs the statistical analysis plan (docs/sap.md) and writes into DIR (created if missing):\n"
    "  report.html    the study report, self-contained (figures inline), printable\n"
    "  results.json   every number of the report, each with its SAP section\n"
    "  dataset/       the analysis dataset (as 'ioheme dataset')\n"
    "  figures/       flow, enrolment, Kaplan-Meier, trajectories, forest: .svg .pdf .png\n"
    "  manifest.json  every other file of DIR with its size and SHA-256, and the lock\n"
    "\n"
    "On a locked database (ioheme db lock) the report is the lock's: report.html and\n"
    "results.json carry the lock's identifier, its time as the snapshot and the audit head\n"
    "at the lock, so two runs give byte-identical folders (P11-19, P11-31).\n"
    "\n"
    "  --db FILE      the study database (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --dataset DIR  an analysis dataset written by 'ioheme dataset' instead of a database\n"
    "                 (the report then has no audit-chain head)\n"
    "  --out DIR      output directory\n"
    "  --user NAME    acting user (default $IOHEME_USER); password from $IOHEME_PASSWORD,\n"
    "                 else asked on the terminal\n"
    "\n"
    "From a database the report needs a role with analyse and export (admin, statistician),\n"
    "and is recorded in the audit trail once written (action export: who, DIR's name, each\n"
    "table's row count). From --dataset no database is opened and nobody logs in: the files\n"
    "were exported (and audited) by 'ioheme dataset' and are protected as files.\n";

/* fontconfig loads its configuration once per process and frees it only in FcFini, which the
 * build does not link; fig_release_caches() frees everything cairo holds. This tells
 * LeakSanitizer (in sanitizer builds) about that one process-lifetime allocation, as
 * tests/unit/test_figure.c does: the rule covers only allocations inside libfontconfig. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

/* Reads the dataset: from --dataset DIR, or from the database st (open, the user logged in for
 * analyse by cli_run) once the user is also allowed to export. */
static int load(const struct cli_args *a, struct store *st, const struct store_ctx *who,
                struct adataset *ds, struct report_meta *m, char snapshot[32], char head[65],
                struct store_db_status *dbs, struct strbuf *source, struct err *e)
{
    const char *dir = cli_get(a, "dataset");
    if (!st) {
        strbuf_addf(source, "dataset %s", dir);
        fmt_utc_ms((long long)time(NULL) * 1000, snapshot);
        m->has_audit = false;
        return dataset_read(dir, ds, e);
    }
    strbuf_addf(source, "database %s", cli_db_path(a));
    int rc = store_authorize(st, who, PERM_EXPORT, e);
    /* a report of some sites says so where it names its source (--site, a site's user) */
    struct strbuf sites = STRBUF_INIT;
    if (rc == 0)
        rc = store_reads_sites(st, &sites, e);
    if (rc == 0 && sites.len)
        strbuf_addf(source, ": %s only, not the whole study", strbuf_str(&sites));
    strbuf_release(&sites);
    if (rc == 0) {
        fmt_utc_ms(store_now_ms(st), snapshot);
        rc = store_audit_head(st, &m->audit_rows, head, e);
        m->has_audit = rc == 0;
        m->target_n = store_dict(st)->study.target_enrolment;
    }
    if (rc == 0)
        rc = store_db_status(st, dbs, e);
    if (rc == 0 && dbs->state == STORE_DB_LOCKED) {
        /* a locked database's report is the lock's: its time and audit head stand for the
         * snapshot, so two runs are byte-identical (each run's own export row comes later) */
        fmt_exact(snapshot, 32, "%s", dbs->locked_at);
        fmt_exact(head, 65, "%s", dbs->lock_head);
        m->audit_rows = dbs->lock_rows;
        m->lock_id = dbs->lock_id;
        m->locked_at = dbs->locked_at;
    }
    struct store_protocol_version *pv = NULL;
    size_t npv = 0;
    if (rc == 0)
        rc = store_protocol_versions(st, &pv, &npv, e);
    json_t *versions = rc == 0 ? json_array() : NULL;
    for (size_t i = 0; versions && i < npv; i++)
        json_array_append_new(versions, json_pack("{s:i, s:s, s:s, s:s}", "version", pv[i].version,
                                                  "applied_at", pv[i].applied_at, "reason",
                                                  pv[i].reason, "sha256", pv[i].sha256));
    free(pv);
    m->protocol_versions = versions;
    if (rc == 0)
        rc = dataset_from_store(st, ds, e);
    return rc;
}

static int write_outputs(const char *out, const struct adataset *ds, const json_t *results,
                         struct err *e)
{
    struct strbuf path = STRBUF_INIT;
    int rc = dataset_mkdir(out, e);
    if (rc == 0) {
        strbuf_addf(&path, "%s/dataset", out);
        rc = dataset_write(ds, strbuf_str(&path), e);
    }
    if (rc == 0) {
        strbuf_reset(&path);
        strbuf_addf(&path, "%s/figures", out);
        rc = dataset_mkdir(strbuf_str(&path), e);
    }
    struct report_fig figs[REPORT_MAX_FIGS];
    size_t nfigs = 0;
    if (rc == 0)
        rc = report_figs_make(results, strbuf_str(&path), figs, &nfigs, e);
    struct strbuf html = STRBUF_INIT;
    if (rc == 0)
        rc = report_html(results, figs, nfigs, &html, e);
    if (rc == 0)
        rc = dataset_write_file(out, "report.html", strbuf_str(&html), html.len, e);
    char *js = rc == 0 ? json_out_dumps(results, JSON_INDENT(2)) : NULL;
    if (rc == 0 && !js)
        rc = err_set(e, ERR_NOMEM, "out of memory writing results.json");
    if (rc == 0) {
        size_t len = strlen(js);
        js[len] = '\n';
        rc = dataset_write_file(out, "results.json", js, len + 1, e);
    }
    free(js);
    strbuf_release(&html);
    report_figs_free(figs, nfigs);
    strbuf_release(&path);
    return rc;
}

const struct cli_opt_spec cmd_report_opts[] = {{"db", true},   {"dataset", true}, {"out", true},
                                               {"user", true}, {"site", true},    {NULL, false}};

int cmd_report_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error("report", "unexpected argument '%s'", a->pos[0]);
    const char *out = cli_get(a, "out");
    if (!out || !*out)
        return cli_usage_error("report", "--out DIR is required");
    if (cli_get(a, "dataset") && cli_get(a, "db"))
        return cli_usage_error("report", "give --db or --dataset, not both");
    /* from an exported dataset no database is opened and nobody logs in */
    const char *dir = cli_get(a, "dataset");
    if (dir && *dir)
        ctx->use_db = false;
    return 0;
}

int cmd_report(struct cmd_ctx *ctx)
{
    const char *out = cli_get(&ctx->args, "out");
    struct store *st = ctx->st;
    struct err e = {0};
    struct adataset ds;
    struct report_meta m = {0};
    char snapshot[32] = "", head[65] = "";
    struct store_db_status dbs = {0};
    struct strbuf source = STRBUF_INIT;
    int rc = load(&ctx->args, st, &ctx->who, &ds, &m, snapshot, head, &dbs, &source, &e);
    json_t *results = NULL;
    if (rc == 0) {
        m.source = strbuf_str(&source);
        m.is_synthetic = ds.is_synthetic;
        m.snapshot = snapshot;
        m.audit_head = head;
        rc = report_plan_run(&ds, &m, &results, &e);
        if (rc == 0)
            rc = write_outputs(out, &ds, results, &e);
        if (rc == 0) /* last: it lists every file written before it */
            rc = dataset_write_tree_manifest(out, m.lock_id, m.locked_at, head, &e);
        if (rc == 0 &&
            st) { /* the manifest names every file with its SHA-256: its own binds them */
            struct strbuf mpath = STRBUF_INIT;
            char sha[65];
            strbuf_addf(&mpath, "%s/%s", out, DATASET_MANIFEST_FILE);
            rc = mpath.failed ? err_set(&e, ERR_NOMEM, "out of memory")
                              : dataset_file_sha256(strbuf_str(&mpath), sha, NULL, &e);
            strbuf_release(&mpath);
            json_t *files =
                rc ? NULL : json_pack("[{s:s, s:s}]", "file", DATASET_MANIFEST_FILE, "sha256", sha);
            if (rc == 0 && !files)
                rc = err_set(&e, ERR_NOMEM, "out of memory");
            if (rc == 0)
                rc = cli_audit_dataset_export(st, &ctx->who, "report", out, &ds, files, &e);
            json_decref(files);
        }
        if (rc == 0) {
            printf("wrote %s/report.html, %s/results.json and %s/figures/ (SVG, PDF, PNG)\n", out,
                   out, out);
            struct strbuf dir = STRBUF_INIT;
            strbuf_addf(&dir, "%s/dataset", out);
            cli_print_dataset_written(strbuf_str(&dir), &ds);
            strbuf_release(&dir);
        }
        derive_free(&ds);
    }
    json_decref(results);
    json_decref((json_t *)m.protocol_versions);
    strbuf_release(&source);
    fig_release_caches(); /* the command is the process: nothing renders after this */
    return rc ? cli_fail("report", &e) : 0;
}
