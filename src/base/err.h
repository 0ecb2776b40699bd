/* Errors that name what is at fault.
 *
 * Library code (core, store, stats, formats) returns an int status — 0 on success, a negative
 * enum err_code on failure — and fills a caller-provided struct err with a message naming the
 * field, rule, value or file:line:column at fault. It never prints and never exits. Only the
 * edges (cli/, http/) turn a code into an exit status or an HTTP status via err_info(). */
#ifndef IOHEME_BASE_ERR_H
#define IOHEME_BASE_ERR_H

#include <stdarg.h>

/* Append-only: codes are part of the CLI's and the API's contract. */
enum err_code {
    ERR_OK = 0,
    ERR_USAGE = -1,            /* bad command line */
    ERR_INVALID = -2,          /* input fails a rule (validation, parse) */
    ERR_NOT_FOUND = -3,        /* record, user, field, file does not exist */
    ERR_AUTH = -4,             /* not authenticated: bad password, unknown user, locked out */
    ERR_FORBIDDEN = -5,        /* authenticated but the role may not do this */
    ERR_CONFLICT = -6,         /* state forbids it: already exists, locked, not eligible */
    ERR_IO = -7,               /* file system, database I/O */
    ERR_NOMEM = -8,            /* out of memory */
    ERR_INTEGRITY = -9,        /* audit chain broken, database tampered */
    ERR_INTERNAL = -10,        /* a bug or an unexpected library failure */
    ERR_REASON_REQUIRED = -11, /* change on a complete form without a reason */
    ERR_UNSUPPORTED = -12,
    ERR_BUSY = -13, /* the database is held by another writer past the wait bound: try again */
    ERR_PASSWORD_EXPIRED = -14, /* the right password, past the policy's maximum age: change it */
    ERR_OUTCOME_UNKNOWN =
        -15, /* the database went away during COMMIT: read back before repeating */
    ERR__COUNT = 16
};

struct err {
    int code;        /* enum err_code, 0 when no error */
    char field[128]; /* the field/column/parameter at fault, "" when none */
    char msg[1024];  /* human-readable message naming what is wrong */
};

struct err_info {
    int code;
    const char *name; /* JSON error code, e.g. "invalid" */
    int http_status;
    int exit_status; /* CLI exit status */
};

/* Sets e (if not NULL) and returns code, so callers can `return err_set(e, ERR_X, ...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As err_set, also recording the field at fault. */
int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefixes e->msg with "prefix: " (e.g. a file name). */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* The static row for a code; unknown codes map to ERR_INTERNAL's row. */
const struct err_info *err_info(int code);

#endif
