/*
 * detect_intake.h - a doorbell's DETECT_FRAME into the hub's detection pool
 * (docs/protocol.md, "Detect frames"): the layout is checked here, the
 * picture by the detector; what is refused is logged with the reason and
 * dropped, and the link stays up. Then the pool's results: votes and
 * person notifications.
 *
 * detect_intake_on_frame: the link connection's thread; keeps nothing (the
 * pool copies). detect_intake_on_result: a pool worker.
 */
#ifndef DOORSTEP_DETECT_INTAKE_H
#define DOORSTEP_DETECT_INTAKE_H

#include "common/link_protocol.h"
#include "detection/person_detector.h"

struct hub;

/* Hand one decoded DETECT_FRAME of device_id to hub->detection (nothing if
 * the hub runs without one). 0 submitted, -1 refused or dropped (logged). */
int detect_intake_on_frame(struct hub *hub, const char *device_id,
                           const struct link_message *message);

/* The detection pool's callback (detection_result_fn; user is the hub): the
 * vote (events/person_vote.h), and for an event that just became a person
 * event its notification to the targets that want "person" and the open
 * UIs. Pool worker thread. */
void detect_intake_on_result(const struct detection_result *result, void *user);

#endif
