/* ODM 1.3.2 writer (odm.h): the file, and its ClinicalData streamed record by record from the
 * store, after the metadata from the protocol and the AdminData from the users and the
 * protocol's signature meanings (odm_write_meta.c). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "base/array.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "base/utf8.h"
#include "formats/odm.h"
#include "formats/odm_int.h"
#include "store/snapshot.h"

void odm_w_check(struct odm_w *w, int r)
{
    if (r < 0)
        w->failed = true;
}
void odm_w_start(struct odm_w *w, const char *name)
{
    if (!w->failed)
        odm_w_check(w, xmlTextWriterStartElement(w->x, BAD_CAST name));
}
void odm_w_end(struct odm_w *w)
{
    if (!w->failed)
        odm_w_check(w, xmlTextWriterEndElement(w->x));
}
/* Text from the database as XML takes it: utf8_xml_text (only a database written before the
 * store refused bytes that are not UTF-8, or characters XML cannot carry, holds any); out of
 * memory fails w. *tmp is the caller's to free. */
static const char *w_text(struct odm_w *w, const char *s, char **tmp)
{
    const char *t = utf8_xml_text(s, tmp);
    if (s && !t)
        w->failed = true;
    return t;
}
void odm_w_attr(struct odm_w *w, const char *name, const char *value)
{
    char *tmp;
    const char *v = w_text(w, value, &tmp);
    if (!w->failed)
        odm_w_check(w, xmlTextWriterWriteAttribute(w->x, BAD_CAST name, BAD_CAST v));
    free(tmp);
}
void odm_w_attrf(struct odm_w *w, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        w->failed = true;
    else
        odm_w_attr(w, name, buf);
}
void odm_w_text_elem(struct odm_w *w, const char *name, const char *text)
{
    char *tmp;
    const char *t = w_text(w, text, &tmp);
    if (!w->failed)
        odm_w_check(w, xmlTextWriterWriteElement(w->x, BAD_CAST name, BAD_CAST t));
    free(tmp);
}
void odm_w_string(struct odm_w *w, const char *text)
{
    char *tmp;
    const char *t = w_text(w, text, &tmp);
    if (!w->failed)
        odm_w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST t));
    free(tmp);
}
/* <name><TranslatedText xml:lang="en">text</TranslatedText></name> */
void odm_w_translated(struct odm_w *w, const char *name, const char *text)
{
    odm_w_start(w, name);
    odm_w_start(w, "TranslatedText");
    odm_w_attr(w, "xml:lang", "en");
    odm_w_string(w, text);
    odm_w_end(w);
    odm_w_end(w);
}

/* As w_translated, the text being a, b and c one after the other (b, c may be NULL). */
void odm_w_translated3(struct odm_w *w, const char *name, const char *a, const char *b,
                       const char *c)
{
    odm_w_start(w, name);
    odm_w_start(w, "TranslatedText");
    odm_w_attr(w, "xml:lang", "en");
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (parts[i])
            odm_w_string(w, parts[i]);
    odm_w_end(w);
    odm_w_end(w);
}

/* ODM's xs:dateTime from the store's "YYYY-MM-DDTHH:MM:SS.mmmZ" (already UTC, kept as is). */
const char *odm_w_time(const char *ts)
{
    return ts && ts[0] ? ts : "1970-01-01T00:00:00Z";
}

/* ---- clinical data ------------------------------------------------------------------------*/

/* One ItemData to write: where (event, form, instance), which item (its order in the form),
 * and in audit order; with audit, the change. Strings in the record's arena. */
struct entry {
    size_t ev, form, field, opt; /* opt: 0 a field, 1 + option index, field = SIZE_MAX: status */
    int instance;
    long long seq; /* the audit row's id (0: a snapshot's value) */
    int pver;      /* the protocol version it was written under (audit), else 0 */
    const char *key, *value, *old, *user, *ts, *reason, *source, *source_sha256;
    bool is_identifier;
};

struct rec {
    const struct dict *d;
    struct arena ar;
    struct entry *v;
    size_t n, cap;
    bool deidentified;
    size_t withheld;
    int rc;
};

static struct entry *rec_add(struct rec *r, const char *event, int instance, const char *key)
{
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(r->d, key, &k);
    int ev = event ? dict_event_index(r->d, event) : -1;
    if (ev < 0 || kind == DICT_KEY_UNKNOWN)
        return NULL; /* not an item of the protocol (cannot happen with the stored protocol) */
    struct entry x = {.ev = (size_t)ev, .instance = instance};
    if (kind == DICT_KEY_STATUS) {
        x.form = (size_t)(k.form - r->d->forms);
        x.field = SIZE_MAX;
    } else {
        x.form = k.field->form_index;
        x.field = (size_t)(k.field - r->d->fields);
        x.is_identifier = k.field->is_identifier;
        if (kind == DICT_KEY_OPTION) {
            x.opt = SIZE_MAX;
            for (size_t i = 0; i < k.field->nchoices; i++)
                if (strcmp(k.field->choices[i].code, k.code) == 0)
                    x.opt = i + 1;
            if (x.opt == SIZE_MAX)
                return NULL;
        }
    }
    if (r->deidentified && x.is_identifier) {
        r->withheld++;
        return NULL;
    }
    struct entry *g = array_grow(r->v, r->n, &r->cap, sizeof *g, 256);
    if (!g) {
        r->rc = ERR_NOMEM;
        return NULL;
    }
    r->v = g;
    x.key = arena_strdup(&r->ar, key);
    if (!x.key) {
        r->rc = ERR_NOMEM;
        return NULL;
    }
    r->v[r->n] = x;
    return &r->v[r->n++];
}

static const char *dup(struct rec *r, const char *s)
{
    if (!s)
        return NULL;
    char *c = arena_strdup(&r->ar, s);
    if (!c)
        r->rc = ERR_NOMEM;
    return c;
}

static int on_audit(void *ctx, const struct store_audit_row *a)
{
    struct rec *r = ctx;
    if (!a->field || !a->event ||
        (strcmp(a->action, "update") != 0 && strcmp(a->action, "calc") != 0 &&
         strcmp(a->action, "form_status") != 0))
        return 0;
    struct entry *x = rec_add(r, a->event, a->instance < 0 ? 0 : (int)a->instance, a->field);
    if (!x)
        return r->rc;
    x->seq = a->id;
    x->pver = a->protocol_version;
    x->value = dup(r, a->new_value);
    x->old = dup(r, a->old_value);
    x->user = dup(r, a->user);
    x->ts = dup(r, a->ts);
    x->reason = dup(r, a->reason);
    x->source = dup(r, a->source);
    x->source_sha256 = dup(r, a->source_sha256);
    return r->rc;
}

static int on_value(void *ctx, const struct store_value *v)
{
    struct rec *r = ctx;
    char key[DICT_KEY_NAME_MAX];
    if (!dict_key_format(v->field, v->code, key, sizeof key))
        return 0;
    struct entry *x = rec_add(r, v->event, v->instance, key);
    if (x)
        x->value = dup(r, v->value);
    return r->rc;
}

static int on_state(void *ctx, const struct store_form_state *s)
{
    struct rec *r = ctx;
    const struct dict_form *fm = dict_form(r->d, s->form);
    char key[DICT_KEY_NAME_MAX], val[16];
    if (!fm)
        return 0;
    dict_complete_field(fm, key, sizeof key);
    struct entry *x = rec_add(r, s->event, s->instance, key);
    fmt_exact(val, sizeof val, "%d", s->status);
    if (x)
        x->value = dup(r, val);
    return r->rc;
}

static int cmp_size(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = cmp_size(a->ev, b->ev);
    if (!c)
        c = cmp_size(a->form, b->form);
    if (!c)
        c = a->instance < b->instance ? -1 : a->instance > b->instance;
    if (!c)
        c = cmp_size(a->field, b->field);
    if (!c)
        c = cmp_size(a->opt, b->opt);
    if (!c)
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return c;
}

/* The value as ODM writes it: a date-time's space becomes ISO 8601's 'T'. */
static const char *odm_value(const struct dict *d, const struct entry *x, char *buf, size_t len)
{
    const char *v = x->value ? x->value : "";
    if (x->field != SIZE_MAX && dict_vtype_is_datetime(d->fields[x->field].vtype) &&
        strlen(v) > 10 && v[10] == ' ') {
        if (!fmt_fits(buf, len, "%s", v))
            return v; /* longer than any date-time: written as stored */
        buf[10] = 'T';
        return buf;
    }
    return v;
}

struct queries {
    struct store_query *q;
    size_t n;
    bool *done;
    bool *on_subject; /* its value, form or event has nothing written: on the SubjectData */
};

static void w_annotation(struct odm_w *w, struct store *st, const struct store_query *q, size_t seq,
                         struct err *e)
{
    struct store_query_message *m = NULL;
    size_t nm = 0;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "Query %lld (%s%s)", q->id, q->is_system ? "system, rule " : "raised by ",
                q->is_system ? q->rule : q->opened_by);
    if (store_query_messages(st, q->id, &m, &nm, e) == 0)
        for (size_t i = 0; i < nm; i++) {
            strbuf_addf(&sb, "\n%s %s %s: %s", m[i].ts, m[i].user, m[i].action, m[i].text);
            if (m[i].has_values)
                strbuf_addf(&sb, " [value %s -> %s]", m[i].old_value, m[i].new_value);
        }
    free(m);
    odm_w_start(w, "Annotation");
    odm_w_attrf(w, "SeqNum", "%zu", seq);
    odm_w_attrf(w, "ID", "Q.%lld", q->id);
    odm_w_start(w, "Comment");
    odm_w_attr(w, "SponsorOrSite", "Sponsor"); /* a query is the sponsor's question to the site */
    odm_w_string(w, sb.failed ? "" : sb.buf);
    odm_w_end(w);
    odm_w_start(w, "Flag");
    odm_w_start(w, "FlagValue");
    odm_w_attr(w, "CodeListOID", "CL.QUERY_STATUS");
    if (!w->failed)
        odm_w_check(w, xmlTextWriterWriteString(w->x, BAD_CAST store_query_status_name(q->status)));
    odm_w_end(w);
    odm_w_end(w);
    odm_w_end(w);
    if (sb.failed)
        w->failed = true;
    strbuf_release(&sb);
}

/* Annotations for the queries on (event, instance, form, key) — form NULL: record queries;
 * key NULL: form queries — not written yet. */
static size_t w_queries(struct odm_w *w, struct store *st, struct queries *qs, const char *event,
                        int instance, const char *form, const char *key, struct err *e)
{
    size_t n = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const struct store_query *q = &qs->q[i];
        if (qs->done[i])
            continue;
        bool match = !form ? !q->event[0] || qs->on_subject[i]
                           : strcmp(q->event, event) == 0 && q->instance == instance &&
                                 strcmp(q->form, form) == 0 &&
                                 (key ? strcmp(q->field, key) == 0 : !q->field[0]);
        if (!match)
            continue;
        qs->done[i] = true;
        w_annotation(w, st, q, ++n, e);
    }
    return n;
}

static void w_audit_record(struct odm_w *w, const struct entry *x)
{
    odm_w_start(w, "AuditRecord");
    odm_w_attr(w, "EditPoint", "DataManagement");
    odm_w_attrf(w, "ID", "AR.%lld", x->seq);
    odm_w_start(w, "UserRef");
    odm_w_attrf(w, "UserOID", "U.%s", x->user ? x->user : "system");
    odm_w_end(w);
    odm_w_start(w, "LocationRef");
    odm_w_attr(w, "LocationOID", SITE_OID);
    odm_w_end(w);
    odm_w_text_elem(w, "DateTimeStamp", odm_w_time(x->ts));
    if (x->reason && x->reason[0])
        odm_w_text_elem(w, "ReasonForChange", x->reason);
    char src[200];
    char pv[32] = "";
    if (x->pver > 1) /* after an amendment: the protocol version it was written under */
        fmt_exact(pv, sizeof pv, ", protocol v%d", x->pver);
    fmt_text(src, sizeof src, "ioheme audit row %lld, source %s%s%s%s", x->seq,
             x->source ? x->source : "?", x->source_sha256 ? ", file sha256 " : "",
             x->source_sha256 ? x->source_sha256 : "", pv);
    odm_w_text_elem(w, "SourceID", src);
    odm_w_end(w);
}

static void w_signature(struct odm_w *w, const struct store_signature *s, bool with_id)
{
    odm_w_start(w, "Signature");
    if (with_id)
        odm_w_attrf(w, "ID", "SIG.%lld", s->id);
    odm_w_start(w, "UserRef");
    odm_w_attrf(w, "UserOID", "U.%s", s->signer);
    odm_w_end(w);
    odm_w_start(w, "LocationRef");
    odm_w_attr(w, "LocationOID", SITE_OID);
    odm_w_end(w);
    odm_w_start(w, "SignatureRef");
    odm_w_attrf(w, "SignatureOID", "SD.%s", s->meaning);
    odm_w_end(w);
    odm_w_text_elem(w, "DateTimeStamp", odm_w_time(s->signed_at));
    char m[300];
    fmt_exact(m, sizeof m, "sha256:%s%s%s", s->content_sha256, s->is_valid ? "" : "; invalidated ",
              s->is_valid ? "" : s->invalidated_at);
    odm_w_text_elem(w, "CryptoBindingManifest", m);
    odm_w_end(w);
}

static int w_subject(struct odm_w *w, struct store *st, const struct store_record *rec,
                     const struct odm_write_opts *o, struct odm_write_stats *stats, struct err *e)
{
    const struct dict *d = store_dict(st);
    const char *name = store_record_name(rec);
    struct rec r = {.d = d, .deidentified = o->is_deidentified};
    int rc;
    if (o->has_audit) {
        rc = store_record_audit(st, name, NULL, on_audit, &r, e);
    } else {
        rc = store_record_values(st, name, on_value, &r, e);
        if (!rc)
            rc = store_form_states(st, name, on_state, &r, e);
    }
    if (!rc && r.rc)
        rc = err_set(e, r.rc, "out of memory");
    struct store_signature *sigs = NULL;
    size_t nsigs = 0;
    struct queries qs = {0};
    if (!rc)
        rc = store_signatures(st, name, &sigs, &nsigs, e);
    struct store_query_filter qf = {.record = name, .status = -1};
    if (!rc)
        rc = store_query_list(st, &qf, &qs.q, &qs.n, e);
    if (!rc && qs.n) {
        qs.done = calloc(qs.n, sizeof *qs.done);
        qs.on_subject = calloc(qs.n, sizeof *qs.on_subject);
        if (!qs.done || !qs.on_subject)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    /* a query on a value or form the file does not hold is the subject's */
    for (size_t i = 0; !rc && i < qs.n; i++) {
        const struct store_query *q = &qs.q[i];
        bool placed = !q->event[0];
        for (size_t k = 0; k < r.n && !placed; k++)
            placed = strcmp(d->events[r.v[k].ev].name, q->event) == 0 &&
                     r.v[k].instance == q->instance &&
                     strcmp(d->forms[r.v[k].form].name, q->form) == 0 &&
                     (!q->field[0] || strcmp(r.v[k].key, q->field) == 0);
        qs.on_subject[i] = !placed;
    }
    /* de-identified: no queries on identifier fields (their threads quote the values) */
    for (size_t i = 0; !rc && o->is_deidentified && i < qs.n; i++) {
        struct dict_key k;
        if (qs.q[i].field[0] && dict_key_parse(d, qs.q[i].field, &k) != DICT_KEY_UNKNOWN &&
            k.field && k.field->is_identifier)
            qs.done[i] = true;
    }
    if (rc)
        goto done;
    qsort(r.v, r.n, sizeof *r.v, entry_cmp);
    const char *ctx_tt = o->has_audit ? "Context" : NULL;
    odm_w_start(w, "SubjectData");
    odm_w_attr(w, "SubjectKey", name);
    if (ctx_tt)
        odm_w_attr(w, "TransactionType", ctx_tt);
    const struct store_signature *last_valid = NULL;
    for (size_t i = 0; i < nsigs; i++)
        if (sigs[i].is_valid)
            last_valid = &sigs[i];
    if (last_valid) {
        w_signature(w, last_valid, false);
        stats->signatures++;
    }
    odm_w_start(w, "SiteRef"); /* the record's site (w_admin's Location), else the study's */
    if (rec->site[0])
        odm_w_attrf(w, "LocationOID", "L.S.%s", rec->site);
    else
        odm_w_attr(w, "LocationOID", SITE_OID);
    odm_w_end(w);
    stats->annotations += w_queries(w, st, &qs, NULL, 0, NULL, NULL, e);
    char vbuf[64];
    for (size_t i = 0; i < r.n;) {
        size_t ev = r.v[i].ev;
        const char *event = d->events[ev].name;
        odm_w_start(w, "StudyEventData");
        odm_w_attrf(w, "StudyEventOID", "SE.%s", event);
        if (ctx_tt)
            odm_w_attr(w, "TransactionType", ctx_tt);
        while (i < r.n && r.v[i].ev == ev) {
            size_t fi = r.v[i].form;
            const char *form = d->forms[fi].name;
            odm_w_start(w, "FormData");
            odm_w_attrf(w, "FormOID", "F.%s", form);
            if (ctx_tt)
                odm_w_attr(w, "TransactionType", ctx_tt);
            while (i < r.n && r.v[i].ev == ev && r.v[i].form == fi) {
                int inst = r.v[i].instance;
                /* form queries belong to the first instance group written of the form */
                odm_w_start(w, "ItemGroupData");
                odm_w_attrf(w, "ItemGroupOID", "IG.%s", form);
                if (d->form_repeats[ev * d->nforms + fi])
                    odm_w_attrf(w, "ItemGroupRepeatKey", "%d", inst);
                if (ctx_tt)
                    odm_w_attr(w, "TransactionType", ctx_tt);
                stats->annotations += w_queries(w, st, &qs, event, inst, form, NULL, e);
                while (i < r.n && r.v[i].ev == ev && r.v[i].form == fi && r.v[i].instance == inst) {
                    size_t j = i;
                    while (j + 1 < r.n && r.v[j + 1].ev == ev && r.v[j + 1].form == fi &&
                           r.v[j + 1].instance == inst && r.v[j + 1].field == r.v[i].field &&
                           r.v[j + 1].opt == r.v[i].opt)
                        j++;
                    for (size_t k = i; k <= j; k++) {
                        const struct entry *x = &r.v[k];
                        bool is_remove = !x->value || !x->value[0];
                        odm_w_start(w, "ItemData");
                        odm_w_item_oid(w, "ItemOID", x->key);
                        if (!is_remove || !o->has_audit)
                            odm_w_attr(w, "Value", odm_value(d, x, vbuf, sizeof vbuf));
                        if (o->has_audit)
                            odm_w_attr(w, "TransactionType",
                                       is_remove                           ? "Remove"
                                       : k == i && (!x->old || !x->old[0]) ? "Insert"
                                                                           : "Update");
                        if (o->has_audit)
                            w_audit_record(w, x);
                        if (k == j)
                            stats->annotations +=
                                w_queries(w, st, &qs, event, inst, form, x->key, e);
                        odm_w_end(w);
                        stats->items++;
                    }
                    i = j + 1;
                }
                odm_w_end(w);
            }
            odm_w_end(w);
        }
        odm_w_end(w);
    }
    odm_w_end(w); /* SubjectData */
    stats->subjects++;
done:
    stats->withheld += r.withheld;
    free(r.v);
    arena_free(&r.ar);
    free(sigs);
    free(qs.q);
    free(qs.done);
    free(qs.on_subject);
    return rc;
}

static int w_clinical(struct odm_w *w, struct store *st, const struct odm_write_opts *o,
                      struct odm_write_stats *stats, struct err *e)
{
    struct store_record *recs = NULL;
    size_t n = 0;
    int rc = store_record_list(st, &recs, &n, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < o->nrecords && !rc; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(o->records[i], recs[j].screening_no) == 0 ||
                    (recs[j].study_id[0] && strcmp(o->records[i], recs[j].study_id) == 0);
        if (!found)
            rc = err_set_field(e, ERR_NOT_FOUND, "record", "no record '%s'", o->records[i]);
    }
    if (rc || o->is_metadata_only) {
        free(recs);
        return rc;
    }
    odm_w_start(w, "ClinicalData");
    odm_w_attr(w, "StudyOID", STUDY_OID);
    odm_w_attr(w, "MetaDataVersionOID", MDV_OID);
    for (size_t j = 0; j < n && !rc && !w->failed; j++) {
        bool wanted = o->nrecords == 0;
        for (size_t i = 0; i < o->nrecords && !wanted; i++)
            wanted = strcmp(o->records[i], recs[j].screening_no) == 0 ||
                     (recs[j].study_id[0] && strcmp(o->records[i], recs[j].study_id) == 0);
        if (wanted)
            rc = w_subject(w, st, &recs[j], o, stats, e);
    }
    /* every signature, the invalidated and the study's included, in the container */
    struct store_signature *sigs = NULL;
    size_t nsigs = 0;
    if (!rc)
        rc = store_signatures(st, NULL, &sigs, &nsigs, e);
    bool any = false;
    for (size_t i = 0; !rc && i < nsigs; i++) {
        bool wanted = o->nrecords == 0;
        for (size_t k = 0; k < o->nrecords && !wanted; k++)
            wanted = strcmp(o->records[k], sigs[i].record) == 0;
        if (!wanted)
            continue;
        if (!any)
            odm_w_start(w, "Signatures");
        any = true;
        w_signature(w, &sigs[i], true);
        stats->signatures++;
    }
    if (any)
        odm_w_end(w);
    free(sigs);
    odm_w_end(w);
    free(recs);
    return rc;
}

static int odm_write_snapshot(struct store *st, const char *path, const struct odm_write_opts *o,
                              struct odm_write_stats *stats, struct err *e)
{
    struct odm_write_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    const struct dict *d = store_dict(st);
    char first[32], last[32];
    int rc = store_audit_content_time(st, first, last, e);
    if (rc)
        return rc;
    /* an unknown record is refused before the file exists */
    if (o->nrecords) {
        for (size_t i = 0; i < o->nrecords && !rc; i++) {
            struct store_record r;
            rc = store_record_get(st, o->records[i], &r, e);
        }
        if (rc)
            return rc;
    }
    struct odm_units u = {0};
    if (odm_units_collect(d, &u)) {
        free(u.names);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    struct odm_w w = {.x = xmlNewTextWriterFilename(path, 0)};
    if (!w.x) {
        free(u.names);
        return err_set(e, ERR_IO, "%s: cannot write", path);
    }
    odm_w_check(&w, xmlTextWriterSetIndent(w.x, 1));
    odm_w_check(&w, xmlTextWriterSetIndentString(w.x, BAD_CAST " "));
    odm_w_check(&w, xmlTextWriterStartDocument(w.x, "1.0", "UTF-8", NULL));
    odm_w_start(&w, "ODM");
    odm_w_attr(&w, "xmlns", ODM_NS);
    odm_w_attr(&w, "ODMVersion", "1.3.2");
    odm_w_attr(&w, "FileType", o->has_audit && !o->is_metadata_only ? "Transactional" : "Snapshot");
    if (o->is_metadata_only || !o->nrecords) /* a subset of subjects has no granularity name */
        odm_w_attr(&w, "Granularity", o->is_metadata_only ? "Metadata" : "All");
    if (o->has_audit && !o->is_metadata_only)
        odm_w_attr(&w, "Archival", "Yes");
    char fileoid[64];
    fmt_exact(fileoid, sizeof fileoid, "IOHEME.%s", odm_w_time(last));
    for (char *p = fileoid; *p; p++)
        if (*p == ':')
            *p = '.';
    odm_w_attr(&w, "FileOID", fileoid);
    odm_w_attr(&w, "CreationDateTime", odm_w_time(last));
    odm_w_attr(&w, "AsOfDateTime", odm_w_time(last));
    odm_w_attr(&w, "Originator", "ioheme");
    odm_w_attr(&w, "SourceSystem", "ioheme");
    odm_w_attr(&w, "SourceSystemVersion", IOHEME_VERSION);
    odm_w_start(&w, "Study");
    odm_w_attr(&w, "OID", STUDY_OID);
    odm_w_start(&w, "GlobalVariables");
    odm_w_text_elem(&w, "StudyName", "ioheme");
    odm_w_text_elem(&w, "StudyDescription",
                    d->study.title[0] ? d->study.title /* study.csv's */
                                      : "A study captured with ioheme; the protocol is a REDCap "
                                        "data dictionary");
    odm_w_text_elem(&w, "ProtocolName", "ioheme protocol");
    odm_w_end(&w);
    if (u.n) {
        odm_w_start(&w, "BasicDefinitions");
        for (size_t i = 0; i < u.n; i++) {
            odm_w_start(&w, "MeasurementUnit");
            odm_w_attrf(&w, "OID", "MU.%zu", i + 1);
            odm_w_attr(&w, "Name", u.names[i]);
            odm_w_translated(&w, "Symbol", u.names[i]);
            odm_w_end(&w);
        }
        odm_w_end(&w);
    }
    odm_w_metadata(&w, d, &u);
    odm_w_end(&w); /* Study */
    free(u.names);
    rc = odm_w_admin(&w, st, d, o->is_deidentified, first, e);
    if (!rc)
        rc = w_clinical(&w, st, o, stats, e);
    if (!rc && !w.failed)
        odm_w_check(&w, xmlTextWriterEndDocument(w.x));
    if (!rc && !w.failed)
        odm_w_check(&w, xmlTextWriterFlush(w.x));
    xmlFreeTextWriter(w.x);
    if (!rc && w.failed)
        rc = err_set(e, ERR_IO, "%s: write failed", path);
    return rc;
}

int odm_write(struct store *st, const char *path, const struct odm_write_opts *o,
              struct odm_write_stats *stats, struct err *e)
{
    /* an identifier whose key is missing is refused, not written as its placeholder */
    int rc = o->is_deidentified ? 0 : store_identifiers_readable(st, e);
    if (rc)
        return rc;
    /* one consistent state of the database, however long the file takes to write */
    rc = store_snapshot_begin(st, e);
    if (rc)
        return rc;
    rc = odm_write_snapshot(st, path, o, stats, e);
    store_snapshot_end(st);
    return rc;
}
