/*
 * test_fmp4.c - unit tests of the fragmented MP4 writer (appliance/media/fmp4.c)
 * with ffprobe/ffmpeg as the judge: 3 s of real H.264 (the firmware's x264
 * encoder on the sim camera, 640x360@30, IDR every 30 frames) and 20 ms Opus
 * packets, muxed one fragment per sample (live view) and one fragment per
 * GOP / per second (recording), and a viewer joining at the second GOP with
 * 64-bit decode times. Each file must probe and decode with exit status 0
 * and an empty stderr, give the right codecs, sizes, frame counts, packet
 * timestamps and keyframes, and every decoded frame must carry the frame
 * stamp of the frame that went in. Byte-level tests check the box layout
 * (avcC, dOps, trun data_offset and sample flags), argument checks and the
 * failed-buffer behaviour.
 *
 * Single-threaded. The clip is encoded once in the group set-up; tools run
 * with posix_spawn (no shell) on files inside a mkdtemp() directory, which
 * each test removes.
 */
/* clang-format off */
/* UNIT_SOURCES: tests/unit/support/test_files.c tests/unit/support/media_judge.c appliance/media/h264.c appliance/media/fmp4.c tests/unit/support/media_clip.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <spawn.h>
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

extern char **environ;

#define WIDTH          640
#define HEIGHT         360
#define FPS            30
#define GOP            30
#define FRAMES         90 /* 3 s */
#define FRAME_TICKS    (FMP4_VIDEO_TIMESCALE / FPS)
#define PACKET_SAMPLES 960 /* 20 ms at 48 kHz */
#define PACKETS_PER_S  50
#define PRE_SKIP       312

/* A valid 20 ms Opus packet: TOC 0xF8 (CELT fullband 20 ms, mono, one
 * frame) and a CELT frame that decodes to silence. */
static const uint8_t opus_packet[] = {0xF8, 0xFF, 0xFE};

/* The clip, filmed once for every test. */
static struct media_clip clip;

static int clip_setup(void **state)
{
    const struct media_clip_settings settings = {.width = WIDTH,
                                                 .height = HEIGHT,
                                                 .fps = FPS,
                                                 .gop = GOP,
                                                 .frames = FRAMES,
                                                 .bitrate_kbps = 0,
                                                 .seed = 3};
    (void)state;
    return media_clip_record(&clip, &settings);
}

static int clip_teardown(void **state)
{
    (void)state;
    media_clip_free(&clip);
    return 0;
}

/* An empty output buffer with room for every file these tests write. */
static struct byte_buffer test_buffer(void)
{
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 64u * 1024u * 1024u);
    return buffer;
}

static struct fmp4_video_config video_config(void)
{
    return media_clip_video_config(&clip);
}

static const struct fmp4_audio_config mono_audio = {
    .channels = 1, .input_sample_rate = 48000, .pre_skip = PRE_SKIP};

/* ---- muxing ------------------------------------------------------------- */

struct mux_plan {
    int first_frame; /* a keyframe: where the viewer joins */
    int frames_per_fragment;
    int packets_per_fragment;
    uint64_t video_base, audio_base; /* decode time of the first sample */
    bool audio;
};

/* Append one video fragment of frames [first, first + count). */
static void mux_video(struct byte_buffer *out, uint32_t sequence, uint64_t decode_time, int first,
                      int count)
{
    struct fmp4_sample samples[GOP];
    size_t payload_size = 0;
    assert_true(count <= GOP);
    for (int i = 0; i < count; i++) {
        const struct h264_access_unit *unit = &clip.frames[first + i].unit;
        samples[i] = (struct fmp4_sample){
            .duration = FRAME_TICKS, .size = (uint32_t)unit->avcc_size, .keyframe = unit->is_idr};
        payload_size += unit->avcc_size;
    }
    uint8_t *payload = malloc(payload_size);
    assert_non_null(payload);
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        const struct h264_access_unit *unit = &clip.frames[first + i].unit;
        memcpy(payload + at, unit->avcc, unit->avcc_size);
        at += unit->avcc_size;
    }
    assert_int_equal(fmp4_write_fragment(out, sequence, FMP4_VIDEO_TRACK, decode_time, samples,
                                         count, payload, payload_size),
                     0);
    free(payload);
}

/* Append one audio fragment of count packets. */
static void mux_audio(struct byte_buffer *out, uint32_t sequence, uint64_t decode_time, int count)
{
    struct fmp4_sample samples[PACKETS_PER_S];
    uint8_t payload[PACKETS_PER_S * sizeof(opus_packet)];
    assert_true(count <= PACKETS_PER_S);
    for (int i = 0; i < count; i++) {
        samples[i] = (struct fmp4_sample){.duration = PACKET_SAMPLES, .size = sizeof(opus_packet)};
        memcpy(payload + i * sizeof(opus_packet), opus_packet, sizeof(opus_packet));
    }
    assert_int_equal(fmp4_write_fragment(out, sequence, FMP4_AUDIO_TRACK, decode_time, samples,
                                         count, payload, count * sizeof(opus_packet)),
                     0);
}

/* Write init + fragments, interleaved by decode time (video first on ties). */
static void mux_clip(struct byte_buffer *out, const struct mux_plan *plan)
{
    struct fmp4_video_config video = video_config();
    assert_int_equal(fmp4_write_init(out, &video, plan->audio ? &mono_audio : NULL), 0);
    int frames = FRAMES - plan->first_frame;
    int packets = plan->audio ? frames * PACKETS_PER_S / FPS : 0;
    int frame = 0, packet = 0;
    uint32_t sequence = 1;
    while (frame < frames || packet < packets) {
        /* frame / FPS <= packet / PACKETS_PER_S, in integers */
        bool video_next =
            packet >= packets || (frame < frames && frame * PACKETS_PER_S <= packet * FPS);
        if (video_next) {
            int count = frames - frame < plan->frames_per_fragment ? frames - frame
                                                                   : plan->frames_per_fragment;
            mux_video(out, sequence++, plan->video_base + (uint64_t)frame * FRAME_TICKS,
                      plan->first_frame + frame, count);
            frame += count;
        } else {
            int count = packets - packet < plan->packets_per_fragment ? packets - packet
                                                                      : plan->packets_per_fragment;
            mux_audio(out, sequence++, plan->audio_base + (uint64_t)packet * PACKET_SAMPLES, count);
            packet += count;
        }
    }
    assert_int_equal(byte_buffer_error(out), BYTE_BUFFER_OK);
}

/* ---- the judge: ffprobe and ffmpeg -------------------------------------- */

/* A muxed file written out for the judge, in a directory of its own. */
struct judge {
    char directory[64];
    char file[96], gray[96];
};

static void judge_open(struct judge *judge, const struct byte_buffer *mp4)
{
    snprintf(judge->directory, sizeof(judge->directory), "/tmp/test_fmp4.XXXXXX");
    assert_non_null(mkdtemp(judge->directory));
    snprintf(judge->file, sizeof(judge->file), "%s/clip.mp4", judge->directory);
    snprintf(judge->gray, sizeof(judge->gray), "%s/frames.gray", judge->directory);
    FILE *file = fopen(judge->file, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(byte_buffer_data(mp4), 1, byte_buffer_length(mp4), file),
                     byte_buffer_length(mp4));
    assert_int_equal(fclose(file), 0);
}

static void judge_close(struct judge *judge)
{
    unlink(judge->file);
    unlink(judge->gray);
    assert_int_equal(rmdir(judge->directory), 0);
}

/* What a muxed file must look like to ffprobe/ffmpeg. */
static void judge_clip(const struct byte_buffer *mp4, const struct mux_plan *plan)
{
    struct judge judge;
    judge_open(&judge, mp4);
    int frames = FRAMES - plan->first_frame;
    int packets = plan->audio ? frames * PACKETS_PER_S / FPS : 0;

    char *argv_probe[] = {"ffprobe",      "-v",       "error", "-show_streams",
                          "-show_format", judge.file, NULL};
    char *text = media_judge_run(judge.directory, argv_probe);
    media_judge_expect_line(text, "codec_name=h264");
    media_judge_expect_line(text, "width=640");
    media_judge_expect_line(text, "height=360");
    media_judge_expect_line(text, plan->audio ? "nb_streams=2" : "nb_streams=1");
    if (plan->audio) {
        media_judge_expect_line(text, "codec_name=opus");
        media_judge_expect_line(text, "sample_rate=48000");
        media_judge_expect_line(text, "channels=1");
    }
    /* mov reports the end time as the duration (start_time is the first tfdt). */
    const char *format = strstr(text, "\n[FORMAT]");
    assert_non_null(format);
    const char *start = strstr(format, "\nstart_time=");
    const char *duration = strstr(format, "\nduration=");
    assert_true(start != NULL && duration != NULL);
    double start_s = strtod(start + 12, NULL), end_s = strtod(duration + 10, NULL);
    print_message("%d frames: %zu bytes, start %.6f s, duration %.6f s\n", frames,
                  byte_buffer_length(mp4), start_s, end_s);
    double expected_start = (double)plan->video_base / FMP4_VIDEO_TIMESCALE;
    assert_true(start_s > expected_start - 0.001 && start_s < expected_start + 0.001);
    double expected_end = expected_start + frames / (double)FPS;
    assert_true(end_s > expected_end - 0.001 && end_s < expected_end + 0.001);
    free(text);

    char *argv_decode[] = {"ffmpeg",   "-nostdin", "-v",   "error", "-i",
                           judge.file, "-f",       "null", "-",     NULL};
    free(media_judge_run(judge.directory, argv_decode));

    char *argv_count[] = {"ffprobe",       "-v",
                          "error",         "-count_frames",
                          "-show_entries", "stream=codec_type,nb_read_frames",
                          "-of",           "csv=p=0",
                          judge.file,      NULL};
    text = media_judge_run(judge.directory, argv_count);
    char expected[64];
    snprintf(expected, sizeof(expected), "video,%d\n", frames);
    if (plan->audio)
        snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "audio,%d\n",
                 packets);
    assert_string_equal(text, expected);
    free(text);

    /* Packets in file order: timestamps and keyframes as written. */
    char *argv_packets[] = {
        "ffprobe", "-v",       "error", "-show_entries", "packet=stream_index,pts,dts,flags", "-of",
        "csv=p=0", judge.file, NULL};
    text = media_judge_run(judge.directory, argv_packets);
    int video = 0, audio = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int stream;
        unsigned long long pts, dts;
        char flags[8] = "";
        assert_int_equal(sscanf(line, "%d,%llu,%llu,%7s", &stream, &pts, &dts, flags), 4);
        assert_int_equal(pts, dts);
        if (stream == 0) {
            assert_int_equal(pts, plan->video_base + (uint64_t)video * FRAME_TICKS);
            assert_int_equal(flags[0] == 'K', (plan->first_frame + video) % GOP == 0);
            video++;
        } else {
            assert_int_equal(stream, 1);
            assert_int_equal(pts, plan->audio_base + (uint64_t)audio * PACKET_SAMPLES);
            assert_int_equal(flags[0], 'K');
            audio++;
        }
    }
    assert_int_equal(video, frames);
    assert_int_equal(audio, packets);
    free(text);

    /* ffprobe's video packet flags come from its H.264 parser; the trun
     * sample flags show in seeking, which only lands on sync samples. */
    char interval[64];
    snprintf(interval, sizeof(interval), "%.3f%%+#1",
             (double)plan->video_base / FMP4_VIDEO_TIMESCALE + 1.5);
    char *argv_seek[] = {"ffprobe",
                         "-v",
                         "error",
                         "-read_intervals",
                         interval,
                         "-select_streams",
                         "v:0",
                         "-show_entries",
                         "packet=pts,flags",
                         "-of",
                         "csv=p=0",
                         judge.file,
                         NULL};
    text = media_judge_run(judge.directory, argv_seek);
    unsigned long long seek_pts = 0;
    char seek_flags[8] = "";
    assert_int_equal(sscanf(text, "%llu,%7s", &seek_pts, seek_flags), 2);
    assert_true(seek_pts > plan->video_base);
    assert_int_equal((seek_pts - plan->video_base) % (GOP * FRAME_TICKS), 0);
    assert_int_equal(seek_flags[0], 'K');
    free(text);

    /* Every decoded picture carries the stamp of the frame that went in. */
    char *argv_gray[] = {"ffmpeg",   "-nostdin", "-v",        "error",       "-i", judge.file,
                         "-map",     "0:v:0",    "-fps_mode", "passthrough", "-f", "rawvideo",
                         "-pix_fmt", "gray",     judge.gray,  NULL};
    free(media_judge_run(judge.directory, argv_gray));
    size_t size = 0;
    uint8_t *gray = (uint8_t *)test_read_file(judge.gray, &size);
    assert_int_equal(size, (size_t)frames * WIDTH * HEIGHT);
    for (int i = 0; i < frames; i++) {
        const struct media_clip_frame *in = &clip.frames[plan->first_frame + i];
        uint64_t capture_ms = 0;
        uint16_t sequence = 0;
        assert_int_equal(
            frame_stamp_read(gray + (size_t)i * WIDTH * HEIGHT, WIDTH, &capture_ms, &sequence), 0);
        assert_int_equal(sequence, (uint16_t)in->sequence);
        assert_int_equal(sequence, plan->first_frame + i);
        assert_int_equal(capture_ms, in->capture_ms & ((1ull << 48) - 1));
    }
    free(gray);
    judge_close(&judge);
}

/* ---- files judged by ffprobe/ffmpeg ------------------------------------- */

static void test_one_fragment_per_sample(void **state)
{
    (void)state;
    struct byte_buffer mp4 = test_buffer();
    struct mux_plan plan = {.frames_per_fragment = 1, .packets_per_fragment = 1, .audio = true};
    mux_clip(&mp4, &plan);
    judge_clip(&mp4, &plan);
    byte_buffer_free(&mp4);
}

static void test_one_fragment_per_gop(void **state)
{
    (void)state;
    struct byte_buffer mp4 = test_buffer();
    struct mux_plan plan = {
        .frames_per_fragment = GOP, .packets_per_fragment = PACKETS_PER_S, .audio = true};
    mux_clip(&mp4, &plan);
    judge_clip(&mp4, &plan);
    byte_buffer_free(&mp4);
}

/* A viewer joining at the second GOP of a stream running for ~28 hours:
 * decode times beyond 2^32 need the 64-bit tfdt. */
static void test_join_late_64bit_time(void **state)
{
    (void)state;
    struct byte_buffer mp4 = test_buffer();
    struct mux_plan plan = {.first_frame = GOP,
                            .frames_per_fragment = 1,
                            .packets_per_fragment = 1,
                            .video_base = 100000ull * FMP4_VIDEO_TIMESCALE,
                            .audio_base = 100000ull * FMP4_AUDIO_TIMESCALE,
                            .audio = true};
    assert_true(plan.audio_base > UINT32_MAX);
    mux_clip(&mp4, &plan);
    judge_clip(&mp4, &plan);
    byte_buffer_free(&mp4);
}

static void test_video_only(void **state)
{
    (void)state;
    struct byte_buffer mp4 = test_buffer();
    struct mux_plan plan = {.frames_per_fragment = 7, .packets_per_fragment = 1};
    mux_clip(&mp4, &plan);
    judge_clip(&mp4, &plan);
    byte_buffer_free(&mp4);
}

/* ---- byte layout --------------------------------------------------------- */

struct box {
    const uint8_t *start, *body; /* body: after the 8-byte header */
    size_t size, body_size;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The index-th box of a type among the boxes in [data, data + size), which
 * must tile the range exactly. Fails the test if absent. */
static struct box child(const uint8_t *data, size_t size, const char *type, int index)
{
    struct box found = {0};
    size_t at = 0;
    while (at < size) {
        assert_true(size - at >= 8);
        uint32_t box_size = be32(data + at);
        assert_true(box_size >= 8 && box_size <= size - at);
        if (memcmp(data + at + 4, type, 4) == 0 && index-- == 0) {
            found = (struct box){.start = data + at,
                                 .body = data + at + 8,
                                 .size = box_size,
                                 .body_size = box_size - 8};
        }
        at += box_size;
    }
    assert_int_equal(at, size);
    if (found.start == NULL)
        fail_msg("no box \"%s\"", type);
    return found;
}

/* Child of a box whose own fields take `skip` bytes before its children. */
static struct box inner(struct box parent, size_t skip, const char *type)
{
    assert_true(parent.body_size >= skip);
    return child(parent.body + skip, parent.body_size - skip, type, 0);
}

/* The avcC box of an init segment's video sample entry. */
static struct box avcc_of(const struct byte_buffer *init)
{
    struct box box = child(byte_buffer_data(init), byte_buffer_length(init), "moov", 0);
    box = inner(inner(inner(inner(inner(inner(box, 0, "trak"), 0, "mdia"), 0, "minf"), 0, "stbl"),
                      0, "stsd"),
                8, "avc1");
    return inner(box, 78, "avcC");
}

static void test_init_layout(void **state)
{
    (void)state;
    struct byte_buffer init = test_buffer();
    struct fmp4_video_config video = video_config();
    assert_int_equal(fmp4_write_init(&init, &video, &mono_audio), 0);

    struct box ftyp = child(byte_buffer_data(&init), byte_buffer_length(&init), "ftyp", 0);
    assert_int_equal(ftyp.size, 28);
    assert_memory_equal(ftyp.body, "isom\0\0\x02\0isomiso6mp41", 20);
    struct box moov = child(byte_buffer_data(&init), byte_buffer_length(&init), "moov", 0);
    struct box mvhd = inner(moov, 0, "mvhd");
    assert_int_equal(mvhd.size, 108);
    assert_int_equal(be32(mvhd.body + 12), 1000); /* timescale */
    assert_int_equal(be32(mvhd.body + 96), 3);    /* next_track_ID */

    struct box trak = child(moov.body, moov.body_size, "trak", 0);
    struct box tkhd = inner(trak, 0, "tkhd");
    assert_int_equal(be32(tkhd.body), 3); /* version 0, flags 3 */
    assert_int_equal(be32(tkhd.body + 12), FMP4_VIDEO_TRACK);
    assert_int_equal(be32(tkhd.body + 76), WIDTH << 16);
    assert_int_equal(be32(tkhd.body + 80), HEIGHT << 16);
    struct box mdia = inner(trak, 0, "mdia");
    struct box mdhd = inner(mdia, 0, "mdhd");
    assert_int_equal(be32(mdhd.body + 12), FMP4_VIDEO_TIMESCALE);
    assert_int_equal(mdhd.body[20] << 8 | mdhd.body[21], 0x55C4); /* "und" */
    assert_memory_equal(inner(mdia, 0, "hdlr").body + 8, "vide", 4);
    struct box minf = inner(mdia, 0, "minf");
    assert_int_equal(be32(inner(minf, 0, "vmhd").body), 1);
    struct box url = inner(inner(inner(minf, 0, "dinf"), 0, "dref"), 8, "url ");
    assert_int_equal(url.size, 12);
    assert_int_equal(be32(url.body), 1); /* self-contained */
    struct box stbl = inner(minf, 0, "stbl");
    struct box avc1 = inner(inner(stbl, 0, "stsd"), 8, "avc1");
    assert_int_equal(avc1.body[24] << 8 | avc1.body[25], WIDTH);
    assert_int_equal(avc1.body[26] << 8 | avc1.body[27], HEIGHT);
    assert_int_equal(avc1.body[74] << 8 | avc1.body[75], 0x18);
    struct box avcc = inner(avc1, 78, "avcC");
    const uint8_t *c = avcc.body;
    assert_int_equal(c[0], 1);
    assert_memory_equal(c + 1, clip.sps + 1, 3);
    assert_int_equal(c[4], 0xFF);
    assert_int_equal(c[5], 0xE1);
    assert_int_equal(c[6] << 8 | c[7], clip.sps_size);
    assert_memory_equal(c + 8, clip.sps, clip.sps_size);
    c += 8 + clip.sps_size;
    assert_int_equal(c[0], 1);
    assert_int_equal(c[1] << 8 | c[2], clip.pps_size);
    assert_memory_equal(c + 3, clip.pps, clip.pps_size);
    c += 3 + clip.pps_size;
    /* High profile (100): chroma 4:2:0, 8-bit, no SPS extensions. */
    assert_int_equal(clip.sps[1], 100);
    assert_int_equal(avcc.body + avcc.body_size - c, 4);
    assert_memory_equal(c, "\xFD\xF8\xF8\x00", 4);
    static const char *const empty_tables[] = {"stts", "stsc", "stco"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(inner(stbl, 0, empty_tables[i]).size, 16);
    assert_int_equal(inner(stbl, 0, "stsz").size, 20);

    trak = child(moov.body, moov.body_size, "trak", 1);
    tkhd = inner(trak, 0, "tkhd");
    assert_int_equal(be32(tkhd.body + 12), FMP4_AUDIO_TRACK);
    assert_int_equal(tkhd.body[36] << 8 | tkhd.body[37], 0x0100); /* volume */
    mdia = inner(trak, 0, "mdia");
    assert_int_equal(be32(inner(mdia, 0, "mdhd").body + 12), FMP4_AUDIO_TIMESCALE);
    assert_memory_equal(inner(mdia, 0, "hdlr").body + 8, "soun", 4);
    minf = inner(mdia, 0, "minf");
    assert_int_equal(inner(minf, 0, "smhd").size, 16);
    struct box opus = inner(inner(inner(minf, 0, "stbl"), 0, "stsd"), 8, "Opus");
    assert_int_equal(opus.body[16] << 8 | opus.body[17], 1);  /* channelcount */
    assert_int_equal(opus.body[18] << 8 | opus.body[19], 16); /* samplesize */
    assert_int_equal(be32(opus.body + 24), 48000u << 16);
    struct box dops = inner(opus, 28, "dOps");
    static const uint8_t expected_dops[] = {
        0, 1, PRE_SKIP >> 8, PRE_SKIP & 0xFF, 0, 0, 0xBB, 0x80, 0, 0, 0};
    assert_int_equal(dops.body_size, sizeof(expected_dops));
    assert_memory_equal(dops.body, expected_dops, sizeof(expected_dops));

    struct box mvex = inner(moov, 0, "mvex");
    for (int i = 0; i < 2; i++) {
        struct box trex = child(mvex.body, mvex.body_size, "trex", i);
        static const uint8_t defaults[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assert_int_equal(trex.size, 32);
        assert_int_equal(be32(trex.body + 4), (uint32_t)i + 1);
        assert_memory_equal(trex.body + 8, defaults, sizeof(defaults));
    }

    /* Video only: one trak, one trex. */
    byte_buffer_reset(&init);
    assert_int_equal(fmp4_write_init(&init, &video, NULL), 0);
    moov = child(byte_buffer_data(&init), byte_buffer_length(&init), "moov", 0);
    child(moov.body, moov.body_size, "trak", 0);
    assert_int_equal(inner(moov, 0, "mvex").size, 8 + 32);
    byte_buffer_free(&init);
}

static void test_avcc_high_profile_fields(void **state)
{
    (void)state;
    static const uint8_t sps_422[] = {0x67, 122, 0, 30, 0xF0};
    static const uint8_t sps_baseline[] = {0x67, 66, 0xC0, 30, 0xF0};
    static const uint8_t pps[] = {0x68, 0xCE};
    struct fmp4_video_config video = {.width = 170,
                                      .height = 90,
                                      .sps = sps_422,
                                      .sps_size = sizeof(sps_422),
                                      .pps = pps,
                                      .pps_size = sizeof(pps),
                                      .chroma_format_idc = 2,
                                      .bit_depth_luma = 10,
                                      .bit_depth_chroma = 10};
    struct byte_buffer init = test_buffer();
    assert_int_equal(fmp4_write_init(&init, &video, NULL), 0);
    struct box avcc = avcc_of(&init);
    assert_int_equal(avcc.body_size, 6 + 2 + sizeof(sps_422) + 3 + sizeof(pps) + 4);
    assert_memory_equal(avcc.body + avcc.body_size - 4, "\xFE\xFA\xFA\x00", 4);

    byte_buffer_reset(&init);
    video.sps = sps_baseline;
    assert_int_equal(fmp4_write_init(&init, &video, NULL), 0);
    avcc = avcc_of(&init);
    assert_int_equal(avcc.body_size, 6 + 2 + sizeof(sps_baseline) + 3 + sizeof(pps));
    byte_buffer_free(&init);
}

/* Fail unless two video configs say the same thing, field by field. */
static void assert_video_config_equal(const struct fmp4_video_config *a,
                                      const struct fmp4_video_config *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_ptr_equal(a->sps, b->sps);
    assert_int_equal(a->sps_size, b->sps_size);
    assert_ptr_equal(a->pps, b->pps);
    assert_int_equal(a->pps_size, b->pps_size);
    assert_int_equal(a->chroma_format_idc, b->chroma_format_idc);
    assert_int_equal(a->bit_depth_luma, b->bit_depth_luma);
    assert_int_equal(a->bit_depth_chroma, b->bit_depth_chroma);
}

/* The one place a stream's SPS becomes its video config (live view and
 * recording both use it): a High 4:2:2 10-bit SPS (x264, in the h264 fuzz
 * corpus) keeps its chroma format and bit depths up to avcC. */
static void test_video_config_from_sps(void **state)
{
    (void)state;
    static const uint8_t sps[] = {0x67, 0x7A, 0x00, 0x0A, 0xB6, 0xCD, 0x94, 0x28, 0xDF,
                                  0x9F, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00,
                                  0x00, 0x03, 0x00, 0xA0, 0xF1, 0x22, 0x59, 0x60};
    static const uint8_t pps[] = {0x68, 0xEB, 0xE3, 0xCB, 0x30, 0x02, 0xC0};
    struct fmp4_video_config video;
    struct h264_sps_info info;
    char error[128] = "";

    assert_int_equal(fmp4_video_config_from_sps(&video, &info, sps, sizeof(sps), pps, sizeof(pps),
                                                error, sizeof(error)),
                     0);
    assert_int_equal(info.profile_idc, 122);
    assert_int_equal(video.width, info.width);
    assert_int_equal(video.height, info.height);
    assert_true(video.width > 0 && video.height > 0);
    assert_ptr_equal(video.sps, sps);
    assert_int_equal(video.sps_size, sizeof(sps));
    assert_ptr_equal(video.pps, pps);
    assert_int_equal(video.pps_size, sizeof(pps));
    assert_int_equal(video.chroma_format_idc, 2);
    assert_int_equal(video.bit_depth_luma, 10);
    assert_int_equal(video.bit_depth_chroma, 10);

    struct byte_buffer init = test_buffer();
    assert_int_equal(fmp4_write_init(&init, &video, NULL), 0);
    struct box avcc = avcc_of(&init);
    assert_int_equal(avcc.body_size, 6 + 2 + sizeof(sps) + 3 + sizeof(pps) + 4);
    /* chroma_format 2, bit_depth_luma_minus8 2, bit_depth_chroma_minus8 2 */
    assert_memory_equal(avcc.body + avcc.body_size - 4, "\xFE\xFA\xFA\x00", 4);
    byte_buffer_free(&init);

    /* Described from an SPS parsed earlier (playback, export): the same. */
    struct fmp4_video_config again =
        fmp4_video_config_describe(&info, sps, sizeof(sps), pps, sizeof(pps));
    assert_video_config_equal(&again, &video);

    /* An SPS that does not parse: -1 with a reason, the config untouched. */
    static const uint8_t cut[] = {0x67, 0x7A, 0x00};
    struct fmp4_video_config untouched = video;
    error[0] = '\0';
    assert_int_equal(fmp4_video_config_from_sps(&video, &info, cut, sizeof(cut), pps, sizeof(pps),
                                                error, sizeof(error)),
                     -1);
    assert_true(error[0] != '\0');
    assert_video_config_equal(&video, &untouched);
}

static void test_fragment_layout(void **state)
{
    (void)state;
    struct byte_buffer out = test_buffer();
    static const uint8_t payload[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const struct fmp4_sample samples[] = {{.duration = 3000, .size = 6, .keyframe = 1},
                                          {.duration = 3003, .size = 4, .keyframe = 0}};
    uint64_t base = 0x123456789ull;
    assert_int_equal(
        fmp4_write_fragment(&out, 77, FMP4_VIDEO_TRACK, base, samples, 2, payload, sizeof(payload)),
        0);
    struct box moof = child(byte_buffer_data(&out), byte_buffer_length(&out), "moof", 0);
    struct box mdat = child(byte_buffer_data(&out), byte_buffer_length(&out), "mdat", 0);
    assert_int_equal(moof.size, 88 + 2 * 12);
    assert_int_equal(mdat.size, 8 + sizeof(payload));
    assert_memory_equal(mdat.body, payload, sizeof(payload));
    assert_int_equal(be32(inner(moof, 0, "mfhd").body + 4), 77);
    struct box traf = inner(moof, 0, "traf");
    struct box tfhd = inner(traf, 0, "tfhd");
    assert_int_equal(tfhd.size, 16);
    assert_int_equal(be32(tfhd.body), 0x00020000);
    assert_int_equal(be32(tfhd.body + 4), FMP4_VIDEO_TRACK);
    struct box tfdt = inner(traf, 0, "tfdt");
    assert_int_equal(tfdt.size, 20);
    assert_int_equal(be32(tfdt.body), 0x01000000); /* version 1 */
    assert_int_equal((uint64_t)be32(tfdt.body + 4) << 32 | be32(tfdt.body + 8), base);
    struct box trun = inner(traf, 0, "trun");
    assert_int_equal(be32(trun.body), 0x00000701);
    assert_int_equal(be32(trun.body + 4), 2);
    uint32_t data_offset = be32(trun.body + 8);
    assert_ptr_equal(moof.start + data_offset, mdat.body);
    static const uint32_t entries[] = {3000, 6, 0x02000000, 3003, 4, 0x01010000};
    for (int i = 0; i < 6; i++)
        assert_int_equal(be32(trun.body + 12 + 4 * i), entries[i]);

    /* Audio: every sample is a sync sample, whatever keyframe says. */
    byte_buffer_reset(&out);
    const struct fmp4_sample audio[] = {{.duration = 960, .size = 3}};
    assert_int_equal(fmp4_write_fragment(&out, 1, FMP4_AUDIO_TRACK, 0, audio, 1, opus_packet,
                                         sizeof(opus_packet)),
                     0);
    moof = child(byte_buffer_data(&out), byte_buffer_length(&out), "moof", 0);
    trun = inner(inner(moof, 0, "traf"), 0, "trun");
    assert_int_equal(be32(trun.body + 20), 0x02000000);
    assert_int_equal(be32(inner(inner(moof, 0, "traf"), 0, "tfhd").body + 4), FMP4_AUDIO_TRACK);

    /* An empty sample (size 0) is allowed; the buffer grows across many writes. */
    byte_buffer_reset(&out);
    const struct fmp4_sample empty[] = {{.duration = 960, .size = 0}};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(
            fmp4_write_fragment(&out, (uint32_t)i, FMP4_AUDIO_TRACK, 0, empty, 1, NULL, 0), 0);
    assert_int_equal(byte_buffer_length(&out), 1000 * (88 + 12 + 8));
    child(byte_buffer_data(&out), byte_buffer_length(&out), "moof", 999);
    byte_buffer_free(&out);
    assert_null(byte_buffer_data(&out));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct byte_buffer out = test_buffer();
    static const uint8_t payload[] = {1, 2, 3, 4};
    struct fmp4_sample sample = {.duration = 3000, .size = 4, .keyframe = 1};
    assert_int_equal(fmp4_write_fragment(&out, 1, 3, 0, &sample, 1, payload, 4), -1);
    assert_int_equal(fmp4_write_fragment(&out, 1, 0, 0, &sample, 1, payload, 4), -1);
    assert_int_equal(fmp4_write_fragment(&out, 1, 1, 0, &sample, 0, payload, 4), -1);
    assert_int_equal(fmp4_write_fragment(&out, 1, 1, 0, NULL, 1, payload, 4), -1);
    assert_int_equal(fmp4_write_fragment(&out, 1, 1, 0, &sample, 1, payload, 3), -1);
    assert_int_equal(fmp4_write_fragment(&out, 1, 1, 0, &sample, 1, NULL, 4), -1);
    assert_int_equal(fmp4_write_fragment(NULL, 1, 1, 0, &sample, 1, payload, 4), -1);
    assert_int_equal(byte_buffer_length(&out), 0);

    struct fmp4_video_config video = video_config();
    struct fmp4_video_config bad = video;
    bad.width = 0;
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    bad = video;
    bad.height = 70000;
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    bad = video;
    bad.sps = NULL;
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    bad = video;
    bad.sps_size = 3;
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    bad = video;
    bad.pps = clip.sps; /* not a PPS */
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    bad = video;
    bad.bit_depth_luma = 7;
    assert_int_equal(fmp4_write_init(&out, &bad, NULL), -1);
    assert_int_equal(fmp4_write_init(&out, NULL, NULL), -1);
    struct fmp4_audio_config audio = mono_audio;
    audio.channels = 3;
    assert_int_equal(fmp4_write_init(&out, &video, &audio), -1);
    audio = mono_audio;
    audio.pre_skip = 70000;
    assert_int_equal(fmp4_write_init(&out, &video, &audio), -1);
    assert_int_equal(byte_buffer_length(&out), 0);
    byte_buffer_free(&out);
}

static void test_failed_buffer(void **state)
{
    (void)state;
    struct byte_buffer measure = test_buffer();
    struct fmp4_video_config video = video_config();
    assert_int_equal(fmp4_write_init(&measure, &video, NULL), 0);
    size_t size = byte_buffer_length(&measure);
    byte_buffer_free(&measure);

    /* A buffer capped at the init segment's size: the init fits, a
     * fragment would pass the cap and fails, and so does all that follows. */
    struct byte_buffer out;
    byte_buffer_init(&out, size);
    assert_int_equal(fmp4_write_init(&out, &video, NULL), 0);
    assert_int_equal(byte_buffer_length(&out), size);
    struct fmp4_sample sample = {.duration = 960, .size = 3};
    assert_int_equal(fmp4_write_fragment(&out, 1, FMP4_AUDIO_TRACK, 0, &sample, 1, opus_packet,
                                         sizeof(opus_packet)),
                     -1);
    assert_int_equal(byte_buffer_error(&out), BYTE_BUFFER_TOO_BIG);
    assert_int_equal(fmp4_write_init(&out, &video, &mono_audio), -1);
    assert_int_equal(byte_buffer_length(&out), size);
    byte_buffer_reset(&out); /* clears the failure, keeps the memory */
    assert_int_equal(byte_buffer_length(&out), 0);
    assert_int_equal(byte_buffer_error(&out), BYTE_BUFFER_OK);
    assert_non_null(byte_buffer_data(&out));
    assert_int_equal(fmp4_write_fragment(&out, 1, FMP4_AUDIO_TRACK, 0, &sample, 1, opus_packet,
                                         sizeof(opus_packet)),
                     0);
    byte_buffer_free(&out);
    byte_buffer_free(&out);
    assert_null(byte_buffer_data(&out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_layout),
        cmocka_unit_test(test_avcc_high_profile_fields),
        cmocka_unit_test(test_video_config_from_sps),
        cmocka_unit_test(test_fragment_layout),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_failed_buffer),
        cmocka_unit_test(test_one_fragment_per_sample),
        cmocka_unit_test(test_one_fragment_per_gop),
        cmocka_unit_test(test_join_late_64bit_time),
        cmocka_unit_test(test_video_only),
    };
    return cmocka_run_group_tests(tests, clip_setup, clip_teardown);
}
