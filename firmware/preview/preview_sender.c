/*
 * preview_sender.c - timeline previews and detect frames off the capture
 * thread (see preview_sender.h). The capture thread decides whether one is
 * due and copies the frame into its slot (one for previews, one for detect
 * frames) when that slot is free; the sender's thread encodes it with
 * libjpeg-turbo and queues it on the link.
 *
 * Threads: capture (offer), the sender's own thread (encode, send), any
 * (stats). sender->lock guards the slots, their state and the counters; the
 * due-time fields are the capture thread's alone. Owns the thread, the
 * frame copies (grown to the largest frame seen) and each JPEG until sent.
 */
#define LOG_MODULE "preview"

#include "preview/preview_sender.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "link/link_client.h"
#include "snapshot/snapshot.h"

/* One frame waiting for (or under) encoding. */
struct preview_slot {
    int full;                  /* holds a frame to encode (lock) */
    struct camera_frame frame; /* planes point into copy (lock) */
    uint8_t *copy;
    size_t copy_capacity;
};

struct preview_sender {
    struct link_client *link; /* not owned */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    struct preview_slot preview, detect; /* lock */
    uint32_t detect_event_id;            /* the detect slot's event and boxes (lock) */
    int detect_box_count;
    struct link_box detect_boxes[LINK_MAX_BOXES];
    uint32_t next_sequence;            /* sender thread */
    struct preview_sender_stats stats; /* lock */
    /* Capture thread only. */
    uint64_t last_capture_us; /* of the last preview handed over; 0 = in a gap */
    uint64_t gap_since_us;    /* capture time of the first frame of the gap */
    uint64_t last_detect_us;  /* of the last detect frame handed over; 0 = none */
    uint32_t last_detect_event;
};

/* Copy frame's planes into the slot (lock held); 0, or -1 out of memory. */
static int preview_sender_copy(struct preview_slot *slot, const struct camera_frame *frame)
{
    size_t luma = (size_t)frame->width * (size_t)frame->height;
    size_t chroma = (size_t)(frame->width / 2) * (size_t)(frame->height / 2);
    size_t need = luma + 2 * chroma;

    if (need > slot->copy_capacity) {
        uint8_t *grown = realloc(slot->copy, need);
        if (grown == NULL)
            return -1;
        slot->copy = grown;
        slot->copy_capacity = need;
    }
    slot->frame = *frame;
    slot->frame.y = slot->copy;
    slot->frame.u = slot->copy + luma;
    slot->frame.v = slot->copy + luma + chroma;
    slot->frame.stride_y = frame->width;
    slot->frame.stride_uv = frame->width / 2;
    for (int row = 0; row < frame->height; row++)
        memcpy(slot->frame.y + (size_t)row * (size_t)frame->width,
               frame->y + (size_t)row * (size_t)frame->stride_y, (size_t)frame->width);
    for (int row = 0; row < frame->height / 2; row++) {
        memcpy(slot->frame.u + (size_t)row * (size_t)(frame->width / 2),
               frame->u + (size_t)row * (size_t)frame->stride_uv, (size_t)(frame->width / 2));
        memcpy(slot->frame.v + (size_t)row * (size_t)(frame->width / 2),
               frame->v + (size_t)row * (size_t)frame->stride_uv, (size_t)(frame->width / 2));
    }
    return 0;
}

/* Sender thread: encode the preview slot's frame and queue it. 0 or -1. */
static int preview_sender_send_preview(struct preview_sender *sender)
{
    uint8_t *jpeg = NULL;
    size_t size = 0;
    char error[160];
    int rc = snapshot_encode_jpeg(&sender->preview.frame, PREVIEW_QUALITY, PREVIEW_MAX_WIDTH, &jpeg,
                                  &size, error, sizeof(error));

    if (rc != 0)
        log_warn("preview failed: %s", error);
    else
        rc = link_client_send_binary(sender->link, LINK_PREVIEW, sender->next_sequence++,
                                     sender->preview.frame.capture_time_us, jpeg, size);
    free(jpeg);
    return rc;
}

/* Sender thread: encode the detect slot's frame, wrap it with its boxes and
 * queue it. The slot's event and boxes are read under the lock by the
 * caller's contract: the capture thread writes them only while the slot is
 * empty. 0 or -1. */
static int preview_sender_send_detect(struct preview_sender *sender)
{
    const struct camera_frame *frame = &sender->detect.frame;
    uint8_t *jpeg = NULL, *message = NULL;
    size_t size = 0, message_size = 0;
    char error[160];
    int rc = snapshot_encode_jpeg(frame, DETECT_QUALITY, LINK_DETECT_MAX_WIDTH, &jpeg, &size, error,
                                  sizeof(error));

    if (rc != 0) {
        log_warn("detect frame failed: %s", error);
        return -1;
    }
    message = link_detect_frame_encode(sender->detect_event_id, frame->capture_time_us,
                                       sender->detect_boxes, sender->detect_box_count, jpeg, size,
                                       0, &message_size);
    rc = message == NULL
             ? -1
             : link_client_send_binary(sender->link, LINK_DETECT_FRAME, sender->detect_event_id,
                                       frame->capture_time_us, message + LINK_HEADER_SIZE,
                                       message_size - LINK_HEADER_SIZE);
    free(message);
    free(jpeg);
    return rc;
}

/* The sender's thread: wait for a frame, encode it, queue it, repeat. A
 * slot stays full while encoding, so the capture thread skips meanwhile. */
static void *preview_sender_thread(void *data)
{
    struct preview_sender *sender = data;

    pthread_mutex_lock(&sender->lock);
    for (;;) {
        while (!sender->stopping && !sender->preview.full && !sender->detect.full)
            pthread_cond_wait(&sender->wake, &sender->lock);
        if (sender->stopping)
            break;
        int detect = !sender->preview.full; /* previews first: they are rarer */
        pthread_mutex_unlock(&sender->lock);

        int64_t started = clock_monotonic_us();
        int rc = detect ? preview_sender_send_detect(sender) : preview_sender_send_preview(sender);
        int64_t took = clock_monotonic_us() - started;

        pthread_mutex_lock(&sender->lock);
        if (detect) {
            sender->detect.full = 0;
            sender->stats.detect_encode_us += (uint64_t)(took > 0 ? took : 0);
            if (rc == 0)
                sender->stats.detect_sent++;
            else
                sender->stats.detect_failed++;
            continue;
        }
        sender->preview.full = 0;
        sender->stats.encode_us += (uint64_t)(took > 0 ? took : 0);
        if (rc == 0)
            sender->stats.sent++;
        else
            sender->stats.failed++;
    }
    pthread_mutex_unlock(&sender->lock);
    return NULL;
}

/* See preview_sender.h. The caller frees the sender with preview_sender_stop. */
struct preview_sender *preview_sender_start(struct link_client *link, char *error,
                                            size_t error_size)
{
    struct preview_sender *sender = calloc(1, sizeof(*sender));

    if (sender == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    sender->link = link;
    mutex_init_checked(&sender->lock);
    pthread_cond_init(&sender->wake, NULL);
    if (pthread_create(&sender->thread, NULL, preview_sender_thread, sender) != 0) {
        error_text_set(error, error_size, "cannot start the preview thread");
        pthread_cond_destroy(&sender->wake);
        pthread_mutex_destroy(&sender->lock);
        free(sender);
        return NULL;
    }
    pthread_setname_np(sender->thread, "preview"); /* for per-thread CPU figures */
    return sender;
}

/* Is a preview due for a frame captured at capture_us? Capture thread. */
static int preview_sender_due(struct preview_sender *sender, uint64_t capture_us, int keyframe,
                              int interval_ms)
{
    uint64_t interval_us = (uint64_t)interval_ms * 1000u;

    if (sender->last_capture_us == 0) {
        /* In a gap: the first keyframe (the hub can show it at once), or,
         * should none come, a frame one interval into the gap. */
        if (sender->gap_since_us == 0 || capture_us < sender->gap_since_us)
            sender->gap_since_us = capture_us;
        return keyframe || capture_us - sender->gap_since_us >= interval_us;
    }
    return capture_us < sender->last_capture_us ||
           capture_us - sender->last_capture_us >= interval_us;
}

/* See preview_sender.h. Capture thread; copies the frame, keeps no pointer to it. */
int preview_sender_offer(struct preview_sender *sender, const struct camera_frame *frame,
                         int keyframe, int interval_ms)
{
    int taken = 0;

    if (sender == NULL)
        return 0;
    if (interval_ms <= 0) {
        sender->last_capture_us = 0; /* no hub, or one without previews: a gap */
        sender->gap_since_us = 0;
        return 0;
    }
    if (!preview_sender_due(sender, frame->capture_time_us, keyframe, interval_ms))
        return 0;
    pthread_mutex_lock(&sender->lock);
    if (sender->preview.full) {
        sender->stats.busy++; /* still encoding the previous one: try the next frame */
    } else {
        int64_t started = clock_monotonic_us();
        if (preview_sender_copy(&sender->preview, frame) != 0) {
            sender->stats.failed++;
            pthread_mutex_unlock(&sender->lock);
            return 0;
        }
        sender->stats.copy_us += (uint64_t)(clock_monotonic_us() - started);
        sender->preview.full = 1;
        taken = 1;
        pthread_cond_signal(&sender->wake);
    }
    pthread_mutex_unlock(&sender->lock);
    if (taken) {
        sender->last_capture_us = frame->capture_time_us;
        sender->gap_since_us = 0;
    }
    return taken;
}

/* See preview_sender.h. Capture thread; copies the frame and boxes. */
int preview_sender_offer_detect(struct preview_sender *sender, const struct camera_frame *frame,
                                uint32_t event_id, const struct link_box *boxes, int box_count,
                                int fps)
{
    uint64_t interval_us;
    int taken = 0;

    if (sender == NULL || fps <= 0 || event_id == 0)
        return 0;
    interval_us = 1000000u / (uint64_t)fps;
    /* A new event is looked at at once; then at most fps frames a second. */
    if (event_id == sender->last_detect_event && sender->last_detect_us != 0 &&
        frame->capture_time_us >= sender->last_detect_us &&
        frame->capture_time_us - sender->last_detect_us < interval_us)
        return 0;
    if (box_count < 0)
        box_count = 0;
    if (box_count > LINK_MAX_BOXES)
        box_count = LINK_MAX_BOXES;
    pthread_mutex_lock(&sender->lock);
    if (sender->detect.full) {
        sender->stats.detect_busy++; /* the previous one is still being encoded */
    } else if (preview_sender_copy(&sender->detect, frame) != 0) {
        sender->stats.detect_failed++;
    } else {
        sender->detect_event_id = event_id;
        sender->detect_box_count = box_count;
        if (box_count > 0)
            memcpy(sender->detect_boxes, boxes, (size_t)box_count * sizeof(boxes[0]));
        sender->detect.full = 1;
        taken = 1;
        pthread_cond_signal(&sender->wake);
    }
    pthread_mutex_unlock(&sender->lock);
    if (taken) {
        sender->last_detect_us = frame->capture_time_us;
        sender->last_detect_event = event_id;
    }
    return taken;
}

/* Copy the counters under the lock. */
void preview_sender_get_stats(struct preview_sender *sender, struct preview_sender_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (sender == NULL)
        return;
    pthread_mutex_lock(&sender->lock);
    *out = sender->stats;
    pthread_mutex_unlock(&sender->lock);
}

/* Stop and join the thread (a preview being encoded is finished first),
 * then free the copy and the sender. */
void preview_sender_stop(struct preview_sender *sender)
{
    if (sender == NULL)
        return;
    pthread_mutex_lock(&sender->lock);
    sender->stopping = 1;
    pthread_cond_signal(&sender->wake);
    pthread_mutex_unlock(&sender->lock);
    pthread_join(sender->thread, NULL);
    pthread_cond_destroy(&sender->wake);
    pthread_mutex_destroy(&sender->lock);
    free(sender->preview.copy);
    free(sender->detect.copy);
    free(sender);
}
