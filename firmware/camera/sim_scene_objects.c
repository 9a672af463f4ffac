/*
 * sim_scene_objects.c - the moving objects of the sim porch scene as figures
 * (lists of rectangles and ellipses) at a given age: the visitor who walks
 * to the door, rings and leaves; the courier who leaves a parcel on the mat
 * and the one who takes it; the parcel; the car on the street; the cat
 * crossing the lawn. The same figure gives the drawing and the ground-truth box, so the
 * two can never disagree.
 *
 * Capture thread (rendering) or any caller of sim_scene_ground_truth();
 * pure functions, no state, nothing allocated.
 */
#include "camera/sim_scene_internal.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>

#define SIM_PI 3.14159265358979323846

/* Geometry helper: positions relative to an anchor, in units of `unit` px. */
struct sim_scene_anchor {
    double x, y, unit;
};

/* Append a shape given in anchor-relative units. */
static void sim_scene_figure_add(struct sim_scene_figure *figure, enum sim_scene_shape_kind kind,
                                 const struct sim_scene_anchor *anchor, double x0, double y0,
                                 double x1, double y1, struct sim_scene_colour colour)
{
    assert(figure->shape_count < SIM_SCENE_MAX_SHAPES);
    struct sim_scene_shape *shape = &figure->shapes[figure->shape_count++];
    shape->kind = kind;
    shape->x0 = (int)lround(anchor->x + x0 * anchor->unit);
    shape->y0 = (int)lround(anchor->y + y0 * anchor->unit);
    shape->x1 = (int)lround(anchor->x + x1 * anchor->unit);
    shape->y1 = (int)lround(anchor->y + y1 * anchor->unit);
    shape->colour = colour;
}

/* Linear interpolation. */
static double sim_scene_lerp(double from, double to, double t)
{
    return from + (to - from) * t;
}

/* The parcel as carried or lying: a cardboard box with its shaded side,
 * tape and a dark base, x0..x1 wide and y0..y1 high (anchor units). */
static void sim_scene_add_parcel(struct sim_scene_figure *figure, const struct sim_scene_anchor *at,
                                 double x0, double y0, double x1, double y1)
{
    struct sim_scene_colour card = sim_scene_rgb(200, 152, 90), side = sim_scene_rgb(150, 108, 60);
    struct sim_scene_colour tape = sim_scene_rgb(232, 214, 168), base = sim_scene_rgb(52, 40, 28);
    double w = x1 - x0, h = y1 - y0;

    sim_scene_figure_add(figure, SIM_SHAPE_RECT, at, x0, y0, x1, y1, card);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, at, x1 - 0.22 * w, y0, x1, y1, side);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, at, x0, y0 + 0.42 * h, x1, y0 + 0.56 * h, tape);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, at, x0, y1 - 0.08 * h, x1, y1, base);
}

/* A person: walks in from the right for 4 s to stand_x, stands until 12 s,
 * walks back out in 4 s. The visitor presses the bell from 5.0 to 5.6 s; a
 * courier carries the parcel until SIM_SCENE_PARCEL_US, a collector from
 * then on. Drawn to read as a person to a people detector: head on a neck,
 * shoulders wider than the hips, arms apart from the torso, two legs with a
 * gap, shading on the clothes. */
static void sim_scene_build_person(enum sim_object_kind kind, double age_s, int width, int height,
                                   struct sim_scene_figure *figure)
{
    const double walk_s = 4.0, stand_end_s = 12.0;
    double stand_x = 0.31;
    double x, feet, swing = 0.0;
    if (age_s < walk_s) {
        x = sim_scene_lerp(1.10, stand_x, age_s / walk_s);
        feet = sim_scene_lerp(0.95, 0.89, age_s / walk_s);
        swing = sin(2.0 * SIM_PI * 1.8 * age_s);
    } else if (age_s < stand_end_s) {
        x = stand_x + 0.004 * sin(age_s * 1.3);
        feet = 0.89;
    } else {
        double t = (age_s - stand_end_s) / walk_s;
        x = sim_scene_lerp(stand_x, 1.10, t);
        feet = sim_scene_lerp(0.89, 0.95, t);
        swing = sin(2.0 * SIM_PI * 1.8 * age_s);
    }
    struct sim_scene_anchor at = {x * width, feet * height, 0.56 * height};
    int courier = kind == SIM_OBJECT_COURIER, collector = kind == SIM_OBJECT_COLLECTOR;
    /* Clothes contrast with the red door behind (a people detector sees edges). */
    struct sim_scene_colour jeans = sim_scene_rgb(34, 38, 52), seam = sim_scene_rgb(22, 24, 34);
    struct sim_scene_colour shoe = sim_scene_rgb(30, 26, 26);
    struct sim_scene_colour jacket = sim_scene_rgb(110, 160, 220), zip = sim_scene_rgb(60, 90, 130);
    struct sim_scene_colour fold = sim_scene_rgb(80, 125, 180);
    struct sim_scene_colour skin = sim_scene_rgb(226, 182, 150), hair = sim_scene_rgb(62, 42, 30);
    double step = 0.05 * swing, arm = 0.03 * swing;
    int carrying = (courier && age_s < SIM_SCENE_PARCEL_US / 1e6) ||
                   (collector && age_s >= SIM_SCENE_PARCEL_US / 1e6);

    if (courier) {
        jacket = sim_scene_rgb(235, 200, 60); /* a courier's yellow uniform */
        fold = sim_scene_rgb(200, 165, 40);
        zip = sim_scene_rgb(120, 90, 20);
    } else if (collector) {
        jacket = sim_scene_rgb(130, 205, 150);
        fold = sim_scene_rgb(100, 170, 120);
        zip = sim_scene_rgb(50, 100, 65);
    }
    /* Legs with a gap between them, a darker inner seam, shoes. */
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.085 + step, -0.48, -0.012 + step, -0.02,
                         jeans);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.012 - step, -0.48, 0.085 - step, -0.02,
                         jeans);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.03 + step, -0.46, -0.012 + step, -0.03,
                         seam);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.012 - step, -0.46, 0.03 - step, -0.03,
                         seam);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.10 + step, -0.035, step, 0.0, shoe);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -step, -0.035, 0.10 - step, 0.0, shoe);
    /* Torso: wider at the shoulders, rounded shoulders, shaded sides. */
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.11, -0.74, 0.11, -0.45, jacket);
    sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.15, -0.83, 0.15, -0.66, jacket);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.11, -0.70, -0.07, -0.45, fold);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.07, -0.70, 0.11, -0.45, fold);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.006, -0.78, 0.006, -0.46, zip);

    int ringing = kind == SIM_OBJECT_VISITOR && age_s >= SIM_SCENE_RING_START_US / 1e6 &&
                  age_s < SIM_SCENE_RING_END_US / 1e6;
    /* Left arm, hanging apart from the torso (or holding the parcel). */
    if (carrying) {
        sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.17, -0.78, -0.11, -0.58, jacket);
        sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.11, -0.78, 0.17, -0.58, jacket);
        sim_scene_add_parcel(figure, &at, -0.16, -0.66, 0.16, -0.44);
        sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.19, -0.60, -0.13, -0.53, skin);
        sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, 0.13, -0.60, 0.19, -0.53, skin);
    } else {
        sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.185 - arm, -0.78, -0.125 - arm, -0.50,
                             jacket);
        sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.185 - arm, -0.53, -0.125 - arm,
                             -0.46, skin);
        if (ringing) {
            /* Right arm reaches out to the bell button beside the door. */
            double bell_x = (SIM_LAYOUT_BELL_X * width - at.x) / at.unit;
            double bell_y = (SIM_LAYOUT_BELL_Y * height - at.y) / at.unit;
            sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.125, -0.78, 0.185, bell_y + 0.025,
                                 jacket);
            sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.125, bell_y - 0.025, bell_x - 0.02,
                                 bell_y + 0.025, jacket);
            sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, bell_x - 0.03, bell_y - 0.03,
                                 bell_x, bell_y + 0.03, skin);
        } else {
            sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.125 + arm, -0.78, 0.185 + arm,
                                 -0.50, jacket);
            sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, 0.125 + arm, -0.53, 0.185 + arm,
                                 -0.46, skin);
        }
    }
    /* Neck, head, hair. */
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.03, -0.87, 0.03, -0.80, skin);
    sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.065, -1.0, 0.065, -0.84, skin);
    sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.07, -1.01, 0.07, -0.93, hair);
}

/* The parcel lying on the doormat, left of where the courier stands. */
static void sim_scene_build_box(int width, int height, struct sim_scene_figure *figure)
{
    struct sim_scene_anchor at = {0.0, 0.0, 1.0};
    sim_scene_add_parcel(figure, &at, 0.185 * width, 0.785 * height, 0.26 * width, 0.875 * height);
}

/* The car: drives left to right along the street band in 3 s, hidden
 * behind the house wall on the left. */
static void sim_scene_build_car(double age_s, int width, int height,
                                struct sim_scene_figure *figure)
{
    double length = 0.20 * width;
    double left = sim_scene_lerp(0.24, 1.0, age_s / (SIM_SCENE_CAR_US / 1e6)) * width;
    /* Anchored at the car's left end at the top of the frame, in car
     * lengths; h converts frame-height fractions to that unit. */
    struct sim_scene_anchor along = {left, 0.0, length};
    struct sim_scene_colour body = sim_scene_rgb(182, 30, 36), glass = sim_scene_rgb(60, 70, 92);
    struct sim_scene_colour tyre = sim_scene_rgb(25, 25, 25), hub = sim_scene_rgb(160, 160, 165);
    double h = (double)height / length; /* one frame height in car lengths */

    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.22, 0.205 * h, 0.75, 0.25 * h, body);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.26, 0.212 * h, 0.47, 0.245 * h, glass);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.50, 0.212 * h, 0.71, 0.245 * h, glass);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.0, 0.245 * h, 1.0, 0.300 * h, body);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.98, 0.255 * h, 1.0, 0.268 * h,
                         sim_scene_rgb(250, 245, 200));
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &along, 0.0, 0.255 * h, 0.015, 0.268 * h,
                         sim_scene_rgb(230, 40, 30));
    for (int wheel = 0; wheel < 2; wheel++) {
        double centre = wheel == 0 ? 0.2 : 0.8;
        double radius = 0.022 * h;
        sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &along, centre - radius, 0.300 * h - radius,
                             centre + radius, 0.300 * h + radius, tyre);
        sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &along, centre - radius / 2,
                             0.300 * h - radius / 2, centre + radius / 2, 0.300 * h + radius / 2,
                             hub);
    }
    figure->clip_x0 = sim_scene_px(SIM_LAYOUT_WALL_RIGHT, width);
}

/* The cat: a small ginger cat trotting right to left along the bottom of
 * the frame in 5 s. */
static void sim_scene_build_cat(double age_s, int width, int height,
                                struct sim_scene_figure *figure)
{
    double x = sim_scene_lerp(1.05, -0.05, age_s / (SIM_SCENE_CAT_US / 1e6)) * width;
    struct sim_scene_anchor at = {x, 0.965 * height, height};
    struct sim_scene_colour fur = sim_scene_rgb(205, 125, 55), stripe = sim_scene_rgb(150, 80, 35);
    double swing = 0.01 * sin(2.0 * SIM_PI * 2.5 * age_s);

    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.055, -0.075, 0.10, -0.065, fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.09, -0.11, 0.10, -0.065, fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.051 + swing, -0.04, -0.039 + swing, 0.0,
                         fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.031 - swing, -0.04, -0.019 - swing, 0.0,
                         fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.025 - swing, -0.04, 0.037 - swing, 0.0,
                         fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.043 + swing, -0.04, 0.055 + swing, 0.0,
                         fur);
    sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.06, -0.075, 0.06, -0.025, fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.01, -0.072, 0.0, -0.03, stripe);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, 0.02, -0.07, 0.03, -0.032, stripe);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.095, -0.118, -0.085, -0.098, fur);
    sim_scene_figure_add(figure, SIM_SHAPE_RECT, &at, -0.068, -0.118, -0.058, -0.098, fur);
    sim_scene_figure_add(figure, SIM_SHAPE_ELLIPSE, &at, -0.10, -0.105, -0.05, -0.055, fur);
}

/* Build the figure of `kind` at `age_us`; -1 once the object's time is up. */
int sim_scene_figure_build(enum sim_object_kind kind, int64_t age_us, int width, int height,
                           struct sim_scene_figure *figure)
{
    static const int64_t durations_us[] = {
        [SIM_OBJECT_VISITOR] = SIM_SCENE_VISITOR_US, [SIM_OBJECT_CAR] = SIM_SCENE_CAR_US,
        [SIM_OBJECT_CAT] = SIM_SCENE_CAT_US,         [SIM_OBJECT_BOX] = INT64_MAX,
        [SIM_OBJECT_COURIER] = SIM_SCENE_VISITOR_US, [SIM_OBJECT_COLLECTOR] = SIM_SCENE_VISITOR_US,
    };
    assert((int)kind >= 0 && (int)kind < SIM_OBJECT_KIND_COUNT);
    if (age_us < 0 || age_us >= durations_us[kind])
        return -1;
    /* Couriers and collectors are visitors to whoever looks. */
    figure->kind =
        kind == SIM_OBJECT_COURIER || kind == SIM_OBJECT_COLLECTOR ? SIM_OBJECT_VISITOR : kind;
    figure->shape_count = 0;
    figure->clip_x0 = 0;
    double age_s = (double)age_us / 1e6;
    switch (kind) {
    case SIM_OBJECT_VISITOR:
    case SIM_OBJECT_COURIER:
    case SIM_OBJECT_COLLECTOR:
        sim_scene_build_person(kind, age_s, width, height, figure);
        break;
    case SIM_OBJECT_BOX:
        sim_scene_build_box(width, height, figure);
        break;
    case SIM_OBJECT_CAR:
        sim_scene_build_car(age_s, width, height, figure);
        break;
    case SIM_OBJECT_CAT:
        sim_scene_build_cat(age_s, width, height, figure);
        break;
    }
    return 0;
}

/* Union of the shapes, clipped to the frame and the figure's clip. */
int sim_scene_figure_box(const struct sim_scene_figure *figure, int width, int height,
                         struct sim_object_box *box)
{
    int x0 = width, y0 = height, x1 = 0, y1 = 0;
    for (int i = 0; i < figure->shape_count; i++) {
        const struct sim_scene_shape *shape = &figure->shapes[i];
        if (shape->x1 <= shape->x0 || shape->y1 <= shape->y0)
            continue;
        x0 = shape->x0 < x0 ? shape->x0 : x0;
        y0 = shape->y0 < y0 ? shape->y0 : y0;
        x1 = shape->x1 > x1 ? shape->x1 : x1;
        y1 = shape->y1 > y1 ? shape->y1 : y1;
    }
    int left_limit = figure->clip_x0 > 0 ? figure->clip_x0 : 0;
    x0 = x0 < left_limit ? left_limit : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > width ? width : x1;
    y1 = y1 > height ? height : y1;
    if (x0 >= x1 || y0 >= y1)
        return -1;
    box->kind = figure->kind;
    box->x = (double)x0 / width;
    box->y = (double)y0 / height;
    box->width = (double)(x1 - x0) / width;
    box->height = (double)(y1 - y0) / height;
    return 0;
}

/* Draw the shapes in order with their colours under `light`. */
void sim_scene_figure_draw(const struct sim_scene_canvas *canvas,
                           const struct sim_scene_figure *figure,
                           const struct sim_scene_light *light)
{
    struct sim_scene_canvas clipped = *canvas;
    if (figure->clip_x0 > clipped.clip_x0)
        clipped.clip_x0 = figure->clip_x0;
    for (int i = 0; i < figure->shape_count; i++) {
        const struct sim_scene_shape *shape = &figure->shapes[i];
        struct sim_scene_colour colour = sim_scene_colour_lit(shape->colour, light);
        if (shape->kind == SIM_SHAPE_RECT)
            sim_scene_fill_rect(&clipped, shape->x0, shape->y0, shape->x1, shape->y1, colour);
        else
            sim_scene_fill_ellipse(&clipped, shape->x0, shape->y0, shape->x1, shape->y1, colour);
    }
}
