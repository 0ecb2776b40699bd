/* The one-record value table (core/vtab.h) against a brute-force oracle: every lookup
 * (vtab_get) and every instance walk (vtab_next_instance) on a record of many fields, events,
 * repeat instances with gaps, checkbox options and empty values equals what a linear search of
 * the values added finds. The table indexes its (field, event) runs with a hash set that grows
 * past its first 16 slots here; after vtab_reset the next record's values replace the last's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/dict.h"
#include "core/vtab.h"

#define NFIELDS 120
#define NEVENTS 3

struct added {
    char event[16], field[16], code[8];
    int instance;
    char value[24];
};

static struct added added[NFIELDS * NEVENTS * 8];
static size_t nadded;

/* The oracle: the last value added for the key (none are added twice), as vtab_get answers. */
static const char *oracle_get(const char *event, int instance, const char *field, const char *code)
{
    for (size_t i = 0; i < nadded; i++) {
        const struct added *a = &added[i];
        if (strcmp(a->event, event) == 0 && a->instance == instance &&
            strcmp(a->field, field) == 0 && strcmp(a->code, code ? code : "") == 0)
            return a->value[0] ? a->value : NULL;
    }
    return NULL;
}

static int oracle_next(const char *event, const char *field, int after)
{
    int best = 0;
    for (size_t i = 0; i < nadded; i++) {
        const struct added *a = &added[i];
        if (strcmp(a->event, event) == 0 && strcmp(a->field, field) == 0 && a->value[0] &&
            a->instance > after && a->instance > 0 && (!best || a->instance < best))
            best = a->instance;
    }
    return best;
}

/* The oracle's copy of a key or value; the test's own strings always fit. */
static void keep(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < size);
    memcpy(dst, src, n + 1);
}

static void add(struct vtab *t, const char *event, int instance, const char *field,
                const char *code, const char *value)
{
    struct added *a = &added[nadded++];
    keep(a->event, sizeof a->event, event);
    keep(a->field, sizeof a->field, field);
    keep(a->code, sizeof a->code, code ? code : "");
    keep(a->value, sizeof a->value, value);
    a->instance = instance;
    assert_int_equal(vtab_add(t, event, instance, field, code, value), 0);
}

/* A record: field k at event e in a pattern that mixes plain values, empty values, repeat
 * instances with gaps (1, 3, 7) and checkbox options, added in an order unlike the sorted one. */
static void fill(struct vtab *t, int seed)
{
    nadded = 0;
    for (int k = NFIELDS - 1; k >= 0; k--) {
        char field[24], value[48];
        snprintf(field, sizeof field, "f%03d", k);
        for (int e = NEVENTS - 1; e >= 0; e--) {
            char event[24];
            snprintf(event, sizeof event, "ev%d_arm_1", e);
            snprintf(value, sizeof value, "v%d-%d-%d", seed, k, e);
            switch ((k + e + seed) % 5) {
            case 0:
                add(t, event, 0, field, NULL, value);
                break;
            case 1:
                add(t, event, 0, field, NULL, ""); /* stored empty: reads as absent */
                break;
            case 2:
                add(t, event, 7, field, NULL, value);
                add(t, event, 1, field, NULL, value);
                add(t, event, 3, field, NULL, "");
                add(t, event, 5, field, NULL, value);
                break;
            case 3:
                add(t, event, 0, field, "2", "1");
                add(t, event, 0, field, "10", "0");
                add(t, event, 0, field, "1", "1");
                break;
            default:
                break; /* nothing at this event */
            }
        }
    }
}

static void check_against_oracle(struct vtab *t)
{
    static const char *codes[] = {NULL, "1", "2", "10", "3"};
    for (int k = -1; k <= NFIELDS; k++) {
        char field[24];
        snprintf(field, sizeof field, "f%03d", k);
        for (int e = -1; e <= NEVENTS; e++) {
            char event[24];
            snprintf(event, sizeof event, "ev%d_arm_1", e);
            for (int inst = 0; inst <= 8; inst++)
                for (size_t c = 0; c < sizeof codes / sizeof *codes; c++) {
                    const char *want = oracle_get(event, inst, field, codes[c]);
                    const char *got = vtab_get(t, event, inst, field, codes[c]);
                    if (!want)
                        assert_null(got);
                    else
                        assert_string_equal(got, want);
                }
            for (int after = -1; after <= 8; after++)
                assert_int_equal(vtab_next_instance(t, event, field, after),
                                 oracle_next(event, field, after));
            assert_int_equal(vtab_next_instance(t, event, field, INT_MAX), 0);
        }
    }
}

static void test_lookups_equal_a_linear_search(void **state)
{
    (void)state;
    struct vtab t;
    vtab_init(&t);
    assert_null(vtab_get(&t, "ev0_arm_1", 0, "f000", NULL)); /* empty, never filled */
    fill(&t, 0);
    check_against_oracle(&t);
    /* a value added after lookups is found (the index is rebuilt) */
    add(&t, "ev9_arm_1", 2, "late", NULL, "x");
    assert_string_equal(vtab_get(&t, "ev9_arm_1", 2, "late", NULL), "x");
    assert_int_equal(vtab_next_instance(&t, "ev9_arm_1", "late", 0), 2);
    check_against_oracle(&t);
    /* the next record: nothing of the last one is found */
    vtab_reset(&t);
    nadded = 0;
    check_against_oracle(&t);
    fill(&t, 1);
    check_against_oracle(&t);
    vtab_free(&t);
}

/* The study's protocol, from the repository. */
static void load_study_dict(struct dict *d)
{
    struct err e = {0};
    if (dict_load(IOHEME_SOURCE_DIR "/protocols/io-heme", d, &e) != 0)
        fail_msg("%s", e.msg);
}

/* With the dictionary named (vtab_set_dict), a value of a known field and event points at the
 * dictionary's own names and carries the field's index; an unknown one is copied (index -1);
 * lookups by the dictionary's names and by copies of them find the same values, before and
 * after vtab_reset (which keeps the dictionary). */
static void test_dictionary_names(void **state)
{
    (void)state;
    struct dict d;
    load_study_dict(&d);
    assert_true(d.nfields > 20 && d.nevents > 1);
    struct vtab t;
    vtab_init(&t);
    vtab_set_dict(&t, &d);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < d.nfields; i += 3) {
            char ev[64], f[64], val[48]; /* copies, as a database row's strings are */
            snprintf(ev, sizeof ev, "%s", d.events[i % d.nevents].name);
            snprintf(f, sizeof f, "%s", d.fields[i].name);
            snprintf(val, sizeof val, "v%zu.%d", i, round);
            assert_int_equal(vtab_add(&t, ev, (int)(i % 3), f, NULL, val), 0);
            const struct vtab_value *x = &t.v[t.n - 1];
            assert_ptr_equal(x->field, d.fields[i].name);
            assert_ptr_equal(x->event, d.events[i % d.nevents].name);
            assert_int_equal(x->field_index, (int)i);
        }
        assert_int_equal(vtab_add(&t, "no_such_event", 0, "no_such_field", NULL, "u"), 0);
        assert_int_equal(t.v[t.n - 1].field_index, -1);
        assert_string_equal(t.v[t.n - 1].field, "no_such_field");
        assert_string_equal(vtab_get(&t, "no_such_event", 0, "no_such_field", NULL), "u");
        for (size_t i = 0; i < d.nfields; i++) {
            char ev[64], f[64], want[48];
            snprintf(ev, sizeof ev, "%s", d.events[i % d.nevents].name);
            snprintf(f, sizeof f, "%s", d.fields[i].name);
            snprintf(want, sizeof want, "v%zu.%d", i, round);
            const char *a =
                vtab_get(&t, d.events[i % d.nevents].name, (int)(i % 3), d.fields[i].name, NULL);
            const char *b = vtab_get(&t, ev, (int)(i % 3), f, NULL);
            if (i % 3 == 0) {
                assert_non_null(a);
                assert_string_equal(a, want);
            } else {
                assert_null(a);
            }
            assert_ptr_equal(a, b);
        }
        vtab_reset(&t);
        assert_ptr_equal(t.dict, &d);
    }
    vtab_free(&t);
    dict_free(&d);
}

/* Sorting by the dictionary (bucket_sort) puts v[] in the order a sort by the names gives:
 * values added in the store's key order, in a shuffled order, with checkbox codes and repeat
 * instances, and (sorted by qsort instead) with a value of a field the dictionary lacks. The
 * oracle is qsort of the keys with strcmp on the names, written here. */
struct key {
    const char *field, *event, *code;
    int instance;
};

static int key_cmp(const void *pa, const void *pb)
{
    const struct key *a = pa, *b = pb;
    int c = strcmp(a->field, b->field);
    if (!c)
        c = strcmp(a->event, b->event);
    if (!c && a->instance != b->instance)
        c = a->instance < b->instance ? -1 : 1;
    if (!c)
        c = strcmp(a->code, b->code);
    return c;
}

/* The store's order: (event, instance, field, code), names in byte order. */
static int store_cmp(const void *pa, const void *pb)
{
    const struct key *a = pa, *b = pb;
    int c = strcmp(a->event, b->event);
    if (!c && a->instance != b->instance)
        c = a->instance < b->instance ? -1 : 1;
    if (!c)
        c = strcmp(a->field, b->field);
    if (!c)
        c = strcmp(a->code, b->code);
    return c;
}

static void test_sort_by_dictionary_equals_sort_by_names(void **state)
{
    (void)state;
    struct dict d;
    load_study_dict(&d);
    static const char *codes[] = {"", "1", "10", "2"};
    enum { MAXK = 4000 };
    static struct key keys[MAXK], want[MAXK];
    size_t n = 0;
    for (size_t i = 0; i < d.nfields && n + 8 < MAXK; i += 2) {
        const char *ev = d.events[(i * 7) % d.nevents].name;
        int inst = (int)(i % 4); /* 0, and repeat instances 1..3 */
        if (i % 5 == 0)          /* checkbox-like: three codes at one instance */
            for (int c = 1; c < 4; c++)
                keys[n++] = (struct key){d.fields[i].name, ev, codes[c], inst};
        else
            keys[n++] = (struct key){d.fields[i].name, ev, "", inst};
        if (i % 3 == 0) /* the same field at a second event, another instance */
            keys[n++] =
                (struct key){d.fields[i].name, d.events[(i + 1) % d.nevents].name, "", inst + 2};
    }
    assert_true(n > 64);
    memcpy(want, keys, n * sizeof *keys);
    qsort(want, n, sizeof *want, key_cmp);
    for (int order = 0; order < 3; order++) {
        if (order == 0)
            qsort(keys, n, sizeof *keys, store_cmp);
        else { /* shuffled (an LCG: the same order every run) */
            unsigned long long x = 12345u + (unsigned)order;
            for (size_t i = n - 1; i > 0; i--) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                size_t j = (size_t)(x >> 33) % (i + 1);
                struct key k = keys[i];
                keys[i] = keys[j];
                keys[j] = k;
            }
        }
        struct vtab t;
        vtab_init(&t);
        vtab_set_dict(&t, &d);
        for (size_t i = 0; i < n; i++) {
            char val[32];
            snprintf(val, sizeof val, "%s/%d", keys[i].code, keys[i].instance);
            assert_int_equal(vtab_add(&t, keys[i].event, keys[i].instance, keys[i].field,
                                      *keys[i].code ? keys[i].code : NULL, val),
                             0);
        }
        if (order == 2) /* a field the dictionary lacks: sorted by qsort, the same order */
            assert_int_equal(vtab_add(&t, want[0].event, 0, "zz_not_in_dict", NULL, "z"), 0);
        assert_true(vtab_sort(&t));
        assert_int_equal(t.n, n + (order == 2));
        for (size_t i = 0; i < n; i++) {
            const struct vtab_value *x = &t.v[i];
            assert_string_equal(x->field, want[i].field);
            assert_string_equal(x->event, want[i].event);
            assert_int_equal(x->instance, want[i].instance);
            assert_string_equal(x->code ? x->code : "", want[i].code);
            char val[32];
            snprintf(val, sizeof val, "%s/%d", want[i].code, want[i].instance);
            assert_string_equal(vtab_get(&t, want[i].event, want[i].instance, want[i].field,
                                         *want[i].code ? want[i].code : NULL),
                                val);
        }
        if (order == 2)
            assert_string_equal(t.v[n].field, "zz_not_in_dict");
        vtab_free(&t);
    }
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups_equal_a_linear_search),
        cmocka_unit_test(test_dictionary_names),
        cmocka_unit_test(test_sort_by_dictionary_equals_sort_by_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
