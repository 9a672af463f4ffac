/*
 * audio_playback.c - Opus talk-back and chimes -> speaker (see
 * audio_playback.h).
 *
 * audio_playback_start() opens the PCM and the decoder on the caller's
 * thread; then the playback thread ("audio-spk") owns both. It runs one
 * 20 ms tick after another: wait until the device holds at most ~40 ms
 * (snd_pcm_wait with avail_min, a timeout so stop is never stuck), take
 * the next 20 ms from the jitter buffer (decode, conceal, or silence), mix
 * in queued PCM, write, and pace against the clock when the device has none
 * (audio_alsa.c). Writing as late as possible keeps the ALSA part of the
 * latency at 40-60 ms. Each tick written also goes to the speaker history
 * (when there is one) with the instant its first sample leaves the speaker
 * (the pacer's schedule in clock mode, otherwise now plus what the device
 * holds before it), for the echo canceller on the capture thread. Underruns are recovered with
 * snd_pcm_recover; a device that fails for good is closed and reopened with backoff.
 *
 * `lock` guards the packet queue (pool, queue, queued_frames), the jitter
 * state shared with push (playing, last_timestamp_us), the PCM ring and the
 * stats. The decoder, the decoded-sample FIFO and the PCM belong to the
 * playback thread. audio_playback_stop() frees it all after the join.
 */
#define LOG_MODULE "audio"

#include "audio/audio_playback.h"

#include <assert.h>
#include <errno.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/speaker_history.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"

#define AUDIO_PLAYBACK_POOL          32   /* packets in the jitter buffer at most */
#define AUDIO_PLAYBACK_MAX_DECODE    5760 /* 120 ms: the longest Opus packet */
#define AUDIO_PLAYBACK_CONCEAL_TICKS 3    /* LINK_TALK_CONCEAL_MS of PLC, then silent */
#define AUDIO_PLAYBACK_RING_FRAMES   (AUDIO_SAMPLE_RATE * 4)
#define AUDIO_PLAYBACK_WAIT_MS       100
#define AUDIO_PLAYBACK_STALL_MS      2000
#define AUDIO_PLAYBACK_RETRY_MS      1000
#define AUDIO_PLAYBACK_RETRY_MAX_MS  30000
#define AUDIO_PLAYBACK_NAME_SIZE     256

/* The doorbell conceals as long as the link contract says. */
_Static_assert(LINK_TALK_CONCEAL_MS == (AUDIO_PLAYBACK_CONCEAL_TICKS * AUDIO_FRAME_MS), "conceal");

struct audio_playback_packet {
    uint64_t timestamp_us;
    uint64_t pushed_us; /* CLOCK_REALTIME of the push */
    int frames;         /* per channel at 48 kHz */
    size_t size;
    uint8_t data[AUDIO_PLAYBACK_MAX_PACKET];
};

struct audio_playback {
    /* Set by start, read-only afterwards. */
    char device[AUDIO_PLAYBACK_NAME_SIZE];
    char alsa_config[AUDIO_PLAYBACK_NAME_SIZE];
    int channels;
    int target_frames, max_frames;
    pthread_t thread;
    atomic_bool stop;
    struct speaker_history *history; /* not owned; NULL if nobody listens */

    /* The playback thread's. */
    int16_t history_frame[AUDIO_FRAME_FRAMES]; /* the first channel of a tick */
    snd_pcm_t *pcm;                            /* NULL while waiting to reopen */
    struct audio_alsa_setup setup;
    snd_pcm_uframes_t fill_frames; /* write when the device holds at most this much */
    OpusDecoder *decoder;
    struct audio_pacer pacer;
    int retry_ms;
    int idle_ms;
    int concealed_ticks;
    int16_t *decoded; /* FIFO of decoded samples, interleaved */
    size_t decoded_frames;

    pthread_mutex_t lock; /* guards everything below */
    struct audio_playback_packet pool[AUDIO_PLAYBACK_POOL];
    struct audio_playback_packet *free_list[AUDIO_PLAYBACK_POOL];
    int free_count;
    struct audio_playback_packet *queue[AUDIO_PLAYBACK_POOL]; /* oldest first */
    int queue_count;
    int queued_frames;
    bool playing;
    uint64_t last_timestamp_us; /* of the last packet played, while playing */
    int16_t *ring;              /* mono PCM to mix in */
    size_t ring_head, ring_count;
    struct audio_playback_stats stats;
};

/* Open and configure the PCM: start once fill_frames are queued, wake
 * snd_pcm_wait when the device holds at most fill_frames. 0 or -1. */
static int audio_playback_open_device(struct audio_playback *playback, char *error,
                                      size_t error_size)
{
    struct audio_alsa_request request = {
        .device = playback->device,
        .alsa_config = playback->alsa_config[0] != '\0' ? playback->alsa_config : NULL,
        .stream = SND_PCM_STREAM_PLAYBACK,
        .channels = (unsigned int)playback->channels,
    };
    snd_pcm_t *pcm = audio_alsa_open(&request, &playback->setup, error, error_size);
    if (pcm == NULL)
        return -1;
    snd_pcm_uframes_t buffer = playback->setup.buffer_frames;
    snd_pcm_uframes_t fill = 2 * playback->setup.period_frames;
    if (fill + AUDIO_FRAME_FRAMES > buffer)
        fill = buffer > AUDIO_FRAME_FRAMES ? buffer - AUDIO_FRAME_FRAMES : 1;
    if (fill == 0)
        fill = 1;
    playback->fill_frames = fill;

    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    int err = snd_pcm_sw_params_current(pcm, sw);
    if (err >= 0)
        err = snd_pcm_sw_params_set_start_threshold(pcm, sw, fill);
    if (err >= 0)
        err = snd_pcm_sw_params_set_avail_min(pcm, sw, buffer > fill ? buffer - fill : 1);
    if (err >= 0)
        err = snd_pcm_sw_params(pcm, sw);
    if (err < 0) {
        error_text_set(error, error_size, "ALSA playback device \"%s\": software parameters: %s",
                       playback->device, snd_strerror(err));
        snd_pcm_close(pcm);
        return -1;
    }
    playback->pcm = pcm;
    /* The stream may run lead frames ahead: the fill plus the tick written. */
    audio_pacer_start(&playback->pacer, playback->pacer.mode, fill + AUDIO_FRAME_FRAMES);
    return 0;
}

/* Close the PCM after a failure it did not recover from; the loop reopens. */
static void audio_playback_drop_device(struct audio_playback *playback, const char *why)
{
    log_warn("playback device \"%s\": %s; reopening in %d ms", playback->device, why,
             playback->retry_ms);
    snd_pcm_close(playback->pcm);
    playback->pcm = NULL;
}

/* Wait (with backoff, stop-aware) and open the device again. 0 on success. */
static int audio_playback_reopen(struct audio_playback *playback)
{
    for (int slept = 0; slept < playback->retry_ms; slept += 50) {
        if (atomic_load(&playback->stop))
            return -1;
        audio_sleep_until_ns(clock_monotonic_ns() + 50 * 1000000LL);
    }
    char error[256];
    if (audio_playback_open_device(playback, error, sizeof(error)) != 0) {
        playback->retry_ms = playback->retry_ms * 2 > AUDIO_PLAYBACK_RETRY_MAX_MS
                                 ? AUDIO_PLAYBACK_RETRY_MAX_MS
                                 : playback->retry_ms * 2;
        log_warn("%s; next try in %d ms", error, playback->retry_ms);
        return -1;
    }
    pthread_mutex_lock(&playback->lock);
    playback->stats.reopens++;
    pthread_mutex_unlock(&playback->lock);
    log_info("playback device \"%s\" reopened", playback->device);
    playback->retry_ms = AUDIO_PLAYBACK_RETRY_MS;
    playback->idle_ms = 0;
    return 0;
}

/* A write or wait failed with err: count it and recover (the stream
 * restarts by itself at the start threshold). */
static void audio_playback_recover(struct audio_playback *playback, int err)
{
    pthread_mutex_lock(&playback->lock);
    uint64_t count = err == -EPIPE ? ++playback->stats.underruns : ++playback->stats.write_errors;
    pthread_mutex_unlock(&playback->lock);
    if (count == 1 || count % 100 == 0)
        log_warn("playback %s (%llu so far), recovering",
                 err == -EPIPE ? "underrun" : snd_strerror(err), (unsigned long long)count);
    int rc = snd_pcm_recover(playback->pcm, err, 1);
    if (rc < 0)
        audio_playback_drop_device(playback, snd_strerror(rc));
}

/* Wait on the device for up to AUDIO_PLAYBACK_WAIT_MS. 0 to go on, -1 if
 * the device was dropped. */
static int audio_playback_wait(struct audio_playback *playback)
{
    int ready = snd_pcm_wait(playback->pcm, AUDIO_PLAYBACK_WAIT_MS);
    if (ready < 0) {
        audio_playback_recover(playback, ready);
    } else if (ready == 0) {
        playback->idle_ms += AUDIO_PLAYBACK_WAIT_MS;
        if (playback->idle_ms >= AUDIO_PLAYBACK_STALL_MS) {
            pthread_mutex_lock(&playback->lock);
            playback->stats.write_errors++;
            pthread_mutex_unlock(&playback->lock);
            audio_playback_drop_device(playback, "device stalled for 2 s");
        }
    } else {
        playback->idle_ms = 0;
    }
    return playback->pcm != NULL ? 0 : -1;
}

/* Block until the device holds at most fill_frames. 0, or -1 when stopping
 * or the device was dropped. */
static int audio_playback_wait_room(struct audio_playback *playback)
{
    while (!atomic_load(&playback->stop)) {
        snd_pcm_sframes_t avail = snd_pcm_avail_update(playback->pcm);
        if (avail < 0) {
            audio_playback_recover(playback, (int)avail);
            if (playback->pcm == NULL)
                return -1;
            continue;
        }
        snd_pcm_uframes_t buffer = playback->setup.buffer_frames;
        snd_pcm_uframes_t held =
            (snd_pcm_uframes_t)avail < buffer ? buffer - (snd_pcm_uframes_t)avail : 0;
        if (held <= playback->fill_frames)
            return 0;
        if (snd_pcm_state(playback->pcm) == SND_PCM_STATE_PREPARED) {
            int err = snd_pcm_start(playback->pcm);
            if (err < 0)
                audio_playback_recover(playback, err);
        } else if (audio_playback_wait(playback) != 0) {
            return -1;
        }
        if (playback->pcm == NULL)
            return -1;
    }
    return -1;
}

/* Frames the device will play before anything written now. */
static uint64_t audio_playback_device_delay(struct audio_playback *playback)
{
    if (playback->pacer.mode == AUDIO_PACING_CLOCK) {
        int64_t ahead = audio_pacer_ahead(&playback->pacer);
        return ahead > 0 ? (uint64_t)ahead : 0;
    }
    snd_pcm_sframes_t delay = 0;
    if (snd_pcm_delay(playback->pcm, &delay) < 0 || delay < 0)
        return 0;
    return (uint64_t)delay;
}

/* Remove queue[0] and return it to the pool. Called with lock held. */
static void audio_playback_discard_oldest(struct audio_playback *playback)
{
    assert(playback->queue_count > 0);
    struct audio_playback_packet *oldest = playback->queue[0];
    playback->queued_frames -= oldest->frames;
    playback->queue_count--;
    memmove(&playback->queue[0], &playback->queue[1],
            (size_t)playback->queue_count * sizeof(playback->queue[0]));
    playback->free_list[playback->free_count++] = oldest;
}

/* Append decoded (or concealed) audio for the next packet to the FIFO.
 * Returns false when there is nothing to play (the stream is idle). */
static bool audio_playback_decode_next(struct audio_playback *playback, uint64_t delay_frames)
{
    int16_t *tail = playback->decoded + playback->decoded_frames * (size_t)playback->channels;
    struct audio_playback_packet packet;
    bool have_packet = false;

    pthread_mutex_lock(&playback->lock);
    if (!playback->playing && playback->queued_frames >= playback->target_frames)
        playback->playing = true;
    if (playback->playing && playback->queue_count > 0) {
        struct audio_playback_packet *head = playback->queue[0];
        packet.timestamp_us = head->timestamp_us;
        packet.pushed_us = head->pushed_us;
        packet.frames = head->frames;
        packet.size = head->size;
        memcpy(packet.data, head->data, head->size);
        if (head->timestamp_us != 0)
            playback->last_timestamp_us = head->timestamp_us;
        audio_playback_discard_oldest(playback);
        have_packet = true;
    } else if (playback->playing && playback->concealed_ticks >= AUDIO_PLAYBACK_CONCEAL_TICKS) {
        playback->playing = false;
        playback->last_timestamp_us = 0;
    }
    bool playing = playback->playing;
    pthread_mutex_unlock(&playback->lock);
    if (!playing) {
        if (playback->concealed_ticks > 0) {
            /* The talk-back stream ended: the next one starts afresh. */
            opus_decoder_ctl(playback->decoder, OPUS_RESET_STATE);
            playback->concealed_ticks = 0;
        }
        return false;
    }

    int frames;
    if (have_packet) {
        frames = opus_decode(playback->decoder, packet.data, (opus_int32)packet.size, tail,
                             AUDIO_PLAYBACK_MAX_DECODE, 0);
        playback->concealed_ticks = 0;
    } else {
        frames = opus_decode(playback->decoder, NULL, 0, tail, AUDIO_FRAME_FRAMES, 0);
        playback->concealed_ticks++;
    }
    bool failed = frames < 0;
    if (failed) {
        log_debug("opus_decode: %s", opus_strerror(frames));
        frames = AUDIO_FRAME_FRAMES;
        memset(tail, 0, (size_t)frames * (size_t)playback->channels * sizeof(*tail));
    }
    uint64_t offset = playback->decoded_frames;
    playback->decoded_frames += (size_t)frames;

    pthread_mutex_lock(&playback->lock);
    if (!have_packet) {
        playback->stats.frames_concealed += (uint64_t)frames;
    } else if (failed) {
        playback->stats.packets_invalid++;
    } else {
        playback->stats.packets_played++;
        uint64_t now = clock_realtime_us();
        uint64_t wait_us = now > packet.pushed_us ? now - packet.pushed_us : 0;
        playback->stats.latency_us =
            wait_us + (delay_frames + offset) * 1000000u / AUDIO_SAMPLE_RATE;
    }
    pthread_mutex_unlock(&playback->lock);
    return true;
}

/* Produce the next 20 ms into out: talk-back (or silence) plus queued PCM. */
static void audio_playback_produce(struct audio_playback *playback, int16_t *out)
{
    size_t channels = (size_t)playback->channels;
    uint64_t delay = audio_playback_device_delay(playback);
    while (playback->decoded_frames < AUDIO_FRAME_FRAMES) {
        if (!audio_playback_decode_next(playback, delay))
            break;
    }
    size_t take = playback->decoded_frames < AUDIO_FRAME_FRAMES ? playback->decoded_frames
                                                                : AUDIO_FRAME_FRAMES;
    memcpy(out, playback->decoded, take * channels * sizeof(*out));
    memset(out + take * channels, 0, (AUDIO_FRAME_FRAMES - take) * channels * sizeof(*out));
    playback->decoded_frames -= take;
    memmove(playback->decoded, playback->decoded + take * channels,
            playback->decoded_frames * channels * sizeof(*out));

    pthread_mutex_lock(&playback->lock);
    playback->stats.frames_silence += AUDIO_FRAME_FRAMES - take;
    size_t mix =
        playback->ring_count < AUDIO_FRAME_FRAMES ? playback->ring_count : AUDIO_FRAME_FRAMES;
    for (size_t i = 0; i < mix; i++) {
        int sample = playback->ring[playback->ring_head];
        playback->ring_head = (playback->ring_head + 1) % AUDIO_PLAYBACK_RING_FRAMES;
        for (size_t c = 0; c < channels; c++) {
            int value = out[i * channels + c] + sample;
            out[i * channels + c] = (int16_t)(value > 32767    ? 32767
                                              : value < -32768 ? -32768
                                                               : value);
        }
    }
    playback->ring_count -= mix;
    playback->stats.pcm_frames += mix;
    pthread_mutex_unlock(&playback->lock);
}

/* Write one tick to the device. 0, or -1 when stopping or the device was
 * dropped (the tick is lost then). */
static int audio_playback_write(struct audio_playback *playback, const int16_t *out)
{
    snd_pcm_uframes_t done = 0;
    while (done < AUDIO_FRAME_FRAMES) {
        if (atomic_load(&playback->stop))
            return -1;
        snd_pcm_sframes_t n = snd_pcm_writei(playback->pcm, out + done * (size_t)playback->channels,
                                             AUDIO_FRAME_FRAMES - done);
        if (n == -EAGAIN) {
            if (audio_playback_wait(playback) != 0)
                return -1;
            continue;
        }
        if (n < 0) {
            audio_playback_recover(playback, (int)n);
            if (playback->pcm == NULL)
                return -1;
            continue;
        }
        done += (snd_pcm_uframes_t)n;
    }
    pthread_mutex_lock(&playback->lock);
    playback->stats.frames_written += AUDIO_FRAME_FRAMES;
    pthread_mutex_unlock(&playback->lock);
    return 0;
}

/* CLOCK_REALTIME at which the next sample written leaves the speaker: on
 * the pacer's schedule in clock mode (continuous, even when this thread ran
 * late and catches up), else now plus what the device holds before it. */
static uint64_t audio_playback_play_time(struct audio_playback *playback)
{
    if (playback->pacer.mode == AUDIO_PACING_CLOCK)
        return audio_pacer_realtime_us(&playback->pacer, playback->pacer.frames);
    return clock_realtime_us() +
           audio_playback_device_delay(playback) * 1000000u / AUDIO_SAMPLE_RATE;
}

/* Hand the tick just written (its first channel) to the speaker history. */
static void audio_playback_remember(struct audio_playback *playback, const int16_t *out,
                                    uint64_t play_time_us)
{
    if (playback->history == NULL)
        return;
    for (size_t i = 0; i < AUDIO_FRAME_FRAMES; i++)
        playback->history_frame[i] = out[i * (size_t)playback->channels];
    speaker_history_append(playback->history, playback->history_frame, AUDIO_FRAME_FRAMES,
                           play_time_us);
}

/* The playback thread: one tick every 20 ms until stopped. */
static void *audio_playback_main(void *argument)
{
    struct audio_playback *playback = argument;
    int16_t out[AUDIO_FRAME_FRAMES * AUDIO_MAX_CHANNELS];

    while (!atomic_load(&playback->stop)) {
        if (playback->pcm == NULL && audio_playback_reopen(playback) != 0)
            continue;
        if (audio_playback_wait_room(playback) != 0)
            continue;
        audio_playback_produce(playback, out);
        uint64_t play_time_us = audio_playback_play_time(playback);
        if (audio_playback_write(playback, out) != 0)
            continue;
        audio_playback_remember(playback, out, play_time_us);
        audio_pacer_advance(&playback->pacer, AUDIO_FRAME_FRAMES);
        pthread_mutex_lock(&playback->lock);
        playback->stats.pacing = playback->pacer.mode;
        playback->stats.resyncs = playback->pacer.resyncs;
        pthread_mutex_unlock(&playback->lock);
    }
    return NULL;
}

/* See audio_playback.h. */
struct audio_playback *audio_playback_start(const struct audio_playback_config *config, char *error,
                                            size_t error_size)
{
    struct audio_playback_config resolved = {0};
    if (config != NULL)
        resolved = *config;
    if (resolved.device == NULL || resolved.device[0] == '\0')
        resolved.device = "default";
    if (resolved.alsa_config == NULL)
        resolved.alsa_config = "";
    if (resolved.channels == 0)
        resolved.channels = 1;
    if (resolved.jitter_target_ms == 0)
        resolved.jitter_target_ms = AUDIO_PLAYBACK_DEFAULT_TARGET_MS;
    if (resolved.jitter_max_ms == 0)
        resolved.jitter_max_ms = resolved.jitter_target_ms + AUDIO_PLAYBACK_DEFAULT_MAX_MS -
                                 AUDIO_PLAYBACK_DEFAULT_TARGET_MS;
    if (resolved.channels < 1 || resolved.channels > AUDIO_MAX_CHANNELS ||
        resolved.jitter_target_ms < 0 || resolved.jitter_target_ms > 1000 ||
        resolved.jitter_max_ms < resolved.jitter_target_ms + AUDIO_FRAME_MS ||
        resolved.jitter_max_ms > 2000 || resolved.pacing < AUDIO_PACING_AUTO ||
        resolved.pacing > AUDIO_PACING_CLOCK) {
        error_text_set(error, error_size,
                       "invalid playback settings (channels %d, jitter %d/%d ms)",
                       resolved.channels, resolved.jitter_target_ms, resolved.jitter_max_ms);
        return NULL;
    }
    if (strlen(resolved.device) >= AUDIO_PLAYBACK_NAME_SIZE ||
        strlen(resolved.alsa_config) >= AUDIO_PLAYBACK_NAME_SIZE) {
        error_text_set(error, error_size, "playback device or ALSA config name too long");
        return NULL;
    }

    struct audio_playback *playback = calloc(1, sizeof(*playback));
    if (playback == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    snprintf(playback->device, sizeof(playback->device), "%s", resolved.device);
    snprintf(playback->alsa_config, sizeof(playback->alsa_config), "%s", resolved.alsa_config);
    playback->channels = resolved.channels;
    playback->target_frames = resolved.jitter_target_ms * AUDIO_SAMPLE_RATE / 1000;
    playback->max_frames = resolved.jitter_max_ms * AUDIO_SAMPLE_RATE / 1000;
    playback->retry_ms = AUDIO_PLAYBACK_RETRY_MS;
    playback->pacer.mode = resolved.pacing;
    playback->history = resolved.history;
    atomic_init(&playback->stop, false);
    mutex_init_checked(&playback->lock);
    for (int i = 0; i < AUDIO_PLAYBACK_POOL; i++)
        playback->free_list[playback->free_count++] = &playback->pool[i];

    int err = OPUS_OK;
    playback->decoded = calloc((size_t)(AUDIO_PLAYBACK_MAX_DECODE + AUDIO_FRAME_FRAMES) *
                                   (size_t)playback->channels,
                               sizeof(*playback->decoded));
    playback->ring = calloc(AUDIO_PLAYBACK_RING_FRAMES, sizeof(*playback->ring));
    if (playback->decoded == NULL || playback->ring == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto fail;
    }
    playback->decoder = opus_decoder_create(AUDIO_SAMPLE_RATE, playback->channels, &err);
    if (playback->decoder == NULL || err != OPUS_OK) {
        error_text_set(error, error_size, "opus_decoder_create: %s", opus_strerror(err));
        goto fail;
    }
    if (audio_playback_open_device(playback, error, error_size) != 0)
        goto fail;
    err = pthread_create(&playback->thread, NULL, audio_playback_main, playback);
    if (err != 0) {
        error_text_set(error, error_size, "pthread_create: %s", strerror(err));
        goto fail;
    }
    pthread_setname_np(playback->thread, "audio-spk");
    log_info("playing to \"%s\" (%s): %d ch, 48 kHz, period %lu, buffer %lu, fill %lu frames, "
             "jitter %d/%d ms, pacing %s",
             playback->device, playback->setup.name, playback->channels,
             (unsigned long)playback->setup.period_frames,
             (unsigned long)playback->setup.buffer_frames, (unsigned long)playback->fill_frames,
             resolved.jitter_target_ms, resolved.jitter_max_ms, audio_pacing_name(resolved.pacing));
    return playback;

fail:
    if (playback->pcm != NULL)
        snd_pcm_close(playback->pcm);
    if (playback->decoder != NULL)
        opus_decoder_destroy(playback->decoder);
    free(playback->decoded);
    free(playback->ring);
    pthread_mutex_destroy(&playback->lock);
    free(playback);
    return NULL;
}

/* See audio_playback.h. snd_pcm_drop also makes the file plugin flush. */
void audio_playback_stop(struct audio_playback *playback)
{
    if (playback == NULL)
        return;
    atomic_store(&playback->stop, true);
    pthread_join(playback->thread, NULL);
    if (playback->pcm != NULL) {
        snd_pcm_drop(playback->pcm);
        snd_pcm_close(playback->pcm);
    }
    opus_decoder_destroy(playback->decoder);
    log_info("playback to \"%s\" stopped: %llu packets played, %llu late, %llu overflow, "
             "%llu underruns",
             playback->device, (unsigned long long)playback->stats.packets_played,
             (unsigned long long)playback->stats.packets_late,
             (unsigned long long)playback->stats.packets_overflow,
             (unsigned long long)playback->stats.underruns);
    pthread_mutex_destroy(&playback->lock);
    free(playback->decoded);
    free(playback->ring);
    free(playback);
}

/* See audio_playback.h. */
int audio_playback_push(struct audio_playback *playback, const uint8_t *packet, size_t size,
                        uint64_t timestamp_us)
{
    assert(playback != NULL);
    int frames = packet != NULL && size > 0 && size <= AUDIO_PLAYBACK_MAX_PACKET
                     ? opus_packet_get_nb_samples(packet, (opus_int32)size, AUDIO_SAMPLE_RATE)
                     : OPUS_BAD_ARG;
    uint64_t now = clock_realtime_us();
    int result = -1;

    pthread_mutex_lock(&playback->lock);
    playback->stats.packets_pushed++;
    if (frames <= 0 || frames > AUDIO_PLAYBACK_MAX_DECODE) {
        playback->stats.packets_invalid++;
        goto out;
    }
    int position = playback->queue_count;
    if (timestamp_us != 0) {
        if (playback->playing && timestamp_us <= playback->last_timestamp_us) {
            playback->stats.packets_late++;
            goto out;
        }
        while (position > 0 && (playback->queue[position - 1]->timestamp_us > timestamp_us))
            position--;
        if (position > 0 && playback->queue[position - 1]->timestamp_us == timestamp_us) {
            playback->stats.packets_late++; /* a duplicate */
            goto out;
        }
    }
    /* Make room: the oldest audio goes first, which may be this packet. */
    while (playback->queue_count > 0 &&
           (playback->free_count == 0 || playback->queued_frames + frames > playback->max_frames)) {
        playback->stats.packets_overflow++;
        if (position == 0)
            goto out;
        audio_playback_discard_oldest(playback);
        position--;
    }
    struct audio_playback_packet *slot = playback->free_list[--playback->free_count];
    slot->timestamp_us = timestamp_us;
    slot->pushed_us = now;
    slot->frames = frames;
    slot->size = size;
    memcpy(slot->data, packet, size);
    memmove(&playback->queue[position + 1], &playback->queue[position],
            (size_t)(playback->queue_count - position) * sizeof(playback->queue[0]));
    playback->queue[position] = slot;
    playback->queue_count++;
    playback->queued_frames += frames;
    result = 0;
out:
    pthread_mutex_unlock(&playback->lock);
    return result;
}

/* See audio_playback.h. */
int audio_playback_play_pcm(struct audio_playback *playback, const int16_t *samples, size_t frames)
{
    assert(playback != NULL && (samples != NULL || frames == 0));
    int result = -1;
    pthread_mutex_lock(&playback->lock);
    if (frames > AUDIO_PLAYBACK_RING_FRAMES - playback->ring_count) {
        playback->stats.pcm_dropped += frames;
        goto out;
    }
    size_t tail = (playback->ring_head + playback->ring_count) % AUDIO_PLAYBACK_RING_FRAMES;
    for (size_t i = 0; i < frames; i++)
        playback->ring[(tail + i) % AUDIO_PLAYBACK_RING_FRAMES] = samples[i];
    playback->ring_count += frames;
    result = 0;
out:
    pthread_mutex_unlock(&playback->lock);
    return result;
}

/* See audio_playback.h. */
int audio_playback_chime(struct audio_playback *playback)
{
    int16_t *chime = malloc(AUDIO_CHIME_FRAMES * sizeof(*chime));
    if (chime == NULL)
        return -1;
    size_t frames = audio_chime_generate(chime, AUDIO_CHIME_FRAMES);
    int result = audio_playback_play_pcm(playback, chime, frames);
    free(chime);
    return result;
}

/* See audio_playback.h. */
void audio_playback_get_stats(struct audio_playback *playback, struct audio_playback_stats *stats)
{
    assert(playback != NULL && stats != NULL);
    pthread_mutex_lock(&playback->lock);
    *stats = playback->stats;
    stats->queued_ms = playback->queued_frames * 1000 / AUDIO_SAMPLE_RATE;
    stats->playing = playback->playing;
    pthread_mutex_unlock(&playback->lock);
}
