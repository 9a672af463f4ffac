/*
 * recorder_index.c - the recorder's side of the recordings index: each
 * segment's row (progress while it records, its end when it closes), rows a
 * full database could not take yet (kept and retried by recorder_tidy), and
 * the failure notes that the recorder's stats and the UI's storage warnings
 * read. Split from recorder.c, which owns the thread and the segments.
 *
 * Threads: the recorder thread only; recorder->lock for the stats.
 * Ownership: a row's keyframe index blob is freed here, or kept in
 * recorder->unclosed_index until recorder_tidy writes it.
 */
#define LOG_MODULE "recording"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "recording/recorder_internal.h"
#include "recording/segment_index.h"
#include "storage/database.h"
#include "storage/database_reserve.h"

/* Note a failure for the stats and the log: what failed, why (text) and the
 * problem it is (see struct recorder_stats). Recorder thread. */
void recorder_fail_because(struct recorder *recorder, const char *what, const char *reason,
                           const char *problem)
{
    pthread_mutex_lock(&recorder->lock);
    recorder->stats.write_errors++;
    snprintf(recorder->stats.last_error, sizeof(recorder->stats.last_error), "%s: %s", what,
             reason);
    snprintf(recorder->stats.problem, sizeof(recorder->stats.problem), "%s", problem);
    pthread_mutex_unlock(&recorder->lock);
    log_error("doorbell %s: recording: %s: %s", recorder->device_id, what, reason);
}

/* A file operation failed with errno error. Recorder thread. */
void recorder_fail(struct recorder *recorder, const char *what, int error)
{
    recorder_fail_because(recorder, what, strerror(error),
                          error == ENOSPC ? "disk_full" : "write_error");
}

/* A statement on db failed (db may be NULL). A full database releases its
 * reserve (database_reserve.h). Recorder thread. */
void recorder_fail_database(struct recorder *recorder, const char *what, sqlite3 *db)
{
    int full = db != NULL && database_reserve_note(sqlite3_extended_errcode(db));
    recorder_fail_because(recorder, what,
                          full ? "the database is full"
                               : (db != NULL ? sqlite3_errmsg(db) : "no database connection"),
                          full ? "database_full" : "database_error");
}

/* Forget an empty segment: its row first, then its file, so that no row is
 * ever left for a missing file (a file left without its row is what start-up
 * reconciliation removes). 0 or -1 (the row could not be deleted; the file
 * is kept). Recorder thread. */
int recorder_forget(struct recorder *recorder, const char *path)
{
    char absolute[RECORDER_PATH_MAX + RECORDING_PATH_MAX];
    sqlite3 *db = database_thread_connection();

    if (db == NULL || recording_store_delete(db, path) != 0) {
        recorder_fail_database(recorder, "forgetting an empty segment", db);
        return -1;
    }
    snprintf(absolute, sizeof(absolute), "%s/%s", recorder->directory, path);
    if (unlink(absolute) != 0 && errno != ENOENT)
        log_warn("doorbell %s: cannot remove %s: %s", recorder->device_id, absolute,
                 strerror(errno));
    return 0;
}

/*
 * Finish what a full database left undone: the final update of a closed
 * segment's row, or forgetting an empty segment. 0 when nothing is left to
 * do (then a new segment may open), -1 to try again later. Recorder thread.
 */
int recorder_tidy(struct recorder *recorder)
{
    sqlite3 *db;

    if (recorder->has_unclosed) {
        db = database_thread_connection();
        if (db == NULL || recording_store_update(db, &recorder->unclosed, 1) != 0) {
            recorder_fail_database(recorder, "closing a segment's row", db);
            return -1;
        }
        log_info("doorbell %s: %s is closed in the index at last", recorder->device_id,
                 recorder->unclosed.path);
        free(recorder->unclosed_index);
        recorder->has_unclosed = 0;
    }
    if (recorder->forget_path[0] != '\0') {
        if (recorder_forget(recorder, recorder->forget_path) != 0)
            return -1;
        recorder->forget_path[0] = '\0';
    }
    return 0;
}

/* Fill the row's progress fields from a writer summary; the caller frees the blob. */
static uint8_t *recorder_row_from_summary(struct recorder *recorder,
                                          const struct segment_summary *summary, int closed)
{
    uint8_t *index = NULL;
    size_t index_size = 0, capacity = segment_index_max_size(summary->keyframe_count);

    recorder->row.bytes =
        (int64_t)(closed && summary->ok ? summary->bytes : summary->durable_bytes);
    recorder->row.end_ms = recorder->row.start_ms +
                           (int64_t)(summary->video.end_decode_time * 1000 / FMP4_VIDEO_TIMESCALE);
    recorder->row.video_frames = (int64_t)summary->video.samples;
    recorder->row.audio_packets = (int64_t)summary->audio.samples;
    if (capacity > 0 && (index = malloc(capacity)) != NULL &&
        segment_index_encode(summary->keyframes, summary->keyframe_count, index, capacity,
                             &index_size) != 0)
        index_size = 0;
    recorder->row.keyframe_index = index;
    recorder->row.keyframe_index_size = index_size;
    return index;
}

/* Record the durable progress of the open segment in its row. When the
 * final update (closed) fails, the row is kept to be written by
 * recorder_tidy(): a row must not stay open and shorter than its file. */
void recorder_update_row(struct recorder *recorder, const struct segment_summary *summary,
                         int closed)
{
    uint8_t *index = recorder_row_from_summary(recorder, summary, closed);
    sqlite3 *db = database_thread_connection();
    if (db == NULL || recording_store_update(db, &recorder->row, closed) != 0) {
        recorder_fail_database(recorder, closed ? "closing a segment's row" : "indexing progress",
                               db);
        if (closed && !recorder->has_unclosed) {
            recorder->unclosed = recorder->row;
            recorder->unclosed_index = index; /* unclosed.keyframe_index, owned */
            recorder->has_unclosed = 1;
            index = NULL;
        }
    }
    free(index);
    recorder->row.keyframe_index = NULL;
}
