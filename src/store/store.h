/* The store: everything ioheme keeps, in one database file — the protocol it was created with,
 * users, the screening log and study records, values, form status, and the hash-chained audit
 * trail. This header is the store's whole public face. It exposes no SQLite type: a PostgreSQL
 * backend is planned behind the same functions.
 *
 * Rules every function follows:
 *   - Return 0 on success or a negative enum err_code, with e (may be NULL) naming what is at
 *     fault. Nothing is printed, nothing exits.
 *   - Every change to the data goes through store_put_changes (directly, or via the screening,
 *     enrolment and import helpers that call it): values, calc recomputation, form status and
 *     audit rows are written in one transaction, or nothing is.
 *   - Audit rows cannot be updated or deleted (triggers), and each row's hash covers the previous
 *     row's hash and the row's canonical bytes (docs/security.md), so `store_audit_verify` finds
 *     any edited, inserted or deleted row.
 *   - A struct store is one connection: use it from one thread at a time. A multi-threaded
 *     server opens one struct store per worker thread.
 *   - Timestamps are UTC ISO-8601 with milliseconds: "2026-11-27T02:45:12.345Z".
 *
 * Record identifiers: a screened patient gets a screening number (SCR-001, SCR-002, … in order);
 * an enrolled patient also gets a pseudonymous study ID (IOH-001, … in order of enrolment).
 * Every function taking a `record` accepts either identifier. Where the store hands out a
 * record's name (values, audit rows) it is the study ID when enrolled, else the screening
 * number. */
#ifndef IOHEME_STORE_STORE_H
#define IOHEME_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/dict.h"
#include "core/eligibility.h"
#include "core/perm.h"

struct store; /* an open database; opaque */

/* How long a write waits for another connection's transaction (an import, a backup's audit
 * row, a second server) before it gives up with ERR_BUSY, unless store_set_busy_wait says
 * otherwise. */
#define STORE_BUSY_WAIT_MS 15000

/* ---- opening -------------------------------------------------------------------------------*/

/* Creates a new database at path (refuses with ERR_CONFLICT when the file exists), copies the
 * protocol folder's files (dict_protocol_files: dictionary.csv, events.csv, form_events.csv,
 * repeating.csv, study.csv, schedule.csv, sdv.csv, signatures.csv; all but the first optional) into
 * it so the database is self-contained, validates them with dict_load, and creates the first user,
 * admin_user, with role "admin" and admin_password. The first audit rows are "create_db"
 * (source_sha256 = SHA-256 of the dictionary) and "user_add". On success *out is an open store the
 * caller closes with store_close; on failure no file is left behind. */
int store_create(const char *path, const char *protocol_dir, const char *admin_user,
                 const char *admin_password, struct store **out, struct err *e);

/* Opens an existing database: applies pending schema migrations (numbered by
 * PRAGMA user_version, each in its own transaction) and loads the dictionary stored in it.
 * ERR_NOT_FOUND when the file does not exist (it is never created here); ERR_INVALID when it
 * is not an ioheme database or is newer than this binary. Caller closes with store_close. */
int store_open(const char *path, struct store **out, struct err *e);

/* Closes the connection and frees everything the store owns (st may be NULL). Rolls back a
 * batch left open. */
void store_close(struct store *st);

/* The protocol's dictionary as stored in the database. Owned by st; valid until store_close. */
const struct dict *store_dict(const struct store *st);

/* One of the protocol files stored at creation (a name of dict_protocol_files). *out is
 * malloc'ed and NUL-terminated (caller frees);
 * ERR_NOT_FOUND when that file was not part of the protocol. */
int store_protocol_file(struct store *st, const char *name, char **out, struct err *e);

/* The clock: returns UTC milliseconds since the epoch. Tests install a fixed or stepping clock;
 * the default is the system clock. The store never writes an audit timestamp earlier than the
 * previous row's, so audit time is monotonic even if the system clock steps back. */
typedef long long (*store_clock_fn)(void *ctx);
void store_set_clock(struct store *st, store_clock_fn fn, void *ctx);
/* Sets how long this connection waits for another writer before ERR_BUSY (ms, >= 0; 0 fails
 * at once). */
void store_set_busy_wait(struct store *st, long long ms);

/* The current time from the clock (ms since epoch, UTC). */
long long store_now_ms(struct store *st);

/* Copies the database to dest with SQLite's online backup (safe while in use; a plain cp of a
 * WAL database is not), as who. Refuses to overwrite an existing dest (ERR_CONFLICT). In this
 * order: the "backup" audit row is committed (so no copy ever exists that the trail does not
 * name, and the copy's last row is that one); the pages are copied; the copy is opened and its
 * audit chain verified into *vr (may be NULL). Any failure removes the copy (and its -wal,
 * -shm) before returning: a failed backup leaves no file behind. */
struct store_ctx;
struct store_verify_result;
int store_backup(struct store *st, const struct store_ctx *who, const char *dest,
                 struct store_verify_result *vr, struct err *e);

/* ---- the study's settings ---------------------------------------------------------------*/

/* The site's time zone (core/sitetime.h: data date-times are its wall-clock; audit times UTC),
 * an IANA name, into out. A database that has none yet (created before site time zones) reads
 * as "UTC" with *is_set (may be NULL) false. */
#define STORE_TZ_LEN 64
int store_site_timezone(struct store *st, char out[STORE_TZ_LEN], bool *is_set, struct err *e);

/* Sets the site's time zone to name, as who, with an optional reason: ERR_INVALID when name
 * is not a known IANA zone (sitetime_name_check), ERR_CONFLICT when it is already the zone.
 * Audited as "site_timezone" (old and new name). Permission (PERM_SETTINGS) is the caller's to
 * check, as for every command. A running server keeps the zone it started with. */
int store_set_site_timezone(struct store *st, const struct store_ctx *who, const char *name,
                            const char *reason, struct err *e);

/* The key the web servers of this database derive their CSRF tokens with (http/auth.c): made at
 * random by the first `ioheme serve` and kept in the database (meta), so every server process
 * on it — several behind one proxy, or one restarted — accepts the tokens of the others'
 * sessions. It protects nothing by itself: a CSRF token also needs the session's id, of which
 * the database keeps only a hash. */
int store_server_key(struct store *st, unsigned char key[32], struct err *e);

/* ---- training and demo databases ---------------------------------------------------------*/

/* Marks a new database as a synthetic (training/demo) one, as who: a meta row and an audit row
 * ("synthetic"). Only the simulator's cohort belongs in such a database, and only such a
 * database takes it (sim_run refuses any other). ERR_CONFLICT when the database already holds a
 * record, or is marked already: a study's database never becomes a training one. */
int store_mark_synthetic(struct store *st, const struct store_ctx *who, struct err *e);

/* *out: whether the database was created as a synthetic (training/demo) database. */
int store_is_synthetic(struct store *st, bool *out, struct err *e);

/* ---- WAL checkpoints (the web server's checkpointer) -------------------------------------*/

/* Whether a COMMIT on this connection may run a WAL checkpoint itself, inside the commit
 * (SQLite's wal_autocheckpoint of 1000 pages: on by default, which is what the CLI wants). The
 * web server turns it off on its connections and checkpoints from a thread of its own with
 * store_checkpoint, so no save waits for one. Durability is unchanged: synchronous=FULL still
 * fsyncs the WAL at every COMMIT; a checkpoint only copies committed pages into the database
 * file. */
int store_set_autocheckpoint(struct store *st, bool is_on, struct err *e);

enum store_checkpoint_mode {
    STORE_CKPT_PASSIVE,  /* copy what can be copied without waiting for anyone */
    STORE_CKPT_RESTART,  /* copy everything, then wait until no reader uses the WAL, so the
                            next COMMIT writes it from its start again: bounds its size */
    STORE_CKPT_TRUNCATE, /* as RESTART, then truncate the WAL file to zero bytes */
};

struct store_checkpoint_result {
    long long wal_frames;    /* frames in the WAL afterwards (0 after a complete TRUNCATE) */
    long long copied_frames; /* of those, how many are in the database file now */
    bool is_complete;        /* false when another checkpoint was running, or RESTART/TRUNCATE
                                stopped waiting after wait_ms and did what PASSIVE would */
};

/* Checkpoints the WAL into the database file on st's connection and fills *out. RESTART and
 * TRUNCATE hold off new writers while they wait for the current writer and for readers, for at
 * most wait_ms (set as this connection's busy wait: use a connection dedicated to
 * checkpoints). Giving up is not an error (is_complete false); an I/O error is ERR_IO. */
int store_checkpoint(struct store *st, enum store_checkpoint_mode mode, int wait_ms,
                     struct store_checkpoint_result *out, struct err *e);

/* ---- who is acting ------------------------------------------------------------------------*/

/* Attached to every write: who, through which door, from which file. */
struct store_ctx {
    const char *user;          /* username of an active user; "system" for the store itself */
    const char *source;        /* "cli" | "api" | "import" | "system" */
    const char *source_sha256; /* 64 hex chars of the source file (imports), or NULL */
    /* The site (its code) a record this change creates belongs to (sites.c), or NULL: the
     * user's site when they work at exactly one, else none. */
    const char *site;
};

/* ---- users, roles, authentication ---------------------------------------------------------*/

#define STORE_USERNAME_MAX 32
#define STORE_PASSWORD_MIN 8
#define STORE_MAX_FAILED_LOGINS 5

struct store_user {
    long long id;
    char name[STORE_USERNAME_MAX + 1];
    char role[24]; /* admin, investigator, coordinator, monitor, data_manager,
                      statistician */
    bool is_disabled;
    bool is_locked_out; /* STORE_MAX_FAILED_LOGINS consecutive failures; admin unlocks */
    int failed_logins;  /* consecutive failures since the last success */
    char created_at[32];
    char password_set_at[32]; /* UTC; filled by store_user_get and store_authenticate only */
    /* filled by store_session_verify: until this time (store_now_ms) the same session passes a
     * check that may not write (its expiry needs no sliding yet); 0 when it never does */
    long long session_quiet_until_ms;
};

/* The password policy (P11-02), study-wide, in the database: a password expires max_age_days
 * after it was set (0: never); a new password may not be the current one or one of the
 * history - 1 before it (0: no check). Defaults: 0 and STORE_PASSWORD_HISTORY_DEFAULT. An
 * expired password still signs in only to change itself: store_authenticate answers
 * ERR_PASSWORD_EXPIRED (with *out filled) instead of 0. */
#define STORE_PASSWORD_HISTORY_DEFAULT 5
#define STORE_PASSWORD_HISTORY_MAX 24
struct store_password_policy {
    int max_age_days;
    int history;
};
int store_password_policy(struct store *st, struct store_password_policy *out, struct err *e);
/* Sets it (admin: the caller checks user_manage). Audited as "password_policy" (old and new
 * settings, reason). ERR_INVALID for a value out of range (0-3650 days, 0-24 passwords). */
int store_set_password_policy(struct store *st, const struct store_ctx *who,
                              const struct store_password_policy *p, const char *reason,
                              struct err *e);

/* True when role is one of the six role names above. */
bool store_role_is_valid(const char *role);
/* True when name matches [a-z0-9_.-]{2,32}. */
bool store_username_is_valid(const char *name);

/* Adds a user. Name must be valid, not the reserved "system", and never used before (usernames are
 * not reused, even after disabling: ERR_CONFLICT); password at least STORE_PASSWORD_MIN characters
 * of at least two kinds (letters, digits, others), not the name (ERR_INVALID); stored as an
 * argon2id hash (libsodium crypto_pwhash_str, interactive limits). Audited as "user_add" by
 * who->user. */
int store_user_add(struct store *st, const struct store_ctx *who, const char *name,
                   const char *role, const char *password, struct err *e);

/* Fills *out with the user called name; ERR_NOT_FOUND when there is none. */
int store_user_get(struct store *st, const char *name, struct store_user *out, struct err *e);

/* All users in order of creation. *out is a malloc'ed array of *n users (caller frees with
 * free; NULL when n is 0). */
int store_user_list(struct store *st, struct store_user **out, size_t *n, struct err *e);

/* A user's access for periodic review (P11-07): from the audit trail, the last successful
 * sign-in and their number (web sessions, API tokens' logins and CLI sessions, see
 * store_authenticate), the last failed one and their number. Times UTC, "" when none. */
struct store_user_access {
    struct store_user user;
    char last_login[32];
    long long logins;
    char last_failed_login[32];
    long long failed_logins_total;
};
/* Every user, in the order they were added; *out is malloc'd, caller frees. */
int store_user_access_report(struct store *st, struct store_user_access **out, size_t *n,
                             struct err *e);

/* Disables a user: they can no longer authenticate. Audited as "user_disable". ERR_CONFLICT
 * when disabling the last active admin. */
int store_user_disable(struct store *st, const struct store_ctx *who, const char *name,
                       struct err *e);

/* Gives user name another role (a reason is required; the last active admin keeps it).
 * Audited as "user_role" with the old and new "name: role" (P11-06). */
int store_user_set_role(struct store *st, const struct store_ctx *who, const char *name,
                        const char *role, const char *reason, struct err *e);

/* Clears a lockout (failed-login counter to 0). Audited as "unlock_user". */
int store_user_unlock(struct store *st, const struct store_ctx *who, const char *name,
                      struct err *e);

/* Sets a new password (same rules as store_user_add; not one of the policy's last passwords of
 * the user, ERR_INVALID); the replaced hash joins the history and the password's age restarts.
 * Audited as "password_change"; the hash is never written to the audit trail. */
int store_user_set_password(struct store *st, const struct store_ctx *who, const char *name,
                            const char *password, struct err *e);

/* Checks name + password. On success resets the failure counter and fills *out (may be NULL).
 * On failure returns ERR_AUTH with one message for every failure (it names neither the account
 * nor what was wrong), audits a "login_failed" row naming the account — or "(unknown user)"
 * when no such user exists, so a password typed as a username is not kept — with the reason,
 * and after STORE_MAX_FAILED_LOGINS consecutive failures locks the account and audits
 * "lockout". Safe under parallel attempts from any number of connections: each attempt spends
 * one unit of the budget atomically before its password is checked, so at most
 * STORE_MAX_FAILED_LOGINS passwords are checked between successes. Unknown, disabled and
 * locked accounts cost one argon2id check too (timing does not reveal usernames). A disabled
 * or locked-out user always fails, even with the right password. A success is audited as
 * "login" once per session: through source "api" every time (a web or API sign-in starts a
 * session); through source "cli" when the user has no "cli" login row in the last
 * STORE_CLI_SESSION_S seconds (a CLI command signs in per command: the commands a user runs
 * within that window are one session, so the trail gets one row, not one per command). */
#define STORE_CLI_SESSION_S 1800
int store_authenticate(struct store *st, const struct store_ctx *who, const char *name,
                       const char *password, struct store_user *out, struct err *e);

/* Role × action check with core's permission table (perm_allows). Returns 0 when the active
 * user may (always for PERM_NONE), ERR_FORBIDDEN (naming user, role and, in words, the action)
 * otherwise — and then audits a "denied" row with the action's name — or ERR_AUTH when the user
 * is unknown or disabled. */
int store_authorize(struct store *st, const struct store_ctx *who, enum perm_action action,
                    struct err *e);

/* ---- sessions (for the web server) --------------------------------------------------------*/

/* Creates a session for an authenticated user valid for ttl_s seconds of inactivity. token gets
 * 64 hex chars of fresh randomness and a NUL (65 bytes); only its SHA-256 is stored. */
int store_session_create(struct store *st, const char *user, long long ttl_s, char token[65],
                         struct err *e);
/* The same with 16 random bytes as 32 upper-case hex characters: an API token in the shape
 * REDCap's clients check (PyCap: 32 characters; REDCapR: 32 hex, upper-cased before sending). */
int store_session_create_redcap(struct store *st, const char *user, long long ttl_s, char token[65],
                                struct err *e);
/* Looks a token up: ERR_AUTH when unknown, expired, or its user is disabled or locked out; else
 * fills *out and slides the expiry by the session's ttl. */
int store_session_check(struct store *st, const char *token, struct store_user *out, struct err *e);
/* Ends a session (logout). Unknown tokens are not an error. */
int store_session_delete(struct store *st, const char *token, struct err *e);

/* ---- records: screening log and enrolment -------------------------------------------------*/

enum store_record_status {
    STORE_REC_SCREENED = 0,       /* in the screening log, not (yet) enrolled */
    STORE_REC_SCREEN_FAILURE = 1, /* the protocol's @ELIGIBLE calc says ineligible */
    STORE_REC_ENROLLED = 2,
    STORE_REC_WITHDRAWN = 3
};

/* "screened", "screen_failure", "enrolled", "withdrawn". */
const char *store_record_status_name(enum store_record_status s);

#define STORE_RECORD_ID_MAX 100 /* REDCap keeps record names of up to 100 characters */
#define STORE_SITE_CODE_MAX 18  /* REDCap's unique group names are at most 18 characters */
struct store_record {
    long long id;                           /* internal, in order of screening */
    char screening_no[16];                  /* "SCR-001" */
    char study_id[STORE_RECORD_ID_MAX + 1]; /* "IOH-001", "" when not enrolled */
    enum store_record_status status;
    int eligible; /* @ELIGIBLE value: 1, 0, or -1 when blank (incomplete) */
    bool is_locked;
    int nform_locks; /* locked form instances (store_form_lock) */
    char screened_at[32], enrolled_at[32], withdrawn_at[32]; /* "" when not applicable */
    char screened_by[STORE_USERNAME_MAX + 1];
    char site[STORE_SITE_CODE_MAX + 1]; /* the record's site's code, "" when it has none */
    long long site_id;                  /* its internal id, 0 when none */
};

/* A record's public name: study ID when enrolled, else screening number. Points into r. */
const char *store_record_name(const struct store_record *r);

/* Finds a record by screening number or study ID. ERR_NOT_FOUND when absent. */
int store_record_get(struct store *st, const char *record, struct store_record *out, struct err *e);

/* Every record in screening order (the screening log). *out is malloc'ed (caller frees). */
int store_record_list(struct store *st, struct store_record **out, size_t *n, struct err *e);

struct store_change;
struct store_put_result;

/* Creates a screening-log entry with the next screening number, then writes changes (the
 * screening form's values; may be empty) through store_put_changes; the @ELIGIBLE calc sets the
 * status (screen failure when 0). One transaction: when a change is rejected no record is
 * created. The new screening number is written to scr_out (16 bytes). Audited as "screen". */
int store_screen_create(struct store *st, const struct store_ctx *who,
                        const struct store_change *changes, size_t n, char scr_out[16],
                        struct store_put_result *res, struct err *e);

/* Evaluates the protocol's eligibility criteria (core/eligibility.h) on the record's stored
 * screening values. Criteria and strings are allocated in ar (caller's arena). */
int store_record_eligibility(struct store *st, const char *record, struct arena *ar,
                             struct elig_result *out, struct err *e);

/* Enrols a screened record: writes changes (consent values; may be empty) through the write
 * path, then requires the @ELIGIBLE calc to be 1 and consent to be recorded (a field whose
 * Field Annotation carries @CONSENT has value 1 or a consent-type code other than 0/blank);
 * otherwise ERR_CONFLICT naming what is missing and nothing is saved. A protocol with no
 * @ELIGIBLE calc requires no verdict, and one with no consent field (neither @CONSENT nor a
 * 'consent' form) no consent: a REDCap project brought in has neither. Assigns the next study
 * ID (IOH-001 …), written to id_out (16 bytes). Audited as "enroll". */
int store_enroll(struct store *st, const struct store_ctx *who, const char *record,
                 const struct store_change *changes, size_t n, char id_out[16],
                 struct store_put_result *res, struct err *e);

/* Creates an enrolled record whose study ID is name, as a REDCap project's data names its
 * records (an import bringing one in): only for a protocol without eligibility criteria (no
 * @ELIGIBLE calc: elsewhere records are created by screening, ERR_CONFLICT), name a record
 * ID by store_record_id_ok (ERR_INVALID), not an existing record's.
 * It gets the next screening number too. Audited as "record_create" (screening number -> name).
 * Permission (screen and enroll) is the caller's to check. */
int store_record_create_named(struct store *st, const struct store_ctx *who, const char *name,
                              struct err *e);
/* Whether name can be a record ID brought in from another system: 1 to STORE_RECORD_ID_MAX
 * printable ASCII characters (REDCap's custom record names, "AMC Javelin" or "332-3"), spaces
 * inside but not at either end, no comma (it separates the API's record lists) and no '/' (it
 * separates a URL's path). */
bool store_record_id_ok(const char *name);
/* As store_record_create_named, the record named as enrolment names one: the protocol's
 * study_id_format with the next free number (per site when the format carries the site), at
 * who->site (else the user's one site). Its name is written to id_out (16 bytes). REDCap's
 * forceAutoNumber. */
int store_record_create_numbered(struct store *st, const struct store_ctx *who, char id_out[16],
                                 struct err *e);
/* Whether an import may create records (store_record_create_named, _numbered): the protocol
 * has no eligibility criteria (no @ELIGIBLE calc), as a REDCap project brought in. */
bool store_records_by_import(const struct store *st);
/* The name store_record_create_numbered would give now (REDCap's generateNextRecordName):
 * ERR_CONFLICT when records are created by screening. */
int store_record_next_numbered(struct store *st, const struct store_ctx *who, char out[16],
                               struct err *e);

/* Marks an enrolled record withdrawn (reason required). Its data stay. Audited "withdraw". */
int store_withdraw(struct store *st, const struct store_ctx *who, const char *record,
                   const char *reason, struct err *e);

/* Locks / unlocks a record: while locked every write to it is refused (ERR_CONFLICT). Unlock
 * requires a reason. Audited as "lock" / "unlock". */
int store_record_lock(struct store *st, const struct store_ctx *who, const char *record,
                      const char *reason, struct err *e);
int store_record_unlock(struct store *st, const struct store_ctx *who, const char *record,
                        const char *reason, struct err *e);

/* A locked form instance of a record. */
struct store_form_lock {
    char event[DICT_KEY_NAME_MAX]; /* names hold up to 100 characters (DICT_NAME_MAX) */
    char form[DICT_KEY_NAME_MAX];
    int instance; /* 0 when the form does not repeat at the event */
    char locked_by[STORE_USERNAME_MAX + 1];
    char locked_at[32]; /* UTC */
};

/* Locks (lock) or unlocks one form instance of a record — (event, form, instance), the place
 * rule of the write path (dict_place_check) — with the same permissions as a record lock.
 * While locked the write path refuses every change to it (rule "locked"), a recomputed calc
 * included; queries, SDV and signatures go on. Unlock needs a reason. ERR_CONFLICT when it is
 * already so, the record is locked, or the database is frozen or locked. Audited as
 * "form_lock" / "form_unlock" with the form as the field. */
int store_form_lock(struct store *st, const struct store_ctx *who, const char *record,
                    const char *event, const char *form, int instance, bool lock,
                    const char *reason, struct err *e);

/* The record's locked form instances (record_id: store_record.id). *out is malloc'ed. */
int store_form_locks(struct store *st, long long record_id, struct store_form_lock **out, size_t *n,
                     struct err *e);

/* ---- queries (discrepancy notes) ----------------------------------------------------------*/

/* A query questions a value (event, instance, field), a form (field "") or a whole record (event
 * and form ""). Its life: open -> answered (by the site, with a message and optionally the
 * corrected value) -> closed (by a monitor or data manager); a closed query can be reopened.
 * Every action adds a message to its thread and an audit row ("query_open", "query_answer",
 * "query_close", "query_reopen", "query_note"; old/new value the status names, reason
 * "query N: <message>"). Permissions are decided here, for every door: raising needs
 * query_raise, answering query_answer (and data_write when it corrects values), closing and
 * reopening query_close; a refusal is ERR_FORBIDDEN with a "denied" audit row.
 *
 * The write path keeps queries in step with the data: a value saved with a soft validation flag
 * opens a system query on it (origin "system", rule = the flag) unless one is open there
 * already; any later change of a value under a live (open or answered) query adds a
 * "value_change" message with old and new value and the change's reason; when the changed value
 * no longer carries the flag, an open system query becomes answered. */
enum store_query_status { STORE_QUERY_OPEN = 0, STORE_QUERY_ANSWERED = 1, STORE_QUERY_CLOSED = 2 };
#define STORE_QUERY_TEXT_MAX 2000

/* "open", "answered", "closed" ("?" out of range); and back (ERR_NOT_FOUND). */
const char *store_query_status_name(enum store_query_status s);
int store_query_status_from_name(const char *name, enum store_query_status *out);

struct store_query {
    long long id;
    char record[STORE_RECORD_ID_MAX + 1];
    char event[DICT_KEY_NAME_MAX]; /* "" for a record query */
    int instance;
    char form[DICT_KEY_NAME_MAX]; /* "" for a record query */
    char field[160];              /* "field" or "field___code"; "" for a form or record query */
    enum store_query_status status;
    bool is_system;
    char rule[24];          /* system queries: the soft validation rule ("min", "max") */
    char raised_value[256]; /* the value when the query was raised ("" none) */
    char assignee[48];      /* user name, "role:NAME", or "" for whoever may answer */
    char opened_by[STORE_USERNAME_MAX + 1];
    char opened_at[32], updated_at[32];
    char text[256]; /* the first message, for lists (truncated) */
    int nmessages;
};

struct store_query_message {
    long long id;
    char ts[32];
    char user[STORE_USERNAME_MAX + 1];
    char action[16]; /* open, answer, close, reopen, value_change */
    char text[STORE_QUERY_TEXT_MAX + 1];
    char old_value[256], new_value[256]; /* value_change: the values; else "" */
    bool has_values;
};

/* What to raise a query on. record is required; event NULL/"" for a record query; form may be
 * NULL when field is given (the field's form); field NULL/"" for a form query; instance as in
 * store_change. assignee NULL, a user name or "role:NAME". text: 1 ..
 * STORE_QUERY_TEXT_MAX bytes, required. */
struct store_query_new {
    const char *record;
    const char *event;
    int instance;
    const char *form;
    const char *field;
    const char *assignee;
    const char *text;
};

/* Raises a query; *id_out (may be NULL) gets its number. ERR_INVALID names a bad field,
 * event, form, instance or assignee; ERR_NOT_FOUND an unknown record. */
int store_query_open(struct store *st, const struct store_ctx *who, const struct store_query_new *q,
                     long long *id_out, struct err *e);

/* Answers an open (or already answered) query with text. When n > 0 the changes (usually the
 * corrected value) are saved through store_put_changes in the same transaction, with reason
 * "query N: <text>", and the thread records each changed value; a hard error refuses all. res as
 * for store_put_changes (may be NULL). ERR_CONFLICT when the query is closed. */
int store_query_answer(struct store *st, const struct store_ctx *who, long long id,
                       const char *text, const struct store_change *changes, size_t n,
                       struct store_put_result *res, struct err *e);
/* Closes an open or answered query (text optional) / reopens a closed one (text required). */
int store_query_close(struct store *st, const struct store_ctx *who, long long id, const char *text,
                      struct err *e);
int store_query_reopen(struct store *st, const struct store_ctx *who, long long id,
                       const char *text, struct err *e);

int store_query_get(struct store *st, long long id, struct store_query *out, struct err *e);
/* The thread, oldest first. *out malloc'ed (caller frees). */
int store_query_messages(struct store *st, long long id, struct store_query_message **out,
                         size_t *n, struct err *e);

/* Which queries to list: every field optional (NULL / -1). is_live: only open and answered.
 * waiting_for: only those waiting for this user's action — open ones the user's role may answer
 * that are assigned to the user, to the role, or to nobody; answered ones the role may close. */
struct store_query_filter {
    const char *record;
    const char *form;
    int status; /* enum store_query_status, or -1 */
    bool is_live;
    const char *waiting_for;
};
/* Matching queries by record, then number. *out malloc'ed (caller frees). */
int store_query_list(struct store *st, const struct store_query_filter *f, struct store_query **out,
                     size_t *n, struct err *e);

/* ---- source data verification --------------------------------------------------------------*/

/* A monitor marks stored values verified against the source documents (permission sdv): one
 * field, or every value of a form at an event and instance. A verified value stays verified
 * until it changes: the write path then clears the verification in the same transaction
 * ("sdv_clear" audit row, old value the verified one). Verifying is audited as "sdv_verify",
 * one row per value (new value: the value verified). The protocol's plan (sdv.csv,
 * dict_sdv_rate) says which values must be verified; progress counts against it. */

/* Verifies the values of form at (event, instance) of record — only field's ("field" or
 * "field___code") when field is not NULL. *n (may be NULL) gets how many were newly verified
 * (already verified values are left as they are). ERR_INVALID for an unknown event, form or
 * field, a form not collected there, or no stored value to verify. */
int store_sdv_verify(struct store *st, const struct store_ctx *who, const char *record,
                     const char *event, int instance, const char *form, const char *field,
                     size_t *n, struct err *e);

/* One stored value with its place in the plan and its verification. */
struct store_sdv_value {
    const char *record;
    const char *site; /* the record's site's code, NULL when none */
    bool is_enrolled;
    const char *event;
    int instance;
    const char *form;
    size_t form_index; /* the form's place in the dictionary's forms */
    const char *field; /* the field's name */
    const char *code;  /* checkbox option, or NULL */
    const char *value;
    double rate;      /* the plan's share for this field (0: not planned) */
    bool is_required; /* planned, and this record is in the plan's sample */
    bool is_verified;
    const char *verified_by, *verified_at; /* NULL unless verified */
};
typedef int (*store_sdv_fn)(void *ctx, const struct store_sdv_value *v);
/* Every stored value (calc fields excepted: they are derived, not transcribed) of record, or
 * of the whole study when record is NULL, in record, event, instance, field order. */
int store_sdv_values(struct store *st, const char *record, store_sdv_fn fn, void *ctx,
                     struct err *e);

/* Progress against the plan, per enrolled record and form (form "" for the record's total,
 * which follows its forms): values stored, values the plan requires, how many of those are
 * verified, and verified values beyond the plan. */
struct store_sdv_count {
    char record[STORE_RECORD_ID_MAX + 1];
    char site[STORE_SITE_CODE_MAX + 1]; /* the record's site, "" when none */
    char form[DICT_KEY_NAME_MAX];
    size_t values, required, required_verified, other_verified;
};
/* For record, or every enrolled record when NULL; *out malloc'ed (caller frees). The plan is
 * met when every count's required_verified equals its required (store_sdv_plan_met). */
int store_sdv_progress(struct store *st, const char *record, struct store_sdv_count **out,
                       size_t *n, struct err *e);
bool store_sdv_plan_met(const struct store_sdv_count *c, size_t n);

/* ---- electronic signatures -----------------------------------------------------------------*/

/* A signature: its meaning (the protocol's signatures.csv: what it means, which role signs, on a
 * record's casebook or on the study), the signer, their printed name, the UTC time, and the
 * SHA-256 of the canonical bytes of exactly what was signed (store_record_content_sha256; for a
 * study signature the audit head's hash). A later change to a signed record (a value or a
 * form's status) invalidates its signatures in the same transaction, audited as
 * "signature_invalid"; the signature stays, marked invalid, and the signer signs again. */
struct store_signature {
    long long id;
    char meaning[64];
    char record[STORE_RECORD_ID_MAX + 1]; /* "" for a study signature */
    char signer[STORE_USERNAME_MAX + 1];
    char printed_name[128];
    char signed_at[32];
    char content_sha256[65];
    bool is_valid;
    char invalidated_at[32], invalidated_reason[256];
};

/* Signs as who: the password is checked again (a failure is audited and counts toward the
 * lockout like a failed sign-in), the user's role must be the meaning's, record must be given
 * for a record meaning and NULL for a study one, and a record's every form holding data must be
 * marked complete (ERR_CONFLICT naming the first that is not). Audited as "sign" (new value: the
 * meaning; reason: printed name and content hash). *id (may be NULL) gets the signature's number.
 */
int store_sign(struct store *st, const struct store_ctx *who, const char *password,
               const char *meaning, const char *record, long long *id, struct err *e);
/* The newest valid signature among g[0..n) of meaning on record ("" for a study signature)
 * given at or after since (UTC, "" for any time): its id, or 0 when there is none. The one rule
 * for "this approval exists" (the lock's checks, a protocol amendment). */
long long store_signature_valid_since(const struct store_signature *g, size_t n,
                                      const char *meaning, const char *record, const char *since);
/* Signatures of record (NULL: all), oldest first; *out malloc'ed (caller frees). */
int store_signatures(struct store *st, const char *record, struct store_signature **out, size_t *n,
                     struct err *e);
/* The SHA-256 (hex) of a record's canonical content: every value in (event, instance, field,
 * code) order, then every form status in (event, form, instance) order, each item
 * length-prefixed as in the audit trail's canonical bytes (docs/security.md). */
int store_record_content_sha256(struct store *st, const char *record, char out[65], struct err *e);
/* Checks every valid record signature's hash against the record's content now: *nbad gets the
 * number that do not match (data changed behind the store's back), *nvalid and *ninvalid the
 * others. ERR_INTEGRITY naming the first mismatch when *nbad > 0. */
int store_signatures_verify(struct store *st, size_t *nvalid, size_t *ninvalid, size_t *nbad,
                            struct err *e);
/* A user's printed name for signatures (the username when none is set) into out (len bytes);
 * ERR_AUTH for an unknown user. */
int store_user_full_name(struct store *st, const char *user, char *out, size_t len, struct err *e);
/* A user's printed name for signatures (the username when none is set); setting it needs
 * user_manage and is audited as "user_name". */
int store_user_set_full_name(struct store *st, const struct store_ctx *who, const char *name,
                             const char *full_name, struct err *e);

/* ---- database freeze and lock --------------------------------------------------------------*/

/* The database's state: available (data entry), frozen (no data entry; queries, SDV and
 * signatures go on), locked (nothing about the study data changes: every write path, query,
 * SDV, signature and record lock is refused until it is unlocked). Transitions, each one
 * transaction with its audit row ("db_freeze", "db_unfreeze", "db_lock", "db_unlock"):
 *   available -> frozen     store_db_freeze   (lock; reason optional)
 *   frozen -> available     store_db_unfreeze (unlock; reason)
 *   frozen -> locked        store_db_lock     (lock; the pre-lock checklist must pass, or an
 *                                              override reason is recorded with what failed)
 *   locked -> frozen        store_db_unlock   (unlock; reason; the password again) */
enum store_db_state { STORE_DB_AVAILABLE = 0, STORE_DB_FROZEN = 1, STORE_DB_LOCKED = 2 };
const char *store_db_state_name(enum store_db_state s);

struct store_db_status {
    enum store_db_state state;
    char lock_id[24];    /* "LOCK-2" while locked (the second lock of this database) */
    char locked_at[32];  /* UTC, while locked */
    char lock_head[65];  /* the audit head's hash right after the lock row */
    long long lock_rows; /* audit rows up to and with the lock row (0 for a lock made before
                            this was kept) */
    char frozen_at[32];  /* UTC, while frozen or locked */
};
int store_db_status(struct store *st, struct store_db_status *out, struct err *e);
/* ERR_CONFLICT naming the state when it is not available (the write path's check) or, with
 * allow_frozen, when it is locked (queries, SDV, signatures). */
int store_db_require(struct store *st, bool allow_frozen, struct err *e);

/* The pre-lock checklist, each item with what it found. */
#define STORE_NCHECKS 4
struct store_check {
    const char *name; /* "open_queries", "forms_complete", "sdv_plan", "signatures" */
    bool passed;
    char detail[256];
};
struct store_checklist {
    struct store_check item[STORE_NCHECKS];
    bool passed;
};
/* open queries (open or answered) = 0; every form holding data on an enrolled record complete;
 * the SDV plan met; every enrolled record with a valid signature of each record meaning, and a
 * valid study signature "db_lock_approval" made since the freeze (when the protocol defines
 * them). */
int store_db_checklist(struct store *st, struct store_checklist *out, struct err *e);

int store_db_freeze(struct store *st, const struct store_ctx *who, const char *reason,
                    struct err *e);
int store_db_unfreeze(struct store *st, const struct store_ctx *who, const char *reason,
                      struct err *e);
/* Runs the checklist into *cl (may be NULL); refuses with ERR_CONFLICT (field "checklist")
 * listing the failed checks unless override (a reason) is given, which the "db_lock" row's
 * reason records with them. */
int store_db_lock(struct store *st, const struct store_ctx *who, const char *override,
                  struct store_checklist *cl, struct err *e);
int store_db_unlock(struct store *st, const struct store_ctx *who, const char *password,
                    const char *reason, struct err *e);

/* ---- the one write path -------------------------------------------------------------------*/

/* One value to set. instance is 0 for non-repeating forms, 1 .. dict_instance_max for
 * repeating ones (rule "instance" otherwise). code is the
 * checkbox option for checkbox fields (value "1" ticked, "0" or "" unticked), else NULL. An
 * empty value deletes the value (REDCap semantics). The pseudo-field "<form>_complete" sets the
 * form's status: "0" incomplete, "1" unverified, "2" complete. */
struct store_change {
    const char *event; /* unique event name, e.g. "baseline_arm_1" */
    int instance;
    const char *field;
    const char *code;
    const char *value;
    /* NULL, or the value the writer saw before changing it ("" for none): when what is stored
     * now differs (another save came in between) and this change would alter it, the change set
     * is refused, ERR_CONFLICT, rule "conflict" — a form page's save never overwrites what it
     * did not show */
    const char *expect;
};

enum store_issue_level { STORE_ISSUE_SOFT = 1, STORE_ISSUE_HARD = 2 };

/* One finding about one change: a hard error (blocks the whole change set) or a soft flag
 * (value saved, flagged for review). All strings are owned by the result. */
struct store_issue {
    enum store_issue_level level;
    size_t change_index; /* index into the changes array */
    char event[DICT_KEY_NAME_MAX];
    int instance;
    char field[128]; /* checkbox options as "field___code" */
    char rule[24];   /* validate.h rule name, or "unknown_field", "not_on_event",
                        "instance", "calc", "status", "not_enrolled", "record_id",
                        "locked", "reason", "required", "hidden" (a value its
                        field's branching logic hides), "permission",
                        "conflict" (store_change.expect) */
    char value[256];
    char msg[512]; /* names field, rule and value */
};

struct store_put_result {
    size_t nchanged;            /* values created/changed/deleted (audit "update") */
    size_t ncalc;               /* calc values recomputed to a new value (audit "calc") */
    size_t nstatus;             /* form statuses changed (audit "form_status") */
    size_t nunchanged;          /* changes that equalled the stored value (no audit row) */
    struct store_issue *issues; /* malloc'ed; soft flags, plus every hard error on failure */
    size_t nissues;
};

/* Zeroes r for use; store_put_result_free releases r->issues (safe on a zeroed result). */
void store_put_result_init(struct store_put_result *r);
void store_put_result_free(struct store_put_result *r);

/* THE write path. Applies changes to record atomically (see also write.c's opening comment):
 *   1. the record exists and is not locked; who->user is an active user;
 *   2. each change: the field exists and is on a form collected at that event (form_events);
 *      before enrolment only the screening event takes data (rule "not_enrolled");
 *      instance 1 .. dict_instance_max for a repeating form there, 0 otherwise; calc
 *      fields cannot be written; validate_value: hard errors are all collected into res->issues and
 * the whole set is refused (ERR_INVALID; e names the first: field, rule, value) — nothing saved;
 *      soft (out of range) values are saved, stored with their flag and reported in res;
 *   3. a change to a form whose stored status is complete (2) needs a non-empty reason, else
 *      ERR_REASON_REQUIRED naming the field;
 *   4. values equal to the stored ones are skipped (no audit row); every other change writes
 *      the value and one audit row ("update" or "form_status") with old and new value;
 *   5. calc fields are recomputed with the logic language — those on the changed
 *      event/instances and those referring to changed fields across events — and every calc
 *      whose value changes is written and audited as "calc";
 *   6. no value may be left on a field its branching logic hides (core/branch.h): a value this
 *      set writes, or one whose logic reads a field this set touches, that is hidden afterwards
 *      refuses the whole set (ERR_INVALID, rule "hidden", each such field an issue naming its
 *      label, value and logic); clear it in the same set to change the answer;
 *   7. a form marked complete needs its shown required fields (rule "required", each an issue);
 * soft issues end "; saved" or "; not saved: the change was refused" once the set's fate is
 * known;
 * all in one transaction (a savepoint inside a batch). res may be NULL; otherwise the caller
 * initialises it with store_put_result_init and frees it with store_put_result_free. */
int store_put_changes(struct store *st, const struct store_ctx *who, const char *record,
                      const struct store_change *changes, size_t n, const char *reason,
                      struct store_put_result *res, struct err *e);

/* Batches: many store_put_changes (and screening/enrolment calls) in one transaction with
 * cached statements — an import (all rows or none) or a simulation of 100,000 patients. Inside
 * a batch each call still validates and is atomic on its own (savepoint); commit makes them all
 * durable, rollback discards all. One batch at a time per store (ERR_CONFLICT otherwise). */
int store_batch_begin(struct store *st, struct err *e);
int store_batch_commit(struct store *st, struct err *e);
void store_batch_rollback(struct store *st);
/* A batch whose caller keeps it or drops it whole, never part of it: an import (all rows or
 * none) or a simulation batch. Each call inside still validates and refuses on its own, but on
 * SQLite takes no savepoint: a call refused before it wrote anything (a validation, permission
 * or state refusal: checked before any write) leaves nothing behind, as with a savepoint; a
 * call refused after it began writing (a calc landing in a locked form, a failed write) breaks
 * the batch: store_batch_broken says so, every later call is refused (ERR_CONFLICT) and the
 * batch can only be rolled back (store_batch_commit refuses and rolls it back). The HTTP
 * writer's batches join unrelated requests and keep their savepoints (store_batch_begin). */
int store_batch_begin_whole(struct store *st, struct err *e);
bool store_batch_broken(const struct store *st);

/* ---- reading ------------------------------------------------------------------------------*/

/* One stored value. Strings are valid only during the callback. */
struct store_value {
    const char *record;  /* record's public name */
    long long record_id; /* internal id (screening order) */
    const char *event;
    int instance;
    const char *field;
    const char *code; /* checkbox option, or NULL */
    const char *value;
    const char *flag; /* soft rule that flagged it ("min", "max"), or NULL */
    int version;      /* the protocol version it was entered under (0 where not read) */
};

/* Return non-zero from a callback to stop; that value is returned by the caller. */
typedef int (*store_value_fn)(void *ctx, const struct store_value *v);

/* One value: *out is a malloc'ed copy (caller frees), or NULL when no value is stored. For a
 * checkbox pass code; a missing option row reads as NULL (= unticked). */
int store_get_value(struct store *st, const char *record, const char *event, int instance,
                    const char *field, const char *code, char **out, struct err *e);

/* All values of one record, ordered by event, instance, field, code (names in byte order). */
int store_record_values(struct store *st, const char *record, store_value_fn fn, void *ctx,
                        struct err *e);

/* All values of the study, for the analysis: records in screening order, then event,
 * instance, field, code in byte order. One read transaction (a consistent snapshot). */
int store_study_values(struct store *st, store_value_fn fn, void *ctx, struct err *e);
/* As store_study_values, with the records themselves (every one in scope, in screening order,
 * as store_record_list) read in the same snapshot: *recs is set before the first value (the
 * caller frees it, also on failure), so a record screened meanwhile is in both or in neither. */
int store_study_records_values(struct store *st, struct store_record **recs, size_t *nrecs,
                               store_value_fn fn, void *ctx, struct err *e);
/* As store_study_records_values, the values of some records only: select is called once in
 * the snapshot, after the records are read and before any value, with want[i] true for each
 * record; it clears want[i] for a record whose values are not needed, and may read the store
 * (the audit trail: store_audit_head, store_audit_changes) in the same snapshot. A few records
 * wanted are read by key, more in one scan of the value table. select NULL: every record. */
typedef int (*store_study_select_fn)(void *ctx, const struct store_record *recs, size_t nrecs,
                                     bool *want, struct err *e);
int store_study_records_values_some(struct store *st, struct store_record **recs, size_t *nrecs,
                                    store_study_select_fn select, void *sctx, store_value_fn fn,
                                    void *ctx, struct err *e);

/* A few fields' values across the study, for the dashboard (the schedule's anchor candidates,
 * the IO placements) and the screening log: each non-blank value of fields[0..nfields) (not
 * checkboxes; at most STORE_FIELDS_MAX; names not in the dictionary are skipped) at an event
 * where the protocol in force collects the field's form, as a struct store_value whose record
 * is NULL (record_id names it), field the dictionary's name, code and flag NULL; ordered by
 * record_id, event, instance, field. When the fields' forms are collected at no more than
 * STORE_FIELDS_MAX events, each record's values are read by key, else every value is scanned.
 * Strings are valid only during the callback. */
#define STORE_FIELDS_MAX 8
int store_fields_values(struct store *st, const char *const *fields, size_t nfields,
                        store_value_fn fn, void *ctx, struct err *e);
/* store_fields_values of one field */
int store_field_values(struct store *st, const char *field, store_value_fn fn, void *ctx,
                       struct err *e);

/* A form holding data at an event: at least one value of a dictionary field that is not a
 * calc (calc values are recomputed everywhere and say nothing of data entry). */
struct store_form_data {
    long long record_id;
    const char *event;
    const char *form;
};
typedef int (*store_form_data_fn)(void *ctx, const struct store_form_data *fd);

/* Every (record, event, form) holding data, once each, ordered by record_id, event, form: as
 * REDCap, a form with values but no status counts as incomplete. Strings are valid only during
 * the callback. */
int store_forms_with_data(struct store *st, store_form_data_fn fn, void *ctx, struct err *e);

/* Form status: 0 incomplete, 1 unverified, 2 complete, -1 when never set (no data). */
int store_form_status(struct store *st, const char *record, const char *event, const char *form,
                      int instance, int *status, struct err *e);

struct store_form_state {
    const char *record;
    const char *event;
    const char *form;
    int instance;
    int status;          /* 0, 1, 2 */
    long long record_id; /* the record's row id (store_record.id) */
};
typedef int (*store_form_state_fn)(void *ctx, const struct store_form_state *s);

/* Every stored form status of a record (record NULL: the whole study), ordered by record,
 * event, form, instance. */
int store_form_states(struct store *st, const char *record, store_form_state_fn fn, void *ctx,
                      struct err *e);

/* One instance of a repeating form: its number and status (-1 when never set). */
struct store_instance {
    int instance;
    int status;
};

/* The instances of form at event that hold a value or a status, ascending. *out is malloc'ed
 * (caller frees; NULL when *n is 0). Pages list these, never a range 1..last. */
int store_form_instances(struct store *st, const char *record, const char *event, const char *form,
                         struct store_instance **out, size_t *n, struct err *e);

/* The next free instance number of a repeating form at an event (1 when none yet): one more
 * than the highest stored. ERR_CONFLICT when that would pass the protocol's maximum for the
 * form (dict_instance_max); ERR_INVALID when the form does not repeat there. */
int store_next_instance(struct store *st, const char *record, const char *event, const char *form,
                        int *out, struct err *e);

/* ---- audit trail --------------------------------------------------------------------------*/

/* One audit row. Any text column may be NULL (NULL and "" are different in the hash). */
struct store_audit_row {
    long long id;
    const char *ts; /* "2026-11-27T02:45:12.345Z" */
    const char *user;
    const char *action; /* create_db, screen, enroll, withdraw, update, calc,
                           form_status, lock, unlock, login, login_failed, lockout,
                           user_add, user_disable, unlock_user, password_change,
                           denied, export, backup, site_timezone, synthetic */
    const char *record;
    const char *event;
    long long instance; /* -1 when NULL */
    const char *field;  /* checkbox options as "field___code" */
    const char *old_value;
    const char *new_value;
    const char *reason;
    const char *source;
    const char *source_sha256;
    const char *prev_hash;
    const char *hash;
    int protocol_version; /* the protocol version in force when it was written (not hashed) */
};
typedef int (*store_audit_fn)(void *ctx, const struct store_audit_row *r);

/* Every audit row in id order; for a reader of some sites only (store_set_reader,
 * store_set_site_filter), the rows about those sites' records. Strings valid during the
 * callback only. */
int store_audit_foreach(struct store *st, store_audit_fn fn, void *ctx, struct err *e);

/* The history of one field of one record (all events/instances; for a checkbox, all its
 * options), oldest first: its values, not the actions on queries about it or its verification
 * (those are in the queries' threads, the SDV listing and the record's audit trail). */
int store_field_history(struct store *st, const char *record, const char *field, store_audit_fn fn,
                        void *ctx, struct err *e);

/* The audit trail of one record, oldest first: every row written under its screening number or
 * its study ID (screening, enrolment, values, calcs, form statuses, locks, withdrawal); with
 * field non-NULL only that field's rows, as store_field_history. Read through the audit
 * table's index on the record, not a scan of the whole trail. Strings are valid during the
 * callback only. ERR_NOT_FOUND for an unknown record or field. */
int store_record_audit(struct store *st, const char *record, const char *field, store_audit_fn fn,
                       void *ctx, struct err *e);

/* The chain rule, one row at a time, for a trail read in id order from any copy of it (the
 * database, a PostgreSQL copy, store_migrate): ids without gaps from 1, each prev_hash the
 * previous row's hash, each hash SHA-256(prev_hash, canonical bytes). _next returns 0, or 1
 * with first_bad_id and reason set. */
struct store_audit_chain {
    long long expect_id, nrows, first_bad_id;
    char prev[65];
    char reason[256];
};
void store_audit_chain_init(struct store_audit_chain *c);
int store_audit_chain_next(struct store_audit_chain *c, const struct store_audit_row *row);

struct store_verify_result {
    long long nrows;        /* rows checked */
    long long first_bad_id; /* 0 when the chain is intact */
    char reason[256];       /* what is wrong with that row */
    char head_hash[65];     /* hash of the last row ("" when empty) */
};

/* Recomputes the chain: each row's hash from the previous hash and its canonical bytes, ids
 * without gaps, prev_hash equal to the previous row's hash, and the stored head (last id +
 * hash) equal to the last row. Returns 0 when intact; ERR_INTEGRITY (r filled, e naming the
 * row) when broken. */
int store_audit_verify(struct store *st, struct store_verify_result *r, struct err *e);

/* ---- sites (sites.c) ----------------------------------------------------------------------
 * A multi-centre study's hospitals (REDCap's data access groups, OpenClinica's sites). A record
 * belongs to one site or none; a user works at every site (the default: study-wide roles) or
 * at the sites listed for them, and then reads, lists, exports and changes only those sites'
 * records: every read of records and values goes through one test (store_site_visible), every
 * write checks the writing user's sites. A record of another site is "not found", as if it did
 * not exist. Codes: 1-18 letters, digits or underscores, unique without regard to case. */
#define STORE_SITE_NAME_MAX 100
#define STORE_USER_SITES_MAX 64

struct store_site {
    long long id;
    char code[STORE_SITE_CODE_MAX + 1];
    char name[STORE_SITE_NAME_MAX * 4 + 1]; /* up to 100 characters of UTF-8 */
    char created_at[32];
    char created_by[STORE_USERNAME_MAX + 1];
    long long nrecords, nenrolled; /* its records the reader sees, of which enrolled */
};

/* Adds a site, as who: ERR_CONFLICT when the code exists (any case), ERR_INVALID for a bad
 * code or a name empty or over 100 characters, or a code too long for the protocol's study
 * ID format. Audited "site_add". Permission (PERM_SITE_MANAGE) is the caller's to check. */
int store_site_add(struct store *st, const struct store_ctx *who, const char *code,
                   const char *name, struct err *e);
/* The sites the reader sees (all, or a limited user's own), in code order; malloc'ed. */
int store_site_list(struct store *st, struct store_site **out, size_t *n, struct err *e);
/* Finds a site by code, any case: ERR_NOT_FOUND naming the known codes. */
int store_site_get(struct store *st, const char *code, struct store_site *out, struct err *e);
/* Moves a record to the site code (NULL or "": no site), as who, with a reason (required):
 * ERR_CONFLICT when the record is locked or the database is not open for data entry, or when
 * the protocol's study IDs carry the site and the record is enrolled (its ID names its site).
 * Audited "record_site" (old and new code). Permission (PERM_SITE_MANAGE) is the caller's. */
int store_site_move(struct store *st, const struct store_ctx *who, const char *record,
                    const char *code, const char *reason, struct err *e);
/* The sites user works at: *all true (and no list) for every site. *out malloc'ed. */
int store_user_sites(struct store *st, const char *user, bool *all, struct store_site **out,
                     size_t *n, struct err *e);
/* The sites user works at as one line: "all", "A, B", or "(none)", into out. */
int store_user_sites_text(struct store *st, const char *user, struct strbuf *out, struct err *e);
/* Sets the sites user works at, as who, with a reason (required): all, or exactly the n codes
 * (n may be 0: no site, so no record). ERR_NOT_FOUND for an unknown user or code. Audited
 * "user_sites" (old and new list). Permission (PERM_USER_MANAGE) is the caller's to check. */
int store_user_set_sites(struct store *st, const struct store_ctx *who, const char *user, bool all,
                         const char *const *codes, size_t n, const char *reason, struct err *e);
/* REDCap's [user-dag-name]: the code of the one site the reading (or, in a write, writing)
 * user works at; "" for a user of every site or of several. */
const char *store_user_dag(const struct store *st);
struct strbuf;
/* Which sites reads see, for the heading of a report or export: "" for the whole study, else
 * "site B (Hospital B)" (a site filter) or "sites A, B" (a reader of some sites), into out. */
int store_reads_sites(struct store *st, struct strbuf *out, struct err *e);
/* Reads from now on see only the records of site code (NULL: every site the reader may see),
 * for reports and exports by site. ERR_NOT_FOUND for an unknown code; writes are not affected. */
int store_set_site_filter(struct store *st, const char *code, struct err *e);

/* Identifier fields (keys.c, P11-35): what a reader without the identifiers permission sees,
 * and what anyone sees when the value's key is not in the key file. */
#define STORE_MASKED "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 (identifier)"
#define STORE_UNREADABLE "(identifier: key missing)"
/* Whether the reader can read every identifier value in clear: ERR_INTEGRITY (naming the key
 * file and the key) when it sees identifiers and a key the database encrypted values with is
 * not in the key file, so that an export refuses rather than hand on STORE_UNREADABLE as if it
 * were the value; 0 for a reader who sees them masked. */
int store_identifiers_readable(struct store *st, struct err *e);
/* Who reads through this connection from now on: identifier values in clear for a role with
 * PERM_IDENTIFIERS, masked otherwise (the default before anyone signs in); and, when user (may
 * be NULL: nobody yet) works at some sites only, only those sites' records (sites.c). The CLI
 * sets it at sign-in, the web server per request. When the user's sites cannot be read, the
 * reader sees no record and the error is returned. */
int store_set_reader(struct store *st, enum role role, const char *user, struct err *e);
/* The key file in use ($IOHEME_KEY_FILE, else "<database>.key"). */
const char *store_key_file_path(const struct store *st);
/* Adds a key to the key file, re-encrypts every stored identifier value with it (one
 * transaction) and keeps the old keys (the audit trail's rows still need them). Audited as
 * "key_rotate" with the reason. *nvalues: how many values were re-encrypted. */
int store_key_rotate(struct store *st, const struct store_ctx *who, const char *reason,
                     size_t *nvalues, struct err *e);

/* What every view and export of the trail shows for a redacted value. */
#define STORE_REDACTED "[redacted]"

/* Redacts personal data typed into a value (P11-13): the value of key (a field, or a checkbox
 * option field___code) of record at (event, instance) is replaced by replacement ("" or NULL:
 * cleared) through the write path with reason, and every audit row that carried its earlier
 * values, the replacing one included, shows them as STORE_REDACTED in every view and export of
 * the trail from then on (history, the record's trail, the CSV export, ODM). The rows
 * themselves never change: `audit verify` reads them as stored, so the chain still proves them,
 * and the plaintext stays in the database file alone. Audited as "redact" (the field, how many
 * values were masked, the reason); each masked row is tied to that row. *nmasked gets the
 * count. A reason is required; a calc cannot be redacted. Permission (PERM_REDACT) is the
 * caller's to check; the write path's own rules apply (locks, frozen database). */
int store_redact(struct store *st, const struct store_ctx *who, const char *record,
                 const char *event, int instance, const char *key, const char *replacement,
                 const char *reason, size_t *nmasked, struct store_put_result *res, struct err *e);

/* The chain head: number of rows and the last row's hash (65 bytes; "" when empty). */
int store_audit_head(struct store *st, long long *nrows, char hash[65], struct err *e);

/* What the export cache (report/dataset_cache.c) keys its files on: the database file (NULL for a
 * PostgreSQL study, which has no folder of its own: no cache), the protocol version in force and
 * whether the reader sees identifiers. */
struct store_cache_key {
    const char *db_path;
    int protocol_version;
    bool may_see_identifiers;
};
void store_cache_key(const struct store *st, struct store_cache_key *k);

/* What the export cache (report/dataset_cache.c) needs of the trail, whoever reads (no site rule:
 * the cache must see every change). store_audit_changes calls fn for every row after after_id,
 * oldest first, with whether its action changes nothing an export derives (is_inert: an access
 * — a sign-in, an export, a backup, … as store_audit_content_time looks past, but not restore
 * or migrate — or a change of user accounts, roles and sites they work at) and the record it
 * names (NULL for a study-level row); store_audit_hash_at copies row id's hash (ERR_NOT_FOUND
 * when there is no such row). */
typedef int (*store_audit_change_fn)(void *ctx, long long id, bool is_inert, const char *record);
int store_audit_changes(struct store *st, long long after_id, store_audit_change_fn fn, void *ctx,
                        struct err *e);
int store_audit_hash_at(struct store *st, long long id, char hash[65], struct err *e);

/* The UTC times ("2026-11-27T02:45:12.345Z"; "" when the trail is empty) of the trail's first
 * row (the database's creation) and of its content head: the last row that is not an access
 * (login, login_failed, lockout, logout, denied, export, backup, restore, api_token,
 * password_change).
 * What an export that must not depend on the clock stamps itself with: exporting twice, each
 * with its login and export rows, gives the same time. */
int store_audit_content_time(struct store *st, char first[32], char last[32], struct err *e);

/* Records that who copied data out of the store: action "export" (an audit trail export, an
 * analysis dataset, a report), "backup" (a full copy of the database) or "restore" (this
 * database was put back from a backup: store_restore); any other action is
 * ERR_INTERNAL. what names the command ("audit export", "dataset", "report", "backup") and goes
 * to the row's field column; detail (new_value) says what left: output name and row counts.
 * Callers never put patient values in detail. One row in its own transaction; ERR_AUTH when
 * who is not an active user. Reads are not audited here: only what leaves the store is. */
int store_audit_access(struct store *st, const struct store_ctx *who, const char *action,
                       const char *what, const char *detail, struct err *e);

/* One table's row count and the SHA-256 of its rows in key order (typed values). */
struct store_table_summary {
    char table[64];
    long long rows;
    char sha256[65];
};
/* Every table of the database (sqlite_ internals left out), by name. *out malloc'ed. */
int store_content_summary(struct store *st, struct store_table_summary **out, size_t *n,
                          struct err *e);

struct store_restore_result {
    struct store_verify_result verify;  /* the restored copy's audit chain */
    struct store_table_summary *tables; /* each table's rows and SHA-256, equal in both */
    size_t ntables;
    bool kept_previous;
    char previous[4096]; /* where the replaced database was kept ("" when none) */
};
/* Restores the backup file to dest (P11-20), in two steps around the sign-in of who restores
 * (a user of the backup, signed in against the staged copy so the backup never changes):
 * store_restore_stage checks the backup read only (SQLite's integrity_check, every table's row
 * count and SHA-256), copies it to "<dest>.restoring", checks the copy the same way and equal
 * to the backup, opens it (*staged: migrated if the backup is older) and verifies its audit
 * chain; store_restore_commit audits the restore in it ("restore", by who, naming the backup),
 * closes it and renames it to dest; store_restore_abort drops the staged copy. An existing dest
 * is refused (ERR_CONFLICT) unless force, which keeps it as "<dest>.before-restore"; a dest in
 * use (its -wal exists) is always refused. On any failure dest is as it was. res->tables is
 * malloc'ed: store_restore_result_free. */
int store_restore_stage(const char *backup, const char *dest, bool force,
                        struct store_restore_result *res, struct store **staged, struct err *e);
int store_restore_commit(struct store *staged, const struct store_ctx *who, const char *backup,
                         const char *dest, bool force, struct store_restore_result *res,
                         struct err *e);
void store_restore_abort(struct store *staged, const char *dest);
void store_restore_result_free(struct store_restore_result *r);

/* Writes the audit trail as CSV (header row, then one row per entry, RFC 4180) to out; *nrows
 * (may be NULL) gets the number of entries written. */
int store_audit_export_csv(struct store *st, FILE *out, long long *nrows, struct err *e);

/* The canonical bytes of a row (docs/security.md), appended to sb; exposed for tests and for
 * independent verifiers. */
struct strbuf;
void store_audit_canonical(const struct store_audit_row *r, struct strbuf *sb);

/* ---- protocol versions (protocol.c) ------------------------------------------------------- */

/* A protocol folder's files read into memory: content[i] is dict_protocol_files[i]'s (NULL
 * when the folder lacks an optional file), sha256 its dictionary.csv's. */
struct store_protocol_files {
    char *content[DICT_NFILES];
    size_t len[DICT_NFILES];
    char sha256[65];
};
int store_protocol_files_read(const char *dir, struct store_protocol_files *pf, struct err *e);
void store_protocol_files_free(struct store_protocol_files *pf);

/* One protocol version: version 1 is the protocol at creation, each amendment adds one. */
struct store_protocol_version {
    int version;
    char applied_at[32];
    char user[STORE_USERNAME_MAX + 1];
    char reason[512];
    char sha256[65];    /* of its dictionary.csv */
    long long audit_id; /* the "protocol_amend" audit row; the first row for version 1 */
};
/* The version the store's dictionary is (the newest stored when it was loaded). */
int store_protocol_version(const struct store *st);
/* Every version, oldest first; *out malloc'ed (caller frees). */
int store_protocol_versions(struct store *st, struct store_protocol_version **out, size_t *n,
                            struct err *e);
/* Reloads the dictionary when the database holds a newer protocol version than the store's
 * (an amendment made by another connection): a server calls it per request, the write path at
 * the start of every transaction. Pointers into the replaced dictionary stay valid until
 * store_close. */
int store_protocol_sync(struct store *st, struct err *e);

/* What a new protocol does to the stored data: each difference (dict_diff) with the number of
 * stored values it touches and a verdict — safe; recomputed (a calc); review (branching that
 * may now hide values); UNSAFE (would orphan or reinterpret stored values). */
enum store_verdict {
    STORE_VERDICT_SAFE,
    STORE_VERDICT_RECOMPUTED,
    STORE_VERDICT_REVIEW,
    STORE_VERDICT_UNSAFE
};
struct store_protocol_change {
    struct dict_change c;
    long long stored;
    enum store_verdict verdict;
};
const char *store_verdict_name(enum store_verdict v);
/* Differences from the database's protocol to nd, in ar. */
int store_protocol_diff(struct store *st, const struct dict *nd, struct arena *ar,
                        struct store_protocol_change **out, size_t *n, struct err *e);

/* A protocol amendment: the reason, and what becomes of stored values an UNSAFE change touches:
 * retire (a removed field, choice's field, form or event: its values stay stored, out of use),
 * accept (a field whose changed type, validation or choice labels keep the stored values'
 * meaning), recode (a choice's stored code FROM becomes TO, through the write path). */
struct store_recode {
    const char *field, *from, *to;
};
struct store_amend {
    const char *reason;
    const char *const *retire;
    size_t nretire;
    const char *const *accept;
    size_t naccept;
    const struct store_recode *recode;
    size_t nrecode;
    bool dry_run; /* check and report, change nothing */
};
struct store_amend_result {
    int version;                           /* the new version (that would be, on a dry run) */
    char sha256[65];                       /* of the new dictionary.csv */
    struct store_protocol_change *changes; /* in the caller's arena */
    size_t nchanges;
    size_t nrefused; /* UNSAFE changes the amendment does not resolve */
    size_t nrecords;
    long long nrecoded, nrecomputed; /* values rewritten by recodes, calc values recomputed */
    long long signature_id;          /* the protocol_amendment signature that approved it, or 0 */
};
/* Applies the protocol folder dir as the next version, in one transaction (see protocol.c):
 * PERM_PROTOCOL_AMEND; when the protocol in force defines the study signature meaning
 * "protocol_amendment", a valid one given since the current version was applied (else
 * ERR_CONFLICT; not on a dry run); refused (ERR_CONFLICT, nothing changed) while an UNSAFE change
 * is unresolved; audited as "protocol_amend" (reason a->reason, source "amendment" with the new
 * dictionary's SHA-256); recoded values audited as updates and recomputed calcs as "calc", each
 * with the reason "protocol amendment N: ...". Every value written from then on carries the new
 * version (store_value.version). */
int store_protocol_amend(struct store *st, const struct store_ctx *who, const char *dir,
                         const struct store_amend *a, struct arena *ar,
                         struct store_amend_result *res, struct err *e);

/* ---- moving a study between backends (migrate.c) ----------------------------------------- */

/* Whether s names a PostgreSQL database (postgres://… or postgresql://…). */
bool store_is_postgres_url(const char *s);
struct store_migrate_result {
    size_t tables;
    long long rows;       /* rows copied, all tables */
    long long audit_rows; /* the copy's trail, checked link by link */
    char head_hash[65];   /* its last hash */
};
/* Copies the study from one backend to the other (exactly one of from and to a PostgreSQL URL,
 * the other a SQLite file): into an empty PostgreSQL database, or into a new SQLite file; every
 * table row for row in one transaction, append-only tables kept append-only; then every
 * table's row count is compared and the copy's audit trail verified. ERR_CONFLICT when the
 * receiving side already holds a study; ERR_INTEGRITY when the check fails (and a new SQLite
 * file is removed). See docs/operations.md, "Moving a study to PostgreSQL". */
int store_migrate(const char *from, const char *to, struct store_migrate_result *res,
                  struct err *e);
/* Removes a SQLite database file with its -wal, -shm and key files (a copy not kept). */
void store_remove_files(const char *path);

#endif
