/*
 * event_store.c - the events table (see event_store.h). The list query is
 * built from fixed fragments only; every value is a bound parameter.
 */
#define LOG_MODULE "events"

#include "events/event_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define EVENT_COLUMNS                                                                              \
    "id, device_id, type, device_event_id, active, start_ms, end_ms, clip_start_ms, "              \
    "clip_end_ms, score, boxes, starred, snapshot IS NOT NULL, notify, auto_reply_id, "            \
    "trigger_type"

/* Prepare sql or log why not. */
static sqlite3_stmt *event_store_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        log_error("events: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return statement;
}

/* Step a statement that returns no rows and finalize it. 0 or -1 (logged). */
static int event_store_finish(sqlite3 *db, sqlite3_stmt *statement, const char *what)
{
    int rc = sqlite3_step(statement) == SQLITE_DONE ? 0 : -1;
    if (rc != 0)
        log_error("events: %s: %s", what, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

/* Copy a text column into a fixed buffer (truncating). */
static void event_store_text(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    snprintf(out, size, "%s", text != NULL ? (const char *)text : "");
}

/* The current row of a SELECT EVENT_COLUMNS statement. */
static void event_store_read_row(sqlite3_stmt *statement, struct event_row *row)
{
    memset(row, 0, sizeof(*row));
    row->id = sqlite3_column_int64(statement, 0);
    event_store_text(statement, 1, row->device_id, sizeof(row->device_id));
    event_store_text(statement, 2, row->type, sizeof(row->type));
    row->device_event_id = sqlite3_column_int64(statement, 3);
    row->active = sqlite3_column_int(statement, 4);
    row->start_ms = sqlite3_column_int64(statement, 5);
    row->end_ms = sqlite3_column_int64(statement, 6);
    row->clip_start_ms = sqlite3_column_int64(statement, 7);
    row->clip_end_ms = sqlite3_column_int64(statement, 8);
    row->score = sqlite3_column_double(statement, 9);
    event_store_text(statement, 10, row->boxes, sizeof(row->boxes));
    row->starred = sqlite3_column_int(statement, 11);
    row->has_snapshot = sqlite3_column_int(statement, 12);
    event_store_text(statement, 13, row->notify, sizeof(row->notify));
    row->auto_reply_id = sqlite3_column_int64(statement, 14);
    event_store_text(statement, 15, row->trigger, sizeof(row->trigger));
}

int event_store_insert(sqlite3 *db, const struct event_row *row, int64_t *id_out)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "INSERT INTO events (device_id, type, device_event_id, active, start_ms, end_ms, "
            "clip_start_ms, clip_end_ms, score, boxes, starred, trigger_type) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, row->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, row->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, row->device_event_id);
    sqlite3_bind_int(statement, 4, row->active != 0);
    sqlite3_bind_int64(statement, 5, row->start_ms);
    sqlite3_bind_int64(statement, 6, row->end_ms);
    sqlite3_bind_int64(statement, 7, row->clip_start_ms);
    sqlite3_bind_int64(statement, 8, row->clip_end_ms);
    sqlite3_bind_double(statement, 9, row->score);
    sqlite3_bind_text(statement, 10, row->boxes[0] ? row->boxes : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 11, row->starred != 0);
    sqlite3_bind_text(statement, 12, row->trigger[0] ? row->trigger : row->type, -1, SQLITE_STATIC);
    if (event_store_finish(db, statement, "insert") != 0)
        return -1;
    *id_out = sqlite3_last_insert_rowid(db);
    return 0;
}

/* Step a bound SELECT EVENT_COLUMNS statement once into *out and finalize
 * it: 1 found, 0 none, -1 error (logged). */
static int event_store_fetch_one(sqlite3 *db, sqlite3_stmt *statement, struct event_row *out)
{
    int step = sqlite3_step(statement), found = -1;
    if (step == SQLITE_ROW) {
        event_store_read_row(statement, out);
        found = 1;
    } else if (step == SQLITE_DONE) {
        found = 0;
    } else {
        log_error("events: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(statement);
    return found;
}

int event_store_find_active(sqlite3 *db, const char *device_id, const char *type,
                            int64_t device_event_id, int64_t since_ms, struct event_row *out)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "SELECT " EVENT_COLUMNS " FROM events WHERE device_id = ? AND trigger_type = ? AND "
            "device_event_id = ? AND active AND end_ms >= ? ORDER BY id DESC LIMIT 1");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, device_event_id);
    sqlite3_bind_int64(statement, 4, since_ms);
    return event_store_fetch_one(db, statement, out);
}

int event_store_end_stale(sqlite3 *db, int64_t before_ms)
{
    sqlite3_stmt *statement =
        event_store_prepare(db, "UPDATE events SET active = 0 WHERE active AND end_ms < ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, before_ms);
    if (event_store_finish(db, statement, "end stale") != 0)
        return -1;
    return sqlite3_changes(db);
}

int event_store_extend(sqlite3 *db, int64_t id, int64_t end_ms, int64_t clip_end_ms, int active)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "UPDATE events SET end_ms = max(end_ms, ?1), clip_end_ms = max(clip_end_ms, ?2), "
            "active = ?3 WHERE id = ?4");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, end_ms);
    sqlite3_bind_int64(statement, 2, clip_end_ms);
    sqlite3_bind_int(statement, 3, active != 0);
    sqlite3_bind_int64(statement, 4, id);
    return event_store_finish(db, statement, "extend");
}

int event_store_set_snapshot(sqlite3 *db, int64_t id, const uint8_t *jpeg, size_t size)
{
    sqlite3_stmt *statement =
        event_store_prepare(db, "UPDATE events SET snapshot = ? WHERE id = ? AND snapshot IS NULL");
    if (statement == NULL)
        return -1;
    sqlite3_bind_blob(statement, 1, jpeg, (int)size, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, id);
    return event_store_finish(db, statement, "snapshot");
}

int event_store_find_detected(sqlite3 *db, const char *device_id, int64_t device_event_id,
                              int64_t since_ms, struct event_row *out)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "SELECT " EVENT_COLUMNS " FROM events WHERE device_id = ? AND device_event_id = ? AND "
            "trigger_type IN ('motion', 'pir') AND end_ms >= ? ORDER BY id DESC LIMIT 1");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, device_event_id);
    sqlite3_bind_int64(statement, 3, since_ms);
    return event_store_fetch_one(db, statement, out);
}

int event_store_set_person(sqlite3 *db, int64_t id, double confidence, const char *boxes,
                           const uint8_t *jpeg, size_t size)
{
    sqlite3_stmt *statement =
        event_store_prepare(db, "UPDATE events SET type = 'person', score = ?, boxes = ?, "
                                "snapshot = coalesce(?, snapshot) WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_double(statement, 1, confidence);
    sqlite3_bind_text(statement, 2, boxes, -1, SQLITE_STATIC);
    if (jpeg != NULL && size > 0)
        sqlite3_bind_blob(statement, 3, jpeg, (int)size, SQLITE_STATIC);
    else
        sqlite3_bind_null(statement, 3);
    sqlite3_bind_int64(statement, 4, id);
    return event_store_finish(db, statement, "person");
}

/* Bind the WHERE clause shared by the list and its count (parameters 1..). */
static void event_store_bind_query(sqlite3_stmt *statement, const struct event_query *query)
{
    sqlite3_bind_text(statement, 1, query->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, query->from_ms);
    sqlite3_bind_int64(statement, 3, query->to_ms);
    sqlite3_bind_int(statement, 4, query->starred_only != 0);
    sqlite3_bind_int(statement, 5, query->type_count);
    for (int i = 0; i < EVENT_QUERY_TYPES; i++)
        if (i < query->type_count)
            sqlite3_bind_text(statement, 6 + i, query->types[i], -1, SQLITE_STATIC);
}

/* Types are matched against eight fixed parameters; unused ones stay NULL. */
#define EVENT_WHERE                                                                                \
    " FROM events WHERE device_id = ?1 AND start_ms >= ?2 AND start_ms < ?3 AND "                  \
    "(?4 = 0 OR starred) AND (?5 = 0 OR type IN (?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) OR "          \
    "trigger_type IN (?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13))"

int event_store_list(sqlite3 *db, const struct event_query *query, event_store_callback callback,
                     void *context, int64_t *total_out)
{
    struct event_row *row = NULL;
    sqlite3_stmt *statement = NULL;
    int step, rc = -1;

    if (query->type_count < 0 || query->type_count > EVENT_QUERY_TYPES)
        return -1;
    if (total_out != NULL) {
        statement = event_store_prepare(db, "SELECT count(*)" EVENT_WHERE);
        if (statement == NULL)
            goto out;
        event_store_bind_query(statement, query);
        if (sqlite3_step(statement) != SQLITE_ROW)
            goto out;
        *total_out = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
    }
    statement = event_store_prepare(db, "SELECT " EVENT_COLUMNS EVENT_WHERE
                                        " ORDER BY start_ms DESC, id DESC LIMIT ?14 OFFSET ?15");
    row = malloc(sizeof(*row));
    if (statement == NULL || row == NULL)
        goto out;
    event_store_bind_query(statement, query);
    sqlite3_bind_int(statement, 14, query->limit);
    sqlite3_bind_int(statement, 15, query->offset);
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        event_store_read_row(statement, row);
        if (callback(row, context) != 0)
            break;
    }
    rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
out:
    if (rc != 0)
        log_error("events: list: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    free(row);
    return rc;
}

int event_store_get(sqlite3 *db, const char *device_id, int64_t id, struct event_row *out)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "SELECT " EVENT_COLUMNS " FROM events WHERE device_id = ? AND id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, id);
    return event_store_fetch_one(db, statement, out);
}

int event_store_snapshot(sqlite3 *db, const char *device_id, int64_t id, uint8_t **jpeg_out,
                         size_t *size_out)
{
    int step, found = -1;
    sqlite3_stmt *statement = event_store_prepare(
        db, "SELECT snapshot FROM events WHERE device_id = ? AND id = ? AND snapshot IS NOT NULL");

    *jpeg_out = NULL;
    *size_out = 0;
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, id);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        size_t size = (size_t)sqlite3_column_bytes(statement, 0);
        const void *blob = sqlite3_column_blob(statement, 0);
        *jpeg_out = malloc(size > 0 ? size : 1);
        if (*jpeg_out != NULL && blob != NULL) {
            memcpy(*jpeg_out, blob, size);
            *size_out = size;
            found = 1;
        } else {
            free(*jpeg_out);
            *jpeg_out = NULL;
        }
    } else if (step == SQLITE_DONE) {
        found = 0;
    }
    sqlite3_finalize(statement);
    return found;
}

int event_store_set_starred(sqlite3 *db, const char *device_id, int64_t id, int starred)
{
    sqlite3_stmt *statement =
        event_store_prepare(db, "UPDATE events SET starred = ? WHERE device_id = ? AND id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int(statement, 1, starred != 0);
    sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, id);
    if (event_store_finish(db, statement, "star") != 0)
        return -1;
    return sqlite3_changes(db) > 0 ? 1 : 0;
}

/* The doorbell played quick reply reply_id by itself after its ring with
 * device counter device_event_id: note it on the newest such ring. 1 if a
 * ring was marked, 0 none, -1 error. */
int event_store_set_auto_reply(sqlite3 *db, const char *device_id, int64_t device_event_id,
                               int64_t reply_id)
{
    sqlite3_stmt *statement = event_store_prepare(
        db, "UPDATE events SET auto_reply_id = ? WHERE id = (SELECT id FROM events WHERE "
            "device_id = ? AND type = 'ring' AND device_event_id = ? ORDER BY id DESC LIMIT 1)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, reply_id);
    sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, device_event_id);
    if (event_store_finish(db, statement, "auto reply") != 0)
        return -1;
    return sqlite3_changes(db) > 0 ? 1 : 0;
}

/* An event as the API shows it (docs/api.md). */
cJSON *event_store_json(const struct event_row *row)
{
    cJSON *item = cJSON_CreateObject(), *boxes;
    char text[256];
    time_t seconds = (time_t)(row->start_ms / 1000);
    struct tm utc;

    cJSON_AddNumberToObject(item, "event_id", (double)row->id);
    cJSON_AddStringToObject(item, "device_id", row->device_id);
    cJSON_AddStringToObject(item, "event_type", row->type);
    cJSON_AddStringToObject(item, "trigger", row->trigger[0] ? row->trigger : row->type);
    gmtime_r(&seconds, &utc);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(text + strlen(text), sizeof(text) - strlen(text), ".%03dZ",
             (int)(row->start_ms % 1000));
    cJSON_AddStringToObject(item, "timestamp", text);
    cJSON_AddNumberToObject(item, "start_ms", (double)row->start_ms);
    cJSON_AddNumberToObject(item, "end_ms", (double)row->end_ms);
    cJSON_AddNumberToObject(item, "clip_start_ms", (double)row->clip_start_ms);
    cJSON_AddNumberToObject(item, "clip_end_ms", (double)row->clip_end_ms);
    cJSON_AddNumberToObject(item, "duration_seconds",
                            (double)(row->clip_end_ms - row->clip_start_ms) / 1000.0);
    cJSON_AddNumberToObject(item, "pre_roll_seconds",
                            (double)(row->start_ms - row->clip_start_ms) / 1000.0);
    cJSON_AddBoolToObject(item, "active", row->active);
    cJSON_AddNumberToObject(item, "score", row->score);
    boxes = cJSON_Parse(row->boxes);
    cJSON_AddItemToObject(item, "boxes", boxes != NULL ? boxes : cJSON_CreateArray());
    cJSON_AddBoolToObject(item, "starred", row->starred);
    cJSON_AddBoolToObject(item, "has_snapshot", row->has_snapshot);
    cJSON_AddStringToObject(item, "notify", row->notify);
    if (row->auto_reply_id > 0)
        cJSON_AddNumberToObject(item, "auto_reply_id", (double)row->auto_reply_id);
    else
        cJSON_AddNullToObject(item, "auto_reply_id");
    if (row->has_snapshot) {
        snprintf(text, sizeof(text), "/api/v1/devices/%s/events/%lld/snapshot.jpg", row->device_id,
                 (long long)row->id);
        cJSON_AddStringToObject(item, "thumbnail_url", text);
    } else {
        cJSON_AddNullToObject(item, "thumbnail_url");
    }
    snprintf(text, sizeof(text), "/api/v1/devices/%s/export?from=%lld&to=%lld", row->device_id,
             (long long)row->clip_start_ms, (long long)row->clip_end_ms);
    cJSON_AddStringToObject(item, "video_url", text);
    return item;
}
