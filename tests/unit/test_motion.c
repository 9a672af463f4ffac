/*
 * test_motion.c - unit tests of on-device motion detection (firmware/motion/):
 * the settings parser, PIR fusion, downscaling, opening and labelling, the
 * privacy blackout, and the detector driven frame by frame by the real sim
 * camera (unpaced, 10 fps, scene time as the clock) against the ground truth
 * the sim scene knows: the visitor and the car are found where they are;
 * lighting changes, motion under a privacy mask or outside the zones are
 * not; a parked object is absorbed; PIR-gated mode ignores the car.
 *
 * Precision and recall over the scripted 10-minute scene (5 loops of 120 s)
 * are printed and must reach 95 % and 80 %. Definitions:
 *   box precision  - boxes reported on frames that overlap a ground-truth
 *                    object (IoU > 0.1, or one box holds 90 % of the other),
 *                    over all boxes reported;
 *   frame recall   - frames where an object covers at least twice min_area
 *                    of the frame and a reported box overlaps one, over such
 *                    frames;
 *   event precision - motion events (start to end) during which an object
 *                    was visible, over all events;
 *   event recall   - object appearances (visitor, courier, car, collector,
 *                    cat: 25 in 10 min)
 *                    during which a motion event was active, over all.
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/motion/motion_detector.c firmware/motion/motion_lighting.c firmware/motion/motion_image.c firmware/motion/motion_privacy.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "camera/camera.h"
#include "camera/frame_stamp.h"
#include "camera/sim_scene.h"
#include "common/motion_config.h"
#include "motion/motion_privacy.h"
#include "motion/motion_detector.h"
#include "motion/motion_image.h"

#define SECOND 1000000LL
#define FPS    10

/* ---- helpers ---------------------------------------------------------- */

/* A sim camera at width x height, 10 fps, unpaced. */
static struct camera *open_scene(int width, int height, int scripted, uint32_t seed)
{
    struct camera_config config = {
        .source = "sim",
        .width = width,
        .height = height,
        .fps = FPS,
        .seed = seed,
        .scripted = scripted,
        .unpaced = 1,
    };
    char error[256] = "";
    struct camera *camera = camera_open(&config, error, sizeof(error));
    assert_non_null(camera);
    return camera;
}

/*
 * A detector from JSON settings (NULL: defaults) for a sim camera of the
 * given width. Every sim frame carries the frame stamp, a row of 64 cells
 * whose time bits flip as the clock runs (frame_stamp.h): at 640x360 a
 * cell is 4x4 analysis pixels, which the 3x3 opening keeps, so there the
 * band is masked as a doorbell would mask an on-screen clock. At 1280x720
 * (2x2 pixels) the opening removes it by itself.
 */
static struct motion_detector *open_detector_for(const char *json, int width)
{
    struct motion_config config;
    motion_config_defaults(&config);
    char error[128] = "";
    if (json != NULL && motion_config_parse(json, strlen(json), &config, error, sizeof(error)) != 0)
        fail_msg("settings refused: %s", error);
    if (width < 1280) {
        float right = (float)FRAME_STAMP_BAND_WIDTH / width,
              bottom = (float)FRAME_STAMP_BAND_HEIGHT / (width * 9 / 16);
        assert_true(config.mask_count < MOTION_MAX_POLYGONS);
        config.masks[config.mask_count++] =
            (struct motion_polygon){4, {{0, 0}, {right, 0}, {right, bottom}, {0, bottom}}};
    }
    struct motion_detector *detector = motion_detector_create(&config, error, sizeof(error));
    assert_non_null(detector);
    return detector;
}

/* The same for the 640x360 camera most tests use (it renders 4 times faster). */
static struct motion_detector *open_detector(const char *json)
{
    return open_detector_for(json, 640);
}

/* Whether a reported box matches a ground-truth box: IoU above 0.1, or one
 * holding 90 % of the other. */
static int boxes_match(const struct motion_box *box, const struct sim_object_box *truth)
{
    double x0 = fmax(box->x, truth->x), y0 = fmax(box->y, truth->y);
    double x1 = fmin(box->x + box->width, truth->x + truth->width);
    double y1 = fmin(box->y + box->height, truth->y + truth->height);
    double inside = x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0.0;
    double area = box->width * box->height, truth_area = truth->width * truth->height;
    double iou = inside / (area + truth_area - inside);
    return iou > 0.1 || (inside > 0.0 && (inside >= 0.9 * area || inside >= 0.9 * truth_area));
}

/* What happened over a run of frames. */
struct scene_stats {
    int frames, boxes, correct_boxes;
    int positive_frames, found_frames;
    int matched_frames[3]; /* per enum sim_object_kind: a box matched that object */
    int events, correct_events, active_frames;
    int appearances, appearances_found;
    /* run state */
    int in_event, event_correct;
    int previous_kinds, found_kinds;
};

/* A paint-in hook: called with each frame before analysis (may be NULL). */
typedef void (*frame_hook)(struct camera_frame *frame, int64_t scene_time_us);

/*
 * Capture and analyse frames until scene time reaches until_us, feeding the
 * sim's PIR, and count what the detector reported against the ground truth.
 */
static void run_scene(struct camera *camera, struct motion_detector *detector, int64_t until_us,
                      double min_area, frame_hook hook, struct scene_stats *stats)
{
    for (;;) {
        struct camera_frame frame;
        struct sim_ground_truth truth;
        assert_int_equal(camera_capture(camera, &frame), 0);
        assert_int_equal(camera_sim_scene_state(camera, &truth), 0);
        if (truth.scene_time_us >= until_us)
            break;
        if (hook != NULL)
            hook(&frame, truth.scene_time_us);
        struct motion_result result;
        assert_int_equal(motion_detector_process(detector, &frame, truth.scene_time_us,
                                                 truth.pir_active, &result),
                         0);
        stats->frames++;

        int kinds = 0, positive = 0, found = 0;
        for (int i = 0; i < truth.object_count; i++) {
            kinds |= 1 << truth.objects[i].kind;
            positive |= truth.objects[i].width * truth.objects[i].height >= 2.0 * min_area;
        }
        int matched_kinds = 0;
        for (int b = 0; b < result.box_count; b++) {
            const struct motion_box *box = &result.boxes[b];
            assert_true(box->x >= 0.0 && box->y >= 0.0 && box->width > 0.0 && box->height > 0.0);
            assert_true(box->x + box->width <= 1.0 + 1e-9 && box->y + box->height <= 1.0 + 1e-9);
            int correct = 0;
            for (int i = 0; i < truth.object_count; i++)
                if (boxes_match(box, &truth.objects[i])) {
                    correct = 1;
                    matched_kinds |= 1 << truth.objects[i].kind;
                }
            stats->boxes++;
            stats->correct_boxes += correct;
            found |= correct;
        }
        for (int kind = 0; kind < 3; kind++)
            stats->matched_frames[kind] += (matched_kinds >> kind) & 1;
        if (positive) {
            stats->positive_frames++;
            stats->found_frames += found;
        }

        /* Appearances: an object kind becoming visible. */
        for (int kind = 0; kind < 3; kind++) {
            int bit = 1 << kind;
            if ((kinds & bit) && !(stats->previous_kinds & bit)) {
                stats->appearances++;
                stats->found_kinds &= ~bit;
            }
            if ((kinds & bit) && result.active && !(stats->found_kinds & bit)) {
                stats->found_kinds |= bit;
                stats->appearances_found++;
            }
        }
        stats->previous_kinds = kinds;

        assert_false(result.started && result.ended);
        if (result.started) {
            assert_false(stats->in_event);
            stats->events++;
            stats->in_event = 1;
            stats->event_correct = 0;
        }
        if (stats->in_event && truth.object_count > 0)
            stats->event_correct = 1;
        if (result.ended && stats->in_event) { /* else it started in an earlier run */
            stats->correct_events += stats->event_correct;
            stats->in_event = 0;
        }
        stats->active_frames += result.active;
        assert_true(result.score >= 0.0 && result.score <= 1.0);
        assert_true(!result.frame_motion || result.score > 0.0);
    }
}

/* ---- settings --------------------------------------------------------- */

static void test_config_defaults_and_round_trip(void **state)
{
    (void)state;
    struct motion_config config;
    char error[128];
    assert_int_equal(motion_config_parse("{}", 2, &config, error, sizeof(error)), 0);
    assert_int_equal(config.sensitivity, MOTION_SENSITIVITY_MEDIUM);
    assert_int_equal(config.mode, MOTION_MODE_CV);
    assert_true(fabs(config.min_area - 0.003) < 1e-12);
    assert_int_equal(config.min_frames, 3);
    assert_int_equal(config.hold_ms, 2000);
    assert_int_equal(config.zone_count, 0);
    assert_int_equal(config.mask_count, 0);
    assert_int_equal(config.has_package_zone, 0);
    assert_int_equal(config.package_still_ms, 10000);

    const char *text = "{\"sensitivity\":\"high\",\"mode\":\"either\",\"min_area\":0.01,"
                       "\"min_frames\":5,\"hold_s\":1.5,\"schedule\":{\"anything\":1},"
                       "\"zones\":[[[0,0],[0.5,0],[0.5,0.5],[0,0.5]],"
                       "[[0.6,0.6],[0.9,0.6],[0.75,0.95]]],"
                       "\"masks\":[[[0.1,0.1],[0.2,0.1],[0.2,0.2]]],"
                       "\"package_zone\":[[0.15,0.75],[0.35,0.75],[0.35,0.95],[0.15,0.95]],"
                       "\"package_still_s\":4}";
    assert_int_equal(motion_config_parse(text, strlen(text), &config, error, sizeof(error)), 0);
    assert_int_equal(config.sensitivity, MOTION_SENSITIVITY_HIGH);
    assert_int_equal(config.mode, MOTION_MODE_EITHER);
    assert_int_equal(config.min_frames, 5);
    assert_int_equal(config.hold_ms, 1500);
    assert_int_equal(config.zone_count, 2);
    assert_int_equal(config.zones[1].point_count, 3);
    assert_true(fabsf(config.zones[1].points[2].y - 0.95f) < 1e-6f);
    assert_int_equal(config.mask_count, 1);
    assert_int_equal(config.has_package_zone, 1);
    assert_int_equal(config.package_zone.point_count, 4);
    assert_true(fabsf(config.package_zone.points[2].y - 0.95f) < 1e-6f);
    assert_int_equal(config.package_still_ms, 4000);

    /* What to_json writes, from_json reads back the same. */
    cJSON *json = motion_config_to_json(&config);
    assert_non_null(json);
    struct motion_config again;
    assert_int_equal(motion_config_from_json(json, &again, error, sizeof(error)), 0);
    cJSON_Delete(json);
    assert_memory_equal(&config, &again, sizeof(config));
}

static void test_config_rejects_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "\"medium\"",
        "{\"sensitivity\":3}",
        "{\"sensitivity\":\"ultra\"}",
        "{\"mode\":\"camera\"}",
        "{\"mode\":null}",
        "{\"min_area\":\"0.1\"}",
        "{\"min_area\":0}",
        "{\"min_area\":0.9}",
        "{\"min_frames\":0}",
        "{\"min_frames\":31}",
        "{\"min_frames\":2.5}",
        "{\"hold_s\":-1}",
        "{\"hold_s\":61}",
        "{\"zones\":{}}",
        "{\"zones\":[{}]}",
        "{\"zones\":[[[0,0],[1,0]]]}",
        "{\"zones\":[[[0,0],[1,0],[1,1],[0,\"1\"]]]}",
        "{\"zones\":[[[0,0],[1.5,0],[1,1]]]}",
        "{\"zones\":[[[0,0],[1,-0.1],[1,1]]]}",
        "{\"zones\":[[[0,0],[1,0],[1]]]}",
        "{\"zones\":[[[0,0],[1,0],[1,1,1]]]}",
        "{\"zones\":[[[0,0],[1,0],{\"x\":1,\"y\":1}]]}",
        "{\"zones\":[[[0,0],[0.5,0.5],[1,1]]]}",
        "{\"masks\":[[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]],"
        "[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]],"
        "[[0,0],[1,0],[1,1]],[[0,0],[1,0],[1,1]]]}",
        "{\"masks\":[[[0,0],[0.1,0],[0.2,0],[0.3,0],[0.4,0],[0.5,0],[0.6,0],[0.7,0],[0.8,0],"
        "[0.9,0],[1,0],[1,0.1],[1,0.2],[1,0.3],[1,0.4],[1,0.5],[0,1]]]}",
        "{\"package_zone\":[]}",
        "{\"package_zone\":[[[0,0],[1,0],[1,1]]]}",
        "{\"package_zone\":[[0,0],[1,0]]}",
        "{\"package_zone\":[[0,0],[1.5,0],[1,1]]}",
        "{\"package_zone\":[[0,0],[0.5,0.5],[1,1]]}",
        "{\"package_zone\":\"doorstep\"}",
        "{\"package_still_s\":1}",
        "{\"package_still_s\":61}",
    };
    struct motion_config config, untouched;
    motion_config_defaults(&config);
    config.min_frames = 7; /* a failed parse must leave this */
    untouched = config;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char error[128] = "";
        if (motion_config_parse(bad[i], strlen(bad[i]), &config, error, sizeof(error)) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_true(strlen(error) > 0);
        assert_null(strstr(error, "{")); /* the reason never echoes the input */
        assert_memory_equal(&config, &untouched, sizeof(config));
    }
    /* 16 points and 8 polygons are the limits, not beyond them. */
    const char *limit = "{\"masks\":[[[0,0],[0.1,0],[0.2,0],[0.3,0],[0.4,0],[0.5,0],[0.6,0],"
                        "[0.7,0],[0.8,0],[0.9,0],[1,0],[1,0.1],[1,0.2],[1,0.3],[1,0.4],[0,1]]]}";
    char error[128];
    assert_int_equal(motion_config_parse(limit, strlen(limit), &config, error, sizeof(error)), 0);
    assert_int_equal(config.masks[0].point_count, 16);
}

/* ---- fusion ----------------------------------------------------------- */

static void test_fusion(void **state)
{
    (void)state;
    struct motion_fusion fusion = {0};
    /* cv: the camera alone. */
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_CV, 0, 1, 0, 2000), 0);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_CV, 1, 0, SECOND, 2000), 1);

    /* pir: the camera alone does nothing... */
    fusion = (struct motion_fusion){0};
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 1, 0, 0, 2000), 0);
    /* ...the PIR alone neither... */
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 0, 1, SECOND, 2000), 0);
    /* ...camera motion within 5 s of the PIR does, and lasts while the camera sees it. */
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 1, 0, 4 * SECOND, 2000), 1);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 1, 0, 30 * SECOND, 2000), 1);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 0, 0, 31 * SECOND, 2000), 0);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_PIR, 1, 0, 32 * SECOND, 2000), 0);

    /* either: the PIR alone, for hold_ms after it last fired. */
    fusion = (struct motion_fusion){0};
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_EITHER, 0, 0, 0, 2000), 0);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_EITHER, 0, 1, SECOND, 2000), 1);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_EITHER, 0, 0, 3 * SECOND, 2000), 1);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_EITHER, 0, 0, 4 * SECOND, 2000), 0);
    assert_int_equal(motion_fusion_step(&fusion, MOTION_MODE_EITHER, 1, 0, 5 * SECOND, 2000), 1);
}

/* ---- image operations ------------------------------------------------- */

/* Downscale a pseudo-random plane and compare every target pixel with the
 * rounded mean of the source rectangle it covers. */
static void check_downscale(int width, int height, int step)
{
    uint8_t *plane = malloc((size_t)width * (size_t)height * (size_t)step);
    uint8_t target[MOTION_ANALYSIS_WIDTH * MOTION_ANALYSIS_HEIGHT];
    assert_non_null(plane);
    uint32_t seed = 12345;
    for (size_t i = 0; i < (size_t)width * (size_t)height * (size_t)step; i++) {
        seed = seed * 1664525u + 1013904223u;
        plane[i] = (uint8_t)(seed >> 24);
    }
    struct motion_scaler scaler = {0};
    assert_int_equal(motion_scaler_prepare(&scaler, width, height, MOTION_ANALYSIS_WIDTH,
                                           MOTION_ANALYSIS_HEIGHT),
                     0);
    motion_scaler_run(&scaler, plane, width * step, step, target);
    int off_by_one = 0;
    for (int ty = 0; ty < MOTION_ANALYSIS_HEIGHT; ty++) {
        int y0 = ty * height / MOTION_ANALYSIS_HEIGHT,
            y1 = (ty + 1) * height / MOTION_ANALYSIS_HEIGHT;
        for (int tx = 0; tx < MOTION_ANALYSIS_WIDTH; tx++) {
            int x0 = tx * width / MOTION_ANALYSIS_WIDTH,
                x1 = (tx + 1) * width / MOTION_ANALYSIS_WIDTH;
            double sum = 0.0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    sum += plane[((size_t)y * (size_t)width + (size_t)x) * (size_t)step];
            double mean = sum / ((y1 - y0) * (x1 - x0));
            int got = target[ty * MOTION_ANALYSIS_WIDTH + tx];
            /* Exact but for a tie at .5, which may round either way. */
            assert_true(fabs(got - mean) <= 0.5 + 1e-6 || (off_by_one++, fabs(got - mean) < 1.0));
        }
    }
    assert_true(off_by_one < MOTION_ANALYSIS_WIDTH * MOTION_ANALYSIS_HEIGHT / 100);
    motion_scaler_release(&scaler);
    free(plane);
}

static void test_downscale(void **state)
{
    (void)state;
    check_downscale(1280, 720, 1);  /* 4 x 4 */
    check_downscale(640, 360, 1);   /* 2 x 2 */
    check_downscale(320, 180, 1);   /* a copy */
    check_downscale(800, 450, 1);   /* 2.5 x 2.5: boxes of 2 and 3 */
    check_downscale(1920, 1080, 2); /* 6 x 6, samples two bytes apart (NV12 chroma) */
    struct motion_scaler scaler = {0};
    assert_int_equal(motion_scaler_prepare(&scaler, 318, 180, 320, 180), -1);
    assert_int_equal(motion_scaler_prepare(&scaler, 320 * 17, 180, 320, 180), -1);
    motion_scaler_release(&scaler);
}

static void test_open_and_label(void **state)
{
    (void)state;
    enum { W = 64, H = 32 };
    uint8_t mask[W * H] = {0}, scratch[W * H];
#define SET(x0, y0, x1, y1)                                                                        \
    for (int y = (y0); y < (y1); y++)                                                              \
        for (int x = (x0); x < (x1); x++)                                                          \
            mask[y * W + x] = 1;
    SET(2, 2, 10, 8);    /* a block: stays */
    SET(20, 2, 40, 4);   /* a line two pixels thin: goes */
    SET(50, 10, 51, 11); /* a speck: goes */
    /* A U: the arms meet only at the bottom, so labelling must join them. */
    SET(20, 10, 24, 28);
    SET(30, 10, 34, 28);
    SET(20, 24, 34, 28);
    /* Two blocks touching at one corner only (8-connectivity joins them). */
    SET(44, 20, 48, 24);
    SET(48, 24, 52, 28);
#undef SET
    motion_mask_open(mask, scratch, W, H);
    assert_int_equal(mask[3 * W + 30], 0);
    assert_int_equal(mask[10 * W + 50], 0);
    assert_int_equal(mask[5 * W + 5], 1);

    struct motion_labeller labeller;
    assert_int_equal(motion_labeller_create(&labeller, W, H), 0);
    struct motion_blob blobs[8];
    int count = motion_label(&labeller, mask, 1, blobs, 8);
    assert_int_equal(count, 3);
    int found = 0;
    for (int i = 0; i < count; i++) {
        const struct motion_blob *blob = &blobs[i];
        if (blob->x0 == 2 && blob->y0 == 2 && blob->x1 == 10 && blob->y1 == 8) {
            assert_int_equal(blob->area, 48);
            found |= 1;
        } else if (blob->x0 == 20 && blob->y0 == 10 && blob->x1 == 34 && blob->y1 == 28) {
            assert_int_equal(blob->area, 4 * 18 * 2 + 6 * 4);
            found |= 2;
        } else if (blob->x0 == 44 && blob->y0 == 20 && blob->x1 == 52 && blob->y1 == 28) {
            assert_int_equal(blob->area, 32);
            found |= 4;
        }
    }
    assert_int_equal(found, 7);
    /* The smallest are dropped first when there is no room. */
    assert_int_equal(motion_label(&labeller, mask, 1, blobs, 2), 2);
    assert_true(blobs[0].area >= 48 && blobs[1].area >= 48);
    /* Diagonal neighbours join (labelling without opening). */
    memset(mask, 0, sizeof(mask));
    mask[5 * W + 5] = mask[6 * W + 6] = mask[7 * W + 7] = 1;
    assert_int_equal(motion_label(&labeller, mask, 1, blobs, 8), 1);
    assert_int_equal(blobs[0].area, 3);
    motion_labeller_release(&labeller);
}

static void test_privacy_blackout(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 0, 3);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    size_t luma_size = (size_t)frame.stride_y * (size_t)frame.height;
    size_t chroma_size = (size_t)frame.stride_uv * (size_t)(frame.height / 2);
    uint8_t *before = malloc(luma_size + 2 * chroma_size);
    assert_non_null(before);
    memcpy(before, frame.y, luma_size);
    memcpy(before + luma_size, frame.u, chroma_size);
    memcpy(before + luma_size + chroma_size, frame.v, chroma_size);

    struct motion_config config;
    motion_config_defaults(&config);
    config.mask_count = 1;
    config.masks[0] = (struct motion_polygon){
        4, {{0.25f, 0.25f}, {0.75f, 0.25f}, {0.75f, 0.75f}, {0.25f, 0.75f}}};
    motion_privacy_blackout(&config, &frame);
    /* Pixel centres inside [160, 480) x [90, 270) are black, the rest unchanged. */
    for (int y = 0; y < frame.height; y++) {
        for (int x = 0; x < frame.width; x++) {
            int inside = x >= 160 && x < 480 && y >= 90 && y < 270;
            uint8_t value = frame.y[y * frame.stride_y + x];
            if (inside)
                assert_int_equal(value, 16);
            else
                assert_int_equal(value, before[y * frame.stride_y + x]);
        }
    }
    for (int y = 0; y < frame.height / 2; y++) {
        for (int x = 0; x < frame.width / 2; x++) {
            int inside = x >= 80 && x < 240 && y >= 45 && y < 135;
            size_t i = (size_t)y * (size_t)frame.stride_uv + (size_t)x;
            if (inside) {
                assert_int_equal(frame.u[i], 128);
                assert_int_equal(frame.v[i], 128);
            } else {
                assert_int_equal(frame.u[i], before[luma_size + i]);
                assert_int_equal(frame.v[i], before[luma_size + chroma_size + i]);
            }
        }
    }
    /* A triangle: only its half of the square's pixels. */
    config.masks[0] = (struct motion_polygon){3, {{0.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}}};
    motion_privacy_blackout(&config, &frame);
    assert_int_equal(frame.y[10 * frame.stride_y + 10], 16);
    assert_int_not_equal(frame.y[350 * frame.stride_y + 630], 16);
    free(before);
    camera_close(camera);
}

/* ---- detection against the sim scene ---------------------------------- */

/* 0..50 s of the scripted loop at the camera's default size: the visitor
 * (10..26 s) and the car (30..33 s) are found where the sim drew them. */
static void test_visitor_and_car(void **state)
{
    (void)state;
    struct camera *camera = open_scene(1280, 720, 1, 1);
    struct motion_detector *detector = open_detector_for(NULL, 1280);
    struct scene_stats stats = {0};
    run_scene(camera, detector, 50 * SECOND, 0.003, NULL, &stats);
    printf("visitor and car: %d boxes, %d correct; visitor found in %d frames, car in %d; "
           "%d events\n",
           stats.boxes, stats.correct_boxes, stats.matched_frames[SIM_OBJECT_VISITOR],
           stats.matched_frames[SIM_OBJECT_CAR], stats.events);
    assert_true(stats.matched_frames[SIM_OBJECT_VISITOR] >= 140); /* of 160 frames */
    assert_true(stats.matched_frames[SIM_OBJECT_CAR] >= 20);      /* of 30 */
    assert_int_equal(stats.correct_boxes, stats.boxes);
    /* The visitor, the car; the courier and the parcel left on the mat
     * (motion until absorbed) in one event still going. */
    assert_int_equal(stats.events, 3);
    assert_int_equal(stats.correct_events + (stats.in_event && stats.event_correct), 3);
    assert_int_equal(stats.appearances_found, 3);
    motion_detector_destroy(detector);
    camera_close(camera);
}

/* The lighting triggers alone, by day and by night, at every sensitivity:
 * no motion event. */
static void test_lighting_alone(void **state)
{
    (void)state;
    static const enum camera_trigger triggers[] = {
        CAMERA_TRIGGER_LIGHT_ON,  CAMERA_TRIGGER_LIGHT_OFF, CAMERA_TRIGGER_NIGHT,
        CAMERA_TRIGGER_LIGHT_ON,  CAMERA_TRIGGER_LIGHT_OFF, CAMERA_TRIGGER_DAY,
        CAMERA_TRIGGER_NIGHT,     CAMERA_TRIGGER_LIGHT_ON,  CAMERA_TRIGGER_DAY,
        CAMERA_TRIGGER_LIGHT_OFF,
    };
    static const char *const settings[] = {
        "{\"sensitivity\":\"low\"}",
        "{\"sensitivity\":\"medium\"}",
        "{\"sensitivity\":\"high\",\"min_frames\":2}",
    };
    for (size_t s = 0; s < sizeof(settings) / sizeof(settings[0]); s++) {
        struct camera *camera = open_scene(640, 360, 0, 5);
        struct motion_detector *detector = open_detector(settings[s]);
        struct scene_stats stats = {0};
        int64_t until = 3 * SECOND;
        run_scene(camera, detector, until, 0.003, NULL, &stats);
        for (size_t t = 0; t < sizeof(triggers) / sizeof(triggers[0]); t++) {
            camera_trigger(camera, triggers[t]);
            until += 4 * SECOND;
            run_scene(camera, detector, until, 0.003, NULL, &stats);
        }
        printf("lighting alone, %s: %d frames with boxes of %d, %d events\n", settings[s],
               stats.boxes, stats.frames, stats.events);
        assert_int_equal(stats.events, 0);
        assert_int_equal(stats.active_frames, 0);
        assert_true(stats.boxes <= 3); /* a ramp's last frame at most, now and then */
        motion_detector_destroy(detector);
        camera_close(camera);
    }
}

/* A privacy mask over where the visitor walks: nothing is reported. */
static void test_privacy_mask_hides_motion(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 1, 2);
    struct motion_detector *detector =
        open_detector("{\"masks\":[[[0.15,0.3],[1,0.3],[1,0.95],[0.15,0.95]]]}");
    struct scene_stats stats = {0};
    run_scene(camera, detector, 30 * SECOND, 0.003, NULL, &stats);
    assert_true(stats.positive_frames > 100); /* the visitor was there */
    assert_int_equal(stats.boxes, 0);
    assert_int_equal(stats.events, 0);
    motion_detector_destroy(detector);
    camera_close(camera);
}

/* A zone over the street: the visitor (outside it) is not reported, the
 * car (inside) is, with its box inside the zone. */
static void test_zones(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 1, 2);
    struct motion_detector *detector =
        open_detector("{\"zones\":[[[0,0.15],[1,0.15],[1,0.31],[0,0.31]]]}");
    struct scene_stats stats = {0};
    run_scene(camera, detector, 29 * SECOND, 0.003, NULL, &stats);
    assert_true(stats.positive_frames > 100);
    assert_int_equal(stats.boxes, 0);
    assert_int_equal(stats.events, 0);
    run_scene(camera, detector, 36 * SECOND, 0.003, NULL, &stats);
    assert_true(stats.matched_frames[SIM_OBJECT_CAR] >= 20);
    assert_int_equal(stats.correct_boxes, stats.boxes);
    assert_int_equal(stats.events, 1);
    motion_detector_destroy(detector);
    camera_close(camera);
}

/* A grey box appears at 5 s and stays: motion at first, then learnt. */
static void paint_parked_object(struct camera_frame *frame, int64_t scene_time_us)
{
    if (scene_time_us < 5 * SECOND)
        return;
    int x0 = frame->width * 6 / 10, x1 = frame->width * 8 / 10;
    int y0 = frame->height * 5 / 10, y1 = frame->height * 7 / 10;
    for (int y = y0; y < y1; y++)
        memset(frame->y + (size_t)y * (size_t)frame->stride_y + x0, 60, (size_t)(x1 - x0));
    for (int y = y0 / 2; y < y1 / 2; y++) {
        memset(frame->u + (size_t)y * (size_t)frame->stride_uv + x0 / 2, 128,
               (size_t)(x1 - x0) / 2);
        memset(frame->v + (size_t)y * (size_t)frame->stride_uv + x0 / 2, 128,
               (size_t)(x1 - x0) / 2);
    }
}

static void test_parked_object_absorbed(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 0, 4);
    struct motion_detector *detector = open_detector(NULL);
    struct scene_stats stats = {0};
    run_scene(camera, detector, 6 * SECOND, 0.003, paint_parked_object, &stats);
    assert_int_equal(stats.events, 1);
    assert_true(stats.in_event);
    run_scene(camera, detector, 20 * SECOND, 0.003, paint_parked_object, &stats);
    assert_int_equal(stats.events, 1);
    /* Absorbed after 30 s still, ended after the hold; nothing since. */
    struct scene_stats later = {0};
    run_scene(camera, detector, 40 * SECOND, 0.003, paint_parked_object, &later);
    assert_true(later.active_frames < later.frames);
    struct scene_stats last = {0};
    run_scene(camera, detector, 50 * SECOND, 0.003, paint_parked_object, &last);
    assert_int_equal(last.boxes, 0);
    assert_int_equal(last.events, 0);
    assert_int_equal(last.active_frames, 0);
    motion_detector_destroy(detector);
    camera_close(camera);
}

/* PIR-gated: the visitor and the cat (warm) start events, the car does not.
 * Triggered one after the other (the scripted loop's parcel keeps an event
 * going through the car). */
static void test_pir_gated(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 0, 6);
    struct motion_detector *detector = open_detector("{\"mode\":\"pir\"}");
    struct scene_stats stats = {0};
    run_scene(camera, detector, 2 * SECOND, 0.003, NULL, &stats);
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_VISITOR), 0);
    run_scene(camera, detector, 24 * SECOND, 0.003, NULL, &stats);
    assert_int_equal(stats.events, 1); /* the visitor */
    struct scene_stats car = {0};
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_CAR), 0);
    run_scene(camera, detector, 32 * SECOND, 0.003, NULL, &car);
    assert_true(car.matched_frames[SIM_OBJECT_CAR] >= 20); /* the camera saw it... */
    assert_int_equal(car.events, 0);                       /* ...but no event */
    assert_int_equal(car.active_frames, 0);
    struct scene_stats cat = {0};
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_CAT), 0);
    run_scene(camera, detector, 40 * SECOND, 0.003, NULL, &cat);
    assert_int_equal(cat.events, 1);
    motion_detector_destroy(detector);
    camera_close(camera);
}

/* The 10-minute scripted scene: precision and recall (defined at the top). */
static void test_precision_recall_ten_minutes(void **state)
{
    (void)state;
    struct camera *camera = open_scene(640, 360, 1, 7);
    struct motion_detector *detector = open_detector(NULL);
    struct scene_stats stats = {0};
    run_scene(camera, detector, 5 * SIM_SCENE_LOOP_US, 0.003, NULL, &stats);
    stats.correct_events += stats.in_event && stats.event_correct; /* one still going */
    double box_precision = (double)stats.correct_boxes / stats.boxes;
    double frame_recall = (double)stats.found_frames / stats.positive_frames;
    double event_precision = (double)stats.correct_events / stats.events;
    double event_recall = (double)stats.appearances_found / stats.appearances;
    printf("10-minute scene, %d frames: box precision %.4f (%d/%d), frame recall %.4f (%d/%d), "
           "event precision %.4f (%d/%d), event recall %.4f (%d/%d)\n",
           stats.frames, box_precision, stats.correct_boxes, stats.boxes, frame_recall,
           stats.found_frames, stats.positive_frames, event_precision, stats.correct_events,
           stats.events, event_recall, stats.appearances_found, stats.appearances);
    assert_int_equal(stats.appearances, 25);
    assert_true(box_precision >= 0.95);
    assert_true(frame_recall >= 0.8);
    assert_true(event_precision >= 0.95);
    assert_true(event_recall >= 0.8);
    motion_detector_destroy(detector);
    camera_close(camera);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_round_trip),
        cmocka_unit_test(test_config_rejects_bad_input),
        cmocka_unit_test(test_fusion),
        cmocka_unit_test(test_downscale),
        cmocka_unit_test(test_open_and_label),
        cmocka_unit_test(test_privacy_blackout),
        cmocka_unit_test(test_visitor_and_car),
        cmocka_unit_test(test_lighting_alone),
        cmocka_unit_test(test_privacy_mask_hides_motion),
        cmocka_unit_test(test_zones),
        cmocka_unit_test(test_parked_object_absorbed),
        cmocka_unit_test(test_pir_gated),
        cmocka_unit_test(test_precision_recall_ten_minutes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
