/*
 * echo_canceller.c - speexdsp echo cancellation and ducking (see
 * echo_canceller.h). Runs on whichever thread owns it (the capture thread);
 * it owns its speexdsp states and buffers.
 *
 * Per frame: measure the reference; "aec" runs speex_echo_cancellation
 * (the filter adapts only while the reference has energy) and then
 * speex_preprocess_run (its residual-echo suppressor reads the echo state;
 * noise suppression is held to 1 dB and AGC, VAD and dereverberation
 * stay off (speexdsp's defaults): the hub
 * wants the visitor as
 * heard, and a steady tone or hum must not be taken for noise). While the
 * speaker sounds, the microphone's energy over the output's is smoothed as
 * the echo return loss; once ECHO_CANCELLER_CONVERGE_MS of speaker sound
 * has been learnt from, the canceller counts as converged. An output much
 * louder than its input while the speaker sounds means the filter diverged:
 * it is reset and must converge again. Ducking ramps the gain over one frame
 * (no click) towards ECHO_CANCELLER_DUCK_DB while the speaker sounds and for
 * ECHO_CANCELLER_HANG_MS after.
 *
 * Even converged, the filter leaves its largest residual in the first frames
 * after the speaker starts or gets suddenly louder (a new note, a new word
 * after a pause): what it learnt from the sound before does not yet hold for
 * the new one. Measured on the simulated room, those onsets were most of the
 * echo left (single runs 18-28 dB down). So "aec" also ducks for
 * ECHO_CANCELLER_ONSET_MS after the reference rises ECHO_CANCELLER_ONSET_DB
 * within a frame: a short half-duplex moment, as speakerphones do.
 */
#define LOG_MODULE "audio"

#include "audio/echo_canceller.h"

#include <assert.h>
#include <math.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdlib.h>
#include <string.h>

#include "common/audio_alsa.h"
#include "common/error_text.h"
#include "common/log.h"

/* The speaker counts as sounding above about -60 dBFS (rms 33 of 32768). */
#define ECHO_CANCELLER_SPEAKER_RMS 33.0
/* Smoothing of the echo return loss, per frame. */
#define ECHO_CANCELLER_SMOOTHING 0.1
/* Output this much louder than input (dB) for this long while the speaker
 * sounds: diverged. */
#define ECHO_CANCELLER_DIVERGED_DB 6.0
#define ECHO_CANCELLER_DIVERGED_MS 300
/* The most the preprocessor may take off what it thinks is noise (dB). */
#define ECHO_CANCELLER_NOISE_SUPPRESS_DB -1

struct echo_canceller {
    enum echo_cancel_mode mode;
    size_t frame_size;
    SpeexEchoState *echo;             /* aec only */
    SpeexPreprocessState *preprocess; /* aec only */
    int16_t *output;                  /* frame_size samples */
    int frame_ms;
    int learnt_ms;              /* speaker sound the filter has adapted on since its last reset */
    int diverged_ms;            /* how long the output has been much louder than the input */
    int hang_left_ms;           /* ducking still to go after the speaker stopped */
    int onset_left_ms;          /* aec: ducking still to go after an onset */
    double reference_energy[2]; /* the reference energy of the last two frames */
    double gain;                /* the microphone gain at the end of the last frame */
    struct echo_canceller_stats stats;
};

/* See echo_canceller.h. */
int echo_cancel_mode_parse(const char *text, enum echo_cancel_mode *out)
{
    static const char *const names[] = {"aec", "duck", "off"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (text != NULL && strcmp(text, names[i]) == 0) {
            *out = (enum echo_cancel_mode)i;
            return 0;
        }
    }
    return -1;
}

/* See echo_canceller.h. */
const char *echo_cancel_mode_name(enum echo_cancel_mode mode)
{
    switch (mode) {
    case ECHO_CANCEL_AEC:
        return "aec";
    case ECHO_CANCEL_DUCK:
        return "duck";
    case ECHO_CANCEL_OFF:
        return "off";
    }
    return "?";
}

/* See echo_canceller.h. */
struct echo_canceller *echo_canceller_create(enum echo_cancel_mode mode, size_t frame_size,
                                             int tail_ms, char *error, size_t error_size)
{
    if (tail_ms == 0)
        tail_ms = ECHO_CANCELLER_DEFAULT_TAIL_MS;
    if (mode < ECHO_CANCEL_AEC || mode > ECHO_CANCEL_OFF || frame_size == 0 ||
        frame_size > AUDIO_SAMPLE_RATE / 10 || tail_ms < 20 || tail_ms > 500) {
        error_text_set(error, error_size, "invalid echo canceller settings (mode %d, tail %d ms)",
                       (int)mode, tail_ms);
        return NULL;
    }
    struct echo_canceller *canceller = calloc(1, sizeof(*canceller));
    if (canceller == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    canceller->mode = mode;
    canceller->frame_size = frame_size;
    canceller->frame_ms = (int)(frame_size * 1000 / AUDIO_SAMPLE_RATE);
    canceller->gain = 1.0;
    canceller->stats.mode = mode;
    canceller->output = calloc(frame_size, sizeof(*canceller->output));
    if (canceller->output == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto fail;
    }
    if (mode != ECHO_CANCEL_AEC)
        return canceller;

    int rate = AUDIO_SAMPLE_RATE;
    int off = 0, on = 1, noise_db = ECHO_CANCELLER_NOISE_SUPPRESS_DB;
    canceller->echo = speex_echo_state_init((int)frame_size, tail_ms * AUDIO_SAMPLE_RATE / 1000);
    canceller->preprocess = speex_preprocess_state_init((int)frame_size, AUDIO_SAMPLE_RATE);
    if (canceller->echo == NULL || canceller->preprocess == NULL) {
        error_text_set(error, error_size, "speexdsp: cannot create the echo canceller");
        goto fail;
    }
    speex_echo_ctl(canceller->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    speex_preprocess_ctl(canceller->preprocess, SPEEX_PREPROCESS_SET_ECHO_STATE, canceller->echo);
    /* The residual-echo suppressor is part of the denoiser's gain stage, so the
     * denoiser runs, but held to 1 dB: a steady sound at the door is not noise. */
    speex_preprocess_ctl(canceller->preprocess, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(canceller->preprocess, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &noise_db);
    speex_preprocess_ctl(canceller->preprocess, SPEEX_PREPROCESS_SET_AGC, &off);
    return canceller;

fail:
    echo_canceller_destroy(canceller);
    return NULL;
}

/* See echo_canceller.h. */
void echo_canceller_destroy(struct echo_canceller *canceller)
{
    if (canceller == NULL)
        return;
    if (canceller->preprocess != NULL)
        speex_preprocess_state_destroy(canceller->preprocess);
    if (canceller->echo != NULL)
        speex_echo_state_destroy(canceller->echo);
    free(canceller->output);
    free(canceller);
}

/* Sum of squares of n samples. */
static double echo_canceller_energy(const int16_t *samples, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)samples[i] * samples[i];
    return sum;
}

/* Run the filter and the residual suppressor on microphone (in place);
 * track convergence and divergence. `sounding`: the speaker is on. */
static void echo_canceller_cancel(struct echo_canceller *canceller, int16_t *microphone,
                                  const int16_t *reference, int sounding)
{
    size_t n = canceller->frame_size;
    double input = echo_canceller_energy(microphone, n);
    speex_echo_cancellation(canceller->echo, microphone, reference, canceller->output);
    speex_preprocess_run(canceller->preprocess, canceller->output);
    double output = echo_canceller_energy(canceller->output, n);
    memcpy(microphone, canceller->output, n * sizeof(*microphone));
    if (!sounding)
        return;

    canceller->learnt_ms += canceller->frame_ms;
    double loss_db = 10.0 * log10((input + 1.0) / (output + 1.0));
    struct echo_canceller_stats *stats = &canceller->stats;
    stats->echo_return_loss_db =
        stats->echo_return_loss_db == 0.0f
            ? (float)loss_db
            : (float)((1.0 - ECHO_CANCELLER_SMOOTHING) * stats->echo_return_loss_db +
                      ECHO_CANCELLER_SMOOTHING * loss_db);
    canceller->diverged_ms =
        -loss_db > ECHO_CANCELLER_DIVERGED_DB ? canceller->diverged_ms + canceller->frame_ms : 0;
    if (canceller->diverged_ms >= ECHO_CANCELLER_DIVERGED_MS) {
        speex_echo_state_reset(canceller->echo);
        canceller->learnt_ms = 0;
        canceller->diverged_ms = 0;
        stats->resets++;
        stats->echo_return_loss_db = 0.0f;
        log_warn("echo canceller diverged (output %.1f dB over its input): starting again, "
                 "ducking meanwhile",
                 -loss_db);
    }
    int converged = canceller->learnt_ms >= ECHO_CANCELLER_CONVERGE_MS;
    if (converged && !stats->converged)
        log_info("echo canceller converged after %d ms of speaker sound (echo return loss "
                 "%.1f dB)",
                 canceller->learnt_ms, stats->echo_return_loss_db);
    stats->converged = converged;
}

/* Multiply microphone by a gain ramping from the last frame's to target. */
static void echo_canceller_apply_gain(struct echo_canceller *canceller, int16_t *microphone,
                                      double target)
{
    size_t n = canceller->frame_size;
    double start = canceller->gain;
    if (start == 1.0 && target == 1.0)
        return;
    for (size_t i = 0; i < n; i++) {
        double gain = start + (target - start) * (double)(i + 1) / (double)n;
        microphone[i] = (int16_t)lrint(microphone[i] * gain);
    }
    canceller->gain = target;
}

/* Start (or count down) the short duck after the reference got suddenly
 * louder; `energy`: this frame's reference energy. The rise is measured
 * against the quieter of the two frames before, so an onset that a frame
 * boundary splits in two (a new note 8 dB up in one frame and 4 in the
 * next) still counts. A duck under way runs its time; a rise within it
 * does not start another. */
static void echo_canceller_track_onset(struct echo_canceller *canceller, double energy,
                                       int sounding)
{
    double rise = pow(10.0, ECHO_CANCELLER_ONSET_DB / 10.0);
    double before = fmin(canceller->reference_energy[0], canceller->reference_energy[1]);
    if (canceller->onset_left_ms <= 0 && sounding && energy > before * rise) {
        canceller->stats.onsets++;
        canceller->onset_left_ms = ECHO_CANCELLER_ONSET_MS;
    } else if (canceller->onset_left_ms > 0) {
        canceller->onset_left_ms -= canceller->frame_ms;
    }
    canceller->reference_energy[1] = canceller->reference_energy[0];
    canceller->reference_energy[0] = energy;
}

/* See echo_canceller.h. */
void echo_canceller_process(struct echo_canceller *canceller, int16_t *microphone,
                            const int16_t *reference)
{
    assert(canceller != NULL && microphone != NULL && reference != NULL);
    struct echo_canceller_stats *stats = &canceller->stats;
    size_t n = canceller->frame_size;
    double reference_rms = sqrt(echo_canceller_energy(reference, n) / (double)n);
    int sounding = reference_rms >= ECHO_CANCELLER_SPEAKER_RMS;

    int hanging = 0;
    stats->frames++;
    if (sounding) {
        stats->speaker_frames++;
        canceller->hang_left_ms = ECHO_CANCELLER_HANG_MS;
    } else if (canceller->hang_left_ms > 0) {
        hanging = 1;
        canceller->hang_left_ms -= canceller->frame_ms;
    }
    if (canceller->mode == ECHO_CANCEL_OFF)
        return;
    if (canceller->mode == ECHO_CANCEL_AEC) {
        echo_canceller_cancel(canceller, microphone, reference, sounding);
        echo_canceller_track_onset(canceller, reference_rms * reference_rms * (double)n, sounding);
    }

    int duck = (sounding || hanging) && (canceller->mode == ECHO_CANCEL_DUCK || !stats->converged ||
                                         canceller->onset_left_ms > 0);
    echo_canceller_apply_gain(canceller, microphone,
                              duck ? pow(10.0, ECHO_CANCELLER_DUCK_DB / 20.0) : 1.0);
    stats->ducking = duck;
    if (duck)
        stats->ducked_frames++;
}

/* See echo_canceller.h. */
void echo_canceller_get_stats(const struct echo_canceller *canceller,
                              struct echo_canceller_stats *stats)
{
    assert(canceller != NULL && stats != NULL);
    *stats = canceller->stats;
}
