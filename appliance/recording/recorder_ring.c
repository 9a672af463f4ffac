/*
 * recorder_ring.c - the recorder's queued items and the pre-roll ring of
 * events mode (see recorder_ring.h). Items are made on the link thread; the
 * ring is the recorder thread's only and owns its items.
 */
#include "recording/recorder_ring.h"

#include <stdlib.h>
#include <string.h>

#include "recording/recorder.h"

struct recorder_item *recorder_item_video(const struct h264_access_unit *unit, uint64_t capture_us)
{
    size_t sps = unit->sps ? unit->sps_size : 0, pps = unit->pps ? unit->pps_size : 0;
    struct recorder_item *item = malloc(sizeof(*item) + unit->avcc_size + sps + pps);

    if (item == NULL)
        return NULL;
    memset(item, 0, sizeof(*item));
    item->is_video = 1;
    item->keyframe = unit->is_idr;
    item->capture_us = capture_us;
    item->size = unit->avcc_size;
    item->sps_size = sps;
    item->pps_size = pps;
    memcpy(item->data, unit->avcc, unit->avcc_size);
    if (sps > 0)
        memcpy(item->data + unit->avcc_size, unit->sps, sps);
    if (pps > 0)
        memcpy(item->data + unit->avcc_size + sps, unit->pps, pps);
    return item;
}

struct recorder_item *recorder_item_audio(const uint8_t *packet, size_t size, int samples,
                                          uint64_t capture_us)
{
    struct recorder_item *item = malloc(sizeof(*item) + size);

    if (item == NULL)
        return NULL;
    memset(item, 0, sizeof(*item));
    item->samples = samples;
    item->capture_us = capture_us;
    item->size = size;
    memcpy(item->data, packet, size);
    return item;
}

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
