/*
 * test_h264.c - unit tests of the H.264 Annex B reader (appliance/media/h264.c)
 * on real streams and on access units: NAL iteration edge cases (start code
 * lengths, leading and trailing zeros, garbage, empty NALs,
 * forbidden_zero_bit), SPS parsing of real x264 output (the firmware's
 * encoder on the sim camera, and ffmpeg's libx264 for 4:2:2 10-bit, 4:4:4,
 * interlaced and custom scaling matrices), and access unit conversion with
 * its error cases. Hand-made SPS are tested in test_h264_sps.c.
 *
 * Single-threaded; temporary files live in a mkdtemp() directory that each
 * test removes.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c appliance/media/h264.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_files.h"

#include "camera/camera.h"
#include "encoder/encoder.h"
#include "media/h264.h"

extern char **environ;

/* ---- helpers: x264 via the firmware encoder and via ffmpeg -------------- */

/* Encode `count` sim-camera frames at 640x360; calls back with each AU. */
static void encode_sim(int count, const char *preset,
                       void (*each)(const struct encoded_frame *frame, void *context),
                       void *context)
{
    char error[256] = "";
    struct camera_config camera_config = {
        .source = "sim", .width = 640, .height = 360, .fps = 30, .seed = 7, .unpaced = 1};
    struct camera *camera = camera_open(&camera_config, error, sizeof(error));
    if (camera == NULL)
        fail_msg("camera_open: %s", error);
    struct encoder_config encoder_config = {
        .width = 640, .height = 360, .fps = 30, .keyframe_interval = 30, .preset = preset};
    struct encoder *encoder = encoder_open(&encoder_config, error, sizeof(error));
    if (encoder == NULL)
        fail_msg("encoder_open: %s", error);
    for (int i = 0; i < count; i++) {
        struct camera_frame frame;
        struct encoded_frame encoded;
        assert_int_equal(camera_capture(camera, &frame), 0);
        assert_int_equal(encoder_encode(encoder, &frame, &encoded), 0);
        each(&encoded, context);
    }
    encoder_close(encoder);
    camera_close(camera);
}

/* Run argv (no shell) with stdout and stderr to files; returns the exit status. */
static int run_tool(char *const argv[], const char *stdout_path, const char *stderr_path)
{
    posix_spawn_file_actions_t actions;
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    assert_int_equal(rc, 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Encode a 2-frame clip with ffmpeg's libx264 and return its Annex B bytes. */
static uint8_t *ffmpeg_h264(const char *size_arg, const char *pix_fmt, const char *x264_params,
                            size_t *out_size)
{
    char directory[] = "/tmp/test_h264.XXXXXX";
    assert_non_null(mkdtemp(directory));
    char input[128], output[128], out_log[128], err_log[128];
    snprintf(input, sizeof(input), "testsrc=s=%s:r=5", size_arg);
    snprintf(output, sizeof(output), "%s/clip.h264", directory);
    snprintf(out_log, sizeof(out_log), "%s/stdout", directory);
    snprintf(err_log, sizeof(err_log), "%s/stderr", directory);
    char *argv[] = {
        "ffmpeg",       "-nostdin",          "-v", "error", "-f",      "lavfi",    "-i",
        input,          "-frames:v",         "2",  "-c:v",  "libx264", "-pix_fmt", (char *)pix_fmt,
        "-x264-params", (char *)x264_params, "-f", "h264",  output,    NULL};
    assert_int_equal(run_tool(argv, out_log, err_log), 0);
    uint8_t *data = test_read_file(output, out_size);
    unlink(output);
    unlink(out_log);
    unlink(err_log);
    rmdir(directory);
    return data;
}

/* Find the first SPS in an Annex B stream and parse it. */
static void parse_first_sps(const uint8_t *data, size_t size, struct h264_sps_info *info)
{
    size_t offset = 0;
    struct h264_nal nal;
    char error[128] = "";
    while (h264_next_nal(data, size, &offset, &nal) == 1) {
        if (nal.type == H264_NAL_SPS) {
            if (h264_parse_sps(nal.data, nal.size, info, error, sizeof(error)) != 0)
                fail_msg("h264_parse_sps: %s", error);
            return;
        }
    }
    fail_msg("no SPS in the stream");
}

/* ---- NAL iteration ------------------------------------------------------ */

/* Collect the NALs of a buffer; returns the iterator's final result. */
static int collect(const uint8_t *data, size_t size, struct h264_nal *nals, int max, int *count)
{
    size_t offset = 0;
    int result;
    *count = 0;
    while ((result = h264_next_nal(data, size, &offset, &nals[*count])) == 1) {
        assert_true(*count < max);
        (*count)++;
    }
    return result;
}

static void test_nal_start_codes(void **state)
{
    (void)state;
    /* 4-byte, 3-byte, extra leading zeros and trailing zeros at the end. */
    static const uint8_t stream[] = {0, 0, 0, 1, 0x09, 0xF0, 0,    0, 1, 0x67, 0x42, 0x1E,
                                     0, 0, 0, 0, 1,    0x68, 0xCE, 0, 0, 0,    0};
    struct h264_nal nals[4];
    int count;
    assert_int_equal(collect(stream, sizeof(stream), nals, 4, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(nals[0].type, H264_NAL_AUD);
    assert_int_equal(nals[0].size, 2);
    assert_ptr_equal(nals[0].data, stream + 4);
    assert_int_equal(nals[1].type, H264_NAL_SPS);
    assert_int_equal(nals[1].size, 3);
    assert_int_equal(nals[2].type, H264_NAL_PPS);
    assert_int_equal(nals[2].size, 2);

    /* Leading zero bytes before the first start code are allowed. */
    static const uint8_t leading[] = {0, 0, 0, 0, 0, 1, 0x65, 0x88};
    assert_int_equal(collect(leading, sizeof(leading), nals, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(nals[0].size, 2);

    /* Escaped 00 00 03 stays inside one NAL; 00 00 02 ends nothing either. */
    static const uint8_t escaped[] = {0, 0, 1, 0x06, 0, 0, 3, 1, 0, 0, 3, 0, 0x80};
    assert_int_equal(collect(escaped, sizeof(escaped), nals, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(nals[0].size, sizeof(escaped) - 3);

    /* Nothing, or only zeros: no NAL, no error. */
    size_t offset = 0;
    struct h264_nal nal;
    assert_int_equal(h264_next_nal(escaped, 0, &offset, &nal), 0);
    static const uint8_t zeros[] = {0, 0, 0};
    offset = 0;
    assert_int_equal(h264_next_nal(zeros, sizeof(zeros), &offset, &nal), 0);
}

static void test_nal_malformed(void **state)
{
    (void)state;
    struct h264_nal nals[4];
    int count;
    static const uint8_t garbage[] = {0xFF, 0, 0, 1, 0x65, 0x88};
    assert_int_equal(collect(garbage, sizeof(garbage), nals, 4, &count), -1);
    assert_int_equal(count, 0);
    static const uint8_t one_zero[] = {0, 1, 0x65, 0x88};
    assert_int_equal(collect(one_zero, sizeof(one_zero), nals, 4, &count), -1);
    static const uint8_t empty_nal[] = {0, 0, 1, 0, 0, 1, 0x65, 0x88};
    assert_int_equal(collect(empty_nal, sizeof(empty_nal), nals, 4, &count), -1);
    static const uint8_t start_at_end[] = {0, 0, 1, 0x65, 0x88, 0, 0, 1};
    assert_int_equal(collect(start_at_end, sizeof(start_at_end), nals, 4, &count), -1);
    assert_int_equal(count, 1);
    static const uint8_t zeros_after_start[] = {0, 0, 1, 0, 0};
    assert_int_equal(collect(zeros_after_start, sizeof(zeros_after_start), nals, 4, &count), -1);
    static const uint8_t forbidden[] = {0, 0, 1, 0xE5, 0x88};
    assert_int_equal(collect(forbidden, sizeof(forbidden), nals, 4, &count), -1);
    /* 00 00 00 02 is neither a start code nor NAL content. */
    static const uint8_t bad_gap[] = {0, 0, 1, 0x65, 0x88, 0, 0, 0, 2, 0x41};
    assert_int_equal(collect(bad_gap, sizeof(bad_gap), nals, 4, &count), -1);
    /* Bad arguments. */
    size_t offset = 100;
    struct h264_nal nal;
    assert_int_equal(h264_next_nal(forbidden, sizeof(forbidden), &offset, &nal), -1);
    offset = 0;
    assert_int_equal(h264_next_nal(NULL, 4, &offset, &nal), -1);
}

/* ---- SPS ---------------------------------------------------------------- */

struct first_keyframe {
    int frames;
    struct h264_access_unit idr, p;
};

static void keep_first_two(const struct encoded_frame *frame, void *context)
{
    struct first_keyframe *first = context;
    char error[128] = "";
    struct h264_access_unit *unit = first->frames == 0 ? &first->idr : &first->p;
    if (first->frames < 2) {
        if (h264_access_unit_convert(frame->data, frame->size, unit, error, sizeof(error)) != 0)
            fail_msg("convert: %s", error);
        /* sps/pps point into the encoder's buffer: copy them out. */
        if (unit->sps != NULL) {
            uint8_t *copy = malloc(unit->sps_size + unit->pps_size);
            assert_non_null(copy);
            memcpy(copy, unit->sps, unit->sps_size);
            memcpy(copy + unit->sps_size, unit->pps, unit->pps_size);
            unit->sps = copy;
            unit->pps = copy + unit->sps_size;
        }
    }
    first->frames++;
}

/* Walk AVCC: every length fits, NAL types are slices or SEI; returns slices. */
static int check_avcc(const struct h264_access_unit *unit)
{
    size_t at = 0;
    int slices = 0;
    while (at < unit->avcc_size) {
        assert_true(unit->avcc_size - at >= 5);
        const uint8_t *p = unit->avcc + at;
        size_t length = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        assert_true(length >= 1 && length <= unit->avcc_size - at - 4);
        int type = p[4] & 0x1F;
        assert_true(type == H264_NAL_SLICE || type == H264_NAL_IDR || type == H264_NAL_SEI);
        slices += type != H264_NAL_SEI;
        at += 4 + length;
    }
    assert_int_equal(at, unit->avcc_size);
    return slices;
}

static void test_x264_access_units(void **state)
{
    (void)state;
    struct first_keyframe first = {0};
    encode_sim(2, "veryfast", keep_first_two, &first);
    assert_true(first.idr.is_idr);
    assert_non_null(first.idr.sps);
    assert_non_null(first.idr.pps);
    assert_int_equal(first.idr.slice_count, 1);
    assert_int_equal(check_avcc(&first.idr), 1);
    assert_false(first.p.is_idr);
    assert_null(first.p.sps);
    assert_null(first.p.pps);
    assert_int_equal(first.p.slice_count, 1);
    assert_int_equal(check_avcc(&first.p), 1);

    struct h264_sps_info info;
    char error[128] = "";
    if (h264_parse_sps(first.idr.sps, first.idr.sps_size, &info, error, sizeof(error)) != 0)
        fail_msg("h264_parse_sps: %s", error);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 360);
    assert_int_equal(info.profile_idc, 100); /* the encoder applies "high" */
    assert_int_equal(info.profile_idc, first.idr.sps[1]);
    assert_int_equal(info.constraint_flags, first.idr.sps[2]);
    assert_int_equal(info.level_idc, first.idr.sps[3]);
    assert_int_equal(info.chroma_format_idc, 1);
    assert_int_equal(info.bit_depth_luma, 8);
    assert_int_equal(info.bit_depth_chroma, 8);
    char codecs[16], expected[16];
    h264_codecs_string(&info, codecs);
    snprintf(expected, sizeof(expected), "avc1.%02X%02X%02X", first.idr.sps[1], first.idr.sps[2],
             first.idr.sps[3]);
    assert_string_equal(codecs, expected);
    assert_int_equal(strncmp(codecs, "avc1.64", 7), 0);

    free((void *)first.idr.sps);
    h264_access_unit_free(&first.idr);
    h264_access_unit_free(&first.p);
    assert_null(first.idr.avcc);
    h264_access_unit_free(&first.p); /* twice is harmless */
    h264_access_unit_free(NULL);
}

static void test_ffmpeg_sps_variants(void **state)
{
    (void)state;
    static const struct {
        const char *size, *pix_fmt, *params;
        int width, height, profile, chroma, depth;
    } cases[] = {
        {"170x90", "yuv422p10le", "bframes=2", 170, 90, 122, 2, 10},
        {"170x90", "yuv444p", "cqm=jvt", 170, 90, 244, 3, 8},
        {"176x100", "yuv420p", "interlaced=1", 176, 100, 100, 1, 8},
        {"162x94", "yuv420p",
         "cqm8iy=6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,"
         "33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,"
         "62,63,64,65,66,67,68,69",
         162, 94, 100, 1, 8},
        {"128x64", "yuv420p", "cabac=0:8x8dct=0:bframes=0:weightp=0", 128, 64, 66, 1, 8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t size = 0;
        uint8_t *data = ffmpeg_h264(cases[i].size, cases[i].pix_fmt, cases[i].params, &size);
        struct h264_sps_info info;
        parse_first_sps(data, size, &info);
        assert_int_equal(info.width, cases[i].width);
        assert_int_equal(info.height, cases[i].height);
        assert_int_equal(info.profile_idc, cases[i].profile);
        assert_int_equal(info.chroma_format_idc, cases[i].chroma);
        assert_int_equal(info.bit_depth_luma, cases[i].depth);
        assert_int_equal(info.bit_depth_chroma, cases[i].depth);
        free(data);
    }
}

/* ---- access unit conversion -------------------------------------------- */

static const uint8_t aud[] = {0x09, 0xF0};
static const uint8_t sps[] = {0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5};
static const uint8_t pps[] = {0x68, 0xCE, 0x3C, 0x80};
static const uint8_t sei[] = {0x06, 0x05, 0x01, 0x00, 0x80};
static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00, 0x33, 0xFF};
static const uint8_t slice[] = {0x41, 0x9A, 0x02, 0x0C};

/* Build an Annex B buffer from NALs (4-byte start codes on the first). */
static size_t annexb(uint8_t *out, const uint8_t *const *nals, const size_t *sizes, int count)
{
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        static const uint8_t four[] = {0, 0, 0, 1};
        size_t start_code = i == 0 ? 4 : 3;
        memcpy(out + at, four + 4 - start_code, start_code);
        at += start_code;
        memcpy(out + at, nals[i], sizes[i]);
        at += sizes[i];
    }
    return at;
}

static void test_convert_idr(void **state)
{
    (void)state;
    const uint8_t *nals[] = {aud, sps, pps, sei, idr, idr};
    const size_t sizes[] = {sizeof(aud), sizeof(sps), sizeof(pps),
                            sizeof(sei), sizeof(idr), sizeof(idr)};
    uint8_t buffer[256];
    size_t size = annexb(buffer, nals, sizes, 6);
    struct h264_access_unit unit;
    char error[128] = "";
    assert_int_equal(h264_access_unit_convert(buffer, size, &unit, error, sizeof(error)), 0);
    assert_true(unit.is_idr);
    assert_int_equal(unit.slice_count, 2);
    assert_true(unit.sps > buffer && unit.sps < buffer + size);
    assert_int_equal(unit.sps_size, sizeof(sps));
    assert_memory_equal(unit.sps, sps, sizeof(sps));
    assert_int_equal(unit.pps_size, sizeof(pps));
    assert_memory_equal(unit.pps, pps, sizeof(pps));
    /* SEI, IDR, IDR with 4-byte lengths; AUD, SPS, PPS gone. */
    uint8_t expected[64];
    size_t at = 0;
    const uint8_t *kept[] = {sei, idr, idr};
    const size_t kept_sizes[] = {sizeof(sei), sizeof(idr), sizeof(idr)};
    for (int i = 0; i < 3; i++) {
        expected[at++] = 0;
        expected[at++] = 0;
        expected[at++] = 0;
        expected[at++] = (uint8_t)kept_sizes[i];
        memcpy(expected + at, kept[i], kept_sizes[i]);
        at += kept_sizes[i];
    }
    assert_int_equal(unit.avcc_size, at);
    assert_memory_equal(unit.avcc, expected, at);
    h264_access_unit_free(&unit);
}

static void test_convert_p_frame(void **state)
{
    (void)state;
    /* AUD + P slice, with trailing zero bytes at the end. */
    uint8_t buffer[64] = {0, 0, 1, 0x09, 0x30, 0, 0, 1};
    memcpy(buffer + 8, slice, sizeof(slice));
    size_t size = 8 + sizeof(slice) + 3;
    struct h264_access_unit unit;
    assert_int_equal(h264_access_unit_convert(buffer, size, &unit, NULL, 0), 0);
    assert_false(unit.is_idr);
    assert_int_equal(unit.slice_count, 1);
    assert_null(unit.sps);
    assert_null(unit.pps);
    assert_int_equal(unit.avcc_size, 4 + sizeof(slice));
    assert_int_equal(unit.avcc[3], sizeof(slice));
    assert_memory_equal(unit.avcc + 4, slice, sizeof(slice));
    h264_access_unit_free(&unit);

    /* Parameter sets may come with a P frame too; they are reported. */
    const uint8_t *nals[] = {sps, pps, slice};
    const size_t sizes[] = {sizeof(sps), sizeof(pps), sizeof(slice)};
    size = annexb(buffer, nals, sizes, 3);
    assert_int_equal(h264_access_unit_convert(buffer, size, &unit, NULL, 0), 0);
    assert_false(unit.is_idr);
    assert_non_null(unit.sps);
    assert_int_equal(unit.avcc_size, 4 + sizeof(slice));
    h264_access_unit_free(&unit);
}

/* Expect conversion to fail with a reason containing `reason` and a zeroed unit. */
static void expect_convert_error(const uint8_t *data, size_t size, const char *reason)
{
    struct h264_access_unit unit;
    memset(&unit, 0xAB, sizeof(unit));
    char error[128] = "";
    assert_int_equal(h264_access_unit_convert(data, size, &unit, error, sizeof(error)), -1);
    if (strstr(error, reason) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", error, reason);
    assert_null(unit.avcc);
    assert_null(unit.sps);
    assert_int_equal(unit.avcc_size, 0);
}

static void test_convert_errors(void **state)
{
    (void)state;
    uint8_t buffer[512];
    expect_convert_error(NULL, 0, "empty");
    expect_convert_error(buffer, 0, "empty");
    static const uint8_t no_start[] = {0x65, 0x88, 0x84};
    expect_convert_error(no_start, sizeof(no_start), "malformed");
    static const uint8_t truncated[] = {0, 0, 0, 1};
    expect_convert_error(truncated, sizeof(truncated), "malformed");
    static const uint8_t empty_nal[] = {0, 0, 1, 0, 0, 1, 0x41, 0x9A};
    expect_convert_error(empty_nal, sizeof(empty_nal), "malformed");

    const uint8_t *nals[4] = {sps, pps, idr};
    size_t sizes[4] = {sizeof(sps), sizeof(pps), sizeof(idr)};
    expect_convert_error(buffer, annexb(buffer, nals + 2, sizes + 2, 1), "without SPS");
    expect_convert_error(buffer, annexb(buffer, nals + 1, sizes + 1, 2), "without SPS");
    const uint8_t *no_pps[] = {sps, idr};
    const size_t no_pps_sizes[] = {sizeof(sps), sizeof(idr)};
    expect_convert_error(buffer, annexb(buffer, no_pps, no_pps_sizes, 2), "without SPS");
    expect_convert_error(buffer, annexb(buffer, nals, sizes, 2), "no slice");
    const uint8_t *only_aud[] = {aud, sei};
    const size_t only_aud_sizes[] = {sizeof(aud), sizeof(sei)};
    expect_convert_error(buffer, annexb(buffer, only_aud, only_aud_sizes, 2), "no slice");
    const uint8_t *mixed[] = {sps, pps, idr, slice};
    const size_t mixed_sizes[] = {sizeof(sps), sizeof(pps), sizeof(idr), sizeof(slice)};
    expect_convert_error(buffer, annexb(buffer, mixed, mixed_sizes, 4), "mixes");

    /* A parameter set over the limit, and one too short to hold a profile. */
    uint8_t big_sps[H264_MAX_PARAMETER_SET + 1];
    memset(big_sps, 0x55, sizeof(big_sps));
    big_sps[0] = 0x67;
    const uint8_t *big[] = {big_sps, pps, idr};
    const size_t big_sizes[] = {sizeof(big_sps), sizeof(pps), sizeof(idr)};
    expect_convert_error(buffer, annexb(buffer, big, big_sizes, 3), "SPS of 257");
    static const uint8_t tiny_sps[] = {0x67, 0x42};
    const uint8_t *tiny[] = {tiny_sps, pps, idr};
    const size_t tiny_sizes[] = {sizeof(tiny_sps), sizeof(pps), sizeof(idr)};
    expect_convert_error(buffer, annexb(buffer, tiny, tiny_sizes, 3), "SPS of 2");

    /* Garbage after a valid IDR (forbidden bit). */
    size_t size = annexb(buffer, nals, sizes, 3);
    static const uint8_t bad_tail[] = {0, 0, 1, 0x80, 0x01};
    memcpy(buffer + size, bad_tail, sizeof(bad_tail));
    expect_convert_error(buffer, size + sizeof(bad_tail), "malformed");

    /* A NULL output is refused, a NULL error buffer is fine. */
    assert_int_equal(h264_access_unit_convert(buffer, size, NULL, NULL, 0), -1);
    struct h264_access_unit unit;
    assert_int_equal(h264_access_unit_convert(no_start, sizeof(no_start), &unit, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nal_start_codes),   cmocka_unit_test(test_nal_malformed),
        cmocka_unit_test(test_x264_access_units), cmocka_unit_test(test_ffmpeg_sps_variants),
        cmocka_unit_test(test_convert_idr),       cmocka_unit_test(test_convert_p_frame),
        cmocka_unit_test(test_convert_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
