/*
 * live_server.c - civetweb handlers of the live-view WebSocket (see
 * live_server.h).
 *
 * Threads: civetweb runs connect/ready/data/close for one viewer on that
 * viewer's connection thread; the viewer's sender thread (live_viewer.c)
 * does all writing. The connect handler is the gate for this WebSocket:
 * Host, Origin, session, and the user's right to see this doorbell.
 *
 * Each viewer chooses its own quality (docs/api.md "Live view"): the main
 * stream, the sub-stream, or auto (the page names the stream it prefers for
 * its size; an automatic viewer of main that falls behind moves to sub).
 * Nobody's choice changes what the doorbell encodes for the others or what
 * the hub records: the sub-stream runs while a viewer needs it, and the
 * housekeeping turns it off LIVE_SUB_IDLE_MS after the last one left.
 */
#define LOG_MODULE "live"

#include "http/live_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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
#define LIVE_SUB_IDLE_MS       5000 /* the sub-stream stops this long after its last viewer */
#define LIVE_KEYFRAME_RETRY_MS 1000 /* a viewer still waits for a keyframe: ask again */
#define LIVE_CONTROL_TEXT_MAX  512  /* a viewer's text message */

enum live_quality { LIVE_QUALITY_AUTO, LIVE_QUALITY_MAIN, LIVE_QUALITY_SUB };

/* Per-connection state, owned by the connection's thread; freed on close. */
struct live_session {
    struct hub *hub;
    char device_id[LINK_DEVICE_ID_MAX];
    struct http_auth auth;
    char remote_address[48];
    struct live_stream *stream; /* the doorbell's main stream */
    struct live_stream *sub;    /* ... and its sub-stream */
    struct live_viewer *viewer;
    enum live_quality quality;
    int prefer_sub;            /* auto: the page prefers the sub-stream for its size */
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

/* "auto", "main" or "sub" as a quality; -1 otherwise. */
static int live_server_parse_quality(const char *text)
{
    if (strcmp(text, "auto") == 0)
        return LIVE_QUALITY_AUTO;
    if (strcmp(text, "main") == 0)
        return LIVE_QUALITY_MAIN;
    if (strcmp(text, "sub") == 0)
        return LIVE_QUALITY_SUB;
    return -1;
}

static const char *const live_quality_names[] = {"auto", "main", "sub"};

/* The stream this viewer's choice gives it (1: the sub-stream), why, and
 * whether it falls back to the sub-stream when skipped. */
static int live_server_resolve(const struct live_session *session, int sub_available,
                               const char **reason, int *fall_back)
{
    *fall_back = 0;
    switch (session->quality) {
    case LIVE_QUALITY_MAIN:
        *reason = "chosen";
        return 0;
    case LIVE_QUALITY_SUB:
        *reason = sub_available ? "chosen" : "no_sub_stream";
        return sub_available;
    default:
        if (!sub_available) {
            *reason = "no_sub_stream";
            return 0;
        }
        *reason = "auto";
        *fall_back = !session->prefer_sub;
        return session->prefer_sub;
    }
}

/* A viewer needs the sub-stream: turn it on now if it is off (the first
 * picture must not wait for the housekeeping). */
static void live_server_want_sub(struct hub *hub, const char *device_id)
{
    struct device_entry *entry = device_registry_acquire(hub->registry, device_id, 0);
    struct link_command command;
    int send = 0;

    if (entry == NULL)
        return;
    entry->sub_idle_since_ms = 0;
    if (!entry->sub_on && entry->online && entry->sub_width > 0) {
        entry->sub_on = 1;
        send = 1;
    }
    device_entry_unlock(entry);
    if (!send)
        return;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_STREAM_ON;
    snprintf(command.stream, sizeof(command.stream), "sub");
    log_info("doorbell %s: a viewer needs the sub-stream; starting it", device_id);
    device_registry_send_command(hub->registry, device_id, &command);
}

/* Ask the doorbell for a keyframe (a viewer waits for one). */
static void live_server_request_keyframe(struct hub *hub, const char *device_id)
{
    struct link_command command;
    memset(&command, 0, sizeof(command));
    command.type = LINK_COMMAND_KEYFRAME;
    device_registry_send_command(hub->registry, device_id, &command);
}

/* Connection thread: tell the page what its choice gives it, {"type":
 * "quality", "quality", "stream", "reason", "switching"}; the stream itself
 * changes with the next "init" message. */
static void live_server_answer(struct mg_connection *connection, const struct live_session *session,
                               int to_sub, const char *reason, int switching)
{
    cJSON *json = cJSON_CreateObject();
    char *printed;

    if (json == NULL)
        return;
    cJSON_AddStringToObject(json, "type", "quality");
    cJSON_AddStringToObject(json, "quality", live_quality_names[session->quality]);
    cJSON_AddStringToObject(json, "stream", to_sub ? "sub" : "main");
    cJSON_AddStringToObject(json, "reason", reason);
    cJSON_AddBoolToObject(json, "switching", switching);
    printed = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (printed != NULL)
        mg_websocket_write(connection, MG_WEBSOCKET_OPCODE_TEXT, printed, strlen(printed));
    cJSON_free(printed);
}

/* civetweb: upgrade request. Returns 0 to accept, 1 to refuse (the gate
 * answered 401 without a session, 403 for a doorbell the user may not see).
 * ?quality=auto|main|sub (default auto; anything else reads as auto) and,
 * for auto, ?prefer=sub|main. */
static int live_server_on_connect(const struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    const struct mg_request_info *info = mg_get_request_info(connection);
    struct live_session *session = calloc(1, sizeof(*session));
    char value[16];

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
    if (info->query_string != NULL) {
        size_t length = strlen(info->query_string);
        if (mg_get_var(info->query_string, length, "quality", value, sizeof(value)) > 0 &&
            live_server_parse_quality(value) >= 0)
            session->quality = (enum live_quality)live_server_parse_quality(value);
        if (mg_get_var(info->query_string, length, "prefer", value, sizeof(value)) > 0)
            session->prefer_sub = strcmp(value, "sub") == 0;
    }
    mg_set_user_connection_data(connection, session);
    return 0;
}

/* Attach the new viewer where its choice puts it: on the sub-stream at once
 * when that runs; otherwise on the main stream (its cached GOP is the
 * quickest first picture), moving to the sub-stream at its first keyframe. */
static void live_server_attach(struct live_session *session)
{
    struct device_entry *entry;
    const char *reason;
    int fall_back, to_sub, sub_on = 0, keyframe;

    entry = device_registry_acquire(session->hub->registry, session->device_id, 0);
    if (entry != NULL) {
        sub_on = entry->sub_on;
        device_entry_unlock(entry);
    }
    to_sub = live_server_resolve(session, live_stream_available(session->sub), &reason, &fall_back);
    if (to_sub && sub_on) {
        keyframe = live_stream_attach(session->sub, session->viewer, reason, 0);
    } else {
        keyframe = live_stream_attach(session->stream, session->viewer,
                                      to_sub ? "starting" : reason, fall_back);
        if (to_sub && live_stream_choose(session->sub, session->viewer, reason, 0) ==
                          LIVE_CHOOSE_PENDING_KEYFRAME)
            keyframe = 1;
    }
    if (to_sub)
        live_server_want_sub(session->hub, session->device_id);
    if (keyframe) /* a long GOP cached, or a move: a fresh keyframe is quicker */
        live_server_request_keyframe(session->hub, session->device_id);
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
    session->sub = entry->live_sub;
    live_stream_retain(session->sub);
    device_entry_unlock(entry);

    session->viewer = live_viewer_start(connection, live_server_write, session->device_id);
    if (session->viewer == NULL)
        return;
    /* Pushes may write to this socket themselves when it has room
     * (live_viewer.h, "Direct writes"): no sender wake-up per frame. */
    live_viewer_set_socket(session->viewer, mg_get_connection_socket(connection));
    live_server_attach(session);
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
    log_info("%s watches %s live from %s (%s)", session->auth.user.username, session->device_id,
             session->remote_address, live_quality_names[session->quality]);
}

/* A text message from the viewer: {"quality": "auto"|"main"|"sub", "prefer":
 * "main"|"sub"} (prefer: auto only). Moves the viewer and answers. Anything
 * else is ignored. */
static void live_server_on_text(struct mg_connection *connection, struct live_session *session,
                                const char *data, size_t size)
{
    cJSON *json = size <= LIVE_CONTROL_TEXT_MAX ? cJSON_ParseWithLength(data, size) : NULL;
    const cJSON *quality = cJSON_GetObjectItemCaseSensitive(json, "quality");
    const cJSON *prefer = cJSON_GetObjectItemCaseSensitive(json, "prefer");
    const char *reason;
    int fall_back, to_sub, rc;

    if (!cJSON_IsString(quality) || live_server_parse_quality(quality->valuestring) < 0) {
        cJSON_Delete(json);
        return;
    }
    session->quality = (enum live_quality)live_server_parse_quality(quality->valuestring);
    session->prefer_sub = cJSON_IsString(prefer) && strcmp(prefer->valuestring, "sub") == 0;
    cJSON_Delete(json);

    to_sub = live_server_resolve(session, live_stream_available(session->sub), &reason, &fall_back);
    rc = live_stream_choose(to_sub ? session->sub : session->stream, session->viewer, reason,
                            fall_back);
    if (rc == LIVE_CHOOSE_UNKNOWN)
        return;
    if (to_sub)
        live_server_want_sub(session->hub, session->device_id);
    if (rc == LIVE_CHOOSE_PENDING_KEYFRAME)
        live_server_request_keyframe(session->hub, session->device_id);
    live_server_answer(connection, session, to_sub, reason, rc != LIVE_CHOOSE_THERE);
}

/* civetweb: a frame from the viewer: control frames and quality messages. */
static int live_server_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                               void *callback_data)
{
    struct live_session *session = mg_get_user_connection_data(connection);
    (void)callback_data;
    if ((bits & 0x0f) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (session == NULL || session->viewer == NULL)
        return 0;
    if ((bits & 0x0f) == MG_WEBSOCKET_OPCODE_TEXT && (bits & 0x80))
        live_server_on_text(connection, session, data, size);
    /* Keep the connection while the sender is alive. */
    return !live_viewer_closed(session->viewer);
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
    if (session->sub != NULL)
        live_stream_release(session->sub);
    mg_set_user_connection_data(connection, NULL);
    free(session);
}

void live_server_register(struct hub *hub)
{
    mg_set_websocket_handler(hub->server, "/api/v1/devices/*/live", live_server_on_connect,
                             live_server_on_ready, live_server_on_data, live_server_on_close, hub);
}

/* Send a stream_on/stream_off for "sub" (outside any lock). */
static void live_server_send_sub(struct hub *hub, const char *device_id, int on)
{
    struct link_command command;

    memset(&command, 0, sizeof(command));
    command.type = on ? LINK_COMMAND_STREAM_ON : LINK_COMMAND_STREAM_OFF;
    snprintf(command.stream, sizeof(command.stream), "sub");
    log_info("doorbell %s: %s the sub-stream", device_id,
             on ? "viewers need it again; starting" : "no viewer needs it; stopping");
    device_registry_send_command(hub->registry, device_id, &command);
}

void live_server_manage_streams(struct hub *hub)
{
    char ids[DEVICE_REGISTRY_MAX_DEVICES][LINK_DEVICE_ID_MAX];
    int count = device_registry_connected_ids(hub->registry, ids, DEVICE_REGISTRY_MAX_DEVICES);
    int64_t now = database_now_ms();

    for (int i = 0; i < count; i++) {
        struct device_entry *entry = device_registry_acquire(hub->registry, ids[i], 0);
        int on = 0, off = 0, keyframe;

        if (entry == NULL)
            continue;
        if (entry->sub_width > 0 && live_stream_demand(entry->live_sub) > 0) {
            entry->sub_idle_since_ms = 0;
            on = !entry->sub_on; /* e.g. after a reconnect */
            entry->sub_on = 1;
        } else if (entry->sub_on && entry->sub_idle_since_ms == 0) {
            entry->sub_idle_since_ms = now;
        } else if (entry->sub_on && now - entry->sub_idle_since_ms >= LIVE_SUB_IDLE_MS) {
            entry->sub_on = 0;
            entry->sub_idle_since_ms = 0;
            off = 1;
        }
        keyframe = live_stream_take_keyframe_request(entry->live, LIVE_KEYFRAME_RETRY_MS);
        if (live_stream_take_keyframe_request(entry->live_sub, LIVE_KEYFRAME_RETRY_MS)) {
            /* Viewers still wait for the sub-stream: a stream_off that
             * crossed a viewer's stream_on on the way may have stopped it. */
            keyframe = 1;
            on = entry->sub_on && entry->sub_width > 0;
        }
        device_entry_unlock(entry);
        if (on || off)
            live_server_send_sub(hub, ids[i], on);
        if (keyframe)
            live_server_request_keyframe(hub, ids[i]);
    }
}
