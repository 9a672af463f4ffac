/*
 * link_protocol.c - framing of the device link v1 (see link_protocol.h and
 * docs/protocol.md): header encode/decode, per-type validation, type and
 * event/command names, UTF-8 and hex checks, constant-time comparison, the
 * pre-pairing authentication MAC and the CHALLENGE/AUTH payloads. The other
 * typed JSON views live in link_messages.c.
 *
 * Shared by the hub (civetweb WebSocket handler threads) and the doorbell
 * (its libwebsockets service thread). Pure functions: no globals, no I/O, no
 * logging, so any thread may call them. A decoded message borrows its payload
 * from the caller's buffer and owns only its cJSON tree; encoded buffers and
 * built JSON trees belong to the caller.
 */
#include "common/link_protocol.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "common/error_text.h"

#define LINK_AUTH_CONTEXT      "doorstep-link-v1"
#define LINK_AUTH_CONTEXT_SIZE (sizeof(LINK_AUTH_CONTEXT) - 1)

/* Wire name of a type; NULL for an unknown type. */
static const char *link_type_lookup(uint8_t type)
{
    switch (type) {
    case LINK_HELLO:
        return "hello";
    case LINK_CHALLENGE:
        return "challenge";
    case LINK_AUTH:
        return "auth";
    case LINK_WELCOME:
        return "welcome";
    case LINK_ERROR:
        return "error";
    case LINK_VIDEO:
        return "video";
    case LINK_AUDIO:
        return "audio";
    case LINK_SNAPSHOT:
        return "snapshot";
    case LINK_PREVIEW:
        return "preview";
    case LINK_DETECT_FRAME:
        return "detect_frame";
    case LINK_EVENT:
        return "event";
    case LINK_TELEMETRY:
        return "telemetry";
    case LINK_COMMAND:
        return "command";
    case LINK_TALK_AUDIO:
        return "talk_audio";
    case LINK_COMMAND_RESULT:
        return "command_result";
    case LINK_QUICK_REPLY_DATA:
        return "quick_reply_data";
    case LINK_PAIR_HELLO:
        return "pair_hello";
    case LINK_PAIR_SHARE_P:
        return "pair_share_p";
    case LINK_PAIR_SHARE_V:
        return "pair_share_v";
    case LINK_PAIR_CONFIRM_P:
        return "pair_confirm_p";
    case LINK_PAIR_DEVICE_KEY:
        return "pair_device_key";
    case LINK_PAIR_HUB_INFO:
        return "pair_hub_info";
    default:
        return NULL;
    }
}

/* Return a static name; the caller frees nothing. */
const char *link_type_name(uint8_t type)
{
    const char *name = link_type_lookup(type);
    return name != NULL ? name : "unknown";
}

/* 1 for the known types whose payload is a JSON object. */
int link_type_is_json(uint8_t type)
{
    switch (type) {
    case LINK_HELLO:
    case LINK_CHALLENGE:
    case LINK_AUTH:
    case LINK_WELCOME:
    case LINK_ERROR:
    case LINK_EVENT:
    case LINK_TELEMETRY:
    case LINK_COMMAND:
    case LINK_COMMAND_RESULT:
    case LINK_PAIR_HELLO:
    case LINK_PAIR_SHARE_P:
    case LINK_PAIR_SHARE_V:
    case LINK_PAIR_CONFIRM_P:
    case LINK_PAIR_DEVICE_KEY:
    case LINK_PAIR_HUB_INFO:
        return 1;
    default:
        return 0;
    }
}

/* 1 if the type is one of enum link_type. */
int link_type_is_known(uint8_t type)
{
    return link_type_lookup(type) != NULL;
}

/* Size limit of a whole message (header included) of this type. */
size_t link_type_max_message_size(uint8_t type)
{
    if (type == LINK_AUDIO || type == LINK_TALK_AUDIO)
        return LINK_MAX_AUDIO_SIZE;
    if (type == LINK_PREVIEW)
        return LINK_MAX_PREVIEW_SIZE;
    if (type == LINK_DETECT_FRAME)
        return LINK_MAX_DETECT_SIZE;
    if (type == LINK_QUICK_REPLY_DATA)
        return LINK_HEADER_SIZE + LINK_QUICK_REPLY_DATA_HEADER + LINK_QUICK_REPLY_CHUNK_MAX;
    if (link_type_is_json(type))
        return LINK_MAX_JSON_SIZE;
    return LINK_MAX_MESSAGE_SIZE;
}

static const char *const link_event_type_names[] = {
    [LINK_EVENT_RING] = "ring",
    [LINK_EVENT_MOTION] = "motion",
    [LINK_EVENT_PIR] = "pir",
    [LINK_EVENT_TAMPER] = "tamper",
    [LINK_EVENT_PACKAGE_DELIVERED] = "package_delivered",
    [LINK_EVENT_PACKAGE_TAKEN] = "package_taken",
};
#define LINK_EVENT_TYPE_COUNT (sizeof(link_event_type_names) / sizeof(link_event_type_names[0]))

/* Indexed by enum link_command_type; reserved numbers have no name. */
static const char *const link_command_type_names[] = {
    [LINK_COMMAND_STREAM_ON] = "stream_on",   [LINK_COMMAND_STREAM_OFF] = "stream_off",
    [LINK_COMMAND_SET_VIDEO] = "set_video",   [LINK_COMMAND_KEYFRAME] = "keyframe",
    [LINK_COMMAND_SNAPSHOT] = "snapshot",     [LINK_COMMAND_QUICK_REPLY] = "quick_reply",
    [LINK_COMMAND_SET_MOTION] = "set_motion", [LINK_COMMAND_AUTO_REPLY] = "auto_reply",
    [LINK_COMMAND_ANSWERED] = "answered",
};
#define LINK_COMMAND_TYPE_COUNT                                                                    \
    (sizeof(link_command_type_names) / sizeof(link_command_type_names[0]))

/* Static wire name of an event type, or "unknown". */
const char *link_event_type_name(enum link_event_type type)
{
    if ((unsigned)type >= LINK_EVENT_TYPE_COUNT)
        return "unknown";
    return link_event_type_names[type];
}

/* Static wire name of a command type, or "unknown". */
const char *link_command_type_name(enum link_command_type type)
{
    if ((unsigned)type >= LINK_COMMAND_TYPE_COUNT || link_command_type_names[type] == NULL)
        return "unknown";
    return link_command_type_names[type];
}

/* Look an event type up by wire name. */
int link_event_is_one_shot(enum link_event_type type)
{
    return type == LINK_EVENT_PACKAGE_DELIVERED || type == LINK_EVENT_PACKAGE_TAKEN;
}

int link_event_type_from_name(const char *name, enum link_event_type *out)
{
    assert(out != NULL);
    for (size_t i = 0; name != NULL && i < LINK_EVENT_TYPE_COUNT; i++) {
        if (strcmp(name, link_event_type_names[i]) == 0) {
            *out = (enum link_event_type)i;
            return 0;
        }
    }
    return -1;
}

/* Look a command type up by wire name. */
int link_command_type_from_name(const char *name, enum link_command_type *out)
{
    assert(out != NULL);
    for (size_t i = 0; name != NULL && i < LINK_COMMAND_TYPE_COUNT; i++) {
        if (link_command_type_names[i] != NULL && strcmp(name, link_command_type_names[i]) == 0) {
            *out = (enum link_command_type)i;
            return 0;
        }
    }
    return -1;
}

/* Strict UTF-8 check after RFC 3629 (table 3-7 of the Unicode standard). */
int link_utf8_is_valid(const uint8_t *data, size_t size)
{
    size_t i = 0;

    assert(data != NULL || size == 0);
    while (i < size) {
        uint8_t lead = data[i];
        size_t continuation_count;
        uint8_t second_min = 0x80, second_max = 0xbf;

        if (lead < 0x80) {
            i++;
            continue;
        }
        if (lead >= 0xc2 && lead <= 0xdf) {
            continuation_count = 1;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            continuation_count = 2;
            if (lead == 0xe0)
                second_min = 0xa0; /* overlong */
            else if (lead == 0xed)
                second_max = 0x9f; /* surrogates */
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            continuation_count = 3;
            if (lead == 0xf0)
                second_min = 0x90; /* overlong */
            else if (lead == 0xf4)
                second_max = 0x8f; /* above U+10FFFF */
        } else {
            return 0; /* continuation byte as lead, C0/C1 overlong lead, or F5..FF */
        }
        if (size - i <= continuation_count)
            return 0;
        if (data[i + 1] < second_min || data[i + 1] > second_max)
            return 0;
        for (size_t k = 2; k <= continuation_count; k++)
            if (data[i + k] < 0x80 || data[i + k] > 0xbf)
                return 0;
        i += continuation_count + 1;
    }
    return 1;
}

/* Big-endian readers for the header fields. */
static uint16_t link_read_be16(const uint8_t *in)
{
    return (uint16_t)((uint16_t)in[0] << 8 | in[1]);
}

static uint32_t link_read_be32(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static uint64_t link_read_be64(const uint8_t *in)
{
    return (uint64_t)link_read_be32(in) << 32 | link_read_be32(in + 4);
}

/* Check the header fields of a message of `size` bytes; 0 or -1 with reason. */
static int link_header_validate(const struct link_header *header, size_t size, char *error,
                                size_t error_size)
{
    size_t limit;

    if (header->version != LINK_PROTOCOL_VERSION) {
        error_text_set(error, error_size, "unsupported version %u", header->version);
        return -1;
    }
    if (!link_type_is_known(header->type)) {
        error_text_set(error, error_size, "unknown message type 0x%02x", header->type);
        return -1;
    }
    limit = link_type_max_message_size(header->type);
    if (size > limit) {
        error_text_set(error, error_size, "%s message of %zu bytes exceeds limit of %zu",
                       link_type_name(header->type), size, limit);
        return -1;
    }
    if (header->type == LINK_VIDEO) {
        if ((header->flags & ~LINK_VIDEO_FLAGS) != 0) {
            error_text_set(error, error_size, "video: undefined flags 0x%04x", header->flags);
            return -1;
        }
    } else if (header->flags != 0) {
        error_text_set(error, error_size, "%s: flags 0x%04x not allowed",
                       link_type_name(header->type), header->flags);
        return -1;
    }
    if (size == LINK_HEADER_SIZE) {
        error_text_set(error, error_size, "%s: empty payload", link_type_name(header->type));
        return -1;
    }
    return 0;
}

/*
 * Parse a JSON payload into a new tree (caller deletes it) or NULL with a
 * reason. RFC 8259 text only: UTF-8, no raw control characters, one object,
 * nothing but whitespace after it.
 */
static cJSON *link_json_payload_parse(const uint8_t *payload, size_t payload_size, char *error,
                                      size_t error_size)
{
    const char *parse_end = NULL;
    cJSON *json = NULL;

    for (size_t i = 0; i < payload_size; i++) {
        uint8_t byte = payload[i];
        if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') {
            error_text_set(error, error_size, "json: control character at offset %zu", i);
            return NULL;
        }
    }
    if (!link_utf8_is_valid(payload, payload_size)) {
        error_text_set(error, error_size, "json: invalid UTF-8");
        return NULL;
    }
    json = cJSON_ParseWithLengthOpts((const char *)payload, payload_size, &parse_end, 0);
    if (json == NULL) {
        error_text_set(error, error_size, "json: syntax error");
        return NULL;
    }
    if (!cJSON_IsObject(json)) {
        error_text_set(error, error_size, "json: payload is not an object");
        goto fail;
    }
    assert(parse_end != NULL);
    assert(parse_end >= (const char *)payload);
    for (const char *p = parse_end; p < (const char *)payload + payload_size; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            error_text_set(error, error_size, "json: trailing data after object");
            goto fail;
        }
    }
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* Decode one message; see link_protocol.h. out->json is the caller's to clear. */
int link_message_decode(const uint8_t *data, size_t size, struct link_message *out, char *error,
                        size_t error_size)
{
    struct link_header header;
    const uint8_t *payload;
    size_t payload_size;
    cJSON *json = NULL;

    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    error_text_set(error, error_size, "%s", "");
    if (data == NULL || size < LINK_HEADER_SIZE) {
        error_text_set(error, error_size, "message of %zu bytes is shorter than the header",
                       data == NULL ? (size_t)0 : size);
        return -1;
    }
    header.version = data[0];
    header.type = data[1];
    header.flags = link_read_be16(data + 2);
    header.sequence = link_read_be32(data + 4);
    header.timestamp_us = link_read_be64(data + 8);
    if (link_header_validate(&header, size, error, error_size) != 0)
        return -1;

    payload = data + LINK_HEADER_SIZE;
    payload_size = size - LINK_HEADER_SIZE;
    if (link_type_is_json(header.type)) {
        char json_error[96] = "";
        json = link_json_payload_parse(payload, payload_size, json_error, sizeof(json_error));
        if (json == NULL) {
            error_text_set(error, error_size, "%s: %s", link_type_name(header.type), json_error);
            return -1;
        }
    }
    out->header = header;
    out->payload = payload;
    out->payload_size = payload_size;
    out->json = json;
    return 0;
}

/* Delete the message's JSON tree and clear it; the payload is not ours. */
void link_message_clear(struct link_message *message)
{
    if (message == NULL)
        return;
    cJSON_Delete(message->json);
    memset(message, 0, sizeof(*message));
}

/* Serialise the header big-endian into out. */
void link_header_encode(const struct link_header *header, uint8_t out[LINK_HEADER_SIZE])
{
    assert(header != NULL && out != NULL);
    out[0] = header->version;
    out[1] = header->type;
    out[2] = (uint8_t)(header->flags >> 8);
    out[3] = (uint8_t)header->flags;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(header->sequence >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(header->timestamp_us >> (56 - 8 * i));
}

/* One malloc'd buffer: headroom, header, payload. The caller frees it. */
uint8_t *link_message_encode(const struct link_header *header, const void *payload,
                             size_t payload_size, size_t headroom, size_t *message_size)
{
    size_t limit;
    uint8_t *buffer;

    assert(header != NULL && message_size != NULL);
    assert(payload != NULL || payload_size == 0);
    *message_size = 0;
    limit = link_type_max_message_size(header->type);
    if (payload_size > limit - LINK_HEADER_SIZE)
        return NULL;
    if (headroom > SIZE_MAX - limit)
        return NULL;
    buffer = malloc(headroom + LINK_HEADER_SIZE + payload_size);
    if (buffer == NULL)
        return NULL;
    link_header_encode(header, buffer + headroom);
    if (payload_size > 0)
        memcpy(buffer + headroom + LINK_HEADER_SIZE, payload, payload_size);
    *message_size = LINK_HEADER_SIZE + payload_size;
    return buffer;
}

/* Print json compactly and frame it; the caller frees the returned buffer. */
uint8_t *link_message_encode_json(uint8_t type, uint32_t sequence, uint64_t timestamp_us,
                                  const cJSON *json, size_t headroom, size_t *message_size)
{
    struct link_header header = {
        .version = LINK_PROTOCOL_VERSION,
        .type = type,
        .flags = 0,
        .sequence = sequence,
        .timestamp_us = timestamp_us,
    };
    char *text = NULL;
    uint8_t *buffer = NULL;

    assert(message_size != NULL);
    *message_size = 0;
    if (!link_type_is_json(type) || !cJSON_IsObject(json))
        return NULL;
    text = cJSON_PrintUnformatted(json);
    if (text == NULL)
        goto out;
    buffer = link_message_encode(&header, text, strlen(text), headroom, message_size);

out:
    cJSON_free(text);
    return buffer;
}

/* Value of one hex digit, or -1. */
static int link_hex_digit_value(char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    if (digit >= 'a' && digit <= 'f')
        return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F')
        return digit - 'A' + 10;
    return -1;
}

/* Write 2*size lower-case digits and a NUL into text_out (caller's buffer). */
void link_hex_encode(const uint8_t *data, size_t size, char *text_out)
{
    static const char digits[] = "0123456789abcdef";

    assert(text_out != NULL);
    assert(data != NULL || size == 0);
    for (size_t i = 0; i < size; i++) {
        text_out[2 * i] = digits[data[i] >> 4];
        text_out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    text_out[2 * size] = '\0';
}

/* Decode exactly 2*size hex digits into data_out; -1 leaves data_out untouched. */
int link_hex_decode(const char *text, uint8_t *data_out, size_t size)
{
    if (text == NULL || size > SIZE_MAX / 2 - 1)
        return -1;
    assert(data_out != NULL || size == 0);
    if (strnlen(text, 2 * size + 1) != 2 * size)
        return -1;
    for (size_t i = 0; i < 2 * size; i++)
        if (link_hex_digit_value(text[i]) < 0)
            return -1;
    for (size_t i = 0; i < size; i++)
        data_out[i] = (uint8_t)(link_hex_digit_value(text[2 * i]) << 4 |
                                link_hex_digit_value(text[2 * i + 1]));
    return 0;
}

/* Compare without data-dependent branches or early exit. */
int link_constant_time_compare(const uint8_t *a, const uint8_t *b, size_t size)
{
    volatile uint8_t difference = 0;

    assert((a != NULL && b != NULL) || size == 0);
    for (size_t i = 0; i < size; i++)
        difference |= (uint8_t)(a[i] ^ b[i]);
    /* Map any non-zero byte to 1 without a branch on the secret value. */
    return (int)((uint32_t)(difference + 0xffu) >> 8);
}

/* HMAC-SHA256 over context || nonce || device_id; mac_out is the caller's. */
int link_auth_compute_mac(const uint8_t secret[LINK_SECRET_SIZE],
                          const uint8_t nonce[LINK_NONCE_SIZE], const char *device_id,
                          uint8_t mac_out[LINK_MAC_SIZE])
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t context;
    int result = -1;

    assert(secret != NULL && nonce != NULL && mac_out != NULL);
    memset(mac_out, 0, LINK_MAC_SIZE);
    mbedtls_md_init(&context);
    if (device_id == NULL || sha256 == NULL)
        goto out;
    assert(mbedtls_md_get_size(sha256) == LINK_MAC_SIZE);
    if (mbedtls_md_setup(&context, sha256, 1) != 0)
        goto out;
    if (mbedtls_md_hmac_starts(&context, secret, LINK_SECRET_SIZE) != 0)
        goto out;
    if (mbedtls_md_hmac_update(&context, (const unsigned char *)LINK_AUTH_CONTEXT,
                               LINK_AUTH_CONTEXT_SIZE) != 0)
        goto out;
    if (mbedtls_md_hmac_update(&context, nonce, LINK_NONCE_SIZE) != 0)
        goto out;
    if (mbedtls_md_hmac_update(&context, (const unsigned char *)device_id, strlen(device_id)) != 0)
        goto out;
    if (mbedtls_md_hmac_finish(&context, mac_out) != 0)
        goto out;
    result = 0;

out:
    if (result != 0)
        memset(mac_out, 0, LINK_MAC_SIZE);
    mbedtls_md_free(&context); /* zeroises the HMAC key pads */
    return result;
}

/* ---- challenge and auth payloads ---------------------------------------- */

/* Read {field: 2*size hex digits} into out; 0, or -1 with "field: problem". */
static int link_json_hex_field(const cJSON *json, const char *field, uint8_t *out, size_t size,
                               char *error, size_t error_size)
{
    const cJSON *item;

    if (!cJSON_IsObject(json)) {
        error_text_set(error, error_size, "payload: not a JSON object");
        return -1;
    }
    item = cJSON_GetObjectItemCaseSensitive(json, field);
    if (item == NULL) {
        error_text_set(error, error_size, "%s: missing", field);
        return -1;
    }
    if (!cJSON_IsString(item) || item->valuestring == NULL) {
        error_text_set(error, error_size, "%s: not a string", field);
        return -1;
    }
    if (link_hex_decode(item->valuestring, out, size) != 0) {
        error_text_set(error, error_size, "%s: must be %zu hex digits", field, 2 * size);
        return -1;
    }
    return 0;
}

/* Parse CHALLENGE: "nonce" is 64 hex digits. */
int link_parse_challenge(const cJSON *json, struct link_challenge *out, char *error,
                         size_t error_size)
{
    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    error_text_set(error, error_size, "%s", "");
    return link_json_hex_field(json, "nonce", out->nonce, sizeof(out->nonce), error, error_size);
}

/* Parse AUTH: "mac" is 64 hex digits. */
int link_parse_auth(const cJSON *json, struct link_auth *out, char *error, size_t error_size)
{
    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    error_text_set(error, error_size, "%s", "");
    return link_json_hex_field(json, "mac", out->mac, sizeof(out->mac), error, error_size);
}

/* Build {field: hex(data)}; NULL if out of memory. The caller deletes the tree. */
static cJSON *link_build_hex_object(const char *field, const uint8_t *data, size_t size)
{
    char text[2 * LINK_MAC_SIZE + 1];
    cJSON *json;

    assert(size <= LINK_MAC_SIZE && size <= LINK_NONCE_SIZE);
    link_hex_encode(data, size, text);
    json = cJSON_CreateObject();
    if (json == NULL || cJSON_AddStringToObject(json, field, text) == NULL) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* Build CHALLENGE; the caller deletes the tree. */
cJSON *link_build_challenge(const struct link_challenge *challenge)
{
    assert(challenge != NULL);
    return link_build_hex_object("nonce", challenge->nonce, sizeof(challenge->nonce));
}

/* Build AUTH; the caller deletes the tree. */
cJSON *link_build_auth(const struct link_auth *auth)
{
    assert(auth != NULL);
    return link_build_hex_object("mac", auth->mac, sizeof(auth->mac));
}

/* Big-endian u32 at data. */
static uint32_t link_read_u32(const uint8_t *data)
{
    return ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) | ((uint32_t)data[2] << 8) |
           data[3];
}

/* Big-endian u32 to out. */
static void link_write_u32(uint32_t value, uint8_t *out)
{
    out[0] = (uint8_t)(value >> 24);
    out[1] = (uint8_t)(value >> 16);
    out[2] = (uint8_t)(value >> 8);
    out[3] = (uint8_t)value;
}

/* See link_protocol.h. */
int link_quick_reply_data_parse(const struct link_message *message,
                                struct link_quick_reply_data *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof(*out));
    if (message->header.type != LINK_QUICK_REPLY_DATA) {
        error_text_set(error, error_size, "not quick_reply_data");
        return -1;
    }
    if (message->payload_size <= LINK_QUICK_REPLY_DATA_HEADER ||
        message->payload_size > LINK_QUICK_REPLY_DATA_HEADER + LINK_QUICK_REPLY_CHUNK_MAX) {
        error_text_set(error, error_size, "quick_reply_data: chunk size out of range");
        return -1;
    }
    out->reply_id = message->header.sequence;
    out->version = link_read_u32(message->payload);
    out->offset = link_read_u32(message->payload + 4);
    out->total = link_read_u32(message->payload + 8);
    out->chunk = message->payload + LINK_QUICK_REPLY_DATA_HEADER;
    out->chunk_size = message->payload_size - LINK_QUICK_REPLY_DATA_HEADER;
    if (out->reply_id == 0 || out->total == 0 || out->total > LINK_QUICK_REPLY_MAX_TOTAL ||
        out->offset >= out->total || out->chunk_size > out->total - out->offset) {
        error_text_set(error, error_size, "quick_reply_data: id, offset or total out of range");
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* See link_protocol.h. */
void link_quick_reply_data_header_encode(uint32_t version, uint32_t offset, uint32_t total,
                                         uint8_t out[LINK_QUICK_REPLY_DATA_HEADER])
{
    link_write_u32(version, out);
    link_write_u32(offset, out + 4);
    link_write_u32(total, out + 8);
}
