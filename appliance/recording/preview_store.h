/*
 * preview_store.h - timeline previews on disk (docs/storage.md, "Timeline
 * previews"): each recording segment <start>.mp4 may have a sibling
 * <start>.previews (preview_container.h) holding the doorbell's PREVIEW
 * JPEGs captured while it was recorded. A preview is stored only into a
 * segment that covers its capture time, served only while that segment's
 * row exists and only for a time inside it, and deleted with the segment
 * (retention.c calls preview_store_remove before the segment's file goes).
 *
 * Threads: a preview_writer belongs to one doorbell's link thread
 * (link_server.c) and is used by it alone; preview_store_find runs on HTTP
 * threads; remove and sweep on the retention thread. Each opens its own
 * files and uses its own thread's database connection.
 */
#ifndef DOORSTEP_PREVIEW_STORE_H
#define DOORSTEP_PREVIEW_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define PREVIEW_STORE_SLACK_MS   1000 /* served window: the interval plus this */
#define PREVIEW_STORE_PENDING    4    /* previews waiting for their segment's row */
#define PREVIEW_STORE_PENDING_MS 10000

struct preview_writer;

/* A writer for one doorbell's previews under recordings_dir (not copied:
 * it must outlive the writer). NULL if out of memory. Link thread. */
struct preview_writer *preview_writer_create(const char *recordings_dir, const char *device_id);

/*
 * Store one preview (the JPEG is checked first; a bad one is logged and
 * dropped) into the file of the segment that covers capture_ms: the newest
 * segment starting at or before it, if still open or ending at or after
 * it. Without one yet (its row comes a moment after the keyframe), the
 * preview waits, copied, for up to PREVIEW_STORE_PENDING_MS and is tried
 * again with the next one. Returns 1 stored, 0 waiting or dropped.
 * Link thread; db is its connection.
 */
int preview_writer_add(struct preview_writer *writer, sqlite3 *db, int64_t capture_ms,
                       const uint8_t *jpeg, size_t size, int64_t now_ms);

/* Sync and close the open file (its size into its segment's row, through
 * the connection of the last add: call on the link thread), free what
 * waits, and the writer (NULL ok). */
void preview_writer_free(struct preview_writer *writer);

/* A preview found for the timeline. */
struct preview_image {
    uint8_t *jpeg; /* malloc'd; the caller frees */
    size_t size;
    int64_t capture_ms;
};

/*
 * The newest preview of device_id captured in [at_ms - window_ms, at_ms]
 * inside a recorded segment (its row exists, its time within the row's
 * start and end). 1 found (*out filled), 0 none, -1 error. Any thread.
 */
int preview_store_find(sqlite3 *db, const char *recordings_dir, const char *device_id,
                       int64_t at_ms, int64_t window_ms, struct preview_image *out);

/* The previews file of a segment (path relative to recordings_dir, ending
 * in .mp4) into out. 0, or -1 if it does not fit or is no segment path. */
int preview_store_path(const char *recordings_dir, const char *segment_path, char *out,
                       size_t out_size);

/* Delete the previews of a segment (none is fine). Retention thread, before
 * the segment's own file goes. 0, or -1 (logged) if it could not. */
int preview_store_remove(const char *recordings_dir, const char *segment_path);

/* Delete previews files whose segment file is gone (a segment dropped by
 * start-up reconciliation or by the recorder), and put the size of every
 * other one into its segment's row (recordings.preview_bytes; db may be
 * NULL to skip that). Returns how many were deleted. Retention thread, at
 * its start. */
int preview_store_sweep(const char *recordings_dir, sqlite3 *db);

#endif
