/*
 * test_link_protocol.c - cmocka tests of the device link v1 framing
 * (common/link_protocol.c): header byte order, media round trips, size
 * limits, each decoder rejection rule, truncation at every length, the auth
 * MAC against an independently computed vector, hex, constant-time and UTF-8
 * helpers. The typed JSON messages are tested in test_link_messages.c.
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
    assert_true(link_type_is_known(LINK_PREVIEW));
    assert_false(link_type_is_json(LINK_PREVIEW));
    assert_string_equal(link_type_name(LINK_PREVIEW), "preview");
    assert_string_equal(link_type_name(LINK_DETECT_FRAME), "detect_frame");
    assert_int_equal(link_type_max_message_size(LINK_DETECT_FRAME), LINK_MAX_DETECT_SIZE);
    assert_false(link_type_is_json(LINK_DETECT_FRAME));
    assert_true(link_type_is_known(LINK_DETECT_FRAME));
    assert_false(link_type_is_known(0x15));
    assert_int_equal(link_type_max_message_size(LINK_VIDEO), LINK_MAX_MESSAGE_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_PREVIEW), LINK_MAX_PREVIEW_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_SNAPSHOT), LINK_MAX_MESSAGE_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_AUDIO), LINK_MAX_AUDIO_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_TALK_AUDIO), LINK_MAX_AUDIO_SIZE);
    assert_int_equal(link_type_max_message_size(LINK_EVENT), LINK_MAX_JSON_SIZE);
    assert_string_equal(link_event_type_name(LINK_EVENT_TAMPER), "tamper");
    assert_string_equal(link_event_type_name((enum link_event_type)99), "unknown");
    assert_string_equal(link_command_type_name(LINK_COMMAND_SET_MOTION), "set_motion");
    /* The numbers of removed commands stay reserved; the others keep theirs;
     * stream_on and stream_off came back with their old numbers. */
    assert_int_equal(LINK_COMMAND_STREAM_ON, 0);
    assert_int_equal(LINK_COMMAND_STREAM_OFF, 1);
    assert_string_equal(link_command_type_name(LINK_COMMAND_STREAM_ON), "stream_on");
    assert_string_equal(link_command_type_name(LINK_COMMAND_STREAM_OFF), "stream_off");
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
    for (int reserved = 5; reserved <= 9; reserved++)
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
    static const uint8_t types[] = {LINK_VIDEO, LINK_AUDIO, LINK_SNAPSHOT, LINK_PREVIEW,
                                    LINK_TALK_AUDIO};
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
    big[1] = LINK_PREVIEW;
    assert_int_equal(
        link_message_decode(big, LINK_MAX_PREVIEW_SIZE, &message, error, sizeof(error)), 0);
    link_message_clear(&message);
    assert_decode_fails(big, LINK_MAX_PREVIEW_SIZE + 1, "exceeds limit");

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

    /* Flags: only the keyframe and sub-stream bits, only on video. */
    assert_raw_decodes(LINK_VIDEO, LINK_FLAG_KEYFRAME, "x");
    assert_raw_decodes(LINK_VIDEO, LINK_FLAG_SUB_STREAM, "x");
    assert_raw_decodes(LINK_VIDEO, LINK_FLAG_KEYFRAME | LINK_FLAG_SUB_STREAM, "x");
    assert_raw_fails(1, LINK_VIDEO, 0x0004, "x", "undefined flags");
    assert_raw_fails(1, LINK_AUDIO, LINK_FLAG_SUB_STREAM, "x", "flags");
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

/* A small stand-in JPEG: the codec checks only its first two bytes. */
static const uint8_t test_jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9};

/* Decode [message, +size) as a DETECT_FRAME and parse it: the parser's result. */
static int test_detect_parse(const uint8_t *message, size_t size, struct link_detect_frame *out,
                             char *error)
{
    struct link_message decoded;
    int rc;

    if (link_message_decode(message, size, &decoded, error, TEST_ERROR_SIZE) != 0)
        return -2;
    rc = link_detect_frame_parse(&decoded, out, error, TEST_ERROR_SIZE);
    link_message_clear(&decoded);
    return rc;
}

/* DETECT_FRAME: boxes and JPEG round trip; the header carries event id and time. */
static void test_detect_frame_round_trip(void **state)
{
    struct link_box boxes[2] = {{0.25, 0.5, 0.5, 0.25}, {0.9, 0.9, 0.5, 0.5}};
    struct link_detect_frame frame;
    char error[TEST_ERROR_SIZE];
    size_t size = 0;
    uint8_t *message;

    (void)state;
    message = link_detect_frame_encode(42, 1700000000123456ull, boxes, 2, test_jpeg,
                                       sizeof(test_jpeg), 5, &size);
    assert_non_null(message);
    assert_int_equal(size, LINK_HEADER_SIZE + 2 + 16 + sizeof(test_jpeg));
    assert_int_equal(message[5 + 1], LINK_DETECT_FRAME);
    assert_int_equal(test_detect_parse(message + 5, size, &frame, error), 0);
    assert_int_equal(frame.event_id, 42);
    assert_true(frame.timestamp_us == 1700000000123456ull);
    assert_int_equal(frame.box_count, 2);
    assert_true(fabs(frame.boxes[0].x - 0.25) < 1e-4 && fabs(frame.boxes[0].w - 0.5) < 1e-4);
    assert_true(fabs(frame.boxes[0].y - 0.5) < 1e-4 && fabs(frame.boxes[0].h - 0.25) < 1e-4);
    /* The second box left the frame: clamped into it. */
    assert_true(frame.boxes[1].x + frame.boxes[1].w <= 1.0 + 1e-9);
    assert_true(frame.boxes[1].y + frame.boxes[1].h <= 1.0 + 1e-9);
    assert_int_equal(frame.jpeg_size, sizeof(test_jpeg));
    assert_memory_equal(frame.jpeg, test_jpeg, sizeof(test_jpeg));
    free(message);

    /* No boxes: look at the whole frame. */
    message = link_detect_frame_encode(1, 1, NULL, 0, test_jpeg, sizeof(test_jpeg), 0, &size);
    assert_non_null(message);
    assert_int_equal(test_detect_parse(message, size, &frame, error), 0);
    assert_int_equal(frame.box_count, 0);
    assert_int_equal(frame.jpeg_size, sizeof(test_jpeg));
    free(message);
}

/* The encoder refuses what the parser would: bad counts, no JPEG, too large. */
static void test_detect_frame_encode_rejects(void **state)
{
    struct link_box boxes[LINK_MAX_BOXES + 1] = {{0}};
    size_t size = 1;
    uint8_t *big;

    (void)state;
    assert_null(link_detect_frame_encode(1, 1, boxes, LINK_MAX_BOXES + 1, test_jpeg,
                                         sizeof(test_jpeg), 0, &size));
    assert_int_equal(size, 0);
    assert_null(link_detect_frame_encode(1, 1, boxes, -1, test_jpeg, sizeof(test_jpeg), 0, &size));
    assert_null(link_detect_frame_encode(1, 1, boxes, 1, test_jpeg, 0, 0, &size));
    big = calloc(1, LINK_MAX_DETECT_SIZE);
    assert_non_null(big);
    assert_null(link_detect_frame_encode(1, 1, NULL, 0, big,
                                         LINK_MAX_DETECT_SIZE - LINK_HEADER_SIZE - 1, 0, &size));
    free(big);
}

/* Each rule of the parser, on a frame edited by hand; the reason names it. */
static void test_detect_frame_rejects(void **state)
{
    struct link_box box = {0.1, 0.1, 0.2, 0.2};
    struct link_detect_frame frame;
    char error[TEST_ERROR_SIZE];
    size_t size = 0;
    uint8_t *message;
    uint8_t *payload;

    (void)state;
    message = link_detect_frame_encode(3, 3, &box, 1, test_jpeg, sizeof(test_jpeg), 0, &size);
    assert_non_null(message);
    payload = message + LINK_HEADER_SIZE;

    payload[0] = LINK_MAX_BOXES + 1; /* box count above 16 */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    assert_non_null(strstr(error, "boxes"));
    payload[0] = 2; /* two boxes: the second eats the JPEG's start */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    payload[0] = 3; /* do not fit at all */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    assert_non_null(strstr(error, "fit"));
    payload[0] = 1;
    payload[1] = 1; /* reserved */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    assert_non_null(strstr(error, "reserved"));
    payload[1] = 0;
    payload[2] = 0xff; /* x far right: the box leaves the frame */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    assert_non_null(strstr(error, "box 0"));
    payload[2] = 0;
    payload[6] = payload[7] = 0; /* empty width */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    payload[6] = 0x10;
    payload[10] = 0x00; /* not FF D8 */
    assert_int_equal(test_detect_parse(message, size, &frame, error), -1);
    assert_non_null(strstr(error, "JPEG"));
    payload[10] = 0xff;
    assert_int_equal(test_detect_parse(message, size, &frame, error), 0);
    /* Cut short after the boxes: no JPEG at all. */
    assert_int_equal(test_detect_parse(message, LINK_HEADER_SIZE + 10, &frame, error), -1);
    assert_int_equal(test_detect_parse(message, LINK_HEADER_SIZE + 1, &frame, error), -1);
    /* A flag is a decoder error. */
    message[3] = 1;
    assert_int_equal(test_detect_parse(message, size, &frame, error), -2);
    free(message);
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
        cmocka_unit_test(test_auth_mac_vector),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_constant_time_compare),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_detect_frame_round_trip),
        cmocka_unit_test(test_detect_frame_encode_rejects),
        cmocka_unit_test(test_detect_frame_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
