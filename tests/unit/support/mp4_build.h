/*
 * mp4_build.h - test fixture of the MP4 scanner's unit tests
 * (test_mp4_scan.c, test_mp4_scan_stops.c): small fragmented MP4 files
 * built in a byte_buffer, either as media/fmp4.c writes them or box by box
 * from a struct mp4_build_spec (what ISO BMFF allows and we do not write),
 * and a scan of such a file from memory. A helper that cannot do its part
 * fails the current cmocka test.
 *
 * Single-threaded. Ownership: the caller owns every byte_buffer (free it
 * with byte_buffer_free) and every mp4_scan_result.
 */
#ifndef DOORSTEP_TEST_MP4_BUILD_H
#define DOORSTEP_TEST_MP4_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/byte_buffer.h"
#include "media/fmp4.h"
#include "recording/mp4_scan.h"

/* The parameter sets of a 64x48 x264 baseline stream (tests/fuzz/corpus/h264). */
extern const uint8_t mp4_build_sps[23];
extern const uint8_t mp4_build_pps[5];
/* Sample bytes for fmp4.c's fragments. */
extern const uint8_t mp4_build_payload[64];
/* The tracks of mp4_build_init(): 64x48 video with the SPS/PPS above, stereo Opus. */
extern const struct fmp4_video_config mp4_build_video;
extern const struct fmp4_audio_config mp4_build_audio;

/* A file in memory, read through mp4_build_memory_read(). */
struct mp4_build_memory {
    const uint8_t *data;
    size_t size;
    uint64_t fail_at; /* a read touching this offset fails with EIO (0: never) */
    int overdeliver;  /* claim one byte more than asked */
};

/* An mp4_scan_source read callback over a struct mp4_build_memory (context). */
ssize_t mp4_build_memory_read(void *context, uint64_t offset, void *buffer, size_t size);

/* Scan data[0, size) through the callback; returns mp4_scan's result. */
int mp4_build_scan(const uint8_t *data, size_t size, struct mp4_scan_result *result);

/* The big-endian 32-bit number at p. */
uint32_t mp4_build_be32(const uint8_t *p);

/* A buffer for a test file, large enough for every file built here. */
struct byte_buffer mp4_build_file_buffer(void);

/* Append bytes; a 32-bit or 64-bit big-endian number. */
void mp4_build_put(struct byte_buffer *out, const void *bytes, size_t size);
void mp4_build_put_u32(struct byte_buffer *out, uint32_t value);
void mp4_build_put_u64(struct byte_buffer *out, uint64_t value);

/* Overwrite one byte, or a 32-bit big-endian number, of a file built earlier. */
void mp4_build_set_byte(struct byte_buffer *out, size_t at, uint8_t value);
void mp4_build_patch_u32(struct byte_buffer *out, size_t at, uint32_t value);

/* Open a box (or a full box with version and flags) of a type; returns its
 * offset, for mp4_build_box_end() to write its size. */
size_t mp4_build_box(struct byte_buffer *out, const char *type);
size_t mp4_build_full_box(struct byte_buffer *out, const char *type, uint32_t version,
                          uint32_t flags);
void mp4_build_box_end(struct byte_buffer *out, size_t start);

/* A standard init: ftyp + moov with video and audio. */
void mp4_build_init(struct byte_buffer *out);

/* A fragment as fmp4.c writes it: count (at most 4) samples of 10 bytes. */
void mp4_build_fragment(struct byte_buffer *out, uint32_t sequence, uint32_t track, uint64_t time,
                        int count, int keyframe);

/* What a hand-built fragment holds. */
struct mp4_build_spec {
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
size_t mp4_build_moof(struct byte_buffer *out, const struct mp4_build_spec *spec);

/* A spec for n samples of track 1, every field in trun, like ours. */
struct mp4_build_spec mp4_build_plain_spec(uint32_t sequence, uint64_t time, int count);

/* The scan must stop at valid_length with fragments whole fragments and a
 * reason mentioning why. */
void mp4_build_expect_stop(const struct byte_buffer *file, uint64_t valid, size_t fragments,
                           const char *why);

/* The byte offset of the first box of a type at or after from (searched as
 * bytes); fails the test when there is none. */
size_t mp4_build_find_type_from(const struct byte_buffer *file, size_t from, const char *type);
size_t mp4_build_find_type(const struct byte_buffer *file, const char *type);

/* Start a file with init + one good video fragment (ends at *good). */
void mp4_build_good_start(struct byte_buffer *file, uint64_t *good);

#endif
