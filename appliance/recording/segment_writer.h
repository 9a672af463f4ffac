/*
 * segment_writer.h - writing one recorded segment: a fragmented MP4 file
 * (media/fmp4.c: init segment, then moof + mdat fragments) that is valid up
 * to its last complete fragment at every moment, so that a crash costs at
 * most what was not yet synced, and a full disk costs only the fragment
 * that did not fit.
 *
 * Crash-safety contract (the recorder builds on it; see also mp4_scan.h):
 *   - create: the file is made with O_CREAT | O_EXCL | O_NOFOLLOW (never
 *     reused, never through a symlink), mode 0640, missing parent
 *     directories 0750; the init segment is written, then the file and its
 *     directory (and each directory created) are fsync'ed before create
 *     returns: a segment that create returned survives a crash, with at
 *     least its init segment. The caller indexes it only after that.
 *   - append: one fragment, written with pwrite() at the end of the last
 *     complete fragment (short writes and EINTR are retried). If a write
 *     fails (ENOSPC, EIO, ...), the file is truncated back to that end and
 *     the writer is failed: every later append returns -1 with the first
 *     error; the caller closes it and starts a new segment when it can. The
 *     file stays a valid MP4 in every case.
 *   - sync: fdatasync(). An error is final for this segment: the kernel may
 *     already have dropped the dirty pages and marked them clean, so a
 *     second fsync would "succeed" without the data being on disk (the
 *     PostgreSQL "fsyncgate" lesson, 2018). The writer never retries: it
 *     becomes failed, and only what the last successful sync covered
 *     (summary.durable_bytes) may be trusted; the rest is for start-up
 *     recovery (mp4_scan) to judge.
 *   - close: a final fdatasync (unless a sync already failed), close(),
 *     and the summary of what the file holds.
 *   - after a crash, everything up to the last fdatasync is on disk; the
 *     tail may be cut anywhere (or be zeros): mp4_scan() finds the end of
 *     the last whole fragment and mp4_repair_truncate() cuts there.
 *
 * Paths come from the recorder (built from ids it made), never from user
 * input. Threads: a writer belongs to one thread at a time (the recorder's);
 * no locks inside. Ownership: the writer owns its descriptor and buffers
 * until segment_writer_close(), which frees it; the summary's keyframe
 * array then belongs to the caller (segment_summary_free()).
 */
#ifndef DOORSTEP_SEGMENT_WRITER_H
#define DOORSTEP_SEGMENT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "media/fmp4.h"

/* The largest fragment (moof and mdat) a writer serialises. */
#define SEGMENT_WRITER_FRAGMENT_MAX (80u * 1024u * 1024u)
#include "recording/segment_index.h"

struct segment_writer;

/* What one track of the segment holds. Times are in the track's timescale
 * (FMP4_VIDEO_TIMESCALE / FMP4_AUDIO_TIMESCALE); valid when samples > 0. */
struct segment_track_summary {
    uint64_t samples; /* video frames or audio packets */
    uint64_t fragments;
    uint64_t first_decode_time; /* of the first sample */
    uint64_t last_decode_time;  /* of the last sample */
    uint64_t end_decode_time;   /* last_decode_time + the last sample's duration */
};

struct segment_summary {
    uint64_t bytes;         /* file length: init segment + every complete fragment */
    uint64_t init_size;     /* bytes of the init segment (ftyp + moov) */
    uint64_t durable_bytes; /* bytes the last successful fsync/fdatasync covered */
    struct segment_track_summary video, audio;
    /* One entry per video fragment that starts with a keyframe: its decode
     * time and the offset of its moof. Owned by the summary. */
    struct segment_index_entry *keyframes;
    size_t keyframe_count;
    int ok;    /* 1: no write, sync or close failed */
    int error; /* errno of the first failure, 0 if ok */
};

/*
 * Create the segment file at path (see the contract above) with the init
 * segment for video and, if audio is not NULL, an audio track. The configs
 * are only read during the call. Returns the writer, or NULL with errno and
 * a reason in error (EEXIST if the file exists, EINVAL for bad configs);
 * a file this call created is removed again on failure.
 */
struct segment_writer *segment_writer_create(const char *path,
                                             const struct fmp4_video_config *video,
                                             const struct fmp4_audio_config *audio, char *error,
                                             size_t error_size);

/*
 * Append one fragment of count samples of a track (FMP4_VIDEO_TRACK, or
 * FMP4_AUDIO_TRACK if the segment has audio) starting at base_decode_time,
 * with the samples' payloads back to back (payload_size = sum of sizes).
 * A video fragment whose first sample is a keyframe adds a keyframe entry;
 * the first video fragment must start with one. Decode times may not go
 * back: base_decode_time >= the track's end so far (gaps are fine).
 *
 * Returns 0, or -1 with errno: EINVAL (bad arguments, time going back),
 * EFBIG (the fragment would pass SEGMENT_WRITER_FRAGMENT_MAX) or ENOMEM,
 * and nothing was written (the writer goes on); or a write error
 * (ENOSPC, EIO, ...), and the writer is failed (see the contract). After
 * that, and after a failed sync, every append returns -1 with the first
 * error.
 */
int segment_writer_append(struct segment_writer *writer, uint32_t track_id,
                          uint64_t base_decode_time, const struct fmp4_sample *samples, int count,
                          const uint8_t *payload, size_t payload_size);

/*
 * Make everything appended so far durable (fdatasync). Returns 0, or -1
 * with errno if the writer is failed or the sync failed; a sync failure is
 * final (never retried, see the contract above): close the writer.
 */
int segment_writer_sync(struct segment_writer *writer);

/*
 * The live summary (bytes, per-track counts and times, keyframes, ok and
 * error). It belongs to the writer and stays valid until the next append
 * or close on it.
 */
const struct segment_summary *segment_writer_progress(const struct segment_writer *writer);

/*
 * Final fdatasync (skipped after a failed sync), close and free the writer.
 * If summary_out is not NULL it receives the summary, whose keyframe array
 * the caller then frees with segment_summary_free(); otherwise the array is
 * freed here. Returns 0 if the segment is whole and durable (summary ok),
 * -1 with errno otherwise (the summary still says what the file holds). A
 * NULL writer returns -1 (EINVAL) with a zeroed summary.
 */
int segment_writer_close(struct segment_writer *writer, struct segment_summary *summary_out);

/* Free a summary's keyframe array and zero it. NULL is a no-op. */
void segment_summary_free(struct segment_summary *summary);

#endif
