/* The REDCap logic language: every construct, blanks, number-vs-text comparison, datediff
 * against hand-counted calendars, rounding, errors with their columns, references, and the
 * JavaScript emitter's shape. Expected values are worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/expr.h"
#include "core/sitetime.h"

/* 2024-03-01 12:00:00 UTC: 19783 days since 1970-01-01 (54 years = 19723 days incl. 13 leap
 * days, + Jan 31 + Feb 29 = 19783), + 12 h. */
#define NOW_MS ((19783LL * 86400 + 12 * 3600) * 1000)

struct kv {
    const char *key; /* "field", "event/field" or "field(code)" */
    const char *value;
};

struct env {
    const struct kv *kv;
    int fail_on_unknown; /* return ERR_NOT_FOUND for fields not in kv */
};

/* The key of a reference: "event/field(code)#instance", each part only when given; the
 * instance as a number or its qualifier's word ("#last-instance"). */
static int lookup(void *ctx, const char *event, const char *field, const char *code, int instance,
                  struct expr_value *out, struct err *e)
{
    const struct env *env = ctx;
    char key[256], inst[40] = "";
    if (instance > 0)
        snprintf(inst, sizeof inst, "#%d", instance);
    else if (instance < 0)
        snprintf(inst, sizeof inst, "#%s", expr_instance_name(instance));
    snprintf(key, sizeof key, "%s%s%s%s%s%s%s", event ? event : "", event ? "/" : "", field,
             code ? "(" : "", code ? code : "", code ? ")" : "", inst);
    for (const struct kv *k = env->kv; k && k->key; k++)
        if (strcmp(k->key, key) == 0) {
            out->kind = EV_STR;
            out->str = k->value;
            return 0;
        }
    if (env->fail_on_unknown)
        return err_set(e, ERR_NOT_FOUND, "no field %s", key);
    out->kind = code ? EV_STR : EV_BLANK;
    out->str = code ? "0" : NULL;
    return 0;
}

/* Evaluates src with kv and returns the value as REDCap would store it, "(blank)" for blank. */
static const char *eval_kv(const char *src, const struct kv *kv)
{
    static char result[1100];
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    size_t col;
    err_clear(&e);
    int rc = expr_parse(src, &ar, &x, &col, &e);
    if (rc) {
        snprintf(result, sizeof result, "parse error: %s", e.msg);
        arena_free(&ar);
        return result;
    }
    struct env env = {kv, 0};
    struct expr_value v;
    rc = expr_eval(x, lookup, &env, NOW_MS, &ar, &v, &e);
    assert_int_equal(rc, 0);
    struct strbuf sb = STRBUF_INIT;
    expr_value_format(&v, &sb);
    snprintf(result, sizeof result, "%s", v.kind == EV_BLANK ? "(blank)" : strbuf_str(&sb));
    strbuf_release(&sb);
    arena_free(&ar);
    return result;
}

static const char *eval0(const char *src)
{
    return eval_kv(src, NULL);
}

#define KV(...) ((const struct kv[]){__VA_ARGS__, {NULL, NULL}})

static void test_arithmetic_and_precedence(void **state)
{
    (void)state;
    assert_string_equal(eval0("1 + 2 * 3"), "7");
    assert_string_equal(eval0("(1 + 2) * 3"), "9");
    assert_string_equal(eval0("10 - 4 - 3"), "3"); /* left-assoc: (10-4)-3 */
    assert_string_equal(eval0("24 / 4 / 2"), "3");
    assert_string_equal(eval0("2 ^ 3 ^ 2"), "512"); /* right-assoc: 2^9 */
    assert_string_equal(eval0("-2 ^ 2"), "-4");     /* -(2^2) */
    assert_string_equal(eval0("2 ^ -1"), "0.5");
    assert_string_equal(eval0("--3"), "3");
    assert_string_equal(eval0("+4"), "4");
    assert_string_equal(eval0(".5 + 1.25"), "1.75");
    assert_string_equal(eval0("1e3 + 1"), "1001");
    assert_string_equal(eval0("0.1 + 0.2"), "0.3"); /* 15 significant digits */
    assert_string_equal(eval0("1 / 3"), "0.333333333333333");
    assert_string_equal(eval0("7 / 2"), "3.5");
    assert_string_equal(eval0("10 ^ 20"), "1e+20");
}

static void test_division_by_zero_and_sqrt_negative_are_blank(void **state)
{
    (void)state;
    assert_string_equal(eval0("1 / 0"), "(blank)");
    assert_string_equal(eval0("sqrt(-4)"), "(blank)");
    assert_string_equal(eval0("sqrt(2.25)"), "1.5");
}

static void test_blank_arithmetic_gives_blank(void **state)
{
    (void)state;
    assert_string_equal(eval0("[a] + 1"), "(blank)");
    assert_string_equal(eval0("-[a]"), "(blank)");
    assert_string_equal(eval_kv("[a] * 2", KV({"a", "abc"})), "(blank)"); /* text */
    assert_string_equal(eval_kv("[a] * 2", KV({"a", " 2.5 "})), "5");     /* spaces ok */
    assert_string_equal(eval_kv("[a] + [b]", KV({"a", "1"}, {"b", ""})), "(blank)");
}

static void test_equality_numeric_versus_text(void **state)
{
    (void)state;
    assert_string_equal(eval_kv("[a] = 1", KV({"a", "1.0"})), "1");  /* numbers */
    assert_string_equal(eval_kv("[a] = '1'", KV({"a", "01"})), "1"); /* numeric strings */
    assert_string_equal(eval_kv("[a] = 'abc'", KV({"a", "abc"})), "1");
    assert_string_equal(eval_kv("[a] = 'abc'", KV({"a", "ABC"})), "0"); /* case matters */
    assert_string_equal(eval_kv("[a] = '1a'", KV({"a", "1"})), "0");    /* text compare */
    assert_string_equal(eval0("'10' < '9'"), "0");                      /* 10 < 9 numerically */
    assert_string_equal(eval0("'b' > 'a'"), "1");                       /* text order */
    assert_string_equal(eval0("'abc' < 'abd'"), "1");
    assert_string_equal(eval_kv("[a] <> 2", KV({"a", "2"})), "0");
    assert_string_equal(eval_kv("[a] != 2", KV({"a", "3"})), "1");
    assert_string_equal(eval_kv("[a] == 2", KV({"a", "2"})), "1");
}

static void test_comparisons_with_blank(void **state)
{
    (void)state;
    assert_string_equal(eval0("[a] = ''"), "1");
    assert_string_equal(eval0("[a] = \"\""), "1");
    assert_string_equal(eval0("[a] <> ''"), "0");
    assert_string_equal(eval0("[a] = 0"), "0"); /* blank is not zero */
    assert_string_equal(eval0("[a] <> 0"), "1");
    assert_string_equal(eval0("[a] = [b]"), "1"); /* blank equals blank */
    assert_string_equal(eval0("[a] < 5"), "0");
    assert_string_equal(eval0("[a] <= 5"), "0");
    assert_string_equal(eval0("[a] > 5"), "0");
    assert_string_equal(eval0("[a] >= 5"), "0");
    assert_string_equal(eval_kv("[a] >= 5", KV({"a", "5"})), "1");
    assert_string_equal(eval_kv("[a] = ''", KV({"a", "0"})), "0");
}

static void test_logic_operators(void **state)
{
    (void)state;
    const struct kv *v = KV({"x", "1"}, {"y", "2"});
    assert_string_equal(eval_kv("[x] = 1 and [y] = 2", v), "1");
    assert_string_equal(eval_kv("[x] = 1 AND [y] = 3", v), "0");
    assert_string_equal(eval_kv("[x] = 2 Or [y] = 2", v), "1");
    assert_string_equal(eval_kv("[x] = 2 OR [y] = 3", v), "0");
    assert_string_equal(eval_kv("[x] = 1 && [y] = 2", v), "1");
    assert_string_equal(eval_kv("[x] = 2 || [y] = 2", v), "1");
    assert_string_equal(eval_kv("not [x] = 1", v), "0"); /* not binds looser than = */
    assert_string_equal(eval_kv("not([x] = 2)", v), "1");
    assert_string_equal(eval_kv("![x]", v), "0");
    /* and binds tighter than or: 1 or (0 and 0) = 1 */
    assert_string_equal(eval_kv("[x] = 1 or [y] = 3 and [y] = 4", v), "1");
    assert_string_equal(eval_kv("([x] = 1 or [y] = 3) and [y] = 4", v), "0");
    /* blank is false; not blank is true */
    assert_string_equal(eval0("[a] or 0"), "0");
    assert_string_equal(eval0("not [a]"), "1");
    assert_string_equal(eval_kv("[a] and 1", KV({"a", "text"})), "0");
}

static void test_if_and_functions(void **state)
{
    (void)state;
    assert_string_equal(eval_kv("if([x] > 1, 'big', 'small')", KV({"x", "2"})), "big");
    assert_string_equal(eval0("if([x] > 1, 'big', 'small')"), "small");
    assert_string_equal(eval0("if([a] = '', 5, 6) * 2"), "10");
    assert_string_equal(eval0("abs(-3.5)"), "3.5");
    assert_string_equal(eval0("min(3, [a], 1, 2)"), "1");
    assert_string_equal(eval0("max(3, [a], 1, 2)"), "3");
    assert_string_equal(eval0("sum(1, 2, [a], 4)"), "7");
    assert_string_equal(eval0("mean(1, 2, [a], 6)"), "3");   /* (1+2+6)/3 */
    assert_string_equal(eval0("median(5, 1, 3, 2)"), "2.5"); /* (2+3)/2 */
    assert_string_equal(eval0("median(5, 1, 3)"), "3");
    /* sample sd of 2,4,4,4,5,5,7,9: mean 5, squares sum 32, sqrt(32/7) */
    assert_string_equal(eval0("stdev(2, 4, 4, 4, 5, 5, 7, 9)"), "2.1380899352994");
    assert_string_equal(eval0("stdev(4)"), "(blank)");
    assert_string_equal(eval0("log(8, 2)"), "3");
    assert_string_equal(eval0("isinteger(\"-3\") + isinteger(\"2.5\")"), "1");
    assert_string_equal(eval0("concat(\"a\", 1, \"b\")"), "a1b");
    assert_string_equal(eval0("contains(\"Bone marrow\", \"MARROW\")"), "1");
    assert_string_equal(eval0("starts_with(\"Bone\", \"one\")"), "0");
    assert_string_equal(eval0("ends_with(\"Bone\", \"NE\")"), "1");
    assert_string_equal(eval0("year(\"2024-02-29\") * 100 + month(\"2024-02-29\")"), "202402");
    /* a line starting with # is a comment; a # elsewhere is not */
    assert_string_equal(eval0("# the sum\n  # of two\n1 +\n# one more\n 2"), "3");
    assert_string_equal(eval0("\"#a\" = \"#a\""), "1");
    assert_string_equal(eval0("sum([a], [b])"), "(blank)");
    assert_string_equal(eval0("isnumber('12.5')"), "1");
    assert_string_equal(eval0("isnumber('-3')"), "1");
    assert_string_equal(eval0("isnumber('12a')"), "0");
    assert_string_equal(eval0("isnumber([a])"), "0");
    assert_string_equal(eval0("isblankormissingcode([a])"), "1");
    assert_string_equal(eval_kv("isblankormissingcode([a])", KV({"a", "0"})), "0");
    assert_string_equal(eval0("IF(1, 'y', 'n')"), "y"); /* names are case-insensitive */
}

static void test_rounding(void **state)
{
    (void)state;
    assert_string_equal(eval0("round(2.5)"), "3");
    assert_string_equal(eval0("round(-2.5)"), "-3"); /* half away from zero */
    assert_string_equal(eval0("round(2.4)"), "2");
    assert_string_equal(eval0("round(1234.5678, 2)"), "1234.57");
    assert_string_equal(eval0("round(1.005, 2)"), "1.01"); /* 100.49999999999999 pre-cut */
    assert_string_equal(eval0("round(1250, -2)"), "1300");
    assert_string_equal(eval0("rounddown(2.99)"), "2");
    assert_string_equal(eval0("rounddown(-2.1)"), "-3");      /* floor */
    assert_string_equal(eval0("rounddown(0.29, 2)"), "0.29"); /* 28.999999999999996 */
    assert_string_equal(eval0("roundup(2.01)"), "3");
    assert_string_equal(eval0("roundup(0.121, 2)"), "0.13");
    assert_string_equal(eval0("roundup(-2.9)"), "-2");
    assert_string_equal(eval0("round([a], 1)"), "(blank)");
}

static void test_datediff_hand_counted(void **state)
{
    (void)state;
    /* Jan (31) + Feb 2024 (29, leap) = 60 days */
    assert_string_equal(eval0("datediff('2024-01-01', '2024-03-01', 'd')"), "60");
    assert_string_equal(eval0("datediff('2024-03-01', '2024-01-01', 'd')"), "60");
    assert_string_equal(eval0("datediff('2024-03-01', '2024-01-01', 'd', true)"), "-60");
    assert_string_equal(eval0("datediff('2024-03-01', '2024-01-01', 'd', 'ymd', true)"), "-60");
    assert_string_equal(eval0("datediff('2024-01-01', '2024-03-01', 'd', 'ymd', false)"), "60");
    /* 2023 is not a leap year: Feb 28 -> Mar 1 is one day */
    assert_string_equal(eval0("datediff('2023-02-28', '2023-03-01', 'd')"), "1");
    /* 1900 is not a leap year, 2000 is */
    assert_string_equal(eval0("datediff('1900-02-28', '1900-03-01', 'd')"), "1");
    assert_string_equal(eval0("datediff('2000-02-28', '2000-03-01', 'd')"), "2");
    /* 2000-01-01 .. 2024-01-01: 24*365 + 6 leap days (2000,04,08,12,16,20) = 8766 days;
     * 8766 / 365.2425 = 24.000493 */
    assert_string_equal(eval0("rounddown(datediff('2000-01-01', '2024-01-01', 'y'))"), "24");
    assert_string_equal(eval0("round(datediff('2000-01-01', '2024-01-01', 'y'), 4)"), "24.0005");
    /* age the day before the 34th birthday: 1990-05-02 .. 2024-05-01 = 12418 days
     * (34 years = 12419 days incl. 9 leap days, minus one); 12418/365.2425 = 33.9993 */
    assert_string_equal(
        eval_kv("rounddown(datediff([dob], '2024-05-01', 'y'))", KV({"dob", "1990-05-02"})), "33");
    /* 60 days / 30.44 = 1.971090 months */
    assert_string_equal(eval0("round(datediff('2024-01-01', '2024-03-01', 'M'), 3)"), "1.971");
    assert_string_equal(eval0("datediff('2024-03-01 06:00', '2024-03-01 18:30', 'h')"), "12.5");
    assert_string_equal(eval0("datediff('2024-03-01 06:00', '2024-03-01 06:01:30', 's')"), "90");
    assert_string_equal(eval0("datediff('2024-03-01 06:00', '2024-03-01 06:01:30', 'm')"), "1.5");
    assert_string_equal(eval0("datediff('2024-02-29 23:00', '2024-03-01 01:00', 'h')"), "2");
    assert_string_equal(eval0("datediff('01-31-2024', '03-01-2024', 'd', 'mdy')"), "30");
    assert_string_equal(eval0("datediff('31-01-2024', '01-03-2024', 'd', 'dmy')"), "30");
    /* NOW_MS is 2024-03-01 12:00 UTC; 'today' and 'now' are the site's wall clock */
    assert_int_equal(sitetime_use("UTC", NULL), 0); /* whatever the machine's zone */
    assert_string_equal(eval0("datediff('2024-02-01', 'today', 'd')"), "29");
    assert_string_equal(eval0("datediff('2024-03-01', 'now', 'h')"), "12");
    /* at that instant it is already 2024-03-02 02:00 at a site on UTC+14, and 2024-03-01 01:00
     * at one on UTC-11 */
    assert_int_equal(sitetime_use("Pacific/Kiritimati", NULL), 0);
    assert_string_equal(eval0("datediff('2024-02-01', 'today', 'd')"), "30");
    assert_string_equal(eval0("datediff('2024-03-02', 'now', 'h')"), "2");
    assert_int_equal(sitetime_use("Pacific/Pago_Pago", NULL), 0);
    assert_string_equal(eval0("datediff('2024-02-01', 'today', 'd')"), "29");
    assert_string_equal(eval0("datediff('2024-03-01', 'now', 'h')"), "1");
    assert_int_equal(sitetime_use("UTC", NULL), 0);
    assert_string_equal(eval0("datediff([a], '2024-01-01', 'd')"), "(blank)");
    assert_string_equal(eval0("datediff('2024-02-30', '2024-03-01', 'd')"), "(blank)");
    assert_string_equal(eval0("datediff('2024-13-01', '2024-03-01', 'd')"), "(blank)");
    assert_string_equal(eval0("datediff('yesterday', '2024-03-01', 'd')"), "(blank)");
}

static void test_checkbox_and_event_references(void **state)
{
    (void)state;
    const struct kv *v = KV({"dx(2)", "1"}, {"screening_arm_1/w", "81.5"}, {"w", "60"});
    assert_string_equal(eval_kv("[dx(2)] = '1'", v), "1");
    assert_string_equal(eval_kv("[dx(3)] = '1'", v), "0"); /* unticked option is "0" */
    assert_string_equal(eval_kv("[screening_arm_1][w] > 80", v), "1");
    assert_string_equal(eval_kv("[w] > 80", v), "0");
    assert_string_equal(eval_kv("[screening_arm_1][w] - [w]", v), "21.5");
}

static void test_lookup_errors_propagate(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    err_clear(&e);
    assert_int_equal(expr_parse("[nope] + 1", &ar, &x, NULL, &e), 0);
    struct env env = {NULL, 1};
    struct expr_value v;
    assert_int_equal(expr_eval(x, lookup, &env, NOW_MS, &ar, &v, &e), ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no field nope");
    assert_int_equal(v.kind, EV_BLANK);
    arena_free(&ar);
}

/* Parses src, expecting failure at col with a message containing what. */
static void parse_fails(const char *src, size_t col, const char *what)
{
    struct arena ar = ARENA_INIT;
    struct expr *x = (struct expr *)1;
    struct err e;
    size_t at = 0;
    err_clear(&e);
    assert_int_equal(expr_parse(src, &ar, &x, &at, &e), ERR_INVALID);
    assert_null(x);
    if (at != col || !strstr(e.msg, what))
        fail_msg("'%s': got column %zu '%s', want column %zu '%s'", src, at, e.msg, col, what);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "column %zu: ", col);
    assert_memory_equal(e.msg, prefix, strlen(prefix));
    arena_free(&ar);
}

static void test_parse_errors_carry_columns(void **state)
{
    (void)state;
    parse_fails("", 1, "empty expression");
    parse_fails("[age] >", 8, "unexpected end");
    parse_fails("[age] > 18 and", 15, "unexpected end");
    parse_fails("[age", 1, "unterminated field reference");
    parse_fails("[Age] = 1", 2, "invalid character 'A'");
    parse_fails("[age] = 'x", 9, "unterminated string");
    parse_fails("(1 + 2", 7, "missing ')' for the '(' at column 1");
    parse_fails("1 + 2)", 6, "unmatched ')'");
    parse_fails("[a] [b]", 5, "missing operator");
    parse_fails("foo(1)", 1, "unknown function 'foo'");
    parse_fails("age > 18", 1, "unexpected word 'age'");
    parse_fails("round()", 1, "round takes 1 to 2 arguments, got 0");
    parse_fails("if(1, 2)", 1, "if takes 3 arguments, got 2");
    parse_fails("datediff([a], [b], 'w')", 20, "datediff unit 'w'");
    parse_fails("datediff([a], [b], 'd', 'xyz')", 25, "datediff format 'xyz'");
    parse_fails("1 # 2", 3, "unexpected character '#'");
    parse_fails("[dx(1] = 1", 6, "expected a checkbox code");
    parse_fails("[e][f][g]", 7, "a bracket after a field reference that is not an instance");
    parse_fails("[f][0]", 5, "instance [0] is not a whole number from 1 to 1000000");
    parse_fails("[f][1000001]", 5, "is not a whole number from 1 to 1000000");
    parse_fails("[f][2][3]", 7, "not an instance");
    parse_fails("[f][last-instances]", 4, "not a field name");
    parse_fails("[event-name][2]", 1,
                "smart variable [event-name] takes no code, event or instance");
    parse_fails("12abc", 3, "after a number");
}

static void test_deep_nesting_is_refused(void **state)
{
    (void)state;
    char src[2100];
    memset(src, '(', 1000);
    src[1000] = '1';
    memset(src + 1001, ')', 1000);
    src[2001] = '\0';
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    size_t at;
    assert_int_equal(expr_parse(src, &ar, &x, &at, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "nested too deeply"));
    /* a long flat chain is as deep as it is long */
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 300; i++)
        strbuf_adds(&sb, "1+");
    strbuf_adds(&sb, "1");
    assert_int_equal(expr_parse(strbuf_str(&sb), &ar, &x, &at, &e), ERR_INVALID);
    strbuf_release(&sb);
    arena_free(&ar);
}

struct refs {
    char seen[512];
};

static int collect_ref(void *ctx, const char *event, const char *field, const char *code,
                       size_t pos)
{
    struct refs *r = ctx;
    size_t n = strlen(r->seen);
    snprintf(r->seen + n, sizeof r->seen - n, "%s%s@%zu:%s%s%s;", event ? event : "",
             event ? "/" : "", pos, field, code ? "/" : "", code ? code : "");
    return 0;
}

static void test_foreach_ref_in_source_order_with_columns(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    /*          1234567890123456789012345678901234 */
    const char *src = "[a] + if([ev][b] = 1, [c(2)], 0)";
    assert_int_equal(expr_parse(src, &ar, &x, NULL, &e), 0);
    struct refs r = {""};
    assert_int_equal(expr_foreach_ref(x, collect_ref, &r), 0);
    assert_string_equal(r.seen, "@1:a;ev/@10:b;@23:c/2;");
    arena_free(&ar);
}

static void test_truthy_and_format(void **state)
{
    (void)state;
    struct expr_value v = {EV_NUM, 0.5, NULL};
    assert_true(expr_truthy(&v));
    v.num = 0;
    assert_false(expr_truthy(&v));
    struct expr_value s = {EV_STR, 0, "2"};
    assert_true(expr_truthy(&s));
    s.str = "0.0";
    assert_false(expr_truthy(&s));
    s.str = "yes";
    assert_false(expr_truthy(&s));
    struct expr_value b = {EV_BLANK, 0, NULL};
    assert_false(expr_truthy(&b));
    struct strbuf sb = STRBUF_INIT;
    struct expr_value n = {EV_NUM, 12.0, NULL};
    expr_value_format(&n, &sb);
    assert_string_equal(strbuf_str(&sb), "12");
    strbuf_reset(&sb);
    n.num = -0.0;
    expr_value_format(&n, &sb);
    assert_string_equal(strbuf_str(&sb), "0");
    strbuf_reset(&sb);
    expr_value_format(&b, &sb);
    assert_string_equal(strbuf_str(&sb), "");
    strbuf_release(&sb);
}

/* REDCap's instance qualifiers reach the lookup with the reference ([field][2],
 * [ev][field][last-instance], a checkbox option at an instance) and the JavaScript emitter. */
static void test_instance_references(void **state)
{
    (void)state;
    const struct kv kv[] = {{"att_time#2", "40"},
                            {"att_time#last-instance", "95"},
                            {"att_time#first-instance", "30"},
                            {"day0/att_time#3", "70"},
                            {"dx(1)#2", "1"},
                            {"att_time", "30"},
                            {NULL, NULL}};
    assert_string_equal(eval_kv("[att_time][2] + 1", kv), "41");
    assert_string_equal(eval_kv("[att_time][last-instance] - [att_time][first-instance]", kv),
                        "65");
    assert_string_equal(eval_kv("[day0][att_time][3]", kv), "70");
    assert_string_equal(eval_kv("[dx(1)][2] = 1 and [dx(1)] = 0", kv), "1");
    assert_string_equal(eval_kv("[att_time][previous-instance]", kv), "(blank)");
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(
        expr_parse("[a][2] + [ev][b][last-instance] + [c][current-instance]", &ar, &x, NULL, &e),
        0);
    assert_int_equal(expr_to_js(x, &sb, &e), 0);
    assert_string_equal(strbuf_str(&sb), "L.add(L.add(L.v(null,\"a\",null,2),"
                                         "L.v(\"ev\",\"b\",null,\"last-instance\")),"
                                         "L.v(null,\"c\",null,\"current-instance\"))");
    strbuf_release(&sb);
    arena_free(&ar);
}

static void test_js_emitter_calls_logic_helpers(void **state)
{
    (void)state;
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(expr_parse("[age] >= 18 and [ev][dx(2)] = '1'", &ar, &x, NULL, &e), 0);
    assert_int_equal(expr_to_js(x, &sb, &e), 0);
    assert_string_equal(strbuf_str(&sb), "L.and(L.ge(L.v(null,\"age\",null),18),"
                                         "L.eq(L.v(\"ev\",\"dx\",\"2\"),\"1\"))");
    strbuf_reset(&sb);
    /* text is escaped for a <script> element */
    assert_int_equal(expr_parse("if(1, '</script>\"\\', 0.5)", &ar, &x, NULL, &e), 0);
    assert_int_equal(expr_to_js(x, &sb, &e), 0);
    assert_string_equal(strbuf_str(&sb), "L.iif(1,\"\\u003c/script\\u003e\\\"\\\\\",0.5)");
    strbuf_reset(&sb);
    assert_int_equal(expr_parse("isblankormissingcode([a]) or not -[b]^2", &ar, &x, NULL, &e), 0);
    assert_int_equal(expr_to_js(x, &sb, &e), 0);
    assert_string_equal(strbuf_str(&sb), "L.or(L.isblank(L.v(null,\"a\",null)),"
                                         "L.not(L.neg(L.pow(L.v(null,\"b\",null),2))))");
    strbuf_release(&sb);
    arena_free(&ar);
}

/* Smart variables parse as references the lookup answers by name, are no field references, and
 * an unknown hyphenated name is refused naming it. */
static int count_refs(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    (void)event, (void)field, (void)code, (void)pos;
    ++*(int *)ctx;
    return 0;
}

static void test_smart_variables(void **state)
{
    (void)state;
    const struct kv kv[] = {
        {"event-name", "day0_arm_1"}, {"record-name", "7"}, {"x", "2"}, {NULL, NULL}};
    assert_string_equal(eval_kv("[event-name] = 'day0_arm_1' and [x] = 2", kv), "1");
    assert_string_equal(eval_kv("concat('rec ', [record-name])", kv), "rec 7");
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    size_t col = 0;
    err_clear(&e);
    assert_int_equal(expr_parse("[event-name] = 'a' or [x] > 1", &ar, &x, &col, &e), 0);
    int n = 0;
    assert_int_equal(expr_foreach_ref(x, count_refs, &n), 0);
    assert_int_equal(n, 1); /* [x] only */
    assert_int_equal(expr_parse("[first-instance] = 1", &ar, &x, &col, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "'[first-instance]' is not a field name"));
    assert_int_equal(col, 1);
    /* an event-valued one may stand for a field's event, no other */
    assert_int_equal(expr_parse("[previous-event-name][x] = 1", &ar, &x, &col, &e), 0);
    n = 0;
    assert_int_equal(expr_foreach_ref(x, count_refs, &n), 0);
    assert_int_equal(n, 1); /* [x], at an event decided as the logic runs */
    assert_int_equal(expr_parse("[record-name][x] = 1", &ar, &x, &col, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "smart variable [record-name] takes no code, event or instance"));
    assert_int_equal(expr_parse("[baseline_arm_1][event-name] = 1", &ar, &x, &col, &e),
                     ERR_INVALID);
    assert_int_equal(expr_parse("[a-] = 1", &ar, &x, &col, &e), ERR_INVALID);
    assert_true(expr_is_smart("current-instance"));
    assert_false(expr_is_smart("current_instance"));
    arena_free(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smart_variables),
        cmocka_unit_test(test_arithmetic_and_precedence),
        cmocka_unit_test(test_division_by_zero_and_sqrt_negative_are_blank),
        cmocka_unit_test(test_blank_arithmetic_gives_blank),
        cmocka_unit_test(test_equality_numeric_versus_text),
        cmocka_unit_test(test_comparisons_with_blank),
        cmocka_unit_test(test_logic_operators),
        cmocka_unit_test(test_if_and_functions),
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_datediff_hand_counted),
        cmocka_unit_test(test_checkbox_and_event_references),
        cmocka_unit_test(test_lookup_errors_propagate),
        cmocka_unit_test(test_parse_errors_carry_columns),
        cmocka_unit_test(test_deep_nesting_is_refused),
        cmocka_unit_test(test_foreach_ref_in_source_order_with_columns),
        cmocka_unit_test(test_truthy_and_format),
        cmocka_unit_test(test_js_emitter_calls_logic_helpers),
        cmocka_unit_test(test_instance_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
