/*
 * frame_stamp.c - draws and reads the 64-bit frame stamp (see
 * frame_stamp.h for the exact pixel layout, which tools outside the firmware
 * decode). Pure functions on caller-owned planes; safe from any thread.
 */
#include "camera/frame_stamp.h"

#include <assert.h>
#include <string.h>

#define FRAME_STAMP_CELL      8
#define FRAME_STAMP_CELLS     64
#define FRAME_STAMP_MARGIN    8
#define FRAME_STAMP_LUMA_ONE  235
#define FRAME_STAMP_LUMA_ZERO 16
#define FRAME_STAMP_CHROMA    128
#define FRAME_STAMP_THRESHOLD 126
#define FRAME_STAMP_TIME_MASK ((UINT64_C(1) << 48) - 1)
/* A margin block (8x8) whose mean luma is above this is "not black": the
 * frame carries no stamp. Generous, so that H.264 ringing next to white
 * cells still passes, yet far below the 126 cell threshold. */
#define FRAME_STAMP_MARGIN_MAX 64

/* Compose the stamp: 48 bits of milliseconds above 16 bits of sequence. */
uint64_t frame_stamp_value(uint64_t capture_time_ms, uint32_t sequence)
{
    return ((capture_time_ms & FRAME_STAMP_TIME_MASK) << 16) | (uint64_t)(sequence & 0xffffu);
}

/* Paint the band black, the 64 cells white or black, and the chroma under
 * the band neutral. The caller owns the planes and guarantees the picture is
 * at least FRAME_STAMP_BAND_WIDTH x FRAME_STAMP_BAND_HEIGHT. */
void frame_stamp_draw(uint8_t *y, int stride_y, uint8_t *u, uint8_t *v, int stride_uv,
                      uint64_t capture_time_ms, uint32_t sequence)
{
    assert(y != NULL && u != NULL && v != NULL);
    assert(stride_y >= FRAME_STAMP_BAND_WIDTH && stride_uv >= FRAME_STAMP_BAND_WIDTH / 2);

    uint64_t value = frame_stamp_value(capture_time_ms, sequence);
    uint8_t row[FRAME_STAMP_BAND_WIDTH];
    memset(row, FRAME_STAMP_LUMA_ZERO, sizeof(row));
    for (int cell = 0; cell < FRAME_STAMP_CELLS; cell++) {
        int bit = (int)((value >> (FRAME_STAMP_CELLS - 1 - cell)) & 1u);
        memset(row + FRAME_STAMP_MARGIN + cell * FRAME_STAMP_CELL,
               bit ? FRAME_STAMP_LUMA_ONE : FRAME_STAMP_LUMA_ZERO, FRAME_STAMP_CELL);
    }
    for (int line = 0; line < FRAME_STAMP_BAND_HEIGHT; line++) {
        uint8_t *dst = y + (size_t)line * (size_t)stride_y;
        if (line >= FRAME_STAMP_MARGIN && line < FRAME_STAMP_MARGIN + FRAME_STAMP_CELL)
            memcpy(dst, row, sizeof(row));
        else
            memset(dst, FRAME_STAMP_LUMA_ZERO, FRAME_STAMP_BAND_WIDTH);
    }
    for (int line = 0; line < FRAME_STAMP_BAND_HEIGHT / 2; line++) {
        memset(u + (size_t)line * (size_t)stride_uv, FRAME_STAMP_CHROMA,
               FRAME_STAMP_BAND_WIDTH / 2);
        memset(v + (size_t)line * (size_t)stride_uv, FRAME_STAMP_CHROMA,
               FRAME_STAMP_BAND_WIDTH / 2);
    }
}

/* Mean luma of the 8x8 block whose top-left corner is (x, y). */
static int frame_stamp_block_mean(const uint8_t *y, int stride_y, int x0, int y0)
{
    int sum = 0;
    for (int line = 0; line < 8; line++) {
        const uint8_t *src = y + (size_t)(y0 + line) * (size_t)stride_y + x0;
        for (int column = 0; column < 8; column++)
            sum += src[column];
    }
    return sum / 64;
}

/* Mean luma of the centre 4x4 of cell `cell`. */
static int frame_stamp_cell_centre_mean(const uint8_t *y, int stride_y, int cell)
{
    int x0 = FRAME_STAMP_MARGIN + cell * FRAME_STAMP_CELL + 2;
    int y0 = FRAME_STAMP_MARGIN + 2;
    int sum = 0;
    for (int line = 0; line < 4; line++) {
        const uint8_t *src = y + (size_t)(y0 + line) * (size_t)stride_y + x0;
        for (int column = 0; column < 4; column++)
            sum += src[column];
    }
    return sum / 16;
}

/* Check every 8x8 block of the margin is dark, then threshold the cells.
 * Outputs are written only on success. */
int frame_stamp_read(const uint8_t *y, int stride_y, uint64_t *capture_time_ms_out,
                     uint16_t *sequence_out)
{
    assert(y != NULL && stride_y >= FRAME_STAMP_BAND_WIDTH);

    for (int x = 0; x < FRAME_STAMP_BAND_WIDTH; x += 8) {
        if (frame_stamp_block_mean(y, stride_y, x, 0) > FRAME_STAMP_MARGIN_MAX ||
            frame_stamp_block_mean(y, stride_y, x, 16) > FRAME_STAMP_MARGIN_MAX)
            return -1;
    }
    if (frame_stamp_block_mean(y, stride_y, 0, 8) > FRAME_STAMP_MARGIN_MAX ||
        frame_stamp_block_mean(y, stride_y, FRAME_STAMP_BAND_WIDTH - 8, 8) > FRAME_STAMP_MARGIN_MAX)
        return -1;

    uint64_t value = 0;
    for (int cell = 0; cell < FRAME_STAMP_CELLS; cell++) {
        int bit = frame_stamp_cell_centre_mean(y, stride_y, cell) >= FRAME_STAMP_THRESHOLD;
        value = (value << 1) | (uint64_t)bit;
    }
    if (capture_time_ms_out != NULL)
        *capture_time_ms_out = value >> 16;
    if (sequence_out != NULL)
        *sequence_out = (uint16_t)(value & 0xffffu);
    return 0;
}
