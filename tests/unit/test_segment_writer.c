/*
 * test_segment_writer.c - unit tests of the recording file layer
 * (appliance/recording/segment_writer.c, with mp4_scan.c and
 * segment_index.c), judged by ffprobe/ffmpeg: a 10 s segment of real H.264
 * and 20 ms Opus packets written as the recorder does (the clip and the plan
 * are tests/unit/support/segment_fixture.c).
 *
 * Checked: the file probes and decodes with an empty stderr, with the right
 * frame and packet counts, timestamps, keyframes and, in every decoded
 * picture, the frame stamp of the frame that went in; the summary and a scan
 * agree on every fragment, time and keyframe; the keyframe index round-trips
 * through its BLOB encoding; a copy cut at every byte offset of the last two
 * fragments scans to the end of the previous whole fragment, and once
 * mp4_repair_truncate() has cut it there it probes and decodes again; create
 * and append refuse bad arguments without writing. A full disk and failing
 * system calls are tested in test_segment_writer_faults.c.
 *
 * Single-threaded. The clip is encoded once in the group set-up. Files live
 * in a mkdtemp() directory per test, removed by the test's teardown.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c tests/unit/support/media_judge.c tests/unit/support/segment_fixture.c appliance/recording/segment_writer.c appliance/recording/segment_index.c appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_repair.c appliance/recording/mp4_box.c appliance/media/h264.c appliance/media/fmp4.c tests/unit/support/media_clip.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/segment_fixture.h"
#include "support/test_files.h"

#include "media/fmp4.h"
#include "media/h264.h"
#include "recording/mp4_repair.h"
#include "recording/mp4_scan.h"
#include "recording/segment_index.h"
#include "recording/segment_writer.h"

/* ---- scanning ------------------------------------------------------------ */

struct memory {
    const uint8_t *data;
    size_t size;
};

static ssize_t memory_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct memory *memory = context;
    if (offset >= memory->size)
        return 0;
    size_t count = memory->size - offset < size ? memory->size - offset : size;
    memcpy(buffer, memory->data + offset, count);
    return (ssize_t)count;
}

/* Scan the first size bytes of data. */
static void scan_memory(const uint8_t *data, size_t size, struct mp4_scan_result *result)
{
    struct memory memory = {.data = data, .size = size};
    struct mp4_scan_source source = {.read = memory_read, .context = &memory, .size = size};
    assert_int_equal(mp4_scan(&source, result), 0);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_ten_second_segment(void **state)
{
    (void)state;
    char path[128];
    segment_fixture_scratch_path(path, sizeof(path), "recordings/0123456789ab/1.mp4");
    struct segment_summary summary = segment_fixture_write_segment(path);

    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal(status.st_mode & 07777, 0640);
    assert_int_equal((uint64_t)status.st_size, summary.bytes);
    char directory[128];
    segment_fixture_scratch_path(directory, sizeof(directory), "recordings/0123456789ab");
    assert_int_equal(stat(directory, &status), 0);
    assert_int_equal(status.st_mode & 07777, 0750);

    assert_true(summary.ok);
    assert_int_equal(summary.error, 0);
    assert_int_equal(summary.durable_bytes, summary.bytes);
    assert_int_equal(summary.video.samples, SEGMENT_FIXTURE_FRAMES);
    assert_int_equal(summary.video.fragments, SEGMENT_FIXTURE_SECONDS);
    assert_int_equal(summary.video.first_decode_time, 0);
    assert_int_equal(summary.video.last_decode_time,
                     (uint64_t)(SEGMENT_FIXTURE_FRAMES - 1) * SEGMENT_FIXTURE_FRAME_TICKS);
    assert_int_equal(summary.video.end_decode_time,
                     (uint64_t)SEGMENT_FIXTURE_SECONDS * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(summary.audio.samples,
                     SEGMENT_FIXTURE_SECONDS * SEGMENT_FIXTURE_PACKETS_PER_S);
    assert_int_equal(summary.audio.fragments, SEGMENT_FIXTURE_SECONDS);
    assert_int_equal(summary.audio.last_decode_time,
                     (uint64_t)SEGMENT_FIXTURE_SECONDS * FMP4_AUDIO_TIMESCALE -
                         SEGMENT_FIXTURE_PACKET_SAMPLES);
    assert_int_equal(summary.audio.end_decode_time,
                     (uint64_t)SEGMENT_FIXTURE_SECONDS * FMP4_AUDIO_TIMESCALE);
    assert_int_equal(summary.keyframe_count, SEGMENT_FIXTURE_SECONDS);
    assert_int_equal(summary.keyframes[0].offset, summary.init_size);
    for (size_t i = 0; i < summary.keyframe_count; i++)
        assert_int_equal(summary.keyframes[i].decode_time, i * FMP4_VIDEO_TIMESCALE);

    segment_fixture_judge_file(path, SEGMENT_FIXTURE_FRAMES,
                               SEGMENT_FIXTURE_SECONDS * SEGMENT_FIXTURE_PACKETS_PER_S);

    struct mp4_scan_result scan;
    segment_fixture_scan_path(path, &scan);
    segment_fixture_expect_scan_matches(&scan, &summary);
    assert_int_equal(scan.fragment_count, SEGMENT_FIXTURE_FRAGMENTS);
    assert_string_equal(scan.major_brand, "isom");
    for (int n = 0; n < SEGMENT_FIXTURE_FRAGMENTS; n++) {
        const struct mp4_scan_fragment *fragment = &scan.fragments[n];
        assert_int_equal(fragment->sequence, n + 1);
        if (n % 2 == 0) {
            assert_int_equal(fragment->track_id, FMP4_VIDEO_TRACK);
            assert_int_equal(fragment->base_decode_time, (uint64_t)n / 2 * FMP4_VIDEO_TIMESCALE);
            assert_int_equal(fragment->duration, FMP4_VIDEO_TIMESCALE);
            assert_int_equal(fragment->sample_count, SEGMENT_FIXTURE_GOP);
            assert_true(fragment->keyframe);
        } else {
            assert_int_equal(fragment->track_id, FMP4_AUDIO_TRACK);
            assert_int_equal(fragment->base_decode_time, (uint64_t)n / 2 * FMP4_AUDIO_TIMESCALE);
            assert_int_equal(fragment->duration, FMP4_AUDIO_TIMESCALE);
            assert_int_equal(fragment->sample_count, SEGMENT_FIXTURE_PACKETS_PER_S);
            assert_int_equal(fragment->bytes,
                             SEGMENT_FIXTURE_PACKETS_PER_S * sizeof(segment_fixture_opus_packet));
        }
        uint64_t end = fragment->offset + fragment->moof_size + fragment->mdat_size;
        assert_int_equal(end, n + 1 < SEGMENT_FIXTURE_FRAGMENTS ? scan.fragments[n + 1].offset
                                                                : summary.bytes);
    }
    const struct mp4_scan_track *video = mp4_scan_find_track(&scan, FMP4_VIDEO_TRACK);
    assert_string_equal(video->handler, "vide");
    assert_string_equal(video->sample_entry, "avc1");
    assert_int_equal(video->timescale, FMP4_VIDEO_TIMESCALE);
    assert_true(video->sps_parsed);
    assert_int_equal(video->width, SEGMENT_FIXTURE_WIDTH);
    assert_int_equal(video->height, SEGMENT_FIXTURE_HEIGHT);
    assert_memory_equal(video->sps, segment_fixture_clip.sps, segment_fixture_clip.sps_size);
    assert_memory_equal(video->pps, segment_fixture_clip.pps, segment_fixture_clip.pps_size);
    const struct mp4_scan_track *audio = mp4_scan_find_track(&scan, FMP4_AUDIO_TRACK);
    assert_string_equal(audio->handler, "soun");
    assert_string_equal(audio->sample_entry, "Opus");
    assert_int_equal(audio->timescale, FMP4_AUDIO_TIMESCALE);
    assert_int_equal(audio->channels, 1);
    assert_int_equal(audio->pre_skip, SEGMENT_FIXTURE_PRE_SKIP);
    mp4_scan_result_free(&scan);

    /* The keyframe index through its BLOB encoding, and seeking in it. */
    uint8_t blob[512];
    size_t blob_size = 0;
    assert_true(segment_index_max_size(summary.keyframe_count) <= sizeof(blob));
    assert_int_equal(segment_index_encode(summary.keyframes, summary.keyframe_count, blob,
                                          sizeof(blob), &blob_size),
                     0);
    print_message("keyframe index: %zu entries in %zu bytes\n", summary.keyframe_count, blob_size);
    struct segment_index_entry *decoded = NULL;
    size_t count = 0;
    assert_int_equal(segment_index_decode(blob, blob_size, &decoded, &count), 0);
    assert_int_equal(count, summary.keyframe_count);
    assert_memory_equal(decoded, summary.keyframes, count * sizeof(*decoded));
    struct segment_index_entry found;
    assert_int_equal(
        segment_index_lookup(blob, blob_size, 5 * FMP4_VIDEO_TIMESCALE + 45000, &found), 1);
    assert_memory_equal(&found, &summary.keyframes[5], sizeof(found));
    free(decoded);
    segment_summary_free(&summary);
}

/* Cut a copy at every byte offset inside the last two fragments: the scan
 * must end at the previous whole fragment; cut there, ffmpeg is happy. */
static void test_truncated_at_every_byte(void **state)
{
    (void)state;
    char path[128], cut_path[128];
    segment_fixture_scratch_path(path, sizeof(path), "whole.mp4");
    segment_fixture_scratch_path(cut_path, sizeof(cut_path), "cut.mp4");
    struct segment_summary summary = segment_fixture_write_segment(path);
    size_t size = 0;
    uint8_t *data = test_read_file(path, &size);
    struct mp4_scan_result scan;
    scan_memory(data, size, &scan);
    assert_true(scan.complete);
    assert_int_equal(scan.fragment_count, SEGMENT_FIXTURE_FRAGMENTS);
    uint64_t last_video = scan.fragments[SEGMENT_FIXTURE_FRAGMENTS - 2].offset;
    uint64_t last_audio = scan.fragments[SEGMENT_FIXTURE_FRAGMENTS - 1].offset;
    mp4_scan_result_free(&scan);

    /* Cut at a fragment boundary the file is whole; inside one, it ends
     * at the fragment before. */
    for (uint64_t cut = last_video; cut < size; cut++) {
        scan_memory(data, (size_t)cut, &scan);
        bool boundary = cut == last_video || cut == last_audio;
        uint64_t expected = cut < last_audio ? last_video : last_audio;
        size_t fragments =
            cut < last_audio ? SEGMENT_FIXTURE_FRAGMENTS - 2 : SEGMENT_FIXTURE_FRAGMENTS - 1;
        if (scan.valid_length != expected || scan.complete != boundary ||
            (scan.reason[0] == '\0') != boundary || scan.io_error ||
            scan.fragment_count != fragments)
            fail_msg("cut at %llu: valid %llu (expected %llu), %zu fragments, reason \"%s\"",
                     (unsigned long long)cut, (unsigned long long)scan.valid_length,
                     (unsigned long long)expected, scan.fragment_count, scan.reason);
        mp4_scan_result_free(&scan);
    }
    print_message("cut at each of %llu offsets: scans stop at the previous fragment\n",
                  (unsigned long long)(size - last_video));

    /* A tail of zeros (what some filesystems leave after a crash). */
    uint8_t *padded = calloc(1, size + 4096);
    assert_non_null(padded);
    memcpy(padded, data, size);
    scan_memory(padded, size + 4096, &scan);
    assert_int_equal(scan.valid_length, size);
    assert_false(scan.complete);
    mp4_scan_result_free(&scan);
    free(padded);

    /* Repair a few cuts: in the moof, in the mdat, one byte short of the end. */
    const uint64_t cuts[] = {last_video + 40, last_video + (last_audio - last_video) / 2, size - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        segment_fixture_write_file(cut_path, data, (size_t)cuts[i]);
        segment_fixture_scan_path(cut_path, &scan);
        assert_false(scan.complete);
        uint64_t valid = scan.valid_length;
        print_message("cut at %llu: %s\n", (unsigned long long)cuts[i], scan.reason);
        mp4_scan_result_free(&scan);
        assert_int_equal(mp4_repair_truncate(cut_path, valid), 0);
        segment_fixture_scan_path(cut_path, &scan);
        assert_true(scan.complete);
        assert_int_equal(scan.valid_length, valid);
        mp4_scan_result_free(&scan);
        bool with_last_video = cuts[i] >= last_audio;
        segment_fixture_judge_file(cut_path,
                                   with_last_video ? SEGMENT_FIXTURE_FRAMES
                                                   : SEGMENT_FIXTURE_FRAMES - SEGMENT_FIXTURE_GOP,
                                   (SEGMENT_FIXTURE_SECONDS - 1) * SEGMENT_FIXTURE_PACKETS_PER_S);
        unlink(cut_path);
    }
    free(data);
    segment_summary_free(&summary);
}

static void test_create_refuses(void **state)
{
    (void)state;
    char path[128], target[128], link[128], error[256] = "";
    struct fmp4_video_config video = segment_fixture_video_config();
    segment_fixture_scratch_path(path, sizeof(path), "a.mp4");
    struct segment_writer *writer = segment_writer_create(path, &video, NULL, error, sizeof(error));
    assert_non_null(writer);
    /* A file is never reused. */
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, EEXIST);
    print_message("second create: %s\n", error);
    assert_int_equal(segment_writer_close(writer, NULL), 0);

    /* Never through a symlink, dangling or not. */
    segment_fixture_scratch_path(target, sizeof(target), "target");
    segment_fixture_scratch_path(link, sizeof(link), "link.mp4");
    assert_int_equal(symlink(target, link), 0);
    assert_null(segment_writer_create(link, &video, NULL, error, sizeof(error)));
    assert_int_equal(access(target, F_OK), -1);
    segment_fixture_write_file(target, (const uint8_t *)"keep", 4);
    assert_null(segment_writer_create(link, &video, NULL, error, sizeof(error)));
    size_t size = 0;
    free(test_read_file(target, &size));
    assert_int_equal(size, 4);

    /* Bad configs or paths leave nothing behind. */
    struct fmp4_video_config bad = video;
    bad.width = 0;
    segment_fixture_scratch_path(path, sizeof(path), "b.mp4");
    assert_null(segment_writer_create(path, &bad, NULL, error, sizeof(error)));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(access(path, F_OK), -1);
    struct fmp4_audio_config bad_audio = segment_fixture_mono_audio;
    bad_audio.channels = 9;
    assert_null(segment_writer_create(path, &video, &bad_audio, error, sizeof(error)));
    assert_int_equal(access(path, F_OK), -1);
    segment_fixture_scratch_path(path, sizeof(path), "dir/");
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, EINVAL);
    assert_null(segment_writer_create(NULL, &video, NULL, error, sizeof(error)));
    assert_null(segment_writer_create(path, NULL, NULL, NULL, 0));
    /* A parent that is a file. */
    segment_fixture_scratch_path(path, sizeof(path), "target/x.mp4");
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(segment_writer_close(NULL, NULL), -1);
}

/* Argument errors are refused without writing and without failing the writer. */
static void test_append_refuses(void **state)
{
    (void)state;
    char path[128], error[256] = "";
    struct fmp4_video_config video = segment_fixture_video_config();
    segment_fixture_scratch_path(path, sizeof(path), "video-only.mp4");
    struct segment_writer *writer = segment_writer_create(path, &video, NULL, error, sizeof(error));
    assert_non_null(writer);
    uint64_t init_size = segment_writer_progress(writer)->bytes;

    /* No audio track in this segment. */
    assert_int_equal(segment_fixture_append_second(writer, 0), -1);
    assert_int_equal(errno, EINVAL);
    /* The first video fragment must start with a keyframe. */
    const struct h264_access_unit *p_frame = &segment_fixture_clip.frames[1].unit;
    struct fmp4_sample sample = {.duration = SEGMENT_FIXTURE_FRAME_TICKS,
                                 .size = (uint32_t)p_frame->avcc_size,
                                 .keyframe = 0};
    assert_int_equal(segment_writer_append(writer, FMP4_VIDEO_TRACK, 0, &sample, 1, p_frame->avcc,
                                           p_frame->avcc_size),
                     -1);
    assert_int_equal(errno, EINVAL);
    /* Sizes that do not add up, no samples, an unknown track. */
    const struct h264_access_unit *idr = &segment_fixture_clip.frames[0].unit;
    sample = (struct fmp4_sample){.duration = SEGMENT_FIXTURE_FRAME_TICKS,
                                  .size = (uint32_t)idr->avcc_size + 1,
                                  .keyframe = 1};
    assert_int_equal(
        segment_writer_append(writer, FMP4_VIDEO_TRACK, 0, &sample, 1, idr->avcc, idr->avcc_size),
        -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(
        segment_writer_append(writer, FMP4_VIDEO_TRACK, 0, &sample, 0, idr->avcc, idr->avcc_size),
        -1);
    assert_int_equal(segment_writer_append(writer, 7, 0, &sample, 1, idr->avcc, idr->avcc_size),
                     -1);
    assert_int_equal(segment_writer_append(NULL, 1, 0, &sample, 1, idr->avcc, idr->avcc_size), -1);
    assert_int_equal(segment_writer_progress(writer)->bytes, init_size);

    /* Two GOPs, then time going back is refused. */
    assert_int_equal(segment_fixture_append_gop(writer, 0), 0);
    assert_int_equal(segment_fixture_append_gop(writer, 1), 0);
    assert_int_equal(segment_fixture_append_gop(writer, 1), -1);
    assert_int_equal(errno, EINVAL);
    /* A gap is fine. */
    assert_int_equal(segment_fixture_append_gop(writer, 3), 0);
    const struct segment_summary *progress = segment_writer_progress(writer);
    assert_true(progress->ok);
    assert_int_equal(progress->keyframe_count, 3);
    assert_int_equal(progress->keyframes[2].decode_time, 3 * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(segment_writer_sync(writer), 0);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    assert_int_equal(summary.video.samples, 3 * SEGMENT_FIXTURE_GOP);
    assert_int_equal(summary.video.first_decode_time, 0);
    assert_int_equal(summary.video.end_decode_time, 4 * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(summary.audio.samples, 0);
    struct mp4_scan_result scan;
    segment_fixture_scan_path(path, &scan);
    assert_true(scan.complete);
    assert_int_equal(scan.fragment_count, 3);
    assert_int_equal(scan.track_count, 1);
    mp4_scan_result_free(&scan);
    segment_summary_free(&summary);
}

int main(void)
{
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ten_second_segment, segment_fixture_scratch_setup,
                                        segment_fixture_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_every_byte, segment_fixture_scratch_setup,
                                        segment_fixture_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses, segment_fixture_scratch_setup,
                                        segment_fixture_scratch_teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses, segment_fixture_scratch_setup,
                                        segment_fixture_scratch_teardown),
    };
    return cmocka_run_group_tests(tests, segment_fixture_clip_setup, segment_fixture_clip_teardown);
}
