/*
 * routes_detection.c - GET /api/v1/detection (admin): the person detector's
 * worker pool as it stands (workers, queue, frames taken, analysed, dropped
 * unseen and refused, the workers' busy time) and the rate the hub asks of
 * the doorbells. civetweb worker threads; the pool's counters are read
 * under its own lock (detection_pool_stats).
 */
#define LOG_MODULE "detection"

#include "common/link_protocol.h"
#include "core/hub.h"
#include "detection/detection_pool.h"
#include "http/routes.h"

/* The pool's counters as JSON (caller frees). NULL if out of memory. */
static cJSON *routes_detection_to_json(const struct detection_pool_stats *stats)
{
    cJSON *json = cJSON_CreateObject();

    if (json == NULL)
        return NULL;
    cJSON_AddNumberToObject(json, "detect_fps", LINK_DETECT_FPS);
    cJSON_AddNumberToObject(json, "threads", stats->threads);
    cJSON_AddNumberToObject(json, "queue_frames", stats->queue_frames);
    cJSON_AddNumberToObject(json, "queued", stats->queued);
    cJSON_AddNumberToObject(json, "submitted", (double)stats->submitted);
    cJSON_AddNumberToObject(json, "done", (double)stats->done);
    cJSON_AddNumberToObject(json, "dropped", (double)stats->dropped);
    cJSON_AddNumberToObject(json, "refused", (double)stats->refused);
    cJSON_AddNumberToObject(json, "busy_ms", (double)(stats->busy_us / 1000));
    return json;
}

int routes_detection_get(struct http_request *request)
{
    struct detection_pool_stats stats = {0};
    cJSON *json;
    int code;

    if (request->hub->detection == NULL)
        return http_send_error(request, 503, "unavailable", "person detection is not running");
    detection_pool_stats(request->hub->detection, &stats);
    if ((json = routes_detection_to_json(&stats)) == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    code = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return code;
}
