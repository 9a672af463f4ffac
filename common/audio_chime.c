/*
 * audio_chime.c - the ding-dong, synthesised (see audio_chime.h). Pure; any
 * thread. Used by the doorbell's speaker and the hub's indoor chime.
 */
#include "common/audio_chime.h"

#include <math.h>

/* See audio_chime.h. Each note: 5 ms attack, exponential decay, a soft
 * octave partial for a bell-like sound, 10 ms fade-out (no clicks). */
size_t audio_chime_generate(int16_t *out, size_t max_frames)
{
    if (out == NULL || max_frames < AUDIO_CHIME_FRAMES)
        return 0;
    const size_t note = AUDIO_CHIME_FRAMES / 2;
    const double attack = 0.005 * AUDIO_SAMPLE_RATE, fade = 0.010 * AUDIO_SAMPLE_RATE;
    for (size_t i = 0; i < AUDIO_CHIME_FRAMES; i++) {
        double hz = i < note ? AUDIO_CHIME_DING_HZ : AUDIO_CHIME_DONG_HZ;
        double k = (double)(i % note); /* sample within the note */
        double t = k / AUDIO_SAMPLE_RATE;
        double envelope = exp(-t / 0.25);
        if (k < attack)
            envelope *= k / attack;
        if ((double)note - k < fade)
            envelope *= ((double)note - k) / fade;
        double phase = 2.0 * M_PI * hz * t;
        double value = envelope * (sin(phase) + 0.25 * sin(2.0 * phase)) / 1.25;
        out[i] = (int16_t)lrint(value * 0.5 * 32767.0);
    }
    return AUDIO_CHIME_FRAMES;
}
