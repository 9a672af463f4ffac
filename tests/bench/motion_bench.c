/*
 * motion_bench.c - cost of on-device motion detection per frame, built and
 * run by motion.bench.mjs (the Makefile builds no benchmarks).
 *
 *   motion_bench [FRAMES [WIDTH HEIGHT [FPS]]]   default 3000 1280 720 10
 *   motion_bench --y4m PATH FROM_S FRAMES [WIDTH HEIGHT [FPS]]
 *
 * The first form renders the scripted sim scene (unpaced) and times, per
 * frame, motion_detector_analyse() alone (the 320x180 analysis) and with
 * motion_detector_load() before it (the box-filter downscale from the camera
 * size), as this thread's CPU time so that other processes on the machine
 * do not count. Rendering is not timed. Prints one JSON line per figure with
 * p50, p99, mean and max in nanoseconds. The second form writes FRAMES sim
 * frames from scene second FROM_S as a YUV4MPEG2 file, the same input for
 * Debian's `motion` daemon. Single thread; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera/camera.h"
#include "camera/sim_scene.h"
#include "motion/motion_detector.h"

/* This thread's CPU time in nanoseconds. */
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

/* Sort samples and print one JSON line about them. */
static void bench_print(const char *figure, int64_t *samples, int count, int width, int height,
                        int fps)
{
    qsort(samples, (size_t)count, sizeof(samples[0]), bench_compare);
    double sum = 0.0;
    for (int i = 0; i < count; i++)
        sum += (double)samples[i];
    printf("{\"figure\":\"%s\",\"unit\":\"ns\",\"p50\":%lld,\"p99\":%lld,\"mean\":%.0f,"
           "\"max\":%lld,\"frames\":%d,\"camera\":\"%dx%d\",\"fps\":%d,"
           "\"analysis\":\"320x180\"}\n",
           figure, (long long)samples[count / 2], (long long)samples[count * 99 / 100], sum / count,
           (long long)samples[count - 1], count, width, height, fps);
}

/* Open the scripted sim camera, unpaced. */
static struct camera *bench_camera(int width, int height, int fps)
{
    struct camera_config config = {
        .source = "sim",
        .width = width,
        .height = height,
        .fps = fps,
        .seed = 1,
        .scripted = 1,
        .unpaced = 1,
    };
    char error[256] = "";
    struct camera *camera = camera_open(&config, error, sizeof(error));
    if (camera == NULL)
        fprintf(stderr, "motion_bench: %s\n", error);
    return camera;
}

/* Time the detector over `frames` frames (see the top of the file). */
static int bench_detector(int frames, int width, int height, int fps)
{
    struct camera *camera = bench_camera(width, height, fps);
    struct motion_config config;
    motion_config_defaults(&config);
    char error[128] = "";
    struct motion_detector *detector = motion_detector_create(&config, error, sizeof(error));
    int64_t *analyse = malloc(sizeof(int64_t) * (size_t)frames);
    int64_t *total = malloc(sizeof(int64_t) * (size_t)frames);
    int status = 1, events = 0;
    if (camera == NULL || detector == NULL || analyse == NULL || total == NULL)
        goto out;
    for (int i = 0; i < frames; i++) {
        struct camera_frame frame;
        struct sim_ground_truth truth;
        struct motion_result result;
        if (camera_capture(camera, &frame) != 0 || camera_sim_scene_state(camera, &truth) != 0)
            goto out;
        int64_t start = bench_cpu_ns();
        if (motion_detector_load(detector, &frame) != 0)
            goto out;
        int64_t loaded = bench_cpu_ns();
        motion_detector_analyse(detector, truth.scene_time_us, truth.pir_active, &result);
        int64_t end = bench_cpu_ns();
        analyse[i] = end - loaded;
        total[i] = end - start;
        events += result.started;
    }
    bench_print("motion_analyse_320x180_ns_per_frame", analyse, frames, width, height, fps);
    bench_print("motion_downscale_and_analyse_ns_per_frame", total, frames, width, height, fps);
    fprintf(stderr, "motion_bench: %d frames, %d motion events\n", frames, events);
    status = 0;
out:
    free(analyse);
    free(total);
    motion_detector_destroy(detector);
    camera_close(camera);
    return status;
}

/* Write frames from scene second from_s as YUV4MPEG2 (4:2:0). */
static int bench_write_y4m(const char *path, double from_s, int frames, int width, int height,
                           int fps)
{
    struct camera *camera = bench_camera(width, height, fps);
    FILE *file = fopen(path, "wb");
    int status = 1;
    if (camera == NULL || file == NULL)
        goto out;
    fprintf(file, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", width, height, fps);
    for (int i = 0; i < (int)(from_s * fps) + frames; i++) {
        struct camera_frame frame;
        if (camera_capture(camera, &frame) != 0)
            goto out;
        if (i < (int)(from_s * fps))
            continue;
        fputs("FRAME\n", file);
        for (int y = 0; y < height; y++)
            fwrite(frame.y + (size_t)y * (size_t)frame.stride_y, 1, (size_t)width, file);
        for (int y = 0; y < height / 2; y++)
            fwrite(frame.u + (size_t)y * (size_t)frame.stride_uv, 1, (size_t)width / 2, file);
        for (int y = 0; y < height / 2; y++)
            fwrite(frame.v + (size_t)y * (size_t)frame.stride_uv, 1, (size_t)width / 2, file);
    }
    status = ferror(file) ? 1 : 0;
out:
    if (file != NULL && fclose(file) != 0)
        status = 1;
    camera_close(camera);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "--y4m") == 0) {
        int width = argc > 6 ? atoi(argv[5]) : 1280, height = argc > 6 ? atoi(argv[6]) : 720;
        return bench_write_y4m(argv[2], atof(argv[3]), atoi(argv[4]), width, height,
                               argc > 7 ? atoi(argv[7]) : 10);
    }
    int frames = argc > 1 ? atoi(argv[1]) : 3000;
    int width = argc > 3 ? atoi(argv[2]) : 1280, height = argc > 3 ? atoi(argv[3]) : 720;
    int fps = argc > 4 ? atoi(argv[4]) : 10;
    if (frames < 1 || fps < 1) {
        fprintf(stderr, "usage: motion_bench [FRAMES [WIDTH HEIGHT [FPS]]]\n");
        return 2;
    }
    return bench_detector(frames, width, height, fps);
}
