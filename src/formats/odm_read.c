/* ODM ClinicalData reader (odm.h): libxml2's xmlTextReader, one pass in document order; each
 * subject's values reduced to their final state when its SubjectData ends and handed on, so
 * that memory holds one subject at a time. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "base/array.h"
#include "base/digest.h"
#include "formats/odm.h"
#include "formats/redcap.h"

/* One ItemData read: where, which item and the value; seq keeps document order. */
struct item {
    int ev;
    int instance;
    const char *key;
    const char *value;
    size_t seq;
};

struct reader {
    const struct dict *d;
    struct arena ar; /* the current subject's strings and change sets: reset after each */
    odm_reject_fn reject;
    void *ctx;
    odm_subject_fn fn; /* each subject read, as its SubjectData ends */
    void *fctx;
    struct err *e;
    int stop; /* what fn returned when it stopped the reading */
    /* the current subject, event, form */
    const char *key;
    int ev;
    const char *form_repeat, *group_repeat;
    struct item *items;
    size_t nitems, capitems;
    size_t seq;
    size_t nsurvey; /* the current subject's survey metadata left out */
    int rc;
};

/* The name after the last '.' of an OID ("SE.baseline_arm_1" -> "baseline_arm_1"). */
static const char *oid_name(const char *oid)
{
    const char *dot = strrchr(oid, '.');
    return dot ? dot + 1 : oid;
}

static char *attr(struct reader *r, xmlTextReaderPtr x, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(x, BAD_CAST name);
    if (!v)
        return NULL;
    char *c = arena_strdup(&r->ar, (const char *)v);
    xmlFree(v);
    if (!c)
        r->rc = ERR_NOMEM;
    return c;
}

static void reject(struct reader *r, const char *oid, const char *rule, const char *msg)
{
    if (r->reject)
        r->reject(r->ctx, r->key ? r->key : "", oid ? oid : "", rule, msg);
}

static int item_cmp(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    if (a->ev != b->ev)
        return a->ev < b->ev ? -1 : 1;
    if (a->instance != b->instance)
        return a->instance < b->instance ? -1 : 1;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The subject's final state: for each (event, instance, item) the last value read, as change
 * sets by event (protocol order) and instance. */
static void subject_end(struct reader *r)
{
    if (!r->key || r->rc || r->stop)
        return;
    if (r->nitems > 1) /* a subject without items has none to sort (and items NULL) */
        qsort(r->items, r->nitems, sizeof *r->items, item_cmp);
    size_t nlast = 0;
    for (size_t i = 0; i < r->nitems; i++) {
        bool is_last = i + 1 == r->nitems || r->items[i + 1].ev != r->items[i].ev ||
                       r->items[i + 1].instance != r->items[i].instance ||
                       strcmp(r->items[i + 1].key, r->items[i].key) != 0;
        if (is_last)
            r->items[nlast++] = r->items[i];
    }
    struct odm_subject s = {.key = r->key};
    size_t nsets = 0;
    for (size_t i = 0; i < nlast; i++)
        nsets += i == 0 || r->items[i].ev != r->items[i - 1].ev ||
                 r->items[i].instance != r->items[i - 1].instance;
    s.sets = nsets ? arena_calloc(&r->ar, nsets, sizeof *s.sets) : NULL;
    struct store_change *ch = nlast ? arena_calloc(&r->ar, nlast, sizeof *ch) : NULL;
    if ((nsets && !s.sets) || (nlast && !ch)) {
        r->rc = ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < nlast; i++) {
        const struct item *it = &r->items[i];
        if (i == 0 || it->ev != r->items[i - 1].ev || it->instance != r->items[i - 1].instance) {
            struct odm_change_set *cs = &s.sets[s.nsets++];
            cs->event = r->d->events[it->ev].name;
            cs->instance = it->instance;
            cs->changes = &ch[i];
        }
        struct dict_key k;
        dict_key_parse(r->d, it->key, &k);
        ch[i] = (struct store_change){.event = r->d->events[it->ev].name,
                                      .instance = it->instance,
                                      .field = it->key,
                                      .value = it->value};
        if (k.kind == DICT_KEY_OPTION) {
            ch[i].field = arena_strdup(&r->ar, k.name);
            ch[i].code = k.code;
            if (!ch[i].field)
                r->rc = ERR_NOMEM;
        }
        s.sets[s.nsets - 1].n++;
    }
    if (r->rc)
        return;
    s.nsurvey = r->nsurvey;
    r->stop = r->fn(r->fctx, &s, r->e);
    arena_reset(&r->ar);
    r->nitems = 0;
    r->nsurvey = 0;
    r->key = NULL;
}

/* typed: ItemDataString, ItemDataInteger, ... (the value is the content) */
static void item_data(struct reader *r, xmlTextReaderPtr x, bool typed)
{
    const char *oid = attr(r, x, "ItemOID");
    if (!oid || r->rc)
        return;
    if (!r->key) {
        reject(r, oid, "structure", "ItemData outside a SubjectData");
        return;
    }
    const char *name = oid_name(oid);
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(r->d, name, &k);
    if (kind == DICT_KEY_UNKNOWN && redcap_is_survey_item(r->d, name)) {
        r->nsurvey++; /* REDCap's survey metadata: ioheme has no surveys */
        return;
    }
    if (kind == DICT_KEY_UNKNOWN || (kind == DICT_KEY_OPTION && k.field->type != FT_CHECKBOX)) {
        reject(r, oid, "unknown_field", "no such item in the protocol");
        return;
    }
    /* the record ID is the SubjectKey; calcs are recomputed by the write path */
    if (kind != DICT_KEY_STATUS && (k.field == &r->d->fields[0] || k.field->type == FT_CALC ||
                                    k.field->type == FT_DESCRIPTIVE))
        return;
    /* files are not kept by ioheme: REDCap's file fields carry them as base64 with their
     * name, and the name is the value, as in REDCap's flat export */
    char *docname = NULL;
    if (kind != DICT_KEY_STATUS && k.field->type == FT_FILE) {
        docname = attr(r, x, "redcap:DocName");
        if (!docname)
            return;
        typed = false;
    }
    int ev = r->ev;
    if (ev < 0 && r->d->nevents == 1)
        ev = 0; /* REDCap without events: FormData straight under SubjectData */
    if (ev < 0) {
        reject(r, oid, "event", "ItemData outside a StudyEventData in a study with events");
        return;
    }
    size_t fi = kind == DICT_KEY_STATUS ? (size_t)(k.form - r->d->forms) : k.field->form_index;
    int instance = 0;
    if (r->d->form_repeats[(size_t)ev * r->d->nforms + fi]) {
        const char *rk = r->form_repeat ? r->form_repeat : r->group_repeat;
        struct err e = {0};
        if (!rk)
            instance = 1;
        else if (dict_instance_parse(rk, "repeat key", &instance, &e)) {
            reject(r, oid, "instance", e.msg);
            return;
        }
    }
    const char *tt = attr(r, x, "TransactionType");
    const char *isnull = attr(r, x, "IsNull");
    char *value = NULL;
    if (typed) {
        xmlChar *t = xmlTextReaderReadString(x);
        value = arena_strdup(&r->ar, t ? (const char *)t : "");
        xmlFree(t);
        if (!value)
            r->rc = ERR_NOMEM;
    } else {
        value = docname ? docname : attr(r, x, "Value");
    }
    if (r->rc)
        return;
    if ((tt && strcmp(tt, "Remove") == 0) || (isnull && strcmp(isnull, "Yes") == 0) || !value)
        value = "";
    if (kind != DICT_KEY_STATUS && dict_vtype_is_datetime(k.field->vtype) && strlen(value) > 10 &&
        value[10] == 'T')
        value[10] = ' ';
    struct item *g = array_grow(r->items, r->nitems, &r->capitems, sizeof *g, 256);
    if (!g) {
        r->rc = ERR_NOMEM;
        return;
    }
    r->items = g;
    char *key = arena_strdup(&r->ar, name);
    if (!key) {
        r->rc = ERR_NOMEM;
        return;
    }
    r->items[r->nitems++] = (struct item){ev, instance, key, value, r->seq++};
}

static void start_element(struct reader *r, xmlTextReaderPtr x, const char *name)
{
    if (strcmp(name, "SubjectData") == 0) {
        subject_end(r);
        r->key = attr(r, x, "SubjectKey");
        r->ev = -1;
        if (!r->key && !r->rc)
            reject(r, "SubjectData", "structure", "SubjectData without a SubjectKey");
    } else if (strcmp(name, "StudyEventData") == 0) {
        const char *oid = attr(r, x, "StudyEventOID");
        const char *ev = oid ? dict_event_find(r->d, oid_name(oid)) : NULL;
        r->ev = ev ? dict_event_index(r->d, ev) : -2;
        if (!ev && oid)
            reject(r, oid, "unknown_event", "no such event in the protocol");
    } else if (strcmp(name, "FormData") == 0) {
        r->form_repeat = attr(r, x, "FormRepeatKey");
        r->group_repeat = NULL;
    } else if (strcmp(name, "ItemGroupData") == 0) {
        r->group_repeat = attr(r, x, "ItemGroupRepeatKey");
    } else if (strncmp(name, "ItemData", 8) == 0 && r->ev != -2) {
        item_data(r, x, name[8] != '\0');
    }
}

/* The whole document through r: every node in order; x is freed. */
static int read_doc(struct reader *r, xmlTextReaderPtr x, const char *path, struct err *e)
{
    bool saw_root = false, in_clinical = false, wrong_root = false;
    int ret = 0;
    while (!r->rc && !r->stop && (ret = xmlTextReaderRead(x)) == 1) {
        int type = xmlTextReaderNodeType(x);
        const char *name = (const char *)xmlTextReaderConstLocalName(x);
        if (!name)
            continue;
        if (type == XML_READER_TYPE_ELEMENT) {
            if (!saw_root) {
                saw_root = true;
                if (strcmp(name, "ODM") != 0) {
                    err_set(e, ERR_INVALID, "%s: the root element is <%s>, not <ODM>", path, name);
                    wrong_root = true;
                    break;
                }
            }
            if (strcmp(name, "ClinicalData") == 0)
                in_clinical = !xmlTextReaderIsEmptyElement(x);
            else if (in_clinical)
                start_element(r, x, name);
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (strcmp(name, "ClinicalData") == 0) {
                subject_end(r);
                in_clinical = false;
            } else if (strcmp(name, "StudyEventData") == 0) {
                r->ev = -1;
            } else if (strcmp(name, "FormData") == 0) {
                r->form_repeat = NULL;
            } else if (strcmp(name, "ItemGroupData") == 0) {
                r->group_repeat = NULL;
            } else if (strcmp(name, "SubjectData") == 0) {
                subject_end(r);
            }
        }
    }
    int line = xmlTextReaderGetParserLineNumber(x);
    xmlFreeTextReader(x);
    free(r->items);
    arena_free(&r->ar);
    if (wrong_root)
        return ERR_INVALID;
    if (r->stop)
        return r->stop;
    if (r->rc)
        return err_set(e, r->rc, "out of memory");
    if (ret < 0)
        return err_set(e, ERR_INVALID, "%s:%d: not well-formed XML", path, line);
    if (!saw_root)
        return err_set(e, ERR_INVALID, "%s: no <ODM> element", path);
    return 0;
}

enum { READ_OPTS = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING };

int odm_read(const struct dict *d, const char *path, const char *data, size_t len,
             odm_subject_fn fn, void *fctx, odm_reject_fn reject_fn, void *ctx, struct err *e)
{
    if (len > (size_t)INT_MAX)
        return err_set(e, ERR_INVALID, "%s: larger than 2 GiB", path);
    xmlTextReaderPtr x = xmlReaderForMemory(data, (int)len, path, NULL, READ_OPTS);
    if (!x)
        return err_set(e, ERR_NOMEM, "out of memory");
    struct reader r = {
        .d = d, .reject = reject_fn, .ctx = ctx, .fn = fn, .fctx = fctx, .e = e, .ev = -1};
    return read_doc(&r, x, path, e);
}

/* The file as libxml2 reads it, every byte also into the digest. */
struct hashed_file {
    FILE *f;
    struct digest dg;
};

static int hashed_read(void *ctx, char *buf, int len)
{
    struct hashed_file *h = ctx;
    size_t n = fread(buf, 1, (size_t)len, h->f);
    if (n == 0 && ferror(h->f))
        return -1;
    digest_add(&h->dg, buf, n);
    return (int)n;
}

int odm_read_file(const struct dict *d, const char *path, char sha[65], odm_subject_fn fn,
                  void *fctx, odm_reject_fn reject_fn, void *ctx, struct err *e)
{
    struct hashed_file h = {.f = fopen(path, "rb")};
    if (!h.f)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    digest_init(&h.dg);
    xmlTextReaderPtr x = xmlReaderForIO(hashed_read, NULL, &h, path, NULL, READ_OPTS);
    int rc;
    if (!x) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
    } else {
        struct reader r = {
            .d = d, .reject = reject_fn, .ctx = ctx, .fn = fn, .fctx = fctx, .e = e, .ev = -1};
        rc = read_doc(&r, x, path, e);
    }
    /* the rest of the file (after an error, or what the parser did not ask for): sha is the
     * whole file's */
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, h.f)) > 0)
        digest_add(&h.dg, buf, n);
    bool bad = ferror(h.f);
    (void)fclose(h.f);
    digest_hex(&h.dg, sha);
    if (!rc && bad)
        rc = err_set(e, ERR_IO, "%s: read error", path);
    return rc;
}
