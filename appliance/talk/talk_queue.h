/*
 * talk_queue.h - the bounded queue of talk-back Opus packets between the
 * browsers of one doorbell and its link, and the thread that empties it
 * into the link as LINK_TALK_AUDIO messages.
 *
 * At most TALK_QUEUE_MAX_MS of audio (and TALK_QUEUE_MAX_PACKETS packets)
 * wait; pushing more drops the oldest, counted. A slow link blocks only the
 * queue's sender thread (device_registry_send); a silent or slow browser
 * never holds up the link, and the browser's connection thread never waits
 * for the link.
 *
 * Threads: talk_queue_push from talk socket connection threads; one sender
 * thread per queue. queue->lock guards the ring, the counters and stopping;
 * it is a leaf lock, never held while sending.
 */
#ifndef DOORSTEP_TALK_QUEUE_H
#define DOORSTEP_TALK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define TALK_QUEUE_MAX_MS      500
#define TALK_QUEUE_MAX_PACKETS 256

struct device_registry;
struct talk_queue;

struct talk_queue_stats {
    uint64_t forwarded;          /* written to the link */
    uint64_t dropped_queue_full; /* the oldest, dropped to make room */
    uint64_t dropped_offline;    /* the doorbell was not connected when its turn came */
    unsigned queued;             /* waiting now */
};

/* Start the queue and its sender thread for device_id. NULL on failure
 * (logged). registry must outlive the queue. */
struct talk_queue *talk_queue_start(struct device_registry *registry, const char *device_id);

/* Stop the thread, drop what waits, free. NULL is fine. */
void talk_queue_stop(struct talk_queue *queue);

/* Queue one Opus packet of `samples` 48 kHz samples captured at
 * capture_us, as a LINK_TALK_AUDIO message (copied). Never blocks for the
 * link. Returns how many older packets were dropped to make room. */
unsigned talk_queue_push(struct talk_queue *queue, const uint8_t *opus, size_t size,
                         unsigned samples, uint64_t capture_us);

/* Copy the counters. */
void talk_queue_get_stats(struct talk_queue *queue, struct talk_queue_stats *out);

#endif
