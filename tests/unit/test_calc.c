/* Calc fields computed on demand (core/calc.h): calc over calc, the event a calc is
 * referenced at carried into its own references, and a cycle through events stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calc.h"
#include "redcap_header.h"

static const char EVENTS[] =
    "event_name,arm_num,day_offset,offset_min,offset_max,unique_event_name,custom_event_label\n"
    "T0,1,0,0,0,t0_arm_1,\n"
    "T6,1,0,0,0,t6_arm_1,\n";

/* values: t0 sbp 80 dbp 45, t6 sbp 110 dbp 60 */
static int lookup(void *ctx, const char *event, const char *field, const char *code, int instance,
                  struct expr_value *out, struct err *e)
{
    (void)instance;
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

static bool has_input(const struct calc_info *ci, const char *field)
{
    for (size_t i = 0; i < ci->ninputs; i++)
        if (strcmp(ci->inputs[i], field) == 0)
            return true;
    return false;
}

/* What each calc reads, worked out from the study dictionary's own text: hd_map reads
 * hd_map_inv, hd_map_meas, hd_sbp, hd_dbp (each once, none event-qualified); hd_min_t0 reads
 * hd_dt twice, once as [t0_arm_1][hd_dt] — one input, one cross-event reference. */
static void test_calc_index_lists_inputs_and_cross_event_refs(void **state)
{
    (void)state;
    const char *dir = getenv("IOHEME_PROTOCOL");
    struct dict d;
    struct err e;
    err_clear(&e);
    if (dict_load(dir ? dir : IOHEME_SOURCE_DIR "/protocols/io-heme", &d, &e) != 0)
        fail_msg("%s", e.msg);
    struct arena ar = ARENA_INIT;
    struct calc_info *ci = NULL;
    size_t n = 0;
    assert_int_equal(calc_index(&d, &ar, &ci, &n, &e), 0);
    size_t ncalc = 0;
    for (size_t i = 0; i < d.nfields; i++)
        ncalc += d.fields[i].type == FT_CALC && d.fields[i].calc;
    assert_int_equal(n, ncalc);
    const struct calc_info *map = NULL, *min_t0 = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ci[i].f->name, "hd_map") == 0)
            map = &ci[i];
        if (strcmp(ci[i].f->name, "hd_min_t0") == 0)
            min_t0 = &ci[i];
    }
    assert_non_null(map);
    assert_int_equal(map->ninputs, 4);
    assert_true(has_input(map, "hd_map_inv") && has_input(map, "hd_map_meas") &&
                has_input(map, "hd_sbp") && has_input(map, "hd_dbp"));
    assert_int_equal(map->nrefs, 0);
    assert_non_null(min_t0);
    assert_int_equal(min_t0->ninputs, 1);
    assert_int_equal(min_t0->nrefs, 1);
    assert_string_equal(min_t0->refs[0].event, "t0_arm_1");
    assert_string_equal(min_t0->refs[0].field, "hd_dt");
    arena_free(&ar);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calc_over_calc_at_events),
        cmocka_unit_test(test_calc_index_lists_inputs_and_cross_event_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
