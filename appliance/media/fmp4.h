/*
 * fmp4.h - fragmented MP4 (ISO/IEC 14496-12, with 14496-15 avcC and the
 * Opus-in-ISOBMFF "Opus"/"dOps" sample entry) for live view and recording:
 * an init segment (ftyp + moov with mvex), and media fragments (moof with
 * mfhd/traf/tfhd/tfdt/trun, then mdat) of one or more samples of one track.
 *
 * Track 1 is H.264 video (timescale 90 kHz), track 2 Opus audio (48 kHz).
 * The box writers and sample entries are also used by the progressive MP4
 * export (recording/export.c), so both describe a track the same way.
 * Pure writers into a capped byte buffer (common/byte_buffer.h) owned by
 * the caller; any thread.
 */
#ifndef DOORSTEP_FMP4_H
#define DOORSTEP_FMP4_H

#include <stddef.h>
#include <stdint.h>

#include "common/byte_buffer.h"
#include "media/h264.h"

#define FMP4_VIDEO_TRACK     1
#define FMP4_AUDIO_TRACK     2
#define FMP4_VIDEO_TIMESCALE 90000
#define FMP4_AUDIO_TIMESCALE 48000

struct fmp4_video_config {
    int width, height;
    const uint8_t *sps, *pps; /* NAL units with header byte, no start code */
    size_t sps_size, pps_size;
    /* From the parsed SPS (struct h264_sps_info), for avcC's high-profile
     * fields; 0 means the 4:2:0 8-bit default. */
    int chroma_format_idc;
    int bit_depth_luma, bit_depth_chroma;
};

/*
 * The video config of a stream whose SPS parsed into sps_info: picture size,
 * chroma format and bit depths from sps_info, parameter sets sps and pps
 * referenced (not copied: they must outlive the config). Every writer of a
 * video sample entry (live view, recording, playback, export) describes its
 * stream with this, so none drops a field the others keep.
 */
struct fmp4_video_config fmp4_video_config_describe(const struct h264_sps_info *sps_info,
                                                    const uint8_t *sps, size_t sps_size,
                                                    const uint8_t *pps, size_t pps_size);

/*
 * Parse the SPS of a doorbell's stream into *sps_info and describe the
 * stream as fmp4_video_config_describe() does into *video. 0, or -1 with a
 * reason when the SPS does not parse (*video is then untouched).
 */
int fmp4_video_config_from_sps(struct fmp4_video_config *video, struct h264_sps_info *sps_info,
                               const uint8_t *sps, size_t sps_size, const uint8_t *pps,
                               size_t pps_size, char *error, size_t error_size);

struct fmp4_audio_config {
    int channels;          /* 1 or 2 */
    int input_sample_rate; /* informational, dOps InputSampleRate */
    int pre_skip;          /* samples at 48 kHz, dOps PreSkip */
};

/* Write ftyp + moov for video and, if audio is not NULL, audio. 0 ok, -1
 * on a bad config or when out failed (too big for its cap, out of memory). */
int fmp4_write_init(struct byte_buffer *out, const struct fmp4_video_config *video,
                    const struct fmp4_audio_config *audio);

struct fmp4_sample {
    uint32_t duration; /* in the track's timescale */
    uint32_t size;     /* bytes in the payload */
    int keyframe;      /* sync sample (video IDR; every audio sample) */
};

/*
 * Append one fragment: moof (sequence number, track, base media decode time,
 * one trun entry per sample with size, duration and flags) followed by mdat
 * holding the samples' payloads back to back (payload_size = sum of sizes).
 * 0 ok, -1 on bad arguments or when out failed (too big, out of memory).
 */
int fmp4_write_fragment(struct byte_buffer *out, uint32_t sequence, uint32_t track_id,
                        uint64_t base_decode_time, const struct fmp4_sample *samples,
                        int sample_count, const uint8_t *payload, size_t payload_size);

/*
 * Box writers shared with recording/export.c. Each appends to out and is a
 * no-op once out has failed (it would pass its cap, or an allocation
 * failed): check byte_buffer_error(out) when done. Integers are written
 * big-endian.
 */
void fmp4_put(struct byte_buffer *out, const void *bytes, size_t count);
void fmp4_zeros(struct byte_buffer *out, size_t count);
void fmp4_u8(struct byte_buffer *out, uint32_t value);
void fmp4_u16(struct byte_buffer *out, uint32_t value);
void fmp4_u32(struct byte_buffer *out, uint32_t value);
void fmp4_u64(struct byte_buffer *out, uint64_t value);

/* Start a box (or a full box with version and flags); returns its offset,
 * which fmp4_box_end() needs to patch in its size. */
size_t fmp4_box(struct byte_buffer *out, const char type[4]);
size_t fmp4_full_box(struct byte_buffer *out, const char type[4], uint32_t version, uint32_t flags);
void fmp4_box_end(struct byte_buffer *out, size_t start);

/* mvhd with timescale 1000 (ms); duration 0 when the samples are in fragments. */
void fmp4_mvhd(struct byte_buffer *out, uint32_t duration_ms);
/* tkhd of an enabled track; duration in ms, volume 8.8 fixed point (0x0100
 * for sound, 0 for video), width and height in pixels (0 for sound). */
void fmp4_tkhd(struct byte_buffer *out, uint32_t track_id, uint32_t duration_ms, uint32_t volume,
               uint32_t width, uint32_t height);
/* mdhd: timescale and duration in it (version 1 when that needs 64 bits). */
void fmp4_mdhd(struct byte_buffer *out, uint32_t timescale, uint64_t duration);
/* hdlr: handler type ("vide", "soun") and a name. */
void fmp4_hdlr(struct byte_buffer *out, const char type[4], const char *name);
/* vmhd (video != 0) or smhd. */
void fmp4_media_header(struct byte_buffer *out, int video);
/* dinf with a self-contained data reference. */
void fmp4_dinf(struct byte_buffer *out);

/* One sample entry, the box a stsd lists: avc1 with avcC, or Opus with dOps.
 * -1 (nothing written) for a config fmp4_write_init() would refuse, else 0. */
int fmp4_write_video_entry(struct byte_buffer *out, const struct fmp4_video_config *video);
int fmp4_write_audio_entry(struct byte_buffer *out, const struct fmp4_audio_config *audio);

#endif
