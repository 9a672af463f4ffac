/*
 * test_camera_backends.c - unit tests of the non-sim camera back-ends: the
 * file replay ("file:PATH.y4m": header parsing, looping at the end of the
 * file, stamping, refusal of unsupported files) and V4L2 (pixel format
 * conversions to I420 and error paths; no device needed).
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/camera.h"
#include "camera/camera_backend.h"
#include "camera/frame_stamp.h"
#include "camera/sim_scene.h"

#define WIDTH  640
#define HEIGHT 360

/* Write a y4m file with `frames` frames; frame i has luma 40 + 50 * i and
 * chroma 100 + i. Returns the path in a static buffer (caller unlinks). */
static const char *write_y4m(const char *header, int frames, int truncate_last)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/doorstep-y4m-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "wb");
    assert_non_null(file);
    fputs(header, file);
    size_t luma = (size_t)WIDTH * HEIGHT;
    uint8_t *plane = malloc(luma);
    assert_non_null(plane);
    for (int i = 0; i < frames; i++) {
        fputs(i == 1 ? "FRAME Ixyz\n" : "FRAME\n", file);
        memset(plane, 40 + 50 * i, luma);
        fwrite(plane, 1, luma, file);
        memset(plane, 100 + i, luma / 2);
        size_t chroma = truncate_last && i == frames - 1 ? luma / 4 : luma / 2;
        fwrite(plane, 1, chroma, file);
    }
    free(plane);
    fclose(file);
    return path;
}

static struct camera *open_file(const char *path, char *error, size_t error_size)
{
    char source[128];
    snprintf(source, sizeof(source), "file:%s", path);
    struct camera_config config = {.source = source, .unpaced = 1};
    return camera_open(&config, error, error_size);
}

static void test_replay_loops(void **state)
{
    (void)state;
    const char *path =
        write_y4m("YUV4MPEG2 W640 H360 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n", 3, 0);
    char error[256] = "";
    struct camera *camera = open_file(path, error, sizeof(error));
    assert_non_null(camera);
    for (uint32_t i = 0; i < 8; i++) {
        struct camera_frame frame;
        assert_int_equal(camera_capture(camera, &frame), 0);
        assert_int_equal(frame.width, WIDTH);
        assert_int_equal(frame.height, HEIGHT);
        assert_int_equal(frame.sequence, i);
        int index = (int)(i % 3);
        /* Content outside the stamp band is the file's. */
        assert_int_equal(frame.y[(HEIGHT - 1) * frame.stride_y + WIDTH - 1], 40 + 50 * index);
        assert_int_equal(frame.u[(HEIGHT / 2 - 1) * frame.stride_uv], 100 + index);
        uint64_t stamp_ms = 0;
        uint16_t stamp_sequence = 0;
        assert_int_equal(frame_stamp_read(frame.y, frame.stride_y, &stamp_ms, &stamp_sequence), 0);
        assert_true(stamp_ms == frame.capture_time_us / 1000);
        assert_int_equal(stamp_sequence, i);
    }
    /* No triggers, no ground truth, no rescaling; the rate may change. */
    assert_int_equal(camera_trigger(camera, CAMERA_TRIGGER_VISITOR), -1);
    struct sim_object_box boxes[2];
    assert_int_equal(camera_sim_ground_truth(camera, boxes, 2), -1);
    assert_int_equal(camera_reconfigure(camera, 1280, 720, 25), -1);
    assert_int_equal(camera_reconfigure(camera, WIDTH, HEIGHT, 15), 0);
    camera_close(camera);
    unlink(path);
}

static void test_replay_without_colour_tag(void **state)
{
    (void)state;
    const char *path = write_y4m("YUV4MPEG2 W640 H360 F30000:1001\n", 1, 0);
    char error[256];
    struct camera *camera = open_file(path, error, sizeof(error));
    assert_non_null(camera);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(frame.sequence, 1);
    assert_int_equal(frame.y[(HEIGHT - 1) * frame.stride_y], 40);
    camera_close(camera);
    unlink(path);
}

static void check_refused(const char *header, int frames, int truncate_last, const char *reason)
{
    const char *path = write_y4m(header, frames, truncate_last);
    char error[256] = "";
    assert_null(open_file(path, error, sizeof(error)));
    if (strstr(error, reason) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", error, reason);
    unlink(path);
}

static void test_replay_refuses_bad_files(void **state)
{
    (void)state;
    check_refused("YUV4MPEG2 W640 H360 F30:1 C444\n", 1, 0, "C444");
    check_refused("YUV4MPEG2 W640 H360 F30:1 C420p10\n", 1, 0, "C420p10");
    check_refused("YUV4MPEG2 W641 H360 F30:1\n", 1, 0, "size");
    check_refused("YUV4MPEG2 H360 F30:1\n", 1, 0, "size");
    check_refused("RIFF W640 H360\n", 1, 0, "YUV4MPEG2");
    check_refused("YUV4MPEG2 W640 H360 F30:1\n", 0, 0, "frame");
    check_refused("YUV4MPEG2 W640 H360 F30:1\n", 1, 1, "frame");
    char error[256] = "";
    assert_null(open_file("/nonexistent/clip.y4m", error, sizeof(error)));
    assert_non_null(strstr(error, "/nonexistent/clip.y4m"));
}

static void test_truncated_loop_reports_error(void **state)
{
    (void)state;
    /* Two good frames then a cut-off one: the first two play, then an error. */
    const char *path = write_y4m("YUV4MPEG2 W640 H360 F30:1\n", 3, 1);
    char error[256];
    struct camera *camera = open_file(path, error, sizeof(error));
    assert_non_null(camera);
    struct camera_frame frame;
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_capture(camera, &frame), 0);
    assert_int_equal(camera_capture(camera, &frame), -1);
    camera_close(camera);
    unlink(path);
}

static void test_v4l2_errors(void **state)
{
    (void)state;
    char error[256] = "";
    struct camera_config config = {.source = "v4l2:/dev/nonexistent-video"};
    assert_null(camera_open(&config, error, sizeof(error)));
    assert_non_null(strstr(error, "/dev/nonexistent-video"));
    config.source = "v4l2:/dev/null";
    error[0] = '\0';
    assert_null(camera_open(&config, error, sizeof(error)));
    assert_non_null(strstr(error, "not a V4L2 device"));
}

/* Value of test pixel (x, y) in plane `plane` (0 = Y, 1 = U, 2 = V). */
static uint8_t sample(int plane, int x, int y)
{
    return (uint8_t)(plane * 70 + x * 3 + y * 11);
}

static void test_v4l2_convert_yuyv(void **state)
{
    (void)state;
    enum { W = 8, H = 4, STRIDE = 2 * W + 6 };
    uint8_t packed[STRIDE * H];
    memset(packed, 0xee, sizeof(packed));
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x += 2) {
            uint8_t *pair = packed + y * STRIDE + 2 * x;
            pair[0] = sample(0, x, y);
            pair[1] = sample(1, x / 2, y);
            pair[2] = sample(0, x + 1, y);
            pair[3] = sample(2, x / 2, y);
        }
    }
    uint8_t out[W * H * 3 / 2];
    uint8_t *luma = out, *u = out + W * H, *v = u + W * H / 4;
    camera_v4l2_convert_yuyv(packed, STRIDE, W, H, luma, u, v);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            assert_int_equal(luma[y * W + x], sample(0, x, y));
    for (int y = 0; y < H / 2; y++) {
        for (int x = 0; x < W / 2; x++) {
            /* 4:2:2 to 4:2:0: the two rows' chroma averaged, rounded up. */
            assert_int_equal(u[y * W / 2 + x],
                             (sample(1, x, 2 * y) + sample(1, x, 2 * y + 1) + 1) / 2);
            assert_int_equal(v[y * W / 2 + x],
                             (sample(2, x, 2 * y) + sample(2, x, 2 * y + 1) + 1) / 2);
        }
    }
}

static void test_v4l2_convert_planar(void **state)
{
    (void)state;
    enum { W = 8, H = 4, STRIDE = 12 };
    uint8_t source[STRIDE * H * 3 / 2];
    uint8_t out[W * H * 3 / 2];
    uint8_t *luma = out, *u = out + W * H, *v = u + W * H / 4;
    for (int interleaved = 0; interleaved <= 1; interleaved++) {
        memset(source, 0xee, sizeof(source));
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                source[y * STRIDE + x] = sample(0, x, y);
        uint8_t *chroma = source + STRIDE * H;
        for (int y = 0; y < H / 2; y++) {
            for (int x = 0; x < W / 2; x++) {
                if (interleaved) {
                    chroma[y * STRIDE + 2 * x] = sample(1, x, y);
                    chroma[y * STRIDE + 2 * x + 1] = sample(2, x, y);
                } else {
                    chroma[y * STRIDE / 2 + x] = sample(1, x, y);
                    chroma[STRIDE / 2 * H / 2 + y * STRIDE / 2 + x] = sample(2, x, y);
                }
            }
        }
        camera_v4l2_convert_planar(source, STRIDE, W, H, interleaved, luma, u, v);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                assert_int_equal(luma[y * W + x], sample(0, x, y));
        for (int y = 0; y < H / 2; y++) {
            for (int x = 0; x < W / 2; x++) {
                assert_int_equal(u[y * W / 2 + x], sample(1, x, y));
                assert_int_equal(v[y * W / 2 + x], sample(2, x, y));
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_loops),
        cmocka_unit_test(test_replay_without_colour_tag),
        cmocka_unit_test(test_replay_refuses_bad_files),
        cmocka_unit_test(test_truncated_loop_reports_error),
        cmocka_unit_test(test_v4l2_errors),
        cmocka_unit_test(test_v4l2_convert_yuyv),
        cmocka_unit_test(test_v4l2_convert_planar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
