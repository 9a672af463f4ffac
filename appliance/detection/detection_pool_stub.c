/*
 * detection_pool_stub.c - TEMPORARY stand-in for the detection pool
 * (detection_pool.h) so the link intake and person voting build and run
 * before the real pool and detector are merged. DELETE THIS FILE when
 * appliance/detection/detection_pool.c arrives: it detects nothing.
 *
 * It has no queue and no threads: detection_pool_submit calls on_result at
 * once on the caller's thread, with ok = 0 for a payload that does not
 * start like a JPEG, else ok = 1 and no person - unless the environment
 * variable DOORSTEP_DETECTION_STUB_PERSON holds a confidence (0..1), in
 * which case the first region (or the middle of the frame) is reported as
 * a person with it (for trying the voting by hand only).
 */
#define LOG_MODULE "detection"

#include "detection/detection_pool.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/mutex.h"

struct detection_pool {
    detection_result_fn on_result;
    void *user;
    pthread_mutex_t lock;
    struct detection_pool_stats stats; /* lock */
};

/* See detection_pool.h; threads and queue_frames are only remembered. */
struct detection_pool *detection_pool_create(int threads, int queue_frames,
                                             detection_result_fn on_result, void *user)
{
    struct detection_pool *pool = calloc(1, sizeof(*pool));

    if (pool == NULL)
        return NULL;
    pool->on_result = on_result;
    pool->user = user;
    pool->stats.threads = threads;
    pool->stats.queue_frames = queue_frames;
    mutex_init_checked(&pool->lock);
    return pool;
}

/* See the file comment: the result at once, on this thread. */
int detection_pool_submit(struct detection_pool *pool, const char *device_id,
                          uint32_t device_event_id, uint64_t timestamp_us,
                          const struct detection_box *regions, int region_count,
                          const uint8_t *jpeg, size_t jpeg_size)
{
    struct detection_result result;
    const char *person = getenv("DOORSTEP_DETECTION_STUB_PERSON");

    memset(&result, 0, sizeof(result));
    error_text_set(result.device_id, sizeof(result.device_id), "%s", device_id);
    result.device_event_id = device_event_id;
    result.timestamp_us = timestamp_us;
    result.jpeg = jpeg;
    result.jpeg_size = jpeg_size;
    result.ok = jpeg_size >= 4 && jpeg[0] == 0xff && jpeg[1] == 0xd8;
    if (!result.ok)
        error_text_set(result.error, sizeof(result.error), "not a JPEG");
    if (result.ok && person != NULL) {
        result.person_count = 1;
        result.persons[0].confidence = atof(person);
        result.persons[0].box =
            region_count > 0 ? regions[0] : (struct detection_box){0.25, 0.25, 0.5, 0.5};
    }
    pthread_mutex_lock(&pool->lock);
    pool->stats.submitted++;
    if (result.ok)
        pool->stats.done++;
    else
        pool->stats.refused++;
    pthread_mutex_unlock(&pool->lock);
    if (pool->on_result != NULL)
        pool->on_result(&result, pool->user);
    return 0;
}

/* See detection_pool.h. */
void detection_pool_stats(struct detection_pool *pool, struct detection_pool_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    *out = pool->stats;
    pthread_mutex_unlock(&pool->lock);
}

/* See detection_pool.h. */
void detection_pool_free(struct detection_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
