/*
 * recorder_ring.h - the pre-roll ring of a doorbell in events mode: the
 * last few seconds of compressed packets, always starting on a keyframe, so
 * that a clip can start before its event. Recorder thread only (no lock).
 */
#ifndef DOORSTEP_RECORDER_RING_H
#define DOORSTEP_RECORDER_RING_H

#include <stddef.h>
#include <stdint.h>

/* A queued frame or packet; parameter sets (video) follow the payload. */
struct recorder_item {
    struct recorder_item *next;
    int is_video, is_end, keyframe, samples; /* is_end: close the segment (link lost) */
    uint64_t capture_us;
    size_t size, sps_size, pps_size;
    uint8_t data[]; /* payload, then SPS, then PPS */
};

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
