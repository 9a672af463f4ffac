/*
 * motion_privacy.h - privacy masks blacked out of full-size frames before
 * they are encoded or snapshotted. Runs on the capture thread; pure.
 */
#ifndef DOORSTEP_MOTION_PRIVACY_H
#define DOORSTEP_MOTION_PRIVACY_H

#include "camera/camera.h"
#include "common/motion_config.h"

/* Paint the privacy masks of config black (luma 16, neutral chroma) into an
 * I420 frame in place. A pixel is painted when its centre is inside a mask
 * polygon; chroma is painted at its own resolution, rounded outward so no
 * colour of a masked pixel stays. */
void motion_privacy_blackout(const struct motion_config *config, struct camera_frame *frame);

#endif
