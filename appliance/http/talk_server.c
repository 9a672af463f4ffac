/*
 * talk_server.c - civetweb handlers of the talk WebSocket (see
 * talk_server.h): the gate, the client's JSON requests and binary talk
 * packets handed to the talk domain (talk/talk_floor.h).
 *
 * Threads: civetweb runs connect/ready/data/close for one socket on that
 * socket's connection thread; the authority thread runs the revoke
 * callback. The connect handler is the gate: Host, Origin, session, the
 * right to see this doorbell and the talk right on it. The session struct
 * is owned by the connection and freed on close; `closing` is atomic.
 */
#define LOG_MODULE "talk"

#include "http/talk_server.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authority.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/http_gate.h"
#include "talk/talk_floor.h"
#include "talk/talk_packet.h"

#define TALK_SERVER_PATTERN  "/api/v1/devices/{id}/talk"
#define TALK_SERVER_JSON_MAX 1024

/* Per-connection state, owned by the connection's thread; freed on close. */
struct talk_session {
    struct hub *hub;
    struct mg_connection *connection;
    char device_id[LINK_DEVICE_ID_MAX];
    struct http_auth auth;
    char remote_address[48];
    struct talk_member *member;
    uint64_t authority_handle; /* registered while the socket is open */
    atomic_bool closing;       /* revoked: the next frame ends the connection */
};

/* talk_floor's writer: one text frame (civetweb serialises writes). */
static int talk_server_send(void *connection, const char *text, size_t size)
{
    return mg_websocket_write(connection, MG_WEBSOCKET_OPCODE_TEXT, text, size);
}

/* authority.h close callback (authority thread): the talker loses the
 * floor at once and the socket gets a 1008 close. */
static void talk_server_revoke(void *context, const char *reason)
{
    struct talk_session *session = context;
    char payload[2 + sizeof(AUTHORITY_CLOSE_REASON)];

    log_info("closing the talk socket of %s on %s: %s", session->auth.user.username,
             session->device_id, reason);
    atomic_store(&session->closing, true);
    talk_revoke(session->member);
    payload[0] = (char)((AUTHORITY_CLOSE_CODE >> 8) & 0xff);
    payload[1] = (char)(AUTHORITY_CLOSE_CODE & 0xff);
    memcpy(payload + 2, AUTHORITY_CLOSE_REASON, sizeof(AUTHORITY_CLOSE_REASON) - 1);
    mg_websocket_write(session->connection, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload,
                       sizeof(payload) - 1);
}

/* civetweb: upgrade request. Returns 0 to accept, 1 to refuse (the gate
 * answered 401 without a session, 403 without the talk right). */
static int talk_server_on_connect(const struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    const struct mg_request_info *info = mg_get_request_info(connection);
    struct talk_session *session = calloc(1, sizeof(*session));

    if (session == NULL)
        return 1;
    session->hub = hub;
    snprintf(session->remote_address, sizeof(session->remote_address), "%s", info->remote_addr);
    if (http_gate_device_websocket(hub, connection, TALK_SERVER_PATTERN, HTTP_GATE_TALK_TO_DEVICE,
                                   &session->auth, session->device_id,
                                   sizeof(session->device_id)) != 0) {
        free(session);
        return 1;
    }
    mg_set_user_connection_data(connection, session);
    return 0;
}

/* civetweb: the WebSocket is open. Join the doorbell's talk floor. */
static void talk_server_on_ready(struct mg_connection *connection, void *data)
{
    struct talk_session *session = mg_get_user_connection_data(connection);
    struct talk_identity who;
    struct authority_grant grant;

    (void)data;
    if (session == NULL)
        return;
    session->connection = connection;
    who = (struct talk_identity){.user_id = session->auth.user.id,
                                 .username = session->auth.user.username,
                                 .admin = users_is_admin(&session->auth.user),
                                 .remote_address = session->remote_address};
    session->member =
        talk_join(session->hub->talk, session->device_id, &who, talk_server_send, connection);
    if (session->member == NULL) {
        log_warn("cannot open a talk socket on %s; closing it", session->device_id);
        atomic_store(&session->closing, true);
        return;
    }
    grant = (struct authority_grant){.kind = AUTHORITY_TALK,
                                     .user_id = session->auth.user.id,
                                     .role = session->auth.user.role,
                                     .session_token = session->auth.session_token,
                                     .device_id = session->device_id};
    session->authority_handle =
        authority_register(session->hub->authority, &grant, talk_server_revoke, session);
    if (session->authority_handle == 0) {
        log_warn("cannot watch the authority of a talk socket; closing it");
        atomic_store(&session->closing, true);
        return;
    }
    log_info("%s opened a talk socket on %s from %s", session->auth.user.username,
             session->device_id, session->remote_address);
}

/* A text frame: {"type":"start","codec","takeover"} or {"type":"stop"}. */
static void talk_server_on_text(struct talk_session *session, const char *data, size_t size)
{
    cJSON *json = size <= TALK_SERVER_JSON_MAX ? cJSON_ParseWithLength(data, size) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    const cJSON *codec = cJSON_GetObjectItemCaseSensitive(json, "codec");
    const cJSON *takeover = cJSON_GetObjectItemCaseSensitive(json, "takeover");

    if (!cJSON_IsObject(json) || !cJSON_IsString(type)) {
        talk_send_error(session->member, "bad_request", "a JSON object with a type is expected");
    } else if (strcmp(type->valuestring, "start") == 0) {
        if ((codec != NULL && !cJSON_IsString(codec)) ||
            (takeover != NULL && !cJSON_IsBool(takeover)))
            talk_send_error(session->member, "bad_request",
                            "start takes codec (\"opus\" or \"pcm16\") and takeover (a boolean)");
        else
            talk_start(session->member,
                       codec != NULL ? talk_codec_from_name(codec->valuestring) : TALK_CODEC_OPUS,
                       cJSON_IsTrue(takeover));
    } else if (strcmp(type->valuestring, "stop") == 0) {
        talk_stop(session->member);
    } else {
        talk_send_error(session->member, "bad_request", "type is \"start\" or \"stop\"");
    }
    cJSON_Delete(json);
}

/* civetweb: a frame from the client. Returns 0 to close the connection. */
static int talk_server_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                               void *callback_data)
{
    struct talk_session *session = mg_get_user_connection_data(connection);
    int opcode = bits & 0x0f;

    (void)callback_data;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE || session == NULL ||
        session->member == NULL || atomic_load(&session->closing))
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_TEXT)
        talk_server_on_text(session, data, size);
    else if (opcode == MG_WEBSOCKET_OPCODE_BINARY)
        talk_submit(session->member, (const uint8_t *)data, size);
    return !atomic_load(&session->closing);
}

/* civetweb: the socket is gone. The floor is given back (audited), free. */
static void talk_server_on_close(const struct mg_connection *connection, void *data)
{
    struct talk_session *session = mg_get_user_connection_data(connection);

    (void)data;
    if (session == NULL)
        return;
    /* First: after this the authority thread no longer touches the session. */
    authority_unregister(session->hub->authority, session->authority_handle);
    talk_leave(session->member);
    mg_set_user_connection_data(connection, NULL);
    free(session);
}

void talk_server_register(struct hub *hub)
{
    mg_set_websocket_handler(hub->server, "/api/v1/devices/*/talk", talk_server_on_connect,
                             talk_server_on_ready, talk_server_on_data, talk_server_on_close, hub);
}
