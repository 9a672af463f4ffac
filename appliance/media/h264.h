/*
 * h264.h - reading H.264 Annex B access units from doorbells: splitting NAL
 * units, parsing the SPS (profile, level, picture size with cropping), and
 * turning an access unit into the length-prefixed samples MP4 wants.
 *
 * This parses outside data (a doorbell may send anything), so it validates
 * everything and has a libFuzzer harness (tests/fuzz/fuzz_h264.c).
 * Pure functions; any thread. Output buffers belong to the caller.
 */
#ifndef DOORSTEP_H264_H
#define DOORSTEP_H264_H

#include <stddef.h>
#include <stdint.h>

#define H264_NAL_SLICE         1
#define H264_NAL_IDR           5
#define H264_NAL_SEI           6
#define H264_NAL_SPS           7
#define H264_NAL_PPS           8
#define H264_NAL_AUD           9
#define H264_MAX_PARAMETER_SET 256 /* bytes; SPS/PPS larger than this are refused */

/* One NAL unit inside a caller's buffer, without its start code. */
struct h264_nal {
    const uint8_t *data;
    size_t size;
    int type; /* nal_unit_type, 0..31 */
};

/*
 * Iterate over the NAL units of an Annex B buffer (3- or 4-byte start codes).
 * *offset starts at 0. Returns 1 with *nal filled, 0 at the end, -1 if the
 * buffer does not start with a start code or a NAL is empty/forbidden_zero_bit set.
 */
int h264_next_nal(const uint8_t *buffer, size_t size, size_t *offset, struct h264_nal *nal);

struct h264_sps_info {
    int profile_idc;      /* 66 baseline, 77 main, 100 high, ... */
    int constraint_flags; /* the byte after profile_idc */
    int level_idc;        /* 31 = 3.1 */
    int width, height;    /* displayed size, after frame cropping */
    int chroma_format_idc;
    int bit_depth_luma, bit_depth_chroma;
};

/* Parse an SPS NAL (with its header byte). 0 ok, -1 with a reason. */
int h264_parse_sps(const uint8_t *nal, size_t size, struct h264_sps_info *out, char *error,
                   size_t error_size);

/* RFC 6381 codecs string for the SPS: "avc1.PPCCLL" in upper-case hex. */
void h264_codecs_string(const struct h264_sps_info *sps, char out[16]);

/* An access unit ready for MP4: AVCC samples (4-byte big-endian lengths)
 * without SPS/PPS/AUD, plus where its parameter sets were, if any. */
struct h264_access_unit {
    uint8_t *avcc; /* malloc'd by h264_access_unit_convert, freed by _free */
    size_t avcc_size;
    int is_idr;
    int slice_count;
    const uint8_t *sps, *pps; /* point into the input buffer, NULL if absent */
    size_t sps_size, pps_size;
};

/*
 * Convert one Annex B access unit. Fails (-1 with reason) when it holds no
 * slice, a NAL is malformed, an IDR comes without SPS and PPS, or a parameter
 * set exceeds H264_MAX_PARAMETER_SET.
 */
int h264_access_unit_convert(const uint8_t *annexb, size_t size, struct h264_access_unit *out,
                             char *error, size_t error_size);

void h264_access_unit_free(struct h264_access_unit *unit);

#endif
