/*
 * echo_canceller.h - keeps the doorbell's own speaker out of what its
 * microphone sends: speexdsp's acoustic echo canceller (speex_echo_*, an
 * adaptive filter over the speaker's reference signal) followed by
 * speexdsp's preprocessor for the residual echo, with half-duplex ducking
 * (the microphone attenuated while the speaker plays, and a short hang
 * time after) whenever the canceller is off, not converged yet, or was
 * reset after diverging.
 *
 * Threads: one owner at a time. The capture thread ("audio-mic") creates
 * it through audio_capture_start(), processes every frame and destroys it
 * in audio_capture_stop(); echo_canceller_get_stats() is called by that
 * thread too (audio_capture copies the figures into its own stats under
 * its lock). No lock of its own.
 *
 * Ownership: echo_canceller_create() allocates the canceller and its
 * speexdsp states; echo_canceller_destroy() frees them all.
 */
#ifndef DOORSTEP_ECHO_CANCELLER_H
#define DOORSTEP_ECHO_CANCELLER_H

#include <stddef.h>
#include <stdint.h>

#define ECHO_CANCELLER_DEFAULT_TAIL_MS 150  /* the room's echo the filter models */
#define ECHO_CANCELLER_DUCK_DB         -30  /* microphone gain while ducking */
#define ECHO_CANCELLER_HANG_MS         200  /* ducking goes on this long after the speaker */
#define ECHO_CANCELLER_CONVERGE_MS     1500 /* speaker sound the filter learns from first */
#define ECHO_CANCELLER_ONSET_MS        200  /* aec: ducking after the speaker gets louder */
#define ECHO_CANCELLER_ONSET_DB        9    /* by this much within one frame */

/* What the doorbell does about its own speaker (--echo-cancel). */
enum echo_cancel_mode {
    ECHO_CANCEL_AEC = 0, /* the canceller; ducking until it has converged (default) */
    ECHO_CANCEL_DUCK,    /* half duplex only */
    ECHO_CANCEL_OFF,     /* nothing: the microphone as it is */
};

/* What echo_canceller_get_stats() reports. */
struct echo_canceller_stats {
    enum echo_cancel_mode mode;
    int converged;             /* aec: the filter has learnt the room */
    int ducking;               /* the last frame was attenuated */
    uint64_t frames;           /* frames processed */
    uint64_t speaker_frames;   /* of them, frames with the speaker sounding */
    uint64_t ducked_frames;    /* frames attenuated (ducking) */
    uint64_t onsets;           /* aec: the speaker got suddenly louder (ducked briefly) */
    uint64_t resets;           /* aec: the filter diverged and started again */
    float echo_return_loss_db; /* aec: microphone over output while only the speaker
                                  sounds, smoothed; 0 until measured */
};

struct echo_canceller;

/* Parse "aec", "duck" or "off". 0, or -1 if unknown. */
int echo_cancel_mode_parse(const char *text, enum echo_cancel_mode *out);

/* "aec", "duck" or "off". */
const char *echo_cancel_mode_name(enum echo_cancel_mode mode);

/* A canceller for mono 48 kHz frames of `frame_size` samples with a filter
 * of tail_ms (0 = the default; 20..500). NULL with a reason in error.
 * Free with echo_canceller_destroy(). */
struct echo_canceller *echo_canceller_create(enum echo_cancel_mode mode, size_t frame_size,
                                             int tail_ms, char *error, size_t error_size);

/* Free the canceller. NULL is a no-op. */
void echo_canceller_destroy(struct echo_canceller *canceller);

/* Process one frame in place: microphone holds frame_size samples captured
 * while the speaker played reference (frame_size samples, the same
 * instants; silence where the speaker played nothing). */
void echo_canceller_process(struct echo_canceller *canceller, int16_t *microphone,
                            const int16_t *reference);

/* Copy the counters. The owner's thread. */
void echo_canceller_get_stats(const struct echo_canceller *canceller,
                              struct echo_canceller_stats *stats);

#endif
