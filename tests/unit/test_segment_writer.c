/*
 * test_segment_writer.c - unit tests of the recording file layer
 * (appliance/recording/segment_writer.c, with mp4_scan.c and
 * segment_index.c), judged by ffprobe/ffmpeg: a 10 s segment of real H.264
 * (the firmware's x264 encoder on the unpaced sim camera, 640x360@30, IDR
 * every 30 frames) and 20 ms Opus packets, one fragment per GOP and one
 * audio fragment per second, synced each second like the recorder does.
 *
 * Checked: the file probes and decodes with an empty stderr, with the right
 * frame and packet counts, timestamps, keyframes and, in every decoded
 * picture, the frame stamp of the frame that went in; the summary and a scan
 * agree on every fragment, time and keyframe; the keyframe index round-trips
 * through its BLOB encoding; a copy cut at every byte offset of the last two
 * fragments scans to the end of the previous whole fragment, and once
 * mp4_repair_truncate() has cut it there it probes and decodes again; a full
 * filesystem (a 256 KiB tmpfs, when this runs as root) fails an append with
 * ENOSPC and leaves a valid file; short writes, EINTR, a write failing half
 * way, a failed ftruncate and a failed fdatasync are injected by defining
 * pwrite(), ftruncate() and fdatasync() here, in the test executable, which
 * the writer then calls instead of the C library's (the originals are found
 * with dlsym(RTLD_NEXT)).
 *
 * Single-threaded. The clip is encoded once in the group set-up. Files live
 * in a mkdtemp() directory per test, removed by the test's teardown, which
 * also unmounts the tmpfs if a test left it mounted.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c tests/unit/support/media_judge.c appliance/recording/segment_writer.c appliance/recording/segment_index.c appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_repair.c appliance/recording/mp4_box.c appliance/media/h264.c appliance/media/fmp4.c tests/unit/support/media_clip.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
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
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_files.h"

#include "camera/camera.h"
#include "camera/frame_stamp.h"
#include "encoder/encoder.h"
#include "media/fmp4.h"
#include "media/h264.h"
#include "support/media_clip.h"
#include "support/media_judge.h"
#include "recording/mp4_repair.h"
#include "recording/mp4_scan.h"
#include "recording/segment_index.h"
#include "recording/segment_writer.h"

extern char **environ;

#define WIDTH          640
#define HEIGHT         360
#define FPS            30
#define GOP            30
#define SECONDS        10
#define FRAMES         (FPS * SECONDS)
#define FRAME_TICKS    (FMP4_VIDEO_TIMESCALE / FPS)
#define PACKET_SAMPLES 960 /* 20 ms at 48 kHz */
#define PACKETS_PER_S  50
#define PRE_SKIP       312
#define BITRATE_KBPS   400 /* small files: a few GOPs fit in the 256 KiB tmpfs */
#define FRAGMENTS      (2 * SECONDS)

/* A valid 20 ms Opus packet (CELT fullband, mono) that decodes to silence. */
static const uint8_t opus_packet[] = {0xF8, 0xFF, 0xFE};

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

/* ---- the clip ------------------------------------------------------------ */

/* The clip, filmed once for every test. */
static struct media_clip clip;

static int clip_setup(void **state)
{
    const struct media_clip_settings settings = {.width = WIDTH,
                                                 .height = HEIGHT,
                                                 .fps = FPS,
                                                 .gop = GOP,
                                                 .frames = FRAMES,
                                                 .bitrate_kbps = BITRATE_KBPS,
                                                 .seed = 5};
    (void)state;
    return media_clip_record(&clip, &settings);
}

static int clip_teardown(void **state)
{
    (void)state;
    media_clip_free(&clip);
    return 0;
}

static struct fmp4_video_config video_config(void)
{
    return media_clip_video_config(&clip);
}

static const struct fmp4_audio_config mono_audio = {
    .channels = 1, .input_sample_rate = 48000, .pre_skip = PRE_SKIP};

/* ---- per-test directory ---------------------------------------------------- */

static struct {
    char directory[64];
    char mount_point[96]; /* non-empty while the tmpfs is mounted */
} scratch;

static int scratch_setup(void **state)
{
    (void)state;
    snprintf(scratch.directory, sizeof(scratch.directory), "/tmp/test_segment_writer.XXXXXX");
    scratch.mount_point[0] = '\0';
    inject = (struct injection){.pwrite_budget = -1};
    return mkdtemp(scratch.directory) != NULL ? 0 : -1;
}

static int scratch_teardown(void **state)
{
    (void)state;
    inject = (struct injection){.pwrite_budget = -1};
    if (scratch.mount_point[0] != '\0' && umount2(scratch.mount_point, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", scratch.mount_point, strerror(errno));
    char *argv[] = {"rm", "-rf", scratch.directory, NULL};
    pid_t pid;
    int status = 0;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || status != 0)
        return -1;
    return 0;
}

/* path = scratch directory + "/" + name */
static void scratch_path(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", scratch.directory, name);
    assert_true(length > 0 && (size_t)length < size);
}

/* ---- writing the segment ------------------------------------------------- */

/* Append the video fragment of GOP gop (frames gop*GOP .. +GOP). */
static int append_gop(struct segment_writer *writer, int gop)
{
    struct fmp4_sample samples[GOP];
    size_t payload_size = 0;
    for (int i = 0; i < GOP; i++) {
        const struct h264_access_unit *unit = &clip.frames[gop * GOP + i].unit;
        samples[i] = (struct fmp4_sample){
            .duration = FRAME_TICKS, .size = (uint32_t)unit->avcc_size, .keyframe = unit->is_idr};
        payload_size += unit->avcc_size;
    }
    uint8_t *payload = malloc(payload_size);
    assert_non_null(payload);
    size_t at = 0;
    for (int i = 0; i < GOP; i++) {
        const struct h264_access_unit *unit = &clip.frames[gop * GOP + i].unit;
        memcpy(payload + at, unit->avcc, unit->avcc_size);
        at += unit->avcc_size;
    }
    int result = segment_writer_append(writer, FMP4_VIDEO_TRACK, (uint64_t)gop * GOP * FRAME_TICKS,
                                       samples, GOP, payload, payload_size);
    int saved_errno = errno;
    free(payload);
    errno = saved_errno;
    return result;
}

/* Append the audio fragment of second s (50 packets). */
static int append_second(struct segment_writer *writer, int second)
{
    struct fmp4_sample samples[PACKETS_PER_S];
    uint8_t payload[PACKETS_PER_S * sizeof(opus_packet)];
    for (int i = 0; i < PACKETS_PER_S; i++) {
        samples[i] = (struct fmp4_sample){.duration = PACKET_SAMPLES, .size = sizeof(opus_packet)};
        memcpy(payload + i * sizeof(opus_packet), opus_packet, sizeof(opus_packet));
    }
    return segment_writer_append(writer, FMP4_AUDIO_TRACK,
                                 (uint64_t)second * PACKETS_PER_S * PACKET_SAMPLES, samples,
                                 PACKETS_PER_S, payload, sizeof(payload));
}

/* Append fragment number n of the plan: V0 A0 V1 A1 ... (video first on
 * equal decode times), syncing after each second as the recorder does. */
static int append_fragment(struct segment_writer *writer, int n)
{
    if (n % 2 == 0)
        return append_gop(writer, n / 2);
    if (append_second(writer, n / 2) != 0)
        return -1;
    return segment_writer_sync(writer);
}

/* Write the whole 10 s segment to path; returns its summary. */
static struct segment_summary write_segment(const char *path)
{
    char error[256] = "";
    struct fmp4_video_config video = video_config();
    struct segment_writer *writer =
        segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
    if (writer == NULL)
        fail_msg("create %s: %s", path, error);
    for (int n = 0; n < FRAGMENTS; n++)
        assert_int_equal(append_fragment(writer, n), 0);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    return summary;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

/* ---- the judge: ffprobe and ffmpeg ---------------------------------------- */

/* The file must probe and decode cleanly with frames video frames (the
 * first ones of the clip) and packets audio packets, as written. */
static void judge_file(const char *path, int frames, int packets)
{
    char *probe[] = {"ffprobe", "-v", "error", "-show_streams", "-show_format", (char *)path, NULL};
    char *text = media_judge_run(scratch.directory, probe);
    media_judge_expect_line(text, "codec_name=h264");
    media_judge_expect_line(text, "width=640");
    media_judge_expect_line(text, "height=360");
    media_judge_expect_line(text, "nb_streams=2");
    media_judge_expect_line(text, "codec_name=opus");
    media_judge_expect_line(text, "channels=1");
    const char *format = strstr(text, "\n[FORMAT]");
    assert_non_null(format);
    const char *start = strstr(format, "\nstart_time="), *duration = strstr(format, "\nduration=");
    assert_true(start != NULL && duration != NULL);
    double start_s = strtod(start + 12, NULL), end_s = strtod(duration + 10, NULL);
    double video_end = frames / (double)FPS, audio_end = packets / (double)PACKETS_PER_S;
    double expected_end = video_end > audio_end ? video_end : audio_end;
    print_message("%s: %d frames, %d packets, start %.6f s, duration %.6f s\n", path, frames,
                  packets, start_s, end_s);
    assert_true(start_s > -0.001 && start_s < 0.001);
    assert_true(end_s > expected_end - 0.001 && end_s < expected_end + 0.001);
    free(text);

    char *decode[] = {"ffmpeg",     "-nostdin", "-v",   "error", "-i",
                      (char *)path, "-f",       "null", "-",     NULL};
    free(media_judge_run(scratch.directory, decode));

    char *packets_argv[] = {"ffprobe",
                            "-v",
                            "error",
                            "-show_entries",
                            "packet=stream_index,pts,dts,flags",
                            "-of",
                            "csv=p=0",
                            (char *)path,
                            NULL};
    text = media_judge_run(scratch.directory, packets_argv);
    int video = 0, audio = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int stream;
        unsigned long long pts, dts;
        char flags[8] = "";
        assert_int_equal(sscanf(line, "%d,%llu,%llu,%7s", &stream, &pts, &dts, flags), 4);
        assert_int_equal(pts, dts);
        if (stream == 0) {
            assert_int_equal(pts, (uint64_t)video * FRAME_TICKS);
            assert_int_equal(flags[0] == 'K', video % GOP == 0);
            video++;
        } else {
            assert_int_equal(pts, (uint64_t)audio * PACKET_SAMPLES);
            audio++;
        }
    }
    assert_int_equal(video, frames);
    assert_int_equal(audio, packets);
    free(text);

    /* Every decoded picture carries the stamp of the frame that went in. */
    char gray_path[96];
    scratch_path(gray_path, sizeof(gray_path), "frames.gray");
    char *gray_argv[] = {"ffmpeg",     "-nostdin", "-y",    "-v",        "error",       "-i",
                         (char *)path, "-map",     "0:v:0", "-fps_mode", "passthrough", "-f",
                         "rawvideo",   "-pix_fmt", "gray",  gray_path,   NULL};
    free(media_judge_run(scratch.directory, gray_argv));
    size_t size = 0;
    uint8_t *gray = test_read_file(gray_path, &size);
    assert_int_equal(size, (size_t)frames * WIDTH * HEIGHT);
    for (int i = 0; i < frames; i++) {
        uint64_t capture_ms = 0;
        uint16_t sequence = 0;
        assert_int_equal(
            frame_stamp_read(gray + (size_t)i * WIDTH * HEIGHT, WIDTH, &capture_ms, &sequence), 0);
        assert_int_equal(sequence, (uint16_t)clip.frames[i].sequence);
        assert_int_equal(capture_ms, clip.frames[i].capture_ms & ((1ull << 48) - 1));
    }
    free(gray);
    unlink(gray_path);
}

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

static void scan_path(const char *path, struct mp4_scan_result *result)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(mp4_scan_fd(fd, result), 0);
    close(fd);
}

/* The scan and the writer's summary must tell the same story. */
static void expect_scan_matches(const struct mp4_scan_result *scan,
                                const struct segment_summary *summary)
{
    assert_true(scan->complete);
    assert_string_equal(scan->reason, "");
    assert_int_equal(scan->valid_length, summary->bytes);
    assert_int_equal(scan->init_length, summary->init_size);
    const struct mp4_scan_track *video = mp4_scan_find_track(scan, FMP4_VIDEO_TRACK);
    const struct mp4_scan_track *audio = mp4_scan_find_track(scan, FMP4_AUDIO_TRACK);
    assert_true(video != NULL && audio != NULL);
    assert_int_equal(video->samples, summary->video.samples);
    assert_int_equal(video->fragments, summary->video.fragments);
    assert_int_equal(audio->samples, summary->audio.samples);
    if (summary->video.samples > 0) {
        assert_int_equal(video->first_decode_time, summary->video.first_decode_time);
        assert_int_equal(video->end_decode_time, summary->video.end_decode_time);
    }
    if (summary->audio.samples > 0)
        assert_int_equal(audio->end_decode_time, summary->audio.end_decode_time);
    size_t keyframes = 0;
    for (size_t i = 0; i < scan->fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &scan->fragments[i];
        if (fragment->track_id != FMP4_VIDEO_TRACK || !fragment->keyframe)
            continue;
        assert_true(keyframes < summary->keyframe_count);
        assert_int_equal(fragment->offset, summary->keyframes[keyframes].offset);
        assert_int_equal(fragment->base_decode_time, summary->keyframes[keyframes].decode_time);
        keyframes++;
    }
    assert_int_equal(keyframes, summary->keyframe_count);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_ten_second_segment(void **state)
{
    (void)state;
    char path[128];
    scratch_path(path, sizeof(path), "recordings/0123456789ab/1.mp4");
    struct segment_summary summary = write_segment(path);

    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal(status.st_mode & 07777, 0640);
    assert_int_equal((uint64_t)status.st_size, summary.bytes);
    char directory[128];
    scratch_path(directory, sizeof(directory), "recordings/0123456789ab");
    assert_int_equal(stat(directory, &status), 0);
    assert_int_equal(status.st_mode & 07777, 0750);

    assert_true(summary.ok);
    assert_int_equal(summary.error, 0);
    assert_int_equal(summary.durable_bytes, summary.bytes);
    assert_int_equal(summary.video.samples, FRAMES);
    assert_int_equal(summary.video.fragments, SECONDS);
    assert_int_equal(summary.video.first_decode_time, 0);
    assert_int_equal(summary.video.last_decode_time, (uint64_t)(FRAMES - 1) * FRAME_TICKS);
    assert_int_equal(summary.video.end_decode_time, (uint64_t)SECONDS * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(summary.audio.samples, SECONDS * PACKETS_PER_S);
    assert_int_equal(summary.audio.fragments, SECONDS);
    assert_int_equal(summary.audio.last_decode_time,
                     (uint64_t)SECONDS * FMP4_AUDIO_TIMESCALE - PACKET_SAMPLES);
    assert_int_equal(summary.audio.end_decode_time, (uint64_t)SECONDS * FMP4_AUDIO_TIMESCALE);
    assert_int_equal(summary.keyframe_count, SECONDS);
    assert_int_equal(summary.keyframes[0].offset, summary.init_size);
    for (size_t i = 0; i < summary.keyframe_count; i++)
        assert_int_equal(summary.keyframes[i].decode_time, i * FMP4_VIDEO_TIMESCALE);

    judge_file(path, FRAMES, SECONDS * PACKETS_PER_S);

    struct mp4_scan_result scan;
    scan_path(path, &scan);
    expect_scan_matches(&scan, &summary);
    assert_int_equal(scan.fragment_count, FRAGMENTS);
    assert_string_equal(scan.major_brand, "isom");
    for (int n = 0; n < FRAGMENTS; n++) {
        const struct mp4_scan_fragment *fragment = &scan.fragments[n];
        assert_int_equal(fragment->sequence, n + 1);
        if (n % 2 == 0) {
            assert_int_equal(fragment->track_id, FMP4_VIDEO_TRACK);
            assert_int_equal(fragment->base_decode_time, (uint64_t)n / 2 * FMP4_VIDEO_TIMESCALE);
            assert_int_equal(fragment->duration, FMP4_VIDEO_TIMESCALE);
            assert_int_equal(fragment->sample_count, GOP);
            assert_true(fragment->keyframe);
        } else {
            assert_int_equal(fragment->track_id, FMP4_AUDIO_TRACK);
            assert_int_equal(fragment->base_decode_time, (uint64_t)n / 2 * FMP4_AUDIO_TIMESCALE);
            assert_int_equal(fragment->duration, FMP4_AUDIO_TIMESCALE);
            assert_int_equal(fragment->sample_count, PACKETS_PER_S);
            assert_int_equal(fragment->bytes, PACKETS_PER_S * sizeof(opus_packet));
        }
        uint64_t end = fragment->offset + fragment->moof_size + fragment->mdat_size;
        assert_int_equal(end, n + 1 < FRAGMENTS ? scan.fragments[n + 1].offset : summary.bytes);
    }
    const struct mp4_scan_track *video = mp4_scan_find_track(&scan, FMP4_VIDEO_TRACK);
    assert_string_equal(video->handler, "vide");
    assert_string_equal(video->sample_entry, "avc1");
    assert_int_equal(video->timescale, FMP4_VIDEO_TIMESCALE);
    assert_true(video->sps_parsed);
    assert_int_equal(video->width, WIDTH);
    assert_int_equal(video->height, HEIGHT);
    assert_memory_equal(video->sps, clip.sps, clip.sps_size);
    assert_memory_equal(video->pps, clip.pps, clip.pps_size);
    const struct mp4_scan_track *audio = mp4_scan_find_track(&scan, FMP4_AUDIO_TRACK);
    assert_string_equal(audio->handler, "soun");
    assert_string_equal(audio->sample_entry, "Opus");
    assert_int_equal(audio->timescale, FMP4_AUDIO_TIMESCALE);
    assert_int_equal(audio->channels, 1);
    assert_int_equal(audio->pre_skip, PRE_SKIP);
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
    scratch_path(path, sizeof(path), "whole.mp4");
    scratch_path(cut_path, sizeof(cut_path), "cut.mp4");
    struct segment_summary summary = write_segment(path);
    size_t size = 0;
    uint8_t *data = test_read_file(path, &size);
    struct mp4_scan_result scan;
    scan_memory(data, size, &scan);
    assert_true(scan.complete);
    assert_int_equal(scan.fragment_count, FRAGMENTS);
    uint64_t last_video = scan.fragments[FRAGMENTS - 2].offset;
    uint64_t last_audio = scan.fragments[FRAGMENTS - 1].offset;
    mp4_scan_result_free(&scan);

    /* Cut at a fragment boundary the file is whole; inside one, it ends
     * at the fragment before. */
    for (uint64_t cut = last_video; cut < size; cut++) {
        scan_memory(data, (size_t)cut, &scan);
        bool boundary = cut == last_video || cut == last_audio;
        uint64_t expected = cut < last_audio ? last_video : last_audio;
        size_t fragments = cut < last_audio ? FRAGMENTS - 2 : FRAGMENTS - 1;
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
        write_file(cut_path, data, (size_t)cuts[i]);
        scan_path(cut_path, &scan);
        assert_false(scan.complete);
        uint64_t valid = scan.valid_length;
        print_message("cut at %llu: %s\n", (unsigned long long)cuts[i], scan.reason);
        mp4_scan_result_free(&scan);
        assert_int_equal(mp4_repair_truncate(cut_path, valid), 0);
        scan_path(cut_path, &scan);
        assert_true(scan.complete);
        assert_int_equal(scan.valid_length, valid);
        mp4_scan_result_free(&scan);
        bool with_last_video = cuts[i] >= last_audio;
        judge_file(cut_path, with_last_video ? FRAMES : FRAMES - GOP,
                   (SECONDS - 1) * PACKETS_PER_S);
        unlink(cut_path);
    }
    free(data);
    segment_summary_free(&summary);
}

static void test_create_refuses(void **state)
{
    (void)state;
    char path[128], target[128], link[128], error[256] = "";
    struct fmp4_video_config video = video_config();
    scratch_path(path, sizeof(path), "a.mp4");
    struct segment_writer *writer = segment_writer_create(path, &video, NULL, error, sizeof(error));
    assert_non_null(writer);
    /* A file is never reused. */
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, EEXIST);
    print_message("second create: %s\n", error);
    assert_int_equal(segment_writer_close(writer, NULL), 0);

    /* Never through a symlink, dangling or not. */
    scratch_path(target, sizeof(target), "target");
    scratch_path(link, sizeof(link), "link.mp4");
    assert_int_equal(symlink(target, link), 0);
    assert_null(segment_writer_create(link, &video, NULL, error, sizeof(error)));
    assert_int_equal(access(target, F_OK), -1);
    write_file(target, (const uint8_t *)"keep", 4);
    assert_null(segment_writer_create(link, &video, NULL, error, sizeof(error)));
    size_t size = 0;
    free(test_read_file(target, &size));
    assert_int_equal(size, 4);

    /* Bad configs or paths leave nothing behind. */
    struct fmp4_video_config bad = video;
    bad.width = 0;
    scratch_path(path, sizeof(path), "b.mp4");
    assert_null(segment_writer_create(path, &bad, NULL, error, sizeof(error)));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(access(path, F_OK), -1);
    struct fmp4_audio_config bad_audio = mono_audio;
    bad_audio.channels = 9;
    assert_null(segment_writer_create(path, &video, &bad_audio, error, sizeof(error)));
    assert_int_equal(access(path, F_OK), -1);
    scratch_path(path, sizeof(path), "dir/");
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, EINVAL);
    assert_null(segment_writer_create(NULL, &video, NULL, error, sizeof(error)));
    assert_null(segment_writer_create(path, NULL, NULL, NULL, 0));
    /* A parent that is a file. */
    scratch_path(path, sizeof(path), "target/x.mp4");
    assert_null(segment_writer_create(path, &video, NULL, error, sizeof(error)));
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(segment_writer_close(NULL, NULL), -1);
}

/* Argument errors are refused without writing and without failing the writer. */
static void test_append_refuses(void **state)
{
    (void)state;
    char path[128], error[256] = "";
    struct fmp4_video_config video = video_config();
    scratch_path(path, sizeof(path), "video-only.mp4");
    struct segment_writer *writer = segment_writer_create(path, &video, NULL, error, sizeof(error));
    assert_non_null(writer);
    uint64_t init_size = segment_writer_progress(writer)->bytes;

    /* No audio track in this segment. */
    assert_int_equal(append_second(writer, 0), -1);
    assert_int_equal(errno, EINVAL);
    /* The first video fragment must start with a keyframe. */
    const struct h264_access_unit *p_frame = &clip.frames[1].unit;
    struct fmp4_sample sample = {
        .duration = FRAME_TICKS, .size = (uint32_t)p_frame->avcc_size, .keyframe = 0};
    assert_int_equal(segment_writer_append(writer, FMP4_VIDEO_TRACK, 0, &sample, 1, p_frame->avcc,
                                           p_frame->avcc_size),
                     -1);
    assert_int_equal(errno, EINVAL);
    /* Sizes that do not add up, no samples, an unknown track. */
    const struct h264_access_unit *idr = &clip.frames[0].unit;
    sample = (struct fmp4_sample){
        .duration = FRAME_TICKS, .size = (uint32_t)idr->avcc_size + 1, .keyframe = 1};
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
    assert_int_equal(append_gop(writer, 0), 0);
    assert_int_equal(append_gop(writer, 1), 0);
    assert_int_equal(append_gop(writer, 1), -1);
    assert_int_equal(errno, EINVAL);
    /* A gap is fine. */
    assert_int_equal(append_gop(writer, 3), 0);
    const struct segment_summary *progress = segment_writer_progress(writer);
    assert_true(progress->ok);
    assert_int_equal(progress->keyframe_count, 3);
    assert_int_equal(progress->keyframes[2].decode_time, 3 * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(segment_writer_sync(writer), 0);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    assert_int_equal(summary.video.samples, 3 * GOP);
    assert_int_equal(summary.video.first_decode_time, 0);
    assert_int_equal(summary.video.end_decode_time, 4 * FMP4_VIDEO_TIMESCALE);
    assert_int_equal(summary.audio.samples, 0);
    struct mp4_scan_result scan;
    scan_path(path, &scan);
    assert_true(scan.complete);
    assert_int_equal(scan.fragment_count, 3);
    assert_int_equal(scan.track_count, 1);
    mp4_scan_result_free(&scan);
    segment_summary_free(&summary);
}

/* A full filesystem: a 256 KiB tmpfs (needs root; skipped otherwise). */
static void test_disk_full(void **state)
{
    (void)state;
    char path[160], filler[160], error[256] = "";
    scratch_path(scratch.mount_point, sizeof(scratch.mount_point), "tmpfs");
    assert_int_equal(mkdir(scratch.mount_point, 0700), 0);
    if (mount("tmpfs", scratch.mount_point, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") != 0) {
        print_message("SKIPPED: cannot mount a tmpfs (%s); ENOSPC is covered by injection only\n",
                      strerror(errno));
        scratch.mount_point[0] = '\0';
        skip();
    }
    snprintf(path, sizeof(path), "%s/0123456789ab/1.mp4", scratch.mount_point);
    struct fmp4_video_config video = video_config();
    struct segment_writer *writer =
        segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
    assert_non_null(writer);
    int written = 0;
    while (written < FRAGMENTS && append_fragment(writer, written) == 0)
        written++;
    assert_true(written < FRAGMENTS);
    assert_int_equal(errno, ENOSPC);
    assert_true(written >= 1);
    print_message("disk full after %d fragments\n", written);
    /* Failed for good, even for a packet that would fit. */
    assert_int_equal(append_second(writer, SECONDS), -1);
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
    scan_path(path, &scan);
    expect_scan_matches(&scan, &summary);
    assert_int_equal(scan.fragment_count, (size_t)written);
    mp4_scan_result_free(&scan);
    judge_file(path, (int)summary.video.samples, (int)summary.audio.samples);

    /* Fill what is left: creating a segment then fails and leaves nothing. */
    snprintf(filler, sizeof(filler), "%s/filler", scratch.mount_point);
    int fd = open(filler, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static const uint8_t block[4096];
    while (write(fd, block, sizeof(block)) > 0)
        ;
    close(fd);
    snprintf(path, sizeof(path), "%s/0123456789ab/2.mp4", scratch.mount_point);
    assert_null(segment_writer_create(path, &video, &mono_audio, error, sizeof(error)));
    assert_int_equal(errno, ENOSPC);
    print_message("create on a full disk: %s\n", error);
    assert_int_equal(access(path, F_OK), -1);
    segment_summary_free(&summary);

    assert_int_equal(umount2(scratch.mount_point, 0), 0);
    scratch.mount_point[0] = '\0';
}

/* Short writes and EINTR change nothing in the file. */
static void test_short_writes_and_eintr(void **state)
{
    (void)state;
    char plain[128], choppy[128];
    scratch_path(plain, sizeof(plain), "plain.mp4");
    scratch_path(choppy, sizeof(choppy), "choppy.mp4");
    struct segment_summary summary = write_segment(plain);
    segment_summary_free(&summary);
    inject.pwrite_chunk = 1000;
    inject.pwrite_eintr = 1;
    summary = write_segment(choppy);
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
    struct fmp4_video_config video = video_config();
    for (int cut_fails = 0; cut_fails <= 1; cut_fails++) {
        scratch_path(path, sizeof(path), cut_fails ? "uncut.mp4" : "cut.mp4");
        struct segment_writer *writer =
            segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
        assert_non_null(writer);
        for (int n = 0; n < 6; n++)
            assert_int_equal(append_fragment(writer, n), 0);
        uint64_t good = segment_writer_progress(writer)->bytes;
        inject.pwrite_budget = 5000;
        inject.ftruncate_errno = cut_fails ? EIO : 0;
        assert_int_equal(append_fragment(writer, 6), -1);
        assert_int_equal(errno, ENOSPC);
        inject = (struct injection){.pwrite_budget = -1};
        assert_int_equal(append_fragment(writer, 7), -1);
        assert_int_equal(errno, ENOSPC);
        struct segment_summary summary;
        assert_int_equal(segment_writer_close(writer, &summary), -1);
        assert_int_equal(summary.bytes, good);
        assert_int_equal(summary.video.fragments, 3);
        struct stat status;
        assert_int_equal(stat(path, &status), 0);
        assert_int_equal((uint64_t)status.st_size, cut_fails ? good + 5000 : good);
        struct mp4_scan_result scan;
        scan_path(path, &scan);
        assert_int_equal(scan.valid_length, good);
        assert_int_equal(scan.complete, !cut_fails);
        mp4_scan_result_free(&scan);
        if (cut_fails)
            assert_int_equal(mp4_repair_truncate(path, good), 0);
        judge_file(path, 3 * GOP, 3 * PACKETS_PER_S);
        segment_summary_free(&summary);
    }
}

/* An fdatasync error is final: reported, never retried, appends refused,
 * and durable_bytes stays at the last sync that worked. */
static void test_fdatasync_fails(void **state)
{
    (void)state;
    char path[128], error[256] = "";
    struct fmp4_video_config video = video_config();
    scratch_path(path, sizeof(path), "sync.mp4");
    struct segment_writer *writer =
        segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
    assert_non_null(writer);
    for (int n = 0; n < 4; n++)
        assert_int_equal(append_fragment(writer, n), 0);
    uint64_t durable = segment_writer_progress(writer)->durable_bytes;
    assert_int_equal(durable, segment_writer_progress(writer)->bytes);
    assert_int_equal(append_fragment(writer, 4), 0);
    inject.fdatasync_errno = EIO;
    assert_int_equal(append_fragment(writer, 5), -1); /* the audio is written, the sync fails */
    assert_int_equal(errno, EIO);
    inject.fdatasync_errno = 0;
    int calls = inject.fdatasync_calls;
    uint64_t bytes = segment_writer_progress(writer)->bytes;
    assert_int_equal(segment_writer_sync(writer), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(append_fragment(writer, 6), -1);
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

int main(void)
{
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ten_second_segment, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_every_byte, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_short_writes_and_eintr, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_write_fails_half_way, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_fdatasync_fails, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, clip_setup, clip_teardown);
}
