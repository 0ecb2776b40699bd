/* Web sign-in bookkeeping on top of the store's session table (store.h): ending a session
 * with an audit row, auditing idle logouts, and per-user API tokens.
 *
 * An API token is a session whose idle time-out is STORE_API_TOKEN_TTL_S instead of the web
 * UI's 30 minutes: the same table, the same SHA-256-only storage, the same check. Sign-outs
 * and idle logouts are audited so the trail shows every session's end (21 CFR Part 11
 * P11-04, P11-06). */
#ifndef IOHEME_STORE_SESSIONS_H
#define IOHEME_STORE_SESSIONS_H

#include <stdbool.h>

#include "base/err.h"
#include "store/store.h"

/* API tokens stay valid for 90 days without use (each use slides the expiry). */
#define STORE_API_TOKEN_TTL_S (90LL * 24 * 3600)

/* Checks a session or API token for the web server: ERR_AUTH when it is unknown, its user is
 * disabled or locked out, or it has passed its idle time-out — then the session is deleted and
 * a "logout" audit row with reason "idle timeout after N s" is written for its user. Otherwise
 * fills *out (may be NULL) and slides the expiry, at most once a minute (so a read stays a
 * read; the time-out is exact to within that minute). With may_write false (inside a read
 * snapshot) it returns ERR_CONFLICT instead of writing, and the caller retries outside. */
int store_session_verify(struct store *st, const char *token, bool may_write,
                         struct store_user *out, struct err *e);

/* Ends the session token (logout): deletes it and audits "logout" for its user with reason
 * why ("logout", "token revoked"). Unknown tokens are not an error and write nothing. */
int store_session_end(struct store *st, const char *token, const char *why, struct err *e);

/* Creates an API token for user (who must be active): 64 hex chars into token (65 bytes) — or,
 * redcap, 32 upper-case hex chars, the shape REDCap's clients check — only its SHA-256 is
 * stored; audited as "api_token" by who->user. */
int store_api_token_create(struct store *st, const struct store_ctx *who, const char *user,
                           bool redcap, char token[65], struct err *e);

/* An API token as listed: never the token, nor its whole hash. */
struct store_api_token {
    char id[17]; /* the first 16 hex chars of the token's SHA-256: names it for
                    revocation; cannot be turned back into the token */
    char user[STORE_USERNAME_MAX + 1];
    char created_at[32];
    long long expires_ms; /* slides forward with use */
};

/* The unexpired API tokens of user (every user's when user is NULL), oldest first, into a
 * malloc'ed array (*out, *n; caller frees). ERR_NOT_FOUND when user does not exist. */
int store_api_token_list(struct store *st, const char *user, struct store_api_token **out,
                         size_t *n, struct err *e);

/* Revokes user's API token with this id (struct store_api_token): deletes it and audits
 * "api_token" by who->user with the owner as old value and reason "API token <id> revoked".
 * ERR_NOT_FOUND when user has no such token. */
int store_api_token_revoke(struct store *st, const struct store_ctx *who, const char *user,
                           const char *id, struct err *e);

#endif
