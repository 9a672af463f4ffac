/*
 * export.h - a time range of one doorbell's recordings as one standard,
 * progressive MP4 file (ftyp, moov, then a single mdat), as browsers,
 * players and ffmpeg expect from a download: no fragments, nothing decoded
 * or re-encoded.
 *
 * The caller lists the segments (recordings rows, by start time) that
 * overlap [from_ms, to_ms). export_prepare() scans them (mp4_scan.c, each
 * only up to its durable length), picks the samples and lays out the whole
 * file, so its size is known before a byte is sent; export_write() then
 * streams it through a callback, copying the sample bytes from the segment
 * files with pread().
 *
 * What the file holds:
 *   - video from the keyframe at or before from_ms (or the first one after
 *     it, when the footage starts later), up to to_ms; an edit list makes
 *     the presentation start exactly at from_ms and last to_ms - from_ms
 *     (both clipped to the footage there is), so players show the frame
 *     captured at or just after from_ms first;
 *   - the audio packets overlapping that range, with their own edit list;
 *   - times continuous on the wall clock across segments: a segment's
 *     decode time 0 is its start_ms, and a gap between segments (the
 *     doorbell was offline) becomes a longer duration of the sample before
 *     it. A segment that starts well before the previous one ended (the
 *     same footage twice) is left out;
 *   - one sample entry per distinct SPS/PPS pair (audio: per Opus
 *     configuration), at most EXPORT_MAX_SAMPLE_ENTRIES per track.
 *
 * Memory: the sample tables (about 4 bytes per sample and 8 per change of
 * duration) and the moov built from them, so a few MiB per hour; ranges are
 * limited to EXPORT_MAX_MS.
 *
 * Threads: a plan belongs to one thread (a civetweb worker); nothing is
 * shared. Ownership: export_prepare() returns a plan the caller frees
 * with export_free(); it keeps copies of the paths it was given.
 */
#ifndef DOORSTEP_EXPORT_H
#define DOORSTEP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "recording/recording_store.h"

#define EXPORT_MAX_MS             (6LL * 3600 * 1000) /* longest range */
#define EXPORT_MAX_SAMPLE_ENTRIES 8                   /* parameter-set changes per track */

/* One recorded segment, as its recordings row describes it. */
struct export_segment {
    char path[RECORDING_PATH_MAX]; /* relative to the recordings directory */
    int64_t start_ms;              /* wall-clock time of decode time 0 */
    uint64_t bytes;                /* durable length: nothing after it is read */
};

/* Everything needed to write the file: made by export_prepare(). */
struct export_plan;

/*
 * Plan the export of [from_ms, to_ms) from count segments sorted by
 * start_ms, whose files are under recordings_dir. Returns 0 with *out, or
 * -1 with errno and a reason in error: EINVAL (an empty or negative range,
 * bad arguments), E2BIG (longer than EXPORT_MAX_MS), ENODATA (no video in
 * the range), ENOTSUP (more than EXPORT_MAX_SAMPLE_ENTRIES parameter sets),
 * EIO (a file shorter than its row, or not a usable segment), ENOMEM, or
 * the error of open()/read.
 */
int export_prepare(const char *recordings_dir, const struct export_segment *segments, size_t count,
                   int64_t from_ms, int64_t to_ms, struct export_plan **out, char *error,
                   size_t error_size);

/* Bytes export_write() will produce (for Content-Length). */
uint64_t export_size(const struct export_plan *plan);

/* The range the file presents: the request, clipped to the footage. */
void export_range(const struct export_plan *plan, int64_t *from_ms, int64_t *to_ms);

/* Takes the next size bytes of the file; returns 0, or -1 to stop. */
typedef int (*export_write_callback)(void *context, const void *data, size_t size);

/*
 * Produce the file: exactly export_size() bytes through sink, in order.
 * Returns 0, or -1 with errno and a reason in error: ECANCELED (the
 * callback stopped it), EIO (a segment became shorter), ENOMEM, or the
 * error of open()/pread(). Call it at most once.
 */
int export_write(struct export_plan *plan, export_write_callback sink, void *context, char *error,
                 size_t error_size);

/* Free a plan; NULL is a no-op. */
void export_free(struct export_plan *plan);

#endif
