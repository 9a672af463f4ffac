/*
 * preview_container.h - the file format of timeline previews
 * (docs/storage.md, "Timeline previews"): one file per recording segment,
 * an 8-byte file header then records appended in capture order:
 *
 *   file:   "DSPV" | version (1 byte, 1) | 3 zero bytes
 *   record: capture time, ms since the epoch (8 bytes, big-endian, signed)
 *           | JPEG length (4 bytes, big-endian, 1..PREVIEW_JPEG_MAX) | JPEG
 *
 * A reader takes records up to the first that is not whole or not
 * plausible (a torn last record after a crash, zeros the filesystem left):
 * length out of range or past the end of the file, or a capture time
 * before the previous record's. The JPEG itself is checked when a record
 * is served (preview_jpeg_check).
 *
 * Pure code over a read callback, no state: any thread; a libFuzzer
 * harness (tests/fuzz/fuzz_preview.c) drives it with arbitrary files.
 */
#ifndef DOORSTEP_PREVIEW_CONTAINER_H
#define DOORSTEP_PREVIEW_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#define PREVIEW_FILE_HEADER_SIZE   8
#define PREVIEW_RECORD_HEADER_SIZE 12
#define PREVIEW_FILE_VERSION       1
#define PREVIEW_JPEG_MAX           (256u * 1024u)        /* LINK_MAX_PREVIEW_SIZE */
#define PREVIEW_FILE_MAX           (16u * 1024u * 1024u) /* appends past it are dropped */
#define PREVIEW_DIMENSION_MAX      1920                  /* width and height of a preview */

/* Read up to size bytes at offset into buffer; returns the bytes read (short
 * only at the end of the data), or -1 on an I/O error. */
typedef long (*preview_read_fn)(void *context, uint64_t offset, void *buffer, size_t size);

struct preview_record {
    int64_t capture_ms;
    uint64_t offset; /* of the JPEG in the file */
    uint32_t size;   /* of the JPEG */
};

/* Write the file header into out. */
void preview_file_header_encode(uint8_t out[PREVIEW_FILE_HEADER_SIZE]);

/* Write a record header into out. */
void preview_record_header_encode(int64_t capture_ms, uint32_t size,
                                  uint8_t out[PREVIEW_RECORD_HEADER_SIZE]);

/*
 * Walk the whole records of a file of file_size bytes in order, calling
 * visit for each (a non-zero return stops the walk). Returns the number of
 * records visited, or -1 if the file header is not ours or a read failed.
 * *valid_end_out (may be NULL) gets the end of the last whole record: where
 * an appender continues after a torn tail.
 */
int preview_container_scan(preview_read_fn read, void *context, uint64_t file_size,
                           int (*visit)(const struct preview_record *record, void *data),
                           void *data, uint64_t *valid_end_out);

/* The last record with from_ms <= capture_ms <= to_ms. 1 found (*out set),
 * 0 none, -1 not ours or a read failed. */
int preview_container_find(preview_read_fn read, void *context, uint64_t file_size, int64_t from_ms,
                           int64_t to_ms, struct preview_record *out);

/* Is jpeg a whole baseline or progressive JPEG that libjpeg-turbo reads a
 * header from, of at most PREVIEW_DIMENSION_MAX each way, ending in EOI?
 * 0 yes; -1 with a short reason (never quoting the input). */
int preview_jpeg_check(const uint8_t *jpeg, size_t size, char *error, size_t error_size);

#endif
