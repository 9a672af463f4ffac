/*
 * motion_settings.c - a doorbell's motion detection settings in the
 * motion_settings table (see motion_settings.h). What is stored is the
 * doorbell's own parser's normalised form (every key present, unknown keys
 * dropped), so the hub never stores what the doorbell would refuse.
 * Any thread; each caller passes its own SQLite connection.
 */
#define LOG_MODULE "motion"

#include "devices/motion_settings.h"

#include <string.h>

#include "common/link_protocol.h"
#include "common/log.h"
#include "storage/database.h"

/*
 * The saved settings of a doorbell into *config (the defaults if it has
 * none). 0, or -1 on a database error or a stored config the parser
 * refuses (then *config holds the defaults).
 */
int motion_settings_load(sqlite3 *db, const char *device_id, struct motion_config *config)
{
    sqlite3_stmt *statement = NULL;
    char error[128] = "empty";
    int step, rc = -1;

    motion_config_defaults(config);
    if (db == NULL ||
        sqlite3_prepare_v2(db, "SELECT config FROM motion_settings WHERE device_id = ?", -1,
                           &statement, NULL) != SQLITE_OK) {
        log_error("reading motion settings: %s", db != NULL ? sqlite3_errmsg(db) : "no database");
        goto out;
    }
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_DONE) {
        rc = 0;
    } else if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(statement, 0);
        int size = sqlite3_column_bytes(statement, 0);
        if (text != NULL &&
            motion_config_parse(text, (size_t)size, config, error, sizeof(error)) == 0)
            rc = 0;
        else
            log_error("doorbell %s: stored motion settings refused: %s", device_id, error);
    } else {
        log_error("reading motion settings: %s", sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(statement);
    return rc;
}

/* Store config (normalised JSON) for device_id. 0 or -1. */
int motion_settings_exists(sqlite3 *db, const char *device_id)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM motion_settings WHERE device_id = ?", -1, &statement,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(statement);
    return rc;
}

int motion_settings_save(sqlite3 *db, const char *device_id, const struct motion_config *config)
{
    sqlite3_stmt *statement = NULL;
    cJSON *json = motion_config_to_json(config);
    char *text = json != NULL ? cJSON_PrintUnformatted(json) : NULL;
    int rc = -1;

    if (text == NULL)
        goto out;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO motion_settings (device_id, config, updated_at) "
                           "VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                           "config = excluded.config, updated_at = excluded.updated_at",
                           -1, &statement, NULL) != SQLITE_OK) {
        log_error("saving motion settings: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, database_now_ms());
    if (sqlite3_step(statement) == SQLITE_DONE)
        rc = 0;
    else
        log_error("saving motion settings: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(statement);
    cJSON_free(text);
    cJSON_Delete(json);
    return rc;
}

/* The set_motion command for config; the caller deletes it. NULL if out of memory. */
static cJSON *motion_settings_build_command(const struct motion_config *config)
{
    struct link_command command;
    cJSON *motion = motion_config_to_json(config), *json;

    if (motion == NULL)
        return NULL;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_SET_MOTION;
    command.motion = motion;
    json = link_build_command(&command);
    cJSON_Delete(motion);
    return json;
}

cJSON *motion_settings_command(sqlite3 *db, const char *device_id)
{
    struct motion_config config;

    /* A broken row leaves the defaults: the doorbell must not keep stale settings. */
    motion_settings_load(db, device_id, &config);
    return motion_settings_build_command(&config);
}
