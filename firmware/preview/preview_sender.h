/*
 * preview_sender.h - the timeline previews a doorbell sends the hub
 * (docs/protocol.md, "PREVIEW"): a small JPEG of a camera frame every
 * preview interval (the hub names it in WELCOME), and at once on the first
 * keyframe after a gap, encoded off the capture thread.
 *
 * Threads: the capture thread offers frames (preview_sender_offer); the
 * sender's own thread encodes (libjpeg-turbo, firmware/snapshot/) and
 * queues the message on the link. One slot between them, guarded by the
 * sender's lock: a frame offered while the previous one is still being
 * encoded is dropped, so a slow encode never holds up video. The sender
 * owns its thread, the slot's frame copy and the JPEG it sends.
 */
#ifndef DOORSTEP_PREVIEW_SENDER_H
#define DOORSTEP_PREVIEW_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"

struct link_client;
struct preview_sender;

#define PREVIEW_QUALITY   65  /* 10-30 KB at 640x360 */
#define PREVIEW_MAX_WIDTH 640 /* wider frames are scaled down by an integer factor */

struct preview_sender_stats {
    uint64_t sent;      /* queued on the link */
    uint64_t busy;      /* due, but the previous one was still being encoded */
    uint64_t failed;    /* encode or queue failures */
    uint64_t encode_us; /* time spent encoding, all previews (preview thread) */
    uint64_t copy_us;   /* time spent copying frames for them (capture thread) */
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

/* Copy the counters. Any thread. */
void preview_sender_get_stats(struct preview_sender *sender, struct preview_sender_stats *out);

/* Stop the thread and free everything (NULL is ignored). Main thread, after
 * the capture thread has stopped. */
void preview_sender_stop(struct preview_sender *sender);

#endif
