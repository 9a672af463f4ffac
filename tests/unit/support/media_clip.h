/*
 * media_clip.h - test fixture: a clip of real H.264 access units, filmed
 * with the firmware's sim camera (unpaced) and x264, for the media and
 * recording unit tests. Single-threaded; the clip owns its frames.
 */
#ifndef DOORSTEP_TEST_MEDIA_CLIP_H
#define DOORSTEP_TEST_MEDIA_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "media/fmp4.h"
#include "media/h264.h"

struct media_clip_frame {
    struct h264_access_unit unit; /* sps/pps cleared: they pointed into the encoder */
    uint64_t capture_ms;
    uint32_t sequence;
};

struct media_clip {
    struct media_clip_frame *frames; /* count of them, malloc'd */
    int count;
    uint8_t sps[H264_MAX_PARAMETER_SET], pps[H264_MAX_PARAMETER_SET];
    size_t sps_size, pps_size;
    struct h264_sps_info info;
};

struct media_clip_settings {
    int width, height, fps, gop, frames;
    int bitrate_kbps; /* 0 = the encoder's default */
    uint32_t seed;    /* sim scene seed */
};

/* Film the clip. 0, or -1 after printing why to stderr. */
int media_clip_record(struct media_clip *clip, const struct media_clip_settings *settings);

/* Free the frames. */
void media_clip_free(struct media_clip *clip);

/* The fMP4 video configuration of the clip's parameter sets. */
struct fmp4_video_config media_clip_video_config(const struct media_clip *clip);

#endif
