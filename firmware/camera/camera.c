/*
 * camera.c - opens the camera back-end named by the source string ("sim",
 * "v4l2:/dev/videoN", "file:PATH.y4m") and dispatches the camera.h calls to
 * it; also holds the helpers the back-ends share (frame pacer, clocks).
 *
 * Runs on the capture thread, except camera_trigger() and
 * camera_trigger_parse() which any thread may call. Owns nothing itself: each
 * back-end owns its state and frame buffers.
 */
#define LOG_MODULE "camera"

#include "camera/camera.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "camera/camera_backend.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"

#define CAMERA_NS_PER_SECOND 1000000000LL

static const char *const camera_trigger_names[] = {
    [CAMERA_TRIGGER_LIGHT_ON] = "light_on", [CAMERA_TRIGGER_LIGHT_OFF] = "light_off",
    [CAMERA_TRIGGER_NIGHT] = "night",       [CAMERA_TRIGGER_DAY] = "day",
    [CAMERA_TRIGGER_VISITOR] = "visitor",   [CAMERA_TRIGGER_CAR] = "car",
    [CAMERA_TRIGGER_CAT] = "cat",           [CAMERA_TRIGGER_DELIVER] = "deliver",
    [CAMERA_TRIGGER_TAKE] = "take",
};

#define CAMERA_TRIGGER_COUNT ((int)(sizeof(camera_trigger_names) / sizeof(camera_trigger_names[0])))

/* Reset the schedule; the next camera_pacer_wait() returns at once. */
void camera_pacer_start(struct camera_pacer *pacer, int fps, int unpaced)
{
    assert(fps > 0);
    memset(pacer, 0, sizeof(*pacer));
    pacer->fps = fps;
    pacer->unpaced = unpaced;
}

/* Sleep (TIMER_ABSTIME) until origin + frame_index / fps. */
void camera_pacer_wait(struct camera_pacer *pacer)
{
    if (pacer->unpaced)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!pacer->started) {
        pacer->origin = now;
        pacer->frame_index = 1;
        pacer->started = 1;
        return;
    }
    int64_t period_ns = CAMERA_NS_PER_SECOND / pacer->fps;
    int64_t due_ns = clock_timespec_ns(&pacer->origin) +
                     (int64_t)pacer->frame_index * CAMERA_NS_PER_SECOND / pacer->fps;
    int64_t now_ns = clock_timespec_ns(&now);
    if (now_ns - due_ns > 2 * period_ns) {
        log_debug("pacer: %lld ms behind, restarting schedule",
                  (long long)((now_ns - due_ns) / 1000000));
        pacer->origin = now;
        pacer->frame_index = 1;
        return;
    }
    struct timespec due = {.tv_sec = (time_t)(due_ns / CAMERA_NS_PER_SECOND),
                           .tv_nsec = (long)(due_ns % CAMERA_NS_PER_SECOND)};
    int rc;
    do {
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    } while (rc == EINTR);
    pacer->frame_index++;
}

/* Fill in defaults, validate, and open the back-end named by config->source.
 * The caller frees the result with camera_close(). */
struct camera *camera_open(const struct camera_config *config, char *error, size_t error_size)
{
    struct camera_config resolved = {0};
    if (config != NULL)
        resolved = *config;
    if (resolved.source == NULL || resolved.source[0] == '\0')
        resolved.source = "sim";
    if (resolved.width <= 0)
        resolved.width = CAMERA_DEFAULT_WIDTH;
    if (resolved.height <= 0)
        resolved.height = CAMERA_DEFAULT_HEIGHT;
    if (resolved.fps <= 0)
        resolved.fps = CAMERA_DEFAULT_FPS;
    if (resolved.width > CAMERA_MAX_WIDTH || resolved.height > CAMERA_MAX_HEIGHT ||
        resolved.fps > CAMERA_MAX_FPS || resolved.width % 2 != 0 || resolved.height % 2 != 0) {
        error_text_set(error, error_size, "unsupported size/rate %dx%d@%d", resolved.width,
                       resolved.height, resolved.fps);
        return NULL;
    }

    const char *source = resolved.source;
    struct camera *camera = NULL;
    if (strcmp(source, "sim") == 0)
        camera = camera_sim_open(&resolved, error, error_size);
    else if (strncmp(source, "v4l2:", 5) == 0 && source[5] != '\0')
        camera = camera_v4l2_open(source + 5, &resolved, error, error_size);
    else if (strncmp(source, "file:", 5) == 0 && source[5] != '\0')
        camera = camera_y4m_open(source + 5, &resolved, error, error_size);
    else
        error_text_set(error, error_size,
                       "unknown camera source \"%s\" (want sim, v4l2:DEVICE or file:PATH.y4m)",
                       source);
    if (camera != NULL)
        log_info("opened %s camera (%s)", camera->backend->name, source);
    return camera;
}

/* Dispatch to the back-end; it paces and fills *frame. */
int camera_capture(struct camera *camera, struct camera_frame *frame)
{
    assert(camera != NULL && frame != NULL);
    return camera->backend->capture(camera, frame);
}

/* Dispatch a trigger; -1 if the back-end has no use for triggers. */
int camera_trigger(struct camera *camera, enum camera_trigger trigger)
{
    assert(camera != NULL);
    if ((int)trigger < 0 || (int)trigger >= CAMERA_TRIGGER_COUNT)
        return -1;
    if (camera->backend->trigger == NULL)
        return -1;
    return camera->backend->trigger(camera, trigger);
}

/* Map a trigger name (case-insensitive) to its enum value. */
int camera_trigger_parse(const char *name, enum camera_trigger *out)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < CAMERA_TRIGGER_COUNT; i++) {
        if (strcasecmp(name, camera_trigger_names[i]) == 0) {
            *out = (enum camera_trigger)i;
            return 0;
        }
    }
    return -1;
}

/* The name camera_trigger_parse() accepts for `trigger` (static string). */
const char *camera_trigger_name(enum camera_trigger trigger)
{
    if ((int)trigger < 0 || (int)trigger >= CAMERA_TRIGGER_COUNT)
        return "unknown";
    return camera_trigger_names[trigger];
}

/* Validate and dispatch a size/rate change. */
int camera_reconfigure(struct camera *camera, int width, int height, int fps)
{
    assert(camera != NULL);
    if (width <= 0 || height <= 0 || fps <= 0 || width > CAMERA_MAX_WIDTH ||
        height > CAMERA_MAX_HEIGHT || fps > CAMERA_MAX_FPS || width % 2 != 0 || height % 2 != 0) {
        log_error("reconfigure: unsupported size/rate %dx%d@%d", width, height, fps);
        return -1;
    }
    return camera->backend->reconfigure(camera, width, height, fps);
}

/* Close the back-end and free everything it owns; NULL is ignored. */
void camera_close(struct camera *camera)
{
    if (camera == NULL)
        return;
    camera->backend->close(camera);
}
