/*
 * detection_pool.h - the hub's bounded pool of person-detector workers: the
 * link server submits detect frames, worker threads (at a lower priority
 * than the recorder and live view) run the detector and hand each result to
 * on_result. The queue holds at most queue_frames frames and drops the
 * oldest when full, so twenty busy doorbells cannot starve the rest.
 *
 * detection_pool_submit may be called from any thread and never blocks;
 * on_result runs on a worker thread (at most `threads` at once) and must
 * not block for long.
 */
#ifndef DOORSTEP_DETECTION_POOL_H
#define DOORSTEP_DETECTION_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "detection/person_detector.h"

typedef void (*detection_result_fn)(const struct detection_result *result, void *user);

/* Counters since the pool was made. */
struct detection_pool_stats {
    uint64_t submitted; /* frames given to detection_pool_submit (accepted) */
    uint64_t done;      /* frames detected (result ok = 1) */
    uint64_t dropped;   /* frames pushed out of a full queue unseen */
    uint64_t refused;   /* frames refused (result ok = 0: bad JPEG, detector error) */
    int64_t busy_us;    /* worker time spent decoding and detecting, all workers */
    int queued;         /* frames waiting now */
    int threads, queue_frames;
};

struct detection_pool;

struct detection_pool *detection_pool_create(int threads, int queue_frames,
                                             detection_result_fn on_result, void *user);

/* Copies region list and JPEG; never blocks; when the queue is full the
 * oldest queued frame is dropped (counted). Returns 0, or -1 out of memory. */
int detection_pool_submit(struct detection_pool *pool, const char *device_id,
                          uint32_t device_event_id, uint64_t timestamp_us,
                          const struct detection_box *regions, int region_count,
                          const uint8_t *jpeg, size_t jpeg_size);

void detection_pool_stats(struct detection_pool *pool, struct detection_pool_stats *out);

void detection_pool_free(struct detection_pool *pool); /* joins; drops what is queued */

#endif
