/*
 * snapshot.c - JPEG snapshots of I420 camera frames with libjpeg-turbo (see
 * snapshot.h). The planes go in as raw 4:2:0 YCbCr data (no colour
 * conversion; samples are only stretched from video range to the full
 * range JFIF decoders assume), optionally box-downscaled by an integer
 * factor first.
 *
 * Pure function, any thread: all state lives on the caller's stack or in
 * buffers freed before returning, except the JPEG handed to the caller.
 * libjpeg errors longjmp back to snapshot_encode_jpeg(), never exit().
 */
#define LOG_MODULE "snapshot"

#include "snapshot/snapshot.h"

#include <assert.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "common/error_text.h"
#include "common/log.h"

#define SNAPSHOT_ROWS_Y        16 /* one iMCU row of luma at 2x2 sampling */
#define SNAPSHOT_ROWS_UV       8
#define SNAPSHOT_MAX_DIMENSION 8192

/* libjpeg error manager that jumps back instead of exiting. */
struct snapshot_error_manager {
    struct jpeg_error_mgr base; /* first: libjpeg passes this pointer around */
    jmp_buf escape;
    char message[JMSG_LENGTH_MAX];
};

/* The picture as fed to libjpeg: source planes, scale factor, row scratch. */
struct snapshot_source {
    const struct camera_frame *frame;
    int factor;                      /* integer downscale, >= 1 */
    int width, height;               /* output (even) */
    int padded_width, padded_chroma; /* row lengths libjpeg may read */
    uint8_t *rows;                   /* 16 luma + 2 x 8 chroma scratch rows */
    uint8_t luma_range[256];         /* video range (16..235) to JFIF full range */
    uint8_t chroma_range[256];       /* video range (16..240) to JFIF full range */
    const char *label;               /* text of a COM marker, or NULL */
};

/* error_exit: remember the message and longjmp to the setjmp in encode. */
static void snapshot_error_exit(j_common_ptr cinfo)
{
    struct snapshot_error_manager *manager = (struct snapshot_error_manager *)cinfo->err;
    manager->base.format_message(cinfo, manager->message);
    longjmp(manager->escape, 1);
}

/* output_message: libjpeg warnings go to our log. */
static void snapshot_output_message(j_common_ptr cinfo)
{
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    log_warn("libjpeg: %s", message);
}

/* Average of a factor x factor block of a plane at (x, y) in output units,
 * clamped to the plane's edges. */
static uint8_t snapshot_sample(const uint8_t *plane, int stride, int plane_width, int plane_height,
                               int x, int y, int factor)
{
    int x0 = x * factor, y0 = y * factor;
    if (x0 > plane_width - factor)
        x0 = plane_width - factor;
    if (y0 > plane_height - factor)
        y0 = plane_height - factor;
    if (factor == 1)
        return plane[(size_t)y0 * (size_t)stride + (size_t)x0];
    int sum = 0;
    for (int dy = 0; dy < factor; dy++) {
        const uint8_t *row = plane + (size_t)(y0 + dy) * (size_t)stride + (size_t)x0;
        for (int dx = 0; dx < factor; dx++)
            sum += row[dx];
    }
    return (uint8_t)((sum + factor * factor / 2) / (factor * factor));
}

/* Fill the range tables: JFIF decoders read YCbCr as full range, cameras
 * deliver BT.601 video range, so samples are stretched (not colour-converted). */
static void snapshot_range_init(struct snapshot_source *source)
{
    for (int value = 0; value < 256; value++) {
        int luma = ((value - 16) * 255 + 109) / 219;
        int offset = (value - 128) * 255;
        int chroma = 128 + (offset >= 0 ? offset + 112 : offset - 112) / 224;
        source->luma_range[value] = (uint8_t)(luma < 0 ? 0 : luma > 255 ? 255 : luma);
        source->chroma_range[value] = (uint8_t)(chroma < 0 ? 0 : chroma > 255 ? 255 : chroma);
    }
}

/* Fill one output row (length `padded`, edge-replicated past `width`) of a
 * plane, downscaled by the source's factor and mapped through `range`. */
static void snapshot_fill_row(const struct snapshot_source *source, const uint8_t *range,
                              const uint8_t *plane, int stride, int plane_width, int plane_height,
                              int width, int height, int padded, int row, uint8_t *out)
{
    int y = row < height ? row : height - 1;
    if (source->factor == 1 && width <= plane_width) {
        const uint8_t *in = plane + (size_t)y * (size_t)stride;
        for (int x = 0; x < width; x++)
            out[x] = range[in[x]];
    } else {
        for (int x = 0; x < width; x++)
            out[x] = range[snapshot_sample(plane, stride, plane_width, plane_height, x, y,
                                           source->factor)];
    }
    memset(out + width, out[width - 1], (size_t)(padded - width));
}

/* Feed all iMCU rows to libjpeg (may longjmp out on error). */
static void snapshot_write_rows(struct jpeg_compress_struct *cinfo,
                                const struct snapshot_source *source)
{
    const struct camera_frame *frame = source->frame;
    uint8_t *luma = source->rows;
    uint8_t *cb = luma + (size_t)SNAPSHOT_ROWS_Y * (size_t)source->padded_width;
    uint8_t *cr = cb + (size_t)SNAPSHOT_ROWS_UV * (size_t)source->padded_chroma;
    JSAMPROW luma_rows[SNAPSHOT_ROWS_Y], cb_rows[SNAPSHOT_ROWS_UV], cr_rows[SNAPSHOT_ROWS_UV];
    for (int i = 0; i < SNAPSHOT_ROWS_Y; i++)
        luma_rows[i] = luma + (size_t)i * (size_t)source->padded_width;
    for (int i = 0; i < SNAPSHOT_ROWS_UV; i++) {
        cb_rows[i] = cb + (size_t)i * (size_t)source->padded_chroma;
        cr_rows[i] = cr + (size_t)i * (size_t)source->padded_chroma;
    }
    JSAMPARRAY planes[3] = {luma_rows, cb_rows, cr_rows};
    int chroma_width = source->width / 2, chroma_height = source->height / 2;
    while (cinfo->next_scanline < cinfo->image_height) {
        int top = (int)cinfo->next_scanline;
        for (int i = 0; i < SNAPSHOT_ROWS_Y; i++)
            snapshot_fill_row(source, source->luma_range, frame->y, frame->stride_y, frame->width,
                              frame->height, source->width, source->height, source->padded_width,
                              top + i, luma_rows[i]);
        for (int i = 0; i < SNAPSHOT_ROWS_UV; i++) {
            snapshot_fill_row(source, source->chroma_range, frame->u, frame->stride_uv,
                              frame->width / 2, frame->height / 2, chroma_width, chroma_height,
                              source->padded_chroma, top / 2 + i, cb_rows[i]);
            snapshot_fill_row(source, source->chroma_range, frame->v, frame->stride_uv,
                              frame->width / 2, frame->height / 2, chroma_width, chroma_height,
                              source->padded_chroma, top / 2 + i, cr_rows[i]);
        }
        jpeg_write_raw_data(cinfo, planes, SNAPSHOT_ROWS_Y);
    }
}

/* Compress source into the caller's buffer through jpeg_mem_dest. Returns
 * 0 with *output / *output_size set (*output may differ from buffer if
 * libjpeg grew it), or -1 with libjpeg's reason. All libjpeg state lives in
 * this frame, so the longjmp never skips cleanup the caller relies on. */
static int snapshot_compress(const struct snapshot_source *source, int quality, uint8_t *buffer,
                             size_t capacity, unsigned char **output, unsigned long *output_size,
                             char *error, size_t error_size)
{
    struct jpeg_compress_struct cinfo;
    struct snapshot_error_manager errors;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = snapshot_error_exit;
    errors.base.output_message = snapshot_output_message;
    errors.message[0] = '\0';
    *output = buffer;
    *output_size = capacity;
    if (setjmp(errors.escape) != 0) {
        /* Safe on a created or a still-zeroed struct. */
        jpeg_destroy_compress(&cinfo);
        error_text_set(error, error_size, "libjpeg: %s", errors.message);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, output, output_size);
    cinfo.image_width = (JDIMENSION)source->width;
    cinfo.image_height = (JDIMENSION)source->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_YCbCr;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, JCS_YCbCr);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.raw_data_in = TRUE;
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.comp_info[0].h_samp_factor = 2;
    cinfo.comp_info[0].v_samp_factor = 2;
    for (int component = 1; component < 3; component++) {
        cinfo.comp_info[component].h_samp_factor = 1;
        cinfo.comp_info[component].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (source->label != NULL)
        jpeg_write_marker(&cinfo, JPEG_COM, (const JOCTET *)source->label,
                          (unsigned)strnlen(source->label, SNAPSHOT_LABEL_MAX));
    snapshot_write_rows(&cinfo, source);
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

/* See snapshot.h. On success *jpeg_out is malloc'd and owned by the caller. */
int snapshot_encode_jpeg(const struct camera_frame *frame, int quality, int max_width,
                         uint8_t **jpeg_out, size_t *size_out, char *error, size_t error_size)
{
    return snapshot_encode_labelled_jpeg(frame, quality, max_width, NULL, jpeg_out, size_out, error,
                                         error_size);
}

/* See snapshot.h. On success *jpeg_out is malloc'd and owned by the caller. */
int snapshot_encode_labelled_jpeg(const struct camera_frame *frame, int quality, int max_width,
                                  const char *label, uint8_t **jpeg_out, size_t *size_out,
                                  char *error, size_t error_size)
{
    char scratch[16];
    if (error == NULL || error_size == 0) {
        error = scratch;
        error_size = sizeof(scratch);
    }
    if (frame == NULL || jpeg_out == NULL || size_out == NULL || frame->y == NULL ||
        frame->u == NULL || frame->v == NULL || frame->width < 2 || frame->height < 2 ||
        frame->width > SNAPSHOT_MAX_DIMENSION || frame->height > SNAPSHOT_MAX_DIMENSION ||
        frame->stride_y < frame->width || frame->stride_uv < frame->width / 2 || quality < 1 ||
        quality > 100) {
        error_text_set(error, error_size, "invalid frame or quality for a snapshot");
        return -1;
    }

    struct snapshot_source source = {.frame = frame, .factor = 1, .label = label};
    if (max_width > 0 && frame->width > max_width)
        source.factor = (frame->width + max_width - 1) / max_width;
    source.width = (frame->width / source.factor) & ~1;
    source.height = (frame->height / source.factor) & ~1;
    if (source.width < 2 || source.height < 2) {
        error_text_set(error, error_size, "snapshot of %dx%d at max width %d is too small",
                       frame->width, frame->height, max_width);
        return -1;
    }
    /* libjpeg reads whole 8x8 blocks: round each row up to a multiple of 16
     * (luma) / 8 (chroma); the extra samples repeat the edge pixel. */
    source.padded_width = (source.width + 15) & ~15;
    source.padded_chroma = source.padded_width / 2;
    size_t rows_size = (size_t)SNAPSHOT_ROWS_Y * (size_t)source.padded_width +
                       2u * SNAPSHOT_ROWS_UV * (size_t)source.padded_chroma;
    /* Worst case compressed size, as libjpeg-turbo's tjBufSize() for 4:2:0,
     * so jpeg_mem_dest never has to grow (and can never leak) its buffer. */
    size_t capacity = (size_t)source.padded_width * (size_t)((source.height + 15) & ~15) * 3 + 2048;
    int rc = -1;
    unsigned char *output = NULL;
    unsigned long output_size = 0;
    uint8_t *rows = malloc(rows_size);
    uint8_t *buffer = malloc(capacity);
    if (rows == NULL || buffer == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto out;
    }
    source.rows = rows;
    snapshot_range_init(&source);
    if (snapshot_compress(&source, quality, buffer, capacity, &output, &output_size, error,
                          error_size) != 0)
        goto out;
    if (output != buffer) {
        /* libjpeg grew the buffer after all: the new one is malloc'd and ours. */
        free(buffer);
        buffer = output;
    }
    uint8_t *shrunk = realloc(buffer, output_size);
    *jpeg_out = shrunk != NULL ? shrunk : buffer;
    *size_out = output_size;
    buffer = NULL;
    rc = 0;
out:
    free(rows);
    free(buffer);
    return rc;
}
