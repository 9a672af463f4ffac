/*
 * motion_runner.h - runs the motion detector (motion_detector.h) inside
 * doorbelld: analyses captured frames at about MOTION_RUNNER_ANALYSIS_FPS,
 * fuses them with the PIR, blacks privacy masks out of every frame before it
 * is encoded or snapshotted, and reports motion events as link events
 * (active on start and about once a second while it goes on with the
 * current boxes and score, inactive at the end; one id throughout) through
 * a callback.
 *
 * The capture thread owns the runner and calls motion_runner_blackout() and
 * motion_runner_process(); any thread may call motion_runner_set_config(),
 * motion_runner_get_config() and motion_runner_pir() (a mutex guards the
 * settings, an atomic the PIR time).
 */
#ifndef DOORSTEP_MOTION_RUNNER_H
#define DOORSTEP_MOTION_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"
#include "common/link_protocol.h"
#include "common/motion_config.h"
#include "motion/motion_detector.h"

#define MOTION_RUNNER_ANALYSIS_FPS  10
#define MOTION_RUNNER_UPDATE_US     1000000LL /* an ongoing event is re-sent this often */
#define MOTION_RUNNER_PIR_ACTIVE_US 3000000LL /* a PIR pulse counts as a warm body this long */

/* Called on the capture thread; event is valid during the call only. */
typedef void (*motion_runner_callback)(const struct link_event *event, void *context);

struct motion_runner_config {
    int stamp_band;             /* 1: frames carry the sim frame stamp; keep it out of analysis */
    atomic_uint *next_event_id; /* the doorbell's event counter, shared with other events */
    motion_runner_callback on_event;
    void *context;
};

struct motion_runner;

/* Create a runner with default motion settings; NULL with a reason on
 * failure. Free it with motion_runner_destroy(). */
struct motion_runner *motion_runner_create(const struct motion_runner_config *config, char *error,
                                           size_t error_size);

void motion_runner_destroy(struct motion_runner *runner);

/* New settings, applied from the next analysed frame. Any thread. */
void motion_runner_set_config(struct motion_runner *runner, const struct motion_config *config);

/* Copy the settings in force (or about to be). Any thread. */
void motion_runner_get_config(struct motion_runner *runner, struct motion_config *out);

/* The PIR sensor fired now (a pulse). Any thread. */
void motion_runner_pir(struct motion_runner *runner);

/* Paint the privacy masks into frame in place. Capture thread. */
void motion_runner_blackout(struct motion_runner *runner, struct camera_frame *frame);

/* Analyse frame if its analysis slot is due (about MOTION_RUNNER_ANALYSIS_FPS
 * per second; other frames are skipped) with pir_level as the wired PIR's
 * state (0 without one), and report what changed. now_us is a monotonic
 * clock. Capture thread. */
void motion_runner_process(struct motion_runner *runner, const struct camera_frame *frame,
                           int64_t now_us, int pir_level);

/* Is a motion event going on? 1 with its id and the newest boxes seen
 * (0..16, normalised to the frame), else 0. Capture thread. */
int motion_runner_active_event(const struct motion_runner *runner, uint32_t *event_id,
                               struct link_box boxes[LINK_MAX_BOXES], int *box_count);

#endif
