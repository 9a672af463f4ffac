/*
 * person_detector.h - who is in a doorbell's frame: OpenCV's HOG people
 * detector run on the neighbourhood of the motion boxes of one gray frame
 * (or on the whole frame), giving normalised person boxes with a
 * confidence 0..1; and the result one detection-pool frame produces.
 *
 * How (person_detector.c): each motion box grows by a quarter of its size
 * on every side, overlapping crops merge, each crop is scaled so a person
 * filling its box is about 1.5x the 64x128 HOG window, the HOG runs, the
 * windows are mapped back to the frame and non-max suppressed; confidence
 * is a logistic of the SVM weight. The work per frame is capped (at most
 * PERSON_DETECTOR_MAX_CROPS crops and PERSON_DETECTOR_PIXEL_BUDGET scaled
 * pixels in all).
 *
 * Threads: a struct person_detector is one thread's at a time (each pool
 * worker owns one). Ownership: person_detector_free() frees what
 * person_detector_create() made; pictures and regions are borrowed.
 */
#ifndef DOORSTEP_PERSON_DETECTOR_H
#define DOORSTEP_PERSON_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#define PERSON_DETECTOR_MAX_PERSONS 8
/* Motion regions one frame may carry (a DETECT_FRAME has at most 16). */
#define PERSON_DETECTOR_MAX_REGIONS 16
/* Crops after merging; beyond this, the smallest crops merge together. */
#define PERSON_DETECTOR_MAX_CROPS 4
/* Scaled pixels HOG looks at per frame, all crops together (about 640x480):
 * when the crops would need more, every crop's scale shrinks to fit. */
#define PERSON_DETECTOR_PIXEL_BUDGET (640 * 480)
/* A detection counts as a person from this confidence on. */
#ifndef PERSON_DETECTOR_MIN_CONFIDENCE /* a tuning build may lower it */
#define PERSON_DETECTOR_MIN_CONFIDENCE 0.5
#endif

/* A box normalised 0..1 to the frame (x, y its top-left corner). */
struct detection_box {
    double x, y, w, h;
};

struct person_detection {
    struct detection_box box;
    double confidence; /* 0..1 */
};

/* What the pool gives its callback for one frame (detection_pool.h). */
struct detection_result {
    char device_id[64];
    uint32_t device_event_id; /* the DETECT_FRAME's sequence */
    uint64_t timestamp_us;    /* capture time */
    int ok;                   /* 0: refused (bad JPEG...), see error */
    char error[128];
    int person_count; /* detections at or above PERSON_DETECTOR_MIN_CONFIDENCE */
    struct person_detection persons[PERSON_DETECTOR_MAX_PERSONS]; /* best first */
    const uint8_t *jpeg;
    size_t jpeg_size;             /* borrowed, valid only during the callback */
    int64_t queued_us, detect_us; /* time in the queue, time decoding and detecting */
};

struct person_detector;

/* Make a detector (loads the SVM built into OpenCV). NULL with error. */
struct person_detector *person_detector_create(char *error, size_t error_size);

/* Free a detector; NULL is fine. */
void person_detector_free(struct person_detector *detector);

/* Find people in the gray picture (width x height, rows of width bytes)
 * near the region_count regions (0 = the whole frame). Up to max_persons
 * detections at or above PERSON_DETECTOR_MIN_CONFIDENCE go to persons,
 * best first; returns how many, or -1 with error. */
int person_detector_run(struct person_detector *detector, const uint8_t *pixels, int width,
                        int height, const struct detection_box *regions, int region_count,
                        struct person_detection *persons, int max_persons, char *error,
                        size_t error_size);

/* The confidence the detector gives an SVM weight (a logistic of it). */
double person_detector_confidence(double weight);

#endif
