/*
 * media_clip.c - the filmed-clip test fixture (see media_clip.h).
 */
#include "media_clip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/camera.h"
#include "encoder/encoder.h"

int media_clip_record(struct media_clip *clip, const struct media_clip_settings *settings)
{
    char error[256] = "";
    struct camera_config camera_config = {.source = "sim",
                                          .width = settings->width,
                                          .height = settings->height,
                                          .fps = settings->fps,
                                          .seed = settings->seed,
                                          .scripted = 1,
                                          .unpaced = 1};
    struct encoder_config encoder_config = {.width = settings->width,
                                            .height = settings->height,
                                            .fps = settings->fps,
                                            .bitrate_kbps = settings->bitrate_kbps,
                                            .keyframe_interval = settings->gop};
    struct camera *camera = camera_open(&camera_config, error, sizeof(error));
    struct encoder *encoder = encoder_open(&encoder_config, error, sizeof(error));
    int rc = -1;

    memset(clip, 0, sizeof(*clip));
    clip->frames = calloc((size_t)settings->frames, sizeof(*clip->frames));
    if (camera == NULL || encoder == NULL || clip->frames == NULL) {
        fprintf(stderr, "set-up: %s\n", error);
        goto out;
    }
    for (int i = 0; i < settings->frames; i++) {
        struct camera_frame frame;
        struct encoded_frame encoded;
        struct media_clip_frame *out = &clip->frames[i];
        if (camera_capture(camera, &frame) != 0 || encoder_encode(encoder, &frame, &encoded) != 0)
            goto out;
        if (h264_access_unit_convert(encoded.data, encoded.size, &out->unit, error,
                                     sizeof(error)) != 0 ||
            out->unit.is_idr != (i % settings->gop == 0)) {
            fprintf(stderr, "frame %d: %s\n", i, error);
            goto out;
        }
        clip->count = i + 1;
        if (i == 0) {
            memcpy(clip->sps, out->unit.sps, out->unit.sps_size);
            memcpy(clip->pps, out->unit.pps, out->unit.pps_size);
            clip->sps_size = out->unit.sps_size;
            clip->pps_size = out->unit.pps_size;
            if (h264_parse_sps(clip->sps, clip->sps_size, &clip->info, error, sizeof(error)) != 0)
                goto out;
        }
        out->unit.sps = out->unit.pps = NULL;
        out->capture_ms = encoded.capture_time_us / 1000;
        out->sequence = encoded.sequence;
    }
    rc = 0;
out:
    if (encoder != NULL)
        encoder_close(encoder);
    if (camera != NULL)
        camera_close(camera);
    return rc;
}

void media_clip_free(struct media_clip *clip)
{
    for (int i = 0; i < clip->count; i++)
        h264_access_unit_free(&clip->frames[i].unit);
    free(clip->frames);
    memset(clip, 0, sizeof(*clip));
}

struct fmp4_video_config media_clip_video_config(const struct media_clip *clip)
{
    return fmp4_video_config_describe(&clip->info, clip->sps, clip->sps_size, clip->pps,
                                      clip->pps_size);
}
