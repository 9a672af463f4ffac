/*
 * routes_motion.c - /api/v1/devices/{id}/motion: a doorbell's motion
 * detection settings (zones, privacy masks, sensitivity, mode; the JSON of
 * common/motion_config.h), kept by devices/motion_settings.c and sent to
 * the doorbell as the link command set_motion when they change (and by
 * link_server.c whenever it connects).
 *
 * Validation is the doorbell's own parser (common/motion_config.c), so the
 * hub never stores what the doorbell would refuse. The router has checked
 * that the user may see the doorbell (and is an admin for PUT). civetweb
 * worker threads, each with its own SQLite connection.
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
#include "devices/motion_settings.h"
#include "http/routes.h"
#include "storage/database.h"

#define ROUTES_MOTION_MAX_BODY (32 * 1024) /* 16 polygons of 16 points fit easily */

int routes_motion_get(struct http_request *request)
{
    struct motion_config config;
    cJSON *json;
    int status;

    if (motion_settings_load(database_thread_connection(), request->params[0], &config) != 0)
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
    if (db == NULL || motion_settings_save(db, request->params[0], &config) != 0)
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
