/*
 * reply_sender.c - quick replies to the doorbells (see reply_sender.h).
 */
#define LOG_MODULE "replies"

#include "replies/reply_sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byte_buffer.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/reply_clip.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "events/event_engine.h"
#include "live/live_stream.h"
#include "replies/reply_store.h"

#define REPLY_SENDER_HELD_MAX 512 /* (doorbell, reply) pairs remembered; older ones are resent */

/* A clip a doorbell got on its current connection. */
struct reply_sender_held {
    char device_id[LINK_DEVICE_ID_MAX];
    int64_t reply_id, version;
};

static pthread_mutex_t reply_sender_lock = MUTEX_INITIALIZER; /* guards the three below */
static struct reply_sender_held reply_sender_held[REPLY_SENDER_HELD_MAX];
static int reply_sender_held_count;
static int reply_sender_held_next; /* the slot replaced when full */

/* 1 if device_id holds reply_id at version on this connection. Lock held. */
static int reply_sender_holds_locked(const char *device_id, int64_t reply_id, int64_t version)
{
    mutex_assert_held(&reply_sender_lock);
    for (int i = 0; i < reply_sender_held_count; i++) {
        const struct reply_sender_held *held = &reply_sender_held[i];
        if (held->reply_id == reply_id && held->version == version &&
            strcmp(held->device_id, device_id) == 0)
            return 1;
    }
    return 0;
}

/* Remember that device_id holds the clip. Lock held. */
static void reply_sender_remember_locked(const char *device_id, int64_t reply_id, int64_t version)
{
    struct reply_sender_held *slot;

    mutex_assert_held(&reply_sender_lock);
    if (reply_sender_held_count < REPLY_SENDER_HELD_MAX) {
        slot = &reply_sender_held[reply_sender_held_count++];
    } else {
        slot = &reply_sender_held[reply_sender_held_next];
        reply_sender_held_next = (reply_sender_held_next + 1) % REPLY_SENDER_HELD_MAX;
    }
    snprintf(slot->device_id, sizeof(slot->device_id), "%s", device_id);
    slot->reply_id = reply_id;
    slot->version = version;
}

/* Send the clip of row to device_id in chunks unless it holds it. Lock
 * held. 0, or -1 with a reason. */
static int reply_sender_ensure_locked(struct hub *hub, const char *device_id,
                                      const struct reply_row *row, char *error, size_t error_size)
{
    uint8_t message[LINK_HEADER_SIZE + LINK_QUICK_REPLY_DATA_HEADER + LINK_QUICK_REPLY_CHUNK_MAX];
    struct byte_buffer clip;
    struct link_header header = {LINK_PROTOCOL_VERSION, LINK_QUICK_REPLY_DATA, 0, (uint32_t)row->id,
                                 0};
    size_t total, offset = 0;
    int rc = -1;

    mutex_assert_held(&reply_sender_lock);
    if (reply_sender_holds_locked(device_id, row->id, row->version))
        return 0;
    byte_buffer_init(&clip, REPLY_CLIP_MAX_BYTES);
    if (reply_store_read_file(hub->config.data_dir, row->id, &clip) != 0) {
        error_text_set(error, error_size, "the reply's audio is missing or damaged");
        goto out;
    }
    total = byte_buffer_length(&clip);
    while (offset < total) {
        size_t chunk = total - offset < LINK_QUICK_REPLY_CHUNK_MAX ? total - offset
                                                                   : LINK_QUICK_REPLY_CHUNK_MAX;
        link_header_encode(&header, message);
        link_quick_reply_data_header_encode((uint32_t)row->version, (uint32_t)offset,
                                            (uint32_t)total, message + LINK_HEADER_SIZE);
        memcpy(message + LINK_HEADER_SIZE + LINK_QUICK_REPLY_DATA_HEADER,
               byte_buffer_data(&clip) + offset, chunk);
        if (device_registry_send(hub->registry, device_id, message,
                                 LINK_HEADER_SIZE + LINK_QUICK_REPLY_DATA_HEADER + chunk) != 0) {
            error_text_set(error, error_size, "the doorbell is offline");
            goto out;
        }
        offset += chunk;
    }
    reply_sender_remember_locked(device_id, row->id, row->version);
    log_info("sent quick reply %lld (%zu bytes) to %s", (long long)row->id, total, device_id);
    rc = 0;
out:
    byte_buffer_free(&clip);
    return rc;
}

/* See reply_sender.h. */
int reply_sender_play(struct hub *hub, sqlite3 *db, const char *device_id, int64_t reply_id,
                      char *error, size_t error_size)
{
    struct link_command command;
    struct reply_row row;
    int rc = -1;

    if (reply_store_get(db, reply_id, &row) != 1) {
        error_text_set(error, error_size, "no such reply");
        return -1;
    }
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_QUICK_REPLY;
    command.reply_id = (uint32_t)row.id;
    command.reply_version = (uint32_t)row.version;
    pthread_mutex_lock(&reply_sender_lock);
    if (reply_sender_ensure_locked(hub, device_id, &row, error, error_size) != 0)
        goto out;
    if (device_registry_send_command(hub->registry, device_id, &command) != 0) {
        error_text_set(error, error_size, "the doorbell is offline");
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&reply_sender_lock);
    if (rc == 0) /* the doorbell plays a cached clip at once */
        reply_sender_heard(hub, device_id, row.id, clock_realtime_us());
    return rc;
}

/* See reply_sender.h. */
void reply_sender_heard(struct hub *hub, const char *device_id, int64_t reply_id, uint64_t play_us)
{
    struct byte_buffer clip;

    byte_buffer_init(&clip, REPLY_CLIP_MAX_BYTES);
    if (reply_store_read_file(hub->config.data_dir, reply_id, &clip) != 0 ||
        device_registry_hear_clip(hub->registry, device_id, byte_buffer_data(&clip),
                                  byte_buffer_length(&clip), play_us) != 0)
        log_warn("quick reply %lld on %s: not kept for the recording", (long long)reply_id,
                 device_id);
    byte_buffer_free(&clip);
}

/* See reply_sender.h. */
int reply_sender_sync_auto(struct hub *hub, sqlite3 *db, const char *device_id)
{
    char mode[32], error[128];
    struct link_command command;
    struct reply_row row;
    int64_t reply_id = 0;
    int delay_s = 0, rc = -1;

    if (event_engine_get_mode(db, mode, sizeof(mode)) != 0)
        return -1;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_AUTO_REPLY;
    pthread_mutex_lock(&reply_sender_lock);
    if (reply_store_get_auto(db, device_id, mode, &reply_id, &delay_s) == 1 &&
        reply_store_get(db, reply_id, &row) == 1) {
        if (reply_sender_ensure_locked(hub, device_id, &row, error, sizeof(error)) != 0) {
            log_debug("auto-reply of %s not sent: %s", device_id, error);
            goto out;
        }
        command.reply_id = (uint32_t)row.id;
        command.reply_version = (uint32_t)row.version;
        command.delay_s = delay_s;
    }
    rc = device_registry_send_command(hub->registry, device_id, &command);
out:
    pthread_mutex_unlock(&reply_sender_lock);
    return rc;
}

/* See reply_sender.h. */
void reply_sender_sync_all(struct hub *hub, sqlite3 *db)
{
    static char ids[DEVICE_REGISTRY_MAX_DEVICES][LINK_DEVICE_ID_MAX];
    static pthread_mutex_t ids_lock = MUTEX_INITIALIZER; /* guards ids (too big for a stack) */
    int count;

    pthread_mutex_lock(&ids_lock);
    count = device_registry_connected_ids(hub->registry, ids, DEVICE_REGISTRY_MAX_DEVICES);
    for (int i = 0; i < count; i++)
        reply_sender_sync_auto(hub, db, ids[i]);
    pthread_mutex_unlock(&ids_lock);
}

/* See reply_sender.h. */
void reply_sender_on_connected(struct hub *hub, sqlite3 *db, const char *device_id)
{
    int kept = 0;

    pthread_mutex_lock(&reply_sender_lock);
    for (int i = 0; i < reply_sender_held_count; i++)
        if (strcmp(reply_sender_held[i].device_id, device_id) != 0)
            reply_sender_held[kept++] = reply_sender_held[i];
    reply_sender_held_count = kept;
    reply_sender_held_next = 0;
    pthread_mutex_unlock(&reply_sender_lock);
    reply_sender_sync_auto(hub, db, device_id);
}

/* See reply_sender.h. */
void reply_sender_answered(struct hub *hub, const char *device_id)
{
    struct link_command command;

    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_ANSWERED;
    device_registry_send_command(hub->registry, device_id, &command);
}

/* See reply_sender.h. */
void reply_sender_on_ring(struct hub *hub, const char *device_id)
{
    struct device_entry *entry = device_registry_acquire(hub->registry, device_id, 0);
    struct live_stream_stats stats;
    struct live_stream *stream;

    if (entry == NULL)
        return;
    stream = entry->live;
    live_stream_retain(stream);
    device_entry_unlock(entry);
    live_stream_get_stats(stream, &stats);
    live_stream_release(stream);
    if (stats.viewers > 0)
        reply_sender_answered(hub, device_id);
}
