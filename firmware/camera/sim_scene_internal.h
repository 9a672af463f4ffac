/*
 * sim_scene_internal.h - pieces shared by the sim scene's source files:
 * drawing primitives on an I420 canvas (sim_scene_draw.c), the static
 * background painter (sim_scene_background.c) and the object figures
 * (sim_scene_objects.c). Private to firmware/camera/; capture thread only.
 *
 * Layout: all positions are fractions of the frame width (x) or height (y),
 * so the scene looks the same at every size. The house wall covers the left
 * of the frame, the street runs behind the lawn near the top.
 */
#ifndef DOORSTEP_SIM_SCENE_INTERNAL_H
#define DOORSTEP_SIM_SCENE_INTERNAL_H

#include <stdint.h>

#include "camera/sim_scene.h"

/* Scene layout shared by background and objects (fractions of W or H). */
#define SIM_LAYOUT_WALL_RIGHT    0.44 /* x: the house wall ends here */
#define SIM_LAYOUT_WALL_BOTTOM   0.80 /* y: porch floor starts here */
#define SIM_LAYOUT_STREET_TOP    0.20
#define SIM_LAYOUT_STREET_BOTTOM 0.32
#define SIM_LAYOUT_LAWN_TOP      0.37
#define SIM_LAYOUT_DOOR_LEFT     0.175
#define SIM_LAYOUT_DOOR_RIGHT    0.325
#define SIM_LAYOUT_DOOR_TOP      0.235
#define SIM_LAYOUT_BELL_X        0.357
#define SIM_LAYOUT_BELL_Y        0.52
#define SIM_LAYOUT_LAMP_X        0.37
#define SIM_LAYOUT_LAMP_Y        0.335
#define SIM_LAYOUT_LAMP_RADIUS   0.022 /* of H */
#define SIM_LAYOUT_POOL_RADIUS   0.45  /* of H: reach of the porch light */

/* Picture plus a clip rectangle (luma pixels, half-open) for drawing. */
struct sim_scene_canvas {
    uint8_t *y, *u, *v;
    int width, height;
    int stride_y, stride_uv;
    int clip_x0, clip_y0, clip_x1, clip_y1;
};

struct sim_scene_colour {
    uint8_t y, u, v;
};

/* How an object is lit where it stands (Q8 fixed point: 256 = 1.0). */
struct sim_scene_light {
    int gain_q8;        /* luma gain around black (16) */
    int saturation_q8;  /* chroma scale around 128 */
    int tint_u, tint_v; /* warm porch-light shift added to chroma */
};

enum sim_scene_shape_kind {
    SIM_SHAPE_RECT,
    SIM_SHAPE_ELLIPSE,
};

/* A filled rectangle or the ellipse inscribed in it (luma pixels, half-open). */
struct sim_scene_shape {
    enum sim_scene_shape_kind kind;
    int x0, y0, x1, y1;
    struct sim_scene_colour colour;
};

#define SIM_SCENE_MAX_SHAPES 24

/* An object at one instant: its shapes in drawing order and its clip. */
struct sim_scene_figure {
    enum sim_object_kind kind;
    int shape_count;
    struct sim_scene_shape shapes[SIM_SCENE_MAX_SHAPES];
    int clip_x0; /* the car disappears behind the house wall */
};

/* sim_scene_draw.c */
struct sim_scene_canvas sim_scene_canvas_make(uint8_t *y, int stride_y, uint8_t *u, uint8_t *v,
                                              int stride_uv, int width, int height);
struct sim_scene_colour sim_scene_rgb(int red, int green, int blue);
struct sim_scene_colour sim_scene_colour_lit(struct sim_scene_colour colour,
                                             const struct sim_scene_light *light);
uint32_t sim_scene_random(uint32_t *state);
int sim_scene_random_range(uint32_t *state, int low, int high);
void sim_scene_fill_rect(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                         struct sim_scene_colour colour);
void sim_scene_fill_ellipse(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                            struct sim_scene_colour colour);
void sim_scene_texture_rect(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                            int fine_amplitude, int coarse_amplitude, int coarse_cell,
                            uint32_t *random_state);
int sim_scene_px(double fraction, int size);

/* sim_scene_background.c: paint the daylight background (deterministic). */
void sim_scene_paint_background(const struct sim_scene_canvas *canvas, uint32_t seed);

/* sim_scene_objects.c: the figure of `kind` at `age_us` after it appeared;
 * returns 0 with *figure filled, -1 if the object is gone at that age. */
int sim_scene_figure_build(enum sim_object_kind kind, int64_t age_us, int width, int height,
                           struct sim_scene_figure *figure);

/* Visible bounding box of a figure, normalised; returns 0, or -1 if nothing
 * of it is inside the frame. */
int sim_scene_figure_box(const struct sim_scene_figure *figure, int width, int height,
                         struct sim_object_box *box);

/* Draw a figure under the given light. */
void sim_scene_figure_draw(const struct sim_scene_canvas *canvas,
                           const struct sim_scene_figure *figure,
                           const struct sim_scene_light *light);

#endif
