/*
 * audio_capture.c - microphone -> Opus (see audio_capture.h).
 *
 * audio_capture_start() opens the PCM and the encoder on the caller's
 * thread, then the capture thread ("audio-mic") owns both: it reads 20 ms
 * frames (non-blocking reads + snd_pcm_wait with a timeout, so a hung device
 * never keeps stop waiting), paces them against the clock when the device
 * has no clock of its own (audio_alsa.c explains the null plugin), stamps,
 * measures and encodes each frame and calls the callback. Overruns are
 * recovered with snd_pcm_recover; a device that fails for good (unplugged
 * USB microphone, no data for 2 s) is closed and reopened with backoff. An
 * ALSA `file` device whose infile ran out is opened again at once, so a
 * recording plays in a loop (audio_alsa.c says how the end is seen).
 *
 * Before a frame is measured and encoded, the simulated room (sim_room.c,
 * tests only) adds what the speaker played a moment earlier, and the echo
 * canceller takes the speaker back out: its reference is what the speaker
 * played at the frame's capture time, read from the speaker history that
 * the playback thread fills (speaker_history.h explains the time line).
 * The reference of a frame is normally complete by the time the frame is
 * emitted: the playback thread writes 40-60 ms ahead of what is heard and
 * the frame is emitted after its last sample was captured. On a busy
 * machine the playback thread can run later than that; the frame then
 * waits for it, up to AUDIO_CAPTURE_SPEAKER_WAIT_MS (and, after a wait
 * that timed out, not again until the speaker has caught up); a reference
 * still missing is silence there (counted as reference_missing).
 *
 * The "sim" device has no PCM: the same thread synthesises 20 ms frames
 * (audio_sim.c), a voice while the sim scene's visitor is there, and the
 * pacer in CLOCK mode releases each when real time has caught up with it.
 *
 * `lock` guards `stats` only; everything else belongs to the capture thread
 * between start and stop. The struct, its encoder and its PCM are freed by
 * audio_capture_stop() after the thread has been joined.
 */
#define LOG_MODULE "audio"

#include "audio/audio_capture.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_sim.h"
#include "audio/echo_canceller.h"
#include "audio/sim_room.h"
#include "audio/speaker_history.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"

#define AUDIO_CAPTURE_WAIT_MS         100
#define AUDIO_CAPTURE_STALL_MS        2000  /* no data this long: reopen the device */
#define AUDIO_CAPTURE_RETRY_MS        1000  /* first reopen delay, doubling ... */
#define AUDIO_CAPTURE_RETRY_MAX_MS    30000 /* ... up to this */
#define AUDIO_CAPTURE_MIN_BITRATE     6000
#define AUDIO_CAPTURE_MAX_BITRATE     510000
#define AUDIO_CAPTURE_COMPLEXITY      5
#define AUDIO_CAPTURE_NAME_SIZE       256
#define AUDIO_CAPTURE_SPEAKER_WAIT_MS 60 /* the most a frame waits for its reference */

struct audio_capture {
    /* Set by start, read-only afterwards. */
    char device[AUDIO_CAPTURE_NAME_SIZE];
    char alsa_config[AUDIO_CAPTURE_NAME_SIZE];
    int channels;
    enum audio_pacing pacing;
    audio_capture_packet callback;
    void *context;
    pthread_t thread;
    atomic_bool stop;
    const atomic_int *sim_voice;
    struct speaker_history *speaker; /* not owned; NULL without a speaker */

    /* The capture thread's, between start and stop. */
    struct echo_canceller *canceller; /* NULL without a speaker */
    struct sim_room *room;            /* NULL unless --sim-room */
    int16_t reference[AUDIO_FRAME_FRAMES];
    uint64_t reference_missing;
    bool speaker_late;     /* the last wait for the speaker's reference timed out */
    snd_pcm_t *pcm;        /* NULL while waiting to reopen, and for "sim" */
    struct audio_sim *sim; /* "sim" only */
    struct audio_alsa_setup setup;
    OpusEncoder *encoder;
    struct audio_pacer pacer;
    int retry_ms;
    uint64_t frames_since_open; /* an input that ends before any frame is empty */

    pthread_mutex_t lock; /* guards stats */
    struct audio_capture_stats stats;
};

/* Open and configure the PCM (avail_min one period, for snd_pcm_wait).
 * 0, or -1 with a reason in error. */
static int audio_capture_open_device(struct audio_capture *capture, char *error, size_t error_size)
{
    struct audio_alsa_request request = {
        .device = capture->device,
        .alsa_config = capture->alsa_config[0] != '\0' ? capture->alsa_config : NULL,
        .stream = SND_PCM_STREAM_CAPTURE,
        .channels = (unsigned int)capture->channels,
    };
    snd_pcm_t *pcm = audio_alsa_open(&request, &capture->setup, error, error_size);
    if (pcm == NULL)
        return -1;
    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    int err = snd_pcm_sw_params_current(pcm, sw);
    if (err >= 0)
        err = snd_pcm_sw_params_set_avail_min(pcm, sw, capture->setup.period_frames);
    if (err >= 0)
        err = snd_pcm_sw_params(pcm, sw);
    if (err < 0) {
        error_text_set(error, error_size, "ALSA capture device \"%s\": software parameters: %s",
                       capture->device, snd_strerror(err));
        snd_pcm_close(pcm);
        return -1;
    }
    capture->pcm = pcm;
    capture->frames_since_open = 0;
    return 0;
}

/* Anchor the pacer and start the stream (state PREPARED -> RUNNING).
 * The pacer keeps what it already learnt about the device. 0 or -errno. */
static int audio_capture_start_stream(struct audio_capture *capture)
{
    audio_pacer_start(&capture->pacer, capture->pacer.mode, 0);
    return snd_pcm_start(capture->pcm);
}

/* Close the PCM after a failure it did not recover from; the loop reopens. */
static void audio_capture_drop_device(struct audio_capture *capture, const char *why)
{
    log_warn("capture device \"%s\": %s; reopening in %d ms", capture->device, why,
             capture->retry_ms);
    snd_pcm_close(capture->pcm);
    capture->pcm = NULL;
}

/* Sleep up to `ms` in short steps; returns early (true) when asked to stop. */
static bool audio_capture_sleep(struct audio_capture *capture, int ms)
{
    for (int slept = 0; slept < ms; slept += 50) {
        if (atomic_load(&capture->stop))
            return true;
        audio_sleep_until_ns(clock_monotonic_ns() + 50 * 1000000LL);
    }
    return atomic_load(&capture->stop);
}

/* Wait (with backoff) and open the device again. 0 when it is running. */
static int audio_capture_reopen(struct audio_capture *capture)
{
    if (audio_capture_sleep(capture, capture->retry_ms))
        return -1;
    char error[256];
    if (audio_capture_open_device(capture, error, sizeof(error)) != 0) {
        capture->retry_ms = capture->retry_ms * 2 > AUDIO_CAPTURE_RETRY_MAX_MS
                                ? AUDIO_CAPTURE_RETRY_MAX_MS
                                : capture->retry_ms * 2;
        log_warn("%s; next try in %d ms", error, capture->retry_ms);
        return -1;
    }
    int err = audio_capture_start_stream(capture);
    if (err < 0) {
        audio_capture_drop_device(capture, snd_strerror(err));
        return -1;
    }
    pthread_mutex_lock(&capture->lock);
    capture->stats.reopens++;
    pthread_mutex_unlock(&capture->lock);
    log_info("capture device \"%s\" reopened", capture->device);
    capture->retry_ms = AUDIO_CAPTURE_RETRY_MS;
    return 0;
}

/* A read or wait failed with err: count it, recover, restart the stream. */
static void audio_capture_recover(struct audio_capture *capture, int err)
{
    pthread_mutex_lock(&capture->lock);
    uint64_t count = err == -EPIPE ? ++capture->stats.overruns : ++capture->stats.read_errors;
    pthread_mutex_unlock(&capture->lock);
    if (count == 1 || count % 100 == 0)
        log_warn("capture %s (%llu so far), recovering",
                 err == -EPIPE ? "overrun" : snd_strerror(err), (unsigned long long)count);
    int rc = snd_pcm_recover(capture->pcm, err, 1);
    if (rc == 0 && snd_pcm_state(capture->pcm) != SND_PCM_STATE_RUNNING)
        rc = audio_capture_start_stream(capture);
    if (rc < 0)
        audio_capture_drop_device(capture, snd_strerror(rc));
}

/* CLOCK_REALTIME of the first sample of the frame just read: from the
 * schedule when the pacer drives the stream, otherwise now minus what the
 * device still holds minus the frame itself. */
static uint64_t audio_capture_frame_time(struct audio_capture *capture)
{
    if (capture->pacer.mode == AUDIO_PACING_CLOCK)
        return audio_pacer_realtime_us(&capture->pacer, capture->pacer.frames - AUDIO_FRAME_FRAMES);
    snd_pcm_sframes_t delay = 0;
    if (snd_pcm_delay(capture->pcm, &delay) < 0 || delay < 0)
        delay = 0;
    uint64_t held_us = ((uint64_t)delay + AUDIO_FRAME_FRAMES) * 1000000u / AUDIO_SAMPLE_RATE;
    uint64_t now = clock_realtime_us();
    return now > held_us ? now - held_us : 0;
}

/* Add the simulated room, take the echo out, then measure, encode and
 * deliver one complete frame (changed in place). */
static void audio_capture_emit(struct audio_capture *capture, int16_t *frame,
                               uint64_t capture_time_us)
{
    assert(capture->channels >= 1 && capture->channels <= AUDIO_MAX_CHANNELS);
    struct echo_canceller_stats echo = {0};
    if (capture->speaker != NULL && !capture->speaker_late) {
        /* The playback thread may be late on a busy machine: wait a little
         * for it, once; while it stays late, do not wait again. */
        uint64_t end_us =
            capture_time_us + (uint64_t)AUDIO_FRAME_FRAMES * 1000000u / AUDIO_SAMPLE_RATE;
        capture->speaker_late =
            !speaker_history_wait(capture->speaker, end_us, AUDIO_CAPTURE_SPEAKER_WAIT_MS);
    } else if (capture->speaker != NULL) {
        capture->speaker_late = !speaker_history_wait(
            capture->speaker,
            capture_time_us + (uint64_t)AUDIO_FRAME_FRAMES * 1000000u / AUDIO_SAMPLE_RATE, 0);
    }
    if (capture->room != NULL)
        sim_room_apply(capture->room, frame, AUDIO_FRAME_FRAMES, capture_time_us);
    if (capture->canceller != NULL) {
        size_t found = speaker_history_read(capture->speaker, capture_time_us, capture->reference,
                                            AUDIO_FRAME_FRAMES);
        if (found < AUDIO_FRAME_FRAMES)
            capture->reference_missing++;
        echo_canceller_process(capture->canceller, frame, capture->reference);
        echo_canceller_get_stats(capture->canceller, &echo);
    }
    size_t samples = (size_t)AUDIO_FRAME_FRAMES * (size_t)capture->channels;
    double sum = 0.0;
    int peak = 0;
    for (size_t i = 0; i < samples; i++) {
        int value = frame[i];
        sum += (double)value * value;
        if (abs(value) > peak)
            peak = abs(value);
    }
    uint8_t packet[AUDIO_CAPTURE_MAX_PACKET];
    opus_int32 size = opus_encode(capture->encoder, frame, AUDIO_FRAME_FRAMES, packet,
                                  (opus_int32)sizeof(packet));
    uint64_t now = clock_realtime_us();

    pthread_mutex_lock(&capture->lock);
    struct audio_capture_stats *stats = &capture->stats;
    stats->rms = (float)(sqrt(sum / (double)samples) / 32768.0);
    stats->peak = (float)peak / 32768.0f;
    stats->pacing = capture->pacer.mode;
    stats->resyncs = capture->pacer.resyncs;
    stats->echo_active = capture->canceller != NULL;
    stats->echo = echo;
    stats->reference_missing = capture->reference_missing;
    if (size < 0) {
        stats->encode_errors++;
    } else {
        stats->packets++;
        stats->bytes += (uint64_t)size;
        stats->latency_us = now > capture_time_us ? now - capture_time_us : 0;
    }
    pthread_mutex_unlock(&capture->lock);

    if (size < 0) {
        log_warn("opus_encode: %s", opus_strerror(size));
        return;
    }
    capture->callback(packet, (size_t)size, capture_time_us, capture->context);
}

/* The infile of a `file` device ran out: close the device and open it again
 * (which reopens the infile at its start), keeping the pacer's schedule so
 * the capture times run on without a gap. A device that does not open again
 * goes to the reopen-with-backoff path. */
static void audio_capture_restart_input(struct audio_capture *capture)
{
    char error[256];
    if (capture->frames_since_open == 0) {
        /* Opening it again would end at once, again and again. */
        audio_capture_drop_device(capture, "the input is empty");
        return;
    }
    pthread_mutex_lock(&capture->lock);
    uint64_t count = ++capture->stats.input_restarts;
    pthread_mutex_unlock(&capture->lock);
    log_info("capture device \"%s\": input ended, playing it again (%llu)", capture->device,
             (unsigned long long)count);
    snd_pcm_drop(capture->pcm);
    snd_pcm_close(capture->pcm);
    capture->pcm = NULL;
    if (audio_capture_open_device(capture, error, sizeof(error)) != 0) {
        log_warn("%s; next try in %d ms", error, capture->retry_ms);
        return;
    }
    int err = snd_pcm_start(capture->pcm);
    if (err < 0)
        audio_capture_drop_device(capture, snd_strerror(err));
}

/* The capture thread for "sim": synthesise, pace, emit until stopped. */
static void *audio_capture_sim_main(struct audio_capture *capture)
{
    int16_t frame[AUDIO_FRAME_FRAMES * AUDIO_MAX_CHANNELS];

    audio_pacer_start(&capture->pacer, AUDIO_PACING_CLOCK, 0);
    while (!atomic_load(&capture->stop)) {
        int voice = capture->sim_voice != NULL && atomic_load(capture->sim_voice) != 0;
        audio_sim_render(capture->sim, frame, AUDIO_FRAME_FRAMES, capture->channels, voice);
        pthread_mutex_lock(&capture->lock);
        capture->stats.speaking = audio_sim_speaking(capture->sim);
        pthread_mutex_unlock(&capture->lock);
        /* Released when its last sample would have been heard. */
        audio_pacer_advance(&capture->pacer, AUDIO_FRAME_FRAMES);
        audio_capture_emit(capture, frame, audio_capture_frame_time(capture));
    }
    return NULL;
}

/* The capture thread: read, pace, emit until stopped. */
static void *audio_capture_main(void *argument)
{
    struct audio_capture *capture = argument;
    int16_t frame[AUDIO_FRAME_FRAMES * AUDIO_MAX_CHANNELS];
    snd_pcm_uframes_t got = 0;
    int idle_ms = 0;

    if (capture->sim != NULL)
        return audio_capture_sim_main(capture);
    int err = audio_capture_start_stream(capture);
    if (err < 0)
        audio_capture_drop_device(capture, snd_strerror(err));
    while (!atomic_load(&capture->stop)) {
        if (capture->pcm == NULL) {
            if (audio_capture_reopen(capture) != 0)
                continue;
            got = 0;
            idle_ms = 0;
        }
        /* Samples a device does not deliver stay silent. */
        memset(frame + got * (size_t)capture->channels, 0,
               (AUDIO_FRAME_FRAMES - got) * (size_t)capture->channels * sizeof(frame[0]));
        snd_pcm_sframes_t n = snd_pcm_readi(capture->pcm, frame + got * (size_t)capture->channels,
                                            AUDIO_FRAME_FRAMES - got);
        /* The `file` plugin's infile ran out: 1.2.8 (bookworm) reports a full
         * read without writing anything, earlier versions return 0. What
         * this read got is not sound; play the file again from the start. */
        if (audio_alsa_take_input_ended() || n == 0) {
            audio_capture_restart_input(capture);
            continue;
        }
        if (n == -EAGAIN) {
            int ready = snd_pcm_wait(capture->pcm, AUDIO_CAPTURE_WAIT_MS);
            if (ready < 0) {
                audio_capture_recover(capture, ready);
                got = 0;
            } else if (ready == 0 && (idle_ms += AUDIO_CAPTURE_WAIT_MS) >= AUDIO_CAPTURE_STALL_MS) {
                pthread_mutex_lock(&capture->lock);
                capture->stats.read_errors++;
                pthread_mutex_unlock(&capture->lock);
                audio_capture_drop_device(capture, "no data for 2 s");
            }
            continue;
        }
        if (n < 0) {
            audio_capture_recover(capture, (int)n);
            got = 0;
            continue;
        }
        idle_ms = 0;
        capture->frames_since_open += (uint64_t)n;
        got += (snd_pcm_uframes_t)n;
        assert(got <= AUDIO_FRAME_FRAMES);
        if (got < AUDIO_FRAME_FRAMES)
            continue;
        got = 0;
        audio_pacer_advance(&capture->pacer, AUDIO_FRAME_FRAMES);
        audio_capture_emit(capture, frame, audio_capture_frame_time(capture));
    }
    return NULL;
}

/* Create the Opus encoder for 20 ms frames at the configured bitrate. */
static OpusEncoder *audio_capture_encoder(int channels, int bitrate, char *error, size_t error_size)
{
    int err = OPUS_OK;
    OpusEncoder *encoder = opus_encoder_create(AUDIO_SAMPLE_RATE, channels,
                                               OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
    if (encoder == NULL || err != OPUS_OK) {
        error_text_set(error, error_size, "opus_encoder_create: %s", opus_strerror(err));
        return NULL;
    }
    if (opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate)) != OPUS_OK ||
        opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(AUDIO_CAPTURE_COMPLEXITY)) != OPUS_OK ||
        opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(0)) != OPUS_OK ||
        opus_encoder_ctl(encoder, OPUS_SET_DTX(0)) != OPUS_OK ||
        opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(0)) != OPUS_OK) {
        error_text_set(error, error_size, "opus_encoder_ctl refused the settings");
        opus_encoder_destroy(encoder);
        return NULL;
    }
    return encoder;
}

/* See audio_capture.h. */
struct audio_capture *audio_capture_start(const struct audio_capture_config *config,
                                          audio_capture_packet callback, void *context, char *error,
                                          size_t error_size)
{
    struct audio_capture_config resolved = {0};
    if (config != NULL)
        resolved = *config;
    if (resolved.device == NULL || resolved.device[0] == '\0')
        resolved.device = "default";
    if (resolved.alsa_config == NULL)
        resolved.alsa_config = "";
    if (resolved.channels == 0)
        resolved.channels = 1;
    if (resolved.bitrate_bps == 0)
        resolved.bitrate_bps = AUDIO_CAPTURE_DEFAULT_BITRATE;
    if (callback == NULL || resolved.channels < 1 || resolved.channels > AUDIO_MAX_CHANNELS ||
        resolved.bitrate_bps < AUDIO_CAPTURE_MIN_BITRATE ||
        resolved.bitrate_bps > AUDIO_CAPTURE_MAX_BITRATE || resolved.pacing < AUDIO_PACING_AUTO ||
        resolved.pacing > AUDIO_PACING_CLOCK) {
        error_text_set(error, error_size,
                       "invalid capture settings (channels %d, bitrate %d, pacing %d)",
                       resolved.channels, resolved.bitrate_bps, (int)resolved.pacing);
        return NULL;
    }
    if (strlen(resolved.device) >= AUDIO_CAPTURE_NAME_SIZE ||
        strlen(resolved.alsa_config) >= AUDIO_CAPTURE_NAME_SIZE) {
        error_text_set(error, error_size, "capture device or ALSA config name too long");
        return NULL;
    }

    struct audio_capture *capture = calloc(1, sizeof(*capture));
    if (capture == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    snprintf(capture->device, sizeof(capture->device), "%s", resolved.device);
    snprintf(capture->alsa_config, sizeof(capture->alsa_config), "%s", resolved.alsa_config);
    capture->channels = resolved.channels;
    capture->pacing = resolved.pacing;
    capture->callback = callback;
    capture->context = context;
    capture->retry_ms = AUDIO_CAPTURE_RETRY_MS;
    capture->pacer.mode = resolved.pacing;
    capture->sim_voice = resolved.sim_voice;
    capture->speaker = resolved.channels == 1 ? resolved.speaker : NULL;
    atomic_init(&capture->stop, false);
    mutex_init_checked(&capture->lock);

    capture->encoder =
        audio_capture_encoder(resolved.channels, resolved.bitrate_bps, error, error_size);
    if (capture->encoder == NULL)
        goto fail;
    if (capture->speaker != NULL) {
        capture->canceller = echo_canceller_create(resolved.echo_mode, AUDIO_FRAME_FRAMES,
                                                   resolved.echo_tail_ms, error, error_size);
        if (capture->canceller == NULL)
            goto fail;
        /* `stats` shows the canceller from the start, before the first frame. */
        capture->stats.echo_active = 1;
        echo_canceller_get_stats(capture->canceller, &capture->stats.echo);
        if (resolved.sim_room != NULL) {
            capture->room = sim_room_create(resolved.sim_room, capture->speaker);
            if (capture->room == NULL) {
                error_text_set(error, error_size, "out of memory");
                goto fail;
            }
            log_info("simulated room: the speaker reaches the microphone after %d ms at "
                     "%.1f dB",
                     resolved.sim_room->delay_ms, resolved.sim_room->gain_db);
        }
    }
    if (strcmp(capture->device, AUDIO_CAPTURE_SIM_DEVICE) == 0) {
        capture->sim = audio_sim_create(1);
        if (capture->sim == NULL) {
            error_text_set(error, error_size, "out of memory");
            goto fail;
        }
        capture->pacing = AUDIO_PACING_CLOCK;
        snprintf(capture->setup.name, sizeof(capture->setup.name), "synthesised street and voice");
        capture->setup.period_frames = AUDIO_FRAME_FRAMES;
        capture->setup.buffer_frames = AUDIO_FRAME_FRAMES;
    } else if (audio_capture_open_device(capture, error, error_size) != 0) {
        goto fail;
    }
    int err = pthread_create(&capture->thread, NULL, audio_capture_main, capture);
    if (err != 0) {
        error_text_set(error, error_size, "pthread_create: %s", strerror(err));
        goto fail;
    }
    pthread_setname_np(capture->thread, "audio-mic");
    log_info(
        "capturing from \"%s\" (%s): %d ch, 48 kHz, period %lu, buffer %lu frames, "
        "Opus %d bit/s, pacing %s, echo %s",
        capture->device, capture->setup.name, capture->channels,
        (unsigned long)capture->setup.period_frames, (unsigned long)capture->setup.buffer_frames,
        resolved.bitrate_bps, audio_pacing_name(capture->pacing),
        capture->canceller != NULL ? echo_cancel_mode_name(resolved.echo_mode) : "(no speaker)");
    return capture;

fail:
    if (capture->pcm != NULL)
        snd_pcm_close(capture->pcm);
    sim_room_destroy(capture->room);
    echo_canceller_destroy(capture->canceller);
    audio_sim_destroy(capture->sim);
    if (capture->encoder != NULL)
        opus_encoder_destroy(capture->encoder);
    pthread_mutex_destroy(&capture->lock);
    free(capture);
    return NULL;
}

/* See audio_capture.h. */
void audio_capture_stop(struct audio_capture *capture)
{
    if (capture == NULL)
        return;
    atomic_store(&capture->stop, true);
    pthread_join(capture->thread, NULL);
    if (capture->pcm != NULL) {
        snd_pcm_drop(capture->pcm);
        snd_pcm_close(capture->pcm);
    }
    opus_encoder_destroy(capture->encoder);
    sim_room_destroy(capture->room);
    echo_canceller_destroy(capture->canceller);
    audio_sim_destroy(capture->sim);
    pthread_mutex_destroy(&capture->lock);
    log_info("capture from \"%s\" stopped: %llu packets, %llu overruns", capture->device,
             (unsigned long long)capture->stats.packets,
             (unsigned long long)capture->stats.overruns);
    free(capture);
}

/* See audio_capture.h. */
void audio_capture_get_stats(struct audio_capture *capture, struct audio_capture_stats *stats)
{
    assert(capture != NULL && stats != NULL);
    pthread_mutex_lock(&capture->lock);
    *stats = capture->stats;
    pthread_mutex_unlock(&capture->lock);
}
