/*
 * link_client_queue.c - the link client's send queue (see link_client.h for
 * the threading contract): any thread encodes its message into a queue entry
 * outside the lock and appends it under client->lock; the link thread
 * (link_client.c) takes entries off the front. Video is dropped rather than
 * queued while the hub is away or the queue is full, the sub-stream's before
 * the main stream's, and each stream then waits for its next keyframe.
 */
#define LOG_MODULE "link"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mutex.h"
#include "link/link_client_internal.h"

/* Build a queue entry holding a whole encoded message. NULL if out of memory. */
static struct link_client_message *link_client_message_new(const struct link_header *header,
                                                           const void *payload, size_t size,
                                                           enum link_client_video video)
{
    size_t message_size = 0;
    uint8_t *encoded = link_message_encode(header, payload, size, LWS_PRE, &message_size);
    struct link_client_message *message;

    if (encoded == NULL)
        return NULL;
    message = malloc(sizeof(*message) + LWS_PRE + message_size);
    if (message != NULL) {
        message->next = NULL;
        message->size = message_size;
        message->video = video;
        memcpy(message->buffer, encoded, LWS_PRE + message_size);
    }
    free(encoded);
    return message;
}

/* Like link_client_message_new for a JSON payload. */
struct link_client_message *link_client_message_json(uint8_t type, uint32_t sequence,
                                                     const cJSON *json)
{
    struct link_header header = {LINK_PROTOCOL_VERSION, type, 0, sequence, clock_realtime_us()};
    char *text = cJSON_PrintUnformatted(json);
    struct link_client_message *message;

    if (text == NULL)
        return NULL;
    message = link_client_message_new(&header, text, strlen(text), LINK_CLIENT_NOT_VIDEO);
    cJSON_free(text);
    return message;
}

/* Append to the queue; caller holds client->lock. */
static void link_client_enqueue_locked(struct link_client *client,
                                       struct link_client_message *message)
{
    mutex_assert_held(&client->lock);
    if (client->queue_tail != NULL)
        client->queue_tail->next = message;
    else
        client->queue_head = message;
    client->queue_tail = message;
    client->queue_bytes += message->size;
}

/* Drop queued video of one stream (kind), or of both (LINK_CLIENT_NOT_VIDEO);
 * keep events and snapshots. Caller holds client->lock. */
static void link_client_drop_queued_locked(struct link_client *client, enum link_client_video kind)
{
    mutex_assert_held(&client->lock);
    struct link_client_message **link = &client->queue_head;
    client->queue_tail = NULL;
    while (*link != NULL) {
        struct link_client_message *message = *link;
        if (message->video != LINK_CLIENT_NOT_VIDEO &&
            (kind == LINK_CLIENT_NOT_VIDEO || message->video == kind)) {
            *link = message->next;
            client->queue_bytes -= message->size;
            client->stats.video_dropped++;
            free(message);
        } else {
            client->queue_tail = message;
            link = &message->next;
        }
    }
}

/* Drop all queued video (after a disconnect). Caller holds client->lock. */
void link_client_drop_video_locked(struct link_client *client)
{
    link_client_drop_queued_locked(client, LINK_CLIENT_NOT_VIDEO);
}

/* Wake the link thread so it looks at the queue. Any thread. */
void link_client_wake(struct link_client *client)
{
    if (client->context != NULL)
        lws_cancel_service(client->context);
}

/* Whether a video message of size bytes of stream kind fits the queue: the
 * sub-stream may fill only half of it, and when the main stream would not
 * fit, the queued sub-stream goes first (it then waits for a keyframe).
 * Caller holds client->lock. */
static int link_client_video_fits_locked(struct link_client *client, enum link_client_video kind,
                                         size_t size)
{
    size_t limit = client->config.queue_limit_bytes;

    if (kind == LINK_CLIENT_SUB_VIDEO)
        return client->queue_bytes + size <= limit / 2;
    if (client->queue_bytes + size > limit) {
        link_client_drop_queued_locked(client, LINK_CLIENT_SUB_VIDEO);
        client->sub_waiting_for_keyframe = 1;
    }
    return client->queue_bytes + size <= limit;
}

/* Queue one access unit of stream kind (see link_client_send_video). */
static int link_client_queue_video(struct link_client *client, enum link_client_video kind,
                                   const uint8_t *data, size_t size, int keyframe,
                                   uint32_t sequence, uint64_t capture_time_us)
{
    uint16_t flags = (uint16_t)((keyframe ? LINK_FLAG_KEYFRAME : 0) |
                                (kind == LINK_CLIENT_SUB_VIDEO ? LINK_FLAG_SUB_STREAM : 0));
    struct link_header header = {LINK_PROTOCOL_VERSION, LINK_VIDEO, flags, sequence,
                                 capture_time_us};
    struct link_client_message *message = NULL;
    int *waiting = kind == LINK_CLIENT_SUB_VIDEO ? &client->sub_waiting_for_keyframe
                                                 : &client->waiting_for_keyframe;
    int result = 0;

    pthread_mutex_lock(&client->lock);
    if (client->state != LINK_CLIENT_CONNECTED) {
        result = -1;
        goto drop;
    }
    if ((*waiting && !keyframe) || !link_client_video_fits_locked(client, kind, size))
        goto drop;
    pthread_mutex_unlock(&client->lock);
    message = link_client_message_new(&header, data, size, kind); /* copy outside the lock */
    pthread_mutex_lock(&client->lock);
    if (message == NULL || client->state != LINK_CLIENT_CONNECTED)
        goto drop;
    link_client_enqueue_locked(client, message);
    *waiting = 0;
    pthread_mutex_unlock(&client->lock);
    link_client_wake(client);
    return 1;

drop:
    /* The hub must not get a P-frame whose reference it lacks. */
    *waiting = 1;
    client->stats.video_dropped++;
    pthread_mutex_unlock(&client->lock);
    free(message);
    return result;
}

int link_client_send_video(struct link_client *client, const uint8_t *data, size_t size,
                           int keyframe, uint32_t sequence, uint64_t capture_time_us)
{
    return link_client_queue_video(client, LINK_CLIENT_MAIN_VIDEO, data, size, keyframe, sequence,
                                   capture_time_us);
}

int link_client_send_sub_video(struct link_client *client, const uint8_t *data, size_t size,
                               int keyframe, uint32_t sequence, uint64_t capture_time_us)
{
    return link_client_queue_video(client, LINK_CLIENT_SUB_VIDEO, data, size, keyframe, sequence,
                                   capture_time_us);
}

/* Queue a non-video message unless the queue is full. */
static int link_client_enqueue(struct link_client *client, struct link_client_message *message)
{
    if (message == NULL)
        return -1;
    pthread_mutex_lock(&client->lock);
    if (client->queue_bytes + message->size > client->config.queue_limit_bytes) {
        pthread_mutex_unlock(&client->lock);
        log_warn("send queue full; dropped a %s message",
                 link_type_name(message->buffer[LWS_PRE + 1]));
        free(message);
        return -1;
    }
    link_client_enqueue_locked(client, message);
    pthread_mutex_unlock(&client->lock);
    link_client_wake(client);
    return 0;
}

int link_client_send_binary(struct link_client *client, uint8_t type, uint32_t sequence,
                            uint64_t timestamp_us, const void *data, size_t size)
{
    struct link_header header = {LINK_PROTOCOL_VERSION, type, 0, sequence, timestamp_us};
    return link_client_enqueue(client,
                               link_client_message_new(&header, data, size, LINK_CLIENT_NOT_VIDEO));
}

int link_client_send_json(struct link_client *client, uint8_t type, uint32_t sequence,
                          const cJSON *json)
{
    return link_client_enqueue(client, link_client_message_json(type, sequence, json));
}

void link_client_get_stats(struct link_client *client, struct link_client_stats *out)
{
    pthread_mutex_lock(&client->lock);
    *out = client->stats;
    out->connected = client->state == LINK_CLIENT_CONNECTED;
    pthread_mutex_unlock(&client->lock);
}
