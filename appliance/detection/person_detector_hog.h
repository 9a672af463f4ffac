/*
 * person_detector_hog.h - the C face of OpenCV's HOG people detector (the
 * only C++ in the hub, person_detector_hog.cpp): scale one rectangle of a
 * gray picture and run cv::HOGDescriptor::detectMultiScale with the
 * default people SVM (Dalal-Triggs, 64x128 window) that ships inside
 * libopencv-objdetect; nothing is downloaded or read from disk.
 *
 * Threads: a struct person_hog is used by one thread at a time (each pool
 * worker owns one: a HOGDescriptor is not shared). OpenCV's own worker
 * threads are turned off (cv::setNumThreads(0)) so all the work runs on
 * the caller's thread, at its priority. Ownership: person_hog_free() frees
 * what person_hog_create() made. No C++ exception leaves these functions:
 * each becomes a -1 with the exception's text in error.
 */
#ifndef DOORSTEP_PERSON_DETECTOR_HOG_H
#define DOORSTEP_PERSON_DETECTOR_HOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One raw window found by detectMultiScale, in the picture's pixels, with
 * the SVM's weight (its distance past the decision boundary). */
struct person_hog_hit {
    int x, y, width, height;
    double weight;
};

/* How detectMultiScale runs (see person_detector.c for the chosen values). */
struct person_hog_params {
    double hit_threshold; /* SVM weight a window needs to count */
    int win_stride;       /* pixels between windows, both ways (multiple of 8) */
    int padding;          /* pixels of border added around the scaled rectangle */
    double scale;         /* pyramid step (> 1) */
    int group_threshold;  /* windows a group needs (detectMultiScale's finalThreshold) */
};

struct person_hog;

/* Make a detector with the default people SVM; NULL with error on failure. */
struct person_hog *person_hog_create(char *error, size_t error_size);

/* Free a detector; NULL is fine. */
void person_hog_free(struct person_hog *hog);

/* Run the detector on the rectangle (x, y, width, height) of the gray
 * picture (pixels, picture_width x picture_height, rows of stride bytes)
 * resized by factor (> 0; 1 = as is) with linear (up) or area (down)
 * interpolation. Up to max_hits hits go to hits, mapped back to the
 * picture's pixels, strongest first; *hit_count is how many. Returns 0, or
 * -1 with error. */
int person_hog_detect(struct person_hog *hog, const uint8_t *pixels, int picture_width,
                      int picture_height, int stride, int x, int y, int width, int height,
                      double factor, const struct person_hog_params *params,
                      struct person_hog_hit *hits, int max_hits, int *hit_count, char *error,
                      size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
