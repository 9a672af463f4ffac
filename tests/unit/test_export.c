/*
 * test_export.c - unit tests of the progressive MP4 export
 * (appliance/recording/export.c) and of the per-fragment sample tables it
 * reads (mp4_scan_read_samples()), on segments written by the recorder's
 * own segment_writer.c from a filmed clip (x264 on the sim camera, 640x360,
 * IDR every 30 frames, each frame stamped with its sequence number) and
 * 20 ms Opus packets, on a synthetic wall clock: frame i at T0 + i/30 s.
 *
 * Each export is judged by ffprobe and ffmpeg: it must probe and decode
 * with nothing on stderr, last the requested time within one frame, and
 * decode to exactly the frames captured in [from, to), the first being the
 * one captured at or just after from (read back from the picture's stamp).
 * Ranges: inside one segment starting mid-GOP between two frames, starting
 * on a keyframe, across two segments, across a gap, across a change of
 * picture size (two sample entries), and up to the durable length of a
 * segment still being written. Refused: an empty, reversed or too long
 * range, a range without footage, a file shorter than its row, a missing
 * file; a receiver that stops is reported. Leaks are ASan's to find.
 *
 * Single-threaded. The clips are filmed once in the group set-up; each test
 * works in its own mkdtemp() directory, removed by its teardown.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c tests/unit/support/media_judge.c appliance/recording/export.c appliance/recording/export_moov.c appliance/recording/segment_writer.c appliance/recording/segment_index.c appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_box.c appliance/media/h264.c appliance/media/fmp4.c tests/unit/support/media_clip.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_files.h"

#include "camera/frame_stamp.h"
#include "media/fmp4.h"
#include "recording/export.h"
#include "recording/mp4_scan.h"
#include "recording/segment_writer.h"
#include "support/media_clip.h"
#include "support/media_judge.h"

extern char **environ;

#define WIDTH          640
#define HEIGHT         360
#define TALL_HEIGHT    480
#define FPS            30
#define GOP            30
#define FRAMES         600 /* 20 s */
#define TALL_FRAMES    60
#define FRAME_TICKS    (FMP4_VIDEO_TIMESCALE / FPS)
#define PACKET_SAMPLES 960 /* 20 ms at 48 kHz */
#define PACKETS_PER_S  50
#define T0             1763712900000LL /* 2025-11-21 08:15:00 UTC */
#define FRAME_MS       (1000.0 / FPS)

/* A valid 20 ms Opus packet (CELT fullband, mono) that decodes to silence. */
static const uint8_t opus_packet[] = {0xF8, 0xFF, 0xFE};
static const struct fmp4_audio_config mono_audio = {
    .channels = 1, .input_sample_rate = 48000, .pre_skip = 312};

static struct media_clip clip, tall_clip;

static int clips_setup(void **state)
{
    const struct media_clip_settings settings = {.width = WIDTH,
                                                 .height = HEIGHT,
                                                 .fps = FPS,
                                                 .gop = GOP,
                                                 .frames = FRAMES,
                                                 .bitrate_kbps = 400,
                                                 .seed = 7};
    struct media_clip_settings tall = settings;
    (void)state;
    tall.height = TALL_HEIGHT;
    tall.frames = TALL_FRAMES;
    if (media_clip_record(&clip, &settings) != 0)
        return -1;
    return media_clip_record(&tall_clip, &tall);
}

static int clips_teardown(void **state)
{
    (void)state;
    media_clip_free(&clip);
    media_clip_free(&tall_clip);
    return 0;
}

/* ---- per-test directory ---------------------------------------------------- */

static char scratch[64];

static int scratch_setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/test_export.XXXXXX");
    return mkdtemp(scratch) != NULL ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *walk)
{
    (void)status;
    (void)type;
    (void)walk;
    return remove(path);
}

static int scratch_teardown(void **state)
{
    (void)state;
    return nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void scratch_path(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", scratch, name);
    assert_true(length > 0 && (size_t)length < size);
}

/* ---- writing segments -------------------------------------------------------- */

/* Wall-clock ms of time slot i (frame i of the timeline), exact when i % 3 == 0. */
static int64_t slot_ms(int i)
{
    assert_int_equal(i % 3, 0);
    return T0 + (int64_t)i * 100 / 3;
}

/* How a segment departs from the plain case. */
struct segment_options {
    int durable_gops; /* > 0: the row covers only what was durable after this many GOPs */
    int silent_gops;  /* the first seconds have no audio packets */
};

/*
 * Write count frames of c, from frame first on, as one segment whose frames
 * sit in time slots slot.. (so it starts at slot_ms(slot)); a video fragment
 * per GOP and, after each, the second's 50 audio packets. With durable_gops
 * the returned row stops at what was durable then, as an 'open' row does,
 * while the file goes on. options may be NULL.
 */
static struct export_segment write_segment(const struct media_clip *c, int first, int count,
                                           int slot, const char *name,
                                           const struct segment_options *options)
{
    const struct segment_options plain = {0};
    const struct segment_options *with = options != NULL ? options : &plain;
    struct export_segment segment = {.start_ms = slot_ms(slot)};
    char path[128], error[256] = "";
    struct fmp4_video_config video = media_clip_video_config(c);
    snprintf(segment.path, sizeof(segment.path), "%s.mp4", name);
    scratch_path(path, sizeof(path), segment.path);
    struct segment_writer *writer =
        segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
    if (writer == NULL)
        fail_msg("create %s: %s", path, error);
    assert_int_equal(count % GOP, 0);
    for (int gop = 0; gop < count / GOP; gop++) {
        struct fmp4_sample samples[GOP];
        struct byte_buffer payload;
        byte_buffer_init(&payload, SEGMENT_WRITER_FRAGMENT_MAX);
        for (int i = 0; i < GOP; i++) {
            const struct h264_access_unit *unit = &c->frames[first + gop * GOP + i].unit;
            samples[i] = (struct fmp4_sample){.duration = FRAME_TICKS,
                                              .size = (uint32_t)unit->avcc_size,
                                              .keyframe = unit->is_idr};
            assert_int_equal(byte_buffer_add(&payload, unit->avcc, unit->avcc_size),
                             BYTE_BUFFER_OK);
        }
        assert_int_equal(segment_writer_append(
                             writer, FMP4_VIDEO_TRACK, (uint64_t)gop * GOP * FRAME_TICKS, samples,
                             GOP, byte_buffer_data(&payload), byte_buffer_length(&payload)),
                         0);
        byte_buffer_free(&payload);
        struct fmp4_sample packets[PACKETS_PER_S];
        uint8_t bytes[PACKETS_PER_S * sizeof(opus_packet)];
        for (int i = 0; i < PACKETS_PER_S; i++) {
            packets[i] = (struct fmp4_sample){.duration = PACKET_SAMPLES, .size = 3};
            memcpy(bytes + i * sizeof(opus_packet), opus_packet, sizeof(opus_packet));
        }
        if (gop >= with->silent_gops)
            assert_int_equal(segment_writer_append(writer, FMP4_AUDIO_TRACK,
                                                   (uint64_t)gop * FMP4_AUDIO_TIMESCALE, packets,
                                                   PACKETS_PER_S, bytes, sizeof(bytes)),
                             0);
        assert_int_equal(segment_writer_sync(writer), 0);
        if (gop + 1 == with->durable_gops)
            segment.bytes = segment_writer_progress(writer)->durable_bytes;
    }
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    if (segment.bytes == 0)
        segment.bytes = summary.bytes;
    segment_summary_free(&summary);
    return segment;
}

/* ---- exporting ---------------------------------------------------------------- */

static int file_sink(void *context, const void *data, size_t size)
{
    return fwrite(data, 1, size, context) == size ? 0 : -1;
}

/* Export [from, to) of the segments to name; the presented range comes back. */
static void export_to_file(const struct export_segment *segments, size_t count, int64_t from,
                           int64_t to, const char *name, int64_t range[2])
{
    char path[128], error[256] = "";
    struct export_plan *plan = NULL;
    scratch_path(path, sizeof(path), name);
    if (export_prepare(scratch, segments, count, from, to, &plan, error, sizeof(error)) != 0)
        fail_msg("export_prepare: %s (%s)", error, strerror(errno));
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    if (export_write(plan, file_sink, file, error, sizeof(error)) != 0)
        fail_msg("export_write: %s", error);
    assert_int_equal(fclose(file), 0);
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    assert_int_equal((uint64_t)status.st_size, export_size(plan));
    export_range(plan, &range[0], &range[1]);
    export_free(plan);
}

/* Expect export_prepare() to refuse with code. */
static void expect_refused(const struct export_segment *segments, size_t count, int64_t from,
                           int64_t to, int code)
{
    char error[256] = "";
    struct export_plan *plan = NULL;
    errno = 0;
    assert_int_equal(
        export_prepare(scratch, segments, count, from, to, &plan, error, sizeof(error)), -1);
    print_message("refused (%s): %s\n", strerror(errno), error);
    assert_int_equal(errno, code);
    assert_null(plan);
    assert_true(error[0] != '\0');
}

/* ---- the judge: ffprobe and ffmpeg ------------------------------------------ */

/*
 * The export at name must probe with both streams and a duration within one
 * frame of to - from, decode cleanly, and decode to exactly the frames of
 * clip c listed in expected (their stamps' sequence numbers), in order.
 */
static void judge(const char *name, int64_t from, int64_t to, const struct media_clip *c,
                  const int *expected, int count)
{
    char path[128], gray_path[128];
    scratch_path(path, sizeof(path), name);
    char *probe[] = {"ffprobe", "-v", "error", "-show_format", "-show_streams", path, NULL};
    char *text = media_judge_run(scratch, probe);
    const char *format = strstr(text, "[FORMAT]");
    assert_non_null(format);
    double duration = media_judge_field(format, "duration"), frame_s = 1.0 / FPS;
    const char *audio = strstr(text, "codec_name=opus");
    assert_non_null(strstr(text, "codec_name=h264"));
    assert_non_null(audio);
    print_message("%s: [%lld, %lld) ms: ffprobe duration %.6f s (asked %.3f s), video stream "
                  "%.6f s, audio stream %.6f s\n",
                  name, (long long)from, (long long)to, duration, (to - from) / 1000.0,
                  media_judge_field(text, "duration"), media_judge_field(audio, "duration"));
    assert_int_equal(media_judge_field(format, "nb_streams"), 2);
    assert_true(duration > (to - from) / 1000.0 - frame_s &&
                duration < (to - from) / 1000.0 + frame_s);
    free(text);

    char *decode[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-", NULL};
    free(media_judge_run(scratch, decode));

    scratch_path(gray_path, sizeof(gray_path), "frames.gray");
    char *gray[] = {"ffmpeg",
                    "-nostdin",
                    "-y",
                    "-v",
                    "error",
                    "-i",
                    path,
                    "-map",
                    "0:v:0",
                    "-vf",
                    "crop=528:24:0:0",
                    "-fps_mode",
                    "passthrough",
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    "gray",
                    gray_path,
                    NULL};
    free(media_judge_run(scratch, gray));
    size_t size = 0, band = FRAME_STAMP_BAND_WIDTH * FRAME_STAMP_BAND_HEIGHT;
    uint8_t *pictures = test_read_file(gray_path, &size);
    print_message("%s: %zu frames decoded, %d expected\n", name, size / band, count);
    assert_int_equal(size, (size_t)count * band);
    for (int i = 0; i < count; i++) {
        uint64_t capture_ms = 0;
        uint16_t sequence = 0;
        assert_int_equal(frame_stamp_read(pictures + (size_t)i * band, FRAME_STAMP_BAND_WIDTH,
                                          &capture_ms, &sequence),
                         0);
        if (sequence != (uint16_t)c->frames[expected[i]].sequence)
            fail_msg("frame %d: sequence %u, expected clip frame %d (%u)", i, sequence, expected[i],
                     (unsigned)c->frames[expected[i]].sequence);
    }
    free(pictures);
}

/* The time slots in [from, to) from slot first up to before slot last. */
static int slots_in(int64_t from, int64_t to, int first, int last, int *out)
{
    int count = 0;
    for (int i = first; i < last; i++) {
        double at = T0 + i * FRAME_MS;
        if (at >= from - 1e-6 && at < to - 1e-6)
            out[count++] = i;
    }
    return count;
}

/* ---- tests ------------------------------------------------------------------------ */

/* The sample table of every fragment is what went in, and the bytes at its
 * offsets are the frames. */
static void test_read_samples(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 90, 0, "a", NULL);
    char path[128];
    scratch_path(path, sizeof(path), segment.path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct mp4_scan_result scan;
    struct mp4_scan_source source = mp4_scan_fd_source(&fd, segment.bytes);
    assert_int_equal(mp4_scan(&source, &scan), 0);
    assert_true(scan.complete);
    assert_int_equal(scan.fragment_count, 6);
    struct mp4_scan_sample samples[PACKETS_PER_S];
    size_t count = 0;
    assert_int_equal(mp4_scan_read_samples(&source, &scan, 0, samples, GOP - 1, &count), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(count, GOP);
    assert_int_equal(mp4_scan_read_samples(&source, &scan, 6, samples, GOP, &count), -1);
    assert_int_equal(errno, EINVAL);
    for (size_t f = 0; f < scan.fragment_count; f++) {
        const struct mp4_scan_fragment *fragment = &scan.fragments[f];
        assert_int_equal(mp4_scan_read_samples(&source, &scan, f, samples, PACKETS_PER_S, &count),
                         0);
        assert_int_equal(count, fragment->sample_count);
        for (size_t i = 0; i < count; i++) {
            if (fragment->track_id == FMP4_AUDIO_TRACK) {
                assert_int_equal(samples[i].decode_time, (f / 2) * 48000 + i * PACKET_SAMPLES);
                assert_int_equal(samples[i].duration, PACKET_SAMPLES);
                assert_true(samples[i].keyframe);
                continue;
            }
            const struct h264_access_unit *unit = &clip.frames[(f / 2) * GOP + i].unit;
            uint8_t bytes[256];
            assert_int_equal(samples[i].decode_time, ((f / 2) * GOP + i) * FRAME_TICKS);
            assert_int_equal(samples[i].duration, FRAME_TICKS);
            assert_int_equal(samples[i].size, unit->avcc_size);
            assert_int_equal(samples[i].keyframe, unit->is_idr);
            size_t check = unit->avcc_size < sizeof(bytes) ? unit->avcc_size : sizeof(bytes);
            assert_int_equal(pread(fd, bytes, check, (off_t)samples[i].offset), (ssize_t)check);
            assert_memory_equal(bytes, unit->avcc, check);
        }
    }
    mp4_scan_result_free(&scan);
    close(fd);
}

/* 5 s inside one segment, from an instant between frames 46 and 47. */
static void test_inside_one_segment(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 300, 0, "a", NULL);
    int64_t from = T0 + 1543, to = from + 5000, range[2];
    int expected[FRAMES];
    export_to_file(&segment, 1, from, to, "inside.mp4", range);
    assert_int_equal(range[0], from);
    assert_int_equal(range[1], to);
    int count = slots_in(from, to, 0, 300, expected);
    assert_int_equal(expected[0], 47);
    judge("inside.mp4", from, to, &clip, expected, count);
}

/* From exactly the capture time of a keyframe. */
static void test_starts_on_keyframe(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 300, 0, "a", NULL);
    int64_t from = slot_ms(90), to = from + 3000, range[2];
    int expected[FRAMES];
    export_to_file(&segment, 1, from, to, "keyframe.mp4", range);
    int count = slots_in(from, to, 0, 300, expected);
    assert_int_equal(expected[0], 90);
    judge("keyframe.mp4", from, to, &clip, expected, count);
}

/* 12.3 s across a segment boundary, starting mid-GOP. */
static void test_across_two_segments(void **state)
{
    (void)state;
    struct export_segment segments[2] = {write_segment(&clip, 0, 300, 0, "a", NULL),
                                         write_segment(&clip, 300, 300, 300, "b", NULL)};
    int64_t from = T0 + 4321, to = from + 12345, range[2];
    int expected[FRAMES];
    export_to_file(segments, 2, from, to, "across.mp4", range);
    assert_int_equal(range[1], to);
    int count = slots_in(from, to, 0, 600, expected);
    judge("across.mp4", from, to, &clip, expected, count);
}

/* The doorbell was offline from slot 150 to 240: the frame before the gap
 * lasts until the next segment starts, and the clock stays the wall's. */
static void test_gap_between_segments(void **state)
{
    (void)state;
    struct export_segment segments[2] = {write_segment(&clip, 0, 150, 0, "a", NULL),
                                         write_segment(&clip, 240, 360, 240, "b", NULL)};
    int64_t from = T0 + 2010, to = T0 + 13990, range[2];
    int expected[FRAMES];
    export_to_file(segments, 2, from, to, "gap.mp4", range);
    int count = slots_in(from, to, 0, 150, expected);
    count += slots_in(from, to, 240, 600, expected + count);
    judge("gap.mp4", from, to, &clip, expected, count);
}

/* The picture size changes at the second segment: two avc1 entries, and
 * every frame decodes at its own size. */
static void test_parameter_sets_change(void **state)
{
    (void)state;
    struct export_segment segments[2] = {write_segment(&clip, 0, 90, 0, "a", NULL),
                                         write_segment(&tall_clip, 0, 60, 90, "b", NULL)};
    int64_t from = T0 + 1510, to = T0 + 4500, range[2];
    char path[128];
    export_to_file(segments, 2, from, to, "sizes.mp4", range);
    scratch_path(path, sizeof(path), "sizes.mp4");
    char *decode[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-", NULL};
    free(media_judge_run(scratch, decode));
    char *heights[] = {
        "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=height", "-of",
        "csv=p=0", path, NULL};
    char *text = media_judge_run(scratch, heights);
    int short_frames = 0, tall_frames = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int height = atoi(line);
        assert_true(height == HEIGHT || height == TALL_HEIGHT);
        assert_true(height == TALL_HEIGHT || tall_frames == 0); /* in order */
        *(height == HEIGHT ? &short_frames : &tall_frames) += 1;
    }
    free(text);
    print_message("sizes.mp4: %d frames of %d lines, then %d of %d\n", short_frames, HEIGHT,
                  tall_frames, TALL_HEIGHT);
    int expected[FRAMES];
    assert_int_equal(short_frames, slots_in(from, to, 0, 90, expected));
    assert_int_equal(tall_frames, slots_in(from, to, 90, 150, expected));
}

/* A segment still being written: only its durable bytes are used. */
static void test_open_segment(void **state)
{
    (void)state;
    struct export_segment segment =
        write_segment(&clip, 0, 300, 0, "a", &(struct segment_options){.durable_gops = 4});
    int64_t from = T0 + 1000, range[2];
    int expected[FRAMES];
    export_to_file(&segment, 1, from, from + 8000, "open.mp4", range);
    assert_int_equal(range[0], from);
    assert_int_equal(range[1], T0 + 4000); /* four GOPs were durable */
    int count = slots_in(from, range[1], 0, 120, expected);
    judge("open.mp4", from, range[1], &clip, expected, count);
}

/* A range that starts before the footage presents it from its first frame. */
static void test_range_before_footage(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 90, 30, "a", NULL);
    int64_t range[2];
    int expected[FRAMES];
    export_to_file(&segment, 1, T0, T0 + 2500, "early.mp4", range);
    assert_int_equal(range[0], slot_ms(30));
    assert_int_equal(range[1], T0 + 2500);
    int count = slots_in(range[0], range[1], 30, 120, expected);
    for (int i = 0; i < count; i++)
        expected[i] -= 30; /* clip frame 0 sits in slot 30 */
    judge("early.mp4", range[0], range[1], &clip, expected, count);
}

/* The audio starts a second into the segment: an empty edit puts it there. */
static void test_audio_starts_later(void **state)
{
    (void)state;
    struct export_segment segment =
        write_segment(&clip, 0, 90, 0, "a", &(struct segment_options){.silent_gops = 1});
    int64_t from = T0 + 500, to = T0 + 2500, range[2];
    int expected[FRAMES];
    char path[128];
    export_to_file(&segment, 1, from, to, "late.mp4", range);
    int count = slots_in(from, to, 0, 90, expected);
    judge("late.mp4", from, to, &clip, expected, count);
    scratch_path(path, sizeof(path), "late.mp4");
    char *probe[] = {"ffprobe",
                     "-v",
                     "error",
                     "-select_streams",
                     "a",
                     "-show_entries",
                     "stream=start_time,duration",
                     "-of",
                     "csv=p=0",
                     path,
                     NULL};
    char *text = media_judge_run(scratch, probe);
    double start = 0, duration = 0;
    assert_int_equal(sscanf(text, "%lf,%lf", &start, &duration), 2);
    print_message("late.mp4: audio from %.6f s for %.6f s\n", start, duration);
    assert_true(start > 0.499 && start < 0.501);
    free(text);
}

static void test_refused(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 90, 0, "a", NULL);
    expect_refused(&segment, 1, T0 + 1000, T0 + 1000, EINVAL); /* empty */
    expect_refused(&segment, 1, T0 + 2000, T0 + 1000, EINVAL); /* reversed */
    expect_refused(&segment, 1, T0, T0 + EXPORT_MAX_MS + 1, E2BIG);
    expect_refused(&segment, 1, T0 + 3000, T0 + 4000, ENODATA); /* after the footage */
    expect_refused(&segment, 0, T0, T0 + 1000, ENODATA);
    struct export_segment missing = segment;
    snprintf(missing.path, sizeof(missing.path), "missing.mp4");
    expect_refused(&missing, 1, T0, T0 + 1000, ENOENT);

    /* The file lost its tail: it is shorter than its row says. */
    char path[128];
    scratch_path(path, sizeof(path), segment.path);
    assert_int_equal(truncate(path, (off_t)segment.bytes - 100), 0);
    expect_refused(&segment, 1, T0, T0 + 1000, EIO);
}

static int stop_after_head(void *context, const void *data, size_t size)
{
    (void)data;
    (void)size;
    return (*(int *)context)++ == 0 ? 0 : -1;
}

/* A receiver that goes away stops the export, which cleans up. */
static void test_receiver_stops(void **state)
{
    (void)state;
    struct export_segment segment = write_segment(&clip, 0, 90, 0, "a", NULL);
    char error[256] = "";
    struct export_plan *plan = NULL;
    int calls = 0;
    assert_int_equal(
        export_prepare(scratch, &segment, 1, T0, T0 + 2000, &plan, error, sizeof(error)), 0);
    assert_int_equal(export_write(plan, stop_after_head, &calls, error, sizeof(error)), -1);
    assert_int_equal(errno, ECANCELED);
    assert_int_equal(calls, 2);
    export_free(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_samples, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_inside_one_segment, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_starts_on_keyframe, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_across_two_segments, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_gap_between_segments, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_parameter_sets_change, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_open_segment, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_range_before_footage, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_audio_starts_later, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_refused, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_receiver_stops, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, clips_setup, clips_teardown);
}
