/* The export cache (dataset_cache.h).
 *
 * The file: a header of HEADER bytes — the magic, the key (SHA-256), the audit row the file is
 * valid as of (id, then its hash as 64 hex digits), the number of entries and their bytes —
 * then each entry: the record's id (8 bytes), the entry's length (4) and its bytes. Numbers
 * are in the machine's byte order: the file is read by the binary that wrote it (the key). */
#include "report/dataset_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/digest.h"
#include "base/strbuf.h"
#include "core/dict.h"
#include "report/dataset.h"

#define MAGIC "IOHMXC01"
enum { OFF_KEY = 8, OFF_ID = 40, OFF_HASH = 48, OFF_N = 112, OFF_LEN = 120, HEADER = 128 };
enum { ENTRY_HEAD = 12 };
#define WRITE_BUFFER (1024 * 1024)
#define WALK_CHUNK (16 << 20)

struct slot {
    long long id;
    uint32_t len;
    const unsigned char *at;
    bool is_valid;
};

struct dataset_cache {
    struct store *st;
    char path[4200], tmp[4200];
    unsigned char key[DIGEST_BYTES];
    /* the file as it was: mapped, its entries by id */
    const unsigned char *map;
    size_t map_len, released; /* pages before released given back (dataset_cache_done) */
    long long old_id;
    char old_hash[65];
    struct slot *slots; /* sorted by id */
    size_t nslots;
    bool is_all_stale;
    /* the file being written */
    FILE *out;
    char *obuf;
    uint64_t nout, out_len;
    bool out_failed;
    long long new_id;
    char new_hash[65];
    struct dataset_cache_stats stats;
};

/* Whether some branching logic may read the clock: 'today' and 'now' are datediff's (expr.h);
 * any mention of either, or of datediff, counts. */
static bool logic_reads_clock(const struct dict *d)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const char *b = d->fields[i].branching_raw;
        if (b && (strstr(b, "today") || strstr(b, "now") || strstr(b, "datediff")))
            return true;
    }
    return false;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Maps the old file and lists its entries; a file that is not whole or not ours is none. */
static void read_old(struct dataset_cache *c)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat sb;
    void *m = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && sb.st_size >= HEADER)
        m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    const unsigned char *p = m;
    size_t size = (size_t)sb.st_size;
    uint64_t n, len;
    memcpy(&n, p + OFF_N, sizeof n);
    memcpy(&len, p + OFF_LEN, sizeof len);
    bool ok = memcmp(p, MAGIC, 8) == 0 && memcmp(p + OFF_KEY, c->key, DIGEST_BYTES) == 0 &&
              len == size - HEADER && n <= len / ENTRY_HEAD;
    struct slot *slots = ok ? malloc((n ? n : 1) * sizeof *slots) : NULL;
    size_t at = HEADER, walked = 0, page = (size_t)sysconf(_SC_PAGESIZE);
    for (uint64_t i = 0; slots && i < n; i++) {
        if (size - at < ENTRY_HEAD) {
            ok = false;
            break;
        }
        memcpy(&slots[i].id, p + at, 8);
        memcpy(&slots[i].len, p + at + 8, 4);
        at += ENTRY_HEAD;
        if (size - at < slots[i].len) {
            ok = false;
            break;
        }
        slots[i].at = p + at;
        slots[i].is_valid = true;
        at += slots[i].len;
        if (at - walked >= WALK_CHUNK) { /* the pages walked given back as the walk goes */
            size_t upto = at / page * page;
            (void)madvise((void *)(p + walked), upto - walked, MADV_DONTNEED);
            walked = upto;
        }
    }
    if (!slots || !ok || at != size) {
        free(slots);
        munmap(m, size);
        return;
    }
    qsort(slots, n, sizeof *slots, slot_cmp);
    for (uint64_t i = 1; i < n; i++)
        if (slots[i].id == slots[i - 1].id) { /* each record once, or the file is not ours */
            free(slots);
            munmap(m, size);
            return;
        }
    /* the walk read every page and gave them back: each is read again as the export gets to
     * it (dataset_cache_done gives it back after), so memory stays that of a few entries */
    (void)madvise(m, size, MADV_DONTNEED);
    memcpy(&c->old_id, p + OFF_ID, sizeof c->old_id);
    memcpy(c->old_hash, p + OFF_HASH, 64);
    c->old_hash[64] = '\0';
    c->map = p;
    c->map_len = size;
    c->slots = slots;
    c->nslots = n;
}

/* Removes the working files of kind for who that no running process writes: ".KIND-WHO.PID.*"
 * whose PID is gone (an export killed half-way). */
static void sweep(const char *dir, const char *kind, const char *who)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char prefix[128], path[4400];
    int np = snprintf(prefix, sizeof prefix, ".%s-%s.", kind, who);
    for (struct dirent *de; np > 0 && (size_t)np < sizeof prefix && (de = readdir(d)) != NULL;) {
        if (strncmp(de->d_name, prefix, (size_t)np) != 0)
            continue;
        char *end;
        long pid = strtol(de->d_name + np, &end, 10);
        if (end == de->d_name + np || *end != '.' || pid <= 0 ||
            (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < sizeof path)
                (void)unlink(path);
    }
    closedir(d);
}

int dataset_cache_open(struct store *st, const char *kind, const char *layout,
                       struct dataset_cache **out, struct err *e)
{
    (void)e;
    *out = NULL;
    struct store_cache_key k;
    store_cache_key(st, &k);
    const char *env = getenv("IOHEME_EXPORT_CACHE");
    char bin[65]; /* this binary's SHA-256: an entry derived by other code is never used */
    struct err ignored = {0};
    if (!k.db_path || (env && strcmp(env, "off") == 0) || logic_reads_clock(store_dict(st)) ||
        dataset_file_sha256("/proc/self/exe", bin, NULL, &ignored) != 0)
        return 0;
    struct dataset_cache *c = calloc(1, sizeof *c);
    if (!c)
        return 0; /* no cache: the export goes on without */
    c->st = st;
    char dir[4150];
    const char *who = k.may_see_identifiers ? "id" : "noid";
    if ((size_t)snprintf(dir, sizeof dir, "%s.cache", k.db_path) >= sizeof dir ||
        (size_t)snprintf(c->path, sizeof c->path, "%s/%s-%s.bin", dir, kind, who) >=
            sizeof c->path ||
        (size_t)snprintf(c->tmp, sizeof c->tmp, "%s/.%s-%s.%ld.XXXXXX", dir, kind, who,
                         (long)getpid()) >= sizeof c->tmp ||
        (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        free(c);
        return 0;
    }
    struct digest d;
    digest_init(&d);
    char pv[32];
    int npv = snprintf(pv, sizeof pv, "%d %d", k.protocol_version, k.may_see_identifiers);
    digest_add(&d, "ioheme export cache 1", 22);
    digest_add(&d, bin, 64);
    digest_add(&d, kind, strlen(kind) + 1);
    digest_add(&d, layout, strlen(layout) + 1);
    digest_add(&d, pv, (size_t)npv);
    digest_bin(&d, c->key);
    read_old(c);
    /* the new file, written as the export goes under a name of its own, renamed over the old
     * one when whole; what an export killed half-way left is removed here */
    sweep(dir, kind, who);
    int fd = mkstemp(c->tmp);
    if (fd >= 0 && !(c->out = fdopen(fd, "wb")))
        close(fd);
    if (c->out) {
        c->obuf = dataset_file_buffer(c->out, WRITE_BUFFER);
        static const unsigned char zero[HEADER];
        c->out_failed = fwrite(zero, 1, HEADER, c->out) != HEADER; /* written at the end */
    }
    *out = c;
    return 0;
}

/* What the trail says changed since the file's row: the names of the records it touches
 * (sorted, for bsearch), and whether some study-level change makes every entry stale. */
struct changes {
    char **names;
    size_t n, cap;
    bool is_all;
};

static int on_change(void *ctx, long long id, bool is_inert, const char *record)
{
    (void)id;
    struct changes *ch = ctx;
    if (!record) {
        ch->is_all |= !is_inert; /* a study-level change: nothing kept holds */
        return 0;
    }
    if (ch->n && strcmp(ch->names[ch->n - 1], record) == 0)
        return 0; /* a save's rows name the record one after the other */
    char **g = array_grow(ch->names, ch->n, &ch->cap, sizeof *g, 64);
    if (!g)
        return ERR_NOMEM;
    ch->names = g;
    return (ch->names[ch->n] = strdup(record)) != NULL ? (ch->n++, 0) : ERR_NOMEM;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool touched(const struct changes *ch, const char *name)
{
    return ch->n && bsearch(&name, ch->names, ch->n, sizeof *ch->names, name_cmp);
}

int dataset_cache_select(void *cache, const struct store_record *recs, size_t nrecs, bool *want,
                         struct err *e)
{
    struct dataset_cache *c = cache;
    int rc = store_audit_head(c->st, &c->new_id, c->new_hash, e);
    if (rc)
        return rc;
    if (!c->nslots)
        return 0;
    char hash[65];
    struct err ignored = {0};
    if (c->old_id <= 0 || c->old_id > c->new_id ||
        store_audit_hash_at(c->st, c->old_id, hash, &ignored) != 0 ||
        strcmp(hash, c->old_hash) != 0) {
        c->is_all_stale = true; /* another history: nothing kept is of this database */
        return 0;
    }
    struct changes ch = {0};
    rc = store_audit_changes(c->st, c->old_id, on_change, &ch, e);
    if (rc == ERR_NOMEM)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0 && ch.is_all)
        c->is_all_stale = true;
    if (rc == 0 && ch.n)
        qsort(ch.names, ch.n, sizeof *ch.names, name_cmp);
    for (size_t i = 0; rc == 0 && !c->is_all_stale && i < nrecs; i++) {
        struct slot key = {.id = recs[i].id}, *s;
        s = bsearch(&key, c->slots, c->nslots, sizeof *c->slots, slot_cmp);
        if (!s)
            continue;
        if (touched(&ch, recs[i].screening_no) ||
            (recs[i].study_id[0] && touched(&ch, recs[i].study_id)))
            s->is_valid = false;
        else
            want[i] = false;
    }
    /* every record kept, and the file holds no other: the new file would be the old one, so
     * none is written (the old one stays valid as of its row, the rows since being inert) */
    bool is_same = rc == 0 && !c->is_all_stale && nrecs == c->nslots;
    for (size_t i = 0; is_same && i < nrecs; i++)
        is_same = !want[i];
    if (is_same && c->out) {
        (void)fclose(c->out);
        (void)unlink(c->tmp);
        c->out = NULL;
    }
    for (size_t i = 0; i < ch.n; i++)
        free(ch.names[i]);
    free(ch.names);
    return rc;
}

const unsigned char *dataset_cache_get(const struct dataset_cache *c, long long id, size_t *len)
{
    if (!c || c->is_all_stale || !c->nslots)
        return NULL;
    struct slot key = {.id = id};
    const struct slot *s = bsearch(&key, c->slots, c->nslots, sizeof *c->slots, slot_cmp);
    if (!s || !s->is_valid)
        return NULL;
    *len = s->len;
    return s->at;
}

void dataset_cache_put(struct dataset_cache *c, long long id, const void *entry, size_t len,
                       bool kept)
{
    if (kept)
        c->stats.kept++;
    else
        c->stats.derived++;
    if (!c->out || c->out_failed)
        return;
    uint32_t n = (uint32_t)len;
    if (len > UINT32_MAX || fwrite(&id, 8, 1, c->out) != 1 || fwrite(&n, 4, 1, c->out) != 1 ||
        (len && fwrite(entry, 1, len, c->out) != len)) {
        c->out_failed = true;
        return;
    }
    c->nout++;
    c->out_len += ENTRY_HEAD + len;
}

void dataset_cache_done(struct dataset_cache *c, const unsigned char *at)
{
    enum { CHUNK = 4 << 20 }; /* a call per 4 MiB of entries */
    if (!c->map)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t off = (size_t)(at - c->map) / page * page;
    if (off < c->released + CHUNK)
        return;
    /* a private mapping never written to: its pages are read from the file again if needed */
    (void)madvise((void *)(c->map + c->released), off - c->released, MADV_DONTNEED);
    c->released = off;
}

void dataset_cache_close(struct dataset_cache *c, bool ok, struct dataset_cache_stats *stats)
{
    if (stats)
        *stats = (struct dataset_cache_stats){0};
    if (!c)
        return;
    c->stats.used = true;
    if (c->out) {
        unsigned char h[HEADER] = {0};
        memcpy(h, MAGIC, 8);
        memcpy(h + OFF_KEY, c->key, DIGEST_BYTES);
        memcpy(h + OFF_ID, &c->new_id, 8);
        memcpy(h + OFF_HASH, c->new_hash, 64);
        memcpy(h + OFF_N, &c->nout, 8);
        memcpy(h + OFF_LEN, &c->out_len, 8);
        ok = ok && !c->out_failed && c->new_id > 0 && fflush(c->out) == 0 &&
             fseek(c->out, 0, SEEK_SET) == 0 && fwrite(h, 1, HEADER, c->out) == HEADER &&
             fflush(c->out) == 0;
        ok = fclose(c->out) == 0 && ok;
        if (!ok || rename(c->tmp, c->path) != 0)
            (void)unlink(c->tmp);
    }
    free(c->obuf);
    if (c->map)
        munmap((void *)c->map, c->map_len);
    free(c->slots);
    if (stats)
        *stats = c->stats;
    free(c);
}
