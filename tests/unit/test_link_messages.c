/*
 * test_link_messages.c - cmocka tests of the device link v1 typed messages
 * (common/link_messages.c): round trips of every JSON message type through
 * the codec, the typed parsers' rules and range checks, and the builders'
 * refusal of invalid input. The framing is tested in test_link_protocol.c.
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

/* ---- typed round trips ------------------------------------------------------ */

static void test_hello_round_trip(void **state)
{
    struct link_hello hello = {.device_id = "front-door_01",
                               .firmware = "1.4.2 (build 77)",
                               .protocol = 1,
                               .width = 1920,
                               .height = 1080,
                               .fps = 30,
                               .event_snapshots = 1,
                               .sub_width = 640,
                               .sub_height = 360,
                               .sub_fps = 15};
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

    for (int type = LINK_EVENT_RING; type <= LINK_EVENT_TYPE_LAST; type++) {
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
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"sub_width\":640,"
                 "\"sub_height\":360,\"sub_fps\":15}",
                 NULL);
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"sub_width\":640,"
                 "\"sub_height\":360}",
                 "sub_fps");
    assert_parse(test_parse_hello,
                 "{\"device_id\":\"a\",\"firmware\":\"1\",\"protocol\":1,\"sub_width\":641,"
                 "\"sub_height\":360,\"sub_fps\":15}",
                 "width");
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
    assert_int_equal(telemetry.temperature_known, 1); /* a doorbell from before the field */
    cJSON_Delete(json);
    json = test_json(
        "{\"temperature_c\":0,\"temperature_known\":false,\"uptime_s\":0,\"firmware\":\"x\"}");
    assert_int_equal(link_parse_telemetry(json, &telemetry, error, sizeof(error)), 0);
    assert_int_equal(telemetry.temperature_known, 0);
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
    /* stream_on/stream_off name the sub-stream; the main stream always runs. */
    json = test_json("{\"cmd\":\"stream_on\",\"id\":1,\"stream\":\"sub\"}");
    assert_int_equal(link_parse_command(json, &command, error, sizeof(error)), 0);
    assert_int_equal(command.type, LINK_COMMAND_STREAM_ON);
    assert_string_equal(command.stream, "sub");
    cJSON_Delete(json);
    assert_parse(test_parse_command, "{\"cmd\":\"stream_on\",\"id\":1}", "stream: missing");
    assert_parse(test_parse_command, "{\"cmd\":\"stream_off\",\"id\":1,\"stream\":\"main\"}",
                 "stream");
    assert_parse(test_parse_command, "{\"cmd\":\"stream_off\",\"id\":1,\"stream\":\"subway\"}",
                 "stream");
    json = test_json("{\"cmd\":\"set_video\",\"id\":1,\"stream\":\"sub\",\"bitrate_kbps\":400}");
    assert_int_equal(link_parse_command(json, &command, error, sizeof(error)), 0);
    assert_string_equal(command.stream, "sub");
    cJSON_Delete(json);
    assert_parse(test_parse_command, "{\"cmd\":\"set_video\",\"id\":1,\"stream\":\"both\"}",
                 "stream");
    /* Commands nothing sent are gone; their names are unknown now. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
