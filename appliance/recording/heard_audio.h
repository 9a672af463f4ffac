/*
 * heard_audio.h - what a doorbell's speaker plays to the visitor (talk-back
 * from a browser, quick replies), as 48 kHz mono PCM on the hub's wall clock, for the
 * recorder to mix into the recorded audio (recording/recorder_mix.h): the
 * doorbell's echo canceller keeps the homeowner's voice out of its
 * microphone, so without this a recording holds only the visitor's side.
 *
 * The ring holds the last HEARD_AUDIO_SECONDS of what was played, indexed
 * by the absolute 48 kHz sample number of its play time (microseconds since
 * the epoch * 48 / 1000), so a writer and a reader agree on where a sample
 * is without sharing a start. Samples never written read as silence.
 * A quick reply (up to 30 s, longer than the ring) is kept as its Opus
 * clip and decoded into the ring as the reader reaches it.
 *
 * Threads: a talk queue's sender thread adds (talk/talk_queue.c, through
 * device_registry_hear and recorder_hear), the thread that told the
 * doorbell to play a reply sets the clip (replies/reply_sender.c); the
 * recorder thread reads. heard->lock guards everything but until_us; it is
 * a leaf, held while copying and while decoding one clip packet.
 * until_us is atomic: the recorder's check on every packet takes no lock,
 * so a doorbell nobody talks to costs one atomic load per packet.
 *
 * Ownership: the owner embeds the struct (the recorder does), calls
 * heard_audio_init once and heard_audio_free once when no thread uses it.
 * The sample buffer is malloc'd at the first add (doorbells never talked
 * to use no memory for it) and freed by heard_audio_free; the clip is a
 * copy, freed when it has been read to its end, replaced or by
 * heard_audio_free, and so is its decoder.
 */
#ifndef DOORSTEP_HEARD_AUDIO_H
#define DOORSTEP_HEARD_AUDIO_H

#include <opus/opus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEARD_AUDIO_RATE            48000
#define HEARD_AUDIO_SECONDS         4
#define HEARD_AUDIO_CAPACITY        (HEARD_AUDIO_RATE * HEARD_AUDIO_SECONDS)
#define HEARD_AUDIO_CLIP_DECODE_MAX 5760 /* 120 ms: the longest Opus packet */

struct heard_audio {
    pthread_mutex_t lock;          /* guards everything below but until_us */
    int16_t *samples;              /* HEARD_AUDIO_CAPACITY, slot = sample number % capacity */
    uint64_t start, end;           /* sample numbers held: [start, end) */
    uint8_t *clip;                 /* a quick reply playing (common/reply_clip.h), or NULL */
    size_t clip_size, clip_offset; /* its bytes, and where its next packet starts */
    uint64_t clip_next_us;         /* play time of that packet */
    OpusDecoder *clip_decoder;     /* made with the first clip */
    int16_t clip_pcm[HEARD_AUDIO_CLIP_DECODE_MAX]; /* one decoded packet */
    _Atomic uint64_t until_us; /* wall time just past the latest sound known; 0: none yet */
};

/*
 * Where one talk stream plays on the doorbell, mirroring its jitter buffer
 * (common/link_protocol.h, LINK_TALK_*): the first packet plays
 * LINK_TALK_PLAYOUT_MS after it was forwarded and each next one at its
 * capture time plus the same offset, until a packet comes too late (the
 * doorbell fell silent and starts over) or too early (its queue overflowed
 * and dropped the oldest; never placed over the stream's own last packet,
 * so a burst after a stall is not heard twice). The producer's own state: no lock.
 */
struct heard_audio_stream {
    bool anchored;
    int64_t offset_us; /* play time minus capture time */
    uint64_t end_us;   /* play time just past the stream's last packet */
};

/* Set up an empty ring (no memory taken yet). */
void heard_audio_init(struct heard_audio *heard);

/* Free the samples and the lock; no thread may use the ring any more. */
void heard_audio_free(struct heard_audio *heard);

/* The wall time (us) at which the doorbell plays a talk packet captured at
 * capture_us (the browser's clock) and forwarded to it at forwarded_us (the
 * hub's clock); updates stream. */
uint64_t heard_audio_play_time(struct heard_audio_stream *stream, uint64_t capture_us,
                               unsigned samples, uint64_t forwarded_us);

/* Add count samples played from play_us on to what the ring holds (summed
 * with saturation where sounds overlap, as the doorbell's speaker mixes
 * them). Older samples fall out past HEARD_AUDIO_SECONDS. 0, or -1 when the
 * buffer could not be allocated. */
int heard_audio_add(struct heard_audio *heard, const int16_t *pcm, unsigned count,
                    uint64_t play_us);

/* The doorbell plays the quick reply clip (common/reply_clip.h, size
 * bytes, copied) from play_us on, cutting off one still playing, as the
 * doorbell does. 0, or -1 when the clip is not one or memory ran out. */
int heard_audio_play_clip(struct heard_audio *heard, const uint8_t *clip, size_t size,
                          uint64_t play_us);

/* Wall time (us) just past the newest sample added or clip set; 0 when none was. No lock. */
uint64_t heard_audio_until(struct heard_audio *heard);

/* Copy the count samples played from from_us on into out (silence where
 * nothing is held). Returns how many of them the ring held. */
unsigned heard_audio_read(struct heard_audio *heard, uint64_t from_us, unsigned count,
                          int16_t *out);

#endif
