/* base/utf8: what counts as UTF-8 (RFC 3629) and as text XML can carry, and how text that is not
 * reads (utf8_text, utf8_xml_text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/utf8.h"

static void test_valid_and_not(void **state)
{
    (void)state;
    assert_true(utf8_is_valid(""));
    assert_true(utf8_is_valid("plain ASCII"));
    assert_true(utf8_is_valid("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80")); /* ü € 😀 */
    assert_false(utf8_is_valid("caf\xe9"));                                    /* Windows-1252 é */
    assert_false(utf8_is_valid("\x80"));             /* a continuation byte alone */
    assert_false(utf8_is_valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(utf8_is_valid("\xed\xa0\x80"));     /* a surrogate, U+D800 */
    assert_false(utf8_is_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
    assert_false(utf8_is_valid("\xe2\x82"));         /* cut short at the end */
}

static void test_text_replaces_each_bad_byte(void **state)
{
    (void)state;
    char *tmp;
    const char *ok = "J\xc3\xbcrgen";
    assert_ptr_equal(utf8_text(ok, &tmp), ok); /* valid text is itself, no copy */
    assert_null(tmp);
    assert_null(utf8_text(NULL, &tmp));
    /* Windows-1252 "café" and a sequence cut short: each byte that starts no valid sequence
     * becomes U+FFFD (EF BF BD); what is valid around it stays */
    assert_string_equal(utf8_text("caf\xe9!", &tmp), "caf\xef\xbf\xbd!");
    free(tmp);
    assert_string_equal(utf8_text("\xe2\x82 \xe2\x82\xac", &tmp),
                        "\xef\xbf\xbd\xef\xbf\xbd \xe2\x82\xac");
    assert_true(utf8_is_valid(tmp));
    free(tmp);
    assert_string_equal(utf8_text("\xff\xff", &tmp), "\xef\xbf\xbd\xef\xbf\xbd");
    free(tmp);
}

/* Text XML 1.0 (and so every export) can carry: a control character but tab, LF and CR, or
 * U+FFFE / U+FFFF, is named by its code point; utf8_xml_text writes each as U+FFFD. */
static void test_text_xml_can_carry(void **state)
{
    (void)state;
    assert_int_equal(utf8_not_text("tab\tLF\nCR\r, J\xc3\xbcrgen \xf0\x9f\x98\x80 \x7f"), -1);
    assert_int_equal(utf8_not_text("caf\xe9"), -2);
    assert_int_equal(utf8_not_text("line\x0b"
                                   "break"),
                     0x0B); /* Word's manual line break */
    assert_int_equal(utf8_not_text("a\x01"), 0x01);
    assert_int_equal(utf8_not_text("\x1f"), 0x1F);
    assert_int_equal(utf8_not_text("x\xef\xbf\xbe"), 0xFFFE);
    assert_int_equal(utf8_not_text("\xef\xbf\xbf"), 0xFFFF);
    char *tmp;
    const char *ok = "a\tb\r\nc";
    assert_ptr_equal(utf8_xml_text(ok, &tmp), ok);
    assert_null(tmp);
    assert_string_equal(utf8_xml_text("nor\x0b"
                                      "adr\xff\xef\xbf\xbe!",
                                      &tmp),
                        "nor\xef\xbf\xbd"
                        "adr\xef\xbf\xbd\xef\xbf\xbd!");
    assert_int_equal(utf8_not_text(tmp), -1);
    free(tmp);
    /* utf8_text (JSON's) keeps a control character: JSON writes it as \u000b */
    const char *vt = "a\x0b";
    assert_ptr_equal(utf8_text(vt, &tmp), vt);
    assert_null(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_not),
        cmocka_unit_test(test_text_replaces_each_bad_byte),
        cmocka_unit_test(test_text_xml_can_carry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
