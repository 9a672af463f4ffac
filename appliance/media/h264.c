/*
 * h264.c - H.264 Annex B parsing for the hub: NAL unit iteration, SPS
 * parsing (ITU-T H.264 7.3.2.1.1) and conversion of one access unit into the
 * length-prefixed (AVCC) sample that ISO/IEC 14496-15 wants in an MP4.
 *
 * The input comes from doorbells, so it is untrusted: every read is bounded,
 * Exp-Golomb codes are limited to 32 bits, the SPS is unescaped into a fixed
 * local buffer, and any inconsistency fails with a reason instead of being
 * guessed around. Fuzzed by tests/fuzz/fuzz_h264.c.
 *
 * Threads: pure functions, called from any thread (link threads today).
 * Ownership: nothing is kept between calls; the only allocation is the AVCC
 * buffer of struct h264_access_unit, freed by h264_access_unit_free().
 */
#include "media/h264.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"

/* Sanity limits, far above anything a doorbell sends (level 6.2 is 8192x4320). */
#define H264_MAX_MBS_PER_SIDE 1024 /* 16384 pixels */
#define H264_MAX_POC_CYCLE    255
#define H264_MAX_NAL_SIZE     0xFFFFFFFFu /* what a 4-byte AVCC length can hold */
#define H264_MIN_SPS_SIZE     4           /* header + profile + constraints + level */
#define H264_MIN_PPS_SIZE     2

/*
 * Iterate over NAL units (Annex B B.2). A start code is two or more zero
 * bytes followed by 0x01; the first one may be preceded only by zero bytes
 * (leading_zero_8bits). A NAL ends where 00 00 00 or 00 00 01 begins, minus
 * trailing zero bytes (a NAL never ends in 0x00: rbsp_trailing_bits, and
 * cabac_zero_words are escaped as 00 00 03). The NAL points into buffer.
 */
int h264_next_nal(const uint8_t *buffer, size_t size, size_t *offset, struct h264_nal *nal)
{
    if (buffer == NULL || offset == NULL || nal == NULL || *offset > size)
        return -1;
    size_t position = *offset;
    size_t zeros = 0;
    while (position < size && buffer[position] == 0) {
        position++;
        zeros++;
    }
    if (position == size) {
        *offset = size;
        return 0;
    }
    if (buffer[position] != 1 || zeros < 2) {
        *offset = size;
        return -1; /* garbage before a start code */
    }
    size_t start = position + 1;
    size_t end = size;
    size_t i = start;
    while (i + 2 < size) {
        const uint8_t *zero = memchr(buffer + i, 0, size - 2 - i);
        if (zero == NULL)
            break;
        i = (size_t)(zero - buffer);
        if (buffer[i + 1] == 0 && buffer[i + 2] <= 1) {
            end = i;
            break;
        }
        i++;
    }
    while (end > start && buffer[end - 1] == 0)
        end--;
    *offset = end;
    if (end == start || (buffer[start] & 0x80) != 0) {
        *offset = size;
        return -1; /* empty NAL or forbidden_zero_bit set */
    }
    assert(end <= size && start < end);
    nal->data = buffer + start;
    nal->size = end - start;
    nal->type = buffer[start] & 0x1F;
    return 1;
}

/* A bit reader over an unescaped RBSP. Reads past the end set `overrun`
 * and return zeros; callers check overrun after each syntax group. */
struct h264_bits {
    const uint8_t *data;
    size_t size_bits;
    size_t position;
    bool overrun;
};

/* Read one bit (0 once overrun). */
static uint32_t h264_bit(struct h264_bits *bits)
{
    if (bits->position >= bits->size_bits) {
        bits->overrun = true;
        return 0;
    }
    size_t byte = bits->position >> 3;
    unsigned shift = 7u - (unsigned)(bits->position & 7u);
    bits->position++;
    return (bits->data[byte] >> shift) & 1u;
}

/* Read count (<= 32) bits, most significant first. */
static uint32_t h264_bits_read(struct h264_bits *bits, int count)
{
    assert(count >= 0 && count <= 32);
    uint64_t value = 0;
    for (int i = 0; i < count; i++)
        value = (value << 1) | h264_bit(bits);
    return (uint32_t)value;
}

/* ue(v), 9.1: leading zeros, a 1, then as many info bits. More than 31
 * leading zeros cannot be represented in 32 bits and count as an overrun. */
static uint32_t h264_ue(struct h264_bits *bits)
{
    int zeros = 0;
    while (h264_bit(bits) == 0) {
        if (bits->overrun || ++zeros > 31) {
            bits->overrun = true;
            return 0;
        }
    }
    uint64_t value = ((uint64_t)1 << zeros) - 1 + h264_bits_read(bits, zeros);
    return bits->overrun ? 0 : (uint32_t)value;
}

/* se(v), 9.1.1: k -> (-1)^(k+1) * Ceil(k / 2). */
static int64_t h264_se(struct h264_bits *bits)
{
    uint32_t k = h264_ue(bits);
    int64_t magnitude = ((int64_t)k + 1) / 2;
    return (k & 1u) ? magnitude : -magnitude;
}

/* Skip a scaling_list() (7.3.2.1.1.1); only the delta_scale values are coded. */
static int h264_skip_scaling_list(struct h264_bits *bits, int list_size)
{
    int last_scale = 8, next_scale = 8;
    for (int j = 0; j < list_size; j++) {
        if (next_scale != 0) {
            int64_t delta = h264_se(bits);
            if (bits->overrun || delta < -128 || delta > 127)
                return -1;
            next_scale = (last_scale + (int)delta + 256) % 256;
        }
        last_scale = next_scale == 0 ? last_scale : next_scale;
    }
    return 0;
}

/* Copy a NAL's payload (after the header byte) into out, dropping every
 * emulation_prevention_three_byte (7.4.1). Returns the RBSP size or -1. */
static int h264_unescape(const uint8_t *payload, size_t size, uint8_t *out, size_t out_size)
{
    size_t written = 0, zeros = 0;
    for (size_t i = 0; i < size; i++) {
        if (zeros >= 2 && payload[i] == 3) {
            zeros = 0;
            continue;
        }
        if (written >= out_size)
            return -1;
        out[written++] = payload[i];
        zeros = payload[i] == 0 ? zeros + 1 : 0;
    }
    return (int)written;
}

/* Whether an SPS of this profile codes chroma_format_idc, bit depths and
 * scaling matrices (the condition in 7.3.2.1.1). */
static bool h264_profile_has_chroma_info(int profile_idc)
{
    static const uint8_t profiles[] = {100, 110, 122, 244, 44,  83, 86,
                                       118, 128, 138, 139, 134, 135};
    for (size_t i = 0; i < sizeof(profiles); i++)
        if (profiles[i] == profile_idc)
            return true;
    return false;
}

/* High-profile branch of the SPS (chroma format, bit depths, scaling lists). */
static int h264_parse_sps_chroma(struct h264_bits *bits, struct h264_sps_info *out,
                                 int *separate_colour_plane, char *error, size_t error_size)
{
    uint32_t chroma_format_idc = h264_ue(bits);
    if (bits->overrun || chroma_format_idc > 3) {
        error_text_set(error, error_size, "SPS: bad chroma_format_idc");
        return -1;
    }
    if (chroma_format_idc == 3)
        *separate_colour_plane = (int)h264_bit(bits);
    uint32_t depth_luma = h264_ue(bits);
    uint32_t depth_chroma = h264_ue(bits);
    if (bits->overrun || depth_luma > 6 || depth_chroma > 6) {
        error_text_set(error, error_size, "SPS: bad bit depth");
        return -1;
    }
    h264_bit(bits);       /* qpprime_y_zero_transform_bypass_flag */
    if (h264_bit(bits)) { /* seq_scaling_matrix_present_flag */
        int lists = chroma_format_idc != 3 ? 8 : 12;
        for (int i = 0; i < lists; i++) {
            if (h264_bit(bits) && h264_skip_scaling_list(bits, i < 6 ? 16 : 64) != 0) {
                error_text_set(error, error_size, "SPS: bad scaling list");
                return -1;
            }
        }
    }
    if (bits->overrun) {
        error_text_set(error, error_size, "SPS: truncated");
        return -1;
    }
    out->chroma_format_idc = (int)chroma_format_idc;
    out->bit_depth_luma = 8 + (int)depth_luma;
    out->bit_depth_chroma = 8 + (int)depth_chroma;
    return 0;
}

/* pic_order_cnt fields of the SPS (types 0, 1, 2). */
static int h264_parse_sps_poc(struct h264_bits *bits, char *error, size_t error_size)
{
    uint32_t type = h264_ue(bits);
    if (bits->overrun || type > 2) {
        error_text_set(error, error_size, "SPS: bad pic_order_cnt_type");
        return -1;
    }
    if (type == 0) {
        if (h264_ue(bits) > 12 || bits->overrun) { /* log2_max_pic_order_cnt_lsb_minus4 */
            error_text_set(error, error_size, "SPS: bad log2_max_pic_order_cnt_lsb");
            return -1;
        }
    } else if (type == 1) {
        h264_bit(bits); /* delta_pic_order_always_zero_flag */
        h264_se(bits);  /* offset_for_non_ref_pic */
        h264_se(bits);  /* offset_for_top_to_bottom_field */
        uint32_t cycle = h264_ue(bits);
        if (bits->overrun || cycle > H264_MAX_POC_CYCLE) {
            error_text_set(error, error_size, "SPS: bad num_ref_frames_in_pic_order_cnt_cycle");
            return -1;
        }
        for (uint32_t i = 0; i < cycle && !bits->overrun; i++)
            h264_se(bits); /* offset_for_ref_frame[i] */
    }
    if (bits->overrun) {
        error_text_set(error, error_size, "SPS: truncated");
        return -1;
    }
    return 0;
}

/* Picture size and cropping (7.4.2.1.1, equations 7-13 .. 7-22). */
static int h264_parse_sps_size(struct h264_bits *bits, struct h264_sps_info *out,
                               int separate_colour_plane, char *error, size_t error_size)
{
    uint32_t width_mbs = h264_ue(bits) + 1u;
    uint32_t height_map_units = h264_ue(bits) + 1u;
    uint32_t frame_mbs_only = h264_bit(bits);
    if (!frame_mbs_only)
        h264_bit(bits); /* mb_adaptive_frame_field_flag */
    h264_bit(bits);     /* direct_8x8_inference_flag */
    if (bits->overrun) {
        error_text_set(error, error_size, "SPS: truncated");
        return -1;
    }
    if (width_mbs > H264_MAX_MBS_PER_SIDE || height_map_units > H264_MAX_MBS_PER_SIDE) {
        error_text_set(error, error_size, "SPS: picture size out of range");
        return -1;
    }
    int64_t width = (int64_t)width_mbs * 16;
    int64_t height = (int64_t)(2 - frame_mbs_only) * height_map_units * 16;
    if (h264_bit(bits)) { /* frame_cropping_flag */
        int64_t left = h264_ue(bits), right = h264_ue(bits);
        int64_t top = h264_ue(bits), bottom = h264_ue(bits);
        int64_t unit_x = 1, unit_y = 2 - (int64_t)frame_mbs_only;
        if (out->chroma_format_idc != 0 && !separate_colour_plane) {
            unit_x = out->chroma_format_idc == 3 ? 1 : 2;
            unit_y *= out->chroma_format_idc == 1 ? 2 : 1;
        }
        width -= unit_x * (left + right);
        height -= unit_y * (top + bottom);
    }
    if (bits->overrun) {
        error_text_set(error, error_size, "SPS: truncated");
        return -1;
    }
    if (width <= 0 || height <= 0) {
        error_text_set(error, error_size, "SPS: cropping removes the whole picture");
        return -1;
    }
    out->width = (int)width;
    out->height = (int)height;
    return 0;
}

/* Parse seq_parameter_set_data() up to the frame cropping (VUI is not
 * needed) into a zeroed *out. Returns 0, or -1 with a reason. */
static int h264_parse_sps_fields(const uint8_t *nal, size_t size, struct h264_sps_info *out,
                                 char *error, size_t error_size)
{
    uint8_t rbsp[H264_MAX_PARAMETER_SET];
    if (nal == NULL || size < 1) {
        error_text_set(error, error_size, "SPS: empty");
        return -1;
    }
    if ((nal[0] & 0x80) != 0 || (nal[0] & 0x1F) != H264_NAL_SPS) {
        error_text_set(error, error_size, "SPS: not an SPS NAL unit (header 0x%02X)", nal[0]);
        return -1;
    }
    if (size > H264_MAX_PARAMETER_SET) {
        error_text_set(error, error_size, "SPS: %zu bytes, more than %d", size,
                       H264_MAX_PARAMETER_SET);
        return -1;
    }
    int rbsp_size = h264_unescape(nal + 1, size - 1, rbsp, sizeof(rbsp));
    if (rbsp_size < 3) {
        error_text_set(error, error_size, "SPS: truncated");
        return -1;
    }
    struct h264_bits bits = {.data = rbsp, .size_bits = (size_t)rbsp_size * 8};
    out->profile_idc = (int)h264_bits_read(&bits, 8);
    out->constraint_flags = (int)h264_bits_read(&bits, 8);
    out->level_idc = (int)h264_bits_read(&bits, 8);
    out->chroma_format_idc = 1;
    out->bit_depth_luma = 8;
    out->bit_depth_chroma = 8;
    if (h264_ue(&bits) > 31 || bits.overrun) {
        error_text_set(error, error_size, "SPS: bad seq_parameter_set_id");
        return -1;
    }
    int separate_colour_plane = 0;
    if (h264_profile_has_chroma_info(out->profile_idc) &&
        h264_parse_sps_chroma(&bits, out, &separate_colour_plane, error, error_size) != 0)
        return -1;
    if (h264_ue(&bits) > 12 || bits.overrun) { /* log2_max_frame_num_minus4 */
        error_text_set(error, error_size, "SPS: bad log2_max_frame_num");
        return -1;
    }
    if (h264_parse_sps_poc(&bits, error, error_size) != 0)
        return -1;
    h264_ue(&bits);  /* max_num_ref_frames */
    h264_bit(&bits); /* gaps_in_frame_num_value_allowed_flag */
    return h264_parse_sps_size(&bits, out, separate_colour_plane, error, error_size);
}

/* Parse an SPS NAL unit (header byte included). 0 with *out filled, or -1
 * with a reason and *out zeroed. */
int h264_parse_sps(const uint8_t *nal, size_t size, struct h264_sps_info *out, char *error,
                   size_t error_size)
{
    if (out == NULL) {
        error_text_set(error, error_size, "SPS: no output");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    if (h264_parse_sps_fields(nal, size, out, error, error_size) != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* "avc1.PPCCLL" (RFC 6381 3.3): profile, constraint byte, level in hex. */
void h264_codecs_string(const struct h264_sps_info *sps, char out[16])
{
    if (sps == NULL) {
        out[0] = '\0';
        return;
    }
    snprintf(out, 16, "avc1.%02X%02X%02X", (unsigned)sps->profile_idc & 0xFFu,
             (unsigned)sps->constraint_flags & 0xFFu, (unsigned)sps->level_idc & 0xFFu);
}

/* Whether a NAL of this type goes into the MP4 sample: slices and data
 * partitions (1..5) and SEI (6). Parameter sets go to avcC instead; AUD,
 * filler, end markers and reserved/unspecified types are dropped. */
static bool h264_nal_in_sample(int type)
{
    return type >= H264_NAL_SLICE && type <= H264_NAL_SEI;
}

/* Walk the access unit once: validate, find the parameter sets, count the
 * slices and the AVCC size. Returns 0 or -1 with a reason. */
static int h264_scan_access_unit(const uint8_t *annexb, size_t size, struct h264_access_unit *out,
                                 size_t *avcc_size, char *error, size_t error_size)
{
    size_t offset = 0, total = 0;
    int idr_slices = 0, other_slices = 0, nals = 0, result;
    struct h264_nal nal;
    while ((result = h264_next_nal(annexb, size, &offset, &nal)) == 1) {
        nals++;
        if (nal.type == H264_NAL_SPS || nal.type == H264_NAL_PPS) {
            size_t minimum = nal.type == H264_NAL_SPS ? H264_MIN_SPS_SIZE : H264_MIN_PPS_SIZE;
            if (nal.size > H264_MAX_PARAMETER_SET || nal.size < minimum) {
                error_text_set(error, error_size, "%s of %zu bytes (allowed %zu..%d)",
                               nal.type == H264_NAL_SPS ? "SPS" : "PPS", nal.size, minimum,
                               H264_MAX_PARAMETER_SET);
                return -1;
            }
            /* The first of each is what avcC gets. */
            if (nal.type == H264_NAL_SPS && out->sps == NULL) {
                out->sps = nal.data;
                out->sps_size = nal.size;
            } else if (nal.type == H264_NAL_PPS && out->pps == NULL) {
                out->pps = nal.data;
                out->pps_size = nal.size;
            }
        }
        if (nal.type == H264_NAL_IDR)
            idr_slices++;
        else if (nal.type == H264_NAL_SLICE)
            other_slices++;
        if (h264_nal_in_sample(nal.type)) {
            if (nal.size > H264_MAX_NAL_SIZE || total > SIZE_MAX - 4 - nal.size) {
                error_text_set(error, error_size, "NAL unit too large");
                return -1;
            }
            total += 4 + nal.size;
        }
    }
    if (result < 0) {
        error_text_set(error, error_size, "malformed Annex B stream (NAL %d)", nals + 1);
        return -1;
    }
    if (idr_slices + other_slices == 0) {
        error_text_set(error, error_size, "access unit holds no slice");
        return -1;
    }
    if (idr_slices > 0 && other_slices > 0) {
        error_text_set(error, error_size, "access unit mixes IDR and non-IDR slices");
        return -1;
    }
    if (idr_slices > 0 && (out->sps == NULL || out->pps == NULL)) {
        error_text_set(error, error_size, "IDR access unit without SPS and PPS");
        return -1;
    }
    out->is_idr = idr_slices > 0;
    out->slice_count = idr_slices + other_slices;
    *avcc_size = total;
    return 0;
}

/*
 * Convert one Annex B access unit into AVCC (14496-15 5.3.2: each NAL
 * preceded by its 4-byte big-endian length). On success out->avcc is
 * malloc'd (free with h264_access_unit_free) and sps/pps point into annexb.
 * On failure *out is zeroed and nothing is allocated.
 */
int h264_access_unit_convert(const uint8_t *annexb, size_t size, struct h264_access_unit *out,
                             char *error, size_t error_size)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (annexb == NULL || size == 0) {
        error_text_set(error, error_size, "empty access unit");
        return -1;
    }
    size_t avcc_size = 0;
    if (h264_scan_access_unit(annexb, size, out, &avcc_size, error, error_size) != 0)
        goto fail;
    assert(avcc_size > 0);
    out->avcc = malloc(avcc_size);
    if (out->avcc == NULL) {
        error_text_set(error, error_size, "out of memory (%zu bytes)", avcc_size);
        goto fail;
    }
    size_t offset = 0, written = 0;
    struct h264_nal nal;
    while (h264_next_nal(annexb, size, &offset, &nal) == 1) {
        if (!h264_nal_in_sample(nal.type))
            continue;
        assert(written + 4 + nal.size <= avcc_size);
        uint8_t *p = out->avcc + written;
        p[0] = (uint8_t)(nal.size >> 24);
        p[1] = (uint8_t)(nal.size >> 16);
        p[2] = (uint8_t)(nal.size >> 8);
        p[3] = (uint8_t)nal.size;
        memcpy(p + 4, nal.data, nal.size);
        written += 4 + nal.size;
    }
    assert(written == avcc_size);
    out->avcc_size = written;
    return 0;
fail:
    free(out->avcc);
    memset(out, 0, sizeof(*out));
    return -1;
}

/* Free the AVCC buffer of a converted access unit; safe on a zeroed one. */
void h264_access_unit_free(struct h264_access_unit *unit)
{
    if (unit == NULL)
        return;
    free(unit->avcc);
    memset(unit, 0, sizeof(*unit));
}
