/*
 * motion_runner.c - the motion detector inside doorbelld (motion_runner.h).
 *
 * The capture thread owns the detector and the settings it applies; other
 * threads hand new settings over through `pending` under the mutex, and the
 * capture thread picks them up before the next frame. Frames are analysed
 * at about 10 per second whatever the camera rate: that is what the
 * detector's timings (min_frames, hold) are tuned for, and it leaves the
 * capture thread its time for encoding.
 *
 * The sim camera draws its frame stamp (a row of cells whose bits flip as
 * the clock runs) into every frame. Below 1280 pixels wide the cells survive
 * the detector's opening and would be seen as motion, so the band is masked
 * out of the analysis - never out of the video, where tests decode it.
 */
#define LOG_MODULE "motion"

#include "motion/motion_runner.h"
#include "motion/motion_privacy.h"
#include "motion/package_watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera/frame_stamp.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"

#define MOTION_RUNNER_PERIOD_US   (1000000LL / MOTION_RUNNER_ANALYSIS_FPS)
#define MOTION_RUNNER_STAMP_WIDTH 1280 /* from this width the opening removes the stamp */

enum motion_runner_report_kind {
    MOTION_RUNNER_START,
    MOTION_RUNNER_UPDATE,
    MOTION_RUNNER_END,
};

struct motion_runner {
    struct motion_runner_config config;
    struct motion_detector *detector;
    struct package_watch *packages; /* the doorstep area, when a package_zone is set */

    pthread_mutex_t lock;         /* guards pending and pending_changed */
    struct motion_config pending; /* the newest settings */
    int pending_changed;

    atomic_llong pir_at_us; /* monotonic time of the last PIR pulse, 0 = none */

    /* Capture thread only. */
    struct motion_config applied;        /* what blackout and detector use */
    int detector_width, detector_height; /* frame size the detector settings were built for */
    int64_t next_analysis_us;
    int64_t next_update_us;
    uint32_t event_id;               /* of the event going on */
    int event_active;                /* a START was reported, its END not yet */
    int boxes_known;                 /* last_boxes holds the newest non-empty boxes */
    struct motion_result last_boxes; /* for updates on frames without boxes */
};

/* The detector's settings for frames width pixels wide: the user's, plus the
 * frame-stamp band as an analysis-only mask where it is needed. */
static void motion_runner_detector_config(const struct motion_runner *runner, int width, int height,
                                          struct motion_config *out)
{
    *out = runner->applied;
    if (!runner->config.stamp_band || width >= MOTION_RUNNER_STAMP_WIDTH || width <= 0 ||
        height <= 0)
        return;
    if (out->mask_count >= MOTION_MAX_POLYGONS) {
        log_warn("8 privacy masks: no room to keep the frame stamp out of motion detection");
        return;
    }
    float right = (float)FRAME_STAMP_BAND_WIDTH / (float)width;
    float bottom = (float)FRAME_STAMP_BAND_HEIGHT / (float)height;
    if (right > 1.0f)
        right = 1.0f;
    if (bottom > 1.0f)
        bottom = 1.0f;
    out->masks[out->mask_count++] =
        (struct motion_polygon){4, {{0, 0}, {right, 0}, {right, bottom}, {0, bottom}}};
}

/* Create the runner; freed with motion_runner_destroy(). */
struct motion_runner *motion_runner_create(const struct motion_runner_config *config, char *error,
                                           size_t error_size)
{
    struct motion_runner *runner = calloc(1, sizeof(*runner));
    struct motion_config detector_config;

    if (runner == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    runner->config = *config;
    motion_config_defaults(&runner->applied);
    runner->pending = runner->applied;
    atomic_init(&runner->pir_at_us, 0);
    if (mutex_init_checked(&runner->lock) != 0) {
        error_text_set(error, error_size, "cannot create a mutex");
        free(runner);
        return NULL;
    }
    motion_runner_detector_config(runner, 0, 0, &detector_config);
    runner->detector = motion_detector_create(&detector_config, error, error_size);
    runner->packages = package_watch_create();
    if (runner->detector == NULL || runner->packages == NULL) {
        if (runner->packages == NULL)
            error_text_set(error, error_size, "out of memory");
        motion_detector_destroy(runner->detector);
        package_watch_destroy(runner->packages);
        pthread_mutex_destroy(&runner->lock);
        free(runner);
        return NULL;
    }
    return runner;
}

void motion_runner_destroy(struct motion_runner *runner)
{
    if (runner == NULL)
        return;
    motion_detector_destroy(runner->detector);
    package_watch_destroy(runner->packages);
    pthread_mutex_destroy(&runner->lock);
    free(runner);
}

/* Hand new settings to the capture thread. Any thread. */
void motion_runner_set_config(struct motion_runner *runner, const struct motion_config *config)
{
    pthread_mutex_lock(&runner->lock);
    runner->pending = *config;
    runner->pending_changed = 1;
    pthread_mutex_unlock(&runner->lock);
}

/* The newest settings. Any thread. */
void motion_runner_get_config(struct motion_runner *runner, struct motion_config *out)
{
    pthread_mutex_lock(&runner->lock);
    *out = runner->pending;
    pthread_mutex_unlock(&runner->lock);
}

/* Remember a PIR pulse. Any thread. */
void motion_runner_pir(struct motion_runner *runner)
{
    atomic_store(&runner->pir_at_us, (long long)clock_monotonic_us());
}

/* Send a motion link event: start (a new id), update or end, with the boxes
 * of result or, on a frame without any, the newest boxes seen. */
static void motion_runner_report(struct motion_runner *runner, enum motion_runner_report_kind kind,
                                 const struct motion_result *result)
{
    const struct motion_result *boxes = result;
    struct link_event event;

    if (result->box_count > 0) {
        runner->last_boxes = *result;
        runner->boxes_known = 1;
    } else if (runner->boxes_known) {
        boxes = &runner->last_boxes;
    }
    if (kind == MOTION_RUNNER_START)
        runner->event_id = atomic_fetch_add(runner->config.next_event_id, 1) + 1;
    memset(&event, 0, sizeof(event));
    event.type = LINK_EVENT_MOTION;
    event.id = runner->event_id;
    event.score = result->score < 0.0 ? 0.0 : result->score > 1.0 ? 1.0 : result->score;
    event.active = kind != MOTION_RUNNER_END;
    for (int i = 0; i < boxes->box_count && i < LINK_MAX_BOXES; i++) {
        const struct motion_box *box = &boxes->boxes[i];
        event.boxes[event.box_count++] = (struct link_box){box->x, box->y, box->width, box->height};
    }
    if (kind != MOTION_RUNNER_UPDATE)
        log_info("motion event %u %s (score %.2f, %d box(es))", event.id,
                 kind == MOTION_RUNNER_START ? "started" : "ended", event.score, event.box_count);
    runner->config.on_event(&event, runner->config.context);
}

/* Whether two sets of privacy masks differ (only the points in use count). */
static int motion_runner_masks_differ(const struct motion_config *a, const struct motion_config *b)
{
    if (a->mask_count != b->mask_count)
        return 1;
    for (int i = 0; i < a->mask_count; i++) {
        const struct motion_polygon *first = &a->masks[i], *second = &b->masks[i];
        if (first->point_count != second->point_count ||
            memcmp(first->points, second->points,
                   (size_t)first->point_count * sizeof(first->points[0])) != 0)
            return 1;
    }
    return 0;
}

/*
 * Capture thread: a fresh detector for new privacy masks. Blacking a new
 * mask out changes the picture along its edges, where the small analysis
 * picture mixes masked and unmasked pixels; the old background would call
 * that motion, so the background is learnt again. An event in progress ends
 * here. Keeps the old detector (reconfigured) if out of memory.
 */
static void motion_runner_restart(struct motion_runner *runner,
                                  const struct motion_config *detector_config)
{
    char error[128];
    struct motion_detector *fresh = motion_detector_create(detector_config, error, sizeof(error));

    if (fresh == NULL) {
        log_warn("cannot restart motion detection: %s", error);
        motion_detector_configure(runner->detector, detector_config);
        return;
    }
    motion_detector_destroy(runner->detector);
    runner->detector = fresh;
    if (runner->event_active) {
        struct motion_result ended;
        memset(&ended, 0, sizeof(ended));
        ended.ended = 1;
        runner->event_active = 0;
        motion_runner_report(runner, MOTION_RUNNER_END, &ended);
    }
    runner->boxes_known = 0;
}

/* Capture thread: take new settings, and rebuild the detector's when they
 * or the frame size changed. */
static void motion_runner_update_settings(struct motion_runner *runner, int width, int height)
{
    int changed, masks_changed = 0;
    struct motion_config detector_config;

    pthread_mutex_lock(&runner->lock);
    changed = runner->pending_changed;
    if (changed) {
        masks_changed = motion_runner_masks_differ(&runner->applied, &runner->pending);
        runner->applied = runner->pending;
    }
    runner->pending_changed = 0;
    pthread_mutex_unlock(&runner->lock);
    if (!changed && width == runner->detector_width && height == runner->detector_height)
        return;
    motion_runner_detector_config(runner, width, height, &detector_config);
    if (masks_changed)
        motion_runner_restart(runner, &detector_config);
    else
        motion_detector_configure(runner->detector, &detector_config);
    package_watch_configure(runner->packages, &runner->applied);
    runner->detector_width = width;
    runner->detector_height = height;
    if (changed)
        log_info("motion settings applied: %d zone(s), %d privacy mask(s), %s",
                 runner->applied.zone_count, runner->applied.mask_count,
                 runner->applied.has_package_zone ? "a doorstep area" : "no doorstep area");
}

/* Paint the privacy masks into the frame. Capture thread. */
void motion_runner_blackout(struct motion_runner *runner, struct camera_frame *frame)
{
    motion_runner_update_settings(runner, frame->width, frame->height);
    if (runner->applied.mask_count > 0)
        motion_privacy_blackout(&runner->applied, frame);
}

/* The package watch on the frame just analysed: a delivery or a taking is
 * a one-shot link event (active 0) with the object's box and a new id. */
static void motion_runner_packages(struct motion_runner *runner, const struct motion_result *result,
                                   int64_t now_us, int pir)
{
    struct package_watch_report report;
    struct link_event event;
    /* Not the detector's event: it calls a new still parcel motion for 30 s. */
    int busy = pir;

    if (!package_watch_enabled(runner->packages) ||
        !package_watch_step(runner->packages, motion_detector_luma(runner->detector), now_us, busy,
                            result->light_switch, &report))
        return;
    memset(&event, 0, sizeof(event));
    event.type = report.kind == PACKAGE_WATCH_DELIVERED ? LINK_EVENT_PACKAGE_DELIVERED
                                                        : LINK_EVENT_PACKAGE_TAKEN;
    event.id = atomic_fetch_add(runner->config.next_event_id, 1) + 1;
    event.score = 1.0;
    event.active = 0;
    if (report.box.width > 0 && report.box.height > 0) {
        event.boxes[0] =
            (struct link_box){report.box.x, report.box.y, report.box.width, report.box.height};
        event.box_count = 1;
    }
    log_info("%s (event %u) at %.2f,%.2f %.2fx%.2f", link_event_type_name(event.type), event.id,
             report.box.x, report.box.y, report.box.width, report.box.height);
    runner->config.on_event(&event, runner->config.context);
}

/* Analyse the frame when its slot is due and report. Capture thread. */
void motion_runner_process(struct motion_runner *runner, const struct camera_frame *frame,
                           int64_t now_us, int pir_level)
{
    struct motion_result result;
    long long pir_at;
    int pir;

    /* A quarter period of slack: a 30 fps camera gives every third frame. */
    if (now_us < runner->next_analysis_us)
        return;
    runner->next_analysis_us = now_us + MOTION_RUNNER_PERIOD_US - MOTION_RUNNER_PERIOD_US / 4;
    motion_runner_update_settings(runner, frame->width, frame->height);

    pir_at = atomic_load(&runner->pir_at_us);
    pir = pir_level || (pir_at != 0 && now_us - pir_at < MOTION_RUNNER_PIR_ACTIVE_US);
    if (motion_detector_process(runner->detector, frame, now_us, pir, &result) != 0)
        return; /* a frame size the detector cannot take: nothing to say */
    motion_runner_packages(runner, &result, now_us, pir);

    /* The newest boxes: a start reports them, and detect frames carry them. */
    if (result.box_count > 0) {
        runner->last_boxes = result;
        runner->boxes_known = 1;
    }
    if (result.started) {
        runner->event_active = 1;
        runner->next_update_us = now_us + MOTION_RUNNER_UPDATE_US;
        motion_runner_report(runner, MOTION_RUNNER_START, &result);
    } else if (result.ended && runner->event_active) {
        runner->event_active = 0;
        motion_runner_report(runner, MOTION_RUNNER_END, &result);
        runner->boxes_known = 0;
    } else if (result.active && runner->event_active && now_us >= runner->next_update_us) {
        runner->next_update_us = now_us + MOTION_RUNNER_UPDATE_US;
        motion_runner_report(runner, MOTION_RUNNER_UPDATE, &result);
    }
}

/* See motion_runner.h. Capture thread. */
int motion_runner_active_event(const struct motion_runner *runner, uint32_t *event_id,
                               struct link_box boxes[LINK_MAX_BOXES], int *box_count)
{
    *event_id = 0;
    *box_count = 0;
    if (!runner->event_active)
        return 0;
    *event_id = runner->event_id;
    for (int i = 0; runner->boxes_known && i < runner->last_boxes.box_count && i < LINK_MAX_BOXES;
         i++) {
        const struct motion_box *box = &runner->last_boxes.boxes[i];
        boxes[(*box_count)++] = (struct link_box){box->x, box->y, box->width, box->height};
    }
    return 1;
}
