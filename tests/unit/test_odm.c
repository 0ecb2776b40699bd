/* The ODM reader on REDCap's own project XML (formats/odm.h: read leniently, though REDCap's
 * file is not XSD-valid ODM): for each corpus case with a project.xml and a flat data.csv —
 * two exports REDCap made of the same project — every value the XML holds equals the flat
 * export's, and every non-blank value of the flat export is in the XML. Fixtures:
 * tests/fixtures/redcap-corpus/ (byte copies of public files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/digest.h"
#include "core/dict.h"
#include "formats/csv.h"
#include "formats/odm.h"
#include "formats/redcap.h"

static const char *corpus(const char *cs, const char *file)
{
    static char path[1024];
    const char *root = getenv("IOHEME_FIXTURES");
    snprintf(path, sizeof path, "%s/redcap-corpus/%s%s%s", root ? root : "tests/fixtures", cs,
             file ? "/" : "", file ? file : "");
    return path;
}

static void on_reject(void *ctx, const char *subject, const char *oid, const char *rule,
                      const char *msg)
{
    (void)ctx;
    fail_msg("subject %s, %s: %s [%s]", subject, oid, msg, rule);
}

static void on_flat_reject(void *ctx, size_t line, const char *record, const char *column,
                           const char *rule, const char *msg)
{
    (void)ctx;
    fail_msg("data.csv row %zu, %s, %s: %s [%s]", line, record, column, msg, rule);
}

/* The value of (record, event, instance, field, code) in the XML's subjects, or NULL. */
static const char *xml_value(const struct odm_subject *s, size_t n, const struct redcap_row *r,
                             const struct store_change *c)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s[i].key, r->record) != 0)
            continue;
        for (size_t j = 0; j < s[i].nsets; j++) {
            const struct odm_change_set *cs = &s[i].sets[j];
            if (strcmp(cs->event, c->event) != 0 || cs->instance != c->instance)
                continue;
            for (size_t k = 0; k < cs->n; k++)
                if (strcmp(cs->changes[k].field, c->field) == 0 &&
                    (cs->changes[k].code == NULL) == (c->code == NULL) &&
                    (!c->code || strcmp(cs->changes[k].code, c->code) == 0))
                    return cs->changes[k].value;
        }
    }
    return NULL;
}

/* The subjects the reader hands on, copied (its own copies last only until the callback
 * returns). */
struct kept {
    struct arena *ar;
    struct odm_subject *subj;
    size_t n, cap;
};

static const char *dup_or_null(struct arena *ar, const char *s)
{
    return s ? arena_strdup(ar, s) : NULL;
}

static int keep_subject(void *ctx, const struct odm_subject *s, struct err *e)
{
    (void)e;
    struct kept *k = ctx;
    struct odm_subject *g = arena_grow(k->ar, k->subj, k->n, &k->cap, sizeof *g, 16);
    assert_non_null(g);
    k->subj = g;
    struct odm_subject *c = &k->subj[k->n++];
    *c = (struct odm_subject){arena_strdup(k->ar, s->key), NULL, s->nsets, s->nsurvey};
    c->sets = arena_calloc(k->ar, s->nsets ? s->nsets : 1, sizeof *c->sets);
    for (size_t i = 0; i < s->nsets; i++) {
        const struct odm_change_set *from = &s->sets[i];
        struct store_change *ch = arena_calloc(k->ar, from->n ? from->n : 1, sizeof *ch);
        for (size_t j = 0; j < from->n; j++)
            ch[j] = (struct store_change){dup_or_null(k->ar, from->changes[j].event),
                                          from->changes[j].instance,
                                          dup_or_null(k->ar, from->changes[j].field),
                                          dup_or_null(k->ar, from->changes[j].code),
                                          dup_or_null(k->ar, from->changes[j].value),
                                          NULL};
        c->sets[i] =
            (struct odm_change_set){arena_strdup(k->ar, from->event), from->instance, ch, from->n};
    }
    return 0;
}

/* Each data.csv row's values against the XML's, as the reader hands the rows on. */
struct flat_vs_xml {
    const char *cs;
    const struct dict *d;
    const struct odm_subject *subj;
    size_t nsubj, nflat;
};

static int compare_row(void *ctx, const struct redcap_row *row, struct err *e)
{
    (void)e;
    struct flat_vs_xml *x = ctx;
    for (size_t j = 0; j < row->n; j++) {
        const struct store_change *c = &row->changes[j];
        const struct dict_field *f = dict_field(x->d, c->field);
        if (!c->value || !c->value[0] || (f && f->type == FT_FILE))
            continue; /* files: ioheme keeps none, the XML has their bytes, data.csv names */
        x->nflat++;
        const char *v = xml_value(x->subj, x->nsubj, row, c);
        if (!v || strcmp(v, c->value) != 0)
            fail_msg("%s: record %s %s:%d %s%s%s: data.csv '%s', project.xml '%s'", x->cs,
                     row->record, c->event, c->instance, c->field, c->code ? "___" : "",
                     c->code ? c->code : "", c->value, v ? v : "(none)");
    }
    return 0;
}

/* repeating: the case's repeating.csv, as its project XML's redcap:RepeatingInstrument list
 * says (the corpus has no such export for projects without events) */
static void check_case(const char *cs, const char *repeating)
{
    struct dict d;
    struct err e = {0};
    char *dic = NULL;
    size_t dlen = 0;
    assert_int_equal(csv_file_read_all(corpus(cs, "dictionary.csv"), &dic, &dlen, &e), 0);
    if (dict_load_mem(dic, NULL, NULL, repeating, &d, &e))
        fail_msg("%s: %s", cs, e.msg);
    free(dic);
    struct arena ar = ARENA_INIT;
    char *xml = NULL, *flat = NULL;
    size_t xlen = 0, flen = 0;
    assert_int_equal(csv_file_read_all(corpus(cs, "project.xml"), &xml, &xlen, &e), 0);
    assert_int_equal(csv_file_read_all(corpus(cs, "data.csv"), &flat, &flen, &e), 0);
    struct kept kept = {&ar, NULL, 0, 0};
    int rc = odm_read(&d, "project.xml", xml, xlen, keep_subject, &kept, on_reject, NULL, &e);
    if (rc)
        fail_msg("%s: %s", cs, e.msg);
    struct odm_subject *subj = kept.subj;
    size_t nsubj = kept.n;
    assert_true(nsubj > 0);
    struct redcap_flat file = {"data.csv", flat, flen, REDCAP_CSV, NULL, false};
    struct flat_vs_xml x = {cs, &d, subj, nsubj, 0};
    assert_int_equal(redcap_flat_each(&d, &file, compare_row, &x, on_flat_reject, NULL, NULL, &e),
                     0);
    size_t nflat = x.nflat, nxml = 0;
    for (size_t i = 0; i < nsubj; i++)
        for (size_t j = 0; j < subj[i].nsets; j++)
            for (size_t k = 0; k < subj[i].sets[j].n; k++)
                nxml += subj[i].sets[j].changes[k].value[0] != '\0';
    /* the XML writes every ticked and unticked checkbox option, data.csv's blanks are none:
     * every flat value is in the XML (above), and the XML holds no fewer */
    assert_true(nflat > 10);
    assert_true(nxml >= nflat);
    free(xml);
    free(flat);
    arena_free(&ar);
    dict_free(&d);
}

static void test_redcap_repeating_instruments(void **state)
{
    (void)state;
    check_case("rr-repeating-instruments", "form_name,custom_form_label\nbp,\n");
}

static void test_redcap_vignette_repeating(void **state)
{
    (void)state;
    check_case("rr-vignette-repeating",
               "form_name,custom_form_label\nblood_pressure,\nlaboratory,\nimage,\n");
}

/* Not XML, or not ODM: an error naming the file; nothing read. */
static void test_not_odm(void **state)
{
    (void)state;
    struct dict d;
    struct err e = {0};
    assert_int_equal(dict_load(corpus("rr-repeating-instruments", NULL), &d, &e), 0);
    struct arena ar = ARENA_INIT;
    struct kept k = {&ar, NULL, 0, 0};
    const char junk[] = "<ODM><ClinicalData><SubjectData SubjectKey='1'>";
    assert_int_equal(odm_read(&d, "junk.xml", junk, strlen(junk), keep_subject, &k, NULL, NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "junk.xml"));
    const char other[] = "<html><body/></html>";
    assert_int_equal(
        odm_read(&d, "page.xml", other, strlen(other), keep_subject, &k, NULL, NULL, &e),
        ERR_INVALID);
    assert_non_null(strstr(e.msg, "not <ODM>"));
    assert_int_equal(k.n, 0);
    arena_free(&ar);
    dict_free(&d);
}

/* Stops at the second subject it is handed. */
static int stop_at_second(void *ctx, const struct odm_subject *s, struct err *e)
{
    size_t *n = ctx;
    if (++*n < 2)
        return 0;
    return err_set(e, ERR_CONFLICT, "stopped at %s", s->key);
}

/* Subjects are handed on one by one as each SubjectData ends, in document order; a callback's
 * error stops the reading there and is odm_read's. */
static void test_subjects_handed_on_in_order(void **state)
{
    (void)state;
    struct dict d;
    struct err e = {0};
    assert_int_equal(dict_load(corpus("rr-repeating-instruments", NULL), &d, &e), 0);
    const char xml[] = "<ODM><ClinicalData>"
                       "<SubjectData SubjectKey='a'/><SubjectData SubjectKey='b'/>"
                       "<SubjectData SubjectKey='c'/></ClinicalData></ODM>";
    struct arena ar = ARENA_INIT;
    struct kept k = {&ar, NULL, 0, 0};
    assert_int_equal(odm_read(&d, "x.xml", xml, strlen(xml), keep_subject, &k, NULL, NULL, &e), 0);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.subj[0].key, "a");
    assert_string_equal(k.subj[2].key, "c");
    size_t n = 0;
    assert_int_equal(odm_read(&d, "x.xml", xml, strlen(xml), stop_at_second, &n, NULL, NULL, &e),
                     ERR_CONFLICT);
    assert_int_equal(n, 2);
    assert_string_equal(e.msg, "stopped at b");
    arena_free(&ar);
    dict_free(&d);
}

/* A file read as it is parsed: the same subjects as from memory, and the SHA-256 of the whole
 * file — also when the parse stops early (not well-formed, a callback's error). */
static void test_read_file_hashes_all_of_it(void **state)
{
    (void)state;
    struct dict d;
    struct err e = {0};
    assert_int_equal(dict_load(corpus("rr-repeating-instruments", NULL), &d, &e), 0);
    char *xml = NULL;
    size_t xlen = 0;
    const char *path = corpus("rr-repeating-instruments", "project.xml");
    assert_int_equal(csv_file_read_all(path, &xml, &xlen, &e), 0);
    char want[65], sha[65];
    digest_sha256_hex(xml, xlen, want);
    struct arena ar = ARENA_INIT;
    struct kept mem = {&ar, NULL, 0, 0}, file = {&ar, NULL, 0, 0};
    assert_int_equal(odm_read(&d, path, xml, xlen, keep_subject, &mem, NULL, NULL, &e), 0);
    assert_int_equal(odm_read_file(&d, path, sha, keep_subject, &file, NULL, NULL, &e), 0);
    assert_string_equal(sha, want);
    assert_int_equal(file.n, mem.n);
    assert_true(mem.n > 1);
    for (size_t i = 0; i < mem.n; i++) {
        assert_string_equal(file.subj[i].key, mem.subj[i].key);
        assert_int_equal(file.subj[i].nsets, mem.subj[i].nsets);
    }
    size_t n = 0;
    assert_int_equal(odm_read_file(&d, path, sha, stop_at_second, &n, NULL, NULL, &e),
                     ERR_CONFLICT);
    assert_string_equal(sha, want);
    /* cut short: not well-formed, and still the whole file's digest */
    char tmp[] = "/tmp/test_odm_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(xml, 1, xlen / 2, f), xlen / 2);
    assert_int_equal(fclose(f), 0);
    digest_sha256_hex(xml, xlen / 2, want);
    assert_int_equal(odm_read_file(&d, tmp, sha, keep_subject, &file, NULL, NULL, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "not well-formed"));
    assert_string_equal(sha, want);
    assert_int_equal(unlink(tmp), 0);
    assert_int_equal(odm_read_file(&d, tmp, sha, keep_subject, &file, NULL, NULL, &e), ERR_IO);
    assert_non_null(strstr(e.msg, tmp));
    free(xml);
    arena_free(&ar);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redcap_repeating_instruments),
        cmocka_unit_test(test_redcap_vignette_repeating),
        cmocka_unit_test(test_not_odm),
        cmocka_unit_test(test_subjects_handed_on_in_order),
        cmocka_unit_test(test_read_file_hashes_all_of_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
