/*
 * test_h264_sps.c - unit tests of the H.264 SPS parser
 * (appliance/media/h264.c) on hand-made SPS written with a bit writer:
 * cropping, field coding, POC type 1, scaling lists, emulation prevention,
 * every kind of malformed field; and the codecs string. Real x264 streams
 * are tested in test_h264.c.
 *
 * Single-threaded; no files.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/media/h264.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/h264.h"

/* ---- helpers: a bit writer for hand-made SPS ---------------------------- */

struct bit_writer {
    uint8_t bytes[2048];
    size_t bits;
};

static void put_bits(struct bit_writer *w, uint32_t value, int count)
{
    for (int i = count - 1; i >= 0; i--) {
        assert_true(w->bits / 8 < sizeof(w->bytes));
        if ((value >> i) & 1u)
            w->bytes[w->bits / 8] |= (uint8_t)(0x80u >> (w->bits % 8));
        w->bits++;
    }
}

static void put_ue(struct bit_writer *w, uint32_t value)
{
    uint64_t coded = (uint64_t)value + 1;
    int length = 0;
    while ((coded >> length) > 1)
        length++;
    put_bits(w, 0, length);
    put_bits(w, (uint32_t)coded, length + 1);
}

static void put_se(struct bit_writer *w, int32_t value)
{
    put_ue(w, value > 0 ? (uint32_t)(2 * value - 1) : (uint32_t)(-2 * (int64_t)value));
}

/* Finish an RBSP (rbsp_trailing_bits) and wrap it into an SPS NAL with
 * emulation prevention. Returns the NAL size. */
static size_t finish_sps(struct bit_writer *w, uint8_t *nal, size_t nal_capacity)
{
    put_bits(w, 1, 1);
    while (w->bits % 8)
        put_bits(w, 0, 1);
    size_t size = 0, zeros = 0;
    nal[size++] = 0x67;
    for (size_t i = 0; i < w->bits / 8; i++) {
        if (zeros >= 2 && w->bytes[i] <= 3) {
            nal[size++] = 3;
            zeros = 0;
        }
        nal[size++] = w->bytes[i];
        zeros = w->bytes[i] == 0 ? zeros + 1 : 0;
        assert_true(size + 2 < nal_capacity);
    }
    return size;
}

struct sps_fields {
    int profile, constraints, level;
    int chroma_format; /* high profiles only */
    int separate_colour_plane;
    int depth_luma, depth_chroma;
    int scaling_lists; /* how many of the lists are present (each with custom deltas) */
    int poc_type, poc_cycle;
    int width_mbs, height_map_units, frame_mbs_only;
    int crop, crop_left, crop_right, crop_top, crop_bottom;
};

static bool is_high_profile(int profile)
{
    static const int profiles[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (profiles[i] == profile)
            return true;
    return false;
}

/* Write seq_parameter_set_data() for the fields, then a minimal VUI flag. */
static size_t make_sps(const struct sps_fields *f, uint8_t *nal, size_t capacity)
{
    struct bit_writer w = {0};
    put_bits(&w, (uint32_t)f->profile, 8);
    put_bits(&w, (uint32_t)f->constraints, 8);
    put_bits(&w, (uint32_t)f->level, 8);
    put_ue(&w, 0); /* seq_parameter_set_id */
    if (is_high_profile(f->profile)) {
        put_ue(&w, (uint32_t)f->chroma_format);
        if (f->chroma_format == 3)
            put_bits(&w, (uint32_t)f->separate_colour_plane, 1);
        put_ue(&w, (uint32_t)f->depth_luma - 8);
        put_ue(&w, (uint32_t)f->depth_chroma - 8);
        put_bits(&w, 0, 1); /* qpprime_y_zero_transform_bypass_flag */
        put_bits(&w, f->scaling_lists > 0, 1);
        if (f->scaling_lists > 0) {
            int lists = f->chroma_format != 3 ? 8 : 12;
            for (int i = 0; i < lists; i++) {
                int present = i < f->scaling_lists;
                put_bits(&w, (uint32_t)present, 1);
                int size = i < 6 ? 16 : 64, last = 8, next = 8;
                /* Deltas that walk the scale up and down; list 1 ends early
                 * (next scale 0 means "repeat the last one"). */
                for (int j = 0; present && j < size && next != 0; j++) {
                    int delta = i == 1 && j == 5 ? -last : j % 2 ? -(j % 7) : (j % 5);
                    put_se(&w, delta);
                    next = (last + delta + 256) % 256;
                    last = next == 0 ? last : next;
                }
            }
        }
    }
    put_ue(&w, 0); /* log2_max_frame_num_minus4 */
    put_ue(&w, (uint32_t)f->poc_type);
    if (f->poc_type == 0) {
        put_ue(&w, 2);
    } else if (f->poc_type == 1) {
        put_bits(&w, 0, 1);
        put_se(&w, -3);
        put_se(&w, 7);
        put_ue(&w, (uint32_t)f->poc_cycle);
        for (int i = 0; i < f->poc_cycle; i++)
            put_se(&w, i - 100);
    }
    put_ue(&w, 1);      /* max_num_ref_frames */
    put_bits(&w, 0, 1); /* gaps_in_frame_num_value_allowed_flag */
    put_ue(&w, (uint32_t)f->width_mbs - 1);
    put_ue(&w, (uint32_t)f->height_map_units - 1);
    put_bits(&w, (uint32_t)f->frame_mbs_only, 1);
    if (!f->frame_mbs_only)
        put_bits(&w, 0, 1);
    put_bits(&w, 1, 1); /* direct_8x8_inference_flag */
    put_bits(&w, (uint32_t)f->crop, 1);
    if (f->crop) {
        put_ue(&w, (uint32_t)f->crop_left);
        put_ue(&w, (uint32_t)f->crop_right);
        put_ue(&w, (uint32_t)f->crop_top);
        put_ue(&w, (uint32_t)f->crop_bottom);
    }
    put_bits(&w, 0, 1); /* vui_parameters_present_flag */
    return finish_sps(&w, nal, capacity);
}

static const struct sps_fields baseline_1080p = {
    .profile = 66,
    .constraints = 0xC0,
    .level = 40,
    .poc_type = 2,
    .width_mbs = 120,
    .height_map_units = 68,
    .frame_mbs_only = 1,
    .crop = 1,
    .crop_bottom = 4,
};

static void test_sps_handmade(void **state)
{
    (void)state;
    uint8_t nal[2400];
    struct h264_sps_info info;
    char error[128] = "";

    size_t size = make_sps(&baseline_1080p, nal, sizeof(nal));
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), 0);
    assert_int_equal(info.width, 1920);
    assert_int_equal(info.height, 1080);
    assert_int_equal(info.profile_idc, 66);
    assert_int_equal(info.constraint_flags, 0xC0);
    assert_int_equal(info.level_idc, 40);
    assert_int_equal(info.chroma_format_idc, 1);
    char codecs[16];
    h264_codecs_string(&info, codecs);
    assert_string_equal(codecs, "avc1.42C028");

    /* Field coding: map units are field MB pairs, crop unit y is 4. */
    struct sps_fields fields = baseline_1080p;
    fields.frame_mbs_only = 0;
    fields.height_map_units = 34;
    fields.crop_bottom = 2;
    fields.crop_left = 3;
    fields.crop_right = 5;
    size = make_sps(&fields, nal, sizeof(nal));
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), 0);
    assert_int_equal(info.width, 1920 - 16);
    assert_int_equal(info.height, 1088 - 8);

    /* High profile with scaling lists, POC type 1 with a full 255 cycle. */
    fields = (struct sps_fields){.profile = 100,
                                 .level = 31,
                                 .chroma_format = 1,
                                 .depth_luma = 8,
                                 .depth_chroma = 8,
                                 .scaling_lists = 8,
                                 .poc_type = 1,
                                 .poc_cycle = 255,
                                 .width_mbs = 40,
                                 .height_map_units = 23,
                                 .frame_mbs_only = 1,
                                 .crop = 1,
                                 .crop_bottom = 4};
    size = make_sps(&fields, nal, sizeof(nal));
    /* Too big for H264_MAX_PARAMETER_SET with 255 POC offsets: refused. */
    assert_true(size > H264_MAX_PARAMETER_SET);
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), -1);
    fields.poc_cycle = 20;
    size = make_sps(&fields, nal, sizeof(nal));
    assert_true(size <= H264_MAX_PARAMETER_SET);
    if (h264_parse_sps(nal, size, &info, error, sizeof(error)) != 0)
        fail_msg("high SPS: %s", error);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 360);
    assert_int_equal(info.profile_idc, 100);

    /* 4:2:2 10-bit: crop unit x 2, y 1. */
    fields = (struct sps_fields){.profile = 122,
                                 .chroma_format = 2,
                                 .depth_luma = 10,
                                 .depth_chroma = 9,
                                 .poc_type = 0,
                                 .width_mbs = 11,
                                 .height_map_units = 6,
                                 .frame_mbs_only = 1,
                                 .crop = 1,
                                 .crop_right = 3,
                                 .crop_bottom = 5};
    size = make_sps(&fields, nal, sizeof(nal));
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), 0);
    assert_int_equal(info.width, 176 - 6);
    assert_int_equal(info.height, 96 - 5);
    assert_int_equal(info.chroma_format_idc, 2);
    assert_int_equal(info.bit_depth_luma, 10);
    assert_int_equal(info.bit_depth_chroma, 9);

    /* 4:4:4 with 12 scaling lists; separate colour planes crop in luma units. */
    fields.profile = 244;
    fields.chroma_format = 3;
    fields.scaling_lists = 12;
    fields.separate_colour_plane = 1;
    fields.frame_mbs_only = 0;
    size = make_sps(&fields, nal, sizeof(nal));
    if (h264_parse_sps(nal, size, &info, error, sizeof(error)) != 0)
        fail_msg("4:4:4 SPS: %s", error);
    assert_int_equal(info.width, 176 - 3);
    assert_int_equal(info.height, 192 - 10);
    fields.separate_colour_plane = 0;
    size = make_sps(&fields, nal, sizeof(nal));
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), 0);
    assert_int_equal(info.width, 176 - 3);
    assert_int_equal(info.height, 192 - 10);

    /* Emulation prevention: profile 0, constraints 0, level 0 starts 00 00 03. */
    fields = baseline_1080p;
    fields.profile = 0;
    fields.constraints = 0;
    fields.level = 0;
    size = make_sps(&fields, nal, sizeof(nal));
    assert_int_equal(nal[3], 3);
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), 0);
    assert_int_equal(info.width, 1920);
    assert_int_equal(info.height, 1080);
}

/* Expect h264_parse_sps to fail with a non-empty reason. */
static void expect_sps_error(const uint8_t *nal, size_t size)
{
    struct h264_sps_info info;
    char error[128] = "";
    assert_int_equal(h264_parse_sps(nal, size, &info, error, sizeof(error)), -1);
    assert_true(strlen(error) > 0);
}

static void test_sps_errors(void **state)
{
    (void)state;
    uint8_t nal[2400];
    size_t size = make_sps(&baseline_1080p, nal, sizeof(nal));

    /* Every truncation fails cleanly (the cropping fields end in the last byte). */
    for (size_t cut = 0; cut < size; cut++)
        expect_sps_error(nal, cut);
    struct h264_sps_info info;
    assert_int_equal(h264_parse_sps(NULL, 4, &info, NULL, 0), -1);

    uint8_t copy[2400];
    memcpy(copy, nal, size);
    copy[0] = 0x68; /* a PPS header */
    expect_sps_error(copy, size);
    copy[0] = 0xE7; /* forbidden_zero_bit */
    expect_sps_error(copy, size);

    /* An Exp-Golomb code with more than 31 leading zeros for the id. */
    uint8_t long_code[] = {0x67, 66, 0, 30, 0, 0, 0, 0, 0x00, 0x40, 0xFF};
    expect_sps_error(long_code, sizeof(long_code));
    /* All zeros after the header: ue never terminates. */
    uint8_t zeros[40] = {0x67, 66, 0, 30};
    expect_sps_error(zeros, sizeof(zeros));

    struct sps_fields fields = baseline_1080p;
    fields.poc_type = 3;
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));
    fields = baseline_1080p;
    fields.poc_type = 1;
    fields.poc_cycle = 256;
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));
    fields = baseline_1080p;
    fields.crop_bottom = 544; /* removes all 1088 lines */
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));
    fields = baseline_1080p;
    fields.width_mbs = 2000;
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));
    fields = (struct sps_fields){.profile = 100,
                                 .chroma_format = 4,
                                 .depth_luma = 8,
                                 .depth_chroma = 8,
                                 .width_mbs = 2,
                                 .height_map_units = 2,
                                 .frame_mbs_only = 1};
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));
    fields.chroma_format = 1;
    fields.depth_luma = 15;
    expect_sps_error(nal, make_sps(&fields, nal, sizeof(nal)));

    /* A scaling list delta outside -128..127. */
    struct bit_writer w = {0};
    put_bits(&w, 100, 8);
    put_bits(&w, 0, 8);
    put_bits(&w, 30, 8);
    put_ue(&w, 0);
    put_ue(&w, 1);
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_bits(&w, 0, 1);
    put_bits(&w, 1, 1); /* scaling matrix present */
    put_bits(&w, 1, 1); /* list 0 present */
    put_se(&w, 200);
    expect_sps_error(nal, finish_sps(&w, nal, sizeof(nal)));

    /* Oversized SPS. */
    uint8_t big[H264_MAX_PARAMETER_SET + 1];
    memset(big, 0x55, sizeof(big));
    big[0] = 0x67;
    expect_sps_error(big, sizeof(big));
}

static void test_codecs_string(void **state)
{
    (void)state;
    char out[16];
    struct h264_sps_info info = {.profile_idc = 100, .constraint_flags = 0, .level_idc = 31};
    h264_codecs_string(&info, out);
    assert_string_equal(out, "avc1.64001F");
    info = (struct h264_sps_info){.profile_idc = 77, .constraint_flags = 0x40, .level_idc = 42};
    h264_codecs_string(&info, out);
    assert_string_equal(out, "avc1.4D402A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sps_handmade),
        cmocka_unit_test(test_sps_errors),
        cmocka_unit_test(test_codecs_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
