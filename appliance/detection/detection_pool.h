/*
 * detection_pool.h - the hub's bounded person-detection workers: frames
 * (a doorbell's DETECT_FRAME JPEG with its motion boxes) go into one queue
 * of at most queue_frames; a few worker threads, at a lower priority than
 * the recorder and live view (nice +10), each with its own detector, take
 * the oldest, decode and detect, and hand the result to a callback. When
 * the queue is full a new frame pushes the oldest queued one out (it is
 * stale by now, and the newest frame says most about who is there), so 20
 * doorbells with events at once cost at most `threads` cores at low
 * priority and never block the link threads that submit.
 *
 * Threads: detection_pool_submit and detection_pool_stats from any thread
 * (one mutex, held only to queue, take and count); the callback runs on a
 * worker (at most `threads` at once; with more than one worker, two frames
 * of one doorbell may come back out of order: timestamp_us tells).
 * detection_pool_free from the owner,
 * after the submitters stopped. Ownership: the pool copies what is
 * submitted and frees it after the callback (the result and its JPEG are
 * borrowed by the callback).
 */
#ifndef DOORSTEP_DETECTION_POOL_H
#define DOORSTEP_DETECTION_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "detection/person_detector.h"

#define DETECTION_POOL_MAX_THREADS 8
#define DETECTION_POOL_MAX_QUEUE   256
/* The worker threads' nice value (setpriority on each thread's tid). */
#define DETECTION_POOL_NICE 10

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

/* Start threads workers (clamped to 1..DETECTION_POOL_MAX_THREADS), each
 * with its own detector, and a queue of queue_frames (1..MAX_QUEUE).
 * on_result(result, user) runs on a worker for each frame taken. NULL when
 * a thread or a detector cannot be made (logged). */
struct detection_pool *detection_pool_create(int threads, int queue_frames,
                                             detection_result_fn on_result, void *user);

/* Copies region list and JPEG; never blocks; when the queue is full the
 * oldest queued frame is dropped (counted). Returns 0, or -1 out of memory. */
int detection_pool_submit(struct detection_pool *pool, const char *device_id,
                          uint32_t device_event_id, uint64_t timestamp_us,
                          const struct detection_box *regions, int region_count,
                          const uint8_t *jpeg, size_t jpeg_size);

/* A snapshot of the counters. */
void detection_pool_stats(struct detection_pool *pool, struct detection_pool_stats *out);

/* Stop the workers (each finishes its frame), join them, free what is still
 * queued (not counted) and the pool. NULL is fine. */
void detection_pool_free(struct detection_pool *pool);

#endif
