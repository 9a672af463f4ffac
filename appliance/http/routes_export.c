/*
 * routes_export.c - GET /api/v1/devices/{id}/export?from=MS&to=MS: a
 * doorbell's footage of a time range as one standard MP4 download
 * (recording/export.c), with the exact Content-Length, named after the
 * doorbell and the range. Each export is written to the audit log.
 *
 * The router has checked that the user may see the doorbell. Runs on a
 * civetweb worker thread, which stays busy until the whole file is sent;
 * the export plan and the list of segments are this request's and freed before
 * it returns.
 */
#define LOG_MODULE "recording"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/audit.h"
#include "civetweb.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/routes.h"
#include "recording/export.h"
#include "recording/recording_store.h"
#include "storage/database.h"

#define ROUTES_EXPORT_MAX_SEGMENTS 65536 /* rows in one range; 6 h of 1 s segments is 21600 */

/* The segments of the range, as recording_store_list() hands them over. */
struct routes_export_list {
    struct export_segment *segments;
    size_t count, capacity;
    int failed;
};

/* recording_store_list callback: keep one row. Stops (1) when out of room. */
static int routes_export_add(const struct recording_row *row, void *data)
{
    struct routes_export_list *list = data;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity > 0 ? list->capacity * 2 : 64;
        struct export_segment *segments;
        if (capacity > ROUTES_EXPORT_MAX_SEGMENTS ||
            (segments = realloc(list->segments, capacity * sizeof(*segments))) == NULL) {
            list->failed = 1;
            return 1;
        }
        list->segments = segments;
        list->capacity = capacity;
    }
    struct export_segment *segment = &list->segments[list->count++];
    snprintf(segment->path, sizeof(segment->path), "%s", row->path);
    segment->start_ms = row->start_ms;
    segment->bytes = row->bytes > 0 ? (uint64_t)row->bytes : 0;
    return 0;
}

/* export_write() sink: the response body. -1 once the client is gone. */
static int routes_export_send(void *context, const void *data, size_t size)
{
    if (size > INT_MAX)
        return -1;
    return mg_write(context, data, size) == (int)size ? 0 : -1;
}

/* "<device>-YYYYmmdd-HHMMSS-<seconds>s.mp4": the start in UTC and the
 * length rounded to the second. */
static void routes_export_filename(char *out, size_t size, const char *device_id, int64_t from_ms,
                                   int64_t to_ms)
{
    time_t seconds = (time_t)(from_ms / 1000);
    long long length = (to_ms - from_ms + 500) / 1000;
    char start[32] = "";
    struct tm utc;
    if (gmtime_r(&seconds, &utc) != NULL)
        strftime(start, sizeof(start), "%Y%m%d-%H%M%S", &utc);
    snprintf(out, size, "%s-%s-%llds.mp4", device_id, start, length > 0 ? length : 1);
}

int routes_export_download(struct http_request *request)
{
    const char *device_id = request->params[0];
    struct routes_export_list list = {0};
    struct export_plan *plan = NULL;
    char error[256] = "", filename[128], disposition[192], detail[64];
    int64_t from, to, shown_from, shown_to;
    int status;

    if (routes_query_int64(request, "from", -1, &from) != 0 ||
        routes_query_int64(request, "to", -1, &to) != 0 || from < 0 || to <= from)
        return http_send_error(request, 400, "invalid",
                               "from and to are required, ms since the epoch, from before to");
    if (to - from > EXPORT_MAX_MS)
        return http_send_error(request, 400, "too_long", "at most 6 hours at a time");
    if (recording_store_list(database_thread_connection(), device_id, from, to, NULL,
                             routes_export_add, &list) != 0 ||
        list.failed) {
        status = http_send_error(request, 500, "internal", "cannot list the recordings");
        goto out;
    }
    if (list.count == 0 || export_prepare(request->hub->recordings_dir, list.segments, list.count,
                                          from, to, &plan, error, sizeof(error)) != 0) {
        if (list.count == 0 || errno == ENODATA) {
            status = http_send_error(request, 404, "not_found", "no footage in that range");
        } else {
            log_error("doorbell %s: export of [%lld, %lld): %s", device_id, (long long)from,
                      (long long)to, error);
            status = http_send_error(request, 500, "export_failed", error);
        }
        goto out;
    }

    snprintf(detail, sizeof(detail), "from=%lld;to=%lld", (long long)from, (long long)to);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "recording_export", device_id, detail, request->remote_address);
    export_range(plan, &shown_from, &shown_to);
    routes_export_filename(filename, sizeof(filename), device_id, shown_from, shown_to);
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
    http_response_begin(request->connection, 200, "video/mp4", (long long)export_size(plan));
    mg_response_header_add(request->connection, "Content-Disposition", disposition, -1);
    mg_response_header_send(request->connection);
    if (export_write(plan, routes_export_send, request->connection, error, sizeof(error)) != 0) {
        /* The body is cut short: closing is how the client learns it. */
        log_warn("doorbell %s: export %s stopped: %s", device_id, filename, error);
        mg_disable_keep_alive(request->connection);
    }
    status = 200;
out:
    export_free(plan);
    free(list.segments);
    return status;
}
