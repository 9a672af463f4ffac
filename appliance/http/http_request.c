/*
 * http_request.c - reading request bodies and writing responses for the
 * hub's handlers (see http_request.h). Runs on civetweb worker threads;
 * keeps no state of its own.
 */
#define LOG_MODULE "http"

#include "http/http_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "common/log.h"
#include "http/http_json.h"

/*
 * One policy for every response. 'self' only: the UI has no inline script or
 * style; media comes from blob: URLs (MSE) and snapshots from our own paths;
 * the service worker (/sw.js) and the app manifest come from this hub only.
 */
const char http_security_headers[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Permissions-Policy: microphone=(self), camera=(), geolocation=(), payment=()\r\n"
    "Strict-Transport-Security: max-age=31536000\r\n";

void http_request_init(struct http_request *request, struct mg_connection *connection,
                       struct hub *hub)
{
    const struct mg_request_info *info = mg_get_request_info(connection);

    memset(request, 0, sizeof(*request));
    request->connection = connection;
    request->hub = hub;
    request->method = info->request_method;
    request->path = info->local_uri;
    request->query = info->query_string;
    snprintf(request->remote_address, sizeof(request->remote_address), "%s", info->remote_addr);
}

void http_response_begin(struct mg_connection *connection, int status, const char *content_type,
                         long long content_length)
{
    char length[32];

    mg_response_header_start(connection, status);
    mg_response_header_add_lines(connection, http_security_headers);
    mg_response_header_add(connection, "Cache-Control", "no-store", -1);
    if (content_type != NULL)
        mg_response_header_add(connection, "Content-Type", content_type, -1);
    if (content_length >= 0) {
        snprintf(length, sizeof(length), "%lld", content_length);
        mg_response_header_add(connection, "Content-Length", length, -1);
    }
}

int http_send_bytes(struct http_request *request, int status, const char *content_type,
                    const void *data, size_t size)
{
    http_response_begin(request->connection, status, content_type, (long long)size);
    mg_response_header_send(request->connection);
    if (size > 0 && strcmp(request->method, "HEAD") != 0)
        mg_write(request->connection, data, size);
    return status;
}

int http_send_json(struct http_request *request, int status, const cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    if (text == NULL)
        return http_send_bytes(request, 500, "application/json",
                               "{\"error\":\"internal\",\"message\":\"out of memory\"}", 46);
    http_send_bytes(request, status, "application/json", text, strlen(text));
    cJSON_free(text);
    return status;
}

int http_send_error(struct http_request *request, int status, const char *code, const char *message)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "error", code);
    cJSON_AddStringToObject(body, "message", message);
    http_send_json(request, status, body);
    cJSON_Delete(body);
    return status;
}

int http_send_rate_limited(struct http_request *request, const char *message, int retry_after)
{
    char header[64];
    cJSON *body = cJSON_CreateObject();
    char *text;

    if (retry_after < 1)
        retry_after = 1;
    snprintf(header, sizeof(header), "Retry-After: %d\r\n", retry_after);
    cJSON_AddStringToObject(body, "error", "rate_limited");
    cJSON_AddStringToObject(body, "message", message);
    cJSON_AddNumberToObject(body, "retry_after", retry_after);
    text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    http_response_begin(request->connection, 429, "application/json",
                        text != NULL ? (long long)strlen(text) : 0);
    mg_response_header_add_lines(request->connection, header);
    mg_response_header_send(request->connection);
    if (text != NULL)
        mg_write(request->connection, text, strlen(text));
    cJSON_free(text);
    return 429;
}

int http_send_empty(struct http_request *request, int status, const char *extra_headers)
{
    mg_response_header_start(request->connection, status);
    mg_response_header_add_lines(request->connection, http_security_headers);
    mg_response_header_add(request->connection, "Cache-Control", "no-store", -1);
    mg_response_header_add(request->connection, "Content-Length", "0", -1);
    if (extra_headers != NULL)
        mg_response_header_add_lines(request->connection, extra_headers);
    mg_response_header_send(request->connection);
    return status;
}

int http_refuse_too_large(struct http_request *request, const char *message)
{
    char discard[16384];
    size_t drained = 0;
    int n;

    while (drained < HTTP_DRAIN_MAX &&
           (n = mg_read(request->connection, discard, sizeof(discard))) > 0)
        drained += (size_t)n;
    return http_send_error(request, 413, "too_large", message);
}

cJSON *http_read_json(struct http_request *request, size_t max_size)
{
    const struct mg_request_info *info = mg_get_request_info(request->connection);
    const char *content_type = mg_get_header(request->connection, "Content-Type");
    char *body = NULL;
    size_t used = 0;
    cJSON *json = NULL;

    enum http_json_result parsed;

    if (!http_json_content_type_ok(content_type)) {
        http_send_error(request, 415, "unsupported_media_type",
                        "the body must be application/json");
        return NULL;
    }
    if (info->content_length > (long long)max_size) {
        http_refuse_too_large(request, "the body is too large");
        return NULL;
    }
    body = malloc(max_size + 1);
    if (body == NULL) {
        http_send_error(request, 500, "internal", "out of memory");
        return NULL;
    }
    /* Read at most max_size + 1 so a chunked body that is too long is caught. */
    for (;;) {
        int n = mg_read(request->connection, body + used, max_size + 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used > max_size) {
            http_refuse_too_large(request, "the body is too large");
            goto out;
        }
    }
    body[used] = '\0';
    parsed = http_json_parse(body, used, &json);
    if (parsed != HTTP_JSON_OK)
        http_send_error(request, 400, "bad_json", http_json_result_message(parsed));
out:
    free(body);
    return json;
}

int http_get_cookie(struct mg_connection *connection, const char *name, char *out, size_t out_size)
{
    const char *cookies = mg_get_header(connection, "Cookie");
    if (cookies == NULL)
        return -1;
    return mg_get_cookie(cookies, name, out, out_size) > 0 ? 0 : -1;
}

const char *http_json_string(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}
