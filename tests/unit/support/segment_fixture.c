/*
 * segment_fixture.c - the filmed clip, the per-test directory, the segment
 * plan and the ffprobe/ffmpeg judge shared by the segment writer's unit tests
 * (see segment_fixture.h). Single-threaded; the clip is freed by the group
 * teardown, the directory by the test teardown.
 */
#include "segment_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/frame_stamp.h"
#include "media_judge.h"
#include "test_files.h"

extern char **environ;

/* A valid 20 ms Opus packet (CELT fullband, mono) that decodes to silence. */
const uint8_t segment_fixture_opus_packet[] = {0xF8, 0xFF, 0xFE};

/* ---- the clip ------------------------------------------------------------ */

/* The clip, filmed once for every test group. */
struct media_clip segment_fixture_clip;

/* See segment_fixture.h. */
int segment_fixture_clip_setup(void **state)
{
    const struct media_clip_settings settings = {.width = SEGMENT_FIXTURE_WIDTH,
                                                 .height = SEGMENT_FIXTURE_HEIGHT,
                                                 .fps = SEGMENT_FIXTURE_FPS,
                                                 .gop = SEGMENT_FIXTURE_GOP,
                                                 .frames = SEGMENT_FIXTURE_FRAMES,
                                                 .bitrate_kbps = SEGMENT_FIXTURE_BITRATE_KBPS,
                                                 .seed = 5};
    (void)state;
    return media_clip_record(&segment_fixture_clip, &settings);
}

/* See segment_fixture.h. */
int segment_fixture_clip_teardown(void **state)
{
    (void)state;
    media_clip_free(&segment_fixture_clip);
    return 0;
}

/* See segment_fixture.h. */
struct fmp4_video_config segment_fixture_video_config(void)
{
    return media_clip_video_config(&segment_fixture_clip);
}

const struct fmp4_audio_config segment_fixture_mono_audio = {
    .channels = 1, .input_sample_rate = 48000, .pre_skip = SEGMENT_FIXTURE_PRE_SKIP};

/* ---- per-test directory ---------------------------------------------------- */

struct segment_fixture_scratch segment_fixture_scratch;

/* See segment_fixture.h. */
int segment_fixture_scratch_setup(void **state)
{
    (void)state;
    snprintf(segment_fixture_scratch.directory, sizeof(segment_fixture_scratch.directory),
             "/tmp/test_segment_writer.XXXXXX");
    segment_fixture_scratch.mount_point[0] = '\0';
    return mkdtemp(segment_fixture_scratch.directory) != NULL ? 0 : -1;
}

/* See segment_fixture.h. */
int segment_fixture_scratch_teardown(void **state)
{
    (void)state;
    if (segment_fixture_scratch.mount_point[0] != '\0' &&
        umount2(segment_fixture_scratch.mount_point, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", segment_fixture_scratch.mount_point, strerror(errno));
    char *argv[] = {"rm", "-rf", segment_fixture_scratch.directory, NULL};
    pid_t pid;
    int status = 0;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || status != 0)
        return -1;
    return 0;
}

/* path = scratch directory + "/" + name */
void segment_fixture_scratch_path(char *path, size_t size, const char *name)
{
    int length = snprintf(path, size, "%s/%s", segment_fixture_scratch.directory, name);
    assert_true(length > 0 && (size_t)length < size);
}

/* ---- writing the segment ------------------------------------------------- */

/* See segment_fixture.h. */
int segment_fixture_append_gop(struct segment_writer *writer, int gop)
{
    struct fmp4_sample samples[SEGMENT_FIXTURE_GOP];
    size_t payload_size = 0;
    for (int i = 0; i < SEGMENT_FIXTURE_GOP; i++) {
        const struct h264_access_unit *unit =
            &segment_fixture_clip.frames[gop * SEGMENT_FIXTURE_GOP + i].unit;
        samples[i] = (struct fmp4_sample){.duration = SEGMENT_FIXTURE_FRAME_TICKS,
                                          .size = (uint32_t)unit->avcc_size,
                                          .keyframe = unit->is_idr};
        payload_size += unit->avcc_size;
    }
    uint8_t *payload = malloc(payload_size);
    assert_non_null(payload);
    size_t at = 0;
    for (int i = 0; i < SEGMENT_FIXTURE_GOP; i++) {
        const struct h264_access_unit *unit =
            &segment_fixture_clip.frames[gop * SEGMENT_FIXTURE_GOP + i].unit;
        memcpy(payload + at, unit->avcc, unit->avcc_size);
        at += unit->avcc_size;
    }
    int result = segment_writer_append(
        writer, FMP4_VIDEO_TRACK, (uint64_t)gop * SEGMENT_FIXTURE_GOP * SEGMENT_FIXTURE_FRAME_TICKS,
        samples, SEGMENT_FIXTURE_GOP, payload, payload_size);
    int saved_errno = errno;
    free(payload);
    errno = saved_errno;
    return result;
}

/* Append the audio fragment of second s (50 packets). */
int segment_fixture_append_second(struct segment_writer *writer, int second)
{
    struct fmp4_sample samples[SEGMENT_FIXTURE_PACKETS_PER_S];
    uint8_t payload[SEGMENT_FIXTURE_PACKETS_PER_S * sizeof(segment_fixture_opus_packet)];
    for (int i = 0; i < SEGMENT_FIXTURE_PACKETS_PER_S; i++) {
        samples[i] = (struct fmp4_sample){.duration = SEGMENT_FIXTURE_PACKET_SAMPLES,
                                          .size = sizeof(segment_fixture_opus_packet)};
        memcpy(payload + i * sizeof(segment_fixture_opus_packet), segment_fixture_opus_packet,
               sizeof(segment_fixture_opus_packet));
    }
    return segment_writer_append(writer, FMP4_AUDIO_TRACK,
                                 (uint64_t)second * SEGMENT_FIXTURE_PACKETS_PER_S *
                                     SEGMENT_FIXTURE_PACKET_SAMPLES,
                                 samples, SEGMENT_FIXTURE_PACKETS_PER_S, payload, sizeof(payload));
}

/* Append fragment number n of the plan: V0 A0 V1 A1 ... (video first on
 * equal decode times), syncing after each second as the recorder does. */
int segment_fixture_append_fragment(struct segment_writer *writer, int n)
{
    if (n % 2 == 0)
        return segment_fixture_append_gop(writer, n / 2);
    if (segment_fixture_append_second(writer, n / 2) != 0)
        return -1;
    return segment_writer_sync(writer);
}

/* Write the whole 10 s segment to path; returns its summary. */
struct segment_summary segment_fixture_write_segment(const char *path)
{
    char error[256] = "";
    struct fmp4_video_config video = segment_fixture_video_config();
    struct segment_writer *writer =
        segment_writer_create(path, &video, &segment_fixture_mono_audio, error, sizeof(error));
    if (writer == NULL)
        fail_msg("create %s: %s", path, error);
    for (int n = 0; n < SEGMENT_FIXTURE_FRAGMENTS; n++)
        assert_int_equal(segment_fixture_append_fragment(writer, n), 0);
    struct segment_summary summary;
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    return summary;
}

/* See segment_fixture.h. */
void segment_fixture_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

/* ---- the judge: ffprobe and ffmpeg ---------------------------------------- */

/* The file must probe and decode cleanly with frames video frames (the
 * first ones of the clip) and packets audio packets, as written. */
void segment_fixture_judge_file(const char *path, int frames, int packets)
{
    char *probe[] = {"ffprobe", "-v", "error", "-show_streams", "-show_format", (char *)path, NULL};
    char *text = media_judge_run(segment_fixture_scratch.directory, probe);
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
    double video_end = frames / (double)SEGMENT_FIXTURE_FPS,
           audio_end = packets / (double)SEGMENT_FIXTURE_PACKETS_PER_S;
    double expected_end = video_end > audio_end ? video_end : audio_end;
    print_message("%s: %d frames, %d packets, start %.6f s, duration %.6f s\n", path, frames,
                  packets, start_s, end_s);
    assert_true(start_s > -0.001 && start_s < 0.001);
    assert_true(end_s > expected_end - 0.001 && end_s < expected_end + 0.001);
    free(text);

    char *decode[] = {"ffmpeg",     "-nostdin", "-v",   "error", "-i",
                      (char *)path, "-f",       "null", "-",     NULL};
    free(media_judge_run(segment_fixture_scratch.directory, decode));

    char *packets_argv[] = {"ffprobe",
                            "-v",
                            "error",
                            "-show_entries",
                            "packet=stream_index,pts,dts,flags",
                            "-of",
                            "csv=p=0",
                            (char *)path,
                            NULL};
    text = media_judge_run(segment_fixture_scratch.directory, packets_argv);
    int video = 0, audio = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int stream;
        unsigned long long pts, dts;
        char flags[8] = "";
        assert_int_equal(sscanf(line, "%d,%llu,%llu,%7s", &stream, &pts, &dts, flags), 4);
        assert_int_equal(pts, dts);
        if (stream == 0) {
            assert_int_equal(pts, (uint64_t)video * SEGMENT_FIXTURE_FRAME_TICKS);
            assert_int_equal(flags[0] == 'K', video % SEGMENT_FIXTURE_GOP == 0);
            video++;
        } else {
            assert_int_equal(pts, (uint64_t)audio * SEGMENT_FIXTURE_PACKET_SAMPLES);
            audio++;
        }
    }
    assert_int_equal(video, frames);
    assert_int_equal(audio, packets);
    free(text);

    /* Every decoded picture carries the stamp of the frame that went in. */
    char gray_path[96];
    segment_fixture_scratch_path(gray_path, sizeof(gray_path), "frames.gray");
    char *gray_argv[] = {"ffmpeg",     "-nostdin", "-y",    "-v",        "error",       "-i",
                         (char *)path, "-map",     "0:v:0", "-fps_mode", "passthrough", "-f",
                         "rawvideo",   "-pix_fmt", "gray",  gray_path,   NULL};
    free(media_judge_run(segment_fixture_scratch.directory, gray_argv));
    size_t size = 0;
    uint8_t *gray = test_read_file(gray_path, &size);
    assert_int_equal(size, (size_t)frames * SEGMENT_FIXTURE_WIDTH * SEGMENT_FIXTURE_HEIGHT);
    for (int i = 0; i < frames; i++) {
        uint64_t capture_ms = 0;
        uint16_t sequence = 0;
        assert_int_equal(
            frame_stamp_read(gray + (size_t)i * SEGMENT_FIXTURE_WIDTH * SEGMENT_FIXTURE_HEIGHT,
                             SEGMENT_FIXTURE_WIDTH, &capture_ms, &sequence),
            0);
        assert_int_equal(sequence, (uint16_t)segment_fixture_clip.frames[i].sequence);
        assert_int_equal(capture_ms,
                         segment_fixture_clip.frames[i].capture_ms & ((1ull << 48) - 1));
    }
    free(gray);
    unlink(gray_path);
}

/* See segment_fixture.h. */
void segment_fixture_scan_path(const char *path, struct mp4_scan_result *result)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(mp4_scan_fd(fd, result), 0);
    close(fd);
}

/* The scan and the writer's summary must tell the same story. */
void segment_fixture_expect_scan_matches(const struct mp4_scan_result *scan,
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
