/*
 * speaker_history.h - what the doorbell's speaker played and when: the
 * hand-over between the playback thread, which appends each 20 ms it writes
 * to the speaker with the CLOCK_REALTIME at which its first sample leaves
 * the speaker, and the capture thread, which reads back the speaker's
 * samples for the instants its microphone frames were captured (the echo
 * canceller's reference; the simulated room's sound).
 *
 * Threads: speaker_history_append() is called by the playback thread
 * ("audio-spk") only; speaker_history_read() by the capture thread
 * ("audio-mic"); create and destroy by the owner (doorbell.c) before either
 * thread starts and after both have stopped.
 *
 * Locks: `lock` (in speaker_history.c) guards the ring and its time line;
 * it is held only to copy samples in or out, never while calling out.
 * `appended` (a condition variable on it) wakes a capture thread waiting
 * in speaker_history_wait() for the playback thread to catch up.
 *
 * Ownership: the history is created by speaker_history_create() and freed
 * by speaker_history_destroy(); readers get copies.
 *
 * Time line: the samples form one continuous stream on the speaker's sample
 * clock, anchored at a (position, time) pair. A frame whose play time is
 * within SPEAKER_HISTORY_SLACK_US of where the stream says it should be
 * continues the stream (the estimates' jitter does not shift the reference
 * sample by sample); one that comes later (an underrun, a stall) is
 * preceded by silence up to its time; one that comes earlier re-anchors the
 * stream and forgets everything before it.
 */
#ifndef DOORSTEP_SPEAKER_HISTORY_H
#define DOORSTEP_SPEAKER_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define SPEAKER_HISTORY_DEFAULT_MS 1000
#define SPEAKER_HISTORY_SLACK_US   5000

struct speaker_history;

/* What speaker_history_get_stats() reports. */
struct speaker_history_stats {
    uint64_t frames_appended; /* samples appended (mono, 48 kHz) */
    uint64_t gaps;            /* times silence was inserted before a late frame */
    uint64_t anchors;         /* times the time line was anchored afresh */
};

/* A history holding the last `milliseconds` of the speaker (at least 100).
 * NULL if out of memory. Free with speaker_history_destroy(). */
struct speaker_history *speaker_history_create(int milliseconds);

/* Free the history. NULL is a no-op. */
void speaker_history_destroy(struct speaker_history *history);

/* Append `frames` mono samples whose first leaves the speaker at
 * play_time_us (CLOCK_REALTIME). Playback thread. */
void speaker_history_append(struct speaker_history *history, const int16_t *samples, size_t frames,
                            uint64_t play_time_us);

/* Copy into out the `frames` samples the speaker played from start_time_us
 * (CLOCK_REALTIME) on; instants it has no sample for (before the history,
 * not yet written) are silence. Returns how many samples were found. */
size_t speaker_history_read(struct speaker_history *history, uint64_t start_time_us, int16_t *out,
                            size_t frames);

/* Wait (capture thread) until the history holds what the speaker plays up
 * to end_time_us, at most timeout_ms: the playback thread may run late on a
 * busy machine. 1 if it does, 0 on timeout. Returns at once while the
 * history is empty (no speaker yet). */
int speaker_history_wait(struct speaker_history *history, uint64_t end_time_us, int timeout_ms);

/* Copy the counters. Any thread. */
void speaker_history_get_stats(struct speaker_history *history,
                               struct speaker_history_stats *stats);

#endif
