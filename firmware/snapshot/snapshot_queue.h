/*
 * snapshot_queue.h - the snapshots the capture thread owes the hub: one for
 * each event the doorbell reported (tagged with the event's id, so the hub
 * pairs picture and event; docs/protocol.md, "Event snapshots") and at most
 * one answer to the hub's `snapshot` commands.
 *
 * Threads: any thread adds (control thread: ring, PIR; capture thread:
 * motion; link thread: commands); the capture thread takes them all after
 * each frame. The queue's own lock guards it; it owns no memory.
 */
#ifndef DOORSTEP_SNAPSHOT_QUEUE_H
#define DOORSTEP_SNAPSHOT_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"
#include "common/link_protocol.h"

struct link_client;

#define SNAPSHOT_QUEUE_SIZE 16 /* pictures owed at once; events are rarer than frames */

struct snapshot_request {
    uint32_t sequence; /* the SNAPSHOT header's: the event id, or the command's request_id */
    int for_event;     /* 1: taken for the event `sequence` of type event_type */
    enum link_event_type event_type;
};

struct snapshot_queue {
    pthread_mutex_t lock;
    struct snapshot_request requests[SNAPSHOT_QUEUE_SIZE];
    int count;
};

/* Set up an empty queue / free its lock. */
void snapshot_queue_init(struct snapshot_queue *queue);
void snapshot_queue_destroy(struct snapshot_queue *queue);

/* Owe a picture for the event `id` of `type`. When the queue is full the
 * event gets none, which is logged. Any thread. */
void snapshot_queue_add_event(struct snapshot_queue *queue, enum link_event_type type, uint32_t id);

/* Owe an answer to a `snapshot` command; commands since the last frame share
 * one picture, sent with the newest request_id. Any thread. */
void snapshot_queue_add_command(struct snapshot_queue *queue, uint32_t request_id);

/* Capture thread: move every owed request, oldest first, into out (room
 * for SNAPSHOT_QUEUE_SIZE); returns how many. */
int snapshot_queue_take(struct snapshot_queue *queue,
                        struct snapshot_request out[SNAPSHOT_QUEUE_SIZE]);

/* Capture thread: take every owed request and send one JPEG of frame for
 * each (labelled as below, tagged with its sequence) through link. */
void snapshot_queue_send(struct snapshot_queue *queue, const struct camera_frame *frame,
                         int quality, int max_width, struct link_client *link);

/* The JPEG comment naming what a picture was taken for
 * ("doorstep event ring 17", or "doorstep snapshot" for a command's). */
void snapshot_request_label(const struct snapshot_request *request, char *out, size_t out_size);

#endif
