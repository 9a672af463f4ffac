/*
 * talk_queue.c - the bounded drop-oldest queue of talk-back audio to one
 * doorbell's link and its sender thread (see talk_queue.h).
 *
 * Threads: producers are talk socket connection threads; the sender thread
 * (talk_queue_sender) is the only consumer and the only one that writes to
 * the link. queue->lock guards every field below it; the ring owns the
 * encoded messages it holds until they are sent or dropped.
 *
 * What the doorbell plays is also kept for its recording: after a packet
 * went out, the sender thread decodes it (its own Opus decoder, made at the
 * first packet, freed by talk_queue_stop) and hands the samples, placed at
 * the time the doorbell plays them (recording/heard_audio.h), to the
 * doorbell's recorder through device_registry_hear.
 */
#define LOG_MODULE "talk"

#include "talk/talk_queue.h"

#include <opus/opus.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "devices/device_registry.h"
#include "recording/heard_audio.h"
#include "talk/talk_packet.h"

struct talk_queue_item {
    uint8_t *message; /* a whole LINK_TALK_AUDIO message, malloc'd */
    size_t size;
    unsigned samples;
    uint64_t capture_us;
};

#define TALK_QUEUE_DECODE_MAX 5760 /* 120 ms: the longest Opus packet */

struct talk_queue {
    struct device_registry *registry;
    char device_id[LINK_DEVICE_ID_MAX];
    pthread_t thread;

    /* The sender thread's own (no lock): what the doorbell plays, decoded. */
    OpusDecoder *decoder;
    struct heard_audio_stream heard;
    int16_t pcm[TALK_QUEUE_DECODE_MAX];

    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled on push and on stop */
    struct talk_queue_item ring[TALK_QUEUE_MAX_PACKETS];
    unsigned head, count;
    unsigned queued_samples;
    uint32_t sequence; /* of the next LINK_TALK_AUDIO message */
    struct talk_queue_stats stats;
    bool stopping;
};

/* Lock held: drop the oldest item, counted. */
static void talk_queue_drop_oldest(struct talk_queue *queue)
{
    struct talk_queue_item *item = &queue->ring[queue->head];

    free(item->message);
    queue->queued_samples -= item->samples;
    memset(item, 0, sizeof(*item));
    queue->head = (queue->head + 1) % TALK_QUEUE_MAX_PACKETS;
    queue->count--;
    queue->stats.dropped_queue_full++;
}

/* Sender thread: a packet went out at forwarded_us; decode it and hand what
 * the doorbell will play to its recorder. A failure costs only the
 * recording of this packet (logged). */
static void talk_queue_hear(struct talk_queue *queue, const struct talk_queue_item *item,
                            uint64_t forwarded_us)
{
    int error = OPUS_OK, decoded;
    uint64_t play_us;

    if (queue->decoder == NULL) {
        queue->decoder = opus_decoder_create(TALK_SAMPLE_RATE, 1, &error);
        if (queue->decoder == NULL || error != OPUS_OK) {
            log_error("talk to %s: no decoder for the recording: %s", queue->device_id,
                      opus_strerror(error));
            queue->decoder = NULL;
            return;
        }
    }
    decoded = opus_decode(queue->decoder, item->message + LINK_HEADER_SIZE,
                          (opus_int32)(item->size - LINK_HEADER_SIZE), queue->pcm,
                          TALK_QUEUE_DECODE_MAX, 0);
    if (decoded <= 0) {
        log_warn("talk to %s: a packet the recording cannot decode: %s", queue->device_id,
                 opus_strerror(decoded < 0 ? decoded : OPUS_INVALID_PACKET));
        return;
    }
    play_us =
        heard_audio_play_time(&queue->heard, item->capture_us, (unsigned)decoded, forwarded_us);
    if (device_registry_hear(queue->registry, queue->device_id, queue->pcm, (unsigned)decoded,
                             play_us) != 0)
        log_warn("talk to %s: not kept for the recording", queue->device_id);
}

/* The sender thread: pop the oldest packet, write it to the link with no
 * lock held, repeat; wait when empty. */
static void *talk_queue_sender(void *data)
{
    struct talk_queue *queue = data;
    pthread_setname_np(pthread_self(), "talk-queue");

    pthread_mutex_lock(&queue->lock);
    for (;;) {
        struct talk_queue_item item;
        int rc;

        while (queue->count == 0 && !queue->stopping)
            pthread_cond_wait(&queue->wake, &queue->lock);
        if (queue->stopping)
            break;
        item = queue->ring[queue->head];
        memset(&queue->ring[queue->head], 0, sizeof(item));
        queue->head = (queue->head + 1) % TALK_QUEUE_MAX_PACKETS;
        queue->count--;
        queue->queued_samples -= item.samples;
        pthread_mutex_unlock(&queue->lock);

        rc = device_registry_send(queue->registry, queue->device_id, item.message, item.size);
        if (rc == 0)
            talk_queue_hear(queue, &item, clock_realtime_us());
        free(item.message);

        pthread_mutex_lock(&queue->lock);
        if (rc == 0)
            queue->stats.forwarded++;
        else
            queue->stats.dropped_offline++;
    }
    pthread_mutex_unlock(&queue->lock);
    return NULL;
}

struct talk_queue *talk_queue_start(struct device_registry *registry, const char *device_id)
{
    struct talk_queue *queue = calloc(1, sizeof(*queue));

    if (queue == NULL) {
        log_error("out of memory starting a talk queue");
        return NULL;
    }
    queue->registry = registry;
    snprintf(queue->device_id, sizeof(queue->device_id), "%s", device_id);
    mutex_init_checked(&queue->lock);
    pthread_cond_init(&queue->wake, NULL);
    if (pthread_create(&queue->thread, NULL, talk_queue_sender, queue) != 0) {
        log_error("cannot start the talk sender of %s", device_id);
        pthread_cond_destroy(&queue->wake);
        pthread_mutex_destroy(&queue->lock);
        free(queue);
        return NULL;
    }
    return queue;
}

void talk_queue_stop(struct talk_queue *queue)
{
    if (queue == NULL)
        return;
    pthread_mutex_lock(&queue->lock);
    queue->stopping = true;
    pthread_cond_signal(&queue->wake);
    pthread_mutex_unlock(&queue->lock);
    pthread_join(queue->thread, NULL);
    while (queue->count > 0)
        talk_queue_drop_oldest(queue);
    opus_decoder_destroy(queue->decoder);
    pthread_cond_destroy(&queue->wake);
    pthread_mutex_destroy(&queue->lock);
    free(queue);
}

unsigned talk_queue_push(struct talk_queue *queue, const uint8_t *opus, size_t size,
                         unsigned samples, uint64_t capture_us)
{
    const unsigned max_samples = TALK_SAMPLE_RATE / 1000 * TALK_QUEUE_MAX_MS;
    struct link_header header = {
        .version = LINK_PROTOCOL_VERSION, .type = LINK_TALK_AUDIO, .timestamp_us = capture_us};
    struct talk_queue_item item = {.samples = samples, .capture_us = capture_us};
    unsigned dropped = 0;

    pthread_mutex_lock(&queue->lock);
    header.sequence = queue->sequence++;
    pthread_mutex_unlock(&queue->lock);
    /* Encoded outside the lock: the sender never waits for a copy. */
    item.message = link_message_encode(&header, opus, size, 0, &item.size);
    if (item.message == NULL) {
        log_warn("cannot queue a talk packet of %zu bytes for %s", size, queue->device_id);
        return 0;
    }
    pthread_mutex_lock(&queue->lock);
    while (queue->count > 0 && (queue->count == TALK_QUEUE_MAX_PACKETS ||
                                queue->queued_samples + samples > max_samples)) {
        talk_queue_drop_oldest(queue);
        dropped++;
    }
    queue->ring[(queue->head + queue->count) % TALK_QUEUE_MAX_PACKETS] = item;
    queue->count++;
    queue->queued_samples += samples;
    pthread_cond_signal(&queue->wake);
    pthread_mutex_unlock(&queue->lock);
    if (dropped > 0)
        log_warn("talk to %s: the link is behind, dropped the oldest %u packet(s)",
                 queue->device_id, dropped);
    return dropped;
}

void talk_queue_get_stats(struct talk_queue *queue, struct talk_queue_stats *out)
{
    pthread_mutex_lock(&queue->lock);
    *out = queue->stats;
    out->queued = queue->count;
    pthread_mutex_unlock(&queue->lock);
}
