/*
 * replay_file.c - load an H.264 Annex B file and split it into access units
 * (see replay_file.h). Main thread, at start-up.
 *
 * The split follows H.264 7.4.1.2.3 as far as an encoder's own output needs:
 * an access unit ends before an AUD, SPS, PPS, SEI (or types 14..18), or
 * before a slice whose first_mb_in_slice is 0, once it holds a slice. The
 * file is our own bench input, but it is still checked: a unit too large for
 * the link or an IDR without parameter sets is refused with a reason here
 * rather than by the hub later.
 */
#include "replay/replay_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error_text.h"
#include "common/link_protocol.h"

#define REPLAY_NAL_SLICE 1
#define REPLAY_NAL_IDR   5
#define REPLAY_NAL_SPS   7
#define REPLAY_NAL_PPS   8

/* The access unit being gathered while splitting. */
struct replay_split {
    size_t begin;
    int has_slice, keyframe, has_sps, has_pps;
};

/* Offset of the next 00 00 01 at or after from; size if there is none. */
static size_t replay_file_find_start_code(const uint8_t *data, size_t size, size_t from)
{
    while (from + 3 <= size) {
        const uint8_t *one = memchr(data + from + 2, 1, size - from - 2);
        size_t at;
        if (one == NULL)
            return size;
        at = (size_t)(one - data);
        if (data[at - 1] == 0 && data[at - 2] == 0)
            return at - 2;
        from = at - 1;
    }
    return size;
}

/* Non-VCL NAL types that may only come first in an access unit. */
static int replay_file_starts_unit(int type)
{
    return type == 6 || type == 7 || type == 8 || type == 9 || (type >= 14 && type <= 18);
}

/* Append [split->begin, end) to the unit table, growing it. 0 or -1. */
static int replay_file_add_unit(struct replay_file *file, size_t *capacity,
                                const struct replay_split *split, size_t end, char *error,
                                size_t error_size)
{
    struct replay_unit *unit;

    if (split->keyframe && (!split->has_sps || !split->has_pps)) {
        error_text_set(error, error_size,
                       "the IDR at byte %zu has no SPS/PPS (encode with x264's "
                       "repeat-headers=1)",
                       split->begin);
        return -1;
    }
    if (end - split->begin > LINK_MAX_MESSAGE_SIZE - LINK_HEADER_SIZE) {
        error_text_set(error, error_size, "the access unit at byte %zu is too large for the link",
                       split->begin);
        return -1;
    }
    if (file->unit_count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 1024;
        struct replay_unit *units = realloc(file->units, grown * sizeof(*units));
        if (units == NULL) {
            error_text_set(error, error_size, "out of memory");
            return -1;
        }
        file->units = units;
        *capacity = grown;
    }
    unit = &file->units[file->unit_count++];
    unit->offset = split->begin;
    unit->size = end - split->begin;
    unit->keyframe = split->keyframe;
    return 0;
}

/* Split file->data into file->units. 0 or -1 with a reason. */
static int replay_file_split(struct replay_file *file, char *error, size_t error_size)
{
    const uint8_t *data = file->data;
    struct replay_split split = {0};
    size_t capacity = 0, position;

    position = replay_file_find_start_code(data, file->size, 0);
    if (position > 1 || (position == 1 && data[0] != 0) || position >= file->size) {
        error_text_set(error, error_size, "not an H.264 Annex B stream (no leading start code)");
        return -1;
    }
    while (position < file->size) {
        size_t begin = position > 0 && data[position - 1] == 0 ? position - 1 : position;
        size_t header = position + 3;
        size_t next = replay_file_find_start_code(data, file->size, header);
        int type, slice, first_slice;

        if (header >= next) {
            error_text_set(error, error_size, "empty NAL unit at byte %zu", position);
            return -1;
        }
        type = data[header] & 0x1f;
        slice = type == REPLAY_NAL_SLICE || type == REPLAY_NAL_IDR;
        /* first_mb_in_slice is ue(v): 0 is the single bit 1. */
        first_slice = slice && header + 1 < next && (data[header + 1] & 0x80) != 0;
        if (split.has_slice && (first_slice || replay_file_starts_unit(type))) {
            if (replay_file_add_unit(file, &capacity, &split, begin, error, error_size) != 0)
                return -1;
            memset(&split, 0, sizeof(split));
            split.begin = begin;
        }
        split.has_slice |= slice;
        split.keyframe |= type == REPLAY_NAL_IDR;
        split.has_sps |= type == REPLAY_NAL_SPS;
        split.has_pps |= type == REPLAY_NAL_PPS;
        position = next;
    }
    /* Parameter sets or SEI after the last slice have no picture: left out. */
    if (split.has_slice &&
        replay_file_add_unit(file, &capacity, &split, file->size, error, error_size) != 0)
        return -1;
    if (file->unit_count == 0 || !file->units[0].keyframe) {
        error_text_set(error, error_size, "the stream must start with an IDR access unit");
        return -1;
    }
    return 0;
}

int replay_file_load(const char *path, struct replay_file *file, char *error, size_t error_size)
{
    FILE *stream = NULL;
    struct stat status;
    int rc = -1;

    memset(file, 0, sizeof(*file));
    stream = fopen(path, "rbe");
    if (stream == NULL || fstat(fileno(stream), &status) != 0) {
        error_text_set(error, error_size, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(status.st_mode) || status.st_size <= 0 ||
        (uint64_t)status.st_size > REPLAY_FILE_MAX_BYTES) {
        error_text_set(error, error_size, "%s: not a regular file of 1 byte to %u MiB", path,
                       REPLAY_FILE_MAX_BYTES >> 20);
        goto out;
    }
    file->size = (size_t)status.st_size;
    file->data = malloc(file->size);
    if (file->data == NULL) {
        error_text_set(error, error_size, "out of memory for %zu bytes", file->size);
        goto out;
    }
    if (fread(file->data, 1, file->size, stream) != file->size) {
        error_text_set(error, error_size, "%s: short read", path);
        goto out;
    }
    if (replay_file_split(file, error, error_size) != 0)
        goto out;
    rc = 0;
out:
    if (stream != NULL)
        fclose(stream);
    if (rc != 0)
        replay_file_free(file);
    return rc;
}

size_t replay_file_next_keyframe(const struct replay_file *file, size_t index)
{
    for (size_t step = 0; step < file->unit_count; step++) {
        size_t candidate = (index + step) % file->unit_count;
        if (file->units[candidate].keyframe)
            return candidate;
    }
    return 0; /* unreachable: units[0] is a keyframe */
}

void replay_file_free(struct replay_file *file)
{
    free(file->data);
    free(file->units);
    memset(file, 0, sizeof(*file));
}
