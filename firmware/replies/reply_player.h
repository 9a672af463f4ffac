/*
 * reply_player.h - the doorbell plays quick replies: on the hub's command,
 * or by itself when nobody answered a ring in time (auto-reply). A clip
 * comes from the reply cache (reply_cache.h), is decoded here and fed to
 * the speaker as PCM a little at a time, so it plays to the end whether or
 * not the hub is still there.
 *
 * Threads: its own thread ("reply-play") decodes and feeds, and fires the
 * auto-reply; the link thread and the button's thread call the others.
 * Locks: player->lock guards the clip to start, the auto-reply rule and the
 * pending ring (it is released while decoding and while the speaker is
 * written). Ownership: the player owns its copy of the clip and the
 * decoder; the cache and the speaker are borrowed and outlive it. Its
 * owner halts it before stopping the link (whose thread calls it), and
 * frees it after.
 */
#ifndef DOORSTEP_REPLY_PLAYER_H
#define DOORSTEP_REPLY_PLAYER_H

#include <stddef.h>
#include <stdint.h>

struct audio_playback;
struct reply_cache;
struct reply_player;

/* Called on the player thread when it played reply_id by itself after the
 * ring with device counter event_id. */
typedef void (*reply_player_auto_callback)(uint32_t event_id, uint32_t reply_id, void *context);

/* Start the thread. speaker may be NULL (nothing is played, commands are
 * refused). NULL with a reason on failure. Free with reply_player_stop(). */
struct reply_player *reply_player_start(struct audio_playback *speaker, struct reply_cache *cache,
                                        reply_player_auto_callback on_auto, void *context,
                                        char *error, size_t error_size);

/* Stop the thread (nothing more is played or reported); the other calls
 * stay safe until reply_player_free. NULL is a no-op. */
void reply_player_halt(struct reply_player *player);

/* Free a halted player. NULL is a no-op. */
void reply_player_free(struct reply_player *player);

/* Play a cached clip now, cutting off one still playing. 0, or -1 with a
 * reason (no speaker, not cached). */
int reply_player_play(struct reply_player *player, uint32_t reply_id, uint32_t version, char *error,
                      size_t error_size);

/* The auto-reply rule (reply_id 0: none). */
void reply_player_set_auto(struct reply_player *player, uint32_t reply_id, uint32_t version,
                           int delay_s);

/* A ring with device counter event_id: arm the auto-reply, if there is a rule. */
void reply_player_on_ring(struct reply_player *player, uint32_t event_id);

/* Someone answered (opened live view): the pending auto-reply is called off. */
void reply_player_answered(struct reply_player *player);

#endif
