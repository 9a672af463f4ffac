/*
 * heard_audio.h - what a doorbell's speaker plays to the visitor (talk-back
 * from a browser), as 48 kHz mono PCM on the hub's wall clock, for the
 * recorder to mix into the recorded audio (recording/recorder_mix.h): the
 * doorbell's echo canceller keeps the homeowner's voice out of its
 * microphone, so without this a recording holds only the visitor's side.
 *
 * The ring holds the last HEARD_AUDIO_SECONDS of what was played, indexed
 * by the absolute 48 kHz sample number of its play time (microseconds since
 * the epoch * 48 / 1000), so a writer and a reader agree on where a sample
 * is without sharing a start. Samples never written read as silence.
 *
 * Threads: a talk queue's sender thread adds (talk/talk_queue.c, through
 * device_registry_hear and recorder_hear); the recorder thread reads.
 * heard->lock guards samples, start and end; it is a leaf, held only while
 * copying. until_us is atomic: the recorder's check on every packet takes
 * no lock, so a doorbell nobody talks to costs one atomic load per packet.
 *
 * Ownership: the owner embeds the struct (the recorder does), calls
 * heard_audio_init once and heard_audio_free once when no thread uses it.
 * The sample buffer is malloc'd at the first add (doorbells never talked
 * to use no memory for it) and freed by heard_audio_free.
 */
#ifndef DOORSTEP_HEARD_AUDIO_H
#define DOORSTEP_HEARD_AUDIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define HEARD_AUDIO_RATE     48000
#define HEARD_AUDIO_SECONDS  4
#define HEARD_AUDIO_CAPACITY (HEARD_AUDIO_RATE * HEARD_AUDIO_SECONDS)

struct heard_audio {
    pthread_mutex_t lock;      /* guards samples, start and end */
    int16_t *samples;          /* HEARD_AUDIO_CAPACITY, slot = sample number % capacity */
    uint64_t start, end;       /* sample numbers held: [start, end) */
    _Atomic uint64_t until_us; /* wall time just past the newest sample; 0: none yet */
};

/*
 * Where one talk stream plays on the doorbell, mirroring its jitter buffer
 * (common/link_protocol.h, LINK_TALK_*): the first packet plays
 * LINK_TALK_PLAYOUT_MS after it was forwarded and each next one at its
 * capture time plus the same offset, until a packet comes too late (the
 * doorbell fell silent and starts over) or too early (its queue overflowed
 * and dropped the oldest). The producer's own state: no lock.
 */
struct heard_audio_stream {
    bool anchored;
    int64_t offset_us; /* play time minus capture time */
};

/* Set up an empty ring (no memory taken yet). */
void heard_audio_init(struct heard_audio *heard);

/* Free the samples and the lock; no thread may use the ring any more. */
void heard_audio_free(struct heard_audio *heard);

/* The wall time (us) at which the doorbell plays a talk packet captured at
 * capture_us (the browser's clock) and forwarded to it at forwarded_us (the
 * hub's clock); updates stream. */
uint64_t heard_audio_play_time(struct heard_audio_stream *stream, uint64_t capture_us,
                               uint64_t forwarded_us);

/* Add count samples played from play_us on to what the ring holds (summed
 * with saturation where sounds overlap, as the doorbell's speaker mixes
 * them). Older samples fall out past HEARD_AUDIO_SECONDS. 0, or -1 when the
 * buffer could not be allocated. */
int heard_audio_add(struct heard_audio *heard, const int16_t *pcm, unsigned count,
                    uint64_t play_us);

/* Wall time (us) just past the newest sample added; 0 when none was. No lock. */
uint64_t heard_audio_until(struct heard_audio *heard);

/* Copy the count samples played from from_us on into out (silence where
 * nothing is held). Returns how many of them the ring held. */
unsigned heard_audio_read(struct heard_audio *heard, uint64_t from_us, unsigned count,
                          int16_t *out);

#endif
