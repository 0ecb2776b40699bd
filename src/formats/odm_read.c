#include "base/array.h"
/* ODM ClinicalData reader (odm.h): libxml2's xmlTextReader, one pass in document order; each
#include "base/array.h"
 * subject's values reduced to their final state when its SubjectData ends. */
#include "base/array.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include <libxml/xmlreader.h>

#include "base/array.h"
#include "formats/odm.h"

#include "base/array.h"
/* One ItemData read: where, which item and the value; seq keeps document order. */
#include "base/array.h"
struct item {
#include "base/array.h"
    int ev;
#include "base/array.h"
    int instance;
#include "base/array.h"
    const char *key;
#include "base/array.h"
    const char *value;
#include "base/array.h"
    size_t seq;
#include "base/array.h"
};
#include "base/array.h"

#include "base/array.h"
struct reader {
#include "base/array.h"
    const struct dict *d;
#include "base/array.h"
    struct arena *ar;
#include "base/array.h"
    odm_reject_fn reject;
#include "base/array.h"
    void *ctx;
#include "base/array.h"
    /* the subjects read */
#include "base/array.h"
    struct odm_subject *subj;
#include "base/array.h"
    size_t nsubj, capsubj;
#include "base/array.h"
    /* the current subject, event, form */
#include "base/array.h"
    const char *key;
#include "base/array.h"
    int ev;
#include "base/array.h"
    const char *form_repeat, *group_repeat;
#include "base/array.h"
    struct item *items;
#include "base/array.h"
    size_t nitems, capitems;
#include "base/array.h"
    size_t seq;
#include "base/array.h"
    int rc;
#include "base/array.h"
};
#include "base/array.h"

#include "base/array.h"
/* The name after the last '.' of an OID ("SE.baseline_arm_1" -> "baseline_arm_1"). */
#include "base/array.h"
static const char *oid_name(const char *oid)
#include "base/array.h"
{
#include "base/array.h"
    const char *dot = strrchr(oid, '.');
#include "base/array.h"
    return dot ? dot + 1 : oid;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static char *attr(struct reader *r, xmlTextReaderPtr x, const char *name)
#include "base/array.h"
{
#include "base/array.h"
    xmlChar *v = xmlTextReaderGetAttribute(x, BAD_CAST name);
#include "base/array.h"
    if (!v)
#include "base/array.h"
        return NULL;
#include "base/array.h"
    char *c = arena_strdup(r->ar, (const char *)v);
#include "base/array.h"
    xmlFree(v);
#include "base/array.h"
    if (!c)
#include "base/array.h"
        r->rc = ERR_NOMEM;
#include "base/array.h"
    return c;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static void reject(struct reader *r, const char *oid, const char *rule, const char *msg)
#include "base/array.h"
{
#include "base/array.h"
    if (r->reject)
#include "base/array.h"
        r->reject(r->ctx, r->key ? r->key : "", oid ? oid : "", rule, msg);
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static int item_cmp(const void *pa, const void *pb)
#include "base/array.h"
{
#include "base/array.h"
    const struct item *a = pa, *b = pb;
#include "base/array.h"
    if (a->ev != b->ev)
#include "base/array.h"
        return a->ev < b->ev ? -1 : 1;
#include "base/array.h"
    if (a->instance != b->instance)
#include "base/array.h"
        return a->instance < b->instance ? -1 : 1;
#include "base/array.h"
    int c = strcmp(a->key, b->key);
#include "base/array.h"
    if (c)
#include "base/array.h"
        return c;
#include "base/array.h"
    return a->seq < b->seq ? -1 : a->seq > b->seq;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* The subject's final state: for each (event, instance, item) the last value read, as change
#include "base/array.h"
 * sets by event (protocol order) and instance. */
#include "base/array.h"
static void subject_end(struct reader *r)
#include "base/array.h"
{
#include "base/array.h"
    if (!r->key || r->rc)
#include "base/array.h"
        return;
#include "base/array.h"
    qsort(r->items, r->nitems, sizeof *r->items, item_cmp);
#include "base/array.h"
    size_t nlast = 0;
#include "base/array.h"
    for (size_t i = 0; i < r->nitems; i++) {
#include "base/array.h"
        bool is_last = i + 1 == r->nitems || r->items[i + 1].ev != r->items[i].ev ||
#include "base/array.h"
                       r->items[i + 1].instance != r->items[i].instance ||
#include "base/array.h"
                       strcmp(r->items[i + 1].key, r->items[i].key) != 0;
#include "base/array.h"
        if (is_last)
#include "base/array.h"
            r->items[nlast++] = r->items[i];
#include "base/array.h"
    }
#include "base/array.h"
    struct odm_subject s = {.key = r->key};
#include "base/array.h"
    size_t nsets = 0;
#include "base/array.h"
    for (size_t i = 0; i < nlast; i++)
#include "base/array.h"
        nsets += i == 0 || r->items[i].ev != r->items[i - 1].ev ||
#include "base/array.h"
                 r->items[i].instance != r->items[i - 1].instance;
#include "base/array.h"
    s.sets = nsets ? arena_calloc(r->ar, nsets, sizeof *s.sets) : NULL;
#include "base/array.h"
    struct store_change *ch = nlast ? arena_calloc(r->ar, nlast, sizeof *ch) : NULL;
#include "base/array.h"
    if ((nsets && !s.sets) || (nlast && !ch)) {
#include "base/array.h"
        r->rc = ERR_NOMEM;
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    for (size_t i = 0; i < nlast; i++) {
#include "base/array.h"
        const struct item *it = &r->items[i];
#include "base/array.h"
        if (i == 0 || it->ev != r->items[i - 1].ev || it->instance != r->items[i - 1].instance) {
#include "base/array.h"
            struct odm_change_set *cs = &s.sets[s.nsets++];
#include "base/array.h"
            cs->event = r->d->events[it->ev].name;
#include "base/array.h"
            cs->instance = it->instance;
#include "base/array.h"
            cs->changes = &ch[i];
#include "base/array.h"
        }
#include "base/array.h"
        struct dict_key k;
#include "base/array.h"
        dict_key_parse(r->d, it->key, &k);
#include "base/array.h"
        ch[i] = (struct store_change){.event = r->d->events[it->ev].name,
#include "base/array.h"
                                      .instance = it->instance,
#include "base/array.h"
                                      .field = it->key,
#include "base/array.h"
                                      .value = it->value};
#include "base/array.h"
        if (k.kind == DICT_KEY_OPTION) {
#include "base/array.h"
            ch[i].field = arena_strdup(r->ar, k.name);
#include "base/array.h"
            ch[i].code = k.code;
#include "base/array.h"
            if (!ch[i].field)
#include "base/array.h"
                r->rc = ERR_NOMEM;
#include "base/array.h"
        }
#include "base/array.h"
        s.sets[s.nsets - 1].n++;
#include "base/array.h"
    }
#include "base/array.h"
    struct odm_subject *g = arena_grow(r->ar, r->subj, r->nsubj, &r->capsubj, sizeof *g, 64);
#include "base/array.h"
    if (!g) {
#include "base/array.h"
        r->rc = ERR_NOMEM;
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    r->subj = g;
#include "base/array.h"
    r->subj[r->nsubj++] = s;
#include "base/array.h"
    r->nitems = 0;
#include "base/array.h"
    r->key = NULL;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static bool is_datetime_type(enum val_type v)
#include "base/array.h"
{
#include "base/array.h"
    return v == VT_DATETIME_YMD || v == VT_DATETIME_MDY || v == VT_DATETIME_DMY ||
#include "base/array.h"
           v == VT_DATETIME_SECONDS_YMD || v == VT_DATETIME_SECONDS_MDY ||
#include "base/array.h"
           v == VT_DATETIME_SECONDS_DMY;
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
/* typed: ItemDataString, ItemDataInteger, ... (the value is the content) */
#include "base/array.h"
static void item_data(struct reader *r, xmlTextReaderPtr x, bool typed)
#include "base/array.h"
{
#include "base/array.h"
    const char *oid = attr(r, x, "ItemOID");
#include "base/array.h"
    if (!oid || r->rc)
#include "base/array.h"
        return;
#include "base/array.h"
    if (!r->key) {
#include "base/array.h"
        reject(r, oid, "structure", "ItemData outside a SubjectData");
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    const char *name = oid_name(oid);
#include "base/array.h"
    struct dict_key k;
#include "base/array.h"
    enum dict_key_kind kind = dict_key_parse(r->d, name, &k);
#include "base/array.h"
    if (kind == DICT_KEY_UNKNOWN || (kind == DICT_KEY_OPTION && k.field->type != FT_CHECKBOX)) {
#include "base/array.h"
        reject(r, oid, "unknown_field", "no such item in the protocol");
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    /* the record ID is the SubjectKey; calcs are recomputed by the write path */
#include "base/array.h"
    /* files are not kept by ioheme (REDCap's file fields carry them as base64) */
#include "base/array.h"
    if (kind != DICT_KEY_STATUS && (k.field == &r->d->fields[0] || k.field->type == FT_CALC ||
#include "base/array.h"
                                    k.field->type == FT_DESCRIPTIVE || k.field->type == FT_FILE))
#include "base/array.h"
        return;
#include "base/array.h"
    int ev = r->ev;
#include "base/array.h"
    if (ev < 0 && r->d->nevents == 1)
#include "base/array.h"
        ev = 0; /* REDCap without events: FormData straight under SubjectData */
#include "base/array.h"
    if (ev < 0) {
#include "base/array.h"
        reject(r, oid, "event", "ItemData outside a StudyEventData in a study with events");
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    size_t fi = kind == DICT_KEY_STATUS ? (size_t)(k.form - r->d->forms) : k.field->form_index;
#include "base/array.h"
    int instance = 0;
#include "base/array.h"
    if (r->d->form_repeats[(size_t)ev * r->d->nforms + fi]) {
#include "base/array.h"
        const char *rk = r->form_repeat ? r->form_repeat : r->group_repeat;
#include "base/array.h"
        struct err e = {0};
#include "base/array.h"
        if (!rk)
#include "base/array.h"
            instance = 1;
#include "base/array.h"
        else if (dict_instance_parse(rk, "repeat key", &instance, &e)) {
#include "base/array.h"
            reject(r, oid, "instance", e.msg);
#include "base/array.h"
            return;
#include "base/array.h"
        }
#include "base/array.h"
    }
#include "base/array.h"
    const char *tt = attr(r, x, "TransactionType");
#include "base/array.h"
    const char *isnull = attr(r, x, "IsNull");
#include "base/array.h"
    char *value = NULL;
#include "base/array.h"
    if (typed) {
#include "base/array.h"
        xmlChar *t = xmlTextReaderReadString(x);
#include "base/array.h"
        value = arena_strdup(r->ar, t ? (const char *)t : "");
#include "base/array.h"
        xmlFree(t);
#include "base/array.h"
        if (!value)
#include "base/array.h"
            r->rc = ERR_NOMEM;
#include "base/array.h"
    } else {
#include "base/array.h"
        value = attr(r, x, "Value");
#include "base/array.h"
    }
#include "base/array.h"
    if (r->rc)
#include "base/array.h"
        return;
#include "base/array.h"
    if ((tt && strcmp(tt, "Remove") == 0) || (isnull && strcmp(isnull, "Yes") == 0) || !value)
#include "base/array.h"
        value = "";
#include "base/array.h"
    if (kind != DICT_KEY_STATUS && is_datetime_type(k.field->vtype) && strlen(value) > 10 &&
#include "base/array.h"
        value[10] == 'T')
#include "base/array.h"
        value[10] = ' ';
#include "base/array.h"
    struct item *g = array_grow(r->items, r->nitems, &r->capitems, sizeof *g, 256);
#include "base/array.h"
    if (!g) {
#include "base/array.h"
        r->rc = ERR_NOMEM;
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    r->items = g;
#include "base/array.h"
    char *key = arena_strdup(r->ar, name);
#include "base/array.h"
    if (!key) {
#include "base/array.h"
        r->rc = ERR_NOMEM;
#include "base/array.h"
        return;
#include "base/array.h"
    }
#include "base/array.h"
    r->items[r->nitems++] = (struct item){ev, instance, key, value, r->seq++};
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
static void start_element(struct reader *r, xmlTextReaderPtr x, const char *name)
#include "base/array.h"
{
#include "base/array.h"
    if (strcmp(name, "SubjectData") == 0) {
#include "base/array.h"
        subject_end(r);
#include "base/array.h"
        r->key = attr(r, x, "SubjectKey");
#include "base/array.h"
        r->ev = -1;
#include "base/array.h"
        if (!r->key && !r->rc)
#include "base/array.h"
            reject(r, "SubjectData", "structure", "SubjectData without a SubjectKey");
#include "base/array.h"
    } else if (strcmp(name, "StudyEventData") == 0) {
#include "base/array.h"
        const char *oid = attr(r, x, "StudyEventOID");
#include "base/array.h"
        const char *ev = oid ? dict_event_find(r->d, oid_name(oid)) : NULL;
#include "base/array.h"
        r->ev = ev ? dict_event_index(r->d, ev) : -2;
#include "base/array.h"
        if (!ev && oid)
#include "base/array.h"
            reject(r, oid, "unknown_event", "no such event in the protocol");
#include "base/array.h"
    } else if (strcmp(name, "FormData") == 0) {
#include "base/array.h"
        r->form_repeat = attr(r, x, "FormRepeatKey");
#include "base/array.h"
        r->group_repeat = NULL;
#include "base/array.h"
    } else if (strcmp(name, "ItemGroupData") == 0) {
#include "base/array.h"
        r->group_repeat = attr(r, x, "ItemGroupRepeatKey");
#include "base/array.h"
    } else if (strncmp(name, "ItemData", 8) == 0 && r->ev != -2) {
#include "base/array.h"
        item_data(r, x, name[8] != '\0');
#include "base/array.h"
    }
#include "base/array.h"
}
#include "base/array.h"

#include "base/array.h"
int odm_read(const struct dict *d, const char *path, const char *data, size_t len, struct arena *ar,
#include "base/array.h"
             struct odm_subject **subjects, size_t *n, odm_reject_fn reject_fn, void *ctx,
#include "base/array.h"
             struct err *e)
#include "base/array.h"
{
#include "base/array.h"
    *subjects = NULL;
#include "base/array.h"
    *n = 0;
#include "base/array.h"
    if (len > (size_t)INT_MAX)
#include "base/array.h"
        return err_set(e, ERR_INVALID, "%s: larger than 2 GiB", path);
#include "base/array.h"
    xmlTextReaderPtr x = xmlReaderForMemory(
#include "base/array.h"
        data, (int)len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
#include "base/array.h"
    if (!x)
#include "base/array.h"
        return err_set(e, ERR_NOMEM, "out of memory");
#include "base/array.h"
    struct reader r = {.d = d, .ar = ar, .reject = reject_fn, .ctx = ctx, .ev = -1};
#include "base/array.h"
    bool saw_root = false, in_clinical = false;
#include "base/array.h"
    int ret;
#include "base/array.h"
    while (!r.rc && (ret = xmlTextReaderRead(x)) == 1) {
#include "base/array.h"
        int type = xmlTextReaderNodeType(x);
#include "base/array.h"
        const char *name = (const char *)xmlTextReaderConstLocalName(x);
#include "base/array.h"
        if (!name)
#include "base/array.h"
            continue;
#include "base/array.h"
        if (type == XML_READER_TYPE_ELEMENT) {
#include "base/array.h"
            if (!saw_root) {
#include "base/array.h"
                saw_root = true;
#include "base/array.h"
                if (strcmp(name, "ODM") != 0) {
#include "base/array.h"
                    int rc = err_set(e, ERR_INVALID, "%s: the root element is <%s>, not <ODM>",
#include "base/array.h"
                                     path, name);
#include "base/array.h"
                    xmlFreeTextReader(x);
#include "base/array.h"
                    free(r.items);
#include "base/array.h"
                    return rc;
#include "base/array.h"
                }
#include "base/array.h"
            }
#include "base/array.h"
            if (strcmp(name, "ClinicalData") == 0)
#include "base/array.h"
                in_clinical = !xmlTextReaderIsEmptyElement(x);
#include "base/array.h"
            else if (in_clinical)
#include "base/array.h"
                start_element(&r, x, name);
#include "base/array.h"
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
#include "base/array.h"
            if (strcmp(name, "ClinicalData") == 0) {
#include "base/array.h"
                subject_end(&r);
#include "base/array.h"
                in_clinical = false;
#include "base/array.h"
            } else if (strcmp(name, "StudyEventData") == 0) {
#include "base/array.h"
                r.ev = -1;
#include "base/array.h"
            } else if (strcmp(name, "FormData") == 0) {
#include "base/array.h"
                r.form_repeat = NULL;
#include "base/array.h"
            } else if (strcmp(name, "ItemGroupData") == 0) {
#include "base/array.h"
                r.group_repeat = NULL;
#include "base/array.h"
            } else if (strcmp(name, "SubjectData") == 0) {
#include "base/array.h"
                subject_end(&r);
#include "base/array.h"
            }
#include "base/array.h"
        }
#include "base/array.h"
    }
#include "base/array.h"
    int line = xmlTextReaderGetParserLineNumber(x);
#include "base/array.h"
    xmlFreeTextReader(x);
#include "base/array.h"
    free(r.items);
#include "base/array.h"
    if (r.rc)
#include "base/array.h"
        return err_set(e, r.rc, "out of memory");
#include "base/array.h"
    if (ret < 0)
#include "base/array.h"
        return err_set(e, ERR_INVALID, "%s:%d: not well-formed XML", path, line);
#include "base/array.h"
    if (!saw_root)
#include "base/array.h"
        return err_set(e, ERR_INVALID, "%s: no <ODM> element", path);
#include "base/array.h"
    *subjects = r.subj;
#include "base/array.h"
    *n = r.nsubj;
#include "base/array.h"
    return 0;
#include "base/array.h"
}
