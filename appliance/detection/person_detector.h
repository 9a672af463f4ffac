/*
 * person_detector.h - what the hub's person detector says about one detect
 * frame (docs/protocol.md, "DETECT_FRAME"): the people it found, best first,
 * with boxes normalised to the frame and a confidence 0..1.
 *
 * Plain data shared by the detection pool (detection_pool.h) and whoever
 * takes its results (events/person_vote.c); no functions of its own here.
 */
#ifndef DOORSTEP_PERSON_DETECTOR_H
#define DOORSTEP_PERSON_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

struct detection_box {
    double x, y, w, h; /* normalised 0..1 to the frame */
};

struct person_detection {
    struct detection_box box;
    double confidence; /* 0..1 */
};

struct detection_result {
    char device_id[64];
    uint32_t device_event_id; /* DETECT_FRAME sequence */
    uint64_t timestamp_us;    /* capture time */
    int ok;                   /* 0: refused (bad JPEG...), see error */
    char error[128];
    int person_count;                   /* detections at or above the detector's own threshold */
    struct person_detection persons[8]; /* best first */
    const uint8_t *jpeg;                /* borrowed, valid only during the callback */
    size_t jpeg_size;
    int64_t queued_us, detect_us; /* time in the queue, time in the detector */
};

#endif
