/*
 * http_gate.c - Host, Origin, session and CSRF checks (see http_gate.h).
 */
#define LOG_MODULE "http"

#include "http/http_gate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "accounts/sessions.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/log.h"
#include "core/hub.h"
#include "devices/device_store.h"
#include "http/http_parse.h"
#include "storage/database.h"

int http_gate_host_allowed(const struct hub *hub, const struct mg_connection *connection)
{
    const char *host = mg_get_header(connection, "Host");
    char name[CERTIFICATE_NAME_MAX];

    if (host == NULL || http_parse_host_name(host, name, sizeof(name)) != 0)
        return 0;
    for (int i = 0; i < hub->certificate.name_count; i++)
        if (strcasecmp(name, hub->certificate.names[i]) == 0)
            return 1;
    for (int i = 0; i < hub->config.allowed_host_count; i++)
        if (strcasecmp(name, hub->config.allowed_hosts[i]) == 0)
            return 1;
    if (hub->config.public_host[0] != '\0' && strcasecmp(name, hub->config.public_host) == 0)
        return 1;
    return 0;
}

int http_gate_same_origin(const struct mg_connection *connection)
{
    const char *origin = mg_get_header(connection, "Origin");
    const char *host = mg_get_header(connection, "Host");
    const char *fetch_site = mg_get_header(connection, "Sec-Fetch-Site");

    if (origin != NULL) {
        /* Exactly "https://" + Host: scheme, name and port must all match. */
        return host != NULL && strncmp(origin, "https://", 8) == 0 &&
               strcasecmp(origin + 8, host) == 0;
    }
    return fetch_site != NULL && strcmp(fetch_site, "same-origin") == 0;
}

/* Look up a session cookie; fill auth if it names a live session. */
static void http_gate_resolve(const struct mg_connection *connection, struct http_auth *auth)
{
    char token[sizeof(auth->session_token)];
    struct session session;
    sqlite3 *db;

    memset(auth, 0, sizeof(*auth));
    if (http_get_cookie((struct mg_connection *)connection, HTTP_SESSION_COOKIE, token,
                        sizeof(token)) != 0)
        return;
    db = database_thread_connection();
    if (db == NULL || session_lookup(db, token, database_now_ms(), &session) != SESSION_OK)
        return;
    auth->authenticated = 1;
    auth->user = session.user;
    snprintf(auth->csrf_token, sizeof(auth->csrf_token), "%s", session.csrf_token);
    snprintf(auth->session_token, sizeof(auth->session_token), "%s", token);
}

void http_gate_authenticate(struct http_request *request)
{
    http_gate_resolve(request->connection, &request->auth);
}

int http_gate_csrf_valid(const struct http_request *request)
{
    struct session session;
    const char *header = mg_get_header(request->connection, "X-CSRF-Token");

    if (!request->auth.authenticated)
        return 0;
    memset(&session, 0, sizeof(session));
    if (strlen(request->auth.csrf_token) >= sizeof(session.csrf_token))
        return 0;
    memcpy(session.csrf_token, request->auth.csrf_token, strlen(request->auth.csrf_token) + 1);
    return session_csrf_matches(&session, header);
}

int http_gate_method_is_unsafe(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

int http_gate_api_request(struct http_request *request)
{
    http_gate_authenticate(request);
    if (!request->auth.authenticated) {
        http_send_error(request, 401, "unauthenticated", "log in first");
        return 0;
    }
    if (http_gate_method_is_unsafe(request->method) && !http_gate_csrf_valid(request)) {
        log_warn("refused %s %s from %s: missing or wrong CSRF token", request->method,
                 request->path, request->remote_address);
        http_send_error(request, 403, "csrf", "missing or wrong X-CSRF-Token");
        return 0;
    }
    return 1;
}

int http_gate_websocket(const struct hub *hub, const struct mg_connection *connection,
                        struct http_auth *auth)
{
    const struct mg_request_info *info = mg_get_request_info(connection);

    memset(auth, 0, sizeof(*auth));
    if (!http_gate_host_allowed(hub, connection) || !http_gate_same_origin(connection)) {
        log_warn("refused WebSocket %s from %s: Host or Origin is not this hub", info->local_uri,
                 info->remote_addr);
        return 0;
    }
    http_gate_resolve(connection, auth);
    if (!auth->authenticated) {
        log_warn("refused WebSocket %s from %s: not logged in", info->local_uri, info->remote_addr);
        return 0;
    }
    return 1;
}

/* Answer a refused WebSocket upgrade with status and a short text. civetweb's
 * response functions refuse a connection marked as a WebSocket, so the
 * status line and headers are written as they are; the connection closes. */
static void http_gate_refuse_upgrade(const struct mg_connection *connection, int status,
                                     const char *text)
{
    struct mg_connection *writable = (struct mg_connection *)connection;
    mg_printf(writable,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
              status, mg_get_response_code_text(writable, status), strlen(text), text);
}

/* See http_gate.h. */
int http_gate_device_websocket(const struct hub *hub, const struct mg_connection *connection,
                               const char *pattern, enum http_gate_device_right right,
                               struct http_auth *auth, char *device_id, size_t device_id_size)
{
    const struct mg_request_info *info = mg_get_request_info(connection);
    char params[HTTP_PARSE_MAX_PARAMS][HTTP_PARSE_PARAM_MAX];
    struct device_record record;
    int count = 0;

    memset(auth, 0, sizeof(*auth));
    if (!http_parse_route_match(pattern, info->local_uri, params, &count) || count != 1) {
        http_gate_refuse_upgrade(connection, 404, "no such WebSocket\n");
        return 404;
    }
    snprintf(device_id, device_id_size, "%s", params[0]);
    if (!http_gate_websocket(hub, connection, auth)) {
        int status = auth->authenticated ? 403 : 401;
        http_gate_refuse_upgrade(connection, status,
                                 status == 401 ? "log in first\n" : "not from this hub\n");
        return status;
    }
    sqlite3 *database = database_thread_connection();
    if (database == NULL) {
        http_gate_refuse_upgrade(connection, 503, "the database is not available\n");
        return 503;
    }
    /* As the routes answer: a doorbell the user may not see (or none) is
     * 404, so its existence does not leak; a missing right on it is 403. */
    int rights = users_device_rights(database, &auth->user, device_id);
    unsigned needed = right == HTTP_GATE_TALK_TO_DEVICE ? USERS_RIGHT_TALK : USERS_RIGHT_LIVE;
    if (rights < 0 || device_store_find(database, device_id, &record, NULL) != 1) {
        log_warn("refused WebSocket %s from %s (%s): no such doorbell for this user",
                 info->local_uri, info->remote_addr, auth->user.username);
        http_gate_refuse_upgrade(connection, 404, "no such doorbell\n");
        return 404;
    }
    if (((unsigned)rights & needed) == 0) {
        log_warn("refused WebSocket %s from %s (%s): no %s right on this doorbell", info->local_uri,
                 info->remote_addr, auth->user.username,
                 right == HTTP_GATE_TALK_TO_DEVICE ? "talk" : "live");
        http_gate_refuse_upgrade(connection, 403,
                                 right == HTTP_GATE_TALK_TO_DEVICE
                                     ? "no talk right on this doorbell\n"
                                     : "no right to watch this doorbell live\n");
        return 403;
    }
    return 0;
}
