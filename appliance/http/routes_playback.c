/*
 * routes_playback.c - GET /api/v1/devices/{id}/playback?from=MS[&to=MS]:
 * a doorbell's recordings from any instant as one streamed fragmented MP4
 * for a Media Source Extensions player (recording/playback.c makes the
 * stream). The router has checked that the user may see the doorbell.
 *
 * The response has no Content-Length: HTTP/1.1 chunks (or, for HTTP/1.0,
 * the body up to the closing of the connection). mg_write() blocks while
 * the client does not read, and that is the flow control: a player paces
 * itself by reading only as far ahead as it wants to buffer. Speed (x2, x4,
 * x8) is the player's playbackRate; the stream does not change with it.
 *
 * Threads: each stream holds its civetweb worker thread for its lifetime,
 * so at most a quarter of the worker threads may stream at once (503
 * beyond that), leaving the rest for the API and live view.
 */
#define LOG_MODULE "http"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "accounts/audit.h"
#include "accounts/authority.h"
#include "civetweb.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/routes.h"
#include "recording/playback.h"
#include "storage/database.h"

#define ROUTES_PLAYBACK_MAX_MS (INT64_MAX / 1000)

static atomic_int routes_playback_streams; /* streams running now, all doorbells */

/* How the body is framed on this connection. */
struct routes_playback_output {
    struct mg_connection *connection;
    int chunked;
    atomic_int revoked; /* set by the authority thread: stop writing */
};

/* authority.h close callback: the stream ends at its next write or poll
 * (PLAYBACK_POLL_MS at the live edge), whichever comes first. */
static void routes_playback_revoke(void *context, const char *reason)
{
    struct routes_playback_output *output = context;
    (void)reason;
    atomic_store(&output->revoked, 1);
}

/* playback_write_callback: one piece of the body. -1 once the client is gone
 * (mg_write fails on a closed socket, or after request_timeout_ms without
 * the client reading). */
static int routes_playback_write(void *context, const uint8_t *data, size_t size)
{
    struct routes_playback_output *output = context;

    if (atomic_load(&output->revoked))
        return -1;
    if (output->chunked)
        return mg_send_chunk(output->connection, (const char *)data, (unsigned int)size) > 0 ? 0
                                                                                             : -1;
    return mg_write(output->connection, data, size) == (int)size ? 0 : -1;
}

int routes_playback_stream(struct http_request *request)
{
    const struct mg_request_info *info = mg_get_request_info(request->connection);
    struct routes_playback_output output = {.connection = request->connection};
    struct playback_request wanted = {.recordings_dir = request->hub->recordings_dir,
                                      .device_id = request->params[0],
                                      .running = &request->hub->ready,
                                      .cancelled = &output.revoked};
    struct playback *playback = NULL;
    struct playback_stats stats;
    enum playback_end end;
    char header[32], detail[64];
    int limit = request->hub->config.http_threads / 4, opened, status;
    int64_t to_ms;
    struct authority_grant grant;
    uint64_t authority_handle;
    sqlite3 *db = database_thread_connection();

    /* Absent is -1 (values are never negative); far future instants are
     * refused so that decode-time arithmetic cannot overflow. */
    if (routes_query_int64(request, "from", -1, &wanted.from_ms) != 0 || wanted.from_ms < 0 ||
        wanted.from_ms >= ROUTES_PLAYBACK_MAX_MS ||
        routes_query_int64(request, "to", -1, &to_ms) != 0 ||
        (to_ms >= 0 && to_ms <= wanted.from_ms))
        return http_send_error(request, 400, "invalid",
                               "from (and optional to, after it) are ms since the epoch");
    wanted.to_ms = to_ms >= 0 ? to_ms : 0;
    if (db == NULL)
        return http_send_error(request, 500, "internal", "database error");
    if (atomic_fetch_add(&routes_playback_streams, 1) >= (limit > 0 ? limit : 1)) {
        status = http_send_error(request, 503, "busy", "too many playbacks at once");
        goto out;
    }
    opened = playback_open(db, &wanted, &playback);
    if (opened == PLAYBACK_OPEN_NOT_FOUND) {
        status = http_send_error(request, 404, "not_found", "no footage at or after that instant");
        goto out;
    }
    if (opened != PLAYBACK_OPEN_OK) {
        status = http_send_error(request, 500, "internal", "the recording cannot be read");
        goto out;
    }
    output.chunked = info->http_version != NULL && strcmp(info->http_version, "1.1") == 0;
    http_response_begin(request->connection, 200, playback_mime(playback), -1);
    snprintf(header, sizeof(header), "%" PRId64, playback_start_ms(playback));
    mg_response_header_add(request->connection, "X-Playback-Start-Ms", header, -1);
    if (output.chunked)
        mg_response_header_add(request->connection, "Transfer-Encoding", "chunked", -1);
    else
        mg_disable_connection_keep_alive(request->connection); /* the close ends the body */
    mg_response_header_send(request->connection);
    status = 200;
    if (strcmp(request->method, "HEAD") == 0)
        goto out;
    if (wanted.to_ms > 0)
        snprintf(detail, sizeof(detail), "from=%" PRId64 ";to=%" PRId64, wanted.from_ms,
                 wanted.to_ms);
    else
        snprintf(detail, sizeof(detail), "from=%" PRId64, wanted.from_ms);
    audit_record(db, request->auth.user.id, request->auth.user.username, "recording_play",
                 request->params[0], detail, request->remote_address);

    grant = (struct authority_grant){.kind = AUTHORITY_PLAYBACK,
                                     .user_id = request->auth.user.id,
                                     .role = request->auth.user.role,
                                     .session_token = request->auth.session_token,
                                     .device_id = request->params[0]};
    authority_handle =
        authority_register(request->hub->authority, &grant, routes_playback_revoke, &output);
    if (authority_handle == 0)
        atomic_store(&output.revoked, 1);
    end = playback_run(playback, db, routes_playback_write, &output);
    authority_unregister(request->hub->authority, authority_handle);
    if (end == PLAYBACK_END_DONE || end == PLAYBACK_END_IDLE) {
        if (output.chunked)
            mg_send_chunk(request->connection, "", 0); /* the last chunk: a whole body */
    } else {
        /* No last chunk: the client sees a cut body, and the connection goes. */
        mg_disable_connection_keep_alive(request->connection);
    }
    playback_get_stats(playback, &stats);
    log_debug("playback of %s from %" PRId64 " ended (%s): %" PRIu64 " bytes, %" PRIu64
              " video and %" PRIu64 " audio fragments from %" PRIu64 " files",
              request->params[0], wanted.from_ms,
              end == PLAYBACK_END_DONE      ? "done"
              : end == PLAYBACK_END_IDLE    ? "idle"
              : end == PLAYBACK_END_CLIENT  ? "client gone"
              : end == PLAYBACK_END_STOPPED ? "stopped: shutdown or access withdrawn"
                                            : "error",
              stats.bytes, stats.video_fragments, stats.audio_fragments, stats.files);
out:
    playback_close(playback);
    atomic_fetch_sub(&routes_playback_streams, 1);
    return status;
}
