/*
 * detection_image.c - decode a doorbell's detection JPEG to 8-bit gray with
 * libjpeg(-turbo), refusing what is not a whole, sane JPEG (see
 * detection_image.h).
 *
 * Threads: any; every libjpeg structure lives in the calling frame. Errors
 * and warnings inside libjpeg longjmp back to detection_image_decode_gray
 * (a warning, e.g. "premature end of JPEG file", is a refusal too: libjpeg
 * would otherwise pad a truncated picture with gray and carry on).
 */
#include "detection/detection_image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "common/error_text.h"

/* libjpeg's error manager with the way back and the reason. */
struct detection_jpeg_errors {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    int warning;                   /* the jump came from a warning */
    char message[JMSG_LENGTH_MAX]; /* libjpeg's own text */
};

/* The scan bound's progress monitor with its error manager. */
struct detection_jpeg_progress {
    struct jpeg_progress_mgr base;
    j_decompress_ptr cinfo;
};

/* error_exit: keep libjpeg's message and jump back. */
static void detection_jpeg_error_exit(j_common_ptr cinfo)
{
    struct detection_jpeg_errors *errors = (struct detection_jpeg_errors *)cinfo->err;
    cinfo->err->format_message(cinfo, errors->message);
    longjmp(errors->escape, 1);
}

/* emit_message: a warning (level -1) means damaged data: refuse; trace
 * messages (level >= 0) are dropped. */
static void detection_jpeg_emit_message(j_common_ptr cinfo, int msg_level)
{
    struct detection_jpeg_errors *errors = (struct detection_jpeg_errors *)cinfo->err;
    if (msg_level < 0) {
        errors->warning = 1;
        detection_jpeg_error_exit(cinfo);
    }
}

/* progress_monitor: refuse a progressive JPEG with too many scans. */
static void detection_jpeg_progress_monitor(j_common_ptr cinfo)
{
    struct detection_jpeg_progress *progress = (struct detection_jpeg_progress *)cinfo->progress;
    struct detection_jpeg_errors *errors = (struct detection_jpeg_errors *)cinfo->err;
    if (progress->cinfo->input_scan_number > DETECTION_JPEG_MAX_SCANS) {
        error_text_set(errors->message, sizeof(errors->message), "more than %d progressive scans",
                       DETECTION_JPEG_MAX_SCANS);
        longjmp(errors->escape, 1);
    }
}

/* See detection_image.h. */
int detection_image_decode_gray(const uint8_t *jpeg, size_t size, struct detection_image *out,
                                char *error, size_t error_size)
{
    struct jpeg_decompress_struct cinfo;
    struct detection_jpeg_errors errors;
    struct detection_jpeg_progress progress;
    volatile int rc = -1; /* read after a longjmp */

    memset(out, 0, sizeof(*out));
    if (size > DETECTION_JPEG_MAX_BYTES) {
        error_text_set(error, error_size, "JPEG of %zu bytes, more than %u", size,
                       DETECTION_JPEG_MAX_BYTES);
        return -1;
    }
    if (jpeg == NULL || size < 4 || jpeg[0] != 0xff || jpeg[1] != 0xd8 || jpeg[2] != 0xff) {
        error_text_set(error, error_size, "not a JPEG (no start-of-image marker, %zu bytes)", size);
        return -1;
    }
    memset(&cinfo, 0, sizeof(cinfo));
    memset(&errors, 0, sizeof(errors));
    memset(&progress, 0, sizeof(progress));
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = detection_jpeg_error_exit;
    errors.base.emit_message = detection_jpeg_emit_message;
    if (setjmp(errors.escape) != 0) {
        error_text_set(error, error_size, "%s JPEG: %s",
                       errors.warning ? "truncated or corrupt" : "undecodable", errors.message);
        goto out;
    }
    jpeg_create_decompress(&cinfo);
    progress.base.progress_monitor = detection_jpeg_progress_monitor;
    progress.cinfo = &cinfo;
    cinfo.progress = &progress.base;
    jpeg_mem_src(&cinfo, jpeg, (unsigned long)size);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        error_text_set(error, error_size, "JPEG without a picture (tables only)");
        goto out;
    }
    /* The declared size, before libjpeg allocates anything picture-sized. */
    if (cinfo.image_width < DETECTION_IMAGE_MIN_SIZE ||
        cinfo.image_width > DETECTION_IMAGE_MAX_WIDTH ||
        cinfo.image_height < DETECTION_IMAGE_MIN_SIZE ||
        cinfo.image_height > DETECTION_IMAGE_MAX_HEIGHT) {
        error_text_set(error, error_size, "JPEG of %ux%u, outside %dx%d..%dx%d",
                       (unsigned)cinfo.image_width, (unsigned)cinfo.image_height,
                       DETECTION_IMAGE_MIN_SIZE, DETECTION_IMAGE_MIN_SIZE,
                       DETECTION_IMAGE_MAX_WIDTH, DETECTION_IMAGE_MAX_HEIGHT);
        goto out;
    }
    cinfo.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 1 || cinfo.output_width != cinfo.image_width ||
        cinfo.output_height != cinfo.image_height) {
        error_text_set(error, error_size, "JPEG decoded to an unexpected shape");
        goto out;
    }
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->pixels = malloc((size_t)out->width * (size_t)out->height);
    if (out->pixels == NULL) {
        error_text_set(error, error_size, "out of memory for a %dx%d picture", out->width,
                       out->height);
        goto out;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out->pixels + (size_t)cinfo.output_scanline * (size_t)out->width;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    rc = 0;
out:
    jpeg_destroy_decompress(&cinfo);
    if (rc != 0)
        detection_image_release(out);
    return rc;
}

/* See detection_image.h. */
void detection_image_release(struct detection_image *image)
{
    free(image->pixels);
    memset(image, 0, sizeof(*image));
}
