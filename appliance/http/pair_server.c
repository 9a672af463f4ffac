/*
 * pair_server.c - the civetweb WebSocket handlers of /pair/v1 (see
 * pair_server.h and docs/protocol.md, "Pairing exchange").
 *
 * A doorbell connects, says PAIR_HELLO and waits (civetweb's pings keep the
 * connection up); it is then listed by GET /api/v1/pairing. Every later
 * frame goes to the exchange an admin started (device_pairing_deliver);
 * a frame nobody asked for closes the connection. Nothing here trusts the
 * doorbell: the HELLO is parsed by the shared bounded parser and the table
 * of waiting doorbells is bounded (DEVICE_PAIRING_MAX_WAITING).
 *
 * Threads: civetweb gives each connection its own thread, which runs these
 * handlers; struct pair_session belongs to it. pair_server_send() is called
 * from the thread of an exchange, under device_pairing's lock.
 */
#define LOG_MODULE "pair"

#include "http/pair_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "common/log.h"
#include "common/pair_protocol.h"
#include "core/hub.h"
#include "devices/device_pairing.h"
#include "storage/database.h"

#define PAIR_SERVER_HELLO_MS 10000 /* PAIR_HELLO must come this soon */

/* Per-connection state; owned by the connection's thread. */
struct pair_session {
    struct hub *hub;
    uint64_t serial; /* in the waiting table; 0 before PAIR_HELLO */
    int64_t opened_at;
    char address[DEVICE_PAIRING_ADDRESS_MAX];
    char url[PAIR_URL_SIZE]; /* wss:// + the Host the doorbell used */
};

int pair_server_send(void *connection, const uint8_t *message, size_t size)
{
    return mg_websocket_write(connection, MG_WEBSOCKET_OPCODE_BINARY, (const char *)message, size) >
                   0
               ? 0
               : -1;
}

/* Send ERROR code/reason; returns 0, the value that closes the connection. */
static int pair_server_refuse(struct mg_connection *connection, struct pair_session *session,
                              const char *code, const char *reason)
{
    struct link_error error;
    uint8_t *message;
    size_t size = 0;
    cJSON *json;

    memset(&error, 0, sizeof(error));
    snprintf(error.code, sizeof(error.code), "%s", code);
    snprintf(error.reason, sizeof(error.reason), "%s", reason);
    json = link_build_error(&error);
    message = json != NULL ? link_message_encode_json(LINK_ERROR, 0, 0, json, 0, &size) : NULL;
    if (message != NULL)
        pair_server_send(connection, message, size);
    free(message);
    cJSON_Delete(json);
    log_warn("closing pairing connection from %s: %s: %s", session->address, code, reason);
    return 0;
}

/* 1 if host is a plausible Host header: [A-Za-z0-9.:[]-], 1..200 bytes. */
static int pair_server_host_valid(const char *host)
{
    size_t length = host != NULL ? strnlen(host, 201) : 0;

    if (length == 0 || length > 200)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = host[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == ':' || c == '[' || c == ']' || c == '-'))
            return 0;
    }
    return 1;
}

/* The address the doorbell used, as a wss:// URL: its Host header, with
 * this server's port when the Host names none (the default port). */
static void pair_server_url(struct pair_session *session, const char *host, int server_port)
{
    const char *bracket = strrchr(host, ']'); /* an IPv6 literal's colons are not a port */

    if (strchr(bracket != NULL ? bracket : host, ':') != NULL)
        snprintf(session->url, sizeof(session->url), "wss://%s", host);
    else
        snprintf(session->url, sizeof(session->url), "wss://%s:%d", host, server_port);
}

/* civetweb: a doorbell asks to upgrade. */
static int pair_server_on_connect(const struct mg_connection *connection, void *data)
{
    const struct mg_request_info *info = mg_get_request_info(connection);
    const char *host = mg_get_header(connection, "Host");
    struct pair_session *session;

    if (!pair_server_host_valid(host))
        return 1;
    session = calloc(1, sizeof(*session));
    if (session == NULL)
        return 1;
    session->hub = data;
    session->opened_at = database_now_ms();
    snprintf(session->address, sizeof(session->address), "%s", info->remote_addr);
    pair_server_url(session, host, info->server_port);
    mg_set_user_connection_data(connection, session);
    return 0;
}

/* PAIR_HELLO: join the waiting table. 1 keeps the connection. */
static int pair_server_on_hello(struct mg_connection *connection, struct pair_session *session,
                                const uint8_t *data, size_t size)
{
    struct link_error link_error;
    struct pair_hello hello;
    char reason[160];
    cJSON *json = NULL;
    int result;

    if (pair_message_decode(data, size, LINK_PAIR_HELLO, &json, &link_error, reason,
                            sizeof(reason)) != 0)
        return pair_server_refuse(connection, session, PAIR_ERROR_CODE_PROTOCOL,
                                  "expected pair_hello");
    result = pair_parse_hello(json, &hello, reason, sizeof(reason));
    cJSON_Delete(json);
    if (result != 0)
        return pair_server_refuse(connection, session, PAIR_ERROR_CODE_PROTOCOL, reason);
    if (device_pairing_arrive(session->hub->pairing, &hello, session->address, session->url,
                              connection, &session->serial) != 0)
        return pair_server_refuse(connection, session, PAIR_ERROR_CODE_BUSY,
                                  "too many doorbells waiting to pair");
    log_info("doorbell %s (%s) waits to pair, from %s", hello.device_id, hello.model,
             session->address);
    return 1;
}

/* civetweb: one frame. 1 keeps the connection, 0 closes it. */
static int pair_server_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                               void *callback_data)
{
    struct pair_session *session = mg_get_user_connection_data(connection);
    int opcode = bits & 0x0f;

    (void)callback_data;
    if (session == NULL || opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    if (opcode != MG_WEBSOCKET_OPCODE_BINARY || !(bits & 0x80))
        return pair_server_refuse(connection, session, PAIR_ERROR_CODE_PROTOCOL,
                                  "pairing messages are single unfragmented binary frames");
    if (session->serial == 0) {
        if (database_now_ms() - session->opened_at > PAIR_SERVER_HELLO_MS)
            return pair_server_refuse(connection, session, PAIR_ERROR_CODE_TIMEOUT,
                                      "pair_hello took longer than 10 s");
        return pair_server_on_hello(connection, session, (const uint8_t *)data, size);
    }
    if (device_pairing_deliver(session->hub->pairing, session->serial, (const uint8_t *)data,
                               size) != 0)
        return pair_server_refuse(connection, session, PAIR_ERROR_CODE_PROTOCOL,
                                  "unexpected message");
    return 1;
}

/* civetweb: the connection is gone; forget the waiting doorbell. */
static void pair_server_on_close(const struct mg_connection *connection, void *callback_data)
{
    struct pair_session *session = mg_get_user_connection_data(connection);

    (void)callback_data;
    if (session == NULL)
        return;
    if (session->serial != 0)
        device_pairing_leave(session->hub->pairing, session->serial);
    free(session);
    mg_set_user_connection_data(connection, NULL);
}

void pair_server_register(struct hub *hub)
{
    mg_set_websocket_handler(hub->server, PAIR_WEBSOCKET_PATH, pair_server_on_connect, NULL,
                             pair_server_on_data, pair_server_on_close, hub);
}
