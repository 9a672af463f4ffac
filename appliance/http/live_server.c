/*
 * live_server.c - civetweb handlers of the live-view WebSocket (see
 * live_server.h).
 *
 * Threads: civetweb runs connect/ready/data/close for one viewer on that
 * viewer's connection thread; the viewer's sender thread (live_viewer.c)
 * does all writing. The connect handler is the gate for this WebSocket:
 * Host, Origin, session, and the user's right to see this doorbell.
 */
#define LOG_MODULE "live"

#include "http/live_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/audit.h"
#include "accounts/authority.h"
#include "civetweb.h"
#include "common/log.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "http/http_gate.h"
#include "live/live_stream.h"
#include "live/live_viewer.h"
#include "replies/reply_sender.h"
#include "storage/database.h"

#define LIVE_SERVER_PATTERN    "/api/v1/devices/{id}/live"
#define LIVE_ADAPT_INTERVAL_MS 20000
#define LIVE_ADAPT_MIN_KBPS    300

/* Per-connection state, owned by the connection's thread; freed on close. */
struct live_session {
    struct hub *hub;
    char device_id[LINK_DEVICE_ID_MAX];
    struct http_auth auth;
    char remote_address[48];
    struct live_stream *stream;
    struct live_viewer *viewer;
    uint64_t authority_handle; /* registered while the viewer runs */
};

/* authority.h close callback: the viewer's sender ends with a 1008 close. */
static void live_server_revoke(void *context, const char *reason)
{
    (void)reason;
    live_viewer_revoke(context);
}

/* The viewer's writer: civetweb serialises writes per connection. */
static int live_server_write(void *connection, int opcode, const void *data, size_t size)
{
    return mg_websocket_write(connection, opcode, data, size);
}

/* civetweb: upgrade request. Returns 0 to accept, 1 to refuse (the gate
 * answered 401 without a session, 403 for a doorbell the user may not see). */
static int live_server_on_connect(const struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    const struct mg_request_info *info = mg_get_request_info(connection);
    struct live_session *session = calloc(1, sizeof(*session));

    if (session == NULL)
        return 1;
    session->hub = hub;
    snprintf(session->remote_address, sizeof(session->remote_address), "%s", info->remote_addr);
    if (http_gate_device_websocket(hub, connection, LIVE_SERVER_PATTERN, HTTP_GATE_SEE_DEVICE,
                                   &session->auth, session->device_id,
                                   sizeof(session->device_id)) != 0) {
        free(session);
        return 1;
    }
    mg_set_user_connection_data(connection, session);
    return 0;
}

/* civetweb: the WebSocket is open. Attach a viewer to the doorbell's stream. */
static void live_server_on_ready(struct mg_connection *connection, void *data)
{
    struct live_session *session = mg_get_user_connection_data(connection);
    struct device_entry *entry;

    (void)data;
    if (session == NULL)
        return;
    entry = device_registry_acquire(session->hub->registry, session->device_id, 1);
    if (entry == NULL)
        return;
    session->stream = entry->live;
    live_stream_retain(session->stream);
    device_entry_unlock(entry);

    session->viewer = live_viewer_start(connection, live_server_write, session->device_id);
    if (session->viewer == NULL)
        return;
    /* Pushes may write to this socket themselves when it has room
     * (live_viewer.h, "Direct writes"): no sender wake-up per frame. */
    live_viewer_set_socket(session->viewer, mg_get_connection_socket(connection));
    if (live_stream_attach(session->stream, session->viewer)) {
        /* A long GOP cached: a fresh keyframe is the quicker first picture. */
        struct link_command command;
        memset(&command, 0, sizeof(command));
        command.type = LINK_COMMAND_KEYFRAME;
        device_registry_send_command(session->hub->registry, session->device_id, &command);
    }
    reply_sender_answered(session->hub, session->device_id); /* no auto-reply: someone looks */
    {
        struct authority_grant grant = {.kind = AUTHORITY_LIVE_VIEW,
                                        .user_id = session->auth.user.id,
                                        .role = session->auth.user.role,
                                        .session_token = session->auth.session_token,
                                        .device_id = session->device_id};
        session->authority_handle = authority_register(session->hub->authority, &grant,
                                                       live_server_revoke, session->viewer);
        if (session->authority_handle == 0) {
            log_warn("cannot watch the authority of a live view; closing it");
            live_viewer_revoke(session->viewer);
            return;
        }
    }
    audit_record(database_thread_connection(), session->auth.user.id, session->auth.user.username,
                 "live_view", session->device_id, "", session->remote_address);
    log_info("%s watches %s live from %s", session->auth.user.username, session->device_id,
             session->remote_address);
}

/* civetweb: a frame from the viewer. Nothing is expected but control frames. */
static int live_server_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                               void *callback_data)
{
    struct live_session *session = mg_get_user_connection_data(connection);
    (void)data, (void)size, (void)callback_data;
    if ((bits & 0x0f) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    /* Keep the connection while the sender is alive. */
    return session != NULL && session->viewer != NULL && !live_viewer_closed(session->viewer);
}

/* civetweb: the viewer is gone. Detach, stop the sender, free. */
static void live_server_on_close(const struct mg_connection *connection, void *data)
{
    struct live_session *session = mg_get_user_connection_data(connection);

    (void)data;
    if (session == NULL)
        return;
    /* First: after this the authority thread no longer touches the viewer. */
    authority_unregister(session->hub->authority, session->authority_handle);
    if (session->viewer != NULL) {
        live_stream_detach(session->stream, session->viewer);
        live_viewer_stop(session->viewer);
    }
    if (session->stream != NULL)
        live_stream_release(session->stream);
    mg_set_user_connection_data(connection, NULL);
    free(session);
}

void live_server_register(struct hub *hub)
{
    mg_set_websocket_handler(hub->server, "/api/v1/devices/*/live", live_server_on_connect,
                             live_server_on_ready, live_server_on_data, live_server_on_close, hub);
}

void live_server_adapt_quality(struct hub *hub)
{
    char ids[DEVICE_REGISTRY_MAX_DEVICES][LINK_DEVICE_ID_MAX];
    int count = device_registry_connected_ids(hub->registry, ids, DEVICE_REGISTRY_MAX_DEVICES);
    int64_t now = database_now_ms();

    for (int i = 0; i < count; i++) {
        struct device_entry *entry = device_registry_acquire(hub->registry, ids[i], 0);
        struct live_stream_stats stats;
        struct link_command command;
        int send = 0;

        if (entry == NULL)
            continue;
        live_stream_get_stats(entry->live, &stats);
        memset(&command, 0, sizeof(command));
        /* A viewer was skipped since we last looked: the link or the viewer
         * cannot keep up. Lower the doorbell's bitrate, at most every 20 s. */
        if (stats.viewer_skips > entry->adapt_seen_skips &&
            now - entry->adapt_last_change_ms > LIVE_ADAPT_INTERVAL_MS &&
            entry->video.bitrate_kbps > LIVE_ADAPT_MIN_KBPS * 1.25) {
            command.type = LINK_COMMAND_SET_VIDEO;
            command.bitrate_kbps = (int)(entry->video.bitrate_kbps * 0.6);
            if (command.bitrate_kbps < LIVE_ADAPT_MIN_KBPS)
                command.bitrate_kbps = LIVE_ADAPT_MIN_KBPS;
            entry->adapt_last_change_ms = now;
            send = 1;
        }
        entry->adapt_seen_skips = stats.viewer_skips;
        device_entry_unlock(entry);
        if (send) {
            log_info("viewers of %s keep falling behind: asking for %d kbit/s", ids[i],
                     command.bitrate_kbps);
            device_registry_send_command(hub->registry, ids[i], &command);
        }
    }
}
