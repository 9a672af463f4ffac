/*
 * byte_buffer.h - a growable byte buffer with a cap (the idea of curl's
 * dynbuf): the largest size is set when the buffer is initialised, and an
 * append that would pass it fails with BYTE_BUFFER_TOO_BIG instead of
 * growing without bound. A failed append leaves the bytes already in the
 * buffer as they were and makes the buffer fail every later append until
 * byte_buffer_reset(), so a writer may append a whole structure and check
 * byte_buffer_error() once at the end. The media writers (fMP4, MP4 export)
 * build their boxes in these.
 *
 * The fields of struct byte_buffer are private: read through
 * byte_buffer_data() and byte_buffer_length(), write through the functions.
 * Threads: one thread per buffer at a time. Ownership: the buffer owns its
 * memory; byte_buffer_free() releases it.
 */
#ifndef DOORSTEP_BYTE_BUFFER_H
#define DOORSTEP_BYTE_BUFFER_H

#include <stddef.h>
#include <stdint.h>

enum byte_buffer_status {
    BYTE_BUFFER_OK = 0,
    BYTE_BUFFER_TOO_BIG = -1,       /* the append would pass the cap */
    BYTE_BUFFER_OUT_OF_MEMORY = -2, /* growing failed */
};

struct byte_buffer {
    uint8_t *private_bytes;
    size_t private_length, private_allocated, private_max;
    enum byte_buffer_status private_status; /* the first failure since reset */
};

/* Start an empty buffer that may hold up to max bytes; allocates nothing. */
void byte_buffer_init(struct byte_buffer *buffer, size_t max);

/* Release the memory; the buffer is empty again, with the same cap. */
void byte_buffer_free(struct byte_buffer *buffer);

/* Empty the buffer and clear its failure; keeps its memory for reuse. */
void byte_buffer_reset(struct byte_buffer *buffer);

/* Append count bytes (count zero bytes for _zeros). BYTE_BUFFER_OK, or the
 * failure (this one or an earlier one since reset) with nothing appended. */
enum byte_buffer_status byte_buffer_add(struct byte_buffer *buffer, const void *bytes,
                                        size_t count);
enum byte_buffer_status byte_buffer_add_zeros(struct byte_buffer *buffer, size_t count);

/* Make room for count more bytes without adding them, so the appends that
 * follow do not reallocate. BYTE_BUFFER_OK, or the failure (which, like an
 * append's, sticks until reset). */
enum byte_buffer_status byte_buffer_reserve(struct byte_buffer *buffer, size_t count);

/* Overwrite count bytes at offset, all already in the buffer (a length field
 * written before its value was known). BYTE_BUFFER_OK; BYTE_BUFFER_TOO_BIG if
 * the range is not inside the buffer (nothing written); the earlier failure
 * if the buffer has failed. */
enum byte_buffer_status byte_buffer_patch(struct byte_buffer *buffer, size_t offset,
                                          const void *bytes, size_t count);

/* Shorten the buffer to its first length bytes (no-op if it is not longer);
 * keeps its memory and its failure. */
void byte_buffer_truncate(struct byte_buffer *buffer, size_t length);

/* The bytes (NULL while nothing was ever appended) and how many there are.
 * The pointer is valid until the next append, reset or free. */
const uint8_t *byte_buffer_data(const struct byte_buffer *buffer);
size_t byte_buffer_length(const struct byte_buffer *buffer);

/* BYTE_BUFFER_OK, or the first failure since the last reset. */
enum byte_buffer_status byte_buffer_error(const struct byte_buffer *buffer);

#endif
