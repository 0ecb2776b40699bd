/* Branching logic shown/hidden (core/branch.h) over one record of the io-heme protocol: a value
 * its field's logic hides is blanked and reported, a hidden value that shows another field
 * hides that one in turn, a checkbox option and the fields under it go with their answer, and
 * a value its logic shows stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/branch.h"

#define PROC "io_procedure_arm_1"

struct seen {
    int n;
    char names[8][64];
};

static int on_hidden(void *ctx, const struct vtab_value *v, const struct dict_field *f)
{
    struct seen *s = ctx;
    (void)f;
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof s->names[0], "%s|%d|%s%s%s", v->event, v->instance,
                 v->field, v->code ? "___" : "", v->code ? v->code : "");
    s->n++;
    return 0;
}

static bool seen_has(const struct seen *s, const char *name)
{
    for (int i = 0; i < s->n && i < 8; i++)
        if (strcmp(s->names[i], name) == 0)
            return true;
    return false;
}

static void test_hidden_values_are_blanked_and_reported(void **state)
{
    (void)state;
    const char *dir = getenv("IOHEME_PROTOCOL");
    struct dict d;
    struct err e = {0};
    if (dict_load(dir ? dir : IOHEME_SOURCE_DIR "/protocols/io-heme", &d, &e) != 0)
        fail_msg("%s", e.msg);
    struct vtab v;
    vtab_init(&v);
    assert_int_equal(vtab_set_record(&v, "SCR-001", "IOH-001"), 0);
    /* attempt 1: a success with a failure reason "other" and its text -- both hidden (the text
     * only once the reason is gone); attempt 2: a failure with its reason -- shown */
    vtab_add(&v, PROC, 1, "att_outcome", NULL, "1");
    vtab_add(&v, PROC, 1, "att_fail_reason", NULL, "99");
    vtab_add(&v, PROC, 1, "att_fail_oth", NULL, "needle bent");
    vtab_add(&v, PROC, 2, "att_outcome", NULL, "2");
    vtab_add(&v, PROC, 2, "att_fail_reason", NULL, "1");
    /* T0: no vasopressor, yet a drug ticked and its dose */
    vtab_add(&v, "t0_arm_1", 0, "hd_status", NULL, "1");
    vtab_add(&v, "t0_arm_1", 0, "hd_vaso", NULL, "0");
    vtab_add(&v, "t0_arm_1", 0, "hd_vaso_drugs", "1", "1");
    vtab_add(&v, "t0_arm_1", 0, "hd_ne", NULL, "0.1");
    vtab_add(&v, "t0_arm_1", 0, "hd_hr", NULL, "120");
    struct seen s = {0};
    assert_int_equal(branch_vtab_hide(&d, &v, 0, on_hidden, &s, &e), 0);
    assert_int_equal(s.n, 4);
    assert_true(seen_has(&s, PROC "|1|att_fail_reason"));
    assert_true(seen_has(&s, PROC "|1|att_fail_oth"));
    assert_true(seen_has(&s, "t0_arm_1|0|hd_vaso_drugs___1"));
    assert_true(seen_has(&s, "t0_arm_1|0|hd_ne"));
    assert_null(vtab_get(&v, PROC, 1, "att_fail_reason", NULL));
    assert_null(vtab_get(&v, PROC, 1, "att_fail_oth", NULL));
    assert_null(vtab_get(&v, "t0_arm_1", 0, "hd_vaso_drugs", "1"));
    assert_string_equal(vtab_get(&v, PROC, 2, "att_fail_reason", NULL), "1");
    assert_string_equal(vtab_get(&v, "t0_arm_1", 0, "hd_hr", NULL), "120");
    assert_string_equal(vtab_get(&v, PROC, 1, "att_outcome", NULL), "1");
    /* nothing more to hide: a second run reports nothing */
    s.n = 0;
    assert_int_equal(branch_vtab_hide(&d, &v, 0, on_hidden, &s, &e), 0);
    assert_int_equal(s.n, 0);
    /* a field without branching logic is always shown */
    bool shown = false;
    assert_int_equal(
        branch_is_shown(dict_field(&d, "att_outcome"), NULL, NULL, 0, NULL, &shown, &e), 0);
    assert_true(shown);
    vtab_free(&v);
    dict_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hidden_values_are_blanked_and_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
