/*
 * segment_index.h - the keyframe index of one recorded segment, encoded
 * compactly for a SQLite BLOB, and lookups in it.
 *
 * An entry is a keyframe: its decode time (in the video track's timescale,
 * 90 kHz) and the byte offset of the moof that starts with it. Playing or
 * exporting from an instant starts at the entry at or before that instant.
 *
 * Encoding (version 1): one version byte (1), a varint entry count, then per
 * entry two varints: decode time and offset, as deltas from the previous
 * entry (the first entry's deltas are from 0). Varints are unsigned LEB128
 * (7 bits per byte, low group first, at most 10 bytes) in their shortest
 * form. Entries are strictly increasing in both fields, so every delta after
 * the first is at least 1. A decoder accepts exactly one encoding per index:
 * overlong varints, zero deltas, sums past 2^64, a count that disagrees with
 * the data and trailing bytes are all refused.
 *
 * Pure functions; any thread. Buffers belong to the caller, except the array
 * segment_index_decode() allocates, which the caller frees with free().
 */
#ifndef DOORSTEP_SEGMENT_INDEX_H
#define DOORSTEP_SEGMENT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define SEGMENT_INDEX_VERSION     1
#define SEGMENT_INDEX_MAX_ENTRIES (1u << 20) /* a keyframe a second for 12 days */
#define SEGMENT_INDEX_MAX_VARINT  10         /* bytes of a 64-bit varint */

struct segment_index_entry {
    uint64_t decode_time; /* of the keyframe, video timescale */
    uint64_t offset;      /* byte offset of its moof in the segment file */
};

/* Bytes segment_index_encode() needs at most for count entries; 0 if count
 * exceeds SEGMENT_INDEX_MAX_ENTRIES. */
size_t segment_index_max_size(size_t count);

/*
 * Encode count entries (strictly increasing in decode time and offset) into
 * out. Returns 0 with *size_out set, or -1 (errno EINVAL for entries out of
 * order, too many or a NULL argument; ERANGE if out_size is too small). Out
 * is untouched beyond *size_out.
 */
int segment_index_encode(const struct segment_index_entry *entries, size_t count, uint8_t *out,
                         size_t out_size, size_t *size_out);

/*
 * Decode a blob. Returns 0 with *entries_out (malloc'd, the caller frees it;
 * NULL when the index is empty) and *count_out, or -1 with errno EINVAL
 * (malformed blob) or ENOMEM. Outputs are NULL/0 on failure.
 */
int segment_index_decode(const uint8_t *blob, size_t size, struct segment_index_entry **entries_out,
                         size_t *count_out);

/*
 * The keyframe at or before decode_time in sorted entries (binary search).
 * Returns 1 with *out filled, 0 if the index is empty or decode_time is
 * before its first keyframe.
 */
int segment_index_find(const struct segment_index_entry *entries, size_t count,
                       uint64_t decode_time, struct segment_index_entry *out);

/*
 * The same lookup directly on an encoded blob, without allocating. The whole
 * blob is validated first. Returns 1 found, 0 none, -1 malformed (EINVAL).
 */
int segment_index_lookup(const uint8_t *blob, size_t size, uint64_t decode_time,
                         struct segment_index_entry *out);

#endif
