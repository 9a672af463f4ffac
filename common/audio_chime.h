/*
 * audio_chime.h - the ding-dong both the doorbell (its speaker, when the
 * button is pressed) and the hub (its indoor chime) play: two bell-like
 * notes of 0.4 s, mono 48 kHz signed 16-bit PCM, made on the fly.
 */
#ifndef DOORSTEP_AUDIO_CHIME_H
#define DOORSTEP_AUDIO_CHIME_H

#include <stddef.h>
#include <stdint.h>

#include "common/audio_alsa.h"

/* The chime: "ding" then "dong", 0.4 s each. */
#define AUDIO_CHIME_DING_HZ 659.25 /* E5 */
#define AUDIO_CHIME_DONG_HZ 523.25 /* C5 */
#define AUDIO_CHIME_FRAMES  (AUDIO_SAMPLE_RATE * 8 / 10)

/* Write the chime as mono 48 kHz PCM into out. Returns the number of frames
 * (AUDIO_CHIME_FRAMES), or 0 if max_frames is too small. */
size_t audio_chime_generate(int16_t *out, size_t max_frames);

#endif
