/*
 * snapshot_queue.c - the pictures the capture thread owes the hub (see
 * snapshot_queue.h). Any thread adds under the queue's lock; the capture
 * thread takes. Owns no memory.
 */
#define LOG_MODULE "snapshot"

#include "snapshot/snapshot_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mutex.h"
#include "link/link_client.h"
#include "snapshot/snapshot.h"

/* Set up an empty queue. */
void snapshot_queue_init(struct snapshot_queue *queue)
{
    memset(queue, 0, sizeof(*queue));
    mutex_init_checked(&queue->lock);
}

/* Free the queue's lock; nothing else is owned. */
void snapshot_queue_destroy(struct snapshot_queue *queue)
{
    pthread_mutex_destroy(&queue->lock);
}

/* Append one request under the lock; -1 when full. */
static int snapshot_queue_append(struct snapshot_queue *queue,
                                 const struct snapshot_request *request)
{
    int rc = -1;

    pthread_mutex_lock(&queue->lock);
    if (queue->count < SNAPSHOT_QUEUE_SIZE) {
        queue->requests[queue->count++] = *request;
        rc = 0;
    }
    pthread_mutex_unlock(&queue->lock);
    return rc;
}

/* Owe a picture for one event; logged when the queue is full. */
void snapshot_queue_add_event(struct snapshot_queue *queue, enum link_event_type type, uint32_t id)
{
    struct snapshot_request request = {.sequence = id, .for_event = 1, .event_type = type};

    if (snapshot_queue_append(queue, &request) != 0)
        log_warn("%s event %u gets no snapshot: %d pictures are owed already",
                 link_event_type_name(type), id, SNAPSHOT_QUEUE_SIZE);
}

/* Owe one answer to the hub's snapshot commands; the newest request_id wins. */
void snapshot_queue_add_command(struct snapshot_queue *queue, uint32_t request_id)
{
    pthread_mutex_lock(&queue->lock);
    for (int i = 0; i < queue->count; i++) {
        if (!queue->requests[i].for_event) {
            queue->requests[i].sequence = request_id;
            pthread_mutex_unlock(&queue->lock);
            return;
        }
    }
    if (queue->count < SNAPSHOT_QUEUE_SIZE)
        queue->requests[queue->count++] =
            (struct snapshot_request){.sequence = request_id, .for_event = 0};
    pthread_mutex_unlock(&queue->lock);
}

/* Move every request into out, oldest first; returns the count. */
int snapshot_queue_take(struct snapshot_queue *queue,
                        struct snapshot_request out[SNAPSHOT_QUEUE_SIZE])
{
    int count;

    pthread_mutex_lock(&queue->lock);
    count = queue->count;
    memcpy(out, queue->requests, (size_t)count * sizeof(out[0]));
    queue->count = 0;
    pthread_mutex_unlock(&queue->lock);
    return count;
}

/* Write the JPEG comment of a request into out (always NUL-terminated). */
void snapshot_request_label(const struct snapshot_request *request, char *out, size_t out_size)
{
    if (request->for_event)
        snprintf(out, out_size, "doorstep event %s %u", link_event_type_name(request->event_type),
                 request->sequence);
    else
        snprintf(out, out_size, "doorstep snapshot");
}

/* Take the owed requests and send a labelled JPEG of frame for each. */
void snapshot_queue_send(struct snapshot_queue *queue, const struct camera_frame *frame,
                         int quality, int max_width, struct link_client *link)
{
    struct snapshot_request requests[SNAPSHOT_QUEUE_SIZE];
    int count = snapshot_queue_take(queue, requests);

    for (int i = 0; i < count; i++) {
        uint8_t *jpeg = NULL;
        size_t size = 0;
        char label[SNAPSHOT_LABEL_MAX], error[160];

        snapshot_request_label(&requests[i], label, sizeof(label));
        if (snapshot_encode_labelled_jpeg(frame, quality, max_width, label, &jpeg, &size, error,
                                          sizeof(error)) != 0) {
            log_warn("snapshot failed: %s", error);
            continue;
        }
        link_client_send_binary(link, LINK_SNAPSHOT, requests[i].sequence, frame->capture_time_us,
                                jpeg, size);
        free(jpeg);
    }
}
