/*
 * fmp4.h - fragmented MP4 (ISO/IEC 14496-12, with 14496-15 avcC and the
 * Opus-in-ISOBMFF "Opus"/"dOps" sample entry) for live view and recording:
 * an init segment (ftyp + moov with mvex), and media fragments (moof with
 * mfhd/traf/tfhd/tfdt/trun, then mdat) of one or more samples of one track.
 *
 * Track 1 is H.264 video (timescale 90 kHz), track 2 Opus audio (48 kHz).
 * Pure writers into a growable buffer owned by the caller; any thread.
 */
#ifndef DOORSTEP_FMP4_H
#define DOORSTEP_FMP4_H

#include <stddef.h>
#include <stdint.h>

#define FMP4_VIDEO_TRACK     1
#define FMP4_AUDIO_TRACK     2
#define FMP4_VIDEO_TIMESCALE 90000
#define FMP4_AUDIO_TIMESCALE 48000

/* A growable byte buffer; free with fmp4_buffer_free. */
struct fmp4_buffer {
    uint8_t *data;
    size_t size, capacity;
    int failed; /* set when an allocation failed; every later write is a no-op */
};

void fmp4_buffer_reset(struct fmp4_buffer *buffer); /* size = 0, failed = 0, keeps memory */
void fmp4_buffer_free(struct fmp4_buffer *buffer);

struct fmp4_video_config {
    int width, height;
    const uint8_t *sps, *pps; /* NAL units with header byte, no start code */
    size_t sps_size, pps_size;
    /* From the parsed SPS (struct h264_sps_info), for avcC's high-profile
     * fields; 0 means the 4:2:0 8-bit default. */
    int chroma_format_idc;
    int bit_depth_luma, bit_depth_chroma;
};

struct fmp4_audio_config {
    int channels;          /* 1 or 2 */
    int input_sample_rate; /* informational, dOps InputSampleRate */
    int pre_skip;          /* samples at 48 kHz, dOps PreSkip */
};

/* Write ftyp + moov for video and, if audio is not NULL, audio. 0 ok, -1 error. */
int fmp4_write_init(struct fmp4_buffer *out, const struct fmp4_video_config *video,
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
 * 0 ok, -1 on bad arguments or out of memory.
 */
int fmp4_write_fragment(struct fmp4_buffer *out, uint32_t sequence, uint32_t track_id,
                        uint64_t base_decode_time, const struct fmp4_sample *samples,
                        int sample_count, const uint8_t *payload, size_t payload_size);

#endif
