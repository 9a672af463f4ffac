/*
 * preview_sender.h - the pictures a doorbell sends the hub besides video,
 * encoded off the capture thread: timeline previews (docs/protocol.md,
 * "PREVIEW"), a small JPEG of a camera frame every preview interval (the
 * hub names it in WELCOME) and at once on the first keyframe after a gap;
 * and detect frames ("DETECT_FRAME"), a JPEG at most 960 px wide with the
 * motion boxes, at most detect_fps a second while an event is active.
 *
 * Threads: the capture thread offers frames (preview_sender_offer,
 * preview_sender_offer_detect); the sender's own thread encodes
 * (libjpeg-turbo, firmware/snapshot/) and queues the message on the link.
 * One slot per kind between them, guarded by the sender's lock: a frame
 * offered while the previous one of its kind is still being encoded is
 * dropped, so a slow encode never holds up video. The sender owns its
 * thread, the slots' frame copies and the JPEGs it sends.
 */
#ifndef DOORSTEP_PREVIEW_SENDER_H
#define DOORSTEP_PREVIEW_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"
#include "common/link_protocol.h"

struct link_client;
struct preview_sender;

#define PREVIEW_QUALITY   65  /* 10-30 KB at 640x360 */
#define PREVIEW_MAX_WIDTH 640 /* wider frames are scaled down by an integer factor */
#define DETECT_QUALITY    85  /* detect frames: the person detector wants detail */

struct preview_sender_stats {
    uint64_t sent;      /* queued on the link */
    uint64_t busy;      /* due, but the previous one was still being encoded */
    uint64_t failed;    /* encode or queue failures */
    uint64_t encode_us; /* time spent encoding, all previews (preview thread) */
    uint64_t copy_us;   /* time spent copying frames for them (capture thread) */
    uint64_t detect_sent, detect_busy, detect_failed; /* the same for detect frames */
    uint64_t detect_encode_us;
};

/* Start the sender's thread; it sends through link (not owned). NULL with a
 * reason on failure. Main thread. */
struct preview_sender *preview_sender_start(struct link_client *link, char *error,
                                            size_t error_size);

/*
 * Capture thread, after each frame has gone to the encoder: if a preview is
 * due (interval_ms since the last one's capture time, or a keyframe after a
 * gap: none sent yet, or interval_ms was 0 meanwhile) and the sender is
 * idle, copy the frame for it and return 1; else 0. interval_ms 0 (the hub
 * wants none, or no hub) sends nothing and starts a gap.
 */
int preview_sender_offer(struct preview_sender *sender, const struct camera_frame *frame,
                         int keyframe, int interval_ms);

/*
 * Capture thread: the frame of an active event event_id (>= 1) with the
 * motion detector's current boxes (0..16, normalised; 0 = look at the whole
 * frame). If a detect frame is due (the first of this event, or 1/fps s of
 * capture time since the last) and the detect slot is free, copy frame and
 * boxes for it and return 1; else 0. fps 0 sends nothing.
 */
int preview_sender_offer_detect(struct preview_sender *sender, const struct camera_frame *frame,
                                uint32_t event_id, const struct link_box *boxes, int box_count,
                                int fps);

/* Copy the counters. Any thread. */
void preview_sender_get_stats(struct preview_sender *sender, struct preview_sender_stats *out);

/* Stop the thread and free everything (NULL is ignored). Main thread, after
 * the capture thread has stopped. */
void preview_sender_stop(struct preview_sender *sender);

#endif
