/*
 * audio_sim.c - the simulated microphone's street and voice (see audio_sim.h).
 *
 * The voice is a small cascade formant synthesiser in the manner of Klatt
 * (1980): a glottal pulse train (one impulse per pitch period, softened by
 * two one-pole low-passes for the voice's spectral tilt) or, for "h" and
 * "s", white noise, through three two-pole resonators tuned to the formants
 * of the syllable's vowel. Formant frequencies glide towards each new
 * syllable's targets, each syllable has an attack and a release, and the
 * pitch falls over a phrase (rising at the end of a question). The street is
 * brown noise (integrated white noise with a leak) at about -36 dBFS.
 *
 * Capture thread only: everything lives in the struct, which the capture
 * module creates, renders into and frees.
 */
#include "audio/audio_sim.h"

#include <math.h>
#include <stdlib.h>

#define AUDIO_SIM_RATE      48000.0
#define AUDIO_SIM_FORMANTS  3
#define AUDIO_SIM_PITCH_HZ  150.0  /* the visitor's speaking pitch at a phrase's start */
#define AUDIO_SIM_VOICE     1500.0 /* output scale of the voice (rms ~ -22 dBFS) */
#define AUDIO_SIM_STREET    0.0015 /* brown noise step: rms ~ -36 dBFS */
#define AUDIO_SIM_GLIDE_MS  18.0   /* formant glide time constant */
#define AUDIO_SIM_ATTACK_MS 15.0
#define AUDIO_SIM_DECAY_MS  35.0
#define AUDIO_SIM_SMOOTH_MS 3.0  /* level smoothing time constant */
#define AUDIO_SIM_PAUSE_MS  1400 /* between phrases */

enum audio_sim_onset {
    AUDIO_SIM_ONSET_NONE,
    AUDIO_SIM_ONSET_H,    /* aspiration: noise through the vowel's formants */
    AUDIO_SIM_ONSET_S,    /* hiss: noise through high formants */
    AUDIO_SIM_ONSET_STOP, /* a closure (silence) then a short burst */
    AUDIO_SIM_ONSET_NASAL /* a quiet murmur with a low first formant */
};

/* One syllable: how it starts, its vowel's formants, how long, how high. */
struct audio_sim_syllable {
    enum audio_sim_onset onset;
    float formants[AUDIO_SIM_FORMANTS]; /* Hz */
    int onset_ms, vowel_ms;
    float pitch; /* relative to the phrase's declining pitch */
};

#define VOWEL_A                                                                                    \
    {                                                                                              \
        730, 1090, 2440                                                                            \
    }
#define VOWEL_E                                                                                    \
    {                                                                                              \
        530, 1840, 2480                                                                            \
    }
#define VOWEL_I                                                                                    \
    {                                                                                              \
        270, 2290, 3010                                                                            \
    }
#define VOWEL_O                                                                                    \
    {                                                                                              \
        570, 840, 2410                                                                             \
    }
#define VOWEL_U                                                                                    \
    {                                                                                              \
        300, 870, 2240                                                                             \
    }

/* "Hello? Anyone home?" */
static const struct audio_sim_syllable audio_sim_hello[] = {
    {AUDIO_SIM_ONSET_H, VOWEL_E, 70, 150, 1.05f},
    {AUDIO_SIM_ONSET_NONE, VOWEL_O, 0, 260, 1.15f},
    {AUDIO_SIM_ONSET_STOP, VOWEL_A, 160, 110, 1.0f},
    {AUDIO_SIM_ONSET_NASAL, VOWEL_I, 50, 110, 0.95f},
    {AUDIO_SIM_ONSET_NONE, VOWEL_U, 0, 90, 0.9f},
    {AUDIO_SIM_ONSET_NASAL, VOWEL_A, 40, 120, 0.9f},
    {AUDIO_SIM_ONSET_H, VOWEL_O, 80, 330, 1.2f},
};

/* "Delivery for you, sir." */
static const struct audio_sim_syllable audio_sim_delivery[] = {
    {AUDIO_SIM_ONSET_STOP, VOWEL_I, 40, 80, 1.1f}, {AUDIO_SIM_ONSET_NONE, VOWEL_I, 0, 120, 1.15f},
    {AUDIO_SIM_ONSET_S, VOWEL_E, 60, 100, 1.0f},   {AUDIO_SIM_ONSET_NONE, VOWEL_I, 0, 140, 0.95f},
    {AUDIO_SIM_ONSET_S, VOWEL_O, 70, 120, 0.9f},   {AUDIO_SIM_ONSET_NONE, VOWEL_U, 0, 200, 0.95f},
    {AUDIO_SIM_ONSET_S, VOWEL_E, 140, 260, 0.8f},
};

struct audio_sim_phrase {
    const struct audio_sim_syllable *syllables;
    int count;
};

static const struct audio_sim_phrase audio_sim_phrases[] = {
    {audio_sim_hello, sizeof(audio_sim_hello) / sizeof(audio_sim_hello[0])},
    {audio_sim_delivery, sizeof(audio_sim_delivery) / sizeof(audio_sim_delivery[0])},
};
#define AUDIO_SIM_PHRASES (int)(sizeof(audio_sim_phrases) / sizeof(audio_sim_phrases[0]))

/* A two-pole resonator (Klatt's): unity gain at 0 Hz. */
struct audio_sim_resonator {
    double a, b, c, y1, y2;
};

struct audio_sim {
    uint32_t random;
    double street, street_low; /* brown noise and its DC-blocking follower */
    double tilt1, tilt2;       /* glottal source low-passes */
    double phase;              /* pitch period phase, 0..1 */
    double formants[AUDIO_SIM_FORMANTS];
    struct audio_sim_resonator resonators[AUDIO_SIM_FORMANTS];
    int phrase, syllable; /* current position; syllable < 0: pausing */
    long position;        /* samples into the syllable or pause */
    long pause_samples;
    double level; /* smoothed gain of the voice */
    int speaking;
};

/* xorshift32: white noise in [-1, 1). */
static double audio_sim_noise(struct audio_sim *sim)
{
    uint32_t x = sim->random;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sim->random = x;
    return (double)x / 2147483648.0 - 1.0;
}

/* Tune a resonator to `hz` with bandwidth `bandwidth` (both Hz). */
static void audio_sim_tune(struct audio_sim_resonator *resonator, double hz, double bandwidth)
{
    double r = exp(-M_PI * bandwidth / AUDIO_SIM_RATE);
    resonator->c = -r * r;
    resonator->b = 2.0 * r * cos(2.0 * M_PI * hz / AUDIO_SIM_RATE);
    resonator->a = 1.0 - resonator->b - resonator->c;
}

static double audio_sim_resonate(struct audio_sim_resonator *resonator, double x)
{
    double y = resonator->a * x + resonator->b * resonator->y1 + resonator->c * resonator->y2;
    resonator->y2 = resonator->y1;
    resonator->y1 = y;
    return y;
}

static long audio_sim_ms(double ms)
{
    return (long)(ms * AUDIO_SIM_RATE / 1000.0);
}

/* See audio_sim.h. */
struct audio_sim *audio_sim_create(uint32_t seed)
{
    struct audio_sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL)
        return NULL;
    sim->random = seed != 0 ? seed : 0x2545f491u;
    sim->syllable = -1;
    for (int i = 0; i < AUDIO_SIM_FORMANTS; i++)
        sim->formants[i] = 500.0 + 1000.0 * i;
    return sim;
}

/* See audio_sim.h. */
void audio_sim_destroy(struct audio_sim *sim)
{
    free(sim);
}

/* See audio_sim.h. */
int audio_sim_speaking(const struct audio_sim *sim)
{
    return sim->speaking;
}

/* One sample of the voice at the current position, and step it. 0 while pausing. */
static double audio_sim_voice_sample(struct audio_sim *sim)
{
    const struct audio_sim_phrase *phrase = &audio_sim_phrases[sim->phrase];
    const struct audio_sim_syllable *syllable = &phrase->syllables[sim->syllable];
    long onset = audio_sim_ms(syllable->onset_ms), vowel = audio_sim_ms(syllable->vowel_ms);
    long at = sim->position;
    double glide = 1.0 / (AUDIO_SIM_GLIDE_MS * AUDIO_SIM_RATE / 1000.0);
    double source = 0.0, gain = 1.0, envelope;

    /* Formants glide to the vowel's (a nasal murmur first holds F1 low). */
    for (int i = 0; i < AUDIO_SIM_FORMANTS; i++) {
        double target = syllable->formants[i];
        if (at < onset && syllable->onset == AUDIO_SIM_ONSET_NASAL && i == 0)
            target = 250.0;
        if (at < onset && syllable->onset == AUDIO_SIM_ONSET_S)
            target = 4000.0 + 1500.0 * i;
        sim->formants[i] += (target - sim->formants[i]) * glide;
        audio_sim_tune(&sim->resonators[i], sim->formants[i], 60.0 + 40.0 * i);
    }

    /* Pitch: declining over the phrase, the syllable's own accent. */
    double progress = (double)sim->syllable / (double)phrase->count;
    double hz = AUDIO_SIM_PITCH_HZ * (1.1 - 0.25 * progress) * syllable->pitch;
    sim->phase += hz / AUDIO_SIM_RATE;
    double pulse = 0.0;
    if (sim->phase >= 1.0) {
        sim->phase -= 1.0;
        pulse = 1.0;
    }
    sim->tilt1 += (pulse * 40.0 - sim->tilt1) * 0.25;
    sim->tilt2 += (sim->tilt1 - sim->tilt2) * 0.25;
    double voiced = sim->tilt2 - sim->tilt1 * 0.5;

    if (at < onset) {
        switch (syllable->onset) {
        case AUDIO_SIM_ONSET_H:
            source = audio_sim_noise(sim) * 0.6;
            gain = 0.5;
            break;
        case AUDIO_SIM_ONSET_S:
            source = audio_sim_noise(sim) * 1.2;
            gain = 0.35;
            break;
        case AUDIO_SIM_ONSET_STOP:
            /* Closure, then a 10 ms burst. */
            source = at > onset - audio_sim_ms(10) ? audio_sim_noise(sim) : 0.0;
            gain = 0.6;
            break;
        case AUDIO_SIM_ONSET_NASAL:
            source = voiced;
            gain = 0.3;
            break;
        case AUDIO_SIM_ONSET_NONE:
        default:
            break;
        }
        envelope = 1.0;
    } else {
        long into = at - onset;
        source = voiced;
        envelope = 1.0;
        if (into < audio_sim_ms(AUDIO_SIM_ATTACK_MS))
            envelope = (double)into / (double)audio_sim_ms(AUDIO_SIM_ATTACK_MS);
        else if (vowel - into < audio_sim_ms(AUDIO_SIM_DECAY_MS))
            envelope = (double)(vowel - into) / (double)audio_sim_ms(AUDIO_SIM_DECAY_MS);
    }
    double y = source;
    for (int i = 0; i < AUDIO_SIM_FORMANTS; i++)
        y = audio_sim_resonate(&sim->resonators[i], y);
    sim->speaking = 1;
    /* The level follows gain and envelope smoothly (no clicks between parts). */
    sim->level += (gain * envelope - sim->level) * (1.0 / audio_sim_ms(AUDIO_SIM_SMOOTH_MS));
    return y * sim->level;
}

/* Advance the phrase position by one sample; start a phrase when the
 * visitor is there and the pause is over. */
static void audio_sim_step(struct audio_sim *sim, int voice)
{
    if (sim->syllable < 0) {
        sim->speaking = 0;
        if (sim->position < sim->pause_samples) {
            sim->position++;
            return;
        }
        if (!voice)
            return;
        sim->syllable = 0;
        sim->position = 0;
        return;
    }
    const struct audio_sim_phrase *phrase = &audio_sim_phrases[sim->phrase];
    const struct audio_sim_syllable *syllable = &phrase->syllables[sim->syllable];
    if (++sim->position < audio_sim_ms(syllable->onset_ms + syllable->vowel_ms))
        return;
    sim->position = 0;
    if (++sim->syllable < phrase->count)
        return;
    /* Phrase done: pause (a little longer or shorter each time), next phrase. */
    sim->syllable = -1;
    sim->phrase = (sim->phrase + 1) % AUDIO_SIM_PHRASES;
    sim->pause_samples = audio_sim_ms(AUDIO_SIM_PAUSE_MS + 400.0 * audio_sim_noise(sim));
}

/* See audio_sim.h. */
void audio_sim_render(struct audio_sim *sim, int16_t *out, size_t frames, int channels, int voice)
{
    for (size_t i = 0; i < frames; i++) {
        /* Leaky integration of white noise, minus its slow drift. */
        sim->street = sim->street * 0.999 + audio_sim_noise(sim) * AUDIO_SIM_STREET;
        sim->street_low += (sim->street - sim->street_low) * 0.0005;
        double sample = (sim->street - sim->street_low) * 32767.0;
        if (sim->syllable >= 0)
            sample += audio_sim_voice_sample(sim) * AUDIO_SIM_VOICE;
        audio_sim_step(sim, voice);
        long value = lrint(sample);
        if (value > 32767)
            value = 32767;
        if (value < -32768)
            value = -32768;
        for (int channel = 0; channel < channels; channel++)
            out[i * (size_t)channels + (size_t)channel] = (int16_t)value;
    }
}
