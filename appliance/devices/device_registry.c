/*
 * device_registry.c - in-memory state of every doorbell the hub has seen
 * since it started (see device_registry.h for threads and locks).
 *
 * The table is a fixed array of pointers: entries are few (one home), are
 * never moved, and are freed only when a device is deleted or the hub stops.
 */
#define LOG_MODULE "devices"

#include "devices/device_registry.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "common/log.h"
#include "live/live_stream.h"
#include "recording/recorder.h"
#include "storage/database.h"

struct device_registry {
    pthread_mutex_t lock; /* guards entries[] and count */
    struct device_entry *entries[DEVICE_REGISTRY_MAX_DEVICES];
    int count;
};

struct device_registry *device_registry_create(void)
{
    struct device_registry *registry = calloc(1, sizeof(*registry));
    if (registry != NULL)
        pthread_mutex_init(&registry->lock, NULL);
    return registry;
}

/* Free one entry and what it owns. */
static void device_entry_free(struct device_entry *entry)
{
    recorder_stop(entry->recorder); /* writes what is queued, closes the segment */
    if (entry->live != NULL) {
        live_stream_close_viewers(entry->live);
        live_stream_release(entry->live);
    }
    pthread_mutex_destroy(&entry->lock);
    free(entry->snapshot);
    free(entry);
}

void device_registry_destroy(struct device_registry *registry)
{
    if (registry == NULL)
        return;
    for (int i = 0; i < registry->count; i++)
        device_entry_free(registry->entries[i]);
    pthread_mutex_destroy(&registry->lock);
    free(registry);
}

struct device_entry *device_registry_acquire(struct device_registry *registry, const char *id,
                                             int create)
{
    struct device_entry *entry = NULL;

    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count; i++) {
        if (strcmp(registry->entries[i]->id, id) == 0) {
            entry = registry->entries[i];
            break;
        }
    }
    if (entry == NULL && create && registry->count < DEVICE_REGISTRY_MAX_DEVICES &&
        strlen(id) < sizeof(entry->id)) {
        entry = calloc(1, sizeof(*entry));
        if (entry != NULL && (entry->live = live_stream_create(id)) == NULL) {
            free(entry);
            entry = NULL;
        }
        if (entry != NULL) {
            pthread_mutex_init(&entry->lock, NULL);
            memcpy(entry->id, id, strlen(id) + 1);
            registry->entries[registry->count++] = entry;
        }
    }
    if (entry != NULL)
        pthread_mutex_lock(&entry->lock);
    pthread_mutex_unlock(&registry->lock);
    return entry;
}

void device_entry_unlock(struct device_entry *entry)
{
    pthread_mutex_unlock(&entry->lock);
}

int device_registry_remove(struct device_registry *registry, const char *id)
{
    int found = 0;

    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count; i++) {
        struct device_entry *entry = registry->entries[i];
        if (strcmp(entry->id, id) != 0)
            continue;
        pthread_mutex_lock(&entry->lock);
        if (entry->connection != NULL) {
            /* Still connected: keep the entry (its link thread holds it) but
             * mark it revoked so the link closes at the next message. */
            entry->revoked = 1;
            pthread_mutex_unlock(&entry->lock);
        } else {
            pthread_mutex_unlock(&entry->lock);
            device_entry_free(entry);
            registry->entries[i] = registry->entries[--registry->count];
        }
        found = 1;
        break;
    }
    pthread_mutex_unlock(&registry->lock);
    return found;
}

cJSON *device_entry_to_json(const struct device_entry *entry)
{
    cJSON *json = cJSON_CreateObject();
    cJSON *video, *telemetry;

    if (json == NULL)
        return NULL;
    cJSON_AddStringToObject(json, "id", entry->id);
    cJSON_AddStringToObject(json, "name", entry->name);
    cJSON_AddBoolToObject(json, "online", entry->online);
    if (entry->connected_since > 0)
        cJSON_AddNumberToObject(json, "connected_since", (double)entry->connected_since);
    else
        cJSON_AddNullToObject(json, "connected_since");
    if (entry->last_seen_at > 0)
        cJSON_AddNumberToObject(json, "last_seen_at", (double)entry->last_seen_at);
    else
        cJSON_AddNullToObject(json, "last_seen_at");
    cJSON_AddStringToObject(json, "firmware", entry->firmware);
    cJSON_AddStringToObject(json, "remote_address", entry->remote_address);

    video = cJSON_AddObjectToObject(json, "video");
    if (video != NULL) {
        const struct device_video_stats *stats = &entry->video;
        cJSON_AddNumberToObject(video, "width", stats->width);
        cJSON_AddNumberToObject(video, "height", stats->height);
        cJSON_AddNumberToObject(video, "fps", stats->fps);
        cJSON_AddNumberToObject(video, "bitrate_kbps", stats->bitrate_kbps);
        cJSON_AddNumberToObject(video, "frames", (double)stats->frames);
        cJSON_AddNumberToObject(video, "keyframes", (double)stats->keyframes);
        cJSON_AddNumberToObject(video, "bytes", (double)stats->bytes);
        cJSON_AddNumberToObject(video, "first_sequence", stats->first_sequence);
        cJSON_AddNumberToObject(video, "last_sequence", stats->last_sequence);
        if (stats->last_keyframe_at > 0)
            cJSON_AddNumberToObject(video, "last_keyframe_at", (double)stats->last_keyframe_at);
        else
            cJSON_AddNullToObject(video, "last_keyframe_at");
        cJSON_AddNumberToObject(video, "gaps", (double)stats->gaps);
        cJSON_AddNumberToObject(video, "duplicates", (double)stats->duplicates);
        cJSON_AddNumberToObject(video, "reordered", (double)stats->reordered);
    }
    if (entry->has_telemetry) {
        telemetry = cJSON_AddObjectToObject(json, "telemetry");
        if (telemetry != NULL) {
            cJSON_AddNumberToObject(telemetry, "battery_percent", entry->telemetry.battery_percent);
            cJSON_AddNumberToObject(telemetry, "rssi_dbm", entry->telemetry.rssi_dbm);
            cJSON_AddNumberToObject(telemetry, "temperature_c", entry->telemetry.temperature_c);
            cJSON_AddNumberToObject(telemetry, "uptime_s", (double)entry->telemetry.uptime_s);
        }
    } else {
        cJSON_AddNullToObject(json, "telemetry");
    }
    if (entry->snapshot_at > 0)
        cJSON_AddNumberToObject(json, "snapshot_at", (double)entry->snapshot_at);
    else
        cJSON_AddNullToObject(json, "snapshot_at");
    {
        struct live_stream_stats live;
        cJSON *object = cJSON_AddObjectToObject(json, "live");
        live_stream_get_stats(entry->live, &live);
        if (object != NULL) {
            cJSON_AddNumberToObject(object, "viewers", live.viewers);
            cJSON_AddStringToObject(object, "codecs", live.codecs);
            cJSON_AddNumberToObject(object, "video_frames", (double)live.video_frames);
            cJSON_AddNumberToObject(object, "audio_packets", (double)live.audio_packets);
            cJSON_AddNumberToObject(object, "bad_frames", (double)live.bad_frames);
            cJSON_AddNumberToObject(object, "skipped_frames", (double)live.skipped_frames);
            cJSON_AddNumberToObject(object, "viewer_skips", (double)live.viewer_skips);
        }
    }
    if (entry->recorder != NULL) {
        struct recorder_stats recording;
        cJSON *object = cJSON_AddObjectToObject(json, "recorder");
        recorder_get_stats(entry->recorder, &recording);
        if (object != NULL) {
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
    } else {
        cJSON_AddNullToObject(json, "recorder");
    }
    return json;
}

int device_registry_send(struct device_registry *registry, const char *id, const uint8_t *message,
                         size_t size)
{
    struct device_entry *entry = device_registry_acquire(registry, id, 0);
    int rc = -1;

    if (entry == NULL)
        return -1;
    /* The entry lock keeps the connection alive: the link's close handler
     * clears it under the same lock before civetweb frees the connection. */
    if (entry->connection != NULL && !entry->revoked)
        rc = mg_websocket_write(entry->connection, MG_WEBSOCKET_OPCODE_BINARY,
                                (const char *)message, size) > 0
                 ? 0
                 : -1;
    device_entry_unlock(entry);
    return rc;
}

void device_registry_broadcast(struct device_registry *registry, const uint8_t *message,
                               size_t size)
{
    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count; i++) {
        struct device_entry *entry = registry->entries[i];
        pthread_mutex_lock(&entry->lock);
        if (entry->connection != NULL && !entry->revoked)
            mg_websocket_write(entry->connection, MG_WEBSOCKET_OPCODE_BINARY, (const char *)message,
                               size);
        pthread_mutex_unlock(&entry->lock);
    }
    pthread_mutex_unlock(&registry->lock);
}

int device_registry_send_command(struct device_registry *registry, const char *id,
                                 const struct link_command *command)
{
    cJSON *json = link_build_command(command);
    uint8_t *message;
    size_t size = 0;
    int rc;

    if (json == NULL)
        return -1;
    message = link_message_encode_json(LINK_COMMAND, command->id,
                                       (uint64_t)database_now_ms() * 1000u, json, 0, &size);
    cJSON_Delete(json);
    if (message == NULL)
        return -1;
    rc = device_registry_send(registry, id, message, size);
    free(message);
    if (rc == 0)
        log_debug("sent command %s to %s", link_command_type_name(command->type), id);
    return rc;
}

void device_registry_update_rates(struct device_registry *registry, int64_t now_ms)
{
    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count; i++) {
        struct device_entry *entry = registry->entries[i];
        struct device_video_stats *stats = &entry->video;
        pthread_mutex_lock(&entry->lock);
        if (stats->rate_at_ms > 0 && now_ms > stats->rate_at_ms) {
            double seconds = (double)(now_ms - stats->rate_at_ms) / 1000.0;
            stats->fps = (double)(stats->frames - stats->rate_frames) / seconds;
            stats->bitrate_kbps =
                (double)(stats->bytes - stats->rate_bytes) * 8.0 / 1000.0 / seconds;
        }
        /* A link that has said nothing for 30 s is as good as gone, even
         * before TCP notices; the next message brings it back online. */
        if (entry->online && now_ms - entry->last_seen_at > DEVICE_SILENT_OFFLINE_MS)
            device_entry_mark_offline(entry, now_ms);
        if (!entry->online)
            stats->fps = stats->bitrate_kbps = 0;
        stats->rate_frames = stats->frames;
        stats->rate_bytes = stats->bytes;
        stats->rate_at_ms = now_ms;
        pthread_mutex_unlock(&entry->lock);
    }
    pthread_mutex_unlock(&registry->lock);
}

void device_entry_mark_online(struct device_entry *entry)
{
    entry->online = 1;
    entry->offline_since = 0;
    if (entry->offline_reported) {
        entry->offline_reported = 0;
        entry->state_events |= DEVICE_STATE_ONLINE;
    }
}

void device_entry_mark_offline(struct device_entry *entry, int64_t now_ms)
{
    entry->online = 0;
    if (entry->offline_since == 0)
        entry->offline_since = now_ms;
}

void device_entry_note_battery(struct device_entry *entry, int battery_percent)
{
    if (battery_percent < 0) /* mains powered */
        return;
    if (battery_percent <= DEVICE_LOW_BATTERY && !entry->low_battery_reported) {
        entry->low_battery_reported = 1;
        entry->state_events |= DEVICE_STATE_LOW_BATTERY;
    } else if (battery_percent >= DEVICE_BATTERY_RECOVERED) {
        entry->low_battery_reported = 0;
    }
}

int device_registry_take_state_changes(struct device_registry *registry, int64_t now_ms,
                                       int64_t offline_after_ms, struct device_state_change *out,
                                       int max)
{
    int count = 0;
    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count; i++) {
        struct device_entry *entry = registry->entries[i];
        pthread_mutex_lock(&entry->lock);
        if (!entry->online && entry->offline_since > 0 && !entry->offline_reported &&
            now_ms - entry->offline_since >= offline_after_ms) {
            entry->offline_reported = 1;
            entry->state_events |= DEVICE_STATE_OFFLINE;
        }
        if (entry->recorder != NULL) {
            /* Recording that stops on its own (a full disk) is told once
             * per failure; it is a failure again after it recorded. */
            struct recorder_stats stats;
            recorder_get_stats(entry->recorder, &stats);
            if (!stats.recording && stats.problem[0] != '\0' && !entry->recording_stop_reported) {
                entry->recording_stop_reported = 1;
                snprintf(entry->recording_problem, sizeof(entry->recording_problem), "%s",
                         stats.problem);
                entry->state_events |= DEVICE_STATE_RECORDING_STOPPED;
            } else if (stats.recording) {
                entry->recording_stop_reported = 0;
            }
        }
        for (unsigned bit = DEVICE_STATE_OFFLINE; bit <= DEVICE_STATE_RECORDING_STOPPED;
             bit <<= 1) {
            if (!(entry->state_events & bit) || count == max)
                continue;
            memcpy(out[count].id, entry->id, LINK_DEVICE_ID_MAX);
            snprintf(out[count].detail, sizeof(out[count].detail), "%s", entry->recording_problem);
            out[count++].what = (enum device_state_event)bit;
            entry->state_events &= ~bit;
        }
        pthread_mutex_unlock(&entry->lock);
    }
    pthread_mutex_unlock(&registry->lock);
    return count;
}

int device_registry_connected_ids(struct device_registry *registry, char ids[][LINK_DEVICE_ID_MAX],
                                  int max)
{
    int count = 0;
    pthread_mutex_lock(&registry->lock);
    for (int i = 0; i < registry->count && count < max; i++) {
        pthread_mutex_lock(&registry->entries[i]->lock);
        if (registry->entries[i]->connection != NULL)
            memcpy(ids[count++], registry->entries[i]->id, LINK_DEVICE_ID_MAX);
        pthread_mutex_unlock(&registry->entries[i]->lock);
    }
    pthread_mutex_unlock(&registry->lock);
    return count;
}
