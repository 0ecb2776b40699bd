/* The HTTP router's pure parts, linked against the real route table: path matching with {name}
 * captures and 405 detection, the table's own invariants (every state-changing route is
 * CSRF-checked, every record write is lock-checked, every permission is an action of
 * core/perm.h, no two rows collide), and URL/form decoding. The behaviour over the network is
 * tested end to end in tests/e2e/http_*.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/perm.h"
#include "http/http_int.h"

static void match(struct req *r, int method, const char *path)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->path = path;
    router_match(r);
}

static void test_matches_patterns_and_captures_parameters(void **state)
{
    (void)state;
    struct req r;
    match(&r, HTTP_POST, "/api/v1/records/IOH-001/forms/haemodynamics/status");
    assert_non_null(r.route);
    assert_string_equal(r.route->pattern, "/api/v1/records/{id}/forms/{form}/status");
    assert_string_equal(req_param(&r, "id"), "IOH-001");
    assert_string_equal(req_param(&r, "form"), "haemodynamics");
    assert_null(req_param(&r, "event"));
    arena_free(&r.ar);

    match(&r, HTTP_GET, "/records/SCR-004/forms/t6h_arm_1/haemodynamics");
    assert_non_null(r.route);
    assert_string_equal(req_param(&r, "event"), "t6h_arm_1");
    arena_free(&r.ar);

    match(&r, HTTP_GET, "/forms/haemodynamics/logic.js");
    assert_non_null(r.route);
    assert_string_equal(req_param(&r, "form"), "haemodynamics");
    arena_free(&r.ar);
}

static void test_no_match_is_404_or_405(void **state)
{
    (void)state;
    struct req r;
    match(&r, HTTP_GET, "/api/v1/records/IOH-001/nothing");
    assert_null(r.route);
    assert_int_equal(r.allowed_methods, 0);
    match(&r, HTTP_DELETE, "/api/v1/records/IOH-001/values");
    assert_null(r.route);
    assert_int_equal(r.allowed_methods, HTTP_POST);
    /* an empty segment never matches a parameter; a trailing slash is another path */
    match(&r, HTTP_GET, "/api/v1/records//eligibility");
    assert_null(r.route);
    match(&r, HTTP_GET, "/api/v1/records/");
    assert_null(r.route);
    match(&r, HTTP_GET, "/records/IOH-001/");
    assert_null(r.route);
    arena_free(&r.ar);
}

static void test_route_table_invariants(void **state)
{
    (void)state;
    for (size_t i = 0; i < http_nroutes; i++) {
        const struct route *rt = &http_routes[i];
        assert_non_null(rt->handler);
        assert_true(rt->pattern[0] == '/');
        if (rt->method != HTTP_GET && !(rt->flags & RT_PUBLIC))
            assert_true(rt->flags & RT_CSRF); /* state-changing, signed in: CSRF-checked */
        if (rt->method == HTTP_GET)
            assert_int_equal(rt->max_body_kib, 0);
        /* writes to a record: lock-checked (an unlock is what a locked record takes) */
        if (rt->method == HTTP_POST && strstr(rt->pattern, "{id}") && rt->permission != PERM_NONE &&
            rt->permission != PERM_DATA_READ && rt->permission != PERM_UNLOCK)
            assert_true(rt->flags & RT_RECORD_LOCK);
        assert_true(rt->permission <= PERM_NONE); /* an action of the table, or none */
        if (rt->permission != PERM_NONE)
            assert_false(rt->flags & RT_PUBLIC);
        for (size_t k = 0; k < i; k++)
            assert_false(http_routes[k].method == rt->method &&
                         strcmp(http_routes[k].pattern, rt->pattern) == 0);
    }
}

static void test_public_routes_are_exactly_these(void **state)
{
    (void)state;
    /* /api/ is REDCap's API: public at the router, its handler checks the body's token= */
    const char *const expected[] = {"/healthz", "/static/{name}", "/api/v1/login",
                                    "/api/",    "/login",         "/login"};
    size_t n = 0;
    for (size_t i = 0; i < http_nroutes; i++) {
        if (!(http_routes[i].flags & RT_PUBLIC))
            continue;
        assert_true(n < sizeof expected / sizeof expected[0]);
        assert_string_equal(http_routes[i].pattern, expected[n]);
        n++;
    }
    assert_int_equal(n, sizeof expected / sizeof expected[0]);
}

static void test_url_decoding(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    assert_string_equal(http_url_decode(&a, "a%20b+c", 7, true), "a b c");
    assert_string_equal(http_url_decode(&a, "a%20b+c", 7, false), "a b+c");
    assert_string_equal(http_url_decode(&a, "%3Cscript%3e", 12, true), "<script>");
    /* malformed escapes stay as they are */
    assert_string_equal(http_url_decode(&a, "100%", 4, true), "100%");
    assert_string_equal(http_url_decode(&a, "%zz%4", 5, true), "%zz%4");
    /* only n bytes are read */
    assert_string_equal(http_url_decode(&a, "abc%41", 4, true), "abc%");
    arena_free(&a);
}

static void test_form_body_parsing(void **state)
{
    (void)state;
    struct req r;
    memset(&r, 0, sizeof r);
    strbuf_adds(&r.body, "csrf=ab12&hd_sbp=130&__reason=monitor+said+130%21&empty=&flag&=x");
    assert_string_equal(req_form(&r, "csrf"), "ab12");
    assert_string_equal(req_form(&r, "__reason"), "monitor said 130!");
    assert_string_equal(req_form(&r, "empty"), "");
    assert_string_equal(req_form(&r, "flag"), "");
    assert_null(req_form(&r, "missing"));
    strbuf_release(&r.body);
    arena_free(&r.ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_patterns_and_captures_parameters),
        cmocka_unit_test(test_no_match_is_404_or_405),
        cmocka_unit_test(test_route_table_invariants),
        cmocka_unit_test(test_public_routes_are_exactly_these),
        cmocka_unit_test(test_url_decoding),
        cmocka_unit_test(test_form_body_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
