/*
 * sim_scene.h - the simulated porch scene behind the "sim" camera: a static,
 * seeded background (house wall, door, doormat, porch, lawn, path, street),
 * global lighting (day, night/IR, porch light) and scripted objects (visitor,
 * car, cat). Also the ground truth the motion-detection tests compare with.
 *
 * The scene is a pure function of scene time plus the list of triggers it
 * was given: everything visible at time t follows from the events at or
 * before t, so any instant can be rendered or described in any order.
 * A struct sim_scene is owned by one thread (the capture thread); the
 * description functions without a scene pointer are pure.
 *
 * Scripted loop (config->scripted = 1), SIM_SCENE_LOOP_US = 120 s, times in
 * seconds into the loop (also returned by sim_scene_script()):
 *     10  visitor enters from the right, walks to the door (arrives 14),
 *         presses the bell at 15, stands until 22, walks off (gone by 26)
 *     30  a car crosses the street band left to right (gone by 33)
 *     36  a courier walks up carrying a parcel, puts it on the doormat at 42,
 *         walks off (gone by 52)
 *     64  someone walks up, picks the parcel up at 70, leaves with it (gone by 80)
 *     70  a cat crosses the bottom of the frame right to left (gone by 75)
 *     80  night: the camera switches to its IR look (dark, grey)
 *     90  porch light on
 *    100  porch light off
 *    110  day again
 * Lighting changes ramp over SIM_SCENE_RAMP_US (0.3 s).
 */
#ifndef DOORSTEP_SIM_SCENE_H
#define DOORSTEP_SIM_SCENE_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"

#define SIM_SCENE_MIN_WIDTH  640
#define SIM_SCENE_MIN_HEIGHT 360
#define SIM_SCENE_LOOP_US    120000000LL
#define SIM_SCENE_RAMP_US    300000LL
#define SIM_SCENE_VISITOR_US 16000000LL /* walk 4 s, stand 8 s, walk away 4 s */
#define SIM_SCENE_CAR_US     3000000LL
#define SIM_SCENE_CAT_US     5000000LL
/* The visitor's finger is on the bell from 5.0 s to 5.6 s after entering. */
#define SIM_SCENE_RING_START_US 5000000LL
#define SIM_SCENE_RING_END_US   5600000LL
#define SIM_SCENE_MAX_OBJECTS   8
/* deliver / take: the parcel changes hands this long after the trigger. */
#define SIM_SCENE_PARCEL_US 6000000LL

enum sim_object_kind {
    SIM_OBJECT_VISITOR,
    SIM_OBJECT_CAR,
    SIM_OBJECT_CAT,
    SIM_OBJECT_BOX, /* the parcel lying on the doormat */
    /* Figures only: the ground truth calls them SIM_OBJECT_VISITOR. */
    SIM_OBJECT_COURIER,   /* a visitor who brings the parcel */
    SIM_OBJECT_COLLECTOR, /* a visitor who takes it away */
};
#define SIM_OBJECT_KIND_COUNT 6

/* Bounding box of a visible object, normalised to the frame (0..1, origin
 * top-left), clipped to what is actually visible. */
struct sim_object_box {
    enum sim_object_kind kind;
    double x, y, width, height;
};

/* Everything a detector should (or should not) find in one frame. */
struct sim_ground_truth {
    int64_t scene_time_us;
    int object_count; /* visible objects, <= SIM_SCENE_MAX_OBJECTS */
    struct sim_object_box objects[SIM_SCENE_MAX_OBJECTS];
    int lighting_changing; /* 1 while a day/night or porch-light ramp is in progress */
    int night;             /* 1 when the IR look is (becoming) active */
    int light_on;          /* 1 when the porch light is (turning) on */
    int button_pressed;    /* 1 while a visitor's finger is on the bell */
    int pir_active;        /* 1 while a warm body (visitor or cat) is in view */
};

/* One entry of the scripted loop. */
struct sim_script_event {
    int64_t at_us; /* offset into the loop */
    enum camera_trigger trigger;
};

struct sim_scene;

/* Build the scene and its static background for a width x height I420 frame
 * (even, >= 640x360). Deterministic for a given seed. NULL with a reason on
 * failure; free with sim_scene_destroy(). */
struct sim_scene *sim_scene_create(int width, int height, uint32_t seed, int scripted, char *error,
                                   size_t error_size);

void sim_scene_destroy(struct sim_scene *scene);

/* Rebuild the background at a new size; triggers and lighting carry over. */
int sim_scene_resize(struct sim_scene *scene, int width, int height);

/* Record a trigger taking effect at scene_time_us. Scene times passed here
 * should not decrease; the scene keeps the newest 32 object triggers and the
 * newest 4 of each lighting kind (day/night, porch light) and of deliver/take. */
void sim_scene_trigger(struct sim_scene *scene, enum camera_trigger trigger, int64_t scene_time_us);

/* Describe the scene at scene_time_us without rendering it. */
void sim_scene_ground_truth(const struct sim_scene *scene, int64_t scene_time_us,
                            struct sim_ground_truth *out);

/* Render the scene at scene_time_us into a caller-owned I420 picture of the
 * scene's size (no frame stamp: the camera draws that last). If truth is not
 * NULL it receives the ground truth of the rendered frame. */
void sim_scene_render(struct sim_scene *scene, int64_t scene_time_us, uint8_t *y, int stride_y,
                      uint8_t *u, uint8_t *v, int stride_uv, struct sim_ground_truth *truth);

/* The scripted loop, in time order (static table). */
const struct sim_script_event *sim_scene_script(size_t *count_out);

#endif
