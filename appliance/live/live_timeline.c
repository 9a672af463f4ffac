/*
 * live_timeline.c - decode times and durations of live video frames (see
 * live_timeline.h for why every next frame must land inside a window).
 *
 * After placing a frame at dts we know how far the video timeline is from
 * the capture clock (drift = dts - capture-clock dts) and the frame interval
 * (the doorbell's nominal rate, re-measured when it changes). The next frame
 * is aimed at expected = interval - gain * drift ticks after dts, and this frame
 * declares duration = 2/3 of expected, so the window [dts + duration,
 * dts + 2 * duration) runs from 2/3 to 4/3 of expected: a capture interval
 * 1/3 off the average still lands inside without clamping. The next frame
 * then goes to its aim moved by gain times the capture interval's error,
 * clamped into the window.
 *
 * The gain is 1/4 while the drift is under two frame intervals: the picture
 * follows a quarter of each frame's capture jitter, so frames on screen stay
 * at least ~2/3 of an interval apart (a compositor at 60 Hz shows each
 * one) and the drift stays within a few tens of milliseconds with +-20 ms of
 * jitter (tests/unit/test_live_timeline.c). A larger drift is a stall or a
 * burst, not jitter; then the gain is 1 and the next frame goes straight to
 * its capture time, so audio is back in step after one frame. A capture
 * clock that steps back more than LIVE_TIMELINE_STEP_BACK_US, or forward more
 * than LIVE_TIMELINE_STEP_FORWARD_US (a reconnect after a long outage), moves
 * the epoch instead: the frame goes where it was expected and the capture
 * clock is re-read from there, so the picture neither freezes on one frame
 * for the length of the step nor races through it; audio follows the same
 * epoch.
 */
#include "live/live_timeline.h"

#define LIVE_TIMELINE_STEP_BACK_US    250000
#define LIVE_TIMELINE_STEP_FORWARD_US 5000000
#define LIVE_TIMELINE_BLOCK           32                 /* frames per interval measurement */
#define LIVE_TIMELINE_MAX_US          (INT64_C(1) << 42) /* ~50 days: no overflow below */

/* Microseconds as ticks of timescale, rounded down (also when negative). */
static int64_t live_timeline_ticks(int64_t us, uint32_t timescale)
{
    int64_t seconds, rest;

    if (us > LIVE_TIMELINE_MAX_US)
        us = LIVE_TIMELINE_MAX_US;
    if (us < -LIVE_TIMELINE_MAX_US)
        us = -LIVE_TIMELINE_MAX_US;
    seconds = us / 1000000;
    rest = us % 1000000;
    if (rest < 0) {
        rest += 1000000;
        seconds--;
    }
    return seconds * timescale + rest * timescale / 1000000;
}

/* A capture time from the doorbell as a signed number, limited to 2^62 µs
 * (beyond year 100000) so differences cannot overflow. */
static int64_t live_timeline_capture_us(uint64_t capture_us)
{
    return capture_us > (UINT64_C(1) << 62) ? INT64_C(1) << 62 : (int64_t)capture_us;
}

/* Ticks as microseconds, rounded down; ticks >= 0. */
static int64_t live_timeline_us(int64_t ticks, uint32_t timescale)
{
    return ticks / timescale * 1000000 + ticks % timescale * 1000000 / timescale;
}

void live_timeline_init(struct live_timeline *timeline, uint32_t timescale, int fps)
{
    *timeline = (struct live_timeline){.timescale = timescale, .gain_quarters = 1};
    live_timeline_set_rate(timeline, fps);
}

void live_timeline_set_rate(struct live_timeline *timeline, int fps)
{
    if (fps < 1 || fps > 120)
        fps = 30;
    timeline->interval = timeline->timescale / fps;
    timeline->block_frames = 0;
}

void live_timeline_set_epoch(struct live_timeline *timeline, int64_t epoch_us)
{
    timeline->epoch_us = epoch_us;
    timeline->have_epoch = 1;
}

void live_timeline_restart(struct live_timeline *timeline)
{
    timeline->have_frame = 0;
    timeline->block_frames = 0;
}

int live_timeline_started(const struct live_timeline *timeline)
{
    return timeline->have_epoch;
}

uint64_t live_timeline_capture_time(const struct live_timeline *timeline, uint64_t capture_us,
                                    uint32_t timescale)
{
    int64_t ticks;

    if (!timeline->have_epoch)
        return 0;
    ticks =
        live_timeline_ticks(live_timeline_capture_us(capture_us) - timeline->epoch_us, timescale);
    return ticks > 0 ? (uint64_t)ticks : 0;
}

/* Notice a change of frame rate the doorbell did not announce (an admin's
 * set_video asks for fewer frames): measure the rate over blocks of
 * LIVE_TIMELINE_BLOCK frames and take it, as whole frames per second, when
 * it is more than a quarter off the current one. Jitter, bursts of a camera
 * catching up and a stall now and then move a block's rate far less, and a
 * block with a stall in it (an interval over four times the current one)
 * is not used at all. */
static void live_timeline_learn_interval(struct live_timeline *timeline, int64_t capture)
{
    int64_t observed = capture - timeline->capture_dts, span;
    int fps, measured;

    if (timeline->block_frames == 0) {
        timeline->block_start = timeline->capture_dts;
        timeline->block_longest = 0;
    }
    timeline->block_frames++;
    if (observed > timeline->block_longest)
        timeline->block_longest = observed;
    if (timeline->block_frames < LIVE_TIMELINE_BLOCK)
        return;
    timeline->block_frames = 0;
    span = capture - timeline->block_start;
    if (timeline->block_longest > 4 * timeline->interval || span <= 0)
        return;
    fps = (int)(timeline->timescale / timeline->interval);
    measured = (int)(((int64_t)timeline->timescale * LIVE_TIMELINE_BLOCK + span / 2) / span);
    if (4 * measured > 5 * fps || 5 * measured < 4 * fps)
        live_timeline_set_rate(timeline, measured < 1 ? 1 : measured > 120 ? 120 : measured);
}

/* The frame at dts is placed: work out the aim and the duration it
 * declares for the next one. */
static void live_timeline_aim(struct live_timeline *timeline)
{
    int64_t drift = timeline->drift, floor = timeline->interval / 4;

    timeline->gain_quarters =
        drift > 2 * timeline->interval || drift < -2 * timeline->interval ? 4 : 1;
    timeline->expected = timeline->interval - drift * timeline->gain_quarters / 4;
    if (timeline->expected < floor)
        timeline->expected = floor;
    timeline->duration = timeline->expected * 2 / 3;
    if (timeline->duration < 1)
        timeline->duration = 1;
    if (timeline->duration > UINT32_MAX / 2)
        timeline->duration = UINT32_MAX / 2;
}

void live_timeline_place(struct live_timeline *timeline, uint64_t capture_us, uint64_t *dts_out,
                         uint32_t *duration_out)
{
    uint32_t timescale = timeline->timescale;
    int64_t capture, dts, low, high, now_us = live_timeline_capture_us(capture_us);

    if (!timeline->have_epoch) {
        timeline->epoch_us = now_us;
        timeline->have_epoch = 1;
    }
    capture = live_timeline_ticks(now_us - timeline->epoch_us, timescale);
    if (!timeline->have_frame) {
        dts = capture > 0 ? capture : 0;
        timeline->have_frame = 1;
    } else {
        low = timeline->dts + timeline->duration;
        high = timeline->dts + 2 * timeline->duration - 1;
        if (capture - timeline->capture_dts <
                -live_timeline_ticks(LIVE_TIMELINE_STEP_BACK_US, timescale) ||
            capture - timeline->dts >
                live_timeline_ticks(LIVE_TIMELINE_STEP_FORWARD_US, timescale)) {
            /* The capture clock stepped: re-read it from where this frame goes. */
            dts = timeline->dts + timeline->expected;
            if (dts < low || dts > high)
                dts = low;
            timeline->epoch_us = now_us - live_timeline_us(dts, timescale);
            capture = dts;
            timeline->clock_steps++;
            timeline->block_frames = 0;
        } else {
            int64_t error = capture - timeline->capture_dts - timeline->interval;
            dts = timeline->dts + timeline->expected + error * timeline->gain_quarters / 4;
            if (dts < low)
                dts = low;
            if (dts > high)
                dts = high;
            live_timeline_learn_interval(timeline, capture);
        }
    }
    timeline->dts = dts;
    timeline->capture_dts = capture;
    timeline->drift = dts - capture;
    live_timeline_aim(timeline);
    *dts_out = (uint64_t)dts;
    *duration_out = (uint32_t)timeline->duration;
}
