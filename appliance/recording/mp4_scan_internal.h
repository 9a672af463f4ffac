/*
 * mp4_scan_internal.h - what the two halves of the MP4 scanner share:
 * mp4_scan.c (top-level boxes, fragments, entry points) and mp4_scan_init.c
 * (the init segment: ftyp and moov). Not for use outside them.
 */
#ifndef DOORSTEP_MP4_SCAN_INTERNAL_H
#define DOORSTEP_MP4_SCAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recording/mp4_scan.h"

/* Outcome of a step: go on, stop at this box (reason set), or fail (I/O). */
enum mp4_step { MP4_OK = 0, MP4_STOP = 1, MP4_FAIL = -1 };

/* A top-level box header: where it is, how big (header included), its type. */
struct mp4_header {
    uint64_t offset, size;
    uint32_t header_size;
    char type[5];
};

/* One scan in progress: its source and result, the reusable buffer for the
 * box being parsed, and what the boxes so far have established. */
struct mp4_scanner {
    const struct mp4_scan_source *source;
    struct mp4_scan_result *result;
    uint8_t *buffer;
    size_t capacity;
    size_t fragment_capacity;
    bool have_ftyp, have_moov, have_sequence;
    uint32_t last_sequence;
};

/* The index of the track with this id in result->tracks, or -1. */
int mp4_track_index(const struct mp4_scan_result *result, uint32_t track_id);

/* Record why the scan stops (the first reason wins). Returns MP4_STOP. */
int mp4_stop(struct mp4_scanner *scanner, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Read a box body (header excluded) into the scanner's buffer; the caller
 * has bounded its size. An mp4_step. */
int mp4_read_body(struct mp4_scanner *scanner, const struct mp4_header *box, const uint8_t **body,
                  size_t *size);

/* ftyp (4.3) and moov (8.2) of the init segment (mp4_scan_init.c). */
int mp4_parse_ftyp(struct mp4_scanner *scanner, const struct mp4_header *box);
int mp4_parse_moov(struct mp4_scanner *scanner, const struct mp4_header *box);

#endif
