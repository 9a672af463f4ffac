/*
 * routes_devices.c - /api/v1/devices: list, add (admin; shows the secret
 * once), show, delete (admin; disconnects at once), latest snapshot and a
 * request for a fresh one. The router has already checked the role and that
 * the user may see the doorbell in params[0]. civetweb worker threads.
 */
#define LOG_MODULE "devices"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "devices/device_store.h"
#include "http/routes.h"
#include "live/live_stream.h"
#include "recording/recorder.h"
#include "storage/database.h"
#include "talk/talk_floor.h"

/* Add name: milliseconds since the epoch, or null when 0 (never). */
static void routes_devices_add_time(cJSON *object, const char *name, int64_t ms)
{
    if (ms > 0)
        cJSON_AddNumberToObject(object, name, (double)ms);
    else
        cJSON_AddNullToObject(object, name);
}

/* The "video" member: the link's counters of this connection. */
static void routes_devices_add_video(cJSON *json, const struct device_video_stats *stats)
{
    cJSON *video = cJSON_AddObjectToObject(json, "video");

    if (video == NULL)
        return;
    cJSON_AddNumberToObject(video, "width", stats->width);
    cJSON_AddNumberToObject(video, "height", stats->height);
    cJSON_AddNumberToObject(video, "fps", stats->fps);
    cJSON_AddNumberToObject(video, "bitrate_kbps", stats->bitrate_kbps);
    cJSON_AddNumberToObject(video, "frames", (double)stats->frames);
    cJSON_AddNumberToObject(video, "keyframes", (double)stats->keyframes);
    cJSON_AddNumberToObject(video, "bytes", (double)stats->bytes);
    cJSON_AddNumberToObject(video, "first_sequence", stats->first_sequence);
    cJSON_AddNumberToObject(video, "last_sequence", stats->last_sequence);
    routes_devices_add_time(video, "last_keyframe_at", stats->last_keyframe_at);
    cJSON_AddNumberToObject(video, "gaps", (double)stats->gaps);
    cJSON_AddNumberToObject(video, "duplicates", (double)stats->duplicates);
    cJSON_AddNumberToObject(video, "reordered", (double)stats->reordered);
}

/* The "live" member: the live stream's counters (all 0 without a stream).
 * Takes the stream lock, inside the entry lock (the order in
 * device_registry.h). */
static void routes_devices_add_live(cJSON *json, struct live_stream *stream)
{
    struct live_stream_stats live;
    cJSON *object = cJSON_AddObjectToObject(json, "live");

    memset(&live, 0, sizeof(live));
    if (stream != NULL)
        live_stream_get_stats(stream, &live);
    if (object == NULL)
        return;
    cJSON_AddNumberToObject(object, "viewers", live.viewers);
    cJSON_AddStringToObject(object, "codecs", live.codecs);
    cJSON_AddNumberToObject(object, "video_frames", (double)live.video_frames);
    cJSON_AddNumberToObject(object, "audio_packets", (double)live.audio_packets);
    cJSON_AddNumberToObject(object, "bad_frames", (double)live.bad_frames);
    cJSON_AddNumberToObject(object, "skipped_frames", (double)live.skipped_frames);
    cJSON_AddNumberToObject(object, "viewer_skips", (double)live.viewer_skips);
}

/* Viewers moved between the streams by the hub: fallen behind on main, and
 * back from the sub-stream after keeping up there. */
static void routes_devices_add_fall_backs(cJSON *json, const struct live_stream_stats *main_stats,
                                          const struct live_stream_stats *sub_stats)
{
    cJSON_AddNumberToObject(json, "fall_backs", (double)main_stats->fall_backs);
    cJSON_AddNumberToObject(json, "recoveries", (double)sub_stats->recoveries);
}

/* The "recorder" member, or null before the doorbell first connected. Takes
 * the recorder lock, inside the entry lock. */
static void routes_devices_add_recorder(cJSON *json, struct recorder *recorder)
{
    struct recorder_stats recording;
    cJSON *object;

    if (recorder == NULL) {
        cJSON_AddNullToObject(json, "recorder");
        return;
    }
    recorder_get_stats(recorder, &recording);
    object = cJSON_AddObjectToObject(json, "recorder");
    if (object == NULL)
        return;
    cJSON_AddBoolToObject(object, "recording", recording.recording);
    cJSON_AddNumberToObject(object, "video_frames", (double)recording.video_frames);
    cJSON_AddNumberToObject(object, "audio_packets", (double)recording.audio_packets);
    cJSON_AddNumberToObject(object, "dropped_frames", (double)recording.dropped_frames);
    cJSON_AddNumberToObject(object, "segments", (double)recording.segments);
    cJSON_AddNumberToObject(object, "write_errors", (double)recording.write_errors);
    cJSON_AddStringToObject(object, "last_error", recording.last_error);
    cJSON_AddStringToObject(object, "state",
                            recording.recording         ? "recording"
                            : recording.problem[0] != 0 ? "stopped"
                                                        : "idle");
    if (recording.problem[0] != '\0')
        cJSON_AddStringToObject(object, "problem", recording.problem);
    else
        cJSON_AddNullToObject(object, "problem");
}

/* The "streams" member: what each of the doorbell's two streams is and
 * who watches it (main: the connection's measured rate; sub: HELLO's
 * format and whether it runs now). Entry locked by the caller. */
static void routes_devices_add_streams(cJSON *json, const struct device_entry *entry)
{
    struct live_stream_stats main_stats, sub_stats;
    cJSON *streams = cJSON_AddObjectToObject(json, "streams");
    cJSON *main_json, *sub_json;

    memset(&main_stats, 0, sizeof(main_stats));
    memset(&sub_stats, 0, sizeof(sub_stats));
    if (entry->live != NULL)
        live_stream_get_stats(entry->live, &main_stats);
    if (entry->live_sub != NULL)
        live_stream_get_stats(entry->live_sub, &sub_stats);
    if (streams == NULL || (main_json = cJSON_AddObjectToObject(streams, "main")) == NULL ||
        (sub_json = cJSON_AddObjectToObject(streams, "sub")) == NULL)
        return;
    cJSON_AddNumberToObject(main_json, "width", entry->video.width);
    cJSON_AddNumberToObject(main_json, "height", entry->video.height);
    cJSON_AddNumberToObject(main_json, "fps", entry->video.fps);
    cJSON_AddNumberToObject(main_json, "bitrate_kbps", entry->video.bitrate_kbps);
    cJSON_AddNumberToObject(main_json, "viewers", main_stats.stream_viewers);
    cJSON_AddBoolToObject(sub_json, "available", entry->sub_width > 0);
    cJSON_AddBoolToObject(sub_json, "on", entry->online && entry->sub_on);
    cJSON_AddNumberToObject(sub_json, "width", entry->sub_width);
    cJSON_AddNumberToObject(sub_json, "height", entry->sub_height);
    cJSON_AddNumberToObject(sub_json, "fps", entry->sub_fps);
    cJSON_AddNumberToObject(sub_json, "viewers", sub_stats.viewers);
    cJSON_AddNumberToObject(sub_json, "frames", (double)sub_stats.video_frames);
    routes_devices_add_fall_backs(streams, &main_stats, &sub_stats);
}

/*
 * The API's DEVICE object (caller deletes): the stored record merged with
 * the registry entry, which is locked by the caller, or NULL when the hub has
 * no live state for the doorbell (then it reads as never connected).
 */
static cJSON *routes_devices_to_json(const struct device_entry *entry,
                                     const struct device_record *record)
{
    static const struct device_entry never_connected;
    cJSON *json = cJSON_CreateObject();

    if (json == NULL)
        return NULL;
    if (entry == NULL)
        entry = &never_connected;
    cJSON_AddStringToObject(json, "id", record->id);
    cJSON_AddStringToObject(json, "name", record->name);
    cJSON_AddStringToObject(json, "auth", record->auth_key ? "key" : "secret");
    cJSON_AddBoolToObject(json, "online", entry->online);
    routes_devices_add_time(json, "connected_since", entry->connected_since);
    routes_devices_add_time(json, "last_seen_at",
                            entry->last_seen_at > 0 ? entry->last_seen_at : record->last_seen_at);
    cJSON_AddStringToObject(json, "firmware",
                            entry->firmware[0] != '\0' ? entry->firmware : record->firmware);
    cJSON_AddStringToObject(json, "remote_address", entry->remote_address);
    routes_devices_add_video(json, &entry->video);
    if (entry->has_telemetry) {
        cJSON *telemetry = cJSON_AddObjectToObject(json, "telemetry");
        if (telemetry != NULL) {
            cJSON_AddNumberToObject(telemetry, "battery_percent", entry->telemetry.battery_percent);
            cJSON_AddNumberToObject(telemetry, "rssi_dbm", entry->telemetry.rssi_dbm);
            if (entry->telemetry.temperature_known) /* unknown: left out */
                cJSON_AddNumberToObject(telemetry, "temperature_c", entry->telemetry.temperature_c);
            cJSON_AddNumberToObject(telemetry, "uptime_s", (double)entry->telemetry.uptime_s);
        }
    } else {
        cJSON_AddNullToObject(json, "telemetry");
    }
    routes_devices_add_time(json, "snapshot_at", entry->snapshot_at);
    routes_devices_add_live(json, entry->live);
    routes_devices_add_streams(json, entry);
    routes_devices_add_recorder(json, entry->recorder);
    return json;
}

/* The DEVICE object for a stored doorbell, merged with its live state. A
 * read: it neither creates a registry entry nor writes one. */
static cJSON *routes_devices_describe(struct hub *hub, const struct device_record *record)
{
    struct device_entry *entry = device_registry_acquire(hub->registry, record->id, 0);
    cJSON *json = routes_devices_to_json(entry, record);

    if (entry != NULL)
        device_entry_unlock(entry);
    return json;
}

cJSON *routes_devices_json(struct hub *hub, const struct device_record *record)
{
    return routes_devices_describe(hub, record);
}

/* Add the caller's "can_talk" and the doorbell's "talk" figures. */
static void routes_devices_add_talk(cJSON *json, struct http_request *request,
                                    const char *device_id)
{
    struct talk_stats stats;
    cJSON *object;

    cJSON_AddBoolToObject(
        json, "can_talk",
        users_can_talk_to_device(database_thread_connection(), &request->auth.user, device_id));
    talk_hub_get_stats(request->hub->talk, device_id, &stats);
    object = cJSON_AddObjectToObject(json, "talk");
    if (object == NULL)
        return;
    if (stats.talker_id != 0) {
        cJSON *talker = cJSON_AddObjectToObject(object, "talker");
        cJSON_AddNumberToObject(talker, "user_id", (double)stats.talker_id);
        cJSON_AddStringToObject(talker, "username", stats.talker);
    } else {
        cJSON_AddNullToObject(object, "talker");
    }
    cJSON_AddNumberToObject(object, "sockets", stats.members);
    cJSON_AddNumberToObject(object, "sessions", (double)stats.sessions);
    cJSON_AddNumberToObject(object, "packets_in", (double)stats.packets_in);
    cJSON_AddNumberToObject(object, "packets_forwarded", (double)stats.forwarded);
    cJSON_AddNumberToObject(object, "dropped_queue_full", (double)stats.dropped_queue_full);
    cJSON_AddNumberToObject(object, "dropped_invalid", (double)stats.dropped_invalid);
    cJSON_AddNumberToObject(object, "dropped_offline", (double)stats.dropped_offline);
}

struct routes_devices_list_context {
    struct http_request *request;
    cJSON *array;
};

/* device_store_list callback: add the doorbells this user holds a grant of,
 * each with the caller's "rights" on it. */
static int routes_devices_list_one(const struct device_record *record, void *data)
{
    struct routes_devices_list_context *context = data;
    struct http_request *request = context->request;
    cJSON *json;

    int rights = users_device_rights(database_thread_connection(), &request->auth.user, record->id);

    if (rights < 0)
        return 0;
    json = routes_devices_describe(request->hub, record);
    if (json != NULL) {
        routes_devices_add_talk(json, request, record->id);
        cJSON_AddItemToObject(json, "rights", routes_rights_json((unsigned)rights));
        cJSON_AddItemToArray(context->array, json);
    }
    return 0;
}

int routes_devices_list(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    struct routes_devices_list_context context = {request, cJSON_AddArrayToObject(body, "devices")};
    int status;

    if (device_store_list(database_thread_connection(), routes_devices_list_one, &context) != 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

int routes_devices_get(struct http_request *request)
{
    struct device_record record;
    cJSON *json;
    int status, rights;

    if (device_store_find(database_thread_connection(), request->params[0], &record, NULL) != 1)
        return http_send_error(request, 404, "not_found", "no such doorbell");
    json = routes_devices_describe(request->hub, &record);
    if (json == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    routes_devices_add_talk(json, request, record.id);
    rights = users_device_rights(database_thread_connection(), &request->auth.user, record.id);
    cJSON_AddItemToObject(json, "rights", routes_rights_json(rights < 0 ? 0 : (unsigned)rights));
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

int routes_devices_add(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    struct device_record record;
    uint8_t secret[LINK_SECRET_SIZE];
    char secret_hex[LINK_SECRET_SIZE * 2 + 1];
    char reason[256];
    const char *name;
    cJSON *answer;
    int status;

    if (body == NULL)
        return 400;
    name = http_json_string(body, "name");
    if (name == NULL || device_store_add(database_thread_connection(), name, &record, secret,
                                         reason, sizeof(reason)) != 0) {
        status = http_send_error(request, 400, "invalid", name ? reason : "a name is needed");
        cJSON_Delete(body);
        return status;
    }
    cJSON_Delete(body);
    link_hex_encode(secret, sizeof(secret), secret_hex);
    mbedtls_platform_zeroize(secret, sizeof(secret));
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "device_add", record.id, record.name, request->remote_address);

    answer = cJSON_CreateObject();
    cJSON_AddItemToObject(answer, "device", routes_devices_describe(request->hub, &record));
    cJSON_AddStringToObject(answer, "secret", secret_hex);
    status = http_send_json(request, 201, answer);
    cJSON_Delete(answer);
    mbedtls_platform_zeroize(secret_hex, sizeof(secret_hex));
    return status;
}

int routes_devices_delete(struct http_request *request)
{
    int deleted = device_store_delete(database_thread_connection(), request->params[0]);

    if (deleted < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (deleted == 0)
        return http_send_error(request, 404, "not_found", "no such doorbell");
    device_registry_remove(request->hub->registry, request->params[0]);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "device_delete", request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

int routes_devices_snapshot(struct http_request *request)
{
    struct device_entry *entry =
        device_registry_acquire(request->hub->registry, request->params[0], 0);
    uint8_t *copy = NULL;
    size_t size = 0;
    int status;

    /* Copy under the lock, send after: a slow browser must never hold up the
     * doorbell's link thread, which takes the same lock for every frame. */
    if (entry != NULL) {
        if (entry->snapshot != NULL && (copy = malloc(entry->snapshot_size)) != NULL) {
            memcpy(copy, entry->snapshot, entry->snapshot_size);
            size = entry->snapshot_size;
        }
        device_entry_unlock(entry);
    }
    if (copy == NULL)
        return http_send_error(request, 404, "not_found", "no snapshot yet");
    status = http_send_bytes(request, 200, "image/jpeg", copy, size);
    free(copy);
    return status;
}

int routes_devices_request_snapshot(struct http_request *request)
{
    struct link_command command;

    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_SNAPSHOT;
    if (device_registry_send_command(request->hub->registry, request->params[0], &command) != 0)
        return http_send_error(request, 409, "offline", "the doorbell is not connected");
    return http_send_empty(request, 202, NULL);
}

/* Read an optional integer field in [min, max]; 0 when absent. -1 if invalid. */
static int routes_devices_optional_int(const cJSON *body, const char *name, int min, int max,
                                       int *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    *out = 0;
    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item) || item->valuedouble < min || item->valuedouble > max ||
        item->valuedouble != (double)(int)item->valuedouble)
        return -1;
    *out = (int)item->valuedouble;
    return 0;
}

int routes_devices_set_video(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    struct link_command command;
    const cJSON *stream;
    char detail[96];
    int invalid;

    if (body == NULL)
        return 400;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_SET_VIDEO;
    stream = cJSON_GetObjectItemCaseSensitive(body, "stream");
    if (stream != NULL && (!cJSON_IsString(stream) || (strcmp(stream->valuestring, "main") != 0 &&
                                                       strcmp(stream->valuestring, "sub") != 0))) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", "stream is \"main\" or \"sub\"");
    }
    snprintf(command.stream, sizeof(command.stream), "%s",
             stream != NULL ? stream->valuestring : "main");
    invalid =
        routes_devices_optional_int(body, "bitrate_kbps", 300, 20000, &command.bitrate_kbps) != 0 ||
        routes_devices_optional_int(body, "width", 320, 3840, &command.width) != 0 ||
        routes_devices_optional_int(body, "height", 180, 2160, &command.height) != 0 ||
        routes_devices_optional_int(body, "fps", 1, 60, &command.fps) != 0 ||
        (command.width | command.height) & 1 || (command.width == 0) != (command.height == 0);
    cJSON_Delete(body);
    if (invalid)
        return http_send_error(request, 400, "invalid",
                               "bitrate_kbps 300-20000, even width/height together, fps 1-60");
    if (device_registry_send_command(request->hub->registry, request->params[0], &command) != 0)
        return http_send_error(request, 409, "offline", "the doorbell is not connected");
    snprintf(detail, sizeof(detail), "%s stream: bitrate %d kbit/s, %dx%d, %d fps (0 = unchanged)",
             command.stream, command.bitrate_kbps, command.width, command.height, command.fps);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "video_quality", request->params[0], detail, request->remote_address);
    return http_send_empty(request, 202, NULL);
}
