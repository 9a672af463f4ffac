/*
 * routes_previews.c - GET /api/v1/devices/{id}/preview.jpg?at=MS: the
 * timeline preview of a doorbell nearest at or before `at` (within the
 * preview interval plus slack) inside its recorded footage
 * (recording/preview_store.h), for the recordings page's scrubber.
 *
 * Runs on civetweb worker threads after the gate, which has checked the
 * session and the doorbell grant (HTTP_ROUTE_DEVICE). Owns nothing past
 * the request: the JPEG read from disk is freed before returning.
 */
#define LOG_MODULE "http"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "common/link_protocol.h"
#include "core/hub.h"
#include "http/routes.h"
#include "recording/preview_store.h"
#include "storage/database.h"

/* A preview never changes once stored; the browser may keep it a while
 * (private: it is one user's view of one doorbell). */
#define ROUTES_PREVIEW_CACHE     "private, max-age=3600"
#define ROUTES_PREVIEW_WINDOW_MS (LINK_PREVIEW_INTERVAL_MS + PREVIEW_STORE_SLACK_MS)

/* Send the JPEG with its capture time in X-Preview-Time (ms since the epoch). */
static int routes_previews_send(struct http_request *request, const struct preview_image *image)
{
    char length[32], time[32];

    snprintf(length, sizeof(length), "%zu", image->size);
    snprintf(time, sizeof(time), "%lld", (long long)image->capture_ms);
    mg_response_header_start(request->connection, 200);
    mg_response_header_add_lines(request->connection, http_security_headers);
    mg_response_header_add(request->connection, "Cache-Control", ROUTES_PREVIEW_CACHE, -1);
    mg_response_header_add(request->connection, "Content-Type", "image/jpeg", -1);
    mg_response_header_add(request->connection, "Content-Length", length, -1);
    mg_response_header_add(request->connection, "X-Preview-Time", time, -1);
    mg_response_header_send(request->connection);
    if (strcmp(request->method, "HEAD") != 0)
        mg_write(request->connection, image->jpeg, image->size);
    return 200;
}

int routes_previews_get(struct http_request *request)
{
    struct preview_image image;
    int64_t at = -1;
    int found, status;
    sqlite3 *db = database_thread_connection();

    if (routes_query_int64(request, "at", -1, &at) != 0 || at <= 0)
        return http_send_error(request, 400, "bad_request", "at must be a time in ms");
    if (db == NULL)
        return http_send_error(request, 503, "unavailable", "the database is not available");
    found = preview_store_find(db, request->hub->recordings_dir, request->params[0], at,
                               ROUTES_PREVIEW_WINDOW_MS, &image);
    if (found < 0)
        return http_send_error(request, 500, "internal", "cannot read the previews");
    if (found == 0)
        return http_send_error(request, 404, "not_found", "no preview for this time");
    status = routes_previews_send(request, &image);
    free(image.jpeg);
    return status;
}
