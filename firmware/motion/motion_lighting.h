/*
 * motion_lighting.h - lighting compensation for the motion detector (step 2
 * and the relit part of step 3 described in motion_detector.c): per block
 * of the analysis picture, how much the light changed against the
 * background (a luma gain, chroma offsets), robust to objects, as a smooth
 * field the detector applies to every pixel before comparing.
 *
 * Owned by the detector's thread; the struct is embedded in the detector
 * and allocates nothing.
 */
#ifndef DOORSTEP_MOTION_LIGHTING_H
#define DOORSTEP_MOTION_LIGHTING_H

#include <stdint.h>

#include "motion/motion_detector.h"

#define MOTION_BLOCK_COLUMNS 20
#define MOTION_BLOCK_ROWS    10
#define MOTION_BLOCK_WIDTH   (MOTION_ANALYSIS_WIDTH / MOTION_BLOCK_COLUMNS) /* 16 luma pixels */
#define MOTION_BLOCK_HEIGHT  (MOTION_ANALYSIS_HEIGHT / MOTION_BLOCK_ROWS)   /* 18 luma rows */
#define MOTION_GAIN_BINS     256 /* 1/64 octave, -2..+2 */
#define MOTION_OFFSET_BINS   128 /* chroma offset -64..63 */

typedef int motion_grid[MOTION_BLOCK_ROWS][MOTION_BLOCK_COLUMNS];

/* Bilinear interpolation of a block grid along one axis: per pixel row,
 * the block before, the block after and the weight of the latter (0..256). */
struct motion_axis {
    uint8_t before, after;
    uint16_t weight;
};

struct motion_lighting {
    int16_t log_table[256];               /* 64 log2(luma - 16 + 1), luma >= 16 */
    int16_t gain_table[MOTION_GAIN_BINS]; /* bin -> gain, Q8 */
    uint16_t histogram[MOTION_BLOCK_COLUMNS][MOTION_GAIN_BINS + 1];
    uint16_t histogram_u[MOTION_BLOCK_COLUMNS][MOTION_OFFSET_BINS];
    uint16_t histogram_v[MOTION_BLOCK_COLUMNS][MOTION_OFFSET_BINS];
    motion_grid block_gain, block_u, block_v;          /* raw medians: gain bins, levels */
    motion_grid gain, offset_u, offset_v;              /* smoothed: gain Q8, offsets Q8 */
    motion_grid previous_gain, previous_u, previous_v; /* the same, one frame earlier */
    struct motion_axis luma_y[MOTION_ANALYSIS_HEIGHT], chroma_y[MOTION_ANALYSIS_HEIGHT / 2];
    int64_t relit_until_us[MOTION_BLOCK_ROWS][MOTION_BLOCK_COLUMNS];
    uint8_t ramping[MOTION_BLOCK_ROWS][MOTION_BLOCK_COLUMNS];
};

/* The analysis picture and the background means it is compared with. */
struct motion_planes {
    const uint8_t *luma, *chroma_u, *chroma_v; /* 320x180, 160x90 */
    const uint16_t *mean_y, *mean_u, *mean_v;  /* Q8, same sizes */
};

/* What motion_lighting_state() says about a block. */
enum motion_lighting_state {
    MOTION_LIGHTING_RELIT = 1,   /* the light changed over a region including it, < 2 s ago */
    MOTION_LIGHTING_RAMPING = 2, /* ...and is still changing on this frame */
};

/* Fill the tables; the rest starts at zero (no change). */
void motion_lighting_init(struct motion_lighting *lighting);

/* Estimate the change of light per block for this frame at now_us, and
 * return the median gain over all blocks in 1/64 octaves from unity (how
 * much the whole picture brightened or darkened). */
int motion_lighting_estimate(struct motion_lighting *lighting, const struct motion_planes *planes,
                             int64_t now_us);

/* The gain (Q8) at every pixel of luma row y. */
void motion_lighting_gain_row(const struct motion_lighting *lighting, int y, int *gain);

/* The chroma offsets (Q8) at every pixel of chroma row y. */
void motion_lighting_offset_rows(const struct motion_lighting *lighting, int y, int *offset_u,
                                 int *offset_v);

/* enum motion_lighting_state bits of a block at now_us. */
int motion_lighting_state(const struct motion_lighting *lighting, int block_row, int column,
                          int64_t now_us);

#endif
