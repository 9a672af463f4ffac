/*
 * camera_backend.h - private interface between camera.c (the dispatcher) and
 * the camera back-ends (sim_camera.c, y4m_camera.c, v4l2_camera.c), plus the
 * frame pacer they share. Not for use outside firmware/camera/.
 *
 * Each back-end embeds struct camera as the first member of its own state and
 * fills in a backend table; camera.c only calls through that table. Everything
 * here runs on the capture thread except the trigger hook (any thread).
 */
#ifndef DOORSTEP_CAMERA_BACKEND_H
#define DOORSTEP_CAMERA_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "camera/camera.h"

#define CAMERA_DEFAULT_WIDTH  1280
#define CAMERA_DEFAULT_HEIGHT 720
#define CAMERA_DEFAULT_FPS    30
#define CAMERA_MAX_WIDTH      3840
#define CAMERA_MAX_HEIGHT     2160
#define CAMERA_MAX_FPS        120

struct camera_backend {
    const char *name;
    int (*capture)(struct camera *camera, struct camera_frame *frame);
    /* NULL when the source ignores triggers. */
    int (*trigger)(struct camera *camera, enum camera_trigger trigger);
    int (*reconfigure)(struct camera *camera, int width, int height, int fps);
    void (*close)(struct camera *camera);
};

struct camera {
    const struct camera_backend *backend;
};

/* Paces frames on CLOCK_MONOTONIC against absolute deadlines origin + n/fps,
 * so sleeping never accumulates drift. */
struct camera_pacer {
    int fps;
    int unpaced;
    int started;
    struct timespec origin;
    uint64_t frame_index;
};

/* Back-end constructors. `config` has its defaults resolved by camera.c;
 * the returned camera is freed by camera_close(). */
struct camera *camera_sim_open(const struct camera_config *config, char *error, size_t error_size);
struct camera *camera_y4m_open(const char *path, const struct camera_config *config, char *error,
                               size_t error_size);
struct camera *camera_v4l2_open(const char *device, const struct camera_config *config, char *error,
                                size_t error_size);

/* Pixel format conversions of the V4L2 back-end (exposed for unit tests).
 * Output is I420 with stride = width; width and height are even. */
void camera_v4l2_convert_yuyv(const uint8_t *source, size_t stride, int width, int height,
                              uint8_t *y, uint8_t *u, uint8_t *v);
void camera_v4l2_convert_planar(const uint8_t *source, size_t stride, int width, int height,
                                int interleaved, uint8_t *y, uint8_t *u, uint8_t *v);

/* (Re)start pacing at `fps`; the first wait returns at once. */
void camera_pacer_start(struct camera_pacer *pacer, int fps, int unpaced);

/* Sleep until the next frame is due. If the caller has fallen more than two
 * periods behind, the schedule restarts from now instead of bursting. */
void camera_pacer_wait(struct camera_pacer *pacer);

#endif
