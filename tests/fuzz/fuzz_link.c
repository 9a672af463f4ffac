/*
 * fuzz_link.c - libFuzzer harness for the device link v1 decoder and typed
 * JSON views (common/link_protocol.c, link_messages.c).
 *
 * For each input: decode it; on failure the reason must be a non-empty,
 * bounded string. On success, re-encoding the decoded header and payload must
 * reproduce the input byte for byte. For JSON types every typed parser runs on
 * the tree; whatever a parser accepts must build, and the built JSON must
 * parse back to the same struct. The tree is also re-encoded as a message,
 * which must decode to the same header and a tree that prints identically.
 * A QUICK_REPLY_DATA message's sub-header must describe a chunk inside its
 * payload and inside the clip. A DETECT_FRAME that parses re-encodes to the
 * same payload, its boxes inside the frame and its JPEG after them. The same bytes also drive the
 * hub's snapshot pairing table (appliance/devices/snapshot_pairing.c) as a script of event starts
 * and tagged pictures, which must never give a picture to an event of another tag, nor one event
 * two pictures.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning. Built from common/ (always linked) and:
 * FUZZ_SOURCES: appliance/devices/snapshot_pairing.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"
#include "devices/snapshot_pairing.h"

#define FUZZ_HEADROOM   3 /* odd on purpose: the codec must not assume alignment */
#define FUZZ_ERROR_SIZE 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant of the codec does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A failed parse or decode must leave a non-empty, NUL-terminated reason. */
static void fuzz_check_reason(const char *error)
{
    size_t length = strnlen(error, FUZZ_ERROR_SIZE);
    FUZZ_CHECK(length > 0 && length < FUZZ_ERROR_SIZE);
}

/*
 * The settings subtree borrowed by a parsed struct: what the parser saw must
 * equal what the builder wrote (absent is built as {}). Compared as printed
 * text, not with cJSON_Compare(): an object with a key twice is copied as it
 * is, but cJSON_Compare() looks each key up and finds the first one only.
 */
static void fuzz_check_settings(const cJSON *parsed, const cJSON *reparsed)
{
    FUZZ_CHECK(reparsed != NULL && cJSON_IsObject(reparsed));
    if (parsed == NULL) {
        FUZZ_CHECK(reparsed->child == NULL);
        return;
    }
    char *parsed_text = cJSON_PrintUnformatted(parsed);
    char *reparsed_text = cJSON_PrintUnformatted(reparsed);
    FUZZ_CHECK(parsed_text != NULL && reparsed_text != NULL);
    FUZZ_CHECK(strcmp(parsed_text, reparsed_text) == 0);
    cJSON_free(parsed_text);
    cJSON_free(reparsed_text);
}

/*
 * Run one typed view: parse json into `first`; if accepted, build, parse the
 * built tree into `second` and require equal structs. Parsers zero the whole
 * struct first, so memcmp is meaningful; borrowed settings are compared as
 * trees and then aligned by `align_settings` ((void)0 for views without one).
 */
#define FUZZ_VIEW(struct_name, parse, build, align_settings)                                       \
    do {                                                                                           \
        struct struct_name first, second;                                                          \
        char error[FUZZ_ERROR_SIZE];                                                               \
        cJSON *built;                                                                              \
        if (parse(json, &first, error, sizeof(error)) != 0) {                                      \
            fuzz_check_reason(error);                                                              \
            break;                                                                                 \
        }                                                                                          \
        FUZZ_CHECK(error[0] == '\0');                                                              \
        built = build(&first);                                                                     \
        FUZZ_CHECK(built != NULL);                                                                 \
        if (parse(built, &second, error, sizeof(error)) != 0) {                                    \
            fprintf(stderr, "built %s does not parse: %s\n", #struct_name, error);                 \
            abort();                                                                               \
        }                                                                                          \
        align_settings;                                                                            \
        FUZZ_CHECK(memcmp(&first, &second, sizeof(first)) == 0);                                   \
        cJSON_Delete(built);                                                                       \
    } while (0)

#define FUZZ_ALIGN_SETTINGS                                                                        \
    do {                                                                                           \
        if (first.settings != NULL || second.settings != NULL)                                     \
            fuzz_check_settings(first.settings, second.settings);                                  \
        second.settings = first.settings;                                                          \
    } while (0)

/* COMMAND borrows one tree: for set_motion, motion. */
#define FUZZ_ALIGN_COMMAND                                                                         \
    do {                                                                                           \
        if (first.motion != NULL || second.motion != NULL)                                         \
            fuzz_check_settings(first.motion, second.motion);                                      \
        second.motion = first.motion;                                                              \
    } while (0)

/* Every typed parser on one JSON object, each with its build/parse round trip. */
static void fuzz_typed_views(const cJSON *json)
{
    FUZZ_VIEW(link_hello, link_parse_hello, link_build_hello, (void)0);
    FUZZ_VIEW(link_challenge, link_parse_challenge, link_build_challenge, (void)0);
    FUZZ_VIEW(link_auth, link_parse_auth, link_build_auth, (void)0);
    FUZZ_VIEW(link_welcome, link_parse_welcome, link_build_welcome, FUZZ_ALIGN_SETTINGS);
    FUZZ_VIEW(link_error, link_parse_error, link_build_error, (void)0);
    FUZZ_VIEW(link_event, link_parse_event, link_build_event, (void)0);
    FUZZ_VIEW(link_telemetry, link_parse_telemetry, link_build_telemetry, (void)0);
    FUZZ_VIEW(link_command, link_parse_command, link_build_command, FUZZ_ALIGN_COMMAND);
    FUZZ_VIEW(link_command_result, link_parse_command_result, link_build_command_result, (void)0);
}

/* Re-encode a decoded JSON message from its tree and decode it again. */
static void fuzz_json_reencode(const struct link_message *message)
{
    struct link_message again;
    char error[FUZZ_ERROR_SIZE];
    char *printed = cJSON_PrintUnformatted(message->json);
    char *printed_again = NULL;
    size_t encoded_size = 0;
    uint8_t *encoded;

    FUZZ_CHECK(printed != NULL);
    encoded = link_message_encode_json(message->header.type, message->header.sequence,
                                       message->header.timestamp_us, message->json, FUZZ_HEADROOM,
                                       &encoded_size);
    if (strlen(printed) > LINK_MAX_JSON_SIZE - LINK_HEADER_SIZE) {
        /* cJSON may print longer than the input ("1e9" -> "1000000000"). */
        FUZZ_CHECK(encoded == NULL);
        goto out;
    }
    FUZZ_CHECK(encoded != NULL);
    FUZZ_CHECK(encoded_size == LINK_HEADER_SIZE + strlen(printed));
    if (link_message_decode(encoded + FUZZ_HEADROOM, encoded_size, &again, error, sizeof(error)) !=
        0) {
        fprintf(stderr, "re-encoded JSON message does not decode: %s\n", error);
        abort();
    }
    FUZZ_CHECK(again.header.version == message->header.version);
    FUZZ_CHECK(again.header.type == message->header.type);
    FUZZ_CHECK(again.header.flags == 0 && message->header.flags == 0);
    FUZZ_CHECK(again.header.sequence == message->header.sequence);
    FUZZ_CHECK(again.header.timestamp_us == message->header.timestamp_us);
    /* Same text when printed again (cJSON_Compare is unreliable with duplicate keys). */
    printed_again = cJSON_PrintUnformatted(again.json);
    FUZZ_CHECK(printed_again != NULL && strcmp(printed_again, printed) == 0);
    link_message_clear(&again);

out:
    free(encoded);
    cJSON_free(printed_again);
    cJSON_free(printed);
}

#define FUZZ_PAIRING_STEP    4   /* bytes per step: kind, tag, time, stored */
#define FUZZ_PAIRING_STEPS   512 /* longest script looked at */
#define FUZZ_PAIRING_WAIT_MS 3000

/*
 * Read data as a script for one connection's pairing table (first byte:
 * tagged or not) and check each outcome against what the script did. Step
 * i: byte 0 odd = an event start, even = a picture; byte 1 = the tag (few
 * values, so tags repeat); byte 2 = ms that pass, times 40; byte 3 = 0 if
 * the hub stored no event. Event i's hub id is i + 1.
 */
static void fuzz_pairing(const uint8_t *data, size_t size)
{
    struct snapshot_pairing pairing;
    uint32_t tag_of[FUZZ_PAIRING_STEPS + 1];
    int64_t started_at[FUZZ_PAIRING_STEPS + 1];
    uint8_t pictured[FUZZ_PAIRING_STEPS + 1];
    int64_t now = 0;
    size_t steps;

    if (size < 1)
        return;
    snapshot_pairing_init(&pairing, data[0] & 1);
    data++;
    size--;
    steps = size / FUZZ_PAIRING_STEP;
    if (steps > FUZZ_PAIRING_STEPS)
        steps = FUZZ_PAIRING_STEPS;
    memset(pictured, 0, sizeof(pictured));
    for (size_t i = 0; i < steps; i++) {
        const uint8_t *step = data + i * FUZZ_PAIRING_STEP;
        uint32_t tag = step[1] % 8;
        int64_t event_id = 0;
        enum snapshot_pairing_outcome outcome;

        now += (int64_t)step[2] * 40;
        if (step[0] & 1) {
            int64_t id = step[3] != 0 ? (int64_t)i + 1 : 0;
            int64_t dropped = snapshot_pairing_add(&pairing, tag, id, now, FUZZ_PAIRING_WAIT_MS);
            tag_of[i + 1] = tag;
            started_at[i + 1] = now;
            FUZZ_CHECK(dropped >= 0 && dropped <= (int64_t)i);
            continue;
        }
        outcome = snapshot_pairing_take(&pairing, tag, now, &event_id);
        FUZZ_CHECK(event_id >= 0 && event_id <= (int64_t)i);
        switch (outcome) {
        case SNAPSHOT_PAIRING_ATTACH:
        case SNAPSHOT_PAIRING_ATTACH_LATE:
            FUZZ_CHECK(event_id > 0 && !pictured[event_id]);
            pictured[event_id] = 1;
            FUZZ_CHECK(!pairing.tagged || tag_of[event_id] == tag);
            FUZZ_CHECK((outcome == SNAPSHOT_PAIRING_ATTACH) ==
                       (now <= started_at[event_id] + FUZZ_PAIRING_WAIT_MS));
            break;
        case SNAPSHOT_PAIRING_DUPLICATE:
            FUZZ_CHECK(pairing.tagged && event_id > 0 && pictured[event_id]);
            FUZZ_CHECK(tag_of[event_id] == tag);
            break;
        case SNAPSHOT_PAIRING_NO_EVENT:
            FUZZ_CHECK(event_id == 0 && (!pairing.tagged || tag == 0));
            break;
        case SNAPSHOT_PAIRING_NOT_STORED:
        case SNAPSHOT_PAIRING_UNKNOWN:
            FUZZ_CHECK(event_id == 0 && pairing.tagged && tag != 0);
            break;
        }
    }
}

/* libFuzzer entry point: one input, no state kept between calls. */
/* A decoded DETECT_FRAME: parse it; what parses re-encodes to the same bytes
 * (boxes are exact in 1/65535) and parses back the same. */
static void fuzz_detect_frame(const struct link_message *message)
{
    struct link_detect_frame frame, again;
    struct link_message reread;
    char error[FUZZ_ERROR_SIZE];
    size_t encoded_size = 0;
    uint8_t *encoded;

    if (link_detect_frame_parse(message, &frame, error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        return;
    }
    FUZZ_CHECK(frame.box_count >= 0 && frame.box_count <= LINK_MAX_BOXES);
    FUZZ_CHECK(frame.jpeg == message->payload + LINK_DETECT_HEADER +
                                 (size_t)frame.box_count * LINK_DETECT_BOX_SIZE);
    FUZZ_CHECK(frame.jpeg_size >= 4 && frame.jpeg[0] == 0xff && frame.jpeg[1] == 0xd8);
    for (int i = 0; i < frame.box_count; i++)
        FUZZ_CHECK(frame.boxes[i].w > 0 && frame.boxes[i].x + frame.boxes[i].w <= 1.0 + 1e-9 &&
                   frame.boxes[i].h > 0 && frame.boxes[i].y + frame.boxes[i].h <= 1.0 + 1e-9);
    encoded =
        link_detect_frame_encode(frame.event_id, frame.timestamp_us, frame.boxes, frame.box_count,
                                 frame.jpeg, frame.jpeg_size, 0, &encoded_size);
    FUZZ_CHECK(encoded != NULL && encoded_size == LINK_HEADER_SIZE + message->payload_size);
    FUZZ_CHECK(memcmp(encoded + LINK_HEADER_SIZE, message->payload, message->payload_size) == 0);
    FUZZ_CHECK(link_message_decode(encoded, encoded_size, &reread, error, sizeof(error)) == 0);
    FUZZ_CHECK(link_detect_frame_parse(&reread, &again, error, sizeof(error)) == 0);
    FUZZ_CHECK(again.box_count == frame.box_count && again.jpeg_size == frame.jpeg_size);
    link_message_clear(&reread);
    free(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct link_message message;
    char error[FUZZ_ERROR_SIZE];
    size_t encoded_size = 0;
    uint8_t *encoded;

    fuzz_pairing(data, size);
    if (link_message_decode(data, size, &message, error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        FUZZ_CHECK(message.json == NULL && message.payload == NULL);
        return 0;
    }
    FUZZ_CHECK(link_type_is_known(message.header.type));
    FUZZ_CHECK((message.json != NULL) == (link_type_is_json(message.header.type) != 0));
    FUZZ_CHECK(message.payload == data + LINK_HEADER_SIZE); /* borrowed, not copied */
    FUZZ_CHECK(message.payload_size == size - LINK_HEADER_SIZE && message.payload_size > 0);
    if (message.header.type == LINK_QUICK_REPLY_DATA) {
        struct link_quick_reply_data chunk;
        if (link_quick_reply_data_parse(&message, &chunk, error, sizeof(error)) == 0) {
            FUZZ_CHECK(chunk.chunk == message.payload + LINK_QUICK_REPLY_DATA_HEADER);
            FUZZ_CHECK(chunk.chunk_size > 0 && chunk.chunk_size <= LINK_QUICK_REPLY_CHUNK_MAX);
            FUZZ_CHECK(chunk.offset < chunk.total && chunk.total <= LINK_QUICK_REPLY_MAX_TOTAL);
            FUZZ_CHECK(chunk.chunk_size <= chunk.total - chunk.offset && chunk.reply_id != 0);
        } else {
            fuzz_check_reason(error);
        }
    }
    if (message.header.type == LINK_DETECT_FRAME)
        fuzz_detect_frame(&message);

    encoded = link_message_encode(&message.header, message.payload, message.payload_size,
                                  FUZZ_HEADROOM, &encoded_size);
    FUZZ_CHECK(encoded != NULL);
    FUZZ_CHECK(encoded_size == size);
    FUZZ_CHECK(memcmp(encoded + FUZZ_HEADROOM, data, size) == 0);
    free(encoded);

    if (message.json != NULL) {
        fuzz_typed_views(message.json);
        fuzz_json_reencode(&message);
    }
    link_message_clear(&message);
    return 0;
}
