/*
 * test_snapshot.c - unit tests of JPEG snapshots: JPEG framing (SOI/EOI),
 * SOF0 dimensions and 4:2:0 sampling, integer downscaling to a maximum
 * width, awkward sizes and strides, pixel fidelity (decoded with libjpeg,
 * video range stretched to JFIF full range), and argument errors.
 */
/* UNIT_SOURCES: firmware/snapshot/snapshot.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "snapshot/snapshot.h"

struct picture {
    struct camera_frame frame;
    uint8_t *buffer;
};

/* A smooth gradient picture; stride_pad extra bytes per row. */
static void picture_init(struct picture *picture, int width, int height, int stride_pad)
{
    int stride_y = width + stride_pad, stride_uv = (width + 1) / 2 + stride_pad;
    size_t size = (size_t)stride_y * height + 2 * (size_t)stride_uv * ((height + 1) / 2);
    picture->buffer = malloc(size);
    assert_non_null(picture->buffer);
    memset(picture->buffer, 0xee, size);
    picture->frame = (struct camera_frame){
        .y = picture->buffer,
        .u = picture->buffer + (size_t)stride_y * height,
        .v = picture->buffer + (size_t)stride_y * height + (size_t)stride_uv * ((height + 1) / 2),
        .width = width,
        .height = height,
        .stride_y = stride_y,
        .stride_uv = stride_uv,
    };
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            picture->frame.y[y * stride_y + x] =
                (uint8_t)(30 + (x * 180 / width + y * 20 / height));
    for (int y = 0; y < (height + 1) / 2; y++) {
        memset(picture->frame.u + y * stride_uv, 90, (size_t)(width + 1) / 2);
        memset(picture->frame.v + y * stride_uv, 200, (size_t)(width + 1) / 2);
    }
}

/* Walk the marker segments to SOF0; check baseline 3-component 4:2:0. */
static void parse_sof0(const uint8_t *jpeg, size_t size, int *width, int *height)
{
    assert_true(size > 4);
    assert_int_equal(jpeg[0], 0xff);
    assert_int_equal(jpeg[1], 0xd8);
    assert_int_equal(jpeg[size - 2], 0xff);
    assert_int_equal(jpeg[size - 1], 0xd9);
    size_t position = 2;
    while (position + 4 <= size) {
        assert_int_equal(jpeg[position], 0xff);
        int marker = jpeg[position + 1];
        size_t length = (size_t)jpeg[position + 2] << 8 | jpeg[position + 3];
        assert_true(marker != 0xda); /* SOF must come before the scan */
        if (marker == 0xc0) {
            const uint8_t *sof = jpeg + position + 4;
            assert_int_equal(sof[0], 8); /* precision */
            *height = sof[1] << 8 | sof[2];
            *width = sof[3] << 8 | sof[4];
            assert_int_equal(sof[5], 3);
            assert_int_equal(sof[7], 0x22); /* Y: 2x2 */
            assert_int_equal(sof[10], 0x11);
            assert_int_equal(sof[13], 0x11);
            return;
        }
        position += 2 + length;
    }
    fail_msg("no SOF0 marker");
}

/* Decode to raw YCbCr (no colour conversion) with libjpeg. */
static uint8_t *decode_ycbcr(const uint8_t *jpeg, size_t size, int *width, int *height)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg, (unsigned long)size);
    assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
    cinfo.out_color_space = JCS_YCbCr;
    jpeg_start_decompress(&cinfo);
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    uint8_t *pixels = malloc((size_t)*width * *height * 3);
    assert_non_null(pixels);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)*width * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return pixels;
}

static void encode_and_check(const struct camera_frame *frame, int max_width, int want_width,
                             int want_height)
{
    uint8_t *jpeg = NULL;
    size_t size = 0;
    char error[256] = "";
    if (snapshot_encode_jpeg(frame, 85, max_width, &jpeg, &size, error, sizeof(error)) != 0)
        fail_msg("snapshot failed: %s", error);
    int width = 0, height = 0;
    parse_sof0(jpeg, size, &width, &height);
    assert_int_equal(width, want_width);
    assert_int_equal(height, want_height);

    int decoded_width, decoded_height;
    uint8_t *pixels = decode_ycbcr(jpeg, size, &decoded_width, &decoded_height);
    assert_int_equal(decoded_width, want_width);
    assert_int_equal(decoded_height, want_height);
    /* Compare a few pixels with the (downscaled) source. */
    int factor = frame->width / want_width;
    for (int y = 2; y < want_height - 2; y += want_height / 7) {
        for (int x = 2; x < want_width - 2; x += want_width / 9) {
            const uint8_t *pixel = pixels + ((size_t)y * want_width + x) * 3;
            int source =
                frame->y[(y * factor + factor / 2) * frame->stride_y + x * factor + factor / 2];
            /* Video range in, JFIF full range out. */
            int luma = ((source - 16) * 255 + 109) / 219;
            assert_in_range(pixel[0], luma - 6, luma + 6);
            assert_in_range(pixel[1], 83 - 4, 83 + 4);   /* 128 + (90 - 128) * 255 / 224 */
            assert_in_range(pixel[2], 210 - 4, 210 + 4); /* 128 + (200 - 128) * 255 / 224 */
        }
    }
    free(pixels);
    free(jpeg);
}

static void test_full_size(void **state)
{
    (void)state;
    struct picture picture;
    picture_init(&picture, 640, 360, 0);
    encode_and_check(&picture.frame, 0, 640, 360);
    encode_and_check(&picture.frame, 640, 640, 360); /* not wider than max: unchanged */
    free(picture.buffer);
}

static void test_downscale(void **state)
{
    (void)state;
    struct picture picture;
    picture_init(&picture, 1280, 720, 0);
    encode_and_check(&picture.frame, 640, 640, 360);
    encode_and_check(&picture.frame, 500, 426, 240); /* factor 3 */
    encode_and_check(&picture.frame, 320, 320, 180);
    free(picture.buffer);
}

static void test_awkward_sizes_and_strides(void **state)
{
    (void)state;
    struct picture picture;
    picture_init(&picture, 642, 362, 26); /* not a multiple of 16, padded rows */
    encode_and_check(&picture.frame, 0, 642, 362);
    free(picture.buffer);
    picture_init(&picture, 1002, 566, 6);
    encode_and_check(&picture.frame, 400, 334, 188); /* factor 3, rounded down to even */
    free(picture.buffer);
    picture_init(&picture, 34, 18, 0);
    encode_and_check(&picture.frame, 0, 34, 18);
    free(picture.buffer);
}

static void test_quality_changes_size(void **state)
{
    (void)state;
    struct picture picture;
    picture_init(&picture, 640, 360, 0);
    for (int i = 0; i < 640 * 360; i++)
        picture.frame.y[i] = (uint8_t)(16 + (i * 7919u) % 200); /* detail to compress */
    uint8_t *low = NULL, *high = NULL;
    size_t low_size = 0, high_size = 0;
    char error[128];
    assert_int_equal(
        snapshot_encode_jpeg(&picture.frame, 10, 0, &low, &low_size, error, sizeof(error)), 0);
    assert_int_equal(
        snapshot_encode_jpeg(&picture.frame, 95, 0, &high, &high_size, error, sizeof(error)), 0);
    assert_true(high_size > 2 * low_size);
    free(low);
    free(high);
    free(picture.buffer);
}

static void test_errors(void **state)
{
    (void)state;
    struct picture picture;
    picture_init(&picture, 64, 64, 0);
    uint8_t *jpeg = (uint8_t *)"untouched";
    size_t size = 7;
    char error[128];
    error[0] = '\0';
    assert_int_equal(snapshot_encode_jpeg(&picture.frame, 0, 0, &jpeg, &size, error, sizeof(error)),
                     -1);
    assert_true(strlen(error) > 0);
    assert_int_equal(
        snapshot_encode_jpeg(&picture.frame, 101, 0, &jpeg, &size, error, sizeof(error)), -1);
    assert_int_equal(snapshot_encode_jpeg(NULL, 80, 0, &jpeg, &size, error, sizeof(error)), -1);
    assert_int_equal(snapshot_encode_jpeg(&picture.frame, 80, 1, &jpeg, &size, NULL, 0), -1);
    struct camera_frame broken = picture.frame;
    broken.stride_y = 10;
    assert_int_equal(snapshot_encode_jpeg(&broken, 80, 0, &jpeg, &size, error, sizeof(error)), -1);
    assert_true(size == 7 && strcmp((const char *)jpeg, "untouched") == 0);
    free(picture.buffer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_size),
        cmocka_unit_test(test_downscale),
        cmocka_unit_test(test_awkward_sizes_and_strides),
        cmocka_unit_test(test_quality_changes_size),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
