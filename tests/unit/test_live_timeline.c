/*
 * test_live_timeline.c - unit tests of the live video timeline: jittered,
 * bursty, stalled and stepping capture clocks at 30 and 15 fps. Every frame
 * after the first must start inside [previous dts + previous duration,
 * previous dts + 2 * previous duration) (no overlap, no Media Source
 * discontinuity), and the video must stay near the capture clock that audio
 * uses.
 */
/* UNIT_SOURCES: appliance/live/live_timeline.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "live/live_timeline.h"

#define TICKS_PER_MS 90
#define START_US     UINT64_C(1780000000000000) /* a capture clock in 2026 */

/* One run: the timeline, the previous frame and the worst figures seen. */
struct run {
    struct live_timeline timeline;
    uint64_t dts;
    uint32_t duration;
    int frames;
    int64_t worst_drift;   /* ticks, over frames judged (after settle) */
    int64_t least_spacing; /* ticks between consecutive decode times */
    int settle;            /* frames after a disturbance not judged for drift */
};

/* A small deterministic generator (xorshift32), so runs repeat exactly. */
static uint32_t random_state = 2463534242u;

static uint32_t random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return random_state;
}

/* A whole number of microseconds in [-limit_us, +limit_us]. */
static int64_t random_jitter(int64_t limit_us)
{
    return (int64_t)(random_next() % (uint32_t)(2 * limit_us + 1)) - limit_us;
}

static void run_start(struct run *run, int fps)
{
    live_timeline_init(&run->timeline, 90000, fps);
    run->frames = 0;
    run->worst_drift = 0;
    run->least_spacing = INT64_MAX;
    run->settle = 0;
}

/* Place one frame; check the window against the previous one. */
static void run_frame(struct run *run, uint64_t capture_us)
{
    uint64_t dts;
    uint32_t duration;
    int64_t drift;

    live_timeline_place(&run->timeline, capture_us, &dts, &duration);
    assert_true(duration > 0);
    if (run->frames > 0) {
        if (dts < run->dts + run->duration || dts >= run->dts + 2 * (uint64_t)run->duration)
            fail_msg("frame %d at %llu outside [%llu, %llu)", run->frames, (unsigned long long)dts,
                     (unsigned long long)(run->dts + run->duration),
                     (unsigned long long)(run->dts + 2 * (uint64_t)run->duration));
        if ((int64_t)(dts - run->dts) < run->least_spacing)
            run->least_spacing = (int64_t)(dts - run->dts);
    }
    /* Audio's decode time of the same instant: the video must stay near it. */
    drift = (int64_t)dts - (int64_t)live_timeline_capture_time(&run->timeline, capture_us, 90000);
    if (run->settle > 0)
        run->settle--;
    else if (llabs(drift) > run->worst_drift)
        run->worst_drift = llabs(drift);
    run->dts = dts;
    run->duration = duration;
    run->frames++;
}

/* Frames at fps for count frames from *at_us, each capture time off by up
 * to +-jitter_ms (so it may even go back); *at_us advances. */
static void run_jittered(struct run *run, uint64_t *at_us, int fps, int count, int jitter_ms)
{
    for (int i = 0; i < count; i++) {
        *at_us += 1000000u / (unsigned)fps;
        run_frame(run, (uint64_t)((int64_t)*at_us + random_jitter(jitter_ms * 1000)));
    }
}

/* No jitter: the decode times are the capture times. */
static void test_steady_rate_follows_capture_clock(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    run_jittered(&run, &at, 30, 300, 0);
    print_message("steady: worst drift %lld ticks\n", (long long)run.worst_drift);
    assert_true(run.worst_drift <= TICKS_PER_MS);
    assert_int_equal(run.timeline.clock_steps, 0);
}

/* +-20 ms of jitter at 30 and 15 fps for ten minutes' worth of frames. */
static void check_jitter(int fps, int jitter_ms, int64_t drift_limit_ms)
{
    struct run run;
    uint64_t at = START_US;
    run_start(&run, fps);
    run_frame(&run, at);
    run_jittered(&run, &at, fps, fps * 600, jitter_ms);
    print_message("%d fps +-%d ms: worst drift %.1f ms, least spacing %.1f ms\n", fps, jitter_ms,
                  (double)run.worst_drift / TICKS_PER_MS, (double)run.least_spacing / TICKS_PER_MS);
    assert_true(run.worst_drift <= drift_limit_ms * TICKS_PER_MS);
    /* Frames on screen at least half a nominal interval apart. */
    assert_true(run.least_spacing >= 90000 / fps / 2);
    assert_int_equal(run.timeline.clock_steps, 0);
}

static void test_jitter_30_fps(void **state)
{
    (void)state;
    check_jitter(30, 20, 50);
    check_jitter(30, 10, 30);
}

static void test_jitter_15_fps(void **state)
{
    (void)state;
    check_jitter(15, 20, 50);
    check_jitter(15, 40, 100);
}

/* The capture thread runs up to two intervals late, then catches up with
 * frames 3 ms apart, as the camera's pacer does (it restarts its schedule
 * only when more than two intervals behind). */
static void test_pacer_catch_up(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    for (int burst = 0; burst < 100; burst++) {
        run_jittered(&run, &at, 30, 20, 5);
        uint64_t late = at + 1000000u / 30 + (uint64_t)(random_next() % 66000u);
        at += 1000000u / 30;
        while (late > at) { /* frames behind schedule go 3 ms apart */
            run_frame(&run, late);
            late += 3000u;
            at += 1000000u / 30;
        }
    }
    print_message("catch-up: worst drift %.1f ms\n", (double)run.worst_drift / TICKS_PER_MS);
    assert_true(run.worst_drift <= 60 * TICKS_PER_MS);
    assert_int_equal(run.timeline.clock_steps, 0);
}

/* Worse: five frames with (nearly) the same capture time after a gap of
 * five intervals. The frames stay in their windows and the drift is back
 * under a frame interval within twenty frames. */
static void test_bursts(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    for (int burst = 0; burst < 50; burst++) {
        run_jittered(&run, &at, 30, 30, 5);
        uint64_t late = at + 1000000u / 30 * 5;
        run.settle = 25;
        for (int i = 0; i < 5; i++)
            run_frame(&run, late + (uint64_t)(i / 2) * 1000u);
        at += 1000000u / 30 * 5;
    }
    run_jittered(&run, &at, 30, 30, 5);
    print_message("bursts: worst drift %.1f ms\n", (double)run.worst_drift / TICKS_PER_MS);
    assert_true(run.worst_drift <= 3000);
}

/* The doorbell stalls for a second, ten times: the frame after the stall is
 * not a discontinuity and the one after that is back on the capture clock. */
static void test_one_second_stall(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    for (int stall = 0; stall < 10; stall++) {
        run_jittered(&run, &at, 30, 60, 10);
        at += 1000000u;
        run.settle = 1;
        run_jittered(&run, &at, 30, 1, 0);
        run_jittered(&run, &at, 30, 1, 0);
        assert_true(llabs(run.timeline.drift) <= 1);
    }
    assert_true(run.worst_drift <= 30 * TICKS_PER_MS);
    assert_int_equal(run.timeline.clock_steps, 0);
}

/* The capture clock steps back two seconds, then forward a minute (a
 * reconnect after an outage): the epoch moves, the frames stay in their
 * windows and on the clock that audio reads. */
static void test_clock_steps(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    run_jittered(&run, &at, 30, 90, 10);
    at -= 2000000u;
    run_jittered(&run, &at, 30, 90, 10);
    assert_int_equal(run.timeline.clock_steps, 1);
    at += 60000000u;
    run_jittered(&run, &at, 30, 90, 10);
    assert_int_equal(run.timeline.clock_steps, 2);
    assert_true(run.worst_drift <= 30 * TICKS_PER_MS);
}

/* A small step back (100 ms) is absorbed without moving the epoch, with
 * the drift back under a frame interval within fifteen frames. */
static void test_small_step_back(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    run_jittered(&run, &at, 30, 60, 0);
    at -= 100000u;
    run.settle = 15;
    run_jittered(&run, &at, 30, 60, 0);
    assert_int_equal(run.timeline.clock_steps, 0);
    assert_true(run.worst_drift <= 3000);
}

/* The doorbell changes from 30 to 15 fps without saying so (adaptive
 * quality): the interval estimate follows and the drift settles. */
static void test_rate_change(void **state)
{
    struct run run;
    uint64_t at = START_US;
    (void)state;
    run_start(&run, 30);
    run_frame(&run, at);
    run_jittered(&run, &at, 30, 120, 10);
    run.settle = 60;
    run_jittered(&run, &at, 15, 300, 10);
    assert_true(run.timeline.interval > 5800 && run.timeline.interval < 6200);
    assert_true(run.worst_drift <= 30 * TICKS_PER_MS);
    live_timeline_set_rate(&run.timeline, 30);
    assert_int_equal(run.timeline.interval, 3000);
}

/* Capture times a broken doorbell could send (0, the largest number,
 * back and forth between them): every frame still lands in its window. */
static void test_absurd_capture_times(void **state)
{
    static const uint64_t times[] = {0, UINT64_MAX, 1,        UINT64_MAX / 2, UINT64_C(1) << 62,
                                     0, START_US,   START_US, UINT64_MAX,     START_US + 1};
    struct run run;
    (void)state;
    run_start(&run, 30);
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
            run_frame(&run, times[i]);
    assert_true(run.frames == 200);
}

/* Audio before the first frame has no epoch; after it, capture times map on
 * the same epoch, 0 before it. */
static void test_audio_epoch(void **state)
{
    struct live_timeline timeline;
    uint64_t dts;
    uint32_t duration;
    (void)state;
    live_timeline_init(&timeline, 90000, 30);
    assert_false(live_timeline_started(&timeline));
    assert_int_equal(live_timeline_capture_time(&timeline, START_US, 48000), 0);
    live_timeline_place(&timeline, START_US, &dts, &duration);
    assert_int_equal(dts, 0);
    assert_int_equal(duration, 2000);
    assert_true(live_timeline_started(&timeline));
    assert_int_equal(live_timeline_capture_time(&timeline, START_US + 20000, 48000), 960);
    assert_int_equal(live_timeline_capture_time(&timeline, START_US - 20000, 48000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_rate_follows_capture_clock),
        cmocka_unit_test(test_jitter_30_fps),
        cmocka_unit_test(test_jitter_15_fps),
        cmocka_unit_test(test_pacer_catch_up),
        cmocka_unit_test(test_bursts),
        cmocka_unit_test(test_one_second_stall),
        cmocka_unit_test(test_clock_steps),
        cmocka_unit_test(test_small_step_back),
        cmocka_unit_test(test_rate_change),
        cmocka_unit_test(test_absurd_capture_times),
        cmocka_unit_test(test_audio_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
