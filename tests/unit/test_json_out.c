/* Tests for formats/json_out's writer: reals print as the shortest text that reads back as the
 * same double (0.95, not 0.94999999999999996), every real parses back bit for bit, integral
 * reals keep ".0" and exponents are written as jansson writes them, and everything else —
 * strings with escapes, integers, layout under each flag — is byte for byte jansson's. */
/* cmocka needs these first, in this order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json_out.h"

static void assert_real_text(double x, const char *want)
{
    json_t *a = json_pack("[f]", x);
    char *s = json_out_dumps(a, JSON_COMPACT);
    assert_non_null(s);
    char *w = malloc(strlen(want) + 3);
    assert_non_null(w);
    strcpy(w, "[");
    strcat(w, want);
    strcat(w, "]");
    assert_string_equal(s, w);
    free(w);
    free(s);
    json_decref(a);
}

/* Parses text back with jansson and compares the double's bits. */
static void assert_reads_back(double x)
{
    json_t *a = json_pack("[f]", x);
    char *s = json_out_dumps(a, JSON_COMPACT);
    assert_non_null(s);
    json_error_t err;
    json_t *b = json_loads(s, 0, &err);
    if (!b)
        fail_msg("%s does not parse: %s", s, err.text);
    const json_t *v = json_array_get(b, 0);
    if (!json_is_real(v))
        fail_msg("%s reads back as a non-real", s);
    double y = json_real_value(v);
    if (memcmp(&x, &y, sizeof x) != 0)
        fail_msg("%.17g printed as %s reads back as %.17g", x, s, y);
    json_decref(b);
    json_decref(a);
    free(s);
}

static void test_reals_print_shortest_text_that_reads_back(void **state)
{
    (void)state;
    assert_real_text(0.95, "0.95");
    assert_real_text(0.1, "0.1");
    assert_real_text(0.1 + 0.2, "0.30000000000000004"); /* 17 digits are needed here */
    assert_real_text(1.0 / 3.0, "0.3333333333333333");  /* 16 */
    assert_real_text(2.0 / 3.0, "0.6666666666666666");
    assert_real_text(100.0, "100.0"); /* a real stays a real */
    assert_real_text(-0.0, "-0.0");
    assert_real_text(1e20, "1e20"); /* jansson's exponent: no '+', no leading zero */
    assert_real_text(4.5e-7, "4.5e-7");
    assert_real_text(1.7976931348623157e308, "1.7976931348623157e308");
    char buf[JSON_OUT_REAL_MAX];
    assert_int_equal(json_out_shortest(36.6, buf), 4);
    assert_string_equal(buf, "36.6");
    assert_int_equal(json_out_shortest(37.0, buf), 2); /* plain text: no ".0" */
    assert_string_equal(buf, "37");
    assert_int_equal(json_out_shortest(NAN, buf), -1);
    assert_int_equal(json_out_shortest(INFINITY, buf), -1);
}

static void test_every_real_reads_back_bit_identical(void **state)
{
    (void)state;
    static const double fixed[] = {0.95,
                                   0.1 + 0.2,
                                   1.0 / 3.0,
                                   2.2250738585072014e-308,
                                   4.9406564584124654e-324,
                                   9007199254740993.0,
                                   123456789012345678.0,
                                   0.8461538461538461,
                                   0.7191889159367085,
                                   -1e-300};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_reads_back(fixed[i]);
    /* Random bit patterns over the whole range of finite doubles (xorshift, fixed seed). */
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof x);
        if (isfinite(x))
            assert_reads_back(x);
    }
}

/* Without reals, the text is jansson's own, whatever the flags. */
static void test_layout_and_escapes_are_janssons(void **state)
{
    (void)state;
    json_t *doc = json_pack(
        "{s:s, s:I, s:b, s:n, s:[], s:{}, s:[i, s, {s:[i, i]}], s:{s:{s:s}}, s:s}", "name",
        "Ré\"sum\\é\n\t\x01 </script> / ⁹", "big", (json_int_t)9007199254740993LL, "ok", 1, "none",
        "empty_a", "empty_o", "list", 1, "two", "k", 3, 4, "nested", "a", "b", "c", "zeta", "last");
    assert_non_null(doc);
    static const size_t flags[] = {0,
                                   JSON_COMPACT,
                                   JSON_INDENT(2),
                                   JSON_INDENT(1) | JSON_COMPACT,
                                   JSON_INDENT(4) | JSON_SORT_KEYS,
                                   JSON_SORT_KEYS | JSON_COMPACT,
                                   JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH | JSON_INDENT(2),
                                   JSON_INDENT(2) | JSON_PRESERVE_ORDER};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char *want = json_dumps(doc, flags[i]);
        char *got = json_out_dumps(doc, flags[i]);
        assert_non_null(want);
        assert_non_null(got);
        if (strcmp(want, got) != 0)
            fail_msg("flags %zx:\njansson: %s\nours:    %s", flags[i], want, got);
        free(want);
        free(got);
    }
    /* A lone string needs JSON_ENCODE_ANY, as with jansson. */
    json_t *str = json_string("x\"y");
    assert_null(json_out_dumps(str, 0));
    char *s = json_out_dumps(str, JSON_ENCODE_ANY);
    assert_string_equal(s, "\"x\\\"y\"");
    free(s);
    json_decref(str);
    json_decref(doc);
}

/* The same document with reals: only the reals' text differs from jansson's. */
static void test_reals_inside_documents(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:f, s:[f, f, i], s:{s:f}}", "conf_level", 0.95, "ci", 0.1 + 0.2, 3.0,
                            7, "o", "p", 1e-7);
    char *s = json_out_dumps(doc, JSON_INDENT(2));
    assert_string_equal(s, "{\n  \"conf_level\": 0.95,\n  \"ci\": [\n    0.30000000000000004,\n"
                           "    3.0,\n    7\n  ],\n  \"o\": {\n    \"p\": 1e-7\n  }\n}");
    free(s);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reals_print_shortest_text_that_reads_back),
        cmocka_unit_test(test_every_real_reads_back_bit_identical),
        cmocka_unit_test(test_layout_and_escapes_are_janssons),
        cmocka_unit_test(test_reals_inside_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
