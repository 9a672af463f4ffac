/*
 * motion_lighting.c - lighting compensation for the motion detector (see
 * motion_lighting.h and step 2 of motion_detector.c).
 *
 * Gains are medians of log ratios (1/64-octave bins) of the picture to the
 * background per 16x18 block, offsets medians of chroma differences per
 * 8x9 chroma block; a block far from its 3x3 neighbours' median takes that
 * median; rows of the field are interpolated linearly between block
 * centres. Owned by the detector's thread; nothing allocated.
 */
#include "motion/motion_lighting.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MOTION_WIDTH         MOTION_ANALYSIS_WIDTH
#define MOTION_HEIGHT        MOTION_ANALYSIS_HEIGHT
#define MOTION_CHROMA_WIDTH  (MOTION_WIDTH / 2)
#define MOTION_CHROMA_HEIGHT (MOTION_HEIGHT / 2)
#define MOTION_BLACK         16

#define MOTION_GAIN_ZERO        128
#define MOTION_GAIN_VOID        MOTION_GAIN_BINS /* extra bin: pixels that do not vote */
#define MOTION_GAIN_DARKEST     28  /* background darker than this says little about gain */
#define MOTION_GAIN_BRIGHTEST   229 /* brighter than this may be clipped */
#define MOTION_GAIN_OUTLIER     8   /* bins: a block this far from its neighbours holds an object */
#define MOTION_OFFSET_OUTLIER   4   /* levels, the same for chroma offsets */
#define MOTION_UNKNOWN          (-1000)
#define MOTION_OFFSET_ZERO      64
#define MOTION_RELIT_GAIN_Q8    17   /* 7 %: the compensation is at work in a block */
#define MOTION_RELIT_OFFSET     4    /* chroma levels, the same */
#define MOTION_RELIT_MS         2000 /* a block counts as relit this long after */
#define MOTION_RELIT_MIN_BLOCKS 12   /* of 200: the light changed over a region */
#define MOTION_RAMP_GAIN_Q8     5    /* 2 % since the previous frame: the light is still changing */
#define MOTION_RAMP_OFFSET      2

/* Clamp v to [low, high]. */
static int motion_clamp(int v, int low, int high)
{
    return v < low ? low : v > high ? high : v;
}

/* Interpolation positions for `count` pixels over `blocks` blocks of
 * `size` pixels: block centres sit at size * (i + 0.5). */
static void motion_axis_build(struct motion_axis *axis, int count, int blocks, int size)
{
    for (int i = 0; i < count; i++) {
        double position = (i + 0.5) / size - 0.5;
        int before = (int)floor(position);
        double weight = position - before;
        if (before < 0) {
            before = 0;
            weight = 0.0;
        } else if (before >= blocks - 1) {
            before = blocks - 1;
            weight = 0.0;
        }
        axis[i].before = (uint8_t)before;
        axis[i].after = (uint8_t)(before + 1 < blocks ? before + 1 : before);
        axis[i].weight = (uint16_t)lround(weight * 256.0);
    }
}

/* Fill the log, gain and interpolation tables (see header). */
void motion_lighting_init(struct motion_lighting *lighting)
{
    memset(lighting, 0, sizeof(*lighting));
    for (int value = 0; value < 256; value++) {
        int above_black = value > MOTION_BLACK ? value - MOTION_BLACK : 0;
        lighting->log_table[value] = (int16_t)lround(64.0 * log2(above_black + 1.0));
    }
    for (int bin = 0; bin < MOTION_GAIN_BINS; bin++)
        lighting->gain_table[bin] = (int16_t)lround(256.0 * exp2((bin - MOTION_GAIN_ZERO) / 64.0));
    motion_axis_build(lighting->luma_y, MOTION_HEIGHT, MOTION_BLOCK_ROWS, MOTION_BLOCK_HEIGHT);
    motion_axis_build(lighting->chroma_y, MOTION_CHROMA_HEIGHT, MOTION_BLOCK_ROWS,
                      MOTION_BLOCK_HEIGHT / 2);
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++)
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++)
            lighting->gain[row][column] = lighting->previous_gain[row][column] = 256;
}

/* The bin where the running count reaches half of total. */
static int motion_median_bin(const uint16_t *histogram, int bins, int total)
{
    int half = (total + 1) / 2, sum = 0;
    for (int bin = 0; bin < bins; bin++) {
        sum += histogram[bin];
        if (sum >= half)
            return bin;
    }
    return bins - 1;
}

/* Median of up to 9 values (insertion sort). */
static int motion_median_small(int *values, int count)
{
    for (int i = 1; i < count; i++) {
        int value = values[i], j = i - 1;
        for (; j >= 0 && values[j] > value; j--)
            values[j + 1] = values[j];
        values[j + 1] = value;
    }
    return values[count / 2];
}

/* The value of a block after smoothing: the median of the known blocks
 * around it (itself included), or its own value when it is known and within
 * `outlier` of that median, so that the peak of a smooth lighting field
 * stays while a block holding an object takes its neighbours' value.
 * MOTION_UNKNOWN when no block around is known. */
static int motion_grid_pick(motion_grid grid, int row, int column, int outlier)
{
    int values[9], count = 0;
    for (int r = row - 1; r <= row + 1; r++)
        for (int c = column - 1; c <= column + 1; c++)
            if (r >= 0 && r < MOTION_BLOCK_ROWS && c >= 0 && c < MOTION_BLOCK_COLUMNS &&
                grid[r][c] != MOTION_UNKNOWN)
                values[count++] = grid[r][c];
    if (count == 0)
        return MOTION_UNKNOWN;
    int median = motion_median_small(values, count);
    int own = grid[row][column];
    return own != MOTION_UNKNOWN && abs(own - median) <= outlier ? own : median;
}

/* Smooth a grid of medians (motion_grid_pick, unknown = no change) into
 * `out`: gain bins through `table` when given, else offsets times scale. */
static void motion_grid_smooth(motion_grid out, motion_grid grid, int outlier, const int16_t *table,
                               int scale)
{
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++) {
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++) {
            int value = motion_grid_pick(grid, row, column, outlier);
            value = value == MOTION_UNKNOWN ? 0 : value;
            out[row][column] = table != NULL ? table[value + MOTION_GAIN_ZERO] : value * scale;
        }
    }
}

/* Whether the compensation is at work in a block. */
static int motion_block_compensated(const struct motion_lighting *lighting, int row, int column)
{
    return abs(lighting->gain[row][column] - 256) >= MOTION_RELIT_GAIN_Q8 ||
           abs(lighting->offset_u[row][column]) >= MOTION_RELIT_OFFSET * 256 ||
           abs(lighting->offset_v[row][column]) >= MOTION_RELIT_OFFSET * 256;
}

/* Whether a block's compensation moved since the previous frame. */
static int motion_block_ramping(const struct motion_lighting *lighting, int row, int column)
{
    return abs(lighting->gain[row][column] - lighting->previous_gain[row][column]) >=
               MOTION_RAMP_GAIN_Q8 ||
           abs(lighting->offset_u[row][column] - lighting->previous_u[row][column]) >=
               MOTION_RAMP_OFFSET * 256 ||
           abs(lighting->offset_v[row][column] - lighting->previous_v[row][column]) >=
               MOTION_RAMP_OFFSET * 256;
}

/* Mark blocks relit when the light changed over a region: compensation at
 * work in at least MOTION_RELIT_MIN_BLOCKS blocks at once. A person or a car
 * seldom survives the outlier test in more than a handful of blocks, so
 * they do not make a region relit. Relit blocks whose compensation still
 * moves are ramping: nothing in them is reported on this frame. */
static void motion_lighting_mark(struct motion_lighting *lighting, int64_t now_us)
{
    int count = 0;
    memset(lighting->ramping, 0, sizeof(lighting->ramping));
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++)
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++)
            count += motion_block_compensated(lighting, row, column);
    for (int row = 0; row < MOTION_BLOCK_ROWS && count >= MOTION_RELIT_MIN_BLOCKS; row++) {
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++) {
            if (!motion_block_compensated(lighting, row, column))
                continue;
            lighting->relit_until_us[row][column] = now_us + MOTION_RELIT_MS * 1000LL;
            lighting->ramping[row][column] = (uint8_t)motion_block_ramping(lighting, row, column);
        }
    }
    memcpy(lighting->previous_gain, lighting->gain, sizeof(lighting->gain));
    memcpy(lighting->previous_u, lighting->offset_u, sizeof(lighting->offset_u));
    memcpy(lighting->previous_v, lighting->offset_v, sizeof(lighting->offset_v));
}

/* Estimate the lighting change per block (see header). Only pixels whose
 * background is bright enough and whose picture is not clipped vote for
 * the gain; a block with too few votes is unknown. */
int motion_lighting_estimate(struct motion_lighting *lighting, const struct motion_planes *planes,
                             int64_t now_us)
{
    /* Every other pixel of every other row votes: plenty for a median. */
    const int block_votes = (MOTION_BLOCK_WIDTH / 2) * (MOTION_BLOCK_HEIGHT / 2);
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++) {
        memset(lighting->histogram, 0, sizeof(lighting->histogram));
        for (int y = row * MOTION_BLOCK_HEIGHT; y < (row + 1) * MOTION_BLOCK_HEIGHT; y += 2) {
            const uint8_t *picture = planes->luma + y * MOTION_WIDTH;
            const uint16_t *mean = planes->mean_y + y * MOTION_WIDTH;
            for (int x = 0; x < MOTION_WIDTH; x += 2) {
                int background = (mean[x] + 128) >> 8;
                int bin = lighting->log_table[picture[x]] - lighting->log_table[background] +
                          MOTION_GAIN_ZERO;
                bin = motion_clamp(bin, 0, MOTION_GAIN_BINS - 1);
                if (background < MOTION_GAIN_DARKEST || background > MOTION_GAIN_BRIGHTEST ||
                    picture[x] > MOTION_GAIN_BRIGHTEST)
                    bin = MOTION_GAIN_VOID;
                lighting->histogram[x / MOTION_BLOCK_WIDTH][bin]++;
            }
        }
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++) {
            const uint16_t *histogram = lighting->histogram[column];
            int votes = block_votes - histogram[MOTION_GAIN_VOID];
            lighting->block_gain[row][column] =
                votes * 4 < block_votes
                    ? MOTION_UNKNOWN
                    : motion_median_bin(histogram, MOTION_GAIN_BINS, votes) - MOTION_GAIN_ZERO;
        }
    }

    const int chroma_block_width = MOTION_BLOCK_WIDTH / 2;
    const int chroma_block_height = MOTION_BLOCK_HEIGHT / 2;
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++) {
        memset(lighting->histogram_u, 0, sizeof(lighting->histogram_u));
        memset(lighting->histogram_v, 0, sizeof(lighting->histogram_v));
        for (int y = row * chroma_block_height; y < (row + 1) * chroma_block_height; y++) {
            int base = y * MOTION_CHROMA_WIDTH;
            for (int x = 0; x < MOTION_CHROMA_WIDTH; x++) {
                int du = planes->chroma_u[base + x] - ((planes->mean_u[base + x] + 128) >> 8);
                int dv = planes->chroma_v[base + x] - ((planes->mean_v[base + x] + 128) >> 8);
                int column = x / chroma_block_width;
                lighting->histogram_u[column][motion_clamp(du + MOTION_OFFSET_ZERO, 0,
                                                           MOTION_OFFSET_BINS - 1)]++;
                lighting->histogram_v[column][motion_clamp(dv + MOTION_OFFSET_ZERO, 0,
                                                           MOTION_OFFSET_BINS - 1)]++;
            }
        }
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++) {
            int total = chroma_block_width * chroma_block_height;
            lighting->block_u[row][column] =
                motion_median_bin(lighting->histogram_u[column], MOTION_OFFSET_BINS, total) -
                MOTION_OFFSET_ZERO;
            lighting->block_v[row][column] =
                motion_median_bin(lighting->histogram_v[column], MOTION_OFFSET_BINS, total) -
                MOTION_OFFSET_ZERO;
        }
    }

    motion_grid_smooth(lighting->gain, lighting->block_gain, MOTION_GAIN_OUTLIER,
                       lighting->gain_table, 1);
    motion_grid_smooth(lighting->offset_u, lighting->block_u, MOTION_OFFSET_OUTLIER, NULL, 256);
    motion_grid_smooth(lighting->offset_v, lighting->block_v, MOTION_OFFSET_OUTLIER, NULL, 256);
    motion_lighting_mark(lighting, now_us);

    /* Median over the known blocks, reusing the first histogram. */
    uint16_t *all = lighting->histogram[0];
    int known = 0;
    memset(all, 0, sizeof(lighting->histogram[0]));
    for (int row = 0; row < MOTION_BLOCK_ROWS; row++)
        for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++)
            if (lighting->block_gain[row][column] != MOTION_UNKNOWN) {
                all[lighting->block_gain[row][column] + MOTION_GAIN_ZERO]++;
                known++;
            }
    return known == 0 ? 0 : motion_median_bin(all, MOTION_GAIN_BINS, known) - MOTION_GAIN_ZERO;
}

/* One row of a smoothed grid interpolated to pixels, into out[]: blocks
 * are block_width pixels wide (a power of two, `shift` = log2 of twice
 * that); between two block centres the value moves linearly, before the
 * first and after the last it stays. */
static void motion_grid_row(const int (*grid)[MOTION_BLOCK_COLUMNS],
                            const struct motion_axis *vertical, int block_width, int shift,
                            int *out)
{
    int blended[MOTION_BLOCK_COLUMNS];
    int weight = vertical->weight;
    for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++)
        blended[column] = grid[vertical->before][column] * (256 - weight) +
                          grid[vertical->after][column] * weight;
    int half = block_width / 2, last = MOTION_BLOCK_COLUMNS - 1;
    for (int x = 0; x < half; x++)
        out[x] = blended[0] >> 8;
    for (int column = 0; column < last; column++) {
        int *segment = out + column * block_width + half;
        int from = blended[column], to = blended[column + 1];
        /* Pixel k of the segment sits (2k + 1) / (2 block_width) of the way. */
        for (int k = 0; k < block_width; k++)
            segment[k] = (from * (2 * block_width - 2 * k - 1) + to * (2 * k + 1)) >> (shift + 8);
    }
    for (int x = last * block_width + half; x < MOTION_BLOCK_COLUMNS * block_width; x++)
        out[x] = blended[last] >> 8;
}

/* The gain at every pixel of a luma row (see header). */
void motion_lighting_gain_row(const struct motion_lighting *lighting, int y, int *gain)
{
    motion_grid_row(lighting->gain, &lighting->luma_y[y], MOTION_BLOCK_WIDTH, 5, gain);
}

/* The chroma offsets at every pixel of a chroma row (see header). */
void motion_lighting_offset_rows(const struct motion_lighting *lighting, int y, int *offset_u,
                                 int *offset_v)
{
    motion_grid_row(lighting->offset_u, &lighting->chroma_y[y], MOTION_BLOCK_WIDTH / 2, 4,
                    offset_u);
    motion_grid_row(lighting->offset_v, &lighting->chroma_y[y], MOTION_BLOCK_WIDTH / 2, 4,
                    offset_v);
}

/* Relit and ramping state of a block (see header). */
int motion_lighting_state(const struct motion_lighting *lighting, int block_row, int column,
                          int64_t now_us)
{
    return (now_us < lighting->relit_until_us[block_row][column] ? MOTION_LIGHTING_RELIT : 0) |
           (lighting->ramping[block_row][column] ? MOTION_LIGHTING_RAMPING : 0);
}
