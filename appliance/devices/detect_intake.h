/*
 * detect_intake.h - a doorbell's DETECT_FRAME into the hub's detection pool
 * (docs/protocol.md, "Detect frames"): the layout is checked here, the
 * picture by the detector; what is refused is logged with the reason and
 * dropped, and the link stays up.
 *
 * Called on the link connection's thread; keeps nothing (the pool copies).
 */
#ifndef DOORSTEP_DETECT_INTAKE_H
#define DOORSTEP_DETECT_INTAKE_H

#include "common/link_protocol.h"

struct hub;

/* Hand one decoded DETECT_FRAME of device_id to hub->detection (nothing if
 * the hub runs without one). 0 submitted, -1 refused or dropped (logged). */
int detect_intake_on_frame(struct hub *hub, const char *device_id,
                           const struct link_message *message);

#endif
