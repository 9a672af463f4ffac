/*
 * detector_bench.c - cost and accuracy of the hub's person detector, built
 * and run by detector.bench.mjs (the Makefile builds no benchmarks).
 *
 *   detector_bench LABELS.json FRAMES_DIR [LABELS.json FRAMES_DIR...]
 *
 * Each labels file (tests/data/labels/) lists sampled frames of one video
 * with the people in them (pixel boxes x, y, w, h); FRAMES_DIR holds those
 * frames as f0000.jpg, f0001.jpg... in the labels' order (JPEG quality
 * about 85, as a doorbell sends them). For every frame it times, as this
 * thread's CPU time: the JPEG decode; the detector on the whole frame; on
 * one motion region (the frame's first labelled person, as a doorbell's
 * motion box around one visitor); on every labelled person as a motion
 * box. Then it prints, per frame and per mode, precision and recall against
 * the labels: a detection matches a label when their IoU is at least 0.3
 * or the detection's centre lies inside the label box; each label matches
 * at most one detection (best confidence first). The "motion boxes" modes
 * are given the labels as motion boxes, so their precision is an upper
 * bound of what real motion boxes give; the whole-frame mode is given
 * nothing.
 *
 * Prints JSON lines; asserts nothing. Single thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "detection/detection_image.h"
#include "detection/person_detector.h"

#define BENCH_MAX_FRAMES 512
#define BENCH_MAX_LABELS 16

enum bench_mode { BENCH_WHOLE, BENCH_ONE_REGION, BENCH_ALL_REGIONS, BENCH_MODES };
static const char *const bench_mode_names[BENCH_MODES] = {"whole_frame", "one_motion_box",
                                                          "motion_boxes"};

struct bench_totals {
    int labels, detections, matched;
    int64_t samples_ns[BENCH_MAX_FRAMES];
    int samples;
};

static int64_t bench_cpu_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int bench_compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of samples in ms (sorts them). */
static double bench_median_ms(int64_t *samples, int count)
{
    if (count == 0)
        return 0.0;
    qsort(samples, (size_t)count, sizeof(samples[0]), bench_compare);
    return (double)samples[count / 2] / 1e6;
}

static void *bench_read(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)length + 1);
    if (data != NULL && fread(data, 1, (size_t)length, file) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(file);
    if (data != NULL)
        data[length] = '\0';
    *size = (size_t)length;
    return data;
}

/* How many of the detections match a label (see the top of the file). */
static int bench_match(const struct detection_box *labels, int label_count,
                       const struct person_detection *found, int found_count)
{
    int used[BENCH_MAX_LABELS] = {0}, matched = 0;
    for (int d = 0; d < found_count; d++) {
        const struct detection_box *box = &found[d].box;
        double cx = box->x + box->w / 2, cy = box->y + box->h / 2;
        for (int l = 0; l < label_count; l++) {
            const struct detection_box *label = &labels[l];
            if (used[l])
                continue;
            double x0 = box->x > label->x ? box->x : label->x;
            double y0 = box->y > label->y ? box->y : label->y;
            double x1 =
                box->x + box->w < label->x + label->w ? box->x + box->w : label->x + label->w;
            double y1 =
                box->y + box->h < label->y + label->h ? box->y + box->h : label->y + label->h;
            double inter = x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0.0;
            double iou = inter / (box->w * box->h + label->w * label->h - inter);
            int inside = cx >= label->x && cx <= label->x + label->w && cy >= label->y &&
                         cy <= label->y + label->h;
            if (iou >= 0.3 || inside) {
                used[l] = 1;
                matched++;
                break;
            }
        }
    }
    return matched;
}

/* Run one labels file over its frames; print per-frame lines, add totals. */
static int bench_video(struct person_detector *detector, const char *labels_path,
                       const char *frames_dir, struct bench_totals totals[BENCH_MODES],
                       int64_t *decode_ns, int *decode_count)
{
    size_t size = 0;
    char *text = bench_read(labels_path, &size);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (root == NULL) {
        fprintf(stderr, "detector_bench: cannot read %s\n", labels_path);
        return -1;
    }
    const char *video = cJSON_GetStringValue(cJSON_GetObjectItem(root, "video"));
    double width = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "width"));
    double height = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "height"));
    const cJSON *frame;
    int index = 0;
    cJSON_ArrayForEach(frame, cJSON_GetObjectItem(root, "frames"))
    {
        char path[1024], error[160] = "";
        struct detection_box labels[BENCH_MAX_LABELS];
        int label_count = 0;
        const cJSON *person;
        cJSON_ArrayForEach(person, cJSON_GetObjectItem(frame, "persons"))
        {
            if (label_count == BENCH_MAX_LABELS)
                break;
            labels[label_count++] =
                (struct detection_box){cJSON_GetArrayItem(person, 0)->valuedouble / width,
                                       cJSON_GetArrayItem(person, 1)->valuedouble / height,
                                       cJSON_GetArrayItem(person, 2)->valuedouble / width,
                                       cJSON_GetArrayItem(person, 3)->valuedouble / height};
        }
        snprintf(path, sizeof(path), "%s/f%04d.jpg", frames_dir, index++);
        uint8_t *jpeg = bench_read(path, &size);
        if (jpeg == NULL) {
            fprintf(stderr, "detector_bench: no %s\n", path);
            cJSON_Delete(root);
            return -1;
        }
        struct detection_image image;
        int64_t started = bench_cpu_ns();
        int rc = detection_image_decode_gray(jpeg, size, &image, error, sizeof(error));
        if (*decode_count < BENCH_MAX_FRAMES)
            decode_ns[(*decode_count)++] = bench_cpu_ns() - started;
        free(jpeg);
        if (rc != 0) {
            fprintf(stderr, "detector_bench: %s: %s\n", path, error);
            continue;
        }
        for (int mode = 0; mode < BENCH_MODES; mode++) {
            struct person_detection found[PERSON_DETECTOR_MAX_PERSONS];
            int region_count = mode == BENCH_WHOLE        ? 0
                               : mode == BENCH_ONE_REGION ? (label_count > 0)
                                                          : label_count;
            if (mode != BENCH_WHOLE && region_count == 0)
                continue; /* nothing moved: the doorbell sends no frame */
            started = bench_cpu_ns();
            int count = person_detector_run(detector, image.pixels, image.width, image.height,
                                            labels, region_count, found,
                                            PERSON_DETECTOR_MAX_PERSONS, error, sizeof(error));
            int64_t spent = bench_cpu_ns() - started;
            if (count < 0) {
                fprintf(stderr, "detector_bench: %s: %s\n", path, error);
                continue;
            }
            struct bench_totals *total = &totals[mode];
            if (total->samples < BENCH_MAX_FRAMES)
                total->samples_ns[total->samples++] = spent;
            /* One motion box: only its person can be found. */
            int wanted = mode == BENCH_ONE_REGION ? 1 : label_count;
            int matched = bench_match(labels, wanted, found, count);
            total->labels += wanted;
            total->detections += count;
            total->matched += matched;
            printf("{\"figure\":\"detector_eval_frame\",\"video\":\"%s\",\"frame\":%d,"
                   "\"mode\":\"%s\",\"labels\":%d,\"detections\":%d,\"matched\":%d,"
                   "\"precision\":%.3f,\"recall\":%.3f,\"ms\":%.1f}\n",
                   video, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(frame, "frame")),
                   bench_mode_names[mode], wanted, count, matched,
                   count ? (double)matched / count : 1.0, wanted ? (double)matched / wanted : 1.0,
                   spent / 1e6);
        }
        detection_image_release(&image);
    }
    cJSON_Delete(root);
    return 0;
}

int main(int argc, char **argv)
{
    char error[160] = "";
    if (argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: detector_bench LABELS.json FRAMES_DIR [...]\n");
        return 2;
    }
    struct person_detector *detector = person_detector_create(error, sizeof(error));
    if (detector == NULL) {
        fprintf(stderr, "detector_bench: %s\n", error);
        return 1;
    }
    static int64_t decode_ns[BENCH_MAX_FRAMES];
    for (int arg = 1; arg + 1 < argc; arg += 2) {
        static struct bench_totals totals[BENCH_MODES];
        int decode_count = 0;
        memset(totals, 0, sizeof(totals));
        if (bench_video(detector, argv[arg], argv[arg + 1], totals, decode_ns, &decode_count) != 0)
            return 1;
        const char *name = strrchr(argv[arg], '/') ? strrchr(argv[arg], '/') + 1 : argv[arg];
        double decode_ms = bench_median_ms(decode_ns, decode_count);
        printf("{\"figure\":\"detector_decode_ms\",\"labels\":\"%s\",\"median\":%.2f,"
               "\"frames\":%d}\n",
               name, decode_ms, decode_count);
        for (int mode = 0; mode < BENCH_MODES; mode++) {
            struct bench_totals *total = &totals[mode];
            if (total->samples == 0)
                continue;
            double ms = bench_median_ms(total->samples_ns, total->samples);
            printf("{\"figure\":\"detector_ms_per_frame\",\"labels\":\"%s\",\"mode\":\"%s\","
                   "\"median\":%.2f,\"max\":%.2f,\"frames\":%d,"
                   "\"one_worker_fps\":%.1f,\"note\":\"thread CPU; fps counts decode too\"}\n",
                   name, bench_mode_names[mode], ms, total->samples_ns[total->samples - 1] / 1e6,
                   total->samples, 1000.0 / (ms + decode_ms));
            printf("{\"figure\":\"detector_precision_recall\",\"labels\":\"%s\",\"mode\":\"%s\","
                   "\"labels_count\":%d,\"detections\":%d,\"matched\":%d,\"precision\":%.3f,"
                   "\"recall\":%.3f,\"match\":\"IoU >= 0.3 or centre inside the label\"}\n",
                   name, bench_mode_names[mode], total->labels, total->detections, total->matched,
                   total->detections ? (double)total->matched / total->detections : 1.0,
                   total->labels ? (double)total->matched / total->labels : 1.0);
        }
    }
    person_detector_free(detector);
    return 0;
}
