/*
 * mp4_scan.h - a strict, bounded reader of fragmented MP4 files: the
 * segments the recorder writes (media/fmp4.c via recording/segment_writer.c),
 * and anything else a disk may hold, safely.
 *
 * It walks the top-level boxes: ftyp, moov (tracks: id, handler, timescale,
 * sample entry with avcC SPS/PPS or dOps, trex defaults), then moof + mdat
 * pairs (sequence, track, base decode time, samples, first-sample sync flag,
 * data inside the mdat). It stops at the first box that is cut short or
 * inconsistent and says why; valid_length is where the file could be cut so
 * that everything before it is whole: the end of the last complete,
 * consistent moof + mdat pair (or of the moov when no fragment is).
 *
 * Used at start-up to repair the segment a crash cut short (scan, then
 * mp4_repair_truncate() to valid_length), to index a segment the database does
 * not know, by the export (recording/export.c, which asks for the samples of
 * each fragment with mp4_scan_read_samples()), and by tests. The file is never
 * read whole: boxes are read one at a time, and the ones parsed in memory
 * (ftyp, moov, moof) are bounded.
 *
 * Pure functions apart from the reads they make; any thread, one scan per
 * result at a time. The result's fragment array is malloc'd; free it with
 * mp4_scan_result_free().
 */
#ifndef DOORSTEP_MP4_SCAN_H
#define DOORSTEP_MP4_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "media/h264.h"

#define MP4_SCAN_MAX_TRACKS    4
#define MP4_SCAN_MAX_FTYP      4096      /* bytes; larger ftyp boxes are refused */
#define MP4_SCAN_MAX_MOOV      (1 << 20) /* bytes */
#define MP4_SCAN_MAX_MOOF      (1 << 20) /* bytes; ours are 88 + 12 per sample */
#define MP4_SCAN_MAX_FRAGMENTS (1 << 20) /* kept in the result; more are counted only */
#define MP4_SCAN_REASON_SIZE   160

/*
 * Where the bytes come from. read() fills buffer with up to size bytes at
 * offset and returns how many it read, fewer than size only at the end of
 * the data, or -1 on an I/O error (errno set). size is the total length.
 */
struct mp4_scan_source {
    ssize_t (*read)(void *context, uint64_t offset, void *buffer, size_t size);
    void *context;
    uint64_t size;
};

/* One track of the moov, and what the valid fragments hold of it. */
struct mp4_scan_track {
    uint32_t track_id;
    char handler[5];      /* hdlr handler_type: "vide", "soun", ... */
    char sample_entry[5]; /* first stsd entry: "avc1", "Opus", ... ("" if none) */
    uint32_t timescale;   /* mdhd */
    /* Video (avc1/avc3 with avcC): the first SPS and PPS, and the picture
     * size from the SPS when it parses (sps_parsed), else the entry's. */
    int width, height;
    int sps_parsed;
    struct h264_sps_info sps_info;
    uint8_t sps[H264_MAX_PARAMETER_SET], pps[H264_MAX_PARAMETER_SET];
    size_t sps_size, pps_size;
    /* Audio (Opus with dOps). */
    int channels, pre_skip;
    uint32_t input_sample_rate;
    /* trex defaults (8.8.3); has_trex = 0 if mvex lacks this track. */
    int has_trex;
    uint32_t default_duration, default_size, default_flags;
    /* Totals over the valid fragments of this track. */
    uint64_t fragments, samples, bytes;
    uint64_t first_decode_time; /* of the first sample, if samples > 0 */
    uint64_t end_decode_time;   /* last decode time + last duration */
};

/* One moof + mdat pair that passed every check. */
struct mp4_scan_fragment {
    uint64_t offset; /* of the moof in the file */
    uint32_t moof_size;
    uint64_t mdat_size; /* the whole mdat box, header included */
    uint32_t sequence;  /* mfhd */
    uint32_t track_id;
    uint64_t base_decode_time; /* tfdt, or the track's previous end without one */
    uint64_t duration;         /* sum of the sample durations */
    uint32_t sample_count;
    int keyframe;         /* the first sample is a sync sample */
    uint64_t data_offset; /* file offset of the first sample's bytes */
    uint64_t bytes;       /* sum of the sample sizes */
};

struct mp4_scan_result {
    char major_brand[5];  /* ftyp; "" if none */
    uint64_t init_length; /* end of the moov, 0 if no valid moov was found */
    int track_count;
    struct mp4_scan_track tracks[MP4_SCAN_MAX_TRACKS];
    struct mp4_scan_fragment *fragments; /* malloc'd, in file order */
    size_t fragment_count;
    uint64_t fragments_dropped; /* valid ones beyond MP4_SCAN_MAX_FRAGMENTS */
    /* Everything before valid_length is whole; 0 means there is no usable
     * init segment (nothing worth keeping). */
    uint64_t valid_length;
    uint64_t total_length;
    int complete;                      /* valid_length == total_length: nothing was wrong */
    int io_error;                      /* a read failed: the file may be fine, do NOT truncate */
    char reason[MP4_SCAN_REASON_SIZE]; /* why the scan stopped early, "" if complete */
};

/*
 * Scan what source provides. Returns 0 when the scan ran (complete or
 * stopped at a bad box, see result->complete and result->reason), -1 on a
 * read error (result->io_error set, errno kept) or out of memory (ENOMEM):
 * the result then holds what was read so far, but valid_length must not be
 * used to truncate. Always free the result with mp4_scan_result_free().
 */
int mp4_scan(const struct mp4_scan_source *source, struct mp4_scan_result *result);

/* Scan an open file with pread() in bounded chunks; the length comes from
 * fstat(). Returns as mp4_scan(). The descriptor stays the caller's. */
int mp4_scan_fd(int fd, struct mp4_scan_result *result);

/* A source of the first size bytes of the file open on *fd, read with
 * pread() in bounded chunks (what mp4_scan_fd() uses, with the whole
 * length). *fd must stay open while the source is in use. */
struct mp4_scan_source mp4_scan_fd_source(int *fd, uint64_t size);

/* pread() size bytes at offset, in chunks of at most 1 MiB, retrying on
 * EINTR. Returns the bytes read (fewer than size only at the end of the
 * file), or -1 with errno. */
ssize_t mp4_scan_pread(int fd, uint64_t offset, void *buffer, size_t size);

/* One sample of a fragment. */
struct mp4_scan_sample {
    uint64_t decode_time; /* in the track's timescale */
    uint64_t offset;      /* of its bytes in the file */
    uint32_t size, duration;
    int keyframe; /* a sync sample */
};

/*
 * The samples of result->fragments[fragment_index], in decode order, from
 * its moof read again (bounded, MP4_SCAN_MAX_MOOF) from source, the one the
 * result was scanned from, and parsed by the same code as the scan. The
 * result is not changed. Returns 0 with *count_out samples in out; or -1
 * with errno: ERANGE if capacity is less than the fragment's sample count
 * (*count_out then says how many), EINVAL for bad arguments or a moof that
 * no longer says what the scan found (the file changed), or the read's
 * error (EIO, ...).
 */
int mp4_scan_read_samples(const struct mp4_scan_source *source,
                          const struct mp4_scan_result *result, size_t fragment_index,
                          struct mp4_scan_sample *out, size_t capacity, size_t *count_out);

/* The track with this id in the result, or NULL. */
const struct mp4_scan_track *mp4_scan_find_track(const struct mp4_scan_result *result,
                                                 uint32_t track_id);

/* Free the result's fragment array and zero it. NULL is a no-op. */
void mp4_scan_result_free(struct mp4_scan_result *result);

#endif
