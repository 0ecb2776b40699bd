/* `ioheme export FORMAT`: the study in a standard file format for sponsors, registries and
 * regulators. One subcommand per format (odm here); each writes its file, then records the
 * export in the audit trail with the file's SHA-256 (store_audit_access, as dataset, report
 * and audit export do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/odm.h"
#include "report/dataset.h"

const char CMD_EXPORT_USAGE[] =
    "usage: ioheme export odm|redcap|xpt --out FILE|DIR [options]\n"
    "\n"
    "Writes the study in a standard format. Formats:\n"
    "  odm    CDISC ODM 1.3.2 (XML): metadata, users and site, every value with its audit\n"
    "         record, signatures, queries ('ioheme export odm --help')\n"
    "  redcap the protocol's REDCap files and data.csv, the flat records export REDCap's Data\n"
    "         Import Tool takes ('ioheme export redcap --help')\n"
    "  xpt    SDTM-like domains as SAS transport files (version 5) with define.xml\n"
    "         ('ioheme export xpt --help')\n"
    "Needs a role with export (admin, data_manager, statistician). Every export is recorded in\n"
    "the audit trail with the file's name and SHA-256.\n";

const char CMD_EXPORT_ODM_USAGE[] =
    "usage: ioheme export odm --out FILE [--metadata-only] [--record ID ...] [--records LIST]\n"
    "                         [--no-audit] [--deidentified] [--json]\n"
    "\n"
    "Writes one CDISC ODM 1.3.2 file (docs/exports.md): the protocol as Study/MetaDataVersion\n"
    "(events, forms, item groups, items with data type, length, range checks, code lists,\n"
    "branching logic as ConditionDef and calcs as MethodDef), AdminData (users, the site,\n"
    "signature meanings) and ClinicalData: every record's values with their audit records\n"
    "(each change a Transactional ItemData: user, UTC time, reason, source), its e-signatures\n"
    "and its queries as Annotations. The file's time is the audit trail's last change (not\n"
    "the clock): the same database gives the same bytes. It validates against the ODM 1.3.2\n"
    "XSD. The export is audited (action export) with the file's name and SHA-256.\n"
    "\n"
    "  --out FILE        the file to write (replaced)\n"
    "  --metadata-only   the protocol, users and site only: no ClinicalData\n"
    "  --record ID       only this record (study ID or screening number); may be repeated\n"
    "  --records LIST    only these records, comma-separated\n"
    "  --no-audit        current values only (a Snapshot file), without their history\n"
    "  --deidentified    leave out the values of fields marked Identifier? = y in the\n"
    "                    dictionary, queries on them, and the users' real names (always,\n"
    "                    for a role without the identifiers permission)\n"
    "  --json            print what was written as JSON\n"
    "  --db FILE --user NAME   as for every command (password: $IOHEME_PASSWORD)\n";

const struct cli_opt_spec cmd_export_odm_opts[] = {
    STORE_CLI_COMMON_OPTS,    {"site", true},          {"out", true},
    {"metadata-only", false}, {"record", true},        {"records", true},
    {"no-audit", false},      {"deidentified", false}, {NULL, false}};

const char CMD_EXPORT_REDCAP_USAGE[] =
    "usage: ioheme export redcap --out DIR [--json]\n"
    "\n"
    "Writes the study back in REDCap's formats (docs/redcap.md): dictionary.csv (REDCap's data\n"
    "dictionary), events.csv, form_events.csv and repeating.csv as the database holds them,\n"
    "and data.csv — one row per record and event, one per instance of a repeating form\n"
    "(redcap_repeat_instrument, redcap_repeat_instance) or of a repeating event (the\n"
    "instrument blank), every field in dictionary order,\n"
    "checkbox options as field___code (1/0), <form>_complete after each form — which\n"
    "REDCap's Data Import Tool and `ioheme import` take. Identifier fields are written only\n"
    "for a role that may see them. Audited (action export) with data.csv's SHA-256.\n"
    "  --out DIR   the folder to write (created when missing; files replaced)\n"
    "  --db FILE --user NAME --json   as for every command (password: $IOHEME_PASSWORD)\n";

static const struct cli_opt_spec cmd_export_redcap_opts[] = {
    STORE_CLI_COMMON_OPTS, {"site", true}, {"out", true}, {NULL, false}};

static int cmd_export_redcap(struct cmd_ctx *ctx)
{
    const char *out = cli_get(&ctx->args, "out"); /* required: cmd_export_check */
    struct err e = {0};
    size_t nrec = 0, nrows = 0;
    char sha[65];
    long long bytes = 0;
    struct strbuf path = STRBUF_INIT, detail = STRBUF_INIT;
    int rc = dataset_redcap_export(ctx->st, out, &nrec, &nrows, &e);
    strbuf_addf(&path, "%s/data.csv", out);
    if (!rc)
        rc = path.failed ? err_set(&e, ERR_NOMEM, "out of memory")
                         : dataset_file_sha256(strbuf_str(&path), sha, &bytes, &e);
    strbuf_addf(&detail, "REDCap files in %s: %zu records, %zu rows; data.csv sha256 %s", out, nrec,
                nrows, rc ? "" : sha);
    if (!rc)
        rc = store_audit_access(ctx->st, &ctx->who, "export", "export redcap", strbuf_str(&detail),
                                &e);
    strbuf_release(&path);
    strbuf_release(&detail);
    if (rc)
        return cli_fail("export redcap", &e);
    if (cli_has(&ctx->args, "json"))
        cli_json_print(json_pack("{s:s, s:I, s:I, s:s}", "out", out, "records", (json_int_t)nrec,
                                 "rows", (json_int_t)nrows, "data_sha256", sha));
    else
        printf("wrote %s: %zu records in %zu rows (data.csv sha256 %.16s…)\n", out, nrec, nrows,
               sha);
    cli_note_sites(ctx->st);
    return 0;
}

const char CMD_EXPORT_XPT_USAGE[] =
    "usage: ioheme export xpt --out DIR [--json]\n"
    "\n"
    "Writes the study as SDTM-like domains in SAS transport files, version 5 (what regulators\n"
    "take), with define.xml (Define-XML 2.0) describing them (docs/exports.md): dm.xpt\n"
    "(demographics), ds.xpt (consent and end of study), pr.xpt (each IO insertion attempt),\n"
    "ec.xpt (each infusion through the IO line), vs.xpt (MAP, heart rate, systolic pressure\n"
    "at each time point), lb.xpt (the baseline panel with its specimen source, lactate over\n"
    "time), ae.xpt (complications with CTCAE grade), and suppdm/supppr/suppec/supplb.xpt for\n"
    "what has no SDTM variable. Names <= 8 characters, labels <= 40, values <= 200, dates ISO\n"
    "8601. The same database gives the same bytes. Audited (action export) with define.xml's\n"
    "and each file's SHA-256. Records unchanged since the last export come from the export\n"
    "cache beside the database (FILE.cache/; IOHEME_EXPORT_CACHE=off: every record derived\n"
    "afresh; the same bytes either way).\n";

static const struct cli_opt_spec cmd_export_xpt_opts[] = {
    STORE_CLI_COMMON_OPTS, {"site", true}, {"out", true}, {NULL, false}};

static int cmd_export_xpt(struct cmd_ctx *ctx)
{
    const char *out = cli_get(&ctx->args, "out"); /* required: cmd_export_check */
    struct err e = {0};
    struct dataset_sdtm_stats s;
    int rc = dataset_sdtm_write(ctx->st, out, &s, &e);
    static const char *const files[] = {"dm",     "suppdm", "ds", "pr",     "supppr", "ec",
                                        "suppec", "vs",     "lb", "supplb", "ae",     NULL};
    struct strbuf detail = STRBUF_INIT, path = STRBUF_INIT;
    json_t *shas = json_object();
    strbuf_addf(&detail, "SDTM XPT v5 in %s: %zu datasets, %zu subjects, %zu rows;", out,
                s.datasets, s.subjects, s.rows);
    for (size_t i = 0; !rc && i <= sizeof files / sizeof files[0] - 1; i++) {
        char sha[65];
        long long bytes = 0;
        strbuf_reset(&path);
        if (files[i])
            strbuf_addf(&path, "%s/%s.xpt", out, files[i]);
        else
            strbuf_addf(&path, "%s/define.xml", out);
        rc = path.failed ? err_set(&e, ERR_NOMEM, "out of memory")
                         : dataset_file_sha256(strbuf_str(&path), sha, &bytes, &e);
        if (!rc) {
            strbuf_addf(&detail, " %s %s", files[i] ? files[i] : "define", sha);
            json_object_set_new(shas, files[i] ? files[i] : "define.xml", json_string(sha));
        }
    }
    if (!rc)
        rc = detail.failed ? err_set(&e, ERR_NOMEM, "out of memory")
                           : store_audit_access(ctx->st, &ctx->who, "export", "export xpt",
                                                strbuf_str(&detail), &e);
    strbuf_release(&detail);
    strbuf_release(&path);
    if (rc) {
        json_decref(shas);
        return cli_fail("export xpt", &e);
    }
    if (cli_has(&ctx->args, "json"))
        cli_json_print(json_pack("{s:s, s:I, s:I, s:I, s:o}", "out", out, "datasets",
                                 (json_int_t)s.datasets, "subjects", (json_int_t)s.subjects, "rows",
                                 (json_int_t)s.rows, "sha256", shas));
    else {
        json_decref(shas);
        printf("wrote %s: %zu SDTM datasets (SAS XPT v5) for %zu subjects, %zu rows, and "
               "define.xml\n",
               out, s.datasets, s.subjects, s.rows);
        cli_note_export_cache(&s.cache);
    }
    cli_note_sites(ctx->st);
    return 0;
}

const struct cli_sub cmd_export_subs[] = {
    {"odm", cmd_export_odm_opts, CMD_EXPORT_ODM_USAGE, cmd_export_odm},
    {"redcap", cmd_export_redcap_opts, CMD_EXPORT_REDCAP_USAGE, cmd_export_redcap},
    {"xpt", cmd_export_xpt_opts, CMD_EXPORT_XPT_USAGE, cmd_export_xpt},
    {NULL, NULL, NULL, NULL}};

/* The records asked for: every --record, then --records split at commas (in the command's
 * arena). */
static int odm_records(struct cmd_ctx *ctx, struct odm_write_opts *o)
{
    const struct cli_args *a = &ctx->args;
    size_t cap = a->nopts;
    const char *list = cli_get(a, "records");
    for (const char *p = list; p && *p; p++)
        cap += *p == ',';
    cap += 1;
    const char **recs = arena_calloc(&ctx->ar, cap, sizeof *recs);
    if (!recs)
        return ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_name[i], "record") == 0)
            recs[n++] = a->opt_value[i];
    if (list) {
        char *copy = arena_strdup(&ctx->ar, list);
        if (!copy)
            return ERR_NOMEM;
        for (char *tok = copy, *next; tok; tok = next) {
            next = strchr(tok, ',');
            if (next)
                *next++ = '\0';
            if (*tok)
                recs[n++] = tok;
        }
    }
    o->records = recs;
    o->nrecords = n;
    return 0;
}

static int export_odm_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error(ctx->name, "unexpected argument '%s'", a->pos[0]);
    const char *out = cli_get(a, "out");
    if (!out || !*out)
        return cli_usage_error(ctx->name, "--out FILE is required");
    struct odm_write_opts *o = arena_calloc(&ctx->ar, 1, sizeof *o);
    if (!o || odm_records(ctx, o)) {
        struct err e = {0};
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail(ctx->name, &e);
    }
    const char *list = cli_get(a, "records");
    if (list && o->nrecords == 0)
        return cli_usage_error(ctx->name, "--records needs at least one record ID");
    o->is_metadata_only = cli_has(a, "metadata-only");
    o->has_audit = !cli_has(a, "no-audit");
    o->is_deidentified = cli_has(a, "deidentified");
    if (o->is_metadata_only && o->nrecords)
        return cli_usage_error(ctx->name, "--metadata-only writes no records: drop --record(s)");
    ctx->data = o;
    return 0;
}

int cmd_export_check(struct cmd_ctx *ctx)
{
    if (ctx->sub && strcmp(ctx->sub->name, "odm") == 0)
        return export_odm_check(ctx);
    const char *out = cli_get(&ctx->args, "out");
    if (ctx->sub && strcmp(ctx->sub->name, "redcap") == 0 && (!out || !*out))
        return cli_usage_error("export redcap", "--out DIR is required");
    return 0;
}

int cmd_export_odm(struct cmd_ctx *ctx)
{
    struct odm_write_opts *o = ctx->data;
    /* a role that may not see identifiers exports without them (never their mask) */
    struct store_user u;
    enum role role;
    if (store_user_get(ctx->st, ctx->who.user, &u, NULL) != 0 ||
        role_from_name(u.role, &role) != 0 || !perm_allows(role, PERM_IDENTIFIERS))
        o->is_deidentified = true;
    const char *out = cli_get(&ctx->args, "out");
    struct err e = {0};
    struct odm_write_stats s;
    int rc = odm_write(ctx->st, out, o, &s, &e);
    if (rc) {
        (void)remove(out); /* a partial file is no export */
        return cli_fail(ctx->name, &e);
    }
    char sha[65];
    long long bytes = 0;
    rc = dataset_file_sha256(out, sha, &bytes, &e);
    struct strbuf detail = STRBUF_INIT;
    cli_add_basename(&detail, out);
    strbuf_addf(&detail, ": ODM 1.3.2%s%s%s, %zu subjects, %zu item data, %lld bytes, sha256 %s",
                o->is_metadata_only ? ", metadata only" : "",
                o->has_audit ? ", with audit" : ", without audit",
                o->is_deidentified ? ", de-identified" : "", s.subjects, s.items, bytes, sha);
    /* a subset names its records: which subjects left the study is the audit's to say */
    for (size_t i = 0; i < o->nrecords; i++)
        strbuf_addf(&detail, "%s%s", i ? ", " : "; records ", o->records[i]);
    if (!rc && detail.failed)
        rc = err_set(&e, ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_audit_access(ctx->st, &ctx->who, "export", "export odm", detail.buf, &e);
    strbuf_release(&detail);
    if (rc)
        return cli_fail(ctx->name, &e);
    if (cli_has(&ctx->args, "json")) {
        cli_json_print(json_pack("{s:s, s:s, s:I, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I}",
                                 "file", out, "format", "ODM 1.3.2", "bytes", (json_int_t)bytes,
                                 "sha256", sha, "metadata_only", o->is_metadata_only, "audit",
                                 o->has_audit, "deidentified", o->is_deidentified, "subjects",
                                 (json_int_t)s.subjects, "item_data", (json_int_t)s.items,
                                 "signatures", (json_int_t)s.signatures, "annotations",
                                 (json_int_t)s.annotations, "withheld", (json_int_t)s.withheld));
    } else {
        printf("wrote %s: ODM 1.3.2 (%s), %zu subjects, %zu item data, %zu signatures, %zu "
               "queries; %lld bytes, sha256 %s\n",
               out, o->has_audit && !o->is_metadata_only ? "Transactional, with audit" : "Snapshot",
               s.subjects, s.items, s.signatures, s.annotations, bytes, sha);
        if (s.withheld)
            printf("left out %zu identifier value(s) (--deidentified)\n", s.withheld);
    }
    cli_note_sites(ctx->st);
    return 0;
}
