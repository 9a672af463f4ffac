/*
 * recorder_ring.c - the pre-roll ring of events mode (see recorder_ring.h).
 * Recorder thread only; the ring owns its items.
 */
#include "recording/recorder_ring.h"

#include <stdlib.h>

#include "recording/recorder.h"

/* Free the first item of the ring. Recorder thread. */
void recorder_ring_drop_head(struct recorder_ring *ring)
{
    struct recorder_item *item = ring->head;
    ring->head = item->next;
    if (ring->head == NULL)
        ring->tail = NULL;
    ring->bytes -= item->size;
    free(item);
}

void recorder_ring_clear(struct recorder_ring *ring)
{
    while (ring->head != NULL)
        recorder_ring_drop_head(ring);
}

/* Drop whatever precedes the ring's first keyframe. */
static void recorder_ring_align(struct recorder_ring *ring)
{
    while (ring->head != NULL && !(ring->head->is_video && ring->head->keyframe &&
                                   ring->head->sps_size > 0 && ring->head->pps_size > 0))
        recorder_ring_drop_head(ring);
}

/*
 * Keep item (the ring owns it now) and trim the ring to start at the latest
 * keyframe at least pre_roll before the newest frame, so a clip opened now
 * begins pre_roll early, on a frame a decoder can start from. Past the byte
 * cap, whole GOPs go from the front.
 */
void recorder_ring_keep(struct recorder_ring *ring, struct recorder_item *item,
                        uint64_t pre_roll_us)
{
    struct recorder_item *cut = NULL;

    item->next = NULL;
    if (ring->tail != NULL)
        ring->tail->next = item;
    else
        ring->head = item;
    ring->tail = item;
    ring->bytes += item->size;
    recorder_ring_align(ring);
    if (ring->head == NULL || !item->is_video)
        return;
    for (struct recorder_item *at = ring->head; at != NULL; at = at->next)
        if (at->is_video && at->keyframe && at->sps_size > 0 &&
            at->capture_us + pre_roll_us <= item->capture_us)
            cut = at;
    while (cut != NULL && ring->head != cut)
        recorder_ring_drop_head(ring);
    while (ring->bytes > RECORDER_PRE_ROLL_MAX_BYTES && ring->head != NULL) {
        recorder_ring_drop_head(ring); /* the keyframe, then up to the next one */
        recorder_ring_align(ring);
    }
}
