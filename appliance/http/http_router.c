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
#include "http/http_parse.h"
#include "storage/database.h"

int http_router_dispatch(struct http_request *request, const struct http_route *routes,
                         size_t count)
{
    int path_matched = 0;
    const char *method = strcmp(request->method, "HEAD") == 0 ? "GET" : request->method;

    for (size_t i = 0; i < count; i++) {
        const struct http_route *route = &routes[i];
        if (!http_parse_route_match(route->pattern, request->path, request->params,
                                    &request->param_count))
            continue;
        path_matched = 1;
        if (strcmp(route->method, method) != 0)
            continue;
        /* A streamed answer writes its body itself (and an export is
         * audited): HEAD must not run it. */
        if ((route->flags & HTTP_ROUTE_NO_HEAD) && strcmp(request->method, "HEAD") == 0)
            return http_send_error(request, 405, "method_not_allowed",
                                   "this path streams its answer; use GET");
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
