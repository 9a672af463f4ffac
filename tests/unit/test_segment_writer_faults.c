/*
 * test_segment_writer_faults.c - unit tests of the recording file layer
 * (appliance/recording/segment_writer.c) when the disk or the system calls
 * fail, writing the 10 s segment of tests/unit/support/segment_fixture.c: a
 * full filesystem (a 256 KiB tmpfs, when this runs as root) fails an append
 * with ENOSPC and leaves a valid file; short writes, EINTR, a write failing
 * half way, a failed ftruncate and a failed fdatasync are injected by
 * defining pwrite(), ftruncate() and fdatasync() here, in the test
 * executable, which the writer then calls instead of the C library's (the
 * originals are found with dlsym(RTLD_NEXT)). Each file left behind must
 * still scan, probe and decode.
 *
 * Single-threaded. The clip is encoded once in the group set-up. Files live
 * in a mkdtemp() directory per test, removed by the test's teardown, which
 * also unmounts the tmpfs if a test left it mounted and clears every
 * injected failure.
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

#include <dlfcn.h>
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

/* ---- injected system calls ---------------------------------------------- */

static struct injection {
    int fdatasync_errno; /* fail every fdatasync() with this */
    int fdatasync_calls;
    size_t pwrite_chunk; /* write at most this many bytes per call (0: all) */
    int pwrite_eintr;    /* every second call fails with EINTR */
    long pwrite_budget;  /* bytes left before ENOSPC (< 0: unlimited) */
    int ftruncate_errno; /* fail ftruncate() with this */
    int pwrite_calls;
} inject = {.pwrite_budget = -1};

int fdatasync(int fd)
{
    static int (*real)(int);
    inject.fdatasync_calls++;
    if (inject.fdatasync_errno != 0) {
        errno = inject.fdatasync_errno;
        return -1;
    }
    if (real == NULL)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}

ssize_t pwrite(int fd, const void *buffer, size_t size, off_t offset)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (real == NULL)
        real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    if (inject.pwrite_eintr && inject.pwrite_calls++ % 2 == 1) {
        errno = EINTR;
        return -1;
    }
    if (inject.pwrite_chunk > 0 && size > inject.pwrite_chunk)
        size = inject.pwrite_chunk;
    if (inject.pwrite_budget >= 0) {
        if (inject.pwrite_budget == 0) {
            errno = ENOSPC;
            return -1;
        }
        if (size > (size_t)inject.pwrite_budget)
            size = (size_t)inject.pwrite_budget;
        inject.pwrite_budget -= (long)size;
    }
    return real(fd, buffer, size, offset);
}

int ftruncate(int fd, off_t length)
{
    static int (*real)(int, off_t);
    if (inject.ftruncate_errno != 0) {
        errno = inject.ftruncate_errno;
        return -1;
    }
    if (real == NULL)
        real = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    return real(fd, length);
}

/* A full filesystem: a 256 KiB tmpfs (needs root; skipped otherwise). */
static void test_disk_full(void **state)
{
    (void)state;
    char path[160], filler[160], error[256] = "";
    segment_fixture_scratch_path(segment_fixture_scratch.mount_point,
                                 sizeof(segment_fixture_scratch.mount_point), "tmpfs");
    assert_int_equal(mkdir(segment_fixture_scratch.mount_point, 0700), 0);
    if (mount("tmpfs", segment_fixture_scratch.mount_point, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=256k") != 0) {
        print_message("SKIPPED: cannot mount a tmpfs (%s); ENOSPC is covered by injection only\n",
                      strerror(errno));
        segment_fixture_scratch.mount_point[0] = '\0';
        skip();
    }
    snprintf(path, sizeof(path), "%s/0123456789ab/1.mp4", segment_fixture_scratch.mount_point);
    struct fmp4_video_config video = segment_fixture_video_config();
    struct segment_writer *writer =
        segment_writer_create(path, &video, &segment_fixture_mono_audio, error, sizeof(error));
    assert_non_null(writer);
    int written = 0;
    while (written < SEGMENT_FIXTURE_FRAGMENTS &&
           segment_fixture_append_fragment(writer, written) == 0)
        written++;
    assert_true(written < SEGMENT_FIXTURE_FRAGMENTS);
    assert_int_equal(errno, ENOSPC);
    assert_true(written >= 1);
    print_message("disk full after %d fragments\n", written);
    /* Failed for good, even for a packet that would fit. */
    assert_int_equal(segment_fixture_append_second(writer, SEGMENT_FIXTURE_SECONDS), -1);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(segment_writer_sync(writer), -1);
    assert_false(segment_writer_progress(writer)->ok);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), -1);
    assert_int_equal(errno, ENOSPC);
    assert_false(summary.ok);
    assert_int_equal(summary.error, ENOSPC);
    assert_int_equal(summary.durable_bytes, summary.bytes);
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal((uint64_t)status.st_size, summary.bytes);

    struct mp4_scan_result scan;
    segment_fixture_scan_path(path, &scan);
    segment_fixture_expect_scan_matches(&scan, &summary);
    assert_int_equal(scan.fragment_count, (size_t)written);
    mp4_scan_result_free(&scan);
    segment_fixture_judge_file(path, (int)summary.video.samples, (int)summary.audio.samples);

    /* Fill what is left: creating a segment then fails and leaves nothing. */
    snprintf(filler, sizeof(filler), "%s/filler", segment_fixture_scratch.mount_point);
    int fd = open(filler, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static const uint8_t block[4096];
    while (write(fd, block, sizeof(block)) > 0)
        ;
    close(fd);
    snprintf(path, sizeof(path), "%s/0123456789ab/2.mp4", segment_fixture_scratch.mount_point);
    assert_null(
        segment_writer_create(path, &video, &segment_fixture_mono_audio, error, sizeof(error)));
    assert_int_equal(errno, ENOSPC);
    print_message("create on a full disk: %s\n", error);
    assert_int_equal(access(path, F_OK), -1);
    segment_summary_free(&summary);

    assert_int_equal(umount2(segment_fixture_scratch.mount_point, 0), 0);
    segment_fixture_scratch.mount_point[0] = '\0';
}

/* Short writes and EINTR change nothing in the file. */
static void test_short_writes_and_eintr(void **state)
{
    (void)state;
    char plain[128], choppy[128];
    segment_fixture_scratch_path(plain, sizeof(plain), "plain.mp4");
    segment_fixture_scratch_path(choppy, sizeof(choppy), "choppy.mp4");
    struct segment_summary summary = segment_fixture_write_segment(plain);
    segment_summary_free(&summary);
    inject.pwrite_chunk = 1000;
    inject.pwrite_eintr = 1;
    summary = segment_fixture_write_segment(choppy);
    assert_true(inject.pwrite_calls > 2 * (int)(summary.bytes / 1000));
    inject = (struct injection){.pwrite_budget = -1};
    size_t plain_size = 0, choppy_size = 0;
    uint8_t *a = test_read_file(plain, &plain_size), *b = test_read_file(choppy, &choppy_size);
    assert_int_equal(plain_size, choppy_size);
    assert_memory_equal(a, b, plain_size);
    free(a);
    free(b);
    segment_summary_free(&summary);
}

/* A write failing half way through a fragment is cut off; when even that
 * cut fails, the scan still stops before the partial fragment. */
static void test_write_fails_half_way(void **state)
{
    (void)state;
    char path[128], error[256] = "";
    struct fmp4_video_config video = segment_fixture_video_config();
    for (int cut_fails = 0; cut_fails <= 1; cut_fails++) {
        segment_fixture_scratch_path(path, sizeof(path), cut_fails ? "uncut.mp4" : "cut.mp4");
        struct segment_writer *writer =
            segment_writer_create(path, &video, &segment_fixture_mono_audio, error, sizeof(error));
        assert_non_null(writer);
        for (int n = 0; n < 6; n++)
            assert_int_equal(segment_fixture_append_fragment(writer, n), 0);
        uint64_t good = segment_writer_progress(writer)->bytes;
        inject.pwrite_budget = 5000;
        inject.ftruncate_errno = cut_fails ? EIO : 0;
        assert_int_equal(segment_fixture_append_fragment(writer, 6), -1);
        assert_int_equal(errno, ENOSPC);
        inject = (struct injection){.pwrite_budget = -1};
        assert_int_equal(segment_fixture_append_fragment(writer, 7), -1);
        assert_int_equal(errno, ENOSPC);
        struct segment_summary summary;
        assert_int_equal(segment_writer_close(writer, &summary), -1);
        assert_int_equal(summary.bytes, good);
        assert_int_equal(summary.video.fragments, 3);
        struct stat status;
        assert_int_equal(stat(path, &status), 0);
        assert_int_equal((uint64_t)status.st_size, cut_fails ? good + 5000 : good);
        struct mp4_scan_result scan;
        segment_fixture_scan_path(path, &scan);
        assert_int_equal(scan.valid_length, good);
        assert_int_equal(scan.complete, !cut_fails);
        mp4_scan_result_free(&scan);
        if (cut_fails)
            assert_int_equal(mp4_repair_truncate(path, good), 0);
        segment_fixture_judge_file(path, 3 * SEGMENT_FIXTURE_GOP,
                                   3 * SEGMENT_FIXTURE_PACKETS_PER_S);
        segment_summary_free(&summary);
    }
}

/* An fdatasync error is final: reported, never retried, appends refused,
 * and durable_bytes stays at the last sync that worked. */
static void test_fdatasync_fails(void **state)
{
    (void)state;
    char path[128], error[256] = "";
    struct fmp4_video_config video = segment_fixture_video_config();
    segment_fixture_scratch_path(path, sizeof(path), "sync.mp4");
    struct segment_writer *writer =
        segment_writer_create(path, &video, &segment_fixture_mono_audio, error, sizeof(error));
    assert_non_null(writer);
    for (int n = 0; n < 4; n++)
        assert_int_equal(segment_fixture_append_fragment(writer, n), 0);
    uint64_t durable = segment_writer_progress(writer)->durable_bytes;
    assert_int_equal(durable, segment_writer_progress(writer)->bytes);
    assert_int_equal(segment_fixture_append_fragment(writer, 4), 0);
    inject.fdatasync_errno = EIO;
    assert_int_equal(segment_fixture_append_fragment(writer, 5),
                     -1); /* the audio is written, the sync fails */
    assert_int_equal(errno, EIO);
    inject.fdatasync_errno = 0;
    int calls = inject.fdatasync_calls;
    uint64_t bytes = segment_writer_progress(writer)->bytes;
    assert_int_equal(segment_writer_sync(writer), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(segment_fixture_append_fragment(writer, 6), -1);
    assert_int_equal(errno, EIO);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(inject.fdatasync_calls, calls); /* never asked again */
    assert_false(summary.ok);
    assert_int_equal(summary.error, EIO);
    assert_int_equal(summary.durable_bytes, durable);
    assert_int_equal(summary.bytes, bytes);
    assert_true(bytes > durable);
    segment_summary_free(&summary);
}

/* The fixture's directory, with no failure injected. */
static int fault_setup(void **state)
{
    inject = (struct injection){.pwrite_budget = -1};
    return segment_fixture_scratch_setup(state);
}

/* Clear every injected failure (the teardown spawns rm), then remove the
 * directory. */
static int fault_teardown(void **state)
{
    inject = (struct injection){.pwrite_budget = -1};
    return segment_fixture_scratch_teardown(state);
}

int main(void)
{
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(test_short_writes_and_eintr, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(test_write_fails_half_way, fault_setup, fault_teardown),
        cmocka_unit_test_setup_teardown(test_fdatasync_fails, fault_setup, fault_teardown),
    };
    return cmocka_run_group_tests(tests, segment_fixture_clip_setup, segment_fixture_clip_teardown);
}
