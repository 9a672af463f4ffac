/*
 * test_detection_pool.c - cmocka tests of the hub's person-detection pool
 * (appliance/detection/detection_pool.c): with one worker held in a slow
 * callback and a queue of two, a third waiting frame pushes the oldest
 * queued one out (counted as dropped) and the rest come back in order; the
 * counters (submitted, done, dropped, refused, busy time, queued) add up; a
 * result carries its frame's identity, its JPEG and its timings; workers run
 * at nice +10; freeing the pool with frames queued loses nothing to leaks.
 *
 * Threads: the test thread submits; the pool's workers call back into
 * detection_test_callback, which the test holds and releases through one
 * mutex and condition variable.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/detection/detection_pool.c appliance/detection/detection_image.c appliance/detection/person_detector.c appliance/detection/person_detector_hog.cpp */
/* UNIT_SOURCES: tests/unit/support/jpeg_fixture.c tests/unit/support/media_judge.c tests/unit/support/test_files.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "detection/detection_pool.h"
#include "support/jpeg_fixture.h"

#define TEST_WAIT_MS     60000
#define TEST_MAX_RESULTS 16

/* What the callback saw, and the hold the test keeps it in. */
struct detection_test {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int hold;    /* callbacks wait while set */
    int inside;  /* callbacks waiting in the hold */
    int results; /* callbacks done */
    uint32_t event_ids[TEST_MAX_RESULTS];
    int ok[TEST_MAX_RESULTS];
    char device_ids[TEST_MAX_RESULTS][64];
    uint64_t timestamps[TEST_MAX_RESULTS];
    size_t jpeg_sizes[TEST_MAX_RESULTS];
    int jpeg_intact[TEST_MAX_RESULTS];
    int64_t queued_us[TEST_MAX_RESULTS];
    int nice[TEST_MAX_RESULTS];
};

/* The pool's callback: record, then wait while the test holds. */
static void detection_test_callback(const struct detection_result *result, void *user)
{
    struct detection_test *test = user;
    int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
    pthread_mutex_lock(&test->lock);
    test->inside++;
    pthread_cond_broadcast(&test->changed);
    while (test->hold)
        pthread_cond_wait(&test->changed, &test->lock);
    test->inside--;
    int at = test->results;
    if (at < TEST_MAX_RESULTS) {
        test->event_ids[at] = result->device_event_id;
        test->ok[at] = result->ok;
        memcpy(test->device_ids[at], result->device_id, sizeof(test->device_ids[at]));
        test->timestamps[at] = result->timestamp_us;
        test->jpeg_sizes[at] = result->jpeg_size;
        test->jpeg_intact[at] =
            result->jpeg_size > 3 && result->jpeg[0] == 0xff && result->jpeg[1] == 0xd8;
        test->queued_us[at] = result->queued_us;
        test->nice[at] = nice;
    }
    test->results++;
    pthread_cond_broadcast(&test->changed);
    pthread_mutex_unlock(&test->lock);
}

/* Wait until test->field reaches at least value (or fail after a minute). */
static void detection_test_wait(struct detection_test *test, const int *field, int value)
{
    int64_t deadline = clock_monotonic_ms() + TEST_WAIT_MS;
    pthread_mutex_lock(&test->lock);
    while (*field < value) {
        struct timespec until;
        if (clock_monotonic_ms() > deadline) {
            pthread_mutex_unlock(&test->lock);
            fail_msg("waited %d ms for %d (have %d)", TEST_WAIT_MS, value, *field);
        }
        clock_deadline_ms(CLOCK_REALTIME, 100, &until);
        pthread_cond_timedwait(&test->changed, &test->lock, &until);
    }
    pthread_mutex_unlock(&test->lock);
}

static void detection_test_set_hold(struct detection_test *test, int hold)
{
    pthread_mutex_lock(&test->lock);
    test->hold = hold;
    pthread_cond_broadcast(&test->changed);
    pthread_mutex_unlock(&test->lock);
}

static int setup(void **state)
{
    struct detection_test *test = calloc(1, sizeof(*test));
    assert_non_null(test);
    pthread_mutex_init(&test->lock, NULL);
    pthread_cond_init(&test->changed, NULL);
    *state = test;
    return 0;
}

static int teardown(void **state)
{
    struct detection_test *test = *state;
    /* A failed test may leave workers held: let them go (and leak the rest). */
    pthread_mutex_lock(&test->lock);
    int busy = test->inside > 0;
    test->hold = 0;
    pthread_cond_broadcast(&test->changed);
    pthread_mutex_unlock(&test->lock);
    if (busy)
        return 0;
    pthread_cond_destroy(&test->changed);
    pthread_mutex_destroy(&test->lock);
    free(test);
    return 0;
}

/* One worker held, a queue of two: the oldest waiting frame is dropped. */
static void test_full_queue_drops_oldest(void **state)
{
    struct detection_test *test = *state;
    struct detection_pool_stats stats;
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_make(160, 160, 3, 0, &size);
    static const uint8_t garbage[] = "no picture here";
    const struct detection_box region = {0.25, 0.25, 0.5, 0.5};

    struct detection_pool *pool = detection_pool_create(1, 2, detection_test_callback, test);
    assert_non_null(pool);
    detection_test_set_hold(test, 1);
    assert_int_equal(detection_pool_submit(pool, "door-a", 1, 1001, NULL, 0, jpeg, size), 0);
    detection_test_wait(test, &test->inside, 1); /* the worker holds frame 1 */
    assert_int_equal(detection_pool_submit(pool, "door-b", 2, 1002, &region, 1, jpeg, size), 0);
    assert_int_equal(
        detection_pool_submit(pool, "door-a", 3, 1003, NULL, 0, garbage, sizeof(garbage)), 0);
    detection_pool_stats(pool, &stats);
    assert_int_equal(stats.queued, 2);
    assert_int_equal(stats.dropped, 0);
    /* Full: frame 2 (the oldest waiting) goes. */
    assert_int_equal(detection_pool_submit(pool, "door-c", 4, 1004, &region, 1, jpeg, size), 0);
    detection_pool_stats(pool, &stats);
    assert_int_equal(stats.submitted, 4);
    assert_int_equal(stats.dropped, 1);
    assert_int_equal(stats.queued, 2);
    assert_int_equal(stats.threads, 1);
    assert_int_equal(stats.queue_frames, 2);
    free(jpeg); /* the pool has its copies */

    detection_test_set_hold(test, 0);
    detection_test_wait(test, &test->results, 3);
    /* The counters are updated just after each callback returns. */
    int64_t deadline = clock_monotonic_ms() + TEST_WAIT_MS;
    do
        detection_pool_stats(pool, &stats);
    while (stats.done + stats.refused < 3 && clock_monotonic_ms() < deadline);
    assert_int_equal(test->results, 3);
    assert_int_equal(test->event_ids[0], 1);
    assert_int_equal(test->event_ids[1], 3);
    assert_int_equal(test->event_ids[2], 4);
    assert_string_equal(test->device_ids[0], "door-a");
    assert_string_equal(test->device_ids[2], "door-c");
    assert_int_equal(test->timestamps[2], 1004);
    assert_int_equal(test->ok[0], 1);
    assert_int_equal(test->ok[1], 0); /* the garbage */
    assert_int_equal(test->ok[2], 1);
    assert_int_equal(test->jpeg_sizes[0], size);
    assert_true(test->jpeg_intact[0] && test->jpeg_intact[2]);
    assert_int_equal(test->jpeg_sizes[1], sizeof(garbage));
    assert_true(test->queued_us[2] > 0); /* it waited for the held frame */
    assert_int_equal(stats.submitted, 4);
    assert_int_equal(stats.done, 2);
    assert_int_equal(stats.refused, 1);
    assert_int_equal(stats.dropped, 1);
    assert_int_equal(stats.queued, 0);
    assert_true(stats.busy_us > 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(test->nice[i], DETECTION_POOL_NICE);
    detection_pool_free(pool);
}

/* Freeing with frames queued and workers busy: joins, frees the rest. */
static void test_free_with_frames_queued(void **state)
{
    struct detection_test *test = *state;
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_make(64, 128, 1, 0, &size);

    struct detection_pool *pool = detection_pool_create(2, 4, detection_test_callback, test);
    assert_non_null(pool);
    detection_test_set_hold(test, 1);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(detection_pool_submit(pool, "door", i, i, NULL, 0, jpeg, size), 0);
    detection_test_wait(test, &test->inside, 2);
    struct detection_pool_stats stats;
    detection_pool_stats(pool, &stats);
    /* Two frames held by the workers; of the eight others, what the queue of
     * four could not keep was dropped (how many the workers took before
     * the queue filled depends on the scheduler). */
    assert_int_equal(stats.submitted, 10);
    assert_in_range(stats.queued, 2, 4);
    assert_int_equal(stats.dropped + (uint64_t)stats.queued + 2, 10);
    detection_test_set_hold(test, 0);
    detection_pool_free(pool); /* LeakSanitizer checks the queued copies */
    free(jpeg);
}

/* Out-of-range sizes are clamped, not refused. */
static void test_clamps_sizes(void **state)
{
    struct detection_test *test = *state;
    struct detection_pool_stats stats;
    struct detection_pool *pool = detection_pool_create(0, 100000, detection_test_callback, test);
    assert_non_null(pool);
    detection_pool_stats(pool, &stats);
    assert_int_equal(stats.threads, 1);
    assert_int_equal(stats.queue_frames, DETECTION_POOL_MAX_QUEUE);
    detection_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_queue_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_frames_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clamps_sizes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
