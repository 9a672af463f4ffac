/*
 * http_gate.h - the one authentication and authorisation layer. Every HTTP
 * request and WebSocket upgrade passes http_gate_* before any handler: Host
 * check, session cookie, CSRF token on unsafe methods, Origin on WebSockets
 * and on the pre-session /auth endpoints. Runs on civetweb worker threads;
 * stateless apart from the database.
 */
#ifndef DOORSTEP_HTTP_GATE_H
#define DOORSTEP_HTTP_GATE_H

#include "http/http_request.h"

#define HTTP_SESSION_COOKIE "__Host-doorstep_session"

struct hub;
struct mg_connection;

/* 1 if the Host header names this hub (certificate names, allowed hosts). */
int http_gate_host_allowed(const struct hub *hub, const struct mg_connection *connection);

/* 1 if Origin is https://<Host> (or, without Origin, Sec-Fetch-Site is same-origin). */
int http_gate_same_origin(const struct mg_connection *connection);

/* Resolve the session cookie into request->auth. Never sends anything. */
void http_gate_authenticate(struct http_request *request);

/* 1 if the request carries the session's CSRF token in X-CSRF-Token. */
int http_gate_csrf_valid(const struct http_request *request);

/* 1 for POST, PUT, PATCH and DELETE (and anything not GET/HEAD/OPTIONS). */
int http_gate_method_is_unsafe(const char *method);

/*
 * Everything under /api/ needs, in order: session (401), CSRF on unsafe methods
 * (403). Returns 1 to continue, or 0 after the refusal was sent.
 */
int http_gate_api_request(struct http_request *request);

/*
 * For WebSocket upgrades under /api/: Host, Origin and session. Fills *auth.
 * Returns 1 to accept; 0 to refuse (civetweb then closes with no data).
 */
int http_gate_websocket(const struct hub *hub, const struct mg_connection *connection,
                        struct http_auth *auth);

/* What a doorbell's WebSocket needs of its user on that doorbell. */
enum http_gate_device_right {
    HTTP_GATE_SEE_DEVICE,    /* live view: a grant with the live right */
    HTTP_GATE_TALK_TO_DEVICE /* talk-back: a grant with the talk right */
};

/*
 * A WebSocket upgrade for one doorbell (/api/v1/devices/{id}/live, /talk):
 * the path matches pattern, whose one parameter is the doorbell's id (copied
 * into device_id); then http_gate_websocket; then the user's right on that
 * doorbell, which must exist. Returns 0 to accept. Otherwise it has written
 * the refusal (404 no such path, or a doorbell the user may not see, as the
 * routes answer; 401 no session; 403 anything else, a missing right too; 503) and
 * logged why, and returns its status: the caller returns 1 to civetweb.
 */
int http_gate_device_websocket(const struct hub *hub, const struct mg_connection *connection,
                               const char *pattern, enum http_gate_device_right right,
                               struct http_auth *auth, char *device_id, size_t device_id_size);

#endif
