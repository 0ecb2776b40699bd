/* The study's settings kept in the meta table: the site time zone (core/sitetime.h).
 *
 * A database created before site time zones has no row: it reads as SITETIME_DEFAULT (UTC) and
 * says so (is_set false), so the pages can tell the user. Changing the zone is one transaction
 * with its audit row ("site_timezone": old and new name, the reason). */
#include <string.h>

#include <sodium.h>

#include "base/fmt.h"
#include "core/sitetime.h"
#include "store/store_int.h"

#define META_SITE_TZ "site_timezone"
#define META_SERVER_KEY "server_csrf_key"

int store_meta_get(struct store *st, const char *key, char *out, size_t len, bool *found,
                   struct err *e)
{
    out[0] = '\0';
    if (found)
        *found = false;
    sqldb_stmt *s = store_stmt_get(st, SQ_META_GET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, key);
    int rc = store_step(st, s);
    if (rc == SQLITE_ROW) {
        store_col_copy(s, 0, out, len);
        if (found)
            *found = true;
    }
    store_sql_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_db_fail(st, e, "reading meta");
}

int store_meta_set(struct store *st, const char *key, const char *value, struct err *e)
{
    st->is_db_available = false; /* the database's state may be what changes (dbstate.c) */
    sqldb_stmt *s = store_stmt_get(st, SQ_META_SET, e);
    if (!s)
        return ERR_IO;
    store_bind_text(st, s, 1, key);
    store_bind_text(st, s, 2, value);
    return store_stmt_run(st, s, "writing meta", e);
}

int store_site_timezone(struct store *st, char out[STORE_TZ_LEN], bool *is_set, struct err *e)
{
    bool found;
    int rc = store_meta_get(st, META_SITE_TZ, out, STORE_TZ_LEN, &found, e);
    if (!rc && !found)
        fmt_exact(out, STORE_TZ_LEN, "%s", SITETIME_DEFAULT);
    if (is_set)
        *is_set = !rc && found;
    return rc;
}

int store_set_site_timezone(struct store *st, const struct store_ctx *who, const char *name,
                            const char *reason, struct err *e)
{
    int rc = sitetime_name_check(name, e);
    if (!rc)
        rc = store_reason_check(reason, false, "a time zone change", e);
    if (rc)
        return rc;
    rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    char old[STORE_TZ_LEN];
    bool was_set;
    rc = store_user_require_active(st, who->user, e);
    if (!rc)
        rc = store_site_timezone(st, old, &was_set, e);
    if (!rc && was_set && strcmp(old, name) == 0)
        rc = err_set_field(e, ERR_CONFLICT, "timezone", "the site time zone is already %s", name);
    if (!rc)
        rc = store_meta_set(st, META_SITE_TZ, name, e);
    if (!rc) {
        struct audit_entry a = {.action = "site_timezone",
                                .instance = -1,
                                .field = META_SITE_TZ,
                                .old_value = was_set ? old : NULL,
                                .new_value = name,
                                .reason = reason && *reason ? reason : NULL};
        rc = store_audit_append(st, who, &a, e);
    }
    return store_tx_finish(st, rc, e);
}

int store_server_key(struct store *st, unsigned char key[32], struct err *e)
{
    /* read or made inside one write transaction: two servers starting at once agree */
    int rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    char hex[65];
    bool found = false;
    rc = store_meta_get(st, META_SERVER_KEY, hex, sizeof hex, &found, e);
    size_t n = 0;
    if (!rc && found && (sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 32))
        found = false; /* unreadable: replaced by a new one */
    if (!rc && !found) {
        randombytes_buf(key, 32);
        sodium_bin2hex(hex, sizeof hex, key, 32);
        rc = store_meta_set(st, META_SERVER_KEY, hex, e);
    }
    sodium_memzero(hex, sizeof hex);
    return store_tx_finish(st, rc, e);
}
