/* The study protocol as data: a REDCap data dictionary plus REDCap's event, form-event and
 * repeating-form exports, loaded from a protocol folder (protocols/io-heme/):
 *
 *   dictionary.csv    REDCap data dictionary, the 18 columns with REDCap's header strings (or
 *                     the API's: field_name,form_name,...; or 17, without Field Annotation)
 *   events.csv        event_name,arm_num,unique_event_name[,custom_event_label][,day_offset,
 *                     offset_min,offset_max] (REDCap's export; absent offsets read as 0)
 *   form_events.csv   arm_num,unique_event_name,form
 *   repeating.csv     event_name,form_name,custom_form_label[,max_instances]
 *                     (form_name,custom_form_label[,...] in a project without events.csv)
 *                     (forms that repeat at an event; max_instances is ioheme's optional
 *                     column, the most instances the form may have there: blank means
 *                     DICT_INSTANCE_MAX_DEFAULT, at most DICT_INSTANCE_CEILING)
 *   study.csv         key,value: the study's facts the engine uses (ioheme's own, optional):
 *                     target_enrolment, the schedule's anchor (anchor_field, anchor_rule,
 *                     fallback_field, fallback_rule) and study_id_format; see struct
 *                     dict_study
 *   schedule.csv      unique_event_name,due_min,window_before_min,window_after_min: when an
 *                     event falls due, in minutes after the anchor (ioheme's own, optional;
 *                     events without a row fall due by events.csv's days); see struct
 *                     dict_event
 *
 * protocols/io-heme/README.md documents both of ioheme's own files with an example;
 * docs/redcap.md what of REDCap's dictionaries loads and how its validation types behave.
 * What loads but cannot behave as in REDCap (an sql field) is a warning in dict.warnings.
 *
 * dict_load validates everything (duplicate or malformed names, unknown field or validation
 * types, bad choice lists, min/max that do not fit the validation type, logic that does not
 * parse or references unknown fields/events/checkbox codes, form-event rows naming unknown
 * forms/events, calc fields that depend on themselves) and reports ALL errors found, each as
 * "file:line:column: message", sorted by file, line and column. column is the CSV column; for
 * logic the message adds the cell's column name and the character within the cell:
 * "dictionary.csv:14:12: (Branching Logic, char 7): unknown field [agee]". Logic may name
 * REDCap's implicit form-status fields, [<form>_complete].
 *
 * Action tags recognised in the Field Annotation column: @FORCE-MINMAX (min/max are hard
 * errors), @READONLY, @HIDDEN, @DEFAULT='x', @NOW, @TODAY, and the study-engine tags
 * @INCLUSION / @EXCLUSION (a calc field that is one eligibility criterion: 1 met, 0 not met,
 * blank unknown), @ELIGIBLE (the calc field giving the overall verdict) and @CONSENT (the field
 * recording consent; enrolment requires a value there).
 *
 * Everything in a struct dict is owned by its arena; dict_free releases it. */
#ifndef IOHEME_CORE_DICT_H
#define IOHEME_CORE_DICT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/expr.h"

enum field_type {
    FT_TEXT,
    FT_NOTES,
    FT_DROPDOWN,
    FT_RADIO,
    FT_CHECKBOX,
    FT_YESNO,
    FT_TRUEFALSE,
    FT_CALC,
    FT_DESCRIPTIVE,
    FT_FILE,
    FT_SLIDER,
    /* REDCap's "Dynamic SQL" field: a dropdown whose choices a query on REDCap's own database
     * gives. ioheme has no such database: the field loads with a warning, takes free text and
     * keeps the query (choices_raw) unrun. */
    FT_SQL
};

enum val_type {
    VT_NONE,
    VT_INTEGER,
    VT_NUMBER,
    VT_NUMBER_1DP,
    VT_NUMBER_2DP,
    VT_NUMBER_3DP,
    VT_NUMBER_4DP,
    VT_DATE_YMD,
    VT_DATETIME_YMD,
    VT_DATETIME_SECONDS_YMD,
    VT_TIME,
    VT_TIME_MM_SS,
    VT_EMAIL,
    VT_PHONE,
    VT_ALPHA_ONLY,
    VT_ZIPCODE,
    /* dates and date-times entered as MM-DD-YYYY / DD-MM-YYYY (or as YYYY-MM-DD), stored as
     * YYYY-MM-DD[ HH:MM[:SS]] like the _ymd types (REDCap stores and exports them so too) */
    VT_DATE_MDY,
    VT_DATE_DMY,
    VT_DATETIME_MDY,
    VT_DATETIME_DMY,
    VT_DATETIME_SECONDS_MDY,
    VT_DATETIME_SECONDS_DMY,
    VT_TIME_HH_MM_SS,
    /* numbers with a decimal comma ("1,54"), stored as written, as REDCap does */
    VT_NUMBER_COMMA,
    VT_NUMBER_1DP_COMMA,
    VT_NUMBER_2DP_COMMA,
    VT_NUMBER_3DP_COMMA,
    VT_NUMBER_4DP_COMMA,
    VT_SSN,
    VT_PHONE_AUSTRALIA,
    VT_POSTALCODE_AUSTRALIA,
    VT_POSTALCODE_CANADA,
    VT_POSTALCODE_FRENCH,
    VT_POSTALCODE_GERMANY,
    VT_POSTALCODE_UK,
    VT_PHONE_UK,
    VT_PHONE_FRANCE,
    VT_MRN_10D,
    VT_MRN_GENERIC,
    VT_VMRN,
    VT_SIGNATURE,   /* on a file field: a signature pad */
    VT_AUTOCOMPLETE /* on a dropdown: a searchable list; the value is still one of its codes */
};

struct dict_choice {
    const char *code;
    const char *label;
};

struct dict_field {
    const char *name;
    const char *form;
    const char *section_header;
    enum field_type type;
    const char *label;
    const char *choices_raw;     /* column 6 as written */
    struct dict_choice *choices; /* dropdown/radio/checkbox; yesno/truefalse get 1/0 */
    size_t nchoices;
    const char *note; /* units go here, e.g. "mmHg" */
    enum val_type vtype;
    const char *vmin, *vmax; /* as written ("" when none) */
    bool has_min, has_max;
    double min_num, max_num; /* numbers; dates/datetimes as days/seconds since epoch;
                                times (HH:MM, MM:SS) as seconds */
    /* A min / max of "today" or "now" on a date, datetime or time field: the site's clock when
     * the value is entered (validate_clock_bounds); has_min / has_max are false for it. */
    enum dict_clock_bound {
        DICT_BOUND_FIXED,
        DICT_BOUND_TODAY,
        DICT_BOUND_NOW
    } min_clock,
        max_clock;
    /* A min / max piped from another field ("[lmp]", "[screening_arm_1][lmp]"): that field's
     * value when this one is entered (validate_piped_bounds); NULL when none, or when it names
     * no field of the protocol (a warning at load) */
    struct expr *min_ref, *max_ref;
    bool is_identifier, is_required;
    const char *branching_raw;
    struct expr *branching; /* NULL when always shown */
    struct expr *calc;      /* calc fields */
    const char *annotation;
    bool force_minmax, is_readonly, is_hidden;
    bool hide_button; /* @HIDEBUTTON: no Today / Now button beside a date or time field */
    bool is_inclusion, is_exclusion, is_eligible;
    const char *default_value; /* @DEFAULT='x' -> "x"; @TODAY / @NOW -> "today" / "now";
                                  NULL when none */
    size_t line;               /* line in dictionary.csv */
    size_t form_index;         /* index into dict.forms */
};

struct dict_form {
    const char *name;
    const char *label; /* the form name made readable ("io_procedure" -> "IO procedure" when no
                          better label) */
    size_t first_field, nfields; /* fields[first_field .. first_field+nfields) */
};

/* Repeat instances are bounded: a form repeats at most DICT_INSTANCE_MAX_DEFAULT times at an
 * event unless repeating.csv says otherwise, and no protocol may allow more than
 * DICT_INSTANCE_CEILING. Every instance number read from outside (JSON, CSV, URL, command line)
 * goes through dict_instance_parse / dict_instance_check before it becomes an int. */
#define DICT_INSTANCE_MAX_DEFAULT 999
#define DICT_INSTANCE_CEILING 9999

struct dict_event {
    const char *name;        /* unique_event_name, e.g. "screening_arm_1" */
    const char *label;       /* custom_event_label or event_name */
    const char *short_label; /* event_name ("15 min"), for narrow places such as a column head */
    int day_offset;
    int offset_min, offset_max;
    /* The schedule, in minutes after the anchor (struct dict_study): from schedule.csv's row
     * for the event, else from events.csv's days above: due_min = day_offset days,
     * window_before_min = offset_min days, window_after_min = offset_max + 1 days (REDCap's
     * windows count whole days, so the due day itself is in the window). A form is overdue after
     * due +
     * window_after_min. Without schedule.csv (databases created before it existed), an event
     * named t<N>min_... / t<N>h_... falls due N minutes / hours after the anchor. */
    long long due_min, window_before_min, window_after_min;
};

/* How an anchor field's values (one per event and instance) give one time: the earliest of
 * them, or the one of the lowest instance (then the first event in events.csv order). */
enum dict_anchor_rule { DICT_ANCHOR_EARLIEST, DICT_ANCHOR_FIRST_INSTANCE };

struct dict_anchor {
    const struct dict_field *field; /* a datetime_ymd / datetime_seconds_ymd text field; NULL:
                                       none */
    enum dict_anchor_rule rule;
};

/* study.csv. The schedule's anchor of a record is anchor's time, else fallback's, else the
 * record's enrolment time. Without study.csv (databases created before it existed) the
 * defaults are the facts the engine had built in: target 52, anchor att_start_dt (earliest),
 * fallback iop_decision_dt (first instance), each field only when the dictionary has it as
 * a datetime. */
struct dict_study {
    int target_enrolment; /* 0: the protocol states none */
    struct dict_anchor anchor, fallback;
    bool has_file; /* study.csv was given */
    /* study_id_format: how enrolment names a record, "IOH-{seq:3}" by default: {seq} (or
     * {seq:N}, zero-padded to N digits, 1-6) the enrolment's number, {site} the record's site
     * code (then each site numbers its own: IOH-{site}-{seq:3} gives IOH-02-014); other
     * characters letters, digits, '-' or '_'. */
    char id_format[32];
    /* country: the ISO 3166-1 alpha-3 code of the country the study runs in ("CHN"), what the
     * SDTM export's DM COUNTRY says; "" when study.csv does not give it. */
    char country[4];
    /* title: the study's full title, what the exports describe it by (ODM's and define.xml's
     * StudyDescription, the REDCap API's project_title); "" when study.csv does not give it. */
    char title[256];
};

/* The study ID for site code site ("" or NULL: none) and number seq into out: false when it
 * would be longer than 15 characters. */
bool dict_study_id_format(const struct dict_study *s, const char *site, long long seq,
                          char out[16]);
/* Whether the study IDs carry the site's code. */
bool dict_study_id_has_site(const struct dict_study *s);

/* One row of the protocol's SDV plan (sdv.csv: form, field, rate, why): the values of field f
 * (NULL: every field of form) of a share `rate` of the records (1: every record; 0.2: a
 * reproducible fifth, dict_sdv_selected) must be verified against source documents. */
struct dict_sdv_rule {
    const struct dict_form *form;
    const struct dict_field *field; /* NULL: the whole form */
    double rate;                    /* 0 < rate <= 1 */
    const char *why;
};

/* One signature meaning of the protocol (signatures.csv: meaning, label, role, scope,
 * attestation): what a signature means, who may give it, and on what. */
enum dict_sig_scope { DICT_SIG_RECORD, DICT_SIG_STUDY };
struct dict_sig_meaning {
    const char *name;          /* "casebook_review" */
    const char *label;         /* "Investigator review of casebook" */
    const char *role;          /* the role that signs (a core/perm.h role name) */
    enum dict_sig_scope scope; /* a record's casebook, or the whole study */
    const char *attestation;   /* the text the signer affirms */
};

struct dict {
    struct dict_field *fields;
    size_t nfields; /* in dictionary order; fields[0] = record id */
    struct dict_form *forms;
    size_t nforms; /* in order of first appearance */
    struct dict_event *events;
    size_t nevents;       /* in events.csv order */
    bool is_longitudinal; /* events.csv was given; else one implicit event, "event_1" (a
                             REDCap classic project, whose exports name no event) */
    struct dict_study study;
    struct dict_sdv_rule *sdv; /* sdv.csv's rules in file order; NULL/0 when there is no plan */
    size_t nsdv;
    struct dict_sig_meaning *sigs; /* signatures.csv, in file order; NULL/0 when absent */
    size_t nsigs;
    /* What loaded but does not behave as in REDCap (an sql field), one
     * "file:line:column: warning: message" each, in file and line order */
    const char **warnings;
    size_t nwarnings;
    bool *form_at_event;    /* [event * nforms + form]: the form is collected at the event */
    bool *form_repeats;     /* [event * nforms + form]: repeating form at that event */
    int *form_max_instance; /* [event * nforms + form]: highest instance allowed there
                               (0 for a form that does not repeat) */
    bool *event_repeats;    /* [event]: REDCap's repeating event (repeating.csv's row with the
                               form blank): every form there repeats, an instance's forms
                               sharing its number, and REDCap's files leave the form unnamed */
    struct arena arena;
    size_t *field_slots; /* open-addressing index by name: field index + 1, 0 = empty */
    size_t nslots;       /* a power of two, > 2 * nfields */
};

/* Whether any form repeats at any event (REDCap's has_repeating_instruments_or_events). */
bool dict_has_repeating(const struct dict *d);

/* The protocol folder's files, in the order their errors print; dictionary.csv is required,
 * the others optional. */
#define DICT_NFILES 8
extern const char *const dict_protocol_files[DICT_NFILES];
/* The dictionary's 18 columns as REDCap's API (content=metadata) names them, in column order. */
#define DICT_API_NCOLS 18
extern const char *const dict_api_headers[DICT_API_NCOLS];

/* Loads and validates the protocol folder dir (dictionary.csv required, the others
 * optional). On failure returns ERR_INVALID (or ERR_IO, ERR_NOMEM) and e->msg lists the errors,
 * one per line, "dictionary.csv:12:6: ..." — as many as fit in its 1 KiB, then
 * "(and N more errors)" (dict_load_full gives them all); *d is left empty. On success the
 * caller owns *d and releases it with dict_free. */
int dict_load(const char *dir, struct dict *d, struct err *e);
/* As dict_load, from the four files' contents in memory (used when the protocol is stored in
 * the database). Any of the last three may be NULL (no events: one implicit event "event_1"). */
int dict_load_mem(const char *dictionary_csv, const char *events_csv, const char *form_events_csv,
                  const char *repeating_csv, struct dict *d, struct err *e);
/* As dict_load / dict_load_mem, and also appends every error, one per line and untruncated, to
 * errors when it is not NULL (e->msg holds 1 KiB, enough for the first few); *nerrors (when
 * not NULL) gets their number. errors is the caller's. */
int dict_load_full(const char *dir, struct dict *d, struct strbuf *errors, size_t *nerrors,
                   struct err *e);
int dict_load_mem_full(const char *dictionary_csv, const char *events_csv,
                       const char *form_events_csv, const char *repeating_csv, struct dict *d,
                       struct strbuf *errors, size_t *nerrors, struct err *e);
/* As dict_load_mem_full, from all the files' contents: files[i] is dict_protocol_files[i]'s,
 * NULL when absent. */
int dict_load_files(const char *const files[DICT_NFILES], struct dict *d, struct strbuf *errors,
                    size_t *nerrors, struct err *e);
void dict_free(struct dict *d);

/* Lookups; NULL / -1 when absent. */
const struct dict_field *dict_field(const struct dict *d, const char *name);
const struct dict_form *dict_form(const struct dict *d, const char *name);
int dict_event_index(const struct dict *d, const char *event);
/* An event named as REDCap's users name it: its unique name ("baseline_arm_1"), or the name
 * without the arm when only one arm has it ("baseline"). The dictionary's string, or NULL
 * (unknown, or ambiguous between arms). */
const char *dict_event_find(const struct dict *d, const char *name);

/* The instance a reference [event][field][which] reads, REDCap's rule, seen from an expression
 * evaluated at instance cur_instance of the current event (same_event: the reference's event is
 * that one): 0 when f's form does not repeat at event evi (a qualifier is then ignored); else
 * for which 0 (no qualifier) the current instance on the current event when there is one, else
 * 1; N > 0: N; EXPR_INST_CURRENT: the current instance (1 when none); PREVIOUS / NEXT: it less /
 * plus one; FIRST / LAST: first / last, the lowest and highest instance of the form holding data
 * there, which the caller looks up when dict_ref_needs_bounds says so (0: none). -1 when there
 * is no such instance: the reference reads blank. Every lookup reads through this one rule. */
int dict_ref_instance(const struct dict *d, int evi, const struct dict_field *f, bool same_event,
                      int cur_instance, int which, int first, int last);
/* Whether dict_ref_instance needs the form's first and last instances for which. */
bool dict_ref_needs_bounds(const struct dict *d, int evi, const struct dict_field *f, int which);

/* Whom an expression is evaluated for, as the smart variables name them: the record's name
 * ([record-name]) and data access group, its site's code ([record-dag-name]), and the user's
 * group, their one site's code ([user-dag-name]); each NULL or "" when blank. */
struct dict_smart_who {
    const char *record, *record_dag, *user_dag;
};
/* The value of smart variable name (expr_is_smart) for an expression evaluated at event (its
 * unique name; NULL: blank for the event variables), instance (0: a form that does not
 * repeat), for who (NULL: all blank): see expr.h for each. The one place smart variables get
 * their value; every expr_lookup_fn calls it for a smart name. */
void dict_smart_value(const struct dict *d, const char *name, const char *event, int instance,
                      const struct dict_smart_who *who, struct expr_value *out);
int dict_form_index(const struct dict *d, const char *form);
/* A REDCap column name, as imports, exports, the API's value keys, the CLI's assignments and
 * logic write them: a field ("age"), one checkbox option ("qual_cat1___1": the field and its
 * code joined by three underscores) or a form's status ("screening_complete"). dict_key_parse
 * is the one reader of these names and dict_key_format / dict_complete_field the writers. */
enum dict_key_kind {
    DICT_KEY_UNKNOWN = 0, /* none of these in this dictionary */
    DICT_KEY_FIELD,       /* a field, named as it stands */
    DICT_KEY_OPTION,      /* one checkbox option of a field */
    DICT_KEY_STATUS       /* <form>_complete */
};

#define DICT_KEY_NAME_MAX 128

struct dict_key {
    enum dict_key_kind kind;
    const struct dict_field *field; /* FIELD, OPTION */
    const struct dict_form *form;   /* STATUS: that form; FIELD, OPTION: the field's form */
    char name[DICT_KEY_NAME_MAX];   /* the field (FIELD, OPTION), the form (STATUS), or for
                                       UNKNOWN the key before any "___" */
    const char *code;               /* after "___" (OPTION, or UNKNOWN with "___"); points into
                                       the key; NULL otherwise */
};

/* Reads key against d into *out and returns out->kind. A field's name is taken as it stands;
 * "x___c" is option c of field x (whatever x's type and whether c is one of its codes: the
 * write path names those faults); "f_complete" is the status of form f. */
enum dict_key_kind dict_key_parse(const struct dict *d, const char *key, struct dict_key *out);
/* "field", or "field___code" when code is not NULL, into buf (len bytes); NULL when it does
 * not fit. */
const char *dict_key_format(const char *field, const char *code, char *buf, size_t len);

/* REDCap's export column of checkbox option code of field, "field___code" with the code in
 * lower case and anything but letters and digits as '_' ("cb___abc" for code ABC, "cb____1"
 * for -1), as REDCap's exports and exportFieldNames name it (dict_key_parse reads it back);
 * into buf (len bytes), NULL when it does not fit. ioheme's own keys (dict_key_format) keep
 * the code as it stands. */
const char *dict_redcap_column(const char *field, const char *code, char *buf, size_t len);
/* The checkbox/choice label for code, or NULL. */
const char *dict_choice_label(const struct dict_field *f, const char *code);
/* f's minimum (max false) or maximum as written, when a value is checked against it: a fixed
 * bound, "today" / "now" (read on the site's clock) or another field piped in ("[lmp]", its
 * value as this one is entered); NULL when there is none, or one not checked. */
const char *dict_field_bound(const struct dict_field *f, bool max);
/* "<form>_complete": REDCap's implicit form-status field name, written to buf. */
const char *dict_complete_field(const struct dict_form *form, char *buf, size_t len);

/* The highest instance allowed for form index fi at event index ev: 0 when the form does not
 * repeat there (its one instance is 0), else the protocol's max_instances. */
int dict_instance_max(const struct dict *d, size_t ev, size_t fi);

/* Whether form index fi is collected at event index ev with that instance (0 when the form
 * does not repeat there, 1 .. its maximum when it does): NULL when it is, else the rule broken
 * ("not_on_event" or "instance") with msg (msglen bytes) saying so, starting with what (e.g.
 * "field 'age'"). The one place that rule is written: the write path and queries call it. */
const char *dict_place_check(const struct dict *d, size_t ev, size_t fi, int instance,
                             const char *what, char *msg, size_t msglen);

/* The share of records whose value of f the SDV plan asks to verify: the field's own row, else
 * its form's row, else 0 (not in the plan; calc and descriptive fields never are). */
double dict_sdv_rate(const struct dict *d, const struct dict_field *f);
/* Whether record (its study ID or screening number) is among the share `rate` of records
 * sampled for SDV: every record when rate >= 1, none when rate <= 0, else those whose FNV-1a
 * hash of the name, modulo 10000, is below rate * 10000 — the same records on every run and
 * machine, so the plan's sample is fixed once the IDs are. */
bool dict_sdv_selected(double rate, const char *record);

/* The signature meaning named name, or NULL. */
const struct dict_sig_meaning *dict_sig_meaning(const struct dict *d, const char *name);

/* An instance number from outside: v must be within 0..DICT_INSTANCE_CEILING; anything else is
 * ERR_INVALID naming what (e.g. "instance", "redcap_repeat_instance") and the value. Range is
 * checked before any narrowing, so 4294967297 is refused, never read as 1. */
int dict_instance_check(long long v, const char *what, int *out, struct err *e);
/* As dict_instance_check, from decimal text (no sign, no spaces, no fraction: "2b" and "" are
 * refused). */
int dict_instance_parse(const char *s, const char *what, int *out, struct err *e);

/* One difference between two protocols (dict_diff, dict_diff.c). */
enum dict_change_kind { DICT_ADDED, DICT_REMOVED, DICT_CHANGED };
/* What a change could do to stored data, if there is any: nothing; leave values without a
 * place (a field, choice, event, form or mapping removed); make them mean something else (a
 * type, validation, form or choice label changed); hide them (branching); recompute them (a
 * calc's definition). */
enum dict_change_risk {
    DICT_RISK_NONE,
    DICT_RISK_ORPHANS,
    DICT_RISK_REINTERPRETS,
    DICT_RISK_HIDES,
    DICT_RISK_RECOMPUTES
};
struct dict_change {
    enum dict_change_kind kind;
    const char *what;   /* "event", "form", "mapping", "field"; for a field's change "type",
                           "form", "label", "validation", "range", "branching", "calc", "choice" */
    const char *name;   /* the event, form or field */
    const char *code;   /* a choice's code; for "mapping" the event; else NULL */
    const char *detail; /* old -> new, or what was added or removed, for a person */
    enum dict_change_risk risk;
};
/* Every difference from protocol a to protocol b, in this order: events, forms, mapping,
 * fields (with their changes) — strings in ar. 0 or ERR_NOMEM. */
int dict_diff(const struct dict *a, const struct dict *b, struct arena *ar,
              struct dict_change **out, size_t *n);

/* Whether values of t are dates (date_ymd, _mdy, _dmy) / date-times (datetime_* and
 * datetime_seconds_*, each order), stored as YYYY-MM-DD[ HH:MM[:SS]]. */
bool dict_vtype_is_date(enum val_type t);
bool dict_vtype_is_datetime(enum val_type t);
const char *dict_field_type_name(enum field_type t);
const char *dict_val_type_name(enum val_type t);

#endif
