/*
 * test_reply_cache.c - cmocka tests of the doorbell's quick reply cache
 * (firmware/replies/reply_cache.c) and the clip form it checks
 * (common/reply_clip.c): chunks reassemble into the clip sent; chunks out of
 * order and clips that do not check out are refused; a clip survives in the
 * state directory for a new cache (a restarted doorbell); a new version
 * replaces the old one on disk; at most REPLY_CACHE_MAX_ENTRIES files stay.
 *
 * Single-threaded; each test makes and removes its own state directory.
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/replies/reply_cache.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/reply_clip.h"
#include "replies/reply_cache.h"

#define TEST_CLIP_PACKETS 50

/* A clip of TEST_CLIP_PACKETS packets of 3..60 bytes (seeded contents) into
 * clip; returns its size. */
static size_t test_make_clip(uint8_t *clip, unsigned seed)
{
    size_t size = 0;
    for (int i = 0; i < TEST_CLIP_PACKETS; i++) {
        size_t length = 3 + (seed * 7 + (unsigned)i * 13) % 58;
        clip[size++] = (uint8_t)(length >> 8);
        clip[size++] = (uint8_t)length;
        for (size_t j = 0; j < length; j++)
            clip[size++] = (uint8_t)(seed + i + j);
    }
    return size;
}

/* Feed clip to cache in chunks of chunk_size; the last result. */
static int test_feed(struct reply_cache *cache, uint32_t id, uint32_t version, const uint8_t *clip,
                     size_t size, size_t chunk_size)
{
    char error[128];
    int rc = -1;
    for (size_t offset = 0; offset < size; offset += chunk_size) {
        struct link_quick_reply_data chunk = {
            .reply_id = id,
            .version = version,
            .offset = (uint32_t)offset,
            .total = (uint32_t)size,
            .chunk = clip + offset,
            .chunk_size = size - offset < chunk_size ? size - offset : chunk_size,
        };
        rc = reply_cache_take_chunk(cache, &chunk, error, sizeof(error));
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Files in directory (not . and ..). */
static int test_count_files(const char *directory)
{
    DIR *dir = opendir(directory);
    struct dirent *item;
    int count = 0;
    assert_non_null(dir);
    while ((item = readdir(dir)) != NULL)
        if (item->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
}

/* Remove the test's state directory. */
static void test_remove_state(const char *state)
{
    char command[512];
    snprintf(command, sizeof(command), "rm -rf '%s'", state);
    assert_int_equal(system(command), 0);
}

static void test_reassembly_and_disk(void **state)
{
    char directory[] = "/tmp/doorstep-reply-cache-XXXXXX", replies[128], path[256];
    uint8_t clip[8192], *got = NULL;
    size_t size, got_size = 0;
    struct reply_cache *cache;

    (void)state;
    assert_non_null(mkdtemp(directory));
    snprintf(replies, sizeof(replies), "%s/replies", directory);
    size = test_make_clip(clip, 1);
    assert_true(reply_clip_validate(clip, size) == TEST_CLIP_PACKETS);

    cache = reply_cache_create(directory);
    assert_non_null(cache);
    assert_int_equal(test_feed(cache, 5, 1, clip, size, 100), 1);
    assert_int_equal(reply_cache_get(cache, 5, 1, &got, &got_size), 0);
    assert_int_equal(got_size, size);
    assert_memory_equal(got, clip, size);
    free(got);
    assert_int_equal(reply_cache_get(cache, 5, 2, &got, &got_size), -1); /* another version */
    reply_cache_destroy(cache);

    /* A restarted doorbell finds it on disk. */
    cache = reply_cache_create(directory);
    assert_int_equal(reply_cache_get(cache, 5, 1, &got, &got_size), 0);
    assert_memory_equal(got, clip, size);
    free(got);

    /* A new version replaces the old file. */
    size = test_make_clip(clip, 2);
    assert_int_equal(test_feed(cache, 5, 2, clip, size, 4096), 1);
    snprintf(path, sizeof(path), "%s/5-1.clip", replies);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/5-2.clip", replies);
    assert_int_equal(access(path, F_OK), 0);

    /* Bounded: 20 replies leave 16 files. */
    for (uint32_t id = 10; id < 30; id++) {
        size = test_make_clip(clip, id);
        assert_int_equal(test_feed(cache, id, 1, clip, size, 1000), 1);
    }
    assert_int_equal(test_count_files(replies), REPLY_CACHE_MAX_ENTRIES);
    reply_cache_destroy(cache);
    /* The newest clips are the ones kept on disk. */
    cache = reply_cache_create(directory);
    for (uint32_t id = 14; id < 30; id++) {
        assert_int_equal(reply_cache_get(cache, id, 1, &got, &got_size), 0);
        free(got);
    }
    reply_cache_destroy(cache);
    test_remove_state(directory);
}

static void test_refusals(void **state)
{
    uint8_t clip[8192];
    size_t size = test_make_clip(clip, 3);
    struct reply_cache *cache = reply_cache_create(NULL);
    struct link_quick_reply_data chunk = {.reply_id = 1,
                                          .version = 1,
                                          .offset = 100,
                                          .total = (uint32_t)size,
                                          .chunk = clip,
                                          .chunk_size = 100};
    char error[128];
    uint8_t *got = NULL;
    size_t got_size = 0;

    (void)state;
    assert_non_null(cache);
    /* A chunk not at the start of a clip being assembled. */
    assert_int_equal(reply_cache_take_chunk(cache, &chunk, error, sizeof(error)), -1);
    assert_string_equal(error, "chunk out of order");
    /* A damaged clip: a packet size running past the end. */
    clip[0] = 0x7f;
    assert_int_equal(test_feed(cache, 1, 1, clip, size, 512), -1);
    assert_int_equal(reply_cache_get(cache, 1, 1, &got, &got_size), -1);
    /* Not clips at all. */
    assert_int_equal(reply_clip_validate(clip, 0), -1);
    assert_int_equal(reply_clip_validate((const uint8_t *)"\x00\x00", 2), -1);
    assert_int_equal(reply_clip_validate((const uint8_t *)"\x00\x01", 2), -1);
    assert_int_equal(reply_clip_validate((const uint8_t *)"\x00\x01\xaa", 3), 1);
    reply_cache_destroy(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembly_and_disk),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
