/*
 * encoder.h - H.264 encoding of camera frames with x264, tuned for live view:
 * preset veryfast/ultrafast, tune zerolatency (no lookahead, one frame in ->
 * one access unit out), no B-frames, repeat SPS/PPS on every keyframe,
 * Annex B output, CBR-ish VBV so the link never sees bursts far above bitrate.
 *
 * Owned and called only by the capture thread; encoder_request_keyframe() may
 * be called from any thread (sets an atomic flag).
 */
#ifndef DOORSTEP_ENCODER_H
#define DOORSTEP_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"

/* VBV buffer in frames' worth of bitrate: small enough for smooth live
 * delivery (a keyframe burst is at most ~133 ms of link time at 30 fps),
 * large enough that periodic IDRs are not starved: with 2 frames the IDRs
 * visibly lose texture every keyframe interval ("pumping"), with 4 not. */
#define ENCODER_VBV_FRAMES 4

struct encoder_config {
    int width, height, fps;
    int bitrate_kbps;      /* default 2000 */
    int keyframe_interval; /* frames between IDRs; default 2 * fps */
    const char *preset;    /* x264 preset name; default "veryfast" */
    int vbv_kbit;          /* VBV buffer; 0 = ENCODER_VBV_FRAMES frames of bitrate_kbps */
};

/* One encoded access unit; data is owned by the encoder and valid until the next call. */
struct encoded_frame {
    const uint8_t *data; /* Annex B, SPS+PPS+IDR on keyframes */
    size_t size;
    int keyframe;
    uint64_t capture_time_us; /* copied from the input frame */
    uint32_t sequence;        /* copied from the input frame */
};

struct encoder *encoder_open(const struct encoder_config *config, char *error, size_t error_size);

/* Encode one frame. Returns 0 with *out filled, or -1 on error (reason logged). */
int encoder_encode(struct encoder *encoder, const struct camera_frame *frame,
                   struct encoded_frame *out);

/* Ask for an IDR on the next encode. Thread-safe. */
void encoder_request_keyframe(struct encoder *encoder);

/* Change bitrate and/or size/fps without reconnecting anything. Capture thread only. */
int encoder_reconfigure(struct encoder *encoder, const struct encoder_config *config);

/* Open x264 afresh at bitrate_kbps, all else as it is: the next frame is an
 * IDR and the rate control forgets its history (after a long spell at a
 * low bitrate, x264's ABR would take seconds to spend the new one). On
 * failure the old encoder stays. Capture thread only. */
int encoder_restart(struct encoder *encoder, int bitrate_kbps);

void encoder_close(struct encoder *encoder);

#endif
