/*
 * recorder.h - 24/7 recording of one doorbell: its access units and Opus
 * packets become fragmented-MP4 segment files under data_dir/recordings,
 * indexed in the recordings table.
 *
 * Threads: the doorbell's link thread pushes media (copied into a bounded
 * queue, never blocking); the recorder's own thread writes, fsyncs and
 * updates the index, so slow disks never slow the link or live view. The
 * link thread wakes it about five times a second, not at every frame
 * (RECORDER_WAKE_US in recorder_internal.h).
 * recorder->lock guards the queue and the counters; it is a leaf in the
 * hub's lock order (devices/device_registry.h): taken inside an entry lock
 * by HTTP threads reading the counters, never around a call out. The
 * recorder thread's state (below) is its own and needs no lock.
 *
 * Crash safety: create file + init segment, fsync file and directory, insert
 * the 'open' row; append a fragment at each keyframe or each second, fdatasync
 * once a second and only then record the durable length in the row; close
 * with a final sync and mark the row 'closed'. A crash loses at most the
 * last unsynced second (plus the one being gathered); reconcile.c repairs the
 * rest at start-up.
 *
 * Event mode: between clips the recorder thread keeps the last pre-roll
 * seconds of compressed packets in a ring that starts on a keyframe (never
 * decoded frames); a trigger opens an 'event' segment that starts with the
 * ring and ends post-roll seconds after the last trigger.
 */
#ifndef DOORSTEP_RECORDER_H
#define DOORSTEP_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "media/h264.h"

#define RECORDER_SEGMENT_SECONDS 60 /* default segment length, cut on a keyframe */
#define RECORDER_QUEUE_BYTES     (16u * 1024u * 1024u)

struct recorder;

/* What a recorder keeps (table recording_settings). */
enum recorder_mode {
    RECORDER_CONTINUOUS, /* 24/7; events only reference the footage */
    RECORDER_EVENTS,     /* event clips only: pre-roll + event + post-roll */
    RECORDER_OFF,
};

struct recorder_settings {
    enum recorder_mode mode;
    int pre_roll_seconds;  /* held as compressed packets, from a keyframe */
    int post_roll_seconds; /* after the last trigger of the event */
};

/*
 * The recorder thread's states. recorder.c moves between them only through
 * recorder_enter(), which in debug builds checks each arrow against this
 * diagram and that a segment file is open exactly while RECORDING.
 *
 *               recorder_start()
 *                      |
 *                      v
 *      +---------->  WAITING  --- a keyframe with SPS and PPS: file, ----> RECORDING
 *      |              |   ^       init segment and 'open' row synced       |     |
 *      |              |   |                                                |     |
 *      |              |   +--- cut: segment length, new SPS/PPS, mode -----+     |
 *      |              |        change, clip over, link lost: flushed,            |
 *      | RETRY_MS     |        synced, row 'closed'                              |
 *      | passed       | a keyframe, and no segment could open                    |
 *      |              v                                                          |
 *      +----------- BACKOFF  <--- a write or sync failed: what is durable -------+
 *                    |   ^        stays, the segment is closed
 *                    +---+ a keyframe before RETRY_MS passed (waits anew)
 *
 *      WAITING or BACKOFF --- the thread ends (the last recorder_release(); an open
 *      segment was first written and closed) ---> STOPPED
 *
 * WAITING: no segment open; continuous mode opens one at the next keyframe,
 * events mode keeps the pre-roll ring (recorder_ring.h) until a trigger.
 * RECORDING: a segment (24/7 or an event clip) is open and written.
 * BACKOFF: no segment opens before retry_after (a full disk or database is
 * not retried at every frame). STOPPED: the last recorder_release() may free it.
 * stats.recording mirrors RECORDING for other threads.
 */
enum recorder_state {
    RECORDER_STATE_WAITING,
    RECORDER_STATE_RECORDING,
    RECORDER_STATE_BACKOFF,
    RECORDER_STATE_STOPPED,
};

#define RECORDER_PRE_ROLL_MAX_BYTES (32u * 1024u * 1024u) /* cap on the pre-roll ring */

struct recorder_stats {
    uint64_t video_frames, audio_packets; /* written */
    uint64_t dropped_frames;              /* the queue was full or a write failed */
    uint64_t segments;                    /* opened since start */
    uint64_t write_errors;
    int recording; /* a segment is open */
    char last_error[128];
    char problem[24]; /* why recording is failing now: "disk_full", "database_full",
                         "write_error", "database_error"; "" once a segment opens again */
};

/* Start recording a doorbell into recordings_dir/<device>/... NULL on failure. */
struct recorder *recorder_start(const char *recordings_dir, const char *device_id,
                                int segment_seconds, const struct recorder_settings *settings);

/* Any thread: change the mode or the pre/post-roll; applies from the next frame. */
void recorder_configure(struct recorder *recorder, const struct recorder_settings *settings);

/* Link thread: an event is happening now. In events mode a clip starts with
 * the pre-roll (or goes on) and lasts until post-roll after the latest
 * frame at the time of the newest trigger; other modes ignore it. */
void recorder_trigger_event(struct recorder *recorder);

/* Link thread: the doorbell (re)connected and will send this many Opus channels. */
void recorder_set_audio(struct recorder *recorder, int channels);

/* Link thread: queue one converted access unit (copied). */
void recorder_push_video(struct recorder *recorder, const struct h264_access_unit *unit,
                         uint64_t capture_us);

/* Link thread: queue one Opus packet of `samples` 48 kHz samples (copied). */
void recorder_push_audio(struct recorder *recorder, const uint8_t *packet, size_t size, int samples,
                         uint64_t capture_us);

/* Any thread (a talk queue's sender): the doorbell's speaker plays count
 * 48 kHz mono samples from wall time play_us on (recording/heard_audio.h);
 * the recorder mixes them into the recorded audio of that time. 0, or -1
 * when out of memory. */
int recorder_hear(struct recorder *recorder, const int16_t *pcm, unsigned count, uint64_t play_us);

/* Any thread: the doorbell's speaker plays the quick reply clip
 * (common/reply_clip.h, copied) from wall time play_us on, cutting off one
 * still playing; mixed into the recording as it goes. 0, or -1 when it is
 * not a clip or memory ran out. */
int recorder_hear_clip(struct recorder *recorder, const uint8_t *clip, size_t size,
                       uint64_t play_us);

/* Link thread: the doorbell went away; close the segment (the gap is real).
 * The next segment starts at its next keyframe. */
void recorder_end_segment(struct recorder *recorder);

void recorder_get_stats(struct recorder *recorder, struct recorder_stats *out);

/* Any thread: one more hold on the recorder, for a link thread that pushes
 * to it after letting go of the entry lock. */
void recorder_retain(struct recorder *recorder);

/* Any thread: drop a hold (recorder_start() returns the first one). The last
 * one writes what is queued, closes the segment, stops the thread and frees
 * the recorder; that may take a while, so hold no lock. NULL is a no-op. */
void recorder_release(struct recorder *recorder);

#endif
