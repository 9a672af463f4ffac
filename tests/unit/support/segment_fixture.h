/*
 * segment_fixture.h - test fixture of the segment writer's unit tests
 * (test_segment_writer.c, test_segment_writer_faults.c): a 10 s clip of real
 * H.264 (the firmware's x264 encoder on the unpaced sim camera, 640x360@30,
 * IDR every 30 frames) filmed once per group, 20 ms Opus packets, a
 * mkdtemp() directory per test, the plan of a segment (one fragment per GOP,
 * one audio fragment per second, synced each second like the recorder does),
 * and ffprobe/ffmpeg as the judge of the files written. A helper that cannot
 * do its part fails the current cmocka test.
 *
 * Single-threaded. Ownership: the clip belongs to the group set-up and
 * teardown, the directory (and a tmpfs a test mounted in it) to the test
 * set-up and teardown; summaries and scan results to the caller.
 */
#ifndef DOORSTEP_TEST_SEGMENT_FIXTURE_H
#define DOORSTEP_TEST_SEGMENT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "media/fmp4.h"
#include "recording/mp4_scan.h"
#include "recording/segment_writer.h"
#include "media_clip.h"

#define SEGMENT_FIXTURE_WIDTH          640
#define SEGMENT_FIXTURE_HEIGHT         360
#define SEGMENT_FIXTURE_FPS            30
#define SEGMENT_FIXTURE_GOP            30
#define SEGMENT_FIXTURE_SECONDS        10
#define SEGMENT_FIXTURE_FRAMES         (SEGMENT_FIXTURE_FPS * SEGMENT_FIXTURE_SECONDS)
#define SEGMENT_FIXTURE_FRAME_TICKS    (FMP4_VIDEO_TIMESCALE / SEGMENT_FIXTURE_FPS)
#define SEGMENT_FIXTURE_PACKET_SAMPLES 960 /* 20 ms at 48 kHz */
#define SEGMENT_FIXTURE_PACKETS_PER_S  50
#define SEGMENT_FIXTURE_PRE_SKIP       312
#define SEGMENT_FIXTURE_BITRATE_KBPS   400 /* small files: a few GOPs fit in the 256 KiB tmpfs */
#define SEGMENT_FIXTURE_FRAGMENTS      (2 * SEGMENT_FIXTURE_SECONDS)

/* A valid 20 ms Opus packet (CELT fullband, mono) that decodes to silence. */
extern const uint8_t segment_fixture_opus_packet[3];

/* The clip, filmed by segment_fixture_clip_setup() (a cmocka group set-up)
 * and freed by segment_fixture_clip_teardown(). */
extern struct media_clip segment_fixture_clip;
int segment_fixture_clip_setup(void **state);
int segment_fixture_clip_teardown(void **state);

/* The fMP4 video configuration of the clip; the mono Opus track. */
struct fmp4_video_config segment_fixture_video_config(void);
extern const struct fmp4_audio_config segment_fixture_mono_audio;

/* The current test's directory, made by segment_fixture_scratch_setup() and
 * removed by segment_fixture_scratch_teardown(), which first unmounts
 * mount_point when a test left a tmpfs mounted there. */
struct segment_fixture_scratch {
    char directory[64];
    char mount_point[96]; /* non-empty while the tmpfs is mounted */
};
extern struct segment_fixture_scratch segment_fixture_scratch;
int segment_fixture_scratch_setup(void **state);
int segment_fixture_scratch_teardown(void **state);

/* path = scratch directory + "/" + name */
void segment_fixture_scratch_path(char *path, size_t size, const char *name);

/* Append the video fragment of GOP gop (its SEGMENT_FIXTURE_GOP frames), or
 * the audio fragment of second second (50 packets); the writer's result,
 * with its errno. */
int segment_fixture_append_gop(struct segment_writer *writer, int gop);
int segment_fixture_append_second(struct segment_writer *writer, int second);

/* Append fragment number n of the plan: V0 A0 V1 A1 ... (video first on
 * equal decode times), syncing after each second as the recorder does. */
int segment_fixture_append_fragment(struct segment_writer *writer, int n);

/* Write the whole 10 s segment to path; returns its summary (the caller
 * frees it with segment_summary_free). */
struct segment_summary segment_fixture_write_segment(const char *path);

/* Write size bytes of data to a new file at path. */
void segment_fixture_write_file(const char *path, const uint8_t *data, size_t size);

/* The file must probe and decode cleanly with frames video frames (the
 * first ones of the clip) and packets audio packets, as written, each
 * decoded picture carrying the frame stamp of the frame that went in. */
void segment_fixture_judge_file(const char *path, int frames, int packets);

/* Scan the file at path; the scan must succeed (the caller frees result). */
void segment_fixture_scan_path(const char *path, struct mp4_scan_result *result);

/* The scan and the writer's summary must tell the same story. */
void segment_fixture_expect_scan_matches(const struct mp4_scan_result *scan,
                                         const struct segment_summary *summary);

#endif
