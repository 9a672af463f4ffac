/*
 * sub_stream.c - the sub-stream's encoder (see sub_stream.h): picks frames
 * by capture time, box-filters the Y, U and V planes down to the sub size
 * and encodes them with a second x264 encoder that exists only between
 * stream_on and stream_off.
 *
 * Thread: the capture thread runs sub_stream_encode() and owns the encoder,
 * the scalers, the pacer and the small picture; the request functions and
 * sub_stream_get_stats() run on any thread and touch only atomics.
 */
#define LOG_MODULE "sub-stream"

#include "encoder/sub_stream.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "motion/motion_image.h"

#define SUB_STREAM_MIN_SIDE 32

struct sub_stream {
    /* Requests from any thread. */
    atomic_int wanted;             /* 1 between stream_on and stream_off */
    atomic_int restart;            /* stream_on seen: keyframe now, pacer from scratch */
    atomic_int keyframe_requested; /* a `keyframe` command */
    atomic_int want_width, want_height, want_fps, want_bitrate_kbps;

    /* Published for status (written by the capture thread). */
    atomic_int on, width, height, fps, bitrate_kbps;
    atomic_uint_fast64_t frames_encoded;

    /* Capture thread only. */
    char preset[32];
    struct encoder *encoder; /* NULL while off */
    struct encoder_config config;
    int camera_width, camera_height; /* the source the scalers are set up for */
    struct motion_scaler scalers[3];
    struct camera_frame picture; /* the small picture; its planes in one block */
    uint8_t *picture_buffer;
    struct sub_stream_pacer pacer;
};

int sub_stream_pacer_take(struct sub_stream_pacer *pacer, uint64_t capture_time_us, int camera_fps,
                          int sub_fps)
{
    uint64_t period, slack;

    if (sub_fps <= 0 || camera_fps <= 0 || sub_fps >= camera_fps)
        return 1;
    period = 1000000u / (uint64_t)sub_fps;
    /* Half a camera frame: capture times wobble by a few ms. */
    slack = 500000u / (uint64_t)camera_fps;
    if (pacer->started && capture_time_us + slack < pacer->next_due_us)
        return 0;
    /* Far behind (a gap in capture) or the first frame: start again here. */
    if (!pacer->started || capture_time_us > pacer->next_due_us + period)
        pacer->next_due_us = capture_time_us;
    pacer->next_due_us += period;
    pacer->started = 1;
    return 1;
}

int sub_stream_fit(int camera_width, int camera_height, int want_width, int want_height, int *width,
                   int *height)
{
    long long fit_width = want_width, fit_height = want_height;

    if (camera_width <= 0 || camera_height <= 0 || want_width < SUB_STREAM_MIN_SIDE ||
        want_height < SUB_STREAM_MIN_SIDE ||
        (camera_width <= want_width && camera_height <= want_height))
        return -1;
    /* Keep the camera's aspect ratio inside the box, sides even. */
    if ((long long)camera_width * want_height >= (long long)camera_height * want_width)
        fit_height = ((long long)want_width * camera_height / camera_width) & ~1LL;
    else
        fit_width = ((long long)want_height * camera_width / camera_height) & ~1LL;
    fit_width &= ~1LL;
    fit_height &= ~1LL;
    if (fit_width < SUB_STREAM_MIN_SIDE || fit_height < SUB_STREAM_MIN_SIDE ||
        fit_width > camera_width || fit_height > camera_height ||
        camera_width > fit_width * MOTION_SCALER_MAX_FACTOR ||
        camera_height > fit_height * MOTION_SCALER_MAX_FACTOR)
        return -1;
    *width = (int)fit_width;
    *height = (int)fit_height;
    return 0;
}

int sub_stream_scale_frame(struct motion_scaler *scalers, const struct camera_frame *source,
                           struct camera_frame *target)
{
    int chroma_width = (source->width + 1) / 2, chroma_height = (source->height + 1) / 2;

    if (motion_scaler_prepare(&scalers[0], source->width, source->height, target->width,
                              target->height) != 0 ||
        motion_scaler_prepare(&scalers[1], chroma_width, chroma_height, target->width / 2,
                              target->height / 2) != 0 ||
        motion_scaler_prepare(&scalers[2], chroma_width, chroma_height, target->width / 2,
                              target->height / 2) != 0)
        return -1;
    motion_scaler_run(&scalers[0], source->y, source->stride_y, 1, target->y);
    motion_scaler_run(&scalers[1], source->u, source->stride_uv, 1, target->u);
    motion_scaler_run(&scalers[2], source->v, source->stride_uv, 1, target->v);
    target->capture_time_us = source->capture_time_us;
    target->sequence = source->sequence;
    return 0;
}

struct sub_stream *sub_stream_create(const struct sub_stream_config *config, int camera_width,
                                     int camera_height)
{
    struct sub_stream *sub;
    int width, height;

    if (config->fps <= 0 || sub_stream_fit(camera_width, camera_height, config->width,
                                           config->height, &width, &height) != 0)
        return NULL;
    sub = calloc(1, sizeof(*sub));
    if (sub == NULL)
        return NULL;
    snprintf(sub->preset, sizeof(sub->preset), "%s",
             config->preset != NULL ? config->preset : "veryfast");
    atomic_init(&sub->want_width, config->width);
    atomic_init(&sub->want_height, config->height);
    atomic_init(&sub->want_fps, config->fps);
    atomic_init(&sub->want_bitrate_kbps, config->bitrate_kbps);
    atomic_init(&sub->width, width);
    atomic_init(&sub->height, height);
    atomic_init(&sub->fps, config->fps);
    atomic_init(&sub->bitrate_kbps, config->bitrate_kbps);
    return sub;
}

/* Free the encoder and the small picture: an encoder nobody watches costs
 * nothing. Capture thread (or after it stopped). */
static void sub_stream_close(struct sub_stream *sub)
{
    encoder_close(sub->encoder);
    sub->encoder = NULL;
    for (int i = 0; i < 3; i++)
        motion_scaler_release(&sub->scalers[i]);
    free(sub->picture_buffer);
    sub->picture_buffer = NULL;
    sub->camera_width = sub->camera_height = 0;
    atomic_store(&sub->on, 0);
}

void sub_stream_destroy(struct sub_stream *sub)
{
    if (sub == NULL)
        return;
    sub_stream_close(sub);
    free(sub);
}

void sub_stream_set_wanted(struct sub_stream *sub, int on)
{
    if (on)
        atomic_store(&sub->restart, 1);
    atomic_store(&sub->wanted, on != 0);
}

void sub_stream_request_keyframe(struct sub_stream *sub)
{
    atomic_store(&sub->keyframe_requested, 1);
}

void sub_stream_request_format(struct sub_stream *sub, int bitrate_kbps, int width, int height,
                               int fps)
{
    if (bitrate_kbps > 0)
        atomic_store(&sub->want_bitrate_kbps, bitrate_kbps);
    if (fps > 0)
        atomic_store(&sub->want_fps, fps);
    if (width > 0 && height > 0) {
        atomic_store(&sub->want_width, width);
        atomic_store(&sub->want_height, height);
    }
}

/* The small picture for a source size: one I420 block of the fitted size.
 * 0, or -1 (logged) when the source has no sub-stream or memory is out. */
static int sub_stream_prepare_picture(struct sub_stream *sub, int camera_width, int camera_height,
                                      struct encoder_config *config)
{
    int width, height;
    uint8_t *buffer;

    if (sub_stream_fit(camera_width, camera_height, atomic_load(&sub->want_width),
                       atomic_load(&sub->want_height), &width, &height) != 0) {
        log_warn("no sub-stream for a %dx%d picture", camera_width, camera_height);
        return -1;
    }
    config->width = width;
    config->height = height;
    if (sub->picture_buffer != NULL && sub->picture.width == width && sub->picture.height == height)
        goto out;
    buffer = malloc((size_t)width * (size_t)height * 3 / 2);
    if (buffer == NULL)
        return -1;
    free(sub->picture_buffer);
    sub->picture_buffer = buffer;
    sub->picture = (struct camera_frame){
        .y = buffer,
        .u = buffer + (size_t)width * (size_t)height,
        .v = buffer + (size_t)width * (size_t)height * 5 / 4,
        .width = width,
        .height = height,
        .stride_y = width,
        .stride_uv = width / 2,
    };
out:
    sub->camera_width = camera_width;
    sub->camera_height = camera_height;
    return 0;
}

/* Open the encoder, or set it up again, for the wanted format and this
 * frame's size. 0, or -1 (logged; the stream is then off). */
static int sub_stream_configure(struct sub_stream *sub, const struct camera_frame *frame,
                                int camera_fps)
{
    struct encoder_config config = {0};
    char error[256];

    config.fps = atomic_load(&sub->want_fps);
    if (config.fps > camera_fps)
        config.fps = camera_fps;
    config.bitrate_kbps = atomic_load(&sub->want_bitrate_kbps);
    config.keyframe_interval = 2 * config.fps;
    config.preset = sub->preset;
    if (sub_stream_prepare_picture(sub, frame->width, frame->height, &config) != 0)
        goto fail;
    if (sub->encoder == NULL) {
        sub->encoder = encoder_open(&config, error, sizeof(error));
        if (sub->encoder == NULL) {
            log_error("sub-stream encoder: %s", error);
            goto fail;
        }
    } else if (encoder_reconfigure(sub->encoder, &config) != 0) {
        goto fail;
    }
    sub->config = config;
    atomic_store(&sub->width, config.width);
    atomic_store(&sub->height, config.height);
    atomic_store(&sub->fps, config.fps);
    atomic_store(&sub->bitrate_kbps, config.bitrate_kbps);
    atomic_store(&sub->on, 1);
    return 0;

fail:
    sub_stream_close(sub);
    return -1;
}

/* 1 when the encoder must be set up again for this frame: just turned on,
 * another camera size or rate, or a set_video for "sub". */
static int sub_stream_needs_configure(struct sub_stream *sub, const struct camera_frame *frame,
                                      int camera_fps)
{
    int fps = atomic_load(&sub->want_fps);

    if (fps > camera_fps)
        fps = camera_fps;
    return sub->encoder == NULL || frame->width != sub->camera_width ||
           frame->height != sub->camera_height || fps != sub->config.fps ||
           atomic_load(&sub->want_bitrate_kbps) != sub->config.bitrate_kbps ||
           atomic_load(&sub->width) != sub->config.width ||
           atomic_load(&sub->height) != sub->config.height;
}

int sub_stream_encode(struct sub_stream *sub, const struct camera_frame *frame, int camera_fps,
                      struct encoded_frame *out)
{
    int restart;

    if (!atomic_load(&sub->wanted)) {
        if (sub->encoder != NULL) {
            sub_stream_close(sub);
            log_info("sub-stream off");
        }
        return 0;
    }
    restart = atomic_exchange(&sub->restart, 0);
    if (sub->encoder == NULL)
        log_info("sub-stream on");
    else if (restart)
        encoder_request_keyframe(sub->encoder);
    if (restart)
        memset(&sub->pacer, 0, sizeof(sub->pacer));
    /* A new size box changes the fitted size: fit again before comparing. */
    if (sub->encoder != NULL) {
        int width, height;
        if (sub_stream_fit(frame->width, frame->height, atomic_load(&sub->want_width),
                           atomic_load(&sub->want_height), &width, &height) == 0) {
            atomic_store(&sub->width, width);
            atomic_store(&sub->height, height);
        }
    }
    if (sub_stream_needs_configure(sub, frame, camera_fps) &&
        sub_stream_configure(sub, frame, camera_fps) != 0) {
        atomic_store(&sub->wanted, 0);
        return -1;
    }
    if (!sub_stream_pacer_take(&sub->pacer, frame->capture_time_us, camera_fps, sub->config.fps))
        return 0;
    if (atomic_exchange(&sub->keyframe_requested, 0))
        encoder_request_keyframe(sub->encoder);
    if (sub_stream_scale_frame(sub->scalers, frame, &sub->picture) != 0) {
        log_error("cannot scale %dx%d to %dx%d", frame->width, frame->height, sub->picture.width,
                  sub->picture.height);
        return -1;
    }
    if (encoder_encode(sub->encoder, &sub->picture, out) != 0)
        return -1;
    atomic_fetch_add(&sub->frames_encoded, 1);
    return 1;
}

void sub_stream_get_stats(struct sub_stream *sub, struct sub_stream_stats *out)
{
    out->on = atomic_load(&sub->on);
    out->width = atomic_load(&sub->width);
    out->height = atomic_load(&sub->height);
    out->fps = atomic_load(&sub->fps);
    /* Off, it reports the bitrate it will start at (a set_video for "sub"
     * waits for the next stream_on), so an admin's change shows at once. */
    out->bitrate_kbps =
        out->on ? atomic_load(&sub->bitrate_kbps) : atomic_load(&sub->want_bitrate_kbps);
    out->frames_encoded = atomic_load(&sub->frames_encoded);
}
