/*
 * fmp4.c - fragmented MP4 writer for live view and recording: the init
 * segment (ftyp + moov with mvex) and media fragments (moof + mdat), as
 * ISO/IEC 14496-12 (ISO BMFF) boxes with the 14496-15 avcC record for H.264
 * and the "Opus"/"dOps" sample entry of "Encapsulation of Opus in ISO Base
 * Media File Format" (opus-codec.org, version 0.8.1) for audio.
 *
 * Section numbers in comments refer to ISO/IEC 14496-12:2015 unless noted.
 * All integers are big-endian. Boxes are written with a placeholder size
 * that is patched once the box is complete.
 *
 * Threads: pure writers; any thread, one thread per buffer at a time.
 * Ownership: the output struct byte_buffer belongs to the caller (free with
 * byte_buffer_free); nothing else is allocated or kept.
 */
#include "media/fmp4.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FMP4_MAX_SAMPLES (1 << 20) /* per fragment; keeps moof far below 2^31 */
#define FMP4_MAX_PAYLOAD (UINT32_MAX - 8u)

/* 8.8.3.1 / 8.8.8.1 sample_flags: is_leading(2) depends_on(2)
 * is_depended_on(2) has_redundancy(2) padding(3) non_sync(1) priority(16). */
#define FMP4_FLAGS_SYNC     0x02000000u /* depends_on = 2 (intra), sync */
#define FMP4_FLAGS_NON_SYNC 0x01010000u /* depends_on = 1, is_non_sync_sample */

/* tr_flags of trun (8.8.8.1) and tf_flags of tfhd (8.8.7.1). */
#define FMP4_TRUN_DATA_OFFSET          0x000001u
#define FMP4_TRUN_SAMPLE_DURATION      0x000100u
#define FMP4_TRUN_SAMPLE_SIZE          0x000200u
#define FMP4_TRUN_SAMPLE_FLAGS         0x000400u
#define FMP4_TFHD_DEFAULT_BASE_IS_MOOF 0x020000u

/* Append bytes (no-op once failed). */
void fmp4_put(struct byte_buffer *buffer, const void *bytes, size_t count)
{
    byte_buffer_add(buffer, bytes, count);
}

/* Append count zero bytes (no-op once failed). */
void fmp4_zeros(struct byte_buffer *buffer, size_t count)
{
    byte_buffer_add_zeros(buffer, count);
}

void fmp4_u8(struct byte_buffer *buffer, uint32_t value)
{
    uint8_t byte = (uint8_t)value;
    fmp4_put(buffer, &byte, 1);
}

void fmp4_u16(struct byte_buffer *buffer, uint32_t value)
{
    uint8_t bytes[2] = {(uint8_t)(value >> 8), (uint8_t)value};
    fmp4_put(buffer, bytes, sizeof(bytes));
}

void fmp4_u32(struct byte_buffer *buffer, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    fmp4_put(buffer, bytes, sizeof(bytes));
}

void fmp4_u64(struct byte_buffer *buffer, uint64_t value)
{
    fmp4_u32(buffer, (uint32_t)(value >> 32));
    fmp4_u32(buffer, (uint32_t)value);
}

/* Overwrite a 32-bit field written earlier at offset (no-op once failed). */
static void fmp4_patch_u32(struct byte_buffer *buffer, size_t offset, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
                        (uint8_t)value};
    enum byte_buffer_status status = byte_buffer_patch(buffer, offset, bytes, sizeof(bytes));
    assert(status == BYTE_BUFFER_OK || byte_buffer_error(buffer) != BYTE_BUFFER_OK);
    (void)status;
}

/* Start a Box (4.2): size placeholder and type. Returns its offset. */
size_t fmp4_box(struct byte_buffer *buffer, const char type[4])
{
    size_t start = byte_buffer_length(buffer);
    fmp4_u32(buffer, 0);
    fmp4_put(buffer, type, 4);
    return start;
}

/* Start a FullBox (4.2): Box plus version(8) and flags(24). */
size_t fmp4_full_box(struct byte_buffer *buffer, const char type[4], uint32_t version,
                     uint32_t flags)
{
    size_t start = fmp4_box(buffer, type);
    fmp4_u32(buffer, (version << 24) | (flags & 0xFFFFFFu));
    return start;
}

/* Finish the box started at start: patch its size. */
void fmp4_box_end(struct byte_buffer *buffer, size_t start)
{
    size_t size = byte_buffer_length(buffer);
    if (byte_buffer_error(buffer) != BYTE_BUFFER_OK)
        return;
    assert(start + 8 <= size && size - start <= UINT32_MAX);
    fmp4_patch_u32(buffer, start, (uint32_t)(size - start));
}

/* The unity transformation matrix of mvhd/tkhd (8.2.2.3). */
static void fmp4_matrix(struct byte_buffer *buffer)
{
    static const uint32_t matrix[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; i++)
        fmp4_u32(buffer, matrix[i]);
}

/* ftyp (4.3): brands every reader of fragmented ISO BMFF knows; iso6
 * covers tfdt and default-base-is-moof, and includes iso2 (Opus 4.1). */
static void fmp4_ftyp(struct byte_buffer *buffer)
{
    size_t box = fmp4_box(buffer, "ftyp");
    fmp4_put(buffer, "isom", 4); /* major_brand */
    fmp4_u32(buffer, 0x200);     /* minor_version */
    fmp4_put(buffer, "isomiso6mp41", 12);
    fmp4_box_end(buffer, box);
}

/* mvhd (8.2.2) version 0, timescale 1000; duration 0 when it is all in
 * fragments. */
void fmp4_mvhd(struct byte_buffer *buffer, uint32_t duration_ms)
{
    size_t box = fmp4_full_box(buffer, "mvhd", 0, 0);
    fmp4_u32(buffer, 0);           /* creation_time */
    fmp4_u32(buffer, 0);           /* modification_time */
    fmp4_u32(buffer, 1000);        /* timescale */
    fmp4_u32(buffer, duration_ms); /* duration */
    fmp4_u32(buffer, 0x00010000);  /* rate 1.0 */
    fmp4_u16(buffer, 0x0100);      /* volume 1.0 */
    fmp4_zeros(buffer, 2 + 8);     /* reserved */
    fmp4_matrix(buffer);
    fmp4_zeros(buffer, 24); /* pre_defined */
    fmp4_u32(buffer, 3);    /* next_track_ID */
    fmp4_box_end(buffer, box);
}

/* tkhd (8.3.2) version 0, flags track_enabled | track_in_movie. */
void fmp4_tkhd(struct byte_buffer *buffer, uint32_t track_id, uint32_t duration_ms, uint32_t volume,
               uint32_t width, uint32_t height)
{
    size_t box = fmp4_full_box(buffer, "tkhd", 0, 3);
    fmp4_u32(buffer, 0);           /* creation_time */
    fmp4_u32(buffer, 0);           /* modification_time */
    fmp4_u32(buffer, track_id);    /* track_ID */
    fmp4_u32(buffer, 0);           /* reserved */
    fmp4_u32(buffer, duration_ms); /* duration, movie timescale */
    fmp4_zeros(buffer, 8);         /* reserved */
    fmp4_u16(buffer, 0);           /* layer */
    fmp4_u16(buffer, 0);           /* alternate_group */
    fmp4_u16(buffer, volume);      /* 8.8 fixed point */
    fmp4_u16(buffer, 0);           /* reserved */
    fmp4_matrix(buffer);
    fmp4_u32(buffer, width << 16); /* 16.16 fixed point */
    fmp4_u32(buffer, height << 16);
    fmp4_box_end(buffer, box);
}

/* mdhd (8.4.2), language "und" (ISO 639-2/T, 5 bits per letter); version 1
 * only for a duration that needs 64 bits. */
void fmp4_mdhd(struct byte_buffer *buffer, uint32_t timescale, uint64_t duration)
{
    uint32_t version = duration > UINT32_MAX ? 1 : 0;
    size_t box = fmp4_full_box(buffer, "mdhd", version, 0);
    if (version == 1) {
        fmp4_u64(buffer, 0); /* creation_time */
        fmp4_u64(buffer, 0); /* modification_time */
        fmp4_u32(buffer, timescale);
        fmp4_u64(buffer, duration);
    } else {
        fmp4_u32(buffer, 0); /* creation_time */
        fmp4_u32(buffer, 0); /* modification_time */
        fmp4_u32(buffer, timescale);
        fmp4_u32(buffer, (uint32_t)duration);
    }
    fmp4_u16(buffer, (('u' - 0x60) << 10) | (('n' - 0x60) << 5) | ('d' - 0x60));
    fmp4_u16(buffer, 0); /* pre_defined */
    fmp4_box_end(buffer, box);
}

/* hdlr (8.4.3): handler type and a null-terminated name. */
void fmp4_hdlr(struct byte_buffer *buffer, const char type[4], const char *name)
{
    size_t box = fmp4_full_box(buffer, "hdlr", 0, 0);
    fmp4_u32(buffer, 0); /* pre_defined */
    fmp4_put(buffer, type, 4);
    fmp4_zeros(buffer, 12); /* reserved */
    fmp4_put(buffer, name, strlen(name) + 1);
    fmp4_box_end(buffer, box);
}

/* vmhd (12.1.2) for video, smhd (12.2.2) for sound. */
void fmp4_media_header(struct byte_buffer *buffer, int video)
{
    if (video) {
        size_t vmhd = fmp4_full_box(buffer, "vmhd", 0, 1);
        fmp4_zeros(buffer, 8); /* graphicsmode, opcolor */
        fmp4_box_end(buffer, vmhd);
    } else {
        size_t smhd = fmp4_full_box(buffer, "smhd", 0, 0);
        fmp4_zeros(buffer, 4); /* balance, reserved */
        fmp4_box_end(buffer, smhd);
    }
}

/* dinf/dref (8.7.1, 8.7.2) with one "url " entry flagged self-contained. */
void fmp4_dinf(struct byte_buffer *buffer)
{
    size_t dinf = fmp4_box(buffer, "dinf");
    size_t dref = fmp4_full_box(buffer, "dref", 0, 0);
    fmp4_u32(buffer, 1); /* entry_count */
    size_t url = fmp4_full_box(buffer, "url ", 0, 1);
    fmp4_box_end(buffer, url);
    fmp4_box_end(buffer, dref);
    fmp4_box_end(buffer, dinf);
}

/* The empty sample tables a fragmented file carries (8.6.1.2, 8.7.4,
 * 8.7.3.2, 8.7.5): every sample lives in the fragments. */
static void fmp4_empty_tables(struct byte_buffer *buffer)
{
    static const char *const counted[] = {"stts", "stsc", "stco"};
    for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
        size_t box = fmp4_full_box(buffer, counted[i], 0, 0);
        fmp4_u32(buffer, 0); /* entry_count */
        fmp4_box_end(buffer, box);
    }
    size_t stsz = fmp4_full_box(buffer, "stsz", 0, 0);
    fmp4_u32(buffer, 0); /* sample_size */
    fmp4_u32(buffer, 0); /* sample_count */
    fmp4_box_end(buffer, stsz);
}

/* avcC: AVCDecoderConfigurationRecord (14496-15 5.3.3.1). */
static void fmp4_avcc(struct byte_buffer *buffer, const struct fmp4_video_config *video)
{
    const uint8_t *sps = video->sps;
    size_t box = fmp4_box(buffer, "avcC");
    fmp4_u8(buffer, 1);        /* configurationVersion */
    fmp4_u8(buffer, sps[1]);   /* AVCProfileIndication */
    fmp4_u8(buffer, sps[2]);   /* profile_compatibility */
    fmp4_u8(buffer, sps[3]);   /* AVCLevelIndication */
    fmp4_u8(buffer, 0xFC | 3); /* reserved '111111', lengthSizeMinusOne 3 */
    fmp4_u8(buffer, 0xE0 | 1); /* reserved '111', numOfSequenceParameterSets */
    fmp4_u16(buffer, (uint32_t)video->sps_size);
    fmp4_put(buffer, video->sps, video->sps_size);
    fmp4_u8(buffer, 1); /* numOfPictureParameterSets */
    fmp4_u16(buffer, (uint32_t)video->pps_size);
    fmp4_put(buffer, video->pps, video->pps_size);
    if (sps[1] == 100 || sps[1] == 110 || sps[1] == 122 || sps[1] == 144 || sps[1] == 244) {
        int chroma = video->chroma_format_idc > 0 ? video->chroma_format_idc : 1;
        int luma = video->bit_depth_luma > 0 ? video->bit_depth_luma : 8;
        int depth_chroma = video->bit_depth_chroma > 0 ? video->bit_depth_chroma : 8;
        fmp4_u8(buffer, 0xFC | (uint32_t)chroma);
        fmp4_u8(buffer, 0xF8 | (uint32_t)(luma - 8));
        fmp4_u8(buffer, 0xF8 | (uint32_t)(depth_chroma - 8));
        fmp4_u8(buffer, 0); /* numOfSequenceParameterSetExt */
    }
    fmp4_box_end(buffer, box);
}

/* Whether a video config can be written: sizes that fit their fields, and
 * parameter sets that are what they claim to be. */
static bool fmp4_video_config_valid(const struct fmp4_video_config *video)
{
    if (video == NULL || video->sps == NULL || video->pps == NULL)
        return false;
    if (video->width <= 0 || video->width > 0xFFFF || video->height <= 0 || video->height > 0xFFFF)
        return false;
    if (video->sps_size < 4 || video->sps_size > 0xFFFF || video->pps_size < 1 ||
        video->pps_size > 0xFFFF)
        return false;
    if ((video->sps[0] & 0x1F) != 7 || (video->pps[0] & 0x1F) != 8)
        return false;
    if (video->chroma_format_idc < 0 || video->chroma_format_idc > 3 || video->bit_depth_luma < 0 ||
        video->bit_depth_luma > 14 || (video->bit_depth_luma > 0 && video->bit_depth_luma < 8) ||
        video->bit_depth_chroma < 0 || video->bit_depth_chroma > 14 ||
        (video->bit_depth_chroma > 0 && video->bit_depth_chroma < 8))
        return false;
    return true;
}

/* See fmp4.h. */
struct fmp4_video_config fmp4_video_config_describe(const struct h264_sps_info *sps_info,
                                                    const uint8_t *sps, size_t sps_size,
                                                    const uint8_t *pps, size_t pps_size)
{
    return (struct fmp4_video_config){.width = sps_info->width,
                                      .height = sps_info->height,
                                      .sps = sps,
                                      .sps_size = sps_size,
                                      .pps = pps,
                                      .pps_size = pps_size,
                                      .chroma_format_idc = sps_info->chroma_format_idc,
                                      .bit_depth_luma = sps_info->bit_depth_luma,
                                      .bit_depth_chroma = sps_info->bit_depth_chroma};
}

/* See fmp4.h. */
int fmp4_video_config_from_sps(struct fmp4_video_config *video, struct h264_sps_info *sps_info,
                               const uint8_t *sps, size_t sps_size, const uint8_t *pps,
                               size_t pps_size, char *error, size_t error_size)
{
    if (h264_parse_sps(sps, sps_size, sps_info, error, error_size) != 0)
        return -1;
    *video = fmp4_video_config_describe(sps_info, sps, sps_size, pps, pps_size);
    return 0;
}

/* Whether an audio config fits the dOps fields (mapping family 0). */
static bool fmp4_audio_config_valid(const struct fmp4_audio_config *audio)
{
    return audio != NULL && audio->channels >= 1 && audio->channels <= 2 && audio->pre_skip >= 0 &&
           audio->pre_skip <= 0xFFFF && audio->input_sample_rate >= 0;
}

/* One avc1 VisualSampleEntry with its avcC (8.5.2, 14496-15 5.4.2.1). */
int fmp4_write_video_entry(struct byte_buffer *out, const struct fmp4_video_config *video)
{
    if (out == NULL || !fmp4_video_config_valid(video))
        return -1;
    size_t avc1 = fmp4_box(out, "avc1");
    fmp4_zeros(out, 6);  /* SampleEntry reserved */
    fmp4_u16(out, 1);    /* data_reference_index */
    fmp4_zeros(out, 16); /* pre_defined, reserved, pre_defined[3] */
    fmp4_u16(out, (uint32_t)video->width);
    fmp4_u16(out, (uint32_t)video->height);
    fmp4_u32(out, 0x00480000); /* horizresolution 72 dpi */
    fmp4_u32(out, 0x00480000); /* vertresolution 72 dpi */
    fmp4_u32(out, 0);          /* reserved */
    fmp4_u16(out, 1);          /* frame_count */
    fmp4_zeros(out, 32);       /* compressorname: empty Pascal string */
    fmp4_u16(out, 0x0018);     /* depth */
    fmp4_u16(out, 0xFFFF);     /* pre_defined = -1 */
    fmp4_avcc(out, video);
    fmp4_box_end(out, avc1);
    return 0;
}

/* One "Opus" AudioSampleEntry and its dOps (Opus in ISOBMFF 4.3.1, 4.3.2):
 * version 0, mapping family 0 (mono/stereo), gain 0. */
int fmp4_write_audio_entry(struct byte_buffer *out, const struct fmp4_audio_config *audio)
{
    if (out == NULL || !fmp4_audio_config_valid(audio))
        return -1;
    size_t opus = fmp4_box(out, "Opus");
    fmp4_zeros(out, 6); /* SampleEntry reserved */
    fmp4_u16(out, 1);   /* data_reference_index */
    fmp4_zeros(out, 8); /* reserved */
    fmp4_u16(out, (uint32_t)audio->channels);
    fmp4_u16(out, 16); /* samplesize */
    fmp4_u16(out, 0);  /* pre_defined */
    fmp4_u16(out, 0);  /* reserved */
    fmp4_u32(out, (uint32_t)FMP4_AUDIO_TIMESCALE << 16);
    size_t dops = fmp4_box(out, "dOps");
    fmp4_u8(out, 0); /* Version */
    fmp4_u8(out, (uint32_t)audio->channels);
    fmp4_u16(out, (uint32_t)audio->pre_skip);
    fmp4_u32(out, (uint32_t)audio->input_sample_rate);
    fmp4_u16(out, 0); /* OutputGain */
    fmp4_u8(out, 0);  /* ChannelMappingFamily */
    fmp4_box_end(out, dops);
    fmp4_box_end(out, opus);
    return 0;
}

/* One trak (8.3.1) for the video or (video == NULL) the audio track; the
 * configs were validated by the caller. */
static void fmp4_trak(struct byte_buffer *buffer, const struct fmp4_video_config *video,
                      const struct fmp4_audio_config *audio)
{
    assert((video == NULL) != (audio == NULL)); /* exactly one track per trak */
    size_t trak = fmp4_box(buffer, "trak");
    if (video != NULL)
        fmp4_tkhd(buffer, FMP4_VIDEO_TRACK, 0, 0, (uint32_t)video->width, (uint32_t)video->height);
    else
        fmp4_tkhd(buffer, FMP4_AUDIO_TRACK, 0, 0x0100, 0, 0);
    size_t mdia = fmp4_box(buffer, "mdia");
    fmp4_mdhd(buffer, video != NULL ? FMP4_VIDEO_TIMESCALE : FMP4_AUDIO_TIMESCALE, 0);
    if (video != NULL)
        fmp4_hdlr(buffer, "vide", "VideoHandler");
    else
        fmp4_hdlr(buffer, "soun", "SoundHandler");
    size_t minf = fmp4_box(buffer, "minf");
    fmp4_media_header(buffer, video != NULL);
    fmp4_dinf(buffer);
    size_t stbl = fmp4_box(buffer, "stbl");
    size_t stsd = fmp4_full_box(buffer, "stsd", 0, 0); /* 8.5.2 */
    fmp4_u32(buffer, 1);                               /* entry_count */
    if (video != NULL)
        fmp4_write_video_entry(buffer, video);
    else
        fmp4_write_audio_entry(buffer, audio);
    fmp4_box_end(buffer, stsd);
    fmp4_empty_tables(buffer);
    fmp4_box_end(buffer, stbl);
    fmp4_box_end(buffer, minf);
    fmp4_box_end(buffer, mdia);
    fmp4_box_end(buffer, trak);
}

/* trex (8.8.3): sample description 1, no other defaults. */
static void fmp4_trex(struct byte_buffer *buffer, uint32_t track_id)
{
    size_t box = fmp4_full_box(buffer, "trex", 0, 0);
    fmp4_u32(buffer, track_id);
    fmp4_u32(buffer, 1); /* default_sample_description_index */
    fmp4_u32(buffer, 0); /* default_sample_duration */
    fmp4_u32(buffer, 0); /* default_sample_size */
    fmp4_u32(buffer, 0); /* default_sample_flags */
    fmp4_box_end(buffer, box);
}

/* Append the init segment: ftyp, then moov (8.2.1) with mvhd, one trak per
 * track and mvex (8.8.1) with a trex per track. 0 ok, -1 on bad
 * configs (nothing written) or when the buffer failed (too big, out of memory). */
int fmp4_write_init(struct byte_buffer *out, const struct fmp4_video_config *video,
                    const struct fmp4_audio_config *audio)
{
    if (out == NULL || byte_buffer_error(out) != BYTE_BUFFER_OK ||
        !fmp4_video_config_valid(video) || (audio != NULL && !fmp4_audio_config_valid(audio)))
        return -1;
    fmp4_ftyp(out);
    size_t moov = fmp4_box(out, "moov");
    fmp4_mvhd(out, 0);
    fmp4_trak(out, video, NULL);
    if (audio != NULL)
        fmp4_trak(out, NULL, audio);
    size_t mvex = fmp4_box(out, "mvex");
    fmp4_trex(out, FMP4_VIDEO_TRACK);
    if (audio != NULL)
        fmp4_trex(out, FMP4_AUDIO_TRACK);
    fmp4_box_end(out, mvex);
    fmp4_box_end(out, moov);
    return byte_buffer_error(out) != BYTE_BUFFER_OK ? -1 : 0;
}

/* Whether the samples describe the payload exactly. */
static bool fmp4_samples_valid(uint32_t track_id, const struct fmp4_sample *samples,
                               int sample_count, const uint8_t *payload, size_t payload_size)
{
    if (track_id != FMP4_VIDEO_TRACK && track_id != FMP4_AUDIO_TRACK)
        return false;
    if (samples == NULL || sample_count < 1 || sample_count > FMP4_MAX_SAMPLES)
        return false;
    if (payload_size > FMP4_MAX_PAYLOAD || (payload == NULL && payload_size > 0))
        return false;
    uint64_t total = 0;
    for (int i = 0; i < sample_count; i++)
        total += samples[i].size;
    return total == payload_size;
}

/* Append a fragment: moof (8.8.4) with mfhd (8.8.5) and one traf (8.8.6)
 * holding tfhd (8.8.7), tfdt (8.8.12) and trun (8.8.8), then mdat (8.1.1).
 * data_offset is relative to the moof start (default-base-is-moof) and
 * points at the first payload byte. 0 ok, -1 on bad arguments (nothing
 * written) or when the buffer failed (too big, out of memory). */
int fmp4_write_fragment(struct byte_buffer *out, uint32_t sequence, uint32_t track_id,
                        uint64_t base_decode_time, const struct fmp4_sample *samples,
                        int sample_count, const uint8_t *payload, size_t payload_size)
{
    if (out == NULL || byte_buffer_error(out) != BYTE_BUFFER_OK ||
        !fmp4_samples_valid(track_id, samples, sample_count, payload, payload_size))
        return -1;
    /* Reserve the whole fragment once: moof is 88 bytes plus 12 per sample, mdat header 8. */
    if (byte_buffer_reserve(out, 96 + 12 * (size_t)sample_count + payload_size) != BYTE_BUFFER_OK)
        return -1;
    size_t moof = fmp4_box(out, "moof");
    size_t mfhd = fmp4_full_box(out, "mfhd", 0, 0);
    fmp4_u32(out, sequence);
    fmp4_box_end(out, mfhd);
    size_t traf = fmp4_box(out, "traf");
    size_t tfhd = fmp4_full_box(out, "tfhd", 0, FMP4_TFHD_DEFAULT_BASE_IS_MOOF);
    fmp4_u32(out, track_id);
    fmp4_box_end(out, tfhd);
    size_t tfdt = fmp4_full_box(out, "tfdt", 1, 0);
    fmp4_u64(out, base_decode_time);
    fmp4_box_end(out, tfdt);
    size_t trun = fmp4_full_box(out, "trun", 0,
                                FMP4_TRUN_DATA_OFFSET | FMP4_TRUN_SAMPLE_DURATION |
                                    FMP4_TRUN_SAMPLE_SIZE | FMP4_TRUN_SAMPLE_FLAGS);
    fmp4_u32(out, (uint32_t)sample_count);
    size_t data_offset = byte_buffer_length(out);
    fmp4_u32(out, 0); /* data_offset, patched below */
    for (int i = 0; i < sample_count; i++) {
        bool sync = track_id == FMP4_AUDIO_TRACK || samples[i].keyframe;
        fmp4_u32(out, samples[i].duration);
        fmp4_u32(out, samples[i].size);
        fmp4_u32(out, sync ? FMP4_FLAGS_SYNC : FMP4_FLAGS_NON_SYNC);
    }
    fmp4_box_end(out, trun);
    fmp4_box_end(out, traf);
    fmp4_box_end(out, moof);
    if (byte_buffer_error(out) != BYTE_BUFFER_OK)
        return -1;
    size_t moof_size = byte_buffer_length(out) - moof;
    assert(moof_size == 88 + 12 * (size_t)sample_count);
    fmp4_patch_u32(out, data_offset, (uint32_t)(moof_size + 8));
    fmp4_u32(out, (uint32_t)(payload_size + 8));
    fmp4_put(out, "mdat", 4);
    fmp4_put(out, payload, payload_size);
    return byte_buffer_error(out) != BYTE_BUFFER_OK ? -1 : 0;
}
