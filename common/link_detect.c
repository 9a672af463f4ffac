/*
 * link_detect.c - the DETECT_FRAME payload of the device link (see
 * link_protocol.h and docs/protocol.md, "DETECT_FRAME"): motion boxes and a
 * JPEG of an active event, which the doorbell sends and the hub's person
 * detector reads.
 *
 * Pure functions: no globals, no I/O, no logging; any thread may call them.
 * A parsed frame borrows its JPEG from the message; an encoded buffer
 * belongs to the caller.
 */
#include "common/link_protocol.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"

/* Big-endian u16 at in. */
static uint16_t link_detect_read_u16(const uint8_t *in)
{
    return (uint16_t)((uint16_t)in[0] << 8 | in[1]);
}

/* Write value big-endian at out. */
static void link_detect_write_u16(uint16_t value, uint8_t *out)
{
    out[0] = (uint8_t)(value >> 8);
    out[1] = (uint8_t)value;
}

/* A normalised coordinate as 1/65535 of the frame, clamped to 0..65535. */
static uint16_t link_detect_unit(double value)
{
    if (!(value > 0.0))
        return 0;
    if (value >= 1.0)
        return 65535;
    return (uint16_t)lround(value * LINK_DETECT_BOX_SCALE);
}

/* See link_protocol.h. */
int link_detect_frame_parse(const struct link_message *message, struct link_detect_frame *out,
                            char *error, size_t error_size)
{
    const uint8_t *payload;
    size_t boxes_end;

    assert(message != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    if (message->header.type != LINK_DETECT_FRAME) {
        error_text_set(error, error_size, "not detect_frame");
        return -1;
    }
    payload = message->payload;
    if (payload == NULL || message->payload_size < LINK_DETECT_HEADER) {
        error_text_set(error, error_size, "detect_frame: shorter than its 2-byte header");
        return -1;
    }
    if (payload[0] > LINK_MAX_BOXES) {
        error_text_set(error, error_size, "detect_frame: %u boxes, at most %d", payload[0],
                       LINK_MAX_BOXES);
        return -1;
    }
    if (payload[1] != 0) {
        error_text_set(error, error_size, "detect_frame: reserved byte is not 0");
        return -1;
    }
    boxes_end = LINK_DETECT_HEADER + (size_t)payload[0] * LINK_DETECT_BOX_SIZE;
    if (message->payload_size < boxes_end) {
        error_text_set(error, error_size, "detect_frame: %u boxes do not fit in %zu bytes",
                       payload[0], message->payload_size);
        return -1;
    }
    for (int i = 0; i < payload[0]; i++) {
        const uint8_t *box = payload + LINK_DETECT_HEADER + (size_t)i * LINK_DETECT_BOX_SIZE;
        uint32_t x = link_detect_read_u16(box), y = link_detect_read_u16(box + 2);
        uint32_t w = link_detect_read_u16(box + 4), h = link_detect_read_u16(box + 6);
        if (w == 0 || h == 0 || x + w > 65535u || y + h > 65535u) {
            error_text_set(error, error_size, "detect_frame: box %d is empty or leaves the frame",
                           i);
            memset(out, 0, sizeof(*out));
            return -1;
        }
        out->boxes[i].x = x / LINK_DETECT_BOX_SCALE;
        out->boxes[i].y = y / LINK_DETECT_BOX_SCALE;
        out->boxes[i].w = w / LINK_DETECT_BOX_SCALE;
        out->boxes[i].h = h / LINK_DETECT_BOX_SCALE;
    }
    if (message->payload_size - boxes_end < 4 || payload[boxes_end] != 0xff ||
        payload[boxes_end + 1] != 0xd8) {
        error_text_set(error, error_size, "detect_frame: no JPEG after the boxes");
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->event_id = message->header.sequence;
    out->timestamp_us = message->header.timestamp_us;
    out->box_count = payload[0];
    out->jpeg = payload + boxes_end;
    out->jpeg_size = message->payload_size - boxes_end;
    return 0;
}

/* See link_protocol.h. The caller frees the returned buffer. */
uint8_t *link_detect_frame_encode(uint32_t event_id, uint64_t timestamp_us,
                                  const struct link_box *boxes, int box_count, const uint8_t *jpeg,
                                  size_t jpeg_size, size_t headroom, size_t *message_size)
{
    struct link_header header = {
        .version = LINK_PROTOCOL_VERSION,
        .type = LINK_DETECT_FRAME,
        .flags = 0,
        .sequence = event_id,
        .timestamp_us = timestamp_us,
    };
    size_t boxes_end, payload_size;
    uint8_t *buffer, *payload;

    assert(message_size != NULL);
    *message_size = 0;
    if (box_count < 0 || box_count > LINK_MAX_BOXES || (box_count > 0 && boxes == NULL) ||
        jpeg == NULL || jpeg_size == 0)
        return NULL;
    boxes_end = LINK_DETECT_HEADER + (size_t)box_count * LINK_DETECT_BOX_SIZE;
    if (jpeg_size > LINK_MAX_DETECT_SIZE - LINK_HEADER_SIZE - boxes_end ||
        headroom > SIZE_MAX - LINK_MAX_DETECT_SIZE)
        return NULL;
    payload_size = boxes_end + jpeg_size;
    buffer = malloc(headroom + LINK_HEADER_SIZE + payload_size);
    if (buffer == NULL)
        return NULL;
    link_header_encode(&header, buffer + headroom);
    payload = buffer + headroom + LINK_HEADER_SIZE;
    payload[0] = (uint8_t)box_count;
    payload[1] = 0;
    for (int i = 0; i < box_count; i++) {
        uint8_t *out = payload + LINK_DETECT_HEADER + (size_t)i * LINK_DETECT_BOX_SIZE;
        uint16_t x = link_detect_unit(boxes[i].x), y = link_detect_unit(boxes[i].y);
        uint16_t w = link_detect_unit(boxes[i].w), h = link_detect_unit(boxes[i].h);
        /* Inside the frame and never empty, as the parser wants. */
        if (x > 65534u)
            x = 65534u;
        if (y > 65534u)
            y = 65534u;
        if (w > 65535u - x)
            w = (uint16_t)(65535u - x);
        if (h > 65535u - y)
            h = (uint16_t)(65535u - y);
        if (w == 0)
            w = 1;
        if (h == 0)
            h = 1;
        link_detect_write_u16(x, out);
        link_detect_write_u16(y, out + 2);
        link_detect_write_u16(w, out + 4);
        link_detect_write_u16(h, out + 6);
    }
    memcpy(payload + boxes_end, jpeg, jpeg_size);
    *message_size = LINK_HEADER_SIZE + payload_size;
    return buffer;
}
