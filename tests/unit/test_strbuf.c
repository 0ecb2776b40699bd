/* strbuf: growth, HTML escaping, and the CSV cell writer every export uses — RFC 4180 quoting
 * and formula-injection neutralising (OWASP "CSV Injection"), with the expected cells written
 * out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/strbuf.h"

static void expect_csv(const char *in, const char *want)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_add_csv(&sb, in);
    assert_false(sb.failed);
    if (strcmp(strbuf_str(&sb), want) != 0)
        fail_msg("csv cell of [%s]: got [%s], want [%s]", in, strbuf_str(&sb), want);
    strbuf_release(&sb);
}

/* strbuf_add_csv_raw: RFC 4180 quoting only, the cell exactly as stored (hand-written wants) */
static void test_csv_raw_keeps_the_cell(void **state)
{
    (void)state;
    const char *const cases[][2] = {{"", ""},
                                    {"@TODAY", "@TODAY"},
                                    {"=1+1", "=1+1"},
                                    {"-", "-"},
                                    {"a,b", "\"a,b\""},
                                    {"say \"hi\"", "\"say \"\"hi\"\"\""},
                                    {"@HIDDEN, @READONLY", "\"@HIDDEN, @READONLY\""},
                                    {"two\nlines", "\"two\nlines\""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_add_csv_raw(&sb, cases[i][0]);
        assert_false(sb.failed);
        assert_string_equal(strbuf_str(&sb), cases[i][1]);
        strbuf_release(&sb);
    }
}

/* strbuf_add_csv_delim: quoted for its own delimiter, and no longer for a comma */
static void test_csv_delim_quotes_for_its_delimiter(void **state)
{
    (void)state;
    const struct {
        const char *in;
        char delim;
        const char *want;
    } cases[] = {
        {"a,b", '\t', "a,b"},        {"a\tb", '\t', "\"a\tb\""},    {"a;b", ';', "\"a;b\""},
        {"a|b", '|', "\"a|b\""},     {"a^b", '^', "\"a^b\""},       {"a;b", '|', "a;b"},
        {"x\"y", ';', "\"x\"\"y\""}, {"l1\nl2", '^', "\"l1\nl2\""}, {"", ';', ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_add_csv_delim(&sb, cases[i].in, cases[i].delim);
        assert_false(sb.failed);
        assert_string_equal(strbuf_str(&sb), cases[i].want);
        strbuf_release(&sb);
    }
}

static void test_csv_quotes_as_rfc4180(void **state)
{
    (void)state;
    expect_csv("", "");
    expect_csv("plain", "plain");
    expect_csv("a,b", "\"a,b\"");
    expect_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_csv("two\nlines", "\"two\nlines\"");
}

static void test_csv_neutralises_formulas(void **state)
{
    (void)state;
    expect_csv("=1+2", "\"'=1+2\"");
    expect_csv("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    expect_csv("+1+2", "\"'+1+2\"");
    expect_csv("-1+cmd|' /C calc'!A0", "\"'-1+cmd|' /C calc'!A0\"");
    expect_csv("@SUM(A1:A9)", "\"'@SUM(A1:A9)\"");
    expect_csv("\tx", "\"'\tx\"");
    expect_csv("\rx", "\"'\rx\"");
    expect_csv("-", "\"'-\"");
    expect_csv("- see note", "\"'- see note\"");
    /* a formula character later in the cell is harmless */
    expect_csv("a=b", "a=b");
}

static void test_csv_keeps_plain_numbers(void **state)
{
    (void)state;
    expect_csv("-12", "-12");
    expect_csv("-0.5", "-0.5");
    expect_csv("-.5", "-.5");
    expect_csv("-1e-3", "-1e-3");
    expect_csv("-2E+10", "-2E+10");
    expect_csv("3.25", "3.25");
    /* not plain numbers: neutralised */
    expect_csv("-1e", "\"'-1e\"");
    expect_csv("-1.2.3", "\"'-1.2.3\"");
    expect_csv("+5", "\"'+5\"");
}

static void test_html_escapes_the_five(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    strbuf_add_html(&sb, "<a href=\"x\">'&'</a>");
    assert_string_equal(strbuf_str(&sb), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_as_rfc4180),
        cmocka_unit_test(test_csv_raw_keeps_the_cell),
        cmocka_unit_test(test_csv_delim_quotes_for_its_delimiter),
        cmocka_unit_test(test_csv_neutralises_formulas),
        cmocka_unit_test(test_csv_keeps_plain_numbers),
        cmocka_unit_test(test_html_escapes_the_five),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
