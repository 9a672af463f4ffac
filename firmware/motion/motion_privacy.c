/*
 * motion_privacy.c - the privacy blackout of full-size I420 frames (see
 * motion_privacy.h), with the shared polygon rasteriser of
 * common/motion_config.c. Capture thread; no allocation, so it runs on
 * every frame.
 */
#include "motion/motion_privacy.h"

#include <string.h>

#define MOTION_BLACK_LUMA     16
#define MOTION_NEUTRAL_CHROMA 128

/* Black out the privacy masks of a frame in place (see header). */
void motion_privacy_blackout(const struct motion_config *config, struct camera_frame *frame)
{
    int width = frame->width, height = frame->height;
    int chroma_width = (width + 1) / 2;
    int x0[MOTION_MAX_POLYGON_POINTS / 2], x1[MOTION_MAX_POLYGON_POINTS / 2];
    for (int m = 0; m < config->mask_count; m++) {
        const struct motion_polygon *polygon = &config->masks[m];
        for (int y = 0; y < height; y++) {
            int spans = motion_polygon_spans(polygon, (y + 0.5) / height, width, x0, x1);
            uint8_t *luma = frame->y + (size_t)y * (size_t)frame->stride_y;
            size_t chroma_row = (size_t)(y / 2) * (size_t)frame->stride_uv;
            for (int i = 0; i < spans; i++) {
                memset(luma + x0[i], MOTION_BLACK_LUMA, (size_t)(x1[i] - x0[i]));
                /* Both luma rows of a chroma row paint it: rounded outward. */
                int c0 = x0[i] / 2, c1 = (x1[i] + 1) / 2;
                c1 = c1 > chroma_width ? chroma_width : c1;
                memset(frame->u + chroma_row + c0, MOTION_NEUTRAL_CHROMA, (size_t)(c1 - c0));
                memset(frame->v + chroma_row + c0, MOTION_NEUTRAL_CHROMA, (size_t)(c1 - c0));
            }
        }
    }
}
