/*
 * test_segment_index.c - unit tests of the keyframe index BLOB
 * (appliance/recording/segment_index.c): exact bytes of a small index,
 * round trips from empty to extreme values and many entries, the encoder's
 * refusals, the decoder's refusal of every malformed or non-canonical blob
 * (each truncation, overlong and oversized varints, zero deltas, overflowing
 * sums, wrong counts, trailing bytes), that any blob the decoder accepts
 * re-encodes to the same bytes, and seeking (binary search and the
 * allocation-free blob walk agree) at the edges.
 *
 * Single-threaded; a fixed-seed generator keeps runs reproducible.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/recording/segment_index.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>

#include "recording/segment_index.h"

#define MANY 5000

static uint64_t random_state = 0x9E3779B97F4A7C15ull;

/* xorshift64: reproducible pseudo-random numbers. */
static uint64_t random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

/* Encode into a malloc'd blob of the worst-case size (the caller frees it). */
static uint8_t *encode(const struct segment_index_entry *entries, size_t count, size_t *size)
{
    size_t capacity = segment_index_max_size(count);
    assert_true(capacity > 0);
    uint8_t *blob = malloc(capacity);
    assert_non_null(blob);
    assert_int_equal(segment_index_encode(entries, count, blob, capacity, size), 0);
    assert_true(*size <= capacity);
    return blob;
}

/* Encode, decode and compare. */
static void round_trip(const struct segment_index_entry *entries, size_t count)
{
    size_t size = 0;
    uint8_t *blob = encode(entries, count, &size);
    struct segment_index_entry *decoded = NULL;
    size_t decoded_count = 99;
    assert_int_equal(segment_index_decode(blob, size, &decoded, &decoded_count), 0);
    assert_int_equal(decoded_count, count);
    if (count > 0)
        assert_memory_equal(decoded, entries, count * sizeof(*entries));
    else
        assert_null(decoded);
    free(decoded);
    free(blob);
}

/* The decoder must refuse these bytes, leaving NULL/0. */
static void expect_refused(const uint8_t *blob, size_t size)
{
    struct segment_index_entry *decoded = (struct segment_index_entry *)1;
    size_t count = 99;
    struct segment_index_entry found;
    assert_int_equal(segment_index_decode(blob, size, &decoded, &count), -1);
    assert_int_equal(errno, EINVAL);
    assert_null(decoded);
    assert_int_equal(count, 0);
    assert_int_equal(segment_index_lookup(blob, size, UINT64_MAX, &found), -1);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    const struct segment_index_entry entries[] = {{0, 1000}, {90000, 51000}};
    const uint8_t expected[] = {0x01, 0x02, 0x00, 0xE8, 0x07, 0x90, 0xBF, 0x05, 0xD0, 0x86, 0x03};
    uint8_t blob[64];
    size_t size = 0;
    assert_int_equal(segment_index_encode(entries, 2, blob, sizeof(blob), &size), 0);
    assert_int_equal(size, sizeof(expected));
    assert_memory_equal(blob, expected, sizeof(expected));
    /* Exactly enough room is enough; one byte less is ERANGE, untouched. */
    uint8_t tight[sizeof(expected)];
    assert_int_equal(segment_index_encode(entries, 2, tight, sizeof(tight), &size), 0);
    memset(tight, 0x5A, sizeof(tight));
    assert_int_equal(segment_index_encode(entries, 2, tight, sizeof(tight) - 1, &size), -1);
    assert_int_equal(errno, ERANGE);
    for (size_t i = 0; i < sizeof(tight); i++)
        assert_int_equal(tight[i], 0x5A);
    /* Empty index: version and a zero count. */
    assert_int_equal(segment_index_encode(NULL, 0, blob, sizeof(blob), &size), 0);
    assert_int_equal(size, 2);
    assert_int_equal(blob[0], 1);
    assert_int_equal(blob[1], 0);
}

static void test_round_trips(void **state)
{
    (void)state;
    round_trip(NULL, 0);
    const struct segment_index_entry zero = {0, 0};
    round_trip(&zero, 1);
    const struct segment_index_entry max = {UINT64_MAX, UINT64_MAX};
    round_trip(&max, 1);
    const struct segment_index_entry extremes[] = {
        {0, 0}, {1, 1}, {UINT64_MAX / 2, 1ull << 40}, {UINT64_MAX, UINT64_MAX}};
    round_trip(extremes, 4);
    size_t size = 0;
    uint8_t *blob = encode(&max, 1, &size);
    assert_int_equal(size, 1 + 1 + 10 + 10); /* 2^64 - 1 takes ten bytes */
    free(blob);

    struct segment_index_entry *many = malloc(MANY * sizeof(*many));
    assert_non_null(many);
    uint64_t time = random_next() >> 20, offset = 800;
    for (size_t i = 0; i < MANY; i++) {
        many[i] = (struct segment_index_entry){time, offset};
        time += 1 + random_next() % 200000;
        offset += 1 + random_next() % 500000;
    }
    round_trip(many, MANY);
    blob = encode(many, MANY, &size);
    print_message("%d keyframes: %zu bytes\n", MANY, size);
    assert_true(size < MANY * 7);
    free(blob);
    free(many);
}

static void test_encode_refuses(void **state)
{
    (void)state;
    uint8_t blob[128];
    size_t size = 0;
    const struct segment_index_entry same_time[] = {{10, 100}, {10, 200}};
    const struct segment_index_entry same_offset[] = {{10, 100}, {20, 100}};
    const struct segment_index_entry backwards[] = {{10, 100}, {5, 200}};
    assert_int_equal(segment_index_encode(same_time, 2, blob, sizeof(blob), &size), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(segment_index_encode(same_offset, 2, blob, sizeof(blob), &size), -1);
    assert_int_equal(segment_index_encode(backwards, 2, blob, sizeof(blob), &size), -1);
    assert_int_equal(segment_index_encode(NULL, 1, blob, sizeof(blob), &size), -1);
    assert_int_equal(segment_index_encode(same_time, 1, NULL, sizeof(blob), &size), -1);
    assert_int_equal(segment_index_encode(same_time, 1, blob, sizeof(blob), NULL), -1);
    assert_int_equal(
        segment_index_encode(same_time, SEGMENT_INDEX_MAX_ENTRIES + 1, blob, sizeof(blob), &size),
        -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(segment_index_max_size(SEGMENT_INDEX_MAX_ENTRIES + 1), 0);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    const struct segment_index_entry entries[] = {{0, 1000}, {90000, 51000}, {180000, 99000}};
    size_t size = 0;
    uint8_t *blob = encode(entries, 3, &size);
    /* Every truncation. */
    for (size_t cut = 0; cut < size; cut++)
        expect_refused(blob, cut);
    expect_refused(NULL, 0);
    /* Trailing bytes. */
    uint8_t longer[64];
    memcpy(longer, blob, size);
    longer[size] = 0;
    expect_refused(longer, size + 1);
    /* Wrong version; a count larger than the entries present. */
    longer[0] = 2;
    expect_refused(longer, size);
    memcpy(longer, blob, size);
    longer[1] = 4;
    expect_refused(longer, size);
    free(blob);

    /* Hand-made: version 1, count 1, then one entry's two varints. */
    const uint8_t overlong[] = {1, 1, 0x80, 0x00, 0x05};          /* 0 as two bytes */
    const uint8_t overlong_count[] = {1, 0x81, 0x00, 0x00, 0x05}; /* 1 as two bytes */
    const uint8_t eleven[] = {1,    1,    0x80, 0x80, 0x80, 0x80, 0x80,
                              0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x05}; /* 11 bytes */
    const uint8_t bit64[] = {1,    1,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                             0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x05}; /* 2^64 */
    const uint8_t zero_delta[] = {1, 2, 0x05, 0x05, 0x00, 0x05};  /* second time delta 0 */
    const uint8_t zero_offset[] = {1, 2, 0x05, 0x05, 0x05, 0x00}; /* second offset delta 0 */
    const uint8_t huge_count[] = {1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x05, 0x05};
    const uint8_t overflow[] = {1,    2,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                0xFF, 0xFF, 0xFF, 0x01, 0x05, 0x01, 0x05}; /* 2^64 - 1 + 1 */
    expect_refused(overlong, sizeof(overlong));
    expect_refused(overlong_count, sizeof(overlong_count));
    expect_refused(eleven, sizeof(eleven));
    expect_refused(bit64, sizeof(bit64));
    expect_refused(zero_delta, sizeof(zero_delta));
    expect_refused(zero_offset, sizeof(zero_offset));
    expect_refused(huge_count, sizeof(huge_count));
    expect_refused(overflow, sizeof(overflow));
    /* The largest value in ten bytes is fine. */
    const uint8_t max[] = {1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x05};
    struct segment_index_entry *decoded = NULL;
    size_t count = 0;
    assert_int_equal(segment_index_decode(max, sizeof(max), &decoded, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(decoded[0].decode_time, UINT64_MAX);
    assert_int_equal(decoded[0].offset, 5);
    free(decoded);
    assert_int_equal(segment_index_decode(max, sizeof(max), NULL, &count), -1);
}

/* Flip every bit of a valid blob: whatever still decodes re-encodes to the
 * very same bytes (one encoding per index). */
static void test_canonical(void **state)
{
    (void)state;
    struct segment_index_entry entries[40];
    uint64_t time = 1234, offset = 777;
    for (size_t i = 0; i < 40; i++) {
        entries[i] = (struct segment_index_entry){time, offset};
        time += 1 + random_next() % 100000;
        offset += 1 + random_next() % 1000000;
    }
    size_t size = 0;
    uint8_t *blob = encode(entries, 40, &size);
    int accepted = 0;
    for (size_t bit = 0; bit < size * 8; bit++) {
        blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct segment_index_entry *decoded = NULL;
        size_t count = 0;
        if (segment_index_decode(blob, size, &decoded, &count) == 0) {
            size_t again_size = 0;
            uint8_t *again = encode(decoded, count, &again_size);
            assert_int_equal(again_size, size);
            assert_memory_equal(again, blob, size);
            free(again);
            accepted++;
        }
        free(decoded);
        blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    print_message("%d of %zu bit flips still decode, all canonically\n", accepted, size * 8);
    free(blob);
}

/* The blob walk must agree with the binary search. */
static void expect_lookup(const struct segment_index_entry *entries, size_t count,
                          const uint8_t *blob, size_t size, uint64_t time, int found_expected,
                          size_t index_expected)
{
    struct segment_index_entry found = {7, 7}, walked = {7, 7};
    assert_int_equal(segment_index_find(entries, count, time, &found), found_expected);
    assert_int_equal(segment_index_lookup(blob, size, time, &walked), found_expected);
    if (found_expected) {
        assert_memory_equal(&found, &entries[index_expected], sizeof(found));
        assert_memory_equal(&walked, &entries[index_expected], sizeof(walked));
    } else {
        assert_int_equal(found.decode_time, 7); /* untouched */
        assert_int_equal(walked.decode_time, 7);
    }
}

static void test_lookup(void **state)
{
    (void)state;
    const struct segment_index_entry entries[] = {
        {90000, 800}, {180000, 60000}, {270000, 130000}, {UINT64_MAX - 1, 200000}};
    size_t size = 0;
    uint8_t *blob = encode(entries, 4, &size);
    expect_lookup(entries, 4, blob, size, 0, 0, 0);
    expect_lookup(entries, 4, blob, size, 89999, 0, 0);
    expect_lookup(entries, 4, blob, size, 90000, 1, 0);
    expect_lookup(entries, 4, blob, size, 90001, 1, 0);
    expect_lookup(entries, 4, blob, size, 179999, 1, 0);
    expect_lookup(entries, 4, blob, size, 180000, 1, 1);
    expect_lookup(entries, 4, blob, size, 269999, 1, 1);
    expect_lookup(entries, 4, blob, size, 270000, 1, 2);
    expect_lookup(entries, 4, blob, size, UINT64_MAX - 2, 1, 2);
    expect_lookup(entries, 4, blob, size, UINT64_MAX - 1, 1, 3);
    expect_lookup(entries, 4, blob, size, UINT64_MAX, 1, 3);
    free(blob);

    /* Empty index: nothing at any time. */
    uint8_t empty[2];
    assert_int_equal(segment_index_encode(NULL, 0, empty, sizeof(empty), &size), 0);
    struct segment_index_entry found;
    assert_int_equal(segment_index_lookup(empty, size, UINT64_MAX, &found), 0);
    assert_int_equal(segment_index_find(NULL, 0, UINT64_MAX, &found), 0);
    assert_int_equal(segment_index_lookup(empty, size, 0, NULL), -1);

    /* Random indexes and times: walk and search agree. */
    struct segment_index_entry many[300];
    uint64_t time = random_next() % 1000, offset = 0;
    for (size_t i = 0; i < 300; i++) {
        many[i] = (struct segment_index_entry){time, offset};
        time += 1 + random_next() % 3;
        offset += 1 + random_next() % 3;
    }
    blob = encode(many, 300, &size);
    for (uint64_t t = 0; t < time + 5; t++) {
        struct segment_index_entry a = {0}, b = {0};
        int found_a = segment_index_find(many, 300, t, &a);
        assert_int_equal(segment_index_lookup(blob, size, t, &b), found_a);
        assert_memory_equal(&a, &b, sizeof(a));
        assert_int_equal(found_a, t >= many[0].decode_time);
        if (found_a)
            assert_true(a.decode_time <= t);
    }
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),    cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_encode_refuses), cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_canonical),      cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
