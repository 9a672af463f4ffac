/*
 * live_stream.h - one doorbell's live stream on the hub: ingest of its H.264
 * access units and Opus packets, muxed ONCE into per-frame fMP4 fragments,
 * a cache of the current GOP so a new viewer gets a picture at once, and the
 * fan-out of those fragments to every viewer.
 *
 * A doorbell has two: its main stream (always on, the recorded one) and its
 * sub-stream (small, encoded while viewers want it), created from the main
 * with live_stream_create_sub: it shares the main's lock and timeline epoch,
 * and a viewer moves between the two with live_stream_choose (at the
 * target's next keyframe, see live_stream.c).
 *
 * Threads: the doorbell's link thread pushes media; HTTP worker threads of
 * viewers attach and detach; each viewer's sender thread reads fragments.
 * stream->lock (one for both streams of a doorbell) guards the init segment, the GOP cache and the
 * viewer list. In the hub's lock order (devices/device_registry.h) it comes after the registry
 * entry's lock and before each viewer's lock: HTTP threads read the counters inside an entry lock;
 * code holding it never calls back into the registry. Fragments are immutable once published and
 * reference-counted, so viewers share them without copying. A stream is reference-counted too: the
 * registry entry holds one reference, every viewer's session another (to
 * both streams of its doorbell), and a sub-stream one to its main.
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

#define LIVE_STREAM_NAME_MAX 8
#define LIVE_REASON_MAX      24

struct live_fragment {
    atomic_int references;
    uint8_t kind;
    int keyframe;
    uint64_t capture_us;
    char mime[128];                    /* INIT only: video/mp4; codecs="avc1.PPCCLL[, opus]" */
    int width, height;                 /* INIT only */
    char stream[LIVE_STREAM_NAME_MAX]; /* INIT only: "main" or "sub" */
    char reason[LIVE_REASON_MAX];      /* INIT only, a viewer's own copy: why it gets it */
    size_t size;                       /* bytes in data: header + fMP4 */
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
    uint64_t switches;       /* viewers that came over from the other stream */
    uint64_t fall_backs;     /* automatic viewers sent to the sub-stream for falling behind */
    uint64_t recoveries;     /* (sub) fallen-back viewers that kept up and went back to main */
    int viewers;             /* attached: a main stream counts its sub-stream's too (the
                                doorbell's live viewers) */
    int stream_viewers;      /* attached to this stream itself */
    int pending;             /* waiting for this stream's next keyframe to come over */
    int width, height;
    char codecs[48];
};

/* Create a stream with one reference (the caller's). NULL if out of memory. */
struct live_stream *live_stream_create(const char *device_id);

/* Create the sub-stream of main_stream (one reference, the caller's; it
 * takes one of main_stream). NULL if out of memory. */
struct live_stream *live_stream_create_sub(struct live_stream *main_stream);

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
 * Viewer threads: start receiving. A new viewer gets the init segment (its
 * own copy, whose text names the stream and `reason`) and the cached GOP;
 * when that GOP is long (decoding it all would delay the first picture),
 * the next keyframe instead, or the GOP after 250 ms without one. attach
 * returns 1 when the caller should ask the doorbell for a keyframe now (at
 * most every 250 ms per stream). fall_back: an automatic viewer of the main
 * stream, moved to the sub-stream (reason "behind") when it is skipped. The
 * caller holds references to both streams of the doorbell until detach.
 */
int live_stream_attach(struct live_stream *stream, struct live_viewer *viewer, const char *reason,
                       int fall_back);

/*
 * Viewer threads: the viewer (attached to either stream of the doorbell)
 * wants target. Already there: its reason and fall_back are updated
 * (LIVE_CHOOSE_THERE). Otherwise it stays where it is until target's next
 * keyframe, then gets target's init segment and goes on from there
 * (LIVE_CHOOSE_PENDING; ..._KEYFRAME: ask the doorbell for a keyframe now).
 * A pending move to the other stream is cancelled.
 */
#define LIVE_CHOOSE_UNKNOWN          -1 /* the viewer is not attached */
#define LIVE_CHOOSE_THERE            0
#define LIVE_CHOOSE_PENDING          1
#define LIVE_CHOOSE_PENDING_KEYFRAME 2
int live_stream_choose(struct live_stream *target, struct live_viewer *viewer, const char *reason,
                       int fall_back);

/* Viewer threads: stop receiving from either stream of the doorbell. */
void live_stream_detach(struct live_stream *stream, struct live_viewer *viewer);

/* Link thread (HELLO): can the doorbell encode this sub-stream? Without
 * it, pending moves to it are cancelled. available(): always 1 for a main. */
void live_stream_set_available(struct live_stream *stream, int available);
int live_stream_available(struct live_stream *stream);

/* Viewers attached to or pending on this stream: does anyone need it? */
int live_stream_demand(struct live_stream *stream);

/* Housekeeping: 1 when a viewer waits for a keyframe of this stream and
 * none was asked for in the last interval_ms (noted as asked now). */
int live_stream_take_keyframe_request(struct live_stream *stream, int64_t interval_ms);

/* Ask every attached viewer to go away (device removed). */
void live_stream_close_viewers(struct live_stream *stream);

/* Counters, for the API and the quick-reply "someone looks" check. Any thread. */
void live_stream_get_stats(struct live_stream *stream, struct live_stream_stats *out);

#endif
