/* Calc fields computed on demand (core/calc.h): calc over calc, the event a calc is
 * referenced at carried into its own references, and a cycle through events stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/calc.h"
#include "redcap_header.h"

static const char EVENTS[] =
    "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,custom_event_label\n"
    "T0,1,0,0,0,t0_arm_1,\n"
    "T6,1,0,0,0,t6_arm_1,\n";

/* values: t0 sbp 80 dbp 45, t6 sbp 110 dbp 60 */
static int lookup(void *ctx, const char *event, const char *field, const char *code,
                  struct expr_value *out, struct err *e)
{
    (void)ctx;
    (void)code;
    (void)e;
    static const struct {
        const char *event, *field, *value;
    } v[] = {{"t0_arm_1", "sbp", "80"},
             {"t0_arm_1", "dbp", "45"},
             {"t6_arm_1", "sbp", "110"},
             {"t6_arm_1", "dbp", "60"}};
    out->kind = EV_BLANK;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (event && !strcmp(v[i].event, event) && !strcmp(v[i].field, field)) {
            out->kind = EV_STR;
            out->str = v[i].value;
        }
    return 0;
}

static void test_calc_over_calc_at_events(void **state)
{
    (void)state;
    char csv[2048];
    snprintf(csv, sizeof csv, "%s%s", REDCAP_HEADER,
             "record_id,hd,,text,ID,,,,,,,,,,,,,\n"
             "sbp,hd,,text,SBP,,,integer,,,,,,,,,,\n"
             "dbp,hd,,text,DBP,,,integer,,,,,,,,,,\n"
             "map,hd,,calc,MAP,round(([sbp] + 2 * [dbp]) / 3),,,,,,,,,,,,\n"
             "map_gain,hd,,calc,MAP gain,[t6_arm_1][map] - [t0_arm_1][map],,,,,,,,,,,,\n"
             "loop,hd,,calc,Loop,[t0_arm_1][loop] + 1,,,,,,,,,,,,\n");
    struct dict d;
    struct err e;
    err_clear(&e);
    if (dict_load_mem(csv, EVENTS, NULL, NULL, &d, &e))
        fail_msg("%s", e.msg);
    struct arena ar = ARENA_INIT;
    struct calc_lookup c;
    calc_lookup_init(&c, &d, lookup, NULL, 0, &ar);
    struct expr_value v;
    /* T0 MAP (80 + 90) / 3 = 56.67 -> 57; T6 (110 + 120) / 3 = 76.67 -> 77; gain 20 */
    assert_int_equal(calc_field(&c, dict_field(&d, "map"), "t0_arm_1", &v, &e), 0);
    assert_int_equal(v.kind, EV_NUM);
    assert_true(v.num == 57);
    assert_int_equal(calc_field(&c, dict_field(&d, "map"), "t6_arm_1", &v, &e), 0);
    assert_true(v.num == 77);
    assert_int_equal(calc_field(&c, dict_field(&d, "map_gain"), NULL, &v, &e), 0);
    assert_true(v.num == 20);
    assert_int_equal(c.depth, 0);
    assert_null(c.event);
    /* no current event given: [map] alone reads blanks */
    assert_int_equal(calc_field(&c, dict_field(&d, "map"), NULL, &v, &e), 0);
    assert_int_equal(v.kind, EV_BLANK);
    /* [t0][loop] inside loop: a cycle through an event, stopped */
    assert_int_equal(calc_field(&c, dict_field(&d, "loop"), NULL, &v, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "nested too deeply"));
    assert_int_equal(c.depth, 0);
    arena_free(&ar);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calc_over_calc_at_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
