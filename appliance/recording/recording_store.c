/*
 * recording_store.c - the recordings table (see recording_store.h).
 */
#define LOG_MODULE "recording"

#include "recording/recording_store.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

/* Prepare sql or log why not. */
static sqlite3_stmt *recording_store_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        log_error("recordings: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return statement;
}

/* Step a statement that returns no rows; finalize it. 0 or -1 (logged). */
static int recording_store_finish(sqlite3 *db, sqlite3_stmt *statement, const char *what)
{
    int rc = sqlite3_step(statement) == SQLITE_DONE ? 0 : -1;
    if (rc != 0)
        log_error("recordings: %s: %s", what, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int recording_store_insert(sqlite3 *db, const struct recording_row *row, int64_t *id_out)
{
    sqlite3_stmt *statement = recording_store_prepare(
        db, "INSERT INTO recordings (device_id, path, state, start_ms, end_ms, bytes, "
            "video_frames, audio_packets, width, height, keyframe_index, class) "
            "VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, row->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, row->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, row->start_ms);
    sqlite3_bind_int64(statement, 4, row->end_ms);
    sqlite3_bind_int64(statement, 5, row->bytes);
    sqlite3_bind_int64(statement, 6, row->video_frames);
    sqlite3_bind_int64(statement, 7, row->audio_packets);
    sqlite3_bind_int(statement, 8, row->width);
    sqlite3_bind_int(statement, 9, row->height);
    sqlite3_bind_blob(statement, 10, row->keyframe_index ? (const void *)row->keyframe_index : "",
                      (int)row->keyframe_index_size, SQLITE_STATIC);
    sqlite3_bind_text(statement, 11, row->is_event ? "event" : "continuous", -1, SQLITE_STATIC);
    if (recording_store_finish(db, statement, "insert") != 0)
        return -1;
    *id_out = sqlite3_last_insert_rowid(db);
    return 0;
}

int recording_store_update(sqlite3 *db, const struct recording_row *row, int closed)
{
    sqlite3_stmt *statement = recording_store_prepare(
        db, "UPDATE recordings SET end_ms = ?, bytes = ?, video_frames = ?, audio_packets = ?, "
            "keyframe_index = ?, state = ? WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, row->end_ms);
    sqlite3_bind_int64(statement, 2, row->bytes);
    sqlite3_bind_int64(statement, 3, row->video_frames);
    sqlite3_bind_int64(statement, 4, row->audio_packets);
    sqlite3_bind_blob(statement, 5, row->keyframe_index ? (const void *)row->keyframe_index : "",
                      (int)row->keyframe_index_size, SQLITE_STATIC);
    sqlite3_bind_text(statement, 6, closed ? "closed" : "open", -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 7, row->id);
    return recording_store_finish(db, statement, "update");
}

int recording_store_delete(sqlite3 *db, const char *path)
{
    sqlite3_stmt *statement = recording_store_prepare(db, "DELETE FROM recordings WHERE path = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, path, -1, SQLITE_STATIC);
    return recording_store_finish(db, statement, "delete");
}

int recording_store_list(sqlite3 *db, const char *device_id, int64_t from_ms, int64_t to_ms,
                         const char *state, recording_store_callback callback, void *context)
{
    struct recording_row row;
    int step, rc = -1;
    sqlite3_stmt *statement = recording_store_prepare(
        db, "SELECT id, device_id, path, state, start_ms, end_ms, bytes, video_frames, "
            "audio_packets, width, height, keyframe_index, class FROM recordings "
            "WHERE (?1 IS NULL OR device_id = ?1) AND start_ms < ?3 AND end_ms >= ?2 "
            "AND (?4 IS NULL OR state = ?4) ORDER BY start_ms, id");

    if (statement == NULL)
        return -1;
    if (device_id != NULL)
        sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, from_ms);
    sqlite3_bind_int64(statement, 3, to_ms);
    if (state != NULL)
        sqlite3_bind_text(statement, 4, state, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        row.id = sqlite3_column_int64(statement, 0);
        snprintf(row.device_id, sizeof(row.device_id), "%s",
                 (const char *)sqlite3_column_text(statement, 1));
        snprintf(row.path, sizeof(row.path), "%s", (const char *)sqlite3_column_text(statement, 2));
        row.open = strcmp((const char *)sqlite3_column_text(statement, 3), "open") == 0;
        row.start_ms = sqlite3_column_int64(statement, 4);
        row.end_ms = sqlite3_column_int64(statement, 5);
        row.bytes = sqlite3_column_int64(statement, 6);
        row.video_frames = sqlite3_column_int64(statement, 7);
        row.audio_packets = sqlite3_column_int64(statement, 8);
        row.width = sqlite3_column_int(statement, 9);
        row.height = sqlite3_column_int(statement, 10);
        row.keyframe_index = sqlite3_column_blob(statement, 11);
        row.keyframe_index_size = (size_t)sqlite3_column_bytes(statement, 11);
        row.is_event = strcmp((const char *)sqlite3_column_text(statement, 12), "event") == 0;
        if (callback(&row, context) != 0)
            break;
    }
    rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : -1;
    if (rc != 0)
        log_error("recordings: list: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int recording_store_has_path(sqlite3 *db, const char *path)
{
    int step, found = -1;
    sqlite3_stmt *statement =
        recording_store_prepare(db, "SELECT 1 FROM recordings WHERE path = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, path, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW)
        found = 1;
    else if (step == SQLITE_DONE)
        found = 0;
    sqlite3_finalize(statement);
    return found;
}

/* Usage of every doorbell, newest retention cut included. */
static const char recording_store_usage_sql[] =
    "SELECT d.id, d.name, "
    "(SELECT coalesce(sum(bytes + preview_bytes), 0) FROM recordings r WHERE r.device_id = d.id), "
    "(SELECT coalesce(sum(bytes + preview_bytes), 0) FROM recordings r WHERE r.device_id = d.id "
    "AND "
    "r.class = 'event'), "
    "(SELECT count(*) FROM recordings r WHERE r.device_id = d.id), "
    "(SELECT min(start_ms) FROM recordings r WHERE r.device_id = d.id), "
    "(SELECT max(at) FROM retention_cuts c WHERE c.device_id = d.id AND c.at >= ?1), "
    "(SELECT max(footage_to_ms) FROM retention_cuts c WHERE c.device_id = d.id AND c.at >= ?1) "
    "FROM devices d WHERE d.revoked_at IS NULL ORDER BY d.name, d.id";

int recording_store_usage(sqlite3 *db, int64_t cuts_since_ms, recording_usage_callback callback,
                          void *context)
{
    sqlite3_stmt *statement = recording_store_prepare(db, recording_store_usage_sql);
    int step;

    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, cuts_since_ms);
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        struct recording_usage usage;
        const char *id = (const char *)sqlite3_column_text(statement, 0);
        const char *name = (const char *)sqlite3_column_text(statement, 1);

        memset(&usage, 0, sizeof(usage));
        usage.device_id = id != NULL ? id : "";
        usage.name = name != NULL ? name : "";
        usage.bytes = sqlite3_column_int64(statement, 2);
        usage.event_bytes = sqlite3_column_int64(statement, 3);
        usage.segments = sqlite3_column_int(statement, 4);
        usage.has_oldest = sqlite3_column_type(statement, 5) != SQLITE_NULL;
        usage.oldest_ms = sqlite3_column_int64(statement, 5);
        usage.cut_short = sqlite3_column_type(statement, 6) != SQLITE_NULL;
        usage.cut_at_ms = sqlite3_column_int64(statement, 6);
        usage.cut_footage_to_ms = sqlite3_column_int64(statement, 7);
        if (callback(&usage, context) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(statement);
    return step == SQLITE_DONE ? 0 : -1;
}
