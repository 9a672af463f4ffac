/*
 * snapshot_pairing.h - which event a doorbell's SNAPSHOT belongs to
 * (docs/protocol.md, "Event snapshots").
 *
 * A doorbell that says `event_snapshots` in its HELLO tags every picture it
 * takes for an event with that event's id (the SNAPSHOT header's sequence);
 * the table below maps those doorbell-local ids to the hub's event ids, so a
 * ring and a motion event that start together each get their own picture,
 * whatever order the messages come in. An older doorbell tags nothing: its
 * next picture goes to the oldest event still waiting (within
 * EVENT_SNAPSHOT_WAIT_MS), which is the best that can be done without tags.
 *
 * One table per link connection (struct link_session), used by that
 * connection's thread only: no locks. Pure: no I/O, no logging (the caller
 * logs the outcome), no allocation. Doorbell event ids restart when a
 * doorbell restarts, which is a new connection and so a new table.
 */
#ifndef DOORSTEP_SNAPSHOT_PAIRING_H
#define DOORSTEP_SNAPSHOT_PAIRING_H

#include <stdint.h>

#define SNAPSHOT_PAIRING_SLOTS 32 /* event starts remembered per connection */

enum snapshot_pairing_outcome {
    SNAPSHOT_PAIRING_ATTACH,      /* the picture of *event_id_out, in time for its notification */
    SNAPSHOT_PAIRING_ATTACH_LATE, /* ... after its wait: the notification went without it */
    SNAPSHOT_PAIRING_NO_EVENT,    /* not taken for an event (sequence 0), or nothing waits */
    SNAPSHOT_PAIRING_NOT_STORED,  /* for an event the hub did not store (schedule, backlog) */
    SNAPSHOT_PAIRING_DUPLICATE,   /* its event already got its picture */
    SNAPSHOT_PAIRING_UNKNOWN,     /* a tag no event start on this connection had (or too old) */
};

enum snapshot_pairing_state {
    SNAPSHOT_PAIRING_FREE,
    SNAPSHOT_PAIRING_WAITING,
    SNAPSHOT_PAIRING_DONE,
    SNAPSHOT_PAIRING_UNSTORED,
};

struct snapshot_pairing_slot {
    uint32_t tag;        /* the doorbell's event id (tagged doorbells) */
    int64_t event_id;    /* the hub's event id, 0 if it stored none */
    int64_t deadline_ms; /* the notification waits for the picture until then */
    enum snapshot_pairing_state state;
};

struct snapshot_pairing {
    int tagged;    /* the doorbell said event_snapshots in its HELLO */
    unsigned next; /* slot the next event start takes (ring buffer) */
    struct snapshot_pairing_slot slots[SNAPSHOT_PAIRING_SLOTS];
};

/* Start an empty table for a connection; tagged as in its HELLO. */
void snapshot_pairing_init(struct snapshot_pairing *pairing, int tagged);

/*
 * An event started: the doorbell's id `tag` became the hub's event_id (0 when
 * the hub stored none: its picture is then only the doorbell's latest),
 * waiting for its picture until now_ms + wait_ms. A tag already in the table
 * keeps its slot (a repeated motion start). The oldest slot makes room; if
 * it was still waiting and its wait was not over, its hub event id is
 * returned (the caller logs that it will get no picture), else 0.
 */
int64_t snapshot_pairing_add(struct snapshot_pairing *pairing, uint32_t tag, int64_t event_id,
                             int64_t now_ms, int64_t wait_ms);

/*
 * A SNAPSHOT with header sequence `sequence` arrived at now_ms: say whose it
 * is. For ATTACH and ATTACH_LATE *event_id_out is the hub event that gets it
 * (marked done, so a second picture for it is a DUPLICATE); for DUPLICATE
 * and NOT_STORED it is that event's id (0 if none); otherwise 0. Untagged
 * tables ignore sequence and give the picture to the oldest event still in
 * its wait (NO_EVENT if none).
 */
enum snapshot_pairing_outcome snapshot_pairing_take(struct snapshot_pairing *pairing,
                                                    uint32_t sequence, int64_t now_ms,
                                                    int64_t *event_id_out);

/* A short name of an outcome for log lines ("attach", "duplicate", ...). */
const char *snapshot_pairing_outcome_name(enum snapshot_pairing_outcome outcome);

#endif
