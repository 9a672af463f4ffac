/*
 * encoder.c - H.264 encoding of camera frames with libx264 for live view
 * (see encoder.h): preset + tune zerolatency, no B-frames, no lookahead, one
 * thread (several doorbells share two cores), periodic IDRs with SPS/PPS in
 * front of each, Annex B, ABR rate control capped by a small VBV so the
 * link never sees bursts far above the bitrate.
 *
 * The capture thread owns the encoder and calls everything except
 * encoder_request_keyframe(), which any thread may call (atomic flag).
 * The encoder owns the x264 handle and a growable output buffer holding the
 * last access unit.
 */
#define LOG_MODULE "encoder"

#include "encoder/encoder.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x264.h>

#include "common/error_text.h"
#include "common/log.h"

#define ENCODER_DEFAULT_BITRATE_KBPS 2000
#define ENCODER_DEFAULT_PRESET       "veryfast"
#define ENCODER_MIN_BITRATE_KBPS     32
#define ENCODER_MAX_BITRATE_KBPS     100000
#define ENCODER_MAX_DIMENSION        4096
#define ENCODER_MAX_FPS              120

struct encoder {
    x264_t *x264;
    x264_param_t param;           /* what x264 was opened / reconfigured with */
    struct encoder_config config; /* resolved; config.preset points at preset[] */
    char preset[32];
    atomic_int keyframe_requested; /* set by any thread, consumed by encode */
    int64_t next_pts;
    uint8_t *buffer; /* last access unit */
    size_t capacity;
};

/* Route x264's messages into our log. */
__attribute__((format(printf, 3, 0))) static void encoder_x264_log(void *opaque, int level,
                                                                   const char *format, va_list args)
{
    (void)opaque;
    char message[512];
    vsnprintf(message, sizeof(message), format, args);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r'))
        message[--length] = '\0';
    if (level <= X264_LOG_ERROR)
        log_error("x264: %s", message);
    else if (level == X264_LOG_WARNING)
        log_warn("x264: %s", message);
    else
        log_debug("x264: %s", message);
}

/* Copy config with defaults filled in; 0, or -1 with a reason. */
static int encoder_resolve(const struct encoder_config *config, struct encoder_config *out,
                           char *preset, size_t preset_size, char *error, size_t error_size)
{
    *out = *config;
    if (out->bitrate_kbps <= 0)
        out->bitrate_kbps = ENCODER_DEFAULT_BITRATE_KBPS;
    if (out->fps > 0 && out->keyframe_interval <= 0)
        out->keyframe_interval = 2 * out->fps;
    const char *name =
        out->preset != NULL && out->preset[0] != '\0' ? out->preset : ENCODER_DEFAULT_PRESET;
    if (strlen(name) >= preset_size) {
        error_text_set(error, error_size, "unknown x264 preset \"%s\"", name);
        return -1;
    }
    memcpy(preset, name, strlen(name) + 1);
    out->preset = preset;
    if (out->width <= 0 || out->height <= 0 || out->width % 2 != 0 || out->height % 2 != 0 ||
        out->width > ENCODER_MAX_DIMENSION || out->height > ENCODER_MAX_DIMENSION ||
        out->fps <= 0 || out->fps > ENCODER_MAX_FPS ||
        out->bitrate_kbps < ENCODER_MIN_BITRATE_KBPS ||
        out->bitrate_kbps > ENCODER_MAX_BITRATE_KBPS) {
        error_text_set(error, error_size, "unsupported encoder settings %dx%d@%d %d kbit/s",
                       out->width, out->height, out->fps, out->bitrate_kbps);
        return -1;
    }
    return 0;
}

/* Rate-control fields for a bitrate (shared by open and reconfig). */
static void encoder_param_rate(x264_param_t *param, int bitrate_kbps, int fps, int vbv_kbit)
{
    param->rc.i_rc_method = X264_RC_ABR;
    param->rc.i_bitrate = bitrate_kbps;
    param->rc.i_vbv_max_bitrate = bitrate_kbps;
    int buffer = vbv_kbit > 0 ? vbv_kbit : bitrate_kbps * ENCODER_VBV_FRAMES / fps;
    param->rc.i_vbv_buffer_size = buffer < 16 ? 16 : buffer;
}

/* Build x264 parameters for a resolved config; 0, or -1 with a reason. */
static int encoder_param_build(const struct encoder_config *config, x264_param_t *param,
                               char *error, size_t error_size)
{
    int known = 0;
    for (int i = 0; x264_preset_names[i] != NULL; i++)
        known |= strcmp(x264_preset_names[i], config->preset) == 0;
    if (!known || x264_param_default_preset(param, config->preset, "zerolatency") < 0) {
        error_text_set(error, error_size, "unknown x264 preset \"%s\"", config->preset);
        return -1;
    }
    param->pf_log = encoder_x264_log;
    param->i_log_level = X264_LOG_WARNING;
    param->i_threads = 1;
    param->b_sliced_threads = 0;
    param->i_width = config->width;
    param->i_height = config->height;
    param->i_csp = X264_CSP_I420;
    param->i_fps_num = (uint32_t)config->fps;
    param->i_fps_den = 1;
    param->i_timebase_num = 1;
    param->i_timebase_den = (uint32_t)config->fps;
    param->b_vfr_input = 0;
    param->i_bframe = 0;
    param->i_keyint_max = config->keyframe_interval;
    param->i_keyint_min = config->keyframe_interval;
    param->i_scenecut_threshold = 0; /* IDRs only on schedule or on request */
    param->b_intra_refresh = 0;
    param->b_repeat_headers = 1;
    param->b_annexb = 1;
    param->b_aud = 0;
    param->vui.b_fullrange = 0; /* BT.601 limited range, as the cameras deliver */
    param->vui.i_colorprim = 6;
    param->vui.i_transfer = 6;
    param->vui.i_colmatrix = 6;
    encoder_param_rate(param, config->bitrate_kbps, config->fps, config->vbv_kbit);
    if (x264_param_apply_profile(param, "high") < 0) {
        error_text_set(error, error_size, "x264 rejected the high profile settings");
        return -1;
    }
    return 0;
}

/* Open an x264 encoder for a resolved config; fills *x264_out and *param_out. */
static int encoder_x264_open(const struct encoder_config *config, x264_param_t *param_out,
                             x264_t **x264_out, char *error, size_t error_size)
{
    if (encoder_param_build(config, param_out, error, error_size) != 0)
        return -1;
    *x264_out = x264_encoder_open(param_out);
    if (*x264_out == NULL) {
        error_text_set(error, error_size, "x264_encoder_open failed for %dx%d@%d", config->width,
                       config->height, config->fps);
        return -1;
    }
    return 0;
}

/* Open an encoder; NULL with a reason. Freed with encoder_close(). */
struct encoder *encoder_open(const struct encoder_config *config, char *error, size_t error_size)
{
    char scratch[16];
    if (error == NULL || error_size == 0) {
        error = scratch;
        error_size = sizeof(scratch);
    }
    struct encoder *encoder = calloc(1, sizeof(*encoder));
    if (encoder == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    atomic_init(&encoder->keyframe_requested, 0);
    if (encoder_resolve(config, &encoder->config, encoder->preset, sizeof(encoder->preset), error,
                        error_size) != 0 ||
        encoder_x264_open(&encoder->config, &encoder->param, &encoder->x264, error, error_size) !=
            0) {
        free(encoder);
        return NULL;
    }
    log_info("x264 %dx%d@%d %d kbit/s, IDR every %d frames, preset %s", encoder->config.width,
             encoder->config.height, encoder->config.fps, encoder->config.bitrate_kbps,
             encoder->config.keyframe_interval, encoder->config.preset);
    return encoder;
}

/* Make room for size bytes in the output buffer. */
static int encoder_reserve(struct encoder *encoder, size_t size)
{
    if (size <= encoder->capacity)
        return 0;
    size_t capacity = encoder->capacity > 0 ? encoder->capacity : 65536;
    while (capacity < size)
        capacity *= 2;
    uint8_t *buffer = realloc(encoder->buffer, capacity);
    if (buffer == NULL)
        return -1;
    encoder->buffer = buffer;
    encoder->capacity = capacity;
    return 0;
}

/* Encode one frame into exactly one access unit; out->data stays valid
 * until the next encode, reconfigure or close. */
int encoder_encode(struct encoder *encoder, const struct camera_frame *frame,
                   struct encoded_frame *out)
{
    assert(encoder != NULL && frame != NULL && out != NULL);
    if (frame->width != encoder->config.width || frame->height != encoder->config.height) {
        log_error("frame is %dx%d but the encoder is set up for %dx%d", frame->width, frame->height,
                  encoder->config.width, encoder->config.height);
        return -1;
    }
    x264_picture_t picture, picture_out;
    x264_picture_init(&picture);
    picture.img.i_csp = X264_CSP_I420;
    picture.img.i_plane = 3;
    picture.img.plane[0] = frame->y;
    picture.img.plane[1] = frame->u;
    picture.img.plane[2] = frame->v;
    picture.img.i_stride[0] = frame->stride_y;
    picture.img.i_stride[1] = frame->stride_uv;
    picture.img.i_stride[2] = frame->stride_uv;
    picture.i_pts = encoder->next_pts++;
    picture.i_type =
        atomic_exchange(&encoder->keyframe_requested, 0) ? X264_TYPE_IDR : X264_TYPE_AUTO;

    x264_nal_t *nals = NULL;
    int nal_count = 0;
    int size = x264_encoder_encode(encoder->x264, &nals, &nal_count, &picture, &picture_out);
    if (size <= 0 || nal_count <= 0) {
        log_error("x264_encoder_encode returned %d (frame %u)", size, frame->sequence);
        return -1;
    }
    /* x264 guarantees the payloads of one call are contiguous. */
    assert(nals[nal_count - 1].p_payload + nals[nal_count - 1].i_payload ==
           nals[0].p_payload + size);
    if (encoder_reserve(encoder, (size_t)size) != 0) {
        log_error("out of memory for a %d-byte access unit", size);
        return -1;
    }
    memcpy(encoder->buffer, nals[0].p_payload, (size_t)size);
    *out = (struct encoded_frame){
        .data = encoder->buffer,
        .size = (size_t)size,
        .keyframe = picture_out.b_keyframe != 0,
        .capture_time_us = frame->capture_time_us,
        .sequence = frame->sequence,
    };
    return 0;
}

/* Any thread: the next encode produces an IDR. */
void encoder_request_keyframe(struct encoder *encoder)
{
    assert(encoder != NULL);
    atomic_store(&encoder->keyframe_requested, 1);
}

static int encoder_reopen(struct encoder *encoder, const struct encoder_config *config,
                          const char *preset);

/* Bitrate-only changes go through x264_encoder_reconfig; anything else
 * reopens x264 (the first frame of the new stream is an IDR with SPS/PPS).
 * On failure the old settings stay in force. */
int encoder_reconfigure(struct encoder *encoder, const struct encoder_config *config)
{
    assert(encoder != NULL && config != NULL);
    struct encoder_config resolved;
    char preset[sizeof(encoder->preset)];
    char error[256];
    if (encoder_resolve(config, &resolved, preset, sizeof(preset), error, sizeof(error)) != 0) {
        log_error("reconfigure: %s", error);
        return -1;
    }
    const struct encoder_config *current = &encoder->config;
    int reopen = resolved.width != current->width || resolved.height != current->height ||
                 resolved.fps != current->fps ||
                 resolved.keyframe_interval != current->keyframe_interval ||
                 strcmp(preset, encoder->preset) != 0;
    if (!reopen) {
        if (resolved.bitrate_kbps == current->bitrate_kbps &&
            resolved.vbv_kbit == current->vbv_kbit)
            return 0;
        x264_param_t param = encoder->param;
        encoder_param_rate(&param, resolved.bitrate_kbps, resolved.fps, resolved.vbv_kbit);
        if (x264_encoder_reconfig(encoder->x264, &param) < 0) {
            log_error("x264_encoder_reconfig rejected %d kbit/s", resolved.bitrate_kbps);
            return -1;
        }
        encoder->param = param;
        encoder->config.bitrate_kbps = resolved.bitrate_kbps;
        encoder->config.vbv_kbit = resolved.vbv_kbit;
        log_info("bitrate now %d kbit/s", resolved.bitrate_kbps);
        return 0;
    }
    return encoder_reopen(encoder, &resolved, preset);
}

/* Replace x264 by a new one for a resolved config (preset: its name); the
 * next frame is an IDR. 0, or -1 (logged) with the old one kept. */
static int encoder_reopen(struct encoder *encoder, const struct encoder_config *config,
                          const char *preset)
{
    struct encoder_config resolved = *config;
    x264_param_t param;
    x264_t *x264 = NULL;
    char error[256];

    if (encoder_x264_open(&resolved, &param, &x264, error, sizeof(error)) != 0) {
        log_error("reconfigure: %s", error);
        return -1;
    }
    x264_encoder_close(encoder->x264);
    encoder->x264 = x264;
    encoder->param = param;
    encoder->config = resolved;
    snprintf(encoder->preset, sizeof(encoder->preset), "%s", preset);
    encoder->config.preset = encoder->preset;
    encoder->next_pts = 0;
    atomic_store(&encoder->keyframe_requested, 1);
    log_info("reopened x264 at %dx%d@%d %d kbit/s", resolved.width, resolved.height, resolved.fps,
             resolved.bitrate_kbps);
    return 0;
}

/* Open x264 afresh at a new bitrate (see encoder.h). */
int encoder_restart(struct encoder *encoder, int bitrate_kbps)
{
    assert(encoder != NULL);
    struct encoder_config config = encoder->config;
    char preset[sizeof(encoder->preset)];
    char error[256];

    config.bitrate_kbps = bitrate_kbps;
    config.vbv_kbit = 0;
    if (encoder_resolve(&config, &config, preset, sizeof(preset), error, sizeof(error)) != 0) {
        log_error("restart: %s", error);
        return -1;
    }
    return encoder_reopen(encoder, &config, preset);
}

/* Close x264 and free the encoder; NULL is ignored. */
void encoder_close(struct encoder *encoder)
{
    if (encoder == NULL)
        return;
    if (encoder->x264 != NULL)
        x264_encoder_close(encoder->x264);
    free(encoder->buffer);
    free(encoder);
}
