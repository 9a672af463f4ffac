/*
 * reply_player.c - quick replies to the speaker (see reply_player.h).
 *
 * The thread wakes every REPLY_PLAYER_TICK_MS (or when told): it starts a
 * clip asked for, fires a due auto-reply, and while a clip plays decodes
 * the next REPLY_PLAYER_FEED_PACKETS packets into PCM and queues them on
 * the speaker, waiting for room when the speaker's PCM queue is full.
 */
#define LOG_MODULE "replies"

#include "replies/reply_player.h"

#include <errno.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_playback.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/reply_clip.h"
#include "replies/reply_cache.h"

#define REPLY_PLAYER_TICK_MS      20
#define REPLY_PLAYER_FEED_PACKETS 10 /* 200 ms of PCM per write to the speaker */

struct reply_player {
    /* Set by start, read-only afterwards. */
    struct audio_playback *speaker;
    struct reply_cache *cache;
    reply_player_auto_callback on_auto;
    void *context;
    pthread_t thread;

    /* The player thread's. */
    OpusDecoder *decoder;
    uint8_t *clip; /* the clip playing, NULL when idle */
    size_t clip_size, clip_offset;
    int16_t pcm[REPLY_PLAYER_FEED_PACKETS * REPLY_CLIP_PACKET_SAMPLES];
    size_t pcm_frames; /* decoded, not yet accepted by the speaker */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    bool stop;
    uint8_t *next_clip; /* to start at the next tick (taken over by the thread) */
    size_t next_clip_size;
    uint32_t auto_reply_id, auto_version;
    int auto_delay_s;
    uint32_t ring_event_id;   /* the ring waiting for an answer, 0 none */
    int64_t ring_deadline_ms; /* monotonic */
};

/* Decode the clip's next packets into pcm. Returns false at its end. Player thread. */
static bool reply_player_decode(struct reply_player *player)
{
    const uint8_t *packet;
    size_t packet_size;

    player->pcm_frames = 0;
    for (int i = 0; i < REPLY_PLAYER_FEED_PACKETS; i++) {
        if (reply_clip_next(player->clip, player->clip_size, &player->clip_offset, &packet,
                            &packet_size) != 1)
            break;
        int frames = opus_decode(player->decoder, packet, (opus_int32)packet_size,
                                 player->pcm + player->pcm_frames, REPLY_CLIP_PACKET_SAMPLES, 0);
        if (frames < 0) {
            frames = REPLY_CLIP_PACKET_SAMPLES;
            memset(player->pcm + player->pcm_frames, 0, sizeof(int16_t) * (size_t)frames);
        }
        player->pcm_frames += (size_t)frames;
    }
    return player->pcm_frames > 0;
}

/* Start playing clip (taken over). Player thread. */
static void reply_player_begin(struct reply_player *player, uint8_t *clip, size_t size)
{
    free(player->clip);
    player->clip = clip;
    player->clip_size = size;
    player->clip_offset = 0;
    player->pcm_frames = 0;
    opus_decoder_ctl(player->decoder, OPUS_RESET_STATE);
}

/* Feed the speaker what it takes. Player thread. */
static void reply_player_feed(struct reply_player *player)
{
    while (player->clip != NULL) {
        if (player->pcm_frames == 0 && !reply_player_decode(player)) {
            free(player->clip);
            player->clip = NULL;
            log_info("quick reply played");
            return;
        }
        if (audio_playback_play_pcm(player->speaker, player->pcm, player->pcm_frames) != 0)
            return; /* full: the next tick tries again */
        player->pcm_frames = 0;
    }
}

/* The player thread. */
static void *reply_player_main(void *argument)
{
    struct reply_player *player = argument;

    pthread_mutex_lock(&player->lock);
    while (!player->stop) {
        uint8_t *start = NULL;
        size_t start_size = 0;
        uint32_t fired_event = 0, fired_reply = 0, fired_version = 0;
        int64_t now = clock_monotonic_ms();

        if (player->next_clip != NULL) {
            start = player->next_clip;
            start_size = player->next_clip_size;
            player->next_clip = NULL;
        }
        if (player->ring_event_id != 0 && now >= player->ring_deadline_ms) {
            fired_event = player->ring_event_id;
            fired_reply = player->auto_reply_id;
            fired_version = player->auto_version;
            player->ring_event_id = 0;
        }
        pthread_mutex_unlock(&player->lock);

        if (start != NULL)
            reply_player_begin(player, start, start_size);
        if (fired_reply != 0) {
            uint8_t *clip = NULL;
            size_t size = 0;
            if (reply_cache_get(player->cache, fired_reply, fired_version, &clip, &size) == 0) {
                log_info("nobody answered ring %u: auto-reply %u", fired_event, fired_reply);
                reply_player_begin(player, clip, size);
                if (player->on_auto != NULL)
                    player->on_auto(fired_event, fired_reply, player->context);
            } else {
                log_warn("auto-reply %u is not cached; the ring goes unanswered", fired_reply);
            }
        }
        reply_player_feed(player);

        pthread_mutex_lock(&player->lock);
        if (!player->stop && player->next_clip == NULL) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += REPLY_PLAYER_TICK_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&player->wake, &player->lock, &until);
        }
    }
    pthread_mutex_unlock(&player->lock);
    return NULL;
}

/* See reply_player.h. */
struct reply_player *reply_player_start(struct audio_playback *speaker, struct reply_cache *cache,
                                        reply_player_auto_callback on_auto, void *context,
                                        char *error, size_t error_size)
{
    struct reply_player *player = calloc(1, sizeof(*player));
    pthread_condattr_t attributes;
    int err = OPUS_OK;

    if (player == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    player->speaker = speaker;
    player->cache = cache;
    player->on_auto = on_auto;
    player->context = context;
    mutex_init_checked(&player->lock);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&player->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    player->decoder = opus_decoder_create(48000, 1, &err);
    if (player->decoder == NULL || err != OPUS_OK) {
        error_text_set(error, error_size, "opus_decoder_create: %s", opus_strerror(err));
        goto fail;
    }
    err = pthread_create(&player->thread, NULL, reply_player_main, player);
    if (err != 0) {
        error_text_set(error, error_size, "pthread_create: %s", strerror(err));
        goto fail;
    }
    pthread_setname_np(player->thread, "reply-play");
    return player;
fail:
    if (player->decoder != NULL)
        opus_decoder_destroy(player->decoder);
    pthread_cond_destroy(&player->wake);
    pthread_mutex_destroy(&player->lock);
    free(player);
    return NULL;
}

/* See reply_player.h. */
void reply_player_halt(struct reply_player *player)
{
    bool running;

    if (player == NULL)
        return;
    pthread_mutex_lock(&player->lock);
    running = !player->stop;
    player->stop = true;
    pthread_cond_signal(&player->wake);
    pthread_mutex_unlock(&player->lock);
    if (running)
        pthread_join(player->thread, NULL);
}

/* See reply_player.h. */
void reply_player_free(struct reply_player *player)
{
    if (player == NULL)
        return;
    reply_player_halt(player);
    opus_decoder_destroy(player->decoder);
    free(player->clip);
    free(player->next_clip);
    pthread_cond_destroy(&player->wake);
    pthread_mutex_destroy(&player->lock);
    free(player);
}

/* See reply_player.h. */
int reply_player_play(struct reply_player *player, uint32_t reply_id, uint32_t version, char *error,
                      size_t error_size)
{
    uint8_t *clip = NULL;
    size_t size = 0;

    if (player->speaker == NULL) {
        error_text_set(error, error_size, "no speaker");
        return -1;
    }
    if (reply_cache_get(player->cache, reply_id, version, &clip, &size) != 0) {
        error_text_set(error, error_size, "not cached");
        return -1;
    }
    pthread_mutex_lock(&player->lock);
    free(player->next_clip);
    player->next_clip = clip;
    player->next_clip_size = size;
    pthread_cond_signal(&player->wake);
    pthread_mutex_unlock(&player->lock);
    return 0;
}

/* See reply_player.h. */
void reply_player_set_auto(struct reply_player *player, uint32_t reply_id, uint32_t version,
                           int delay_s)
{
    pthread_mutex_lock(&player->lock);
    player->auto_reply_id = reply_id;
    player->auto_version = version;
    player->auto_delay_s = delay_s;
    if (reply_id == 0)
        player->ring_event_id = 0;
    pthread_mutex_unlock(&player->lock);
}

/* See reply_player.h. */
void reply_player_on_ring(struct reply_player *player, uint32_t event_id)
{
    pthread_mutex_lock(&player->lock);
    if (player->auto_reply_id != 0 && player->speaker != NULL) {
        player->ring_event_id = event_id;
        player->ring_deadline_ms = clock_monotonic_ms() + (int64_t)player->auto_delay_s * 1000;
    }
    pthread_mutex_unlock(&player->lock);
}

/* See reply_player.h. */
void reply_player_answered(struct reply_player *player)
{
    pthread_mutex_lock(&player->lock);
    if (player->ring_event_id != 0)
        log_info("ring %u answered: no auto-reply", player->ring_event_id);
    player->ring_event_id = 0;
    pthread_mutex_unlock(&player->lock);
}
