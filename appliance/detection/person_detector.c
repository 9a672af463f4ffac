/*
 * person_detector.c - the person detector's planning around the HOG (see
 * person_detector.h): motion boxes to crops, a scale per crop, the work
 * cap, HOG windows back to frame boxes, non-max suppression, confidence.
 *
 * Threads: one thread at a time per detector (a pool worker's own).
 * Ownership: the detector owns its struct person_hog; pictures, regions and
 * the output arrays are the caller's.
 *
 * Tuning (on OpenCV's vtest.avi and tree.avi; tests/bench/detector.bench.mjs
 * prints the cost and the precision/recall against tests/data/labels/):
 *   - scale: a person as tall as the motion box (before the margin) becomes
 *     PERSON_TARGET_HEIGHT = 192 px, 1.5x the 128 px window, so the HOG
 *     pyramid (step 1.05) finds them at its first levels, whether they were
 *     small (scaled up, at most 3x) or large (scaled down);
 *   - hitThreshold 0 (every window on the person side of the SVM), then the
 *     confidence threshold; winStride 8x8 (one HOG cell; a finer stride
 *     costs quadratically more windows); padding 16 (people at a crop's
 *     edge); group threshold 2 (OpenCV's default: a lone window is dropped);
 *   - confidence = 1 / (1 + exp(-(weight - PERSON_WEIGHT_MIDPOINT) /
 *     PERSON_WEIGHT_SPREAD)), the weight being the window's SVM distance past
 *     the decision boundary (after detectMultiScale's grouping, the group's
 *     strongest): 0.5 at weight 0.6, 0.98 at weight 1.6. On the labelled
 *     footage, vtest's walkers mostly score above 0.95, and tree.avi's
 *     swaying leaves give no window past the boundary at all; the threshold
 *     0.5 loses 1-3 % of recall against 0 (motion boxes: recall 0.871 at
 *     0.5, 0.879 at 0) and drops windows barely past the boundary.
 *
 * Measured (tests/bench/detector.bench.mjs, 40 labelled vtest frames of
 * 768x576, one core): motion boxes around every walker: recall 0.87, about
 * 70 ms per frame; one motion box: recall 0.93, about 12 ms; the whole frame
 * (no boxes): precision 0.83, recall 0.21, about 80 ms (the walkers are 70 to
 * 110 px tall, the budget shrinks the frame to 0.91, and HOG needs a person
 * of about 96 px: whole frames see big, near people only, which a doorbell's
 * visitors are).
 */
#include "detection/person_detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "detection/person_detector_hog.h"

#define PERSON_TARGET_HEIGHT 192.0
#define PERSON_MAX_UPSCALE   3.0
#define PERSON_MIN_DOWNSCALE 0.2
#define PERSON_CROP_MARGIN   0.25
/* A crop is at least this many times its person's height wide and tall:
 * the 64x128 window around a person 96 px tall is 0.67 x 1.33 of it, and
 * the pyramid needs a little more to place it. */
#define PERSON_CROP_MIN_WIDTH  0.9
#define PERSON_CROP_MIN_HEIGHT 1.5
#define PERSON_WINDOW_WIDTH    64
#define PERSON_WINDOW_HEIGHT   128
#define PERSON_MAX_HITS        64
#define PERSON_NMS_IOU         0.3
#define PERSON_WEIGHT_MIDPOINT 0.6
#define PERSON_WEIGHT_SPREAD   0.25
/* The HOG window holds the person with a border: the box given out is the
 * window less this share of its width on each side, and of its height. */
#define PERSON_BOX_INSET_X 0.18
#define PERSON_BOX_INSET_Y 0.08

static const struct person_hog_params person_hog_tuning = {
    .hit_threshold = 0.0,
    .win_stride = 8,
    .padding = 16,
    .scale = 1.05,
    .group_threshold = 2,
};

struct person_detector {
    struct person_hog *hog;
};

/* A rectangle of frame pixels, with the height a person in it is thought
 * to have (the tallest motion box it came from; 0: unknown). */
struct person_crop {
    int x0, y0, x1, y1; /* x1, y1 exclusive */
    int person_height;
    double factor;
};

/* See person_detector.h. */
struct person_detector *person_detector_create(char *error, size_t error_size)
{
    struct person_detector *detector = calloc(1, sizeof(*detector));
    if (detector == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    detector->hog = person_hog_create(error, error_size);
    if (detector->hog == NULL) {
        free(detector);
        return NULL;
    }
    return detector;
}

/* See person_detector.h. */
void person_detector_free(struct person_detector *detector)
{
    if (detector == NULL)
        return;
    person_hog_free(detector->hog);
    free(detector);
}

/* See person_detector.h. */
double person_detector_confidence(double weight)
{
    return 1.0 / (1.0 + exp(-(weight - PERSON_WEIGHT_MIDPOINT) / PERSON_WEIGHT_SPREAD));
}

static int person_min(int a, int b)
{
    return a < b ? a : b;
}

static int person_max(int a, int b)
{
    return a > b ? a : b;
}

/* value within low..high (value is finite or infinite, not NaN). */
static double person_clamp(double value, double low, double high)
{
    return value < low ? low : value > high ? high : value;
}

static int person_crops_overlap(const struct person_crop *a, const struct person_crop *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

static long person_crop_area(const struct person_crop *crop)
{
    return (long)(crop->x1 - crop->x0) * (crop->y1 - crop->y0);
}

/* Grow *into to cover other too. */
static void person_crop_merge(struct person_crop *into, const struct person_crop *other)
{
    into->x0 = person_min(into->x0, other->x0);
    into->y0 = person_min(into->y0, other->y0);
    into->x1 = person_max(into->x1, other->x1);
    into->y1 = person_max(into->y1, other->y1);
    into->person_height = person_max(into->person_height, other->person_height);
}

/* Grow crop about its centre to at least need_w x need_h, within the frame. */
static void person_crop_grow(struct person_crop *crop, int need_w, int need_h, int width,
                             int height)
{
    if (crop->x1 - crop->x0 < need_w) {
        int grow = need_w - (crop->x1 - crop->x0);
        crop->x0 = person_max(0, crop->x0 - grow / 2);
        crop->x1 = person_min(width, crop->x0 + need_w);
        crop->x0 = person_max(0, crop->x1 - need_w);
    }
    if (crop->y1 - crop->y0 < need_h) {
        int grow = need_h - (crop->y1 - crop->y0);
        crop->y0 = person_max(0, crop->y0 - grow / 2);
        crop->y1 = person_min(height, crop->y0 + need_h);
        crop->y0 = person_max(0, crop->y1 - need_h);
    }
}

/* Motion boxes to crops: margin, clip, merge overlaps, cap the count.
 * Returns how many crops (0 when no box has an area). */
static int person_plan_crops(int width, int height, const struct detection_box *regions,
                             int region_count, struct person_crop *crops)
{
    int count = 0;
    if (region_count > PERSON_DETECTOR_MAX_REGIONS)
        region_count = PERSON_DETECTOR_MAX_REGIONS;
    for (int i = 0; i < region_count; i++) {
        const struct detection_box *box = &regions[i];
        if (!(box->w > 0.0) || !(box->h > 0.0) || !isfinite(box->x) || !isfinite(box->y))
            continue;
        double x0 = (box->x - PERSON_CROP_MARGIN * box->w) * width;
        double y0 = (box->y - PERSON_CROP_MARGIN * box->h) * height;
        double x1 = (box->x + (1.0 + PERSON_CROP_MARGIN) * box->w) * width;
        double y1 = (box->y + (1.0 + PERSON_CROP_MARGIN) * box->h) * height;
        /* Clamped to the frame before any conversion to int (a box far
         * outside would overflow it). */
        struct person_crop crop = {
            .x0 = (int)person_clamp(floor(x0), 0.0, width),
            .y0 = (int)person_clamp(floor(y0), 0.0, height),
            .x1 = (int)person_clamp(ceil(x1), 0.0, width),
            .y1 = (int)person_clamp(ceil(y1), 0.0, height),
            .person_height = (int)person_clamp(ceil(box->h * height), 0.0, height),
        };
        if (crop.x1 - crop.x0 < 2 || crop.y1 - crop.y0 < 2 || crop.person_height < 1)
            continue;
        /* Room for the window around a person as tall as the box: a box of
         * one walker is narrower than the window that holds them. */
        person_crop_grow(&crop, (int)ceil(PERSON_CROP_MIN_WIDTH * crop.person_height),
                         (int)ceil(PERSON_CROP_MIN_HEIGHT * crop.person_height), width, height);
        crops[count++] = crop;
    }
    /* Merge overlapping crops until none overlap. */
    for (int merged = 1; merged;) {
        merged = 0;
        for (int i = 0; i < count && !merged; i++)
            for (int j = i + 1; j < count && !merged; j++)
                if (person_crops_overlap(&crops[i], &crops[j])) {
                    person_crop_merge(&crops[i], &crops[j]);
                    crops[j] = crops[--count];
                    merged = 1;
                }
    }
    /* Too many: merge the pair whose union is smallest, and again. */
    while (count > PERSON_DETECTOR_MAX_CROPS) {
        int best_i = 0, best_j = 1;
        long best_area = -1;
        for (int i = 0; i < count; i++)
            for (int j = i + 1; j < count; j++) {
                struct person_crop joined = crops[i];
                person_crop_merge(&joined, &crops[j]);
                if (best_area < 0 || person_crop_area(&joined) < best_area) {
                    best_area = person_crop_area(&joined);
                    best_i = i;
                    best_j = j;
                }
            }
        person_crop_merge(&crops[best_i], &crops[best_j]);
        crops[best_j] = crops[--count];
    }
    return count;
}

/* Choose each crop's scale, grow crops too small for the window, and
 * shrink every scale together when the crops exceed the pixel budget. */
static void person_scale_crops(int width, int height, struct person_crop *crops, int count)
{
    double pixels = 0.0;
    for (int i = 0; i < count; i++) {
        struct person_crop *crop = &crops[i];
        if (crop->person_height > 0)
            crop->factor =
                fmin(PERSON_MAX_UPSCALE,
                     fmax(PERSON_MIN_DOWNSCALE, PERSON_TARGET_HEIGHT / crop->person_height));
        else
            crop->factor = 1.0;
        pixels += person_crop_area(crop) * crop->factor * crop->factor;
    }
    double shrink =
        pixels > PERSON_DETECTOR_PIXEL_BUDGET ? sqrt(PERSON_DETECTOR_PIXEL_BUDGET / pixels) : 1.0;
    for (int i = 0; i < count; i++) {
        struct person_crop *crop = &crops[i];
        crop->factor *= shrink;
        /* At least one window (and a little) once scaled, grown about its centre. */
        person_crop_grow(crop, (int)ceil((PERSON_WINDOW_WIDTH + 8) / crop->factor),
                         (int)ceil((PERSON_WINDOW_HEIGHT + 8) / crop->factor), width, height);
    }
}

static double person_iou(const struct person_hog_hit *a, const struct person_hog_hit *b)
{
    int x0 = person_max(a->x, b->x), y0 = person_max(a->y, b->y);
    int x1 = person_min(a->x + a->width, b->x + b->width);
    int y1 = person_min(a->y + a->height, b->y + b->height);
    if (x1 <= x0 || y1 <= y0)
        return 0.0;
    double inter = (double)(x1 - x0) * (y1 - y0);
    double smaller = fmin((double)a->width * a->height, (double)b->width * b->height);
    double uni = (double)a->width * a->height + (double)b->width * b->height - inter;
    /* A window mostly inside another is the same person too. */
    if (smaller > 0 && inter / smaller > 0.7)
        return 1.0;
    return uni > 0 ? inter / uni : 0.0;
}

static int person_hit_compare(const void *a, const void *b)
{
    double x = ((const struct person_hog_hit *)a)->weight;
    double y = ((const struct person_hog_hit *)b)->weight;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sort hits strongest first and drop those overlapping a stronger one.
 * Returns how many are left (in place). */
static int person_suppress(struct person_hog_hit *hits, int count)
{
    int kept = 0;
    qsort(hits, (size_t)count, sizeof(hits[0]), person_hit_compare);
    for (int i = 0; i < count; i++) {
        int duplicate = 0;
        for (int j = 0; j < kept && !duplicate; j++)
            duplicate = person_iou(&hits[i], &hits[j]) > PERSON_NMS_IOU;
        if (!duplicate)
            hits[kept++] = hits[i];
    }
    return kept;
}

/* A HOG window (frame pixels) to the person's normalised box, clipped. */
static struct detection_box person_window_box(const struct person_hog_hit *hit, int width,
                                              int height)
{
    double x0 = hit->x + PERSON_BOX_INSET_X * hit->width;
    double y0 = hit->y + PERSON_BOX_INSET_Y * hit->height;
    double x1 = hit->x + (1.0 - PERSON_BOX_INSET_X) * hit->width;
    double y1 = hit->y + (1.0 - PERSON_BOX_INSET_Y) * hit->height;
    x0 = fmax(0.0, x0);
    y0 = fmax(0.0, y0);
    x1 = fmin((double)width, x1);
    y1 = fmin((double)height, y1);
    return (struct detection_box){x0 / width, y0 / height, fmax(0.0, x1 - x0) / width,
                                  fmax(0.0, y1 - y0) / height};
}

/* See person_detector.h. */
int person_detector_run(struct person_detector *detector, const uint8_t *pixels, int width,
                        int height, const struct detection_box *regions, int region_count,
                        struct person_detection *persons, int max_persons, char *error,
                        size_t error_size)
{
    struct person_crop crops[PERSON_DETECTOR_MAX_REGIONS + 1];
    struct person_hog_hit hits[PERSON_MAX_HITS];
    int crop_count, hit_count = 0, found = 0;

    if (width < PERSON_WINDOW_WIDTH || height < PERSON_WINDOW_HEIGHT / 2) {
        error_text_set(error, error_size, "a %dx%d frame is too small for the detector", width,
                       height);
        return -1;
    }
    if (region_count > 0) {
        crop_count = person_plan_crops(width, height, regions, region_count, crops);
    } else {
        crops[0] = (struct person_crop){0, 0, width, height, 0, 1.0};
        crop_count = 1;
    }
    person_scale_crops(width, height, crops, crop_count);
    for (int i = 0; i < crop_count && hit_count < PERSON_MAX_HITS; i++) {
        const struct person_crop *crop = &crops[i];
        int got = 0;
        if (person_hog_detect(detector->hog, pixels, width, height, width, crop->x0, crop->y0,
                              crop->x1 - crop->x0, crop->y1 - crop->y0, crop->factor,
                              &person_hog_tuning, hits + hit_count, PERSON_MAX_HITS - hit_count,
                              &got, error, error_size) != 0)
            return -1;
        hit_count += got;
    }
    hit_count = person_suppress(hits, hit_count);
    for (int i = 0; i < hit_count && found < max_persons; i++) {
        double confidence = person_detector_confidence(hits[i].weight);
        if (confidence < PERSON_DETECTOR_MIN_CONFIDENCE)
            break; /* sorted: the rest are weaker */
        persons[found].box = person_window_box(&hits[i], width, height);
        persons[found].confidence = confidence;
        found++;
    }
    return found;
}
