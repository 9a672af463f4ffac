/*
 * detection_image.h - a JPEG frame from a doorbell decoded to 8-bit gray
 * for the person detector, with every way a picture can be refused named:
 * not a JPEG, truncated or corrupt, a colour space libjpeg cannot turn to
 * gray, or a size outside DETECTION_IMAGE_MIN..MAX (checked on the declared
 * size, before any pixel buffer is allocated).
 *
 * Threads: any; no shared state (all libjpeg state lives in the caller's
 * frame). Ownership: a decoded image's pixels are the caller's, released
 * with detection_image_release().
 */
#ifndef DOORSTEP_DETECTION_IMAGE_H
#define DOORSTEP_DETECTION_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The sizes a detection frame may have (the doorbell sends at most 960
 * wide; 1920x1088 leaves room for a full-HD capture sent unscaled). */
#define DETECTION_IMAGE_MIN_SIZE   32
#define DETECTION_IMAGE_MAX_WIDTH  1920
#define DETECTION_IMAGE_MAX_HEIGHT 1088
/* The most JPEG bytes accepted (a DETECT_FRAME is at most 512 KiB whole). */
#define DETECTION_JPEG_MAX_BYTES (512u * 1024u)
/* Progressive JPEGs with more scans than this are refused: each scan is a
 * pass over the whole coefficient buffer, and a crafted file can carry
 * thousands of tiny ones (the same bound as TurboJPEG's TJFLAG_LIMITSCANS). */
#define DETECTION_JPEG_MAX_SCANS 500

/* A gray picture: width * height bytes, rows stored one after the other. */
struct detection_image {
    int width, height;
    uint8_t *pixels;
};

/* Decode jpeg (size bytes) to gray into *out. Returns 0, or -1 with out
 * left empty (pixels NULL) and the reason in error. On 0 the caller frees
 * out->pixels with detection_image_release(). */
int detection_image_decode_gray(const uint8_t *jpeg, size_t size, struct detection_image *out,
                                char *error, size_t error_size);

/* Free the pixels and empty the image; safe on an empty image. */
void detection_image_release(struct detection_image *image);

#endif
