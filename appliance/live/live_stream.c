/*
 * live_stream.c - ingest, mux-once, GOP cache and fan-out of one doorbell's
 * live stream (see live_stream.h for threads, locks and ownership).
 *
 * Decode times come from the doorbell's capture clock, relative to the first
 * frame the stream ever saw (kept across reconnects so a viewer's timeline
 * never goes backwards), in the track timescales (90 kHz video, 48 kHz Opus).
 * Video decode times and durations are placed by live_timeline.c, which keeps
 * jittered capture times from making Chromium drop frames; audio reads the
 * capture clock on the same epoch. A doorbell's sub-stream places its frames
 * on its main stream's epoch (live_stream_create_sub), so a frame has the
 * same decode time, to within the timeline's smoothing, in both streams.
 *
 * Switching streams: the two streams of a doorbell share one lock, so a
 * viewer moves from one to the other in one step. A viewer that chose the
 * other stream stays where it is, pending in the target's list; at the
 * target's next keyframe it leaves the old stream and gets the target's
 * init segment (its own copy, naming the stream and why) and that keyframe.
 */
#define LOG_MODULE "live"

#include "live/live_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>

#include "common/error_text.h"
#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "live/live_timeline.h"
#include "live/live_viewer.h"
#include "media/fmp4.h"
#include "media/h264.h"

#define LIVE_STREAM_MAX_VIEWERS 64
#define LIVE_STREAM_GOP_MAX     1024 /* fragments; a longer GOP is not cached */
/* The scratch buffer holds one fragment: one access unit and its moof. */
#define LIVE_STREAM_SCRATCH_MAX (LINK_MAX_MESSAGE_SIZE + 64u * 1024u)
/* A new viewer's first picture costs decoding the cached GOP up to its
 * newest frame. Up to this many video frames it gets the cache at once;
 * with more, the doorbell is asked for a keyframe and the viewer waits for
 * it, at most LIVE_STREAM_KEYFRAME_WAIT_MS (then it gets the cache). */
#define LIVE_STREAM_SHORT_GOP           6
#define LIVE_STREAM_KEYFRAME_WAIT_MS    250
#define LIVE_STREAM_KEYFRAME_REQUEST_MS 250               /* at most one request per this */
#define LIVE_STREAM_SUB_PAUSE_US        UINT64_C(1000000) /* a sub-stream this quiet starts a new run */
/* An automatic viewer that fell back to the sub-stream tries main again
 * after keeping up this long on sub; each fall-back doubles the wait (up to
 * the max), so a link that cannot carry main does not flap between them. */
#define LIVE_STREAM_RECOVER_MS     30000
#define LIVE_STREAM_RECOVER_MAX_MS (8 * 60 * 1000)

/* A viewer in a stream's list: attached (gets its fragments), or pending
 * (still attached to the other stream of the doorbell, moves here at this
 * stream's next keyframe). */
struct live_stream_slot {
    struct live_viewer *viewer;
    int64_t deadline_ms; /* nonzero: waits for a keyframe (attached) */
    int pending;
    int fall_back;         /* an automatic viewer of main: to the sub-stream when skipped */
    int fall_backs;        /* how often this viewer fell back (sets the recovery wait) */
    int64_t recover_at_ms; /* sub, fell back: try main again at a keyframe after this */
    char reason[LIVE_REASON_MAX];
};

struct live_stream {
    atomic_int references;
    struct live_stream *partner; /* sub: its main (a reference); main: its sub or NULL */
    int is_sub;
    int available;            /* sub: the doorbell can encode it (HELLO) */
    uint64_t last_capture_us; /* sub: of its last frame, to notice a pause */
    pthread_mutex_t own_lock; /* a main stream's; a sub-stream uses its main's */
    pthread_mutex_t *lock;    /* guards everything below, for both streams of a doorbell */
    char device_id[LINK_DEVICE_ID_MAX];

    struct live_fragment *init; /* current init segment, NULL before the first SPS */
    uint8_t sps[H264_MAX_PARAMETER_SET], pps[H264_MAX_PARAMETER_SET];
    size_t sps_size, pps_size;
    struct h264_sps_info sps_info;
    char codecs[48];
    int audio_channels, fps;

    struct live_fragment *gop[LIVE_STREAM_GOP_MAX]; /* since the last IDR, in order */
    int gop_count;
    int gop_overflowed; /* this GOP did not fit: new viewers wait for the next IDR */

    struct live_stream_slot slots[LIVE_STREAM_MAX_VIEWERS];
    int viewer_count; /* slots in use, attached and pending */
    int64_t keyframe_requested_ms;

    uint32_t fragment_sequence;
    struct live_timeline timeline; /* video decode times and durations; the epoch */
    uint64_t last_audio_dts;
    int have_audio_dts;
    struct byte_buffer scratch; /* reused for every fragment */
    struct live_stream_stats stats;
};

struct live_fragment *live_fragment_retain(struct live_fragment *fragment)
{
    atomic_fetch_add(&fragment->references, 1);
    return fragment;
}

void live_fragment_release(struct live_fragment *fragment)
{
    if (fragment != NULL && atomic_fetch_sub(&fragment->references, 1) == 1)
        free(fragment);
}

/* A new fragment holding the viewer header plus a copy of bytes. */
static struct live_fragment *live_fragment_new(uint8_t kind, int keyframe, uint64_t capture_us,
                                               const uint8_t *bytes, size_t size)
{
    struct live_fragment *fragment = malloc(sizeof(*fragment) + LIVE_HEADER_SIZE + size);

    if (fragment == NULL)
        return NULL;
    memset(fragment, 0, sizeof(*fragment));
    atomic_init(&fragment->references, 1);
    fragment->kind = kind;
    fragment->keyframe = keyframe;
    fragment->capture_us = capture_us;
    fragment->size = LIVE_HEADER_SIZE + size;
    fragment->data[0] = kind;
    for (int i = 0; i < 8; i++)
        fragment->data[1 + i] = (uint8_t)(capture_us >> (56 - 8 * i));
    memcpy(fragment->data + LIVE_HEADER_SIZE, bytes, size);
    return fragment;
}

struct live_stream *live_stream_create(const char *device_id)
{
    struct live_stream *stream = calloc(1, sizeof(*stream));

    if (stream == NULL)
        return NULL;
    atomic_init(&stream->references, 1);
    stream->lock = &stream->own_lock;
    mutex_init_checked(stream->lock);
    snprintf(stream->device_id, sizeof(stream->device_id), "%s", device_id);
    stream->fps = 30;
    live_timeline_init(&stream->timeline, FMP4_VIDEO_TIMESCALE, stream->fps);
    byte_buffer_init(&stream->scratch, LIVE_STREAM_SCRATCH_MAX);
    return stream;
}

struct live_stream *live_stream_create_sub(struct live_stream *main_stream)
{
    struct live_stream *stream = live_stream_create(main_stream->device_id);

    if (stream == NULL)
        return NULL;
    pthread_mutex_destroy(&stream->own_lock);
    live_stream_retain(main_stream);
    stream->lock = main_stream->lock;
    stream->is_sub = 1;
    stream->partner = main_stream;
    pthread_mutex_lock(stream->lock);
    main_stream->partner = stream;
    pthread_mutex_unlock(stream->lock);
    return stream;
}

void live_stream_retain(struct live_stream *stream)
{
    atomic_fetch_add(&stream->references, 1);
}

/* Drop the cached GOP; lock held. */
static void live_stream_clear_gop_locked(struct live_stream *stream)
{
    mutex_assert_held(stream->lock);
    for (int i = 0; i < stream->gop_count; i++)
        live_fragment_release(stream->gop[i]);
    stream->gop_count = 0;
    stream->gop_overflowed = 0;
}

void live_stream_release(struct live_stream *stream)
{
    if (stream == NULL || atomic_fetch_sub(&stream->references, 1) != 1)
        return;
    pthread_mutex_lock(stream->lock); /* the last reference; a sub's main may still run */
    live_stream_clear_gop_locked(stream);
    if (stream->is_sub)
        stream->partner->partner = NULL;
    pthread_mutex_unlock(stream->lock);
    live_fragment_release(stream->init);
    byte_buffer_free(&stream->scratch);
    if (stream->is_sub)
        live_stream_release(stream->partner);
    else
        pthread_mutex_destroy(stream->lock);
    free(stream);
}

void live_stream_begin(struct live_stream *stream, int fps, int audio_channels)
{
    pthread_mutex_lock(stream->lock);
    if (audio_channels != stream->audio_channels) {
        /* The track list changes: the next IDR brings a new init segment. */
        live_fragment_release(stream->init);
        stream->init = NULL;
        stream->sps_size = stream->pps_size = 0;
    }
    stream->audio_channels = audio_channels;
    stream->fps = fps > 0 ? fps : 30;
    live_timeline_set_rate(&stream->timeline, stream->fps);
    live_stream_clear_gop_locked(stream);
    pthread_mutex_unlock(stream->lock);
}

/* Queue the cached GOP to slot i's viewer; lock held. */
static void live_stream_send_gop_locked(struct live_stream *stream, int i, int64_t now)
{
    mutex_assert_held(stream->lock);
    for (int j = 0; j < stream->gop_count; j++)
        live_viewer_push(stream->slots[i].viewer, stream->gop[j], now);
}

/* Queue the init segment to one viewer: its own copy, naming this stream
 * and why the viewer gets it; the shared one if memory is short. Lock held. */
static void live_stream_send_init_locked(struct live_stream *stream, struct live_viewer *viewer,
                                         const char *reason, int64_t now)
{
    mutex_assert_held(stream->lock);
    struct live_fragment *copy;

    if (stream->init == NULL)
        return;
    copy = malloc(sizeof(*copy) + stream->init->size);
    if (copy == NULL) {
        live_viewer_push(viewer, stream->init, now);
        return;
    }
    memcpy(copy, stream->init, sizeof(*copy) + stream->init->size);
    atomic_init(&copy->references, 1);
    snprintf(copy->reason, sizeof(copy->reason), "%s", reason);
    live_viewer_push(viewer, copy, now);
    live_fragment_release(copy);
}

/* The slot of viewer in stream, attached (pending 0) or pending (1); -1. Lock held. */
static int live_stream_find_locked(const struct live_stream *stream,
                                   const struct live_viewer *viewer, int pending)
{
    for (int i = 0; i < stream->viewer_count; i++)
        if (stream->slots[i].viewer == viewer && stream->slots[i].pending == pending)
            return i;
    return -1;
}

/* Take slot i out of the list, summing its viewer's skips; lock held. */
static void live_stream_remove_slot_locked(struct live_stream *stream, int i)
{
    mutex_assert_held(stream->lock);
    uint64_t skipped, skips;

    if (!stream->slots[i].pending) {
        live_viewer_take_skips(stream->slots[i].viewer, &skipped, &skips);
        stream->stats.skipped_frames += skipped;
        stream->stats.viewer_skips += skips;
    }
    stream->viewer_count--;
    stream->slots[i] = stream->slots[stream->viewer_count];
}

/* Add a slot for viewer; its index, or -1 when the list is full. Lock held. */
static int live_stream_add_slot_locked(struct live_stream *stream, struct live_viewer *viewer,
                                       int pending, const char *reason, int fall_back)
{
    mutex_assert_held(stream->lock);
    struct live_stream_slot *slot;

    if (stream->viewer_count >= LIVE_STREAM_MAX_VIEWERS)
        return -1;
    slot = &stream->slots[stream->viewer_count];
    memset(slot, 0, sizeof(*slot));
    slot->viewer = viewer;
    slot->pending = pending;
    slot->fall_back = fall_back;
    snprintf(slot->reason, sizeof(slot->reason), "%s", reason);
    return stream->viewer_count++;
}

/* A keyframe of this stream: pending slot i takes its viewer over from the
 * other stream (init segment, then this keyframe). Lock held. */
static void live_stream_take_over_locked(struct live_stream *stream, int i,
                                         struct live_fragment *keyframe, int64_t now)
{
    mutex_assert_held(stream->lock);
    struct live_stream_slot *slot = &stream->slots[i];
    struct live_stream *other = stream->partner;
    int old = other != NULL ? live_stream_find_locked(other, slot->viewer, 0) : -1;

    if (old >= 0)
        live_stream_remove_slot_locked(other, old);
    slot->pending = 0;
    slot->deadline_ms = 0;
    live_stream_send_init_locked(stream, slot->viewer, slot->reason, now);
    live_viewer_push(slot->viewer, keyframe, now);
    stream->stats.switches++;
}

/* How long a viewer that fell back `fall_backs` times keeps up on the
 * sub-stream before it tries main again. */
static int64_t live_stream_recover_wait_ms(int fall_backs)
{
    int64_t wait = LIVE_STREAM_RECOVER_MS;

    for (int i = 1; i < fall_backs && wait < LIVE_STREAM_RECOVER_MAX_MS; i++)
        wait *= 2;
    return wait < LIVE_STREAM_RECOVER_MAX_MS ? wait : LIVE_STREAM_RECOVER_MAX_MS;
}

/* An automatic viewer of main was skipped: it goes to the sub-stream (at
 * the sub's next keyframe), and comes back once it keeps up there
 * (live_stream_recover_locked). Lock held. */
static void live_stream_fall_back_locked(struct live_stream *stream, int i, int64_t now)
{
    mutex_assert_held(stream->lock);
    struct live_stream *sub = stream->partner;
    struct live_viewer *viewer = stream->slots[i].viewer;
    int fall_backs = stream->slots[i].fall_backs + 1, added;

    stream->slots[i].fall_back = 0;
    if (stream->is_sub || sub == NULL || !sub->available ||
        live_stream_find_locked(sub, viewer, 1) >= 0)
        return;
    if ((added = live_stream_add_slot_locked(sub, viewer, 1, "behind", 0)) >= 0) {
        sub->slots[added].fall_backs = fall_backs;
        sub->slots[added].recover_at_ms = now + live_stream_recover_wait_ms(fall_backs);
        stream->stats.fall_backs++;
        log_info("doorbell %s: a viewer falls behind; it moves to the sub-stream",
                 stream->device_id);
    }
}

/* A keyframe of the sub-stream: slot i fell back from main and has kept up
 * since recover_at_ms was set; it moves back to main at main's next
 * keyframe, automatic again (reason "recovered"). Lock held. */
static void live_stream_recover_locked(struct live_stream *sub, int i)
{
    mutex_assert_held(sub->lock);
    struct live_stream *main_stream = sub->partner;
    struct live_stream_slot *slot = &sub->slots[i];
    int added;

    slot->recover_at_ms = 0;
    if (!sub->is_sub || main_stream == NULL ||
        live_stream_find_locked(main_stream, slot->viewer, 1) >= 0)
        return;
    if ((added = live_stream_add_slot_locked(main_stream, slot->viewer, 1, "recovered", 1)) >= 0) {
        main_stream->slots[added].fall_backs = slot->fall_backs;
        sub->stats.recoveries++;
        log_info("doorbell %s: a viewer kept up on the sub-stream; it moves back to main",
                 sub->device_id);
    }
}

/* Collect attached slot i's skips into the stream's counters. A skipped
 * automatic viewer of main falls back to the sub-stream; a fallen-back one
 * skipped on sub waits its full recovery time again. Returns the skips.
 * Lock held. */
static uint64_t live_stream_take_skips_locked(struct live_stream *stream, int i, int64_t now)
{
    mutex_assert_held(stream->lock);
    struct live_stream_slot *slot = &stream->slots[i];
    uint64_t skipped, skips;

    live_viewer_take_skips(slot->viewer, &skipped, &skips);
    stream->stats.skipped_frames += skipped;
    stream->stats.viewer_skips += skips;
    if (skips > 0 && slot->fall_back)
        live_stream_fall_back_locked(stream, i, now);
    else if (skips > 0 && slot->recover_at_ms != 0)
        slot->recover_at_ms = now + live_stream_recover_wait_ms(slot->fall_backs);
    return skips;
}

/*
 * Queue a fragment to every attached viewer and collect their skip counts;
 * lock held. A viewer waiting for a keyframe gets the next one, or the
 * cached GOP (which already holds this fragment) once its wait is over. A
 * keyframe brings pending viewers over from the other stream.
 */
static void live_stream_fan_out_locked(struct live_stream *stream, struct live_fragment *fragment)
{
    mutex_assert_held(stream->lock);
    int64_t now = clock_monotonic_ms();
    int keyframe = fragment->kind == LIVE_KIND_VIDEO && fragment->keyframe;

    for (int i = 0; i < stream->viewer_count; i++) {
        struct live_stream_slot *slot = &stream->slots[i];
        if (slot->pending) {
            if (keyframe)
                live_stream_take_over_locked(stream, i, fragment, now);
            continue;
        }
        if (slot->deadline_ms == 0 || fragment->kind == LIVE_KIND_INIT) {
            live_viewer_push(slot->viewer, fragment, now);
        } else if (keyframe) {
            slot->deadline_ms = 0;
            live_viewer_push(slot->viewer, fragment, now);
        } else if (now >= slot->deadline_ms) {
            slot->deadline_ms = 0;
            live_stream_send_gop_locked(stream, i, now);
        }
        if (live_stream_take_skips_locked(stream, i, now) == 0 && keyframe &&
            slot->recover_at_ms != 0 && now >= slot->recover_at_ms)
            live_stream_recover_locked(stream, i);
    }
}

/* Keep a fragment in the GOP cache; lock held. */
static void live_stream_cache_locked(struct live_stream *stream, struct live_fragment *fragment)
{
    mutex_assert_held(stream->lock);
    if (stream->gop_overflowed)
        return;
    if (stream->gop_count >= LIVE_STREAM_GOP_MAX) {
        live_stream_clear_gop_locked(stream);
        stream->gop_overflowed = 1;
        return;
    }
    stream->gop[stream->gop_count++] = live_fragment_retain(fragment);
}

/* New SPS/PPS: write a new init segment and announce it; lock held. */
static int live_stream_new_init_locked(struct live_stream *stream,
                                       const struct h264_access_unit *unit, char *error,
                                       size_t error_size)
{
    mutex_assert_held(stream->lock);
    struct h264_sps_info info;
    struct fmp4_video_config video = {0};
    struct fmp4_audio_config audio = {0};
    struct live_fragment *init;

    if (fmp4_video_config_from_sps(&video, &info, unit->sps, unit->sps_size, unit->pps,
                                   unit->pps_size, error, error_size) != 0)
        return -1;
    audio.channels = stream->audio_channels;
    audio.input_sample_rate = 48000;
    audio.pre_skip = 312; /* libopus' encoder look-ahead at 48 kHz */
    byte_buffer_reset(&stream->scratch);
    if (fmp4_write_init(&stream->scratch, &video, stream->audio_channels > 0 ? &audio : NULL) !=
        0) {
        error_text_set(error, error_size, "cannot write the init segment");
        return -1;
    }
    init = live_fragment_new(LIVE_KIND_INIT, 1, 0, byte_buffer_data(&stream->scratch),
                             byte_buffer_length(&stream->scratch));
    if (init == NULL) {
        error_text_set(error, error_size, "out of memory");
        return -1;
    }
    h264_codecs_string(&info, stream->codecs);
    snprintf(init->mime, sizeof(init->mime), "video/mp4; codecs=\"%s%s\"", stream->codecs,
             stream->audio_channels > 0 ? ", opus" : "");
    init->width = info.width;
    init->height = info.height;
    snprintf(init->stream, sizeof(init->stream), "%s", stream->is_sub ? "sub" : "main");

    memcpy(stream->sps, unit->sps, unit->sps_size);
    memcpy(stream->pps, unit->pps, unit->pps_size);
    stream->sps_size = unit->sps_size;
    stream->pps_size = unit->pps_size;
    stream->sps_info = info;
    live_fragment_release(stream->init);
    stream->init = init;
    live_stream_clear_gop_locked(stream);
    live_stream_fan_out_locked(stream, init);
    log_info("doorbell %s: live stream %dx%d, %s", stream->device_id, info.width, info.height,
             init->mime);
    return 0;
}

/* Does this access unit carry parameter sets other than the current ones? */
static int live_stream_parameters_changed(const struct live_stream *stream,
                                          const struct h264_access_unit *unit)
{
    return unit->sps_size != stream->sps_size || unit->pps_size != stream->pps_size ||
           memcmp(unit->sps, stream->sps, unit->sps_size) != 0 ||
           memcmp(unit->pps, stream->pps, unit->pps_size) != 0;
}

/* A sub-stream's frames go on its main stream's timeline: the same epoch
 * (the main stream's first frame, moved by its clock steps), and after a
 * pause (stream_off, a reconnect) the first frame goes to its capture time
 * again rather than where the old run would have continued. Lock held. */
static void live_stream_follow_epoch_locked(struct live_stream *stream, uint64_t capture_us)
{
    mutex_assert_held(stream->lock);
    const struct live_stream *main_stream = stream->partner;

    if (!stream->is_sub)
        return;
    if (stream->last_capture_us == 0 || capture_us < stream->last_capture_us ||
        capture_us - stream->last_capture_us > LIVE_STREAM_SUB_PAUSE_US)
        live_timeline_restart(&stream->timeline);
    stream->last_capture_us = capture_us;
    if (main_stream != NULL && live_timeline_started(&main_stream->timeline))
        live_timeline_set_epoch(&stream->timeline, main_stream->timeline.epoch_us);
}

void live_stream_count_bad_frame(struct live_stream *stream)
{
    pthread_mutex_lock(stream->lock);
    stream->stats.bad_frames++;
    pthread_mutex_unlock(stream->lock);
}

int live_stream_push_unit(struct live_stream *stream, const struct h264_access_unit *unit_in,
                          uint64_t capture_us, char *error, size_t error_size)
{
    const struct h264_access_unit unit = *unit_in; /* read-only view; the caller frees */
    struct fmp4_sample sample = {0};
    struct live_fragment *fragment = NULL;
    uint64_t dts;
    int rc = -1;

    pthread_mutex_lock(stream->lock);
    if (unit.sps != NULL && unit.pps != NULL &&
        (stream->init == NULL || live_stream_parameters_changed(stream, &unit)) &&
        live_stream_new_init_locked(stream, &unit, error, error_size) != 0) {
        stream->stats.bad_frames++;
        goto out;
    }
    rc = 0;
    /* Before the first IDR of a GOP we have nothing a viewer could decode. */
    if (stream->init == NULL || (!unit.is_idr && stream->gop_count == 0 && !stream->gop_overflowed))
        goto out;

    live_stream_follow_epoch_locked(stream, capture_us);
    live_timeline_place(&stream->timeline, capture_us, &dts, &sample.duration);
    sample.size = (uint32_t)unit.avcc_size;
    sample.keyframe = unit.is_idr;
    byte_buffer_reset(&stream->scratch);
    if (fmp4_write_fragment(&stream->scratch, ++stream->fragment_sequence, FMP4_VIDEO_TRACK, dts,
                            &sample, 1, unit.avcc, unit.avcc_size) != 0 ||
        (fragment = live_fragment_new(LIVE_KIND_VIDEO, unit.is_idr, capture_us,
                                      byte_buffer_data(&stream->scratch),
                                      byte_buffer_length(&stream->scratch))) == NULL) {
        error_text_set(error, error_size, "out of memory");
        rc = -1;
        goto out;
    }
    stream->stats.video_frames++;
    if (unit.is_idr)
        live_stream_clear_gop_locked(stream);
    live_stream_cache_locked(stream, fragment);
    live_stream_fan_out_locked(stream, fragment);
out:
    pthread_mutex_unlock(stream->lock);
    live_fragment_release(fragment);
    return rc;
}

int live_stream_push_audio(struct live_stream *stream, const uint8_t *packet, size_t size,
                           uint64_t capture_us, char *error, size_t error_size)
{
    struct fmp4_sample sample = {0};
    struct live_fragment *fragment = NULL;
    int samples = opus_packet_get_nb_samples(packet, (opus_int32)size, 48000);
    uint64_t dts;
    int rc = 0;

    if (samples <= 0 || samples > 48000 * 120 / 1000) {
        error_text_set(error, error_size, "not an Opus packet");
        return -1;
    }
    pthread_mutex_lock(stream->lock);
    if (stream->is_sub && stream->partner != NULL &&
        live_timeline_started(&stream->partner->timeline))
        live_timeline_set_epoch(&stream->timeline, stream->partner->timeline.epoch_us);
    if (stream->audio_channels == 0 || stream->init == NULL ||
        !live_timeline_started(&stream->timeline) ||
        (stream->gop_count == 0 && !stream->gop_overflowed))
        goto out; /* audio joins the video timeline once video has started */
    dts = live_timeline_capture_time(&stream->timeline, capture_us, FMP4_AUDIO_TIMESCALE);
    if (stream->have_audio_dts && dts < stream->last_audio_dts + (uint64_t)samples / 2)
        dts = stream->last_audio_dts + (uint64_t)samples;
    sample.duration = (uint32_t)samples;
    sample.size = (uint32_t)size;
    sample.keyframe = 1;
    byte_buffer_reset(&stream->scratch);
    if (fmp4_write_fragment(&stream->scratch, ++stream->fragment_sequence, FMP4_AUDIO_TRACK, dts,
                            &sample, 1, packet, size) != 0 ||
        (fragment =
             live_fragment_new(LIVE_KIND_AUDIO, 1, capture_us, byte_buffer_data(&stream->scratch),
                               byte_buffer_length(&stream->scratch))) == NULL) {
        error_text_set(error, error_size, "out of memory");
        rc = -1;
        goto out;
    }
    stream->last_audio_dts = dts;
    stream->have_audio_dts = 1;
    stream->stats.audio_packets++;
    live_stream_cache_locked(stream, fragment);
    live_stream_fan_out_locked(stream, fragment);
out:
    pthread_mutex_unlock(stream->lock);
    live_fragment_release(fragment);
    return rc;
}

int live_stream_attach(struct live_stream *stream, struct live_viewer *viewer, const char *reason,
                       int fall_back)
{
    int64_t now = clock_monotonic_ms();
    int video_frames = 0, request = 0, i;

    pthread_mutex_lock(stream->lock);
    i = live_stream_add_slot_locked(stream, viewer, 0, reason, fall_back);
    if (i < 0) {
        pthread_mutex_unlock(stream->lock);
        live_viewer_request_close(viewer);
        log_warn("doorbell %s: viewer refused, already %d viewers", stream->device_id,
                 LIVE_STREAM_MAX_VIEWERS);
        return 0;
    }
    /* The newest picture soon: init segment, then the GOP so far, or (a
     * long GOP) a fresh keyframe. */
    live_stream_send_init_locked(stream, viewer, reason, now);
    for (int j = 0; j < stream->gop_count; j++)
        video_frames += stream->gop[j]->kind == LIVE_KIND_VIDEO;
    if (video_frames <= LIVE_STREAM_SHORT_GOP) {
        live_stream_send_gop_locked(stream, i, now);
    } else {
        stream->slots[i].deadline_ms = now + LIVE_STREAM_KEYFRAME_WAIT_MS;
        if (now - stream->keyframe_requested_ms >= LIVE_STREAM_KEYFRAME_REQUEST_MS) {
            stream->keyframe_requested_ms = now;
            request = 1;
        }
    }
    pthread_mutex_unlock(stream->lock);
    return request;
}

int live_stream_choose(struct live_stream *target, struct live_viewer *viewer, const char *reason,
                       int fall_back)
{
    struct live_stream *other;
    int64_t now = clock_monotonic_ms();
    int i, rc = LIVE_CHOOSE_THERE;

    pthread_mutex_lock(target->lock);
    other = target->partner;
    if (other != NULL && (i = live_stream_find_locked(other, viewer, 1)) >= 0)
        live_stream_remove_slot_locked(other, i); /* it changed its mind */
    if ((i = live_stream_find_locked(target, viewer, 0)) >= 0) {
        target->slots[i].fall_back = fall_back;
        target->slots[i].recover_at_ms = 0; /* its own choice now, not a fall-back */
        snprintf(target->slots[i].reason, sizeof(target->slots[i].reason), "%s", reason);
        goto out;
    }
    if (other == NULL || live_stream_find_locked(other, viewer, 0) < 0) {
        rc = LIVE_CHOOSE_UNKNOWN; /* not attached: nothing to move */
        goto out;
    }
    if ((i = live_stream_find_locked(target, viewer, 1)) < 0 &&
        (i = live_stream_add_slot_locked(target, viewer, 1, reason, fall_back)) < 0) {
        rc = LIVE_CHOOSE_UNKNOWN;
        goto out;
    }
    snprintf(target->slots[i].reason, sizeof(target->slots[i].reason), "%s", reason);
    target->slots[i].fall_back = fall_back;
    rc = LIVE_CHOOSE_PENDING;
    if (now - target->keyframe_requested_ms >= LIVE_STREAM_KEYFRAME_REQUEST_MS) {
        target->keyframe_requested_ms = now;
        rc = LIVE_CHOOSE_PENDING_KEYFRAME;
    }
out:
    pthread_mutex_unlock(target->lock);
    return rc;
}

void live_stream_detach(struct live_stream *stream, struct live_viewer *viewer)
{
    pthread_mutex_lock(stream->lock);
    for (struct live_stream *each = stream; each != NULL;
         each = each->partner != stream ? each->partner : NULL)
        for (int i = each->viewer_count - 1; i >= 0; i--)
            if (each->slots[i].viewer == viewer)
                live_stream_remove_slot_locked(each, i);
    pthread_mutex_unlock(stream->lock);
}

void live_stream_close_viewers(struct live_stream *stream)
{
    pthread_mutex_lock(stream->lock);
    for (int i = 0; i < stream->viewer_count; i++)
        if (!stream->slots[i].pending)
            live_viewer_request_close(stream->slots[i].viewer);
    pthread_mutex_unlock(stream->lock);
}

void live_stream_set_available(struct live_stream *stream, int available)
{
    pthread_mutex_lock(stream->lock);
    stream->available = available;
    if (!available) /* nobody waits for a stream that will not come */
        for (int i = stream->viewer_count - 1; i >= 0; i--)
            if (stream->slots[i].pending)
                live_stream_remove_slot_locked(stream, i);
    pthread_mutex_unlock(stream->lock);
}

int live_stream_available(struct live_stream *stream)
{
    int available;
    pthread_mutex_lock(stream->lock);
    available = !stream->is_sub || stream->available;
    pthread_mutex_unlock(stream->lock);
    return available;
}

int live_stream_demand(struct live_stream *stream)
{
    int count;
    pthread_mutex_lock(stream->lock);
    count = stream->viewer_count;
    pthread_mutex_unlock(stream->lock);
    return count;
}

int live_stream_take_keyframe_request(struct live_stream *stream, int64_t interval_ms)
{
    int64_t now = clock_monotonic_ms();
    int request = 0;

    pthread_mutex_lock(stream->lock);
    for (int i = 0; i < stream->viewer_count && !request; i++)
        request = stream->slots[i].pending || stream->slots[i].deadline_ms != 0;
    if (request && now - stream->keyframe_requested_ms >= interval_ms)
        stream->keyframe_requested_ms = now;
    else
        request = 0;
    pthread_mutex_unlock(stream->lock);
    return request;
}

void live_stream_get_stats(struct live_stream *stream, struct live_stream_stats *out)
{
    pthread_mutex_lock(stream->lock);
    out->viewers = out->pending = 0;
    for (int i = 0; i < stream->viewer_count; i++) {
        if (stream->slots[i].pending) {
            out->pending++;
            continue;
        }
        out->viewers++;
        live_stream_take_skips_locked(stream, i, clock_monotonic_ms());
    }
    {
        int viewers = out->viewers, pending = out->pending;
        *out = stream->stats;
        out->stream_viewers = viewers;
        out->viewers = viewers;
        out->pending = pending;
    }
    if (!stream->is_sub && stream->partner != NULL) /* the doorbell's viewers: both streams */
        for (int i = 0; i < stream->partner->viewer_count; i++)
            out->viewers += !stream->partner->slots[i].pending;
    out->width = stream->sps_info.width;
    out->height = stream->sps_info.height;
    snprintf(out->codecs, sizeof(out->codecs), "%s", stream->codecs);
    pthread_mutex_unlock(stream->lock);
}
