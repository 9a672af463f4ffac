/*
 * reply_store.c - quick replies in SQLite and on disk (see reply_store.h).
 * Any thread with its own connection.
 */
#define LOG_MODULE "replies"

#include "replies/reply_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reply_clip.h"
#include "storage/database.h"

const char *const reply_store_modes[REPLY_MODE_COUNT] = {"home", "away", "disarmed"};

#define REPLY_COLUMNS "id, name, duration_ms, stock, created_by, created_at, version"

/* Prepare sql or log why not; NULL then. */
static sqlite3_stmt *reply_store_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        log_error("replies: %s", db != NULL ? sqlite3_errmsg(db) : "no database");
        return NULL;
    }
    return statement;
}

/* Step a statement that returns no rows and finalize it; 1 if it changed a
 * row, 0 if none, -1 on error (logged). */
static int reply_store_finish(sqlite3 *db, sqlite3_stmt *statement)
{
    int rc = sqlite3_step(statement) == SQLITE_DONE ? 0 : -1;
    if (rc != 0)
        log_error("replies: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc != 0 ? -1 : sqlite3_changes(db) > 0 ? 1 : 0;
}

/* The current row of a SELECT REPLY_COLUMNS statement. */
static void reply_store_read_row(sqlite3_stmt *statement, struct reply_row *row)
{
    const unsigned char *name = sqlite3_column_text(statement, 1);

    memset(row, 0, sizeof(*row));
    row->id = sqlite3_column_int64(statement, 0);
    snprintf(row->name, sizeof(row->name), "%s", name != NULL ? (const char *)name : "");
    row->duration_ms = sqlite3_column_int(statement, 2);
    row->stock = sqlite3_column_int(statement, 3);
    row->created_by = sqlite3_column_int64(statement, 4);
    row->created_at = sqlite3_column_int64(statement, 5);
    row->version = sqlite3_column_int64(statement, 6);
}

/* See reply_store.h. */
int reply_store_list(sqlite3 *db, struct reply_row *rows, int max)
{
    sqlite3_stmt *statement =
        reply_store_prepare(db, "SELECT " REPLY_COLUMNS " FROM quick_replies ORDER BY id");
    int count = 0, step;

    if (statement == NULL)
        return -1;
    while (count < max && (step = sqlite3_step(statement)) == SQLITE_ROW)
        reply_store_read_row(statement, &rows[count++]);
    sqlite3_finalize(statement);
    return count;
}

/* See reply_store.h. */
int reply_store_get(sqlite3 *db, int64_t id, struct reply_row *out)
{
    sqlite3_stmt *statement =
        reply_store_prepare(db, "SELECT " REPLY_COLUMNS " FROM quick_replies WHERE id = ?");
    int found = -1, step;

    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, id);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        reply_store_read_row(statement, out);
        found = 1;
    } else if (step == SQLITE_DONE) {
        found = 0;
    }
    sqlite3_finalize(statement);
    return found;
}

/* See reply_store.h. */
int reply_store_stock_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *statement =
        reply_store_prepare(db, "SELECT 1 FROM quick_replies WHERE stock AND name = ?");
    int found = -1, step;

    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    found = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(statement);
    return found;
}

/* See reply_store.h. */
int reply_store_add(sqlite3 *db, const char *name, int duration_ms, int stock, int64_t created_by,
                    int64_t *id_out)
{
    sqlite3_stmt *statement = reply_store_prepare(
        db, "INSERT INTO quick_replies (name, duration_ms, stock, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)");

    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 2, duration_ms);
    sqlite3_bind_int(statement, 3, stock != 0);
    if (created_by > 0)
        sqlite3_bind_int64(statement, 4, created_by);
    else
        sqlite3_bind_null(statement, 4);
    sqlite3_bind_int64(statement, 5, database_now_ms());
    if (reply_store_finish(db, statement) != 1)
        return -1;
    *id_out = sqlite3_last_insert_rowid(db);
    return 0;
}

/* See reply_store.h. */
int reply_store_rename(sqlite3 *db, int64_t id, const char *name)
{
    sqlite3_stmt *statement =
        reply_store_prepare(db, "UPDATE quick_replies SET name = ? WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, id);
    return reply_store_finish(db, statement);
}

/* See reply_store.h. auto_replies rows go with it (ON DELETE CASCADE). */
int reply_store_delete(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *statement = reply_store_prepare(db, "DELETE FROM quick_replies WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_int64(statement, 1, id);
    return reply_store_finish(db, statement);
}

/* See reply_store.h. */
void reply_store_path(const char *data_dir, int64_t id, char *out, size_t size)
{
    snprintf(out, size, "%s/replies/%lld.reply", data_dir, (long long)id);
}

/* See reply_store.h. */
int reply_store_write_file(const char *data_dir, int64_t id, const uint8_t *clip, size_t size)
{
    char directory[REPLY_PATH_MAX], path[REPLY_PATH_MAX], temporary[REPLY_PATH_MAX + 8];
    size_t written = 0;
    int fd = -1, rc = -1;

    snprintf(directory, sizeof(directory), "%s/replies", data_dir);
    if (mkdir(directory, 0750) != 0 && errno != EEXIST) {
        log_error("replies: cannot make %s: %s", directory, strerror(errno));
        goto out;
    }
    reply_store_path(data_dir, id, path, sizeof(path));
    snprintf(temporary, sizeof(temporary), "%s.tmp", path);
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto out;
    while (written < size) {
        ssize_t n = write(fd, clip + written, size - written);
        if (n <= 0 && errno != EINTR)
            goto out;
        if (n > 0)
            written += (size_t)n;
    }
    if (fdatasync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(temporary, path) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        log_error("replies: cannot write reply %lld: %s", (long long)id, strerror(errno));
        unlink(temporary);
    }
    return rc;
}

/* See reply_store.h. */
int reply_store_read_file(const char *data_dir, int64_t id, struct byte_buffer *clip)
{
    char path[REPLY_PATH_MAX];
    uint8_t chunk[4096];
    size_t got;
    FILE *file;
    int rc = -1;

    byte_buffer_reset(clip);
    reply_store_path(data_dir, id, path, sizeof(path));
    file = fopen(path, "rbe");
    if (file == NULL)
        return -1;
    while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0) {
        if (byte_buffer_add(clip, chunk, got) != BYTE_BUFFER_OK)
            goto out;
    }
    if (!ferror(file) && reply_clip_validate(byte_buffer_data(clip), byte_buffer_length(clip)) > 0)
        rc = 0;
out:
    fclose(file);
    if (rc != 0)
        log_warn("replies: the file of reply %lld is damaged", (long long)id);
    return rc;
}

/* See reply_store.h. */
void reply_store_remove_file(const char *data_dir, int64_t id)
{
    char path[REPLY_PATH_MAX];
    reply_store_path(data_dir, id, path, sizeof(path));
    unlink(path);
}

/* See reply_store.h. */
int reply_store_get_auto(sqlite3 *db, const char *device_id, const char *mode, int64_t *reply_id,
                         int *delay_s)
{
    sqlite3_stmt *statement = reply_store_prepare(
        db, "SELECT reply_id, delay_s FROM auto_replies WHERE device_id = ? AND mode = ?");
    int found = -1, step;

    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, mode, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        *reply_id = sqlite3_column_int64(statement, 0);
        *delay_s = sqlite3_column_int(statement, 1);
        found = 1;
    } else if (step == SQLITE_DONE) {
        found = 0;
    }
    sqlite3_finalize(statement);
    return found;
}

/* See reply_store.h. */
int reply_store_set_auto(sqlite3 *db, const char *device_id, const char *mode, int64_t reply_id,
                         int delay_s)
{
    sqlite3_stmt *statement;

    if (reply_id <= 0) {
        statement =
            reply_store_prepare(db, "DELETE FROM auto_replies WHERE device_id = ? AND mode = ?");
        if (statement == NULL)
            return -1;
        sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 2, mode, -1, SQLITE_STATIC);
        return reply_store_finish(db, statement) < 0 ? -1 : 0;
    }
    statement = reply_store_prepare(
        db, "INSERT INTO auto_replies (device_id, mode, reply_id, delay_s) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (device_id, mode) DO UPDATE SET reply_id = excluded.reply_id, "
            "delay_s = excluded.delay_s");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, reply_id);
    sqlite3_bind_int(statement, 4, delay_s);
    return reply_store_finish(db, statement) < 0 ? -1 : 0;
}

/* See reply_store.h. */
cJSON *reply_store_json(const struct reply_row *row)
{
    cJSON *item = cJSON_CreateObject();

    if (item == NULL)
        return NULL;
    cJSON_AddNumberToObject(item, "id", (double)row->id);
    cJSON_AddStringToObject(item, "name", row->name);
    cJSON_AddNumberToObject(item, "duration_ms", row->duration_ms);
    cJSON_AddBoolToObject(item, "stock", row->stock);
    if (row->created_by > 0)
        cJSON_AddNumberToObject(item, "created_by", (double)row->created_by);
    else
        cJSON_AddNullToObject(item, "created_by");
    cJSON_AddNumberToObject(item, "created_at", (double)row->created_at);
    cJSON_AddNumberToObject(item, "version", (double)row->version);
    return item;
}
