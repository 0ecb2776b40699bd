/* `ioheme import FILE.json|FILE.csv`: REDCap's flat record format, all rows or none.
 *
 * Columns: record_id (the dictionary's first field: a study ID or screening number that
 * exists), redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, then fields;
 * checkbox options as field___code, form status as form_complete. Blank cells are left alone
 * (REDCap's "do not overwrite with blanks"); calc fields are skipped (they are recomputed).
 * Every row goes through the one write path inside one batch; every rejected value is
 * reported with its row, and then nothing is saved. Audit rows carry source "import" and the
 * file's SHA-256. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/digest.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/csv.h"
#include "formats/json_out.h"
#include "formats/odm.h"
#include "formats/redcap.h"

const char CMD_IMPORT_USAGE[] =
    "usage: ioheme import FILE.csv|FILE.json|FILE.xml [--overwrite] [--date-format YMD|MDY|DMY]\n"
    "                     [--csv-delimiter D] [--auto-number] [--reason TEXT] [--dry-run]\n"
    "                     [--json]\n"
    "       ioheme import [odm] FILE.xml [--reason TEXT] [--dry-run] [--json]\n"
    "\n"
    "Imports values in REDCap's flat format (as exported by REDCap: record_id,\n"
    "redcap_event_name, redcap_repeat_instrument, redcap_repeat_instance, fields; checkboxes as\n"
    "field___code; form status as form_complete). Records the database lacks are created with\n"
    "the file's IDs where the protocol has no eligibility criteria (a REDCap project brought\n"
    "in); elsewhere they must exist (screened). All rows are saved or none: every rejected\n"
    "value is listed with its row and the rule it breaks. Blank cells change nothing (so a row\n"
    "whose answer hides a stored value is refused: clear the value with 'ioheme set' first);\n"
    "calculated fields are recomputed, not imported. The audit trail records source 'import'\n"
    "and the file's SHA-256.\n"
    "\n"
    "A FILE.xml whose root is <records> is REDCap's XML records export, imported as the flat\n"
    "files are. 'import odm' (or any other FILE.xml) reads the ClinicalData of a CDISC ODM\n"
    "1.3.2 file: ioheme's own export ('ioheme export odm'; with audit, each value's last change\n"
    "is its value) or REDCap's project XML (read leniently). Each subject's values go through\n"
    "the same write path in one change set; a Remove (or IsNull) clears a value. A subject not\n"
    "in the database is created as the study does it: screened with its screening-event values\n"
    "(the next screening number), enrolled when its key is a study ID (the next study ID), then\n"
    "its other values; a number that does not come out as the file's key refuses the import, so\n"
    "import a whole export into a fresh database of the same protocol, or values into existing\n"
    "records.\n"
    "\n"
    "  --overwrite     blank cells clear values (REDCap's overwriteBehavior=overwrite): a\n"
    "                  blank cell of a field collected at the row's event and instance clears\n"
    "                  it there; calc fields and form statuses are left alone\n"
    "  --date-format F how the file writes dates and date-times: YMD (YYYY-MM-DD, the\n"
    "                  default), MDY (M/D/YYYY) or DMY (D/M/YYYY), a time after a space;\n"
    "                  stored as YYYY-MM-DD whatever the field shows (REDCap's dateFormat)\n"
    "  --csv-delimiter D  what separates a CSV file's cells: , (the default), tab, ; | or ^\n"
    "                  (REDCap's csvDelimiter)\n"
    "  --auto-number   every record of the file is a new one, named as enrolment names\n"
    "                  records (the protocol's study_id_format, next free number); rows with\n"
    "                  the same ID go to the same new record; each ID given and the name it\n"
    "                  got are printed (REDCap's forceAutoNumber)\n"
    "  --reason TEXT   reason for changes to forms already marked complete\n"
    "  --dry-run       check every value through the write path, then save nothing\n"
    "  --json          print the outcome (and every rejection) as JSON\n";

static void odm_reject(void *ctx, const char *subject, const char *oid, const char *rule,
                       const char *msg)
{
    redcap_import_reject(ctx, 0, subject, oid, rule, msg);
}

/* The event where the protocol screens (its @ELIGIBLE field's form's first event), or NULL. */
static const char *screening_event(const struct dict *d)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].is_eligible)
            return cli_form_event(d, d->fields[i].form);
    return NULL;
}

/* One ODM subject: all its values in one change set through the write path; a subject the
 * database does not have is first screened (its screening-event values) and, when its key is
 * not the screening number it got, enrolled — the numbers must come out as the file's key. */
static int import_subject(struct store *st, const struct store_ctx *who, struct arena *ar,
                          const struct odm_subject *s, const char *reason,
                          struct redcap_import *rep)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsets; i++)
        n += s->sets[i].n;
    struct store_change *all = n ? arena_calloc(ar, n, sizeof *all) : NULL;
    if (n && !all)
        return ERR_NOMEM;
    n = 0;
    for (size_t i = 0; i < s->nsets; i++)
        for (size_t j = 0; j < s->sets[i].n; j++)
            all[n++] = s->sets[i].changes[j];
    struct err e = {0};
    struct store_record rec;
    int rc = store_record_get(st, s->key, &rec, &e);
    if (rc && rc != ERR_NOT_FOUND)
        return rc;
    struct store_put_result res;
    if (rc == ERR_NOT_FOUND) {
        /* creating a subject is screening and enrolling: the user needs both (as simulate) */
        e = (struct err){0};
        rc = store_authorize(st, who, PERM_SCREEN, &e);
        if (!rc)
            rc = store_authorize(st, who, PERM_ENROLL, &e);
        if (rc) {
            redcap_import_reject(rep, 0, s->key, "SubjectKey", err_info(rc)->name, e.msg);
            return 0;
        }
        const char *scr_ev = screening_event(store_dict(st));
        if (!scr_ev) {
            /* no eligibility screen (a REDCap project): the record takes the file's key, as
             * a flat import's does */
            e = (struct err){0};
            rc = store_record_create_named(st, who, s->key, &e);
            if (rc == ERR_NOMEM || rc == ERR_IO || rc == ERR_BUSY)
                return rc;
            if (rc) {
                redcap_import_reject(rep, 0, s->key, "SubjectKey", err_info(rc)->name, e.msg);
                return 0;
            }
            rep->created++;
            store_put_result_init(&res);
            e = (struct err){0};
            rc = store_put_changes(st, who, s->key, all, n, reason, &res, &e);
            return redcap_import_outcome(rc, &e, &res, 0, s->key, rep);
        }
        /* screening values first (before enrolment only they are taken), then the rest */
        size_t nscr = 0;
        for (size_t i = 0; i < n; i++)
            if (scr_ev && strcmp(all[i].event, scr_ev) == 0) {
                struct store_change t = all[i];
                memmove(&all[nscr + 1], &all[nscr], (i - nscr) * sizeof *all);
                all[nscr++] = t;
            }
        char scr[16], id[STORE_RECORD_ID_MAX + 1];
        store_put_result_init(&res);
        e = (struct err){0};
        rc = store_screen_create(st, who, all, nscr, scr, &res, &e);
        size_t before = rep->rejected;
        if ((rc = redcap_import_outcome(rc, &e, &res, 0, s->key, rep)) != 0 ||
            rep->rejected > before)
            return rc;
        const char *got = scr;
        if (strcmp(s->key, scr) != 0) {
            store_put_result_init(&res);
            e = (struct err){0};
            rc = store_enroll(st, who, scr, NULL, 0, id, &res, &e);
            if ((rc = redcap_import_outcome(rc, &e, &res, 0, s->key, rep)) != 0 ||
                rep->rejected > before)
                return rc;
            got = id;
        }
        if (strcmp(s->key, got) != 0) {
            char msg[256];
            fmt_text(msg, sizeof msg,
                     "not in the database, and creating it gave '%s': import a whole export "
                     "into a fresh database, or into the records it names",
                     got);
            redcap_import_reject(rep, 0, s->key, "SubjectKey", "record_id", msg);
            return 0;
        }
        all += nscr;
        n -= nscr;
    }
    store_put_result_init(&res);
    e = (struct err){0};
    rc = store_put_changes(st, who, s->key, all, n, reason, &res, &e);
    return redcap_import_outcome(rc, &e, &res, 0, s->key, rep);
}

/* The second reading of an ODM file: each subject imported as it is read, in the batch. */
struct odm_import {
    struct store *st;
    const struct store_ctx *who;
    const char *reason;
    struct redcap_import *rep;
    struct arena ar; /* one subject's change set: reset after each */
};

static int import_one(void *ctx, const struct odm_subject *s, struct err *e)
{
    struct odm_import *oi = ctx;
    int rc = import_subject(oi->st, oi->who, &oi->ar, s, oi->reason, oi->rep);
    arena_reset(&oi->ar);
    return rc ? err_set(e, rc, "import stopped at subject %s", s->key) : 0;
}

const struct cli_opt_spec cmd_import_opts[] = {
    STORE_CLI_COMMON_OPTS,  {"site", true},          {"reason", true},
    {"dry-run", false},     {"overwrite", false},    {"date-format", true},
    {"auto-number", false}, {"csv-delimiter", true}, {NULL, false}};

/* The file, read before the database is opened, and its rows, read against the protocol
 * before the login. */
struct import_plan {
    const char *path;
    char *data; /* in the command's arena */
    size_t len;
    char sha[65];
    bool is_json;
    bool is_odm;                  /* import odm FILE */
    bool is_stream;               /* ODM read from the file as parsed (data NULL; sha by prepare) */
    bool is_dry_run;              /* checked, nothing saved */
    struct redcap_read_opts opts; /* --overwrite, --date-format, --csv-delimiter */
    struct redcap_flat flat;      /* the file as a flat import reads it */
    size_t nsurvey;               /* ODM: survey metadata left out, over the whole file */
    struct redcap_import rep;
    bool json;
};

/* The first cap bytes of path (fewer when it is shorter), and whether it is a regular file. */
static int file_head(const char *path, char *buf, size_t cap, size_t *len, bool *is_regular,
                     struct err *e)
{
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
    if (!f) /* standard input: read whole, as it comes */
        return strcmp(path, "-") == 0 ? 0 : err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    *is_regular = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
    *len = fread(buf, 1, cap, f);
    bool bad = ferror(f);
    (void)fclose(f);
    return bad ? err_set(e, ERR_IO, "%s: read error", path) : 0;
}

int cmd_import_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    bool is_odm = a->npos == 2 && strcmp(a->pos[0], "odm") == 0;
    size_t l0 = a->npos == 1 ? strlen(a->pos[0]) : 0;
    /* FILE.xml: ODM, as `import odm FILE.xml` (REDCap's project XML), unless it is REDCap's XML
     * records export (<records>), which is flat (below, once read) */
    bool is_xml = l0 > 4 && strcmp(a->pos[0] + l0 - 4, ".xml") == 0;
    if (a->npos != 1 && !is_odm)
        return cli_usage_error("import", "expects one FILE.csv or FILE.json, or odm FILE.xml");
    struct redcap_read_opts opts = {.overwrite = cli_has(a, "overwrite")};
    const char *df = cli_get(a, "date-format");
    if (df && redcap_dates_parse(df, &opts.dates) != 0)
        return cli_usage_error("import", "--date-format is YMD, MDY or DMY, not '%s'", df);
    const char *dl = cli_get(a, "csv-delimiter");
    /* an empty value (an unset shell variable) is refused, not read as the default */
    if ((dl && !*dl) || redcap_delim_parse(dl, &opts.delim) != 0)
        return cli_usage_error("import", "--csv-delimiter is , tab ; | or ^, not '%s'", dl);
    struct err e = {0};
    struct import_plan *p = arena_calloc(&ctx->ar, 1, sizeof *p);
    if (!p) {
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail("import", &e);
    }
    ctx->data = p;
    p->path = a->pos[a->npos == 2 ? 1 : 0];
    p->opts = opts;
    /* an ODM file on disk is read as it is parsed, in prepare and again in run, never held
     * whole (a study's export with audit runs to gigabytes): here only its beginning, for
     * REDCap's <records> */
    bool is_records = false, is_regular = false;
    if (is_odm || is_xml) {
        char head[65536];
        size_t hl = 0;
        if (file_head(p->path, head, sizeof head, &hl, &is_regular, &e))
            return cli_fail("import", &e);
        is_records = !is_odm && redcap_is_records_xml(head, hl);
        p->is_stream = is_regular && !is_records;
    }
    if (!p->is_stream) {
        if (csv_file_read_arena(p->path, &ctx->ar, &p->data, &p->len, &e))
            return cli_fail("import", &e);
        digest_sha256_hex(p->data, p->len, p->sha);
        is_records = is_xml && !is_odm && redcap_is_records_xml(p->data, p->len);
    }
    p->is_odm = is_odm || (is_xml && !is_records);
    if (p->is_odm && (cli_has(a, "overwrite") || cli_has(a, "date-format") ||
                      cli_has(a, "auto-number") || cli_has(a, "csv-delimiter")))
        return cli_usage_error("import", "--overwrite, --date-format, --csv-delimiter and "
                                         "--auto-number are for REDCap's records (FILE.csv, "
                                         "FILE.json, <records> XML), not ODM");
    size_t plen = strlen(p->path);
    p->is_json = plen > 5 && strcmp(p->path + plen - 5, ".json") == 0;
    p->flat = (struct redcap_flat){
        p->path,  p->data, p->len, is_records ? REDCAP_XML : p->is_json ? REDCAP_JSON : REDCAP_CSV,
        &p->opts, false};
    p->json = cli_has(a, "json");
    redcap_import_init(&p->rep, &ctx->ar, p->json ? NULL : stderr);
    p->rep.auto_number = cli_has(a, "auto-number");
    return 0;
}

/* Prints the outcome (JSON with --json, every row's rejection included) and returns the exit
 * status. */
static int import_done(struct import_plan *p, int rc, const struct err *e)
{
    struct redcap_import *rep = &p->rep;
    if (p->json) {
        json_t *o =
            json_pack("{s:o, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "file",
                      json_out_text(p->path), "format", p->is_odm ? "odm" : "redcap", "sha256",
                      p->sha, "imported", rc == 0 && !p->is_dry_run, "dry_run", p->is_dry_run,
                      p->is_odm ? "subjects" : "rows", (json_int_t)rep->rows, "changed",
                      (json_int_t)rep->changed, "calc", (json_int_t)rep->calc, "status",
                      (json_int_t)rep->status, "unchanged", (json_int_t)rep->unchanged, "rejected",
                      redcap_import_rejections_json(rep));
        json_object_set_new(o, "created", json_integer((json_int_t)rep->created));
        if (rep->auto_number && rc == 0) { /* the file's ID -> the record it became */
            json_t *m = json_object();
            for (size_t i = 0; i < rep->nids; i++)
                json_object_set_new(m, rep->ids[i], json_string(rep->auto_ids[i]));
            json_object_set_new(o, "numbered", m);
        }
        cli_json_print(o);
    }
    size_t nsurvey = rep->nsurvey + p->nsurvey;
    int status = 0;
    if (!rc && nsurvey) /* not data in ioheme, and said so: nothing goes silently */
        (void)fprintf(
            p->json ? stderr : stdout,
            "%zu value(s) left out: survey metadata (<form>_timestamp, "
            "redcap_survey_identifier; ioheme has no surveys) and [document] placeholders of "
            "files REDCap holds\n",
            nsurvey);
    if (rc)
        status = cli_fail("import", e);
    else if (!p->json)
        printf("%s %s (sha256 %.16s…): %zu %s, %zu values changed, %zu calculated, "
               "%zu statuses, %zu unchanged%s\n",
               p->is_dry_run ? "checked (dry run: nothing saved)" : "imported", p->path, p->sha,
               rep->rows, p->is_odm ? "subjects" : "rows", rep->changed, rep->calc, rep->status,
               rep->unchanged,
               rep->created ? arena_printf(rep->ar, "; %zu records created %s", rep->created,
                                           rep->auto_number ? "and numbered" : "with their IDs")
                            : "");
    for (size_t i = 0; !rc && !p->json && rep->auto_number && i < rep->nids; i++)
        printf("  %s -> %s\n", rep->ids[i], rep->auto_ids[i]);
    return status;
}

/* The first reading of an ODM file: its subjects counted, nothing kept. */
static int count_subject(void *ctx, const struct odm_subject *s, struct err *e)
{
    (void)e;
    struct import_plan *p = ctx;
    p->rep.rows++;
    p->nsurvey += s->nsurvey;
    return 0;
}

int cmd_import_prepare(struct cmd_ctx *ctx)
{
    struct import_plan *p = ctx->data;
    struct err e = {0};
    if (p->is_odm) {
        /* read through once for what the reader refuses and to count; again as it is written */
        int rc = p->is_stream ? odm_read_file(store_dict(ctx->st), p->path, p->sha, count_subject,
                                              p, odm_reject, &p->rep, &e)
                              : odm_read(store_dict(ctx->st), p->path, p->data, p->len,
                                         count_subject, p, odm_reject, &p->rep, &e);
        return rc ? import_done(p, rc, &e) : 0;
    }
    /* the rows are read here for what the reader refuses, and again as they are written */
    int rc = redcap_import_read(store_dict(ctx->st), &p->flat, &p->rep, &e);
    return rc ? import_done(p, rc, &e) : 0;
}

int cmd_import(struct cmd_ctx *ctx)
{
    struct import_plan *p = ctx->data;
    struct store *st = ctx->st;
    struct err e = {0};
    struct store_ctx who = ctx->who;
    who.source = "import";
    who.source_sha256 = p->sha;
    const char *reason = cli_get(&ctx->args, "reason");
    p->is_dry_run = cli_has(&ctx->args, "dry-run");
    if (!p->is_odm) {
        int rc = redcap_import_flat(st, &who, &p->flat, reason, p->is_dry_run, &p->rep, &e);
        if (rc == ERR_INVALID && p->rep.rejected)
            err_prefix(&e, "%s", p->path);
        return import_done(p, rc, &e);
    }
    int rc = store_batch_begin(st, &e);
    struct odm_import oi = {st, &who, reason, &p->rep, ARENA_INIT};
    /* the reader's refusals were counted by the first reading (prepare) */
    char sha[65] = "";
    if (!rc && p->is_stream)
        rc = odm_read_file(store_dict(st), p->path, sha, import_one, &oi, NULL, NULL, &e);
    else if (!rc)
        rc = odm_read(store_dict(st), p->path, p->data, p->len, import_one, &oi, NULL, NULL, &e);
    if (!rc && p->is_stream && strcmp(sha, p->sha) != 0)
        rc = err_set(&e, ERR_CONFLICT,
                     "%s changed while it was imported (its SHA-256 is no longer the one "
                     "checked); nothing was imported",
                     p->path);
    arena_free(&oi.ar);
    if (!rc && p->rep.rejected) {
        store_batch_rollback(st);
        rc = err_set(&e, ERR_INVALID, "%s: %zu value(s) rejected; nothing was imported", p->path,
                     p->rep.rejected);
    } else if (!rc && p->is_dry_run) {
        store_batch_rollback(st);
    } else if (!rc) {
        rc = store_batch_commit(st, &e);
    } else {
        store_batch_rollback(st);
    }
    return import_done(p, rc, &e);
}
