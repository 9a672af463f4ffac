/*
 * mp4_box.h - bounded reading of ISO BMFF (ISO/IEC 14496-12) boxes held in
 * memory: a big-endian field cursor that cannot read past its box, and
 * iteration over the child boxes of a parent whose every size is checked
 * against the parent before it is used.
 *
 * The building block of recording/mp4_scan.c (which reads files box by box
 * and hands the small boxes it parses to these functions); usable for any
 * other in-memory MP4 parsing. Pure functions; any thread. Nothing is
 * allocated: children and cursors point into the caller's buffer.
 */
#ifndef DOORSTEP_MP4_BOX_H
#define DOORSTEP_MP4_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads fields from [data, data + size); ok turns false on the first
 * overrun, after which every read returns 0 and nothing moves. */
struct mp4_box_cursor {
    const uint8_t *data;
    size_t size, at;
    bool ok;
};

/* A child box inside a parent in memory: its type and its body (the bytes
 * after its 8- or 16-byte header). */
struct mp4_box_child {
    char type[5];
    const uint8_t *body;
    size_t size;
};

struct mp4_box_cursor mp4_box_cursor(const uint8_t *data, size_t size);

/* A big-endian unsigned field of 1 to 8 bytes (0 after an overrun). */
uint64_t mp4_box_get(struct mp4_box_cursor *cursor, size_t bytes);
uint32_t mp4_box_u8(struct mp4_box_cursor *cursor);
uint32_t mp4_box_u16(struct mp4_box_cursor *cursor);
uint32_t mp4_box_u32(struct mp4_box_cursor *cursor);
uint64_t mp4_box_u64(struct mp4_box_cursor *cursor);
void mp4_box_skip(struct mp4_box_cursor *cursor, size_t bytes);

/* Copy a four-character code as a C string, non-printable bytes as '?'. */
void mp4_box_fourcc(char out[5], const uint8_t *bytes);

/* Whether all four bytes are printable ASCII (what box types are). */
bool mp4_box_printable(const uint8_t *bytes);

/*
 * The next child among the boxes tiling [data, data + size), at *at (which
 * starts at 0 and is advanced past the child). Returns 1 with *child, 0 at
 * the end, -1 if a header is malformed or the box overruns the parent. Size
 * 0 ("to the end of the file") is refused: it only makes sense at the top.
 */
int mp4_box_next_child(const uint8_t *data, size_t size, size_t *at, struct mp4_box_child *child);

/* The first child of a type: 1 found, 0 absent, -1 malformed (as above). */
int mp4_box_find_child(const uint8_t *data, size_t size, const char *type,
                       struct mp4_box_child *child);

#endif
