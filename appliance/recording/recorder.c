/*
 * recorder.c - one doorbell's 24/7 recorder (see recorder.h for threads,
 * locks and the crash-safety order).
 *
 * The recorder thread gathers frames until the next keyframe or for at most
 * a second, then writes them as one video fragment (and the Opus packets of
 * the same time as one audio fragment). Sample durations come from the
 * capture times of consecutive frames (each sample ends where the next
 * begins, with jittered capture times too), and decode times
 * count from the segment's first keyframe (a file always starts at 0; the
 * wall-clock start is in the index). The index rows and failure notes are
 * in recorder_index.c; the state both share is in recorder_internal.h.
 */
#define LOG_MODULE "recording"

#include "recording/recorder.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "media/fmp4.h"
#include "recording/heard_audio.h"
#include "recording/recorder_internal.h"
#include "recording/recorder_mix.h"
#include "recording/recorder_ring.h"
#include "recording/recording_store.h"
#include "recording/segment_writer.h"
#include "storage/database.h"

/* Recorder thread: move to state next. Debug builds check the arrow against
 * recorder.h's diagram, and that a writer is open exactly while recording. */
static void recorder_enter(struct recorder *recorder, enum recorder_state next)
{
#ifdef DOORSTEP_DEBUG
#define RECORDER_ARROW(state) (1u << RECORDER_STATE_##state)
    static const unsigned arrows[] = {
        [RECORDER_STATE_WAITING] =
            RECORDER_ARROW(RECORDING) | RECORDER_ARROW(BACKOFF) | RECORDER_ARROW(STOPPED),
        [RECORDER_STATE_RECORDING] = RECORDER_ARROW(WAITING) | RECORDER_ARROW(BACKOFF),
        [RECORDER_STATE_BACKOFF] =
            RECORDER_ARROW(WAITING) | RECORDER_ARROW(BACKOFF) | RECORDER_ARROW(STOPPED),
        [RECORDER_STATE_STOPPED] = 0,
    };
#undef RECORDER_ARROW
    assert(arrows[recorder->state] & 1u << next);
    assert((next == RECORDER_STATE_RECORDING) == (recorder->writer != NULL));
#endif
    recorder->state = next;
}

/* Wake the recorder thread for the item just queued if it is due (see
 * RECORDER_WAKE_US): a keyframe or a segment's end (a fragment is written
 * then), or the unwoken items span RECORDER_WAKE_US. Otherwise the item
 * waits for a later one, or for the thread's own 1 s timeout. Lock held. */
static void recorder_wake_if_due(struct recorder *recorder, const struct recorder_item *item)
{
    mutex_assert_held(&recorder->lock);
    if (recorder->unwoken_items++ == 0)
        recorder->unwoken_since_us = item->capture_us;
    if (item->is_end || (item->is_video && item->keyframe) ||
        item->capture_us < recorder->unwoken_since_us || /* the doorbell's clock went back */
        item->capture_us - recorder->unwoken_since_us >= RECORDER_WAKE_US) {
        recorder->unwoken_items = 0;
        pthread_cond_signal(&recorder->wake);
    }
}

/* Queue an item unless the queue is full; link thread. Takes ownership. */
static void recorder_enqueue(struct recorder *recorder, struct recorder_item *item)
{
    pthread_mutex_lock(&recorder->lock);
    if (item->is_end) {
        recorder->waiting_for_keyframe = 1; /* a new segment starts on a keyframe */
    } else if (item->is_video) {
        if (recorder->waiting_for_keyframe && !item->keyframe)
            goto drop;
        if (recorder->queued_bytes + item->size > RECORDER_QUEUE_BYTES) {
            /* The disk cannot keep up: skip to the next keyframe. */
            recorder->waiting_for_keyframe = 1;
            goto drop;
        }
        recorder->waiting_for_keyframe = 0;
    } else if (recorder->queued_bytes + item->size > RECORDER_QUEUE_BYTES) {
        pthread_mutex_unlock(&recorder->lock);
        free(item);
        return;
    }
    if (recorder->tail != NULL)
        recorder->tail->next = item;
    else
        recorder->head = item;
    recorder->tail = item;
    recorder->queued_bytes += item->size;
    recorder_wake_if_due(recorder, item);
    pthread_mutex_unlock(&recorder->lock);
    return;
drop:
    recorder->stats.dropped_frames++;
    pthread_mutex_unlock(&recorder->lock);
    free(item);
}

void recorder_push_video(struct recorder *recorder, const struct h264_access_unit *unit,
                         uint64_t capture_us)
{
    struct recorder_item *item = recorder_item_video(unit, capture_us);
    if (item != NULL)
        recorder_enqueue(recorder, item);
}

void recorder_push_audio(struct recorder *recorder, const uint8_t *packet, size_t size, int samples,
                         uint64_t capture_us)
{
    struct recorder_item *item = recorder_item_audio(packet, size, samples, capture_us);
    if (item != NULL)
        recorder_enqueue(recorder, item);
}

void recorder_end_segment(struct recorder *recorder)
{
    struct recorder_item *item = calloc(1, sizeof(*item));
    if (item == NULL)
        return;
    item->is_end = 1;
    recorder_enqueue(recorder, item);
}

int recorder_hear(struct recorder *recorder, const int16_t *pcm, unsigned count, uint64_t play_us)
{
    return heard_audio_add(&recorder->heard, pcm, count, play_us);
}

int recorder_hear_clip(struct recorder *recorder, const uint8_t *clip, size_t size,
                       uint64_t play_us)
{
    return heard_audio_play_clip(&recorder->heard, clip, size, play_us);
}

void recorder_set_audio(struct recorder *recorder, int channels)
{
    pthread_mutex_lock(&recorder->lock);
    recorder->audio_channels = channels;
    pthread_mutex_unlock(&recorder->lock);
}

void recorder_get_stats(struct recorder *recorder, struct recorder_stats *out)
{
    pthread_mutex_lock(&recorder->lock);
    *out = recorder->stats;
    pthread_mutex_unlock(&recorder->lock);
}

/* Close the open segment (after a final sync), mark its row closed, enter next. */
static void recorder_close_segment(struct recorder *recorder, enum recorder_state next)
{
    struct segment_summary summary;

    if (recorder->state != RECORDER_STATE_RECORDING)
        return;
    if (segment_writer_close(recorder->writer, &summary) != 0)
        recorder_fail(recorder, "closing the segment", summary.error ? summary.error : EIO);
    recorder->writer = NULL;
    recorder_enter(recorder, next);
    if (summary.video.samples == 0) {
        /* Nothing but an init segment (its first write failed): not worth
         * keeping. Row first, then file; a failure is retried by tidy. */
        if (recorder_forget(recorder, recorder->row.path) != 0)
            snprintf(recorder->forget_path, sizeof(recorder->forget_path), "%s",
                     recorder->row.path);
    } else {
        recorder_update_row(recorder, &summary, 1);
    }
    segment_summary_free(&summary);
    /* What was gathered for this segment goes with it (after a failed
     * write too: its bytes must not prefix the next segment's first fragment). */
    recorder->video.count = recorder->audio.count = 0;
    byte_buffer_reset(&recorder->video.data);
    byte_buffer_reset(&recorder->audio.data);
    pthread_mutex_lock(&recorder->lock);
    recorder->stats.recording = 0;
    pthread_mutex_unlock(&recorder->lock);
}

/* A write or sync failed: keep what is durable, stop this segment, try a new
 * one at a later keyframe. Never fatal for the hub (ENOSPC included). */
static void recorder_abandon_segment(struct recorder *recorder, const char *what)
{
    const struct segment_summary *progress = segment_writer_progress(recorder->writer);
    recorder_fail(recorder, what, progress && progress->error ? progress->error : EIO);
    recorder->retry_after_ms = clock_monotonic_ms() + RECORDER_RETRY_MS;
    recorder_close_segment(recorder, RECORDER_STATE_BACKOFF);
}

/* Open a segment that starts with this keyframe. 0 ok, -1 (retry later). */
static int recorder_open_segment(struct recorder *recorder, const struct recorder_item *item)
{
    struct fmp4_video_config video = {0};
    struct fmp4_audio_config audio = {0};
    struct h264_sps_info sps_info;
    char error[256], date[32], absolute[RECORDER_PATH_MAX + RECORDING_PATH_MAX];
    time_t seconds = (time_t)(item->capture_us / 1000000u);
    struct tm utc;
    int64_t id;
    sqlite3 *db;

    if (fmp4_video_config_from_sps(&video, &sps_info, item->data + item->size, item->sps_size,
                                   item->data + item->size + item->sps_size, item->pps_size, error,
                                   sizeof(error)) != 0)
        return -1;
    gmtime_r(&seconds, &utc);
    strftime(date, sizeof(date), "%Y-%m-%d/%H", &utc);
    memset(&recorder->row, 0, sizeof(recorder->row));
    recorder->row.is_event = recorder->next_segment_is_event;
    snprintf(recorder->row.device_id, sizeof(recorder->row.device_id), "%s", recorder->device_id);
    snprintf(recorder->row.path, sizeof(recorder->row.path), "%s/%s/%llu.mp4", recorder->device_id,
             date, (unsigned long long)(item->capture_us / 1000u));
    snprintf(absolute, sizeof(absolute), "%s/%s", recorder->directory, recorder->row.path);

    pthread_mutex_lock(&recorder->lock);
    recorder->segment_audio = recorder->audio_channels;
    pthread_mutex_unlock(&recorder->lock);
    audio.channels = recorder->segment_audio;
    audio.input_sample_rate = 48000;
    audio.pre_skip = 312;

    recorder->writer = segment_writer_create(
        absolute, &video, recorder->segment_audio > 0 ? &audio : NULL, error, sizeof(error));
    if (recorder->writer == NULL) {
        log_error("doorbell %s: cannot start a segment: %s", recorder->device_id, error);
        recorder_fail(recorder, "starting a segment", errno ? errno : EIO);
        return -1;
    }
    /* The file and its init segment are durable: now index it. */
    recorder->row.start_ms = recorder->row.end_ms = (int64_t)(item->capture_us / 1000u);
    recorder->row.width = sps_info.width;
    recorder->row.height = sps_info.height;
    recorder->row.bytes = (int64_t)segment_writer_progress(recorder->writer)->durable_bytes;
    db = database_thread_connection();
    if (db == NULL || recording_store_insert(db, &recorder->row, &id) != 0) {
        /* Unindexed, the file would be an orphan until start-up: give up on
         * it now; the next keyframe a second later tries again. */
        struct segment_summary summary;
        recorder_fail_database(recorder, "indexing a new segment", db);
        segment_writer_close(recorder->writer, &summary);
        segment_summary_free(&summary);
        recorder->writer = NULL;
        remove(absolute);
        return -1;
    }
    recorder->row.id = id;
    recorder_enter(recorder, RECORDER_STATE_RECORDING);
    recorder->segment_is_event = recorder->row.is_event;
    recorder->segment_start_us = item->capture_us;
    recorder->video_end_dts = recorder->audio_end_dts = 0;
    recorder->last_sync_ms = clock_monotonic_ms();
    memcpy(recorder->sps, video.sps, video.sps_size);
    memcpy(recorder->pps, video.pps, video.pps_size);
    recorder->sps_size = video.sps_size;
    recorder->pps_size = video.pps_size;
    pthread_mutex_lock(&recorder->lock);
    recorder->stats.segments++;
    recorder->stats.recording = 1;
    recorder->stats.problem[0] = '\0';
    pthread_mutex_unlock(&recorder->lock);
    log_info("doorbell %s: recording %s to %s", recorder->device_id,
             recorder->row.is_event ? "an event clip" : "24/7", recorder->row.path);
    return 0;
}

/* Decode time of a capture instant in this segment, in `timescale` units. */
static uint64_t recorder_decode_time(const struct recorder *recorder, uint64_t capture_us,
                                     uint32_t timescale)
{
    if (capture_us <= recorder->segment_start_us)
        return 0;
    return (capture_us - recorder->segment_start_us) * timescale / 1000000u;
}

/* Write the gathered samples as one fragment per track; the next video frame
 * (captured at next_us) fixes the last frame's duration. 0, or -1 on failure. */
static int recorder_flush(struct recorder *recorder, uint64_t next_us)
{
    struct recorder_pending *video = &recorder->video, *audio = &recorder->audio;
    uint64_t dts;

    if (video->count > 0) {
        /* Each sample lasts from its decode time to the next frame's, both
         * rounded the same way from the segment start, so consecutive
         * samples (and fragments) neither overlap nor leave a gap however
         * the capture times jitter. A frame captured before the one ahead
         * of it (the clock stepped back) or over a minute after it gets the
         * nominal duration. */
        uint64_t start, end;
        dts = recorder_decode_time(recorder, video->capture_us[0], FMP4_VIDEO_TIMESCALE);
        if (dts < recorder->video_end_dts)
            dts = recorder->video_end_dts; /* the doorbell's clock stepped back */
        start = dts;
        for (int i = 0; i < video->count; i++) {
            uint64_t next = i + 1 < video->count ? video->capture_us[i + 1] : next_us;
            end = recorder_decode_time(recorder, next, FMP4_VIDEO_TIMESCALE);
            video->samples[i].duration = end > start && end - start < FMP4_VIDEO_TIMESCALE * 60u
                                             ? (uint32_t)(end - start)
                                             : FMP4_VIDEO_TIMESCALE / 30u;
            start += video->samples[i].duration;
        }
        if (segment_writer_append(recorder->writer, FMP4_VIDEO_TRACK, dts, video->samples,
                                  video->count, byte_buffer_data(&video->data),
                                  byte_buffer_length(&video->data)) != 0)
            return -1;
        for (int i = 0; i < video->count; i++)
            dts += video->samples[i].duration;
        recorder->video_end_dts = dts;
        pthread_mutex_lock(&recorder->lock);
        recorder->stats.video_frames += (uint64_t)video->count;
        pthread_mutex_unlock(&recorder->lock);
    }
    if (audio->count > 0 && recorder->segment_audio > 0) {
        dts = recorder_decode_time(recorder, audio->capture_us[0], FMP4_AUDIO_TIMESCALE);
        if (dts < recorder->audio_end_dts)
            dts = recorder->audio_end_dts;
        if (segment_writer_append(recorder->writer, FMP4_AUDIO_TRACK, dts, audio->samples,
                                  audio->count, byte_buffer_data(&audio->data),
                                  byte_buffer_length(&audio->data)) != 0)
            return -1;
        for (int i = 0; i < audio->count; i++)
            dts += audio->samples[i].duration;
        recorder->audio_end_dts = dts;
        pthread_mutex_lock(&recorder->lock);
        recorder->stats.audio_packets += (uint64_t)audio->count;
        pthread_mutex_unlock(&recorder->lock);
    }
    video->count = audio->count = 0;
    byte_buffer_reset(&video->data);
    byte_buffer_reset(&audio->data);
    return 0;
}

/* Once a second: make the written fragments durable, then say so in the row. */
static void recorder_sync(struct recorder *recorder, int force)
{
    int64_t now = clock_monotonic_ms();

    if (recorder->state != RECORDER_STATE_RECORDING ||
        (!force && now - recorder->last_sync_ms < RECORDER_SYNC_MS))
        return;
    recorder->last_sync_ms = now;
    if (segment_writer_sync(recorder->writer) != 0) {
        recorder_abandon_segment(recorder, "fsync");
        return;
    }
    recorder_update_row(recorder, segment_writer_progress(recorder->writer), 0);
}

/* Add one sample (the item's, with the bytes data of size) to a pending fragment. */
static void recorder_gather(struct recorder_pending *pending, const struct recorder_item *item,
                            const uint8_t *data, size_t size, uint32_t duration)
{
    struct fmp4_sample *sample = &pending->samples[pending->count];

    sample->size = (uint32_t)size;
    sample->keyframe = item->is_video ? item->keyframe : 1;
    sample->duration = duration;
    pending->capture_us[pending->count++] = item->capture_us;
    /* Past RECORDER_PENDING_MAX or out of memory the payload no longer matches
     * the samples: the fragment is refused and the segment abandoned. */
    byte_buffer_add(&pending->data, data, size);
}

/* Recorder thread: one video frame. */
static void recorder_take_video(struct recorder *recorder, const struct recorder_item *item)
{
    struct recorder_pending *video = &recorder->video;
    int new_parameters =
        item->sps_size > 0 && item->pps_size > 0 &&
        (item->sps_size != recorder->sps_size || item->pps_size != recorder->pps_size ||
         memcmp(item->data + item->size, recorder->sps, item->sps_size) != 0 ||
         memcmp(item->data + item->size + item->sps_size, recorder->pps, item->pps_size) != 0);

    if (recorder->state == RECORDER_STATE_RECORDING && item->keyframe &&
        (new_parameters || item->capture_us - recorder->segment_start_us >=
                               (uint64_t)recorder->segment_seconds * 1000000u)) {
        /* Cut here: the next segment starts with this keyframe. */
        if (recorder_flush(recorder, item->capture_us) != 0)
            recorder_abandon_segment(recorder, "writing");
        else
            recorder_close_segment(recorder, RECORDER_STATE_WAITING);
    } else if (recorder->state == RECORDER_STATE_RECORDING && video->count > 0 &&
               (item->keyframe || video->count >= RECORDER_MAX_PENDING ||
                item->capture_us - video->capture_us[0] >= RECORDER_FRAGMENT_US)) {
        if (recorder_flush(recorder, item->capture_us) != 0) {
            recorder_abandon_segment(recorder, "writing");
            return;
        }
    }
    if (recorder->state == RECORDER_STATE_BACKOFF &&
        clock_monotonic_ms() >= recorder->retry_after_ms)
        recorder_enter(recorder, RECORDER_STATE_WAITING);
    if (recorder->state != RECORDER_STATE_RECORDING) {
        if (!item->keyframe || item->sps_size == 0 || item->pps_size == 0 ||
            recorder->state == RECORDER_STATE_BACKOFF || recorder_tidy(recorder) != 0 ||
            recorder_open_segment(recorder, item) != 0) {
            if (item->keyframe) {
                recorder->retry_after_ms = clock_monotonic_ms() + RECORDER_RETRY_MS;
                recorder_enter(recorder, RECORDER_STATE_BACKOFF);
            }
            return;
        }
    }
    recorder_gather(video, item, item->data, item->size, 0);
    recorder_sync(recorder, 0);
}

/* Recorder thread: one Opus packet. Audio joins the segment's timeline,
 * with what the doorbell's speaker played at the time mixed in. */
static void recorder_take_audio(struct recorder *recorder, const struct recorder_item *item)
{
    const uint8_t *packet;
    size_t size;

    if (recorder->state != RECORDER_STATE_RECORDING || recorder->segment_audio == 0 ||
        item->capture_us < recorder->segment_start_us ||
        recorder->audio.count >= RECORDER_MAX_PENDING)
        return;
    packet = recorder_mix_packet(&recorder->mix, &recorder->heard, recorder->segment_audio,
                                 item->data, item->size, item->samples, item->capture_us, &size);
    recorder_gather(&recorder->audio, item, packet, size, (uint32_t)item->samples);
}

/* Write what is gathered and close the segment; the last frame gets the
 * nominal duration (no next frame tells its real one). */
static void recorder_finish_segment(struct recorder *recorder, uint64_t last_capture)
{
    if (recorder->state != RECORDER_STATE_RECORDING)
        return;
    if (recorder_flush(recorder, last_capture + 1000000u / 30u) != 0)
        recorder_abandon_segment(recorder, "writing");
    else
        recorder_close_segment(recorder, RECORDER_STATE_WAITING);
}

/* Recorder thread: record one frame or packet into the open segment (or
 * open one at a keyframe). */
static void recorder_take(struct recorder *recorder, const struct recorder_item *item,
                          uint64_t *last_capture)
{
    if (item->is_video) {
        recorder_take_video(recorder, item);
        *last_capture = item->capture_us;
    } else {
        recorder_take_audio(recorder, item);
    }
}

/*
 * Recorder thread: what to do with one queued item, by mode. Returns 1 when
 * the item went into the pre-roll ring (which owns it now), 0 when the
 * caller frees it.
 */
static int recorder_route(struct recorder *recorder, struct recorder_item *item,
                          uint64_t *last_capture)
{
    struct recorder_settings settings;
    int triggered;

    pthread_mutex_lock(&recorder->lock);
    settings = recorder->settings;
    triggered = recorder->trigger_pending;
    recorder->trigger_pending = 0;
    pthread_mutex_unlock(&recorder->lock);

    if (item->is_end) { /* the link is gone: so is the clip */
        recorder_finish_segment(recorder, *last_capture);
        recorder_ring_clear(&recorder->ring);
        recorder->clip_until_us = 0;
        return 0;
    }
    recorder->next_segment_is_event = settings.mode == RECORDER_EVENTS;
    if (recorder->state == RECORDER_STATE_RECORDING &&
        (settings.mode == RECORDER_OFF ||
         recorder->segment_is_event != recorder->next_segment_is_event))
        recorder_finish_segment(recorder, *last_capture); /* the mode changed */
    if (settings.mode == RECORDER_OFF) {
        recorder_ring_clear(&recorder->ring);
        return 0;
    }
    if (settings.mode == RECORDER_CONTINUOUS) {
        recorder_ring_clear(&recorder->ring);
        recorder_take(recorder, item, last_capture);
        return 0;
    }

    if (triggered) {
        uint64_t until = item->capture_us + (uint64_t)settings.post_roll_seconds * 1000000u;
        if (until > recorder->clip_until_us)
            recorder->clip_until_us = until;
    }
    if (recorder->state == RECORDER_STATE_RECORDING) {
        /* In a clip: it ends at the first keyframe after its post-roll, which
         * then starts the next pre-roll. */
        if (!(item->is_video && item->keyframe && item->capture_us > recorder->clip_until_us)) {
            recorder_take(recorder, item, last_capture);
            return 0;
        }
        recorder_finish_segment(recorder, *last_capture);
    }
    if (recorder->clip_until_us > item->capture_us) {
        /* A clip starts: first the pre-roll, then this item. */
        while (recorder->ring.head != NULL) {
            struct recorder_item *held = recorder->ring.head;
            recorder_take(recorder, held, last_capture);
            recorder_ring_drop_head(&recorder->ring);
        }
        recorder_take(recorder, item, last_capture);
        return 0;
    }
    recorder_ring_keep(&recorder->ring, item, (uint64_t)settings.pre_roll_seconds * 1000000u);
    return 1;
}

/* The recorder thread. */
static void *recorder_thread(void *data)
{
    struct recorder *recorder = data;
    uint64_t last_capture = 0;
    /* Named so that top -H and perf tell the threads apart (else: the creator's name). */
    pthread_setname_np(pthread_self(), "recorder");

    for (;;) {
        struct recorder_item *item;
        struct timespec deadline;

        pthread_mutex_lock(&recorder->lock);
        while (recorder->head == NULL && !recorder->stopping) {
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += 1;
            if (pthread_cond_timedwait(&recorder->wake, &recorder->lock, &deadline) == ETIMEDOUT)
                break;
        }
        item = recorder->head;
        if (item != NULL) {
            recorder->head = item->next;
            if (recorder->head == NULL)
                recorder->tail = NULL;
            recorder->queued_bytes -= item->size;
        }
        if (item == NULL && recorder->stopping) {
            pthread_mutex_unlock(&recorder->lock);
            break;
        }
        pthread_mutex_unlock(&recorder->lock);

        if (item == NULL) {
            recorder_sync(recorder, 0); /* quiet doorbell: still make data durable */
            continue;
        }
        if (!recorder_route(recorder, item, &last_capture))
            free(item);
    }
    recorder_finish_segment(recorder, last_capture);
    recorder_ring_clear(&recorder->ring);
    if (recorder_tidy(recorder) != 0 && recorder->has_unclosed) /* start-up will repair it */
        free(recorder->unclosed_index);
    recorder_enter(recorder, RECORDER_STATE_STOPPED);
    return NULL;
}

void recorder_configure(struct recorder *recorder, const struct recorder_settings *settings)
{
    pthread_mutex_lock(&recorder->lock);
    recorder->settings = *settings;
    pthread_mutex_unlock(&recorder->lock);
}

void recorder_trigger_event(struct recorder *recorder)
{
    pthread_mutex_lock(&recorder->lock);
    recorder->trigger_pending = 1;
    pthread_mutex_unlock(&recorder->lock);
}

struct recorder *recorder_start(const char *recordings_dir, const char *device_id,
                                int segment_seconds, const struct recorder_settings *settings)
{
    struct recorder *recorder = calloc(1, sizeof(*recorder));

    if (recorder == NULL)
        return NULL;
    mutex_init_checked(&recorder->lock);
    pthread_cond_init(&recorder->wake, NULL);
    snprintf(recorder->directory, sizeof(recorder->directory), "%s", recordings_dir);
    snprintf(recorder->device_id, sizeof(recorder->device_id), "%s", device_id);
    recorder->segment_seconds = segment_seconds > 0 ? segment_seconds : RECORDER_SEGMENT_SECONDS;
    recorder->waiting_for_keyframe = 1;
    recorder->settings = *settings;
    recorder->state = RECORDER_STATE_WAITING;
    atomic_init(&recorder->holds, 1);
    heard_audio_init(&recorder->heard);
    recorder_mix_init(&recorder->mix);
    byte_buffer_init(&recorder->video.data, RECORDER_PENDING_MAX);
    byte_buffer_init(&recorder->audio.data, RECORDER_PENDING_MAX);
    if (pthread_create(&recorder->thread, NULL, recorder_thread, recorder) != 0) {
        heard_audio_free(&recorder->heard);
        pthread_cond_destroy(&recorder->wake);
        pthread_mutex_destroy(&recorder->lock);
        free(recorder);
        return NULL;
    }
    return recorder;
}

void recorder_retain(struct recorder *recorder)
{
    atomic_fetch_add(&recorder->holds, 1);
}

void recorder_release(struct recorder *recorder)
{
    struct recorder_item *item;

    if (recorder == NULL || atomic_fetch_sub(&recorder->holds, 1) > 1)
        return;
    pthread_mutex_lock(&recorder->lock);
    recorder->stopping = 1;
    pthread_cond_signal(&recorder->wake);
    pthread_mutex_unlock(&recorder->lock);
    pthread_join(recorder->thread, NULL);
    assert(recorder->state == RECORDER_STATE_STOPPED);
    while ((item = recorder->head) != NULL) {
        recorder->head = item->next;
        free(item);
    }
    byte_buffer_free(&recorder->video.data);
    byte_buffer_free(&recorder->audio.data);
    recorder_mix_free(&recorder->mix);
    heard_audio_free(&recorder->heard);
    pthread_cond_destroy(&recorder->wake);
    pthread_mutex_destroy(&recorder->lock);
    free(recorder);
}
