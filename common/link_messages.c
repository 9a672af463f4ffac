/*
 * link_messages.c - typed views of the device link v1 JSON payloads HELLO,
 * WELCOME, ERROR, EVENT, TELEMETRY, COMMAND and COMMAND_RESULT (see
 * link_protocol.h and docs/protocol.md): strict parsers from a cJSON object
 * into fixed-size structs, and builders that emit exactly what the parsers
 * accept. CHALLENGE and AUTH are in link_protocol.c next to the MAC.
 *
 * Shared by the hub (WebSocket handler threads) and the doorbell (its link
 * thread). Pure functions: no globals, no I/O, no logging. Parsers fill the
 * caller's struct and may borrow "settings" subtrees from the caller's JSON;
 * builders return a new cJSON tree that the caller deletes.
 *
 * One rule set per struct (the link_check_* functions) serves both directions:
 * the parser extracts JSON types, then checks ranges; the builder checks the
 * same ranges before emitting, so a built payload always parses back.
 */
#include "common/link_protocol.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_fields.h"

/* Range rules of HELLO, shared by parser and builder; 0 or -1 with reason. */
static int link_check_hello(const struct link_hello *hello, char *error, size_t error_size)
{
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
    return link_video_format_check(hello->width, hello->height, hello->fps, error, error_size);
}

/* Parse HELLO into the caller's struct. */
int link_parse_hello(const cJSON *json, struct link_hello *out, char *error, size_t error_size)
{
    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0 ||
        link_json_string(json, "device_id", LINK_FIELD_REQUIRED, out->device_id,
                         sizeof(out->device_id), error, error_size) != 0 ||
        link_json_string(json, "firmware", LINK_FIELD_REQUIRED, out->firmware,
                         sizeof(out->firmware), error, error_size) != 0 ||
        link_json_int(json, "protocol", LINK_FIELD_REQUIRED, 0, 255, &out->protocol, error,
                      error_size) != 0 ||
        link_json_int(json, "width", LINK_FIELD_OPTIONAL, 0, LINK_WIDTH_MAX, &out->width, error,
                      error_size) != 0 ||
        link_json_int(json, "height", LINK_FIELD_OPTIONAL, 0, LINK_HEIGHT_MAX, &out->height, error,
                      error_size) != 0 ||
        link_json_int(json, "fps", LINK_FIELD_OPTIONAL, 0, LINK_FPS_MAX, &out->fps, error,
                      error_size) != 0 ||
        link_json_int(json, "audio_channels", LINK_FIELD_OPTIONAL, 0, 2, &out->audio_channels,
                      error, error_size) != 0 ||
        link_json_bool(json, "event_snapshots", LINK_FIELD_OPTIONAL, &out->event_snapshots, error,
                       error_size) != 0)
        return -1;
    return link_check_hello(out, error, error_size);
}

/* Build HELLO; NULL if out of memory or invalid. The caller deletes the tree. */
cJSON *link_build_hello(const struct link_hello *hello)
{
    cJSON *json;

    assert(hello != NULL);
    if (link_check_hello(hello, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL || cJSON_AddStringToObject(json, "device_id", hello->device_id) == NULL ||
        cJSON_AddStringToObject(json, "firmware", hello->firmware) == NULL ||
        cJSON_AddNumberToObject(json, "protocol", hello->protocol) == NULL ||
        cJSON_AddNumberToObject(json, "width", hello->width) == NULL ||
        cJSON_AddNumberToObject(json, "height", hello->height) == NULL ||
        cJSON_AddNumberToObject(json, "fps", hello->fps) == NULL ||
        cJSON_AddNumberToObject(json, "audio_channels", hello->audio_channels) == NULL ||
        cJSON_AddBoolToObject(json, "event_snapshots", hello->event_snapshots) == NULL)
        goto fail;
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* ---- event ------------------------------------------------------------------ */

/* One box lies inside the frame and has a size; 0 or -1 with reason. */
static int link_check_box(const struct link_box *box, char *error, size_t error_size)
{
    if (!(box->x >= 0 && box->x <= 1) || !(box->y >= 0 && box->y <= 1))
        return link_field_error(error, error_size, "boxes", "x and y must be in 0..1");
    if (!(box->w > 0 && box->w <= 1) || !(box->h > 0 && box->h <= 1))
        return link_field_error(error, error_size, "boxes", "w and h must be in (0, 1]");
    if (box->x + box->w > 1 + LINK_BOX_EPSILON || box->y + box->h > 1 + LINK_BOX_EPSILON)
        return link_field_error(error, error_size, "boxes", "box extends beyond the frame");
    return 0;
}

/* Range rules of EVENT, shared by parser and builder; 0 or -1 with reason. */
static int link_check_event(const struct link_event *event, char *error, size_t error_size)
{
    if ((unsigned)event->type > (unsigned)LINK_EVENT_TAMPER)
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

/* Parse one {"x","y","w","h"} box; all four are required. */
static int link_parse_box(const cJSON *item, struct link_box *box, char *error, size_t error_size)
{
    if (!cJSON_IsObject(item))
        return link_field_error(error, error_size, "boxes", "entry is not an object");
    if (link_json_number(item, "x", LINK_FIELD_REQUIRED, 0, 1, &box->x, error, error_size) != 0 ||
        link_json_number(item, "y", LINK_FIELD_REQUIRED, 0, 1, &box->y, error, error_size) != 0 ||
        link_json_number(item, "w", LINK_FIELD_REQUIRED, 0, 1, &box->w, error, error_size) != 0 ||
        link_json_number(item, "h", LINK_FIELD_REQUIRED, 0, 1, &box->h, error, error_size) != 0)
        return -1;
    return link_check_box(box, error, error_size);
}

/* Parse EVENT; defaults: score 1, active true, no boxes. */
int link_parse_event(const cJSON *json, struct link_event *out, char *error, size_t error_size)
{
    char type_name[16] = "";
    const cJSON *boxes = NULL;
    const cJSON *item;

    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0)
        return -1;
    out->score = 1.0;
    out->active = 1;
    if (link_json_string(json, "type", LINK_FIELD_REQUIRED, type_name, sizeof(type_name), error,
                         error_size) != 0)
        return -1;
    if (link_event_type_from_name(type_name, &out->type) != 0)
        return link_field_error(error, error_size, "type", "unknown event type");
    if (link_json_uint32(json, "id", LINK_FIELD_REQUIRED, &out->id, error, error_size) != 0 ||
        link_json_number(json, "score", LINK_FIELD_OPTIONAL, 0, 1, &out->score, error,
                         error_size) != 0 ||
        link_json_bool(json, "active", LINK_FIELD_OPTIONAL, &out->active, error, error_size) != 0 ||
        link_json_member(json, "boxes", LINK_FIELD_OPTIONAL, &boxes, error, error_size) != 0)
        return -1;
    if (boxes != NULL) {
        if (!cJSON_IsArray(boxes))
            return link_field_error(error, error_size, "boxes", "not an array");
        cJSON_ArrayForEach(item, boxes)
        {
            if (out->box_count >= LINK_MAX_BOXES)
                return link_field_error(error, error_size, "boxes", "at most 16");
            if (link_parse_box(item, &out->boxes[out->box_count], error, error_size) != 0)
                return -1;
            out->box_count++;
        }
    }
    return link_check_event(out, error, error_size);
}

/* Build EVENT with numbers in canonical form; NULL if out of memory or invalid.
 * The caller deletes the tree. */
cJSON *link_build_event(const struct link_event *event_in)
{
    struct link_event canonical;
    const struct link_event *event = &canonical;
    cJSON *json, *boxes;

    assert(event_in != NULL);
    canonical = *event_in;
    canonical.score = link_number_canonical(canonical.score);
    for (int i = 0; i < canonical.box_count && i < LINK_MAX_BOXES; i++) {
        struct link_box *box = &canonical.boxes[i];
        box->x = link_number_canonical(box->x);
        box->y = link_number_canonical(box->y);
        box->w = link_number_canonical(box->w);
        box->h = link_number_canonical(box->h);
    }
    if (link_check_event(event, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL ||
        cJSON_AddStringToObject(json, "type", link_event_type_name(event->type)) == NULL ||
        cJSON_AddNumberToObject(json, "id", event->id) == NULL ||
        cJSON_AddNumberToObject(json, "score", event->score) == NULL ||
        cJSON_AddBoolToObject(json, "active", event->active) == NULL)
        goto fail;
    boxes = cJSON_AddArrayToObject(json, "boxes");
    if (boxes == NULL)
        goto fail;
    for (int i = 0; i < event->box_count; i++) {
        const struct link_box *box = &event->boxes[i];
        cJSON *item = cJSON_CreateObject();
        if (item == NULL)
            goto fail;
        if (!cJSON_AddItemToArray(boxes, item)) {
            cJSON_Delete(item);
            goto fail;
        }
        if (cJSON_AddNumberToObject(item, "x", box->x) == NULL ||
            cJSON_AddNumberToObject(item, "y", box->y) == NULL ||
            cJSON_AddNumberToObject(item, "w", box->w) == NULL ||
            cJSON_AddNumberToObject(item, "h", box->h) == NULL)
            goto fail;
    }
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* ---- telemetry -------------------------------------------------------------- */

/* Range rules of TELEMETRY, shared by parser and builder; 0 or -1 with reason. */
static int link_check_telemetry(const struct link_telemetry *telemetry, char *error,
                                size_t error_size)
{
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

/* Parse TELEMETRY; defaults: battery_percent -1 (mains), rssi_dbm 0 (wired). */
int link_parse_telemetry(const cJSON *json, struct link_telemetry *out, char *error,
                         size_t error_size)
{
    int64_t uptime = 0;

    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0)
        return -1;
    out->battery_percent = -1;
    out->rssi_dbm = 0;
    if (link_json_int(json, "battery_percent", LINK_FIELD_OPTIONAL, -1, 100, &out->battery_percent,
                      error, error_size) != 0 ||
        link_json_int(json, "rssi_dbm", LINK_FIELD_OPTIONAL, -150, 0, &out->rssi_dbm, error,
                      error_size) != 0 ||
        link_json_number(json, "temperature_c", LINK_FIELD_REQUIRED, -100, 200, &out->temperature_c,
                         error, error_size) != 0 ||
        link_json_integer(json, "uptime_s", LINK_FIELD_REQUIRED, 0, LINK_JSON_MAX_EXACT_INTEGER,
                          &uptime, error, error_size) != 0 ||
        link_json_string(json, "firmware", LINK_FIELD_REQUIRED, out->firmware,
                         sizeof(out->firmware), error, error_size) != 0)
        return -1;
    out->uptime_s = (uint64_t)uptime;
    return link_check_telemetry(out, error, error_size);
}

/* Build TELEMETRY with numbers in canonical form; NULL if out of memory or invalid.
 * The caller deletes the tree. */
cJSON *link_build_telemetry(const struct link_telemetry *telemetry_in)
{
    struct link_telemetry canonical;
    const struct link_telemetry *telemetry = &canonical;
    cJSON *json;

    assert(telemetry_in != NULL);
    canonical = *telemetry_in;
    canonical.temperature_c = link_number_canonical(canonical.temperature_c);
    if (link_check_telemetry(telemetry, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL ||
        cJSON_AddNumberToObject(json, "battery_percent", telemetry->battery_percent) == NULL ||
        cJSON_AddNumberToObject(json, "rssi_dbm", telemetry->rssi_dbm) == NULL ||
        cJSON_AddNumberToObject(json, "temperature_c", telemetry->temperature_c) == NULL ||
        cJSON_AddNumberToObject(json, "uptime_s", (double)telemetry->uptime_s) == NULL ||
        cJSON_AddStringToObject(json, "firmware", telemetry->firmware) == NULL)
        goto fail;
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* ---- command ---------------------------------------------------------------- */

/* Parameter rules of each COMMAND, shared by parser and builder; 0 or -1 with reason. */
static int link_check_command(const struct link_command *command, char *error, size_t error_size)
{
    switch (command->type) {
    case LINK_COMMAND_SET_VIDEO:
        if (command->bitrate_kbps != 0 && (command->bitrate_kbps < LINK_BITRATE_MIN_KBPS ||
                                           command->bitrate_kbps > LINK_BITRATE_MAX_KBPS))
            return link_field_error(error, error_size, "bitrate_kbps", "must be 0 or 50..20000");
        return link_video_format_check(command->width, command->height, command->fps, error,
                                       error_size);
    case LINK_COMMAND_SET_MOTION:
        if (command->motion == NULL || !cJSON_IsObject(command->motion))
            return link_field_error(error, error_size, "motion", "not an object");
        return 0;
    case LINK_COMMAND_KEYFRAME:
    case LINK_COMMAND_SNAPSHOT:
        return 0;
    }
    return link_field_error(error, error_size, "cmd", "unknown command");
}

/* Parse the parameters that belong to out->type; others are ignored. */
static int link_parse_command_parameters(const cJSON *json, struct link_command *out, char *error,
                                         size_t error_size)
{
    switch (out->type) {
    case LINK_COMMAND_SET_VIDEO:
        if (link_json_int(json, "bitrate_kbps", LINK_FIELD_OPTIONAL, 0, LINK_BITRATE_MAX_KBPS,
                          &out->bitrate_kbps, error, error_size) != 0 ||
            link_json_int(json, "width", LINK_FIELD_OPTIONAL, 0, LINK_WIDTH_MAX, &out->width, error,
                          error_size) != 0 ||
            link_json_int(json, "height", LINK_FIELD_OPTIONAL, 0, LINK_HEIGHT_MAX, &out->height,
                          error, error_size) != 0 ||
            link_json_int(json, "fps", LINK_FIELD_OPTIONAL, 0, LINK_FPS_MAX, &out->fps, error,
                          error_size) != 0)
            return -1;
        return 0;
    case LINK_COMMAND_SNAPSHOT:
        return link_json_uint32(json, "request_id", LINK_FIELD_OPTIONAL, &out->request_id, error,
                                error_size);
    case LINK_COMMAND_SET_MOTION:
        return link_json_object(json, "motion", LINK_FIELD_REQUIRED, &out->motion, error,
                                error_size);
    case LINK_COMMAND_KEYFRAME:
        return 0;
    }
    return link_field_error(error, error_size, "cmd", "unknown command");
}

/* Parse COMMAND; motion is borrowed from json. */
int link_parse_command(const cJSON *json, struct link_command *out, char *error, size_t error_size)
{
    char command_name[32] = "";

    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0 ||
        link_json_string(json, "cmd", LINK_FIELD_REQUIRED, command_name, sizeof(command_name),
                         error, error_size) != 0)
        return -1;
    if (link_command_type_from_name(command_name, &out->type) != 0)
        return link_field_error(error, error_size, "cmd", "unknown command");
    if (link_json_uint32(json, "id", LINK_FIELD_REQUIRED, &out->id, error, error_size) != 0 ||
        link_parse_command_parameters(json, out, error, error_size) != 0)
        return -1;
    return link_check_command(out, error, error_size);
}

/* Add "motion": a copy of the (already checked) motion object; -1 if out of memory. */
static int link_add_motion(cJSON *json, const cJSON *motion)
{
    cJSON *copy = cJSON_Duplicate(motion, 1);

    if (copy == NULL)
        return -1;
    if (!cJSON_AddItemToObject(json, "motion", copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* Add the parameters that belong to command->type to json; -1 if out of memory. */
static int link_build_command_parameters(const struct link_command *command, cJSON *json)
{
    switch (command->type) {
    case LINK_COMMAND_SET_VIDEO:
        if (cJSON_AddNumberToObject(json, "bitrate_kbps", command->bitrate_kbps) == NULL ||
            cJSON_AddNumberToObject(json, "width", command->width) == NULL ||
            cJSON_AddNumberToObject(json, "height", command->height) == NULL ||
            cJSON_AddNumberToObject(json, "fps", command->fps) == NULL)
            return -1;
        return 0;
    case LINK_COMMAND_SNAPSHOT:
        return cJSON_AddNumberToObject(json, "request_id", command->request_id) == NULL ? -1 : 0;
    case LINK_COMMAND_SET_MOTION:
        return link_add_motion(json, command->motion);
    case LINK_COMMAND_KEYFRAME:
        return 0;
    }
    return -1;
}

/* Build COMMAND; NULL if out of memory or invalid. The caller deletes the tree. */
cJSON *link_build_command(const struct link_command *command)
{
    cJSON *json;

    assert(command != NULL);
    if (link_check_command(command, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL ||
        cJSON_AddStringToObject(json, "cmd", link_command_type_name(command->type)) == NULL ||
        cJSON_AddNumberToObject(json, "id", command->id) == NULL ||
        link_build_command_parameters(command, json) != 0)
        goto fail;
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* ---- welcome, error, command_result ------------------------------------------ */

/* Rules of WELCOME, shared by parser and builder; 0 or -1 with reason. */
static int link_check_welcome(const struct link_welcome *welcome, char *error, size_t error_size)
{
    if (welcome->name[0] == '\0' || !link_text_is_safe(welcome->name, sizeof(welcome->name)))
        return link_field_error(error, error_size, "name", "must be 1-127 bytes printable UTF-8");
    if (!link_settings_is_valid(welcome->settings))
        return link_field_error(error, error_size, "settings", "not an object");
    return 0;
}

/* Parse WELCOME; settings is borrowed from json (NULL if absent, meaning {}). */
int link_parse_welcome(const cJSON *json, struct link_welcome *out, char *error, size_t error_size)
{
    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0 ||
        link_json_string(json, "name", LINK_FIELD_REQUIRED, out->name, sizeof(out->name), error,
                         error_size) != 0 ||
        link_json_object(json, "settings", LINK_FIELD_OPTIONAL, &out->settings, error,
                         error_size) != 0)
        return -1;
    return link_check_welcome(out, error, error_size);
}

/* Build WELCOME (settings copied, {} if NULL); the caller deletes the tree. */
cJSON *link_build_welcome(const struct link_welcome *welcome)
{
    cJSON *json;

    assert(welcome != NULL);
    if (link_check_welcome(welcome, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL || cJSON_AddStringToObject(json, "name", welcome->name) == NULL ||
        link_add_settings(json, welcome->settings) != 0) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* Rules of ERROR, shared by parser and builder; 0 or -1 with reason. */
static int link_check_error(const struct link_error *link_error, char *error, size_t error_size)
{
    if (!link_error_code_is_valid(link_error->code))
        return link_field_error(error, error_size, "code", "must be 1-63 of [a-z0-9_]");
    if (!link_text_is_safe(link_error->reason, sizeof(link_error->reason)))
        return link_field_error(error, error_size, "reason", "not printable UTF-8");
    return 0;
}

/* Parse ERROR; reason defaults to "". */
int link_parse_error(const cJSON *json, struct link_error *out, char *error, size_t error_size)
{
    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0 ||
        link_json_string(json, "code", LINK_FIELD_REQUIRED, out->code, sizeof(out->code), error,
                         error_size) != 0 ||
        link_json_string(json, "reason", LINK_FIELD_OPTIONAL, out->reason, sizeof(out->reason),
                         error, error_size) != 0)
        return -1;
    return link_check_error(out, error, error_size);
}

/* Build ERROR; NULL if out of memory or invalid. The caller deletes the tree. */
cJSON *link_build_error(const struct link_error *link_error)
{
    cJSON *json;

    assert(link_error != NULL);
    if (link_check_error(link_error, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL || cJSON_AddStringToObject(json, "code", link_error->code) == NULL ||
        cJSON_AddStringToObject(json, "reason", link_error->reason) == NULL) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* Rules of COMMAND_RESULT, shared by parser and builder; 0 or -1 with reason. */
static int link_check_command_result(const struct link_command_result *result, char *error,
                                     size_t error_size)
{
    if (result->ok != 0 && result->ok != 1)
        return link_field_error(error, error_size, "ok", "must be 0 or 1");
    if (!link_text_is_safe(result->reason, sizeof(result->reason)))
        return link_field_error(error, error_size, "reason", "not printable UTF-8");
    return 0;
}

/* Parse COMMAND_RESULT; reason defaults to "". */
int link_parse_command_result(const cJSON *json, struct link_command_result *out, char *error,
                              size_t error_size)
{
    if (link_parse_begin(json, out, sizeof(*out), error, error_size) != 0 ||
        link_json_uint32(json, "id", LINK_FIELD_REQUIRED, &out->id, error, error_size) != 0 ||
        link_json_bool(json, "ok", LINK_FIELD_REQUIRED, &out->ok, error, error_size) != 0 ||
        link_json_string(json, "reason", LINK_FIELD_OPTIONAL, out->reason, sizeof(out->reason),
                         error, error_size) != 0)
        return -1;
    return link_check_command_result(out, error, error_size);
}

/* Build COMMAND_RESULT; NULL if out of memory or invalid. The caller deletes the tree. */
cJSON *link_build_command_result(const struct link_command_result *result)
{
    cJSON *json;

    assert(result != NULL);
    if (link_check_command_result(result, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL || cJSON_AddNumberToObject(json, "id", result->id) == NULL ||
        cJSON_AddBoolToObject(json, "ok", result->ok) == NULL ||
        cJSON_AddStringToObject(json, "reason", result->reason) == NULL) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}
