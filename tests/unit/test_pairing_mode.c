/*
 * test_pairing_mode.c - the doorbell's pairing mode (firmware/pairing/
 * pairing_mode.c) on an injected clock, and its files (pairing_store.c) in
 * a temporary state directory: open while unpaired from the start for 10
 * minutes, closed when paired; a 10 s hold opens it again with a fresh count;
 * five wrong codes close it until the next hold; a 30 s hold resets; the
 * identity is made once, 0600, and a reset makes a new one and forgets the
 * hub.
 *
 * UNIT_SOURCES: firmware/pairing/pairing_mode.c firmware/pairing/pairing_store.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/private_file.h"
#include "pairing/pairing_mode.h"
#include "pairing/pairing_store.h"

#define TEST_MINUTE_MS (60 * 1000)

static const struct setup_code_parameters test_cheap = {
    .time_cost = 1, .memory_kib = 64, .parallelism = 1};

/* Unpaired: open from the start for 10 minutes, then closed. */
static void test_first_start(void **state)
{
    struct pairing_mode mode;
    (void)state;

    pairing_mode_init(&mode, false, 1000);
    assert_true(pairing_mode_is_open(&mode, 1000));
    assert_true(pairing_mode_is_open(&mode, 1000 + 10 * TEST_MINUTE_MS - 1));
    assert_int_equal(pairing_mode_remaining_ms(&mode, 1000 + 9 * TEST_MINUTE_MS), TEST_MINUTE_MS);
    assert_false(pairing_mode_is_open(&mode, 1000 + 10 * TEST_MINUTE_MS));
    /* Closed stays closed, even if the clock were to go back. */
    assert_false(pairing_mode_is_open(&mode, 1000));
    assert_int_equal(pairing_mode_remaining_ms(&mode, 1000), 0);

    pairing_mode_init(&mode, true, 1000);
    assert_false(pairing_mode_is_open(&mode, 1000));
}

/* Holds: under 10 s nothing; 10..29 s opens for 10 minutes; 30 s resets. */
static void test_holds(void **state)
{
    struct pairing_mode mode;
    (void)state;

    pairing_mode_init(&mode, true, 0);
    assert_int_equal(pairing_mode_hold(&mode, 9, 5), PAIRING_HOLD_NOTHING);
    assert_false(pairing_mode_is_open(&mode, 5));
    assert_int_equal(pairing_mode_hold(&mode, 10, 5), PAIRING_HOLD_OPEN);
    assert_true(pairing_mode_is_open(&mode, 5));
    assert_true(mode.paired);
    assert_false(pairing_mode_is_open(&mode, 5 + 10 * TEST_MINUTE_MS));
    assert_int_equal(pairing_mode_hold(&mode, 29, 20 * TEST_MINUTE_MS), PAIRING_HOLD_OPEN);
    assert_true(pairing_mode_is_open(&mode, 25 * TEST_MINUTE_MS));
    assert_int_equal(pairing_mode_hold(&mode, 30, 26 * TEST_MINUTE_MS), PAIRING_HOLD_RESET);
    assert_false(mode.paired);
    assert_true(pairing_mode_is_open(&mode, 26 * TEST_MINUTE_MS));
    pairing_mode_paired(&mode);
    assert_true(mode.paired);
    assert_false(pairing_mode_is_open(&mode, 26 * TEST_MINUTE_MS));
}

/* Five wrong codes close the mode; only a hold reopens it, with a new count. */
static void test_wrong_codes(void **state)
{
    struct pairing_mode mode;
    (void)state;

    pairing_mode_init(&mode, false, 0);
    for (int i = 1; i < PAIRING_MODE_WRONG_CODES_MAX; i++) {
        assert_int_equal(pairing_mode_wrong_code(&mode, i), i);
        assert_true(pairing_mode_is_open(&mode, i));
    }
    assert_int_equal(pairing_mode_wrong_code(&mode, 10), PAIRING_MODE_WRONG_CODES_MAX);
    assert_false(pairing_mode_is_open(&mode, 10));
    /* More wrong codes while closed are not counted, nothing reopens it. */
    assert_int_equal(pairing_mode_wrong_code(&mode, 11), PAIRING_MODE_WRONG_CODES_MAX);
    assert_false(pairing_mode_is_open(&mode, 12));
    assert_int_equal(pairing_mode_hold(&mode, 10, 20), PAIRING_HOLD_OPEN);
    assert_true(pairing_mode_is_open(&mode, 20));
    assert_int_equal(pairing_mode_wrong_code(&mode, 21), 1);
}

/* Mode bits of dir/name. */
static unsigned test_file_mode(const char *dir, const char *name)
{
    char path[PAIRING_STORE_PATH_MAX];
    struct stat info;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(stat(path, &info), 0);
    return (unsigned)(info.st_mode & 0777);
}

/* Remove the state directory and the files it may hold. */
static void test_remove_dir(const char *dir)
{
    static const char *const files[] = {"device-id", "setup-code", "pairing-record", "hub.json"};
    char path[PAIRING_STORE_PATH_MAX];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* Identity made once, 0600, loaded back; reset renews it and drops the hub. */
static void test_store(void **state)
{
    char dir[] = "/tmp/test_pairing_XXXXXX", error[256] = "", code[16];
    struct pairing_identity first, again, renewed;
    struct pairing_hub hub = {.url = "wss://127.0.0.1:8443"}, hub_back;
    int created = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(pairing_store_load(dir, &test_cheap, &first, &created, error, sizeof(error)),
                     0);
    assert_int_equal(created, 1);
    assert_true(pair_device_id_is_valid(first.device_id));
    assert_true(setup_code_wellformed(first.setup_code));
    assert_int_equal(test_file_mode(dir, "device-id"), 0600);
    assert_int_equal(test_file_mode(dir, "setup-code"), 0600);
    assert_int_equal(test_file_mode(dir, "pairing-record"), 0600);
    assert_int_equal(pairing_store_read_file(dir, "setup-code", code, sizeof(code)), 9);
    assert_memory_equal(code, first.setup_code, 8);

    assert_int_equal(pairing_store_load(dir, &test_cheap, &again, &created, error, sizeof(error)),
                     0);
    assert_int_equal(created, 0);
    assert_memory_equal(&first, &again, sizeof(first));

    assert_int_equal(pairing_store_read_hub(dir, &hub_back, error, sizeof(error)), 1);
    memset(hub.hub_key_sha256, 'a', 64);
    assert_int_equal(pairing_store_write_hub(dir, &hub, error, sizeof(error)), 0);
    assert_int_equal(test_file_mode(dir, "hub.json"), 0600);
    assert_int_equal(pairing_store_read_hub(dir, &hub_back, error, sizeof(error)), 0);
    assert_string_equal(hub_back.url, hub.url);
    assert_string_equal(hub_back.hub_key_sha256, hub.hub_key_sha256);

    assert_int_equal(pairing_store_reset(dir, &test_cheap, &renewed, error, sizeof(error)), 0);
    assert_string_not_equal(renewed.device_id, first.device_id);
    assert_memory_not_equal(renewed.record.salt, first.record.salt, sizeof(first.record.salt));
    assert_int_equal(pairing_store_read_hub(dir, &hub_back, error, sizeof(error)), 1);
    assert_int_equal(pairing_store_load(dir, &test_cheap, &again, &created, error, sizeof(error)),
                     0);
    assert_string_equal(again.device_id, renewed.device_id);

    /* A damaged record is an error, not a silent new identity. */
    assert_int_equal(private_file_write(dir, "pairing-record", "{}", 2, error, sizeof(error)), 0);
    assert_int_equal(pairing_store_load(dir, &test_cheap, &again, &created, error, sizeof(error)),
                     -1);
    assert_int_equal(pairing_store_reset(dir, &test_cheap, &renewed, error, sizeof(error)), 0);
    test_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_start),
        cmocka_unit_test(test_holds),
        cmocka_unit_test(test_wrong_codes),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
