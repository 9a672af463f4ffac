/*
 * audio_playback.h - the doorbell's speaker: Opus packets (talk-back from
 * the hub) through a small jitter buffer, plus raw 48 kHz PCM such as the
 * doorbell's own ding-dong, mixed and written to an ALSA playback PCM by
 * one thread.
 *
 * audio_playback_start() / audio_playback_stop() are called by one owner
 * thread; push, play_pcm, chime and get_stats by any thread.
 *
 * Jitter buffer: packets are kept in timestamp order. Playback starts once
 * jitter_target_ms of audio is queued; while playing, each 20 ms tick takes
 * the next packet; a missing packet is concealed (Opus PLC) for up to 60 ms,
 * then the stream falls silent and waits for the target again. A packet
 * older than the last one played is dropped as late; when more than
 * jitter_max_ms is queued the oldest packets are dropped (overflow), which
 * also bounds latency when the sender's clock runs fast.
 */
#ifndef DOORSTEP_AUDIO_PLAYBACK_H
#define DOORSTEP_AUDIO_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

#include "common/audio_alsa.h"
#include "common/audio_chime.h"
#include "common/link_protocol.h"

struct speaker_history;

#define AUDIO_PLAYBACK_DEFAULT_TARGET_MS LINK_TALK_PLAYOUT_MS /* the link contract */
#define AUDIO_PLAYBACK_DEFAULT_MAX_MS    LINK_TALK_QUEUE_MAX_MS
#define AUDIO_PLAYBACK_MAX_PACKET        1500

struct audio_playback_config {
    const char *device;       /* ALSA PCM name; NULL = "default" */
    const char *alsa_config;  /* optional asoundrc read after alsa.conf (see audio_capture.h) */
    int channels;             /* 1 (default) or 2; mono sources are copied to both */
    int jitter_target_ms;     /* default 60 */
    int jitter_max_ms;        /* default 160; at least target + 20 */
    enum audio_pacing pacing; /* default AUTO (see audio_alsa.h) */
    /* Where each tick written (its first channel) goes with the time it
     * leaves the speaker, for the echo canceller (speaker_history.h); must
     * outlive the playback. NULL: nobody listens. */
    struct speaker_history *history;
};

struct audio_playback_stats {
    uint64_t packets_pushed;   /* accepted or not */
    uint64_t packets_played;   /* decoded and written */
    uint64_t packets_late;     /* older than what was already played, or duplicates */
    uint64_t packets_overflow; /* dropped because the queue was full */
    uint64_t packets_invalid;  /* not Opus, or the decoder refused them */
    uint64_t frames_written;   /* frames (per channel) written to ALSA, silence included */
    uint64_t frames_concealed; /* frames made up by packet loss concealment */
    uint64_t frames_silence;   /* frames of silence because nothing was queued */
    uint64_t pcm_frames;       /* frames of raw PCM (chimes) mixed in */
    uint64_t pcm_dropped;      /* raw PCM frames refused (PCM queue full) */
    uint64_t underruns;        /* ALSA underruns recovered */
    uint64_t write_errors;     /* other write failures */
    uint64_t reopens;          /* device closed and opened again */
    uint64_t resyncs;          /* clock pacing: stalls skipped over */
    uint64_t latency_us;       /* last packet: pushed -> its first sample leaves the device */
    int queued_ms;             /* Opus audio waiting in the jitter buffer */
    int playing;               /* 1 while a talk-back stream is being played */
    enum audio_pacing pacing;  /* what the pacer settled on */
};

struct audio_playback;

/* Open the device, create the decoder and start the playback thread, which
 * writes silence until there is something to play. NULL with a reason in
 * error on failure. Free with audio_playback_stop(). */
struct audio_playback *audio_playback_start(const struct audio_playback_config *config, char *error,
                                            size_t error_size);

/* Stop the thread, discard what is queued, close the device, free
 * everything. NULL is a no-op. */
void audio_playback_stop(struct audio_playback *playback);

/* Queue one Opus packet (copied). timestamp_us orders packets (the
 * sender's capture time of its first sample; 0 = unknown: arrival order,
 * never late). Returns 0 if queued, -1 if dropped (late, invalid). */
int audio_playback_push(struct audio_playback *playback, const uint8_t *packet, size_t size,
                        uint64_t timestamp_us);

/* Queue mono 48 kHz PCM (copied), mixed over any talk-back. Returns 0, or
 * -1 if it does not fit in the PCM queue (4 s) - nothing is queued then. */
int audio_playback_play_pcm(struct audio_playback *playback, const int16_t *samples, size_t frames);

/* Queue the ding-dong (AUDIO_CHIME_FRAMES frames). 0 or -1 as play_pcm. */
int audio_playback_chime(struct audio_playback *playback);

/* Copy the counters. Thread-safe. */
void audio_playback_get_stats(struct audio_playback *playback, struct audio_playback_stats *stats);

#endif
