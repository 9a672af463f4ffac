/*
 * test_detection_image.c - cmocka tests of the hub's detection JPEG decode
 * (appliance/detection/detection_image.c): gray and colour, baseline and
 * progressive pictures decode to gray of their size; garbage, a broken
 * body, a truncated file, sizes outside 32..1920 x 32..1088 (also a lie in
 * the header about a huge size, refused before any allocation) and too
 * many bytes are refused with a reason saying which.
 *
 * Single-threaded; each test frees what it made.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/detection/detection_image.c tests/unit/support/jpeg_fixture.c tests/unit/support/media_judge.c tests/unit/support/test_files.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "detection/detection_image.h"
#include "support/jpeg_fixture.h"

/* Decode jpeg expecting a refusal whose reason contains expected. */
static void expect_refused(const uint8_t *jpeg, size_t size, const char *expected)
{
    struct detection_image image;
    char error[160] = "";
    assert_int_equal(detection_image_decode_gray(jpeg, size, &image, error, sizeof(error)), -1);
    assert_null(image.pixels);
    assert_int_equal(image.width, 0);
    if (strstr(error, expected) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", error, expected);
}

/* Gray and RGB, baseline and progressive: gray pixels of the right size. */
static void test_decodes_gray_colour_progressive(void **state)
{
    static const struct {
        int width, height, components, progressive;
    } cases[] = {
        {64, 128, 1, 0}, {320, 240, 3, 0}, {960, 540, 3, 1}, {32, 32, 1, 1}, {1920, 1088, 3, 0}};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t size = 0;
        uint8_t *jpeg = jpeg_fixture_make(cases[i].width, cases[i].height, cases[i].components,
                                          cases[i].progressive, &size);
        struct detection_image image;
        char error[160] = "";
        if (detection_image_decode_gray(jpeg, size, &image, error, sizeof(error)) != 0)
            fail_msg("%dx%d: %s", cases[i].width, cases[i].height, error);
        assert_int_equal(image.width, cases[i].width);
        assert_int_equal(image.height, cases[i].height);
        /* The pattern brightens left to right. */
        const uint8_t *row = image.pixels + (size_t)(image.height / 2) * (size_t)image.width;
        assert_true(row[image.width - 4] > row[3] + 80);
        detection_image_release(&image);
        assert_null(image.pixels);
        free(jpeg);
    }
}

/* Not a JPEG at all, or nothing. */
static void test_refuses_garbage(void **state)
{
    uint8_t garbage[4096];
    (void)state;
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)(i * 131 + 7);
    expect_refused(garbage, sizeof(garbage), "not a JPEG");
    expect_refused(garbage, 0, "not a JPEG");
    expect_refused(NULL, 0, "not a JPEG");
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    expect_refused(png, sizeof(png), "not a JPEG");
    /* A start-of-image marker and then noise. */
    garbage[0] = 0xff;
    garbage[1] = 0xd8;
    garbage[2] = 0xff;
    expect_refused(garbage, sizeof(garbage), "JPEG");
}

/* Cut anywhere after the header, or with its entropy-coded body damaged. */
static void test_refuses_truncated_and_corrupt(void **state)
{
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_make(320, 240, 3, 0, &size);
    (void)state;
    expect_refused(jpeg, size / 2, "truncated or corrupt");
    expect_refused(jpeg, size - 2, "truncated or corrupt"); /* no end-of-image marker */
    expect_refused(jpeg, 40, "JPEG");                       /* inside the header */
    /* A marker byte sequence planted in the middle of the scan. */
    uint8_t *broken = malloc(size);
    assert_non_null(broken);
    memcpy(broken, jpeg, size);
    broken[size / 2] = 0xff;
    broken[size / 2 + 1] = 0xd0 + 5; /* an out-of-place restart marker */
    expect_refused(broken, size, "corrupt");
    free(broken);
    /* Progressive, cut. */
    free(jpeg);
    jpeg = jpeg_fixture_make(320, 240, 3, 1, &size);
    expect_refused(jpeg, size * 2 / 3, "truncated or corrupt");
    free(jpeg);
}

/* Sizes outside 32..1920 x 32..1088, honest or lied about in the header. */
static void test_refuses_sizes(void **state)
{
    static const int sizes[][2] = {{16, 64}, {64, 16}, {1936, 64}, {64, 1096}, {31, 32}};
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t size = 0;
        uint8_t *jpeg = jpeg_fixture_make(sizes[i][0], sizes[i][1], 1, 0, &size);
        expect_refused(jpeg, size, "outside 32x32..1920x1088");
        free(jpeg);
    }
    /* A 64x64 picture whose header says 65000x65000: refused on the header
     * (ASan would see a 4 GB allocation attempt otherwise). */
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_make(64, 64, 3, 0, &size);
    size_t at = jpeg_fixture_sof_size_offset(jpeg, size);
    jpeg[at] = jpeg[at + 2] = 0xfd;
    jpeg[at + 1] = jpeg[at + 3] = 0xe8;
    expect_refused(jpeg, size, "JPEG of 65000x65000");
    free(jpeg);
}

/* More bytes than a detection frame may have, even if it would decode. */
static void test_refuses_too_many_bytes(void **state)
{
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_make(64, 64, 1, 0, &size);
    uint8_t *padded = calloc(1, DETECTION_JPEG_MAX_BYTES + 1);
    (void)state;
    assert_non_null(padded);
    memcpy(padded, jpeg, size);
    expect_refused(padded, DETECTION_JPEG_MAX_BYTES + 1, "more than 524288");
    free(padded);
    free(jpeg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_gray_colour_progressive),
        cmocka_unit_test(test_refuses_garbage),
        cmocka_unit_test(test_refuses_truncated_and_corrupt),
        cmocka_unit_test(test_refuses_sizes),
        cmocka_unit_test(test_refuses_too_many_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
