/*
 * test_hub_settings.c - the settings the web UI changes
 * (appliance/core/hub_settings.c) over the config's defaults: the checks the
 * config file and the API share, a value saved in the hub_settings table
 * winning over the config at the next start, and a stored value that no
 * longer passes the checks being ignored.
 *
 * UNIT_SOURCES: appliance/core/hub_settings.c appliance/core/config.c
 * UNIT_SOURCES: appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/hub_settings.h"
#include "storage/database.h"

static int setup(void **state)
{
    sqlite3 *db = NULL;
    char error[256];
    if (database_open(":memory:", &db, error, sizeof(error)) != 0)
        return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    database_close(*state);
    return 0;
}

/* The same checks for the config file and the API. */
static void test_checks(void **state)
{
    struct config config;
    char error[256];
    long long bytes = 0;

    (void)state;
    assert_int_equal(hub_settings_parse_bytes("storage_budget", "2G", &bytes, error, sizeof(error)),
                     0);
    assert_true(bytes == 2LL << 30);
    assert_int_equal(hub_settings_parse_bytes("min_free", "12x", &bytes, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "min_free"));
    assert_int_equal(hub_settings_parse_bytes("min_free", "-1", &bytes, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_storage(0, -1, 1000, error, sizeof(error)), 0);
    assert_int_equal(hub_settings_check_storage(1001, -1, 1000, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_storage(10, 1001, 1000, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_storage(-2, -1, 0, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_storage(10, -2, 0, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("plughw:1,0", error, sizeof(error)), 0);
    assert_int_equal(hub_settings_check_device("sysdefault:CARD=PCH", error, sizeof(error)), 0);
    assert_int_equal(hub_settings_check_device("a b", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("x{type file}", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("file:out.raw,raw", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("file", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("tee:default,out.raw", error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_device("filer", error, sizeof(error)), 0);
    assert_int_equal(hub_settings_check_volume(101, error, sizeof(error)), -1);
    assert_int_equal(hub_settings_check_volume(0, error, sizeof(error)), 0);

    /* The config file goes through the same checks. */
    config_defaults(&config);
    assert_int_equal(config_set(&config, "chime_device", "a b", error, sizeof(error)), -1);
    assert_int_equal(config_set(&config, "chime_device", "", error, sizeof(error)), 0);
    assert_int_equal(config_set(&config, "storage_budget", "500M", error, sizeof(error)), 0);
    assert_true(config.storage_budget == 500LL << 20);
    assert_int_equal(config_set(&config, "min_free", "lots", error, sizeof(error)), -1);
}

/* The config's values until the UI saves some; then those, also at the next start. */
static void test_ui_wins(void **state)
{
    sqlite3 *db = *state;
    struct config config;
    struct hub_settings *settings;
    struct hub_settings_values values;
    char error[256];

    config_defaults(&config);
    assert_int_equal(config_set(&config, "storage_budget", "64M", error, sizeof(error)), 0);
    assert_int_equal(config_set(&config, "chime_device", "plughw:1", error, sizeof(error)), 0);
    settings = hub_settings_create(&config, db);
    assert_non_null(settings);
    hub_settings_get(settings, &values);
    assert_true(values.storage_budget == 64LL << 20);
    assert_true(values.min_free == -1);
    assert_true(values.chime_enabled);
    assert_string_equal(values.chime_device, "plughw:1");
    assert_int_equal(values.chime_volume, 100);
    assert_int_equal(values.from_ui, 0);

    assert_int_equal(hub_settings_set_storage(settings, db, 1000000, 5000), 0);
    assert_int_equal(hub_settings_set_chime(settings, db, 0, "default", 30), 0);
    hub_settings_get(settings, &values);
    assert_true(values.storage_budget == 1000000 && values.min_free == 5000);
    assert_false(values.chime_enabled);
    hub_settings_free(settings);

    /* The next start: the rows win over the config. */
    settings = hub_settings_create(&config, db);
    hub_settings_get(settings, &values);
    assert_true(values.storage_budget == 1000000 && values.min_free == 5000);
    assert_false(values.chime_enabled);
    assert_string_equal(values.chime_device, "default");
    assert_int_equal(values.chime_volume, 30);
    assert_int_equal(values.from_ui, HUB_SETTINGS_FROM_UI_BUDGET | HUB_SETTINGS_FROM_UI_MIN_FREE |
                                         HUB_SETTINGS_FROM_UI_CHIME);
    hub_settings_free(settings);

    /* A stored device that no longer passes is ignored: the config's chime. */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE hub_settings SET value = 'a b' WHERE key = "
                                  "'chime_device'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    settings = hub_settings_create(&config, db);
    hub_settings_get(settings, &values);
    assert_string_equal(values.chime_device, "plughw:1");
    assert_true(values.chime_enabled);
    hub_settings_free(settings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
        cmocka_unit_test_setup_teardown(test_ui_wins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
