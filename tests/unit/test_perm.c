/* The permission table, cell by cell, against the matrix agreed in docs/security.md (written
 * out again here as lists, so a change to the table must be made twice, on purpose), and the
 * name <-> enum conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "core/perm.h"

static const struct {
    const char *role;
    const char *allowed; /* space-separated, with spaces at both ends */
} expected[] = {
    {"admin",
     " user_manage protocol_read screen enroll data_read data_write form_status "
     "reason_change audit_read audit_verify export analyse query_raise query_answer "
     "query_close sdv lock unlock settings redact identifiers protocol_amend site_manage "},
    {"investigator", " protocol_read screen enroll data_read data_write form_status "
                     "reason_change audit_read query_answer sign identifiers "},
    {"coordinator", " protocol_read screen enroll data_read data_write form_status "
                    "reason_change query_answer identifiers "},
    {"monitor", " protocol_read data_read audit_read query_raise query_close sdv identifiers "},
    {"data_manager", " protocol_read data_read audit_read audit_verify export query_raise "
                     "query_close lock unlock "},
    {"statistician", " protocol_read data_read export analyse "},
};

static void test_every_cell_matches_the_documented_matrix(void **state)
{
    (void)state;
    assert_int_equal(sizeof expected / sizeof expected[0], ROLE__COUNT);
    for (size_t r = 0; r < ROLE__COUNT; r++) {
        enum role role;
        assert_int_equal(role_from_name(expected[r].role, &role), 0);
        for (int a = 0; a < PERM__COUNT; a++) {
            char key[64];
            key[0] = ' ';
            strcpy(key + 1, perm_action_name((enum perm_action)a));
            strcat(key, " ");
            bool want = strstr(expected[r].allowed, key) != NULL;
            if (perm_allows(role, (enum perm_action)a) != want)
                fail_msg("%s %s: table says %d", expected[r].role, key, !want);
        }
    }
}

static void test_key_rules(void **state)
{
    (void)state;
    assert_false(perm_allows(ROLE_ADMIN, PERM_SIGN)); /* signing is the PI's own act */
    assert_true(perm_allows(ROLE_INVESTIGATOR, PERM_SIGN));
    assert_false(perm_allows(ROLE_MONITOR, PERM_DATA_WRITE)); /* SDV stays independent */
    assert_false(perm_allows(ROLE_COORDINATOR, PERM_LOCK));
    assert_true(perm_allows(ROLE_DATA_MANAGER, PERM_UNLOCK));
    assert_false(perm_allows(ROLE_STATISTICIAN, PERM_DATA_WRITE));
    assert_false(perm_allows((enum role)ROLE__COUNT, PERM_DATA_READ));
    assert_false(perm_allows(ROLE_ADMIN, (enum perm_action)PERM__COUNT));
    assert_false(perm_allows((enum role) - 1, PERM_DATA_READ));
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int r = 0; r < ROLE__COUNT; r++) {
        enum role back;
        assert_int_equal(role_from_name(role_name((enum role)r), &back), 0);
        assert_int_equal(back, r);
    }
    for (int a = 0; a < PERM__COUNT; a++) {
        enum perm_action back;
        assert_int_equal(perm_action_from_name(perm_action_name((enum perm_action)a), &back), 0);
        assert_int_equal(back, a);
    }
    assert_string_equal(role_name(ROLE_DATA_MANAGER), "data_manager");
    assert_string_equal(perm_action_name(PERM_QUERY_RAISE), "query_raise");
    assert_string_equal(role_name((enum role)99), "?");
    enum role r;
    enum perm_action a;
    assert_int_equal(role_from_name("Admin", &r), ERR_NOT_FOUND);
    assert_int_equal(role_from_name("superuser", &r), ERR_NOT_FOUND);
    assert_int_equal(perm_action_from_name("delete_everything", &a), ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell_matches_the_documented_matrix),
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
