/*
 * test_known_device.c - the known-device cookie
 * (appliance/accounts/known_device.c): a cookie issued for a user checks for
 * that user only, within its lifetime; forged, altered, malformed or
 * another hub's cookies do not; the key is made once and kept.
 *
 * UNIT_SOURCES: tests/unit/support/test_database.c
 * UNIT_SOURCES: appliance/accounts/known_device.c appliance/accounts/random_bytes.c
 * UNIT_SOURCES: appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "accounts/known_device.h"
#include "storage/database.h"
#include "support/test_database.h"

#define NOW 1800000000000LL

static void test_issue_and_check(void **state)
{
    sqlite3 *db = *state;
    char value[KNOWN_DEVICE_VALUE_MAX], again[KNOWN_DEVICE_VALUE_MAX];

    assert_int_equal(known_device_issue(db, 7, NOW, value, sizeof(value)), 0);
    assert_true(strncmp(value, "7.1800000000.", 13) == 0);
    assert_true(known_device_check(db, value, 7, NOW));
    assert_true(known_device_check(db, value, 7, NOW + KNOWN_DEVICE_LIFETIME_MS - 1000));
    assert_false(known_device_check(db, value, 7, NOW + KNOWN_DEVICE_LIFETIME_MS));
    assert_false(known_device_check(db, value, 8, NOW)); /* another user */
    /* The key is kept: the same input gives the same cookie. */
    assert_int_equal(known_device_issue(db, 7, NOW, again, sizeof(again)), 0);
    assert_string_equal(value, again);
    /* Too small a buffer is refused. */
    assert_int_equal(known_device_issue(db, 7, NOW, again, 20), -1);
}

static void test_forgeries(void **state)
{
    sqlite3 *db = *state;
    char value[KNOWN_DEVICE_VALUE_MAX], forged[KNOWN_DEVICE_VALUE_MAX + 8];
    size_t length;

    assert_int_equal(known_device_issue(db, 7, NOW, value, sizeof(value)), 0);
    length = strlen(value);

    /* Another user id or issue time with the same MAC. */
    snprintf(forged, sizeof(forged), "8%s", value + 1);
    assert_false(known_device_check(db, forged, 8, NOW));
    memcpy(forged, value, length + 1);
    forged[2] = forged[2] == '1' ? '2' : '1';
    assert_false(known_device_check(db, forged, 7, NOW));
    /* One MAC character changed, cut, or lengthened. */
    memcpy(forged, value, length + 1);
    forged[length - 1] = forged[length - 1] == 'A' ? 'B' : 'A';
    assert_false(known_device_check(db, forged, 7, NOW));
    forged[length - 1] = '\0';
    assert_false(known_device_check(db, forged, 7, NOW));
    snprintf(forged, sizeof(forged), "%sA", value);
    assert_false(known_device_check(db, forged, 7, NOW));
    /* Malformed. */
    assert_false(known_device_check(db, NULL, 7, NOW));
    assert_false(known_device_check(db, "", 7, NOW));
    assert_false(known_device_check(db, "7", 7, NOW));
    assert_false(known_device_check(db, "7..", 7, NOW));
    assert_false(known_device_check(db, "-7.1.x", -7, NOW));
    assert_false(known_device_check(db, "99999999999999999999.1.x", 7, NOW));
    /* Issued in the future. */
    assert_int_equal(known_device_issue(db, 7, NOW + 3600000, forged, sizeof(forged)), 0);
    assert_false(known_device_check(db, forged, 7, NOW));
}

/* Another hub (another key) does not accept this hub's cookie. */
static void test_other_hub(void **state)
{
    sqlite3 *db = *state;
    sqlite3 *other = NULL;
    char value[KNOWN_DEVICE_VALUE_MAX], error[256];

    assert_int_equal(database_open(":memory:", &other, error, sizeof(error)), 0);
    assert_int_equal(known_device_issue(db, 7, NOW, value, sizeof(value)), 0);
    assert_false(known_device_check(other, value, 7, NOW));
    database_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_and_check, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_forgeries, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_other_hub, test_database_setup,
                                        test_database_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
