/*
 * routes_settings.c - the hub settings of the Settings page (admins only):
 * GET/PUT /api/v1/settings/storage (the recordings' budget and free-space
 * floor, with the disk's size, free space and what recordings use) and
 * GET/PUT /api/v1/settings/chime, POST /api/v1/settings/chime/test (the
 * indoor chime). A change is saved (core/hub_settings.h: it wins over the
 * config from then on, restarts included), applied at once (retention
 * woken, chime reconfigured) and audited. civetweb worker threads.
 */
#define LOG_MODULE "settings"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accounts/audit.h"
#include "chime/chime.h"
#include "core/hub.h"
#include "core/hub_settings.h"
#include "http/routes.h"
#include "recording/retention.h"
#include "storage/database.h"

#define ROUTES_SETTINGS_BODY_MAX 4096
#define ROUTES_SETTINGS_ERROR    256

/* A whole number of bytes as JSON; null when absent (below zero). */
static void routes_settings_add_bytes(cJSON *object, const char *name, long long bytes)
{
    if (bytes < 0)
        cJSON_AddNullToObject(object, name);
    else
        cJSON_AddNumberToObject(object, name, (double)bytes);
}

int routes_settings_storage_get(struct http_request *request)
{
    struct hub_settings_values values;
    struct retention_status status;
    struct retention_limits limits = {0};
    long long free_bytes = -1, total_bytes = -1;
    cJSON *body = cJSON_CreateObject(), *defaults, *from_ui;
    int code;

    hub_settings_get(request->hub->settings, &values);
    retention_get_status(request->hub->retention, &status);
    if (retention_filesystem(request->hub->recordings_dir, &free_bytes, &total_bytes) != 0)
        free_bytes = total_bytes = -1;
    limits.min_free = values.min_free;
    routes_settings_add_bytes(body, "budget_bytes",
                              values.storage_budget > 0 ? values.storage_budget : -1);
    routes_settings_add_bytes(body, "min_free_bytes", values.min_free);
    routes_settings_add_bytes(body, "min_free_effective_bytes",
                              total_bytes > 0 ? retention_min_free(&limits, total_bytes) : -1);
    routes_settings_add_bytes(body, "disk_total_bytes", total_bytes);
    routes_settings_add_bytes(body, "disk_free_bytes", free_bytes);
    cJSON_AddNumberToObject(body, "used_bytes", (double)status.used_bytes);
    defaults = cJSON_AddObjectToObject(body, "defaults");
    routes_settings_add_bytes(
        defaults, "budget_bytes",
        request->hub->config.storage_budget > 0 ? request->hub->config.storage_budget : -1);
    routes_settings_add_bytes(defaults, "min_free_bytes", request->hub->config.min_free);
    from_ui = cJSON_AddObjectToObject(body, "set_in_ui");
    cJSON_AddBoolToObject(from_ui, "budget", (values.from_ui & HUB_SETTINGS_FROM_UI_BUDGET) != 0);
    cJSON_AddBoolToObject(from_ui, "min_free",
                          (values.from_ui & HUB_SETTINGS_FROM_UI_MIN_FREE) != 0);
    code = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return code;
}

/*
 * An optional byte-count member: absent leaves *out, null sets null_value,
 * a whole number >= 0 sets it. 0, or -1 (not a whole number >= 0).
 */
static int routes_settings_bytes(const cJSON *body, const char *name, long long null_value,
                                 long long *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);

    if (item == NULL)
        return 0;
    if (cJSON_IsNull(item)) {
        *out = null_value;
        return 0;
    }
    if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 9.0e18 ||
        item->valuedouble != floor(item->valuedouble))
        return -1;
    *out = (long long)item->valuedouble;
    return 0;
}

int routes_settings_storage_put(struct http_request *request)
{
    struct hub_settings_values values;
    char error[ROUTES_SETTINGS_ERROR], detail[128];
    long long budget, min_free, free_bytes = 0, total_bytes = 0;
    sqlite3 *db = database_thread_connection();
    cJSON *body = http_read_json(request, ROUTES_SETTINGS_BODY_MAX);

    if (body == NULL)
        return 400;
    hub_settings_get(request->hub->settings, &values);
    budget = values.storage_budget;
    min_free = values.min_free;
    if (routes_settings_bytes(body, "budget_bytes", 0, &budget) != 0 ||
        routes_settings_bytes(body, "min_free_bytes", -1, &min_free) != 0) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid",
                               "budget_bytes and min_free_bytes are whole numbers of bytes, or "
                               "null (no budget; the automatic minimum free space)");
    }
    cJSON_Delete(body);
    if (retention_filesystem(request->hub->recordings_dir, &free_bytes, &total_bytes) != 0) {
        log_error("statvfs %s: %s", request->hub->recordings_dir, strerror(errno));
        return http_send_error(request, 500, "internal", "cannot read the recordings disk's size");
    }
    if (hub_settings_check_storage(budget, min_free, total_bytes, error, sizeof(error)) != 0)
        return http_send_error(request, 400, "invalid", error);
    if (db == NULL || hub_settings_set_storage(request->hub->settings, db, budget, min_free) != 0)
        return http_send_error(request, 500, "internal", "database error");
    retention_wake(request->hub->retention);
    snprintf(detail, sizeof(detail), "budget=%lld;min_free=%lld", budget, min_free);
    audit_record(db, request->auth.user.id, request->auth.user.username, "storage_settings", "",
                 detail, request->remote_address);
    log_info("storage limits set by %s: %s", request->auth.user.username, detail);
    return routes_settings_storage_get(request);
}

/* chime_list_outputs() callback: one choice into the array, once. */
static void routes_settings_add_output(const char *name, const char *description, void *context)
{
    cJSON *devices = context, *item;

    cJSON_ArrayForEach(item, devices)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "name")), name) == 0)
            return;
    }
    if (hub_settings_check_device(name, NULL, 0) != 0)
        return; /* a name the PUT would refuse is no choice */
    item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "name", name);
    cJSON_AddStringToObject(item, "description", description);
    cJSON_AddItemToArray(devices, item);
}

int routes_settings_chime_get(struct http_request *request)
{
    struct hub_settings_values values;
    const char *configured = request->hub->config.chime_device;
    cJSON *body = cJSON_CreateObject(), *devices;
    int code;

    hub_settings_get(request->hub->settings, &values);
    cJSON_AddBoolToObject(body, "enabled", values.chime_enabled);
    cJSON_AddStringToObject(body, "device", values.chime_device);
    cJSON_AddNumberToObject(body, "volume", values.chime_volume);
    cJSON_AddBoolToObject(body, "set_in_ui", (values.from_ui & HUB_SETTINGS_FROM_UI_CHIME) != 0);
    cJSON_AddStringToObject(body, "configured_device", configured);
    devices = cJSON_AddArrayToObject(body, "devices");
    routes_settings_add_output("default", "The system's default output", devices);
    if (configured[0] != '\0')
        routes_settings_add_output(configured, "From the hub's configuration", devices);
    routes_settings_add_output(values.chime_device, "The current output", devices);
    chime_list_outputs(routes_settings_add_output, devices);
    code = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return code;
}

int routes_settings_chime_put(struct http_request *request)
{
    struct hub_settings_values values;
    char error[ROUTES_SETTINGS_ERROR], detail[HUB_SETTINGS_DEVICE_MAX + 64];
    const cJSON *enabled, *device, *volume;
    sqlite3 *db = database_thread_connection();
    cJSON *body = http_read_json(request, ROUTES_SETTINGS_BODY_MAX);
    int code = 0;

    if (body == NULL)
        return 400;
    hub_settings_get(request->hub->settings, &values);
    enabled = cJSON_GetObjectItemCaseSensitive(body, "enabled");
    device = cJSON_GetObjectItemCaseSensitive(body, "device");
    volume = cJSON_GetObjectItemCaseSensitive(body, "volume");
    if (enabled != NULL && !cJSON_IsBool(enabled))
        code = http_send_error(request, 400, "invalid", "enabled is true or false");
    else if (device != NULL &&
             (!cJSON_IsString(device) ||
              hub_settings_check_device(device->valuestring, error, sizeof(error)) != 0))
        code = http_send_error(request, 400, "invalid",
                               cJSON_IsString(device) ? error : "device is a string");
    else if (volume != NULL &&
             (!cJSON_IsNumber(volume) || volume->valuedouble != floor(volume->valuedouble) ||
              hub_settings_check_volume((long long)volume->valuedouble, error, sizeof(error))))
        code = http_send_error(request, 400, "invalid",
                               cJSON_IsNumber(volume) ? error : "volume is a whole number");
    if (code != 0) {
        cJSON_Delete(body);
        return code;
    }
    if (enabled != NULL)
        values.chime_enabled = cJSON_IsTrue(enabled);
    if (device != NULL)
        snprintf(values.chime_device, sizeof(values.chime_device), "%s", device->valuestring);
    if (volume != NULL)
        values.chime_volume = (int)volume->valuedouble;
    cJSON_Delete(body);
    if (db == NULL || hub_settings_set_chime(request->hub->settings, db, values.chime_enabled,
                                             values.chime_device, values.chime_volume) != 0)
        return http_send_error(request, 500, "internal", "database error");
    chime_configure(request->hub->chime, values.chime_enabled, values.chime_device,
                    values.chime_volume);
    snprintf(detail, sizeof(detail), "enabled=%d;device=%s;volume=%d", values.chime_enabled,
             values.chime_device, values.chime_volume);
    audit_record(db, request->auth.user.id, request->auth.user.username, "chime_settings", "",
                 detail, request->remote_address);
    return routes_settings_chime_get(request);
}

int routes_settings_chime_test(struct http_request *request)
{
    struct hub_settings_values values;
    cJSON *body;
    int code;

    if (chime_test(request->hub->chime, database_now_ms()) != 0)
        return http_send_error(request, 429, "too_soon",
                               "the chime was just tested; try again in a few seconds");
    hub_settings_get(request->hub->settings, &values);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "device", values.chime_device);
    cJSON_AddNumberToObject(body, "volume", values.chime_volume);
    code = http_send_json(request, 202, body);
    cJSON_Delete(body);
    return code;
}
