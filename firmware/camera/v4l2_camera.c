/*
 * v4l2_camera.c - the V4L2 camera back-end ("v4l2:/dev/videoN"): single-
 * planar video capture with mmap streaming. Delivers I420, converting from
 * the device's YUV420, NV12 or YUYV; MJPEG-only devices are refused with a
 * clear error. The device paces the frames; capture times come from the
 * driver's monotonic buffer timestamps mapped onto CLOCK_REALTIME.
 *
 * Capture thread only. Owns the device descriptor, the mmap'd driver
 * buffers and one I420 frame buffer.
 */
#define LOG_MODULE "camera"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "camera/camera.h"
#include "camera/camera_backend.h"
#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"

#define CAMERA_V4L2_BUFFERS       4
#define CAMERA_V4L2_TIMEOUT_MS    2000
#define CAMERA_V4L2_MIN_DIMENSION 16

struct camera_v4l2_buffer {
    void *start;
    size_t length;
};

struct camera_v4l2 {
    struct camera base; /* first: struct camera * casts to struct camera_v4l2 * */
    int fd;
    char *device;
    uint32_t pixel_format; /* V4L2_PIX_FMT_YUV420, _NV12 or _YUYV */
    int width, height, fps;
    uint32_t bytes_per_line;
    uint32_t frame_bytes; /* smallest valid buffer payload for this format */
    struct camera_v4l2_buffer buffers[CAMERA_V4L2_BUFFERS];
    int buffer_count;
    int streaming;
    uint8_t *planes; /* I420 output, stride = width */
    uint32_t sequence;
};

static int camera_v4l2_capture(struct camera *camera, struct camera_frame *frame);
static int camera_v4l2_reconfigure(struct camera *camera, int width, int height, int fps);
static void camera_v4l2_close(struct camera *camera);

static const struct camera_backend camera_v4l2_backend = {
    .name = "v4l2",
    .capture = camera_v4l2_capture,
    .trigger = NULL,
    .reconfigure = camera_v4l2_reconfigure,
    .close = camera_v4l2_close,
};

/* ioctl, retried on EINTR. */
static int camera_v4l2_ioctl(int fd, unsigned long request, void *argument)
{
    int rc;
    do {
        rc = ioctl(fd, request, argument);
    } while (rc == -1 && errno == EINTR);
    return rc;
}

/* Printable fourcc into a caller's 5-byte buffer. */
static const char *camera_v4l2_fourcc(uint32_t format, char text[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((format >> (8 * i)) & 0xff);
        text[i] = c >= 32 && c < 127 ? c : '?';
    }
    text[4] = '\0';
    return text;
}

/* Pick the best pixel format the device offers: YUV420 (no conversion),
 * then NV12, then YUYV. 0 with *format_out, or -1 with a reason. */
static int camera_v4l2_choose_format(struct camera_v4l2 *v4l2, uint32_t *format_out, char *error,
                                     size_t error_size)
{
    static const uint32_t preferred[] = {V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUYV};
    int offered[3] = {0, 0, 0}, mjpeg = 0;
    for (uint32_t index = 0; index < 64; index++) {
        struct v4l2_fmtdesc description = {.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_ENUM_FMT, &description) != 0)
            break;
        for (int i = 0; i < 3; i++)
            offered[i] |= description.pixelformat == preferred[i];
        mjpeg |= description.pixelformat == V4L2_PIX_FMT_MJPEG ||
                 description.pixelformat == V4L2_PIX_FMT_JPEG;
    }
    for (int i = 0; i < 3; i++) {
        if (offered[i]) {
            *format_out = preferred[i];
            return 0;
        }
    }
    error_text_set(error, error_size,
                   mjpeg ? "%s: device only offers MJPEG, which is not supported yet "
                           "(need YUV420, NV12 or YUYV)"
                         : "%s: device offers none of YUV420, NV12, YUYV",
                   v4l2->device);
    return -1;
}

/* Set format and frame rate; the driver may adjust the size, which then
 * becomes the camera's size. 0, or -1 with a reason. */
static int camera_v4l2_set_format(struct camera_v4l2 *v4l2, uint32_t pixel_format, int width,
                                  int height, int fps, char *error, size_t error_size)
{
    struct v4l2_format format = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    format.fmt.pix.width = (uint32_t)width;
    format.fmt.pix.height = (uint32_t)height;
    format.fmt.pix.pixelformat = pixel_format;
    format.fmt.pix.field = V4L2_FIELD_NONE;
    char fourcc[5];
    if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_S_FMT, &format) != 0) {
        error_text_set(error, error_size, "%s: VIDIOC_S_FMT %s %dx%d: %s", v4l2->device,
                       camera_v4l2_fourcc(pixel_format, fourcc), width, height, strerror(errno));
        return -1;
    }
    const struct v4l2_pix_format *pix = &format.fmt.pix;
    uint32_t min_line = pix->pixelformat == V4L2_PIX_FMT_YUYV ? 2 * pix->width : pix->width;
    uint32_t bytes_per_line = pix->bytesperline > min_line ? pix->bytesperline : min_line;
    uint32_t min_size = pix->pixelformat == V4L2_PIX_FMT_YUYV
                            ? bytes_per_line * pix->height
                            : bytes_per_line * pix->height * 3 / 2;
    if (pix->pixelformat != pixel_format || pix->width % 2 != 0 || pix->height % 2 != 0 ||
        pix->width < CAMERA_V4L2_MIN_DIMENSION || pix->height < CAMERA_V4L2_MIN_DIMENSION ||
        pix->width > CAMERA_MAX_WIDTH || pix->height > CAMERA_MAX_HEIGHT ||
        (pix->field != V4L2_FIELD_NONE && pix->field != V4L2_FIELD_ANY)) {
        error_text_set(error, error_size, "%s: driver chose unusable format %s %ux%u", v4l2->device,
                       camera_v4l2_fourcc(pix->pixelformat, fourcc), pix->width, pix->height);
        return -1;
    }
    if ((int)pix->width != width || (int)pix->height != height)
        log_warn("%s: asked for %dx%d, driver gives %ux%u", v4l2->device, width, height, pix->width,
                 pix->height);
    v4l2->pixel_format = pixel_format;
    v4l2->width = (int)pix->width;
    v4l2->height = (int)pix->height;
    v4l2->bytes_per_line = bytes_per_line;
    v4l2->frame_bytes = min_size;

    struct v4l2_streamparm parameters = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    v4l2->fps = fps;
    if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_G_PARM, &parameters) == 0 &&
        (parameters.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
        parameters.parm.capture.timeperframe.numerator = 1;
        parameters.parm.capture.timeperframe.denominator = (uint32_t)fps;
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_S_PARM, &parameters) != 0)
            log_warn("%s: cannot set %d fps: %s", v4l2->device, fps, strerror(errno));
    }
    return 0;
}

/* Stop streaming and release the driver buffers (safe to repeat). */
static void camera_v4l2_stop(struct camera_v4l2 *v4l2)
{
    if (v4l2->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_STREAMOFF, &type) != 0)
            log_warn("%s: VIDIOC_STREAMOFF: %s", v4l2->device, strerror(errno));
        v4l2->streaming = 0;
    }
    for (int i = 0; i < v4l2->buffer_count; i++)
        munmap(v4l2->buffers[i].start, v4l2->buffers[i].length);
    if (v4l2->buffer_count > 0) {
        struct v4l2_requestbuffers request = {
            .count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        camera_v4l2_ioctl(v4l2->fd, VIDIOC_REQBUFS, &request);
    }
    v4l2->buffer_count = 0;
}

/* Request and map the driver buffers, queue them, start streaming, and size
 * the I420 output buffer. 0, or -1 with a reason. */
static int camera_v4l2_start(struct camera_v4l2 *v4l2, char *error, size_t error_size)
{
    struct v4l2_requestbuffers request = {.count = CAMERA_V4L2_BUFFERS,
                                          .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                          .memory = V4L2_MEMORY_MMAP};
    if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_REQBUFS, &request) != 0 || request.count < 2) {
        error_text_set(error, error_size, "%s: cannot get mmap buffers: %s", v4l2->device,
                       strerror(errno));
        return -1;
    }
    uint32_t count = request.count < CAMERA_V4L2_BUFFERS ? request.count : CAMERA_V4L2_BUFFERS;
    for (uint32_t i = 0; i < count; i++) {
        struct v4l2_buffer buffer = {
            .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_QUERYBUF, &buffer) != 0)
            goto fail_errno;
        void *start = mmap(NULL, buffer.length, PROT_READ | PROT_WRITE, MAP_SHARED, v4l2->fd,
                           buffer.m.offset);
        if (start == MAP_FAILED)
            goto fail_errno;
        v4l2->buffers[i] = (struct camera_v4l2_buffer){start, buffer.length};
        v4l2->buffer_count = (int)i + 1;
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_QBUF, &buffer) != 0)
            goto fail_errno;
    }
    uint8_t *planes = realloc(v4l2->planes, (size_t)v4l2->width * (size_t)v4l2->height * 3 / 2);
    if (planes == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto fail;
    }
    v4l2->planes = planes;
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_STREAMON, &type) != 0)
        goto fail_errno;
    v4l2->streaming = 1;
    return 0;
fail_errno:
    error_text_set(error, error_size, "%s: starting capture: %s", v4l2->device, strerror(errno));
fail:
    camera_v4l2_stop(v4l2);
    return -1;
}

/* Open and start the device; freed by camera_close(). */
struct camera *camera_v4l2_open(const char *device, const struct camera_config *config, char *error,
                                size_t error_size)
{
    struct camera_v4l2 *v4l2 = calloc(1, sizeof(*v4l2));
    if (v4l2 == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    v4l2->base.backend = &camera_v4l2_backend;
    v4l2->device = strdup(device);
    v4l2->fd = v4l2->device == NULL ? -1 : open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (v4l2->fd < 0) {
        error_text_set(error, error_size, "%s: %s", device,
                       v4l2->device == NULL ? "out of memory" : strerror(errno));
        goto fail;
    }
    struct v4l2_capability capability;
    memset(&capability, 0, sizeof(capability));
    if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_QUERYCAP, &capability) != 0) {
        error_text_set(error, error_size, "%s: not a V4L2 device: %s", device, strerror(errno));
        goto fail;
    }
    uint32_t caps = (capability.capabilities & V4L2_CAP_DEVICE_CAPS) ? capability.device_caps
                                                                     : capability.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        error_text_set(error, error_size,
                       (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
                           ? "%s: multi-planar capture devices are not supported"
                           : "%s: not a streaming video capture device",
                       device);
        goto fail;
    }
    uint32_t format;
    if (camera_v4l2_choose_format(v4l2, &format, error, error_size) != 0 ||
        camera_v4l2_set_format(v4l2, format, config->width, config->height, config->fps, error,
                               error_size) != 0 ||
        camera_v4l2_start(v4l2, error, error_size) != 0)
        goto fail;
    char fourcc[5];
    log_info("%s (%s): %s %dx%d@%d", device, (const char *)capability.card,
             camera_v4l2_fourcc(format, fourcc), v4l2->width, v4l2->height, v4l2->fps);
    return &v4l2->base;
fail:
    camera_v4l2_close(&v4l2->base);
    return NULL;
}

/* YUYV (packed 4:2:2, rows `stride` bytes apart) to I420 with stride =
 * width; the chroma of each row pair is averaged. */
void camera_v4l2_convert_yuyv(const uint8_t *source, size_t stride, int width, int height,
                              uint8_t *y, uint8_t *u, uint8_t *v)
{
    assert(width % 2 == 0 && height % 2 == 0 && stride >= 2 * (size_t)width);
    for (int row = 0; row < height; row += 2) {
        const uint8_t *top = source + (size_t)row * stride;
        const uint8_t *bottom = top + stride;
        uint8_t *y_top = y + (size_t)row * (size_t)width, *y_bottom = y_top + width;
        uint8_t *u_row = u + (size_t)(row / 2) * (size_t)(width / 2);
        uint8_t *v_row = v + (size_t)(row / 2) * (size_t)(width / 2);
        for (int x = 0; x < width / 2; x++) {
            const uint8_t *a = top + 4 * x, *b = bottom + 4 * x;
            y_top[2 * x] = a[0];
            y_top[2 * x + 1] = a[2];
            y_bottom[2 * x] = b[0];
            y_bottom[2 * x + 1] = b[2];
            u_row[x] = (uint8_t)((a[1] + b[1] + 1) / 2);
            v_row[x] = (uint8_t)((a[3] + b[3] + 1) / 2);
        }
    }
}

/* NV12 (interleaved = 1) or YUV420 (interleaved = 0) with luma rows
 * `stride` bytes apart, chroma following the luma as V4L2 lays it out, to
 * I420 with stride = width. */
void camera_v4l2_convert_planar(const uint8_t *source, size_t stride, int width, int height,
                                int interleaved, uint8_t *y, uint8_t *u, uint8_t *v)
{
    assert(width % 2 == 0 && height % 2 == 0 && stride >= (size_t)width);
    for (int row = 0; row < height; row++)
        memcpy(y + (size_t)row * (size_t)width, source + (size_t)row * stride, (size_t)width);
    const uint8_t *chroma = source + stride * (size_t)height;
    for (int row = 0; row < height / 2; row++) {
        uint8_t *u_row = u + (size_t)row * (size_t)(width / 2);
        uint8_t *v_row = v + (size_t)row * (size_t)(width / 2);
        if (interleaved) {
            const uint8_t *pairs = chroma + (size_t)row * stride;
            for (int x = 0; x < width / 2; x++) {
                u_row[x] = pairs[2 * x];
                v_row[x] = pairs[2 * x + 1];
            }
        } else {
            size_t half = stride / 2;
            memcpy(u_row, chroma + (size_t)row * half, (size_t)(width / 2));
            memcpy(v_row, chroma + half * (size_t)(height / 2) + (size_t)row * half,
                   (size_t)(width / 2));
        }
    }
}

/* Capture time on CLOCK_REALTIME for a dequeued buffer. */
static uint64_t camera_v4l2_capture_time(const struct v4l2_buffer *buffer)
{
    uint64_t realtime_us = clock_realtime_us();
    if ((buffer->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
        return realtime_us;
    int64_t now_us = clock_monotonic_us();
    int64_t taken_us = (int64_t)buffer->timestamp.tv_sec * 1000000 + buffer->timestamp.tv_usec;
    int64_t age_us = now_us - taken_us;
    if (age_us < 0 || age_us > 1000000)
        return realtime_us;
    return realtime_us - (uint64_t)age_us;
}

/* Wait for the driver's next buffer, convert it, requeue it. */
static int camera_v4l2_capture(struct camera *camera, struct camera_frame *frame)
{
    struct camera_v4l2 *v4l2 = (struct camera_v4l2 *)camera;
    assert(camera->backend == &camera_v4l2_backend && v4l2->streaming);
    struct v4l2_buffer buffer;
    for (;;) {
        memset(&buffer, 0, sizeof(buffer));
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        buffer.memory = V4L2_MEMORY_MMAP;
        if (camera_v4l2_ioctl(v4l2->fd, VIDIOC_DQBUF, &buffer) == 0)
            break;
        if (errno != EAGAIN) {
            log_error("%s: VIDIOC_DQBUF: %s", v4l2->device, strerror(errno));
            return -1;
        }
        struct pollfd poller = {.fd = v4l2->fd, .events = POLLIN};
        int ready = poll(&poller, 1, CAMERA_V4L2_TIMEOUT_MS);
        if (ready == 0) {
            log_error("%s: no frame for %d ms", v4l2->device, CAMERA_V4L2_TIMEOUT_MS);
            return -1;
        }
        if (ready < 0 && errno != EINTR) {
            log_error("%s: poll: %s", v4l2->device, strerror(errno));
            return -1;
        }
    }
    int rc = 0;
    if (buffer.index >= (uint32_t)v4l2->buffer_count || (buffer.flags & V4L2_BUF_FLAG_ERROR) ||
        buffer.bytesused < v4l2->frame_bytes) {
        log_warn("%s: short or damaged buffer (%u bytes), frame skipped", v4l2->device,
                 buffer.bytesused);
        rc = -1;
    }
    size_t luma_size = (size_t)v4l2->width * (size_t)v4l2->height;
    uint8_t *y = v4l2->planes, *u = y + luma_size, *v = u + luma_size / 4;
    if (rc == 0) {
        const uint8_t *source = v4l2->buffers[buffer.index].start;
        if (v4l2->pixel_format == V4L2_PIX_FMT_YUYV)
            camera_v4l2_convert_yuyv(source, v4l2->bytes_per_line, v4l2->width, v4l2->height, y, u,
                                     v);
        else
            camera_v4l2_convert_planar(source, v4l2->bytes_per_line, v4l2->width, v4l2->height,
                                       v4l2->pixel_format == V4L2_PIX_FMT_NV12, y, u, v);
        *frame = (struct camera_frame){
            .y = y,
            .u = u,
            .v = v,
            .width = v4l2->width,
            .height = v4l2->height,
            .stride_y = v4l2->width,
            .stride_uv = v4l2->width / 2,
            .capture_time_us = camera_v4l2_capture_time(&buffer),
            .sequence = v4l2->sequence++,
        };
    }
    if (buffer.index < (uint32_t)v4l2->buffer_count &&
        camera_v4l2_ioctl(v4l2->fd, VIDIOC_QBUF, &buffer) != 0) {
        log_error("%s: VIDIOC_QBUF: %s", v4l2->device, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Restart streaming with a new size and rate; on failure try the old ones. */
static int camera_v4l2_reconfigure(struct camera *camera, int width, int height, int fps)
{
    struct camera_v4l2 *v4l2 = (struct camera_v4l2 *)camera;
    assert(camera->backend == &camera_v4l2_backend);
    int old_width = v4l2->width, old_height = v4l2->height, old_fps = v4l2->fps;
    char error[256];
    camera_v4l2_stop(v4l2);
    if (camera_v4l2_set_format(v4l2, v4l2->pixel_format, width, height, fps, error,
                               sizeof(error)) == 0 &&
        camera_v4l2_start(v4l2, error, sizeof(error)) == 0)
        return 0;
    log_error("reconfigure: %s", error);
    camera_v4l2_stop(v4l2);
    if (camera_v4l2_set_format(v4l2, v4l2->pixel_format, old_width, old_height, old_fps, error,
                               sizeof(error)) != 0 ||
        camera_v4l2_start(v4l2, error, sizeof(error)) != 0)
        log_error("reconfigure: cannot restore the previous format: %s", error);
    return -1;
}

/* Stop streaming, unmap, close the device and free everything. */
static void camera_v4l2_close(struct camera *camera)
{
    struct camera_v4l2 *v4l2 = (struct camera_v4l2 *)camera;
    assert(camera->backend == &camera_v4l2_backend);
    if (v4l2->fd >= 0) {
        camera_v4l2_stop(v4l2);
        close(v4l2->fd);
    }
    free(v4l2->planes);
    free(v4l2->device);
    free(v4l2);
}
