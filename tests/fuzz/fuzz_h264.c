/*
 * fuzz_h264.c - libFuzzer harness for the H.264 Annex B reader
 * (appliance/media/h264.c) and, behind it, the fragmented MP4 writer
 * (appliance/media/fmp4.c), fed with what a doorbell could send.
 *
 * For each input: iterate the NAL units (each inside the input, non-empty,
 * forbidden bit clear) and parse every SPS (a parsed size is positive and
 * bounded; the codecs string is well-formed); convert the input as one
 * access unit (a failure leaves a reason and a zeroed unit; a success has
 * AVCC lengths that tile the buffer, only slices and SEI inside, parameter
 * sets pointing into the input). A converted unit is then muxed: init
 * segment (with audio) and a video plus an audio fragment, and every box
 * must tile its parent exactly, the top-level boxes the whole buffer, and
 * trun's data_offset must point at the mdat payload.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning.
 * FUZZ_SOURCES: appliance/media/h264.c appliance/media/fmp4.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/fmp4.h"
#include "media/h264.h"

#define FUZZ_ERROR_SIZE 128
#define FUZZ_MAX_DEPTH  12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A failure must leave a non-empty, NUL-terminated reason. */
static void fuzz_check_reason(const char *error)
{
    size_t length = strnlen(error, FUZZ_ERROR_SIZE);
    FUZZ_CHECK(length > 0 && length < FUZZ_ERROR_SIZE);
}

static uint32_t fuzz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bytes of a box's own fields before its children, or -1 for a leaf. */
static long fuzz_children_offset(const uint8_t *type)
{
    static const char *const containers[] = {"moov", "trak", "mdia", "minf", "dinf",
                                             "stbl", "mvex", "moof", "traf"};
    for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
        if (memcmp(type, containers[i], 4) == 0)
            return 0;
    if (memcmp(type, "stsd", 4) == 0 || memcmp(type, "dref", 4) == 0)
        return 8; /* FullBox header + entry_count */
    if (memcmp(type, "avc1", 4) == 0)
        return 78; /* VisualSampleEntry fields */
    if (memcmp(type, "Opus", 4) == 0)
        return 28; /* AudioSampleEntry fields */
    return -1;
}

/* Check that the boxes in [data, data + size) tile it exactly, recursively. */
static void fuzz_check_boxes(const uint8_t *data, size_t size, int depth)
{
    FUZZ_CHECK(depth < FUZZ_MAX_DEPTH);
    size_t at = 0;
    while (at < size) {
        FUZZ_CHECK(size - at >= 8);
        uint32_t box_size = fuzz_be32(data + at);
        FUZZ_CHECK(box_size >= 8 && box_size <= size - at);
        long skip = fuzz_children_offset(data + at + 4);
        if (skip >= 0) {
            FUZZ_CHECK((size_t)skip <= box_size - 8);
            fuzz_check_boxes(data + at + 8 + skip, box_size - 8 - (size_t)skip, depth + 1);
        }
        at += box_size;
    }
    FUZZ_CHECK(at == size);
}

/* In one fragment (moof + mdat at data), data_offset must hit the payload. */
static void fuzz_check_fragment(const uint8_t *data, size_t size, size_t payload_size)
{
    FUZZ_CHECK(size >= 8 && memcmp(data + 4, "moof", 4) == 0);
    size_t moof_size = fuzz_be32(data);
    FUZZ_CHECK(moof_size + 8 + payload_size == size);
    FUZZ_CHECK(memcmp(data + moof_size + 4, "mdat", 4) == 0);
    /* moof: mfhd (16), traf header (8), tfhd (16), tfdt (20), trun. */
    const uint8_t *trun = data + 8 + 16 + 8 + 16 + 20;
    FUZZ_CHECK(memcmp(trun + 4, "trun", 4) == 0);
    FUZZ_CHECK(fuzz_be32(trun + 16) == moof_size + 8);
}

/* Every SPS found by the iterator parses or fails cleanly. */
static void fuzz_nals(const uint8_t *data, size_t size)
{
    size_t offset = 0;
    struct h264_nal nal;
    int result;
    while ((result = h264_next_nal(data, size, &offset, &nal)) == 1) {
        FUZZ_CHECK(nal.data > data && nal.size > 0 && nal.data + nal.size <= data + size);
        FUZZ_CHECK((nal.data[0] & 0x80) == 0 && nal.type == (nal.data[0] & 0x1F));
        FUZZ_CHECK(offset <= size);
        if (nal.type != H264_NAL_SPS)
            continue;
        struct h264_sps_info info;
        char error[FUZZ_ERROR_SIZE] = "";
        if (h264_parse_sps(nal.data, nal.size, &info, error, sizeof(error)) != 0) {
            fuzz_check_reason(error);
            continue;
        }
        FUZZ_CHECK(info.width > 0 && info.width <= 16384);
        FUZZ_CHECK(info.height > 0 && info.height <= 2 * 16384);
        FUZZ_CHECK(info.profile_idc >= 0 && info.profile_idc <= 255);
        char codecs[16];
        h264_codecs_string(&info, codecs);
        FUZZ_CHECK(strlen(codecs) == 11 && memcmp(codecs, "avc1.", 5) == 0);
    }
    FUZZ_CHECK(result == 0 || result == -1);
}

/* The converted unit's AVCC: lengths tile it, only slices and SEI. */
static void fuzz_check_unit(const struct h264_access_unit *unit, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(unit->avcc != NULL && unit->avcc_size > 0);
    FUZZ_CHECK(unit->slice_count >= 1);
    FUZZ_CHECK(!unit->is_idr || (unit->sps != NULL && unit->pps != NULL));
    if (unit->sps != NULL)
        FUZZ_CHECK(unit->sps > data && unit->sps + unit->sps_size <= data + size &&
                   unit->sps_size <= H264_MAX_PARAMETER_SET);
    if (unit->pps != NULL)
        FUZZ_CHECK(unit->pps > data && unit->pps + unit->pps_size <= data + size &&
                   unit->pps_size <= H264_MAX_PARAMETER_SET);
    size_t at = 0;
    int slices = 0;
    while (at < unit->avcc_size) {
        FUZZ_CHECK(unit->avcc_size - at > 4);
        size_t length = fuzz_be32(unit->avcc + at);
        FUZZ_CHECK(length > 0 && length <= unit->avcc_size - at - 4);
        int type = unit->avcc[at + 4] & 0x1F;
        FUZZ_CHECK(type >= H264_NAL_SLICE && type <= H264_NAL_SEI);
        slices += type == H264_NAL_SLICE || type == H264_NAL_IDR;
        at += 4 + length;
    }
    FUZZ_CHECK(slices == unit->slice_count);
}

/* Mux the unit: init + video fragment + audio fragment, then check boxes. */
static void fuzz_mux(const struct h264_access_unit *unit)
{
    static const uint8_t default_sps[] = {0x67, 0x42, 0xC0, 0x0A, 0xD9, 0x07, 0x3C, 0x04, 0x40};
    static const uint8_t default_pps[] = {0x68, 0xCB, 0x83, 0xCB, 0x20};
    static const uint8_t opus_packet[] = {0xF8, 0xFF, 0xFE};
    struct fmp4_video_config video = {.width = 64,
                                      .height = 48,
                                      .sps = default_sps,
                                      .sps_size = sizeof(default_sps),
                                      .pps = default_pps,
                                      .pps_size = sizeof(default_pps)};
    if (unit->sps != NULL && unit->pps != NULL) {
        struct h264_sps_info info;
        if (fmp4_video_config_from_sps(&video, &info, unit->sps, unit->sps_size, unit->pps,
                                       unit->pps_size, NULL, 0) != 0) {
            /* An SPS that does not parse still goes into avcC, at 64x48. */
            video.sps = unit->sps;
            video.sps_size = unit->sps_size;
            video.pps = unit->pps;
            video.pps_size = unit->pps_size;
        }
    }
    const struct fmp4_audio_config audio = {.channels = 2, .input_sample_rate = 48000};
    struct byte_buffer out;
    byte_buffer_init(&out, unit->avcc_size + 64u * 1024u); /* the unit, boxes and a packet */
    FUZZ_CHECK(fmp4_write_init(&out, &video, &audio) == 0);
    size_t init_size = byte_buffer_length(&out);
    const struct fmp4_sample sample = {
        .duration = 3000, .size = (uint32_t)unit->avcc_size, .keyframe = unit->is_idr};
    FUZZ_CHECK(fmp4_write_fragment(&out, 1, FMP4_VIDEO_TRACK, 0, &sample, 1, unit->avcc,
                                   unit->avcc_size) == 0);
    size_t video_size = byte_buffer_length(&out) - init_size;
    const struct fmp4_sample audio_sample = {.duration = 960, .size = sizeof(opus_packet)};
    FUZZ_CHECK(fmp4_write_fragment(&out, 2, FMP4_AUDIO_TRACK, 0, &audio_sample, 1, opus_packet,
                                   sizeof(opus_packet)) == 0);
    FUZZ_CHECK(byte_buffer_error(&out) == BYTE_BUFFER_OK);
    fuzz_check_boxes(byte_buffer_data(&out), byte_buffer_length(&out), 0);
    fuzz_check_fragment(byte_buffer_data(&out) + init_size, video_size, unit->avcc_size);
    FUZZ_CHECK(memcmp(byte_buffer_data(&out) + init_size + video_size - unit->avcc_size, unit->avcc,
                      unit->avcc_size) == 0);
    fuzz_check_fragment(byte_buffer_data(&out) + init_size + video_size,
                        byte_buffer_length(&out) - init_size - video_size, sizeof(opus_packet));
    byte_buffer_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_nals(data, size);
    struct h264_access_unit unit;
    char error[FUZZ_ERROR_SIZE] = "";
    if (h264_access_unit_convert(data, size, &unit, error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        FUZZ_CHECK(unit.avcc == NULL && unit.avcc_size == 0 && unit.sps == NULL);
        return 0;
    }
    fuzz_check_unit(&unit, data, size);
    fuzz_mux(&unit);
    h264_access_unit_free(&unit);
    return 0;
}
