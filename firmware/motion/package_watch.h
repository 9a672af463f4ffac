/*
 * package_watch.h - watches the doorstep area ("package_zone" of the motion
 * settings) on the motion detector's analysis picture and reports package
 * candidates: something new that stays still there (delivered), and later
 * its going away (taken). The rule is described in docs/packages.md and at
 * the top of package_watch.c.
 *
 * One thread owns a watch (the capture thread, through motion_runner.c).
 * All memory is allocated by package_watch_create(); the per-frame step
 * allocates nothing.
 */
#ifndef DOORSTEP_PACKAGE_WATCH_H
#define DOORSTEP_PACKAGE_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/motion_config.h"
#include "motion/motion_detector.h"

enum package_watch_kind {
    PACKAGE_WATCH_NONE,
    PACKAGE_WATCH_DELIVERED,
    PACKAGE_WATCH_TAKEN,
};

/* What one step found: a delivery or a taking, and the object's box
 * (normalised to the frame; for a taking, where the object was). */
struct package_watch_report {
    enum package_watch_kind kind;
    struct motion_box box;
};

struct package_watch;

/* A watch with no zone (it reports nothing until configured with one); NULL
 * if out of memory. Free it with package_watch_destroy(). */
struct package_watch *package_watch_create(void);

void package_watch_destroy(struct package_watch *watch);

/* Apply settings: a new or changed package zone starts over (learns the
 * empty zone again); no zone stops the watch. */
void package_watch_configure(struct package_watch *watch, const struct motion_config *config);

/* Whether a zone is set (the runner skips the step otherwise). */
int package_watch_enabled(const struct package_watch *watch);

/* One analysis picture: luma MOTION_ANALYSIS_WIDTH x MOTION_ANALYSIS_HEIGHT,
 * packed, taken at time_us (monotonic). motion_active: someone is there
 * (the PIR sees a warm body; movement in the zone the watch finds itself);
 * light_switch: the detector saw a global lighting change on
 * this frame. Returns 1 with *report filled when something is to be
 * reported, else 0 (report->kind = PACKAGE_WATCH_NONE). */
int package_watch_step(struct package_watch *watch, const uint8_t *luma, int64_t time_us,
                       int motion_active, int light_switch, struct package_watch_report *report);

#endif
