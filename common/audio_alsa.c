/*
 * audio_alsa.c - ALSA helpers shared by the microphone and speaker modules
 * (see audio_alsa.h): opening a PCM from the usual ALSA configuration or
 * from a private configuration tree that adds one asoundrc, the 48 kHz
 * S16_LE set-up with the "plug:" fallback, and the real-time pacer.
 *
 * Called on the capture and playback threads (and by their start functions
 * on the caller's thread). No shared state of our own: each call builds and
 * frees its configuration tree, each pacer belongs to one thread. The only
 * process-wide effect is alsa-lib's error handler, installed once through
 * pthread_once.
 *
 * Why a pacer: alsa-lib's `null` PCM (src/pcm/pcm_null.c) has no clock at
 * all. Its avail_update() always reports the whole buffer, start() on a
 * capture stream puts hw_ptr a full buffer ahead of appl_ptr, and every
 * transfer just advances both pointers without touching the samples, so
 * readi()/writei() return at once, snd_pcm_wait() polls /dev/full (capture)
 * or /dev/null (playback), which are always ready, and delay() is always 0.
 * The `file` plugin (src/pcm/pcm_file.c) forwards each transfer to that
 * slave, then copies what read() got from `infile` into the caller's
 * buffer and appends what moved to `file` (held back by one buffer,
 * flushed on drop/drain). So a `file`-over-`null` device runs as fast as it
 * is driven: `arecord -d 2` on it returns in ~10 ms, and 1.2.8 (bookworm)
 * keeps returning full reads after `infile` is exhausted while leaving the
 * buffer untouched (and reporting "invalid frames 0" through the error
 * handler on each such read: how the capture module learns that the input
 * ended, see audio_alsa_take_input_ended); earlier versions returned what
 * read() got from `infile`, so 0 at its end. Real devices (hw, dsnoop/dmix, pulse)
 * never deliver a sample before it was captured nor take more than a buffer ahead of playback,
 * which is what audio_pacer uses to tell them apart.
 */
#define LOG_MODULE "audio"

#include "common/audio_alsa.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"

#define AUDIO_NS_PER_SECOND 1000000000LL
#define AUDIO_PERIODS       4
/* A real device can be this early against our clock (start-up jitter). */
#define AUDIO_PACER_SLACK_NS (5 * 1000000LL)
/* AUTO settles on DEVICE after this long without being early. */
#define AUDIO_PACER_PROBATION_NS AUDIO_NS_PER_SECOND
/* CLOCK mode: further behind than this (a stalled consumer) skips ahead. */
#define AUDIO_PACER_RESYNC_NS (200 * 1000000LL)

static pthread_once_t audio_alsa_once = PTHREAD_ONCE_INIT;

/* Set on the thread whose read found a `file` device's infile exhausted;
 * taken by audio_alsa_take_input_ended(). */
static _Thread_local int audio_alsa_input_ended;

/* alsa-lib's error messages, into our log (whose rate limit keeps a message
 * repeated on every read down to a few lines). One message is an event,
 * not an error: the `file` plugin reading its infile at the end copies 0
 * frames and snd_pcm_areas_copy() complains "invalid frames 0"; the capture
 * thread that made the read learns of it through the flag above. */
__attribute__((format(printf, 5, 6))) static void
audio_alsa_error_handler(const char *file, int line, const char *function, int err,
                         const char *format, ...)
{
    char text[200];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    size_t length = strlen(text);
    while (length > 0 && text[length - 1] == '\n')
        text[--length] = '\0';
    if (function != NULL && strcmp(function, "snd_pcm_areas_copy") == 0 &&
        strcmp(text, "invalid frames 0") == 0) {
        audio_alsa_input_ended = 1;
        log_debug("alsa-lib %s:%d (%s): %s: the input ended", file, line, function, text);
        return;
    }
    log_warn("alsa-lib %s:%d (%s): %s%s%s", file, line, function, text, err ? ": " : "",
             err ? snd_strerror(err) : "");
}

/* See audio_alsa.h. */
int audio_alsa_take_input_ended(void)
{
    int ended = audio_alsa_input_ended;
    audio_alsa_input_ended = 0;
    return ended;
}

/* Install the error handler (pthread_once callback). */
static void audio_alsa_init(void)
{
    snd_lib_error_set_handler(audio_alsa_error_handler);
}

/* Build a private configuration: alsa.conf (with its hooks: /etc/asound.conf,
 * ~/.asoundrc, ...) followed by `path`. Fills *top and *update (the caller
 * frees them with snd_config_delete / snd_config_update_free). 0 or -1. */
static int audio_alsa_load_config(const char *path, snd_config_t **top,
                                  snd_config_update_t **update, char *error, size_t error_size)
{
    char files[1024];
    /* snd_config_update_r() splits its list at ':' and ' '. */
    if (strpbrk(path, ": \t") != NULL) {
        error_text_set(error, error_size, "ALSA config path \"%s\" must not contain ':' or spaces",
                       path);
        return -1;
    }
    if (access(path, R_OK) != 0) {
        error_text_set(error, error_size, "ALSA config %s: %s", path, strerror(errno));
        return -1;
    }
    int length = snprintf(files, sizeof(files), "%s/alsa.conf:%s", snd_config_topdir(), path);
    if (length < 0 || (size_t)length >= sizeof(files)) {
        error_text_set(error, error_size, "ALSA config path too long");
        return -1;
    }
    int err = snd_config_update_r(top, update, files);
    if (err < 0) {
        error_text_set(error, error_size, "ALSA config %s: %s", path, snd_strerror(err));
        if (*update != NULL)
            snd_config_update_free(*update);
        if (*top != NULL)
            snd_config_delete(*top);
        *top = NULL;
        *update = NULL;
        return -1;
    }
    return 0;
}

/* Set 48 kHz S16_LE interleaved, `channels`, period ~20 ms, buffer ~4
 * periods. 0, or -1 with a reason naming what the device refused. */
static int audio_alsa_configure(snd_pcm_t *pcm, unsigned int channels,
                                struct audio_alsa_setup *setup, char *error, size_t error_size)
{
    snd_pcm_hw_params_t *hw;
    snd_pcm_hw_params_alloca(&hw);
    const char *step = "query";
    int err = snd_pcm_hw_params_any(pcm, hw);
    if (err < 0)
        goto out;
    step = "interleaved access";
    err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED);
    if (err < 0)
        goto out;
    step = "S16_LE";
    err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE);
    if (err < 0)
        goto out;
    step = "channel count";
    err = snd_pcm_hw_params_set_channels(pcm, hw, channels);
    if (err < 0)
        goto out;
    step = "48000 Hz";
    err = snd_pcm_hw_params_set_rate(pcm, hw, AUDIO_SAMPLE_RATE, 0);
    if (err < 0)
        goto out;
    step = "period size";
    snd_pcm_uframes_t period = AUDIO_FRAME_FRAMES;
    int dir = 0;
    err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir);
    if (err < 0)
        goto out;
    step = "buffer size";
    snd_pcm_uframes_t buffer = period * AUDIO_PERIODS;
    err = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer);
    if (err < 0)
        goto out;
    step = "hardware parameters";
    err = snd_pcm_hw_params(pcm, hw);
    if (err < 0)
        goto out;
    snd_pcm_hw_params_get_period_size(hw, &setup->period_frames, &dir);
    snd_pcm_hw_params_get_buffer_size(hw, &setup->buffer_frames);
    if (setup->period_frames == 0 || setup->buffer_frames < 2 * setup->period_frames) {
        step = "period/buffer sizes";
        err = -EINVAL;
        goto out;
    }
out:
    if (err < 0)
        error_text_set(error, error_size, "cannot set %s: %s", step, snd_strerror(err));
    return err < 0 ? -1 : 0;
}

/* Open `name` (non-blocking) from `top` or the global configuration. */
static int audio_alsa_open_name(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
                                snd_config_t *top)
{
    if (top != NULL)
        return snd_pcm_open_lconf(pcm, name, stream, SND_PCM_NONBLOCK, top);
    return snd_pcm_open(pcm, name, stream, SND_PCM_NONBLOCK);
}

/* See audio_alsa.h. The configuration tree only lives during the call:
 * plugins copy what they need at open time. */
snd_pcm_t *audio_alsa_open(const struct audio_alsa_request *request, struct audio_alsa_setup *setup,
                           char *error, size_t error_size)
{
    assert(request != NULL && setup != NULL);
    pthread_once(&audio_alsa_once, audio_alsa_init);
    memset(setup, 0, sizeof(*setup));
    const char *device =
        request->device != NULL && request->device[0] != '\0' ? request->device : "default";
    const char *direction = request->stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback";
    snd_config_t *top = NULL;
    snd_config_update_t *update = NULL;
    snd_pcm_t *pcm = NULL;
    char reason[160] = "";

    if (request->channels < 1 || request->channels > AUDIO_MAX_CHANNELS) {
        error_text_set(error, error_size, "unsupported channel count %u", request->channels);
        goto out;
    }
    if (strlen(device) + sizeof("plug:\"\"") > sizeof(setup->name)) {
        error_text_set(error, error_size, "ALSA device name too long");
        goto out;
    }
    if (request->alsa_config != NULL && request->alsa_config[0] != '\0' &&
        audio_alsa_load_config(request->alsa_config, &top, &update, error, error_size) != 0)
        goto out;

    int err = audio_alsa_open_name(&pcm, device, request->stream, top);
    if (err < 0) {
        pcm = NULL;
        error_text_set(error, error_size, "ALSA %s device \"%s\": %s", direction, device,
                       snd_strerror(err));
        goto out;
    }
    snprintf(setup->name, sizeof(setup->name), "%s", device);
    if (audio_alsa_configure(pcm, request->channels, setup, reason, sizeof(reason)) == 0)
        goto out;

    /* The device cannot do it natively (e.g. "hw:0" at 44.1 kHz only, or a
     * different sample format): let the plug layer convert. */
    snd_pcm_close(pcm);
    pcm = NULL;
    if (strncmp(device, "plug", 4) == 0 || strchr(device, '"') != NULL) {
        error_text_set(error, error_size, "ALSA %s device \"%s\": %s", direction, device, reason);
        goto out;
    }
    snprintf(setup->name, sizeof(setup->name), "plug:\"%s\"", device);
    err = audio_alsa_open_name(&pcm, setup->name, request->stream, top);
    if (err < 0) {
        pcm = NULL;
        error_text_set(error, error_size, "ALSA %s device \"%s\": %s; %s: %s", direction, device,
                       reason, setup->name, snd_strerror(err));
        goto out;
    }
    char plug_reason[160] = "";
    if (audio_alsa_configure(pcm, request->channels, setup, plug_reason, sizeof(plug_reason)) !=
        0) {
        snd_pcm_close(pcm);
        pcm = NULL;
        error_text_set(error, error_size, "ALSA %s device \"%s\": %s; through plug: %s", direction,
                       device, reason, plug_reason);
        goto out;
    }
    setup->plug = 1;
    log_info("%s device \"%s\" (%s) needs conversion, using %s", direction, device, reason,
             setup->name);
out:
    if (update != NULL)
        snd_config_update_free(update);
    if (top != NULL)
        snd_config_delete(top);
    return pcm;
}

/* See audio_alsa.h. */
int audio_pacing_parse(const char *text, enum audio_pacing *out)
{
    static const enum audio_pacing all[] = {AUDIO_PACING_AUTO, AUDIO_PACING_DEVICE,
                                            AUDIO_PACING_CLOCK};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (text != NULL && strcmp(text, audio_pacing_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

/* See audio_alsa.h. */
const char *audio_pacing_name(enum audio_pacing pacing)
{
    switch (pacing) {
    case AUDIO_PACING_DEVICE:
        return "device";
    case AUDIO_PACING_CLOCK:
        return "clock";
    case AUDIO_PACING_AUTO:
    default:
        return "auto";
    }
}

/* Absolute CLOCK_MONOTONIC sleep, restarted after signals. */
void audio_sleep_until_ns(int64_t deadline_ns)
{
    struct timespec due = {.tv_sec = (time_t)(deadline_ns / AUDIO_NS_PER_SECOND),
                           .tv_nsec = (long)(deadline_ns % AUDIO_NS_PER_SECOND)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
        ;
}

/* See audio_alsa.h. */
void audio_pacer_start(struct audio_pacer *pacer, enum audio_pacing mode, uint64_t lead_frames)
{
    uint64_t resyncs = pacer->resyncs;
    memset(pacer, 0, sizeof(*pacer));
    pacer->mode = mode;
    pacer->lead_frames = lead_frames;
    pacer->anchor_ns = clock_monotonic_ns();
    pacer->anchor_realtime_us = clock_realtime_us();
    pacer->resyncs = resyncs;
}

/* Nanoseconds of `frames` at 48 kHz. */
static int64_t audio_frames_ns(uint64_t frames)
{
    return (int64_t)(frames * (uint64_t)AUDIO_NS_PER_SECOND / AUDIO_SAMPLE_RATE);
}

/* See audio_alsa.h. */
void audio_pacer_advance(struct audio_pacer *pacer, uint64_t frames)
{
    pacer->frames += frames;
    if (pacer->mode == AUDIO_PACING_DEVICE)
        return;
    uint64_t due_frames =
        pacer->frames > pacer->lead_frames ? pacer->frames - pacer->lead_frames : 0;
    int64_t due_ns = pacer->anchor_ns + audio_frames_ns(due_frames);
    int64_t now_ns = clock_monotonic_ns();
    int64_t early_ns = due_ns - now_ns;
    if (pacer->mode == AUDIO_PACING_AUTO) {
        if (early_ns > AUDIO_PACER_SLACK_NS) {
            pacer->mode = AUDIO_PACING_CLOCK;
            log_info("device runs faster than real time (%lld ms early after %llu frames): "
                     "pacing against the clock",
                     (long long)(early_ns / 1000000), (unsigned long long)pacer->frames);
        } else {
            if (now_ns - pacer->anchor_ns >= AUDIO_PACER_PROBATION_NS)
                pacer->mode = AUDIO_PACING_DEVICE;
            return;
        }
    }
    if (-early_ns > AUDIO_PACER_RESYNC_NS) {
        /* The consumer stalled: skip the schedule ahead instead of bursting. */
        pacer->anchor_ns += -early_ns;
        pacer->anchor_realtime_us += (uint64_t)(-early_ns / 1000);
        pacer->resyncs++;
        return;
    }
    if (early_ns > 0)
        audio_sleep_until_ns(due_ns);
}

/* See audio_alsa.h. */
int64_t audio_pacer_ahead(const struct audio_pacer *pacer)
{
    int64_t elapsed_ns = clock_monotonic_ns() - pacer->anchor_ns;
    int64_t elapsed_frames = elapsed_ns * AUDIO_SAMPLE_RATE / AUDIO_NS_PER_SECOND;
    return (int64_t)pacer->frames - elapsed_frames;
}

/* See audio_alsa.h. */
uint64_t audio_pacer_realtime_us(const struct audio_pacer *pacer, uint64_t frame)
{
    return pacer->anchor_realtime_us + frame * 1000000u / AUDIO_SAMPLE_RATE;
}
