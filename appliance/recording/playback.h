/*
 * playback.h - playing a doorbell's recordings from any wall-clock instant
 * as one fragmented-MP4 stream that a browser appends to a Media Source
 * Extensions SourceBuffer.
 *
 * The stream is an init segment (ftyp + moov, media/fmp4.c) followed by the
 * segment files' own fragments (moof + mdat), copied byte for byte except
 * for two fields patched in the copy: the mfhd sequence number (counting
 * from 1 over the stream) and the tfdt base decode time. Decode time 0 of
 * the stream is the wall time of the first keyframe sent (playback_start_ms);
 * every later fragment keeps its place on the wall clock, across segment
 * files: a gap between two segments stays a gap in the timeline (the player
 * jumps it). A new init segment is sent before the first fragment of a file
 * whose SPS/PPS or audio configuration differ from the previous one.
 *
 * The stream starts at the keyframe at or before from_ms (found through the
 * row's keyframe index) in the segment holding from_ms, or at the start of
 * the first segment after it. Audio fragments that end before that keyframe
 * are left out (as is one starting more than capture jitter before it: a
 * decode time cannot go below 0). At the end of the durable bytes of a segment still being
 * recorded, the index is polled (every PLAYBACK_POLL_MS) for more bytes and
 * new segments, so a stream started in the past catches up with the
 * recording and then follows it. It ends when the footage reaches to_ms,
 * when the write callback fails (the client went away), when nothing new
 * has come for PLAYBACK_IDLE_MS, or when the hub shuts down.
 *
 * Only the durable part of a row (its `bytes`) is ever read; files are
 * read with pread() through a fixed buffer, and each moof is parsed in
 * memory with bounded reads (recording/mp4_box.c) before it is patched.
 *
 * Threads: a playback belongs to the thread that opened it (a civetweb
 * worker for HTTP); playback_run() blocks that thread for the whole stream
 * and writes through the caller's callback, whose blocking is the flow
 * control. The database connection passed in must be that thread's.
 * Ownership: playback_open() allocates the playback (its buffer, scan and
 * file descriptor); playback_close() frees all of it.
 */
#ifndef DOORSTEP_PLAYBACK_H
#define DOORSTEP_PLAYBACK_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PLAYBACK_POLL_MS     250          /* index polling at the live edge */
#define PLAYBACK_IDLE_MS     10000        /* end after this long without new footage */
#define PLAYBACK_BUFFER_SIZE (256 * 1024) /* bytes handed to the callback at most */
#define PLAYBACK_MIME_MAX    96

struct playback;

/* What to play. Strings are copied by playback_open(). */
struct playback_request {
    const char *recordings_dir; /* hub->recordings_dir: rows' paths are relative to it */
    const char *device_id;
    int64_t from_ms;             /* wall clock, ms since the epoch */
    int64_t to_ms;               /* stop before footage at or after this; 0: no end */
    int poll_ms;                 /* 0: PLAYBACK_POLL_MS */
    int idle_ms;                 /* 0: PLAYBACK_IDLE_MS */
    const atomic_int *running;   /* NULL, or the stream stops when it reads 0 (shutdown) */
    const atomic_int *cancelled; /* NULL, or the stream stops when it reads nonzero */
};

enum playback_open_status {
    PLAYBACK_OPEN_ERROR = -1,    /* database or file error (logged) */
    PLAYBACK_OPEN_OK = 0,        /* *playback_out is set */
    PLAYBACK_OPEN_NOT_FOUND = 1, /* no footage at or after from_ms */
};

/* Why playback_run() returned. */
enum playback_end {
    PLAYBACK_END_DONE,    /* the footage reached to_ms */
    PLAYBACK_END_IDLE,    /* nothing new for idle_ms */
    PLAYBACK_END_CLIENT,  /* the write callback failed: the client went away */
    PLAYBACK_END_ERROR,   /* a file could not be read or patched (logged) */
    PLAYBACK_END_STOPPED, /* request->running turned 0, or request->cancelled nonzero */
};

/* Counters of one stream, for logs and tests. */
struct playback_stats {
    uint64_t bytes;           /* handed to the callback */
    uint64_t init_segments;   /* written */
    uint64_t video_fragments; /* written */
    uint64_t audio_fragments; /* written */
    uint64_t skipped_audio;   /* audio fragments ending before the first keyframe */
    uint64_t files;           /* segment files played from */
};

/*
 * Write size bytes to the client. Returns 0, or -1 if the client is gone
 * (the stream then ends). May block: that is the stream's flow control.
 */
typedef int (*playback_write_callback)(void *context, const uint8_t *data, size_t size);

/*
 * Find where to start (the segment holding request->from_ms or the next
 * one, the keyframe at or before it) and prepare the stream, reading the
 * file's fragment list but sending nothing. Returns PLAYBACK_OPEN_OK with
 * *playback_out (the caller frees it with playback_close()),
 * PLAYBACK_OPEN_NOT_FOUND or PLAYBACK_OPEN_ERROR (*playback_out NULL).
 */
int playback_open(sqlite3 *db, const struct playback_request *request,
                  struct playback **playback_out);

/* Wall time (ms since the epoch) of the stream's decode time 0: the first
 * keyframe's. Known once playback_open() succeeded. */
int64_t playback_start_ms(const struct playback *playback);

/* The MIME type of the first init segment for MediaSource.addSourceBuffer():
 * video/mp4; codecs="avc1.PPCCLL[, opus]". Owned by the playback. */
const char *playback_mime(const struct playback *playback);

/*
 * Stream: the init segment, then fragments, following the recording as
 * described above, writing through write(context, ...). Blocks until the
 * end; returns why it ended. db is the calling thread's connection.
 */
enum playback_end playback_run(struct playback *playback, sqlite3 *db,
                               playback_write_callback write, void *context);

/* The stream's counters so far. */
void playback_get_stats(const struct playback *playback, struct playback_stats *out);

/* Close the file and free everything. NULL is a no-op. */
void playback_close(struct playback *playback);

#endif
