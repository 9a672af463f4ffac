/*
 * test_playback.c - unit tests of playing recordings from an instant
 * (appliance/recording/playback.c), on real segment files written with
 * segment_writer.c from a filmed clip (640x360@30, IDR every 30 frames, one
 * video fragment per GOP and 50 x 20 ms Opus packets a second) and indexed
 * in a temporary database with recording_store.c, as the recorder does.
 *
 * The stream is judged by ffprobe/ffmpeg: it decodes with an empty stderr;
 * decode time 0 is the keyframe at or before the instant; video timestamps
 * run on without a step across a segment boundary and keep a real gap as a
 * gap; every picture carries the frame stamp of the clip frame that went in,
 * so frames are consecutive; a change of SPS brings a second init segment
 * (each part then decodes on its own). Also: the end at `to`, a client that
 * goes away, instants without footage, and following a segment that is
 * being written by another thread (with its own connection) as the
 * recorder would, into the next segment.
 *
 * Single-threaded except the follow test's writer. Files live in a
 * mkdtemp() directory per test, removed by its teardown.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c tests/unit/support/media_judge.c tests/unit/support/media_clip.c appliance/recording/playback.c appliance/recording/recording_store.c appliance/storage/database.c appliance/recording/segment_writer.c appliance/recording/segment_index.c appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_box.c appliance/media/h264.c appliance/media/fmp4.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
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
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/media_clip.h"
#include "support/media_judge.h"
#include "support/test_files.h"

#include "camera/frame_stamp.h"
#include "media/fmp4.h"
#include "recording/mp4_box.h"
#include "recording/mp4_scan.h"
#include "recording/playback.h"
#include "recording/recording_store.h"
#include "recording/segment_index.h"
#include "recording/segment_writer.h"
#include "storage/database.h"

extern char **environ;

#define DEVICE         "0123456789ab"
#define T0             1700000000000LL /* wall ms of the first segment */
#define FPS            30
#define GOP            30
#define FRAME_TICKS    (FMP4_VIDEO_TIMESCALE / FPS)
#define PACKET_SAMPLES 960 /* 20 ms at 48 kHz */
#define PACKETS_PER_S  50
#define MAX_FRAMES     1024
#define MAX_PACKETS    (PACKETS_PER_S * 40)

/* A valid 20 ms Opus packet (CELT fullband, mono) that decodes to silence. */
static const uint8_t opus_packet[] = {0xF8, 0xFF, 0xFE};
static const struct fmp4_audio_config mono_audio = {
    .channels = 1, .input_sample_rate = 48000, .pre_skip = 312};

/* Clip A: 20 s at 640x360, two 10 s segments' worth. Clip B: 3 s at
 * 768x432, for a change of SPS. Filmed once for every test. */
static struct media_clip clip_a, clip_b;

static int clips_setup(void **state)
{
    const struct media_clip_settings a = {.width = 640,
                                          .height = 360,
                                          .fps = FPS,
                                          .gop = GOP,
                                          .frames = 600,
                                          .bitrate_kbps = 400,
                                          .seed = 5};
    const struct media_clip_settings b = {.width = 768,
                                          .height = 432,
                                          .fps = FPS,
                                          .gop = GOP,
                                          .frames = 90,
                                          .bitrate_kbps = 400,
                                          .seed = 9};
    (void)state;
    return media_clip_record(&clip_a, &a) == 0 && media_clip_record(&clip_b, &b) == 0 ? 0 : -1;
}

static int clips_teardown(void **state)
{
    (void)state;
    media_clip_free(&clip_a);
    media_clip_free(&clip_b);
    return 0;
}

/* ---- per-test directory and database ------------------------------------------ */

static struct {
    char directory[64];
    char recordings[96];
    char database[96];
    sqlite3 *db;
} scratch;

static int scratch_setup(void **state)
{
    char error[256];
    (void)state;
    snprintf(scratch.directory, sizeof(scratch.directory), "/tmp/test_playback.XXXXXX");
    if (mkdtemp(scratch.directory) == NULL)
        return -1;
    snprintf(scratch.recordings, sizeof(scratch.recordings), "%s/recordings", scratch.directory);
    snprintf(scratch.database, sizeof(scratch.database), "%s/doorstep.db", scratch.directory);
    return database_open(scratch.database, &scratch.db, error, sizeof(error));
}

static int scratch_teardown(void **state)
{
    char *argv[] = {"rm", "-rf", scratch.directory, NULL};
    pid_t pid;
    int status = 0;
    (void)state;
    database_close(scratch.db);
    scratch.db = NULL;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || status != 0)
        return -1;
    return 0;
}

/* ---- writing and indexing segments --------------------------------------------- */

/* What one segment file holds: seconds of clip frames from first_frame on,
 * and audio; audio_lag writes each second's audio after the next second's
 * video (an audio fragment may then follow a keyframe it ends before). */
struct segment_plan {
    const char *name; /* file name under recordings/DEVICE/ */
    const struct media_clip *clip;
    int first_frame, seconds, audio_lag;
    int64_t start_ms;
};

/* One second of audio: 50 packets at second s of the file. */
static void append_audio(struct segment_writer *writer, int second)
{
    struct fmp4_sample samples[PACKETS_PER_S];
    uint8_t payload[PACKETS_PER_S * sizeof(opus_packet)];
    for (int i = 0; i < PACKETS_PER_S; i++) {
        samples[i] = (struct fmp4_sample){.duration = PACKET_SAMPLES, .size = sizeof(opus_packet)};
        memcpy(payload + i * sizeof(opus_packet), opus_packet, sizeof(opus_packet));
    }
    assert_int_equal(segment_writer_append(writer, FMP4_AUDIO_TRACK,
                                           (uint64_t)second * FMP4_AUDIO_TIMESCALE, samples,
                                           PACKETS_PER_S, payload, sizeof(payload)),
                     0);
}

/* Second s of the plan: its GOP, its audio (or the previous second's), a sync. */
static void append_second(struct segment_writer *writer, const struct segment_plan *plan, int s)
{
    struct fmp4_sample samples[GOP];
    size_t payload_size = 0, at = 0;
    uint8_t *payload;

    for (int i = 0; i < GOP; i++) {
        const struct h264_access_unit *unit =
            &plan->clip->frames[plan->first_frame + s * GOP + i].unit;
        samples[i] = (struct fmp4_sample){
            .duration = FRAME_TICKS, .size = (uint32_t)unit->avcc_size, .keyframe = unit->is_idr};
        payload_size += unit->avcc_size;
    }
    payload = malloc(payload_size);
    assert_non_null(payload);
    for (int i = 0; i < GOP; i++) {
        const struct h264_access_unit *unit =
            &plan->clip->frames[plan->first_frame + s * GOP + i].unit;
        memcpy(payload + at, unit->avcc, unit->avcc_size);
        at += unit->avcc_size;
    }
    assert_int_equal(segment_writer_append(writer, FMP4_VIDEO_TRACK,
                                           (uint64_t)s * FMP4_VIDEO_TIMESCALE, samples, GOP,
                                           payload, payload_size),
                     0);
    free(payload);
    if (!plan->audio_lag)
        append_audio(writer, s);
    else if (s > 0)
        append_audio(writer, s - 1);
    if (plan->audio_lag && s == plan->seconds - 1)
        append_audio(writer, s);
    assert_int_equal(segment_writer_sync(writer), 0);
}

static struct segment_writer *create_segment(const struct segment_plan *plan)
{
    char path[256], error[256] = "";
    struct fmp4_video_config video = media_clip_video_config(plan->clip);
    struct segment_writer *writer;

    snprintf(path, sizeof(path), "%s/%s/%s", scratch.recordings, DEVICE, plan->name);
    writer = segment_writer_create(path, &video, &mono_audio, error, sizeof(error));
    if (writer == NULL)
        fail_msg("create %s: %s", path, error);
    return writer;
}

/* Record a summary's progress in a row, as the recorder does after a sync. */
static void update_row(sqlite3 *db, struct recording_row *row,
                       const struct segment_summary *summary, int closed)
{
    uint8_t blob[1024];
    size_t blob_size = 0;

    assert_true(segment_index_max_size(summary->keyframe_count) <= sizeof(blob));
    assert_int_equal(segment_index_encode(summary->keyframes, summary->keyframe_count, blob,
                                          sizeof(blob), &blob_size),
                     0);
    row->bytes = (int64_t)summary->durable_bytes;
    row->end_ms = row->start_ms + (int64_t)(summary->video.end_decode_time / 90);
    row->video_frames = (int64_t)summary->video.samples;
    row->audio_packets = (int64_t)summary->audio.samples;
    row->keyframe_index = blob;
    row->keyframe_index_size = blob_size;
    assert_int_equal(recording_store_update(db, row, closed), 0);
    row->keyframe_index = NULL;
}

/* Insert the 'open' row of a segment just created. */
static void insert_row(sqlite3 *db, struct recording_row *row, const struct segment_plan *plan,
                       struct segment_writer *writer)
{
    memset(row, 0, sizeof(*row));
    snprintf(row->device_id, sizeof(row->device_id), "%s", DEVICE);
    snprintf(row->path, sizeof(row->path), "%s/%s", DEVICE, plan->name);
    row->start_ms = row->end_ms = plan->start_ms;
    row->width = plan->clip->info.width;
    row->height = plan->clip->info.height;
    row->bytes = (int64_t)segment_writer_progress(writer)->durable_bytes;
    assert_int_equal(recording_store_insert(db, row, &row->id), 0);
}

/* Write a whole segment and index it as closed. */
static void record_segment(const struct segment_plan *plan)
{
    struct segment_writer *writer = create_segment(plan);
    struct segment_summary summary;
    struct recording_row row;

    insert_row(scratch.db, &row, plan, writer);
    for (int s = 0; s < plan->seconds; s++)
        append_second(writer, plan, s);
    assert_int_equal(segment_writer_close(writer, &summary), 0);
    update_row(scratch.db, &row, &summary, 1);
    segment_summary_free(&summary);
}

/* ---- playing into memory ------------------------------------------------------- */

struct sink {
    uint8_t *data;
    size_t size, capacity;
    int calls, fail_at_call; /* fail_at_call > 0: that call returns -1 */
};

static int sink_write(void *context, const uint8_t *data, size_t size)
{
    struct sink *sink = context;
    if (++sink->calls == sink->fail_at_call)
        return -1;
    if (sink->size + size > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 1 << 20;
        while (capacity < sink->size + size)
            capacity *= 2;
        sink->data = realloc(sink->data, capacity);
        assert_non_null(sink->data);
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, data, size);
    sink->size += size;
    return 0;
}

struct played {
    int64_t start_ms;
    char mime[PLAYBACK_MIME_MAX];
    enum playback_end end;
    struct playback_stats stats;
};

/* Play from..to into sink with quick polling; PLAYBACK_OPEN_OK expected. */
static void play(int64_t from_ms, int64_t to_ms, int idle_ms, struct sink *sink,
                 struct played *played)
{
    struct playback_request request = {.recordings_dir = scratch.recordings,
                                       .device_id = DEVICE,
                                       .from_ms = from_ms,
                                       .to_ms = to_ms,
                                       .poll_ms = 10,
                                       .idle_ms = idle_ms};
    struct playback *playback = NULL;

    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_OK);
    played->start_ms = playback_start_ms(playback);
    snprintf(played->mime, sizeof(played->mime), "%s", playback_mime(playback));
    played->end = playback_run(playback, scratch.db, sink_write, sink);
    playback_get_stats(playback, &played->stats);
    playback_close(playback);
}

/* ---- the judge: ffprobe and ffmpeg ------------------------------------------- */

/* What the judge saw in a stream. */
struct judged {
    int width, height;
    int frames;
    uint64_t video_pts[MAX_FRAMES];
    bool keyframe[MAX_FRAMES];
    uint16_t sequence[MAX_FRAMES]; /* from each decoded picture's frame stamp */
    int packets;
    uint64_t audio_pts[MAX_PACKETS];
};

/* Probe, decode and read the stamps of an fMP4 stream of width x height. */
static struct judged *judge(const uint8_t *data, size_t size, int width, int height)
{
    struct judged *judged = calloc(1, sizeof(*judged));
    char path[128], gray_path[128], *text;
    size_t gray_size = 0;
    uint8_t *gray;
    FILE *file;

    assert_non_null(judged);
    snprintf(path, sizeof(path), "%s/stream.mp4", scratch.directory);
    snprintf(gray_path, sizeof(gray_path), "%s/frames.gray", scratch.directory);
    file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);

    char *decode[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-", NULL};
    free(media_judge_run(scratch.directory, decode));

    char *streams[] = {"ffprobe",
                       "-v",
                       "error",
                       "-select_streams",
                       "v:0",
                       "-show_entries",
                       "stream=width,height",
                       "-of",
                       "csv=p=0",
                       path,
                       NULL};
    text = media_judge_run(scratch.directory, streams);
    assert_int_equal(sscanf(text, "%d,%d", &judged->width, &judged->height), 2);
    free(text);
    assert_int_equal(judged->width, width);
    assert_int_equal(judged->height, height);

    char *packets[] = {
        "ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts,flags", "-of",
        "csv=p=0", path, NULL};
    text = media_judge_run(scratch.directory, packets);
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int stream;
        unsigned long long pts;
        char flags[8] = "";
        assert_int_equal(sscanf(line, "%d,%llu,%7s", &stream, &pts, flags), 3);
        if (stream == 0) {
            assert_true(judged->frames < MAX_FRAMES);
            judged->keyframe[judged->frames] = flags[0] == 'K';
            judged->video_pts[judged->frames++] = pts;
        } else {
            assert_true(judged->packets < MAX_PACKETS);
            judged->audio_pts[judged->packets++] = pts;
        }
    }
    free(text);

    char *gray_argv[] = {"ffmpeg",   "-nostdin", "-y",    "-v",        "error",       "-i",
                         path,       "-map",     "0:v:0", "-fps_mode", "passthrough", "-f",
                         "rawvideo", "-pix_fmt", "gray",  gray_path,   NULL};
    free(media_judge_run(scratch.directory, gray_argv));
    gray = test_read_file(gray_path, &gray_size);
    assert_int_equal(gray_size, (size_t)judged->frames * (size_t)(width * height));
    for (int i = 0; i < judged->frames; i++) {
        uint64_t capture_ms = 0;
        assert_int_equal(frame_stamp_read(gray + (size_t)i * (size_t)(width * height), width,
                                          &capture_ms, &judged->sequence[i]),
                         0);
    }
    free(gray);
    return judged;
}

/* The judged frames are clip frames first..first+count-1, in order. */
static void expect_frames(const struct judged *judged, const struct media_clip *clip, int first,
                          int count)
{
    assert_int_equal(judged->frames, count);
    for (int i = 0; i < count; i++) {
        assert_int_equal(judged->sequence[i], (uint16_t)clip->frames[first + i].sequence);
        assert_int_equal(judged->keyframe[i], (first + i) % GOP == 0);
    }
}

/* Offsets of the ftyp boxes (init segments) among the stream's top-level boxes. */
static int find_inits(const uint8_t *data, size_t size, size_t *offsets, int max)
{
    struct mp4_box_child box;
    size_t at = 0, start = 0;
    int count = 0;
    while (mp4_box_next_child(data, size, &at, &box) == 1) {
        if (strcmp(box.type, "ftyp") == 0 && count < max)
            offsets[count++] = start;
        start = at;
    }
    assert_int_equal(at, size); /* the stream is whole boxes */
    return count;
}

/* ---- tests ------------------------------------------------------------------------ */

/* Two contiguous 10 s segments; from 4.5 s into the first: the stream
 * starts at the keyframe at 4 s and runs on through the second segment. */
static void test_mid_segment_across_two(void **state)
{
    const struct segment_plan first = {"a.mp4", &clip_a, 0, 10, 0, T0};
    const struct segment_plan second = {"b.mp4", &clip_a, 300, 10, 0, T0 + 10000};
    struct sink sink = {0};
    struct played played;
    struct judged *judged;
    (void)state;

    record_segment(&first);
    record_segment(&second);
    play(T0 + 4500, 0, 300, &sink, &played);
    assert_int_equal(played.end, PLAYBACK_END_IDLE);
    assert_int_equal(played.start_ms, T0 + 4000);
    assert_true(strncmp(played.mime, "video/mp4; codecs=\"avc1.", 24) == 0);
    assert_non_null(strstr(played.mime, ", opus\""));
    assert_int_equal(played.stats.init_segments, 1);
    assert_int_equal(played.stats.files, 2);
    assert_int_equal(played.stats.video_fragments, 16);
    assert_int_equal(played.stats.audio_fragments, 16);
    assert_int_equal(played.stats.bytes, sink.size);

    judged = judge(sink.data, sink.size, 640, 360);
    expect_frames(judged, &clip_a, 120, 480);
    for (int i = 0; i < judged->frames; i++)
        assert_int_equal(judged->video_pts[i], (uint64_t)i * FRAME_TICKS);
    assert_int_equal(judged->packets, 16 * PACKETS_PER_S);
    for (int i = 0; i < judged->packets; i++)
        assert_int_equal(judged->audio_pts[i], (uint64_t)i * PACKET_SAMPLES);
    free(judged);
    free(sink.data);
}

/* to: the stream ends before the first fragment at or after it. */
static void test_until_to(void **state)
{
    const struct segment_plan first = {"a.mp4", &clip_a, 0, 10, 0, T0};
    const struct segment_plan second = {"b.mp4", &clip_a, 300, 10, 0, T0 + 10000};
    struct sink sink = {0};
    struct played played;
    struct judged *judged;
    (void)state;

    record_segment(&first);
    record_segment(&second);
    play(T0 + 4500, T0 + 12200, 5000, &sink, &played);
    assert_int_equal(played.end, PLAYBACK_END_DONE);
    judged = judge(sink.data, sink.size, 640, 360);
    expect_frames(judged, &clip_a, 120, 9 * GOP); /* 4 s .. 13 s */
    assert_int_equal(judged->packets, 9 * PACKETS_PER_S);
    free(judged);
    free(sink.data);

    /* A to inside the first segment: the fragments before it, nothing more. */
    memset(&sink, 0, sizeof(sink));
    play(T0 + 1000, T0 + 3000, 5000, &sink, &played);
    assert_int_equal(played.end, PLAYBACK_END_DONE);
    assert_int_equal(played.stats.video_fragments, 2);
    free(sink.data);
}

/* A 5 s gap between segments stays a 5 s gap in the timeline; an audio
 * fragment stored after the keyframe it ends before is left out. */
static void test_gap(void **state)
{
    const struct segment_plan first = {"a.mp4", &clip_a, 0, 10, 1, T0};
    const struct segment_plan second = {"b.mp4", &clip_a, 300, 10, 1, T0 + 15000};
    struct sink sink = {0};
    struct played played;
    struct judged *judged;
    (void)state;

    record_segment(&first);
    record_segment(&second);
    play(T0 + 8200, 0, 300, &sink, &played);
    assert_int_equal(played.start_ms, T0 + 8000);
    assert_int_equal(played.stats.skipped_audio, 1);
    judged = judge(sink.data, sink.size, 640, 360);
    expect_frames(judged, &clip_a, 240, 360);
    for (int i = 0; i < 60; i++)
        assert_int_equal(judged->video_pts[i], (uint64_t)i * FRAME_TICKS);
    for (int i = 60; i < judged->frames; i++)
        assert_int_equal(judged->video_pts[i],
                         (uint64_t)(15000 - 8000) * 90 + (uint64_t)(i - 60) * FRAME_TICKS);
    assert_int_equal(judged->packets, 12 * PACKETS_PER_S);
    assert_int_equal(judged->audio_pts[0], 0);
    assert_int_equal(judged->audio_pts[100],
                     (uint64_t)(15000 - 8000) * 48); /* the second segment's first packet */
    free(judged);
    free(sink.data);
}

/* The next segment has other SPS/PPS (another picture size): a new init
 * segment comes before its first fragment, and the timeline goes on. */
static void test_sps_change(void **state)
{
    const struct segment_plan first = {"a.mp4", &clip_a, 0, 10, 0, T0};
    const struct segment_plan second = {"b.mp4", &clip_b, 0, 3, 0, T0 + 10000};
    struct sink sink = {0};
    struct played played;
    struct judged *judged;
    struct mp4_scan_result scan;
    size_t inits[4];
    (void)state;

    record_segment(&first);
    record_segment(&second);
    play(T0 + 9100, 0, 300, &sink, &played);
    assert_int_equal(played.start_ms, T0 + 9000);
    assert_int_equal(played.stats.init_segments, 2);
    assert_int_equal(find_inits(sink.data, sink.size, inits, 4), 2);
    assert_int_equal(inits[0], 0);

    judged = judge(sink.data, inits[1], 640, 360);
    expect_frames(judged, &clip_a, 270, 30);
    free(judged);
    judged = judge(sink.data + inits[1], sink.size - inits[1], 768, 432);
    expect_frames(judged, &clip_b, 0, 90);
    assert_int_equal(judged->video_pts[0], FMP4_VIDEO_TIMESCALE); /* 1 s after the start */
    free(judged);

    /* The second init segment carries the new parameter sets. */
    char path[128];
    snprintf(path, sizeof(path), "%s/part2.mp4", scratch.directory);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(sink.data + inits[1], 1, sink.size - inits[1], file),
                     sink.size - inits[1]);
    assert_int_equal(fclose(file), 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(mp4_scan_fd(fd, &scan), 0);
    close(fd);
    assert_true(scan.complete);
    const struct mp4_scan_track *video = mp4_scan_find_track(&scan, FMP4_VIDEO_TRACK);
    assert_non_null(video);
    assert_int_equal(video->sps_size, clip_b.sps_size);
    assert_memory_equal(video->sps, clip_b.sps, clip_b.sps_size);
    mp4_scan_result_free(&scan);
    free(sink.data);
}

/* Instants without footage, bad requests, a client that goes away, the
 * hub shutting down. */
static void test_not_found_and_client_gone(void **state)
{
    const struct segment_plan first = {"a.mp4", &clip_a, 0, 10, 0, T0};
    struct playback_request request = {
        .recordings_dir = scratch.recordings, .device_id = DEVICE, .poll_ms = 10, .idle_ms = 300};
    struct playback *playback = NULL;
    struct sink sink = {.fail_at_call = 2};
    struct played played;
    (void)state;

    request.from_ms = T0;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_NOT_FOUND);
    assert_null(playback);
    record_segment(&first);
    request.from_ms = T0 + 10001;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_NOT_FOUND);
    request.device_id = "ba9876543210";
    request.from_ms = T0;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_NOT_FOUND);
    request.device_id = DEVICE;
    request.to_ms = T0;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_ERROR);
    assert_null(playback);

    /* Before the first segment: it starts at its beginning. */
    request.from_ms = T0 - 60000;
    request.to_ms = 0;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_OK);
    assert_int_equal(playback_start_ms(playback), T0);
    /* The client is gone at the second write: the stream ends there. */
    assert_int_equal(playback_run(playback, scratch.db, sink_write, &sink), PLAYBACK_END_CLIENT);
    assert_int_equal(sink.calls, 2);
    playback_close(playback);
    free(sink.data);

    /* The last instant of the segment plays its last GOP. */
    memset(&sink, 0, sizeof(sink));
    play(T0 + 9999, 0, 300, &sink, &played);
    assert_int_equal(played.start_ms, T0 + 9000);
    assert_int_equal(played.stats.video_fragments, 1);
    free(sink.data);

    /* Shutting down: a stream waiting for footage stops at once. */
    atomic_int running = 0;
    memset(&sink, 0, sizeof(sink));
    request.from_ms = T0 + 9999;
    request.idle_ms = 60000;
    request.running = &running;
    assert_int_equal(playback_open(scratch.db, &request, &playback), PLAYBACK_OPEN_OK);
    assert_int_equal(playback_run(playback, scratch.db, sink_write, &sink), PLAYBACK_END_STOPPED);
    playback_close(playback);
    free(sink.data);
}

/* ---- following a segment being written --------------------------------------- */

static atomic_int follow_seconds; /* seconds the writer has made durable */

/* The writer thread: writes and indexes two segments second by second with
 * its own connection, as the recorder thread does. */
static void *follow_writer(void *data)
{
    static const struct segment_plan plans[] = {{"a.mp4", &clip_a, 0, 10, 0, T0},
                                                {"b.mp4", &clip_a, 300, 5, 0, T0 + 10000}};
    const struct timespec pause = {.tv_nsec = 40 * 1000000L};
    char error[256];
    sqlite3 *db = NULL;
    (void)data;

    if (database_open(scratch.database, &db, error, sizeof(error)) != 0)
        return NULL;
    for (size_t p = 0; p < sizeof(plans) / sizeof(plans[0]); p++) {
        struct segment_writer *writer = create_segment(&plans[p]);
        struct segment_summary summary;
        struct recording_row row;
        insert_row(db, &row, &plans[p], writer);
        for (int s = 0; s < plans[p].seconds; s++) {
            append_second(writer, &plans[p], s);
            update_row(db, &row, segment_writer_progress(writer), 0);
            atomic_fetch_add(&follow_seconds, 1);
            nanosleep(&pause, NULL);
        }
        segment_writer_close(writer, &summary);
        update_row(db, &row, &summary, 1);
        segment_summary_free(&summary);
    }
    database_close(db);
    return NULL;
}

/* Playing from a moment ago catches up with the segment being recorded,
 * follows it and the next one, and ends when nothing more comes. */
static void test_follow(void **state)
{
    const struct timespec pause = {.tv_nsec = 5 * 1000000L};
    struct sink sink = {0};
    struct played played;
    struct judged *judged;
    pthread_t writer;
    (void)state;

    atomic_store(&follow_seconds, 0);
    assert_int_equal(pthread_create(&writer, NULL, follow_writer, NULL), 0);
    while (atomic_load(&follow_seconds) < 3)
        nanosleep(&pause, NULL);
    /* Ends 8 s after the last footage: the writer adds a second every
     * 40 ms, but a loaded machine may hold its thread back for seconds. */
    play(T0 + 1500, 0, 8000, &sink, &played);
    assert_int_equal(pthread_join(writer, NULL), 0);
    assert_int_equal(atomic_load(&follow_seconds), 15);
    assert_int_equal(played.end, PLAYBACK_END_IDLE);
    assert_int_equal(played.start_ms, T0 + 1000);
    assert_int_equal(played.stats.files, 2);
    judged = judge(sink.data, sink.size, 640, 360);
    expect_frames(judged, &clip_a, 30, 14 * GOP);
    for (int i = 0; i < judged->frames; i++)
        assert_int_equal(judged->video_pts[i], (uint64_t)i * FRAME_TICKS);
    assert_int_equal(judged->packets, 14 * PACKETS_PER_S);
    free(judged);
    free(sink.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mid_segment_across_two, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_until_to, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_gap, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_sps_change, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_client_gone, scratch_setup,
                                        scratch_teardown),
        cmocka_unit_test_setup_teardown(test_follow, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, clips_setup, clips_teardown);
}
