/*
 * link_messages.c - typed views of the device link v1 JSON payloads HELLO,
 * WELCOME, ERROR, EVENT, TELEMETRY, COMMAND and COMMAND_RESULT (see
 * link_protocol.h and docs/protocol.md): strict parsers from a cJSON object
 * into fixed-size structs, and builders that emit exactly what the parsers
 * accept. CHALLENGE and AUTH are in link_protocol.c next to the MAC.
 *
 * Each payload is one field table (struct link_layout, link_fields.h): the
 * JSON key, type, range and struct offset of every field, in wire order. The
 * generic parser and builder in link_fields.c walk it; what is left here is
 * the tables and one rule set per struct (the link_check_* functions), which
 * both directions apply: the parser after reading the fields, the builder
 * before emitting, so a built payload always parses back.
 *
 * Shared by the hub (WebSocket handler threads) and the doorbell (its link
 * thread). Pure functions: no globals but constant tables, no I/O, no
 * logging. Parsers fill the caller's struct and may borrow "settings" and
 * "motion" subtrees from the caller's JSON; builders return a new cJSON tree
 * that the caller deletes.
 */
#include "common/link_protocol.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "common/link_fields.h"

static_assert(sizeof(struct link_event) <= LINK_LAYOUT_MAX_STRUCT_SIZE, "builder copy too small");
static_assert(sizeof(struct link_hello) <= LINK_LAYOUT_MAX_STRUCT_SIZE, "builder copy too small");
static_assert(sizeof(struct link_telemetry) <= LINK_LAYOUT_MAX_STRUCT_SIZE,
              "builder copy too small");
static_assert(sizeof(enum link_event_type) == sizeof(int) &&
                  sizeof(enum link_command_type) == sizeof(int),
              "enum fields are read as int-sized members");

/* ---- hello ------------------------------------------------------------------ */

/* Range rules of HELLO, shared by parser and builder; 0 or -1 with reason. */
static int link_check_hello(const void *in, char *error, size_t error_size)
{
    const struct link_hello *hello = in;

    if (!link_device_id_is_valid(hello->device_id, sizeof(hello->device_id)))
        return link_field_error(error, error_size, "device_id", "must be 1-63 of [A-Za-z0-9_-]");
    if (!link_text_is_safe(hello->firmware, sizeof(hello->firmware)))
        return link_field_error(error, error_size, "firmware", "not printable UTF-8");
    if (hello->protocol != LINK_PROTOCOL_VERSION)
        return link_field_error(error, error_size, "protocol", "unsupported");
    if (hello->audio_channels < 0 || hello->audio_channels > 2)
        return link_field_error(error, error_size, "audio_channels", "must be 0, 1 or 2");
    if (hello->event_snapshots != 0 && hello->event_snapshots != 1)
        return link_field_error(error, error_size, "event_snapshots", "must be 0 or 1");
    if (!link_text_fits(hello->auth, sizeof(hello->auth)) ||
        (hello->auth[0] != '\0' && strcmp(hello->auth, "secret") != 0 &&
         strcmp(hello->auth, "key") != 0))
        return link_field_error(error, error_size, "auth", "must be secret or key");
    if (link_video_format_check(hello->width, hello->height, hello->fps, error, error_size) != 0)
        return -1;
    if ((hello->sub_width == 0) != (hello->sub_fps == 0))
        return link_field_error(error, error_size, "sub_fps",
                                "a sub-stream needs a size and a rate");
    return link_video_format_check(hello->sub_width, hello->sub_height, hello->sub_fps, error,
                                   error_size);
}

static const struct link_field link_hello_fields[] = {
    LINK_REQUIRED(link_hello, device_id, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(link_hello, firmware, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(link_hello, protocol, LINK_FIELD_INT, 0, 255),
    LINK_OPTIONAL(link_hello, width, LINK_FIELD_INT, 0, LINK_WIDTH_MAX, 0),
    LINK_OPTIONAL(link_hello, height, LINK_FIELD_INT, 0, LINK_HEIGHT_MAX, 0),
    LINK_OPTIONAL(link_hello, fps, LINK_FIELD_INT, 0, LINK_FPS_MAX, 0),
    LINK_OPTIONAL(link_hello, audio_channels, LINK_FIELD_INT, 0, 2, 0),
    LINK_OPTIONAL(link_hello, event_snapshots, LINK_FIELD_BOOL, 0, 1, 0),
    LINK_OPTIONAL(link_hello, auth, LINK_FIELD_TEXT, 0, 0, 0),
    LINK_OPTIONAL(link_hello, sub_width, LINK_FIELD_INT, 0, LINK_WIDTH_MAX, 0),
    LINK_OPTIONAL(link_hello, sub_height, LINK_FIELD_INT, 0, LINK_HEIGHT_MAX, 0),
    LINK_OPTIONAL(link_hello, sub_fps, LINK_FIELD_INT, 0, LINK_FPS_MAX, 0),
};

static const struct link_layout link_hello_layout = {
    link_hello_fields, LINK_COUNT(link_hello_fields), sizeof(struct link_hello), link_check_hello,
    NULL};

/* ---- event ------------------------------------------------------------------ */

/* One box lies inside the frame and has a size; 0 or -1 with reason. */
static int link_check_box(const void *in, char *error, size_t error_size)
{
    const struct link_box *box = in;

    if (!(box->x >= 0 && box->x <= 1) || !(box->y >= 0 && box->y <= 1))
        return link_field_error(error, error_size, "boxes", "x and y must be in 0..1");
    if (!(box->w > 0 && box->w <= 1) || !(box->h > 0 && box->h <= 1))
        return link_field_error(error, error_size, "boxes", "w and h must be in (0, 1]");
    if (box->x + box->w > 1 + LINK_BOX_EPSILON || box->y + box->h > 1 + LINK_BOX_EPSILON)
        return link_field_error(error, error_size, "boxes", "box extends beyond the frame");
    return 0;
}

/* Range rules of EVENT, shared by parser and builder; 0 or -1 with reason. */
static int link_check_event(const void *in, char *error, size_t error_size)
{
    const struct link_event *event = in;

    if ((unsigned)event->type > (unsigned)LINK_EVENT_TYPE_LAST)
        return link_field_error(error, error_size, "type", "unknown event type");
    if (!(event->score >= 0 && event->score <= 1))
        return link_field_error(error, error_size, "score", "must be in 0..1");
    if (event->active != 0 && event->active != 1)
        return link_field_error(error, error_size, "active", "must be 0 or 1");
    if (event->box_count < 0 || event->box_count > LINK_MAX_BOXES)
        return link_field_error(error, error_size, "boxes", "at most 16");
    for (int i = 0; i < event->box_count; i++)
        if (link_check_box(&event->boxes[i], error, error_size) != 0)
            return -1;
    return 0;
}

/* {"x","y","w","h"}: all four are required. */
static const struct link_field link_box_fields[] = {
    LINK_REQUIRED(link_box, x, LINK_FIELD_NUMBER, 0, 1),
    LINK_REQUIRED(link_box, y, LINK_FIELD_NUMBER, 0, 1),
    LINK_REQUIRED(link_box, w, LINK_FIELD_NUMBER, 0, 1),
    LINK_REQUIRED(link_box, h, LINK_FIELD_NUMBER, 0, 1),
};

static const struct link_field_array link_event_boxes = {link_box_fields,
                                                         LINK_COUNT(link_box_fields),
                                                         sizeof(struct link_box),
                                                         LINK_MAX_BOXES,
                                                         offsetof(struct link_event, box_count),
                                                         "at most 16",
                                                         link_check_box};

/* Defaults: score 1, active true, no boxes. */
static const struct link_field link_event_fields[] = {
    {.key = "type",
     .type = LINK_FIELD_EVENT_TYPE,
     .presence = LINK_FIELD_REQUIRED,
     .offset = offsetof(struct link_event, type),
     .size = 24}, /* the name: 23 bytes at most */
    LINK_REQUIRED(link_event, id, LINK_FIELD_UINT32, 0, UINT32_MAX),
    LINK_OPTIONAL(link_event, score, LINK_FIELD_NUMBER, 0, 1, 1),
    LINK_OPTIONAL(link_event, active, LINK_FIELD_BOOL, 0, 1, 1),
    {.key = "boxes",
     .type = LINK_FIELD_ARRAY,
     .presence = LINK_FIELD_OPTIONAL,
     .offset = offsetof(struct link_event, boxes),
     .size = sizeof(((struct link_event *)0)->boxes),
     .array = &link_event_boxes},
    LINK_OPTIONAL(link_event, auto_reply, LINK_FIELD_UINT32, 0, UINT32_MAX, 0),
};

static const struct link_layout link_event_layout = {
    link_event_fields, LINK_COUNT(link_event_fields), sizeof(struct link_event), link_check_event,
    NULL};

/* ---- telemetry -------------------------------------------------------------- */

/* Range rules of TELEMETRY, shared by parser and builder; 0 or -1 with reason. */
static int link_check_telemetry(const void *in, char *error, size_t error_size)
{
    const struct link_telemetry *telemetry = in;

    if (telemetry->battery_percent < -1 || telemetry->battery_percent > 100)
        return link_field_error(error, error_size, "battery_percent", "must be -1..100");
    if (telemetry->rssi_dbm < -150 || telemetry->rssi_dbm > 0)
        return link_field_error(error, error_size, "rssi_dbm", "must be -150..0");
    if (!(telemetry->temperature_c >= -100 && telemetry->temperature_c <= 200))
        return link_field_error(error, error_size, "temperature_c", "must be -100..200");
    if (telemetry->uptime_s > LINK_JSON_MAX_EXACT_UINT)
        return link_field_error(error, error_size, "uptime_s", "out of range");
    if (!link_text_is_safe(telemetry->firmware, sizeof(telemetry->firmware)))
        return link_field_error(error, error_size, "firmware", "not printable UTF-8");
    return 0;
}

/* Defaults: battery_percent -1 (mains), rssi_dbm 0 (wired), temperature_known
 * true (a doorbell from before the field always had a reading). */
static const struct link_field link_telemetry_fields[] = {
    LINK_OPTIONAL(link_telemetry, battery_percent, LINK_FIELD_INT, -1, 100, -1),
    LINK_OPTIONAL(link_telemetry, rssi_dbm, LINK_FIELD_INT, -150, 0, 0),
    LINK_REQUIRED(link_telemetry, temperature_c, LINK_FIELD_NUMBER, -100, 200),
    LINK_OPTIONAL(link_telemetry, temperature_known, LINK_FIELD_BOOL, 0, 1, 1),
    LINK_REQUIRED(link_telemetry, uptime_s, LINK_FIELD_UINT64, 0, LINK_JSON_MAX_EXACT_INTEGER),
    LINK_REQUIRED(link_telemetry, firmware, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout link_telemetry_layout = {
    link_telemetry_fields, LINK_COUNT(link_telemetry_fields), sizeof(struct link_telemetry),
    link_check_telemetry, NULL};

/* ---- command ---------------------------------------------------------------- */

/* Parameter rules of each COMMAND, shared by parser and builder; 0 or -1 with reason. */
static int link_check_command(const void *in, char *error, size_t error_size)
{
    const struct link_command *command = in;

    switch (command->type) {
    case LINK_COMMAND_STREAM_ON:
    case LINK_COMMAND_STREAM_OFF:
        if (strcmp(command->stream, "sub") != 0)
            return link_field_error(error, error_size, "stream", "must be \"sub\"");
        return 0;
    case LINK_COMMAND_SET_VIDEO:
        if (command->stream[0] != '\0' && strcmp(command->stream, "main") != 0 &&
            strcmp(command->stream, "sub") != 0)
            return link_field_error(error, error_size, "stream", "must be \"main\" or \"sub\"");
        if (command->bitrate_kbps != 0 && (command->bitrate_kbps < LINK_BITRATE_MIN_KBPS ||
                                           command->bitrate_kbps > LINK_BITRATE_MAX_KBPS))
            return link_field_error(error, error_size, "bitrate_kbps", "must be 0 or 50..20000");
        return link_video_format_check(command->width, command->height, command->fps, error,
                                       error_size);
    case LINK_COMMAND_SET_MOTION:
        if (command->motion == NULL || !cJSON_IsObject(command->motion))
            return link_field_error(error, error_size, "motion", "not an object");
        return 0;
    case LINK_COMMAND_QUICK_REPLY:
        if (command->reply_id == 0)
            return link_field_error(error, error_size, "reply_id", "must be at least 1");
        if (command->reply_version == 0)
            return link_field_error(error, error_size, "version", "must be at least 1");
        return 0;
    case LINK_COMMAND_AUTO_REPLY:
        if (command->reply_id != 0 && command->reply_version == 0)
            return link_field_error(error, error_size, "version", "must be at least 1");
        if (command->reply_id != 0 && (command->delay_s < 1 || command->delay_s > 600))
            return link_field_error(error, error_size, "delay_s", "must be 1..600");
        return 0;
    case LINK_COMMAND_KEYFRAME:
    case LINK_COMMAND_SNAPSHOT:
    case LINK_COMMAND_ANSWERED:
        return 0;
    }
    return link_field_error(error, error_size, "cmd", "unknown command");
}

/* Every command: its name ("cmd", 31 bytes at most) and the hub's id. */
static const struct link_field link_command_fields[] = {
    {.key = "cmd",
     .type = LINK_FIELD_COMMAND_TYPE,
     .presence = LINK_FIELD_REQUIRED,
     .offset = offsetof(struct link_command, type),
     .size = 32},
    LINK_REQUIRED(link_command, id, LINK_FIELD_UINT32, 0, UINT32_MAX),
};

static const struct link_field link_stream_fields[] = {
    LINK_REQUIRED(link_command, stream, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_field link_set_video_fields[] = {
    LINK_OPTIONAL(link_command, stream, LINK_FIELD_TEXT, 0, 0, 0),
    LINK_OPTIONAL(link_command, bitrate_kbps, LINK_FIELD_INT, 0, LINK_BITRATE_MAX_KBPS, 0),
    LINK_OPTIONAL(link_command, width, LINK_FIELD_INT, 0, LINK_WIDTH_MAX, 0),
    LINK_OPTIONAL(link_command, height, LINK_FIELD_INT, 0, LINK_HEIGHT_MAX, 0),
    LINK_OPTIONAL(link_command, fps, LINK_FIELD_INT, 0, LINK_FPS_MAX, 0),
};

static const struct link_field link_snapshot_fields[] = {
    LINK_OPTIONAL(link_command, request_id, LINK_FIELD_UINT32, 0, UINT32_MAX, 0),
};

static const struct link_field link_quick_reply_fields[] = {
    LINK_REQUIRED(link_command, reply_id, LINK_FIELD_UINT32, 1, UINT32_MAX),
    LINK_FIELD(link_command, reply_version, "version", LINK_FIELD_UINT32, LINK_FIELD_REQUIRED, 1,
               UINT32_MAX, 0),
};

/* reply_id 0 turns auto-reply off; version and delay_s then default to 0. */
static const struct link_field link_auto_reply_fields[] = {
    LINK_REQUIRED(link_command, reply_id, LINK_FIELD_UINT32, 0, UINT32_MAX),
    LINK_FIELD(link_command, reply_version, "version", LINK_FIELD_UINT32, LINK_FIELD_OPTIONAL, 0,
               UINT32_MAX, 0),
    LINK_OPTIONAL(link_command, delay_s, LINK_FIELD_INT, 0, 600, 0),
};

static const struct link_field link_set_motion_fields[] = {
    LINK_REQUIRED(link_command, motion, LINK_FIELD_OBJECT, 0, 0),
};

/* The parameters of the command's type (others are ignored); NULL for a
 * type this codec does not know. */
static const struct link_field *link_command_parameters(const void *in, size_t *count_out)
{
    const struct link_command *command = in;

    switch (command->type) {
    case LINK_COMMAND_STREAM_ON:
    case LINK_COMMAND_STREAM_OFF:
        *count_out = LINK_COUNT(link_stream_fields);
        return link_stream_fields;
    case LINK_COMMAND_SET_VIDEO:
        *count_out = LINK_COUNT(link_set_video_fields);
        return link_set_video_fields;
    case LINK_COMMAND_SNAPSHOT:
        *count_out = LINK_COUNT(link_snapshot_fields);
        return link_snapshot_fields;
    case LINK_COMMAND_SET_MOTION:
        *count_out = LINK_COUNT(link_set_motion_fields);
        return link_set_motion_fields;
    case LINK_COMMAND_QUICK_REPLY:
        *count_out = LINK_COUNT(link_quick_reply_fields);
        return link_quick_reply_fields;
    case LINK_COMMAND_AUTO_REPLY:
        *count_out = LINK_COUNT(link_auto_reply_fields);
        return link_auto_reply_fields;
    case LINK_COMMAND_KEYFRAME:
    case LINK_COMMAND_ANSWERED:
        *count_out = 0;
        return link_command_fields; /* no parameters: an empty table */
    }
    return NULL;
}

static const struct link_layout link_command_layout = {
    link_command_fields, LINK_COUNT(link_command_fields), sizeof(struct link_command),
    link_check_command, link_command_parameters};

/* ---- welcome, error, command_result ------------------------------------------ */

/* Rules of WELCOME, shared by parser and builder; 0 or -1 with reason. */
static int link_check_welcome(const void *in, char *error, size_t error_size)
{
    const struct link_welcome *welcome = in;

    if (welcome->name[0] == '\0' || !link_text_is_safe(welcome->name, sizeof(welcome->name)))
        return link_field_error(error, error_size, "name", "must be 1-127 bytes printable UTF-8");
    if (!link_settings_is_valid(welcome->settings))
        return link_field_error(error, error_size, "settings", "not an object");
    return 0;
}

/* settings is borrowed on parse (NULL if absent, meaning {}) and built as a copy or {}. */
static const struct link_field link_welcome_fields[] = {
    LINK_REQUIRED(link_welcome, name, LINK_FIELD_TEXT, 0, 0),
    LINK_OPTIONAL(link_welcome, settings, LINK_FIELD_OBJECT, 0, 0, 0),
};

static const struct link_layout link_welcome_layout = {
    link_welcome_fields, LINK_COUNT(link_welcome_fields), sizeof(struct link_welcome),
    link_check_welcome, NULL};

/* Rules of ERROR, shared by parser and builder; 0 or -1 with reason. */
static int link_check_error(const void *in, char *error, size_t error_size)
{
    const struct link_error *link_error = in;

    if (!link_error_code_is_valid(link_error->code))
        return link_field_error(error, error_size, "code", "must be 1-63 of [a-z0-9_]");
    if (!link_text_is_safe(link_error->reason, sizeof(link_error->reason)))
        return link_field_error(error, error_size, "reason", "not printable UTF-8");
    return 0;
}

/* reason defaults to "". */
static const struct link_field link_error_fields[] = {
    LINK_REQUIRED(link_error, code, LINK_FIELD_TEXT, 0, 0),
    LINK_OPTIONAL(link_error, reason, LINK_FIELD_TEXT, 0, 0, 0),
};

static const struct link_layout link_error_layout = {
    link_error_fields, LINK_COUNT(link_error_fields), sizeof(struct link_error), link_check_error,
    NULL};

/* Rules of COMMAND_RESULT, shared by parser and builder; 0 or -1 with reason. */
static int link_check_command_result(const void *in, char *error, size_t error_size)
{
    const struct link_command_result *result = in;

    if (result->ok != 0 && result->ok != 1)
        return link_field_error(error, error_size, "ok", "must be 0 or 1");
    if (!link_text_is_safe(result->reason, sizeof(result->reason)))
        return link_field_error(error, error_size, "reason", "not printable UTF-8");
    return 0;
}

/* reason defaults to "". */
static const struct link_field link_command_result_fields[] = {
    LINK_REQUIRED(link_command_result, id, LINK_FIELD_UINT32, 0, UINT32_MAX),
    LINK_REQUIRED(link_command_result, ok, LINK_FIELD_BOOL, 0, 1),
    LINK_OPTIONAL(link_command_result, reason, LINK_FIELD_TEXT, 0, 0, 0),
};

static const struct link_layout link_command_result_layout = {
    link_command_result_fields, LINK_COUNT(link_command_result_fields),
    sizeof(struct link_command_result), link_check_command_result, NULL};

/* ---- the public parsers and builders (link_protocol.h) ----------------------- */

int link_parse_hello(const cJSON *json, struct link_hello *out, char *error, size_t error_size)
{
    return link_layout_parse(&link_hello_layout, json, out, error, error_size);
}

int link_parse_event(const cJSON *json, struct link_event *out, char *error, size_t error_size)
{
    return link_layout_parse(&link_event_layout, json, out, error, error_size);
}

int link_parse_telemetry(const cJSON *json, struct link_telemetry *out, char *error,
                         size_t error_size)
{
    return link_layout_parse(&link_telemetry_layout, json, out, error, error_size);
}

int link_parse_command(const cJSON *json, struct link_command *out, char *error, size_t error_size)
{
    return link_layout_parse(&link_command_layout, json, out, error, error_size);
}

int link_parse_welcome(const cJSON *json, struct link_welcome *out, char *error, size_t error_size)
{
    return link_layout_parse(&link_welcome_layout, json, out, error, error_size);
}

int link_parse_error(const cJSON *json, struct link_error *out, char *error, size_t error_size)
{
    return link_layout_parse(&link_error_layout, json, out, error, error_size);
}

int link_parse_command_result(const cJSON *json, struct link_command_result *out, char *error,
                              size_t error_size)
{
    return link_layout_parse(&link_command_result_layout, json, out, error, error_size);
}

cJSON *link_build_hello(const struct link_hello *hello)
{
    return link_layout_build(&link_hello_layout, hello);
}

cJSON *link_build_event(const struct link_event *event)
{
    return link_layout_build(&link_event_layout, event);
}

cJSON *link_build_telemetry(const struct link_telemetry *telemetry)
{
    return link_layout_build(&link_telemetry_layout, telemetry);
}

cJSON *link_build_command(const struct link_command *command)
{
    return link_layout_build(&link_command_layout, command);
}

cJSON *link_build_welcome(const struct link_welcome *welcome)
{
    return link_layout_build(&link_welcome_layout, welcome);
}

cJSON *link_build_error(const struct link_error *link_error)
{
    return link_layout_build(&link_error_layout, link_error);
}

cJSON *link_build_command_result(const struct link_command_result *result)
{
    return link_layout_build(&link_command_result_layout, result);
}
