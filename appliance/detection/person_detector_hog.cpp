/*
 * person_detector_hog.cpp - the thin C++ wrapper around OpenCV's HOG people
 * detector (person_detector_hog.h). Everything else of the detector is C
 * (person_detector.c). Every entry point catches every exception.
 *
 * Threads: one thread at a time per struct person_hog. Ownership: the
 * struct owns its cv::HOGDescriptor; the picture is borrowed (wrapped in a
 * cv::Mat header, never copied except by the resize).
 */
#include "detection/person_detector_hog.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

struct person_hog {
    cv::HOGDescriptor descriptor;
};

/* Copy text into the caller's error buffer (may be NULL). */
static void person_hog_error(char *error, size_t error_size, const char *what, const char *text)
{
    if (error != nullptr && error_size > 0)
        std::snprintf(error, error_size, "%s: %s", what, text);
}

/* See person_detector_hog.h. */
extern "C" struct person_hog *person_hog_create(char *error, size_t error_size)
{
    try {
        /* All of OpenCV's work on the calling thread (process-wide setting). */
        cv::setNumThreads(0);
        person_hog *hog = new person_hog();
        hog->descriptor.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
        return hog;
    } catch (const std::exception &exception) {
        person_hog_error(error, error_size, "HOG detector", exception.what());
    } catch (...) {
        person_hog_error(error, error_size, "HOG detector", "unknown exception");
    }
    return nullptr;
}

/* See person_detector_hog.h. */
extern "C" void person_hog_free(struct person_hog *hog)
{
    try {
        delete hog;
    } catch (...) {
    }
}

/* See person_detector_hog.h. */
extern "C" int person_hog_detect(struct person_hog *hog, const uint8_t *pixels, int picture_width,
                                 int picture_height, int stride, int x, int y, int width,
                                 int height, double factor, const struct person_hog_params *params,
                                 struct person_hog_hit *hits, int max_hits, int *hit_count,
                                 char *error, size_t error_size)
{
    *hit_count = 0;
    try {
        cv::Mat picture(picture_height, picture_width, CV_8UC1, const_cast<uint8_t *>(pixels),
                        (size_t)stride);
        cv::Mat crop = picture(cv::Rect(x, y, width, height));
        cv::Mat scaled;
        if (factor == 1.0)
            scaled = crop;
        else
            cv::resize(crop, scaled, cv::Size(), factor, factor,
                       factor > 1.0 ? cv::INTER_LINEAR : cv::INTER_AREA);
        std::vector<cv::Rect> found;
        std::vector<double> weights;
        if (scaled.cols >= hog->descriptor.winSize.width &&
            scaled.rows >= hog->descriptor.winSize.height)
            hog->descriptor.detectMultiScale(scaled, found, weights, params->hit_threshold,
                                             cv::Size(params->win_stride, params->win_stride),
                                             cv::Size(params->padding, params->padding),
                                             params->scale, (double)params->group_threshold, false);
        weights.resize(found.size(), 0.0);
        std::vector<size_t> order(found.size());
        for (size_t i = 0; i < order.size(); i++)
            order[i] = i;
        std::sort(order.begin(), order.end(),
                  [&weights](size_t a, size_t b) { return weights[a] > weights[b]; });
        int count = 0;
        for (size_t i = 0; i < order.size() && count < max_hits; i++) {
            const cv::Rect &box = found[order[i]];
            hits[count].x = x + (int)(box.x / factor);
            hits[count].y = y + (int)(box.y / factor);
            hits[count].width = (int)(box.width / factor);
            hits[count].height = (int)(box.height / factor);
            hits[count].weight = weights[order[i]];
            count++;
        }
        *hit_count = count;
        return 0;
    } catch (const std::exception &exception) {
        person_hog_error(error, error_size, "HOG detection", exception.what());
    } catch (...) {
        person_hog_error(error, error_size, "HOG detection", "unknown exception");
    }
    return -1;
}
