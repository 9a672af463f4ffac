/*
 * fuzz_detection_image.c - libFuzzer harness for the hub's decode of the
 * JPEG in every DETECT_FRAME (appliance/detection/detection_image.c):
 * whatever a doorbell (or someone holding its key) sends.
 *
 * Invariants: a decode either succeeds with a picture inside the size
 * limits whose every pixel can be read, or fails with an empty picture and
 * a reason; it never reads outside the input (ASan), never allocates for a
 * size it then refuses, and finishes (the progressive scan bound).
 *
 * Seeds (tests/fuzz/corpus/detection_image/, about 1 KB each): frames of
 * OpenCV's vtest.avi and tree.avi scaled down by ffmpeg,
 *   ffmpeg -i vtest.avi -vf 'select=eq(n\,100),scale=48:36' -frames:v 1 -q:v 3 -f image2
 * vtest-baseline ffmpeg -i tree.avi -vf 'select=eq(n\,20),scale=40:32' -frames:v 1 -q:v 3 -f image2
 * tree-small and vtest-baseline transcoded losslessly to progressive (libjpeg's
 * jpeg_read_coefficients, jpeg_simple_progression, jpeg_write_coefficients:
 * what `jpegtran -progressive` does).
 *
 * Runs on libFuzzer's single thread; the picture is freed per input. Built
 * from common/ (always linked) and:
 * FUZZ_SOURCES: appliance/detection/detection_image.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "detection/detection_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Decode one input and check the invariants above. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct detection_image image;
    char error[160] = "";
    volatile unsigned sum = 0;

    if (detection_image_decode_gray(data, size, &image, error, sizeof(error)) == 0) {
        FUZZ_CHECK(image.pixels != NULL);
        FUZZ_CHECK(image.width >= DETECTION_IMAGE_MIN_SIZE &&
                   image.width <= DETECTION_IMAGE_MAX_WIDTH);
        FUZZ_CHECK(image.height >= DETECTION_IMAGE_MIN_SIZE &&
                   image.height <= DETECTION_IMAGE_MAX_HEIGHT);
        for (size_t i = 0; i < (size_t)image.width * (size_t)image.height; i++)
            sum += image.pixels[i];
        detection_image_release(&image);
        FUZZ_CHECK(image.pixels == NULL);
    } else {
        FUZZ_CHECK(image.pixels == NULL && image.width == 0 && image.height == 0);
        FUZZ_CHECK(error[0] != '\0');
    }
    (void)sum;
    return 0;
}
