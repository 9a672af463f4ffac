/*
 * routes_notify.c - /api/v1/notifications: the notification targets (ntfy
 * topics and Standard Webhooks endpoints: list, add, show, change, delete,
 * send a test) and the recent deliveries with their failures. Admins only
 * (the route table says so). Secrets never leave the hub again once
 * stored: answers say whether a token, password or signing secret is set;
 * a webhook's secret is shown once, when it is made. civetweb worker
 * threads; the sender thread is woken through hub->notify.
 */
#define LOG_MODULE "notify"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "civetweb.h"
#include "common/error_text.h"
#include "core/hub.h"
#include "devices/device_store.h"
#include "http/routes.h"
#include "notify/notify.h"
#include "notify/notify_outbox.h"
#include "notify/notify_target.h"
#include "storage/database.h"

#define ROUTES_NOTIFY_TARGETS_MAX   32
#define ROUTES_NOTIFY_BODY_MAX      (16 * 1024)
#define ROUTES_NOTIFY_DEFAULT_LIMIT 50
#define ROUTES_NOTIFY_LIMIT_MAX     500

/* A comma-separated list as a JSON array of strings. */
static cJSON *routes_notify_list_json(const char *list)
{
    cJSON *array = cJSON_CreateArray();
    const char *start = list;

    while (*start != '\0') {
        size_t size = strcspn(start, ",");
        char item[NOTIFY_LIST_MAX];
        snprintf(item, sizeof(item), "%.*s", (int)size, start);
        cJSON_AddItemToArray(array, cJSON_CreateString(item));
        start += size + (start[size] == ',');
    }
    return array;
}

/* notify_outbox_list callback: keep the first (newest) row. */
static int routes_notify_keep_first(const struct notify_delivery *delivery, void *context)
{
    *(struct notify_delivery *)context = *delivery;
    return 1;
}

/* A time member: ms since the epoch, or null when 0 (not yet). */
static void routes_notify_add_time(cJSON *item, const char *name, int64_t ms)
{
    if (ms > 0)
        cJSON_AddNumberToObject(item, name, (double)ms);
    else
        cJSON_AddNullToObject(item, name);
}

/* One delivery (outbox row) as the API shows it. */
static cJSON *routes_notify_delivery_json(const struct notify_delivery *delivery)
{
    cJSON *item = cJSON_CreateObject();

    cJSON_AddNumberToObject(item, "id", (double)delivery->id);
    cJSON_AddNumberToObject(item, "target_id", (double)delivery->target_id);
    cJSON_AddStringToObject(item, "target_name", delivery->target_name);
    if (delivery->event_id != 0) {
        cJSON_AddNumberToObject(item, "event_id", (double)delivery->event_id);
        cJSON_AddStringToObject(item, "event_type", delivery->event_type);
        cJSON_AddStringToObject(item, "device_id", delivery->device_id);
    } else {
        cJSON_AddNullToObject(item, "event_id");
        cJSON_AddStringToObject(item, "event_type", "test");
        cJSON_AddNullToObject(item, "device_id");
    }
    cJSON_AddBoolToObject(item, "test", delivery->event_id == 0);
    cJSON_AddStringToObject(item, "message_id", delivery->message_id);
    cJSON_AddStringToObject(item, "state", delivery->state);
    cJSON_AddNumberToObject(item, "attempts", delivery->attempts);
    if (delivery->last_status > 0)
        cJSON_AddNumberToObject(item, "last_status", delivery->last_status);
    else
        cJSON_AddNullToObject(item, "last_status");
    cJSON_AddStringToObject(item, "last_error", delivery->last_error);
    cJSON_AddNumberToObject(item, "created_ms", (double)delivery->created_ms);
    routes_notify_add_time(item, "last_attempt_ms", delivery->last_attempt_ms);
    routes_notify_add_time(item, "delivered_ms", delivery->delivered_ms);
    routes_notify_add_time(item, "next_attempt_ms",
                           strcmp(delivery->state, "pending") == 0 ? delivery->next_attempt_ms : 0);
    return item;
}

/* A target as the API shows it: secrets only as "set" flags. */
static cJSON *routes_notify_target_json(sqlite3 *db, const struct notify_target *target)
{
    cJSON *item = cJSON_CreateObject(), *schedule;
    struct notify_delivery last;
    char text[NOTIFY_SCHEDULE_MAX];

    cJSON_AddNumberToObject(item, "id", (double)target->id);
    cJSON_AddStringToObject(item, "name", target->name);
    cJSON_AddStringToObject(item, "kind", notify_kind_name(target->kind));
    cJSON_AddStringToObject(item, "url", target->url);
    cJSON_AddStringToObject(item, "topic", target->topic);
    cJSON_AddStringToObject(item, "username", target->username);
    cJSON_AddBoolToObject(item, "token_set", target->token[0] != '\0');
    cJSON_AddBoolToObject(item, "password_set", target->password[0] != '\0');
    cJSON_AddBoolToObject(item, "secret_set", target->secret[0] != '\0');
    cJSON_AddItemToObject(item, "event_types", routes_notify_list_json(target->event_types));
    cJSON_AddItemToObject(item, "device_ids", routes_notify_list_json(target->device_ids));
    weekly_schedule_format(&target->schedule, text, sizeof(text));
    schedule = text[0] != '\0' ? cJSON_Parse(text) : NULL;
    cJSON_AddItemToObject(item, "schedule", schedule != NULL ? schedule : cJSON_CreateNull());
    weekly_schedule_format(&target->quiet_hours, text, sizeof(text));
    schedule = target->quiet_mode != NOTIFY_QUIET_OFF && text[0] != '\0' ? cJSON_Parse(text) : NULL;
    if (schedule != NULL)
        cJSON_AddStringToObject(schedule, "mode", notify_quiet_name(target->quiet_mode));
    cJSON_AddItemToObject(item, "quiet_hours", schedule != NULL ? schedule : cJSON_CreateNull());
    cJSON_AddBoolToObject(item, "actions", target->actions);
    cJSON_AddBoolToObject(item, "insecure_tls", target->insecure_tls);
    cJSON_AddBoolToObject(item, "enabled", target->enabled);
    cJSON_AddNumberToObject(item, "created_at", (double)target->created_at);
    memset(&last, 0, sizeof(last));
    if (notify_outbox_list(db, target->id, NULL, 1, routes_notify_keep_first, &last) == 0 &&
        last.id != 0)
        cJSON_AddItemToObject(item, "last_delivery", routes_notify_delivery_json(&last));
    else
        cJSON_AddNullToObject(item, "last_delivery");
    return item;
}

/* The {id} route parameter as a target id; 0 if it is not one. */
static int64_t routes_notify_id(const struct http_request *request)
{
    char *end = NULL;
    long long id = strtoll(request->params[0], &end, 10);
    return request->params[0][0] != '\0' && *end == '\0' && id > 0 ? id : 0;
}

/* An optional string member into out (max bytes with the NUL) after check.
 * null counts as "" when nullable. 0 absent or set, -1 invalid (error). */
static int routes_notify_string(const cJSON *body, const char *name, char *out, size_t max,
                                int allow_empty, int nullable, char *error, size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);

    if (item == NULL)
        return 0;
    if (nullable && cJSON_IsNull(item)) {
        out[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(item)) {
        error_text_set(error, error_size, "%s: must be a string", name);
        return -1;
    }
    if (notify_check_text(name, item->valuestring, max, allow_empty, error, error_size) != 0)
        return -1;
    snprintf(out, max, "%s", item->valuestring);
    return 0;
}

/* An optional boolean member. 0 absent or set, -1 invalid. */
static int routes_notify_bool(const cJSON *body, const char *name, int *out, char *error,
                              size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);

    if (item == NULL)
        return 0;
    if (!cJSON_IsBool(item)) {
        error_text_set(error, error_size, "%s: must be true or false", name);
        return -1;
    }
    *out = cJSON_IsTrue(item);
    return 0;
}

/* Is this a doorbell the hub knows (not revoked)? */
static int routes_notify_device_known(sqlite3 *db, const char *id)
{
    struct device_record record;

    return device_store_find(db, id, &record, NULL) == 1;
}

/* An optional array of names (event types or doorbell ids) into a
 * comma-separated list. 0 absent or set, -1 invalid. */
static int routes_notify_names(sqlite3 *db, const cJSON *body, const char *name, int devices,
                               char *out, char *error, size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name), *entry;
    char list[NOTIFY_LIST_MAX] = "";
    size_t used = 0;

    if (item == NULL)
        return 0;
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) > NOTIFY_LIST_ITEMS_MAX) {
        error_text_set(error, error_size, "%s: an array of at most %d names", name,
                       NOTIFY_LIST_ITEMS_MAX);
        return -1;
    }
    cJSON_ArrayForEach(entry, item)
    {
        const char *text = cJSON_IsString(entry) ? entry->valuestring : NULL;
        int valid =
            text != NULL && text[0] != '\0' && strlen(text) < LINK_DEVICE_ID_MAX &&
            strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                strlen(text);
        if (valid && devices)
            valid = routes_notify_device_known(db, text);
        else if (valid)
            valid = notify_event_type_known(text);
        if (!valid) {
            error_text_set(error, error_size,
                           devices
                               ? "device_ids: \"%.64s\" is not a doorbell of this hub"
                               : "event_types: \"%.64s\" is not one of ring, motion, pir, person, "
                                 "package, tamper, online, offline, low_battery",
                           text != NULL ? text : "?");
            return -1;
        }
        if (list[0] != '\0' && notify_list_allows(list, text))
            continue; /* a duplicate */
        if (used + strlen(text) + 2 > sizeof(list)) {
            error_text_set(error, error_size, "%s: too many names", name);
            return -1;
        }
        used +=
            (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used > 0 ? "," : "", text);
    }
    snprintf(out, NOTIFY_LIST_MAX, "%s", list);
    return 0;
}

/* An optional schedule member (object or null). 0 absent or set, -1 invalid. */
static int routes_notify_schedule(const cJSON *body, struct weekly_schedule *out, char *error,
                                  size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "schedule");
    char *text;
    int rc;

    if (item == NULL)
        return 0;
    if (cJSON_IsNull(item)) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    text = cJSON_IsObject(item) ? cJSON_PrintUnformatted(item) : NULL;
    rc = weekly_schedule_parse(text != NULL ? text : "{", out, error, error_size);
    cJSON_free(text);
    return rc;
}

/*
 * An optional quiet_hours member: null (none) or {"mode": "nothing" |
 * "rings_only", "days": [...], "from": "HH:MM", "to": "HH:MM"} (the window
 * as a schedule, hub local time). 0 absent or set, -1 invalid.
 */
static int routes_notify_quiet_hours(const cJSON *body, struct notify_target *target, char *error,
                                     size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "quiet_hours");
    const cJSON *mode;
    cJSON *window;
    char *text;
    int rc;

    if (item == NULL)
        return 0;
    if (cJSON_IsNull(item)) {
        target->quiet_mode = NOTIFY_QUIET_OFF;
        memset(&target->quiet_hours, 0, sizeof(target->quiet_hours));
        return 0;
    }
    mode = cJSON_GetObjectItemCaseSensitive(item, "mode");
    if (!cJSON_IsObject(item) || !cJSON_IsString(mode) ||
        notify_quiet_parse(mode->valuestring, &target->quiet_mode) != 0 ||
        target->quiet_mode == NOTIFY_QUIET_OFF) {
        error_text_set(error, error_size,
                       "quiet_hours: null, or an object with mode \"nothing\" or \"rings_only\", "
                       "days, from and to");
        return -1;
    }
    window = cJSON_Duplicate(item, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(window, "mode");
    text = window != NULL ? cJSON_PrintUnformatted(window) : NULL;
    cJSON_Delete(window);
    rc = weekly_schedule_parse(text != NULL ? text : "{", &target->quiet_hours, error, error_size);
    cJSON_free(text);
    if (rc == 0 && !target->quiet_hours.set) {
        error_text_set(error, error_size, "quiet_hours: days, from and to are required");
        rc = -1;
    }
    return rc;
}

/*
 * Apply a POST/PUT body to target (defaults or the stored target); *rotated
 * is set when the body asks for a fresh webhook secret. 0, or -1 with a
 * sentence in error.
 */
static int routes_notify_apply(sqlite3 *db, const cJSON *body, struct notify_target *target,
                               int creating, int *rotated, char *error, size_t error_size)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
    int rotate = 0;

    if (kind != NULL) {
        enum notify_kind parsed;
        if (!cJSON_IsString(kind) || notify_kind_parse(kind->valuestring, &parsed) != 0) {
            error_text_set(error, error_size, "kind: \"ntfy\" or \"webhook\"");
            return -1;
        }
        if (!creating && parsed != target->kind) {
            error_text_set(error, error_size, "kind: cannot change; add a new target instead");
            return -1;
        }
        target->kind = parsed;
    } else if (creating) {
        error_text_set(error, error_size, "kind: \"ntfy\" or \"webhook\" is required");
        return -1;
    }
    if (routes_notify_string(body, "name", target->name, NOTIFY_NAME_MAX, 0, 0, error,
                             error_size) != 0 ||
        routes_notify_string(body, "url", target->url, NOTIFY_URL_MAX, 0, 0, error, error_size) !=
            0 ||
        routes_notify_string(body, "topic", target->topic, NOTIFY_TOPIC_MAX, 1, 1, error,
                             error_size) != 0 ||
        routes_notify_string(body, "token", target->token, NOTIFY_TOKEN_MAX, 1, 1, error,
                             error_size) != 0 ||
        routes_notify_string(body, "username", target->username, NOTIFY_USERNAME_MAX, 1, 1, error,
                             error_size) != 0 ||
        routes_notify_string(body, "password", target->password, NOTIFY_PASSWORD_MAX, 1, 1, error,
                             error_size) != 0 ||
        routes_notify_string(body, "secret", target->secret, NOTIFY_SECRET_MAX, 0, 0, error,
                             error_size) != 0 ||
        routes_notify_names(db, body, "event_types", 0, target->event_types, error, error_size) !=
            0 ||
        routes_notify_names(db, body, "device_ids", 1, target->device_ids, error, error_size) !=
            0 ||
        routes_notify_schedule(body, &target->schedule, error, error_size) != 0 ||
        routes_notify_quiet_hours(body, target, error, error_size) != 0 ||
        routes_notify_bool(body, "actions", &target->actions, error, error_size) != 0 ||
        routes_notify_bool(body, "insecure_tls", &target->insecure_tls, error, error_size) != 0 ||
        routes_notify_bool(body, "enabled", &target->enabled, error, error_size) != 0 ||
        routes_notify_bool(body, "rotate_secret", &rotate, error, error_size) != 0)
        return -1;
    if (creating && target->name[0] == '\0') {
        error_text_set(error, error_size, "name: required, 1 to %d bytes", NOTIFY_NAME_MAX - 1);
        return -1;
    }
    if (notify_check_url(target->url, target->kind, error, error_size) != 0)
        return -1;
    if (strspn(target->token, "!#$%&'*+-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
                              "abcdefghijklmnopqrstuvwxyz{|}~") != strlen(target->token)) {
        error_text_set(error, error_size, "token: visible ASCII characters only");
        return -1;
    }
    if (strchr(target->username, ':') != NULL) {
        error_text_set(error, error_size, "username: no ':'");
        return -1;
    }
    if (target->kind == NOTIFY_KIND_NTFY) {
        if (notify_check_topic(target->topic, error, error_size) != 0)
            return -1;
        if (target->token[0] != '\0' && target->username[0] != '\0') {
            error_text_set(error, error_size, "use a token or a username and password, not both");
            return -1;
        }
        if (cJSON_GetObjectItemCaseSensitive(body, "secret") != NULL || rotate) {
            error_text_set(error, error_size, "secret: only webhooks are signed");
            return -1;
        }
        return 0;
    }
    if (target->topic[0] != '\0' || target->token[0] != '\0' || target->username[0] != '\0' ||
        target->password[0] != '\0') {
        error_text_set(error, error_size,
                       "topic, token, username and password are for ntfy targets");
        return -1;
    }
    if (rotate || target->secret[0] == '\0') {
        if (notify_secret_generate(target->secret, sizeof(target->secret)) != 0) {
            error_text_set(error, error_size, "cannot make a secret");
            return -1;
        }
        *rotated = 1;
    }
    return notify_check_secret(target->secret, error, error_size);
}

/* The audit detail of a target: no secrets, and only the URL's scheme and
 * host (a webhook URL may carry a token in its path or query). */
static void routes_notify_audit(struct http_request *request, sqlite3 *db, const char *action,
                                const struct notify_target *target)
{
    char subject[32], detail[256];
    const char *host = strstr(target->url, "://");
    size_t length = host != NULL ? (size_t)(host + 3 - target->url) + strcspn(host + 3, "/?") : 0;

    snprintf(subject, sizeof(subject), "target %lld", (long long)target->id);
    snprintf(detail, sizeof(detail), "name=%s;kind=%s;url=%.*s;enabled=%d", target->name,
             notify_kind_name(target->kind), (int)length, target->url, target->enabled);
    audit_record(db, request->auth.user.id, request->auth.user.username, action, subject, detail,
                 request->remote_address);
}

/* notify_target_each callback: add a target to the array. */
static int routes_notify_add_target(const struct notify_target *target, void *array)
{
    cJSON_AddItemToArray(array, routes_notify_target_json(database_thread_connection(), target));
    return 0;
}

int routes_notify_targets_list(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "targets");
    int status;

    if (notify_target_each(database_thread_connection(), 0, routes_notify_add_target, array) != 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* notify_target_each callback: count. */
static int routes_notify_count(const struct notify_target *target, void *count)
{
    (void)target;
    (*(int *)count)++;
    return 0;
}

/* Send a target (and a secret shown this once) with status. */
static int routes_notify_send_target(struct http_request *request, int status,
                                     const struct notify_target *target, int show_secret)
{
    cJSON *body = cJSON_CreateObject();
    int code;

    cJSON_AddItemToObject(body, "target",
                          routes_notify_target_json(database_thread_connection(), target));
    if (show_secret)
        cJSON_AddStringToObject(body, "secret", target->secret);
    code = http_send_json(request, status, body);
    cJSON_Delete(body);
    return code;
}

int routes_notify_targets_add(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    cJSON *body = http_read_json(request, ROUTES_NOTIFY_BODY_MAX);
    struct notify_target *target = calloc(1, sizeof(*target));
    char error[NOTIFY_ERROR_MAX];
    int rotated = 0, count = 0, status;

    if (body == NULL) {
        free(target);
        return 400;
    }
    if (target == NULL) {
        status = http_send_error(request, 500, "internal", "out of memory");
        goto out;
    }
    target->actions = 1;
    target->enabled = 1;
    if (notify_target_each(db, 0, routes_notify_count, &count) != 0) {
        status = http_send_error(request, 500, "internal", "database error");
        goto out;
    }
    if (count >= ROUTES_NOTIFY_TARGETS_MAX) {
        status = http_send_error(request, 409, "too_many", "at most 32 notification targets");
        goto out;
    }
    if (routes_notify_apply(db, body, target, 1, &rotated, error, sizeof(error)) != 0) {
        status = http_send_error(request, 400, "invalid", error);
        goto out;
    }
    if (notify_target_insert(db, target) != 0) {
        status = http_send_error(request, 500, "internal", "database error");
        goto out;
    }
    routes_notify_audit(request, db, "notify_target_add", target);
    status = routes_notify_send_target(request, 201, target, target->kind == NOTIFY_KIND_WEBHOOK);
out:
    cJSON_Delete(body);
    if (target != NULL)
        mbedtls_platform_zeroize(target, sizeof(*target));
    free(target);
    return status;
}

/* Load the {id} target into *target (malloc'd, caller frees) or answer 404/500.
 * Returns 0 when loaded, else the status sent. */
static int routes_notify_load(struct http_request *request, struct notify_target **target)
{
    int64_t id = routes_notify_id(request);
    int found;

    *target = calloc(1, sizeof(**target));
    if (*target == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    found = id > 0 ? notify_target_load(database_thread_connection(), id, *target) : 0;
    if (found == 1)
        return 0;
    free(*target);
    *target = NULL;
    if (found < 0)
        return http_send_error(request, 500, "internal", "database error");
    return http_send_error(request, 404, "not_found", "no such notification target");
}

/* Zero and free a loaded target. */
static void routes_notify_free(struct notify_target *target)
{
    if (target != NULL)
        mbedtls_platform_zeroize(target, sizeof(*target));
    free(target);
}

int routes_notify_targets_get(struct http_request *request)
{
    struct notify_target *target;
    cJSON *json;
    int status = routes_notify_load(request, &target);

    if (status != 0)
        return status;
    json = routes_notify_target_json(database_thread_connection(), target);
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    routes_notify_free(target);
    return status;
}

int routes_notify_targets_update(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct notify_target *target;
    cJSON *body;
    char error[NOTIFY_ERROR_MAX];
    int rotated = 0, status = routes_notify_load(request, &target);

    if (status != 0)
        return status;
    body = http_read_json(request, ROUTES_NOTIFY_BODY_MAX);
    if (body == NULL) {
        routes_notify_free(target);
        return 400;
    }
    if (routes_notify_apply(db, body, target, 0, &rotated, error, sizeof(error)) != 0)
        status = http_send_error(request, 400, "invalid", error);
    else if (notify_target_update(db, target) != 1)
        status = http_send_error(request, 500, "internal", "database error");
    else {
        routes_notify_audit(request, db, rotated ? "notify_target_rotate" : "notify_target_change",
                            target);
        status = routes_notify_send_target(request, 200, target, rotated);
    }
    cJSON_Delete(body);
    routes_notify_free(target);
    return status;
}

int routes_notify_targets_delete(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct notify_target *target;
    int status = routes_notify_load(request, &target);

    if (status != 0)
        return status;
    if (notify_target_delete(db, target->id) < 0)
        status = http_send_error(request, 500, "internal", "database error");
    else {
        routes_notify_audit(request, db, "notify_target_delete", target);
        status = http_send_empty(request, 204, NULL);
    }
    routes_notify_free(target);
    return status;
}

int routes_notify_targets_test(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct notify_target *target;
    struct notify_delivery delivery;
    cJSON *body;
    int64_t outbox_id = 0;
    int status = routes_notify_load(request, &target);

    if (status != 0)
        return status;
    if (notify_enqueue_test(db, target->id, &outbox_id) != 1) {
        routes_notify_free(target);
        return http_send_error(request, 500, "internal", "database error");
    }
    notify_wake(request->hub->notify);
    routes_notify_audit(request, db, "notify_target_test", target);
    routes_notify_free(target);
    memset(&delivery, 0, sizeof(delivery));
    body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "delivery_id", (double)outbox_id);
    if (notify_outbox_list(db, 0, NULL, 1, routes_notify_keep_first, &delivery) == 0 &&
        delivery.id == outbox_id)
        cJSON_AddItemToObject(body, "delivery", routes_notify_delivery_json(&delivery));
    status = http_send_json(request, 202, body);
    cJSON_Delete(body);
    return status;
}

/* notify_outbox_list callback: add a delivery to the array. */
static int routes_notify_add_delivery(const struct notify_delivery *delivery, void *array)
{
    cJSON_AddItemToArray(array, routes_notify_delivery_json(delivery));
    return 0;
}

int routes_notify_deliveries(struct http_request *request)
{
    static const char *const states[] = {"",          "pending", "sending",
                                         "delivered", "failed",  "unknown"};
    char state[NOTIFY_STATE_MAX] = "";
    int64_t target_id = 0, limit = 0;
    int known = 0, status;
    cJSON *body, *array;

    if (request->query != NULL &&
        mg_get_var(request->query, strlen(request->query), "state", state, sizeof(state)) == -2)
        state[0] = '?'; /* too long: cannot be a state */
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        known |= strcmp(state, states[i]) == 0;
    if (routes_query_int64(request, "target", 0, &target_id) != 0 ||
        routes_query_int64(request, "limit", ROUTES_NOTIFY_DEFAULT_LIMIT, &limit) != 0 ||
        limit < 1 || limit > ROUTES_NOTIFY_LIMIT_MAX || !known)
        return http_send_error(request, 400, "invalid",
                               "target: a target id; state: pending, sending, delivered, "
                               "failed or unknown; limit: 1..500");
    body = cJSON_CreateObject();
    array = cJSON_AddArrayToObject(body, "deliveries");
    if (notify_outbox_list(database_thread_connection(), target_id, state, (int)limit,
                           routes_notify_add_delivery, array) != 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}
