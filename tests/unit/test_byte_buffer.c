/*
 * test_byte_buffer.c - cmocka tests of the capped byte buffer
 * (common/byte_buffer.c): growth from empty, the cap (an append that would
 * pass it fails with BYTE_BUFFER_TOO_BIG), a failure leaving the contents
 * as they were and sticking until reset, patching, truncating, and reuse.
 *
 * Single-threaded; every buffer is freed by its test.
 */
/* clang-format off */
/*
 * UNIT_SOURCES:
 */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/byte_buffer.h"

/* A fresh buffer allocates nothing and holds nothing. */
static void test_empty(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 16);
    assert_null(byte_buffer_data(&buffer));
    assert_int_equal(byte_buffer_length(&buffer), 0);
    assert_int_equal(byte_buffer_error(&buffer), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_add(&buffer, "x", 0), BYTE_BUFFER_OK);
    assert_null(byte_buffer_data(&buffer));
    byte_buffer_free(&buffer);
}

/* Byte by byte up to the cap, growing past the first allocation many times:
 * every byte stays where it was written; the cap itself fits. */
static void test_growth_up_to_the_cap(void **state)
{
    (void)state;
    enum { CAP = 100000 };
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, CAP);
    for (size_t i = 0; i < CAP; i++) {
        uint8_t byte = (uint8_t)(i * 7);
        assert_int_equal(byte_buffer_add(&buffer, &byte, 1), BYTE_BUFFER_OK);
    }
    assert_int_equal(byte_buffer_length(&buffer), CAP);
    const uint8_t *data = byte_buffer_data(&buffer);
    for (size_t i = 0; i < CAP; i++)
        assert_int_equal(data[i], (uint8_t)(i * 7));
    byte_buffer_free(&buffer);

    /* In one append, exactly the cap. */
    static uint8_t block[CAP];
    memset(block, 0xA5, sizeof(block));
    byte_buffer_init(&buffer, CAP);
    assert_int_equal(byte_buffer_add(&buffer, block, CAP), BYTE_BUFFER_OK);
    assert_memory_equal(byte_buffer_data(&buffer), block, CAP);
    byte_buffer_free(&buffer);
}

/* The append that would pass the cap fails, changes nothing, and every
 * later write fails the same way until reset. */
static void test_too_big_leaves_contents_intact(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 10);
    assert_int_equal(byte_buffer_add(&buffer, "abcdefgh", 8), BYTE_BUFFER_OK);
    const uint8_t *before = byte_buffer_data(&buffer);

    assert_int_equal(byte_buffer_add(&buffer, "ijk", 3), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_error(&buffer), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_length(&buffer), 8);
    assert_ptr_equal(byte_buffer_data(&buffer), before);
    assert_memory_equal(byte_buffer_data(&buffer), "abcdefgh", 8);

    /* Sticky: even what would fit now fails, and nothing is added. */
    assert_int_equal(byte_buffer_add(&buffer, "i", 1), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_add(&buffer, "", 0), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_add_zeros(&buffer, 1), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_reserve(&buffer, 1), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_patch(&buffer, 0, "A", 1), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_length(&buffer), 8);
    assert_memory_equal(byte_buffer_data(&buffer), "abcdefgh", 8);

    /* Reset: empty, the failure cleared, the memory kept. */
    byte_buffer_reset(&buffer);
    assert_int_equal(byte_buffer_error(&buffer), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_length(&buffer), 0);
    assert_int_equal(byte_buffer_add(&buffer, "0123456789", 10), BYTE_BUFFER_OK);
    assert_ptr_equal(byte_buffer_data(&buffer), before);
    assert_memory_equal(byte_buffer_data(&buffer), "0123456789", 10);
    byte_buffer_free(&buffer);
}

/* Counts near SIZE_MAX are refused without wrapping around. */
static void test_huge_counts(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, SIZE_MAX);
    assert_int_equal(byte_buffer_add(&buffer, "a", 1), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_reserve(&buffer, SIZE_MAX), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_length(&buffer), 1);
    assert_memory_equal(byte_buffer_data(&buffer), "a", 1);
    byte_buffer_free(&buffer);

    /* A cap of 0 holds nothing. */
    byte_buffer_init(&buffer, 0);
    assert_int_equal(byte_buffer_add(&buffer, "a", 1), BYTE_BUFFER_TOO_BIG);
    assert_null(byte_buffer_data(&buffer));
    byte_buffer_free(&buffer);
}

/* Reserving makes room without adding; zeros are zeros. */
static void test_reserve_and_zeros(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 1 << 20);
    assert_int_equal(byte_buffer_reserve(&buffer, 50000), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_length(&buffer), 0);
    const uint8_t *reserved = byte_buffer_data(&buffer);
    assert_non_null(reserved);
    assert_int_equal(byte_buffer_add(&buffer, "xy", 2), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_add_zeros(&buffer, 49998), BYTE_BUFFER_OK);
    assert_ptr_equal(byte_buffer_data(&buffer), reserved); /* no reallocation */
    assert_int_equal(byte_buffer_length(&buffer), 50000);
    const uint8_t *data = byte_buffer_data(&buffer);
    assert_memory_equal(data, "xy", 2);
    for (size_t i = 2; i < 50000; i++)
        assert_int_equal(data[i], 0);
    byte_buffer_free(&buffer);
}

/* Patching overwrites bytes already there, never past the end; truncating
 * only shortens. */
static void test_patch_and_truncate(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 64);
    assert_int_equal(byte_buffer_add(&buffer, "0000size", 8), BYTE_BUFFER_OK);
    assert_int_equal(byte_buffer_patch(&buffer, 0, "\0\0\0\x08", 4), BYTE_BUFFER_OK);
    assert_memory_equal(byte_buffer_data(&buffer), "\0\0\0\x08size", 8);
    assert_int_equal(byte_buffer_patch(&buffer, 6, "ZZZ", 3), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(byte_buffer_patch(&buffer, SIZE_MAX, "Z", 1), BYTE_BUFFER_TOO_BIG);
    assert_memory_equal(byte_buffer_data(&buffer), "\0\0\0\x08size", 8);
    /* A patch out of range is the caller's mistake, not a failed buffer. */
    assert_int_equal(byte_buffer_error(&buffer), BYTE_BUFFER_OK);

    byte_buffer_truncate(&buffer, 100);
    assert_int_equal(byte_buffer_length(&buffer), 8);
    byte_buffer_truncate(&buffer, 4);
    assert_int_equal(byte_buffer_length(&buffer), 4);
    assert_int_equal(byte_buffer_add(&buffer, "more", 4), BYTE_BUFFER_OK);
    assert_memory_equal(byte_buffer_data(&buffer), "\0\0\0\x08more", 8);
    byte_buffer_free(&buffer);
}

/* Freed, a buffer is empty with its cap and may be used again. */
static void test_free_and_reuse(void **state)
{
    (void)state;
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 4);
    assert_int_equal(byte_buffer_add(&buffer, "abcd", 4), BYTE_BUFFER_OK);
    byte_buffer_free(&buffer);
    assert_null(byte_buffer_data(&buffer));
    assert_int_equal(byte_buffer_length(&buffer), 0);
    assert_int_equal(byte_buffer_add(&buffer, "abcde", 5), BYTE_BUFFER_TOO_BIG);
    byte_buffer_free(&buffer);
    assert_int_equal(byte_buffer_add(&buffer, "wxyz", 4), BYTE_BUFFER_OK);
    assert_memory_equal(byte_buffer_data(&buffer), "wxyz", 4);
    byte_buffer_free(&buffer);
    byte_buffer_free(&buffer); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_growth_up_to_the_cap),
        cmocka_unit_test(test_too_big_leaves_contents_intact),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_reserve_and_zeros),
        cmocka_unit_test(test_patch_and_truncate),
        cmocka_unit_test(test_free_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
