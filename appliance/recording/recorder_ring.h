/*
 * recorder_ring.h - the recorder's queued items (one frame or packet each,
 * made by the link thread) and the pre-roll ring of a doorbell in events
 * mode: the last few seconds of compressed packets, always starting on a
 * keyframe, so that a clip can start before its event. The ring is the
 * recorder thread's only (no lock).
 */
#ifndef DOORSTEP_RECORDER_RING_H
#define DOORSTEP_RECORDER_RING_H

#include <stddef.h>
#include <stdint.h>

#include "media/h264.h"

/* A queued frame or packet; parameter sets (video) follow the payload. */
struct recorder_item {
    struct recorder_item *next;
    int is_video, is_end, keyframe, samples; /* is_end: close the segment (link lost) */
    uint64_t capture_us;
    size_t size, sps_size, pps_size;
    uint8_t data[]; /* payload, then SPS, then PPS */
};

/* Link thread: an item holding a copy of one access unit and its parameter
 * sets, or of one Opus packet of `samples` 48 kHz samples. malloc'd (the
 * caller frees it or hands it on); NULL if out of memory. */
struct recorder_item *recorder_item_video(const struct h264_access_unit *unit, uint64_t capture_us);
struct recorder_item *recorder_item_audio(const uint8_t *packet, size_t size, int samples,
                                          uint64_t capture_us);

/* The ring: items in capture order; it owns them. */
struct recorder_ring {
    struct recorder_item *head, *tail;
    size_t bytes;
};

/* Free the first item of the ring. */
void recorder_ring_drop_head(struct recorder_ring *ring);

/* Free every item. */
void recorder_ring_clear(struct recorder_ring *ring);

/* Keep item (the ring owns it now), trimmed to start at the latest keyframe
 * at least pre_roll_us before the newest frame; past
 * RECORDER_PRE_ROLL_MAX_BYTES whole GOPs go from the front. */
void recorder_ring_keep(struct recorder_ring *ring, struct recorder_item *item,
                        uint64_t pre_roll_us);

#endif
