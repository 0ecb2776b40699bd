/* Inside the ODM 1.3.2 writer (odm_write.c, odm_write_meta.c): the XML writer both files write
 * with, the study's OIDs, and the metadata and AdminData odm_write.c puts before the clinical
 * data. Nothing outside those two files includes it. */
#ifndef IOHEME_FORMATS_ODM_INT_H
#define IOHEME_FORMATS_ODM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlwriter.h>

#include "base/err.h"
#include "core/dict.h"
#include "store/snapshot.h"

#define ODM_NS "http://www.cdisc.org/ns/odm/v1.3"
#define STUDY_OID "S.IOHEME"
#define MDV_OID "MDV.1"
#define SITE_OID "L.SITE"

/* The writer and its first failure: every call after one is a no-op. */
struct odm_w {
    xmlTextWriterPtr x;
    bool failed;
};

/* The writer's calls: each is a no-op once a call has failed (w->failed). */
void odm_w_check(struct odm_w *w, int r);
void odm_w_start(struct odm_w *w, const char *name);
void odm_w_end(struct odm_w *w);
void odm_w_attr(struct odm_w *w, const char *name, const char *value);
void odm_w_attrf(struct odm_w *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Character data from the database (utf8_xml_text, as odm_w_attr). */
void odm_w_string(struct odm_w *w, const char *text);
void odm_w_text_elem(struct odm_w *w, const char *name, const char *text);
/* <name><TranslatedText xml:lang="en">text</TranslatedText></name> */
void odm_w_translated(struct odm_w *w, const char *name, const char *text);
/* As odm_w_translated, the text being a, b and c one after the other (b, c may be NULL). */
void odm_w_translated3(struct odm_w *w, const char *name, const char *a, const char *b,
                       const char *c);
/* ODM's xs:dateTime from the store's "YYYY-MM-DDTHH:MM:SS.mmmZ" (already UTC, kept as is). */
const char *odm_w_time(const char *ts);

/* The metadata (odm_write_meta.c). */
/* The measurement units the dictionary's fields name, each once. */
struct odm_units {
    const char **names;
    size_t n, cap;
};

/* Collects d's units into u (u->names allocated: free it): 0, or ERR_NOMEM. */
int odm_units_collect(const struct dict *d, struct odm_units *u);
/* attr="I.<key>": the ItemOID of a field or checkbox option key. */
void odm_w_item_oid(struct odm_w *w, const char *attr, const char *key);
/* MetaDataVersion: events, forms, item groups, items, code lists, units, methods, conditions. */
void odm_w_metadata(struct odm_w *w, const struct dict *d, const struct odm_units *u);
/* AdminData: users (full names unless deidentified), the study and its sites as Locations
 * (effective from first_ts), the protocol's SignatureDefs. */
int odm_w_admin(struct odm_w *w, struct store *st, const struct dict *d, bool deidentified,
                const char *first_ts, struct err *e);

#endif
