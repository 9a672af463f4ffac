/*
 * fuzz_mp4.c - libFuzzer harness for the fragmented MP4 scanner
 * (appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c and its box reader
 * mp4_box.c), fed what a damaged disk or a crash could leave in a segment file.
 *
 * Each input is scanned through the read callback (the bytes are the whole
 * file). Invariants: the scan succeeds (a memory source never fails) and
 * says why whenever it is not complete; valid_length <= total_length; the
 * init comes first and fragments are in file order, without overlapping,
 * each inside valid_length with its samples inside its mdat, of a known
 * track; per-track totals add up; and the repair is idempotent: the prefix
 * [0, valid_length) scans as complete with the same fragments, which is
 * what mp4_repair_truncate() relies on. Then the sample table of every
 * fragment is read back (mp4_scan_read_samples(), what the export uses):
 * it must list exactly the fragment's samples, back to back in time and
 * in the file, adding up to its totals; a table too small is refused with
 * ERANGE and the count it needs.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning.
 * FUZZ_SOURCES: appliance/recording/mp4_scan.c appliance/recording/mp4_scan_init.c
 * FUZZ_SOURCES: appliance/recording/mp4_box.c appliance/media/h264.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "recording/mp4_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_memory {
    const uint8_t *data;
    size_t size;
};

static ssize_t fuzz_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct fuzz_memory *memory = context;
    FUZZ_CHECK(size > 0 && size <= MP4_SCAN_MAX_MOOV);
    FUZZ_CHECK(offset < memory->size && size <= memory->size - offset); /* never past the end */
    memcpy(buffer, memory->data + offset, size);
    return (ssize_t)size;
}

static void fuzz_scan(const uint8_t *data, size_t size, struct mp4_scan_result *result)
{
    struct fuzz_memory memory = {.data = data, .size = size};
    struct mp4_scan_source source = {.read = fuzz_read, .context = &memory, .size = size};
    FUZZ_CHECK(mp4_scan(&source, result) == 0);
}

/* Everything a result promises about itself. */
static void fuzz_check_result(const struct mp4_scan_result *result, size_t size)
{
    FUZZ_CHECK(result->total_length == size);
    FUZZ_CHECK(result->valid_length <= result->total_length);
    FUZZ_CHECK(!result->io_error);
    size_t reason = strnlen(result->reason, sizeof(result->reason));
    FUZZ_CHECK(reason < sizeof(result->reason));
    FUZZ_CHECK(result->complete ==
               (result->valid_length == size && reason == 0 && result->init_length > 0));
    FUZZ_CHECK(result->complete || reason > 0);
    FUZZ_CHECK(result->init_length <= result->valid_length);
    FUZZ_CHECK(result->init_length > 0 ||
               (result->valid_length == 0 && result->fragment_count == 0));
    FUZZ_CHECK(result->track_count >= 0 && result->track_count <= MP4_SCAN_MAX_TRACKS);
    FUZZ_CHECK(result->fragments_dropped == 0); /* inputs are far too small */

    uint64_t samples[MP4_SCAN_MAX_TRACKS] = {0};
    for (int i = 0; i < result->track_count; i++) {
        const struct mp4_scan_track *track = &result->tracks[i];
        FUZZ_CHECK(track->track_id != 0 && track->timescale != 0);
        FUZZ_CHECK(mp4_scan_find_track(result, track->track_id) == track);
        FUZZ_CHECK(track->sps_size <= H264_MAX_PARAMETER_SET);
        FUZZ_CHECK(track->pps_size <= H264_MAX_PARAMETER_SET);
        FUZZ_CHECK(strlen(track->handler) <= 4 && strlen(track->sample_entry) <= 4);
        FUZZ_CHECK(track->samples == 0 || track->end_decode_time >= track->first_decode_time);
    }
    uint64_t end = result->init_length;
    for (size_t i = 0; i < result->fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &result->fragments[i];
        FUZZ_CHECK(fragment->offset >= end);
        FUZZ_CHECK(fragment->moof_size >= 8 && fragment->moof_size <= MP4_SCAN_MAX_MOOF);
        FUZZ_CHECK(fragment->mdat_size >= 8);
        FUZZ_CHECK(fragment->mdat_size <= result->valid_length - fragment->offset);
        FUZZ_CHECK(fragment->moof_size <=
                   result->valid_length - fragment->offset - fragment->mdat_size);
        end = fragment->offset + fragment->moof_size + fragment->mdat_size;
        FUZZ_CHECK(fragment->data_offset >= fragment->offset + fragment->moof_size + 8);
        FUZZ_CHECK(fragment->data_offset <= end && fragment->bytes <= end - fragment->data_offset);
        FUZZ_CHECK(fragment->sample_count >= 1);
        FUZZ_CHECK(fragment->keyframe == 0 || fragment->keyframe == 1);
        const struct mp4_scan_track *track = mp4_scan_find_track(result, fragment->track_id);
        FUZZ_CHECK(track != NULL);
        FUZZ_CHECK(fragment->base_decode_time >= track->first_decode_time);
        FUZZ_CHECK(fragment->duration <= track->end_decode_time - fragment->base_decode_time);
        FUZZ_CHECK(i == 0 || fragment->sequence > result->fragments[i - 1].sequence);
        samples[track - result->tracks] += fragment->sample_count;
    }
    FUZZ_CHECK(end <= result->valid_length);
    for (int i = 0; i < result->track_count; i++)
        FUZZ_CHECK(samples[i] == result->tracks[i].samples);
}

/* Field by field: memcmp() would compare the struct's padding too, which
 * holds whatever the stack did. */
static int fuzz_same_fragment(const struct mp4_scan_fragment *a, const struct mp4_scan_fragment *b)
{
    return a->offset == b->offset && a->moof_size == b->moof_size && a->mdat_size == b->mdat_size &&
           a->sequence == b->sequence && a->track_id == b->track_id &&
           a->base_decode_time == b->base_decode_time && a->duration == b->duration &&
           a->sample_count == b->sample_count && a->keyframe == b->keyframe &&
           a->data_offset == b->data_offset && a->bytes == b->bytes;
}

/* Fragments with more samples than this are only checked for ERANGE:
 * default-size runs can claim 2^32 samples in a few bytes. */
#define FUZZ_MAX_SAMPLES 4096

/* Read back the samples of every fragment and check them against it. */
static void fuzz_check_samples(const uint8_t *data, size_t size,
                               const struct mp4_scan_result *result)
{
    struct fuzz_memory memory = {.data = data, .size = size};
    struct mp4_scan_source source = {.read = fuzz_read, .context = &memory, .size = size};
    static struct mp4_scan_sample samples[FUZZ_MAX_SAMPLES];
    for (size_t i = 0; i < result->fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &result->fragments[i];
        size_t count = 0, fits = fragment->sample_count <= FUZZ_MAX_SAMPLES
                                     ? fragment->sample_count - 1
                                     : FUZZ_MAX_SAMPLES;
        FUZZ_CHECK(mp4_scan_read_samples(&source, result, i, samples, fits, &count) == -1);
        FUZZ_CHECK(errno == ERANGE && count == fragment->sample_count);
        if (fragment->sample_count > FUZZ_MAX_SAMPLES)
            continue;
        FUZZ_CHECK(mp4_scan_read_samples(&source, result, i, samples, fragment->sample_count,
                                         &count) == 0);
        FUZZ_CHECK(count == fragment->sample_count);
        uint64_t time = fragment->base_decode_time, offset = fragment->data_offset;
        for (size_t j = 0; j < count; j++) {
            FUZZ_CHECK(samples[j].decode_time == time && samples[j].offset == offset);
            FUZZ_CHECK(samples[j].keyframe == 0 || samples[j].keyframe == 1);
            time += samples[j].duration;
            offset += samples[j].size;
        }
        FUZZ_CHECK(samples[0].keyframe == fragment->keyframe);
        FUZZ_CHECK(time - fragment->base_decode_time == fragment->duration);
        FUZZ_CHECK(offset - fragment->data_offset == fragment->bytes);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mp4_scan_result result, again;
    fuzz_scan(data, size, &result);
    fuzz_check_result(&result, size);
    fuzz_check_samples(data, size, &result);
    if (result.valid_length > 0 && !result.complete) {
        /* What a repair would leave must scan whole, with the same content. */
        fuzz_scan(data, (size_t)result.valid_length, &again);
        fuzz_check_result(&again, (size_t)result.valid_length);
        FUZZ_CHECK(again.complete);
        FUZZ_CHECK(again.fragment_count == result.fragment_count);
        FUZZ_CHECK(again.init_length == result.init_length);
        FUZZ_CHECK(again.track_count == result.track_count);
        for (size_t i = 0; i < result.fragment_count; i++)
            FUZZ_CHECK(fuzz_same_fragment(&again.fragments[i], &result.fragments[i]));
        mp4_scan_result_free(&again);
    }
    mp4_scan_result_free(&result);
    return 0;
}
