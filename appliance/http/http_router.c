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

/* The USERS_RIGHT_* bits a route's flags ask for, and what a refusal says. */
static const struct {
    unsigned flag, right;
    const char *message;
} http_router_rights[] = {
    {HTTP_ROUTE_RIGHT_LIVE, USERS_RIGHT_LIVE, "you may not watch this doorbell live"},
    {HTTP_ROUTE_RIGHT_RECORDINGS, USERS_RIGHT_RECORDINGS,
     "you may not see this doorbell's recordings and events"},
    {HTTP_ROUTE_RIGHT_EXPORT, USERS_RIGHT_EXPORT, "you may not export clips of this doorbell"},
    {HTTP_ROUTE_RIGHT_TALK, USERS_RIGHT_TALK, "you may not talk through this doorbell"},
};

/* A HTTP_ROUTE_DEVICE route: does the user hold a grant of params[0] (404
 * if not) with the rights the route's flags ask for (403 if not)? 0 if the
 * route may run; else the status of the refusal it sent. */
static int http_router_check_rights(struct http_request *request, const struct http_route *route)
{
    int rights =
        users_device_rights(database_thread_connection(), &request->auth.user, request->params[0]);

    if (rights < 0)
        return http_send_error(request, 404, "not_found", "no such doorbell");
    for (size_t i = 0; i < sizeof(http_router_rights) / sizeof(http_router_rights[0]); i++)
        if ((route->flags & http_router_rights[i].flag) &&
            ((unsigned)rights & http_router_rights[i].right) == 0)
            return http_send_error(request, 403, "no_right", http_router_rights[i].message);
    return 0;
}

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
        if (route->flags & HTTP_ROUTE_DEVICE) {
            int refused = http_router_check_rights(request, route);
            if (refused != 0)
                return refused;
        }
        return route->handler(request);
    }
    if (path_matched)
        return http_send_error(request, 405, "method_not_allowed",
                               "this path does not take that method");
    return http_send_error(request, 404, "not_found", "no such API path");
}
