/*
 * reply_clip.c - walking and checking the stored form of a quick reply
 * (reply_clip.h). Pure functions; any thread.
 */
#include "common/reply_clip.h"

/* See reply_clip.h. */
int reply_clip_next(const uint8_t *data, size_t size, size_t *offset, const uint8_t **packet,
                    size_t *packet_size)
{
    size_t at = *offset, length;

    if (at == size)
        return 0;
    if (at > size || size - at < 2)
        return -1;
    length = ((size_t)data[at] << 8) | data[at + 1];
    if (length == 0 || length > REPLY_CLIP_MAX_PACKET_SIZE || size - at - 2 < length)
        return -1;
    *packet = data + at + 2;
    *packet_size = length;
    *offset = at + 2 + length;
    return 1;
}

/* See reply_clip.h. */
int reply_clip_validate(const uint8_t *data, size_t size)
{
    const uint8_t *packet;
    size_t offset = 0, packet_size;
    int count = 0, step;

    if (data == NULL || size == 0 || size > REPLY_CLIP_MAX_BYTES)
        return -1;
    while ((step = reply_clip_next(data, size, &offset, &packet, &packet_size)) == 1) {
        if (++count > REPLY_CLIP_MAX_PACKETS)
            return -1;
    }
    return step == 0 ? count : -1;
}
