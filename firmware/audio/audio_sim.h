/*
 * audio_sim.h - the simulated microphone's sound (`--audio-device sim`):
 * endless quiet street noise (brown noise), and while the sim scene's
 * visitor is at the door a voice: a formant synthesiser speaking a short
 * phrase ("hello, anyone home?" in vowels and hisses) again and again with
 * pauses between, at a speaking pitch with a falling intonation.
 *
 * Deterministic: the same seed and the same voice on/off pattern give the
 * same samples. A struct audio_sim belongs to one thread (the capture
 * thread of audio_capture.c) and keeps no global state.
 */
#ifndef DOORSTEP_AUDIO_SIM_H
#define DOORSTEP_AUDIO_SIM_H

#include <stddef.h>
#include <stdint.h>

struct audio_sim;

/* A new synthesiser at 48 kHz. NULL when out of memory; free with
 * audio_sim_destroy(). */
struct audio_sim *audio_sim_create(uint32_t seed);

void audio_sim_destroy(struct audio_sim *sim);

/* Write the next `frames` frames of `channels` interleaved S16 samples
 * (the same sound on every channel). voice: 1 while the visitor is there;
 * a phrase under way when it goes to 0 is finished, so speech never stops
 * mid-syllable. */
void audio_sim_render(struct audio_sim *sim, int16_t *out, size_t frames, int channels, int voice);

/* 1 while a syllable of the voice is sounding (tests and statistics). */
int audio_sim_speaking(const struct audio_sim *sim);

#endif
