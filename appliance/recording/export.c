/*
 * export.c - progressive MP4 export of recorded segments (see export.h).
 *
 * Planning scans the segments in order (each up to its durable length) and
 * feeds the samples it keeps, in file order, to one table builder per track
 * (the stts, stss, stsc and stsz entries exactly as the moov will hold them)
 * and to a chunk list: a chunk is the run of kept samples of one fragment,
 * so the mdat interleaves video and audio a second at a time, as the
 * segments do. The head (ftyp, moov, mdat header) is then built once to
 * learn its size, which fixes where the mdat starts, and again with the
 * real chunk offsets (export_moov.c); the tables are freed. Writing sends the head and
 * copies each chunk's bytes from its segment file.
 *
 * Times: a sample's wall-clock time, in its track's timescale, is
 * start_ms * timescale / 1000 plus its decode time in the segment. Export
 * decode times count from the first kept sample of the track; each sample
 * sits at its wall-clock time unless that would overlap the one before
 * (start_ms is rounded to the ms; a doorbell clock may step back), in
 * which case it follows it. A sample therefore lasts until the next one
 * starts: a gap becomes a longer duration of the sample before it.
 *
 * Section numbers refer to ISO/IEC 14496-12:2015.
 * Threads: one plan per thread (see export.h); nothing shared.
 * Ownership: the plan owns its copies of the segments, the tables, the
 * chunk list and the head; a file descriptor is only open during a call.
 */
#define LOG_MODULE "recording"

#include "recording/export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/log.h"
#include "media/fmp4.h"
#include "recording/export_plan.h"
#include "recording/mp4_scan.h"

#define EXPORT_MAX_FRAGMENT_SAMPLES 4096 /* the recorder writes at most 512 */
#define EXPORT_COPY_SIZE            (256 * 1024)
#define EXPORT_OVERLAP_MS           1000 /* a segment starting this long before the last ended */
#define EXPORT_MAX_START_MS         (1LL << 43) /* year 2248: keeps tick arithmetic in 64 bits */

/* Set errno to code and the reason in the plan's error buffer. Returns -1. */
int export_fail(struct export_plan *plan, int code, const char *format, ...)
{
    if (plan->error != NULL && plan->error_size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(plan->error, plan->error_size, format, args);
        va_end(args);
    }
    errno = code;
    return -1;
}

/* Wall-clock time of decode time in a segment starting at start_ms. */
static uint64_t export_wall_time(int64_t start_ms, uint32_t timescale, uint64_t decode_time)
{
    return (uint64_t)start_ms * timescale / 1000u + decode_time;
}

/* ---- sample descriptions ---------------------------------------------------- */

struct fmp4_video_config export_video_config(const struct mp4_scan_track *track)
{
    /* An SPS the scan could not parse: the size tkhd gave, 4:2:0 8-bit. */
    struct h264_sps_info unparsed = {.width = track->width, .height = track->height};
    return fmp4_video_config_describe(track->sps_parsed ? &track->sps_info : &unparsed, track->sps,
                                      track->sps_size, track->pps, track->pps_size);
}

struct fmp4_audio_config export_audio_config(const struct mp4_scan_track *track)
{
    return (struct fmp4_audio_config){.channels = track->channels,
                                      .pre_skip = track->pre_skip,
                                      .input_sample_rate = track->input_sample_rate <= INT32_MAX
                                                               ? (int)track->input_sample_rate
                                                               : -1};
}

/* Whether two tracks need the same sample description. */
static int export_same_entry(const struct mp4_scan_track *a, const struct mp4_scan_track *b,
                             int video)
{
    if (!video)
        return a->channels == b->channels && a->pre_skip == b->pre_skip &&
               a->input_sample_rate == b->input_sample_rate;
    return a->sps_size == b->sps_size && a->pps_size == b->pps_size &&
           memcmp(a->sps, b->sps, a->sps_size) == 0 && memcmp(a->pps, b->pps, a->pps_size) == 0;
}

/* The 1-based sample description index of a segment's track, adding it if
 * it is new. -1 (error set) if there are too many or it cannot be written. */
static int export_entry(struct export_plan *plan, int kind, const struct mp4_scan_track *scanned)
{
    struct export_track *track = &plan->tracks[kind];
    for (int i = 0; i < track->entry_count; i++)
        if (export_same_entry(&track->entries[i], scanned, kind == EXPORT_VIDEO))
            return i + 1;
    if (track->entry_count == EXPORT_MAX_SAMPLE_ENTRIES)
        return export_fail(plan, ENOTSUP, "more than %d %s configurations in the range",
                           EXPORT_MAX_SAMPLE_ENTRIES, kind == EXPORT_VIDEO ? "video" : "audio");
    /* Write it once now, so that the moov cannot fail on it later. */
    struct byte_buffer scratch;
    struct fmp4_video_config video = export_video_config(scanned);
    struct fmp4_audio_config audio = export_audio_config(scanned);
    byte_buffer_init(&scratch, EXPORT_TABLE_MAX);
    int written = kind == EXPORT_VIDEO ? fmp4_write_video_entry(&scratch, &video)
                                       : fmp4_write_audio_entry(&scratch, &audio);
    int failed = byte_buffer_error(&scratch) != BYTE_BUFFER_OK;
    byte_buffer_free(&scratch);
    if (written != 0)
        return export_fail(plan, EIO, "unusable %s sample entry",
                           kind == EXPORT_VIDEO ? "video" : "audio");
    if (failed)
        return export_fail(plan, ENOMEM, "out of memory");
    track->entries[track->entry_count++] = *scanned;
    return track->entry_count;
}

/* ---- tables ------------------------------------------------------------------ */

/* Give the open sample its duration: until at (plan decode time), or its
 * own duration if that ends later. 0, or -1 for a gap beyond 32 bits. */
static int export_settle(struct export_plan *plan, struct export_track *track, uint64_t at)
{
    if (at < track->time + track->duration)
        at = track->time + track->duration;
    if (at - track->time > UINT32_MAX)
        return export_fail(plan, EIO, "a gap of more than 2^32 ticks");
    uint32_t delta = (uint32_t)(at - track->time);
    if (track->run_length > 0 && delta == track->run_delta) {
        track->run_length++;
    } else {
        if (track->run_length > 0) {
            fmp4_u32(&track->stts, track->run_length);
            fmp4_u32(&track->stts, track->run_delta);
            track->stts_count++;
        }
        track->run_length = 1;
        track->run_delta = delta;
    }
    track->time = at;
    return 0;
}

/* Add a sample at wall-clock time wall to the track's tables. */
static int export_add_sample(struct export_plan *plan, struct export_track *track, uint64_t wall,
                             const struct mp4_scan_sample *sample)
{
    if (!track->started) {
        track->started = 1;
        track->base = wall;
        track->time = 0;
    } else if (export_settle(plan, track, wall > track->base ? wall - track->base : 0) != 0) {
        return -1;
    }
    if (track->samples == UINT32_MAX)
        return export_fail(plan, E2BIG, "too many samples");
    track->duration = sample->duration;
    track->samples++;
    fmp4_u32(&track->stsz, sample->size);
    if (track->track_id == FMP4_VIDEO_TRACK && sample->keyframe) {
        fmp4_u32(&track->stss, track->samples);
        track->stss_count++;
    }
    return 0;
}

/* No more samples: the last one lasts until next_wall (0: its own
 * duration), and the pending stts entry is written. */
static int export_close(struct export_plan *plan, struct export_track *track, uint64_t next_wall)
{
    if (track->closed)
        return 0;
    track->closed = 1;
    if (!track->started)
        return 0;
    if (export_settle(plan, track, next_wall > track->base ? next_wall - track->base : 0) != 0)
        return -1;
    fmp4_u32(&track->stts, track->run_length);
    fmp4_u32(&track->stts, track->run_delta);
    track->stts_count++;
    return 0;
}

/* Append a chunk of count samples of sample description entry. */
static int export_add_chunk(struct export_plan *plan, int kind, size_t segment, int entry,
                            uint32_t count, uint64_t offset, uint64_t size)
{
    struct export_track *track = &plan->tracks[kind];
    if (plan->chunk_count == plan->chunk_capacity) {
        size_t capacity = plan->chunk_capacity > 0 ? plan->chunk_capacity * 2 : 256;
        struct export_chunk *chunks = realloc(plan->chunks, capacity * sizeof(*chunks));
        if (chunks == NULL)
            return export_fail(plan, ENOMEM, "out of memory");
        plan->chunks = chunks;
        plan->chunk_capacity = capacity;
    }
    plan->chunks[plan->chunk_count++] = (struct export_chunk){
        .segment = (uint32_t)segment, .track = (uint32_t)kind, .offset = offset, .size = size};
    track->chunks++;
    if (track->stsc_count == 0 || count != track->chunk_samples ||
        (uint32_t)entry != track->chunk_entry) {
        fmp4_u32(&track->stsc, track->chunks); /* first_chunk */
        fmp4_u32(&track->stsc, count);
        fmp4_u32(&track->stsc, (uint32_t)entry);
        track->stsc_count++;
        track->chunk_samples = count;
        track->chunk_entry = (uint32_t)entry;
    }
    plan->payload += size;
    return 0;
}

/* ---- planning ---------------------------------------------------------------- */

/* Read fragment index's samples into plan->samples. */
static int export_read_samples(struct export_plan *plan, const struct mp4_scan_source *source,
                               const struct mp4_scan_result *scan, size_t index, size_t *count,
                               const char *path)
{
    if (mp4_scan_read_samples(source, scan, index, plan->samples, EXPORT_MAX_FRAGMENT_SAMPLES,
                              count) == 0)
        return 0;
    if (errno == ERANGE)
        return export_fail(plan, EIO, "%s: a fragment of %zu samples", path, *count);
    return export_fail(plan, errno == EINVAL ? EIO : errno, "%s: reading fragment %zu: %s", path,
                       index, strerror(errno));
}

/* Find where the video starts in the first segment used: the last keyframe
 * at or before from_ms, else the first one after it; and so where the
 * presentation starts. Leaves have_start 0 if the segment has no keyframe. */
static int export_find_start(struct export_plan *plan, const struct mp4_scan_source *source,
                             const struct mp4_scan_result *scan, int64_t start_ms, const char *path)
{
    uint64_t from = (uint64_t)plan->from_ms * 90u;
    for (size_t i = 0; i < scan->fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &scan->fragments[i];
        uint64_t begin =
            export_wall_time(start_ms, FMP4_VIDEO_TIMESCALE, fragment->base_decode_time);
        size_t count = 0;
        if (fragment->track_id != FMP4_VIDEO_TRACK)
            continue;
        if (plan->have_start && begin > from)
            break;
        if (export_read_samples(plan, source, scan, i, &count, path) != 0)
            return -1;
        for (size_t j = 0; j < count; j++) {
            uint64_t wall =
                export_wall_time(start_ms, FMP4_VIDEO_TIMESCALE, plan->samples[j].decode_time);
            if (wall > from && plan->have_start)
                break;
            if (!plan->samples[j].keyframe)
                continue;
            plan->have_start = 1;
            plan->video_start = wall;
        }
    }
    if (plan->have_start && plan->video_start > from) /* the footage starts later */
        plan->from_ms = (int64_t)(plan->video_start / 90u);
    return 0;
}

/* Keep the samples of one fragment that fall in the range (a contiguous
 * run: times only grow), and make them a chunk. */
static int export_plan_fragment(struct export_plan *plan, const struct mp4_scan_source *source,
                                const struct mp4_scan_result *scan, size_t index,
                                size_t segment_index, const int entries[EXPORT_TRACKS],
                                const char *path)
{
    const struct mp4_scan_fragment *fragment = &scan->fragments[index];
    int kind = fragment->track_id == FMP4_VIDEO_TRACK ? EXPORT_VIDEO : EXPORT_AUDIO;
    struct export_track *track = &plan->tracks[kind];
    int64_t start_ms = plan->segments[segment_index].start_ms;
    uint64_t end = (uint64_t)plan->to_ms * track->timescale / 1000u;
    uint64_t first = kind == EXPORT_VIDEO ? plan->video_start
                                          : (uint64_t)plan->from_ms * track->timescale / 1000u + 1;
    size_t count = 0, kept = 0;
    uint64_t offset = 0, bytes = 0;

    if (track->closed || export_wall_time(start_ms, track->timescale, fragment->base_decode_time) +
                                 fragment->duration <
                             first)
        return 0;
    if (export_read_samples(plan, source, scan, index, &count, path) != 0)
        return -1;
    for (size_t j = 0; j < count; j++) {
        const struct mp4_scan_sample *sample = &plan->samples[j];
        uint64_t wall = export_wall_time(start_ms, track->timescale, sample->decode_time);
        if (wall >= end) {
            if (export_close(plan, track, wall) != 0)
                return -1;
            break;
        }
        /* Video from the start keyframe on; audio that ends after from_ms. */
        if (kind == EXPORT_VIDEO ? wall < first : wall + sample->duration < first)
            continue;
        if (export_add_sample(plan, track, wall, sample) != 0)
            return -1;
        if (kept++ == 0)
            offset = sample->offset;
        bytes += sample->size;
    }
    if (kept == 0)
        return 0;
    return export_add_chunk(plan, kind, segment_index, entries[kind], (uint32_t)kept, offset,
                            bytes);
}

/* Whether a scanned track is one of ours: handler, codec and timescale. */
static int export_usable_track(const struct mp4_scan_track *track, const char *handler,
                               const char *entry, uint32_t timescale)
{
    return track != NULL && strcmp(track->handler, handler) == 0 &&
           strcmp(track->sample_entry, entry) == 0 && track->timescale == timescale &&
           (strcmp(entry, "avc1") != 0 || (track->sps_size > 0 && track->pps_size > 0));
}

/* Scan one segment (up to its durable length) and plan its samples. */
static int export_plan_segment(struct export_plan *plan, size_t index)
{
    const struct export_segment *segment = &plan->segments[index];
    struct mp4_scan_result scan = {0};
    char path[EXPORT_DIRECTORY_MAX + RECORDING_PATH_MAX];
    int entries[EXPORT_TRACKS] = {0, 0};
    struct stat status;
    int fd = -1, rc = -1;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", plan->directory, segment->path) >=
        sizeof(path))
        return export_fail(plan, ENAMETOOLONG, "path too long");
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &status) != 0) {
        export_fail(plan, errno, "%s: %s", segment->path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(status.st_mode) || (uint64_t)status.st_size < segment->bytes) {
        export_fail(plan, EIO, "%s holds %lld bytes, its index %" PRIu64, segment->path,
                    (long long)status.st_size, segment->bytes);
        goto out;
    }
    struct mp4_scan_source source = mp4_scan_fd_source(&fd, segment->bytes);
    if (mp4_scan(&source, &scan) != 0) {
        export_fail(plan, errno, "%s: %s", segment->path, scan.reason);
        goto out;
    }
    if (!scan.complete)
        log_warn("export: %s: %s; using its first %" PRIu64 " bytes", segment->path, scan.reason,
                 scan.valid_length);
    const struct mp4_scan_track *video = mp4_scan_find_track(&scan, FMP4_VIDEO_TRACK);
    const struct mp4_scan_track *audio = mp4_scan_find_track(&scan, FMP4_AUDIO_TRACK);
    if (!export_usable_track(video, "vide", "avc1", FMP4_VIDEO_TIMESCALE)) {
        export_fail(plan, EIO, "%s: not a recorded segment (no H.264 track 1)", segment->path);
        goto out;
    }
    if (!export_usable_track(audio, "soun", "Opus", FMP4_AUDIO_TIMESCALE))
        audio = NULL;
    if ((entries[EXPORT_VIDEO] = export_entry(plan, EXPORT_VIDEO, video)) < 0 ||
        (audio != NULL && (entries[EXPORT_AUDIO] = export_entry(plan, EXPORT_AUDIO, audio)) < 0))
        goto out;
    if (!plan->have_start) {
        if (export_find_start(plan, &source, &scan, segment->start_ms, segment->path) != 0)
            goto out;
        if (!plan->have_start) { /* no keyframe in it: nothing to start from */
            rc = 0;
            goto out;
        }
    }
    for (size_t i = 0; i < scan.fragment_count; i++) {
        uint32_t track_id = scan.fragments[i].track_id;
        if ((track_id == FMP4_VIDEO_TRACK || (track_id == FMP4_AUDIO_TRACK && audio != NULL)) &&
            export_plan_fragment(plan, &source, &scan, i, index, entries, segment->path) != 0)
            goto out;
    }
    rc = 0;
out:
    mp4_scan_result_free(&scan);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The presented range and each track's edit list (8.6.6): video from
 * from_ms for to_ms - from_ms, both clipped to the footage; audio over the
 * same range, after an empty edit if its first packet comes later. */
static int export_plan_edits(struct export_plan *plan)
{
    struct export_track *video = &plan->tracks[EXPORT_VIDEO];
    struct export_track *audio = &plan->tracks[EXPORT_AUDIO];
    if (video->samples > 0) {
        int64_t footage_end = (int64_t)((video->base + video->time) / 90u);
        if (footage_end < plan->to_ms)
            plan->to_ms = footage_end;
    }
    if (video->samples == 0 || plan->to_ms <= plan->from_ms)
        return export_fail(plan, ENODATA, "no footage in the range");
    video->present = 1;
    uint64_t from = (uint64_t)plan->from_ms * 90u; /* below base only within the ms it starts in */
    video->media_time = from > video->base ? from - video->base : 0;
    video->edit_ms = plan->to_ms - plan->from_ms;
    if (audio->samples == 0)
        return 0;
    uint64_t start = (uint64_t)plan->from_ms * 48u;
    if (audio->base <= start)
        audio->media_time = start - audio->base;
    else
        audio->empty_ms = (int64_t)((audio->base - start + 24) / 48u);
    int64_t audio_end = (int64_t)((audio->base + audio->time) / 48u);
    if (audio_end > plan->to_ms)
        audio_end = plan->to_ms;
    audio->edit_ms = audio_end - plan->from_ms - audio->empty_ms;
    audio->present = audio->edit_ms > 0; /* else its bytes stay unreferenced in the mdat */
    return 0;
}

/* ---- entry points ------------------------------------------------------------ */

int export_prepare(const char *recordings_dir, const struct export_segment *segments, size_t count,
                   int64_t from_ms, int64_t to_ms, struct export_plan **out, char *error,
                   size_t error_size)
{
    struct export_plan *plan = calloc(1, sizeof(*plan));
    int rc = -1;

    if (out != NULL)
        *out = NULL;
    if (plan == NULL) {
        if (error != NULL && error_size > 0)
            error_text_set(error, error_size, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    plan->error = error;
    plan->error_size = error_size;
    plan->from_ms = from_ms;
    plan->to_ms = to_ms;
    plan->tracks[EXPORT_VIDEO] =
        (struct export_track){.track_id = FMP4_VIDEO_TRACK, .timescale = FMP4_VIDEO_TIMESCALE};
    plan->tracks[EXPORT_AUDIO] =
        (struct export_track){.track_id = FMP4_AUDIO_TRACK, .timescale = FMP4_AUDIO_TIMESCALE};
    for (int kind = 0; kind < EXPORT_TRACKS; kind++) {
        byte_buffer_init(&plan->tracks[kind].stts, EXPORT_TABLE_MAX);
        byte_buffer_init(&plan->tracks[kind].stss, EXPORT_TABLE_MAX);
        byte_buffer_init(&plan->tracks[kind].stsc, EXPORT_TABLE_MAX);
        byte_buffer_init(&plan->tracks[kind].stsz, EXPORT_TABLE_MAX);
    }
    byte_buffer_init(&plan->head, EXPORT_HEAD_MAX);
    if (recordings_dir == NULL || out == NULL || (segments == NULL && count > 0) || from_ms < 0 ||
        to_ms <= from_ms || to_ms > EXPORT_MAX_START_MS) {
        export_fail(plan, EINVAL, "from must be before to, both ms since the epoch");
        goto out;
    }
    if (to_ms - from_ms > EXPORT_MAX_MS) {
        export_fail(plan, E2BIG, "at most %lld ms at a time", EXPORT_MAX_MS);
        goto out;
    }
    if ((size_t)snprintf(plan->directory, sizeof(plan->directory), "%s", recordings_dir) >=
        sizeof(plan->directory)) {
        export_fail(plan, ENAMETOOLONG, "recordings directory path too long");
        goto out;
    }
    plan->segments = calloc(count > 0 ? count : 1, sizeof(*plan->segments));
    plan->samples = calloc(EXPORT_MAX_FRAGMENT_SAMPLES, sizeof(*plan->samples));
    if (plan->segments == NULL || plan->samples == NULL) {
        export_fail(plan, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        if (segments[i].start_ms < 0 || segments[i].start_ms > EXPORT_MAX_START_MS ||
            (i > 0 && segments[i].start_ms < segments[i - 1].start_ms)) {
            export_fail(plan, EINVAL, "segments out of order");
            goto out;
        }
        plan->segments[i] = segments[i];
    }
    plan->segment_count = count;

    for (size_t i = 0; i < count; i++) {
        const struct export_track *video = &plan->tracks[EXPORT_VIDEO];
        if (video->closed)
            break;
        if (i + 1 < count && segments[i + 1].start_ms <= from_ms)
            continue; /* the range starts in a later segment */
        /* The same footage again (a clock that stepped back): keep the first. */
        if (video->started && (uint64_t)(segments[i].start_ms + EXPORT_OVERLAP_MS) * 90u <
                                  video->base + video->time + video->duration) {
            log_warn("export: %s overlaps the segment before it; left out", segments[i].path);
            continue;
        }
        if (export_plan_segment(plan, i) != 0)
            goto out;
    }
    for (int kind = 0; kind < EXPORT_TRACKS; kind++)
        if (export_close(plan, &plan->tracks[kind], 0) != 0)
            goto out;
    if (export_plan_edits(plan) != 0 || export_build_head(plan) != 0)
        goto out;
    rc = 0;
out:
    /* The tables are in the head now; only the chunk list is still needed. */
    for (int kind = 0; kind < EXPORT_TRACKS; kind++) {
        byte_buffer_free(&plan->tracks[kind].stts);
        byte_buffer_free(&plan->tracks[kind].stss);
        byte_buffer_free(&plan->tracks[kind].stsc);
        byte_buffer_free(&plan->tracks[kind].stsz);
    }
    free(plan->samples);
    plan->samples = NULL;
    if (rc != 0) {
        int saved_errno = errno;
        export_free(plan);
        errno = saved_errno;
        return -1;
    }
    plan->error = NULL;
    *out = plan;
    return 0;
}

uint64_t export_size(const struct export_plan *plan)
{
    return byte_buffer_length(&plan->head) + plan->payload;
}

void export_range(const struct export_plan *plan, int64_t *from_ms, int64_t *to_ms)
{
    *from_ms = plan->from_ms;
    *to_ms = plan->to_ms;
}

/* Copy size bytes at offset of fd to sink, through buffer. */
static int export_copy(struct export_plan *plan, int fd, uint64_t offset, uint64_t size,
                       uint8_t *buffer, export_write_callback sink, void *context, const char *path)
{
    while (size > 0) {
        size_t want = size < EXPORT_COPY_SIZE ? (size_t)size : EXPORT_COPY_SIZE;
        ssize_t got = pread(fd, buffer, want, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return export_fail(plan, errno, "%s: %s", path, strerror(errno));
        if (got == 0)
            return export_fail(plan, EIO, "%s became shorter", path);
        if (sink(context, buffer, (size_t)got) != 0)
            return export_fail(plan, ECANCELED, "the receiver stopped");
        offset += (uint64_t)got;
        size -= (uint64_t)got;
    }
    return 0;
}

int export_write(struct export_plan *plan, export_write_callback sink, void *context, char *error,
                 size_t error_size)
{
    char path[EXPORT_DIRECTORY_MAX + RECORDING_PATH_MAX];
    uint8_t *buffer = NULL;
    size_t open_segment = SIZE_MAX;
    int fd = -1, rc = -1;

    if (plan == NULL || sink == NULL) {
        errno = EINVAL;
        return -1;
    }
    plan->error = error;
    plan->error_size = error_size;
    if (sink(context, byte_buffer_data(&plan->head), byte_buffer_length(&plan->head)) != 0) {
        export_fail(plan, ECANCELED, "the receiver stopped");
        goto out;
    }
    if ((buffer = malloc(EXPORT_COPY_SIZE)) == NULL) {
        export_fail(plan, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < plan->chunk_count; i++) {
        const struct export_chunk *chunk = &plan->chunks[i];
        const struct export_segment *segment = &plan->segments[chunk->segment];
        if (chunk->segment != open_segment) {
            if (fd >= 0)
                close(fd);
            snprintf(path, sizeof(path), "%s/%s", plan->directory, segment->path);
            if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
                export_fail(plan, errno, "%s: %s", segment->path, strerror(errno));
                goto out;
            }
            open_segment = chunk->segment;
        }
        if (export_copy(plan, fd, chunk->offset, chunk->size, buffer, sink, context,
                        segment->path) != 0)
            goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buffer);
    plan->error = NULL;
    return rc;
}

void export_free(struct export_plan *plan)
{
    if (plan == NULL)
        return;
    for (int kind = 0; kind < EXPORT_TRACKS; kind++) {
        byte_buffer_free(&plan->tracks[kind].stts);
        byte_buffer_free(&plan->tracks[kind].stss);
        byte_buffer_free(&plan->tracks[kind].stsc);
        byte_buffer_free(&plan->tracks[kind].stsz);
    }
    byte_buffer_free(&plan->head);
    free(plan->samples);
    free(plan->segments);
    free(plan->chunks);
    free(plan);
}
