/* What the study commands (init, user, screen, enroll, set, import, show, history, audit,
 * backup, lock) share: opening the database, logging the acting user in, reading passwords
 * without echo, turning `field=value` arguments into store changes, and printing a write's
 * result. */
#ifndef IOHEME_CLI_STORE_CLI_H
#define IOHEME_CLI_STORE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "store/store.h"

/* Options every study command accepts: --db, --user, --json. Commands append their own. */
#define STORE_CLI_COMMON_OPTS                                                                      \
    {"db", true}, {"user", true},                                                                  \
    {                                                                                              \
        "json", false                                                                              \
    }

/* Opens the database named by --db / $IOHEME_DB / ./ioheme.db (cli_run, for CLI_DB rows). */
int cli_store_open(const struct cli_args *a, struct store **st, struct err *e);

/* Reads a password: $IOHEME_PASSWORD when set and env_ok, else from the terminal without echo,
 * asking "<what><who>: " (twice when confirm, which must match). buf gets the NUL-terminated
 * password. ERR_AUTH when there is neither a terminal nor the variable; ERR_USAGE when the
 * password does not fit in buf. */
int cli_read_password(const char *what, const char *who, bool env_ok, bool confirm, char *buf,
                      size_t len, struct err *e);

/* A new user's password: from standard input (one line) when it is not a terminal, else asked
 * twice on the terminal. */
int cli_read_new_password(const char *who, char *buf, size_t len, struct err *e);

/* Logs in the acting user (--user or $IOHEME_USER; password from $IOHEME_PASSWORD or asked)
 * and checks that their role allows action (PERM_NONE: any active user). Fills who (user name
 * copied into name_buf, source "cli"). ERR_AUTH: no user, a wrong password (which counts
 * toward the lockout); ERR_FORBIDDEN: the role may not (audited as "denied");
 * ERR_PASSWORD_EXPIRED: the right password, expired by the policy — accepted only when
 * is_renewal (the command changes that user's own password). cli_run calls it for CLI_LOGIN
 * rows. */
int cli_login(struct store *st, const struct cli_args *a, enum perm_action action, bool is_renewal,
              struct store_ctx *who, char name_buf[STORE_USERNAME_MAX + 1], struct err *e);

/* Appends the last component of path without trailing slashes: what an export's audit row
 * names (the directory around it is the user's business, and may itself say too much). */
void cli_add_basename(struct strbuf *sb, const char *path);

/* Audits an analysis dataset leaving the store as action "export" by who: what is the command
 * ("dataset", "report"), out the output directory (its last component is recorded), the number
 * of rows of each table and the SHA-256 of each file in files (a JSON array of {"file",
 * "sha256"}, as dataset_export_files gives), as "DIR: screening 140, subjects 100, ...;
 * screening.csv 3f2a…, subjects.csv 9be1…". */
struct adataset;
struct dataset_cache_stats;
int cli_audit_dataset_export(struct store *st, const struct store_ctx *who, const char *what,
                             const char *out, const struct adataset *ds, json_t *files,
                             struct err *e);

/* Tells the person what `dataset` wrote into dir: each table's file with its rows, and the
 * dictionary. */
void cli_print_dataset_written(const char *dir, const struct adataset *ds);
/* After an export: how many records the export cache (report/dataset_cache.h) gave as they were,
 * and how many were derived afresh; nothing when it gave none. */
void cli_note_export_cache(const struct dataset_cache_stats *s);
/* On stderr, when reads see some sites only (--site, a user of some sites): which, "not the
 * whole study" — after an export, a dataset or a report. */
void cli_note_sites(struct store *st);

/* The first event at which form is collected, or NULL. */
const char *cli_form_event(const struct dict *d, const char *form);

/* Parses an `EVENT[:INSTANCE]` argument: *event is the protocol's event name (the '_arm_1' may
 * be left out) or, when the protocol has no such event, the argument's own event text (in ar)
 * for the store to name; *instance is 0 when not given. ERR_USAGE naming the argument when the
 * instance is not a number in range. The one parser of that argument for every command. */
int cli_parse_event_arg(const struct dict *d, struct arena *ar, const char *arg, const char **event,
                        int *instance, struct err *e);

/* Parses `field=value`, `field___code=value` or `field(code)=value` into c (strings allocated
 * in ar). event NULL means: the first event where the field's form is collected. ERR_USAGE
 * naming the argument when malformed; ERR_INVALID when the field is unknown and event NULL. */
int cli_parse_assignment(const struct dict *d, struct arena *ar, const char *arg, const char *event,
                         int instance, struct store_change *c, struct err *e);

/* Prints v as indented JSON (keys in insertion order) to stdout and releases v. */
void cli_json_print(json_t *v);

/* Prints a write's soft flags and hard errors to out, one per line ("  weight_kg: ..."). */
void cli_print_issues(FILE *out, const struct store_put_result *res);

/* Fails the command with e, first printing res's issues to stderr when there are more. */
int cli_fail_put(const char *cmd, const struct err *e, const struct store_put_result *res);

#endif
