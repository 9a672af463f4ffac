/*
 * test_encoder.c - unit tests of the x264 live encoder: one access unit per
 * frame, SPS/PPS/IDR on keyframes then P slices, the keyframe interval,
 * keyframe requests (also from another thread), bitrate reconfiguration
 * without an IDR, and size changes (checked in the SPS) with an IDR.
 */
/* UNIT_SOURCES: firmware/encoder/encoder.c firmware/camera/frame_stamp.c */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "camera/frame_stamp.h"
#include "encoder/encoder.h"

#define MAX_NALS 32

/* A synthetic moving picture with a frame stamp. */
struct picture {
    struct camera_frame frame;
    uint8_t *buffer;
};

static void picture_init(struct picture *picture, int width, int height)
{
    picture->buffer = malloc((size_t)width * height * 3 / 2);
    assert_non_null(picture->buffer);
    picture->frame = (struct camera_frame){
        .y = picture->buffer,
        .u = picture->buffer + width * height,
        .v = picture->buffer + width * height * 5 / 4,
        .width = width,
        .height = height,
        .stride_y = width,
        .stride_uv = width / 2,
    };
}

static void picture_render(struct picture *picture, uint32_t sequence)
{
    struct camera_frame *frame = &picture->frame;
    for (int y = 0; y < frame->height; y++)
        for (int x = 0; x < frame->width; x++)
            frame->y[y * frame->stride_y + x] = (uint8_t)(32 + ((x + 4 * sequence) ^ y) % 160);
    memset(frame->u, 110, (size_t)frame->stride_uv * frame->height / 2);
    memset(frame->v, 140, (size_t)frame->stride_uv * frame->height / 2);
    frame->sequence = sequence;
    frame->capture_time_us = 1700000000000000ull + sequence * 33333ull;
    if (frame->width >= FRAME_STAMP_BAND_WIDTH)
        frame_stamp_draw(frame->y, frame->stride_y, frame->u, frame->v, frame->stride_uv,
                         frame->capture_time_us / 1000, sequence);
}

/* NAL unit types of an Annex B access unit, in order, with their offsets. */
static int parse_nals(const uint8_t *data, size_t size, int *types, size_t *offsets)
{
    int count = 0;
    for (size_t i = 0; i + 3 <= size; i++) {
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            assert_true(i + 3 < size);
            assert_true(count < MAX_NALS);
            offsets[count] = i + 3;
            types[count++] = data[i + 3] & 0x1f;
            i += 2;
        }
    }
    return count;
}

static int has_type(const int *types, int count, int type)
{
    for (int i = 0; i < count; i++)
        if (types[i] == type)
            return 1;
    return 0;
}

/* Check the access unit's NAL structure; returns 1 for an IDR AU. */
static int check_access_unit(const struct encoded_frame *out)
{
    int types[MAX_NALS];
    size_t offsets[MAX_NALS];
    assert_true(out->size > 4);
    /* Annex B: starts with a start code. */
    assert_true(memcmp(out->data, "\0\0\0\1", 4) == 0 || memcmp(out->data, "\0\0\1", 3) == 0);
    int count = parse_nals(out->data, out->size, types, offsets);
    assert_true(count >= 1);
    int idr = has_type(types, count, 5);
    if (idr) {
        int sps = -1, pps = -1, slice = -1;
        for (int i = count - 1; i >= 0; i--) {
            if (types[i] == 7)
                sps = i;
            if (types[i] == 8)
                pps = i;
            if (types[i] == 5)
                slice = i;
        }
        assert_true(sps >= 0 && pps > sps && slice > pps);
        assert_false(has_type(types, count, 1));
        assert_int_equal(out->keyframe, 1);
    } else {
        assert_true(has_type(types, count, 1));
        assert_false(has_type(types, count, 7) || has_type(types, count, 8));
        assert_int_equal(out->keyframe, 0);
    }
    return idr;
}

/* Minimal exp-Golomb bit reader over an RBSP (emulation bytes removed). */
struct bits {
    uint8_t data[256];
    size_t size, position;
};

static unsigned read_bit(struct bits *bits)
{
    assert_true(bits->position < bits->size * 8);
    unsigned bit = (bits->data[bits->position / 8] >> (7 - bits->position % 8)) & 1u;
    bits->position++;
    return bit;
}

static unsigned read_bits(struct bits *bits, int count)
{
    unsigned value = 0;
    while (count-- > 0)
        value = (value << 1) | read_bit(bits);
    return value;
}

static unsigned read_ue(struct bits *bits)
{
    int zeros = 0;
    while (read_bit(bits) == 0)
        zeros++;
    return (1u << zeros) - 1 + read_bits(bits, zeros);
}

/* Picture size coded in the SPS of an IDR access unit. */
static void sps_dimensions(const struct encoded_frame *out, int *width, int *height)
{
    int types[MAX_NALS];
    size_t offsets[MAX_NALS];
    int count = parse_nals(out->data, out->size, types, offsets);
    int index = -1;
    for (int i = 0; i < count && index < 0; i++)
        if (types[i] == 7)
            index = i;
    assert_true(index >= 0);
    struct bits bits = {.size = 0, .position = 0};
    size_t end = index + 1 < count ? offsets[index + 1] - 3 : out->size;
    for (size_t i = offsets[index] + 1; i < end && bits.size < sizeof(bits.data); i++) {
        if (i >= offsets[index] + 3 && out->data[i] == 3 && out->data[i - 1] == 0 &&
            out->data[i - 2] == 0)
            continue; /* emulation prevention byte */
        bits.data[bits.size++] = out->data[i];
    }
    unsigned profile = read_bits(&bits, 8);
    read_bits(&bits, 16); /* constraint flags, level */
    read_ue(&bits);       /* seq_parameter_set_id */
    unsigned chroma_format = 1;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244) {
        chroma_format = read_ue(&bits);
        assert_int_equal(chroma_format, 1);
        read_ue(&bits);                       /* bit_depth_luma_minus8 */
        read_ue(&bits);                       /* bit_depth_chroma_minus8 */
        read_bit(&bits);                      /* qpprime_y_zero_transform_bypass */
        assert_int_equal(read_bit(&bits), 0); /* no scaling matrices */
    }
    read_ue(&bits); /* log2_max_frame_num_minus4 */
    unsigned poc_type = read_ue(&bits);
    assert_true(poc_type != 1);
    if (poc_type == 0)
        read_ue(&bits);
    read_ue(&bits);  /* max_num_ref_frames */
    read_bit(&bits); /* gaps_in_frame_num_allowed */
    unsigned width_mbs = read_ue(&bits) + 1;
    unsigned height_units = read_ue(&bits) + 1;
    unsigned frame_mbs_only = read_bit(&bits);
    assert_int_equal(frame_mbs_only, 1);
    read_bit(&bits); /* direct_8x8_inference */
    unsigned crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
    if (read_bit(&bits)) {
        crop_left = read_ue(&bits);
        crop_right = read_ue(&bits);
        crop_top = read_ue(&bits);
        crop_bottom = read_ue(&bits);
    }
    *width = (int)(width_mbs * 16 - 2 * (crop_left + crop_right));
    *height = (int)(height_units * 16 - 2 * (crop_top + crop_bottom));
}

static struct encoder *open_encoder(int width, int height, int keyframe_interval)
{
    struct encoder_config config = {
        .width = width,
        .height = height,
        .fps = 30,
        .bitrate_kbps = 1000,
        .keyframe_interval = keyframe_interval,
        .preset = "ultrafast",
    };
    char error[256] = "";
    struct encoder *encoder = encoder_open(&config, error, sizeof(error));
    if (encoder == NULL)
        fail_msg("encoder_open: %s", error);
    return encoder;
}

static void test_keyframe_then_p_frames(void **state)
{
    (void)state;
    struct encoder *encoder = open_encoder(640, 360, 0); /* default interval: 2 * fps */
    struct picture picture;
    picture_init(&picture, 640, 360);
    for (uint32_t i = 0; i < 70; i++) {
        picture_render(&picture, i);
        struct encoded_frame out;
        assert_int_equal(encoder_encode(encoder, &picture.frame, &out), 0);
        assert_int_equal(check_access_unit(&out), i % 60 == 0);
        assert_int_equal(out.sequence, i);
        assert_true(out.capture_time_us == picture.frame.capture_time_us);
        if (i == 0) {
            int width, height;
            sps_dimensions(&out, &width, &height);
            assert_int_equal(width, 640);
            assert_int_equal(height, 360);
        }
    }
    encoder_close(encoder);
    encoder_close(NULL);
    free(picture.buffer);
}

static void test_keyframe_interval_and_request(void **state)
{
    (void)state;
    struct encoder *encoder = open_encoder(320, 240, 10);
    struct picture picture;
    picture_init(&picture, 320, 240);
    for (uint32_t i = 0; i < 35; i++) {
        if (i == 14)
            encoder_request_keyframe(encoder);
        picture_render(&picture, i);
        struct encoded_frame out;
        assert_int_equal(encoder_encode(encoder, &picture.frame, &out), 0);
        /* IDRs at 0 and 10, the requested one at 14; the interval then
         * counts from the last IDR: 24, 34. */
        int expected = i == 0 || i == 10 || i == 14 || i == 24 || i == 34;
        if (check_access_unit(&out) != expected)
            fail_msg("frame %u: keyframe %d, expected %d", i, out.keyframe, expected);
    }
    encoder_close(encoder);
    free(picture.buffer);
}

static void *request_from_thread(void *encoder)
{
    encoder_request_keyframe(encoder);
    return NULL;
}

static void test_request_from_other_thread(void **state)
{
    (void)state;
    struct encoder *encoder = open_encoder(320, 240, 300);
    struct picture picture;
    picture_init(&picture, 320, 240);
    struct encoded_frame out;
    for (uint32_t i = 0; i < 3; i++) {
        picture_render(&picture, i);
        assert_int_equal(encoder_encode(encoder, &picture.frame, &out), 0);
    }
    assert_int_equal(out.keyframe, 0);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, request_from_thread, encoder), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    picture_render(&picture, 3);
    assert_int_equal(encoder_encode(encoder, &picture.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 1);
    picture_render(&picture, 4);
    assert_int_equal(encoder_encode(encoder, &picture.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 0); /* the request is consumed */
    encoder_close(encoder);
    free(picture.buffer);
}

static void test_reconfigure_bitrate_and_size(void **state)
{
    (void)state;
    struct encoder *encoder = open_encoder(320, 240, 100);
    struct picture small, large;
    picture_init(&small, 320, 240);
    picture_init(&large, 640, 360);
    struct encoded_frame out;
    for (uint32_t i = 0; i < 5; i++) {
        picture_render(&small, i);
        assert_int_equal(encoder_encode(encoder, &small.frame, &out), 0);
    }

    /* Bitrate only: x264_encoder_reconfig, no IDR. */
    struct encoder_config config = {.width = 320,
                                    .height = 240,
                                    .fps = 30,
                                    .bitrate_kbps = 300,
                                    .keyframe_interval = 100,
                                    .preset = "ultrafast"};
    assert_int_equal(encoder_reconfigure(encoder, &config), 0);
    picture_render(&small, 5);
    assert_int_equal(encoder_encode(encoder, &small.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 0);

    /* New size: reopened, IDR with an SPS of the new size. */
    config.width = 640;
    config.height = 360;
    assert_int_equal(encoder_reconfigure(encoder, &config), 0);
    picture_render(&small, 6);
    assert_int_equal(encoder_encode(encoder, &small.frame, &out), -1); /* old size refused */
    picture_render(&large, 6);
    assert_int_equal(encoder_encode(encoder, &large.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 1);
    int width, height;
    sps_dimensions(&out, &width, &height);
    assert_int_equal(width, 640);
    assert_int_equal(height, 360);
    picture_render(&large, 7);
    assert_int_equal(encoder_encode(encoder, &large.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 0);

    /* Rejected settings leave the encoder working as before. */
    config.width = 641;
    assert_int_equal(encoder_reconfigure(encoder, &config), -1);
    config.width = 640;
    config.preset = "warp-speed";
    assert_int_equal(encoder_reconfigure(encoder, &config), -1);
    picture_render(&large, 8);
    assert_int_equal(encoder_encode(encoder, &large.frame, &out), 0);
    assert_int_equal(check_access_unit(&out), 0);
    encoder_close(encoder);
    free(small.buffer);
    free(large.buffer);
}

static void test_open_errors(void **state)
{
    (void)state;
    char error[256];
    struct encoder_config config = {.width = 641, .height = 360, .fps = 30};
    error[0] = '\0';
    assert_null(encoder_open(&config, error, sizeof(error)));
    assert_true(strlen(error) > 0);
    config = (struct encoder_config){.width = 640, .height = 360, .fps = 0};
    assert_null(encoder_open(&config, error, sizeof(error)));
    config = (struct encoder_config){.width = 640, .height = 360, .fps = 30, .preset = "nope"};
    error[0] = '\0';
    assert_null(encoder_open(&config, error, sizeof(error)));
    assert_non_null(strstr(error, "nope"));
    assert_null(encoder_open(&config, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyframe_then_p_frames),
        cmocka_unit_test(test_keyframe_interval_and_request),
        cmocka_unit_test(test_request_from_other_thread),
        cmocka_unit_test(test_reconfigure_bitrate_and_size),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
