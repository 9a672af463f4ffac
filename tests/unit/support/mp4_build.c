/*
 * mp4_build.c - small fragmented MP4 files built byte by byte for the MP4
 * scanner's unit tests (see mp4_build.h). Single-threaded; the caller owns
 * every buffer.
 */
#include "mp4_build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>

/* The parameter sets of a 64x48 x264 baseline stream (tests/fuzz/corpus/h264). */
const uint8_t mp4_build_sps[] = {0x67, 0x42, 0xC0, 0x0A, 0xD9, 0x04, 0x7B, 0x01,
                                 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00,
                                 0x03, 0x00, 0xA0, 0xF1, 0x22, 0x64, 0x80};
const uint8_t mp4_build_pps[] = {0x68, 0xCB, 0x83, 0xCB, 0x20};
const uint8_t mp4_build_payload[64] = {0xAB};

const struct fmp4_video_config mp4_build_video = {.width = 64,
                                                  .height = 48,
                                                  .sps = mp4_build_sps,
                                                  .sps_size = sizeof(mp4_build_sps),
                                                  .pps = mp4_build_pps,
                                                  .pps_size = sizeof(mp4_build_pps)};
const struct fmp4_audio_config mp4_build_audio = {
    .channels = 2, .input_sample_rate = 48000, .pre_skip = 312};

/* See mp4_build.h. */
ssize_t mp4_build_memory_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct mp4_build_memory *memory = context;
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
int mp4_build_scan(const uint8_t *data, size_t size, struct mp4_scan_result *result)
{
    struct mp4_build_memory memory = {.data = data, .size = size};
    struct mp4_scan_source source = {
        .read = mp4_build_memory_read, .context = &memory, .size = size};
    return mp4_scan(&source, result);
}

/* ---- building files ------------------------------------------------------ */

/* See mp4_build.h. */
uint32_t mp4_build_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A buffer for a test file, large enough for every file built here. */
struct byte_buffer mp4_build_file_buffer(void)
{
    struct byte_buffer buffer;
    byte_buffer_init(&buffer, 64u * 1024u * 1024u);
    return buffer;
}

/* See mp4_build.h. */
void mp4_build_put(struct byte_buffer *out, const void *bytes, size_t size)
{
    assert_int_equal(byte_buffer_add(out, bytes, size), BYTE_BUFFER_OK);
}

/* Overwrite one byte of a file built earlier. */
void mp4_build_set_byte(struct byte_buffer *out, size_t at, uint8_t value)
{
    assert_int_equal(byte_buffer_patch(out, at, &value, 1), BYTE_BUFFER_OK);
}

/* See mp4_build.h. */
void mp4_build_put_u32(struct byte_buffer *out, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    mp4_build_put(out, bytes, 4);
}

/* See mp4_build.h. */
void mp4_build_put_u64(struct byte_buffer *out, uint64_t value)
{
    mp4_build_put_u32(out, (uint32_t)(value >> 32));
    mp4_build_put_u32(out, (uint32_t)value);
}

/* See mp4_build.h. */
void mp4_build_patch_u32(struct byte_buffer *out, size_t at, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    assert_int_equal(byte_buffer_patch(out, at, bytes, 4), BYTE_BUFFER_OK);
}

/* See mp4_build.h. */
size_t mp4_build_box(struct byte_buffer *out, const char *type)
{
    size_t start = byte_buffer_length(out);
    mp4_build_put_u32(out, 0);
    mp4_build_put(out, type, 4);
    return start;
}

/* See mp4_build.h. */
size_t mp4_build_full_box(struct byte_buffer *out, const char *type, uint32_t version,
                          uint32_t flags)
{
    size_t start = mp4_build_box(out, type);
    mp4_build_put_u32(out, version << 24 | flags);
    return start;
}

/* See mp4_build.h. */
void mp4_build_box_end(struct byte_buffer *out, size_t start)
{
    mp4_build_patch_u32(out, start, (uint32_t)(byte_buffer_length(out) - start));
}

/* A standard init: ftyp + moov with video and audio. */
void mp4_build_init(struct byte_buffer *out)
{
    assert_int_equal(fmp4_write_init(out, &mp4_build_video, &mp4_build_audio), 0);
}

/* A fragment as fmp4.c writes it: count video samples of 10 bytes. */
void mp4_build_fragment(struct byte_buffer *out, uint32_t sequence, uint32_t track, uint64_t time,
                        int count, int keyframe)
{
    struct fmp4_sample samples[4];
    assert_true(count <= 4);
    for (int i = 0; i < count; i++)
        samples[i] = (struct fmp4_sample){.duration = 3000, .size = 10, .keyframe = keyframe};
    assert_int_equal(fmp4_write_fragment(out, sequence, track, time, samples, count,
                                         mp4_build_payload, (size_t)count * 10),
                     0);
}

/* Build a moof + mdat from spec; returns the moof's offset. */
size_t mp4_build_moof(struct byte_buffer *out, const struct mp4_build_spec *spec)
{
    size_t moof = mp4_build_box(out, "moof");
    size_t mfhd = mp4_build_full_box(out, "mfhd", 0, 0);
    mp4_build_put_u32(out, spec->sequence);
    mp4_build_box_end(out, mfhd);
    size_t base_at = 0, data_offset_at = 0, payload_size = 0;
    for (int traf_index = 0; traf_index < (spec->trafs > 0 ? spec->trafs : 1); traf_index++) {
        size_t traf = mp4_build_box(out, "traf");
        size_t tfhd = mp4_build_full_box(out, "tfhd", 0, spec->tfhd_flags);
        mp4_build_put_u32(out, spec->track_id);
        if (spec->tfhd_flags & 0x01) {
            base_at = byte_buffer_length(out);
            mp4_build_put_u64(out, 0);
        }
        if (spec->tfhd_flags & 0x08)
            mp4_build_put_u32(out, spec->default_duration);
        if (spec->tfhd_flags & 0x10)
            mp4_build_put_u32(out, spec->default_size);
        if (spec->tfhd_flags & 0x20)
            mp4_build_put_u32(out, spec->default_flags);
        mp4_build_box_end(out, tfhd);
        if (spec->tfdt_version >= 0) {
            size_t tfdt = mp4_build_full_box(out, "tfdt", (uint32_t)spec->tfdt_version, 0);
            if (spec->tfdt_version == 1)
                mp4_build_put_u64(out, spec->decode_time);
            else
                mp4_build_put_u32(out, (uint32_t)spec->decode_time);
            mp4_build_box_end(out, tfdt);
        }
        size_t trun =
            mp4_build_full_box(out, "trun", (uint32_t)spec->trun_version, spec->trun_flags);
        mp4_build_put_u32(out, (uint32_t)spec->count);
        if (spec->trun_flags & 0x01) {
            data_offset_at = byte_buffer_length(out);
            mp4_build_put_u32(out, 0);
        }
        if (spec->trun_flags & 0x04)
            mp4_build_put_u32(out, spec->first_flags);
        payload_size = 0;
        for (int i = 0; i < spec->count; i++) {
            if (spec->trun_flags & 0x100)
                mp4_build_put_u32(out, spec->durations[i]);
            if (spec->trun_flags & 0x200)
                mp4_build_put_u32(out, spec->sizes[i]);
            if (spec->trun_flags & 0x400)
                mp4_build_put_u32(out, spec->flags[i]);
            if (spec->trun_flags & 0x800)
                mp4_build_put_u32(out, (uint32_t)-1000); /* a negative offset (version 1) */
            payload_size += spec->trun_flags & 0x200  ? spec->sizes[i]
                            : spec->tfhd_flags & 0x10 ? spec->default_size
                                                      : spec->trex_size;
        }
        mp4_build_box_end(out, trun);
        mp4_build_box_end(out, traf);
    }
    mp4_build_box_end(out, moof);
    size_t header = spec->large_mdat ? 16 : 8;
    size_t payload_start = byte_buffer_length(out) + header;
    if (base_at > 0) {
        mp4_build_patch_u32(out, base_at, 0);
        mp4_build_patch_u32(out, base_at + 4, (uint32_t)payload_start);
    }
    if (data_offset_at > 0) {
        size_t base = base_at > 0 ? payload_start : moof;
        mp4_build_patch_u32(
            out, data_offset_at,
            (uint32_t)((int64_t)payload_start - (int64_t)base + spec->data_offset_adjust));
    }
    if (spec->large_mdat) {
        mp4_build_put_u32(out, 1);
        mp4_build_put(out, "mdat", 4);
        mp4_build_put_u64(out, header + payload_size);
    } else {
        mp4_build_put_u32(out, spec->mdat_to_end ? 0 : (uint32_t)(header + payload_size));
        mp4_build_put(out, "mdat", 4);
    }
    for (size_t i = 0; i < payload_size; i++)
        mp4_build_put(out, "\xCD", 1);
    return moof;
}

/* A spec for n samples of track 1, every field in trun, like ours. */
struct mp4_build_spec mp4_build_plain_spec(uint32_t sequence, uint64_t time, int count)
{
    struct mp4_build_spec spec = {.sequence = sequence,
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
void mp4_build_expect_stop(const struct byte_buffer *file, uint64_t valid, size_t fragments,
                           const char *why)
{
    struct mp4_scan_result result;
    assert_int_equal(mp4_build_scan(byte_buffer_data(file), byte_buffer_length(file), &result), 0);
    if (result.valid_length != valid || result.fragment_count != fragments || result.complete ||
        strstr(result.reason, why) == NULL || result.io_error)
        fail_msg("valid %llu (expected %llu), %zu fragments (expected %zu), reason \"%s\" "
                 "(expected \"%s\")",
                 (unsigned long long)result.valid_length, (unsigned long long)valid,
                 result.fragment_count, fragments, result.reason, why);
    assert_int_equal(result.total_length, byte_buffer_length(file));
    mp4_scan_result_free(&result);
}

/* The byte offset of the first box of a type at or after from (searched
 * as bytes). */
size_t mp4_build_find_type_from(const struct byte_buffer *file, size_t from, const char *type)
{
    for (size_t at = from + 4; at + 4 <= byte_buffer_length(file); at++)
        if (memcmp(byte_buffer_data(file) + at, type, 4) == 0)
            return at - 4;
    fail_msg("no %s", type);
    return 0;
}

/* See mp4_build.h. */
size_t mp4_build_find_type(const struct byte_buffer *file, const char *type)
{
    return mp4_build_find_type_from(file, 0, type);
}

/* Start a file with init + one good video fragment (ends at *good). */
void mp4_build_good_start(struct byte_buffer *file, uint64_t *good)
{
    byte_buffer_reset(file);
    mp4_build_init(file);
    mp4_build_fragment(file, 1, FMP4_VIDEO_TRACK, 0, 2, 1);
    *good = byte_buffer_length(file);
}