/*
 * test_mp4_scan.c - unit tests of the fragmented MP4 scanner
 * (appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c, mp4_box.c; mp4_repair.c) on
 * small files built here: what media/fmp4.c writes (a real 64x48 baseline SPS/PPS, so the avcC's
 * SPS is parsed), and hand-built fragments exercising what ISO BMFF allows
 * and we do not write ourselves: tfdt version 0 or absent, sample fields
 * from tfhd or trex defaults, first-sample flags, composition offsets, an
 * explicit base data offset, 64-bit box sizes and a last mdat of size 0.
 * Then every way the scan must stop, with valid_length at the last whole
 * fragment (or 0 without a usable init) and a reason; read errors (never a
 * repair), the file-descriptor path, the fragment cap (a generated file of
 * more than 2^20 fragments), a trun of 2^32 - 1 samples without per-sample
 * fields (which must not be looped over), and mp4_repair_truncate()'s
 * refusals.
 *
 * Single-threaded; files live in a mkdtemp() directory removed at the end.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c appliance/recording/mp4_repair.c appliance/recording/mp4_box.c appliance/media/fmp4.c appliance/media/h264.c */
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

/* The parameter sets of a 64x48 x264 baseline stream (tests/fuzz/corpus/h264). */
static const uint8_t sps[] = {0x67, 0x42, 0xC0, 0x0A, 0xD9, 0x04, 0x7B, 0x01,
                              0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00,
                              0x03, 0x00, 0xA0, 0xF1, 0x22, 0x64, 0x80};
static const uint8_t pps[] = {0x68, 0xCB, 0x83, 0xCB, 0x20};
static const uint8_t payload[64] = {0xAB};

static const struct fmp4_video_config video = {.width = 64,
                                               .height = 48,
                                               .sps = sps,
                                               .sps_size = sizeof(sps),
                                               .pps = pps,
                                               .pps_size = sizeof(pps)};
static const struct fmp4_audio_config audio = {
    .channels = 2, .input_sample_rate = 48000, .pre_skip = 312};

/* ---- sources ----------------------------------------------------------- */

struct memory {
    const uint8_t *data;
    size_t size;
    uint64_t fail_at; /* a read touching this offset fails with EIO (0: never) */
    int overdeliver;  /* claim one byte more than asked */
};

static ssize_t memory_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct memory *memory = context;
    if (memory->fail_at > 0 && offset <= memory->fail_at && memory->fail_at < offset + size) {
        errno = EIO;
        return -1;
    }
    if (offset >= memory->size)
        return 0;
    size_t count = memory->size - offset < size ? memory->size - offset : size;
    memcpy(buffer, memory->data + offset, count);
    return (ssize_t)count + (memory->overdeliver ? 1 : 0);
}

/* Scan data[0, size) through the callback; returns mp4_scan's result. */
static int scan(const uint8_t *data, size_t size, struct mp4_scan_result *result)
{
    struct memory memory = {.data = data, .size = size};
    struct mp4_scan_source source = {.read = memory_read, .context = &memory, .size = size};
    return mp4_scan(&source, result);
}

/* ---- building files ------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A buffer for a test file, large enough for every file built here. */
static struct byte_buffer file_buffer(void)
{
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 64u * 1024u * 1024u);
    return buffer;
}

static void put(struct byte_buffer *out, const void *bytes, size_t size)
{
    assert_int_equal(byte_buffer_add(out, bytes, size), BYTE_BUFFER_OK);
}

/* Overwrite one byte of a file built earlier. */
static void set_byte(struct byte_buffer *out, size_t at, uint8_t value)
{
    assert_int_equal(byte_buffer_patch(out, at, &value, 1), BYTE_BUFFER_OK);
}

static void put_u32(struct byte_buffer *out, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    put(out, bytes, 4);
}

static void put_u64(struct byte_buffer *out, uint64_t value)
{
    put_u32(out, (uint32_t)(value >> 32));
    put_u32(out, (uint32_t)value);
}

static void patch_u32(struct byte_buffer *out, size_t at, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    assert_int_equal(byte_buffer_patch(out, at, bytes, 4), BYTE_BUFFER_OK);
}

static size_t box(struct byte_buffer *out, const char *type)
{
    size_t start = byte_buffer_length(out);
    put_u32(out, 0);
    put(out, type, 4);
    return start;
}

static size_t full_box(struct byte_buffer *out, const char *type, uint32_t version, uint32_t flags)
{
    size_t start = box(out, type);
    put_u32(out, version << 24 | flags);
    return start;
}

static void box_end(struct byte_buffer *out, size_t start)
{
    patch_u32(out, start, (uint32_t)(byte_buffer_length(out) - start));
}

/* A standard init: ftyp + moov with video and audio. */
static void init(struct byte_buffer *out)
{
    assert_int_equal(fmp4_write_init(out, &video, &audio), 0);
}

/* A fragment as fmp4.c writes it: count video samples of 10 bytes. */
static void fragment(struct byte_buffer *out, uint32_t sequence, uint32_t track, uint64_t time,
                     int count, int keyframe)
{
    struct fmp4_sample samples[4];
    assert_true(count <= 4);
    for (int i = 0; i < count; i++)
        samples[i] = (struct fmp4_sample){.duration = 3000, .size = 10, .keyframe = keyframe};
    assert_int_equal(fmp4_write_fragment(out, sequence, track, time, samples, count, payload,
                                         (size_t)count * 10),
                     0);
}

/* What a hand-built fragment holds. */
struct spec {
    uint32_t sequence, track_id;
    int tfdt_version; /* 0 or 1; -1: no tfdt */
    uint64_t decode_time;
    uint32_t tfhd_flags; /* 0x01 base (set to the mdat payload), 0x08/0x10/0x20 defaults */
    uint32_t default_duration, default_size, default_flags;
    uint32_t trun_flags;
    int trun_version;
    uint32_t first_flags;
    int count;
    uint32_t durations[4], sizes[4], flags[4];
    int32_t data_offset_adjust; /* added to the right data_offset */
    int large_mdat;             /* 64-bit mdat size */
    int mdat_to_end;            /* mdat size 0 */
    int trafs;                  /* 0 means 1 */
    size_t trex_size;           /* the sample size trex gives (for the mdat) */
};

/* Build a moof + mdat from spec; returns the moof's offset. */
static size_t build(struct byte_buffer *out, const struct spec *spec)
{
    size_t moof = box(out, "moof");
    size_t mfhd = full_box(out, "mfhd", 0, 0);
    put_u32(out, spec->sequence);
    box_end(out, mfhd);
    size_t base_at = 0, data_offset_at = 0, payload_size = 0;
    for (int traf_index = 0; traf_index < (spec->trafs > 0 ? spec->trafs : 1); traf_index++) {
        size_t traf = box(out, "traf");
        size_t tfhd = full_box(out, "tfhd", 0, spec->tfhd_flags);
        put_u32(out, spec->track_id);
        if (spec->tfhd_flags & 0x01) {
            base_at = byte_buffer_length(out);
            put_u64(out, 0);
        }
        if (spec->tfhd_flags & 0x08)
            put_u32(out, spec->default_duration);
        if (spec->tfhd_flags & 0x10)
            put_u32(out, spec->default_size);
        if (spec->tfhd_flags & 0x20)
            put_u32(out, spec->default_flags);
        box_end(out, tfhd);
        if (spec->tfdt_version >= 0) {
            size_t tfdt = full_box(out, "tfdt", (uint32_t)spec->tfdt_version, 0);
            if (spec->tfdt_version == 1)
                put_u64(out, spec->decode_time);
            else
                put_u32(out, (uint32_t)spec->decode_time);
            box_end(out, tfdt);
        }
        size_t trun = full_box(out, "trun", (uint32_t)spec->trun_version, spec->trun_flags);
        put_u32(out, (uint32_t)spec->count);
        if (spec->trun_flags & 0x01) {
            data_offset_at = byte_buffer_length(out);
            put_u32(out, 0);
        }
        if (spec->trun_flags & 0x04)
            put_u32(out, spec->first_flags);
        payload_size = 0;
        for (int i = 0; i < spec->count; i++) {
            if (spec->trun_flags & 0x100)
                put_u32(out, spec->durations[i]);
            if (spec->trun_flags & 0x200)
                put_u32(out, spec->sizes[i]);
            if (spec->trun_flags & 0x400)
                put_u32(out, spec->flags[i]);
            if (spec->trun_flags & 0x800)
                put_u32(out, (uint32_t)-1000); /* a negative offset (version 1) */
            payload_size += spec->trun_flags & 0x200  ? spec->sizes[i]
                            : spec->tfhd_flags & 0x10 ? spec->default_size
                                                      : spec->trex_size;
        }
        box_end(out, trun);
        box_end(out, traf);
    }
    box_end(out, moof);
    size_t header = spec->large_mdat ? 16 : 8;
    size_t payload_start = byte_buffer_length(out) + header;
    if (base_at > 0) {
        patch_u32(out, base_at, 0);
        patch_u32(out, base_at + 4, (uint32_t)payload_start);
    }
    if (data_offset_at > 0) {
        size_t base = base_at > 0 ? payload_start : moof;
        patch_u32(out, data_offset_at,
                  (uint32_t)((int64_t)payload_start - (int64_t)base + spec->data_offset_adjust));
    }
    if (spec->large_mdat) {
        put_u32(out, 1);
        put(out, "mdat", 4);
        put_u64(out, header + payload_size);
    } else {
        put_u32(out, spec->mdat_to_end ? 0 : (uint32_t)(header + payload_size));
        put(out, "mdat", 4);
    }
    for (size_t i = 0; i < payload_size; i++)
        put(out, "\xCD", 1);
    return moof;
}

/* A spec for n samples of track 1, every field in trun, like ours. */
static struct spec plain_spec(uint32_t sequence, uint64_t time, int count)
{
    struct spec spec = {.sequence = sequence,
                        .track_id = FMP4_VIDEO_TRACK,
                        .tfdt_version = 1,
                        .decode_time = time,
                        .trun_flags = 0x701,
                        .count = count};
    for (int i = 0; i < count; i++) {
        spec.durations[i] = 3000;
        spec.sizes[i] = 7;
        spec.flags[i] = i == 0 ? 0x02000000u : 0x01010000u;
    }
    return spec;
}

/* The scan must stop at valid_length with a reason mentioning why. */
static void expect_stop(const struct byte_buffer *file, uint64_t valid, size_t fragments,
                        const char *why)
{
    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(file), byte_buffer_length(file), &result), 0);
    if (result.valid_length != valid || result.fragment_count != fragments || result.complete ||
        strstr(result.reason, why) == NULL || result.io_error)
        fail_msg("valid %llu (expected %llu), %zu fragments (expected %zu), reason \"%s\" "
                 "(expected \"%s\")",
                 (unsigned long long)result.valid_length, (unsigned long long)valid,
                 result.fragment_count, fragments, result.reason, why);
    assert_int_equal(result.total_length, byte_buffer_length(file));
    mp4_scan_result_free(&result);
}

/* ---- tests --------------------------------------------------------------- */

static void test_our_files(void **state)
{
    (void)state;
    struct byte_buffer file = file_buffer();
    init(&file);
    size_t init_size = byte_buffer_length(&file);
    fragment(&file, 1, FMP4_VIDEO_TRACK, 0, 2, 1);
    size_t audio_at = byte_buffer_length(&file);
    fragment(&file, 2, FMP4_AUDIO_TRACK, 0, 3, 0);
    size_t video_at = byte_buffer_length(&file);
    fragment(&file, 3, FMP4_VIDEO_TRACK, 6000, 1, 0);

    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(&file), byte_buffer_length(&file), &result), 0);
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
    assert_int_equal(v->sps_size, sizeof(sps));
    assert_memory_equal(v->sps, sps, sizeof(sps));
    assert_int_equal(v->pps_size, sizeof(pps));
    assert_memory_equal(v->pps, pps, sizeof(pps));
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
    assert_int_equal(scan(byte_buffer_data(&file), init_size, &result), 0);
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
    struct byte_buffer file = file_buffer();
    init(&file);
    /* 0: tfdt v0, every sample field from tfhd defaults, data offset only. */
    struct spec spec = {.sequence = 1,
                        .track_id = 1,
                        .tfdt_version = 0,
                        .decode_time = 1000,
                        .tfhd_flags = 0x38,
                        .default_duration = 1000,
                        .default_size = 5,
                        .default_flags = 0x02000000u,
                        .trun_flags = 0x001,
                        .count = 3};
    build(&file, &spec);
    /* 1: non-sync defaults, but first-sample flags say sync. */
    spec = (struct spec){.sequence = 2,
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
    build(&file, &spec);
    /* 2: per-sample flags, the first non-sync. */
    spec = plain_spec(3, 6000, 2);
    spec.flags[0] = 0x01010000u;
    build(&file, &spec);
    /* 3: trun version 1 with composition offsets. */
    spec = plain_spec(4, 12000, 3);
    spec.trun_flags = 0xF01;
    spec.trun_version = 1;
    build(&file, &spec);
    /* 4: no tfdt: continues from the track's end. */
    spec = plain_spec(5, 0, 1);
    spec.tfdt_version = -1;
    build(&file, &spec);
    /* 5: explicit base data offset and no data offset in trun. */
    spec = plain_spec(6, 30000, 2);
    spec.tfhd_flags = 0x01;
    spec.trun_flags = 0x700;
    build(&file, &spec);
    /* 6: a 64-bit mdat size. */
    spec = plain_spec(7, 40000, 1);
    spec.large_mdat = 1;
    size_t large_at = build(&file, &spec);
    /* A free box with a 64-bit size between fragments, then a last mdat
     * of size 0 ("to the end of the file"). */
    put_u32(&file, 1);
    put(&file, "free", 4);
    put_u64(&file, 20);
    put_u32(&file, 0);
    spec = plain_spec(9, 50000, 2);
    spec.mdat_to_end = 1;
    size_t last_at = build(&file, &spec);

    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(&file), byte_buffer_length(&file), &result), 0);
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

/* The byte offset of the first box of a type at or after from (searched
 * as bytes). */
static size_t find_type_from(const struct byte_buffer *file, size_t from, const char *type)
{
    for (size_t at = from + 4; at + 4 <= byte_buffer_length(file); at++)
        if (memcmp(byte_buffer_data(file) + at, type, 4) == 0)
            return at - 4;
    fail_msg("no %s", type);
    return 0;
}

static size_t find_type(const struct byte_buffer *file, const char *type)
{
    return find_type_from(file, 0, type);
}

/* trex defaults apply when neither tfhd nor trun carry a field. */
static void test_trex_defaults(void **state)
{
    (void)state;
    struct byte_buffer file = file_buffer();
    init(&file);
    size_t trex = find_type(&file, "trex"); /* the video track's */
    assert_int_equal(be32(byte_buffer_data(&file) + trex + 12), FMP4_VIDEO_TRACK);
    patch_u32(&file, trex + 20, 1111);        /* default_sample_duration */
    patch_u32(&file, trex + 24, 3);           /* default_sample_size */
    patch_u32(&file, trex + 28, 0x01010000u); /* default_sample_flags: non-sync */
    struct spec spec = {.sequence = 1,
                        .track_id = 1,
                        .tfdt_version = 1,
                        .trun_flags = 0x001,
                        .count = 4,
                        .trex_size = 3};
    build(&file, &spec);
    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(&file), byte_buffer_length(&file), &result), 0);
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
    struct byte_buffer file = file_buffer();
    init(&file);
    struct spec spec = {.sequence = 1,
                        .track_id = 1,
                        .tfdt_version = 1,
                        .tfhd_flags = 0x38,
                        .default_duration = 2,
                        .default_flags = 0x02000000u,
                        .trun_flags = 0x001,
                        .count = 1};
    size_t moof = build(&file, &spec);
    patch_u32(&file, find_type_from(&file, moof, "trun") + 12, UINT32_MAX);
    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(&file), byte_buffer_length(&file), &result), 0);
    assert_true(result.complete);
    assert_int_equal(result.fragments[0].sample_count, UINT32_MAX);
    assert_int_equal(result.fragments[0].duration, 2ull * UINT32_MAX);
    assert_int_equal(result.fragments[0].bytes, 0);
    assert_true(result.fragments[0].keyframe);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
}

/* Start a file with init + one good video fragment (ends at *good). */
static void good_start(struct byte_buffer *file, uint64_t *good)
{
    byte_buffer_reset(file);
    init(file);
    fragment(file, 1, FMP4_VIDEO_TRACK, 0, 2, 1);
    *good = byte_buffer_length(file);
}

static void test_stops_after_good_fragment(void **state)
{
    (void)state;
    struct byte_buffer file = file_buffer();
    uint64_t good;
    struct spec spec;

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    spec.trafs = 2;
    build(&file, &spec);
    expect_stop(&file, good, 1, "is not one mfhd and one traf");

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 0);
    build(&file, &spec);
    expect_stop(&file, good, 1, "bad trun");

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    spec.trun_version = 2;
    build(&file, &spec);
    expect_stop(&file, good, 1, "bad trun");

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    size_t moof = build(&file, &spec);
    patch_u32(&file, find_type_from(&file, moof, "trun") + 12, 3); /* claims 3, holds 2 */
    expect_stop(&file, good, 1, "does not hold its 3 samples");

    for (int adjust = -1; adjust <= 1; adjust += 2) {
        good_start(&file, &good);
        spec = plain_spec(2, 6000, 2);
        spec.data_offset_adjust = adjust;
        build(&file, &spec);
        expect_stop(&file, good, 1, "lie outside its mdat");
    }

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    spec.tfhd_flags = 0x01;
    spec.data_offset_adjust = -100000;
    build(&file, &spec);
    expect_stop(&file, good, 1, "data offset before the file");

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    spec.tfhd_flags = 0x01;
    moof = build(&file, &spec);
    patch_u32(&file, find_type_from(&file, moof, "tfhd") + 16, UINT32_MAX); /* base's high half */
    expect_stop(&file, good, 1, "base data offset past the file");

    good_start(&file, &good);
    spec = plain_spec(2, 6000, 2);
    spec.track_id = 9;
    build(&file, &spec);
    expect_stop(&file, good, 1, "unknown track");

    good_start(&file, &good);
    build(&file, &(struct spec){.sequence = 2, .track_id = 1, .tfdt_version = 2, .count = 1});
    expect_stop(&file, good, 1, "bad tfdt");

    good_start(&file, &good);
    fragment(&file, 1, FMP4_VIDEO_TRACK, 6000, 1, 0); /* sequence 1 again */
    expect_stop(&file, good, 1, "sequence 1 after 1");

    good_start(&file, &good);
    fragment(&file, 2, FMP4_VIDEO_TRACK, 5999, 1, 0); /* the first ended at 6000 */
    expect_stop(&file, good, 1, "decode time goes back");

    good_start(&file, &good);
    fragment(&file, 2, FMP4_VIDEO_TRACK, UINT64_MAX - 10, 1, 0);
    expect_stop(&file, good, 1, "overflows");

    /* A moof followed by something else, or by nothing. */
    good_start(&file, &good);
    fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    size_t mdat = byte_buffer_length(&file) - 18;
    assert_int_equal(byte_buffer_patch(&file, mdat + 4, "free", 4), BYTE_BUFFER_OK);
    expect_stop(&file, good, 1, "followed by free");
    byte_buffer_truncate(&file, mdat + 4);
    expect_stop(&file, good, 1, "box header cut short");
    byte_buffer_truncate(&file, mdat);
    expect_stop(&file, good, 1, "without its mdat");
    good_start(&file, &good);
    fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    byte_buffer_truncate(&file, byte_buffer_length(&file) - 1);
    expect_stop(&file, good, 1, "mdat box at");

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
        good_start(&file, &good);
        put(&file, headers[i].header, headers[i].size);
        expect_stop(&file, good, 1, headers[i].why);
    }

    /* A moof too large to be ours. */
    good_start(&file, &good);
    size_t huge = MP4_SCAN_MAX_MOOF + 16;
    put_u32(&file, (uint32_t)huge);
    put(&file, "moof", 4);
    while (byte_buffer_length(&file) < good + huge)
        put(&file, payload, sizeof(payload));
    expect_stop(&file, good, 1, "moof at");
    byte_buffer_free(&file);
}

static void test_stops_without_init(void **state)
{
    (void)state;
    struct byte_buffer file = file_buffer(), part = file_buffer();
    expect_stop(&file, 0, 0, "no moov"); /* empty */
    init(&file);
    size_t moov = find_type(&file, "moov");
    size_t ftyp_size = moov;
    byte_buffer_truncate(&file, ftyp_size);
    expect_stop(&file, 0, 0, "no moov");
    fragment(&file, 1, FMP4_VIDEO_TRACK, 0, 1, 1);
    expect_stop(&file, 0, 0, "before moov");

    byte_buffer_reset(&file);
    init(&file);
    put(&part, byte_buffer_data(&file) + moov, byte_buffer_length(&file) - moov);
    expect_stop(&part, 0, 0, "moov before ftyp");
    byte_buffer_reset(&part);
    put(&part,
        "\0\0\0\x08"
        "free",
        8);
    put(&part, byte_buffer_data(&file), byte_buffer_length(&file));
    expect_stop(&part, 0, 0, "free box before ftyp");

    /* A moov with no tracks, or a track without stsd. */
    byte_buffer_reset(&part);
    put(&part, byte_buffer_data(&file), ftyp_size);
    size_t box_at = box(&part, "moov");
    box_end(&part, box_at);
    expect_stop(&part, 0, 0, "moov without tracks");
    byte_buffer_reset(&part);
    put(&part, byte_buffer_data(&file), ftyp_size);
    box_at = box(&part, "moov");
    size_t trak = box(&part, "trak");
    size_t tkhd = full_box(&part, "tkhd", 0, 3);
    for (int i = 0; i < 20; i++)
        put_u32(&part, i == 2 ? 1 : 0);
    box_end(&part, tkhd);
    box_end(&part, trak);
    box_end(&part, box_at);
    expect_stop(&part, 0, 0, "trak lacks");

    /* A moov too large, an avcC without PPS, a bad dOps. */
    byte_buffer_reset(&part);
    put(&part, byte_buffer_data(&file), ftyp_size);
    put_u32(&part, MP4_SCAN_MAX_MOOV + 9);
    put(&part, "moov", 4);
    while (byte_buffer_length(&part) < ftyp_size + MP4_SCAN_MAX_MOOV + 9)
        put(&part, payload, 1);
    expect_stop(&part, 0, 0, "moov of");
    size_t avcc = find_type(&file, "avcC");
    set_byte(&file, avcc + 8 + 6 + 2 + sizeof(sps), 0); /* numOfPictureParameterSets */
    expect_stop(&file, 0, 0, "avcC without PPS");
    byte_buffer_reset(&file);
    init(&file);
    set_byte(&file, find_type(&file, "dOps") + 8, 1); /* Version */
    expect_stop(&file, 0, 0, "bad dOps");

    /* An SPS that does not parse is not fatal: the entry's size is used. */
    byte_buffer_reset(&file);
    init(&file);
    set_byte(&file, avcc + 8 + 8, 0x68); /* the SPS's NAL header: now a PPS */
    struct mp4_scan_result result;
    assert_int_equal(scan(byte_buffer_data(&file), byte_buffer_length(&file), &result), 0);
    assert_true(result.complete);
    assert_false(result.tracks[0].sps_parsed);
    assert_int_equal(result.tracks[0].width, 64);
    assert_int_equal(result.tracks[0].height, 48);
    mp4_scan_result_free(&result);
    byte_buffer_free(&file);
    byte_buffer_free(&part);
}

/* A failed read is an I/O error, never a reason to cut the file. */
static void test_read_errors(void **state)
{
    (void)state;
    struct byte_buffer file = file_buffer();
    uint64_t good;
    good_start(&file, &good);
    fragment(&file, 2, FMP4_VIDEO_TRACK, 6000, 1, 0);
    struct mp4_scan_result result;
    struct memory memory = {
        .data = byte_buffer_data(&file), .size = byte_buffer_length(&file), .fail_at = good + 30};
    struct mp4_scan_source source = {
        .read = memory_read, .context = &memory, .size = byte_buffer_length(&file)};
    errno = 0;
    assert_int_equal(mp4_scan(&source, &result), -1);
    assert_int_equal(errno, EIO);
    assert_true(result.io_error);
    assert_false(result.complete);
    assert_int_equal(result.valid_length, good);
    assert_non_null(strstr(result.reason, "read error"));
    mp4_scan_result_free(&result);

    memory = (struct memory){
        .data = byte_buffer_data(&file), .size = byte_buffer_length(&file), .overdeliver = 1};
    assert_int_equal(mp4_scan(&source, &result), -1);
    assert_true(result.io_error);
    mp4_scan_result_free(&result);

    /* The file shrinks under the scan: a stop, not an I/O error. */
    memory = (struct memory){.data = byte_buffer_data(&file), .size = good + 20};
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

static void test_truncate(void **state)
{
    (void)state;
    char directory[] = "/tmp/test_mp4_scan.XXXXXX", path[64], link[64];
    assert_non_null(mkdtemp(directory));
    snprintf(path, sizeof(path), "%s/segment.mp4", directory);
    snprintf(link, sizeof(link), "%s/link.mp4", directory);
    struct byte_buffer file = file_buffer();
    uint64_t good;
    good_start(&file, &good);
    put(&file, "\0\0\0\0\0\0\0\0\0\0", 10);
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
    struct generated generated = {
        .init = file_buffer(), .fragment = file_buffer(), .fragments = MP4_SCAN_MAX_FRAGMENTS + 3};
    init(&generated.init);
    fragment(&generated.fragment, 1, FMP4_AUDIO_TRACK, 0, 1, 1);
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
        cmocka_unit_test(test_our_files),
        cmocka_unit_test(test_flags_honoured),
        cmocka_unit_test(test_trex_defaults),
        cmocka_unit_test(test_huge_sample_count),
        cmocka_unit_test(test_stops_after_good_fragment),
        cmocka_unit_test(test_stops_without_init),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_fragment_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
