/* CDISC ODM 1.3.2: the study as one XML file a sponsor, registry or another EDC reads, and the
 * ClinicalData of such a file read back into change sets for the store's one write path.
 *
 * Writing (odm_write) streams with libxml2's xmlTextWriter, one record at a time: memory grows
 * with the largest record, not with the number of records. The file holds
 *   Study        GlobalVariables, BasicDefinitions (units found in the dictionary's field notes),
 *                MetaDataVersion: Protocol, a StudyEventDef per event, a FormDef per form, one
 *                ItemGroupDef per form (Repeating="Yes" when the form repeats at some event),
 *                an ItemDef per field (a checkbox: one per option; a form's status as
 *                <form>_complete), RangeChecks from the validation min/max, CodeLists for
 *                choices, branching logic as ConditionDef and calcs as MethodDef (REDCap logic
 *                as FormalExpression text, Context "REDCap");
 *   AdminData    the users (login and full name), the site as the one Location, a SignatureDef
 *                per signature meaning of the protocol;
 *   ClinicalData per record in screening order: SubjectData (SubjectKey = study ID, or the
 *                screening number before enrolment), StudyEventData, FormData, ItemGroupData
 *                (ItemGroupRepeatKey = the instance of a repeating form), ItemData. With audit
 *                the file is Transactional: every change of every value is one ItemData
 *                (Insert, Update, Remove) with its AuditRecord (user, site, UTC time, reason,
 *                source with the audit row's number), in the order they happened; without
 *                audit it is a Snapshot of the current values. The record's latest valid
 *                signature is its SubjectData's Signature and every signature is in the
 *                Signatures container; queries are Annotations (Comment = the thread, Flag =
 *                the status) on the value, form or subject they question.
 * Everything is ordered by the protocol (events, forms, fields, options) and by the audit
 * trail, and the file's time is the audit trail's content head (store_audit_content_time):
 * the same database gives the same bytes.
 *
 * Reading (odm_read) is lenient about what it does not need: it takes ClinicalData from
 * ioheme's own files and from REDCap's project XML (which is not XSD-valid ODM: FormData
 * directly under SubjectData in a project without events, vendor attributes), matches OIDs by
 * the name after the last '.' ("SE.baseline_arm_1", "Event.baseline_arm_1" and
 * "baseline_arm_1" are one event), and keeps for each value the last ItemData in document
 * order (a Transactional file's final state). It judges nothing else: the write path does. */
#ifndef IOHEME_FORMATS_ODM_H
#define IOHEME_FORMATS_ODM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/dict.h"
#include "store/store.h"

struct odm_write_opts {
    bool is_metadata_only;      /* Study and AdminData only */
    bool has_audit;             /* every change with its AuditRecord (Transactional) */
    bool is_deidentified;       /* no values of Identifier? fields, no users' real names */
    const char *const *records; /* only these records (study IDs or screening numbers) */
    size_t nrecords;            /* 0: every record */
};

struct odm_write_stats {
    size_t subjects;    /* SubjectData written */
    size_t items;       /* ItemData written */
    size_t signatures;  /* Signature elements (SubjectData and the container) */
    size_t annotations; /* queries written as Annotations */
    size_t withheld;    /* values left out by is_deidentified */
};

/* Writes the study in st as ODM 1.3.2 to path (replaced when it exists), from one read snapshot
 * of the database (store/snapshot.h: no transaction may be open on st). An unknown record in
 * opts->records is ERR_NOT_FOUND before anything is written. stats may be NULL. On failure the
 * file may be partly written: the caller removes it. */
int odm_write(struct store *st, const char *path, const struct odm_write_opts *opts,
              struct odm_write_stats *stats, struct err *e);

/* One subject of a file read: its key, and its values in change sets, one per event and
 * instance, in document order (strings in the caller's arena). */
struct odm_change_set {
    const char *event;
    int instance;
    struct store_change *changes;
    size_t n;
};
struct odm_subject {
    const char *key;
    struct odm_change_set *sets;
    size_t nsets;
    size_t nsurvey; /* values left out, and counted aloud: REDCap's survey metadata
                       (<form>_timestamp, redcap_survey_identifier; ioheme has no surveys) */
};

/* Problems with one value or element that do not stop the reading (an unknown item, event or
 * form; a repeat key out of range): the subject, the OID at fault, a rule and a message. */
typedef void (*odm_reject_fn)(void *ctx, const char *subject, const char *oid, const char *rule,
                              const char *msg);

/* Each subject read, as its SubjectData ends (s and its strings live until fn returns): 0 to
 * go on, else an error code (with e set) that stops the reading and is odm_read's. */
typedef int (*odm_subject_fn)(void *ctx, const struct odm_subject *s, struct err *e);

/* Reads the ClinicalData of an ODM file (data, len bytes; path names it in messages) against d,
 * handing each subject to fn in document order; memory holds one subject at a time. Calc
 * fields are skipped (the write path recomputes them), and so is the record-ID field
 * (d->fields[0]); external entities are not loaded. ERR_INVALID (e naming the line) when the
 * file is not well-formed XML or its root is not ODM — found only where the reading gets to,
 * after the subjects before it were handed on: read a file through once before acting on its
 * subjects. reject (may be NULL) hears of each value or element left out. */
int odm_read(const struct dict *d, const char *path, const char *data, size_t len,
             odm_subject_fn fn, void *fctx, odm_reject_fn reject, void *ctx, struct err *e);
/* As odm_read, the file at path read as it is parsed (never held whole: memory holds one
 * subject and the parser's buffer, whatever the file's size); sha gets the SHA-256 of all of
 * the file, read to its end whatever the parse found (a second reading that gives another has
 * read another file). */
int odm_read_file(const struct dict *d, const char *path, char sha[65], odm_subject_fn fn,
                  void *fctx, odm_reject_fn reject, void *ctx, struct err *e);

#endif
