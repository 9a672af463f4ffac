/*
 * sim_room.h - a simulated acoustic path from the doorbell's speaker to its
 * microphone, for tests and benchmarks of the echo canceller without a
 * sound card (--sim-room DELAY_MS,GAIN_DB): what the speaker played
 * DELAY_MS earlier, attenuated by GAIN_DB and dulled by a one-pole low-pass
 * (a small plastic housing does not carry the treble), is added to each
 * microphone frame before anything else sees it. It stands in for a room
 * the way the sim camera stands in for a camera; the product path never
 * uses it unless the option is given.
 *
 * Threads: created and destroyed by audio_capture_start()/stop(), applied
 * on the capture thread ("audio-mic") only. It reads the speaker through
 * speaker_history (which has its own lock) and has no lock of its own.
 *
 * Ownership: sim_room_create() allocates it, sim_room_destroy() frees it;
 * the speaker history belongs to the caller and must outlive it.
 */
#ifndef DOORSTEP_SIM_ROOM_H
#define DOORSTEP_SIM_ROOM_H

#include <stddef.h>
#include <stdint.h>

struct speaker_history;

/* --sim-room DELAY_MS,GAIN_DB. */
struct sim_room_config {
    int delay_ms;   /* 0..200: speaker to microphone, the sound's flight and the housing */
    double gain_db; /* -60..+12: the level at the microphone relative to the speaker's */
};

struct sim_room;

/* Parse "DELAY_MS,GAIN_DB" (e.g. "30,-6"). 0, or -1 if malformed or out of
 * range (nothing is written then). */
int sim_room_parse(const char *text, struct sim_room_config *out);

/* A room over `speaker` (not owned). NULL if out of memory. */
struct sim_room *sim_room_create(const struct sim_room_config *config,
                                 struct speaker_history *speaker);

/* Free the room. NULL is a no-op. */
void sim_room_destroy(struct sim_room *room);

/* Add the speaker's sound as the microphone hears it to `frames` mono
 * samples captured from capture_time_us (CLOCK_REALTIME) on, saturating. */
void sim_room_apply(struct sim_room *room, int16_t *microphone, size_t frames,
                    uint64_t capture_time_us);

#endif
