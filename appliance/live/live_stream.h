/*
 * live_stream.h - one doorbell's live stream on the hub: ingest of its H.264
 * access units and Opus packets, muxed ONCE into per-frame fMP4 fragments,
 * a cache of the current GOP so a new viewer gets a picture at once, and the
 * fan-out of those fragments to every viewer.
 *
 * Threads: the doorbell's link thread pushes media; HTTP worker threads of
 * viewers attach and detach; each viewer's sender thread reads fragments.
 * stream->lock guards the init segment, the GOP cache and the viewer list.
 * In the hub's lock order (devices/device_registry.h) it comes after the
 * registry entry's lock and before each viewer's lock: HTTP threads read
 * the counters inside an entry lock; code holding it never calls back into
 * the registry.
 * Fragments are immutable once published and reference-counted, so viewers
 * share them without copying. A stream is reference-counted too: the
 * registry entry holds one reference and every attached viewer another.
 */
#ifndef DOORSTEP_LIVE_STREAM_H
#define DOORSTEP_LIVE_STREAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "media/h264.h"

/* Each binary WebSocket message to a viewer: kind (1 byte), capture time in
 * microseconds since the epoch (8 bytes, big-endian), then fMP4 bytes. */
#define LIVE_HEADER_SIZE 9
#define LIVE_KIND_INIT   1
#define LIVE_KIND_VIDEO  2
#define LIVE_KIND_AUDIO  3

struct live_fragment {
    atomic_int references;
    uint8_t kind;
    int keyframe;
    uint64_t capture_us;
    char mime[128];    /* INIT only: video/mp4; codecs="avc1.PPCCLL[, opus]" */
    int width, height; /* INIT only */
    size_t size;       /* bytes in data: header + fMP4 */
    uint8_t data[];
};

/* Take another reference / drop one (frees at zero). Any thread. */
struct live_fragment *live_fragment_retain(struct live_fragment *fragment);
void live_fragment_release(struct live_fragment *fragment);

struct live_stream;
struct live_viewer;

struct live_stream_stats {
    uint64_t video_frames, audio_packets, bad_frames;
    uint64_t skipped_frames; /* summed over all viewers, ever */
    uint64_t viewer_skips;   /* times any viewer was skipped to a keyframe */
    int viewers;
    int width, height;
    char codecs[48];
};

/* Create a stream with one reference (the caller's). NULL if out of memory. */
struct live_stream *live_stream_create(const char *device_id);

/* Take / drop a reference; the last drop frees the stream and its cache. */
void live_stream_retain(struct live_stream *stream);
void live_stream_release(struct live_stream *stream);

/* Link thread: a doorbell (re)connected. Forgets the old init segment and
 * GOP (the next keyframe starts afresh) and notes the audio channels. */
void live_stream_begin(struct live_stream *stream, int fps, int audio_channels);

/*
 * Link thread: one access unit, already converted by the caller (who frees
 * it; the link converts once for live view and the recorder). Muxed and fanned
 * out. Returns 0, or -1 with a reason when its parameter sets are unusable
 * (then nothing is published and the stream state is unchanged).
 */
int live_stream_push_unit(struct live_stream *stream, const struct h264_access_unit *unit,
                          uint64_t capture_us, char *error, size_t error_size);

/* Count a frame the caller found unusable. */
void live_stream_count_bad_frame(struct live_stream *stream);

/* Link thread: one Opus packet. 0, or -1 with a reason. */
int live_stream_push_audio(struct live_stream *stream, const uint8_t *packet, size_t size,
                           uint64_t capture_us, char *error, size_t error_size);

/*
 * Viewer threads: start receiving / stop. A new viewer gets the init segment
 * and the cached GOP; when that GOP is long (decoding it all would delay the
 * first picture), the next keyframe instead, or the GOP after 250 ms without
 * one. attach returns 1 when the caller should ask the doorbell for a
 * keyframe now (at most every 250 ms per doorbell).
 */
int live_stream_attach(struct live_stream *stream, struct live_viewer *viewer);
void live_stream_detach(struct live_stream *stream, struct live_viewer *viewer);

/* Ask every attached viewer to go away (device removed). */
void live_stream_close_viewers(struct live_stream *stream);

/* Counters, for the API and adaptive quality. Any thread. */
void live_stream_get_stats(struct live_stream *stream, struct live_stream_stats *out);

#endif
