/*
 * chime.h - the hub's indoor chime: when someone rings, the hub plays the
 * ding-dong (common/audio_chime.c, the same the doorbell plays) on
 * its own ALSA output, if one is configured (chime_device; none by default).
 *
 * Threads: chime_ring() is called by link threads and returns at once; the
 * chime's own thread opens the device, plays and closes it (so a busy or
 * missing device only costs a log line). chime->lock guards the request
 * count and stopping.
 */
#ifndef DOORSTEP_CHIME_H
#define DOORSTEP_CHIME_H

struct chime;

/* Start the chime thread for this ALSA PCM (alsa_config: extra asoundrc or
 * NULL). NULL when device is NULL or empty (no chime) or on failure. */
struct chime *chime_start(const char *device, const char *alsa_config);

/* Any thread: play the chime once (rings while it plays are merged). NULL: nothing. */
void chime_ring(struct chime *chime);

/* How many chimes were played completely since start. */
unsigned long chime_played(struct chime *chime);

/* Stop the thread and free (NULL ok). */
void chime_stop(struct chime *chime);

#endif
