/* Identifier fields encrypted at rest (P11-35). Values of fields the protocol flags
 * `Identifier? = y` are stored — in the value table and in the audit trail — as
 * "enc1:<key id>:<base64 of nonce | XSalsa20-Poly1305 ciphertext>" (libsodium crypto_secretbox).
 * The keys live outside the database, in a key file ($IOHEME_KEY_FILE, else "<database>.key",
 * mode 0600, one "<id> <64 hex digits>" line per key, the newest last): a stolen database file or
 * backup holds no identifier in clear. The database keeps, per key id, a check value (the first
 * 16 hex digits of SHA-256("ioheme identifier key" | key)) so a wrong key file is refused rather
 * than producing garbage. The first key is made when the first identifier value is written;
 * rotation (store_key_rotate) adds a key, re-encrypts every stored value with it and keeps the
 * old keys, which the audit trail's rows (never rewritten: the chain hashes their bytes) still
 * need. Who sees the clear text is decided once per connection user (store_set_reader): roles
 * with the identifiers permission see it; others see STORE_MASKED. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/fmt.h"
#include "base/strbuf.h"
#include "store/store_int.h"

#define ENC_PREFIX "enc1:"
#define META_KEYS "identifier_keys"

static void key_check(const unsigned char k[32], char out[17])
{
    unsigned char h[DIGEST_BYTES];
    struct digest s;
    digest_init(&s);
    digest_add(&s, "ioheme identifier key", 21);
    digest_add(&s, k, 32);
    digest_bin(&s, h);
    digest_to_hex(out, h, 8);
}

const char *store_key_file_path(const struct store *st)
{
    return st->key_path;
}

/* The key file's size and modification time, (-1, 0) when it does not exist. */
static int key_file_stamp(const char *path, long long *size, long long *mtime_ns, struct err *e)
{
    struct stat sb;
    *size = -1;
    *mtime_ns = 0;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? 0 : err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    *size = (long long)sb.st_size;
    *mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    return 0;
}

/* Reads the key file into st->keys (none when the file does not exist). */
static int keys_read(struct store *st, struct err *e)
{
    int src = key_file_stamp(st->key_path, &st->key_file_size, &st->key_file_mtime_ns, e);
    if (src)
        return src;
    FILE *f = fopen(st->key_path, "r");
    if (!f)
        return errno == ENOENT ? 0 : err_set(e, ERR_IO, "%s: %s", st->key_path, strerror(errno));
    char line[256];
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        unsigned id;
        char hex[65];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct store_key k = {0};
        size_t len = 0;
        if (sscanf(line, "%u %64s", &id, hex) != 2 || id == 0 ||
            sodium_hex2bin(k.k, sizeof k.k, hex, strlen(hex), NULL, &len, NULL) != 0 ||
            len != sizeof k.k) {
            rc = err_set(e, ERR_INVALID, "%s:%d: not '<id> <64 hex digits>'", st->key_path, lineno);
            break;
        }
        k.id = id;
        if (st->nkeys >= STORE_MAX_KEYS)
            rc = err_set(e, ERR_INVALID, "%s: more than %d keys", st->key_path, STORE_MAX_KEYS);
        else
            st->keys[st->nkeys++] = k;
        sodium_memzero(hex, sizeof hex);
    }
    sodium_memzero(line, sizeof line);
    (void)fclose(f);
    return rc;
}

/* The next "id:check" of the database's list of key check values ("1:<16 hex>,2:<16 hex>"):
 * *id and *check (its 16 hex digits, not terminated), *p moved past it; false at the end of
 * the list or where it is malformed. */
static bool next_check(const char **p, unsigned *id, const char **check)
{
    char *end;
    unsigned long n = strtoul(*p, &end, 10);
    if (end == *p || *end != ':' || strnlen(end + 1, 16) < 16 || n > UINT_MAX)
        return false;
    *id = (unsigned)n;
    *check = end + 1;
    *p = end + 17;
    if (**p == ',')
        ++*p;
    return true;
}

static int wrong_key(const struct store *st, unsigned id, struct err *e)
{
    return err_set(e, ERR_INTEGRITY,
                   "%s: key %u is not this database's key %u (wrong key file?): identifier "
                   "fields cannot be read or written with it",
                   st->key_path, id, id);
}

/* Reads the key file at st->key_path and checks it against the database's check values:
 * every key the database knows must match its check value. A file with several lines of one id
 * (left by connections that each made a first key before the fix of 2026-12-06; only the one
 * the database recorded ever encrypted a stored value) keeps the recorded one. */
static int keys_load(struct store *st, struct err *e)
{
    st->nkeys = 0;
    st->max_key_id = 0;
    int rc = st->key_path[0] ? keys_read(st, e) : 0;
    if (rc)
        return rc;
    char checks[1024];
    bool found;
    rc = store_meta_get(st, META_KEYS, checks, sizeof checks, &found, e);
    if (rc || !found)
        return rc;
    unsigned id;
    const char *want;
    for (const char *p = checks; next_check(&p, &id, &want);) {
        if (id > st->max_key_id)
            st->max_key_id = id;
        bool match = false, other = false;
        for (size_t i = 0; i < st->nkeys; i++) {
            if (st->keys[i].id != id)
                continue;
            char have[17];
            key_check(st->keys[i].k, have);
            st->keys[i].is_recorded = strncmp(have, want, 16) == 0;
            match = match || st->keys[i].is_recorded;
            other = other || !st->keys[i].is_recorded;
        }
        if (other && !match)
            return wrong_key(st, id, e);
        size_t n = 0; /* the unrecorded keys of a recorded id go */
        for (size_t i = 0; i < st->nkeys; i++)
            if (st->keys[i].id != id || st->keys[i].is_recorded)
                st->keys[n++] = st->keys[i];
        for (size_t i = n; i < st->nkeys; i++)
            sodium_memzero(&st->keys[i], sizeof st->keys[i]);
        st->nkeys = n;
    }
    return 0;
}

int store_keys_load(struct store *st, const char *db_path, struct err *e)
{
    const char *env = getenv("IOHEME_KEY_FILE");
    /* a PostgreSQL study has no file to put its key beside: IOHEME_KEY_FILE names it */
    if (!(env && *env) && store_sql_is_postgres(st->db))
        st->key_path[0] = '\0';
    else if ((size_t)snprintf(st->key_path, sizeof st->key_path, env && *env ? "%s" : "%s.key",
                              env && *env ? env : db_path) >= sizeof st->key_path)
        return err_set(e, ERR_INVALID, "%s: key file path too long", db_path);
    return keys_load(st, e);
}

/* Reads the keys again when the key file changed since they were read: a key another
 * connection made (another server thread, process or command: the first identifier value, a
 * rotation) is then known here too, instead of this connection making a second key of the
 * same id. The keys held stay when the new reading fails. */
static int keys_refresh(struct store *st, struct err *e)
{
    long long size, mtime;
    if (!st->key_path[0] || key_file_stamp(st->key_path, &size, &mtime, NULL) != 0 ||
        (size == st->key_file_size && mtime == st->key_file_mtime_ns))
        return 0;
    struct store_key *held = malloc(sizeof st->keys);
    if (!held)
        return err_set(e, ERR_NOMEM, "out of memory");
    memcpy(held, st->keys, sizeof st->keys);
    size_t nheld = st->nkeys;
    unsigned max_held = st->max_key_id;
    int rc = keys_load(st, e);
    if (rc) {
        memcpy(st->keys, held, sizeof st->keys);
        st->nkeys = nheld;
        st->max_key_id = max_held;
    }
    /* the check values read now may be an open transaction's own, which can yet roll back: a
     * key counts as recorded only as it did before (else store_encrypt checks it again) */
    for (size_t i = 0; !rc && i < st->nkeys; i++) {
        bool was = false;
        for (size_t k = 0; k < nheld && !was; k++)
            was = held[k].is_recorded && held[k].id == st->keys[i].id &&
                  sodium_memcmp(held[k].k, st->keys[i].k, sizeof held[k].k) == 0;
        st->keys[i].is_recorded = was;
    }
    sodium_memzero(held, sizeof st->keys);
    free(held);
    return rc;
}

static const struct store_key *key_find(const struct store *st, unsigned id)
{
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].id == id)
            return &st->keys[i];
    return NULL;
}

/* Records k's check value in the database's meta (in the caller's transaction) unless it is
 * there already; ERR_INTEGRITY when the meta holds another check value for k's id (another
 * process recorded a different key of the same id since this one loaded its keys). */
static int check_record(struct store *st, const struct store_key *k, struct err *e)
{
    char checks[1024] = "", check[17];
    bool found;
    int rc = store_meta_get(st, META_KEYS, checks, sizeof checks, &found, e);
    if (rc)
        return rc;
    key_check(k->k, check);
    unsigned id;
    const char *have;
    for (const char *p = checks; next_check(&p, &id, &have);)
        if (id == k->id)
            return strncmp(have, check, 16) == 0 ? 0 : wrong_key(st, id, e);
    size_t len = strlen(checks);
    if ((size_t)snprintf(checks + len, sizeof checks - len, "%s%u:%s", len ? "," : "", k->id,
                         check) >= sizeof checks - len)
        return err_set(e, ERR_INVALID, "too many identifier keys");
    return store_meta_set(st, META_KEYS, checks, e);
}

/* Appends a new key (id one above the highest) to the key file — created 0600 when absent —
 * and its check value to the database's meta (in the caller's transaction). */
static int key_add(struct store *st, struct err *e)
{
    if (!st->key_path[0])
        return err_set(e, ERR_INVALID,
                       "identifier fields are encrypted with a key kept outside the database: "
                       "a study on PostgreSQL needs IOHEME_KEY_FILE to name its key file "
                       "(docs/operations.md)");
    if (st->nkeys >= STORE_MAX_KEYS)
        return err_set(e, ERR_INVALID, "%s: more than %d keys", st->key_path, STORE_MAX_KEYS);
    struct store_key k = {.id = st->max_key_id};
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].id >= k.id)
            k.id = st->keys[i].id;
    k.id++;
    crypto_secretbox_keygen(k.k);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, k.k, sizeof k.k);
    int fd = open(st->key_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int rc = 0;
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "%s: %s", st->key_path, strerror(errno));
    } else {
        char line[96];
        int n = snprintf(line, sizeof line, "%u %s\n", k.id, hex);
        if (write(fd, line, (size_t)n) != n || fsync(fd) != 0)
            rc = err_set(e, ERR_IO, "%s: %s", st->key_path, strerror(errno));
        sodium_memzero(line, sizeof line);
        close(fd);
    }
    sodium_memzero(hex, sizeof hex);
    if (!rc)
        rc = check_record(st, &k, e);
    if (!rc) { /* is_recorded stays false: the transaction may yet roll the record back */
        st->keys[st->nkeys++] = k;
        st->max_key_id = k.id;
    }
    sodium_memzero(&k, sizeof k);
    return rc;
}

int store_identifiers_readable(struct store *st, struct err *e)
{
    if (!st->may_see_identifiers)
        return 0; /* the reader sees every identifier masked: no key is needed */
    int rc = keys_refresh(st, e);
    char checks[1024];
    bool found = false;
    if (rc == 0)
        rc = store_meta_get(st, META_KEYS, checks, sizeof checks, &found, e);
    unsigned id;
    const char *want;
    for (const char *p = checks; rc == 0 && found && next_check(&p, &id, &want);) {
        bool have = false;
        for (size_t i = 0; i < st->nkeys && !have; i++)
            have = st->keys[i].id == id;
        if (!have)
            rc = err_set(e, ERR_INTEGRITY,
                         "%s has no key %u, which encrypted identifier values of this "
                         "database: they cannot be read, and an export would carry \"%s\" in "
                         "their place; restore the key file from its backup "
                         "(docs/operations.md), or export without identifiers",
                         st->key_path[0] ? st->key_path : "the key file (IOHEME_KEY_FILE)", id,
                         STORE_UNREADABLE);
    }
    return rc;
}

bool store_is_encrypted(const char *stored)
{
    return stored && strncmp(stored, ENC_PREFIX, strlen(ENC_PREFIX)) == 0;
}

int store_encrypt(struct store *st, const char *plain, struct arena *ar, const char **out,
                  struct err *e)
{
    *out = NULL;
    /* another connection may have made a key since (the first one, a rotation): a stat */
    int frc = keys_refresh(st, e);
    if (frc)
        return frc;
    if (!st->nkeys && st->max_key_id)
        return err_set(e, ERR_INTEGRITY,
                       "%s is missing: this database's identifier values were encrypted with "
                       "key %u; restore the key file from its backup (docs/operations.md) "
                       "before writing identifiers",
                       st->key_path, st->max_key_id);
    if (!st->nkeys) { /* the first identifier value: the first key */
        int rc = key_add(st, e);
        if (rc)
            return rc;
    }
    const struct store_key *k = &st->keys[st->nkeys - 1];
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].id > k->id)
            k = &st->keys[i];
    /* A key the database never recorded (a key file left from another study, a shared
     * IOHEME_KEY_FILE, a key added in a transaction that rolled back): its check value is
     * recorded with the first value it encrypts, so that another key of the same id is
     * refused later instead of misreading what this one encrypted. */
    if (!k->is_recorded) {
        int rc = check_record(st, k, e);
        if (rc)
            return rc;
    }
    size_t n = strlen(plain);
    size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *box = malloc(blen);
    if (!box)
        return err_set(e, ERR_NOMEM, "out of memory");
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, box,
                          k->k);
    size_t b64 = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
    char *enc = arena_alloc(ar, strlen(ENC_PREFIX) + 12 + b64);
    if (enc) {
        int m = sprintf(enc, ENC_PREFIX "%u:", k->id);
        sodium_bin2base64(enc + m, b64, box, blen, sodium_base64_VARIANT_ORIGINAL);
    }
    free(box);
    if (!enc)
        return err_set(e, ERR_NOMEM, "out of memory");
    *out = enc;
    return 0;
}

int store_decrypt(struct store *st, const char *stored, struct arena *ar, const char **out,
                  struct err *e)
{
    *out = stored;
    if (!store_is_encrypted(stored))
        return 0;
    char *end;
    unsigned id = (unsigned)strtoul(stored + strlen(ENC_PREFIX), &end, 10);
    if (*end != ':')
        return err_set(e, ERR_INTEGRITY, "a malformed encrypted value");
    const struct store_key *k = key_find(st, id);
    if (!k && keys_refresh(st, NULL) == 0) /* a key made by another connection since */
        k = key_find(st, id);
    if (!k)
        return err_set(e, ERR_INTEGRITY, "identifier key %u is not in %s", id, st->key_path);
    const char *b64 = end + 1;
    size_t cap = strlen(b64), blen = 0;
    unsigned char *box = malloc(cap ? cap : 1);
    if (!box)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = 0;
    if (sodium_base642bin(box, cap, b64, strlen(b64), NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        rc = err_set(e, ERR_INTEGRITY, "a malformed encrypted value");
    } else {
        size_t n = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        char *plain = arena_alloc(ar, n + 1);
        if (!plain)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else if (crypto_secretbox_open_easy((unsigned char *)plain,
                                            box + crypto_secretbox_NONCEBYTES,
                                            blen - crypto_secretbox_NONCEBYTES, box, k->k) != 0)
            rc = err_set(e, ERR_INTEGRITY, "an encrypted value does not open with key %u", id);
        else {
            plain[n] = '\0';
            *out = plain;
        }
    }
    free(box);
    return rc;
}

const char *store_reveal(struct store *st, const struct dict_field *f, const char *stored,
                         struct arena *ar)
{
    if (!stored || !store_is_encrypted(stored))
        return stored;
    (void)f;
    if (!st->may_see_identifiers && !st->reveal_internal)
        return STORE_MASKED;
    const char *plain;
    if (store_decrypt(st, stored, ar, &plain, NULL) != 0)
        return STORE_UNREADABLE;
    return plain;
}

void store_reveal_into(struct store *st, char *buf, size_t size)
{
    if (!store_is_encrypted(buf))
        return;
    struct arena ar = ARENA_INIT;
    fmt_exact(buf, size, "%s", store_reveal(st, NULL, buf, &ar)); /* clear text is shorter */
    arena_free(&ar);
}

int store_key_rotate(struct store *st, const struct store_ctx *who, const char *reason,
                     size_t *nvalues, struct err *e)
{
    *nvalues = 0;
    int rc = store_reason_check(reason, true, "a key rotation", e);
    if (!rc)
        rc = store_tx_begin(st, e);
    if (rc)
        return rc;
    rc = store_user_require_active(st, who->user, e);
    if (!rc) /* it re-encrypts every site's values */
        rc = store_site_require_study_wide(st, who->user, "a key rotation", e);
    unsigned old_id = 0;
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].id > old_id)
            old_id = st->keys[i].id;
    if (!rc)
        rc = key_add(st, e);
    /* every stored identifier value, re-encrypted with the new key */
    sqldb_stmt *sel = NULL, *upd = NULL;
    if (!rc)
        rc = store_stmt_prepare(st,
                                "SELECT record_id, event, instance, field, code, value FROM value "
                                "WHERE value LIKE 'enc1:%'",
                                &sel, "reading identifier values", e);
    if (!rc)
        rc = store_stmt_prepare(st,
                                "UPDATE value SET value = ?6 WHERE record_id = ?1 AND event = ?2 "
                                "AND instance = ?3 AND field = ?4 AND code = ?5",
                                &upd, "re-encrypting identifier values", e);
    struct arena ar = ARENA_INIT;
    int step;
    while (!rc && (step = store_sql_step(sel)) == SQLITE_ROW) {
        const char *plain, *enc;
        rc = store_decrypt(st, (const char *)store_sql_col_text(sel, 5), &ar, &plain, e);
        if (!rc)
            rc = store_encrypt(st, plain, &ar, &enc, e);
        if (!rc) {
            store_bind_int64(st, upd, 1, store_sql_col_int64(sel, 0));
            store_bind_text(st, upd, 2, (const char *)store_sql_col_text(sel, 1));
            store_bind_int64(st, upd, 3, store_sql_col_int64(sel, 2));
            store_bind_text(st, upd, 4, (const char *)store_sql_col_text(sel, 3));
            store_bind_text(st, upd, 5, (const char *)store_sql_col_text(sel, 4));
            store_bind_text(st, upd, 6, enc);
            rc = store_stmt_run(st, upd, "re-encrypting an identifier value", e);
        }
        if (!rc)
            ++*nvalues;
        arena_free(&ar);
    }
    store_sql_finalize(sel);
    store_sql_finalize(upd);
    if (!rc) {
        char oldv[32], newv[96];
        fmt_exact(oldv, sizeof oldv, "key %u", old_id);
        fmt_exact(newv, sizeof newv, "key %u (%zu values re-encrypted)", old_id + 1, *nvalues);
        struct audit_entry a = {.action = "key_rotate",
                                .instance = -1,
                                .field = "identifier_key",
                                .old_value = old_id ? oldv : NULL,
                                .new_value = newv,
                                .reason = reason};
        rc = store_audit_append(st, who, &a, e);
    }
    /* on failure the key appended to the file stays there, unused: harmless, and the next
     * rotation's id is above it */
    return store_tx_finish(st, rc, e);
}
