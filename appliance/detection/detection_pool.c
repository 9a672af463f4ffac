/*
 * detection_pool.c - the bounded person-detection worker pool (see
 * detection_pool.h): a ring of queued frames, drop-oldest when full,
 * workers at nice +10 each owning a person_detector.
 *
 * Threads: submitters (link threads) and the workers share pool->lock,
 * held only to queue, take and count, never while decoding, detecting or
 * calling back. Ownership: the pool owns each queued job (a copy of the
 * regions and the JPEG) until its worker frees it after the callback.
 */
#define LOG_MODULE "detect"

#include "detection/detection_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"
#include "detection/detection_image.h"

/* One submitted frame, the pool's until a worker has called back. */
struct detection_job {
    char device_id[64];
    uint32_t device_event_id;
    uint64_t timestamp_us;
    int64_t queued_at_us; /* CLOCK_MONOTONIC */
    int region_count;
    struct detection_box regions[PERSON_DETECTOR_MAX_REGIONS];
    size_t jpeg_size;
    uint8_t jpeg[]; /* jpeg_size bytes */
};

struct detection_worker {
    struct detection_pool *pool;
    pthread_t thread;
    struct person_detector *detector;
    int started;
};

struct detection_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a job queued, or stopping */
    int stopping;
    struct detection_job **queue; /* ring of queue_frames */
    int head, count, queue_frames;
    struct detection_pool_stats stats;
    detection_result_fn on_result;
    void *user;
    int thread_count;
    struct detection_worker workers[DETECTION_POOL_MAX_THREADS];
};

/* Decode and detect one job into *result (everything but the timing of
 * the queue). */
static void detection_run_job(struct person_detector *detector, const struct detection_job *job,
                              struct detection_result *result)
{
    struct detection_image image;
    char reason[sizeof(result->error)] = "";

    if (detection_image_decode_gray(job->jpeg, job->jpeg_size, &image, reason, sizeof(reason)) !=
        0) {
        error_text_set(result->error, sizeof(result->error), "%s", reason);
        return;
    }
    int found = person_detector_run(detector, image.pixels, image.width, image.height, job->regions,
                                    job->region_count, result->persons, PERSON_DETECTOR_MAX_PERSONS,
                                    reason, sizeof(reason));
    if (found < 0) {
        error_text_set(result->error, sizeof(result->error), "%s", reason);
    } else {
        result->ok = 1;
        result->person_count = found;
    }
    detection_image_release(&image);
}

/* A worker: lower its priority, then take the oldest job, detect, call
 * back, free it, until the pool stops. */
static void *detection_worker_main(void *argument)
{
    struct detection_worker *worker = argument;
    struct detection_pool *pool = worker->pool;

    pthread_setname_np(pthread_self(), "detect");
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), DETECTION_POOL_NICE) != 0)
        log_warn("cannot lower the detection thread's priority: %s", strerror(errno));
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && pool->count == 0)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stopping)
            break;
        struct detection_job *job = pool->queue[pool->head];
        pool->queue[pool->head] = NULL;
        pool->head = (pool->head + 1) % pool->queue_frames;
        pool->count--;
        pthread_mutex_unlock(&pool->lock);

        struct detection_result result;
        memset(&result, 0, sizeof(result));
        memcpy(result.device_id, job->device_id, sizeof(result.device_id));
        result.device_event_id = job->device_event_id;
        result.timestamp_us = job->timestamp_us;
        result.jpeg = job->jpeg;
        result.jpeg_size = job->jpeg_size;
        int64_t started_us = clock_monotonic_us();
        result.queued_us = started_us - job->queued_at_us;
        detection_run_job(worker->detector, job, &result);
        result.detect_us = clock_monotonic_us() - started_us;
        pool->on_result(&result, pool->user); /* it logs a refusal, with the doorbell's name */
        free(job);

        pthread_mutex_lock(&pool->lock);
        if (result.ok)
            pool->stats.done++;
        else
            pool->stats.refused++;
        pool->stats.busy_us += result.detect_us;
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static int detection_clamp(int value, int low, int high)
{
    return value < low ? low : value > high ? high : value;
}

/* See detection_pool.h. */
struct detection_pool *detection_pool_create(int threads, int queue_frames,
                                             detection_result_fn on_result, void *user)
{
    char error[160] = "";
    struct detection_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    pool->thread_count = detection_clamp(threads, 1, DETECTION_POOL_MAX_THREADS);
    pool->queue_frames = detection_clamp(queue_frames, 1, DETECTION_POOL_MAX_QUEUE);
    pool->stats.threads = pool->thread_count;
    pool->stats.queue_frames = pool->queue_frames;
    pool->on_result = on_result;
    pool->user = user;
    pool->queue = calloc((size_t)pool->queue_frames, sizeof(pool->queue[0]));
    if (pool->queue == NULL || mutex_init_checked(&pool->lock) != 0) {
        free(pool->queue);
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->wake, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool->queue);
        free(pool);
        return NULL;
    }
    for (int i = 0; i < pool->thread_count; i++) {
        struct detection_worker *worker = &pool->workers[i];
        worker->pool = pool;
        worker->detector = person_detector_create(error, sizeof(error));
        if (worker->detector == NULL) {
            log_error("cannot make a person detector: %s", error);
            goto fail;
        }
        int rc = pthread_create(&worker->thread, NULL, detection_worker_main, worker);
        if (rc != 0) {
            log_error("cannot start a detection thread: %s", strerror(rc));
            goto fail;
        }
        worker->started = 1;
    }
    return pool;
fail:
    detection_pool_free(pool);
    return NULL;
}

/* See detection_pool.h. */
int detection_pool_submit(struct detection_pool *pool, const char *device_id,
                          uint32_t device_event_id, uint64_t timestamp_us,
                          const struct detection_box *regions, int region_count,
                          const uint8_t *jpeg, size_t jpeg_size)
{
    struct detection_job *dropped = NULL;
    struct detection_job *job = malloc(sizeof(*job) + jpeg_size);
    if (job == NULL)
        return -1;
    memset(job, 0, sizeof(*job));
    snprintf(job->device_id, sizeof(job->device_id), "%s", device_id ? device_id : "");
    job->device_event_id = device_event_id;
    job->timestamp_us = timestamp_us;
    job->region_count = detection_clamp(region_count, 0, PERSON_DETECTOR_MAX_REGIONS);
    if (regions != NULL && job->region_count > 0)
        memcpy(job->regions, regions, (size_t)job->region_count * sizeof(regions[0]));
    else
        job->region_count = 0;
    job->jpeg_size = jpeg_size;
    if (jpeg_size > 0)
        memcpy(job->jpeg, jpeg, jpeg_size);
    job->queued_at_us = clock_monotonic_us();

    pthread_mutex_lock(&pool->lock);
    if (pool->count == pool->queue_frames) {
        dropped = pool->queue[pool->head];
        pool->queue[pool->head] = NULL;
        pool->head = (pool->head + 1) % pool->queue_frames;
        pool->count--;
        pool->stats.dropped++;
    }
    pool->queue[(pool->head + pool->count) % pool->queue_frames] = job;
    pool->count++;
    pool->stats.submitted++;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    if (dropped != NULL)
        log_debug("queue full: dropped a frame of %s (event %u)", dropped->device_id,
                  (unsigned)dropped->device_event_id);
    free(dropped);
    return 0;
}

/* See detection_pool.h. */
void detection_pool_stats(struct detection_pool *pool, struct detection_pool_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    *out = pool->stats;
    out->queued = pool->count;
    pthread_mutex_unlock(&pool->lock);
}

/* See detection_pool.h. */
void detection_pool_free(struct detection_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->thread_count; i++) {
        if (pool->workers[i].started)
            pthread_join(pool->workers[i].thread, NULL);
        person_detector_free(pool->workers[i].detector);
    }
    for (int i = 0; i < pool->count; i++)
        free(pool->queue[(pool->head + i) % pool->queue_frames]);
    free(pool->queue);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
