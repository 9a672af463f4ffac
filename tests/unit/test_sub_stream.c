/*
 * test_sub_stream.c - unit tests of the doorbell's sub-stream and
 * still-scene rule: frame picking by capture time (even output, jitter, a
 * gap), fitting the sub size to the camera's picture, box-filtering the
 * Y, U and V planes, the encoder's life (off until wanted, keyframe first,
 * freed when off, keyframe requests) and the still-scene transitions and
 * bitrates; encoder_restart (a fresh IDR at a new bitrate).
 *
 * UNIT_SOURCES: firmware/encoder/sub_stream.c firmware/encoder/still_scene.c
 * UNIT_SOURCES: firmware/encoder/encoder.c firmware/motion/motion_image.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encoder/encoder.h"
#include "encoder/still_scene.h"
#include "encoder/sub_stream.h"
#include "motion/motion_image.h"

#define FRAME_US 33333ull /* 30 fps */

/* An I420 frame of width x height in one block; free frame->y. */
static void frame_alloc(struct camera_frame *frame, int width, int height)
{
    uint8_t *buffer = malloc((size_t)width * height * 3 / 2);
    assert_non_null(buffer);
    *frame = (struct camera_frame){
        .y = buffer,
        .u = buffer + width * height,
        .v = buffer + width * height * 5 / 4,
        .width = width,
        .height = height,
        .stride_y = width,
        .stride_uv = width / 2,
    };
}

/* 15 of 30 fps keeps every other frame, also with capture times that wobble
 * by up to 6 ms; 10 of 30 every third; 30 of 30 all. */
static void test_pacer_even(void **state)
{
    (void)state;
    static const int wobble[] = {0, 4, -6, 5, -3, 6, -5, 2, 0, -4};
    struct sub_stream_pacer pacer = {0};
    int kept = 0;

    for (int i = 0; i < 300; i++) {
        uint64_t t = 1000000000ull + i * FRAME_US;
        int take = sub_stream_pacer_take(&pacer, t, 30, 15);
        assert_int_equal(take, i % 2 == 0);
        kept += take;
    }
    assert_int_equal(kept, 150);

    memset(&pacer, 0, sizeof(pacer));
    for (int i = 0; i < 300; i++) {
        uint64_t t = 1000000000ull + i * FRAME_US + (int64_t)wobble[i % 10] * 1000;
        assert_int_equal(sub_stream_pacer_take(&pacer, t, 30, 15), i % 2 == 0);
    }

    memset(&pacer, 0, sizeof(pacer));
    for (int i = 0; i < 90; i++)
        assert_int_equal(sub_stream_pacer_take(&pacer, 5000000ull + i * FRAME_US, 30, 10),
                         i % 3 == 0);

    memset(&pacer, 0, sizeof(pacer));
    for (int i = 0; i < 30; i++)
        assert_true(sub_stream_pacer_take(&pacer, 5000000ull + i * FRAME_US, 30, 30));
}

/* After a gap in capture the pacer starts again at the next frame, and
 * keeps the average rate over uneven capture. */
static void test_pacer_gap(void **state)
{
    (void)state;
    struct sub_stream_pacer pacer = {0};
    uint64_t t = 1000000000ull;

    assert_true(sub_stream_pacer_take(&pacer, t, 30, 15));
    assert_false(sub_stream_pacer_take(&pacer, t + FRAME_US, 30, 15));
    t += 2000000; /* two seconds without frames */
    assert_true(sub_stream_pacer_take(&pacer, t, 30, 15));
    assert_false(sub_stream_pacer_take(&pacer, t + FRAME_US, 30, 15));
    assert_true(sub_stream_pacer_take(&pacer, t + 2 * FRAME_US, 30, 15));
}

static void test_fit(void **state)
{
    (void)state;
    int width = 0, height = 0;

    assert_int_equal(sub_stream_fit(1280, 720, 640, 360, &width, &height), 0);
    assert_int_equal(width, 640);
    assert_int_equal(height, 360);
    assert_int_equal(sub_stream_fit(1920, 1080, 640, 360, &width, &height), 0);
    assert_int_equal(width, 640);
    assert_int_equal(height, 360);
    /* 4:3 into a 16:9 box: the height fills it, the aspect stays. */
    assert_int_equal(sub_stream_fit(1280, 960, 640, 360, &width, &height), 0);
    assert_int_equal(width, 480);
    assert_int_equal(height, 360);
    /* Not larger than the box: no sub-stream. */
    assert_int_equal(sub_stream_fit(640, 360, 640, 360, &width, &height), -1);
    assert_int_equal(sub_stream_fit(320, 240, 640, 360, &width, &height), -1);
    /* More than the scaler's factor: none either. */
    assert_int_equal(sub_stream_fit(3840, 2160, 64, 36, &width, &height), -1);
}

/* Each plane is scaled on its own: flat planes stay flat with their own
 * value, a left/right split keeps its halves, the frame's sequence and
 * capture time go along. */
static void test_scale_three_planes(void **state)
{
    (void)state;
    struct camera_frame source, target;
    struct motion_scaler scalers[3];

    memset(scalers, 0, sizeof(scalers));
    frame_alloc(&source, 1280, 720);
    frame_alloc(&target, 640, 360);
    for (int y = 0; y < 720; y++)
        for (int x = 0; x < 1280; x++)
            source.y[y * 1280 + x] = x < 640 ? 20 : 220;
    memset(source.u, 90, 640 * 360);
    memset(source.v, 170, 640 * 360);
    source.sequence = 77;
    source.capture_time_us = 123456789;
    assert_int_equal(sub_stream_scale_frame(scalers, &source, &target), 0);
    for (int y = 0; y < 360; y++)
        for (int x = 0; x < 640; x++)
            assert_int_equal(target.y[y * 640 + x], x < 320 ? 20 : 220);
    for (int i = 0; i < 320 * 180; i++) {
        assert_int_equal(target.u[i], 90);
        assert_int_equal(target.v[i], 170);
    }
    assert_int_equal(target.sequence, 77);
    assert_int_equal(target.capture_time_us, 123456789);
    /* 3:1 (1920x1080 -> 640x360) averages 3x3 blocks. */
    free(source.y);
    frame_alloc(&source, 1920, 1080);
    for (int i = 0; i < 1920 * 1080; i++)
        source.y[i] = (uint8_t)((i % 1920) % 3 == 0 ? 30 : 60); /* mean 50 */
    memset(source.u, 100, 960 * 540);
    memset(source.v, 150, 960 * 540);
    assert_int_equal(sub_stream_scale_frame(scalers, &source, &target), 0);
    assert_int_equal(target.y[1000], 50);
    assert_int_equal(target.u[1000], 100);
    assert_int_equal(target.v[1000], 150);
    for (int i = 0; i < 3; i++)
        motion_scaler_release(&scalers[i]);
    free(source.y);
    free(target.y);
}

/* Off until wanted; on: the first frame is a keyframe at the sub size with
 * the camera frame's sequence and time, then every other frame; a keyframe
 * request is honoured; off frees the encoder; on again starts on a
 * keyframe. */
static void test_sub_stream_life(void **state)
{
    (void)state;
    struct sub_stream_config config = {640, 360, 15, 300, "ultrafast"};
    struct sub_stream *sub = sub_stream_create(&config, 1280, 720);
    struct sub_stream_stats stats;
    struct encoded_frame out;
    struct camera_frame frame;
    int encoded = 0;

    assert_non_null(sub);
    assert_null(sub_stream_create(&config, 640, 360));
    frame_alloc(&frame, 1280, 720);
    memset(frame.y, 80, 1280 * 720 * 3 / 2);
    frame.capture_time_us = 1000000000ull;
    assert_int_equal(sub_stream_encode(sub, &frame, 30, &out), 0);
    sub_stream_get_stats(sub, &stats);
    assert_int_equal(stats.on, 0);
    assert_int_equal(stats.width, 640);

    sub_stream_set_wanted(sub, 1);
    for (uint32_t i = 0; i < 20; i++) {
        frame.sequence = 100 + i;
        frame.capture_time_us = 1000000000ull + i * FRAME_US;
        frame.y[i * 1000] ^= 0xff; /* something changes */
        int rc = sub_stream_encode(sub, &frame, 30, &out);
        assert_int_equal(rc, i % 2 == 0);
        if (rc == 1) {
            assert_int_equal(out.sequence, frame.sequence);
            assert_int_equal(out.capture_time_us, frame.capture_time_us);
            assert_int_equal(out.keyframe, i == 0);
            encoded++;
        }
    }
    sub_stream_get_stats(sub, &stats);
    assert_int_equal(stats.on, 1);
    assert_int_equal(stats.frames_encoded, (uint64_t)encoded);
    assert_int_equal(stats.fps, 15);

    sub_stream_request_keyframe(sub);
    frame.capture_time_us += 2 * FRAME_US;
    assert_int_equal(sub_stream_encode(sub, &frame, 30, &out), 1);
    assert_int_equal(out.keyframe, 1);

    sub_stream_set_wanted(sub, 0);
    frame.capture_time_us += 2 * FRAME_US;
    assert_int_equal(sub_stream_encode(sub, &frame, 30, &out), 0);
    sub_stream_get_stats(sub, &stats);
    assert_int_equal(stats.on, 0);

    sub_stream_set_wanted(sub, 1);
    sub_stream_request_format(sub, 200, 0, 0, 0);
    frame.capture_time_us += 2 * FRAME_US;
    assert_int_equal(sub_stream_encode(sub, &frame, 30, &out), 1);
    assert_int_equal(out.keyframe, 1);
    sub_stream_get_stats(sub, &stats);
    assert_int_equal(stats.bitrate_kbps, 200);
    sub_stream_destroy(sub);
    free(frame.y);
}

static void test_still_scene(void **state)
{
    (void)state;
    struct still_scene scene;

    still_scene_init(&scene, 10, 25);
    assert_int_equal(still_scene_update(&scene, 9000000, 0), 0);
    assert_int_equal(still_scene_bitrate(&scene, 2000), 2000);
    assert_int_equal(still_scene_update(&scene, 10000000, 0), -1);
    assert_int_equal(still_scene_bitrate(&scene, 2000), 500);
    assert_int_equal(still_scene_update(&scene, 11000000, 0), 0);
    /* Activity: active again at once. */
    assert_int_equal(still_scene_update(&scene, 12000000, 12000000), 1);
    assert_int_equal(still_scene_bitrate(&scene, 2000), 2000);
    assert_int_equal(still_scene_update(&scene, 21000000, 12000000), 0);
    assert_int_equal(still_scene_update(&scene, 22000000, 12000000), -1);
    /* Never below what x264 takes. */
    assert_int_equal(still_scene_bitrate(&scene, 100), STILL_SCENE_MIN_KBPS);
    /* 0 % is off. */
    still_scene_init(&scene, 1, 0);
    assert_int_equal(still_scene_update(&scene, 100000000, 0), 0);
    assert_int_equal(still_scene_bitrate(&scene, 2000), 2000);
}

/* encoder_restart: the next frame is an IDR at the new bitrate. */
static void test_encoder_restart(void **state)
{
    (void)state;
    struct encoder_config config = {320, 180, 15, 200, 30, "ultrafast"};
    struct encoder *encoder = encoder_open(&config, NULL, 0);
    struct camera_frame frame;
    struct encoded_frame out;

    assert_non_null(encoder);
    frame_alloc(&frame, 320, 180);
    memset(frame.y, 100, 320 * 180 * 3 / 2);
    for (int i = 0; i < 3; i++) {
        frame.y[i] ^= 0x40;
        assert_int_equal(encoder_encode(encoder, &frame, &out), 0);
        assert_int_equal(out.keyframe, i == 0);
    }
    assert_int_equal(encoder_restart(encoder, 800), 0);
    assert_int_equal(encoder_encode(encoder, &frame, &out), 0);
    assert_int_equal(out.keyframe, 1);
    assert_int_equal(encoder_encode(encoder, &frame, &out), 0);
    assert_int_equal(out.keyframe, 0);
    encoder_close(encoder);
    free(frame.y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacer_even),
        cmocka_unit_test(test_pacer_gap),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_scale_three_planes),
        cmocka_unit_test(test_sub_stream_life),
        cmocka_unit_test(test_still_scene),
        cmocka_unit_test(test_encoder_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
