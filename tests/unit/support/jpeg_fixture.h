/*
 * jpeg_fixture.h - test helper: JPEGs made in memory with libjpeg (gray or
 * a colour pattern, baseline or progressive) for the detection tests, and
 * frames of real footage extracted with ffmpeg. A helper that cannot do
 * its part fails the current cmocka test.
 *
 * Single-threaded. Ownership: returned buffers are malloc'd; the caller
 * frees them.
 */
#ifndef DOORSTEP_TEST_JPEG_FIXTURE_H
#define DOORSTEP_TEST_JPEG_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* A width x height JPEG of a smooth pattern (components 1: gray, 3: RGB),
 * progressive when asked; *size_out gets its length. */
uint8_t *jpeg_fixture_make(int width, int height, int components, int progressive,
                           size_t *size_out);

/* The offset of the first SOF marker's height field (2 bytes big-endian,
 * then 2 bytes of width) in jpeg, so a test can lie about the size. */
size_t jpeg_fixture_sof_size_offset(const uint8_t *jpeg, size_t size);

/* Extract frames 0, step, 2 * step... (at most count) of video in one pass
 * into directory/f0000.jpg, f0001.jpg... (numbered by sample, not by frame)
 * as JPEGs of quality about 85 (ffmpeg -q:v 3), as a doorbell sends them. */
void jpeg_fixture_extract_every(const char *video, int step, int count, const char *directory);

/* Read directory/fNNNN.jpg (sample index) into memory; *size_out its length. */
uint8_t *jpeg_fixture_read_sample(const char *directory, int index, size_t *size_out);

#endif
