/*
 * live_timeline.h - the decode times and declared durations of one live
 * stream's video frames, mapped from the doorbell's capture clock.
 *
 * A live fragment goes out before the next frame exists, so each frame's
 * duration is a promise about where the next one will start. Chromium's
 * Media Source coded-frame processing drops every frame up to the next
 * keyframe when a frame starts more than twice the previous duration after
 * the previous one (a "discontinuity"), and a frame that starts inside the
 * previous one overlaps it. Capture times jitter (a busy doorbell or hub, a
 * Wi-Fi link), so the timeline does not copy them: it keeps every next frame
 * inside [dts + duration, dts + 2 * duration) and steers towards the capture
 * clock (see live_timeline.c), so audio, whose decode times come from the
 * same clock and epoch, stays in step.
 *
 * Pure computation, no locks: the owner (live_stream.c, under its lock)
 * serialises calls. Owns nothing.
 */
#ifndef DOORSTEP_LIVE_TIMELINE_H
#define DOORSTEP_LIVE_TIMELINE_H

#include <stdint.h>

struct live_timeline {
    uint32_t timescale;    /* video ticks per second */
    int64_t epoch_us;      /* capture time of decode time 0; moves only on clock steps */
    int64_t interval;      /* estimated frame interval, ticks */
    int64_t dts;           /* the last frame's decode time */
    int64_t duration;      /* the last frame's declared duration */
    int64_t expected;      /* where the next frame is aimed, ticks after dts */
    int64_t drift;         /* dts - capture-clock decode time of the last frame */
    int64_t capture_dts;   /* capture-clock decode time of the last frame */
    int gain_quarters;     /* how much of the capture clock the next frame follows: 1 or 4 */
    int64_t block_start;   /* capture-clock decode time where the interval block began */
    int64_t block_longest; /* the longest capture interval in the block */
    int block_frames;      /* frames in the block so far */
    int have_epoch, have_frame;
    uint64_t clock_steps; /* times the epoch moved */
};

/* Start empty, at a nominal rate of fps (1..120). */
void live_timeline_init(struct live_timeline *timeline, uint32_t timescale, int fps);

/* The doorbell announced a (new) nominal rate: the interval estimate starts
 * there again. The decode times go on where they were. */
void live_timeline_set_rate(struct live_timeline *timeline, int fps);

/*
 * Place the next video frame, captured at capture_us (microseconds of the
 * doorbell's clock): its decode time (>= 0) and the duration to declare for
 * it, in video ticks. The first frame fixes the epoch. For every frame after
 * the first, dts is in [previous dts + previous duration, previous dts +
 * 2 * previous duration).
 */
void live_timeline_place(struct live_timeline *timeline, uint64_t capture_us, uint64_t *dts,
                         uint32_t *duration);

/* Decode time of capture_us in another timescale (audio), on the same epoch;
 * 0 before the epoch. The caller keeps its own track monotonic. */
uint64_t live_timeline_capture_time(const struct live_timeline *timeline, uint64_t capture_us,
                                    uint32_t timescale);

/* Another timeline's epoch (a sub-stream follows its main stream's): decode
 * times of this one are then on the same clock. */
void live_timeline_set_epoch(struct live_timeline *timeline, int64_t epoch_us);

/* The next frame starts a new run: it goes to its capture time (after a
 * pause of the stream) instead of after the previous frame. */
void live_timeline_restart(struct live_timeline *timeline);

/* Has the first frame fixed the epoch? */
int live_timeline_started(const struct live_timeline *timeline);

#endif
