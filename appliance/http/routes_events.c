/*
 * routes_events.c - /api/v1/devices/{id}/events: a doorbell's events of a
 * time window (filtered by type and star, paginated), one event, its
 * snapshot, and starring (which protects its footage from retention); and
 * what notifies: the hub's mode (/api/v1/mode) and each doorbell's
 * cooldowns and motion schedule (/api/v1/devices/{id}/event-settings).
 * The router has checked that the user may see the doorbell. civetweb
 * worker threads.
 */
#define LOG_MODULE "events"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/audit.h"
#include "civetweb.h"
#include "events/event_engine.h"
#include "events/event_store.h"
#include "events/weekly_schedule.h"
#include "http/routes.h"
#include "replies/reply_sender.h"
#include "storage/database.h"

#define ROUTES_EVENTS_DEFAULT_WINDOW_MS (7LL * 24 * 3600 * 1000)
#define ROUTES_EVENTS_DEFAULT_LIMIT     50

/* event_store_list callback: append to the array. */
static int routes_events_add(const struct event_row *row, void *array)
{
    cJSON_AddItemToArray(array, event_store_json(row));
    return 0;
}

/* The "type" query parameter: comma-separated names, split in place into
 * query->types. 0, or -1 if there are too many or one is not a plain name. */
static int routes_events_types(char *list, struct event_query *query)
{
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
        if (query->type_count == EVENT_QUERY_TYPES || strlen(name) >= EVENT_TYPE_MAX ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name))
            return -1;
        query->types[query->type_count++] = name;
    }
    return 0;
}

/* A time given as ms since the epoch (name_ms) or, as the seed design has
 * it, ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (iso_name). *out keeps
 * fallback when neither is there. 0, or -1 when malformed. */
static int routes_events_time(struct http_request *request, const char *name_ms,
                              const char *iso_name, int64_t fallback, int64_t *out)
{
    char text[40], *rest;
    struct tm utc;
    int milliseconds = 0;

    if (routes_query_int64(request, name_ms, fallback, out) != 0)
        return -1;
    if (request->query == NULL ||
        mg_get_var(request->query, strlen(request->query), iso_name, text, sizeof(text)) < 0)
        return 0;
    memset(&utc, 0, sizeof(utc));
    rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &utc);
    if (rest == NULL)
        return -1;
    if (rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
        rest[3] >= '0' && rest[3] <= '9') {
        milliseconds = (rest[1] - '0') * 100 + (rest[2] - '0') * 10 + (rest[3] - '0');
        rest += 4;
    }
    if (strcmp(rest, "Z") != 0)
        return -1;
    *out = (int64_t)timegm(&utc) * 1000 + milliseconds;
    return *out >= 0 ? 0 : -1;
}

int routes_events_list(struct http_request *request)
{
    struct event_query query = {.device_id = request->params[0]};
    int64_t now = database_now_ms(), limit, offset, starred, total = 0;
    char types[256] = "";
    cJSON *body = NULL, *array, *page;
    int status;

    if (routes_events_time(request, "to", "end_time", now + 1, &query.to_ms) != 0 ||
        routes_events_time(request, "from", "start_time",
                           query.to_ms - ROUTES_EVENTS_DEFAULT_WINDOW_MS, &query.from_ms) != 0 ||
        routes_query_int64(request, "limit", ROUTES_EVENTS_DEFAULT_LIMIT, &limit) != 0 ||
        routes_query_int64(request, "offset", 0, &offset) != 0 ||
        routes_query_int64(request, "starred", 0, &starred) != 0 || query.from_ms > query.to_ms ||
        limit < 1 || limit > EVENT_LIST_MAX || offset > 1000000 || starred > 1)
        return http_send_error(request, 400, "invalid",
                               "from/to are ms since the epoch (or start_time/end_time in ISO "
                               "8601 UTC), limit 1..500, starred 0 or 1");
    if (request->query != NULL &&
        (mg_get_var(request->query, strlen(request->query), "type", types, sizeof(types)) >= 0 ||
         mg_get_var(request->query, strlen(request->query), "event_type", types, sizeof(types)) >=
             0) &&
        routes_events_types(types, &query) != 0)
        return http_send_error(request, 400, "invalid", "type: up to 8 comma-separated names");
    query.limit = (int)limit;
    query.offset = (int)offset;
    query.starred_only = (int)starred;

    body = cJSON_CreateObject();
    array = cJSON_AddArrayToObject(body, "events");
    if (event_store_list(database_thread_connection(), &query, routes_events_add, array, &total) !=
        0) {
        status = http_send_error(request, 500, "internal", "database error");
        goto out;
    }
    page = cJSON_AddObjectToObject(body, "pagination");
    cJSON_AddNumberToObject(page, "total", (double)total);
    cJSON_AddNumberToObject(page, "limit", (double)limit);
    cJSON_AddNumberToObject(page, "offset", (double)offset);
    cJSON_AddBoolToObject(page, "has_more", offset + cJSON_GetArraySize(array) < total);
    status = http_send_json(request, 200, body);
out:
    cJSON_Delete(body);
    return status;
}

/* The {event} route parameter as an id; 0 if it is not one. */
static int64_t routes_events_id(const struct http_request *request)
{
    char *end = NULL;
    long long id = strtoll(request->params[1], &end, 10);
    return request->params[1][0] != '\0' && *end == '\0' && id > 0 ? id : 0;
}

/* Send one event (after a lookup or a change). */
static int routes_events_send(struct http_request *request, int64_t id)
{
    struct event_row row;
    cJSON *json;
    int status,
        found = id > 0 ? event_store_get(database_thread_connection(), request->params[0], id, &row)
                       : 0;
    if (found < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (found == 0)
        return http_send_error(request, 404, "not_found", "no such event");
    json = event_store_json(&row);
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

int routes_events_get(struct http_request *request)
{
    return routes_events_send(request, routes_events_id(request));
}

int routes_events_snapshot(struct http_request *request)
{
    uint8_t *jpeg = NULL;
    size_t size = 0;
    int64_t id = routes_events_id(request);
    int status, found = id > 0 ? event_store_snapshot(database_thread_connection(),
                                                      request->params[0], id, &jpeg, &size)
                               : 0;
    if (found < 0)
        status = http_send_error(request, 500, "internal", "database error");
    else if (found == 0)
        status = http_send_error(request, 404, "not_found", "no snapshot for this event");
    else
        status = http_send_bytes(request, 200, "image/jpeg", jpeg, size);
    free(jpeg);
    return status;
}

int routes_events_star(struct http_request *request)
{
    cJSON *body = http_read_json(request, 1024);
    const cJSON *starred;
    int64_t id = routes_events_id(request);
    int done;
    char detail[64];

    if (body == NULL)
        return 400;
    starred = cJSON_GetObjectItemCaseSensitive(body, "starred");
    if (!cJSON_IsBool(starred)) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", "body: {\"starred\": true|false}");
    }
    done = id > 0 ? event_store_set_starred(database_thread_connection(), request->params[0], id,
                                            cJSON_IsTrue(starred))
                  : 0;
    if (done == 1) {
        snprintf(detail, sizeof(detail), "event %lld %s", (long long)id,
                 cJSON_IsTrue(starred) ? "starred" : "unstarred");
        audit_record(database_thread_connection(), request->auth.user.id,
                     request->auth.user.username, "event_star", request->params[0], detail,
                     request->remote_address);
    }
    cJSON_Delete(body);
    if (done < 0)
        return http_send_error(request, 500, "internal", "database error");
    return routes_events_send(request, done == 1 ? id : 0);
}

/* ---- what notifies: the mode and the cooldowns ------------------------------- */

/* The event types a cooldown can be set for (docs/api.md). */
static const char *const routes_events_cooldown_types[] = {
    "ring", "motion", "pir", "person", "package", "tamper", "offline", "online", "low_battery"};

int routes_events_mode_get(struct http_request *request)
{
    char mode[EVENT_MODE_MAX];
    cJSON *body;
    int status;

    if (event_engine_get_mode(database_thread_connection(), mode, sizeof(mode)) != 0)
        return http_send_error(request, 500, "internal", "database error");
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "mode", mode);
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

int routes_events_mode_put(struct http_request *request)
{
    cJSON *body = http_read_json(request, 1024);
    const cJSON *mode;
    sqlite3 *db = database_thread_connection();

    if (body == NULL)
        return 400;
    mode = cJSON_GetObjectItemCaseSensitive(body, "mode");
    if (!cJSON_IsString(mode) || event_engine_set_mode(db, mode->valuestring) != 0) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", "mode: home, away or disarmed");
    }
    audit_record(db, request->auth.user.id, request->auth.user.username, "mode_change", "",
                 mode->valuestring, request->remote_address);
    reply_sender_sync_all(request->hub, db); /* each mode has its own auto-reply */
    cJSON_Delete(body);
    return routes_events_mode_get(request);
}

int routes_events_settings_get(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject(), *cooldowns = cJSON_AddObjectToObject(body, "cooldowns");
    sqlite3 *db = database_thread_connection();
    int status = 0;

    for (size_t i = 0; i < sizeof(routes_events_cooldown_types) / sizeof(char *); i++) {
        int seconds;
        if (event_engine_cooldown(db, request->params[0], routes_events_cooldown_types[i],
                                  &seconds) != 0) {
            status = http_send_error(request, 500, "internal", "database error");
            break;
        }
        cJSON_AddNumberToObject(cooldowns, routes_events_cooldown_types[i], seconds);
    }
    if (status == 0) {
        struct weekly_schedule schedule;
        char text[128];
        if (event_engine_motion_schedule(db, request->params[0], &schedule) != 0) {
            status = http_send_error(request, 500, "internal", "database error");
        } else {
            weekly_schedule_format(&schedule, text, sizeof(text));
            cJSON_AddItemToObject(body, "motion_schedule",
                                  schedule.set ? cJSON_Parse(text) : cJSON_CreateNull());
            status = http_send_json(request, 200, body);
        }
    }
    cJSON_Delete(body);
    return status;
}

/* Is name one of the cooldown types? */
static int routes_events_known_type(const char *name)
{
    for (size_t i = 0; i < sizeof(routes_events_cooldown_types) / sizeof(char *); i++)
        if (strcmp(name, routes_events_cooldown_types[i]) == 0)
            return 1;
    return 0;
}

int routes_events_settings_put(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const cJSON *cooldowns, *schedule_item, *item;
    struct weekly_schedule schedule = {0};
    sqlite3 *db = database_thread_connection();
    char error[256], *text = NULL;
    int status = 0;

    if (body == NULL)
        return 400;
    cooldowns = cJSON_GetObjectItemCaseSensitive(body, "cooldowns");
    schedule_item = cJSON_GetObjectItemCaseSensitive(body, "motion_schedule");
    /* All or nothing: check every member before changing any. */
    if ((cooldowns == NULL && schedule_item == NULL) ||
        (cooldowns != NULL && !cJSON_IsObject(cooldowns))) {
        status = http_send_error(request, 400, "invalid",
                                 "body: {\"cooldowns\": {...}, \"motion_schedule\": {...}|null}");
        goto out;
    }
    cJSON_ArrayForEach(item, cooldowns)
    {
        if (!routes_events_known_type(item->string) || !cJSON_IsNumber(item) ||
            item->valuedouble < 0 || item->valuedouble > 86400 ||
            item->valuedouble != (double)(int)item->valuedouble) {
            status = http_send_error(request, 400, "invalid",
                                     "cooldowns: {type: seconds 0..86400} for known event types");
            goto out;
        }
    }
    if (schedule_item != NULL && !cJSON_IsNull(schedule_item)) {
        text = cJSON_PrintUnformatted(schedule_item);
        if (text == NULL || weekly_schedule_parse(text, &schedule, error, sizeof(error)) != 0 ||
            !schedule.set) {
            status =
                http_send_error(request, 400, "invalid", text == NULL ? "motion_schedule" : error);
            goto out;
        }
    }
    cJSON_ArrayForEach(item, cooldowns)
    {
        if (event_engine_set_cooldown(db, request->params[0], item->string,
                                      (int)item->valuedouble) != 0) {
            status = http_send_error(request, 500, "internal", "database error");
            goto out;
        }
    }
    if (schedule_item != NULL &&
        event_engine_set_motion_schedule(db, request->params[0], &schedule) != 0) {
        status = http_send_error(request, 500, "internal", "database error");
        goto out;
    }
    audit_record(db, request->auth.user.id, request->auth.user.username, "event_settings",
                 request->params[0],
                 schedule_item != NULL ? "cooldowns, motion schedule" : "cooldowns",
                 request->remote_address);
out:
    cJSON_free(text);
    cJSON_Delete(body);
    return status != 0 ? status : routes_events_settings_get(request);
}
