/*
 * test_pair_protocol.c - the /pair/v1 message codec (common/pair_protocol.c):
 * every message builds and parses back unchanged, in a device-link frame;
 * malformed fields (hex of the wrong length, a device id that is not 12
 * lowercase hex digits, Argon2id costs beyond the hub's bounds, a URL that is
 * not wss://) are refused with a reason; the MACs of PAIR_DEVICE_KEY and
 * PAIR_HUB_INFO change with every field; and a whole exchange through the
 * codec pairs when both sides see the same hub key and fails when a relay
 * with another key sits between them.
 *
 * UNIT_SOURCES:
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pair_protocol.h"
#include "common/setup_code.h"
#include "common/spake2plus.h"

#define TEST_ERROR_SIZE 160

static const struct setup_code_parameters test_cheap = {
    .time_cost = 1, .memory_kib = 64, .parallelism = 1};

/* Build json into a frame of type, decode it as expected_type; returns the
 * tree (caller deletes) or NULL. Deletes json. */
static cJSON *test_round_trip(uint8_t type, cJSON *json, uint8_t expected_type)
{
    struct link_error link_error;
    char error[TEST_ERROR_SIZE];
    size_t size = 0;
    cJSON *parsed = NULL;
    uint8_t *frame;

    assert_non_null(json);
    frame = link_message_encode_json(type, 0, 0, json, 0, &size);
    cJSON_Delete(json);
    assert_non_null(frame);
    if (pair_message_decode(frame, size, expected_type, &parsed, &link_error, error,
                            sizeof(error)) != 0)
        parsed = NULL;
    free(frame);
    return parsed;
}

/* A hello with every field set. */
static struct pair_hello test_hello(void)
{
    struct pair_hello hello = {.protocol = 1,
                               .device_id = "0123456789ab",
                               .model = "Pi Zero 2 W",
                               .firmware = "doorbelld 0.1.0",
                               .parameters = {3, 32768, 1}};
    for (size_t i = 0; i < sizeof(hello.salt); i++)
        hello.salt[i] = (uint8_t)(i * 7 + 1);
    return hello;
}

/* Every message survives build, frame, decode and parse. */
static void test_round_trips(void **state)
{
    struct pair_hello hello = test_hello(), hello_back;
    struct pair_share_v share_v = {.share_v = {4, 1, 2, 3}, .confirm_v = {9, 8}}, share_v_back;
    struct pair_device_key key = {.public_key = {4, 5, 6}, .mac = {1}}, key_back;
    struct pair_hub_info info = {.device_id = "0123456789ab",
                                 .name = "Front door",
                                 .hub_key_sha256 = {0xaa, 0xbb},
                                 .url = "wss://192.168.1.2:8443/link/v1",
                                 .mac = {7}},
                         info_back;
    struct pair_share_p share_p = {.share_p = {4, 9}}, share_p_back;
    struct pair_confirm_p confirm = {.confirm_p = {3}}, confirm_back;
    char error[TEST_ERROR_SIZE];
    cJSON *json;
    (void)state;

    json = test_round_trip(LINK_PAIR_HELLO, pair_build_hello(&hello), LINK_PAIR_HELLO);
    assert_int_equal(pair_parse_hello(json, &hello_back, error, sizeof(error)), 0);
    assert_memory_equal(&hello, &hello_back, sizeof(hello));
    cJSON_Delete(json);

    json = test_round_trip(LINK_PAIR_SHARE_P, pair_build_share_p(&share_p), LINK_PAIR_SHARE_P);
    assert_int_equal(pair_parse_share_p(json, &share_p_back, error, sizeof(error)), 0);
    assert_memory_equal(&share_p, &share_p_back, sizeof(share_p));
    cJSON_Delete(json);

    json = test_round_trip(LINK_PAIR_SHARE_V, pair_build_share_v(&share_v), LINK_PAIR_SHARE_V);
    assert_int_equal(pair_parse_share_v(json, &share_v_back, error, sizeof(error)), 0);
    assert_memory_equal(&share_v, &share_v_back, sizeof(share_v));
    cJSON_Delete(json);

    json =
        test_round_trip(LINK_PAIR_CONFIRM_P, pair_build_confirm_p(&confirm), LINK_PAIR_CONFIRM_P);
    assert_int_equal(pair_parse_confirm_p(json, &confirm_back, error, sizeof(error)), 0);
    assert_memory_equal(&confirm, &confirm_back, sizeof(confirm));
    cJSON_Delete(json);

    json = test_round_trip(LINK_PAIR_DEVICE_KEY, pair_build_device_key(&key), LINK_PAIR_DEVICE_KEY);
    assert_int_equal(pair_parse_device_key(json, &key_back, error, sizeof(error)), 0);
    assert_memory_equal(&key, &key_back, sizeof(key));
    cJSON_Delete(json);

    json = test_round_trip(LINK_PAIR_HUB_INFO, pair_build_hub_info(&info), LINK_PAIR_HUB_INFO);
    assert_int_equal(pair_parse_hub_info(json, &info_back, error, sizeof(error)), 0);
    assert_memory_equal(&info, &info_back, sizeof(info));
    cJSON_Delete(json);

    /* A frame of another type is refused; an ERROR is reported as such. */
    assert_null(
        test_round_trip(LINK_PAIR_SHARE_P, pair_build_share_p(&share_p), LINK_PAIR_CONFIRM_P));
}

/* Parse text as a hello; returns the parser's result and leaves the reason. */
static int test_parse_hello_text(const char *text, char *error, size_t error_size)
{
    struct pair_hello hello;
    cJSON *json = cJSON_Parse(text);
    int result;

    assert_non_null(json);
    result = pair_parse_hello(json, &hello, error, error_size);
    cJSON_Delete(json);
    return result;
}

/* Malformed fields are refused with a reason that names them. */
static void test_refusals(void **state)
{
    struct pair_hello hello = test_hello();
    struct pair_hub_info info = {.device_id = "0123456789ab", .url = "https://x/"};
    char error[TEST_ERROR_SIZE];
    struct pair_share_p share_p;
    cJSON *json;
    (void)state;

#define TEST_ARGON "\"argon2\":{\"passes\":3,\"memory_kib\":32768,\"lanes\":1}"
#define TEST_SALT  "\"salt\":\"000102030405060708090a0b0c0d0e0f\""
    assert_int_equal(test_parse_hello_text("{\"protocol\":1,\"device_id\":\"0123456789ab\","
                                           "\"model\":\"m\",\"firmware\":\"f\"," TEST_SALT
                                           "," TEST_ARGON "}",
                                           error, sizeof(error)),
                     0);
    assert_int_equal(test_parse_hello_text("{\"protocol\":1,\"device_id\":\"0123456789AB\","
                                           "\"model\":\"m\",\"firmware\":\"f\"," TEST_SALT
                                           "," TEST_ARGON "}",
                                           error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "device_id"));
    assert_int_equal(test_parse_hello_text("{\"protocol\":1,\"device_id\":\"0123456789ab\","
                                           "\"model\":\"m\",\"firmware\":\"f\","
                                           "\"salt\":\"0001\"," TEST_ARGON "}",
                                           error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "salt"));
    assert_int_equal(test_parse_hello_text("{\"protocol\":1,\"device_id\":\"0123456789ab\","
                                           "\"model\":\"m\",\"firmware\":\"f\"," TEST_SALT ","
                                           "\"argon2\":{\"passes\":3,\"memory_kib\":4194304,"
                                           "\"lanes\":1}}",
                                           error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "argon2"));
    assert_int_equal(test_parse_hello_text("{\"protocol\":2,\"device_id\":\"0123456789ab\","
                                           "\"model\":\"m\",\"firmware\":\"f\"," TEST_SALT
                                           "," TEST_ARGON "}",
                                           error, sizeof(error)),
                     -1);
    assert_int_equal(test_parse_hello_text("{\"protocol\":1,\"device_id\":\"0123456789ab\","
                                           "\"model\":\"0123456789012345678901234567890123\","
                                           "\"firmware\":\"f\"," TEST_SALT "," TEST_ARGON "}",
                                           error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "model"));

    /* A builder refuses what the parser would. */
    hello.parameters.memory_kib = SETUP_CODE_MEMORY_KIB_MAX + 1;
    assert_null(pair_build_hello(&hello));
    assert_null(pair_build_hub_info(&info));

    json = cJSON_Parse("{\"share_p\":\"04\"}");
    assert_int_equal(pair_parse_share_p(json, &share_p, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "share_p"));
    cJSON_Delete(json);
}

/* Each MAC covers every field: changing any one changes it. */
static void test_macs(void **state)
{
    uint8_t key[PAIR_KEY_SIZE] = {1, 2, 3}, shared[SPAKE2PLUS_KEY_SIZE] = {9};
    uint8_t public_key[PAIR_PUBLIC_KEY_SIZE] = {4, 1};
    uint8_t mac[PAIR_MAC_SIZE], other[PAIR_MAC_SIZE], mac_key[PAIR_KEY_SIZE];
    struct pair_hub_info info = {.device_id = "0123456789ab",
                                 .name = "Front",
                                 .hub_key_sha256 = {1},
                                 .url = "wss://h/link/v1"};
    struct pair_hub_info changed;
    (void)state;

    assert_int_equal(pair_mac_key(shared, mac_key), 0);
    assert_memory_not_equal(mac_key, shared, PAIR_KEY_SIZE);

    assert_int_equal(pair_device_key_mac(key, public_key, mac), 0);
    public_key[64] ^= 1;
    assert_int_equal(pair_device_key_mac(key, public_key, other), 0);
    assert_false(pair_mac_matches(mac, other));
    public_key[64] ^= 1;
    assert_int_equal(pair_device_key_mac(key, public_key, other), 0);
    assert_true(pair_mac_matches(mac, other));

    assert_int_equal(pair_hub_info_mac(key, &info, mac), 0);
    changed = info;
    changed.device_id[11] = 'c';
    assert_int_equal(pair_hub_info_mac(key, &changed, other), 0);
    assert_false(pair_mac_matches(mac, other));
    changed = info;
    snprintf(changed.name, sizeof(changed.name), "Back");
    assert_int_equal(pair_hub_info_mac(key, &changed, other), 0);
    assert_false(pair_mac_matches(mac, other));
    changed = info;
    changed.hub_key_sha256[31] = 1;
    assert_int_equal(pair_hub_info_mac(key, &changed, other), 0);
    assert_false(pair_mac_matches(mac, other));
    changed = info;
    snprintf(changed.url, sizeof(changed.url), "wss://evil/link/v1");
    assert_int_equal(pair_hub_info_mac(key, &changed, other), 0);
    assert_false(pair_mac_matches(mac, other));
    /* Length prefixes: moving a character from name to url changes the MAC. */
    changed = info;
    snprintf(changed.name, sizeof(changed.name), "Fron");
    snprintf(changed.url, sizeof(changed.url), "twss://h/link/v1");
    assert_int_equal(pair_hub_info_mac(key, &changed, other), 0);
    assert_false(pair_mac_matches(mac, other));
}

/* Run SPAKE2+ with the pairing identities: the hub sees hub_key, the
 * doorbell sees seen_key. True if both confirmations pass. */
static bool test_exchange(const uint8_t hub_key[PAIR_HASH_SIZE],
                          const uint8_t seen_key[PAIR_HASH_SIZE])
{
    char hub_identity[PAIR_IDENTITY_SIZE], seen_identity[PAIR_IDENTITY_SIZE];
    char bell_identity[PAIR_IDENTITY_SIZE], error[TEST_ERROR_SIZE];
    struct spake2plus_identities hub_ids, bell_ids;
    struct setup_code_record record;
    uint8_t w0[32], w1[32], share_p[65], share_v[65], confirm_v[32], confirm_p[32];
    struct spake2plus *prover = NULL, *verifier = NULL;
    bool paired = false;

    assert_true(pair_prover_identity(hub_key, hub_identity, sizeof(hub_identity)) > 0);
    assert_true(pair_prover_identity(seen_key, seen_identity, sizeof(seen_identity)) > 0);
    assert_true(pair_verifier_identity("0123456789ab", bell_identity, sizeof(bell_identity)) > 0);
    assert_int_equal(pair_verifier_identity("0123456789AB", error, sizeof(error)), -1);
    pair_identities(&hub_ids, hub_identity, bell_identity);
    pair_identities(&bell_ids, seen_identity, bell_identity);
    assert_int_equal(setup_code_make_record("31415926", &test_cheap, (const uint8_t *)bell_identity,
                                            strlen(bell_identity), &record, error, sizeof(error)),
                     0);
    assert_int_equal(setup_code_derive("31415926", record.salt, &record.parameters,
                                       (const uint8_t *)bell_identity, strlen(bell_identity), w0,
                                       w1, error, sizeof(error)),
                     0);
    prover = spake2plus_prover_new(&hub_ids, w0, w1, error, sizeof(error));
    verifier = spake2plus_verifier_new(&bell_ids, record.w0, record.l, error, sizeof(error));
    assert_non_null(prover);
    assert_non_null(verifier);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    if (spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v, sizeof(confirm_v),
                                  confirm_p, sizeof(confirm_p), error, sizeof(error)) == 0 &&
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)) ==
            0)
        paired = true;
    spake2plus_free(prover);
    spake2plus_free(verifier);
    return paired;
}

/* Same hub key on both sides pairs; a relay with its own key does not. */
static void test_identity_binding(void **state)
{
    uint8_t hub_key[PAIR_HASH_SIZE] = {0x11}, relay_key[PAIR_HASH_SIZE] = {0x22};
    (void)state;

    assert_true(test_exchange(hub_key, hub_key));
    assert_false(test_exchange(hub_key, relay_key));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_macs),
        cmocka_unit_test(test_identity_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
