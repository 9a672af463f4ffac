/*
 * routes_recordings.c - /api/v1/devices/{id}/recordings: the recorded
 * segments of a time window, for the timeline. The router has checked that
 * the user may see the doorbell. civetweb worker threads.
 */
#define LOG_MODULE "recording"

#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "http/routes.h"
#include "recording/recording_store.h"
#include "storage/database.h"

#define ROUTES_RECORDINGS_DEFAULT_WINDOW_MS (24LL * 3600 * 1000)

int routes_query_int64(struct http_request *request, const char *name, int64_t fallback,
                       int64_t *out)
{
    char text[32];
    char *end = NULL;
    long long value;

    *out = fallback;
    if (request->query == NULL ||
        mg_get_var(request->query, strlen(request->query), name, text, sizeof(text)) < 0)
        return 0;
    value = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || value < 0)
        return -1;
    *out = value;
    return 0;
}

/* recording_store_list callback: one segment as JSON. */
static int routes_recordings_add(const struct recording_row *row, void *data)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddNumberToObject(item, "start_ms", (double)row->start_ms);
    cJSON_AddNumberToObject(item, "end_ms", (double)row->end_ms);
    cJSON_AddNumberToObject(item, "bytes", (double)row->bytes);
    cJSON_AddNumberToObject(item, "video_frames", (double)row->video_frames);
    cJSON_AddNumberToObject(item, "audio_packets", (double)row->audio_packets);
    cJSON_AddNumberToObject(item, "width", row->width);
    cJSON_AddNumberToObject(item, "height", row->height);
    cJSON_AddBoolToObject(item, "recording", row->open);
    cJSON_AddStringToObject(item, "class", row->is_event ? "event" : "continuous");
    cJSON_AddItemToArray(data, item);
    return 0;
}

int routes_recordings_list(struct http_request *request)
{
    int64_t now = database_now_ms(), from, to;
    cJSON *body, *array;
    int status;

    if (routes_query_int64(request, "to", now, &to) != 0 ||
        routes_query_int64(request, "from", to - ROUTES_RECORDINGS_DEFAULT_WINDOW_MS, &from) != 0 ||
        from > to)
        return http_send_error(request, 400, "invalid", "from and to are ms since the epoch");
    body = cJSON_CreateObject();
    array = cJSON_AddArrayToObject(body, "recordings");
    if (recording_store_list(database_thread_connection(), request->params[0], from, to, NULL,
                             routes_recordings_add, array) != 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}
