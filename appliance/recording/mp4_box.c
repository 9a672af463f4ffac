/*
 * mp4_box.c - bounded field and child-box reading for ISO BMFF boxes in
 * memory (see mp4_box.h). Every length comes from untrusted bytes, so each
 * is compared with what is left of its parent, with the subtraction on the
 * side that cannot wrap.
 *
 * Threads: pure functions; any thread.
 * Ownership: nothing is allocated or kept.
 */
#include "recording/mp4_box.h"

#include <string.h>

struct mp4_box_cursor mp4_box_cursor(const uint8_t *data, size_t size)
{
    return (struct mp4_box_cursor){.data = data, .size = size, .ok = data != NULL || size == 0};
}

/* Read bytes (1..8) as a big-endian integer, or fail the cursor. */
uint64_t mp4_box_get(struct mp4_box_cursor *cursor, size_t bytes)
{
    if (!cursor->ok || bytes > 8 || bytes > cursor->size - cursor->at) {
        cursor->ok = false;
        return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++)
        value = value << 8 | cursor->data[cursor->at + i];
    cursor->at += bytes;
    return value;
}

uint32_t mp4_box_u8(struct mp4_box_cursor *cursor)
{
    return (uint32_t)mp4_box_get(cursor, 1);
}

uint32_t mp4_box_u16(struct mp4_box_cursor *cursor)
{
    return (uint32_t)mp4_box_get(cursor, 2);
}

uint32_t mp4_box_u32(struct mp4_box_cursor *cursor)
{
    return (uint32_t)mp4_box_get(cursor, 4);
}

uint64_t mp4_box_u64(struct mp4_box_cursor *cursor)
{
    return mp4_box_get(cursor, 8);
}

/* Step over bytes, or fail the cursor if they are not there. */
void mp4_box_skip(struct mp4_box_cursor *cursor, size_t bytes)
{
    if (!cursor->ok || bytes > cursor->size - cursor->at)
        cursor->ok = false;
    else
        cursor->at += bytes;
}

void mp4_box_fourcc(char out[5], const uint8_t *bytes)
{
    for (int i = 0; i < 4; i++)
        out[i] = bytes[i] >= 0x20 && bytes[i] < 0x7F ? (char)bytes[i] : '?';
    out[4] = '\0';
}

bool mp4_box_printable(const uint8_t *bytes)
{
    for (int i = 0; i < 4; i++)
        if (bytes[i] < 0x20 || bytes[i] >= 0x7F)
            return false;
    return true;
}

/* Box header (4.2): 32-bit size and type, then a 64-bit size if the first
 * was 1. The size counts the header and must fit in what is left. */
int mp4_box_next_child(const uint8_t *data, size_t size, size_t *at, struct mp4_box_child *child)
{
    if (*at >= size)
        return 0;
    struct mp4_box_cursor cursor = mp4_box_cursor(data + *at, size - *at);
    uint64_t box_size = mp4_box_u32(&cursor);
    mp4_box_skip(&cursor, 4);
    if (box_size == 1)
        box_size = mp4_box_u64(&cursor);
    if (!cursor.ok || box_size < cursor.at || box_size > size - *at)
        return -1;
    mp4_box_fourcc(child->type, data + *at + 4);
    child->body = data + *at + cursor.at;
    child->size = (size_t)box_size - cursor.at;
    *at += (size_t)box_size;
    return 1;
}

int mp4_box_find_child(const uint8_t *data, size_t size, const char *type,
                       struct mp4_box_child *child)
{
    size_t at = 0;
    int result;
    while ((result = mp4_box_next_child(data, size, &at, child)) == 1)
        if (strcmp(child->type, type) == 0)
            return 1;
    return result;
}
