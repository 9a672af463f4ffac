/*
 * still_scene.h - the main encoder's still-scene rule: a picture with no
 * motion, no PIR and no ring for a while is still and is encoded at a
 * fraction of the bitrate; the first sign of activity restores the full
 * bitrate at once, with a keyframe, so an event starts at full quality.
 *
 * Pure bookkeeping (no clock, no encoder): the capture thread owns the
 * struct and feeds it the times; doorbell_capture.c applies the answer.
 */
#ifndef DOORSTEP_STILL_SCENE_H
#define DOORSTEP_STILL_SCENE_H

#include <stdint.h>

#define STILL_SCENE_MIN_KBPS 32 /* never below what the encoder accepts */

struct still_scene {
    int64_t still_after_us; /* quiet this long is still */
    int percent;            /* still bitrate in % of the full one; 0 = rule off */
    int still;              /* 1 while the picture counts as still */
};

/* Set the rule up: still after still_after_s seconds at percent % of the
 * bitrate (0 = never lower it). Starts active. */
void still_scene_init(struct still_scene *scene, int still_after_s, int percent);

/* The state at now_us, the last activity (motion, PIR, ring) having been at
 * last_activity_us (same clock): returns 1 when the picture just became
 * active (restore the full bitrate and force a keyframe), -1 when it just
 * became still, 0 when nothing changed. */
int still_scene_update(struct still_scene *scene, int64_t now_us, int64_t last_activity_us);

/* The bitrate the main encoder should run at now for a full bitrate. */
int still_scene_bitrate(const struct still_scene *scene, int full_kbps);

#endif
