/*
 * event_intake.h - what the hub does when a doorbell reports an event:
 * store it (or extend the ongoing one), tell the doorbell's recorder (event
 * clips with pre- and post-roll), let the engine decide whether it notifies
 * (event_engine.h), and if so queue it for the notification targets
 * (notify.h) and the open UIs (hub->event_published); and say whether the event
 * still needs a snapshot (notifications wait up to EVENT_SNAPSHOT_WAIT_MS
 * for it, so it rides along).
 *
 * Link thread of the doorbell (one civetweb worker), outside the registry
 * entry lock; uses that thread's SQLite connection.
 */
#ifndef DOORSTEP_EVENT_INTAKE_H
#define DOORSTEP_EVENT_INTAKE_H

#include <stdint.h>

#include "common/link_protocol.h"

struct hub;
struct recorder;

#define EVENT_SNAPSHOT_WAIT_MS 3000  /* a snapshot this soon after an event belongs to it */
#define EVENT_ACTIVE_STALE_MS  30000 /* an ongoing event silent this long is over */

/*
 * Record one LINK_EVENT of device_id received at now_ms. recorder may be
 * NULL. Returns the id of a new event that has no snapshot yet (the caller
 * attaches the snapshot taken for it, devices/snapshot_pairing.h), 0 when
 * there is none, -1 on a database error (logged; the link goes on).
 */
int64_t event_intake_on_event(struct hub *hub, const char *device_id, struct recorder *recorder,
                              const struct link_event *event, int64_t now_ms);

/* Housekeeping (main thread): a state event of a doorbell ("offline",
 * "online", "low_battery"): stored as an instantaneous event and decided
 * on like any other. Returns its id, or -1 (logged). */
int64_t event_intake_state_event(struct hub *hub, const char *device_id, const char *type,
                                 int64_t now_ms);

/* Housekeeping (main thread): write the events kept while the database was
 * full, oldest first, and queue their notifications; stops at the first
 * that still cannot be written. */
void event_intake_flush_backlog(struct hub *hub);

/* Link thread: the snapshot taken for event_id arrived; store it with the
 * event (if it has none yet) and let its waiting notifications go. */
void event_intake_on_snapshot(struct hub *hub, int64_t event_id, const uint8_t *jpeg, size_t size);

#endif
