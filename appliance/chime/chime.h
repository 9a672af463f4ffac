/*
 * chime.h - the hub's indoor chime: when someone rings, the hub plays the
 * ding-dong (common/audio_chime.c, the same the doorbell plays) on its own
 * ALSA output, when the chime is on (off by default; the settings page or
 * chime_device turn it on, core/hub_settings.h).
 *
 * Threads: chime_ring() and chime_test() are called by link and HTTP
 * threads and return at once; the chime's own thread opens the device,
 * plays and closes it (so a busy or missing device only costs a log line).
 * chime->lock guards the request, the output settings, the counters and
 * stopping; the thread copies the settings under it before each play.
 */
#ifndef DOORSTEP_CHIME_H
#define DOORSTEP_CHIME_H

#include <stdint.h>

#define CHIME_DEVICE_MAX       256
#define CHIME_TEST_INTERVAL_MS 3000 /* at most one test chime this often */

struct chime;

/* Start the chime thread, off until chime_configure() turns it on
 * (alsa_config: extra asoundrc or NULL). NULL on failure. */
struct chime *chime_start(const char *alsa_config);

/* Any thread: on/off, the ALSA PCM to play on and the volume (0..100 %),
 * used from the next chime on. NULL: nothing. */
void chime_configure(struct chime *chime, int enabled, const char *device, int volume);

/* Any thread: play the chime once when it is on (rings while it plays are
 * merged). NULL: nothing. */
void chime_ring(struct chime *chime);

/* Any thread: play the chime once on its output, on or off, unless a test
 * was asked less than CHIME_TEST_INTERVAL_MS before now_ms. 0 queued, -1
 * too soon or no chime. */
int chime_test(struct chime *chime, int64_t now_ms);

/* How many chimes were played completely since start. */
unsigned long chime_played(struct chime *chime);

/* The playback outputs ALSA lists on this machine (snd_device_name_hint),
 * each given to callback with its description ("" when none). Any thread.
 * Returns how many, or -1. */
int chime_list_outputs(void (*callback)(const char *name, const char *description, void *context),
                       void *context);

/* Stop the thread and free (NULL ok). */
void chime_stop(struct chime *chime);

#endif
