/*
 * speaker_history.c - the speaker's recent samples on one time line (see
 * speaker_history.h). The playback thread appends, the capture thread
 * reads; `lock` guards everything but the capacity, which is fixed at
 * creation. Positions count samples since the history was made; the ring
 * keeps the last `capacity` of them.
 */
#define LOG_MODULE "audio"

#include "audio/speaker_history.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/audio_alsa.h"
#include "common/clock.h"
#include "common/mutex.h"

struct speaker_history {
    size_t capacity; /* samples in the ring; read-only after create */

    pthread_mutex_t lock;    /* guards everything below */
    pthread_cond_t appended; /* signalled after each append (CLOCK_MONOTONIC) */
    int16_t *ring;
    uint64_t written;         /* position of the next sample appended */
    uint64_t valid_from;      /* the first position on the current time line */
    uint64_t anchor_position; /* the position that plays at anchor_time_us */
    uint64_t anchor_time_us;
    struct speaker_history_stats stats;
};

/* See speaker_history.h. */
struct speaker_history *speaker_history_create(int milliseconds)
{
    if (milliseconds < 100)
        milliseconds = 100;
    struct speaker_history *history = calloc(1, sizeof(*history));
    if (history == NULL)
        return NULL;
    history->capacity = (size_t)milliseconds * AUDIO_SAMPLE_RATE / 1000;
    history->ring = calloc(history->capacity, sizeof(*history->ring));
    if (history->ring == NULL) {
        free(history);
        return NULL;
    }
    mutex_init_checked(&history->lock);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&history->appended, &attributes);
    pthread_condattr_destroy(&attributes);
    return history;
}

/* See speaker_history.h. */
void speaker_history_destroy(struct speaker_history *history)
{
    if (history == NULL)
        return;
    pthread_cond_destroy(&history->appended);
    pthread_mutex_destroy(&history->lock);
    free(history->ring);
    free(history);
}

/* Signed microseconds from a to b. */
static int64_t speaker_history_difference_us(uint64_t a, uint64_t b)
{
    return b >= a ? (int64_t)(b - a) : -(int64_t)(a - b);
}

/* Put `frames` samples (NULL: silence) at the end of the ring. Lock held. */
static void speaker_history_put_locked(struct speaker_history *history, const int16_t *samples,
                                       size_t frames)
{
    mutex_assert_held(&history->lock);
    for (size_t i = 0; i < frames; i++) {
        history->ring[history->written % history->capacity] = samples != NULL ? samples[i] : 0;
        history->written++;
    }
}

/* See speaker_history.h. */
void speaker_history_append(struct speaker_history *history, const int16_t *samples, size_t frames,
                            uint64_t play_time_us)
{
    assert(history != NULL && (samples != NULL || frames == 0));
    pthread_mutex_lock(&history->lock);
    uint64_t expected_us = history->anchor_time_us + (history->written - history->anchor_position) *
                                                         1000000u / AUDIO_SAMPLE_RATE;
    int64_t late_us = speaker_history_difference_us(expected_us, play_time_us);
    bool first = history->written == history->valid_from;
    if (!first && late_us > SPEAKER_HISTORY_SLACK_US &&
        late_us < (int64_t)(history->capacity * 1000000u / AUDIO_SAMPLE_RATE)) {
        /* The speaker played nothing in between: silence keeps one line. */
        speaker_history_put_locked(history, NULL, (size_t)(late_us * AUDIO_SAMPLE_RATE / 1000000));
        history->stats.gaps++;
    } else if (first || late_us > SPEAKER_HISTORY_SLACK_US || late_us < -SPEAKER_HISTORY_SLACK_US) {
        history->valid_from = history->written;
        history->anchor_position = history->written;
        history->anchor_time_us = play_time_us;
        history->stats.anchors++;
    }
    speaker_history_put_locked(history, samples, frames);
    history->stats.frames_appended += frames;
    pthread_cond_broadcast(&history->appended);
    pthread_mutex_unlock(&history->lock);
}

/* See speaker_history.h. */
size_t speaker_history_read(struct speaker_history *history, uint64_t start_time_us, int16_t *out,
                            size_t frames)
{
    assert(history != NULL && (out != NULL || frames == 0));
    size_t found = 0;
    memset(out, 0, frames * sizeof(*out));
    pthread_mutex_lock(&history->lock);
    if (history->written == history->valid_from)
        goto out;
    /* Round to the nearest sample. */
    int64_t offset_us = speaker_history_difference_us(history->anchor_time_us, start_time_us);
    int64_t offset = offset_us >= 0 ? (offset_us * AUDIO_SAMPLE_RATE + 500000) / 1000000
                                    : -((-offset_us * AUDIO_SAMPLE_RATE + 500000) / 1000000);
    int64_t start = (int64_t)history->anchor_position + offset;
    int64_t oldest = (int64_t)history->valid_from;
    if (history->written > history->capacity &&
        (int64_t)(history->written - history->capacity) > oldest)
        oldest = (int64_t)(history->written - history->capacity);
    for (size_t i = 0; i < frames; i++) {
        int64_t position = start + (int64_t)i;
        if (position < oldest || position >= (int64_t)history->written)
            continue;
        out[i] = history->ring[(uint64_t)position % history->capacity];
        found++;
    }
out:
    pthread_mutex_unlock(&history->lock);
    return found;
}

/* CLOCK_REALTIME at which the sample after the last appended plays. Lock
 * held. */
static uint64_t speaker_history_end_locked(struct speaker_history *history)
{
    mutex_assert_held(&history->lock);
    return history->anchor_time_us +
           (history->written - history->anchor_position) * 1000000u / AUDIO_SAMPLE_RATE;
}

/* See speaker_history.h. */
int speaker_history_wait(struct speaker_history *history, uint64_t end_time_us, int timeout_ms)
{
    assert(history != NULL);
    struct timespec deadline;
    clock_deadline_ms(CLOCK_MONOTONIC, timeout_ms, &deadline);
    int covered = 1;
    pthread_mutex_lock(&history->lock);
    while (history->written != history->valid_from &&
           speaker_history_end_locked(history) < end_time_us) {
        if (pthread_cond_timedwait(&history->appended, &history->lock, &deadline) != 0) {
            covered = speaker_history_end_locked(history) >= end_time_us;
            break;
        }
    }
    pthread_mutex_unlock(&history->lock);
    return covered;
}

/* See speaker_history.h. */
void speaker_history_get_stats(struct speaker_history *history, struct speaker_history_stats *stats)
{
    assert(history != NULL && stats != NULL);
    pthread_mutex_lock(&history->lock);
    *stats = history->stats;
    pthread_mutex_unlock(&history->lock);
}
