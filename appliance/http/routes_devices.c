/*
 * routes_devices.c - /api/v1/devices: list, add (admin; shows the secret
 * once), show, delete (admin; disconnects at once), latest snapshot and a
 * request for a fresh one. The router has already checked the role and that
 * the user may see the doorbell in params[0]. civetweb worker threads.
 */
#define LOG_MODULE "devices"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "devices/device_store.h"
#include "http/routes.h"
#include "storage/database.h"

/* The DEVICE object for a stored doorbell, merged with its live state. */
static cJSON *routes_devices_describe(struct hub *hub, const struct device_record *record)
{
    struct device_entry *entry = device_registry_acquire(hub->registry, record->id, 1);
    cJSON *json;

    if (entry == NULL)
        return NULL;
    snprintf(entry->name, sizeof(entry->name), "%s", record->name);
    if (entry->firmware[0] == '\0')
        snprintf(entry->firmware, sizeof(entry->firmware), "%s", record->firmware);
    if (entry->last_seen_at == 0)
        entry->last_seen_at = record->last_seen_at;
    json = device_entry_to_json(entry);
    device_entry_unlock(entry);
    return json;
}

struct routes_devices_list_context {
    struct http_request *request;
    cJSON *array;
};

/* device_store_list callback: add the doorbells this user may see. */
static int routes_devices_list_one(const struct device_record *record, void *data)
{
    struct routes_devices_list_context *context = data;
    struct http_request *request = context->request;
    cJSON *json;

    if (!users_can_see_device(database_thread_connection(), &request->auth.user, record->id))
        return 0;
    json = routes_devices_describe(request->hub, record);
    if (json != NULL)
        cJSON_AddItemToArray(context->array, json);
    return 0;
}

int routes_devices_list(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    struct routes_devices_list_context context = {request, cJSON_AddArrayToObject(body, "devices")};
    int status;

    if (device_store_list(database_thread_connection(), routes_devices_list_one, &context) != 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

int routes_devices_get(struct http_request *request)
{
    struct device_record record;
    cJSON *json;
    int status;

    if (device_store_find(database_thread_connection(), request->params[0], &record, NULL) != 1)
        return http_send_error(request, 404, "not_found", "no such doorbell");
    json = routes_devices_describe(request->hub, &record);
    if (json == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

int routes_devices_add(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    struct device_record record;
    uint8_t secret[LINK_SECRET_SIZE];
    char secret_hex[LINK_SECRET_SIZE * 2 + 1];
    char reason[256];
    const char *name;
    cJSON *answer;
    int status;

    if (body == NULL)
        return 400;
    name = http_json_string(body, "name");
    if (name == NULL || device_store_add(database_thread_connection(), name, &record, secret,
                                         reason, sizeof(reason)) != 0) {
        status = http_send_error(request, 400, "invalid", name ? reason : "a name is needed");
        cJSON_Delete(body);
        return status;
    }
    cJSON_Delete(body);
    link_hex_encode(secret, sizeof(secret), secret_hex);
    mbedtls_platform_zeroize(secret, sizeof(secret));
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "device_add", record.id, record.name, request->remote_address);

    answer = cJSON_CreateObject();
    cJSON_AddItemToObject(answer, "device", routes_devices_describe(request->hub, &record));
    cJSON_AddStringToObject(answer, "secret", secret_hex);
    status = http_send_json(request, 201, answer);
    cJSON_Delete(answer);
    mbedtls_platform_zeroize(secret_hex, sizeof(secret_hex));
    return status;
}

int routes_devices_delete(struct http_request *request)
{
    int deleted = device_store_delete(database_thread_connection(), request->params[0]);

    if (deleted < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (deleted == 0)
        return http_send_error(request, 404, "not_found", "no such doorbell");
    device_registry_remove(request->hub->registry, request->params[0]);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "device_delete", request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

int routes_devices_snapshot(struct http_request *request)
{
    struct device_entry *entry =
        device_registry_acquire(request->hub->registry, request->params[0], 0);
    uint8_t *copy = NULL;
    size_t size = 0;
    int status;

    /* Copy under the lock, send after: a slow browser must never hold up the
     * doorbell's link thread, which takes the same lock for every frame. */
    if (entry != NULL) {
        if (entry->snapshot != NULL && (copy = malloc(entry->snapshot_size)) != NULL) {
            memcpy(copy, entry->snapshot, entry->snapshot_size);
            size = entry->snapshot_size;
        }
        device_entry_unlock(entry);
    }
    if (copy == NULL)
        return http_send_error(request, 404, "not_found", "no snapshot yet");
    status = http_send_bytes(request, 200, "image/jpeg", copy, size);
    free(copy);
    return status;
}

int routes_devices_request_snapshot(struct http_request *request)
{
    struct link_command command;

    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_SNAPSHOT;
    if (device_registry_send_command(request->hub->registry, request->params[0], &command) != 0)
        return http_send_error(request, 409, "offline", "the doorbell is not connected");
    return http_send_empty(request, 202, NULL);
}

/* Read an optional integer field in [min, max]; 0 when absent. -1 if invalid. */
static int routes_devices_optional_int(const cJSON *body, const char *name, int min, int max,
                                       int *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    *out = 0;
    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item) || item->valuedouble < min || item->valuedouble > max ||
        item->valuedouble != (double)(int)item->valuedouble)
        return -1;
    *out = (int)item->valuedouble;
    return 0;
}

int routes_devices_set_video(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    struct link_command command;
    int invalid;

    if (body == NULL)
        return 400;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_SET_VIDEO;
    invalid =
        routes_devices_optional_int(body, "bitrate_kbps", 300, 20000, &command.bitrate_kbps) != 0 ||
        routes_devices_optional_int(body, "width", 320, 3840, &command.width) != 0 ||
        routes_devices_optional_int(body, "height", 180, 2160, &command.height) != 0 ||
        routes_devices_optional_int(body, "fps", 1, 60, &command.fps) != 0 ||
        (command.width | command.height) & 1 || (command.width == 0) != (command.height == 0);
    cJSON_Delete(body);
    if (invalid)
        return http_send_error(request, 400, "invalid",
                               "bitrate_kbps 300-20000, even width/height together, fps 1-60");
    if (device_registry_send_command(request->hub->registry, request->params[0], &command) != 0)
        return http_send_error(request, 409, "offline", "the doorbell is not connected");
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "video_quality", request->params[0], "", request->remote_address);
    return http_send_empty(request, 202, NULL);
}
