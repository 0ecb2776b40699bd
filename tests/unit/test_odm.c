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
    struct odm_subject *subj = NULL;
    size_t nsubj = 0;
    int rc = odm_read(&d, "project.xml", xml, xlen, &ar, &subj, &nsubj, on_reject, NULL, &e);
    if (rc)
        fail_msg("%s: %s", cs, e.msg);
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
    struct odm_subject *s = NULL;
    size_t n = 0;
    const char junk[] = "<ODM><ClinicalData><SubjectData SubjectKey='1'>";
    assert_int_equal(odm_read(&d, "junk.xml", junk, strlen(junk), &ar, &s, &n, NULL, NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "junk.xml"));
    const char other[] = "<html><body/></html>";
    assert_int_equal(odm_read(&d, "page.xml", other, strlen(other), &ar, &s, &n, NULL, NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "not <ODM>"));
    arena_free(&ar);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redcap_repeating_instruments),
        cmocka_unit_test(test_redcap_vignette_repeating),
        cmocka_unit_test(test_not_odm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
