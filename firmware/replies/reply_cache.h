/*
 * reply_cache.h - the doorbell's quick replies: clips (common/reply_clip.h)
 * the hub sent in QUICK_REPLY_DATA chunks, reassembled, checked and kept by
 * id and version, in memory and (with --state-dir) on disk, so a reply
 * still plays while the hub is away and after a restart.
 *
 * Bounded: at most REPLY_CACHE_MAX_ENTRIES clips of at most
 * REPLY_CLIP_MAX_BYTES each, in memory and on disk alike; the least
 * recently used goes first. A newer version of a reply replaces the older.
 *
 * Threads: the link thread feeds chunks; the reply player thread and the
 * link thread read clips. Locks: cache->lock guards the entries and the
 * chunk assembly. Ownership: reply_cache_get hands out a copy the caller
 * frees with free().
 */
#ifndef DOORSTEP_REPLY_CACHE_H
#define DOORSTEP_REPLY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/link_protocol.h"

#define REPLY_CACHE_MAX_ENTRIES 16

struct reply_cache;

/* Make an empty cache; state_dir (may be NULL: memory only) gets a
 * "replies" folder. NULL if out of memory. */
struct reply_cache *reply_cache_create(const char *state_dir);

/* Free the cache and its clips (the files stay). NULL is a no-op. */
void reply_cache_destroy(struct reply_cache *cache);

/*
 * Link thread: one chunk. A chunk at offset 0 starts a clip (dropping any
 * unfinished one); the others must follow in order. Returns 1 when the clip
 * is complete, checked and kept, 0 when more is to come, -1 with a reason
 * when the chunk does not fit or the finished clip is not a clip.
 */
int reply_cache_take_chunk(struct reply_cache *cache, const struct link_quick_reply_data *chunk,
                           char *error, size_t error_size);

/* A copy of clip (reply_id, version) into *clip / *size, from memory or
 * disk; the caller frees *clip. 0, or -1 when it is not cached. */
int reply_cache_get(struct reply_cache *cache, uint32_t reply_id, uint32_t version, uint8_t **clip,
                    size_t *size);

#endif
