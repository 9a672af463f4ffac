/*
 * mp4_scan.c - strict, bounded scanner of fragmented MP4 files (see
 * mp4_scan.h): what start-up recovery trusts to say how much of a segment
 * survived a crash.
 *
 * Section numbers refer to ISO/IEC 14496-12:2015; avcC is 14496-15 5.3.3.1,
 * dOps the Opus-in-ISOBMFF encapsulation 4.3.2. The bytes are untrusted: a
 * crash leaves a fragment cut anywhere (or, on some filesystems, a tail of
 * zeros), and a damaged disk leaves anything. So every box size is checked
 * against its parent and the file before anything is read, 64-bit sizes and
 * sums are guarded against overflow, the boxes parsed in memory are bounded
 * (MP4_SCAN_MAX_*), and each parsed field goes through a cursor that cannot
 * read past its box (recording/mp4_box.c). The first inconsistency stops
 * the scan with a reason; nothing is guessed around. Fuzzed by
 * tests/fuzz/fuzz_mp4.c.
 *
 * Threads: no shared state; any thread, one result per scan.
 * Ownership: a scan owns one read buffer (freed before it returns) and the
 * result's fragment array (freed by mp4_scan_result_free()).
 */
#include "recording/mp4_scan.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recording/mp4_box.h"
#include "recording/mp4_scan_internal.h"

#define MP4_SCAN_READ_CHUNK     (1 << 20) /* bytes per pread() */
#define MP4_SCAN_FIRST_CAPACITY 4096

/* tfhd tf_flags (8.8.7.1) */
#define MP4_TFHD_BASE_DATA_OFFSET  0x000001u
#define MP4_TFHD_DESCRIPTION_INDEX 0x000002u
#define MP4_TFHD_DEFAULT_DURATION  0x000008u
#define MP4_TFHD_DEFAULT_SIZE      0x000010u
#define MP4_TFHD_DEFAULT_FLAGS     0x000020u
/* trun tr_flags (8.8.8.1) */
#define MP4_TRUN_DATA_OFFSET 0x000001u
#define MP4_TRUN_FIRST_FLAGS 0x000004u
#define MP4_TRUN_DURATION    0x000100u
#define MP4_TRUN_SIZE        0x000200u
#define MP4_TRUN_FLAGS       0x000400u
#define MP4_TRUN_COMPOSITION 0x000800u
/* sample_flags: sample_is_non_sync_sample (8.8.3.1) */
#define MP4_SAMPLE_NON_SYNC 0x00010000u

/* The index of the track with this id in result->tracks, or -1. */
int mp4_track_index(const struct mp4_scan_result *result, uint32_t track_id)
{
    for (int i = 0; i < result->track_count && i < MP4_SCAN_MAX_TRACKS; i++)
        if (result->tracks[i].track_id == track_id)
            return i;
    return -1;
}

/* ---- scanner plumbing ------------------------------------------------------ */

int mp4_stop(struct mp4_scanner *scanner, const char *format, ...)
{
    struct mp4_scan_result *result = scanner->result;
    if (result->reason[0] == '\0') {
        va_list args;
        va_start(args, format);
        vsnprintf(result->reason, sizeof(result->reason), format, args);
        va_end(args);
    }
    return MP4_STOP;
}

/* Read exactly size bytes at offset into out. MP4_STOP if the source ends
 * early (the file shrank under us), MP4_FAIL on an I/O error. */
static int mp4_read(struct mp4_scanner *scanner, uint64_t offset, void *out, size_t size)
{
    const struct mp4_scan_source *source = scanner->source;
    size_t done = 0;
    while (done < size) {
        ssize_t got =
            source->read(source->context, offset + done, (uint8_t *)out + done, size - done);
        if (got < 0 || (size_t)got > size - done) {
            int saved_errno = got < 0 ? errno : EIO;
            scanner->result->io_error = 1;
            mp4_stop(scanner, "read error at %" PRIu64 ": %s", offset + done,
                     strerror(saved_errno));
            errno = saved_errno;
            return MP4_FAIL;
        }
        if (got == 0)
            return mp4_stop(scanner, "file ends at %" PRIu64 " while reading", offset + done);
        done += (size_t)got;
    }
    return MP4_OK;
}

/* Read a box body (header excluded) into the scanner's buffer; the caller
 * has bounded its size. */
int mp4_read_body(struct mp4_scanner *scanner, const struct mp4_header *box, const uint8_t **body,
                  size_t *size)
{
    assert(box->size >= box->header_size && box->size - box->header_size <= MP4_SCAN_MAX_MOOV);
    size_t needed = (size_t)(box->size - box->header_size);
    if (needed > scanner->capacity) {
        size_t capacity = scanner->capacity > 0 ? scanner->capacity : MP4_SCAN_FIRST_CAPACITY;
        while (capacity < needed)
            capacity *= 2;
        uint8_t *buffer = realloc(scanner->buffer, capacity);
        if (buffer == NULL) {
            mp4_stop(scanner, "out of memory");
            errno = ENOMEM;
            return MP4_FAIL;
        }
        scanner->buffer = buffer;
        scanner->capacity = capacity;
    }
    *body = scanner->buffer;
    *size = needed;
    return mp4_read(scanner, box->offset + box->header_size, scanner->buffer, needed);
}

/* Read the top-level box header at offset (4.2): 32-bit size, or 1 and a
 * 64-bit size, or 0 for "to the end of the file". */
static int mp4_read_header(struct mp4_scanner *scanner, uint64_t offset, struct mp4_header *box)
{
    uint64_t total = scanner->source->size;
    uint8_t header[16];
    assert(offset < total);
    if (total - offset < 8)
        return mp4_stop(scanner, "box header cut short at %" PRIu64, offset);
    int step = mp4_read(scanner, offset, header, 8);
    if (step != MP4_OK)
        return step;
    struct mp4_box_cursor cursor = mp4_box_cursor(header, sizeof(header));
    uint64_t size = mp4_box_u32(&cursor);
    box->offset = offset;
    box->header_size = 8;
    mp4_box_fourcc(box->type, header + 4);
    if (!mp4_box_printable(header + 4))
        return mp4_stop(scanner, "invalid box type at %" PRIu64, offset);
    if (size == 1) {
        if (total - offset < 16)
            return mp4_stop(scanner, "box header cut short at %" PRIu64, offset);
        step = mp4_read(scanner, offset + 8, header + 8, 8);
        if (step != MP4_OK)
            return step;
        cursor.at = 8;
        size = mp4_box_u64(&cursor);
        box->header_size = 16;
    } else if (size == 0) {
        size = total - offset;
    }
    if (size < box->header_size)
        return mp4_stop(scanner, "%s box at %" PRIu64 " smaller than its header", box->type,
                        offset);
    if (size > total - offset)
        return mp4_stop(scanner,
                        "%s box at %" PRIu64 " cut short: %" PRIu64 " of %" PRIu64 " bytes",
                        box->type, offset, total - offset, size);
    box->size = size;
    return MP4_OK;
}

/* ---- fragments ------------------------------------------------------------- */

/* What traf says about its run of samples. */
struct mp4_run {
    uint32_t track_id, sequence;
    uint64_t base_offset;
    bool has_decode_time;
    uint64_t decode_time;
    uint32_t sample_count;
    bool has_data_offset;
    int32_t data_offset;
    uint64_t duration, bytes;
    uint32_t first_flags;
};

/* Where the trun parser puts each sample when asked (NULL: totals only);
 * decode times and offsets come out relative to the run's start. */
struct mp4_sample_table {
    struct mp4_scan_sample *samples;
    size_t capacity;
};

/* tfhd (8.8.7) into run; returns the track's defaults through the track. */
static int mp4_parse_tfhd(struct mp4_scanner *scanner, const struct mp4_box_child *tfhd,
                          uint64_t moof_offset, struct mp4_run *run, uint32_t defaults[3])
{
    struct mp4_box_cursor cursor = mp4_box_cursor(tfhd->body, tfhd->size);
    mp4_box_skip(&cursor, 1); /* version */
    uint32_t flags = (uint32_t)mp4_box_get(&cursor, 3);
    run->track_id = mp4_box_u32(&cursor);
    const struct mp4_scan_track *track = mp4_scan_find_track(scanner->result, run->track_id);
    if (!cursor.ok || track == NULL)
        return mp4_stop(scanner, "fragment at %" PRIu64 " of unknown track", moof_offset);
    /* Without base-data-offset, the only traf's base is the moof (8.8.7.1),
     * whether default-base-is-moof is set or not. */
    run->base_offset = flags & MP4_TFHD_BASE_DATA_OFFSET ? mp4_box_u64(&cursor) : moof_offset;
    if (flags & MP4_TFHD_DESCRIPTION_INDEX)
        mp4_box_skip(&cursor, 4);
    defaults[0] =
        flags & MP4_TFHD_DEFAULT_DURATION ? mp4_box_u32(&cursor) : track->default_duration;
    defaults[1] = flags & MP4_TFHD_DEFAULT_SIZE ? mp4_box_u32(&cursor) : track->default_size;
    defaults[2] = flags & MP4_TFHD_DEFAULT_FLAGS ? mp4_box_u32(&cursor) : track->default_flags;
    if (!cursor.ok || cursor.at != cursor.size)
        return mp4_stop(scanner, "bad tfhd at %" PRIu64, moof_offset);
    return MP4_OK;
}

/* Record sample index of a run in table (if any): its fields, and its
 * decode time and offset relative to the run's first sample. */
static void mp4_table_put(const struct mp4_sample_table *table, uint32_t index, uint64_t time,
                          uint64_t offset, uint32_t duration, uint32_t size, uint32_t flags)
{
    if (table == NULL)
        return;
    assert(index < table->capacity);
    table->samples[index] =
        (struct mp4_scan_sample){.decode_time = time,
                                 .offset = offset,
                                 .size = size,
                                 .duration = duration,
                                 .keyframe = (flags & MP4_SAMPLE_NON_SYNC) == 0};
}

/* trun (8.8.8): count, data offset, per-sample fields as its flags say;
 * sums durations and sizes (and fills table, if any); the box must hold
 * exactly its samples. */
static int mp4_parse_trun(struct mp4_scanner *scanner, const struct mp4_box_child *trun,
                          uint64_t moof_offset, const uint32_t defaults[3], struct mp4_run *run,
                          const struct mp4_sample_table *table)
{
    struct mp4_box_cursor cursor = mp4_box_cursor(trun->body, trun->size);
    uint32_t version = mp4_box_u8(&cursor);
    uint32_t flags = (uint32_t)mp4_box_get(&cursor, 3);
    run->sample_count = mp4_box_u32(&cursor);
    run->has_data_offset = (flags & MP4_TRUN_DATA_OFFSET) != 0;
    if (run->has_data_offset)
        run->data_offset = (int32_t)mp4_box_u32(&cursor);
    bool has_first_flags = (flags & MP4_TRUN_FIRST_FLAGS) != 0;
    uint32_t first_flags = has_first_flags ? mp4_box_u32(&cursor) : 0;
    uint64_t per_sample = 0;
    for (uint32_t bit = MP4_TRUN_DURATION; bit <= MP4_TRUN_COMPOSITION; bit <<= 1)
        per_sample += flags & bit ? 4 : 0;
    if (!cursor.ok || version > 1 || run->sample_count == 0)
        return mp4_stop(scanner, "bad trun at %" PRIu64, moof_offset);
    if (per_sample * run->sample_count != cursor.size - cursor.at)
        return mp4_stop(scanner, "trun at %" PRIu64 " does not hold its %" PRIu32 " samples",
                        moof_offset, run->sample_count);
    if (table != NULL && run->sample_count > table->capacity)
        return mp4_stop(scanner, "trun at %" PRIu64 " has %" PRIu32 " samples, room for %zu",
                        moof_offset, run->sample_count, table->capacity);
    /* At most 2^32 samples of at most 2^32 - 1: the sums fit in 64 bits.
     * Without per-sample fields the count costs no bytes, so the totals
     * are multiplied out rather than looped over (up to 2^32 times); a
     * table, when asked for, bounds the loop by its capacity. */
    if (per_sample == 0) {
        run->duration = (uint64_t)run->sample_count * defaults[0];
        run->bytes = (uint64_t)run->sample_count * defaults[1];
        run->first_flags = has_first_flags ? first_flags : defaults[2];
        for (uint32_t i = 0; table != NULL && i < run->sample_count; i++)
            mp4_table_put(table, i, (uint64_t)i * defaults[0], (uint64_t)i * defaults[1],
                          defaults[0], defaults[1], i == 0 ? run->first_flags : defaults[2]);
        return MP4_OK;
    }
    for (uint32_t i = 0; i < run->sample_count; i++) { /* < MP4_SCAN_MAX_MOOF / 4 times */
        uint32_t duration = flags & MP4_TRUN_DURATION ? mp4_box_u32(&cursor) : defaults[0];
        uint32_t size = flags & MP4_TRUN_SIZE ? mp4_box_u32(&cursor) : defaults[1];
        uint32_t sample_flags = flags & MP4_TRUN_FLAGS ? mp4_box_u32(&cursor) : defaults[2];
        if (flags & MP4_TRUN_COMPOSITION)
            mp4_box_skip(&cursor, 4);
        if (i == 0)
            run->first_flags = sample_flags = has_first_flags ? first_flags : sample_flags;
        mp4_table_put(table, i, run->duration, run->bytes, duration, size, sample_flags);
        run->duration += duration;
        run->bytes += size;
    }
    assert(cursor.ok && cursor.at == cursor.size);
    return MP4_OK;
}

/* moof (8.8.4): exactly one mfhd and one traf, which holds exactly one
 * tfhd and one trun and at most one tfdt; other boxes are skipped. The
 * samples go to table when it is not NULL. */
static int mp4_parse_moof(struct mp4_scanner *scanner, const uint8_t *body, size_t size,
                          uint64_t moof_offset, struct mp4_run *run,
                          const struct mp4_sample_table *table)
{
    struct mp4_box_child child, traf = {.body = NULL}, tfhd = {.body = NULL}, trun = {.body = NULL};
    int mfhds = 0, trafs = 0, tfhds = 0, truns = 0, tfdts = 0;
    size_t at = 0;
    int found;
    memset(run, 0, sizeof(*run));
    while ((found = mp4_box_next_child(body, size, &at, &child)) == 1) {
        if (strcmp(child.type, "mfhd") == 0 && mfhds++ == 0) {
            struct mp4_box_cursor cursor = mp4_box_cursor(child.body, child.size);
            mp4_box_skip(&cursor, 4);
            run->sequence = mp4_box_u32(&cursor);
            if (!cursor.ok)
                return mp4_stop(scanner, "bad mfhd at %" PRIu64, moof_offset);
        } else if (strcmp(child.type, "traf") == 0 && trafs++ == 0) {
            traf = child;
        }
    }
    if (found < 0 || mfhds != 1 || trafs != 1)
        return mp4_stop(scanner, "moof at %" PRIu64 " is not one mfhd and one traf", moof_offset);
    at = 0;
    while ((found = mp4_box_next_child(traf.body, traf.size, &at, &child)) == 1) {
        if (strcmp(child.type, "tfhd") == 0 && tfhds++ == 0) {
            tfhd = child;
        } else if (strcmp(child.type, "trun") == 0 && truns++ == 0) {
            trun = child;
        } else if (strcmp(child.type, "tfdt") == 0 && tfdts++ == 0) { /* 8.8.12 */
            struct mp4_box_cursor cursor = mp4_box_cursor(child.body, child.size);
            uint32_t version = mp4_box_u8(&cursor);
            mp4_box_skip(&cursor, 3);
            run->decode_time = version == 1 ? mp4_box_u64(&cursor) : mp4_box_u32(&cursor);
            if (!cursor.ok || version > 1 || cursor.at != cursor.size)
                return mp4_stop(scanner, "bad tfdt at %" PRIu64, moof_offset);
            run->has_decode_time = true;
        }
    }
    if (found < 0 || tfhds != 1 || truns != 1 || tfdts > 1)
        return mp4_stop(scanner, "traf at %" PRIu64 " is not one tfhd, one trun, tfdt",
                        moof_offset);
    uint32_t defaults[3] = {0, 0, 0};
    int step = mp4_parse_tfhd(scanner, &tfhd, moof_offset, run, defaults);
    if (step != MP4_OK)
        return step;
    return mp4_parse_trun(scanner, &trun, moof_offset, defaults, run, table);
}

/* Keep a fragment that passed every check and advance valid_length. */
static int mp4_accept(struct mp4_scanner *scanner, const struct mp4_scan_fragment *fragment)
{
    struct mp4_scan_result *result = scanner->result;
    if (result->fragment_count == scanner->fragment_capacity &&
        scanner->fragment_capacity < MP4_SCAN_MAX_FRAGMENTS) {
        size_t capacity = scanner->fragment_capacity > 0 ? scanner->fragment_capacity * 2 : 64;
        if (capacity > MP4_SCAN_MAX_FRAGMENTS)
            capacity = MP4_SCAN_MAX_FRAGMENTS;
        struct mp4_scan_fragment *fragments =
            realloc(result->fragments, capacity * sizeof(*fragments));
        if (fragments == NULL) {
            mp4_stop(scanner, "out of memory");
            errno = ENOMEM;
            return MP4_FAIL;
        }
        result->fragments = fragments;
        scanner->fragment_capacity = capacity;
    }
    if (result->fragment_count < scanner->fragment_capacity)
        result->fragments[result->fragment_count++] = *fragment;
    else
        result->fragments_dropped++;
    int index = mp4_track_index(result, fragment->track_id);
    assert(index >= 0);
    struct mp4_scan_track *track = &result->tracks[index];
    if (track->samples == 0)
        track->first_decode_time = fragment->base_decode_time;
    track->fragments++;
    track->samples += fragment->sample_count;
    track->bytes += fragment->bytes;
    track->end_decode_time = fragment->base_decode_time + fragment->duration;
    scanner->have_sequence = true;
    scanner->last_sequence = fragment->sequence;
    result->valid_length = fragment->offset + fragment->moof_size + fragment->mdat_size;
    return MP4_OK;
}

/* Where the run's first sample starts in the file: the base (tfhd's, or
 * the moof) moved by trun's signed data offset (8.8.7.1, 8.8.8.1). */
static int mp4_run_data_start(struct mp4_scanner *scanner, const struct mp4_run *run,
                              uint64_t moof_offset, uint64_t *start)
{
    uint64_t data_start = run->base_offset; /* tfhd's explicit base may be anything */
    if (data_start > scanner->source->size)
        return mp4_stop(scanner, "base data offset past the file at %" PRIu64, moof_offset);
    if (run->has_data_offset && run->data_offset >= 0) {
        data_start += (uint64_t)run->data_offset; /* < 2^31 past an offset inside the file */
    } else if (run->has_data_offset) {
        uint64_t back = (uint64_t)(-(int64_t)run->data_offset);
        if (back > data_start)
            return mp4_stop(scanner, "data offset before the file at %" PRIu64, moof_offset);
        data_start -= back;
    }
    *start = data_start;
    return MP4_OK;
}

/* One moof and the mdat that must follow it: parse, check the samples lie
 * inside the mdat, the sequence and decode times increase, then accept. */
static int mp4_scan_fragment(struct mp4_scanner *scanner, const struct mp4_header *moof)
{
    if (!scanner->have_moov)
        return mp4_stop(scanner, "moof at %" PRIu64 " before moov", moof->offset);
    if (moof->size > MP4_SCAN_MAX_MOOF)
        return mp4_stop(scanner, "moof at %" PRIu64 " of %" PRIu64 " bytes", moof->offset,
                        moof->size);
    const uint8_t *body;
    size_t size;
    struct mp4_run run;
    int step = mp4_read_body(scanner, moof, &body, &size);
    if (step != MP4_OK ||
        (step = mp4_parse_moof(scanner, body, size, moof->offset, &run, NULL)) != MP4_OK)
        return step;

    uint64_t mdat_offset = moof->offset + moof->size;
    struct mp4_header mdat;
    if (mdat_offset == scanner->source->size)
        return mp4_stop(scanner, "moof at %" PRIu64 " without its mdat", moof->offset);
    if ((step = mp4_read_header(scanner, mdat_offset, &mdat)) != MP4_OK)
        return step;
    if (strcmp(mdat.type, "mdat") != 0)
        return mp4_stop(scanner, "moof at %" PRIu64 " followed by %s", moof->offset, mdat.type);

    uint64_t data_start;
    if ((step = mp4_run_data_start(scanner, &run, moof->offset, &data_start)) != MP4_OK)
        return step;
    uint64_t payload_start = mdat.offset + mdat.header_size, mdat_end = mdat.offset + mdat.size;
    if (data_start < payload_start || data_start > mdat_end || run.bytes > mdat_end - data_start)
        return mp4_stop(scanner, "samples of the moof at %" PRIu64 " lie outside its mdat",
                        moof->offset);
    if (scanner->have_sequence && run.sequence <= scanner->last_sequence)
        return mp4_stop(scanner, "sequence %" PRIu32 " after %" PRIu32 " at %" PRIu64, run.sequence,
                        scanner->last_sequence, moof->offset);
    const struct mp4_scan_track *track = mp4_scan_find_track(scanner->result, run.track_id);
    uint64_t decode_time = run.has_decode_time ? run.decode_time : track->end_decode_time;
    if (track->samples > 0 && decode_time < track->end_decode_time)
        return mp4_stop(scanner, "decode time goes back in track %" PRIu32 " at %" PRIu64,
                        run.track_id, moof->offset);
    if (run.duration > UINT64_MAX - decode_time)
        return mp4_stop(scanner, "decode time overflows at %" PRIu64, moof->offset);

    struct mp4_scan_fragment fragment = {
        .offset = moof->offset,
        .moof_size = (uint32_t)moof->size,
        .mdat_size = mdat.size,
        .sequence = run.sequence,
        .track_id = run.track_id,
        .base_decode_time = decode_time,
        .duration = run.duration,
        .sample_count = run.sample_count,
        .keyframe = (run.first_flags & MP4_SAMPLE_NON_SYNC) == 0,
        .data_offset = data_start,
        .bytes = run.bytes,
    };
    return mp4_accept(scanner, &fragment);
}

/* ---- entry points ---------------------------------------------------------- */

/* Walk the top-level boxes (see mp4_scan.h). */
int mp4_scan(const struct mp4_scan_source *source, struct mp4_scan_result *result)
{
    if (source == NULL || source->read == NULL || result == NULL) {
        errno = EINVAL;
        return -1;
    }
    memset(result, 0, sizeof(*result));
    result->total_length = source->size;
    struct mp4_scanner scanner = {.source = source, .result = result};
    uint64_t at = 0;
    int step = MP4_OK;
    while (at < source->size && step == MP4_OK) {
        struct mp4_header box;
        if ((step = mp4_read_header(&scanner, at, &box)) != MP4_OK)
            break;
        if (strcmp(box.type, "ftyp") == 0) {
            step = mp4_parse_ftyp(&scanner, &box);
        } else if (strcmp(box.type, "moov") == 0) {
            step = scanner.have_moov ? mp4_stop(&scanner, "second moov at %" PRIu64, at)
                                     : mp4_parse_moov(&scanner, &box);
        } else if (strcmp(box.type, "moof") == 0) {
            step = mp4_scan_fragment(&scanner, &box);
            if (step == MP4_OK)
                at = result->valid_length;
            continue;
        } else if (strcmp(box.type, "mdat") == 0) {
            step = mp4_stop(&scanner, "mdat at %" PRIu64 " without a moof", at);
        } else if (!scanner.have_ftyp) {
            step = mp4_stop(&scanner, "%s box before ftyp", box.type);
        }
        if (step != MP4_OK)
            break;
        at = box.offset + box.size;
        if (scanner.have_moov)
            result->valid_length = at; /* a whole box we have no use for (free, sidx, ...) */
    }
    int saved_errno = errno;
    free(scanner.buffer);
    if (step == MP4_FAIL) {
        errno = saved_errno;
        return -1;
    }
    if (!scanner.have_moov)
        mp4_stop(&scanner, "no moov");
    result->complete = scanner.have_moov && result->valid_length == result->total_length &&
                       result->reason[0] == '\0';
    return 0;
}

ssize_t mp4_scan_pread(int fd, uint64_t offset, void *buffer, size_t size)
{
    size_t done = 0;
    if (offset > INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    while (done < size) {
        size_t chunk = size - done < MP4_SCAN_READ_CHUNK ? size - done : MP4_SCAN_READ_CHUNK;
        ssize_t got = pread(fd, (uint8_t *)buffer + done, chunk, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

/* The mp4_scan_source read over a file descriptor. */
static ssize_t mp4_scan_fd_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    return mp4_scan_pread(*(const int *)context, offset, buffer, size);
}

struct mp4_scan_source mp4_scan_fd_source(int *fd, uint64_t size)
{
    return (struct mp4_scan_source){.read = mp4_scan_fd_read, .context = fd, .size = size};
}

int mp4_scan_fd(int fd, struct mp4_scan_result *result)
{
    struct stat status;
    if (result == NULL) {
        errno = EINVAL;
        return -1;
    }
    memset(result, 0, sizeof(*result));
    if (fstat(fd, &status) != 0) {
        result->io_error = 1;
        snprintf(result->reason, sizeof(result->reason), "fstat: %s", strerror(errno));
        return -1;
    }
    if (!S_ISREG(status.st_mode)) {
        snprintf(result->reason, sizeof(result->reason), "not a regular file");
        errno = EINVAL;
        return -1;
    }
    struct mp4_scan_source source = mp4_scan_fd_source(&fd, (uint64_t)status.st_size);
    return mp4_scan(&source, result);
}

/* Re-read one fragment's moof and list its samples (see mp4_scan.h). */
int mp4_scan_read_samples(const struct mp4_scan_source *source,
                          const struct mp4_scan_result *result, size_t fragment_index,
                          struct mp4_scan_sample *out, size_t capacity, size_t *count_out)
{
    if (count_out != NULL)
        *count_out = 0;
    if (source == NULL || source->read == NULL || result == NULL || count_out == NULL ||
        fragment_index >= result->fragment_count || (out == NULL && capacity > 0)) {
        errno = EINVAL;
        return -1;
    }
    const struct mp4_scan_fragment *fragment = &result->fragments[fragment_index];
    if (fragment->sample_count > capacity) {
        *count_out = fragment->sample_count;
        errno = ERANGE;
        return -1;
    }
    /* The parsers find tracks in, and write their reasons to, a result: a
     * copy of the caller's, which stays untouched. */
    struct mp4_scan_result scratch = *result;
    scratch.fragments = NULL;
    scratch.fragment_count = 0;
    scratch.reason[0] = '\0';
    scratch.io_error = 0;
    struct mp4_scanner scanner = {.source = source, .result = &scratch};
    struct mp4_sample_table table = {.samples = out, .capacity = capacity};
    struct mp4_header moof;
    struct mp4_run run;
    const uint8_t *body;
    size_t size;
    uint64_t data_start = 0;
    int step = fragment->offset < source->size ? mp4_read_header(&scanner, fragment->offset, &moof)
                                               : MP4_STOP;
    if (step == MP4_OK && (strcmp(moof.type, "moof") != 0 || moof.size != fragment->moof_size ||
                           moof.size > MP4_SCAN_MAX_MOOF))
        step = MP4_STOP;
    if (step == MP4_OK)
        step = mp4_read_body(&scanner, &moof, &body, &size);
    if (step == MP4_OK)
        step = mp4_parse_moof(&scanner, body, size, moof.offset, &run, &table);
    if (step == MP4_OK)
        step = mp4_run_data_start(&scanner, &run, moof.offset, &data_start);
    /* The same bytes must say what they said to the scan; else the file changed. */
    if (step == MP4_OK &&
        (run.track_id != fragment->track_id || run.sequence != fragment->sequence ||
         run.sample_count != fragment->sample_count || run.duration != fragment->duration ||
         run.bytes != fragment->bytes || data_start != fragment->data_offset ||
         ((run.first_flags & MP4_SAMPLE_NON_SYNC) == 0) != (fragment->keyframe != 0)))
        step = MP4_STOP;
    int saved_errno = errno;
    free(scanner.buffer);
    if (step != MP4_OK) {
        errno = step == MP4_FAIL ? saved_errno : EINVAL;
        return -1;
    }
    for (uint32_t i = 0; i < run.sample_count; i++) {
        out[i].decode_time += fragment->base_decode_time;
        out[i].offset += data_start;
    }
    *count_out = run.sample_count;
    return 0;
}

const struct mp4_scan_track *mp4_scan_find_track(const struct mp4_scan_result *result,
                                                 uint32_t track_id)
{
    int index = result != NULL ? mp4_track_index(result, track_id) : -1;
    return index >= 0 ? &result->tracks[index] : NULL;
}

void mp4_scan_result_free(struct mp4_scan_result *result)
{
    if (result == NULL)
        return;
    free(result->fragments);
    memset(result, 0, sizeof(*result));
}
