/*
 * segment_index.c - compact keyframe index of a recorded segment (see
 * segment_index.h for the format), in the spirit of Moonfire NVR's
 * varint-delta sample index: small enough to live in a SQLite row, exact
 * enough to seek to any keyframe without reading the file.
 *
 * The blob is read from the database, which a crash, a bug or an editing
 * administrator may have damaged, so decoding is strict and bounded: every
 * read is checked against the blob's size, counts against what the bytes
 * could hold, and sums against overflow.
 *
 * Threads: pure functions; any thread.
 * Ownership: nothing is kept; segment_index_decode() returns a malloc'd
 * array that the caller frees.
 */
#include "recording/segment_index.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Bytes per entry at least: two one-byte varints. */
#define SEGMENT_INDEX_MIN_ENTRY 2

/* A cursor over an encoded blob being validated entry by entry. */
struct segment_index_reader {
    const uint8_t *blob;
    size_t size, at;
    uint64_t count, done;
    struct segment_index_entry last;
};

/* Append value as a shortest-form LEB128 varint at out[*at]; the caller has
 * made sure SEGMENT_INDEX_MAX_VARINT bytes fit. */
static void segment_index_put_varint(uint8_t *out, size_t *at, uint64_t value)
{
    do {
        uint8_t byte = (uint8_t)(value & 0x7F);
        value >>= 7;
        out[(*at)++] = byte | (value != 0 ? 0x80 : 0);
    } while (value != 0);
}

/* Bytes of value's varint: one per started group of 7 bits. */
static size_t segment_index_varint_size(uint64_t value)
{
    size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        size++;
    }
    return size;
}

/* Read one varint at data[*at]. Refuses reading past size, more than 10
 * bytes, bits beyond 64 and non-shortest forms (a final zero byte after
 * others). Returns 0 with *value set, -1 if malformed. */
static int segment_index_get_varint(const uint8_t *data, size_t size, size_t *at, uint64_t *value)
{
    uint64_t result = 0;
    for (int i = 0; i < SEGMENT_INDEX_MAX_VARINT; i++) {
        if (*at >= size)
            return -1;
        uint8_t byte = data[(*at)++];
        if (i == SEGMENT_INDEX_MAX_VARINT - 1 && byte > 1)
            return -1; /* only bit 63 is left for the tenth byte */
        result |= (uint64_t)(byte & 0x7F) << (7 * i);
        if ((byte & 0x80) == 0) {
            if (byte == 0 && i > 0)
                return -1;
            *value = result;
            return 0;
        }
    }
    return -1;
}

size_t segment_index_max_size(size_t count)
{
    if (count > SEGMENT_INDEX_MAX_ENTRIES)
        return 0;
    return 1 + SEGMENT_INDEX_MAX_VARINT + count * 2 * SEGMENT_INDEX_MAX_VARINT;
}

/* Encode the entries into out (see segment_index.h). Validation happens
 * before anything is written, so a failure leaves out as it was. */
int segment_index_encode(const struct segment_index_entry *entries, size_t count, uint8_t *out,
                         size_t out_size, size_t *size_out)
{
    if ((entries == NULL && count > 0) || out == NULL || size_out == NULL ||
        count > SEGMENT_INDEX_MAX_ENTRIES) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 1; i < count; i++) {
        if (entries[i].decode_time <= entries[i - 1].decode_time ||
            entries[i].offset <= entries[i - 1].offset) {
            errno = EINVAL;
            return -1;
        }
    }
    /* Exact size first: out_size may be smaller than the worst case. */
    size_t needed = 1 + segment_index_varint_size(count);
    struct segment_index_entry previous = {0};
    for (size_t i = 0; i < count; i++) {
        needed += segment_index_varint_size(entries[i].decode_time - previous.decode_time);
        needed += segment_index_varint_size(entries[i].offset - previous.offset);
        previous = entries[i];
    }
    if (needed > out_size) {
        errno = ERANGE;
        return -1;
    }
    size_t at = 0;
    out[at++] = SEGMENT_INDEX_VERSION;
    segment_index_put_varint(out, &at, count);
    previous = (struct segment_index_entry){0};
    for (size_t i = 0; i < count; i++) {
        segment_index_put_varint(out, &at, entries[i].decode_time - previous.decode_time);
        segment_index_put_varint(out, &at, entries[i].offset - previous.offset);
        previous = entries[i];
    }
    assert(at == needed);
    *size_out = at;
    return 0;
}

/* Start reading a blob: version and count. 0 ok, -1 malformed. */
static int segment_index_reader_open(struct segment_index_reader *reader, const uint8_t *blob,
                                     size_t size)
{
    *reader = (struct segment_index_reader){.blob = blob, .size = size};
    if (blob == NULL || size < 2 || blob[0] != SEGMENT_INDEX_VERSION)
        return -1;
    reader->at = 1;
    if (segment_index_get_varint(blob, size, &reader->at, &reader->count) != 0)
        return -1;
    if (reader->count > SEGMENT_INDEX_MAX_ENTRIES ||
        reader->count > (size - reader->at) / SEGMENT_INDEX_MIN_ENTRY)
        return -1;
    return 0;
}

/* Read the next entry into *entry. Returns 1 with an entry, 0 at the end
 * (the blob must then be fully consumed), -1 malformed. */
static int segment_index_reader_next(struct segment_index_reader *reader,
                                     struct segment_index_entry *entry)
{
    if (reader->done == reader->count)
        return reader->at == reader->size ? 0 : -1;
    uint64_t time_delta, offset_delta;
    if (segment_index_get_varint(reader->blob, reader->size, &reader->at, &time_delta) != 0 ||
        segment_index_get_varint(reader->blob, reader->size, &reader->at, &offset_delta) != 0)
        return -1;
    if (reader->done > 0 && (time_delta == 0 || offset_delta == 0))
        return -1;
    if (time_delta > UINT64_MAX - reader->last.decode_time ||
        offset_delta > UINT64_MAX - reader->last.offset)
        return -1;
    reader->last.decode_time += time_delta;
    reader->last.offset += offset_delta;
    reader->done++;
    *entry = reader->last;
    return 1;
}

/* Decode a whole blob into a malloc'd array (see segment_index.h). */
int segment_index_decode(const uint8_t *blob, size_t size, struct segment_index_entry **entries_out,
                         size_t *count_out)
{
    struct segment_index_entry *entries = NULL;
    struct segment_index_reader reader;
    int saved_errno = EINVAL;

    if (entries_out == NULL || count_out == NULL) {
        errno = EINVAL;
        return -1;
    }
    *entries_out = NULL;
    *count_out = 0;
    if (segment_index_reader_open(&reader, blob, size) != 0)
        goto fail;
    if (reader.count > 0) {
        entries = malloc((size_t)reader.count * sizeof(*entries));
        if (entries == NULL) {
            saved_errno = ENOMEM;
            goto fail;
        }
    }
    size_t count = 0;
    int result;
    struct segment_index_entry entry;
    while ((result = segment_index_reader_next(&reader, &entry)) == 1) {
        assert(count < reader.count);
        entries[count++] = entry;
    }
    if (result != 0)
        goto fail;
    *entries_out = entries;
    *count_out = count;
    return 0;

fail:
    free(entries);
    errno = saved_errno;
    return -1;
}

/* Binary search for the last entry with decode_time <= the given time. */
int segment_index_find(const struct segment_index_entry *entries, size_t count,
                       uint64_t decode_time, struct segment_index_entry *out)
{
    if (entries == NULL || count == 0 || out == NULL || decode_time < entries[0].decode_time)
        return 0;
    size_t low = 0, high = count; /* answer in [low, high) */
    while (high - low > 1) {
        size_t middle = low + (high - low) / 2;
        if (entries[middle].decode_time <= decode_time)
            low = middle;
        else
            high = middle;
    }
    *out = entries[low];
    return 1;
}

/* Walk the whole blob, remembering the last entry at or before the time. */
int segment_index_lookup(const uint8_t *blob, size_t size, uint64_t decode_time,
                         struct segment_index_entry *out)
{
    struct segment_index_reader reader;
    struct segment_index_entry entry, best = {0};
    bool found = false;
    int result;

    if (out == NULL || segment_index_reader_open(&reader, blob, size) != 0) {
        errno = EINVAL;
        return -1;
    }
    while ((result = segment_index_reader_next(&reader, &entry)) == 1) {
        if (entry.decode_time <= decode_time) {
            best = entry;
            found = true;
        }
    }
    if (result != 0) {
        errno = EINVAL;
        return -1;
    }
    if (found)
        *out = best;
    return found ? 1 : 0;
}
