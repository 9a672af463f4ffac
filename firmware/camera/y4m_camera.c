/*
 * y4m_camera.c - the file replay camera back-end ("file:PATH.y4m"): plays a
 * YUV4MPEG2 file with 4:2:0 chroma (C420, C420jpeg, C420paldv, C420mpeg2 or
 * no C tag) at its own frame rate, looping at the end of the file.
 *
 * Frames get a fresh capture time and sequence number, and the frame stamp
 * is drawn over them (when the picture is at least 528x24) so latency and
 * drop measurements work with replayed footage as with the sim camera.
 *
 * Capture thread only. Owns the open file and one frame buffer.
 */
#define LOG_MODULE "camera"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/camera.h"
#include "camera/camera_backend.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "camera/frame_stamp.h"
#include "common/log.h"

#define Y4M_LINE_MAX 1024

struct camera_y4m {
    struct camera base; /* first: struct camera * casts to struct camera_y4m * */
    FILE *file;
    char *path;
    long data_offset; /* first "FRAME" header */
    int width, height, fps, unpaced;
    size_t frame_size;
    uint8_t *planes; /* I420, stride = width */
    uint32_t sequence;
    struct camera_pacer pacer;
};

static int camera_y4m_capture(struct camera *camera, struct camera_frame *frame);
static int camera_y4m_reconfigure(struct camera *camera, int width, int height, int fps);
static void camera_y4m_close(struct camera *camera);

static const struct camera_backend camera_y4m_backend = {
    .name = "file",
    .capture = camera_y4m_capture,
    .trigger = NULL,
    .reconfigure = camera_y4m_reconfigure,
    .close = camera_y4m_close,
};

/* Read one '\n'-terminated line (without the '\n') into line. Returns its
 * length, -1 at end of file before any byte, -2 if the line is too long or
 * the file ends inside it. */
static int camera_y4m_read_line(FILE *file, char *line, size_t size)
{
    size_t length = 0;
    for (;;) {
        int c = fgetc(file);
        if (c == EOF)
            return length == 0 ? -1 : -2;
        if (c == '\n')
            break;
        if (length + 1 >= size)
            return -2;
        line[length++] = (char)c;
    }
    line[length] = '\0';
    return (int)length;
}

/* Parse the stream header's parameters into *y4m; 0, or -1 with a reason. */
static int camera_y4m_parse_header(struct camera_y4m *y4m, char *line, int default_fps, char *error,
                                   size_t error_size)
{
    if (strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0')) {
        error_text_set(error, error_size, "%s: not a YUV4MPEG2 file", y4m->path);
        return -1;
    }
    long rate_num = 0, rate_den = 0;
    char *save = NULL;
    for (char *token = strtok_r(line + 9, " ", &save); token != NULL;
         token = strtok_r(NULL, " ", &save)) {
        switch (token[0]) {
        case 'W':
            y4m->width = (int)strtol(token + 1, NULL, 10);
            break;
        case 'H':
            y4m->height = (int)strtol(token + 1, NULL, 10);
            break;
        case 'F':
            if (sscanf(token + 1, "%ld:%ld", &rate_num, &rate_den) != 2)
                rate_num = rate_den = 0;
            break;
        case 'C':
            if (strcmp(token, "C420") != 0 && strcmp(token, "C420jpeg") != 0 &&
                strcmp(token, "C420paldv") != 0 && strcmp(token, "C420mpeg2") != 0) {
                error_text_set(error, error_size,
                               "%s: colour space %s not supported (8-bit 4:2:0 only)", y4m->path,
                               token);
                return -1;
            }
            break;
        default:
            break; /* interlacing, aspect, comments: irrelevant for replay */
        }
    }
    if (y4m->width <= 0 || y4m->height <= 0 || y4m->width > CAMERA_MAX_WIDTH ||
        y4m->height > CAMERA_MAX_HEIGHT || y4m->width % 2 != 0 || y4m->height % 2 != 0) {
        error_text_set(error, error_size, "%s: unsupported picture size %dx%d", y4m->path,
                       y4m->width, y4m->height);
        return -1;
    }
    y4m->fps = default_fps;
    if (rate_num > 0 && rate_den > 0) {
        long fps = (rate_num + rate_den / 2) / rate_den;
        y4m->fps = fps < 1 ? 1 : fps > CAMERA_MAX_FPS ? CAMERA_MAX_FPS : (int)fps;
    }
    return 0;
}

/* Read the next frame into y4m->planes, rewinding once at the end of the
 * file. 0, or -1 with a reason logged. */
static int camera_y4m_read_frame(struct camera_y4m *y4m)
{
    char line[Y4M_LINE_MAX];
    int length = camera_y4m_read_line(y4m->file, line, sizeof(line));
    if (length == -1) {
        if (fseek(y4m->file, y4m->data_offset, SEEK_SET) != 0) {
            log_error("%s: cannot rewind: %s", y4m->path, strerror(errno));
            return -1;
        }
        length = camera_y4m_read_line(y4m->file, line, sizeof(line));
    }
    if (length < 5 || strncmp(line, "FRAME", 5) != 0) {
        log_error("%s: bad or truncated frame header", y4m->path);
        return -1;
    }
    if (fread(y4m->planes, 1, y4m->frame_size, y4m->file) != y4m->frame_size) {
        log_error("%s: truncated frame", y4m->path);
        return -1;
    }
    return 0;
}

/* Open and validate the file (header and first frame); freed by camera_close(). */
struct camera *camera_y4m_open(const char *path, const struct camera_config *config, char *error,
                               size_t error_size)
{
    struct camera_y4m *y4m = calloc(1, sizeof(*y4m));
    if (y4m == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    y4m->base.backend = &camera_y4m_backend;
    y4m->unpaced = config->unpaced;
    y4m->path = strdup(path);
    if (y4m->path == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto fail;
    }
    y4m->file = fopen(path, "rb");
    if (y4m->file == NULL) {
        error_text_set(error, error_size, "%s: %s", path, strerror(errno));
        goto fail;
    }
    char line[Y4M_LINE_MAX];
    if (camera_y4m_read_line(y4m->file, line, sizeof(line)) < 0) {
        error_text_set(error, error_size, "%s: missing or overlong YUV4MPEG2 header", path);
        goto fail;
    }
    if (camera_y4m_parse_header(y4m, line, config->fps, error, error_size) != 0)
        goto fail;
    y4m->data_offset = ftell(y4m->file);
    if (y4m->data_offset < 0) {
        error_text_set(error, error_size, "%s: not seekable: %s", path, strerror(errno));
        goto fail;
    }
    y4m->frame_size = (size_t)y4m->width * (size_t)y4m->height * 3 / 2;
    y4m->planes = malloc(y4m->frame_size);
    if (y4m->planes == NULL) {
        error_text_set(error, error_size, "out of memory for %dx%d frames", y4m->width,
                       y4m->height);
        goto fail;
    }
    if (camera_y4m_read_frame(y4m) != 0 || fseek(y4m->file, y4m->data_offset, SEEK_SET) != 0) {
        error_text_set(error, error_size, "%s: no complete frame", path);
        goto fail;
    }
    camera_pacer_start(&y4m->pacer, y4m->fps, y4m->unpaced);
    log_info("%s: %dx%d@%d replay", path, y4m->width, y4m->height, y4m->fps);
    return &y4m->base;
fail:
    camera_y4m_close(&y4m->base);
    return NULL;
}

/* Pace, read the next frame, stamp it. The frame points into y4m->planes
 * until the next capture. */
static int camera_y4m_capture(struct camera *camera, struct camera_frame *frame)
{
    struct camera_y4m *y4m = (struct camera_y4m *)camera;
    assert(camera->backend == &camera_y4m_backend);
    camera_pacer_wait(&y4m->pacer);
    uint64_t capture_time_us = clock_realtime_us();
    if (camera_y4m_read_frame(y4m) != 0)
        return -1;
    size_t luma_size = (size_t)y4m->width * (size_t)y4m->height;
    uint8_t *y = y4m->planes, *u = y + luma_size, *v = u + luma_size / 4;
    if (y4m->width >= FRAME_STAMP_BAND_WIDTH && y4m->height >= FRAME_STAMP_BAND_HEIGHT)
        frame_stamp_draw(y, y4m->width, u, v, y4m->width / 2, capture_time_us / 1000u,
                         y4m->sequence);
    *frame = (struct camera_frame){
        .y = y,
        .u = u,
        .v = v,
        .width = y4m->width,
        .height = y4m->height,
        .stride_y = y4m->width,
        .stride_uv = y4m->width / 2,
        .capture_time_us = capture_time_us,
        .sequence = y4m->sequence++,
    };
    return 0;
}

/* A replay cannot rescale; only the rate can change. */
static int camera_y4m_reconfigure(struct camera *camera, int width, int height, int fps)
{
    struct camera_y4m *y4m = (struct camera_y4m *)camera;
    assert(camera->backend == &camera_y4m_backend);
    if (width != y4m->width || height != y4m->height) {
        log_error("%s: file replay cannot change size to %dx%d (file is %dx%d)", y4m->path, width,
                  height, y4m->width, y4m->height);
        return -1;
    }
    if (fps != y4m->fps) {
        y4m->fps = fps;
        camera_pacer_start(&y4m->pacer, fps, y4m->unpaced);
    }
    return 0;
}

/* Close the file and free the buffers. */
static void camera_y4m_close(struct camera *camera)
{
    struct camera_y4m *y4m = (struct camera_y4m *)camera;
    assert(camera->backend == &camera_y4m_backend);
    if (y4m->file != NULL)
        fclose(y4m->file);
    free(y4m->planes);
    free(y4m->path);
    free(y4m);
}
