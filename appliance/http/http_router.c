/*
 * http_router.c - route matching and per-route authorisation (see
 * http_router.h).
 */
#define LOG_MODULE "http"

#include "http/http_router.h"

#include <string.h>

#include "accounts/users.h"
#include "civetweb.h"
#include "common/log.h"
#include "storage/database.h"

/* Characters allowed in a {param} path segment. */
static int http_router_param_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* Match path against pattern, capturing {params}. 1 on match. */
static int http_router_match(const char *pattern, const char *path, struct http_request *request)
{
    int count = 0;

    while (*pattern != '\0') {
        if (*pattern == '{') {
            size_t length = 0;
            const char *end = strchr(pattern, '}');
            if (end == NULL || count >= HTTP_MAX_PARAMS)
                return 0;
            while (http_router_param_char(path[length]))
                length++;
            /* A segment is never "." or "..", and fits its buffer. */
            if (length == 0 || length >= HTTP_PARAM_MAX ||
                (path[0] == '.' && (length == 1 || (length == 2 && path[1] == '.'))))
                return 0;
            memcpy(request->params[count], path, length);
            request->params[count][length] = '\0';
            count++;
            path += length;
            pattern = end + 1;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    if (*path != '\0')
        return 0;
    request->param_count = count;
    return 1;
}

int http_router_dispatch(struct http_request *request, const struct http_route *routes,
                         size_t count)
{
    int path_matched = 0;
    const char *method = strcmp(request->method, "HEAD") == 0 ? "GET" : request->method;

    for (size_t i = 0; i < count; i++) {
        const struct http_route *route = &routes[i];
        if (!http_router_match(route->pattern, request->path, request))
            continue;
        path_matched = 1;
        if (strcmp(route->method, method) != 0)
            continue;
        if ((route->flags & HTTP_ROUTE_ADMIN) && !users_is_admin(&request->auth.user))
            return http_send_error(request, 403, "forbidden", "only an admin may do this");
        if ((route->flags & HTTP_ROUTE_DEVICE) &&
            !users_can_see_device(database_thread_connection(), &request->auth.user,
                                  request->params[0]))
            return http_send_error(request, 404, "not_found", "no such doorbell");
        return route->handler(request);
    }
    if (path_matched)
        return http_send_error(request, 405, "method_not_allowed",
                               "this path does not take that method");
    return http_send_error(request, 404, "not_found", "no such API path");
}
