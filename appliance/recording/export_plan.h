/*
 * export_plan.h - what the two halves of the MP4 export share: the plan
 * built from the segments (export.c) and the writer of its head, ftyp +
 * moov + mdat header (export_moov.c). Not for use outside them.
 */
#ifndef DOORSTEP_EXPORT_PLAN_H
#define DOORSTEP_EXPORT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "media/fmp4.h"
#include "recording/export.h"
#include "recording/mp4_scan.h"

#define EXPORT_DIRECTORY_MAX 4096
/* Caps on what the index of one export may take in memory: each sample
 * table, and the head (ftyp, moov and the mdat header). EXPORT_MAX_MS of
 * 120 fps video needs at most a third of each (docs/storage.md, "Export"). */
#define EXPORT_TABLE_MAX (64u * 1024u * 1024u)
#define EXPORT_HEAD_MAX  (256u * 1024u * 1024u)

enum { EXPORT_VIDEO, EXPORT_AUDIO, EXPORT_TRACKS };

/* One track being built: its sample descriptions and tables, the sample
 * whose duration the next one decides, and its edit list. */
struct export_track {
    uint32_t track_id, timescale;
    struct mp4_scan_track entries[EXPORT_MAX_SAMPLE_ENTRIES]; /* from each segment's moov */
    int entry_count;
    struct byte_buffer stts, stss, stsc, stsz; /* table entries, without box headers */
    uint32_t stts_count, stss_count, stsc_count;
    uint32_t run_length, run_delta;      /* the stts entry still being counted */
    uint32_t chunk_samples, chunk_entry; /* of the last stsc entry */
    uint32_t samples, chunks;
    int started, closed;
    uint64_t base;     /* wall-clock time of the first sample */
    uint64_t time;     /* export decode time of the last sample, or the end once closed */
    uint32_t duration; /* the last sample's own duration */
    int present;       /* written to the moov */
    int64_t empty_ms, edit_ms;
    uint64_t media_time; /* where the edit starts, in the track's timescale */
};

struct export_chunk {
    uint32_t segment, track;
    uint64_t offset, size; /* of its bytes in the segment file */
};

struct export_plan {
    char directory[EXPORT_DIRECTORY_MAX];
    struct export_segment *segments;
    size_t segment_count;
    int64_t from_ms, to_ms; /* the request, then what the file presents */
    int have_start;
    uint64_t video_start; /* wall-clock time (90 kHz) of the first video sample */
    struct export_track tracks[EXPORT_TRACKS];
    struct export_chunk *chunks;
    size_t chunk_count, chunk_capacity;
    uint64_t payload;                /* bytes inside the mdat */
    struct byte_buffer head;         /* ftyp, moov and the mdat header */
    struct mp4_scan_sample *samples; /* one fragment's, while planning */
    char *error;
    size_t error_size;
};

/* Set errno to code and the reason in the plan's error buffer. Returns -1. */
int export_fail(struct export_plan *plan, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The sample entry configurations of a scanned track. */
struct fmp4_video_config export_video_config(const struct mp4_scan_track *track);
struct fmp4_audio_config export_audio_config(const struct mp4_scan_track *track);

/* Build plan->head from the finished tables and chunk list (export_moov.c).
 * 0, or -1 (ENOMEM) through export_fail(). */
int export_build_head(struct export_plan *plan);

#endif
