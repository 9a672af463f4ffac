/*
 * motion_detector.h - on-device motion detection: camera frames in,
 * per frame a verdict (motion event active or not, score, boxes) out, fused
 * with the PIR sensor. The algorithm is described at the top of
 * motion_detector.c; settings and privacy blackout are in motion_config.h.
 *
 * One thread owns a detector (the capture or analysis thread). All memory is
 * allocated by motion_detector_create(); configuring and analysing allocate
 * nothing, except that the first frame of a new camera size rebuilds the
 * downscaler's small tables.
 */
#ifndef DOORSTEP_MOTION_DETECTOR_H
#define DOORSTEP_MOTION_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"
#include "common/motion_config.h"

/* The analysis picture: luma at this size, chroma at half of it. */
#define MOTION_ANALYSIS_WIDTH  320
#define MOTION_ANALYSIS_HEIGHT 180
#define MOTION_MAX_BOXES       16

/* A box around moving pixels, normalised to the frame (0..1, top-left). */
struct motion_box {
    double x, y, width, height;
};

struct motion_result {
    int active;       /* a motion event is in progress (camera and PIR fused per mode) */
    int started;      /* 1 on the frame the event starts */
    int ended;        /* 1 on the frame the event ends */
    int camera_event; /* the camera-only event (min_frames reached, hold not over) */
    int frame_motion; /* this frame has moving blobs of at least min_area */
    int learning;     /* the background is being (re)learnt: nothing is detected */
    int light_switch; /* a lighting change was recognised on this frame */
    double score;     /* 0..1, see motion_detector.c */
    int box_count;    /* boxes of this frame, largest first */
    struct motion_box boxes[MOTION_MAX_BOXES];
};

struct motion_detector;

/* Create a detector for `config`; NULL with a reason if out of memory.
 * Free it with motion_detector_destroy(). */
struct motion_detector *motion_detector_create(const struct motion_config *config, char *error,
                                               size_t error_size);

void motion_detector_destroy(struct motion_detector *detector);

/* Apply new settings (zones and masks are rasterised here). The background
 * model is kept; an event in progress goes on under the new settings. */
void motion_detector_configure(struct motion_detector *detector,
                               const struct motion_config *config);

/* Downscale a camera frame (any size from 320x180 to 16 times that) into
 * the analysis picture. 0, or -1 if the size is out of range. */
int motion_detector_load(struct motion_detector *detector, const struct camera_frame *frame);

/* Analyse the loaded picture, taken at time_us (any monotonic clock in
 * microseconds), with the PIR sensor's state at that time (0 or 1). */
void motion_detector_analyse(struct motion_detector *detector, int64_t time_us, int pir,
                             struct motion_result *result);

/* motion_detector_load() then motion_detector_analyse(); -1 if loading failed
 * (the result then says nothing happened). */
int motion_detector_process(struct motion_detector *detector, const struct camera_frame *frame,
                            int64_t time_us, int pir, struct motion_result *result);

/* The analysis luma of the last loaded frame (MOTION_ANALYSIS_WIDTH x
 * MOTION_ANALYSIS_HEIGHT, packed, privacy masks black); owned by the
 * detector, valid until the next load. */
const uint8_t *motion_detector_luma(const struct motion_detector *detector);

/* PIR fusion, a pure state machine (see motion_detector.c). */
struct motion_fusion {
    int active;
    int has_pir;
    int64_t last_pir_us;
};

/* Feed one frame's camera event state and PIR reading; returns whether the
 * fused motion event is active. */
int motion_fusion_step(struct motion_fusion *fusion, enum motion_mode mode, int camera_event,
                       int pir, int64_t time_us, int hold_ms);

#endif
