/*
 * http_request.h - one HTTP request as the hub's handlers see it, and the
 * helpers every handler uses to read bodies and send JSON, errors and
 * security headers.
 *
 * A struct http_request lives on the stack of the civetweb worker thread
 * that serves the request; nothing in it outlives the request.
 */
#ifndef DOORSTEP_HTTP_REQUEST_H
#define DOORSTEP_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "accounts/users.h"
#include "http/http_parse.h"

struct mg_connection;
struct hub;

#define HTTP_MAX_JSON_BODY (64 * 1024)
#define HTTP_MAX_PARAMS    HTTP_PARSE_MAX_PARAMS
#define HTTP_PARAM_MAX     HTTP_PARSE_PARAM_MAX

/* Headers on every response: CSP, framing, sniffing, referrer, permissions. */
extern const char http_security_headers[];

/* Who is asking: filled by the gate (http_gate.c) before any handler runs. */
struct http_auth {
    int authenticated;
    struct user user;
    char csrf_token[64];
    char session_token[64]; /* the cookie value; for logout */
};

struct http_request {
    struct mg_connection *connection;
    struct hub *hub;
    const char *method;
    const char *path;  /* decoded path, no query string */
    const char *query; /* may be NULL */
    char remote_address[48];
    struct http_auth auth;
    /* Route parameters ({id} segments), filled by the router. */
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
    int param_count;
};

/* Fill request fields from the civetweb connection. */
void http_request_init(struct http_request *request, struct mg_connection *connection,
                       struct hub *hub);

/*
 * Read a JSON object body of at most max_size bytes: Content-Type must be
 * application/json (415), the body one JSON object with nothing after it
 * and no NUL (400; http_json.c). Returns the parsed object (caller
 * cJSON_Delete()s) or NULL after sending 400/413/415 itself.
 */
cJSON *http_read_json(struct http_request *request, size_t max_size);

/* Send a JSON document with status (takes no ownership). Returns the status. */
int http_send_json(struct http_request *request, int status, const cJSON *json);

/*
 * Refuse a body larger than the route takes: read and drop what the client
 * still sends (at most HTTP_DRAIN_MAX bytes; civetweb's own body bound and
 * deadline cap the rest), then send 413 {"error": "too_large", message}.
 * Closing with unread bytes makes the kernel reset the connection, and the
 * client would get the reset instead of the 413. Returns 413.
 */
#define HTTP_DRAIN_MAX (4u * 1024u * 1024u)
int http_refuse_too_large(struct http_request *request, const char *message);

/* Send {"error": code, "message": message}. Returns the status. */
int http_send_error(struct http_request *request, int status, const char *code,
                    const char *message);

/* Send 429 {"error":"rate_limited","message","retry_after"} with a
 * Retry-After header (seconds, at least 1), so clients know when to retry. */
int http_send_rate_limited(struct http_request *request, const char *message, int retry_after);

/* Send an empty response (204, 202...) with optional extra header lines. */
int http_send_empty(struct http_request *request, int status, const char *extra_headers);

/* Send a body with a content type and Cache-Control: no-store. */
int http_send_bytes(struct http_request *request, int status, const char *content_type,
                    const void *data, size_t size);

/* Start a response with the common headers (status, security, no-store). */
void http_response_begin(struct mg_connection *connection, int status, const char *content_type,
                         long long content_length);

/* Look up a cookie by name in the request into out. Returns 0 if found. */
int http_get_cookie(struct mg_connection *connection, const char *name, char *out, size_t out_size);

/* JSON helpers: string field or NULL if missing/not a string. */
const char *http_json_string(const cJSON *object, const char *name);

#endif
