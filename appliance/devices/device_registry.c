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
#include "common/mutex.h"
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
    if (registry != NULL && mutex_init_checked(&registry->lock) != 0) {
        free(registry);
        registry = NULL;
    }
    return registry;
}

/* Free one entry and what it owns: release its recorder (the last hold
 * does a final write and sync, then a thread join; a link thread that is
 * still pushing a frame may hold the last one), close its viewers, drop the
 * live stream. The entry must be unreachable, and no lock held: this may
 * take seconds. */
static void device_entry_free(struct device_entry *entry)
{
    recorder_release(entry->recorder); /* writes what is queued, closes the segment */
    if (entry->live_sub != NULL) {
        live_stream_close_viewers(entry->live_sub);
        live_stream_release(entry->live_sub);
    }
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
        if (entry != NULL && (entry->live_sub = live_stream_create_sub(entry->live)) == NULL) {
            live_stream_release(entry->live);
            free(entry);
            entry = NULL;
        }
        if (entry != NULL && mutex_init_checked(&entry->lock) != 0) {
            live_stream_release(entry->live_sub);
            live_stream_release(entry->live);
            free(entry);
            entry = NULL;
        }
        if (entry != NULL) {
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
    struct device_entry *unlinked = NULL;
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
        } else {
            /* Entry locks are only taken under the registry lock, which we
             * hold: once unlinked nobody can reach the entry again. */
            registry->entries[i] = registry->entries[--registry->count];
            unlinked = entry;
        }
        pthread_mutex_unlock(&entry->lock);
        found = 1;
        break;
    }
    pthread_mutex_unlock(&registry->lock);
    if (unlinked != NULL)
        device_entry_free(unlinked); /* the recorder's final sync, with no lock held */
    return found;
}

/* The device's recorder, held (recorder_retain: the entry may go while
 * the caller uses it; the caller calls recorder_release), or NULL. */
static struct recorder *device_registry_hold_recorder(struct device_registry *registry,
                                                      const char *id)
{
    struct device_entry *entry = device_registry_acquire(registry, id, 0);
    struct recorder *recorder;

    if (entry == NULL)
        return NULL;
    recorder = entry->recorder;
    if (recorder != NULL)
        recorder_retain(recorder);
    device_entry_unlock(entry);
    return recorder;
}

int device_registry_hear(struct device_registry *registry, const char *id, const int16_t *pcm,
                         unsigned count, uint64_t play_us)
{
    struct recorder *recorder = device_registry_hold_recorder(registry, id);
    int rc;

    if (recorder == NULL)
        return -1;
    rc = recorder_hear(recorder, pcm, count, play_us);
    recorder_release(recorder);
    return rc;
}

int device_registry_hear_clip(struct device_registry *registry, const char *id, const uint8_t *clip,
                              size_t size, uint64_t play_us)
{
    struct recorder *recorder = device_registry_hold_recorder(registry, id);
    int rc;

    if (recorder == NULL)
        return -1;
    rc = recorder_hear_clip(recorder, clip, size, play_us);
    recorder_release(recorder);
    return rc;
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
    mutex_assert_held(&entry->lock);
    entry->online = 1;
    entry->offline_since = 0;
    if (entry->offline_reported) {
        entry->offline_reported = 0;
        entry->state_events |= DEVICE_STATE_ONLINE;
    }
}

void device_entry_mark_offline(struct device_entry *entry, int64_t now_ms)
{
    mutex_assert_held(&entry->lock);
    entry->online = 0;
    if (entry->offline_since == 0)
        entry->offline_since = now_ms;
}

void device_entry_note_battery(struct device_entry *entry, int battery_percent)
{
    mutex_assert_held(&entry->lock);
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
