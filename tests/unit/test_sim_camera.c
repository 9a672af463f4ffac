/*
 * test_sim_camera.c - unit tests of the camera dispatcher and the sim camera:
 * source parsing and errors, frame sequence and stamps, pacing, triggers,
 * reconfiguration, and the sim scene's script, determinism and ground truth
 * (boxes must cover exactly what was drawn: the motion tests rely on it).
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "camera/camera.h"
#include "camera/frame_stamp.h"
#include "camera/sim_scene.h"
#include "common/clock.h"

#define WIDTH  640
#define HEIGHT 360
#define SECOND 1000000LL

static struct camera *open_sim(int scripted, int unpaced, uint32_t seed)
{
    struct camera_config config = {
        .source = "sim",
        .width = WIDTH,
        .height = HEIGHT,
        .fps = 30,
        .seed = seed,
        .scripted = scripted,
        .unpaced = unpaced,
    };
    char error[256] = "";
    struct camera *camera = camera_open(&config, error, sizeof(error));
    assert_non_null(camera);
    return camera;
}

/* CLOCK_MONOTONIC in seconds. */
static double monotonic_s(void)
{
    return (double)clock_monotonic_ns() / 1e9;
}

static void test_open_errors(void **state)
{
    (void)state;
    char error[256];
    struct camera_config config = {.source = "webcam"};
    error[0] = '\0';
    assert_null(camera_open(&config, error, sizeof(error)));
    assert_non_null(strstr(error, "webcam"));

    config = (struct camera_config){.source = "sim", .width = 320, .height = 240};
    error[0] = '\0';
    assert_null(camera_open(&config, error, sizeof(error)));
    assert_true(strlen(error) > 0);

    config = (struct camera_config){.source = "sim", .width = 641, .height = 360};
    assert_null(camera_open(&config, error, sizeof(error)));
    config = (struct camera_config){.source = "v4l2:"};
    assert_null(camera_open(&config, error, sizeof(error)));
    /* A NULL error buffer is fine. */
    assert_null(camera_open(&config, NULL, 0));
}

static void test_defaults(void **state)
{
    (void)state;
    struct camera_config config = {.unpaced = 1};
    char error[256];
    struct camera *camera = camera_open(&config, error, sizeof(error));
    assert_non_null(camera);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(frame.width, 1280);
    assert_int_equal(frame.height, 720);
    assert_int_equal(frame.stride_y, 1280);
    assert_int_equal(frame.stride_uv, 640);
    assert_true(frame.u == frame.y + 1280 * 720 && frame.v == frame.u + 640 * 360);
    camera_close(camera);
    camera_close(NULL);
}

static void test_trigger_names(void **state)
{
    (void)state;
    static const char *const names[] = {"light_on", "light_off", "night", "day",
                                        "visitor",  "car",       "cat"};
    for (int i = 0; i < 7; i++) {
        enum camera_trigger trigger;
        assert_int_equal(camera_trigger_parse(names[i], &trigger), 0);
        assert_int_equal(trigger, i);
        assert_string_equal(camera_trigger_name(trigger), names[i]);
    }
    enum camera_trigger trigger;
    assert_int_equal(camera_trigger_parse("VISITOR", &trigger), 0);
    assert_int_equal(trigger, CAMERA_TRIGGER_VISITOR);
    assert_int_equal(camera_trigger_parse("doorbell", &trigger), -1);
    assert_int_equal(camera_trigger_parse("", &trigger), -1);
    assert_int_equal(camera_trigger_parse(NULL, &trigger), -1);
}

static void test_sequence_and_stamp(void **state)
{
    (void)state;
    struct camera *camera = open_sim(1, 1, 3);
    uint64_t previous_us = 0;
    for (uint32_t i = 0; i < 40; i++) {
        struct camera_frame frame;
        uint64_t before = clock_realtime_us();
        assert_int_equal(camera_capture(camera, &frame), 0);
        uint64_t after = clock_realtime_us();
        assert_int_equal(frame.sequence, i);
        assert_int_equal(frame.width, WIDTH);
        assert_int_equal(frame.height, HEIGHT);
        assert_true(frame.capture_time_us >= before && frame.capture_time_us <= after);
        assert_true(frame.capture_time_us >= previous_us);
        previous_us = frame.capture_time_us;

        uint64_t stamp_ms = 0;
        uint16_t stamp_sequence = 0;
        assert_int_equal(frame_stamp_read(frame.y, frame.stride_y, &stamp_ms, &stamp_sequence), 0);
        assert_true(stamp_ms == (frame.capture_time_us / 1000) % (UINT64_C(1) << 48));
        assert_int_equal(stamp_sequence, i & 0xffff);
        assert_int_equal(frame.u[0], 128);
        assert_int_equal(frame.v[(FRAME_STAMP_BAND_HEIGHT / 2 - 1) * frame.stride_uv], 128);
    }
    camera_close(camera);
}

/* --capture-jitter-ms: capture times move by up to +-N ms, keep increasing,
 * and the stamp in the picture says the same time. */
static void test_capture_jitter(void **state)
{
    (void)state;
    struct camera_config config = {
        .source = "sim",
        .width = WIDTH,
        .height = HEIGHT,
        .fps = 30,
        .seed = 5,
        .capture_jitter_ms = 20,
    };
    char error[256] = "";
    struct camera *camera = camera_open(&config, error, sizeof(error));
    assert_non_null(camera);
    uint64_t previous_us = 0;
    int64_t least = INT64_MAX, most = INT64_MIN;
    for (uint32_t i = 0; i < 30; i++) {
        struct camera_frame frame;
        uint64_t before = clock_realtime_us();
        assert_int_equal(camera_capture(camera, &frame), 0);
        uint64_t after = clock_realtime_us();
        assert_true(frame.capture_time_us + 20000 >= before);
        assert_true(frame.capture_time_us <= after + 20000);
        assert_true(frame.capture_time_us >= previous_us + 1000);
        previous_us = frame.capture_time_us;
        int64_t offset = (int64_t)frame.capture_time_us - (int64_t)(before + after) / 2;
        least = offset < least ? offset : least;
        most = offset > most ? offset : most;

        uint64_t stamp_ms = 0;
        uint16_t stamp_sequence = 0;
        assert_int_equal(frame_stamp_read(frame.y, frame.stride_y, &stamp_ms, &stamp_sequence), 0);
        assert_true(stamp_ms == (frame.capture_time_us / 1000) % (UINT64_C(1) << 48));
    }
    /* The offsets spread over most of the range, both ways. */
    assert_true(least < -8000 && most > 8000);
    camera_close(camera);
}

static void test_pacing(void **state)
{
    (void)state;
    struct camera *camera = open_sim(0, 0, 1);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    double start = monotonic_s();
    uint64_t first_us = frame.capture_time_us;
    for (int i = 0; i < 9; i++)
        assert_int_equal(camera_capture(camera, &frame), 0);
    double elapsed = monotonic_s() - start;
    /* 9 periods of 1/30 s = 0.3 s: paced, not as fast as it can render. A
     * loaded machine may take longer; the upper bound only catches a pacer
     * that waits for good. */
    assert_true(elapsed > 0.28);
    assert_true(elapsed < 30.0);
    assert_true(frame.capture_time_us - first_us > 280000);

    /* A new rate takes effect at once. */
    assert_int_equal(camera_reconfigure(camera, WIDTH, HEIGHT, 10), 0);
    assert_int_equal(camera_capture(camera, &frame), 0);
    start = monotonic_s();
    for (int i = 0; i < 3; i++)
        assert_int_equal(camera_capture(camera, &frame), 0);
    elapsed = monotonic_s() - start;
    assert_true(elapsed > 0.28);
    assert_int_equal(frame.sequence, 13);
    camera_close(camera);
}

static void test_reconfigure_size(void **state)
{
    (void)state;
    struct camera *camera = open_sim(1, 1, 1);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_reconfigure(camera, 800, 450, 30), 0);
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(frame.width, 800);
    assert_int_equal(frame.height, 450);
    assert_int_equal(frame.stride_y, 800);
    assert_int_equal(frame.sequence, 1);
    assert_int_equal(frame_stamp_read(frame.y, frame.stride_y, NULL, NULL), 0);
    /* Too small for the sim, odd, or absurd: refused, old size kept. */
    assert_int_equal(camera_reconfigure(camera, 320, 180, 30), -1);
    assert_int_equal(camera_reconfigure(camera, 801, 450, 30), -1);
    assert_int_equal(camera_reconfigure(camera, 800, 450, 0), -1);
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(frame.width, 800);
    camera_close(camera);
}

/* Capture until the ground truth shows an object of `kind`; frames used. */
static int frames_until_object(struct camera *camera, enum sim_object_kind kind, int limit)
{
    for (int i = 0; i < limit; i++) {
        struct camera_frame frame;
        assert_int_equal(camera_capture(camera, &frame), 0);
        struct sim_object_box boxes[SIM_SCENE_MAX_OBJECTS];
        int count = camera_sim_ground_truth(camera, boxes, SIM_SCENE_MAX_OBJECTS);
        assert_true(count >= 0);
        for (int j = 0; j < count; j++)
            if (boxes[j].kind == kind)
                return i;
    }
    return -1;
}

static void test_triggers(void **state)
{
    (void)state;
    struct camera *camera = open_sim(0, 1, 5);
    struct camera_frame frame;
    struct sim_ground_truth truth;
    assert_int_equal(camera_sim_scene_state(camera, &truth), -1); /* nothing captured yet */
    for (int i = 0; i < 5; i++)
        assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
    assert_int_equal(truth.object_count, 0);

    /* The visitor walks in from the right edge within about a second. */
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_VISITOR), 0);
    int frames = frames_until_object(camera, SIM_OBJECT_VISITOR, 60);
    assert_true(frames >= 0);
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_CAR), 0);
    assert_true(frames_until_object(camera, SIM_OBJECT_CAR, 30) >= 0);
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_CAT), 0);
    assert_true(frames_until_object(camera, SIM_OBJECT_CAT, 30) >= 0);

    /* Porch light: a ramp of ~0.3 s flagged as lighting change, then steady. */
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_LIGHT_ON), 0);
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
    assert_int_equal(truth.lighting_changing, 1);
    assert_int_equal(truth.light_on, 1);
    for (int i = 0; i < 12; i++)
        assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
    assert_int_equal(truth.lighting_changing, 0);
    assert_int_equal(truth.light_on, 1);

    /* Night: chroma turns grey outside the stamp and the porch light. */
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_NIGHT), 0);
    for (int i = 0; i < 15; i++)
        assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
    assert_int_equal(truth.night, 1);
    assert_int_equal(frame.u[(HEIGHT / 2 - 1) * frame.stride_uv + WIDTH / 2 - 1], 128);
    assert_int_equal(frame.v[(HEIGHT / 2 - 1) * frame.stride_uv + WIDTH / 2 - 1], 128);
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_DAY), 0);
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_LIGHT_OFF), 0);
    assert_int_equal(camera_trigger(camera, (enum camera_trigger)99), -1);
    camera_close(camera);
}

static void test_script_table(void **state)
{
    (void)state;
    size_t count = 0;
    const struct sim_script_event *script = sim_scene_script(&count);
    assert_int_equal(count, 9);
    for (size_t i = 0; i < count; i++) {
        assert_true(script[i].at_us >= 0 && script[i].at_us < SIM_SCENE_LOOP_US);
        if (i > 0)
            assert_true(script[i].at_us > script[i - 1].at_us);
    }
    assert_true(script[0].at_us == 10 * SECOND && script[0].trigger == CAMERA_TRIGGER_VISITOR);
}

/* Index of the first box of `kind` in truth, or -1. */
static int find_box(const struct sim_ground_truth *truth, enum sim_object_kind kind)
{
    for (int i = 0; i < truth->object_count; i++)
        if (truth->objects[i].kind == kind)
            return i;
    return -1;
}

static void test_scripted_timeline(void **state)
{
    (void)state;
    char error[128];
    struct sim_scene *scene = sim_scene_create(WIDTH, HEIGHT, 1, 1, error, sizeof(error));
    assert_non_null(scene);
    struct sim_ground_truth truth;

    sim_scene_ground_truth(scene, 5 * SECOND, &truth);
    assert_int_equal(truth.object_count, 0);
    assert_int_equal(truth.night + truth.light_on + truth.lighting_changing, 0);

    /* Visitor: walking at 12 s, at the door 14-22 s, ringing at 15.2 s, gone by 26 s. */
    sim_scene_ground_truth(scene, 12 * SECOND, &truth);
    int visitor = find_box(&truth, SIM_OBJECT_VISITOR);
    assert_true(visitor >= 0);
    assert_true(truth.objects[visitor].x > 0.4);
    assert_int_equal(truth.pir_active, 1);
    sim_scene_ground_truth(scene, 15200000, &truth);
    visitor = find_box(&truth, SIM_OBJECT_VISITOR);
    assert_true(visitor >= 0);
    assert_int_equal(truth.button_pressed, 1);
    sim_scene_ground_truth(scene, 18 * SECOND, &truth);
    visitor = find_box(&truth, SIM_OBJECT_VISITOR);
    assert_true(visitor >= 0);
    const struct sim_object_box *box = &truth.objects[visitor];
    assert_true(box->x < 0.25 && box->x + box->width > 0.25); /* in front of the door */
    assert_true(box->height > 0.4 && box->y + box->height <= 1.0);
    assert_int_equal(truth.button_pressed, 0);
    sim_scene_ground_truth(scene, 26 * SECOND, &truth);
    assert_int_equal(truth.object_count, 0);

    /* Car in the street band, cat low in the frame. */
    sim_scene_ground_truth(scene, 31500000, &truth);
    int car = find_box(&truth, SIM_OBJECT_CAR);
    assert_true(car >= 0);
    assert_true(truth.objects[car].y >= 0.15 &&
                truth.objects[car].y + truth.objects[car].height < 0.4);
    assert_int_equal(truth.pir_active, 0);
    sim_scene_ground_truth(scene, 72 * SECOND, &truth);
    int cat = find_box(&truth, SIM_OBJECT_CAT);
    assert_true(cat >= 0);
    assert_true(truth.objects[cat].y > 0.75 && truth.objects[cat].height < 0.2);

    /* Lighting: ramps flagged, steady states not. */
    sim_scene_ground_truth(scene, 80100000, &truth);
    assert_int_equal(truth.lighting_changing, 1);
    assert_int_equal(truth.night, 1);
    sim_scene_ground_truth(scene, 81 * SECOND, &truth);
    assert_int_equal(truth.lighting_changing, 0);
    sim_scene_ground_truth(scene, 90200000, &truth);
    assert_int_equal(truth.lighting_changing, 1);
    sim_scene_ground_truth(scene, 95 * SECOND, &truth);
    assert_int_equal(truth.light_on, 1);
    assert_int_equal(truth.night, 1);
    assert_int_equal(truth.lighting_changing, 0);
    sim_scene_ground_truth(scene, 105 * SECOND, &truth);
    assert_int_equal(truth.light_on, 0);
    sim_scene_ground_truth(scene, 115 * SECOND, &truth);
    assert_int_equal(truth.night, 0);

    /* The loop repeats. */
    sim_scene_ground_truth(scene, SIM_SCENE_LOOP_US + 18 * SECOND, &truth);
    assert_true(find_box(&truth, SIM_OBJECT_VISITOR) >= 0);
    sim_scene_ground_truth(scene, SIM_SCENE_LOOP_US + 5 * SECOND, &truth);
    assert_int_equal(truth.object_count + truth.night + truth.light_on, 0);
    sim_scene_destroy(scene);
}

/* The visitor flag the simulated microphone reads: 0 before the scripted
 * visitor (frame 0..299, scene time < 10 s), 1 while it is in the picture,
 * 0 again once it has gone; NULL for a camera that is not the sim. */
static void test_visitor_flag(void **state)
{
    (void)state;
    struct camera *camera = open_sim(1, 1, 1);
    const atomic_int *flag = camera_sim_visitor_flag(camera);
    assert_non_null(flag);
    struct camera_frame frame;
    int first = -1, last = -1;
    for (int i = 0; i < 29 * 30; i++) { /* before the car and the courier */
        assert_int_equal(camera_capture(camera, &frame), 0);
        struct sim_ground_truth truth;
        assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
        assert_int_equal(atomic_load(flag), find_box(&truth, SIM_OBJECT_VISITOR) >= 0);
        if (atomic_load(flag)) {
            if (first < 0)
                first = i;
            last = i;
        }
    }
    camera_close(camera);
    assert_true(first >= 10 * 30 && first <= 11 * 30); /* enters at 10 s */
    assert_true(last >= 22 * 30 && last < 26 * 30);    /* gone by 26 s */
    assert_null(camera_sim_visitor_flag(NULL));
}

static void test_interactive_history(void **state)
{
    (void)state;
    char error[128];
    struct sim_scene *scene = sim_scene_create(WIDTH, HEIGHT, 1, 0, error, sizeof(error));
    assert_non_null(scene);
    struct sim_ground_truth truth;
    sim_scene_trigger(scene, CAMERA_TRIGGER_NIGHT, 0);
    /* Many visitors later the scene still remembers it is night. */
    for (int i = 1; i <= 40; i++)
        sim_scene_trigger(scene, CAMERA_TRIGGER_VISITOR, i * SECOND);
    sim_scene_ground_truth(scene, 50 * SECOND, &truth);
    assert_int_equal(truth.night, 1);
    assert_int_equal(truth.lighting_changing, 0);
    assert_true(find_box(&truth, SIM_OBJECT_VISITOR) >= 0);

    /* Light switched off in the middle of its switch-on ramp: still a
     * change in progress, finished one ramp after the last switch. */
    sim_scene_trigger(scene, CAMERA_TRIGGER_LIGHT_ON, 60 * SECOND);
    sim_scene_trigger(scene, CAMERA_TRIGGER_LIGHT_OFF, 60 * SECOND + 100000);
    sim_scene_ground_truth(scene, 60 * SECOND + 200000, &truth);
    assert_int_equal(truth.lighting_changing, 1);
    assert_int_equal(truth.light_on, 0);
    sim_scene_ground_truth(scene, 60 * SECOND + 100000 + SIM_SCENE_RAMP_US, &truth);
    assert_int_equal(truth.lighting_changing, 0);
    /* A trigger in the future is not visible yet. */
    sim_scene_trigger(scene, CAMERA_TRIGGER_CAT, 70 * SECOND);
    sim_scene_ground_truth(scene, 69 * SECOND, &truth);
    assert_int_equal(find_box(&truth, SIM_OBJECT_CAT), -1);
    sim_scene_destroy(scene);
}

static void test_scene_deterministic(void **state)
{
    (void)state;
    size_t size = (size_t)WIDTH * HEIGHT * 3 / 2;
    uint8_t *first = malloc(size), *second = malloc(size);
    assert_non_null(first);
    assert_non_null(second);
    char error[128];
    struct sim_scene *a = sim_scene_create(WIDTH, HEIGHT, 42, 1, error, sizeof(error));
    struct sim_scene *b = sim_scene_create(WIDTH, HEIGHT, 42, 1, error, sizeof(error));
    struct sim_scene *c = sim_scene_create(WIDTH, HEIGHT, 43, 1, error, sizeof(error));
    assert_true(a != NULL && b != NULL && c != NULL);
    int64_t t = 16 * SECOND;
    sim_scene_render(a, t, first, WIDTH, first + WIDTH * HEIGHT, first + WIDTH * HEIGHT * 5 / 4,
                     WIDTH / 2, NULL);
    sim_scene_render(b, t, second, WIDTH, second + WIDTH * HEIGHT, second + WIDTH * HEIGHT * 5 / 4,
                     WIDTH / 2, NULL);
    assert_memory_equal(first, second, size);
    sim_scene_render(c, t, second, WIDTH, second + WIDTH * HEIGHT, second + WIDTH * HEIGHT * 5 / 4,
                     WIDTH / 2, NULL);
    assert_true(memcmp(first, second, size) != 0);
    sim_scene_destroy(a);
    sim_scene_destroy(b);
    sim_scene_destroy(c);
    free(first);
    free(second);
}

/* Render scene time t in a scripted scene and in an empty one with the same
 * seed (same noise), and check the pixels that differ lie inside the ground
 * truth box of `kind`, and fill a good part of it. */
static void check_box_matches_pixels(int64_t t, enum sim_object_kind kind)
{
    size_t size = (size_t)WIDTH * HEIGHT * 3 / 2;
    uint8_t *with = malloc(size), *without = malloc(size);
    assert_non_null(with);
    assert_non_null(without);
    char error[128];
    struct sim_scene *scripted = sim_scene_create(WIDTH, HEIGHT, 9, 1, error, sizeof(error));
    struct sim_scene *empty = sim_scene_create(WIDTH, HEIGHT, 9, 0, error, sizeof(error));
    assert_true(scripted != NULL && empty != NULL);
    struct sim_ground_truth truth;
    sim_scene_render(scripted, t, with, WIDTH, with + WIDTH * HEIGHT, with + WIDTH * HEIGHT * 5 / 4,
                     WIDTH / 2, &truth);
    sim_scene_render(empty, t, without, WIDTH, without + WIDTH * HEIGHT,
                     without + WIDTH * HEIGHT * 5 / 4, WIDTH / 2, NULL);
    int index = find_box(&truth, kind);
    assert_true(index >= 0);
    const struct sim_object_box *box = &truth.objects[index];
    int x0 = (int)(box->x * WIDTH + 0.5), y0 = (int)(box->y * HEIGHT + 0.5);
    int x1 = (int)((box->x + box->width) * WIDTH + 0.5);
    int y1 = (int)((box->y + box->height) * HEIGHT + 0.5);
    int inside = 0, outside = 0;
    for (int y = 0; y < HEIGHT; y++) {
        for (int x = 0; x < WIDTH; x++) {
            if (with[y * WIDTH + x] == without[y * WIDTH + x])
                continue;
            if (x >= x0 && x < x1 && y >= y0 && y < y1) {
                inside++;
                continue;
            }
            int in_other = 0; /* another object of the frame (the parcel on the mat) */
            for (int i = 0; i < truth.object_count; i++) {
                const struct sim_object_box *other = &truth.objects[i];
                in_other |= x >= (int)(other->x * WIDTH + 0.5) &&
                            x < (int)((other->x + other->width) * WIDTH + 0.5) &&
                            y >= (int)(other->y * HEIGHT + 0.5) &&
                            y < (int)((other->y + other->height) * HEIGHT + 0.5);
            }
            outside += !in_other;
        }
    }
    assert_int_equal(outside, 0);
    assert_true(inside > (x1 - x0) * (y1 - y0) / 5);
    sim_scene_destroy(scripted);
    sim_scene_destroy(empty);
    free(with);
    free(without);
}

static void test_ground_truth_matches_pixels(void **state)
{
    (void)state;
    check_box_matches_pixels(12 * SECOND, SIM_OBJECT_VISITOR);
    check_box_matches_pixels(15300000, SIM_OBJECT_VISITOR); /* arm out to the bell */
    check_box_matches_pixels(30300000, SIM_OBJECT_CAR);     /* partly behind the wall */
    check_box_matches_pixels(32 * SECOND, SIM_OBJECT_CAR);
    check_box_matches_pixels(72 * SECOND, SIM_OBJECT_CAT);
    check_box_matches_pixels(39 * SECOND, SIM_OBJECT_VISITOR); /* the courier with the parcel */
    check_box_matches_pixels(58 * SECOND, SIM_OBJECT_BOX);     /* the parcel on the mat */
    check_box_matches_pixels(74 * SECOND, SIM_OBJECT_VISITOR); /* taken away */
}

static void test_stamp_drawn_last(void **state)
{
    (void)state;
    /* Every frame up to the visitor at the door (16 s) carries a readable
     * stamp with the right sequence. */
    struct camera *camera = open_sim(1, 1, 2);
    struct camera_frame frame;
    for (int i = 0; i < 30 * 16; i++) {
        assert_int_equal(camera_capture(camera, &frame), 0);
        uint16_t sequence = 0;
        assert_int_equal(frame_stamp_read(frame.y, frame.stride_y, NULL, &sequence), 0);
        assert_int_equal(sequence, i);
    }
    camera_close(camera);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_trigger_names),
        cmocka_unit_test(test_sequence_and_stamp),
        cmocka_unit_test(test_capture_jitter),
        cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_reconfigure_size),
        cmocka_unit_test(test_triggers),
        cmocka_unit_test(test_visitor_flag),
        cmocka_unit_test(test_script_table),
        cmocka_unit_test(test_scripted_timeline),
        cmocka_unit_test(test_interactive_history),
        cmocka_unit_test(test_scene_deterministic),
        cmocka_unit_test(test_ground_truth_matches_pixels),
        cmocka_unit_test(test_stamp_drawn_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
