/*
 * test_link_protocol.c - cmocka tests of the device link v1 codec
 * (common/link_protocol.c and link_messages.c): header byte order,
 * round trips of every message type, each decoder rejection rule, truncation
 * at every length, the typed JSON parsers' range checks, the auth MAC against
 * an independently computed vector, hex and constant-time helpers.
 *
 * Single-threaded; every buffer and cJSON tree is freed by the test that made it.
 * Needs only common/, which is always linked:
 * UNIT_SOURCES:
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"

#define TEST_ERROR_SIZE 128

/* Encode one message with no headroom; the caller frees the result. */
static uint8_t *test_encode(uint8_t type, uint16_t flags, const void *payload, size_t payload_size,
                            size_t *message_size)
{
    struct link_header header = {
        .version = LINK_PROTOCOL_VERSION,
        .type = type,
        .flags = flags,
        .sequence = 7,
        .timestamp_us = 1700000000000000ull,
    };
    uint8_t *message = link_message_encode(&header, payload, payload_size, 0, message_size);
    assert_non_null(message);
    return message;
}

/* Build a raw message (header fields as given) around a text payload; caller frees. */
static uint8_t *test_raw(uint8_t version, uint8_t type, uint16_t flags, const char *payload,
                         size_t *message_size)
{
    size_t payload_size = strlen(payload);
    uint8_t *message = malloc(LINK_HEADER_SIZE + payload_size);
    struct link_header header = {.version = version, .type = type, .flags = flags};

    assert_non_null(message);
    link_header_encode(&header, message);
    memcpy(message + LINK_HEADER_SIZE, payload, payload_size);
    *message_size = LINK_HEADER_SIZE + payload_size;
    return message;
}

/* Decode must fail with a reason containing `expected`, leaving the message cleared. */
static void assert_decode_fails(const uint8_t *data, size_t size, const char *expected)
{
    struct link_message message;
    char error[TEST_ERROR_SIZE];

    memset(&message, 0xa5, sizeof(message));
    assert_int_equal(link_message_decode(data, size, &message, error, sizeof(error)), -1);
    assert_null(message.json);
    assert_null(message.payload);
    assert_int_equal(message.payload_size, 0);
    assert_int_equal(message.header.type, 0);
    assert_true(strlen(error) > 0 && strlen(error) < sizeof(error));
    if (strstr(error, expected) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", error, expected);
}

/* Decode a raw text-payload message and expect failure mentioning `expected`. */
static void assert_raw_fails(uint8_t version, uint8_t type, uint16_t flags, const char *payload,
                             const char *expected)
{
    size_t size;
    uint8_t *message = test_raw(version, type, flags, payload, &size);
    assert_decode_fails(message, size, expected);
    free(message);
}

/* Decode a raw text-payload message and expect success. */
static void assert_raw_decodes(uint8_t type, uint16_t flags, const char *payload)
{
    size_t size;
    struct link_message decoded;
    char error[TEST_ERROR_SIZE];
    uint8_t *message = test_raw(LINK_PROTOCOL_VERSION, type, flags, payload, &size);

    if (link_message_decode(message, size, &decoded, error, sizeof(error)) != 0)
        fail_msg("decode failed: %s", error);
    link_message_clear(&decoded);
    free(message);
}

/* Encode json as `type`, decode it back and return the decoded message (caller clears). */
static void test_json_round_trip(uint8_t type, cJSON *json, struct link_message *decoded,
                                 uint8_t **buffer_out)
{
    size_t size = 0;
    char error[TEST_ERROR_SIZE];

    assert_non_null(json);
    *buffer_out = link_message_encode_json(type, 42, 123456789, json, 8, &size);
    assert_non_null(*buffer_out);
    cJSON_Delete(json);
    if (link_message_decode(*buffer_out + 8, size, decoded, error, sizeof(error)) != 0)
        fail_msg("decode failed: %s", error);
    assert_int_equal(decoded->header.type, type);
    assert_int_equal(decoded->header.sequence, 42);
    assert_int_equal(decoded->header.timestamp_us, 123456789);
    assert_int_equal(decoded->header.flags, 0);
    assert_non_null(decoded->json);
}

/* Parse `text` as JSON and return the tree (caller deletes). */
static cJSON *test_json(const char *text)
{
    cJSON *json = cJSON_Parse(text);
    if (json == NULL)
        fail_msg("test JSON does not parse: %s", text);
    return json;
}

/* ---- framing ------------------------------------------------------------ */

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(link_type_name(LINK_HELLO), "hello");
    assert_string_equal(link_type_name(LINK_VIDEO), "video");
    assert_string_equal(link_type_name(LINK_TALK_AUDIO), "talk_audio");
    assert_string_equal(link_type_name(LINK_COMMAND_RESULT), "command_result");
    assert_string_equal(link_type_name(0x00), "unknown");
    assert_string_equal(link_type_name(0xff), "unknown");
    assert_true(link_type_is_json(LINK_HELLO) && link_type_is_json(LINK_COMMAND_RESULT));
    assert_false(link_type_is_json(LINK_VIDEO) || link_type_is_json(LINK_TALK_AUDIO));
    assert_false(link_type_is_json(0x06));
    assert_true(link_type_is_known(LINK_SNAPSHOT));
    assert_false(link_type_is_known(0x13));
    assert_int_equal(link_type_max_message_size(LINK_VIDEO), LINK_MAX_MESSAGE_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_SNAPSHOT), LINK_MAX_MESSAGE_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_AUDIO), LINK_MAX_AUDIO_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_TALK_AUDIO), LINK_MAX_AUDIO_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_EVENT), LINK_MAX_JSON_SIZE);
    assert_string_equal(link_event_type_name(LINK_EVENT_TAMPER), "tamper");
    assert_string_equal(link_event_type_name((enum link_event_type)99), "unknown");
    assert_string_equal(link_command_type_name(LINK_COMMAND_SET_MOTION), "set_motion");
    /* The numbers of removed commands stay reserved; the others keep theirs. */
    assert_int_equal(LINK_COMMAND_SET_VIDEO, 2);
    assert_int_equal(LINK_COMMAND_KEYFRAME, 3);
    assert_int_equal(LINK_COMMAND_SNAPSHOT, 4);
    assert_int_equal(LINK_COMMAND_SET_MOTION, 10);
    assert_int_equal(LINK_COMMAND_QUICK_REPLY, 6); /* the number it always had */
    assert_int_equal(LINK_COMMAND_AUTO_REPLY, 11);
    assert_int_equal(LINK_COMMAND_ANSWERED, 12);
    assert_string_equal(link_command_type_name(LINK_COMMAND_QUICK_REPLY), "quick_reply");
    assert_string_equal(link_command_type_name(LINK_COMMAND_AUTO_REPLY), "auto_reply");
    assert_string_equal(link_command_type_name(LINK_COMMAND_ANSWERED), "answered");
    for (int reserved = 0; reserved <= 9; reserved = reserved == 1 ? 5 : reserved + 1)
        if (reserved != LINK_COMMAND_QUICK_REPLY)
            assert_string_equal(link_command_type_name((enum link_command_type)reserved),
                                "unknown");
    assert_string_equal(link_type_name(LINK_QUICK_REPLY_DATA), "quick_reply_data");
    assert_false(link_type_is_json(LINK_QUICK_REPLY_DATA));
    assert_int_equal(link_type_max_message_size(LINK_QUICK_REPLY_DATA),
                     LINK_HEADER_SIZE + LINK_QUICK_REPLY_DATA_HEADER + LINK_QUICK_REPLY_CHUNK_MAX);
    assert_string_equal(link_command_type_name((enum link_command_type) - 1), "unknown");
}

static void test_header_byte_order(void **state)
{
    struct link_header header = {
        .version = 1,
        .type = LINK_VIDEO,
        .flags = 0x0001,
        .sequence = 0x01020304,
        .timestamp_us = 0x0102030405060708ull,
    };
    static const uint8_t expected[LINK_HEADER_SIZE] = {0x01, 0x10, 0x00, 0x01, 0x01, 0x02,
                                                       0x03, 0x04, 0x01, 0x02, 0x03, 0x04,
                                                       0x05, 0x06, 0x07, 0x08};
    uint8_t encoded[LINK_HEADER_SIZE + 1] = {0};
    struct link_message message;
    char error[TEST_ERROR_SIZE];

    (void)state;
    link_header_encode(&header, encoded);
    assert_memory_equal(encoded, expected, LINK_HEADER_SIZE);
    encoded[LINK_HEADER_SIZE] = 0x65; /* one payload byte */
    assert_int_equal(link_message_decode(encoded, sizeof(encoded), &message, error, sizeof(error)),
                     0);
    assert_int_equal(message.header.flags, 0x0001);
    assert_int_equal(message.header.sequence, 0x01020304);
    assert_true(message.header.timestamp_us == 0x0102030405060708ull);
    link_message_clear(&message);

    header.sequence = 0xfffffffe;
    header.timestamp_us = 0xfedcba9876543210ull;
    header.flags = 0;
    link_header_encode(&header, encoded);
    assert_int_equal(link_message_decode(encoded, sizeof(encoded), &message, error, sizeof(error)),
                     0);
    assert_int_equal(message.header.sequence, 0xfffffffe);
    assert_true(message.header.timestamp_us == 0xfedcba9876543210ull);
    link_message_clear(&message);
}

static void test_media_round_trip(void **state)
{
    static const uint8_t types[] = {LINK_VIDEO, LINK_AUDIO, LINK_SNAPSHOT, LINK_TALK_AUDIO};
    static const uint8_t payload[] = {0x00, 0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x00};

    (void)state;
    for (size_t i = 0; i < sizeof(types); i++) {
        struct link_header header = {
            .version = LINK_PROTOCOL_VERSION,
            .type = types[i],
            .flags = types[i] == LINK_VIDEO ? LINK_FLAG_KEYFRAME : 0,
            .sequence = 1000 + (uint32_t)i,
            .timestamp_us = 1700000000123456ull,
        };
        struct link_message message;
        char error[TEST_ERROR_SIZE];
        size_t size = 0;
        uint8_t *buffer = link_message_encode(&header, payload, sizeof(payload), 16, &size);

        assert_non_null(buffer);
        assert_int_equal(size, LINK_HEADER_SIZE + sizeof(payload));
        assert_int_equal(link_message_decode(buffer + 16, size, &message, error, sizeof(error)), 0);
        assert_memory_equal(&message.header, &header, sizeof(header));
        assert_ptr_equal(message.payload, buffer + 16 + LINK_HEADER_SIZE); /* not copied */
        assert_int_equal(message.payload_size, sizeof(payload));
        assert_null(message.json);
        link_message_clear(&message);
        link_message_clear(&message); /* safe twice */
        free(buffer);
    }
}

static void test_size_limits(void **state)
{
    uint8_t *big = calloc(1, LINK_MAX_MESSAGE_SIZE + 1);
    struct link_header header = {.version = 1, .type = LINK_AUDIO};
    struct link_message message;
    char error[TEST_ERROR_SIZE];
    size_t size;

    (void)state;
    assert_non_null(big);
    big[0] = 1;
    big[16] = 0xff;

    big[1] = LINK_AUDIO; /* exactly at the limit is fine, one more byte is not */
    assert_int_equal(link_message_decode(big, LINK_MAX_AUDIO_SIZE, &message, error, sizeof(error)),
                     0);
    link_message_clear(&message);
    assert_decode_fails(big, LINK_MAX_AUDIO_SIZE + 1, "exceeds limit");
    big[1] = LINK_TALK_AUDIO;
    assert_decode_fails(big, LINK_MAX_AUDIO_SIZE + 1, "exceeds limit");
    big[1] = LINK_VIDEO;
    assert_int_equal(
        link_message_decode(big, LINK_MAX_MESSAGE_SIZE, &message, error, sizeof(error)), 0);
    link_message_clear(&message);
    assert_decode_fails(big, LINK_MAX_MESSAGE_SIZE + 1, "exceeds limit");
    big[1] = LINK_SNAPSHOT;
    assert_decode_fails(big, LINK_MAX_MESSAGE_SIZE + 1, "exceeds limit");

    /* A JSON message one byte over: an object padded with whitespace. */
    big[1] = LINK_TELEMETRY;
    memset(big + LINK_HEADER_SIZE, ' ', LINK_MAX_JSON_SIZE - LINK_HEADER_SIZE + 1);
    big[LINK_HEADER_SIZE] = '{';
    big[LINK_HEADER_SIZE + 1] = '}';
    assert_int_equal(link_message_decode(big, LINK_MAX_JSON_SIZE, &message, error, sizeof(error)),
                     0);
    link_message_clear(&message);
    assert_decode_fails(big, LINK_MAX_JSON_SIZE + 1, "exceeds limit");

    /* The encoder refuses what the decoder would refuse for size. */
    assert_null(
        link_message_encode(&header, big, LINK_MAX_AUDIO_SIZE - LINK_HEADER_SIZE + 1, 0, &size));
    assert_int_equal(size, 0);
    assert_null(link_message_encode(&header, big, 16, SIZE_MAX - 8, &size));
    free(big);
}

static void test_decode_rejects_header(void **state)
{
    uint8_t header_only[LINK_HEADER_SIZE] = {1, LINK_VIDEO};
    struct link_message message;
    char small[8];

    (void)state;
    for (size_t size = 0; size < LINK_HEADER_SIZE; size++)
        assert_decode_fails(header_only, size, "shorter than the header");
    assert_decode_fails(NULL, 0, "shorter than the header");

    assert_raw_fails(0, LINK_VIDEO, 0, "x", "unsupported version");
    assert_raw_fails(2, LINK_VIDEO, 0, "x", "unsupported version");
    assert_raw_fails(0xff, LINK_HELLO, 0, "{}", "unsupported version");
    assert_raw_fails(1, 0x00, 0, "x", "unknown message type");
    assert_raw_fails(1, 0x06, 0, "x", "unknown message type");
    assert_raw_fails(1, 0xff, 0, "x", "unknown message type");

    /* Empty payloads: media and JSON. */
    assert_decode_fails(header_only, sizeof(header_only), "empty payload");
    header_only[1] = LINK_AUDIO;
    assert_decode_fails(header_only, sizeof(header_only), "empty payload");
    header_only[1] = LINK_HELLO;
    assert_decode_fails(header_only, sizeof(header_only), "empty payload");

    /* Flags: only the keyframe bit, only on video. */
    assert_raw_decodes(LINK_VIDEO, LINK_FLAG_KEYFRAME, "x");
    assert_raw_fails(1, LINK_VIDEO, 0x0002, "x", "undefined flags");
    assert_raw_fails(1, LINK_VIDEO, 0x8001, "x", "undefined flags");
    assert_raw_fails(1, LINK_AUDIO, LINK_FLAG_KEYFRAME, "x", "flags");
    assert_raw_fails(1, LINK_SNAPSHOT, LINK_FLAG_KEYFRAME, "x", "flags");
    assert_raw_fails(1, LINK_HELLO, 0x0100, "{}", "flags");

    /* A tiny or absent error buffer is never overrun. */
    assert_int_equal(link_message_decode(header_only, 3, &message, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(link_message_decode(header_only, 3, &message, NULL, 0), -1);
    assert_int_equal(link_message_decode(header_only, 3, &message, small, 0), -1);
}

static void test_decode_rejects_json(void **state)
{
    (void)state;
    assert_raw_decodes(LINK_HELLO, 0, "{}");
    assert_raw_decodes(LINK_HELLO, 0, " \t\r\n{ \"a\" : [1, 2] } \n\t ");
    assert_raw_fails(1, LINK_HELLO, 0, "{", "syntax error");
    assert_raw_fails(1, LINK_HELLO, 0, "{\"a\":}", "syntax error");
    assert_raw_fails(1, LINK_HELLO, 0, " ", "syntax error");
    assert_raw_fails(1, LINK_HELLO, 0, "[]", "not an object");
    assert_raw_fails(1, LINK_EVENT, 0, "\"ring\"", "not an object");
    assert_raw_fails(1, LINK_EVENT, 0, "42", "not an object");
    assert_raw_fails(1, LINK_EVENT, 0, "null", "not an object");
    assert_raw_fails(1, LINK_COMMAND, 0, "{}{}", "trailing data");
    assert_raw_fails(1, LINK_COMMAND, 0, "{} x", "trailing data");
    assert_raw_fails(1, LINK_COMMAND, 0, "{\"a\":\"b\x01\"}", "control character");
    assert_raw_fails(1, LINK_COMMAND, 0, "{\"a\":\"\xc3\x28\"}", "invalid UTF-8");
    assert_raw_fails(1, LINK_COMMAND, 0, "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8");
    assert_raw_decodes(LINK_COMMAND, 0,
                       "{\"a\":\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x94\"}");

    /* Trailing NUL byte and embedded NUL are not whitespace. */
    {
        static const uint8_t with_nul[] = {1, LINK_HELLO, 0, 0, 0, 0, 0,   0,   0, 0,
                                           0, 0,          0, 0, 0, 0, '{', '}', 0};
        assert_decode_fails(with_nul, sizeof(with_nul), "control character");
    }

    /* The reason never quotes the input. */
    {
        size_t size;
        uint8_t *message = test_raw(1, LINK_HELLO, 0, "{\"SECRETMARKER\":", &size);
        struct link_message decoded;
        char error[TEST_ERROR_SIZE];
        assert_int_equal(link_message_decode(message, size, &decoded, error, sizeof(error)), -1);
        assert_null(strstr(error, "SECRETMARKER"));
        free(message);
    }
}

/* Every proper prefix of a JSON message fails; media prefixes fail up to the header. */
static void test_truncation_at_every_length(void **state)
{
    static const uint8_t types[] = {LINK_HELLO, LINK_EVENT, LINK_VIDEO, LINK_AUDIO};
    const char *payload = "{\"type\":\"motion\",\"id\":3,\"score\":0.5,\"boxes\":[{\"x\":0.1,"
                          "\"y\":0.2,\"w\":0.3,\"h\":0.4}]}";

    (void)state;
    for (size_t t = 0; t < sizeof(types); t++) {
        size_t size;
        uint8_t *whole = test_encode(types[t], 0, payload, strlen(payload), &size);
        for (size_t length = 0; length < size; length++) {
            uint8_t *prefix = malloc(length > 0 ? length : 1); /* exact size: ASan sees overreads */
            struct link_message message;
            char error[TEST_ERROR_SIZE];
            int expected = link_type_is_json(types[t]) || length <= LINK_HEADER_SIZE ? -1 : 0;
            assert_non_null(prefix);
            memcpy(prefix, whole, length);
            assert_int_equal(link_message_decode(prefix, length, &message, error, sizeof(error)),
                             expected);
            link_message_clear(&message);
            free(prefix);
        }
        free(whole);
    }
}

static void test_encode_json_rejects(void **state)
{
    cJSON *array = cJSON_CreateArray();
    cJSON *object = cJSON_CreateObject();
    size_t size = 99;

    (void)state;
    assert_null(link_message_encode_json(LINK_HELLO, 0, 0, array, 0, &size));
    assert_int_equal(size, 0);
    assert_null(link_message_encode_json(LINK_VIDEO, 0, 0, object, 0, &size));
    assert_null(link_message_encode_json(0x77, 0, 0, object, 0, &size));
    assert_null(link_message_encode_json(LINK_HELLO, 0, 0, NULL, 0, &size));
    cJSON_Delete(array);
    cJSON_Delete(object);
}

/* ---- typed round trips ------------------------------------------------------ */

static void test_hello_round_trip(void **state)
{
    struct link_hello hello = {.device_id = "front-door_01",
                               .firmware = "1.4.2 (build 77)",
                               .protocol = 1,
                               .width = 1920,
                               .height = 1080,
                               .fps = 30,
                               .event_snapshots = 1};
    struct link_hello parsed;
    struct link_message message;
    uint8_t *buffer;
    char error[TEST_ERROR_SIZE];

    (void)state;
    test_json_round_trip(LINK_HELLO, link_build_hello(&hello), &message, &buffer);
    assert_int_equal(link_parse_hello(message.json, &parsed, error, sizeof(error)), 0);
    assert_memory_equal(&parsed, &hello, sizeof(hello));
    link_message_clear(&message);
    free(buffer);
}

static void test_challenge_auth_round_trip(void **state)
{
    struct link_challenge challenge, parsed_challenge;
    struct link_auth auth, parsed_auth;
    struct link_message message;
    uint8_t *buffer;
    char error[TEST_ERROR_SIZE];

    (void)state;
    for (int i = 0; i < LINK_NONCE_SIZE; i++)
        challenge.nonce[i] = (uint8_t)(0xf0 + i);
    for (int i = 0; i < LINK_MAC_SIZE; i++)
        auth.mac[i] = (uint8_t)(i * 7);
    test_json_round_trip(LINK_CHALLENGE, link_build_challenge(&challenge), &message, &buffer);
    assert_int_equal(link_parse_challenge(message.json, &parsed_challenge, error, sizeof(error)),
                     0);
    assert_memory_equal(parsed_challenge.nonce, challenge.nonce, LINK_NONCE_SIZE);
    link_message_clear(&message);
    free(buffer);
    test_json_round_trip(LINK_AUTH, link_build_auth(&auth), &message, &buffer);
    assert_int_equal(link_parse_auth(message.json, &parsed_auth, error, sizeof(error)), 0);
    assert_memory_equal(parsed_auth.mac, auth.mac, LINK_MAC_SIZE);
    link_message_clear(&message);
    free(buffer);
}

static void test_welcome_error_result_round_trip(void **state)
{
    cJSON *settings = test_json("{\"chime\":true,\"motion\":{\"sensitivity\":5}}");
    struct link_welcome welcome = {.name = "Front door \xc3\xa9", .settings = settings};
    struct link_welcome parsed_welcome;
    struct link_error link_error = {.code = "auth_failed", .reason = "unknown device"};
    struct link_error parsed_error;
    struct link_command_result result = {.id = 4000000000u, .ok = 0, .reason = "busy"};
    struct link_command_result parsed_result;
    struct link_message message;
    uint8_t *buffer;
    char error[TEST_ERROR_SIZE];

    (void)state;
    test_json_round_trip(LINK_WELCOME, link_build_welcome(&welcome), &message, &buffer);
    assert_int_equal(link_parse_welcome(message.json, &parsed_welcome, error, sizeof(error)), 0);
    assert_string_equal(parsed_welcome.name, welcome.name);
    assert_true(cJSON_Compare(parsed_welcome.settings, settings, 1));
    link_message_clear(&message);
    free(buffer);
    cJSON_Delete(settings);

    welcome.settings = NULL; /* built as {} */
    test_json_round_trip(LINK_WELCOME, link_build_welcome(&welcome), &message, &buffer);
    assert_int_equal(link_parse_welcome(message.json, &parsed_welcome, error, sizeof(error)), 0);
    assert_true(cJSON_IsObject(parsed_welcome.settings));
    assert_null(parsed_welcome.settings->child);
    link_message_clear(&message);
    free(buffer);

    test_json_round_trip(LINK_ERROR, link_build_error(&link_error), &message, &buffer);
    assert_int_equal(link_parse_error(message.json, &parsed_error, error, sizeof(error)), 0);
    assert_memory_equal(&parsed_error, &link_error, sizeof(link_error));
    link_message_clear(&message);
    free(buffer);

    test_json_round_trip(LINK_COMMAND_RESULT, link_build_command_result(&result), &message,
                         &buffer);
    assert_int_equal(link_parse_command_result(message.json, &parsed_result, error, sizeof(error)),
                     0);
    assert_memory_equal(&parsed_result, &result, sizeof(result));
    link_message_clear(&message);
    free(buffer);
}

static void test_event_round_trip(void **state)
{
    struct link_event event = {
        .type = LINK_EVENT_MOTION, .id = 17, .score = 0.8125, .active = 0, .auto_reply = 9};
    struct link_event parsed;
    struct link_message message;
    uint8_t *buffer;
    char error[TEST_ERROR_SIZE];

    (void)state;
    event.box_count = LINK_MAX_BOXES;
    for (int i = 0; i < LINK_MAX_BOXES; i++)
        event.boxes[i] = (struct link_box){0.01 * i, 0.1, 0.2, 0.9};
    event.boxes[0] = (struct link_box){0.7, 0.6, 0.3, 0.4}; /* touching the right/bottom edge */
    test_json_round_trip(LINK_EVENT, link_build_event(&event), &message, &buffer);
    assert_int_equal(link_parse_event(message.json, &parsed, error, sizeof(error)), 0);
    /* Computed values come back rounded to 15 significant digits; then they are stable. */
    for (int i = 0; i < LINK_MAX_BOXES; i++)
        assert_true(fabs(parsed.boxes[i].x - event.boxes[i].x) < 1e-14);
    assert_memory_equal(&parsed.boxes[0], &event.boxes[0], sizeof(event.boxes[0]));
    assert_true(parsed.score == event.score);
    event = parsed;
    link_message_clear(&message);
    free(buffer);
    test_json_round_trip(LINK_EVENT, link_build_event(&event), &message, &buffer);
    assert_int_equal(link_parse_event(message.json, &parsed, error, sizeof(error)), 0);
    assert_memory_equal(&parsed, &event, sizeof(event));
    link_message_clear(&message);
    free(buffer);

    for (int type = LINK_EVENT_RING; type <= LINK_EVENT_TAMPER; type++) {
        struct link_event simple = {
            .type = (enum link_event_type)type, .id = 1, .score = 1, .active = 1};
        test_json_round_trip(LINK_EVENT, link_build_event(&simple), &message, &buffer);
        assert_int_equal(link_parse_event(message.json, &parsed, error, sizeof(error)), 0);
        assert_memory_equal(&parsed, &simple, sizeof(simple));
        link_message_clear(&message);
        free(buffer);
    }
}

static void test_telemetry_round_trip(void **state)
{
    struct link_telemetry telemetry = {.battery_percent = 87,
                                       .rssi_dbm = -61,
                                       .temperature_c = 41.25,
                                       .uptime_s = 999999999999999ull,
                                       .firmware = "1.4.2"};
    struct link_telemetry parsed;
    struct link_message message;
    uint8_t *buffer;
    char error[TEST_ERROR_SIZE];

    (void)state;
    test_json_round_trip(LINK_TELEMETRY, link_build_telemetry(&telemetry), &message, &buffer);
    assert_int_equal(link_parse_telemetry(message.json, &parsed, error, sizeof(error)), 0);
    assert_memory_equal(&parsed, &telemetry, sizeof(telemetry));
    link_message_clear(&message);
    free(buffer);
}

static void test_command_round_trip(void **state)
{
    cJSON *motion = test_json("{\"sensitivity\":50,\"zones\":[[[0,0],[1,0],[1,1]]]}");
    struct link_command commands[] = {
        {.type = LINK_COMMAND_SET_VIDEO,
         .id = 3,
         .bitrate_kbps = 1500,
         .width = 1280,
         .height = 720,
         .fps = 25},
        {.type = LINK_COMMAND_SET_VIDEO, .id = 4, .bitrate_kbps = 50},
        {.type = LINK_COMMAND_KEYFRAME, .id = 5},
        {.type = LINK_COMMAND_SNAPSHOT, .id = 6, .request_id = 99},
        {.type = LINK_COMMAND_SET_MOTION, .id = UINT32_MAX, .motion = motion},
        {.type = LINK_COMMAND_QUICK_REPLY, .id = 7, .reply_id = 12, .reply_version = 3},
        {.type = LINK_COMMAND_AUTO_REPLY,
         .id = 8,
         .reply_id = 12,
         .reply_version = 3,
         .delay_s = 600},
        {.type = LINK_COMMAND_AUTO_REPLY, .id = 9},
        {.type = LINK_COMMAND_ANSWERED, .id = 10},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        struct link_command parsed;
        struct link_message message;
        uint8_t *buffer;
        char error[TEST_ERROR_SIZE];

        test_json_round_trip(LINK_COMMAND, link_build_command(&commands[i]), &message, &buffer);
        if (link_parse_command(message.json, &parsed, error, sizeof(error)) != 0)
            fail_msg("command %zu: %s", i, error);
        if (commands[i].motion != NULL)
            assert_true(cJSON_Compare(parsed.motion, commands[i].motion, 1));
        parsed.motion = commands[i].motion;
        assert_memory_equal(&parsed, &commands[i], sizeof(parsed));
        link_message_clear(&message);
        free(buffer);
    }
    cJSON_Delete(motion);
}

/* ---- typed parser rules ------------------------------------------------------ */

typedef int (*test_parser)(const cJSON *json, void *out, char *error, size_t error_size);

static int test_parse_hello(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_hello(json, out, error, error_size);
}
static int test_parse_event(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_event(json, out, error, error_size);
}
static int test_parse_telemetry(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_telemetry(json, out, error, error_size);
}
static int test_parse_command(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_command(json, out, error, error_size);
}
static int test_parse_welcome(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_welcome(json, out, error, error_size);
}
static int test_parse_error(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_error(json, out, error, error_size);
}
static int test_parse_result(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_command_result(json, out, error, error_size);
}
static int test_parse_challenge(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_challenge(json, out, error, error_size);
}
static int test_parse_auth(const cJSON *json, void *out, char *error, size_t error_size)
{
    return link_parse_auth(json, out, error, error_size);
}

/* Parse text with parser; expect failure whose reason contains `expected` (NULL: success). */
static void assert_parse(test_parser parser, const char *text, const char *expected)
{
    union {
        struct link_hello hello;
        struct link_event event;
        struct link_telemetry telemetry;
        struct link_command command;
        struct link_welcome welcome;
        struct link_error error;
        struct link_command_result result;
        struct link_challenge challenge;
        struct link_auth auth;
    } out;
    char error[TEST_ERROR_SIZE] = "unset";
    cJSON *json = test_json(text);
    int result = parser(json, &out, error, sizeof(error));

    if (expected == NULL) {
        if (result != 0)
            fail_msg("%s: unexpected failure: %s", text, error);
        assert_string_equal(error, "");
    } else {
        if (result != -1)
            fail_msg("%s: unexpectedly accepted", text);
        if (strstr(error, expected) == NULL)
            fail_msg("%s: reason \"%s\" lacks \"%s\"", text, error, expected);
    }
    cJSON_Delete(json);
}

static void test_hello_rules(void **state)
{
    char text[512];
    char long_id[70];

    (void)state;
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"firmware\":\"\",\"protocol\":1}", NULL);
    assert_parse(test_parse_hello, "{\"firmware\":\"1\",\"protocol\":1}", "device_id: missing");
    assert_parse(test_parse_hello, "{\"device_id\":5,\"firmware\":\"1\",\"protocol\":1}",
                 "device_id: not a string");
    assert_parse(test_parse_hello, "{\"device_id\":\"\",\"firmware\":\"1\",\"protocol\":1}",
                 "device_id");
    assert_parse(test_parse_hello, "{\"device_id\":\"a b\",\"firmware\":\"1\",\"protocol\":1}",
                 "device_id");
    assert_parse(test_parse_hello, "{\"device_id\":\"a/..\",\"firmware\":\"1\",\"protocol\":1}",
                 "device_id");
    memset(long_id, 'x', 63);
    long_id[63] = '\0';
    snprintf(text, sizeof(text), "{\"device_id\":\"%s\",\"firmware\":\"1\",\"protocol\":1}",
             long_id);
    assert_parse(test_parse_hello, text, NULL);
    strcat(long_id, "y"); /* 64 characters: too long, not truncated */
    snprintf(text, sizeof(text), "{\"device_id\":\"%s\",\"firmware\":\"1\",\"protocol\":1}",
             long_id);
    assert_parse(test_parse_hello, text, "device_id: too long");
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"protocol\":1}", "firmware: missing");
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"firmware\":\"1\\n2\",\"protocol\":1}",
                 "firmware");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\\u00002\",\"protocol\":1}",
                 NULL); /* cJSON stops the string at U+0000: the rest is dropped, still safe */
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":2}",
                 "protocol: unsupported");
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":\"1\"}",
                 "protocol: not a number");
    assert_parse(test_parse_hello, "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1.5}",
                 "protocol: not an integer");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"width\":641,"
                 "\"height\":480}",
                 "width");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"width\":640}",
                 "width and height");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"width\":4000,"
                 "\"height\":480}",
                 "width: out of range");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"fps\":61}", "fps");
    memset(text, 0, sizeof(text));
    strcpy(text, "{\"device_id\":\"a\",\"protocol\":1,\"firmware\":\"");
    memset(text + strlen(text), 'v', 128); /* 128 bytes do not fit 128 with the NUL */
    strcat(text, "\"}");
    assert_parse(test_parse_hello, text, "firmware: too long");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"event_snapshots\":1}",
                 "event_snapshots: not a boolean");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,"
                 "\"event_snapshots\":true}",
                 NULL);
}

static void test_event_rules(void **state)
{
    struct link_event event;
    cJSON *json = test_json("{\"type\":\"ring\",\"id\":0}");
    char error[TEST_ERROR_SIZE];
    char text[2048];

    (void)state;
    assert_int_equal(link_parse_event(json, &event, error, sizeof(error)), 0);
    assert_true(event.score == 1.0); /* defaults */
    assert_int_equal(event.active, 1);
    assert_int_equal(event.box_count, 0);
    cJSON_Delete(json);

    /* Numbers are taken to 15 significant digits; a duplicate field: the first counts. */
    json = test_json("{\"type\":\"motion\",\"id\":5,\"id\":6,\"score\":0.12345678901234567}");
    assert_int_equal(link_parse_event(json, &event, error, sizeof(error)), 0);
    assert_true(event.score == 0.123456789012346);
    assert_int_equal(event.id, 5);
    cJSON_Delete(json);

    assert_parse(test_parse_event, "{\"id\":1}", "type: missing");
    assert_parse(test_parse_event, "{\"type\":\"person\",\"id\":1}", "type: unknown");
    assert_parse(test_parse_event, "{\"type\":\"ring\"}", "id: missing");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":-1}", "id: out of range");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":4294967296}", "id: out of range");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":4294967295}", NULL);
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1e400}", "id: out of range");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1,\"score\":1.01}", "score");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1,\"score\":-0.1}", "score");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1,\"active\":1}",
                 "active: not a boolean");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1,\"boxes\":{}}",
                 "boxes: not an array");
    assert_parse(test_parse_event, "{\"type\":\"ring\",\"id\":1,\"boxes\":[1]}",
                 "boxes: entry is not an object");
    assert_parse(test_parse_event,
                 "{\"type\":\"motion\",\"id\":1,\"boxes\":[{\"x\":0.5,\"y\":0,\"w\":0.6,\"h\":1}]}",
                 "beyond the frame");
    assert_parse(
        test_parse_event,
        "{\"type\":\"motion\",\"id\":1,\"boxes\":[{\"x\":0,\"y\":0.5,\"w\":1,\"h\":0.51}]}",
        "beyond the frame");
    assert_parse(test_parse_event,
                 "{\"type\":\"motion\",\"id\":1,\"boxes\":[{\"x\":0,\"y\":0,\"w\":0,\"h\":1}]}",
                 "w and h");
    assert_parse(test_parse_event,
                 "{\"type\":\"motion\",\"id\":1,\"boxes\":[{\"x\":-0.1,\"y\":0,\"w\":1,\"h\":1}]}",
                 "x: out of range");
    assert_parse(test_parse_event, "{\"type\":\"motion\",\"id\":1,\"boxes\":[{\"x\":0,\"y\":0}]}",
                 "w: missing");
    strcpy(text, "{\"type\":\"motion\",\"id\":1,\"boxes\":[");
    for (int i = 0; i < LINK_MAX_BOXES + 1; i++)
        strcat(text,
               i == 0 ? "{\"x\":0,\"y\":0,\"w\":1,\"h\":1}" : ",{\"x\":0,\"y\":0,\"w\":1,\"h\":1}");
    strcat(text, "]}");
    assert_parse(test_parse_event, text, "boxes: at most 16");
}

static void test_telemetry_rules(void **state)
{
    struct link_telemetry telemetry;
    char error[TEST_ERROR_SIZE];
    cJSON *json = test_json("{\"temperature_c\":-5.5,\"uptime_s\":0,\"firmware\":\"x\"}");

    (void)state;
    assert_int_equal(link_parse_telemetry(json, &telemetry, error, sizeof(error)), 0);
    assert_int_equal(telemetry.battery_percent, -1); /* defaults */
    assert_int_equal(telemetry.rssi_dbm, 0);
    cJSON_Delete(json);

#define TELEMETRY_TAIL ",\"temperature_c\":20,\"uptime_s\":5,\"firmware\":\"x\"}"
    assert_parse(test_parse_telemetry, "{\"battery_percent\":101" TELEMETRY_TAIL,
                 "battery_percent");
    assert_parse(test_parse_telemetry, "{\"battery_percent\":-2" TELEMETRY_TAIL, "battery_percent");
    assert_parse(test_parse_telemetry, "{\"battery_percent\":100" TELEMETRY_TAIL, NULL);
    assert_parse(test_parse_telemetry, "{\"rssi_dbm\":1" TELEMETRY_TAIL, "rssi_dbm");
    assert_parse(test_parse_telemetry, "{\"rssi_dbm\":-151" TELEMETRY_TAIL, "rssi_dbm");
    assert_parse(test_parse_telemetry, "{\"rssi_dbm\":-150" TELEMETRY_TAIL, NULL);
    assert_parse(test_parse_telemetry, "{\"rssi_dbm\":null" TELEMETRY_TAIL,
                 "rssi_dbm: not a number");
#undef TELEMETRY_TAIL
    assert_parse(test_parse_telemetry, "{\"temperature_c\":20,\"uptime_s\":-1,\"firmware\":\"x\"}",
                 "uptime_s");
    assert_parse(test_parse_telemetry, "{\"temperature_c\":20,\"uptime_s\":0.5,\"firmware\":\"x\"}",
                 "uptime_s");
    assert_parse(test_parse_telemetry,
                 "{\"temperature_c\":20,\"uptime_s\":1e300,\"firmware\":\"x\"}", "uptime_s");
    assert_parse(test_parse_telemetry,
                 "{\"temperature_c\":20,\"uptime_s\":1e15,\"firmware\":\"x\"}", "uptime_s");
    assert_parse(test_parse_telemetry,
                 "{\"temperature_c\":20,\"uptime_s\":999999999999999,\"firmware\":\"x\"}", NULL);
    assert_parse(test_parse_telemetry, "{\"temperature_c\":20,\"uptime_s\":1}",
                 "firmware: missing");
    assert_parse(test_parse_telemetry, "{\"uptime_s\":1,\"firmware\":\"x\"}",
                 "temperature_c: missing");
    assert_parse(test_parse_telemetry, "{\"temperature_c\":900,\"uptime_s\":1,\"firmware\":\"x\"}",
                 "temperature_c");
}

static void test_command_rules(void **state)
{
    struct link_command command;
    char error[TEST_ERROR_SIZE];
    cJSON *json =
        test_json("{\"cmd\":\"set_video\",\"id\":1,\"bitrate_kbps\":800,\"stray\":\"x\"}");

    (void)state;
    assert_int_equal(link_parse_command(json, &command, error, sizeof(error)), 0);
    assert_int_equal(command.bitrate_kbps, 800);
    assert_int_equal(command.width + command.height + command.fps, 0); /* 0 = unchanged */
    cJSON_Delete(json);
    json = test_json("{\"cmd\":\"snapshot\",\"id\":1}");
    assert_int_equal(link_parse_command(json, &command, error, sizeof(error)), 0);
    assert_int_equal(command.request_id, 0);
    cJSON_Delete(json);

    assert_parse(test_parse_command, "{\"id\":1}", "cmd: missing");
    assert_parse(test_parse_command, "{\"cmd\":\"explode\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"keyframe\"}", "id: missing");
    /* Commands nothing sent are gone; their names are unknown now. */
    assert_parse(test_parse_command, "{\"cmd\":\"stream_on\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"stream_off\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"settings\",\"id\":1,\"settings\":{}}",
                 "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"quick_reply\",\"id\":1,\"reply_id\":2}",
                 "version: missing");
    assert_parse(test_parse_command,
                 "{\"cmd\":\"quick_reply\",\"id\":1,\"reply_id\":0,\"version\":1}", "reply_id");
    assert_parse(test_parse_command,
                 "{\"cmd\":\"auto_reply\",\"id\":1,\"reply_id\":3,\"version\":1,\"delay_s\":0}",
                 "delay_s");
    assert_parse(test_parse_command,
                 "{\"cmd\":\"auto_reply\",\"id\":1,\"reply_id\":3,\"delay_s\":5}", "version");
    assert_parse(test_parse_command, "{\"cmd\":\"auto_reply\",\"id\":1,\"reply_id\":0}", NULL);
    assert_parse(test_parse_command, "{\"cmd\":\"answered\",\"id\":1}", NULL);
    assert_parse(test_parse_command, "{\"cmd\":\"chime\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"reboot\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"firmware_update\",\"id\":1}", "cmd: unknown");
    assert_parse(test_parse_command, "{\"cmd\":\"set_motion\",\"id\":1}", "motion: missing");
    assert_parse(test_parse_command, "{\"cmd\":\"set_motion\",\"id\":1,\"motion\":[]}",
                 "motion: not an object");
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"bitrate_kbps\":49}",
                 "bitrate_kbps");
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"bitrate_kbps\":20001}",
                 "bitrate_kbps");
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"bitrate_kbps\":20000}",
                 NULL);
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"width\":158,\"height\":90}",
                 "width");
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"width\":160,\"height\":91}",
                 "height");
    assert_parse(test_parse_command,
                 "{\"cmd\":\"set_video\",\"id\":1,\"width\":3840,\"height\":2160,\"fps\":60}",
                 NULL);
    assert_parse(test_parse_command,
                 "{\"cmd\":\"set_video\",\"id\":1,\"width\":3842,\"height\":2160}", "width");
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"fps\":-1}", "fps");
}

static void test_other_rules(void **state)
{
    (void)state;
    assert_parse(test_parse_welcome, "{\"name\":\"Front\"}", NULL);
    assert_parse(test_parse_welcome, "{\"name\":\"\"}", "name");
    assert_parse(test_parse_welcome, "{}", "name: missing");
    assert_parse(test_parse_welcome, "{\"name\":\"x\",\"settings\":1}", "settings: not an object");
    assert_parse(test_parse_error, "{\"code\":\"auth_failed\"}", NULL);
    assert_parse(test_parse_error, "{\"code\":\"Auth\"}", "code");
    assert_parse(test_parse_error, "{\"code\":\"\"}", "code");
    assert_parse(test_parse_error, "{\"code\":\"x\",\"reason\":\"a\\u0007b\"}", "reason");
    assert_parse(test_parse_result, "{\"id\":3,\"ok\":true}", NULL);
    assert_parse(test_parse_result, "{\"id\":3}", "ok: missing");
    assert_parse(test_parse_result, "{\"id\":3,\"ok\":\"yes\"}", "ok: not a boolean");
    assert_parse(test_parse_challenge, "{\"nonce\":\"00\"}", "nonce: must be 64 hex digits");
    assert_parse(test_parse_challenge, "{}", "nonce: missing");
    assert_parse(test_parse_auth, "{\"mac\":7}", "mac: not a string");
    assert_parse(test_parse_auth,
                 "{\"mac\":\"bdb6ce856a5ccefd90a0650857a8e2258377405232598ce505d8f2897271cfdc\"}",
                 NULL);
    assert_parse(test_parse_auth, "[]", "payload: not a JSON object");
    assert_parse(test_parse_hello, "[]", "payload: not a JSON object");
}

static void test_builders_refuse_invalid(void **state)
{
    struct link_hello hello = {.device_id = "bad id", .firmware = "1", .protocol = 1};
    struct link_event event = {.type = LINK_EVENT_MOTION, .score = 2};
    struct link_telemetry telemetry = {.battery_percent = 50, .rssi_dbm = 5, .firmware = "1"};
    struct link_command command = {.type = LINK_COMMAND_SET_MOTION}; /* motion missing */
    struct link_welcome welcome = {.name = ""};
    struct link_error link_error = {.code = "Bad"};
    struct link_command_result result = {.ok = 2};

    (void)state;
    assert_null(link_build_hello(&hello));
    assert_null(link_build_event(&event));
    event.score = 0.5;
    event.box_count = LINK_MAX_BOXES + 1;
    assert_null(link_build_event(&event));
    event.box_count = 1;
    event.boxes[0] = (struct link_box){0.9, 0, 0.2, 0.5};
    assert_null(link_build_event(&event));
    assert_null(link_build_telemetry(&telemetry));
    telemetry.rssi_dbm = -40;
    telemetry.uptime_s = 1000000000000000ull; /* cJSON would print it rounded */
    assert_null(link_build_telemetry(&telemetry));
    assert_null(link_build_command(&command));
    command.type = (enum link_command_type)42;
    assert_null(link_build_command(&command));
    command.type = (enum link_command_type)5; /* reserved: was settings */
    assert_null(link_build_command(&command));
    command.type = LINK_COMMAND_SET_VIDEO;
    command.width = 1280; /* without a height */
    assert_null(link_build_command(&command));
    assert_null(link_build_welcome(&welcome));
    assert_null(link_build_error(&link_error));
    assert_null(link_build_command_result(&result));
}

/* ---- authentication and helpers ---------------------------------------------- */

/*
 * Expected value computed independently with
 *   { printf 'doorstep-link-v1'; printf '%s' "$NONCE" | xxd -r -p; printf 'front-door_01'; } |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
 * with NONCE = a0a1...bf.
 */
static void test_auth_mac_vector(void **state)
{
    uint8_t secret[LINK_SECRET_SIZE], nonce[LINK_NONCE_SIZE], mac[LINK_MAC_SIZE];
    uint8_t other[LINK_MAC_SIZE];
    char mac_hex[2 * LINK_MAC_SIZE + 1];

    (void)state;
    for (int i = 0; i < 32; i++) {
        secret[i] = (uint8_t)i;
        nonce[i] = (uint8_t)(0xa0 + i);
    }
    assert_int_equal(link_auth_compute_mac(secret, nonce, "front-door_01", mac), 0);
    link_hex_encode(mac, sizeof(mac), mac_hex);
    assert_string_equal(mac_hex,
                        "bdb6ce856a5ccefd90a0650857a8e2258377405232598ce505d8f2897271cfdc");

    assert_int_equal(link_auth_compute_mac(secret, nonce, "front-door_02", other), 0);
    assert_int_not_equal(link_constant_time_compare(mac, other, sizeof(mac)), 0);
    nonce[31] ^= 1;
    assert_int_equal(link_auth_compute_mac(secret, nonce, "front-door_01", other), 0);
    assert_int_not_equal(link_constant_time_compare(mac, other, sizeof(mac)), 0);
    assert_int_equal(link_auth_compute_mac(secret, nonce, NULL, other), -1);
}

static void test_hex(void **state)
{
    static const uint8_t data[] = {0x00, 0x7f, 0x80, 0xff, 0xab};
    uint8_t decoded[5];
    uint8_t untouched[2] = {0x11, 0x22};
    char text[11];

    (void)state;
    link_hex_encode(data, sizeof(data), text);
    assert_string_equal(text, "007f80ffab");
    assert_int_equal(link_hex_decode(text, decoded, sizeof(decoded)), 0);
    assert_memory_equal(decoded, data, sizeof(data));
    assert_int_equal(link_hex_decode("007F80FFAB", decoded, sizeof(decoded)), 0);
    assert_memory_equal(decoded, data, sizeof(data));
    link_hex_encode(data, 0, text);
    assert_string_equal(text, "");

    assert_int_equal(link_hex_decode("abc", untouched, 2), -1);    /* odd */
    assert_int_equal(link_hex_decode("ab", untouched, 2), -1);     /* short */
    assert_int_equal(link_hex_decode("abcdef", untouched, 2), -1); /* long */
    assert_int_equal(link_hex_decode("abcg", untouched, 2), -1);   /* not hex */
    assert_int_equal(link_hex_decode("ab c", untouched, 2), -1);
    assert_int_equal(link_hex_decode("0x12", untouched, 2), -1);
    assert_int_equal(link_hex_decode("", untouched, 2), -1);
    assert_int_equal(link_hex_decode(NULL, untouched, 2), -1);
    assert_int_equal(untouched[0], 0x11);
    assert_int_equal(untouched[1], 0x22);
    assert_int_equal(link_hex_decode("", untouched, 0), 0);
}

static void test_constant_time_compare(void **state)
{
    uint8_t a[32], b[32];

    (void)state;
    for (int i = 0; i < 32; i++)
        a[i] = b[i] = (uint8_t)(i * 13);
    assert_int_equal(link_constant_time_compare(a, b, sizeof(a)), 0);
    assert_int_equal(link_constant_time_compare(a, b, 0), 0);
    b[0] ^= 0x80;
    assert_int_equal(link_constant_time_compare(a, b, sizeof(a)), 1);
    b[0] ^= 0x80;
    b[31] ^= 0x01;
    assert_int_equal(link_constant_time_compare(a, b, sizeof(a)), 1);
    assert_int_equal(link_constant_time_compare(a, b, 31), 0);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(link_utf8_is_valid((const uint8_t *)"", 0));
    assert_true(link_utf8_is_valid((const uint8_t *)"plain", 5));
    assert_true(link_utf8_is_valid((const uint8_t *)"\xc2\x80\xdf\xbf", 4));
    assert_true(link_utf8_is_valid((const uint8_t *)"\xe0\xa0\x80\xef\xbf\xbf", 6));
    assert_true(link_utf8_is_valid((const uint8_t *)"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8));
    assert_false(link_utf8_is_valid((const uint8_t *)"\x80", 1));         /* lone continuation */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xe0\x80\xaf", 3)); /* overlong */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xf5\x80\x80\x80", 4));
    assert_false(link_utf8_is_valid((const uint8_t *)"\xe2\x82", 2)); /* truncated */
    assert_false(link_utf8_is_valid((const uint8_t *)"\xe2\x28\xa1", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_header_byte_order),
        cmocka_unit_test(test_media_round_trip),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_decode_rejects_header),
        cmocka_unit_test(test_decode_rejects_json),
        cmocka_unit_test(test_truncation_at_every_length),
        cmocka_unit_test(test_encode_json_rejects),
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_challenge_auth_round_trip),
        cmocka_unit_test(test_welcome_error_result_round_trip),
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_telemetry_round_trip),
        cmocka_unit_test(test_command_round_trip),
        cmocka_unit_test(test_hello_rules),
        cmocka_unit_test(test_event_rules),
        cmocka_unit_test(test_telemetry_rules),
        cmocka_unit_test(test_command_rules),
        cmocka_unit_test(test_other_rules),
        cmocka_unit_test(test_builders_refuse_invalid),
        cmocka_unit_test(test_auth_mac_vector),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_constant_time_compare),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
