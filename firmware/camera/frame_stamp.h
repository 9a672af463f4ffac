/*
 * frame_stamp.h - the 64-bit frame stamp drawn into every sim frame: a fixed
 * interface that tools outside the firmware decode (docs/protocol.md, "Frame
 * stamp").
 *
 * 64 cells of 8x8 luma in one row: cell i covers x in [8+8i, 16+8i), y in
 * [8, 16); 1 = luma 235, 0 = luma 16; an 8-pixel luma-16 margin surrounds the
 * row (band x in [0, 528), y in [0, 24)). Bit 63 is the leftmost cell.
 * Bits 63..16 = capture time in ms since the epoch mod 2^48; bits 15..0 =
 * sequence number mod 2^16. Chroma under the band is neutral (128).
 * Pure functions; any thread.
 */
#ifndef DOORSTEP_FRAME_STAMP_H
#define DOORSTEP_FRAME_STAMP_H

#include <stdint.h>

#define FRAME_STAMP_BAND_WIDTH  528
#define FRAME_STAMP_BAND_HEIGHT 24

/* Compose the 64-bit stamp value. */
uint64_t frame_stamp_value(uint64_t capture_time_ms, uint32_t sequence);

/* Draw the stamp into an I420 picture (needs width >= 528, height >= 24). */
void frame_stamp_draw(uint8_t *y, int stride_y, uint8_t *u, uint8_t *v, int stride_uv,
                      uint64_t capture_time_ms, uint32_t sequence);

/* Read a stamp back from luma by thresholding each cell's centre 4x4 at 126.
 * Returns 0 and fills outputs if the black margin looks right, else -1. */
int frame_stamp_read(const uint8_t *y, int stride_y, uint64_t *capture_time_ms_out,
                     uint16_t *sequence_out);

#endif
