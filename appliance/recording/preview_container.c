/*
 * preview_container.c - the preview file format (see preview_container.h):
 * encoding headers, walking the records of a possibly torn file through a
 * read callback, and checking a JPEG with libjpeg-turbo before it is stored
 * or served.
 *
 * Pure: no globals, no I/O of its own; any thread. libjpeg errors longjmp
 * back into preview_jpeg_check, never exit().
 */
#include "recording/preview_container.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "common/error_text.h"

static const uint8_t preview_magic[4] = {'D', 'S', 'P', 'V'};

/* Big-endian helpers. */
static void preview_put_u32(uint8_t *out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(value >> (24 - 8 * i));
}

static uint32_t preview_get_u32(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* Write "DSPV", the version and three zero bytes. */
void preview_file_header_encode(uint8_t out[PREVIEW_FILE_HEADER_SIZE])
{
    memcpy(out, preview_magic, sizeof(preview_magic));
    out[4] = PREVIEW_FILE_VERSION;
    out[5] = out[6] = out[7] = 0;
}

/* Write capture time and length, big-endian. */
void preview_record_header_encode(int64_t capture_ms, uint32_t size,
                                  uint8_t out[PREVIEW_RECORD_HEADER_SIZE])
{
    uint64_t time = (uint64_t)capture_ms;
    preview_put_u32(out, (uint32_t)(time >> 32));
    preview_put_u32(out + 4, (uint32_t)time);
    preview_put_u32(out + 8, size);
}

/* Read exactly size bytes at offset: 1, 0 if the data ends first, -1 on error. */
static int preview_read_exact(preview_read_fn read, void *context, uint64_t offset, void *buffer,
                              size_t size)
{
    long got = read(context, offset, buffer, size);
    if (got < 0)
        return -1;
    return (size_t)got == size ? 1 : 0;
}

/* See preview_container.h. */
int preview_container_scan(preview_read_fn read, void *context, uint64_t file_size,
                           int (*visit)(const struct preview_record *record, void *data),
                           void *data, uint64_t *valid_end_out)
{
    uint8_t header[PREVIEW_RECORD_HEADER_SIZE];
    uint64_t offset = PREVIEW_FILE_HEADER_SIZE;
    int64_t previous = INT64_MIN;
    int count = 0, rc;

    if (valid_end_out != NULL)
        *valid_end_out = 0;
    if (file_size < PREVIEW_FILE_HEADER_SIZE ||
        preview_read_exact(read, context, 0, header, PREVIEW_FILE_HEADER_SIZE) != 1 ||
        memcmp(header, preview_magic, sizeof(preview_magic)) != 0 ||
        header[4] != PREVIEW_FILE_VERSION)
        return -1;
    while (offset + PREVIEW_RECORD_HEADER_SIZE <= file_size) {
        struct preview_record record;
        rc = preview_read_exact(read, context, offset, header, sizeof(header));
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        record.capture_ms =
            (int64_t)((uint64_t)preview_get_u32(header) << 32 | preview_get_u32(header + 4));
        record.size = preview_get_u32(header + 8);
        record.offset = offset + PREVIEW_RECORD_HEADER_SIZE;
        /* A torn or zeroed tail: everything from here on is ignored. */
        if (record.size == 0 || record.size > PREVIEW_JPEG_MAX ||
            record.size > file_size - record.offset || record.capture_ms < previous ||
            record.capture_ms <= 0)
            break;
        previous = record.capture_ms;
        offset = record.offset + record.size;
        count++;
        if (valid_end_out != NULL)
            *valid_end_out = offset;
        if (visit != NULL && visit(&record, data) != 0)
            break;
    }
    if (valid_end_out != NULL && count == 0)
        *valid_end_out = PREVIEW_FILE_HEADER_SIZE;
    return count;
}

/* What preview_container_find looks for and has found. */
struct preview_find {
    int64_t from_ms, to_ms;
    int found;
    struct preview_record best;
};

/* scan callback: keep the last record in range; stop once past it (times
 * only grow). */
static int preview_find_visit(const struct preview_record *record, void *data)
{
    struct preview_find *find = data;
    if (record->capture_ms > find->to_ms)
        return 1;
    if (record->capture_ms >= find->from_ms) {
        find->best = *record;
        find->found = 1;
    }
    return 0;
}

/* See preview_container.h. */
int preview_container_find(preview_read_fn read, void *context, uint64_t file_size, int64_t from_ms,
                           int64_t to_ms, struct preview_record *out)
{
    struct preview_find find = {.from_ms = from_ms, .to_ms = to_ms};

    if (preview_container_scan(read, context, file_size, preview_find_visit, &find, NULL) < 0)
        return -1;
    if (find.found)
        *out = find.best;
    return find.found;
}

/* libjpeg error manager that jumps back instead of exiting. */
struct preview_jpeg_errors {
    struct jpeg_error_mgr base; /* first: libjpeg passes this pointer around */
    jmp_buf escape;
};

/* error_exit: jump back to preview_jpeg_check. */
static void preview_jpeg_error_exit(j_common_ptr cinfo)
{
    longjmp(((struct preview_jpeg_errors *)cinfo->err)->escape, 1);
}

/* output_message: warnings about a foreign JPEG are not worth a log line. */
static void preview_jpeg_quiet(j_common_ptr cinfo)
{
    (void)cinfo;
}

/* See preview_container.h. All libjpeg state lives in this frame. */
int preview_jpeg_check(const uint8_t *jpeg, size_t size, char *error, size_t error_size)
{
    struct jpeg_decompress_struct cinfo;
    struct preview_jpeg_errors errors;
    int rc;

    if (size < 4 || size > PREVIEW_JPEG_MAX || jpeg[0] != 0xff || jpeg[1] != 0xd8 ||
        jpeg[size - 2] != 0xff || jpeg[size - 1] != 0xd9) {
        error_text_set(error, error_size, "not a whole JPEG (%zu bytes)", size);
        return -1;
    }
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = preview_jpeg_error_exit;
    errors.base.output_message = preview_jpeg_quiet;
    if (setjmp(errors.escape) != 0) {
        jpeg_destroy_decompress(&cinfo);
        error_text_set(error, error_size, "libjpeg cannot read its header");
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg, (unsigned long)size);
    rc = jpeg_read_header(&cinfo, TRUE);
    if (rc != JPEG_HEADER_OK || cinfo.image_width == 0 || cinfo.image_height == 0 ||
        cinfo.image_width > PREVIEW_DIMENSION_MAX || cinfo.image_height > PREVIEW_DIMENSION_MAX) {
        error_text_set(error, error_size, "a JPEG of %ux%u is no preview",
                       (unsigned)cinfo.image_width, (unsigned)cinfo.image_height);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
