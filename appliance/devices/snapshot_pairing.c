/*
 * snapshot_pairing.c - the table that pairs a doorbell's snapshots with the
 * events they were taken for (see snapshot_pairing.h). Run by one link
 * connection's thread; owns nothing outside the caller's struct.
 */
#include "devices/snapshot_pairing.h"

#include <string.h>

void snapshot_pairing_init(struct snapshot_pairing *pairing, int tagged)
{
    memset(pairing, 0, sizeof(*pairing));
    pairing->tagged = tagged != 0;
}

/* The slot of tag in a tagged table, or NULL. */
static struct snapshot_pairing_slot *snapshot_pairing_find(struct snapshot_pairing *pairing,
                                                           uint32_t tag)
{
    for (int i = 0; i < SNAPSHOT_PAIRING_SLOTS; i++)
        if (pairing->slots[i].state != SNAPSHOT_PAIRING_FREE && pairing->slots[i].tag == tag)
            return &pairing->slots[i];
    return NULL;
}

int64_t snapshot_pairing_add(struct snapshot_pairing *pairing, uint32_t tag, int64_t event_id,
                             int64_t now_ms, int64_t wait_ms)
{
    struct snapshot_pairing_slot *slot;
    int64_t dropped = 0;

    if (pairing->tagged && snapshot_pairing_find(pairing, tag) != NULL)
        return 0;
    slot = &pairing->slots[pairing->next];
    pairing->next = (pairing->next + 1) % SNAPSHOT_PAIRING_SLOTS;
    if (slot->state == SNAPSHOT_PAIRING_WAITING && now_ms <= slot->deadline_ms)
        dropped = slot->event_id;
    slot->tag = tag;
    slot->event_id = event_id;
    slot->deadline_ms = now_ms + wait_ms;
    slot->state = event_id > 0 ? SNAPSHOT_PAIRING_WAITING : SNAPSHOT_PAIRING_UNSTORED;
    return dropped;
}

/* Untagged: the oldest slot still waiting within its deadline, or NULL. The
 * ring buffer's oldest slot is `next`, so the search starts there. */
static struct snapshot_pairing_slot *snapshot_pairing_oldest(struct snapshot_pairing *pairing,
                                                             int64_t now_ms)
{
    for (int i = 0; i < SNAPSHOT_PAIRING_SLOTS; i++) {
        struct snapshot_pairing_slot *slot =
            &pairing->slots[(pairing->next + (unsigned)i) % SNAPSHOT_PAIRING_SLOTS];
        if (slot->state == SNAPSHOT_PAIRING_WAITING && now_ms <= slot->deadline_ms)
            return slot;
    }
    return NULL;
}

enum snapshot_pairing_outcome snapshot_pairing_take(struct snapshot_pairing *pairing,
                                                    uint32_t sequence, int64_t now_ms,
                                                    int64_t *event_id_out)
{
    struct snapshot_pairing_slot *slot;

    *event_id_out = 0;
    if (!pairing->tagged) {
        slot = snapshot_pairing_oldest(pairing, now_ms);
        if (slot == NULL)
            return SNAPSHOT_PAIRING_NO_EVENT;
        slot->state = SNAPSHOT_PAIRING_DONE;
        *event_id_out = slot->event_id;
        return SNAPSHOT_PAIRING_ATTACH;
    }
    if (sequence == 0)
        return SNAPSHOT_PAIRING_NO_EVENT; /* an answer to a snapshot command */
    slot = snapshot_pairing_find(pairing, sequence);
    if (slot == NULL)
        return SNAPSHOT_PAIRING_UNKNOWN;
    *event_id_out = slot->event_id;
    switch (slot->state) {
    case SNAPSHOT_PAIRING_WAITING:
        slot->state = SNAPSHOT_PAIRING_DONE;
        return now_ms <= slot->deadline_ms ? SNAPSHOT_PAIRING_ATTACH : SNAPSHOT_PAIRING_ATTACH_LATE;
    case SNAPSHOT_PAIRING_DONE:
        return SNAPSHOT_PAIRING_DUPLICATE;
    case SNAPSHOT_PAIRING_UNSTORED:
    case SNAPSHOT_PAIRING_FREE:
        break;
    }
    return SNAPSHOT_PAIRING_NOT_STORED;
}

const char *snapshot_pairing_outcome_name(enum snapshot_pairing_outcome outcome)
{
    switch (outcome) {
    case SNAPSHOT_PAIRING_ATTACH:
        return "attach";
    case SNAPSHOT_PAIRING_ATTACH_LATE:
        return "attach late";
    case SNAPSHOT_PAIRING_NO_EVENT:
        return "no event";
    case SNAPSHOT_PAIRING_NOT_STORED:
        return "event not stored";
    case SNAPSHOT_PAIRING_DUPLICATE:
        return "duplicate";
    case SNAPSHOT_PAIRING_UNKNOWN:
        return "unknown event";
    }
    return "?";
}
