/*
 * motion_image.h - image operations of the motion detector on its small
 * analysis planes: box-filter downscaling of a camera plane of any size,
 * 3x3 morphological opening of a foreground mask, and run-based connected
 * component labelling into blobs with bounding box and area.
 *
 * Each struct is owned by one thread (the detector's). Buffers are allocated
 * by the *_create / *_prepare functions; the per-frame functions allocate
 * nothing.
 */
#ifndef DOORSTEP_MOTION_IMAGE_H
#define DOORSTEP_MOTION_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Box-filter downscaler from one source size to one target size. Every
 * target pixel is the rounded mean of the source rectangle it covers (the
 * rectangles tile the source; their sizes differ by at most one pixel). */
struct motion_scaler {
    int source_width, source_height;
    int target_width, target_height;
    uint16_t *x_start; /* target_width + 1 source column boundaries */
    uint16_t *y_start; /* target_height + 1 source row boundaries */
    int min_width, min_height;
    uint32_t reciprocal[4]; /* 2^22 / area for (width - min_width) * 2 + (height - min_height) */
    uint16_t *column_sums;  /* one source row's worth of vertical sums */
};

/* Largest source side per target side: keeps sums within 16 bits. */
#define MOTION_SCALER_MAX_FACTOR 16

/* (Re)build a scaler for a source size; 0, or -1 if the source is smaller
 * than the target, more than MOTION_SCALER_MAX_FACTOR times larger, or
 * memory runs out (the scaler is then empty). Allocates only when a size
 * changes. */
int motion_scaler_prepare(struct motion_scaler *scaler, int source_width, int source_height,
                          int target_width, int target_height);

/* Free the scaler's buffers (the struct itself belongs to the caller). */
void motion_scaler_release(struct motion_scaler *scaler);

/* Downscale a plane: source samples are `step` bytes apart in a row (1 for
 * planar I420, 2 for the interleaved chroma of NV12), rows `stride` apart.
 * The target is target_width x target_height, packed. */
void motion_scaler_run(struct motion_scaler *scaler, const uint8_t *source, int stride, int step,
                       uint8_t *target);

/* 3x3 opening (erosion then dilation) of a 0/1 mask in place, using
 * scratch (width * height bytes). Removes specks and lines thinner than
 * three pixels; what is left keeps its shape. */
void motion_mask_open(uint8_t *mask, uint8_t *scratch, int width, int height);

/* A connected set of foreground pixels (8-connectivity). */
struct motion_blob {
    int x0, y0, x1, y1; /* bounding box, half-open, in mask pixels */
    int area;           /* pixels */
};

/* A run of foreground pixels in one row, and the union-find state of the
 * labelling; the root run of a component carries its statistics. */
struct motion_run {
    uint16_t x0, x1, y;
    uint16_t box_x0, box_y0, box_x1, box_y1;
    uint32_t parent;
    uint32_t area;
};

struct motion_labeller {
    int width, height;
    int capacity; /* runs */
    struct motion_run *runs;
};

/* Allocate a labeller for width x height masks that went through
 * motion_mask_open() (its runs are at least three pixels long). 0 or -1. */
int motion_labeller_create(struct motion_labeller *labeller, int width, int height);

void motion_labeller_release(struct motion_labeller *labeller);

/* Label a 0/1 mask and write the blobs of at least min_area pixels into
 * blobs[] (at most max; when there are more, the largest are kept).
 * Returns how many were written. */
int motion_label(struct motion_labeller *labeller, const uint8_t *mask, int min_area,
                 struct motion_blob *blobs, int max);

#endif
