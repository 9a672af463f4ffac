/*
 * byte_buffer.c - the capped growable byte buffer (see byte_buffer.h).
 *
 * Memory grows by doubling from BYTE_BUFFER_FIRST_ALLOCATION, never past the
 * cap. Threads: one thread per buffer at a time. Ownership: the buffer's
 * memory is its own until byte_buffer_free().
 */
#include "common/byte_buffer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BYTE_BUFFER_FIRST_ALLOCATION 4096

/* See byte_buffer.h. */
void byte_buffer_init(struct byte_buffer *buffer, size_t max)
{
    memset(buffer, 0, sizeof(*buffer));
    buffer->private_max = max;
}

/* See byte_buffer.h. */
void byte_buffer_free(struct byte_buffer *buffer)
{
    size_t max = buffer->private_max;
    free(buffer->private_bytes);
    byte_buffer_init(buffer, max);
}

/* See byte_buffer.h. */
void byte_buffer_reset(struct byte_buffer *buffer)
{
    buffer->private_length = 0;
    buffer->private_status = BYTE_BUFFER_OK;
}

/* See byte_buffer.h. */
enum byte_buffer_status byte_buffer_reserve(struct byte_buffer *buffer, size_t count)
{
    if (buffer->private_status != BYTE_BUFFER_OK)
        return buffer->private_status;
    if (count > buffer->private_max || buffer->private_length > buffer->private_max - count) {
        buffer->private_status = BYTE_BUFFER_TOO_BIG;
        return BYTE_BUFFER_TOO_BIG;
    }
    size_t needed = buffer->private_length + count;
    if (needed <= buffer->private_allocated)
        return BYTE_BUFFER_OK;
    size_t allocated =
        buffer->private_allocated > 0 ? buffer->private_allocated : BYTE_BUFFER_FIRST_ALLOCATION;
    while (allocated < needed && allocated <= SIZE_MAX / 2)
        allocated *= 2;
    if (allocated > buffer->private_max) /* needed <= max: still enough */
        allocated = buffer->private_max;
    uint8_t *bytes = realloc(buffer->private_bytes, allocated);
    if (bytes == NULL) {
        buffer->private_status = BYTE_BUFFER_OUT_OF_MEMORY;
        return BYTE_BUFFER_OUT_OF_MEMORY;
    }
    buffer->private_bytes = bytes;
    buffer->private_allocated = allocated;
    return BYTE_BUFFER_OK;
}

/* Make room for count more bytes, count them in and return where they go;
 * NULL when the buffer failed (its bytes are then unchanged). */
static uint8_t *byte_buffer_extend(struct byte_buffer *buffer, size_t count)
{
    if (byte_buffer_reserve(buffer, count) != BYTE_BUFFER_OK)
        return NULL;
    uint8_t *at = buffer->private_bytes + buffer->private_length;
    buffer->private_length += count;
    return at;
}

/* See byte_buffer.h. */
enum byte_buffer_status byte_buffer_add(struct byte_buffer *buffer, const void *bytes, size_t count)
{
    if (count == 0)
        return buffer->private_status;
    uint8_t *at = byte_buffer_extend(buffer, count);
    if (at == NULL)
        return buffer->private_status;
    memcpy(at, bytes, count);
    return BYTE_BUFFER_OK;
}

/* See byte_buffer.h. */
enum byte_buffer_status byte_buffer_add_zeros(struct byte_buffer *buffer, size_t count)
{
    if (count == 0)
        return buffer->private_status;
    uint8_t *at = byte_buffer_extend(buffer, count);
    if (at == NULL)
        return buffer->private_status;
    memset(at, 0, count);
    return BYTE_BUFFER_OK;
}

/* See byte_buffer.h. */
enum byte_buffer_status byte_buffer_patch(struct byte_buffer *buffer, size_t offset,
                                          const void *bytes, size_t count)
{
    if (buffer->private_status != BYTE_BUFFER_OK)
        return buffer->private_status;
    if (offset > buffer->private_length || count > buffer->private_length - offset)
        return BYTE_BUFFER_TOO_BIG;
    if (count > 0)
        memcpy(buffer->private_bytes + offset, bytes, count);
    return BYTE_BUFFER_OK;
}

/* See byte_buffer.h. */
void byte_buffer_truncate(struct byte_buffer *buffer, size_t length)
{
    if (length < buffer->private_length)
        buffer->private_length = length;
}

/* See byte_buffer.h. */
const uint8_t *byte_buffer_data(const struct byte_buffer *buffer)
{
    return buffer->private_bytes;
}

/* See byte_buffer.h. */
size_t byte_buffer_length(const struct byte_buffer *buffer)
{
    return buffer->private_length;
}

/* See byte_buffer.h. */
enum byte_buffer_status byte_buffer_error(const struct byte_buffer *buffer)
{
    return buffer->private_status;
}
