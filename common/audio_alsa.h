/*
 * audio_alsa.h - what the doorbell's microphone (audio_capture) and speaker
 * (audio_playback) share: opening an ALSA PCM by name, optionally from an
 * extra asoundrc, configured for 48 kHz S16_LE interleaved with ~20 ms
 * periods (falling back to the "plug" layer when the device cannot do that
 * directly), and the real-time pacer for devices that move data faster than
 * real time (the `file` plugin over `null` used by tests and `make run`).
 *
 * Every function here runs on the calling thread and keeps no global state
 * except alsa-lib's error handler, installed once (routes alsa-lib's
 * messages into our log).
 */
#ifndef DOORSTEP_AUDIO_ALSA_H
#define DOORSTEP_AUDIO_ALSA_H

#include <alsa/asoundlib.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIO_SAMPLE_RATE  48000
#define AUDIO_FRAME_MS     20
#define AUDIO_FRAME_FRAMES (AUDIO_SAMPLE_RATE * AUDIO_FRAME_MS / 1000) /* 960 per channel */
#define AUDIO_MAX_CHANNELS 2

/* How a stream is kept in real time. */
enum audio_pacing {
    AUDIO_PACING_AUTO = 0, /* trust the device unless it proves to be faster than real time */
    AUDIO_PACING_DEVICE,   /* the device blocks us (real hardware, dmix/dsnoop, pulse) */
    AUDIO_PACING_CLOCK,    /* pace against CLOCK_MONOTONIC deadlines (file/null devices) */
};

/* What audio_alsa_open() asks for. */
struct audio_alsa_request {
    const char *device;      /* PCM name; NULL or "" = "default" */
    const char *alsa_config; /* extra asoundrc loaded after alsa.conf, or NULL */
    snd_pcm_stream_t stream;
    unsigned int channels; /* 1..AUDIO_MAX_CHANNELS */
};

/* What the PCM ended up with. */
struct audio_alsa_setup {
    snd_pcm_uframes_t period_frames;
    snd_pcm_uframes_t buffer_frames;
    int plug; /* 1 if it had to be reopened through "plug:" */
    char name[160];
};

/* Open and configure a PCM in non-blocking mode (48 kHz, S16_LE, interleaved,
 * period ~20 ms, buffer ~4 periods), trying "plug:" + name if the device
 * cannot do that itself. Software parameters are left to the caller.
 * Returns the PCM (caller closes it with snd_pcm_close) or NULL with a
 * reason in error. */
snd_pcm_t *audio_alsa_open(const struct audio_alsa_request *request, struct audio_alsa_setup *setup,
                           char *error, size_t error_size);

/* 1 if, since the last call on this thread, a read on this thread found a
 * `file` device's infile exhausted (alsa-lib 1.2.8 then reports a full read
 * without writing the buffer); clears the flag. */
int audio_alsa_take_input_ended(void);

/* Parse "auto", "device" or "clock". 0, or -1 if unknown. */
int audio_pacing_parse(const char *text, enum audio_pacing *out);

/* "auto", "device" or "clock". */
const char *audio_pacing_name(enum audio_pacing pacing);

/* Sleep until CLOCK_MONOTONIC reaches deadline_ns (absolute). */
void audio_sleep_until_ns(int64_t deadline_ns);

/*
 * Keeps a stream from running ahead of real time. The stream position
 * (frames moved since audio_pacer_start) may be at most lead_frames ahead
 * of the frames that real time allows since the anchor; when it is further
 * ahead the pacer sleeps. A real device can never get ahead (capture: the
 * samples do not exist yet; playback: the buffer is full), so in AUTO mode
 * the first sleep longer than a few ms proves the device unpaced and
 * switches to CLOCK for good; a second without one settles on DEVICE, after
 * which the pacer never sleeps (so the device's own clock drifting against
 * CLOCK_MONOTONIC can never make us fall behind it).
 */
struct audio_pacer {
    enum audio_pacing mode; /* AUTO until classified */
    uint64_t lead_frames;
    int64_t anchor_ns;           /* CLOCK_MONOTONIC of stream frame 0 */
    uint64_t anchor_realtime_us; /* CLOCK_REALTIME at the same instant */
    uint64_t frames;             /* stream position */
    uint64_t resyncs;            /* CLOCK mode: times we fell far behind and skipped ahead */
};

/* Anchor the schedule at now with the stream at position 0. */
void audio_pacer_start(struct audio_pacer *pacer, enum audio_pacing mode, uint64_t lead_frames);

/* Account `frames` just moved; sleeps if the stream is ahead (see above). */
void audio_pacer_advance(struct audio_pacer *pacer, uint64_t frames);

/* Frames the stream is ahead of real time (negative: behind). */
int64_t audio_pacer_ahead(const struct audio_pacer *pacer);

/* CLOCK_REALTIME of stream position `frame` on the pacer's schedule. */
uint64_t audio_pacer_realtime_us(const struct audio_pacer *pacer, uint64_t frame);

#endif
