/*
 * test_frame_stamp.c - unit tests of the frame stamp: value layout,
 * exact pixel layout of the band, draw/read round trips at the edges, and
 * that reading refuses pictures without the black margin.
 */
/* UNIT_SOURCES: firmware/camera/frame_stamp.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "camera/frame_stamp.h"

#define TEST_WIDTH  640
#define TEST_HEIGHT 48
#define TEST_STRIDE 672 /* wider than the picture, to catch stride mistakes */
#define TIME_MAX    ((UINT64_C(1) << 48) - 1)

struct picture {
    uint8_t y[TEST_STRIDE * TEST_HEIGHT];
    uint8_t u[TEST_STRIDE / 2 * TEST_HEIGHT / 2];
    uint8_t v[TEST_STRIDE / 2 * TEST_HEIGHT / 2];
};

/* A picture with recognisable non-stamp content everywhere. */
static struct picture *picture_new(void)
{
    struct picture *picture = malloc(sizeof(*picture));
    assert_non_null(picture);
    for (size_t i = 0; i < sizeof(picture->y); i++)
        picture->y[i] = (uint8_t)(60 + i % 97);
    memset(picture->u, 77, sizeof(picture->u));
    memset(picture->v, 177, sizeof(picture->v));
    return picture;
}

static void draw(struct picture *picture, uint64_t time_ms, uint32_t sequence)
{
    frame_stamp_draw(picture->y, TEST_STRIDE, picture->u, picture->v, TEST_STRIDE / 2, time_ms,
                     sequence);
}

static void test_value_layout(void **state)
{
    (void)state;
    assert_true(frame_stamp_value(0, 0) == 0);
    assert_true(frame_stamp_value(TIME_MAX, 65535) == UINT64_MAX);
    assert_true(frame_stamp_value(1, 0) == UINT64_C(1) << 16);
    assert_true(frame_stamp_value(0, 1) == 1);
    /* Modulo 2^48 and 2^16. */
    assert_true(frame_stamp_value(TIME_MAX + 6, 0) == UINT64_C(5) << 16);
    assert_true(frame_stamp_value(0, 65536 + 3) == 3);
    assert_true(frame_stamp_value(UINT64_C(1700000000123), 42) ==
                ((UINT64_C(1700000000123) << 16) | 42));
}

static void check_round_trip(uint64_t time_ms, uint32_t sequence)
{
    struct picture *picture = picture_new();
    draw(picture, time_ms, sequence);
    uint64_t read_ms = 0;
    uint16_t read_sequence = 0;
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), 0);
    assert_true(read_ms == (time_ms & TIME_MAX));
    assert_int_equal(read_sequence, sequence & 0xffff);
    free(picture);
}

static void test_round_trip_edges(void **state)
{
    (void)state;
    check_round_trip(0, 0);
    check_round_trip(TIME_MAX, 65535);
    check_round_trip(TIME_MAX, 0);
    check_round_trip(0, 65535);
    check_round_trip(UINT64_C(1700000000123), 42);
    check_round_trip(UINT64_C(0xaaaaaaaaaaaa), 0x5555);
    check_round_trip(UINT64_C(0x555555555555), 0xaaaa);
    check_round_trip(TIME_MAX + 1 + 77, 65536 + 9); /* wraps */
}

static void test_exact_pixel_layout(void **state)
{
    (void)state;
    struct picture *picture = picture_new();
    struct picture *before = picture_new();
    uint64_t time_ms = UINT64_C(0x8123456789ab);
    uint32_t sequence = 0xc3a5;
    uint64_t value = frame_stamp_value(time_ms, sequence);
    draw(picture, time_ms, sequence);

    for (int y = 0; y < TEST_HEIGHT; y++) {
        for (int x = 0; x < TEST_STRIDE; x++) {
            int got = picture->y[y * TEST_STRIDE + x];
            if (x >= FRAME_STAMP_BAND_WIDTH || y >= FRAME_STAMP_BAND_HEIGHT) {
                assert_int_equal(got, before->y[y * TEST_STRIDE + x]);
                continue;
            }
            int expected = 16;
            if (y >= 8 && y < 16 && x >= 8 && x < 520) {
                int cell = (x - 8) / 8;
                expected = ((value >> (63 - cell)) & 1) ? 235 : 16;
            }
            assert_int_equal(got, expected);
        }
    }
    /* Leftmost cell is bit 63 (set here), cell 63 is bit 0 (set: 0xc3a5 is odd). */
    assert_int_equal(picture->y[8 * TEST_STRIDE + 8], 235);
    assert_int_equal(picture->y[15 * TEST_STRIDE + 519], 235);
    assert_int_equal(picture->y[8 * TEST_STRIDE + 16], 16);

    for (int y = 0; y < TEST_HEIGHT / 2; y++) {
        for (int x = 0; x < TEST_STRIDE / 2; x++) {
            int inside = x < FRAME_STAMP_BAND_WIDTH / 2 && y < FRAME_STAMP_BAND_HEIGHT / 2;
            assert_int_equal(picture->u[y * TEST_STRIDE / 2 + x], inside ? 128 : 77);
            assert_int_equal(picture->v[y * TEST_STRIDE / 2 + x], inside ? 128 : 177);
        }
    }
    free(picture);
    free(before);
}

static void test_read_rejects_missing_margin(void **state)
{
    (void)state;
    uint64_t read_ms = 12345;
    uint16_t read_sequence = 678;

    /* A plain picture: no stamp at all. */
    struct picture *picture = picture_new();
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), -1);
    assert_true(read_ms == 12345 && read_sequence == 678); /* untouched on failure */

    /* A stamp whose top margin was painted over in one 8x8 block. */
    draw(picture, 1000, 1);
    for (int y = 0; y < 8; y++)
        memset(picture->y + y * TEST_STRIDE + 200, 200, 8);
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), -1);

    /* Right margin (columns 520..527) gone. */
    draw(picture, 1000, 1);
    for (int y = 8; y < 16; y++)
        memset(picture->y + y * TEST_STRIDE + 520, 235, 8);
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), -1);

    /* Bottom margin gone. */
    draw(picture, 1000, 1);
    for (int y = 16; y < 24; y++)
        memset(picture->y + y * TEST_STRIDE, 180, FRAME_STAMP_BAND_WIDTH);
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), -1);

    /* Uniform mid grey. */
    memset(picture->y, 128, sizeof(picture->y));
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), -1);
    free(picture);
}

static void test_read_survives_noise(void **state)
{
    (void)state;
    struct picture *picture = picture_new();
    uint64_t time_ms = UINT64_C(1712345678901);
    draw(picture, time_ms, 4321);
    /* Compression-like damage: +-30 everywhere in the band. */
    uint32_t seed = 1;
    for (int y = 0; y < FRAME_STAMP_BAND_HEIGHT; y++) {
        for (int x = 0; x < FRAME_STAMP_BAND_WIDTH; x++) {
            seed = seed * 1103515245u + 12345u;
            int delta = (int)((seed >> 16) % 61) - 30;
            int value = picture->y[y * TEST_STRIDE + x] + delta;
            picture->y[y * TEST_STRIDE + x] = (uint8_t)(value < 0 ? 0 : value > 255 ? 255 : value);
        }
    }
    uint64_t read_ms = 0;
    uint16_t read_sequence = 0;
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, &read_ms, &read_sequence), 0);
    assert_true(read_ms == time_ms);
    assert_int_equal(read_sequence, 4321);
    /* NULL outputs are allowed. */
    assert_int_equal(frame_stamp_read(picture->y, TEST_STRIDE, NULL, NULL), 0);
    free(picture);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_layout),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_exact_pixel_layout),
        cmocka_unit_test(test_read_rejects_missing_margin),
        cmocka_unit_test(test_read_survives_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
