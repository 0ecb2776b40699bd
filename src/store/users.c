/* Users, passwords, lockout, the role × action check, and web sessions.
 *
 * Passwords are stored only as argon2id hashes (libsodium crypto_pwhash_str with the
 * INTERACTIVE limits: 2 passes over 64 MiB); the hash string carries its own salt and
 * parameters. STORE_MAX_FAILED_LOGINS consecutive failures lock the account until an admin
 * unlocks it; every failure and the lockout are audited (21 CFR 11.300(d), P11-03). The
 * failure counter and its audit row are committed even though the authentication itself
 * fails. Usernames are never reused: disabling keeps the row. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "core/perm.h"
#include "store/store_int.h"

bool store_role_is_valid(const char *role)
{
    enum role r;
    return role && role_from_name(role, &r) == 0;
}

bool store_username_is_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 2 || n > STORE_USERNAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

void store_user_from_stmt(sqldb_stmt *s, struct store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = store_sql_col_int64(s, 0);
    store_col_copy(s, 1, u->name, sizeof u->name);
    store_col_copy(s, 2, u->role, sizeof u->role);
    u->is_disabled = store_sql_col_int(s, 4) != 0;
    u->failed_logins = store_sql_col_int(s, 5);
    u->is_locked_out = store_sql_col_int(s, 6) != 0;
    store_col_copy(s, 7, u->created_at, sizeof u->created_at);
}

/* Reads user name; pwhash (may be NULL) gets the stored hash. */
static int user_read(struct store *st, const char *name, struct store_user *u,
                     char pwhash[crypto_pwhash_STRBYTES], struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, name);
    int r = store_step(st, s);
    if (r == SQLITE_DONE) {
        store_sql_reset(s);
        return err_set_field(e, ERR_NOT_FOUND, "user", "no user '%s'", name);
    }
    if (r != SQLITE_ROW)
        return store_db_fail(st, e, "reading a user");
    store_user_from_stmt(s, u);
    store_col_copy(s, 8, u->password_set_at, sizeof u->password_set_at);
    if (pwhash)
        store_col_copy(s, 3, pwhash, crypto_pwhash_STRBYTES);
    store_sql_reset(s);
    return 0;
}

int store_user_get(struct store *st, const char *name, struct store_user *out, struct err *e)
{
    return user_read(st, name, out, NULL, e);
}

int store_user_require_active(struct store *st, const char *name, struct err *e)
{
    enum role role;
    return store_user_active_role(st, name, &role, e);
}

/* Every write begins by checking its user: from here to the end of the transaction the
 * records it may find and change are that user's sites' (sites.c). */
static int acting_scope(struct store *st, const char *name, struct err *e)
{
    if (st->tx_depth == 0)
        return 0;
    st->is_acting = true;
    return store_site_scope_load(st, name, &st->acting, e);
}

int store_user_active_role(struct store *st, const char *name, enum role *role, struct err *e)
{
    *role = ROLE__COUNT;
    if (name && strcmp(name, "system") == 0)
        return acting_scope(st, name, e);
    struct store_user u;
    if (!name || user_read(st, name, &u, NULL, NULL) != 0)
        return err_set(e, ERR_AUTH, "unknown user '%s'", name ? name : "");
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' is %s", name,
                       u.is_disabled ? "disabled" : "locked out");
    if (role_from_name(u.role, role) != 0)
        return err_set(e, ERR_INTERNAL, "user '%s' has an unknown role '%s'", name, u.role);
    return acting_scope(st, name, e);
}

int store_user_refusal_audit(struct store *st, const struct store_ctx *who, enum perm_action act,
                             struct err *e)
{
    struct store_user u;
    const char *role =
        who && who->user && user_read(st, who->user, &u, NULL, NULL) == 0 ? u.role : "";
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct audit_entry a = {.action = "denied",
                            .instance = -1,
                            .field = "permission",
                            .new_value = perm_action_name(act),
                            .reason = role};
    return store_tx_finish(st, store_audit_append(st, who, &a, e), e);
}

static void user_fill(sqldb_stmt *s, void *elem)
{
    store_user_from_stmt(s, elem);
}

int store_user_list(struct store *st, struct store_user **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_LIST, e);
    if (!s)
        return ERR_IO;
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, user_fill, &arr, n, "listing users", e);
    *out = arr;
    return rc;
}

static void access_fill(sqldb_stmt *s, void *elem)
{
    struct store_user_access *a = elem;
    store_user_from_stmt(s, &a->user);
    store_col_copy(s, 8, a->last_login, sizeof a->last_login);
    a->logins = store_sql_col_int64(s, 9);
    store_col_copy(s, 10, a->last_failed_login, sizeof a->last_failed_login);
    a->failed_logins_total = store_sql_col_int64(s, 11);
}

int store_user_access_report(struct store *st, struct store_user_access **out, size_t *n,
                             struct err *e)
{
    *out = NULL;
    *n = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_ACCESS, e);
    if (!s)
        return ERR_IO;
    void *arr = NULL;
    int rc = store_rows_to_array(st, s, sizeof **out, access_fill, &arr, n,
                                 "reading the user-access report", e);
    *out = arr;
    return rc;
}

/* The password rules (P11-02): at least STORE_PASSWORD_MIN characters, of at least two kinds
 * among letters, digits and other characters (a space or a hyphen counts: passphrases are
 * welcome), and not the user name itself. */
static int password_rules(const char *name, const char *password, struct err *e)
{
    size_t n = strlen(password);
    if (n < STORE_PASSWORD_MIN)
        return err_set_field(e, ERR_INVALID, "password",
                             "the password must have at least %d characters", STORE_PASSWORD_MIN);
    bool letter = false, digit = false, other = false;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if (isalpha(*p) || *p >= 0x80)
            letter = true;
        else if (isdigit(*p))
            digit = true;
        else
            other = true;
    }
    if (letter + digit + other < 2)
        return err_set_field(e, ERR_INVALID, "password",
                             "the password must mix at least two kinds of characters: letters, "
                             "digits, others (e.g. a space or a hyphen)");
    if (name && strcasecmp(name, password) == 0)
        return err_set_field(e, ERR_INVALID, "password", "the password must not be the user name");
    return 0;
}

static int hash_password(const char *name, const char *password, char out[crypto_pwhash_STRBYTES],
                         struct err *e)
{
    int rc = password_rules(name, password, e);
    if (rc)
        return rc;
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return err_set(e, ERR_NOMEM, "out of memory hashing the password");
    return 0;
}

/* ---- the password policy: maximum age and history ----------------------------------------*/

#define META_PW_MAX_AGE "password_max_age_days"
#define META_PW_HISTORY "password_history"

static int meta_int(struct store *st, const char *key, int dflt, int *out, struct err *e)
{
    char buf[32];
    bool found;
    int rc = store_meta_get(st, key, buf, sizeof buf, &found, e);
    *out = !rc && found ? atoi(buf) : dflt;
    return rc;
}

int store_password_policy(struct store *st, struct store_password_policy *out, struct err *e)
{
    int rc = meta_int(st, META_PW_MAX_AGE, 0, &out->max_age_days, e);
    if (!rc)
        rc = meta_int(st, META_PW_HISTORY, STORE_PASSWORD_HISTORY_DEFAULT, &out->history, e);
    return rc;
}

int store_set_password_policy(struct store *st, const struct store_ctx *who,
                              const struct store_password_policy *p, const char *reason,
                              struct err *e)
{
    if (p->max_age_days < 0 || p->max_age_days > 3650)
        return err_set_field(e, ERR_INVALID, "max_age_days",
                             "the maximum age is 0 (never expires) to 3650 days, not %d",
                             p->max_age_days);
    if (p->history < 0 || p->history > STORE_PASSWORD_HISTORY_MAX)
        return err_set_field(e, ERR_INVALID, "history",
                             "the history is 0 to %d earlier passwords, not %d",
                             STORE_PASSWORD_HISTORY_MAX, p->history);
    int rc = store_reason_check(reason, false, "a password policy change", e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct store_password_policy old = {0, 0};
    rc = store_user_require_active(st, who->user, e);
    if (!rc)
        rc = store_password_policy(st, &old, e);
    char oldv[64], newv[64], age[16], hist[16];
    fmt_exact(age, sizeof age, "%d", p->max_age_days);
    fmt_exact(hist, sizeof hist, "%d", p->history);
    fmt_exact(oldv, sizeof oldv, "max_age_days=%d history=%d", old.max_age_days, old.history);
    fmt_exact(newv, sizeof newv, "max_age_days=%d history=%d", p->max_age_days, p->history);
    if (!rc)
        rc = store_meta_set(st, META_PW_MAX_AGE, age, e);
    if (!rc)
        rc = store_meta_set(st, META_PW_HISTORY, hist, e);
    if (!rc) {
        struct audit_entry a = {.action = "password_policy",
                                .instance = -1,
                                .field = "user",
                                .old_value = oldv,
                                .new_value = newv,
                                .reason = reason && *reason ? reason : NULL};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

static int password_policy_days(struct store *st)
{
    struct store_password_policy p;
    return store_password_policy(st, &p, NULL) ? 0 : p.max_age_days;
}

/* Whether a password set at set_at (UTC) is past the policy's maximum age now. */
static bool password_is_expired(struct store *st, const char *set_at)
{
    struct store_password_policy p;
    if (store_password_policy(st, &p, NULL) || p.max_age_days <= 0 || !set_at[0])
        return false;
    long long set_ms = store_ts_parse(set_at);
    if (set_ms < 0)
        return false;
    return store_now_ms(st) - set_ms > (long long)p.max_age_days * 86400000LL;
}

static bool password_matches(const char *hash, const char *password);

/* ERR_INVALID when password is user id's current password (hash current) or one of the
 * policy's last N it replaced. */
static int password_reuse_check(struct store *st, long long id, const char *current,
                                const char *password, struct err *e)
{
    struct store_password_policy p;
    int rc = store_password_policy(st, &p, e);
    if (rc || p.history <= 0)
        return rc;
    static const char REUSED[] = "the password must differ from the last %d passwords of "
                                 "this user (the password policy)";
    if (current[0] && password_matches(current, password))
        return err_set_field(e, ERR_INVALID, "password", REUSED, p.history);
    sqldb_stmt *s = store_stmt_get(st, SQ_PWHIST_RECENT, e);
    if (!s)
        return ERR_IO;
    store_bind_int64(st, s, 1, id);
    store_bind_int64(st, s, 2, p.history - 1); /* the current one is the first of the N */
    int step;
    bool reused = false;
    while (!reused && (step = store_step(st, s)) == SQLITE_ROW)
        reused = password_matches((const char *)store_sql_col_text(s, 0), password);
    store_sql_reset(s);
    if (reused)
        return err_set_field(e, ERR_INVALID, "password", REUSED, p.history);
    return !reused && step != SQLITE_DONE ? store_db_fail(st, e, "reading password history") : 0;
}

/* Runs one statement on user name with one int parameter (?2) and optionally a third. */
static int user_update(struct store *st, enum stmt_id id, const char *name, long long a,
                       long long b, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, id, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, name);
    store_bind_int64(st, s, 2, a);
    if (id == SQ_USER_SET_FAILED)
        store_bind_int64(st, s, 3, b);
    return store_stmt_run(st, s, "updating a user", e);
}

/* Opens the transaction of a change by who to the user name, read into *u. On failure nothing
 * is left open. */
static int user_change_begin(struct store *st, const struct store_ctx *who, const char *name,
                             struct store_user *u, struct err *e)
{
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    if (!rc)
        rc = user_read(st, name, u, NULL, e);
    if (rc)
        store_tx_rollback(st);
    return rc;
}

/* Closes what user_change_begin opened: with rc 0, audits action on name and commits;
 * otherwise rolls back. */
static int user_change_end(struct store *st, const struct store_ctx *who, int rc,
                           const char *action, const char *name, struct err *e)
{
    if (!rc) {
        struct audit_entry a = {
            .action = action, .instance = -1, .field = "user", .new_value = name};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_user_add(struct store *st, const struct store_ctx *who, const char *name,
                   const char *role, const char *password, struct err *e)
{
    if (!store_username_is_valid(name))
        return err_set_field(e, ERR_INVALID, "user",
                             "'%s' is not a valid user name ([a-z0-9_.-], 2 to 32 characters)",
                             name ? name : "");
    /* "system" signs the store's own audit rows; no person may carry that name. */
    if (strcmp(name, "system") == 0)
        return err_set_field(e, ERR_INVALID, "user", "'system' is reserved");
    if (!store_role_is_valid(role))
        return err_set_field(e, ERR_INVALID, "role",
                             "'%s' is not a role (admin, investigator, coordinator, monitor, "
                             "data_manager, statistician)",
                             role ? role : "");
    char hash[crypto_pwhash_STRBYTES];
    int rc = hash_password(name, password, hash, e);
    if (rc)
        return rc;
    if ((rc = store_tx_begin(st, e)))
        return rc;
    rc = store_user_require_active(st, who->user, e);
    struct store_user u;
    if (!rc && user_read(st, name, &u, NULL, NULL) == 0)
        rc = err_set_field(e, ERR_CONFLICT, "user", "user '%s' already exists%s", name,
                           u.is_disabled ? " (disabled; user names are never reused)" : "");
    if (!rc) {
        sqldb_stmt *s = store_stmt_get(st, SQ_USER_INSERT, e);
        char ts[32];
        store_ts_format(store_now_ms(st), ts);
        if (!s) {
            rc = ERR_IO;
        } else {
            store_bind_text(st, s, 1, name);
            store_bind_text(st, s, 2, role);
            store_bind_text(st, s, 3, hash);
            store_bind_text(st, s, 4, ts);
            rc = store_stmt_run(st, s, "adding a user", e);
        }
    }
    sodium_memzero(hash, sizeof hash);
    if (!rc) {
        struct audit_entry a = {.action = "user_add",
                                .instance = -1,
                                .field = "user",
                                .new_value = name,
                                .reason = role};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

/* ERR_CONFLICT when name is the last active admin (a change would leave nobody to manage
 * users). */
static int last_admin_check(struct store *st, const char *name, struct err *e)
{
    int rc = 0;
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_ACTIVE_ADMINS, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, name);
    if (store_step(st, s) != SQLITE_ROW)
        rc = store_db_fail(st, e, "counting admins");
    else if (store_sql_col_int(s, 0) == 0)
        rc = err_set(e, ERR_CONFLICT, "'%s' is the last active admin", name);
    store_sql_reset(s);
    return rc;
}

int store_user_set_role(struct store *st, const struct store_ctx *who, const char *name,
                        const char *role, const char *reason, struct err *e)
{
    if (!store_role_is_valid(role))
        return err_set_field(e, ERR_INVALID, "role",
                             "'%s' is not a role (admin, investigator, coordinator, monitor, "
                             "data_manager, statistician)",
                             role ? role : "");
    int rc0 = store_reason_check(reason, true, "changing a role", e);
    if (rc0)
        return rc0;
    struct store_user u;
    int rc = user_change_begin(st, who, name, &u, e);
    if (rc)
        return rc;
    if (strcmp(u.role, role) == 0)
        rc = err_set(e, ERR_CONFLICT, "'%s' already has the role %s", name, role);
    if (!rc && strcmp(u.role, "admin") == 0 && !u.is_disabled)
        rc = last_admin_check(st, name, e);
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, SQ_USER_SET_ROLE, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, name);
        store_bind_text(st, s, 2, role);
        rc = store_stmt_run(st, s, "changing a role", e);
    }
    if (!rc) {
        char oldv[2 * STORE_USERNAME_MAX + 8],
            newv[2 * STORE_USERNAME_MAX + 8]; /* role names are short */
        fmt_exact(oldv, sizeof oldv, "%s: %s", name, u.role);
        fmt_exact(newv, sizeof newv, "%s: %s", name, role);
        struct audit_entry a = {.action = "user_role",
                                .instance = -1,
                                .field = "user",
                                .old_value = oldv,
                                .new_value = newv,
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_user_disable(struct store *st, const struct store_ctx *who, const char *name,
                       struct err *e)
{
    struct store_user u;
    int rc = user_change_begin(st, who, name, &u, e);
    if (rc)
        return rc;
    if (u.is_disabled)
        rc = err_set(e, ERR_CONFLICT, "user '%s' is already disabled", name);
    if (!rc && strcmp(u.role, "admin") == 0)
        rc = last_admin_check(st, name, e);
    if (!rc)
        rc = user_update(st, SQ_USER_SET_DISABLED, name, 1, 0, e);
    return user_change_end(st, who, rc, "user_disable", name, e);
}

int store_user_unlock(struct store *st, const struct store_ctx *who, const char *name,
                      struct err *e)
{
    struct store_user u;
    int rc = user_change_begin(st, who, name, &u, e);
    if (rc)
        return rc;
    rc = user_update(st, SQ_USER_SET_FAILED, name, 0, 0, e);
    return user_change_end(st, who, rc, "unlock_user", name, e);
}

int store_user_set_password(struct store *st, const struct store_ctx *who, const char *name,
                            const char *password, struct err *e)
{
    char hash[crypto_pwhash_STRBYTES], old[crypto_pwhash_STRBYTES] = "";
    int rc = hash_password(name, password, hash, e);
    struct store_user u;
    if (!rc)
        rc = user_change_begin(st, who, name, &u, e);
    if (rc) {
        sodium_memzero(hash, sizeof hash);
        return rc;
    }
    char ts[32];
    store_ts_format(store_now_ms(st), ts);
    rc = user_read(st, name, &u, old, e);
    if (!rc)
        rc = password_reuse_check(st, u.id, old, password, e);
    sqldb_stmt *s = rc ? NULL : store_stmt_get(st, SQ_PWHIST_INSERT, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) { /* the replaced hash joins the history */
        store_bind_int64(st, s, 1, u.id);
        store_bind_text(st, s, 2, old);
        store_bind_text(st, s, 3, ts);
        rc = store_stmt_run(st, s, "keeping the password history", e);
    }
    s = rc ? NULL : store_stmt_get(st, SQ_USER_SET_PW, e);
    if (!rc && !s)
        rc = ERR_IO;
    if (!rc) {
        store_bind_text(st, s, 1, name);
        store_bind_text(st, s, 2, hash);
        store_bind_text(st, s, 3, ts);
        rc = store_stmt_run(st, s, "setting a password", e);
    }
    sodium_memzero(hash, sizeof hash);
    sodium_memzero(old, sizeof old);
    return user_change_end(st, who, rc, "password_change", name, e);
}

/* Sign-in, safe against parallel guessing.
 *
 * The failure counter is a budget of password checks, spent BEFORE the check: one atomic
 * UPDATE ... SET failed_logins = failed_logins + 1 WHERE ... failed_logins < MAX (committed on
 * its own) admits an attempt, so however many sign-ins run at once — threads of one server,
 * several servers, CLI commands — at most STORE_MAX_FAILED_LOGINS passwords are ever checked
 * between two successes. A wrong password keeps its unit spent and, once the budget is gone,
 * locks the account in the same transaction that audits the failure; the right password
 * refunds the budget (counter to 0) in a transaction that first re-reads the account, so an
 * account locked meanwhile by parallel failures stays locked. A crash between the two steps
 * leaves the unit spent: it counts as a failure, the safe side.
 *
 * Every failure takes the time of one argon2id verification and gives the same message: an
 * unknown, disabled or locked account is checked against DUMMY_HASH (an argon2id hash of a
 * random secret nobody kept) so that timing does not tell which usernames exist. The audit row
 * of a failure names the account only when it exists: what was typed into the username box may
 * be a password. */

/* The one message of every failed sign-in. */
static const char AUTH_FAILED[] = "authentication failed: wrong username or password, or the "
                                  "account is locked or disabled (an admin can unlock it)";
/* Audit's name for a sign-in attempt on a username that does not exist. */
static const char UNKNOWN_USER[] = "(unknown user)";
/* argon2id with the interactive limits (as hash_password), of a random secret. */
static const char DUMMY_HASH[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$vg/2+9IrI2JRVD9ZcMbK4Q$/"
    "Mi33emF2p1rvYrBeK+uS2X5VuKrEs9TiA5TY0Q2lAc";

/* True when password matches hash. With hash "" the check runs against DUMMY_HASH, takes the
 * same time, and is false whatever it finds. */
static bool password_matches(const char *hash, const char *password)
{
    const char *pw = password ? password : "";
    bool is_real = hash[0] != '\0';
    bool ok = crypto_pwhash_str_verify(is_real ? hash : DUMMY_HASH, pw, strlen(pw)) == 0;
    return is_real && password && ok;
}

/* Spends one unit of the account's check budget. *admitted is false when the account is
 * disabled, locked or has no budget left (then nothing changed). Committed on its own so
 * that parallel attempts see it. */
static int spend_attempt(struct store *st, const char *name, bool *admitted, struct err *e)
{
    *admitted = false;
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_TRY_LOGIN, e);
    if (!s) {
        store_tx_rollback(st);
        return ERR_IO;
    }
    store_bind_text(st, s, 1, name);
    store_bind_int64(st, s, 2, STORE_MAX_FAILED_LOGINS);
    int q = store_step(st, s);
    *admitted = q == SQLITE_ROW; /* RETURNING gave the new count: a unit was spent */
    if (*admitted)
        q = store_step(st, s);
    rc = q == SQLITE_DONE ? 0 : store_db_fail(st, e, "counting a sign-in attempt");
    store_sql_reset(s);
    return store_tx_finish(st, rc, e);
}

/* Records one failed attempt: the "login_failed" row and, when the account's budget is spent,
 * the lockout and its "lockout" row, in one transaction. account is the username when it
 * exists, else NULL. */
static int record_failure(struct store *st, const struct store_ctx *who, const char *account,
                          const char *why, struct err *e)
{
    const char *name = account ? account : UNKNOWN_USER;
    struct store_ctx ctx = {name, who && who->source ? who->source : "cli", NULL, NULL};
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    struct audit_entry a = {.action = "login_failed",
                            .instance = -1,
                            .field = "user",
                            .new_value = name,
                            .reason = why};
    rc = store_audit_append(st, &ctx, &a, e);
    if (!rc && account) {
        sqldb_stmt *s = store_stmt_get(st, SQ_USER_LOCK_IF_SPENT, e);
        if (!s)
            return store_tx_finish(st, ERR_IO, e);
        store_bind_text(st, s, 1, account);
        store_bind_int64(st, s, 2, STORE_MAX_FAILED_LOGINS);
        int q = store_step(st, s);
        bool locked = q == SQLITE_ROW;
        if (locked)
            q = store_step(st, s);
        rc = q == SQLITE_DONE ? 0 : store_db_fail(st, e, "locking an account");
        store_sql_reset(s);
        if (!rc && locked) {
            struct audit_entry l = {.action = "lockout",
                                    .instance = -1,
                                    .field = "user",
                                    .new_value = account,
                                    .reason = "too many failed logins"};
            rc = store_audit_append(st, &ctx, &l, e);
        }
    }
    return store_tx_finish(st, rc, e);
}

/* The right password: refunds the budget unless the account was locked or disabled while the
 * password was being checked; audits "login" for the API. *ok false: locked meanwhile. */
/* True when name has no CLI login row in the last STORE_CLI_SESSION_S seconds: this CLI
 * sign-in starts a session (store_authenticate). */
static int cli_session_is_new(struct store *st, const char *name, bool *is_new, struct err *e)
{
    sqldb_stmt *s = store_stmt_get(st, SQ_USER_CLI_RECENT, e);
    if (!s)
        return ERR_IO;
    char since[32];
    store_ts_format(store_now_ms(st) - STORE_CLI_SESSION_S * 1000LL, since);
    store_bind_text(st, s, 1, name);
    store_bind_text(st, s, 2, since);
    int rc = store_step(st, s);
    store_sql_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_db_fail(st, e, "reading the last CLI login");
    *is_new = rc == SQLITE_DONE;
    return 0;
}

static int record_success(struct store *st, const struct store_ctx *who, const char *name,
                          struct store_user *u, bool *ok, struct err *e)
{
    *ok = false;
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = user_read(st, name, u, NULL, e);
    if (rc || u->is_disabled || u->is_locked_out)
        return store_tx_finish(st, rc, e);
    *ok = true;
    rc = user_update(st, SQ_USER_SET_FAILED, name, 0, 0, e);
    bool is_new_session = who && who->source && strcmp(who->source, "api") == 0;
    if (!rc && who && who->source && strcmp(who->source, "cli") == 0)
        rc = cli_session_is_new(st, name, &is_new_session, e);
    if (!rc && is_new_session) {
        struct store_ctx ctx = {name, who->source, NULL, NULL};
        struct audit_entry a = {
            .action = "login", .instance = -1, .field = "user", .new_value = name};
        rc = store_audit_append(st, &ctx, &a, e);
    }
    u->failed_logins = 0;
    return store_tx_finish(st, rc, e);
}

int store_authenticate(struct store *st, const struct store_ctx *who, const char *name,
                       const char *password, struct store_user *out, struct err *e)
{
    struct store_user u;
    char hash[crypto_pwhash_STRBYTES] = "";
    const char *why = NULL;
    bool known = user_read(st, name ? name : "", &u, hash, NULL) == 0;
    bool admitted = false;
    if (known) {
        int rc = spend_attempt(st, name, &admitted, e);
        if (rc) {
            sodium_memzero(hash, sizeof hash);
            return rc;
        }
    }
    if (!known)
        why = "unknown user";
    else if (!admitted)
        why = u.is_disabled     ? "user disabled"
              : u.is_locked_out ? "user locked out"
                                : "too many failed logins"; /* spent by parallel attempts */
    if (why)
        hash[0] = '\0'; /* the same work as a real check, against the dummy */
    bool match = password_matches(hash, password);
    sodium_memzero(hash, sizeof hash);
    if (!why && !match)
        why = "wrong password";
    if (!why) {
        bool ok;
        int rc = record_success(st, who, name, &u, &ok, e);
        if (rc)
            return rc;
        if (ok) {
            if (out)
                *out = u;
            if (password_is_expired(st, u.password_set_at))
                return err_set_field(e, ERR_PASSWORD_EXPIRED, "password",
                                     "the password of '%s' has expired (set %.10s; the policy "
                                     "allows %d days): choose a new one",
                                     name, u.password_set_at, password_policy_days(st));
            return 0;
        }
        why = "user locked out";
    }
    int rc = record_failure(st, who, known ? name : NULL, why, e);
    if (rc)
        return rc;
    return err_set(e, ERR_AUTH, "%s", AUTH_FAILED);
}

int store_authorize(struct store *st, const struct store_ctx *who, enum perm_action act,
                    struct err *e)
{
    if ((unsigned)act > PERM_NONE)
        return err_set(e, ERR_INTERNAL, "unknown permission action %d", (int)act);
    struct store_user u;
    if (!who || !who->user || user_read(st, who->user, &u, NULL, NULL) != 0)
        return err_set(e, ERR_AUTH, "unknown user '%s'", who && who->user ? who->user : "");
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' is %s", u.name,
                       u.is_disabled ? "disabled" : "locked out");
    enum role role;
    if (act == PERM_NONE || (role_from_name(u.role, &role) == 0 && perm_allows(role, act)))
        return 0;
    /* Refusals are audited (P11-05): a pattern of them is worth a monitor's look. */
    int rc = store_user_refusal_audit(st, who, act, e);
    if (rc)
        return rc;
    return err_set(e, ERR_FORBIDDEN, "user '%s' (%s) may not %s (%s)", u.name, u.role,
                   perm_action_label(act), perm_action_name(act));
}

/* ---- sessions ---------------------------------------------------------------------------*/

/* A session or token of nbytes random bytes as hex, upper case when upper. */
static int session_insert(struct store *st, const char *user, long long ttl_s, size_t nbytes,
                          bool upper, char token[65], struct err *e)
{
    struct store_user u;
    int rc = user_read(st, user, &u, NULL, e);
    if (rc)
        return rc;
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' cannot log in", user);
    unsigned char rnd[32];
    randombytes_buf(rnd, nbytes);
    sodium_bin2hex(token, 65, rnd, nbytes);
    for (char *p = token; upper && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    char th[65], ts[32];
    store_session_token_hash(token, th);
    long long now = store_now_ms(st);
    store_ts_format(now, ts);
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_INSERT, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, th);
    store_bind_int64(st, s, 2, u.id);
    store_bind_int64(st, s, 3, now + ttl_s * 1000);
    store_bind_int64(st, s, 4, ttl_s);
    store_bind_text(st, s, 5, ts);
    return store_stmt_run(st, s, "creating a session", e);
}

int store_session_create(struct store *st, const char *user, long long ttl_s, char token[65],
                         struct err *e)
{
    return session_insert(st, user, ttl_s, 32, false, token, e);
}

int store_session_create_redcap(struct store *st, const char *user, long long ttl_s, char token[65],
                                struct err *e)
{
    return session_insert(st, user, ttl_s, 16, true, token, e);
}

int store_session_check(struct store *st, const char *token, struct store_user *out, struct err *e)
{
    char th[65], name[STORE_USERNAME_MAX + 1];
    store_session_token_hash(token ? token : "", th);
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, th);
    int r = store_step(st, s);
    if (r != SQLITE_ROW) {
        store_sql_reset(s);
        return r == SQLITE_DONE ? err_set(e, ERR_AUTH, "no such session")
                                : store_db_fail(st, e, "reading a session");
    }
    store_col_copy(s, 0, name, sizeof name);
    long long expires = store_sql_col_int64(s, 1), ttl = store_sql_col_int64(s, 2);
    store_sql_reset(s);
    long long now = store_now_ms(st);
    if (now >= expires) {
        store_session_delete(st, token, NULL);
        return err_set(e, ERR_AUTH, "the session has expired");
    }
    struct store_user u;
    int rc = user_read(st, name, &u, NULL, e);
    if (rc)
        return rc;
    if (u.is_disabled || u.is_locked_out)
        return err_set(e, ERR_AUTH, "user '%s' cannot log in", name);
    s = store_stmt_get(st, SQ_SESSION_TOUCH, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, th);
    store_bind_int64(st, s, 2, now + ttl * 1000);
    if ((rc = store_stmt_run(st, s, "extending a session", e)))
        return rc;
    if (out)
        *out = u;
    return 0;
}

int store_session_delete(struct store *st, const char *token, struct err *e)
{
    char th[65];
    store_session_token_hash(token ? token : "", th);
    sqldb_stmt *s = store_stmt_get(st, SQ_SESSION_DELETE, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, th);
    return store_stmt_run(st, s, "ending a session", e);
}
