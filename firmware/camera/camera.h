/*
 * camera.h - where frames come from: the simulated porch scene ("sim"), a
 * V4L2 device ("v4l2:/dev/videoN") or a file replay ("file:PATH.y4m").
 *
 * One capture thread owns a struct camera: it calls camera_capture() in a
 * loop, which paces output to the configured frame rate. camera_trigger()
 * may be called from any thread (it only sets atomics read at the next frame).
 * Every frame of the sim camera carries the frame stamp (frame_stamp.h).
 */
#ifndef DOORSTEP_CAMERA_H
#define DOORSTEP_CAMERA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A planar I420 picture. Planes are owned by the camera and valid until the
 * next camera_capture() on the same camera. */
struct camera_frame {
    uint8_t *y, *u, *v;
    int width, height;
    int stride_y, stride_uv;
    uint64_t capture_time_us; /* CLOCK_REALTIME when the frame was taken */
    uint32_t sequence;        /* 0, 1, 2, ... per camera */
};

struct camera_config {
    const char *source; /* "sim" (default), "v4l2:/dev/video0", "file:clip.y4m" */
    int width;          /* default 1280; sim needs >= 640 */
    int height;         /* default 720;  sim needs >= 360 */
    int fps;            /* default 30 */
    uint32_t seed;      /* sim: texture and noise seed, for repeatable scenes */
    int scripted;       /* sim: 1 = play the scripted scene loop (visitor, car, cat, light) */
    int unpaced;        /* sim/file: 1 = no pacing, each capture returns at once (tests, bench);
                           scene time still advances by 1/fps per frame */
    /* sim: move each capture time by up to +-N ms (kept increasing), in the
     * stamp too, as a busy doorbell or Wi-Fi would; 0 = off */
    int capture_jitter_ms;
};

/* Interactive triggers (control socket / CLI / GPIO). */
enum camera_trigger {
    CAMERA_TRIGGER_LIGHT_ON, /* porch light on: scene brightens */
    CAMERA_TRIGGER_LIGHT_OFF,
    CAMERA_TRIGGER_NIGHT, /* dusk: scene darkens, IR look (grey) */
    CAMERA_TRIGGER_DAY,
    CAMERA_TRIGGER_VISITOR, /* start a visitor walk-up now */
    CAMERA_TRIGGER_CAR,     /* a car passes now */
    CAMERA_TRIGGER_CAT,     /* a cat crosses now */
    CAMERA_TRIGGER_DELIVER, /* a courier leaves a parcel on the doormat */
    CAMERA_TRIGGER_TAKE,    /* someone takes the parcel away */
};

struct camera;

/* Open a camera; NULL with a reason in error on failure. */
struct camera *camera_open(const struct camera_config *config, char *error, size_t error_size);

/* Block until the next frame is due, then fill *frame. 0 ok, -1 error (reason logged). */
int camera_capture(struct camera *camera, struct camera_frame *frame);

/* Apply a trigger at the next frame. Thread-safe. Returns -1 if the source ignores it. */
int camera_trigger(struct camera *camera, enum camera_trigger trigger);

/* Parse "light_on", "night", "visitor", ... Returns 0 or -1. */
int camera_trigger_parse(const char *name, enum camera_trigger *out);

/* The name of a trigger as camera_trigger_parse() accepts it (static string). */
const char *camera_trigger_name(enum camera_trigger trigger);

/* Change the output size/rate (adaptive quality). Only from the capture thread. */
int camera_reconfigure(struct camera *camera, int width, int height, int fps);

void camera_close(struct camera *camera);

/* Sim camera only (definitions in camera/sim_scene.h): the ground truth of the
 * frame returned by the last camera_capture(). Capture thread only. */
struct sim_object_box;
struct sim_ground_truth;

/* Copy up to max object boxes of the last frame; returns how many objects were
 * visible (may exceed max), or -1 if this is not a sim camera. */
int camera_sim_ground_truth(struct camera *camera, struct sim_object_box *boxes, int max);

/* Full ground truth of the last frame (objects, lighting, button, PIR);
 * 0, or -1 if this is not a sim camera or no frame was captured yet. */
int camera_sim_scene_state(struct camera *camera, struct sim_ground_truth *out);

/* A flag that is 1 while the sim scene's visitor is in the picture (stored
 * by the capture thread after each frame; any thread may load it while the
 * camera is open), or NULL if this is not a sim camera. */
const atomic_int *camera_sim_visitor_flag(struct camera *camera);

#endif
