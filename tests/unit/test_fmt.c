/* base/fmt: the three checked ways of formatting into a fixed buffer. Expected strings are
 * written out by hand; fmt_exact's abort on a too-small buffer is checked in a child process. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fmt.h"

static void test_text_fits(void **state)
{
    (void)state;
    char buf[16];
    assert_true(fmt_text(buf, sizeof buf, "%s=%d", "n", 42));
    assert_string_equal(buf, "n=42");
    /* exactly size - 1 characters still fit */
    assert_true(fmt_text(buf, sizeof buf, "%s", "123456789012345"));
    assert_string_equal(buf, "123456789012345");
}

static void test_text_cut_shows(void **state)
{
    (void)state;
    char buf[10];
    assert_false(fmt_text(buf, sizeof buf, "%s", "abcdefghijklmnop"));
    assert_string_equal(buf, "abcdef...");
    /* a cut never splits a UTF-8 character: "é" is 2 bytes (C3 A9); 5 a's + é = 7 bytes, the
     * 6 bytes before "..." would end inside é, so the cut backs off to before it */
    assert_false(fmt_text(buf, sizeof buf, "%s", "aaaaa\xC3\xA9zzzz"));
    assert_string_equal(buf, "aaaaa...");
    /* a buffer too small for "..." itself is left empty */
    char tiny[3];
    assert_false(fmt_text(tiny, sizeof tiny, "%s", "abcdef"));
    assert_string_equal(tiny, "");
}

static void test_fits(void **state)
{
    (void)state;
    char buf[8];
    assert_true(fmt_fits(buf, sizeof buf, "%s/%s", "a", "b"));
    assert_string_equal(buf, "a/b");
    assert_false(fmt_fits(buf, sizeof buf, "%s/%s", "dir", "file.csv"));
    assert_string_equal(buf, "");
}

static void test_exact(void **state)
{
    (void)state;
    char buf[24];
    fmt_exact(buf, sizeof buf, "SAVEPOINT sp%d", 12);
    assert_string_equal(buf, "SAVEPOINT sp12");
    /* too small: a bug, so the process aborts (in a child, with its stderr closed) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(2);
        char small[4];
        fmt_exact(small, sizeof small, "%d", 123456);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* Instants as UTC ISO 8601, to the second (the milliseconds cut): values from python's
 * datetime.fromtimestamp(s, timezone.utc). */
static void test_utc_ms(void **state)
{
    (void)state;
    char buf[FMT_UTC_LEN];
    fmt_utc_ms(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    fmt_utc_ms(1796600000999LL, buf);
    assert_string_equal(buf, "2026-12-06T23:33:20Z");
    fmt_utc_ms(-1000, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

/* Whole numbers as a person types them: digits only (a '-' where negatives are allowed),
 * within the bounds; what strtoll alone would take ("+1", " 1", "1 ", "0x1", "1e3", overflow)
 * is refused, and *out untouched. */
static void test_parse_int(void **state)
{
    (void)state;
    long long v = 0;
    assert_true(fmt_parse_int("0", 0, 10, &v));
    assert_true(v == 0);
    assert_true(fmt_parse_int("42", 1, 100, &v));
    assert_true(v == 42);
    assert_true(fmt_parse_int("007", 1, 100, &v));
    assert_true(v == 7);
    assert_true(fmt_parse_int("-5", -10, 10, &v));
    assert_true(v == -5);
    assert_true(fmt_parse_int("9223372036854775807", 1, LLONG_MAX, &v));
    assert_true(v == LLONG_MAX);
    static const char *const bad[] = {"",    "+1", " 1",  "1 ", "0x1",
                                      "1e3", "1.", "--1", "-",  "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 99;
        assert_false(fmt_parse_int(bad[i], -10, LLONG_MAX, &v));
        assert_true(v == 99);
    }
    assert_false(fmt_parse_int(NULL, 0, 10, &v));
    assert_false(fmt_parse_int("-1", 0, 10, &v)); /* no sign where negatives are not allowed */
    assert_false(fmt_parse_int("0", 1, 10, &v));  /* below, above the bounds */
    assert_false(fmt_parse_int("11", 1, 10, &v));
    assert_true(v == 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_fits), cmocka_unit_test(test_text_cut_shows),
        cmocka_unit_test(test_fits),      cmocka_unit_test(test_exact),
        cmocka_unit_test(test_utc_ms),    cmocka_unit_test(test_parse_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
