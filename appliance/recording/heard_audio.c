/*
 * heard_audio.c - the ring of what a doorbell's speaker plays, on the hub's
 * wall clock, and the model of the doorbell's jitter buffer that places a
 * talk stream on it (see heard_audio.h for threads, the lock and who frees
 * what).
 */
#include "recording/heard_audio.h"

#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"
#include "common/mutex.h"

/* The sample number of a wall time (us since the epoch). */
static uint64_t heard_audio_sample_at(uint64_t time_us)
{
    return time_us / 1000u * (HEARD_AUDIO_RATE / 1000u) +
           time_us % 1000u * (HEARD_AUDIO_RATE / 1000u) / 1000u;
}

/* The wall time (us) of a sample number, rounded up. */
static uint64_t heard_audio_time_of(uint64_t sample)
{
    return (sample * 1000u + HEARD_AUDIO_RATE / 1000u - 1) / (HEARD_AUDIO_RATE / 1000u);
}

void heard_audio_init(struct heard_audio *heard)
{
    memset(heard, 0, sizeof(*heard));
    mutex_init_checked(&heard->lock);
    atomic_init(&heard->until_us, 0);
}

void heard_audio_free(struct heard_audio *heard)
{
    free(heard->samples);
    heard->samples = NULL;
    pthread_mutex_destroy(&heard->lock);
}

uint64_t heard_audio_play_time(struct heard_audio_stream *stream, uint64_t capture_us,
                               uint64_t forwarded_us)
{
    int64_t play = (int64_t)capture_us + stream->offset_us;
    int64_t forwarded = (int64_t)forwarded_us;

    if (!stream->anchored || play + LINK_TALK_CONCEAL_MS * 1000 < forwarded) {
        /* The first packet, or one so late that the doorbell went quiet and
         * waits for its playout target again. */
        play = forwarded + LINK_TALK_PLAYOUT_MS * 1000;
    } else if (play > forwarded + LINK_TALK_QUEUE_MAX_MS * 1000) {
        /* The doorbell's queue overflows and drops the oldest: it plays
         * this packet when its queue is full. */
        play = forwarded + LINK_TALK_QUEUE_MAX_MS * 1000;
    }
    stream->anchored = true;
    stream->offset_us = play - (int64_t)capture_us;
    return (uint64_t)play;
}

/* Lock held: silence in the slots of samples [from, to). */
static void heard_audio_clear_locked(struct heard_audio *heard, uint64_t from, uint64_t to)
{
    mutex_assert_held(&heard->lock);
    for (uint64_t sample = from; sample < to; sample++)
        heard->samples[sample % HEARD_AUDIO_CAPACITY] = 0;
}

int heard_audio_add(struct heard_audio *heard, const int16_t *pcm, unsigned count, uint64_t play_us)
{
    uint64_t first = heard_audio_sample_at(play_us), last = first + count;
    uint64_t start, end;

    if (count == 0)
        return 0;
    pthread_mutex_lock(&heard->lock);
    if (heard->samples == NULL) {
        heard->samples = calloc(HEARD_AUDIO_CAPACITY, sizeof(*heard->samples));
        if (heard->samples == NULL) {
            pthread_mutex_unlock(&heard->lock);
            return -1;
        }
    }
    if (heard->end <= heard->start || first >= heard->end + HEARD_AUDIO_CAPACITY)
        heard->start = heard->end = first; /* empty, or all of it is too old now */
    end = last > heard->end ? last : heard->end;
    start = first < heard->start ? first : heard->start;
    if (end - start > HEARD_AUDIO_CAPACITY)
        start = end - HEARD_AUDIO_CAPACITY;
    /* Slots that join the window held no sound of theirs yet. */
    if (start < heard->start)
        heard_audio_clear_locked(heard, start, heard->start);
    heard_audio_clear_locked(heard, heard->end > start ? heard->end : start, end);
    for (uint64_t sample = first > start ? first : start; sample < last; sample++) {
        int16_t *slot = &heard->samples[sample % HEARD_AUDIO_CAPACITY];
        int32_t sum = (int32_t)*slot + pcm[sample - first];
        *slot = (int16_t)(sum > INT16_MAX ? INT16_MAX : sum < INT16_MIN ? INT16_MIN : sum);
    }
    heard->start = start;
    heard->end = end;
    atomic_store(&heard->until_us, heard_audio_time_of(end));
    pthread_mutex_unlock(&heard->lock);
    return 0;
}

uint64_t heard_audio_until(struct heard_audio *heard)
{
    return atomic_load_explicit(&heard->until_us, memory_order_relaxed);
}

unsigned heard_audio_read(struct heard_audio *heard, uint64_t from_us, unsigned count, int16_t *out)
{
    uint64_t first = heard_audio_sample_at(from_us);
    unsigned held = 0;

    pthread_mutex_lock(&heard->lock);
    for (unsigned i = 0; i < count; i++) {
        uint64_t sample = first + i;
        if (heard->samples != NULL && sample >= heard->start && sample < heard->end) {
            out[i] = heard->samples[sample % HEARD_AUDIO_CAPACITY];
            held++;
        } else {
            out[i] = 0;
        }
    }
    pthread_mutex_unlock(&heard->lock);
    return held;
}
