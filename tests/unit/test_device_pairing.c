/*
 * test_device_pairing.c - the hub's table of doorbells waiting to pair
 * (appliance/devices/device_pairing.c): at most 16, one per device id, the
 * newest connection of an id replacing the older one, an entry forgotten
 * when its connection goes (but not by an older connection's goodbye),
 * listed oldest first; a frame nobody asked for is refused; typed codes are
 * normalised; and a pairing with a doorbell that is not waiting, or with a
 * malformed code, fails before any derivation or message.
 *
 * UNIT_SOURCES: appliance/devices/device_pairing.c appliance/devices/device_store.c
 * UNIT_SOURCES: appliance/accounts/password.c appliance/accounts/random_bytes.c
 * UNIT_SOURCES: appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/device_pairing.h"

static int test_sends;

/* The send callback: counts; no doorbell answers in these tests. */
static int test_send(void *connection, const uint8_t *message, size_t size)
{
    (void)connection;
    (void)message;
    (void)size;
    test_sends++;
    return 0;
}

/* A hello from device id number. */
static struct pair_hello test_hello(int number)
{
    struct pair_hello hello = {.protocol = 1, .model = "test", .parameters = {1, 64, 1}};

    snprintf(hello.device_id, sizeof(hello.device_id), "%012x", number);
    return hello;
}

/* Bounded to 16; one entry per id, the newest connection wins. */
static void test_table(void **state)
{
    struct device_pairing *pairing = device_pairing_create(test_send);
    struct device_pairing_waiting waiting[DEVICE_PAIRING_MAX_WAITING + 1];
    uint64_t serials[DEVICE_PAIRING_MAX_WAITING], serial, newer;
    struct pair_hello hello;
    (void)state;

    assert_non_null(pairing);
    for (int i = 0; i < DEVICE_PAIRING_MAX_WAITING; i++) {
        hello = test_hello(i);
        assert_int_equal(
            device_pairing_arrive(pairing, &hello, "10.0.0.1", "wss://h:1", NULL, &serials[i]), 0);
    }
    hello = test_hello(99);
    assert_int_equal(device_pairing_arrive(pairing, &hello, "10.0.0.2", "wss://h:1", NULL, &serial),
                     -1);
    assert_int_equal(device_pairing_list(pairing, waiting, DEVICE_PAIRING_MAX_WAITING + 1),
                     DEVICE_PAIRING_MAX_WAITING);

    /* The same id again replaces its entry; the older goodbye is ignored. */
    hello = test_hello(3);
    assert_int_equal(device_pairing_arrive(pairing, &hello, "10.0.0.3", "wss://h:1", NULL, &newer),
                     0);
    assert_int_not_equal(newer, serials[3]);
    device_pairing_leave(pairing, serials[3]);
    assert_int_equal(device_pairing_list(pairing, waiting, DEVICE_PAIRING_MAX_WAITING),
                     DEVICE_PAIRING_MAX_WAITING);
    device_pairing_leave(pairing, newer);
    assert_int_equal(device_pairing_list(pairing, waiting, DEVICE_PAIRING_MAX_WAITING),
                     DEVICE_PAIRING_MAX_WAITING - 1);
    for (int i = 0; i < DEVICE_PAIRING_MAX_WAITING - 1; i++)
        assert_string_not_equal(waiting[i].device_id, "000000000003");

    /* A frame nobody asked for is refused. */
    assert_int_equal(device_pairing_deliver(pairing, serials[0], (const uint8_t *)"x", 1), -1);
    device_pairing_destroy(pairing);
}

/* Dashes and spaces are dropped; anything else, or not 8 digits, refused. */
static void test_codes(void **state)
{
    char out[SETUP_CODE_SIZE];
    (void)state;

    assert_int_equal(device_pairing_normalise_code("1234-5679", out), 0);
    assert_string_equal(out, "12345679");
    assert_int_equal(device_pairing_normalise_code(" 1234 5679 ", out), 0);
    assert_int_equal(device_pairing_normalise_code("1234567", out), -1);
    assert_int_equal(device_pairing_normalise_code("123456789", out), -1);
    assert_int_equal(device_pairing_normalise_code("1234a678", out), -1);
    assert_int_equal(device_pairing_normalise_code(NULL, out), -1);
}

/* Not waiting, or a malformed code: refused at once, nothing sent. */
static void test_refusals(void **state)
{
    struct device_pairing *pairing = device_pairing_create(test_send);
    char address[DEVICE_PAIRING_ADDRESS_MAX], reason[192];
    uint8_t hub_key[PAIR_HASH_SIZE] = {0};
    struct device_record device;
    struct pair_hello hello = test_hello(1);
    uint64_t serial;
    (void)state;

    test_sends = 0;
    assert_int_equal(device_pairing_pair(pairing, NULL, "000000000001", "3141-5926", "Door",
                                         hub_key, &device, address, reason, sizeof(reason)),
                     DEVICE_PAIRING_NOT_WAITING);
    assert_int_equal(device_pairing_arrive(pairing, &hello, "10.0.0.1", "wss://h:1", NULL, &serial),
                     0);
    assert_int_equal(device_pairing_pair(pairing, NULL, "000000000001", "1111-1111", "Door",
                                         hub_key, &device, address, reason, sizeof(reason)),
                     DEVICE_PAIRING_FAILED);
    assert_int_equal(device_pairing_pair(pairing, NULL, "000000000001", "3141-5926", "", hub_key,
                                         &device, address, reason, sizeof(reason)),
                     DEVICE_PAIRING_FAILED);
    assert_int_equal(test_sends, 0);
    assert_string_equal(device_pairing_result_name(DEVICE_PAIRING_WRONG_CODE), "wrong_code");
    assert_string_equal(device_pairing_result_name(DEVICE_PAIRING_CLOSED), "pairing_closed");
    device_pairing_destroy(pairing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
