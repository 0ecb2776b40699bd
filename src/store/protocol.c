/* Protocol versions and amendments (store.h, "protocol versions").
 *
 * protocol_file holds the protocol in force; protocol_archive every version's files and
 * protocol_version who applied which version, when and why (schema.c, migration 8). The store's
 * dictionary is the latest version: store_protocol_sync reloads it when another connection
 * (the CLI's `protocol amend` beside a running server) stored a newer one. A dictionary it
 * replaces is kept until store_close, so pointers taken from it (a field, a form name) stay
 * valid for whoever still holds them during that request.
 *
 * An amendment is one transaction: the new files and version row, the reloaded dictionary,
 * the recoded choices (through the write path, audited as updates with the amendment's reason)
 * and the recomputed calcs (audited as "calc" with it). Changes that would orphan or
 * reinterpret stored values are refused unless the amendment says what becomes of them. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/array.h"
#include "base/digest.h"
#include "base/fmt.h"
#include "core/calc.h"
#include "formats/csv.h"
#include "store/store_int.h"
#include "store/write_int.h"

struct retired_dict {
    struct dict d;
    struct retired_dict *next;
};

void store_protocol_files_free(struct store_protocol_files *pf)
{
    for (size_t i = 0; i < DICT_NFILES; i++) {
        free(pf->content[i]);
        pf->content[i] = NULL;
    }
}

int store_protocol_files_read(const char *dir, struct store_protocol_files *pf, struct err *e)
{
    memset(pf, 0, sizeof *pf);
    int rc = 0;
    for (size_t i = 0; i < DICT_NFILES && !rc; i++) {
        char path[4096];
        if (!fmt_fits(path, sizeof path, "%s/%s", dir, dict_protocol_files[i]))
            rc = err_set(e, ERR_INVALID, "%s: protocol folder path too long", dir);
        else if (access(path, F_OK) != 0 && i > 0)
            continue;
        else
            rc = csv_file_read_all(path, &pf->content[i], &pf->len[i], e);
    }
    if (!rc)
        digest_sha256_hex(pf->content[0], pf->len[0], pf->sha256);
    if (rc)
        store_protocol_files_free(pf);
    return rc;
}

/* Stores pf as version v: replaces protocol_file (files the new version lacks go), archives
 * each file, and adds the version row (audit_id: the row that records it, 0 for none). */
static int put_version(struct store *st, int v, const struct store_protocol_files *pf,
                       const char *user, const char *reason, long long audit_id, struct err *e)
{
    sqldb_stmt *del = NULL, *put = NULL, *arch = NULL, *ver = NULL;
    int rc = store_stmt_prepare(st, "DELETE FROM protocol_file", &del, "replacing the protocol", e);
    if (!rc)
        rc = store_stmt_run(st, del, "replacing the protocol", e);
    if (!rc)
        rc = store_stmt_prepare(
            st,
            "INSERT INTO protocol_version(version, applied_at, \"user\", reason, "
            "sha256, audit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &ver, "storing the protocol version", e);
    if (!rc) {
        char ts[32];
        store_ts_format(store_now_ms(st), ts);
        store_bind_int64(st, ver, 1, v);
        store_bind_text(st, ver, 2, ts);
        store_bind_text(st, ver, 3, user);
        store_bind_text(st, ver, 4, reason);
        store_bind_text(st, ver, 5, pf->sha256);
        if (audit_id > 0)
            store_bind_int64(st, ver, 6, audit_id);
        rc = store_stmt_run(st, ver, "storing the protocol version", e);
    }
    if (!rc)
        rc = store_stmt_prepare(st,
                                "INSERT INTO protocol_file(name, content, sha256) "
                                "VALUES (?1, ?2, ?3)",
                                &put, "storing the protocol", e);
    if (!rc)
        rc = store_stmt_prepare(st,
                                "INSERT INTO protocol_archive(version, name, content, sha256) "
                                "VALUES (?1, ?2, ?3, ?4)",
                                &arch, "archiving the protocol", e);
    for (size_t i = 0; i < DICT_NFILES && !rc; i++) {
        if (!pf->content[i])
            continue;
        char hex[65];
        digest_sha256_hex(pf->content[i], pf->len[i], hex);
        store_bind_text_static(st, put, 1, dict_protocol_files[i]);
        store_bind_textn_static(st, put, 2, pf->content[i], pf->len[i]);
        store_bind_text(st, put, 3, hex);
        rc = store_stmt_run(st, put, "storing the protocol", e);
        store_bind_int64(st, arch, 1, v);
        store_bind_text_static(st, arch, 2, dict_protocol_files[i]);
        store_bind_textn_static(st, arch, 3, pf->content[i], pf->len[i]);
        store_bind_text(st, arch, 4, hex);
        if (!rc)
            rc = store_stmt_run(st, arch, "archiving the protocol", e);
    }
    store_sql_finalize(del);
    store_sql_finalize(put);
    store_sql_finalize(arch);
    store_sql_finalize(ver);
    return rc;
}

int store_protocol_put_first(struct store *st, const struct store_protocol_files *pf, struct err *e)
{
    return put_version(st, 1, pf, "system", "the protocol at creation", 0, e);
}

/* The newest version stored, 0 when none (a database being created). */
static int stored_version(struct store *st, int *v, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_PROTO_VERSION, e);
    if (!s)
        return ERR_IO;
    int r = store_step(st, s);
    if (r != SQLITE_ROW) {
        store_sql_reset(s);
        return store_db_fail(st, e, "reading the protocol version");
    }
    *v = store_sql_col_int(s, 0);
    store_sql_reset(s);
    return 0;
}

/* The stored protocol (protocol_file, in every schema version) loaded into *d by this binary's
 * loader; an error names it. */
static int load_stored(struct store *st, struct dict *d, struct err *e)
{
    char *files[DICT_NFILES] = {NULL};
    int rc = 0;
    for (size_t i = 0; i < DICT_NFILES && !rc; i++) {
        rc = store_protocol_file(st, dict_protocol_files[i], &files[i], e);
        if (rc == ERR_NOT_FOUND && i > 0)
            rc = 0;
    }
    if (rc == ERR_NOT_FOUND)
        rc = err_set(e, ERR_INVALID, "not an ioheme database: no protocol stored in it");
    memset(d, 0, sizeof *d);
    if (!rc) {
        rc = dict_load_files((const char *const *)files, d, NULL, NULL, e);
        if (rc)
            err_prefix(e, "the protocol stored in the database");
    }
    for (size_t i = 0; i < DICT_NFILES; i++)
        free(files[i]);
    return rc;
}

int store_protocol_check_stored(struct store *st, struct err *e)
{
    struct dict d;
    int rc = load_stored(st, &d, e);
    if (!rc)
        dict_free(&d);
    return rc;
}

int store_dict_reload(struct store *st, struct err *e)
{
    struct dict nd;
    int rc = load_stored(st, &nd, e);
    int version = 0;
    if (!rc && (rc = stored_version(st, &version, e)) != 0)
        dict_free(&nd);
    if (rc)
        return rc;
    if (st->has_dict) { /* kept: pointers into it may still be held (see above) */
        struct retired_dict *old = malloc(sizeof *old);
        if (!old) {
            dict_free(&nd);
            return err_set(e, ERR_NOMEM, "out of memory");
        }
        old->d = st->dict;
        old->next = st->retired;
        st->retired = old;
    }
    st->dict = nd;
    st->has_dict = true;
    st->protocol_version = version;
    st->eligible_field = NULL;
    store_putcache_drop(st->putcache); /* field indexes of the old dictionary */
    rc = calc_index(&st->dict, &st->ar, &st->calcs, &st->ncalcs, e);
    for (size_t i = 0; !rc && i < st->dict.nfields; i++)
        if (st->dict.fields[i].is_eligible)
            st->eligible_field = &st->dict.fields[i];
    return rc;
}

int store_protocol_version_at(struct store *st, long long audit_id)
{
    if (!st->pv_audit || st->pv_for != st->protocol_version) {
        free(st->pv_audit);
        st->pv_audit = NULL;
        st->pv_n = 0;
        st->pv_for = st->protocol_version;
        sqldb_stmt *s = NULL;
        if (store_stmt_prepare(st,
                               "SELECT coalesce(audit_id, 0) FROM protocol_version ORDER BY "
                               "version",
                               &s, "reading the protocol versions", NULL) == 0) {
            size_t cap = 0;
            while (store_step(st, s) == SQLITE_ROW) {
                long long *g = array_grow(st->pv_audit, st->pv_n, &cap, sizeof *g, 4);
                if (!g)
                    break;
                st->pv_audit = g;
                g[st->pv_n++] = store_sql_col_int64(s, 0);
            }
        }
        store_sql_finalize(s);
    }
    int v = 1;
    for (size_t i = 1; i < st->pv_n; i++)
        if (st->pv_audit[i] > 0 && st->pv_audit[i] <= audit_id)
            v = (int)i + 1;
    return v;
}

void store_dict_retired_free(struct store *st)
{
    free(st->pv_audit);
    st->pv_audit = NULL;
    while (st->retired) {
        struct retired_dict *next = st->retired->next;
        dict_free(&st->retired->d);
        free(st->retired);
        st->retired = next;
    }
}

int store_protocol_sync(struct store *st, struct err *e)
{
    if (!st->has_dict)
        return 0;
    int v = 0;
    int rc = stored_version(st, &v, e);
    if (!rc && v > st->protocol_version)
        rc = store_dict_reload(st, e);
    return rc;
}

int store_protocol_version(const struct store *st)
{
    return st->protocol_version;
}

int store_protocol_versions(struct store *st, struct store_protocol_version **out, size_t *n,
                            struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = NULL;
    int rc = store_stmt_prepare(st,
                                "SELECT version, applied_at, \"user\", reason, sha256, "
                                "coalesce(audit_id, (SELECT min(id) FROM audit), 0) FROM "
                                "protocol_version ORDER BY version",
                                &s, "reading the protocol versions", e);
    size_t cap = 0;
    int r;
    while (!rc && (r = store_step(st, s)) == SQLITE_ROW) {
        struct store_protocol_version *g = array_grow(*out, *n, &cap, sizeof *g, 4);
        if (!g) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            break;
        }
        *out = g;
        struct store_protocol_version *pv = &g[(*n)++];
        memset(pv, 0, sizeof *pv);
        pv->version = store_sql_col_int(s, 0);
        store_col_copy(s, 1, pv->applied_at, sizeof pv->applied_at);
        store_col_copy(s, 2, pv->user, sizeof pv->user);
        store_col_copy(s, 3, pv->reason, sizeof pv->reason);
        store_col_copy(s, 4, pv->sha256, sizeof pv->sha256);
        pv->audit_id = store_sql_col_int64(s, 5);
    }
    if (!rc && r != SQLITE_DONE)
        rc = store_db_fail(st, e, "reading the protocol versions");
    store_sql_finalize(s);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- what a new protocol does to the stored data -----------------------------------------*/

struct diff_count {
    const struct dict *d; /* the database's protocol */
    struct store_protocol_change *c;
    size_t n;
};

/* Whether stored value v is one that change c touches. */
static bool touches(const struct dict *d, const struct dict_change *c, const struct store_value *v)
{
    const struct dict_field *f = dict_field(d, v->field);
    if (!f || !v->value || !*v->value)
        return false;
    if (strcmp(c->what, "event") == 0)
        return strcmp(v->event, c->name) == 0;
    if (strcmp(c->what, "form") == 0 && c->kind != DICT_CHANGED)
        return strcmp(f->form, c->name) == 0;
    if (strcmp(c->what, "mapping") == 0)
        return strcmp(f->form, c->name) == 0 && strcmp(v->event, c->code) == 0;
    if (strcmp(f->name, c->name) != 0)
        return false;
    if (strcmp(c->what, "choice") == 0) /* a checkbox option is its own row; else the code */
        return v->code ? strcmp(v->code, c->code) == 0 : strcmp(v->value, c->code) == 0;
    return true;
}

static int count_value(void *ctx, const struct store_value *v)
{
    struct diff_count *dc = ctx;
    for (size_t i = 0; i < dc->n; i++)
        if (dc->c[i].c.risk != DICT_RISK_NONE && touches(dc->d, &dc->c[i].c, v))
            dc->c[i].stored++;
    return 0;
}

static enum store_verdict verdict_of(const struct dict_change *c, long long n)
{
    if (c->risk == DICT_RISK_RECOMPUTES)
        return STORE_VERDICT_RECOMPUTED;
    if (n == 0 || c->risk == DICT_RISK_NONE)
        return STORE_VERDICT_SAFE;
    return c->risk == DICT_RISK_HIDES ? STORE_VERDICT_REVIEW : STORE_VERDICT_UNSAFE;
}

const char *store_verdict_name(enum store_verdict v)
{
    static const char *const names[] = {"safe", "recomputed", "review", "UNSAFE"};
    return names[v];
}

int store_protocol_diff(struct store *st, const struct dict *nd, struct arena *ar,
                        struct store_protocol_change **out, size_t *n, struct err *e)
{
    struct dict_change *c = NULL;
    size_t nc = 0;
    *out = NULL;
    *n = 0;
    if (dict_diff(&st->dict, nd, ar, &c, &nc) != 0)
        return err_set(e, ERR_NOMEM, "out of memory");
    struct store_protocol_change *pc = arena_calloc(ar, nc ? nc : 1, sizeof *pc);
    if (!pc)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nc; i++)
        pc[i].c = c[i];
    struct diff_count dc = {&st->dict, pc, nc};
    int rc = store_study_values(st, count_value, &dc, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < nc; i++)
        pc[i].verdict = verdict_of(&pc[i].c, pc[i].stored);
    *out = pc;
    *n = nc;
    return 0;
}

/* ---- amendments ---------------------------------------------------------------------------*/

static bool listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static const struct store_recode *recode_of(const struct store_amend *a, const char *field,
                                            const char *code)
{
    for (size_t i = 0; i < a->nrecode; i++)
        if (strcmp(a->recode[i].field, field) == 0 && code && strcmp(a->recode[i].from, code) == 0)
            return &a->recode[i];
    return NULL;
}

/* Whether the amendment says what becomes of the stored values change c touches. */
static bool resolved(const struct store_amend *a, const struct store_protocol_change *pc)
{
    const struct dict_change *c = &pc->c;
    if (pc->verdict != STORE_VERDICT_UNSAFE)
        return true;
    if (strcmp(c->what, "choice") == 0 && recode_of(a, c->name, c->code))
        return true;
    if (c->kind == DICT_REMOVED)
        return listed(a->retire, a->nretire, c->name);
    return listed(a->accept, a->naccept, c->name);
}

/* Checks the recodes against both protocols: the field is a radio/dropdown-like field in
 * both (a checkbox option is a row of its own: retire it instead), FROM is a code the current
 * protocol has and TO one the new protocol has. */
static int recodes_check(const struct store_amend *a, const struct dict *old, const struct dict *nd,
                         struct err *e)
{
    for (size_t i = 0; i < a->nrecode; i++) {
        const struct store_recode *r = &a->recode[i];
        const struct dict_field *f = dict_field(old, r->field), *g = dict_field(nd, r->field);
        if (!f || !g || !f->nchoices || !g->nchoices)
            return err_set_field(e, ERR_INVALID, "recode",
                                 "--recode %s:%s=%s: '%s' is not a field with choices in both "
                                 "protocols",
                                 r->field, r->from, r->to, r->field);
        if (f->type == FT_CHECKBOX || g->type == FT_CHECKBOX)
            return err_set_field(e, ERR_UNSUPPORTED, "recode",
                                 "--recode %s:%s=%s: a checkbox option is a value of its own; "
                                 "retire it (--retire %s) and add the new option",
                                 r->field, r->from, r->to, r->field);
        if (!dict_choice_label(f, r->from))
            return err_set_field(e, ERR_INVALID, "recode",
                                 "--recode %s:%s=%s: the current protocol has no choice '%s'",
                                 r->field, r->from, r->to, r->from);
        if (!dict_choice_label(g, r->to))
            return err_set_field(e, ERR_INVALID, "recode",
                                 "--recode %s:%s=%s: the new protocol has no choice '%s'", r->field,
                                 r->from, r->to, r->to);
    }
    return 0;
}

/* Rewrites every stored FROM of each recoded field to TO through the write path. */
static int apply_recodes(struct store *st, const struct store_ctx *who, const struct store_amend *a,
                         const struct store_record *recs, size_t nrecs, const char *reason,
                         struct store_amend_result *res, struct err *e)
{
    sqldb_stmt *s = NULL;
    int rc = store_stmt_prepare(st,
                                "SELECT record_id, event, instance FROM value WHERE field = ?1 "
                                "AND code = '' AND value = ?2 ORDER BY record_id, event, instance",
                                &s, "reading the values to recode", e);
    for (size_t i = 0; !rc && i < a->nrecode; i++) {
        const struct store_recode *r = &a->recode[i];
        store_bind_text_static(st, s, 1, r->field);
        store_bind_text_static(st, s, 2, r->from);
        /* collected first: the writes below change what the statement reads */
        struct hit {
            long long record_id;
            char event[DICT_KEY_NAME_MAX];
            int instance;
        } *hits = NULL;
        size_t nhits = 0, cap = 0;
        int step;
        while ((step = store_step(st, s)) == SQLITE_ROW) {
            struct hit *g = array_grow(hits, nhits, &cap, sizeof *g, 16);
            if (!g) {
                rc = err_set(e, ERR_NOMEM, "out of memory");
                break;
            }
            hits = g;
            hits[nhits].record_id = store_sql_col_int64(s, 0);
            store_col_copy(s, 1, hits[nhits].event, sizeof hits[nhits].event);
            hits[nhits++].instance = store_sql_col_int(s, 2);
        }
        if (!rc && step != SQLITE_DONE)
            rc = store_db_fail(st, e, "reading the values to recode");
        store_sql_reset(s);
        store_sql_clear_bindings(s);
        for (size_t h = 0; !rc && h < nhits; h++) {
            const struct store_record *rec = NULL;
            for (size_t k = 0; k < nrecs && !rec; k++)
                if (recs[k].id == hits[h].record_id)
                    rec = &recs[k];
            if (!rec)
                continue;
            struct store_change c = {hits[h].event, hits[h].instance, r->field, NULL, r->to, NULL};
            struct store_put_result pr;
            store_put_result_init(&pr);
            rc = store_put_changes_locked(st, who, rec, &c, 1, reason, &pr, e);
            res->nrecoded += pr.nchanged;
            res->nrecomputed += pr.ncalc;
            store_put_result_free(&pr);
            if (rc)
                err_prefix(e, "recoding %s %s=%s at %s", store_record_name(rec), r->field, r->from,
                           hits[h].event);
        }
        free(hits);
    }
    store_sql_finalize(s);
    return rc;
}

/* When the protocol defines the study signature meaning "protocol_amendment", an amendment
 * needs one given since the version in force was applied (as a database lock needs its
 * db_lock_approval since the freeze): *sig_id gets the newest, 0 when the meaning is not
 * defined; ERR_CONFLICT when it is and none was given. */
static int amendment_signature(struct store *st, long long *sig_id, struct err *e)
{
    *sig_id = 0;
    const struct dict_sig_meaning *sm = dict_sig_meaning(&st->dict, "protocol_amendment");
    if (!sm)
        return 0;
    struct store_protocol_version *pv = NULL;
    size_t npv = 0;
    struct store_signature *g = NULL;
    size_t ng = 0;
    int rc = store_protocol_versions(st, &pv, &npv, e);
    if (!rc)
        rc = store_signatures(st, NULL, &g, &ng, e);
    const char *since = npv ? pv[npv - 1].applied_at : "";
    if (!rc)
        *sig_id = store_signature_valid_since(g, ng, sm->name, "", since);
    if (!rc && !*sig_id)
        rc = err_set_field(
            e, ERR_CONFLICT, "signature",
            "the protocol asks for '%s' (%s, by the %s) before an amendment: none "
            "given since version %d was applied (%s); sign first with ioheme sign --study "
            "--meaning %s",
            sm->name, sm->label, sm->role, npv ? pv[npv - 1].version : 0, since, sm->name);
    free(pv);
    free(g);
    return rc;
}

int store_protocol_amend(struct store *st, const struct store_ctx *who, const char *dir,
                         const struct store_amend *a, struct arena *ar,
                         struct store_amend_result *res, struct err *e)
{
    memset(res, 0, sizeof *res);
    struct store_protocol_files pf;
    int rc = store_reason_check(a->reason, true, "a protocol amendment", e);
    if (!rc)
        rc = store_protocol_files_read(dir, &pf, e);
    if (rc)
        return rc;
    struct dict nd;
    memset(&nd, 0, sizeof nd);
    bool loaded = false;
    rc = dict_load_files((const char *const *)pf.content, &nd, NULL, NULL, e);
    if (rc)
        err_prefix(e, "%s", dir);
    else
        loaded = true;
    memcpy(res->sha256, pf.sha256, sizeof res->sha256);
    if (!rc)
        rc = store_authorize(st, who, PERM_PROTOCOL_AMEND, e);
    if (!rc) /* it recomputes every site's records */
        rc = store_site_require_study_wide(st, who->user, "a protocol amendment", e);
    if (!rc)
        rc = store_tx_begin(st, e); /* the write lock: no version can be added meanwhile */
    bool in_tx = !rc;
    if (!rc)
        rc = store_db_require(st, false, e);
    if (!rc && !a->dry_run)
        rc = amendment_signature(st, &res->signature_id, e);
    if (!rc)
        rc = store_protocol_diff(st, &nd, ar, &res->changes, &res->nchanges, e);
    if (!rc)
        rc = recodes_check(a, &st->dict, &nd, e);
    if (!rc && res->nchanges == 0)
        rc = err_set_field(e, ERR_INVALID, "protocol",
                           "%s is the protocol in force (version %d): nothing to amend", dir,
                           st->protocol_version);
    for (size_t i = 0; !rc && i < res->nchanges; i++)
        if (!resolved(a, &res->changes[i]))
            res->nrefused++;
    if (!rc && res->nrefused) {
        const struct store_protocol_change *first = NULL;
        for (size_t i = 0; i < res->nchanges && !first; i++)
            if (!resolved(a, &res->changes[i]))
                first = &res->changes[i];
        rc = err_set_field(
            e, ERR_CONFLICT, first->c.name,
            "%zu change(s) would orphan or reinterpret stored data, e.g. %s %s%s%s (%lld stored "
            "value(s)): say what becomes of them (%s)",
            res->nrefused, first->c.what, first->c.name, first->c.code ? " " : "",
            first->c.code ? first->c.code : "", first->stored,
            first->c.kind == DICT_REMOVED
                ? "--retire NAME keeps them stored, out of use; --recode FIELD:OLD=NEW moves them"
                : "--accept NAME when they keep their meaning; else add a new field and retire "
                  "this one");
    }
    res->version = st->protocol_version + 1;
    if (!rc && a->dry_run) {
        store_tx_rollback(st);
        in_tx = false;
    } else if (!rc) {
        char text[1024], areason[1024];
        fmt_text(text, sizeof text, "version %d, dictionary.csv sha256 %s, %zu change(s)%s%.0lld",
                 res->version, pf.sha256, res->nchanges,
                 res->signature_id ? ", approved by signature " : "", res->signature_id);
        fmt_text(areason, sizeof areason, "protocol amendment %d: %s", res->version, a->reason);
        struct store_ctx amender = {who->user, "amendment", pf.sha256, NULL};
        struct audit_entry ae = {.action = "protocol_amend",
                                 .instance = -1,
                                 .field = "protocol",
                                 .old_value = NULL,
                                 .new_value = text,
                                 .reason = a->reason};
        char oldv[32];
        fmt_exact(oldv, sizeof oldv, "version %d", st->protocol_version);
        ae.old_value = oldv;
        rc = store_audit_append(st, &amender, &ae, e);
        if (!rc)
            rc = put_version(st, res->version, &pf, who->user, a->reason, st->head_id, e);
        if (!rc)
            rc = store_dict_reload(st, e);
        struct store_record *recs = NULL;
        size_t nrecs = 0;
        if (!rc)
            rc = store_record_list(st, &recs, &nrecs, e);
        res->nrecords = nrecs;
        if (!rc)
            rc = apply_recodes(st, &amender, a, recs, nrecs, areason, res, e);
        /* calcs whose definition changed or that are new */
        const char **calcs = arena_calloc(ar, res->nchanges + 1, sizeof *calcs);
        size_t ncalcs = 0;
        if (!calcs && !rc)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        for (size_t i = 0; !rc && i < res->nchanges; i++) {
            const struct dict_change *c = &res->changes[i].c;
            const struct dict_field *f = dict_field(&st->dict, c->name);
            if (f && f->type == FT_CALC &&
                ((c->kind == DICT_CHANGED && strcmp(c->what, "calc") == 0) ||
                 (c->kind == DICT_ADDED && strcmp(c->what, "field") == 0)))
                calcs[ncalcs++] = f->name;
        }
        for (size_t i = 0; !rc && ncalcs && i < nrecs; i++) {
            struct store_put_result pr;
            store_put_result_init(&pr);
            rc = store_calcs_recompute_locked(st, &amender, &recs[i], calcs, ncalcs, areason, &pr,
                                              e);
            res->nrecomputed += pr.ncalc;
            store_put_result_free(&pr);
            if (rc)
                err_prefix(e, "recomputing the calcs of %s", store_record_name(&recs[i]));
        }
        free(recs);
        rc = store_tx_finish(st, rc, e);
        in_tx = false;
        if (rc) /* the amendment is undone: back to the dictionary in force */
            (void)store_dict_reload(st, NULL);
    }
    if (in_tx)
        store_tx_rollback(st);
    if (loaded)
        dict_free(&nd);
    store_protocol_files_free(&pf);
    return rc;
}
