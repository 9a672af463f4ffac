/*
 * test_mp4_scan_stops.c - unit tests of where the fragmented MP4 scanner
 * (appliance/recording/mp4_scan.c, mp4_scan_init.c, mp4_box.c) must stop:
 * every malformed fragment after a good one, every malformed or missing
 * init, each with valid_length at the last whole fragment (or 0 without a
 * usable init) and a reason; and mp4_repair_truncate() (mp4_repair.c) with
 * its refusals. The files are built by tests/unit/support/mp4_build.c; what
 * the scanner reads when nothing is wrong is tested in test_mp4_scan.c.
 *
 * Single-threaded; files live in a mkdtemp() directory removed at the end.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/mp4_build.c appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_repair.c appliance/recording/mp4_box.c appliance/media/fmp4.c appliance/media/h264.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "media/fmp4.h"
#include "recording/mp4_repair.h"
#include "recording/mp4_scan.h"
#include "support/mp4_build.h"

static void test_stops_after_good_fragment(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    uint64_t good;
    struct mp4_build_spec spec;

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    spec.trafs = 2;
    mp4_build_moof(&file, &spec);
    mp4_build_expect_stop(&file, good, 1, "is not one mfhd and one traf");

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 0);
    mp4_build_moof(&file, &spec);
    mp4_build_expect_stop(&file, good, 1, "bad trun");

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    spec.trun_version = 2;
    mp4_build_moof(&file, &spec);
    mp4_build_expect_stop(&file, good, 1, "bad trun");

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    size_t moof = mp4_build_moof(&file, &spec);
    mp4_build_patch_u32(&file, mp4_build_find_type_from(&file, moof, "trun") + 12,
                        3); /* claims 3, holds 2 */
    mp4_build_expect_stop(&file, good, 1, "does not hold its 3 samples");

    for (int adjust = -1; adjust <= 1; adjust += 2) {
        mp4_build_good_start(&file, &good);
        spec = mp4_build_plain_spec(2, 6000, 2);
        spec.data_offset_adjust = adjust;
        mp4_build_moof(&file, &spec);
        mp4_build_expect_stop(&file, good, 1, "lie outside its mdat");
    }

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    spec.tfhd_flags = 0x01;
    spec.data_offset_adjust = -100000;
    mp4_build_moof(&file, &spec);
    mp4_build_expect_stop(&file, good, 1, "data offset before the file");

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    spec.tfhd_flags = 0x01;
    moof = mp4_build_moof(&file, &spec);
    mp4_build_patch_u32(&file, mp4_build_find_type_from(&file, moof, "tfhd") + 16,
                        UINT32_MAX); /* base's high half */
    mp4_build_expect_stop(&file, good, 1, "base data offset past the file");

    mp4_build_good_start(&file, &good);
    spec = mp4_build_plain_spec(2, 6000, 2);
    spec.track_id = 9;
    mp4_build_moof(&file, &spec);
    mp4_build_expect_stop(&file, good, 1, "unknown track");

    mp4_build_good_start(&file, &good);
    mp4_build_moof(&file, &(struct mp4_build_spec){
                              .sequence = 2, .track_id = 1, .tfdt_version = 2, .count = 1});
    mp4_build_expect_stop(&file, good, 1, "bad tfdt");

    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 1, FMP4_VIDEO_TRACK, 6000, 1, 0); /* sequence 1 again */
    mp4_build_expect_stop(&file, good, 1, "sequence 1 after 1");

    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 2, FMP4_VIDEO_TRACK, 5999, 1, 0); /* the first ended at 6000 */
    mp4_build_expect_stop(&file, good, 1, "decode time goes back");

    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 2, FMP4_VIDEO_TRACK, UINT64_MAX - 10, 1, 0);
    mp4_build_expect_stop(&file, good, 1, "overflows");

    /* A moof followed by something else, or by nothing. */
    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    size_t mdat = byte_buffer_length(&file) - 18;
    assert_int_equal(byte_buffer_patch(&file, mdat + 4, "free", 4), BYTE_BUFFER_OK);
    mp4_build_expect_stop(&file, good, 1, "followed by free");
    byte_buffer_truncate(&file, mdat + 4);
    mp4_build_expect_stop(&file, good, 1, "box header cut short");
    byte_buffer_truncate(&file, mdat);
    mp4_build_expect_stop(&file, good, 1, "without its mdat");
    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    byte_buffer_truncate(&file, byte_buffer_length(&file) - 1);
    mp4_build_expect_stop(&file, good, 1, "mdat box at");

    /* Top-level headers that do not add up. */
    const struct {
        uint8_t header[16];
        size_t size;
        const char *why;
    } headers[] = {
        {{0, 0, 0, 4, 'f', 'r', 'e', 'e'}, 8, "smaller than its header"},
        {{0, 0, 1, 0, 'f', 'r', 'e', 'e'}, 8, "cut short"},
        {{0, 0, 0, 1, 'f', 'r', 'e', 'e', 0x80, 0, 0, 0, 0, 0, 0, 0}, 16, "cut short"},
        {{0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 10}, 16, "smaller than its header"},
        {{0, 0, 0, 1, 'f', 'r', 'e', 'e'}, 8, "box header cut short"},
        {{0, 0, 0, 8, 'f', 'r', 0, 'e'}, 8, "invalid box type"},
        {{0, 0, 0, 0, 0, 0, 0, 0}, 8, "invalid box type"},
        {{0, 0, 0, 8, 'm', 'd', 'a', 't'}, 8, "without a moof"},
        {{0, 0, 0, 8, 'f', 't', 'y', 'p'}, 8, "is not the first box"},
        {{0, 0, 0, 8, 'm', 'o', 'o', 'v'}, 8, "second moov"},
        {{0, 0, 0}, 3, "box header cut short"},
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        mp4_build_good_start(&file, &good);
        mp4_build_put(&file, headers[i].header, headers[i].size);
        mp4_build_expect_stop(&file, good, 1, headers[i].why);
    }

    /* A moof too large to be ours. */
    mp4_build_good_start(&file, &good);
    size_t huge = MP4_SCAN_MAX_MOOF + 16;
    mp4_build_put_u32(&file, (uint32_t)huge);
    mp4_build_put(&file, "moof", 4);
    while (byte_buffer_length(&file) < good + huge)
        mp4_build_put(&file, mp4_build_payload, sizeof(mp4_build_payload));
    mp4_build_expect_stop(&file, good, 1, "moof at");
    byte_buffer_free(&file);
}

static void test_stops_without_init(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer(), part = mp4_build_file_buffer();
    mp4_build_expect_stop(&file, 0, 0, "no moov"); /* empty */
    mp4_build_init(&file);
    size_t moov = mp4_build_find_type(&file, "moov");
    size_t ftyp_size = moov;
    byte_buffer_truncate(&file, ftyp_size);
    mp4_build_expect_stop(&file, 0, 0, "no moov");
    mp4_build_fragment(&file, 1, FMP4_VIDEO_TRACK, 0, 1, 1);
    mp4_build_expect_stop(&file, 0, 0, "before moov");

    byte_buffer_reset(&file);
    mp4_build_init(&file);
    mp4_build_put(&part, byte_buffer_data(&file) + moov, byte_buffer_length(&file) - moov);
    mp4_build_expect_stop(&part, 0, 0, "moov before ftyp");
    byte_buffer_reset(&part);
    mp4_build_put(&part,
                  "\0\0\0\x08"
                  "free",
                  8);
    mp4_build_put(&part, byte_buffer_data(&file), byte_buffer_length(&file));
    mp4_build_expect_stop(&part, 0, 0, "free box before ftyp");

    /* A moov with no tracks, or a track without stsd. */
    byte_buffer_reset(&part);
    mp4_build_put(&part, byte_buffer_data(&file), ftyp_size);
    size_t box_at = mp4_build_box(&part, "moov");
    mp4_build_box_end(&part, box_at);
    mp4_build_expect_stop(&part, 0, 0, "moov without tracks");
    byte_buffer_reset(&part);
    mp4_build_put(&part, byte_buffer_data(&file), ftyp_size);
    box_at = mp4_build_box(&part, "moov");
    size_t trak = mp4_build_box(&part, "trak");
    size_t tkhd = mp4_build_full_box(&part, "tkhd", 0, 3);
    for (int i = 0; i < 20; i++)
        mp4_build_put_u32(&part, i == 2 ? 1 : 0);
    mp4_build_box_end(&part, tkhd);
    mp4_build_box_end(&part, trak);
    mp4_build_box_end(&part, box_at);
    mp4_build_expect_stop(&part, 0, 0, "trak lacks");

    /* A moov too large, an avcC without PPS, a bad dOps. */
    byte_buffer_reset(&part);
    mp4_build_put(&part, byte_buffer_data(&file), ftyp_size);
    mp4_build_put_u32(&part, MP4_SCAN_MAX_MOOV + 9);
    mp4_build_put(&part, "moov", 4);
    while (byte_buffer_length(&part) < ftyp_size + MP4_SCAN_MAX_MOOV + 9)
        mp4_build_put(&part, mp4_build_payload, 1);
    mp4_build_expect_stop(&part, 0, 0, "moov of");
    size_t avcc = mp4_build_find_type(&file, "avcC");
    mp4_build_set_byte(&file, avcc + 8 + 6 + 2 + sizeof(mp4_build_sps),
                       0); /* numOfPictureParameterSets */
    mp4_build_expect_stop(&file, 0, 0, "avcC without PPS");
    byte_buffer_reset(&file);
    mp4_build_init(&file);
    mp4_build_set_byte(&file, mp4_build_find_type(&file, "dOps") + 8, 1); /* Version */
    mp4_build_expect_stop(&file, 0, 0, "bad dOps");

    /* An SPS that does not parse is not fatal: the entry's size is used. */
    byte_buffer_reset(&file);
    mp4_build_init(&file);
    mp4_build_set_byte(&file, avcc + 8 + 8, 0x68); /* the SPS's NAL header: now a PPS */
    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), byte_buffer_length(&file), &result),
                     0);
    assert_true(result.complete);
    assert_false(result.tracks[0].sps_parsed);
    assert_int_equal(result.tracks[0].width, 64);
    assert_int_equal(result.tracks[0].height, 48);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
    byte_buffer_free(&part);
}

static void test_truncate(void **state)
{
    (void)state;
    char directory[] = "/tmp/test_mp4_scan.XXXXXX", path[64], link[64];
    assert_non_null(mkdtemp(directory));
    snprintf(path, sizeof(path), "%s/segment.mp4", directory);
    snprintf(link, sizeof(link), "%s/link.mp4", directory);
    struct byte_buffer file = mp4_build_file_buffer();
    uint64_t good;
    mp4_build_good_start(&file, &good);
    mp4_build_put(&file, "\0\0\0\0\0\0\0\0\0\0", 10);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, byte_buffer_data(&file), byte_buffer_length(&file)),
                     (ssize_t)byte_buffer_length(&file));
    close(fd);

    assert_int_equal(mp4_repair_truncate(path, byte_buffer_length(&file) + 1),
                     -1); /* never grows */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mp4_repair_truncate(path, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mp4_repair_truncate(NULL, 5), -1);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(mp4_repair_truncate(link, good), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(mp4_repair_truncate(directory, good), -1);
    snprintf(link, sizeof(link), "%s/missing.mp4", directory);
    assert_int_equal(mp4_repair_truncate(link, good), -1);
    assert_int_equal(errno, ENOENT);
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal((uint64_t)status.st_size, byte_buffer_length(&file));

    fd = open(path, O_RDONLY | O_CLOEXEC);
    struct mp4_scan_result result;
    assert_int_equal(mp4_scan_fd(fd, &result), 0);
    close(fd);
    assert_int_equal(result.valid_length, good);
    assert_int_equal(mp4_repair_truncate(path, result.valid_length), 0);
    assert_int_equal(mp4_repair_truncate(path, result.valid_length), 0); /* already there */
    mp4_scan_result_free(&result);
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal((uint64_t)status.st_size, good);

    snprintf(link, sizeof(link), "%s/link.mp4", directory);
    unlink(link);
    unlink(path);
    assert_int_equal(rmdir(directory), 0);
    byte_buffer_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stops_after_good_fragment),
        cmocka_unit_test(test_stops_without_init),
        cmocka_unit_test(test_truncate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
