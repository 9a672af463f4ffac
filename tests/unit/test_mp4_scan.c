/*
 * test_mp4_scan.c - unit tests of the fragmented MP4 scanner
 * (appliance/recording/mp4_scan.c, mp4_scan_init.c, mp4_box.c) on small
 * files built by tests/unit/support/mp4_build.c: what media/fmp4.c writes
 * (a real 64x48 baseline SPS/PPS, so the avcC's SPS is parsed), and
 * hand-built fragments exercising what ISO BMFF allows and we do not write
 * ourselves: tfdt version 0 or absent, sample fields from tfhd or trex
 * defaults, first-sample flags, composition offsets, an explicit base data
 * offset, 64-bit box sizes and a last mdat of size 0. Then read errors
 * (never a repair) and the file-descriptor path, the fragment cap (a
 * generated file of more than 2^20 fragments), and a trun of 2^32 - 1
 * samples without per-sample fields (which must not be looped over). Every
 * way the scan must stop, and mp4_repair_truncate(), are tested in
 * test_mp4_scan_stops.c.
 *
 * Single-threaded; no files but the directory opened by the fd test.
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

static void test_our_files(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    mp4_build_init(&file);
    size_t init_size = byte_buffer_length(&file);
    mp4_build_fragment(&file, 1, FMP4_VIDEO_TRACK, 0, 2, 1);
    size_t audio_at = byte_buffer_length(&file);
    mp4_build_fragment(&file, 2, FMP4_AUDIO_TRACK, 0, 3, 0);
    size_t video_at = byte_buffer_length(&file);
    mp4_build_fragment(&file, 3, FMP4_VIDEO_TRACK, 6000, 1, 0);

    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), byte_buffer_length(&file), &result),
                     0);
    assert_true(result.complete);
    assert_string_equal(result.reason, "");
    assert_int_equal(result.valid_length, byte_buffer_length(&file));
    assert_int_equal(result.total_length, byte_buffer_length(&file));
    assert_int_equal(result.init_length, init_size);
    assert_string_equal(result.major_brand, "isom");
    assert_int_equal(result.track_count, 2);

    const struct mp4_scan_track *v = mp4_scan_find_track(&result, FMP4_VIDEO_TRACK);
    assert_non_null(v);
    assert_string_equal(v->handler, "vide");
    assert_string_equal(v->sample_entry, "avc1");
    assert_int_equal(v->timescale, FMP4_VIDEO_TIMESCALE);
    assert_true(v->sps_parsed);
    assert_int_equal(v->width, 64);
    assert_int_equal(v->height, 48);
    assert_int_equal(v->sps_info.profile_idc, 66);
    assert_int_equal(v->sps_size, sizeof(mp4_build_sps));
    assert_memory_equal(v->sps, mp4_build_sps, sizeof(mp4_build_sps));
    assert_int_equal(v->pps_size, sizeof(mp4_build_pps));
    assert_memory_equal(v->pps, mp4_build_pps, sizeof(mp4_build_pps));
    assert_true(v->has_trex);
    assert_int_equal(v->default_duration, 0);
    assert_int_equal(v->fragments, 2);
    assert_int_equal(v->samples, 3);
    assert_int_equal(v->bytes, 30);
    assert_int_equal(v->first_decode_time, 0);
    assert_int_equal(v->end_decode_time, 9000);
    const struct mp4_scan_track *a = mp4_scan_find_track(&result, FMP4_AUDIO_TRACK);
    assert_non_null(a);
    assert_string_equal(a->handler, "soun");
    assert_string_equal(a->sample_entry, "Opus");
    assert_int_equal(a->timescale, FMP4_AUDIO_TIMESCALE);
    assert_int_equal(a->channels, 2);
    assert_int_equal(a->pre_skip, 312);
    assert_int_equal(a->input_sample_rate, 48000);
    assert_int_equal(a->samples, 3);
    assert_null(mp4_scan_find_track(&result, 3));
    assert_null(mp4_scan_find_track(NULL, 1));

    assert_int_equal(result.fragment_count, 3);
    const struct mp4_scan_fragment *f = result.fragments;
    assert_int_equal(f[0].offset, init_size);
    assert_int_equal(f[0].moof_size, 88 + 2 * 12);
    assert_int_equal(f[0].mdat_size, 8 + 20);
    assert_int_equal(f[0].sequence, 1);
    assert_int_equal(f[0].track_id, FMP4_VIDEO_TRACK);
    assert_int_equal(f[0].base_decode_time, 0);
    assert_int_equal(f[0].duration, 6000);
    assert_int_equal(f[0].sample_count, 2);
    assert_true(f[0].keyframe);
    assert_int_equal(f[0].data_offset, init_size + 112 + 8);
    assert_int_equal(f[0].bytes, 20);
    assert_int_equal(f[1].offset, audio_at);
    assert_int_equal(f[1].track_id, FMP4_AUDIO_TRACK);
    assert_true(f[1].keyframe); /* audio samples are all sync */
    assert_int_equal(f[2].offset, video_at);
    assert_int_equal(f[2].base_decode_time, 6000);
    assert_false(f[2].keyframe);
    mp4_scan_result_free(&result);
    mp4_scan_result_free(&result);
    mp4_scan_result_free(NULL);

    /* An init segment alone is a whole (empty) file. */
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), init_size, &result), 0);
    assert_true(result.complete);
    assert_int_equal(result.valid_length, init_size);
    assert_int_equal(result.fragment_count, 0);
    mp4_scan_result_free(&result);

    /* The same through a file descriptor. */
    char path[] = "/tmp/test_mp4_scan.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, byte_buffer_data(&file), byte_buffer_length(&file)),
                     (ssize_t)byte_buffer_length(&file));
    assert_int_equal(mp4_scan_fd(fd, &result), 0);
    assert_true(result.complete);
    assert_int_equal(result.fragment_count, 3);
    mp4_scan_result_free(&result);
    close(fd);
    unlink(path);
    byte_buffer_free(&file);
}

/* Sample fields from wherever ISO BMFF allows them to come from. */
static void test_flags_honoured(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    mp4_build_init(&file);
    /* 0: tfdt v0, every sample field from tfhd defaults, data offset only. */
    struct mp4_build_spec spec = {.sequence = 1,
                                  .track_id = 1,
                                  .tfdt_version = 0,
                                  .decode_time = 1000,
                                  .tfhd_flags = 0x38,
                                  .default_duration = 1000,
                                  .default_size = 5,
                                  .default_flags = 0x02000000u,
                                  .trun_flags = 0x001,
                                  .count = 3};
    mp4_build_moof(&file, &spec);
    /* 1: non-sync defaults, but first-sample flags say sync. */
    spec = (struct mp4_build_spec){.sequence = 2,
                                   .track_id = 1,
                                   .decode_time = 4000,
                                   .tfhd_flags = 0x38,
                                   .default_duration = 1000,
                                   .default_size = 5,
                                   .default_flags = 0x01010000u,
                                   .trun_flags = 0x005,
                                   .first_flags = 0x02000000u,
                                   .count = 2,
                                   .tfdt_version = 1};
    mp4_build_moof(&file, &spec);
    /* 2: per-sample flags, the first non-sync. */
    spec = mp4_build_plain_spec(3, 6000, 2);
    spec.flags[0] = 0x01010000u;
    mp4_build_moof(&file, &spec);
    /* 3: trun version 1 with composition offsets. */
    spec = mp4_build_plain_spec(4, 12000, 3);
    spec.trun_flags = 0xF01;
    spec.trun_version = 1;
    mp4_build_moof(&file, &spec);
    /* 4: no tfdt: continues from the track's end. */
    spec = mp4_build_plain_spec(5, 0, 1);
    spec.tfdt_version = -1;
    mp4_build_moof(&file, &spec);
    /* 5: explicit base data offset and no data offset in trun. */
    spec = mp4_build_plain_spec(6, 30000, 2);
    spec.tfhd_flags = 0x01;
    spec.trun_flags = 0x700;
    mp4_build_moof(&file, &spec);
    /* 6: a 64-bit mdat size. */
    spec = mp4_build_plain_spec(7, 40000, 1);
    spec.large_mdat = 1;
    size_t large_at = mp4_build_moof(&file, &spec);
    /* A free box with a 64-bit size between fragments, then a last mdat
     * of size 0 ("to the end of the file"). */
    mp4_build_put_u32(&file, 1);
    mp4_build_put(&file, "free", 4);
    mp4_build_put_u64(&file, 20);
    mp4_build_put_u32(&file, 0);
    spec = mp4_build_plain_spec(9, 50000, 2);
    spec.mdat_to_end = 1;
    size_t last_at = mp4_build_moof(&file, &spec);

    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), byte_buffer_length(&file), &result),
                     0);
    if (!result.complete)
        fail_msg("stopped: %s", result.reason);
    assert_int_equal(result.fragment_count, 8);
    const struct mp4_scan_fragment *f = result.fragments;
    assert_int_equal(f[0].base_decode_time, 1000);
    assert_int_equal(f[0].duration, 3000);
    assert_int_equal(f[0].bytes, 15);
    assert_true(f[0].keyframe);
    assert_int_equal(f[1].duration, 2000);
    assert_true(f[1].keyframe);
    assert_false(f[2].keyframe);
    assert_int_equal(f[2].bytes, 14);
    assert_int_equal(f[3].sample_count, 3);
    assert_int_equal(f[3].duration, 9000);
    assert_int_equal(f[4].base_decode_time, 21000);
    assert_int_equal(f[5].data_offset, f[5].offset + f[5].moof_size + 8);
    assert_int_equal(f[6].offset, large_at);
    assert_int_equal(f[6].mdat_size, 16 + 7);
    assert_int_equal(f[6].data_offset, large_at + f[6].moof_size + 16);
    assert_int_equal(f[7].offset, last_at);
    assert_int_equal(f[7].mdat_size, byte_buffer_length(&file) - last_at - f[7].moof_size);
    const struct mp4_scan_track *v = mp4_scan_find_track(&result, 1);
    assert_int_equal(v->samples, 16);
    assert_int_equal(v->end_decode_time, 56000);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
}

/* trex defaults apply when neither tfhd nor trun carry a field. */
static void test_trex_defaults(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    mp4_build_init(&file);
    size_t trex = mp4_build_find_type(&file, "trex"); /* the video track's */
    assert_int_equal(mp4_build_be32(byte_buffer_data(&file) + trex + 12), FMP4_VIDEO_TRACK);
    mp4_build_patch_u32(&file, trex + 20, 1111);        /* default_sample_duration */
    mp4_build_patch_u32(&file, trex + 24, 3);           /* default_sample_size */
    mp4_build_patch_u32(&file, trex + 28, 0x01010000u); /* default_sample_flags: non-sync */
    struct mp4_build_spec spec = {.sequence = 1,
                                  .track_id = 1,
                                  .tfdt_version = 1,
                                  .trun_flags = 0x001,
                                  .count = 4,
                                  .trex_size = 3};
    mp4_build_moof(&file, &spec);
    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), byte_buffer_length(&file), &result),
                     0);
    assert_true(result.complete);
    assert_int_equal(result.tracks[0].default_duration, 1111);
    assert_int_equal(result.fragments[0].duration, 4444);
    assert_int_equal(result.fragments[0].bytes, 12);
    assert_false(result.fragments[0].keyframe);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
}

/* A trun of 2^32 - 1 samples without per-sample fields costs no bytes:
 * the scan multiplies the defaults out instead of looping (a fuzz find). */
static void test_huge_sample_count(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    mp4_build_init(&file);
    struct mp4_build_spec spec = {.sequence = 1,
                                  .track_id = 1,
                                  .tfdt_version = 1,
                                  .tfhd_flags = 0x38,
                                  .default_duration = 2,
                                  .default_flags = 0x02000000u,
                                  .trun_flags = 0x001,
                                  .count = 1};
    size_t moof = mp4_build_moof(&file, &spec);
    mp4_build_patch_u32(&file, mp4_build_find_type_from(&file, moof, "trun") + 12, UINT32_MAX);
    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(&file), byte_buffer_length(&file), &result),
                     0);
    assert_true(result.complete);
    assert_int_equal(result.fragments[0].sample_count, UINT32_MAX);
    assert_int_equal(result.fragments[0].duration, 2ull * UINT32_MAX);
    assert_int_equal(result.fragments[0].bytes, 0);
    assert_true(result.fragments[0].keyframe);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
}

/* A failed read is an I/O error, never a reason to cut the file. */
static void test_read_errors(void **state)
{
    (void)state;
    struct byte_buffer file = mp4_build_file_buffer();
    uint64_t good;
    mp4_build_good_start(&file, &good);
    mp4_build_fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    struct mp4_scan_result result;
    struct mp4_build_memory memory = {
        .data = byte_buffer_data(&file), .size = byte_buffer_length(&file), .fail_at = good + 30};
    struct mp4_scan_source source = {
        .read = mp4_build_memory_read, .context = &memory, .size = byte_buffer_length(&file)};
    errno = 0;
    assert_int_equal(mp4_scan(&source, &result), -1);
    assert_int_equal(errno, EIO);
    assert_true(result.io_error);
    assert_false(result.complete);
    assert_int_equal(result.valid_length, good);
    assert_non_null(strstr(result.reason, "read error"));
    mp4_scan_result_free(&result);

    memory = (struct mp4_build_memory){
        .data = byte_buffer_data(&file), .size = byte_buffer_length(&file), .overdeliver = 1};
    assert_int_equal(mp4_scan(&source, &result), -1);
    assert_true(result.io_error);
    mp4_scan_result_free(&result);

    /* The file shrinks under the scan: a stop, not an I/O error. */
    memory = (struct mp4_build_memory){.data = byte_buffer_data(&file), .size = good + 20};
    assert_int_equal(mp4_scan(&source, &result), 0);
    assert_false(result.io_error);
    assert_int_equal(result.valid_length, good);
    assert_non_null(strstr(result.reason, "file ends"));
    mp4_scan_result_free(&result);

    assert_int_equal(mp4_scan(NULL, &result), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mp4_scan(&source, NULL), -1);
    assert_int_equal(mp4_scan_fd(-1, &result), -1);
    assert_true(result.io_error);
    mp4_scan_result_free(&result);
    int directory = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(mp4_scan_fd(directory, &result), -1);
    assert_int_equal(errno, EINVAL);
    close(directory);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
}

/* A generated file of more fragments than a result keeps. */
struct generated {
    struct byte_buffer init, fragment;
    uint64_t fragments;
};

/* Fragment k is the template with sequence k + 1 and decode time k * 3000. */
static ssize_t generated_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct generated *generated = context;
    const size_t init_size = byte_buffer_length(&generated->init),
                 fragment_size = byte_buffer_length(&generated->fragment);
    uint8_t *out = buffer;
    size_t done = 0;
    uint64_t total = init_size + generated->fragments * fragment_size;
    while (done < size && offset + done < total) {
        uint64_t at = offset + done;
        size_t count;
        if (at < init_size) {
            count = init_size - (size_t)at < size - done ? init_size - (size_t)at : size - done;
            memcpy(out + done, byte_buffer_data(&generated->init) + at, count);
            done += count;
            continue;
        }
        uint64_t index = (at - init_size) / fragment_size;
        size_t within = (size_t)((at - init_size) % fragment_size);
        uint8_t current[256];
        assert_true(fragment_size <= sizeof(current));
        memcpy(current, byte_buffer_data(&generated->fragment), fragment_size);
        uint32_t sequence = (uint32_t)(index + 1);
        uint64_t time = index * 3000;
        for (int i = 0; i < 4; i++)
            current[20 + i] = (uint8_t)(sequence >> (24 - 8 * i)); /* mfhd sequence_number */
        for (int i = 0; i < 8; i++)
            current[60 + i] = (uint8_t)(time >> (56 - 8 * i)); /* tfdt baseMediaDecodeTime */
        count = fragment_size - within < size - done ? fragment_size - within : size - done;
        memcpy(out + done, current + within, count);
        done += count;
    }
    return (ssize_t)done;
}

static void test_fragment_cap(void **state)
{
    (void)state;
    struct generated generated = {.init = mp4_build_file_buffer(),
                                  .fragment = mp4_build_file_buffer(),
                                  .fragments = MP4_SCAN_MAX_FRAGMENTS + 3};
    mp4_build_init(&generated.init);
    mp4_build_fragment(&generated.fragment, 1, FMP4_AUDIO_TRACK, 0, 1, 1);
    assert_memory_equal(byte_buffer_data(&generated.fragment) + 52, "tfdt", 4);
    uint64_t total = byte_buffer_length(&generated.init) +
                     generated.fragments * byte_buffer_length(&generated.fragment);
    struct mp4_scan_source source = {.read = generated_read, .context = &generated, .size = total};
    struct mp4_scan_result result;
    assert_int_equal(mp4_scan(&source, &result), 0);
    if (!result.complete)
        fail_msg("stopped: %s", result.reason);
    assert_int_equal(result.fragment_count, MP4_SCAN_MAX_FRAGMENTS);
    assert_int_equal(result.fragments_dropped, 3);
    assert_int_equal(result.valid_length, total);
    assert_int_equal(result.tracks[1].fragments, generated.fragments);
    assert_int_equal(result.tracks[1].end_decode_time, generated.fragments * 3000);
    print_message("%llu fragments scanned, %zu kept\n", (unsigned long long)generated.fragments,
                  result.fragment_count);
    mp4_scan_result_free(&result);
    byte_buffer_free(&generated.init);
    byte_buffer_free(&generated.fragment);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_our_files),     cmocka_unit_test(test_flags_honoured),
        cmocka_unit_test(test_trex_defaults), cmocka_unit_test(test_huge_sample_count),
        cmocka_unit_test(test_read_errors),   cmocka_unit_test(test_fragment_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
