/*
 * test_package_watch.c - the doorstep package watch (firmware/motion/
 * package_watch.c) on synthetic analysis pictures: a textured porch, a box
 * that arrives and leaves, global brightness steps, a light ramp over part
 * of the frame, the night switch and a cat crossing.
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/motion/package_watch.c */
/* clang-format on */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/motion_config.h"
#include "motion/package_watch.h"

#define W        MOTION_ANALYSIS_WIDTH
#define H        MOTION_ANALYSIS_HEIGHT
#define SECOND   1000000LL
#define FRAME_US 100000LL /* 10 analysed frames per second */
#define STILL_MS 10000

/* What the synthetic camera shows at one instant. */
struct picture {
    double gain;    /* global, on Y - 16 */
    double lamp;    /* extra gain at the lamp's centre (right of the zone), 0 = off */
    int box;        /* the parcel on the step */
    double cat_x;   /* < 0: no cat; else its left edge, 0..1 */
    uint32_t noise; /* random state */
};

static uint8_t background[W * H];

/* A porch: planks with fine texture, the door above. Deterministic. */
static void background_paint(void)
{
    uint32_t state = 12345;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            state = state * 1664525u + 1013904223u;
            int plank = (y / 9) % 2 ? 92 : 108;
            int value = plank + (int)((state >> 24) % 21) - 10 + (x % 37 == 0 ? -25 : 0);
            if (y < 90)
                value = 70 + (x / 20 % 2) * 12;
            background[y * W + x] = (uint8_t)value;
        }
}

/* Render the picture into luma. */
static void picture_render(struct picture *picture, uint8_t *luma)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double value = background[y * W + x];
            if (picture->box && x >= 130 && x < 170 && y >= 115 && y < 150)
                value = (x < 133 || x >= 167 || y < 118 || y >= 147) ? 60 : 175;
            if (picture->cat_x >= 0 && x >= picture->cat_x * W && x < picture->cat_x * W + 36 &&
                y >= 130 && y < 150)
                value = 150;
            double gain = picture->gain;
            if (picture->lamp > 0) {
                double dx = (x - 240.0) / 120.0, dy = (y - 100.0) / 120.0;
                double fall = 1.0 - (dx * dx + dy * dy);
                if (fall > 0)
                    gain *= 1.0 + picture->lamp * fall * fall;
            }
            value = 16.0 + (value - 16.0) * gain;
            picture->noise = picture->noise * 1664525u + 1013904223u;
            value += (int)((picture->noise >> 24) % 5) - 2;
            luma[y * W + x] = (uint8_t)(value < 0 ? 0 : value > 255 ? 255 : value);
        }
    }
}

struct run {
    struct package_watch *watch;
    int64_t now_us;
    int delivered, taken;
    int64_t delivered_at_us, taken_at_us;
    struct motion_box box;
};

/* Feed `seconds` of frames of the picture; count the reports. */
static void run_for(struct run *run, struct picture *picture, double seconds, int motion)
{
    uint8_t luma[W * H];
    int64_t end = run->now_us + (int64_t)(seconds * SECOND);
    for (; run->now_us < end; run->now_us += FRAME_US) {
        struct package_watch_report report;
        picture_render(picture, luma);
        if (!package_watch_step(run->watch, luma, run->now_us, motion, 0, &report))
            continue;
        if (report.kind == PACKAGE_WATCH_DELIVERED) {
            run->delivered++;
            run->delivered_at_us = run->now_us;
            run->box = report.box;
        } else if (report.kind == PACKAGE_WATCH_TAKEN) {
            run->taken++;
            run->taken_at_us = run->now_us;
        }
    }
}

/* A watch over the step (x 0.3..0.65, y 0.55..0.95 of the frame). */
static void run_start(struct run *run)
{
    struct motion_config config;
    background_paint();
    motion_config_defaults(&config);
    config.has_package_zone = 1;
    config.package_zone = (struct motion_polygon){
        4, {{0.30f, 0.55f}, {0.65f, 0.55f}, {0.65f, 0.95f}, {0.30f, 0.95f}}};
    config.package_still_ms = STILL_MS;
    memset(run, 0, sizeof(*run));
    run->watch = package_watch_create();
    assert_non_null(run->watch);
    package_watch_configure(run->watch, &config);
    assert_true(package_watch_enabled(run->watch));
}

static void test_delivered_then_taken(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 1};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    /* The courier comes (motion), leaves the box, goes (motion ends). */
    run_for(&run, &picture, 3, 1);
    picture.box = 1;
    run_for(&run, &picture, 3, 1);
    int64_t still_from = run.now_us;
    run_for(&run, &picture, 9, 0);
    assert_int_equal(run.delivered, 0); /* not before N s of stillness */
    run_for(&run, &picture, 3, 0);
    assert_int_equal(run.delivered, 1);
    assert_true(run.delivered_at_us - still_from >= STILL_MS * 1000LL);
    /* The box is around x 130..170, y 115..150 of 320x180. */
    assert_true(run.box.x <= 130.0 / W + 0.03 && run.box.x + run.box.width >= 170.0 / W - 0.03);
    assert_true(run.box.y <= 115.0 / H + 0.05 && run.box.y + run.box.height >= 150.0 / H - 0.05);
    /* It stays: nothing more. */
    run_for(&run, &picture, 30, 0);
    assert_int_equal(run.delivered, 1);
    assert_int_equal(run.taken, 0);

    /* Someone takes it. */
    run_for(&run, &picture, 2, 1);
    picture.box = 0;
    run_for(&run, &picture, 2, 1);
    still_from = run.now_us;
    run_for(&run, &picture, 9, 0);
    assert_int_equal(run.taken, 0);
    run_for(&run, &picture, 3, 0);
    assert_int_equal(run.taken, 1);
    assert_true(run.taken_at_us - still_from >= STILL_MS * 1000LL);
    run_for(&run, &picture, 20, 0);
    assert_int_equal(run.delivered, 1);
    assert_int_equal(run.taken, 1);
    package_watch_destroy(run.watch);
}

/* Something that stays while motion goes on is not yet a delivery; motion
 * restarts the stillness clock. */
static void test_motion_restarts_the_clock(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 2};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    picture.box = 1;
    run_for(&run, &picture, 6, 0);
    run_for(&run, &picture, 1, 1);
    run_for(&run, &picture, 6, 0);
    assert_int_equal(run.delivered, 0);
    run_for(&run, &picture, 5, 0);
    assert_int_equal(run.delivered, 1);
    package_watch_destroy(run.watch);
}

static void test_brightness_step_gives_nothing(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 3};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    picture.gain = 1.5; /* exposure jumps */
    run_for(&run, &picture, 30, 0);
    picture.gain = 0.8;
    run_for(&run, &picture, 30, 0);
    picture.gain = 0.9; /* a small step: no re-base, gradients alone */
    run_for(&run, &picture, 30, 0);
    assert_int_equal(run.delivered + run.taken, 0);

    /* With a parcel present, a step neither takes it nor delivers again. */
    run_for(&run, &picture, 1, 1);
    picture.box = 1;
    run_for(&run, &picture, 1, 1);
    run_for(&run, &picture, 15, 0);
    assert_int_equal(run.delivered, 1);
    picture.gain = 1.6;
    run_for(&run, &picture, 40, 0);
    assert_int_equal(run.delivered, 1);
    assert_int_equal(run.taken, 0);
    /* ...and taking it after the step is still seen. */
    run_for(&run, &picture, 1, 1);
    picture.box = 0;
    run_for(&run, &picture, 1, 1);
    run_for(&run, &picture, 15, 0);
    assert_int_equal(run.taken, 1);
    package_watch_destroy(run.watch);
}

static void test_porch_light_ramp_gives_nothing(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 4};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    /* The lamp over the right half of the step ramps up over 2 s. */
    for (int i = 1; i <= 20; i++) {
        picture.lamp = 0.06 * i;
        run_for(&run, &picture, 0.1, 0);
    }
    run_for(&run, &picture, 30, 0);
    for (int i = 19; i >= 0; i--) {
        picture.lamp = 0.06 * i;
        run_for(&run, &picture, 0.1, 0);
    }
    run_for(&run, &picture, 30, 0);
    assert_int_equal(run.delivered + run.taken, 0);
    package_watch_destroy(run.watch);
}

static void test_night_switch_gives_nothing(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 5};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    for (int i = 1; i <= 3; i++) { /* the IR look over 0.3 s */
        picture.gain = 1.0 - 0.56 * i / 3.0;
        run_for(&run, &picture, 0.1, 0);
    }
    run_for(&run, &picture, 40, 0);
    picture.gain = 1.0;
    run_for(&run, &picture, 40, 0);
    assert_int_equal(run.delivered + run.taken, 0);
    package_watch_destroy(run.watch);
}

/* A parcel delivered by day is still there at night, and its taking at
 * night is seen. */
static void test_parcel_through_the_night(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 7};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    run_for(&run, &picture, 1, 1);
    picture.box = 1;
    run_for(&run, &picture, 1, 1);
    run_for(&run, &picture, 12, 0);
    assert_int_equal(run.delivered, 1);
    picture.gain = 0.44;
    run_for(&run, &picture, 40, 0);
    assert_int_equal(run.delivered, 1);
    assert_int_equal(run.taken, 0);
    run_for(&run, &picture, 1, 1);
    picture.box = 0;
    run_for(&run, &picture, 1, 1);
    run_for(&run, &picture, 12, 0);
    assert_int_equal(run.taken, 1);
    assert_int_equal(run.delivered, 1);
    package_watch_destroy(run.watch);
}

static void test_cat_crossing_gives_nothing(void **state)
{
    (void)state;
    struct run run;
    struct picture picture = {.gain = 1.0, .cat_x = -1, .noise = 6};
    run_start(&run);
    run_for(&run, &picture, 5, 0);
    for (int i = 0; i < 40; i++) {
        picture.cat_x = 0.75 - 0.5 * i / 40.0;
        run_for(&run, &picture, 0.1, 1);
    }
    picture.cat_x = -1;
    run_for(&run, &picture, 2, 1); /* the event holds a little longer */
    run_for(&run, &picture, 30, 0);
    assert_int_equal(run.delivered + run.taken, 0);
    /* A cat the PIR misses: the watch sees it move by itself. It pauses
     * on the step for 3 s, then goes on. */
    for (int i = 0; i < 60; i++) {
        picture.cat_x = i >= 20 && i < 50 ? 0.5 : 0.75 - 0.5 * (i < 20 ? i : i - 30) / 30.0;
        run_for(&run, &picture, 0.1, 0);
    }
    picture.cat_x = -1;
    run_for(&run, &picture, 30, 0);
    assert_int_equal(run.delivered + run.taken, 0);
    package_watch_destroy(run.watch);
}

static void test_no_zone_no_watch(void **state)
{
    (void)state;
    struct motion_config config;
    struct package_watch *watch = package_watch_create();
    uint8_t luma[W * H];
    struct package_watch_report report;
    motion_config_defaults(&config);
    package_watch_configure(watch, &config);
    assert_false(package_watch_enabled(watch));
    memset(luma, 100, sizeof(luma));
    assert_int_equal(package_watch_step(watch, luma, 0, 0, 0, &report), 0);
    assert_int_equal(report.kind, PACKAGE_WATCH_NONE);
    package_watch_destroy(watch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_then_taken),
        cmocka_unit_test(test_motion_restarts_the_clock),
        cmocka_unit_test(test_brightness_step_gives_nothing),
        cmocka_unit_test(test_porch_light_ramp_gives_nothing),
        cmocka_unit_test(test_night_switch_gives_nothing),
        cmocka_unit_test(test_parcel_through_the_night),
        cmocka_unit_test(test_cat_crossing_gives_nothing),
        cmocka_unit_test(test_no_zone_no_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
