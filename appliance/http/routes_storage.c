/*
 * routes_storage.c - what recordings use and may use: GET /api/v1/storage
 * (admin: disk, budget, usage per doorbell, retention cut short), and each
 * doorbell's recording settings (GET for whoever may see the doorbell, PUT
 * for admins), applied to its recorder at once; the failing states
 * ("conditions": disk or database full, recording stopped). civetweb worker
 * threads.
 */
#define LOG_MODULE "recording"

#include <stdio.h>
#include <string.h>

#include "accounts/audit.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "http/routes.h"
#include "recording/recording_settings.h"
#include "recording/recording_store.h"
#include "recording/retention.h"
#include "storage/database.h"
#include "storage/database_reserve.h"

#define ROUTES_STORAGE_CUT_WINDOW_MS (7LL * 24 * 3600 * 1000) /* how long a cut is shown */
#define ROUTES_STORAGE_FULL_BYTES    (1LL << 20)              /* less free than this: "disk_full" */

/* Add a doorbell's settings to a JSON object. */
static void routes_storage_add_settings(cJSON *object, const struct recording_settings *settings)
{
    cJSON_AddStringToObject(object, "mode", recording_mode_name(settings->recorder.mode));
    cJSON_AddNumberToObject(object, "continuous_days", settings->continuous_days);
    cJSON_AddNumberToObject(object, "event_days", settings->event_days);
    cJSON_AddNumberToObject(object, "pre_roll_seconds", settings->recorder.pre_roll_seconds);
    cJSON_AddNumberToObject(object, "post_roll_seconds", settings->recorder.post_roll_seconds);
}

/* What routes_storage_add_device() adds to. */
struct routes_storage_usage {
    sqlite3 *db;
    cJSON *devices;
    cJSON *warnings;
};

/* recording_store_usage() callback: one doorbell's entry, and its warning
 * when retention cut its recordings short. Always 0 (go on). */
static int routes_storage_add_device(const struct recording_usage *usage, void *context)
{
    struct routes_storage_usage *state = context;
    struct recording_settings settings;
    cJSON *item = cJSON_CreateObject();

    recording_settings_load(state->db, usage->device_id, &settings);
    cJSON_AddStringToObject(item, "device_id", usage->device_id);
    cJSON_AddStringToObject(item, "name", usage->name);
    cJSON_AddNumberToObject(item, "bytes", (double)usage->bytes);
    cJSON_AddNumberToObject(item, "continuous_bytes", (double)(usage->bytes - usage->event_bytes));
    cJSON_AddNumberToObject(item, "event_bytes", (double)usage->event_bytes);
    cJSON_AddNumberToObject(item, "segments", usage->segments);
    if (!usage->has_oldest)
        cJSON_AddNullToObject(item, "oldest_ms");
    else
        cJSON_AddNumberToObject(item, "oldest_ms", (double)usage->oldest_ms);
    routes_storage_add_settings(item, &settings);
    cJSON_AddBoolToObject(item, "retention_cut_short", usage->cut_short);
    if (usage->cut_short) {
        char warning[256];
        cJSON_AddNumberToObject(item, "retention_cut_short_at_ms", (double)usage->cut_at_ms);
        cJSON_AddNumberToObject(item, "cut_footage_to_ms", (double)usage->cut_footage_to_ms);
        snprintf(warning, sizeof(warning),
                 "Recordings of %s were deleted before their retention days ran out to "
                 "stay within the disk limits.",
                 usage->name);
        cJSON_AddItemToArray(state->warnings, cJSON_CreateString(warning));
    } else {
        cJSON_AddNullToObject(item, "retention_cut_short_at_ms");
    }
    cJSON_AddItemToArray(state->devices, item);
    return 0;
}

/* The per-doorbell array and its warnings. 0 or -1. */
static int routes_storage_devices(sqlite3 *db, cJSON *devices, cJSON *warnings, int64_t now)
{
    struct routes_storage_usage state = {db, devices, warnings};

    return recording_store_usage(db, now - ROUTES_STORAGE_CUT_WINDOW_MS, routes_storage_add_device,
                                 &state);
}

/* Add one condition (code and message) to conditions and its message to warnings. */
static void routes_storage_condition(cJSON *conditions, cJSON *warnings, const char *code,
                                     const char *device_id, const char *message)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "code", code);
    if (device_id != NULL)
        cJSON_AddStringToObject(item, "device_id", device_id);
    else
        cJSON_AddNullToObject(item, "device_id");
    cJSON_AddStringToObject(item, "message", message);
    cJSON_AddItemToArray(conditions, item);
    cJSON_AddItemToArray(warnings, cJSON_CreateString(message));
}

/*
 * The failing states, worst first: a full recordings disk, a full database,
 * and each doorbell whose recording stopped (its recorder's problem). A
 * doorbell's recorder is read under its entry lock.
 */
static void routes_storage_conditions(struct http_request *request, const cJSON *devices,
                                      const struct retention_status *status, cJSON *conditions,
                                      cJSON *warnings)
{
    const cJSON *device;
    int disk_full = status->total_bytes > 0 && status->free_bytes < ROUTES_STORAGE_FULL_BYTES;
    int database_full = database_reserve_full(database_now_ms());
    char message[256];

    cJSON_ArrayForEach(device, devices)
    {
        const char *id =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(device, "device_id"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(device, "name"));
        struct device_entry *entry = device_registry_acquire(request->hub->registry, id, 0);
        struct recorder_stats stats;

        if (entry == NULL)
            continue;
        memset(&stats, 0, sizeof(stats));
        if (entry->recorder != NULL)
            recorder_get_stats(entry->recorder, &stats);
        device_entry_unlock(entry);
        if (stats.problem[0] == '\0' || stats.recording)
            continue;
        disk_full |= strcmp(stats.problem, "disk_full") == 0;
        database_full |= strcmp(stats.problem, "database_full") == 0;
        snprintf(message, sizeof(message),
                 "Recording of %s stopped: %s (%s). It resumes by itself.", name,
                 strcmp(stats.problem, "disk_full") == 0       ? "disk full"
                 : strcmp(stats.problem, "database_full") == 0 ? "database full"
                                                               : "write error",
                 stats.last_error);
        routes_storage_condition(conditions, warnings, "recording_stopped", id, message);
    }
    if (database_full)
        routes_storage_condition(conditions, warnings, "database_full", NULL,
                                 "The database's disk is full: new events, recordings and "
                                 "sessions cannot all be saved. Free some space.");
    if (disk_full)
        routes_storage_condition(conditions, warnings, "disk_full", NULL,
                                 "The recordings disk is full and nothing more can be deleted "
                                 "to make room. Free some space.");
}

int routes_storage_get(struct http_request *request)
{
    struct retention_status status;
    sqlite3 *db = database_thread_connection();
    cJSON *body = cJSON_CreateObject(), *devices, *warnings;
    int code;

    retention_get_status(request->hub->retention, &status);
    cJSON_AddNumberToObject(body, "budget_bytes", (double)status.budget);
    cJSON_AddNumberToObject(body, "min_free_bytes", (double)status.min_free);
    cJSON_AddNumberToObject(body, "free_bytes", (double)status.free_bytes);
    cJSON_AddNumberToObject(body, "total_bytes", (double)status.total_bytes);
    cJSON_AddNumberToObject(body, "used_bytes", (double)status.used_bytes);
    cJSON_AddNumberToObject(body, "checked_at_ms", (double)status.last_pass_ms);
    devices = cJSON_AddArrayToObject(body, "devices");
    warnings = cJSON_AddArrayToObject(body, "warnings");
    if (status.stuck)
        cJSON_AddItemToArray(warnings,
                             cJSON_CreateString("The disk limits cannot be kept: everything "
                                                "left is starred or still recording."));
    if (db == NULL || routes_storage_devices(db, devices, warnings, database_now_ms()) != 0) {
        code = http_send_error(request, 500, "internal", "database error");
    } else {
        cJSON *conditions = cJSON_AddArrayToObject(body, "conditions");
        routes_storage_conditions(request, devices, &status, conditions, warnings);
        code = http_send_json(request, 200, body);
    }
    cJSON_Delete(body);
    return code;
}

int routes_storage_settings_get(struct http_request *request)
{
    struct recording_settings settings;
    cJSON *body;
    int code;

    if (recording_settings_load(database_thread_connection(), request->params[0], &settings) != 0)
        return http_send_error(request, 500, "internal", "database error");
    body = cJSON_CreateObject();
    routes_storage_add_settings(body, &settings);
    code = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return code;
}

/* An optional integer member into *out. 0 (absent or set), -1 not an integer. */
static int routes_storage_int(const cJSON *body, const char *name, int *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item) || item->valuedouble != (double)(int)item->valuedouble)
        return -1;
    *out = (int)item->valuedouble;
    return 0;
}

int routes_storage_settings_put(struct http_request *request)
{
    struct recording_settings settings;
    struct device_entry *entry;
    const cJSON *mode;
    const char *invalid = NULL;
    cJSON *body = http_read_json(request, 4096);
    sqlite3 *db = database_thread_connection();
    char detail[160];

    if (body == NULL)
        return 400;
    if (recording_settings_load(db, request->params[0], &settings) != 0) {
        cJSON_Delete(body);
        return http_send_error(request, 500, "internal", "database error");
    }
    mode = cJSON_GetObjectItemCaseSensitive(body, "mode");
    if (mode != NULL &&
        (!cJSON_IsString(mode) || recording_mode_parse(mode->valuestring, &settings.recorder.mode)))
        invalid = "mode";
    else if (routes_storage_int(body, "continuous_days", &settings.continuous_days) != 0)
        invalid = "continuous_days";
    else if (routes_storage_int(body, "event_days", &settings.event_days) != 0)
        invalid = "event_days";
    else if (routes_storage_int(body, "pre_roll_seconds", &settings.recorder.pre_roll_seconds))
        invalid = "pre_roll_seconds";
    else if (routes_storage_int(body, "post_roll_seconds", &settings.recorder.post_roll_seconds))
        invalid = "post_roll_seconds";
    else
        invalid = recording_settings_invalid(&settings);
    cJSON_Delete(body);
    if (invalid != NULL) {
        snprintf(detail, sizeof(detail),
                 "%s is out of range (mode continuous|events|off, days 1..3650, pre-roll 0..30 s, "
                 "post-roll 0..300 s)",
                 invalid);
        return http_send_error(request, 400, "invalid", detail);
    }
    if (recording_settings_save(db, request->params[0], &settings) != 0)
        return http_send_error(request, 500, "internal", "database error");
    /* The recorder lives as long as the entry; configure it under the entry lock. */
    entry = device_registry_acquire(request->hub->registry, request->params[0], 0);
    if (entry != NULL) {
        if (entry->recorder != NULL)
            recorder_configure(entry->recorder, &settings.recorder);
        device_entry_unlock(entry);
    }
    snprintf(detail, sizeof(detail), "mode=%s;continuous_days=%d;event_days=%d;pre=%d;post=%d",
             recording_mode_name(settings.recorder.mode), settings.continuous_days,
             settings.event_days, settings.recorder.pre_roll_seconds,
             settings.recorder.post_roll_seconds);
    audit_record(db, request->auth.user.id, request->auth.user.username, "recording_settings",
                 request->params[0], detail, request->remote_address);
    return routes_storage_settings_get(request);
}
