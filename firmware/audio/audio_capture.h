/*
 * audio_capture.h - the doorbell's microphone: an ALSA capture PCM read in
 * 20 ms frames (48 kHz, S16_LE) on its own thread, cleared of the
 * doorbell's own speaker (echo_canceller.h, with the speaker's reference
 * from speaker_history.h), encoded to Opus
 * (32 kbit/s, restricted low-delay, no FEC, no DTX) and handed to a
 * callback with the capture time of each frame's first sample.
 *
 * audio_capture_start() / audio_capture_stop() are called by one owner
 * thread; audio_capture_get_stats() by any thread. The callback runs on the
 * capture thread and must not block (copy into a queue or drop).
 */
#ifndef DOORSTEP_AUDIO_CAPTURE_H
#define DOORSTEP_AUDIO_CAPTURE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "audio/echo_canceller.h"
#include "audio/sim_room.h"
#include "common/audio_alsa.h"

struct speaker_history;

#define AUDIO_CAPTURE_DEFAULT_BITRATE 32000
#define AUDIO_CAPTURE_MAX_PACKET      1275 /* the largest Opus frame */
/* The device name of the simulated microphone (audio_sim.h): no ALSA, the
 * capture thread synthesises the sound at real-time pace, endlessly. */
#define AUDIO_CAPTURE_SIM_DEVICE "sim"

struct audio_capture_config {
    const char *device;       /* ALSA PCM name: "default", "hw:0", "plughw:1", a name from an
                                 asoundrc ...; NULL = "default" */
    const char *alsa_config;  /* optional asoundrc read after alsa.conf (NULL: ALSA's usual
                                 files, which honour ALSA_CONFIG_PATH) */
    int channels;             /* 1 (default) or 2 */
    int bitrate_bps;          /* default 32000 */
    enum audio_pacing pacing; /* default AUTO (see audio_alsa.h) */
    /* "sim" only: nonzero while the sim scene's visitor is there (the sim
     * camera's flag, camera_sim_visitor_flag()); read on the capture thread,
     * must outlive the capture. NULL: nobody ever speaks. */
    const atomic_int *sim_voice;
    /* What the speaker played (speaker_history.h), the echo canceller's
     * reference; read on the capture thread, must outlive the capture.
     * NULL: no speaker, nothing to cancel. Mono capture only. */
    struct speaker_history *speaker;
    enum echo_cancel_mode echo_mode; /* with a speaker; default AEC */
    int echo_tail_ms;                /* the canceller's filter; 0 = the default */
    /* Tests and benchmarks: the simulated speaker-to-microphone path
     * (sim_room.h), added before the canceller. NULL: a real room. */
    const struct sim_room_config *sim_room;
};

/* One Opus packet (20 ms). `packet` is valid during the call only.
 * capture_time_us: CLOCK_REALTIME of the first sample of the frame. */
typedef void (*audio_capture_packet)(const uint8_t *packet, size_t size, uint64_t capture_time_us,
                                     void *context);

struct audio_capture_stats {
    uint64_t packets;           /* packets handed to the callback */
    uint64_t bytes;             /* their total size */
    uint64_t overruns;          /* ALSA overruns recovered (audio lost) */
    uint64_t read_errors;       /* other read failures (recovered or device reopened) */
    uint64_t reopens;           /* times the device was closed and opened again */
    uint64_t input_restarts;    /* times an ALSA `file` device's infile ran out and the device
                                   was opened again to play it from the start */
    uint64_t encode_errors;     /* frames Opus refused (dropped) */
    uint64_t resyncs;           /* clock pacing: stalls skipped over */
    float rms;                  /* level of the last frame, 0..1 of full scale (sine 0.707) */
    float peak;                 /* its largest |sample|, 0..1 */
    uint64_t latency_us;        /* last packet: its first sample captured -> callback called */
    enum audio_pacing pacing;   /* what the pacer settled on (AUTO while undecided) */
    int speaking;               /* "sim": the synthetic visitor's voice is sounding */
    int echo_active;            /* 1 when frames go through the echo canceller */
    uint64_t reference_missing; /* frames whose speaker reference was not (all) there
                                   (before the speaker's first tick too) */
    struct echo_canceller_stats echo; /* the canceller's, after the last frame */
};

struct audio_capture;

/* Open the device, create the encoder and start the capture thread.
 * Returns NULL with a reason in error if the device or the encoder cannot
 * be set up. Later device failures are logged, counted and retried on the
 * capture thread. Free with audio_capture_stop(). */
struct audio_capture *audio_capture_start(const struct audio_capture_config *config,
                                          audio_capture_packet callback, void *context, char *error,
                                          size_t error_size);

/* Stop the thread (within ~100 ms; no callback runs after it returns),
 * close the device and free everything. NULL is a no-op. */
void audio_capture_stop(struct audio_capture *capture);

/* Copy the counters. Thread-safe. */
void audio_capture_get_stats(struct audio_capture *capture, struct audio_capture_stats *stats);

#endif
