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
#include "common/reply_clip.h"

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
    free(heard->clip);
    heard->clip = NULL;
    opus_decoder_destroy(heard->clip_decoder);
    heard->clip_decoder = NULL;
    pthread_mutex_destroy(&heard->lock);
}

uint64_t heard_audio_play_time(struct heard_audio_stream *stream, uint64_t capture_us,
                               unsigned samples, uint64_t forwarded_us)
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
        if (play < (int64_t)stream->end_us)
            play = (int64_t)stream->end_us;
    }
    stream->anchored = true;
    stream->offset_us = play - (int64_t)capture_us;
    stream->end_us = (uint64_t)play + (uint64_t)samples * 1000000u / HEARD_AUDIO_RATE;
    return (uint64_t)play;
}

/* Lock held: silence in the slots of samples [from, to). */
static void heard_audio_clear_locked(struct heard_audio *heard, uint64_t from, uint64_t to)
{
    mutex_assert_held(&heard->lock);
    for (uint64_t sample = from; sample < to; sample++)
        heard->samples[sample % HEARD_AUDIO_CAPACITY] = 0;
}

/* Lock held: make the sample buffer if there is none. 0, or -1. */
static int heard_audio_allocate_locked(struct heard_audio *heard)
{
    mutex_assert_held(&heard->lock);
    if (heard->samples == NULL)
        heard->samples = calloc(HEARD_AUDIO_CAPACITY, sizeof(*heard->samples));
    return heard->samples != NULL ? 0 : -1;
}

/* Lock held: until_us becomes at least until (it never goes back, so the
 * recorder's unlocked check never misses a sound). */
static void heard_audio_extend_locked(struct heard_audio *heard, uint64_t until)
{
    mutex_assert_held(&heard->lock);
    if (until > atomic_load(&heard->until_us))
        atomic_store(&heard->until_us, until);
}

/* Lock held, buffer made: see heard_audio_add. */
static void heard_audio_add_locked(struct heard_audio *heard, const int16_t *pcm, unsigned count,
                                   uint64_t play_us)
{
    uint64_t first = heard_audio_sample_at(play_us), last = first + count;
    uint64_t start, end;

    mutex_assert_held(&heard->lock);
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
    heard_audio_extend_locked(heard, heard_audio_time_of(end));
}

int heard_audio_add(struct heard_audio *heard, const int16_t *pcm, unsigned count, uint64_t play_us)
{
    int rc = 0;

    if (count == 0)
        return 0;
    pthread_mutex_lock(&heard->lock);
    if (heard_audio_allocate_locked(heard) == 0)
        heard_audio_add_locked(heard, pcm, count, play_us);
    else
        rc = -1;
    pthread_mutex_unlock(&heard->lock);
    return rc;
}

int heard_audio_play_clip(struct heard_audio *heard, const uint8_t *clip, size_t size,
                          uint64_t play_us)
{
    int packets = reply_clip_validate(clip, size), error = OPUS_OK;
    uint8_t *copy;

    if (packets <= 0 || (copy = malloc(size)) == NULL)
        return -1;
    memcpy(copy, clip, size);
    pthread_mutex_lock(&heard->lock);
    if (heard->clip_decoder == NULL)
        heard->clip_decoder = opus_decoder_create(HEARD_AUDIO_RATE, 1, &error);
    else
        opus_decoder_ctl(heard->clip_decoder, OPUS_RESET_STATE);
    if (heard->clip_decoder == NULL || error != OPUS_OK ||
        heard_audio_allocate_locked(heard) != 0) {
        pthread_mutex_unlock(&heard->lock);
        free(copy);
        return -1;
    }
    free(heard->clip); /* the doorbell cuts off a reply still playing */
    heard->clip = copy;
    heard->clip_size = size;
    heard->clip_offset = 0;
    heard->clip_next_us = play_us;
    heard_audio_extend_locked(heard, play_us + (uint64_t)packets * REPLY_CLIP_PACKET_MS * 1000u);
    pthread_mutex_unlock(&heard->lock);
    return 0;
}

/* Lock held: decode the clip into the ring up to wall time to_us. Packets
 * that end over 100 ms before from_us are skipped, not decoded (nobody
 * reads them now). The clip is freed at its end. */
static void heard_audio_render_locked(struct heard_audio *heard, uint64_t from_us, uint64_t to_us)
{
    mutex_assert_held(&heard->lock);
    while (heard->clip != NULL && heard->clip_next_us < to_us) {
        const uint8_t *packet;
        size_t packet_size;
        uint64_t play_us = heard->clip_next_us;
        int decoded;

        if (reply_clip_next(heard->clip, heard->clip_size, &heard->clip_offset, &packet,
                            &packet_size) != 1) {
            free(heard->clip);
            heard->clip = NULL;
            break;
        }
        heard->clip_next_us += REPLY_CLIP_PACKET_MS * 1000u;
        if (play_us + (REPLY_CLIP_PACKET_MS + 100) * 1000u < from_us)
            continue;
        decoded = opus_decode(heard->clip_decoder, packet, (opus_int32)packet_size, heard->clip_pcm,
                              HEARD_AUDIO_CLIP_DECODE_MAX, 0);
        if (decoded > 0)
            heard_audio_add_locked(heard, heard->clip_pcm, (unsigned)decoded, play_us);
    }
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
    heard_audio_render_locked(heard, from_us,
                              from_us + (uint64_t)count * 1000000u / HEARD_AUDIO_RATE);
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
