/*
 * motion_image.c - the motion detector's image operations (see
 * motion_image.h): box-filter downscale, 3x3 opening, run-based labelling.
 *
 * Downscale: the vertical sums of one target row's source rows go into a
 * row of 16-bit column sums, then each target pixel adds its columns and
 * multiplies by a precomputed reciprocal of its area (no division per
 * pixel). Opening: separable 3x3 minimum then maximum on 0/1 bytes, plain
 * loops the compiler vectorises. Labelling: the mask is read as runs of
 * foreground pixels, runs touching a run of the row above (8-connectivity)
 * are joined in a union-find whose root is the lowest-numbered run; one
 * pass then folds every run's box and area into its root.
 *
 * Owned by the detector's thread; buffers come from the prepare and create calls.
 */
#include "motion/motion_image.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MOTION_RECIPROCAL_SHIFT 22
#define MOTION_LANES            16 /* bytes per vector register the loops are cut for */

/* Free the scaler's tables and scratch row. */
void motion_scaler_release(struct motion_scaler *scaler)
{
    free(scaler->x_start);
    free(scaler->y_start);
    free(scaler->column_sums);
    memset(scaler, 0, sizeof(*scaler));
}

/* Build the boundary tables for a source size (see header). */
int motion_scaler_prepare(struct motion_scaler *scaler, int source_width, int source_height,
                          int target_width, int target_height)
{
    if (scaler->x_start != NULL && scaler->source_width == source_width &&
        scaler->source_height == source_height && scaler->target_width == target_width &&
        scaler->target_height == target_height)
        return 0;
    motion_scaler_release(scaler);
    if (target_width <= 0 || target_height <= 0 || source_width < target_width ||
        source_height < target_height || source_width > MOTION_SCALER_MAX_FACTOR * target_width ||
        source_height > MOTION_SCALER_MAX_FACTOR * target_height)
        return -1;
    scaler->x_start = malloc(sizeof(uint16_t) * (size_t)(target_width + 1));
    scaler->y_start = malloc(sizeof(uint16_t) * (size_t)(target_height + 1));
    scaler->column_sums = malloc(sizeof(uint16_t) * (size_t)source_width);
    if (scaler->x_start == NULL || scaler->y_start == NULL || scaler->column_sums == NULL) {
        motion_scaler_release(scaler);
        return -1;
    }
    for (int x = 0; x <= target_width; x++)
        scaler->x_start[x] = (uint16_t)((long)x * source_width / target_width);
    for (int y = 0; y <= target_height; y++)
        scaler->y_start[y] = (uint16_t)((long)y * source_height / target_height);
    /* floor(k * S / T) steps by floor(S / T) or one more, never anything else. */
    scaler->min_width = source_width / target_width;
    scaler->min_height = source_height / target_height;
    for (int w = 0; w < 2; w++) {
        for (int h = 0; h < 2; h++) {
            uint32_t area = (uint32_t)(scaler->min_width + w) * (uint32_t)(scaler->min_height + h);
            scaler->reciprocal[w * 2 + h] = ((1u << MOTION_RECIPROCAL_SHIFT) + area / 2) / area;
        }
    }
    scaler->source_width = source_width;
    scaler->source_height = source_height;
    scaler->target_width = target_width;
    scaler->target_height = target_height;
    return 0;
}

/* Add (or with first set, copy) one source row into the column sums. The
 * fixed inner loops of MOTION_LANES let the compiler use vector registers. */
static void motion_scaler_add_row(uint16_t *restrict sums, const uint8_t *restrict row, int width,
                                  int step, int first)
{
    int x = 0;
    if (step == 1 && first) {
        for (; x + MOTION_LANES <= width; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                sums[x + k] = row[x + k];
    } else if (step == 1) {
        for (; x + MOTION_LANES <= width; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                sums[x + k] = (uint16_t)(sums[x + k] + row[x + k]);
    }
    for (; x < width; x++)
        sums[x] = (uint16_t)((first ? 0 : sums[x]) + row[(size_t)x * (size_t)step]);
}

/* Each target pixel of one row from `factor` column sums (every target
 * pixel the same width), times `scale`. The common factors get loops of
 * their own so that the compiler unrolls them. */
static void motion_scaler_uniform_row(uint8_t *restrict out, const uint16_t *restrict sums,
                                      int width, int factor, uint32_t scale)
{
    const uint32_t half = 1u << (MOTION_RECIPROCAL_SHIFT - 1);
    if (factor == 2) {
        for (int x = 0; x < width; x++)
            out[x] = (uint8_t)(((uint32_t)(sums[2 * x] + sums[2 * x + 1]) * scale + half) >>
                               MOTION_RECIPROCAL_SHIFT);
    } else if (factor == 4) {
        for (int x = 0; x < width; x++) {
            const uint16_t *s = sums + 4 * x;
            out[x] = (uint8_t)(((uint32_t)(s[0] + s[1] + s[2] + s[3]) * scale + half) >>
                               MOTION_RECIPROCAL_SHIFT);
        }
    } else {
        for (int x = 0; x < width; x++) {
            uint32_t sum = 0;
            for (int k = 0; k < factor; k++)
                sum += sums[factor * x + k];
            out[x] = (uint8_t)((sum * scale + half) >> MOTION_RECIPROCAL_SHIFT);
        }
    }
}

/* Downscale one plane (see header). */
void motion_scaler_run(struct motion_scaler *scaler, const uint8_t *source, int stride, int step,
                       uint8_t *target)
{
    assert(scaler->x_start != NULL);
    int source_width = scaler->source_width, target_width = scaler->target_width;
    int uniform = source_width % target_width == 0;
    uint16_t *sums = scaler->column_sums;
    for (int ty = 0; ty < scaler->target_height; ty++) {
        int y0 = scaler->y_start[ty], y1 = scaler->y_start[ty + 1];
        for (int y = y0; y < y1; y++)
            motion_scaler_add_row(sums, source + (size_t)y * (size_t)stride, source_width, step,
                                  y == y0);
        const uint32_t *reciprocal = scaler->reciprocal + (y1 - y0 - scaler->min_height);
        uint8_t *out = target + (size_t)ty * (size_t)target_width;
        if (uniform) {
            motion_scaler_uniform_row(out, sums, target_width, scaler->min_width, reciprocal[0]);
            continue;
        }
        for (int tx = 0; tx < target_width; tx++) {
            int x0 = scaler->x_start[tx], x1 = scaler->x_start[tx + 1];
            uint32_t sum = 0;
            for (int x = x0; x < x1; x++)
                sum += sums[x];
            uint32_t scale = reciprocal[(x1 - x0 - scaler->min_width) * 2];
            out[tx] = (uint8_t)((sum * scale + (1u << (MOTION_RECIPROCAL_SHIFT - 1))) >>
                                MOTION_RECIPROCAL_SHIFT);
        }
    }
}

/* o[x] = min (erode) or max (dilate) of a[x - 1], a[x], a[x + 1] for x in
 * [1, width - 1), cut into MOTION_LANES-wide pieces for vector registers. */
static void motion_mask_triple(uint8_t *restrict o, const uint8_t *restrict a, int width,
                               int dilate)
{
    int x = 1;
    if (dilate) {
        for (; x + MOTION_LANES <= width - 1; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                o[x + k] = a[x + k - 1] | a[x + k] | a[x + k + 1];
        for (; x < width - 1; x++)
            o[x] = a[x - 1] | a[x] | a[x + 1];
    } else {
        for (; x + MOTION_LANES <= width - 1; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                o[x + k] = a[x + k - 1] & a[x + k] & a[x + k + 1];
        for (; x < width - 1; x++)
            o[x] = a[x - 1] & a[x] & a[x + 1];
    }
}

/* Horizontal 3-pixel minimum (erode) or maximum (dilate) of 0/1 rows;
 * outside the picture counts as 0. */
static void motion_mask_horizontal(uint8_t *restrict out, const uint8_t *restrict in, int width,
                                   int height, int dilate)
{
    for (int y = 0; y < height; y++) {
        const uint8_t *a = in + (size_t)y * (size_t)width;
        uint8_t *o = out + (size_t)y * (size_t)width;
        motion_mask_triple(o, a, width, dilate);
        o[0] = dilate ? a[0] | a[1] : 0;
        o[width - 1] = dilate ? a[width - 2] | a[width - 1] : 0;
    }
}

/* o[x] = min or max of three rows, pieces as above. */
static void motion_mask_rows(uint8_t *restrict o, const uint8_t *restrict above,
                             const uint8_t *restrict middle, const uint8_t *restrict below,
                             int width, int dilate)
{
    int x = 0;
    if (dilate) {
        for (; x + MOTION_LANES <= width; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                o[x + k] = above[x + k] | middle[x + k] | below[x + k];
        for (; x < width; x++)
            o[x] = above[x] | middle[x] | below[x];
    } else {
        for (; x + MOTION_LANES <= width; x += MOTION_LANES)
            for (int k = 0; k < MOTION_LANES; k++)
                o[x + k] = above[x + k] & middle[x + k] & below[x + k];
        for (; x < width; x++)
            o[x] = above[x] & middle[x] & below[x];
    }
}

/* Vertical 3-pixel minimum or maximum, same rules (a missing row above or
 * below makes erosion 0 and is left out of dilation). */
static void motion_mask_vertical(uint8_t *restrict out, const uint8_t *restrict in, int width,
                                 int height, int dilate)
{
    for (int y = 0; y < height; y++) {
        uint8_t *o = out + (size_t)y * (size_t)width;
        const uint8_t *middle = in + (size_t)y * (size_t)width;
        int edge = y == 0 || y == height - 1;
        if (edge && !dilate) {
            memset(o, 0, (size_t)width);
            continue;
        }
        const uint8_t *above = y > 0 ? middle - width : middle;
        const uint8_t *below = y < height - 1 ? middle + width : middle;
        motion_mask_rows(o, above, middle, below, width, dilate);
    }
}

/* 3x3 opening in place (see header). */
void motion_mask_open(uint8_t *mask, uint8_t *scratch, int width, int height)
{
    assert(width >= 3 && height >= 3);
    motion_mask_horizontal(scratch, mask, width, height, 0);
    motion_mask_vertical(mask, scratch, width, height, 0);
    motion_mask_horizontal(scratch, mask, width, height, 1);
    motion_mask_vertical(mask, scratch, width, height, 1);
}

/* Allocate the run table (see header). After opening a run is at least
 * three pixels long and runs are at least one pixel apart. */
int motion_labeller_create(struct motion_labeller *labeller, int width, int height)
{
    memset(labeller, 0, sizeof(*labeller));
    labeller->width = width;
    labeller->height = height;
    labeller->capacity = (width / 4 + 1) * height;
    labeller->runs = calloc((size_t)labeller->capacity, sizeof(*labeller->runs));
    return labeller->runs != NULL ? 0 : -1;
}

/* Free the run table (the struct belongs to the caller). */
void motion_labeller_release(struct motion_labeller *labeller)
{
    free(labeller->runs);
    memset(labeller, 0, sizeof(*labeller));
}

/* Root of run i, halving the path on the way. */
static uint32_t motion_run_root(struct motion_run *runs, uint32_t i)
{
    while (runs[i].parent != i) {
        runs[i].parent = runs[runs[i].parent].parent;
        i = runs[i].parent;
    }
    return i;
}

/* Join the components of runs a and b; the lower root index wins. */
static void motion_run_join(struct motion_run *runs, uint32_t a, uint32_t b)
{
    uint32_t root_a = motion_run_root(runs, a), root_b = motion_run_root(runs, b);
    if (root_a < root_b)
        runs[root_b].parent = root_a;
    else if (root_b < root_a)
        runs[root_a].parent = root_b;
}

/* Index of the first foreground byte at or after x in a row, or width. */
static int motion_row_skip(const uint8_t *row, int x, int width)
{
    uint64_t word;
    while (x + 8 <= width) {
        memcpy(&word, row + x, sizeof(word));
        if (word != 0)
            break;
        x += 8;
    }
    while (x < width && row[x] == 0)
        x++;
    return x;
}

/* Read the mask as runs joined with the row above; returns the run count. */
static int motion_label_runs(struct motion_labeller *labeller, const uint8_t *mask)
{
    struct motion_run *runs = labeller->runs;
    int width = labeller->width, count = 0, above_start = 0, above_end = 0;
    for (int y = 0; y < labeller->height; y++) {
        const uint8_t *row = mask + (size_t)y * (size_t)width;
        int row_start = count, cursor = above_start;
        int x = motion_row_skip(row, 0, width);
        while (x < width) {
            int start = x;
            while (x < width && row[x] != 0)
                x++;
            if (count == labeller->capacity)
                return count; /* only for masks that were not opened */
            struct motion_run *run = &runs[count];
            *run = (struct motion_run){
                .x0 = (uint16_t)start,
                .x1 = (uint16_t)x,
                .y = (uint16_t)y,
                .box_x0 = (uint16_t)start,
                .box_y0 = (uint16_t)y,
                .box_x1 = (uint16_t)x,
                .box_y1 = (uint16_t)(y + 1),
                .parent = (uint32_t)count,
                .area = (uint32_t)(x - start),
            };
            /* Runs above touch this one (diagonals included) when they
             * cover any column in [start - 1, x]. */
            while (cursor < above_end && runs[cursor].x1 < start)
                cursor++;
            for (int above = cursor; above < above_end && runs[above].x0 <= x; above++)
                motion_run_join(runs, (uint32_t)above, (uint32_t)count);
            count++;
            x = motion_row_skip(row, x, width);
        }
        above_start = row_start;
        above_end = count;
    }
    return count;
}

/* Label a mask into blobs (see header). */
int motion_label(struct motion_labeller *labeller, const uint8_t *mask, int min_area,
                 struct motion_blob *blobs, int max)
{
    struct motion_run *runs = labeller->runs;
    int count = motion_label_runs(labeller, mask);
    /* Roots have the lowest index of their component, so each run folds
     * into a root whose own statistics are already final up to it. */
    for (int i = 0; i < count; i++) {
        uint32_t root = motion_run_root(runs, (uint32_t)i);
        if (root == (uint32_t)i)
            continue;
        struct motion_run *into = &runs[root];
        const struct motion_run *run = &runs[i];
        into->area += run->area;
        into->box_x0 = run->x0 < into->box_x0 ? run->x0 : into->box_x0;
        into->box_x1 = run->x1 > into->box_x1 ? run->x1 : into->box_x1;
        into->box_y1 = (uint16_t)(run->y + 1 > into->box_y1 ? run->y + 1 : into->box_y1);
    }
    int written = 0;
    for (int i = 0; i < count; i++) {
        const struct motion_run *run = &runs[i];
        if (run->parent != (uint32_t)i || run->area < (uint32_t)min_area)
            continue;
        struct motion_blob blob = {run->box_x0, run->box_y0, run->box_x1, run->box_y1,
                                   (int)run->area};
        if (written < max) {
            blobs[written++] = blob;
            continue;
        }
        int smallest = 0;
        for (int b = 1; b < written; b++)
            if (blobs[b].area < blobs[smallest].area)
                smallest = b;
        if (written > 0 && blobs[smallest].area < blob.area)
            blobs[smallest] = blob;
    }
    return written;
}
