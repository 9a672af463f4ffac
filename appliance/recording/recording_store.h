/*
 * recording_store.h - the recordings index in SQLite (table recordings):
 * one row per segment file. Any thread, with its own connection; bound
 * parameters only; no state of its own.
 */
#ifndef DOORSTEP_RECORDING_STORE_H
#define DOORSTEP_RECORDING_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/link_protocol.h"

#define RECORDING_PATH_MAX 256

struct recording_row {
    int64_t id;
    char device_id[LINK_DEVICE_ID_MAX];
    char path[RECORDING_PATH_MAX]; /* relative to data_dir/recordings */
    int open;                      /* state 'open' */
    int is_event;                  /* class 'event' (an event clip), else 'continuous' */
    int64_t start_ms, end_ms, bytes;
    int64_t video_frames, audio_packets;
    int width, height;
    const uint8_t *keyframe_index; /* valid during the callback only */
    size_t keyframe_index_size;
};

/* Insert a new 'open' row; *id_out gets its id. 0 or -1 (logged). */
int recording_store_insert(sqlite3 *db, const struct recording_row *row, int64_t *id_out);

/* Update end, bytes, counts, index and (if closed) the state of row->id. 0 or -1. */
int recording_store_update(sqlite3 *db, const struct recording_row *row, int closed);

/* Delete the row of path (the file is already gone). 0 or -1. */
int recording_store_delete(sqlite3 *db, const char *path);

typedef int (*recording_store_callback)(const struct recording_row *row, void *context);

/* Rows of one device (NULL: all) overlapping [from_ms, to_ms), by start time.
 * state: "open", "closed" or NULL for both. 0 or -1. */
int recording_store_list(sqlite3 *db, const char *device_id, int64_t from_ms, int64_t to_ms,
                         const char *state, recording_store_callback callback, void *context);

/* Does a row for path exist? 1, 0, or -1 on error. */
int recording_store_has_path(sqlite3 *db, const char *path);

/* What one doorbell's recordings use (recording_store_usage). The strings
 * are valid during the callback only. */
struct recording_usage {
    const char *device_id;
    const char *name; /* the doorbell's name */
    int64_t bytes;
    int64_t event_bytes; /* of them, in event clips */
    int segments;
    int has_oldest;
    int64_t oldest_ms;         /* start of the oldest segment, when has_oldest */
    int cut_short;             /* retention deleted footage early, at or after cuts_since_ms */
    int64_t cut_at_ms;         /* when cut_short: the newest such cut ... */
    int64_t cut_footage_to_ms; /* ... and the newest footage any of them deleted */
};

typedef int (*recording_usage_callback)(const struct recording_usage *usage, void *context);

/* The usage of every doorbell that is not revoked (tables devices,
 * recordings, retention_cuts), by name; nonzero from the callback stops
 * early. 0, or -1 on a database error. */
int recording_store_usage(sqlite3 *db, int64_t cuts_since_ms, recording_usage_callback callback,
                          void *context);

#endif
