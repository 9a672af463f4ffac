/*
 * sub_stream.h - the doorbell's second, small H.264 stream (docs/protocol.md,
 * "Two streams"): the same captured frames as the main stream, box-filtered
 * down to the sub size (motion/motion_image.h's scaler, per plane), at a
 * lower frame rate (frames picked by capture time) and bitrate, encoded by
 * its own x264 encoder (encoder.h) only while the hub wants it.
 *
 * Threads: the capture thread owns the x264 encoder, the scalers and the
 * small picture, and calls sub_stream_encode(); any thread may turn the
 * stream on or off, ask for a keyframe or a new format (atomics the capture
 * thread picks up at its next frame) and read the stats (atomics).
 */
#ifndef DOORSTEP_SUB_STREAM_H
#define DOORSTEP_SUB_STREAM_H

#include <stdint.h>

#include "camera/camera.h"
#include "encoder/encoder.h"

#define SUB_STREAM_DEFAULT_WIDTH   640
#define SUB_STREAM_DEFAULT_HEIGHT  360
#define SUB_STREAM_DEFAULT_FPS     15
#define SUB_STREAM_DEFAULT_BITRATE 400

struct sub_stream_config {
    int width, height;  /* the box the picture is fitted into (sub_stream_fit) */
    int fps;            /* at most the camera's */
    int bitrate_kbps;   /* x264 target */
    const char *preset; /* x264 preset name, as the main encoder's; copied */
};

struct sub_stream_stats {
    int on; /* the encoder runs (between stream_on and stream_off) */
    int width, height, fps, bitrate_kbps;
    uint64_t frames_encoded;
};

/* Picks the camera frames a lower frame rate keeps, by capture time, so that
 * the kept frames are evenly spaced: every other frame for 15 of 30 fps. */
struct sub_stream_pacer {
    int started;
    uint64_t next_due_us; /* capture time the next kept frame should have */
};

/* Whether the frame captured at capture_time_us is kept for sub_fps out of
 * camera_fps (1) or skipped (0); updates the pacer. The first frame after
 * a reset (zeroed pacer) is always kept. */
int sub_stream_pacer_take(struct sub_stream_pacer *pacer, uint64_t capture_time_us, int camera_fps,
                          int sub_fps);

/* The sub-stream's size for a camera picture: the wanted box with the
 * camera's aspect ratio (even sides, within the box). 0 with *width and
 * *height, or -1 when the camera's picture is not larger than the box (no
 * sub-stream) or too large to box-filter down to it. */
int sub_stream_fit(int camera_width, int camera_height, int want_width, int want_height, int *width,
                   int *height);

struct sub_stream;

/* A sub-stream for camera pictures of camera_width x camera_height, off
 * until sub_stream_set_wanted(1); NULL when that picture has no sub-stream
 * (sub_stream_fit) or out of memory. Free with sub_stream_destroy(). */
struct sub_stream *sub_stream_create(const struct sub_stream_config *config, int camera_width,
                                     int camera_height);

/* Free everything (NULL is ignored). After the capture thread stopped. */
void sub_stream_destroy(struct sub_stream *sub);

/* The hub's stream_on (1) / stream_off (0): the capture thread opens the
 * encoder at its next frame (which becomes a keyframe) or frees it. Any
 * thread. */
void sub_stream_set_wanted(struct sub_stream *sub, int on);

/* The next sub-stream frame is an IDR (nothing while off). Any thread. */
void sub_stream_request_keyframe(struct sub_stream *sub);

/* set_video for "sub": any of bitrate, size box, fps (0 = unchanged), in
 * force from the next frame. Any thread. */
void sub_stream_request_format(struct sub_stream *sub, int bitrate_kbps, int width, int height,
                               int fps);

/* What the sub-stream does with one captured frame (after the privacy
 * blackout) of a camera running at camera_fps: 1 with *out filled (valid
 * until the next call), 0 when off or the frame is skipped, -1 on an
 * encoder error (logged). Capture thread. */
int sub_stream_encode(struct sub_stream *sub, const struct camera_frame *frame, int camera_fps,
                      struct encoded_frame *out);

/* Copy the figures for status (any thread). */
void sub_stream_get_stats(struct sub_stream *sub, struct sub_stream_stats *out);

/* Downscale the three planes of an I420 frame into a packed I420 picture of
 * target's size (target's planes and strides set by the caller) with three
 * scalers (Y, U, V) prepared here. 0, or -1 when a scaler cannot be set up.
 * Capture thread (the scalers belong to the caller). */
struct motion_scaler;
int sub_stream_scale_frame(struct motion_scaler *scalers, const struct camera_frame *source,
                           struct camera_frame *target);

#endif
