/*
 * sim_camera.c - the "sim" camera back-end: renders the porch scene
 * (sim_scene.h) at the configured size and rate, paced on CLOCK_MONOTONIC,
 * and draws the frame stamp (frame_stamp.h) last on every frame.
 *
 * Scene time advances by exactly 1/fps per frame (frame n of a run always
 * shows the same instant), independent of pacing. Triggers arrive from any
 * thread as bits in an atomic mask and are applied at the next frame.
 *
 * With capture_jitter_ms, each capture time (and the stamp drawn from it)
 * is moved by a pseudo-random amount within +-N ms, kept increasing, to test
 * the hub against the irregular capture times of a busy or wireless doorbell.
 *
 * Capture thread only, except camera_sim_trigger() and the visitor flag
 * (an atomic the capture thread stores after each frame and the simulated
 * microphone's thread loads). Owns the scene, the output frame buffer and
 * the ground truth of the last frame.
 */
#define LOG_MODULE "camera"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "camera/camera.h"
#include "camera/camera_backend.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "camera/frame_stamp.h"
#include "camera/sim_scene.h"
#include "common/log.h"

struct camera_sim {
    struct camera base; /* first: struct camera * casts to struct camera_sim * */
    struct sim_scene *scene;
    struct camera_pacer pacer;
    atomic_uint pending_triggers; /* bit n = enum camera_trigger n */
    atomic_int visitor_present;   /* 1 while the last frame shows the visitor */
    int width, height, fps, unpaced;
    uint8_t *planes; /* I420, stride = width */
    uint32_t sequence;
    int64_t scene_base_us; /* scene time when the current rate started */
    uint64_t scene_frames; /* frames rendered since then */
    struct sim_ground_truth truth;
    int have_truth;
    int capture_jitter_ms;
    uint32_t jitter_state;    /* xorshift32 state of the capture-time jitter */
    uint64_t last_capture_us; /* the last (jittered) capture time */
};

static int camera_sim_capture(struct camera *camera, struct camera_frame *frame);
static int camera_sim_trigger(struct camera *camera, enum camera_trigger trigger);
static int camera_sim_reconfigure(struct camera *camera, int width, int height, int fps);
static void camera_sim_close(struct camera *camera);

static const struct camera_backend camera_sim_backend = {
    .name = "sim",
    .capture = camera_sim_capture,
    .trigger = camera_sim_trigger,
    .reconfigure = camera_sim_reconfigure,
    .close = camera_sim_close,
};

/* The sim state behind a camera, or NULL if it is another back-end. */
static struct camera_sim *camera_sim_from(struct camera *camera)
{
    if (camera == NULL || camera->backend != &camera_sim_backend)
        return NULL;
    return (struct camera_sim *)camera;
}

/* Scene time of the next frame to render. */
static int64_t camera_sim_scene_time(const struct camera_sim *sim)
{
    return sim->scene_base_us + (int64_t)(sim->scene_frames * 1000000u / (uint64_t)sim->fps);
}

/* The frame's capture time, moved by up to +-capture_jitter_ms and at least
 * 1 ms after the previous one. */
static uint64_t camera_sim_capture_time(struct camera_sim *sim)
{
    uint64_t now = clock_realtime_us(), range;
    int64_t offset;

    if (sim->capture_jitter_ms <= 0)
        return now;
    sim->jitter_state ^= sim->jitter_state << 13;
    sim->jitter_state ^= sim->jitter_state >> 17;
    sim->jitter_state ^= sim->jitter_state << 5;
    range = 2 * (uint64_t)sim->capture_jitter_ms * 1000u + 1;
    offset = (int64_t)(sim->jitter_state % range) - (int64_t)sim->capture_jitter_ms * 1000;
    now = (uint64_t)((int64_t)now + offset);
    if (sim->last_capture_us != 0 && now < sim->last_capture_us + 1000u)
        now = sim->last_capture_us + 1000u;
    sim->last_capture_us = now;
    return now;
}

/* Open the sim camera; freed by camera_close(). */
struct camera *camera_sim_open(const struct camera_config *config, char *error, size_t error_size)
{
    struct camera_sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    sim->base.backend = &camera_sim_backend;
    atomic_init(&sim->pending_triggers, 0u);
    atomic_init(&sim->visitor_present, 0);
    sim->width = config->width;
    sim->height = config->height;
    sim->fps = config->fps;
    sim->unpaced = config->unpaced;
    sim->capture_jitter_ms = config->capture_jitter_ms;
    sim->jitter_state = config->seed * 2654435761u | 1u; /* never 0 */
    sim->scene = sim_scene_create(config->width, config->height, config->seed, config->scripted,
                                  error, error_size);
    if (sim->scene == NULL)
        goto fail;
    sim->planes = malloc((size_t)config->width * (size_t)config->height * 3 / 2);
    if (sim->planes == NULL) {
        error_text_set(error, error_size, "out of memory for %dx%d frames", config->width,
                       config->height);
        goto fail;
    }
    camera_pacer_start(&sim->pacer, sim->fps, sim->unpaced);
    return &sim->base;
fail:
    sim_scene_destroy(sim->scene);
    free(sim->planes);
    free(sim);
    return NULL;
}

/* Wait for the frame time, apply pending triggers, render, stamp. The frame
 * points into sim->planes until the next capture. */
static int camera_sim_capture(struct camera *camera, struct camera_frame *frame)
{
    struct camera_sim *sim = camera_sim_from(camera);
    assert(sim != NULL);
    camera_pacer_wait(&sim->pacer);

    int64_t scene_time = camera_sim_scene_time(sim);
    unsigned pending = atomic_exchange(&sim->pending_triggers, 0u);
    for (int trigger = 0; pending != 0; trigger++, pending >>= 1) {
        if ((pending & 1u) == 0)
            continue;
        sim_scene_trigger(sim->scene, (enum camera_trigger)trigger, scene_time);
        log_info("sim: %s at scene time %.3f s", camera_trigger_name((enum camera_trigger)trigger),
                 (double)scene_time / 1e6);
    }

    uint64_t capture_time_us = camera_sim_capture_time(sim);
    size_t luma_size = (size_t)sim->width * (size_t)sim->height;
    uint8_t *y = sim->planes, *u = sim->planes + luma_size, *v = u + luma_size / 4;
    sim_scene_render(sim->scene, scene_time, y, sim->width, u, v, sim->width / 2, &sim->truth);
    frame_stamp_draw(y, sim->width, u, v, sim->width / 2, capture_time_us / 1000u, sim->sequence);
    sim->have_truth = 1;
    int visitor = 0;
    for (int i = 0; i < sim->truth.object_count; i++)
        visitor |= sim->truth.objects[i].kind == SIM_OBJECT_VISITOR;
    atomic_store(&sim->visitor_present, visitor);

    *frame = (struct camera_frame){
        .y = y,
        .u = u,
        .v = v,
        .width = sim->width,
        .height = sim->height,
        .stride_y = sim->width,
        .stride_uv = sim->width / 2,
        .capture_time_us = capture_time_us,
        .sequence = sim->sequence,
    };
    sim->sequence++;
    sim->scene_frames++;
    return 0;
}

/* Any thread: mark the trigger; the capture thread applies it next frame. */
static int camera_sim_trigger(struct camera *camera, enum camera_trigger trigger)
{
    struct camera_sim *sim = camera_sim_from(camera);
    assert(sim != NULL && (int)trigger >= 0 && (int)trigger < 32);
    atomic_fetch_or(&sim->pending_triggers, 1u << (unsigned)trigger);
    return 0;
}

/* New size: rebuild the scene and frame buffer. New rate: scene time
 * continues from where it is, pacing restarts. */
static int camera_sim_reconfigure(struct camera *camera, int width, int height, int fps)
{
    struct camera_sim *sim = camera_sim_from(camera);
    assert(sim != NULL);
    if (width != sim->width || height != sim->height) {
        uint8_t *planes = malloc((size_t)width * (size_t)height * 3 / 2);
        if (planes == NULL) {
            log_error("sim: out of memory for %dx%d frames", width, height);
            return -1;
        }
        if (sim_scene_resize(sim->scene, width, height) != 0) {
            free(planes);
            return -1;
        }
        free(sim->planes);
        sim->planes = planes;
        sim->width = width;
        sim->height = height;
    }
    if (fps != sim->fps) {
        sim->scene_base_us = camera_sim_scene_time(sim);
        sim->scene_frames = 0;
        sim->fps = fps;
        camera_pacer_start(&sim->pacer, fps, sim->unpaced);
    }
    log_info("sim: now %dx%d@%d", width, height, fps);
    return 0;
}

/* Free the scene, the frame buffer and the camera. */
static void camera_sim_close(struct camera *camera)
{
    struct camera_sim *sim = camera_sim_from(camera);
    assert(sim != NULL);
    sim_scene_destroy(sim->scene);
    free(sim->planes);
    free(sim);
}

/* Copy the last frame's boxes (see camera.h). */
int camera_sim_ground_truth(struct camera *camera, struct sim_object_box *boxes, int max)
{
    struct camera_sim *sim = camera_sim_from(camera);
    if (sim == NULL)
        return -1;
    if (!sim->have_truth)
        return 0;
    for (int i = 0; i < sim->truth.object_count && i < max; i++)
        boxes[i] = sim->truth.objects[i];
    return sim->truth.object_count;
}

/* Copy the last frame's full ground truth (see camera.h). */
int camera_sim_scene_state(struct camera *camera, struct sim_ground_truth *out)
{
    struct camera_sim *sim = camera_sim_from(camera);
    if (sim == NULL || !sim->have_truth)
        return -1;
    *out = sim->truth;
    return 0;
}

/* The visitor flag (see camera.h). */
const atomic_int *camera_sim_visitor_flag(struct camera *camera)
{
    struct camera_sim *sim = camera_sim_from(camera);
    return sim != NULL ? &sim->visitor_present : NULL;
}
