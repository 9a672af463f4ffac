/*
 * sim_room.c - the simulated speaker-to-microphone path (see sim_room.h).
 * Capture thread only; it owns its filter state and scratch buffer.
 */
#define LOG_MODULE "audio"

#include "audio/sim_room.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/speaker_history.h"
#include "common/audio_alsa.h"

#define SIM_ROOM_MAX_DELAY_MS 200
#define SIM_ROOM_MIN_GAIN_DB  -60.0
#define SIM_ROOM_MAX_GAIN_DB  12.0
#define SIM_ROOM_CUTOFF_HZ    3000.0 /* the housing's low-pass */
#define SIM_ROOM_MAX_FRAMES   (AUDIO_SAMPLE_RATE / 10)

struct sim_room {
    struct speaker_history *speaker; /* not owned */
    uint64_t delay_us;
    double gain;
    double smoothing; /* one-pole low-pass coefficient */
    double filtered;  /* its state */
    int16_t heard[SIM_ROOM_MAX_FRAMES];
};

/* See sim_room.h. */
int sim_room_parse(const char *text, struct sim_room_config *out)
{
    if (text == NULL)
        return -1;
    char *end = NULL;
    errno = 0;
    long delay = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != ',' || delay < 0 || delay > SIM_ROOM_MAX_DELAY_MS)
        return -1;
    const char *gain_text = end + 1;
    double gain = strtod(gain_text, &end);
    if (errno != 0 || end == gain_text || *end != '\0' || !(gain >= SIM_ROOM_MIN_GAIN_DB) ||
        !(gain <= SIM_ROOM_MAX_GAIN_DB))
        return -1;
    out->delay_ms = (int)delay;
    out->gain_db = gain;
    return 0;
}

/* See sim_room.h. */
struct sim_room *sim_room_create(const struct sim_room_config *config,
                                 struct speaker_history *speaker)
{
    assert(config != NULL && speaker != NULL);
    struct sim_room *room = calloc(1, sizeof(*room));
    if (room == NULL)
        return NULL;
    room->speaker = speaker;
    room->delay_us = (uint64_t)config->delay_ms * 1000u;
    room->gain = pow(10.0, config->gain_db / 20.0);
    room->smoothing = 1.0 - exp(-2.0 * M_PI * SIM_ROOM_CUTOFF_HZ / AUDIO_SAMPLE_RATE);
    return room;
}

/* See sim_room.h. */
void sim_room_destroy(struct sim_room *room)
{
    free(room);
}

/* See sim_room.h. */
void sim_room_apply(struct sim_room *room, int16_t *microphone, size_t frames,
                    uint64_t capture_time_us)
{
    assert(room != NULL && microphone != NULL);
    size_t done = 0;
    while (done < frames) {
        size_t chunk = frames - done < SIM_ROOM_MAX_FRAMES ? frames - done : SIM_ROOM_MAX_FRAMES;
        uint64_t at_us = capture_time_us + done * 1000000u / AUDIO_SAMPLE_RATE;
        speaker_history_read(room->speaker, at_us > room->delay_us ? at_us - room->delay_us : 0,
                             room->heard, chunk);
        for (size_t i = 0; i < chunk; i++) {
            room->filtered += room->smoothing * (room->heard[i] - room->filtered);
            long value = lrint(microphone[done + i] + room->gain * room->filtered);
            microphone[done + i] = (int16_t)(value > 32767    ? 32767
                                             : value < -32768 ? -32768
                                                              : value);
        }
        done += chunk;
    }
}
