/*
 * routes_motion.c - /api/v1/devices/{id}/motion: a doorbell's motion
 * detection settings (zones, privacy masks, sensitivity, mode; the JSON of
 * common/motion_config.h), kept in the motion_settings table and
 * sent to the doorbell as the link command set_motion when they change and
 * whenever it connects (routes_motion_command, called by link_server.c).
 *
 * Validation is the firmware's own parser, compiled into the hub, so the
 * hub never stores what the doorbell would refuse. What is stored is the
 * parser's normalised form (every key present, unknown keys dropped).
 * The router has checked that the user may see the doorbell (and is an
 * admin for PUT). civetweb worker threads, or the link thread for
 * routes_motion_command; each uses its own SQLite connection.
 */
#define LOG_MODULE "motion"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "accounts/audit.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "http/routes.h"
#include "common/motion_config.h"
#include "storage/database.h"

#define ROUTES_MOTION_MAX_BODY (32 * 1024) /* 16 polygons of 16 points fit easily */

/*
 * The saved settings of a doorbell into *config (the defaults if it has
 * none). 0, or -1 on a database error or a stored config the parser
 * refuses (then *config holds the defaults).
 */
static int routes_motion_load(sqlite3 *db, const char *device_id, struct motion_config *config)
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
static int routes_motion_save(sqlite3 *db, const char *device_id,
                              const struct motion_config *config)
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
static cJSON *routes_motion_build_command(const struct motion_config *config)
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

cJSON *routes_motion_command(sqlite3 *db, const char *device_id)
{
    struct motion_config config;

    /* A broken row leaves the defaults: the doorbell must not keep stale settings. */
    routes_motion_load(db, device_id, &config);
    return routes_motion_build_command(&config);
}

int routes_motion_get(struct http_request *request)
{
    struct motion_config config;
    cJSON *json;
    int status;

    if (routes_motion_load(database_thread_connection(), request->params[0], &config) != 0)
        return http_send_error(request, 500, "internal", "database error");
    json = motion_config_to_json(&config);
    if (json == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

int routes_motion_put(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    cJSON *body = http_read_json(request, ROUTES_MOTION_MAX_BODY), *motion;
    struct motion_config config;
    struct link_command command;
    char error[128];

    if (body == NULL)
        return 400;
    if (motion_config_from_json(body, &config, error, sizeof(error)) != 0) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", error);
    }
    cJSON_Delete(body);
    if (db == NULL || routes_motion_save(db, request->params[0], &config) != 0)
        return http_send_error(request, 500, "internal", "database error");
    audit_record(db, request->auth.user.id, request->auth.user.username, "motion_settings",
                 request->params[0], "", request->remote_address);

    /* An offline doorbell gets them when it connects. */
    motion = motion_config_to_json(&config);
    if (motion != NULL) {
        memset(&command, 0, sizeof(command));
        command.type = LINK_COMMAND_SET_MOTION;
        command.motion = motion;
        if (device_registry_send_command(request->hub->registry, request->params[0], &command) != 0)
            log_debug("doorbell %s offline: motion settings wait for its connection",
                      request->params[0]);
        cJSON_Delete(motion);
    }
    return routes_motion_get(request);
}
