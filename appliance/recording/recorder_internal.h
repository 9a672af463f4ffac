/*
 * recorder_internal.h - the recorder's private state, shared by the files
 * that make up the recorder: recorder.c (queue, thread, segments,
 * fragments) and recorder_index.c (index rows and failure notes). Nothing
 * outside appliance/recording/recorder*.c includes this; everyone else uses
 * recorder.h.
 *
 * Threads, locks and ownership: see struct recorder below and recorder.h.
 */
#ifndef DOORSTEP_RECORDER_INTERNAL_H
#define DOORSTEP_RECORDER_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buffer.h"
#include "common/link_protocol.h"
#include "media/fmp4.h"
#include "media/h264.h"
#include "recording/heard_audio.h"
#include "recording/recorder.h"
#include "recording/recorder_mix.h"
#include "recording/recorder_ring.h"
#include "recording/recording_store.h"
#include "recording/segment_writer.h"

#define RECORDER_MAX_PENDING 512    /* samples per track in one fragment */
#define RECORDER_FRAGMENT_US 250000 /* at most this much is in memory only (kill -9 bound) */
/* The link thread wakes the recorder thread once the items queued since the
 * last wake span this much capture time (or at a keyframe or a segment's
 * end), not at every frame: a wake-up is a futex call and two context
 * switches, which cost more than recording the frame. Frames wait at most
 * this much longer before they are gathered, so the kill -9 bound becomes
 * RECORDER_FRAGMENT_US + RECORDER_WAKE_US (0.45 s). */
#define RECORDER_WAKE_US     200000
#define RECORDER_SYNC_MS     1000
#define RECORDER_RETRY_MS    1000
#define RECORDER_PATH_MAX    4096
#define RECORDER_PENDING_MAX (64u * 1024u * 1024u) /* bytes per track in one fragment */

/* Samples gathered for the next fragment of one track. */
struct recorder_pending {
    struct fmp4_sample samples[RECORDER_MAX_PENDING];
    uint64_t capture_us[RECORDER_MAX_PENDING];
    int count;
    struct byte_buffer data;
};

struct recorder {
    pthread_mutex_t lock; /* guards the queue, counters, audio_channels, stopping,
                             settings, trigger_pending */
    pthread_cond_t wake;
    struct recorder_item *head, *tail;
    size_t queued_bytes;
    int waiting_for_keyframe;
    int stopping;
    int audio_channels;
    struct recorder_stats stats;
    struct recorder_settings settings;
    int trigger_pending;       /* recorder_trigger_event() since the recorder thread last looked */
    int unwoken_items;         /* queued since the last signal of wake */
    uint64_t unwoken_since_us; /* the capture time of the first of them */
    atomic_int holds;          /* recorder_start()'s hold plus one per recorder_retain() */

    /* Constant after start. */
    char directory[RECORDER_PATH_MAX];
    char device_id[LINK_DEVICE_ID_MAX];
    int segment_seconds;
    pthread_t thread;

    /* Recorder thread only (read by the last recorder_release() after the join). */
    enum recorder_state state;     /* see the diagram in recorder.h */
    struct segment_writer *writer; /* open exactly in RECORDER_STATE_RECORDING */
    struct recording_row row;
    uint64_t segment_start_us;
    uint8_t sps[H264_MAX_PARAMETER_SET], pps[H264_MAX_PARAMETER_SET];
    size_t sps_size, pps_size;
    int segment_audio;
    struct recorder_pending video, audio;
    uint64_t video_end_dts, audio_end_dts;
    int64_t last_sync_ms, retry_after_ms; /* the latter ends RECORDER_STATE_BACKOFF */
    char forget_path[RECORDING_PATH_MAX]; /* an empty segment whose row could not go yet */
    struct recording_row unclosed;        /* a closed segment whose row could not say so yet */
    uint8_t *unclosed_index;              /* its keyframe index (owned) */
    int has_unclosed;
    int segment_is_event;      /* the open segment is an event clip */
    int next_segment_is_event; /* class of the next segment opened */
    uint64_t clip_until_us;    /* events mode: record until this capture time */
    struct recorder_ring ring; /* pre-roll, starts on a keyframe */
    struct recorder_mix mix;   /* talk-back mixed into the audio */

    /* What the doorbell's speaker played; its own lock (heard_audio.h). */
    struct heard_audio heard;
};

/* recorder_index.c: recorder thread only. */

/* Note a failure for the stats and the log: what failed, why (text) and the
 * problem it is (see struct recorder_stats). */
void recorder_fail_because(struct recorder *recorder, const char *what, const char *reason,
                           const char *problem);
/* A file operation failed with errno error. */
void recorder_fail(struct recorder *recorder, const char *what, int error);
/* A statement on db failed (db may be NULL). */
void recorder_fail_database(struct recorder *recorder, const char *what, sqlite3 *db);
/* Forget an empty segment, row first, then file. 0 or -1 (file kept). */
int recorder_forget(struct recorder *recorder, const char *path);
/* Finish what a full database left undone. 0 when nothing is left, -1 to retry later. */
int recorder_tidy(struct recorder *recorder);
/* Record the open segment's durable progress (or, closed, its end) in its row. */
void recorder_update_row(struct recorder *recorder, const struct segment_summary *summary,
                         int closed);

#endif
